/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-stream output filter: redaction then neutralisation, the caller's and the log's
 * parts, a partial secret at the end, the quiet flush. */
#include <stdlib.h>
#include <string.h>

#include "output-filter.h"
#include "redact.h"
#include "simd-levels.h"
#include "test.h"

#define VALUE "s3cr3tPassw0rd!"

struct sink {
	char caller[4096], log[4096];
	size_t caller_len, log_len;
};

static void take(struct sink *k, const struct output_filter_out *o)
{
	memcpy(k->caller + k->caller_len, o->caller, o->caller_len);
	k->caller_len += o->caller_len;
	k->caller[k->caller_len] = '\0';
	memcpy(k->log + k->log_len, o->log, o->log_len);
	k->log_len += o->log_len;
	k->log[k->log_len] = '\0';
}

static struct redactor *new_redactor(void)
{
	struct redactor *r = NULL;

	if (redactor_new(true, &r) < 0 || redactor_add_value(r, "tok", VALUE, strlen(VALUE)) < 0 ||
	    redactor_compile(r) < 0)
		abort();
	return r;
}

/* Feeds in, byte by byte when bytewise, then finishes. */
static void run(bool raw, const char *in, bool bytewise, struct sink *k, uint64_t *count)
{
	struct redactor *r = new_redactor();
	struct output_filter *f = NULL;
	struct output_filter_out o;
	size_t len = strlen(in);

	memset(k, 0, sizeof(*k));
	if (output_filter_new(r, raw, &f) < 0)
		abort();
	for (size_t i = 0; i < len; i += bytewise ? 1 : len) {
		if (output_filter_feed(f, in + i, bytewise ? 1 : len, &o) < 0)
			abort();
		take(k, &o);
	}
	if (output_filter_finish(f, &o) < 0)
		abort();
	take(k, &o);
	*count = output_filter_count(f, redactor_n_rules(r) - 1);
	output_filter_free(f);
	redactor_free(r);
}

TEST(neutral_caller_and_log_are_redacted_and_neutralised)
{
	const char *in = "a \x1b[31m" VALUE "\x1b[0m b \xc2\x9b\n";
	const char *want = "a \\x1b[31m[REDACTED:tok]\\x1b[0m b \\u009b\n";
	struct sink k;
	uint64_t n;

	for (int bytewise = 0; bytewise < 2; bytewise++) {
		run(false, in, bytewise, &k, &n);
		ASSERT_STREQ(k.caller, want);
		ASSERT_STREQ(k.log, want);
		ASSERT_EQ(n, 1u);
	}
}

TEST(raw_caller_is_redacted_only_the_log_still_neutralised)
{
	const char *in = "x \x1b[8m" VALUE " y\x07\n";
	struct sink k;
	uint64_t n;

	for (int bytewise = 0; bytewise < 2; bytewise++) {
		run(true, in, bytewise, &k, &n);
		ASSERT_STREQ(k.caller, "x \x1b[8m[REDACTED:tok] y\x07\n");
		ASSERT_STREQ(k.log, "x \\x1b[8m[REDACTED:tok] y\\x07\n");
	}
}

TEST(a_partial_value_at_the_end_is_redacted_at_finish)
{
	struct sink k;
	uint64_t n;

	run(false, "last: s3cr3tPa", true, &k, &n);
	ASSERT_STREQ(k.caller, "last: [REDACTED:tok]");
	ASSERT_STREQ(k.log, "last: [REDACTED:tok]");
}

