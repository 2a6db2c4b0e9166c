/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The forms of a value the value matcher looks for in the normalised text (needles).
 * Encodings the normaliser decodes (%XX in any mix or case, JSON and C escapes, quoted
 * punctuation, the shell's quote splice) need no needle of their own: the decoded text
 * holds the value with its whitespace and controls removed. The others do:
 *  - the value as it appears raw (normalised like the text), and as decoded; ending in a
 *    backslash, also without it (the text after it may make that an escape);
 *  - a value holding a backslash: as the text of its JSON or C string literal normalises
 *    (its %XX decoded, its backslashes as they are), and of that literal in another one
 *    (each backslash doubled): json.dumps() of "ab%cd\x41..." reads "ab\xcd\\x41...";
 *  - reversed (by character when the value is UTF-8, else by byte), ROT13;
 *  - hex, compared ignoring case;
 *  - base64 and base64url at each of the three alignments a value can take inside a
 *    longer encoded text: only the characters whose six bits all come from the value are
 *    in the needle; the matcher then takes in the character after it that carries some of
 *    its last bits (NEEDLE_B64_POST).
 */
#include <string.h>

#include "redact-internal.h"

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool forms_is_b64(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '-' || c == '_';
}

size_t forms_size(size_t len)
{
	return 23 * len + 64;
}

/* The length of the UTF-8 sequence at p, or 0 when it is not well-formed. */
static size_t utf8_len(const uint8_t *p, size_t avail)
{
	size_t len = p[0] < 0x80		    ? 1
		     : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
		     : p[0] >= 0xe0 && p[0] <= 0xef ? 3
		     : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
						    : 0;

	if (len == 0 || len > avail)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Reversed by character when v is UTF-8, else by byte. */
static void reverse(const uint8_t *v, size_t n, uint8_t *out)
{
	size_t i = 0, len;

	while (i < n && (len = utf8_len(v + i, n - i)) > 0) {
		memcpy(out + n - i - len, v + i, len);
		i += len;
	}
	if (i == n)
		return;
	for (i = 0; i < n; i++)
		out[i] = v[n - 1 - i];
}

static void rot13(const uint8_t *v, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = v[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			uint8_t base = c >= 'a' ? 'a' : 'A';

			c = base + (c - base + 13) % 26;
		}
		out[i] = c;
	}
}

/* The value with what the normaliser removes from decoded bytes taken out. */
static size_t strip(const uint8_t *v, size_t n, uint8_t *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] > 0x20 && v[i] != 0x7f)
			out[m++] = v[i];
	return m;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The value with its %XX decoded and its backslashes written times times (1 or 2), as
 * the normaliser reads a string literal holding it: strip()ped, decoded bytes too. Twice
 * (a JSON string inside a JSON string) a double quote reads as \" as well. */
static size_t literal(const uint8_t *v, size_t n, size_t times, uint8_t *out)
{
	size_t m = 0;
	uint8_t c;

	for (size_t i = 0; i < n; i++) {
		c = v[i];
		if (c == '%' && i + 2 < n && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
			c = (uint8_t)(hexval(v[i + 1]) << 4 | hexval(v[i + 2]));
			i += 2;
		}
		if (c <= 0x20 || c == 0x7f)
			continue;
		if (times == 2 && (c == '\\' || c == '"'))
			out[m++] = '\\';
		out[m++] = c;
	}
	return m;
}

/* ASCII whitespace at a value's ends, which redactor_add_value() registers it without. */
static bool is_edge_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static size_t hex_lower(const uint8_t *v, size_t n, uint8_t *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[v[i] >> 4];
		out[2 * i + 1] = digits[v[i] & 15];
	}
	return 2 * n;
}

/* The six bits of character j of the base64 of (a zero bytes, v[0..n), zero bytes). */
static unsigned b64_sextet(const uint8_t *v, size_t n, size_t a, size_t j)
{
	size_t bit = 6 * j, t = bit / 8;
	unsigned hi = t >= a && t - a < n ? v[t - a] : 0;
	unsigned lo = t + 1 >= a && t + 1 - a < n ? v[t + 1 - a] : 0;

	return ((hi << 8 | lo) >> (10 - bit % 8)) & 63;
}

