/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to netfilter/: the batch buffer and the set layout shared by the builders. */

#include <stdint.h>

#include "egress.h"

struct nlmsghdr;

/* Room reserved for each message: libnftnl appends attributes without bounds checks. */
#define EGRESS_MSG_MAX (64 * 1024)

enum egress_set_kind {
	EGRESS_SET_ALLOW,	/* addr . port intervals from cidr rules */
	EGRESS_SET_DNS,		/* addr . port learned from DNS, with timeout */
	EGRESS_SET_DNS_ANY,	/* addr learned from DNS for rules without ports, with timeout */
	EGRESS_SET_DENY,	/* addr intervals denied by default */
};

struct egress_set_def {
	const char *name;
	uint32_t id;		/* transaction-local id, for rules in the same batch */
	int family;		/* AF_INET or AF_INET6 */
	uint8_t proto;		/* IPPROTO_TCP, IPPROTO_UDP, or 0 (deny sets) */
	enum egress_set_kind kind;
};

/* The sets of the ruleset; *ret_n gets the count. */
const struct egress_set_def *egress_set_defs(size_t *ret_n);
/* The set of a kind, family and protocol, or NULL. */
const struct egress_set_def *egress_set_find(enum egress_set_kind kind, int family,
					     uint8_t proto);

/* A new empty batch with its "begin" message; NULL on -ENOMEM. */
struct egress_batch *egress_batch_new(uint32_t seq);
/*
 * Starts a message with at least EGRESS_MSG_MAX bytes of room and NLM_F_ACK; the pointer is
 * valid until the next call. Returns NULL on -ENOMEM. Finish it with egress_batch_commit().
 */
struct nlmsghdr *egress_batch_msg(struct egress_batch *b, uint16_t type, uint16_t family,
				  uint16_t flags);
void egress_batch_commit(struct egress_batch *b, struct nlmsghdr *nlh);
/* Appends the "end" message. Returns 0 or -ENOMEM. */
int egress_batch_end(struct egress_batch *b);

/* egress-sets.c: the set declarations and the elements of the allow and deny sets. */
int egress_build_sets(struct egress_batch *b, const struct policy_network *net);
