/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sets of the task ruleset and their elements (pure: builds messages only). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "cleanup.h"
#include "egress-internal.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set *, nftnl_set_free);

/* nft's userspace data types, so that `nft list` shows the sets readably. */
#define TYPE_IPV4_ADDR 7
#define TYPE_IPV6_ADDR 8
#define TYPE_INET_SERVICE 13
#define TYPE_BITS 6

static const struct egress_set_def sets[] = {
	{ "allow4_tcp", 1, AF_INET, IPPROTO_TCP, EGRESS_SET_ALLOW },
	{ "allow4_udp", 2, AF_INET, IPPROTO_UDP, EGRESS_SET_ALLOW },
	{ "allow6_tcp", 3, AF_INET6, IPPROTO_TCP, EGRESS_SET_ALLOW },
	{ "allow6_udp", 4, AF_INET6, IPPROTO_UDP, EGRESS_SET_ALLOW },
	{ "dns4_tcp", 5, AF_INET, IPPROTO_TCP, EGRESS_SET_DNS },
	{ "dns4_udp", 6, AF_INET, IPPROTO_UDP, EGRESS_SET_DNS },
	{ "dns6_tcp", 7, AF_INET6, IPPROTO_TCP, EGRESS_SET_DNS },
	{ "dns6_udp", 8, AF_INET6, IPPROTO_UDP, EGRESS_SET_DNS },
	{ "dnsany4_tcp", 9, AF_INET, IPPROTO_TCP, EGRESS_SET_DNS_ANY },
	{ "dnsany4_udp", 10, AF_INET, IPPROTO_UDP, EGRESS_SET_DNS_ANY },
	{ "dnsany6_tcp", 11, AF_INET6, IPPROTO_TCP, EGRESS_SET_DNS_ANY },
	{ "dnsany6_udp", 12, AF_INET6, IPPROTO_UDP, EGRESS_SET_DNS_ANY },
	{ "deny4", 13, AF_INET, 0, EGRESS_SET_DENY },
	{ "deny6", 14, AF_INET6, 0, EGRESS_SET_DENY },
};

const struct egress_set_def *egress_set_defs(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(sets);
	return sets;
}

const struct egress_set_def *egress_set_find(enum egress_set_kind kind, int family, uint8_t proto)
{
	for (size_t i = 0; i < ELEMENTSOF(sets); i++)
		if (sets[i].kind == kind && sets[i].family == family && sets[i].proto == proto)
			return &sets[i];
	return NULL;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool set_has_port(const struct egress_set_def *d)
{
	return d->kind == EGRESS_SET_ALLOW || d->kind == EGRESS_SET_DNS;
}

static struct nftnl_set *set_new(const struct egress_set_def *d)
{
	struct nftnl_set *s;

	s = nftnl_set_alloc();
	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, EGRESS_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, d->id);
	return s;
}

static int set_declare(struct egress_batch *b, const struct egress_set_def *d)
{
	_cleanup_(nftnl_set_freep) struct nftnl_set *s = NULL;
	uint32_t type = d->family == AF_INET ? TYPE_IPV4_ADDR : TYPE_IPV6_ADDR;
	uint32_t len = (uint32_t)addr_len(d->family), flags = 0;
	struct nlmsghdr *nlh;

	s = set_new(d);
	if (!s)
		return -ENOMEM;
	if (set_has_port(d)) {
		uint8_t fields[2] = { (uint8_t)len, 2 };

		type = type << TYPE_BITS | TYPE_INET_SERVICE;
		len += 4; /* each field of a concatenation takes whole 32-bit registers */
		flags |= NFT_SET_CONCAT;
		if (d->kind == EGRESS_SET_ALLOW &&
		    nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields)) < 0)
			return -ENOMEM;
	}
	if (d->kind == EGRESS_SET_ALLOW || d->kind == EGRESS_SET_DENY)
		flags |= NFT_SET_INTERVAL;
	else
		flags = NFT_SET_TIMEOUT | (flags & ~NFT_SET_CONCAT);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	if (flags & NFT_SET_TIMEOUT)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, EGRESS_DNS_SET_SIZE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, len);

	nlh = egress_batch_msg(b, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL);
	if (!nlh)
		return -ENOMEM;
	nftnl_set_nlmsg_build_payload(nlh, s);
	egress_batch_commit(b, nlh);
	return 0;
}

