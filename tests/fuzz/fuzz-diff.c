/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes the line diff of an overlay workspace's change set (supervisor/artifacts/diff.c)
 * with task-written file contents. Input: a length byte pair (little endian) splitting the
 * rest into the old text a and the new text b; NUL bytes become newlines (the patch only
 * shows text files). Properties:
 *  - diff_write_hunks() succeeds, and its hunks applied to a by an independent, strict
 *    applier (tests/lib/hunk-apply.c) give b exactly;
 *  - a equal to b gives no hunk at all;
 *  - diff_write_path() of any name writes a quoted name without raw control bytes;
 *  - diff_write_binary() of the raw bytes of b writes at most diff_binary_size() past its
 *    header, in printable lines, whose literal (base85, zlib stored blocks) decodes to b.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "fuzz.h"
#include "hunk-apply.h"

#define MAX_TEXT 65536

static char *text_of(const uint8_t *p, size_t n)
{
	char *t = malloc(n + 1);

	assert(t);
	for (size_t i = 0; i < n; i++)
		t[i] = p[i] ? (char)p[i] : '\n';
	t[n] = '\0';
	return t;
}

static char *hunks(const char *a, const char *b)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert(f);
	assert(diff_write_hunks(f, a, strlen(a), b, strlen(b)) == 0);
	assert(fclose(f) == 0);
	return out;
}

static void check_path(const char *name)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert(f);
	assert(diff_write_path(f, "a/", name) == 0);
	assert(fclose(f) == 0);
	for (size_t i = 0; i < len; i++)
		assert((unsigned char)out[i] >= ' ' && (unsigned char)out[i] < 0x7f);
	free(out);
}

/* git's base85 line (its length letter first) into out; returns its byte count. */
static size_t b85_decode(const char *line, uint8_t *out)
{
	static const char en85[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "abcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
	size_t n = line[0] <= 'Z' ? (size_t)(line[0] - 'A' + 1) : (size_t)(line[0] - 'a' + 27);

	for (size_t i = 0; i < (n + 3) / 4; i++) {
		uint32_t acc = 0;

		for (size_t k = 0; k < 5; k++) {
			const char *c = strchr(en85, line[1 + 5 * i + k]);

			assert(c && *c);
			acc = acc * 85 + (uint32_t)(c - en85);
		}
		for (size_t k = 0; k < 4; k++)
			out[4 * i + k] = (uint8_t)(acc >> (24 - 8 * k));
	}
	return n;
}

static void check_binary(const uint8_t *b, size_t blen)
{
	char *out = NULL, *p;
	size_t len = 0, zlen = 0, off = 2, got = 0;
	uint8_t *z = malloc(blen + 64 * (blen / 65535 + 2)), *plain = malloc(blen + 1);
	FILE *f = open_memstream(&out, &len);

	assert(f && z && plain);
	assert(diff_write_binary(f, "x", 0, 0100644, NULL, 0, (const char *)b, blen) == 0);
	assert(fclose(f) == 0);
	p = strstr(out, "index ");
	assert(p && (size_t)(out + len - p) <= diff_binary_size(blen));
	for (size_t i = 0; i < len; i++)
		assert(out[i] == '\n' ||
		       ((unsigned char)out[i] >= ' ' && (unsigned char)out[i] < 0x7f));
	p = strstr(p, "literal ");
	assert(p && strtoull(p + 8, NULL, 10) == blen);
	for (p = strchr(p, '\n') + 1; *p != '\n'; p = strchr(p, '\n') + 1)
		zlen += b85_decode(p, z + zlen);
	assert(z[0] == 0x78 && zlen >= 2 + 5 + 4);
	for (bool last = false; !last;) { /* stored blocks only */
		size_t k = (size_t)z[off + 1] | (size_t)z[off + 2] << 8;

		last = z[off] & 1;
		assert((z[off] & 6) == 0 &&
		       (uint16_t)~k == ((size_t)z[off + 3] | (size_t)z[off + 4] << 8));
		memcpy(plain + got, z + off + 5, k);
		got += k;
		off += 5 + k;
	}
	assert(got == blen && off + 4 == zlen && memcmp(plain, b, blen) == 0);
	free(out);
	free(z);
	free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split, n;
	char *a, *b, *p, *got;

	if (size < 2 || size > 2 + 2 * MAX_TEXT)
		return 0;
	n = size - 2;
	split = ((size_t)data[0] | (size_t)data[1] << 8) % (n + 1);
	a = text_of(data + 2, split);
	b = text_of(data + 2 + split, n - split);

	p = hunks(a, b);
	got = hunk_apply(a, p);
	assert(got && strcmp(got, b) == 0);
	free(got);
	free(p);

	p = hunks(a, a);
	assert(p == NULL || p[0] == '\0');
	free(p);

	/* a's first line as a file name: any bytes but NUL and '/' could be one. */
	a[strcspn(a, "\n")] = '\0';
	check_path(a);
	check_binary(data + 2 + split, n - split);

	free(a);
	free(b);
	return 0;
}
