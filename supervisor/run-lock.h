/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Run locks: <runtime_dir>/runs/<run-id>.lock, flock'ed for a run's lifetime. A lock held
 * means the run is alive; a free one, that its supervisor died. This layer logs.
 */

#include <limits.h>
#include <stdbool.h>

struct node_config;

/*
 * Takes run_id's lock, holding where its records go (state_dir, and copy_dir: the --record
 * FILE's directory, or NULL; both absolute) for a later start to clean up after it. The
 * file appears under its name only once locked and written: an O_TMPFILE inode linked in
 * (where the filesystem has none, a ".<id>.new" file renamed), so that a concurrent start
 * never takes the live run for a dead one and a start killed meanwhile leaves nothing.
 * Returns the fd (hold it for the run) or -errno, logged.
 */
int run_lock_take(const char *runtime_dir, const char *run_id, const char *state_dir,
		  const char *copy_dir);
/*
 * Notes what a dead run would leave for a later start to remove (run_export_note()) in
 * the lock file fd, after where its records go; NULL removes the note. Returns 0 or -errno.
 */
int run_lock_note(int fd, const char *note);
/*
 * Keeps the run's "running" record as written (running) beside the lock file fd, as
 * <runtime_dir>/runs/<run_id>.running (0600), and pins its SHA-256 (hex) in the lock file,
 * after where its records go and before the note: the record lies in the state directory,
 * the lock in the root-only runtime directory, so a later start marking the run aborted
 * signs its record as airlock wrote it, says it was changed, or makes it from the copy
 * when it is missing or does not read as a record (record_mark_aborted()). Pins also when
 * the copy could not be written. Returns 0 or the first -errno; logs nothing.
 */
int run_lock_pin(const char *runtime_dir, const char *run_id, int fd, const char *running);
/* The name of the running record's copy: <run-id> then this, beside the lock file. */
#define RUN_LOCK_RUNNING_SUFFIX ".running"
/* How a pin starts, in its field of the lock file. */
#define RUN_LOCK_PIN_PREFIX "running-sha256 "
/* The lock file's size at most: two directories, a pin and a note. */
#define RUN_LOCK_MAX_BYTES (4 * PATH_MAX)
/*
 * Releases the lock fd and removes its file and the running record's copy, unless
 * keep_file: then a later start finds it free and cleans up after the run as after a dead
 * one. Returns -EBADF, for the fd.
 */
int run_lock_drop(const char *runtime_dir, const char *run_id, int fd, bool keep_file);
/*
 * Whether run_id's lock is held. One that is not is a dead run's: its temporary record
 * files go, the credentials it held are revoked with the issuers of cfg
 * (credentials_reap_dead_run()), its "running" record is marked aborted
 * (record_mark_aborted()), saying what became of them, and its lock file and running
 * record copy go; they stay when the record could not be rewritten, for the next start.
 */
bool run_lock_is_alive(const char *runtime_dir, const struct node_config *cfg, const char *run_id);
/*
 * Cleans up after the dead runs that left no cgroup behind (run_lock_is_alive() on every
 * lock file), and removes ".<id>.new" files nobody holds that are a minute old.
 */
void run_lock_sweep(const char *runtime_dir, const struct node_config *cfg);
