/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Whether a run's address pool collides with the caller's network namespace: an address of
 * the host, or a route of the host as specific as the pool or more, inside it. A slot's /30
 * (/64) on such a host would shadow that address or route for the host itself while the run
 * lives, and the task would be cut off from it. What airlock itself puts there is not a
 * collision: on link al<n>, addresses and routes inside slot n's /30 (IPv4) or /64 (IPv6).
 * A route that contains the whole pool (a default route, a 10.0.0.0/8 of the LAN) is less
 * specific than every slot's and is not one either.
 *
 * Shared by the network module (which refuses the run) and `policy check --host` (which
 * reports it), so both ask the same question. libc only; does not log.
 */

struct net_pool {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order */
	unsigned prefixlen;
};

/* Whether the first plen bits of a and b (network byte order) are equal. */
bool net_same_prefix(const uint8_t *a, const uint8_t *b, unsigned plen);

/*
 * 1 and a description of the first collision in what ("11.0.0.1/30 on uplink, an address
 * of this host"), 0 when there is none, or -errno when the host's addresses or routes
 * cannot be read. The routes come from the file routes, NULL for the kernel's
 * (/proc/net/route or /proc/net/ipv6_route); a table that does not exist (a kernel booted
 * with ipv6.disable=1) holds no route. For an IPv6 pool, ret_ip6_default_route (NULL: not
 * asked) also says whether the host has an IPv6 default route
 * (net_ip6_default_route_parse()), from the same read: a run needs both answers, and the
 * table can be large. It is false whenever the answer is not 0 or 1.
 */
int net_pool_conflict(const struct net_pool *pool, const char *routes, bool *ret_ip6_default_route,
		      char *what, size_t size);

/*
 * The refusal of a pool net_pool_conflict() finds colliding, in the words both a run and
 * `policy check --host` use: "the address pool NAME overlaps WHAT; choose a pool this host
 * does not use", where name is the pool as the configuration gives it ("10.231.0.0/16
 * (/network/pool of FILE)": node_network_pool()). 1 with buf filled, 0 when there is no
 * collision, or -errno when the host's addresses or routes cannot be read; routes and
 * ret_ip6_default_route as for net_pool_conflict().
 */
int net_pool_refusal(const struct net_pool *pool, const char *name, const char *routes,
		     bool *ret_ip6_default_route, char *buf, size_t size);

/*
 * The pure halves, over the text of /proc/net/route (IPv4 pools) and /proc/net/ipv6_route
 * (IPv6 pools) and over one address: 1 with what filled, or 0.
 */
int net_pool_conflict_routes(const struct net_pool *pool, const char *table, char *what,
			     size_t size);
int net_pool_conflict_addr(const struct net_pool *pool, const char *ifname, const uint8_t *addr,
			   unsigned prefixlen, char *what, size_t size);
