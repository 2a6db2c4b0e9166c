/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O half of the export (export.h): a depth-first walk of the source, one directory
 * fd per level, names sorted by their bytes, each looked up with openat2() beneath its
 * directory without following a link or crossing a mount; each regular file read once
 * into a buffer that is hashed, scanned and written (docs/artifacts.md: where the time
 * goes). Nothing is ever opened by a path of more than one component.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "export.h"
#include "fd-util.h"
#include "hash.h"
#include "macro.h"
#include "parse-util.h"
#include "sha256.h"
#include "redact.h"
#include "strv.h"

#define COPY_BUFFER EXPORT_COPY_CHUNK
#define SCAN_PIECE (64U << 10)
#define SOURCE_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV)
#define DEST_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* One directory of the walk; its copy in the destination is made when first needed. */
struct frame {
	struct frame *parent;
	const char *name; /* in the parent; "" for the root */
	char *path; /* relative path, "" for the root (owned) */
	int src_fd; /* O_RDONLY | O_DIRECTORY */
	int dst_fd; /* -EBADF until made */
	unsigned depth;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct redact_stream *, redact_stream_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct export_manifest *, export_manifest_free)

struct walk {
	const struct export_options *o;
	struct export_manifest *m;
	uint8_t *buf;
	uint64_t out_limit; /* bytes the file being copied may write: the caps' room */
};

/* -EINTR when the caller asks the export to stop (export_options.stop_pending), else 0. */
static int check_stop(const struct walk *w)
{
	return w->o->stop_pending && w->o->stop_pending() > 0 ? -EINTR : 0;
}

static int open_beneath(int dir_fd, const char *name, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = resolve,
	};
	int fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

static enum export_type type_of(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return EXPORT_TYPE_FILE;
	case S_IFDIR:
		return EXPORT_TYPE_DIRECTORY;
	case S_IFLNK:
		return EXPORT_TYPE_SYMLINK;
	case S_IFIFO:
		return EXPORT_TYPE_FIFO;
	case S_IFSOCK:
		return EXPORT_TYPE_SOCKET;
	case S_IFCHR:
		return EXPORT_TYPE_CHAR_DEVICE;
	case S_IFBLK:
		return EXPORT_TYPE_BLOCK_DEVICE;
	default:
		return EXPORT_TYPE_UNKNOWN;
	}
}

static int path_join(const char *dir, const char *name, char **ret)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = malloc(a + b + 2);

	if (!s)
		return -ENOMEM;
	if (a > 0) {
		memcpy(s, dir, a);
		s[a++] = '/';
	}
	memcpy(s + a, name, b + 1);
	*ret = s;
	return 0;
}

/* Appends an entry for path (copied) and returns it, or NULL on -ENOMEM. */
static struct export_entry *entry_add(struct export_manifest *m, const char *path,
				      enum export_type type)
{
	struct export_entry *e;

	if (m->n_entries == m->allocated) {
		size_t n = m->allocated ? m->allocated * 2 : 64;
		struct export_entry *a = reallocarray(m->entries, n, sizeof(*a));

		if (!a)
			return NULL;
		m->entries = a;
		m->allocated = n;
	}
	e = &m->entries[m->n_entries];
	*e = (struct export_entry){ .type = type, .path = strdup(path) };
	if (!e->path)
		return NULL;
	m->n_entries++;
	return e;
}

static void stop(struct walk *w, enum export_stop why, const char *path)
{
	w->m->stop = why;
	w->m->stop_path = path ? strdup(path) : NULL; /* NULL on OOM: only the name is lost */
}

/* Lists a skipped entry (or only counts it past the listing cap). Returns 0 or -ENOMEM. */
static int skip(struct walk *w, const char *path, enum export_type type, enum export_skip why)
{
	struct export_entry *e;

	w->m->skipped++;
	if (w->m->skipped > EXPORT_MAX_SKIPPED_LISTED)
		w->m->skipped_unlisted++;
	else {
		e = entry_add(w->m, path, type);
		if (!e)
			return -ENOMEM;
		e->skip = why;
	}
	if (w->m->skipped >= w->o->max_files && w->m->stop == EXPORT_STOP_NONE)
		stop(w, EXPORT_STOP_MAX_SKIPPED, path);
	return 0;
}

