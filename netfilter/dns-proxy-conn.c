/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS proxy's side of the task's TCP connections (DNS over TCP, RFC 7766): a slot per
 * connection, queries read in their two-byte frames, answers written back framed. Part of
 * airlock-dns-proxy (see dns-proxy.c): it never allocates and never logs.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns-proxy-internal.h"

struct conn *conn_of(struct proxy *p, const struct client *c)
{
	struct conn *k;

	if (!c->tcp || c->conn >= DNS_PROXY_TCP_MAX_CONNS)
		return NULL;
	k = &p->conns[c->conn];
	return k->fd >= 0 && k->gen == c->gen ? k : NULL;
}

void conn_close(struct conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -EBADF;
	k->gen++;
	k->n_in = k->queries = k->n_pending = 0;
	k->eof = false;
}

/* Whether a connection is read: not when it has no more to say or may ask no more. */
bool conn_reads(const struct conn *k)
{
	return k->fd >= 0 && !k->eof && k->queries < DNS_PROXY_TCP_MAX_QUERIES;
}

/* Writes one framed answer; a connection that cannot take it whole is closed. */
void conn_send(struct proxy *p, const struct client *c, uint8_t *framed, size_t n)
{
	struct conn *k = conn_of(p, c);

	if (!k)
		return;
	framed[0] = (uint8_t)(n >> 8);
	framed[1] = (uint8_t)n;
	if (send(k->fd, framed, n + 2, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)(n + 2))
		return conn_close(k);
	k->idle_ms = now_ms() + DNS_PROXY_TCP_IDLE_MS;
}

/* A new TCP connection of the task's: kept if a slot is free, else closed at once. */
void conn_accept(struct proxy *p)
{
	int fd = accept4(FD_TCP, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (fd <= FD_LAST) { /* cannot happen: 0..5 are always open */
		close(fd);
		return;
	}
	for (size_t i = 0; i < DNS_PROXY_TCP_MAX_CONNS; i++) {
		struct conn *k = &p->conns[i];

		if (k->fd >= 0)
			continue;
		k->fd = fd;
		k->n_in = k->queries = k->n_pending = 0;
		k->eof = false;
		k->idle_ms = now_ms() + DNS_PROXY_TCP_IDLE_MS;
		return;
	}
	close(fd);
}

/* Reads a TCP connection: each whole message is a query; a bad frame ends the connection. */
void conn_read(struct proxy *p, size_t i)
{
	struct conn *k = &p->conns[i];
	size_t len;
	ssize_t n;
	int r;

	n = recvfrom(k->fd, k->in + k->n_in, sizeof(k->in) - k->n_in, MSG_DONTWAIT, NULL, NULL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/*
	 * A client may shut down its sending side once its queries are out (the end of its
	 * stream): the answers to those still go out, and then the connection is closed.
	 */
	if (n == 0 && k->n_pending > 0) {
		k->eof = true;
		return;
	}
	if (n <= 0)
		return conn_close(k);
	k->n_in += (size_t)n;
	while (k->queries < DNS_PROXY_TCP_MAX_QUERIES &&
	       (r = dns_tcp_frame(k->in, k->n_in, DNS_PROXY_TCP_MAX_QUERY, &len)) != 0) {
		struct client c = { .tcp = true, .conn = (uint32_t)i, .gen = k->gen };

		if (r < 0) {
			proxy_decision(p, &c, NULL, 0, DNS_VERDICT_MALFORMED, DNS_RCODE_FORMERR, 1);
			return conn_close(k);
		}
		k->queries++;
		k->idle_ms = now_ms() + DNS_PROXY_TCP_IDLE_MS;
		proxy_on_message(p, &c, k->in + 2, len);
		if (k->fd < 0 || k->gen != c.gen)
			return;
		memmove(k->in, k->in + 2 + len, k->n_in - 2 - len);
		k->n_in -= 2 + len;
	}
}
