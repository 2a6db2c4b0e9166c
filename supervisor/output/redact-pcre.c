/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User patterns (policy logs.redact_patterns): PCRE2, JIT-compiled when the platform
 * allows it (the interpreter otherwise). The only file that sees PCRE2's types.
 *
 * Each pattern is matched over the window with PCRE2_PARTIAL_HARD: a match that may go on
 * past the window's end is a partial match, held from its start, for at most
 * REDACT_PATTERN_HOLD bytes; past that the pattern is matched as if the stream ended
 * there. The REDACT_RAW_CTX bytes of context before the window are part of the subject,
 * so lookbehinds see them (matches are clipped to the window).
 *
 * A match error (the match or depth limit, a JIT stack overflow) fails closed: the rest
 * of the window is redacted under the pattern's name.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact-internal.h"

#define MATCH_LIMIT 10000000u
#define DEPTH_LIMIT 100000u

struct pattern {
	pcre2_code *code;
	uint32_t rule;
};

struct pattern_set {
	struct pattern *v;
	size_t n;
	pcre2_match_context *mctx;
};

struct pattern_scratch {
	pcre2_match_data *md;
};

static void error_set(struct redact_pattern_error *reterr, int code, size_t offset)
{
	PCRE2_UCHAR msg[sizeof(reterr->message)];

	if (!reterr)
		return;
	if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
		strcpy((char *)msg, "invalid pattern");
	reterr->offset = offset;
	snprintf(reterr->message, sizeof(reterr->message), "%s", (char *)msg);
}

static int compile(const char *pattern, pcre2_code **ret, struct redact_pattern_error *reterr)
{
	/* \C (one code unit) could split a UTF-8 character in a match; minimum length 0
	 * means PCRE2 could not tell what it matches. */
	uint32_t opts =
		PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_MULTILINE | PCRE2_NEVER_BACKSLASH_C;
	uint32_t minlen = 0, empty = 1;
	PCRE2_SIZE offset;
	pcre2_code *code;
	int code_err;

	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code_err, &offset,
			     NULL);
	if (!code) {
		if (code_err == PCRE2_ERROR_NOMEMORY)
			return -ENOMEM;
		error_set(reterr, code_err, offset);
		return -EINVAL;
	}
	/* The minimum length alone misses a match of lookarounds only: (?=abc), x?(?=y). */
	if (pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &minlen) < 0 || minlen == 0 ||
	    pcre2_pattern_info(code, PCRE2_INFO_MATCHEMPTY, &empty) < 0 || empty) {
		pcre2_code_free(code);
		if (reterr) {
			reterr->offset = 0;
			snprintf(reterr->message, sizeof(reterr->message),
				 "pattern can match the empty string");
		}
		return -EINVAL;
	}
	/* Without JIT (not built in, or no executable memory) the interpreter matches. */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD);
	*ret = code;
	return 0;
}

int pattern_set_add(struct pattern_set **ps, const char *pattern, uint32_t rule,
		    struct redact_pattern_error *reterr)
{
	struct pattern_set *set = *ps;
	struct pattern *v;
	pcre2_code *code = NULL;
	int r;

	r = compile(pattern, &code, reterr);
	if (r < 0)
		return r;
	if (!set) {
		set = calloc(1, sizeof(*set));
		if (!set || !(set->mctx = pcre2_match_context_create(NULL))) {
			free(set);
			pcre2_code_free(code);
			return -ENOMEM;
		}
		pcre2_set_match_limit(set->mctx, MATCH_LIMIT);
		pcre2_set_depth_limit(set->mctx, DEPTH_LIMIT);
		*ps = set;
	}
	v = realloc(set->v, (set->n + 1) * sizeof(*v));
	if (!v) {
		pcre2_code_free(code);
		return -ENOMEM;
	}
	set->v = v;
	set->v[set->n++] = (struct pattern){ code, rule };
	return 0;
}

struct pattern_set *pattern_set_free(struct pattern_set *ps)
{
	if (!ps)
		return NULL;
	for (size_t i = 0; i < ps->n; i++)
		pcre2_code_free(ps->v[i].code);
	pcre2_match_context_free(ps->mctx);
	free(ps->v);
	free(ps);
	return NULL;
}

int pattern_scratch_new(const struct pattern_set *ps, struct pattern_scratch **ret)
{
	struct pattern_scratch *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return -ENOMEM;
	sc->md = pcre2_match_data_create(1, NULL);
	if (!sc->md) {
		free(sc);
		return -ENOMEM;
	}
	*ret = sc;
	return 0;
}

struct pattern_scratch *pattern_scratch_free(struct pattern_scratch *sc)
{
	if (!sc)
		return NULL;
	pcre2_match_data_free(sc->md);
	free(sc);
	return NULL;
}

static void lower_pending(size_t *pending, size_t at, size_t ctx_len)
{
	size_t w = at > ctx_len ? at - ctx_len : 0;

	if (w < *pending)
		*pending = w;
}

/* One pattern over buf[ctx_len..n); the subject starts at buf[0]. */
static int scan_one(const struct pattern_set *ps, const struct pattern *pt,
		    struct pattern_scratch *sc, const uint8_t *buf, size_t ctx_len, size_t n,
		    enum scan_end end, struct span_list *spans, size_t *pending)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
	bool final = end == SCAN_FINAL;
	size_t off = ctx_len;
	int r;

	while (off < n) {
		uint32_t opts = final ? 0 : PCRE2_PARTIAL_HARD;

		r = pcre2_match(pt->code, buf, n, off, opts, sc->md, ps->mctx);
		if (r == PCRE2_ERROR_NOMATCH)
			return 0;
		if (r == PCRE2_ERROR_PARTIAL) {
			if (end == SCAN_FLUSH && n - ov[0] < REDACT_PARTIAL_MIN) {
				/* The task went quiet: a short partial goes out (a prompt). */
				off = ov[0] + 1;
				continue;
			}
			if (n - ov[0] <= REDACT_PATTERN_HOLD) {
				lower_pending(pending, ov[0], ctx_len);
				return 0;
			}
			/* Held too long: match what is there as if the stream ended. */
			final = true;
			continue;
		}
		if (r < 0) /* fail closed */
			return span_list_push(spans, off - ctx_len, n - ctx_len, pt->rule);
		if (ov[1] > ctx_len && ov[1] > ov[0]) {
			r = span_list_push(spans, (ov[0] > ctx_len ? ov[0] : ctx_len) - ctx_len,
					   ov[1] - ctx_len, pt->rule);
			if (r < 0)
				return r;
		}
		off = ov[1] > off ? ov[1] : off + 1;
	}
	return 0;
}

int pattern_scan(const struct pattern_set *ps, struct pattern_scratch *sc, const uint8_t *buf,
		 size_t ctx_len, size_t n, enum scan_end end, struct span_list *spans,
		 size_t *pending)
{
	for (size_t i = 0; ps && i < ps->n; i++) {
		int r = scan_one(ps, &ps->v[i], sc, buf, ctx_len, n, end, spans, pending);

		if (r < 0)
			return r;
	}
	return 0;
}
