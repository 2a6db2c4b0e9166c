/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Job control of a run: the task is held while airlock is stopped (see run-jobctl.h).
 *
 * The stop signals are blocked and read from the run's signalfd like the others. To stop,
 * airlock raises the signal it read at itself again and unblocks it for a moment: its
 * default action then stops the whole process, as it would have without the signalfd, and
 * the kernel still ignores it in an orphaned process group. SIGCONT is blocked meanwhile;
 * its being pending afterwards tells that airlock was stopped and continued.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/timerfd.h>
#include <time.h>

#include "cgroup.h"
#include "log.h"
#include "macro.h"
#include "run-internal.h"
#include "run-jobctl.h"
#include "run-limits.h"
#include "sandbox.h"
#include "time-util.h"

static const int stop_signals[] = { SIGTSTP, SIGTTIN, SIGTTOU };

static const char *stop_name(int sig)
{
	return sig == SIGTSTP ? "SIGTSTP" : sig == SIGTTIN ? "SIGTTIN" : "SIGTTOU";
}

void run_jobctl_signals(sigset_t *set)
{
	for (size_t i = 0; i < ELEMENTSOF(stop_signals); i++)
		sigaddset(set, stop_signals[i]);
}

bool run_jobctl_is_stop(int sig)
{
	for (size_t i = 0; i < ELEMENTSOF(stop_signals); i++)
		if (sig == stop_signals[i])
			return true;
	return false;
}

void run_jobctl_release(void)
{
	sigset_t set;

	sigemptyset(&set);
	run_jobctl_signals(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* Freezes the task, or stops each of its processes where the run has no freezer. */
static int hold(struct cgroup_run *cg, enum run_jobctl_hold *ret)
{
	int k;

	if (!cg)
		return -EOPNOTSUPP;
	if (cgroup_run_has_freezer(cg)) {
		k = cgroup_run_freeze(cg, true);
		if (k == -ETIMEDOUT)
			log_warning("the task's cgroup was not frozen within 1s; it will be soon");
		if (k >= 0 || k == -ETIMEDOUT) {
			*ret = RUN_JOBCTL_FREEZER;
			return 0;
		}
		log_warning_errno(k,
				  "Failed to freeze the task, stopping its processes instead: %m");
		(void)cgroup_run_freeze(cg, false);
	}
	k = cgroup_run_signal(cg, SIGSTOP, 0);
	if (k < 0)
		return k;
	*ret = RUN_JOBCTL_SIGNALS;
	return 0;
}

/* Lets the task go on; what cannot go on is killed, never left held. */
static void unhold(struct run *r, enum run_jobctl_hold how)
{
	struct cgroup_run *cg = run_limits_cgroup(r->limits);
	int k;

	if (how == RUN_JOBCTL_FREEZER)
		k = cgroup_run_freeze(cg, false);
	else
		k = cgroup_run_signal(cg, SIGCONT, 0);
	if (k >= 0)
		return;
	log_error_errno(k, "Failed to let the stopped task go on, killing it: %m");
	(void)run_limits_kill(r->limits);
}

/*
 * A deadline does not wait for the job to be continued: a timer continues airlock when it
 * is due (SIGCONT wakes a stopped process whoever sends it), and the event loop then ends
 * the run for its wall time. Returns whether a timer was made.
 */
static bool arm_wake(const struct run *r, timer_t *ret)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGCONT };
	struct itimerspec left;

	if (r->timer_fd < 0 || r->deadline_hit || timerfd_gettime(r->timer_fd, &left) < 0)
		return false;
	if (left.it_value.tv_sec == 0 && left.it_value.tv_nsec == 0)
		left.it_value.tv_nsec = 1; /* due already, not yet handled: do not stay stopped */
	if (timer_create(CLOCK_MONOTONIC, &ev, ret) < 0) {
		log_warning_errno(-errno, "Failed to keep the wall time while stopped: %m");
		return false;
	}
	if (timer_settime(*ret, 0, &left, NULL) >= 0)
		return true;
	log_warning_errno(-errno, "Failed to keep the wall time while stopped: %m");
	timer_delete(*ret);
	return false;
}

/*
 * Takes a pending SIGCONT (blocked while the task runs: run_jobctl_watch()); returns
 * whether there was one. One that came after the stop was asked for means the job was
 * continued before airlock got to stop (a stop signal's own arrival drops older ones).
 */
static bool take_cont(void)
{
	const struct timespec now = {};
	sigset_t cont;

	sigemptyset(&cont);
	sigaddset(&cont, SIGCONT);
	return sigtimedwait(&cont, NULL, &now) == SIGCONT;
}

void run_jobctl_watch(void)
{
	sigset_t cont;

	sigemptyset(&cont);
	sigaddset(&cont, SIGCONT);
	sigprocmask(SIG_BLOCK, &cont, NULL);
}

/* Stops airlock with sig's default action; returns whether it was stopped and continued. */
static bool stop_self(int sig)
{
	sigset_t one, cont, old;

	sigemptyset(&one);
	sigaddset(&one, sig);
	sigemptyset(&cont);
	sigaddset(&cont, SIGCONT);
	sigprocmask(SIG_BLOCK, &cont, &old);
	/* Pending while blocked; raising a stop signal also drops any SIGCONT pending. */
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &one, NULL); /* delivered here: stopped until continued */
	sigprocmask(SIG_BLOCK, &one, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return take_cont();
}

bool run_jobctl_stop(struct run *r, int sig)
{
	struct run_jobctl *j = &r->jobctl;
	enum run_jobctl_hold how = RUN_JOBCTL_NONE;
	bool task = r->sandbox && !r->init_exited, woken, stopped;
	uint64_t start = now_mono_ms();
	timer_t wake;
	int k;

	if (task) {
		k = hold(run_limits_cgroup(r->limits), &how);
		if (k < 0)
			log_warning_errno(k, "Failed to stop the task for %s, it goes on: %m",
					  stop_name(sig));
	}
	if (take_cont()) { /* fg came first: nothing to stop any more */
		log_debug("continued before %s took effect", stop_name(sig));
		if (how)
			unhold(r, how);
		return true;
	}
	log_debug("received %s, stopping %s", stop_name(sig),
		  how ? "the task and airlock" : "airlock");
	woken = task && arm_wake(r, &wake);
	stopped = stop_self(sig);
	if (woken)
		timer_delete(wake);
	if (how)
		unhold(r, how);
	if (!stopped) {
		log_debug("%s ignored: airlock's process group is orphaned", stop_name(sig));
		return false;
	}
	log_debug("continued after %" PRIu64 " ms", now_mono_ms() - start);
	if (how) {
		j->stops++;
		j->stopped_ms += now_mono_ms() - start;
		j->held_by = how;
	}
	return true;
}

bool run_jobctl_background_read(void *userdata)
{
	(void)take_cont(); /* no stop signal came to drop an older one */
	return run_jobctl_stop(userdata, SIGTTIN);
}

json_t *run_jobctl_to_json(const struct run_jobctl *j)
{
	if (j->stops == 0)
		return NULL;
	return json_pack("{s:I, s:I, s:s}", "stops", (json_int_t)j->stops, "stopped_ms",
			 (json_int_t)j->stopped_ms, "held_by",
			 j->held_by == RUN_JOBCTL_FREEZER ? "freezer" : "signals");
}
