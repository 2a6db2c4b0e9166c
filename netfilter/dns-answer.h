/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The proxy's answer path, pure: from the upstream's answer to a forwarded query, the learn
 * request for the guard and, with the guard's reply, the answer the task gets. The proxy
 * (dns-proxy.c) does the I/O around it; tests/fuzz/fuzz-dns-answer.c drives it with hostile
 * answers. No sockets, no globals, no allocation, no logging: the caller owns every buffer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns-codec.h"
#include "dns-proxy.h"
#include "policy.h"

/*
 * Takes the upstream's answer in to the query (qname, qtype; tcp: the task asked over TCP),
 * already matched to it by id and question. Returns DNS_RCODE_NOERROR when the addresses
 * must be learned first: *req is then a DNS_IPC_LEARN request (all but its seq) carrying the
 * CNAME chain and the addresses, and out->answers holds the chain's CNAME records. Otherwise
 * returns the rcode to answer with, out has no answers and *ret_verdict says why: the
 * upstream's own rcode, SERVFAIL for a truncated answer (DNS_VERDICT_UPSTREAM_RCODE), or
 * NXDOMAIN for a chain that leaves the allowlist or is over DNS_PROXY_MAX_CHAIN hops
 * (DNS_VERDICT_CNAME_DENIED).
 */
int dns_answer_prepare(const struct policy_network *net, const struct dns_message *in,
		       const char *qname, uint16_t qtype, bool tcp, struct dns_message *out,
		       struct dns_ipc_request *req, enum dns_verdict *ret_verdict);

/*
 * Completes out (as dns_answer_prepare() left it) with the guard's reply to req: every
 * record gets the reply's TTL, and only the addresses whose bit is set in reply->accepted
 * are added, under the chain's last name (or the query's name). When the guard accepted
 * none of the answer's addresses, out is left with no records at all.
 */
void dns_answer_finish(struct dns_message *out, const struct dns_ipc_request *req,
		       const struct dns_ipc_reply *reply);

/*
 * Builds the answer to the task's query (its id, its RD flag, qname, qtype) from out's
 * records with rcode into buf (size bytes). Over UDP (tcp false) an answer over
 * DNS_UDP_MAX_MESSAGE bytes goes out with no records and TC set, so that the task asks
 * again over TCP; out->n_answers is then 0. Returns the length, or -EINVAL / -ENOBUFS from
 * dns_build().
 */
int dns_answer_build(struct dns_message *out, uint16_t id, uint16_t rd, const char *qname,
		     uint16_t qtype, int rcode, bool tcp, uint8_t *buf, size_t size);
