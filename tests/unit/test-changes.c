/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The change-set walk and its export (supervisor/artifacts/changes*.c) over hand-made
 * layers: an upper directory as overlayfs leaves it (whiteouts as 0/0 character devices
 * and as xattr-marked empty files, an opaque directory, type changes, a planted symbolic
 * link and a FIFO) against a lower one. Uses the "user.overlay." xattrs, which need no
 * privilege; whiteout nodes need Linux 5.8 (or CAP_MKNOD).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "changes-export.h"
#include "changes.h"
#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "test.h"

static char root[64];

static void put(const char *path, const char *text, mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, path);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fchmod(fd, mode) < 0)
		abort();
	close(fd);
}

static void dir(const char *path)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, path);
	if (mkdir(p, 0755) < 0)
		abort();
}

/* 0: made; -errno otherwise (the caller skips). */
static int whiteout(const char *path)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, path);
	return mknod(p, S_IFCHR | 0000, makedev(0, 0)) < 0 ? -errno : 0;
}

static int xattr(const char *path, const char *name, const char *value)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, path);
	return setxattr(p, name, value, strlen(value), 0) < 0 ? -errno : 0;
}

static void rm_rf(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", root);
	(void)!system(cmd);
}

/* The layers of the walk test; returns 0, or -errno when the host cannot make them. */
static int make_layers(void)
{
	char p[512];
	int r;

	snprintf(root, sizeof(root), "/tmp/airlock-test-changes-XXXXXX");
	if (!mkdtemp(root))
		abort();
	dir("lower"), dir("up"), dir("upper"), dir("out");
	put("lower/keep.txt", "keep\n", 0644);
	put("lower/mod.txt", "old\n", 0644);
	put("lower/del.txt", "bye\n", 0644);
	put("lower/mode.sh", "echo\n", 0644);
	put("lower/touched.txt", "same\n", 0644);
	dir("lower/gone"), dir("lower/gone/sub");
	put("lower/gone/a", "a\n", 0644);
	put("lower/gone/sub/b", "b\n", 0644);
	dir("lower/opq");
	put("lower/opq/x", "x\n", 0644);
	put("lower/opq/y", "y\n", 0644);
	put("lower/f2d", "file\n", 0644);
	dir("lower/d2f");
	put("lower/d2f/z", "z\n", 0644);
	put("lower/xw", "w\n", 0644);
	snprintf(p, sizeof(p), "%s/lower/link", root);
	if (symlink("keep.txt", p) < 0)
		abort();

	put("upper/mod.txt", "new\n", 0644);
	put("upper/mode.sh", "echo\n", 0755);
	put("upper/touched.txt", "same\n", 0644);
	dir("upper/opq");
	put("upper/opq/y", "y2\n", 0644);
	dir("upper/f2d");
	put("upper/f2d/in", "in\n", 0644);
	put("upper/d2f", "now a file\n", 0644);
	dir("upper/new");
	put("upper/new/n.txt", "n\n", 0644);
	put("upper/xw", "", 0644);
	snprintf(p, sizeof(p), "%s/upper/evil", root);
	if (symlink("/etc/shadow", p) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/upper/link", root);
	if (symlink("keep.txt", p) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/upper/fifo", root);
	if (mkfifo(p, 0644) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/upper", root);
	{
		char q[512];

		snprintf(q, sizeof(q), "%s/up/files", root);
		if (rename(p, q) < 0)
			abort();
	}
	r = whiteout("up/files/del.txt");
	if (r >= 0)
		r = whiteout("up/files/gone");
	if (r >= 0)
		r = xattr("up/files/opq", "user.overlay.opaque", "y");
	if (r >= 0)
		r = xattr("up/files/xw", "user.overlay.whiteout", "");
	return r;
}

static int open_dir(const char *sub)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, sub);
	return open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static const struct {
	const char *path;
	enum change_kind kind;
	enum change_type type;
} expected[] = {
	{ "d2f", CHANGE_DELETED, CHANGE_TYPE_DIR },
	{ "d2f", CHANGE_ADDED, CHANGE_TYPE_FILE },
	{ "d2f/z", CHANGE_DELETED, CHANGE_TYPE_FILE },
	{ "del.txt", CHANGE_DELETED, CHANGE_TYPE_FILE },
	{ "evil", CHANGE_ADDED, CHANGE_TYPE_SYMLINK },
	{ "f2d", CHANGE_DELETED, CHANGE_TYPE_FILE },
	{ "f2d", CHANGE_ADDED, CHANGE_TYPE_DIR },
	{ "f2d/in", CHANGE_ADDED, CHANGE_TYPE_FILE },
	{ "fifo", CHANGE_ADDED, CHANGE_TYPE_FIFO },
	{ "gone", CHANGE_DELETED, CHANGE_TYPE_DIR },
	{ "gone/a", CHANGE_DELETED, CHANGE_TYPE_FILE },
	{ "gone/sub", CHANGE_DELETED, CHANGE_TYPE_DIR },
	{ "gone/sub/b", CHANGE_DELETED, CHANGE_TYPE_FILE },
	{ "mod.txt", CHANGE_MODIFIED, CHANGE_TYPE_FILE },
	{ "mode.sh", CHANGE_MODE, CHANGE_TYPE_FILE },
	{ "new", CHANGE_ADDED, CHANGE_TYPE_DIR },
	{ "new/n.txt", CHANGE_ADDED, CHANGE_TYPE_FILE },
	{ "opq/x", CHANGE_DELETED, CHANGE_TYPE_FILE },
	{ "opq/y", CHANGE_MODIFIED, CHANGE_TYPE_FILE },
	{ "xw", CHANGE_DELETED, CHANGE_TYPE_FILE },
};

TEST(classify)
{
	_cleanup_change_set_free_ struct change_set *s = NULL;
	_cleanup_close_ int up = -EBADF, low = -EBADF;
	int r = make_layers();

	if (r < 0) {
		rm_rf();
		TEST_SKIP("cannot make whiteouts or user xattrs here: %s", strerror(-r));
	}
	up = open_dir("up/files");
	low = open_dir("lower");
	ASSERT_OK(change_set_compute(up, low, CHANGE_XATTRS_USER, NULL, &s));
	for (size_t i = 0; i < s->n; i++)
		printf("# %s %s %s\n", change_kind_to_string(s->items[i].kind),
		       change_type_to_string(s->items[i].type), s->items[i].path);
	ASSERT_EQ(s->n, ELEMENTSOF(expected));
	for (size_t i = 0; i < s->n; i++) {
		ASSERT_STREQ(s->items[i].path, expected[i].path);
		ASSERT_EQ(s->items[i].kind, expected[i].kind);
		ASSERT_EQ(s->items[i].type, expected[i].type);
	}
	ASSERT_FALSE(s->truncated);
	ASSERT_EQ(s->items[14].old_mode, 0644); /* mode.sh */
	ASSERT_EQ(s->items[14].new_mode, 0755);
	ASSERT_EQ(s->items[13].old_size, 4); /* mod.txt */
	ASSERT_EQ(s->items[13].size, 4);
	rm_rf();
}

/* The trusted.* names do not count in a "user" walk, nor the user.* ones in a trusted walk. */
TEST(xattr_namespace)
{
	_cleanup_change_set_free_ struct change_set *s = NULL;
	_cleanup_close_ int up = -EBADF, low = -EBADF;
	int r = make_layers();

	if (r < 0) {
		rm_rf();
		TEST_SKIP("cannot make whiteouts or user xattrs here: %s", strerror(-r));
	}
	up = open_dir("up/files");
	low = open_dir("lower");
	ASSERT_OK(change_set_compute(up, low, CHANGE_XATTRS_TRUSTED, NULL, &s));
	/* opq is merged now (x unchanged), xw is an emptied file */
	for (size_t i = 0; i < s->n; i++) {
		ASSERT_FALSE(streq(s->items[i].path, "opq/x"));
		if (streq(s->items[i].path, "xw"))
			ASSERT_EQ(s->items[i].kind, CHANGE_MODIFIED);
	}
	rm_rf();
}

static json_t *load_json(int dir_fd, const char *name)
{
	_cleanup_free_ char *text = NULL;

	if (read_file_at(dir_fd, name, 1 << 20, &text, NULL) < 0)
		return NULL;
	return json_loads(text, 0, NULL);
}

TEST(export)
{
	_cleanup_change_set_free_ struct change_set *s = NULL;
	_cleanup_close_ int up = -EBADF, low = -EBADF, out = -EBADF, root_fd = -EBADF;
	_cleanup_free_ char *patch = NULL, *text = NULL;
	struct export_options o = { .max_files = 1000,
				    .max_size = 1 << 20,
				    .max_file_size = 1 << 20,
				    .scan = EXPORT_SCAN_OFF,
				    .uid = getuid(),
				    .gid = getgid() };
	struct changes_summary sum;
	struct stat st;
	json_t *j, *c;
	int r = make_layers();

	if (r < 0) {
		rm_rf();
		TEST_SKIP("cannot make whiteouts or user xattrs here: %s", strerror(-r));
	}
	up = open_dir("up/files");
	root_fd = open_dir("up");
	low = open_dir("lower");
	out = open_dir("out");
	ASSERT_OK(change_set_compute(up, low, CHANGE_XATTRS_USER, NULL, &s));
	ASSERT_OK(changes_export(s, root_fd, low, out, &o, &sum));
	ASSERT_EQ(sum.exported, 5); /* d2f f2d/in mod.txt new/n.txt opq/y */
	ASSERT_EQ(sum.skipped, 2); /* evil, fifo */
	ASSERT_EQ(sum.counts[CHANGE_DELETED], 10);

	/* The whole upper went through the checked export, links and devices left out. */
	ASSERT_OK(read_file_at(out, "files/opq/y", 64, &text, NULL));
	ASSERT_STREQ(text, "y2\n");
	ASSERT_ERROR(fstatat(out, "files/evil", &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0, ENOENT);
	ASSERT_ERROR(fstatat(out, "files/fifo", &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0, ENOENT);
	ASSERT_ERROR(fstatat(out, "files/del.txt", &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0,
		     ENOENT);
	ASSERT_OK(fstatat(out, "files/new", &st, AT_SYMLINK_NOFOLLOW));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_OK(fstatat(out, "manifest.json", &st, AT_SYMLINK_NOFOLLOW));

	ASSERT_OK(read_file_at(out, "changes.patch", 1 << 20, &patch, NULL));
	ASSERT_CONTAINS(patch,
			"diff --git a/mode.sh b/mode.sh\nold mode 100644\nnew mode 100755\n");
	ASSERT_CONTAINS(patch, "deleted file mode 100644\n--- a/gone/sub/b\n+++ /dev/null\n");
	ASSERT_CONTAINS(patch, "--- a/opq/y\n+++ b/opq/y\n@@ -1,1 +1,1 @@\n-y\n+y2\n");
	ASSERT_CONTAINS(patch, "0 file change(s) left out of this patch");
	ASSERT_CONTAINS(patch, "2 not a regular file");

	j = load_json(out, "changes.json");
	ASSERT_TRUE(j != NULL);
	c = json_object_get(j, "changes");
	ASSERT_EQ(json_array_size(c), ELEMENTSOF(expected));
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(c, 4), "path")), "evil");
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(c, 4), "type")), "symlink");
	ASSERT_TRUE(json_object_get(json_array_get(c, 4), "skipped") != NULL);
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(c, 13), "sha256")),
		     "7aa7a5359173d05b63cfd682e3c38487f3cb4f7f1d60659fe59fab1505977d4c");
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(c, 14), "new_mode")), "0755");
	json_decref(j);

	/* A second export into the same directory: nothing is overwritten. */
	r = changes_export(s, root_fd, low, out, &o, &sum);
	ASSERT_TRUE(r == -EEXIST || r == -ENOTEMPTY);
	rm_rf();
}

