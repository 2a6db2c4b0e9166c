/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Egress filtering of one task: the nftables ruleset that lives in the task's network
 * namespace. egress-build.c and egress-match.c are pure (they turn a policy into a batch
 * buffer and answer matching questions; no socket, no root); egress-apply.c sends batches.
 *
 * The ruleset, table "airlock" of family inet:
 *   chain output (filter, hook output, policy drop):
 *     oif lo accept; ct state established,related accept;
 *     ct state new limit rate over R/second burst B counter log group G reject   (flow limits,
 *     ct state new ct count over N counter log group G reject     egress_build_flow_limit())
 *     ip daddr <resolver> udp dport 53 accept;
 *     ip daddr 127.0.0.1 tcp dport 53 accept            (the resolver's, DNATed to the proxy)
 *     tcp dport 53 counter log group G reject with tcp reset      (the resolver's went to lo)
 *     icmpv6 type nd-neighbor-{solicit,advert} ip6 daddr ff02::/16 or <pool6> accept
 *     ip daddr <pool>, ip6 daddr <pool6> counter log group G REJECT (the host, other tasks)
 *     ip6 daddr ff00::/8 drop                            (the kernel's own MLD, unlogged)
 *     ip[6] daddr . tcp/udp dport @allow{4,6}_{tcp,udp} accept      (cidr rules)
 *     ip[6] daddr @deny{4,6} counter log group G REJECT              (private, metadata...)
 *     ip[6] daddr . tcp/udp dport @dns{4,6}_{tcp,udp} accept          (DNS-learned, timeout)
 *     counter log group G REJECT
 *   REJECT is two rules: "meta l4proto tcp ... reject with tcp reset", then "... reject with
 *   icmpx admin-prohibited": a denied connection fails at once instead of timing out.
 *   chain input (filter, hook input, policy drop): iif lo accept; established accept;
 *     icmpv6 type nd-neighbor-{solicit,advert} accept
 *   chain forward (filter, hook forward, policy drop): empty, the task namespace forwards
 *     nothing (its forwarding sysctls are off too, link.c)
 *   chain dns (nat, hook output): udp dport 53 ip daddr != <resolver> dnat to <resolver>;
 *     tcp dport 53 ip daddr <resolver> dnat to 127.0.0.1         (the proxy's TCP listener)
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define EGRESS_TABLE "airlock"
#define EGRESS_NFLOG_GROUP 7
#define EGRESS_LOG_PREFIX_DENY_RANGE "airlock-deny-range"
#define EGRESS_LOG_PREFIX_DEFAULT "airlock-deny"
/* The host table's input chain (host-nat.h), in the host namespace. */
#define EGRESS_LOG_PREFIX_HOST "airlock-deny-host"
/* The per-run flow limits, in the task's ruleset and the host table alike. */
#define EGRESS_LOG_PREFIX_FLOWS "airlock-deny-flows"
/* At most this many elements per set-element message. */
#define EGRESS_ELEMS_PER_MSG 64

/* A netlink batch ready to send: begin, messages, end. Plain bytes; owned by the caller. */
struct egress_batch {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint32_t seq_first; /* sequence number of the first message after "begin" */
	uint32_t n_msgs; /* messages between begin and end, each asking for an ACK */
	bool ended;
};

/* The prefix length of EGRESS_LINK_POOL6_DEFAULT (link.h). */
#define EGRESS_POOL6_DEFAULT_PREFIXLEN 48

/*
 * Bounds on one run's flows, that is on its conntrack entries (docs/network.md, "Flow
 * limits"): at most max open at once ("ct count over max"), and new ones at most rate a
 * second, in bursts of EGRESS_FLOWS_BURST_S seconds' worth ("limit rate over"). A new flow
 * past either is logged and rejected. Zero: the default.
 */
struct egress_flow_limit {
	uint32_t max;
	uint32_t rate;
};
#define EGRESS_FLOWS_MAX_DEFAULT 4096
#define EGRESS_FLOWS_RATE_DEFAULT 100
#define EGRESS_FLOWS_BURST_S 10

struct egress_config {
	struct policy_addr resolver; /* AF_INET: where the task's DNS goes */
	struct policy_addr pool; /* AF_INET: airlock's address pool, never a destination; */
	uint8_t pool_prefixlen; /*   unset (AF_UNSPEC): EGRESS_LINK_POOL_DEFAULT */
	struct policy_addr pool6; /* AF_INET6: the IPv6 pool, never a destination either; */
	uint8_t pool6_prefixlen; /*   unset: EGRESS_LINK_POOL6_DEFAULT */
	uint16_t nflog_group; /* 0: EGRESS_NFLOG_GROUP */
	struct egress_flow_limit flows;
	uint32_t seq; /* first sequence number to use */
};

/*
 * Builds the whole ruleset of a task as one batch. net must be enabled. Returns 0 and
 * *ret (owned by the caller), -EINVAL for a rule the ruleset cannot express, or -ENOMEM.
 * Pure: opens no socket. Does not log.
 */
int egress_build(const struct policy_network *net, const struct egress_config *cfg,
		 struct egress_batch **ret);

/*
 * Builds a batch adding (or refreshing) DNS-learned elements: for every host rule that
 * matches name, each address of addrs with each of the rule's ports and protocols goes
 * into the dns{4,6}_{tcp,udp} sets with the given timeout. Returns 0 and *ret, -ENOENT
 * when no rule matches name, -EINVAL for a bad address, or -ENOMEM. Pure; does not log.
 */
int egress_build_learned(const struct policy_network *net, const char *name,
			 const struct policy_addr *addrs, size_t n_addrs, uint32_t timeout_ms,
			 uint32_t seq, struct egress_batch **ret);

/* The DNS sets hold at most this many elements each (the set's size). */
#define EGRESS_DNS_SET_SIZE 8192

/* One DNS-learned set element: which set, and its key (address [. port]). */
struct egress_elem {
	uint8_t set; /* index into the ruleset's set table */
	uint8_t key_len;
	uint8_t key[20];
};

/* One element to (re)write with its own timeout; replace: delete it first, same batch. */
struct egress_elem_update {
	struct egress_elem elem;
	uint64_t timeout_ms;
	bool replace;
};

/* A destination port a DNS answer opens: IPPROTO_TCP or IPPROTO_UDP, port 0 for every port. */
struct egress_port {
	uint8_t proto;
	uint16_t port;
};

/*
 * The learned elements of address a for ports (egress_names_ports()): one per port and
 * protocol, in the dns{4,6}_* sets, or the dnsany{4,6}_* ones for port 0. Writes at most
 * max to ret and returns the count, -ENOSPC when max is too small, or -EINVAL for a bad
 * address or protocol. Pure; does not log.
 */
int egress_port_elems(const struct policy_addr *a, const struct egress_port *ports, size_t n,
		      struct egress_elem *ret, size_t max);

/*
 * Builds a batch writing the elements: for each, a delete when replace is set, then an add
 * with its timeout. Deleting and re-adding in one transaction sets a new lifetime on every
 * kernel (a plain re-add keeps the old one before Linux 6.10 and overwrites it after).
 * Returns 0 and *ret, -EINVAL or -ENOMEM. Pure; does not log.
 */
int egress_build_elem_updates(const struct egress_elem_update *u, size_t n, uint32_t seq,
			      struct egress_batch **ret);

/* Frees a batch; accepts and returns NULL. */
struct egress_batch *egress_batch_free(struct egress_batch *b);

/* egress-match.c (pure) */

/* Whether name (lower-case, no trailing dot) matches pattern ("host" or "*.suffix"). */
bool egress_name_matches(const char *pattern, const char *name);
/* Whether some host rule of net allows name. */
bool egress_name_allowed(const struct policy_network *net, const char *name);
/*
 * Whether a is in a range denied by default: this-network, private (RFC 1918), CGNAT,
 * loopback, link-local (incl. cloud metadata 169.254.169.254), documentation, multicast,
 * reserved; for IPv6 also ULA (fc00::/7, incl. fd00:ec2::254), link-local, v4-mapped,
 * NAT64 and 6to4 prefixes.
 */
bool egress_addr_is_denied(const struct policy_addr *a);
/* Whether some cidr rule of net contains a. */
bool egress_addr_cidr_allowed(const struct policy_network *net, const struct policy_addr *a);
/*
 * Whether a DNS answer address may be learned at all: not denied, or inside a cidr rule
 * (on any port: the guard also needs the rule to accept it on the answer's ports, see
 * egress_cidr_opens()).
 */
bool egress_addr_learnable(const struct policy_network *net, const struct policy_addr *a);
/*
 * The ports and protocols every one of names (lower-case, no trailing dot) allows: for each
 * name the union of its host rules' ports, intersected over the names (a CNAME chain: the
 * queried name, then each target). Port 0 stands for every port of a protocol. Writes at
 * most max to ret, TCP before UDP, ports ascending, and returns the count (0: the names
 * have none in common), -ENOENT when a name matches no host rule, or -ENOSPC when max is
 * too small. Pure; does not log.
 */
int egress_names_ports(const struct policy_network *net, const char *const *names, size_t n,
		       struct egress_port *ret, size_t max);
/*
 * Whether a cidr rule of net accepts a on port p (port 0: on every port) before the deny
 * ranges: what the kernel does with an address of a denied range (egress_addr_is_denied()),
 * whose learned elements it never reaches.
 */
bool egress_cidr_opens(const struct policy_network *net, const struct policy_addr *a,
		       const struct egress_port *p);
/* Whether a lies in cidr/prefixlen (same family). */
bool egress_addr_in_prefix(const struct policy_addr *a, const struct policy_addr *cidr,
			   uint8_t prefixlen);

/* One denied range, as a prefix. */
struct egress_range {
	int family;
	uint8_t addr[16];
	uint8_t prefixlen;
};
/* The default-denied ranges (sorted, non-overlapping per family); *ret_n gets the count. */
const struct egress_range *egress_denied_ranges(size_t *ret_n);
