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
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "credentials.h"
#include "log.h"
#include "macro.h"
#include "run-internal.h"
#include "run-io.h"
#include "run-jobctl.h"
#include "run-limits.h"
#include "run.h"
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
 * What came while the task was held is acted on while it still is (run_watch_catch_up():
 * a signal, a deadline), so that the task runs no code ahead of it; then it goes on.
 */
static void let_go(struct run *r, enum run_jobctl_hold how)
{
	r->jobctl.holding = how;
	run_watch_catch_up(r);
	r->jobctl.holding = RUN_JOBCTL_NONE;
	if (how)
		unhold(r, how);
}

int run_jobctl_kill(struct run *r, int sig)
{
	struct cgroup_run *cg = run_limits_cgroup(r->limits);
	int k;

	/* Before the task starts, init alone is in the cgroup: it keeps sig for the task. */
	if (r->jobctl.holding == RUN_JOBCTL_NONE || !cg || !r->jobctl.task_started)
		return sandbox_kill(r->sandbox, sig);
	/*
	 * Held, init would pass sig on only once let go, beside the processes it is for: they
	 * get it now instead, pending until they run (a fatal one ends them first). SIGKILL
	 * goes to init too; anything else would reach them twice through it.
	 */
	k = cgroup_run_signal(cg, sig, sig == SIGKILL ? 0 : r->sandbox->pid);
	if (k > 0)
		return 0;
	if (k < 0)
		log_warning_errno(k,
				  "Failed to signal the held task's processes, passing SIG%s "
				  "through its init: %m",
				  sigabbrev_np(sig) ?: "?");
	/* Or none but init (0): it passes sig on to whatever the task still has. */
	return sandbox_kill(r->sandbox, sig);
}

/*
 * Up to four timers that continue airlock when a deadline of the run is due, or a grant's
 * revocation at its expiry (WAKE_REVOKE: airlock stops again once it is done).
 */
struct wake {
	timer_t ids[4];
	size_t n;
};

/* What a SIGCONT airlock took says (take_cont()). */
enum cont {
	CONT_NONE, /* none pending */
	CONT_GO_ON, /* fg, bg, SIGCONT, or a deadline's wake: the job goes on */
	CONT_REVOKE, /* the wake of a grant's expiry alone: revoke, then stop again */
};

#define WAKE_DEADLINE 0
#define WAKE_REVOKE 1

static void add_wake(struct wake *w, clockid_t clock, int flags, const struct itimerspec *when,
		     int what)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGCONT,
			       .sigev_value = { .sival_int = what } };

	if (timer_create(clock, &ev, &w->ids[w->n]) < 0) {
		log_warning_errno(-errno, "Failed to keep a deadline while stopped: %m");
		return;
	}
	if (timer_settime(w->ids[w->n], flags, when, NULL) < 0) {
		log_warning_errno(-errno, "Failed to keep a deadline while stopped: %m");
		timer_delete(w->ids[w->n]);
		return;
	}
	w->n++;
}

/* A wake when the one-shot timerfd fd is due (at once when it is due already). */
static void add_wake_after(struct wake *w, int fd)
{
	struct itimerspec left;

	if (timerfd_gettime(fd, &left) < 0)
		return;
	if (left.it_value.tv_sec == 0 && left.it_value.tv_nsec == 0)
		left.it_value.tv_nsec = 1; /* due already, not yet handled */
	add_wake(w, CLOCK_MONOTONIC, 0, &left, WAKE_DEADLINE);
}

/*
 * A deadline does not wait for the job to be continued: a timer continues airlock when the
 * wall time, a grant with "on_expiry": "kill" or the grace after a stop signal is due
 * (SIGCONT wakes a stopped process whoever sends it), and let_go() acts on it then, the
 * task still held. Nor does the revocation of a grant with "on_expiry": "record" at its
 * expiry: its timer continues airlock for that alone (revoke_held()).
 */
