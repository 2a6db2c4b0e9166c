/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes the line diff of an overlay workspace's change set (supervisor/artifacts/diff.c)
 * with task-written file contents. Input: a length byte pair (little endian) splitting the
 * rest into the old text a and the new text b; NUL bytes become newlines (the patch only
 * shows text files). Properties:
 *  - diff_write_hunks() succeeds, and its hunks applied to a by an independent, strict
 *    applier (tests/lib/hunk-apply.c) give b exactly;
 *  - a equal to b gives no hunk at all;
 *  - diff_write_path() of any name writes a quoted name without raw control bytes.
 */
#include <assert.h>
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

	free(a);
	free(b);
	return 0;
}
