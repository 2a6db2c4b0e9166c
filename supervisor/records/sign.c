/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Node keys (sign.h): libcrypto opened with dlopen(), a key and its PEM forms, the keyring
 * under <state>/keys (load, create, rotate), signing with a key loaded here, and
 * verifying. Which key a process signs with, the signer's or its own: sign-cache.c.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base64.h"
#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "parse-util.h"
#include "sha256.h"
#include "sign-internal.h"
#include "sign.h"

#define LIBCRYPTO_SONAME "libcrypto.so.3"
/* 1 in the signer program, which links libcrypto; airlock opens it with dlopen(). */
#ifndef SIGN_CRYPTO_LINKED
#define SIGN_CRYPTO_LINKED 0
#endif
#define KEY_MAX_BYTES 4096

/* DER prefixes of an Ed25519 key (RFC 8410): PKCS#8 private key, SubjectPublicKeyInfo. */
static const uint8_t pkcs8_prefix[16] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
					  0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };
static const uint8_t spki_prefix[12] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
					 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };

/* The few libcrypto functions used, found with dlsym() (see sign.h for why). */
static struct {
	pthread_once_t once;
	int error;
	void *handle;
	__typeof__(OPENSSL_init_crypto) *init;
	__typeof__(EVP_PKEY_new_raw_private_key_ex) *new_private;
	__typeof__(EVP_PKEY_new_raw_public_key) *new_public;
	__typeof__(EVP_PKEY_get_raw_public_key) *get_public;
	__typeof__(EVP_PKEY_free) *pkey_free;
	__typeof__(EVP_MD_CTX_new) *ctx_new;
	__typeof__(EVP_MD_CTX_free) *ctx_free;
	__typeof__(EVP_DigestSignInit_ex) *sign_init;
	__typeof__(EVP_DigestSign) *sign;
	__typeof__(EVP_DigestVerifyInit) *verify_init;
	__typeof__(EVP_DigestVerify) *verify;
} crypto = { .once = PTHREAD_ONCE_INIT };

#if SIGN_CRYPTO_LINKED
/* The signer program (signer-main.c) links libcrypto: nothing to look up. */
#define LOOKUP(field, name) (crypto.field = (name))
#else
#define LOOKUP(field, name)                                            \
	do {                                                           \
		*(void **)&crypto.field = dlsym(crypto.handle, #name); \
		if (!crypto.field)                                     \
			return;                                        \
	} while (0)
#endif

static void crypto_open_once(void)
{
	crypto.error = -ELIBACC;
#if !SIGN_CRYPTO_LINKED
	crypto.handle = dlopen(LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!crypto.handle)
		return;
#endif
	LOOKUP(init, OPENSSL_init_crypto);
	/*
	 * Ed25519 of the default provider needs no openssl.cnf (reading it costs a file), nor
	 * the legacy tables of every cipher and digest, nor the error strings (errors here are
	 * -errno): each costs fresh pages, at 11 us a fault here. Freeing libcrypto's tables
	 * at exit only costs the exit: the kernel frees them.
	 */
	if (crypto.init(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT |
				OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS |
				OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS,
			NULL) != 1)
		return;
	LOOKUP(new_private, EVP_PKEY_new_raw_private_key_ex);
	LOOKUP(new_public, EVP_PKEY_new_raw_public_key);
	LOOKUP(get_public, EVP_PKEY_get_raw_public_key);
	LOOKUP(pkey_free, EVP_PKEY_free);
	LOOKUP(ctx_new, EVP_MD_CTX_new);
	LOOKUP(ctx_free, EVP_MD_CTX_free);
	LOOKUP(sign_init, EVP_DigestSignInit_ex);
	LOOKUP(sign, EVP_DigestSign);
	LOOKUP(verify_init, EVP_DigestVerifyInit);
	LOOKUP(verify, EVP_DigestVerify);
	crypto.error = 0;
}

static int crypto_open(void)
{
	pthread_once(&crypto.once, crypto_open_once);
	return crypto.error;
}

struct sign_key *sign_key_free(struct sign_key *k)
{
	if (!k)
		return NULL;
	if (k->pkey)
		crypto.pkey_free(k->pkey);
	free(k);
	return NULL;
}

const char *sign_key_id(const struct sign_key *k)
{
	return k->id;
}

void sign_key_public(const struct sign_key *k, uint8_t pub[SIGN_PUBLIC_SIZE])
{
	memcpy(pub, k->pub, SIGN_PUBLIC_SIZE);
}

void sign_key_id_of(const uint8_t pub[SIGN_PUBLIC_SIZE], char *id)
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256(pub, SIGN_PUBLIC_SIZE, d);
	hex_encode(d, sizeof(d), id);
}

