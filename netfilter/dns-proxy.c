/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unprivileged DNS proxy (see dns-proxy.h). After the fork it never allocates, never
 * logs and makes only the syscalls of dns-proxy-seccomp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "cleanup.h"
#include "dns-proxy.h"
#include "egress.h"
#include "macro.h"

enum { FD_LISTEN = DNS_PROXY_FD_LISTEN, FD_IPC = DNS_PROXY_FD_IPC };

/* Bytes of unread replies in the proxy's queue past which no more sockets are sent. */
#define SOCKETS_QUEUED_MAX (16 * 1024)

struct pending {
	bool used;
	int fd; /* the upstream socket of this query alone */
	uint16_t up_id;
	uint16_t client_id;
	uint16_t rd;
	struct sockaddr_in client;
	char qname[DNS_NAME_SIZE];
	uint16_t qtype;
	uint64_t deadline_ms;
};

struct proxy {
	const struct dns_proxy_config *cfg;
	struct pending pending[DNS_PROXY_MAX_PENDING];
	double tokens;
	uint64_t refill_ms;
	uint32_t rate_dropped;
	uint32_t seq;
	int spare[DNS_PROXY_SPARE_SOCKETS]; /* fresh upstream sockets, never used yet */
	size_t n_spare;
	uint64_t refill_deadline_ms; /* a DNS_IPC_SOCKETS request is out until then */
};

static struct dns_message msg_in, msg_out;
static struct dns_ipc_request ipc_req, refill_req;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void decision(struct proxy *p, const char *qname, uint16_t qtype, enum dns_verdict v,
		     int rcode, uint32_t count)
{
	memset(&ipc_req, 0, sizeof(ipc_req));
	ipc_req.type = DNS_IPC_DECISION;
	ipc_req.seq = ++p->seq;
	if (qname && strlen(qname) < DNS_NAME_SIZE)
		strcpy(ipc_req.qname, qname);
	ipc_req.qtype = qtype;
	ipc_req.verdict = v;
	ipc_req.rcode = rcode;
	ipc_req.count = count;
	(void)send(FD_IPC, &ipc_req, sizeof(ipc_req), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Sends msg_out (question from qname/qtype, given rcode and answers) to the client. */
static void respond(const struct sockaddr_in *to, uint16_t id, uint16_t rd, const char *qname,
		    uint16_t qtype, int rcode)
{
	static uint8_t buf[DNS_MAX_MESSAGE];
	int n;

	msg_out.id = id;
	msg_out.flags = (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA | rd | (rcode & DNS_FLAG_RCODE));
	strcpy(msg_out.qname, qname);
	msg_out.qtype = qtype;
	msg_out.qclass = DNS_CLASS_IN;
	n = dns_build(&msg_out, buf, sizeof(buf));
	if (n > 0)
		(void)sendto(FD_LISTEN, buf, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)to,
			     sizeof(*to));
}

static void refuse(const struct sockaddr_in *to, const struct dns_message *q, int rcode)
{
	msg_out.n_answers = 0;
	respond(to, q->id, q->flags & DNS_FLAG_RD, q->qname, q->qtype, rcode);
}

static bool rate_ok(struct proxy *p)
{
	uint64_t now = now_ms();

	p->tokens += (double)(now - p->refill_ms) * DNS_PROXY_RATE_PER_SEC / 1000.0;
	p->tokens = MIN(p->tokens, (double)DNS_PROXY_RATE_BURST);
	p->refill_ms = now;
	if (p->tokens < 1.0)
		return false;
	p->tokens -= 1.0;
	return true;
}

static struct pending *pending_new(struct proxy *p)
{
	for (size_t i = 0; i < DNS_PROXY_MAX_PENDING; i++)
		if (!p->pending[i].used)
			return &p->pending[i];
	return NULL;
}

/* Keeps a fresh socket of the guard's; one that does not fit is closed. */
static void spare_add(struct proxy *p, int fd)
{
	if (fd > FD_IPC && p->n_spare < DNS_PROXY_SPARE_SOCKETS)
		p->spare[p->n_spare++] = fd;
	else if (fd > FD_IPC)
		close(fd);
}

/* Keeps the fds of an SCM_RIGHTS message (when keep) or closes them. */
static void take_rights(struct proxy *p, struct msghdr *mh, bool keep)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (keep)
				spare_add(p, fd);
			else if (fd > FD_IPC)
				close(fd);
		}
	}
}

