/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of supervisor/run-log.c, the captured logs' sink, below a private temporary
 * directory: files and modes, the cap and each marker line, what the record says (size and
 * SHA-256 of the file as written), removal of a refused run's logs, and the reaper's view
 * of a dead run's logs.
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
#include "run-log.h"
#include "sha256.h"
#include "test.h"

#define RUN_ID "20260101T000000Z-0123abcd"

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf_tmp(char **dir)
{
	if (!*dir)
		return;
	if (strneq(*dir, "/tmp/airlock-test-run-log.", 26))
		(void)nftw(*dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*dir);
}

/* A fresh state directory: its path in *ret_path and an fd on it, or -errno. */
static int make_state(char **ret_path)
{
	char *dir = strdup("/tmp/airlock-test-run-log.XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -ENOMEM;
	}
	*ret_path = dir;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static char *read_log(const char *state, const char *stream, size_t *ret_len)
{
	char path[512];
	char *buf = NULL;

	snprintf(path, sizeof(path), "%s/logs/" RUN_ID ".%s", state, stream);
	if (read_file_at(AT_FDCWD, path, 1 << 20, &buf, ret_len) < 0)
		return NULL;
	return buf;
}

static void hex_sha256(const char *buf, size_t len, char hex[65])
{
	uint8_t md[SHA256_DIGEST_SIZE];

	sha256(buf, len, md);
	hex_encode(md, sizeof(md), hex);
}

TEST(files_and_record)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *out = NULL, *err = NULL, *dump = NULL;
	struct run_log *l = NULL;
	char path[512], hex[65];
	struct stat st;
	json_t *j, *o;
	size_t len;

	fd = make_state(&state);
	ASSERT_TRUE(fd >= 0);
	/* A looser logs directory of ours is tightened. */
	snprintf(path, sizeof(path), "%s/logs", state);
	ASSERT_OK(mkdir(path, 0755));
	ASSERT_OK(run_log_open(fd, state, RUN_ID, 1024, &l));
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/logs/" RUN_ID ".stdout", state);
	ASSERT_OK(stat(path, &st));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	/* New files only: the same run cannot open its logs twice. */
	ASSERT_ERROR(run_log_open(fd, state, RUN_ID, 1024, &(struct run_log *){ NULL }), EEXIST);

	ASSERT_TRUE(run_log_is_capturing(l, RUN_LOG_STDOUT));
	ASSERT_FALSE(run_log_is_capturing(NULL, RUN_LOG_STDOUT));
	run_log_write(l, RUN_LOG_STDOUT, "hello ", 6);
	run_log_write(l, RUN_LOG_STDOUT, "world", 5);
	run_log_write(l, RUN_LOG_STDERR, "", 0);
	run_log_write(NULL, RUN_LOG_STDOUT, "ignored", 7);

	/* Before the end, the record names the files only. */
	j = run_log_to_json(l);
	ASSERT_TRUE(j != NULL);
	ASSERT_STREQ(json_string_value(json_object_get(j, "max_size")), "1K");
	o = json_object_get(j, "stdout");
	ASSERT_STREQ(json_string_value(json_object_get(o, "path")), path);
	ASSERT_TRUE(json_object_get(o, "size") == NULL);
	json_decref(j);

	run_log_finish(l);
	run_log_finish(l); /* once is enough */
	out = read_log(state, "stdout", &len);
	ASSERT_TRUE(out != NULL);
	ASSERT_STREQ(out, "hello world");
	err = read_log(state, "stderr", &len);
	ASSERT_EQ(len, 0);

	j = run_log_to_json(l);
	o = json_object_get(j, "stdout");
	ASSERT_EQ(json_integer_value(json_object_get(o, "size")), 11);
	hex_sha256("hello world", 11, hex);
	ASSERT_STREQ(json_string_value(json_object_get(o, "sha256")), hex);
	ASSERT_TRUE(json_is_false(json_object_get(o, "truncated")));
	ASSERT_TRUE(json_object_get(o, "truncated_by") == NULL);
	o = json_object_get(j, "stderr");
	ASSERT_STREQ(json_string_value(json_object_get(o, "sha256")),
		     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	dump = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	ASSERT_TRUE(dump != NULL);
	run_log_free(l);
	/* The files stay. */
	ASSERT_OK(stat(path, &st));
}

TEST(cap_and_markers)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct run_log *l = NULL;
	char hex[65];
	json_t *j, *o;
	size_t len;

	fd = make_state(&state);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(run_log_open(fd, state, RUN_ID, 8, &l));
	/* Up to the cap, then a marker on a line of its own. */
	run_log_write(l, RUN_LOG_STDOUT, "12345", 5);
	run_log_write(l, RUN_LOG_STDOUT, "6789", 4);
	ASSERT_FALSE(run_log_is_capturing(l, RUN_LOG_STDOUT));
	run_log_write(l, RUN_LOG_STDOUT, "more", 4);
	/* Exactly full is not cut; a line end before the marker adds no blank line. */
	run_log_write(l, RUN_LOG_STDERR, "a\nb\nc\nd\n", 8);
	ASSERT_TRUE(run_log_is_capturing(l, RUN_LOG_STDERR));
	run_log_cut(l, RUN_LOG_STDERR, RUN_LOG_CUT_OUTPUT);
	run_log_cut(l, RUN_LOG_STDERR, RUN_LOG_CUT_DRAIN); /* the first reason wins */
	run_log_cut(l, RUN_LOG_STDOUT, RUN_LOG_CUT_OUTPUT); /* after max_size: stays */
	run_log_finish(l);

	out = read_log(state, "stdout", &len);
	ASSERT_STREQ(out, "12345678\n[airlock: log truncated at logs.max_size (8)]\n");
	err = read_log(state, "stderr", &len);
	ASSERT_STREQ(err, "a\nb\nc\nd\n[airlock: log truncated: the output limit was reached "
			  "(limits.output)]\n");
	j = run_log_to_json(l);
	o = json_object_get(j, "stdout");
	ASSERT_TRUE(json_is_true(json_object_get(o, "truncated")));
	ASSERT_STREQ(json_string_value(json_object_get(o, "truncated_by")), "max_size");
	ASSERT_EQ(json_integer_value(json_object_get(o, "size")), (json_int_t)strlen(out));
	hex_sha256(out, strlen(out), hex);
	ASSERT_STREQ(json_string_value(json_object_get(o, "sha256")), hex);
	o = json_object_get(j, "stderr");
	ASSERT_STREQ(json_string_value(json_object_get(o, "truncated_by")), "output_limit");
	hex_sha256(err, strlen(err), hex);
	ASSERT_STREQ(json_string_value(json_object_get(o, "sha256")), hex);
	json_decref(j);
	run_log_free(l);
}

