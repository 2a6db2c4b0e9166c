/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "dns-codec.h"
#include "test.h"

static struct dns_message msg; /* large: keep off the stack */

/* A response to "www.Example.com A": CNAME to cdn.example.net (compressed), two A records. */
static const uint8_t response[] = {
	0x12,
	0x34,
	0x81,
	0x80,
	0,
	1,
	0,
	3,
	0,
	0,
	0,
	0,
	/* 12: question */
	3,
	'w',
	'w',
	'w',
	7,
	'E',
	'x',
	'a',
	'm',
	'p',
	'l',
	'e',
	3,
	'c',
	'o',
	'm',
	0,
	0,
	1,
	0,
	1,
	/* 33: CNAME: name -> 12, target cdn.example.net at 45 */
	0xc0,
	12,
	0,
	5,
	0,
	1,
	0,
	0,
	0,
	60,
	0,
	17,
	3,
	'c',
	'd',
	'n',
	7,
	'e',
	'x',
	'a',
	'm',
	'p',
	'l',
	'e',
	3,
	'n',
	'e',
	't',
	0,
	/* 62: A cdn.example.net (-> 45) */
	0xc0,
	45,
	0,
	1,
	0,
	1,
	0,
	0,
	0,
	30,
	0,
	4,
	11,
	1,
	0,
	1,
	/* 78: A, ttl with the top bit set (means 0) */
	0xc0,
	45,
	0,
	1,
	0,
	1,
	0x80,
	0,
	0,
	1,
	0,
	4,
	11,
	1,
	0,
	2,
	/* 94: TXT, skipped */
	0xc0,
	12,
	0,
	16,
	0,
	1,
	0,
	0,
	0,
	1,
	0,
	3,
	2,
	'h',
	'i',
};

TEST(parse_response)
{
	ASSERT_OK(dns_parse(response, sizeof(response) - 15, &msg));
	ASSERT_EQ(msg.id, 0x1234);
	ASSERT_EQ(dns_message_rcode(&msg), DNS_RCODE_NOERROR);
	ASSERT_STREQ(msg.qname, "www.example.com");
	ASSERT_EQ(msg.qtype, DNS_TYPE_A);
	ASSERT_EQ(msg.n_answers, 3);
	ASSERT_EQ(msg.answers[0].type, DNS_TYPE_CNAME);
	ASSERT_STREQ(msg.answers[0].name, "www.example.com");
	ASSERT_STREQ(msg.answers[0].target, "cdn.example.net");
	ASSERT_EQ(msg.answers[0].ttl, 60);
	ASSERT_STREQ(msg.answers[1].name, "cdn.example.net");
	ASSERT_EQ(msg.answers[1].addr[3], 1);
	ASSERT_EQ(msg.answers[2].ttl, 0);
}

TEST(parse_skips_other_types)
{
	uint8_t buf[sizeof(response)];

	memcpy(buf, response, sizeof(buf));
	buf[7] = 4; /* ancount includes the TXT record */
	ASSERT_OK(dns_parse(buf, sizeof(buf), &msg));
	ASSERT_EQ(msg.n_answers, 3);
	ASSERT_EQ(msg.n_skipped, 1);
}

TEST(parse_rejects_truncation)
{
	for (size_t len = 0; len < sizeof(response) - 15; len++)
		ASSERT_ERROR(dns_parse(response, len, &msg), EBADMSG);
}

