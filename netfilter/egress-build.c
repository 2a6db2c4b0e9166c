/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure: turns a policy's network section into the nftables batch of the task's ruleset
 * (layout in egress.h). No socket is opened here; egress-apply.c sends the batch.
 */
#include <assert.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include "cleanup.h"
#include "egress-internal.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_table *, nftnl_table_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_chain *, nftnl_chain_free);

#define LOG_SNAPLEN 128

/* EGRESS_LINK_POOL6_DEFAULT, fd61:6972:6c6b::/48 ("airlk"), with its prefix length */
static const uint8_t pool6_default[16] = { 0xfd, 0x61, 0x69, 0x72, 0x6c, 0x6b };

void egress_expr_add(struct egress_rule *c, struct nftnl_expr *e)
{
	if (!e) {
		c->err = -ENOMEM;
		return;
	}
	nftnl_rule_add_expr(c->rule, e); /* the rule owns e now */
}

struct nftnl_expr *egress_expr_new(struct egress_rule *c, const char *name)
{
	if (c->err < 0)
		return NULL;
	return nftnl_expr_alloc(name);
}

void egress_expr_meta_load(struct egress_rule *c, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = egress_expr_new(c, "meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	}
	egress_expr_add(c, e);
}

void egress_expr_cmp(struct egress_rule *c, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = egress_expr_new(c, "cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	egress_expr_add(c, e);
}

void egress_expr_meta_eq_u8(struct egress_rule *c, uint32_t key, uint8_t value)
{
	egress_expr_meta_load(c, key, NFT_REG_1);
	egress_expr_cmp(c, NFT_CMP_EQ, &value, sizeof(value));
}

void egress_expr_payload(struct egress_rule *c, uint32_t base, uint32_t offset, uint32_t len,
			 uint32_t dreg)
{
	struct nftnl_expr *e = egress_expr_new(c, "payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	egress_expr_add(c, e);
}

void egress_expr_icmpv6_type_eq(struct egress_rule *c, uint8_t type)
{
	egress_expr_meta_eq_u8(c, NFT_META_NFPROTO, NFPROTO_IPV6);
	egress_expr_meta_eq_u8(c, NFT_META_L4PROTO, IPPROTO_ICMPV6);
	egress_expr_payload(c, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	egress_expr_cmp(c, NFT_CMP_EQ, &type, sizeof(type));
}

/* Loads the destination address of family into dreg. */
static void daddr(struct egress_rule *c, int family, uint32_t dreg)
{
	if (family == AF_INET)
		egress_expr_payload(c, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, dreg);
	else
		egress_expr_payload(c, NFT_PAYLOAD_NETWORK_HEADER, 24, 16, dreg);
}

static void dport(struct egress_rule *c, uint32_t dreg)
{
	egress_expr_payload(c, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, dreg);
}

static void lookup(struct egress_rule *c, const struct egress_set_def *d)
{
	struct nftnl_expr *e = egress_expr_new(c, "lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, d->name);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, d->id);
	}
	egress_expr_add(c, e);
}

void egress_expr_counter(struct egress_rule *c)
{
	egress_expr_add(c, egress_expr_new(c, "counter"));
}

void egress_expr_log(struct egress_rule *c, uint16_t group, const char *prefix)
{
	struct nftnl_expr *e = egress_expr_new(c, "log");

	if (e) {
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, LOG_SNAPLEN);
	}
	egress_expr_add(c, e);
}

void egress_expr_verdict(struct egress_rule *c, int v)
{
	struct nftnl_expr *e = egress_expr_new(c, "immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	}
	egress_expr_add(c, e);
}

void egress_expr_ct_established(struct egress_rule *c)
{
	egress_expr_ct_state(c,
			     NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
}

void egress_expr_ct_state(struct egress_rule *c, uint32_t mask)
{
	egress_expr_ct_any(c, NFT_CT_STATE, mask);
}

void egress_expr_ct_any(struct egress_rule *c, uint32_t key, uint32_t mask)
{
	uint32_t zero = 0;
	struct nftnl_expr *e = egress_expr_new(c, "ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	egress_expr_add(c, e);
	e = egress_expr_new(c, "bitwise");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	}
	egress_expr_add(c, e);
	egress_expr_cmp(c, NFT_CMP_NEQ, &zero, sizeof(zero));
}

void egress_expr_prefix_match_len(struct egress_rule *c, uint32_t offset, const uint8_t *addr,
				  uint32_t len, uint8_t prefixlen, uint32_t op)
{
	uint8_t mask[16] = {}, net[16], zero[16] = {};
	struct nftnl_expr *e;

	assert(len == 4 || len == 16);
	for (unsigned i = 0; i < len * 8 && i < prefixlen; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (unsigned i = 0; i < len; i++)
		net[i] = addr[i] & mask[i];
	egress_expr_payload(c, NFT_PAYLOAD_NETWORK_HEADER, offset, len, NFT_REG_1);
	e = egress_expr_new(c, "bitwise");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	egress_expr_add(c, e);
	egress_expr_cmp(c, op, net, len);
}

void egress_expr_prefix_match(struct egress_rule *c, uint32_t offset, const uint8_t addr[4],
			      uint8_t prefixlen, uint32_t op)
{
	egress_expr_prefix_match_len(c, offset, addr, 4, prefixlen, op);
}

static void reject(struct egress_rule *c, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = egress_expr_new(c, "reject");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	}
	egress_expr_add(c, e);
}

static void reject_tcp_rst(struct egress_rule *c)
{
	reject(c, NFT_REJECT_TCP_RST, 0);
}

void egress_expr_reject(struct egress_rule *c, bool tcp)
{
	if (tcp)
		reject_tcp_rst(c);
	else
		reject(c, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
}

static void dnat_to(struct egress_rule *c, const struct policy_addr *to)
{
	struct nftnl_expr *e = egress_expr_new(c, "immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, to->addr, 4);
	}
	egress_expr_add(c, e);
	e = egress_expr_new(c, "nat");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	}
	egress_expr_add(c, e);
}

int egress_rule_begin(struct egress_rule *c, const char *table, const char *chain)
{
	*c = (struct egress_rule){ .rule = nftnl_rule_alloc() };
	if (!c->rule)
		return -ENOMEM;
	nftnl_rule_set_str(c->rule, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(c->rule, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(c->rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return 0;
}

/* Appends the rule to the batch and frees it. */
int egress_rule_commit(struct egress_batch *b, struct egress_rule *c)
{
	struct nlmsghdr *nlh = NULL;
	int r = c->err;

	if (r >= 0) {
		nlh = egress_batch_msg(b, NFT_MSG_NEWRULE, NFPROTO_INET,
				       NLM_F_CREATE | NLM_F_APPEND);
		r = nlh ? 0 : -ENOMEM;
	}
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, c->rule);
		egress_batch_commit(b, nlh);
	}
	nftnl_rule_free(c->rule);
	c->rule = NULL;
	return r;
}

static uint8_t nfproto_of(int family)
{
	return family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

int egress_build_table(struct egress_batch *b, const char *name)
{
	_cleanup_(nftnl_table_freep) struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = egress_batch_msg(b, NFT_MSG_NEWTABLE, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return -ENOMEM;
	nftnl_table_nlmsg_build_payload(nlh, t);
	egress_batch_commit(b, nlh);
	return 0;
}

int egress_build_chain(struct egress_batch *b, const char *table, const char *name,
		       const char *type, uint32_t hook, int32_t prio)
{
	_cleanup_(nftnl_chain_freep) struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	if (streq(type, "filter"))
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY,
				    streq(table, EGRESS_TABLE) ? NF_DROP : NF_ACCEPT);
	nlh = egress_batch_msg(b, NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return -ENOMEM;
	nftnl_chain_nlmsg_build_payload(nlh, c);
	egress_batch_commit(b, nlh);
	return 0;
}

/* oif/iif lo accept; ct state established,related accept. */
static int build_base_rules(struct egress_batch *b, const char *chain, uint32_t if_key)
{
	uint32_t lo = 1; /* loopback is always ifindex 1 in a network namespace */
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_TABLE, chain);
	if (r < 0)
		return r;
	egress_expr_meta_load(&c, if_key, NFT_REG_1);
	egress_expr_cmp(&c, NFT_CMP_EQ, &lo, sizeof(lo));
	egress_expr_verdict(&c, NF_ACCEPT);
	r = egress_rule_commit(b, &c);
	if (r < 0)
		return r;

	r = egress_rule_begin(&c, EGRESS_TABLE, chain);
	if (r < 0)
		return r;
	egress_expr_ct_established(&c);
	egress_expr_verdict(&c, NF_ACCEPT);
	return egress_rule_commit(b, &c);
}

/* [nfproto v4] l4proto P, dport 53, daddr ==/!= addr, then accept or dnat to addr. */
static int build_dns_rule(struct egress_batch *b, const char *chain, uint8_t proto,
			  const struct policy_addr *resolver, bool redirect)
{
	uint16_t port = htons(53);
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_TABLE, chain);
	if (r < 0)
		return r;
	egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, NFPROTO_IPV4);
	egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, proto);
	dport(&c, NFT_REG_1);
	egress_expr_cmp(&c, NFT_CMP_EQ, &port, sizeof(port));
	daddr(&c, AF_INET, NFT_REG_1);
	egress_expr_cmp(&c, redirect ? NFT_CMP_NEQ : NFT_CMP_EQ, resolver->addr, 4);
	if (redirect)
		dnat_to(&c, resolver);
	else
		egress_expr_verdict(&c, NF_ACCEPT);
	return egress_rule_commit(b, &c);
}

/*
 * The task's DNS goes to the proxy's listeners on the task's own loopback (127.0.0.1:53,
 * sockets the supervisor made in this namespace): nat output, before the filter, which
 * accepts it as "oif lo". UDP/53 to any address goes there; TCP/53 to the resolver does.
 * The host end of the veth is never reached on port 53, so whatever listens on *:53 on the
 * host stays out of reach, also once the proxy is gone, and no port 53 is taken there.
 */
static const struct policy_addr dns_listener = { .family = AF_INET, .addr = { 127, 0, 0, 1 } };

static int build_dns_tcp_rule(struct egress_batch *b, const struct policy_addr *resolver)
{
	uint16_t port = htons(53);
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_TABLE, "dns");
	if (r < 0)
		return r;
	egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, NFPROTO_IPV4);
	egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, IPPROTO_TCP);
	dport(&c, NFT_REG_1);
	egress_expr_cmp(&c, NFT_CMP_EQ, &port, sizeof(port));
	daddr(&c, AF_INET, NFT_REG_1);
	egress_expr_cmp(&c, NFT_CMP_EQ, resolver->addr, 4);
	dnat_to(&c, &dns_listener);
	return egress_rule_commit(b, &c);
}

/*
 * Any other TCP to port 53 (the resolver's went to the proxy's loopback listener in the nat
 * chain) is logged and refused with a RST, so resolvers give up at once.
 */
static int build_tcp53_reject(struct egress_batch *b, uint16_t group)
{
	uint16_t port = htons(53);
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_TABLE, "output");
	if (r < 0)
		return r;
	egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, IPPROTO_TCP);
	dport(&c, NFT_REG_1);
	egress_expr_cmp(&c, NFT_CMP_EQ, &port, sizeof(port));
	egress_expr_counter(&c);
	egress_expr_log(&c, group, EGRESS_LOG_PREFIX_DEFAULT);
	reject_tcp_rst(&c);
	return egress_rule_commit(b, &c);
}