TEST(drain_marker_and_empty)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *out = NULL, *err = NULL;
	struct run_log *l = NULL;
	size_t len;

	fd = make_state(&state);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(run_log_open(fd, state, RUN_ID, 1024, &l));
	run_log_write(l, RUN_LOG_STDOUT, "partial", 7);
	run_log_cut(l, RUN_LOG_STDOUT, RUN_LOG_CUT_DRAIN);
	/* A log cut before anything was kept: the marker alone. */
	run_log_cut(l, RUN_LOG_STDERR, RUN_LOG_CUT_OUTPUT);
	run_log_finish(l);
	out = read_log(state, "stdout", &len);
	ASSERT_STREQ(out, "partial\n[airlock: log truncated: the end of the output was dropped, "
			  "its reader did not take it in time]\n");
	err = read_log(state, "stderr", &len);
	ASSERT_STREQ(err, "[airlock: log truncated: the output limit was reached "
			  "(limits.output)]\n");
	run_log_free(l);
}

TEST(discard)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct run_log *l = NULL;
	char path[512];
	int r;

	fd = make_state(&state);
	ASSERT_TRUE(fd >= 0);
	ASSERT_ERROR(run_log_open(fd, state, RUN_ID, 0, &l), EINVAL);
	ASSERT_OK(run_log_open(fd, state, RUN_ID, 1024, &l));
	ASSERT_TRUE(run_log_discard(l) == NULL);
	snprintf(path, sizeof(path), "%s/logs/" RUN_ID ".stdout", state);
	ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/logs/" RUN_ID ".stderr", state);
	ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);
	/* A logs entry that is a symbolic link is not followed. */
	snprintf(path, sizeof(path), "%s/logs", state);
	ASSERT_OK(rmdir(path));
	ASSERT_OK(symlink("/tmp", path));
	r = run_log_open(fd, state, RUN_ID, 1024, &l);
	ASSERT_TRUE(r == -ELOOP || r == -ENOTDIR);
}

