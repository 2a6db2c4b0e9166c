/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure matching of names and addresses against a policy's egress rules. */
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
	{ AF_INET6, { 0, 0x64, 0xff, 0x9b }, 96 }, /* NAT64 */
	{ AF_INET6, { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48 }, /* local-use NAT64 */
	{ AF_INET6, { 0x01, 0x00 }, 64 }, /* discard */
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
