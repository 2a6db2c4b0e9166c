/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * supervisor/credentials/jwt.c: base64url against RFC 4648's vectors; a GitHub App JWT
 * verified with the public key through libcrypto, its header and claims read back; keys
 * that must be refused, each with its one line.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "jwt.h"
#include "test.h"

static EVP_PKEY *key_rsa(unsigned bits)
{
	return EVP_RSA_gen(bits);
}

/* The key as PEM: PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"), optionally
 * encrypted. The caller frees the string. */
static char *key_pem(EVP_PKEY *pkey, bool traditional, bool encrypted)
{
	BIO *bio = BIO_new(BIO_s_mem());
	const EVP_CIPHER *c = encrypted ? EVP_aes_128_cbc() : NULL;
	unsigned char pass[] = "secret";
	char *data, *out;
	long n;
	int ok;

	if (traditional)
		ok = PEM_write_bio_PrivateKey_traditional(bio, pkey, c, c ? pass : NULL, c ? 6 : 0,
							  NULL, NULL);
	else
		ok = PEM_write_bio_PrivateKey(bio, pkey, c, c ? pass : NULL, c ? 6 : 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &data);
	out = ok == 1 && n > 0 ? strndup(data, (size_t)n) : NULL;
	BIO_free(bio);
	return out;
}

static size_t b64url_decode(const char *s, size_t len, unsigned char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		const char *p = strchr(a, s[i]);
		if (!p || !s[i])
			return (size_t)-1;
		acc = acc << 6 | (uint32_t)(p - a);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

/* 1 when sig verifies over "header.payload" with pkey, 0 when not, -1 on a bad token. */
static int jwt_verify(const char *jwt, EVP_PKEY *pkey, json_t **ret_header, json_t **ret_claims)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	unsigned char buf[1024], sig[1024];
	size_t n, siglen;
	EVP_MD_CTX *ctx;
	int ok;

	if (!d1 || !d2 || strchr(d2 + 1, '.') || strlen(jwt) > 2000)
		return -1;
	n = b64url_decode(jwt, (size_t)(d1 - jwt), buf);
	*ret_header = n == (size_t)-1 ? NULL : json_loadb((char *)buf, n, 0, NULL);
	n = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), buf);
	*ret_claims = n == (size_t)-1 ? NULL : json_loadb((char *)buf, n, 0, NULL);
	siglen = b64url_decode(d2 + 1, strlen(d2 + 1), sig);
	if (!*ret_header || !*ret_claims || siglen == (size_t)-1)
		return -1;

	ctx = EVP_MD_CTX_new();
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jwt, (size_t)(d2 - jwt)) ==
		     1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

TEST(b64url_rfc4648_vectors)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "Zg" },
		{ "fo", "Zm8" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
		{ "\xfb\xff", "-_8" },
		{ "\xff\xff\xfe", "___-" },
	};
	char out[32];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = jwt_b64url(v[i].in, strlen(v[i].in), out);
		ASSERT_STREQ(out, v[i].out);
		ASSERT_EQ(n, strlen(v[i].out));
		ASSERT_EQ(JWT_B64URL_LEN(strlen(v[i].in)), strlen(v[i].out));
	}
}

static void check_signed(bool *test_failed_, bool traditional)
{
	EVP_PKEY *pkey = key_rsa(2048), *other = key_rsa(2048);
	_cleanup_free_ char *pem = key_pem(pkey, traditional, false), *jwt = NULL, *err = NULL;
	struct jwt_key *k = NULL;
	json_t *h = NULL, *c = NULL;
	const time_t now = 1700000000;

	ASSERT_TRUE(pem && other);
	ASSERT_OK(jwt_key_parse(pem, strlen(pem), &k, &err));
	ASSERT_TRUE(err == NULL);
	ASSERT_OK(jwt_github_app(k, "123456", now, &jwt));

	ASSERT_EQ(jwt_verify(jwt, pkey, &h, &c), 1);
	ASSERT_STREQ(json_string_value(json_object_get(h, "alg")), "RS256");
	ASSERT_STREQ(json_string_value(json_object_get(h, "typ")), "JWT");
	ASSERT_STREQ(json_string_value(json_object_get(c, "iss")), "123456");
	ASSERT_EQ(json_integer_value(json_object_get(c, "iat")), now - 60);
	ASSERT_TRUE(json_integer_value(json_object_get(c, "exp")) <= now + 600);
	ASSERT_TRUE(json_integer_value(json_object_get(c, "exp")) > now);
	ASSERT_EQ(json_object_size(c), 3);
	json_decref(h);
	json_decref(c);

	/* Another key's public half does not verify it. */
	ASSERT_EQ(jwt_verify(jwt, other, &h, &c), 0);
	json_decref(h);
	json_decref(c);

	/* One bit changed in the claims and the signature no longer holds. */
	jwt[strchr(jwt, '.') - jwt + 3] ^= 1;
	ASSERT_TRUE(jwt_verify(jwt, pkey, &h, &c) != 1);
	json_decref(h);
	json_decref(c);

	jwt_key_free(k);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(other);
}

