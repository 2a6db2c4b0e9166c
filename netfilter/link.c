/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The task's namespace, veth pair, addresses and route (libnl-route-3; kernel side). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

#include "cleanup.h"
#include "fd-util.h"
#include "link.h"
#include "netns-util.h"

#define SLOT_TRIES 4096

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct egress_link *, egress_link_free);

/* The one adapter from libnl's error space to -errno. */
static int nl_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_PERM:
	case NLE_NOACCESS:
		return -EPERM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	default:
		return -EIO;
	}
}

/* "ADDR/LEN" of family with LEN in min..max; host bits must be zero when zero_host. */
static int parse_prefix(const char *s, int family, unsigned min, unsigned max, bool zero_host,
			struct policy_addr *ret_addr, uint8_t *ret_prefixlen)
{
	char buf[INET6_ADDRSTRLEN + 4], *slash, *end;
	struct policy_addr a = { .family = family };
	unsigned bits = family == AF_INET ? 32 : 128;
	unsigned long plen;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (errno || *end || plen < min || plen > max || inet_pton(family, buf, a.addr) != 1)
		return -EINVAL;
	for (unsigned bit = (unsigned)plen; zero_host && bit < bits; bit++)
		if (a.addr[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	*ret_addr = a;
	*ret_prefixlen = (uint8_t)plen;
	return 0;
}

int egress_link_parse_pool(const char *s, struct policy_addr *ret_addr, uint8_t *ret_prefixlen)
{
	return parse_prefix(s, AF_INET, 8, 30, false, ret_addr, ret_prefixlen);
}

int egress_link_parse_pool6(const char *s, struct policy_addr *ret_addr, uint8_t *ret_prefixlen)
{
	return parse_prefix(s, AF_INET6, 16, 62, true, ret_addr, ret_prefixlen);
}

/* Connects a route socket in netns_fd (or here when < 0). */
static int route_socket(int netns_fd, struct nl_sock **ret)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
	int saved = -EBADF, r;

	if (!sk)
		return -ENOMEM;
	if (netns_fd >= 0) {
		saved = netns_enter(netns_fd);
		if (saved < 0)
			return saved;
	}
	r = nl_to_errno(nl_connect(sk, NETLINK_ROUTE));
	if (saved >= 0)
		netns_leave(saved);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(sk);
	return 0;
}

static int addr_of(const struct policy_addr *a, uint8_t plen, struct nl_addr **ret)
{
	struct nl_addr *n = nl_addr_build(a->family, a->addr, a->family == AF_INET ? 4 : 16);

	if (!n)
		return -ENOMEM;
	nl_addr_set_prefixlen(n, plen);
	*ret = n;
	return 0;
}

int egress_dir_lock(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/.lock", dir);
	/* Each retry means another run took and tidied the directory meanwhile: a run that
	 * loses many in a row only waits behind others that made progress. */
	for (unsigned tries = 0; tries < 128; tries++) {
		_cleanup_close_ int fd = -EBADF;
		int r;

		r = mkdir_p(dir, 0700);
		if (r < 0)
			return r;
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno == ENOENT)
			continue; /* the last run's tidy removed the directory since mkdir_p() */
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX) < 0)
			return -errno;
		r = fd_is_path(fd, path);
		if (r < 0)
			return r;
		if (r > 0)
			return TAKE_FD(fd);
		/* the reaper removed the directory while we waited: start over */
	}
	return -EAGAIN;
}

int fd_is_path(int fd, const char *path)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0)
		return -errno;
	if (stat(path, &b) < 0)
		return errno == ENOENT ? 0 : -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Takes slot n when its lock file can be flocked; -EBUSY when another run holds it. The
 * caller holds the directory lock, so no one unlinks lock files meanwhile; the inode check
 * still refuses a file that was unlinked between our open() and flock().
 */
static int slot_lock(const char *dir, unsigned n, struct egress_link *l)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	snprintf(l->lock_path, sizeof(l->lock_path), "%s/slot-%u.lock", dir, n);
	fd = open(l->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	r = fd_is_path(fd, l->lock_path);
	if (r <= 0)
		return r < 0 ? r : -EBUSY;
	l->lock_fd = TAKE_FD(fd);
	l->slot = n;
	return 0;
}

