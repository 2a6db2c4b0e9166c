/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Resolves the exec allowlist in the root the task will see, before any run: a view of
 * that root (which host tree, link or empty directory each mount point will be) is built
 * from the same trees sandbox_mounts_open() clones, and each entry is walked through it
 * one component at a time, like openat2(RESOLVE_IN_ROOT) would in the finished sandbox.
 * An absolute link restarts at the sandbox's root and ".." stops there, so nothing
 * resolves outside it. Links are followed only in airlock's system tree (the host's or
 * the rootfs's /usr and merged-/usr links) and /etc; one met in the workspace, a bind or a
 * tmpfs could have been planted by a task or another user, and refuses the entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "mounts-internal.h"
#include "path-util.h"
#include "policy.h"
#include "sandbox.h"
#include "strv.h"

/* As the kernel's MAXSYMLINKS: more links than this in one entry is a loop. */
#define EXEC_MAX_LINKS 40
/* System dirs, /etc (generated, default and policy entries), /dev, /proc, mounts. */
#define EXEC_VIEW_MAX 192

enum view_kind {
	VIEW_TREE, /* a host tree (fd) */
	VIEW_LINK, /* a symbolic link recreated in the sandbox */
	VIEW_DIR, /* an empty directory: a tmpfs, /dev, /proc, the generated /etc */
	VIEW_FILE, /* a file airlock writes (/etc/passwd) */
};

struct view_mount {
	char *target;
	enum view_kind kind;
	bool trusted; /* links in it are followed */
	int fd; /* VIEW_TREE */
	char *link; /* VIEW_LINK */
};

struct exec_view {
	struct view_mount m[EXEC_VIEW_MAX];
	size_t n;
};

