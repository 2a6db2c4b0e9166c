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
	size_t width = c->width, good = j, cut = 0, end, n, first = resume ? SIZE_MAX : j, e;
	bool headers = !resume, last = false, list = c->list, flat = c->flat,
	     bol = resume && c->bol;
	int sep;

	if (!resume) {
		sep = pem_flattened(p, j, avail, final);
		if (sep < 0)
			return BM_MORE;
		flat = sep > 0;
	}
	while (j < avail && j < REDACT_BUILTIN_MAX) {
		if (flat)
			return pem_flat_rest(p, j, avail, final, list, m);
		if (bol && c->prefix_len > 0 && !list) {
			bol = false;
			j = pem_line_prefix(p, j, avail, final, c);
			if (j == SIZE_MAX)
				return BM_MORE;
			continue;
		}
		/* A list of lines is known by the separator before the block's first line. */
		sep = pem_sep(p, j, avail, list || good == first, c);
		if (sep < 0 && !final)
			return BM_MORE;
		if (sep < 0)
			break;
		if (sep > 0) {
			list = list || builtin_quote(p, j, avail, &e) > 0;
			j += sep;
			bol = p[j - 1] == '\n';
			continue;
		}
		if (p[j] == '-') {
			if (pem_end_at(p, j, avail, final))
				return match_pem_end(p, j, avail, final, m);
			break;
		}
		if (headers) {
			sep = pem_header(p, j, avail, final, list, c, &end, &flat);
			if (sep == 0)
				return BM_MORE;
			if (sep > 0) {
				j = good = end;
				continue;
			}
			headers = false;
		}
		n = pem_word(p, j, avail, &end);
		if (end == avail && !final && end < REDACT_BUILTIN_MAX)
			return BM_MORE;
		if (end >= REDACT_BUILTIN_MAX) {
			j = good = end;
			break;
		}
		sep = end < avail ? pem_sep(p, end, avail, list, c) : 1;
		if (sep < 0 && !final)
			return BM_MORE;
		if (sep == 0 && p[end] == '-' && pem_end_at(p, end, avail, final))
			return match_pem_end(p, end, avail, final, m);
		if (sep == 0) {
			/* run into other text: before the last line, any word is the key's */
			if (!cut && n > 0 &&
			    (!last ||
			     pem_word_taken(n, width, builtin_quote(p, end, avail, &e) > 0)))
				good = end;
			break;
		}
		if (resume) {
			/* the first word after a step may be the rest of a line: not judged */
			resume = false;
			good = j = end;
			continue;
		}
		if (cut && n >= width)
			cut = 0; /* a whole line again: the short one was not the last */
		if (!cut && last && n < width && !(p[j] == '=' && n <= 5 && width > 5))
			cut = good; /* past its last line, unless an END line follows */
		good = end;
		if (width == 0)
			width = n;
		last = last || n < width || n > PEM_LINE_MAX;
		j = end;
	}
	if (j >= REDACT_BUILTIN_MAX && !(j == avail && final)) {
		/* Past the limit and not at its end: all of it so far, and it goes on here. */
		*m = (struct bm){ .end = j, .cont = true, .pem = *c };
		m->pem.width = width;
		m->pem.list = list;
		m->pem.flat = flat;
		m->pem.bol = bol;
		return BM_MATCH;
	}
	if (j == avail && !final)
		return BM_MORE;
	*m = (struct bm){ 0, cut ? cut : good, false };
	return BM_MATCH;
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
