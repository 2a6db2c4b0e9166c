/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Reads the packets the task ruleset logs before rejecting them (NFLOG group, see egress.h)
 * from a netlink socket bound inside the task's namespace, and those the host table logs (a
 * slot's group, host-nat.h) from one in the host namespace. Does not log.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

struct egress_denied {
	struct policy_addr daddr;
	uint8_t proto; /* IPPROTO_TCP, _UDP, _ICMP... */
	uint16_t dport; /* 0 when the protocol has no ports */
	bool denied_range; /* dropped by the default-denied ranges, not the final rule */
	bool host; /* rejected by the host table: the host itself, or a flow its NAT redirected */
	bool flow_limit; /* rejected by the run's flow limits (either namespace) */
	uint32_t indev; /* ifindex it came in on (in the namespace that logged it), or 0 */
};

/*
 * Opens an nfnetlink_log socket in netns_fd bound to group, copying packet headers, each
 * packet handed over at once (no batching). Returns a non-blocking O_CLOEXEC fd or -errno.
 */
int egress_nflog_open(int netns_fd, uint16_t group);

typedef void (*egress_denied_fn)(const struct egress_denied *d, void *userdata);

/*
 * Reads what is queued on fd (non-blocking), at most max_reads datagrams, and calls fn for
 * each logged packet it can decode. Returns the number of packets or -errno (-EAGAIN is
 * not an error: returns 0).
 */
int egress_nflog_read(int fd, unsigned max_reads, egress_denied_fn fn, void *userdata);

/* Decodes an IPv4/IPv6 packet's destination; pure, for tests and the reader. 0 or -EBADMSG. */
int egress_packet_decode(const uint8_t *pkt, size_t len, struct egress_denied *ret);
