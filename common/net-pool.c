/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "macro.h"
#include "net-pool.h"
#include "net-sysctl.h"

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool net_same_prefix(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	return !bits || ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - bits))) == 0;
}

/*
 * Slot n's network (its /30, or its /64) in the pool, as the network module numbers slots
 * (egress_slot_addrs(), egress_slot_addrs6()); false when the pool has no slot n.
 */
static bool slot_net(const struct net_pool *pool, unsigned long n, uint8_t *ret, unsigned *ret_plen)
{
	if (pool->family == AF_INET) {
		uint32_t base;

		if (pool->prefixlen > 30 || n >= 1ul << (30 - pool->prefixlen))
			return false;
		memcpy(&base, pool->addr, 4);
		base = htonl((ntohl(base) & ~((1u << (32 - pool->prefixlen)) - 1)) +
			     4 * (uint32_t)n);
		memcpy(ret, &base, 4);
		*ret_plen = 30;
		return true;
	}
	uint64_t net = 0;

	if (pool->prefixlen > 64 || (64 - pool->prefixlen < 32 && n >> (64 - pool->prefixlen)))
		return false;
	for (unsigned i = 0; i < 8; i++)
		net = net << 8 | pool->addr[i];
	if (pool->prefixlen < 64)
		net = (net & ~((UINT64_C(1) << (64 - pool->prefixlen)) - 1)) | n;
	memset(ret, 0, 16);
	for (unsigned i = 0; i < 8; i++)
		ret[i] = (uint8_t)(net >> (56 - 8 * i));
	*ret_plen = 64;
	return true;
}

/* Whether addr on ifname is airlock's own: ifname is al<n>, addr inside slot n's network. */
static bool own(const struct net_pool *pool, const char *ifname, const uint8_t *addr)
{
	uint8_t net[16];
	unsigned long n;
	unsigned plen;
	char *end;

	if (strncmp(ifname, "al", 2) != 0 || ifname[2] < '0' || ifname[2] > '9' ||
	    (ifname[2] == '0' && ifname[3]))
		return false;
	errno = 0;
	n = strtoul(ifname + 2, &end, 10);
	if (errno || *end || !slot_net(pool, n, net, &plen))
		return false;
	return net_same_prefix(net, addr, plen);
}

static void describe(const struct net_pool *pool, const uint8_t *addr, unsigned plen,
		     const char *ifname, const char *kind, char *what, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(pool->family, addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(what, size, "%s/%u on %s, %s of this host", a, plen, ifname, kind);
}

int net_pool_conflict_addr(const struct net_pool *pool, const char *ifname, const uint8_t *addr,
			   unsigned prefixlen, char *what, size_t size)
{
	if (!net_same_prefix(pool->addr, addr, pool->prefixlen) || own(pool, ifname, addr))
		return 0;
	describe(pool, addr, prefixlen, ifname, "an address", what, size);
	return 1;
}

/* A route dst/plen on ifname: a collision when it lies inside the pool and is not ours. */
static int route_conflict(const struct net_pool *pool, const uint8_t *dst, unsigned plen,
			  const char *ifname, char *what, size_t size)
{
	if (plen < pool->prefixlen || !net_same_prefix(pool->addr, dst, pool->prefixlen) ||
	    own(pool, ifname, dst))
		return 0;
	describe(pool, dst, plen, ifname, "a route", what, size);
	return 1;
}

/* A line of /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ... */
static int route4_line(const struct net_pool *pool, const char *line, char *what, size_t size)
{
	char ifname[32];
	unsigned dst, mask;
	uint32_t d;

	if (sscanf(line, "%31s %x %*x %*x %*d %*d %*d %x", ifname, &dst, &mask) != 3)
		return 0; /* the header */
	d = dst; /* the kernel prints the __be32 as it lies in memory */
	return route_conflict(pool, (const uint8_t *)&d, (unsigned)__builtin_popcount(mask), ifname,
			      what, size);
}

/* A line of /proc/net/ipv6_route: dst plen src srcplen nexthop metric refcnt use flags ifname */
static int route6_line(const struct net_pool *pool, const char *line, char *what, size_t size)
{
	char dst[33], ifname[32];
	uint8_t d[16];
	unsigned plen;

	if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %31s", dst, &plen, ifname) != 3 ||
	    strlen(dst) != 32 || plen > 128)
		return 0;
	for (unsigned i = 0; i < 16; i++) {
		unsigned byte;

		if (sscanf(dst + 2 * i, "%2x", &byte) != 1)
			return 0;
		d[i] = (uint8_t)byte;
	}
	return route_conflict(pool, d, plen, ifname, what, size);
}

