/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One run: policy -> checks -> prepared resources -> sandbox -> event loop -> record.
 * Every step that can refuse logs one line naming the cause and makes the run exit 125.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "cli.h"
#include "credentials.h"
#include "fd-util.h"
#include "idpool.h"
#include "landlock.h"
#include "log.h"
#include "loop.h"
#include "node-config.h"
#include "parse-util.h"
#include "path-util.h"
#include "policy.h"
#include "preflight.h"
#include "record-attempt.h"
#include "record.h"
#include "redact.h"
#include "run-export.h"
#include "run-step.h"
#include "run-events-collect.h"
#include "run-events.h"
#include "run-io.h"
#include "run-limits.h"
#include "run-lock.h"
#include "run-log.h"
#include "run-redact.h"
#include "run-net.h"
#include "run-overlay.h"
#include "run.h"
#include "sign.h"
#include "sandbox.h"
#include "strv.h"
#include "syscall-filter.h"
#include "time-util.h"

#define RUN_KILL_GRACE_MS 5000

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

static const char *const cause_names[_RUN_CAUSE_MAX] = {
	[RUN_CAUSE_NONE] = "unknown",
	[RUN_CAUSE_EXITED] = "exited",
	[RUN_CAUSE_SIGNALED] = "signaled",
	[RUN_CAUSE_WALL_TIME] = "wall_time",
	[RUN_CAUSE_SETUP_FAILED] = "setup_failed",
	[RUN_CAUSE_EXEC_FAILED] = "exec_failed",
	[RUN_CAUSE_INTERRUPTED] = "interrupted",
	[RUN_CAUSE_OOM_KILLED] = "oom_killed",
	[RUN_CAUSE_PIDS_LIMIT] = "pids_limit_hit",
	[RUN_CAUSE_RUNNING] = "running",
	[RUN_CAUSE_REFUSED] = "refused",
	[RUN_CAUSE_CREDENTIAL_EXPIRED] = "credential_expired",
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
	sigset_t old_mask;
	bool exec_seen;
	bool workspace_idmapped;
	bool init_exited;
	bool deadline_hit;
	bool credential_expired; /* a grant with "on_expiry": "kill" expired: task killed */
	bool interrupted;
	struct sandbox_failure failure;
	struct timespec started_rt, started_mono;
	int abi_pidfd; /* the exited child that tried the syscall ABIs, for the record */
	enum run_cause cause;
	int exit_code;
	int wstatus;
	bool has_wstatus;
};

static void run_init(struct run *r, const struct run_options *o)
{
	*r = (struct run){ .opts = o,
			   .run_lock_fd = -EBADF,
			   .abi_pidfd = -EBADF,
			   .timer_fd = -EBADF,
			   .signal_fd = -EBADF,
			   .grace_fd = -EBADF,
			   .slot = { .lock_fd = -EBADF } };
}

static int load_policy(struct run *r)
{
	_cleanup_free_ char *buf = NULL;
	struct policy_error err = {};
	char msg[POLICY_MAX_PATH + POLICY_MAX_ERROR + 32];
	size_t len = 0;
	int k;

	r->step = RUN_STEP_POLICY;
	if (!r->opts->policy_path) {
		k = policy_new_default(&r->policy);
		return k < 0 ? log_oom() : 0;
	}
	k = cli_read_input(r->opts->policy_path, POLICY_MAX_BYTES, &buf, &len);
	if (k < 0)
		return k;
	k = policy_parse(buf, len, &r->policy, &err);
	if (k == -ENOMEM)
		return log_oom();
	if (k < 0) {
		policy_error_format(&err, msg, sizeof(msg));
		log_error("%s: %s", r->opts->policy_path, msg);
		return k;
	}
	return 0;
}

/*
 * Fails closed on anything the policy asks that this kernel cannot enforce. (Limits the
 * host's cgroups cannot hold are refused by run_limits_new(), which knows the layout.)
 */
