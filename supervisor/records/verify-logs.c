/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `airlock records verify --logs`: the captured logs of a record against the size and
 * SHA-256 its signed part holds for them (docs/audit.md). Read as they stream, never whole:
 * a log may be as large as logs.max_size.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "macro.h"
#include "parse-util.h"
#include "run-log.h"
#include "sha256-lib.h"
#include "sha256.h"
#include "verify.h"

#define READ_CHUNK (256 * 1024)

/* libcrypto's SHA-256 when it is there, else common/sha256.c. */
struct hasher {
	void *lib;
	struct sha256 own;
};

static void hasher_init(struct hasher *h)
{
	h->lib = sha256_lib_new();
	sha256_init(&h->own);
}

static int hasher_update(struct hasher *h, const void *buf, size_t len)
{
	if (!h->lib) {
		sha256_update(&h->own, buf, len);
		return 0;
	}
	if (sha256_lib_update(h->lib, buf, len))
		return 0;
	h->lib = (sha256_lib_free(h->lib), NULL);
	return -EIO;
}

static int hasher_final(struct hasher *h, uint8_t d[SHA256_DIGEST_SIZE])
{
	if (!h->lib) {
		sha256_final(&h->own, d);
		return 0;
	}
	return sha256_lib_final(TAKE_PTR(h->lib), d) ? 0 : -EIO;
}

/* The SHA-256 (hex) and size of the bytes fd reads. 0 or -errno. */
static int hash_fd(int fd, char hex[SHA256_DIGEST_SIZE * 2 + 1], uint64_t *ret_size)
{
	_cleanup_free_ char *buf = malloc(READ_CHUNK);
	uint8_t d[SHA256_DIGEST_SIZE];
	struct hasher h;
	uint64_t size = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	hasher_init(&h);
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		r = hasher_update(&h, buf, (size_t)n);
		if (r < 0)
			break;
		size += (uint64_t)n;
	}
	if (r < 0) {
		sha256_lib_free(h.lib);
		return r;
	}
	r = hasher_final(&h, d);
	if (r < 0)
		return r;
	hex_encode(d, sizeof(d), hex);
	*ret_size = size;
	return 0;
}

int verify_log(int state_fd, const char *id, const char *stream, const json_t *log, char *why,
	       size_t why_size)
{
	_cleanup_close_ int fd = -EBADF;
	const char *want = json_string_value(json_object_get(log, "sha256"));
	json_t *want_size = json_object_get(log, "size");
	char path[NAME_MAX + 16], hex[SHA256_DIGEST_SIZE * 2 + 1];
	struct stat st;
	uint64_t size;
	int r;

	if (!want)
		return 0; /* nothing pinned: no log, or a log the record could not hash */
	snprintf(path, sizeof(path), RUN_LOG_DIR "/%s.%s", id, stream);
	fd = openat(state_fd, path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, why_size, "its %s log %s: %s", stream, path,
			 errno == ENOENT ? "missing (deleted)" : strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_size, "its %s log %s: not a regular file", stream, path);
		return 1;
	}
	r = hash_fd(fd, hex, &size);
	if (r < 0) {
		snprintf(why, why_size, "its %s log %s: %s", stream, path, strerror(-r));
		return 1;
	}
	if (json_is_integer(want_size) && (uint64_t)json_integer_value(want_size) != size) {
		snprintf(why, why_size,
			 "its %s log %s: changed (%" PRIu64 " bytes, the record says %" PRIu64 ")",
			 stream, path, size, (uint64_t)json_integer_value(want_size));
		return 1;
	}
	if (!streq(hex, want)) {
		snprintf(why, why_size, "its %s log %s: changed (its sha256 is not the record's)",
			 stream, path);
		return 1;
	}
	return 0;
}
