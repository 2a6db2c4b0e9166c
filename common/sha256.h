/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * SHA-256 (FIPS 180-4) for digests of public data (policies, records). Kept here rather
 * than taken from libcrypto because loading libcrypto costs about 1 ms at every process
 * start (its constructor probes the CPU), a sixth of a sandbox start; the unit tests
 * check it against the FIPS test vectors and against OpenSSL.
 */

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256 {
	uint32_t state[8];
	uint64_t length; /* bytes hashed so far */
	uint8_t block[64];
	size_t fill; /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t digest[SHA256_DIGEST_SIZE]);
/* One-shot digest of len bytes. */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_DIGEST_SIZE]);
/* The same digest as lowercase hex, NUL-terminated. */
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1)
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_SIZE]);
