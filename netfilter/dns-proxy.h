/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The task's DNS view, privilege-separated:
 *   - the proxy: a program of its own, airlock-dns-proxy (dns-proxy-main.c), which the
 *     supervisor runs with execveat() of a file it opened and checked (root's, writable by
 *     no one else), an empty environment and only its fds: /dev/null, the listening sockets,
 *     its end of the guard's socketpair and its configuration (dns-proxy-config.h). So it
 *     holds nothing of the supervisor's memory, address layout or stack canary. It then
 *     runs as nobody with no capabilities, no_new_privs, not dumpable, and a seccomp
 *     allowlist of a dozen syscalls; sendto() only without a destination
 *     (connected sockets) or on the UDP listener, which is bound to the lo of the task's
 *     namespace; no socket(), connect() or bind(); accept4() only on the TCP listener. Both
 *     listeners live in the task's namespace on 127.0.0.1:53, where the task's ruleset
 *     DNATs its UDP/53 and its TCP/53 to the resolver: there is no socket on the host, so
 *     a host resolver on *:53 is neither in the way nor reached, and once the proxy is
 *     gone the task's DNS gets "port unreachable", never an answer from elsewhere. Answers
 *     over 512 bytes go to UDP clients truncated. The proxy keeps each wildcard rule's
 *     name budget and match length (NXDOMAIN past them, not forwarded),
 *     answers only allowlisted names (exact or "*.suffix"), only A and
 *     AAAA (other types REFUSED, other names NXDOMAIN), limits name length and query rate,
 *     forwards a freshly built query upstream from a socket used for that query only (a
 *     fresh random source port and id each time, so that an off-path attacker must guess
 *     32 bits, not 16, to spoof an answer), accepts only an answer from the upstream's
 *     address and port whose id and question match, follows CNAME chains only through allowed
 *     names, and asks the guard to learn every answered address;
 *   - the guard (dns-guard.c), in the supervisor: validates each request again (every name
 *     of the CNAME chain allowed; the ports all of them allow, computed from the policy; an
 *     address of a denied range only when a cidr rule accepts it on all those ports; TTL
 *     clamped), adds the addresses to the task's sets for those ports and replies only
 *     after the kernel ACKed them.
 *     It keeps each element's expiry: an element's lifetime becomes max(remaining, TTL),
 *     never less, so no answer outlives its element; past DNS_GUARD_MAX_ELEMS live
 *     elements further addresses are withheld (verdict "set-full").
 *     Only then does the proxy release the answer to the task.
 * Neither half logs.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dns-codec.h"
#include "egress.h"
#include "policy.h"

#define DNS_PROXY_MAX_QUERY_NAME 100 /* longer names are REFUSED (tunnelling) */
#define DNS_PROXY_RATE_PER_SEC 20 /* sustained queries per second */
#define DNS_PROXY_RATE_BURST 40
#define DNS_PROXY_REPORT_MS 100 /* rate-limited queries are reported at most this often */
#define DNS_PROXY_REPORT_WAIT_MS 250 /* how long a decision waits for room in the guard's queue */
#define DNS_PROXY_FINAL_MS \
	1000 /* the run's end: how long the supervisor waits for the final report (a slow, emulated guest) */
