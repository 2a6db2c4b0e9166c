/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>

#include "hash.h"
#include "sha256-lib.h"

int export_hash_init(struct export_hash *h)
{
	h->evp = sha256_lib_new();
	if (!h->evp)
		sha256_init(&h->soft);
	return 0;
}

void export_hash_update(struct export_hash *h, const void *buf, size_t len)
{
	if (h->evp && !sha256_lib_update(h->evp, buf, len))
		abort(); /* does not happen for SHA-256; a wrong digest must not pass */
	if (!h->evp)
		sha256_update(&h->soft, buf, len);
}

void export_hash_final(struct export_hash *h, uint8_t digest[SHA256_DIGEST_SIZE])
{
	void *evp = h->evp;

	h->evp = NULL;
	if (!evp)
		sha256_final(&h->soft, digest);
	else if (!sha256_lib_final(evp, digest))
		abort();
}

void export_hash_done(struct export_hash *h)
{
	sha256_lib_free(h->evp);
	h->evp = NULL;
}

const char *export_hash_implementation(void)
{
	void *ctx = sha256_lib_new();

	sha256_lib_free(ctx);
	return ctx ? "libcrypto" : "builtin";
}
