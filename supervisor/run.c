/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One run: policy -> checks -> prepared resources -> sandbox -> event loop -> record.
 * Every step that can refuse logs one line naming the cause and makes the run exit 125.
 * The event loop's handlers and how the task ended are run-watch.c's, the records
 * run-record.c's (run-internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "chain.h"
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
#include "run-internal.h"
#include "run.h"
#include "sign.h"
#include "sandbox.h"
#include "strv.h"
#include "syscall-filter.h"
#include "time-util.h"

static void run_init(struct run *r, const struct run_options *o)
{
	*r = (struct run){ .opts = o,
			   .run_lock_fd = -EBADF,
			   .abi_answer = -EBADF,
			   .timer_fd = -EBADF,
			   .signal_fd = -EBADF,
			   .grace_fd = -EBADF,
			   .slot = { .lock_fd = -EBADF } };
	signal(SIGPIPE, SIG_IGN);
	/* Airlock's own limits: a write past RLIMIT_FSIZE fails (EFBIG) instead of killing it. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGXCPU, SIG_IGN);
	clock_gettime(CLOCK_REALTIME, &r->started_rt);
	clock_gettime(CLOCK_MONOTONIC, &r->started_mono);
	record_caller_get(&r->caller);
	log_reset_first_error();
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

static void keep_first_refusal(bool refusal, const char *line, void *userdata)
{
	char *first = userdata;

	if (refusal && !first[0])
		snprintf(first, NODE_POOL_LINE_MAX, "%s", line);
}

/*
 * What the policy allows must be reachable: a cidr rule or DNS upstream inside the node's
 * address pools (the runs' veths) never is, so the run is refused before anything of it
 * exists. A rule that holds a whole pool is the network module's warning.
 */
static int check_egress(struct run *r)
{
	char first[NODE_POOL_LINE_MAX] = "";

	r->step = RUN_STEP_EGRESS;
	if (!r->policy->network.enabled ||
	    node_network_check_policy(&r->opts->config->network, &r->policy->network,
				      keep_first_refusal, first) == 0)
		return 0;
	return log_error_errno(-ENETUNREACH, "refusing run: %s", first);
}

int run_make_id(struct run *r)
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

/* The workspace, the records' places out of its reach, and the run lock. Logs a refusal. */
static int take_place(struct run *r)
{
	char why[512];

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
	return r->run_lock_fd < 0 ? r->run_lock_fd : 0;
}

/* What the export made, in the run lock: a later start removes it should this run die. */
static int note_export(struct run *r)
{
	char note[RUN_LOCK_MAX_BYTES / 2];
	int k;

	k = run_export_note(r->export, note, sizeof(note));
	if (k > 0)
		k = run_lock_note(r->run_lock_fd, note);
	if (k < 0)
		return log_error_errno(k, "refusing run: cannot note its export directory in the "
					  "run lock: %m");
	return 0;
}

/*
 * A stop signal that cut the removal of a dead run's huge partial export short (the rest
 * is the next start's) refuses the run: the caller asked it to stop before anything of it
 * ran. (Any other stop signal during the start takes effect once the task has started.)
 */
static int refuse_stopped_housekeeping(void)
{
	int sig = run_export_reap_stopped_by();

	if (sig <= 0)
		return 0;
	return log_error_errno(-EINTR,
			       "refusing run: interrupted by SIG%s while removing the partial "
			       "export of a dead run (the rest is the next start's)",
			       sigabbrev_np(sig) ?: "?");
}

static int prepare(struct run *r)
{
	int k;

	k = take_place(r);
	if (k < 0)
		return k;
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
	run_limits_reap_stale(r->limits, r->opts->runtime_dir, r->opts->config);
	k = credentials_reap_stale(r->opts->runtime_dir, r->opts->config);
	log_set_housekeeping(false);
	if (k < 0)
		return log_error_errno(
			k, "refusing run: a name lookup of libcurl's for a dead run's "
			   "revocation is still running: not cloning the sandbox beside it");
	k = refuse_stopped_housekeeping();
	if (k < 0)
		return k;
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
			       record_sink_state_dir(r->sink), r->id, r->creds,
			       &r->opts->config->artifacts, &r->export);
	if (k < 0)
		return k;
	k = note_export(r);
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
	if (k < 0) {
		const char *why = run_log_dir_problem(record_sink_state_fd(r->sink), k);

		return log_error_errno(k, "refusing run: cannot create its logs in '%s/%s': %s",
				       record_sink_state_dir(r->sink), RUN_LOG_DIR,
				       why ?: strerror(-k));
	}
	r->io.log = r->log;
	return 0;
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
	k = run_watch_signals(r);
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
	return run_watch_task(r);
}

