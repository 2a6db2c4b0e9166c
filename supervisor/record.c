/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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
#include "policy.h"
#include "macro.h"
#include "record.h"
#include "time-util.h"

void record_format_time(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;

	utc_time(ts->tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
}

static json_t *limits_json(const struct policy *p)
{
	const struct policy_limits *l = &p->limits;
	json_t *o = json_object();
	char buf[32];

	if (!o)
		return NULL;
	if (l->set & POLICY_LIMIT_WALL_TIME) {
		format_duration_ms(l->wall_time_ms, buf, sizeof(buf));
		json_object_set_new(o, "wall_time", json_string(buf));
	}
	if (l->set & POLICY_LIMIT_MEMORY) {
		format_size(l->memory, buf, sizeof(buf));
		json_object_set_new(o, "memory", json_string(buf));
	}
	if (l->set & POLICY_LIMIT_PIDS)
		json_object_set_new(o, "pids", json_integer(l->pids));
	if (l->set & POLICY_LIMIT_CPU)
		json_object_set_new(o, "cpu", json_real(l->cpu_milli / 1000.0));
	if (l->set & POLICY_LIMIT_SWAP) {
		format_size(l->swap, buf, sizeof(buf));
		json_object_set_new(o, "swap", json_string(buf));
	}
	if (l->set & POLICY_LIMIT_IO_WEIGHT)
		json_object_set_new(o, "io_weight", json_integer(l->io_weight));
	if (l->set & POLICY_LIMIT_OPEN_FILES)
		json_object_set_new(o, "open_files", json_integer(l->open_files));
	if (l->set & POLICY_LIMIT_OUTPUT) {
		format_size(l->output, buf, sizeof(buf));
		json_object_set_new(o, "output", json_string(buf));
	}
	return o;
}

static json_t *exit_json(const struct run_summary *s)
{
	json_t *o = json_pack("{s:i, s:s}", "code", s->exit_code, "cause", s->cause);

	if (!o)
		return NULL;
	if (s->has_status)
		json_object_set_new(o, "status", json_integer(s->status));
	if (s->signal)
		json_object_set_new(o, "signal", json_integer(s->signal));
	if (s->failed_step) {
		json_object_set_new(o, "step", json_string(s->failed_step));
		json_object_set_new(o, "error", json_string(strerror(s->failed_errno)));
	}
	return o;
}

/* [{"entry": "/bin", "path": "/usr/bin"}, ...]: what Landlock allowed, per policy entry. */
static json_t *exec_paths_json(const struct run_summary *s)
{
	json_t *a = json_array();

	for (size_t i = 0; a && s->exec_entries[i]; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s}", "entry", s->exec_entries[i],
						       "path", s->exec_paths[i])) < 0) {
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
		json_object_set_new(o, s->abis[i].name,
				    json_string(syscall_abi_state_to_string(s->abis[i].state)));
	return o;
}

static json_t *record_build(const struct run_summary *s)
{
	char started[40], ended[40], host[HOST_NAME_MAX + 1] = "", digest[80];
	json_t *cmd = json_array(), *features = json_array(), *o;

	if (!cmd || !features)
		goto oom;
	for (char *const *a = s->argv; *a; a++)
		json_array_append_new(cmd, json_string(*a));
	for (size_t i = 0; i < s->n_features; i++)
		json_array_append_new(features, json_string(s->features[i]));
	record_format_time(&s->started, started, sizeof(started));
	record_format_time(&s->ended, ended, sizeof(ended));
	(void)gethostname(host, sizeof(host) - 1);
	snprintf(digest, sizeof(digest), "sha256:%s", s->policy->digest);

	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:{s:s, s:s}, s:o, s:s, s:o, s:o,"
		      " s:o, s:{s:I, s:I, s:b}, s:{s:I, s:I}}",
		      "record_version", RECORD_VERSION, "run_id", s->run_id, "airlock_version",
		      AIRLOCK_VERSION, "host", host, "started_at", started, "ended_at", ended,
		      "duration_ms", (json_int_t)s->duration_ms, "policy", "name", s->policy->name,
		      "digest", digest, "command", cmd, "workspace", s->workspace, "limits",
		      limits_json(s->policy), "features", features, "exit", exit_json(s), "output",
		      "stdout_bytes", (json_int_t)s->stdout_bytes, "stderr_bytes",
		      (json_int_t)s->stderr_bytes, "truncated", s->truncated, "sandbox",
		      "host_id_base", (json_int_t)s->host_id_base, "seccomp_instructions",
		      (json_int_t)s->seccomp_instructions);
	if (!o)
		return NULL;
	if (s->exec_entries && json_object_set_new(json_object_get(o, "sandbox"), "exec_paths",
						   exec_paths_json(s)) < 0) {
		json_decref(o);
		return NULL;
	}
	if (s->n_abis > 0)
		json_object_set_new(o, "syscall_abis", abis_json(s));
	if (s->resources)
		json_object_set(o, "resources", s->resources);
	if (s->network)
		json_object_set(o, "network", s->network);
	if (s->credentials)
		json_object_set(o, "credentials", s->credentials);
	return o;
