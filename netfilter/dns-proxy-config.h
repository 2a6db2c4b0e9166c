/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The proxy program's configuration, as the supervisor hands it over: a sealed memfd on the
 * proxy's fd DNS_PROXY_FD_CONFIG, read and closed before the proxy drops its privileges.
 * It carries what the proxy decides with and nothing else, none of it secret: the task's
 * address, the upstream, whether AAAA is answered, the supervisor's pid, and the egress
 * rules' names with their wildcard budgets (cidr rules as empty placeholders, so that a rule's
 * index is the policy's). Pure code, both ends; it does not log.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

#define DNS_PROXY_CONFIG_MAX (256 * 1024) /* 256 rules of 253-byte names fit easily */

struct dns_proxy_config;

/*
 * Serialises cfg (its net, task, upstream and v6_enabled) and parent, the pid the proxy must
 * find as its parent. *ret (*ret_len bytes) is owned by the caller. Returns 0, -EINVAL (a
 * field the format cannot carry) or -ENOMEM.
 */
int dns_proxy_config_build(const struct dns_proxy_config *cfg, pid_t parent, uint8_t **ret,
			   size_t *ret_len);

/*
 * Parses what dns_proxy_config_build() made: fills *net (its egress rules and their hosts are
 * allocated: dns_proxy_config_net_done() frees them) and cfg's net (pointing at net), task,
 * upstream and v6_enabled, and *ret_parent. Returns 0, -EBADMSG for anything malformed
 * (wrong magic or version, a length past the end, a bad family, a host with a NUL or over
 * POLICY_MAX_HOSTNAME, a budget over the policy's limits, trailing bytes) or -ENOMEM.
 */
int dns_proxy_config_parse(const uint8_t *buf, size_t len, struct dns_proxy_config *cfg,
			   struct policy_network *net, pid_t *ret_parent);

/* Frees the rules dns_proxy_config_parse() allocated in *net. */
void dns_proxy_config_net_done(struct policy_network *net);
