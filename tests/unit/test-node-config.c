/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the node configuration parser (policy/node-config.c): defaults, every
 * setting, and the error paths with their JSON path, as strict as a policy.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "macro.h"
#include "node-config.h"
#include "policy.h"
#include "test.h"

struct error_case {
	const char *json;
	const char *path;
	const char *fragment;
};

#define V "{\"version\": 1, "

static const struct error_case error_cases[] = {
	{ "", "", "" },
	{ "{}", "/version", "missing required key" },
	{ "{\"version\": 2}", "/version", "unsupported version 2" },
	{ V "\"colour\": 1}", "/colour", "unknown key" },
	{ V "\"state_dir\": \"var/lib\"}", "/state_dir", "absolute" },
	{ V "\"state_dir\": \"/\"}", "/state_dir", "not \"/\"" },
	{ V "\"state_dir\": \"/var/../x\"}", "/state_dir", "normalised" },
	{ V "\"runtime_dir\": \"/run/x\"}", "/runtime_dir", "unknown key" },
	{ V "\"cgroup_parent\": \"/airlock\"}", "/cgroup_parent", "relative path" },
	{ V "\"cgroup_parent\": \"a//b\"}", "/cgroup_parent", "relative path" },
	{ V "\"network\": {\"pool\": \"10.240.0.1/16\"}}", "/network/pool", "IPv4 prefix" },
	{ V "\"network\": {\"pool\": \"fd00::/48\"}}", "/network/pool", "IPv4 prefix" },
	{ V "\"network\": {\"pool\": \"10.0.0.0/28\"}}", "/network/pool", "8..24" },
	{ V "\"network\": {\"pool\": 10}}", "/network/pool", "expected an IPv4 prefix" },
	{ V "\"network\": {\"pool6\": \"10.0.0.0/16\"}}", "/network/pool6", "IPv6 prefix" },
	{ V "\"network\": {\"pool6\": \"fd00::/60\"}}", "/network/pool6", "16..54" },
	{ V "\"network\": {\"pool\": \"10.0.0.0/8\", \"pool6\": \"fd00::/48\"}}", "/network",
	  "at most /42" },
	{ V "\"network\": {\"forwarding\": \"auto\"}}", "/network/forwarding",
	  "\"require\" or \"manage\"" },
	{ V "\"network\": {\"dns\": {\"upstream\": [\"x\"]}}}", "/network/dns/upstream/0",
	  "IPv4 or IPv6" },
	{ V "\"network\": {\"dns\": {\"upstream\": [\"192.0.2.53\", \"10.231.7.53\"]}}}",
	  "/network/dns/upstream/1",
	  "10.231.7.53 lies in the address pool 10.231.0.0/16 (/network/pool)" },
	{ V
	  "\"network\": {\"pool\": \"10.240.0.0/16\", \"dns\": {\"upstream\": [\"10.240.0.1\"]}}}",
	  "/network/dns/upstream/0", "the run's DNS proxy cannot reach it; name an upstream" },
	{ V "\"network\": {\"dns\": {\"upstream\": [\"fd61:6972:6c6b:1::53\"]}}}",
	  "/network/dns/upstream/0", "address pool fd61:6972:6c6b::/48 (/network/pool6)" },
	{ V "\"network\": {\"dns\": {\"ttl_min\": \"1500ms\"}}}", "/network/dns/ttl_min",
	  "whole seconds" },
	{ V "\"network\": {\"dns\": {\"ttl_min\": \"2h\", \"ttl_max\": \"1h\"}}}", "/network/dns",
	  "above ttl_max" },
	{ V "\"network\": {\"dns\": {\"ttl_max\": \"25h\"}}}", "/network/dns/ttl_max", "1s..24h" },
	{ V "\"network\": {\"dns\": {\"wildcard_names\": 0}}}", "/network/dns/wildcard_names",
	  "1..4096" },
	{ V "\"network\": {\"dns\": {\"wildcard_match_length\": 201}}}",
	  "/network/dns/wildcard_match_length", "1..200" },
	{ V "\"network\": {\"flows\": {\"max\": 8}}}", "/network/flows/max", "16..262144" },
	{ V "\"network\": {\"flows\": {\"max\": \"4096\"}}}", "/network/flows/max", "integer" },
	{ V "\"network\": {\"flows\": {\"rate\": 0}}}", "/network/flows/rate", "1..100000" },
	{ V "\"network\": {\"flows\": {\"open\": 1}}}", "/network/flows/open", "unknown key" },
	{ V "\"credentials\": {\"mint\": {}}}", "/credentials/mint", "unknown key" },
	{ V "\"credentials\": {\"issuers\": []}}", "/credentials/issuers", "object" },
	{ V "\"credentials\": {\"issuers\": {\"a\": 1}}}", "/credentials/issuers/a",
	  "expected an object" },
	{ V "\"credentials\": {\"issuers\": {\"-a\": {}}}}", "/credentials/issuers/-a",
	  "expected a name" },
	{ V "\"credentials\": {\"issuers\": {\"a\": {}}}}", "/credentials/issuers/a/kind",
	  "the issuer's kind" },
	{ V "\"credentials\": {\"issuers\": {\"a\": {\"kind\": \"ldap\"}}}}",
	  "/credentials/issuers/a/kind", "unknown kind \"ldap\"" },
	{ V "\"artifacts\": {\"owner\": \"1000\"}}", "/artifacts/owner", "\"UID:GID\"" },
	{ V "\"artifacts\": {\"owner\": \"1000:\"}}", "/artifacts/owner", "\"UID:GID\"" },
	{ V "\"artifacts\": {\"owner\": \":1000\"}}", "/artifacts/owner", "\"UID:GID\"" },
	{ V "\"artifacts\": {\"owner\": \"-1:0\"}}", "/artifacts/owner", "\"UID:GID\"" },
	{ V "\"artifacts\": {\"owner\": \" 1:1\"}}", "/artifacts/owner", "\"UID:GID\"" },
	{ V "\"artifacts\": {\"owner\": \"1:1 \"}}", "/artifacts/owner", "\"UID:GID\"" },
	{ V "\"artifacts\": {\"owner\": \"4294967295:1\"}}", "/artifacts/owner",
	  "below 4294967295" },
	{ V "\"artifacts\": {\"owner\": \"1:42949672950\"}}", "/artifacts/owner", "\"UID:GID\"" },
	{ V "\"artifacts\": {\"owner\": \"alice:alice\"}}", "/artifacts/owner", "\"UID:GID\"" },
	{ V "\"artifacts\": {\"owner\": 1000}}", "/artifacts/owner", "string" },
	{ V "\"artifacts\": {\"group\": \"1\"}}", "/artifacts/group", "unknown key" },
};