TEST(signed_pkcs8_verifies)
{
	check_signed(test_failed_, false);
}

TEST(signed_pkcs1_verifies)
{
	check_signed(test_failed_, true);
}

TEST(app_id_checked)
{
	EVP_PKEY *pkey = key_rsa(2048);
	_cleanup_free_ char *pem = key_pem(pkey, false, false), *jwt = NULL;
	struct jwt_key *k = NULL;

	ASSERT_OK(jwt_key_parse(pem, strlen(pem), &k, NULL));
	ASSERT_ERROR(jwt_github_app(k, "", 1, &jwt), EINVAL);
	ASSERT_ERROR(jwt_github_app(k, "12\",\"iss\":\"1", 1, &jwt), EINVAL);
	ASSERT_ERROR(jwt_github_app(
			     k, "12345678901234567890123456789012345678901234567890123456789012345",
			     1, &jwt),
		     EINVAL);
	ASSERT_TRUE(jwt == NULL);
	ASSERT_OK(jwt_github_app(k, "Iv23li.client_ID-1", 1, &jwt));
	jwt_key_free(k);
	EVP_PKEY_free(pkey);
}

static void check_refused(bool *test_failed_, const char *pem, size_t len, int error,
			  const char *message)
{
	struct jwt_key *k = NULL;
	char *err = NULL;

	ASSERT_ERROR(jwt_key_parse(pem, len, &k, &err), error);
	ASSERT_TRUE(k == NULL);
	ASSERT_STREQ(err, message);
	ASSERT_TRUE(strchr(err, '\n') == NULL);
	free(err);
}

TEST(bad_keys_refused_with_one_line)
{
	EVP_PKEY *small = key_rsa(1024), *rsa = key_rsa(2048);
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	_cleanup_free_ char *p_small = key_pem(small, false, false);
	_cleanup_free_ char *p_ec = key_pem(ec, false, false);
	_cleanup_free_ char *p_enc8 = key_pem(rsa, false, true);
	_cleanup_free_ char *p_enc1 = key_pem(rsa, true, true);
	_cleanup_free_ char *p_ok = key_pem(rsa, false, false);
	_cleanup_free_ char *big = calloc(1, JWT_KEY_MAX + 2);
	const char *garbage =
		"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n";

	ASSERT_TRUE(p_small && p_ec && p_enc8 && p_enc1 && p_ok && big);
	check_refused(test_failed_, "", 0, EINVAL, "the private key is not a PEM private key");
	check_refused(test_failed_, garbage, strlen(garbage), EINVAL,
		      "the private key is not a PEM private key");
	/* A truncated key (half its text) is not read as some other key. */
	check_refused(test_failed_, p_ok, strlen(p_ok) / 2, EINVAL,
		      "the private key is not a PEM private key");
	check_refused(test_failed_, p_small, strlen(p_small), EKEYREJECTED,
		      "the RSA private key is shorter than 2048 bits");
	check_refused(test_failed_, p_ec, strlen(p_ec), EKEYREJECTED,
		      "the private key is not an RSA key (RS256 needs one)");
	check_refused(test_failed_, p_enc8, strlen(p_enc8), EINVAL,
		      "the private key is encrypted (give it unencrypted, root-only)");
	check_refused(test_failed_, p_enc1, strlen(p_enc1), EINVAL,
		      "the private key is encrypted (give it unencrypted, root-only)");
	memcpy(big, p_ok, strlen(p_ok));
	check_refused(test_failed_, big, JWT_KEY_MAX + 1, E2BIG,
		      "the private key file is larger than 64 KiB");
	EVP_PKEY_free(small);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

TEST_MAIN()
