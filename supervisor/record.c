/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "fd-util.h"
#include "log.h"
#include "parse-util.h"
#include "path-util.h"
#include "policy.h"
#include "macro.h"
#include "record-attempt.h"
#include "record-json.h"
#include "record-chain.h"
#include "record-store.h"
#include "record.h"
#include "run-export.h"
#include "run-log.h"
#include "sha256.h"
#include "time-util.h"

void record_format_time(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;

	utc_time(ts->tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
}

/* A size or duration as the policy writes it ("512M", "30s"). */
static json_t *size_json(uint64_t v, bool duration)
{
	char buf[32];

	if (duration)
		format_duration_ms(v, buf, sizeof(buf));
	else
		format_size(v, buf, sizeof(buf));
	return json_string(buf);
}

static int limits_fill(json_t *o, const struct policy_limits *l)
{
	if ((l->set & POLICY_LIMIT_WALL_TIME) &&
	    record_json_set(o, "wall_time", size_json(l->wall_time_ms, true)) < 0)
		return -ENOMEM;
	if ((l->set & POLICY_LIMIT_MEMORY) &&
	    record_json_set(o, "memory", size_json(l->memory, false)) < 0)
		return -ENOMEM;
	if ((l->set & POLICY_LIMIT_PIDS) && record_json_set(o, "pids", json_integer(l->pids)) < 0)
		return -ENOMEM;
	if ((l->set & POLICY_LIMIT_CPU) &&
	    record_json_set(o, "cpu", json_real(l->cpu_milli / 1000.0)) < 0)
		return -ENOMEM;
	if ((l->set & POLICY_LIMIT_SWAP) &&
	    record_json_set(o, "swap", size_json(l->swap, false)) < 0)
		return -ENOMEM;
	if ((l->set & POLICY_LIMIT_IO_WEIGHT) &&
	    record_json_set(o, "io_weight", json_integer(l->io_weight)) < 0)
		return -ENOMEM;
	if ((l->set & POLICY_LIMIT_OPEN_FILES) &&
	    record_json_set(o, "open_files", json_integer(l->open_files)) < 0)
		return -ENOMEM;
	if ((l->set & POLICY_LIMIT_OUTPUT) &&
	    record_json_set(o, "output", size_json(l->output, false)) < 0)
		return -ENOMEM;
	return 0;
}

static json_t *limits_json(const struct policy *p)
{
	json_t *o = json_object();

	if (o && limits_fill(o, &p->limits) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *exit_json(const struct run_summary *s)
{
	json_t *o = json_pack("{s:i, s:s}", "code", s->exit_code, "cause", s->cause);

	if (!o)
		return NULL;
	if ((s->has_status && record_json_set(o, "status", json_integer(s->status)) < 0) ||
	    (s->signal && record_json_set(o, "signal", json_integer(s->signal)) < 0) ||
	    (s->init_code == CLD_EXITED &&
	     record_json_set(o, "init_status", json_integer(s->init_status)) < 0) ||
	    ((s->init_code == CLD_KILLED || s->init_code == CLD_DUMPED) &&
	     record_json_set(o, "init_signal", json_integer(s->init_status)) < 0) ||
	    (s->failed_step &&
	     (record_json_set(o, "step", json_string(s->failed_step)) < 0 ||
	      record_json_set(o, "error", json_string(strerror(s->failed_errno))) < 0))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* [{"entry": "/bin", "path": "/usr/bin"}, ...]: what Landlock allowed, per policy entry. */
static json_t *exec_paths_json(const struct run_summary *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && s->exec_entries[i]; i++)
		if (record_json_append(a, json_pack("{s:o, s:o}", "entry",
						    record_json_bytes(s->exec_entries[i]), "path",
						    record_json_bytes(s->exec_paths[i]))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* {"x86_64": "native", "i386": "off", ...}: which ABIs the kernel ran during the run. */
static json_t *abis_json(const struct run_summary *s)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < s->n_abis; i++)
		if (record_json_set(o, s->abis[i].name,
				    json_string(syscall_abi_state_to_string(s->abis[i].state))) <
		    0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static json_t *features_json(const struct run_summary *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < s->n_features; i++)
		if (record_json_append(a, json_string(s->features[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The parts each run may or may not have; every one that is there must be set. */
static int record_add_optional(json_t *o, const struct run_summary *s)
{
	if (s->policy && record_json_set(o, "limits", limits_json(s->policy)) < 0)
		return -ENOMEM;
	if (s->workspace && record_json_set(o, "workspace", record_json_bytes(s->workspace)) < 0)
		return -ENOMEM;
	if (s->exec_entries &&
	    record_json_set(json_object_get(o, "sandbox"), "exec_paths", exec_paths_json(s)) < 0)
		return -ENOMEM;
	if (s->n_abis > 0 && record_json_set(o, "syscall_abis", abis_json(s)) < 0)
		return -ENOMEM;
	if ((s->resources && json_object_set(o, "resources", s->resources) < 0) ||
	    (s->network && json_object_set(o, "network", s->network) < 0) ||
	    (s->credentials && json_object_set(o, "credentials", s->credentials) < 0) ||
	    (s->logs && json_object_set(o, "logs", s->logs) < 0) ||
	    (s->redactions && json_object_set(o, "redactions", s->redactions) < 0) ||
	    /* "artifacts": the export of /out (run-export.c), when the policy asks for one */
	    (s->artifacts && json_object_set(o, "artifacts", s->artifacts) < 0) ||
	    /* "workspace_changes": an overlay workspace's change set (run-overlay.c) */
	    (s->workspace_changes &&
	     json_object_set(o, "workspace_changes", s->workspace_changes) < 0) ||
	    /* "job_control": the task was held while the job was stopped (run-jobctl.c) */
	    (s->job_control && json_object_set(o, "job_control", s->job_control) < 0) ||
	    (s->events && json_object_set(o, "events", s->events) < 0))
		return -ENOMEM;
	return 0;
}

/* The whole record, or NULL when any part of it could not be built (out of memory). */
static json_t *record_build(const struct run_summary *s)
{
	char started[40], ended[40], host[HOST_NAME_MAX + 1] = "";
	json_t *o;

	record_format_time(&s->started, started, sizeof(started));
	record_format_time(&s->ended, ended, sizeof(ended));
	(void)gethostname(host, sizeof(host) - 1);

	o = json_pack("{s:i, s:s, s:s, s:o, s:s, s:s, s:I, s:o, s:o, s:o, s:{s:I, s:I, s:b},"
		      " s:{s:I, s:I}}",
		      "record_version", RECORD_VERSION, "run_id", s->run_id, "airlock_version",
		      AIRLOCK_VERSION, "host", record_json_bytes(host), "started_at", started,
		      "ended_at", ended, "duration_ms", (json_int_t)s->duration_ms, "command",
		      record_json_strv(s->argv), "features", features_json(s), "exit", exit_json(s),
		      "output", "stdout_bytes", (json_int_t)s->stdout_bytes, "stderr_bytes",
		      (json_int_t)s->stderr_bytes, "truncated", s->truncated, "sandbox",
		      "host_id_base", (json_int_t)s->host_id_base, "seccomp_instructions",
		      (json_int_t)s->seccomp_instructions);
	if (!o)
		return NULL;
	if (record_add_optional(o, s) < 0 || record_attempt_add(o, s) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A final record: full with -Drecord_sync=full, else writeback started (run-record.md). */
#define RECORD_SYNC_FINAL (AIRLOCK_RECORD_SYNC_FULL ? RECORD_SYNC_FULL : RECORD_SYNC_START)

/* The largest record record_mark_aborted() reads back. */
#define RECORD_MAX_BYTES (16 * 1024 * 1024)

struct record_sink {
	int state_fd; /* <state_dir> */
	int records_fd; /* <state_dir>/records */
	int copy_dir_fd; /* --record's directory, or -EBADF */
	char state_dir[PATH_MAX]; /* absolute, normal, symlink-free */
	char copy_dir[PATH_MAX]; /* the same for --record's directory; "" without */
	char copy_base[NAME_MAX + 1];
	const char *copy_path; /* as given, for messages */
	char *running_text; /* the running record as written, until it is hashed */
	char running_sha256[2 * SHA256_DIGEST_SIZE + 1]; /* its SHA-256; "" before */
};

/* path made absolute against the current directory (already symlink-free), not resolved. */
static int make_absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		if ((size_t)snprintf(buf, len, "%s", path) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if ((size_t)snprintf(buf, len, "%s/%s", streq(cwd, "/") ? "" : cwd, path) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Opens the directory path names (relative: to the current directory) without following
 * any symlink in it, creating it with mode unless 0, and writes its absolute normal form to
 * buf: with no link on the way, ".." means the same lexically as to the kernel.
 */
static int open_dir(const char *path, mode_t mode, char *buf, size_t len)
{
	char abs[PATH_MAX];
	int fd, r;

	r = make_absolute(path, abs, sizeof(abs));
	if (r < 0)
		return r;
	fd = open_dir_no_symlinks(abs, mode);
	if (fd < 0)
		return fd;
	r = path_normalize(abs, buf, len);
	if (r < 0) {
		safe_close(fd);
		return r;
	}
	return fd;
}

/* Why a name cannot be replaced by a record (record_target_check()). */
static const char *target_text(int err, uid_t uid, char *buf, size_t len)
{
	switch (err) {
	case -ELOOP:
		return "is a symbolic link";
	case -EISDIR:
		return "is a directory";
	case -EBADFD:
		return "is not a regular file";
	case -EPERM:
		snprintf(buf, len, "is owned by uid %u", (unsigned)uid);
		return buf;
	default:
		return strerror(-err);
	}
}

static int open_state_dir(struct record_sink *s, const char *state_dir)
{
	int fd;

	fd = s->state_fd = open_dir(state_dir, 0750, s->state_dir, sizeof(s->state_dir));
	if (fd == -ELOOP)
		return log_error_errno(fd,
				       "refusing run: state directory '%s' passes through a "
				       "symbolic link; name its resolved path",
				       state_dir);
	if (fd < 0)
		return log_error_errno(fd, "Failed to open the state directory '%s': %m",
				       state_dir);
	if (mkdirat(fd, "records", 0750) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "Failed to create '%s/records': %m", s->state_dir);
	s->records_fd = openat(fd, "records", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->records_fd < 0)
		return log_error_errno(-errno, "Failed to open '%s/records': %m", s->state_dir);
	return 0;
}

/* --record FILE: its directory held open, FILE new or a regular file of ours. */
static int open_copy(struct record_sink *s, const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char dir[PATH_MAX], why[64];
	uid_t uid = 0;
	int r;

	s->copy_path = path;
	if (!*base || streq(base, ".") || streq(base, "..") || strlen(base) > NAME_MAX)
		return log_error_errno(-EISDIR, "refusing run: --record '%s' does not name a file",
				       path);
	strcpy(s->copy_base, base);
	if (!slash)
		strcpy(dir, ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) ?: 1, path) >=
		 sizeof(dir))
		return log_error_errno(-ENAMETOOLONG, "Failed to open --record '%s': %m", path);
	s->copy_dir_fd = open_dir(dir, 0, s->copy_dir, sizeof(s->copy_dir));
	if (s->copy_dir_fd == -ELOOP)
		return log_error_errno(s->copy_dir_fd,
				       "refusing run: --record '%s': its directory passes through "
				       "a symbolic link; name its resolved path",
				       path);
	if (s->copy_dir_fd < 0)
		return log_error_errno(s->copy_dir_fd,
				       "Failed to open the directory of --record '%s': %m", path);
	r = record_target_check(s->copy_dir_fd, s->copy_base, &uid);
	if (r < 0)
		return log_error_errno(r,
				       "refusing run: --record '%s' %s; airlock writes only a new "
				       "file or a regular file of its own",
				       path, target_text(r, uid, why, sizeof(why)));
	return 0;
}

struct record_sink *record_sink_free(struct record_sink *s)
{
	if (!s)
		return NULL;
	safe_close(s->state_fd);
	safe_close(s->records_fd);
	safe_close(s->copy_dir_fd);
	free(s->running_text);
	free(s);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct record_sink *, record_sink_free);

int record_sink_open(const char *state_dir, const char *copy_path, struct record_sink **ret)
{
	_cleanup_(record_sink_freep) struct record_sink *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return log_oom();
	s->state_fd = s->records_fd = s->copy_dir_fd = -EBADF;
	r = open_state_dir(s, state_dir);
	if (r < 0)
		return r;
	if (copy_path) {
		r = open_copy(s, copy_path);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

const char *record_sink_state_dir(const struct record_sink *s)
{
	return s->state_dir;
}

int record_sink_state_fd(const struct record_sink *s)
{
	return s->state_fd;
}

const char *record_sink_copy_dir(const struct record_sink *s)
{
	return s->copy_dir_fd >= 0 ? s->copy_dir : NULL;
}

/* Hashed when asked, after the task started: off its start path. */
const char *record_sink_running_sha256(struct record_sink *s)
{
	if (s->running_text) {
		sha256_hex(s->running_text, strlen(s->running_text), s->running_sha256);
		free(s->running_text);
		s->running_text = NULL;
	}
	return s->running_sha256[0] ? s->running_sha256 : NULL;
}

/*
 * A running record that is not the bytes its run wrote (its lock pinned their SHA-256):
 * changed in the state directory while the run lived. Marked so, since it is signed.
 */
static int mark_changed(json_t *exit_o, const char *got, const char *pinned)
{
	_cleanup_free_ char *msg = NULL;

	if (asprintf(&msg,
		     "its running record was changed after airlock wrote it (sha256 %s, not %s "
		     "as written): its fields are as found, not as airlock wrote them",
		     got, pinned) < 0)
		return -ENOMEM;
	if (record_json_set(exit_o, "reason", json_string("running_record_changed")) < 0 ||
	    record_json_set(exit_o, "message", json_string(msg)) < 0)
		return -ENOMEM;
	return 0;
}

/* Removes what a dead run left in its --record FILE's directory. */
static void sweep_copy_dir(const char *copy_dir, const char *run_id)
{
	_cleanup_close_ int fd = -EBADF;

	if (!copy_dir || copy_dir[0] != '/')
		return;
	fd = open_dir_no_symlinks(copy_dir, 0);
	if (fd >= 0)
		(void)record_sweep_temps(fd, run_id);
}

/*
 * What became of the dead run's grants, as the start that marks it aborted found it
 * (grants: credentials_reap_dead_run()), into each grant the running record left
 * "pending". One it found nothing of was not revoked by it, and the record says so.
 */
static int revocations_apply(json_t *o, json_t *grants)
{
	json_t *list = json_object_get(o, "credentials"), *c, *found;
	size_t i;

	json_array_foreach(list, i, c)
	{
		json_t *v = json_object_get(c, "revocation");

		if (!json_is_string(v) || !streq(json_string_value(v), "pending"))
			continue;
		found = json_object_get(grants,
					json_string_value(json_object_get(c, "name")) ?: "");
		if (found && json_object_update(c, found) < 0)
			return -ENOMEM;
		if (!found && (record_json_set(c, "revocation", json_string("failed")) < 0 ||
			       record_json_set(c, "revocation_error",
					       json_string("the start that marked the run aborted "
							   "found no revocation state of it: not "
							   "revoked by airlock")) < 0))
			return -ENOMEM;
	}
	return 0;
}

/*
 * The "running" record of a dead run turned "aborted", with the size and SHA-256 of the
 * logs it left and what became of its grants (grants, or NULL: left as they were), or NULL
 * when it is not one (*ret_missing: there is no record at all).
 */
static json_t *aborted_json(int records_fd, const char *name, const char *state_dir,
			    const char *run_id, const char *pin, bool export_ended, json_t *grants,
			    bool *ret_missing)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	char now[40], hex[2 * SHA256_DIGEST_SIZE + 1];
	struct timespec ts;
	json_t *exit_o, *export;
	size_t len = 0;

	fd = openat(records_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	*ret_missing = fd < 0 && errno == ENOENT;
	if (fd < 0 || read_file_fd(fd, RECORD_MAX_BYTES, &buf, &len) < 0)
		return NULL;
	o = json_loadb(buf, len, 0, NULL);
	exit_o = o ? json_object_get(o, "exit") : NULL;
	if (!exit_o || !json_is_string(json_object_get(exit_o, "cause")) ||
	    !streq(json_string_value(json_object_get(exit_o, "cause")), "running"))
		return NULL; /* finished, or never started: nothing to mark */
	/* Another run's record under this name would be signed as this run, and the head
	 * would name a record that is not there: left for `records verify` to name. */
	if (!streq(json_string_value(json_object_get(o, "run_id")) ?: "", run_id)) {
		log_warning("Not marking '%s/records/%s' aborted: it holds another run", state_dir,
			    name);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	record_format_time(&ts, now, sizeof(now));
	sha256_hex(buf, len, hex);
	if (pin && !streq(hex, pin)) {
		log_warning("Run record '%s/records/%s' was changed after its run wrote it: marked "
			    "aborted, with exit.reason running_record_changed",
			    state_dir, name);
		if (mark_changed(exit_o, hex, pin) < 0)
			return NULL;
	}
	if (record_json_set(exit_o, "cause", json_string("aborted")) < 0 ||
	    record_json_set(exit_o, "code", json_integer(125)) < 0 ||
	    record_json_set(o, "ended_at", json_string(now)) < 0 ||
	    run_log_reap(state_dir, run_id, o) < 0 || (grants && revocations_apply(o, grants) < 0))
		return NULL;
	/* The running record's "the task did not run" would be wrong: it may have died in it. */
	export = json_object_get(o, "artifacts");
	if (json_is_object(export) &&
	    record_json_set(
		    export, "error",
		    json_string(export_ended
					? "the run was aborted (its supervisor died) after its "
					  "export had ended: the export directory's "
					  "manifest.json is not in this record"
					: "the run was aborted (its supervisor died): nothing "
					  "was exported")) < 0)
		return NULL;
	return TAKE_PTR(o);
}

struct aborted_write {
	int records_fd;
	const char *name, *run_id;
};

static int replace_aborted(const char *text, void *userdata)
{
	struct aborted_write *w = userdata;

	return record_replace(w->records_fd, w->name, w->run_id, text, RECORD_SYNC_FULL,
			      RECORD_TARGET_ANY);
}

/* The aborted record, chained and signed like any other final one. Logs nothing. */
static int write_aborted(const char *state_dir, int records_fd, const char *name,
			 const char *run_id, json_t *o)
{
	struct aborted_write w = { records_fd, name, run_id };
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int state_fd = -EBADF;

	if (AIRLOCK_RECORD_CHAIN) {
		state_fd = open_dir_no_symlinks(state_dir, 0);
		if (state_fd < 0)
			return state_fd;
		return record_chain_append(state_fd, state_dir, o, replace_aborted, &w, NULL);
	}
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	return replace_aborted(text, &w);
}

int record_mark_aborted(const char *state_dir, const char *copy_dir, const char *run_id,
			const char *running_sha256, bool export_ended, json_t *grants)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_close_ int fd = -EBADF;
	char dir[PATH_MAX + 16], name[NAME_MAX + 1];
	bool missing = false;
	int r;

	if (state_dir[0] != '/')
		return 0; /* a relative path (before 0.1.0 stored it so): resolves nowhere sure */
	snprintf(dir, sizeof(dir), "%s/records", state_dir);
	fd = open_dir_no_symlinks(dir, 0); /* never created: a state dir that went stays gone */
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return log_warning_errno(fd, "Failed to open '%s' to mark run %s aborted: %m", dir,
					 run_id);
	/* What the dead run (or a reaper killed while marking it) left half written. */
	(void)record_sweep_temps(fd, run_id);
	sweep_copy_dir(copy_dir, run_id);
	/* Its export directory, made fresh and empty; a stop signal leaves it for the next start. */
	if (run_export_sweep(state_dir, run_id) == -EINTR)
		return -EINTR;

	snprintf(name, sizeof(name), "%s.json", run_id);
	o = aborted_json(fd, name, state_dir, run_id, running_sha256, export_ended, grants,
			 &missing);
	if (!o && missing) /* it died before its first record: its task never started */
		run_log_reap_unrecorded(state_dir, run_id);
	if (!o)
		return 0;
	r = write_aborted(state_dir, fd, name, run_id, o);
	if (r < 0)
		return log_warning_errno(
			r,
			"Failed to mark run record '%s/%s' aborted (tried again at "
			"the next start): %m",
			dir, name);
	return 1;
}

int record_prepare(struct record_sink *sink, const char *run_id, struct record_draft **ret)
{
	char name[NAME_MAX + 1];

	snprintf(name, sizeof(name), "%s.json", run_id);
	return record_draft_new(sink->records_fd, name, run_id, true, RECORD_TARGET_ANY, ret);
}

/* The run's own record: through the draft made for it, or a fresh temporary file. */
static int write_own(const struct run_summary *s, struct record_sink *sink,
		     struct record_draft **draft, const char *text, bool final)
{
	char name[NAME_MAX + 1], path[PATH_MAX + NAME_MAX + 16];
	int r;

	snprintf(name, sizeof(name), "%s.json", s->run_id);
	snprintf(path, sizeof(path), "%s/records/%s", sink->state_dir, name);
	if (final && draft && *draft) {
		r = record_draft_commit(*draft, text, RECORD_SYNC_FINAL, RECORD_TARGET_ANY);
		*draft = record_draft_free(*draft);
		if (r == -ESTALE)
			return log_error_errno(
				r,
				"Failed to write run record '%s': its temporary file "
				"was replaced while the task ran",
				path);
	} else
		r = record_replace(sink->records_fd, name, s->run_id, text,
				   final ? RECORD_SYNC_FINAL : RECORD_SYNC_NONE, RECORD_TARGET_ANY);
	if (r < 0 && !final)
		return log_error_errno(r, "refusing run: cannot write its record '%s': %m", path);
	if (r < 0)
		return log_error_errno(r, "Failed to write run record '%s': %m", path);
	return 0;
}

static int write_copy(const struct run_summary *s, struct record_sink *sink, const char *text)
{
	char why[64];
	uid_t uid = 0;
	int r;

	r = record_replace(sink->copy_dir_fd, sink->copy_base, s->run_id, text, RECORD_SYNC_FINAL,
			   RECORD_TARGET_NEW_OR_OURS);
	if (r == -EEXIST || r == -ELOOP || r == -EISDIR || r == -EBADFD || r == -EPERM) {
		(void)record_target_check(sink->copy_dir_fd, sink->copy_base, &uid);
		return log_error_errno(r,
				       "Failed to write run record copy '%s': it appeared or "
				       "changed during the run and %s",
				       sink->copy_path,
				       r == -EEXIST ? "is not airlock's"
						    : target_text(r, uid, why, sizeof(why)));
	}
	if (r < 0)
		return log_error_errno(r, "Failed to write run record copy '%s': %m",
				       sink->copy_path);
	return 0;
}

struct own_write {
	const struct run_summary *s;
	struct record_sink *sink;
	struct record_draft **draft;
};

static int write_own_chained(const char *text, void *userdata)
{
	struct own_write *w = userdata;

	return write_own(w->s, w->sink, w->draft, text, true);
}

int record_write(const struct run_summary *s, struct record_sink *sink, struct record_draft **draft)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ char *text = NULL;
	bool final = !streq(s->cause, "running");
	struct own_write w = { s, sink, draft };
	int r;

	o = record_build(s);
	if (!o)
		return log_error_errno(-ENOMEM,
				       "%s: cannot build the run record of %s (out of "
				       "memory); nothing of it was written",
				       final ? "Failed to write run record" : "refusing run",
				       s->run_id);
	if (final && AIRLOCK_RECORD_CHAIN) {
		r = record_chain_write(sink->state_fd, sink->state_dir, o, write_own_chained, &w,
				       &text);
		sign_release(); /* the run signs nothing more: the signer exits beside the rest */
	} else {
		text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (!text)
			return log_error_errno(
				-ENOMEM,
				"%s: cannot build the run record of %s (out of "
				"memory); nothing of it was written",
				final ? "Failed to write run record" : "refusing run", s->run_id);
		r = write_own(s, sink, draft, text, final);
		if (r >= 0 && !final) { /* for the run lock: what the reaper may sign of it */
			free(sink->running_text);
			sink->running_text = TAKE_PTR(text);
		}
	}
	if (r < 0 || !final || sink->copy_dir_fd < 0)
		return r;
	return write_copy(s, sink, text);
}
