/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The neutraliser: what passes, what is rendered visible, and UTF-8 split across feeds. */
#include <stdlib.h>
#include <string.h>

#include "neutralise.h"
#include "simd-levels.h"
#include "test.h"

/* Neutralises in (len bytes) fed in chunks of chunk bytes (0: at once) into a string. */
static char *run(const char *in, size_t len, size_t chunk, uint64_t *escaped)
{
	struct neutralise nz;
	char *out = malloc(NEUTRALISE_MAX_OUT(len) + NEUTRALISE_MAX_OUT(0) + 1);
	size_t o = 0;

	if (!out)
		abort();
	neutralise_init(&nz);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len; i += chunk) {
		size_t k = len - i < chunk ? len - i : chunk;

		o += neutralise_feed(&nz, in + i, k, out + o);
	}
	o += neutralise_finish(&nz, out + o);
	out[o] = '\0';
	if (escaped)
		*escaped = nz.escaped;
	return out;
}

/* Checks in -> want at once and byte by byte. */
#define CHECK(in, want)                                                         \
	do {                                                                    \
		for (size_t c_ = 0; c_ < 2; c_++) {                             \
			char *o_ = run(in, sizeof(in) - 1, c_, NULL);           \
			bool ok_ = strcmp(o_, want) == 0;                       \
			if (!ok_)                                               \
				printf("#   got \"%s\" (chunk %zu)\n", o_, c_); \
			free(o_);                                               \
			ASSERT_TRUE(ok_);                                       \
		}                                                               \
	} while (0)

TEST(plain_text_passes)
{
	CHECK("hello, world\n\ttab\r\n", "hello, world\n\ttab\r\n");
	CHECK("caf\xc3\xa9 \xe2\x80\x98quoted\xe2\x80\x99 \xf0\x9f\x98\x80 \xc2\xa0nbsp",
	      "caf\xc3\xa9 \xe2\x80\x98quoted\xe2\x80\x99 \xf0\x9f\x98\x80 \xc2\xa0nbsp");
	CHECK("", "");
}

TEST(c0_controls_and_del_are_visible)
{
	CHECK("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07");
	CHECK("a\x00"
	      "b\x08\x7f\x01\x1f",
	      "a\\x00b\\x08\\x7f\\x01\\x1f");
	CHECK("hidden \x1b[8msecret\x1b[0m", "hidden \\x1b[8msecret\\x1b[0m");
}

TEST(c1_controls_are_visible)
{
	/* U+009B (CSI) and U+0085 (NEL) as UTF-8, and the raw 8-bit CSI byte. */
	CHECK("\xc2\x9b"
	      "2J \xc2\x85 \x9b"
	      "31m",
	      "\\u009b2J \\u0085 \\x9b31m");
	CHECK("\xc2\x80\xc2\x9f", "\\u0080\\u009f");
}

TEST(bidi_overrides_are_visible)
{
	CHECK("a\xe2\x80\xae"
	      "b\xe2\x81\xa6"
	      "c\xe2\x80\x8f",
	      "a\\u202eb\\u2066c\xe2\x80\x8f");
}

TEST(invalid_utf8_is_visible)
{
	CHECK("\x80 \xc0\xaf \xed\xa0\x80 \xf5\x80\x80\x80 \xff",
	      "\\x80 \\xc0\\xaf \\xed\\xa0\\x80 \\xf5\\x80\\x80\\x80 \\xff");
	/* A truncated sequence followed by ASCII, and one at the very end. */
	CHECK("\xe2\x80"
	      "x \xf0\x9f\x98",
	      "\\xe2\\x80x \\xf0\\x9f\\x98");
}

TEST(long_runs_with_one_control_anywhere)
{
	/* The 16-byte fast path and its edges: a control (or a high byte) at every offset. */
	for (size_t at = 0; at < 48; at++) {
		char in[49], want[64];
		char *o;

		memset(in, 'a', 48);
		in[48] = '\0';
		in[at] = at % 3 == 0 ? 0x1b : at % 3 == 1 ? '\n' : (char)0xff;
		memcpy(want, in, at);
		strcpy(want + at, at % 3 == 0 ? "\\x1b" : at % 3 == 1 ? "\n" : "\\xff");
		strcat(want, in + at + 1);
		o = run(in, 48, 0, NULL);
		ASSERT_STREQ(o, want);
		free(o);
	}
}

