/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The privileged half of the DNS view: everything the unprivileged proxy asks for is
 * checked again here before it reaches the kernel, since a compromised proxy may lie.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cleanup.h"
#include "dns-proxy.h"
#include "egress-apply.h"
#include "egress.h"
#include "macro.h"

static const char *const verdicts[_DNS_VERDICT_MAX] = {
	[DNS_VERDICT_ALLOWED] = "allowed",
	[DNS_VERDICT_NOT_ALLOWED] = "not-allowed",
	[DNS_VERDICT_BAD_TYPE] = "type-refused",
	[DNS_VERDICT_TOO_LONG] = "name-too-long",
	[DNS_VERDICT_RATE_LIMITED] = "rate-limited",
	[DNS_VERDICT_CNAME_DENIED] = "cname-not-allowed",
	[DNS_VERDICT_UPSTREAM_ERROR] = "upstream-error",
	[DNS_VERDICT_UPSTREAM_RCODE] = "upstream-rcode",
	[DNS_VERDICT_MALFORMED] = "malformed",
	[DNS_VERDICT_SET_FULL] = "set-full",
	[DNS_VERDICT_NO_IPV6] = "ipv6-off",
	[DNS_VERDICT_WITHHELD] = "withheld",
	[DNS_VERDICT_WILDCARD_BUDGET] = "wildcard-budget",
	[DNS_VERDICT_WILDCARD_LENGTH] = "wildcard-length",
	[DNS_VERDICT_RUN_ENDED] = "run-ended",
};

const char *dns_verdict_to_string(enum dns_verdict v)
{
	if (v < 0 || v >= _DNS_VERDICT_MAX)
		return NULL;
	return verdicts[v];
}

/* A name from the proxy: NUL-terminated within its field and valid text. */
static bool name_ok(const char *name)
{
	return memchr(name, 0, DNS_NAME_SIZE) && dns_name_is_valid(name);
}

static const char *const withheld_reasons[8] = {
	[DNS_WITHHELD_RANGE] = "denied-range",
	[DNS_WITHHELD_FULL] = "set-full",
	[DNS_WITHHELD_RANGE | DNS_WITHHELD_FULL] = "denied-range, set-full",
	[DNS_WITHHELD_PORTS] = "cname-ports",
	[DNS_WITHHELD_PORTS | DNS_WITHHELD_RANGE] = "denied-range, cname-ports",
	[DNS_WITHHELD_PORTS | DNS_WITHHELD_FULL] = "set-full, cname-ports",
	[DNS_WITHHELD_PORTS | DNS_WITHHELD_RANGE | DNS_WITHHELD_FULL] =
		"denied-range, set-full, cname-ports",
};

const char *dns_withheld_to_string(unsigned why)
{
	return why < ELEMENTSOF(withheld_reasons) ? withheld_reasons[why] : NULL;
}

/* Why a (until now acceptable) address of the answer is withheld, or 0. */
static unsigned addr_withheld(const struct dns_guard *g, const struct dns_guard_plan *plan,
			      const struct policy_addr *a)
{
	if (plan->n_ports == 0)
		return DNS_WITHHELD_PORTS;
	if (!egress_addr_is_denied(a))
		return 0;
	for (size_t i = 0; i < plan->n_ports; i++)
		if (!egress_cidr_opens(g->net, a, &plan->ports[i]))
			return DNS_WITHHELD_RANGE;
	return 0;
}

/*
 * The names of the answer (qname, then the chain), each allowed, and their common ports.
 * Returns 0, a DNS_WITHHELD_* reason that holds for every address, or -EPERM.
 */
static int check_names(const struct dns_guard *g, const struct dns_ipc_request *req,
		       struct dns_guard_plan *plan)
{
	const char *names[1 + DNS_PROXY_MAX_CHAIN] = { req->qname };
	int r;

	if (!name_ok(req->qname) || !egress_name_allowed(g->net, req->qname))
		return -EPERM;
	if (req->n_chain > DNS_PROXY_MAX_CHAIN || req->n_addrs > DNS_IPC_MAX_ADDRS)
		return -EPERM;
	for (uint32_t i = 0; i < req->n_chain; i++) {
		if (!name_ok(req->chain[i]) || !egress_name_allowed(g->net, req->chain[i]))
			return -EPERM;
		names[1 + i] = req->chain[i];
	}
	r = egress_names_ports(g->net, names, 1 + req->n_chain, plan->ports,
			       ELEMENTSOF(plan->ports));
	if (r == -ENOSPC) /* more elements than one address may make: as at the cap */
		return DNS_WITHHELD_FULL;
	if (r < 0)
		return -EPERM;
	plan->n_ports = (size_t)r;
	return 0;
}

