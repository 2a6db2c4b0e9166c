/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sends egress batches to nf_tables over netlink and reads every ACK (kernel side). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "cleanup.h"
#include "egress-apply.h"
#include "egress-internal.h"
#include "netns-util.h"

#define ACK_TIMEOUT_MS 5000

struct egress_socket {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	int sndbuf, rcvbuf; /* the buffer sizes last forced; 0: none yet */
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct egress_socket *, egress_socket_free);

int egress_socket_open(int netns_fd, struct egress_socket **ret)
{
	_cleanup_(egress_socket_freep) struct egress_socket *s = NULL;
	_cleanup_close_ int fd = -EBADF;

	fd = netns_socket(netns_fd, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	if (fd < 0)
		return fd;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->nl = mnl_socket_fdopen(fd);
	if (!s->nl)
		return -errno;
	TAKE_FD(fd);
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = 1;
	*ret = TAKE_PTR(s);
	return 0;
}

struct egress_socket *egress_socket_free(struct egress_socket *s)
{
	if (!s)
		return NULL;
	if (s->nl)
		mnl_socket_close(s->nl);
	free(s);
	return NULL;
}

uint32_t egress_socket_seq(struct egress_socket *s, uint32_t n)
{
	uint32_t seq = s->seq;

	s->seq += n;
	return seq;
}

/*
 * Reads one datagram of replies into buf, waiting (bounded) only when none is queued yet:
 * nfnetlink handles a batch within the sender's sendmsg(), so its ACKs are usually there
 * already. Returns its length or -errno.
 */
static int recv_replies(struct egress_socket *s, uint8_t *buf, size_t size)
{
	int fd = mnl_socket_get_fd(s->nl);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = buf, .iov_len = size };
		struct msghdr mh = { .msg_name = &from,
				     .msg_namelen = sizeof(from),
				     .msg_iov = &iov,
				     .msg_iovlen = 1 };

		/* As mnl_socket_recvfrom(), without blocking. */
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n >= 0 && (mh.msg_flags & MSG_TRUNC))
			return -ENOSPC;
		if (n >= 0)
			return mh.msg_namelen == sizeof(from) ? (int)n : -EINVAL;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		n = poll(&p, 1, ACK_TIMEOUT_MS);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* Forces a socket buffer to at least size (we are root: FORCE), once per growth. */
static void buffer_force(struct egress_socket *s, int opt, int *cur, int size)
{
	if (size <= *cur)
		return;
	if (setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, opt, &size, sizeof(size)) == 0)
		*cur = size;
}

/*
 * Reads one datagram of ACKs; counts those of b's messages and keeps the first error. An
 * ACK of an earlier batch (one that timed out: its ACKs came late) is not one of b's.
 */
static int read_acks(struct egress_socket *s, const struct egress_batch *b, uint32_t *acked,
		     int *first_error)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *nlh;
	int len;

	len = recv_replies(s, buf, sizeof(buf));
	if (len < 0)
		return len;
	for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		/* 0: the batch's begin, 1..n_msgs: its messages, n_msgs + 1: its end (unsigned:
		 * wraps with the sequence numbers too). */
		uint32_t at = nlh->nlmsg_seq - (b->seq_first - 1);

		if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_pid != s->portid ||
		    at > b->n_msgs + 1)
			continue;
		if (at == 0 || at == b->n_msgs + 1) { /* the batch refused whole: no ACK follows */
			if (e->error < 0 && *first_error == 0)
				*first_error = e->error;
			if (e->error < 0)
				*acked = b->n_msgs;
			continue;
		}
		(*acked)++;
		if (e->error < 0 && *first_error == 0)
			*first_error = e->error;
	}
	return 0;
}

int egress_send(struct egress_socket *s, const struct egress_batch *b)
{
	uint32_t acked = 0;
	int first_error = 0, r;

	if (!b->ended)
		return -EINVAL;
	/* Large policies make large batches: make room; small ones (DNS answers) fit already. */
	buffer_force(s, SO_SNDBUFFORCE, &s->sndbuf, (int)(b->len + 65536));
	buffer_force(s, SO_RCVBUFFORCE, &s->rcvbuf, (int)(b->n_msgs * 256 + 65536));
	if (mnl_socket_sendto(s->nl, b->buf, b->len) < 0)
		return -errno;
	while (acked < b->n_msgs) {
		r = read_acks(s, b, &acked, &first_error);
		if (r < 0)
			return first_error ? first_error : r;
	}
	return first_error;
}

/* Reads replies to seq until its ACK: 1 when a table came before it, 0 on ENOENT, or -errno. */
static int read_table_reply(struct egress_socket *s, uint32_t seq)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	bool found = false;

	for (;;) {
		const struct nlmsghdr *nlh;
		int len;

		len = recv_replies(s, buf, sizeof(buf));
		if (len < 0)
			return len;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != s->portid)
				continue;
			if (nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE))
				found = true;
			else if (nlh->nlmsg_type == NLMSG_ERROR)
				return e->error == -ENOENT ? 0 : e->error < 0 ? e->error : found;
		}
	}
}

int egress_table_exists(struct egress_socket *s, uint8_t family, const char *name)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = egress_socket_seq(s, 1);
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return read_table_reply(s, nlh->nlmsg_seq);
}

int egress_apply(struct egress_socket *s, const struct policy_network *net,
		 const struct egress_config *cfg)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	struct egress_config c = *cfg;
	int r;

	c.seq = egress_socket_seq(s, 0);
	r = egress_build(net, &c, &b);
	if (r < 0)
		return r;
	egress_socket_seq(s, b->n_msgs + 2);
	return egress_send(s, b);
}

int egress_learn(struct egress_socket *s, const struct policy_network *net, const char *name,
		 const struct policy_addr *addrs, size_t n_addrs, uint32_t timeout_ms)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	int r;

	r = egress_build_learned(net, name, addrs, n_addrs, timeout_ms, egress_socket_seq(s, 0),
				 &b);
	if (r < 0)
		return r;
	egress_socket_seq(s, b->n_msgs + 2);
	return egress_send(s, b);
}

int egress_update_elems(struct egress_socket *s, const struct egress_elem_update *u, size_t n)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	int r;

	r = egress_build_elem_updates(u, n, egress_socket_seq(s, 0), &b);
	if (r < 0)
		return r;
	egress_socket_seq(s, b->n_msgs + 2);
	return egress_send(s, b);
}
