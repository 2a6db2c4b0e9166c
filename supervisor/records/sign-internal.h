/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What sign.c (the key, libcrypto, the keyring) shares with sign-cache.c (the key a
 * process signs with, the signer's or its own). Not for other files: sign.h is the API.
 */

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "sign.h"

struct sign_key {
	EVP_PKEY *pkey; /* NULL for the signer's key (signer.h) until the signer failed */
	int signer_fd; /* the signer's socket (the cache's), -EBADF */
	uint8_t pub[SIGN_PUBLIC_SIZE];
	char id[SIGN_KEY_ID_LEN + 1];
};

/* Signs len bytes with k's private key, loaded in this process (k->pkey). 0, or -EIO. */
int sign_local(const struct sign_key *k, const void *data, size_t len,
	       uint8_t sig[SIGN_SIGNATURE_SIZE]);
