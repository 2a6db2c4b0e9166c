/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>
#include <stdio.h>

#include "sha256-lib.h"

/* The few libcrypto functions used, looked up once per process (the library stays). */
static struct {
	void *(*ctx_new)(void);
	void (*ctx_free)(void *ctx);
	const void *(*sha256)(void);
	int (*init)(void *ctx, const void *md, void *engine);
	int (*update)(void *ctx, const void *data, size_t len);
	int (*final)(void *ctx, unsigned char *md, unsigned int *len);
} api;
static int api_state; /* 0: not tried, 1: loaded, -1: not available */
static char problem[160];

static bool load(void)
{
	void *h;

	if (api_state != 0)
		return api_state > 0;
	api_state = -1;
	h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(problem, sizeof(problem), "%s", dlerror());
		return false;
	}
	*(void **)&api.ctx_new = dlsym(h, "EVP_MD_CTX_new");
	*(void **)&api.ctx_free = dlsym(h, "EVP_MD_CTX_free");
	*(void **)&api.sha256 = dlsym(h, "EVP_sha256");
	*(void **)&api.init = dlsym(h, "EVP_DigestInit_ex");
	*(void **)&api.update = dlsym(h, "EVP_DigestUpdate");
	*(void **)&api.final = dlsym(h, "EVP_DigestFinal_ex");
	if (!api.ctx_new || !api.ctx_free || !api.sha256 || !api.init || !api.update ||
	    !api.final) {
		/* the handle stays: a partial library is not closed under anyone */
		snprintf(problem, sizeof(problem), "libcrypto.so.3 lacks the EVP digest API");
		return false;
	}
	api_state = 1;
	return true;
}

void *sha256_lib_new(void)
{
	void *ctx;

	if (!load())
		return NULL;
	ctx = api.ctx_new();
	if (ctx && api.init(ctx, api.sha256(), NULL) != 1) {
		api.ctx_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

bool sha256_lib_update(void *ctx, const void *buf, size_t len)
{
	return api.update(ctx, buf, len) == 1;
}

bool sha256_lib_final(void *ctx, uint8_t md[SHA256_DIGEST_SIZE])
{
	unsigned int n = 0;
	bool ok = api.final(ctx, md, &n) == 1 && n == SHA256_DIGEST_SIZE;

	api.ctx_free(ctx);
	return ok;
}

void sha256_lib_free(void *ctx)
{
	if (ctx)
		api.ctx_free(ctx);
}

const char *sha256_lib_problem(void)
{
	return problem;
}