oom:
	json_decref(cmd);
	json_decref(features);
	return NULL;
}

#define RECORD_TMP_ATTEMPTS 16

/*
 * Opens the directory a path names its file in (O_DIRECTORY) and points *ret_base at the
 * file name inside path. Returns the directory fd or -errno.
 */
static int open_parent(const char *path, const char **ret_base)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char dir[PATH_MAX];
	int fd;

	if (!*base || streq(base, ".") || streq(base, ".."))
		return -EISDIR;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_base = base;
	return fd;
}

/* Temporary files of records: dot files, named after the run or at random. */
#define RECORD_TMP_PREFIX ".airlock-record-"

/*
 * Creates a fresh temporary file in dir_fd, named after run_id when given (so that the
 * reaper of a dead run can find it), else at random. O_EXCL|O_NOFOLLOW means nothing
 * another user placed there (a FIFO, a symlink, a file of theirs) can stand in for it.
 * Writes the name to tmp. Returns the fd or -errno.
 */
static int create_temp(int dir_fd, const char *run_id, char *tmp, size_t len)
{
	uint64_t rnd;
	struct stat st;
	int fd = -EEXIST, r;

	for (int i = 0; i < RECORD_TMP_ATTEMPTS && fd == -EEXIST; i++) {
		if (run_id && i == 0)
			snprintf(tmp, len, RECORD_TMP_PREFIX "%s.tmp", run_id);
		else if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -errno;
		else
			snprintf(tmp, len, RECORD_TMP_PREFIX "%016" PRIx64 ".tmp", rnd);
		fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd < 0)
			fd = -errno;
	}
	if (fd < 0)
		return fd;
	/* Ours and nothing else: a regular file with one link, owned by us. */
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid())
		r = -EBADFD;
	else if (fchmod(fd, 0640) < 0)
		r = -errno;
	else
		return fd;
	(void)unlinkat(dir_fd, tmp, 0);
	safe_close(fd);
	return r;
}

/* A temporary file next to the path it will replace, not yet written. */
struct record_draft {
	int dir_fd;
	int fd;
	char tmp[128];
	char base[NAME_MAX + 1];
};

struct record_draft *record_draft_free(struct record_draft *d)
{
	if (!d)
		return NULL;
	if (d->fd >= 0)
		(void)unlinkat(d->dir_fd, d->tmp, 0);
	safe_close(d->fd);
	safe_close(d->dir_fd);
	free(d);
	return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct record_draft *, record_draft_free);

/* Creates the temporary file (see create_temp()) that will replace path. */
static int draft_new(const char *path, const char *run_id, struct record_draft **ret)
{
	_cleanup_(record_draft_freep) struct record_draft *d = calloc(1, sizeof(*d));
	const char *base = NULL;

	if (!d)
		return -ENOMEM;
	d->fd = -EBADF;
	d->dir_fd = open_parent(path, &base);
	if (d->dir_fd < 0)
		return d->dir_fd;
	if (strlen(base) >= sizeof(d->base))
		return -ENAMETOOLONG;
	strcpy(d->base, base);
	d->fd = create_temp(d->dir_fd, run_id, d->tmp, sizeof(d->tmp));
	if (d->fd < 0)
		return d->fd;
	*ret = TAKE_PTR(d);
	return 0;
}

/*
 * The rename goes by name, and a draft may have waited for the whole run: the name must
 * still be the file we wrote (nobody who can write the directory swapped it meanwhile).
 */
