/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The unprivileged DNS proxy (see dns-proxy.h), the program airlock-dns-proxy with its
 * start-up in dns-proxy-main.c, the task's TCP connections in dns-proxy-conn.c, its
 * upstream sockets in dns-proxy-sockets.c and its wildcard budgets in dns-proxy-wild.c
 * (state shared in dns-proxy-internal.h). Once it runs it never allocates, never logs and makes only
 * the syscalls of dns-proxy-seccomp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "dns-answer.h"
#include "dns-proxy-internal.h"
#include "egress.h"
#include "macro.h"

static struct dns_message msg_in, msg_out;
/* The question name of the task's query in hand, as it was written (see question_wire()). */
static uint8_t qwire[DNS_MAX_WIRE_NAME];
static size_t qwire_len;
static struct dns_ipc_request ipc_req;
static struct upbuf upbufs[DNS_PROXY_TCP_UPSTREAM];
/* Set up by dns_proxy_prepare() before the privileges go; the proxy never allocates. */
static struct wild *wild_init;

/* Query ids, drawn from getrandom() 64 at a time rather than one syscall per query. */
static uint16_t ids[64];
static size_t n_ids;

static int random_id(uint16_t *ret)
{
	if (n_ids == 0) {
		if (getrandom(ids, sizeof(ids), 0) != sizeof(ids))
			return -EIO;
		n_ids = ELEMENTSOF(ids);
	}
	*ret = ids[--n_ids];
	ids[n_ids] = 0; /* each id is used once */
	return 0;
}

/*
 * Sends one decision to the guard; returns whether it went. The guard's queue holds a few
 * dozen messages only (the proxy's send buffer; net.unix.max_dgram_qlen does not apply to a
 * socket pair): when a burst fills it, the proxy waits for room a moment rather than leave
 * a hole in the record.
 */
