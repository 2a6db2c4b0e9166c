/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Round-trips the task ruleset: egress_build() makes a batch, libnftnl parses every message
 * back, and the test compares tables, chains, sets, elements and rules with what the
 * policy asks for.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "egress-internal.h"
#include "egress.h"
#include "host-nat.h"
#include "host-table.h"
#include "nflog.h"
#include "test.h"

static uint16_t ports_443[] = { 443 };
static uint16_t ports_web[] = { 80, 8080 };

static struct policy_egress_rule rules[4];
static struct policy_network net;

static void setup_policy(void)
{
	memset(rules, 0, sizeof(rules));
	rules[0] = (struct policy_egress_rule){ .host = "api.example.com",
						.ports = ports_443,
						.n_ports = 1,
						.protocols = POLICY_PROTOCOL_TCP };
	rules[1] = (struct policy_egress_rule){ .host = "*.cdn.example",
						.wildcard = true,
						.protocols =
							POLICY_PROTOCOL_TCP | POLICY_PROTOCOL_UDP };
	rules[2] = (struct policy_egress_rule){ .is_cidr = true,
						.prefixlen = 16,
						.ports = ports_web,
						.n_ports = 2,
						.protocols = POLICY_PROTOCOL_TCP };
	rules[2].cidr.family = AF_INET;
	inet_pton(AF_INET, "10.20.0.0", rules[2].cidr.addr);
	rules[3] = (struct policy_egress_rule){ .is_cidr = true,
						.prefixlen = 128,
						.protocols = POLICY_PROTOCOL_UDP };
	rules[3].cidr.family = AF_INET6;
	inet_pton(AF_INET6, "2001:4860::8888", rules[3].cidr.addr);
	net = (struct policy_network){ .enabled = true, .egress = rules, .n_egress = 4 };
}

static struct egress_config config(void)
{
	struct egress_config cfg = { .resolver.family = AF_INET, .seq = 100 };

	inet_pton(AF_INET, "10.231.0.1", cfg.resolver.addr);
	return cfg;
}

/* What the batch holds, parsed back. */
struct parsed {
	int n_tables, n_chains, n_sets, n_rules, n_elem_msgs, begin, end;
	char chains[8][64];
	char sets[16][32];
	uint32_t set_flags[16];
	uint32_t set_key_len[16];
	uint32_t set_size[16]; /* NFTA_SET_DESC_SIZE, 0 when absent */
	char rules[64][1024];
	char rule_chain[64][16];
	char elems[4096]; /* "set:hexkey-hexkey/flags/timeout " */
	uint32_t last_seq;
	bool seq_ok;
};

static struct parsed P;

static void hex(char *out, size_t size, const uint8_t *d, uint32_t len)
{
	size_t o = strlen(out);

	for (uint32_t i = 0; i < len && o + 3 < size; i++, o += 2)
		snprintf(out + o, size - o, "%02x", d[i]);
}

/*
 * libnftnl numbers the element nests 1, 2, 3... when building (the kernel ignores the
 * type) but its parser wants NFTA_LIST_ELEM for each: renumber before parsing.
 */
static void renumber_elems(struct nlmsghdr *nlh)
{
	struct nlattr *a, *e;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) ==
							       NFTA_SET_ELEM_LIST_ELEMENTS)
		mnl_attr_for_each_nested(e, a)
			e->nla_type = (uint16_t)((e->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
}

static int parse_elems(struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	char *o = P.elems;

	renumber_elems(nlh);
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return -1;
	}
	it = nftnl_set_elems_iter_create(s);
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);

		snprintf(o + strlen(o), sizeof(P.elems) - strlen(o),
			 "%s:", nftnl_set_get_str(s, NFTNL_SET_NAME));
		hex(o, sizeof(P.elems), k, len);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)) {
			k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len);
			strcat(o, "-");
			hex(o, sizeof(P.elems), k, len);
		}
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
			strcat(o, "/end");
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
			snprintf(o + strlen(o), sizeof(P.elems) - strlen(o), "/t%llu",
				 (unsigned long long)nftnl_set_elem_get_u64(
					 e, NFTNL_SET_ELEM_TIMEOUT));
		strcat(o, " ");
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	P.n_elem_msgs++;
	return 0;
}

static int parse_one(struct nlmsghdr *nlh)
{
	uint16_t type = nlh->nlmsg_type & 0xff;

	if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN)
		return P.begin++, 0;
	if (nlh->nlmsg_type == NFNL_MSG_BATCH_END)
		return P.end++, 0;
	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES || !(nlh->nlmsg_flags & NLM_F_ACK))
		return -1;
	if (nlh->nlmsg_seq != P.last_seq + 1)
		P.seq_ok = false;
	P.last_seq = nlh->nlmsg_seq;

	switch (type) {
	case NFT_MSG_NEWTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();

		if (nftnl_table_nlmsg_parse(nlh, t) < 0 ||
		    (strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), EGRESS_TABLE) != 0 &&
		     strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), EGRESS_HOST_TABLE) != 0) ||
		    nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) != NFPROTO_INET)
			return -1;
		nftnl_table_free(t);
		P.n_tables++;
		return 0;
	}
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (nftnl_chain_nlmsg_parse(nlh, c) < 0)
			return -1;
		snprintf(P.chains[P.n_chains++], sizeof(P.chains[0]),
			 "%s %s hook %u prio %d policy %d",
			 nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
			 nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE)
				 ? nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE)
				 : "regular",
			 nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM),
			 nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
			 nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
				 ? (int)nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
				 : -1);
		nftnl_chain_free(c);
		return 0;
	}
	case NFT_MSG_NEWSET: {
		struct nftnl_set *s = nftnl_set_alloc();

		if (nftnl_set_nlmsg_parse(nlh, s) < 0)
			return -1;
		snprintf(P.sets[P.n_sets], sizeof(P.sets[0]), "%s",
			 nftnl_set_get_str(s, NFTNL_SET_NAME));
		P.set_flags[P.n_sets] = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
		if (nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE))
			P.set_size[P.n_sets] = nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE);
		P.set_key_len[P.n_sets++] = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
		nftnl_set_free(s);
		return 0;
	}
	case NFT_MSG_NEWSETELEM:
		return parse_elems(nlh);
	case NFT_MSG_DELRULE: /* a regular chain emptied before its rules go in */
		return 0;
	case NFT_MSG_NEWRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
			return -1;
		snprintf(P.rule_chain[P.n_rules], sizeof(P.rule_chain[0]), "%s",
			 nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
		nftnl_rule_snprintf(P.rules[P.n_rules++], sizeof(P.rules[0]), r,
				    NFTNL_OUTPUT_DEFAULT, 0);
		nftnl_rule_free(r);
		return 0;
	}
	}
	return -1;
}

