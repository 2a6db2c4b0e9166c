/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-run event log: lines built in memory, chained, written in two goes (run-events.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "parse-util.h"
#include "record-json.h"
#include "record.h"
#include "run-events.h"
#include "sha256.h"

/* Room below the caps kept for the task's exit and the marker of dropped events. */
#define RUN_EVENTS_END_LINES 2
#define RUN_EVENTS_END_BYTES (16 * 1024)

struct run_events {
	char run_id[65];
	char *buf; /* the lines, each ending in '\n' */
	size_t len, size;
	uint64_t lines;
	uint64_t dropped;
	char prev[RUN_EVENTS_HASH_LEN]; /* hash of the last line, or the first line's prev */
	struct sha256 file_hash; /* of every byte in buf */
	bool written;
	int fd; /* the file, from run_events_open() to run_events_write(), or -EBADF */
	size_t flushed; /* bytes of buf in the file */
	int error; /* -errno of the first failed open or write, or 0 */
	char path[PATH_MAX];
};

void run_events_first_prev(const char *run_id, char hex[RUN_EVENTS_HASH_LEN])
{
	uint8_t md[SHA256_DIGEST_SIZE];

	sha256(run_id, strlen(run_id), md);
	hex_encode(md, sizeof(md), hex);
}

int run_events_new(const char *run_id, struct run_events **ret)
{
	struct run_events *e;

	if (strlen(run_id) >= sizeof(e->run_id))
		return -ENAMETOOLONG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	strcpy(e->run_id, run_id);
	e->fd = -EBADF;
	run_events_first_prev(run_id, e->prev);
	sha256_init(&e->file_hash);
	*ret = e;
	return 0;
}

struct run_events *run_events_free(struct run_events *e)
{
	if (!e)
		return NULL;
	safe_close(e->fd);
	free(e->buf);
	free(e);
	return NULL;
}

static bool is_reserved_key(const char *key)
{
	return streq(key, "seq") || streq(key, "time") || streq(key, "type") || streq(key, "prev");
}

/* {"seq", "time", "type", fields..., "prev"} as one compact ASCII line, no newline. */
static char *format_line(const struct run_events *e, const char *type, json_t *fields)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	struct timespec ts;
	const char *key;
	char now[40];
	json_t *v;

	clock_gettime(CLOCK_REALTIME, &ts);
	record_format_time(&ts, now, sizeof(now));
	o = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)(e->lines + 1), "time", now, "type",
		      type);
	if (!o)
		return NULL;
	json_object_foreach(fields, key, v)
	{
		if (json_object_set(o, key, v) < 0)
			return NULL;
	}
	if (json_object_set_new(o, "prev", json_string(e->prev)) < 0)
		return NULL;
	return json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
}

/* Whether a line of n bytes (newline included) fits below the caps for this type. */
static bool has_room(const struct run_events *e, const char *type, size_t n)
{
	bool end = streq(type, "task_exit") || streq(type, "events_dropped");
	uint64_t max_lines = RUN_EVENTS_MAX_LINES - (end ? 0 : RUN_EVENTS_END_LINES);
	size_t max_bytes = RUN_EVENTS_MAX_BYTES - (end ? 0 : RUN_EVENTS_END_BYTES);

	return e->lines < max_lines && n <= max_bytes && e->len <= max_bytes - n;
}

static int append_line(struct run_events *e, const char *line)
{
	size_t n = strlen(line);
	uint8_t md[SHA256_DIGEST_SIZE];

	if (e->size - e->len < n + 1) {
		size_t size = MAX(e->size * 2, e->len + n + 1);
		char *b = realloc(e->buf, MAX(size, (size_t)4096));

		if (!b)
			return -ENOMEM;
		e->buf = b;
		e->size = MAX(size, (size_t)4096);
	}
	memcpy(e->buf + e->len, line, n);
	e->buf[e->len + n] = '\n';
	sha256_update(&e->file_hash, e->buf + e->len, n + 1);
	e->len += n + 1;
	e->lines++;
	sha256(line, n, md);
	hex_encode(md, sizeof(md), e->prev);
	return 0;
}

