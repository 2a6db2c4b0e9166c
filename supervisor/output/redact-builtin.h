/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the built-in pattern matchers share: redact-builtin.c, redact-pem*.c, redact-auth.c. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redact-internal.h"

enum { BM_NONE, BM_MORE, BM_MATCH };

struct bm {
	size_t start, end;
	bool arm;
	bool cont; /* a private-key block goes on past end, as pem says */
	struct pem_cont pem;
};

enum {
	C_UPPER = 1 << 0,
	C_LOWER = 1 << 1,
	C_DIGIT = 1 << 2,
	C_USCORE = 1 << 3,
	C_DASH = 1 << 4,
	C_DOT = 1 << 5,
	C_PLUS_SLASH = 1 << 6,
};
#define C_ALNUM (C_UPPER | C_LOWER | C_DIGIT)
#define C_B64URL (C_ALNUM | C_USCORE | C_DASH)

/* Character classes (C_*) of each byte. */
extern const uint8_t builtin_cls[256];

/* p against the literal s (ASCII case ignored with fold): 1 it matches, 0 the avail bytes
 * match but are fewer, -1 it does not. */
int builtin_lit(const uint8_t *p, size_t avail, const char *s, bool fold);
/* The end of a run of backslashes at p + j (at most 8: a block escaped that many times). */
size_t builtin_backslashes(const uint8_t *p, size_t j, size_t avail);
/* Past up to 64 blanks (space, tab) at p + j. */
size_t builtin_skip_blanks(const uint8_t *p, size_t j, size_t avail);
/*
 * A quote at p + j: ' or ", after backslashes (a string inside a string) or written \u0022
 * or \u0027 (System.Text.Json), its backslash doubled any number of times. The quote with
 * *end after it; 0 when there is none, -1 when the bytes available end before it is known.
 */
int builtin_quote(const uint8_t *p, size_t j, size_t avail, size_t *end);
/* An Authorization header's value after p (redact-auth.c). */
int builtin_match_authorization(const uint8_t *p, size_t avail, bool final, struct bm *m);
/* A private-key block at p (redact-pem.c); p[-back..0) is the text before it, the stream
 * starting at p - back when start. */
int builtin_match_pem(const uint8_t *p, size_t avail, bool final, size_t back, bool start,
		      struct bm *m);
/* The rest of a block that goes on at p as from says (a match with m->cont). */
int builtin_pem_resume(const uint8_t *p, size_t avail, bool final, const struct pem_cont *from,
		       struct bm *m);
