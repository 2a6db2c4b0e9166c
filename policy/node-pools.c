/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The node configuration's address pools as the other checks name them, and what a policy
 * (or the configuration itself) names inside them: the runs' veths take their addresses
 * from the pools, so no task or DNS proxy reaches an address there (docs/network.md,
 * "Host requirements"). No I/O, no logging.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "node-config.h"
#include "policy-internal.h"

#define POOL_WORDS "the runs' own addresses"

static const struct node_prefix *pool_of(const struct node_network *n, int family)
{
	return family == AF_INET ? &n->pool4 : &n->pool6;
}

static const char *pool_key(int family)
{
	return family == AF_INET ? "/network/pool" : "/network/pool6";
}

static void prefix_string(const struct policy_addr *a, unsigned prefixlen, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN];

	policy_addr_to_string(a, s, sizeof(s));
	snprintf(buf, size, "%s/%u", s, prefixlen);
}

/* The pool as messages name it: with the file that set it (or the default), or by key alone. */
static void pool_name(const struct node_network *n, int family, bool key_only, char *name,
		      size_t size)
{
	const struct node_prefix *p = pool_of(n, family);
	char a[INET6_ADDRSTRLEN + 4];

	prefix_string(&p->addr, p->prefixlen, a, sizeof(a));
	if (key_only)
		snprintf(name, size, "%s (%s)", a, pool_key(family));
	else
		snprintf(name, size, "%s (%s%s%s)", a, pool_key(family),
			 n->config_path ? " of " : ", the default; set in ",
			 n->config_path ?: NODE_CONFIG_PATH);
}

void node_network_pool(const struct node_network *n, int family, struct net_pool *ret, char *name,
		       size_t size)
{
	const struct node_prefix *p = pool_of(n, family);

	*ret = (struct net_pool){ .family = family, .prefixlen = p->prefixlen };
	memcpy(ret->addr, p->addr.addr, sizeof(ret->addr));
	pool_name(n, family, false, name, size);
}

enum node_pool_overlap node_network_pool_overlap(const struct node_network *n,
						 const struct policy_addr *addr, unsigned prefixlen)
{
	const struct node_prefix *p;

	if (addr->family != AF_INET && addr->family != AF_INET6)
		return NODE_POOL_APART;
	p = pool_of(n, addr->family);
	if (prefixlen >= p->prefixlen && net_same_prefix(addr->addr, p->addr.addr, p->prefixlen))
		return NODE_POOL_INSIDE;
	if (prefixlen < p->prefixlen && net_same_prefix(addr->addr, p->addr.addr, prefixlen))
		return NODE_POOL_HOLDS;
	return NODE_POOL_APART;
}

static void report_rule(const struct node_network *n, size_t i, const struct policy_egress_rule *r,
			enum node_pool_overlap o, node_pool_report_fn report, void *userdata)
{
	char line[NODE_POOL_LINE_MAX], name[NODE_POOL_NAME_MAX], cidr[INET6_ADDRSTRLEN + 4];
	struct net_pool pool;

	node_network_pool(n, r->cidr.family, &pool, name, sizeof(name));
	prefix_string(&r->cidr, r->prefixlen, cidr, sizeof(cidr));
	if (o == NODE_POOL_INSIDE)
		snprintf(line, sizeof(line),
			 "/network/egress/%zu: cidr %s lies in the address pool %s, " POOL_WORDS
			 ": no task can reach it; allow an address outside the pool, or choose "
			 "another pool",
			 i, cidr, name);
	else
		snprintf(line, sizeof(line),
			 "/network/egress/%zu: cidr %s holds the address pool %s, " POOL_WORDS
			 ": tasks reach the rest of the range, never the pool",
			 i, cidr, name);
	report(o == NODE_POOL_INSIDE, line, userdata);
}

int node_network_upstream_refusal(const struct node_network *n, const struct policy_addr *up,
				  bool key_only, char *buf, size_t size)
{
	char name[NODE_POOL_NAME_MAX], a[INET6_ADDRSTRLEN];

	if (node_network_pool_overlap(n, up, up->family == AF_INET ? 32 : 128) != NODE_POOL_INSIDE)
		return 0;
	pool_name(n, up->family, key_only, name, sizeof(name));
	policy_addr_to_string(up, a, sizeof(a));
	return snprintf(buf, size,
			"%s lies in the address pool %s, " POOL_WORDS ": the run's DNS proxy "
			"cannot reach it; name an upstream outside the pool, or choose another "
			"pool",
			a, name);
}

size_t node_network_check_policy(const struct node_network *n, const struct policy_network *pn,
				 node_pool_report_fn report, void *userdata)
{
	char line[NODE_POOL_LINE_MAX];
	size_t refusals = 0;

	for (size_t i = 0; i < pn->n_egress; i++) {
		const struct policy_egress_rule *r = &pn->egress[i];
		enum node_pool_overlap o;

		if (!r->is_cidr)
			continue;
		o = node_network_pool_overlap(n, &r->cidr, r->prefixlen);
		if (o != NODE_POOL_APART)
			report_rule(n, i, r, o, report, userdata);
		refusals += o == NODE_POOL_INSIDE;
	}
	for (size_t i = 0; i < pn->n_dns_upstream; i++) {
		int k = snprintf(line, sizeof(line), "/network/dns/upstream/%zu: ", i);

		if (node_network_upstream_refusal(n, &pn->dns_upstream[i], false, line + k,
						  sizeof(line) - (size_t)k) <= 0)
			continue;
		report(true, line, userdata);
		refusals++;
	}
	return refusals;
}

int node_network_resolver_refusal(const struct node_network *n, const uint8_t addr[4], char *buf,
				  size_t size)
{
	struct policy_addr up = { .family = AF_INET };
	char name[NODE_POOL_NAME_MAX], a[INET_ADDRSTRLEN];
	struct net_pool pool;

	memcpy(up.addr, addr, 4);
	if (node_network_pool_overlap(n, &up, 32) != NODE_POOL_INSIDE)
		return 0;
	node_network_pool(n, AF_INET, &pool, name, sizeof(name));
	policy_addr_to_string(&up, a, sizeof(a));
	return snprintf(
		buf, size,
		"/network/dns/upstream: no DNS upstream in the policy or the configuration, "
		"and the first IPv4 nameserver of /etc/resolv.conf, %s, lies in the address "
		"pool %s, " POOL_WORDS ": the run's DNS proxy cannot reach it; name an "
		"upstream outside the pool, or choose another pool",
		a, name);
}
