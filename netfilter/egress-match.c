/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure matching of names and addresses against a policy's egress rules. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "egress.h"
#include "macro.h"

#define V4(a, b, c, d)     \
	{                  \
		a, b, c, d \
	}

/* Sorted and non-overlapping per family; the set builder merges adjacent ranges. */
static const struct egress_range denied[] = {
	{ AF_INET, V4(0, 0, 0, 0), 8 }, /* "this" network */
	{ AF_INET, V4(10, 0, 0, 0), 8 }, /* RFC 1918 */
	{ AF_INET, V4(100, 64, 0, 0), 10 }, /* CGNAT */
	{ AF_INET, V4(127, 0, 0, 0), 8 }, /* loopback */
	{ AF_INET, V4(168, 63, 129, 16), 32 }, /* Azure WireServer (host agent, metadata) */
	{ AF_INET, V4(169, 254, 0, 0), 16 }, /* link-local, cloud metadata */
	{ AF_INET, V4(172, 16, 0, 0), 12 }, /* RFC 1918 */
	{ AF_INET, V4(192, 0, 0, 0), 24 }, /* IETF protocol assignments */
	{ AF_INET, V4(192, 0, 2, 0), 24 }, /* TEST-NET-1 */
	{ AF_INET, V4(192, 88, 99, 0), 24 }, /* 6to4 relay anycast */
	{ AF_INET, V4(192, 168, 0, 0), 16 }, /* RFC 1918 */
	{ AF_INET, V4(198, 18, 0, 0), 15 }, /* benchmarking */
	{ AF_INET, V4(198, 51, 100, 0), 24 }, /* TEST-NET-2 */
	{ AF_INET, V4(203, 0, 113, 0), 24 }, /* TEST-NET-3 */
	{ AF_INET, V4(224, 0, 0, 0), 3 }, /* multicast, reserved, broadcast */
	{ AF_INET6, { 0 }, 96 }, /* unspecified, loopback, v4-compatible */
	{ AF_INET6, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96 }, /* v4-mapped */
	{ AF_INET6, { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96 }, /* v4-translated (SIIT) */
	{ AF_INET6, { 0, 0x64, 0xff, 0x9b }, 96 }, /* NAT64 */
	{ AF_INET6, { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48 }, /* local-use NAT64 */
	{ AF_INET6, { 0x01, 0x00 }, 64 }, /* discard */
	{ AF_INET6, { 0x20, 0x01 }, 32 }, /* Teredo (embeds v4) */
	{ AF_INET6, { 0x20, 0x01, 0x0d, 0xb8 }, 32 }, /* documentation */
	{ AF_INET6, { 0x20, 0x02 }, 16 }, /* 6to4 (embeds v4) */
	{ AF_INET6, { 0xfc }, 7 }, /* ULA, incl. fd00:ec2::254 metadata */
	{ AF_INET6, { 0xfe, 0x80 }, 9 }, /* link-local, deprecated site-local */
	{ AF_INET6, { 0xff }, 8 }, /* multicast */
};

const struct egress_range *egress_denied_ranges(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(denied);
	return denied;
}

bool egress_name_matches(const char *pattern, const char *name)
{
	size_t pl, nl;

	if (!pattern || !name)
		return false;
	if (!strneq(pattern, "*.", 2))
		return streq(pattern, name);

	/* "*.example.com" matches "a.example.com" and deeper, not "example.com". */
	pattern += 1;
	pl = strlen(pattern);
	nl = strlen(name);
	return nl > pl && streq(name + nl - pl, pattern);
}

bool egress_name_allowed(const struct policy_network *net, const char *name)
{
	if (!net->enabled)
		return false;
	for (size_t i = 0; i < net->n_egress; i++)
		if (!net->egress[i].is_cidr && egress_name_matches(net->egress[i].host, name))
			return true;
	return false;
}

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

bool egress_addr_in_prefix(const struct policy_addr *a, const struct policy_addr *cidr,
			   uint8_t prefixlen)
{
	size_t len = family_len(a->family), full = prefixlen / 8;
	uint8_t mask;

	if (a->family != cidr->family || len == 0 || prefixlen > len * 8)
		return false;
	if (memcmp(a->addr, cidr->addr, full) != 0)
		return false;
	if (prefixlen % 8 == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - prefixlen % 8));
	return (a->addr[full] & mask) == (cidr->addr[full] & mask);
}

bool egress_addr_is_denied(const struct policy_addr *a)
{
	if (family_len(a->family) == 0)
		return true;
	for (size_t i = 0; i < ELEMENTSOF(denied); i++) {
		struct policy_addr p = { .family = denied[i].family };

		memcpy(p.addr, denied[i].addr, sizeof(p.addr));
		if (egress_addr_in_prefix(a, &p, denied[i].prefixlen))
			return true;
	}
	return false;
}

bool egress_addr_cidr_allowed(const struct policy_network *net, const struct policy_addr *a)
{
	if (!net->enabled)
		return false;
	for (size_t i = 0; i < net->n_egress; i++) {
		const struct policy_egress_rule *r = &net->egress[i];

		if (r->is_cidr && egress_addr_in_prefix(a, &r->cidr, r->prefixlen))
			return true;
	}
	return false;
}

bool egress_addr_learnable(const struct policy_network *net, const struct policy_addr *a)
{
	if (family_len(a->family) == 0)
		return false;
	return !egress_addr_is_denied(a) || egress_addr_cidr_allowed(net, a);
}

static unsigned rule_protocols(const struct policy_egress_rule *r)
{
	return r->protocols ? r->protocols : POLICY_PROTOCOL_TCP;
}

static unsigned proto_bit(uint8_t proto)
{
	return proto == IPPROTO_TCP   ? POLICY_PROTOCOL_TCP
	       : proto == IPPROTO_UDP ? POLICY_PROTOCOL_UDP
				      : 0;
}

/* The ports of one protocol as a bitmap, bit p for port p (bit 0 unused). */
struct port_bits {
	uint64_t w[65536 / 64];
};

static const uint8_t protos[2] = { IPPROTO_TCP, IPPROTO_UDP };

static void bits_set(struct port_bits *b, uint16_t port)
{
	b->w[port / 64] |= 1ULL << (port % 64);
}

static bool bits_has(const struct port_bits *b, uint32_t port)
{
	return b->w[port / 64] & (1ULL << (port % 64));
}

/* The union of name's host rules' ports, per protocol; returns whether a rule matched. */
static bool name_bits(const struct policy_network *net, const char *name, struct port_bits b[2])
{
	bool matched = false;

	memset(b, 0, 2 * sizeof(*b));
	for (size_t i = 0; i < net->n_egress; i++) {
		const struct policy_egress_rule *r = &net->egress[i];

		if (r->is_cidr || !egress_name_matches(r->host, name))
			continue;
		matched = true;
		for (size_t p = 0; p < ELEMENTSOF(protos); p++) {
			if (!(rule_protocols(r) & proto_bit(protos[p])))
				continue;
			if (r->n_ports == 0) /* every port */
				memset(b[p].w, 0xff, sizeof(b[p].w));
			for (size_t k = 0; k < r->n_ports; k++)
				bits_set(&b[p], r->ports[k]);
		}
	}
	return matched;
}

static bool bits_all(const struct port_bits *b)
{
	if ((b->w[0] | 1) != UINT64_MAX) /* port 0 is no port */
		return false;
	for (size_t w = 1; w < ELEMENTSOF(b->w); w++)
		if (b->w[w] != UINT64_MAX)
			return false;
	return true;
}

int egress_names_ports(const struct policy_network *net, const char *const *names, size_t n,
		       struct egress_port *ret, size_t max)
{
	struct port_bits all[2], one[2];
	size_t k = 0;

	if (n == 0)
		return -ENOENT;
	memset(all, 0xff, sizeof(all));
	for (size_t i = 0; i < n; i++) {
		if (!net->enabled || !name_bits(net, names[i], one))
			return -ENOENT;
		for (size_t p = 0; p < ELEMENTSOF(protos); p++)
			for (size_t w = 0; w < ELEMENTSOF(all[p].w); w++)
				all[p].w[w] &= one[p].w[w];
	}
	for (size_t p = 0; p < ELEMENTSOF(protos); p++) {
		if (bits_all(&all[p])) { /* only a rule without ports gives every port */
			if (k >= max)
				return -ENOSPC;
			ret[k++] = (struct egress_port){ .proto = protos[p], .port = 0 };
			continue;
		}
		for (uint32_t port = 1; port < 65536; port++) {
			if (!all[p].w[port / 64]) {
				port |= 63; /* the next word */
				continue;
			}
			if (!bits_has(&all[p], port))
				continue;
			if (k >= max)
				return -ENOSPC;
			ret[k++] =
				(struct egress_port){ .proto = protos[p], .port = (uint16_t)port };
		}
	}
	return (int)k;
}

bool egress_cidr_opens(const struct policy_network *net, const struct policy_addr *a,
		       const struct egress_port *p)
{
	if (!net->enabled)
		return false;
	for (size_t i = 0; i < net->n_egress; i++) {
		const struct policy_egress_rule *r = &net->egress[i];
		bool port = r->n_ports == 0;

		if (!r->is_cidr || !(rule_protocols(r) & proto_bit(p->proto)) ||
		    !egress_addr_in_prefix(a, &r->cidr, r->prefixlen))
			continue;
		for (size_t k = 0; !port && p->port && k < r->n_ports; k++)
			port = r->ports[k] == p->port;
		if (port)
			return true;
	}
	return false;
}
