/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* First buffer of read_file_at(): most files read are proc and cgroup files of a few lines. */
#define READ_FILE_FIRST 4096

int read_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_file_fd(fd, max, ret, ret_len);
}

int read_file_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t size, len = 0;
	ssize_t n;

	/* Grow as the file does, up to max + 1 bytes (one more than allowed tells -EFBIG). */
	size = MIN(max + 1, (size_t)READ_FILE_FIRST);
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = read_full(fd, buf + len, size - len);
		if (n < 0)
			return (int)n;
		len += (size_t)n;
		if (len < size)
			break;
		if (len > max)
			return -EFBIG;
		size = size > (max + 1) / 2 ? max + 1 : size * 2;
		char *nbuf = realloc(buf, size + 1);
		if (!nbuf)
			return -ENOMEM;
		buf = nbuf;
	}
	buf[len] = '\0';

	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

int write_string_at(int dir_fd, const char *path, const char *s)
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(dir_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	return write_all(fd, s, strlen(s));
}

int open_tmpfile_at(int dir_fd, mode_t mode)
{
	int fd = openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);

	return fd < 0 ? -errno : fd;
}

int link_tmpfile_at(int fd, int dir_fd, const char *name)
{
	char proc[64];

	if (linkat(fd, "", dir_fd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -errno;
	/* AT_EMPTY_PATH takes CAP_DAC_READ_SEARCH; the /proc link does not. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, dir_fd, name, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return 0;
}

DIR *opendir_dup(int dir_fd)
{
	int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		int k = errno;

		close(fd);
		errno = k;
	}
	return d;
}

/* Writes text to the temporary name tmp in dir_fd (gone again on failure). */
static int write_named_tmp(int dir_fd, const char *tmp, const char *text, mode_t mode)
{
	int fd, r;

	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, strlen(text));
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	safe_close(fd);
	if (r < 0)
		(void)unlinkat(dir_fd, tmp, 0);
	return r;
}

int write_file_whole_at(int dir_fd, const char *name, const char *text, mode_t mode, bool replace)
{
	_cleanup_close_ int fd = -EBADF;
	char tmp[64];
	uint64_t rnd;
	int r;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -errno;
	snprintf(tmp, sizeof(tmp), ".%s.%016" PRIx64 ".tmp", name, rnd);
	fd = open_tmpfile_at(dir_fd, mode);
	if (fd == -EOPNOTSUPP || fd == -EISDIR)
		r = write_named_tmp(dir_fd, tmp, text, mode);
	else if (fd < 0)
		return fd;
	else {
		r = write_all(fd, text, strlen(text));
		if (r >= 0 && fsync(fd) < 0)
			r = -errno;
		if (r >= 0 && fchmod(fd, mode) < 0) /* O_TMPFILE's mode passes the umask */
			r = -errno;
		if (r >= 0 && !replace)
			return link_tmpfile_at(fd, dir_fd,
					       name); /* EEXIST: someone made it first */
		if (r >= 0)
			r = link_tmpfile_at(fd, dir_fd, tmp);
	}
	if (r < 0)
		return r;
	if (replace && renameat(dir_fd, tmp, dir_fd, name) < 0)
		r = -errno;
	else if (!replace && linkat(dir_fd, tmp, dir_fd, name, 0) < 0)
		r = -errno; /* EEXIST: someone made it first */
	if (r < 0 || !replace)
		(void)unlinkat(dir_fd, tmp, 0);
	return r;
}

int fd_set_nonblock(int fd, bool nonblock)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -errno;
	flags = nonblock ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, flags) < 0)
		return -errno;
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *copy = NULL;
	char *p;

	/* Usually the parent exists: one mkdir, no walk (this runs ~20 times per start). */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;

	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int open_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

/*
 * Opens the next component of a walk without following a symlink, creating a missing
 * directory with mode (0: never). O_PATH, which opens even a directory we may not read.
 */
static int walk_step(int dir_fd, const char *name, mode_t mode)
{
	struct stat st;
	int fd;

	fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && mode != 0) {
		if (mkdirat(dir_fd, name, mode) < 0 && errno != EEXIST)
			return -errno;
		fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd >= 0)
		return fd;
	if (errno == ENOTDIR && fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return -errno;
}

/* One component at a time from "/": where openat2() is missing, or to create. */
static int open_dir_walk(const char *path, mode_t mode)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *copy = strdup(path);
	char *comp, *save = NULL;
	int r;

	if (!copy)
		return -ENOMEM;
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next = walk_step(fd, comp, mode);

		if (next < 0)
			return next;
		safe_close(fd);
		fd = next;
	}
	r = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

int open_dir_no_symlinks(const char *path, mode_t create_mode)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!path || path[0] != '/')
		return -EINVAL;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS && !(errno == ENOENT && create_mode != 0))
		return -errno;
	return open_dir_walk(path, create_mode);
}

int open_private_dir_at(int dir_fd, const char *name)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	if (mkdirat(dir_fd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid())
		return -EPERM;
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
		return -errno;
	return TAKE_FD(fd);
}