void egress_slot_addrs(const struct policy_addr *pool, uint8_t plen, unsigned n,
		       struct policy_addr *ret_host, struct policy_addr *ret_task)
{
	uint32_t base, addr;

	memcpy(&base, pool->addr, 4);
	base = ntohl(base) & ~((1u << (32 - plen)) - 1);
	addr = htonl(base + 4 * n + 1);
	*ret_host = (struct policy_addr){ .family = AF_INET };
	memcpy(ret_host->addr, &addr, 4);
	addr = htonl(base + 4 * n + 2);
	*ret_task = (struct policy_addr){ .family = AF_INET };
	memcpy(ret_task->addr, &addr, 4);
}

void egress_slot_addrs6(const struct policy_addr *pool6, uint8_t plen, unsigned n,
			struct policy_addr *ret_host, struct policy_addr *ret_task)
{
	struct policy_addr a = { .family = AF_INET6 };
	uint64_t net = 0;

	for (unsigned i = 0; i < 8; i++)
		net = net << 8 | pool6->addr[i];
	if (plen < 64)
		net = (net & ~((UINT64_C(1) << (64 - plen)) - 1)) | n;
	for (unsigned i = 0; i < 8; i++)
		a.addr[i] = (uint8_t)(net >> (56 - 8 * i));
	a.addr[15] = 1;
	*ret_host = a;
	a.addr[15] = 2;
	*ret_task = a;
}

/* The first slot from first on whose lock is free; the caller holds the directory lock. */
static int slot_pick(const char *dir, const struct policy_addr *pool, uint8_t plen, unsigned first,
		     struct egress_link *l)
{
	uint32_t n_slots = 1u << (30 - plen);
	int r;

	for (unsigned n = first; n < n_slots && n < SLOT_TRIES; n++) {
		r = slot_lock(dir, n, l);
		if (r == -EBUSY)
			continue;
		if (r < 0)
			return r;
		egress_slot_addrs(pool, plen, n, &l->host_addr, &l->task_addr);
		snprintf(l->host_ifname, sizeof(l->host_ifname), "al%u", n);
		return 0;
	}
	return -EADDRINUSE;
}

/* Whether ifindex carries addr/30 (the host end of a slot). */
static int link_has_addr(struct nl_sock *sk, int ifindex, const struct policy_addr *addr)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	int r;

	r = nl_to_errno(rtnl_addr_alloc_cache(sk, &cache));
	if (r < 0)
		return r;
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);

		if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET ||
		    !local || nl_addr_get_len(local) != 4 || rtnl_addr_get_prefixlen(a) != 30)
			continue;
		if (memcmp(nl_addr_get_binary_addr(local), addr->addr, 4) == 0)
			return 1;
	}
	return 0;
}

/*
 * Deletes the host link ifname only if it is a veth carrying host_addr/30, i.e. a slot's
 * link left over by a dead run. Returns 1 when deleted, 0 when absent, -EEXIST when a link
 * of that name is something else (not ours to touch), or -errno.
 */
static int link_remove_stale(struct nl_sock *sk, const char *ifname,
			     const struct policy_addr *host_addr)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	const char *type;
	int r;

	r = nl_to_errno(rtnl_link_get_kernel(sk, 0, ifname, &link));
	if (r == -ENOENT || r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	type = rtnl_link_get_type(link);
	if (!type || strcmp(type, "veth") != 0)
		return -EEXIST;
	r = link_has_addr(sk, rtnl_link_get_ifindex(link), host_addr);
	if (r <= 0)
		return r < 0 ? r : -EEXIST;
	r = nl_to_errno(rtnl_link_delete(sk, link));
	return r == -ENOENT || r == -ENODEV ? 0 : r < 0 ? r : 1;
}

int egress_link_remove_stale(const struct policy_addr *pool, uint8_t prefixlen, unsigned slot)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	struct policy_addr host, task;
	char ifname[16];
	int r;

	if (pool->family != AF_INET || prefixlen < 8 || prefixlen > 30 ||
	    slot >= 1u << (30 - prefixlen))
		return -EINVAL;
	r = route_socket(-EBADF, &sk);
	if (r < 0)
		return r;
	egress_slot_addrs(pool, prefixlen, slot, &host, &task);
	snprintf(ifname, sizeof(ifname), "al%u", slot);
	return link_remove_stale(sk, ifname, &host);
}

