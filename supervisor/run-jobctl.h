/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Job control of a run (run-jobctl.c): ^Z in the caller's terminal, or SIGTSTP, SIGTTIN,
 * SIGTTOU sent to airlock, stops the whole job. The task never holds that terminal (it runs
 * in a session of its own), so airlock holds it still first (the cgroup freezer, else
 * SIGSTOP to each of its processes), then stops itself with the same signal, so that the
 * caller's shell sees the job stopped; once airlock is continued (fg, bg, SIGCONT) it lets
 * the task go on. What came meanwhile is acted on before the task is let go: a signal sent
 * to airlock (`kill %1`) reaches each held process first, so the task runs no code ahead
 * of it. Time stopped counts toward wall_time, and a grant with "on_expiry": "kill" expires
 * while stopped too: such a deadline continues airlock, which ends the run at once, the
 * task killed while still held. A grant with "on_expiry": "record" that expires while
 * stopped continues airlock for its revocation alone: made and waited for, the task still
 * held, then airlock stops again.
 */

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct run;

enum run_jobctl_hold {
	RUN_JOBCTL_NONE,
	RUN_JOBCTL_FREEZER, /* the run's cgroup freezer (v2 cgroup.freeze, v1 freezer.state) */
	RUN_JOBCTL_SIGNALS, /* SIGSTOP and SIGCONT to each process of the run's cgroup */
};

/* What a run's record says of its stops ("job_control"). */
struct run_jobctl {
	unsigned stops; /* times airlock was stopped with the task held */
	uint64_t stopped_ms; /* their total length */
	enum run_jobctl_hold held_by; /* how the task was held the last time */
	enum run_jobctl_hold holding; /* how it is held right now, while acting on what came */
	bool task_started; /* the sandbox was let start the task (before: init alone runs) */
};

/* Adds SIGTSTP, SIGTTIN and SIGTTOU, which a run handles while its task runs, to set. */
void run_jobctl_signals(sigset_t *set);

/*
 * Blocks SIGCONT (it still continues airlock): once the task runs, a pending SIGCONT tells
 * run_jobctl_stop() that the job was continued. Call before the first stop can be read.
 */
void run_jobctl_watch(void);

/*
 * Sends sig to the task: through its init, which passes it on to every process, or, while
 * the task is held, straight to each of its processes, so that each has it before it runs
 * again. Before the task started, or when no process but init is left, through init (it
 * keeps sig for the task). Returns 0 or -errno; logs a failure to reach them directly.
 */
int run_jobctl_kill(struct run *r, int sig);

/* Whether sig is one of them. */
bool run_jobctl_is_stop(int sig);

/*
 * The job stops with sig: holds the task, stops airlock by sig's default action and, once
 * airlock is continued, lets the task go on. A stop the kernel ignores (an orphaned
 * process group, whose shell is gone) lets it go on at once and is not counted. A task
 * that cannot be let go on is killed (it never stays frozen). Returns whether airlock was
 * stopped. Logs.
 */
bool run_jobctl_stop(struct run *r, int sig);

/*
 * The task is about to start (its sandbox built, its first record written): a stop that
 * came during the start, pending since, takes effect now (run_jobctl_stop(), holding the
 * sandbox that waits to start the task), so that no code of the task runs in a stopped
 * job. airlock does not stop earlier in its start: it may hold node-wide locks (the
 * record chain, the id pool) that other runs wait for. Logs.
 */
void run_jobctl_before_task(struct run *r);

/*
 * run_io's background_stop: airlock read its terminal from the background (sig SIGTTIN),
 * or wrote to it with TOSTOP set (SIGTTOU). Stops the job with sig as the kernel would
 * have (run_jobctl_stop()); returns whether it stopped. A run that is ending (a stop
 * signal or a deadline came, init is gone) is not stopped: false, so that its end does
 * not wait for fg.
 */
bool run_jobctl_background_stop(void *userdata, int sig);

/* The task has ended: stop signals act on airlock alone again (its export, its record). */
void run_jobctl_release(void);

/* The record's "job_control": stops and time stopped; NULL when never stopped (or OOM). */
json_t *run_jobctl_to_json(const struct run_jobctl *j);