static void arm_wake(const struct run *r, struct wake *w)
{
	int64_t expiry;

	w->n = 0;
	if (r->timer_fd >= 0 && !r->deadline_hit)
		add_wake_after(w, r->timer_fd);
	if (r->grace_fd >= 0) /* the SIGKILL after a stop signal's grace */
		add_wake_after(w, r->grace_fd);
	if (r->credential_expired)
		return;
	if (credentials_next_kill_expiry(r->creds, &expiry) > 0)
		add_wake(w, CLOCK_REALTIME, TIMER_ABSTIME,
			 &(struct itimerspec){ .it_value = { .tv_sec = (time_t)expiry } },
			 WAKE_DEADLINE);
	if (credentials_next_revoke_expiry(r->creds, &expiry) > 0)
		add_wake(w, CLOCK_REALTIME, TIMER_ABSTIME,
			 &(struct itimerspec){ .it_value = { .tv_sec = (time_t)expiry } },
			 WAKE_REVOKE);
}

static void disarm_wake(struct wake *w)
{
	for (size_t i = 0; i < w->n; i++)
		timer_delete(w->ids[i]);
	w->n = 0;
}

/*
 * Takes a pending SIGCONT (blocked while the task runs: run_jobctl_watch()); returns
 * whether there was one, and whose. One that came after the stop was asked for means the
 * job was continued before airlock got to stop (a stop signal's own arrival drops older
 * ones).
 */
static enum cont take_cont(void)
{
	const struct timespec now = {};
	sigset_t cont;
	siginfo_t si;

	sigemptyset(&cont);
	sigaddset(&cont, SIGCONT);
	if (sigtimedwait(&cont, &si, &now) != SIGCONT)
		return CONT_NONE;
	if (si.si_code == SI_TIMER && si.si_value.sival_int == WAKE_REVOKE)
		return CONT_REVOKE;
	return CONT_GO_ON;
}

/* Of two SIGCONTs taken, what they say together: any that is not a revocation's goes on. */
static enum cont either(enum cont a, enum cont b)
{
	return a == CONT_GO_ON || b == CONT_GO_ON ? CONT_GO_ON : a != CONT_NONE ? a : b;
}

void run_jobctl_watch(void)
{
	sigset_t cont;

	sigemptyset(&cont);
	sigaddset(&cont, SIGCONT);
	sigprocmask(SIG_BLOCK, &cont, NULL);
}

/*
 * Stops airlock with sig's default action, the run's deadlines kept (r: the task is held);
 * returns whether it was stopped and continued (or a deadline came first: CONT_GO_ON), or
 * woken for a grant's revocation alone (CONT_REVOKE); CONT_NONE: it was not stopped.
 */
static enum cont stop_self(const struct run *r, int sig)
{
	sigset_t one, cont, old;
	struct wake wake = {};
	enum cont continued;

	sigemptyset(&one);
	sigaddset(&one, sig);
	sigemptyset(&cont);
	sigaddset(&cont, SIGCONT);
	sigprocmask(SIG_BLOCK, &cont, &old);
	/* Pending while blocked; raising a stop signal also drops any SIGCONT pending. */
	raise(sig);
	/*
	 * Armed only now: a timer's SIGCONT sent before the raise would be dropped by it, the
	 * job then stopped past its deadline. One sent from here on drops the pending stop.
	 */
	if (r)
		arm_wake(r, &wake);
	sigprocmask(SIG_UNBLOCK, &one, NULL); /* delivered here: stopped until continued */
	sigprocmask(SIG_BLOCK, &one, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/*
	 * Taken before the timers go: deleting one drops the SIGCONT it sent, still pending.
	 * One that fires meanwhile is taken too, lest the next stop read it as fg come first.
	 */
	continued = take_cont();
	disarm_wake(&wake);
	return either(take_cont(), continued);
}

/*
 * Whether airlock's process group has the controlling terminal: a shell that saw the job
 * continued by a revocation's timer gives it the terminal on fg and sends no SIGCONT (the
 * job runs, as far as it knows). The same when fg came just as the timer fired: the kernel
 * drops a SIGCONT sent while the timer's is pending.
 */
static bool own_terminal(void)
{
	_cleanup_close_ int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);

