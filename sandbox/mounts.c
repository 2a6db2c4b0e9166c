/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The privileged half of the mount tree: the supervisor clones every host tree the task
 * will see (open_tree(OPEN_TREE_CLONE)) and sets its attributes while it still holds
 * CAP_SYS_ADMIN in the initial user namespace. The child later only attaches these
 * detached trees, so it never needs to reach host paths it could not traverse itself.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "mounts-internal.h"
#include "path-util.h"
#include "policy.h"
#include "sandbox.h"
#include "strv.h"

const char *const mounts_system_dirs[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"
};
const size_t mounts_n_system_dirs = ELEMENTSOF(mounts_system_dirs);
const char *const mounts_etc_entries[] = { "ssl",	  "ca-certificates", "alternatives",
					   "ld.so.cache", "ld.so.conf",	     "ld.so.conf.d",
					   "localtime",	  "protocols",	     "services",
					   "mime.types" };
const size_t mounts_n_etc_entries = ELEMENTSOF(mounts_etc_entries);
const char *const mounts_etc_generated[] = { "passwd",	 "group",	"hosts",
					     "hostname", "resolv.conf", "nsswitch.conf" };
const size_t mounts_n_etc_generated = ELEMENTSOF(mounts_etc_generated);

bool mount_needs_noexec(char *const *exec, const char *target)
{
	if (!exec)
		return false;
	for (char *const *e = exec; *e; e++)
		if (path_is_beneath(target, *e))
			return false;
	return true;
}

bool mount_exec_path_needs_rebind(const struct policy *p, char *const *exec, const char *exec_path)
{
	const struct policy_filesystem *fs = &p->filesystem;

	if (path_is_beneath(exec_path, "/workspace") && mount_needs_noexec(exec, "/workspace"))
		return true;
	for (size_t i = 0; i < fs->n_tmpfs; i++)
		if (path_is_beneath(exec_path, fs->tmpfs[i].target) &&
		    mount_needs_noexec(exec, fs->tmpfs[i].target))
			return true;
	for (size_t i = 0; i < fs->n_binds; i++)
		if (path_is_beneath(exec_path, fs->binds[i].target) &&
		    mount_needs_noexec(exec, fs->binds[i].target))
			return true;
	return false;
}

static int mounts_add(struct sandbox_mounts *m, struct mount_entry e)
{
	if (m->n_entries >= SANDBOX_MAX_MOUNTS)
		return -E2BIG;
	m->entries[m->n_entries++] = e;
	return 0;
}

static int set_attrs(int fd, enum policy_mode mode, bool noexec, int userns_fd)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
	};

	if (noexec)
		attr.attr_set |= MOUNT_ATTR_NOEXEC;
	if (mode == POLICY_MODE_RO)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (userns_fd >= 0) {
		attr.attr_set |= MOUNT_ATTR_IDMAP;
		attr.userns_fd = (uint64_t)userns_fd;
	}
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return -errno;
	return 0;
}

/*
 * Opens path (relative to dir_fd) as an O_PATH fd with openat2() resolve flags: every
 * host path is resolved exactly once, here, and the tree is cloned from that very fd, so
 * nothing can swap a component between a check and the clone. Returns an fd or -errno
 * (-ELOOP: a symlink where resolve forbids one).
 */
int mounts_open_resolved(int dir_fd, const char *path, uint64_t resolve)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = resolve | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

/* Clones the tree at src_fd (an O_PATH fd) and records it at target with the given mode. */
static int add_tree(struct sandbox_mounts *m, enum mount_phase phase, int src_fd,
		    const char *target, enum policy_mode mode, bool noexec, int userns_fd)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *t = NULL;
	struct stat st;
	int r;

	fd = open_tree(src_fd, "",
		       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return -EINVAL;

	r = set_attrs(fd, mode, noexec, userns_fd);
	if (r < 0)
		return r;

	t = strdup(target);
	if (!t)
		return -ENOMEM;
	r = mounts_add(m, (struct mount_entry){ .kind = MOUNT_ENTRY_TREE,
						.phase = phase,
						.target = t,
						.fd = fd,
						.is_dir = S_ISDIR(st.st_mode) });
	if (r < 0)
		return r;
	TAKE_PTR(t);
	TAKE_FD(fd);
	return 0;
}

