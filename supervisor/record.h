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

#define RECORD_VERSION 1
#define RECORD_MAX_FEATURES 32

struct run_summary {
	const char *run_id;
	const struct policy *policy;
	char *const *argv;
	const char *workspace;
	struct timespec started; /* CLOCK_REALTIME */
	struct timespec ended;
	uint64_t duration_ms;
	const char *cause; /* exited, signaled, wall_time, setup_failed, ... */
	int exit_code; /* airlock's exit status */
	bool has_status;
	int status; /* the task's exit status when it exited */
	int signal; /* the signal that ended it, or 0 */
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
	char *const *exec_entries; /* filesystem.exec as written, or NULL when not resolved */
	char *const *exec_paths; /* what each entry allowed (sandbox_exec_resolve()) */
};

/* A temporary file made ahead for a run's final record (record_prepare()). */
struct record_draft;

/*
 * Creates the temporary file that the final record of run_id will be written to and
 * renamed from, so that creating it (slow on some filesystems) happens while the task
 * runs rather than after it. Returns 0 and *ret (record_draft_free() removes an unused
 * one) or -errno; the caller may go on without a draft.
 */
int record_prepare(const char *state_dir, const char *run_id, struct record_draft **ret);
struct record_draft *record_draft_free(struct record_draft *d);

/*
 * Writes <state_dir>/records/<run_id>.json atomically (and a copy to copy_path when not
 * NULL). A record whose cause is "running" marks a run in progress: it is not copied and
 * not pushed to the disk. A final record has its writeback started before this returns
 * (with -Drecord_sync=full: file and directory fsync'd), and goes through *draft when
 * one was prepared (draft may be NULL; *draft is used up and set to NULL). Logs its own
 * failures. Returns 0 or -errno.
 */
int record_write(const struct run_summary *s, const char *state_dir, const char *copy_path,
		 struct record_draft **draft);
/*
 * Rewrites the record of a run whose supervisor died: a "running" record becomes cause
 * "aborted" with code 125 and ended_at = now. Returns 1 when marked, 0 when there was no
 * running record, or -errno (logged).
 */
int record_mark_aborted(const char *state_dir, const char *run_id);
/* Formats a CLOCK_REALTIME time as RFC 3339 UTC with milliseconds. */
void record_format_time(const struct timespec *ts, char *buf, size_t len);