static int parse_batch(struct egress_batch *b)
{
	size_t len = b->len;
	struct nlmsghdr *nlh = (struct nlmsghdr *)b->buf;

	memset(&P, 0, sizeof(P));
	P.seq_ok = true;
	P.last_seq = b->seq_first - 1;
	for (; mnl_nlmsg_ok(nlh, (int)len); nlh = mnl_nlmsg_next(nlh, (int *)&len))
		if (parse_one(nlh) < 0)
			return -1;
	return len == 0 ? 0 : -1;
}

static int rule_index(const char *chain, const char *needle)
{
	for (int i = 0; i < P.n_rules; i++)
		if (strcmp(P.rule_chain[i], chain) == 0 && strstr(P.rules[i], needle))
			return i;
	return -1;
}

static int rule_count(const char *chain, const char *needle)
{
	int n = 0;

	for (int i = 0; i < P.n_rules; i++)
		n += strcmp(P.rule_chain[i], chain) == 0 && strstr(P.rules[i], needle) != NULL;
	return n;
}

/* The output rule that looks up set name. */
static int set_rule(const char *name)
{
	char needle[64];

	snprintf(needle, sizeof(needle), "set %s ]", name);
	return rule_index("output", needle);
}

static int set_index(const char *name)
{
	for (int i = 0; i < P.n_sets; i++)
		if (strcmp(P.sets[i], name) == 0)
			return i;
	return -1;
}

TEST(batch_structure)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	ASSERT_EQ(P.begin, 1);
	ASSERT_EQ(P.end, 1);
	ASSERT_TRUE(P.seq_ok);
	ASSERT_EQ(P.n_tables, 1);
	ASSERT_EQ(P.n_tables + P.n_chains + P.n_sets + P.n_rules + P.n_elem_msgs, b->n_msgs);
	ASSERT_EQ(P.n_chains, 4);
	ASSERT_STREQ(P.chains[0], "output filter hook 3 prio 0 policy 0");
	ASSERT_STREQ(P.chains[1], "input filter hook 1 prio 0 policy 0");
	/* the task namespace forwards nothing: a forward chain of policy drop, no rule */
	ASSERT_STREQ(P.chains[2], "forward filter hook 2 prio 0 policy 0");
	ASSERT_STREQ(P.chains[3], "dns nat hook 3 prio -100 policy -1");
	ASSERT_EQ(rule_count("forward", ""), 0);
	ASSERT_EQ(P.n_sets, 14);
	egress_batch_free(b);
}

TEST(sets_and_elements)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;
	int i;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);

	i = set_index("allow4_tcp");
	ASSERT_TRUE(i >= 0);
	ASSERT_EQ(P.set_flags[i], NFT_SET_INTERVAL | NFT_SET_CONCAT);
	ASSERT_EQ(P.set_key_len[i], 8);
	i = set_index("dns6_udp");
	ASSERT_TRUE(i >= 0);
	ASSERT_EQ(P.set_flags[i], NFT_SET_TIMEOUT);
	ASSERT_EQ(P.set_key_len[i], 20);
	i = set_index("dnsany4_tcp");
	ASSERT_EQ(P.set_key_len[i], 4);
	i = set_index("deny4");
	ASSERT_EQ(P.set_flags[i], NFT_SET_INTERVAL);

	/* 10.20.0.0/16 ports 80 and 8080 over tcp: start . port - end . port */
	ASSERT_CONTAINS(P.elems, "allow4_tcp:0a14000000500000-0a14ffff00500000 ");
	ASSERT_CONTAINS(P.elems, "allow4_tcp:0a1400001f900000-0a14ffff1f900000 ");
	/* a v6 /128 rule without ports: any port, udp only */
	ASSERT_CONTAINS(P.elems, "allow6_udp:2001486000000000000000000000888800010000-"
				 "20014860000000000000000000008888ffff0000 ");
	ASSERT_TRUE(strstr(P.elems, "allow6_tcp:") == NULL);
	ASSERT_TRUE(strstr(P.elems, "allow4_udp:") == NULL);
	/* denied ranges: 169.254/16 (metadata) and fc00::/7 (incl. fd00:ec2::254) */
	ASSERT_CONTAINS(P.elems, "deny4:a9fe0000 deny4:a9ff0000/end ");
	ASSERT_CONTAINS(P.elems, "deny4:0a000000 deny4:0b000000/end ");
	ASSERT_CONTAINS(P.elems, "deny4:e0000000 ");
	ASSERT_TRUE(strstr(P.elems, "deny4:00000000/end") == NULL);
	ASSERT_CONTAINS(P.elems, "deny6:fc000000000000000000000000000000 "
				 "deny6:fe000000000000000000000000000000/end ");
	/* fe80::/9 and ff00::/8 are adjacent: merged, open to the top, no end marker */
	ASSERT_CONTAINS(P.elems, "deny6:fe800000000000000000000000000000 ");
	ASSERT_TRUE(strstr(P.elems, "deny6:ff000000000000000000000000000000") == NULL);
	/* nothing is learned at build time */
	ASSERT_TRUE(strstr(P.elems, "dns4_") == NULL && strstr(P.elems, "dnsany") == NULL);
}