/*
 * The file just copied (the last entry) is left out after all (it changed while read, the
 * scan rejected it, its redacted copy grew too large): its copy is removed, and it is
 * counted and listed like every other skip, so that such files too are bounded by the
 * listing cap and by max_skipped. redactions: what the scan found (listed for "secret").
 */
static int skip_copied(struct walk *w, struct frame *f, const char *name, const char *path,
		       enum export_skip why, uint64_t redactions)
{
	struct export_entry *e = &w->m->entries[--w->m->n_entries];
	int r;

	free(e->path);
	if (unlinkat(f->dst_fd, name, 0) < 0)
		return -errno;
	r = skip(w, path, EXPORT_TYPE_FILE, why);
	if (r < 0)
		return r;
	if (w->m->skipped <= EXPORT_MAX_SKIPPED_LISTED) /* listed: the last entry */
		w->m->entries[w->m->n_entries - 1].redactions = redactions;
	return 0;
}

/* Makes the frame's directory in the destination (and its parents') when not yet made. */
static int frame_make(struct walk *w, struct frame *f)
{
	struct export_entry *e;
	int r;

	if (f->dst_fd >= 0)
		return 0;
	r = frame_make(w, f->parent);
	if (r < 0 || w->m->stop != EXPORT_STOP_NONE)
		return r;
	if (w->m->files + w->m->directories >= w->o->max_files) {
		stop(w, EXPORT_STOP_MAX_FILES, f->path);
		return 0;
	}
	if (mkdirat(f->parent->dst_fd, f->name, 0700) < 0)
		return -errno;
	f->dst_fd = open_beneath(f->parent->dst_fd, f->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
				 DEST_RESOLVE);
	if (f->dst_fd < 0)
		return f->dst_fd;
	e = entry_add(w->m, f->path, EXPORT_TYPE_DIRECTORY);
	if (!e)
		return -ENOMEM;
	e->mode = 0755;
	w->m->directories++;
	return 0;
}

/* The scan's matches so far in one file: the sum over the redactor's rules. */
static uint64_t stream_matches(const struct walk *w, const struct redact_stream *s)
{
	uint64_t n = 0;

	for (size_t i = 0; s && i < redactor_n_rules(w->o->redactor); i++)
		n += redact_stream_count(s, i);
	return n;
}

/*
 * Hashes and writes what goes out of one chunk; -EFBIG past limit bytes in all (a scan's
 * rewrite can make a file longer than its source, which the caps checked).
 */
static int emit(int fd, struct export_hash *h, const void *buf, size_t len, uint64_t *written,
		uint64_t limit)
{
	if (len == 0)
		return 0;
	if (len > limit || *written > limit - len)
		return -EFBIG;
	export_hash_update(h, buf, len);
	*written += len;
	return write_all(fd, buf, len);
}

/*
 * Feeds len bytes to the scan in pieces of SCAN_PIECE, the size the task output path uses:
 * the stream's buffers then stay small and are reused from file to file, where whole
 * chunks made the allocator map and unmap (or grow and trim the heap) for every file,
 * which cost more than the scan itself for many small files. With dst >= 0 the scan's
 * output is hashed and written, else discarded (it only counts).
 */