static int add_symlink(struct sandbox_mounts *m, enum mount_phase phase, const char *target,
		       const char *link)
{
	char *t = strdup(target), *l = strdup(link);
	int r;

	r = t && l ? mounts_add(m, (struct mount_entry){ .kind = MOUNT_ENTRY_SYMLINK,
							 .phase = phase,
							 .target = t,
							 .link = l })
		   : -ENOMEM;
	if (r < 0) {
		free(t);
		free(l);
	}
	return r;
}

/*
 * Adds one entry of the system root: a symlink is recreated inside the sandbox (where it
 * resolves against the sandbox's own tree, never the host's); a directory or file is
 * cloned. A missing entry is skipped when optional.
 */
static int add_root_entry(struct sandbox_mounts *m, int dir_fd, const char *name,
			  const char *target, bool optional, bool noexec)
{
	_cleanup_close_ int fd = -EBADF;
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT && optional ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dir_fd, name, link, sizeof(link) - 1);
		if (n < 0)
			return -errno;
		link[n] = '\0';
		return add_symlink(m, MOUNT_PHASE_SYSTEM, target, link);
	}
	fd = mounts_open_resolved(dir_fd, name, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
	if (fd < 0)
		return fd;
	return add_tree(m, MOUNT_PHASE_SYSTEM, fd, target, POLICY_MODE_RO, noexec, -EBADF);
}