#define DNS_PROXY_FINAL_READS 4096 /* the run's end: what it reads of the proxy, at most */
#define DNS_PROXY_TIMEOUT_MS 3000 /* upstream answer deadline, then SERVFAIL */
#define DNS_PROXY_MAX_PENDING 64
#define DNS_PROXY_MAX_CHAIN 8 /* CNAME hops */
#define DNS_PROXY_UID 65534 /* nobody / nogroup */
#define DNS_PROXY_FD_LISTEN 3 /* the listening socket's fd in the proxy */
#define DNS_PROXY_FD_IPC 4 /* the proxy's end of the socketpair to the guard */
#define DNS_PROXY_FD_LISTEN_TCP 5 /* the TCP listening socket, in the task's namespace */
#define DNS_PROXY_FD_LAST DNS_PROXY_FD_LISTEN_TCP
#define DNS_PROXY_FD_CONFIG 6 /* its configuration: read and closed before anything else */
#define DNS_PROXY_PROGRAM "airlock-dns-proxy" /* found like airlock-net.so (helper-file.h) */
#define DNS_PROXY_START_TIMEOUT_MS 10000 /* from the exec to its first message */
/* The task's DNS to the resolver is DNATed to this port on its own loopback. */
#define DNS_PROXY_PORT 53
#define DNS_PROXY_TCP_MAX_CONNS 8 /* concurrent connections; more are closed at once */
#define DNS_PROXY_TCP_MAX_QUERY 512 /* a longer query message closes its connection */
#define DNS_PROXY_TCP_MAX_QUERIES 32 /* per connection, then it is closed */
#define DNS_PROXY_TCP_IDLE_MS 5000 /* a connection with nothing pending is closed after */
#define DNS_PROXY_TCP_UPSTREAM 8 /* queries asking the upstream over TCP at once */
#define DNS_PROXY_SPARE_SOCKETS 16 /* fresh upstream sockets the proxy keeps ready */
#define DNS_PROXY_REFILL_MS 500 /* how long a query waits for fresh sockets */
#define DNS_PROXY_NOFILE 128 /* RLIMIT_NOFILE of the proxy: bounds the sockets it holds */
#define DNS_TTL_MIN_DEFAULT 5
#define DNS_TTL_MAX_DEFAULT 300
#define DNS_GUARD_MAX_ELEMS 4096 /* live learned set elements per run */

enum dns_verdict {
	DNS_VERDICT_ALLOWED, /* answered, addresses learned */
	DNS_VERDICT_NOT_ALLOWED, /* name not in the allowlist: NXDOMAIN */
	DNS_VERDICT_BAD_TYPE, /* not A/AAAA: REFUSED */
	DNS_VERDICT_TOO_LONG, /* name over DNS_PROXY_MAX_QUERY_NAME: REFUSED */
	DNS_VERDICT_RATE_LIMITED, /* dropped, no answer */
	DNS_VERDICT_CNAME_DENIED, /* chain left the allowlist: NXDOMAIN */
	DNS_VERDICT_UPSTREAM_ERROR, /* upstream failed or timed out: SERVFAIL */
	DNS_VERDICT_UPSTREAM_RCODE, /* upstream NXDOMAIN etc., passed on */
	DNS_VERDICT_MALFORMED, /* unparsable query: FORMERR or dropped */
	DNS_VERDICT_SET_FULL, /* the run's learned-element cap is reached: withheld */
	DNS_VERDICT_NO_IPV6, /* AAAA while the run has no IPv6: NOERROR, no records */
	DNS_VERDICT_WITHHELD, /* allowed name, but every address withheld: empty answer */
	DNS_VERDICT_WILDCARD_BUDGET, /* a wildcard rule's name budget is spent: NXDOMAIN */
	DNS_VERDICT_WILDCARD_LENGTH, /* the "*" part is over the rule's match_length: NXDOMAIN */
	DNS_VERDICT_RUN_ENDED, /* the run ended before its answer: not asked, or not answered */
	_DNS_VERDICT_MAX,
	_DNS_VERDICT_INVALID = -EINVAL,
};

const char *dns_verdict_to_string(enum dns_verdict v);

/* The messages between proxy and guard (SOCK_SEQPACKET, one message per datagram). */
enum dns_ipc_type {
	DNS_IPC_LEARN = 1, /* proxy -> guard: learn these addresses; guard replies */
	DNS_IPC_DECISION = 2, /* proxy -> guard: one query's outcome, for the record */
	DNS_IPC_SOCKETS = 3, /* proxy -> guard: send `count` fresh upstream sockets;
				 * guard -> proxy: a reply carrying them (SCM_RIGHTS) */
	DNS_IPC_TCP = 4, /* proxy -> guard: send one TCP socket connecting to the upstream;
			  * guard -> proxy: a reply carrying it */
	DNS_IPC_READY = 5, /* proxy -> supervisor, its first message: struct dns_ipc_ready */
	DNS_IPC_FINAL = 6, /* supervisor -> proxy (a struct dns_ipc_reply): the run has ended;
			    * the proxy reports every query it has not reported yet and exits 0 */
};