TEST(parse_rejects_pointer_loops)
{
	/* question name is a pointer to itself */
	uint8_t self[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	/* question name points forward */
	uint8_t fwd[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 1, 'a', 0, 0, 1, 0, 1 };
	/* two answers whose names point at each other */
	uint8_t pair[] = { 0,  1,    0,	 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0xc0,
			   19, 0xc0, 17, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4 };
	size_t o = 12;
	char name[DNS_NAME_SIZE];

	ASSERT_ERROR(dns_name_decode(self, sizeof(self), &o, name), EBADMSG);
	ASSERT_ERROR(dns_parse(self, sizeof(self), &msg), EBADMSG);
	ASSERT_ERROR(dns_parse(fwd, sizeof(fwd), &msg), EBADMSG);
	ASSERT_ERROR(dns_parse(pair, sizeof(pair), &msg), EBADMSG);
}

TEST(parse_limits_names)
{
	uint8_t buf[600] = { 0, 1, 0, 0, 0, 1 };
	size_t o = 12;

	/* 5 labels of 63 bytes: 320 bytes on the wire, over the 255 limit */
	for (int l = 0; l < 5; l++) {
		buf[o++] = 63;
		memset(buf + o, 'a', 63);
		o += 63;
	}
	buf[o++] = 0;
	o += 4;
	ASSERT_ERROR(dns_parse(buf, o, &msg), EBADMSG);

	/* a 64-byte label is an extended label type: rejected */
	buf[12] = 64;
	ASSERT_ERROR(dns_parse(buf, o, &msg), EBADMSG);
}

TEST(parse_rejects_bad_characters)
{
	uint8_t buf[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', '.', 'b', 0, 0, 1, 0, 1 };

	ASSERT_ERROR(dns_parse(buf, sizeof(buf), &msg), EBADMSG);
	buf[14] = 0;
	ASSERT_ERROR(dns_parse(buf, sizeof(buf), &msg), EBADMSG);
	buf[14] = '_';
	ASSERT_OK(dns_parse(buf, sizeof(buf), &msg));
	ASSERT_STREQ(msg.qname, "a_b");
}

TEST(parse_requires_one_question)
{
	uint8_t buf[] = { 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1 };

	ASSERT_ERROR(dns_parse(buf, sizeof(buf), &msg), EBADMSG);
	buf[5] = 0;
	ASSERT_ERROR(dns_parse(buf, sizeof(buf), &msg), EBADMSG);
}

TEST(query_round_trip)
{
	uint8_t buf[512];
	int n;

	ASSERT_OK(dns_message_init_query(&msg, 0xbeef, "Api.Example.COM", DNS_TYPE_AAAA));
	n = dns_build(&msg, buf, sizeof(buf));
	ASSERT_EQ(n, 12 + 17 + 4);
	ASSERT_OK(dns_parse(buf, (size_t)n, &msg));
	ASSERT_EQ(msg.id, 0xbeef);
	ASSERT_EQ(msg.flags, DNS_FLAG_RD);
	ASSERT_STREQ(msg.qname, "api.example.com");
	ASSERT_EQ(msg.qtype, DNS_TYPE_AAAA);
	ASSERT_EQ(msg.n_answers, 0);

	ASSERT_ERROR(dns_message_init_query(&msg, 1, "a..b", DNS_TYPE_A), EINVAL);
	ASSERT_ERROR(dns_message_init_query(&msg, 1, "", DNS_TYPE_A), EINVAL);
	ASSERT_ERROR(dns_message_init_query(&msg, 1, "a b", DNS_TYPE_A), EINVAL);
}

TEST(response_round_trip_compresses)
{
	static struct dns_message back;
	uint8_t buf[512];
	int n;

	ASSERT_OK(dns_parse(response, sizeof(response) - 15, &msg));
	msg.flags |= DNS_FLAG_AA;
	n = dns_build(&msg, buf, sizeof(buf));
	ASSERT_TRUE(n > 0);
	/* qname once in full; the CNAME owner is a pointer; targets/owners compressed */
	ASSERT_TRUE(n < (int)sizeof(response));
	ASSERT_OK(dns_parse(buf, (size_t)n, &back));
	ASSERT_EQ(back.n_answers, 3);
	ASSERT_STREQ(back.answers[0].target, "cdn.example.net");
	ASSERT_STREQ(back.answers[2].name, "cdn.example.net");
	ASSERT_EQ(back.answers[1].ttl, 30);
	ASSERT_EQ(back.flags, msg.flags);
	ASSERT_EQ(dns_build(&msg, buf, 40), -ENOBUFS);
}

TEST(names_and_strings)
{
	char long_label[70];

	memset(long_label, 'a', 64);
	long_label[64] = 0;
	ASSERT_TRUE(dns_name_is_valid("a.b-c.d_e"));
	ASSERT_FALSE(dns_name_is_valid(long_label));
	ASSERT_FALSE(dns_name_is_valid("a."));
	ASSERT_FALSE(dns_name_is_valid(".a"));
	ASSERT_STREQ(dns_type_to_string(DNS_TYPE_AAAA), "AAAA");
	ASSERT_STREQ(dns_rcode_to_string(DNS_RCODE_NXDOMAIN), "NXDOMAIN");
	ASSERT_TRUE(dns_rcode_to_string(9) == NULL);
}

/* DNS over TCP: a 2-byte length before each message; 0 and over-long lengths end it. */
TEST(tcp_frame)
{
	static const uint8_t two[] = { 0, 3, 'a', 'b', 'c', 0, 1, 'd' };
	static const uint8_t zero[] = { 0, 0, 'a' };
	static const uint8_t big[] = { 0x02, 0x01 };
	size_t len = 0;

	ASSERT_EQ(dns_tcp_frame(two, 0, 512, &len), 0);
	ASSERT_EQ(dns_tcp_frame(two, 1, 512, &len), 0);
	ASSERT_EQ(dns_tcp_frame(two, 4, 512, &len), 0);
	ASSERT_EQ(dns_tcp_frame(two, 5, 512, &len), 1);
	ASSERT_EQ(len, 3);
	ASSERT_EQ(dns_tcp_frame(two + 5, 3, 512, &len), 1);
	ASSERT_EQ(len, 1);
	ASSERT_EQ(dns_tcp_frame(zero, sizeof(zero), 512, &len), -EMSGSIZE);
	ASSERT_EQ(dns_tcp_frame(big, sizeof(big), 512, &len), -EMSGSIZE);
	ASSERT_EQ(dns_tcp_frame(big, sizeof(big), 513, &len), 0);
}

TEST_MAIN()
