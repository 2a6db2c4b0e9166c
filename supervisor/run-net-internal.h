/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One run's network, shared by the two files of the network module (run-net-module.h):
 * run-net.c sets it up and tears it down, run-net-record.c watches it while the task runs
 * and makes its record. Their functions never share a name with the loader's run_net_*()
 * of run-net.h: the module's version script keeps them local (run-net.sym).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "dns-proxy.h"
#include "egress.h"
#include "helper-file.h"
#include "link.h"
#include "nflog.h"
#include "policy.h"
#include "run-net-dns.h"

struct loop;
struct node_network;

#define RUN_NET_MAX_DENIED 256
/* A flooding task must not starve the event loop: later messages wait for the next turn. */
#define RUN_NET_READS_PER_WAKEUP 64
#define RUN_NET_READS_AT_END 4096

/* A wildcard rule's refusals. */
struct run_net_wild {
	uint64_t budget; /* new names past its name budget */
	uint64_t length; /* names whose "*" part was over match_length */
};

struct run_net_denied {
	struct egress_denied d;
	uint64_t count;
};

/* How the DNS proxy ended, when that came before the run's end. */
struct run_net_proxy_end {
	pid_t pid;
	bool dead;
	bool broken; /* its socket was still open: the guard found it broken, airlock killed it */
	int status; /* wait status */
	uint64_t at_ms; /* since the run's network was set up */
};

/* The DNS proxy's final report at the run's end (network.dns_final_report). */
enum run_net_final {
	RUN_NET_FINAL_NONE, /* the proxy never served the run (it failed to start): no key */
	RUN_NET_FINAL_PENDING, /* the run has not ended yet */
	RUN_NET_FINAL_RECEIVED, /* whole: the proxy reported everything and exited 0 */
	RUN_NET_FINAL_MISSING, /* not within DNS_PROXY_FINAL_MS: the counts may be short */
};

struct run_net {
	const struct node_network *cfg; /* the node's network settings (borrowed) */
	const struct policy_network *net; /* the policy's, or own_net */
	struct policy_network own_net; /* the policy's with the node's wildcard defaults */
	struct policy_egress_rule *own_rules; /* own_net's rules (their strings are the policy's) */
	struct loop *loop;
	char dir[256];
	struct policy_addr pool;
	uint8_t pool_prefixlen;
	struct policy_addr upstream;
	uint32_t ttl_min, ttl_max; /* seconds, from the node configuration */
	bool v6; /* IPv6 default route and forwarding on the host: the task gets IPv6 too */
	const char *v6_off; /* why not, when not */
	bool manage_forwarding; /* turn forwarding on (guarded) if the host does not forward */
	struct egress_flow_limit flows; /* from the node configuration */
	struct policy_addr pool6;
	uint8_t pool6_prefixlen;
	struct egress_link *link;
	struct egress_socket *nft;
	int nflog_fd;
	int host_nflog_fd; /* the host table's log of this run's slot, in the host namespace */
	struct dns_proxy *proxy;
	struct helper_file proxy_program; /* where it came from, for messages */
	struct run_net_proxy_end proxy_end;
	enum run_net_final final;
	struct dns_guard guard;
	struct run_net_dns_list dns;
	uint64_t start_ms;
	struct run_net_wild *wild; /* one per egress rule */
	struct run_net_denied denied[RUN_NET_MAX_DENIED];
	size_t n_denied;
	uint64_t denied_other; /* attempts beyond RUN_NET_MAX_DENIED destinations */
};

/* run-net-record.c: addr (of family) as text, or "?". */
void run_net_addr_string(int family, const uint8_t *addr, char *buf, size_t len);
/* run-net-record.c: reads the denied attempts an nflog socket has (the loop's handler). */
int run_net_on_nflog(struct loop *l, int fd, uint32_t events, void *userdata);
/* run-net-record.c: records a DNS decision of the proxy (the guard's decision callback). */
void run_net_on_decision(const struct dns_decision *d, void *userdata);
/* run-net-record.c: serves the proxy's messages to the guard (the loop's handler). */
int run_net_on_proxy(struct loop *l, int fd, uint32_t events, void *userdata);
/*
 * run-net-record.c: the run has ended (every process of the task's is dead): the DNS proxy's
 * final report is read (DNS_PROXY_FINAL_MS at most), then the proxy is reaped. Logs.
 */
void run_net_conclude(struct run_net *n);
/* run-net-record.c: the record's "network" object (new reference), NULL without a network. */
json_t *run_net_record_json(const struct run_net *n);