TEST(errors)
{
	for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		struct node_config *cfg = NULL;
		struct policy_error e = {};

		ASSERT_ERROR(node_config_parse(c->json, strlen(c->json), &cfg, &e), EINVAL);
		ASSERT_TRUE(cfg == NULL);
		ASSERT_STREQ(e.path, c->path);
		ASSERT_CONTAINS(e.message, c->fragment);
	}
}

TEST(defaults)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	static const char text[] = "{\"version\": 1}";
	char buf[INET_ADDRSTRLEN];

	ASSERT_OK(node_config_parse(text, sizeof(text) - 1, &c, NULL));
	ASSERT_EQ(c->network.forwarding, NODE_FORWARDING_REQUIRE);
	ASSERT_EQ(c->network.pool4.prefixlen, 16);
	inet_ntop(AF_INET, c->network.pool4.addr.addr, buf, sizeof(buf));
	ASSERT_STREQ(buf, "10.231.0.0");
	ASSERT_EQ(c->network.pool6.prefixlen, 48);
	ASSERT_EQ(c->network.pool6.addr.family, AF_INET6);
	ASSERT_EQ(c->network.dns_ttl_min_s, NODE_CONFIG_DEFAULT_TTL_MIN_S);
	ASSERT_EQ(c->network.dns_ttl_max_s, NODE_CONFIG_DEFAULT_TTL_MAX_S);
	ASSERT_EQ(c->network.n_dns_upstream, 0);
	ASSERT_EQ(c->network.wildcard_names, 128);
	ASSERT_EQ(c->network.wildcard_match_length, 63);
	ASSERT_EQ(c->network.flows_max, 4096);
	ASSERT_EQ(c->network.flows_rate, 100);
	ASSERT_TRUE(c->state_dir == NULL);
	ASSERT_FALSE(c->artifacts.has_owner);
	ASSERT_OK(node_config_fill_defaults(c, "/var/lib/airlock", "/run/airlock", ""));
	ASSERT_STREQ(c->state_dir, "/var/lib/airlock");
	ASSERT_STREQ(c->cgroup_parent, "");
}

