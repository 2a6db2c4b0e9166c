/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The files of run records (record.c writes the JSON): atomic replacement of a file inside
 * a directory held open, and the temporary files that takes. Nothing here follows a
 * symbolic link or writes through a name it did not create. Logs nothing; -errno.
 */

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * Temporary files of a run's records, in any directory they go to, all named after the run
 * so that the reaper of a dead run finds every one it left (record_sweep_temps()):
 * ".airlock-record-<run-id>.tmp" for the final record's draft, made while the task runs,
 * ".airlock-record-<run-id>.<16 hex digits>.tmp" for any other write.
 */
#define RECORD_TMP_PREFIX ".airlock-record-"

/* How far a record is pushed to the disk before airlock goes on. */
enum record_sync {
	RECORD_SYNC_NONE, /* the kernel writes it back in its own time */
	RECORD_SYNC_START, /* writeback of the data started now, not waited for */
	RECORD_SYNC_FULL, /* file and directory fsync'd: on disk before we return */
};

/* What may stand at the name a record replaces. */
enum record_target {
	RECORD_TARGET_ANY, /* airlock's own directory (the state directory's records) */
	RECORD_TARGET_NEW_OR_OURS, /* a caller's: nothing, or a regular file of our euid */
};

/* A temporary file next to the name it will replace, not yet written. */
struct record_draft;

/*
 * Whether base in dir_fd may be replaced by a record: 0 when nothing is there, 1 when a
 * regular file owned by our euid is; -ELOOP (a symbolic link), -EISDIR, -EBADFD (another
 * file type), -EPERM (someone else's file; *ret_uid says whose), or -errno.
 */
int record_target_check(int dir_fd, const char *base, uid_t *ret_uid);
/*
 * Creates the temporary file that will replace base in dir_fd (which the draft dups),
 * named after run_id: the draft's fixed name when fixed, else a random one. Returns 0 and
 * *ret, or -errno.
 */
int record_draft_new(int dir_fd, const char *base, const char *run_id, bool fixed,
		     enum record_target target, struct record_draft **ret);
/* Removes an unused draft's file. Accepts and returns NULL. */
struct record_draft *record_draft_free(struct record_draft *d);
/*
 * Writes text into the draft, pushes it to the disk as sync says and renames it over its
 * name, if the draft's file is still there under its name (-ESTALE otherwise) and the name
 * still holds what target allows (see record_target_check(); nothing there: the rename
 * never replaces what appears meanwhile). The draft's file is gone either way.
 */
int record_draft_commit(struct record_draft *d, const char *text, enum record_sync sync,
			enum record_target target);
/* record_draft_new() with a random name, then record_draft_commit(). */
int record_replace(int dir_fd, const char *base, const char *run_id, const char *text,
		   enum record_sync sync, enum record_target target);
/*
 * Removes the temporary files run_id left in dir_fd (regular files of our euid only).
 * Call only while no live process writes that run's records: under its free run lock.
 * Returns how many went.
 */
int record_sweep_temps(int dir_fd, const char *run_id);