/*
 * Makes the slot's link name free, or says why not: 0 when no link has it, or when it was
 * a dead run's veth (still carrying the slot's host address), now deleted; -EEXIST when
 * a link of that name is something else: a veth of a finished run that the kernel has not
 * destroyed yet (teardown took its address), or not ours at all.
 */
static int slot_name_free(struct nl_sock *sk, const struct egress_link *l)
{
	int r = link_remove_stale(sk, l->host_ifname, &l->host_addr);

	return r < 0 ? r : 0;
}

static int veth_create(struct nl_sock *sk, const struct egress_link *l)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *veth = rtnl_link_veth_alloc();
	_cleanup_(rtnl_link_putp) struct rtnl_link *peer = NULL;

	if (!veth)
		return -ENOMEM;
	rtnl_link_set_name(veth, l->host_ifname);
	peer = rtnl_link_veth_get_peer(veth);
	if (!peer)
		return -ENOMEM;
	rtnl_link_set_name(peer, EGRESS_LINK_TASK_IFNAME);
	/* The peer is born inside the task namespace: it never exists on the host. */
	rtnl_link_set_ns_fd(peer, l->netns_fd);
	return nl_to_errno(rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL));
}

static int link_up(struct nl_sock *sk, const char *name, int *ret_ifindex)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
	int r;

	if (!change)
		return -ENOMEM;
	r = nl_to_errno(rtnl_link_get_kernel(sk, 0, name, &link));
	if (r < 0)
		return r;
	rtnl_link_set_flags(change, IFF_UP);
	r = nl_to_errno(rtnl_link_change(sk, link, change, 0));
	if (r < 0)
		return r;
	if (ret_ifindex)
		*ret_ifindex = rtnl_link_get_ifindex(link);
	return 0;
}

/* a/30 (IPv4) or a/64 (IPv6, usable at once: no duplicate address detection). */
static int addr_add(struct nl_sock *sk, int ifindex, const struct policy_addr *a)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = rtnl_addr_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
	int r;

	if (!ra)
		return -ENOMEM;
	r = addr_of(a, a->family == AF_INET ? 30 : 64, &local);
	if (r < 0)
		return r;
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, a->family);
	if (a->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	r = nl_to_errno(rtnl_addr_set_local(ra, local));
	if (r < 0)
		return r;
	return nl_to_errno(rtnl_addr_add(sk, ra, 0));
}

static int default_route(struct nl_sock *sk, int ifindex, const struct policy_addr *gw)
{
	_cleanup_(rtnl_route_putp) struct rtnl_route *rt = rtnl_route_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *dst = NULL, *via = NULL;
	struct policy_addr any = { .family = gw->family };
	struct rtnl_nexthop *nh;
	int r;

	if (!rt)
		return -ENOMEM;
	r = addr_of(&any, 0, &dst);
	if (r >= 0)
		r = addr_of(gw, gw->family == AF_INET ? 32 : 128, &via);
	if (r < 0)
		return r;
	rtnl_route_set_family(rt, (uint8_t)gw->family);
	r = nl_to_errno(rtnl_route_set_dst(rt, dst));
	if (r < 0)
		return r;
	nh = rtnl_route_nh_alloc();
	if (!nh)
		return -ENOMEM;
	rtnl_route_nh_set_gateway(nh, via);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(rt, nh); /* the route owns nh now */
	return nl_to_errno(rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL));
}

/*
 * No IPv6 link-local address on name (IN6_ADDR_GEN_MODE_NONE), set before the link goes
 * up, when the kernel would make one: the veth ends carry only the addresses airlock gives
 * them. A kernel without IPv6 makes none anyway.
 */
static int link_no_ll(struct nl_sock *sk, const char *name)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *change = rtnl_link_alloc();
	int r;

	if (!change)
		return -ENOMEM;
	r = nl_to_errno(rtnl_link_get_kernel(sk, 0, name, &link));
	if (r < 0)
		return r;
	r = nl_to_errno(rtnl_link_inet6_set_addr_gen_mode(change, IN6_ADDR_GEN_MODE_NONE));
	if (r >= 0)
		r = nl_to_errno(rtnl_link_change(sk, link, change, 0));
	return r == -EAFNOSUPPORT || r == -EOPNOTSUPP ? 0 : r;
}

