/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The DNS decisions of the run record (supervisor/run-net-dns.c): repeated ones share an entry. */
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

TEST_MAIN()
