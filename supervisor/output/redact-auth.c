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

/* How a value's opening quote is written: the quote, after n backslashes, itself or as
 * \u0022 / \u0027 (u). quote 0: the value is not quoted. */
struct auth_open {
	uint8_t quote;
	bool u;
	size_t n;
};

/*
 * Whether the quote written at p + k (a run of backslashes starts there, or the quote
 * itself with none before it) closes the value that o opened: only a quote written the
 * same way does, with every level of escaping inside it taken into account. Each level
 * doubles the backslashes before a quote and adds one (0, 1, 3, 7: a quote of the value's
 * own level leaves n modulo 2n + 2; a deeper one or a doubled backslash before it does
 * not). A \u escape's backslash is only doubled, and a quote escaped one level deeper
 * inside it has 2n + 1 (\\\u0022, as a literal backslash before the closing quote has):
 * taken for the deeper quote, the value then runs on (n modulo 4n).
 */
static bool auth_quote_closes(const uint8_t *p, size_t k, size_t avail, const struct auth_open *o)
{
	size_t e, run = builtin_backslashes(p, k, avail) - k;

	if (builtin_quote(p, k, avail, &e) != o->quote || (p[k + run] == 'u') != o->u)
		return false;
	if (o->u)
		return run % (4 * o->n) == o->n;
	return run % (2 * o->n + 2) == o->n;
}

/* Whether a run of n backslashes before 'n' or 'r' in a value that o opened is a line end:
 * any run in an unquoted value (its level is not known); in a quoted one, not a run of the
 * value's own literal backslashes (\\n in a "-quoted value, \\\\n in a \u0022-quoted one). */
static bool auth_escaped_eol(size_t n, const struct auth_open *o)
{
	size_t lit = o->u ? 4 * o->n : 2 * o->n + 2;

	return !o->quote || n % lit != 0;
}

/* The quote at p + k (backslashes then a quote) written as f is: its end, else 0. */
static size_t auth_same_quote(const uint8_t *p, size_t k, size_t avail, const struct auth_open *f)
{
	size_t e, run = builtin_backslashes(p, k, avail) - k;

	if (run != f->n || builtin_quote(p, k, avail, &e) != f->quote ||
	    (p[k + run] == 'u') != f->u)
		return 0;
	return e;
}

/* The end of the next quote written as f in p[k..cap), not past a line end: 0 when there
 * is none, SIZE_MAX when the bytes available (not the last) end first. */
static size_t auth_pair_end(const uint8_t *p, size_t k, size_t cap, size_t avail, bool final,
			    const struct auth_open *f)
{
	size_t e;

	for (; k < cap && p[k] != '\n' && p[k] != '\r'; k++) {
		if (p[k] != '\\' && p[k] != f->quote)
			continue;
		if (p[k - 1] == '\\')
			continue;
		e = auth_same_quote(p, k, avail, f);
		if (e)
			return e;
	}
	return k == avail && !final ? SIZE_MAX : 0;
}

/* Whether p + e, after a quote, may follow the close of a quoted value: a separator, a
 * blank, an escape or a quote of the string around it, the line's or the bytes' end. */
static bool auth_after_close(const uint8_t *p, size_t e, size_t avail)
{
	return e == avail || (p[e] && strchr(",;:)]} \t\r\n\\\"'", p[e]));
}

/*
 * The end of a header value at p[v..cap) that o opened: its line's end (also escaped, as
 * auth_escaped_eol() says) or a quote that closes the one it was opened with, outside
 * quoted parameters. A quote after '=' (username="…", token=\"…\"), or one that would
 * close the value but has more backslashes than its opening one (\\" in a Python repr of
 * JSON), opens a parameter when the same quote comes again on the line: nothing between
 * the two ends the value; one that does not, closes the value only before what may
 * follow a close (auth_after_close()): else the value runs on. A closing quote doubled
 * ('' in YAML) is the value's.
 * SIZE_MAX: the bytes available end inside a parameter.
 */
