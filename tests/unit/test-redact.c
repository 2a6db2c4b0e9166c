/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The redactor, case by case: refusals, every form of a value, streaming (splits, hold-back,
 * the end of the stream, flush), the built-in patterns, user patterns, counters. The
 * random property test is test-redact-property.c.
 */
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "simd-levels.h"
#include "test.h"

#define SECRET "s3cr3tPassw0rd!"

struct out {
	char *s;
	size_t len, cap;
};

static void out_put(struct out *o, const uint8_t *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->s = realloc(o->s, o->cap);
		if (!o->s)
			abort();
	}
	memcpy(o->s + o->len, p, n);
	o->len += n;
	o->s[o->len] = '\0';
}

/* Redacts in fed in chunks of chunk bytes (0: at once); returns the output (malloc). */
static char *run_n(const struct redactor *r, const char *in, size_t len, size_t chunk,
		   struct redact_stream **keep)
{
	struct redact_stream *s;
	struct out o = {};
	const uint8_t *p;
	size_t n;

	if (redact_stream_new(r, &s) < 0)
		abort();
	out_put(&o, (const uint8_t *)"", 0);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len; i += chunk) {
		size_t k = len - i < chunk ? len - i : chunk;

		if (redact_stream_feed(s, in + i, k, &p, &n) < 0)
			abort();
		out_put(&o, p, n);
	}
	if (redact_stream_finish(s, &p, &n) < 0)
		abort();
	out_put(&o, p, n);
	if (keep)
		*keep = s;
	else
		redact_stream_free(s);
	return o.s;
}

static char *run(const struct redactor *r, const char *in, size_t chunk)
{
	return run_n(r, in, strlen(in), chunk, NULL);
}

static struct redactor *make(bool builtin, const char *name, const char *value)
{
	struct redactor *r;

	if (redactor_new(builtin, &r) < 0)
		abort();
	if (value && redactor_add_value(r, name, value, strlen(value)) < 0)
		abort();
	if (redactor_compile(r) < 0)
		abort();
	return r;
}

/* in -> want, fed at once, byte by byte and in chunks of 7. */
#define CHECK(r, in, want)                                                                       \
	do {                                                                                     \
		static const size_t chunks_[] = { 0, 1, 7 };                                     \
		for (size_t c_ = 0; c_ < 3; c_++) {                                              \
			char *o_ = run(r, in, chunks_[c_]);                                      \
			bool ok_ = strcmp(o_, want) == 0;                                        \
			if (!ok_)                                                                \
				printf("#   in \"%s\" chunk %zu: got \"%s\"\n", in, chunks_[c_], \
				       o_);                                                      \
			free(o_);                                                                \
			ASSERT_TRUE(ok_);                                                        \
		}                                                                                \
	} while (0)

TEST(refuses_bad_values_and_names)
{
	struct redactor *r;
	char big[REDACT_MAX_VALUE + 1];

	ASSERT_OK(redactor_new(false, &r));
	ASSERT_ERROR(redactor_add_value(r, "short", "1234567", 7), EINVAL);
	/* Eight bytes, but only five once whitespace and zero-width characters are gone. */
	ASSERT_ERROR(redactor_add_value(r, "spaced",
					"ab c\xe2\x80\x8b"
					"de",
					9),
		     EINVAL);
	ASSERT_ERROR(redactor_add_value(r, "", SECRET, 15), EINVAL);
	ASSERT_ERROR(redactor_add_value(r, "a b", SECRET, 15), EINVAL);
	ASSERT_ERROR(redactor_add_value(r, "x]", SECRET, 15), EINVAL);
	memset(big, 'a', sizeof(big));
	ASSERT_ERROR(redactor_add_value(r, "big", big, sizeof(big)), E2BIG);
	ASSERT_OK(redactor_add_value(r, "ok", big, REDACT_MAX_VALUE));
	ASSERT_OK(redactor_add_value(r, "gh.token_1:x-y", SECRET, 15));
	ASSERT_OK(redactor_compile(r));
	ASSERT_ERROR(redactor_add_value(r, "late", SECRET, 15), EBUSY);
	ASSERT_ERROR(redactor_compile(r), EBUSY);
	redactor_free(r);
}

TEST(refuses_bad_patterns_with_offset)
{
	struct redact_pattern_error e = {};
	struct redactor *r;
	char big[REDACT_MAX_PATTERN + 2];

	ASSERT_OK(redactor_new(false, &r));
	ASSERT_ERROR(redactor_add_pattern(r, "p", "ab(cd", &e), EINVAL);
	ASSERT_EQ(e.offset, 5);
	ASSERT_CONTAINS(e.message, "parenthesis");
	ASSERT_ERROR(redactor_add_pattern(r, "p", "x[a-", &e), EINVAL);
	ASSERT_EQ(e.offset, 4);
	ASSERT_ERROR(redactor_add_pattern(r, "p", "a*|b?", &e), EINVAL);
	ASSERT_CONTAINS(e.message, "empty string");
	/* A minimum length above 0, but an empty match through lookarounds alone. */
	ASSERT_ERROR(redactor_add_pattern(r, "p", "(?=token)", &e), EINVAL);
	ASSERT_CONTAINS(e.message, "empty string");
	ASSERT_ERROR(redactor_add_pattern(r, "p", "x?(?=y)", &e), EINVAL);
	ASSERT_ERROR(redactor_add_pattern(r, "p", "key=(?=[a-z]+)|(?=pass)", &e), EINVAL);
	/* \C would cut a UTF-8 character; PCRE2 says so. */
	ASSERT_ERROR(redactor_add_pattern(r, "p", "x\\C", &e), EINVAL);
	ASSERT_EQ(e.offset, 3);
	ASSERT_CONTAINS(e.message, "\\C");
	ASSERT_OK(redactor_add_pattern(r, "p", "TICKET-[0-9]+", &e));
	ASSERT_OK(redactor_add_pattern(r, "la", "(?<=password=)\\S+(?=&|$)", &e));
	ASSERT_ERROR(redactor_add_pattern(r, "p", "other", &e), EEXIST);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_ERROR(redactor_add_pattern(r, "q", big, &e), E2BIG);
	ASSERT_EQ(redactor_n_rules(r), 2);
	redactor_free(r);
}

TEST(rules_are_listed_in_order)
{
	struct redactor *r;

	ASSERT_OK(redactor_new(true, &r));
	ASSERT_OK(redactor_add_value(r, "npm", SECRET, 15));
	ASSERT_OK(redactor_add_pattern(r, "ticket", "TICKET-[0-9]+", NULL));
	ASSERT_OK(redactor_add_value(r, "npm", "another-value-1", 15)); /* same rule */
	ASSERT_OK(redactor_compile(r));
	ASSERT_EQ(redactor_n_rules(r), 12);
	ASSERT_STREQ(redactor_rule_name(r, 0), "github-token");
	ASSERT_EQ(redactor_rule_kind(r, 0), REDACT_RULE_BUILTIN);
	ASSERT_STREQ(redactor_rule_name(r, 10), "npm");
	ASSERT_EQ(redactor_rule_kind(r, 10), REDACT_RULE_VALUE);
	ASSERT_STREQ(redactor_rule_name(r, 11), "ticket");
	ASSERT_EQ(redactor_rule_kind(r, 11), REDACT_RULE_PATTERN);
	ASSERT_TRUE(redactor_rule_name(r, 12) == NULL);
	ASSERT_STREQ(redact_rule_kind_to_string(REDACT_RULE_PATTERN), "pattern");
	redactor_free(r);
}

TEST(raw_reversed_rot13)
{
	struct redactor *r = make(false, "tok", SECRET);

	CHECK(r, "a " SECRET " b", "a [REDACTED:tok] b");
	CHECK(r, SECRET SECRET, "[REDACTED:tok][REDACTED:tok]");
	CHECK(r, "rev !dr0wssaPt3rc3s.", "rev [REDACTED:tok].");
	CHECK(r, "rot f3pe3gCnffj0eq!", "rot [REDACTED:tok]");
	CHECK(r, "almost s3cr3tPassw0rd? no", "almost s3cr3tPassw0rd? no");
	redactor_free(r);
}

TEST(hex_in_any_case)
{
	struct redactor *r = make(false, "tok", SECRET);

	CHECK(r, "h=733363723374506173737730726421;", "h=[REDACTED:tok];");
	CHECK(r, "H=733363723374506173737730726421", "H=[REDACTED:tok]");
	CHECK(r, "x 7333637233745061737377307264 21", "x [REDACTED:tok]");
	redactor_free(r);
}

TEST(base64_at_every_alignment)
{
	/* The value after 0, 1, 2 and 4 bytes ("A", "AB", "ABCD"), and before 1 byte, in
	 * base64 and base64url, padded and not: the characters with its bits go but the
	 * first, which mixes 2 or 4 of them with the byte before (redact-values.c,
	 * complete()); padding carries none. */
	struct redactor *r = make(false, "tok", "s3cr3tPa?>wd!?>~");

	CHECK(r, "c czNjcjN0UGE/PndkIT8+fg== x", "c [REDACTED:tok]== x");
	CHECK(r, "u czNjcjN0UGE_PndkIT8-fg x", "u [REDACTED:tok] x");
	CHECK(r, "c QXMzY3IzdFBhPz53ZCE/Pn4= x", "c QX[REDACTED:tok]= x");
	CHECK(r, "c QUJzM2NyM3RQYT8+d2QhPz5+ x", "c QUJ[REDACTED:tok] x");
	CHECK(r, "c QUJDRHMzY3IzdFBhPz53ZCE/Pn4 x", "c QUJDRH[REDACTED:tok] x");
	CHECK(r, "c QUJDRHMzY3IzdFBhPz53ZCE_Pn4= x", "c QUJDRH[REDACTED:tok]= x");
	CHECK(r, "c czNjcjN0UGE/PndkIT8+fkE= x", "c [REDACTED:tok]E= x");
	/* Wrapped at 8 columns, as base64 -w does. */
	CHECK(r, "QUJzM2Ny\nM3RQYT8+\nd2QhPz5+\n", "QUJ[REDACTED:tok]\n");
	redactor_free(r);
}

/*
 * A value with whitespace at its ends (a file written with echo): its forms are found
 * also as the task makes them from the value without it ($(cat FILE) takes the newline
 * off before base64 or od).
 */
TEST(value_with_whitespace_at_its_ends)
{
	struct redactor *r = make(false, "tok", "  " SECRET "\n");
	struct redactor *full;
	char many[16];

	CHECK(r, "b czNjcjN0UGFzc3cwcmQh x", "b [REDACTED:tok] x");
	CHECK(r, "h 733363723374506173737730726421 x", "h [REDACTED:tok] x");
	CHECK(r, "basic QUI6czNjcjN0UGFzc3cwcmQh x", "basic QUI6[REDACTED:tok] x");
	CHECK(r, "raw s3cr3tPassw0rd! x", "raw [REDACTED:tok] x");
	/* The value as given is found too: its base64 with the newline, up to the character
	 * that carries only bits of the newline (taking it in would take in the first
	 * character of the next line when the newline is not there). */
	CHECK(r, "b ICBzM2NyM3RQYXNzdzByZCEK x", "b [REDACTED:tok]K x");
	redactor_free(r);

	/* The second value counts toward REDACT_MAX_VALUES. */
	ASSERT_OK(redactor_new(false, &full));
	for (int i = 0; i < REDACT_MAX_VALUES - 1; i++) {
		snprintf(many, sizeof(many), "value-%05d", i);
		ASSERT_OK(redactor_add_value(full, "v", many, strlen(many)));
	}
	ASSERT_ERROR(redactor_add_value(full, "w", SECRET "\n", 16), E2BIG);
	ASSERT_OK(redactor_add_value(full, "w", SECRET, 15));
	redactor_free(full);
}