TEST(counts_escapes)
{
	uint64_t n;
	char *o = run("\x1b\x1b ok \xc2\x9b \xff", 10, 1, &n);

	free(o);
	ASSERT_EQ(n, 4);
}

TEST(split_sequences_at_every_point)
{
	static const char in[] = "x\xf0\x9f\x98\x80y\xc2\x9bz\xe2\x80\xaeq";
	char *whole = run(in, sizeof(in) - 1, 0, NULL);

	for (size_t cut = 0; cut <= sizeof(in) - 1; cut++) {
		struct neutralise nz;
		char out[256];
		size_t o;

		neutralise_init(&nz);
		o = neutralise_feed(&nz, in, cut, out);
		o += neutralise_feed(&nz, in + cut, sizeof(in) - 1 - cut, out + o);
		o += neutralise_finish(&nz, out + o);
		out[o] = '\0';
		ASSERT_STREQ(out, whole);
	}
	free(whole);
}

/* Well-formed UTF-8 with no control but tab, newline, carriage return, no C1 control and no
 * bidi override (decoded independently of the neutraliser). */
static bool is_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		int len = *p < 0x80		? 1
			  : (*p & 0xe0) == 0xc0 ? 2
			  : (*p & 0xf0) == 0xe0 ? 3
			  : (*p & 0xf8) == 0xf0 ? 4
						: 0;

		if (len == 0)
			return false;
		cp = len == 1 ? *p : *p & (0x7f >> len);
		for (int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f ||
		    (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
	}
	return true;
}

TEST(random_bytes_stay_within_bound_and_are_safe)
{
	srand(1);
	for (int round = 0; round < 200; round++) {
		char in[512];
		size_t len = rand() % sizeof(in);
		char *o;

		for (size_t i = 0; i < len; i++)
			in[i] = rand();
		o = run(in, len, rand() % 7, NULL);
		ASSERT_TRUE(strlen(o) <= NEUTRALISE_MAX_OUT(len));
		ASSERT_TRUE(is_safe(o));
		free(o);
	}
}

/* in with every byte at the offsets in at[] (n of them) replaced by c, as expected: those
 * bytes as "\xHH", the rest ('a' to 'z' in turn) as they are. */
static void check_at(bool *test_failed_, size_t len, const size_t *at, size_t n, uint8_t c)
{
	char *in = malloc(len + 1), *want = malloc(4 * len + 1), *o;
	size_t w = 0;

	if (!in || !want)
		abort();
	for (size_t i = 0; i < len; i++)
		in[i] = (char)('a' + i % 26);
	for (size_t k = 0; k < n; k++)
		in[at[k]] = (char)c;
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)in[i] == c)
			w += (size_t)sprintf(want + w, "\\x%02x", c);
		else
			want[w++] = in[i];
	want[w] = '\0';
	for (size_t chunk = 0; chunk <= 64; chunk += 61) {
		bool ok;

		o = run(in, len, chunk, NULL);
		ok = strcmp(o, want) == 0;
		if (!ok)
			printf("#   at %zu (of %zu), chunk %zu: got \"%s\"\n", at[0], n, chunk, o);
		free(o);
		if (!ok) {
			*test_failed_ = true;
			break;
		}
	}
	free(in);
	free(want);
}

TEST(escapes_at_every_offset_of_a_block)
{
	/* One, two (at every distance), and a block full, in runs across three 64-byte blocks
	 * and their ends: the vector levels render them in the block, not one run at a time. */
	for (size_t i = 0; i < 192; i++) {
		check_at(test_failed_, 200, &i, 1, 0x1b);
		check_at(test_failed_, i + 1, &i, 1, 0x7f);
		for (size_t d = 1; d < 40 && i + d < 192; d += 3) {
			size_t two[2] = { i, i + d };

			check_at(test_failed_, 200, two, 2, 0x01);
		}
		if (*test_failed_)
			return;
	}
	for (size_t first = 0; first < 64; first += 7) {
		size_t many[40];

		for (size_t k = 0; k < 40; k++)
			many[k] = first + 3 * k;
		check_at(test_failed_, 256, many, 40, 0x1b);
		check_at(test_failed_, first + 118, many, 40, 0x00);
	}
}