/* What the proxy was doing when it could not start (struct dns_ipc_ready). */
enum dns_proxy_step {
	DNS_PROXY_STEP_NONE, /* started */
	DNS_PROXY_STEP_FDS, /* before the exec: placing its fds */
	DNS_PROXY_STEP_EXEC,
	DNS_PROXY_STEP_CONFIG, /* after it: reading its configuration */
	DNS_PROXY_STEP_PREPARE,
	DNS_PROXY_STEP_PRIVILEGES,
	DNS_PROXY_STEP_SECCOMP,
	_DNS_PROXY_STEP_MAX,
	_DNS_PROXY_STEP_INVALID = -EINVAL,
};

const char *dns_proxy_step_to_string(enum dns_proxy_step s);

/* The proxy's first message: up and under its seccomp filter (step 0), or why not. */
struct dns_ipc_ready {
	uint32_t type; /* DNS_IPC_READY */
	int32_t step; /* enum dns_proxy_step */
	int32_t error; /* -errno */
};

#define DNS_IPC_MAX_ADDRS 64

struct dns_ipc_addr {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t addr[16];
	uint32_t ttl;
};

struct dns_ipc_request {
	uint32_t type; /* enum dns_ipc_type */
	uint32_t seq;
	char qname[DNS_NAME_SIZE];
	uint16_t qtype;
	int32_t verdict; /* DNS_IPC_DECISION: enum dns_verdict */
	int32_t rcode;
	uint32_t count; /* DNS_IPC_DECISION: how many queries this stands for */
	int32_t rule; /* DNS_VERDICT_WILDCARD_*: index of the egress rule */
	uint32_t tcp; /* the task asked over TCP */
	uint32_t n_chain;
	char chain[DNS_PROXY_MAX_CHAIN][DNS_NAME_SIZE];
	uint32_t n_addrs;
	struct dns_ipc_addr addrs[DNS_IPC_MAX_ADDRS];
};

struct dns_ipc_reply {
	uint32_t type; /* DNS_IPC_LEARN or DNS_IPC_SOCKETS */
	uint32_t seq;
	int32_t error; /* 0, or -errno: the proxy answers SERVFAIL */
	uint32_t ttl; /* clamped TTL to put in the answer */
	uint64_t accepted; /* bit i: addrs[i] is in the sets */
};

struct dns_proxy_config {
	const struct policy_network *net;
	struct policy_addr task; /* only queries from this source are answered */
	struct policy_addr upstream; /* where allowed queries go, port 53 (IPv4 or IPv6) */
	bool v6_enabled; /* the task has IPv6 egress; else AAAA gets an empty NOERROR */
	int task_netns_fd; /* the listeners live there, on 127.0.0.1:53 */
	int exe_fd; /* the proxy program, opened and checked by the caller (helper-file.h) */
};

struct dns_proxy {
	pid_t pid;
	int ipc_fd; /* the guard's end of the socketpair */
	int listen_fd; /* the supervisor's copy of the UDP listener, only to read its drops */
	uint32_t queue_drops; /* what it had dropped when the proxy was reaped */
};

/*
 * dns-proxy-start.c, the supervisor's side. Creates the listening sockets (as root) and runs
 * the proxy program cfg->exe_fd with them; it does not wait for the program, so that its
 * start overlaps the caller's work until dns_proxy_wait_ready(). *ret is owned by the
 * caller. Returns 0 or -errno, and on failure *reterr_step, what failed (e.g. "sockets",
 * "fork"), a static string. Does not log.
 */
int dns_proxy_start(const struct dns_proxy_config *cfg, struct dns_proxy **ret,
		    const char **reterr_step);
/*
 * Waits for the proxy to be up under its seccomp filter (DNS_PROXY_START_TIMEOUT_MS at most)
 * and hands it a first batch of upstream sockets. Returns 0 or -errno, and on failure
 * *reterr_step: the step the proxy reported (e.g. "exec", "seccomp"), or how it died
 * without a word. Does not log.
 */
int dns_proxy_wait_ready(struct dns_proxy *p, const struct policy_addr *upstream,
			 const char **reterr_step);
/*
 * How many upstream sockets the supervisor may still create for the proxy: a token bucket
 * per kind, as large as the most a proxy that serves the task's rate-limited queries can
 * use (one socket per query, plus the UDP spares), so that a compromised proxy cannot make
 * root create sockets (and TCP connections to the upstream) without bound. Zeroed: full.
 */
