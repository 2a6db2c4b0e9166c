/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include "log.h"
#include "run-log-digest.h"

/* The few libcrypto functions used, looked up once per process (the library stays). */
struct evp_api {
	void *(*ctx_new)(void);
	void (*ctx_free)(void *ctx);
	const void *(*sha256)(void);
	int (*init)(void *ctx, const void *md, void *engine);
	int (*update)(void *ctx, const void *data, size_t len);
	int (*final)(void *ctx, unsigned char *md, unsigned int *len);
};

static struct evp_api api;
static int api_state; /* 0: not tried, 1: loaded, -1: not available */

static bool evp_load(void)
{
	void *h;

	if (api_state != 0)
		return api_state > 0;
	api_state = -1;
	h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_debug("libcrypto not loaded, captured logs are hashed by airlock's own "
			  "SHA-256: %s",
			  dlerror());
		return false;
	}
	*(void **)&api.ctx_new = dlsym(h, "EVP_MD_CTX_new");
	*(void **)&api.ctx_free = dlsym(h, "EVP_MD_CTX_free");
	*(void **)&api.sha256 = dlsym(h, "EVP_sha256");
	*(void **)&api.init = dlsym(h, "EVP_DigestInit_ex");
	*(void **)&api.update = dlsym(h, "EVP_DigestUpdate");
	*(void **)&api.final = dlsym(h, "EVP_DigestFinal_ex");
	if (!api.ctx_new || !api.ctx_free || !api.sha256 || !api.init || !api.update || !api.final)
		return false; /* the handle stays: a partial library is not closed under us */
	api_state = 1;
	return true;
}

void run_log_digest_init(struct run_log_digest *d)
{
	*d = (struct run_log_digest){};
	sha256_init(&d->own);
}

/* Hashes the file's first len bytes into ctx (libcrypto's) or own. */
static bool catch_up(void *ctx, struct sha256 *own, int fd, uint64_t len)
{
	char buf[65536];
	uint64_t off = 0;

	while (off < len) {
		size_t want = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n <= 0)
			return false;
		if (ctx && api.update(ctx, buf, (size_t)n) != 1)
			return false;
		if (!ctx)
			sha256_update(own, buf, (size_t)n);
		off += (uint64_t)n;
	}
	return true;
}

static void evp_switch(struct run_log_digest *d, int fd)
{
	void *ctx;

	d->tried = true;
	if (!evp_load())
		return;
	ctx = api.ctx_new();
	if (!ctx)
		return;
	if (api.init(ctx, api.sha256(), NULL) != 1 || !catch_up(ctx, NULL, fd, d->len)) {
		log_debug("could not switch a captured log's digest to libcrypto, going on "
			  "with airlock's own");
		api.ctx_free(ctx);
		return;
	}
	d->evp = ctx;
}

/* libcrypto failed midway (it does not, for SHA-256): airlock's own takes over. */
static void evp_fail(struct run_log_digest *d, int fd)
{
	api.ctx_free(d->evp);
	d->evp = NULL;
	sha256_init(&d->own);
	if (!catch_up(NULL, &d->own, fd, d->len))
		log_warning("Failed to rehash a captured log after libcrypto failed: its sha256 in "
			    "the record is wrong");
}

void run_log_digest_update(struct run_log_digest *d, int fd, const void *buf, size_t len)
{
	if (!d->tried && d->len + len > RUN_LOG_DIGEST_SWITCH)
		evp_switch(d, fd);
	if (d->evp && api.update(d->evp, buf, len) != 1)
		evp_fail(d, fd);
	if (!d->evp)
		sha256_update(&d->own, buf, len);
	d->len += len;
}

void run_log_digest_final(struct run_log_digest *d, int fd, uint8_t md[SHA256_DIGEST_SIZE])
{
	unsigned int n = 0;

	if (d->evp && (api.final(d->evp, md, &n) != 1 || n != SHA256_DIGEST_SIZE))
		evp_fail(d, fd);
	if (!d->evp)
		sha256_final(&d->own, md);
	run_log_digest_done(d);
}

void run_log_digest_done(struct run_log_digest *d)
{
	if (d->evp)
		api.ctx_free(d->evp);
	d->evp = NULL;
}