static int check_enforceable(struct run *r)
{
	const struct policy *p = r->policy;

	r->step = RUN_STEP_COMMAND;
	if (!policy_command_allowed(p, r->opts->argv[0])) {
		const char *by_path = policy_command_allowed_path(p, r->opts->argv[0]);

		if (by_path)
			return log_error_errno(-EPERM,
					       "refusing run: command '%s' is not allowed by "
					       "policy '%s' (/command/allow lists '%s': invoke it "
					       "by that path)",
					       r->opts->argv[0], p->name, by_path);
		return log_error_errno(-EPERM,
				       "refusing run: command '%s' is not allowed by "
				       "policy '%s' (/command/allow)",
				       r->opts->argv[0], p->name);
	}
	r->step = RUN_STEP_KERNEL;
	if (p->filesystem.exec && landlock_abi_version() < 0)
		return log_error_errno(-EOPNOTSUPP, "refusing run: /filesystem/exec needs "
						    "Landlock, which this kernel does not offer");
	return 0;
}

static int make_run_id(struct run *r)
{
	uint32_t rnd;
	struct tm tm;
	char ts[32];

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return log_error_errno(-errno, "Failed to get random bytes: %m");
	utc_time(r->started_rt.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04u%02u%02uT%02u%02u%02uZ",
		 (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)(tm.tm_mon + 1) % 100,
		 (unsigned)tm.tm_mday % 100, (unsigned)tm.tm_hour % 100, (unsigned)tm.tm_min % 100,
		 (unsigned)tm.tm_sec % 100);
	snprintf(r->id, sizeof(r->id), "%s-%08x", ts, rnd);
	log_set_task_id(r->id);
	return 0;
}

static int build_env(struct run *r)
{
	STRV_FOREACH(e, r->policy->environment)
		if (strv_push_copy(&r->envp, *e) < 0)
			return log_oom();
	if (strv_push_copy(&r->envp, "HOME=/tmp") < 0 ||
	    strv_push_copy(&r->envp, "USER=airlock") < 0)
		return log_oom();
	return 0;
}

/*
 * Resolves filesystem.exec in the root the task will see; a symlinked entry ("/bin" on a
 * merged-/usr host) allows its target. Refuses an entry that cannot be, naming it.
 */
static int resolve_exec(struct run *r)
{
	char *const *exec = r->policy->filesystem.exec;
	size_t bad = SIZE_MAX;
	char why[512];
	int k;

	k = sandbox_exec_resolve(r->policy, r->workspace, &r->exec_paths, &bad);
	if (k == -ENOMEM)
		return log_oom();
	if (k < 0) {
		preflight_exec_refusal(r->policy, bad, k, why, sizeof(why));
		return log_error_errno(k, "refusing run: %s", why);
	}
	for (size_t i = 0; exec && exec[i]; i++)
		if (!streq(exec[i], r->exec_paths[i]))
			log_info("/filesystem/exec/%zu: '%s' allows '%s'", i, exec[i],
				 r->exec_paths[i]);
	return 0;
}

/* Clones the host trees the task will see; a refusal names the policy entry at fault. */
static int open_mounts(struct run *r)
{
	const char *bad = NULL;
	char why[512];
	int k;

	k = sandbox_mounts_open(r->policy, r->exec_paths, r->workspace, r->slot.base,
				run_limits_cgroup(r->limits), &r->mounts, &bad);
	if (k >= 0)
		return 0;
	if (k == -ENOMEM)
		return log_oom();
	preflight_mounts_refusal(r->policy, r->workspace, bad, k, why, sizeof(why));
	return log_error_errno(k, "refusing run: %s", why);
}

