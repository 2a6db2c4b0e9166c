/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the private-key block scanner shares between its two files: redact-pem.c (the
 * block: its BEGIN line, headers, words of base64 and END line) and redact-pem-prefix.c
 * (what stands between its words: list syntax and a prefix on each line).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redact-internal.h"

#define PEM_LINE_MIN 16 /* a word run into other output shorter than this is not the key's */

enum { PEM_ESC_MORE = -1, PEM_ESC_NONE, PEM_ESC_SEP, PEM_ESC_BLANK, PEM_ESC_CHAR };

/* An escape at p + j inside a block in a string (\n, \t, \/, \uXXXX, its backslash doubled
 * any number of times): its kind (PEM_ESC_*), with *len (redact-pem.c). */
int pem_escape(const uint8_t *p, size_t j, size_t avail, size_t *len);

/* Whether p[j] starts a separator inside a block (list: one written as a list of its
 * lines; c: the prefix its lines carry): its length, 0 when it is none, -1 when its end is
 * still to come. */
int pem_sep(const uint8_t *p, size_t j, size_t avail, bool list, const struct pem_cont *c);
/* Sets c's prefix from the text before "-----BEGIN" on its line at p[-back..0) (bos: the
 * stream starts at p - back); leaves it empty when that text is no prefix. */
void pem_prefix(const uint8_t *p, size_t back, bool bos, struct pem_cont *c);
/* At a line's start at p + j in a block whose lines carry c's prefix: past it (or past a
 * blank line holding some of it); j when the line does not start with it, SIZE_MAX when
 * the bytes available end first. */
size_t pem_line_prefix(const uint8_t *p, size_t j, size_t avail, bool final,
		       const struct pem_cont *c);
