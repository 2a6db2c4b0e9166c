/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's side of the DNS proxy (netfilter/dns-guard.c) against a hostile proxy:
 * a name without its terminating NUL is never read past the request, and a proxy that
 * does not read its replies cannot block the supervisor. The proxy end is a plain
 * socketpair, as in a run; no root, no network.
 */
#include <errno.h>
#include <fcntl.h>
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

TEST_MAIN()