struct dns_socket_budget {
	uint64_t last_ms; /* CLOCK_MONOTONIC of the last take; 0: never taken, full */
	double tokens;
	uint64_t refused; /* sockets asked for and not given */
};

#define DNS_GUARD_UDP_BURST (DNS_PROXY_RATE_BURST + DNS_PROXY_SPARE_SOCKETS)
#define DNS_GUARD_TCP_BURST DNS_PROXY_RATE_BURST
#define DNS_GUARD_SOCKETS_PER_SEC DNS_PROXY_RATE_PER_SEC /* each kind */

/*
 * Takes up to n sockets' worth from b, whose bucket holds burst and refills per_sec a
 * second, at now_ms; counts the rest in b->refused. Returns how many were granted. Pure.
 */
uint32_t dns_socket_budget_take(struct dns_socket_budget *b, uint32_t n, uint32_t burst,
				uint32_t per_sec, uint64_t now_ms);

/*
 * The privileged side's answer to DNS_IPC_SOCKETS: creates up to n (at most
 * DNS_PROXY_SPARE_SOCKETS, and at most what budget grants; NULL: no budget) UDP sockets
 * connected to upstream port 53, each on a fresh kernel-chosen random port, and sends them
 * over ipc_fd in one reply (SCM_RIGHTS); its own copies are closed. While earlier batches
 * still wait unread in the proxy's queue, or when the budget is spent, the reply carries
 * none (-EBUSY), so a proxy that never reads or hoards cannot pile up sockets. Returns 0
 * (also when only an error reply went out) or -EPIPE when the proxy is gone. Does not log.
 */
int dns_proxy_send_sockets(int ipc_fd, const struct policy_addr *upstream, uint32_t n,
			   struct dns_socket_budget *budget);
/* The same for DNS_IPC_TCP: one TCP socket, its connect to upstream port 53 in progress. */
int dns_proxy_send_tcp_socket(int ipc_fd, const struct policy_addr *upstream,
			      struct dns_socket_budget *budget);
/*
 * The run has ended: asks the proxy for its final report (DNS_IPC_FINAL). The proxy then
 * reads what the task left queued at its listeners, reports every query it had not reported
 * (its batched counts, queries waiting for the upstream as DNS_VERDICT_RUN_ENDED) and exits
 * 0: EOF on ipc_fd says the report is whole. Returns 0, or -EPIPE when the proxy is gone.
 * Does not log.
 */
int dns_proxy_request_final(struct dns_proxy *p);
/*
 * Kills the proxy unless it has exited, and reaps it: *ret_status is its wait status. Then
 * dns_proxy_stop() only frees. Returns 0, or -ECHILD when it was reaped already.
 */
int dns_proxy_reap(struct dns_proxy *p, int *ret_status);
/*
 * Datagrams the kernel dropped at the proxy's UDP listener (its receive queue full: a flood
 * faster than the proxy reads), for the whole run: read live while the proxy runs, and as
 * it was when the proxy was reaped after. Those queries never reached the proxy, so only
 * this count holds them.
 */
uint32_t dns_proxy_queue_drops(const struct dns_proxy *p);
/* Kills and reaps the proxy; accepts and returns NULL. */
struct dns_proxy *dns_proxy_stop(struct dns_proxy *p);

/*
 * dns-proxy.c, the proxy program's own: allocates what dns_proxy_run() will need (it never
 * allocates), before the privileges go. Returns 0 or -ENOMEM.
 */
int dns_proxy_prepare(const struct dns_proxy_config *cfg);
/* Serves the task until the guard's socket closes; fds as DNS_PROXY_FD_*. Never returns. */
__attribute__((noreturn)) void dns_proxy_run(const struct dns_proxy_config *cfg);

/* dns-proxy-seccomp.c: loads the proxy's syscall allowlist (kills on anything else). */
int dns_proxy_seccomp_load(void);

/* dns-guard.c: the privileged half. */
struct egress_socket;
struct egress_elem_update;

