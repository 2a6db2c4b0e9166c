/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * libcrypto's SHA-256 (SHA-NI, AVX2: about 5x common/sha256.c), reached with dlopen() and
 * dlsym() through the EVP digest API (stable since OpenSSL 1.1): nothing links libcrypto,
 * and a process maps it only at the first sha256_lib_new() (its constructors cost about
 * 1 ms, so runs that hash little never pay it). Callers fall back to common/sha256.c when
 * it is not there. None of these log.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* A digest in progress (an EVP_MD_CTX), or NULL when libcrypto is not available or out of
 * memory. Loads libcrypto once per process. */
void *sha256_lib_new(void);
/* Whether the bytes went in; false: the context is unusable (free it). */
bool sha256_lib_update(void *ctx, const void *buf, size_t len);
/* The digest, and frees ctx (also on failure, returning false). */
bool sha256_lib_final(void *ctx, uint8_t md[SHA256_DIGEST_SIZE]);
void sha256_lib_free(void *ctx);
/* A human-readable reason libcrypto is not used ("" once loaded). */
const char *sha256_lib_problem(void);
