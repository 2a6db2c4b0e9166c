/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs in the sandbox child before exec: no logging, no allocation beyond the stack.
 * The new root is a tmpfs mounted over /tmp of the child's private mount namespace;
 * everything from the host arrives as a detached tree prepared by mounts.c.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fd-util.h"
#include "macro.h"
#include "mounts-internal.h"
#include "mountns.h"
#include "policy.h"

#define NEW_ROOT "/tmp"
#define DEV_SHM_SIZE "64m"

/* Paths under /proc that expose host-wide state: hidden behind /dev/null or an empty dir. */
static const char *const proc_masked_files[] = { "kcore",	"keys",		 "timer_list",
						 "sched_debug", "latency_stats", "sysrq-trigger",
						 "kallsyms",	"kpagecount",	 "kpageflags",
						 "kpagecgroup", "config.gz",	 "vmallocinfo",
						 "interrupts" };
static const char *const proc_masked_dirs[] = { "acpi", "scsi", "asound", "firmware", "driver" };
static const char *const proc_readonly[] = { "sys", "irq", "bus", "fs" };
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

static int root_path(char *buf, size_t len, const char *path)
{
	int n = snprintf(buf, len, NEW_ROOT "%s", path);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

/* mkdir -p inside the new root for an absolute sandbox path. */
static int mkdir_in_root(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	int r = root_path(p, sizeof(p), path);

	return r < 0 ? r : mkdir_p(p, mode);
}

/* Creates an empty file (mount point for a file bind) inside the new root. */
static int touch_in_root(const char *path)
{
	char p[PATH_MAX], *slash;
	int fd, r;

	r = root_path(p, sizeof(p), path);
	if (r < 0)
		return r;
	slash = strrchr(p, '/');
	*slash = '\0';
	r = mkdir_p(p, 0755);
	if (r < 0)
		return r;
	*slash = '/';
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int write_in_root(const char *path, const char *content, mode_t mode)
{
	char p[PATH_MAX];
	int fd, r;

	r = root_path(p, sizeof(p), path);
	if (r < 0)
		return r;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	r = write_all(fd, content, strlen(content));
	close(fd);
	return r;
}

static int attach_entry(const struct mount_entry *e)
{
	char p[PATH_MAX];
	int r;

	r = root_path(p, sizeof(p), e->target);
	if (r < 0)
		return r;
	if (e->kind == MOUNT_ENTRY_SYMLINK)
		return symlink(e->link, p) < 0 ? -errno : 0;

	r = e->is_dir ? mkdir_in_root(e->target, 0755) : touch_in_root(e->target);
	if (r < 0)
		return r;
	if (move_mount(e->fd, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Attaches the prepared trees of one phase, in the order they were prepared. */
static int attach_entries(const struct sandbox_mounts *m, enum mount_phase phase)
{
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct mount_entry *e = &m->entries[i];
		int r;

		if (e->phase != phase)
			continue;
		r = attach_entry(e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Formats a small file (at most 1 KiB) and writes it inside the new root. */
_printf_(2, 3) static int write_in_rootf(const char *path, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	return write_in_root(path, buf, 0644);
}

static int write_etc(const struct sandbox_config *c)
{
	const struct policy_identity *id = &c->policy->identity;
	int r;

	r = mkdir_in_root("/etc", 0755);
	if (r >= 0)
		r = write_in_rootf("/etc/passwd",
				   "root:x:0:0:root:/root:/usr/sbin/nologin\n"
				   "airlock:x:%u:%u:airlock task:/tmp:/bin/sh\n"
				   "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
				   id->uid, id->gid);
	if (r >= 0)
		r = write_in_rootf("/etc/group", "root:x:0:\nairlock:x:%u:\nnogroup:x:65534:\n",
				   id->gid);
	if (r >= 0)
		r = write_in_rootf(
			"/etc/hosts",
			"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			"127.0.1.1\t%s\n",
			id->hostname);
	if (r >= 0)
		r = write_in_rootf("/etc/hostname", "%s\n", id->hostname);
	if (r >= 0)
		r = write_in_rootf("/etc/resolv.conf", "%s",
				   c->resolv_conf ? c->resolv_conf : "# no network: no resolver\n");
	if (r >= 0)
		r = write_in_rootf("/etc/nsswitch.conf", "%s",
				   "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
				   "networks: files\nprotocols: files\nservices: files\n");
	return r;
}

static int mount_tmpfs_at(const char *path, unsigned long flags, const char *options)
{
	char p[PATH_MAX];
	int r;

	r = mkdir_in_root(path, 0755);
	if (r < 0)
		return r;
	r = root_path(p, sizeof(p), path);
	if (r < 0)
		return r;
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | flags, options) < 0)
		return -errno;
	return 0;
}

static int mount_policy_tmpfs(const struct policy *p, char *const *exec)
{
	for (size_t i = 0; i < p->filesystem.n_tmpfs; i++) {
		const struct policy_tmpfs *t = &p->filesystem.tmpfs[i];
		char opts[64];
		int r;

		snprintf(opts, sizeof(opts), "mode=1777,size=%llu", (unsigned long long)t->size);
		r = mount_tmpfs_at(t->target, mount_needs_noexec(exec, t->target) ? MS_NOEXEC : 0,
				   opts);
		if (r < 0)
			return r;
	}
	return 0;
}

static int bind_host_file(const char *host, const char *path)
{
	char p[PATH_MAX];
	int r;

	r = touch_in_root(path);
	if (r < 0)
		return r;
	r = root_path(p, sizeof(p), path);
	if (r < 0)
		return r;
	if (mount(host, p, NULL, MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

static int symlink_in_root(const char *target, const char *path)
{
	char p[PATH_MAX];
	int r = root_path(p, sizeof(p), path);

	if (r < 0)
		return r;
	return symlink(target, p) < 0 ? -errno : 0;
}

static int mount_dev(void)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },	      { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
		{ "pts/ptmx", "/dev/ptmx" },
	};
	char p[PATH_MAX];
	int r;

	r = mount_tmpfs_at("/dev", MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64");
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
		char host[32], path[32];

		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		r = bind_host_file(host, path);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(links); i++) {
		r = symlink_in_root(links[i][0], links[i][1]);
		if (r < 0)
			return r;
	}
	r = mkdir_in_root("/dev/pts", 0755);
	if (r < 0)
		return r;
	r = root_path(p, sizeof(p), "/dev/pts");
	if (r < 0)
		return r;
	if (mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=620") < 0)
		return -errno;
	return mount_tmpfs_at("/dev/shm", MS_NOEXEC, "mode=1777,size=" DEV_SHM_SIZE);
}

/* Makes an existing mount point (or path) read-only by binding it onto itself. */
static int bind_readonly(const char *p)
{
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return -errno;
	return 0;
}

static int mask_proc(void)
{
	char p[PATH_MAX], devnull[PATH_MAX];
	struct stat st;

	(void)root_path(devnull, sizeof(devnull), "/dev/null");
	for (size_t i = 0; i < ELEMENTSOF(proc_masked_files); i++) {
		snprintf(p, sizeof(p), NEW_ROOT "/proc/%s", proc_masked_files[i]);
		/*
		 * Owned by the initial namespace's root, a file is open to the task only
		 * through its "other" bits: one with none (kpage*, timer_list, vmallocinfo
		 * are 0400) is closed to it already and needs no mount.
		 */
		if (stat(p, &st) < 0 || (st.st_mode & S_IRWXO) == 0)
			continue;
		if (mount(devnull, p, NULL, MS_BIND, NULL) < 0)
			return -errno;
	}
	for (size_t i = 0; i < ELEMENTSOF(proc_masked_dirs); i++) {
		snprintf(p, sizeof(p), NEW_ROOT "/proc/%s", proc_masked_dirs[i]);
		if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=0,mode=0555") < 0)
			return -errno;
	}
	for (size_t i = 0; i < ELEMENTSOF(proc_readonly); i++) {
		int r;

		snprintf(p, sizeof(p), NEW_ROOT "/proc/%s", proc_readonly[i]);
		if (stat(p, &st) < 0)
			continue;
		r = bind_readonly(p);
		if (r < 0)
			return r;
	}
	return 0;
}

static int mount_proc(void)
{
	char p[PATH_MAX];
	int r;

	r = mkdir_in_root("/proc", 0555);
	if (r < 0)
		return r;
	(void)root_path(p, sizeof(p), "/proc");
	if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return mask_proc();
}

/*
 * Re-binds each exec entry that lies inside a noexec mount with exec allowed, resolving it
 * beneath the new root without following symlinks (the workspace's contents are the
 * task's). A missing entry is left alone: Landlock then refuses the run.
 */
/* Re-binds one exec entry (beneath root_fd) with exec allowed; a missing one is skipped. */
static int rebind_exec_path(int root_fd, const char *path)
{
	struct mount_attr attr = { .attr_clr = MOUNT_ATTR_NOEXEC };
	int fd, tree, r = 0;

	fd = mounts_open_resolved(root_fd, path + 1, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	tree = open_tree(fd, "",
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
	if (tree < 0 ||
	    mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0 ||
	    move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		r = -errno;
	if (tree >= 0)
		close(tree);
	close(fd);
	return r;
}

static int rebind_exec_paths(const struct policy *p, char *const *exec)
{
	int root_fd, r = 0;

	if (!exec)
		return 0;
	root_fd = open(NEW_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	for (char *const *e = exec; *e && r >= 0; e++)
		if (mount_exec_path_needs_rebind(p, exec, *e))
			r = rebind_exec_path(root_fd, *e);
	close(root_fd);
	return r;
}

#define SECRETS_STAGING NEW_ROOT "/.airlock-secrets"

/* Binds one file of the staged secrets tmpfs at its target: read-only, nosuid, nodev, noexec. */
static int bind_secret(size_t i, const char *target)
{
	char src[PATH_MAX], dst[PATH_MAX], name[24];
	int r;

	mounts_secret_name(name, sizeof(name), i);
	snprintf(src, sizeof(src), SECRETS_STAGING "/%s", name);
	r = touch_in_root(target);
	if (r < 0)
		return r;
	r = root_path(dst, sizeof(dst), target);
	if (r < 0)
		return r;
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return -errno;
	if (mount(NULL, dst, NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

/*
 * The run's secret files (secrets.c): the detached tmpfs is attached just long enough to
 * bind each file at its target, then detached again, so that only the files are visible
 * and the tmpfs lives exactly as long as those binds, in this mount namespace only.
 */
static int attach_secrets(const struct sandbox_mounts *m)
{
	int r = 0;

	if (m->secrets_fd < 0)
		return 0;
	if (mkdir(SECRETS_STAGING, 0700) < 0)
		return -errno;
	if (move_mount(m->secrets_fd, "", AT_FDCWD, SECRETS_STAGING, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	for (size_t i = 0; r >= 0 && m->secret_targets && m->secret_targets[i]; i++)
		r = bind_secret(i, m->secret_targets[i]);
	if (umount2(SECRETS_STAGING, MNT_DETACH) < 0 && r >= 0)
		r = -errno;
	if (rmdir(SECRETS_STAGING) < 0 && r >= 0)
		r = -errno;
	return r;
}

static int pivot(void)
{
	if (chdir(NEW_ROOT) < 0)
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	/* The old root is now stacked under "/": detach it. */
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	return 0;
}

#define STEP(s, expr)                    \
	do {                             \
		int r_ = (expr);         \
		if (r_ < 0) {            \
			*ret_step = (s); \
			return r_;       \
		}                        \
	} while (0)

int mountns_setup(const struct sandbox_config *c, enum sandbox_step *ret_step)
{
	const struct sandbox_mounts *m = c->mounts;

	STEP(SANDBOX_STEP_MOUNT_PRIVATE,
	     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ? -errno : 0);
	STEP(SANDBOX_STEP_MOUNT_ROOT,
	     mount("tmpfs", NEW_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0
		     ? -errno
		     : 0);
	STEP(SANDBOX_STEP_MOUNT_ETC, write_etc(c));
	STEP(SANDBOX_STEP_MOUNT_SYSTEM, attach_entries(m, MOUNT_PHASE_SYSTEM));
	STEP(SANDBOX_STEP_MOUNT_WORKSPACE, attach_entries(m, MOUNT_PHASE_WORKSPACE));
	STEP(SANDBOX_STEP_MOUNT_TMPFS, mount_policy_tmpfs(c->policy, m->exec_paths));
	STEP(SANDBOX_STEP_MOUNT_BINDS, attach_entries(m, MOUNT_PHASE_BINDS));
	STEP(SANDBOX_STEP_EXEC_PATHS, rebind_exec_paths(c->policy, m->exec_paths));
	/* After the exec re-binds, which would copy a bind below them with exec allowed. */
	STEP(SANDBOX_STEP_MOUNT_SECRETS, attach_secrets(m));
	STEP(SANDBOX_STEP_MOUNT_DEV, mount_dev());
	STEP(SANDBOX_STEP_MOUNT_PROC, mount_proc());
	STEP(SANDBOX_STEP_MOUNT_CGROUP, attach_entries(m, MOUNT_PHASE_CGROUP));
	STEP(SANDBOX_STEP_PIVOT_ROOT, pivot());
	STEP(SANDBOX_STEP_REMOUNT_ROOT,
	     mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
			     0
		     ? -errno
		     : 0);
	return 0;
}