TEST(percent_and_json_escapes)
{
	struct redactor *r = make(false, "tok", "p@ss/w\"rd:0 k\xc3\xa9y");

	CHECK(r, "u=p%40ss%2Fw%22rd%3A0%20k%C3%A9y&", "u=[REDACTED:tok]&");
	CHECK(r, "u=%70%40%73%73%2f%77%22%72%64%3a%30%20%6b%c3%a9%79&", "u=[REDACTED:tok]&");
	CHECK(r, "u=p%40ss/w%22rd:0+k%C3%A9y",
	      "u=p%40ss/w%22rd:0+k%C3%A9y"); /* '+' is not decoded */
	CHECK(r, "{\"v\": \"p@ss\\/w\\\"rd:0 k\\u00e9y\"}", "{\"v\": \"[REDACTED:tok]\"}");
	CHECK(r,
	      "\\u0070\\u0040\\u0073\\u0073\\u002F\\u0077\\u0022\\u0072\\u0064\\u003a\\u0030"
	      "\\u0020\\u006b\\u00E9\\u0079.",
	      "[REDACTED:tok].");
	CHECK(r, "b'p@ss/w\"rd:0 k\\xc3\\xa9y'", "b'[REDACTED:tok]'");
	redactor_free(r);
}

TEST(json_surrogate_pairs)
{
	struct redactor *r = make(false, "emoji", "key-\xf0\x9f\x98\x80-value");

	CHECK(r, "\"key-\\ud83d\\ude00-value\"", "\"[REDACTED:emoji]\"");
	CHECK(r, "\"key-\\ud83d-value\"", "\"key-\\ud83d-value\"");
	redactor_free(r);
}

TEST(interleaved_with_whitespace_invisibles_and_escapes)
{
	struct redactor *r = make(false, "tok", SECRET);

	CHECK(r, "> s3cr3t\nPassw0rd!\n", "> [REDACTED:tok]\n");
	CHECK(r, "> s 3 c r 3 t P a s s w 0 r d ! <", "> [REDACTED:tok] <");
	CHECK(r, "> s3cr\r\n\t3tPassw0rd!", "> [REDACTED:tok]");
	/* DEL and C0 controls inside one 16-byte block (the vector normalisers drop them). */
	CHECK(r,
	      "> s3cr\x7f"
	      "3tPa\x01ss\x1f"
	      "w0\x7frd!\x7f",
	      "> [REDACTED:tok]\x7f");
	CHECK(r,
	      "> s3\xe2\x80\x8b"
	      "cr\xe2\x80\x8c"
	      "3t\xe2\x80\x8dPa\xe2\x81\xa0ss\xef\xbb\xbfw0rd!",
	      "> [REDACTED:tok]");
	CHECK(r, "> \x1b[1;31ms3cr3t\x1b[0mPass\x1b[32mw0rd!\x1b[0m",
	      "> \x1b[1;31m[REDACTED:tok]\x1b[0m");
	CHECK(r,
	      "> s3cr\x1b"
	      "73tPa\x1b(Bssw0rd!",
	      "> [REDACTED:tok]");
	CHECK(r, "> s3cr\x1b]8;;http://example.com\x1b\\3tPassw0rd!", "> [REDACTED:tok]");
	/* Inside an OSC string (a window title, a link target), the value is found too. */
	CHECK(r,
	      "\x1b]0;" SECRET "\x07"
	      "x",
	      "\x1b]0;[REDACTED:tok]\x07x");
	CHECK(r, "\x1b]8;;https://example.com/?t=" SECRET "\x1b\\link\x1b]8;;\x1b\\",
	      "\x1b]8;;https://example.com/?t=[REDACTED:tok]\x1b\\link\x1b]8;;\x1b\\");
	redactor_free(r);
}

TEST(split_at_every_point)
{
	static const char in[] = "pre s3cr3tPassw0rd! mid czNjcjN0UGFzc3cwcmQh post "
				 "%73%33%63%72%33%74%50%61%73%73%77%30%72%64%21 end\n";
	static const char want[] =
		"pre [REDACTED:tok] mid [REDACTED:tok] post [REDACTED:tok] end\n";
	struct redactor *r = make(false, "tok", SECRET);

	for (size_t cut = 0; cut < sizeof(in) - 1; cut++) {
		struct redact_stream *s;
		struct out o = {};
		const uint8_t *p;
		size_t n;

		ASSERT_OK(redact_stream_new(r, &s));
		ASSERT_OK(redact_stream_feed(s, in, cut, &p, &n));
		out_put(&o, p, n);
		ASSERT_OK(redact_stream_feed(s, in + cut, sizeof(in) - 1 - cut, &p, &n));
		out_put(&o, p, n);
		ASSERT_OK(redact_stream_finish(s, &p, &n));
		out_put(&o, p, n);
		redact_stream_free(s);
		ASSERT_STREQ(o.s, want);
		free(o.s);
	}
	redactor_free(r);
}

TEST(holds_only_a_pending_match)
{
	struct redactor *r = make(true, "tok", SECRET);
	struct redact_stream *s;
	const uint8_t *p;
	size_t n;

	ASSERT_OK(redact_stream_new(r, &s));
	/* Nothing pending: all of it goes out at once. */
	ASSERT_OK(redact_stream_feed(s, "compiling foo.c ...\n", 20, &p, &n));
	ASSERT_EQ(n, 20);
	ASSERT_EQ(redact_stream_held(s), 0);
	/* A partial match is held, and only it. */
	ASSERT_OK(redact_stream_feed(s, "token: s3cr3tPa", 15, &p, &n));
	ASSERT_EQ(n, 7);
	ASSERT_TRUE(memcmp(p, "token: ", 7) == 0);
	ASSERT_EQ(redact_stream_held(s), 8);
	ASSERT_TRUE(redact_stream_held(s) <= redactor_hold_max(r));
	ASSERT_OK(redact_stream_feed(s, "ssw0rd! ok\n", 11, &p, &n));
	ASSERT_EQ(n, strlen("[REDACTED:tok] ok\n"));
	ASSERT_TRUE(memcmp(p, "[REDACTED:tok] ok\n", n) == 0);
	/* A token in progress is held too. */
	ASSERT_OK(redact_stream_feed(s, "GH ghp_0123456789abcdef", 23, &p, &n));
	ASSERT_EQ(n, 3);
	ASSERT_OK(redact_stream_feed(s, "ghijklmnopqrstuvwxyzABCD\n", 25, &p, &n));
	ASSERT_TRUE(memcmp(p, "[REDACTED:github-token]\n", n) == 0);
	ASSERT_OK(redact_stream_finish(s, &p, &n));
	ASSERT_EQ(n, 0);
	ASSERT_ERROR(redact_stream_feed(s, "x", 1, &p, &n), EINVAL);
	redact_stream_free(s);
	redactor_free(r);
}

/*
 * The AVX-512 normaliser takes CSI sequences and literal '%' inside its 64-byte blocks and
 * leaves other specials (and units that cross a block's end) to the byte-by-byte path:
 * coloured output with a value in it, at every offset in a block, at every level.
 */
TEST(coloured_output_at_every_block_offset)
{
	static const char head[] = "100%] \x1b[32m";
	static const char val[] = "s3cr\x1b[0m3tPa\x1b[1;31mss\x1b[1;2\nw0%72d!";
	static const char tail[] = "\x1b[0m \xc3\xa9 [ 45%] \x1b]0;t\x07 %zz \x1b(B\xe2\x80\x98 "
				   /* not the value: a CSI cut by a byte that is kept */
				   "s3cr3t\x1b[5\xc3Passw0rd! ";
	struct redactor *r = make(false, "tok", SECRET);
	char in[512], want[512], dots[160];

	memset(dots, '.', sizeof(dots));
	for (int k = 0; k < 130; k++) {
		snprintf(in, sizeof(in), "%.*s%s%s%s%.*s", k, dots, head, val, tail, 150 - k, dots);
		snprintf(want, sizeof(want), "%.*s%s[REDACTED:tok]%s%.*s", k, dots, head, tail,
			 150 - k, dots);
		CHECK(r, in, want);
	}
	redactor_free(r);
}

/*
 * Values of 19 characters and more are sampled every 16th normalised byte, shorter ones
 * more often: a long value at every offset, every partial of it at the end (held while
 * more may come, redacted at the end from REDACT_PARTIAL_MIN), beside a short one.
 */
TEST(long_values_at_every_offset_and_every_partial_end)
{
	static const char v[] = "Zq3vT8pLmW2xK9rB7nYc4hJf6dGs1aQe5uVo0iXt";
	struct redactor *r;
	char in[256], want[256];

	for (int with_short = 0; with_short < 2; with_short++) {
		ASSERT_OK(redactor_new(false, &r));
		ASSERT_OK(redactor_add_value(r, "tok", v, strlen(v)));
		if (with_short)
			ASSERT_OK(redactor_add_value(r, "short", "k8Pw2Qz7", 8));
		ASSERT_OK(redactor_compile(r));
		for (int k = 0; k < 40; k++) {
			snprintf(in, sizeof(in), "%.*s%s end", k,
				 "........................................", v);
			snprintf(want, sizeof(want), "%.*s[REDACTED:tok] end", k,
				 "........................................");
			CHECK(r, in, want);
		}
		for (size_t len = 1; len < strlen(v); len++) {
			struct redact_stream *s;
			const uint8_t *p;
			size_t n;

			snprintf(in, sizeof(in), "> %.*s", (int)len, v);
			snprintf(want, sizeof(want), "> %s",
				 len >= REDACT_PARTIAL_MIN ? "[REDACTED:tok]" : in + 2);
			CHECK(r, in, want);
			ASSERT_OK(redact_stream_new(r, &s));
			ASSERT_OK(redact_stream_feed(s, in, strlen(in), &p, &n));
			ASSERT_EQ(n, 2);
			ASSERT_EQ(redact_stream_held(s), len);
			redact_stream_free(s);
		}
		redactor_free(r);
	}
}

TEST(partial_match_at_the_end_is_redacted)
{
	struct redactor *r = make(false, "tok", SECRET);

	CHECK(r, "end s3cr3tPa", "end [REDACTED:tok]");
	CHECK(r, "end czNjcjN0U", "end [REDACTED:tok]");
	CHECK(r, "end s3cr", "end [REDACTED:tok]");
	/* Shorter than REDACT_PARTIAL_MIN: ordinary text. */
	CHECK(r, "end s3c", "end s3c");
	redactor_free(r);
}

/*
 * The stream ends inside an escape, a terminal sequence or a UTF-8 character that follows a
 * partial value: the partial is still redacted, with the unfinished unit after it.
 */
TEST(partial_match_before_an_unfinished_unit_at_the_end_is_redacted)
{
	struct redactor *r = make(false, "tok", SECRET);

	CHECK(r, "end \\x73\\x33\\x63\\x72\\x33\\x74\\x", "end [REDACTED:tok]");
	CHECK(r, "end %73%33%63%72%33%74%", "end [REDACTED:tok]");
	CHECK(r, "end %73%33%63%72%33%74%5", "end [REDACTED:tok]");
	CHECK(r, "end \\u0073\\u0033\\u0063\\u0072\\u00", "end [REDACTED:tok]");
	CHECK(r,
	      "end s\xe2\x80\x8b"
	      "3cr3tPa\xe2\x80",
	      "end [REDACTED:tok]");
	CHECK(r, "end s3c\x1b]0;\as3cr3t\x1b]0", "end s3c\x1b]0;\a[REDACTED:tok]");
	CHECK(r, "end s3cr3t\x1b[3", "end [REDACTED:tok]");
	CHECK(r, "end s3cr3t\x1b", "end [REDACTED:tok]");
	/* Shorter than REDACT_PARTIAL_MIN before the unfinished unit: ordinary text. */
	CHECK(r, "end %73%33%63%", "end %73%33%63%");
	/* Not a partial of the value: the unfinished unit stays as it is. */
	CHECK(r, "end abcdefgh\\x", "end abcdefgh\\x");
	redactor_free(r);
}

TEST(flush_lets_a_short_partial_go_and_still_redacts_the_rest)
{
	struct redactor *r = make(false, "tok", SECRET);
	struct redact_stream *s;
	struct out o = {};
	const uint8_t *p;
	size_t n;

	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, "waiting s3c", 11, &p, &n));
	ASSERT_EQ(n, 8); /* "s3c" may start the value: held */
	out_put(&o, p, n);
	ASSERT_OK(redact_stream_flush(s, &p, &n));
	ASSERT_EQ(n, 3); /* the task went quiet: out it goes */
	out_put(&o, p, n);
	ASSERT_OK(redact_stream_feed(s, "r3tPassw0rd! done", 17, &p, &n));
	out_put(&o, p, n);
	ASSERT_OK(redact_stream_finish(s, &p, &n));
	out_put(&o, p, n);
	ASSERT_STREQ(o.s, "waiting s3c[REDACTED:tok] done");
	free(o.s);
	/* A longer partial stays held through a flush. */
	redact_stream_free(s);
	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, "waiting s3cr3t", 14, &p, &n));
	ASSERT_OK(redact_stream_flush(s, &p, &n));
	ASSERT_EQ(n, 0);
	ASSERT_EQ(redact_stream_held(s), 6);
	redact_stream_free(s);
	redactor_free(r);
}