int run_events_add(struct run_events *e, const char *type, json_t *fields_in)
{
	_cleanup_(json_decrefp) json_t *fields = fields_in;
	_cleanup_free_ char *line = NULL;
	const char *key;
	json_t *v;

	if (!fields)
		return -ENOMEM;
	if (!json_is_object(fields))
		return -EINVAL;
	json_object_foreach(fields, key, v)
	{
		if (is_reserved_key(key))
			return -EINVAL;
	}
	if (e->written)
		return -ESTALE;
	line = format_line(e, type, fields);
	if (!line)
		return -ENOMEM;
	if (!has_room(e, type, strlen(line) + 1)) {
		e->dropped++;
		return 1;
	}
	return append_line(e, line);
}

/* Creates <state>/events/<run-id>.jsonl, a new file of mode 0600. Returns the fd or -errno. */
static int create_file(const struct run_events *e, int state_fd)
{
	_cleanup_close_ int dir_fd = -EBADF;
	char name[NAME_MAX + 1];
	int fd;

	dir_fd = open_private_dir_at(state_fd, RUN_EVENTS_DIR);
	if (dir_fd < 0)
		return dir_fd;
	snprintf(name, sizeof(name), "%s.jsonl", e->run_id);
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		    0600);
	return fd < 0 ? -errno : fd;
}

/* Writes what the file lacks; the first error sticks (the file then stays as it is). */
static int flush(struct run_events *e)
{
	int r;

	if (e->error < 0)
		return e->error;
	r = write_all(e->fd, e->buf + e->flushed, e->len - e->flushed);
	if (r < 0)
		return e->error = r;
	e->flushed = e->len;
	return 0;
}

int run_events_open(struct run_events *e, int state_fd, const char *state_dir)
{
	int fd;

	if (e->written || e->fd >= 0 || e->error < 0)
		return -ESTALE;
	snprintf(e->path, sizeof(e->path), "%s/" RUN_EVENTS_DIR "/%s.jsonl", state_dir, e->run_id);
	fd = create_file(e, state_fd);
	if (fd < 0)
		return e->error = fd;
	e->fd = fd;
	return flush(e);
}

int run_events_write(struct run_events *e, int state_fd, const char *state_dir)
{
	int r;

	if (e->written)
		return -ESTALE;
	if (e->dropped > 0) {
		r = run_events_add(e, "events_dropped",
				   json_pack("{s:I}", "dropped", (json_int_t)e->dropped));
		if (r < 0)
			return r;
	}
	if (e->fd < 0 && e->error == 0)
		(void)run_events_open(e, state_fd, state_dir);
	e->written = true;
	if (e->fd >= 0)
		(void)flush(e);
	e->fd = safe_close(e->fd);
	return e->error;
}

const char *run_events_text(const struct run_events *e, size_t *ret_len)
{
	*ret_len = e->len;
	return e->buf;
}

json_t *run_events_to_json(const struct run_events *e)
{
	uint8_t md[SHA256_DIGEST_SIZE];
	char file_hex[RUN_EVENTS_HASH_LEN];
	struct sha256 h = e->file_hash;
	json_t *o;

	sha256_final(&h, md);
	hex_encode(md, sizeof(md), file_hex);
	/* The path holds the state directory's bytes: a record byte string. */
	o = json_pack("{s:o, s:I, s:I, s:s, s:s, s:I}", "path", record_json_bytes(e->path), "lines",
		      (json_int_t)e->lines, "bytes", (json_int_t)e->len, "head", e->prev, "sha256",
		      file_hex, "dropped", (json_int_t)e->dropped);
	if (o && e->error < 0 &&
	    json_object_set_new(o, "error", json_string(strerror(-e->error))) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
