/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Internal to netfilter/: the pure half of the host namespace's tables (host-nat.h). Builds
 * the host table, the forwarding guard and each slot's elements and chains into a batch;
 * host-nat.c sends them and keeps the reference count. Opens no socket; does not log.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct egress_batch;
struct egress_flow_limit;

#define EGRESS_HOST_IFNAME_LEN 16
/*
 * The host table's prerouting chain runs right after conntrack (-200), ahead of any NAT
 * chain's: the kernel refuses NAT chains at -200 or below, so no DNAT comes before it (one
 * at -199 too would be a tie; the forward chain still refuses what it rewrote).
 */
#define EGRESS_HOST_PREROUTING_PRIO (-199)

/* The pools a host table is built for, host bits zero. */
struct egress_host_pool {
	uint8_t addr[4];
	uint8_t prefixlen;
	uint8_t addr6[16]; /* the IPv6 pool (EGRESS_LINK_POOL6_DEFAULT unless the link says) */
	uint8_t prefixlen6;
};

/* The matches of egress_host_pool_rule(). */
enum {
	EGRESS_HOST_SRC_POOL = 1 << 0,
	EGRESS_HOST_DST_POOL = 1 << 1,
	EGRESS_HOST_DST_OTHER = 1 << 2,
	EGRESS_HOST_ESTABLISHED = 1 << 3,
	EGRESS_HOST_V6 = 1 << 4, /* the IPv6 pool, nfproto ipv6 */
};

/* The families the forwarding guard covers. */
enum { EGRESS_HOST_FWD_V4 = 1 << 0, EGRESS_HOST_FWD_V6 = 1 << 1 };

/*
 * Appends a rule to table's chain: nfproto ipv4 (or ipv6 with EGRESS_HOST_V6) and the
 * matches in flags, then masquerade (v < 0) or the verdict v. 0 or -ENOMEM.
 */
int egress_host_pool_rule(struct egress_batch *b, const char *table, const char *chain,
			  const struct egress_host_pool *p, unsigned flags, int v);

/* Appends the whole host table, EGRESS_HOST_TABLE, for the pools p. 0 or -ENOMEM. */
int egress_host_table_build(struct egress_batch *b, const struct egress_host_pool *p);

/*
 * Appends the forwarding guard, EGRESS_FORWARD_TABLE: forwarded packets of the families in
 * fams are dropped unless they come from p's pools or are replies to them. 0 or -ENOMEM.
 */
int egress_host_guard_build(struct egress_batch *b, const struct egress_host_pool *p,
			    unsigned fams);

/* Appends one slot's elements of links and resolvers: add, or delete when del. */
int egress_host_slot_elems(struct egress_batch *b, const char *ifname,
			   const struct policy_addr *host, bool del);

/*
 * Slot n's flow limits: chain "flows-<ifname>" (egress_build_flow_limit() with flows, NULL
 * or zero fields: the defaults, logged to egress_host_nflog_group(n) when there is one),
 * reached through its element of flows, which every new flow from the veth goes through.
 * Added (emptied first) or deleted, element first. 0 or -ENOMEM.
 */
int egress_host_slot_flows(struct egress_batch *b, const char *ifname, unsigned slot,
			   const struct egress_flow_limit *flows, bool del);

/*
 * Slot n's log chain "log-<ifname>": one rule, "log group <egress_host_nflog_group(n)>
 * prefix EGRESS_LOG_PREFIX_HOST", reached through its element of logs. Added (emptied
 * first, in case a dead run's is still there) or deleted, element first. A slot without a
 * group has neither. 0 or -ENOMEM.
 */
int egress_host_slot_log(struct egress_batch *b, const char *ifname, unsigned slot, bool del);