TEST(settings_round_trip)
{
	_cleanup_node_config_free_ struct node_config *c = NULL, *again = NULL;
	_cleanup_free_ char *json = NULL, *json2 = NULL;
	static const char text[] =
		"{\"version\": 1, \"state_dir\": \"/srv/airlock\", \"cgroup_parent\": "
		"\"ci/airlock\","
		" \"network\": {\"pool\": \"10.240.0.0/20\", \"pool6\": \"fd12:3456::/32\","
		" \"forwarding\": \"manage\","
		" \"dns\": {\"upstream\": [\"192.0.2.53\", \"2001:db8::53\"], \"ttl_min\": \"1s\","
		" \"ttl_max\": \"1h\", \"wildcard_names\": 16, \"wildcard_match_length\": 20},"
		" \"flows\": {\"max\": 64, \"rate\": 20}},"
		" \"artifacts\": {\"owner\": \"4294967294:0\"}}";

	ASSERT_OK(node_config_parse(text, sizeof(text) - 1, &c, NULL));
	ASSERT_STREQ(c->state_dir, "/srv/airlock");
	ASSERT_STREQ(c->cgroup_parent, "ci/airlock");
	ASSERT_EQ(c->network.forwarding, NODE_FORWARDING_MANAGE);
	ASSERT_EQ(c->network.pool4.prefixlen, 20);
	ASSERT_EQ(c->network.n_dns_upstream, 2);
	ASSERT_EQ(c->network.dns_upstream[1].family, AF_INET6);
	ASSERT_EQ(c->network.dns_ttl_min_s, 1);
	ASSERT_EQ(c->network.dns_ttl_max_s, 3600);
	ASSERT_EQ(c->network.wildcard_names, 16);
	ASSERT_EQ(c->network.wildcard_match_length, 20);
	ASSERT_EQ(c->network.flows_max, 64);
	ASSERT_EQ(c->network.flows_rate, 20);
	ASSERT_TRUE(c->artifacts.has_owner);
	ASSERT_EQ(c->artifacts.owner_uid, 4294967294U);
	ASSERT_EQ(c->artifacts.owner_gid, 0);

	/* config show's output parses back to the same settings */
	ASSERT_OK(node_config_fill_defaults(c, "/var/lib/airlock", "/run/airlock", ""));
	ASSERT_OK(node_config_to_json(c, &json));
	ASSERT_CONTAINS(json, "\"forwarding\": \"manage\"");
	ASSERT_CONTAINS(json, "\"pool\": \"10.240.0.0/20\"");
	ASSERT_CONTAINS(json, "\"pool6\": \"fd12:3456::/32\"");
	ASSERT_CONTAINS(json, "\"max\": 64");
	ASSERT_CONTAINS(json, "\"wildcard_names\": 16");
	ASSERT_CONTAINS(json, "\"wildcard_match_length\": 20");
	ASSERT_CONTAINS(json, "\"owner\": \"4294967294:0\"");
	ASSERT_OK(node_config_parse(json, strlen(json), &again, NULL));
	ASSERT_OK(node_config_to_json(again, &json2));
	ASSERT_STREQ(json, json2);
}

