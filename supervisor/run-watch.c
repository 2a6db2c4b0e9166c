/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A run while its task runs: the event loop's handlers (the task's end, its deadline, a
 * signal to airlock, an expired grant) and, once the loop ended, how the task ended.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "credentials.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "parse-util.h"
#include "policy.h"
#include "run-events.h"
#include "run-internal.h"
#include "run-io.h"
#include "run-jobctl.h"
#include "run-limits.h"
#include "run-log.h"
#include "run.h"
#include "sandbox.h"

#define RUN_KILL_GRACE_MS 5000

static int arm_timer(int *fd, uint64_t ms)
{
	struct itimerspec its = { .it_value = { (time_t)(ms / 1000),
						(long)(ms % 1000) * 1000000 } };

	*fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*fd < 0)
		return -errno;
	if (timerfd_settime(*fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

static void maybe_quit(struct run *r)
{
	if (r->init_exited && run_io_outputs_done(&r->io))
		loop_quit(r->loop);
}

static int on_init_exit(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run *r = userdata;

	r->init_exited = true;
	(void)loop_remove(l, fd);
	/* Every process of the pid namespace is gone: the pipes hold the last output. */
	run_io_drain(&r->io);
	maybe_quit(r);
	return 0;
}

static int on_status(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run *r = userdata;
	struct sandbox_failure f;
	int k;

	(void)loop_remove(l, fd);
	k = sandbox_wait_exec(r->sandbox, &f);
	if (k == -EIO)
		r->failure = f;
	else
		r->exec_seen = true;
	return 0;
}

static int on_deadline(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run *r = userdata;
	char buf[32];
	int k;

	(void)loop_remove(l, fd);
	/* The task ended before the deadline; only its last output is still draining. */
	if (r->init_exited)
		return 0;
	r->deadline_hit = true;
	/* Kill first: the log line goes to a reader that may be slow. */
	k = run_jobctl_kill(r, SIGKILL);
	format_duration_ms(r->policy->limits.wall_time_ms, buf, sizeof(buf));
	log_error("task killed: wall time limit %s reached", buf);
	if (run_events_add(r->events, "limit_hit",
			   json_pack("{s:s, s:s}", "limit", "wall_time", "value", buf)) < 0)
		log_oom();
	return k;
}

static int on_credential_expired(const char *name, void *userdata)
{
	struct run *r = userdata;

	if (r->init_exited)
		return 0;
	r->credential_expired = true;
	return run_jobctl_kill(r, SIGKILL);
}

/* A grant's expiry, or its revocation then: an event of the run's log. */
static void on_credential_event(const char *type, json_t *fields, void *userdata)
{
	struct run *r = userdata;

	/* After the log was written (a revocation the teardown waited for): nothing to add to. */
	if (run_events_add(r->events, type, fields) == -ENOMEM)
		log_oom();
}

static int on_grace(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run *r = userdata;

	(void)loop_remove(l, fd);
	r->grace_fd = safe_close(r->grace_fd); /* done: no wake (run-jobctl.c), no catch-up */
	log_warning("task did not end within %d ms of SIG%s, killing it", RUN_KILL_GRACE_MS,
		    sigabbrev_np(r->interrupted_by) ?: "?");
	return run_jobctl_kill(r, SIGKILL);
}

/*
 * A stop signal is passed on as it came (^C reaches the task as SIGINT, as it would without
 * airlock, and a task that dies of it ends the run with 130) and arms the grace timer; a
 * second one kills. Any other signal airlock hears is only passed on: init sends each to
 * every process of the task (or airlock does, while job control holds the task).
 */
static int handle_signal(struct run *r, int sig)
{
	sigset_t stop;
	int k;

	if (run_jobctl_is_stop(sig)) { /* ^Z: the whole job stops, the task first */
		run_jobctl_stop(r, sig);
		return 0;
	}
	run_stop_signals(&stop);
	if (!sigismember(&stop, sig)) {
		log_debug("received SIG%s, passing it on to the task", sigabbrev_np(sig) ?: "?");
		k = run_jobctl_kill(r, sig);
		if (k < 0)
			log_warning_errno(k, "Failed to pass SIG%s on to the task: %m",
					  sigabbrev_np(sig) ?: "?");
		return 0;
	}
	if (r->interrupted) /* second signal: no more patience */
		return run_jobctl_kill(r, SIGKILL);
	r->interrupted = true;
	r->interrupted_by = sig;
	log_notice("received SIG%s, stopping the task", sigabbrev_np(sig) ?: "?");
	(void)run_jobctl_kill(r, sig);
	k = arm_timer(&r->grace_fd, RUN_KILL_GRACE_MS);
	if (k < 0)
		return run_jobctl_kill(r, SIGKILL);
	return loop_add(r->loop, r->grace_fd, EPOLLIN, on_grace, r);
}

static int on_signal(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	return handle_signal(userdata, (int)si.ssi_signo);
}

/* Whether a one-shot timerfd has fired (its next expiry reads as 0 then). */
static bool timer_is_due(int fd)
{
	struct itimerspec left;

	return timerfd_gettime(fd, &left) >= 0 && left.it_value.tv_sec == 0 &&
	       left.it_value.tv_nsec == 0;
}

void run_watch_catch_up(struct run *r)
{
	const struct timespec now = {};
	sigset_t pending;
	int sig;

	if (!r->sandbox || r->init_exited)
		return;
	/* The stops are left to the loop: one pending now came after the job was continued. */
	run_handled_signals(&pending);
	for (sig = 1; sig < NSIG; sig++)
		if (run_jobctl_is_stop(sig))
			sigdelset(&pending, sig);
	/* Bounded: real-time signals queue (up to RLIMIT_SIGPENDING); the loop reads the rest. */
	for (int i = 0; i < 64 && (sig = sigtimedwait(&pending, NULL, &now)) > 0; i++)
		(void)handle_signal(r, sig);
	if (r->timer_fd >= 0 && !r->deadline_hit && timer_is_due(r->timer_fd))
		(void)on_deadline(r->loop, r->timer_fd, EPOLLIN, r);
	if (r->grace_fd >= 0 && timer_is_due(r->grace_fd))
		(void)on_grace(r->loop, r->grace_fd, EPOLLIN, r);
	if (!r->credential_expired)
		(void)credentials_expire_due(r->creds);
}

void run_stop_signals(sigset_t *ret)
{
	sigemptyset(ret);
	sigaddset(ret, SIGINT);
	sigaddset(ret, SIGTERM);
	sigaddset(ret, SIGHUP);
	sigaddset(ret, SIGQUIT);
}

int run_stop_pending(void)
{
	sigset_t pending, stop;

	run_stop_signals(&stop);
	if (sigpending(&pending) < 0)
		return 0;
	for (int sig = 1; sig < SIGRTMIN; sig++)
		if (sigismember(&stop, sig) && sigismember(&pending, sig))
			return sig;
	return 0;
}

/*
 * Every signal whose default action would end airlock and that someone else sends: the stop
 * signals, and those passed on to the task; and the job-control stops (run-jobctl.h). The kernel's own for airlock's faults (SIGSEGV
 * and the like) and its limits (SIGXCPU, SIGXFSZ: ignored by a run) are not among them.
 */
void run_handled_signals(sigset_t *ret)
{
	static const int passed_on[] = { SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM,
					 SIGPROF, SIGIO,   SIGPWR,  SIGSTKFLT };

	run_stop_signals(ret);
	run_jobctl_signals(ret);
	for (size_t i = 0; i < ELEMENTSOF(passed_on); i++)
		sigaddset(ret, passed_on[i]);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		sigaddset(ret, sig);
}

int run_watch_signals(struct run *r)
{
	sigset_t mask;

	run_handled_signals(&mask);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	run_jobctl_watch();
	r->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->signal_fd < 0)
		return -errno;
	return loop_add(r->loop, r->signal_fd, EPOLLIN, on_signal, r);
}

/* Watches the task: its end, its status pipe, its output, its deadline and its grants. */
int run_watch_task(struct run *r)
{
	const struct policy *p = r->policy;
	int k;

	k = loop_add(r->loop, r->sandbox->pidfd, EPOLLIN, on_init_exit, r);
	if (k >= 0)
		k = loop_add(r->loop, r->sandbox->status_fd, EPOLLIN, on_status, r);
	r->io.redactor = r->redactor;
	r->io.raw_terminal = p->logs.terminal == POLICY_LOGS_TERMINAL_RAW;
	r->io.background_stop = run_jobctl_background_stop;
	r->io.background_userdata = r;
	if (k >= 0)
		k = run_io_attach(&r->io, r->loop);
	if (k >= 0 && (p->limits.set & POLICY_LIMIT_WALL_TIME)) {
		k = arm_timer(&r->timer_fd, p->limits.wall_time_ms);
		if (k >= 0)
			k = loop_add(r->loop, r->timer_fd, EPOLLIN, on_deadline, r);
	}
	if (k >= 0)
		k = credentials_watch_expiry(r->creds, r->loop, on_credential_expired,
					     on_credential_event, r);
	if (k < 0)
		return log_error_errno(k, "Failed to watch the task: %m");
	return 0;
}

/* Marks what the logs lack (dropped past the output limit, or at a stalled reader), ends them. */
void run_watch_conclude_logs(struct run *r)
{
	enum run_log_cut why = r->io.truncated ? RUN_LOG_CUT_OUTPUT : RUN_LOG_CUT_DRAIN;

	if (r->io.stdout_bytes > r->io.out.passed)
		run_log_cut(r->log, RUN_LOG_STDOUT, why);
	if (r->io.stderr_bytes > r->io.err.passed)
		run_log_cut(r->log, RUN_LOG_STDERR, why);
	run_log_finish(r->log);
}

/*
 * The kernel's accounting, on every ending: what is left of the task is killed, usage and
 * limit hits are read (the record's "resources") and a limit that ended or hindered the task
 * is named on stderr, so that a fork bomb cut short by the wall time or a signal is
 * reported too. Only an ending the task decided ("exited", "signaled", or init gone without
 * a word) gives way to the limit as the cause.
 */
static void conclude_limits(struct run *r, bool task_killed)
{
	bool may_override =
		r->cause == RUN_CAUSE_EXITED || r->cause == RUN_CAUSE_SIGNALED ||
		(r->cause == RUN_CAUSE_SETUP_FAILED && r->failure.step == SANDBOX_STEP_NONE);
	const char *cause;

	(void)run_limits_kill(r->limits);
	cause = run_limits_conclude(r->limits, task_killed);
	if (!cause || !may_override)
		return;
	r->cause = streq(cause, "oom_killed") ? RUN_CAUSE_OOM_KILLED : RUN_CAUSE_PIDS_LIMIT;
}

/*
 * init ended without a word: how it ended (its own wait status), said on stderr and kept
 * for the record, whose exit.message it becomes whatever was logged before it.
 */
static void log_init_lost(struct run *r)
{
	char how[64];

	snprintf(r->init_lost, sizeof(r->init_lost),
		 "sandbox init ended without reporting the task's status: init %s",
		 sandbox_init_end_describe(r->sandbox, how, sizeof(how)));
	log_error("%s", r->init_lost);
}

/* Decides the exit status and cause from what the sandbox reported. */
void run_watch_conclude(struct run *r)
{
	struct sandbox_failure f;
	bool killed = false;
	int k;

	if (!r->exec_seen && r->failure.step == SANDBOX_STEP_NONE &&
	    sandbox_wait_exec(r->sandbox, &f) == -EIO)
		r->failure = f;
	k = sandbox_reap(r->sandbox, &r->wstatus);
	r->has_wstatus = k >= 0;

	if (r->failure.step == SANDBOX_STEP_EXEC) {
		r->cause = RUN_CAUSE_EXEC_FAILED;
		r->exit_code = r->failure.error == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
		log_error("cannot execute '%s': %s", r->opts->argv[0], strerror(r->failure.error));
	} else if (r->failure.step != SANDBOX_STEP_NONE) {
		r->cause = RUN_CAUSE_SETUP_FAILED;
		r->exit_code = EXIT_AIRLOCK;
		log_error("sandbox setup failed at step '%s': %s",
			  sandbox_step_to_string(r->failure.step), strerror(r->failure.error));
	} else if (r->deadline_hit || r->credential_expired) {
		r->cause = r->deadline_hit ? RUN_CAUSE_WALL_TIME : RUN_CAUSE_CREDENTIAL_EXPIRED;
		r->exit_code = EXIT_TIMEOUT;
	} else if (r->has_wstatus && WIFEXITED(r->wstatus)) {
		r->cause = RUN_CAUSE_EXITED;
		r->exit_code = WEXITSTATUS(r->wstatus);
	} else if (r->has_wstatus && WIFSIGNALED(r->wstatus)) {
		r->cause = RUN_CAUSE_SIGNALED;
		r->exit_code = 128 + WTERMSIG(r->wstatus);
		killed = WTERMSIG(r->wstatus) == SIGKILL;
	} else if (r->interrupted) {
		r->cause = RUN_CAUSE_INTERRUPTED;
		r->exit_code = 128 + SIGKILL;
	} else {
		/*
		 * init died before reporting. With memory.oom.group (v2) the OOM killer takes
		 * the whole cgroup, init included: then the task died of SIGKILL for its limit.
		 */
		r->cause = RUN_CAUSE_SETUP_FAILED;
		r->exit_code = EXIT_AIRLOCK;
		killed = true;
	}
	conclude_limits(r, killed);
	run_jobctl_release(); /* no task left to hold: ^Z stops airlock alone again */
	if (r->cause == RUN_CAUSE_OOM_KILLED)
		r->exit_code = 128 + SIGKILL;
	else if (r->cause == RUN_CAUSE_SETUP_FAILED && r->failure.step == SANDBOX_STEP_NONE)
		log_init_lost(r);
}
