/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The privileged half of the DNS view: everything the unprivileged proxy asks for is
 * checked again here before it reaches the kernel, since a compromised proxy may lie.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

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

int dns_guard_check(const struct dns_guard *g, const struct dns_ipc_request *req,
		    struct dns_ipc_reply *reply, struct policy_addr *ret_addrs)
{
	uint32_t ttl = g->ttl_max;
	int n = 0;

	*reply = (struct dns_ipc_reply){ .seq = req->seq };
	if (!name_ok(req->qname) || !egress_name_allowed(g->net, req->qname))
		return -EPERM;
	if (req->n_chain > DNS_PROXY_MAX_CHAIN || req->n_addrs > DNS_IPC_MAX_ADDRS)
		return -EPERM;
	for (uint32_t i = 0; i < req->n_chain; i++)
		if (!name_ok(req->chain[i]) || !egress_name_allowed(g->net, req->chain[i]))
			return -EPERM;

	for (uint32_t i = 0; i < req->n_addrs; i++) {
		const struct dns_ipc_addr *a = &req->addrs[i];
		struct policy_addr pa = { .family = a->family };

		if (a->family != AF_INET && a->family != AF_INET6)
			continue;
		memcpy(pa.addr, a->addr, sizeof(pa.addr));
		if (!egress_addr_learnable(g->net, &pa))
			continue;
		ttl = MIN(ttl, a->ttl);
		ret_addrs[n++] = pa;
		reply->accepted |= 1u << i;
	}
	reply->ttl = MAX(ttl, g->ttl_min);
	reply->ttl = MIN(reply->ttl, g->ttl_max);
	return n;
}

static void report(struct dns_guard *g, const struct dns_ipc_request *req, enum dns_verdict v,
		   const struct dns_ipc_addr *addrs, size_t n)
{
	struct dns_decision d = {
		.qname = req->qname, .qtype = req->qtype, .verdict = v, .rcode = req->rcode,
		.count = req->count ? req->count : 1, .addrs = addrs, .n_addrs = n,
	};

	if (g->decision)
		g->decision(&d, g->userdata);
}

static int handle_learn(struct dns_guard *g, int fd, const struct dns_ipc_request *req)
{
	struct policy_addr addrs[DNS_IPC_MAX_ADDRS];
	struct dns_ipc_addr learned[DNS_IPC_MAX_ADDRS];
	struct dns_ipc_reply reply;
	size_t n_learned = 0;
	int n, r = 0;

	n = dns_guard_check(g, req, &reply, addrs);
	if (n < 0)
		reply.error = n;
	else if (n > 0)
		r = egress_learn(g->nft, g->net, req->qname, addrs, (size_t)n, reply.ttl * 1000);
	if (r < 0) {
		reply.error = r;
		reply.accepted = 0;
	} else if (n > 0) {
		g->learned++;
	}
	/* Only now, with the addresses in the sets, may the answer go to the task. */
	if (send(fd, &reply, sizeof(reply), MSG_NOSIGNAL) < 0)
		return -errno;

	for (uint32_t i = 0; i < req->n_addrs && i < DNS_IPC_MAX_ADDRS; i++)
		if (reply.accepted & (1u << i)) {
			learned[n_learned] = req->addrs[i];
			learned[n_learned++].ttl = reply.ttl;
		}
	report(g, req, reply.error < 0 ? DNS_VERDICT_UPSTREAM_ERROR : DNS_VERDICT_ALLOWED,
	       learned, n_learned);
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

	if (req.type == DNS_IPC_LEARN)
		return handle_learn(g, ipc_fd, &req);
	if (req.type != DNS_IPC_DECISION || req.verdict < 0 || req.verdict >= _DNS_VERDICT_MAX ||
	    req.verdict == DNS_VERDICT_ALLOWED)
		return 0;
	if (!memchr(req.qname, 0, DNS_NAME_SIZE) || (req.qname[0] && !dns_name_is_valid(req.qname)))
		strcpy(req.qname, "(invalid)");
	report(g, &req, (enum dns_verdict)req.verdict, NULL, 0);
	return 0;
}
