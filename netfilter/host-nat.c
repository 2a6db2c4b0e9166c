/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host-side NAT table and its reference count over slot lock files (kernel side). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cleanup.h"
#include "egress-apply.h"
#include "egress-internal.h"
#include "fd-util.h"
#include "host-nat.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct egress_socket *, egress_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

struct pool {
	uint8_t addr[4];
	uint8_t mask[4];
};

/* Register 1 = (ip saddr or daddr) & mask, compared with the pool. */
static void pool_match(struct egress_rule *c, uint32_t offset, const struct pool *p, uint32_t op)
{
	struct nftnl_expr *e;
	uint32_t zero = 0;

	egress_expr_payload(c, NFT_PAYLOAD_NETWORK_HEADER, offset, 4, NFT_REG_1);
	e = egress_expr_new(c, "bitwise");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, p->mask, 4);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	}
	egress_expr_add(c, e);
	egress_expr_cmp(c, op, p->addr, 4);
}

enum { SRC_POOL = 1 << 0, DST_POOL = 1 << 1, DST_OTHER = 1 << 2, ESTABLISHED = 1 << 3 };

/* nfproto ipv4 + the matches in flags, then masquerade (verdict < 0) or a verdict. */
static int host_rule(struct egress_batch *b, const char *chain, const struct pool *p,
		     unsigned flags, int v)
{
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_HOST_TABLE, chain);
	if (r < 0)
		return r;
	egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, NFPROTO_IPV4);
	if (flags & SRC_POOL)
		pool_match(&c, 12, p, NFT_CMP_EQ);
	if (flags & (DST_POOL | DST_OTHER))
		pool_match(&c, 16, p, flags & DST_POOL ? NFT_CMP_EQ : NFT_CMP_NEQ);
	if (flags & ESTABLISHED)
		egress_expr_ct_established(&c);
	if (v < 0)
		egress_expr_add(&c, egress_expr_new(&c, "masq"));
	else
		egress_expr_verdict(&c, v);
	return egress_rule_commit(b, &c);
}

static int build_host_table(struct egress_batch *b, const struct pool *p)
{
	int r;

	r = egress_build_table(b, EGRESS_HOST_TABLE);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "postrouting", "nat",
				       NF_INET_POST_ROUTING, 100);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "forward", "filter", NF_INET_FORWARD, 0);
	if (r >= 0)
		r = host_rule(b, "postrouting", p, SRC_POOL | DST_OTHER, -1);
	if (r >= 0) /* tasks never reach each other */
		r = host_rule(b, "forward", p, SRC_POOL | DST_POOL, NF_DROP);
	if (r >= 0)
		r = host_rule(b, "forward", p, SRC_POOL, NF_ACCEPT);
	if (r >= 0)
		r = host_rule(b, "forward", p, DST_POOL | ESTABLISHED, NF_ACCEPT);
	if (r >= 0) /* nothing new comes in towards a task */
		r = host_rule(b, "forward", p, DST_POOL, NF_DROP);
	if (r >= 0)
		r = egress_batch_end(b);
	return r;
}

static int delete_host_table(struct egress_socket *s)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = egress_batch_new(egress_socket_seq(s, 3));
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int r;

	if (!b)
		return -ENOMEM;
	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, EGRESS_HOST_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = egress_batch_msg(b, NFT_MSG_DELTABLE, NFPROTO_INET, 0);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		egress_batch_commit(b, nlh);
	}
	nftnl_table_free(t);
	if (!nlh || egress_batch_end(b) < 0)
		return -ENOMEM;
	r = egress_send(s, b);
	return r == -ENOENT ? 0 : r;
}

/* Counts slot locks held by other runs; removes stale ones. */
static int count_other_holders(const char *dir, const char *own_lock)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -EBADF;
		char path[512];

		if (strncmp(de->d_name, "slot-", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (own_lock && strcmp(path, own_lock) == 0)
			continue;
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			n++;
		else
			(void)unlink(path);
	}
	return n;
}

static int dir_lock(const char *dir)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int r = -errno;

		safe_close(fd);
		return r;
	}
	return fd;
}

int egress_nat_acquire(const char *dir, const char *own_lock, const struct policy_addr *pool,
		       uint8_t prefixlen)
{
	_cleanup_(egress_socket_freep) struct egress_socket *s = NULL;
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	_cleanup_close_ int lock = -EBADF;
	struct pool p = {};
	int r;

	if (pool->family != AF_INET || prefixlen > 32)
		return -EINVAL;
	for (unsigned i = 0; i < 32; i++)
		if (i < prefixlen)
			p.mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (unsigned i = 0; i < 4; i++)
		p.addr[i] = pool->addr[i] & p.mask[i];

	lock = dir_lock(dir);
	if (lock < 0)
		return lock;
	r = count_other_holders(dir, own_lock);
	if (r != 0)
		return r < 0 ? r : 0;
	r = egress_socket_open(-EBADF, &s);
	if (r < 0)
		return r;
	r = delete_host_table(s); /* a dead run's leftover */
	if (r < 0)
		return r;
	b = egress_batch_new(egress_socket_seq(s, 0));
	if (!b)
		return -ENOMEM;
	r = build_host_table(b, &p);
	if (r < 0)
		return r;
	egress_socket_seq(s, b->n_msgs + 2);
	return egress_send(s, b);
}

int egress_nat_release(const char *dir, const char *own_lock)
{
	_cleanup_(egress_socket_freep) struct egress_socket *s = NULL;
	_cleanup_close_ int lock = -EBADF;
	int r;

	lock = dir_lock(dir);
	if (lock < 0)
		return lock;
	r = count_other_holders(dir, own_lock);
	if (r != 0)
		return r < 0 ? r : 0;
	r = egress_socket_open(-EBADF, &s);
	if (r < 0)
		return r;
	return delete_host_table(s);
}

int egress_ip_forward_enabled(void)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = read_file_at(AT_FDCWD, "/proc/sys/net/ipv4/ip_forward", 16, &s, NULL);
	if (r < 0)
		return r;
	return s[0] == '1';
}