/*
 * Writes value to path, a sysctl under /proc/sys/net, of the task's namespace: /proc/sys/net
 * is the namespace of whoever opens it, so it is opened inside. Never the host's.
 */
static int task_sysctl(int netns_fd, const char *path, const char *value)
{
	_cleanup_close_ int fd = -EBADF;
	int saved, r = 0;

	saved = netns_enter(netns_fd);
	if (saved < 0)
		return saved;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		r = -errno;
	netns_leave(saved);
	if (r < 0)
		return r;
	return write_all(fd, value, strlen(value));
}

/* /proc/sys/net/ipv6/conf/<EGRESS_LINK_TASK_IFNAME>/<knob> of the task's namespace. */
static int task_ipv6_sysctl(int netns_fd, const char *knob, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", EGRESS_LINK_TASK_IFNAME,
		 knob);
	return task_sysctl(netns_fd, path, value);
}

/*
 * The task's namespace forwards nothing, whatever the host does: a new namespace copies
 * IPv4 forwarding from the initial one (1 on a router). IPv6 starts off, and is written all
 * the same (not there without IPv6). Its ruleset's forward chain drops anything anyway.
 */
static int task_no_forwarding(int netns_fd)
{
	int r;

	r = task_sysctl(netns_fd, "/proc/sys/net/ipv4/ip_forward", "0");
	if (r < 0)
		return r;
	r = task_sysctl(netns_fd, "/proc/sys/net/ipv6/conf/all/forwarding", "0");
	return r == -ENOENT ? 0 : r;
}

/* Host side: address and up. Task side: lo up, eth0 address and up, default route. */
static int link_configure(struct nl_sock *host, struct nl_sock *task, struct egress_link *l)
{
	int ifindex, r;

	r = link_no_ll(host, l->host_ifname);
	if (r >= 0)
		r = link_no_ll(task, EGRESS_LINK_TASK_IFNAME);
	if (r >= 0)
		r = link_up(host, l->host_ifname, &l->host_ifindex);
	if (r >= 0)
		r = addr_add(host, l->host_ifindex, &l->host_addr);
	if (r >= 0)
		r = link_up(task, "lo", NULL);
	if (r >= 0)
		r = link_up(task, EGRESS_LINK_TASK_IFNAME, &ifindex);
	if (r >= 0)
		r = addr_add(task, ifindex, &l->task_addr);
	if (r >= 0)
		r = default_route(task, ifindex, &l->host_addr);
	return r;
}

/* Gives up slot l holds (its lock file goes); the caller holds the directory lock. */
static void slot_unlock(struct egress_link *l)
{
	if (l->lock_fd < 0)
		return;
	(void)unlink(l->lock_path);
	l->lock_fd = safe_close(l->lock_fd);
}

/*
 * Picks a slot and creates its veth. A slot whose link name is taken by anything but a
 * dead run's veth is passed over, and left alone: a finished run's veth that the kernel
 * is still destroying with its namespace (teardown does not wait for that), or a link
 * that is not ours. Checked before the create, which would pay for a failed veth pair.
 */
static int link_take_slot(const char *dir, const struct policy_addr *pool, uint8_t prefixlen,
			  struct nl_sock *host, struct egress_link *l)
{
	unsigned first = 0;
	int r;

	for (unsigned tries = 0; tries < SLOT_TRIES; tries++) {
		r = slot_pick(dir, pool, prefixlen, first, l);
		if (r < 0)
			return r;
		r = slot_name_free(host, l);
		if (r >= 0)
			r = veth_create(host, l);
		if (r != -EEXIST)
			break;
		slot_unlock(l);
		first = l->slot + 1;
	}
	if (r < 0)
		l->host_ifname[0] = 0; /* not ours */
	return r;
}

int egress_link_new(const char *dir, const struct policy_addr *pool, uint8_t prefixlen,
		    struct egress_link **ret)
{
	_cleanup_(egress_link_freep) struct egress_link *l = NULL;
	_cleanup_(nl_socket_freep) struct nl_sock *host = NULL, *task = NULL;
	int r;

	if (pool->family != AF_INET || prefixlen < 8 || prefixlen > 30)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->netns_fd = l->lock_fd = -EBADF;