void run_teardown(struct run *r)
{

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
	/*
	 * The signals stay blocked until airlock exits: one that comes now, after the task,
	 * would otherwise kill airlock halfway through its cleanup (lock files, exports).
	 */
	r->signal_fd = safe_close(r->signal_fd);
	r->mounts = sandbox_mounts_free(r->mounts);
	r->exec_paths = strv_free(r->exec_paths);
	r->filter = syscall_filter_free(r->filter);
	idpool_release(&r->slot);
	/* Kept when the final record failed: the next start marks it aborted. */
	if (!r->record_failed)
		credentials_release(r->creds);
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
	k = run_record_write(r);
	if (k < 0) {
		r->record_refused = true;
		return k;
	}
	run_jobctl_before_task(r);
	/*
	 * A deadline that came while the job was stopped there killed init: no task starts.
	 * A signal sent meanwhile waits in init, which passes it on to the task as it starts.
	 */
	if (r->deadline_hit || r->credential_expired)
		return 0;
	r->jobctl.task_started = true;
	k = sandbox_start_task(r->sandbox);
	if (k < 0 && k != -EPIPE) /* EPIPE: the child failed a step; its status pipe says which */
		return log_error_errno(k, "Failed to start the task: %m");
	return 0;
}

/*
 * The running record, kept and its SHA-256 pinned in the run lock, off the task's start
 * path: should this supervisor die, the start that marks the record aborted signs it as
 * written, says it was changed, or makes it from the copy when it went
 * (record_mark_aborted()).
 */
static void pin_running_record(struct run *r)
{
	_cleanup_free_ char *running = record_sink_take_running(r->sink);
	int k = running ? run_lock_pin(r->opts->runtime_dir, r->id, r->run_lock_fd, running)
			: -ENODATA;

	if (k < 0)
		log_warning_errno(k, "Failed to keep the running record in the run lock: %m");
}

/* What is read before anything of the run exists; a failure is run_record_refuse_early()'s. */
static int load(struct run *r)
{
	int k;

	k = load_policy(r);
	if (k >= 0)
		k = check_enforceable(r);
	if (k >= 0)
		k = check_egress(r);
	if (k >= 0) { /* read once, before anything of the run exists */
		r->step = RUN_STEP_CREDENTIALS;
		k = credentials_load(r->policy, r->opts->credentials, &r->creds);
	}
	if (k >= 0) /* libcurl's libraries map while the run is prepared */
		credentials_prefetch(r->policy);
	if (k >= 0)
		k = run_redact_new(r->policy, r->creds, &r->redactor);
	return k;
}

/* Where the run's records and event log go, and its id. Logs; 0 or -errno. */
static int open_records(struct run *r)
{
	int k;

	k = record_sink_open(r->opts->state_dir, r->opts->record_path, &r->sink);
	if (k >= 0)
		k = run_make_id(r);
	if (k >= 0)
		k = run_events_new(r->id, &r->events);
	return k;
}

/* A run that failed on airlock's side: what of the task exists is killed. */
static void abandon(struct run *r)
{
	r->cause = run_step_is_refusal(r->step) ? RUN_CAUSE_REFUSED : RUN_CAUSE_SETUP_FAILED;
	r->exit_code = EXIT_AIRLOCK;
	if (r->sandbox && !r->init_exited)
		(void)sandbox_kill(r->sandbox, SIGKILL);
	if (r->sandbox) { /* the usage of what ran, never a cause in place of ours */
		(void)run_limits_kill(r->limits);
		(void)run_limits_conclude(r->limits, false);
	}
}

