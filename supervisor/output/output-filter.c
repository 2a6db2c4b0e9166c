/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>

#include "neutralise.h"
#include "output-filter.h"
#include "redact.h"

struct output_filter {
	struct redact_stream *rs;
	struct neutralise nz;
	bool raw_caller;
	bool finished;
	char *nbuf; /* the neutraliser's output */
	size_t nbuf_cap;
};

int output_filter_new(const struct redactor *r, bool raw_caller, struct output_filter **ret)
{
	struct output_filter *f;
	int k;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	k = redact_stream_new(r, &f->rs);
	if (k < 0) {
		free(f);
		return k;
	}
	neutralise_init(&f->nz);
	f->raw_caller = raw_caller;
	*ret = f;
	return 0;
}

struct output_filter *output_filter_free(struct output_filter *f)
{
	if (!f)
		return NULL;
	redact_stream_free(f->rs);
	free(f->nbuf);
	free(f);
	return NULL;
}

static int nbuf_reserve(struct output_filter *f, size_t len)
{
	size_t want;
	char *p;

	if (__builtin_add_overflow(len, (size_t)3, &want) ||
	    __builtin_mul_overflow(want, (size_t)4, &want) ||
	    __builtin_add_overflow(want, NEUTRALISE_MAX_OUT(0), &want))
		return -ENOMEM;
	if (want <= f->nbuf_cap)
		return 0;
	p = realloc(f->nbuf, want);
	if (!p)
		return -ENOMEM;
	f->nbuf = p;
	f->nbuf_cap = want;
	return 0;
}

/* The redacted bytes in, both outputs out; at the end, the neutraliser's held bytes too. */
static int neutralise_out(struct output_filter *f, const uint8_t *p, size_t n, bool end,
			  struct output_filter_out *ret)
{
	size_t o;
	int k;

	k = nbuf_reserve(f, n);
	if (k < 0)
		return k;
	o = neutralise_feed(&f->nz, p, n, f->nbuf);
	if (end)
		o += neutralise_finish(&f->nz, f->nbuf + o);
	*ret = (struct output_filter_out){ .log = f->nbuf, .log_len = o };
	if (f->raw_caller) {
		ret->caller = (const char *)p;
		ret->caller_len = n;
	} else {
		ret->caller = f->nbuf;
		ret->caller_len = o;
	}
	return 0;
}

/* A failure after the redactor took the input loses it: its caller ends the stream then. */
int output_filter_feed(struct output_filter *f, const void *buf, size_t len,
		       struct output_filter_out *ret)
{
	const uint8_t *p;
	size_t n;
	int k;

	k = redact_stream_feed(f->rs, buf, len, &p, &n);
	if (k < 0)
		return k;
	return neutralise_out(f, p, n, false, ret);
}

void *output_filter_space(struct output_filter *f, size_t len)
{
	return redact_stream_space(f->rs, len);
}

int output_filter_flush(struct output_filter *f, struct output_filter_out *ret)
{
	const uint8_t *p;
	size_t n;
	int k;

	k = redact_stream_flush(f->rs, &p, &n);
	if (k < 0)
		return k;
	return neutralise_out(f, p, n, false, ret);
}

int output_filter_finish(struct output_filter *f, struct output_filter_out *ret)
{
	const uint8_t *p;
	size_t n;
	int k;

	k = redact_stream_finish(f->rs, &p, &n);
	if (k < 0)
		return k;
	f->finished = true;
	return neutralise_out(f, p, n, true, ret);
}

size_t output_filter_held(const struct output_filter *f)
{
	return redact_stream_held(f->rs);
}

bool output_filter_is_finished(const struct output_filter *f)
{
	return f->finished;
}

uint64_t output_filter_count(const struct output_filter *f, size_t rule)
{
	return redact_stream_count(f->rs, rule);
}
