/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "cleanup.h"
#include "cli.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "neutralise.h"
#include "record-json.h"
#include "records-list.h"

#define RECORD_MAX_BYTES (16 * 1024 * 1024)
/* The most bytes of one field the table shows; longer ones are cut, marked "...". */
#define FIELD_MAX 256

/* One record file as read: its JSON, or why it could not be read. */
struct entry {
	char *file;
	json_t *o; /* NULL: unreadable */
	char error[200];
	int64_t ns; /* started_ns (or from started_at); INT64_MIN when unknown */
};

int records_parse_time(const char *s, int64_t *ret)
{
	struct tm tm = {};
	const char *p;
	char *end = NULL;
	int64_t frac = 0, scale = 100000000;
	long long secs;
	time_t t;

	if (s[0] == '@') {
		errno = 0;
		secs = strtoll(s + 1, &end, 10);
		if (errno || end == s + 1 || secs < 0 || secs > INT64_MAX / 1000000000 - 1)
			return -EINVAL;
		p = end;
	} else {
		p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
		if (!p)
			return -EINVAL;
		t = timegm(&tm);
		if (t < 0)
			return -EINVAL;
		secs = t;
	}
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	if (s[0] != '@' && *p == 'Z')
		p++;
	if (*p)
		return -EINVAL;
	*ret = (int64_t)secs * 1000000000 + frac;
	return 0;
}

/* The record's start in ns: started_ns, else started_at (a version 1 record). */
static int64_t entry_time(const json_t *o)
{
	const char *at = json_string_value(json_object_get(o, "started_at"));
	json_t *ns = json_object_get(o, "started_ns");
	int64_t v;

	if (json_is_integer(ns))
		return json_integer_value(ns);
	if (at && records_parse_time(at, &v) == 0)
		return v;
	return INT64_MIN;
}

/* Whether o is a run record: what show and list require of a file. NULL, or the problem. */
static const char *record_problem(const json_t *o)
{
	if (!json_is_object(o))
		return "not a JSON object";
	if (!json_is_integer(json_object_get(o, "record_version")))
		return "no integer record_version";
	if (!json_is_string(json_object_get(o, "run_id")))
		return "no string run_id";
	if (!json_is_object(json_object_get(o, "exit")) ||
	    !json_is_integer(json_object_get(json_object_get(o, "exit"), "code")) ||
	    !json_is_string(json_object_get(json_object_get(o, "exit"), "cause")))
		return "no exit object with code and cause";
	return NULL;
}

/* Reads and checks one record file of dir_fd into e. */
static void entry_load(int dir_fd, struct entry *e)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	json_error_t err;
	const char *problem;
	size_t len = 0;
	int r;

	e->ns = INT64_MIN;
	fd = openat(dir_fd, e->file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		r = -errno;
	else if (fstat(fd, &st) < 0)
		r = -errno;
	else /* never a FIFO, waited on or read empty */
		r = S_ISREG(st.st_mode) ? read_file_fd(fd, RECORD_MAX_BYTES, &buf, &len) : -EBADFD;
	if (r < 0) {
		snprintf(e->error, sizeof(e->error), "%s",
			 r == -EBADFD ? "not a regular file" : strerror(-r));
		return;
	}
	e->o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!e->o) {
		snprintf(e->error, sizeof(e->error), "line %d: %s", err.line, err.text);
		return;
	}
	problem = record_problem(e->o);
	if (problem) {
		snprintf(e->error, sizeof(e->error), "%s", problem);
		json_decref(e->o);
		e->o = NULL;
		return;
	}
	e->ns = entry_time(e->o);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	return strcmp(x->file, y->file); /* the run id: time, then random */
}

static bool digest_matches(const json_t *o, const char *want)
{
	const char *d = json_string_value(json_object_get(json_object_get(o, "policy"), "digest"));

	if (!d)
		return false;
	if (!strneq(want, "sha256:", 7) && strneq(d, "sha256:", 7))
		d += 7;
	return streq(d, want);
}

/* A run in progress: its record's exit code (0) is no exit status yet. */
static bool is_running(const json_t *exit_o)
{
	const char *cause = json_string_value(json_object_get(exit_o, "cause"));

	return cause && streq(cause, "running");
}

/* Whether f lets e through. A record that could not be read is always shown. */
static bool entry_wanted(const struct entry *e, const struct records_filter *f)
{
	const json_t *exit_o;

	if (!e->o)
		return true;
	exit_o = json_object_get(e->o, "exit");
	if (f->has_since && (e->ns == INT64_MIN || e->ns < f->since_ns))
		return false;
	if (f->has_until && (e->ns == INT64_MIN || e->ns >= f->until_ns))
		return false;
	if (f->cause && !streq(json_string_value(json_object_get(exit_o, "cause")), f->cause))
		return false;
	if (f->has_exit && (is_running(exit_o) ||
			    json_integer_value(json_object_get(exit_o, "code")) != f->exit_code))
		return false;
	if (f->digest && !digest_matches(e->o, f->digest))
		return false;
	return true;
}