/* A run whose task ran to its end: how it ended, then its /out and workspace changes. */
static void collect(struct run *r)
{
	bool ok = true;

	run_watch_conclude(r);
	/* Every process of the run is dead; its mount namespace is still held. */
	if (r->failure.step == SANDBOX_STEP_NONE && run_export_collect(r->export) < 0)
		ok = false;
	/*
	 * After /out: its export needs the destination empty. A stop signal that came during
	 * /out's leaves the workspace's changes out: the export is cut short there.
	 */
	if (r->failure.step == SANDBOX_STEP_NONE && r->overlay && run_stop_pending() > 0)
		ok = false;
	else if (r->failure.step == SANDBOX_STEP_NONE &&
		 run_overlay_collect(r->overlay, r->export) < 0)
		ok = false;
	/* The whole export into place at once, or left partial beside an empty DIR. */
	if (run_export_finish(r->export, ok) < 0 || !ok)
		r->exit_code = EXIT_AIRLOCK;
	/* A stop signal cut it short: the caller's stop, as a task that dies of it (128+N). */
	if (run_export_interrupted_by(r->export) > 0)
		r->exit_code = 128 + run_export_interrupted_by(r->export);
	/* In place, or left partial on purpose (the record says where): no reaper's now. */
	if (run_export_is_used(r->export))
		(void)run_lock_note(r->run_lock_fd, RUN_EXPORT_ENDED_NOTE);
}

/* The final record, then the teardown. Returns airlock's exit status. */
static int end(struct run *r)
{
	credentials_revoke(r->creds); /* before the record, which says how it went */
	run_net_conclude(r->net); /* the DNS proxy's last counts, before the record */
	if (!r->record_refused)
		run_watch_conclude_logs(r);
	/* Said once; the status is airlock's failure, whatever the task's was. */
	if (!r->record_refused && run_record_write(r) < 0) {
		r->exit_code = EXIT_AIRLOCK;
		r->record_failed = true;
	}
	log_info("run ended: %s, exit status %d", run_cause_to_string(r->cause), r->exit_code);
	run_teardown(r);
	return r->exit_code;
}

/*
 * A node key the run could not sign its record with (others may read it, not a file of
 * ours): refused before anything runs, never found after the task ran. No record: none
 * could be signed.
 */
static int refuse_unusable_key(struct run *r)
{
	const char *what = NULL;
	int k = sign_key_usable(record_sink_state_fd(r->sink), &what);

	if (k >= 0)
		return 0;
	if (k == -EPERM && streq(what, SIGN_KEY_DIR "/" SIGN_KEY_FILE))
		log_error_errno(k, "refusing run: " CHAIN_KEY_REFUSAL,
				record_sink_state_dir(r->sink));
	else if (k == -EPERM)
		log_error_errno(k, "refusing run: " CHAIN_KEYS_DIR_REFUSAL,
				record_sink_state_dir(r->sink), what);
	else
		log_error_errno(k, "refusing run: cannot check '%s/%s': %m",
				record_sink_state_dir(r->sink), what);
	run_teardown(r);
	return k;
}

int run_main(const struct run_options *o)
{
	struct run r;
	int k;

	run_init(&r, o);
	if (load(&r) < 0)
		return run_record_refuse_early(&r);
	if (open_records(&r) < 0) {
		run_teardown(&r);
		return EXIT_AIRLOCK;
	}
	if (AIRLOCK_RECORD_CHAIN && refuse_unusable_key(&r) < 0)
		return EXIT_AIRLOCK;
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
		pin_running_record(&r);
		/* Also off the start path: a vfork()ed child tries the syscall ABIs. */
		r.abi_answer = syscall_abi_detect_start();
		k = loop_run(r.loop);
	}
	if (k < 0)
		abandon(&r);
	else
		collect(&r);
	return end(&r);
}
