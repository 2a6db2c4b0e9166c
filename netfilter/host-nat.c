/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host-side NAT table and its reference count over slot lock files (kernel side). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cleanup.h"
#include "egress-apply.h"
#include "egress-internal.h"
#include "fd-util.h"
#include "host-nat.h"
#include "link.h"
#include "macro.h"
#include "net-sysctl.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct egress_socket *, egress_socket_free);

#define TYPE_IPV4_ADDR 7
#define TYPE_IFNAME 41
#define TYPE_BITS 6
#define IFNAME_LEN 16

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set *, nftnl_set_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_chain *, nftnl_chain_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_rule *, nftnl_rule_free);

/*
 * The host table's sets: which veths are airlock's, each one's resolver address, and the
 * verdict map that sends each one's rejected traffic through its slot's log chain.
 */
enum { SET_LINKS = 1, SET_RESOLVERS = 2, SET_LOGS = 3 };
static const char *const set_names[] = {
	[SET_LINKS] = "links", [SET_RESOLVERS] = "resolvers", [SET_LOGS] = "logs"
};

struct pool {
	uint8_t addr[4];
	uint8_t prefixlen;
	uint8_t addr6[16]; /* the IPv6 pool (EGRESS_LINK_POOL6_DEFAULT unless the link says) */
	uint8_t prefixlen6;
};

enum {
	SRC_POOL = 1 << 0,
	DST_POOL = 1 << 1,
	DST_OTHER = 1 << 2,
	ESTABLISHED = 1 << 3,
	V6 = 1 << 4, /* the IPv6 pool, nfproto ipv6 */
};

/* nfproto ipv4/6 + the matches in flags, then masquerade (verdict < 0) or a verdict. */
static int table_rule(struct egress_batch *b, const char *table, const char *chain,
		      const struct pool *p, unsigned flags, int v)
{
	bool v6 = flags & V6;
	const uint8_t *addr = v6 ? p->addr6 : p->addr;
	uint8_t plen = v6 ? p->prefixlen6 : p->prefixlen;
	uint32_t len = v6 ? 16 : 4;
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, table, chain);
	if (r < 0)
		return r;
	egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	if (flags & SRC_POOL)
		egress_expr_prefix_match_len(&c, v6 ? 8 : 12, addr, len, plen, NFT_CMP_EQ);
	if (flags & (DST_POOL | DST_OTHER))
		egress_expr_prefix_match_len(&c, v6 ? 24 : 16, addr, len, plen,
					     flags & DST_POOL ? NFT_CMP_EQ : NFT_CMP_NEQ);
	if (flags & ESTABLISHED)
		egress_expr_ct_established(&c);
	if (v < 0)
		egress_expr_add(&c, egress_expr_new(&c, "masq"));
	else
		egress_expr_verdict(&c, v);
	return egress_rule_commit(b, &c);
}

static int host_rule(struct egress_batch *b, const char *chain, const struct pool *p,
		     unsigned flags, int v)
{
	return table_rule(b, EGRESS_HOST_TABLE, chain, p, flags, v);
}

static struct nftnl_set *host_set_new(uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, EGRESS_HOST_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_names[id]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

/* links: ifname; resolvers: ifname . ipv4_addr; logs: ifname : verdict. Plain hashes. */
static int host_set_declare(struct egress_batch *b, uint32_t id)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = host_set_new(id);
	bool concat = id == SET_RESOLVERS;
	struct nlmsghdr *nlh;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, id == SET_LOGS ? NFT_SET_MAP : 0);
	if (id == SET_LOGS)
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE,
			  concat ? TYPE_IFNAME << TYPE_BITS | TYPE_IPV4_ADDR : TYPE_IFNAME);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, concat ? IFNAME_LEN + 4 : IFNAME_LEN);
	nlh = egress_batch_msg(b, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return -ENOMEM;
	nftnl_set_nlmsg_build_payload(nlh, s);
	egress_batch_commit(b, nlh);
	return 0;
}

static void host_lookup(struct egress_rule *c, uint32_t id)
{
	struct nftnl_expr *e = egress_expr_new(c, "lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set_names[id]);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
		if (id == SET_LOGS) /* a verdict map: the element's verdict is the rule's */
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	}
	egress_expr_add(c, e);
}

enum { IN_ESTABLISHED, IN_NDISC_NS, IN_NDISC_NA, IN_LOG, IN_REJECT_TCP, IN_REJECT };

