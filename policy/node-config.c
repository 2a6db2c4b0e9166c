/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The node configuration's parser, on the policy's table-driven dispatcher: the same
 * strictness, the same error paths. No I/O, no logging.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "node-config.h"
#include "parse-util.h"
#include "policy-internal.h"

static const char *const forwarding_names[_NODE_FORWARDING_MAX] = {
	[NODE_FORWARDING_REQUIRE] = "require",
	[NODE_FORWARDING_MANAGE] = "manage",
};

const char *node_forwarding_to_string(enum node_forwarding f)
{
	if (f < 0 || f >= _NODE_FORWARDING_MAX)
		return NULL;
	return forwarding_names[f];
}

enum node_forwarding node_forwarding_from_string(const char *s)
{
	for (int i = 0; s && i < _NODE_FORWARDING_MAX; i++)
		if (streq(forwarding_names[i], s))
			return (enum node_forwarding)i;
	return _NODE_FORWARDING_INVALID;
}

/* "ADDR/LEN" with zero host bits. Returns 0 or -EINVAL. */
static int prefix_from_string(const char *s, struct node_prefix *ret)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	struct node_prefix p = {};
	unsigned long len;
	unsigned max;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (!slash || slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2]))
		return -EINVAL;
	*slash = '\0';
	if (policy_addr_from_string(buf, &p.addr) < 0)
		return -EINVAL;
	max = p.addr.family == AF_INET ? 32 : 128;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (*end || errno || len > max)
		return -EINVAL;
	for (unsigned bit = (unsigned)len; bit < max; bit++)
		if (p.addr.addr[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	p.prefixlen = (uint8_t)len;
	*ret = p;
	return 0;
}

static int dispatch_version(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	if (json_integer_value(v) != NODE_CONFIG_VERSION)
		return policy_errorf(ctx, path,
				     "unsupported version %" JSON_INTEGER_FORMAT ", expected %d",
				     json_integer_value(v), NODE_CONFIG_VERSION);
	*(int *)data = NODE_CONFIG_VERSION;
	return 0;
}

static int dispatch_dir(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	const char *s = json_string_value(v);

	if (!policy_path_is_normal(s) || streq(s, "/"))
		return policy_errorf(ctx, path, "expected an absolute, normalised path, not \"/\"");
	return policy_dispatch_string(path, v, data, ctx);
}

static int dispatch_cgroup_parent(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	const char *s = json_string_value(v);
	char abs[POLICY_MAX_PATH + 1];

	snprintf(abs, sizeof(abs), "/%s", s);
	if (s[0] && (s[0] == '/' || !policy_path_is_normal(abs)))
		return policy_errorf(ctx, path,
				     "expected a relative path like \"airlock\" (below each "
				     "hierarchy's mount), or \"\" for the detected default");
	return policy_dispatch_string(path, v, data, ctx);
}

static int dispatch_pool4(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct node_prefix *p = data;

	if (prefix_from_string(json_string_value(v), p) < 0 || p->addr.family != AF_INET)
		return policy_errorf(ctx, path, "expected an IPv4 prefix like \"10.231.0.0/16\"");
	if (p->prefixlen < 8 || p->prefixlen > 24)
		return policy_errorf(ctx, path,
				     "expected a prefix length in 8..24 (a /30 per run, at "
				     "least 64 of them)");
	return 0;
}

static int dispatch_pool6(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct node_prefix *p = data;

	if (prefix_from_string(json_string_value(v), p) < 0 || p->addr.family != AF_INET6)
		return policy_errorf(ctx, path,
				     "expected an IPv6 prefix like \"fd61:6972:6c6b::/48\"");
	if (p->prefixlen < 16 || p->prefixlen > 54)
		return policy_errorf(ctx, path,
				     "expected a prefix length in 16..54 (a /64 per run, at "
				     "least 1024 of them)");
	return 0;
}

static int dispatch_forwarding(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	enum node_forwarding f = node_forwarding_from_string(json_string_value(v));

	if (f < 0)
		return policy_errorf(ctx, path, "expected \"require\" or \"manage\"");
	*(enum node_forwarding *)data = f;
	return 0;
}

static int dispatch_upstream(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct node_network *net = data;

	return policy_parse_upstreams(path, v, &net->dns_upstream, &net->n_dns_upstream, ctx);
}

static int dispatch_ttl(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	uint64_t ms;

	if (parse_duration_ms(json_string_value(v), &ms) < 0 || ms % 1000 != 0 || ms == 0 ||
	    ms > NODE_CONFIG_MAX_TTL_S * 1000ULL)
		return policy_errorf(ctx, path, "expected whole seconds in 1s..24h, like \"5s\"");
	*(uint32_t *)data = (uint32_t)(ms / 1000);
	return 0;
}

/* An integer in min..max into the uint32_t at data. */
static int set_u32(const char *path, json_t *v, void *data, struct policy_ctx *ctx, uint64_t min,
		   uint64_t max)
{
	uint64_t n;
	int r;

	r = policy_json_uint(ctx, path, v, min, max, &n);
	if (r < 0)
		return r;
	*(uint32_t *)data = (uint32_t)n;
	return 0;
}

static int dispatch_wildcard_names(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	return set_u32(path, v, data, ctx, 1, POLICY_MAX_WILDCARD_NAMES);
}

static int dispatch_wildcard_match(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	return set_u32(path, v, data, ctx, 1, POLICY_MAX_WILDCARD_MATCH);
}

static int dispatch_dns(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "upstream", POLICY_JSON_ARRAY, dispatch_upstream, 0, false,
		  "an array of IP addresses" },
		{ "ttl_min", POLICY_JSON_STRING, dispatch_ttl,
		  offsetof(struct node_network, dns_ttl_min_s), false, "a duration like \"5s\"" },
		{ "ttl_max", POLICY_JSON_STRING, dispatch_ttl,
		  offsetof(struct node_network, dns_ttl_max_s), false, "a duration like \"5m\"" },
		{ "wildcard_names", POLICY_JSON_INTEGER, dispatch_wildcard_names,
		  offsetof(struct node_network, wildcard_names), false, "an integer" },
		{ "wildcard_match_length", POLICY_JSON_INTEGER, dispatch_wildcard_match,
		  offsetof(struct node_network, wildcard_match_length), false, "an integer" },
		{}
	};
	struct node_network *net = data;
	int r;

	r = policy_dispatch(path, v, table, net, ctx);
	if (r < 0)
		return r;
	if (net->dns_ttl_min_s > net->dns_ttl_max_s)
		return policy_errorf(ctx, path, "ttl_min (%us) is above ttl_max (%us)",
				     net->dns_ttl_min_s, net->dns_ttl_max_s);
	return 0;
}

