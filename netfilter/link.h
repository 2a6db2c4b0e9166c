/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The task's network: a new network namespace (owned by the supervisor's user namespace,
 * created before the task's own user namespace, so the task cannot change it), a veth
 * pair whose peer is created directly inside it, a /30 from an address pool, and a default
 * route through the host side. IPv6 gets no address and no route. Uses libnl-route-3.
 * Does not log.
 */

#include <stdint.h>

#include "policy.h"

#define EGRESS_LINK_POOL_DEFAULT "10.231.0.0/16"
#define EGRESS_LINK_TASK_IFNAME "eth0"

struct egress_link {
	int netns_fd;		/* the task's namespace */
	unsigned slot;		/* index of the /30 in the pool */
	int lock_fd;		/* flock on <dir>/slot-<n>.lock while the run lives */
	char lock_path[256];
	char host_ifname[16];	/* "al<slot>" */
	struct policy_addr host_addr;	/* .1 of the /30: gateway and DNS resolver */
	struct policy_addr task_addr;	/* .2 of the /30 */
};

/*
 * Parses "A.B.C.D/N" (N in 8..30) into addr/prefixlen. Returns 0 or -EINVAL.
 */
int egress_link_parse_pool(const char *s, struct policy_addr *ret_addr, uint8_t *ret_prefixlen);

/*
 * Creates the namespace and link: picks the first free /30 slot of pool/prefixlen (a slot
 * is taken while its lock file in dir is flocked; dir is created), creates veth
 * "al<slot>" with peer "eth0" inside the new namespace, addresses, links up and the
 * task's default route. On failure everything created is removed. *ret is owned by the
 * caller. Returns 0, -EADDRINUSE (pool exhausted) or another negative errno.
 */
int egress_link_new(const char *dir, const struct policy_addr *pool, uint8_t prefixlen,
		    struct egress_link **ret);

/* Deletes the veth (and with it the peer), closes the namespace, frees the slot. */
struct egress_link *egress_link_free(struct egress_link *l);
