/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of supervisor/run-events.c and run-events-verify.c: the lines and their chain,
 * the caps and the marker, the file and what the record says of it, and the verification
 * of a log with a line removed, changed, moved or added, each found and named.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "parse-util.h"
#include "run-events.h"
#include "sha256.h"
#include "test.h"

#define RUN_ID "20260101T000000Z-0123abcd"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct run_events *, run_events_free);

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf_tmp(char **dir)
{
	if (!*dir)
		return;
	if (strneq(*dir, "/tmp/airlock-test-run-events.", 29))
		(void)nftw(*dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*dir);
}

struct found {
	size_t n;
	size_t line[8];
	char what[8][160];
};

static void collect(const struct run_events_problem *p, void *userdata)
{
	struct found *f = userdata;

	if (f->n < ELEMENTSOF(f->line)) {
		f->line[f->n] = p->line;
		snprintf(f->what[f->n], sizeof(f->what[0]), "%s", p->what);
	}
	f->n++;
}

/* A log of three events: run_start, dns, task_exit. */
static struct run_events *three(void)
{
	struct run_events *e = NULL;

	if (run_events_new(RUN_ID, &e) < 0)
		return NULL;
	if (run_events_add(e, "run_start", json_pack("{s:s}", "policy", "sha256:00")) != 0 ||
	    run_events_add(e, "dns",
			   json_pack("{s:s, s:[s]}", "name", "a.example.com", "addresses",
				     "192.0.2.1")) != 0 ||
	    run_events_add(e, "task_exit", json_pack("{s:i}", "code", 0)) != 0)
		return run_events_free(e);
	return e;
}

/* The log's text with fn applied, verified against what the record said of the original. */
static size_t verify_edited(struct run_events *e, char *(*fn)(const char *, size_t),
			    struct found *f)
{
	_cleanup_(json_decrefp) json_t *rec = run_events_to_json(e);
	_cleanup_free_ char *text = NULL;
	struct run_events_expect x = {};
	size_t len;
	const char *orig = run_events_text(e, &len);

	text = fn(orig, len);
	x.head = json_string_value(json_object_get(rec, "head"));
	x.lines = (uint64_t)json_integer_value(json_object_get(rec, "lines"));
	x.has_lines = true;
	*f = (struct found){};
	return run_events_verify(text, strlen(text), RUN_ID, &x, 8, collect, f);
}

static char *same(const char *s, size_t n)
{
	return strndup(s, n);
}

/* Line k (1-based) of s, with its newline, as a new string. */
static char *line_of(const char *s, int k)
{
	for (int i = 1; i < k; i++)
		s = strchr(s, '\n') + 1;
	return strndup(s, (size_t)(strchr(s, '\n') - s + 1));
}

static char *drop_second(const char *s, size_t n)
{
	_cleanup_free_ char *a = line_of(s, 1), *c = line_of(s, 3);
	char *r = NULL;

	return asprintf(&r, "%s%s", a, c) < 0 ? NULL : r;
}

static char *swap_second_third(const char *s, size_t n)
{
	_cleanup_free_ char *a = line_of(s, 1), *b = line_of(s, 2), *c = line_of(s, 3);
	char *r = NULL;

	return asprintf(&r, "%s%s%s", a, c, b) < 0 ? NULL : r;
}

static char *drop_last(const char *s, size_t n)
{
	_cleanup_free_ char *a = line_of(s, 1), *b = line_of(s, 2);
	char *r = NULL;

	return asprintf(&r, "%s%s", a, b) < 0 ? NULL : r;
}

static char *keep_first(const char *s, size_t n)
{
	return line_of(s, 1);
}

/* One digit of the first line's address changed: still valid JSON, same seq. */
static char *edit_first(const char *s, size_t n)
{
	char *r = strndup(s, n);
	char *p = strstr(r, "sha256:00");

	p[8] = '1';
	return r;
}

static char *edit_last(const char *s, size_t n)
{
	char *r = strndup(s, n);
	char *p = strstr(r, "\"code\":0");

	p[7] = '1';
	return r;
}

static char *add_line(const char *s, size_t n)
{
	_cleanup_free_ char *c = line_of(s, 3);
	char *r = NULL;

	return asprintf(&r, "%.*s%s", (int)n, s, c) < 0 ? NULL : r;
}

