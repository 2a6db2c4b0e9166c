/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Landlock execute allowlist. glibc 2.36 has no wrappers, so the three syscalls are called
 * raw. The ruleset handles LANDLOCK_ACCESS_FS_EXECUTE only: reading and writing stay
 * governed by the mount tree, and every ABI version (>= 1) supports this right. Listed
 * paths are opened without following symlinks (-ELOOP otherwise).
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/landlock.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "landlock.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif

static int landlock_create_ruleset(const struct landlock_ruleset_attr *attr, size_t size,
				   uint32_t flags)
{
	return (int)syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

int landlock_abi_version(void)
{
	int v;

	v = landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (v < 0)
		/* ENOSYS: not built in; EOPNOTSUPP: built in but disabled at boot. */
		return (errno == ENOSYS || errno == EOPNOTSUPP) ? -EOPNOTSUPP : -errno;
	return v;
}

/*
 * Without openat2 (Linux < 5.6, or a container's seccomp answering ENOSYS): walk the path
 * one component at a time, never following a symlink. Uses no allocation (forked child).
 */
static int open_path_walk(const char *path)
{
	_cleanup_close_ int fd = -EBADF;
	char buf[PATH_MAX], *comp, *save = NULL;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		struct stat st;
		int next;

		next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return -errno;
		safe_close(fd);
		fd = next;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
	}
	return TAKE_FD(fd);
}

/*
 * Opens an allowlisted path O_PATH without following any symlink in it: a symlink that a
 * task planted in a writable workspace (bin -> /workspace) must not widen the allowlist
 * of a later run. Returns the fd, -ELOOP when a component is a symlink, or -errno.
 */
static int open_path_no_symlinks(const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS,
	};
	int fd;

	fd = (int)syscall(__NR_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS)
		return -errno;
	return open_path_walk(path);
}

static int landlock_allow_exec_beneath(int ruleset_fd, const char *path)
{
	_cleanup_close_ int fd = -EBADF;
	struct landlock_path_beneath_attr attr = {
		.allowed_access = LANDLOCK_ACCESS_FS_EXECUTE,
	};

	if (!path || path[0] != '/')
		return -EINVAL;

	fd = open_path_no_symlinks(path);
	if (fd < 0)
		return fd;

	attr.parent_fd = fd;
	if (syscall(__NR_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) < 0)
		return -errno;
	return 0;
}

int landlock_restrict_exec(char *const *paths)
{
	_cleanup_close_ int ruleset_fd = -EBADF;
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE,
	};
	int r;

	r = landlock_abi_version();
	if (r < 0)
		return r;

	/* The kernel returns the ruleset fd with O_CLOEXEC already set. */
	ruleset_fd = landlock_create_ruleset(&attr, sizeof(attr), 0);
	if (ruleset_fd < 0)
		return -errno;

	for (size_t i = 0; paths && paths[i]; i++) {
		r = landlock_allow_exec_beneath(ruleset_fd, paths[i]);
		if (r < 0)
			return r;
	}

	if (syscall(__NR_landlock_restrict_self, ruleset_fd, 0) < 0)
		return -errno;
	return 0;
}