	r = netns_new();
	if (r < 0)
		return r;
	l->netns_fd = r;
	r = task_no_forwarding(l->netns_fd);
	if (r < 0)
		return r;
	r = route_socket(-EBADF, &host);
	if (r >= 0)
		r = route_socket(l->netns_fd, &task);
	if (r < 0)
		return r;
	r = link_take_slot(dir, pool, prefixlen, host, l);
	if (r < 0)
		return r;
	r = link_configure(host, task, l);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(l);
	return 0;
}

int egress_link_add_v6(struct egress_link *l, const struct policy_addr *pool6, uint8_t plen)
{
	_cleanup_(nl_socket_freep) struct nl_sock *host = NULL, *task = NULL;
	_cleanup_(rtnl_link_putp) struct rtnl_link *hl = NULL, *tl = NULL;
	struct policy_addr h, t;
	int r;

	if (pool6->family != AF_INET6 || plen < 16 || plen > 62)
		return -EINVAL;
	if (64 - plen < 32 && l->slot >> (64 - plen) != 0)
		return -ERANGE;
	egress_slot_addrs6(pool6, plen, l->slot, &h, &t);

	/* A task with IPv6 takes no router advertisements, and needs no DAD. */
	r = task_ipv6_sysctl(l->netns_fd, "accept_ra", "0");
	if (r >= 0)
		r = task_ipv6_sysctl(l->netns_fd, "accept_dad", "0");
	if (r >= 0)
		r = route_socket(-EBADF, &host);
	if (r >= 0)
		r = route_socket(l->netns_fd, &task);
	if (r >= 0)
		r = nl_to_errno(rtnl_link_get_kernel(host, 0, l->host_ifname, &hl));
	if (r >= 0)
		r = nl_to_errno(rtnl_link_get_kernel(task, 0, EGRESS_LINK_TASK_IFNAME, &tl));
	if (r >= 0)
		r = addr_add(host, rtnl_link_get_ifindex(hl), &h);
	if (r >= 0)
		r = addr_add(task, rtnl_link_get_ifindex(tl), &t);
	if (r >= 0)
		r = default_route(task, rtnl_link_get_ifindex(tl), &h);
	if (r < 0)
		return r;
	l->host_addr6 = h;
	l->task_addr6 = t;
	l->pool6 = *pool6;
	l->pool6_prefixlen = plen;
	return 0;
}

/*
 * The host end's address goes at once, and with it the /30's route: from the host's point
 * of view the run is over even while the kernel still destroys the pair (RTM_DELADDR is
 * cheap; RTM_DELLINK waits for an RCU barrier, about 20 ms).
 */
static int host_addr_delete(const struct egress_link *l, const struct policy_addr *a, uint8_t plen)
{
	_cleanup_(nl_socket_freep) struct nl_sock *sk = NULL;
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = rtnl_addr_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
	int r;

	if (!ra)
		return -ENOMEM;
	r = route_socket(-EBADF, &sk);
	if (r < 0)
		return r;
	r = addr_of(a, plen, &local);
	if (r < 0)
		return r;
	rtnl_addr_set_ifindex(ra, l->host_ifindex);
	rtnl_addr_set_family(ra, a->family);
	r = nl_to_errno(rtnl_addr_set_local(ra, local));
	if (r < 0)
		return r;
	r = nl_to_errno(rtnl_addr_delete(sk, ra, 0));
	return r == -ENOENT || r == -ENODEV || r == -EADDRNOTAVAIL ? 0 : r;
}

int egress_link_release(struct egress_link *l)
{
	int r = 0;

	if (!l)
		return 0;
	if (l->host_ifindex > 0)
		r = host_addr_delete(l, &l->host_addr, 30);
	/* The /64's route goes with the IPv6 address, as the /30's with the IPv4 one. */
	if (l->host_ifindex > 0 && l->host_addr6.family == AF_INET6) {
		int k = host_addr_delete(l, &l->host_addr6, 64);

		r = r < 0 ? r : k;
	}
	l->host_ifindex = 0;
	l->host_ifname[0] = 0;
	slot_unlock(l);
	return r;
}

struct egress_link *egress_link_free(struct egress_link *l)
{
	if (!l)
		return NULL;
	(void)egress_link_release(l);
	/* The last reference to the namespace: the kernel destroys it and the veth pair. */
	safe_close(l->netns_fd);
	free(l);
	return NULL;
}
