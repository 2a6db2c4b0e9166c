/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A run's records: the "running" one before its task starts, the final one at its end, and
 * the one of an attempt refused before its records' place was opened.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "credentials.h"
#include "log.h"
#include "policy.h"
#include "record.h"
#include "run-events-collect.h"
#include "run-events.h"
#include "run-export.h"
#include "run-internal.h"
#include "run-limits.h"
#include "run-log.h"
#include "run-net.h"
#include "run-overlay.h"
#include "run-redact.h"
#include "run.h"
#include "sandbox.h"
#include "syscall-filter.h"

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

const char *run_cause_to_string(enum run_cause c)
{
	return cause_names[c];
}

bool run_cause_is_known(const char *name)
{
	for (size_t i = 0; i < _RUN_CAUSE_MAX; i++)
		if (streq(name, cause_names[i]))
			return true;
	return streq(name, "aborted"); /* the next start's word for a dead run (record.c) */
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

/* How the task ended, as far as the kernel told: its failed step, status or signal. */
static void add_exit(const struct run *r, struct run_summary *s)
{
	if (r->failure.step != SANDBOX_STEP_NONE) {
		s->failed_step = sandbox_step_to_string(r->failure.step);
		s->failed_errno = r->failure.error;
	}
	if (r->has_wstatus && WIFEXITED(r->wstatus) && r->failure.step == SANDBOX_STEP_NONE) {
		s->has_status = true;
		s->status = WEXITSTATUS(r->wstatus);
	} else if (r->has_wstatus && WIFSIGNALED(r->wstatus))
		s->signal = WTERMSIG(r->wstatus);
	else if (r->deadline_hit || r->credential_expired || r->interrupted ||
		 r->cause == RUN_CAUSE_OOM_KILLED)
		s->signal = SIGKILL;
	if (r->init_lost[0] && r->sandbox) { /* how init itself ended, when it said nothing */
		s->init_code = r->sandbox->init_code;
		s->init_status = r->sandbox->init_status;
	}
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
	s->message = r->init_lost[0] ? r->init_lost : log_first_error();
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

int run_record_write(struct run *r)
{
	struct timespec end_rt, end_mono;
	struct run_summary s = {};
	_cleanup_(json_decrefp) json_t *net = NULL, *resources = NULL, *creds = NULL, *logs = NULL,
				       *redactions = NULL, *artifacts = NULL, *ws_changes = NULL,
				       *events = NULL, *jobctl = NULL;
	const char *checks[_RUN_STEP_MAX];

	clock_gettime(CLOCK_REALTIME, &end_rt);
	clock_gettime(CLOCK_MONOTONIC, &end_mono);
	net = run_net_to_json(r->net);
	resources = run_limits_to_json(r->limits);
	creds = credentials_to_json(r->creds);
	logs = run_log_to_json(r->log);
	redactions = run_redact_to_json(r->redactor, &r->io);
	artifacts = run_export_to_json(r->export);
	/* Where the export will go, and, until the run ends, why there is none yet: what an
	 * aborted record, made from this one, keeps (record_mark_aborted()). */
	if (artifacts && r->cause == RUN_CAUSE_RUNNING &&
	    json_object_set_new(artifacts, "error", json_string(RUN_EXPORT_NOT_YET)) < 0) {
		json_decref(artifacts);
		artifacts = NULL;
	}
	ws_changes = run_overlay_to_json(r->overlay);
	jobctl = run_jobctl_to_json(&r->jobctl);
	if (r->policy && !r->policy_json) /* NULL (out of memory): the record tries again */
		r->policy_json = record_policy_effective(r->policy);
	/* A part the run has must be in its record: never silently left out. */
	if ((r->creds && !creds) || (r->log && !logs) || (run_net_netns_fd(r->net) >= 0 && !net) ||
	    (r->export && !artifacts) || (r->jobctl.stops > 0 && !jobctl))
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
		.cause = run_cause_to_string(r->cause),
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
		.job_control = jobctl,
		.exec_entries = r->exec_paths ? r->policy->filesystem.exec : NULL,
		.exec_paths = r->exec_paths,
	};
	add_exit(r, &s);
	/* Only what a started task was really confined by: also one whose exec failed, after
	 * every step (Landlock and seccomp may be what refused it). */
	if (r->exec_seen || r->failure.step == SANDBOX_STEP_EXEC) {
		add_features(r, &s);
		s.n_abis = syscall_abi_detect_finish(r->abi_answer, s.abis);
	}
	add_failure(r, &s, checks);
	if (r->cause != RUN_CAUSE_RUNNING) /* the log's rest, written before the record */
		s.events = events = run_events_finish(r->events, &s, r->events_started,
						      record_sink_state_fd(r->sink),
						      record_sink_state_dir(r->sink));
	return record_write(&s, r->sink, &r->draft);
}

/*
 * An attempt refused before its records' place was opened (its policy, command, kernel or
 * credentials): it leaves a record all the same, when its state directory can be opened.
 */
int run_record_refuse_early(struct run *r)
{
	r->cause = RUN_CAUSE_REFUSED;
	r->exit_code = EXIT_AIRLOCK;
	if (record_sink_open(r->opts->state_dir, r->opts->record_path, &r->sink) >= 0 &&
	    run_make_id(r) >= 0) {
		(void)run_events_new(r->id, &r->events); /* NULL: a record without a log */
		(void)run_record_write(r);
	}
	log_info("run refused: %s", run_step_reason(r->step));
	run_teardown(r);
	return EXIT_AIRLOCK;
}