/*
 * Receives one message of the guard's: a learn reply (returns 1, *reply filled) or fresh
 * upstream sockets, kept as spares (returns 0). -EAGAIN when nothing is queued, -EPIPE at
 * EOF.
 */
static int ipc_recv(struct proxy *p, struct dns_ipc_reply *reply)
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
	take_rights(p, &mh, whole && reply->type == DNS_IPC_SOCKETS);
	if (!whole)
		return 0;
	if (reply->type == DNS_IPC_SOCKETS) {
		if (reply->error == 0) /* after an error, ask again only once the request expires */
			p->refill_deadline_ms = 0;
		return 0;
	}
	return 1;
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

/* A socket for one query only: a spare, or one the guard sends within DNS_PROXY_REFILL_MS. */
static int take_socket(struct proxy *p)
{
	uint64_t end = now_ms() + DNS_PROXY_REFILL_MS;
	struct dns_ipc_reply stale;
	int fd;

	refill(p);
	while (p->n_spare == 0) {
		struct pollfd pfd = { .fd = FD_IPC, .events = POLLIN };
		uint64_t now = now_ms();

		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(end - now)) < 0 && errno != EINTR)
			return -errno;
		if (ipc_recv(p, &stale) == -EPIPE)
			return -EPIPE;
		refill(p);
	}
	fd = p->spare[--p->n_spare];
	refill(p);
	return fd;
}

static void forward_failed(struct proxy *p, const struct sockaddr_in *from,
			   const struct dns_message *q, int fd)
{
	if (fd >= 0)
		close(fd);
	refuse(from, q, DNS_RCODE_SERVFAIL);
	decision(p, q->qname, q->qtype, DNS_VERDICT_UPSTREAM_ERROR, DNS_RCODE_SERVFAIL, 1);
}

/* Forwards an allowed question upstream under a fresh random id, from a fresh port. */
static void forward(struct proxy *p, const struct sockaddr_in *from, const struct dns_message *q)
{
	static uint8_t buf[512];
	struct pending *e = pending_new(p);
	int n, fd = -EBADF;
	uint16_t id;

	if (e)
		fd = take_socket(p);
	if (fd < 0 || getrandom(&id, sizeof(id), 0) != sizeof(id) ||
	    dns_message_init_query(&msg_out, id, q->qname, q->qtype) < 0)
		return forward_failed(p, from, q, fd);
	n = dns_build(&msg_out, buf, sizeof(buf));
	if (n < 0 || send(fd, buf, (size_t)n, MSG_DONTWAIT) < 0)
		return forward_failed(p, from, q, fd);
	*e = (struct pending){ .used = true,
			       .fd = fd,
			       .up_id = id,
			       .client_id = q->id,
			       .rd = q->flags & DNS_FLAG_RD,
			       .client = *from,
			       .qtype = q->qtype,
			       .deadline_ms = now_ms() + DNS_PROXY_TIMEOUT_MS };
	strcpy(e->qname, q->qname);
}

static void on_query(struct proxy *p)
{
	static uint8_t buf[DNS_MAX_MESSAGE];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	n = recvfrom(FD_LISTEN, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 0 || fl != sizeof(from) || memcmp(&from.sin_addr, p->cfg->task.addr, 4) != 0)
		return;
	if (!rate_ok(p)) {
		p->rate_dropped++;
		return;
	}
	if (dns_parse(buf, (size_t)n, &msg_in) < 0 ||
	    (msg_in.flags & (DNS_FLAG_QR | DNS_FLAG_OPCODE)))
		return decision(p, NULL, 0, DNS_VERDICT_MALFORMED, DNS_RCODE_FORMERR, 1);
	if (strlen(msg_in.qname) > DNS_PROXY_MAX_QUERY_NAME) {
		refuse(&from, &msg_in, DNS_RCODE_REFUSED);
		return decision(p, NULL, msg_in.qtype, DNS_VERDICT_TOO_LONG, DNS_RCODE_REFUSED, 1);
	}
	if (!msg_in.qname[0] || !egress_name_allowed(p->cfg->net, msg_in.qname)) {
		refuse(&from, &msg_in, DNS_RCODE_NXDOMAIN);
		return decision(p, msg_in.qname, msg_in.qtype, DNS_VERDICT_NOT_ALLOWED,
				DNS_RCODE_NXDOMAIN, 1);
	}
	if ((msg_in.qtype != DNS_TYPE_A && msg_in.qtype != DNS_TYPE_AAAA) ||
	    msg_in.qclass != DNS_CLASS_IN) {
		refuse(&from, &msg_in, DNS_RCODE_REFUSED);
		return decision(p, msg_in.qname, msg_in.qtype, DNS_VERDICT_BAD_TYPE,
				DNS_RCODE_REFUSED, 1);
	}
	/* IPv6 egress: a run without IPv6 gets no AAAA records, so clients use IPv4 at once. */
	if (msg_in.qtype == DNS_TYPE_AAAA && !p->cfg->v6_enabled) {
		refuse(&from, &msg_in, DNS_RCODE_NOERROR);
		return decision(p, msg_in.qname, msg_in.qtype, DNS_VERDICT_NO_IPV6,
				DNS_RCODE_NOERROR, 1);
	}
	forward(p, &from, &msg_in);
}