/*
 * The patch's old sides come from the workspace, which no cap of the task's writes bounds:
 * the files exported and the patch stay below max_size together (3000 bytes of files, so
 * 6000 left for the patch), and what does not fit is "too_large" in changes.json.
 */
TEST(patch_cap)
{
	_cleanup_change_set_free_ struct change_set *s = NULL;
	_cleanup_close_ int up = -EBADF, low = -EBADF, out = -EBADF, root_fd = -EBADF;
	_cleanup_free_ char *patch = NULL, *x = NULL, *y = NULL;
	struct export_options o = { .max_files = 1000,
				    .max_size = 9000,
				    .max_file_size = 1 << 20,
				    .scan = EXPORT_SCAN_OFF,
				    .uid = getuid(),
				    .gid = getgid() };
	struct changes_summary sum;
	const char *names[] = { "a.txt", "b.txt", "c.txt" };
	char p[64];
	json_t *j, *c;
	size_t len = 0;

	x = malloc(1001);
	y = malloc(1001);
	ASSERT_TRUE(x && y);
	for (int i = 0; i < 1000; i += 2) {
		memcpy(x + i, "x\n", 2);
		memcpy(y + i, "y\n", 2);
	}
	x[1000] = y[1000] = '\0';
	snprintf(root, sizeof(root), "/tmp/airlock-test-changes-XXXXXX");
	if (!mkdtemp(root))
		abort();
	dir("lower"), dir("up"), dir("up/files"), dir("out");
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		snprintf(p, sizeof(p), "lower/%s", names[i]);
		put(p, x, 0644);
		snprintf(p, sizeof(p), "up/files/%s", names[i]);
		put(p, y, 0644);
	}
	up = open_dir("up/files");
	root_fd = open_dir("up");
	low = open_dir("lower");
	out = open_dir("out");
	ASSERT_OK(change_set_compute(up, low, CHANGE_XATTRS_USER, NULL, &s));
	ASSERT_OK(changes_export(s, root_fd, low, out, &o, &sum));
	ASSERT_EQ(sum.exported, 3);
	ASSERT_EQ(sum.not_in_patch, 2);
	ASSERT_OK(read_file_at(out, "changes.patch", 1 << 20, &patch, &len));
	ASSERT_TRUE(len + 3000 <= o.max_size);
	ASSERT_CONTAINS(patch, "--- a/a.txt\n");
	ASSERT_TRUE(strstr(patch, "b.txt") == NULL);
	j = load_json(out, "changes.json");
	ASSERT_TRUE(j != NULL);
	c = json_object_get(j, "changes");
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(c, 0), "patch")), "included");
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(c, 1), "patch")),
		     "too_large");
	ASSERT_STREQ(json_string_value(json_object_get(json_array_get(c, 2), "patch")),
		     "too_large");
	json_decref(j);
	rm_rf();
}