/*
 * A denied attempt is counted, logged and rejected at once, so the task fails fast
 * (ECONNREFUSED, EHOSTUNREACH) instead of waiting out its connect timeout: each deny is two
 * rules with the same match, "meta l4proto tcp ... reject with tcp reset" and then
 * "... reject with icmpx admin-prohibited" for everything else. Only the first rule of the
 * two that matches a packet logs it.
 */
static int deny_commit(struct egress_batch *b, struct egress_rule *c, uint16_t group,
		       const char *prefix, bool tcp)
{
	egress_expr_counter(c);
	egress_expr_log(c, group, prefix);
	egress_expr_reject(c, tcp);
	return egress_rule_commit(b, c);
}

/* Starts one of the two rules of a deny: the TCP one matches l4proto tcp first. */
static int deny_begin(struct egress_rule *c, bool tcp)
{
	int r;

	r = egress_rule_begin(c, EGRESS_TABLE, "output");
	if (r < 0)
		return r;
	if (tcp)
		egress_expr_meta_eq_u8(c, NFT_META_L4PROTO, IPPROTO_TCP);
	return 0;
}

/*
 * airlock's own address pools are the host (each slot's .1 and ::1) and the other tasks:
 * never a destination, whatever a cidr rule says. The task's DNS to its resolver went to
 * the proxy's listeners on lo in the nat chain, and is accepted before.
 */
