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
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include "cleanup.h"
#include "egress-internal.h"
#include "host-nat.h"
#include "host-table.h"
#include "macro.h"

#define TYPE_IPV4_ADDR 7
#define TYPE_IFNAME 41
#define TYPE_BITS 6

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set *, nftnl_set_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_chain *, nftnl_chain_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_rule *, nftnl_rule_free);

/*
 * The host table's sets: which veths are airlock's, each one's resolver address, and two
 * verdict maps: one sends each veth's rejected traffic through its slot's log chain, the
 * other each veth's new flows through its slot's flow limits.
 */
enum { SET_LINKS = 1, SET_RESOLVERS = 2, SET_LOGS = 3, SET_FLOWS = 4 };
static const char *const set_names[] = { [SET_LINKS] = "links",
					 [SET_RESOLVERS] = "resolvers",
					 [SET_LOGS] = "logs",
					 [SET_FLOWS] = "flows" };
static const char *const chain_prefix[] = { [SET_LOGS] = "log", [SET_FLOWS] = "flows" };

static bool is_map(uint32_t id)
{
	return id == SET_LOGS || id == SET_FLOWS;
}

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

/* links: ifname; resolvers: ifname . ipv4_addr; logs, flows: ifname : verdict. Hashes. */
static int host_set_declare(struct egress_batch *b, uint32_t id)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = host_set_new(id);
	bool concat = id == SET_RESOLVERS;
	struct nlmsghdr *nlh;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, is_map(id) ? NFT_SET_MAP : 0);
	if (is_map(id))
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
		if (is_map(id)) /* a verdict map: the element's verdict is the rule's */
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	}
	egress_expr_add(c, e);
}

/* "fib daddr type local": the destination is one of the host's own addresses. */
static void match_local(struct egress_rule *c)
{
	struct nftnl_expr *e = egress_expr_new(c, "fib");
	uint32_t local = RTN_LOCAL;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	}
	egress_expr_add(c, e);
	egress_expr_cmp(c, NFT_CMP_EQ, &local, sizeof(local));
}

/* "ct status dnat": some table of the host rewrote the flow's destination. */
static void match_dnat(struct egress_rule *c)
{
	egress_expr_ct_any(c, NFT_CT_STATUS, IPS_DST_NAT);
}

enum { K_ESTABLISHED, K_NDISC_NS, K_NDISC_NA, K_FLOWS, K_LOG, K_REJECT_TCP, K_REJECT };
enum { M_ANY, M_LOCAL, M_DNAT };

/* IPv6 neighbour discovery (type 135 or 136) on one of airlock's veths: accept. */
static void ndisc_rule(struct egress_rule *c, uint8_t type)
{
	egress_expr_meta_load(c, NFT_META_IIFNAME, NFT_REG32_00);
	host_lookup(c, SET_LINKS);
	egress_expr_icmpv6_type_eq(c, type);
	egress_expr_verdict(c, NF_ACCEPT);
}

/*
 * One rule of chain, for packets arriving on one of airlock's veths, after the match (any
 * packet, one to a host address, one whose destination the host's NAT rewrote):
 * K_ESTABLISHED accepts what belongs to a known flow; K_FLOWS sends a new flow through its
 * slot's flow limits ("iifname vmap @flows"), K_LOG through its slot's log chain ("iifname
 * vmap @logs", which logs it to the slot's own nflog group and returns); K_REJECT_TCP and
 * K_REJECT count and reject (TCP reset, else ICMP admin-prohibited: the task fails at once).
 */
static int slot_rule(struct egress_batch *b, const char *chain, int kind, int match)
{
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_HOST_TABLE, chain);
	if (r < 0)
		return r;
	if (kind == K_NDISC_NS || kind == K_NDISC_NA) {
		ndisc_rule(&c, kind == K_NDISC_NS ? 135 : 136);
		return egress_rule_commit(b, &c);
	}
	if (match == M_LOCAL)
		match_local(&c);
	else if (match == M_DNAT)
		match_dnat(&c);
	if (kind == K_FLOWS)
		egress_expr_ct_state(&c, NF_CT_STATE_BIT(IP_CT_NEW));
	egress_expr_meta_load(&c, NFT_META_IIFNAME, NFT_REG32_00);
	/* K_LOG, K_FLOWS: the map's verdict is the rule's, a jump to the slot's chain */
	host_lookup(&c, kind == K_LOG ? SET_LOGS : kind == K_FLOWS ? SET_FLOWS : SET_LINKS);
	if (kind == K_ESTABLISHED) {
		egress_expr_ct_established(&c);
		egress_expr_verdict(&c, NF_ACCEPT);
	} else if (kind == K_REJECT_TCP || kind == K_REJECT) {
		if (kind == K_REJECT_TCP)
			egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, IPPROTO_TCP);
		egress_expr_counter(&c);
		egress_expr_reject(&c, kind == K_REJECT_TCP);
	}
	return egress_rule_commit(b, &c);
}

