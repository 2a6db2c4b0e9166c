/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The JSON Web Token a GitHub App presents to ask for an installation token (RFC 7519,
 * signed RS256 as RFC 7518 section 3.3 says): pure, no I/O, no logging. It links libcrypto
 * (OpenSSL), so it belongs in the credentials module airlock loads only for runs that mint
 * credentials; nothing of the supervisor's core calls it.
 */

#include <stddef.h>
#include <time.h>

/* GitHub accepts a token whose "exp" is at most 10 minutes ahead; ours is 9, so a clock
 * up to a minute ahead of GitHub's still passes. "iat" is 60 s back for a clock behind. */
#define JWT_GITHUB_IAT_BACK 60
#define JWT_GITHUB_LIFETIME 540
/* The longest app id we accept ("iss"): a number, or a client id such as "Iv23li...". */
#define JWT_APP_ID_MAX 64
/* A PEM key larger than this is not an RSA key anyone uses (a 16384-bit one is ~12 KiB). */
#define JWT_KEY_MAX (64 * 1024)

struct jwt_key;

/*
 * Parses an RSA private key in PEM (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", as
 * GitHub hands them out). An encrypted key is refused, never prompted for. On failure
 * returns -EINVAL (not a PEM private key, encrypted), -EKEYREJECTED (not RSA, or shorter
 * than 2048 bits), -E2BIG (over JWT_KEY_MAX), -ENOMEM; and, when reterr is not NULL, one
 * line saying what is wrong (no key material), which the caller owns.
 */
int jwt_key_parse(const void *pem, size_t len, struct jwt_key **ret, char **reterr);
struct jwt_key *jwt_key_free(struct jwt_key *k);

/*
 * Builds the compact JWS "header.payload.signature" (base64url, no padding) with header
 * {"alg":"RS256","typ":"JWT"} and claims iat = now - JWT_GITHUB_IAT_BACK, exp = now +
 * JWT_GITHUB_LIFETIME, iss = app_id. app_id must be 1 to JWT_APP_ID_MAX characters of
 * [A-Za-z0-9._-] (-EINVAL otherwise). The result is the caller's, a NUL-terminated string.
 * Returns 0, -EINVAL, -ENOMEM, or -EIO when libcrypto fails to sign.
 */
int jwt_github_app(const struct jwt_key *k, const char *app_id, time_t now, char **ret);

/*
 * base64url without padding (RFC 4648 section 5, RFC 7515 appendix C) of len bytes into
 * out, which has room for JWT_B64URL_LEN(len) + 1 bytes; returns the length written.
 */
#define JWT_B64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))
size_t jwt_b64url(const void *data, size_t len, char *out);