static int prepare(struct run *r)
{
	char why[512];
	int k;

	r->step = RUN_STEP_WORKSPACE;
	if (r->opts->workspace) {
		if (!realpath(r->opts->workspace, r->workspace)) {
			r->workspace[0] = '\0'; /* the record says what was asked, not a part */
			return log_error_errno(-errno, "Failed to resolve workspace '%s': %m",
					       r->opts->workspace);
		}
	} else if (!getcwd(r->workspace, sizeof(r->workspace)))
		return log_error_errno(-errno, "Failed to get the current directory: %m");

	if (preflight_workspace_refusal(r->workspace, record_sink_state_dir(r->sink), why,
					sizeof(why)) > 0)
		return log_error_errno(-EPERM, "refusing run: %s", why);
	r->step = RUN_STEP_RECORD_LOCATION;
	if (preflight_records_refusal(r->policy, r->workspace, record_sink_state_dir(r->sink),
				      record_sink_copy_dir(r->sink), r->opts->record_path, why,
				      sizeof(why)) > 0)
		return log_error_errno(-EPERM, "refusing run: %s", why);
	r->step = RUN_STEP_RUN_LOCK;
	r->run_lock_fd = run_lock_take(r->opts->runtime_dir, r->id, record_sink_state_dir(r->sink),
				       record_sink_copy_dir(r->sink));
	if (r->run_lock_fd < 0)
		return r->run_lock_fd;
	r->step = RUN_STEP_LIMITS;
	k = run_limits_new(r->policy, r->opts->config->cgroup_parent, r->id, r->opts->runtime_dir,
			   &r->limits);
	if (k < 0)
		return k;
	/*
	 * Before the task exists: killing a dead run's processes can wait seconds, which must
	 * not delay this run's deadline or signal handling once its loop runs. What it says
	 * is about other runs: the diagnostics' business, not the caller's.
	 */
	log_set_housekeeping(true);
	run_limits_reap_stale(r->limits, r->opts->runtime_dir);
	credentials_reap_stale(r->opts->runtime_dir, r->opts->config);
	log_set_housekeeping(false);
	r->step = RUN_STEP_ID_RANGE;
	k = idpool_acquire(r->opts->runtime_dir, &r->slot);
	if (k < 0)
		return log_error_errno(k, "Failed to allocate a host id range for the task: %m");
	r->step = RUN_STEP_SECCOMP;
	k = syscall_filter_compile(r->policy, &r->filter);
	if (k < 0)
		return log_error_errno(k, "Failed to compile the seccomp filter: %m");
	r->step = RUN_STEP_EXEC;
	k = resolve_exec(r);
	if (k < 0)
		return k;
	r->step = RUN_STEP_MOUNTS;
	k = open_mounts(r);
	if (k < 0)
		return k;
	r->step = RUN_STEP_CREDENTIAL_MINT;
	k = credentials_mint(r->creds, r->policy, r->opts->config, r->opts->runtime_dir, r->id);
	if (k < 0)
		return k;
	if (policy_has_grants(r->policy)) { /* the minted values join the caller's */
		r->redactor = redactor_free(r->redactor);
		k = run_redact_new(r->policy, r->creds, &r->redactor);
		if (k < 0)
			return k;
	}
	r->step = RUN_STEP_CREDENTIAL_FILES;
	k = credentials_add_files(r->creds, r->mounts, r->policy, r->slot.base);
	if (k < 0)
		return k;
	r->step = RUN_STEP_ARTIFACTS;
	k = run_export_prepare(r->policy, r->opts->export_dir, record_sink_state_fd(r->sink),
			       record_sink_state_dir(r->sink), r->id, r->creds, &r->export);
	if (k < 0)
		return k;
	r->step = RUN_STEP_EVENT_LOOP;
	k = build_env(r);
	if (k < 0)
		return k;
	k = loop_new(&r->loop);
	if (k < 0)
		return log_error_errno(k, "Failed to create event loop: %m");
	/* The reap above already freed what dead runs held (a veth could hold our slot's name). */
	r->step = RUN_STEP_NETWORK;
	return run_net_new(r->policy, &r->opts->config->network, r->id, r->loop, &r->net);
}

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
	k = sandbox_kill(r->sandbox, SIGKILL);
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
	return sandbox_kill(r->sandbox, SIGKILL);
}

