/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure: the rules of the host namespace's tables (host-table.h), built into batches. No
 * socket is opened here; host-nat.c sends them and keeps the reference count.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cleanup.h"
#include "egress-internal.h"
#include "host-nat.h"
#include "host-table.h"

#define TYPE_IPV4_ADDR 7
#define TYPE_IFNAME 41
#define TYPE_BITS 6

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set *, nftnl_set_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_chain *, nftnl_chain_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_rule *, nftnl_rule_free);

/*
 * The host table's sets: which veths are airlock's, each one's resolver address, and the
 * verdict map that sends each one's rejected traffic through its slot's log chain.
 */
enum { SET_LINKS = 1, SET_RESOLVERS = 2, SET_LOGS = 3 };
static const char *const set_names[] = {
	[SET_LINKS] = "links", [SET_RESOLVERS] = "resolvers", [SET_LOGS] = "logs"
};

int egress_host_pool_rule(struct egress_batch *b, const char *table, const char *chain,
			  const struct egress_host_pool *p, unsigned flags, int v)
{
	bool v6 = flags & EGRESS_HOST_V6;
	const uint8_t *addr = v6 ? p->addr6 : p->addr;
	uint8_t plen = v6 ? p->prefixlen6 : p->prefixlen;
	uint32_t len = v6 ? 16 : 4;
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, table, chain);
	if (r < 0)
		return r;
	egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	if (flags & EGRESS_HOST_SRC_POOL)
		egress_expr_prefix_match_len(&c, v6 ? 8 : 12, addr, len, plen, NFT_CMP_EQ);
	if (flags & (EGRESS_HOST_DST_POOL | EGRESS_HOST_DST_OTHER))
		egress_expr_prefix_match_len(&c, v6 ? 24 : 16, addr, len, plen,
					     flags & EGRESS_HOST_DST_POOL ? NFT_CMP_EQ
									  : NFT_CMP_NEQ);
	if (flags & EGRESS_HOST_ESTABLISHED)
		egress_expr_ct_established(&c);
	if (v < 0)
		egress_expr_add(&c, egress_expr_new(&c, "masq"));
	else
		egress_expr_verdict(&c, v);
	return egress_rule_commit(b, &c);
}

static int host_rule(struct egress_batch *b, const char *chain, const struct egress_host_pool *p,
		     unsigned flags, int v)
{
	return egress_host_pool_rule(b, EGRESS_HOST_TABLE, chain, p, flags, v);
}

static struct nftnl_set *host_set_new(uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, EGRESS_HOST_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_names[id]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

/* links: ifname; resolvers: ifname . ipv4_addr; logs: ifname : verdict. Plain hashes. */
static int host_set_declare(struct egress_batch *b, uint32_t id)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = host_set_new(id);
	bool concat = id == SET_RESOLVERS;
	struct nlmsghdr *nlh;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, id == SET_LOGS ? NFT_SET_MAP : 0);
	if (id == SET_LOGS)
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  concat ? TYPE_IFNAME << TYPE_BITS | TYPE_IPV4_ADDR : TYPE_IFNAME);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN,
			  concat ? EGRESS_HOST_IFNAME_LEN + 4 : EGRESS_HOST_IFNAME_LEN);
	nlh = egress_batch_msg(b, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return -ENOMEM;
	nftnl_set_nlmsg_build_payload(nlh, s);
	egress_batch_commit(b, nlh);
	return 0;
}

static void host_lookup(struct egress_rule *c, uint32_t id)
{
	struct nftnl_expr *e = egress_expr_new(c, "lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set_names[id]);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
		if (id == SET_LOGS) /* a verdict map: the element's verdict is the rule's */
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	}
	egress_expr_add(c, e);
}

enum { IN_DNS, IN_ESTABLISHED, IN_NDISC_NS, IN_NDISC_NA, IN_LOG, IN_REJECT_TCP, IN_REJECT };

/*
 * The input chain: a task reaches the host itself only with UDP/53 to its own slot's .1
 * (the DNS proxy), and IPv6 neighbour discovery with its gateway; anything else new
 * arriving on one of airlock's veths is rejected (TCP reset, else ICMP admin-prohibited, so
 * the task fails at once), so a broad cidr rule (10.0.0.0/8, 0.0.0.0/0) cannot open the
 * host's own services. Before that it goes through its veth's log chain ("iifname vmap
 * @logs"), which logs it to that slot's own nflog group and returns.
 */