/* usr and the merged-usr links (or real directories on split-usr systems). */
static int add_system(struct sandbox_mounts *m, int root_fd)
{
	for (size_t i = 0; i < mounts_n_system_dirs; i++) {
		char dst[64];
		int r;

		snprintf(dst, sizeof(dst), "/%s", mounts_system_dirs[i]);
		r = add_root_entry(m, root_fd, mounts_system_dirs[i], dst, i > 0, false);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * One /etc entry a policy names (filesystem.etc): read-only, noexec, and required. A
 * nested name ("ssl/certs") may not pass through a link; its last component may be one,
 * recreated in the sandbox like the system's own links.
 */
static int add_policy_etc_entry(struct sandbox_mounts *m, int etc_fd, const char *name)
{
	_cleanup_close_ int parent_fd = -EBADF;
	const char *base = strrchr(name, '/');
	char dst[PATH_MAX];

	snprintf(dst, sizeof(dst), "/etc/%s", name);
	if (base) {
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%.*s", (int)(base - name), name);
		parent_fd =
			mounts_open_resolved(etc_fd, parent, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
		if (parent_fd < 0)
			return parent_fd;
		return add_root_entry(m, parent_fd, base + 1, dst, false, true);
	}
	return add_root_entry(m, etc_fd, name, dst, false, true);
}

static int add_etc(struct sandbox_mounts *m, const struct policy *p, int root_fd,
		   const char **reterr_path)
{
	_cleanup_close_ int etc_fd = -EBADF;
	int r;

	etc_fd = mounts_open_resolved(root_fd, "etc", RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
	if (etc_fd == -ENOENT && !p->filesystem.etc)
		return 0;
	if (etc_fd < 0)
		return etc_fd;
	for (size_t i = 0; i < mounts_n_etc_entries; i++) {
		char dst[PATH_MAX];

		snprintf(dst, sizeof(dst), "/etc/%s", mounts_etc_entries[i]);
		r = add_root_entry(m, etc_fd, mounts_etc_entries[i], dst, true, false);
		if (r < 0)
			return r;
	}
	STRV_FOREACH(e, p->filesystem.etc) {
		*reterr_path = *e;
		r = add_policy_etc_entry(m, etc_fd, *e);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A user namespace whose only mapping sends the workspace owner to the task's host ids.
 * Used as an idmapped mount, files owned by the workspace owner appear owned by the task,
 * and the task's writes land on disk owned by that owner.
 */
static int idmap_userns_open(uid_t owner_uid, gid_t owner_gid, uid_t task_uid, gid_t task_gid)
{
	char path[64], map[64];
	_cleanup_close_ int ns_fd = -EBADF;
	int pipefd[2], r = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		(void)!read(pipefd[0], &c, 1);
		_exit(0);
	}
	close(pipefd[0]);

	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	snprintf(map, sizeof(map), "%u %u 1\n", owner_uid, task_uid);
	r = write_string_at(AT_FDCWD, path, map);
	if (r >= 0) {
		snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
		snprintf(map, sizeof(map), "%u %u 1\n", owner_gid, task_gid);
		r = write_string_at(AT_FDCWD, path, map);
	}
	if (r >= 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
		ns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (ns_fd < 0)
			r = -errno;
	}
	close(pipefd[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return r;
	return TAKE_FD(ns_fd);
}

/* The overlay (overlay.c) at /workspace; on failure *reterr_path names the step. */
static int add_overlay(struct sandbox_mounts *m, const struct policy *p, int ws_fd,
		       const struct stat *st, int userns_fd, uid_t host_id_base, bool noexec,
		       const char **reterr_path)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *t = NULL;
	int r;

	fd = mounts_overlay_open(m, ws_fd, st, userns_fd, p->filesystem.workspace_size,
				 host_id_base + p->identity.uid, host_id_base + p->identity.gid,
				 noexec, reterr_path);
	if (fd < 0)
		return fd;
	t = strdup("/workspace");
	if (!t)
		return -ENOMEM;
	r = mounts_add(m, (struct mount_entry){ .kind = MOUNT_ENTRY_TREE,
						.phase = MOUNT_PHASE_WORKSPACE,
						.target = t,
						.fd = fd,
						.is_dir = true });
	if (r < 0)
		return r;
	TAKE_PTR(t);
	TAKE_FD(fd);
	m->workspace_idmapped = userns_fd >= 0;
	return 0;
}

static int add_workspace(struct sandbox_mounts *m, const struct policy *p, const char *workspace,
			 uid_t host_id_base, const char **reterr_path)
{
	_cleanup_close_ int userns_fd = -EBADF;
	enum policy_mode mode = p->filesystem.workspace_mode;
	struct stat st;
	bool noexec;
	int r;

	_cleanup_close_ int ws_fd = -EBADF;

	/* The caller passes a resolved path: any symlink now means it changed under us. */
	ws_fd = mounts_open_resolved(AT_FDCWD, workspace, RESOLVE_NO_SYMLINKS);
	if (ws_fd < 0)
		return ws_fd;
	if (fstat(ws_fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;

	/*
	 * Idmapped so that the owner's files are the task's: needed to write (rw), and to
	 * enter a workspace others may not (a 0700 project directory) even read-only.
	 */
	if (mode != POLICY_MODE_RO || (st.st_mode & (S_IROTH | S_IXOTH)) != (S_IROTH | S_IXOTH)) {
		userns_fd = idmap_userns_open(st.st_uid, st.st_gid, host_id_base + p->identity.uid,
					      host_id_base + p->identity.gid);
		if (userns_fd < 0)
			return userns_fd;
	}
	noexec = mount_needs_noexec(m->exec_paths, "/workspace");
	if (mode == POLICY_MODE_OVERLAY)
		return add_overlay(m, p, ws_fd, &st, userns_fd, host_id_base, noexec, reterr_path);
	r = add_tree(m, MOUNT_PHASE_WORKSPACE, ws_fd, "/workspace", mode, noexec, userns_fd);
	if (r == -EINVAL && userns_fd >= 0)
		/*
		 * This filesystem cannot be idmapped on this kernel (tmpfs before 6.3): the task
		 * could neither write nor enter the workspace. Refuse rather than run a task
		 * that fails in confusing ways.
		 */
		return -EOPNOTSUPP;
	m->workspace_idmapped = r >= 0 && userns_fd >= 0;
	return r;
}

static int add_bind(struct sandbox_mounts *m, const struct policy *p, const struct policy_bind *b)
{
	_cleanup_close_ int fd = -EBADF;

	/* A symlink anywhere in a bind source could be swapped by whoever owns its parent. */
	fd = mounts_open_resolved(AT_FDCWD, b->source, RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return fd;
	return add_tree(m, MOUNT_PHASE_BINDS, fd, b->target, b->mode,
			mount_needs_noexec(m->exec_paths, b->target), -EBADF);
}

#define VIEW_TARGET_MAX (sizeof(CGROUP_VIEW_ROOT) + CGROUP_VIEW_NAME_MAX)

/* Where a view entry goes: CGROUP_VIEW_ROOT, or CGROUP_VIEW_ROOT "/" name. */
static int view_target(char buf[static VIEW_TARGET_MAX], const char *name)
{
	size_t n = strnlen(name, CGROUP_VIEW_NAME_MAX);

	if (n >= CGROUP_VIEW_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, CGROUP_VIEW_ROOT, sizeof(CGROUP_VIEW_ROOT) - 1);
	buf += sizeof(CGROUP_VIEW_ROOT) - 1;
	if (n > 0)
		*buf++ = '/';
	memcpy(buf, name, n + 1);
	return 0;
}

/* The alias links of co-mounted v1 hierarchies ("cpu" -> "cpu,cpuacct"). */
static int add_cgroup_links(struct sandbox_mounts *m, const char *const *names, size_t n)
{
	struct cgroup_view_link links[CGROUP_VIEW_LINKS_MAX];
	int k;

	k = cgroup_view_links(names, n, links, ELEMENTSOF(links));
	for (int i = 0; i < k; i++) {
		char target[VIEW_TARGET_MAX];
		int r;

		r = view_target(target, links[i].name);
		if (r >= 0)
			r = add_symlink(m, MOUNT_PHASE_CGROUP, target, links[i].target);
		if (r < 0)
			return r;
	}
	return MIN(k, 0);
}

/*
 * The run's own cgroup, read-only (and noexec, nosuid, nodev) at /sys/fs/cgroup: the v2
 * cgroup itself, or on v1 each hierarchy's run directory under the hierarchy's name.
 * Each is a bind of the run's directory, so nothing above it is reachable.
 */
static int add_cgroup_view(struct sandbox_mounts *m, const struct cgroup_run *cg)
{
	struct cgroup_view_dir dirs[_CGROUP_CONTROLLER_MAX];
	const char *names[_CGROUP_CONTROLLER_MAX];
	size_t n = cgroup_run_view(cg, dirs, ELEMENTSOF(dirs));

	for (size_t i = 0; i < n; i++) {
		char target[VIEW_TARGET_MAX];
		int r;

		r = view_target(target, dirs[i].name);
		if (r >= 0)
			r = add_tree(m, MOUNT_PHASE_CGROUP, dirs[i].fd, target, POLICY_MODE_RO,
				     true, -EBADF);
		if (r < 0)
			return r;
		names[i] = dirs[i].name;
	}
	return add_cgroup_links(m, names, n);
}

int sandbox_mounts_open(const struct policy *p, char *const *exec_paths, const char *workspace,
			uid_t host_id_base, const struct cgroup_run *cg,
			struct sandbox_mounts **ret, const char **reterr_path)
{
	_cleanup_close_ int root_fd = -EBADF;
	struct sandbox_mounts *m;
	const char *root = p->filesystem.rootfs ? p->filesystem.rootfs : "/";
	int r;

	assert(!p->filesystem.exec == !exec_paths);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->secrets_fd = -EBADF;
	m->overlay_upper_fd = -EBADF;
	m->overlay_lower_fd = -EBADF;
	if (exec_paths) {
		m->exec_paths = strv_copy(exec_paths);
		if (!m->exec_paths) {
			free(m);
			return -ENOMEM;
		}
	}

	*reterr_path = root;
	root_fd = mounts_open_resolved(AT_FDCWD, root, RESOLVE_NO_SYMLINKS);
	r = root_fd < 0 ? root_fd : add_system(m, root_fd);
	if (r >= 0)
		r = add_etc(m, p, root_fd, reterr_path);
	if (r < 0)
		goto fail;
	*reterr_path = workspace;
	r = add_workspace(m, p, workspace, host_id_base, reterr_path);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < p->filesystem.n_binds; i++) {
		*reterr_path = p->filesystem.binds[i].source;
		r = add_bind(m, p, &p->filesystem.binds[i]);
		if (r < 0)
			goto fail;
	}
	*reterr_path = CGROUP_VIEW_ROOT;
	r = p->filesystem.cgroup ? add_cgroup_view(m, cg) : 0;
	if (r < 0)
		goto fail;
	*reterr_path = NULL;
	*ret = m;
	return 0;
fail:
	sandbox_mounts_free(m);
	return r;
}

bool sandbox_mounts_workspace_idmapped(const struct sandbox_mounts *m)
{
	return m && m->workspace_idmapped;
}

struct sandbox_mounts *sandbox_mounts_free(struct sandbox_mounts *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_entries; i++) {
		struct mount_entry *e = &m->entries[i];

		if (e->kind == MOUNT_ENTRY_TREE)
			safe_close(e->fd);
		free(e->target);
		free(e->link);
	}
	strv_free(m->exec_paths);
	safe_close(m->secrets_fd);
	safe_close(m->overlay_upper_fd);
	safe_close(m->overlay_lower_fd);
	strv_free(m->secret_targets);
	free(m);
	return NULL;
}