static int dispatch_flows_max(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	return set_u32(path, v, data, ctx, NODE_CONFIG_MIN_FLOWS_MAX, NODE_CONFIG_MAX_FLOWS_MAX);
}

static int dispatch_flows_rate(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	return set_u32(path, v, data, ctx, 1, NODE_CONFIG_MAX_FLOWS_RATE);
}

static int dispatch_flows(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "max", POLICY_JSON_INTEGER, dispatch_flows_max,
		  offsetof(struct node_network, flows_max), false, "an integer like 4096" },
		{ "rate", POLICY_JSON_INTEGER, dispatch_flows_rate,
		  offsetof(struct node_network, flows_rate), false, "an integer like 100" },
		{}
	};

	return policy_dispatch(path, v, table, data, ctx);
}

/* An upstream in a pool: the runs' veths hold those addresses, no DNS proxy reaches it. */
static int check_upstreams(const char *path, const struct node_network *net, struct policy_ctx *ctx)
{
	char at[POLICY_MAX_PATH], why[NODE_POOL_LINE_MAX];

	for (size_t i = 0; i < net->n_dns_upstream; i++) {
		if (node_network_upstream_refusal(net, &net->dns_upstream[i], true, why,
						  sizeof(why)) <= 0)
			continue;
		snprintf(at, sizeof(at), "%s/dns/upstream/%zu", path, i);
		return policy_errorf(ctx, at, "%s", why);
	}
	return 0;
}

