/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of supervisor/record-store.c: what a record may replace, the rename of a
 * draft, and the sweep of a dead run's temporary files, below a private temporary
 * directory (the check of another user's file only as root).
 */
#include <dirent.h>
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
#include "record-store.h"
#include "test.h"

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf_tmp(char **dir)
{
	if (!*dir)
		return;
	if (strneq(*dir, "/tmp/airlock-test-record.", 25))
		(void)nftw(*dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*dir);
}

static int make_dir(char **ret_path)
{
	char *dir = strdup("/tmp/airlock-test-record.XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*ret_path = dir;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void touch(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);
}

static size_t count_entries(int dir_fd)
{
	size_t n = 0;
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d)))
		n += !streq(de->d_name, ".") && !streq(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

TEST(target_check)
{
	_cleanup_(rm_rf_tmp) char *dir = NULL;
	_cleanup_close_ int dfd = make_dir(&dir);
	uid_t uid = 0;

	ASSERT_TRUE(dfd >= 0);
	ASSERT_EQ(record_target_check(dfd, "absent", NULL), 0);
	touch(dfd, "mine");
	ASSERT_EQ(record_target_check(dfd, "mine", NULL), 1);
	ASSERT_OK(symlinkat("mine", dfd, "link"));
	ASSERT_ERROR(record_target_check(dfd, "link", NULL), ELOOP);
	ASSERT_OK(mkdirat(dfd, "dir", 0700));
	ASSERT_ERROR(record_target_check(dfd, "dir", NULL), EISDIR);
	ASSERT_OK(mkfifoat(dfd, "fifo", 0600));
	ASSERT_ERROR(record_target_check(dfd, "fifo", NULL), EBADFD);
	if (geteuid() != 0)
		return;
	touch(dfd, "theirs");
	ASSERT_OK(fchownat(dfd, "theirs", 65534, 65534, 0));
	ASSERT_ERROR(record_target_check(dfd, "theirs", &uid), EPERM);
	ASSERT_EQ(uid, 65534);
}

TEST(replace_new_or_ours)
{
	_cleanup_(rm_rf_tmp) char *dir = NULL;
	_cleanup_close_ int dfd = make_dir(&dir);
	_cleanup_free_ char *buf = NULL;
	char target[64];

	ASSERT_TRUE(dfd >= 0);
	ASSERT_OK(record_replace(dfd, "r.json", "RUN", "one", RECORD_SYNC_NONE,
				 RECORD_TARGET_NEW_OR_OURS));
	ASSERT_OK(record_replace(dfd, "r.json", "RUN", "two", RECORD_SYNC_FULL,
				 RECORD_TARGET_NEW_OR_OURS));
	ASSERT_OK(read_file_at(dfd, "r.json", 64, &buf, NULL));
	ASSERT_STREQ(buf, "two");

	/* A symlink is neither followed nor replaced, and no temporary file stays. */
	ASSERT_OK(symlinkat("r.json", dfd, "l.json"));
	ASSERT_ERROR(record_replace(dfd, "l.json", "RUN", "x", RECORD_SYNC_NONE,
				    RECORD_TARGET_NEW_OR_OURS),
		     ELOOP);
	ASSERT_EQ(readlinkat(dfd, "l.json", target, sizeof(target)), 6);
	ASSERT_EQ(count_entries(dfd), 2);
	/* The state directory's own records replace whatever is there. */
	ASSERT_OK(record_replace(dfd, "l.json", "RUN", "x", RECORD_SYNC_START, RECORD_TARGET_ANY));
	ASSERT_EQ(record_target_check(dfd, "l.json", NULL), 1);
}

TEST(draft_swapped)
{
	_cleanup_(rm_rf_tmp) char *dir = NULL;
	_cleanup_close_ int dfd = make_dir(&dir);
	struct record_draft *d = NULL;

	ASSERT_TRUE(dfd >= 0);
	ASSERT_OK(record_draft_new(dfd, "r.json", "RUN", true, RECORD_TARGET_ANY, &d));
	/* Someone who can write the directory puts another file under the draft's name. */
	ASSERT_OK(unlinkat(dfd, RECORD_TMP_PREFIX "RUN.tmp", 0));
	touch(dfd, RECORD_TMP_PREFIX "RUN.tmp");
	ASSERT_ERROR(record_draft_commit(d, "text", RECORD_SYNC_NONE, RECORD_TARGET_ANY), ESTALE);
	record_draft_free(d);
	ASSERT_EQ(record_target_check(dfd, "r.json", NULL), 0);
}

TEST(sweep_temps)
{
	static const char *const names[] = {
		RECORD_TMP_PREFIX "RUN.tmp",	   RECORD_TMP_PREFIX "RUN.0123456789abcdef.tmp",
		RECORD_TMP_PREFIX "RUNX.tmp",	   RECORD_TMP_PREFIX "RUN.json",
		RECORD_TMP_PREFIX "RUN.tmp.other", "RUN.json",
	};
	_cleanup_(rm_rf_tmp) char *dir = NULL;
	_cleanup_close_ int dfd = make_dir(&dir);

	ASSERT_TRUE(dfd >= 0);
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		touch(dfd, names[i]);
	ASSERT_OK(mkdirat(dfd, RECORD_TMP_PREFIX "RUN.d.tmp", 0700)); /* not a regular file */
	/* Only the two files of run RUN. */
	ASSERT_EQ(record_sweep_temps(dfd, "RUN"), 2);
	ASSERT_EQ(count_entries(dfd), ELEMENTSOF(names) - 2 + 1);
	ASSERT_EQ(faccessat(dfd, RECORD_TMP_PREFIX "RUNX.tmp", F_OK, 0), 0);
}

TEST_MAIN()
