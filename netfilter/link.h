/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The task's network: a new network namespace (owned by the supervisor's user namespace,
 * created before the task's own user namespace, so the task cannot change it), a veth
 * pair whose peer is created directly inside it, a /30 from an address pool, and a default
 * route through the host side; with egress_link_add_v6() also a /64 of an IPv6 pool and an
 * IPv6 default route. Neither end ever gets an IPv6 link-local address (addr_gen_mode none),
 * the task's eth0 takes no router advertisements, and the task's namespace forwards nothing
 * (IPv4 and IPv6 forwarding off). Uses libnl-route-3. Does not log.
 */

#include <stdint.h>

#include "policy.h"

#define EGRESS_LINK_POOL_DEFAULT "10.231.0.0/16"
/* ULA, "airlk": each slot n takes the /64 <pool6>:n::/64 (host ::1, task ::2). */
#define EGRESS_LINK_POOL6_DEFAULT "fd61:6972:6c6b::/48"
#define EGRESS_LINK_TASK_IFNAME "eth0"

struct egress_link {
	int netns_fd; /* the task's namespace */
	unsigned slot; /* index of the /30 in the pool */
	int lock_fd; /* flock on <dir>/slot-<n>.lock while the run lives */
	char lock_path[256];
	char host_ifname[16]; /* "al<slot>" */
	int host_ifindex; /* > 0 once the host end is configured */
	struct policy_addr host_addr; /* .1 of the /30: gateway and DNS resolver */
	struct policy_addr task_addr; /* .2 of the /30 */
	struct policy_addr host_addr6; /* <pool6>:<slot>::1, gateway; AF_UNSPEC: no IPv6 */
	struct policy_addr task_addr6; /* <pool6>:<slot>::2 */
	struct policy_addr pool6; /* the IPv6 pool the addresses come from */
	uint8_t pool6_prefixlen;
};

/* Parses "ADDR/N" (N in 16..62, host bits zero) into addr/prefixlen. Returns 0 or -EINVAL. */
int egress_link_parse_pool6(const char *s, struct policy_addr *ret_addr, uint8_t *ret_prefixlen);
/* The host (::1) and task (::2) addresses of slot n's /64 of pool6/plen. Pure. */
void egress_slot_addrs6(const struct policy_addr *pool6, uint8_t plen, unsigned n,
			struct policy_addr *ret_host, struct policy_addr *ret_task);
/*
 * Gives the link of egress_link_new() IPv6: slot l->slot's /64 of pool6/plen on both ends
 * (no duplicate address detection) and the task's IPv6 default route via the host end.
 * Returns 0, -ERANGE when the slot has no /64 in the pool, or a negative errno; on failure
 * the link stays IPv4 only (host_addr6 unset) and may be used as such.
 */
int egress_link_add_v6(struct egress_link *l, const struct policy_addr *pool6, uint8_t plen);

/*
 * Parses "A.B.C.D/N" (N in 8..30) into addr/prefixlen. Returns 0 or -EINVAL.
 */
int egress_link_parse_pool(const char *s, struct policy_addr *ret_addr, uint8_t *ret_prefixlen);

/*
 * Creates the namespace and link: picks the first free /30 slot of pool/prefixlen (a slot
 * is taken while its lock file in dir is flocked) whose name "al<slot>" is free or held by
 * a dead run's veth (deleted), creates veth "al<slot>" with peer "eth0" inside the new
 * namespace, addresses, links up and the task's default route. The caller holds dir's
 * lock (egress_dir_lock()) throughout, and until the host table holds the slot
 * (egress_nat_acquire()): no one may see the slot taken before that. On failure everything
 * created is given up (egress_link_free()). *ret is owned by the caller. Returns 0,
 * -EADDRINUSE (pool exhausted) or another negative errno.
 */
int egress_link_new(const char *dir, const struct policy_addr *pool, uint8_t prefixlen,
		    struct egress_link **ret);

/*
 * Takes the lock of the slot directory dir (created when missing): an flock on
 * <dir>/.lock, retried when the reaper removed the directory meanwhile. Slots are picked,
 * counted and reaped only under it. Returns the lock fd (O_CLOEXEC) or -errno.
 */
int egress_dir_lock(const char *dir);
/* Whether fd is still the file at path (same device and inode): 1, 0, or -errno. */
int fd_is_path(int fd, const char *path);
/* The host (.1) and task (.2) addresses of slot n of pool/plen. Pure. */
void egress_slot_addrs(const struct policy_addr *pool, uint8_t plen, unsigned n,
		       struct policy_addr *ret_host, struct policy_addr *ret_task);
/*
 * Deletes "al<slot>" in the caller's namespace if, and only if, it is a veth carrying the
 * slot's host address /30 (a dead run's leftover). Returns 1 when deleted, 0 when there is
 * no such link, -EEXIST when a link of that name is something else, or -errno.
 */
int egress_link_remove_stale(const struct policy_addr *pool, uint8_t prefixlen, unsigned slot);

/*
 * Ends the run's hold on its slot: removes the host end's address (so the host keeps no
 * route to the /30) and unlinks and unlocks the slot's lock file. The caller holds dir's
 * lock and has taken the slot out of the host table first (egress_nat_release()), so a
 * run never sees a slot free while its elements are in the table, or taken while they are
 * not. Idempotent. Returns 0 or -errno (the slot is given up all the same).
 */
int egress_link_release(struct egress_link *l);

/*
 * Releases the slot if still held (see above: under dir's lock), closes the namespace and
 * frees l. The veth pair is not deleted: closing the last reference to the namespace has
 * the kernel destroy it with the namespace, asynchronously (RTM_DELLINK would block for
 * an RCU barrier). A later run passes over a slot whose name is still taken meanwhile.
 * Accepts and returns NULL.
 */
struct egress_link *egress_link_free(struct egress_link *l);
