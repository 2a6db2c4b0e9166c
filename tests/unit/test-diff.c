/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The line diff of an overlay workspace's change set (supervisor/artifacts/diff.c):
 * golden outputs in git's form, and a property check that applies the hunks with an
 * independent, strict applier (every context and removed line must match) over random
 * pairs of texts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "diff.h"
#include "hunk-apply.h"
#include "macro.h"
#include "test.h"

/* The patch text of one call, NUL-terminated; the caller frees it. */
static char *hunks(const char *a, const char *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f || diff_write_hunks(f, a, strlen(a), b, strlen(b)) < 0)
		abort();
	fclose(f);
	return buf;
}

static char *file_patch(const char *path, mode_t om, mode_t nm, const char *a, const char *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f || diff_write_file(f, path, om, nm, a, a ? strlen(a) : 0, b, b ? strlen(b) : 0) < 0)
		abort();
	fclose(f);
	return buf;
}

TEST(golden_modify)
{
	char *p = hunks("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nD\ne\nf\ng\nh\n");

	ASSERT_STREQ(p, "@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n");
	free(p);
}

TEST(golden_no_newline)
{
	char *p = hunks("x\ny", "x\ny\n");

	ASSERT_STREQ(p, "@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n");
	free(p);
	p = hunks("", "new");
	ASSERT_STREQ(p, "@@ -0,0 +1,1 @@\n+new\n\\ No newline at end of file\n");
	free(p);
	p = hunks("same\n", "same\n");
	ASSERT_STREQ(p, "");
	free(p);
}

TEST(golden_two_hunks)
{
	/* 20 lines, the 2nd and the 18th changed: contexts do not meet, two hunks. */
	char a[256] = "", b[256] = "";

	for (int i = 1; i <= 20; i++) {
		char l[16];

		snprintf(l, sizeof(l), "%d\n", i);
		strcat(a, l);
		strcat(b, i == 2 || i == 18 ? "X\n" : l);
	}
	char *p = hunks(a, b);

	ASSERT_STREQ(p, "@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n"
			"@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+X\n 19\n 20\n");
	free(p);
}

TEST(golden_file_headers)
{
	char *p = file_patch("dir/new.txt", 0, S_IFREG | 0600, NULL, "hi\n");

	ASSERT_STREQ(p, "diff --git a/dir/new.txt b/dir/new.txt\nnew file mode 100644\n"
			"--- /dev/null\n+++ b/dir/new.txt\n@@ -0,0 +1,1 @@\n+hi\n");
	free(p);
	p = file_patch("old", S_IFREG | 0755, 0, "1\n2\n", NULL);
	ASSERT_STREQ(p, "diff --git a/old b/old\ndeleted file mode 100755\n--- a/old\n"
			"+++ /dev/null\n@@ -1,2 +0,0 @@\n-1\n-2\n");
	free(p);
	p = file_patch("run.sh", S_IFREG | 0644, S_IFREG | 0744, "x\n", "x\n");
	ASSERT_STREQ(p, "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n");
	free(p);
	/* 0644 -> 0600: git cannot tell, nothing to write */
	p = file_patch("f", S_IFREG | 0644, S_IFREG | 0600, "x\n", "x\n");
	ASSERT_STREQ(p, "");
	free(p);
	p = file_patch("empty", 0, S_IFREG | 0644, NULL, "");
	ASSERT_STREQ(p, "diff --git a/empty b/empty\nnew file mode 100644\n");
	free(p);
	/* a link deleted: git's 120000, its target as one line without a newline */
	p = file_patch("lnk", S_IFLNK | 0777, 0, "../target", NULL);
	ASSERT_STREQ(p,
		     "diff --git a/lnk b/lnk\ndeleted file mode 120000\n--- a/lnk\n"
		     "+++ /dev/null\n@@ -1,1 +0,0 @@\n-../target\n\\ No newline at end of file\n");
	free(p);
}

static char *binary_patch(mode_t om, mode_t nm, const char *a, size_t alen, const char *b,
			  size_t blen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f || diff_write_binary(f, "x.bin", om, nm, a, alen, b, blen) < 0)
		abort();
	fclose(f);
	return buf;
}

