/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One run, shared by run.c (its steps, in order), run-watch.c (the event loop's handlers
 * while its task runs, and how the task ended) and run-record.c (its records). See run.h.
 */

#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include "idpool.h"
#include "record-attempt.h"
#include "run-io.h"
#include "run-jobctl.h"
#include "run-step.h"
#include "sandbox.h"

struct credential_set;
struct loop;
struct policy;
struct record_draft;
struct record_sink;
struct redactor;
struct run_events;
struct run_export;
struct run_limits;
struct run_log;
struct run_net;
struct run_options;
struct run_overlay;
struct sandbox;
struct sandbox_mounts;
struct syscall_filter;

enum run_cause {
	RUN_CAUSE_NONE,
	RUN_CAUSE_EXITED,
	RUN_CAUSE_SIGNALED,
	RUN_CAUSE_WALL_TIME,
	RUN_CAUSE_SETUP_FAILED,
	RUN_CAUSE_EXEC_FAILED,
	RUN_CAUSE_INTERRUPTED,
	RUN_CAUSE_OOM_KILLED,
	RUN_CAUSE_PIDS_LIMIT,
	RUN_CAUSE_RUNNING,
	RUN_CAUSE_REFUSED,
	RUN_CAUSE_CREDENTIAL_EXPIRED,
	_RUN_CAUSE_MAX,
};

struct run {
	const struct run_options *opts;
	struct policy *policy;
	char id[48];
	char workspace[PATH_MAX];
	struct idpool_slot slot;
	int run_lock_fd;
	struct syscall_filter *filter;
	struct sandbox_mounts *mounts;
	char **exec_paths; /* filesystem.exec resolved in the task's root, or NULL */
	struct run_net *net;
	struct run_limits *limits;
	enum run_step step; /* the step under way: what a failure is recorded as */
	json_t *policy_json; /* the effective policy for the records, made once, or NULL */
	struct record_caller caller;
	struct record_sink *sink; /* where records go, opened before anything else of the run */
	struct record_draft *draft; /* the final record's file, made while the task runs */
	bool record_refused; /* the first record failed: no task, no final record */
	bool record_failed; /* the final record failed: the lock stays for the reaper */
	struct loop *loop;
	struct sandbox *sandbox;
	struct run_io io;
	struct run_log *log; /* the captured logs, or NULL (logs.max_size 0, or not yet) */
	char **envp;
	struct credential_set *creds; /* the values of the policy's credential slots, or NULL */
	struct redactor *redactor; /* what the task's output goes through (run-redact.h) */
	struct run_export *export; /* the export of /out, or NULL (no "artifacts") */
	struct run_overlay *overlay; /* an overlay workspace's layers, or NULL */
	struct run_events *events; /* the run's event log, from its run id on */
	bool events_started; /* its run_start was added when the task started */
	int timer_fd;
	int signal_fd;
	int grace_fd;
	bool exec_seen;
	bool workspace_idmapped;
	bool init_exited;
	bool deadline_hit;
	bool credential_expired; /* a grant with "on_expiry": "kill" expired: task killed */
	bool interrupted;
	int interrupted_by; /* that stop signal: the grace period's warning names it */
	struct run_jobctl jobctl; /* its stops (^Z), for the record */
	struct sandbox_failure failure;
	struct timespec started_rt, started_mono;
	int abi_answer; /* what the child that tried the syscall ABIs found, for the record */
	enum run_cause cause;
	int exit_code;
	int wstatus;
	bool has_wstatus;
	/* init ended without reporting the task's status: the line that says how, or "" */
	char init_lost[160];
};

/* run.c: the run's id, from its start time and random bits (logged on failure); 0 or -errno. */
int run_make_id(struct run *r);
/* run.c: frees everything of the run, in reverse order; the run lock as record_failed says. */
void run_teardown(struct run *r);

/* run-watch.c: airlock's own SIGINT, SIGTERM, SIGHUP, SIGQUIT stop the task. 0 or -errno. */
int run_watch_signals(struct run *r);
/* run-watch.c: adds the task's sources to the loop. 0 or -errno, logged. */
int run_watch_task(struct run *r);
/*
 * run-watch.c: acts now on what the loop has not got to: the signals pending for airlock
 * (but the job-control stops) and a deadline due (wall time, a grant's "on_expiry":
 * "kill"). Called by job control before it lets a held task go on. Logs.
 */
void run_watch_catch_up(struct run *r);
/* run-watch.c: the run's cause and exit status, once the loop ended with the task. Logs. */
void run_watch_conclude(struct run *r);
/* run-watch.c: marks what the captured logs lack and ends them. */
void run_watch_conclude_logs(struct run *r);

/* run-record.c: the record's name of c ("exited", "refused", ...). */
const char *run_cause_to_string(enum run_cause c);
/* run-record.c: writes the run's record as it stands (record_write()). 0 or -errno, logged. */
int run_record_write(struct run *r);
/* run-record.c: records (when it can) and tears down a run refused early. EXIT_AIRLOCK. */
int run_record_refuse_early(struct run *r);
