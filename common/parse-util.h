/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Parses a size: decimal digits with an optional binary suffix K, M, G or T (1024-based),
 * e.g. "512M". Plain digits are bytes. Returns 0, -EINVAL (syntax) or -ERANGE (overflow).
 */
int parse_size(const char *s, uint64_t *ret);
/*
 * Parses a duration: decimal digits followed by one unit of "ms", "s", "m" or "h",
 * e.g. "90s", "10m", "1h". Result in milliseconds. Returns 0, -EINVAL or -ERANGE.
 */
int parse_duration_ms(const char *s, uint64_t *ret);
/* Formats bytes in the largest exact binary unit ("512M", "1536K", "7"). */
void format_size(uint64_t bytes, char *buf, size_t len);
/* Formats milliseconds in the largest exact unit ("10m", "90s", "250ms"). */
void format_duration_ms(uint64_t ms, char *buf, size_t len);
/* Lower-case hex of len bytes into buf (at least 2*len+1 bytes). */
void hex_encode(const uint8_t *data, size_t len, char *buf);