static int draft_is_ours(const struct record_draft *d)
{
	struct stat a, b;

	if (fstat(d->fd, &a) < 0 || fstatat(d->dir_fd, d->tmp, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? 0 : -ESTALE;
}

/* How far a record is pushed to the disk before airlock goes on. */
enum record_sync {
	RECORD_SYNC_NONE, /* the kernel writes it back in its own time */
	RECORD_SYNC_START, /* writeback of the data started now, not waited for */
	RECORD_SYNC_FULL, /* file and directory fsync'd: on disk before we return */
};

/* A final record: full with -Drecord_sync=full, else writeback started (run-record.md). */
#define RECORD_SYNC_FINAL (AIRLOCK_RECORD_SYNC_FULL ? RECORD_SYNC_FULL : RECORD_SYNC_START)

/*
 * Writes text into the draft, pushes it to the disk as sync says, and renames it over
 * its path; with RECORD_SYNC_FULL the directory is fsync'd too, so that the rename
 * reaches the disk. The draft is used up either way. Returns 0 or -errno.
 */
static int draft_commit(struct record_draft *d, const char *text, enum record_sync sync)
{
	int r;

	r = write_all(d->fd, text, strlen(text));
	if (r >= 0 && sync == RECORD_SYNC_FULL && fsync(d->fd) < 0)
		r = -errno;
	if (r >= 0 && sync == RECORD_SYNC_START)
		(void)sync_file_range(d->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (r >= 0)
		r = draft_is_ours(d);
	if (r >= 0 && renameat(d->dir_fd, d->tmp, d->dir_fd, d->base) < 0)
		r = -errno;
	if (r >= 0) /* renamed: nothing left to unlink */
		d->fd = safe_close(d->fd);
	if (r >= 0 && sync == RECORD_SYNC_FULL && fsync(d->dir_fd) < 0)
		r = -errno;
	return r;
}

/*
 * Replaces path with text atomically: a fresh temporary file next to it, mode 0640,
 * written and renamed over path (see draft_commit()). Returns 0 or -errno.
 */
static int write_atomic(const char *path, const char *text, enum record_sync sync)
{
	_cleanup_(record_draft_freep) struct record_draft *d = NULL;
	int r;

	r = draft_new(path, NULL, &d);
	if (r < 0)
		return r;
	return draft_commit(d, text, sync);
}

static int record_path(const char *state_dir, const char *run_id, char *buf, size_t len)
{
	char dir[PATH_MAX];
	int r;

	snprintf(dir, sizeof(dir), "%s/records", state_dir);
	r = mkdir_p(dir, 0750);
	if (r < 0)
		return log_error_errno(r, "Failed to create record directory '%s': %m", dir);
	snprintf(buf, len, "%s/%s.json", dir, run_id);
	return 0;
}

/* The final record's file that a dead run had prepared (record_prepare()) goes. */
static void remove_draft(const char *state_dir, const char *run_id)
{
	char path[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/records/" RECORD_TMP_PREFIX "%s.tmp", state_dir, run_id);
	(void)unlink(path);
}

int record_mark_aborted(const char *state_dir, const char *run_id)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX + 80], now[40];
	struct timespec ts;
	json_t *exit_o;
	int r;

	r = record_path(state_dir, run_id, path, sizeof(path));
	if (r < 0)
		return r;
	remove_draft(state_dir, run_id);
	o = json_load_file(path, 0, NULL);
	exit_o = o ? json_object_get(o, "exit") : NULL;
	if (!exit_o || !json_is_string(json_object_get(exit_o, "cause")) ||
	    !streq(json_string_value(json_object_get(exit_o, "cause")), "running"))
		return 0; /* finished, or never started: nothing to mark */
	clock_gettime(CLOCK_REALTIME, &ts);
	record_format_time(&ts, now, sizeof(now));
	json_object_set_new(exit_o, "cause", json_string("aborted"));
	json_object_set_new(exit_o, "code", json_integer(125));
	json_object_set_new(o, "ended_at", json_string(now));
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return log_oom();
	r = write_atomic(path, text, RECORD_SYNC_FULL);
	if (r < 0)
		return log_error_errno(r, "Failed to mark run record '%s' aborted: %m", path);
	return 1;
}

int record_prepare(const char *state_dir, const char *run_id, struct record_draft **ret)
{
	char path[PATH_MAX + 80];
	int r;

	r = record_path(state_dir, run_id, path, sizeof(path));
	if (r < 0)
		return r;
	return draft_new(path, run_id, ret);
}

int record_write(const struct run_summary *s, const char *state_dir, const char *copy_path,
		 struct record_draft **draft)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX + 80];
	bool final = !streq(s->cause, "running");
	int r;

	o = record_build(s);
	if (!o)
		return log_oom();
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return log_oom();

	r = record_path(state_dir, s->run_id, path, sizeof(path));
	if (r < 0)
		return r;
	if (final && draft && *draft) {
		r = draft_commit(*draft, text, RECORD_SYNC_FINAL);
		*draft = record_draft_free(*draft);
		if (r == -ESTALE)
			return log_error_errno(
				r,
				"Failed to write run record '%s': its temporary file "
				"was replaced while the task ran",
				path);
	} else
		r = write_atomic(path, text, final ? RECORD_SYNC_FINAL : RECORD_SYNC_NONE);
	if (r < 0)
		return log_error_errno(r, "Failed to write run record '%s': %m", path);
	if (copy_path && final) {
		r = write_atomic(copy_path, text, RECORD_SYNC_FINAL);
		if (r < 0)
			return log_error_errno(r, "Failed to write run record copy '%s': %m",
					       copy_path);
	}
	return 0;
}
