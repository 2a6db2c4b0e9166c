/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The SHA-256 of a captured log as it is written. airlock's own SHA-256 (common/sha256.c,
 * about 225 MB/s) hashes the first RUN_LOG_DIGEST_SWITCH bytes; a log that grows past
 * them switches to OpenSSL's libcrypto (several times faster, with the CPU's SHA
 * instructions), loaded with dlopen() then and only then: most runs write less and never
 * pay for loading it (about 0.7 ms). The switch re-reads the bytes hashed so far from the
 * file (which must be open for reading too). Without libcrypto, or when any step of the
 * switch fails, airlock's own goes on: the digest is the same either way.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define RUN_LOG_DIGEST_SWITCH (1024 * 1024)

struct run_log_digest {
	struct sha256 own;
	void *evp; /* libcrypto's EVP_MD_CTX, once switched; NULL before */
	uint64_t len; /* bytes hashed */
	bool tried; /* the switch was tried (it is tried once) */
};

void run_log_digest_init(struct run_log_digest *d);
/* Hashes len bytes that were just appended to the file fd. Never fails. */
void run_log_digest_update(struct run_log_digest *d, int fd, const void *buf, size_t len);
/* The digest of what was hashed (fd: the same file); frees what d holds. */
void run_log_digest_final(struct run_log_digest *d, int fd, uint8_t md[SHA256_DIGEST_SIZE]);
/* Frees what d holds without a digest. Safe to call more than once. */
void run_log_digest_done(struct run_log_digest *d);
