/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure parts of the record chain (supervisor/records/): base64, the signature member's
 * byte rule, DSSE's PAE, Ed25519 signing with a node key against RFC 8032, and the head
 * file's check against the records verify read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "chain.h"
#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "parse-util.h"
#include "sign.h"
#include "test.h"
#include "verify-head.h"

TEST(base64_rfc4648)
{
	static const char *const v[][2] = { { "", "" },
					    { "f", "Zg==" },
					    { "fo", "Zm8=" },
					    { "foo", "Zm9v" },
					    { "foob", "Zm9vYg==" },
					    { "fooba", "Zm9vYmE=" },
					    { "foobar", "Zm9vYmFy" } };
	char out[16];
	uint8_t back[16];

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), out);
		ASSERT_STREQ(out, v[i][1]);
		ASSERT_EQ(base64_decode(out, strlen(out), back, sizeof(back)), strlen(v[i][0]));
		ASSERT_TRUE(memcmp(back, v[i][0], strlen(v[i][0])) == 0);
	}
	ASSERT_ERROR(base64_decode("Zg=", 3, back, sizeof(back)), EINVAL);
	ASSERT_ERROR(base64_decode("Zh==", 4, back, sizeof(back)), EINVAL); /* not canonical */
	ASSERT_ERROR(base64_decode("Z!==", 4, back, sizeof(back)), EINVAL);
	ASSERT_ERROR(base64_decode("Zm9v", 4, back, 2), ENOBUFS);
}

#define UNSIGNED "{\n  \"a\": 1,\n  \"b\": \"x\"\n}"
#define SIG88 \
	"QN+QIMl4T4kntCdogsh6MXQ9jYiE5XBaOJFV270F1WEMJ+KJOmH33hj1cKVgG7bYDBm10SI8KzyEAA91lfWFCA=="
#define KEYID "9e25b22f68b1658cc6a6981d098279f23212d5562187e1b80ddee9c244cc43a0"

TEST(seal_and_split)
{
	_cleanup_free_ char *sealed = chain_seal(UNSIGNED, SIG88, KEYID);
	char sig[CHAIN_SIG_B64_LEN + 1], id[SIGN_KEY_ID_LEN + 1];
	size_t prefix = 0;

	ASSERT_TRUE(sealed);
	ASSERT_STREQ(sealed,
		     "{\n  \"a\": 1,\n  \"b\": \"x\",\n  \"signature\": {\n    \"ed25519\": "
		     "\"" SIG88 "\",\n    \"key_id\": \"" KEYID "\"\n  }\n}");
	ASSERT_EQ(chain_split(sealed, strlen(sealed), &prefix, sig, id), 1);
	ASSERT_STREQ(sig, SIG88);
	ASSERT_STREQ(id, KEYID);
	/* The signed bytes are the prefix and "\n}": the unsigned text, exactly. */
	ASSERT_EQ(prefix, strlen(UNSIGNED) - 2);
	ASSERT_TRUE(strneq(sealed, UNSIGNED, prefix));
	ASSERT_EQ(chain_split(UNSIGNED, strlen(UNSIGNED), &prefix, sig, id), 0);
}

TEST(split_rejects_what_follows_the_signature)
{
	_cleanup_free_ char *sealed = chain_seal(UNSIGNED, SIG88, KEYID), *more = NULL;
	char sig[CHAIN_SIG_B64_LEN + 1], id[SIGN_KEY_ID_LEN + 1];
	size_t prefix = 0, n;

	ASSERT_TRUE(sealed);
	n = strlen(sealed);
	/* A member after the signature would be unsigned: the tail must be exact. */
	ASSERT_TRUE(asprintf(&more, "%.*s,\n  \"c\": 2\n}", (int)(n - 2), sealed) > 0);
	ASSERT_EQ(chain_split(more, strlen(more), &prefix, sig, id), -EBADMSG);
	sealed[n - 20] = 'G'; /* not hex in the key id */
	ASSERT_EQ(chain_split(sealed, n, &prefix, sig, id), -EBADMSG);
	ASSERT_EQ(chain_split(sealed, n - 1, &prefix, sig, id), -EBADMSG);
}

