/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS proxy's upstream sockets: it cannot make any (its seccomp filter has no
 * socket()), so the guard hands fresh ones over its socketpair, a few spares ahead, one
 * per query and never reused.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns-proxy-internal.h"

static struct dns_ipc_request refill_req;

/* Keeps a fresh socket of the guard's; one that does not fit is closed. */
static void spare_add(struct proxy *p, int fd, uint32_t type)
{
	if (fd <= FD_LAST)
		return;
	if (type == DNS_IPC_SOCKETS && p->n_spare < DNS_PROXY_SPARE_SOCKETS)
		p->spare[p->n_spare++] = fd;
	else if (type == DNS_IPC_TCP && p->tcp_spare < 0)
		p->tcp_spare = fd;
	else
		close(fd);
}

/* Keeps the fds of an SCM_RIGHTS message as spares of that type (0: closes them). */
static void take_rights(struct proxy *p, struct msghdr *mh, uint32_t type)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			spare_add(p, fd, type);
		}
	}
}

int proxy_ipc_recv(struct proxy *p, struct dns_ipc_reply *reply)
{
	union {
		struct cmsghdr h;
		uint8_t buf[CMSG_SPACE(sizeof(int) * DNS_PROXY_SPARE_SOCKETS)];
	} ctl;
	struct iovec iov = { .iov_base = reply, .iov_len = sizeof(*reply) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	bool whole;
	ssize_t n;

	n = recvmsg(FD_IPC, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	if (n == 0)
		return -EPIPE;
	whole = (size_t)n == sizeof(*reply) && !(mh.msg_flags & MSG_TRUNC);
	take_rights(p, &mh,
		    whole && (reply->type == DNS_IPC_SOCKETS || reply->type == DNS_IPC_TCP)
			    ? reply->type
			    : 0);
	if (!whole)
		return 0;
	if (reply->type == DNS_IPC_FINAL) {
		p->final = true;
		return 0;
	}
	if (reply->type == DNS_IPC_SOCKETS) {
		if (reply->error == 0) /* after an error, ask again only once the request expires */
			p->refill_deadline_ms = 0;
		return 0;
	}
	return reply->type == DNS_IPC_TCP ? 0 : 1;
}

/* Asks the guard for fresh sockets when half the spares are gone and none are on the way. */
static void refill(struct proxy *p)
{
	uint64_t now = now_ms();

	if (p->n_spare > DNS_PROXY_SPARE_SOCKETS / 2 || now < p->refill_deadline_ms)
		return;
	memset(&refill_req, 0, sizeof(refill_req));
	refill_req.type = DNS_IPC_SOCKETS;
	refill_req.seq = ++p->seq;
	refill_req.count = (uint32_t)(DNS_PROXY_SPARE_SOCKETS - p->n_spare);
	if (send(FD_IPC, &refill_req, sizeof(refill_req), MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		p->refill_deadline_ms = now + DNS_PROXY_REFILL_MS;
}

/* Waits up to DNS_PROXY_REFILL_MS for *have to become true (the guard's sockets arriving). */
static int wait_sockets(struct proxy *p, bool tcp)
{
	uint64_t end = now_ms() + DNS_PROXY_REFILL_MS;
	struct dns_ipc_reply stale;

	while (tcp ? p->tcp_spare < 0 : p->n_spare == 0) {
		struct pollfd pfd = { .fd = FD_IPC, .events = POLLIN };
		uint64_t now = now_ms();

		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(end - now)) < 0 && errno != EINTR)
			return -errno;
		if (proxy_ipc_recv(p, &stale) == -EPIPE)
			return -EPIPE;
		if (!tcp)
			refill(p);
	}
	return 0;
}

int proxy_take_socket(struct proxy *p)
{
	int fd, r;

	refill(p);
	r = wait_sockets(p, false);
	if (r < 0)
		return r;
	fd = p->spare[--p->n_spare];
	refill(p);
	return fd;
}

int proxy_take_tcp_socket(struct proxy *p)
{
	int fd, r;

	if (p->tcp_spare < 0) {
		memset(&refill_req, 0, sizeof(refill_req));
		refill_req.type = DNS_IPC_TCP;
		refill_req.seq = ++p->seq;
		if (send(FD_IPC, &refill_req, sizeof(refill_req), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			return -errno;
	}
	r = wait_sockets(p, true);
	if (r < 0)
		return r;
	fd = p->tcp_spare;
	p->tcp_spare = -EBADF;
	return fd;
}
