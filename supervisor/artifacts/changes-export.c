/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The change set's export (changes-export.h). Reads go through openat2() beneath the
 * layer's fd with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV, so no link in either
 * layer (the task planted the upper's) redirects a read; only regular files are read.
 * Writes go beneath DIR/workspace, made here, one component at a time with O_NOFOLLOW,
 * files created O_EXCL with 0644 or 0755 (no set-id bits, the caller's owner).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "changes-export.h"
#include "cleanup.h"
#include "diff.h"
#include "export.h"
#include "fd-util.h"
#include "macro.h"
#include "parse-util.h"
#include "redact.h"

/* The scan's pieces, as the export feeds it (export.c). */
#define SIDE_SCAN_PIECE (64U << 10)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct redact_stream *, redact_stream_free)

struct changes_out {
	uid_t uid; /* the owner of what is written (export_options) */
	gid_t gid;
	int lower_fd;
	int files_fd; /* DIR/workspace/files: the upper layer as export_tree() copied it */
	const struct export_entry **index; /* the manifest's entries, sorted by path */
	size_t n_index;
	FILE *patch;
	uint64_t patch_max; /* bytes the patch may hold in all: max_size less the files' bytes */
	struct changes_summary *sum;
	const struct redactor *redactor; /* the export's scan (NULL: none) */
	enum export_scan scan;
	size_t links_in_patch; /* deleted links the patch deletes (not "not a regular file") */
	int (*stop_pending)(void); /* export_options' */
};

static int open_beneath(int dir_fd, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
			   RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd = (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct export_entry *const *)a)->path,
		      (*(const struct export_entry *const *)b)->path);
}

/* The manifest's entry of the change's path ("files/" + path), or NULL. */
static const struct export_entry *lookup(const struct changes_out *e, const char *path)
{
	_cleanup_free_ char *key = NULL;
	struct export_entry k = {};
	const struct export_entry *kp = &k, **hit;

	if (asprintf(&key, CHANGES_FILES_DIR "/%s", path) < 0)
		return NULL;
	k.path = key;
	hit = bsearch(&kp, e->index, e->n_index, sizeof(*e->index), entry_cmp);
	return hit ? *hit : NULL;
}

static int index_manifest(struct changes_out *e, const struct export_manifest *m)
{
	e->index = calloc(m->n_entries ? m->n_entries : 1, sizeof(*e->index));
	if (!e->index)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_entries; i++)
		e->index[i] = &m->entries[i];
	e->n_index = m->n_entries;
	qsort(e->index, e->n_index, sizeof(*e->index), entry_cmp);
	return 0;
}

/* git refuses to apply to a path with a ".git" component (any case). */
static bool is_git_path(const char *path)
{
	for (const char *p = path; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (strncasecmp(p, ".git", 4) == 0 && (p[4] == '/' || p[4] == '\0'))
			return true;
	}
	return false;
}

/* Reads a text side for the patch: 1 with *ret, 0 when too large, or -errno. */
static int read_side(int dir_fd, const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = open_beneath(dir_fd, path);
	if (fd < 0)
		return fd;
	r = read_file_fd(fd, CHANGES_MAX_DIFF_FILE, ret, ret_len);
	return r == -EFBIG ? 0 : r < 0 ? r : 1;
}

/* A file change the patch leaves out, and why (changes.json says it). */
static int leave_out(struct changes_out *e, struct change *c, const char *why)
{
	c->patch = why;
	e->sum->not_in_patch++;
	return 0;
}

/*
 * Whether the diff of path's sides of alen and blen bytes surely fits below e->patch_max:
 * at most both sides, a prefix byte per line (at most one per byte), four names in git's
 * quoting (at most four bytes per byte) and the rest of the headers.
 */
static bool patch_has_room_for(struct changes_out *e, uint64_t need)
{
	long at = ftell(e->patch);

	return at >= 0 && (uint64_t)at <= e->patch_max && need <= e->patch_max - (uint64_t)at;
}

static bool patch_has_room(struct changes_out *e, const char *path, size_t alen, size_t blen)
{
	return patch_has_room_for(e,
				  2 * ((uint64_t)alen + blen) + 16 * (uint64_t)strlen(path) + 256);
}