/*
 * The input chain: a task reaches the host itself only with IPv6 neighbour discovery with
 * its gateway (its DNS goes to the proxy's sockets in its own namespace, never to the
 * host's port 53, which a resolver of the host's may hold); anything else new
 * arriving on one of airlock's veths is rejected (TCP reset, else ICMP admin-prohibited, so
 * the task fails at once), so a broad cidr rule (10.0.0.0/8, 0.0.0.0/0) cannot open the
 * host's own services. Before that it goes through its veth's log chain ("iifname vmap
 * @logs"), which logs it to that slot's own nflog group and returns.
 */
static int input_rule(struct egress_batch *b, int kind)
{
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, EGRESS_HOST_TABLE, "input");
	if (r < 0)
		return r;
	if (kind == IN_NDISC_NS || kind == IN_NDISC_NA) {
		uint8_t type = kind == IN_NDISC_NS ? 135 : 136;

		egress_expr_meta_load(&c, NFT_META_IIFNAME, NFT_REG32_00);
		host_lookup(&c, SET_LINKS);
		egress_expr_meta_eq_u8(&c, NFT_META_NFPROTO, NFPROTO_IPV6);
		egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, IPPROTO_ICMPV6);
		egress_expr_payload(&c, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		egress_expr_cmp(&c, NFT_CMP_EQ, &type, sizeof(type));
		egress_expr_verdict(&c, NF_ACCEPT);
		return egress_rule_commit(b, &c);
	}
	egress_expr_meta_load(&c, NFT_META_IIFNAME, NFT_REG32_00);
	/* IN_LOG: the map's verdict is the rule's, a jump to the slot's log chain */
	host_lookup(&c, kind == IN_LOG ? SET_LOGS : SET_LINKS);
	if (kind == IN_ESTABLISHED) {
		egress_expr_ct_established(&c);
		egress_expr_verdict(&c, NF_ACCEPT);
	} else if (kind != IN_LOG) {
		if (kind == IN_REJECT_TCP)
			egress_expr_meta_eq_u8(&c, NFT_META_L4PROTO, IPPROTO_TCP);
		egress_expr_counter(&c);
		egress_expr_reject(&c, kind == IN_REJECT_TCP);
	}
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
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "forward", "filter", NF_INET_FORWARD,
				       0);
	if (r >= 0)
		r = egress_build_chain(b, EGRESS_HOST_TABLE, "input", "filter", NF_INET_LOCAL_IN,
				       0);
	if (r >= 0)
		r = host_set_declare(b, SET_LINKS);
	if (r >= 0)
		r = host_set_declare(b, SET_RESOLVERS);
	if (r >= 0)
		r = host_set_declare(b, SET_LOGS);
	for (unsigned v6 = 0; v6 <= V6; v6 += V6) { /* NAT44, then NAT66 */
		if (r >= 0)
			r = host_rule(b, "postrouting", p, v6 | SRC_POOL | DST_OTHER, -1);
		if (r >= 0) /* tasks never reach each other */
			r = host_rule(b, "forward", p, v6 | SRC_POOL | DST_POOL, NF_DROP);
		if (r >= 0)
			r = host_rule(b, "forward", p, v6 | SRC_POOL, NF_ACCEPT);
		if (r >= 0)
			r = host_rule(b, "forward", p, v6 | DST_POOL | ESTABLISHED, NF_ACCEPT);
		if (r >= 0) /* nothing new comes in towards a task */
			r = host_rule(b, "forward", p, v6 | DST_POOL, NF_DROP);
	}
	for (int k = IN_ESTABLISHED; r >= 0 && k <= IN_REJECT; k++)
		r = input_rule(b, k);
	return r;
}

int egress_host_nflog_group(unsigned slot)
{
	if (slot > UINT16_MAX - EGRESS_HOST_NFLOG_GROUP_BASE)
		return -ERANGE;
	return EGRESS_HOST_NFLOG_GROUP_BASE + (int)slot;
}