TEST(rule_order)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;
	int lo, est, dns, allow, deny, learned, any, last;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);

	lo = rule_index("output", "[ meta load oif => reg 1 ]");
	est = rule_index("output", "[ ct load state => reg 1 ]");
	dns = rule_index("output", "[ cmp eq reg 1 0x0100007f ]");
	allow = rule_index("output", "set allow4_tcp");
	deny = rule_index("output", "set deny4");
	learned = rule_index("output", "set dns4_tcp");
	any = rule_index("output", "set dnsany6_udp");
	last = P.n_rules - 1;
	while (last >= 0 && strcmp(P.rule_chain[last], "output") != 0)
		last--;
	ASSERT_TRUE(lo == 2 && est == 3); /* after the two of the routing header reject */
	ASSERT_TRUE(dns > est && allow > dns && deny > allow && learned > deny && any > learned);
	ASSERT_TRUE(last > any + 1);
	/* IPv6 multicast is dropped without a log line, before the allow sets */
	ASSERT_TRUE(rule_index("output", "[ payload load 1b @ network header + 24 => reg 1 ]") >
		    dns);
	ASSERT_TRUE(rule_index("output", "[ payload load 1b @ network header + 24 => reg 1 ]") <
		    allow);
	/*
	 * the final rules count, log to the nflog group and reject at once: TCP with a reset,
	 * anything else with an ICMP(v6) administratively-prohibited
	 */
	ASSERT_CONTAINS(P.rules[last - 1], "[ meta load l4proto => reg 1 ]\n"
					   "  [ cmp eq reg 1 0x00000006 ]\n  [ counter");
	ASSERT_CONTAINS(P.rules[last - 1], "log prefix airlock-deny group 7");
	ASSERT_CONTAINS(P.rules[last - 1], "[ reject type 1 code 0 ]");
	ASSERT_TRUE(strstr(P.rules[last], "meta") == NULL);
	ASSERT_CONTAINS(P.rules[last], "counter");
	ASSERT_CONTAINS(P.rules[last], "log prefix airlock-deny group 7");
	ASSERT_CONTAINS(P.rules[last], "[ reject type 2 code 3 ]");
	ASSERT_CONTAINS(P.rules[deny], "log prefix airlock-deny-range");
	ASSERT_CONTAINS(P.rules[deny], "[ reject type 1 code 0 ]");
	ASSERT_CONTAINS(P.rules[deny + 1], "lookup reg 8 set deny4");
	ASSERT_CONTAINS(P.rules[deny + 1], "log prefix airlock-deny-range");
	ASSERT_CONTAINS(P.rules[deny + 1], "[ reject type 2 code 3 ]");
	ASSERT_TRUE(strstr(P.rules[deny + 1], "l4proto") == NULL);
	/* nothing denied is dropped silently: every reject logs, and nothing else drops */
	ASSERT_EQ(rule_count("output", "reject"), rule_count("output", "log prefix"));
	ASSERT_EQ(rule_count("output", "immediate reg 0 drop"), 1); /* the v6 multicast */
	ASSERT_CONTAINS(P.rules[allow], "lookup reg 8 set allow4_tcp");
	ASSERT_CONTAINS(P.rules[allow], "payload load 2b @ transport header + 2 => reg 9");
	ASSERT_CONTAINS(P.rules[rule_index("output", "set allow6_tcp")], "=> reg 12");
	ASSERT_CONTAINS(P.rules[learned], "accept");
	/* UDP/53 to anything is redirected to the proxy's listener on the task's loopback */
	ASSERT_TRUE(rule_index("dns", "cmp neq reg 1 0x0100007f") >= 0);
	ASSERT_TRUE(rule_index("dns", "nat dnat ip addr_min reg 1") >= 0);
	ASSERT_TRUE(rule_index("input", "[ meta load iif => reg 1 ]") >= 0);
}

/*
 * An IPv6 packet with a routing header (a segment routing header any program may set) is
 * counted, logged and rejected first, before established flows are accepted: the ruleset
 * sees only its first segment as the destination.
 */
TEST(rthdr_reject)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	ASSERT_EQ(rule_count("output", "exthdr load ipv6 1b @ 43 + 0 present => reg 1"), 2);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(strcmp(P.rule_chain[i], "output"), 0);
		ASSERT_CONTAINS(P.rules[i], "[ meta load nfproto => reg 1 ]\n"
					    "  [ cmp eq reg 1 0x0000000a ]\n"
					    "  [ exthdr load ipv6 1b @ 43 + 0 present => reg 1 ]\n"
					    "  [ cmp eq reg 1 0x00000001 ]\n  [ counter");
		ASSERT_CONTAINS(P.rules[i], "log prefix airlock-deny group 7");
	}
	ASSERT_CONTAINS(P.rules[0], "[ cmp eq reg 1 0x00000006 ]"); /* l4proto tcp: a reset */
	ASSERT_CONTAINS(P.rules[0], "[ reject type 1 code 0 ]");
	ASSERT_TRUE(strstr(P.rules[1], "l4proto") == NULL);
	ASSERT_CONTAINS(P.rules[1], "[ reject type 2 code 3 ]");
	ASSERT_TRUE(rule_index("output", "[ ct load state => reg 1 ]") > 1);
}

/*
 * The flow limits come right after lo and established, before anything accepts a new flow
 * (DNS to the proxy included): a rate, then a count, each logged and rejected.
 */