TEST(lines_and_chain)
{
	_cleanup_(run_events_freep) struct run_events *e = three();
	_cleanup_free_ char *first = NULL;
	char want[RUN_EVENTS_HASH_LEN];
	uint8_t md[SHA256_DIGEST_SIZE];
	json_t *o;
	size_t len;
	const char *text;

	ASSERT_TRUE(e);
	text = run_events_text(e, &len);
	first = line_of(text, 1);
	ASSERT_TRUE(strneq(first, "{\"seq\":1,\"time\":\"", 17));
	ASSERT_CONTAINS(first, "\"type\":\"run_start\",\"policy\":\"sha256:00\",\"prev\":\"");
	sha256(RUN_ID, strlen(RUN_ID), md);
	hex_encode(md, sizeof(md), want);
	ASSERT_CONTAINS(first, want);
	/* The record: the last line's hash, the count, the file's digest. */
	o = run_events_to_json(e);
	ASSERT_EQ(json_integer_value(json_object_get(o, "lines")), 3);
	ASSERT_EQ(json_integer_value(json_object_get(o, "bytes")), len);
	sha256(text, len, md);
	hex_encode(md, sizeof(md), want);
	ASSERT_STREQ(json_string_value(json_object_get(o, "sha256")), want);
	json_decref(o);
}

TEST(bad_fields)
{
	_cleanup_(run_events_freep) struct run_events *e = NULL;
	size_t len;

	ASSERT_OK(run_events_new(RUN_ID, &e));
	ASSERT_ERROR(run_events_add(e, "x", json_pack("{s:i}", "seq", 3)), EINVAL);
	ASSERT_ERROR(run_events_add(e, "x", json_pack("{s:s}", "prev", "0")), EINVAL);
	ASSERT_ERROR(run_events_add(e, "x", json_pack("[i]", 1)), EINVAL);
	ASSERT_ERROR(run_events_add(e, "x", NULL), ENOMEM);
	ASSERT_TRUE(run_events_text(e, &len) == NULL && len == 0);
}

TEST(verify_untouched)
{
	_cleanup_(run_events_freep) struct run_events *e = three();
	struct found f;

	ASSERT_EQ(verify_edited(e, same, &f), 0);
	ASSERT_EQ(run_events_verify("", 0, RUN_ID, NULL, 8, collect, &f), 0);
}

TEST(verify_removed)
{
	_cleanup_(run_events_freep) struct run_events *e = three();
	struct found f;

	ASSERT_TRUE(verify_edited(e, drop_second, &f) >= 1);
	ASSERT_EQ(f.line[0], 2);
	ASSERT_CONTAINS(f.what[0], "seq 3 follows seq 1");
}

TEST(verify_changed)
{
	_cleanup_(run_events_freep) struct run_events *e = three();
	struct found f;

	ASSERT_EQ(verify_edited(e, edit_first, &f), 1);
	ASSERT_EQ(f.line[0], 2);
	ASSERT_CONTAINS(f.what[0], "line 1 was changed");
	ASSERT_EQ(verify_edited(e, edit_last, &f), 1);
	ASSERT_EQ(f.line[0], 3);
	ASSERT_CONTAINS(f.what[0], "record's head");
}

TEST(verify_moved_cut_added)
{
	_cleanup_(run_events_freep) struct run_events *e = three();
	struct found f;

	ASSERT_TRUE(verify_edited(e, swap_second_third, &f) >= 1);
	ASSERT_EQ(f.line[0], 2);
	ASSERT_CONTAINS(f.what[0], "seq 3 follows seq 1");
	ASSERT_EQ(verify_edited(e, drop_last, &f), 1);
	ASSERT_EQ(f.line[0], 0);
	ASSERT_CONTAINS(f.what[0], "2 lines, its record says 3");
	ASSERT_EQ(verify_edited(e, keep_first, &f), 1);
	ASSERT_CONTAINS(f.what[0], "the log has 1 line, its record says 3");
	ASSERT_TRUE(verify_edited(e, add_line, &f) >= 1);
	ASSERT_EQ(f.line[0], 4);
	/* Without the record, a cut tail is invisible; a line without its newline is not. */
	f = (struct found){};
	ASSERT_EQ(run_events_verify("{\"seq\":1", 8, RUN_ID, NULL, 8, collect, &f), 1);
	ASSERT_CONTAINS(f.what[0], "no newline");
}