static int scan_chunk(struct redact_stream *s, int dst, struct export_hash *h, const uint8_t *buf,
		      size_t len, uint64_t *written, uint64_t limit)
{
	const uint8_t *out;
	size_t out_len;
	int r;

	for (size_t off = 0; off < len; off += SCAN_PIECE) {
		if (redact_stream_feed(s, buf + off, MIN(SCAN_PIECE, len - off), &out, &out_len) <
		    0)
			return -ENOMEM;
		if (dst >= 0) {
			r = emit(dst, h, out, out_len, written, limit);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/*
 * Copies src to dst in one pass: each chunk is read once, scanned, hashed and written.
 * With "redact" the redactor's output is what is hashed and written, else the source's
 * bytes. Reads at most limit + 1 bytes: a file that grew past what fstat() said is
 * -ESTALE (changed). Writes at most w->out_limit bytes, else -EFBIG.
 */
static int copy_data(struct walk *w, int src, int dst, uint64_t limit, struct export_entry *e)
{
	_cleanup_(redact_stream_freep) struct redact_stream *s = NULL;
	bool redact = w->o->scan == EXPORT_SCAN_REDACT && w->o->redactor;
	struct export_hash h;
	uint64_t read_total = 0;
	const uint8_t *out;
	size_t out_len;
	int r;

	if (w->o->redactor && redact_stream_new(w->o->redactor, &s) < 0)
		return -ENOMEM;
	r = export_hash_init(&h);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = read(src, w->buf, COPY_BUFFER);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		r = check_stop(w); /* a large file is cut short too, within a chunk */
		if (r < 0)
			break;
		read_total += (uint64_t)n;
		if (read_total > limit) {
			r = -ESTALE;
			break;
		}
		r = redact ? scan_chunk(s, dst, &h, w->buf, (size_t)n, &e->size, w->out_limit)
			   : emit(dst, &h, w->buf, (size_t)n, &e->size, w->out_limit);
		if (r >= 0 && s && !redact)
			r = scan_chunk(s, -EBADF, NULL, w->buf, (size_t)n, NULL, 0);
		if (r < 0)
			break;
	}
	if (r >= 0 && s && redact_stream_finish(s, &out, &out_len) < 0)
		r = -ENOMEM;
	if (r >= 0 && s && redact)
		r = emit(dst, &h, out, out_len, &e->size, w->out_limit);
	if (r < 0) {
		export_hash_done(&h);
		return r;
	}
	export_hash_final(&h, e->sha256);
	e->redactions = stream_matches(w, s);
	e->redacted = redact && e->redactions > 0;
	return 0;
}

/*
 * The scan's rewrite of the file just copied (the last entry) passed a cap its source
 * did not: past max_file_size it is skipped like a file too large, else the export
 * stops before it (max_size), as export_caps_check_file() would have decided.
 */
static int redacted_too_large(struct walk *w, struct frame *f, const char *name, const char *path)
{
	struct export_entry *e = &w->m->entries[w->m->n_entries - 1];

	if (w->out_limit == w->o->max_file_size)
		return skip_copied(w, f, name, path, EXPORT_SKIP_FILE_SIZE, 0);
	if (unlinkat(f->dst_fd, name, 0) < 0)
		return -errno;
	free(e->path);
	w->m->n_entries--;
	stop(w, EXPORT_STOP_MAX_SIZE, path);
	return 0;
}

/* Exports one regular file whose O_PATH fd (path_fd) was stat'ed as st. */
static int export_file(struct walk *w, struct frame *f, const char *name, const char *path,
		       const struct stat *st)
{
	_cleanup_close_ int src = -EBADF, dst = -EBADF;
	enum export_stop why;
	enum export_skip s;
	struct export_entry *e;
	struct stat st2;
	int r;

	s = export_caps_check_file(w->o, w->m, (uint64_t)st->st_size, (uint64_t)st->st_blocks * 512,
				   (uint64_t)st->st_blksize, &why);
	if (s != EXPORT_SKIP_NONE)
		return skip(w, path, EXPORT_TYPE_FILE, s);
	if (why != EXPORT_STOP_NONE) {
		stop(w, why, path);
		return 0;
	}
	src = open_beneath(f->src_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0,
			   SOURCE_RESOLVE);
	if (src < 0 || fstat(src, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_ino != st->st_ino ||
	    st2.st_dev != st->st_dev)
		return skip(w, path, EXPORT_TYPE_FILE, EXPORT_SKIP_CHANGED);

	r = frame_make(w, f);
	if (r < 0 || w->m->stop != EXPORT_STOP_NONE)
		return r;
	dst = open_beneath(f->dst_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600,
			   DEST_RESOLVE);
	if (dst < 0)
		return dst;
	e = entry_add(w->m, path, EXPORT_TYPE_FILE);
	if (!e)
		return -ENOMEM;
	w->out_limit = MIN(w->o->max_file_size, w->o->max_size - w->m->bytes);
	r = copy_data(w, src, dst, (uint64_t)st->st_size, e);
	if (r == -ESTALE)
		return skip_copied(w, f, name, path, EXPORT_SKIP_CHANGED, 0);
	if (r == -EFBIG)
		return redacted_too_large(w, f, name, path);
	if (r < 0)
		return r;
	w->m->redactions += e->redactions;
	if (e->redactions > 0 && w->o->scan == EXPORT_SCAN_REJECT) {
		w->m->files_rejected++;
		return skip_copied(w, f, name, path, EXPORT_SKIP_SECRET, e->redactions);
	}
	e->mode = (st->st_mode & S_IXUSR) ? 0755 : 0644;
	if (fchown(dst, w->o->uid, w->o->gid) < 0 || fchmod(dst, e->mode) < 0)
		return -errno;
	w->m->files++;
	w->m->bytes += e->size;
	w->m->files_redacted += e->redacted;
	return 0;
}

static int walk_dir(struct walk *w, struct frame *f);

/* Descends into the directory name of f (path: its relative path). */
static int export_dir(struct walk *w, struct frame *f, const char *name, char *path)
{
	struct frame child = {
		.parent = f, .name = name, .path = path, .dst_fd = -EBADF, .depth = f->depth + 1
	};
	int r;

	if (child.depth > EXPORT_MAX_DEPTH)
		return skip(w, path, EXPORT_TYPE_DIRECTORY, EXPORT_SKIP_DEPTH);
	child.src_fd = open_beneath(f->src_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
				    SOURCE_RESOLVE);
	if (child.src_fd < 0)
		return skip(w, path, EXPORT_TYPE_DIRECTORY, EXPORT_SKIP_CHANGED);
	r = 0;
	if (export_included(w->o->include, path))
		r = frame_make(w, &child);
	if (r >= 0 && w->m->stop == EXPORT_STOP_NONE)
		r = walk_dir(w, &child);
	if (r >= 0 && child.dst_fd >= 0 &&
	    (fchown(child.dst_fd, w->o->uid, w->o->gid) < 0 || fchmod(child.dst_fd, 0755) < 0))
		r = -errno;
	safe_close(child.src_fd);
	safe_close(child.dst_fd);
	return r;
}

/* One name of directory f: classified without following it, then exported or skipped. */
static int walk_entry(struct walk *w, struct frame *f, const char *name)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	r = check_stop(w);
	if (r < 0)
		return r;
	r = path_join(f->path, name, &path);
	if (r < 0)
		return r;
	fd = open_beneath(f->src_fd, name, O_PATH | O_NOFOLLOW, 0, SOURCE_RESOLVE);
	if (fd == -EXDEV)
		return skip(w, path, EXPORT_TYPE_DIRECTORY, EXPORT_SKIP_MOUNT);
	if (fd < 0 || fstat(fd, &st) < 0)
		return skip(w, path, EXPORT_TYPE_UNKNOWN, EXPORT_SKIP_CHANGED);
	if (f->depth == 0 && streq(name, EXPORT_MANIFEST_NAME))
		return skip(w, path, type_of(st.st_mode), EXPORT_SKIP_RESERVED);
	if (strlen(path) > EXPORT_MAX_PATH)
		return skip(w, path, type_of(st.st_mode), EXPORT_SKIP_PATH_LENGTH);
	if (S_ISDIR(st.st_mode))
		return export_dir(w, f, name, path);
	if (!S_ISREG(st.st_mode))
		return skip(w, path, type_of(st.st_mode), EXPORT_SKIP_TYPE);
	if (!export_included(w->o->include, path))
		return skip(w, path, EXPORT_TYPE_FILE, EXPORT_SKIP_NOT_INCLUDED);
	return export_file(w, f, name, path, &st);
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts names[0..n) and frees those past keep: the keep smallest stay. Returns the count. */
static size_t keep_smallest(char **names, size_t n, size_t keep)
{
	if (n > 1)
		qsort(names, n, sizeof(*names), strcmp_ptr);
	for (size_t i = keep; i < n; i++) {
		free(names[i]);
		names[i] = NULL;
	}
	n = MIN(n, keep);
	names[n] = NULL;
	return n;
}

/*
 * The names of a directory after the name after (NULL: all), sorted by their bytes: the
 * first limit of them in that order, whatever order the directory lists them in; *ret_more
 * says whether there are more (walk_dir() reads on after the last). Every entry is read, at
 * most 2 * limit names are held. *ret is NULL-terminated, owned by the caller.
 */
static int read_names(int dir_fd, size_t limit, const char *after, char ***ret, bool *ret_more)
{
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_strv_free_ char **names = NULL;
	size_t n = 0, allocated = 0;
	struct dirent *de;
	bool more = false;

	d = opendir_dup(dir_fd);
	if (!d)
		return -errno;
	rewinddir(d); /* the offset is dir_fd's: an earlier pass left it at the end */
	while ((errno = 0, de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
		    (after && strcmp(de->d_name, after) <= 0))
			continue;
		if (n >= 2 * limit) {
			n = keep_smallest(names, n, limit);
			more = true;
		}
		if (n + 1 >= allocated) {
			size_t a = MIN(allocated ? allocated * 2 : 32, 2 * limit + 1);
			char **l = reallocarray(names, a, sizeof(*l));

			if (!l)
				return -ENOMEM;
			names = l;
			allocated = a;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			return -ENOMEM;
		names[++n] = NULL;
	}
	if (errno > 0)
		return -errno;
	more = more || n > limit;
	if (n > 0)
		(void)keep_smallest(names, n, limit);
	*ret = TAKE_PTR(names);
	*ret_more = more;
	return 0;
}

/*
 * The walk ends after max_files exported and max_files skipped entries: the names held in
 * memory (one list per level) are bounded by that budget, whatever the depth. A name that
 * counts for neither (a directory the include globs do not name) does not bring the end
 * nearer: when the walk has not ended past the names held, it reads on after them.
 */
static int walk_dir(struct walk *w, struct frame *f)
{
	const struct export_manifest *m = w->m;
	_cleanup_free_ char *after = NULL;
	bool more = true;
	int r;

	while (more && m->stop == EXPORT_STOP_NONE) {
		_cleanup_strv_free_ char **names = NULL;
		uint64_t budget = w->o->max_files * 2 + 2,
			 seen = m->files + m->directories + m->skipped;
		size_t i;

		budget = budget > seen ? budget - seen : 1;
		r = read_names(f->src_fd, (size_t)MIN(budget, (uint64_t)SIZE_MAX / 2), after,
			       &names, &more);
		if (r < 0)
			return r;
		for (i = 0; names && names[i] && m->stop == EXPORT_STOP_NONE; i++) {
			r = walk_entry(w, f, names[i]);
			if (r < 0)
				return r;
		}
		if (!names || i == 0 || names[i])
			break; /* nothing read, or the walk ended before the last */
		free(after);
		after = TAKE_PTR(names[i - 1]); /* the last walked: the list ends there now */
	}
	return 0;
}

/* Whether the directory holds no entry but "." and "..". */
static int dir_is_empty(int dir_fd)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	d = opendir_dup(dir_fd);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			return 0;
	return errno > 0 ? -errno : 1;
}

/* Writes the manifest last, created like every other file; its digest into ret_digest. */
static int write_manifest(int dst_fd, const struct export_options *o,
			  const struct export_manifest *m, char ret_digest[65])
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -EBADF;
	uint8_t md[SHA256_DIGEST_SIZE];
	size_t len;

	j = export_manifest_to_json(m);
	if (!j)
		return -ENOMEM;
	text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n'; /* replaces the NUL: written with its length */
	fd = open_beneath(dst_fd, EXPORT_MANIFEST_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
			  0600, DEST_RESOLVE);
	if (fd < 0)
		return fd;
	if (write_all(fd, text, len) < 0 || fchown(fd, o->uid, o->gid) < 0 || fchmod(fd, 0644) < 0)
		return -errno;
	sha256(text, len, md);
	hex_encode(md, sizeof(md), ret_digest);
	return 0;
}

int export_tree(int src_fd, int dst_fd, const struct export_options *o,
		struct export_manifest **ret, char ret_digest[65])
{
	_cleanup_(export_manifest_freep) struct export_manifest *m = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	struct frame root = { .name = "", .path = (char *)"", .dst_fd = dst_fd };
	struct walk w = { .o = o };
	int r;

	assert(src_fd >= 0 && dst_fd >= 0 && o && ret && ret_digest);

	root.src_fd = open_beneath(src_fd, ".", O_RDONLY | O_DIRECTORY, 0, SOURCE_RESOLVE);
	if (root.src_fd < 0)
		return root.src_fd; /* -ENOSYS without openat2() */
	r = dir_is_empty(dst_fd);
	if (r <= 0) {
		safe_close(root.src_fd);
		return r < 0 ? r : -ENOTEMPTY;
	}
	m = calloc(1, sizeof(*m));
	buf = malloc(COPY_BUFFER);
	if (!m || !buf) {
		safe_close(root.src_fd);
		return -ENOMEM;
	}
	m->scan = o->scan;
	w = (struct walk){ .o = o, .m = m, .buf = buf };
	r = walk_dir(&w, &root);
	safe_close(root.src_fd);
	if (r < 0)
		return r;
	if (fchown(dst_fd, o->uid, o->gid) < 0 || fchmod(dst_fd, 0755) < 0)
		return -errno;
	r = write_manifest(dst_fd, o, m, ret_digest);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}
