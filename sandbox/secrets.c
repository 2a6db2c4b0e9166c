/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parent side of a run's secret files: a private tmpfs made with the new mount API
 * (fsopen/fsmount) that is never attached anywhere in the supervisor's mount namespace.
 * The supervisor writes the files through the detached mount's fd while it is still
 * privileged; the sandbox child binds each file where the policy wants it (mountns.c)
 * and lets go of the tmpfs's root. Nothing of it is ever on a disk or in a host path, and
 * it goes away with the task's mount namespace, also when the supervisor is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "mounts-internal.h"
#include "policy.h"
#include "sandbox.h"
#include "strv.h"

#define SECRETS_PAGE 4096ULL
#define SECRETS_MAX_FILES 256

void mounts_secret_name(char *buf, size_t len, size_t i)
{
	snprintf(buf, len, "%zu", i);
}

/* Pages the files take, plus one for the directory; never 0 (which would mean no limit). */
static uint64_t secrets_size(const struct sandbox_secret_file *files, size_t n)
{
	uint64_t pages = 1;

	for (size_t i = 0; i < n; i++)
		pages += (files[i].size + SECRETS_PAGE - 1) / SECRETS_PAGE;
	return pages * SECRETS_PAGE;
}

/* A new tmpfs as a detached mount: 0700, owned by uid:gid, nosuid, nodev, noexec. */
static int tmpfs_open(uint64_t size, size_t n_files, uid_t uid, gid_t gid)
{
	return mounts_tmpfs_open(&(struct mounts_tmpfs){ .source = "airlock-secrets",
							 .size = size,
							 .nr_inodes = n_files + 1,
							 .owned = true,
							 .uid = uid,
							 .gid = gid,
							 .noswap = true });
}

static int write_file(int dir_fd, size_t i, const struct sandbox_secret_file *f, uid_t uid,
		      gid_t gid)
{
	_cleanup_close_ int fd = -EBADF;
	char name[24];

	mounts_secret_name(name, sizeof(name), i);
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (fd < 0)
		return -errno;
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0400) < 0)
		return -errno;
	return write_all(fd, f->data, f->size);
}

static int make_readonly(int mnt_fd)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount_setattr(mnt_fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return -errno;
	return 0;
}

int sandbox_mounts_add_secrets(struct sandbox_mounts *m, const struct policy *p, uid_t host_id_base,
			       const struct sandbox_secret_file *files, size_t n)
{
	uid_t uid = host_id_base + p->identity.uid;
	gid_t gid = host_id_base + p->identity.gid;
	_cleanup_close_ int mnt_fd = -EBADF;
	char **targets = NULL;
	int r;

	if (m->secrets_fd >= 0)
		return -EEXIST;
	if (n == 0)
		return 0;
	if (n > SECRETS_MAX_FILES)
		return -E2BIG;

	mnt_fd = tmpfs_open(secrets_size(files, n), n, uid, gid);
	if (mnt_fd < 0)
		return mnt_fd;
	for (size_t i = 0; i < n; i++) {
		r = write_file(mnt_fd, i, &files[i], uid, gid);
		if (r >= 0)
			r = strv_push_copy(&targets, files[i].target);
		if (r < 0) {
			strv_free(targets);
			return r;
		}
	}
	r = make_readonly(mnt_fd);
	if (r < 0) {
		strv_free(targets);
		return r;
	}
	m->secrets_fd = TAKE_FD(mnt_fd);
	m->secret_targets = targets;
	return 0;
}