TEST(flow_limits)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;
	int rate, count;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	rate = rule_index("output", "limit rate");
	count = rule_index("output", "connlimit");
	ASSERT_EQ(rate, 4);
	ASSERT_EQ(count, 5);
	ASSERT_CONTAINS(P.rules[rate], "[ ct load state => reg 1 ]");
	ASSERT_CONTAINS(P.rules[rate], "0x00000008"); /* ct state new */
	ASSERT_CONTAINS(P.rules[rate], "limit rate 100/second burst 1000 type packets flags 0x1");
	ASSERT_CONTAINS(P.rules[rate], "log prefix airlock-deny-flows group 7");
	ASSERT_CONTAINS(P.rules[rate], "[ reject type 2 code 3 ]");
	ASSERT_CONTAINS(P.rules[count], "connlimit count 4096 flags 1");
	ASSERT_CONTAINS(P.rules[count], "log prefix airlock-deny-flows group 7");
	ASSERT_CONTAINS(P.rules[count], "[ reject type 2 code 3 ]");

	cfg.flows = (struct egress_flow_limit){ .max = 64, .rate = 5 };
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	ASSERT_CONTAINS(P.rules[4], "limit rate 5/second burst 50 type packets flags 0x1");
	ASSERT_CONTAINS(P.rules[5], "connlimit count 64 flags 1");
}

/*
 * The host table (host-table.c): a prerouting chain ahead of any NAT chain that rejects
 * what a task sends to the host's own addresses before a DNAT can rewrite it, and sends
 * every new flow through its slot's limits; a forward chain that refuses flows the host's
 * NAT redirected before it forwards anything of the pools.
 */