TEST(dsse_pae)
{
	size_t len = 0;
	_cleanup_free_ char *pae =
		chain_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &len);

	/* The example of the DSSE protocol document. */
	ASSERT_TRUE(pae);
	ASSERT_EQ(len, strlen("DSSEv1 29 http://example.com/HelloWorld 11 hello world"));
	ASSERT_TRUE(memcmp(pae, "DSSEv1 29 http://example.com/HelloWorld 11 hello world", len) ==
		    0);
}

static int make_state(char *dir)
{
	strcpy(dir, "/tmp/airlock-test-chain.XXXXXX");
	if (!mkdtemp(dir))
		return -errno;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void remove_state(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

/* RFC 8032 section 7.1, test 1: the empty message. */
#define RFC_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC_PUB "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC_SIG                                                                \
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8" \
	"821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"

static void unhex(const char *hex, uint8_t *out)
{
	for (size_t i = 0; hex[2 * i]; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

TEST(sign_rfc8032)
{
	static const uint8_t prefix[16] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
					    0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };
	_cleanup_(sign_key_freep) struct sign_key *k = NULL;
	uint8_t der[48], pub[32], sig[64], want[64];
	char dir[64], b64[80], pem[256], id[SIGN_KEY_ID_LEN + 1];
	int fd;

	fd = make_state(dir);
	ASSERT_TRUE(fd >= 0);
	memcpy(der, prefix, sizeof(prefix));
	unhex(RFC_SEED, der + 16);
	base64_encode(der, sizeof(der), b64);
	snprintf(pem, sizeof(pem), "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n",
		 b64);
	ASSERT_OK(mkdirat(fd, "keys", 0700));
	int kfd = openat(fd, "keys/node.key", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_TRUE(kfd >= 0);
	ASSERT_OK(write_all(kfd, pem, strlen(pem)));
	close(kfd);

	ASSERT_OK(sign_key_load(fd, &k));
	unhex(RFC_PUB, pub);
	sign_key_id_of(pub, id);
	ASSERT_STREQ(sign_key_id(k), id);
	ASSERT_OK(sign_data(k, "", 0, sig));
	unhex(RFC_SIG, want);
	ASSERT_TRUE(memcmp(sig, want, 64) == 0);
	ASSERT_EQ(sign_verify(pub, "", 0, sig), 1);
	ASSERT_EQ(sign_verify(pub, "x", 1, sig), 0);
	/* Its public key went to the keyring. */
	char trusted[128];
	snprintf(trusted, sizeof(trusted), "keys/trusted/%s.pem", id);
	ASSERT_TRUE(faccessat(fd, trusted, F_OK, 0) == 0);
	close(fd);
	remove_state(dir);
}

TEST(key_made_on_first_use_and_refused_when_readable)
{
	_cleanup_(sign_key_freep) struct sign_key *a = NULL, *b = NULL, *c = NULL;
	char dir[64], pem[SIGN_PEM_MAX];
	const char *pos = pem;
	uint8_t pub[32];
	struct stat st;
	int fd;

	fd = make_state(dir);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(sign_key_load(fd, &a));
	ASSERT_OK(fstatat(fd, "keys/node.key", &st, 0));
	ASSERT_EQ(st.st_mode & 0777, 0600);
	ASSERT_OK(sign_key_load(fd, &b));
	ASSERT_STREQ(sign_key_id(a), sign_key_id(b));
	sign_key_public_pem(a, pem);
	ASSERT_EQ(sign_parse_public_pem(&pos, pub), 1);
	ASSERT_EQ(sign_parse_public_pem(&pos, pub), 0);
	ASSERT_OK(fchmodat(fd, "keys/node.key", 0640, 0));
	ASSERT_ERROR(sign_key_load(fd, &c), EPERM);
	close(fd);
	remove_state(dir);
}

/* The problems verify_head() found, one per line. */
static void collect(const char *text, void *userdata)
{
	char *buf = userdata;

	strcat(buf, text);
	strcat(buf, "\n");
}

static struct chain_head head_of(const struct verify_entry *e)
{
	struct chain_head h = { .seq = e->seq };

	strcpy(h.sha256, e->sha256);
	snprintf(h.run_id, sizeof(h.run_id), "%.*s", (int)strlen(e->name) - 5, e->name);
	return h;
}

/* A record of seq named "r<seq>.json" whose bytes hash to 64 times sha. */
static struct verify_entry entry(uint64_t seq, char prev, char sha)
{
	struct verify_entry e = { .seq = seq };

	snprintf(e.name, sizeof(e.name), "r%" PRIu64 ".json", seq);
	memset(e.prev, prev, CHAIN_HASH_LEN);
	memset(e.sha256, sha, CHAIN_HASH_LEN);
	return e;
}

TEST(verify_head_names_an_edited_or_put_back_head)
{
	const struct verify_entry v[] = { entry(1, '0', 'a'), entry(2, 'a', 'b'),
					  entry(3, 'b', 'c') };
	struct chain_head latest = head_of(&v[2]), before = head_of(&v[1]), none = { 0 };
	static char out[4096];

	memset(none.sha256, '0', CHAIN_HASH_LEN);
	strcpy(none.run_id, "-");
	ASSERT_EQ(verify_head(&latest, &before, v, 3, 3, collect, out), 0);
	latest = head_of(&v[0]);
	ASSERT_EQ(verify_head(&latest, &none, v, 1, 1, collect, out), 0);
	ASSERT_STREQ(out, "");

	/* Put back to the head of seq 2 while record 3 stays; not when the head read again
	 * (after the records) reaches it: record 3 was appended meanwhile. */
	latest = head_of(&v[1]);
	before = head_of(&v[0]);
	ASSERT_EQ(verify_head(&latest, &before, v, 3, 3, collect, out), 0);
	ASSERT_EQ(verify_head(&latest, &before, v, 3, 2, collect, out), 1);
	ASSERT_STREQ(out, "record r3.json (seq 3): after the head (seq 2, run r2): the head was "
			  "put back (1 record after it)\n");

	/* The latest line's run id edited; its sha256 changed. */
	out[0] = '\0';
	latest = head_of(&v[2]);
	before = head_of(&v[1]);
	strcpy(latest.run_id, "r1");
	ASSERT_EQ(verify_head(&latest, &before, v, 3, 3, collect, out), 1);
	ASSERT_STREQ(out, "seq 3: the head names run r1: not record r3.json, whose sha256 it "
			  "holds (the head was edited)\n");
	out[0] = '\0';
	latest = head_of(&v[2]);
	latest.sha256[0] = 'd';
	ASSERT_EQ(verify_head(&latest, &before, v, 3, 3, collect, out), 1);
	ASSERT_TRUE(strstr(out, "seq 3: the head names run r3 with sha256 dccc"));

	/* The line before: another record's, another seq, none, or one before the first. */
	out[0] = '\0';
	latest = head_of(&v[2]);
	strcpy(before.run_id, "r9");
	ASSERT_EQ(verify_head(&latest, &before, v, 3, 3, collect, out), 1);
	ASSERT_STREQ(out, "seq 2: the head's line before names run r9: not record r2.json, "
			  "whose sha256 it holds (the head was edited)\n");
	out[0] = '\0';
	before = head_of(&v[0]);
	ASSERT_EQ(verify_head(&latest, &before, v, 3, 3, collect, out), 1);
	ASSERT_STREQ(out, "chain/head: the line before seq 3 names seq 1 (run r1), not seq 2 "
			  "(the head was edited)\n");
	out[0] = '\0';
	ASSERT_EQ(verify_head(&latest, &none, v, 3, 3, collect, out), 1);
	ASSERT_STREQ(out, "chain/head: the line before seq 3 is \"-\" (none), not seq 2 (the "
			  "head was edited)\n");
	out[0] = '\0';
	latest = head_of(&v[0]);
	ASSERT_EQ(verify_head(&latest, &before, v, 1, 1, collect, out), 1);
	ASSERT_STREQ(out, "chain/head: the line before seq 1 names seq 1 (run r1): the first "
			  "record has none before it (the head was edited)\n");

	/* No head while records are chained; the head's record missing. */
	out[0] = '\0';
	ASSERT_EQ(verify_head(&none, &none, v, 3, 0, collect, out), 1);
	ASSERT_TRUE(strneq(out, "chain/head: missing, while 3 records are chained", 48));
	out[0] = '\0';
	latest = head_of(&v[2]);
	before = head_of(&v[1]);
	ASSERT_EQ(verify_head(&latest, &before, v, 2, 2, collect, out), 1);
	ASSERT_STREQ(out, "seq 3: missing: the head names run r3 (deleted, or its writer died "
			  "before writing it)\n");
}

TEST_MAIN()
