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
#include "fd-util.h"
#include "macro.h"
#include "parse-util.h"

#define COPY_CHUNK 65536

struct export
{
	int upper_fd;
	int lower_fd;
	int ws_fd; /* DIR/workspace */
	FILE *patch;
	struct changes_summary *sum;
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
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int r = S_ISREG(st.st_mode) ? -errno : -EINVAL;

		close(fd);
		return r;
	}
	return fd;
}

/* Creates the directories of path's parent beneath ws_fd; returns the parent's fd. */
static int make_parents(int ws_fd, const char *path, const char **ret_base)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int cur = -EBADF;
	char *p, *slash;

	if (!copy)
		return -ENOMEM;
	cur = fcntl(ws_fd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -errno;
	for (p = copy; (slash = strchr(p, '/')); p = slash + 1) {
		int next;

		*slash = '\0';
		if (mkdirat(cur, p, 0755) < 0 && errno != EEXIST)
			return -errno;
		next = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return -errno;
		close(cur);
		cur = next;
	}
	*ret_base = path + (p - copy);
	return TAKE_FD(cur);
}

/* A new file at path beneath ws_fd: 0755 when any execute bit was set, else 0644. */
static int create_file(int ws_fd, const char *path, mode_t mode)
{
	_cleanup_close_ int parent = -EBADF;
	const char *base;
	int fd;

	parent = make_parents(ws_fd, path, &base);
	if (parent < 0)
		return parent;
	fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    (mode & 0111) ? 0755 : 0644);
	return fd < 0 ? -errno : fd;
}

/* Copies in to out (out may be -EBADF: hash only) while hashing. */
static int copy_hash(int in, int out, uint8_t digest[SHA256_DIGEST_SIZE], uint64_t *ret_bytes)
{
	_cleanup_free_ char *buf = malloc(COPY_CHUNK);
	struct sha256 h;
	uint64_t total = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	sha256_init(&h);
	while ((n = read_full(in, buf, COPY_CHUNK)) > 0) {
		sha256_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
		if (out >= 0) {
			int r = write_all(out, buf, (size_t)n);

			if (r < 0)
				return r;
		}
	}
	if (n < 0)
		return (int)n;
	sha256_final(&h, digest);
	*ret_bytes = total;
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

/* The patch of one regular file: old from the lower, new from the upper, as they apply. */
static int patch_file(struct export *e, struct change *c)
{
	_cleanup_free_ char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	bool has_old = c->kind != CHANGE_ADDED, has_new = c->kind != CHANGE_DELETED;
	int r = 1, k = 1;

	if (is_git_path(c->path)) {
		c->patch = "git_path";
		goto left_out;
	}
	if (has_old && c->kind != CHANGE_MODE)
		r = read_side(e->lower_fd, c->path, &a, &alen);
	if (r > 0 && has_new && c->kind != CHANGE_MODE)
		k = read_side(e->upper_fd, c->path, &b, &blen);
	if (r < 0 || k < 0)
		return r < 0 ? r : k;
	if (r == 0 || k == 0) {
		c->patch = "too_large";
		goto left_out;
	}
	if ((a && diff_is_binary(a, alen)) || (b && diff_is_binary(b, blen))) {
		c->patch = "binary";
		goto left_out;
	}
	r = diff_write_file(e->patch, c->path, has_old ? c->old_mode | S_IFREG : 0,
			    has_new ? c->new_mode | S_IFREG : 0, a, alen, b, blen);
	if (r < 0)
		return r;
	if (c->kind != CHANGE_MODE || ((c->old_mode ^ c->new_mode) & S_IXUSR))
		c->patch = "included";
	return 0;
left_out:
	e->sum->not_in_patch++;
	return 0;
}

/* An added or modified file: its new contents under DIR/workspace, hashed. */
static int export_file(struct export *e, struct change *c)
{
	_cleanup_close_ int in = -EBADF, out = -EBADF;
	uint64_t bytes;
	int r;

	in = open_beneath(e->upper_fd, c->path);
	if (in < 0)
		return in;
	out = create_file(e->ws_fd, c->path, c->new_mode);
	if (out < 0)
		return out;
	r = copy_hash(in, out, c->digest, &bytes);
	if (r < 0)
		return r;
	c->has_digest = true;
	c->size = bytes; /* what was exported, should the layer have changed since the walk */
	e->sum->exported++;
	e->sum->exported_bytes += bytes;
	return 0;
}

/* A deleted file: the digest of what it was. */
static int hash_deleted(struct export *e, struct change *c)
{
	_cleanup_close_ int in = -EBADF;
	uint64_t bytes;
	int r;

	in = open_beneath(e->lower_fd, c->path);
	if (in < 0)
		return in;
	r = copy_hash(in, -EBADF, c->digest, &bytes);
	c->has_digest = r >= 0;
	return r;
}

static int export_one(struct export *e, struct change *c)
{
	int r = 0;

	e->sum->counts[c->kind]++;
	if (c->type == CHANGE_TYPE_DIR) {
		const char *base;
		_cleanup_close_ int parent = -EBADF;

		if (c->kind != CHANGE_ADDED)
			return 0;
		parent = make_parents(e->ws_fd, c->path, &base);
		if (parent < 0)
			return parent;
		return mkdirat(parent, base, 0755) < 0 && errno != EEXIST ? -errno : 0;
	}
	if (c->type != CHANGE_TYPE_FILE) {
		e->sum->skipped++;
		return 0;
	}
	if (c->kind == CHANGE_ADDED || c->kind == CHANGE_MODIFIED)
		r = export_file(e, c);
	else if (c->kind == CHANGE_DELETED)
		r = hash_deleted(e, c);
	if (r >= 0)
		r = patch_file(e, c);
	return r;
}

int changes_escape_path(const char *path, char **ret)
{
	size_t n = strlen(path);
	char *buf = malloc(4 * n + 1), *q = buf;

	if (!buf)
		return -ENOMEM;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p == '\\') {
			*q++ = '\\';
			*q++ = '\\';
		} else if (*p >= 0x20 && *p < 0x7f)
			*q++ = (char)*p;
		else
			q += sprintf(q, "\\x%02x", *p);
	}
	*q = '\0';
	*ret = buf;
	return 0;
}