/* Appends the set elements of one slot in links and resolvers (add, or delete when del). */
static int slot_elems(struct egress_batch *b, const char *ifname, const struct policy_addr *host,
		      bool del)
{
	uint8_t key[IFNAME_LEN + 4] = {};

	strncpy((char *)key, ifname, IFNAME_LEN - 1);
	memcpy(key + IFNAME_LEN, host->addr, 4);
	for (uint32_t id = SET_LINKS; id <= SET_RESOLVERS; id++) {
		_cleanup_(nftnl_set_freep) struct nftnl_set *s = host_set_new(id);
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		struct nlmsghdr *nlh;

		if (!s || !e) {
			nftnl_set_elem_free(e);
			return -ENOMEM;
		}
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key,
				   id == SET_RESOLVERS ? sizeof(key) : IFNAME_LEN);
		nftnl_set_elem_add(s, e); /* the set owns e now */
		nlh = egress_batch_msg(b, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
				       NFPROTO_INET, del ? 0 : NLM_F_CREATE);
		if (!nlh)
			return -ENOMEM;
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		egress_batch_commit(b, nlh);
	}
	return 0;
}

/* The element of logs for ifname: "<ifname> : jump <chain>". */
static int log_elem(struct egress_batch *b, const char *ifname, const char *chain, bool del)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = host_set_new(SET_LOGS);
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	char key[IFNAME_LEN] = {};
	struct nlmsghdr *nlh;

	if (!s || !e) {
		nftnl_set_elem_free(e);
		return -ENOMEM;
	}
	strncpy(key, ifname, IFNAME_LEN - 1);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, IFNAME_LEN);
	if (!del) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(s, e); /* the set owns e now */
	nlh = egress_batch_msg(b, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, NFPROTO_INET,
			       del ? 0 : NLM_F_CREATE);
	if (!nlh)
		return -ENOMEM;
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	egress_batch_commit(b, nlh);
	return 0;
}

/* A regular chain of the host table: NEWCHAIN (create), DELCHAIN, or DELRULE (flush). */
static int log_chain_msg(struct egress_batch *b, const char *chain, uint16_t type)
{
	_cleanup_(nftnl_chain_freep) struct nftnl_chain *c = NULL;
	_cleanup_(nftnl_rule_freep) struct nftnl_rule *rule = NULL;
	struct nlmsghdr *nlh;

	nlh = egress_batch_msg(b, type, NFPROTO_INET, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0);
	if (!nlh)
		return -ENOMEM;
	if (type == NFT_MSG_DELRULE) { /* no handle: every rule of the chain */
		rule = nftnl_rule_alloc();
		if (!rule)
			return -ENOMEM;
		nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, EGRESS_HOST_TABLE);
		nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, chain);
		nftnl_rule_set_u32(rule, NFTNL_RULE_FAMILY, NFPROTO_INET);
		nftnl_rule_nlmsg_build_payload(nlh, rule);
	} else {
		c = nftnl_chain_alloc();
		if (!c)
			return -ENOMEM;
		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, EGRESS_HOST_TABLE);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
		nftnl_chain_nlmsg_build_payload(nlh, c);
	}
	egress_batch_commit(b, nlh);
	return 0;
}

/*
 * Slot n's log chain "log-al<n>": one rule, "log group <egress_host_nflog_group(n)> prefix
 * EGRESS_LOG_PREFIX_HOST", reached through its element of logs. Added (emptied first, in
 * case a dead run's is still there) or deleted, element first. A slot without a group has
 * neither.
 */
static int slot_log(struct egress_batch *b, const char *ifname, unsigned slot, bool del)
{
	int group = egress_host_nflog_group(slot);
	struct egress_rule c;
	char chain[32];
	int r;

	if (group < 0)
		return 0;
	snprintf(chain, sizeof(chain), "log-%s", ifname);
	if (del) {
		r = log_elem(b, ifname, chain, true);
		if (r >= 0)
			r = log_chain_msg(b, chain, NFT_MSG_DELRULE);
		return r < 0 ? r : log_chain_msg(b, chain, NFT_MSG_DELCHAIN);
	}
	r = log_chain_msg(b, chain, NFT_MSG_NEWCHAIN);
	if (r >= 0)
		r = log_chain_msg(b, chain, NFT_MSG_DELRULE);
	if (r >= 0)
		r = egress_rule_begin(&c, EGRESS_HOST_TABLE, chain);
	if (r < 0)
		return r;
	egress_expr_log(&c, (uint16_t)group, EGRESS_LOG_PREFIX_HOST);
	r = egress_rule_commit(b, &c);
	return r < 0 ? r : log_elem(b, ifname, chain, false);
}

enum { SLOT_SETS = 1 << 0, SLOT_LOG = 1 << 1 };

