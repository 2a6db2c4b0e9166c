/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "network" section: egress rules (a DNS name, "*." suffix or CIDR, with ports and a
 * protocol) and the DNS upstreams. Presence of the section enables networking.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "policy-internal.h"

int policy_addr_from_string(const char *s, struct policy_addr *ret)
{
	struct policy_addr a = {};

	if (inet_pton(AF_INET, s, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.addr) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*ret = a;
	return 0;
}

void policy_addr_to_string(const struct policy_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

const char *policy_protocols_to_string(unsigned protocols)
{
	switch (protocols) {
	case POLICY_PROTOCOL_TCP:
		return "tcp";
	case POLICY_PROTOCOL_UDP:
		return "udp";
	case POLICY_PROTOCOL_TCP | POLICY_PROTOCOL_UDP:
		return "any";
	default:
		return NULL;
	}
}

int policy_protocols_from_string(const char *s)
{
	if (!s)
		return -EINVAL;
	if (streq(s, "tcp"))
		return POLICY_PROTOCOL_TCP;
	if (streq(s, "udp"))
		return POLICY_PROTOCOL_UDP;
	if (streq(s, "any"))
		return POLICY_PROTOCOL_TCP | POLICY_PROTOCOL_UDP;
	return -EINVAL;
}

/* The last label of a name must not be all digits: that is an IPv4 address, not a name. */
static bool last_label_is_numeric(const char *s)
{
	const char *l = strrchr(s, '.');

	l = l ? l + 1 : s;
	return strspn(l, "0123456789") == strlen(l);
}

static int dispatch_host(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_egress_rule *rule = data;
	_cleanup_free_ char *h = NULL;
	size_t n;
	char *name;

	h = strdup(json_string_value(v));
	if (!h)
		return -ENOMEM;
	n = strlen(h);
	if (n > 1 && h[n - 1] == '.')
		h[--n] = '\0';
	for (char *c = h; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');

	rule->wildcard = strneq(h, "*.", 2);
	name = rule->wildcard ? h + 2 : h;
	if (!policy_dns_name_is_valid(name, POLICY_MAX_HOSTNAME - (rule->wildcard ? 2 : 0)))
		return policy_errorf(ctx, path,
				     "expected a DNS name or \"*.\" and a DNS name, like "
				     "\"*.example.com\"");
	if (last_label_is_numeric(name))
		return policy_errorf(ctx, path,
				     "expected a DNS name, not an address (use \"cidr\")");
	if (rule->wildcard && !strchr(name, '.'))
		return policy_errorf(ctx, path,
				     "a wildcard needs a suffix of at least two labels, like "
				     "\"*.example.com\"");
	rule->host = TAKE_PTR(h);
	return 0;
}

/* Parses "ADDR/LEN" (or a bare address: full length); host bits must be zero. */
static int dispatch_cidr(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_egress_rule *rule = data;
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long len;
	unsigned max;

	if (json_string_length(v) >= sizeof(buf))
		return policy_errorf(ctx, path, "expected a CIDR like \"10.0.0.0/8\"");
	snprintf(buf, sizeof(buf), "%s", json_string_value(v));
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (policy_addr_from_string(buf, &rule->cidr) < 0)
		return policy_errorf(ctx, path, "expected a CIDR like \"10.0.0.0/8\"");
	max = rule->cidr.family == AF_INET ? 32 : 128;
	len = max;
	if (slash) {
		errno = 0;
		if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]))
			return policy_errorf(ctx, path, "expected a prefix length in 0..%u", max);
		len = strtoul(slash + 1, &end, 10);
		if (*end || errno || len > max)
			return policy_errorf(ctx, path, "expected a prefix length in 0..%u", max);
	}
	for (unsigned bit = (unsigned)len; bit < max; bit++)
		if (rule->cidr.addr[bit / 8] & (0x80 >> (bit % 8)))
			return policy_errorf(ctx, path, "host bits are set beyond the /%lu prefix",
					     len);
	rule->is_cidr = true;
	rule->prefixlen = (uint8_t)len;
	return 0;
}

static int port_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int dispatch_ports(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_egress_rule *rule = data;
	char child[POLICY_MAX_PATH];
	size_t n = json_array_size(v), w = 0;
	int r;

	if (n == 0 || n > POLICY_MAX_PORTS)
		return policy_errorf(ctx, path, "expected 1..%d ports", POLICY_MAX_PORTS);
	rule->ports = calloc(n, sizeof(uint16_t));
	if (!rule->ports)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint64_t port;

		policy_path_index(child, sizeof(child), path, i);
		r = policy_json_uint(ctx, child, json_array_get(v, i), 1, 65535, &port);
		if (r < 0)
			return r;
		rule->ports[i] = (uint16_t)port;
	}
	qsort(rule->ports, n, sizeof(uint16_t), port_cmp);
	for (size_t i = 0; i < n; i++)
		if (w == 0 || rule->ports[w - 1] != rule->ports[i])
			rule->ports[w++] = rule->ports[i];
	rule->n_ports = w;
	return 0;
}

static int dispatch_protocol(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_egress_rule *rule = data;
	int r;

	r = policy_protocols_from_string(json_string_value(v));
	if (r < 0)
		return policy_errorf(ctx, path, "expected \"tcp\", \"udp\" or \"any\"");
	rule->protocols = (unsigned)r;
	return 0;
}