TEST(flush_lets_a_short_partial_of_a_user_pattern_go)
{
	struct redactor *r;
	struct redact_stream *s;
	const uint8_t *p;
	size_t n;

	ASSERT_OK(redactor_new(false, &r));
	ASSERT_OK(redactor_add_pattern(r, "p", "sk-live-[0-9]{6}", NULL));
	ASSERT_OK(redactor_compile(r));
	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, "enter code Ats", 14, &p, &n));
	ASSERT_EQ(n, 13); /* "s" may start the pattern: held */
	ASSERT_OK(redact_stream_flush(s, &p, &n));
	ASSERT_EQ(n, 1); /* the task went quiet: a prompt is not held */
	ASSERT_EQ(redact_stream_held(s), 0);
	redact_stream_free(s);
	/* A partial of 4 or more stays held through a flush. */
	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, "key sk-li", 9, &p, &n));
	ASSERT_OK(redact_stream_flush(s, &p, &n));
	ASSERT_EQ(n, 0);
	ASSERT_EQ(redact_stream_held(s), 5);
	redact_stream_free(s);
	redactor_free(r);
}

TEST(overlapping_matches_merge)
{
	struct redactor *r;

	ASSERT_OK(redactor_new(false, &r));
	ASSERT_OK(redactor_add_value(r, "a", "alpha-bravo-charlie", 19));
	ASSERT_OK(redactor_add_value(r, "b", "charlie-delta-echo", 18));
	ASSERT_OK(redactor_compile(r));
	CHECK(r, "x alpha-bravo-charlie-delta-echo y", "x [REDACTED:a] y");
	CHECK(r, "x charlie-delta-echo y", "x [REDACTED:b] y");
	redactor_free(r);
}

TEST(counts_per_rule)
{
	static const char in[] = SECRET " czNjcjN0UGFzc3cwcmQh TICKET-1234 "
					"npm_0123456789abcdefghijABCDEFGHIJ0123456789\n";
	struct redactor *r;
	struct redact_stream *s;
	char *o;

	ASSERT_OK(redactor_new(true, &r));
	ASSERT_OK(redactor_add_value(r, "tok", SECRET, 15));
	ASSERT_OK(redactor_add_pattern(r, "ticket", "TICKET-[0-9]{4}", NULL));
	ASSERT_OK(redactor_compile(r));

	o = run_n(r, in, sizeof(in) - 1, 5, &s);
	ASSERT_CONTAINS(o, "[REDACTED:ticket]");
	ASSERT_EQ(redact_stream_count(s, 10), 2);
	ASSERT_EQ(redact_stream_count(s, 11), 1);
	ASSERT_EQ(redact_stream_count(s, 5), 1); /* npm-token */
	ASSERT_EQ(redact_stream_count(s, 0), 0);
	ASSERT_EQ(redact_stream_count(s, 99), 0);
	free(o);
	redact_stream_free(s);
	redactor_free(r);
}

TEST(value_containing_escapes)
{
	/* A value with what looks like an escape: raw, and percent-encoded once. */
	struct redactor *r = make(false, "tok", "abc%41def\\u0042gh");

	CHECK(r, "[abc%41def\\u0042gh]", "[[REDACTED:tok]]");
	CHECK(r, "[abc%2541def%5Cu0042gh]", "[[REDACTED:tok]]");
	redactor_free(r);
}

TEST(context_after_a_lone_percent)
{
	/* The context kept for the next write ends with the '%' (not an escape: an 's'
	 * follows), so "sss" of context and the 11 's' after it are no 14 's'. */
	struct redactor *r = make(false, "tok", "ssssssssssssss");

	CHECK(r, "sssssssssss%sssssssssssw", "sssssssssss%sssssssssssw");
	CHECK(r, "sss%ssssssssssssss.", "sss%[REDACTED:tok].");
	redactor_free(r);
}

TEST(binary_values)
{
	static const char v[] = "\x01\xff\x80\x7f"
				"bin\x00"
				"ary\xfe\x10";
	struct redactor *r;
	char *o;

	ASSERT_OK(redactor_new(false, &r));
	ASSERT_OK(redactor_add_value(r, "bin", v, sizeof(v) - 1));
	ASSERT_OK(redactor_compile(r));
	o = run_n(r,
		  "<\x01\xff\x80\x7f"
		  "bin\x00"
		  "ary\xfe\x10>",
		  15, 1, NULL);
	ASSERT_STREQ(o, "<\x01[REDACTED:bin]\x10>");
	free(o);
	CHECK(r, "hex 01ff807f62696e0061727cfe10 01FF807F62696E00617279FE10",
	      "hex 01ff807f62696e0061727cfe10 [REDACTED:bin]");
	redactor_free(r);
}

TEST(large_stream)
{
	struct redactor *r = make(true, "tok", SECRET);
	size_t len = 3 << 20;
	char *in = malloc(len + 1), *o;

	ASSERT_TRUE(in != NULL);
	for (size_t i = 0; i < len; i++)
		in[i] = "abcdefghij klmnopqrst\n"[i % 22];
	memcpy(in + len / 2, SECRET, 15);
	memcpy(in + len - 15, SECRET, 15);
	in[len] = '\0';
	o = run_n(r, in, len, 65536, NULL);
	ASSERT_TRUE(strstr(o, SECRET) == NULL);
	ASSERT_TRUE(strstr(o, "[REDACTED:tok]") != strrchr(o, '['));
	ASSERT_EQ(strlen(o), len - 30 + 28);
	free(o);
	free(in);
	redactor_free(r);
}

TEST(value_with_percent_and_backslash_in_string_literals)
{
	/* %cd decodes, \x41 does too: the value's own text normalises to neither form when
	 * it is printed as a JSON or Python string (its backslash doubled). */
	struct redactor *r = make(false, "v", "ab%cd\\x41efQzKpWmTr");

	CHECK(r, "x ab%cd\\x41efQzKpWmTr y", "x [REDACTED:v] y");
	CHECK(r, "{\"k\": \"ab%cd\\\\x41efQzKpWmTr\", \"next\": 1}\n",
	      "{\"k\": \"[REDACTED:v]\", \"next\": 1}\n");
	CHECK(r, "'ab%cd\\\\x41efQzKpWmTr'\n", "'[REDACTED:v]'\n");
	/* JSON inside JSON: each backslash four times, read as two. */
	CHECK(r, "\"{\\\"k\\\": \\\"ab%cd\\\\\\\\x41efQzKpWmTr\\\"}\"\n",
	      "\"{\\\"k\\\": \\\"[REDACTED:v]\\\"}\"\n");
	/* Near misses stay: the backslash not doubled enough, another letter. */
	CHECK(r, "ab%cd\\\\x41efQzKpWmTs ab\\x41", "ab%cd\\\\x41efQzKpWmTs ab\\x41");
	redactor_free(r);
}

/* A value with a double quote, dumped as JSON twice (a log line holding a JSON message):
 * its quote is written \\\" and reads as \", which its own text is not. */
TEST(value_with_double_quote_in_json_twice)
{
	struct redactor *r = make(false, "v", "ab\"cdefgh12");

	CHECK(r, "\"\\\"ab\\\\\\\"cdefgh12\\\"\"\n", "\"\\\"[REDACTED:v]\\\"\"\n");
	CHECK(r, "{\"k\": \"{\\\"x\\\": \\\"ab\\\\\\\"cdefgh12\\\"}\"}\n",
	      "{\"k\": \"{\\\"x\\\": \\\"[REDACTED:v]\\\"}\"}\n");
	CHECK(r, "'\"ab\\\\\"cdefgh12\"'\n", "'\"[REDACTED:v]\"'\n");
	/* Once, and as it is, as before. */
	CHECK(r, "\"ab\\\"cdefgh12\" ab\"cdefgh12\n", "\"[REDACTED:v]\" [REDACTED:v]\n");
	redactor_free(r);
}

/*
 * Quoted by shells and Python: a backslash before punctuation or a space reads as that
 * character, and the shell's quote splice '\'' as the quote before it. The texts are what
 * bash (set -x, printf %q, declare -p) and Python (repr, json.dumps) print.
 */
TEST(values_quoted_by_shells_and_python)
{
	struct redactor *r = make(false, "pw", "O'Brien-s3cr3t");

	CHECK(r, "+ : 'O'\\''Brien-s3cr3t'\n", "+ : '[REDACTED:pw]'\n");
	CHECK(r, "O\\'Brien-s3cr3t\n", "[REDACTED:pw]\n");
	CHECK(r, "'O\\'Brien-s3cr3t\"'\n", "'[REDACTED:pw]\"'\n");
	CHECK(r, "x='O'\\''Brien-s3cr3t' y\n", "x='[REDACTED:pw]' y\n");
	redactor_free(r);

	r = make(false, "pw", "correct horse battery staple");
	CHECK(r, "correct\\ horse\\ battery\\ staple\n", "[REDACTED:pw]\n");
	redactor_free(r);

	r = make(false, "pw", "pa$$w0rd(2024)");
	CHECK(r, "pa\\$\\$w0rd\\(2024\\)\n", "[REDACTED:pw]\n");
	CHECK(r, "declare -x PW=\"pa\\$\\$w0rd(2024)\"\n", "declare -x PW=\"[REDACTED:pw]\"\n");
	redactor_free(r);

	r = make(false, "pw", "Tr0ub4dor&3xyz!");
	CHECK(r, "Tr0ub4dor\\&3xyz\\!\n", "[REDACTED:pw]\n");
	redactor_free(r);

	r = make(false, "pw", "back`tick\"dq$x1");
	CHECK(r, "PW=\"back\\`tick\\\"dq\\$x1\"\n", "PW=\"[REDACTED:pw]\"\n");
	redactor_free(r);

	/* Quotes at a value's start and end, and two in a row: each splice joins. */
	r = make(false, "pw", "'it''s-s3cret'");
	CHECK(r, "+ : ''\\''it'\\'''\\''s-s3cret'\\'''\n", "+ : '[REDACTED:pw]\\'''\n");
	redactor_free(r);

	/* A value holding a backslash, quotes, '$' and "%41": each tool's own quoting. */
	r = make(false, "pw", "Qx\\$z'w\"%41-end");
	CHECK(r, "+ : 'Qx\\$z'\\''w\"%41-end'\n", "+ : '[REDACTED:pw]'\n");
	CHECK(r, "Qx\\\\\\$z\\'w\\\"%41-end\n", "[REDACTED:pw]\n");
	CHECK(r, "declare -x PW=\"Qx\\\\\\$z'w\\\"%41-end\"\n",
	      "declare -x PW=\"[REDACTED:pw]\"\n");
	CHECK(r, "'Qx\\\\$z\\'w\"%41-end'\n", "'[REDACTED:pw]'\n");
	CHECK(r, "\"Qx\\\\$z'w\\\"%41-end\"\n", "\"[REDACTED:pw]\"\n");
	redactor_free(r);

	/* A backslash at a value's end joins the character after it in the text. */
	r = make(false, "pw", "s3cr3t-key\\");
	CHECK(r, "+ : 's3cr3t-key\\'\n", "+ : '[REDACTED:pw]\\'\n");
	CHECK(r, "s3cr3t-key\\\\ \"s3cr3t-key\\\\\"\n", "[REDACTED:pw] \"[REDACTED:pw]\"\n");
	CHECK(r, "s3cr3t-key\\.\n", "[REDACTED:pw]\\.\n");
	redactor_free(r);

	/* Near misses stay: a letter or digit after the backslash keeps its meaning (\n is
	 * a line break, not an 'n'), and an escaped quote after a letter is no splice. */
	r = make(false, "pw", "s3cr3tnPassw0rd");
	CHECK(r, "s3cr3t\\nPassw0rd s3cr3t\\x6ePassw0rd", "s3cr3t\\nPassw0rd [REDACTED:pw]");
	redactor_free(r);
	r = make(false, "pw", "ab'cdefgh'ij");
	CHECK(r, "ab\\''cdefgh'ij", "ab\\''cdefgh'ij");
	redactor_free(r);
}

