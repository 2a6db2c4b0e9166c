/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * airlock's own table in the host network namespace, "inet airlock-host": masquerade for
 * traffic from the address pool to elsewhere, and a forward chain that lets only replies
 * in towards the pool. No other table is ever read or changed. The table exists while at
 * least one networked run holds a slot lock in dir (see link.h); the decision is taken
 * under an flock on <dir>/.lock. Does not log.
 */

#include <stdint.h>

#include "policy.h"

#define EGRESS_HOST_TABLE "airlock-host"

/*
 * Makes sure the host table exists for the pool. own_lock is the caller's slot lock file
 * (skipped when counting other runs). When no other run holds a slot the table is
 * (re)created from scratch. Returns 0 or a negative errno.
 */
int egress_nat_acquire(const char *dir, const char *own_lock, const struct policy_addr *pool,
		       uint8_t prefixlen);

/*
 * Deletes the host table when no run other than the caller holds a slot. Stale lock files
 * of dead runs are removed on the way. Returns 0 or a negative errno.
 */
int egress_nat_release(const char *dir, const char *own_lock);

/* Whether /proc/sys/net/ipv4/ip_forward reads "1" (in the caller's namespace). */
int egress_ip_forward_enabled(void);
