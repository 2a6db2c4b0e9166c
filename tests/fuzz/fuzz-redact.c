/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes the redactor (and the neutraliser after it) with untrusted task output.
 * Input: a flags byte (built-in patterns, a user pattern, 0..3 values, chunking), each
 * value (a length byte and that many bytes mapped to letters and digits), a count of
 * insertions (each a position byte and a value index), then the text. Each insertion puts
 * "\n<value>\n" into the text. Properties:
 *  - fed at once or in chunks (sizes from the flags), the output is the same;
 *  - no value occurs in the output more often than in the text around the insertions
 *    (every inserted copy is gone);
 *  - the neutraliser keeps within its bound over the output;
 *  - every vector level this CPU runs (simd.h) gives the same output, redacted and
 *    neutralised, as the default one.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "neutralise.h"
#include "redact.h"
#include "simd.h"

#define MAX_TEXT 65536

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static size_t count(const struct buf *b, const char *s)
{
	size_t n = 0, len = strlen(s);

	for (const uint8_t *p = b->p; (p = memmem(p, b->p + b->len - p, s, len)); p++)
		n++;
	return n;
}

/* Feeds text in chunks of 1..max bytes (0: at once), sizes from a fixed generator. */
static void redact_all(const struct redactor *r, const struct buf *text, size_t max,
		       struct buf *out)
{
	struct redact_stream *s;
	uint32_t state = 12345;
	const uint8_t *p;
	size_t n;

	assert(redact_stream_new(r, &s) == 0);
	put(out, "", 0);
	for (size_t i = 0; i < text->len;) {
		size_t k = max ? 1 + ((state = state * 1103515245 + 12345) >> 8) % max : text->len;

		k = k > text->len - i ? text->len - i : k;
		assert(redact_stream_feed(s, text->p + i, k, &p, &n) == 0);
		put(out, p, n);
		i += k;
	}
	assert(redact_stream_finish(s, &p, &n) == 0);
	put(out, p, n);
	redact_stream_free(s);
}

/* The neutralised out, in the level's code. */
static void neutralise_all(const struct buf *out, struct buf *res)
{
	struct neutralise nz;
	char *n = malloc(NEUTRALISE_MAX_OUT(out->len) + NEUTRALISE_MAX_OUT(0));
	size_t len;

	assert(n);
	neutralise_init(&nz);
	len = neutralise_feed(&nz, out->p, out->len, n);
	len += neutralise_finish(&nz, n + len);
	put(res, n, len);
	free(n);
}

static bool buf_eq(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (!a->len || memcmp(a->p, b->p, a->len) == 0);
}

/* Each level below the CPU's redacts and neutralises text as the default did. */
static void check_levels(const struct redactor *r, const struct buf *text, const struct buf *once)
{
	struct buf nz_default = {};

	neutralise_all(once, &nz_default);
	for (int l = SIMD_PLAIN; l < (int)simd_cpu_level(); l++) {
		struct buf at = {}, nz_at = {};

		simd_level_cap((enum simd_level)l);
		redact_all(r, text, 0, &at);
		neutralise_all(once, &nz_at);
		simd_level_cap(SIMD_AVX512);
		assert(buf_eq(&at, once));
		assert(buf_eq(&nz_at, &nz_default));
		free(at.p);
		free(nz_at.p);
	}
	free(nz_default.p);
}

static void check_neutralised(const struct buf *out)
{
	struct buf res = {};

	neutralise_all(out, &res);
	assert(res.len <= NEUTRALISE_MAX_OUT(out->len) + NEUTRALISE_MAX_OUT(0));
	assert(!res.len || !memchr(res.p, 0x1b, res.len));
	free(res.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char alnum[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char values[3][40];
	static const size_t chunk_max[] = { 1, 7, 64, 4096 };
	size_t n_values, n_ins, around[3] = {}, pos = 0;
	struct buf text = {}, rest = {}, once = {}, pieces = {};
	struct redactor *r;
	uint8_t flags;

	if (size < 2)
		return 0;
	flags = *data++;
	size--;
	n_values = (flags >> 2) & 3;
	if (n_values == 3)
		n_values = 2;
	assert(redactor_new(flags & 1, &r) == 0);
	for (size_t k = 0; k < n_values; k++) {
		size_t len = 8 + (size ? data[0] % 25 : 0);

		if (size < 1 + len)
			goto out;
		for (size_t i = 0; i < len; i++)
			values[k][i] = alnum[data[1 + i] % 62];
		values[k][len] = '\0';
		if (strcmp(values[k], "REDACTED") == 0)
			values[k][0] = 'X';
		data += 1 + len;
		size -= 1 + len;
		assert(redactor_add_value(r, k ? "k1" : "k0", values[k], len) == 0);
	}
	if (flags & 2)
		assert(redactor_add_pattern(r, "ticket", "TICKET-[0-9]{6}", NULL) == 0);
	assert(redactor_compile(r) == 0);

	/* The text with "\n<value>\n" inserted at the positions asked for. */
	n_ins = size && n_values ? data[0] % 8 : 0;
	if (size < 1 + 2 * n_ins)
		goto out;
	data += 1;
	size -= 1;
	put(&rest, data + 2 * n_ins, size - 2 * n_ins > MAX_TEXT ? MAX_TEXT : size - 2 * n_ins);
	put(&text, "", 0);
	for (size_t i = 0; i < n_ins; i++) {
		size_t at = rest.len * data[2 * i] / 256, k = data[2 * i + 1] % n_values;

		at = at < pos ? pos : at;
		put(&text, rest.p + pos, at - pos);
		put(&pieces, rest.p + pos, at - pos);
		put(&pieces, "\n", 1);
		put(&text, "\n", 1);
		put(&text, values[k], strlen(values[k]));
		put(&text, "\n", 1);
		pos = at;
	}
	put(&text, rest.p + pos, rest.len - pos);
	put(&pieces, rest.p + pos, rest.len - pos);
	for (size_t k = 0; k < n_values; k++)
		around[k] = count(&pieces, values[k]);

	redact_all(r, &text, 0, &once);
	for (size_t k = 0; k < n_values; k++)
		assert(count(&once, values[k]) <= around[k]);
	check_neutralised(&once);
	check_levels(r, &text, &once);
	{
		struct buf chunked = {};

		redact_all(r, &text, chunk_max[(flags >> 4) & 3], &chunked);
		assert(once.len == chunked.len && memcmp(once.p, chunked.p, once.len) == 0);
		free(chunked.p);
	}
out:
	free(text.p);
	free(rest.p);
	free(once.p);
	free(pieces.p);
	redactor_free(r);
	return 0;
}
