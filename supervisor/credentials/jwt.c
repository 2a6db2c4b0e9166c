/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A GitHub App's RS256 JWT: base64url, the claims, and the signature through libcrypto. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cleanup.h"
#include "jwt.h"
#include "macro.h"

struct jwt_key {
	EVP_PKEY *pkey;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);

size_t jwt_b64url(const void *data, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	size_t o = 0, i = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		out[o++] = a[p[i] >> 2];
		out[o++] = a[(p[i] & 3) << 4];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];
		out[o++] = a[v >> 10];
		out[o++] = a[(v >> 4) & 63];
		out[o++] = a[(v & 15) << 2];
	}
	out[o] = '\0';
	return o;
}

/* Never prompts (libcrypto's default would ask the terminal for an encrypted key). */
static int jwt_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static int jwt_key_error(char **reterr, int r, const char *what)
{
	ERR_clear_error();
	if (reterr)
		*reterr = strdup(what);
	return r;
}

static bool jwt_pem_is_encrypted(const char *pem, size_t len)
{
	return memmem(pem, len, "ENCRYPTED", strlen("ENCRYPTED")) != NULL;
}

int jwt_key_parse(const void *pem, size_t len, struct jwt_key **ret, char **reterr)
{
	_cleanup_(BIO_freep) BIO *bio = NULL;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
	struct jwt_key *k;

	assert(pem && ret);

	if (len > JWT_KEY_MAX)
		return jwt_key_error(reterr, -E2BIG, "the private key file is larger than 64 KiB");
	if (jwt_pem_is_encrypted(pem, len))
		return jwt_key_error(
			reterr, -EINVAL,
			"the private key is encrypted (give it unencrypted, root-only)");

	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return jwt_key_error(reterr, -ENOMEM, "out of memory");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, jwt_no_passphrase, NULL);
	if (!pkey)
		return jwt_key_error(reterr, -EINVAL, "the private key is not a PEM private key");
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return jwt_key_error(reterr, -EKEYREJECTED,
				     "the private key is not an RSA key (RS256 needs one)");
	if (EVP_PKEY_get_bits(pkey) < 2048)
		return jwt_key_error(reterr, -EKEYREJECTED,
				     "the RSA private key is shorter than 2048 bits");

	k = calloc(1, sizeof(*k));
	if (!k)
		return jwt_key_error(reterr, -ENOMEM, "out of memory");
	k->pkey = TAKE_PTR(pkey);
	*ret = k;
	return 0;
}

struct jwt_key *jwt_key_free(struct jwt_key *k)
{
	if (k) {
		EVP_PKEY_free(k->pkey);
		free(k);
	}
	return NULL;
}

static bool jwt_app_id_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= JWT_APP_ID_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int jwt_crypto_error(void)
{
	ERR_clear_error();
	return -EIO;
}

/* RS256 of the signing input, base64url, appended at out (room for 4/3 of the modulus). */
static int jwt_sign(EVP_PKEY *pkey, const char *input, size_t len, char *out)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
	_cleanup_free_ unsigned char *sig = NULL;
	size_t siglen = 0;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)input, len) != 1)
		return jwt_crypto_error();
	sig = malloc(siglen);
	if (!sig)
		return -ENOMEM;
	if (EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input, len) != 1)
		return jwt_crypto_error();
	jwt_b64url(sig, siglen, out);
	return 0;
}

int jwt_github_app(const struct jwt_key *k, const char *app_id, time_t now, char **ret)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	char claims[128 + JWT_APP_ID_MAX];
	_cleanup_free_ char *jwt = NULL;
	size_t n, cap;
	int len, r;

	assert(k && app_id && ret);

	if (!jwt_app_id_is_valid(app_id))
		return -EINVAL;
	len = snprintf(
		claims, sizeof(claims), "{\"iat\":%" PRId64 ",\"exp\":%" PRId64 ",\"iss\":\"%s\"}",
		(int64_t)now - JWT_GITHUB_IAT_BACK, (int64_t)now + JWT_GITHUB_LIFETIME, app_id);
	assert(len > 0 && (size_t)len < sizeof(claims));

	cap = JWT_B64URL_LEN(sizeof(header) - 1) + 1 + JWT_B64URL_LEN((size_t)len) + 1 +
	      JWT_B64URL_LEN((size_t)EVP_PKEY_get_size(k->pkey)) + 1;
	jwt = malloc(cap);
	if (!jwt)
		return -ENOMEM;
	n = jwt_b64url(header, sizeof(header) - 1, jwt);
	jwt[n++] = '.';
	n += jwt_b64url(claims, (size_t)len, jwt + n);
	r = jwt_sign(k->pkey, jwt, n, jwt + n + 1);
	if (r < 0)
		return r;
	jwt[n] = '.';
	*ret = TAKE_PTR(jwt);
	return 0;
}
