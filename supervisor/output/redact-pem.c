/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The private-key block scanner of the built-in patterns (redact-builtin.c): from
 * "-----BEGIN ... PRIVATE KEY-----" through its END line, or, cut short, its last line;
 * written plainly, with JSON escapes (JSON inside JSON too) or as a list of its lines.
 * It sees the raw bytes and returns BM_NONE, BM_MORE or BM_MATCH as the other matchers do.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "redact-builtin.h"
#include "redact-internal.h"
#include "redact-pem.h"

#define PEM_END_MAX 80 /* "-----END" to the "-----" that closes its line */
#define PEM_HEADER_MAX 1024 /* a header line of a private-key block (Proc-Type:, Comment:) */
#define PEM_LINE_MAX 80 /* a longer word is a block's lines run together: its last */

/*
 * "-----END" (or, at the end of the input, a prefix of it) at p + j: the block ends after
 * the first "-----" starting within PEM_END_MAX bytes after it, else before the END line.
 * Decided only once all of those bytes are there, so it is the same however the output
 * was split.
 */
static int match_pem_end(const uint8_t *p, size_t j, size_t avail, bool final, struct bm *m)
{
	size_t last = j + 8 + PEM_END_MAX;

	if (avail < last + 4 && !final)
		return BM_MORE;
	for (size_t k = j + 8; k < last && k + 5 <= avail; k++)
		if (memcmp(p + k, "-----", 5) == 0) {
			*m = (struct bm){ 0, k + 5, false };
			return BM_MATCH;
		}
	*m = (struct bm){ 0, j, false };
	return BM_MATCH;
}

static int hex_digit(uint8_t c)
{
	return c >= '0' && c <= '9'			? c - '0'
	       : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10
							: -1;
}

/*
 * An escape at p + j inside a private-key block in a string, its backslash doubled any
 * number of times (JSON inside JSON): \n \r, \u000a \u000d and a backslash at a line's end
 * (a string continued on the next line) separate lines, \t and \u0009 are blanks (a key's
 * lines joined with tabs), \/ and \uXXXX of a base64 character (System.Text.Json's \u002B,
 * Gson's \u003d) are one. Its kind, with *len; PEM_ESC_MORE when its end is still to come.
 */
int pem_escape(const uint8_t *p, size_t j, size_t avail, size_t *len)
{
	size_t k = builtin_backslashes(p, j, avail);
	int code = 0;

	if (k == j)
		return PEM_ESC_NONE;
	if (k == avail)
		return PEM_ESC_MORE;
	*len = k + 1 - j;
	if (p[k] == 'n' || p[k] == 'r' || p[k] == '\n' || p[k] == '\r')
		return PEM_ESC_SEP; /* a backslash before a line end: a string goes on (shell, TOML) */
	if (p[k] == 't' || p[k] == '/')
		return p[k] == 't' ? PEM_ESC_BLANK : PEM_ESC_CHAR;
	if (p[k] != 'u')
		return PEM_ESC_NONE;
	for (size_t i = 1; i <= 4; i++) {
		if (k + i == avail)
			return PEM_ESC_MORE;
		if (hex_digit(p[k + i]) < 0)
			return PEM_ESC_NONE;
		code = code * 16 + hex_digit(p[k + i]);
	}
	*len = k + 5 - j;
	if (code == '\n' || code == '\r' || code == '\t')
		return code == '\t' ? PEM_ESC_BLANK : PEM_ESC_SEP;
	return code < 0x80 && (builtin_cls[code] & (C_ALNUM | C_PLUS_SLASH) || code == '=')
		       ? PEM_ESC_CHAR
		       : PEM_ESC_NONE;
}

/* Where a header is, while pem_header() reads it. */
struct pem_header_scan {
	bool named; /* its first word is a name of [A-Za-z-] ending with ':' (Proc-Type:) */
	bool in_name; /* that name may still be ending */
	bool gap; /* blanks between the name and its ':' (Proc-Type\t:) */
	bool value; /* a character after the name */
	size_t blank; /* the first blank after that, 0 when none yet */
};