/*
 * A match is mapped back to whole units of the text: an escape whose character is the
 * value's (the match ends or starts inside it) goes with it, whatever write split it; one
 * that quotes the character after the value stays, as that character does. printf %q of
 * the value then " done" escapes the space: the backslash left before it is the space's.
 */
TEST(escape_of_a_value_s_character_goes_one_after_it_stays)
{
	struct redactor *r = make(false, "pw", "s3cr3tValue9");

	CHECK(r, "s3cr3tValue9\\ done\n", "[REDACTED:pw]\\ done\n");
	CHECK(r, "\"s3cr3tValue9\\u0020done\"\n", "\"[REDACTED:pw]\\u0020done\"\n");
	CHECK(r, "s3cr3tValue9\\$\\ done\n", "[REDACTED:pw]\\$\\ done\n");
	redactor_free(r);

	r = make(false, "pw", "s3cr3tValue9$");
	CHECK(r, "s3cr3tValue9\\$\\ done\n", "[REDACTED:pw]\\ done\n");
	CHECK(r, "s3cr3tValue9\\x24 done\n", "[REDACTED:pw] done\n");
	CHECK(r, "s3cr3tValue9\\u0024\\u0020done\n", "[REDACTED:pw]\\u0020done\n");
	redactor_free(r);

	r = make(false, "pw", "$s3cr3tValue9");
	CHECK(r, "x=\\$s3cr3tValue9\\ done\n", "x=[REDACTED:pw]\\ done\n");
	redactor_free(r);

	/* A space at the value's end is never in a match (normalising removes it): its
	 * quoting stays as a space after the value does. */
	r = make(false, "pw", "s3cr3tValue9 ");
	CHECK(r, "s3cr3tValue9\\ done\n", "[REDACTED:pw]\\ done\n");
	redactor_free(r);
}

/* A flush right after the quote before a splice: the quote waits for it (the splice looks
 * back at it), and the value across the two writes is still found. */
TEST(quote_splice_across_a_flush)
{
	struct redactor *r = make(false, "pw", "O'Brien-s3cr3t");
	struct redact_stream *s;
	struct out o = {};
	const uint8_t *p;
	size_t n;

	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, "+ : 'O'", 7, &p, &n));
	out_put(&o, p, n);
	ASSERT_OK(redact_stream_flush(s, &p, &n));
	out_put(&o, p, n);
	ASSERT_OK(redact_stream_feed(s, "\\''Brien-s3cr3t' done", 21, &p, &n));
	out_put(&o, p, n);
	ASSERT_OK(redact_stream_finish(s, &p, &n));
	out_put(&o, p, n);
	ASSERT_TRUE(strstr(o.s, "Brien") == NULL);
	ASSERT_TRUE(strstr(o.s, "[REDACTED:pw]' done") != NULL);
	free(o.s);
	redact_stream_free(s);
	redactor_free(r);
}

/* A value counts as it is and as decoded: "%41%42%43%44" is 12 bytes that read as 4. */
TEST(value_counted_as_it_is_and_decoded)
{
	struct redactor *r;
	size_t raw, decoded;

	ASSERT_OK(redact_value_counts("%41%42%43%44", 12, &raw, &decoded));
	ASSERT_EQ(raw, 12);
	ASSERT_EQ(decoded, 4);
	ASSERT_OK(redact_value_counts("\\x41\\x42 \\$\n", 12, &raw, &decoded));
	ASSERT_EQ(raw, 10);
	ASSERT_EQ(decoded, 3);
	ASSERT_OK(redactor_new(false, &r));
	ASSERT_ERROR(redactor_add_value(r, "t", "%41%42%43%44", 12), EINVAL);
	ASSERT_OK(redactor_add_value(r, "t", "%41%42%43%44%45%46%47%48", 24));
	ASSERT_OK(redactor_compile(r));
	CHECK(r, "the word ABCDEFGH.", "the word [REDACTED:t].");
	redactor_free(r);

	/* A backslash at the end is looked for without it too ("Pa55wd!\" then " done" reads
	 * "Pa55wd! done"): that needle must be long enough as well, also in the twin of a
	 * value read from a file written with echo. */
	ASSERT_OK(redact_value_counts("Pa55wd!\\", 8, &raw, &decoded));
	ASSERT_EQ(raw, 8);
	ASSERT_EQ(decoded, 7);
	ASSERT_OK(redactor_new(false, &r));
	ASSERT_ERROR(redactor_add_value(r, "t", "Pa55wd!\\", 8), EINVAL);
	ASSERT_ERROR(redactor_add_value(r, "t", " Pa55wd!\\\n", 10), EINVAL);
	ASSERT_OK(redactor_add_value(r, "t", "Pa55wd!!\\", 9));
	ASSERT_OK(redactor_compile(r));
	CHECK(r, "pw=Pa55wd!!\\ done Pa55wd!!\\.\n", "pw=[REDACTED:t]\\ done [REDACTED:t]\\.\n");
	redactor_free(r);
}

TEST(value_with_newline_encoded_stays_on_its_line)
{
	/* A value read from a file written with echo ends in a newline: base64 of it and of
	 * "user:" and it without the newline, then its reverse on the next line, which starts
	 * with the bits the newline would have had: four labels, the next line's own. */
	struct redactor *r = make(false, "a", "CQJirNQQdS2OXfKgNnLL9E6XC\n");

	CHECK(r,
	      "Q1FKaXJOUVFkUzJPWGZLZ05uTEw5RTZYQw==\n"
	      "43514a69724e51516453324f58664b674e6e4c4c3945365843\n"
	      "dXNlcjpDUUppck5RUWRTMk9YZktnTm5MTDlFNlhD\nCX6E9LLnNgKfXO2SdQQNriJQC\n",
	      "[REDACTED:a]==\n[REDACTED:a]\ndXNlcjp[REDACTED:a]\n[REDACTED:a]\n");
	CHECK(r, "dXNlcjpDUUppck5RUWRTMk9YZktnTm5MTDlFNlhD\nCabc zzz\n",
	      "dXNlcjp[REDACTED:a]\nCabc zzz\n");
	/* base64 of the value with its newline: every bit of the value is in the label. */
	CHECK(r, "Q1FKaXJOUVFkUzJPWGZLZ05uTEw5RTZYQwo=\n", "[REDACTED:a]o=\n");
	redactor_free(r);
}

TEST(builtin_tokens)
{
	struct redactor *r = make(true, NULL, NULL);

	CHECK(r, "t=ghp_0123456789abcdefghijABCDEFGHIJ012345 x", "t=[REDACTED:github-token] x");
	CHECK(r, "gho_0123456789abcdefghijABCDEFGHIJ012345", "[REDACTED:github-token]");
	CHECK(r, "ghs_0123456789abcdefghijABCDEFGHIJ0123456789.", "[REDACTED:github-token].");
	CHECK(r,
	      "github_pat_11ABCDEFG0123456789_"
	      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012 ",
	      "[REDACTED:github-token] ");
	CHECK(r, "glpat-0123456789abcdefABCD;", "[REDACTED:gitlab-token];");
	CHECK(r, "SLACK=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
	      "SLACK=[REDACTED:slack-token]");
	CHECK(r, "//registry.example.com/:_authToken=npm_0123456789abcdefghijABCDEFGHIJ012345\n",
	      "//registry.example.com/:_authToken=[REDACTED:npm-token]\n");
	CHECK(r,
	      "password = "
	      "pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlsz\n",
	      "password = [REDACTED:pypi-token]\n");
	CHECK(r, "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n",
	      "AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key-id]\n");
	CHECK(r,
	      "jwt: "
	      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fwpM\n",
	      "jwt: [REDACTED:jwt]\n");
	CHECK(r, "none: eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0In0. ok", "none: [REDACTED:jwt] ok");
	redactor_free(r);
}

/*
 * The AVX-512 prefilter looks up the first six characters of every literal prefix in
 * per-offset tables (redact-builtin.c): each token, with each literal and case it may
 * start with, at every offset of a 64-byte block, in text long enough for the vector
 * loop, its line ended (an Authorization value runs to the line's end), then bytes from
 * 0x80 that read as a literal's characters there ("\xe7\xe8" is "gh" with the top bit).
 */
TEST(builtin_tokens_at_every_block_offset)
{
	static const struct {
		const char *in, *label;
	} tokens[] = {
		{ "ghp_0123456789abcdefghijABCDEFGHIJ012345", "github-token" },
		{ "gho_0123456789abcdefghijABCDEFGHIJ012345", "github-token" },
		{ "ghs_0123456789abcdefghijABCDEFGHIJ012345", "github-token" },
		{ "ghu_0123456789abcdefghijABCDEFGHIJ012345", "github-token" },
		{ "ghr_0123456789abcdefghijABCDEFGHIJ012345", "github-token" },
		{ "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
		  "github-token" },
		{ "glpat-0123456789abcdefABCD", "gitlab-token" },
		{ "xoxa-123456789012-AbCdEfGhIjKl", "slack-token" },
		{ "xoxr-123456789012-AbCdEfGhIjKl", "slack-token" },
		{ "npm_0123456789abcdefghijABCDEFGHIJ012345", "npm-token" },
		{ "pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAAC",
		  "pypi-token" },
		{ "AKIAIOSFODNN7EXAMPLE", "aws-access-key-id" },
		{ "ASIAIOSFODNN7EXAMPLE", "aws-access-key-id" },
		{ "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4",
		  "jwt" },
		{ "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123", "authorization" },
		{ "AUTHORIZATION: Bearer abcdefghijklmnopqrstuvwxyz0123", "authorization" },
		{ "aUtHoRiZaTiOn=Bearer abcdefghijklmnopqrstuvwxyz0123", "authorization" },
	};
	static const char pad[] = "\xe7\xe8\xf0_ \xc1\xcb\xc9\xc1 -----\xc2 \xe5\xf9\xca . x";
	static const char dots[] =
		"................................................................"
		"................";
	struct redactor *r = make(true, NULL, NULL);
	char in[512], label[64];

	for (size_t t = 0; t < sizeof(tokens) / sizeof(tokens[0]); t++) {
		const char *secret = tokens[t].in + strlen(tokens[t].in) - 12;

		snprintf(label, sizeof(label), "[REDACTED:%s]", tokens[t].label);
		for (int k = 0; k < 64 + 13; k++) {
			char *out;

			snprintf(in, sizeof(in), "%.*s %s\n%s%s%s", k, dots, tokens[t].in, pad,
				 dots, pad);
			out = run(r, in, 0);
			ASSERT_TRUE(strstr(out, secret) == NULL);
			ASSERT_TRUE(strstr(out, label) != NULL);
			ASSERT_TRUE(strstr(out, pad) != NULL);
			free(out);
		}
	}
	redactor_free(r);
}

TEST(builtin_near_misses_stay)
{
	struct redactor *r = make(true, NULL, NULL);

	CHECK(r, "ghp_short and github_pat_x and glpat-abc",
	      "ghp_short and github_pat_x and glpat-abc");
	CHECK(r, "XAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX AKIAios",
	      "XAKIAIOSFODNN7EXAMPLE AKIAIOSFODNN7EXAMPLEX AKIAios");
	CHECK(r, "npm_install pypi-simple xoxb-1 eyJ.x.y",
	      "npm_install pypi-simple xoxb-1 eyJ.x.y");
	CHECK(r, "authorization failed for user bob\n", "authorization failed for user bob\n");
	CHECK(r, "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n",
	      "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n");
	redactor_free(r);
}

