/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A tiny TAP producer for unit tests. Each TEST(name) { ... } registers a case; main()
 * comes from TEST_MAIN(). An ASSERT_* failure prints a diagnostic and fails the case.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(bool *failed);
};

#define TEST_MAX_CASES 512
extern struct test_case test_cases[TEST_MAX_CASES];
extern size_t test_n_cases;
/* Set by TEST_SKIP(): the current case is reported "ok N - name # SKIP reason". */
extern char test_skip_reason[256];

/* Skips the current case; only for a kernel feature or privilege that is truly absent. */
#define TEST_SKIP(...)                                                             \
	do {                                                                       \
		snprintf(test_skip_reason, sizeof(test_skip_reason), __VA_ARGS__); \
		return;                                                            \
	} while (0)

#define TEST(n)                                                                          \
	static void test_##n(bool *test_failed_);                                        \
	__attribute__((constructor)) static void test_register_##n(void)                 \
	{                                                                                \
		if (test_n_cases < TEST_MAX_CASES)                                       \
			test_cases[test_n_cases++] = (struct test_case){ #n, test_##n }; \
	}                                                                                \
	static void test_##n(bool *test_failed_)

#define TEST_FAIL_(fmt, ...)                                                     \
	do {                                                                     \
		printf("#   %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__); \
		*test_failed_ = true;                                            \
		return;                                                          \
	} while (0)

#define ASSERT_TRUE(e)                                       \
	do {                                                 \
		if (!(e))                                    \
			TEST_FAIL_("expected true: %s", #e); \
	} while (0)
#define ASSERT_FALSE(e) ASSERT_TRUE(!(e))
#define ASSERT_EQ(a, b)                                                     \
	do {                                                                \
		intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);            \
		if (a_ != b_)                                               \
			TEST_FAIL_("%s == %s: %jd != %jd", #a, #b, a_, b_); \
	} while (0)
#define ASSERT_OK(e)                                                         \
	do {                                                                 \
		intmax_t r_ = (intmax_t)(e);                                 \
		if (r_ < 0)                                                  \
			TEST_FAIL_("%s failed: %s", #e, strerror((int)-r_)); \
	} while (0)
#define ASSERT_ERROR(e, err)                                                   \
	do {                                                                   \
		intmax_t r_ = (intmax_t)(e);                                   \
		if (r_ != -(intmax_t)(err))                                    \
			TEST_FAIL_("%s: expected -%s, got %jd", #e, #err, r_); \
	} while (0)
#define ASSERT_STREQ(a, b)                                                                   \
	do {                                                                                 \
		const char *a_ = (a), *b_ = (b);                                             \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                                       \
			TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", \
				   b_ ? b_ : "(null)");                                      \
	} while (0)
#define ASSERT_CONTAINS(hay, needle)                                                          \
	do {                                                                                  \
		const char *h_ = (hay), *n_ = (needle);                                       \
		if (!h_ || !strstr(h_, n_))                                                   \
			TEST_FAIL_("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); \
	} while (0)

/*
 * The test program's main(): every case once per variant (e.g. per vector level of the
 * CPU): variant(k, &name, &skip) sets the variant up and names it; a non-NULL skip reports
 * its cases as skipped with that reason. The TAP name is "case [name]", or "case" when the
 * name is NULL. variant(n, ...) is called once after the last to restore the default.
 *
 * stdout is line-buffered, each TAP line written as printed: a pipe (meson's) is otherwise
 * fully buffered, flushed only by exit() after its atexit handlers, and LeakSanitizer's
 * check is one of those, ending the program with _exit() or abort() when it finds a leak,
 * as do a sanitizer's error and a crash: a failing case that also leaked lost every line
 * that said which case failed.
 */
#define TEST_MAIN_VARIANTS(n_variants, variant)                                                  \
	struct test_case test_cases[TEST_MAX_CASES];                                             \
	size_t test_n_cases;                                                                     \
	char test_skip_reason[256];                                                              \
	int main(void)                                                                           \
	{                                                                                        \
		int failures = 0;                                                                \
		size_t n = 0;                                                                    \
		const char *vname, *vskip;                                                       \
		setvbuf(stdout, NULL, _IOLBF, 0); /* see above */                                \
		printf("1..%zu\n", test_n_cases *(size_t)(n_variants));                          \
		for (size_t k = 0; k < (size_t)(n_variants); k++) {                              \
			vskip = NULL;                                                            \
			variant(k, &vname, &vskip);                                              \
			for (size_t i = 0; i < test_n_cases; i++) {                              \
				bool failed = false;                                             \
				snprintf(test_skip_reason, sizeof(test_skip_reason), "%s",       \
					 vskip ? vskip : "");                                    \
				if (!vskip)                                                      \
					test_cases[i].fn(&failed);                               \
				printf("%s %zu - %s%s%s%s%s%s\n", failed ? "not ok" : "ok", ++n, \
				       test_cases[i].name, vname ? " [" : "", vname ?: "",       \
				       vname ? "]" : "", test_skip_reason[0] ? " # SKIP " : "",  \
				       test_skip_reason);                                        \
				failures += failed;                                              \
			}                                                                        \
		}                                                                                \
		variant((size_t)(n_variants), &vname, &vskip);                                   \
		return failures ? 1 : 0;                                                         \
	}

/* One run of every case, no variants. */
static inline void test_no_variant(size_t k, const char **name, const char **skip)
{
	(void)k;
	(void)skip;
	*name = NULL;
}

#define TEST_MAIN() TEST_MAIN_VARIANTS(1, test_no_variant)
