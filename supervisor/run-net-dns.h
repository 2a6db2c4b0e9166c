/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The DNS decisions of a run's record (network.dns), kept within a bound a flooding task
 * or a compromised proxy cannot push an answered lookup out of: repeated decisions share
 * one entry with a count, answered names (allowed, withheld, set-full) have room of their
 * own, and what finds no room is counted per verdict. Part of the network module; pure
 * (no I/O), does not log.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "dns-proxy.h"

#define RUN_NET_MAX_DNS_RECORDS 1024
/* Entries only answered names may take: every other verdict stops short of them. */
#define RUN_NET_DNS_RESERVED 256
#define RUN_NET_MAX_WITHHELD 16 /* withheld addresses kept per record entry */

/* One record entry: the queries of one name, type, transport and outcome. */
struct run_net_dns {
	char name[DNS_NAME_SIZE];
	uint16_t qtype;
	enum dns_verdict verdict;
	int rcode;
	bool tcp;
	uint32_t count;
	uint64_t first_ms, last_ms; /* since the run's network was set up */
	uint32_t ttl;
	size_t n_addrs; /* the union over the entry's queries */
	struct dns_ipc_addr addrs[DNS_IPC_MAX_ADDRS];
	size_t n_withheld;
	struct dns_ipc_addr withheld[RUN_NET_MAX_WITHHELD];
	const char *withheld_reason; /* a static string */
	/* The last answer the guard checked: its CNAME chain, and the ports it opened. */
	size_t n_chain;
	char chain[DNS_PROXY_MAX_CHAIN][DNS_NAME_SIZE];
	size_t n_ports;
	struct egress_port ports[DNS_GUARD_MAX_PORTS];
};

struct run_net_dns_list {
	struct run_net_dns *e; /* RUN_NET_MAX_DNS_RECORDS entries; owned */
	size_t n;
	size_t n_other; /* entries of verdicts other than the answered ones */
	uint64_t unrecorded[_DNS_VERDICT_MAX]; /* queries that found no room, per verdict */
};

/* Allocates the entries. Returns 0 or -ENOMEM. */
int run_net_dns_init(struct run_net_dns_list *l);
/* Frees the entries (not the struct). */
void run_net_dns_done(struct run_net_dns_list *l);

/*
 * Records d (d->count queries) at now, milliseconds since the network's setup: into the
 * entry of its name, type, verdict, rcode and transport, or a new one. Returns the entry,
 * or NULL when there was no room (the queries are then counted in unrecorded[]).
 */
struct run_net_dns *run_net_dns_add(struct run_net_dns_list *l, const struct dns_decision *d,
				    uint64_t now);

/* The queries that found no room: in all, and per verdict. */
uint64_t run_net_dns_unrecorded(const struct run_net_dns_list *l);

/* network.dns, network.dns_unrecorded_verdicts: new references, NULL on -ENOMEM. */
json_t *run_net_dns_to_json(const struct run_net_dns_list *l);
json_t *run_net_dns_unrecorded_to_json(const struct run_net_dns_list *l);