TEST(issuers)
{
	_cleanup_node_config_free_ struct node_config *c = NULL, *again = NULL;
	_cleanup_free_ char *json = NULL;
	static const char text[] =
		"{\"version\": 1, \"credentials\": {\"issuers\": {"
		"\"idp\": {\"kind\": \"oauth2_client_credentials\", \"token_url\": "
		"\"https://idp.example.com/token\", \"client_id\": \"airlock\", "
		"\"client_secret_file\": \"/etc/airlock/idp.secret\"}, "
		"\"vault\": {\"kind\": \"http_json\", \"url\": \"https://vault.example.com/x\", "
		"\"value_pointer\": \"/auth/client_token\"}}}}";

	ASSERT_OK(node_config_parse(text, sizeof(text) - 1, &c, NULL));
	ASSERT_EQ(c->n_issuers, 2);
	ASSERT_STREQ(node_config_issuer(c, "idp")->kind, "oauth2_client_credentials");
	ASSERT_CONTAINS(node_config_issuer(c, "idp")->json, "\"client_id\":\"airlock\"");
	ASSERT_STREQ(node_config_issuer(c, "vault")->kind, "http_json");
	ASSERT_TRUE(node_config_issuer(c, "nope") == NULL);
	ASSERT_OK(node_config_fill_defaults(c, "/var/lib/airlock", "/run/airlock", ""));
	ASSERT_OK(node_config_to_json(c, &json));
	ASSERT_CONTAINS(json, "\"token_url\": \"https://idp.example.com/token\"");
	ASSERT_OK(node_config_parse(json, strlen(json), &again, NULL));
	ASSERT_EQ(again->n_issuers, 2);
}

/* An upstream just outside the pool is no error: only the pool's own addresses are. */
TEST(upstream_beside_pool)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	static const char text[] = "{\"version\": 1, \"network\": {\"pool\": \"10.240.0.0/16\", "
				   "\"dns\": {\"upstream\": [\"10.241.0.1\", \"10.239.255.255\", "
				   "\"10.231.0.1\", \"fd61:6972:6c6c::1\"]}}}";

	ASSERT_OK(node_config_parse(text, sizeof(text) - 1, &c, NULL));
	ASSERT_EQ(c->network.n_dns_upstream, 4);
}

static enum node_pool_overlap overlap(const struct node_network *n, const char *addr, unsigned plen)
{
	struct policy_addr a = { .family = strchr(addr, ':') ? AF_INET6 : AF_INET };

	if (inet_pton(a.family, addr, a.addr) != 1)
		return (enum node_pool_overlap) - 1; /* no value a test expects */
	return node_network_pool_overlap(n, &a, plen);
}

TEST(pool_overlap)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	static const char text[] = "{\"version\": 1}";
	const struct node_network *n;

	ASSERT_OK(node_config_parse(text, sizeof(text) - 1, &c, NULL));
	n = &c->network;
	ASSERT_EQ(overlap(n, "10.231.0.0", 16), NODE_POOL_INSIDE);
	ASSERT_EQ(overlap(n, "10.231.255.255", 32), NODE_POOL_INSIDE);
	ASSERT_EQ(overlap(n, "10.231.4.0", 24), NODE_POOL_INSIDE);
	ASSERT_EQ(overlap(n, "10.232.0.0", 32), NODE_POOL_APART);
	ASSERT_EQ(overlap(n, "10.230.255.255", 32), NODE_POOL_APART);
	ASSERT_EQ(overlap(n, "10.232.0.0", 16), NODE_POOL_APART);
	ASSERT_EQ(overlap(n, "10.230.0.0", 15), NODE_POOL_HOLDS);
	ASSERT_EQ(overlap(n, "10.0.0.0", 8), NODE_POOL_HOLDS);
	ASSERT_EQ(overlap(n, "0.0.0.0", 0), NODE_POOL_HOLDS);
	ASSERT_EQ(overlap(n, "fd61:6972:6c6b::", 48), NODE_POOL_INSIDE);
	ASSERT_EQ(overlap(n, "fd61:6972:6c6b:ffff::1", 128), NODE_POOL_INSIDE);
	ASSERT_EQ(overlap(n, "fd61:6972:6c6c::", 48), NODE_POOL_APART);
	ASSERT_EQ(overlap(n, "fd00::", 8), NODE_POOL_HOLDS);
	ASSERT_EQ(overlap(n, "::", 0), NODE_POOL_HOLDS);
	/* v4-in-v6 is another family: the IPv4 pool is not matched by it */
	ASSERT_EQ(overlap(n, "::ffff:10.231.0.1", 128), NODE_POOL_APART);
}