static int on_grace(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run *r = userdata;

	(void)loop_remove(l, fd);
	log_warning("task did not end within %d ms of SIGTERM, killing it", RUN_KILL_GRACE_MS);
	return sandbox_kill(r->sandbox, SIGKILL);
}

static int on_signal(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run *r = userdata;
	struct signalfd_siginfo si;
	int k;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	if (r->interrupted) /* second signal: no more patience */
		return sandbox_kill(r->sandbox, SIGKILL);
	r->interrupted = true;
	log_notice("received %s, stopping the task", strsignal((int)si.ssi_signo));
	(void)sandbox_kill(r->sandbox, SIGTERM);
	k = arm_timer(&r->grace_fd, RUN_KILL_GRACE_MS);
	if (k < 0)
		return sandbox_kill(r->sandbox, SIGKILL);
	return loop_add(l, r->grace_fd, EPOLLIN, on_grace, r);
}

static int setup_signals(struct run *r)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &mask, &r->old_mask) < 0)
		return -errno;
	r->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->signal_fd < 0)
		return -errno;
	return loop_add(r->loop, r->signal_fd, EPOLLIN, on_signal, r);
}

/*
 * The captured logs, made while the sandbox's child sets itself up (after its release) and
 * before the task's output is read. A run whose logs cannot be made is refused.
 */
static int open_logs(struct run *r)
{
	int k;

	if (r->policy->logs.max_size == 0)
		return 0;
	k = run_log_open(record_sink_state_fd(r->sink), record_sink_state_dir(r->sink), r->id,
			 r->policy->logs.max_size, &r->log);
	if (k == -ENOMEM)
		return log_oom();
	if (k < 0)
		return log_error_errno(k, "refusing run: cannot create its logs in '%s/%s': %m",
				       record_sink_state_dir(r->sink), RUN_LOG_DIR);
	r->io.log = r->log;
	return 0;
}

/* Marks what the logs lack (dropped past the output limit, or at a stalled reader), ends them. */
static void conclude_logs(struct run *r)
{
	enum run_log_cut why = r->io.truncated ? RUN_LOG_CUT_OUTPUT : RUN_LOG_CUT_DRAIN;

	if (r->io.stdout_bytes > r->io.out.passed)
		run_log_cut(r->log, RUN_LOG_STDOUT, why);
	if (r->io.stderr_bytes > r->io.err.passed)
		run_log_cut(r->log, RUN_LOG_STDERR, why);
	run_log_finish(r->log);
}

