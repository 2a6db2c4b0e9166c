/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The redactor: replaces registered secret values, in the forms a task is likely to print
 * them in, and well-known token shapes with "[REDACTED:<name>]", on a stream.
 * Pure (no I/O, no globals; it allocates memory), unit-tested and fuzzed; docs/logs.md
 * lists the forms covered and those that are not.
 *
 * A struct redactor holds the rules: values (redactor_add_value), the built-in token
 * patterns (redactor_new) and user patterns (redactor_add_pattern, PCRE2). Once
 * redactor_compile() ran it is read-only and any number of streams (one per task stream:
 * stdout, stderr) use it; it must outlive them.
 *
 * A struct redact_stream takes the task's bytes as they come (redact_stream_feed) and
 * returns what is safe to emit now; redact_stream_finish() returns the rest at the end.
 * Output is held back only while a match may be pending: at most the longest form of a
 * value (interleaving characters not counted), REDACT_BUILTIN_MAX bytes for a built-in
 * pattern and REDACT_PATTERN_HOLD for a user pattern (redactor_hold_max() has the bound
 * for a compiled redactor). Redaction runs on the raw bytes, before the neutraliser
 * (neutralise.h), so that it sees the terminal escapes a secret may be interleaved with.
 *
 * Memory holding values and the tables derived from them is excluded from core dumps
 * (MADV_DONTDUMP), zeroed in a forked or cloned child (MADV_WIPEONFORK: a redactor works
 * in the process that built it only) and wiped when freed.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A value shorter than this (after removing whitespace and invisible characters) would
 * redact ordinary text: it is refused. */
#define REDACT_MIN_VALUE 8
#define REDACT_MAX_VALUE 65536 /* CREDENTIAL_MAX_VALUE: every credential can be registered */
#define REDACT_MAX_VALUES 256
#define REDACT_MAX_PATTERNS 64
#define REDACT_MAX_PATTERN 1024 /* bytes of one user pattern */
#define REDACT_NAME_MAX 64
/* A pending partial match of a value this long is redacted at the end of the stream;
 * shorter ones (1..3 characters) are emitted then (and by redact_stream_flush()). */
#define REDACT_PARTIAL_MIN 4
/* Longest match of a built-in pattern (a private-key block, a JWT). */
#define REDACT_BUILTIN_MAX 16384
/* Longest hold for a partial match of a user pattern. */
#define REDACT_PATTERN_HOLD 4096

enum redact_rule_kind {
	REDACT_RULE_VALUE,
	REDACT_RULE_BUILTIN,
	REDACT_RULE_PATTERN,
	_REDACT_RULE_KIND_MAX,
	_REDACT_RULE_KIND_INVALID = -EINVAL,
};

struct redact_pattern_error {
	size_t offset; /* in the pattern */
	char message[160];
};

struct redactor;
struct redact_stream;

/*
 * A new, empty redactor; with builtin_patterns, the built-in token patterns are its first
 * rules. Returns 0 or -ENOMEM. Does not log.
 */
int redactor_new(bool builtin_patterns, struct redactor **ret);
/* Frees r and wipes the secret material it holds. Accepts and returns NULL. */
struct redactor *redactor_free(struct redactor *r);
/*
 * Registers a value (copied; the caller may wipe its copy) under name: letters, digits,
 * '.', '_', '-', ':', at most REDACT_NAME_MAX. Values added under the same name share one
 * rule (one counter). Returns 0, or -EINVAL for a bad name or a value with fewer than
 * REDACT_MIN_VALUE bytes left after removing whitespace and invisible characters, -E2BIG
 * for a value over REDACT_MAX_VALUE or too many values, -EBUSY after redactor_compile(),
 * -ENOMEM. Does not log (and never the value).
 */
int redactor_add_value(struct redactor *r, const char *name, const void *value, size_t len);
/*
 * The bytes of a value that redactor_add_value() counts: besides whitespace as it is
 * (*ret_raw), and as the normaliser decodes it (*ret_decoded: %XX, \xHH and the other
 * escapes read as what they stand for, invisible characters taken out). It refuses a value
 * when either is below REDACT_MIN_VALUE. Returns 0 or -ENOMEM.
 */
int redact_value_counts(const void *value, size_t len, size_t *ret_raw, size_t *ret_decoded);
/*
 * Adds a user pattern (PCRE2 syntax, compiled with UTF, invalid UTF-8 in the subject
 * tolerated, and multiline: ^ and $ match at line ends) named name (same rules as above,
 * unique among patterns). Returns 0; -EINVAL when it does not compile or can match the
 * empty string, with *reterr (when not NULL) saying where and why; -EEXIST for a name in
 * use; -E2BIG, -EBUSY, -ENOMEM as above. Does not log.
 */
int redactor_add_pattern(struct redactor *r, const char *name, const char *pattern,
			 struct redact_pattern_error *reterr);
/* Builds the matcher. Returns 0, -ENOMEM, or -EBUSY when already compiled. Does not log. */
int redactor_compile(struct redactor *r);

/* The rules, in order: built-in patterns, then values and user patterns as added. */
size_t redactor_n_rules(const struct redactor *r);
const char *redactor_rule_name(const struct redactor *r, size_t rule);
enum redact_rule_kind redactor_rule_kind(const struct redactor *r, size_t rule);
/* Upper bound of the bytes a stream of this compiled redactor holds back. */
size_t redactor_hold_max(const struct redactor *r);
const char *redact_rule_kind_to_string(enum redact_rule_kind k);

/* A stream over compiled r (which must outlive it). Returns 0, -EINVAL, -ENOMEM. */
int redact_stream_new(const struct redactor *r, struct redact_stream **ret);
struct redact_stream *redact_stream_free(struct redact_stream *s);
/*
 * Takes len bytes of task output and returns in *ret_out, *ret_len the output that is
 * safe to emit now (possibly none); the buffer stays valid until the next call on s.
 * Returns 0, -ENOMEM (nothing was consumed: the caller must not emit the input), or
 * -EINVAL after redact_stream_finish(). Does not log.
 */
int redact_stream_feed(struct redact_stream *s, const void *buf, size_t len,
		       const uint8_t **ret_out, size_t *ret_len);
/*
 * Room for len bytes where the next feed puts its input: a caller that reads into it and
 * feeds from there saves the copy (feed sees its input is in place). Valid until the next
 * call on s. Returns NULL after redact_stream_finish() or when out of memory.
 */
uint8_t *redact_stream_space(struct redact_stream *s, size_t len);
/*
 * For a caller whose task went quiet (say for 200 ms): returns what feed held only for a
 * partial match of a value shorter than REDACT_PARTIAL_MIN characters (the last
 * characters of a line often start one: 1 to 3 characters of a secret whose writing
 * paused right there go out, its rest is still redacted when it comes). Longer partial
 * matches and tokens in progress stay held. Returns as redact_stream_feed().
 */
int redact_stream_flush(struct redact_stream *s, const uint8_t **ret_out, size_t *ret_len);
/* The end of the stream: returns the rest, pending partial matches redacted. */
int redact_stream_finish(struct redact_stream *s, const uint8_t **ret_out, size_t *ret_len);
/* Redactions emitted so far for a rule (an index of redactor_rule_name()). */
uint64_t redact_stream_count(const struct redact_stream *s, size_t rule);
/* Bytes currently held back. */
size_t redact_stream_held(const struct redact_stream *s);
