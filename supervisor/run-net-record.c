/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a networked run sees while its task runs, and its record: the denied connection
 * attempts (nflog, in the task's table and the host's), the DNS proxy's decisions and how
 * the proxy ended, and the record's "network" object made of them. Part of the network
 * module, airlock-net.so, like run-net.c (run-net-internal.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "dns-proxy.h"
#include "log.h"
#include "loop.h"
#include "nflog.h"
#include "node-config.h"
#include "run-net-dns.h"
#include "run-net-internal.h"
#include "time-util.h"

void run_net_addr_string(int family, const uint8_t *addr, char *buf, size_t len)
{
	if (!inet_ntop(family, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static const char *proto_string(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "other";
	}
}

static void on_denied(const struct egress_denied *d, void *userdata)
{
	struct run_net *n = userdata;
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < n->n_denied; i++) {
		struct run_net_denied *e = &n->denied[i];

		if (e->d.daddr.family == d->daddr.family && e->d.proto == d->proto &&
		    e->d.dport == d->dport && e->d.host == d->host &&
		    e->d.flow_limit == d->flow_limit &&
		    !memcmp(e->d.daddr.addr, d->daddr.addr, 16)) {
			e->count++;
			return;
		}
	}
	if (n->n_denied >= RUN_NET_MAX_DENIED) {
		n->denied_other++;
		return;
	}
	n->denied[n->n_denied++] = (struct run_net_denied){ .d = *d, .count = 1 };
	run_net_addr_string(d->daddr.family, d->daddr.addr, a, sizeof(a));
	log_task_warning("network: denied %s connection to %s%s%s:%u%s", proto_string(d->proto),
			 d->daddr.family == AF_INET6 ? "[" : "", a,
			 d->daddr.family == AF_INET6 ? "]" : "", d->dport,
			 d->flow_limit	   ? " (over the run's flow limits)"
			 : d->host	   ? " (the host itself)"
			 : d->denied_range ? " (private, link-local or metadata range)"
					   : "");
}

/*
 * The host table is shared by all runs; this run's log group gets only what its slot's
 * chains log. Still, only what came in on this run's own veth counts.
 */
static void on_host_denied(const struct egress_denied *d, void *userdata)
{
	struct run_net *n = userdata;

	if ((d->host || d->flow_limit) && n->link->host_ifindex > 0 &&
	    d->indev == (uint32_t)n->link->host_ifindex)
		on_denied(d, userdata);
}

int run_net_on_nflog(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_net *n = userdata;
	int r = egress_nflog_read(fd, RUN_NET_READS_PER_WAKEUP,
				  fd == n->host_nflog_fd ? on_host_denied : on_denied, userdata);

	if (r < 0)
		log_warning_errno(r, "Failed to read denied connection attempts, ignoring: %m");
	return 0;
}

/* The first refusal under a wildcard rule, per reason, is printed once. */
static void on_wildcard(struct run_net *n, const struct dns_decision *d)
{
	const struct policy_egress_rule *r = &n->net->egress[d->rule];
	struct run_net_wild *w = &n->wild[d->rule];

	if (d->verdict == DNS_VERDICT_WILDCARD_BUDGET && w->budget++ == 0)
		log_warning("wildcard %s: name budget of %" PRIu32
			    " spent, further new names get NXDOMAIN",
			    r->host, r->names);
	if (d->verdict == DNS_VERDICT_WILDCARD_LENGTH && w->length++ == 0)
		log_warning("wildcard %s: a name whose '*' part is over %" PRIu32
			    " bytes got NXDOMAIN, as will any other",
			    r->host, r->match_length);
}

void run_net_on_decision(const struct dns_decision *d, void *userdata)
{
	struct run_net *n = userdata;

	if (d->rule >= 0 && (size_t)d->rule < n->net->n_egress && n->wild)
		on_wildcard(n, d);
	(void)run_net_dns_add(&n->dns, d, now_mono_ms() - n->start_ms);
}

/* Whether the proxy closed its end of the guard's socket: only its exit does that. */
static bool proxy_hung_up(int fd)
{
	struct pollfd p = { .fd = fd };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

/*
 * The proxy died, or is broken (its socket failed, e.g. a stalled proxy): it is killed and
 * reaped, and the run goes on without DNS. Its listeners were its own, in the task's
 * namespace, so they are gone with it: the task's queries get "port unreachable", and none
 * reaches the host. The record says when and how (network.dns_proxy).
 */
static void net_proxy_gone(struct run_net *n)
{
	struct run_net_proxy_end *e = &n->proxy_end;
	char how[64];
	int r;

	(void)loop_remove(n->loop, n->proxy->ipc_fd);
	e->broken = !proxy_hung_up(n->proxy->ipc_fd);
	r = dns_proxy_reap(n->proxy, &e->status);
	if (r < 0) /* reaped already: how it ended is not known */
		e->broken = true;
	e->dead = true;
	e->at_ms = now_mono_ms() - n->start_ms;
	if (r < 0)
		snprintf(how, sizeof(how), "is gone");
	else if (e->broken)
		snprintf(how, sizeof(how), "stopped serving the guard and was killed");
	else if (WIFSIGNALED(e->status) && sigabbrev_np(WTERMSIG(e->status)))
		snprintf(how, sizeof(how), "was killed by signal %d (SIG%s)", WTERMSIG(e->status),
			 sigabbrev_np(WTERMSIG(e->status)));
	else if (WIFSIGNALED(e->status))
		snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(e->status));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(e->status));
	log_task_warning("network: the DNS proxy (pid %d) %s; the task has no DNS from now on",
			 (int)e->pid, how);
}

int run_net_on_proxy(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_net *n = userdata;
	int r;

	for (unsigned i = 0; i < RUN_NET_READS_PER_WAKEUP; i++) {
		r = dns_guard_handle(&n->guard, fd);
		if (r == -EAGAIN)
			return 0;
		if (r < 0) {
			net_proxy_gone(n);
			return 0;
		}
	}
	return 0; /* more is queued: epoll reports it again, after the other sources */
}

/*
 * Asks the proxy for its final report and reads it, to the proxy's EOF: 0, -ETIMEDOUT past
 * DNS_PROXY_FINAL_MS, -E2BIG past DNS_PROXY_FINAL_READS messages (the proxy is the process
 * that parses the task's packets: what is read of it stays bounded), or -errno. Counts the
 * messages read in *n_read.
 */
static int proxy_final_read(struct run_net *n, unsigned *n_read)
{
	uint64_t end = now_mono_ms() + DNS_PROXY_FINAL_MS;
	int fd = n->proxy->ipc_fd, r;

	r = dns_proxy_request_final(n->proxy);
	if (r < 0)
		return r;
	while (*n_read < DNS_PROXY_FINAL_READS) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_mono_ms();

		if (now >= end) /* also for a proxy that keeps its queue full */
			return -ETIMEDOUT;
		r = dns_guard_handle(&n->guard, fd);
		if (r == -EPIPE) /* EOF, or the proxy stopped reading: told apart by its exit */
			return 0;
		if (r >= 0)
			(*n_read)++;
		else if (r != -EAGAIN)
			return r;
		else if (poll(&p, 1, (int)(end - now)) < 0 && errno != EINTR)
			return -errno;
	}
	return -E2BIG;
}