static int start(struct run *r)
{
	const struct policy *p = r->policy;
	uint64_t limit = (p->limits.set & POLICY_LIMIT_OUTPUT) ? p->limits.output : UINT64_MAX;
	_cleanup_free_ char **envp = NULL; /* borrows r->envp's strings and the credentials' */
	struct sandbox_config c;
	char resolv_conf[256];
	int k;

	r->step = RUN_STEP_SANDBOX;
	k = run_io_open(&r->io, limit);
	if (k >= 0)
		k = run_io_chown_child_ends(&r->io, r->slot.base + p->identity.uid,
					    r->slot.base + p->identity.gid);
	if (k < 0)
		return log_error_errno(k, "Failed to create task pipes: %m");
	k = setup_signals(r);
	if (k < 0)
		return log_error_errno(k, "Failed to set up signal handling: %m");
	if (credentials_env(r->creds, r->envp, &envp) < 0)
		return log_oom();

	c = (struct sandbox_config){
		.policy = p,
		.filter = r->filter,
		.argv = r->opts->argv,
		.envp = envp,
		.mounts = r->mounts,
		.host_id_base = r->slot.base,
		.cgroup = run_limits_cgroup(r->limits),
		.netns_fd = run_net_netns_fd(r->net),
		.resolv_conf = run_net_resolv_conf(r->net, resolv_conf, sizeof(resolv_conf)) > 0
				       ? resolv_conf
				       : NULL,
		.stdin_fd = r->io.child_stdin,
		.stdout_fd = r->io.child_stdout,
		.stderr_fd = r->io.child_stderr,
	};
	credentials_env_memory(r->creds, &c.wipe_after_exec, &c.wipe_after_exec_len);
	k = sandbox_spawn(&c, &r->sandbox);
	if (k < 0)
		return log_error_errno(k, "Failed to create the sandbox: %m");
	k = run_export_hold(r->export, r->sandbox->pid);
	if (k < 0)
		return k;
	/* The child waits for the release: nothing of it runs before its limits are set. */
	k = run_limits_seal(r->limits);
	if (k < 0)
		return k;
	/* Nor before its DNS proxy is up: it started with the network, alongside the above. */
	k = run_net_ready(r->net);
	if (k < 0)
		return k;
	run_io_close_child_ends(&r->io);
	r->workspace_idmapped = sandbox_mounts_workspace_idmapped(r->mounts);
	k = run_overlay_take(r->mounts, &r->overlay);
	if (k < 0)
		return k;
	r->mounts = sandbox_mounts_free(r->mounts);

	k = sandbox_release(r->sandbox);
	if (k < 0 && k != -EPIPE) /* EPIPE: the child failed a step; its status pipe says which */
		return log_error_errno(k, "Failed to start the sandbox: %m");
	r->step = RUN_STEP_LOGS;
	k = open_logs(r);
	if (k < 0)
		return k;
	r->step = RUN_STEP_WATCH;
	k = loop_add(r->loop, r->sandbox->pidfd, EPOLLIN, on_init_exit, r);
	if (k >= 0)
		k = loop_add(r->loop, r->sandbox->status_fd, EPOLLIN, on_status, r);
	r->io.redactor = r->redactor;
	r->io.raw_terminal = p->logs.terminal == POLICY_LOGS_TERMINAL_RAW;
	if (k >= 0)
		k = run_io_attach(&r->io, r->loop);
	if (k >= 0 && (p->limits.set & POLICY_LIMIT_WALL_TIME)) {
		k = arm_timer(&r->timer_fd, p->limits.wall_time_ms);
		if (k >= 0)
			k = loop_add(r->loop, r->timer_fd, EPOLLIN, on_deadline, r);
	}
	if (k >= 0)
		k = credentials_watch_expiry(r->creds, r->loop, on_credential_expired, r);
	if (k < 0)
		return log_error_errno(k, "Failed to watch the task: %m");
	return 0;
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

/* Decides the exit status and cause from what the sandbox reported. */
static void conclude(struct run *r)
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
	if (r->cause == RUN_CAUSE_OOM_KILLED)
		r->exit_code = 128 + SIGKILL;
	else if (r->cause == RUN_CAUSE_SETUP_FAILED && r->failure.step == SANDBOX_STEP_NONE)
		log_error("sandbox init ended without reporting the task's status");
}

static void add_features(struct run *r, struct run_summary *s)
{
	static const char *const base[] = { "user-namespace",	 "mount-namespace",
					    "pid-namespace",	 "ipc-namespace",
					    "uts-namespace",	 "cgroup-namespace",
					    "network-namespace", "capabilities-dropped",
					    "no-new-privs",	 "seccomp" };

	for (size_t i = 0; i < ELEMENTSOF(base); i++)
		s->features[s->n_features++] = base[i];
	if (r->policy->filesystem.exec)
		s->features[s->n_features++] = "landlock-exec";
	if (r->workspace_idmapped)
		s->features[s->n_features++] = "idmapped-workspace";
	if (run_limits_feature(r->limits))
		s->features[s->n_features++] = run_limits_feature(r->limits);
}

/*
 * What the record of a run that was refused or failed on airlock's side says of it: the
 * reason its step gives, the first error line logged and the steps it passed. A sandbox
 * step that failed in the child is the sandbox's.
 */
