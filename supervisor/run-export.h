/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A run's export of /out (docs/artifacts.md): the destination is made before the task
 * starts, the task's mount namespace is held from the sandbox's birth (so /out outlives
 * the task's processes), and once every process of the run is dead the tree is copied
 * through supervisor/artifacts/export.h. Only for a policy with an "artifacts" section.
 */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct credential_set;
struct export_options;
struct node_artifacts;
struct policy;
struct run_export;

/*
 * Makes the destination, fresh and empty: dir (--export DIR; its last component must not
 * exist), or <state_dir>/artifacts/<run_id> (state_fd: the state directory). Builds the
 * scan's redactor (the run's credential values, the built-in patterns and
 * logs.redact_patterns). What is exported is owned by owner's ids when the node
 * configuration sets them (owner may be NULL), else by the caller's. *ret is NULL when the
 * policy has no "artifacts". Logs a refusal (one line). Returns 0 or -errno.
 */
int run_export_prepare(const struct policy *p, const char *dir, int state_fd, const char *state_dir,
		       const char *run_id, const struct credential_set *creds,
		       const struct node_artifacts *owner, struct run_export **ret);

/*
 * Holds the mount namespace of the sandbox's init (pid: a child not yet reaped, just
 * spawned, which runs nothing of the task yet). e may be NULL. Logs. Returns 0 or -errno.
 */
int run_export_hold(struct run_export *e, pid_t init_pid);

/*
 * After every process of the run is dead: copies /out into the destination and writes the
 * manifest. Logs the outcome (one line). Returns 0 or -errno (the record says why). e may
 * be NULL.
 */
int run_export_collect(struct run_export *e);

/*
 * What another tree exported beside /out goes through (the overlay workspace's changes,
 * run-overlay.c): *ret, the options of the export of /out (the policy's scan, the run's
 * redactor, the caller's ids; borrowed from e) with the caps' room left: the policy's
 * max_files and max_size less what /out's export used (one budget for the whole export),
 * *ret_dst_fd the destination (owned by e) and *ret_path its path for messages. Returns
 * 0, or -ENOENT without an export.
 */
int run_export_options(const struct run_export *e, struct export_options *ret, int *ret_dst_fd,
		       const char **ret_path);

/*
 * After /out's export and the workspace's (both write into a partial directory beside the
 * destination, ".NAME.partial"): with ok and /out exported, renames the partial directory
 * over the destination, empty until then, so that a reader finds DIR either empty or
 * complete, never a part of it. Else (or when the rename fails) the export stays partial
 * where it is, the record's "artifacts" says why, and DIR stays empty; but when a stop
 * signal is pending (it cut the export short: export_options.stop_pending), what was
 * written is removed, DIR stays empty, and -EINTR is returned. Logs. Returns 0 or -errno.
 * e may be NULL.
 */
int run_export_finish(struct run_export *e, bool ok);

/* The record's "artifacts" object (owned by the caller), or NULL (e NULL, -ENOMEM). */
json_t *run_export_to_json(const struct run_export *e);

/* The default destination's parent, below the state directory. */
#define RUN_EXPORT_STATE_SUBDIR "artifacts"
/* The partial directory beside the destination NAME: "." NAME ".partial". */
#define RUN_EXPORT_PARTIAL_FMT "%s.partial"
/*
 * The run lock's note once the export has ended (in place, or left partial on purpose):
 * nothing of it is the reaper's, and an aborted record says it had ended. Written with its
 * NUL, so that a note cut short after it still reads as this word.
 */
#define RUN_EXPORT_ENDED_NOTE "ended"
/* artifacts.error of a running record: replaced when the run ends, or when it is aborted. */
#define RUN_EXPORT_NOT_YET "not yet: the run has not ended"
/* Directory levels the reaper removes of a partial export (/out's, the workspace's). */
#define RUN_EXPORT_MAX_REMOVE_DEPTH 128

/*
 * For a run whose supervisor died (run-lock.c reaps it): removes the partial export
 * <state_dir>/artifacts/.<run_id>.partial a supervisor killed during its export left (a
 * notice), and the default destination <state_dir>/artifacts/<run_id> when it is empty, as
 * run_export_free() would have (a complete export stays). Best effort: returns 0, or
 * -EINTR when a pending stop signal (run_stop_pending()) cut the removal short; the rest
 * stays for the next start, which must then find the dead run's lock.
 */
int run_export_sweep(const char *state_dir, const char *run_id);

/*
 * For the run lock (run_lock_note()), right after run_export_prepare() made --export DIR:
 * what a later start needs to remove what this run made, should it die before its export is
 * in place: the device and inode of DIR and of its partial directory, and DIR's absolute
 * path, in buf. Returns 1, 0 when there is nothing to note (no export, or it already
 * ran), or -errno.
 */
int run_export_note(const struct run_export *e, char *buf, size_t size);
/* Whether the export ran (run_export_collect()): its destination is the caller's now. */
bool run_export_is_used(const struct run_export *e);
/*
 * The stop signal that cut the export short (run_export_finish() found it pending after a
 * failed export: what it wrote is removed), or 0. e may be NULL.
 */
int run_export_interrupted_by(const struct run_export *e);
/*
 * For a run whose supervisor died before its export was in place (run-lock.c reaps it),
 * from its note (run_export_note()): removes its partial directory, when it is still the
 * one it made (same device and inode), and DIR when it is still the one it made and empty.
 * A DIR made since, one with content, or the export in place (the partial renamed over
 * DIR) stays. Logs a notice for each removal. Best effort: returns 0, or -EINTR as
 * run_export_sweep() (the note must then stay for the next start).
 */
int run_export_sweep_noted(const char *note, const char *run_id);
/*
 * The stop signal that cut a removal of run_export_sweep() or run_export_sweep_noted()
 * short in this process, or 0: the start that reaped then refuses its run.
 */
int run_export_reap_stopped_by(void);

/* Releases what is held; an unused destination is removed. Accepts and returns NULL. */
struct run_export *run_export_free(struct run_export *e);

static inline void run_export_freep(struct run_export **e)
{
	run_export_free(*e);
}