int dns_guard_check_plan(const struct dns_guard *g, const struct dns_ipc_request *req,
			 struct dns_ipc_reply *reply, struct policy_addr *ret_addrs,
			 struct dns_guard_plan *plan)
{
	uint32_t ttl = g->ttl_max;
	int n = 0, all;

	*reply = (struct dns_ipc_reply){ .type = DNS_IPC_LEARN, .seq = req->seq };
	*plan = (struct dns_guard_plan){};
	all = check_names(g, req, plan);
	if (all < 0)
		return all;

	for (uint32_t i = 0; i < req->n_addrs; i++) {
		const struct dns_ipc_addr *a = &req->addrs[i];
		struct policy_addr pa = { .family = a->family };

		if (a->family != AF_INET && a->family != AF_INET6)
			continue;
		memcpy(pa.addr, a->addr, sizeof(pa.addr));
		plan->why[i] = (uint8_t)(all ? (unsigned)all : addr_withheld(g, plan, &pa));
		if (plan->why[i])
			continue;
		if (egress_addr_is_denied(&pa))
			plan->cidr |= 1ULL << i;
		ttl = MIN(ttl, a->ttl);
		ret_addrs[n++] = pa;
		reply->accepted |= 1ULL << i;
	}
	reply->ttl = MAX(ttl, g->ttl_min);
	reply->ttl = MIN(reply->ttl, g->ttl_max);
	return n;
}

int dns_guard_check(const struct dns_guard *g, const struct dns_ipc_request *req,
		    struct dns_ipc_reply *reply, struct policy_addr *ret_addrs)
{
	struct dns_guard_plan plan;

	return dns_guard_check_plan(g, req, reply, ret_addrs, &plan);
}

static void report_decision(struct dns_guard *g, struct dns_decision *d,
			    const struct dns_ipc_request *req, enum dns_verdict v)
{
	d->qname = req->qname;
	d->qtype = req->qtype;
	d->verdict = v;
	d->rcode = req->rcode;
	d->count = req->count ? req->count : 1;
	d->tcp = req->tcp != 0;
	d->rule = -1;
	/* A wildcard verdict names its rule: checked, so the supervisor can index by it. */
	if ((v == DNS_VERDICT_WILDCARD_BUDGET || v == DNS_VERDICT_WILDCARD_LENGTH) &&
	    req->rule >= 0 && (size_t)req->rule < g->net->n_egress &&
	    g->net->egress[req->rule].wildcard &&
	    egress_name_matches(g->net->egress[req->rule].host, req->qname))
		d->rule = req->rule;
	if (g->decision)
		g->decision(d, g->userdata);
}

static void report(struct dns_guard *g, const struct dns_ipc_request *req, enum dns_verdict v,
		   const struct dns_ipc_addr *addrs, size_t n)
{
	struct dns_decision d = { .addrs = addrs, .n_addrs = n };

	report_decision(g, &d, req, v);
}

struct dns_guard_elem {
	struct egress_elem elem;
	uint64_t lo_ms, hi_ms; /* the kernel's expiry lies between: before and after the ACK */
};

/* The most elements one address can make: rules x ports x protocols, bounded. */
#define ELEMS_PER_ADDR 256

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void dns_guard_done(struct dns_guard *g)
{
	free(g->elems);
	g->elems = NULL;
	g->n_elems = g->cap_elems = 0;
	free(g->plan);
	g->plan = NULL;
	g->cap_plan = 0;
}

/* The plan's room for n updates, kept across learns so that an answer allocates nothing. */
static struct egress_elem_update *plan_reserve(struct dns_guard *g, size_t n)
{
	struct egress_elem_update *p;

	if (n <= g->cap_plan)
		return g->plan;
	p = reallocarray(g->plan, n, sizeof(*p));
	if (!p)
		return NULL;
	g->plan = p;
	g->cap_plan = n;
	return p;
}

static struct dns_guard_elem *elem_find(struct dns_guard *g, const struct egress_elem *e)
{
	for (size_t i = 0; i < g->n_elems; i++) {
		const struct egress_elem *x = &g->elems[i].elem;

		if (x->set == e->set && x->key_len == e->key_len &&
		    !memcmp(x->key, e->key, e->key_len))
			return &g->elems[i];
	}
	return NULL;
}

/* Forgets elements the kernel surely expired; returns the room left under the cap. */
static size_t elems_room(struct dns_guard *g, uint64_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < g->n_elems; i++)
		if (g->elems[i].hi_ms > now)
			g->elems[k++] = g->elems[i];
	g->n_elems = k;
	return DNS_GUARD_MAX_ELEMS - g->n_elems;
}

