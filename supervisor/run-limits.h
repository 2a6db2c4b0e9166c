/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A run's resource limits: the cgroup that holds the task, created before the clone and
 * removed at teardown, and what the kernel's accounting says about the task's end.
 * This layer logs (supervisor code); it drives sandbox/cgroup.h.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct policy;
struct cgroup_run;
struct run_limits;

/*
 * The refusal (without "refusing run: ") for a limit whose controller the host cannot
 * provide, as cgroup_layout_can_enforce() names it: the policy entry and why. snprintf()'s
 * return value. Shared by runs and `airlock policy check --host`.
 */
int run_limits_refusal(const char *controller, char *buf, size_t size);
/*
 * Detects the cgroup layout and creates this run's cgroup with the policy's limits, below
 * cgroup_parent (the node configuration's; NULL or "" for the detected default), which
 * must outlive the run_limits.
 * Returns 0 or a negative errno (logged as one line; -EOPNOTSUPP names the controller
 * the host cannot provide for a limit the policy sets).
 */
int run_limits_new(const struct policy *p, const char *cgroup_parent, const char *run_id,
		   const char *runtime_dir, struct run_limits **ret);
/*
 * Reaps what dead runs left: the cgroups and run locks of runs whose lock in
 * runtime_dir/runs is free (their records are marked aborted, once the credentials they
 * held are revoked with the issuers of cfg: run_lock_is_alive()), and their network
 * leftovers (before a networked run takes a slot). Called before the task exists: killing a dead run's processes may wait, and must not delay this run's
 * deadline. Logs a notice
 * when it removed something; failures are logged and ignored.
 */
struct node_config;
void run_limits_reap_stale(struct run_limits *l, const char *runtime_dir,
			   const struct node_config *cfg);
/* The run's cgroups for sandbox_spawn() (the sandbox is born inside them), or NULL. */
struct cgroup_run *run_limits_cgroup(const struct run_limits *l);
/*
 * After sandbox_spawn(), before sandbox_release(): writes the limits that wait for the
 * clone (cgroup_run_seal()). Returns 0 or a negative errno, logged as one line.
 */
int run_limits_seal(struct run_limits *l);
/* Kills whatever is left in the run's cgroup. Logs; 0 or -errno. */
int run_limits_kill(struct run_limits *l);
/*
 * After the task ended: reads the kernel's accounting, prints one stderr line when a
 * limit ended or hindered the task, and returns the cause that overrides "exited" /
 * "signaled" ("oom_killed", "pids_limit_hit") or NULL.
 */
const char *run_limits_conclude(struct run_limits *l, bool task_killed);
/* The record's "resources" object (new reference) or NULL. */
json_t *run_limits_to_json(const struct run_limits *l);
/* The cgroup layout's name for the record's features ("cgroup-v1", "cgroup-v2"), or NULL. */
const char *run_limits_feature(const struct run_limits *l);
struct run_limits *run_limits_free(struct run_limits *l);
