/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "ns-util.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* What a scan looks for, and where it found each namespace first (a path to open it). */
struct scan {
	const unsigned long *inos;
	bool *alive;
	char (*where)[PATH_MAX]; /* optional */
	size_t n;
};

/* Marks the namespace named by s ("net:[ino]") alive if it is one of inos; path opens it. */
static void mark(const char *s, const char *path, struct scan *sc)
{
	unsigned long ino;
	char end;

	if (sscanf(s, "net:[%lu%c", &ino, &end) != 2 || end != ']')
		return;
	for (size_t i = 0; i < sc->n; i++)
		if (sc->inos[i] == ino) {
			if (sc->where && !sc->alive[i])
				snprintf(sc->where[i], PATH_MAX, "%s", path);
			sc->alive[i] = true;
		}
}

/* Every process's network namespace. */
static int scan_processes(struct scan *sc)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[NAME_MAX + 16], link[64];
		ssize_t len;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/ns/net", de->d_name);
		len = readlinkat(dirfd(d), path, link, sizeof(link) - 1);
		if (len <= 0)
			continue; /* gone meanwhile, or a kernel thread */
		link[len] = '\0';
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		mark(link, path, sc);
	}
	return 0;
}

/* nsfs bind mounts: mountinfo's fourth field is the namespace ("net:[ino]"), the fifth
 * where it is mounted (octal escapes left as they are: such a mount is not found again). */
static int scan_mounts(struct scan *sc)
{
	_cleanup_free_ char *mi = NULL;
	int r;

	r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &mi, NULL);
	if (r < 0)
		return r;
	for (char *line = mi, *next; line && *line; line = next) {
		char root[256], mnt[PATH_MAX];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strstr(line, " - nsfs "))
			continue;
		if (sscanf(line, "%*s %*s %*s %255s %4095s", root, mnt) == 2)
			mark(root, mnt, sc);
	}
	return 0;
}

static int scan(struct scan *sc)
{
	int r;

	for (size_t i = 0; i < sc->n; i++)
		sc->alive[i] = false;
	r = scan_processes(sc);
	if (r >= 0)
		r = scan_mounts(sc);
	if (r < 0)
		for (size_t i = 0; i < sc->n; i++)
			sc->alive[i] = true;
	return r;
}

int netns_in_use(const unsigned long *inos, bool *alive, size_t n)
{
	struct scan sc = { .inos = inos, .alive = alive, .n = n };

	return scan(&sc);
}

/* The cookie of the namespace the calling thread is in; -ENOPROTOOPT before Linux 5.14. */
static int cookie_here(uint64_t *ret)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*ret);

	if (fd < 0)
		return -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, ret, &len) < 0)
		return -errno;
	return 0;
}

/* The cookie of the namespace at path, which must still be inode ino. */
static int cookie_of(const char *path, unsigned long ino, uint64_t *ret)
{
	_cleanup_close_ int fd = -EBADF, self = -EBADF;
	struct stat st;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((unsigned long)st.st_ino != ino)
		return -ESTALE;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		return -errno;
	r = cookie_here(ret);
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* going on in another namespace would act on the wrong network */
	return r;
}

int netns_key_self(char *buf, size_t len)
{
	struct stat st;
	uint64_t cookie;
	int r;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	r = cookie_here(&cookie);
	if (r == -ENOPROTOOPT)
		r = snprintf(buf, len, "%lu", (unsigned long)st.st_ino);
	else if (r >= 0)
		r = snprintf(buf, len, "%lu-%" PRIu64, (unsigned long)st.st_ino, cookie);
	if (r < 0)
		return r;
	return (size_t)r < len ? 0 : -ENAMETOOLONG;
}

int netns_name_in_use(const char *name)
{
	char where[1][PATH_MAX];
	unsigned long ino;
	uint64_t want = 0, cookie;
	bool alive, has_cookie;
	struct scan sc = { .inos = &ino, .alive = &alive, .where = where, .n = 1 };
	char *end;

	if (!isdigit((unsigned char)name[0]))
		return -EINVAL;
	errno = 0;
	ino = strtoul(name, &end, 10);
	has_cookie = *end == '-';
	if (has_cookie) {
		if (!isdigit((unsigned char)end[1]))
			return -EINVAL;
		want = strtoull(end + 1, &end, 10);
	}
	if (errno || *end != '\0')
		return -EINVAL;
	if (scan(&sc) < 0 || !alive)
		return alive;
	if (!has_cookie)
		return 1;
	/* An inode number is reused once its namespace is gone; the cookie never is. */
	if (cookie_of(where[0], ino, &cookie) < 0)
		return 1; /* cannot tell: in use */
	return cookie == want;
}