/*
 * len bytes of s as text that cannot act on a terminal, at most FIELD_MAX of them ("..."
 * marks a cut): the neutraliser's rendering, with newline, tab and carriage return as
 * "\xHH" too, so that one record stays one line.
 */
static void field_text(const char *s, size_t len, char *out, size_t size)
{
	struct neutralise nz;
	size_t n = 0, cut = len > FIELD_MAX ? FIELD_MAX : len;

	assert(size >= NEUTRALISE_MAX_OUT(FIELD_MAX) * 2 + 8);
	neutralise_init(&nz);
	for (size_t i = 0; i < cut; i++) {
		if (s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
			n += neutralise_finish(&nz, out + n);
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", (unsigned char)s[i]);
		} else
			n += neutralise_feed(&nz, s + i, 1, out + n);
	}
	n += neutralise_finish(&nz, out + n);
	if (cut < len)
		n += (size_t)snprintf(out + n, size - n, "...");
	out[n] = '\0';
}

/* A record value (a string, or a byte string's object form) as field_text(). */
static void value_text(const json_t *v, char *out, size_t size)
{
	_cleanup_free_ char *bytes = NULL;
	size_t len = 0;

	if (record_json_bytes_decode(v, &bytes, &len) < 0)
		field_text("?", 1, out, size);
	else
		field_text(bytes, len, out, size);
}

#define TEXT_SIZE (NEUTRALISE_MAX_OUT(FIELD_MAX) * 2 + 8)

static void print_row(const struct entry *e)
{
	char id[TEXT_SIZE], at[TEXT_SIZE], name[TEXT_SIZE], cause[TEXT_SIZE], cmd[TEXT_SIZE];
	const json_t *exit_o;

	if (!e->o) {
		field_text(e->file, strlen(e->file), id, sizeof(id));
		field_text(e->error, strlen(e->error), cause, sizeof(cause));
		printf("%-26s (unreadable record: %s)\n", id, cause);
		return;
	}
	exit_o = json_object_get(e->o, "exit");
	value_text(json_object_get(e->o, "run_id"), id, sizeof(id));
	value_text(json_object_get(e->o, "started_at"), at, sizeof(at));
	if (json_object_get(json_object_get(e->o, "policy"), "name"))
		value_text(json_object_get(json_object_get(e->o, "policy"), "name"), name,
			   sizeof(name));
	else
		field_text("-", 1, name, sizeof(name)); /* a policy that did not parse */
	value_text(json_object_get(exit_o, "cause"), cause, sizeof(cause));
	value_text(json_array_get(json_object_get(e->o, "command"), 0), cmd, sizeof(cmd));
	if (is_running(exit_o))
		printf("%-26s %-24s %-16s %4s %-12s %s\n", id, at, name, "-", cause, cmd);
	else
		printf("%-26s %-24s %-16s %4d %-12s %s\n", id, at, name,
		       (int)json_integer_value(json_object_get(exit_o, "code")), cause, cmd);
}

/* The same as one JSON line: values as recorded, every non-ASCII character escaped. */
static int print_json(const struct entry *e)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ char *text = NULL;
	const json_t *exit_o = json_object_get(e->o, "exit"), *p;

	if (!e->o)
		o = json_pack("{s:o, s:s}", "file", record_json_bytes(e->file), "error", e->error);
	else {
		p = json_object_get(e->o, "policy");
		o = json_pack("{s:O, s:O*, s:O*, s:O*, s:O*, s:O, s:O, s:O*, s:O*}", "run_id",
			      json_object_get(e->o, "run_id"), "started_at",
			      json_object_get(e->o, "started_at"), "started_ns",
			      json_object_get(e->o, "started_ns"), "policy",
			      json_object_get(p, "name"), "digest", json_object_get(p, "digest"),
			      "code", json_object_get(exit_o, "code"), "cause",
			      json_object_get(exit_o, "cause"), "reason",
			      json_object_get(exit_o, "reason"), "command",
			      json_object_get(e->o, "command"));
	}
	text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_SORT_KEYS) : NULL;
	if (!text)
		return log_oom();
	puts(text);
	return 0;
}

