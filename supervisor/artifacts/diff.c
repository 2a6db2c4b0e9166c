/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Line diffs (diff.h). Lines keep their "\n" (the last may lack it), so "x" and "x\n"
 * differ, as they do for git. Common prefix and suffix are matched first; Myers's greedy
 * search then runs on the middle, keeping each round's frontier (O(D^2) integers) for the
 * walk back; past DIFF_MAX_EDITS rounds the middle is replaced whole, which is still a
 * correct patch, only not the shortest.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "diff.h"
#include "macro.h"

struct line {
	const char *p;
	size_t len; /* with its "\n", if any */
	uint64_t hash;
};

enum op {
	OP_EQ,
	OP_DEL,
	OP_INS,
};

struct script {
	unsigned char *ops;
	size_t n;
	size_t cap;
};

bool diff_is_binary(const void *data, size_t len)
{
	return memchr(data, '\0', len) != NULL;
}

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h;
}

/* Splits data into lines. *ret owned by the caller. Returns the count or -ENOMEM. */
static ssize_t split_lines(const char *data, size_t len, struct line **ret)
{
	size_t n = 0, cap = 0;
	struct line *l = NULL;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) + 1 : len;

		if (n == cap) {
			struct line *nl2 = reallocarray(l, cap = cap ? cap * 2 : 64, sizeof(*l));

			if (!nl2) {
				free(l);
				return -ENOMEM;
			}
			l = nl2;
		}
		l[n++] = (struct line){ data + i, end - i, hash_bytes(data + i, end - i) };
		i = end;
	}
	*ret = l;
	return (ssize_t)n;
}

static bool line_eq(const struct line *a, const struct line *b)
{
	return a->hash == b->hash && a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static int script_push(struct script *s, enum op op, size_t count)
{
	if (count == 0)
		return 0;
	if (s->n + count > s->cap) {
		size_t cap = MAX(s->cap * 2, s->n + count + 64);
		unsigned char *ops = realloc(s->ops, cap);

		if (!ops)
			return -ENOMEM;
		s->ops = ops;
		s->cap = cap;
	}
	memset(s->ops + s->n, op, count);
	s->n += count;
	return 0;
}

/*
 * Myers's search for the shortest script turning a[0..n) into b[0..m), appended to s in
 * order. Returns 0, -E2BIG (more than DIFF_MAX_EDITS edits: s untouched) or -ENOMEM.
 */
static int myers(const struct line *a, long n, const struct line *b, long m, struct script *s)
{
	long dmax = MIN(n + m, (long)DIFF_MAX_EDITS), d, k, x, y, found = -1;
	_cleanup_free_ long *v = NULL, *trace = NULL;
	_cleanup_free_ unsigned char *rev = NULL;
	size_t off = (size_t)dmax + 1, nrev = 0;

	v = calloc(2 * off + 1, sizeof(*v));
	/* Round d keeps v[-(d+1)..d+1] as it was before the round: 2d+3 entries. */
	trace = malloc(((size_t)(dmax + 1) * (size_t)(dmax + 3)) * sizeof(*trace));
	if (!v || !trace)
		return -ENOMEM;
	for (d = 0; d <= dmax && found < 0; d++) {
		memcpy(trace + d * (d + 2), v + off - d - 1, (size_t)(2 * d + 3) * sizeof(*v));
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < n && y < m && line_eq(&a[x], &b[y]))
				x++, y++;
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found < 0)
		return -E2BIG;

	rev = malloc((size_t)(n + m) + 1);
	if (!rev)
		return -ENOMEM;
	x = n;
	y = m;
	for (d = found; d >= 0; d--) {
		const long *w = trace + d * (d + 2) + d + 1; /* w[k] for k in -(d+1)..d+1 */
		long pk, px, py;

		k = x - y;
		pk = (k == -d || (k != d && w[k - 1] < w[k + 1])) ? k + 1 : k - 1;
		px = w[pk];
		py = px - pk;
		while (x > px && y > py && x > 0 && y > 0) {
			rev[nrev++] = OP_EQ;
			x--, y--;
		}
		if (d == 0)
			break;
		rev[nrev++] = x == px ? OP_INS : OP_DEL;
		x = px;
		y = py;
	}
	for (size_t i = nrev; i > 0; i--)
		if (script_push(s, rev[i - 1], 1) < 0)
			return -ENOMEM;
	return 0;
}

