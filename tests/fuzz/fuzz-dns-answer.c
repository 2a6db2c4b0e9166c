/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes the proxy's answer path (netfilter/dns-answer.c) with hostile upstream answers:
 * collect the answer, build the learn request, let the guard's own check (dns_guard_check)
 * decide, and build the answer the task gets. Asserts that
 *   - no address reaches the task unless it is in the learn request and the guard took it;
 *   - the request names only allowed names, and nothing denied by the guard's rules (private,
 *     link-local, metadata ... outside a cidr rule) is learned;
 *   - nothing is taken from an upstream error or a truncated upstream answer;
 *   - the answer's question is the query's, over UDP it fits 512 bytes, and an error or a
 *     truncated answer carries no address and a withheld one (the guard took none of its
 *     addresses) no record at all;
 * and ASan/UBSan catch any out-of-bounds access.
 *
 * Input: a 10-byte header, then the upstream's answer as it came off the wire.
 *   byte 0: bits 0-1 the policy (policies[]), bit 2 the task asked over TCP;
 *   bytes 1-8: the addresses (by index, little-endian bit mask) the guard withholds because
 *     the run's element cap is reached (set-full), on top of its own check;
 *   byte 9: when not 0, a TTL the guard's reply is lowered to (an element that lives shorter).
 */
#include <assert.h>
#include <string.h>
#include <sys/socket.h>

#include "dns-answer.h"
#include "egress.h"
#include "fuzz.h"
#include "macro.h"

#define HEADER 10

#define V4(a, b, c, d)                                    \
	{                                                 \
		.family = AF_INET, .addr = { a, b, c, d } \
	}

static struct policy_egress_rule rules0[] = {
	{ .host = (char *)"*.test", .wildcard = true, .names = 64, .match_length = 63 },
	{ .host = (char *)"example.com" },
};
static struct policy_egress_rule rules1[] = {
	{ .host = (char *)"a.test" },
	{ .host = (char *)"*.b.test", .wildcard = true, .names = 64, .match_length = 63 },
	{ .host = (char *)"c.example.com" },
	{ .is_cidr = true, .cidr = V4(10, 20, 0, 0), .prefixlen = 16 },
	{ .is_cidr = true, .cidr = { .family = AF_INET6, .addr = { 0xfd } }, .prefixlen = 8 },
};
static struct policy_egress_rule rules2[] = {
	{ .host = (char *)"*.test", .wildcard = true, .names = 64, .match_length = 63 },
	{ .is_cidr = true, .cidr = V4(0, 0, 0, 0), .prefixlen = 0 },
	{ .is_cidr = true, .cidr = { .family = AF_INET6 }, .prefixlen = 0 },
};
static struct policy_egress_rule rules3[] = {
	{ .host = (char *)"a.test" },
};

static const struct policy_network policies[] = {
	{ .enabled = true, .egress = rules0, .n_egress = ELEMENTSOF(rules0) },
	{ .enabled = true, .egress = rules1, .n_egress = ELEMENTSOF(rules1) },
	{ .enabled = true, .egress = rules2, .n_egress = ELEMENTSOF(rules2) },
	{ .enabled = true, .egress = rules3, .n_egress = ELEMENTSOF(rules3) },
};

/* As in the proxy: big, static, and left as the previous input made them. */
static struct dns_message in, out, back;
static struct dns_ipc_request req;
static uint8_t wire[DNS_MAX_MESSAGE];

struct query {
	const struct policy_network *net;
	char qname[DNS_NAME_SIZE];
	uint16_t qtype;
	uint16_t id, rd;
	bool tcp;
};

/* Whether the proxy forwards q's question (on_message) and takes in as its answer (is_answer). */
static bool is_forwarded(const struct policy_network *net, const struct dns_message *m)
{
	return (m->flags & (DNS_FLAG_QR | DNS_FLAG_OPCODE)) == DNS_FLAG_QR &&
	       m->qclass == DNS_CLASS_IN && (m->qtype == DNS_TYPE_A || m->qtype == DNS_TYPE_AAAA) &&
	       m->qname[0] && strlen(m->qname) <= DNS_PROXY_MAX_QUERY_NAME &&
	       egress_name_allowed(net, m->qname);
}

