/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "record-store.h"

#define RECORD_TMP_ATTEMPTS 16

struct record_draft {
	int dir_fd;
	int fd;
	char tmp[128];
	char base[NAME_MAX + 1];
};

int record_target_check(int dir_fd, const char *base, uid_t *ret_uid)
{
	struct stat st;

	if (fstatat(dir_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if (st.st_uid != geteuid()) {
		if (ret_uid)
			*ret_uid = st.st_uid;
		return -EPERM;
	}
	return 1;
}

/*
 * Creates a fresh temporary file in dir_fd (see RECORD_TMP_PREFIX). O_EXCL|O_NOFOLLOW
 * means nothing another user placed there (a FIFO, a symlink, a file of theirs) can stand
 * in for it. Writes the name to tmp. Returns the fd or -errno.
 */
static int create_temp(int dir_fd, const char *run_id, bool fixed, char *tmp, size_t len)
{
	uint64_t rnd;
	struct stat st;
	int fd = -EEXIST, r;

	for (int i = 0; i < RECORD_TMP_ATTEMPTS && fd == -EEXIST; i++) {
		if (fixed && i == 0)
			snprintf(tmp, len, RECORD_TMP_PREFIX "%s.tmp", run_id);
		else if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -errno;
		else
			snprintf(tmp, len, RECORD_TMP_PREFIX "%s.%016" PRIx64 ".tmp", run_id, rnd);
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

int record_draft_new(int dir_fd, const char *base, const char *run_id, bool fixed,
		     enum record_target target, struct record_draft **ret)
{
	_cleanup_(record_draft_freep) struct record_draft *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->fd = -EBADF;
	if (strlen(base) >= sizeof(d->base) || strlen(run_id) > 64)
		return -ENAMETOOLONG;
	strcpy(d->base, base);
	d->dir_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
	if (d->dir_fd < 0)
		return -errno;
	d->fd = create_temp(d->dir_fd, run_id, fixed, d->tmp, sizeof(d->tmp));
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

/* Renames the draft over its name, as target allows (see record_draft_commit()). */
static int draft_rename(struct record_draft *d, enum record_target target)
{
	unsigned flags = 0;
	int r;

	if (target == RECORD_TARGET_NEW_OR_OURS) {
		r = record_target_check(d->dir_fd, d->base, NULL);
		if (r < 0)
			return r;
		if (r == 0)
			flags = RENAME_NOREPLACE; /* nothing there: nothing may be replaced */
	}
	if (renameat2(d->dir_fd, d->tmp, d->dir_fd, d->base, flags) < 0)
		return -errno;
	return 0;
}

int record_draft_commit(struct record_draft *d, const char *text, enum record_sync sync,
			enum record_target target)
{
	int r;

	r = write_all(d->fd, text, strlen(text));
	if (r >= 0 && sync == RECORD_SYNC_FULL && fsync(d->fd) < 0)
		r = -errno;
	if (r >= 0 && sync == RECORD_SYNC_START)
		(void)sync_file_range(d->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (r >= 0)
		r = draft_is_ours(d);
	if (r >= 0)
		r = draft_rename(d, target);
	if (r >= 0) /* renamed: nothing left to unlink */
		d->fd = safe_close(d->fd);
	if (r >= 0 && sync == RECORD_SYNC_FULL && fsync(d->dir_fd) < 0)
		r = -errno;
	return r;
}

int record_replace(int dir_fd, const char *base, const char *run_id, const char *text,
		   enum record_sync sync, enum record_target target)
{
	_cleanup_(record_draft_freep) struct record_draft *d = NULL;
	int r;

	r = record_draft_new(dir_fd, base, run_id, false, target, &d);
	if (r < 0)
		return r;
	return record_draft_commit(d, text, sync, target);
}

/* ".airlock-record-<run_id>.tmp" or ".airlock-record-<run_id>.<anything>.tmp". */
static bool is_temp_of(const char *name, const char *run_id)
{
	size_t p = strlen(RECORD_TMP_PREFIX), n = strlen(run_id), l = strlen(name);

	if (!strneq(name, RECORD_TMP_PREFIX, p) || !strneq(name + p, run_id, n))
		return false;
	name += p + n;
	l -= p + n;
	return streq(name, ".tmp") || (l > 5 && name[0] == '.' && streq(name + l - 4, ".tmp"));
}

int record_sweep_temps(int dir_fd, const char *run_id)
{
	struct dirent *de;
	int fd, n = 0;
	DIR *d;

	fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		safe_close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!is_temp_of(de->d_name, run_id) ||
		    fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (unlinkat(dir_fd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}