/*
 * Whether the sides the patch would read are surely too large, by the sizes the walk (old,
 * the workspace's lstat) and the export (new, the bytes written) saw: then neither is read.
 * A workspace file the task deleted is read for the patch only when it fits.
 */
static bool sides_too_large(struct changes_out *e, const struct change *c)
{
	uint64_t old = c->kind != CHANGE_ADDED ? c->old_size : 0;
	uint64_t new = c->kind != CHANGE_DELETED ? c->size : 0;

	if (c->kind == CHANGE_MODE)
		return false; /* no side is read */
	return old > CHANGES_MAX_DIFF_FILE || new > CHANGES_MAX_DIFF_FILE ||
	       !patch_has_room(e, c->path, (size_t)old, (size_t) new);
}

/*
 * Whether the scan (redact or reject) matches in a workspace side the patch would carry:
 * its context and removed lines come from the workspace, not from the exported copy, so
 * they never went through the export's scan. Returns 1, 0 or -ENOMEM.
 */
static int side_has_secret(const struct changes_out *e, const char *buf, size_t len)
{
	_cleanup_(redact_stream_freep) struct redact_stream *s = NULL;
	const uint8_t *out;
	size_t out_len;
	uint64_t n = 0;
	int r;

	if (!e->redactor || e->scan == EXPORT_SCAN_OFF || len == 0)
		return 0;
	r = redact_stream_new(e->redactor, &s);
	for (size_t off = 0; r >= 0 && off < len; off += SIDE_SCAN_PIECE)
		r = redact_stream_feed(s, buf + off, MIN(SIDE_SCAN_PIECE, len - off), &out,
				       &out_len);
	if (r >= 0)
		r = redact_stream_finish(s, &out, &out_len);
	if (r < 0)
		return r;
	for (size_t i = 0; i < redactor_n_rules(e->redactor); i++)
		n += redact_stream_count(s, i);
	return n > 0;
}

/* The patch of one regular file: old from the lower, new from the upper, as they apply. */
static int patch_file(struct changes_out *e, struct change *c)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	bool has_old = c->kind != CHANGE_ADDED, has_new = c->kind != CHANGE_DELETED, binary;
	mode_t om = has_old ? c->old_mode | S_IFREG : 0, nm = has_new ? c->new_mode | S_IFREG : 0;
	int r = 1, k = 1;

	if (is_git_path(c->path))
		return leave_out(e, c, "git_path");
	if (sides_too_large(e, c))
		return leave_out(e, c, "too_large");
	if (has_old && c->kind != CHANGE_MODE)
		r = read_side(e->lower_fd, c->path, &a, &alen);
	if (r > 0 && has_new && c->kind != CHANGE_MODE)
		k = read_side(e->files_fd, c->path, &b, &blen);
	if (r < 0 || k < 0)
		return r < 0 ? r : k;
	if (r == 0 || k == 0)
		return leave_out(e, c, "too_large");
	/* A binary patch carries the old side's name (its SHA-1) only, not its bytes. */
	binary = (a && diff_is_binary(a, alen)) || (b && diff_is_binary(b, blen));
	r = a && !binary ? side_has_secret(e, a, alen) : 0;
	if (r < 0)
		return r;
	if (r > 0)
		return leave_out(e, c, "secret");
	/*
	 * The old side comes from the workspace, which no cap of the task's writes bounds (a
	 * task that deletes a whole tree puts all of it in the patch): the patch's total stays
	 * below max_size.
	 */
	if (binary ? !patch_has_room_for(e, 16 * (uint64_t)strlen(c->path) + 256 +
						    diff_binary_size(blen))
		   : !patch_has_room(e, c->path, alen, blen))
		return leave_out(e, c, "too_large");
	if (binary)
		r = diff_write_binary(e->patch, c->path, om, nm, a, alen, b, blen);
	else
		r = diff_write_file(e->patch, c->path, om, nm, a, alen, b, blen);
	if (r < 0)
		return r;
	if (c->kind != CHANGE_MODE || ((c->old_mode ^ c->new_mode) & S_IXUSR))
		c->patch = "included";
	return 0;
}

/*
 * A link of the workspace the task deleted (or replaced): the patch deletes it, or `git
 * apply` refuses the whole patch where something else now has its name. Its target is
 * read with readlinkat() from the workspace (never followed); no link is ever created.
 */