void run_net_conclude(struct run_net *n)
{
	uint64_t start = now_mono_ms();
	unsigned n_read = 0;
	int r, status = 0;

	if (!n || !n->proxy || n->proxy_end.dead || n->final != RUN_NET_FINAL_PENDING)
		return;
	(void)loop_remove(n->loop, n->proxy->ipc_fd);
	r = proxy_final_read(n, &n_read);
	/* Only after its EOF: SIGKILL for a proxy that has not ended, none for one that has. */
	if (dns_proxy_reap(n->proxy, &status) < 0 && r >= 0)
		r = -ECHILD;
	if (r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = -EPROTO;
	n->final = r >= 0 ? RUN_NET_FINAL_RECEIVED : RUN_NET_FINAL_MISSING;
	log_debug("network: the DNS proxy's final report: %u message(s) in %" PRIu64 " ms, %s",
		  n_read, now_mono_ms() - start, r >= 0 ? "whole" : "missing");
	if (r == -ETIMEDOUT)
		log_task_warning("network: the DNS proxy sent no final report within %d ms: the "
				 "record's DNS counts may be short",
				 DNS_PROXY_FINAL_MS);
	else if (r == -E2BIG)
		log_task_warning("network: the DNS proxy's final report was over %d messages: the "
				 "record's DNS counts may be short",
				 DNS_PROXY_FINAL_READS);
	else if (r == -EPROTO)
		log_task_warning("network: the DNS proxy ended without a whole final report (%s "
				 "%d): the record's DNS counts may be short",
				 WIFSIGNALED(status) ? "signal" : "exit status",
				 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	else if (r < 0)
		log_internal(LOG_LEVEL_WARNING, r, true,
			     "network: the DNS proxy ended without a whole final report (%m): the "
			     "record's DNS counts may be short");
}

static const char *final_to_string(const struct run_net *n)
{
	if (n->proxy_end.dead)
		return "proxy-died";
	return n->final == RUN_NET_FINAL_RECEIVED  ? "received"
	       : n->final == RUN_NET_FINAL_MISSING ? "missing"
						   : "pending";
}

/* Appends v to a, taking it; the whole array goes on failure (out of memory): NULL. */
static json_t *json_push(json_t *a, json_t *v)
{
	if (!a || !v || json_array_append_new(a, v) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *wildcards_to_json(const struct run_net *n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n->net->n_egress; i++) {
		const struct policy_egress_rule *r = &n->net->egress[i];

		if (!r->wildcard)
			continue;
		a = json_push(a, json_pack("{s:s, s:I, s:I, s:I, s:I}", "host", r->host, "names",
					   (json_int_t)r->names, "match_length",
					   (json_int_t)r->match_length, "refused_budget",
					   (json_int_t)(n->wild ? n->wild[i].budget : 0),
					   "refused_length",
					   (json_int_t)(n->wild ? n->wild[i].length : 0)));
	}
	return a;
}

/* The cidr rules that hold a whole address pool: reached, except for the pool. */
static json_t *pool_excluded_to_json(const struct run_net *n)
{
	char at[64], cidr[INET6_ADDRSTRLEN + 4], pool[INET6_ADDRSTRLEN + 4], a[INET6_ADDRSTRLEN];
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n->net->n_egress; i++) {
		const struct policy_egress_rule *r = &n->net->egress[i];
		const struct node_prefix *p;

		if (!r->is_cidr ||
		    node_network_pool_overlap(n->cfg, &r->cidr, r->prefixlen) != NODE_POOL_HOLDS)
			continue;
		p = r->cidr.family == AF_INET ? &n->cfg->pool4 : &n->cfg->pool6;
		snprintf(at, sizeof(at), "/network/egress/%zu", i);
		run_net_addr_string(r->cidr.family, r->cidr.addr, a, sizeof(a));
		snprintf(cidr, sizeof(cidr), "%s/%u", a, r->prefixlen);
		run_net_addr_string(p->addr.family, p->addr.addr, a, sizeof(a));
		snprintf(pool, sizeof(pool), "%s/%u", a, p->prefixlen);
		arr = json_push(
			arr, json_pack("{s:s, s:s, s:s}", "rule", at, "cidr", cidr, "pool", pool));
	}
	return arr;
}

static const char *denied_reason(const struct egress_denied *d)
{
	if (d->flow_limit)
		return "flow-limit"; /* the run's flow limits, in either table */
	if (d->host)
		return "host"; /* the host table: the host itself, or its NAT redirected it */
	return d->denied_range ? "denied-range" : "not-allowed";
}

static json_t *denied_to_json(const struct run_net *n)
{
	json_t *a = json_array();
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; a && i < n->n_denied; i++) {
		const struct run_net_denied *e = &n->denied[i];

		run_net_addr_string(e->d.daddr.family, e->d.daddr.addr, buf, sizeof(buf));
		a = json_push(a, json_pack("{s:s, s:i, s:s, s:I, s:s}", "destination", buf, "port",
					   (int)e->d.dport, "protocol", proto_string(e->d.proto),
					   "count", (json_int_t)e->count, "reason",
					   denied_reason(&e->d)));
	}
	return a;
}

/* network.dns_proxy: running until the run's end, or when and how it ended before. */
static json_t *proxy_to_json(const struct run_net *n)
{
	const struct run_net_proxy_end *e = &n->proxy_end;
	json_int_t refused =
		(json_int_t)(n->guard.udp_budget.refused + n->guard.tcp_budget.refused);
	json_t *o;

	json_int_t dropped = (json_int_t)dns_proxy_queue_drops(n->proxy);

	if (!e->dead)
		return json_pack("{s:i, s:s, s:I, s:I}", "pid", (int)e->pid, "state", "running",
				 "sockets_refused", refused, "queries_dropped", dropped);
	o = json_pack("{s:i, s:s, s:I, s:I, s:I, s:s, s:s}", "pid", (int)e->pid, "state", "died",
		      "sockets_refused", refused, "queries_dropped", dropped, "died_ms",
		      (json_int_t)e->at_ms, "reason",
		      e->broken		       ? "broken"
		      : WIFSIGNALED(e->status) ? "killed"
					       : "exited",
		      "action", "dns-closed");
	/* A NULL value (out of memory) fails the set: the whole object goes, never a key. */
	if (o && ((WIFSIGNALED(e->status) &&
		   json_object_set_new(o, "signal", json_integer(WTERMSIG(e->status))) < 0) ||
		  (WIFEXITED(e->status) &&
		   json_object_set_new(o, "status", json_integer(WEXITSTATUS(e->status))) < 0))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *run_net_record_json(const struct run_net *n)
{
	char host[INET_ADDRSTRLEN], task[INET_ADDRSTRLEN], up[INET6_ADDRSTRLEN];
	char task6[INET6_ADDRSTRLEN];
	json_t *o, *excluded;

	if (!n || !n->link)
		return NULL;
	/* Attempts still queued in the kernel belong in the record too. */
	if (n->nflog_fd >= 0)
		(void)egress_nflog_read(n->nflog_fd, RUN_NET_READS_AT_END, on_denied, (void *)n);
	if (n->host_nflog_fd >= 0)
		(void)egress_nflog_read(n->host_nflog_fd, RUN_NET_READS_AT_END, on_host_denied,
					(void *)n);
	/* So do the proxy's messages still queued, such as its last rate-limited count. */
	for (unsigned i = 0; n->proxy && i < RUN_NET_READS_AT_END; i++)
		if (dns_guard_handle((struct dns_guard *)&n->guard, n->proxy->ipc_fd) < 0)
			break;
	run_net_addr_string(AF_INET, n->link->host_addr.addr, host, sizeof(host));
	run_net_addr_string(AF_INET, n->link->task_addr.addr, task, sizeof(task));
	run_net_addr_string(n->upstream.family, n->upstream.addr, up, sizeof(up));
	o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:I, s:I}", "enabled", 1,
		      "task_address", task, "resolver", host, "dns_upstream", up, "interface",
		      n->link->host_ifname, "dns", run_net_dns_to_json(&n->dns), "dns_unrecorded",
		      (json_int_t)run_net_dns_unrecorded(&n->dns), "dns_unrecorded_verdicts",
		      run_net_dns_unrecorded_to_json(&n->dns), "wildcards", wildcards_to_json(n),
		      "denied", denied_to_json(n), "denied_unrecorded", (json_int_t)n->denied_other,
		      "dns_sets_updates", (json_int_t)n->guard.learned);
	if (n->link->task_addr6.family == AF_INET6)
		run_net_addr_string(AF_INET6, n->link->task_addr6.addr, task6, sizeof(task6));
	excluded = pool_excluded_to_json(n);
	if (o &&
	    (!excluded ||
	     (json_array_size(excluded) > 0 && json_object_set(o, "pool_excluded", excluded) < 0) ||
	     (n->proxy_end.pid > 0 && json_object_set_new(o, "dns_proxy", proxy_to_json(n)) < 0) ||
	     (n->final != RUN_NET_FINAL_NONE &&
	      json_object_set_new(o, "dns_final_report", json_string(final_to_string(n))) < 0) ||
	     (n->link->task_addr6.family == AF_INET6 &&
	      json_object_set_new(o, "task_address6", json_string(task6)) < 0))) {
		json_decref(excluded);
		json_decref(o);
		return NULL; /* the run's record fails: run.c finds no network where it had one */
	}
	json_decref(excluded);
	return o;
}