static int build_pool_reject(struct egress_batch *b, const struct egress_config *cfg, int family,
			     uint16_t group)
{
	static const uint8_t pool_default[4] = { 10, 231, 0, 0 }; /* EGRESS_LINK_POOL_DEFAULT */
	bool v4 = family == AF_INET;
	bool have = v4 ? cfg->pool.family == AF_INET : cfg->pool6.family == AF_INET6;
	const uint8_t *addr = v4 ? (have ? cfg->pool.addr : pool_default)
				 : (have ? cfg->pool6.addr : pool6_default);
	uint8_t plen = v4 ? (have ? cfg->pool_prefixlen : 16)
			  : (have ? cfg->pool6_prefixlen : EGRESS_POOL6_DEFAULT_PREFIXLEN);
	int r;

	for (int tcp = 1; tcp >= 0; tcp--) {
		struct egress_rule c;

		r = deny_begin(&c, tcp);
		if (r < 0)
			return r;
		egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, nfproto_of(family));
		egress_expr_prefix_match_len(&c, v4 ? 16 : 24, addr, v4 ? 4 : 16, plen, NFT_CMP_EQ);
		r = deny_commit(b, &c, group, EGRESS_LOG_PREFIX_DENY_RANGE, tcp);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Neighbour discovery (solicitations and advertisements, ICMPv6 135 and 136) with the host
 * end of the veth: without it the task's IPv6 default route has no gateway. Only to
 * link-local multicast (ff02::/16) or inside airlock's own pool, which no packet leaves.
 */
static int build_ndisc_accept(struct egress_batch *b, const struct egress_config *cfg)
{
	static const uint8_t ff02[16] = { 0xff, 0x02 };
	bool have = cfg->pool6.family == AF_INET6;
	int r;

	for (uint8_t type = 135; type <= 136; type++) {
		for (int mcast = 1; mcast >= 0; mcast--) {
			struct egress_rule c;

			r = egress_rule_begin(&c, EGRESS_TABLE, "output");
			if (r < 0)
				return r;
			egress_expr_icmpv6_type_eq(&c, type);
			if (mcast)
				egress_expr_prefix_match_len(&c, 24, ff02, 16, 16, NFT_CMP_EQ);
			else
				egress_expr_prefix_match_len(
					&c, 24, have ? cfg->pool6.addr : pool6_default, 16,
					have ? cfg->pool6_prefixlen
					     : EGRESS_POOL6_DEFAULT_PREFIXLEN,
					NFT_CMP_EQ);
			egress_expr_verdict(&c, NF_ACCEPT);
			r = egress_rule_commit(b, &c);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The host's neighbour solicitations and advertisements reach the task (input chain). */
static int build_ndisc_input(struct egress_batch *b)
{
	int r;

	for (uint8_t type = 135; type <= 136; type++) {
		struct egress_rule c;

		r = egress_rule_begin(&c, EGRESS_TABLE, "input");
		if (r < 0)
			return r;
		egress_expr_icmpv6_type_eq(&c, type);
		egress_expr_verdict(&c, NF_ACCEPT);
		r = egress_rule_commit(b, &c);
		if (r < 0)
			return r;
	}
	return 0;
}

/* nfproto F [l4proto P] daddr [. dport] @set, then accept. */
static int build_set_accept(struct egress_batch *b, const struct egress_set_def *d)
{
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_TABLE, "output");
	if (r < 0)
		return r;
	egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, nfproto_of(d->family));
	if (d->proto)
		egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, d->proto);
	daddr(&c, d->family, NFT_REG32_00);
	if (d->kind == EGRESS_SET_ALLOW || d->kind == EGRESS_SET_DNS)
		dport(&c, d->family == AF_INET ? NFT_REG32_01 : NFT_REG32_04);
	lookup(&c, d);
	egress_expr_verdict(&c, NF_ACCEPT);
	return egress_rule_commit(b, &c);
}

/* nfproto F daddr @deny{4,6}: counted, logged, rejected (two rules, see deny_commit()). */
static int build_set_reject(struct egress_batch *b, const struct egress_set_def *d, uint16_t group)
{
	int r;

	for (int tcp = 1; tcp >= 0; tcp--) {
		struct egress_rule c;

		r = deny_begin(&c, tcp);
		if (r < 0)
			return r;
		egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, nfproto_of(d->family));
		daddr(&c, d->family, NFT_REG32_00);
		lookup(&c, d);
		r = deny_commit(b, &c, group, EGRESS_LOG_PREFIX_DENY_RANGE, tcp);
		if (r < 0)
			return r;
	}
	return 0;
}

