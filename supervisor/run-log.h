/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The captured logs of a run (docs/logs.md): the task's stdout and stderr as they
 * leave the supervisor, kept beside the run's record as <state_dir>/logs/<run-id>.stdout
 * and <run-id>.stderr, root's files of mode 0600 in a directory of mode 0700.
 *
 * A struct run_log is a sink: the forwarding path (run-io-forward.c) hands it each stream's bytes
 * as they go to the caller, already processed by whatever stands in front of it (the
 * redactor and the neutraliser), and keeps handing them while the caller's reader is
 * gone. Each log keeps at most max_size bytes of its stream; a log that holds less than
 * the stream carried ends with one marker line saying why ("[airlock: log truncated
 * ...]"). Size and SHA-256 of each file go into the run record (run_log_to_json()).
 * Nothing else of the logs outlives the run: the files are written in place, never
 * through temporary files.
 */

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUN_LOG_DIR "logs"

enum run_log_stream {
	RUN_LOG_STDOUT,
	RUN_LOG_STDERR,
	_RUN_LOG_STREAM_MAX,
	_RUN_LOG_STREAM_INVALID = -EINVAL,
};

/* Why a log holds less than its stream carried. */
enum run_log_cut {
	RUN_LOG_CUT_NONE,
	RUN_LOG_CUT_MAX_SIZE, /* logs.max_size was reached (the log sees it itself) */
	RUN_LOG_CUT_OUTPUT, /* limits.output was reached: the rest was dropped before the sink */
	RUN_LOG_CUT_DRAIN, /* the caller's reader stalled after the task ended: the rest dropped */
	_RUN_LOG_CUT_MAX,
};

struct run_log;

/* "stdout", "stderr"; NULL for anything else. */
const char *run_log_stream_to_string(enum run_log_stream s);
/* "stdout" or "stderr" to the stream; -EINVAL otherwise. */
enum run_log_stream run_log_stream_from_string(const char *s);

/*
 * Creates the run's two log files, new (O_EXCL), in the "logs" directory of the state
 * directory held open as state_fd (state_dir: its absolute path, for the record), creating
 * that directory 0700 when missing and tightening it to 0700 when it is looser. The
 * directory must be a directory of airlock's own euid (-EPERM otherwise), and no
 * symbolic link is followed. max_size: bytes of each stream kept (> 0). Returns 0 and *ret,
 * or -errno with nothing left behind. Does not log.
 */
int run_log_open(int state_fd, const char *state_dir, const char *run_id, uint64_t max_size,
		 struct run_log **ret);
/*
 * Why run_log_open() failed with err, when the logs directory below state_fd is the cause
 * (a symbolic link, not a directory, another user's), in words for a refusal; NULL
 * otherwise (then errno's text says it).
 */
const char *run_log_dir_problem(int state_fd, int err);
/* Closes the files (kept). Accepts and returns NULL. */
struct run_log *run_log_free(struct run_log *l);
/* Removes the files (a run refused before its task started has no logs), then frees l. */
struct run_log *run_log_discard(struct run_log *l);

/*
 * Appends len bytes of stream s to its log, up to max_size; the first byte that does not
 * fit ends the log with its marker line. l may be NULL (no capture). A failed write ends
 * that log where it is (the record says why) and is logged once as a warning.
 */
void run_log_write(struct run_log *l, enum run_log_stream s, const void *buf, size_t len);
/* Whether run_log_write() still keeps bytes of s: false without a log, past the cap, or
 * after a failed write. */
bool run_log_is_capturing(const struct run_log *l, enum run_log_stream s);
/* Notes that bytes of s were dropped before they reached the sink; the first reason wins. */
void run_log_cut(struct run_log *l, enum run_log_stream s, enum run_log_cut why);
/*
 * Ends both logs: the marker line of a log cut by run_log_cut(), the digests, the
 * writeback started (fsync'd with -Drecord_sync=full), the files closed. Then
 * run_log_to_json() has sizes and digests. Safe to call more than once. Logs a failure.
 */
void run_log_finish(struct run_log *l);
/*
 * The record's "logs" object (owned by the caller): max_size and, per stream, its path;
 * once finished also size, sha256 and truncated (truncated_by, error when they apply).
 * NULL when l is NULL or on -ENOMEM.
 */
json_t *run_log_to_json(const struct run_log *l);

/*
 * For the reaper of a run whose supervisor died (record_mark_aborted()): puts the size and
 * SHA-256 of each log file the run left in <state_dir>/logs into record["logs"] (created
 * when missing), as they are; the files stay. Follows no symbolic link, reads only regular
 * files of airlock's euid. Returns how many logs it found, or -ENOMEM. Does not log.
 */
int run_log_reap(const char *state_dir, const char *run_id, json_t *record);
/*
 * The same for a run that died before its first record was written, and so never started
 * its task: removes its log files when they are empty. Does not log.
 */
void run_log_reap_unrecorded(const char *state_dir, const char *run_id);
