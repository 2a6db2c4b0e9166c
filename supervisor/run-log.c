/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "policy.h"
#include "record-json.h"
#include "run-log.h"
#include "run-log-digest.h"
#include "sha256.h"

/* The reaper hashes at most this much of a log: the largest a run writes, and a margin. */
#define RUN_LOG_REAP_MAX (POLICY_MAX_LOG_SIZE + 4096)
#define RUN_LOG_READ_CHUNK 65536

struct run_log_file {
	int fd; /* -EBADF once finished (or never opened) */
	char name[NAME_MAX + 1]; /* <run-id>.<stream> */
	char path[PATH_MAX];
	uint64_t kept; /* bytes of the stream in the file */
	uint64_t size; /* bytes in the file: kept and the marker line */
	struct run_log_digest hash;
	char digest[2 * SHA256_DIGEST_SIZE + 1]; /* hex, once finished */
	enum run_log_cut cut;
	int error; /* errno of the write that ended the log early, or 0 */
	char last; /* the last byte kept */
};

struct run_log {
	int dir_fd; /* <state_dir>/logs */
	uint64_t max_size;
	bool finished;
	struct run_log_file files[_RUN_LOG_STREAM_MAX];
};

static const char *const stream_names[_RUN_LOG_STREAM_MAX] = {
	[RUN_LOG_STDOUT] = "stdout",
	[RUN_LOG_STDERR] = "stderr",
};

static const char *const cut_names[_RUN_LOG_CUT_MAX] = {
	[RUN_LOG_CUT_MAX_SIZE] = "max_size",
	[RUN_LOG_CUT_OUTPUT] = "output_limit",
	[RUN_LOG_CUT_DRAIN] = "reader_stalled",
};

const char *run_log_stream_to_string(enum run_log_stream s)
{
	if (s < 0 || s >= _RUN_LOG_STREAM_MAX)
		return NULL;
	return stream_names[s];
}

enum run_log_stream run_log_stream_from_string(const char *s)
{
	for (int i = 0; s && i < _RUN_LOG_STREAM_MAX; i++)
		if (streq(stream_names[i], s))
			return (enum run_log_stream)i;
	return _RUN_LOG_STREAM_INVALID;
}

struct run_log *run_log_free(struct run_log *l)
{
	if (!l)
		return NULL;
	for (int i = 0; i < _RUN_LOG_STREAM_MAX; i++) {
		safe_close(l->files[i].fd);
		run_log_digest_done(&l->files[i].hash);
	}
	safe_close(l->dir_fd);
	free(l);
	return NULL;
}

struct run_log *run_log_discard(struct run_log *l)
{
	if (!l)
		return NULL;
	for (int i = 0; i < _RUN_LOG_STREAM_MAX; i++)
		if (l->files[i].name[0])
			(void)unlinkat(l->dir_fd, l->files[i].name, 0);
	return run_log_free(l);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct run_log *, run_log_discard);

static int open_file(struct run_log *l, struct run_log_file *f, const char *state_dir,
		     const char *run_id, const char *stream)
{
	int fd;

	snprintf(f->name, sizeof(f->name), "%s.%s", run_id, stream);
	snprintf(f->path, sizeof(f->path), "%s/" RUN_LOG_DIR "/%s", state_dir, f->name);
	fd = openat(l->dir_fd, f->name,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		f->name[0] = '\0'; /* not ours: never removed */
		return -errno;
	}
	f->fd = fd; /* 0600 or less by the umask: only airlock, root, writes it anyway */
	run_log_digest_init(&f->hash);
	return 0;
}