static int patch_link_deletion(struct changes_out *e, struct change *c)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
			   RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = -EBADF;
	char target[PATH_MAX];
	ssize_t n;
	int r;

	if (is_git_path(c->path))
		return 0;
	fd = (int)syscall(SYS_openat2, e->lower_fd, c->path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	n = readlinkat(fd, "", target, sizeof(target));
	if (n < 0)
		return errno == EINVAL ? 0 : -errno; /* no longer a link: nothing to delete */
	if ((size_t)n >= sizeof(target) || !patch_has_room(e, c->path, (size_t)n, 0))
		return 0;
	r = side_has_secret(e, target, (size_t)n);
	if (r != 0) {
		if (r > 0)
			c->patch = "secret";
		return MIN(r, 0);
	}
	r = diff_write_file(e->patch, c->path, S_IFLNK | 0777, 0, target, (size_t)n, NULL, 0);
	if (r < 0)
		return r;
	c->patch = "included";
	e->links_in_patch++;
	return 0;
}

/* An added or modified file: what the export made of it (digest, or why it is not there). */
static bool take_export(struct changes_out *e, struct change *c)
{
	const struct export_entry *x = lookup(e, c->path);

	if (!x || x->type != EXPORT_TYPE_FILE || x->skip != EXPORT_SKIP_NONE) {
		c->not_exported = x ? export_skip_to_string(x->skip) : "stopped";
		return false;
	}
	memcpy(c->digest, x->sha256, SHA256_DIGEST_SIZE);
	c->has_digest = true;
	c->size = x->size; /* the bytes written (after redaction) */
	c->redacted = x->redacted;
	e->sum->exported++;
	e->sum->exported_bytes += x->size;
	return true;
}

/*
 * A deleted file has no digest: its old contents are the workspace's, which the reviewer
 * has, and reading them here would read a file of any size (the task can delete the
 * largest file of the workspace). changes.json names it, its old mode and old size.
 */
static int export_one(struct changes_out *e, struct change *c)
{
	e->sum->counts[c->kind]++;
	if (c->type == CHANGE_TYPE_DIR)
		return 0; /* made by the export where something below it is */
	if (c->type != CHANGE_TYPE_FILE) {
		e->sum->skipped++;
		if (c->type == CHANGE_TYPE_SYMLINK && c->kind == CHANGE_DELETED)
			return patch_link_deletion(e, c);
		return 0;
	}
	if ((c->kind == CHANGE_ADDED || c->kind == CHANGE_MODIFIED) && !take_export(e, c))
		return leave_out(e, c, "not_exported");
	return patch_file(e, c);
}

int changes_escape_path(const char *path, char **ret)
{
	return export_name_escape(path, ret);
}

/* Creates name beneath dir_fd (O_EXCL) and writes text; its digest into digest. */
static int write_new(const struct changes_out *e, int dir_fd, const char *name, const char *text,
		     size_t len, uint8_t digest[SHA256_DIGEST_SIZE])
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchown(fd, e->uid, e->gid) < 0 || fchmod(fd, 0644) < 0)
		return -errno;
	sha256(text, len, digest);
	return write_all(fd, text, len);
}

static int write_json(const struct changes_out *e, int dir_fd, const struct change_set *s,
		      struct changes_summary *sum)
{
	_cleanup_free_ char *text = NULL;
	json_t *o = changes_set_to_json(s);

	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!text)
		return -ENOMEM;
	return write_new(e, dir_fd, "changes.json", text, strlen(text), sum->json_digest);
}

/* The patch is written to a memory stream first: its note on what it leaves out leads. */
static int write_patch(int dir_fd, struct change_set *s, struct changes_out *e)
{
	_cleanup_free_ char *body = NULL, *text = NULL;
	size_t blen = 0;
	int r = 0, n;

	e->patch = open_memstream(&body, &blen);
	if (!e->patch)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < s->n; i++) {
		/* Each change may read and diff two sides of up to CHANGES_MAX_DIFF_FILE. */
		if (e->stop_pending && e->stop_pending() > 0)
			r = -EINTR;
		else
			r = export_one(e, &s->items[i]);
	}
	if (fclose(e->patch) != 0 && r >= 0)
		r = -EIO;
	e->patch = NULL;
	if (r < 0)
		return r;
	n = asprintf(&text,
		     "airlock change set: %zu file change(s) left out of this patch (too large, "
		     "under .git, not exported, or a secret in the workspace's old side), %zu "
		     "not a regular file: see changes.json\n\n%s",
		     e->sum->not_in_patch, e->sum->skipped - e->links_in_patch, body ? body : "");
	if (n < 0)
		return -ENOMEM;
	if (e->sum->not_in_patch == 0 && e->sum->skipped == e->links_in_patch)
		return write_new(e, dir_fd, "changes.patch", body ? body : "", blen,
				 e->sum->patch_digest);
	return write_new(e, dir_fd, "changes.patch", text, (size_t)n, e->sum->patch_digest);
}