static void pem_header_char(struct pem_header_scan *h, const uint8_t *p, size_t j, size_t k)
{
	bool blank = p[k] == ' ' || p[k] == '\t';

	if (h->named) {
		if (blank && h->value && !h->blank)
			h->blank = k;
		else if (!blank)
			h->value = true;
	} else if (p[k] == ':' && h->in_name && k > j) {
		h->named = true;
	} else if (blank) {
		h->gap = h->in_name = h->in_name && k > j;
	} else if (h->gap || (!(builtin_cls[p[k]] & (C_UPPER | C_LOWER)) && p[k] != '-')) {
		h->in_name = false; /* 12:00, "n": 1, MIIE...:, a word after a blank: no name */
	}
}

/* Whether the header at p + j is one whose value has no blank (Proc-Type: 4,ENCRYPTED,
 * DEK-Info: AES-128-CBC,...): text after a blank on its line is the block flattened. */
static bool pem_header_one_word(const uint8_t *p, size_t j, size_t avail)
{
	return builtin_lit(p + j, avail - j, "proc-type:", true) > 0 ||
	       builtin_lit(p + j, avail - j, "dek-info:", true) > 0;
}

/* The end of the line of a header at p + j, k: the header ends there, or in a block
 * flattened onto one line at the blank after its value. */
static int pem_header_end(const uint8_t *p, const struct pem_header_scan *h, size_t j, size_t k,
			  size_t avail, size_t *end, bool *flat)
{
	if (h->blank && builtin_skip_blanks(p, h->blank, k) < k &&
	    pem_header_one_word(p, j, avail)) {
		*end = h->blank;
		*flat = true;
		return 1;
	}
	*end = k;
	return h->named ? 1 : -1;
}

/*
 * A header line of a block (Proc-Type: 4,ENCRYPTED; Comment: ...) at p + j: 1 with *end
 * after it, 0 when its end is still to come, -1 when the line is none. In a block
 * flattened onto one line (its line ends taken out or made blanks), a Proc-Type: or
 * DEK-Info: header ends at the blank after its value, *flat set: the rest of the line is
 * the block's; a header the output ends in takes in the rest of it.
 */