static void add_failure(const struct run *r, struct run_summary *s, const char **checks)
{
	enum run_step step = r->failure.step != SANDBOX_STEP_NONE ? RUN_STEP_SANDBOX : r->step;

	if (r->cause != RUN_CAUSE_REFUSED && r->cause != RUN_CAUSE_SETUP_FAILED &&
	    r->cause != RUN_CAUSE_EXEC_FAILED)
		return;
	s->message = log_first_error();
	if (r->cause == RUN_CAUSE_EXEC_FAILED)
		return;
	s->reason = run_step_reason(step);
	for (enum run_step i = 0; i < step; i++)
		checks[s->n_checks++] = run_step_to_string(i);
	s->checks = checks;
}

/* The resolved workspace, or as asked when the run was refused before it was resolved. */
static const char *record_workspace(struct run *r)
{
	if (r->workspace[0])
		return r->workspace;
	if (r->opts->workspace)
		return r->opts->workspace;
	return getcwd(r->workspace, sizeof(r->workspace)) ? r->workspace : NULL;
}

static int write_record(struct run *r)
{
	struct timespec end_rt, end_mono;
	struct run_summary s = {};
	_cleanup_(json_decrefp) json_t *net = NULL, *resources = NULL, *creds = NULL, *logs = NULL,
				       *redactions = NULL, *artifacts = NULL, *ws_changes = NULL,
				       *events = NULL;
	const char *checks[_RUN_STEP_MAX];

	clock_gettime(CLOCK_REALTIME, &end_rt);
	clock_gettime(CLOCK_MONOTONIC, &end_mono);
	net = run_net_to_json(r->net);
	resources = run_limits_to_json(r->limits);
	creds = credentials_to_json(r->creds);
	logs = run_log_to_json(r->log);
	redactions = run_redact_to_json(r->redactor, &r->io);
	if (r->cause != RUN_CAUSE_RUNNING)
		artifacts = run_export_to_json(r->export);
	ws_changes = run_overlay_to_json(r->overlay);
	if (r->policy && !r->policy_json) /* NULL (out of memory): the record tries again */
		r->policy_json = record_policy_effective(r->policy);
	/* A part the run has must be in its record: never silently left out. */
	if ((r->creds && !creds) || (r->log && !logs) || (run_net_netns_fd(r->net) >= 0 && !net) ||
	    (r->export && r->cause != RUN_CAUSE_RUNNING && !artifacts))
		return log_error_errno(-ENOMEM,
				       "%s: cannot build the run record of %s (out of "
				       "memory); nothing of it was written",
				       r->cause == RUN_CAUSE_RUNNING ? "refusing run"
								     : "Failed to write run record",
				       r->id);
	s = (struct run_summary){
		.run_id = r->id,
		.policy = r->policy,
		.policy_path = r->opts->policy_path,
		.policy_effective = r->policy_json,
		.caller = &r->caller,
		.argv = r->opts->argv,
		.workspace = record_workspace(r),
		.started = r->started_rt,
		.ended = end_rt,
		.duration_ms = (uint64_t)((end_mono.tv_sec - r->started_mono.tv_sec) * 1000 +
					  (end_mono.tv_nsec - r->started_mono.tv_nsec) / 1000000),
		.cause = cause_names[r->cause],
		.exit_code = r->exit_code,
		.stdout_bytes = r->io.stdout_bytes,
		.stderr_bytes = r->io.stderr_bytes,
		.truncated = r->io.truncated,
		.host_id_base = r->slot.base,
		.seccomp_instructions = r->filter ? syscall_filter_size(r->filter) : 0,
		.network = net,
		.resources = resources,
		.credentials = creds,
		.logs = logs,
		.redactions = redactions,
		.artifacts = artifacts,
		.workspace_changes = ws_changes,
		.exec_entries = r->exec_paths ? r->policy->filesystem.exec : NULL,
		.exec_paths = r->exec_paths,
	};
	if (r->failure.step != SANDBOX_STEP_NONE) {
		s.failed_step = sandbox_step_to_string(r->failure.step);
		s.failed_errno = r->failure.error;
	}
	if (r->has_wstatus && WIFEXITED(r->wstatus) && r->failure.step == SANDBOX_STEP_NONE) {
		s.has_status = true;
		s.status = WEXITSTATUS(r->wstatus);
	} else if (r->has_wstatus && WIFSIGNALED(r->wstatus))
		s.signal = WTERMSIG(r->wstatus);
	else if (r->deadline_hit || r->credential_expired || r->interrupted ||
		 r->cause == RUN_CAUSE_OOM_KILLED)
		s.signal = SIGKILL;
	if (r->exec_seen) { /* only what a started task was really confined by */
		add_features(r, &s);
		s.n_abis = syscall_abi_detect_finish(&r->abi_pidfd, s.abis);
	}
	add_failure(r, &s, checks);
	if (r->cause != RUN_CAUSE_RUNNING) /* the log's rest, written before the record */
		s.events = events = run_events_finish(r->events, &s, r->events_started,
						      record_sink_state_fd(r->sink),
						      record_sink_state_dir(r->sink));
	return record_write(&s, r->sink, &r->draft);
}

