/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What stands between the words of a private-key block (redact-pem.c) besides plain
 * whitespace and line-end escapes: the syntax of a block written as a list of its lines
 * (JSON, Python, YAML block and flow items, string literals joined with '+'), and the
 * prefix every line of a block carries (a diff's "+" or "-", git's colour codes around it,
 * a comment's "# ", "// " or "; ", a quote's "> ").
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "redact-builtin.h"
#include "redact-internal.h"
#include "redact-pem.h"

static bool pem_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool pem_b64(uint8_t c)
{
	return builtin_cls[c] & (C_ALNUM | C_PLUS_SLASH) || c == '=';
}

/* Whether an unquoted item of a YAML list of a block's lines (- MIIE..., [..., MIIE...])
 * starts at p + k: PEM_LINE_MIN characters of base64 (min), or any when min is 0. 1 it
 * does, 0 it does not, -1 when the bytes available end first. */
static int pem_plain_item(const uint8_t *p, size_t k, size_t avail, size_t min)
{
	size_t i = 0;

	for (; i < min || i == 0; i++) {
		if (k + i == avail)
			return -1;
		if (!pem_b64(p[k + i]))
			return 0;
	}
	return 1;
}

/*
 * Past up to 64 blanks and line ends at p + k, line ends written as escapes too (a list in
 * a JSON string, or in a repr); *newline: whether one was among them. SIZE_MAX when the
 * bytes available end inside what may be an escape.
 */
static size_t pem_skip_line_ends(const uint8_t *p, size_t k, size_t avail, bool *newline)
{
	size_t len;
	int e;

	for (size_t i = 0; k < avail && i < 64; i++) {
		if (pem_blank(p[k])) {
			*newline |= p[k++] == '\n';
			continue;
		}
		e = pem_escape(p, k, avail, &len);
		if (e == PEM_ESC_MORE)
			return SIZE_MAX;
		if (e != PEM_ESC_SEP && e != PEM_ESC_BLANK)
			break;
		*newline |= e == PEM_ESC_SEP;
		k += len;
	}
	return k;
}

/*
 * Past the '-' of a YAML item at p + k (after a line end) and the blanks after it (spaces
 * or tabs), and past empty items ("-" then a line end: a block's blank line): where the
 * item's text starts, 0 when there is no item there, SIZE_MAX when the bytes available end
 * first.
 */
static size_t pem_yaml_dash(const uint8_t *p, size_t k, size_t avail)
{
	bool newline;
	size_t dash;

	for (size_t i = 0; i < 8; i++) {
		if (k + 1 >= avail)
			return SIZE_MAX;
		if (p[k] != '-')
			return 0;
		dash = k;
		newline = false;
		k = pem_skip_line_ends(p, k + 1, avail, &newline);
		if (k == SIZE_MAX || k == avail)
			return SIZE_MAX;
		if (!newline)
			return k > dash + 1 ? k : 0; /* "-x" is no item */
	}
	return 0;
}

/*
 * The next item of a YAML list of a block's lines after an unquoted one at p + j: a line
 * end then "- " (block style), or ", " (flow style), blanks and line ends around them; its
 * length up to the item's text, its opening quote taken in. 0 when there is none, -1 when
 * its end is still to come.
 */
static int pem_yaml_item(const uint8_t *p, size_t j, size_t avail)
{
	bool newline = false, comma = p[j] == ',';
	size_t k = pem_skip_line_ends(p, j + comma, avail, &newline);
	int r;

	if (k == SIZE_MAX || k == avail)
		return -1;
	if (comma && k == j + 1)
		return 0; /* 4,ENCRYPTED; AES-128-CBC,0123...: a header's value */
	if (!comma) {
		if (!newline || p[k] != '-')
			return 0;
		k = pem_yaml_dash(p, k, avail);
		if (k == SIZE_MAX)
			return -1;
		if (k == 0)
			return 0;
	}
	if (p[k] == '\'' || p[k] == '"')
		return (int)(k + 1 - j);
	r = pem_plain_item(p, k, avail, 0);
	return r > 0 ? (int)(k - j) : r;
}