TEST(host_table)
{
	struct egress_host_pool p = { .addr = { 10, 231 }, .prefixlen = 16, .prefixlen6 = 48 };
	struct egress_batch *b = egress_batch_new(1);
	int flows, log, rst, icmp;

	ASSERT_TRUE(b != NULL);
	ASSERT_OK(egress_host_table_build(b, &p));
	ASSERT_OK(egress_batch_end(b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	ASSERT_EQ(P.n_tables, 1);
	ASSERT_STREQ(P.chains[1], "prerouting filter hook 0 prio -199 policy 1");
	ASSERT_STREQ(P.chains[2], "forward filter hook 2 prio 0 policy 1");
	ASSERT_EQ(set_index("flows"), 3);
	ASSERT_EQ(P.set_flags[3], NFT_SET_MAP);

	ASSERT_EQ(rule_index("prerouting", "ct load state"), 2); /* established, after ndisc */
	flows = rule_index("prerouting", "set flows");
	log = rule_index("prerouting", "set logs");
	rst = rule_index("prerouting", "reject type 1");
	icmp = rule_index("prerouting", "reject type 2");
	/* no accept for the host's port 53: the tasks' DNS stays in their own namespace */
	ASSERT_EQ(rule_index("prerouting", "set resolvers"), -1);
	ASSERT_TRUE(flows == 3 && log == 4 && rst == 5 && icmp == 6);
	ASSERT_CONTAINS(P.rules[flows], "0x00000008"); /* ct state new */
	ASSERT_CONTAINS(P.rules[flows], "dreg 0"); /* a verdict map */
	for (int i = log; i <= icmp; i++) /* fib daddr type local */
		ASSERT_CONTAINS(P.rules[i],
				"[ fib daddr type => reg 1 ]\n  [ cmp eq reg 1 0x00000002 ]");
	ASSERT_EQ(rule_count("prerouting", "fib"), 3);

	/* forward: the three DNAT rules first, then the pools' */
	for (int i = rule_index("forward", ""), n = 0; n < 3; i++, n++)
		ASSERT_CONTAINS(P.rules[i], "[ ct load status => reg 1 ]");
	ASSERT_CONTAINS(P.rules[rule_index("forward", "set logs")], "ct load status");
	ASSERT_EQ(rule_count("forward", "ct load status"), 3);
	ASSERT_EQ(rule_count("input", "fib"), 0);
}

/* A slot's flow limits: its own chain, reached through its element of flows. */
TEST(host_slot_flows)
{
	struct egress_flow_limit f = { .max = 64, .rate = 5 };
	struct egress_batch *b = egress_batch_new(1);

	ASSERT_TRUE(b != NULL);
	ASSERT_OK(egress_host_slot_flows(b, "al3", 3, &f, false));
	ASSERT_OK(egress_batch_end(b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	ASSERT_EQ(rule_count("flows-al3", ""), 2);
	ASSERT_CONTAINS(P.rules[0], "limit rate 5/second burst 50 type packets flags 0x1");
	ASSERT_CONTAINS(P.rules[0], "log prefix airlock-deny-flows group 32771");
	ASSERT_CONTAINS(P.rules[1], "connlimit count 64 flags 1");
	ASSERT_CONTAINS(P.elems, "flows:616c33");
}
#define DPORT_53 \
	"[ payload load 2b @ transport header + 2 => reg 1 ]\n  [ cmp eq reg 1 0x00003500 ]"

/* The rule added by the TCP/53 fix: any TCP to port 53, both families, RST, logged. */
TEST(tcp53_reject)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;
	int udp53, tcp53, tcp53_lo, dnat;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);

	ASSERT_EQ(rule_count("dns", "reject") + rule_count("input", "reject"), 0);
	tcp53 = rule_index("output", "[ cmp eq reg 1 0x00003500 ]\n  [ counter");
	ASSERT_EQ(rule_count("output", "[ cmp eq reg 1 0x00003500 ]\n  [ counter"), 1);
	udp53 = rule_index("output", "[ cmp eq reg 1 0x00000011 ]\n  " DPORT_53);
	ASSERT_TRUE(tcp53 >= 0 && udp53 >= 0);
	ASSERT_CONTAINS(P.rules[tcp53],
			"[ meta load l4proto => reg 1 ]\n  [ cmp eq reg 1 0x00000006 ]");
	ASSERT_CONTAINS(P.rules[tcp53], "[ payload load 2b @ transport header + 2 => reg 1 ]\n"
					"  [ cmp eq reg 1 0x00003500 ]");
	ASSERT_CONTAINS(P.rules[tcp53], "[ counter");
	ASSERT_CONTAINS(P.rules[tcp53], "[ log prefix airlock-deny group 7 ");
	/* any address, IPv4 and IPv6 alike: no family or address match */
	ASSERT_TRUE(strstr(P.rules[tcp53], "nfproto") == NULL);
	ASSERT_TRUE(strstr(P.rules[tcp53], "network header") == NULL);
	/* the only UDP/53 accept is IPv4 to 127.0.0.1, the proxy's listener, which the nat
	 * chain DNATs all UDP/53 to: nothing goes to the host's port 53 */
	ASSERT_CONTAINS(P.rules[udp53], "[ cmp eq reg 1 0x0100007f ]");
	ASSERT_CONTAINS(P.rules[udp53], "[ immediate reg 0 accept ]");
	ASSERT_CONTAINS(P.rules[udp53],
			"[ meta load nfproto => reg 1 ]\n  [ cmp eq reg 1 0x00000002 ]");
	ASSERT_EQ(rule_count("output", "0x0100e70a"), 0);
	/* ... and the TCP/53 accept is IPv4 to 127.0.0.1 only: the proxy's listener, which the
	 * nat chain DNATs the resolver's TCP/53 to (and nothing else); TCP/53 never reaches
	 * the sets. */
	tcp53_lo = rule_index("output", "[ cmp eq reg 1 0x00000006 ]\n  " DPORT_53 "\n  [ payload");
	ASSERT_TRUE(tcp53_lo > udp53 && tcp53_lo < tcp53);
	ASSERT_CONTAINS(P.rules[tcp53_lo], "[ cmp eq reg 1 0x00000006 ]");
	ASSERT_CONTAINS(P.rules[tcp53_lo], "[ immediate reg 0 accept ]");
	dnat = rule_index("dns", "[ cmp eq reg 1 0x00000006 ]");
	ASSERT_TRUE(dnat >= 0);
	ASSERT_CONTAINS(P.rules[dnat], "[ cmp eq reg 1 0x0100e70a ]");
	ASSERT_CONTAINS(P.rules[dnat], "[ immediate reg 1 0x0100007f ]");
	ASSERT_CONTAINS(P.rules[dnat], "[ nat dnat ip addr_min reg 1 ");
	ASSERT_EQ(rule_count("dns", "0x00003500"), 2);
	ASSERT_EQ(rule_count("output", "0x00003500"), 3);
	ASSERT_TRUE(tcp53 > udp53);
	ASSERT_TRUE(tcp53 < set_rule("allow4_tcp") && tcp53 < set_rule("allow6_tcp"));
	ASSERT_TRUE(tcp53 < set_rule("dns4_tcp") && tcp53 < set_rule("dnsany6_tcp"));
}

/* The destination address masked to a prefix: only the pool rule does that. */
#define POOL_MATCH "[ payload load 4b @ network header + 16 => reg 1 ]\n  [ bitwise"

static int pool_rule(void)
{
	return rule_index("output", POOL_MATCH);
}

/* airlock's own pool is dropped before any cidr allow set, whatever the policy allows. */
TEST(pool_drop)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;
	int pool;

	setup_policy();
	rules[2].prefixlen = 8; /* a cidr rule 10.0.0.0/8 covers the pool */
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	ASSERT_CONTAINS(P.elems, "allow4_tcp:0a00000000500000-0affffff00500000 ");

	/* unset: the default pool 10.231.0.0/16 */
	pool = pool_rule();
	ASSERT_TRUE(pool >= 0);
	ASSERT_EQ(rule_count("output", POOL_MATCH), 2);
	ASSERT_CONTAINS(P.rules[pool],
			"[ meta load nfproto => reg 1 ]\n  [ cmp eq reg 1 0x00000002 ]");
	ASSERT_CONTAINS(P.rules[pool], "[ meta load l4proto => reg 1 ]\n"
				       "  [ cmp eq reg 1 0x00000006 ]");
	ASSERT_CONTAINS(P.rules[pool], "[ reject type 1 code 0 ]");
	ASSERT_CONTAINS(P.rules[pool + 1], POOL_MATCH);
	ASSERT_CONTAINS(P.rules[pool + 1], "[ log prefix airlock-deny-range group 7 ");
	ASSERT_CONTAINS(P.rules[pool + 1], "[ reject type 2 code 3 ]");
	ASSERT_CONTAINS(P.rules[pool], "[ payload load 4b @ network header + 16 => reg 1 ]\n"
				       "  [ bitwise reg 1 = ( reg 1 & 0x0000ffff ) ^ 0x00000000 ]\n"
				       "  [ cmp eq reg 1 0x0000e70a ]");
	ASSERT_CONTAINS(P.rules[pool], "[ counter");
	ASSERT_CONTAINS(P.rules[pool], "[ log prefix airlock-deny-range group 7 ");
	ASSERT_TRUE(pool > rule_index("output", "[ reject type 1 code 0 ]"));
	ASSERT_TRUE(pool < set_rule("allow4_tcp") && pool < set_rule("allow4_udp"));
	ASSERT_TRUE(pool < set_rule("deny4") && pool < set_rule("dns4_tcp"));
	ASSERT_TRUE(pool < set_rule("dnsany4_udp"));

	/* AIRLOCK_NET_POOL=10.232.17.5/20: masked to its network, any nflog group */
	cfg.pool.family = AF_INET;
	inet_pton(AF_INET, "10.232.17.5", cfg.pool.addr);
	cfg.pool_prefixlen = 20;
	cfg.nflog_group = 9;
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	pool = pool_rule();
	ASSERT_TRUE(pool >= 0 && pool < set_rule("allow4_tcp"));
	ASSERT_CONTAINS(P.rules[pool], "[ bitwise reg 1 = ( reg 1 & 0x00f0ffff ) ^ 0x00000000 ]\n"
				       "  [ cmp eq reg 1 0x0010e80a ]");
	ASSERT_CONTAINS(P.rules[pool], "[ log prefix airlock-deny-range group 9 ");
}

/* The learned sets are bounded; the static allow and deny sets are not timed. */
TEST(set_sizes)
{
	static const char *const learned[] = { "dns4_tcp",    "dns4_udp",    "dns6_tcp",
					       "dns6_udp",    "dnsany4_tcp", "dnsany4_udp",
					       "dnsany6_tcp", "dnsany6_udp" };
	static const char *const fixed[] = { "allow4_tcp", "allow4_udp", "allow6_tcp",
					     "allow6_udp", "deny4",	 "deny6" };
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);

	ASSERT_EQ(EGRESS_DNS_SET_SIZE, 8192);
	for (size_t i = 0; i < sizeof(learned) / sizeof(learned[0]); i++) {
		int k = set_index(learned[i]);

		ASSERT_TRUE(k >= 0);
		ASSERT_EQ(P.set_size[k], EGRESS_DNS_SET_SIZE);
		ASSERT_TRUE(P.set_flags[k] & NFT_SET_TIMEOUT);
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		int k = set_index(fixed[i]);

		ASSERT_TRUE(k >= 0);
		ASSERT_EQ(P.set_size[k], 0);
		ASSERT_TRUE(P.set_flags[k] & NFT_SET_INTERVAL);
		ASSERT_FALSE(P.set_flags[k] & NFT_SET_TIMEOUT);
	}
}

