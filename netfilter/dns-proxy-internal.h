/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS proxy's own state, shared by its parts: dns-proxy.c (queries and answers),
 * dns-proxy-conn.c (the task's TCP connections),
 * dns-proxy-sockets.c (the upstream sockets the guard hands over) and dns-proxy-wild.c
 * (the wildcard rules' name budgets). Not for the supervisor: see dns-proxy.h.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "dns-proxy.h"

enum {
	FD_LISTEN = DNS_PROXY_FD_LISTEN,
	FD_IPC = DNS_PROXY_FD_IPC,
	FD_TCP = DNS_PROXY_FD_LISTEN_TCP,
	FD_LAST = DNS_PROXY_FD_LAST,
};

/* Where an answer goes: a UDP peer, or one of the task's TCP connections. */
struct client {
	bool tcp;
	struct sockaddr_in addr; /* UDP */
	uint32_t conn; /* TCP: the connection's slot */
	uint32_t gen; /*   and its generation, so that a reused slot gets no stale answer */
};

/* A TCP connection of the task's. */
struct conn {
	int fd; /* -EBADF: the slot is free */
	uint32_t gen;
	uint32_t queries;
	uint32_t n_pending;
	bool eof; /* the task shut down its sending side: closed once its answers are out */
	uint64_t idle_ms; /* closed once past this with nothing pending */
	size_t n_in;
	uint8_t in[2 + DNS_PROXY_TCP_MAX_QUERY];
};

/* An upstream answer read over TCP. */
struct upbuf {
	bool used;
	size_t n;
	uint8_t b[2 + DNS_MAX_MESSAGE];
};

struct pending {
	bool used;
	int fd; /* the upstream socket of this query alone */
	bool tcp; /* fd is a TCP connection to the upstream */
	bool sent; /* TCP: the query is written */
	int buf; /* TCP: its upbuf */
	uint16_t up_id;
	uint16_t client_id;
	uint16_t rd;
	struct client client;
	char qname[DNS_NAME_SIZE];
	uint8_t qwire[DNS_MAX_WIRE_NAME]; /* the name as the client wrote it (its case), */
	uint8_t qwire_len; /*                 or 0 */
	uint16_t qtype;
	uint64_t deadline_ms;
};

/* A wildcard rule's budget: hashes of the names that went upstream. */
struct wild {
	uint32_t n;
	uint64_t *seen; /* net->egress[i].names slots; allocated before the privileges go */
};

struct proxy {
	const struct dns_proxy_config *cfg;
	struct pending pending[DNS_PROXY_MAX_PENDING];
	struct conn conns[DNS_PROXY_TCP_MAX_CONNS];
	double tokens;
	uint64_t refill_ms;
	uint32_t unsent[_DNS_VERDICT_MAX]; /* queries not yet reported: rate-limited ones, and
					    * decisions the guard's full queue did not take */
	uint64_t report_ms; /* when they may be reported next */
	uint32_t seq;
	int spare[DNS_PROXY_SPARE_SOCKETS]; /* fresh upstream sockets, never used yet */
	size_t n_spare;
	int tcp_spare; /* a fresh TCP socket to the upstream, or -EBADF */
	uint64_t refill_deadline_ms; /* a DNS_IPC_SOCKETS request is out until then */
	uint64_t hash_key;
	struct wild *wild; /* one per egress rule */
	bool final; /* the supervisor asked for the final report (DNS_IPC_FINAL) */
	bool ending; /* making it: queries are counted, never forwarded */
};

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* dns-proxy-sockets.c */
/*
 * Receives one message of the guard's: a learn reply (returns 1, *reply filled), fresh
 * upstream sockets, kept as spares, or the request for the final report, which sets
 * p->final (both return 0). -EAGAIN when nothing is queued, -EPIPE at EOF.
 */
int proxy_ipc_recv(struct proxy *p, struct dns_ipc_reply *reply);
/* A UDP socket for one query only: a spare, or one the guard sends within DNS_PROXY_REFILL_MS. */
int proxy_take_socket(struct proxy *p);
/* A TCP socket to the upstream for one query, asked of the guard when needed. */
int proxy_take_tcp_socket(struct proxy *p);

/* dns-proxy-wild.c */
/*
 * The budget of the wildcard rule that lets name through: none when an exact rule names it.
 * Returns 0 (go on: a counted name, or one counted now), or the verdict to refuse with and
 * the rule in *ret_rule.
 */
int proxy_wildcard_check(struct proxy *p, const char *name, int32_t *ret_rule);
/* The wildcard rules' name budgets, allocated before the privileges go: the proxy never allocates. */
struct wild *proxy_wild_new(const struct policy_network *net);

/* dns-proxy.c */
void proxy_decision(struct proxy *p, const struct client *c, const char *qname, uint16_t qtype,
		    enum dns_verdict v, int rcode, uint32_t count);
/* One query from the task, over UDP or TCP. */
void proxy_on_message(struct proxy *p, const struct client *c, const uint8_t *buf, size_t n);

/* dns-proxy-conn.c: the task's TCP connections */
/* The live connection an answer for c goes to, or NULL (closed, or its slot reused). */
struct conn *conn_of(struct proxy *p, const struct client *c);
void conn_close(struct conn *k);
bool conn_reads(const struct conn *k);
void conn_send(struct proxy *p, const struct client *c, uint8_t *framed, size_t n);
void conn_accept(struct proxy *p);
void conn_read(struct proxy *p, size_t i);
