/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's side of the DNS proxy (netfilter/dns-guard.c) against a hostile proxy:
 * a name without its terminating NUL is never read past the request, and a proxy that
 * does not read its replies cannot block the supervisor. What an answer opens: the ports
 * every name of its CNAME chain allows, and a default-denied address only when a cidr rule
 * accepts it on all of them. The proxy end is a plain socketpair, as in a run; no root, no
 * network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns-proxy.h"
#include "test.h"

static char reported[DNS_NAME_SIZE + 16];
static int n_reported;

static void on_decision(const struct dns_decision *d, void *userdata)
{
	snprintf(reported, sizeof(reported), "%s", d->qname ? d->qname : "(null)");
	n_reported++;
}

static struct policy_egress_rule rule = { .host = (char *)"allowed.test" };
static struct policy_network net = { .enabled = true, .egress = &rule, .n_egress = 1 };

static void guard_init(struct dns_guard *g)
{
	*g = (struct dns_guard){
		.net = &net, .ttl_min = 5, .ttl_max = 300, .decision = on_decision
	};
	n_reported = 0;
	reported[0] = 0;
}

/* A LEARN request whose name fills the whole field, with no NUL: rejected, reported safely. */
TEST(unterminated_name)
{
	static struct dns_ipc_request req;
	struct dns_ipc_reply reply;
	struct dns_guard g;
	int sv[2];

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	guard_init(&g);
	for (uint32_t type = DNS_IPC_LEARN; type <= DNS_IPC_DECISION; type++) {
		if (type != DNS_IPC_LEARN && type != DNS_IPC_DECISION)
			continue;
		memset(&req, 0, sizeof(req));
		req.type = type;
		req.verdict = DNS_VERDICT_NOT_ALLOWED;
		memset(req.qname, 'a', sizeof(req.qname));
		ASSERT_EQ(send(sv[0], &req, sizeof(req), 0), (ssize_t)sizeof(req));
		ASSERT_OK(dns_guard_handle(&g, sv[1]));
		ASSERT_STREQ(reported, "(invalid)");
		if (type == DNS_IPC_LEARN) { /* refused, and the proxy is told */
			ASSERT_EQ(recv(sv[0], &reply, sizeof(reply), MSG_DONTWAIT),
				  (ssize_t)sizeof(reply));
			ASSERT_TRUE(reply.error < 0);
		}
	}
	close(sv[0]);
	close(sv[1]);
	dns_guard_done(&g);
}