/* git's blob names (`git hash-object`), which `git apply` checks both sides against. */
TEST(binary_patch)
{
	_cleanup_free_ char *big = malloc(1000);
	char *p;

	p = binary_patch(0, S_IFREG | 0644, NULL, 0, "hello\n", 6);
	ASSERT_STREQ(p, "diff --git a/x.bin b/x.bin\nnew file mode 100644\n"
			"index 0000000000000000000000000000000000000000.."
			"ce013625030ba8dba906f756967f9e9ca394464a\nGIT binary patch\nliteral 6\n"
			/* zlib 78 01, one stored block of 6, adler32 of "hello\n": 17 bytes */
			"QcmV+h0QvuDWo&G33J6OA9{>OV\n\n");
	free(p);
	p = binary_patch(S_IFREG | 0644, 0, "", 0, NULL, 0);
	ASSERT_CONTAINS(p,
			"deleted file mode 100644\nindex "
			"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391.."
			"0000000000000000000000000000000000000000\nGIT binary patch\nliteral 0\n");
	free(p);
	ASSERT_TRUE(big != NULL);
	memset(big, 'a', 1000); /* more than one SHA-1 block, more than one base85 line */
	p = binary_patch(S_IFREG | 0644, S_IFREG | 0755, "\0", 1, big, 1000);
	ASSERT_CONTAINS(p, "old mode 100644\nnew mode 100755\n");
	ASSERT_CONTAINS(p, "..a50be72b20f0e3f078d252e8e56b11b4bec67509\n");
	ASSERT_TRUE(diff_binary_size(1000) >= strlen(strstr(p, "index ")));
	free(p);
	/* a mode change alone: the headers only */
	p = binary_patch(S_IFREG | 0644, S_IFREG | 0755, "\0", 1, "\0", 1);
	ASSERT_STREQ(p, "diff --git a/x.bin b/x.bin\nold mode 100644\nnew mode 100755\n");
	free(p);
}

TEST(quoted_paths)
{
	char *p = file_patch("a b\t\"c\\\n\xc3\xa9", 0, S_IFREG | 0644, NULL, "z\n");

	ASSERT_CONTAINS(p, "diff --git \"a/a b\\t\\\"c\\\\\\n\\303\\251\" "
			   "\"b/a b\\t\\\"c\\\\\\n\\303\\251\"\n");
	ASSERT_CONTAINS(p, "+++ \"b/a b\\t\\\"c\\\\\\n\\303\\251\"\n");
	free(p);
}

TEST(binary)
{
	ASSERT_TRUE(diff_is_binary("a\0b", 3));
	ASSERT_FALSE(diff_is_binary("a\nb", 3));
}

/* A random text of up to n lines from a small alphabet of lines (many equal lines). */
static void random_text(char *buf, unsigned *seed, int n)
{
	int lines = rand_r(seed) % (n + 1);

	buf[0] = '\0';
	for (int i = 0; i < lines; i++) {
		char l[8];

		snprintf(l, sizeof(l), "%c\n", 'a' + rand_r(seed) % 5);
		strcat(buf, l);
	}
	if (lines && rand_r(seed) % 4 == 0)
		buf[strlen(buf) - 1] = '\0'; /* no newline at the end */
}

TEST(property_apply)
{
	static char a[2048], b[2048];
	unsigned seed = 12345;

	for (int i = 0; i < 3000; i++) {
		char *p, *got;

		random_text(a, &seed, 40);
		random_text(b, &seed, 40);
		p = hunks(a, b);
		got = hunk_apply(a, p);
		if (!got || strcmp(got, b) != 0) {
			printf("# a=\"%s\"\n# b=\"%s\"\n# patch:\n%s", a, b, p);
			free(got);
			free(p);
			ASSERT_TRUE(false);
		}
		free(got);
		free(p);
	}
}

TEST(many_edits_fall_back)
{
	/* More edits than DIFF_MAX_EDITS: one replacing hunk, still exact. */
	size_t n = 3 * DIFF_MAX_EDITS;
	char *a = malloc(2 * n + 1), *b = malloc(2 * n + 1), *p, *got;

	for (size_t i = 0; i < n; i++) {
		a[2 * i] = 'a', a[2 * i + 1] = '\n';
		b[2 * i] = 'b', b[2 * i + 1] = '\n';
	}
	a[2 * n] = b[2 * n] = '\0';
	p = hunks(a, b);
	got = hunk_apply(a, p);
	ASSERT_TRUE(got && streq(got, b));
	free(a);
	free(b);
	free(p);
	free(got);
}

TEST_MAIN()