static int pem_header(const uint8_t *p, size_t j, size_t avail, bool final, bool list,
		      const struct pem_cont *c, size_t *end, bool *flat)
{
	struct pem_header_scan h = { .in_name = true };
	int sep;

	for (size_t k = j; k < j + PEM_HEADER_MAX; k++) {
		sep = k < avail ? pem_sep(p, k, avail, list, c) : -1;
		if (sep < 0 && !final)
			return 0;
		if (sep < 0) {
			if (!h.named)
				return -1;
			*end = avail;
			*flat = true;
			return 1;
		}
		if (sep > 0 && p[k] != ' ' && p[k] != '\t')
			return pem_header_end(p, &h, j, k, avail, end, flat);
		if ((p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f)
			return -1; /* a control character: a tab is a blank */
		pem_header_char(&h, p, j, k);
	}
	if (!h.blank || !pem_header_one_word(p, j, avail))
		return -1;
	*end = h.blank;
	*flat = true;
	return 1;
}

/* A word of base64 at p + j (an escape of a base64 character counts as that character,
 * pem_escape()): its length in characters, and *end where it stops (avail when an escape
 * in it is still to come). */
static size_t pem_word(const uint8_t *p, size_t j, size_t avail, size_t *end)
{
	size_t n = 0, len;
	int e;

	while (j < avail && j < REDACT_BUILTIN_MAX) {
		if (builtin_cls[p[j]] & (C_ALNUM | C_PLUS_SLASH) || p[j] == '=') {
			j++;
		} else {
			e = pem_escape(p, j, avail, &len);
			if (e == PEM_ESC_MORE)
				j = avail;
			if (e != PEM_ESC_CHAR)
				break;
			j += len;
		}
		n++;
	}
	*end = j;
	return n;
}

/* Whether a word of n characters, run into other text (quoted: into a closing quote), is
 * the end of a block's text: a line cut short with other output after it, or its last
 * line before a closing quote, not a word of that output (make: error). */
static bool pem_word_taken(size_t n, size_t width, bool quoted)
{
	return n > 0 && (n >= PEM_LINE_MIN || (width && n >= width) || quoted);
}

/* Whether "-----END" (or, before the end of the output, a prefix of it) is at p + j. */
static bool pem_end_at(const uint8_t *p, size_t j, size_t avail, bool final)
{
	int r = builtin_lit(p + j, avail - j, "-----END", false);

	return r > 0 || (r == 0 && !final);
}

/*
 * The rest of a block flattened onto one line at p + j: up to its line's end, a quote (the
 * end of a string holding it), a control character, an escape that is not of a base64
 * character, its END line (taken in) or the end of the output, and once its text began (a
 * word of base64 as long as PEM_LINE_MIN), any other character that is not base64
 * ("(truncated)"); the blanks before that stay.
 */
static int pem_flat_rest(const uint8_t *p, size_t j, size_t avail, bool final, bool list,
			 struct bm *m)
{
	size_t k = j, good = j, run = 0, len;
	bool body = false;
	int e;

	while (k < avail && k < REDACT_BUILTIN_MAX) {
		if (p[k] == '-' && pem_end_at(p, k, avail, final))
			return match_pem_end(p, k, avail, final, m);
		len = 1;
		if (p[k] == '\\') {
			e = pem_escape(p, k, avail, &len);
			if (e == PEM_ESC_MORE && !final)
				return BM_MORE;
			if (e == PEM_ESC_BLANK) {
				run = 0;
				k += len;
				continue;
			}
			if (e != PEM_ESC_CHAR)
				break;
		} else if ((p[k] < 0x20 && p[k] != '\t') || p[k] == 0x7f || p[k] == '"' ||
			   p[k] == '\'') {
			break;
		} else if (!(builtin_cls[p[k]] & (C_ALNUM | C_PLUS_SLASH) || p[k] == '=')) {
			if (body && p[k] != ' ' && p[k] != '\t')
				break;
			run = 0;
			k++;
			continue;
		}
		body = body || ++run >= PEM_LINE_MIN;
		k += len;
		good = k;
	}
	if (k >= REDACT_BUILTIN_MAX && !(k == avail && final)) {
		*m = (struct bm){ .end = k, .cont = true, .pem = { 0, list, true } };
		return BM_MATCH;
	}
	if (k == avail && !final)
		return BM_MORE;
	*m = (struct bm){ 0, good, false };
	return BM_MATCH;
}

/* Whether the block whose first line starts at p + j is flattened: not a list of lines (no
 * quote there), and no line end (nor an escape of one) in the PEM_HEADER_MAX bytes after
 * it. 1 it is, 0 it is not, -1 when the bytes available end first. */
static int pem_flattened(const uint8_t *p, size_t j, size_t avail, bool final)
{
	size_t e = 1;
	int esc;

	if (j < avail && builtin_quote(p, j, avail, &e) != 0)
		return 0;
	for (size_t k = j; k < j + PEM_HEADER_MAX; k += e) {
		if (k >= avail)
			return final ? 1 : -1;
		if (p[k] == '\n' || p[k] == '\r')
			return 0;
		e = 1;
		esc = p[k] == '\\' ? pem_escape(p, k, avail, &e) : PEM_ESC_NONE;
		if (esc == PEM_ESC_MORE)
			return final ? 1 : -1;
		if (esc == PEM_ESC_SEP)
			return 0;
		if (esc == PEM_ESC_NONE)
			e = 1;
	}
	return 1;
}

/* Where pem_body() is in a block, and what it has learnt of the block so far. */
struct pem_scan {
	const uint8_t *p;
	size_t avail;
	bool final;
	const struct pem_cont *c;
	size_t j; /* the next byte to read */
	size_t width; /* its lines' width: the first word's length */
	size_t good; /* where the block ends so far */
	size_t cut; /* past its last line: where it ends unless an END line follows; 0 none */
	size_t first; /* where its first line starts, SIZE_MAX on a resume */
	bool resume; /* the first word after a step is still to come */
	bool headers; /* header lines may still come */
	bool last; /* a word shorter than the first (or longer than a line) was seen */
	bool list, flat, bol; /* as in struct pem_cont */
};

/* What a step of pem_body() returns besides BM_MORE and BM_MATCH (the block's result). */
enum { PEM_NEXT = -1, PEM_STOP = -2 };

/* At a line's start in a block whose lines carry a prefix: past it. */
static int pem_step_prefix(struct pem_scan *s)
{
	s->bol = false;
	s->j = pem_line_prefix(s->p, s->j, s->avail, s->final, s->c);
	return s->j == SIZE_MAX ? BM_MORE : PEM_NEXT;
}

/* Past a separator of len bytes at s->j (len < 0: its end is still to come). */
static int pem_step_sep(struct pem_scan *s, int len)
{
	size_t e;

	if (len < 0)
		return s->final ? PEM_STOP : BM_MORE;
	s->list = s->list || builtin_quote(s->p, s->j, s->avail, &e) > 0;
	s->j += (size_t)len;
	s->bol = s->p[s->j - 1] == '\n';
	return PEM_NEXT;
}

/*
 * A whole word of n characters up to end, a separator after it: a line of the block. The
 * first sets the width; past a word shorter than it (or longer than a line), a shorter one
 * may be past the last line: the block is cut there unless a whole line or an END line
 * follows.
 */
static void pem_step_line(struct pem_scan *s, size_t n, size_t end)
{
	if (s->cut && n >= s->width)
		s->cut = 0; /* a whole line again: the short one was not the last */
	if (!s->cut && s->last && n < s->width && !(s->p[s->j] == '=' && n <= 5 && s->width > 5))
		s->cut = s->good; /* past its last line, unless an END line follows */
	s->good = end;
	if (s->width == 0)
		s->width = n;
	s->last = s->last || n < s->width || n > PEM_LINE_MAX;
	s->j = end;
}

/* A word of n characters up to end run into other text (no separator after it): an END
 * line, or the block stops there, the word taken in or not. */
static int pem_step_run_in(struct pem_scan *s, size_t n, size_t end, struct bm *m)
{
	size_t e;

	if (s->p[end] == '-' && pem_end_at(s->p, end, s->avail, s->final))
		return match_pem_end(s->p, end, s->avail, s->final, m);
	/* before the last line, any word is the key's */
	if (!s->cut && n > 0 &&
	    (!s->last || pem_word_taken(n, s->width, builtin_quote(s->p, end, s->avail, &e) > 0)))
		s->good = end;
	return PEM_STOP;
}

/* A word of base64 at s->j and what follows it. */
static int pem_step_word(struct pem_scan *s, struct bm *m)
{
	size_t end, n = pem_word(s->p, s->j, s->avail, &end);
	int sep;

	if (end == s->avail && !s->final && end < REDACT_BUILTIN_MAX)
		return BM_MORE;
	if (end >= REDACT_BUILTIN_MAX) {
		s->j = s->good = end;
		return PEM_STOP;
	}
	sep = end < s->avail ? pem_sep(s->p, end, s->avail, s->list, s->c) : 1;
	if (sep < 0 && !s->final)
		return BM_MORE;
	if (sep == 0)
		return pem_step_run_in(s, n, end, m);
	if (s->resume) {
		/* the first word after a step may be the rest of a line: not judged */
		s->resume = false;
		s->good = s->j = end;
		return PEM_NEXT;
	}
	pem_step_line(s, n, end);
	return PEM_NEXT;
}

/* Before the block's first word: a header line at s->j, else the word. */
static int pem_step_header(struct pem_scan *s, struct bm *m)
{
	size_t end;
	int r = pem_header(s->p, s->j, s->avail, s->final, s->list, s->c, &end, &s->flat);

	if (r == 0)
		return BM_MORE;
	if (r > 0) {
		s->j = s->good = end;
		return PEM_NEXT;
	}
	s->headers = false;
	return pem_step_word(s, m);
}

/* One step of pem_body() at s->j: a line's prefix, a separator, the END line, a header
 * or a word. PEM_NEXT to go on, PEM_STOP where the block stops, else its result. */
static int pem_step(struct pem_scan *s, struct bm *m)
{
	int sep;

	if (s->bol && s->c->prefix_len > 0 && !s->list)
		return pem_step_prefix(s);
	/* A list of lines is known by the separator before the block's first line. */
	sep = pem_sep(s->p, s->j, s->avail, s->list || s->good == s->first, s->c);
	if (sep != 0)
		return pem_step_sep(s, sep);
	if (s->p[s->j] == '-')
		return pem_end_at(s->p, s->j, s->avail, s->final)
			       ? match_pem_end(s->p, s->j, s->avail, s->final, m)
			       : PEM_STOP;
	if (s->headers)
		return pem_step_header(s, m);
	return pem_step_word(s, m);
}

/* Where the block stopped at s->j: past the limit and not at its end, all of it so far
 * and it goes on there; else it ends at its cut or after its last good word. */
static int pem_stop(const struct pem_scan *s, struct bm *m)
{
	if (s->j >= REDACT_BUILTIN_MAX && !(s->j == s->avail && s->final)) {
		*m = (struct bm){ .end = s->j, .cont = true, .pem = *s->c };
		m->pem.width = s->width;
		m->pem.list = s->list;
		m->pem.flat = s->flat;
		m->pem.bol = s->bol;
		return BM_MATCH;
	}
	if (s->j == s->avail && !s->final)
		return BM_MORE;
	*m = (struct bm){ 0, s->cut ? s->cut : s->good, false };
	return BM_MATCH;
}

/*
 * -----BEGIN ... PRIVATE KEY----- (or PRIVATE KEY BLOCK), header lines, then words of
 * base64 up to -----END ...-----, whatever their lengths. Cut short (no END line before
 * what cannot be in the block), it ends after its last line: the first word shorter than
 * the first one (or a PGP checksum, =XXXX, after it); the words after that are output
 * again. A word run into a character that is neither base64 nor a separator is taken in up
 * to it when pem_word_taken() says so. In a block whose lines carry a prefix (pem_prefix()),
 * a line's prefix is taken off at its start (pem_line_prefix()).
 */
static int pem_body(const uint8_t *p, size_t j, size_t avail, bool final, bool resume,
		    const struct pem_cont *c, struct bm *m)
{
	struct pem_scan s = {
		.p = p,
		.avail = avail,
		.final = final,
		.c = c,
		.j = j,
		.width = c->width,
		.good = j,
		.first = resume ? SIZE_MAX : j,
		.resume = resume,
		.headers = !resume,
		.list = c->list,
		.flat = c->flat,
		.bol = resume && c->bol,
	};
	int r;

	if (!resume) {
		r = pem_flattened(p, j, avail, final);
		if (r < 0)
			return BM_MORE;
		s.flat = r > 0;
	}
	while (s.j < avail && s.j < REDACT_BUILTIN_MAX) {
		if (s.flat)
			return pem_flat_rest(p, s.j, avail, final, s.list, m);
		r = pem_step(&s, m);
		if (r == PEM_STOP)
			break;
		if (r != PEM_NEXT)
			return r;
	}
	return pem_stop(&s, m);
}

static bool pem_private_label(const uint8_t *p, size_t label_end)
{
	static const char *const tails[] = { "PRIVATE KEY", "PRIVATE KEY BLOCK" };

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(tails[i]);

		if (label_end >= 11 + n && memcmp(p + label_end - n, tails[i], n) == 0)
			return true;
	}
	return false;
}

int builtin_pem_resume(const uint8_t *p, size_t avail, bool final, const struct pem_cont *from,
		       struct bm *m)
{
	return pem_body(p, 0, avail, final, true, from, m);
}

int builtin_match_pem(const uint8_t *p, size_t avail, bool final, size_t back, bool bos,
		      struct bm *m)
{
	struct pem_cont fresh = {};
	size_t j = 11, label_end;
	int r;

	if (builtin_lit(p, avail, "-----BEGIN ", false) != 1)
		return BM_NONE;
	while (j < avail && j < 11 + 64 && (builtin_cls[p[j]] & (C_UPPER | C_DIGIT) || p[j] == ' '))
		j++;
	label_end = j;
	r = j < avail ? builtin_lit(p + j, avail - j, "-----", false) : 0;
	if (r == 0)
		return final ? BM_NONE : BM_MORE;
	if (r < 0 || !pem_private_label(p, label_end))
		return BM_NONE;
	pem_prefix(p, back, bos, &fresh);
	return pem_body(p, j + 5, avail, final, false, &fresh, m);
}