struct findings {
	unsigned refusals, warnings;
	char first_refusal[NODE_POOL_LINE_MAX];
	char first_warning[NODE_POOL_LINE_MAX];
};

static void collect(bool refusal, const char *line, void *userdata)
{
	struct findings *f = userdata;
	char *first = refusal ? f->first_refusal : f->first_warning;

	if (!(refusal ? f->refusals++ : f->warnings++))
		snprintf(first, NODE_POOL_LINE_MAX, "%s", line);
}

TEST(check_policy)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	_cleanup_policy_free_ struct policy *p = NULL;
	static const char conf[] = "{\"version\": 1, \"network\": {\"pool\": \"10.240.0.0/16\"}}";
	static const char pol[] = "{\"version\": 1, \"network\": {\"egress\": ["
				  "{\"cidr\": \"10.239.0.0/16\", \"ports\": [443]},"
				  "{\"host\": \"example.com\", \"ports\": [443]},"
				  "{\"cidr\": \"10.240.9.0/24\", \"ports\": [443]},"
				  "{\"cidr\": \"10.0.0.0/8\", \"ports\": [80]},"
				  "{\"cidr\": \"fd61:6972:6c6b:2::/64\", \"ports\": [443]},"
				  "{\"cidr\": \"10.241.0.1/32\", \"ports\": [443]}],"
				  "\"dns\": {\"upstream\": [\"192.0.2.53\", \"10.240.0.53\"]}}}";
	struct policy_error e = {};
	struct findings f = {};
	char line[NODE_POOL_LINE_MAX];
	uint8_t ns[4] = { 10, 240, 0, 1 };

	ASSERT_OK(node_config_parse(conf, sizeof(conf) - 1, &c, NULL));
	c->network.config_path = "/etc/x.json";
	ASSERT_OK(policy_parse(pol, sizeof(pol) - 1, &p, &e));
	ASSERT_EQ(node_network_check_policy(&c->network, &p->network, collect, &f), 3);
	ASSERT_EQ(f.refusals, 3);
	ASSERT_EQ(f.warnings, 1);
	ASSERT_STREQ(f.first_refusal,
		     "/network/egress/2: cidr 10.240.9.0/24 lies in the address pool 10.240.0.0/16 "
		     "(/network/pool of /etc/x.json), the runs' own addresses: no task can reach "
		     "it; allow an address outside the pool, or choose another pool");
	ASSERT_STREQ(f.first_warning,
		     "/network/egress/3: cidr 10.0.0.0/8 holds the address pool 10.240.0.0/16 "
		     "(/network/pool of /etc/x.json), the runs' own addresses: tasks reach the "
		     "rest of the range, never the pool");

	ASSERT_TRUE(node_network_resolver_refusal(&c->network, ns, line, sizeof(line)) > 0);
	ASSERT_CONTAINS(line, "nameserver of /etc/resolv.conf, 10.240.0.1, lies in the address "
			      "pool 10.240.0.0/16 (/network/pool of /etc/x.json)");
	ns[1] = 241;
	ASSERT_EQ(node_network_resolver_refusal(&c->network, ns, line, sizeof(line)), 0);

	c->network.config_path = NULL;
	f = (struct findings){};
	ASSERT_EQ(node_network_check_policy(&c->network, &p->network, collect, &f), 3);
	ASSERT_CONTAINS(f.first_refusal,
			"(/network/pool, the default; set in " NODE_CONFIG_PATH ")");
}