static int input_rule(struct egress_batch *b, int kind)
{
	uint16_t port = htons(53);
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_HOST_TABLE, "input");
	if (r < 0)
		return r;
	if (kind == IN_NDISC_NS || kind == IN_NDISC_NA) {
		uint8_t type = kind == IN_NDISC_NS ? 135 : 136;

		egress_expr_meta_load(&c, NFT_META_IIFNAME, NFT_REG32_00);
		host_lookup(&c, SET_LINKS);
		egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, NFPROTO_IPV6);
		egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, IPPROTO_ICMPV6);
		egress_expr_payload(&c, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		egress_expr_cmp(&c, NFT_CMP_EQ, &type, sizeof(type));
		egress_expr_verdict(&c, NF_ACCEPT);
		return egress_rule_commit(b, &c);
	}
	if (kind == IN_DNS) {
		egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, NFPROTO_IPV4);
		egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, IPPROTO_UDP);
		egress_expr_payload(&c, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1);
		egress_expr_cmp(&c, NFT_CMP_EQ, &port, sizeof(port));
		egress_expr_meta_load(&c, NFT_META_IIFNAME, NFT_REG32_00);
		egress_expr_payload(&c, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_04);
		host_lookup(&c, SET_RESOLVERS);
		egress_expr_verdict(&c, NF_ACCEPT);
		return egress_rule_commit(b, &c);
	}
	egress_expr_meta_load(&c, NFT_META_IIFNAME, NFT_REG32_00);
	/* IN_LOG: the map's verdict is the rule's, a jump to the slot's log chain */
	host_lookup(&c, kind == IN_LOG ? SET_LOGS : SET_LINKS);
	if (kind == IN_ESTABLISHED) {
		egress_expr_ct_established(&c);
		egress_expr_verdict(&c, NF_ACCEPT);
	} else if (kind != IN_LOG) {
		if (kind == IN_REJECT_TCP)
			egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, IPPROTO_TCP);
		egress_expr_counter(&c);
		egress_expr_reject(&c, kind == IN_REJECT_TCP);
	}
	return egress_rule_commit(b, &c);
}

int egress_host_table_build(struct egress_batch *b, const struct egress_host_pool *p)
{
	int r;

	r = egress_build_table(b, EGRESS_HOST_TABLE);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "postrouting", "nat",
				       NF_INET_POST_ROUTING, 100);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "forward", "filter", NF_INET_FORWARD,
				       0);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "input", "filter", NF_INET_LOCAL_IN,
				       0);
	if (r >= 0)
		r = host_set_declare(b, SET_LINKS);
	if (r >= 0)
		r = host_set_declare(b, SET_RESOLVERS);
	if (r >= 0)
		r = host_set_declare(b, SET_LOGS);
	for (unsigned v6 = 0; v6 <= EGRESS_HOST_V6; v6 += EGRESS_HOST_V6) { /* NAT44, then NAT66 */
		if (r >= 0)
			r = host_rule(b, "postrouting", p,
				      v6 | EGRESS_HOST_SRC_POOL | EGRESS_HOST_DST_OTHER, -1);
		if (r >= 0) /* tasks never reach each other */
			r = host_rule(b, "forward", p,
				      v6 | EGRESS_HOST_SRC_POOL | EGRESS_HOST_DST_POOL, NF_DROP);
		if (r >= 0)
			r = host_rule(b, "forward", p, v6 | EGRESS_HOST_SRC_POOL, NF_ACCEPT);
		if (r >= 0)
			r = host_rule(b, "forward", p,
				      v6 | EGRESS_HOST_DST_POOL | EGRESS_HOST_ESTABLISHED,
				      NF_ACCEPT);
		if (r >= 0) /* nothing new comes in towards a task */
			r = host_rule(b, "forward", p, v6 | EGRESS_HOST_DST_POOL, NF_DROP);
	}
	for (int k = IN_DNS; r >= 0 && k <= IN_REJECT; k++)
		r = input_rule(b, k);
	return r;
}

int egress_host_nflog_group(unsigned slot)
{
	if (slot > UINT16_MAX - EGRESS_HOST_NFLOG_GROUP_BASE)
		return -ERANGE;
	return EGRESS_HOST_NFLOG_GROUP_BASE + (int)slot;
}

int egress_host_slot_elems(struct egress_batch *b, const char *ifname,
			   const struct policy_addr *host, bool del)
{
	uint8_t key[EGRESS_HOST_IFNAME_LEN + 4] = {};

	strncpy((char *)key, ifname, EGRESS_HOST_IFNAME_LEN - 1);
	memcpy(key + EGRESS_HOST_IFNAME_LEN, host->addr, 4);
	for (uint32_t id = SET_LINKS; id <= SET_RESOLVERS; id++) {
		_cleanup_(nftnl_set_freep) struct nftnl_set *s = host_set_new(id);
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		struct nlmsghdr *nlh;

		if (!s || !e) {
			nftnl_set_elem_free(e);
			return -ENOMEM;
		}
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key,
				   id == SET_RESOLVERS ? sizeof(key) : EGRESS_HOST_IFNAME_LEN);
		nftnl_set_elem_add(s, e); /* the set owns e now */
		nlh = egress_batch_msg(b, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
				       NFPROTO_INET, del ? 0 : NLM_F_CREATE);
		if (!nlh)
			return -ENOMEM;
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		egress_batch_commit(b, nlh);
	}
	return 0;
}

