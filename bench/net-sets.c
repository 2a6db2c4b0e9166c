/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Measures DNS-learned set updates per second: in a fresh network namespace with the task
 * ruleset loaded, learns N distinct addresses one batch at a time, each waiting for the
 * kernel's ACK exactly as the DNS guard does. Also times building and loading the ruleset.
 * Run as root: net-sets [N]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cleanup.h"
#include "egress-apply.h"
#include "netns-util.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static uint16_t ports[] = { 443 };
	struct policy_egress_rule rule = { .host = "*.bench.test",
					   .wildcard = true,
					   .ports = ports,
					   .n_ports = 1,
					   .protocols = POLICY_PROTOCOL_TCP };
	struct policy_network net = { .enabled = true, .egress = &rule, .n_egress = 1 };
	struct egress_config cfg = { .resolver.family = AF_INET };
	struct egress_socket *s = NULL;
	_cleanup_close_ int ns = -EBADF;
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 5000;
	double t0, t1;
	int r;

	inet_pton(AF_INET, "10.231.0.1", cfg.resolver.addr);
	ns = netns_new();
	if (ns < 0 || egress_socket_open(ns, &s) < 0) {
		fprintf(stderr, "net-sets: needs root (netns, nf_tables)\n");
		return 1;
	}
	t0 = now_s();
	r = egress_apply(s, &net, &cfg);
	t1 = now_s();
	if (r < 0) {
		fprintf(stderr, "net-sets: apply: %s\n", strerror(-r));
		return 1;
	}
	printf("ruleset build+load: %.2f ms\n", (t1 - t0) * 1e3);

	t0 = now_s();
	for (long i = 0; i < n; i++) {
		struct policy_addr a = { .family = AF_INET };
		uint32_t v = htonl(0x0b000000u + (uint32_t)i); /* 11.0.0.0 + i */

		memcpy(a.addr, &v, 4);
		r = egress_learn(s, &net, "x.bench.test", &a, 1, 60000);
		if (r < 0) {
			fprintf(stderr, "net-sets: learn: %s\n", strerror(-r));
			return 1;
		}
	}
	t1 = now_s();
	printf("set updates: %ld in %.3f s = %.0f/s (%.1f us each, ACKed)\n", n, t1 - t0,
	       (double)n / (t1 - t0), (t1 - t0) * 1e6 / (double)n);
	egress_socket_free(s);
	return 0;
}