static int dispatch_network(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "pool", POLICY_JSON_STRING, dispatch_pool4, offsetof(struct node_network, pool4),
		  false, "an IPv4 prefix like \"10.231.0.0/16\"" },
		{ "pool6", POLICY_JSON_STRING, dispatch_pool6, offsetof(struct node_network, pool6),
		  false, "an IPv6 prefix like \"fd61:6972:6c6b::/48\"" },
		{ "forwarding", POLICY_JSON_STRING, dispatch_forwarding,
		  offsetof(struct node_network, forwarding), false, "\"require\" or \"manage\"" },
		{ "dns", POLICY_JSON_OBJECT, dispatch_dns, 0 },
		{ "flows", POLICY_JSON_OBJECT, dispatch_flows, 0 },
		{}
	};

	struct node_network *net = data;
	int r;

	r = policy_dispatch(path, v, table, data, ctx);
	if (r < 0)
		return r;
	r = check_upstreams(path, net, ctx);
	if (r < 0)
		return r;
	/* Run n takes /30 n of pool and /64 n of pool6: pool6 needs as many. */
	if (64 - net->pool6.prefixlen < 30 - net->pool4.prefixlen)
		return policy_errorf(ctx, path,
				     "pool6 /%u has fewer /64s than pool /%u has /30s; widen pool6 "
				     "to at most /%u",
				     net->pool6.prefixlen, net->pool4.prefixlen,
				     34 + net->pool4.prefixlen);
	return 0;
}

/* A decimal id below UINT32_MAX ((uid_t)-1 is chown's "unchanged") up to stop; or -EINVAL. */
static int parse_id(const char *s, char stop, const char **ret_end, uint32_t *ret)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && p - s < 10; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p == s || *p != stop || v >= UINT32_MAX)
		return -EINVAL;
	*ret_end = p;
	*ret = (uint32_t)v;
	return 0;
}

/* "UID:GID": two decimal ids. */
static int dispatch_owner(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct node_artifacts *a = data;
	const char *s = json_string_value(v), *end;
	uint32_t u, g;

	if (parse_id(s, ':', &end, &u) < 0 || parse_id(end + 1, '\0', &end, &g) < 0)
		return policy_errorf(ctx, path,
				     "expected \"UID:GID\", two decimal ids below 4294967295, "
				     "like \"1000:1000\"");
	a->has_owner = true;
	a->owner_uid = u;
	a->owner_gid = g;
	return 0;
}

static int dispatch_artifacts(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "owner", POLICY_JSON_STRING, dispatch_owner, 0 }, {}
	};

	return policy_dispatch(path, v, table, data, ctx);
}

static const struct policy_field root_table[] = {
	{ "version", POLICY_JSON_INTEGER, dispatch_version, offsetof(struct node_config, version),
	  true, "the integer 1" },
	{ "state_dir", POLICY_JSON_STRING, dispatch_dir, offsetof(struct node_config, state_dir) },
	{ "cgroup_parent", POLICY_JSON_STRING, dispatch_cgroup_parent,
	  offsetof(struct node_config, cgroup_parent) },
	{ "network", POLICY_JSON_OBJECT, dispatch_network, offsetof(struct node_config, network) },
	{ "credentials", POLICY_JSON_OBJECT, node_config_dispatch_credentials, 0 },
	{ "artifacts", POLICY_JSON_OBJECT, dispatch_artifacts,
	  offsetof(struct node_config, artifacts) },
	{}
};

static struct node_config *config_alloc(void)
{
	struct node_config *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return NULL;
	c->network.dns_ttl_min_s = NODE_CONFIG_DEFAULT_TTL_MIN_S;
	c->network.dns_ttl_max_s = NODE_CONFIG_DEFAULT_TTL_MAX_S;
	c->network.wildcard_names = POLICY_WILDCARD_NAMES_DEFAULT;
	c->network.wildcard_match_length = POLICY_WILDCARD_MATCH_DEFAULT;
	c->network.flows_max = NODE_CONFIG_DEFAULT_FLOWS_MAX;
	c->network.flows_rate = NODE_CONFIG_DEFAULT_FLOWS_RATE;
	r = prefix_from_string(NODE_CONFIG_DEFAULT_POOL4, &c->network.pool4);
	assert(r == 0);
	r = prefix_from_string(NODE_CONFIG_DEFAULT_POOL6, &c->network.pool6);
	assert(r == 0);
	return c;
}

struct node_config *node_config_free(struct node_config *c)
{
	if (!c)
		return NULL;
	free(c->path);
	free(c->state_dir);
	free(c->runtime_dir);
	free(c->cgroup_parent);
	free(c->network.dns_upstream);
	node_issuers_free(c->issuers, c->n_issuers);
	free(c);
	return NULL;
}