/* Follows the CNAME chain from qname within allowed names into msg_out and ipc_req. */
static bool collect_answer(struct proxy *p, const struct pending *e)
{
	const char *cur = e->qname;

	msg_out.n_answers = 0;
	ipc_req.n_chain = ipc_req.n_addrs = 0;
	for (size_t hop = 0; hop <= DNS_PROXY_MAX_CHAIN; hop++) {
		const struct dns_rr *cname = NULL;

		for (size_t i = 0; i < msg_in.n_answers && !cname; i++)
			if (msg_in.answers[i].type == DNS_TYPE_CNAME &&
			    streq(msg_in.answers[i].name, cur))
				cname = &msg_in.answers[i];
		if (!cname)
			break;
		if (hop == DNS_PROXY_MAX_CHAIN || !egress_name_allowed(p->cfg->net, cname->target))
			return false;
		msg_out.answers[msg_out.n_answers++] = *cname;
		strcpy(ipc_req.chain[ipc_req.n_chain++], cname->target);
		cur = cname->target;
	}
	for (size_t i = 0; i < msg_in.n_answers && ipc_req.n_addrs < DNS_IPC_MAX_ADDRS; i++) {
		const struct dns_rr *rr = &msg_in.answers[i];
		struct dns_ipc_addr *a = &ipc_req.addrs[ipc_req.n_addrs];

		if (rr->type != e->qtype || !streq(rr->name, cur))
			continue;
		a->family = rr->type == DNS_TYPE_A ? AF_INET : AF_INET6;
		memcpy(a->addr, rr->addr, sizeof(a->addr));
		a->ttl = rr->ttl;
		ipc_req.n_addrs++;
	}
	return true;
}