/* IPv6 is filtered like IPv4: its own rules, the same order, its denied ranges. */
TEST(v6_rules)
{
	static const char *const v6[] = { "allow6_tcp", "allow6_udp",  "deny6",	     "dns6_tcp",
					  "dns6_udp",	"dnsany6_tcp", "dnsany6_udp" };
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;
	int mcast, deny6;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);

	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		int k = set_rule(v6[i]);

		ASSERT_TRUE(k >= 0);
		ASSERT_CONTAINS(P.rules[k], "[ meta load nfproto => reg 1 ]\n"
					    "  [ cmp eq reg 1 0x0000000a ]");
		ASSERT_CONTAINS(P.rules[k], "[ payload load 16b @ network header + 24 => reg 8 ]");
		if (strncmp(v6[i], "dnsany", 6) != 0 && strcmp(v6[i], "deny6") != 0)
			ASSERT_CONTAINS(P.rules[k],
					"[ payload load 2b @ transport header + 2 => reg 12 ]");
		else
			ASSERT_TRUE(strstr(P.rules[k], "transport header") == NULL);
	}
	deny6 = set_rule("deny6");
	ASSERT_CONTAINS(P.rules[deny6], "[ log prefix airlock-deny-range group 7 ");
	ASSERT_CONTAINS(P.rules[deny6], "[ reject type 1 code 0 ]");
	ASSERT_CONTAINS(P.rules[deny6 + 1], "lookup reg 8 set deny6 ]");
	ASSERT_CONTAINS(P.rules[deny6 + 1], "[ reject type 2 code 3 ]");
	ASSERT_TRUE(deny6 > set_rule("allow6_tcp") && deny6 > set_rule("allow6_udp"));
	ASSERT_TRUE(deny6 < set_rule("dns6_tcp") && deny6 < set_rule("dnsany6_udp"));

	/* the kernel's own multicast (ff00::/8) is dropped without a log line */
	mcast = rule_index("output", "[ payload load 1b @ network header + 24 => reg 1 ]");
	ASSERT_TRUE(mcast >= 0);
	ASSERT_CONTAINS(P.rules[mcast], "[ cmp eq reg 1 0x0000000a ]");
	ASSERT_CONTAINS(P.rules[mcast], "[ cmp eq reg 1 0x000000ff ]\n  [ immediate reg 0 drop ]");
	ASSERT_TRUE(strstr(P.rules[mcast], "log") == NULL);
	ASSERT_TRUE(mcast < set_rule("allow6_tcp"));

	/*
	 * v4-mapped, v4-translated, NAT64, Teredo and 6to4 addresses are denied, so IPv4
	 * ranges cannot hide in them
	 */
	ASSERT_CONTAINS(P.elems, "deny6:00000000000000000000ffff00000000 ");
	ASSERT_CONTAINS(P.elems, "deny6:0000000000000000ffff000000000000 ");
	ASSERT_CONTAINS(P.elems, "deny6:20010000000000000000000000000000 ");
	ASSERT_CONTAINS(P.elems, "deny6:0064ff9b000000000000000000000000 ");
	ASSERT_CONTAINS(P.elems, "deny6:20020000000000000000000000000000 ");
	ASSERT_CONTAINS(P.elems, "deny6:20010db8000000000000000000000000 ");
}

/* The destination address of IPv6 masked to a prefix: the v6 pool and ND rules. */
#define POOL6_MATCH "[ payload load 16b @ network header + 24 => reg 1 ]\n  [ bitwise"

/*
 * airlock's IPv6 pool is rejected like the v4 one, before the allow sets; neighbour
 * discovery with the gateway is accepted before that, only on link or inside the pool.
 */
