/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * airlock's own table in the host network namespace, "inet airlock-host": masquerade for
 * traffic from the address pools (IPv4, and IPv6: NAT66) to elsewhere; a prerouting chain,
 * ahead of any DNAT, that lets a task reach the host itself (any of its addresses) only
 * with UDP/53 to its own resolver and logs and rejects the rest, and sends each new flow
 * through its run's flow limits; a forward chain that refuses flows the host's NAT
 * redirected and lets only replies in towards the pool; an input chain like prerouting
 * (sets "links" and "resolvers", maps "logs" and "flows", chains "log-al<n>" and
 * "flows-al<n>", one of each per live slot; rules in host-table.c). No other table is ever
 * read or changed. The table exists while at least one networked run holds a
 * slot lock in dir (see link.h); the decision is taken under an flock on <dir>/.lock. Does
 * not log.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

#define EGRESS_HOST_TABLE "airlock-host"
/*
 * What the host table rejects is first logged (nflog, prefix EGRESS_LOG_PREFIX_HOST) to a
 * group of its slot's own, EGRESS_HOST_NFLOG_GROUP_BASE + n for slot n: the table is
 * shared, and a namespace lets one socket only listen to a group, so each run reads its own.
 */
#define EGRESS_HOST_NFLOG_GROUP_BASE 32768
/* The guard of forwarding airlock manages: drops what only airlock's forwarding would pass. */
#define EGRESS_FORWARD_TABLE "airlock-forward"

struct egress_flow_limit;
struct egress_link;
struct egress_socket;

/*
 * Ownership (docs/network.md): a run holds slot n from the moment it locks
 * <dir>/slot-<n>.lock until it unlinks it, and both happen under the directory lock
 * (egress_dir_lock()), which the run keeps from picking its slot (egress_link_new()) to
 * here, and from egress_nat_release() to egress_link_release(). So whoever holds the
 * directory lock sees: every held slot lock is a live run whose elements are in the host
 * table, and the table and <dir>/pool exist exactly when one is held; a free lock is a
 * dead run (SIGKILLed anywhere in between), to reap.
 */

/*
 * Makes sure the host table exists for the pools (IPv4 pool/prefixlen, IPv6
 * pool6/prefixlen6: the table masquerades both whether or not this run has IPv6, so that
 * later runs with IPv6 are covered) and holds the caller's slot (l's veth and
 * resolver address). When no other run holds a slot the table is (re)created from scratch
 * and the pools are written to <dir>/pool; otherwise the live runs' pools must be the same.
 * Dead runs' slots are reaped on the way. The caller holds dir's lock. flows: the run's
 * flow limits in the host table (NULL: the defaults).
 *
 * manage_forwarding: when the table is created and the host does not forward IPv4 (or
 * IPv6, for a link with IPv6), first the table "inet airlock-forward" goes in (forwarded
 * packets of such a family are dropped unless they come from a pool or are replies to
 * it), then <dir>/forwarding names the families, then forwarding is turned on. The last
 * run's release (or the reaper) turns it off again before the guard goes.
 *
 * Returns 0, -EADDRNOTAVAIL when live runs use another pool (their table would not
 * protect this one), -EBUSY when their table has no log or flows map (an older airlock made
 * it), or
 * a negative errno.
 */
int egress_nat_acquire(const char *dir, const struct egress_link *l, const struct policy_addr *pool,
		       uint8_t prefixlen, const struct policy_addr *pool6, uint8_t prefixlen6,
		       const struct egress_flow_limit *flows, bool manage_forwarding);

/*
 * Removes the caller's slot from the host table, and the table (and <dir>/pool) when no
 * run other than the caller holds a slot. Dead runs' slots are reaped on the way. The
 * caller holds dir's lock, and gives up its slot (egress_link_release()) before letting it
 * go. Also right after a failed egress_nat_acquire(). Returns 0 or -errno.
 *
 * ret_socket (optional): receives the netlink socket instead of closing it; the caller
 * owns it. Closing a NETLINK_NETFILTER socket waits for nf_tables to destroy what was just
 * deleted (an RCU grace period, 10-25 ms): a caller that closes it after its own slow
 * kernel work (egress_link_free()) has that wait overlap with it.
 */
int egress_nat_release(const char *dir, const struct egress_link *l,
		       struct egress_socket **ret_socket);

/*
 * Removes dir (its pool file and lock) when no slot is left in it; the caller holds its
 * lock. The last networked run calls it once its own slot is gone, so nothing of it stays
 * in the runtime directory.
 */
void egress_nat_tidy(const char *dir);

/*
 * Reaps the slots of dead runs in dir (their lock is free): the veth (only a veth carrying
 * the slot's address), the set elements and the lock file. When no live slot remains, the
 * host table and the pool file go, and the directory itself. own_netns: dir belongs to the
 * caller's network namespace (else only files are touched); then its legacy directory
 * (egress_nat_reap_legacy()) is reaped first, and -EBUSY, with nothing touched, means an
 * older airlock's runs are live in the namespace. Returns the number of dead slots, or
 * -errno. Does not log. supervisor/run-net-loader.c decides whether this has work without
 * loading the network module: keep its net_dir_needs_reap() in step.
 */
int egress_nat_reap(const char *dir, bool own_netns);

/*
 * An older airlock kept the slots of a namespace in <runtime>/net/<inode>, where dir is
 * <runtime>/net/<inode>-<cookie>: the runs of both share the host table and the "al<n>"
 * names, and neither sees the other's slots. So beside a live run of the older airlock
 * (a held slot lock in that legacy directory) a run of ours must neither start nor reap:
 * returns -EBUSY, touching nothing. Otherwise the legacy directory is a dead run's and is
 * reaped like one, under its lock: its veths (only those carrying a slot's address), and
 * when dir has no live slot either, the host table and the forwarding it turned on; then
 * its files and itself. The caller is in dir's namespace and holds dir's lock. Returns the
 * number of dead slots it had (0 also when there is none, or dir has no cookie), -EBUSY,
 * or another negative errno. Does not log.
 */
int egress_nat_reap_legacy(const char *dir);

/*
 * The host namespace's nflog group of slot n's rejected connections to the host, or -ERANGE
 * for a slot past the last group (n > 32767, pools wider than /15): its are not logged.
 */
int egress_host_nflog_group(unsigned slot);