	/* No controlling terminal, or no foreground group on it: not ours, fg did not come. */
	if (fd < 0)
		return false;
	return run_io_tty_owner(fd) == RUN_IO_TTY_OURS;
}

/*
 * Woken, the job still stopped, for the revocation of a grant with "on_expiry": "record"
 * at its expiry: made now, the task held (how), and waited for, since airlock's threads
 * stop with it. Returns whether airlock is to stop again: not when a grant with "on_expiry":
 * "kill" expired too (the task is killed now; let_go() ends the run), nor when the job was
 * continued meanwhile: a SIGCONT (a stop raised now would drop it), a fg (the terminal is
 * ours), or a stop signal to handle (the shell's kill %1 or ^C sends no SIGCONT either).
 */
static bool revoke_held(struct run *r, enum run_jobctl_hold how)
{
	log_debug("woken for a credential's revocation at its expiry, the job still stopped");
	r->jobctl.holding = how;
	(void)credentials_expire_due_wait(r->creds);
	r->jobctl.holding = RUN_JOBCTL_NONE;
	if (r->credential_expired)
		return false;
	if (take_cont() != CONT_NONE || own_terminal() || run_stop_pending() != 0)
		return false;
	return true;
}

bool run_jobctl_stop(struct run *r, int sig)
{
	struct run_jobctl *j = &r->jobctl;
	enum run_jobctl_hold how = RUN_JOBCTL_NONE;
	bool task = r->sandbox && !r->init_exited, stopped;
	uint64_t start = now_mono_ms();
	enum cont cont;
	int k;

	if (task) {
		k = hold(run_limits_cgroup(r->limits), &how);
		if (k < 0)
			log_warning_errno(k, "Failed to stop the task for %s, it goes on: %m",
					  stop_name(sig));
	}
	if (take_cont() != CONT_NONE) { /* fg came first: nothing to stop any more */
		log_debug("continued before %s took effect", stop_name(sig));
		if (task)
			let_go(r, how);
		return true;
	}
	log_debug("received %s, stopping %s", stop_name(sig),
		  how ? "the task and airlock" : "airlock");
	cont = stop_self(task ? r : NULL, sig);
	stopped = cont != CONT_NONE;
	/* Stopped again once done; the shell sees the job continued and stopped meanwhile. */
	while (cont == CONT_REVOKE && revoke_held(r, how))
		cont = stop_self(r, sig);
	if (task)
		let_go(r, how);
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

void run_jobctl_before_task(struct run *r)
{
	const struct timespec now = {};
	sigset_t stops;
	int sig;

	sigemptyset(&stops);
	run_jobctl_signals(&stops);
	sig = sigtimedwait(&stops, NULL, &now);
	if (sig <= 0)
		return;
	log_debug("%s came during the start: stopping before the task starts", stop_name(sig));
	(void)run_jobctl_stop(r, sig);
}

/* Whether the run is ending: stopped, it would wait for fg to end (no record, no revoke). */
static bool ending(const struct run *r)
{
	struct pollfd pfd = { .fd = r->sandbox ? r->sandbox->pidfd : -1, .events = POLLIN };

	if (r->interrupted || r->deadline_hit || r->credential_expired || r->init_exited)
		return true;
	return pfd.fd >= 0 && poll(&pfd, 1, 0) > 0; /* init gone, not yet seen by the loop */
}

bool run_jobctl_background_stop(void *userdata, int sig)
{
	struct run *r = userdata;

	if (ending(r)) {
		log_debug("the run is ending: not stopping for %s", stop_name(sig));
		return false;
	}
	(void)take_cont(); /* no stop signal came to drop an older one */
	return run_jobctl_stop(r, sig);
}

json_t *run_jobctl_to_json(const struct run_jobctl *j)
{
	if (j->stops == 0)
		return NULL;
	return json_pack("{s:I, s:I, s:s}", "stops", (json_int_t)j->stops, "stopped_ms",
			 (json_int_t)j->stopped_ms, "held_by",
			 j->held_by == RUN_JOBCTL_FREEZER ? "freezer" : "signals");
}