static size_t auth_value_end(const uint8_t *p, size_t v, size_t cap, size_t avail, bool final,
			     const struct auth_open *o)
{
	struct auth_open f;
	size_t k, e, run, pe;
	bool closes;
	int q;

	for (k = v; k < cap; k++) {
		if (p[k] == '\n' || p[k] == '\r')
			return k;
		if ((p[k] != '\\' && p[k] != '"' && p[k] != '\'') || (k > v && p[k - 1] == '\\'))
			continue;
		run = builtin_backslashes(p, k, avail) - k;
		if (k + run < avail && run && (p[k + run] == 'n' || p[k + run] == 'r') &&
		    auth_escaped_eol(run, o))
			return k;
		q = builtin_quote(p, k, avail, &e);
		if (q <= 0)
			continue;
		f = (struct auth_open){ .quote = (uint8_t)q, .u = p[k + run] == 'u', .n = run };
		closes = o->quote && auth_quote_closes(p, k, avail, o);
		if (closes && !final && builtin_quote(p, e, avail, &pe) < 0)
			return SIZE_MAX; /* what follows it is not known yet */
		if (closes && auth_same_quote(p, e, avail, &f)) {
			k = auth_same_quote(p, e, avail, &f) - 1;
			continue;
		}
		if ((k > v && p[k - 1] == '=' && !(closes && run == o->n)) ||
		    (closes && run != o->n)) {
			pe = auth_pair_end(p, e, cap, avail, final, &f);
			if (pe == SIZE_MAX)
				return SIZE_MAX;
			if (pe) {
				k = pe - 1;
				continue;
			}
		}
		if (closes && (run == o->n || auth_after_close(p, e, avail)))
			return k;
		k = e - 1;
	}
	return k;
}

/*
 * A one-token credential (token68: letters, digits, -._~+/ then =) at p[v..end): where it
 * ends when a quote followed by a blank or the value's end (a header in a quoted
 * argument), or ',' or ';' followed by a blank, comes after it; else end (the whole value:
 * an empty token, a parameter token="...", a token with a blank or anything else after it).
 */
static size_t token68_end(const uint8_t *p, size_t v, size_t end)
{
	size_t t = v, q;
	uint8_t next;

	while (t < end &&
	       (builtin_cls[p[t]] & (C_ALNUM | C_DASH | C_DOT | C_USCORE | C_PLUS_SLASH) ||
		p[t] == '~'))
		t++;
	while (t < end && p[t] == '=')
		t++;
	if (t == v || t == end)
		return end;
	/* A quote, also escaped or written \u0022 (a curl command line inside JSON). */
	if (builtin_quote(p, t, end, &q) > 0 && p[t - 1] != '=') {
		next = q < end ? p[q] : ' ';
		return next == ' ' || next == '\t' ? t : end;
	}
	next = t + 1 < end ? p[t + 1] : ' ';
	if (next != ' ' && next != '\t')
		return end;
	return p[t] == ',' || p[t] == ';' ? t : end;
}

/* An optional quote at p + j (builtin_quote()): how it is written (*o), and where it
 * ends; SIZE_MAX when the bytes available end inside what may be one. */
static size_t auth_quote(const uint8_t *p, size_t j, size_t avail, struct auth_open *o)
{
	size_t end, run;
	int q = builtin_quote(p, j, avail, &end);

	if (q < 0)
		return SIZE_MAX;
	if (q > 0) {
		run = builtin_backslashes(p, j, avail) - j;
		*o = (struct auth_open){ .quote = (uint8_t)q, .u = p[j + run] == 'u', .n = run };
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
	struct auth_open o = {};
	bool one;

	if (builtin_lit(p, avail, "authorization", true) != 1)
		return BM_NONE;
	j = auth_quote(p, 13, avail, &o);
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
	o = (struct auth_open){}; /* the key's own closing quote is not the value's */
	v = auth_quote(p, j, avail, &o);
	if (v == SIZE_MAX && !final)
		return BM_MORE;
	v = j = v == SIZE_MAX ? j : v;
	end = auth_value_end(p, v, avail - v > HEADER_VALUE_MAX ? v + HEADER_VALUE_MAX : avail,
			     avail, final, &o);
	if (end == SIZE_MAX || (end == avail && !final && end - v < HEADER_VALUE_MAX))
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