TEST(builtin_aws_secret_near_key_id_or_keyword)
{
	struct redactor *r = make(true, NULL, NULL);

	CHECK(r,
	      "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
	      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
	      "[default]\naws_access_key_id = [REDACTED:aws-access-key-id]\n"
	      "aws_secret_access_key = [REDACTED:aws-secret-access-key]\n");
	CHECK(r, "{\"SecretAccessKey\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}",
	      "{\"SecretAccessKey\": \"[REDACTED:aws-secret-access-key]\"}");
	CHECK(r, "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	      "AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-access-key]");
	/* Forty characters far from any key id or keyword, or a hex digest: stay. */
	CHECK(r, "commit 3f786850e387550fdab836ed7e6dc881de23001b near AKIAIOSFODNN7EXAMPLE",
	      "commit 3f786850e387550fdab836ed7e6dc881de23001b near [REDACTED:aws-access-key-id]");
	CHECK(r, "AKIAIOSFODNN7EXAMPLE 3f786850e387550fdab836ed7e6dc881de23001b",
	      "[REDACTED:aws-access-key-id] 3f786850e387550fdab836ed7e6dc881de23001b");
	CHECK(r, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	redactor_free(r);
}

TEST(builtin_private_key_blocks)
{
	struct redactor *r = make(true, NULL, NULL);

	CHECK(r,
	      "key:\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
	      "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+\nZ1E0dJbR5s2vF3c=\n"
	      "-----END RSA PRIVATE KEY-----\ndone\n",
	      "key:\n[REDACTED:private-key]\ndone\n");
	CHECK(r,
	      "{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\nkqhkiG9w0B==\\n"
	      "-----END PRIVATE KEY-----\\n\", \"x\": 1}",
	      "{\"private_key\": \"[REDACTED:private-key]\\n\", \"x\": 1}");
	/* Cut short (no END line): up to what cannot belong to it. */
	CHECK(r, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n(truncated)\n",
	      "[REDACTED:private-key]\n(truncated)\n");
	CHECK(r, "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI", "[REDACTED:private-key]");
	/* ... and no further than its last line: the output after it is not the block's. */
	CHECK(r,
	      "-----BEGIN PRIVATE "
	      "KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcwggSjAgEAAoIBAQC7\n"
	      "make: *** [all] Error 1\nnext line\n",
	      "[REDACTED:private-key]\nmake: *** [all] Error 1\nnext line\n");
	CHECK(r,
	      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcw\nline "
	      "after\nend\n",
	      "[REDACTED:private-key]\nline after\nend\n");
	/* Cut after a whole line, the next word of base64 may be its last line. */
	CHECK(r,
	      "-----BEGIN PRIVATE "
	      "KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcwggSjAgEAAoIBAQC7abcd\n"
	      "done\nmore text\n",
	      "[REDACTED:private-key]\nmore text\n");
	/* A line run into other output is taken in; a short word is not the block's. */
	CHECK(r,
	      "-----BEGIN PRIVATE "
	      "KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcwggSjAgEAAoIBAQC7!!\n",
	      "[REDACTED:private-key]!!\n");
	/* Lines of any lengths before an END line: the whole block. */
	CHECK(r,
	      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nAASCBKcw\n"
	      "ggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4abcdefghijklm\n"
	      "-----END PRIVATE KEY-----\nok\n",
	      "[REDACTED:private-key]\nok\n");
	/* Cut short inside a quoted string: the last line up to the quote is the block's. */
	CHECK(r,
	      "k=\"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nSECRETTAIL15chr\" "
	      "x\n",
	      "k=\"[REDACTED:private-key]\" x\n");
	/* A JSON string inside a JSON string: \\n separates, \\/ is a slash. */
	CHECK(r,
	      "{\"m\": \"{\\\"k\\\": \\\"-----BEGIN PRIVATE "
	      "KEY-----\\\\nMIIEvQIBA\\\\/DANBgkqhkiG9w\\\\n"
	      "0BAQEFAASC\\\\n-----END PRIVATE KEY-----\\\\n\\\"}\"}",
	      "{\"m\": \"{\\\"k\\\": \\\"[REDACTED:private-key]\\\\n\\\"}\"}");
	/* A header line longer than 128 bytes is still a header. */
	CHECK(r,
	      "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: "
	      "a comment that runs on and on and on and on and on and on and on and on and on and "
	      "on and on and on and on and on and on and on\n\nlQOYBF0t2sEBCADXQ3ZqGcq9h2Zl\n"
	      "xYkAEQEAAQ\n-----END PGP PRIVATE KEY BLOCK-----\nok\n",
	      "[REDACTED:private-key]\nok\n");
	/* Escapes of base64 characters in JSON (System.Text.Json's \\u002B, Gson's \\u003d). */
	CHECK(r,
	      "{\"key\":\"-----BEGIN PRIVATE "
	      "KEY-----\\nMIIE\\u002BvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAg"
	      "EAAoIBAQC7VJTUt9Us8cKjSECRET\\nSECRETTAIL1\\u003d\\n-----END PRIVATE KEY-----\\n\"}",
	      "{\"key\":\"[REDACTED:private-key]\\n\"}");
	/* Cut short after whole lines: a word run into other output is the key's. */
	CHECK(r,
	      "-----BEGIN PRIVATE "
	      "KEY-----"
	      "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMIIEvQIBADANBgkq"
	      "hkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nLItH6As73make: *** Error\n",
	      "[REDACTED:private-key]: *** Error\n");
	CHECK(r,
	      "-----BEGIN PRIVATE "
	      "KEY-----"
	      "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMIIEvQIBADANBgkq"
	      "hkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nABCD(truncated)\n",
	      "[REDACTED:private-key](truncated)\n");
	/* A whole line after a short one: the short one was not the last. */
	CHECK(r,
	      "-----BEGIN PRIVATE "
	      "KEY-----"
	      "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nAB\nMzEfYyjiWA4R"
	      "4abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNO\nmore\n",
	      "[REDACTED:private-key]\nmore\n");
	/* A header line with UTF-8 in it. */
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY-----\nComment: "
	      "J\xc3\xb6rg\n\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
	      "-----END RSA PRIVATE KEY-----\nok\n",
	      "[REDACTED:private-key]\nok\n");
	/* The lines as a list of strings (Python's repr, a JSON array). */
	CHECK(r,
	      "['-----BEGIN PRIVATE KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEF', 'AASCBKcw', "
	      "'-----END PRIVATE KEY-----']\n",
	      "['[REDACTED:private-key]']\n");
	CHECK(r,
	      "[\"-----BEGIN PRIVATE KEY-----\",\"MIIEvQIBADANBgkqhkiG9w0BAQEF\",\"AASCBKcw\"] x\n",
	      "[\"[REDACTED:private-key]\"] x\n");
	/* ... over lines: pprint of a dict holding the key, json.dumps(indent=2) of the lines,
	 * a YAML list. */
	CHECK(r,
	      "{'key': '-----BEGIN PRIVATE KEY-----\\n'\n        "
	      "'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n'\n        "
	      "'AQC7VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dV\\n'\n        '-----END "
	      "PRIVATE KEY-----\\n'}\n",
	      "{'key': '[REDACTED:private-key]\\n'}\n");
	CHECK(r,
	      "[\n  \"-----BEGIN PRIVATE KEY-----\",\n  "
	      "\"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\",\n  "
	      "\"AQC7VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dV\",\n  "
	      "\"-----END PRIVATE KEY-----\"\n]\n",
	      "[\n  \"[REDACTED:private-key]\"\n]\n");
	CHECK(r,
	      "key:\n- '-----BEGIN PRIVATE KEY-----'\n- "
	      "'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7'\n- "
	      "'AQC7VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dV'\n- "
	      "'-----END PRIVATE KEY-----'\n",
	      "key:\n- '[REDACTED:private-key]'\n");
	/* Not a list: a cut key in a JSON object leaves the next field alone. */
	CHECK(r,
	      "{\"key\": \"-----BEGIN PRIVATE "
	      "KEY-----"
	      "\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\nAQC7VJTUt9Us8cKjMzEfYyjiWA"
	      "4R4/M2bS1GB4t7NXp98C3SC6dV\\n\", \"user\": \"bob\"}\n",
	      "{\"key\": \"[REDACTED:private-key]\\n\", \"user\": \"bob\"}\n");
	/* A PGP block: headers, lines, the checksum line, END. */
	CHECK(r,
	      "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\nComment: a key\n\n"
	      "lQOYBF0t2sEBCADXQ3ZqGcq9h2Zl\nxYkAEQEAAQ\n=Xj5a\n-----END PGP PRIVATE KEY "
	      "BLOCK-----\nok\n",
	      "[REDACTED:private-key]\nok\n");
	redactor_free(r);
}

/* A key whose every line carries the same prefix: a diff's "+" or "-" (git's colours
 * around each line too), a comment's "# ", "// " or "; ", a quote's "> > ". */
#define PEM_B1 "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oP7DMzzn4qTqoAoGCCqGSM49"
#define PEM_B2 "AwEHoUQDQgAEtJq1c8S4ePXeJ9kXX1eCTwN1C2vEvZqy2d1mQeR3pnuYlDKW0g0u"
#define PEM_B3 "kkMuN3qbjV4GZdUqzcQ8pV+Qb1J4fJcK8w=="
#define PEM_PREFIXED(pf, tail)                                                              \
	"x\n" pf "-----BEGIN EC PRIVATE KEY-----\n" pf PEM_B1 "\n" pf PEM_B2 "\n" pf PEM_B3 \
	"\n" pf "-----END EC PRIVATE KEY-----\n" tail
#define PEM_DEK "DEK-Info: AES-128-CBC,66F6175648901A9F052F2B969B39A8FE"
#define GIT_ON "\x1b[32m+\x1b[m\x1b[32m"
#define GIT_OFF "\x1b[m\n"

TEST(builtin_private_key_line_prefixes)
{
	struct redactor *r = make(true, NULL, NULL);

	CHECK(r, PEM_PREFIXED("+", "@@ -1 +1 @@\n-old\n+new\n"),
	      "x\n+[REDACTED:private-key]\n@@ -1 +1 @@\n-old\n+new\n");
	CHECK(r, PEM_PREFIXED("-", "diff --git a/n b/n\n"),
	      "x\n-[REDACTED:private-key]\ndiff --git a/n b/n\n");
	CHECK(r, PEM_PREFIXED("# ", "# after\n"), "x\n# [REDACTED:private-key]\n# after\n");
	CHECK(r, PEM_PREFIXED("// ", "ok\n"), "x\n// [REDACTED:private-key]\nok\n");
	CHECK(r, PEM_PREFIXED("; ", "ok\n"), "x\n; [REDACTED:private-key]\nok\n");
	CHECK(r, PEM_PREFIXED("> > ", "> > after\n"), "x\n> > [REDACTED:private-key]\n> > after\n");
	CHECK(r, PEM_PREFIXED("\t# ", "ok\n"), "x\n\t# [REDACTED:private-key]\nok\n");
	/* git diff --color=always: its blank line "+" with no colour after it. */
	CHECK(r,
	      GIT_ON "-----BEGIN RSA PRIVATE KEY-----" GIT_OFF GIT_ON
		     "Proc-Type: 4,ENCRYPTED" GIT_OFF GIT_ON PEM_DEK GIT_OFF
		     "\x1b[32m+\x1b[m\n" GIT_ON PEM_B1 GIT_OFF GIT_ON PEM_B2 GIT_OFF GIT_ON
		     "-----END RSA PRIVATE KEY-----" GIT_OFF "\x1b[1mdiff\x1b[m\n",
	      GIT_ON "[REDACTED:private-key]" GIT_OFF "\x1b[1mdiff\x1b[m\n");
	/* Colour escapes as the neutraliser writes them. */
	CHECK(r,
	      "\\x1b[32m+-----BEGIN EC PRIVATE KEY-----\\x1b[m\n\\x1b[32m+" PEM_B1
	      "\\x1b[m\n\\x1b[32m+-----END EC PRIVATE KEY-----\\x1b[m\nok\n",
	      "\\x1b[32m+[REDACTED:private-key]\\x1b[m\nok\n");
	/* Headers, and a blank line written "#" for "# ". */
	CHECK(r,
	      "# -----BEGIN RSA PRIVATE KEY-----\n# Proc-Type: 4,ENCRYPTED\n"
	      "# DEK-Info: AES-128-CBC,66F6175648901A9F052F2B969B39A8FE\n#\n# " PEM_B1 "\n# " PEM_B2
	      "\n# -----END RSA PRIVATE KEY-----\nok\n",
	      "# [REDACTED:private-key]\nok\n");
	/* Cut short: the next comment after its short last line stays. */
	CHECK(r,
	      "# -----BEGIN PRIVATE KEY-----\n# MIIEvQIBADANBgkqhkiG9w0BAQEF\n# AASCBKcw\n"
	      "# next comment\n",
	      "# [REDACTED:private-key]\n# next comment\n");
	/* Cut short: a diff's context line after it, without the prefix, stays. */
	CHECK(r, "+-----BEGIN EC PRIVATE KEY-----\n+" PEM_B1 "\n+" PEM_B3 "\n context line\n",
	      "+[REDACTED:private-key]\n context line\n");
	redactor_free(r);
}

