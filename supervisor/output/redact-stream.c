/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A redaction stream. Its buffer holds REDACT_RAW_CTX bytes of already emitted context,
 * then the window: what was held back, then what just came in. Each feed runs the
 * matchers over the whole window; each returns its matches and the start of the earliest
 * match that may still grow (pending). Everything before that is emitted, with the
 * matches (merged where they overlap) replaced by their labels; the rest stays for the
 * next feed. A window held longer than the force limit (only when interleaving or
 * patterns keep a match open that long) is processed as if the stream ended there.
 */
#include <stdlib.h>
#include <string.h>

#include "redact-rules.h"

#define LABEL_PREFIX "[REDACTED:"
#define LABEL_MAX (sizeof(LABEL_PREFIX) + REDACT_NAME_MAX + 1)
#define FORCE_SLACK 65536

struct redact_stream {
	const struct redactor *r;
	uint8_t *buf; /* [ctx_len bytes of context | win_len bytes of window] */
	size_t cap, ctx_len, win_len;
	size_t emitted; /* window bytes returned by the last call, still in buf */
	uint64_t base; /* stream offset of the window's first byte */
	uint8_t vctx[REDACT_VALUE_CTX];
	size_t vctx_len;
	size_t force;
	struct value_scratch *vsc;
	struct pattern_scratch *psc;
	struct builtin_state bst;
	uint64_t redacted; /* stream offset where the last redaction emitted ends */
	struct span_list spans;
	uint8_t *out;
	size_t out_cap;
	uint64_t *counts;
	bool finished;
};

