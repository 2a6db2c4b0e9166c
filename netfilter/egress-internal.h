/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to netfilter/: the batch buffer and the set layout shared by the builders. */

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "egress.h"

struct nlmsghdr;
struct nftnl_expr;
struct nftnl_rule;

/* Room reserved for each message: libnftnl appends attributes without bounds checks. */
#define EGRESS_MSG_MAX (64 * 1024)

enum egress_set_kind {
	EGRESS_SET_ALLOW, /* addr . port intervals from cidr rules */
	EGRESS_SET_DNS, /* addr . port learned from DNS, with timeout */
	EGRESS_SET_DNS_ANY, /* addr learned from DNS for rules without ports, with timeout */
	EGRESS_SET_DENY, /* addr intervals denied by default */
};

struct egress_set_def {
	const char *name;
	uint32_t id; /* transaction-local id, for rules in the same batch */
	int family; /* AF_INET or AF_INET6 */
	uint8_t proto; /* IPPROTO_TCP, IPPROTO_UDP, or 0 (deny sets) */
	enum egress_set_kind kind;
};

/* The sets of the ruleset; *ret_n gets the count. */
const struct egress_set_def *egress_set_defs(size_t *ret_n);
/* The set of a kind, family and protocol, or NULL. */
const struct egress_set_def *egress_set_find(enum egress_set_kind kind, int family, uint8_t proto);

/* A new empty batch with its "begin" message; NULL on -ENOMEM. */
struct egress_batch *egress_batch_new(uint32_t seq);
/*
 * Starts a message with at least EGRESS_MSG_MAX bytes of room and NLM_F_ACK; the pointer is
 * valid until the next call. Returns NULL on -ENOMEM. Finish it with egress_batch_commit().
 */
struct nlmsghdr *egress_batch_msg(struct egress_batch *b, uint16_t type, uint16_t family,
				  uint16_t flags);
void egress_batch_commit(struct egress_batch *b, struct nlmsghdr *nlh);
/* Appends the "end" message. Returns 0 or -ENOMEM. */
int egress_batch_end(struct egress_batch *b);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct egress_batch *, egress_batch_free);

/* egress-sets.c: the set declarations and the elements of the allow and deny sets. */
int egress_build_sets(struct egress_batch *b, const struct policy_network *net);

/*
 * egress-build.c: rule building blocks, shared with host-nat.c. A rule under construction
 * keeps the first allocation failure in err; egress_rule_commit() reports it, appends the
 * rule to the batch (NFT_MSG_NEWRULE, append) and frees it.
 */
struct egress_rule {
	struct nftnl_rule *rule;
	int err;
};

int egress_rule_begin(struct egress_rule *c, const char *table, const char *chain);
int egress_rule_commit(struct egress_batch *b, struct egress_rule *c);
struct nftnl_expr *egress_expr_new(struct egress_rule *c, const char *name);
/* Gives e (NULL: allocation failed) to the rule. */
void egress_expr_add(struct egress_rule *c, struct nftnl_expr *e);
void egress_expr_meta_load(struct egress_rule *c, uint32_t key, uint32_t dreg);
/* Compares register 1 with data. */
void egress_expr_cmp(struct egress_rule *c, uint32_t op, const void *data, uint32_t len);
void egress_expr_meta_eq_u8(struct egress_rule *c, uint32_t key, uint8_t value);
/* The packet is ICMPv6 of the given type (nfproto ipv6, l4proto icmpv6, type). */
void egress_expr_icmpv6_type_eq(struct egress_rule *c, uint8_t type);
void egress_expr_payload(struct egress_rule *c, uint32_t base, uint32_t offset, uint32_t len,
			 uint32_t dreg);
void egress_expr_verdict(struct egress_rule *c, int v);
/* "ct state & mask != 0", mask of NF_CT_STATE_BIT()s. */
void egress_expr_ct_state(struct egress_rule *c, uint32_t mask);
/* "ct <key> & mask != 0": any of mask's bits in the 32-bit conntrack key (state, status). */
void egress_expr_ct_any(struct egress_rule *c, uint32_t key, uint32_t mask);
void egress_expr_ct_established(struct egress_rule *c);
void egress_expr_counter(struct egress_rule *c);
/* "log group <group> prefix <prefix>", copying the packet's first bytes (nflog). */
void egress_expr_log(struct egress_rule *c, uint16_t group, const char *prefix);
/* Register 1 = (IPv4 address at network header + offset) & mask(prefixlen), compared by op. */
void egress_expr_prefix_match(struct egress_rule *c, uint32_t offset, const uint8_t addr[4],
			      uint8_t prefixlen, uint32_t op);
/* The same for an address of len 4 or 16 bytes (IPv6: offset 8 source, 24 destination). */
void egress_expr_prefix_match_len(struct egress_rule *c, uint32_t offset, const uint8_t *addr,
				  uint32_t len, uint8_t prefixlen, uint32_t op);
/* "reject with tcp reset" (tcp) or "reject with icmpx admin-prohibited" (IPv4 and IPv6). */
void egress_expr_reject(struct egress_rule *c, bool tcp);
/* Appends "add table inet <name>" (exclusive). */
int egress_build_table(struct egress_batch *b, const char *name);
/*
 * egress-limits.c: appends the flow limits f (zero fields: the defaults) to table's chain:
 * "ct state new limit rate over <rate>/second burst <rate * EGRESS_FLOWS_BURST_S> packets",
 * then "ct state new ct count over <max>", each counted, logged to group with prefix
 * EGRESS_LOG_PREFIX_FLOWS (not logged when group < 0) and rejected with icmpx
 * admin-prohibited. 0 or -ENOMEM.
 */
int egress_build_flow_limit(struct egress_batch *b, const char *table, const char *chain,
			    const struct egress_flow_limit *f, int group);
/*
 * Appends a base chain (exclusive); filter chains of EGRESS_TABLE get policy drop, other
 * filter chains policy accept.
 */
int egress_build_chain(struct egress_batch *b, const char *table, const char *name,
		       const char *type, uint32_t hook, int32_t prio);
