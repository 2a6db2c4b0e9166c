/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The node configuration's address pools as the other checks name them. No I/O, no
 * logging.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "node-config.h"
#include "policy-internal.h"

void node_network_pool(const struct node_network *n, int family, struct net_pool *ret, char *name,
		       size_t size)
{
	const struct node_prefix *p = family == AF_INET ? &n->pool4 : &n->pool6;
	char a[INET6_ADDRSTRLEN];

	*ret = (struct net_pool){ .family = family, .prefixlen = p->prefixlen };
	memcpy(ret->addr, p->addr.addr, sizeof(ret->addr));
	policy_addr_to_string(&p->addr, a, sizeof(a));
	snprintf(name, size, "%s/%u (%s%s%s)", a, p->prefixlen,
		 family == AF_INET ? "/network/pool" : "/network/pool6",
		 n->config_path ? " of " : ", the default; set in ",
		 n->config_path ?: NODE_CONFIG_PATH);
}