/* Reads every "*.json" of dir_fd into *ret (sorted); returns how many, or -errno. */
static int load_all(int dir_fd, struct entry **ret)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct entry *v = NULL, *nv;
	struct dirent *de;
	size_t n = 0;

	d = opendir_dup(dir_fd);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 6 || !streq(de->d_name + l - 5, ".json") || de->d_name[0] == '.')
			continue;
		nv = reallocarray(v, n + 1, sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n] = (struct entry){ .file = strdup(de->d_name) };
		if (!v[n].file)
			break;
		entry_load(dir_fd, &v[n++]);
	}
	qsort(v, n, sizeof(*v), entry_cmp);
	*ret = v;
	return (int)n;
}

int records_list(const char *state_dir, const struct records_filter *f)
{
	_cleanup_close_ int dir_fd = -EBADF;
	_cleanup_free_ struct entry *v = NULL;
	_cleanup_free_ size_t *sel = NULL;
	char dir[PATH_MAX];
	size_t n_sel = 0, first = 0, skip;
	int n, ret = 0;

	snprintf(dir, sizeof(dir), "%s/records", state_dir);
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* No run yet lists nothing; a state directory that is not there is a typo. */
	if (dir_fd < 0 && errno == ENOENT && access(state_dir, F_OK) == 0)
		return 0;
	if (dir_fd < 0 && errno == ENOENT)
		return log_error_errno(-ENOENT, "records: no state directory '%s'", state_dir), 1;
	if (dir_fd < 0)
		return log_error_errno(-errno, "records: Failed to open '%s': %m", dir), 1;
	n = load_all(dir_fd, &v);
	if (n < 0)
		return log_error_errno(n, "records: Failed to read '%s': %m", dir), 1;
	sel = calloc((size_t)n + 1, sizeof(*sel));
	if (!sel)
		return log_oom(), 1;
	/* Unreadable records sort first, and are always listed: --limit counts the others. */
	for (int i = 0; i < n; i++)
		if (entry_wanted(&v[i], f))
			sel[n_sel++] = (size_t)i;
	while (first < n_sel && !v[sel[first]].o)
		first++;
	skip = f->limit && n_sel - first > f->limit ? n_sel - first - f->limit : 0;
	if (!f->json)
		printf("%-26s %-24s %-16s %4s %-12s %s\n", "RUN", "STARTED", "POLICY", "EXIT",
		       "CAUSE", "COMMAND");
	for (size_t i = 0; i < n_sel; i++) {
		const struct entry *e = &v[sel[i]];

		if (i >= first && i < first + skip)
			continue;
		if (!e->o)
			ret = 1;
		if (f->json ? print_json(e) < 0 : (print_row(e), false))
			ret = 1;
	}
	for (int i = 0; i < n; i++) {
		free(v[i].file);
		json_decref(v[i].o);
	}
	return ret;
}

/* Run ids are "<UTC timestamp>-<hex>": [0-9A-Za-z-] only, so no path tricks. */
static bool run_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64)
		return false;
	return strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == n;
}

/*
 * A record as stored, through the neutraliser: valid JSON holds no raw C0 control, but may
 * hold C1 controls and bidirectional overrides as UTF-8, which act on some terminals.
 */
static int print_neutralised(const char *buf, size_t len)
{
	char out[NEUTRALISE_MAX_OUT(4096)];
	struct neutralise nz;
	size_t n;

	neutralise_init(&nz);
	for (size_t off = 0; off < len; off += n) {
		n = len - off < 4096 ? len - off : 4096;
		fwrite(out, 1, neutralise_feed(&nz, buf + off, n, out), stdout);
	}
	fwrite(out, 1, neutralise_finish(&nz, out), stdout);
	if (len && buf[len - 1] != '\n')
		putchar('\n');
	return 0;
}

int records_show(const char *state_dir, const char *id)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];
	const char *problem;
	json_error_t err;
	size_t len = 0;
	int r;

	if (!run_id_valid(id)) {
		log_error("records: '%s' is not a run id", id);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/records/%s.json", state_dir, id);
	/* Worded as records logs and events word it. */
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		log_error("records: no run '%s' in '%s'", id, state_dir);
		return 1;
	}
	/* A regular file only, never waited on: a FIFO there is planted (as verify reads it). */
	r = chain_read_file_at(AT_FDCWD, path, RECORD_MAX_BYTES, &buf, &len);
	if (r == -EBADFD) {
		log_error("records: %s: not a valid run record: not a regular file", path);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "Failed to read '%s': %m", path);
		return 1;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (!o) {
		char why[TEXT_SIZE];

		/* jansson quotes the file's bytes ("near '\x1b'"): escaped as list does */
		field_text(err.text, strlen(err.text), why, sizeof(why));
		log_error("records: %s: not a valid run record: line %d: %s", path, err.line, why);
		return 1;
	}
	problem = record_problem(o);
	if (problem) {
		log_error("records: %s: not a valid run record: %s", path, problem);
		return 1;
	}
	return print_neutralised(buf, len);
}
