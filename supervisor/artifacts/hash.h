/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * SHA-256 of exported files: libcrypto's (SHA-NI, AVX2: about 5x common/sha256.c) when
 * it can be loaded, else common/sha256.c. libcrypto is opened with dlopen() at the first
 * export only, so runs without "artifacts" never map it (its constructor costs about
 * 1 ms of start latency, sha256.h).
 */

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

struct export_hash {
	void *evp; /* EVP_MD_CTX *, or NULL: soft is used */
	struct sha256 soft;
};

/* Starts a digest. Returns 0 or -ENOMEM. Does not log. */
int export_hash_init(struct export_hash *h);
void export_hash_update(struct export_hash *h, const void *buf, size_t len);
/* Ends the digest and frees what init took. */
void export_hash_final(struct export_hash *h, uint8_t digest[SHA256_DIGEST_SIZE]);
/* Frees what init took without a digest (an abandoned file). */
void export_hash_done(struct export_hash *h);
/* "libcrypto" or "builtin": which implementation export_hash_init() uses. */
const char *export_hash_implementation(void);