static int fill(char **field, const char *value)
{
	if (*field || !value)
		return 0;
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

int node_config_fill_defaults(struct node_config *c, const char *state_dir, const char *runtime_dir,
			      const char *cgroup_parent)
{
	if (fill(&c->state_dir, state_dir) < 0 || fill(&c->runtime_dir, runtime_dir) < 0 ||
	    fill(&c->cgroup_parent, cgroup_parent) < 0)
		return -ENOMEM;
	return 0;
}

int node_config_parse(const char *buf, size_t len, struct node_config **ret,
		      struct policy_error *reterr)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	_cleanup_json_ json_t *j = NULL;
	struct policy_error scratch;
	struct policy_ctx ctx = { .err = reterr ? reterr : &scratch };
	int r;

	assert(ret);
	if (len > NODE_CONFIG_MAX_BYTES)
		return policy_errorf(&ctx, "", "the configuration is larger than %d bytes",
				     NODE_CONFIG_MAX_BYTES);
	r = policy_json_load(&ctx, buf ? buf : "", len, &j);
	if (r < 0)
		return r;
	c = config_alloc();
	if (!c)
		return -ENOMEM;
	r = policy_dispatch("", j, root_table, c, &ctx);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int node_config_new_default(const char *state_dir, const char *runtime_dir,
			    const char *cgroup_parent, struct node_config **ret)
{
	_cleanup_node_config_free_ struct node_config *c = config_alloc();

	if (!c)
		return -ENOMEM;
	c->version = NODE_CONFIG_VERSION;
	if (node_config_fill_defaults(c, state_dir, runtime_dir, cgroup_parent) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(c);
	return 0;
}

static json_t *prefix_json(const struct node_prefix *p)
{
	char a[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 8];

	policy_addr_to_string(&p->addr, a, sizeof(a));
	snprintf(buf, sizeof(buf), "%s/%u", a, p->prefixlen);
	return json_string(buf);
}

static json_t *network_json(const struct node_network *n)
{
	json_t *up = json_array();
	char a[INET6_ADDRSTRLEN], tmin[32], tmax[32];

	for (size_t i = 0; up && i < n->n_dns_upstream; i++) {
		policy_addr_to_string(&n->dns_upstream[i], a, sizeof(a));
		if (json_array_append_new(up, json_string(a)) < 0) {
			json_decref(up);
			return NULL;
		}
	}
	format_duration_ms(n->dns_ttl_min_s * 1000ULL, tmin, sizeof(tmin));
	format_duration_ms(n->dns_ttl_max_s * 1000ULL, tmax, sizeof(tmax));
	return json_pack("{s:o, s:o, s:s, s:{s:o*, s:s, s:s, s:I, s:I}, s:{s:I, s:I}}", "pool",
			 prefix_json(&n->pool4), "pool6", prefix_json(&n->pool6), "forwarding",
			 node_forwarding_to_string(n->forwarding), "dns", "upstream", up, "ttl_min",
			 tmin, "ttl_max", tmax, "wildcard_names", (json_int_t)n->wildcard_names,
			 "wildcard_match_length", (json_int_t)n->wildcard_match_length, "flows",
			 "max", (json_int_t)n->flows_max, "rate", (json_int_t)n->flows_rate);
}

/* "artifacts" when the file set it, else NULL (the caller owns the export). */
static json_t *artifacts_json(const struct node_artifacts *a)
{
	char owner[sizeof("4294967295:4294967295")];

	if (!a->has_owner)
		return NULL;
	snprintf(owner, sizeof(owner), "%" PRIu32 ":%" PRIu32, a->owner_uid, a->owner_gid);
	return json_pack("{s:s}", "owner", owner);
}

int node_config_to_json(const struct node_config *c, char **ret)
{
	_cleanup_json_ json_t *j = NULL;
	char *s;

	j = json_pack("{s:i, s:s?, s:s?, s:o*, s:o*, s:o*}", "version", NODE_CONFIG_VERSION,
		      "state_dir", c->state_dir, "cgroup_parent", c->cgroup_parent, "network",
		      network_json(&c->network), "credentials",
		      c->n_issuers ? node_config_issuers_json(c) : NULL, "artifacts",
		      artifacts_json(&c->artifacts));
	if (!j)
		return -ENOMEM;
	s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

void node_config_error_format(const struct policy_error *e, char *buf, size_t len)
{
	const char *path = e->path[0] ? e->path : "/";

	if (e->line > 0)
		snprintf(buf, len, "config: %s (line %d, column %d): %s", path, e->line, e->column,
			 e->message);
	else
		snprintf(buf, len, "config: %s: %s", path, e->message);
}