/* The whole script: common prefix and suffix, Myers (or a whole replacement) between. */
static int make_script(const struct line *a, size_t n, const struct line *b, size_t m,
		       struct script *s)
{
	size_t pre = 0, suf = 0;
	int r;

	while (pre < n && pre < m && line_eq(&a[pre], &b[pre]))
		pre++;
	while (suf < n - pre && suf < m - pre && line_eq(&a[n - 1 - suf], &b[m - 1 - suf]))
		suf++;
	r = script_push(s, OP_EQ, pre);
	if (r < 0)
		return r;
	r = myers(a + pre, (long)(n - pre - suf), b + pre, (long)(m - pre - suf), s);
	if (r == -E2BIG) {
		r = script_push(s, OP_DEL, n - pre - suf);
		if (r >= 0)
			r = script_push(s, OP_INS, m - pre - suf);
	}
	if (r < 0)
		return r;
	return script_push(s, OP_EQ, suf);
}

static int put_line(FILE *out, char sign, const struct line *l)
{
	bool nl = l->len > 0 && l->p[l->len - 1] == '\n';

	if (fputc(sign, out) == EOF || fwrite(l->p, 1, l->len, out) != l->len)
		return -EIO;
	if (!nl && fputs("\n\\ No newline at end of file\n", out) == EOF)
		return -EIO;
	return 0;
}

/* "-start,count": a count of 0 names the line before (0 at the top). */
static void range(char *buf, size_t size, size_t first, size_t count)
{
	snprintf(buf, size, "%zu,%zu", count ? first + 1 : first, count);
}

/* One hunk: script entries [from, to), a and b positions at from being ai, bi. */
static int write_hunk(FILE *out, const struct script *s, size_t from, size_t to,
		      const struct line *a, size_t ai, const struct line *b, size_t bi)
{
	size_t na = 0, nb = 0;
	char ra[48], rb[48];
	int r = 0;

	for (size_t i = from; i < to; i++) {
		na += s->ops[i] != OP_INS;
		nb += s->ops[i] != OP_DEL;
	}
	range(ra, sizeof(ra), ai, na);
	range(rb, sizeof(rb), bi, nb);
	if (fprintf(out, "@@ -%s +%s @@\n", ra, rb) < 0)
		return -EIO;
	for (size_t i = from; i < to && r >= 0; i++)
		switch (s->ops[i]) {
		case OP_EQ:
			r = put_line(out, ' ', &a[ai++]);
			bi++;
			break;
		case OP_DEL:
			r = put_line(out, '-', &a[ai++]);
			break;
		default:
			r = put_line(out, '+', &b[bi++]);
			break;
		}
	return r;
}

/* Groups the script's edits into hunks: edits closer than 2 * context share one. */
static int write_script(FILE *out, const struct script *s, const struct line *a,
			const struct line *b)
{
	size_t i = 0, ai = 0, bi = 0;

	while (i < s->n) {
		size_t start, end, eq = 0, hai, hbi;
		int r;

		if (s->ops[i] == OP_EQ) {
			i++, ai++, bi++;
			continue;
		}
		/* Back up over at most DIFF_CONTEXT equal lines. */
		start = i;
		while (start > 0 && i - start < DIFF_CONTEXT && s->ops[start - 1] == OP_EQ)
			start--;
		hai = ai - (i - start);
		hbi = bi - (i - start);
		/* Forward until 2 * context equal lines in a row, or the end. */
		for (end = i; end < s->n && eq <= 2 * DIFF_CONTEXT; end++)
			eq = s->ops[end] == OP_EQ ? eq + 1 : 0;
		end -= eq > DIFF_CONTEXT ? eq - DIFF_CONTEXT : 0;
		r = write_hunk(out, s, start, end, a, hai, b, hbi);
		if (r < 0)
			return r;
		for (; i < end; i++) {
			ai += s->ops[i] != OP_INS;
			bi += s->ops[i] != OP_DEL;
		}
	}
	return 0;
}

int diff_write_hunks(FILE *out, const char *a, size_t alen, const char *b, size_t blen)
{
	_cleanup_free_ struct line *la = NULL, *lb = NULL;
	struct script s = {};
	ssize_t n, m;
	int r;

	n = split_lines(a, alen, &la);
	if (n < 0)
		return (int)n;
	m = split_lines(b, blen, &lb);
	if (m < 0)
		return (int)m;
	r = make_script(la, (size_t)n, lb, (size_t)m, &s);
	if (r >= 0)
		r = write_script(out, &s, la, lb);
	free(s.ops);
	return r;
}