struct dns_decision {
	const char *qname;
	uint16_t qtype;
	enum dns_verdict verdict;
	int rcode;
	uint32_t count;
	const struct dns_ipc_addr *addrs; /* learned addresses (ALLOWED) */
	size_t n_addrs;
	const struct dns_ipc_addr *withheld; /* answered addresses kept from the task */
	size_t n_withheld;
	const char *withheld_reason; /* "denied-range", "set-full", "cname-ports", joined */
	int rule; /* DNS_VERDICT_WILDCARD_*: a wildcard rule's index in net->egress */
	bool tcp;
	/* An answer the guard checked (ALLOWED, WITHHELD): */
	const char (*chain)[DNS_NAME_SIZE]; /* the CNAME targets after qname, in order */
	size_t n_chain;
	const struct egress_port *ports; /* what the addresses were opened for */
	size_t n_ports;
};

typedef void (*dns_decision_fn)(const struct dns_decision *d, void *userdata);

struct dns_guard {
	const struct policy_network *net;
	struct egress_socket *nft; /* the task namespace's nf_tables socket; not owned */
	struct policy_addr upstream; /* where the proxy's fresh sockets are connected */
	uint32_t ttl_min, ttl_max; /* seconds */
	dns_decision_fn decision;
	void *userdata;
	struct dns_socket_budget udp_budget, tcp_budget; /* the upstream sockets it hands out */
	uint64_t learned; /* elements batches ACKed, for benchmarks */
	/* The lifetime of every learned element, so that a later answer never shortens it. */
	struct dns_guard_elem *elems; /* owned; dns_guard_done() frees it */
	size_t n_elems, cap_elems;
	struct egress_elem_update *plan; /* owned: the writes of one learn, reused */
	size_t cap_plan;
};

/* Frees what the guard allocated (not the struct). */
void dns_guard_done(struct dns_guard *g);

/*
 * Reads one message from the proxy's ipc fd, validates it, learns addresses when asked
 * (replying after the kernel ACK) and reports decisions. Returns 0, -EAGAIN when nothing
 * was queued, -EPIPE when the proxy is gone, or -errno. Does not log.
 */
int dns_guard_handle(struct dns_guard *g, int ipc_fd);

/*
 * The validation of one learn request, pure: fills *reply (accepted bits, clamped ttl) and
 * the addresses accepted, in order (dns_guard_plan: which ones a cidr rule takes, and why
 * the others are withheld). Returns their number, or -EPERM when a name is not allowed.
 */
int dns_guard_check(const struct dns_guard *g, const struct dns_ipc_request *req,
		    struct dns_ipc_reply *reply, struct policy_addr *ret_addrs);

/* The most ports and protocols one answer opens its addresses for (elements per address). */
#define DNS_GUARD_MAX_PORTS 256

/* Why an answered address is kept from the task. */
enum {
	DNS_WITHHELD_RANGE = 1 << 0, /* "denied-range": a default-denied address that no cidr
				      * rule accepts on every port of the answer */
	DNS_WITHHELD_FULL = 1 << 1, /* "set-full": the run's learned-element cap */
	DNS_WITHHELD_PORTS = 1 << 2, /* "cname-ports": the names of the CNAME chain have no
				      * port and protocol in common */
};

/*
 * What the guard makes of one answer. The addresses belong to the chain's last name and the
 * task reached them by asking the first, so every name's rules bound them: they are opened
 * only for the ports and protocols all the names allow, computed from the policy and never
 * taken from the proxy. The kernel accepts an address of a default-denied range only
 * through a cidr rule, before it looks at the learned sets: such an address is released
 * when a cidr rule accepts it on every one of those ports (nothing is learned for it), and
 * withheld otherwise.
 */
struct dns_guard_plan {
	struct egress_port ports[DNS_GUARD_MAX_PORTS];
	size_t n_ports;
	uint64_t cidr; /* bit i: addrs[i] is released through a cidr rule, not learned */
	uint8_t why[DNS_IPC_MAX_ADDRS]; /* addrs[i] withheld: DNS_WITHHELD_* */
};

/* dns_guard_check(), and the plan of the answer. */
int dns_guard_check_plan(const struct dns_guard *g, const struct dns_ipc_request *req,
			 struct dns_ipc_reply *reply, struct policy_addr *ret_addrs,
			 struct dns_guard_plan *plan);
/* The text of a set of DNS_WITHHELD_* bits, e.g. "denied-range, set-full"; NULL for 0. */
const char *dns_withheld_to_string(unsigned why);
