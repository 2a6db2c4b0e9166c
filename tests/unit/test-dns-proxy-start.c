/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's side of the DNS proxy program (netfilter/dns-proxy-start.c and
 * dns-proxy-config.c): the configuration it hands the program round-trips, with each rule at
 * its policy index, and anything malformed is refused; a proxy that keeps asking the guard
 * for upstream sockets gets no more than its budget. No root; the upstream sockets connect
 * to 127.0.0.1:53, nothing needs to listen there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns-proxy-config.h"
#include "dns-proxy.h"
#include "egress.h"
#include "test.h"

static struct policy_egress_rule rules[] = {
	{ .host = (char *)"allowed.test" },
	{ .is_cidr = true,
	  .cidr = { .family = AF_INET, .addr = { 11, 1, 0, 16 } },
	  .prefixlen = 28 },
	{ .host = (char *)"*.wild.test", .wildcard = true, .names = 5, .match_length = 63 },
};
static struct policy_network net = { .enabled = true, .egress = rules, .n_egress = 3 };

static void config_init(struct dns_proxy_config *cfg)
{
	*cfg = (struct dns_proxy_config){
		.net = &net,
		.task = { .family = AF_INET, .addr = { 10, 231, 0, 2 } },
		.upstream = { .family = AF_INET6, .addr = { 0x26, 0, 0, 1, [15] = 0x53 } },
		.v6_enabled = true,
	};
}

TEST(config_round_trip)
{
	struct dns_proxy_config cfg, back = {};
	struct policy_network got = {};
	uint8_t *buf = NULL;
	size_t len = 0;
	pid_t parent = 0;

	config_init(&cfg);
	ASSERT_OK(dns_proxy_config_build(&cfg, 4242, &buf, &len));
	ASSERT_OK(dns_proxy_config_parse(buf, len, &back, &got, &parent));
	ASSERT_EQ(parent, 4242);
	ASSERT_TRUE(back.net == &got && got.enabled);
	ASSERT_EQ(memcmp(&back.task, &cfg.task, sizeof(cfg.task)), 0);
	ASSERT_EQ(memcmp(&back.upstream, &cfg.upstream, sizeof(cfg.upstream)), 0);
	ASSERT_TRUE(back.v6_enabled);
	ASSERT_EQ(got.n_egress, 3);
	ASSERT_STREQ(got.egress[0].host, "allowed.test");
	ASSERT_TRUE(got.egress[1].is_cidr && !got.egress[1].host); /* kept: index 2 stays 2 */
	ASSERT_STREQ(got.egress[2].host, "*.wild.test");
	ASSERT_TRUE(got.egress[2].wildcard);
	ASSERT_EQ(got.egress[2].names, 5);
	ASSERT_EQ(got.egress[2].match_length, 63);
	ASSERT_TRUE(egress_name_allowed(&got, "a.wild.test"));
	ASSERT_FALSE(egress_name_allowed(&got, "other.test"));
	dns_proxy_config_net_done(&got);
	free(buf);
}

/* Every truncation, a byte flipped in each field, trailing bytes: refused, nothing leaks. */
TEST(config_malformed)
{
	struct dns_proxy_config cfg, back;
	struct policy_network got;
	uint8_t *buf = NULL, *bad;
	size_t len = 0;
	pid_t parent;
	int accepted = 0;

	config_init(&cfg);
	ASSERT_OK(dns_proxy_config_build(&cfg, 1, &buf, &len));
	bad = malloc(len + 1);
	ASSERT_TRUE(bad);
	for (size_t n = 0; n < len; n++)
		ASSERT_ERROR(dns_proxy_config_parse(buf, n, &back, &got, &parent), EBADMSG);
	memcpy(bad, buf, len);
	bad[len] = 0;
	ASSERT_ERROR(dns_proxy_config_parse(bad, len + 1, &back, &got, &parent), EBADMSG);
	/* A host with a NUL in it, or a flipped byte anywhere: refused or still well-formed. */
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x80;
		if (dns_proxy_config_parse(bad, len, &back, &got, &parent) == 0) {
			for (size_t k = 0; k < got.n_egress; k++)
				ASSERT_TRUE(got.egress[k].is_cidr ||
					    strlen(got.egress[k].host) <= POLICY_MAX_HOSTNAME);
			dns_proxy_config_net_done(&got);
			accepted++;
		}
	}
	ASSERT_TRUE(accepted < (int)len);
	free(bad);
	free(buf);

	/* The task's address is IPv4 (the listener is), the upstream either family. */
	cfg.task.family = AF_INET6;
	ASSERT_ERROR(dns_proxy_config_build(&cfg, 1, &buf, &len), EINVAL);
	config_init(&cfg);
	ASSERT_ERROR(dns_proxy_config_build(&cfg, 0, &buf, &len), EINVAL);
}