static int build_set_rules(struct egress_batch *b, enum egress_set_kind kind, uint16_t group)
{
	const struct egress_set_def *defs;
	size_t n;
	int r;

	defs = egress_set_defs(&n);
	for (size_t i = 0; i < n; i++) {
		if (defs[i].kind != kind)
			continue;
		if (kind == EGRESS_SET_DENY)
			r = build_set_reject(b, &defs[i], group);
		else
			r = build_set_accept(b, &defs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int build_final_reject(struct egress_batch *b, uint16_t group)
{
	int r;

	for (int tcp = 1; tcp >= 0; tcp--) {
		struct egress_rule c;

		r = deny_begin(&c, tcp);
		if (r < 0)
			return r;
		r = deny_commit(b, &c, group, EGRESS_LOG_PREFIX_DEFAULT, tcp);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "exthdr <type> exists": the IPv6 packet carries an extension header of that type. */
static void exthdr_exists(struct egress_rule *c, uint8_t type)
{
	struct nftnl_expr *e = egress_expr_new(c, "exthdr");
	uint8_t present = 1;

	if (e) {
		nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, type);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, 0);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_FLAGS, NFT_EXTHDR_F_PRESENT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_DREG, NFT_REG_1);
	}
	egress_expr_add(c, e);
	egress_expr_cmp(c, NFT_CMP_EQ, &present, sizeof(present));
}

/*
 * An IPv6 routing header (a segment routing header: IPV6_RTHDR lets any program set one)
 * makes the destination the ruleset sees the first segment only: a node there that
 * processes it sends the packet on to the next segment, any address at all. No such packet
 * leaves the task: each is counted, logged and rejected, ahead of the accept of established
 * flows (the option can be set on a socket that is connected already).
 */
static int build_rthdr_reject(struct egress_batch *b, uint16_t group)
{
	int r;

	for (int tcp = 1; tcp >= 0; tcp--) {
		struct egress_rule c;

		r = deny_begin(&c, tcp);
		if (r < 0)
			return r;
		egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, NFPROTO_IPV6);
		exthdr_exists(&c, IPPROTO_ROUTING);
		r = deny_commit(b, &c, group, EGRESS_LOG_PREFIX_DEFAULT, tcp);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The kernel's own IPv6 multicast (MLD reports, neighbour solicitations on eth0) would
 * otherwise fill the record with "denied" noise: drop it silently. It reaches no one.
 */
static int build_v6_multicast_drop(struct egress_batch *b)
{
	uint8_t ff = 0xff;
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_TABLE, "output");
	if (r < 0)
		return r;
	egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, NFPROTO_IPV6);
	egress_expr_payload(&c, NFT_PAYLOAD_NETWORK_HEADER, 24, 1, NFT_REG_1);
	egress_expr_cmp(&c, NFT_CMP_EQ, &ff, sizeof(ff));
	egress_expr_verdict(&c, NF_DROP);
	return egress_rule_commit(b, &c);
}

static int build_output_rules(struct egress_batch *b, const struct egress_config *cfg)
{
	static const enum egress_set_kind order[] = { EGRESS_SET_ALLOW, EGRESS_SET_DENY,
						      EGRESS_SET_DNS, EGRESS_SET_DNS_ANY };
	uint16_t group = cfg->nflog_group ? cfg->nflog_group : EGRESS_NFLOG_GROUP;
	int r;

	r = build_rthdr_reject(b, group);
	if (r < 0)
		return r;
	r = build_base_rules(b, "output", NFT_META_OIF);
	if (r < 0)
		return r;
	/* Before anything accepts a new flow: DNS to the proxy counts too. */
	r = egress_build_flow_limit(b, EGRESS_TABLE, "output", &cfg->flows, group);
	if (r < 0)
		return r;
	/* DNS after the nat chain's DNAT to the proxy: the hook still says oif eth0. */
	r = build_dns_rule(b, "output", IPPROTO_UDP, &dns_listener, false);
	if (r < 0)
		return r;
	r = build_dns_rule(b, "output", IPPROTO_TCP, &dns_listener, false);
	if (r < 0)
		return r;
	r = build_tcp53_reject(b, group);
	if (r < 0)
		return r;
	r = build_ndisc_accept(b, cfg);
	if (r < 0)
		return r;
	r = build_pool_reject(b, cfg, AF_INET, group);
	if (r < 0)
		return r;
	r = build_pool_reject(b, cfg, AF_INET6, group);
	if (r < 0)
		return r;
	r = build_v6_multicast_drop(b);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(order); i++) {
		r = build_set_rules(b, order[i], group);
		if (r < 0)
			return r;
	}
	return build_final_reject(b, group);
}