static int send_slot(struct egress_socket *s, unsigned slot, const struct policy_addr *host,
		     unsigned what, bool del)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b =
		egress_batch_new(egress_socket_seq(s, 0));
	char ifname[IFNAME_LEN];
	int r = 0;

	if (!b)
		return -ENOMEM;
	snprintf(ifname, sizeof(ifname), "al%u", slot);
	if (what & SLOT_SETS)
		r = slot_elems(b, ifname, host, del);
	if (r >= 0 && (what & SLOT_LOG))
		r = slot_log(b, ifname, slot, del);
	if (r >= 0)
		r = egress_batch_end(b);
	if (r < 0)
		return r;
	egress_socket_seq(s, b->n_msgs + 2);
	return egress_send(s, b);
}

/*
 * Adds a slot's elements and log chain in one transaction, or deletes them. A delete that
 * misses something (a dead run of an airlock without log chains, or what is gone already)
 * is aborted as a whole: then the parts go one by one.
 */
static int send_slot_elems(struct egress_socket *s, unsigned slot, const struct policy_addr *host,
			   bool del)
{
	int r;

	r = send_slot(s, slot, host, SLOT_SETS | SLOT_LOG, del);
	if (!del || r != -ENOENT)
		return r;
	r = send_slot(s, slot, host, SLOT_SETS, true);
	if (r < 0 && r != -ENOENT)
		return r;
	r = send_slot(s, slot, host, SLOT_LOG, true);
	return r == -ENOENT ? 0 : r;
}

/* A dead run's slot: its veth (only if it is ours), its set elements and log chain. */
static void reap_slot(struct egress_socket *s, const struct pool *p, unsigned slot)
{
	struct policy_addr pool = { .family = AF_INET }, host, task;
	int r;

	memcpy(pool.addr, p->addr, 4);
	/* -EEXIST: the name is another link's; the elements are the dead slot's all the same. */
	r = egress_link_remove_stale(&pool, p->prefixlen, slot);
	if (r < 0 && r != -EEXIST)
		return;
	egress_slot_addrs(&pool, p->prefixlen, slot, &host, &task);
	(void)send_slot_elems(s, slot, &host, true);
}

/*
 * Deletes the host table if it exists. Every run start (reap, acquire) asks for this and
 * usually finds nothing: looked up first, because a delete that misses is an aborted
 * transaction, and an abort waits for an RCU grace period (8-20 ms on our VMs).
 */
static int delete_table(struct egress_socket *s, const char *name)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int r;

	r = egress_table_exists(s, NFPROTO_INET, name);
	if (r <= 0)
		return r;
	b = egress_batch_new(egress_socket_seq(s, 3));
	if (!b)
		return -ENOMEM;
	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
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

static int delete_host_table(struct egress_socket *s)
{
	return delete_table(s, EGRESS_HOST_TABLE);
}

/*
 * The pools the host table was built for, kept next to the slot locks as "A.B.C.D/N" and
 * "IPV6/N" on the next line.
 */
static int pool_file_read(const char *dir, struct pool *ret)
{
	_cleanup_free_ char *buf = NULL;
	struct policy_addr a;
	char path[512], *v6;
	int r;

	snprintf(path, sizeof(path), "%s/pool", dir);
	r = read_file_at(AT_FDCWD, path, 128, &buf, NULL);
	if (r < 0)
		return r;
	v6 = buf + strcspn(buf, "\n");
	if (*v6)
		*v6++ = 0;
	v6[strcspn(v6, "\n")] = 0;
	r = egress_link_parse_pool(buf, &a, &ret->prefixlen);
	if (r < 0)
		return r;
	memcpy(ret->addr, a.addr, 4);
	/* An older airlock wrote the IPv4 pool only; its reaper needs no more. */
	r = egress_link_parse_pool6(*v6 ? v6 : EGRESS_LINK_POOL6_DEFAULT, &a, &ret->prefixlen6);
	if (r < 0)
		return r;
	memcpy(ret->addr6, a.addr, 16);
	return 0;
}

/* Creates or replaces <dir>/<name> with text (0600, never through a symlink). */
static int state_file_write(const char *dir, const char *name, const char *text)
{
	_cleanup_close_ int fd = -EBADF;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	return write_all(fd, text, strlen(text));
}

static int pool_file_write(const char *dir, const struct pool *p)
{
	char buf[96], v6[INET6_ADDRSTRLEN];

	if (!inet_ntop(AF_INET6, p->addr6, v6, sizeof(v6)))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u\n%s/%u\n", p->addr[0], p->addr[1], p->addr[2],
		 p->addr[3], p->prefixlen, v6, p->prefixlen6);
	return state_file_write(dir, "pool", buf);
}

