/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's side of the DNS proxy program (netfilter/dns-proxy-start.c and
 * dns-proxy-config.c): the configuration it hands the program round-trips, with each rule at
 * its policy index, and anything malformed is refused. No root, no network.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns-proxy-config.h"
#include "dns-proxy.h"
#include "egress.h"
#include "test.h"

static struct policy_egress_rule rules[] = {
	{ .host = (char *)"allowed.test" },
	{ .is_cidr = true,
	  .cidr = { .family = AF_INET, .addr = { 11, 1, 0, 16 } },
	  .prefixlen = 28 },
	{ .host = (char *)"*.wild.test", .wildcard = true, .names = 5, .match_length = 63 },
};
static struct policy_network net = { .enabled = true, .egress = rules, .n_egress = 3 };

static void config_init(struct dns_proxy_config *cfg)
{
	*cfg = (struct dns_proxy_config){
		.net = &net,
		.task = { .family = AF_INET, .addr = { 10, 231, 0, 2 } },
		.upstream = { .family = AF_INET6, .addr = { 0x26, 0, 0, 1, [15] = 0x53 } },
		.v6_enabled = true,
	};
}

TEST(config_round_trip)
{
	struct dns_proxy_config cfg, back = {};
	struct policy_network got = {};
	uint8_t *buf = NULL;
	size_t len = 0;
	pid_t parent = 0;

	config_init(&cfg);
	ASSERT_OK(dns_proxy_config_build(&cfg, 4242, &buf, &len));
	ASSERT_OK(dns_proxy_config_parse(buf, len, &back, &got, &parent));
	ASSERT_EQ(parent, 4242);
	ASSERT_TRUE(back.net == &got && got.enabled);
	ASSERT_EQ(memcmp(&back.task, &cfg.task, sizeof(cfg.task)), 0);
	ASSERT_EQ(memcmp(&back.upstream, &cfg.upstream, sizeof(cfg.upstream)), 0);
	ASSERT_TRUE(back.v6_enabled);
	ASSERT_EQ(got.n_egress, 3);
	ASSERT_STREQ(got.egress[0].host, "allowed.test");
	ASSERT_TRUE(got.egress[1].is_cidr && !got.egress[1].host); /* kept: index 2 stays 2 */
	ASSERT_STREQ(got.egress[2].host, "*.wild.test");
	ASSERT_TRUE(got.egress[2].wildcard);
	ASSERT_EQ(got.egress[2].names, 5);
	ASSERT_EQ(got.egress[2].match_length, 63);
	ASSERT_TRUE(egress_name_allowed(&got, "a.wild.test"));
	ASSERT_FALSE(egress_name_allowed(&got, "other.test"));
	dns_proxy_config_net_done(&got);
	free(buf);
}

/* Every truncation, a byte flipped in each field, trailing bytes: refused, nothing leaks. */
TEST(config_malformed)
{
	struct dns_proxy_config cfg, back;
	struct policy_network got;
	uint8_t *buf = NULL, *bad;
	size_t len = 0;
	pid_t parent;
	int accepted = 0;

	config_init(&cfg);
	ASSERT_OK(dns_proxy_config_build(&cfg, 1, &buf, &len));
	bad = malloc(len + 1);
	ASSERT_TRUE(bad);
	for (size_t n = 0; n < len; n++)
		ASSERT_ERROR(dns_proxy_config_parse(buf, n, &back, &got, &parent), EBADMSG);
	memcpy(bad, buf, len);
	bad[len] = 0;
	ASSERT_ERROR(dns_proxy_config_parse(bad, len + 1, &back, &got, &parent), EBADMSG);
	/* A host with a NUL in it, or a flipped byte anywhere: refused or still well-formed. */
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x80;
		if (dns_proxy_config_parse(bad, len, &back, &got, &parent) == 0) {
			for (size_t k = 0; k < got.n_egress; k++)
				ASSERT_TRUE(got.egress[k].is_cidr ||
					    strlen(got.egress[k].host) <= POLICY_MAX_HOSTNAME);
			dns_proxy_config_net_done(&got);
			accepted++;
		}
	}
	ASSERT_TRUE(accepted < (int)len);
	free(bad);
	free(buf);

	/* The task's address is IPv4 (the listener is), the upstream either family. */
	cfg.task.family = AF_INET6;
	ASSERT_ERROR(dns_proxy_config_build(&cfg, 1, &buf, &len), EINVAL);
	config_init(&cfg);
	ASSERT_ERROR(dns_proxy_config_build(&cfg, 0, &buf, &len), EINVAL);
}

TEST_MAIN()
