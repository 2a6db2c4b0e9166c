/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A private tmpfs made with the new mount API (fsopen/fsmount) and never attached in the
 * supervisor's mount namespace: the run's secret files (secrets.c) and an overlay
 * workspace's upper layer (overlay.c) live in one. Also the one fsconfig() string setter.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "mounts-internal.h"

int mounts_fs_set_option(int fs_fd, const char *key, const char *value)
{
	return fsconfig(fs_fd, FSCONFIG_SET_STRING, key, value, 0) < 0 ? -errno : 0;
}

/* The options past "source" and "size", in the order the kernel gets them. */
static int tmpfs_set_options(int fs_fd, const struct mounts_tmpfs *t)
{
	char buf[32];
	int r = 0;

	if (t->nr_inodes > 0) {
		snprintf(buf, sizeof(buf), "%" PRIu64, t->nr_inodes);
		r = mounts_fs_set_option(fs_fd, "nr_inodes", buf);
	}
	if (r >= 0)
		r = mounts_fs_set_option(fs_fd, "mode", "0700");
	if (r >= 0 && t->owned) {
		snprintf(buf, sizeof(buf), "%u", (unsigned)t->uid);
		r = mounts_fs_set_option(fs_fd, "uid", buf);
	}
	if (r >= 0 && t->owned) {
		snprintf(buf, sizeof(buf), "%u", (unsigned)t->gid);
		r = mounts_fs_set_option(fs_fd, "gid", buf);
	}
	if (r < 0)
		return r;
	/* Linux 6.4+: the pages never go to swap. Older kernels do not know the flag. */
	if (t->noswap)
		(void)fsconfig(fs_fd, FSCONFIG_SET_FLAG, "noswap", NULL, 0);
	return 0;
}

int mounts_tmpfs_open(const struct mounts_tmpfs *t)
{
	_cleanup_close_ int fs_fd = -EBADF;
	char buf[32];
	int fd, r;

	fs_fd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs_fd < 0)
		return -errno;
	/* The name mountinfo shows as the mount's source. */
	r = mounts_fs_set_option(fs_fd, "source", t->source);
	snprintf(buf, sizeof(buf), "%" PRIu64, t->size);
	if (r >= 0)
		r = mounts_fs_set_option(fs_fd, "size", buf);
	if (r >= 0)
		r = tmpfs_set_options(fs_fd, t);
	if (r < 0)
		return r;
	if (fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	fd = fsmount(fs_fd, FSMOUNT_CLOEXEC,
		     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	return fd < 0 ? -errno : fd;
}
