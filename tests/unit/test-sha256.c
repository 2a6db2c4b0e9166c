/* SPDX-License-Identifier: GPL-2.0-or-later */
/* common/sha256.c against the FIPS 180-4 example vectors and against OpenSSL. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "parse-util.h"
#include "sha256.h"
#include "test.h"

static void hex_of(const void *data, size_t len, char out[65])
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256(data, len, d);
	hex_encode(d, sizeof(d), out);
}

TEST(fips_vectors)
{
	static const struct {
		const char *msg;
		const char *digest;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
		  "klmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	char out[65];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		hex_of(v[i].msg, strlen(v[i].msg), out);
		ASSERT_STREQ(out, v[i].digest);
	}
}

TEST(million_a_in_pieces)
{
	struct sha256 s;
	uint8_t d[SHA256_DIGEST_SIZE];
	char chunk[1000], out[65];

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		sha256_update(&s, chunk, sizeof(chunk));
	sha256_final(&s, d);
	hex_encode(d, sizeof(d), out);
	ASSERT_STREQ(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length around the padding boundaries, split at every point, equals OpenSSL. */
TEST(matches_openssl)
{
	uint8_t buf[300], mine[SHA256_DIGEST_SIZE], theirs[SHA256_DIGEST_SIZE];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(buf); len++) {
		SHA256(buf, len, theirs);
		for (size_t split = 0; split <= len; split += len / 7 + 1) {
			struct sha256 s;

			sha256_init(&s);
			sha256_update(&s, buf, split);
			sha256_update(&s, buf + split, len - split);
			sha256_final(&s, mine);
			ASSERT_TRUE(memcmp(mine, theirs, sizeof(mine)) == 0);
		}
	}
}

TEST_MAIN()