static void teardown(struct run *r)
{
	struct syscall_abi unused_abis[SYSCALL_ABI_MAX];

	if (r->sandbox && !r->init_exited) {
		(void)sandbox_kill(r->sandbox, SIGKILL);
		(void)sandbox_reap(r->sandbox, &r->wstatus);
	}
	r->sandbox = sandbox_free(r->sandbox);
	credentials_revoke(r->creds); /* a refused run's; an ended one's are revoked already */
	r->limits = run_limits_free(r->limits);
	r->draft = record_draft_free(r->draft);
	run_io_done(&r->io);
	/* A run refused before its task started has no logs: they go with it. */
	r->log = r->record_refused ? run_log_discard(r->log) : run_log_free(r->log);
	r->net = run_net_free(r->net);
	r->loop = loop_free(r->loop);
	r->timer_fd = safe_close(r->timer_fd);
	r->grace_fd = safe_close(r->grace_fd);
	if (r->abi_pidfd >= 0) /* reaps the child when no record used it */
		(void)syscall_abi_detect_finish(&r->abi_pidfd, unused_abis);
	r->signal_fd = safe_close(r->signal_fd);
	sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
	r->mounts = sandbox_mounts_free(r->mounts);
	r->exec_paths = strv_free(r->exec_paths);
	r->filter = syscall_filter_free(r->filter);
	idpool_release(&r->slot);
	/* Kept when the final record failed: the next start marks it aborted. */
	r->run_lock_fd =
		run_lock_drop(r->opts->runtime_dir, r->id, r->run_lock_fd, r->record_failed);
	r->sink = record_sink_free(r->sink);
	strv_free(r->envp);
	r->redactor = redactor_free(r->redactor); /* wipes its copies of the values */
	r->export = run_export_free(r->export);
	r->overlay = run_overlay_free(r->overlay);
	r->creds = credential_set_free(r->creds); /* clears every value */
	r->events = run_events_free(r->events);
	r->policy = policy_free(r->policy);
	json_decref(r->policy_json);
	r->policy_json = NULL;
}

/*
 * No record, no run: the task starts only once its "running" record is written (the
 * sandbox is built meanwhile, up to the task's start). Logs a refusal.
 */
static int begin(struct run *r)
{
	int k;

	r->cause = RUN_CAUSE_RUNNING;
	k = write_record(r);
	if (k < 0) {
		r->record_refused = true;
		return k;
	}
	k = sandbox_start_task(r->sandbox);
	if (k < 0 && k != -EPIPE) /* EPIPE: the child failed a step; its status pipe says which */
		return log_error_errno(k, "Failed to start the task: %m");
	return 0;
}

/*
 * An attempt refused before its records' place was opened (its policy, command, kernel or
 * credentials): it leaves a record all the same, when its state directory can be opened.
 */
static int refuse_early(struct run *r)
{
	r->cause = RUN_CAUSE_REFUSED;
	r->exit_code = EXIT_AIRLOCK;
	if (record_sink_open(r->opts->state_dir, r->opts->record_path, &r->sink) >= 0 &&
	    make_run_id(r) >= 0) {
		(void)run_events_new(r->id, &r->events); /* NULL: a record without a log */
		(void)write_record(r);
	}
	log_info("run refused: %s", run_step_reason(r->step));
	teardown(r);
	return EXIT_AIRLOCK;
}

