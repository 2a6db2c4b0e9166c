/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>

#include "run-step.h"

static const struct {
	const char *name;
	const char *reason;
} steps[_RUN_STEP_MAX] = {
	[RUN_STEP_POLICY] = { "policy", "policy_invalid" },
	[RUN_STEP_COMMAND] = { "command", "command_not_allowed" },
	[RUN_STEP_KERNEL] = { "kernel", "kernel_unsupported" },
	[RUN_STEP_EGRESS] = { "egress", "egress_unreachable" },
	[RUN_STEP_CREDENTIALS] = { "credentials", "credentials_refused" },
	[RUN_STEP_WORKSPACE] = { "workspace", "workspace_refused" },
	[RUN_STEP_RECORD_LOCATION] = { "record_location", "record_location_refused" },
	[RUN_STEP_RUN_LOCK] = { "run_lock", "run_lock_failed" },
	[RUN_STEP_LIMITS] = { "limits", "limits_refused" },
	[RUN_STEP_ID_RANGE] = { "id_range", "id_range_unavailable" },
	[RUN_STEP_SECCOMP] = { "seccomp", "seccomp_failed" },
	[RUN_STEP_EXEC] = { "exec", "exec_refused" },
	[RUN_STEP_MOUNTS] = { "mounts", "mounts_refused" },
	[RUN_STEP_CREDENTIAL_MINT] = { "credential_mint", "credential_mint_failed" },
	[RUN_STEP_CREDENTIAL_FILES] = { "credential_files", "credential_files_failed" },
	[RUN_STEP_ARTIFACTS] = { "artifacts", "artifacts_refused" },
	[RUN_STEP_EVENT_LOOP] = { "event_loop", "supervisor_failed" },
	[RUN_STEP_NETWORK] = { "network", "network_refused" },
	[RUN_STEP_SANDBOX] = { "sandbox", "sandbox_failed" },
	[RUN_STEP_LOGS] = { "logs", "logs_refused" },
	[RUN_STEP_WATCH] = { "watch", "supervisor_failed" },
	[RUN_STEP_TASK] = { "task", "task_lost" },
};

const char *run_step_to_string(enum run_step s)
{
	assert(s >= 0 && s < _RUN_STEP_MAX);
	return steps[s].name;
}

const char *run_step_reason(enum run_step s)
{
	assert(s >= 0 && s < _RUN_STEP_MAX);
	return steps[s].reason;
}

bool run_step_is_refusal(enum run_step s)
{
	return s < RUN_STEP_SANDBOX;
}