/* A proxy that never reads its replies: the guard reports it broken instead of blocking. */
TEST(stalled_proxy)
{
	static struct dns_ipc_request req;
	struct dns_guard g;
	int sv[2], r = 0, sndbuf = 4096;

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ASSERT_EQ(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	ASSERT_EQ(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	guard_init(&g);
	memset(&req, 0, sizeof(req));
	req.type = DNS_IPC_LEARN;
	strcpy(req.qname, "denied.test"); /* refused before any nft work: no socket needed */
	for (int i = 0; i < 100000 && r == 0; i++) {
		if (send(sv[0], &req, sizeof(req), 0) < 0) {
			ASSERT_EQ(errno,
				  EAGAIN); /* our own queue is full: let the guard drain it */
			r = dns_guard_handle(&g, sv[1]);
			continue;
		}
		r = dns_guard_handle(&g, sv[1]);
	}
	ASSERT_EQ(r, -EPIPE);
	close(sv[0]);
	close(sv[1]);
	dns_guard_done(&g);
}

/* The policy of the chain and range cases (tests/integration/test-net-dns-record.sh). */
static uint16_t p22[] = { 22 }, p443[] = { 443 }, p22_443[] = { 22, 443 }, p5432[] = { 5432 },
		p443_5432[] = { 443, 5432 }, p53[] = { 53 };
static struct policy_egress_rule rules[] = {
	{ .host = (char *)"git.test", .ports = p22, .n_ports = 1 },
	{ .host = (char *)"*.evil.test", .ports = p443, .n_ports = 1, .wildcard = true },
	{ .host = (char *)"both.test", .ports = p22_443, .n_ports = 2 },
	{ .host = (char *)"db.test", .ports = p5432, .n_ports = 1 },
	{ .host = (char *)"mix.test", .ports = p443_5432, .n_ports = 2 },
	{ .host = (char *)"dns.test",
	  .ports = p53,
	  .n_ports = 1,
	  .protocols = POLICY_PROTOCOL_UDP },
	{ .host = (char *)"any.test" }, /* no ports: every port (not from a parsed policy) */
	{ .is_cidr = true,
	  .cidr = { .family = AF_INET, .addr = { 10, 20 } },
	  .prefixlen = 16,
	  .ports = p5432,
	  .n_ports = 1 },
};
static struct policy_network chain_net = { .enabled = true,
					   .egress = rules,
					   .n_egress = sizeof(rules) / sizeof(rules[0]) };

/* A LEARN request for qname, through chain (NULL-terminated), answering addrs (IPv4 text). */
static void learn_req(struct dns_ipc_request *req, const char *qname, const char *const *chain,
		      const char *const *addrs)
{
	memset(req, 0, sizeof(*req));
	req->type = DNS_IPC_LEARN;
	req->qtype = DNS_TYPE_A;
	req->rule = -1;
	strcpy(req->qname, qname);
	for (; chain && *chain; chain++)
		strcpy(req->chain[req->n_chain++], *chain);
	for (; addrs && *addrs; addrs++) {
		struct dns_ipc_addr *a = &req->addrs[req->n_addrs++];

		a->family = AF_INET;
		a->ttl = 60;
		inet_pton(AF_INET, *addrs, a->addr);
	}
}

static int names_ports(const char *const *names, size_t n, char *buf, size_t len)
{
	struct egress_port p[8];
	int r = egress_names_ports(&chain_net, names, n, p, 8);

	buf[0] = 0;
	for (int i = 0; i < r; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%u/%s", i ? " " : "", p[i].port,
			 p[i].proto == IPPROTO_TCP ? "tcp" : "udp");
	return r;
}

/* The ports an answer opens are those every name of its chain allows. */
TEST(chain_ports)
{
	const char *n1[] = { "x.evil.test", "git.test" }, *n2[] = { "z.evil.test", "both.test" },
		   *n3[] = { "both.test" }, *n4[] = { "any.test", "dns.test" },
		   *n5[] = { "x.evil.test", "nowhere.test" }, *n6[] = { "any.test" };
	char buf[128];

	ASSERT_EQ(names_ports(n1, 2, buf, sizeof(buf)), 0); /* 443 and 22: nothing in common */
	ASSERT_EQ(names_ports(n2, 2, buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "443/tcp");
	ASSERT_EQ(names_ports(n3, 1, buf, sizeof(buf)), 2);
	ASSERT_STREQ(buf, "22/tcp 443/tcp");
	ASSERT_EQ(names_ports(n4, 2, buf, sizeof(buf)), 0); /* any.test: tcp only */
	ASSERT_ERROR(names_ports(n5, 2, buf, sizeof(buf)), ENOENT);
	ASSERT_EQ(names_ports(n6, 1, buf, sizeof(buf)), 1);
	ASSERT_STREQ(buf, "0/tcp"); /* every port */
	ASSERT_ERROR(names_ports(n6, 0, buf, sizeof(buf)), ENOENT);
}

/* A CNAME target keeps its own ports: x.evil.test (443) -> git.test (22) opens nothing. */
TEST(cname_target_ports)
{
	static struct dns_ipc_request req;
	static const char *const git[] = { "git.test", NULL }, *both[] = { "both.test", NULL },
				 *addr[] = { "11.1.0.40", NULL }, *bad[] = { "other.test", NULL };
	struct policy_addr addrs[DNS_IPC_MAX_ADDRS];
	struct dns_guard_plan plan;
	struct dns_ipc_reply reply;
	struct dns_guard g = { .net = &chain_net, .ttl_min = 5, .ttl_max = 300 };

	learn_req(&req, "x.evil.test", git, addr);
	ASSERT_EQ(dns_guard_check_plan(&g, &req, &reply, addrs, &plan), 0);
	ASSERT_EQ(reply.accepted, 0);
	ASSERT_EQ(plan.why[0], DNS_WITHHELD_PORTS);
	ASSERT_STREQ(dns_withheld_to_string(plan.why[0]), "cname-ports");
	ASSERT_EQ(dns_guard_check(&g, &req, &reply, addrs), 0);

	learn_req(&req, "z.evil.test", both, addr);
	ASSERT_EQ(dns_guard_check_plan(&g, &req, &reply, addrs, &plan), 1);
	ASSERT_EQ(plan.n_ports, 1);
	ASSERT_EQ(plan.ports[0].port, 443); /* not both.test's 22 */

	/* The proxy's word on a name is checked against the policy again. */
	learn_req(&req, "x.evil.test", bad, addr);
	ASSERT_ERROR(dns_guard_check(&g, &req, &reply, addrs), EPERM);
}

/*
 * A default-denied address is released only when a cidr rule accepts it on every port the
 * answer opens, since the kernel's deny rule comes before the learned sets.
 */
TEST(denied_range_ports)
{
	static struct dns_ipc_request req;
	static const char *const p[] = { "10.20.1.1", "11.1.0.10", "10.21.0.1", NULL },
				 *db[] = { "10.20.1.2", NULL }, *mix[] = { "10.20.1.3", NULL };
	struct policy_addr addrs[DNS_IPC_MAX_ADDRS];
	struct dns_guard_plan plan;
	struct dns_ipc_reply reply;
	struct dns_guard g = { .net = &chain_net, .ttl_min = 5, .ttl_max = 300 };

	learn_req(&req, "p.evil.test", NULL, p); /* 443; the cidr rule has 5432 only */
	ASSERT_EQ(dns_guard_check_plan(&g, &req, &reply, addrs, &plan), 1);
	ASSERT_EQ(reply.accepted, 2); /* the public address only */
	ASSERT_EQ(plan.why[0], DNS_WITHHELD_RANGE);
	ASSERT_EQ(plan.why[2], DNS_WITHHELD_RANGE);
	ASSERT_EQ(plan.cidr, 0);

	learn_req(&req, "db.test", NULL, db); /* 5432, as the cidr rule */
	ASSERT_EQ(dns_guard_check_plan(&g, &req, &reply, addrs, &plan), 1);
	ASSERT_EQ(reply.accepted, 1);
	ASSERT_EQ(plan.cidr, 1); /* the allow set takes it: nothing to learn */

	learn_req(&req, "mix.test", NULL, mix); /* 443 and 5432: 443 would be dropped */
	ASSERT_EQ(dns_guard_check_plan(&g, &req, &reply, addrs, &plan), 0);
	ASSERT_EQ(plan.why[0], DNS_WITHHELD_RANGE);
}

static struct dns_decision last;
static char last_reason[64], last_chain[DNS_NAME_SIZE];
static size_t last_ports;

static void on_last(const struct dns_decision *d, void *userdata)
{
	last = *d;
	snprintf(last_reason, sizeof(last_reason), "%s",
		 d->withheld_reason ? d->withheld_reason : "");
	snprintf(last_chain, sizeof(last_chain), "%s", d->n_chain ? d->chain[0] : "");
	last_ports = d->n_ports;
}

/* The record hears what governed an answer: its chain, its ports and why it was withheld. */
TEST(learn_reports_chain)
{
	static struct dns_ipc_request req;
	static const char *const git[] = { "git.test", NULL }, *addr[] = { "11.1.0.40", NULL },
				 *db[] = { "10.20.1.2", NULL };
	struct dns_guard g = {
		.net = &chain_net, .ttl_min = 5, .ttl_max = 300, .decision = on_last
	};
	struct dns_ipc_reply reply;
	int sv[2];

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	learn_req(&req, "x.evil.test", git, addr);
	ASSERT_EQ(send(sv[0], &req, sizeof(req), 0), (ssize_t)sizeof(req));
	ASSERT_OK(dns_guard_handle(&g, sv[1]));
	ASSERT_EQ(recv(sv[0], &reply, sizeof(reply), 0), (ssize_t)sizeof(reply));
	ASSERT_EQ(reply.error, 0);
	ASSERT_EQ(reply.accepted, 0);
	ASSERT_EQ(last.verdict, DNS_VERDICT_WITHHELD);
	ASSERT_STREQ(last_reason, "cname-ports");
	ASSERT_STREQ(last_chain, "git.test");
	ASSERT_EQ(last_ports, 0);

	/* Reached through the cidr rule: released, nothing learned (no nf_tables socket here). */
	learn_req(&req, "db.test", NULL, db);
	ASSERT_EQ(send(sv[0], &req, sizeof(req), 0), (ssize_t)sizeof(req));
	ASSERT_OK(dns_guard_handle(&g, sv[1]));
	ASSERT_EQ(recv(sv[0], &reply, sizeof(reply), 0), (ssize_t)sizeof(reply));
	ASSERT_EQ(reply.error, 0);
	ASSERT_EQ(reply.accepted, 1);
	ASSERT_EQ(last.verdict, DNS_VERDICT_ALLOWED);
	ASSERT_EQ(last.n_addrs, 1);
	ASSERT_EQ(last_ports, 1);
	close(sv[0]);
	close(sv[1]);
	dns_guard_done(&g);
}

/*
 * A compromised proxy cannot claim the outcomes of a learn (allowed, withheld, set-full):
 * the record keeps room for those, which its own decisions must not take.
 */
TEST(guard_verdicts_not_from_proxy)
{
	static struct dns_ipc_request req;
	static const enum dns_verdict own[] = { DNS_VERDICT_ALLOWED, DNS_VERDICT_WITHHELD,
						DNS_VERDICT_SET_FULL };
	struct dns_guard g;
	int sv[2];

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	guard_init(&g);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.type = DNS_IPC_DECISION;
		req.verdict = own[i];
		req.count = 1;
		strcpy(req.qname, "allowed.test");
		ASSERT_EQ(send(sv[0], &req, sizeof(req), 0), (ssize_t)sizeof(req));
		ASSERT_OK(dns_guard_handle(&g, sv[1]));
	}
	ASSERT_EQ(n_reported, 0);
	req.verdict = DNS_VERDICT_NOT_ALLOWED; /* the proxy's own */
	ASSERT_EQ(send(sv[0], &req, sizeof(req), 0), (ssize_t)sizeof(req));
	ASSERT_OK(dns_guard_handle(&g, sv[1]));
	ASSERT_EQ(n_reported, 1);
	close(sv[0]);
	close(sv[1]);
	dns_guard_done(&g);
}

TEST_MAIN()