/* The characters carrying only bits of v when it starts at byte a (0..2) of a group. */
static size_t b64_inner(const uint8_t *v, size_t n, size_t a, const char *alphabet, uint8_t *out,
			uint8_t *flags)
{
	size_t lo = (8 * a + 5) / 6, hi = 8 * (a + n) / 6, m = 0;

	for (size_t j = lo; j < hi; j++)
		out[m++] = alphabet[b64_sextet(v, n, a, j)];
	*flags = 6 * hi < 8 * (a + n) ? NEEDLE_B64_POST : 0;
	return m;
}

/* Appends buf[0..len) as a needle unless it is too short or already there. */
static size_t add(struct needle *needles, size_t n, const uint8_t *buf, size_t len, uint32_t rule,
		  uint8_t flags)
{
	if (len < REDACT_NEEDLE_MIN)
		return n;
	for (size_t i = 0; i < n; i++)
		if (needles[i].len == len &&
		    (needles[i].flags & NEEDLE_FOLD) == (flags & NEEDLE_FOLD) &&
		    memcmp(needles[i].b, buf, len) == 0)
			return n;
	needles[n] = (struct needle){ .b = buf, .len = len, .rule = rule, .flags = flags };
	return n + 1;
}

/*
 * Appends the needle of v as its own text normalises, and when v ends in a backslash, of
 * v without it: in the text, the character after the value may join that backslash into
 * an escape ("secret\\" then "." reads "secret.").
 */
static size_t add_norm(struct needle *needles, size_t n, const uint8_t *v, size_t len,
		       uint32_t rule, uint8_t **p)
{
	size_t m = norm_value(v, len, *p);

	n = add(needles, n, *p, m, rule, 0);
	*p += m;
	if (len > 1 && v[len - 1] == '\\') {
		m = norm_value(v, len - 1, *p);
		n = add(needles, n, *p, m, rule, 0);
		*p += m;
	}
	return n;
}

size_t forms_build(const uint8_t *v, size_t len, uint32_t rule, uint8_t *buf,
		   struct needle *needles)
{
	uint8_t *tmp = buf + forms_size(len) - len, *p = buf;
	size_t n = 0, m, end = len;

	n = add_norm(needles, n, v, len, rule, &p);
	m = strip(v, len, p);
	n = add(needles, n, p, m, rule, 0);
	p += m;
	reverse(v, len, tmp);
	n = add_norm(needles, n, tmp, len, rule, &p);
	rot13(v, len, tmp);
	n = add_norm(needles, n, tmp, len, rule, &p);
	for (size_t t = 1; t <= 2 && (memchr(v, '\\', len) || memchr(v, '"', len)); t++) {
		m = literal(v, len, t, p);
		n = add(needles, n, p, m, rule, 0);
		p += m;
	}
	/* Encoded, the whitespace at a value's end would be characters of its own, matched
	 * across a line break into the next line's text (the normaliser drops the break):
	 * they are left out, and with nothing at its start either, so are these forms (its
	 * twin without the whitespace, redactor_add_value(), has them). */
	while (end > 0 && is_edge_space(v[end - 1]))
		end--;
	if (end < len && !is_edge_space(v[0])) {
		memset(tmp, 0, len);
		return n;
	}
	m = hex_lower(v, end, p);
	n = add(needles, n, p, m, rule, NEEDLE_FOLD);
	p += m;
	for (size_t a = 0; a < 3; a++)
		for (size_t k = 0; k < 2; k++) {
			uint8_t flags;

			m = b64_inner(v, end, a, k ? b64_url : b64_std, p, &flags);
			n = add(needles, n, p, m, rule, flags);
			p += m;
		}
	memset(tmp, 0, len);
	return n;
}