TEST(flush_lets_a_short_held_prefix_out_and_the_rest_is_still_redacted)
{
	struct redactor *r = new_redactor();
	struct output_filter *f = NULL;
	struct output_filter_out o;
	struct sink k = {};

	ASSERT_OK(output_filter_new(r, false, &f));
	ASSERT_OK(output_filter_feed(f, "code: s3c", 9, &o));
	take(&k, &o);
	ASSERT_TRUE(output_filter_held(f) > 0);
	ASSERT_OK(output_filter_flush(f, &o));
	take(&k, &o);
	ASSERT_STREQ(k.caller, "code: s3c");
	ASSERT_EQ(output_filter_held(f), 0u);
	ASSERT_OK(output_filter_feed(f, "r3tPassw0rd!\n", 13, &o));
	take(&k, &o);
	ASSERT_OK(output_filter_finish(f, &o));
	take(&k, &o);
	ASSERT_TRUE(strstr(k.caller, "r3tPassw0rd") == NULL);
	ASSERT_TRUE(output_filter_is_finished(f));
	ASSERT_TRUE(output_filter_feed(f, "x", 1, &o) == -EINVAL);
	output_filter_free(f);
	redactor_free(r);
}

TEST(input_read_into_the_space_is_filtered_in_place_as_a_copied_one)
{
	const char *in = "a \x1b[31m" VALUE "\x1b[0m b, then " VALUE " and s3cr3tPa";
	struct redactor *r = new_redactor();
	struct output_filter *f = NULL;
	struct output_filter_out o;
	struct sink k = {}, want;
	uint64_t n;

	run(false, in, false, &want, &n);
	ASSERT_OK(output_filter_new(r, false, &f));
	/* Cut inside the values: what is held stays before the space the next read gets. */
	for (size_t i = 0, len = strlen(in), step = 7; i < len; i += step) {
		size_t take_n = len - i < step ? len - i : step;
		char *space = output_filter_space(f, take_n);

		ASSERT_TRUE(space != NULL);
		memcpy(space, in + i, take_n);
		ASSERT_OK(output_filter_feed(f, space, take_n, &o));
		take(&k, &o);
	}
	ASSERT_OK(output_filter_finish(f, &o));
	take(&k, &o);
	ASSERT_STREQ(k.caller, want.caller);
	ASSERT_STREQ(k.log, want.log);
	ASSERT_TRUE(strstr(k.caller, "s3cr3t") == NULL);
	ASSERT_TRUE(output_filter_space(f, 1) == NULL);
	output_filter_free(f);
	redactor_free(r);
}

/* Coloured build output long enough for the neutraliser's 64-byte blocks, with the value,
 * dense escapes and UTF-8 (a C1 control among it) at shifting offsets, fed at once and byte
 * by byte: this level's caller and log parts are the plain level's. */
TEST(long_coloured_output_is_neutralised_as_at_the_plain_level)
{
	static const char *const parts[] = {
		"../src/net/socket.c:12:7: \x1b[1;35mwarning:\x1b[0m unused "
		"\xe2\x80\x98len\xe2\x80\x99\n",
		"tests/test_io.py::test_read \x1b[32mPASSED\x1b[0m     [ 12%]\n",
		"\x1b\x1b\x01\x7f\x1b[K\x1b[2J",
		"x \xc2\x9b"
		"31m \xe2\x80\xae y\n",
		"export TOKEN=" VALUE "\n",
	};
	char in[900];
	size_t len = 0;

	for (size_t k = 0; len < 700; k++) {
		const char *part = parts[(k * 7 + k / 5) % 5];

		memcpy(in + len, part, strlen(part));
		len += strlen(part);
		in[len++] = (char)('a' + k % 26); /* shift the next part by one */
	}
	in[len] = '\0';
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		enum simd_level level = simd_level();
		struct sink got, want;
		uint64_t n, n_plain;

		run(false, in, bytewise, &got, &n);
		simd_level_cap(SIMD_PLAIN);
		run(false, in, bytewise, &want, &n_plain);
		simd_level_cap(level);
		ASSERT_STREQ(got.caller, want.caller);
		ASSERT_STREQ(got.log, want.log);
		ASSERT_TRUE(strstr(got.log, VALUE) == NULL);
		ASSERT_TRUE(strstr(got.log, "\\x1b[1;35mwarning:\\x1b[0m") != NULL);
		ASSERT_EQ(n, n_plain);
	}
}

TEST_MAIN_SIMD();