/* Asks the guard to learn the addresses; waits for its reply (after the kernel ACK). */
static int learn(struct proxy *p, const struct pending *e, struct dns_ipc_reply *reply)
{
	struct pollfd pfd = { .fd = FD_IPC, .events = POLLIN };

	ipc_req.type = DNS_IPC_LEARN;
	ipc_req.seq = ++p->seq;
	strcpy(ipc_req.qname, e->qname);
	ipc_req.qtype = e->qtype;
	ipc_req.count = 1;
	if (send(FD_IPC, &ipc_req, sizeof(ipc_req), MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		int r = poll(&pfd, 1, DNS_PROXY_TIMEOUT_MS);

		if (r <= 0)
			return r < 0 && errno == EINTR ? -EINTR : -ETIMEDOUT;
		r = ipc_recv(p, reply); /* fresh sockets may come first */
		if (r == -EAGAIN || r == 0)
			continue;
		if (r < 0)
			return -EPIPE;
		if (reply->seq == ipc_req.seq)
			return reply->error;
	}
}

static void answer(struct proxy *p, struct pending *e)
{
	struct dns_ipc_reply reply;
	size_t n = msg_out.n_answers;
	int rcode = dns_message_rcode(&msg_in);

	if (rcode != DNS_RCODE_NOERROR || (msg_in.flags & DNS_FLAG_TC)) {
		msg_out.n_answers = 0;
		rcode = rcode ? rcode : DNS_RCODE_SERVFAIL;
		respond(&e->client, e->client_id, e->rd, e->qname, e->qtype, rcode);
		return decision(p, e->qname, e->qtype, DNS_VERDICT_UPSTREAM_RCODE, rcode, 1);
	}
	if (!collect_answer(p, e)) {
		msg_out.n_answers = 0;
		respond(&e->client, e->client_id, e->rd, e->qname, e->qtype, DNS_RCODE_NXDOMAIN);
		return decision(p, e->qname, e->qtype, DNS_VERDICT_CNAME_DENIED, DNS_RCODE_NXDOMAIN,
				1);
	}
	if (learn(p, e, &reply) < 0) {
		msg_out.n_answers = 0;
		respond(&e->client, e->client_id, e->rd, e->qname, e->qtype, DNS_RCODE_SERVFAIL);
		return;
	}
	n = msg_out.n_answers;
	for (size_t i = 0; i < n; i++)
		msg_out.answers[i].ttl = reply.ttl;
	for (uint32_t i = 0; i < ipc_req.n_addrs && n < DNS_MAX_ANSWERS; i++) {
		struct dns_rr *rr = &msg_out.answers[n];

		if (!(reply.accepted & (1u << i)))
			continue;
		strcpy(rr->name, ipc_req.n_chain ? ipc_req.chain[ipc_req.n_chain - 1] : e->qname);
		rr->type = e->qtype;
		rr->ttl = reply.ttl;
		memcpy(rr->addr, ipc_req.addrs[i].addr, sizeof(rr->addr));
		n++;
	}
	msg_out.n_answers = n;
	respond(&e->client, e->client_id, e->rd, e->qname, e->qtype, DNS_RCODE_NOERROR);
}

static void pending_done(struct pending *e)
{
	close(e->fd);
	e->fd = -EBADF;
	e->used = false;
}

/* IPv6 egress: whether from (fl bytes) is the upstream's address (IPv4 or IPv6), port 53. */
static bool is_upstream(const struct dns_proxy_config *cfg, const struct sockaddr_storage *from,
			socklen_t fl)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)from;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)from;

	if (cfg->upstream.family == AF_INET)
		return fl == sizeof(*in) && in->sin_family == AF_INET &&
		       in->sin_port == htons(53) && !memcmp(&in->sin_addr, cfg->upstream.addr, 4);
	return fl == sizeof(*in6) && in6->sin6_family == AF_INET6 && in6->sin6_port == htons(53) &&
	       !memcmp(&in6->sin6_addr, cfg->upstream.addr, 16);
}

/*
 * Reads what came on a query's socket. The socket is connected, so the kernel already
 * drops datagrams from anyone but the upstream; the source is checked here again, and the
 * answer must carry the query's id and question. Anything else is ignored: the query keeps
 * waiting for the real answer until its deadline.
 */
static void on_upstream(struct proxy *p, struct pending *e)
{
	static uint8_t buf[DNS_MAX_MESSAGE];
	struct sockaddr_storage from = {};
	socklen_t fl = sizeof(from);
	ssize_t n;

	n = recvfrom(e->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 0 || !is_upstream(p->cfg, &from, fl))
		return;
	if (dns_parse(buf, (size_t)n, &msg_in) < 0 ||
	    (msg_in.flags & (DNS_FLAG_QR | DNS_FLAG_OPCODE)) != DNS_FLAG_QR ||
	    msg_in.id != e->up_id || msg_in.qtype != e->qtype || msg_in.qclass != DNS_CLASS_IN ||
	    !streq(msg_in.qname, e->qname))
		return;
	pending_done(e);
	answer(p, e);
}

static void expire(struct proxy *p)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < DNS_PROXY_MAX_PENDING; i++) {
		struct pending *e = &p->pending[i];

		if (!e->used || e->deadline_ms > now)
			continue;
		pending_done(e);
		msg_out.n_answers = 0;
		respond(&e->client, e->client_id, e->rd, e->qname, e->qtype, DNS_RCODE_SERVFAIL);
		decision(p, e->qname, e->qtype, DNS_VERDICT_UPSTREAM_ERROR, DNS_RCODE_SERVFAIL, 1);
	}
	if (p->rate_dropped) {
		decision(p, NULL, 0, DNS_VERDICT_RATE_LIMITED, -1, p->rate_dropped);
		p->rate_dropped = 0;
	}
}

/* fds: the listening socket, the guard, then each pending query's socket; map: its slot. */
static size_t poll_set(struct proxy *p, struct pollfd *fds, size_t *map)
{
	size_t n = 2;

	fds[0] = (struct pollfd){ .fd = FD_LISTEN, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = FD_IPC, .events = POLLIN };
	for (size_t i = 0; i < DNS_PROXY_MAX_PENDING; i++)
		if (p->pending[i].used) {
			map[n - 2] = i;
			fds[n++] = (struct pollfd){ .fd = p->pending[i].fd, .events = POLLIN };
		}
	return n;
}