/* Elements of one set, flushed every EGRESS_ELEMS_PER_MSG. */
struct elem_list {
	struct egress_batch *b;
	const struct egress_set_def *def;
	struct nftnl_set *set;
	size_t n;
};

static int elems_flush(struct elem_list *l)
{
	struct nlmsghdr *nlh;

	if (!l->set || l->n == 0)
		return 0;
	nlh = egress_batch_msg(l->b, NFT_MSG_NEWSETELEM, NFPROTO_INET, NLM_F_CREATE);
	if (!nlh)
		return -ENOMEM;
	nftnl_set_elems_nlmsg_build_payload(nlh, l->set);
	egress_batch_commit(l->b, nlh);
	nftnl_set_free(l->set);
	l->set = NULL;
	l->n = 0;
	return 0;
}

/* Adds one element: key (and key_end when non-NULL), flags, timeout (0: none). */
static int elems_add(struct elem_list *l, const uint8_t *key, const uint8_t *key_end, size_t len,
		     uint32_t flags, uint64_t timeout_ms)
{
	struct nftnl_set_elem *e;
	int r;

	if (l->n >= EGRESS_ELEMS_PER_MSG) {
		r = elems_flush(l);
		if (r < 0)
			return r;
	}
	if (!l->set) {
		l->set = set_new(l->def);
		if (!l->set)
			return -ENOMEM;
	}
	e = nftnl_set_elem_alloc();
	if (!e)
		return -ENOMEM;
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
	if (key_end)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key_end, (uint32_t)len);
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	if (timeout_ms)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	nftnl_set_elem_add(l->set, e); /* the set owns e now */
	l->n++;
	return 0;
}

static void elems_done(struct elem_list *l)
{
	if (l->set)
		nftnl_set_free(l->set);
	l->set = NULL;
}

/* First and last address of a prefix; returns whether last+1 overflows the family. */
static bool prefix_bounds(int family, const uint8_t *addr, uint8_t plen, uint8_t *first,
			  uint8_t *last)
{
	size_t len = addr_len(family);
	bool all_ones = true;

	for (size_t i = 0; i < len; i++) {
		unsigned bits = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? plen - i * 8 : 0;
		uint8_t mask = (uint8_t)(bits ? 0xff << (8 - bits) : 0);

		first[i] = addr[i] & mask;
		last[i] = first[i] | (uint8_t)~mask;
		all_ones = all_ones && last[i] == 0xff;
	}
	return all_ones;
}

static void addr_increment(uint8_t *a, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++a[i] != 0)
			break;
}

/* Key of a concatenation: address, then the port in network order padded to 4 bytes. */
static size_t concat_key(int family, const uint8_t *addr, uint16_t port, uint8_t *key)
{
	size_t len = addr_len(family);

	memcpy(key, addr, len);
	memset(key + len, 0, 4);
	key[len] = port >> 8;
	key[len + 1] = port & 0xff;
	return len + 4;
}

static bool addr_is_top(const uint8_t *a, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != 0xff)
			return false;
	return true;
}

/*
 * The deny sets use the rbtree interval encoding: a start element, and an end element
 * flagged NFT_SET_ELEM_INTERVAL_END one past the last address. Adjacent ranges are merged.
 */
