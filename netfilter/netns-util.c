/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "netns-util.h"

static int netns_current(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Returns to the namespace saved in fd; failing that there is no safe way on. */
static void netns_return(int fd)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		abort();
}

int netns_new(void)
{
	_cleanup_close_ int self = -EBADF;
	int fd, r;

	self = netns_current();
	if (self < 0)
		return self;
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	fd = netns_current();
	r = fd < 0 ? fd : 0;
	netns_return(self);
	return r < 0 ? r : fd;
}

int netns_socket(int netns_fd, int domain, int type, int protocol)
{
	_cleanup_close_ int self = -EBADF;
	int fd;

	if (netns_fd < 0) { /* the caller's own namespace */
		fd = socket(domain, type | SOCK_CLOEXEC, protocol);
		return fd < 0 ? -errno : fd;
	}
	self = netns_current();
	if (self < 0)
		return self;
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		fd = -errno;
	netns_return(self);
	return fd;
}

unsigned long netns_inode(int netns_fd)
{
	struct stat st;

	if (fstat(netns_fd, &st) < 0)
		return 0;
	return (unsigned long)st.st_ino;
}

int netns_enter(int netns_fd)
{
	int self = netns_current();

	if (self < 0)
		return self;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		int r = -errno;

		safe_close(self);
		return r;
	}
	return self;
}

void netns_leave(int saved_fd)
{
	netns_return(saved_fd);
	safe_close(saved_fd);
}
