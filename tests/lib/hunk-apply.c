/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A strict applier of unified-diff hunks (hunk-apply.h), written apart from
 * supervisor/artifacts/diff.c so that the tests check the diff against an independent
 * reading of the format.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hunk-apply.h"

/* Next line of s at *pos (with its "\n"), or NULL at the end. */
static const char *next_line(const char *s, size_t *pos, size_t *len)
{
	const char *p = s + *pos, *nl;

	if (!*p)
		return NULL;
	nl = strchr(p, '\n');
	*len = nl ? (size_t)(nl - p) + 1 : strlen(p);
	*pos += *len;
	return p;
}

char *hunk_apply(const char *a, const char *patch)
{
	size_t alen = strlen(a), out_len = 0, apos = 0, ppos = 0, len;
	char *out = malloc(alen + strlen(patch) + 1);
	const char *l;
	long aline = 0; /* lines of a consumed */

	while ((l = next_line(patch, &ppos, &len))) {
		long os, oc, ns, nc;
		size_t llen;
		const char *al;

		if (sscanf(l, "@@ -%ld,%ld +%ld,%ld @@", &os, &oc, &ns, &nc) != 4)
			goto fail;
		/* copy a's lines up to the hunk's first */
		for (long want = oc ? os - 1 : os; aline < want; aline++) {
			if (!(al = next_line(a, &apos, &llen)))
				goto fail;
			memcpy(out + out_len, al, llen), out_len += llen;
		}
		while (oc > 0 || nc > 0) {
			bool no_nl;

			if (!(l = next_line(patch, &ppos, &len)))
				goto fail;
			no_nl = strncmp(patch + ppos, "\\ No newline", 12) == 0;
			if (no_nl) {
				size_t skip;
				(void)next_line(patch, &ppos, &skip);
			}
			if (l[0] == ' ' || l[0] == '-') {
				size_t n = no_nl ? len - 2 : len - 1;

				if (!(al = next_line(a, &apos, &llen)))
					goto fail;
				aline++, oc--;
				if (llen != n || memcmp(al, l + 1, n) != 0)
					goto fail;
				if (l[0] == ' ')
					memcpy(out + out_len, al, llen), out_len += llen, nc--;
			} else if (l[0] == '+') {
				size_t n = no_nl ? len - 2 : len - 1;

				memcpy(out + out_len, l + 1, n), out_len += n, nc--;
			} else
				goto fail;
		}
		if (oc != 0 || nc != 0)
			goto fail;
	}
	memcpy(out + out_len, a + apos, alen - apos), out_len += alen - apos;
	out[out_len] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}