int run_main(const struct run_options *o)
{
	struct run r;
	int k;

	run_init(&r, o);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_REALTIME, &r.started_rt);
	clock_gettime(CLOCK_MONOTONIC, &r.started_mono);
	record_caller_get(&r.caller);
	log_reset_first_error();

	k = load_policy(&r);
	if (k >= 0)
		k = check_enforceable(&r);
	if (k >= 0) { /* read once, before anything of the run exists */
		r.step = RUN_STEP_CREDENTIALS;
		k = credentials_load(r.policy, o->credentials, &r.creds);
	}
	if (k >= 0) /* libcurl's libraries map while the run is prepared */
		credentials_prefetch(r.policy);
	if (k >= 0)
		k = run_redact_new(r.policy, r.creds, &r.redactor);
	if (k < 0)
		return refuse_early(&r);
	if (record_sink_open(o->state_dir, o->record_path, &r.sink) < 0 || make_run_id(&r) < 0 ||
	    run_events_new(r.id, &r.events) < 0) {
		teardown(&r);
		return EXIT_AIRLOCK;
	}
	if (AIRLOCK_RECORD_CHAIN) /* the node key loads in a process beside the run (sign.h) */
		sign_preload(record_sink_state_fd(r.sink));

	k = prepare(&r);
	if (k >= 0)
		k = start(&r);
	if (k >= 0)
		k = begin(&r);
	if (k >= 0) {
		r.step = RUN_STEP_TASK;
		log_info("run started: policy '%s' (sha256:%s), command '%s'", r.policy->name,
			 r.policy->digest, o->argv[0]);
		/* Off the task's start path too: its start and grants, the event log's file. */
		r.events_started = true;
		if (run_events_started(r.events, r.policy, o->argv, r.workspace, r.creds,
				       record_sink_state_fd(r.sink),
				       record_sink_state_dir(r.sink)) < 0)
			log_oom();
		/* Off the task's start path: the final record's file. */
		if (record_prepare(r.sink, r.id, &r.draft) < 0)
			log_debug("could not prepare the final record's file; writing it later");
		/* Also off the start path: a vfork()ed child tries the syscall ABIs. */
		r.abi_pidfd = syscall_abi_detect_start();
		k = loop_run(r.loop);
	}
	if (k < 0) {
		r.cause = run_step_is_refusal(r.step) ? RUN_CAUSE_REFUSED : RUN_CAUSE_SETUP_FAILED;
		r.exit_code = EXIT_AIRLOCK;
		if (r.sandbox && !r.init_exited)
			(void)sandbox_kill(r.sandbox, SIGKILL);
		if (r.sandbox) { /* the usage of what ran, never a cause in place of ours */
			(void)run_limits_kill(r.limits);
			(void)run_limits_conclude(r.limits, false);
		}
	} else {
		conclude(&r);
		/* Every process of the run is dead; its mount namespace is still held. */
		if (r.failure.step == SANDBOX_STEP_NONE && run_export_collect(r.export) < 0)
			r.exit_code = EXIT_AIRLOCK;
		/* After /out: its export needs the destination empty. */
		if (r.failure.step == SANDBOX_STEP_NONE &&
		    run_overlay_collect(r.overlay, r.export) < 0)
			r.exit_code = EXIT_AIRLOCK;
	}
	credentials_revoke(r.creds); /* before the record, which says how it went */
	if (!r.record_refused)
		conclude_logs(&r);
	/* Said once; the status is airlock's failure, whatever the task's was. */
	if (!r.record_refused && write_record(&r) < 0) {
		r.exit_code = EXIT_AIRLOCK;
		r.record_failed = true;
	}
	log_info("run ended: %s, exit status %d", cause_names[r.cause], r.exit_code);
	teardown(&r);
	return r.exit_code;
}
