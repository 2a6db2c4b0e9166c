/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The kernel half of egress filtering: a netlink socket to nf_tables in the task's network
 * namespace, batches sent with every message's ACK read back. Needs CAP_NET_ADMIN over
 * the namespace. Does not log.
 */

#include <stddef.h>
#include <stdint.h>

#include "egress.h"

struct egress_socket;

/*
 * Opens a NETLINK_NETFILTER socket inside netns_fd (or in the caller's namespace when
 * netns_fd < 0). *ret is owned by the caller. Returns 0 or -errno.
 */
int egress_socket_open(int netns_fd, struct egress_socket **ret);
/* Closes the socket; accepts and returns NULL. */
struct egress_socket *egress_socket_free(struct egress_socket *s);
/* Reserves n sequence numbers and returns the first. */
uint32_t egress_socket_seq(struct egress_socket *s, uint32_t n);

/*
 * Sends an ended batch and waits (at most 5 s per read) until every message is ACKed.
 * The kernel applies a batch all or nothing. Returns 0, the first error the kernel
 * reported (e.g. -EEXIST, -ENOENT, -EOPNOTSUPP), -ETIMEDOUT or -errno.
 */
int egress_send(struct egress_socket *s, const struct egress_batch *b);

/*
 * Whether table name of family exists in the socket's namespace: 1, 0, or -errno. A plain
 * read: unlike a DELTABLE that fails with ENOENT (an aborted transaction waits for an RCU
 * grace period, 8-20 ms), it takes no transaction.
 */
int egress_table_exists(struct egress_socket *s, uint8_t family, const char *name);

/* Builds (egress_build()) and sends the task ruleset. Returns 0 or a negative errno. */
int egress_apply(struct egress_socket *s, const struct policy_network *net,
		 const struct egress_config *cfg);

/*
 * Adds or refreshes DNS-learned elements (egress_build_learned()) and returns only after
 * the kernel ACKed them, so the caller may release the DNS answer. Returns 0, -ENOENT (no
 * rule matches name) or another negative errno.
 */
int egress_learn(struct egress_socket *s, const struct policy_network *net, const char *name,
		 const struct policy_addr *addrs, size_t n_addrs, uint32_t timeout_ms);

/*
 * Writes learned elements with their own timeouts (egress_build_elem_updates()) and returns
 * after the kernel's ACK. Returns 0, -ENOENT (an element to replace is gone) or -errno.
 */
int egress_update_elems(struct egress_socket *s, const struct egress_elem_update *u, size_t n);