static bool is_terminated_name(const char *name)
{
	return memchr(name, 0, DNS_NAME_SIZE) && dns_name_is_valid(name);
}

static struct policy_addr addr_of(const struct dns_ipc_addr *a)
{
	struct policy_addr pa = { .family = a->family };

	memcpy(pa.addr, a->addr, sizeof(pa.addr));
	return pa;
}

/* Whether the upstream's answer has a record (name, type) with this address. */
static bool upstream_has(const char *name, uint16_t type, const uint8_t addr[16])
{
	for (size_t i = 0; i < in.n_answers; i++)
		if (in.answers[i].type == type && streq(in.answers[i].name, name) &&
		    !memcmp(in.answers[i].addr, addr, 16))
			return true;
	return false;
}

/* The name the addresses are under: the chain's end, or the query's name. */
static const char *chain_end(const struct query *q)
{
	return req.n_chain ? req.chain[req.n_chain - 1] : q->qname;
}

/* The learn request: what the proxy sends the guard, built from the upstream's answer. */
static void check_request(const struct query *q)
{
	const char *owner = q->qname;

	assert(req.type == DNS_IPC_LEARN && streq(req.qname, q->qname) && req.qtype == q->qtype);
	assert(req.count == 1 && req.rule == -1 && req.tcp == q->tcp && req.rcode == 0);
	assert(req.n_chain <= DNS_PROXY_MAX_CHAIN && req.n_addrs <= DNS_IPC_MAX_ADDRS);
	/* Each hop is a CNAME of the answer, from the previous name to an allowed one. */
	for (uint32_t i = 0; i < req.n_chain; i++) {
		bool found = false;

		assert(is_terminated_name(req.chain[i]) &&
		       egress_name_allowed(q->net, req.chain[i]));
		for (size_t k = 0; k < in.n_answers && !found; k++)
			found = in.answers[k].type == DNS_TYPE_CNAME &&
				streq(in.answers[k].name, owner) &&
				streq(in.answers[k].target, req.chain[i]);
		assert(found);
		owner = req.chain[i];
	}
	assert(out.n_answers == req.n_chain);
	for (uint32_t i = 0; i < req.n_addrs; i++) {
		const struct dns_ipc_addr *a = &req.addrs[i];

		assert(a->family == (q->qtype == DNS_TYPE_A ? AF_INET : AF_INET6));
		assert(upstream_has(chain_end(q), q->qtype, a->addr));
	}
}

/* The guard: its own check, then the set-full mask and a shorter lifetime from the input. */
static void guard(const struct query *q, uint64_t full, uint8_t ttl_cap,
		  struct dns_ipc_reply *reply)
{
	struct dns_guard g = { .net = q->net,
			       .ttl_min = DNS_TTL_MIN_DEFAULT,
			       .ttl_max = DNS_TTL_MAX_DEFAULT };
	struct policy_addr learn[DNS_IPC_MAX_ADDRS];
	int n;

	n = dns_guard_check(&g, &req, reply, learn);
	assert(n >= 0); /* the proxy never asks for a name the guard refuses */
	assert(n == __builtin_popcountll(reply->accepted));
	assert(reply->seq == req.seq && reply->error == 0);
	assert(reply->ttl >= DNS_TTL_MIN_DEFAULT && reply->ttl <= DNS_TTL_MAX_DEFAULT);
	reply->accepted &= ~full;
	if (ttl_cap)
		reply->ttl = MIN(reply->ttl, ttl_cap);
	for (uint32_t i = 0; i < DNS_IPC_MAX_ADDRS; i++) {
		struct policy_addr a;

		if (!(reply->accepted & (1ULL << i)))
			continue;
		assert(i < req.n_addrs);
		a = addr_of(&req.addrs[i]);
		assert(egress_addr_learnable(q->net, &a));
		assert(!egress_addr_is_denied(&a) || egress_addr_cidr_allowed(q->net, &a));
	}
}

/* Whether an address of the task's answer is one the guard accepted. */
static bool is_accepted(const struct dns_ipc_reply *reply, uint16_t type, const uint8_t addr[16])
{
	size_t len = type == DNS_TYPE_A ? 4 : 16;

	for (uint32_t i = 0; i < req.n_addrs; i++)
		if ((reply->accepted & (1ULL << i)) && !memcmp(req.addrs[i].addr, addr, len))
			return true;
	return false;
}