static bool decision_send(struct proxy *p, const char *qname, uint16_t qtype, enum dns_verdict v,
			  int rcode, uint32_t count, int32_t rule, bool tcp)
{
	struct pollfd pfd = { .fd = FD_IPC, .events = POLLOUT };

	memset(&ipc_req, 0, sizeof(ipc_req));
	ipc_req.type = DNS_IPC_DECISION;
	ipc_req.seq = ++p->seq;
	if (qname && strlen(qname) < DNS_NAME_SIZE)
		strcpy(ipc_req.qname, qname);
	ipc_req.qtype = qtype;
	ipc_req.verdict = v;
	ipc_req.rcode = rcode;
	ipc_req.count = count;
	ipc_req.rule = rule;
	ipc_req.tcp = tcp;
	if (send(FD_IPC, &ipc_req, sizeof(ipc_req), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
		return true;
	if (errno != EAGAIN || poll(&pfd, 1, DNS_PROXY_REPORT_WAIT_MS) <= 0)
		return false;
	return send(FD_IPC, &ipc_req, sizeof(ipc_req), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
}

/* A decision that could not be sent is counted, and reported later without its name. */
static void decision_rule(struct proxy *p, const char *qname, uint16_t qtype, enum dns_verdict v,
			  int rcode, uint32_t count, int32_t rule, bool tcp)
{
	if (!decision_send(p, qname, qtype, v, rcode, count, rule, tcp))
		p->unsent[v] += count;
}

void proxy_decision(struct proxy *p, const struct client *c, const char *qname, uint16_t qtype,
		    enum dns_verdict v, int rcode, uint32_t count)
{
	decision_rule(p, qname, qtype, v, rcode, count, -1, c && c->tcp);
}

/* Sends the n bytes at frame + 2 (frame's first two: room for TCP's length) to the client. */
static void client_send(struct proxy *p, const struct client *to, uint8_t *frame, size_t n)
{
	if (to->tcp)
		return conn_send(p, to, frame, n);
	(void)sendto(FD_LISTEN, frame + 2, n, MSG_DONTWAIT, (const struct sockaddr *)&to->addr,
		     sizeof(to->addr));
}

static uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

/*
 * The question name of a query as the client wrote it, uncompressed at DNS_HEADER_SIZE (the
 * codec decodes it lower-case): its length, or 0 when it is compressed or not there.
 */
static size_t question_wire(const uint8_t *msg, size_t len, uint8_t *ret)
{
	size_t o = DNS_HEADER_SIZE;

	while (o < len && msg[o] != 0 && msg[o] <= DNS_MAX_LABEL)
		o += 1 + msg[o];
	if (o >= len || msg[o] != 0 || o + 1 - DNS_HEADER_SIZE > DNS_MAX_WIRE_NAME)
		return 0;
	memcpy(ret, msg + DNS_HEADER_SIZE, o + 1 - DNS_HEADER_SIZE);
	return o + 1 - DNS_HEADER_SIZE;
}

/*
 * Gives the answer's question (uncompressed at DNS_HEADER_SIZE, and so every record name
 * compressed to it) the case of the client's own (qwire): a resolver that randomises the
 * case of its queries (DNS 0x20) checks that the answer's question repeats it.
 */
static void question_case(uint8_t *msg, size_t n, const uint8_t *qw, size_t qw_len)
{
	if (qw_len == 0 || DNS_HEADER_SIZE + qw_len > n)
		return;
	for (size_t i = 0; i < qw_len; i++)
		if (ascii_lower(msg[DNS_HEADER_SIZE + i]) != ascii_lower(qw[i]))
			return;
	memcpy(msg + DNS_HEADER_SIZE, qw, qw_len);
}

/*
 * Sends msg_out (question from qname/qtype, given rcode and answers) to the client. Over
 * UDP an answer longer than 512 bytes goes out empty with TC set: the resolver asks again
 * over TCP.
 */
static void respond(struct proxy *p, const struct client *to, uint16_t id, uint16_t rd,
		    const char *qname, uint16_t qtype, int rcode, const uint8_t *qw, size_t qw_len)
{
	static uint8_t out[2 + DNS_MAX_MESSAGE];
	uint8_t *buf = out + 2;
	int n;

	n = dns_answer_build(&msg_out, id, rd, qname, qtype, rcode, to->tcp, buf, DNS_MAX_MESSAGE);
	if (n <= 0)
		return;
	question_case(buf, (size_t)n, qw, qw_len);
	client_send(p, to, out, (size_t)n);
}

/*
 * A query that cannot be parsed (a label with a byte outside [A-Za-z0-9_-], such as a raw
 * UTF-8 name or an escaped dot, or a broken message) or that is not a standard query gets its
 * header back, with FORMERR or NOTIMP and no question, so that the client fails at once
 * rather than wait out its timeout. Anything without a header, or a response, gets nothing.
 * Returns the rcode for the record.
 */
static int refuse_unparsed(struct proxy *p, const struct client *to, const uint8_t *q, size_t n)
{
	static uint8_t out[2 + DNS_HEADER_SIZE];
	uint16_t flags;
	int rcode;

	if (n < DNS_HEADER_SIZE || (q[2] << 8 & DNS_FLAG_QR))
		return DNS_RCODE_FORMERR;
	rcode = q[2] << 8 & DNS_FLAG_OPCODE ? DNS_RCODE_NOTIMP : DNS_RCODE_FORMERR;
	flags = (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA |
			   (q[2] << 8 & (DNS_FLAG_OPCODE | DNS_FLAG_RD)) | rcode);
	memset(out, 0, sizeof(out));
	out[2] = q[0];
	out[3] = q[1];
	out[4] = (uint8_t)(flags >> 8);
	out[5] = (uint8_t)flags;
	client_send(p, to, out, DNS_HEADER_SIZE);
	return rcode;
}

static void refuse(struct proxy *p, const struct client *to, const struct dns_message *q, int rcode)
{
	msg_out.n_answers = 0;
	respond(p, to, q->id, q->flags & DNS_FLAG_RD, q->qname, q->qtype, rcode, qwire, qwire_len);
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

static int upbuf_new(void)
{
	for (int i = 0; i < DNS_PROXY_TCP_UPSTREAM; i++)
		if (!upbufs[i].used) {
			upbufs[i].used = true;
			upbufs[i].n = 0;
			return i;
		}
	return -EBUSY;
}

static void pending_done(struct proxy *p, struct pending *e)
{
	struct conn *k = conn_of(p, &e->client);

	if (e->fd >= 0)
		close(e->fd);
	e->fd = -EBADF;
	if (e->tcp && e->buf >= 0)
		upbufs[e->buf].used = false;
	e->buf = -1;
	if (k && k->n_pending > 0)
		k->n_pending--;
	e->used = false;
}

static void fail(struct proxy *p, struct pending *e)
{
	pending_done(p, e);
	msg_out.n_answers = 0;
	respond(p, &e->client, e->client_id, e->rd, e->qname, e->qtype, DNS_RCODE_SERVFAIL,
		e->qwire, e->qwire_len);
	proxy_decision(p, &e->client, e->qname, e->qtype, DNS_VERDICT_UPSTREAM_ERROR,
		       DNS_RCODE_SERVFAIL, 1);
}

/*
 * Opens the upstream side of e under a fresh random id, from a fresh socket: UDP (the
 * query goes out at once), or TCP (it goes out once the connection is up).
 */
static int upstream_open(struct proxy *p, struct pending *e, bool tcp)
{
	static uint8_t buf[DNS_UDP_MAX_MESSAGE];
	int n;

	e->tcp = tcp;
	e->sent = false;
	e->buf = tcp ? upbuf_new() : -1;
	if (tcp && e->buf < 0)
		return -EBUSY;
	e->fd = tcp ? proxy_take_tcp_socket(p) : proxy_take_socket(p);
	if (e->fd < 0)
		return e->fd;
	if (random_id(&e->up_id) < 0 ||
	    dns_message_init_query(&msg_out, e->up_id, e->qname, e->qtype) < 0)
		return -EINVAL;
	e->deadline_ms = now_ms() + DNS_PROXY_TIMEOUT_MS;
	if (tcp)
		return 0;
	n = dns_build(&msg_out, buf, sizeof(buf));
	if (n < 0 || send(e->fd, buf, (size_t)n, MSG_DONTWAIT) < 0)
		return -EIO;
	e->sent = true;
	return 0;
}

/* TCP: writes the query, framed, once the connection is up. */
static int upstream_send_tcp(struct pending *e)
{
	static uint8_t buf[2 + DNS_UDP_MAX_MESSAGE];
	int n;

	if (dns_message_init_query(&msg_out, e->up_id, e->qname, e->qtype) < 0)
		return -EINVAL;
	n = dns_build(&msg_out, buf + 2, sizeof(buf) - 2);
	if (n < 0)
		return n;
	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	if (send(e->fd, buf, (size_t)n + 2, MSG_DONTWAIT | MSG_NOSIGNAL) != n + 2)
		return -EIO;
	e->sent = true;
	return 0;
}

/*
 * Forwards an allowed question upstream. A TCP client came over TCP because its answer
 * did not fit UDP, so its question goes over TCP upstream too; a UDP client's goes over
 * UDP first, and over TCP when that answer comes back truncated.
 */
static void forward(struct proxy *p, const struct client *c, const struct dns_message *q)
{
	struct pending *e = pending_new(p);
	struct conn *k = conn_of(p, c);

	/* The run has ended: no one is left to answer. */
	if (p->ending)
		return proxy_decision(p, c, q->qname, q->qtype, DNS_VERDICT_RUN_ENDED, -1, 1);
	if (!e) {
		refuse(p, c, q, DNS_RCODE_SERVFAIL);
		return proxy_decision(p, c, q->qname, q->qtype, DNS_VERDICT_UPSTREAM_ERROR,
				      DNS_RCODE_SERVFAIL, 1);
	}
	*e = (struct pending){ .used = true,
			       .fd = -EBADF,
			       .buf = -1,
			       .client_id = q->id,
			       .rd = q->flags & DNS_FLAG_RD,
			       .client = *c,
			       .qtype = q->qtype };
	strcpy(e->qname, q->qname);
	memcpy(e->qwire, qwire, qwire_len);
	e->qwire_len = (uint8_t)qwire_len;
	if (k)
		k->n_pending++;
	if (upstream_open(p, e, c->tcp) < 0)
		fail(p, e);
}

/* One query from the task, over UDP or TCP. */
void proxy_on_message(struct proxy *p, const struct client *c, const uint8_t *buf, size_t n)
{
	int32_t rule = -1;
	int v;

	if (!rate_ok(p)) {
		p->unsent[DNS_VERDICT_RATE_LIMITED]++;
		return;
	}
	qwire_len = 0;
	if (dns_parse(buf, n, &msg_in) < 0 || (msg_in.flags & (DNS_FLAG_QR | DNS_FLAG_OPCODE)))
		return proxy_decision(p, c, NULL, 0, DNS_VERDICT_MALFORMED,
				      refuse_unparsed(p, c, buf, n), 1);
	qwire_len = question_wire(buf, n, qwire);
	if (strlen(msg_in.qname) > DNS_PROXY_MAX_QUERY_NAME) {
		refuse(p, c, &msg_in, DNS_RCODE_REFUSED);
		return proxy_decision(p, c, NULL, msg_in.qtype, DNS_VERDICT_TOO_LONG,
				      DNS_RCODE_REFUSED, 1);
	}
	if (!msg_in.qname[0] || !egress_name_allowed(p->cfg->net, msg_in.qname)) {
		refuse(p, c, &msg_in, DNS_RCODE_NXDOMAIN);
		return proxy_decision(p, c, msg_in.qname, msg_in.qtype, DNS_VERDICT_NOT_ALLOWED,
				      DNS_RCODE_NXDOMAIN, 1);
	}
	if ((msg_in.qtype != DNS_TYPE_A && msg_in.qtype != DNS_TYPE_AAAA) ||
	    msg_in.qclass != DNS_CLASS_IN) {
		refuse(p, c, &msg_in, DNS_RCODE_REFUSED);
		return proxy_decision(p, c, msg_in.qname, msg_in.qtype, DNS_VERDICT_BAD_TYPE,
				      DNS_RCODE_REFUSED, 1);
	}
	/* IPv6 egress: a run without IPv6 gets no AAAA records, so clients use IPv4 at once. */
	if (msg_in.qtype == DNS_TYPE_AAAA && !p->cfg->v6_enabled) {
		refuse(p, c, &msg_in, DNS_RCODE_NOERROR);
		return proxy_decision(p, c, msg_in.qname, msg_in.qtype, DNS_VERDICT_NO_IPV6,
				      DNS_RCODE_NOERROR, 1);
	}
	v = proxy_wildcard_check(p, msg_in.qname, &rule);
	if (v > 0) {
		refuse(p, c, &msg_in, DNS_RCODE_NXDOMAIN);
		return decision_rule(p, msg_in.qname, msg_in.qtype, (enum dns_verdict)v,
				     DNS_RCODE_NXDOMAIN, 1, rule, c->tcp);
	}
	forward(p, c, &msg_in);
}

/*
 * Whether a UDP query comes from the task: from its address (what it sends to its resolver,
 * or to any address on port 53, redirected here), or from its loopback (a stub resolver's
 * 127.0.0.1:53, asked directly). The listener is bound to the task namespace's lo, so nothing
 * outside that namespace reaches it.
 */
static bool is_task_source(const struct proxy *p, const struct sockaddr_in *from)
{
	return !memcmp(&from->sin_addr, p->cfg->task.addr, 4) ||
	       (ntohl(from->sin_addr.s_addr) >> 24) == 127;
}

/* Reads one datagram of the UDP listener's; returns whether there was one. */
static bool on_query(struct proxy *p)
{
	static uint8_t buf[DNS_MAX_MESSAGE];
	struct client c = { .tcp = false };
	socklen_t fl = sizeof(c.addr);
	ssize_t n;

	n = recvfrom(FD_LISTEN, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&c.addr, &fl);
	if (n < 0)
		return errno == EINTR;
	if (fl == sizeof(c.addr) && is_task_source(p, &c.addr))
		proxy_on_message(p, &c, buf, (size_t)n);
	return true;
}

/* Asks the guard to learn the addresses; waits for its reply (after the kernel ACK). */
static int learn(struct proxy *p, const struct pending *e, struct dns_ipc_reply *reply)
{
	struct pollfd pfd = { .fd = FD_IPC, .events = POLLIN };

	ipc_req.seq = ++p->seq;
	if (send(FD_IPC, &ipc_req, sizeof(ipc_req), MSG_NOSIGNAL) < 0)
		return -errno;
	for (;;) {
		int r = poll(&pfd, 1, DNS_PROXY_TIMEOUT_MS);

		if (r <= 0)
			return r < 0 && errno == EINTR ? -EINTR : -ETIMEDOUT;
		r = proxy_ipc_recv(p, reply); /* fresh sockets may come first */
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
	enum dns_verdict v;
	int rcode;

	rcode = dns_answer_prepare(p->cfg->net, &msg_in, e->qname, e->qtype, e->client.tcp,
				   &msg_out, &ipc_req, &v);
	if (rcode != DNS_RCODE_NOERROR) {
		respond(p, &e->client, e->client_id, e->rd, e->qname, e->qtype, rcode, e->qwire,
			e->qwire_len);
		return proxy_decision(p, &e->client, e->qname, e->qtype, v, rcode, 1);
	}
	if (learn(p, e, &reply) < 0) {
		msg_out.n_answers = 0;
		respond(p, &e->client, e->client_id, e->rd, e->qname, e->qtype, DNS_RCODE_SERVFAIL,
			e->qwire, e->qwire_len);
		return;
	}
	dns_answer_finish(&msg_out, &ipc_req, &reply);
	respond(p, &e->client, e->client_id, e->rd, e->qname, e->qtype, DNS_RCODE_NOERROR, e->qwire,
		e->qwire_len);
}

/* Whether msg_in is the answer to e: the query's id and question. */
static bool is_answer(const struct pending *e)
{
	return (msg_in.flags & (DNS_FLAG_QR | DNS_FLAG_OPCODE)) == DNS_FLAG_QR &&
	       msg_in.id == e->up_id && msg_in.qtype == e->qtype && msg_in.qclass == DNS_CLASS_IN &&
	       streq(msg_in.qname, e->qname);
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
 * Reads what came on a query's UDP socket. The socket is connected, so the kernel already
 * drops datagrams from anyone but the upstream; the source is checked here again, and the
 * answer must carry the query's id and question. Anything else is ignored: the query keeps
 * waiting for the real answer until its deadline. A truncated answer is asked again over
 * TCP.
 */
static void on_upstream_udp(struct proxy *p, struct pending *e)
{
	static uint8_t buf[DNS_MAX_MESSAGE];
	struct sockaddr_storage from = {};
	socklen_t fl = sizeof(from);
	ssize_t n;

	n = recvfrom(e->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
	if (n < 0 || !is_upstream(p->cfg, &from, fl))
		return;
	if (dns_parse(buf, (size_t)n, &msg_in) < 0 || !is_answer(e))
		return;
	if ((msg_in.flags & DNS_FLAG_TC) && dns_message_rcode(&msg_in) == DNS_RCODE_NOERROR) {
		close(e->fd);
		e->fd = -EBADF;
		if (upstream_open(p, e, true) < 0)
			fail(p, e);
		return;
	}
	answer(p, e);
	pending_done(p, e); /* closes the socket: not before the answer is out */
}

/* A query's TCP connection: writes the query once connected, then reads one framed answer. */
static void on_upstream_tcp(struct proxy *p, struct pending *e, short revents)
{
	struct upbuf *u = &upbufs[e->buf];
	size_t len;
	ssize_t n;
	int r;

	if (!e->sent) {
		if (revents & (POLLOUT | POLLERR | POLLHUP) && upstream_send_tcp(e) < 0)
			fail(p, e);
		return;
	}
	n = recvfrom(e->fd, u->b + u->n, sizeof(u->b) - u->n, MSG_DONTWAIT, NULL, NULL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return fail(p, e);
	u->n += (size_t)n;
	r = dns_tcp_frame(u->b, u->n, DNS_MAX_MESSAGE, &len);
	if (r == 0)
		return;
	if (r < 0 || dns_parse(u->b + 2, len, &msg_in) < 0 || !is_answer(e))
		return fail(p, e);
	answer(p, e);
	pending_done(p, e);
}

/* Sends the counts not reported yet; returns whether all went. */
static bool report_unsent(struct proxy *p)
{
	for (int v = 0; v < _DNS_VERDICT_MAX; v++) {
		if (!p->unsent[v])
			continue;
		if (!decision_send(p, NULL, 0, (enum dns_verdict)v, -1, p->unsent[v], -1, false))
			return false;
		p->unsent[v] = 0;
	}
	return true;
}

static void expire(struct proxy *p)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < DNS_PROXY_MAX_PENDING; i++) {
		struct pending *e = &p->pending[i];

		if (e->used && e->deadline_ms <= now)
			fail(p, e);
	}
	for (size_t i = 0; i < DNS_PROXY_TCP_MAX_CONNS; i++) {
		struct conn *k = &p->conns[i];

		if (k->fd >= 0 && k->n_pending == 0 &&
		    (k->eof || k->idle_ms <= now || k->queries >= DNS_PROXY_TCP_MAX_QUERIES))
			conn_close(k);
	}
	/*
	 * The queries not reported yet, one decision per verdict every DNS_PROXY_REPORT_MS:
	 * one per rate-limited datagram would fill the guard's queue in a flood. A count is
	 * kept until it went.
	 */
	if (now < p->report_ms)
		return;
	p->report_ms = now + DNS_PROXY_REPORT_MS;
	(void)report_unsent(p);
}

enum { SRC_CONN, SRC_PENDING };

struct source {
	uint8_t kind;
	uint8_t index;
};

#define FIXED_FDS 3 /* the UDP listener, the guard, the TCP listener */
#define MAX_POLL (FIXED_FDS + DNS_PROXY_TCP_MAX_CONNS + DNS_PROXY_MAX_PENDING)

/* fds: the listeners and the guard, then connections and pending queries; map: which. */
static size_t poll_set(struct proxy *p, struct pollfd *fds, struct source *map)
{
	size_t n = FIXED_FDS;

	fds[0] = (struct pollfd){ .fd = FD_LISTEN, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = FD_IPC, .events = POLLIN };
	fds[2] = (struct pollfd){ .fd = FD_TCP, .events = POLLIN };
	for (size_t i = 0; i < DNS_PROXY_TCP_MAX_CONNS; i++)
		if (conn_reads(&p->conns[i])) {
			map[n - FIXED_FDS] = (struct source){ SRC_CONN, (uint8_t)i };
			fds[n++] = (struct pollfd){ .fd = p->conns[i].fd, .events = POLLIN };
		}
	for (size_t i = 0; i < DNS_PROXY_MAX_PENDING; i++)
		if (p->pending[i].used) {
			const struct pending *e = &p->pending[i];

			map[n - FIXED_FDS] = (struct source){ SRC_PENDING, (uint8_t)i };
			fds[n++] = (struct pollfd){ .fd = e->fd,
						    .events = e->sent ? POLLIN : POLLOUT };
		}
	return n;
}

static void dispatch(struct proxy *p, const struct pollfd *fd, struct source s)
{
	if (!fd->revents)
		return;
	if (s.kind == SRC_CONN) {
		if (p->conns[s.index].fd == fd->fd)
			conn_read(p, s.index);
		return;
	}
	if (!p->pending[s.index].used || p->pending[s.index].fd != fd->fd)
		return; /* answered or failed meanwhile */
	if (p->pending[s.index].tcp)
		on_upstream_tcp(p, &p->pending[s.index], fd->revents);
	else
		on_upstream_udp(p, &p->pending[s.index]);
}

/*
 * The run has ended (DNS_IPC_FINAL): what the task left queued at the listeners is read and
 * counted (its allowed names as DNS_VERDICT_RUN_ENDED, not asked), the queries waiting for
 * the upstream are reported DNS_VERDICT_RUN_ENDED, then every count not reported yet goes.
 * Exits 0 once all went, so that the supervisor's EOF means a whole report; else 3. Bounded:
 * the task's processes are dead, so its queues only shrink.
 */
static _noreturn_ void final_report(struct proxy *p)
{
	p->ending = true;
	for (unsigned i = 0; i < DNS_PROXY_FINAL_READS && on_query(p); i++)
		;
	for (size_t i = 0; i < DNS_PROXY_TCP_MAX_CONNS; i++)
		for (unsigned j = 0; j <= DNS_PROXY_TCP_MAX_QUERIES && conn_reads(&p->conns[i]);
		     j++)
			conn_read(p, i);
	for (size_t i = 0; i < DNS_PROXY_MAX_PENDING; i++) {
		struct pending *e = &p->pending[i];

		if (!e->used)
			continue;
		pending_done(p, e);
		proxy_decision(p, &e->client, e->qname, e->qtype, DNS_VERDICT_RUN_ENDED, -1, 1);
	}
	_exit(report_unsent(p) ? 0 : 3);
}

int dns_proxy_prepare(const struct dns_proxy_config *cfg)
{
	wild_init = proxy_wild_new(cfg->net);
	return wild_init ? 0 : -ENOMEM;
}

_noreturn_ void dns_proxy_run(const struct dns_proxy_config *cfg)
{
	static struct proxy p;
	struct pollfd fds[MAX_POLL];
	struct source map[MAX_POLL - FIXED_FDS];

	p.cfg = cfg;
	p.tokens = DNS_PROXY_RATE_BURST;
	p.refill_ms = now_ms();
	p.tcp_spare = -EBADF;
	p.wild = wild_init;
	for (size_t i = 0; i < DNS_PROXY_TCP_MAX_CONNS; i++)
		p.conns[i].fd = -EBADF;
	if (getrandom(&p.hash_key, sizeof(p.hash_key), 0) != sizeof(p.hash_key))
		_exit(5);
	for (;;) {
		size_t n;
		int r;

		if (p.final) /* asked for it meanwhile, e.g. while waiting for a learn reply */
			final_report(&p);
		n = poll_set(&p, fds, map);
		r = poll(fds, n, 250);

		if (r < 0 && errno != EINTR)
			_exit(1);
		if (fds[1].revents & (POLLHUP | POLLERR))
			_exit(0); /* the supervisor is gone */
		if (fds[1].revents & POLLIN) {
			struct dns_ipc_reply
				stale; /* fresh sockets, or a reply after its deadline */

			if (proxy_ipc_recv(&p, &stale) == -EPIPE)
				_exit(0);
		}
		for (size_t i = FIXED_FDS; i < n; i++)
			dispatch(&p, &fds[i], map[i - FIXED_FDS]);
		if (fds[0].revents & POLLIN)
			(void)on_query(&p);
		if (fds[2].revents & POLLIN)
			conn_accept(&p);
		expire(&p);
	}
}
