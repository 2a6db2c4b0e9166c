/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Internals of the redactor shared by its files (and its unit tests). The pieces:
 *  redact-norm.c     the normaliser: the text as the value matcher sees it (whitespace,
 *                    invisible characters and terminal escapes removed, %XX and JSON/C
 *                    escapes decoded), with a way back to the original bytes;
 *  redact-forms.c    the forms of a value (needles) the value matcher looks for;
 *  redact-values.c   the value matcher: sampled 4-byte grams, exact verification;
 *  redact-builtin.c  the built-in token patterns: a vector prefilter and hand-written
 *                    matchers (redact-builtin.h what they share);
 *  redact-pem.c      the built-in private-key block scanner, redact-pem-prefix.c what
 *                    stands between a block's words (a list of its lines, a prefix on
 *                    each line), redact-pem.h what they share;
 *  redact-auth.c     the built-in Authorization header matcher;
 *  redact-pcre.c     user patterns (the only file that sees PCRE2);
 *  redact.c          the rule set; redact-stream.c the stream.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redact.h"

/* Grams of 4 bytes are tested at every stride-th byte of the normalised text: every
 * REDACT_STRIDE_MIN-th at least, so every needle is at least REDACT_NEEDLE_MIN bytes; the
 * value matcher takes the longest stride its shortest needle allows (redact-values.c),
 * up to REDACT_STRIDE_MAX. */
#define REDACT_GRAM 4
#define REDACT_STRIDE_MIN 5
#define REDACT_STRIDE_MAX 16
#define REDACT_NEEDLE_MIN (REDACT_STRIDE_MIN + REDACT_GRAM - 1)
/* The sampled grams of a needle start at most this far in (to skip common grams), so a
 * partial match shorter than stride + REDACT_GRAM - 1 + REDACT_GRAM_SHIFT_MAX may have
 * none: those are looked up whole. */
#define REDACT_GRAM_SHIFT_MAX 8
/* The longest of those partials: the value matcher's tail_max at REDACT_STRIDE_MAX. */
#define REDACT_TAIL_MAX (REDACT_STRIDE_MAX + REDACT_GRAM - 2 + REDACT_GRAM_SHIFT_MAX)
/* Normalised bytes before the window kept as context: a needle that began in text a
 * flush emitted (a partial shorter than REDACT_PARTIAL_MIN) is still found, its rest
 * redacted. */
#define REDACT_VALUE_CTX (REDACT_PARTIAL_MIN - 1)
/* Raw bytes before the window kept as context for the patterns (their prefixes). */
#define REDACT_RAW_CTX 16

/* Memory for secret material: left out of core dumps, wiped when freed. */
void *redact_secret_alloc(size_t size);
void redact_secret_free(void *p, size_t size);

struct redact_span {
	size_t start, end; /* window offsets of what is replaced */
	size_t anchor; /* where the matcher must start to find it again: start, or its
			  trigger before start (an Authorization value's header name) */
	uint32_t rule;
	bool quiet; /* the rest of the redaction before it (a long private-key block): no
		       label and no count of its own */
};

struct span_list {
	struct redact_span *v;
	size_t n, cap;
};

int span_list_push(struct span_list *l, size_t start, size_t end, uint32_t rule);
int span_list_push_anchored(struct span_list *l, size_t anchor, size_t start, size_t end,
			    uint32_t rule);
void span_list_done(struct span_list *l);

/* ---- normaliser (redact-norm.c) ---- */

enum {
	NORM_DROP, /* whitespace, controls: not in the normalised text */
	NORM_KEEP,
	NORM_SPECIAL, /* may start a multi-byte unit: ESC, '%', '\\', 0xc2, 0xe2, 0xef */
};
extern const uint8_t norm_class[256];

/* One unit of input: len bytes that normalise to out[0..n_out). */
struct norm_unit {
	uint32_t len;
	uint8_t n_out;
	uint8_t out[4];
	/* A terminal string sequence (OSC, DCS, ...): its text, scanned on its own. */
	uint32_t content_off, content_len;
};

/* The unit at p[0] (a NORM_SPECIAL byte), with before bytes of the input before it (a
 * quote splice looks at the one before). Returns 1, or 0 when it may continue past avail
 * (never when final). */
int norm_unit_special(const uint8_t *p, size_t before, size_t avail, bool final,
		      struct norm_unit *u);