/*
 * The end of one string of a list of a block's lines and the start of the next at p + j,
 * the quote there (any form of builtin_quote(): a list in JSON inside JSON) closing it:
 * 'MIIE...', 'AQC7...' (Python), "...",\n  "..." (JSON), '...'\n        '...' (pprint),
 * '...'\n- '...' (YAML), \"...\", \"...\" (json.dumps twice), "...\n" +\n  "..." and
 * "...\n"\n  + "..." (a key in source code; adjacent literals in C and Python, and a
 * line ended with a backslash, are blanks and line ends). The next string opens with the
 * same quote, or in YAML (after "- " or ",") may be unquoted base64 (PyYAML quotes only the
 * BEGIN and END lines). Its length, 0 when it is none, -1 when its end is still to come.
 */
static int pem_list_separator(const uint8_t *p, size_t j, size_t avail)
{
	size_t k, q, qlen;
	bool newline = false, comma = false, yaml = false, plus = false;
	int c = builtin_quote(p, j, avail, &k), e;

	if (c <= 0)
		return c;
	qlen = k - j;
	if (k < avail && p[k] == ',') {
		k++;
		comma = true;
	}
	k = pem_skip_line_ends(p, k, avail, &newline);
	if (k < avail && !comma && p[k] == '+') { /* "...\n" + "..." (Java, JS, Go, C#) */
		plus = true;
		k = pem_skip_line_ends(p, k + 1, avail, &newline);
	}
	if (k == SIZE_MAX)
		return -1;
	if (!plus && newline && k < avail && p[k] == '-') { /* a YAML item */
		k = pem_yaml_dash(p, k, avail);
		if (k == SIZE_MAX)
			return -1;
		if (k == 0)
			return 0;
		yaml = true;
	}
	if (qlen == 1 && (yaml || comma) && k < avail && p[k] != p[j]) {
		e = pem_plain_item(p, k, avail, PEM_LINE_MIN);
		return e > 0 ? (int)(k - j) : e;
	}
	for (q = 0; q < qlen && k + q < avail; q++)
		if (p[k + q] != p[j + q])
			return 0;
	if (q < qlen)
		return -1;
	return k > j + qlen ? (int)(k + qlen - j) : 0;
}

/* Whether p[j] starts a separator inside a private-key block: whitespace, a line-end
 * escape (pem_escape()), or in a block written as a list of its lines (list),
 * pem_list_separator(); its length, 0 when it is none, -1 when its end is still to come. */
static int pem_separator(const uint8_t *p, size_t j, size_t avail, bool list)
{
	size_t len;
	int e;

	if (list && (pem_blank(p[j]) || p[j] == ',' || p[j] == '\\')) {
		e = pem_yaml_item(p, j, avail);
		if (e != 0)
			return e;
	}
	if (pem_blank(p[j]))
		return 1;
	if (list && (p[j] == '"' || p[j] == '\'' || p[j] == '\\')) {
		e = pem_list_separator(p, j, avail);
		if (e != 0)
			return e;
	}
	if (p[j] == '"' || p[j] == '\'')
		return 0;
	e = pem_escape(p, j, avail, &len);
	return e == PEM_ESC_MORE ? -1 : e == PEM_ESC_SEP || e == PEM_ESC_BLANK ? (int)len : 0;
}

/*
 * A colour escape at p + j (SGR: ESC [ digits and ';' m), its ESC raw or as the
 * neutraliser writes it (\x1b): its length, 0 when there is none, -1 when the bytes
 * available end first.
 */
static int pem_colour(const uint8_t *p, size_t j, size_t avail)
{
	size_t k = j + 1;
	int r;

	if (p[j] == '\\') {
		/* builtin_lit(): -1 no "\x1b" here, 0 the bytes available end inside it */
		r = builtin_lit(p + j, avail - j, "\\x1b", true);
		if (r <= 0)
			return r < 0 ? 0 : -1;
		k = j + 4;
	} else if (p[j] != 0x1b) {
		return 0;
	}
	if (k < avail && p[k] != '[')
		return 0;
	for (k++; k < avail && k < j + 24; k++) {
		if (p[k] == 'm')
			return (int)(k + 1 - j);
		if (!(builtin_cls[p[k]] & C_DIGIT) && p[k] != ';')
			return 0;
	}
	return k < avail ? 0 : -1;
}