TEST(caps_and_marker)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_(run_events_freep) struct run_events *e = NULL;
	_cleanup_(json_decrefp) json_t *o = NULL;
	struct found f = {};
	struct run_events_expect x = { .has_lines = true };
	const char *text, *last;
	size_t len;
	int r = 0, i;

	ASSERT_OK(run_events_new(RUN_ID, &e));
	for (i = 0; i < RUN_EVENTS_MAX_LINES + 10 && r == 0; i++)
		r = run_events_add(e, "dns", json_pack("{s:i}", "n", i));
	ASSERT_EQ(r, 1);
	ASSERT_EQ(i, RUN_EVENTS_MAX_LINES - 1); /* two lines kept for the end */
	ASSERT_EQ(run_events_add(e, "denied", json_pack("{s:i}", "n", i)), 1);
	ASSERT_EQ(run_events_add(e, "task_exit", json_pack("{s:i}", "code", 0)), 0);
	state = strdup("/tmp/airlock-test-run-events.XXXXXX");
	ASSERT_TRUE(state && mkdtemp(state));
	fd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(run_events_write(e, fd, state));
	text = run_events_text(e, &len);
	last = text + len - 1;
	while (last > text && last[-1] != '\n')
		last--;
	ASSERT_TRUE(strneq(last, "{\"seq\":4096,", 12));
	ASSERT_CONTAINS(last, "\"type\":\"events_dropped\",\"dropped\":2,");
	o = run_events_to_json(e);
	ASSERT_EQ(json_integer_value(json_object_get(o, "lines")), RUN_EVENTS_MAX_LINES);
	ASSERT_EQ(json_integer_value(json_object_get(o, "dropped")), 2);
	x.lines = RUN_EVENTS_MAX_LINES;
	x.head = json_string_value(json_object_get(o, "head"));
	ASSERT_EQ(run_events_verify(text, len, RUN_ID, &x, 8, collect, &f), 0);
}

TEST(write_file)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_(run_events_freep) struct run_events *e = three();
	_cleanup_close_ int fd = -EBADF;
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ char *buf = NULL;
	char path[512];
	struct stat st;
	const char *text;
	size_t len, got;

	state = strdup("/tmp/airlock-test-run-events.XXXXXX");
	ASSERT_TRUE(state && mkdtemp(state));
	fd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0 && e);
	ASSERT_OK(run_events_write(e, fd, state));
	ASSERT_ERROR(run_events_write(e, fd, state), ESTALE);
	ASSERT_ERROR(run_events_add(e, "x", json_object()), ESTALE);

	snprintf(path, sizeof(path), "%s/events", state);
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/events/" RUN_ID ".jsonl", state);
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_OK(read_file_at(AT_FDCWD, path, 1 << 20, &buf, &got));
	text = run_events_text(e, &len);
	ASSERT_EQ(got, len);
	ASSERT_TRUE(memcmp(buf, text, len) == 0);
	o = run_events_to_json(e);
	ASSERT_STREQ(json_string_value(json_object_get(o, "path")), path);
	ASSERT_FALSE(json_object_get(o, "error"));

	/* A second run of the same id never overwrites the file: the write fails, said. */
	run_events_free(TAKE_PTR(e));
	e = three();
	ASSERT_ERROR(run_events_write(e, fd, state), EEXIST);
	json_decref(o);
	o = run_events_to_json(e);
	ASSERT_STREQ(json_string_value(json_object_get(o, "error")), "File exists");
}

TEST(open_then_write)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_(run_events_freep) struct run_events *e = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL, *buf2 = NULL;
	char path[512];
	const char *text;
	size_t len, got;

	state = strdup("/tmp/airlock-test-run-events.XXXXXX");
	ASSERT_TRUE(state && mkdtemp(state));
	fd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(run_events_new(RUN_ID, &e));
	ASSERT_EQ(run_events_add(e, "run_start", json_pack("{s:s}", "workspace", "/w")), 0);
	ASSERT_OK(run_events_open(e, fd, state));
	ASSERT_ERROR(run_events_open(e, fd, state), ESTALE);
	/* The file holds the lines so far: what a dead supervisor leaves. */
	snprintf(path, sizeof(path), "%s/events/" RUN_ID ".jsonl", state);
	ASSERT_OK(read_file_at(AT_FDCWD, path, 1 << 20, &buf, &got));
	text = run_events_text(e, &len);
	ASSERT_TRUE(got == len && memcmp(buf, text, len) == 0);
	ASSERT_EQ(run_events_add(e, "task_exit", json_pack("{s:i}", "code", 0)), 0);
	ASSERT_OK(run_events_write(e, fd, state));
	ASSERT_OK(read_file_at(AT_FDCWD, path, 1 << 20, &buf2, &got));
	text = run_events_text(e, &len);
	ASSERT_TRUE(got == len && memcmp(buf2, text, len) == 0);
	ASSERT_EQ(run_events_verify(buf2, got, RUN_ID, NULL, 8, NULL, NULL), 0);
}

TEST_MAIN()