TEST(reap)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct run_log *l = NULL;
	json_t *rec, *o;
	char path[512], hex[65];

	fd = make_state(&state);
	ASSERT_TRUE(fd >= 0);
	/* No logs directory: nothing found, nothing created. */
	rec = json_pack("{s:{s:s}}", "exit", "cause", "aborted");
	ASSERT_EQ(run_log_reap(state, RUN_ID, rec), 0);
	ASSERT_TRUE(json_object_get(rec, "logs") == NULL);

	/* A dead run's logs, as its "running" record named them. */
	ASSERT_OK(run_log_open(fd, state, RUN_ID, 1024, &l));
	run_log_write(l, RUN_LOG_STDOUT, "before-kill\n", 12);
	json_object_set_new(rec, "logs", run_log_to_json(l));
	l = run_log_free(l); /* the supervisor died: no finish */
	ASSERT_EQ(run_log_reap(state, RUN_ID, rec), 2);
	o = json_object_get(json_object_get(rec, "logs"), "stdout");
	ASSERT_EQ(json_integer_value(json_object_get(o, "size")), 12);
	hex_sha256("before-kill\n", 12, hex);
	ASSERT_STREQ(json_string_value(json_object_get(o, "sha256")), hex);
	ASSERT_STREQ(json_string_value(json_object_get(json_object_get(rec, "logs"), "max_size")),
		     "1K");
	ASSERT_EQ(json_integer_value(json_object_get(
			  json_object_get(json_object_get(rec, "logs"), "stderr"), "size")),
		  0);
	json_decref(rec);

	/* A relative state directory resolves nowhere sure: nothing is read. */
	rec = json_object();
	ASSERT_EQ(run_log_reap("relative/state", RUN_ID, rec), 0);
	json_decref(rec);

	/* A run that died before its record: only empty logs go. */
	run_log_reap_unrecorded(state, RUN_ID);
	snprintf(path, sizeof(path), "%s/logs/" RUN_ID ".stdout", state);
	ASSERT_OK(access(path, F_OK));
	snprintf(path, sizeof(path), "%s/logs/" RUN_ID ".stderr", state);
	ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);
}

/* A log past RUN_LOG_DIGEST_SWITCH is hashed by libcrypto from there (when it loads): the
 * digest is still the file's, also when the switch falls inside a write. */
TEST(large_log_digest)
{
	_cleanup_(rm_rf_tmp) char *state = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *chunk = malloc(65537), *out = NULL;
	struct run_log *l = NULL;
	char path[512], hex[65];
	size_t len;
	json_t *j;

	ASSERT_TRUE(chunk != NULL);
	for (size_t i = 0; i < 65537; i++)
		chunk[i] = (char)('a' + i % 23);
	fd = make_state(&state);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(run_log_open(fd, state, RUN_ID, 8 << 20, &l));
	for (int i = 0; i < 48; i++) /* 3 MiB and 48 bytes: the switch is mid-write */
		run_log_write(l, RUN_LOG_STDOUT, chunk, 65537);
	run_log_write(l, RUN_LOG_STDERR, chunk, 100);
	run_log_finish(l);

	snprintf(path, sizeof(path), "%s/logs/" RUN_ID ".stdout", state);
	ASSERT_OK(read_file_at(AT_FDCWD, path, 8 << 20, &out, &len));
	ASSERT_EQ(len, (size_t)48 * 65537);
	j = run_log_to_json(l);
	hex_sha256(out, len, hex);
	ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "stdout"), "sha256")),
		     hex);
	hex_sha256(chunk, 100, hex);
	ASSERT_STREQ(json_string_value(json_object_get(json_object_get(j, "stderr"), "sha256")),
		     hex);
	json_decref(j);
	run_log_free(l);
}

TEST(stream_names)
{
	ASSERT_STREQ(run_log_stream_to_string(RUN_LOG_STDERR), "stderr");
	ASSERT_TRUE(run_log_stream_to_string(_RUN_LOG_STREAM_MAX) == NULL);
	ASSERT_EQ(run_log_stream_from_string("stdout"), RUN_LOG_STDOUT);
	ASSERT_EQ(run_log_stream_from_string("stdin"), _RUN_LOG_STREAM_INVALID);
	ASSERT_EQ(run_log_stream_from_string(NULL), _RUN_LOG_STREAM_INVALID);
}

TEST_MAIN()
