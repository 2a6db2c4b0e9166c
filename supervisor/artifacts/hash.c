/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libcrypto is reached through dlsym() with the prototypes below (the EVP digest API,
 * stable since OpenSSL 1.1): no OpenSSL header is needed and nothing links it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "hash.h"

struct evp_api {
	void *(*ctx_new)(void);
	void (*ctx_free)(void *ctx);
	const void *(*sha256)(void);
	int (*init)(void *ctx, const void *md, void *engine);
	int (*update)(void *ctx, const void *d, size_t n);
	int (*final)(void *ctx, unsigned char *md, unsigned *n);
};

static struct evp_api evp;
static bool evp_tried;

static void evp_load(void)
{
	void *h;

	if (evp_tried)
		return;
	evp_tried = true;
	h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	evp.ctx_new = (void *(*)(void))dlsym(h, "EVP_MD_CTX_new");
	evp.ctx_free = (void (*)(void *))dlsym(h, "EVP_MD_CTX_free");
	evp.sha256 = (const void *(*)(void))dlsym(h, "EVP_sha256");
	evp.init = (int (*)(void *, const void *, void *))dlsym(h, "EVP_DigestInit_ex");
	evp.update = (int (*)(void *, const void *, size_t))dlsym(h, "EVP_DigestUpdate");
	evp.final = (int (*)(void *, unsigned char *, unsigned *))dlsym(h, "EVP_DigestFinal_ex");
	if (!evp.ctx_new || !evp.ctx_free || !evp.sha256 || !evp.init || !evp.update || !evp.final)
		evp = (struct evp_api){}; /* the handle stays: symbols may be in use elsewhere */
}

int export_hash_init(struct export_hash *h)
{
	evp_load();
	h->evp = NULL;
	if (evp.ctx_new) {
		h->evp = evp.ctx_new();
		if (!h->evp)
			return -ENOMEM;
		if (evp.init(h->evp, evp.sha256(), NULL) != 1) {
			evp.ctx_free(h->evp);
			h->evp = NULL;
		}
	}
	if (!h->evp)
		sha256_init(&h->soft);
	return 0;
}

void export_hash_update(struct export_hash *h, const void *buf, size_t len)
{
	if (h->evp)
		(void)evp.update(h->evp, buf, len);
	else
		sha256_update(&h->soft, buf, len);
}

void export_hash_final(struct export_hash *h, uint8_t digest[SHA256_DIGEST_SIZE])
{
	unsigned n = 0;

	if (!h->evp) {
		sha256_final(&h->soft, digest);
		return;
	}
	(void)evp.final(h->evp, digest, &n);
	export_hash_done(h);
}

void export_hash_done(struct export_hash *h)
{
	if (h->evp)
		evp.ctx_free(h->evp);
	h->evp = NULL;
}

const char *export_hash_implementation(void)
{
	evp_load();
	return evp.ctx_new ? "libcrypto" : "builtin";
}