int changes_export(struct change_set *s, int upper_root_fd, int lower_fd, int ws_fd,
		   const struct export_options *o, struct changes_summary *ret)
{
	static char *const include[] = { (char *)CHANGES_FILES_DIR "/**", NULL };
	struct export_manifest *m = NULL;
	_cleanup_close_ int files_fd = -EBADF;
	struct changes_summary sum = { .truncated = s->truncated,
				       .truncated_why = s->truncated_why };
	struct export_options eo = *o;
	struct changes_out e = { .uid = o->uid,
				 .gid = o->gid,
				 .lower_fd = lower_fd,
				 .sum = &sum,
				 .redactor = o->redactor,
				 .scan = o->scan,
				 .stop_pending = o->stop_pending };
	int r;

	eo.include = include;
	r = export_tree(upper_root_fd, ws_fd, &eo, &m, sum.manifest_digest);
	if (r < 0)
		return r;
	sum.stop = m->stop;
	/* One budget: the patch gets the room the files left (its old sides are unbounded). */
	e.patch_max = o->max_size - MIN(m->bytes, o->max_size);
	files_fd =
		openat(ws_fd, CHANGES_FILES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (files_fd < 0 && errno != ENOENT) /* none: nothing was exported */
		r = -errno;
	e.files_fd = files_fd;
	if (r >= 0)
		r = index_manifest(&e, m);
	if (r >= 0)
		r = write_patch(ws_fd, s, &e);
	if (r >= 0)
		r = write_json(&e, ws_fd, s, &sum);
	free(e.index);
	export_manifest_free(m);
	if (r < 0)
		return r;
	*ret = sum;
	return 0;
}

/* Drops o (on an allocation failure). Returns NULL. */
static json_t *drop_object(json_t *o)
{
	json_decref(o);
	return NULL;
}

json_t *changes_summary_to_json(const struct changes_summary *sum)
{
	char jhex[2 * SHA256_DIGEST_SIZE + 1], phex[2 * SHA256_DIGEST_SIZE + 1];
	char jd[80], pd[80], md[80];
	json_t *o;

	hex_encode(sum->json_digest, SHA256_DIGEST_SIZE, jhex);
	hex_encode(sum->patch_digest, SHA256_DIGEST_SIZE, phex);
	snprintf(jd, sizeof(jd), "sha256:%s", jhex);
	snprintf(pd, sizeof(pd), "sha256:%s", phex);
	snprintf(md, sizeof(md), "sha256:%s", sum->manifest_digest);
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s,s:s,s:s}", "added",
		      (json_int_t)sum->counts[CHANGE_ADDED], "modified",
		      (json_int_t)sum->counts[CHANGE_MODIFIED], "deleted",
		      (json_int_t)sum->counts[CHANGE_DELETED], "mode",
		      (json_int_t)sum->counts[CHANGE_MODE], "skipped", (json_int_t)sum->skipped,
		      "exported_files", (json_int_t)sum->exported, "exported_bytes",
		      (json_int_t)sum->exported_bytes, "not_in_patch",
		      (json_int_t)sum->not_in_patch, "complete",
		      !sum->truncated && sum->stop == EXPORT_STOP_NONE, "changes_digest", jd,
		      "patch_digest", pd, "manifest_digest", md);
	if (o && sum->truncated_why &&
	    json_object_set_new(o, "truncated_by", json_string(sum->truncated_why)) < 0)
		o = drop_object(o);
	if (o && sum->stop != EXPORT_STOP_NONE &&
	    json_object_set_new(o, "stopped_by", json_string(export_stop_to_string(sum->stop))) < 0)
		o = drop_object(o);
	return o;
}
