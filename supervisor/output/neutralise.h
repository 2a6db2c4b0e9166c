/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The neutraliser: takes away the power task output has over a terminal or a log viewer.
 * Pure (no I/O, no globals), streaming, never fails.
 *
 * What passes unchanged: printable ASCII, tab, newline, carriage return, and well-formed
 * UTF-8 of U+00A0 and above. What is rendered as visible text instead:
 *  - C0 controls other than tab, newline and carriage return (ESC and NUL included) and
 *    DEL, as "\xHH" (two lowercase hex digits: ESC is "\x1b");
 *  - bytes that are not part of well-formed UTF-8 (stray continuation bytes, overlong
 *    forms, surrogates, beyond U+10FFFF, truncated sequences; raw 0x9b too), one "\xHH"
 *    per byte;
 *  - the C1 controls U+0080..U+009F written as UTF-8, and the bidirectional overrides and
 *    isolates U+202A..U+202E and U+2066..U+2069 (they reorder what a viewer shows), as
 *    "\uHHHH" (four lowercase hex digits: U+009B is "\u009b").
 * A backslash is not escaped, so a task can print text that looks like an escape; it
 * cannot print one that acts.
 *
 * A UTF-8 sequence split across feeds is held (at most 3 bytes) until the next feed;
 * neutralise_finish() renders a sequence left incomplete at the end as "\xHH" bytes.
 */

#include <stddef.h>
#include <stdint.h>

/* Most output neutralise_feed() writes for len input bytes (neutralise_finish: len 0). */
#define NEUTRALISE_MAX_OUT(len) (((len) + 3) * 4)

struct neutralise {
	uint8_t held[4]; /* an incomplete UTF-8 sequence from the previous feed */
	uint8_t n_held;
	uint64_t escaped; /* characters (or invalid bytes) rendered as escapes so far */
};

void neutralise_init(struct neutralise *nz);
/*
 * Neutralises len bytes of in into out, which must have room for NEUTRALISE_MAX_OUT(len)
 * bytes. Returns the number of bytes written. Does not log, cannot fail.
 */
size_t neutralise_feed(struct neutralise *nz, const void *in, size_t len, char *out);
/* Writes what is held (at most NEUTRALISE_MAX_OUT(0) bytes) and resets the state. */
size_t neutralise_finish(struct neutralise *nz, char *out);