static struct exec_view *view_free(struct exec_view *v)
{
	if (!v)
		return NULL;
	for (size_t i = 0; i < v->n; i++) {
		free(v->m[i].target);
		free(v->m[i].link);
		safe_close(v->m[i].fd);
	}
	free(v);
	return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(struct exec_view *, view_free);

/* Takes fd (closed on failure). */
static int view_add(struct exec_view *v, const char *target, enum view_kind kind, bool trusted,
		    int fd, const char *link)
{
	struct view_mount *m = &v->m[v->n];

	if (v->n >= ELEMENTSOF(v->m)) {
		safe_close(fd);
		return -E2BIG;
	}
	*m = (struct view_mount){ .kind = kind, .trusted = trusted, .fd = fd };
	m->target = strdup(target);
	m->link = link ? strdup(link) : NULL;
	v->n++; /* view_free() releases what was set */
	return !m->target || (link && !m->link) ? -ENOMEM : 0;
}

/* A system root or /etc entry as mounts.c takes it: a link stays a link, else the tree. */
static int view_add_entry(struct exec_view *v, int dir_fd, const char *name, const char *target)
{
	_cleanup_close_ int parent_fd = -EBADF;
	const char *base = strrchr(name, '/');
	char link[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	if (base) { /* a nested name ("ssl/certs"): no link on the way to it */
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%.*s", (int)(base - name), name);
		parent_fd =
			mounts_open_resolved(dir_fd, parent, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
		if (parent_fd < 0)
			return parent_fd == -ENOENT ? 0 : parent_fd;
		dir_fd = parent_fd;
		name = base + 1;
	}
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dir_fd, name, link, sizeof(link) - 1);
		if (n < 0)
			return -errno;
		link[n] = '\0';
		return view_add(v, target, VIEW_LINK, true, -EBADF, link);
	}
	fd = mounts_open_resolved(dir_fd, name, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return fd;
	return view_add(v, target, VIEW_TREE, true, fd, NULL);
}

static int view_add_etc(struct exec_view *v, const struct policy *p, int root_fd)
{
	_cleanup_close_ int etc_fd = -EBADF;
	char target[PATH_MAX];
	int r;

	r = view_add(v, "/etc", VIEW_DIR, true, -EBADF, NULL);
	for (size_t i = 0; r >= 0 && i < mounts_n_etc_generated; i++) {
		snprintf(target, sizeof(target), "/etc/%s", mounts_etc_generated[i]);
		r = view_add(v, target, VIEW_FILE, true, -EBADF, NULL);
	}
	if (r < 0)
		return r;
	etc_fd = mounts_open_resolved(root_fd, "etc", RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
	if (etc_fd < 0)
		return etc_fd == -ENOENT ? 0 : etc_fd;
	for (size_t i = 0; r >= 0 && i < mounts_n_etc_entries; i++) {
		snprintf(target, sizeof(target), "/etc/%s", mounts_etc_entries[i]);
		r = view_add_entry(v, etc_fd, mounts_etc_entries[i], target);
	}
	STRV_FOREACH(e, p->filesystem.etc) {
		if (r < 0)
			break;
		snprintf(target, sizeof(target), "/etc/%s", *e);
		r = view_add_entry(v, etc_fd, *e, target);
	}
	return r;
}

/* A host tree the task's side controls (workspace, bind): a missing one is skipped. */
static int view_add_tree(struct exec_view *v, const char *source, const char *target)
{
	int fd = mounts_open_resolved(AT_FDCWD, source, RESOLVE_NO_SYMLINKS);

	if (fd < 0) /* sandbox_mounts_open() refuses it with its own message */
		return 0;
	return view_add(v, target, VIEW_TREE, false, fd, NULL);
}

static int view_open(const struct policy *p, const char *workspace, struct exec_view **ret)
{
	_cleanup_(view_freep) struct exec_view *v = NULL;
	_cleanup_close_ int root_fd = -EBADF;
	const struct policy_filesystem *fs = &p->filesystem;
	const char *root = fs->rootfs ? fs->rootfs : "/";
	int r = 0;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	root_fd = mounts_open_resolved(AT_FDCWD, root, RESOLVE_NO_SYMLINKS);
	if (root_fd < 0)
		return root_fd;
	for (size_t i = 0; r >= 0 && i < mounts_n_system_dirs; i++) {
		char target[64];

		snprintf(target, sizeof(target), "/%s", mounts_system_dirs[i]);
		r = view_add_entry(v, root_fd, mounts_system_dirs[i], target);
	}
	if (r >= 0)
		r = view_add_etc(v, p, root_fd);
	if (r >= 0)
		r = view_add(v, "/dev", VIEW_DIR, false, -EBADF, NULL);
	if (r >= 0)
		r = view_add(v, "/proc", VIEW_DIR, false, -EBADF, NULL);
	if (r >= 0 && workspace)
		r = view_add_tree(v, workspace, "/workspace");
	for (size_t i = 0; r >= 0 && i < fs->n_tmpfs; i++)
		r = view_add(v, fs->tmpfs[i].target, VIEW_DIR, false, -EBADF, NULL);
	for (size_t i = 0; r >= 0 && i < fs->n_binds; i++)
		r = view_add_tree(v, fs->binds[i].source, fs->binds[i].target);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

/* What one sandbox path is: -ENOENT, or a kind (link text in link, PATH_MAX bytes). */
static int view_lookup(const struct exec_view *v, const char *path, bool *ret_trusted, char *link)
{
	_cleanup_close_ int parent_fd = -EBADF;
	const struct view_mount *m = NULL;
	const char *rel, *base;
	struct stat st;
	ssize_t n;
	int dir_fd;

	for (size_t i = 0; i < v->n; i++)
		if (path_is_beneath(path, v->m[i].target) &&
		    (!m || strlen(v->m[i].target) > strlen(m->target)))
			m = &v->m[i];
	/* Directories of the root tmpfs (or of /etc) that lead to a mount point. */
	for (size_t i = 0; i < v->n; i++)
		if (!streq(path, v->m[i].target) && path_is_beneath(v->m[i].target, path) &&
		    (!m || m->kind == VIEW_DIR)) {
			*ret_trusted = false;
			return VIEW_DIR;
		}
	if (!m)
		return -ENOENT;

	*ret_trusted = m->trusted;
	rel = path + strlen(m->target);
	if (*rel == '\0') {
		if (m->kind == VIEW_LINK)
			strcpy(link, m->link);
		if (m->kind != VIEW_TREE)
			return m->kind;
		if (fstat(m->fd, &st) < 0)
			return -errno;
		return S_ISDIR(st.st_mode) ? VIEW_DIR : VIEW_FILE;
	}
	if (m->kind == VIEW_DIR)
		return -ENOENT;
	if (m->kind != VIEW_TREE) /* a file; a link was followed before its children */
		return -ENOTDIR;

	rel++;
	dir_fd = m->fd;
	base = strrchr(rel, '/');
	if (base) { /* the components before were resolved already: none is a link */
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%.*s", (int)(base - rel), rel);
		parent_fd =
			mounts_open_resolved(m->fd, parent, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
		if (parent_fd < 0)
			return parent_fd;
		dir_fd = parent_fd;
		rel = base + 1;
	}
	if (fstatat(dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st.st_mode))
		return S_ISDIR(st.st_mode) ? VIEW_DIR : VIEW_FILE;
	n = readlinkat(dir_fd, rel, link, PATH_MAX - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	return VIEW_LINK;
}

/* Replaces rest with "<link>/<rest>". */
static int prepend(char *rest, size_t len, const char *link)
{
	char tmp[PATH_MAX];
	int n = snprintf(tmp, sizeof(tmp), "%s/%s", link, rest);

	if (n < 0 || (size_t)n >= sizeof(tmp) || (size_t)n >= len)
		return -ENAMETOOLONG;
	memcpy(rest, tmp, (size_t)n + 1);
	return 0;
}

/* Resolves one absolute path through the view into out (PATH_MAX bytes). */
static int resolve_one(const struct exec_view *v, const char *entry, char *out)
{
	char cur[PATH_MAX] = "", rest[PATH_MAX], link[PATH_MAX];
	unsigned links = 0;

	if (strlen(entry) >= sizeof(rest))
		return -ENAMETOOLONG;
	strcpy(rest, entry);
	for (;;) {
		char *comp = rest + strspn(rest, "/"), next[PATH_MAX];
		size_t len = strcspn(comp, "/");
		const char *after = comp + len;
		bool trusted;
		int kind, n;

		if (len == 0)
			break;
		if (len == 1 && comp[0] == '.') {
			memmove(rest, after, strlen(after) + 1);
			continue;
		}
		if (len == 2 && comp[0] == '.' && comp[1] == '.') {
			*(strrchr(cur, '/') ?: cur) = '\0'; /* ".." of the root is the root */
			memmove(rest, after, strlen(after) + 1);
			continue;
		}
		n = snprintf(next, sizeof(next), "%s/%.*s", cur, (int)len, comp);
		if (n < 0 || (size_t)n >= sizeof(next))
			return -ENAMETOOLONG;
		kind = view_lookup(v, next, &trusted, link);
		if (kind < 0)
			return kind;
		memmove(rest, after, strlen(after) + 1);
		if (kind == VIEW_LINK) {
			if (!trusted)
				return -EPERM;
			if (++links > EXEC_MAX_LINKS)
				return -ELOOP;
			if (link[0] == '/')
				cur[0] = '\0';
			n = prepend(rest, sizeof(rest), link);
			if (n < 0)
				return n;
			continue;
		}
		strcpy(cur, next);
		if (kind == VIEW_FILE && rest[strspn(rest, "/")] != '\0')
			return -ENOTDIR;
	}
	strcpy(out, cur[0] ? cur : "/");
	return 0;
}

int sandbox_exec_resolve(const struct policy *p, const char *workspace, char ***ret,
			 size_t *reterr_index)
{
	_cleanup_(view_freep) struct exec_view *v = NULL;
	_cleanup_strv_free_ char **paths = NULL;
	char out[PATH_MAX];
	size_t i = 0;
	int r;

	if (!p->filesystem.exec) {
		*ret = NULL;
		return 0;
	}
	r = view_open(p, workspace, &v);
	if (r < 0) {
		*reterr_index = SIZE_MAX;
		return r;
	}
	STRV_FOREACH(e, p->filesystem.exec) {
		r = resolve_one(v, *e, out);
		if (r >= 0)
			r = strv_push_copy(&paths, out);
		if (r < 0) {
			*reterr_index = i;
			return r;
		}
		i++;
	}
	*ret = TAKE_PTR(paths);
	return 0;
}