/*
 * A backslash in a block whose lines carry a prefix, not one of "\x1b": the block stops
 * there (the line runs into other text) as soon as it is seen. It was taken for a colour
 * escape whose end was still to come, so the stream held everything from the BEGIN line
 * until its end or its force limit, and a block the window then ended in was cut there.
 */
TEST(builtin_private_key_prefixed_backslash_is_not_held)
{
	static const char in[] =
		"x\n+-----BEGIN EC PRIVATE KEY-----\n+" PEM_B1
		"\n+AwEHoUQDQgAEtJq1c8S4ePXeJ9kX\\X1eCTwN1C2vEvZqy2d1mQeR3\n+" PEM_B3
		"\n+-----END EC PRIVATE KEY-----\nok\n";
	static const char want[] = "x\n+[REDACTED:private-key]\\X1eCTwN1C2vEvZqy2d1mQeR3\n+" PEM_B3
				   "\n+-----END EC PRIVATE KEY-----\nok\n";
	struct redactor *r = make(true, NULL, NULL);
	struct redact_stream *s;
	const uint8_t *p;
	size_t n;

	CHECK(r, in, want);
	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, in, strlen(in), &p, &n));
	ASSERT_EQ(redact_stream_held(s), 0);
	ASSERT_EQ(n, strlen(want));
	ASSERT_TRUE(memcmp(p, want, n) == 0);
	redact_stream_free(s);
	redactor_free(r);
}

TEST(builtin_private_key_lists_in_strings_and_flattened_headers)
{
	struct redactor *r = make(true, NULL, NULL);

	/* A list of the lines in JSON inside JSON (json.dumps twice): escaped quotes. */
	CHECK(r,
	      "\"{\\\"key\\\": [\\\"-----BEGIN PRIVATE KEY-----\\\", "
	      "\\\"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\\", "
	      "\\\"AQC7VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dV\\\", "
	      "\\\"SECRETTAIL1==\\\", "
	      "\\\"-----END PRIVATE KEY-----\\\"], \\\"user\\\": \\\"bob\\\"}\"\n",
	      "\"{\\\"key\\\": [\\\"[REDACTED:private-key]\\\"], \\\"user\\\": \\\"bob\\\"}\"\n");
	/* ... cut short: the next field stays. */
	CHECK(r,
	      "\"{\\\"key\\\": [\\\"-----BEGIN PRIVATE KEY-----\\\", "
	      "\\\"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\\", "
	      "\\\"SECRETTAIL1==\\\"], \\\"user\\\": \\\"bob\\\"}\"\n",
	      "\"{\\\"key\\\": [\\\"[REDACTED:private-key]\\\"], \\\"user\\\": \\\"bob\\\"}\"\n");
	/* ... indented: the line breaks are \n escapes too. */
	CHECK(r,
	      "\"{\\n \\\"key\\\": [\\n  \\\"-----BEGIN PRIVATE KEY-----\\\",\\n  "
	      "\\\"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\\",\\n  "
	      "\\\"AQC7VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dV\\\"\\n ]\\n}\"\n",
	      "\"{\\n \\\"key\\\": [\\n  \\\"[REDACTED:private-key]\\\"\\n ]\\n}\"\n");
	/* The quotes written \u0022 (System.Text.Json). */
	CHECK(r,
	      "[\\u0022-----BEGIN PRIVATE KEY-----\\u0022, "
	      "\\u0022MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\u0022, "
	      "\\u0022SECRETTAIL1==\\u0022] \\u0022next\\u0022\n",
	      "[\\u0022[REDACTED:private-key]\\u0022] \\u0022next\\u0022\n");

	/* Cut short and flattened (line ends taken out or made blanks), the output ending
	 * inside the headers or right after them. */
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY----- Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,0123",
	      "[REDACTED:private-key]");
	CHECK(r, "-----BEGIN RSA PRIVATE KEY-----Proc-Type: 4,ENCRYPTEDDEK-Info: AES-128-CBC,0A1B",
	      "[REDACTED:private-key]");
	CHECK(r, "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-12",
	      "[REDACTED:private-key]");
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY----- Proc-Type: 4,ENCRYPTED DEK-Info: "
	      "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF ",
	      "[REDACTED:private-key] ");
	CHECK(r, "k=\"-----BEGIN RSA PRIVATE KEY-----\\nProc-Type: 4,ENCRYPTED\\nDEK-Info: AES",
	      "k=\"[REDACTED:private-key]");
	/* Flattened with its text after the headers, then other output: that stays. */
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY----- Proc-Type: 4,ENCRYPTED DEK-Info: "
	      "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF "
	      "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9OiMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi "
	      "Z1E0dJbR5s2vF3c= (truncated)\nnext line\n",
	      "[REDACTED:private-key] (truncated)\nnext line\n");
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY-----Proc-Type: 4,ENCRYPTEDDEK-Info: "
	      "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF"
	      "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9OiMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9OiZ1E0dJ"
	      "bR5s2vF3c="
	      "\nmake: *** [all] Error 1\n",
	      "[REDACTED:private-key]\nmake: *** [all] Error 1\n");
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY-----Proc-Type: 4,ENCRYPTEDDEK-Info: "
	      "AES-128-CBC,0123456789ABCDEF0123456789ABCDEFMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi"
	      "-----END RSA PRIVATE KEY-----\nok\n",
	      "[REDACTED:private-key]\nok\n");
	/* Flattened, text after the key on its line: words of it that are not base64 stay. */
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY----- Proc-Type: 4,ENCRYPTED DEK-Info: "
	      "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF "
	      "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi Z1E0dJbR5s2vF3c= (bad decrypt) ok\nok\n",
	      "[REDACTED:private-key] (bad decrypt) ok\nok\n");
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
	      "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n"
	      "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\nZ1E0dJbR5s2vF3c=\n(truncated)\n",
	      "[REDACTED:private-key]\n(truncated)\n");
	/* A header with a comment of words stays one header. */
	CHECK(r,
	      "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: a key for the build bot\n\n"
	      "lQOYBF0t2sEBCADXQ3ZqGcq9h2Zl\nxYkAEQEAAQ\n=Xj5a\n-----END PGP PRIVATE KEY "
	      "BLOCK-----\nok\n",
	      "[REDACTED:private-key]\nok\n");
	redactor_free(r);
}

/* Forms a review found leaking or taking too much: a tab on a header line (paste -s, a
 * header written Proc-Type:<TAB>), a YAML list with only BEGIN and END quoted (PyYAML),
 * a ':' later on the line of a flattened block. */
TEST(builtin_private_key_review_forms)
{
	struct redactor *r = make(true, NULL, NULL);

	/* A tab is a blank on a header line: the whole block goes, every line of it. */
	CHECK(r,
	      "-----BEGIN EC PRIVATE KEY-----\tProc-Type: 4,ENCRYPTED\tDEK-Info: AES-256-CBC,"
	      "230F0CBCA8A3E6246979CF2768962648\t\tmQyyxMbE791dlCK9/E0pLmt9oRRDHs2hJ5yWFTN\t"
	      "1S880jevCcCiTvx9s9E8n3EZYXUJkf5AS1lYkbRo87M=\t-----END EC PRIVATE KEY-----\nok\n",
	      "[REDACTED:private-key]\nok\n");
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY-----\nProc-Type:\t4,ENCRYPTED\nDEK-Info:\tAES-128-CBC,"
	      "0123456789ABCDEF\n\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+\nZ1E0dJbR5s2vF3c=\n"
	      "-----END RSA PRIVATE KEY-----\nok\n",
	      "[REDACTED:private-key]\nok\n");
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY----- Proc-Type: 4,ENCRYPTED DEK-Info: AES-128-CBC,"
	      "0123456789ABCDEF  MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+ Z1E0dJbR5s2vF3c= "
	      "-----END RSA PRIVATE KEY----- \tok\n",
	      "[REDACTED:private-key] \tok\n");
	/* PyYAML quotes only the BEGIN and END items; block and flow style, indented. */
	CHECK(r,
	      "k:\n- '-----BEGIN PRIVATE KEY-----'\n- MIIEvQIBADANBgkqhkiG9w0BAQEF\n- AASCBKcw\n"
	      "- '-----END PRIVATE KEY-----'\nnext: visible\n",
	      "k:\n- '[REDACTED:private-key]'\nnext: visible\n");
	CHECK(r,
	      "a:\n  k:\n  - '-----BEGIN PRIVATE KEY-----'\r\n  - MIIEvQIBADANBgkqhkiG9w0BAQEF\r\n"
	      "  - AASCBKcw\r\n  - '-----END PRIVATE KEY-----'\r\n  next: visible\r\n",
	      "a:\n  k:\n  - '[REDACTED:private-key]'\r\n  next: visible\r\n");
	CHECK(r,
	      "{k: ['-----BEGIN PRIVATE KEY-----', MIIEvQIBADANBgkqhkiG9w0BAQEF,\n    AASCBKcw, "
	      "'-----END PRIVATE KEY-----'], next: visible}\n",
	      "{k: ['[REDACTED:private-key]'], next: visible}\n");
	/* The same list inside a JSON string or a repr: its line ends written \n (review). */
	CHECK(r,
	      "{\"c\": \"k:\\n- '-----BEGIN PRIVATE KEY-----'\\n- MIIEvQIBADANBgkqhkiG9w0BAQEF\\n"
	      "- AASCBKcw\\n- '-----END PRIVATE KEY-----'\\nnext: visible\\n\", \"n\": 1}\n",
	      "{\"c\": \"k:\\n- '[REDACTED:private-key]'\\nnext: visible\\n\", \"n\": 1}\n");
	CHECK(r,
	      "{'c': \"k: ['-----BEGIN PRIVATE KEY-----', MIIEvQIBADANBgkqhkiG9w0BAQEF,\\n    "
	      "AASCBKcw, '-----END PRIVATE KEY-----']\\n\"}\n",
	      "{'c': \"k: ['[REDACTED:private-key]']\\n\"}\n");
	/* Cut short: the next YAML key stays. */
	CHECK(r,
	      "k:\n- '-----BEGIN PRIVATE KEY-----'\n- MIIEvQIBADANBgkqhkiG9w0BAQEF\n- AASCBKcw\n"
	      "next: visible\n",
	      "k:\n- '[REDACTED:private-key]\nnext: visible\n");
	/* An unquoted word after the BEGIN item that is not base64 of a line is not the key's. */
	CHECK(r, "['-----BEGIN PRIVATE KEY-----', x]\n", "['[REDACTED:private-key]', x]\n");
	/* Headers with a ',' in their value stay headers in a list. */
	CHECK(r,
	      "['-----BEGIN RSA PRIVATE KEY-----', 'Proc-Type: 4,ENCRYPTED', "
	      "'DEK-Info: AES-128-CBC,0123456789ABCDEF', '', "
	      "'MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+', 'Z1E0dJbR5s2vF3c=', "
	      "'-----END RSA PRIVATE KEY-----'] ok\n",
	      "['[REDACTED:private-key]'] ok\n");
	/* A ':' later on the line of a flattened block is no header: its END line ends it. */
	CHECK(r,
	      "-----BEGIN EC PRIVATE KEY----- MHcCAQEEIIGlRHNdZ2TJ7mTyjnrc AwEHoUQDQgAE "
	      "-----END EC PRIVATE KEY-----  written at 12:00\nStep 2 of 5 done\n$ \n",
	      "[REDACTED:private-key]  written at 12:00\nStep 2 of 5 done\n$ \n");
	CHECK(r,
	      "{\"k\": \"-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEF "
	      "MIIEvQIBADANBgkqhkiG9w0BAQEF\", \"n\": 1}\nnext line\n",
	      "{\"k\": \"[REDACTED:private-key]\", \"n\": 1}\nnext line\n");
	CHECK(r,
	      "-----BEGIN EC PRIVATE KEY----- MHcCAQEEIIGlRHNdZ2TJ7mTyjnrc AwEHoUQDQgAE written at "
	      "12:00\nStep 2 of 5 done\n",
	      "[REDACTED:private-key] written at 12:00\nStep 2 of 5 done\n");
	redactor_free(r);
}