/* "names" and "match_length": only for a "*.suffix" host, checked in dispatch_rule(). */
static int dispatch_names(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_egress_rule *rule = data;
	uint64_t n;
	int r;

	r = policy_json_uint(ctx, path, v, 1, POLICY_MAX_WILDCARD_NAMES, &n);
	if (r < 0)
		return r;
	rule->names = (uint32_t)n;
	return 0;
}

static int dispatch_match_length(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_egress_rule *rule = data;
	uint64_t n;
	int r;

	r = policy_json_uint(ctx, path, v, 1, POLICY_MAX_WILDCARD_MATCH, &n);
	if (r < 0)
		return r;
	rule->match_length = (uint32_t)n;
	return 0;
}

/* Fills the wildcard defaults; the two keys are an error on other rules. */
static int rule_wildcard_limits(const char *path, json_t *v, struct policy_egress_rule *rule,
				struct policy_ctx *ctx)
{
	char child[POLICY_MAX_PATH];

	if (!rule->wildcard) {
		const char *key = json_object_get(v, "names") ? "names" : "match_length";

		if (rule->names || rule->match_length) {
			policy_path_key(child, sizeof(child), path, key);
			return policy_errorf(ctx, child,
					     "only a wildcard host (\"*.suffix\") takes \"%s\"",
					     key);
		}
		return 0;
	}
	rule->names_default = !rule->names;
	if (!rule->names)
		rule->names = POLICY_WILDCARD_NAMES_DEFAULT;
	rule->match_length_default = !rule->match_length;
	if (!rule->match_length)
		rule->match_length = POLICY_WILDCARD_MATCH_DEFAULT;
	return 0;
}

static int dispatch_rule(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "host", POLICY_JSON_STRING, dispatch_host, 0, false, "a DNS name" },
		{ "cidr", POLICY_JSON_STRING, dispatch_cidr, 0, false,
		  "a CIDR like \"10.0.0.0/8\"" },
		{ "ports", POLICY_JSON_ARRAY, dispatch_ports, 0, true, "an array of ports" },
		{ "protocol", POLICY_JSON_STRING, dispatch_protocol, 0, false,
		  "\"tcp\", \"udp\" or \"any\"" },
		{ "names", POLICY_JSON_INTEGER, dispatch_names, 0, false,
		  "a count of names (wildcard hosts)" },
		{ "match_length", POLICY_JSON_INTEGER, dispatch_match_length, 0, false,
		  "a length in bytes (wildcard hosts)" },
		{}
	};
	struct policy_egress_rule *rule = data;
	bool host, cidr;
	int r;

	if (json_is_object(v)) {
		host = json_object_get(v, "host");
		cidr = json_object_get(v, "cidr");
		if (host == cidr)
			return policy_errorf(ctx, path,
					     "expected exactly one of \"host\" and \"cidr\"");
	}
	rule->protocols = POLICY_PROTOCOL_TCP;
	r = policy_dispatch(path, v, table, rule, ctx);
	if (r < 0)
		return r;
	return rule_wildcard_limits(path, v, rule, ctx);
}

static int dispatch_egress(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_network *net = data;
	char child[POLICY_MAX_PATH];
	size_t n = json_array_size(v);
	int r;

	if (n > POLICY_MAX_EGRESS_RULES)
		return policy_errorf(ctx, path, "expected at most %d rules",
				     POLICY_MAX_EGRESS_RULES);
	net->egress = calloc(n ? n : 1, sizeof(struct policy_egress_rule));
	if (!net->egress)
		return -ENOMEM;
	net->n_egress = n;
	for (size_t i = 0; i < n; i++) {
		policy_path_index(child, sizeof(child), path, i);
		r = dispatch_rule(child, json_array_get(v, i), &net->egress[i], ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_parse_upstreams(const char *path, json_t *v, struct policy_addr **ret, size_t *ret_n,
			   struct policy_ctx *ctx)
{
	char child[POLICY_MAX_PATH];
	size_t n = json_array_size(v);

	if (n > POLICY_MAX_DNS_UPSTREAMS)
		return policy_errorf(ctx, path, "expected at most %d upstreams",
				     POLICY_MAX_DNS_UPSTREAMS);
	*ret = calloc(n ? n : 1, sizeof(struct policy_addr));
	if (!*ret)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(v, i);

		policy_path_index(child, sizeof(child), path, i);
		if (!json_is_string(e) ||
		    policy_addr_from_string(json_string_value(e), &(*ret)[i]) < 0)
			return policy_errorf(ctx, child, "expected an IPv4 or IPv6 address");
		*ret_n = i + 1;
	}
	return 0;
}

static int dispatch_upstream(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_network *net = data;

	return policy_parse_upstreams(path, v, &net->dns_upstream, &net->n_dns_upstream, ctx);
}

static int dispatch_dns(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = { { "upstream", POLICY_JSON_ARRAY,
						       dispatch_upstream, 0, false,
						       "an array of IP addresses" },
						     {} };

	return policy_dispatch(path, v, table, data, ctx);
}

int policy_dispatch_network(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = { { "egress", POLICY_JSON_ARRAY, dispatch_egress,
						       0, false, "an array of rules" },
						     { "dns", POLICY_JSON_OBJECT, dispatch_dns, 0 },
						     {} };
	struct policy_network *net = data;

	net->enabled = true;
	return policy_dispatch(path, v, table, net, ctx);
}
