/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The change-set walk (changes.h). The upper layer is walked depth first; each entry is
 * compared with the lower entry of the same name:
 *
 *   - a whiteout (a character device 0/0, or an empty file carrying overlay.whiteout)
 *     deletes the lower entry, and everything below it if a directory;
 *   - a directory merges with a lower directory (a mode change at most) unless it is
 *     opaque (overlay.opaque "y"): then the lower subtree is hidden at every depth, and
 *     every lower entry the upper lacks there is deleted;
 *   - a regular file is added, modified (contents compared byte for byte) or a mode
 *     change (a copy-up alone, e.g. after touch, is no change);
 *   - anything else (symlink, FIFO, socket, device) is listed by type and never read;
 *   - an entry replacing one of another type deletes the old and adds the new.
 *
 * A lower entry the upper does not name, in a directory that is not opaque, is unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "changes.h"
#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"

#define CMP_CHUNK 65536

static const char *const kind_names[_CHANGE_KIND_MAX] = {
	[CHANGE_ADDED] = "added",
	[CHANGE_MODIFIED] = "modified",
	[CHANGE_DELETED] = "deleted",
	[CHANGE_MODE] = "mode",
};

static const char *const type_names[_CHANGE_TYPE_MAX] = {
	[CHANGE_TYPE_FILE] = "file",	   [CHANGE_TYPE_DIR] = "dir",
	[CHANGE_TYPE_SYMLINK] = "symlink", [CHANGE_TYPE_FIFO] = "fifo",
	[CHANGE_TYPE_SOCKET] = "socket",   [CHANGE_TYPE_DEVICE] = "device",
};

const char *change_kind_to_string(enum change_kind k)
{
	return (unsigned)k < _CHANGE_KIND_MAX ? kind_names[k] : NULL;
}

const char *change_type_to_string(enum change_type t)
{
	return (unsigned)t < _CHANGE_TYPE_MAX ? type_names[t] : NULL;
}

struct walk {
	struct change_set *set;
	const char *opaque_xattr;
	const char *whiteout_xattr;
	char path[PATH_MAX]; /* the current directory, relative, "" at the root */
	size_t len;
	int (*stop_pending)(void); /* change_set_compute()'s, or NULL */
};

/* -EINTR once the caller asks the walk to stop, else 0. */
static int stop_asked(const struct walk *w)
{
	return w->stop_pending && w->stop_pending() > 0 ? -EINTR : 0;
}

static enum change_type type_of(mode_t m)
{
	if (S_ISREG(m))
		return CHANGE_TYPE_FILE;
	if (S_ISDIR(m))
		return CHANGE_TYPE_DIR;
	if (S_ISLNK(m))
		return CHANGE_TYPE_SYMLINK;
	if (S_ISFIFO(m))
		return CHANGE_TYPE_FIFO;
	if (S_ISSOCK(m))
		return CHANGE_TYPE_SOCKET;
	return CHANGE_TYPE_DEVICE;
}

static void truncate_set(struct walk *w, const char *why)
{
	if (!w->set->truncated)
		w->set->truncated_why = why;
	w->set->truncated = true;
}

/* Appends a change for name in the current directory. -ENOMEM, -E2BIG (capped), or 0. */
static int emit(struct walk *w, const char *name, enum change_kind kind, const struct stat *old,
		const struct stat *new)
{
	struct change_set *s = w->set;
	const struct stat *st = new ? new : old;
	struct change *c;
	char *p;

	if (s->n >= CHANGES_MAX_ENTRIES) {
		truncate_set(w, "more than " STRINGIFY(CHANGES_MAX_ENTRIES) " changes");
		return -E2BIG;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct change *items = reallocarray(s->items, cap, sizeof(*items));

		if (!items)
			return -ENOMEM;
		s->items = items;
		s->cap = cap;
	}
	if (asprintf(&p, "%.*s%s%s", (int)w->len, w->path, w->len ? "/" : "", name) < 0)
		return -ENOMEM;
	c = &s->items[s->n++];
	*c = (struct change){ .path = p, .kind = kind, .type = type_of(st->st_mode) };
	if (old) {
		c->old_mode = old->st_mode & 07777;
		c->old_size = S_ISREG(old->st_mode) ? (uint64_t)old->st_size : 0;
	}
	if (new) {
		c->new_mode = new->st_mode & 07777;
		c->size = S_ISREG(new->st_mode) ? (uint64_t) new->st_size : 0;
	}
	return 0;
}