/*
 * Forwarding that airlock manages ("forwarding": "manage" in the node configuration): on a
 * host that forwards nothing, the first run turns forwarding on, and the last one (or the
 * reaper of a dead one) turns it off again. So that the host forwards nothing but the
 * runs' traffic meanwhile, a guard table drops every forwarded packet of a family airlock
 * turned on except the pools' own; it exists before forwarding goes on and stays until
 * forwarding is off again. <dir>/forwarding names the families airlock turned on.
 */
#define FORWARD_MARK "forwarding"

enum { FWD_V4 = 1 << 0, FWD_V6 = 1 << 1 };

static int guard_table_send(struct egress_socket *s, const struct pool *p, unsigned fams)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	int r;

	b = egress_batch_new(egress_socket_seq(s, 0));
	if (!b)
		return -ENOMEM;
	r = egress_build_table(b, EGRESS_FORWARD_TABLE);
	if (r >= 0) /* ahead of other forward chains; policy accept: other families untouched */
		r = egress_build_chain(b, EGRESS_FORWARD_TABLE, "forward", "filter",
				       NF_INET_FORWARD, -10);
	for (unsigned v6 = 0; r >= 0 && v6 <= V6; v6 += V6) {
		if (!(fams & (v6 ? FWD_V6 : FWD_V4)))
			continue;
		r = table_rule(b, EGRESS_FORWARD_TABLE, "forward", p, v6 | SRC_POOL, NF_ACCEPT);
		if (r >= 0)
			r = table_rule(b, EGRESS_FORWARD_TABLE, "forward", p,
				       v6 | DST_POOL | ESTABLISHED, NF_ACCEPT);
		if (r >= 0)
			r = table_rule(b, EGRESS_FORWARD_TABLE, "forward", p, v6, NF_DROP);
	}
	if (r >= 0)
		r = egress_batch_end(b);
	if (r < 0)
		return r;
	egress_socket_seq(s, b->n_msgs + 2);
	return egress_send(s, b);
}

/* Turns on the forwarding the runs need (v6 too when want6), guard first. */
static int forward_manage(struct egress_socket *s, const char *dir, const struct pool *p,
			  bool want6)
{
	char mark[4] = "";
	unsigned fams = 0;
	int r;

	if (net_ip_forward_enabled() <= 0)
		fams |= FWD_V4;
	if (want6 && net_ip6_forward_enabled() <= 0)
		fams |= FWD_V6;
	if (!fams)
		return 0;
	r = guard_table_send(s, p, fams);
	if (r < 0)
		return r;
	snprintf(mark, sizeof(mark), "%s%s", fams & FWD_V4 ? "4" : "", fams & FWD_V6 ? "6" : "");
	r = state_file_write(dir, FORWARD_MARK, mark);
	if (r >= 0 && (fams & FWD_V4))
		r = write_string_at(AT_FDCWD, NET_IP_FORWARD, "1");
	if (r >= 0 && (fams & FWD_V6))
		r = write_string_at(AT_FDCWD, NET_IP6_FORWARD, "1");
	return r;
}

/* Undoes forward_manage() (also a half-done one of a killed run): forwarding off, then the guard. */
static int forward_restore(struct egress_socket *s, const char *dir)
{
	_cleanup_free_ char *mark = NULL;
	char path[512];
	int r = 0;

	snprintf(path, sizeof(path), "%s/" FORWARD_MARK, dir);
	if (read_file_at(AT_FDCWD, path, 16, &mark, NULL) >= 0) {
		if (strchr(mark, '4'))
			r = write_string_at(AT_FDCWD, NET_IP_FORWARD, "0");
		if (r >= 0 && strchr(mark, '6'))
			r = write_string_at(AT_FDCWD, NET_IP6_FORWARD, "0");
		if (r < 0)
			return r; /* keep the guard while forwarding may still be on */
	}
	r = delete_table(s, EGRESS_FORWARD_TABLE);
	if (r < 0)
		return r;
	(void)unlink(path);
	return 0;
}

static bool pool_equal(const struct pool *a, const struct pool *b)
{
	return a->prefixlen == b->prefixlen && memcmp(a->addr, b->addr, 4) == 0 &&
	       a->prefixlen6 == b->prefixlen6 && memcmp(a->addr6, b->addr6, 16) == 0;
}

