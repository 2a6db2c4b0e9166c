/* SPDX-License-Identifier: GPL-2.0-or-later */
/* airlock's own files, found beside the executable or where it was installed (helper-file.h). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "helper-file.h"
#include "macro.h"

_printf_(3, 4) static int helper_fail(struct helper_file *h, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->problem, sizeof(h->problem), fmt, ap);
	va_end(ap);
	return error;
}

/* The helper's path: beside the executable, unless it is the one installed in bindir. */
static int helper_locate(const char *name, const char *bindir, const char *installed_dir,
			 struct helper_file *h)
{
	char exe[PATH_MAX];
	struct stat here, bin;
	char *slash;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe));
	if (n < 0 || (size_t)n >= sizeof(exe))
		return helper_fail(h, n < 0 ? -errno : -ENAMETOOLONG,
				   "cannot be located: no path for /proc/self/exe");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return helper_fail(h, -EINVAL, "cannot be located: /proc/self/exe is '%s'", exe);
	*slash = '\0';

	if (stat(exe[0] ? exe : "/", &here) == 0 && stat(bindir, &bin) == 0 &&
	    here.st_dev == bin.st_dev && here.st_ino == bin.st_ino)
		n = snprintf(h->path, sizeof(h->path), "%s/%s", installed_dir, name);
	else
		n = snprintf(h->path, sizeof(h->path), "%s/%s", exe, name);
	if ((size_t)n >= sizeof(h->path))
		return helper_fail(h, -ENAMETOOLONG, "cannot be located: path too long");
	return 0;
}

/* Only root may be able to have written st: owned by root, no group or other write bit. */
static int check_owner(struct helper_file *h, const struct stat *st, const char *what)
{
	if (st->st_uid != 0)
		return helper_fail(h, -EPERM, "%s not owned by root", what);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return helper_fail(h, -EPERM, "%s writable by group or others", what);
	return 0;
}

/*
 * Opens the helper read-only and checks it and its directory. The directory is checked
 * too: whoever can write it can replace the file by another one. Returns the fd or -errno.
 */
static int helper_open_checked(struct helper_file *h)
{
	_cleanup_close_ int dir = -EBADF, fd = -EBADF;
	char *slash = strrchr(h->path, '/');
	struct stat st;
	int r;

	assert(slash); /* helper_locate() made it "<dir>/<name>" */
	*slash = '\0';
	dir = open(h->path[0] ? h->path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	*slash = '/';
	if (dir < 0)
		return helper_fail(h, -errno, "cannot be opened: %s", strerror(errno));
	if (fstat(dir, &st) < 0)
		return helper_fail(h, -errno, "cannot be opened: %s", strerror(errno));
	r = check_owner(h, &st, "is in a directory");
	if (r < 0)
		return r;

	/* O_NONBLOCK: a FIFO in its place must not hang the run. */
	fd = openat(dir, slash + 1, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ELOOP)
		return helper_fail(h, -ELOOP, "is a symbolic link");
	if (fd < 0)
		return helper_fail(h, -errno, "cannot be opened: %s", strerror(errno));
	if (fstat(fd, &st) < 0)
		return helper_fail(h, -errno, "cannot be opened: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return helper_fail(h, -EINVAL, "is not a regular file");
	r = check_owner(h, &st, "is");
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

int helper_file_open(const char *name, const char *bindir, const char *installed_dir,
		     struct helper_file *h)
{
	int r;

	h->problem[0] = '\0';
	snprintf(h->path, sizeof(h->path), "%s", name);
	r = helper_locate(name, bindir, installed_dir, h);
	if (r < 0)
		return r;
	return helper_open_checked(h);
}