static int add_deny_elems(struct egress_batch *b, int family)
{
	_cleanup_(elems_done) struct elem_list l = { b,
						     egress_set_find(EGRESS_SET_DENY, family, 0) };
	const struct egress_range *ranges;
	size_t n, len = addr_len(family);
	int r;

	ranges = egress_denied_ranges(&n);
	for (size_t i = 0; i < n; i++) {
		uint8_t first[16], last[16], end[16], nfirst[16], nlast[16];

		if (ranges[i].family != family)
			continue;
		prefix_bounds(family, ranges[i].addr, ranges[i].prefixlen, first, last);
		while (!addr_is_top(last, len) && i + 1 < n && ranges[i + 1].family == family) {
			memcpy(end, last, len);
			addr_increment(end, len);
			prefix_bounds(family, ranges[i + 1].addr, ranges[i + 1].prefixlen, nfirst,
				      nlast);
			if (memcmp(nfirst, end, len) != 0)
				break;
			memcpy(last, nlast, len);
			i++;
		}
		r = elems_add(&l, first, NULL, len, 0, 0);
		if (r < 0)
			return r;
		if (addr_is_top(last, len))
			continue;
		memcpy(end, last, len);
		addr_increment(end, len);
		r = elems_add(&l, end, NULL, len, NFT_SET_ELEM_INTERVAL_END, 0);
		if (r < 0)
			return r;
	}
	return elems_flush(&l);
}

static unsigned rule_protocols(const struct policy_egress_rule *rule)
{
	return rule->protocols ? rule->protocols : POLICY_PROTOCOL_TCP;
}

/* Whether rule opens port (0: every port) anywhere in its range. */
static bool rule_has_port(const struct policy_egress_rule *rule, uint16_t port)
{
	if (rule->n_ports == 0)
		return true;
	if (port == 0)
		return false;
	for (size_t i = 0; i < rule->n_ports; i++)
		if (rule->ports[i] == port)
			return true;
	return false;
}

/*
 * Whether the element (rules[i]'s prefix, port) is already inside an element of another
 * rule of the same set. Prefixes either nest or are disjoint, and so do port ranges (one
 * port, or all of them); two overlapping elements nest unless an every-port prefix lies
 * inside a listed-ports one, which add_allow_all_ports() cuts apart. Keeping only the
 * outermost of nested elements gives the same union without the overlap an interval set
 * refuses (EEXIST). Of two identical elements the first rule's is kept.
 */
static bool allow_elem_covered(const struct policy_network *net, size_t i, uint16_t port,
			       unsigned want)
{
	const struct policy_egress_rule *a = &net->egress[i];

	for (size_t j = 0; j < net->n_egress; j++) {
		const struct policy_egress_rule *b = &net->egress[j];
		bool same_box;

		if (j == i || !b->is_cidr || b->cidr.family != a->cidr.family ||
		    !(rule_protocols(b) & want) || b->prefixlen > a->prefixlen ||
		    !egress_addr_in_prefix(&a->cidr, &b->cidr, b->prefixlen) ||
		    !rule_has_port(b, port))
			continue;
		same_box = b->prefixlen == a->prefixlen && (b->n_ports == 0) == (port == 0);
		if (!same_box || j < i)
			return true;
	}
	return false;
}

/* One element: the rule's prefix times the ports lo..hi. */
static int add_allow_elem(struct elem_list *l, const struct policy_egress_rule *rule, uint16_t lo,
			  uint16_t hi)
{
	int family = rule->cidr.family;
	uint8_t first[16], last[16], key[20], key_end[20];
	size_t len;

	prefix_bounds(family, rule->cidr.addr, rule->prefixlen, first, last);
	len = concat_key(family, first, lo, key);
	concat_key(family, last, hi, key_end);
	return elems_add(l, key, key_end, len, 0, 0);
}

/*
 * An every-port rule inside the prefix of a rule with listed ports would overlap it
 * without nesting (the smaller prefix has more ports): its element leaves those ports out,
 * which the containing rule already opens, as runs of the remaining ports.
 */