int diff_write_path(FILE *out, const char *prefix, const char *path)
{
	static const char esc[] = {
		['\a'] = 'a', ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\v'] = 'v',
		['\f'] = 'f', ['\r'] = 'r', ['"'] = '"',  ['\\'] = '\\'
	};
	bool quote = false;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		quote |= *p <= ' ' || *p == '"' || *p == '\\' || *p >= 0x7f;
	if (!quote)
		return fprintf(out, "%s%s", prefix, path) < 0 ? -EIO : 0;
	if (fprintf(out, "\"%s", prefix) < 0)
		return -EIO;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		int k;

		if (*p < sizeof(esc) && esc[*p])
			k = fprintf(out, "\\%c", esc[*p]);
		else if (*p < ' ' || *p >= 0x7f)
			k = fprintf(out, "\\%03o", *p);
		else
			k = fputc(*p, out) == EOF ? -1 : 1;
		if (k < 0)
			return -EIO;
	}
	return fputc('"', out) == EOF ? -EIO : 0;
}

/* git records only whether a file is executable (by its owner), or that it is a link. */
static unsigned git_mode(mode_t m)
{
	if (S_ISLNK(m))
		return 0120000;
	return (m & S_IXUSR) ? 0100755 : 0100644;
}

/* "diff --git a/P b/P" and the extended headers. */
static int write_header(FILE *out, const char *path, mode_t old_mode, mode_t new_mode)
{
	int r;

	if (fputs("diff --git ", out) == EOF)
		return -EIO;
	r = diff_write_path(out, "a/", path);
	if (r >= 0 && fputc(' ', out) == EOF)
		r = -EIO;
	if (r >= 0)
		r = diff_write_path(out, "b/", path);
	if (r < 0 || fputc('\n', out) == EOF)
		return -EIO;
	if (!old_mode)
		r = fprintf(out, "new file mode %o\n", git_mode(new_mode));
	else if (!new_mode)
		r = fprintf(out, "deleted file mode %o\n", git_mode(old_mode));
	else if (git_mode(old_mode) != git_mode(new_mode))
		r = fprintf(out, "old mode %o\nnew mode %o\n", git_mode(old_mode),
			    git_mode(new_mode));
	return r < 0 ? -EIO : 0;
}

/* "--- a/P" (or /dev/null) and "+++ b/P" (or /dev/null). */
static int write_names(FILE *out, const char *path, bool has_old, bool has_new)
{
	int r = fputs("--- ", out) == EOF ? -EIO : 0;

	if (r >= 0)
		r = has_old ? diff_write_path(out, "a/", path)
			    : (fputs("/dev/null", out) == EOF ? -EIO : 0);
	if (r >= 0 && fputs("\n+++ ", out) == EOF)
		r = -EIO;
	if (r >= 0)
		r = has_new ? diff_write_path(out, "b/", path)
			    : (fputs("/dev/null", out) == EOF ? -EIO : 0);
	if (r >= 0 && fputc('\n', out) == EOF)
		r = -EIO;
	return r;
}

int diff_write_file(FILE *out, const char *path, mode_t old_mode, mode_t new_mode, const char *a,
		    size_t alen, const char *b, size_t blen)
{
	bool same;
	int r;

	if (!old_mode)
		alen = 0;
	if (!new_mode)
		blen = 0;
	same = old_mode && new_mode && alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
	if (same && git_mode(old_mode) == git_mode(new_mode))
		return 0;
	r = write_header(out, path, old_mode, new_mode);
	if (r < 0 || same || (alen == 0 && blen == 0))
		return r; /* a mode change, or an empty file added or deleted: headers alone */
	r = write_names(out, path, old_mode != 0, new_mode != 0);
	if (r < 0)
		return r;
	return diff_write_hunks(out, a, alen, b, blen);
}

int diff_write_binary(FILE *out, const char *path, mode_t old_mode, mode_t new_mode, const char *a,
		      size_t alen, const char *b, size_t blen)
{
	bool same = old_mode && new_mode && alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
	int r;

	if (same && git_mode(old_mode) == git_mode(new_mode))
		return 0;
	r = write_header(out, path, old_mode, new_mode);
	if (r < 0 || same)
		return r;
	return diff_write_binary_body(out, old_mode ? a : NULL, old_mode ? alen : 0,
				      new_mode ? b : NULL, new_mode ? blen : 0);
}
