/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The seam between a run and its network (issue "Network egress"). The run calls these in
 * order: run_net_new() before the task is cloned, run_net_netns_fd() for the clone,
 * run_net_ready() before the task is released, run_net_to_json() when writing the record,
 * run_net_conclude() once the task is dead, before its final record, run_net_free() at
 * teardown. This layer logs
 * (it is supervisor code); it drives netfilter/.
 */

#include <jansson.h>

struct policy;
struct node_network;
struct loop;
struct run_net;

/*
 * Prepares the task's network as the policy says, with the node configuration's pool, DNS
 * and forwarding settings (cfg). With no "network" section *ret is NULL
 * and the task gets a fresh network namespace with loopback only. Event sources (DNS proxy,
 * nflog) are added to loop. Returns 0 or a negative errno (already logged, one line naming
 * the cause; -EOPNOTSUPP when the kernel or host cannot enforce the policy).
 */
int run_net_new(const struct policy *p, const struct node_network *cfg, const char *run_id,
		struct loop *loop, struct run_net **ret);
/*
 * Waits for what run_net_new() started in the background, the DNS proxy, to be up: called
 * just before the task is released, so that the proxy's start overlaps the sandbox's.
 * Returns 0 (also for a run without network) or a negative errno, logged in one line.
 */
int run_net_ready(struct run_net *n);
/* The network namespace the task joins, or -EBADF when there is none. */
int run_net_netns_fd(const struct run_net *n);
/*
 * The run has ended, every process of its task is dead: the DNS proxy's final report (what
 * it had not reported yet) goes into the record, and the proxy is reaped. After it, the
 * record says whether that report came whole (network.dns_final_report).
 */
void run_net_conclude(struct run_net *n);
/* The record's "network" object (new reference), or NULL when there is none. */
json_t *run_net_to_json(const struct run_net *n);
/*
 * The task's /etc/resolv.conf: the run's DNS proxy as its only nameserver, so that libc's
 * resolver (getent, curl, git, python) asks it. snprintf()'s return value; -EINVAL for a
 * run without network.
 */
int run_net_resolv_conf(const struct run_net *n, char *buf, size_t size);
/*
 * Reaps what networked runs whose supervisor died left in this host network namespace: their
 * slot locks, their veths, their host table elements, and table inet airlock-host itself
 * when no live run remains; empty per-namespace directories under the runtime directory go
 * too. Logs a notice when it released something; failures are logged and ignored.
 */
void run_net_reap_stale(void);
/* Tears down everything run_net_new() created (netns, veth, sets, host NAT when unused). */
struct run_net *run_net_free(struct run_net *n);
