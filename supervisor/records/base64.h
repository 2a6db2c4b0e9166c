/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Standard base64 (RFC 4648 section 4, with padding), for signatures and DSSE envelopes. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BASE64_LEN(n) (4 * (((n) + 2) / 3))

/* Encodes len bytes into out, which holds BASE64_LEN(len) + 1 bytes (NUL-terminated). */
void base64_encode(const uint8_t *data, size_t len, char *out);
/*
 * Decodes len characters of padded base64 (no whitespace) into out (max bytes). Returns
 * the decoded length, -EINVAL for anything else than canonical base64, -ENOBUFS.
 */
ssize_t base64_decode(const char *in, size_t len, uint8_t *out, size_t max);
