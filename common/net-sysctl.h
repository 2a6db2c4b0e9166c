/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

/*
 * What the caller's network namespace forwards and routes, read from /proc: shared by the
 * network module (which acts on it), `policy check --host` and `airlock probe` (which only
 * report), so that all three ask the same question the same way. libc only; does not log.
 */

#define NET_IP_FORWARD "/proc/sys/net/ipv4/ip_forward"
#define NET_IP6_FORWARD "/proc/sys/net/ipv6/conf/all/forwarding"
#define NET_RESOLV_CONF "/etc/resolv.conf"

/* Whether net.ipv4.ip_forward is 1: 1, 0, or -errno. */
int net_ip_forward_enabled(void);
/* Whether net.ipv6.conf.all.forwarding is 1: 1, 0 (also without IPv6), or -errno. */
int net_ip6_forward_enabled(void);
/*
 * Whether the text of /proc/net/ipv6_route (or some of its lines) holds an IPv6 default
 * route (::/0, not a reject route, not on lo): 1 or 0. Read with the pool's check
 * (net_pool_conflict()), which needs the same file.
 */
int net_ip6_default_route_parse(const char *table);
/*
 * The host's first IPv4 nameserver in /etc/resolv.conf, the DNS upstream of a networked run
 * whose policy and node configuration name none: 1 and its address, 0 when there is none
 * (or no file), or -errno. net_host_resolver4_parse() is the pure half, over the file's text.
 */
int net_host_resolver4(uint8_t ret[4]);
int net_host_resolver4_parse(const char *text, uint8_t ret[4]);
