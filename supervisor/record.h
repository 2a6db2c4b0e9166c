/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The run record: one JSON document per run (schema: docs/run-record.md). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "syscall-abi.h"

struct policy;
struct record_caller;

#define RECORD_VERSION 2
#define RECORD_MAX_FEATURES 32

struct run_summary {
	const char *run_id;
	const struct policy *policy; /* NULL: it did not parse (a refused attempt) */
	const char *policy_path; /* --policy FILE as given, or NULL for the built-in one */
	json_t *policy_effective; /* borrowed: record_policy_effective() made once, or NULL */
	const struct record_caller *caller; /* who ran airlock, or NULL */
	char *const *argv;
	const char *workspace; /* resolved, or as asked when refused before; NULL: unknown */
	struct timespec started; /* CLOCK_REALTIME */
	struct timespec ended;
	uint64_t duration_ms;
	const char *cause; /* exited, signaled, wall_time, setup_failed, ... */
	int exit_code; /* airlock's exit status */
	bool has_status;
	int status; /* the task's exit status when it exited */
	int signal; /* the signal that ended it, or 0 */
	int init_code; /* init ended without reporting: CLD_EXITED, _KILLED, _DUMPED; or 0 */
	int init_status; /* then its exit status or the signal that ended it */
	const char *reason; /* what refused or failed it (docs/run-record.md), or NULL */
	const char *message; /* the one line that said why, or NULL */
	const char *const *checks; /* the checks an attempt passed, in order (n_checks) */
	size_t n_checks;
	const char *failed_step; /* setup step that failed, or NULL */
	int failed_errno;
	uint64_t stdout_bytes;
	uint64_t stderr_bytes;
	bool truncated;
	uid_t host_id_base;
	size_t seccomp_instructions;
	const char *features[RECORD_MAX_FEATURES];
	size_t n_features;
	struct syscall_abi abis[SYSCALL_ABI_MAX]; /* which ABIs the kernel runs; n_abis 0: none */
	size_t n_abis;
	json_t *resources; /* borrowed; cgroup usage, or NULL */
	json_t *network; /* borrowed; egress decisions, or NULL */
	json_t *credentials; /* borrowed; the credential grants, or NULL */
	json_t *logs; /* borrowed; the captured logs (run_log_to_json()), or NULL */
	json_t *redactions; /* borrowed; redaction counts (run_redact_to_json()), or NULL */
	json_t *artifacts; /* borrowed; the export of /out (run_export_to_json()), or NULL */
	json_t *workspace_changes; /* borrowed; an overlay's change set (run-overlay.c), or NULL */
	json_t *events; /* borrowed; the event log (run_events_to_json()), or NULL */
	json_t *job_control; /* borrowed; the run's stops (run_jobctl_to_json()), or NULL */
	char *const *exec_entries; /* filesystem.exec as written, or NULL when not resolved */
	char *const *exec_paths; /* what each entry allowed (sandbox_exec_resolve()) */
};

/* Where a run's records go, opened before its task starts (record_sink_open()). */
struct record_sink;
/* A temporary file made ahead for a run's final record (record_prepare()). */
struct record_draft;

/*
 * Opens, before the task starts, the directories a run writes records to, so that every
 * later write goes to the very directories checked now, whatever the task or anyone else
 * changes below their paths meanwhile (writes are relative to these fds): state_dir's
 * records directory (state_dir, relative to the current directory if not absolute, and
 * its records directory are created 0750 when missing), and the directory of copy_path
 * (--record FILE, NULL for none; must exist). Neither path may pass through a symbolic
 * link; FILE must be new or a regular file of airlock's own (its euid): a symlink, a
 * device or another user's file is refused. Logs one line. Returns 0 or -errno.
 */
int record_sink_open(const char *state_dir, const char *copy_path, struct record_sink **ret);
struct record_sink *record_sink_free(struct record_sink *s);
/* The state directory as opened: absolute, normal, without symbolic links. */
const char *record_sink_state_dir(const struct record_sink *s);
/* The state directory itself, held open (owned by the sink). */
int record_sink_state_fd(const struct record_sink *s);
/* The same for the --record FILE's directory; NULL without one. */
const char *record_sink_copy_dir(const struct record_sink *s);
/*
 * The "running" record as written through s, handed to the caller (free() it); NULL before
 * it was written, or once taken. For the run lock (run_lock_pin()).
 */
char *record_sink_take_running(struct record_sink *s);

/*
 * Creates the temporary file that the final record of run_id will be written to and
 * renamed from, so that creating it (slow on some filesystems) happens while the task
 * runs rather than after it. Returns 0 and *ret (record_draft_free() removes an unused
 * one) or -errno; the caller may go on without a draft.
 */
int record_prepare(struct record_sink *sink, const char *run_id, struct record_draft **ret);
struct record_draft *record_draft_free(struct record_draft *d);

/*
 * Writes <state_dir>/records/<run_id>.json atomically (and a copy to the --record FILE).
 * A record whose cause is "running" marks a run in progress: it is not copied and not
 * pushed to the disk, and its failure is logged as a refusal of the run. A final record
 * has its writeback started before this returns (with -Drecord_sync=full: file and
 * directory fsync'd), and goes through *draft when one was prepared (draft may be NULL;
 * *draft is used up and set to NULL). The copy replaces only what the sink allowed at
 * open, or nothing. Logs its own failure, once. Returns 0 or -errno.
 */
int record_write(const struct run_summary *s, struct record_sink *sink,
		 struct record_draft **draft);
/* A run whose supervisor died, as its run lock knows it (run-lock.c). */
struct record_dead_run {
	const char *state_dir; /* where its records go, absolute */
	const char *copy_dir; /* its --record FILE's directory, or NULL */
	const char *run_id;
	const char *running_sha256; /* hex SHA-256 of its running record as written, or NULL */
	const char *running_copy; /* the copy of its running record the lock kept, or NULL */
	bool export_ended; /* its export had ended (in place, or left partial on purpose) */
	json_t *grants; /* what became of its grants (see record_mark_aborted()), or NULL */
};

/*
 * Cleans up after a run whose supervisor died, as recorded in its run lock: removes the
 * temporary record files it left in <state_dir>/records and in copy_dir, and turns a
 * "running" record into cause "aborted" with code 125 and ended_at = now, with the size
 * and SHA-256 of the captured logs it left (which stay; empty ones of a run that died
 * before its first record go). export_ended: artifacts.error says its export had ended.
 * Its lock pinned running_sha256 once the record was written: a record that is not those
 * bytes is marked aborted with exit.reason "running_record_changed", saying so, and made
 * from running_copy when that is the pinned bytes (else from the fields found); one that is
 * missing ("running_record_missing"), or not a regular file that reads as a record
 * ("running_record_unreadable"), is made from running_copy when that is the pinned bytes
 * (else a warning names the run left without a record). grants: what became of the grants
 * the run held, by name (credentials_reap_dead_run(): revocation, revoked_at,
 * revocation_error, and expired when the run had said so), each put into its grant that
 * the running record left "pending" (one not in it is recorded "failed": not revoked);
 * NULL: left as they are. Creates nothing and follows no
 * symbolic link. Returns 1 when marked, 0 when there was no running record (or no such
 * state directory), or -errno (logged as a warning) when the record could not be
 * rewritten, or -EINTR (not marked) when a stop signal cut the removal of its partial
 * export short (run_export_sweep()).
 */
int record_mark_aborted(const struct record_dead_run *d);
/* Formats a CLOCK_REALTIME time as RFC 3339 UTC with milliseconds. */
void record_format_time(const struct timespec *ts, char *buf, size_t len);