/*
 * Goes over the slot locks of dir (the caller holds the directory lock) and counts those
 * held by runs other than own_lock's. A lock nobody holds is a dead run's: when reap is set
 * its veth (checked to be ours) and set elements go first; the file is removed either way.
 * *ret_dead (optional) gets the number of dead slots.
 */
static int scan_slots(const char *dir, const char *own_lock, struct egress_socket *reap,
		      int *ret_dead)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct pool p = {};
	bool have_pool;
	struct dirent *de;
	int n = 0, dead = 0;

	if (!d)
		return -errno;
	have_pool = pool_file_read(dir, &p) >= 0;
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -EBADF;
		char path[512];
		unsigned slot;

		if (sscanf(de->d_name, "slot-%u.lock", &slot) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (own_lock && strcmp(path, own_lock) == 0)
			continue;
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			n++;
			continue;
		}
		dead++;
		if (reap && have_pool)
			reap_slot(reap, &p, slot);
		(void)unlink(path);
	}
	if (ret_dead)
		*ret_dead = dead;
	return n;
}

int egress_nat_acquire(const char *dir, const struct egress_link *l, const struct policy_addr *pool,
		       uint8_t prefixlen, const struct policy_addr *pool6, uint8_t prefixlen6,
		       bool manage_forwarding)
{
	_cleanup_(egress_socket_freep) struct egress_socket *s = NULL;
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	struct pool p = { .prefixlen = prefixlen }, cur;
	int r;

	if (pool->family != AF_INET || prefixlen > 32 || pool6->family != AF_INET6 ||
	    prefixlen6 > 128)
		return -EINVAL;
	memcpy(p.addr6, pool6->addr, 16);
	p.prefixlen6 = prefixlen6;
	memcpy(p.addr, pool->addr, 4);
	for (unsigned i = prefixlen; i < 32; i++)
		p.addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));

	r = egress_socket_open(-EBADF, &s);
	if (r < 0)
		return r;
	r = scan_slots(dir, l->lock_path, s, NULL);
	if (r < 0)
		return r;
	if (r > 0) {
		/* The table of the live runs protects their pool only: never join another. */
		if (pool_file_read(dir, &cur) < 0 || !pool_equal(&cur, &p))
			return -EADDRNOTAVAIL;
		/* -ENOENT: their table has no log map, an older airlock's (same key) */
		r = send_slot_elems(s, l->slot, &l->host_addr, false);
		return r == -ENOENT ? -EBUSY : r;
	}
	r = forward_restore(s, dir); /* a dead run's leftovers */
	if (r >= 0)
		r = delete_host_table(s);
	if (r < 0)
		return r;
	r = pool_file_write(dir, &p);
	if (r < 0)
		return r;
	b = egress_batch_new(egress_socket_seq(s, 0));
	if (!b)
		return -ENOMEM;
	r = build_host_table(b, &p);
	if (r >= 0)
		r = slot_elems(b, l->host_ifname, &l->host_addr, false);
	if (r >= 0)
		r = slot_log(b, l->host_ifname, l->slot, false);
	if (r >= 0)
		r = egress_batch_end(b);
	if (r < 0)
		return r;
	egress_socket_seq(s, b->n_msgs + 2);
	r = egress_send(s, b);
	if (r >= 0 && manage_forwarding)
		r = forward_manage(s, dir, &p, l->host_addr6.family == AF_INET6);
	return r;
}

/* No live slot left: forwarding airlock turned on, then the table and the pool file go. */
static int release_all(const char *dir, struct egress_socket *s)
{
	char path[512];
	int r;

	r = forward_restore(s, dir);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/pool", dir);
	(void)unlink(path);
	return delete_host_table(s);
}

int egress_nat_release(const char *dir, const struct egress_link *l,
		       struct egress_socket **ret_socket)
{
	_cleanup_(egress_socket_freep) struct egress_socket *s = NULL;
	int r;

	r = egress_socket_open(-EBADF, &s);
	if (r < 0)
		return r;
	r = scan_slots(dir, l->lock_path, s, NULL);
	if (r > 0)
		r = send_slot_elems(s, l->slot, &l->host_addr, true);
	else if (r == 0)
		r = release_all(dir, s);
	if (r >= 0 && ret_socket)
		*ret_socket = TAKE_PTR(s);
	return r;
}