/*
 * What a task may do to the host, in three chains:
 *
 * prerouting, before any table's DNAT can rewrite the destination: a task reaches the host
 * itself (any of its addresses, "fib daddr type local") only with IPv6 neighbour discovery
 * with its gateway (its DNS goes to the proxy's sockets in its own namespace, never to the
 * host's port 53, which a resolver of the host's may hold); anything else new is
 * logged and rejected, so neither a broad cidr rule (10.0.0.0/8, 0.0.0.0/0) nor a DNS
 * answer naming a host address opens the host's own services, nor the ports the host
 * forwards elsewhere (Docker's -p, a Kubernetes NodePort, a libvirt or firewalld port
 * forward). Every new flow first passes its slot's flow limits.
 *
 * forward: a flow whose destination the host's NAT rewrote anyway (to an address that is
 * not the host's, such as a Kubernetes ClusterIP, or at a priority ahead of ours) is
 * logged and rejected: a task reaches only the destination it asked for.
 *
 * input: as prerouting, for what still arrives (broadcast, or a redirect to the host).
 */
static const struct {
	const char *chain;
	int kind, match;
} slot_rules[] = {
	{ "prerouting", K_NDISC_NS, M_ANY },	{ "prerouting", K_NDISC_NA, M_ANY },
	{ "prerouting", K_ESTABLISHED, M_ANY }, { "prerouting", K_FLOWS, M_ANY },
	{ "prerouting", K_LOG, M_LOCAL },	{ "prerouting", K_REJECT_TCP, M_LOCAL },
	{ "prerouting", K_REJECT, M_LOCAL },	{ "forward", K_LOG, M_DNAT },
	{ "forward", K_REJECT_TCP, M_DNAT },	{ "forward", K_REJECT, M_DNAT },
	{ "input", K_ESTABLISHED, M_ANY },	{ "input", K_NDISC_NS, M_ANY },
	{ "input", K_NDISC_NA, M_ANY },		{ "input", K_LOG, M_ANY },
	{ "input", K_REJECT_TCP, M_ANY },	{ "input", K_REJECT, M_ANY },
};

static int build_chains(struct egress_batch *b)
{
	int r;

	r = egress_build_chain(b, EGRESS_HOST_TABLE, "postrouting", "nat", NF_INET_POST_ROUTING,
			       100);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "prerouting", "filter",
				       NF_INET_PRE_ROUTING, EGRESS_HOST_PREROUTING_PRIO);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "forward", "filter", NF_INET_FORWARD,
				       0);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "input", "filter", NF_INET_LOCAL_IN,
				       0);
	for (uint32_t id = SET_LINKS; r >= 0 && id <= SET_FLOWS; id++)
		r = host_set_declare(b, id);
	return r;
}

int egress_host_table_build(struct egress_batch *b, const struct egress_host_pool *p)
{
	int r;

	r = egress_build_table(b, EGRESS_HOST_TABLE);
	if (r >= 0)
		r = build_chains(b);
	/* the forward chain's DNAT rules come before the pools' */
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(slot_rules); i++)
		r = slot_rule(b, slot_rules[i].chain, slot_rules[i].kind, slot_rules[i].match);
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

/* The element of map id (logs, flows) for ifname: "<ifname> : jump <chain>". */
static int map_elem(struct egress_batch *b, uint32_t id, const char *ifname, const char *chain,
		    bool del)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = host_set_new(id);
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
static int chain_msg(struct egress_batch *b, const char *chain, uint16_t type)
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

/*
 * Slot n's chain of map id, "<log|flows>-<ifname>", and its element: added (the chain
 * emptied first, in case a dead run's is still there, then its rules, then the element),
 * or deleted (element first). The log chain's one rule logs to the slot's group; the flow
 * chain holds its limits (logged to that group too, when the slot has one).
 */
static int slot_chain(struct egress_batch *b, uint32_t id, const char *ifname, unsigned slot,
		      const struct egress_flow_limit *flows, bool del)
{
	int group = egress_host_nflog_group(slot);
	struct egress_rule c;
	char chain[32];
	int r;

	snprintf(chain, sizeof(chain), "%s-%s", chain_prefix[id], ifname);
	if (del) {
		r = map_elem(b, id, ifname, chain, true);
		if (r >= 0)
			r = chain_msg(b, chain, NFT_MSG_DELRULE);
		return r < 0 ? r : chain_msg(b, chain, NFT_MSG_DELCHAIN);
	}
	r = chain_msg(b, chain, NFT_MSG_NEWCHAIN);
	if (r >= 0)
		r = chain_msg(b, chain, NFT_MSG_DELRULE);
	if (r < 0)
		return r;
	if (id == SET_FLOWS) {
		r = egress_build_flow_limit(b, EGRESS_HOST_TABLE, chain, flows, group);
	} else {
		r = egress_rule_begin(&c, EGRESS_HOST_TABLE, chain);
		if (r < 0)
			return r;
		egress_expr_log(&c, (uint16_t)group, EGRESS_LOG_PREFIX_HOST);
		r = egress_rule_commit(b, &c);
	}
	return r < 0 ? r : map_elem(b, id, ifname, chain, false);
}

int egress_host_slot_log(struct egress_batch *b, const char *ifname, unsigned slot, bool del)
{
	if (egress_host_nflog_group(slot) < 0)
		return 0;
	return slot_chain(b, SET_LOGS, ifname, slot, NULL, del);
}

int egress_host_slot_flows(struct egress_batch *b, const char *ifname, unsigned slot,
			   const struct egress_flow_limit *flows, bool del)
{
	static const struct egress_flow_limit defaults = {};

	return slot_chain(b, SET_FLOWS, ifname, slot, flows ? flows : &defaults, del);
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