static json_t *mode_json(mode_t m)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04o", (unsigned)(m & 07777));
	return json_string(buf);
}

static json_t *change_json(const struct change *c)
{
	_cleanup_free_ char *path = NULL;
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	json_t *o;
	int r = 0;

	if (changes_escape_path(c->path, &path) < 0)
		return NULL;
	o = json_pack("{s:s,s:s,s:s}", "path", path, "kind", change_kind_to_string(c->kind), "type",
		      change_type_to_string(c->type));
	if (!o)
		return NULL;
	if (c->kind != CHANGE_ADDED)
		r |= json_object_set_new(o, "old_mode", mode_json(c->old_mode));
	if (c->kind != CHANGE_DELETED)
		r |= json_object_set_new(o, "new_mode", mode_json(c->new_mode));
	if (c->type == CHANGE_TYPE_FILE && c->kind != CHANGE_DELETED)
		r |= json_object_set_new(o, "size", json_integer((json_int_t)c->size));
	if (c->type == CHANGE_TYPE_FILE && c->kind != CHANGE_ADDED)
		r |= json_object_set_new(o, "old_size", json_integer((json_int_t)c->old_size));
	if (c->has_digest) {
		hex_encode(c->digest, SHA256_DIGEST_SIZE, hex);
		r |= json_object_set_new(o, "sha256", json_string(hex));
	}
	if (c->patch)
		r |= json_object_set_new(o, "patch", json_string(c->patch));
	if (c->type != CHANGE_TYPE_FILE && c->type != CHANGE_TYPE_DIR)
		r |= json_object_set_new(o, "skipped", json_string("not a regular file"));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *set_json(const struct change_set *s)
{
	json_t *o, *arr = json_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (json_array_append_new(arr, change_json(&s->items[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	o = json_pack("{s:i,s:b,s:o}", "version", 1, "truncated", s->truncated, "changes", arr);
	if (o && s->truncated_why &&
	    json_object_set_new(o, "truncated_why", json_string(s->truncated_why)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Creates name beneath dir_fd (O_EXCL) and writes text; its digest into digest. */
static int write_new(int dir_fd, const char *name, const char *text, size_t len,
		     uint8_t digest[SHA256_DIGEST_SIZE])
{
	_cleanup_close_ int fd = -EBADF;

	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	sha256(text, len, digest);
	return write_all(fd, text, len);
}

static int write_json(int dir_fd, const struct change_set *s, struct changes_summary *sum)
{
	_cleanup_free_ char *text = NULL;
	json_t *o = set_json(s);

	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!text)
		return -ENOMEM;
	return write_new(dir_fd, "changes.json", text, strlen(text), sum->json_digest);
}

/* The patch is written to a memory stream first: its note on what it leaves out leads. */
static int write_patch(int dir_fd, struct change_set *s, struct export *e)
{
	_cleanup_free_ char *body = NULL, *text = NULL;
	size_t blen = 0;
	int r = 0, n;

	e->patch = open_memstream(&body, &blen);
	if (!e->patch)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < s->n; i++)
		r = export_one(e, &s->items[i]);
	if (fclose(e->patch) != 0 && r >= 0)
		r = -EIO;
	e->patch = NULL;
	if (r < 0)
		return r;
	n = asprintf(&text,
		     "airlock change set: %zu text change(s) left out of this patch (binary, too "
		     "large or under .git), %zu not a regular file: see changes.json\n\n%s",
		     e->sum->not_in_patch, e->sum->skipped, body ? body : "");
	if (n < 0)
		return -ENOMEM;
	if (e->sum->not_in_patch == 0 && e->sum->skipped == 0)
		return write_new(dir_fd, "changes.patch", body ? body : "", blen,
				 e->sum->patch_digest);
	return write_new(dir_fd, "changes.patch", text, (size_t)n, e->sum->patch_digest);
}

int changes_export(struct change_set *s, int upper_fd, int lower_fd, int dir_fd,
		   struct changes_summary *ret)
{
	_cleanup_close_ int ws_fd = -EBADF;
	struct changes_summary sum = { .truncated = s->truncated,
				       .truncated_why = s->truncated_why };
	struct export e = { .upper_fd = upper_fd, .lower_fd = lower_fd, .sum = &sum };
	int r;

	if (mkdirat(dir_fd, "workspace", 0755) < 0)
		return -errno;
	ws_fd = openat(dir_fd, "workspace", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ws_fd < 0)
		return -errno;
	e.ws_fd = ws_fd;
	r = write_patch(dir_fd, s, &e);
	if (r < 0)
		return r;
	r = write_json(dir_fd, s, &sum);
	if (r < 0)
		return r;
	*ret = sum;
	return 0;
}

json_t *changes_summary_to_json(const struct changes_summary *sum)
{
	char jhex[2 * SHA256_DIGEST_SIZE + 1], phex[2 * SHA256_DIGEST_SIZE + 1];
	json_t *o;

	hex_encode(sum->json_digest, SHA256_DIGEST_SIZE, jhex);
	hex_encode(sum->patch_digest, SHA256_DIGEST_SIZE, phex);
	o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s,s:s}", "added",
		      (json_int_t)sum->counts[CHANGE_ADDED], "modified",
		      (json_int_t)sum->counts[CHANGE_MODIFIED], "deleted",
		      (json_int_t)sum->counts[CHANGE_DELETED], "mode",
		      (json_int_t)sum->counts[CHANGE_MODE], "skipped", (json_int_t)sum->skipped,
		      "exported_files", (json_int_t)sum->exported, "exported_bytes",
		      (json_int_t)sum->exported_bytes, "not_in_patch",
		      (json_int_t)sum->not_in_patch, "truncated", sum->truncated, "changes_sha256",
		      jhex, "patch_sha256", phex);
	if (o && sum->truncated_why &&
	    json_object_set_new(o, "truncated_why", json_string(sum->truncated_why)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
