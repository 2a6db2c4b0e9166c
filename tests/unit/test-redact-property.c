/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The redactor's property: random text with random secrets embedded in every form, fed
 * at once and in random chunk sizes, comes out with each form replaced by its label and
 * everything else unchanged. The forms and the expected output are built here, apart
 * from the redactor's own code (supervisor/output/redact-forms.c).
 */
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "simd-levels.h"
#include "test.h"

#define ROUNDS 300

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t below(size_t n)
{
	return rnd() % n;
}

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_s(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

struct gen {
	struct buf text, want;
};

static void both(struct gen *g, const char *s)
{
	put_s(&g->text, s);
	put_s(&g->want, s);
}

static void label(struct gen *g, int k)
{
	char l[32];

	snprintf(l, sizeof(l), "[REDACTED:k%d]", k);
	put_s(&g->want, l);
}

/* Ordinary text: lowercase words and separators that cannot join a secret's form. */
static void filler(struct gen *g)
{
	static const char *const seps[] = { " ", "\n", ", ", ". ", "; ", "\t", " (", ") " };
	size_t words = 1 + below(12);

	for (size_t w = 0; w < words; w++) {
		char word[12];
		size_t len = 1 + below(10);

		for (size_t i = 0; i < len; i++)
			word[i] = 'a' + below(26);
		word[len] = '\0';
		both(g, word);
		both(g, seps[below(sizeof(seps) / sizeof(seps[0]))]);
	}
}

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t base64(const uint8_t *in, size_t n, const char *alphabet, bool pad, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		size_t chars = n - i >= 3 ? 4 : n - i + 1;

		for (size_t k = 0; k < 4; k++)
			if (k < chars)
				out[o++] = alphabet[(v >> (18 - 6 * k)) & 63];
			else if (pad)
				out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* The value inside a longer base64 text: p bytes before it, q after. Every character with
 * a bit of the value is redacted but the first when it mixes them with the byte before
 * (padding has none). */
static void form_base64(struct gen *g, const char *s, size_t n, int k)
{
	uint8_t raw[128];
	char blob[200];
	size_t p = below(5), q = below(5), len, lo, hi;
	bool url = below(2), pad = below(2);

	for (size_t i = 0; i < p; i++)
		raw[i] = rnd();
	memcpy(raw + p, s, n);
	for (size_t i = 0; i < q; i++)
		raw[p + n + i] = rnd();
	len = base64(raw, p + n + q, url ? b64_url : b64_std, pad, blob);
	lo = (8 * p + 5) / 6;
	hi = (8 * (p + n) + 5) / 6;
	put(&g->text, blob, len);
	put(&g->want, blob, lo);
	label(g, k);
	put(&g->want, blob + hi, len - hi);
}

/* Between some characters: whitespace, invisible characters or terminal escapes. */
static void form_interleaved(struct gen *g, const char *s, size_t n)
{
	static const char *const gaps[] = {
		" ",
		"\n",
		"\t",
		"\r\n",
		"  ",
		"\xe2\x80\x8b",
		"\xe2\x80\x8c",
		"\xe2\x80\x8d",
		"\xe2\x81\xa0",
		"\xef\xbb\xbf",
		"\x1b[31m",
		"\x1b[0m",
		"\x1b[1;32m",
		"\x1b\x37", /* ESC 7 */
		"\x1b(B",
		"\x1b]8;;\x1b\\",
		"\n\x1b[2K",
	};

	for (size_t i = 0; i < n; i++) {
		put(&g->text, s + i, 1);
		if (i + 1 < n && below(2))
			put_s(&g->text, gaps[below(sizeof(gaps) / sizeof(gaps[0]))]);
	}
}

static void form_text(struct gen *g, const char *s, size_t n, int form)
{
	static const char hex_lower[] = "0123456789abcdef", hex_upper[] = "0123456789ABCDEF";
	char tmp[512];
	size_t o = 0;

	switch (form) {
	case 0: /* raw */
		put(&g->text, s, n);
		return;
	case 1: /* reversed */
		for (size_t i = 0; i < n; i++)
			tmp[i] = s[n - 1 - i];
		put(&g->text, tmp, n);
		return;
	case 2: /* ROT13 */
		for (size_t i = 0; i < n; i++) {
			char c = s[i];

			tmp[i] = c >= 'a' && c <= 'z'	? 'a' + (c - 'a' + 13) % 26
				 : c >= 'A' && c <= 'Z' ? 'A' + (c - 'A' + 13) % 26
							: c;
		}
		put(&g->text, tmp, n);
		return;
	case 3: /* hex, lower, upper or mixed */
	case 4:
	case 5:
		for (size_t i = 0; i < n; i++)
			for (int h = 1; h >= 0; h--) {
				const char *d = form == 3   ? hex_lower
						: form == 4 ? hex_upper
						: below(2)  ? hex_lower
							    : hex_upper;

				tmp[o++] = d[((uint8_t)s[i] >> (4 * h)) & 15];
			}
		put(&g->text, tmp, o);
		return;
	case 6: /* percent-encoded, every byte */
	case 7: /* URL-encoded: unreserved characters stay */
		for (size_t i = 0; i < n; i++) {
			char c = s[i];

			if (form == 7 && (strchr("-._~", c) || (c >= '0' && c <= '9') ||
					  ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')))
				tmp[o++] = c;
			else
				o += sprintf(tmp + o, below(2) ? "%%%02X" : "%%%02x", (uint8_t)c);
		}
		put(&g->text, tmp, o);
		return;
	case 8: /* JSON, every character \u00XX */
		for (size_t i = 0; i < n; i++)
			o += sprintf(tmp + o, below(2) ? "\\u%04X" : "\\u%04x", (uint8_t)s[i]);
		put(&g->text, tmp, o);
		return;
	case 9: /* JSON as an encoder writes it: '/' may be escaped */
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '/' && below(2))
				tmp[o++] = '\\';
			tmp[o++] = s[i];
		}
		put(&g->text, tmp, o);
		return;
	case 10: /* split across lines */
		o = 1 + below(n - 1);
		put(&g->text, s, o);
		put_s(&g->text, below(2) ? "\n" : "\r\n");
		put(&g->text, s + o, n - o);
		return;
	case 11: /* hex dump style: pairs separated by spaces */
		for (size_t i = 0; i < n; i++)
			o += sprintf(tmp + o, i + 1 < n ? "%02x " : "%02x", (uint8_t)s[i]);
		put(&g->text, tmp, o);
		return;
	case 12: /* a shell's or Python's quoting: a backslash before punctuation */
		for (size_t i = 0; i < n; i++) {
			if (strchr("'$&(!*~=:@+/-_", s[i]) && below(2))
				tmp[o++] = '\\';
			tmp[o++] = s[i];
		}
		put(&g->text, tmp, o);
		return;
	case 13: /* single-quoted by a shell (set -x): a quote is '\'' (form() adds the
		  * outer quotes) */
		for (size_t i = 0; i < n; i++) {
			if (s[i] != '\'') {
				tmp[o++] = s[i];
				continue;
			}
			memcpy(tmp + o, "'\\''", 4);
			o += 4;
		}
		put(&g->text, tmp, o);
		return;
	default:
		form_interleaved(g, s, n);
		return;
	}
}

#define N_FORMS 16 /* form_text's 0..14 and base64 */

static void form(struct gen *g, const char *s, int k)
{
	int f = below(N_FORMS);

	if (f == N_FORMS - 1) {
		form_base64(g, s, strlen(s), k);
		return;
	}
	if (f == 13)
		both(g, "'");
	form_text(g, s, strlen(s), f);
	label(g, k);
	if (f == 13)
		both(g, "'");
}

/* Random secrets: not containing what the filler is made of alone, nor starting or
 * ending with a quote (its form 13 would keep a splice's backslash outside the label). */
static void secret_make(char *s)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789-_+/=:@!*~'$&(";
	size_t len = 8 + below(41);

	do {
		for (size_t i = 0; i < len; i++)
			s[i] = chars[below(sizeof(chars) - 1)];
		s[len] = '\0';
	} while (strspn(s, "abcdefghijklmnopqrstuvwxyz") == len || s[0] == '\'' ||
		 s[len - 1] == '\'');
}

/* Redacts text in random chunks of 1..max bytes (0: at once). */
static char *redact(const struct redactor *r, const struct buf *text, size_t max, size_t *ret_len)
{
	struct redact_stream *s;
	struct buf out = {};
	const uint8_t *p;
	size_t n;

	if (redact_stream_new(r, &s) < 0)
		abort();
	put(&out, "", 0);
	for (size_t i = 0; i < text->len;) {
		size_t k = max ? 1 + below(max) : text->len;

		if (k > text->len - i)
			k = text->len - i;
		if (redact_stream_feed(s, text->p + i, k, &p, &n) < 0)
			abort();
		put(&out, p, n);
		i += k;
	}
	if (redact_stream_finish(s, &p, &n) < 0)
		abort();
	put(&out, p, n);
	redact_stream_free(s);
	*ret_len = out.len;
	return out.p;
}

static bool same(const char *got, size_t len, const struct buf *want)
{
	return len == want->len && memcmp(got, want->p, len) == 0;
}

static void dump(const char *what, const char *s, size_t len)
{
	printf("#   %s: \"", what);
	for (size_t i = 0; i < len; i++)
		printf((uint8_t)s[i] >= 0x20 && (uint8_t)s[i] < 0x7f ? "%c" : "\\x%02x",
		       (uint8_t)s[i]);
	printf("\"\n");
}

TEST(every_form_redacted_and_nothing_else_changed)
{
	for (int round = 0; round < ROUNDS; round++) {
		char secrets[4][64], name[32];
		size_t n_secrets = 1 + below(4);
		struct gen g = {};
		struct redactor *r;

		ASSERT_OK(redactor_new(false, &r));
		for (size_t k = 0; k < n_secrets; k++) {
			secret_make(secrets[k]);
			snprintf(name, sizeof(name), "k%zu", k);
			ASSERT_OK(redactor_add_value(r, name, secrets[k], strlen(secrets[k])));
		}
		ASSERT_OK(redactor_compile(r));

		filler(&g);
		for (size_t pieces = 1 + below(10); pieces > 0; pieces--) {
			size_t k = below(n_secrets);

			form(&g, secrets[k], k);
			both(&g, below(2) ? " " : "\n");
			filler(&g);
		}

		for (int mode = 0; mode < 3; mode++) {
			static const size_t max[] = { 0, 16, 1500 };
			size_t len;
			char *out = redact(r, &g.text, max[mode], &len);
			bool ok = same(out, len, &g.want);

			if (!ok) {
				printf("#   round %d, chunks of up to %zu bytes\n", round,
				       max[mode]);
				for (size_t k = 0; k < n_secrets; k++)
					dump("secret", secrets[k], strlen(secrets[k]));
				dump("text", g.text.p, g.text.len);
				dump("want", g.want.p, g.want.len);
				dump("got", out, len);
			}
			free(out);
			ASSERT_TRUE(ok);
		}
		free(g.text.p);
		free(g.want.p);
		redactor_free(r);
	}
}

TEST_MAIN_SIMD();