static int add_allow_all_ports(struct elem_list *l, const struct policy_network *net, size_t idx,
			       unsigned want)
{
	const struct policy_egress_rule *a = &net->egress[idx];
	uint8_t covered[65536 / 8] = {};
	uint32_t lo = 1;
	int r;

	for (size_t j = 0; j < net->n_egress; j++) {
		const struct policy_egress_rule *b = &net->egress[j];

		/* Strictly larger: a listed port of the same prefix is inside a's element. */
		if (j == idx || !b->is_cidr || b->n_ports == 0 ||
		    b->cidr.family != a->cidr.family || !(rule_protocols(b) & want) ||
		    b->prefixlen >= a->prefixlen ||
		    !egress_addr_in_prefix(&a->cidr, &b->cidr, b->prefixlen))
			continue;
		for (size_t i = 0; i < b->n_ports; i++)
			covered[b->ports[i] / 8] |= (uint8_t)(1u << (b->ports[i] % 8));
	}
	for (uint32_t port = 1; port <= 65536; port++) {
		bool hole = port == 65536 || (covered[port / 8] & (1u << (port % 8)));

		if (!hole)
			continue;
		if (port > lo) {
			r = add_allow_elem(l, a, (uint16_t)lo, (uint16_t)(port - 1));
			if (r < 0)
				return r;
		}
		lo = port + 1;
	}
	return 0;
}

static int add_allow_rule(struct elem_list *l, const struct policy_network *net, size_t idx,
			  unsigned want)
{
	const struct policy_egress_rule *rule = &net->egress[idx];
	int r;

	if (rule->n_ports == 0)
		return allow_elem_covered(net, idx, 0, want)
			       ? 0
			       : add_allow_all_ports(l, net, idx, want);
	for (size_t i = 0; i < rule->n_ports; i++) {
		if (allow_elem_covered(net, idx, rule->ports[i], want))
			continue;
		r = add_allow_elem(l, rule, rule->ports[i], rule->ports[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_allow_elems(struct egress_batch *b, const struct policy_network *net,
			   const struct egress_set_def *d)
{
	_cleanup_(elems_done) struct elem_list l = { b, d };
	unsigned want = d->proto == IPPROTO_TCP ? POLICY_PROTOCOL_TCP : POLICY_PROTOCOL_UDP;
	int r;

	for (size_t i = 0; i < net->n_egress; i++) {
		const struct policy_egress_rule *rule = &net->egress[i];

		if (!rule->is_cidr || rule->cidr.family != d->family ||
		    !(rule_protocols(rule) & want))
			continue;
		if (rule->prefixlen > addr_len(d->family) * 8)
			return -EINVAL;
		r = add_allow_rule(&l, net, i, want);
		if (r < 0)
			return r;
	}
	return elems_flush(&l);
}

int egress_build_sets(struct egress_batch *b, const struct policy_network *net)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
		r = set_declare(b, &sets[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
		if (sets[i].kind == EGRESS_SET_ALLOW)
			r = add_allow_elems(b, net, &sets[i]);
		else if (sets[i].kind == EGRESS_SET_DENY)
			r = add_deny_elems(b, sets[i].family);
		else
			continue;
		if (r < 0)
			return r;
	}
	return 0;
}

/* Adds the learned elements of one address for one matching rule. */
static int learn_rule(struct egress_batch *b, const struct policy_egress_rule *rule,
		      const struct policy_addr *a, uint64_t timeout_ms)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	int r;

	for (size_t p = 0; p < ELEMENTSOF(protos); p++) {
		unsigned bit = protos[p] == IPPROTO_TCP ? POLICY_PROTOCOL_TCP : POLICY_PROTOCOL_UDP;
		enum egress_set_kind kind = rule->n_ports ? EGRESS_SET_DNS : EGRESS_SET_DNS_ANY;
		_cleanup_(elems_done) struct elem_list l = { b };
		uint8_t key[20];

		if (!(rule_protocols(rule) & bit))
			continue;
		l.def = egress_set_find(kind, a->family, protos[p]);
		if (!rule->n_ports) {
			r = elems_add(&l, a->addr, NULL, addr_len(a->family), 0, timeout_ms);
			if (r < 0)
				return r;
		}
		for (size_t i = 0; i < rule->n_ports; i++) {
			size_t len = concat_key(a->family, a->addr, rule->ports[i], key);

			r = elems_add(&l, key, NULL, len, 0, timeout_ms);
			if (r < 0)
				return r;
		}
		r = elems_flush(&l);
		if (r < 0)
			return r;
	}
	return 0;
}

int egress_build_learned(const struct policy_network *net, const char *name,
			 const struct policy_addr *addrs, size_t n_addrs, uint32_t timeout_ms,
			 uint32_t seq, struct egress_batch **ret)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	bool matched = false;
	int r;

	for (size_t i = 0; i < n_addrs; i++)
		if (addrs[i].family != AF_INET && addrs[i].family != AF_INET6)
			return -EINVAL;
	b = egress_batch_new(seq);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < net->n_egress; i++) {
		const struct policy_egress_rule *rule = &net->egress[i];

		if (rule->is_cidr || !egress_name_matches(rule->host, name))
			continue;
		matched = true;
		for (size_t k = 0; k < n_addrs; k++) {
			r = learn_rule(b, rule, &addrs[k], timeout_ms ? timeout_ms : 1);
			if (r < 0)
				return r;
		}
	}
	if (!matched)
		return -ENOENT;
	r = egress_batch_end(b);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}

int egress_port_elems(const struct policy_addr *a, const struct egress_port *ports, size_t n,
		      struct egress_elem *ret, size_t max)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EINVAL;
	if (n > max)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		enum egress_set_kind kind = ports[i].port ? EGRESS_SET_DNS : EGRESS_SET_DNS_ANY;
		const struct egress_set_def *d = egress_set_find(kind, a->family, ports[i].proto);
		struct egress_elem *e = &ret[i];

		if (!d)
			return -EINVAL;
		*e = (struct egress_elem){ .set = (uint8_t)(d - sets) };
		if (ports[i].port)
			e->key_len = (uint8_t)concat_key(a->family, a->addr, ports[i].port, e->key);
		else
			memcpy(e->key, a->addr, e->key_len = (uint8_t)addr_len(a->family));
	}
	return (int)n;
}