/* A PEM block of label around der (at most 48 bytes: one line of base64). */
static void pem_format(const char *label, const uint8_t *der, size_t len, char *buf, size_t max)
{
	char b64[BASE64_LEN(64) + 1];

	base64_encode(der, len, b64);
	snprintf(buf, max, "-----BEGIN %s-----\n%s\n-----END %s-----\n", label, b64, label);
}

void sign_key_public_pem(const struct sign_key *k, char buf[SIGN_PEM_MAX])
{
	uint8_t der[sizeof(spki_prefix) + SIGN_PUBLIC_SIZE];

	memcpy(der, spki_prefix, sizeof(spki_prefix));
	memcpy(der + sizeof(spki_prefix), k->pub, SIGN_PUBLIC_SIZE);
	pem_format("PUBLIC KEY", der, sizeof(der), buf, SIGN_PEM_MAX);
}

/*
 * The DER inside the first PEM block of label at or after *pos; advances *pos past it.
 * 1 found, 0 none, -EINVAL malformed.
 */
static int pem_parse(const char **pos, const char *label, uint8_t *der, size_t max, size_t *ret_len)
{
	char begin[64], end[64];
	const char *b, *e;
	char b64[256];
	size_t n = 0;
	ssize_t l;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
	snprintf(end, sizeof(end), "-----END %s-----", label);
	b = strstr(*pos, begin);
	if (!b)
		return 0;
	b += strlen(begin);
	e = strstr(b, end);
	if (!e)
		return -EINVAL;
	for (const char *p = b; p < e; p++) {
		if (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
			continue;
		if (n + 1 >= sizeof(b64))
			return -EINVAL;
		b64[n++] = *p;
	}
	l = base64_decode(b64, n, der, max);
	if (l < 0)
		return -EINVAL;
	*ret_len = (size_t)l;
	*pos = e + strlen(end);
	return 1;
}

int sign_parse_public_pem(const char **pos, uint8_t pub[SIGN_PUBLIC_SIZE])
{
	uint8_t der[128];
	size_t len = 0;
	int r;

	r = pem_parse(pos, "PUBLIC KEY", der, sizeof(der), &len);
	if (r <= 0)
		return r < 0 ? -ENOKEY : 0;
	if (len != sizeof(spki_prefix) + SIGN_PUBLIC_SIZE ||
	    memcmp(der, spki_prefix, sizeof(spki_prefix)) != 0)
		return -ENOKEY;
	memcpy(pub, der + sizeof(spki_prefix), SIGN_PUBLIC_SIZE);
	return 1;
}

/* A key from its 32 private bytes. */
static int key_from_seed(const uint8_t seed[32], struct sign_key **ret)
{
	_cleanup_(sign_key_freep) struct sign_key *k = calloc(1, sizeof(*k));
	size_t len = SIGN_PUBLIC_SIZE;
	int r;

	if (!k)
		return -ENOMEM;
	k->signer_fd = -EBADF;
	r = crypto_open();
	if (r < 0)
		return r;
	/* By name, OpenSSL 3's way: no pass through its legacy tables (~0.5 ms here). */
	k->pkey = crypto.new_private(NULL, "ED25519", NULL, seed, 32);
	if (!k->pkey || crypto.get_public(k->pkey, k->pub, &len) != 1 || len != SIGN_PUBLIC_SIZE)
		return -ENOKEY;
	sign_key_id_of(k->pub, k->id);
	*ret = TAKE_PTR(k);
	return 0;
}

/* The private key's PEM text (PKCS#8, as `openssl genpkey -algorithm ed25519` writes). */
static void private_pem(const uint8_t seed[32], char buf[SIGN_PEM_MAX])
{
	uint8_t der[sizeof(pkcs8_prefix) + 32];

	memcpy(der, pkcs8_prefix, sizeof(pkcs8_prefix));
	memcpy(der + sizeof(pkcs8_prefix), seed, 32);
	pem_format("PRIVATE KEY", der, sizeof(der), buf, SIGN_PEM_MAX);
	explicit_bzero(der, sizeof(der));
}

/* A keyring directory: ours, and nobody else may write it (add a trusted key, swap ours). */
static int keys_dir_ok(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == geteuid() && !(st->st_mode & 022) ? 0 : -EPERM;
}

/* fd, when it is a keyring directory keys_dir_ok() takes; else closed, and -EPERM. */
static int checked_keys_dir(int fd)
{
	struct stat st;
	int r = fstat(fd, &st) < 0 ? -errno : keys_dir_ok(&st);

	if (r < 0) {
		safe_close(fd);
		return r;
	}
	return fd;
}

/* The keyring's copy of k's public key, made when missing. */
static int trust_key(int keys_fd, const struct sign_key *k)
{
	_cleanup_close_ int fd = -EBADF;
	char name[SIGN_KEY_ID_LEN + 8], pem[SIGN_PEM_MAX];
	int r;

	if (mkdirat(keys_fd, SIGN_TRUSTED_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(keys_fd, SIGN_TRUSTED_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fd = checked_keys_dir(TAKE_FD(fd));
	if (fd < 0)
		return fd;
	snprintf(name, sizeof(name), "%s.pem", k->id);
	if (faccessat(fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	sign_key_public_pem(k, pem);
	r = write_file_whole_at(fd, name, pem, 0644, false);
	return r == -EEXIST ? 0 : r;
}

/* node.key's inode: a regular file of ours that nobody else may read, or -EPERM. */
static int key_file_ok(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid() && !(st->st_mode & 077) ? 0 : -EPERM;
}

int sign_key_usable(int state_fd, const char **ret_path)
{
	static const char *const dirs[] = { SIGN_KEY_DIR, SIGN_KEY_DIR "/" SIGN_TRUSTED_DIR };
	struct stat st;

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		*ret_path = dirs[i];
		if (fstatat(state_fd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				break; /* none yet: made on first use */
			return -errno;
		}
		if (keys_dir_ok(&st) < 0)
			return -EPERM;
	}
	*ret_path = SIGN_KEY_DIR "/" SIGN_KEY_FILE;
	if (fstatat(state_fd, SIGN_KEY_DIR "/" SIGN_KEY_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno; /* none yet: made on first use */
	return key_file_ok(&st);
}

/* Reads node.key: a regular file of ours that nobody else may read. */
static int read_key(int keys_fd, struct sign_key **ret)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	uint8_t der[128];
	const char *pos;
	struct stat st;
	size_t len = 0;
	int r;

	fd = openat(keys_fd, SIGN_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	r = key_file_ok(&st);
	if (r < 0)
		return r;
	r = read_file_fd(fd, KEY_MAX_BYTES, &buf, &len);
	if (r < 0)
		return r;
	pos = buf;
	r = pem_parse(&pos, "PRIVATE KEY", der, sizeof(der), &len);
	if (r <= 0 || len != sizeof(pkcs8_prefix) + 32 ||
	    memcmp(der, pkcs8_prefix, sizeof(pkcs8_prefix)) != 0)
		r = -ENOKEY;
	else
		r = key_from_seed(der + sizeof(pkcs8_prefix), ret);
	explicit_bzero(der, sizeof(der));
	explicit_bzero(buf, len);
	return r;
}

/* A fresh key written as name in keys_fd (over one there when replace), into *ret. */
static int write_new_key(int keys_fd, const char *name, bool replace, struct sign_key **ret)
{
	uint8_t seed[32];
	char pem[SIGN_PEM_MAX];
	int r;

	if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
		return -errno;
	private_pem(seed, pem);
	r = key_from_seed(seed, ret);
	explicit_bzero(seed, sizeof(seed));
	if (r >= 0) {
		r = write_file_whole_at(keys_fd, name, pem, 0600, replace);
		if (r < 0)
			*ret = sign_key_free(*ret);
	}
	explicit_bzero(pem, sizeof(pem));
	return r;
}

/* Makes node.key unless another process just did (then reads theirs). */
static int create_key(int keys_fd, struct sign_key **ret)
{
	int r = write_new_key(keys_fd, SIGN_KEY_FILE, false, ret);

	if (r == -EEXIST)
		return read_key(keys_fd, ret);
	return r;
}

static int open_keys_dir(int state_fd)
{
	int fd;

	if (mkdirat(state_fd, SIGN_KEY_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(state_fd, SIGN_KEY_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : checked_keys_dir(fd);
}

/* The keyring directory's entries made so far, on their way to the disk before the next. */
static int sync_dir_at(int dir_fd, const char *name)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

/*
 * node.key, finishing a rotation that died after retiring it (sign_key_rotate()): the new
 * key it wrote first (node.key.next) is put in place, under the keyring's lock. A retired
 * node.key with no new key beside it (not a rotation's: removed by hand) is -EKEYREVOKED:
 * nothing is signed with a key the keyring says signs nothing more.
 */
static int read_current_key(int state_fd, int keys_fd, struct sign_key **ret)
{
	_cleanup_(sign_key_freep) struct sign_key *k = NULL;
	int r;

	r = read_key(keys_fd, &k);
	if (r < 0 || !sign_key_retired(state_fd, k)) {
		if (r >= 0)
			*ret = TAKE_PTR(k);
		return r;
	}
	k = sign_key_free(k);
	while (flock(keys_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	r = read_key(keys_fd, &k); /* another process may have finished it meanwhile */
	if (r < 0 || !sign_key_retired(state_fd, k)) {
		if (r >= 0)
			*ret = TAKE_PTR(k);
		return r;
	}
	k = sign_key_free(k);
	if (renameat(keys_fd, SIGN_KEY_NEXT_FILE, keys_fd, SIGN_KEY_FILE) < 0)
		return errno == ENOENT ? -EKEYREVOKED : -errno;
	r = sync_dir_at(keys_fd, ".");
	if (r < 0)
		return r;
	r = read_key(keys_fd, &k);
	if (r >= 0 && sign_key_retired(state_fd, k))
		return -EKEYREVOKED;
	if (r >= 0)
		*ret = TAKE_PTR(k);
	return r;
}

static int key_load(int state_fd, struct sign_key **ret)
{
	_cleanup_(sign_key_freep) struct sign_key *k = NULL;
	_cleanup_close_ int keys_fd = -EBADF;
	int r;

	keys_fd = open_keys_dir(state_fd);
	if (keys_fd < 0)
		return keys_fd;
	r = read_current_key(state_fd, keys_fd, &k);
	if (r == -ENOENT)
		r = create_key(keys_fd, &k);
	if (r < 0)
		return r;
	r = trust_key(keys_fd, k);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(k);
	return 0;
}

int sign_key_load(int state_fd, struct sign_key **ret)
{
	return key_load(state_fd, ret);
}

/* Marks key id retired after record seq, in the keyring (made by trust_key() before). */
static int mark_retired(int keys_fd, const char *id, uint64_t seq)
{
	_cleanup_close_ int fd = -EBADF;
	char name[SIGN_KEY_ID_LEN + sizeof(SIGN_RETIRED_SUFFIX)], text[32];

	fd = openat(keys_fd, SIGN_TRUSTED_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(name, sizeof(name), "%s" SIGN_RETIRED_SUFFIX, id);
	snprintf(text, sizeof(text), "seq %" PRIu64 "\n", seq);
	return write_file_whole_at(fd, name, text, 0644, true);
}

/* A new key written as node.key.next (replacing one a rotation that died left) and trusted. */
static int stage_next_key(int keys_fd, struct sign_key **ret)
{
	_cleanup_(sign_key_freep) struct sign_key *k = NULL;
	int r;

	r = write_new_key(keys_fd, SIGN_KEY_NEXT_FILE, true, &k);
	if (r < 0)
		return r;
	r = trust_key(keys_fd, k);
	if (r >= 0)
		r = sync_dir_at(keys_fd, SIGN_TRUSTED_DIR);
	if (r >= 0)
		r = sync_dir_at(keys_fd, ".");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(k);
	return 0;
}

/*
 * In this order, so that a rotation killed at any step leaves either the old key in use,
 * not retired, or the old key retired and the new one ready to take its place: the new key
 * beside the old (node.key.next) and in the keyring; the old key's retirement mark; the new
 * key renamed over node.key. Whoever loads the node key next finishes a rotation that died
 * after its mark (read_current_key()). Each step synced before the next.
 */
int sign_key_rotate(int state_fd, uint64_t head_seq, struct sign_key **ret)
{
	_cleanup_(sign_key_freep) struct sign_key *old = NULL, *k = NULL;
	_cleanup_close_ int keys_fd = -EBADF;
	int r;

	keys_fd = open_keys_dir(state_fd);
	if (keys_fd < 0)
		return keys_fd;
	while (flock(keys_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	(void)read_current_key(state_fd, keys_fd, &old); /* none, unreadable: none to retire */
	r = stage_next_key(keys_fd, &k);
	if (r < 0)
		return r;
	if (old) {
		r = mark_retired(keys_fd, old->id, head_seq);
		if (r >= 0)
			r = sync_dir_at(keys_fd, SIGN_TRUSTED_DIR);
		if (r < 0)
			return r;
	}
	if (renameat(keys_fd, SIGN_KEY_NEXT_FILE, keys_fd, SIGN_KEY_FILE) < 0)
		return -errno;
	r = sync_dir_at(keys_fd, ".");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(k);
	return 0;
}

bool sign_key_retired(int state_fd, const struct sign_key *k)
{
	char path[sizeof(SIGN_KEY_DIR "/" SIGN_TRUSTED_DIR "/") + SIGN_KEY_ID_LEN +
		  sizeof(SIGN_RETIRED_SUFFIX)];

	snprintf(path, sizeof(path), SIGN_KEY_DIR "/" SIGN_TRUSTED_DIR "/%s" SIGN_RETIRED_SUFFIX,
		 k->id);
	return faccessat(state_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

void *sign_prepare(const struct sign_key *k)
{
	EVP_MD_CTX *ctx;

	if (!k->pkey)
		return NULL;
	ctx = crypto.ctx_new();
	if (ctx && crypto.sign_init(ctx, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1)
		ctx = (crypto.ctx_free(ctx), NULL);
	return ctx;
}

int sign_prepared(void *prepared, const void *data, size_t len, uint8_t sig[SIGN_SIGNATURE_SIZE])
{
	EVP_MD_CTX *ctx = prepared;
	size_t n = SIGN_SIGNATURE_SIZE;
	int ok;

	ok = crypto.sign(ctx, sig, &n, data, len) == 1 && n == SIGN_SIGNATURE_SIZE;
	crypto.ctx_free(ctx);
	return ok ? 0 : -EIO;
}

int sign_local(const struct sign_key *k, const void *data, size_t len,
	       uint8_t sig[SIGN_SIGNATURE_SIZE])
{
	void *ctx = sign_prepare(k);

	return ctx ? sign_prepared(ctx, data, len, sig) : -EIO;
}

/* The public key verify used last: a run of records signed by one key parses it once. */
static struct {
	uint8_t pub[SIGN_PUBLIC_SIZE];
	EVP_PKEY *pkey;
} last_public;

static void last_public_free(void)
{
	if (last_public.pkey)
		crypto.pkey_free(last_public.pkey);
	last_public.pkey = NULL;
}

static EVP_PKEY *public_key(const uint8_t pub[SIGN_PUBLIC_SIZE])
{
	static bool registered;

	if (last_public.pkey && memcmp(last_public.pub, pub, SIGN_PUBLIC_SIZE) == 0)
		return last_public.pkey;
	last_public_free();
	if (!registered)
		registered = atexit(last_public_free) == 0;
	last_public.pkey = crypto.new_public(EVP_PKEY_ED25519, NULL, pub, SIGN_PUBLIC_SIZE);
	memcpy(last_public.pub, pub, SIGN_PUBLIC_SIZE);
	return last_public.pkey;
}

int sign_verify(const uint8_t pub[SIGN_PUBLIC_SIZE], const void *data, size_t len,
		const uint8_t sig[SIGN_SIGNATURE_SIZE])
{
	EVP_MD_CTX *ctx;
	EVP_PKEY *pkey;
	int r;

	r = crypto_open();
	if (r < 0)
		return r;
	pkey = public_key(pub);
	if (!pkey)
		return 0; /* not a point on the curve: nothing verifies against it */
	ctx = crypto.ctx_new();
	r = ctx && crypto.verify_init(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    crypto.verify(ctx, sig, SIGN_SIGNATURE_SIZE, data, len) == 1;
	crypto.ctx_free(ctx);
	return r;
}
