/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The growable netlink batch buffer used by the builders (pure). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>

#include "egress-internal.h"

static int batch_reserve(struct egress_batch *b, size_t room)
{
	size_t need, cap;
	uint8_t *p;

	if (__builtin_add_overflow(b->len, room, &need))
		return -ENOMEM;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4 * EGRESS_MSG_MAX;
	while (cap < need)
		if (__builtin_mul_overflow(cap, 2, &cap))
			return -ENOMEM;
	/* Not zeroed: libmnl writes every byte of a message, its padding included. */
	p = realloc(b->buf, cap);
	if (!p)
		return -ENOMEM;
	b->buf = p;
	b->cap = cap;
	return 0;
}

struct egress_batch *egress_batch_new(uint32_t seq)
{
	struct egress_batch *b;
	struct nlmsghdr *nlh;

	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	if (batch_reserve(b, EGRESS_MSG_MAX) < 0)
		return egress_batch_free(b);
	nlh = nftnl_batch_begin((char *)b->buf, seq);
	b->len = nlh->nlmsg_len;
	b->seq_first = seq + 1;
	return b;
}

struct nlmsghdr *egress_batch_msg(struct egress_batch *b, uint16_t type, uint16_t family,
				  uint16_t flags)
{
	if (batch_reserve(b, EGRESS_MSG_MAX) < 0)
		return NULL;
	return nftnl_nlmsg_build_hdr((char *)b->buf + b->len, type, family, flags | NLM_F_ACK,
				     b->seq_first + b->n_msgs);
}

void egress_batch_commit(struct egress_batch *b, struct nlmsghdr *nlh)
{
	/* The room is not zeroed (a DNS answer's batch would clear 64 KiB per element): clear
	 * the alignment tail, the only bytes a builder may have left unwritten. */
	memset((uint8_t *)nlh + nlh->nlmsg_len, 0, NLMSG_ALIGN(nlh->nlmsg_len) - nlh->nlmsg_len);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->n_msgs++;
}

int egress_batch_end(struct egress_batch *b)
{
	struct nlmsghdr *nlh;

	if (batch_reserve(b, EGRESS_MSG_MAX) < 0)
		return -ENOMEM;
	nlh = nftnl_batch_end((char *)b->buf + b->len, b->seq_first + b->n_msgs);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->ended = true;
	return 0;
}

struct egress_batch *egress_batch_free(struct egress_batch *b)
{
	if (!b)
		return NULL;
	free(b->buf);
	free(b);
	return NULL;
}