/* The change of path in changes.json's array c, or NULL. */
static json_t *change_of(json_t *c, const char *path)
{
	for (size_t i = 0; i < json_array_size(c); i++)
		if (streq(json_string_value(json_object_get(json_array_get(c, i), "path")), path))
			return json_array_get(c, i);
	return NULL;
}

/*
 * A deleted workspace file is never hashed: one past the patch's limits is not read at all
 * (inotify sees no access), whatever its size; a small one is read for the patch alone.
 * changes.json says what was deleted, its old mode and old size, and no digest.
 */
TEST(deleted_not_read)
{
	_cleanup_change_set_free_ struct change_set *s = NULL;
	_cleanup_close_ int up = -EBADF, low = -EBADF, out = -EBADF, root_fd = -EBADF, ino = -EBADF;
	struct export_options o = { .max_files = 1000,
				    .max_size = 1 << 20,
				    .max_file_size = 1 << 20,
				    .scan = EXPORT_SCAN_OFF,
				    .uid = getuid(),
				    .gid = getgid() };
	struct changes_summary sum;
	char p[512], ev[4096];
	json_t *j, *big, *small;

	snprintf(root, sizeof(root), "/tmp/airlock-test-changes-XXXXXX");
	if (!mkdtemp(root))
		abort();
	dir("lower"), dir("up"), dir("up/files"), dir("out");
	put("lower/small.txt", "a\nb\n", 0644);
	put("lower/big", "", 0600);
	snprintf(p, sizeof(p), "%s/lower/big", root);
	ASSERT_OK(truncate(p, 64 << 20)); /* sparse: 64 MiB of zeros, past any patch */
	if (whiteout("up/files/small.txt") < 0 || whiteout("up/files/big") < 0) {
		rm_rf();
		TEST_SKIP("cannot make whiteouts here");
	}
	up = open_dir("up/files");
	root_fd = open_dir("up");
	low = open_dir("lower");
	out = open_dir("out");
	ASSERT_OK(change_set_compute(up, low, CHANGE_XATTRS_USER, NULL, &s));
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_TRUE(ino >= 0);
	ASSERT_TRUE(inotify_add_watch(ino, p, IN_ACCESS | IN_OPEN) >= 0);
	ASSERT_OK(changes_export(s, root_fd, low, out, &o, &sum));
	ASSERT_EQ(sum.counts[CHANGE_DELETED], 2);
	ASSERT_ERROR(read(ino, ev, sizeof(ev)) < 0 ? -errno : 0, EAGAIN);

	j = load_json(out, "changes.json");
	ASSERT_TRUE(j != NULL);
	big = change_of(json_object_get(j, "changes"), "big");
	small = change_of(json_object_get(j, "changes"), "small.txt");
	ASSERT_TRUE(big && small);
	ASSERT_STREQ(json_string_value(json_object_get(big, "kind")), "deleted");
	ASSERT_STREQ(json_string_value(json_object_get(big, "old_mode")), "0600");
	ASSERT_EQ(json_integer_value(json_object_get(big, "old_size")), 64 << 20);
	ASSERT_STREQ(json_string_value(json_object_get(big, "patch")), "too_large");
	ASSERT_TRUE(json_object_get(big, "sha256") == NULL);
	ASSERT_STREQ(json_string_value(json_object_get(small, "patch")), "included");
	ASSERT_TRUE(json_object_get(small, "sha256") == NULL);
	json_decref(j);
	rm_rf();
}

