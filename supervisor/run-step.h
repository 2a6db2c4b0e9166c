/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The steps of a run up to its task's start, in the order run.c takes them. A run that
 * fails in one is recorded with that step's reason (docs/run-record.md, "exit.reason") and
 * the names of the steps it passed ("checks"); a failure before RUN_STEP_SANDBOX is a
 * refusal (cause "refused"): nothing of the task existed yet.
 */

#include <stdbool.h>

enum run_step {
	RUN_STEP_POLICY, /* read and parse the policy */
	RUN_STEP_COMMAND, /* command.allow */
	RUN_STEP_KERNEL, /* what the kernel must offer (Landlock for filesystem.exec) */
	RUN_STEP_EGRESS, /* no cidr rule or DNS upstream in the node's address pools */
	RUN_STEP_CREDENTIALS, /* the caller's credential values */
	RUN_STEP_WORKSPACE,
	RUN_STEP_RECORD_LOCATION, /* --record and the state directory out of the task's reach */
	RUN_STEP_RUN_LOCK,
	RUN_STEP_LIMITS, /* the task's cgroup and its controllers */
	RUN_STEP_ID_RANGE,
	RUN_STEP_SECCOMP,
	RUN_STEP_EXEC, /* filesystem.exec resolved */
	RUN_STEP_MOUNTS, /* bind sources and the workspace opened */
	RUN_STEP_CREDENTIAL_MINT, /* the policy's grants minted by their issuers */
	RUN_STEP_CREDENTIAL_FILES,
	RUN_STEP_ARTIFACTS, /* the export's fresh destination (--export DIR) */
	RUN_STEP_EVENT_LOOP,
	RUN_STEP_NETWORK, /* netns, addresses, forwarding, nftables, DNS proxy */
	RUN_STEP_SANDBOX, /* from here on: setup failures, no longer refusals */
	RUN_STEP_LOGS,
	RUN_STEP_WATCH,
	RUN_STEP_TASK, /* the task was started */
	_RUN_STEP_MAX,
};

/* The step's name in "checks" ("policy", "command", ...). */
const char *run_step_to_string(enum run_step s);
/* The reason a run that failed in step s is recorded with ("policy_invalid", ...). */
const char *run_step_reason(enum run_step s);
/* Whether failing in step s refuses the run (before anything of its task existed). */
bool run_step_is_refusal(enum run_step s);