static int elems_reserve(struct dns_guard *g, size_t n)
{
	struct dns_guard_elem *p;
	size_t cap = g->cap_elems ? g->cap_elems : 64;

	if (g->n_elems + n <= g->cap_elems)
		return 0;
	while (cap < g->n_elems + n)
		cap *= 2;
	p = reallocarray(g->elems, cap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	g->elems = p;
	g->cap_elems = cap;
	return 0;
}

/* A learn in progress: the writes to make and the lifetime the answer may promise. */
struct learn {
	struct egress_elem_update *u;
	size_t n_u;
	uint64_t now, ttl_ms, promise_ms;
};

/*
 * Plans the elements of one address: those that already live at least ttl are left alone
 * (never shortened), the others are (re)written with ttl. Returns -ENOSPC at the cap.
 */
static int plan_addr(struct dns_guard *g, struct learn *l, const struct dns_guard_plan *plan,
		     const struct policy_addr *a, size_t *room)
{
	struct egress_elem e[ELEMS_PER_ADDR];
	size_t fresh = 0;
	int n;

	n = egress_port_elems(a, plan->ports, plan->n_ports, e, ELEMS_PER_ADDR);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		fresh += !elem_find(g, &e[i]);
	if (fresh > *room)
		return -ENOSPC;
	*room -= fresh;
	for (int i = 0; i < n; i++) {
		struct dns_guard_elem *t = elem_find(g, &e[i]);

		if (t && t->lo_ms >= l->now + l->ttl_ms)
			continue;
		l->u[l->n_u++] = (struct egress_elem_update){ .elem = e[i],
							      .timeout_ms = l->ttl_ms,
							      .replace = t && t->hi_ms > l->now };
	}
	return 0;
}

/*
 * Writes the plan. Should a replace fail (an element expired in between, or a kernel that
 * cannot delete and re-add in one batch), plain adds follow; since a plain add may then
 * keep an element's old lifetime, the answer promises no more than what it had left.
 */
static int learn_commit(struct dns_guard *g, struct learn *l)
{
	uint64_t ack;
	int r;

	r = egress_update_elems(g->nft, l->u, l->n_u);
	for (size_t i = 0; r < 0 && i < l->n_u; i++)
		if (l->u[i].replace) {
			for (size_t k = 0; k < l->n_u; k++) {
				struct dns_guard_elem *t = elem_find(g, &l->u[k].elem);

				l->u[k].replace = false;
				if (t && t->lo_ms > l->now)
					l->promise_ms = MIN(l->promise_ms, t->lo_ms - l->now);
			}
			r = egress_update_elems(g->nft, l->u, l->n_u);
		}
	if (r < 0)
		return r;
	ack = now_ms();
	for (size_t i = 0; i < l->n_u; i++) {
		struct dns_guard_elem *t = elem_find(g, &l->u[i].elem);

		if (!t) {
			t = &g->elems[g->n_elems++];
			*t = (struct dns_guard_elem){ .elem = l->u[i].elem };
		}
		t->lo_ms = MAX(t->lo_ms, l->now + l->ttl_ms);
		t->hi_ms = MAX(t->hi_ms, ack + l->ttl_ms);
	}
	return 0;
}

/*
 * Learns the accepted addresses (but those a cidr rule takes); clears the bits of those
 * withheld at the cap.
 */
static int learn_addrs(struct dns_guard *g, const struct dns_ipc_request *req,
		       const struct policy_addr *addrs, struct dns_guard_plan *plan,
		       struct dns_ipc_reply *reply, bool *full)
{
	struct learn l = { .now = now_ms(), .ttl_ms = (uint64_t)reply->ttl * 1000 };
	size_t room, k = 0;
	int r;

	l.u = plan_reserve(g, (size_t)__builtin_popcountll(reply->accepted) * ELEMS_PER_ADDR);
	if (!l.u)
		return -ENOMEM;
	l.promise_ms = l.ttl_ms;
	room = elems_room(g, l.now);
	for (uint32_t i = 0; i < req->n_addrs && i < DNS_IPC_MAX_ADDRS; i++) {
		if (!(reply->accepted & (1ULL << i)))
			continue;
		if (plan->cidr & (1ULL << i)) {
			k++;
			continue;
		}
		r = plan_addr(g, &l, plan, &addrs[k++], &room);
		if (r == -ENOSPC) {
			reply->accepted &= ~(1ULL << i);
			plan->why[i] = DNS_WITHHELD_FULL;
			*full = true;
			continue;
		}
		if (r < 0)
			return r;
	}
	r = elems_reserve(g, l.n_u);
	if (r >= 0 && l.n_u > 0)
		r = learn_commit(g, &l);
	if (r < 0)
		return r;
	reply->ttl = (uint32_t)(l.promise_ms / 1000);
	return 0;
}

/* The answer's addresses that the task does not get, and why; the verdict to record. */
static enum dns_verdict withheld(const struct dns_ipc_request *req, uint64_t accepted,
				 const struct dns_guard_plan *plan, struct dns_decision *d,
				 struct dns_ipc_addr *ret_withheld)
{
	unsigned why = 0;

	for (uint32_t i = 0; i < req->n_addrs && i < DNS_IPC_MAX_ADDRS; i++) {
		const struct dns_ipc_addr *a = &req->addrs[i];

		if ((accepted & (1ULL << i)) || (a->family != AF_INET && a->family != AF_INET6))
			continue;
		ret_withheld[d->n_withheld++] = *a;
		why |= plan->why[i] ? plan->why[i] : DNS_WITHHELD_FULL;
	}
	d->withheld = ret_withheld;
	d->withheld_reason = dns_withheld_to_string(why);
	return d->n_addrs == 0 && d->n_withheld > 0 ? DNS_VERDICT_WITHHELD : DNS_VERDICT_ALLOWED;
}

static int handle_learn(struct dns_guard *g, int fd, const struct dns_ipc_request *req)
{
	struct policy_addr addrs[DNS_IPC_MAX_ADDRS];
	struct dns_ipc_addr learned[DNS_IPC_MAX_ADDRS], held[DNS_IPC_MAX_ADDRS];
	struct dns_decision d = { .addrs = learned };
	struct dns_guard_plan plan;
	struct dns_ipc_reply reply;
	bool full = false;
	int n, r = 0;

	n = dns_guard_check_plan(g, req, &reply, addrs, &plan);
	if (n < 0)
		reply.error = n;
	else if (n > 0)
		r = learn_addrs(g, req, addrs, &plan, &reply, &full);
	if (r < 0) {
		reply.error = r;
		reply.accepted = 0;
	} else if (n > 0) {
		g->learned++;
	}
	/*
	 * Only now, with the addresses in the sets, may the answer go to the task. Never
	 * blocking: a proxy that does not read its replies would otherwise freeze the
	 * supervisor's loop (deadline, signals); a stalled proxy is a broken one.
	 */
	if (send(fd, &reply, sizeof(reply), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return errno == EAGAIN ? -EPIPE : -errno;

	for (uint32_t i = 0; i < req->n_addrs && i < DNS_IPC_MAX_ADDRS; i++)
		if (reply.accepted & (1ULL << i)) {
			learned[d.n_addrs] = req->addrs[i];
			learned[d.n_addrs++].ttl = reply.ttl;
		}
	if (full)
		report(g, req, DNS_VERDICT_SET_FULL, NULL, 0);
	if (reply.error < 0) {
		report(g, req, DNS_VERDICT_UPSTREAM_ERROR, NULL, 0);
		return 0;
	}
	/* The names were checked: what governed the answer goes into the record. */
	d.chain = req->chain;
	d.n_chain = req->n_chain;
	d.ports = plan.ports;
	d.n_ports = plan.n_ports;
	report_decision(g, &d, req, withheld(req, reply.accepted, &plan, &d, held));
	return 0;
}

int dns_guard_handle(struct dns_guard *g, int ipc_fd)
{
	static struct dns_ipc_request req;
	ssize_t n;

	n = recv(ipc_fd, &req, sizeof(req), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n != sizeof(req))
		return 0; /* not ours: ignore */
	/*
	 * The proxy parses hostile input and may be compromised: a name it sends is reported
	 * (and printed) whatever the request, so it must be a terminated, valid name first.
	 */
	if (!memchr(req.qname, 0, DNS_NAME_SIZE) || (req.qname[0] && !dns_name_is_valid(req.qname)))
		strcpy(req.qname, "(invalid)");

	if (req.type == DNS_IPC_LEARN)
		return handle_learn(g, ipc_fd, &req);
	if (req.type == DNS_IPC_SOCKETS)
		return dns_proxy_send_sockets(ipc_fd, &g->upstream, req.count, &g->udp_budget);
	if (req.type == DNS_IPC_TCP)
		return dns_proxy_send_tcp_socket(ipc_fd, &g->upstream, &g->tcp_budget);
	/*
	 * The outcomes of a learn are the guard's own, never the proxy's word: the record
	 * keeps room for them that a flood of other verdicts cannot take.
	 */
	if (req.type != DNS_IPC_DECISION || req.verdict < 0 || req.verdict >= _DNS_VERDICT_MAX ||
	    req.verdict == DNS_VERDICT_ALLOWED || req.verdict == DNS_VERDICT_WITHHELD ||
	    req.verdict == DNS_VERDICT_SET_FULL)
		return 0;
	report(g, &req, (enum dns_verdict)req.verdict, NULL, 0);
	return 0;
}
