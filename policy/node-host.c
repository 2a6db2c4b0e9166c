/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The node configuration's address pools against this host: its addresses and routes, read
 * from the kernel. Asked the same way by a run (supervisor/run-net.c), which refuses it,
 * and by `policy check --host` (supervisor/preflight.c), which reports it. Does not log.
 */
#include <errno.h>
#include <sys/socket.h>

#include "net-sysctl.h"
#include "node-config.h"

int node_network_pool_refusal(const struct node_network *n, int family, const char *routes,
			      bool *ret_ip6_route, char *why, size_t size)
{
	char name[NODE_POOL_NAME_MAX];
	struct net_pool pool;

	node_network_pool(n, family, &pool, name, sizeof(name));
	return net_pool_refusal(&pool, name, routes, ret_ip6_route, why, size);
}

const char *node_network_v6_off(const struct node_network *n, const char *routes,
				int *ret_collision, char *why, size_t size)
{
	bool route = false;

	*ret_collision = node_network_pool_refusal(n, AF_INET6, routes, &route, why, size);
	if (*ret_collision < 0)
		return "this host's IPv6 addresses and routes cannot be read";
	if (!route)
		return "this host has no IPv6 default route";
	if (n->forwarding != NODE_FORWARDING_MANAGE && net_ip6_forward_enabled() <= 0)
		return "net.ipv6.conf.all.forwarding is off on this host (enable it for IPv6 "
		       "egress)";
	return NULL;
}
