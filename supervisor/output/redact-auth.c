/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Authorization header matcher of the built-in patterns (redact-builtin.c): the value
 * after "authorization" (any case) and ':' or '=', to its line's end or closing quote, its
 * scheme word left visible. It sees the raw bytes and returns BM_NONE, BM_MORE or BM_MATCH
 * as the other matchers do.
 */
#include <stdint.h>
#include <string.h>

#include "redact-builtin.h"
#include "redact-internal.h"

#define HEADER_VALUE_MAX 8192

/* The scheme word at p (with its space), 0 when none; *one: its credential is one token
 * (RFC 7235's token68: Bearer, Basic, Token, Bot). */
static size_t auth_scheme(const uint8_t *p, size_t len, bool *one)
{
	static const struct {
		const char *word;
		bool one;
	} schemes[] = {
		{ "bearer ", true },  { "basic ", true },
		{ "token ", true },   { "bot ", true },
		{ "digest ", false }, { "negotiate ", false },
		{ "ntlm ", false },   { "aws4-hmac-sha256 ", false },
	};

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (builtin_lit(p, len, schemes[i].word, true) == 1) {
			*one = schemes[i].one;
			return strlen(schemes[i].word);
		}
	*one = false;
	return 0;
}

/* Whether p[k] ends a header value: its line's end, or the quote it was opened with
 * (in any of the forms builtin_quote() knows: a header in JSON inside JSON, or written by
 * System.Text.Json). */
static bool auth_value_end(const uint8_t *p, size_t k, size_t avail, uint8_t quote)
{
	size_t e;

	if (p[k] == '\n' || p[k] == '\r')
		return true;
	if (p[k] == '\\' && k + 1 < avail && (p[k + 1] == 'n' || p[k + 1] == 'r'))
		return true;
	if (quote && p[k] == '\\')
		return builtin_quote(p, k, avail, &e) == quote;
	return quote && p[k] == quote;
}

/*
 * A one-token credential (token68: letters, digits, -._~+/ then =) at p[v..end): where it
 * ends when a quote followed by a blank or the value's end (a header in a quoted
 * argument), or ',' or ';' followed by a blank, comes after it; else end (the whole value:
 * an empty token, a parameter token="...", a token with a blank or anything else after it).
 */
static size_t token68_end(const uint8_t *p, size_t v, size_t end)
{
	size_t t = v;
	uint8_t next;

	while (t < end &&
	       (builtin_cls[p[t]] & (C_ALNUM | C_DASH | C_DOT | C_USCORE | C_PLUS_SLASH) ||
		p[t] == '~'))
		t++;
	while (t < end && p[t] == '=')
		t++;
	if (t == v || t == end)
		return end;
	next = t + 1 < end ? p[t + 1] : ' ';
	if (next != ' ' && next != '\t')
		return end;
	if ((p[t] == '"' || p[t] == '\'') && p[t - 1] != '=')
		return t;
	return p[t] == ',' || p[t] == ';' ? t : end;
}

/* An optional quote at p + j (builtin_quote()): *quote, and where it ends; SIZE_MAX when
 * the bytes available end inside what may be one. */
static size_t auth_quote(const uint8_t *p, size_t j, size_t avail, uint8_t *quote)
{
	size_t end;
	int q = builtin_quote(p, j, avail, &end);

	if (q < 0)
		return SIZE_MAX;
	if (q > 0) {
		*quote = (uint8_t)q;
		return end;
	}
	return j;
}

/*
 * authorization (any case), an optional closing quote, ':' or '=', then a value to the end
 * of the line or its closing quote (quotes escaped too: builtin_quote()); an auth scheme
 * word before it stays, and after a scheme whose credential is one token (Bearer, Basic,
 * Token, Bot) the value may end with that token (token68_end()).
 */
int builtin_match_authorization(const uint8_t *p, size_t avail, bool final, struct bm *m)
{
	size_t j, v, end;
	uint8_t quote = 0;
	bool one;

	if (builtin_lit(p, avail, "authorization", true) != 1)
		return BM_NONE;
	j = auth_quote(p, 13, avail, &quote);
	if (j == SIZE_MAX) /* the separator may still come */
		return final ? BM_NONE : BM_MORE;
	j = builtin_skip_blanks(p, j, avail);
	if (builtin_backslashes(p, j, avail) == avail)
		return final ? BM_NONE : BM_MORE;
	if (p[j] != ':' && p[j] != '=')
		return BM_NONE;
	j = builtin_skip_blanks(p, j + 1, avail);
	if (builtin_backslashes(p, j, avail) == avail && j < avail && !final)
		return BM_MORE;
	quote = 0; /* the key's own closing quote is not the value's */
	v = auth_quote(p, j, avail, &quote);
	if (v == SIZE_MAX && !final)
		return BM_MORE;
	j = v == SIZE_MAX ? j : v;
	for (v = end = j; end < avail && end - v < HEADER_VALUE_MAX; end++)
		if (auth_value_end(p, end, avail, quote))
			break;
	if (end == avail && !final && end - v < HEADER_VALUE_MAX)
		return BM_MORE;
	v += auth_scheme(p + v, end - v, &one);
	if (one) {
		v = builtin_skip_blanks(p, v, end);
		end = token68_end(p, v, end);
	}
	if (end <= v)
		return BM_NONE;
	*m = (struct bm){ v, end, false };
	return BM_MATCH;
}
