/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The node configuration's address pools against this host: its addresses and routes, read
 * from the kernel. Asked the same way by a run (supervisor/run-net.c), which refuses it,
 * and by `policy check --host` (supervisor/preflight.c), which reports it. Does not log.
 */
#include "node-config.h"

int node_network_pool_refusal(const struct node_network *n, int family, bool *ret_ip6_route,
			      char *why, size_t size)
{
	char name[NODE_POOL_NAME_MAX];
	struct net_pool pool;

	node_network_pool(n, family, &pool, name, sizeof(name));
	return net_pool_refusal(&pool, name, ret_ip6_route, why, size);
}