TEST(utf8_across_block_ends_and_feeds)
{
	/* A C1 control, a bidi override and a 4-byte character as UTF-8 starting at each
	 * offset around the first two block ends, whole and cut at every byte. */
	static const char *const seq[] = { "\xc2\x9b", "\xe2\x80\xae", "\xf0\x9f\x98\x80",
					   "\xe2\x80\x98" };
	static const char *const want[] = { "\\u009b", "\\u202e", "\xf0\x9f\x98\x80",
					    "\xe2\x80\x98" };

	for (size_t s = 0; s < 4; s++)
		for (size_t at = 56; at < 136; at = at == 72 ? 120 : at + 1) {
			char in[200], exp[220];
			size_t n = strlen(seq[s]), len = at + n + 20;
			char *o;

			memset(in, 'x', sizeof(in));
			memcpy(in + at, seq[s], n);
			in[at + n + 3] = 0x1b;
			memset(exp, 'x', sizeof(exp));
			strcpy(exp + at, want[s]);
			strcat(exp, "xxx\\x1b");
			memset(exp + strlen(exp), 'x', 16);
			exp[at + strlen(want[s]) + 7 + 16] = '\0';
			for (size_t cut = 0; cut <= len; cut += cut + 1 < at ? at - 1 : 1) {
				struct neutralise nz;
				char out[NEUTRALISE_MAX_OUT(200) * 2];
				size_t w;

				neutralise_init(&nz);
				w = neutralise_feed(&nz, in, cut, out);
				w += neutralise_feed(&nz, in + cut, len - cut, out + w);
				w += neutralise_finish(&nz, out + w);
				out[w] = '\0';
				ASSERT_STREQ(out, exp);
			}
			o = run(in, len, 0, NULL);
			ASSERT_STREQ(o, exp);
			free(o);
		}
}

/* Neutralises in at the plain level (byte by byte), in the chunks given. */
static char *run_plain(const char *in, size_t len, size_t chunk)
{
	enum simd_level level = simd_level();
	char *o;

	simd_level_cap(SIMD_PLAIN);
	o = run(in, len, chunk, NULL);
	simd_level_cap(level);
	return o;
}

/* Random bytes and text with specials sprinkled at rates from one in 2 to one in 300:
 * this level's output is the plain level's, byte for byte. */
TEST(every_level_renders_as_plain)
{
	static const char specials[] = "\x1b\x00\x7f\x01\x9b\xc2\x80\xc2\x9b\xe2\x80\xae"
				       "\xe2\x80\x98\xf0\x9f\x98\x80\xc3\xa9\xed\xa0\x80\xff";
	uint64_t seed = 7;

	for (int round = 0; round < 600; round++) {
		size_t len, rate, chunk;
		char in[1200], *want, *got;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		len = seed >> 33 & 1023;
		rate = 2 + (seed >> 20 & 255) + (round % 3 == 0 ? 40 : 0);
		chunk = round % 5 == 0 ? 0 : 1 + (seed >> 12 & 255);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			if (round % 4 == 0)
				in[i] = (char)(seed >> 56);
			else if ((seed >> 40) % rate == 0)
				in[i] = specials[(seed >> 24) % (sizeof(specials) - 1)];
			else
				in[i] = (char)(' ' + (seed >> 48) % 95);
		}
		want = run_plain(in, len, chunk);
		got = run(in, len, chunk, NULL);
		if (strcmp(got, want) != 0)
			printf("#   round %d: len %zu, chunk %zu differs\n", round, len, chunk);
		ASSERT_STREQ(got, want);
		free(want);
		free(got);
	}
}

TEST_MAIN_SIMD();