/* pem_separator(), and in a block whose lines carry a prefix, a colour escape before a
 * line's end (git diff --color: ESC[32m+MHcC...ESC[m). */
int pem_sep(const uint8_t *p, size_t j, size_t avail, bool list, const struct pem_cont *c)
{
	int e;

	if (c->prefix_len > 0 && (p[j] == 0x1b || p[j] == '\\')) {
		e = pem_colour(p, j, avail);
		if (e < 0 || (e > 0 && j + (size_t)e == avail))
			return -1;
		if (e > 0 && (p[j + e] == '\n' || p[j + e] == '\r'))
			return e;
	}
	return pem_separator(p, j, avail, list);
}

/*
 * The prefix of each line of a block, from the text before "-----BEGIN" on its line at
 * p[-back..0) (bos: the stream starts at p - back): up to PEM_PREFIX_MAX bytes, at most 8
 * of them (colour escapes left out) of "+-#/;>", blanks and tabs, one not a blank: a diff's
 * "+" or "-", a comment's "# ", "// " or "; ", a quote's "> ". None otherwise.
 */
void pem_prefix(const uint8_t *p, size_t back, bool bos, struct pem_cont *c)
{
	const uint8_t *q;
	size_t k = 0, n = 0;
	bool mark = false;
	int e;

	while (k < back && p[-1 - (ptrdiff_t)k] != '\n')
		k++;
	if ((k == back && !bos) || k == 0 || k > PEM_PREFIX_MAX)
		return;
	q = p - k;
	for (size_t i = 0; i < k; i++) {
		e = pem_colour(q, i, k);
		if (e > 0) {
			i += (size_t)e - 1;
			continue;
		}
		if (q[i] == 0 || !strchr("+-#/;> \t", q[i]) || ++n > 8)
			return;
		mark = mark || (q[i] != ' ' && q[i] != '\t');
	}
	if (!mark)
		return;
	memcpy(c->prefix, q, k);
	c->prefix_len = (uint8_t)k;
}

/* The end of a line at p + j made of nothing but characters and colour escapes a prefix
 * may hold; j when it holds anything else, SIZE_MAX when the bytes available end first. */
static size_t pem_prefix_line(const uint8_t *p, size_t j, size_t avail, bool final)
{
	size_t k = j;
	int e;

	while (k < j + 4 * PEM_PREFIX_MAX) {
		if (k == avail)
			return final ? j : SIZE_MAX;
		if (p[k] == '\n' || p[k] == '\r')
			return k;
		e = pem_colour(p, k, avail);
		if (e < 0)
			return final ? j : SIZE_MAX;
		if (e == 0 && (p[k] == 0 || !strchr("+-#/;> \t", p[k])))
			break;
		k += e > 0 ? (size_t)e : 1;
	}
	return j;
}

/*
 * At a line's start at p + j in a block whose lines carry a prefix: past the prefix; past
 * a blank line of the block that starts with some of it ("#" for "# ", git's coloured
 * "+" with no colour after it); j when the line does not start with it or is an END line.
 * SIZE_MAX when the bytes available end first.
 */
size_t pem_line_prefix(const uint8_t *p, size_t j, size_t avail, bool final,
		       const struct pem_cont *c)
{
	size_t n = c->prefix_len, i = 0;
	int r = builtin_lit(p + j, avail - j, "-----END", false);

	if (r == 1 || (r == 0 && final))
		return j;
	if (r == 0)
		return SIZE_MAX;
	for (; i < n && j + i < avail && p[j + i] == c->prefix[i]; i++)
		;
	if (i == n)
		return j + n;
	if (j + i == avail && !final)
		return SIZE_MAX;
	return i > 0 ? pem_prefix_line(p, j, avail, final) : j;
}
