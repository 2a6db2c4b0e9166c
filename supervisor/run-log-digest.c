/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <unistd.h>

#include "log.h"
#include "run-log-digest.h"
#include "sha256-lib.h"

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
		if (ctx && !sha256_lib_update(ctx, buf, (size_t)n))
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
	ctx = sha256_lib_new();
	if (!ctx) {
		log_debug("libcrypto not loaded, captured logs are hashed by airlock's own "
			  "SHA-256: %s",
			  sha256_lib_problem());
		return;
	}
	if (!catch_up(ctx, NULL, fd, d->len)) {
		log_debug("could not switch a captured log's digest to libcrypto, going on "
			  "with airlock's own");
		sha256_lib_free(ctx);
		return;
	}
	d->evp = ctx;
}

/* libcrypto failed midway (it does not, for SHA-256): airlock's own hashes it all again. */
static void rehash_own(struct run_log_digest *d, int fd)
{
	sha256_init(&d->own);
	if (!catch_up(NULL, &d->own, fd, d->len))
		log_warning("Failed to rehash a captured log after libcrypto failed: its sha256 in "
			    "the record is wrong");
}

void run_log_digest_update(struct run_log_digest *d, int fd, const void *buf, size_t len)
{
	if (!d->tried && d->len + len > RUN_LOG_DIGEST_SWITCH)
		evp_switch(d, fd);
	if (d->evp && !sha256_lib_update(d->evp, buf, len)) {
		sha256_lib_free(d->evp);
		d->evp = NULL;
		rehash_own(d, fd);
	}
	if (!d->evp)
		sha256_update(&d->own, buf, len);
	d->len += len;
}

void run_log_digest_final(struct run_log_digest *d, int fd, uint8_t md[SHA256_DIGEST_SIZE])
{
	if (d->evp) {
		void *ctx = d->evp;

		d->evp = NULL;
		if (sha256_lib_final(ctx, md))
			return;
		rehash_own(d, fd);
	}
	sha256_final(&d->own, md);
}

void run_log_digest_done(struct run_log_digest *d)
{
	sha256_lib_free(d->evp);
	d->evp = NULL;
}