TEST(v6_pool_and_ndisc)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;
	int pool6, nd;

	setup_policy();
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);

	/* unset: the default pool fd61:6972:6c6b::/48 */
	pool6 = rule_index("output", "0x726961fd 0x00006b6c 0x00000000 0x00000000 ]\n  [ counter");
	ASSERT_TRUE(pool6 >= 0);
	ASSERT_CONTAINS(P.rules[pool6], POOL6_MATCH);
	ASSERT_CONTAINS(P.rules[pool6], "( reg 1 & 0xffffffff 0x0000ffff 0x00000000 0x00000000 )");
	ASSERT_CONTAINS(P.rules[pool6], "[ log prefix airlock-deny-range group 7 ");
	ASSERT_CONTAINS(P.rules[pool6], "[ reject type 1 code 0 ]");
	ASSERT_CONTAINS(P.rules[pool6 + 1], "[ reject type 2 code 3 ]");
	ASSERT_TRUE(pool6 < set_rule("allow6_tcp") && pool6 < set_rule("deny6"));

	/* ND: types 135 and 136, to ff02::/16 or to the pool, accepted, never logged */
	nd = rule_index("output", "[ payload load 1b @ transport header + 0 => reg 1 ]");
	ASSERT_TRUE(nd >= 0 && nd < pool6);
	ASSERT_EQ(rule_count("output", "[ payload load 1b @ transport header + 0 => reg 1 ]"), 4);
	ASSERT_EQ(rule_count("output", "[ cmp eq reg 1 0x00000087 ]"), 2);
	ASSERT_EQ(rule_count("output", "[ cmp eq reg 1 0x00000088 ]"), 2);
	ASSERT_CONTAINS(P.rules[nd], "[ cmp eq reg 1 0x0000003a ]"); /* l4proto icmpv6 */
	ASSERT_CONTAINS(P.rules[nd], "[ cmp eq reg 1 0x000002ff 0x00000000 0x00000000 "
				     "0x00000000 ]\n  [ immediate reg 0 accept ]");
	ASSERT_CONTAINS(P.rules[nd + 1], "0x726961fd 0x00006b6c 0x00000000 0x00000000 ]\n"
					 "  [ immediate reg 0 accept ]");
	ASSERT_TRUE(nd <
		    rule_index("output", "[ payload load 1b @ network header + 24 => reg 1 ]"));

	/* a configured pool */
	cfg.pool6.family = AF_INET6;
	inet_pton(AF_INET6, "fd00:1:2:3::", cfg.pool6.addr);
	cfg.pool6_prefixlen = 56;
	ASSERT_OK(egress_build(&net, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	ASSERT_EQ(rule_count("output", "0x010000fd 0x00000200 0x00000000 0x00000000 ]"), 4);
	ASSERT_EQ(rule_count("output", "0x726961fd"), 0);
}

/* Count of occurrences of needle in haystack. */
static int count_of(const char *haystack, const char *needle)
{
	int n = 0;

	for (const char *s = strstr(haystack, needle); s; s = strstr(s + 1, needle))
		n++;
	return n;
}

/*
 * Nested cidr rules with shared ports would be overlapping intervals, which the kernel
 * refuses (EEXIST): only the outermost element of each nest goes into the set.
 */
TEST(overlapping_cidrs)
{
	static uint16_t p443[] = { 443 }, p443_5432[] = { 443, 5432 };
	struct policy_egress_rule r[5] = {
		{ .is_cidr = true, .prefixlen = 8, .ports = p443, .n_ports = 1 },
		{ .is_cidr = true, .prefixlen = 16, .ports = p443_5432, .n_ports = 2 },
		{ .is_cidr = true, .prefixlen = 16 }, /* every port */
		{ .is_cidr = true, .prefixlen = 8, .ports = p443, .n_ports = 1 }, /* repeated */
		{ .is_cidr = true,
		  .prefixlen = 24,
		  .ports = p443_5432,
		  .n_ports = 2,
		  .protocols = POLICY_PROTOCOL_UDP }, /* another set: kept */
	};
	static const char *const addrs[] = { "10.0.0.0", "10.1.0.0", "10.1.0.0", "10.0.0.0",
					     "10.1.2.0" };
	struct policy_network n = { .enabled = true, .egress = r, .n_egress = 5 };
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;

	for (size_t i = 0; i < 5; i++) {
		r[i].cidr.family = AF_INET;
		inet_pton(AF_INET, addrs[i], r[i].cidr.addr);
	}
	ASSERT_OK(egress_build(&n, &cfg, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);

	/*
	 * 10.0.0.0/8 port 443 (once), and 10.1.0.0/16 on every port but 443, which the /8
	 * element already holds (the two would overlap without nesting); 10.1/16's own 443
	 * and 5432 are inside those.
	 */
	ASSERT_EQ(count_of(P.elems, "allow4_tcp:"), 3);
	ASSERT_CONTAINS(P.elems, "allow4_tcp:0a00000001bb0000-0affffff01bb0000 ");
	ASSERT_CONTAINS(P.elems, "allow4_tcp:0a01000000010000-0a01ffff01ba0000 ");
	ASSERT_CONTAINS(P.elems, "allow4_tcp:0a01000001bc0000-0a01ffffffff0000 ");
	ASSERT_EQ(count_of(P.elems, "allow4_udp:"), 2);
	ASSERT_CONTAINS(P.elems, "allow4_udp:0a01020001bb0000-0a0102ff01bb0000 ");
	ASSERT_CONTAINS(P.elems, "allow4_udp:0a01020015380000-0a0102ff15380000 ");
}

TEST(rejects)
{
	struct egress_config cfg = config();
	struct egress_batch *b = NULL;

	setup_policy();
	net.enabled = false;
	ASSERT_ERROR(egress_build(&net, &cfg, &b), EINVAL);
	net.enabled = true;
	cfg.resolver.family = AF_INET6;
	ASSERT_ERROR(egress_build(&net, &cfg, &b), EINVAL);
	cfg = config();
	rules[2].prefixlen = 40;
	ASSERT_ERROR(egress_build(&net, &cfg, &b), EINVAL);
}

TEST(learned_elements)
{
	struct egress_batch *b = NULL;
	struct policy_addr a[2] = { { .family = AF_INET }, { .family = AF_INET6 } };

	setup_policy();
	inet_pton(AF_INET, "11.1.0.5", a[0].addr);
	inet_pton(AF_INET6, "2600::5", a[1].addr);
	ASSERT_OK(egress_build_learned(&net, "api.example.com", a, 2, 30000, 7, &b));
	ASSERT_EQ(parse_batch(b), 0);
	ASSERT_EQ(b->n_msgs, 2);
	egress_batch_free(b);
	ASSERT_STREQ(P.elems, "dns4_tcp:0b01000501bb0000/t30000 "
			      "dns6_tcp:2600000000000000000000000000000501bb0000/t30000 ");

	/* a wildcard rule without ports: address-only sets, both protocols */
	ASSERT_OK(egress_build_learned(&net, "a.b.cdn.example", a, 1, 5000, 7, &b));
	ASSERT_EQ(parse_batch(b), 0);
	egress_batch_free(b);
	ASSERT_STREQ(P.elems, "dnsany4_tcp:0b010005/t5000 dnsany4_udp:0b010005/t5000 ");

	ASSERT_ERROR(egress_build_learned(&net, "cdn.example", a, 1, 5000, 7, &b), ENOENT);
	ASSERT_ERROR(egress_build_learned(&net, "evil.test", a, 1, 5000, 7, &b), ENOENT);
	a[0].family = AF_UNIX;
	ASSERT_ERROR(egress_build_learned(&net, "api.example.com", a, 1, 5000, 7, &b), EINVAL);
}

TEST(matching)
{
	struct policy_addr a = { .family = AF_INET };
	static const char *const denied4[] = { "10.1.2.3",  "169.254.169.254", "100.64.1.1",
					       "127.0.0.1", "172.31.255.255",  "192.168.1.1",
					       "0.0.0.0",   "255.255.255.255", "224.0.0.251" };
	static const char *const denied6[] = {
		"fd00:ec2::254",  "::1",	  "::ffff:10.0.0.1", "fe80::1",	   "ff02::1",
		"64:ff9b::a00:1", "2002:a00:1::", "::ffff:0:a00:1",  "2001::a00:1"
	};

	setup_policy();
	ASSERT_TRUE(egress_name_matches("*.cdn.example", "x.cdn.example"));
	ASSERT_TRUE(egress_name_matches("*.cdn.example", "y.x.cdn.example"));
	ASSERT_FALSE(egress_name_matches("*.cdn.example", "cdn.example"));
	ASSERT_FALSE(egress_name_matches("*.cdn.example", "xcdn.example"));
	ASSERT_FALSE(egress_name_matches("api.example.com", "x.api.example.com"));
	ASSERT_TRUE(egress_name_allowed(&net, "api.example.com"));
	ASSERT_FALSE(egress_name_allowed(&net, "example.com"));

	for (size_t i = 0; i < sizeof(denied4) / sizeof(denied4[0]); i++) {
		inet_pton(AF_INET, denied4[i], a.addr);
		ASSERT_TRUE(egress_addr_is_denied(&a));
	}
	inet_pton(AF_INET, "11.1.0.1", a.addr);
	ASSERT_FALSE(egress_addr_is_denied(&a));
	ASSERT_TRUE(egress_addr_learnable(&net, &a));
	inet_pton(AF_INET, "10.20.3.4", a.addr);
	ASSERT_TRUE(egress_addr_is_denied(&a));
	ASSERT_TRUE(egress_addr_learnable(&net, &a)); /* a cidr rule names it */
	inet_pton(AF_INET, "10.21.3.4", a.addr);
	ASSERT_FALSE(egress_addr_learnable(&net, &a));

	a.family = AF_INET6;
	for (size_t i = 0; i < sizeof(denied6) / sizeof(denied6[0]); i++) {
		inet_pton(AF_INET6, denied6[i], a.addr);
		ASSERT_TRUE(egress_addr_is_denied(&a));
	}
	inet_pton(AF_INET6, "2606:4700::1", a.addr);
	ASSERT_FALSE(egress_addr_is_denied(&a));
}

/* An IPv6 packet of len bytes: header (next header nh), then ext (n bytes), then 4 bytes. */
static size_t v6_packet(uint8_t *p, uint8_t nh, const uint8_t *ext, size_t n, uint16_t dport)
{
	memset(p, 0, 40 + n + 4);
	p[0] = 0x60;
	p[6] = nh;
	inet_pton(AF_INET6, "2001:db8::10", p + 24);
	memcpy(p + 40, ext, n);
	p[40 + n + 2] = (uint8_t)(dport >> 8);
	p[40 + n + 3] = (uint8_t)dport;
	return 40 + n + 4;
}

/*
 * The denied packets the record names: the transport protocol and port of an IPv6 packet
 * lie past its extension headers (a routing header, which the ruleset rejects, or a fragment
 * header), not in the first next header.
 */
TEST(packet_decode)
{
	uint8_t p[256], ext[96] = {};
	struct egress_denied d;

	ASSERT_OK(egress_packet_decode(p, v6_packet(p, IPPROTO_TCP, ext, 0, 443), &d));
	ASSERT_TRUE(d.daddr.family == AF_INET6 && d.proto == IPPROTO_TCP && d.dport == 443);

	/* a segment routing header of two segments (40 bytes), then TCP */
	ext[0] = IPPROTO_TCP;
	ext[1] = 4;
	ext[2] = 4;
	ASSERT_OK(egress_packet_decode(p, v6_packet(p, IPPROTO_ROUTING, ext, 40, 443), &d));
	ASSERT_TRUE(d.proto == IPPROTO_TCP && d.dport == 443);

	/* the first fragment has the ports, a later one none */
	memset(ext, 0, sizeof(ext));
	ext[0] = IPPROTO_UDP;
	ASSERT_OK(egress_packet_decode(p, v6_packet(p, IPPROTO_FRAGMENT, ext, 8, 53), &d));
	ASSERT_TRUE(d.proto == IPPROTO_UDP && d.dport == 53);
	ext[2] = 0x05; /* offset 1280 */
	ASSERT_OK(egress_packet_decode(p, v6_packet(p, IPPROTO_FRAGMENT, ext, 8, 53), &d));
	ASSERT_TRUE(d.proto == IPPROTO_UDP && d.dport == 0);

	/* a header longer than the packet (the log copies 128 bytes): no port read past it */
	memset(ext, 0, sizeof(ext));
	ext[0] = IPPROTO_TCP;
	ext[1] = 200;
	ASSERT_OK(egress_packet_decode(p, v6_packet(p, IPPROTO_DSTOPTS, ext, 8, 443), &d));
	ASSERT_TRUE(d.proto == IPPROTO_TCP && d.dport == 0);
	/* a chain of more headers than are followed: no transport protocol */
	for (size_t i = 0; i < 12; i++) {
		ext[i * 8] = IPPROTO_DSTOPTS;
		ext[i * 8 + 1] = 0;
	}
	ASSERT_OK(egress_packet_decode(p, v6_packet(p, IPPROTO_DSTOPTS, ext, 96, 443), &d));
	ASSERT_TRUE(d.proto == IPPROTO_DSTOPTS && d.dport == 0);
}

TEST_MAIN()