/* Removes dir when nothing but the lock is left in it; the caller holds that lock. */
static void dir_remove_if_empty(const char *dir)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (!d)
		return;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
		    !streq(de->d_name, ".lock") && !streq(de->d_name, "pool") &&
		    !streq(de->d_name, FORWARD_MARK))
			return;
	/* Only without a live namespace (or after forward_restore()): its sysctls went with it. */
	snprintf(path, sizeof(path), "%s/" FORWARD_MARK, dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/pool", dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/.lock", dir);
	(void)unlink(path);
	(void)rmdir(dir);
}

void egress_nat_tidy(const char *dir)
{
	dir_remove_if_empty(dir);
}

/*
 * The directory an older airlock kept for dir's namespace: dir without its "-<cookie>".
 * -ENOENT when dir has no cookie (this kernel has none: the two are one).
 */
static int legacy_path(const char *dir, char *buf, size_t len)
{
	const char *slash = strrchr(dir, '/'), *dash;

	dash = strchr(slash ? slash + 1 : dir, '-');
	if (!dash)
		return -ENOENT;
	if ((size_t)snprintf(buf, len, "%.*s", (int)(dash - dir), dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Whether dir's legacy directory exists: 1, 0, or -errno. */
static int legacy_exists(const char *dir)
{
	char legacy[256];

	if (legacy_path(dir, legacy, sizeof(legacy)) < 0)
		return 0;
	if (access(legacy, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 1;
}

/*
 * The number of slot locks in dir some run holds, changing nothing (scan_slots() removes
 * the free ones); the caller holds dir's lock. A missing dir holds none.
 */
static int slots_held(const char *dir)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -EBADF;
		unsigned slot;

		if (sscanf(de->d_name, "slot-%u.lock", &slot) != 1)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
			n++; /* a free lock is let go when fd closes */
	}
	return n;
}

int egress_nat_reap_legacy(const char *dir)
{
	_cleanup_(egress_socket_freep) struct egress_socket *s = NULL;
	_cleanup_close_ int lock = -EBADF;
	char legacy[256];
	int own_live, dead = 0, r;

	r = legacy_exists(dir);
	if (r <= 0)
		return r;
	(void)legacy_path(dir, legacy, sizeof(legacy));
	lock = egress_dir_lock(legacy);
	if (lock < 0)
		return lock;
	r = slots_held(legacy);
	if (r != 0)
		return r < 0 ? r : -EBUSY;

	/*
	 * Its dead runs' kernel state is ours to reap (the same namespace), unless a run of
	 * ours is live: then the host table is that run's, and so may be an al<n> that carries
	 * a dead legacy slot's address. Only the files go then.
	 */
	own_live = slots_held(dir);
	if (own_live < 0)
		return own_live;
	if (own_live == 0) {
		r = egress_socket_open(-EBADF, &s);
		if (r < 0)
			return r;
	}
	r = scan_slots(legacy, NULL, s, &dead);
	if (r < 0)
		return r;
	if (s) {
		r = release_all(legacy, s);
		if (r < 0)
			return r;
	}
	dir_remove_if_empty(legacy);
	return dead;
}

int egress_nat_reap(const char *dir, bool own_netns)
{
	_cleanup_(egress_socket_freep) struct egress_socket *s = NULL;
	_cleanup_close_ int lock = -EBADF;
	int live, dead = 0, legacy = 0, r;
	bool existed;

	if (own_netns) {
		legacy = legacy_exists(dir);
		if (legacy < 0)
			return legacy;
	}
	existed = access(dir, F_OK) == 0;
	if (!existed && errno != ENOENT)
		return -errno;
	if (!existed && !legacy)
		return 0;
	lock = egress_dir_lock(dir); /* created, when only the legacy directory is there */
	if (lock < 0)
		return lock;
	if (legacy) {
		/* Beside an older airlock's live runs nothing is ours to reap. */
		r = egress_nat_reap_legacy(dir);
		if (r < 0 && !existed)
			dir_remove_if_empty(dir);
		if (r < 0)
			return r;
		dead = r;
	}
	if (own_netns) {
		r = egress_socket_open(-EBADF, &s);
		if (r < 0)
			return r;
	}
	live = scan_slots(dir, NULL, s, &r);
	if (live < 0)
		return live;
	dead += r;
	if (live > 0)
		return dead;
	if (s) {
		r = release_all(dir, s);
		if (r < 0)
			return r;
	}
	dir_remove_if_empty(dir);
	return dead;
}