struct norm_region {
	size_t start, end; /* input offsets of a string sequence's text */
};

/* A unit start and the normalised bytes before it: where a walk over the input may start. */
struct norm_mark {
	size_t i, m;
};
#define NORM_MARK_EVERY 1024 /* input bytes between marks, about */

struct norm_result {
	size_t m; /* normalised bytes written */
	size_t consumed; /* input bytes used: less than n when a unit is incomplete */
	size_t pre; /* set by the caller: input bytes before in that a unit may look back
		       at (a quote splice at the window's start), the same for every call */
	struct norm_region *regions;
	size_t n_regions, cap_regions;
	struct norm_mark *marks; /* marks[0] is {0, 0} */
	size_t n_marks, cap_marks;
};

/*
 * Normalises in[0..n) into out (room for n + NORM_ROOM bytes). String sequences' texts are listed
 * in res->regions, walk marks in res->marks (both grown as needed; the caller frees them
 * with norm_result_done()). Returns 0 or -ENOMEM.
 */
int norm_run(const uint8_t *in, size_t n, bool final, uint8_t *out, struct norm_result *res);
#define NORM_ROOM 64 /* a block's store past what it keeps */
void norm_result_done(struct norm_result *res);

struct norm_query {
	size_t index; /* a normalised offset */
	size_t *ret_start, *ret_end; /* the input bytes of the unit that produced it */
};
/* Answers queries (sorted by index) over the input norm_run() saw, which made res. */
void norm_map(const uint8_t *in, size_t n, bool final, const struct norm_result *res,
	      struct norm_query *q, size_t n_q);
/* The number of normalised bytes produced by the units before x (a unit start), over
 * the input norm_run() saw. */
size_t norm_count(const uint8_t *in, const struct norm_result *res, size_t x);
/* The start of the unit that contains input offset x (x itself when a unit starts there),
 * over the input norm_run() saw. */
size_t norm_unit_floor(const uint8_t *in, size_t n, const struct norm_result *res, size_t x);
/* A whole value, normalised (final). Returns the length written to out (room for n). */
size_t norm_value(const uint8_t *in, size_t n, uint8_t *out);

/* ---- forms of a value (redact-forms.c) ---- */

enum {
	NEEDLE_FOLD = 1 << 0, /* compared ignoring ASCII case (hex) */
	NEEDLE_B64_POST = 1 << 1, /* the base64 character after it carries some of its bits */
};

struct needle {
	const uint8_t *b; /* lowercase when NEEDLE_FOLD */
	uint32_t len;
	uint32_t rule;
	uint8_t flags;
};

/* The most bytes the needles of a value of len bytes need. */
size_t forms_size(size_t len);
/*
 * Writes the needles of value v (len bytes) into buf (forms_size(len) bytes) and appends
 * them to needles (room for REDACT_FORMS_MAX more); duplicates and needles shorter than
 * REDACT_NEEDLE_MIN are left out. Returns the number appended.
 */
#define REDACT_FORMS_MAX 17
size_t forms_build(const uint8_t *v, size_t len, uint32_t rule, uint8_t *buf,
		   struct needle *needles);
/* Whether c is a base64 (either alphabet) character. */
bool forms_is_b64(uint8_t c);

/* ---- value matcher (redact-values.c) ---- */

/* How the end of the window is treated. */
enum scan_end {
	SCAN_STREAM, /* more may come: every partial match is held */
	SCAN_FLUSH, /* more may come, but partials shorter than REDACT_PARTIAL_MIN go out */
	SCAN_FINAL, /* the end: partials of at least REDACT_PARTIAL_MIN are redacted */
};

struct value_matcher;
struct value_scratch;

struct redact_value {
	uint8_t *bytes; /* redact_secret_alloc'd */
	size_t len;
	uint32_t rule;
};

int value_matcher_build(const struct redact_value *values, size_t n, struct value_matcher **ret);
struct value_matcher *value_matcher_free(struct value_matcher *vm);
size_t value_matcher_longest(const struct value_matcher *vm);

struct value_scratch *value_scratch_free(struct value_scratch *sc);
int value_scratch_new(struct value_scratch **ret);

/*
 * Finds the values in win[0..n) (raw_pre bytes of the input before it readable at win -
 * raw_pre: a quote splice looks back), which follows the normalised context ctx[0..ctx_len)
 * (at most REDACT_VALUE_CTX bytes). Appends complete matches to spans; lowers *pending to
 * the start of the earliest partial match that must be held (see enum scan_end).
 */
