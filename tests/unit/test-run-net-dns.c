/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS decisions of the run record (supervisor/run-net-dns.c): repeated ones share an
 * entry, and an answer's entry says what governed it.
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