TEST(builtin_private_key_in_source_code_and_yaml_forms)
{
	struct redactor *r = make(true, NULL, NULL);

	/* A key in source code: "...\n" + at a line's end (Java, C#), + at the next line's
	 * start (JS), no \n in the literals (Go); cut short; a cut key then other strings. */
	CHECK(r,
	      "String k = \"-----BEGIN PRIVATE KEY-----\\n\" +\n"
	      "    \"MIIEvQIBADANBgkqhkiG9w0BAQEF\\n\" +\n"
	      "    \"AASCBKcw\\n\" +\n    \"-----END PRIVATE KEY-----\\n\";\n"
	      "String next = \"visible\";\n",
	      "String k = \"[REDACTED:private-key]\\n\";\nString next = \"visible\";\n");
	CHECK(r,
	      "const k = '-----BEGIN PRIVATE KEY-----\\n'\r\n  + 'MIIEvQIBADANBgkqhkiG9w0BAQEF\\n"
	      "'\r\n  + 'AASCBKcw\\n'\r\n  + '-----END PRIVATE KEY-----\\n';\r\n"
	      "const next = 'visible';\r\n",
	      "const k = '[REDACTED:private-key]\\n';\r\nconst next = 'visible';\r\n");
	CHECK(r,
	      "k := \"-----BEGIN EC PRIVATE KEY-----\" +\n\t\"MHcCAQEEIIGlRHNdZ2TJ7mTyjnrc\" +\n"
	      "\t\"AwEHoUQDQgAE\" +\n\t\"-----END EC PRIVATE KEY-----\"\nnext := \"visible\"\n",
	      "k := \"[REDACTED:private-key]\"\nnext := \"visible\"\n");
	CHECK(r,
	      "String k = \"-----BEGIN PRIVATE KEY-----\\n\" +\n"
	      "    \"MIIEvQIBADANBgkqhkiG9w0BAQEF\\n\" +\n"
	      "    \"MIIEvQIBADANBgkqhkiG9w0BAQEF\\n\";\nString next = \"visible\";\n",
	      "String k = \"[REDACTED:private-key]\\n\";\nString next = \"visible\";\n");
	CHECK(r,
	      "log(\"-----BEGIN PRIVATE KEY-----\\n\" + \"MIIEvQIBADANBgkqhkiG9w0BAQEF\\n"
	      "\" + user + \"visible\");\n",
	      "log(\"[REDACTED:private-key]\\n\" + user + \"visible\");\n");
	/* Adjacent literals (C), a line ended with a backslash (Python, shell, TOML """). */
	CHECK(r,
	      "static const char k[] =\n\t\"-----BEGIN PRIVATE KEY-----\\n\"\n"
	      "\t\"MIIEvQIBADANBgkqhkiG9w0BAQEF\\n\"\n\t\"AASCBKcw\\n\"\n"
	      "\t\"-----END PRIVATE KEY-----\\n\";\nconst char *next = \"visible\";\n",
	      "static const char k[] =\n\t\"[REDACTED:private-key]\\n\";\n"
	      "const char *next = \"visible\";\n");
	CHECK(r,
	      "K = \"-----BEGIN PRIVATE KEY-----\\n\" \\\n    \"MIIEvQIBADANBgkqhkiG9w0BAQEF\\n"
	      "\" \\\n    \"AASCBKcw\\n\" \\\n    \"-----END PRIVATE KEY-----\\n\"\n"
	      "NEXT = \"visible\"\n",
	      "K = \"[REDACTED:private-key]\\n\"\nNEXT = \"visible\"\n");
	CHECK(r,
	      "KEY=\"-----BEGIN PRIVATE KEY-----\\n\\\nMIIEvQIBADANBgkqhkiG9w0BAQEF\\n\\\n"
	      "AASCBKcw\\n"
	      "\\\n-----END PRIVATE KEY-----\\n\"\necho visible\n",
	      "KEY=\"[REDACTED:private-key]\\n\"\necho visible\n");
	CHECK(r,
	      "KEY=\"-----BEGIN PRIVATE KEY-----\\n\\\nMIIEvQIBADANBgkqhkiG9w0BAQEF\\n\\\n"
	      "MIIEvQIBADANBgkqhkiG9w0BAQEF\\n\"\necho visible\n",
	      "KEY=\"[REDACTED:private-key]\\n\"\necho visible\n");
	CHECK(r,
	      "key = \"\"\"\\\n-----BEGIN RSA PRIVATE KEY-----\\n\\\nProc-Type: 4,ENCRYPTED\\n\\\n"
	      "DEK-Info: AES-128-CBC,0123456789ABCDEF\\n\\\n\\n\\\n"
	      "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+\\n\\\nZ1E0dJbR5s2vF3c=\\n\\\n"
	      "-----END RSA PRIVATE KEY-----\\n\\\n\"\"\"\nnext = \"visible\"\n",
	      "key = \"\"\"\\\n[REDACTED:private-key]\\n\\\n\"\"\"\nnext = \"visible\"\n");
	/* YAML items after "-\t", an empty item ("-": a blank line) in a list cut short. */
	CHECK(r,
	      "k:\n-\t'-----BEGIN PRIVATE KEY-----'\n-\tMIIEvQIBADANBgkqhkiG9w0BAQEF\n-\tAASCBKcw\n"
	      "-\t'-----END PRIVATE KEY-----'\nnext: visible\n",
	      "k:\n-\t'[REDACTED:private-key]'\nnext: visible\n");
	CHECK(r,
	      "k:\n- '-----BEGIN RSA PRIVATE KEY-----'\n- 'Proc-Type: 4,ENCRYPTED'\n"
	      "- 'DEK-Info: AES-128-CBC,0123456789ABCDEF'\n-\n"
	      "- MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+\n"
	      "- MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+\nname: visible\nitems:\n"
	      "- visibleVisibleVisible\n",
	      "k:\n- '[REDACTED:private-key]: visible\nitems:\n- visibleVisibleVisible\n");
	/* Blanks between a header's name and its colon; "-x" makes no YAML item. */
	CHECK(r,
	      "-----BEGIN RSA PRIVATE KEY-----\nProc-Type\t: 4,ENCRYPTED\n"
	      "DEK-Info\t: AES-128-CBC,0123456789ABCDEF\n\n"
	      "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+\n"
	      "Z1E0dJbR5s2vF3c=\n-----END RSA PRIVATE KEY-----\nnext: visible\n",
	      "[REDACTED:private-key]\nnext: visible\n");
	CHECK(r, "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-x not an item\n",
	      "[REDACTED:private-key]\n-x not an item\n");
	/* Inside a JSON string: "-\t" items, a key's lines joined with tabs (\t, \u0009). */
	CHECK(r,
	      "{\"c\": \"k:\\n-\\t'-----BEGIN PRIVATE KEY-----'\\n"
	      "-\\tMIIEvQIBADANBgkqhkiG9w0BAQEF\\n"
	      "-\\n-\\tAASCBKcw\\nnext: visible\\n\", \"n\": 1}\n",
	      "{\"c\": \"k:\\n-\\t'[REDACTED:private-key]\\nnext: visible\\n\", \"n\": 1}\n");
	CHECK(r,
	      "{\"k\": \"-----BEGIN PRIVATE KEY-----\\tMIIEvQIBADANBgkqhkiG9w0BAQEF\\t"
	      "AASCBKcw\\t-----END PRIVATE KEY-----\", \"n\": \"visible\"}\n",
	      "{\"k\": \"[REDACTED:private-key]\", \"n\": \"visible\"}\n");
	CHECK(r,
	      "{\"k\": \"-----BEGIN PRIVATE KEY-----\\tMIIEvQIBADANBgkqhkiG9w0BAQEF\\t"
	      "MIIEvQIBADANBgkqhkiG9w0BAQEF\", \"n\": \"visible\"}\n",
	      "{\"k\": \"[REDACTED:private-key]\", \"n\": \"visible\"}\n");
	CHECK(r,
	      "{\"k\": \"-----BEGIN EC PRIVATE KEY-----\\u0009MHcCAQEEIIGlRHNdZ2TJ7mTyjnrc"
	      "\\u0009AwEHoUQDQgAE\\u0009-----END EC PRIVATE KEY-----\", \"n\": \"visible\"}\n",
	      "{\"k\": \"[REDACTED:private-key]\", \"n\": \"visible\"}\n");
	redactor_free(r);
}

/* A block of lines of 64 base64 characters, n bytes of them in all, as PGP writes one. */
static char *long_key_block(size_t n, const char *sep, const char *end)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct out o = {};
	uint32_t x = 12345;

	out_put(&o, (const uint8_t *)"-----BEGIN PGP PRIVATE KEY BLOCK-----", 37);
	out_put(&o, (const uint8_t *)sep, strlen(sep));
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		out_put(&o, (const uint8_t *)&b64[(x >> 16) & 63], 1);
		if (i % 64 == 63)
			out_put(&o, (const uint8_t *)sep, strlen(sep));
	}
	out_put(&o, (const uint8_t *)sep, strlen(sep));
	out_put(&o, (const uint8_t *)end, strlen(end));
	return o.s;
}

/* Blocks past REDACT_BUILTIN_MAX (a PGP key with subkeys): redacted to their end, one
 * label, the hold still bounded; what follows stays. */
TEST(builtin_private_key_longer_than_a_step)
{
	struct redactor *r = make(true, NULL, NULL);
	static const size_t chunks[] = { 0, 4096, 1000, 333 };

	ASSERT_STREQ(redactor_rule_name(r, 7), "private-key");
	static const struct {
		const char *sep, *end, *want;
	} cases[] = {
		{ "\n", "=Xj5a\n-----END PGP PRIVATE KEY BLOCK-----\nok after\n",
		  "[REDACTED:private-key]\nok after\n" },
		{ "\n", "=Xj5a\nmake: *** [all] Error 1\n",
		  "[REDACTED:private-key]\nmake: *** [all] Error 1\n" },
		{ "\n", "", "[REDACTED:private-key]\n\n" },
		{ "\\n", "-----END PGP PRIVATE KEY BLOCK-----\\n\", \"user\": \"bob\"}",
		  "[REDACTED:private-key]\\n\", \"user\": \"bob\"}" },
		/* flattened with blanks (echo $KEY): the line is the block's, to what is not */
		{ " ", "(truncated) next\nline after\n",
		  "[REDACTED:private-key]  (truncated) next\nline after\n" },
		{ " ", "-----END PGP PRIVATE KEY BLOCK----- x\n", "[REDACTED:private-key] x\n" },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			char *in =
				long_key_block(3 * REDACT_BUILTIN_MAX, cases[c].sep, cases[c].end);
			size_t len = strlen(in), chunk = chunks[k] ? chunks[k] : len, n;
			struct redact_stream *s;
			struct out o = {};
			const uint8_t *p;

			ASSERT_OK(redact_stream_new(r, &s));
			out_put(&o, (const uint8_t *)"", 0);
			for (size_t i = 0; i < len; i += chunk) {
				ASSERT_OK(redact_stream_feed(
					s, in + i, len - i < chunk ? len - i : chunk, &p, &n));
				out_put(&o, p, n);
				ASSERT_TRUE(redact_stream_held(s) <= redactor_hold_max(r) + chunk);
			}
			ASSERT_OK(redact_stream_finish(s, &p, &n));
			out_put(&o, p, n);
			if (strcmp(o.s, cases[c].want) != 0)
				printf("#   case %zu chunk %zu: got \"%.200s\"\n", c, chunk, o.s);
			ASSERT_STREQ(o.s, cases[c].want);
			ASSERT_EQ(redact_stream_count(s, 7), 1);
			redact_stream_free(s);
			free(o.s);
			free(in);
		}
	redactor_free(r);
}