/* The answer the task gets (n bytes of wire): its question and header. */
static void check_header(const struct query *q, int n, int rcode)
{
	assert(n > 0);
	assert(q->tcp || n <= DNS_UDP_MAX_MESSAGE);
	assert(dns_parse(wire, (size_t)n, &back) == 0);
	assert(back.id == q->id && streq(back.qname, q->qname) && back.qtype == q->qtype);
	assert(back.qclass == DNS_CLASS_IN && back.n_skipped == 0);
	assert((back.flags & (DNS_FLAG_QR | DNS_FLAG_OPCODE | DNS_FLAG_RD)) ==
	       (DNS_FLAG_QR | q->rd));
	assert(dns_message_rcode(&back) == rcode);
	if (back.flags & DNS_FLAG_TC)
		assert(!q->tcp && back.n_answers == 0);
}

static void check_answer(const struct query *q, const struct dns_ipc_reply *reply, int n)
{
	size_t n_addrs = 0;

	check_header(q, n, DNS_RCODE_NOERROR);
	for (size_t i = 0; i < back.n_answers; i++) {
		const struct dns_rr *rr = &back.answers[i];
		bool in_chain = false;

		assert(rr->ttl == reply->ttl);
		if (rr->type == DNS_TYPE_CNAME) {
			for (uint32_t k = 0; k < req.n_chain; k++)
				in_chain = in_chain || streq(req.chain[k], rr->target);
			assert(in_chain && i < req.n_chain);
			continue;
		}
		assert(rr->type == q->qtype && streq(rr->name, chain_end(q)));
		assert(is_accepted(reply, rr->type, rr->addr));
		n_addrs++;
	}
	/* Withheld, every address of the answer kept from the task: an empty answer. */
	if (req.n_addrs > 0 && reply->accepted == 0)
		assert(back.n_answers == 0);
	if (!(back.flags & DNS_FLAG_TC) && req.n_chain + req.n_addrs <= DNS_MAX_ANSWERS)
		assert(n_addrs == (size_t)__builtin_popcountll(reply->accepted));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_ipc_reply reply;
	struct query q;
	enum dns_verdict v;
	uint64_t full;
	int rcode, n;

	if (size < HEADER)
		return 0;
	q = (struct query){ .net = &policies[data[0] & 3], .tcp = data[0] & 4 };
	memcpy(&full, data + 1, sizeof(full));
	if (dns_parse(data + HEADER, size - HEADER, &in) < 0 || !is_forwarded(q.net, &in))
		return 0;
	strcpy(q.qname, in.qname);
	q.qtype = in.qtype;
	q.id = in.id ^ 0x5a5a; /* the task's id is not the upstream's */
	q.rd = in.flags & DNS_FLAG_RD;

	rcode = dns_answer_prepare(q.net, &in, q.qname, q.qtype, q.tcp, &out, &req, &v);
	/* Nothing is taken from an upstream error or a truncated answer. */
	if (dns_message_rcode(&in) != DNS_RCODE_NOERROR || (in.flags & DNS_FLAG_TC))
		assert(rcode != DNS_RCODE_NOERROR && v == DNS_VERDICT_UPSTREAM_RCODE);
	if (rcode != DNS_RCODE_NOERROR) {
		assert(out.n_answers == 0);
		assert(v == DNS_VERDICT_UPSTREAM_RCODE || v == DNS_VERDICT_CNAME_DENIED);
		n = dns_answer_build(&out, q.id, q.rd, q.qname, q.qtype, rcode, q.tcp, wire,
				     sizeof(wire));
		check_header(&q, n, rcode);
		assert(back.n_answers == 0);
		return 0;
	}
	req.seq = 1;
	check_request(&q);
	guard(&q, full, data[9], &reply);
	dns_answer_finish(&out, &req, &reply);
	n = dns_answer_build(&out, q.id, q.rd, q.qname, q.qtype, DNS_RCODE_NOERROR, q.tcp, wire,
			     sizeof(wire));
	check_answer(&q, &reply, n);
	return 0;
}