int value_scan(const struct value_matcher *vm, struct value_scratch *sc, size_t raw_pre,
	       const uint8_t *ctx, size_t ctx_len, const uint8_t *win, size_t n, enum scan_end end,
	       struct span_list *spans, size_t *pending);
/* After value_scan(): the start of the normaliser unit that contains window offset p. */
size_t value_scan_unit_floor(const struct value_scratch *sc, const uint8_t *win, size_t n,
			     size_t p);
/* After value_scan(): the last normalised bytes before window offset p (a unit start), as
 * the context for the next window. Returns its length (<= REDACT_VALUE_CTX). */
size_t value_scan_context(const struct value_scratch *sc, const uint8_t *win, size_t p,
			  uint8_t *ctx);

/* ---- built-in patterns (redact-builtin.c) ---- */

enum builtin_id {
	BUILTIN_GITHUB,
	BUILTIN_GITLAB,
	BUILTIN_AWS_KEY_ID,
	BUILTIN_AWS_SECRET,
	BUILTIN_SLACK,
	BUILTIN_NPM,
	BUILTIN_PYPI,
	BUILTIN_PRIVATE_KEY,
	BUILTIN_JWT,
	BUILTIN_AUTHORIZATION,
	_BUILTIN_MAX,
};

const char *builtin_name(enum builtin_id id);

#define PEM_PREFIX_MAX 15 /* the text before "-----BEGIN" on its line, colour escapes in */

/* How a private-key block longer than REDACT_BUILTIN_MAX goes on where a redaction of it
 * stopped: its lines' width, written as a list, flattened, the prefix of each of its lines
 * (a diff's "+", a comment's "# ") and whether it stopped at a line's start (redact-pem.c). */
struct pem_cont {
	size_t width;
	bool list, flat, bol;
	uint8_t prefix_len;
	uint8_t prefix[PEM_PREFIX_MAX];
};

struct pem_point {
	uint64_t at; /* stream offset */
	struct pem_cont cont;
};

struct builtin_state {
	/* Stream offset up to which a 40-character token is an AWS secret access key, from
	 * the key ids and keywords already emitted (a stretch from one still in the window
	 * is found again with it). */
	uint64_t aws_armed_until;
	/* Where the stretches of the key ids and keywords of the last scan begin. */
	uint64_t *arms;
	size_t n_arms, cap_arms;
	uint64_t redacted_until; /* end of the last redaction emitted: a token starting
				    before it (in the context) was part of it */
	/* A private-key block is redacted in steps of at most REDACT_BUILTIN_MAX bytes: where
	 * the one that goes on in the window starts (at 0: none), and the points the last
	 * scan stepped at, in order. */
	struct pem_point pem;
	struct pem_point *steps;
	size_t n_steps, cap_steps;
};

/*
 * Scans buf[ctx_len..n) (after ctx_len bytes of emitted context) for built-in token
 * shapes. base: the stream offset of buf[ctx_len]. Appends matches (rule = builtin id,
 * clipped to the window) and lowers *pending. Returns 0 or -ENOMEM.
 */
int builtin_scan(struct builtin_state *st, const uint8_t *buf, size_t ctx_len, size_t n,
		 uint64_t base, enum scan_end end, struct span_list *spans, size_t *pending);
/* The stream emitted everything before stream offset emitted (and the redactions ending
 * at redacted): takes in what the last scan found before it. */
void builtin_commit(struct builtin_state *st, uint64_t emitted, uint64_t redacted);
void builtin_state_done(struct builtin_state *st);

/* ---- user patterns (redact-pcre.c) ---- */

struct pattern_set;
struct pattern_scratch;

int pattern_set_add(struct pattern_set **ps, const char *pattern, uint32_t rule,
		    struct redact_pattern_error *reterr);
struct pattern_set *pattern_set_free(struct pattern_set *ps);
int pattern_scratch_new(const struct pattern_set *ps, struct pattern_scratch **ret);
struct pattern_scratch *pattern_scratch_free(struct pattern_scratch *sc);
/* As builtin_scan(), for the user patterns. */
int pattern_scan(const struct pattern_set *ps, struct pattern_scratch *sc, const uint8_t *buf,
		 size_t ctx_len, size_t n, enum scan_end end, struct span_list *spans,
		 size_t *pending);