/* Enters directory name: path grows by "/name". -ENAMETOOLONG (capped) or 0. */
static int push(struct walk *w, const char *name, size_t *saved)
{
	size_t n = strlen(name), add = n + (w->len ? 1 : 0);

	if (w->len + add >= sizeof(w->path)) {
		truncate_set(w, "a path longer than PATH_MAX");
		return -ENAMETOOLONG;
	}
	*saved = w->len;
	if (w->len)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, name, n + 1);
	w->len += n;
	return 0;
}

static void pop(struct walk *w, size_t saved)
{
	w->len = saved;
	w->path[saved] = '\0';
}

static int open_dir_at(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Whether the open file fd carries the xattr name (any value; "y" for opaque dirs). */
static bool has_xattr(int fd, const char *name, bool want_y)
{
	char v[2];
	ssize_t n = fgetxattr(fd, name, v, sizeof(v));

	if (n < 0)
		return false;
	return !want_y || (n == 1 && v[0] == 'y');
}

/* A whiteout: char 0/0, or an empty regular file with the whiteout xattr. */
static bool is_whiteout(const struct walk *w, int dir_fd, const char *name, const struct stat *st)
{
	_cleanup_close_ int fd = -EBADF;

	if (S_ISCHR(st->st_mode))
		return st->st_rdev == makedev(0, 0);
	if (!S_ISREG(st->st_mode) || st->st_size != 0)
		return false;
	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	return fd >= 0 && has_xattr(fd, w->whiteout_xattr, false);
}

static int walk_dir(struct walk *w, int upper_fd, int lower_fd, bool opaque, unsigned depth);

/* The lower entry name and all below it, deleted. */
static int delete_tree(struct walk *w, int lower_fd, const char *name, const struct stat *st,
		       unsigned depth)
{
	_cleanup_close_ int fd = -EBADF;
	size_t saved;
	int r;

	r = emit(w, name, CHANGE_DELETED, st, NULL);
	if (r < 0 || !S_ISDIR(st->st_mode))
		return r;
	if (depth >= CHANGES_MAX_DEPTH) {
		truncate_set(w, "directories nested deeper than " STRINGIFY(CHANGES_MAX_DEPTH));
		return -E2BIG;
	}
	fd = open_dir_at(lower_fd, name);
	if (fd < 0)
		return fd;
	r = push(w, name, &saved);
	if (r < 0)
		return r;
	/* An empty upper: every lower entry of an opaque directory is gone. */
	r = walk_dir(w, -EBADF, fd, true, depth + 1);
	pop(w, saved);
	return r;
}

/* Whether two open regular files hold the same bytes. 1, 0 or -errno (-EINTR: stopped). */
static int same_contents(const struct walk *w, int a, int b)
{
	_cleanup_free_ char *buf = malloc(2 * CMP_CHUNK);
	ssize_t n, m;

	if (!buf)
		return -ENOMEM;
	for (unsigned i = 0;; i++) {
		/* Asked once a MiB: a question is a system call (sigpending()). */
		int r = i % (1048576 / CMP_CHUNK) == 0 ? stop_asked(w) : 0;

		if (r < 0)
			return r;
		n = read_full(a, buf, CMP_CHUNK);
		m = read_full(b, buf + CMP_CHUNK, CMP_CHUNK);
		if (n < 0 || m < 0)
			return (int)(n < 0 ? n : m);
		if (n != m || memcmp(buf, buf + CMP_CHUNK, (size_t)n) != 0)
			return 0;
		if (n < CMP_CHUNK)
			return 1;
	}
}

static int open_file_at(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* A regular file in both layers: modified, a mode change, or nothing. */
static int compare_file(struct walk *w, int upper_fd, int lower_fd, const char *name,
			const struct stat *lst, const struct stat *ust)
{
	_cleanup_close_ int a = -EBADF, b = -EBADF;
	bool mode = (lst->st_mode & 07777) != (ust->st_mode & 07777);
	int same = 0;

	if (lst->st_size == ust->st_size) {
		a = open_file_at(upper_fd, name);
		if (a < 0)
			return a;
		b = open_file_at(lower_fd, name);
		if (b < 0)
			return b;
		same = same_contents(w, a, b);
		if (same < 0)
			return same;
	}
	if (!same)
		return emit(w, name, CHANGE_MODIFIED, lst, ust);
	return mode ? emit(w, name, CHANGE_MODE, lst, ust) : 0;
}

/* Two symbolic links with one target: a copy-up (chown -h), no change. */
static bool same_symlink(int upper_fd, int lower_fd, const char *name)
{
	char a[PATH_MAX], b[PATH_MAX];
	ssize_t n = readlinkat(upper_fd, name, a, sizeof(a));
	ssize_t m = readlinkat(lower_fd, name, b, sizeof(b));

	return n >= 0 && n == m && memcmp(a, b, (size_t)n) == 0;
}

/* An upper directory: merged with a lower one, or new (then all below it is added). */
static int enter_dir(struct walk *w, int upper_fd, int lower_fd, const char *name,
		     const struct stat *ust, const struct stat *lst, bool opaque, unsigned depth)
{
	_cleanup_close_ int ufd = -EBADF, lfd = -EBADF;
	bool merged = lst && S_ISDIR(lst->st_mode);
	size_t saved;
	int r;

	if (depth >= CHANGES_MAX_DEPTH) {
		truncate_set(w, "directories nested deeper than " STRINGIFY(CHANGES_MAX_DEPTH));
		return -E2BIG;
	}
	ufd = open_dir_at(upper_fd, name);
	if (ufd < 0)
		return ufd;
	if (merged && (lst->st_mode & 07777) != (ust->st_mode & 07777))
		r = emit(w, name, CHANGE_MODE, lst, ust);
	else if (merged)
		r = 0;
	else
		r = emit(w, name, CHANGE_ADDED, NULL, ust);
	if (r < 0)
		return r;
	if (merged) {
		lfd = open_dir_at(lower_fd, name);
		if (lfd < 0)
			return lfd;
		opaque = opaque || has_xattr(ufd, w->opaque_xattr, true);
	}
	r = push(w, name, &saved);
	if (r < 0)
		return r;
	r = walk_dir(w, ufd, lfd, opaque, depth + 1);
	pop(w, saved);
	return r;
}

/* One upper entry against the lower entry of its name (if any). */
static int walk_entry(struct walk *w, int upper_fd, int lower_fd, const char *name, bool opaque,
		      unsigned depth)
{
	struct stat ust, lst;
	bool has_lower = false;
	int r;

	if (fstatat(upper_fd, name, &ust, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (lower_fd >= 0) {
		if (fstatat(lower_fd, name, &lst, AT_SYMLINK_NOFOLLOW) >= 0)
			has_lower = true;
		else if (errno != ENOENT)
			return -errno;
	}
	if (is_whiteout(w, upper_fd, name, &ust))
		return has_lower ? delete_tree(w, lower_fd, name, &lst, depth) : 0;
	if (S_ISDIR(ust.st_mode) && has_lower && S_ISDIR(lst.st_mode))
		return enter_dir(w, upper_fd, lower_fd, name, &ust, &lst, opaque, depth);
	if (S_ISREG(ust.st_mode) && has_lower && S_ISREG(lst.st_mode))
		return compare_file(w, upper_fd, lower_fd, name, &lst, &ust);
	if (S_ISLNK(ust.st_mode) && has_lower && S_ISLNK(lst.st_mode) &&
	    same_symlink(upper_fd, lower_fd, name))
		return 0;
	if (has_lower) { /* replaced by another type (or another link) */
		r = delete_tree(w, lower_fd, name, &lst, depth);
		if (r < 0)
			return r;
	}
	if (S_ISDIR(ust.st_mode))
		return enter_dir(w, upper_fd, -EBADF, name, &ust, NULL, opaque, depth);
	return emit(w, name, CHANGE_ADDED, NULL, &ust);
}

static void names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Appends a copy of name to *names (n entries, NULL-terminated). 0 or -ENOMEM. */
static int names_add(char ***names, size_t *n, const char *name)
{
	char **nn = reallocarray(*names, *n + 2, sizeof(**names));

	if (!nn)
		return -ENOMEM;
	*names = nn;
	nn[*n] = strdup(name);
	if (!nn[*n])
		return -ENOMEM;
	nn[++*n] = NULL;
	return 0;
}

/* Reads the names of the directory at fd (through a dup), or none for -EBADF. */
static int list_names(int fd, char ***ret, size_t *ret_n)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int dfd, r = 0;

	*ret = NULL;
	*ret_n = 0;
	if (fd < 0)
		return 0;
	dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	rewinddir(d);
	while (r >= 0 && (errno = 0, de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			r = names_add(&names, &n, de->d_name);
	if (r >= 0 && errno != 0)
		r = -errno;
	if (r < 0) {
		names_free(names, n);
		return r;
	}
	*ret = names;
	*ret_n = n;
	return 0;
}

/*
 * One directory level: each upper entry, then (opaque only) each lower entry the upper
 * lacks, deleted. upper_fd is -EBADF for a lower directory deleted whole.
 */
static int walk_dir(struct walk *w, int upper_fd, int lower_fd, bool opaque, unsigned depth)
{
	char **names = NULL, **lnames = NULL;
	size_t n = 0, ln = 0;
	struct stat st;
	int r;

	r = list_names(upper_fd, &names, &n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		r = stop_asked(w);
		if (r >= 0)
			r = walk_entry(w, upper_fd, lower_fd, names[i], opaque, depth);
	}
	if (r >= 0 && opaque)
		r = list_names(lower_fd, &lnames, &ln);
	for (size_t i = 0; r >= 0 && i < ln; i++) {
		if (upper_fd >= 0 && fstatat(upper_fd, lnames[i], &st, AT_SYMLINK_NOFOLLOW) >= 0)
			continue; /* handled above */
		if (fstatat(lower_fd, lnames[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		else
			r = delete_tree(w, lower_fd, lnames[i], &st, depth);
	}
	names_free(names, n);
	names_free(lnames, ln);
	return r;
}

/* By path; at one path, the deletion of the old entry before the addition of the new. */
static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c != 0)
		return c;
	return (x->kind != CHANGE_DELETED) - (y->kind != CHANGE_DELETED);
}

int change_set_compute(int upper_fd, int lower_fd, enum change_xattrs xattrs,
		       int (*stop_pending)(void), struct change_set **ret)
{
	_cleanup_free_ struct walk *w = calloc(1, sizeof(*w));
	struct change_set *s = calloc(1, sizeof(*s));
	int r;

	if (!w || !s) {
		free(s);
		return -ENOMEM;
	}
	w->set = s;
	w->stop_pending = stop_pending;
	w->opaque_xattr =
		xattrs == CHANGE_XATTRS_USER ? "user.overlay.opaque" : "trusted.overlay.opaque";
	w->whiteout_xattr =
		xattrs == CHANGE_XATTRS_USER ? "user.overlay.whiteout" : "trusted.overlay.whiteout";
	r = walk_dir(w, upper_fd, lower_fd, false, 0);
	if (r < 0 && (r == -EINTR || !s->truncated)) {
		change_set_free(s);
		return r;
	}
	if (s->n > 1)
		qsort(s->items, s->n, sizeof(*s->items), change_cmp);
	*ret = s;
	return 0;
}

struct change_set *change_set_free(struct change_set *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].path);
	free(s->items);
	free(s);
	return NULL;
}