int run_log_open(int state_fd, const char *state_dir, const char *run_id, uint64_t max_size,
		 struct run_log **ret)
{
	_cleanup_(run_log_discardp) struct run_log *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->dir_fd = l->files[0].fd = l->files[1].fd = -EBADF;
	if (strlen(run_id) > 64 || max_size == 0)
		return -EINVAL;
	l->max_size = max_size;
	l->dir_fd = open_private_dir_at(state_fd, RUN_LOG_DIR);
	if (l->dir_fd < 0)
		return l->dir_fd;
	for (int i = 0; i < _RUN_LOG_STREAM_MAX; i++) {
		r = open_file(l, &l->files[i], state_dir, run_id, stream_names[i]);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

const char *run_log_dir_problem(int state_fd, int err)
{
	struct stat st;

	if ((err != -EPERM && err != -ENOTDIR) ||
	    fstatat(state_fd, RUN_LOG_DIR, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	if (S_ISLNK(st.st_mode))
		return "it is a symbolic link, which is not followed";
	if (!S_ISDIR(st.st_mode))
		return "it is not a directory";
	if (st.st_uid != geteuid())
		return "it is not root's";
	return NULL;
}

/* Appends to the file, hashing what it wrote. A failure ends the log (and is logged). */
static int file_append(struct run_log_file *f, const void *buf, size_t len)
{
	int r;

	r = write_all(f->fd, buf, len);
	if (r < 0) {
		f->error = -r;
		return log_warning_errno(
			r, "Failed to write the captured log '%s', it ends here: %m", f->path);
	}
	run_log_digest_update(&f->hash, f->fd, buf, len);
	f->size += len;
	return 0;
}

/* The marker line that ends a log holding less than its stream carried. */
static void write_marker(const struct run_log *l, struct run_log_file *f)
{
	char size[32], line[160];
	const char *nl = f->kept > 0 && f->last != '\n' ? "\n" : "";
	int n;

	switch (f->cut) {
	case RUN_LOG_CUT_MAX_SIZE:
		format_size(l->max_size, size, sizeof(size));
		n = snprintf(line, sizeof(line),
			     "%s[airlock: log truncated at logs.max_size (%s)]\n", nl, size);
		break;
	case RUN_LOG_CUT_OUTPUT:
		n = snprintf(line, sizeof(line),
			     "%s[airlock: log truncated: the output limit was reached "
			     "(limits.output)]\n",
			     nl);
		break;
	case RUN_LOG_CUT_DRAIN:
		n = snprintf(line, sizeof(line),
			     "%s[airlock: log truncated: the end of the output was dropped, its "
			     "reader did not take it in time]\n",
			     nl);
		break;
	case RUN_LOG_CUT_NONE:
	case _RUN_LOG_CUT_MAX:
	default:
		return;
	}
	if (n > 0 && !f->error && f->fd >= 0)
		(void)file_append(f, line, MIN((size_t)n, sizeof(line) - 1));
}

bool run_log_is_capturing(const struct run_log *l, enum run_log_stream s)
{
	const struct run_log_file *f;

	if (!l || s < 0 || s >= _RUN_LOG_STREAM_MAX)
		return false;
	f = &l->files[s];
	return f->fd >= 0 && !f->error && f->cut != RUN_LOG_CUT_MAX_SIZE;
}

void run_log_write(struct run_log *l, enum run_log_stream s, const void *buf, size_t len)
{
	struct run_log_file *f;
	size_t take;

	if (len == 0 || !run_log_is_capturing(l, s))
		return;
	f = &l->files[s];
	take = (size_t)MIN((uint64_t)len, l->max_size - f->kept);
	if (take > 0) {
		if (file_append(f, buf, take) < 0)
			return;
		f->kept += take;
		f->last = ((const char *)buf)[take - 1];
	}
	if (take < len) {
		f->cut = RUN_LOG_CUT_MAX_SIZE;
		write_marker(l, f);
	}
}

void run_log_cut(struct run_log *l, enum run_log_stream s, enum run_log_cut why)
{
	if (!l || s < 0 || s >= _RUN_LOG_STREAM_MAX || l->finished)
		return;
	if (l->files[s].cut == RUN_LOG_CUT_NONE)
		l->files[s].cut = why;
}

static void file_finish(const struct run_log *l, struct run_log_file *f)
{
	uint8_t md[SHA256_DIGEST_SIZE];

	if (f->fd < 0)
		return;
	if (f->cut == RUN_LOG_CUT_OUTPUT || f->cut == RUN_LOG_CUT_DRAIN)
		write_marker(l, f);
	run_log_digest_final(&f->hash, f->fd, md);
	hex_encode(md, sizeof(md), f->digest);
	if (f->size == 0)
		; /* nothing to write back */
	else if (AIRLOCK_RECORD_SYNC_FULL && fsync(f->fd) < 0)
		log_warning_errno(-errno, "Failed to sync the captured log '%s', ignoring: %m",
				  f->path);
	else if (!AIRLOCK_RECORD_SYNC_FULL)
		(void)sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	f->fd = safe_close(f->fd);
}

void run_log_finish(struct run_log *l)
{
	if (!l || l->finished)
		return;
	for (int i = 0; i < _RUN_LOG_STREAM_MAX; i++)
		file_finish(l, &l->files[i]);
	l->finished = true;
}

static json_t *file_json(const struct run_log *l, const struct run_log_file *f)
{
	json_t *o = json_pack("{s:o}", "path", record_json_bytes(f->path));

	if (!o || !l->finished)
		return o;
	if (record_json_set(o, "size", json_integer((json_int_t)f->size)) < 0 ||
	    record_json_set(o, "sha256", json_string(f->digest)) < 0 ||
	    record_json_set(o, "truncated", json_boolean(f->cut != RUN_LOG_CUT_NONE)) < 0 ||
	    (f->cut != RUN_LOG_CUT_NONE &&
	     record_json_set(o, "truncated_by", json_string(cut_names[f->cut])) < 0) ||
	    (f->error && record_json_set(o, "error", json_string(strerror(f->error))) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *run_log_to_json(const struct run_log *l)
{
	char size[32];

	if (!l)
		return NULL;
	format_size(l->max_size, size, sizeof(size));
	return json_pack("{s:s, s:o, s:o}", "max_size", size, "stdout",
			 file_json(l, &l->files[RUN_LOG_STDOUT]), "stderr",
			 file_json(l, &l->files[RUN_LOG_STDERR]));
}

/* ---- the reaper ---- */

/* SHA-256 (hex) of what fd holds, at most RUN_LOG_REAP_MAX bytes. 0, -EFBIG or -errno. */
static int hash_fd(int fd, char hex[2 * SHA256_DIGEST_SIZE + 1])
{
	_cleanup_free_ char *buf = malloc(RUN_LOG_READ_CHUNK);
	uint8_t md[SHA256_DIGEST_SIZE];
	struct sha256 h;
	uint64_t total = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	sha256_init(&h);
	while ((n = read(fd, buf, RUN_LOG_READ_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		total += (uint64_t)n;
		if (total > RUN_LOG_REAP_MAX)
			return -EFBIG;
		sha256_update(&h, buf, (size_t)n);
	}
	sha256_final(&h, md);
	hex_encode(md, sizeof(md), hex);
	return 0;
}

/* Opens dir_fd/name for reading if it is a regular file of ours. Returns the fd or -errno. */
static int open_log_file(int dir_fd, const char *name, struct stat *st)
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode) || st->st_uid != geteuid())
		return -EBADFD;
	return TAKE_FD(fd);
}

/* {"path", "size", "sha256"} of one log a dead run left, or NULL when there is none. */
static json_t *reap_file(int dir_fd, const char *state_dir, const char *name)
{
	_cleanup_close_ int fd = -EBADF;
	char path[PATH_MAX], hex[2 * SHA256_DIGEST_SIZE + 1];
	struct stat st;
	json_t *o;

	fd = open_log_file(dir_fd, name, &st);
	if (fd < 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/" RUN_LOG_DIR "/%s", state_dir, name);
	o = json_pack("{s:o, s:I}", "path", record_json_bytes(path), "size",
		      (json_int_t)st.st_size);
	if (o && hash_fd(fd, hex) == 0 && record_json_set(o, "sha256", json_string(hex)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int open_dead_logs_dir(const char *state_dir)
{
	char dir[PATH_MAX];

	if (state_dir[0] != '/')
		return -EINVAL;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/" RUN_LOG_DIR, state_dir) >= sizeof(dir))
		return -ENAMETOOLONG;
	return open_dir_no_symlinks(dir, 0); /* never created */
}

/* Puts what the dead run left of one stream's log into record["logs"][key]. 1, 0 or -ENOMEM. */
static int reap_stream(int dir_fd, const char *state_dir, const char *run_id, json_t *record,
		       const char *key)
{
	char name[NAME_MAX + 1];
	json_t *logs, *f;

	snprintf(name, sizeof(name), "%s.%s", run_id, key);
	f = reap_file(dir_fd, state_dir, name);
	if (!f)
		return 0;
	logs = json_object_get(record, "logs");
	if (!logs && json_object_set_new(record, "logs", json_object()) == 0)
		logs = json_object_get(record, "logs");
	if (!logs || json_object_set_new(logs, key, f) < 0)
		return -ENOMEM;
	return 1;
}

int run_log_reap(const char *state_dir, const char *run_id, json_t *record)
{
	_cleanup_close_ int dir_fd = -EBADF;
	int a, b;

	dir_fd = open_dead_logs_dir(state_dir);
	if (dir_fd < 0)
		return 0;
	a = reap_stream(dir_fd, state_dir, run_id, record, "stdout");
	b = reap_stream(dir_fd, state_dir, run_id, record, "stderr");
	if (a < 0 || b < 0)
		return -ENOMEM;
	return a + b;
}

void run_log_reap_unrecorded(const char *state_dir, const char *run_id)
{
	_cleanup_close_ int dir_fd = -EBADF;
	char name[NAME_MAX + 1];
	struct stat st;
	int fd;

	dir_fd = open_dead_logs_dir(state_dir);
	if (dir_fd < 0)
		return;
	for (int i = 0; i < _RUN_LOG_STREAM_MAX; i++) {
		snprintf(name, sizeof(name), "%s.%s", run_id, stream_names[i]);
		fd = open_log_file(dir_fd, name, &st);
		if (fd < 0)
			continue;
		if (st.st_size == 0)
			(void)unlinkat(dir_fd, name, 0);
		safe_close(fd);
	}
}
