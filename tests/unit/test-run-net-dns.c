/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS decisions of the run record (supervisor/run-net-dns.c) against a flood, from a
 * task or from a compromised proxy: repeated decisions share an entry, no other verdict
 * takes the room kept for answered names, and what found no room is counted per verdict.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "run-net-dns.h"
#include "test.h"

static struct dns_decision decision(const char *name, enum dns_verdict v)
{
	return (struct dns_decision){
		.qname = name, .qtype = DNS_TYPE_A, .verdict = v, .count = 1, .rule = -1
	};
}

TEST(merged)
{
	struct run_net_dns_list l;
	struct dns_decision d = decision("", DNS_VERDICT_RATE_LIMITED);

	ASSERT_OK(run_net_dns_init(&l));
	for (int i = 0; i < 100000; i++)
		ASSERT_TRUE(run_net_dns_add(&l, &d, (uint64_t)i) != NULL);
	d = decision("evil.test", DNS_VERDICT_NOT_ALLOWED);
	d.count = 7;
	ASSERT_TRUE(run_net_dns_add(&l, &d, 1) != NULL);
	ASSERT_EQ(l.n, 2);
	ASSERT_EQ(l.e[0].count, 100000);
	ASSERT_EQ(l.e[1].count, 7);
	run_net_dns_done(&l);
}

/* 5000 distinct refused names, then lookups that were answered: those are all recorded. */
TEST(answered_keep_their_room)
{
	struct run_net_dns_list l;
	struct dns_ipc_addr a = { .family = AF_INET, .addr = { 11, 1, 0, 10 }, .ttl = 60 };
	struct egress_port port = { IPPROTO_TCP, 443 };
	char name[64];
	json_t *j;

	ASSERT_OK(run_net_dns_init(&l));
	for (int i = 0; i < 5000; i++) {
		struct dns_decision d =
			decision(name, i % 2 ? DNS_VERDICT_NOT_ALLOWED : DNS_VERDICT_BAD_TYPE);

		snprintf(name, sizeof(name), "n%d.evil.test", i);
		run_net_dns_add(&l, &d, 1);
	}
	ASSERT_EQ(l.n, RUN_NET_MAX_DNS_RECORDS - RUN_NET_DNS_RESERVED);
	ASSERT_EQ(run_net_dns_unrecorded(&l), 5000 - l.n);
	ASSERT_EQ(l.unrecorded[DNS_VERDICT_NOT_ALLOWED] + l.unrecorded[DNS_VERDICT_BAD_TYPE],
		  5000 - l.n);

	for (int i = 0; i < RUN_NET_DNS_RESERVED; i++) {
		struct dns_decision d = decision(name, DNS_VERDICT_ALLOWED);

		snprintf(name, sizeof(name), "a%d.allowed.test", i);
		d.addrs = &a;
		d.n_addrs = 1;
		d.ports = &port;
		d.n_ports = 1;
		ASSERT_TRUE(run_net_dns_add(&l, &d, 2) != NULL);
	}
	ASSERT_EQ(l.n, RUN_NET_MAX_DNS_RECORDS);
	/* Full: an answered name now finds no room either, and is counted as such. */
	{
		struct dns_decision d = decision("late.allowed.test", DNS_VERDICT_ALLOWED);

		ASSERT_TRUE(run_net_dns_add(&l, &d, 3) == NULL);
		ASSERT_EQ(l.unrecorded[DNS_VERDICT_ALLOWED], 1);
	}

	j = run_net_dns_unrecorded_to_json(&l);
	ASSERT_EQ(json_integer_value(json_object_get(j, "allowed")), 1);
	ASSERT_EQ(json_integer_value(json_object_get(j, "not-allowed")),
		  (json_int_t)l.unrecorded[DNS_VERDICT_NOT_ALLOWED]);
	ASSERT_TRUE(json_object_get(j, "rate-limited") == NULL);
	json_decref(j);
	j = run_net_dns_to_json(&l);
	ASSERT_EQ(json_array_size(j), RUN_NET_MAX_DNS_RECORDS);
	ASSERT_STREQ(
		json_string_value(json_array_get(
			json_object_get(json_array_get(j, RUN_NET_MAX_DNS_RECORDS - 1), "ports"),
			0)),
		"443/tcp");
	json_decref(j);
	run_net_dns_done(&l);
}

/* An answer's chain and ports go into its entry; a withheld one shows why. */
TEST(governed)
{
	static const char chain[2][DNS_NAME_SIZE] = { "mid.test", "git.test" };
	struct dns_ipc_addr a = { .family = AF_INET, .addr = { 11, 1, 0, 40 } };
	struct run_net_dns_list l;
	struct dns_decision d = decision("x.evil.test", DNS_VERDICT_WITHHELD);
	json_t *j, *e;

	ASSERT_OK(run_net_dns_init(&l));
	d.chain = chain;
	d.n_chain = 2;
	d.ports = (const struct egress_port[]){ { 0, 0 } }; /* none in common */
	d.n_ports = 0;
	d.withheld = &a;
	d.n_withheld = 1;
	d.withheld_reason = "cname-ports";
	ASSERT_TRUE(run_net_dns_add(&l, &d, 1) != NULL);
	j = run_net_dns_to_json(&l);
	e = json_array_get(j, 0);
	ASSERT_STREQ(json_string_value(json_object_get(e, "verdict")), "withheld");
	ASSERT_STREQ(json_string_value(json_array_get(json_object_get(e, "chain"), 1)), "git.test");
	ASSERT_EQ(json_array_size(json_object_get(e, "ports")), 0);
	ASSERT_STREQ(json_string_value(json_object_get(e, "reason")), "cname-ports");
	ASSERT_STREQ(json_string_value(json_array_get(json_object_get(e, "withheld"), 0)),
		     "11.1.0.40");
	ASSERT_TRUE(json_object_get(e, "addresses") == NULL);
	json_decref(j);
	run_net_dns_done(&l);
}

TEST_MAIN()