/* A task that changed nothing: an empty set (and no sort of no items). */
TEST(no_changes)
{
	_cleanup_change_set_free_ struct change_set *s = NULL;
	_cleanup_close_ int up = -EBADF, low = -EBADF;

	snprintf(root, sizeof(root), "/tmp/airlock-test-changes-XXXXXX");
	if (!mkdtemp(root))
		abort();
	dir("lower"), dir("upper");
	put("lower/f", "f\n", 0644);
	up = open_dir("upper");
	low = open_dir("lower");
	ASSERT_OK(change_set_compute(up, low, CHANGE_XATTRS_TRUSTED, NULL, &s));
	ASSERT_EQ(s->n, 0);
	ASSERT_FALSE(s->truncated);
	rm_rf();
}

TEST(escape_path)
{
	_cleanup_free_ char *e = NULL;

	ASSERT_OK(changes_escape_path("a\\b\n\xff ok", &e));
	ASSERT_STREQ(e, "a\\\\b\\x0a\\xff ok");
}

TEST(depth_cap)
{
	_cleanup_change_set_free_ struct change_set *s = NULL;
	_cleanup_close_ int up = -EBADF;
	char p[4096];
	size_t n;

	snprintf(root, sizeof(root), "/tmp/airlock-test-changes-XXXXXX");
	if (!mkdtemp(root))
		abort();
	n = (size_t)snprintf(p, sizeof(p), "%s", root);
	for (int i = 0; i < CHANGES_MAX_DEPTH + 5; i++) {
		n += (size_t)snprintf(p + n, sizeof(p) - n, "/d");
		if (mkdir(p, 0755) < 0)
			abort();
	}
	up = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(change_set_compute(up, -EBADF, CHANGE_XATTRS_USER, NULL, &s));
	ASSERT_TRUE(s->truncated);
	ASSERT_EQ(s->n, CHANGES_MAX_DEPTH);
	rm_rf();
}

