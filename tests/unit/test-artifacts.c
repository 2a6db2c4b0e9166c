/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checked export (supervisor/artifacts/): the pure parts (name escaping, globs, cap
 * accounting, the manifest's JSON) and export_tree() over a tree in a temporary directory
 * (no root needed: the owner is the test's own uid).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "export.h"
#include "fd-util.h"
#include "macro.h"
#include "parse-util.h"
#include "redact.h"
#include "sha256.h"
#include "test.h"

static void check_escape(bool *test_failed_, const char *raw, const char *want)
{
	_cleanup_free_ char *s = NULL, *back = NULL;

	ASSERT_OK(export_name_escape(raw, &s));
	ASSERT_STREQ(s, want);
	ASSERT_OK(export_name_unescape(s, &back));
	ASSERT_STREQ(back, raw);
}

TEST(name_escape)
{
	check_escape(test_failed_, "plain-name.txt", "plain-name.txt");
	check_escape(test_failed_, "a b", "a b");
	check_escape(test_failed_, "back\\slash", "back\\\\slash");
	check_escape(test_failed_, "new\nline", "new\\x0aline");
	check_escape(test_failed_, "\x01\x1f\x7f", "\\x01\\x1f\\x7f");
	check_escape(test_failed_, "\xc3\xa9", "\\xc3\\xa9");
	check_escape(test_failed_, "\xff\xfe", "\\xff\\xfe");
	check_escape(test_failed_, "dir/x\\x41",
		     "dir/x\\\\x41"); /* a literal "\x41" stays distinct */
	check_escape(test_failed_, "", "");
}

TEST(name_unescape_refuses)
{
	/* Only what export_name_escape() writes: lower-case "\xHH", "\\", never a NUL. */
	static const char *const bad[] = { "a\\", "\\n", "\\x4", "\\xg1", "\\x4A", "\\x00" };
	char *s = NULL;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ASSERT_ERROR(export_name_unescape(bad[i], &s), EINVAL);
	ASSERT_TRUE(s == NULL);
}

TEST(glob_match)
{
	ASSERT_TRUE(export_glob_match("**", "a"));
	ASSERT_TRUE(export_glob_match("**", "a/b/c"));
	ASSERT_TRUE(export_glob_match("*.txt", "x.txt"));
	ASSERT_FALSE(export_glob_match("*.txt", "d/x.txt"));
	ASSERT_TRUE(export_glob_match("**/*.txt", "x.txt"));
	ASSERT_TRUE(export_glob_match("**/*.txt", "d/e/x.txt"));
	ASSERT_FALSE(export_glob_match("**/*.txt", "d/e/x.txt2"));
	ASSERT_TRUE(export_glob_match("r/**", "r/a/b"));
	ASSERT_FALSE(export_glob_match("r/**", "s/a"));
	ASSERT_TRUE(export_glob_match("a/**/b", "a/b"));
	ASSERT_TRUE(export_glob_match("a/**/b", "a/x/y/b"));
	ASSERT_FALSE(export_glob_match("a/**/b", "a/x/y/c"));
	ASSERT_TRUE(export_glob_match("?", "x"));
	ASSERT_FALSE(export_glob_match("?", "xy"));
	ASSERT_FALSE(export_glob_match("a?b", "a/b"));
	ASSERT_TRUE(export_glob_match("a\\*b", "a*b"));
	ASSERT_FALSE(export_glob_match("a\\*b", "axb"));
	ASSERT_TRUE(export_glob_match("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
	ASSERT_FALSE(export_glob_match("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	ASSERT_TRUE(export_glob_match("n\nl", "n\nl"));
}

TEST(glob_valid_and_included)
{
	char *const include[] = { (char *)"reports/**", (char *)"*.log", NULL };

	ASSERT_TRUE(export_glob_is_valid("**"));
	ASSERT_TRUE(export_glob_is_valid("a/*.txt"));
	ASSERT_TRUE(export_glob_is_valid("a\\\\"));
	ASSERT_FALSE(export_glob_is_valid(""));
	ASSERT_FALSE(export_glob_is_valid("/abs"));
	ASSERT_FALSE(export_glob_is_valid("a/../b"));
	ASSERT_FALSE(export_glob_is_valid("./a"));
	ASSERT_FALSE(export_glob_is_valid("a//b"));
	ASSERT_FALSE(export_glob_is_valid("a/"));
	ASSERT_FALSE(export_glob_is_valid("a\\"));
	ASSERT_TRUE(export_included(NULL, "anything"));
	ASSERT_TRUE(export_included(include, "reports/x/y"));
	ASSERT_TRUE(export_included(include, "build.log"));
	ASSERT_FALSE(export_included(include, "src/build.log"));
}

TEST(caps_accounting)
{
	struct export_options o = { .max_files = 3, .max_size = 100, .max_file_size = 50 };
	struct export_manifest m = {};
	enum export_stop why;

	ASSERT_EQ(export_caps_check_file(&o, &m, 50, 48, 0, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(why, EXPORT_STOP_NONE);
	ASSERT_EQ(export_caps_check_file(&o, &m, 10, 0, 0, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(export_caps_check_file(&o, &m, 51, 0, 0, &why), EXPORT_SKIP_FILE_SIZE);
	/* A file whose blocks pass the cap (not its apparent size): skipped too. */
	ASSERT_EQ(export_caps_check_file(&o, &m, 10, 51, 0, &why), EXPORT_SKIP_FILE_SIZE);
	/* Blocks of 16 bytes: 51 allocated bytes round up to 64, within the cap rounded up. */
	ASSERT_EQ(export_caps_check_file(&o, &m, 10, 64, 16, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(export_caps_check_file(&o, &m, 50, 64, 16, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(export_caps_check_file(&o, &m, 10, 80, 16, &why), EXPORT_SKIP_FILE_SIZE);
	ASSERT_EQ(export_caps_check_file(&o, &m, 51, 64, 16, &why), EXPORT_SKIP_FILE_SIZE);
	/* A 9-byte file of a tmpfs (one 4 KiB page) under a cap of 1000 bytes. */
	o.max_file_size = 1000;
	ASSERT_EQ(export_caps_check_file(&o, &m, 9, 4096, 4096, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(export_caps_check_file(&o, &m, 0, 8192, 4096, &why), EXPORT_SKIP_FILE_SIZE);
	o.max_file_size = UINT64_MAX; /* no overflow rounding the cap up */
	ASSERT_EQ(export_caps_check_file(&o, &m, 9, UINT64_MAX, 4096, &why), EXPORT_SKIP_NONE);
	o.max_file_size = 50;
	/* A 1 TiB sparse file. */
	ASSERT_EQ(export_caps_check_file(&o, &m, 1ULL << 40, 0, 0, &why), EXPORT_SKIP_FILE_SIZE);
	m.bytes = 60;
	ASSERT_EQ(export_caps_check_file(&o, &m, 41, 0, 0, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(why, EXPORT_STOP_MAX_SIZE);
	ASSERT_EQ(export_caps_check_file(&o, &m, 40, 0, 0, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(why, EXPORT_STOP_NONE);
	m.bytes = UINT64_MAX - 1; /* no overflow past the total */
	o.max_size = UINT64_MAX;
	ASSERT_EQ(export_caps_check_file(&o, &m, 40, 0, 0, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(why, EXPORT_STOP_MAX_SIZE);
	m.bytes = 0;
	m.files = 2;
	m.directories = 1;
	ASSERT_EQ(export_caps_check_file(&o, &m, 1, 0, 0, &why), EXPORT_SKIP_NONE);
	ASSERT_EQ(why, EXPORT_STOP_MAX_FILES);
}

TEST(manifest_json)
{
	struct export_entry e[] = {
		{ .path = (char *)"d", .type = EXPORT_TYPE_DIRECTORY, .mode = 0755 },
		{ .path = (char *)"d/n\nl", .type = EXPORT_TYPE_FILE, .mode = 0644, .size = 3 },
		{ .path = (char *)"link", .type = EXPORT_TYPE_SYMLINK, .skip = EXPORT_SKIP_TYPE },
	};
	struct export_manifest m = { .entries = e,
				     .n_entries = 3,
				     .files = 1,
				     .directories = 1,
				     .bytes = 3,
				     .skipped = 1,
				     .stop = EXPORT_STOP_MAX_FILES,
				     .stop_path = (char *)"z\x01",
				     .scan = EXPORT_SCAN_REJECT };
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_free_ char *s = NULL;

	sha256("abc", 3, e[1].sha256);
	j = export_manifest_to_json(&m);
	ASSERT_TRUE(j != NULL);
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	ASSERT_STREQ(s,
		     "{\"complete\":false,\"counts\":{\"bytes\":3,\"directories\":1,"
		     "\"files\":1,\"files_redacted\":0,\"files_rejected\":0,\"redactions\":0,"
		     "\"skipped\":1,\"skipped_unlisted\":0},\"entries\":[{\"mode\":\"0755\","
		     "\"path\":\"d\",\"type\":\"directory\"},{\"mode\":\"0644\",\"path\":"
		     "\"d/n\\\\x0al\",\"redacted\":false,\"redactions\":0,\"sha256\":"
		     "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
		     "\"size\":3,\"type\":\"file\"}],\"manifest_version\":1,\"scan\":\"reject\","
		     "\"skipped\":[{\"path\":\"link\",\"reason\":\"type\",\"type\":\"symlink\"}],"
		     "\"stopped_at\":\"z\\\\x01\",\"stopped_by\":\"max_files\"}");
}

/* A scratch directory with src/ and dst/ (dst empty, as the caller makes it). */
struct scratch {
	char root[64];
	int src;
	int dst;
};

static void scratch_new(bool *test_failed_, struct scratch *s)
{
	snprintf(s->root, sizeof(s->root), "/tmp/test-artifacts.XXXXXX");
	ASSERT_TRUE(mkdtemp(s->root) != NULL);
	s->src = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(s->src >= 0);
	ASSERT_OK(mkdirat(s->src, "src", 0755));
	ASSERT_OK(mkdirat(s->src, "dst", 0700));
	s->dst = openat(s->src, "dst", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(s->dst >= 0);
	ASSERT_OK(fchdir(s->src));
	close(s->src);
	s->src = open("src", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(s->src >= 0);
}

static void scratch_done(bool *test_failed_, struct scratch *s)
{
	char cmd[128];

	close(s->src);
	close(s->dst);
	ASSERT_OK(chdir("/"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->root);
	ASSERT_EQ(system(cmd), 0);
}

static void write_file(bool *test_failed_, const char *path, const char *text, mode_t mode)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(write_all(fd, text, strlen(text)));
	ASSERT_OK(fchmod(fd, mode));
}

static const struct export_entry *find(const struct export_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n_entries; i++)
		if (streq(m->entries[i].path, path))
			return &m->entries[i];
	return NULL;
}

static struct export_options options(void)
{
	return (struct export_options){ .max_files = 100,
					.max_size = 1 << 20,
					.max_file_size = 1 << 16,
					.uid = getuid(),
					.gid = getgid(),
					.scan = EXPORT_SCAN_OFF };
}

TEST(export_tree_attack_set)
{
	struct export_options o = options();
	struct export_manifest *m = NULL;
	const struct export_entry *e;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char digest[65], buf[64];
	struct scratch s;
	struct stat st;
	int sock;

	scratch_new(test_failed_, &s);
	ASSERT_OK(mkdir("src/d", 0700));
	write_file(test_failed_, "src/d/f", "abc", 0600);
	write_file(test_failed_, "src/suid", "x", 04755);
	write_file(test_failed_, "src/manifest.json", "planted", 0644);
	write_file(test_failed_, "src/n\nl\x01\xff", "odd", 0644);
	ASSERT_OK(link("src/d/f", "src/hard"));
	ASSERT_OK(symlink("/etc/shadow", "src/shadow"));
	ASSERT_OK(symlink("/", "src/root"));
	ASSERT_OK(symlink("../dst", "src/to-dst"));
	ASSERT_OK(symlink("loop", "src/loop"));
	ASSERT_OK(mkfifo("src/fifo", 0644));
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "src/sock");
	ASSERT_OK(bind(sock, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_OK(truncate("src/d/f", 3));
	{
		_cleanup_close_ int fd = open("src/sparse", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		ASSERT_TRUE(fd >= 0);
		ASSERT_OK(ftruncate(fd, 1LL << 40));
	}

	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_EQ(strlen(digest), 64);
	ASSERT_EQ(m->files, 4); /* d/f, hard, n\nl..., suid */
	ASSERT_EQ(m->directories, 1);
	ASSERT_EQ(m->stop, EXPORT_STOP_NONE);
	e = find(m, "suid");
	ASSERT_TRUE(e && e->mode == 0755 && e->skip == EXPORT_SKIP_NONE);
	ASSERT_OK(stat("dst/suid", &st));
	ASSERT_EQ(st.st_mode & 07777, 0755);
	ASSERT_OK(stat("dst/d/f", &st));
	ASSERT_EQ(st.st_mode & 07777, 0644);
	ASSERT_OK(stat("dst/hard", &st));
	ASSERT_EQ(st.st_nlink, 1); /* a copy of its own */
	ASSERT_TRUE(find(m, "shadow")->skip == EXPORT_SKIP_TYPE);
	ASSERT_TRUE(find(m, "root")->type == EXPORT_TYPE_SYMLINK);
	ASSERT_TRUE(find(m, "fifo")->type == EXPORT_TYPE_FIFO);
	ASSERT_TRUE(find(m, "sock")->type == EXPORT_TYPE_SOCKET);
	ASSERT_TRUE(find(m, "sparse")->skip == EXPORT_SKIP_FILE_SIZE);
	ASSERT_TRUE(find(m, "manifest.json")->skip == EXPORT_SKIP_RESERVED);
	ASSERT_EQ(lstat("dst/shadow", &st), -1);
	ASSERT_EQ(lstat("dst/fifo", &st), -1);
	ASSERT_EQ(lstat("dst/sparse", &st), -1);
	ASSERT_OK(lstat("dst/n\nl\x01\xff", &st));
	/* The manifest is ours, not the planted file. */
	{
		_cleanup_free_ char *text = NULL;
		size_t len;

		ASSERT_OK(read_file_at(s.dst, "manifest.json", 1 << 20, &text, &len));
		ASSERT_CONTAINS(text, "\"manifest_version\": 1");
		ASSERT_CONTAINS(text, "\"path\": \"n\\\\x0al\\\\x01\\\\xff\"");
	}
	e = find(m, "d/f");
	sha256("abc", 3, (uint8_t *)buf);
	ASSERT_TRUE(memcmp(buf, e->sha256, 32) == 0);
	export_manifest_free(m);
	close(sock);
	scratch_done(test_failed_, &s);
}

TEST(export_tree_refuses_a_used_destination)
{
	struct export_options o = options();
	struct export_manifest *m = NULL;
	char digest[65];
	struct scratch s;

	scratch_new(test_failed_, &s);
	write_file(test_failed_, "src/f", "abc", 0644);
	ASSERT_OK(symlink("/tmp", "dst/f")); /* a pre-planted write-through link */
	ASSERT_ERROR(export_tree(s.src, s.dst, &o, &m, digest), ENOTEMPTY);
	ASSERT_TRUE(m == NULL);
	scratch_done(test_failed_, &s);
}

TEST(export_tree_caps_stop_cleanly)
{
	struct export_options o = options();
	struct export_manifest *m = NULL;
	char digest[65], name[16];
	struct scratch s;

	scratch_new(test_failed_, &s);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "src/f%02d", i);
		write_file(test_failed_, name, "0123456789", 0644);
	}
	o.max_files = 4;
	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_EQ(m->files, 4);
	ASSERT_EQ(m->stop, EXPORT_STOP_MAX_FILES);
	ASSERT_STREQ(m->stop_path, "f04");
	m = export_manifest_free(m);
	scratch_done(test_failed_, &s);

	scratch_new(test_failed_, &s);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "src/f%02d", i);
		write_file(test_failed_, name, "0123456789", 0644);
	}
	o.max_files = 100;
	o.max_size = 25;
	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_EQ(m->files, 2);
	ASSERT_EQ(m->bytes, 20);
	ASSERT_EQ(m->stop, EXPORT_STOP_MAX_SIZE);
	m = export_manifest_free(m);
	scratch_done(test_failed_, &s);
}

/*
 * A directory of more names than the walk holds (max_files * 2 + 2), made in no sorted
 * order: the export is the first max_files names by their bytes, and it stops at the
 * next one, whatever order the directory lists them in.
 */
TEST(export_tree_a_big_directory_stops_in_name_order)
{
	struct export_options o = options();
	struct export_manifest *m = NULL;
	char digest[65], name[16];
	struct scratch s;

	scratch_new(test_failed_, &s);
	for (int i = 0; i < 61; i++) { /* 61 is prime: i * 37 % 61 visits every name once */
		snprintf(name, sizeof(name), "src/f%02d", i * 37 % 61);
		write_file(test_failed_, name, "x", 0644);
	}
	o.max_files = 10;
	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_EQ(m->files, 10);
	ASSERT_EQ(m->stop, EXPORT_STOP_MAX_FILES);
	ASSERT_STREQ(m->stop_path, "f10");
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		ASSERT_TRUE(find(m, name) != NULL);
	}
	m = export_manifest_free(m);
	scratch_done(test_failed_, &s);
}

/*
 * Directories the include globs do not name are walked but count against no cap: a
 * directory of more of them than the walk holds at once still has the names after them
 * exported (they were dropped unseen, and the export said it was complete).
 */
TEST(export_tree_uncounted_names_do_not_hide_later_ones)
{
	char *include[] = { (char *)"*.txt", NULL };
	struct export_options o = options();
	struct export_manifest *m = NULL;
	char digest[65], name[16];
	struct scratch s;

	scratch_new(test_failed_, &s);
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "src/d%02d", i);
		ASSERT_OK(mkdir(name, 0755));
	}
	write_file(test_failed_, "src/zz.txt", "x", 0644);
	o.max_files = 10;
	o.include = include;
	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_EQ(m->stop, EXPORT_STOP_NONE);
	ASSERT_EQ(m->files, 1);
	ASSERT_TRUE(find(m, "zz.txt") != NULL);
	m = export_manifest_free(m);
	scratch_done(test_failed_, &s);
}

static void scan_case(bool *test_failed_, enum export_scan scan, const char *want, uint64_t files,
		      uint64_t skipped)
{
	static const char secret[] = "s3cr3t-value-0123456789";
	struct export_options o = options();
	struct export_manifest *m = NULL;
	struct redactor *r = NULL;
	_cleanup_free_ char *text = NULL;
	char digest[65];
	struct scratch s;
	size_t len;

	ASSERT_OK(redactor_new(true, &r));
	ASSERT_OK(redactor_add_value(r, "credential:tok", secret, strlen(secret)));
	ASSERT_OK(redactor_compile(r));
	o.redactor = r;
	o.scan = scan;
	scratch_new(test_failed_, &s);
	write_file(test_failed_, "src/leak", "token=s3cr3t-value-0123456789\n", 0644);
	write_file(test_failed_, "src/clean", "nothing here\n", 0644);
	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_EQ(m->files, files);
	ASSERT_EQ(m->skipped, skipped);
	ASSERT_EQ(m->redactions, 1);
	if (want) {
		ASSERT_OK(read_file_at(s.dst, "leak", 4096, &text, &len));
		ASSERT_STREQ(text, want);
	} else
		ASSERT_ERROR(read_file_at(s.dst, "leak", 4096, &text, &len), ENOENT);
	export_manifest_free(m);
	redactor_free(r);
	scratch_done(test_failed_, &s);
}

TEST(export_tree_scan)
{
	scan_case(test_failed_, EXPORT_SCAN_REDACT, "token=[REDACTED:credential:tok]\n", 2, 0);
	scan_case(test_failed_, EXPORT_SCAN_REJECT, NULL, 1, 1);
	scan_case(test_failed_, EXPORT_SCAN_OFF, "token=s3cr3t-value-0123456789\n", 2, 0);
}

/* A file of n short secrets, each of which "redact" rewrites into a longer marker. */
static void write_secrets(bool *test_failed_, const char *path, int n)
{
	_cleanup_free_ char *text = malloc((size_t)n * 9 + 1);

	ASSERT_TRUE(text != NULL);
	for (int i = 0; i < n; i++)
		memcpy(text + i * 9, "abcdefgh ", 9);
	text[n * 9] = '\0';
	write_file(test_failed_, path, text, 0644);
}

TEST(export_tree_redaction_cannot_pass_the_caps)
{
	struct export_options o = options();
	struct export_manifest *m = NULL;
	struct redactor *r = NULL;
	char digest[65];
	struct scratch s;
	struct stat st;

	/*
	 * 4608 bytes of source (8 KiB allocated), 13312 once each value is
	 * "[REDACTED:credential:tok]".
	 */
	ASSERT_OK(redactor_new(false, &r));
	ASSERT_OK(redactor_add_value(r, "credential:tok", "abcdefgh", 8));
	ASSERT_OK(redactor_compile(r));
	o.redactor = r;
	o.scan = EXPORT_SCAN_REDACT;
	o.max_file_size = 10000;
	scratch_new(test_failed_, &s);
	write_secrets(test_failed_, "src/grows", 512);
	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_EQ(m->files, 0);
	ASSERT_EQ(m->bytes, 0);
	ASSERT_TRUE(find(m, "grows")->skip == EXPORT_SKIP_FILE_SIZE);
	ASSERT_EQ(lstat("dst/grows", &st), -1);
	m = export_manifest_free(m);
	scratch_done(test_failed_, &s);

	/*
	 * Two of them against max_size 20000: the first fits, the export stops before the
	 * second, and no more than max_size bytes are written.
	 */
	o.max_file_size = 20000;
	o.max_size = 20000;
	scratch_new(test_failed_, &s);
	write_secrets(test_failed_, "src/a", 512);
	write_secrets(test_failed_, "src/b", 512);
	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_EQ(m->files, 1);
	ASSERT_EQ(m->bytes, 512 * 26);
	ASSERT_EQ(m->stop, EXPORT_STOP_MAX_SIZE);
	ASSERT_STREQ(m->stop_path, "b");
	ASSERT_TRUE(find(m, "b") == NULL);
	ASSERT_EQ(lstat("dst/b", &st), -1);
	export_manifest_free(m);
	redactor_free(r);
	scratch_done(test_failed_, &s);
}

/* n files of a secret in src/, for scan "reject" to leave out. */
static void reject_case(bool *test_failed_, int n, uint64_t max_files, struct export_manifest **ret)
{
	static const char secret[] = "s3cr3t-value-0123456789";
	struct export_options o = options();
	struct redactor *r = NULL;
	char digest[65], name[32];
	struct scratch s;

	ASSERT_OK(redactor_new(true, &r));
	ASSERT_OK(redactor_add_value(r, "credential:tok", secret, strlen(secret)));
	ASSERT_OK(redactor_compile(r));
	o.redactor = r;
	o.scan = EXPORT_SCAN_REJECT;
	o.max_files = max_files;
	scratch_new(test_failed_, &s);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "src/s%05d", i);
		write_file(test_failed_, name, secret, 0644);
	}
	ASSERT_OK(export_tree(s.src, s.dst, &o, ret, digest));
	redactor_free(r);
	scratch_done(test_failed_, &s);
}

TEST(export_tree_rejected_files_count_as_skipped)
{
	struct export_manifest *m = NULL;

	/* Past the listing cap, a rejected file is counted, not listed. */
	reject_case(test_failed_, EXPORT_MAX_SKIPPED_LISTED + 5, 5000, &m);
	ASSERT_EQ(m->skipped, EXPORT_MAX_SKIPPED_LISTED + 5);
	ASSERT_EQ(m->skipped_unlisted, 5);
	ASSERT_EQ(m->n_entries, EXPORT_MAX_SKIPPED_LISTED);
	ASSERT_EQ(m->files_rejected, EXPORT_MAX_SKIPPED_LISTED + 5);
	ASSERT_EQ(m->entries[0].skip, EXPORT_SKIP_SECRET);
	ASSERT_EQ(m->entries[0].redactions, 1);
	ASSERT_EQ(m->stop, EXPORT_STOP_NONE);
	m = export_manifest_free(m);

	/* And max_files of them stop the walk, as any other skipped entries do. */
	reject_case(test_failed_, 15, 10, &m);
	ASSERT_EQ(m->skipped, 10);
	ASSERT_EQ(m->stop, EXPORT_STOP_MAX_SKIPPED);
	ASSERT_STREQ(m->stop_path, "s00009");
	export_manifest_free(m);
}

TEST(export_tree_redact_without_redactor)
{
	struct export_options o = options();
	struct export_manifest *m = NULL;
	_cleanup_free_ char *text = NULL;
	char digest[65];
	struct scratch s;
	size_t len;

	/* scan "redact" with no redactor given: copied as is (this crashed once). */
	o.scan = EXPORT_SCAN_REDACT;
	scratch_new(test_failed_, &s);
	write_file(test_failed_, "src/f", "as it is\n", 0644);
	ASSERT_OK(export_tree(s.src, s.dst, &o, &m, digest));
	ASSERT_OK(read_file_at(s.dst, "f", 4096, &text, &len));
	ASSERT_STREQ(text, "as it is\n");
	ASSERT_FALSE(m->entries[0].redacted);
	export_manifest_free(m);
	scratch_done(test_failed_, &s);
}

/* export_options.stop_pending: asked once per entry and once per chunk read of a file. */
static unsigned stop_asked, stop_after;

static int stop_pending_after(void)
{
	return ++stop_asked > stop_after ? SIGTERM : 0;
}

TEST(export_tree_stops_when_asked)
{
	struct export_options o = options();
	struct export_manifest *m = NULL;
	char digest[65];
	struct scratch s;

	o.stop_pending = stop_pending_after;
	o.max_file_size = 8 * EXPORT_COPY_CHUNK;
	o.max_size = 16 * EXPORT_COPY_CHUNK;
	scratch_new(test_failed_, &s);
	write_file(test_failed_, "src/a", "a", 0644);
	write_file(test_failed_, "src/b", "b", 0644);
	{
		_cleanup_close_ int fd = open("src/z", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		ASSERT_TRUE(fd >= 0);
		ASSERT_OK(posix_fallocate(fd, 0, 4 * EXPORT_COPY_CHUNK));
	}

	/* Between entries: a is written (entry, chunk), asked again at b: stops. */
	stop_asked = 0;
	stop_after = 2;
	ASSERT_ERROR(export_tree(s.src, s.dst, &o, &m, digest), EINTR);
	ASSERT_TRUE(m == NULL);
	ASSERT_OK(faccessat(s.dst, "a", F_OK, 0));
	ASSERT_EQ(faccessat(s.dst, "b", F_OK, 0), -1);
	ASSERT_EQ(faccessat(s.dst, "manifest.json", F_OK, 0), -1);
	ASSERT_OK(unlinkat(s.dst, "a", 0));

	/* Within a file: a, b (2 each), z (its entry, its 1st chunk), stopped at its 2nd. */
	stop_asked = 0;
	stop_after = 6;
	ASSERT_ERROR(export_tree(s.src, s.dst, &o, &m, digest), EINTR);
	ASSERT_EQ(stop_asked, 7);
	{
		struct stat st;

		ASSERT_OK(fstatat(s.dst, "z", &st, 0));
		ASSERT_EQ(st.st_size, (off_t)EXPORT_COPY_CHUNK); /* the chunk before the stop */
	}
	ASSERT_EQ(faccessat(s.dst, "manifest.json", F_OK, 0), -1);
	scratch_done(test_failed_, &s);
}

TEST(scan_names)
{
	ASSERT_EQ(export_scan_from_string("reject"), EXPORT_SCAN_REJECT);
	ASSERT_EQ(export_scan_from_string("nope"), -EINVAL);
	ASSERT_STREQ(export_scan_to_string(EXPORT_SCAN_OFF), "off");
	ASSERT_STREQ(export_skip_to_string(EXPORT_SKIP_RESERVED), "reserved_name");
}

TEST_MAIN()