/* A route table of /proc/net/ipv6_route's format at dir/name; its path into path. */
static bool write_routes(const char *dir, const char *name, const char *text, char *path,
			 size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

#define Z32 "00000000000000000000000000000000"
/* The fields after dst and its prefix length: src, srcplen, next hop, metric, ..., ifname. */
#define VIA_GW \
	" " Z32 " 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003 eth0\n"
#define ON_LINK " " Z32 " 00 " Z32 " 00000100 00000001 00000000 00000001 eth0\n"
#define ROUTE_DEFAULT Z32 " 00" VIA_GW
#define ROUTE_IN_POOL "fdaa1234567800070000000000000000 40" ON_LINK

/*
 * Whether a run gets IPv6, over real route tables in files: a table that cannot be read
 * leaves the run without IPv6 and is no refusal (a host without IPv6, or whose table an
 * LSM hides, still runs IPv4); one that does not exist (ipv6.disable=1) has no route.
 */
TEST(v6_off)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	static const char conf[] = "{\"version\": 1, \"network\": {\"pool6\": "
				   "\"fdaa:1234:5678::/48\", \"forwarding\": \"manage\"}}";
	char dir[] = "/tmp/test-node-config.XXXXXX", path[256], missing[256], why[1024];
	const char *off;
	int collision = 42;

	ASSERT_OK(node_config_parse(conf, sizeof(conf) - 1, &c, NULL));
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	/* The host's own addresses are read too: this pool must be none of them. */
	ASSERT_EQ(node_network_pool_refusal(&c->network, AF_INET6, "/dev/null", NULL, why,
					    sizeof(why)),
		  0);

	snprintf(missing, sizeof(missing), "%s/none", dir);
	off = node_network_v6_off(&c->network, missing, &collision, why, sizeof(why));
	ASSERT_EQ(collision, 0);
	ASSERT_STREQ(off, "this host has no IPv6 default route");

	/* A directory: fopen() takes it, reading it fails (EISDIR). */
	collision = 42;
	off = node_network_v6_off(&c->network, dir, &collision, why, sizeof(why));
	ASSERT_TRUE(collision < 0);
	ASSERT_STREQ(off, "this host's IPv6 addresses and routes cannot be read");

	ASSERT_TRUE(write_routes(dir, "default", ROUTE_DEFAULT, path, sizeof(path)));
	off = node_network_v6_off(&c->network, path, &collision, why, sizeof(why));
	ASSERT_EQ(collision, 0);
	ASSERT_TRUE(off == NULL);
	ASSERT_EQ(unlink(path), 0);

	ASSERT_TRUE(write_routes(dir, "both", ROUTE_IN_POOL ROUTE_DEFAULT, path, sizeof(path)));
	off = node_network_v6_off(&c->network, path, &collision, why, sizeof(why));
	ASSERT_EQ(collision, 1);
	ASSERT_TRUE(off == NULL);
	ASSERT_CONTAINS(why, "the address pool fdaa:1234:5678::/48 (/network/pool6");
	ASSERT_CONTAINS(why, "overlaps fdaa:1234:5678:7::/64 on eth0, a route");
	ASSERT_EQ(unlink(path), 0);

	/* A collision without IPv6: reported, and the run has no IPv6 for it to matter to. */
	ASSERT_TRUE(write_routes(dir, "pool", ROUTE_IN_POOL, path, sizeof(path)));
	off = node_network_v6_off(&c->network, path, &collision, why, sizeof(why));
	ASSERT_EQ(collision, 1);
	ASSERT_STREQ(off, "this host has no IPv6 default route");
	ASSERT_EQ(unlink(path), 0);
	ASSERT_EQ(rmdir(dir), 0);
}

TEST_MAIN()