TEST(budget_bucket)
{
	struct dns_socket_budget b = {};

	/* full at first, then empty; it refills per_sec a second, never past burst */
	ASSERT_EQ(dns_socket_budget_take(&b, 30, 40, 20, 1000), 30);
	ASSERT_EQ(dns_socket_budget_take(&b, 30, 40, 20, 1000), 10);
	ASSERT_EQ(b.refused, 20);
	ASSERT_EQ(dns_socket_budget_take(&b, 1, 40, 20, 1049), 0);
	ASSERT_EQ(dns_socket_budget_take(&b, 5, 40, 20, 1100), 2);
	ASSERT_EQ(dns_socket_budget_take(&b, 100, 40, 20, 61000), 40);
	ASSERT_EQ(b.refused, 20 + 1 + 3 + 60);
}

/* The fds of every reply queued on fd, closed; returns how many came. */
static int drain_fds(int fd)
{
	union {
		struct cmsghdr h;
		uint8_t buf[CMSG_SPACE(sizeof(int) * DNS_PROXY_SPARE_SOCKETS)];
	} ctl;
	struct dns_ipc_reply reply;
	int n = 0;

	for (;;) {
		struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };

		if (recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
			return n;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
				close(f);
				n++;
			}
		}
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A proxy asking again and again, closing what it gets: it gets its budget's burst, and
 * what refills while it asks, not one socket per request.
 */
static void asks_beyond_budget(bool *test_failed_, uint32_t type, uint32_t count, int burst)
{
	static struct dns_ipc_request req;
	struct dns_guard g = { .net = &net,
			       .upstream = { .family = AF_INET, .addr = { 127, 0, 0, 1 } } };
	int sv[2], got = 0, allowed;
	uint64_t start = mono_ms();

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	memset(&req, 0, sizeof(req));
	req.type = type;
	req.count = count;
	for (int i = 0; i < 500; i++) {
		ASSERT_EQ(send(sv[0], &req, sizeof(req), 0), (ssize_t)sizeof(req));
		ASSERT_OK(dns_guard_handle(&g, sv[1]));
		got += drain_fds(sv[0]);
	}
	allowed = burst + (int)((mono_ms() - start) * DNS_GUARD_SOCKETS_PER_SEC / 1000) + 1;
	printf("# %s: %d sockets for 500 requests in %d ms (allowed %d)\n",
	       type == DNS_IPC_TCP ? "tcp" : "udp", got, (int)(mono_ms() - start), allowed);
	ASSERT_TRUE(got >= burst && got <= allowed);
	ASSERT_TRUE((type == DNS_IPC_TCP ? g.tcp_budget.refused : g.udp_budget.refused) > 0);
	close(sv[0]);
	close(sv[1]);
	dns_guard_done(&g);
}

TEST(tcp_sockets_budget)
{
	asks_beyond_budget(test_failed_, DNS_IPC_TCP, 1, DNS_GUARD_TCP_BURST);
}

TEST(udp_sockets_budget)
{
	asks_beyond_budget(test_failed_, DNS_IPC_SOCKETS, DNS_PROXY_SPARE_SOCKETS,
			   DNS_GUARD_UDP_BURST);
}

TEST_MAIN()
