/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What a policy asks of this host, checked without starting a run. policy/ does no I/O, so
 * `airlock policy check` alone cannot tell whether a bind source exists, a limit has its
 * cgroup controller or the kernel offers Landlock; `airlock policy check --host` asks
 * here. A run uses the same wording for the same refusal (preflight_mounts_refusal(),
 * run_limits_refusal()), so the check and the run agree on what is refused and why.
 */

#include <stdbool.h>
#include <stddef.h>

struct node_config;
struct policy;

/*
 * One refusal a run would meet, or (refusal false) one warning it would print:
 * "<JSON path or subject>: <why>", one line.
 */
typedef void (*preflight_report_fn)(bool refusal, const char *line, void *userdata);

/*
 * Checks everything a run of p from workspace, under the node configuration cfg, would
 * need of this host and reports each refusal, and each warning, through report. Returns
 * the number of refusals, or -ENOMEM. Logs nothing.
 */
int preflight_host(const struct policy *p, const struct node_config *cfg, const char *workspace,
		   preflight_report_fn report, void *userdata);

/*
 * The refusal for a workspace that is the root or a system tree, or that holds or lies in
 * the state directory state_dir (absolute; NULL: not checked): a task may write its
 * workspace, idmapped to its owner. 0 when ws (a resolved path) is fine; otherwise
 * snprintf()'s return value.
 */
int preflight_workspace_refusal(const char *ws, const char *state_dir, char *buf, size_t size);

/*
 * The refusal for record directories a task could change while it runs, so that root would
 * then write a record where the task pointed it: the --record FILE's directory copy_dir
 * (NULL: none; copy_path names it in the message) inside a read-write workspace or a
 * read-write bind source, or a read-write bind source that holds or lies in the state
 * directory. Paths are absolute, normal and symlink-free. 0 when fine; otherwise
 * snprintf()'s return value.
 */
int preflight_records_refusal(const struct policy *p, const char *ws, const char *state_dir,
			      const char *copy_dir, const char *copy_path, char *buf, size_t size);

/*
 * The refusal for a failure of sandbox_exec_resolve() at entry index of filesystem.exec
 * (SIZE_MAX: the system root itself). snprintf()'s return value.
 */
int preflight_exec_refusal(const struct policy *p, size_t index, int err, char *buf, size_t size);

/*
 * The refusal for a failure of sandbox_mounts_open() at path bad (which points into p,
 * or is workspace): names the policy entry at fault. snprintf()'s return value.
 */
int preflight_mounts_refusal(const struct policy *p, const char *workspace, const char *bad,
			     int err, char *buf, size_t size);