int net_pool_conflict_routes(const struct net_pool *pool, const char *table, char *what,
			     size_t size)
{
	for (const char *line = table; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		int r = pool->family == AF_INET ? route4_line(pool, line, what, size)
						: route6_line(pool, line, what, size);
		if (r)
			return r;
	}
	return 0;
}

static unsigned mask_len(const struct sockaddr *mask, int family)
{
	const uint8_t *m;
	unsigned n = 0;

	if (!mask)
		return family == AF_INET ? 32 : 128;
	m = family == AF_INET ? (const uint8_t *)&((const struct sockaddr_in *)mask)->sin_addr
			      : (const uint8_t *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
	for (size_t i = 0; i < addr_len(family); i++)
		n += (unsigned)__builtin_popcount(m[i]);
	return n;
}

static int addrs_conflict(const struct net_pool *pool, char *what, size_t size)
{
	struct ifaddrs *list, *i;
	int r = 0;

	if (getifaddrs(&list) < 0)
		return -errno;
	for (i = list; i && !r; i = i->ifa_next) {
		const uint8_t *a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != pool->family)
			continue;
		a = pool->family == AF_INET
			    ? (const uint8_t *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
			    : (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		r = net_pool_conflict_addr(pool, i->ifa_name, a,
					   mask_len(i->ifa_netmask, pool->family), what, size);
	}
	freeifaddrs(list);
	return r;
}

/*
 * The routes, a line at a time (a router's table can be large): the first collision into
 * what (NULL: not looked for), and for IPv6 whether there is a default route (ret_default,
 * NULL: not looked for). 1 for a collision, 0, or -errno.
 */
static int routes_scan(const struct net_pool *pool, const char *path, char *what, size_t size,
		       bool *ret_default)
{
	_cleanup_free_ char *line = NULL;
	bool found = false;
	size_t cap = 0;
	FILE *f;
	int r = 0;

	if (ret_default)
		*ret_default = false;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno; /* no IPv6 in this kernel: no IPv6 route */
	while (((what && !r) || (ret_default && !found)) && getline(&line, &cap, f) >= 0) {
		if (ret_default && !found)
			found = net_ip6_default_route_parse(line) > 0;
		if (what && !r)
			r = net_pool_conflict_routes(pool, line, what, size);
	}
	if (ferror(f))
		r = -EIO;
	fclose(f);
	if (ret_default && r >= 0)
		*ret_default = found;
	return r;
}

int net_pool_conflict(const struct net_pool *pool, const char *routes, bool *ret_ip6_default_route,
		      char *what, size_t size)
{
	int r, k;

	if (ret_ip6_default_route)
		*ret_ip6_default_route = false;
	if (pool->family != AF_INET && pool->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (pool->family != AF_INET6)
		ret_ip6_default_route = NULL;
	if (!routes)
		routes = pool->family == AF_INET ? "/proc/net/route" : "/proc/net/ipv6_route";
	r = addrs_conflict(pool, what, size);
	if (r < 0 || (r > 0 && !ret_ip6_default_route))
		return r;
	/* The default route too, in the same read; the collision found first is named. */
	k = routes_scan(pool, routes, r == 0 ? what : NULL, size, ret_ip6_default_route);
	return k < 0 ? k : r > 0 ? r : k;
}

int net_pool_refusal(const struct net_pool *pool, const char *name, const char *routes,
		     bool *ret_ip6_default_route, char *buf, size_t size)
{
	char what[256];
	int r;

	r = net_pool_conflict(pool, routes, ret_ip6_default_route, what, sizeof(what));
	if (r <= 0)
		return r;
	snprintf(buf, size, "the address pool %s overlaps %s; choose a pool this host does not use",
		 name, what);
	return 1;
}
