/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The DNS decisions of a run's record, bounded (run-net-dns.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "run-net-dns.h"

int run_net_dns_init(struct run_net_dns_list *l)
{
	*l = (struct run_net_dns_list){ .e = calloc(RUN_NET_MAX_DNS_RECORDS, sizeof(*l->e)) };
	return l->e ? 0 : -ENOMEM;
}

void run_net_dns_done(struct run_net_dns_list *l)
{
	free(l->e);
	*l = (struct run_net_dns_list){};
}

/* Answers for allowed names: what the task got, and what changed the sets. */
static bool is_answered(enum dns_verdict v)
{
	return v == DNS_VERDICT_ALLOWED || v == DNS_VERDICT_WITHHELD || v == DNS_VERDICT_SET_FULL;
}

/* Adds a to list (of *n, at most max) unless it is there already. */
static void addr_merge(struct dns_ipc_addr *list, size_t *n, size_t max,
		       const struct dns_ipc_addr *a)
{
	for (size_t i = 0; i < *n; i++)
		if (list[i].family == a->family && !memcmp(list[i].addr, a->addr, 16))
			return;
	if (*n < max)
		list[(*n)++] = *a;
}

/* The entry for d's name, type, transport and outcome: repeated queries share one. */
static struct run_net_dns *entry(struct run_net_dns_list *l, const struct dns_decision *d,
				 uint64_t now)
{
	const char *name = d->qname ? d->qname : "";
	bool answered = is_answered(d->verdict);
	struct run_net_dns *e;

	for (size_t i = l->n; i-- > 0;) {
		e = &l->e[i];
		if (e->qtype == d->qtype && e->verdict == d->verdict && e->rcode == d->rcode &&
		    e->tcp == d->tcp && streq(e->name, name))
			return e;
	}
	if (l->n >= RUN_NET_MAX_DNS_RECORDS ||
	    (!answered && l->n_other >= RUN_NET_MAX_DNS_RECORDS - RUN_NET_DNS_RESERVED))
		return NULL;
	l->n_other += !answered;
	e = &l->e[l->n++];
	*e = (struct run_net_dns){ .qtype = d->qtype,
				   .verdict = d->verdict,
				   .rcode = d->rcode,
				   .tcp = d->tcp,
				   .first_ms = now };
	snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

/* What governed the answer: its chain and ports (only the guard's own decisions carry them). */
static void entry_governed(struct run_net_dns *e, const struct dns_decision *d)
{
	if (!d->ports)
		return;
	e->n_chain = MIN(d->n_chain, (size_t)DNS_PROXY_MAX_CHAIN);
	for (size_t i = 0; i < e->n_chain; i++)
		snprintf(e->chain[i], sizeof(e->chain[i]), "%s", d->chain[i]);
	e->n_ports = MIN(d->n_ports, ELEMENTSOF(e->ports));
	memcpy(e->ports, d->ports, e->n_ports * sizeof(e->ports[0]));
}

struct run_net_dns *run_net_dns_add(struct run_net_dns_list *l, const struct dns_decision *d,
				    uint64_t now)
{
	struct run_net_dns *e;

	if (d->verdict < 0 || d->verdict >= _DNS_VERDICT_MAX)
		return NULL;
	e = entry(l, d, now);
	if (!e) {
		l->unrecorded[d->verdict] += d->count;
		return NULL;
	}
	e->count += d->count;
	e->last_ms = now;
	for (size_t i = 0; i < d->n_addrs && i < DNS_IPC_MAX_ADDRS; i++) {
		addr_merge(e->addrs, &e->n_addrs, DNS_IPC_MAX_ADDRS, &d->addrs[i]);
		e->ttl = d->addrs[i].ttl;
	}
	for (size_t i = 0; i < d->n_withheld; i++)
		addr_merge(e->withheld, &e->n_withheld, RUN_NET_MAX_WITHHELD, &d->withheld[i]);
	if (d->withheld_reason)
		e->withheld_reason = d->withheld_reason;
	entry_governed(e, d);
	return e;
}

uint64_t run_net_dns_unrecorded(const struct run_net_dns_list *l)
{
	uint64_t n = 0;

	for (size_t v = 0; v < _DNS_VERDICT_MAX; v++)
		n += l->unrecorded[v];
	return n;
}

/* Sets key of o to v, taking v; a NULL v (out of memory) fails: -ENOMEM, never a gap. */
static int put(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

/* Appends v to a, taking it; the whole array is released on failure: NULL. */
static json_t *push(json_t *a, json_t *v)
{
	if (!a || !v || json_array_append_new(a, v) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *addrs_to_json(const struct dns_ipc_addr *addrs, size_t n)
{
	json_t *a = json_array();
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; a && i < n; i++) {
		if (!inet_ntop(addrs[i].family, addrs[i].addr, buf, sizeof(buf)))
			snprintf(buf, sizeof(buf), "?");
		a = push(a, json_string(buf));
	}
	return a;
}

/* "443/tcp", "53/udp"; "*" for every port. */
static json_t *ports_to_json(const struct egress_port *ports, size_t n)
{
	json_t *a = json_array();
	char buf[16];

	for (size_t i = 0; a && i < n; i++) {
		const char *proto = ports[i].proto == IPPROTO_UDP ? "udp" : "tcp";

		if (ports[i].port)
			snprintf(buf, sizeof(buf), "%u/%s", ports[i].port, proto);
		else
			snprintf(buf, sizeof(buf), "*/%s", proto);
		a = push(a, json_string(buf));
	}
	return a;
}

static json_t *chain_to_json(const struct run_net_dns *e)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < e->n_chain; i++)
		a = push(a, json_string(e->chain[i]));
	return a;
}

/* The keys of an answered entry: addresses, ports, chain, withheld. 0 or -ENOMEM. */
static int answer_to_json(json_t *o, const struct run_net_dns *e)
{
	bool allowed = e->verdict == DNS_VERDICT_ALLOWED;

	if (allowed && (put(o, "addresses", addrs_to_json(e->addrs, e->n_addrs)) < 0 ||
			put(o, "ttl", json_integer(e->ttl)) < 0))
		return -ENOMEM;
	if ((allowed || e->verdict == DNS_VERDICT_WITHHELD) &&
	    (put(o, "ports", ports_to_json(e->ports, e->n_ports)) < 0 ||
	     (e->n_chain > 0 && put(o, "chain", chain_to_json(e)) < 0)))
		return -ENOMEM;
	if (e->n_withheld > 0 &&
	    (put(o, "withheld", addrs_to_json(e->withheld, e->n_withheld)) < 0 ||
	     put(o, "reason",
		 json_string(e->withheld_reason ? e->withheld_reason : "denied-range")) < 0))
		return -ENOMEM;
	return 0;
}

static json_t *entry_to_json(const struct run_net_dns *e)
{
	const char *type = dns_type_to_string(e->qtype), *rcode = dns_rcode_to_string(e->rcode);
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I}", "name", e->name, "verdict",
			      dns_verdict_to_string(e->verdict), "count", (json_int_t)e->count,
			      "transport", e->tcp ? "tcp" : "udp", "first_ms",
			      (json_int_t)e->first_ms, "last_ms", (json_int_t)e->last_ms);

	if (o && (put(o, "type", type ? json_string(type) : json_integer(e->qtype)) < 0 ||
		  (rcode && put(o, "rcode", json_string(rcode)) < 0) || answer_to_json(o, e) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *run_net_dns_to_json(const struct run_net_dns_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++)
		a = push(a, entry_to_json(&l->e[i]));
	return a;
}

json_t *run_net_dns_unrecorded_to_json(const struct run_net_dns_list *l)
{
	json_t *o = json_object();

	for (int v = 0; o && v < _DNS_VERDICT_MAX; v++) {
		const char *verdict = dns_verdict_to_string((enum dns_verdict)v);

		/* A NULL value fails the set too. */
		if (l->unrecorded[v] > 0 &&
		    json_object_set_new(o, verdict, json_integer((json_int_t)l->unrecorded[v])) <
			    0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
