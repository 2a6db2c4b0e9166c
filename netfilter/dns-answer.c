/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The proxy's answer path (see dns-answer.h): pure, so that it can be fuzzed. */
#include <string.h>
#include <sys/socket.h>

#include "dns-answer.h"
#include "egress.h"
#include "macro.h"

/* Follows the CNAME chain from qname within allowed names into out and req. */
static bool collect_answer(const struct policy_network *net, const struct dns_message *in,
			   const char *qname, uint16_t qtype, struct dns_message *out,
			   struct dns_ipc_request *req)
{
	const char *cur = qname;

	out->n_answers = 0;
	/* A fresh request: nothing of an earlier decision (its rcode) may stick to this one. */
	memset(req, 0, sizeof(*req));
	for (size_t hop = 0; hop <= DNS_PROXY_MAX_CHAIN; hop++) {
		const struct dns_rr *cname = NULL;

		for (size_t i = 0; i < in->n_answers && !cname; i++)
			if (in->answers[i].type == DNS_TYPE_CNAME &&
			    streq(in->answers[i].name, cur))
				cname = &in->answers[i];
		if (!cname)
			break;
		if (hop == DNS_PROXY_MAX_CHAIN || !egress_name_allowed(net, cname->target))
			return false;
		out->answers[out->n_answers++] = *cname;
		strcpy(req->chain[req->n_chain++], cname->target);
		cur = cname->target;
	}
	for (size_t i = 0; i < in->n_answers && req->n_addrs < DNS_IPC_MAX_ADDRS; i++) {
		const struct dns_rr *rr = &in->answers[i];
		struct dns_ipc_addr *a = &req->addrs[req->n_addrs];

		if (rr->type != qtype || !streq(rr->name, cur))
			continue;
		a->family = rr->type == DNS_TYPE_A ? AF_INET : AF_INET6;
		memcpy(a->addr, rr->addr, sizeof(a->addr));
		a->ttl = rr->ttl;
		req->n_addrs++;
	}
	return true;
}

int dns_answer_prepare(const struct policy_network *net, const struct dns_message *in,
		       const char *qname, uint16_t qtype, bool tcp, struct dns_message *out,
		       struct dns_ipc_request *req, enum dns_verdict *ret_verdict)
{
	int rcode = dns_message_rcode(in);

	if (rcode != DNS_RCODE_NOERROR || (in->flags & DNS_FLAG_TC)) {
		out->n_answers = 0;
		*ret_verdict = DNS_VERDICT_UPSTREAM_RCODE;
		return rcode ? rcode : DNS_RCODE_SERVFAIL;
	}
	if (!collect_answer(net, in, qname, qtype, out, req)) {
		out->n_answers = 0;
		*ret_verdict = DNS_VERDICT_CNAME_DENIED;
		return DNS_RCODE_NXDOMAIN;
	}
	req->type = DNS_IPC_LEARN;
	strcpy(req->qname, qname);
	req->qtype = qtype;
	req->count = 1;
	req->rule = -1;
	req->tcp = tcp;
	return DNS_RCODE_NOERROR;
}

void dns_answer_finish(struct dns_message *out, const struct dns_ipc_request *req,
		       const struct dns_ipc_reply *reply)
{
	size_t n = out->n_answers;

	for (size_t i = 0; i < n; i++)
		out->answers[i].ttl = reply->ttl;
	for (uint32_t i = 0; i < req->n_addrs && n < DNS_MAX_ANSWERS; i++) {
		struct dns_rr *rr = &out->answers[n];

		if (!(reply->accepted & (1ULL << i)))
			continue;
		strcpy(rr->name, req->n_chain ? req->chain[req->n_chain - 1] : req->qname);
		rr->type = req->qtype;
		rr->ttl = reply->ttl;
		memcpy(rr->addr, req->addrs[i].addr, sizeof(rr->addr));
		n++;
	}
	/* Every address withheld (verdict "withheld"): an empty answer, not the chain alone. */
	if (req->n_addrs > 0 && n == out->n_answers)
		n = 0;
	out->n_answers = n;
}

int dns_answer_build(struct dns_message *out, uint16_t id, uint16_t rd, const char *qname,
		     uint16_t qtype, int rcode, bool tcp, uint8_t *buf, size_t size)
{
	int n;

	out->id = id;
	out->flags = (uint16_t)(DNS_FLAG_QR | DNS_FLAG_RA | rd | (rcode & DNS_FLAG_RCODE));
	strcpy(out->qname, qname);
	out->qtype = qtype;
	out->qclass = DNS_CLASS_IN;
	n = dns_build(out, buf, size);
	if (n > DNS_UDP_MAX_MESSAGE && !tcp) {
		out->flags |= DNS_FLAG_TC;
		out->n_answers = 0;
		n = dns_build(out, buf, size);
	}
	return n;
}