/* The element of logs for ifname: "<ifname> : jump <chain>". */
static int log_elem(struct egress_batch *b, const char *ifname, const char *chain, bool del)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = host_set_new(SET_LOGS);
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	char key[EGRESS_HOST_IFNAME_LEN] = {};
	struct nlmsghdr *nlh;

	if (!s || !e) {
		nftnl_set_elem_free(e);
		return -ENOMEM;
	}
	strncpy(key, ifname, EGRESS_HOST_IFNAME_LEN - 1);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, EGRESS_HOST_IFNAME_LEN);
	if (!del) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(s, e); /* the set owns e now */
	nlh = egress_batch_msg(b, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, NFPROTO_INET,
			       del ? 0 : NLM_F_CREATE);
	if (!nlh)
		return -ENOMEM;
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	egress_batch_commit(b, nlh);
	return 0;
}

/* A regular chain of the host table: NEWCHAIN (create), DELCHAIN, or DELRULE (flush). */
static int log_chain_msg(struct egress_batch *b, const char *chain, uint16_t type)
{
	_cleanup_(nftnl_chain_freep) struct nftnl_chain *c = NULL;
	_cleanup_(nftnl_rule_freep) struct nftnl_rule *rule = NULL;
	struct nlmsghdr *nlh;

	nlh = egress_batch_msg(b, type, NFPROTO_INET, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0);
	if (!nlh)
		return -ENOMEM;
	if (type == NFT_MSG_DELRULE) { /* no handle: every rule of the chain */
		rule = nftnl_rule_alloc();
		if (!rule)
			return -ENOMEM;
		nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, EGRESS_HOST_TABLE);
		nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, chain);
		nftnl_rule_set_u32(rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
		nftnl_rule_nlmsg_build_payload(nlh, rule);
	} else {
		c = nftnl_chain_alloc();
		if (!c)
			return -ENOMEM;
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, EGRESS_HOST_TABLE);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
		nftnl_chain_nlmsg_build_payload(nlh, c);
	}
	egress_batch_commit(b, nlh);
	return 0;
}

int egress_host_slot_log(struct egress_batch *b, const char *ifname, unsigned slot, bool del)
{
	int group = egress_host_nflog_group(slot);
	struct egress_rule c;
	char chain[32];
	int r;

	if (group < 0)
		return 0;
	snprintf(chain, sizeof(chain), "log-%s", ifname);
	if (del) {
		r = log_elem(b, ifname, chain, true);
		if (r >= 0)
			r = log_chain_msg(b, chain, NFT_MSG_DELRULE);
		return r < 0 ? r : log_chain_msg(b, chain, NFT_MSG_DELCHAIN);
	}
	r = log_chain_msg(b, chain, NFT_MSG_NEWCHAIN);
	if (r >= 0)
		r = log_chain_msg(b, chain, NFT_MSG_DELRULE);
	if (r >= 0)
		r = egress_rule_begin(&c, EGRESS_HOST_TABLE, chain);
	if (r < 0)
		return r;
	egress_expr_log(&c, (uint16_t)group, EGRESS_LOG_PREFIX_HOST);
	r = egress_rule_commit(b, &c);
	return r < 0 ? r : log_elem(b, ifname, chain, false);
}

int egress_host_guard_build(struct egress_batch *b, const struct egress_host_pool *p, unsigned fams)
{
	unsigned v6 = 0;
	int r;

	r = egress_build_table(b, EGRESS_FORWARD_TABLE);
	if (r >= 0) /* ahead of other forward chains; policy accept: other families untouched */
		r = egress_build_chain(b, EGRESS_FORWARD_TABLE, "forward", "filter",
				       NF_INET_FORWARD, -10);
	for (; r >= 0 && v6 <= EGRESS_HOST_V6; v6 += EGRESS_HOST_V6) {
		if (!(fams & (v6 ? EGRESS_HOST_FWD_V6 : EGRESS_HOST_FWD_V4)))
			continue;
		r = egress_host_pool_rule(b, EGRESS_FORWARD_TABLE, "forward", p,
					  v6 | EGRESS_HOST_SRC_POOL, NF_ACCEPT);
		if (r >= 0)
			r = egress_host_pool_rule(
				b, EGRESS_FORWARD_TABLE, "forward", p,
				v6 | EGRESS_HOST_DST_POOL | EGRESS_HOST_ESTABLISHED, NF_ACCEPT);
		if (r >= 0)
			r = egress_host_pool_rule(b, EGRESS_FORWARD_TABLE, "forward", p, v6,
						  NF_DROP);
	}
	return r;
}
