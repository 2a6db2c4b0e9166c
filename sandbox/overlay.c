/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parent side of an overlay workspace ("workspace": { "mode": "overlay" }). The
 * supervisor, still privileged in the initial user namespace, builds the whole overlay as
 * detached mounts with the new mount API, and nothing of it is ever attached in its own
 * mount namespace:
 *
 *   - the upper layer: a tmpfs of workspace.size bytes private to the run, holding
 *     SANDBOX_OVERLAY_UPPER (the task's writes) and "work" (overlayfs's scratch directory);
 *   - the lower layer: a read-only clone of the host workspace, idmapped so that its
 *     owner's files are the task's (as for "rw"); the host files are never written;
 *   - the overlay itself, which the sandbox child attaches at /workspace.
 *
 * The supervisor keeps two fds past the task's end (sandbox_mounts_take_overlay()): the
 * tmpfs's root, so the upper layer outlives the task's mount namespace until its change
 * set is read, and a plain (not idmapped) read-only clone of the workspace to compare it
 * with. Both go away when closed: nothing is left in any mount namespace.
 *
 * Options: redirect_dir, metacopy and index off, so that every change lives in the upper
 * layer as plain files, whiteouts and opaque directories (a renamed lower directory is
 * copied, never redirected; a chmod copies the data, never leaves it in the lower).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "mounts-internal.h"

/* The upper layer's tmpfs, detached: root 0700 (only the supervisor reaches it). */
static int upper_tmpfs_open(uint64_t size)
{
	return mounts_tmpfs_open(
		&(struct mounts_tmpfs){ .source = "airlock-workspace", .size = size });
}

/*
 * SANDBOX_OVERLAY_UPPER takes the workspace root's mode and belongs to the task (the overlay's root is
 * the upper directory), "work" stays root's. Returns 0 or -errno.
 */
static int upper_dirs_make(int tmpfs_fd, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdirat(tmpfs_fd, SANDBOX_OVERLAY_UPPER, 0700) < 0 ||
	    mkdirat(tmpfs_fd, SANDBOX_OVERLAY_WORK, 0700) < 0)
		return -errno;
	if (fchownat(tmpfs_fd, SANDBOX_OVERLAY_UPPER, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(tmpfs_fd, SANDBOX_OVERLAY_UPPER, mode & 07777, 0) < 0)
		return -errno;
	return 0;
}

/* A read-only, nosuid, nodev clone of the tree at ws_fd; idmapped by userns_fd if >= 0. */
static int lower_clone(int ws_fd, int userns_fd)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};
	_cleanup_close_ int fd = -EBADF;

	fd = open_tree(ws_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (fd < 0)
		return -errno;
	if (userns_fd >= 0) {
		attr.attr_set |= MOUNT_ATTR_IDMAP;
		attr.userns_fd = (uint64_t)userns_fd;
	} else
		attr.attr_set |= MOUNT_ATTR_NOEXEC;
	if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* Hands overlayfs its three layers by fd (Linux 6.13+: "lowerdir+", "upperdir", "workdir"). */
static int overlay_set_layers(int fs_fd, int lower_fd, int tmpfs_fd)
{
	_cleanup_close_ int upper_fd = -EBADF, work_fd = -EBADF;

	upper_fd = openat(tmpfs_fd, SANDBOX_OVERLAY_UPPER,
			  O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	work_fd = openat(tmpfs_fd, SANDBOX_OVERLAY_WORK,
			 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (upper_fd < 0 || work_fd < 0)
		return -errno;
	if (fsconfig(fs_fd, FSCONFIG_SET_FD, "lowerdir+", NULL, lower_fd) < 0 ||
	    fsconfig(fs_fd, FSCONFIG_SET_FD, "upperdir", NULL, upper_fd) < 0 ||
	    fsconfig(fs_fd, FSCONFIG_SET_FD, "workdir", NULL, work_fd) < 0)
		return -errno;
	return 0;
}

/* The overlay as a detached mount, nosuid and nodev (noexec when asked). */
static int overlay_mount(int lower_fd, int tmpfs_fd, bool noexec, const char **reterr_what)
{
	static const char *const options[][2] = {
		{ "source", "airlock-workspace" },
		{ "redirect_dir", "off" },
		{ "metacopy", "off" },
		{ "index", "off" },
		{ "xino", "off" },
		{ "nfs_export", "off" },
	};
	_cleanup_close_ int fs_fd = -EBADF;
	int fd, r;

	*reterr_what = SANDBOX_OVERLAY_ERR_FS;
	fs_fd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs_fd < 0)
		return -errno;
	*reterr_what = SANDBOX_OVERLAY_ERR_LAYERS;
	r = overlay_set_layers(fs_fd, lower_fd, tmpfs_fd);
	if (r < 0)
		return r;
	*reterr_what = SANDBOX_OVERLAY_ERR_OPTIONS;
	for (size_t i = 0; i < ELEMENTSOF(options); i++) {
		r = mounts_fs_set_option(fs_fd, options[i][0], options[i][1]);
		if (r < 0)
			return r;
	}
	*reterr_what = SANDBOX_OVERLAY_ERR_CREATE;
	if (fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	fd = fsmount(fs_fd, FSMOUNT_CLOEXEC,
		     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (noexec ? MOUNT_ATTR_NOEXEC : 0));
	return fd < 0 ? -errno : fd;
}

int mounts_overlay_open(struct sandbox_mounts *m, int ws_fd, const struct stat *ws_st,
			int userns_fd, uint64_t size, uid_t uid, gid_t gid, bool noexec,
			const char **reterr_what)
{
	_cleanup_close_ int tmpfs_fd = -EBADF, lower_fd = -EBADF, plain_fd = -EBADF;
	int fd, r;

	*reterr_what = SANDBOX_OVERLAY_ERR_TMPFS;
	tmpfs_fd = upper_tmpfs_open(size);
	if (tmpfs_fd < 0)
		return tmpfs_fd;
	r = upper_dirs_make(tmpfs_fd, ws_st->st_mode, uid, gid);
	if (r < 0)
		return r;

	*reterr_what = SANDBOX_OVERLAY_ERR_IDMAP;
	lower_fd = lower_clone(ws_fd, userns_fd);
	if (lower_fd < 0)
		return lower_fd;
	plain_fd = lower_clone(ws_fd, -EBADF);
	if (plain_fd < 0)
		return plain_fd;

	fd = overlay_mount(lower_fd, tmpfs_fd, noexec, reterr_what);
	if (fd < 0)
		return fd;
	m->overlay_upper_fd = TAKE_FD(tmpfs_fd);
	m->overlay_lower_fd = TAKE_FD(plain_fd);
	return fd;
}

int sandbox_mounts_take_overlay(struct sandbox_mounts *m, int *ret_upper_fd, int *ret_lower_fd)
{
	if (!m || m->overlay_upper_fd < 0)
		return -ENOENT;
	*ret_upper_fd = TAKE_FD(m->overlay_upper_fd);
	*ret_lower_fd = TAKE_FD(m->overlay_lower_fd);
	return 0;
}