TEST(builtin_authorization_values)
{
	struct redactor *r = make(true, NULL, NULL);
	struct redact_stream *s;
	struct out o = {};
	const uint8_t *p;
	size_t n;

	CHECK(r, "> Authorization: Bearer abc.def-ghi\r\n> Accept: */*\r\n",
	      "> Authorization: Bearer [REDACTED:authorization]\r\n> Accept: */*\r\n");
	CHECK(r, "authorization: Basic dXNlcjpwYXNz\n",
	      "authorization: Basic [REDACTED:authorization]\n");
	CHECK(r, "{\"Authorization\": \"token 0123456789\", \"x\": 1}",
	      "{\"Authorization\": \"token [REDACTED:authorization]\", \"x\": 1}");
	CHECK(r, "headers={'authorization': 'sk-live-0123456789'}",
	      "headers={'authorization': '[REDACTED:authorization]'}");
	CHECK(r, "Proxy-Authorization:NTLM TlRMTVNTUAABAAAA\n",
	      "Proxy-Authorization:NTLM [REDACTED:authorization]\n");
	CHECK(r, "AUTHORIZATION=opaque-value", "AUTHORIZATION=[REDACTED:authorization]");
	/* A one-token scheme's credential ends with the token (xtrace of curl -H '...'); a
	 * value that is not one token goes to the end of its line, a quote around the whole
	 * header or not (the outer quote may be the value's own). */
	CHECK(r, "+ curl -H 'Authorization: token ghx0123456789' https://x.test/a\n",
	      "+ curl -H 'Authorization: token [REDACTED:authorization]' https://x.test/a\n");
	CHECK(r, "Authorization: Bearer  abc.def, realm=x\n",
	      "Authorization: Bearer  [REDACTED:authorization], realm=x\n");
	CHECK(r, "curl -H 'authorization: opaque 01234567' https://x.test\n",
	      "curl -H 'authorization: [REDACTED:authorization]\n");
	CHECK(r, "msg=\"Authorization: Digest username=\"u\", response=\"6629fae4\"\" y\n",
	      "msg=\"Authorization: Digest [REDACTED:authorization]\n");
	/* A blank inside the credential: the whole value. */
	CHECK(r, "Authorization: Bearer abc def ghi\n",
	      "Authorization: Bearer [REDACTED:authorization]\n");
	/* A header in JSON inside JSON. */
	CHECK(r, "{\"msg\": \"{\\\"Authorization\\\": \\\"Bearer abc.def\\\"}\"}",
	      "{\"msg\": \"{\\\"Authorization\\\": \\\"Bearer [REDACTED:authorization]\\\"}\"}");
	/* Quotes written \u0022 or \u0027 (System.Text.Json), the next field stays. */
	CHECK(r,
	      "{\\u0022Authorization\\u0022: \\u0022Bearer abc.def-123\\u0022, \\u0022next\\u0022: "
	      "1}\n",
	      "{\\u0022Authorization\\u0022: \\u0022Bearer [REDACTED:authorization]\\u0022, "
	      "\\u0022next\\u0022: 1}\n");
	CHECK(r, "{\\u0027authorization\\u0027: \\u0027opaque value 1\\u0027, \\u0027x\\u0027: 2}",
	      "{\\u0027authorization\\u0027: \\u0027[REDACTED:authorization]\\u0027, "
	      "\\u0027x\\u0027: 2}");
	/* ... in JSON inside JSON: \\u0022. */
	CHECK(r, "\"{\\\\u0022Authorization\\\\u0022: \\\\u0022Basic dXNlcjpw\\\\u0022}\"",
	      "\"{\\\\u0022Authorization\\\\u0022: \\\\u0022Basic "
	      "[REDACTED:authorization]\\\\u0022}\"");
	/* Parameters, quoted tokens, empty tokens: the whole value. */
	CHECK(r, "Authorization: Token token=\"9944b09199c62bcf9418ad846dd0e4bb\", nonce=\"x\"\n",
	      "Authorization: Token [REDACTED:authorization]\n");
	CHECK(r, "Authorization: Bearer \"eyJhbGciOiJIUzI1NiJ9.e30.abc\"\n",
	      "Authorization: Bearer [REDACTED:authorization]\n");
	CHECK(r, "Authorization: Basic ,dXNlcjpwYXNz\n",
	      "Authorization: Basic [REDACTED:authorization]\n");
	/* Only a quote written as the opening one closes the value: an escaped or \u0022
	 * quote inside a plainly quoted value is the value's (review). */
	CHECK(r, "{\"Authorization\": \"Token token=\\u0022abcDEF0123456789\\u0022\", \"n\": 1}",
	      "{\"Authorization\": \"Token [REDACTED:authorization]\", \"n\": 1}");
	CHECK(r, "{\"Authorization\": \"Token token=\\\"abcDEF0123456789\\\"\", \"n\": 1}",
	      "{\"Authorization\": \"Token [REDACTED:authorization]\", \"n\": 1}");
	CHECK(r,
	      "\"{\\\"Authorization\\\": \\\"Token t=\\\\\\\"abcDEF0123456789\\\\\\\"\\\", "
	      "\\\"n\\\": 1}\"",
	      "\"{\\\"Authorization\\\": \\\"Token [REDACTED:authorization]\\\", \\\"n\\\": 1}\"");
	/* A quote escaped one level deeper inside a \u0022-quoted value is the value's
	 * (\\\u0022: System.Text.Json of a JSON string), one and two levels down (review). */
	CHECK(r,
	      "{\"x\": \"{\\u0022Authorization\\u0022: \\u0022Token "
	      "t=\\\\\\u0022S3cr3tT0ken01\\\\\\u0022\\u0022}\"}",
	      "{\"x\": \"{\\u0022Authorization\\u0022: \\u0022Token "
	      "[REDACTED:authorization]\\u0022}\"}");
	/* ... and a doubled backslash before a plain quote leaves it closing (the value ends
	 * before the backslashes). */
	CHECK(r, "{\"Authorization\": \"Digest x=\\\\\", \"n\": 1}",
	      "{\"Authorization\": \"Digest [REDACTED:authorization]\\\\\", \"n\": 1}");
	/* A header in a curl command line inside JSON: the token ends at its escaped quote. */
	CHECK(r,
	      "{\"cmd\": \"curl -H \\u0027Authorization: Bearer abcDEF0123456789\\u0027 "
	      "https://x.test/y\", \"n\": 1}\n",
	      "{\"cmd\": \"curl -H \\u0027Authorization: Bearer [REDACTED:authorization]\\u0027 "
	      "https://x.test/y\", \"n\": 1}\n");
	CHECK(r,
	      "{\"cmd\": \"curl -H \\\"Authorization: Bearer abcDEF0123456789\\\" "
	      "https://x.test/y\", \"n\": 1}\n",
	      "{\"cmd\": \"curl -H \\\"Authorization: Bearer [REDACTED:authorization]\\\" "
	      "https://x.test/y\", \"n\": 1}\n");
	/* An escaped line end inside a quoted parameter is the parameter's (a backslash in a
	 * Windows user name), raw and in a JSON string; outside one it still ends the value
	 * (review). */
	CHECK(r,
	      "> Authorization: Digest username=\"CORP\\nick\", response=\"S3cr3tT0ken0123\"\r\n"
	      "> Accept: */*\r\n",
	      "> Authorization: Digest [REDACTED:authorization]\r\n> Accept: */*\r\n");
	CHECK(r,
	      "{\"msg\": \"> Authorization: Digest username=\\\"CORP\\\\nick\\\", "
	      "response=\\\"S3cr3tT0ken0123\\\"\\n> Accept: */*\"}\n",
	      "{\"msg\": \"> Authorization: Digest [REDACTED:authorization]\\n> Accept: */*\"}\n");
	CHECK(r,
	      "{\"Authorization\": \"Digest username=\\\"CORP\\\\nick\\\", "
	      "response=\\\"S3cr3tT0ken0123\\\"\", \"n\": 1}\n",
	      "{\"Authorization\": \"Digest [REDACTED:authorization]\", \"n\": 1}\n");
	/* ... and a literal backslash before n in a quoted value is the value's. */
	CHECK(r, "{\"Authorization\": \"Bearer abc\\\\nS3cr3tT0ken0123\", \"n\": 1}\n",
	      "{\"Authorization\": \"Bearer [REDACTED:authorization]\", \"n\": 1}\n");
	/* A layer that escapes backslashes but not the quote (a Python repr of JSON): \\"
	 * would close the value, but it comes again on the line, so the two are a
	 * parameter's quotes (review). */
	CHECK(r,
	      "{'b': '{\"Authorization\": \"Digest username=\\\\\"bob\\\\\", "
	      "response=\\\\\"S3cr3tT0ken0123\\\\\"\"}', 'n': 1}\n",
	      "{'b': '{\"Authorization\": \"Digest [REDACTED:authorization]\"}', 'n': 1}\n");
	CHECK(r, "{'b': '{\"Authorization\": \"Bearer \\\\\"S3cr3tT0ken0123\\\\\"\"}', 'n': 1}\n",
	      "{'b': '{\"Authorization\": \"Bearer [REDACTED:authorization]\"}', 'n': 1}\n");
	/* ... one that does not come again closes the value only where a close may (as the
	 * doubled backslash above); before a token it does not. */
	CHECK(r,
	      "{'b': '{\"Authorization\": \"Digest response=\\\\\"S3cr3tT0ken0123\"}', 'n': 1}\n",
	      "{'b': '{\"Authorization\": \"Digest [REDACTED:authorization]\"}', 'n': 1}\n");
	/* A doubled closing quote is the value's (YAML single quotes), plain or \u0027. */
	CHECK(r, "Authorization: 'Token token=''S3cr3tT0ken0123'''\nnext: visible\n",
	      "Authorization: 'Token [REDACTED:authorization]'\nnext: visible\n");
	CHECK(r,
	      "{\"x\": \"{\\u0027Authorization\\u0027: \\u0027Token token=\\u0027\\u0027"
	      "S3cr3tT0ken0123\\u0027\\u0027\\u0027\\nnext: 1\\u0027}\"}\n",
	      "{\"x\": \"{\\u0027Authorization\\u0027: \\u0027Token [REDACTED:authorization]"
	      "\\u0027\\nnext: 1\\u0027}\"}\n");
	redactor_free(r);

	/* The header's value ends with what may start a registered value ("f"): held from
	 * the header name, not from the value, so that the next write still finds it. */
	r = make(true, "v", "fZ9qK2mXw7Lp3");
	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, "Authorization: Bearer abc.def\n", 30, &p, &n));
	out_put(&o, p, n);
	ASSERT_OK(redact_stream_feed(s, "ok\n", 3, &p, &n));
	out_put(&o, p, n);
	ASSERT_OK(redact_stream_finish(s, &p, &n));
	out_put(&o, p, n);
	ASSERT_STREQ(o.s, "Authorization: Bearer [REDACTED:authorization]\nok\n");
	free(o.s);
	redact_stream_free(s);
	redactor_free(r);
}

TEST(user_patterns)
{
	struct redactor *r;
	struct redact_stream *s;
	const uint8_t *p;
	size_t n;

	ASSERT_OK(redactor_new(false, &r));
	ASSERT_OK(redactor_add_pattern(r, "ticket", "TICKET-[0-9]{6}", NULL));
	ASSERT_OK(redactor_add_pattern(r, "password-field", "(?i)(?<=password=)\\S+", NULL));
	ASSERT_OK(redactor_add_pattern(r, "line", "^SECRET .*$", NULL));
	ASSERT_OK(redactor_compile(r));
	CHECK(r, "see TICKET-123456, TICKET-12345.", "see [REDACTED:ticket], TICKET-12345.");
	CHECK(r, "url?Password=hunter2 next", "url?Password=[REDACTED:password-field] next");
	CHECK(r, "a\nSECRET one two\nb SECRET no\n", "a\n[REDACTED:line]\nb SECRET no\n");

	/* A partial match is held, then completed. */
	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, "id TICKET-12", 12, &p, &n));
	ASSERT_EQ(n, 3);
	ASSERT_OK(redact_stream_feed(s, "3456 ok", 7, &p, &n));
	ASSERT_TRUE(n == 20 && memcmp(p, "[REDACTED:ticket] ok", n) == 0);
	ASSERT_EQ(redact_stream_count(s, 0), 1);
	redact_stream_free(s);
	redactor_free(r);
}

TEST(user_pattern_hold_is_bounded)
{
	struct redactor *r;
	struct redact_stream *s;
	const uint8_t *p;
	size_t n, total = 0;
	char chunk[1024];

	ASSERT_OK(redactor_new(false, &r));
	ASSERT_OK(redactor_add_pattern(r, "long", "BEGIN[a-z]*END", NULL));
	ASSERT_OK(redactor_compile(r));
	ASSERT_OK(redact_stream_new(r, &s));
	ASSERT_OK(redact_stream_feed(s, "BEGIN", 5, &p, &n));
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 8; i++) {
		ASSERT_OK(redact_stream_feed(s, chunk, sizeof(chunk), &p, &n));
		total += n;
		ASSERT_TRUE(redact_stream_held(s) <= REDACT_PATTERN_HOLD + sizeof(chunk));
	}
	ASSERT_TRUE(total > 0);
	redact_stream_free(s);
	redactor_free(r);
}

TEST_MAIN_SIMD();
