/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's side of the DNS proxy (see dns-proxy.h): the sockets it creates as root
 * and hands to the proxy (its listeners, and a fresh upstream socket for every query), and
 * the proxy's start and stop.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "cleanup.h"
#include "dns-proxy.h"
#include "macro.h"
#include "netns-util.h"

/* Bytes of unread replies in the proxy's queue past which no more sockets are sent. */
#define SOCKETS_QUEUED_MAX (16 * 1024)

/* ifname: bind to that device, so that whatever is sent reaches no other link. */
static int udp_socket(const struct policy_addr *a, bool do_connect, const char *ifname)
{
	/* IPv6 egress: an IPv6 upstream gets IPv6 sockets (the listening socket is IPv4). */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	bool v6 = a->family == AF_INET6;
	struct sockaddr *sp = v6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa;
	socklen_t sl = v6 ? sizeof(sa6) : sizeof(sa);
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname) + 1) < 0)
		return -errno;
	memcpy(&sa.sin_addr, a->addr, 4);
	memcpy(&sa6.sin6_addr, a->addr, 16);
	r = do_connect ? connect(fd, sp, sl) : bind(fd, sp, sl);
	if (r < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* Whether the proxy still has more than SOCKETS_QUEUED_MAX bytes of our replies unread. */
static bool proxy_lags(int ipc_fd)
{
	int queued = 0;

	return ioctl(ipc_fd, SIOCOUTQ, &queued) == 0 && queued > SOCKETS_QUEUED_MAX;
}

/* A TCP socket whose connect to upstream port 53 is under way (non-blocking). */
static int tcp_upstream_socket(const struct policy_addr *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	bool v6 = a->family == AF_INET6;
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (v6) {
		memcpy(&sa6.sin6_addr, a->addr, 16);
		r = connect(fd, (struct sockaddr *)&sa6, sizeof(sa6));
	} else {
		memcpy(&sa.sin_addr, a->addr, 4);
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (r < 0 && errno != EINPROGRESS)
		return -errno;
	return TAKE_FD(fd);
}

static int send_sockets(int ipc_fd, const struct policy_addr *upstream, uint32_t n, uint32_t type)
{
	union {
		struct cmsghdr h;
		uint8_t buf[CMSG_SPACE(sizeof(int) * DNS_PROXY_SPARE_SOCKETS)];
	} ctl = {};
	struct dns_ipc_reply reply = { .type = type };
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[DNS_PROXY_SPARE_SOCKETS], r = 0;
	size_t k = 0;

	n = MIN(n, (uint32_t)DNS_PROXY_SPARE_SOCKETS);
	if (upstream->family != AF_INET && upstream->family != AF_INET6)
		r = -EAFNOSUPPORT;
	else if (proxy_lags(ipc_fd))
		r = -EBUSY;
	for (; r >= 0 && k < n; k++) {
		r = type == DNS_IPC_TCP ? tcp_upstream_socket(upstream)
					: udp_socket(upstream, true, NULL);
		if (r < 0)
			break;
		fds[k] = r;
	}
	if (k > 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * k);
		ctl.h.cmsg_level = SOL_SOCKET;
		ctl.h.cmsg_type = SCM_RIGHTS;
		ctl.h.cmsg_len = CMSG_LEN(sizeof(int) * k);
		memcpy(CMSG_DATA(&ctl.h), fds, sizeof(int) * k);
	} else {
		reply.error = r < 0 ? r : -EINVAL;
	}
	r = sendmsg(ipc_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
	for (size_t i = 0; i < k; i++)
		close(fds[i]);
	return r == -EPIPE || r == -ECONNRESET ? -EPIPE : 0;
}

int dns_proxy_send_sockets(int ipc_fd, const struct policy_addr *upstream, uint32_t n)
{
	return send_sockets(ipc_fd, upstream, n, DNS_IPC_SOCKETS);
}

int dns_proxy_send_tcp_socket(int ipc_fd, const struct policy_addr *upstream)
{
	return send_sockets(ipc_fd, upstream, 1, DNS_IPC_TCP);
}

/* The TCP listener, in the task's namespace on 127.0.0.1:53 (see egress-build.c). */
static int tcp_listen_socket(int netns_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(DNS_PROXY_TCP_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	_cleanup_close_ int fd = -EBADF;

	fd = netns_socket(netns_fd, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, DNS_PROXY_TCP_MAX_CONNS) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int dns_proxy_start(const struct dns_proxy_config *cfg, struct dns_proxy **ret)
{
	_cleanup_close_ int listen_fd = -EBADF, tcp_fd = -EBADF;
	_cleanup_close_ int pair0 = -EBADF, pair1 = -EBADF;
	struct dns_proxy *p;
	int pair[2], fds[3], r;
	pid_t pid;

	if (cfg->listen.family != AF_INET ||
	    (cfg->upstream.family != AF_INET && cfg->upstream.family != AF_INET6) ||
	    !cfg->listen_ifname)
		return -EAFNOSUPPORT;
	listen_fd = udp_socket(&cfg->listen, false, cfg->listen_ifname);
	if (listen_fd < 0)
		return listen_fd;
	tcp_fd = tcp_listen_socket(cfg->task_netns_fd);
	if (tcp_fd < 0)
		return tcp_fd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return -errno;
	pair0 = pair[0];
	pair1 = pair[1];
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;

	fds[0] = listen_fd;
	fds[1] = pair1;
	fds[2] = tcp_fd;
	pid = dns_proxy_fork(cfg, fds);
	if (pid < 0) {
		free(p);
		return pid;
	}
	p->pid = pid;
	p->ipc_fd = TAKE_FD(pair0);
	/* The first sockets wait in the queue before the task can send its first query. */
	r = dns_proxy_send_sockets(p->ipc_fd, &cfg->upstream, DNS_PROXY_SPARE_SOCKETS);
	if (r < 0) {
		dns_proxy_stop(p);
		return r;
	}
	*ret = p;
	return 0;
}

struct dns_proxy *dns_proxy_stop(struct dns_proxy *p)
{
	if (!p)
		return NULL;
	if (p->pid > 0) {
		(void)kill(p->pid, SIGKILL);
		(void)waitpid(p->pid, NULL, 0);
	}
	safe_close(p->ipc_fd);
	free(p);
	return NULL;
}