/* One element in its own message: NEWSETELEM (with timeout) or DELSETELEM. */
static int elem_msg(struct egress_batch *b, const struct egress_elem *e, uint64_t timeout_ms,
		    bool del)
{
	_cleanup_(elems_done) struct elem_list l = { b, &sets[e->set] };
	struct nlmsghdr *nlh;
	int r;

	r = elems_add(&l, e->key, NULL, e->key_len, 0, del ? 0 : MAX(timeout_ms, 1));
	if (r < 0 || !del)
		return r < 0 ? r : elems_flush(&l);
	nlh = egress_batch_msg(b, NFT_MSG_DELSETELEM, NFPROTO_INET, 0);
	if (!nlh)
		return -ENOMEM;
	nftnl_set_elems_nlmsg_build_payload(nlh, l.set);
	egress_batch_commit(b, nlh);
	return 0;
}

int egress_build_elem_updates(const struct egress_elem_update *u, size_t n, uint32_t seq,
			      struct egress_batch **ret)
{
	_cleanup_(egress_batch_freep) struct egress_batch *b = NULL;
	int r;

	b = egress_batch_new(seq);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct egress_elem *e = &u[i].elem;

		if (e->set >= ELEMENTSOF(sets) || sets[e->set].kind == EGRESS_SET_ALLOW ||
		    sets[e->set].kind == EGRESS_SET_DENY || e->key_len > sizeof(e->key))
			return -EINVAL;
		r = u[i].replace ? elem_msg(b, e, 0, true) : 0;
		if (r >= 0)
			r = elem_msg(b, e, u[i].timeout_ms, false);
		if (r < 0)
			return r;
	}
	r = egress_batch_end(b);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}