static _noreturn_ void proxy_run(const struct dns_proxy_config *cfg)
{
	static struct proxy p;
	struct pollfd fds[2 + DNS_PROXY_MAX_PENDING];
	size_t map[DNS_PROXY_MAX_PENDING];

	p.cfg = cfg;
	p.tokens = DNS_PROXY_RATE_BURST;
	p.refill_ms = now_ms();
	for (;;) {
		size_t n = poll_set(&p, fds, map);
		int r = poll(fds, n, 250);

		if (r < 0 && errno != EINTR)
			_exit(1);
		if (fds[1].revents & (POLLHUP | POLLERR))
			_exit(0); /* the supervisor is gone */
		if (fds[1].revents & POLLIN) {
			struct dns_ipc_reply
				stale; /* fresh sockets, or a reply after its deadline */

			if (ipc_recv(&p, &stale) == -EPIPE)
				_exit(0);
		}
		for (size_t i = 2; i < n; i++)
			if (fds[i].revents && p.pending[map[i - 2]].used)
				on_upstream(&p, &p.pending[map[i - 2]]);
		if (fds[0].revents & POLLIN)
			on_query(&p);
		expire(&p);
	}
}

/* Moves the two fds to 3 and 4 and closes every other fd above 2. */
static int child_fds(int listen_fd, int ipc_fd)
{
	int src[] = { listen_fd, ipc_fd }, tmp[2];
	int devnull;

	for (int i = 0; i < 2; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64);
		if (tmp[i] < 0)
			return -errno;
	}
	for (int i = 0; i < 2; i++)
		if (dup2(tmp[i], FD_LISTEN + i) < 0)
			return -errno;
	if (close_range(FD_IPC + 1, ~0U, 0) < 0)
		return -errno;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (dup2(devnull, i) < 0)
			return -errno;
	close(devnull);
	return 0;
}

static int child_drop_privileges(void)
{
	struct rlimit nofile = { DNS_PROXY_NOFILE, DNS_PROXY_NOFILE };

	/* A proxy that hoards sockets holds at most this many; SCM_RIGHTS beyond it fail. */
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		return -errno;
	if (setgroups(0, NULL) < 0 || setresgid(DNS_PROXY_UID, DNS_PROXY_UID, DNS_PROXY_UID) < 0 ||
	    setresuid(DNS_PROXY_UID, DNS_PROXY_UID, DNS_PROXY_UID) < 0)
		return -errno;
	/* uid 0 -> non-zero clears permitted/effective; ambient goes explicitly. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	return dns_proxy_seccomp_load();
}

static _noreturn_ void child(const struct dns_proxy_config *cfg, pid_t parent, int fds[2])
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(2);
	if (child_fds(fds[0], fds[1]) < 0)
		_exit(3);
	if (child_drop_privileges() < 0)
		_exit(4);
	proxy_run(cfg);
}

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

int dns_proxy_send_sockets(int ipc_fd, const struct policy_addr *upstream, uint32_t n)
{
	union {
		struct cmsghdr h;
		uint8_t buf[CMSG_SPACE(sizeof(int) * DNS_PROXY_SPARE_SOCKETS)];
	} ctl = {};
	struct dns_ipc_reply reply = { .type = DNS_IPC_SOCKETS };
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
		r = udp_socket(upstream, true, NULL);
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

int dns_proxy_start(const struct dns_proxy_config *cfg, struct dns_proxy **ret)
{
	_cleanup_close_ int listen_fd = -EBADF;
	_cleanup_close_ int pair0 = -EBADF, pair1 = -EBADF;
	struct dns_proxy *p;
	int pair[2], fds[2], r;
	pid_t parent = getpid(), pid;

	if (cfg->listen.family != AF_INET ||
	    (cfg->upstream.family != AF_INET && cfg->upstream.family != AF_INET6) ||
	    !cfg->listen_ifname)
		return -EAFNOSUPPORT;
	listen_fd = udp_socket(&cfg->listen, false, cfg->listen_ifname);
	if (listen_fd < 0)
		return listen_fd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return -errno;
	pair0 = pair[0];
	pair1 = pair[1];
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;

	pid = fork();
	if (pid < 0) {
		free(p);
		return -errno;
	}
	if (pid == 0) {
		fds[0] = listen_fd;
		fds[1] = pair1;
		child(cfg, parent, fds);
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