/* A stop_pending that answers "SIGTERM" from its stop_at-th question on. */
static int asked, stop_at;

static int stop_after(void)
{
	return ++asked >= stop_at ? 15 : 0;
}

/* Two files of 4 MiB that differ in their last byte, in lower/ and upper/. */
static void big_pair(void)
{
	_cleanup_free_ char *buf = calloc(1, 4 << 20);
	char p[512];

	for (int i = 0; i < 2; i++) {
		int fd;

		snprintf(p, sizeof(p), "%s/%s/big", root, i ? "upper" : "lower");
		buf[(4 << 20) - 1] = (char)i;
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (!buf || fd < 0 || write_all(fd, buf, 4 << 20) < 0)
			abort();
		close(fd);
	}
}

TEST(stop)
{
	struct change_set *s = NULL;
	_cleanup_close_ int up = -EBADF, low = -EBADF;

	snprintf(root, sizeof(root), "/tmp/airlock-test-changes-XXXXXX");
	if (!mkdtemp(root))
		abort();
	dir("lower"), dir("upper");
	big_pair();
	for (int i = 0; i < 50; i++) {
		char name[32];

		snprintf(name, sizeof(name), "upper/new%02d", i);
		put(name, "n\n", 0644);
	}
	up = open_dir("upper");
	low = open_dir("lower");
	/* Unasked, the walk finds all: the baseline of the questions it asks. */
	asked = 0, stop_at = 1 << 30;
	ASSERT_OK(change_set_compute(up, low, CHANGE_XATTRS_TRUSTED, stop_after, &s));
	ASSERT_EQ(s->n, 51);
	/* One question per entry, and one per MiB compared (4 for big). */
	ASSERT_TRUE(asked >= 51 + 4);
	s = change_set_free(s);
	/* Stopped between entries, and inside the comparison of big: -EINTR, no set. */
	for (stop_at = 1; stop_at <= 55; stop_at += 6) {
		asked = 0;
		ASSERT_EQ(change_set_compute(up, low, CHANGE_XATTRS_TRUSTED, stop_after, &s),
			  -EINTR);
		ASSERT_TRUE(s == NULL);
		ASSERT_EQ(asked, stop_at);
	}
	rm_rf();
}

TEST_MAIN()