int egress_build(const struct policy_network *net, const struct egress_config *cfg,
		 struct egress_batch **ret)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	int r;

	if (!net->enabled || cfg->resolver.family != AF_INET)
		return -EINVAL;
	b = egress_batch_new(cfg->seq);
	if (!b)
		return -ENOMEM;

	r = egress_build_table(b, EGRESS_TABLE);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_TABLE, "output", "filter", NF_INET_LOCAL_OUT, 0);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_TABLE, "input", "filter", NF_INET_LOCAL_IN, 0);
	if (r >= 0) /* no rule: the task namespace forwards nothing */
		r = egress_build_chain(b, EGRESS_TABLE, "forward", "filter", NF_INET_FORWARD, 0);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_TABLE, "dns", "nat", NF_INET_LOCAL_OUT, -100);
	if (r >= 0)
		r = egress_build_sets(b, net);
	if (r >= 0)
		r = build_output_rules(b, cfg);
	if (r >= 0)
		r = build_base_rules(b, "input", NFT_META_IIF);
	if (r >= 0)
		r = build_ndisc_input(b);
	if (r >= 0)
		r = build_dns_rule(b, "dns", IPPROTO_UDP, &dns_listener, true);
	if (r >= 0)
		r = build_dns_tcp_rule(b, &cfg->resolver);
	if (r >= 0)
		r = egress_batch_end(b);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}