int redact_stream_new(const struct redactor *r, struct redact_stream **ret)
{
	struct redact_stream *s;

	if (!r->compiled)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->r = r;
	s->cap = 4096;
	s->buf = malloc(s->cap);
	s->force = 4 * redactor_hold_max(r) + FORCE_SLACK;
	s->counts = calloc(r->n_rules + 1, sizeof(uint64_t));
	if (!s->buf || !s->counts || (r->vm && value_scratch_new(&s->vsc) < 0) ||
	    (r->patterns && pattern_scratch_new(r->patterns, &s->psc) < 0)) {
		redact_stream_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

struct redact_stream *redact_stream_free(struct redact_stream *s)
{
	if (!s)
		return NULL;
	free(s->buf);
	free(s->out);
	free(s->counts);
	span_list_done(&s->spans);
	builtin_state_done(&s->bst);
	value_scratch_free(s->vsc);
	pattern_scratch_free(s->psc);
	free(s);
	return NULL;
}

uint64_t redact_stream_count(const struct redact_stream *s, size_t rule)
{
	return rule < s->r->n_rules ? s->counts[rule] : 0;
}

size_t redact_stream_held(const struct redact_stream *s)
{
	return s->win_len - s->emitted;
}

static int grow(uint8_t **p, size_t *cap, size_t want)
{
	uint8_t *np;

	if (want <= *cap)
		return 0;
	if (want < *cap * 2)
		want = *cap * 2;
	np = realloc(*p, want);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = want;
	return 0;
}

/* Drops what the last call emitted, keeping its end as context. */
static void compact(struct redact_stream *s)
{
	size_t upto = s->ctx_len + s->emitted;
	size_t ctx = upto < REDACT_RAW_CTX ? upto : REDACT_RAW_CTX;

	memmove(s->buf, s->buf + upto - ctx, ctx + s->win_len - s->emitted);
	s->ctx_len = ctx;
	s->win_len -= s->emitted;
	s->base += s->emitted;
	s->emitted = 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct redact_span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end > y->end ? -1 : x->end < y->end;
}

/* Sorts and merges overlapping spans in place (the first one's rule names the merge). */
static void merge(struct span_list *l)
{
	size_t k = 0;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(struct redact_span), span_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && l->v[i].start < l->v[k - 1].end) {
			if (l->v[i].end > l->v[k - 1].end)
				l->v[k - 1].end = l->v[i].end;
			if (l->v[i].anchor < l->v[k - 1].anchor)
				l->v[k - 1].anchor = l->v[i].anchor;
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
}

/* Runs the matchers over the window; *pending: where what must be held starts. */
static int scan(struct redact_stream *s, enum scan_end end, size_t *pending)
{
	const struct redactor *r = s->r;
	uint8_t *win = s->buf + s->ctx_len;
	size_t n = s->win_len;
	int k;

	s->spans.n = 0;
	*pending = n;
	if (r->vm) {
		k = value_scan(r->vm, s->vsc, s->ctx_len, s->vctx, s->vctx_len, win, n, end,
			       &s->spans, pending);
		if (k < 0)
			return k;
	}
	if (r->builtin) {
		k = builtin_scan(&s->bst, s->buf, s->ctx_len, s->ctx_len + n, s->base, end,
				 &s->spans, pending);
		if (k < 0)
			return k;
	}
	if (r->patterns)
		return pattern_scan(r->patterns, s->psc, s->buf, s->ctx_len, s->ctx_len + n, end,
				    &s->spans, pending);
	return 0;
}

/* Whether p may be inside a normaliser unit (an escape starts shortly before it). */
static bool near_escape(const uint8_t *win, size_t p)
{
	for (size_t i = p > 12 ? p - 12 : 0; i < p; i++)
		if (norm_class[win[i]] == NORM_SPECIAL)
			return true;
	return false;
}

/*
 * How much of the window goes out now: not into a pending match, nor between a match's
 * anchor and its end (the next window must find it again from its anchor), nor, for the
 * value matcher, into the middle of a unit (it must see the same units next time).
 */
static size_t cut(const struct redact_stream *s, size_t p)
{
	const uint8_t *win = s->buf + s->ctx_len;
	size_t prev;

	do {
		prev = p;
		for (size_t i = 0; i < s->spans.n; i++)
			if (s->spans.v[i].anchor < p && s->spans.v[i].end > p)
				p = s->spans.v[i].anchor;
		if (s->r->vm && p < s->win_len && near_escape(win, p))
			p = value_scan_unit_floor(s->vsc, win, s->win_len, p);
	} while (p != prev);
	return p;
}

static int emit(struct redact_stream *s, size_t p, const uint8_t **ret_out, size_t *ret_len)
{
	const uint8_t *win = s->buf + s->ctx_len;
	size_t pos = 0, o = 0, n_spans = 0;
	int k;

	while (n_spans < s->spans.n && s->spans.v[n_spans].end <= p)
		n_spans++;
	if (n_spans == 0) { /* the common case: the window itself goes out */
		*ret_out = win;
		*ret_len = p;
		return 0;
	}
	k = grow(&s->out, &s->out_cap, p + n_spans * LABEL_MAX);
	if (k < 0)
		return k;
	for (size_t i = 0; i < n_spans; i++) {
		const struct redact_span *sp = &s->spans.v[i];
		const char *name = s->r->rules[sp->rule].name;
		size_t len = strlen(name);

		memcpy(s->out + o, win + pos, sp->start - pos);
		o += sp->start - pos;
		pos = sp->end;
		if (sp->quiet)
			continue;
		memcpy(s->out + o, LABEL_PREFIX, strlen(LABEL_PREFIX));
		o += strlen(LABEL_PREFIX);
		memcpy(s->out + o, name, len);
		o += len;
		s->out[o++] = ']';
		s->counts[sp->rule]++;
	}
	s->redacted = s->base + pos;
	memcpy(s->out + o, win + pos, p - pos);
	*ret_out = s->out;
	*ret_len = o + p - pos;
	return 0;
}

static int process(struct redact_stream *s, enum scan_end end, const uint8_t **ret_out,
		   size_t *ret_len)
{
	size_t pending, p;
	int k;

	k = scan(s, end, &pending);
	if (k < 0)
		return k;
	if (end != SCAN_FINAL && s->win_len - pending > s->force) {
		end = SCAN_FINAL;
		k = scan(s, end, &pending);
		if (k < 0)
			return k;
	}
	merge(&s->spans);
	p = end == SCAN_FINAL ? s->win_len : cut(s, pending);
	k = emit(s, p, ret_out, ret_len);
	if (k < 0)
		return k;
	if (s->r->vm)
		s->vctx_len = value_scan_context(s->vsc, s->buf + s->ctx_len, p, s->vctx);
	builtin_commit(&s->bst, s->base + p, s->redacted);
	s->emitted = p;
	return 0;
}

uint8_t *redact_stream_space(struct redact_stream *s, size_t len)
{
	if (s->finished)
		return NULL;
	compact(s);
	if (grow(&s->buf, &s->cap, s->ctx_len + s->win_len + len) < 0)
		return NULL;
	return s->buf + s->ctx_len + s->win_len;
}

int redact_stream_feed(struct redact_stream *s, const void *buf, size_t len,
		       const uint8_t **ret_out, size_t *ret_len)
{
	uint8_t *to;
	int k;

	if (s->finished)
		return -EINVAL;
	to = redact_stream_space(s, len);
	if (!to)
		return -ENOMEM;
	if (len > 0 && to != buf) /* read into redact_stream_space(): in place already */
		memcpy(to, buf, len);
	s->win_len += len;
	k = process(s, SCAN_STREAM, ret_out, ret_len);
	if (k < 0)
		s->win_len -= len;
	return k;
}

int redact_stream_flush(struct redact_stream *s, const uint8_t **ret_out, size_t *ret_len)
{
	if (s->finished)
		return -EINVAL;
	compact(s);
	return process(s, SCAN_FLUSH, ret_out, ret_len);
}

int redact_stream_finish(struct redact_stream *s, const uint8_t **ret_out, size_t *ret_len)
{
	int k;

	if (s->finished)
		return -EINVAL;
	compact(s);
	k = process(s, SCAN_FINAL, ret_out, ret_len);
	if (k < 0)
		return k;
	s->finished = true;
	return 0;
}
