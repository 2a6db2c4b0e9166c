/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The node configuration: what the machine's administrator sets for every run on this host
 * (address pools, DNS, forwarding, cgroup parent, directories), as opposed to a policy,
 * which the security team writes per kind of task. Read from /etc/airlock/airlock.json by
 * the supervisor (supervisor/config.c does the I/O and the ownership checks); parsed here as
 * strictly as a policy: unknown and duplicate keys, bad types and out-of-range values are
 * errors naming the JSON path. Pure (no I/O, no logging) but for node-host.c, which reads the
 * host's addresses and routes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net-pool.h"
#include "policy.h"

#define NODE_CONFIG_VERSION 1
#define NODE_CONFIG_MAX_BYTES (64 * 1024)
#define NODE_CONFIG_PATH "/etc/airlock/airlock.json"

/* Defaults of the built-in configuration (docs/config.md). */
#define NODE_CONFIG_DEFAULT_POOL4 "10.231.0.0/16"
#define NODE_CONFIG_DEFAULT_POOL6 "fd61:6972:6c6b::/48" /* ULA, "airlk" */
#define NODE_CONFIG_DEFAULT_TTL_MIN_S 5
#define NODE_CONFIG_DEFAULT_TTL_MAX_S 300
#define NODE_CONFIG_MAX_TTL_S 86400
/* A run's flows (conntrack entries): open at once, and new ones a second (docs/config.md). */
#define NODE_CONFIG_DEFAULT_FLOWS_MAX 4096
#define NODE_CONFIG_DEFAULT_FLOWS_RATE 100
#define NODE_CONFIG_MIN_FLOWS_MAX 16
#define NODE_CONFIG_MAX_FLOWS_MAX 262144
#define NODE_CONFIG_MAX_FLOWS_RATE 100000

/* How a networked run gets the host to forward its traffic. */
enum node_forwarding {
	NODE_FORWARDING_REQUIRE, /* refuse a networked run on a host that does not forward */
	NODE_FORWARDING_MANAGE, /* turn forwarding on, forwarding only the runs' traffic */
	_NODE_FORWARDING_MAX,
	_NODE_FORWARDING_INVALID = -EINVAL,
};

struct node_prefix {
	struct policy_addr addr;
	uint8_t prefixlen;
};

struct node_network {
	struct node_prefix pool4; /* the runs' IPv4 addresses (a /30 each) */
	struct node_prefix pool6; /* the runs' IPv6 addresses (a /64 each) */
	enum node_forwarding forwarding;
	struct policy_addr *dns_upstream; /* when a policy names none; empty: /etc/resolv.conf */
	size_t n_dns_upstream;
	uint32_t dns_ttl_min_s; /* learned addresses live at least this long */
	uint32_t dns_ttl_max_s; /* and at most this long */
	uint32_t wildcard_names; /* a wildcard rule's name budget when the policy sets none */
	uint32_t wildcard_match_length; /* and its "*" length cap when the policy sets none */
	uint32_t flows_max; /* a run's flows open at once, in its namespace and the host's */
	uint32_t flows_rate; /* its new flows a second (bursts of 10 seconds' worth) */
	const char *config_path; /* the file it was read from (node_config's path), or NULL */
};

#define NODE_CONFIG_MAX_ISSUERS 32

/* An issuer of minted credentials (docs/config.md, "credentials"). */
struct node_issuer {
	char *name;
	char *kind; /* one node_issuer_kind_is_known() accepts */
	char *json; /* its whole object as compact JSON, parsed by the issuer module */
};

/* "artifacts" (docs/config.md): who owns what a run exports. */
struct node_artifacts {
	bool has_owner; /* false: the caller (SUDO_UID/SUDO_GID, else the real ids) */
	uint32_t owner_uid;
	uint32_t owner_gid;
};

struct node_config {
	int version;
	char *path; /* the file it was read from, NULL when built in (messages name it) */
	char *state_dir; /* records and node key */
	/*
	 * Run locks, id slots, network slots: the build's runtime_dir, not settable in the
	 * file. Every supervisor of the host must agree on it (the id pool and the reaper's
	 * "is this run alive" live there), so one file cannot split them.
	 */
	char *runtime_dir;
	char *cgroup_parent; /* relative to each hierarchy's mount; "" = detected default */
	struct node_network network;
	struct node_issuer *issuers; /* "credentials"."issuers", in the file's order */
	size_t n_issuers;
	struct node_artifacts artifacts;
};

/*
 * Parses and validates a node configuration from len bytes of JSON. Fills every default.
 * Returns 0 and *ret (owned by the caller), -EINVAL with *reterr filled (formatted by
 * node_config_error_format()), or -ENOMEM. Does not log.
 */
int node_config_parse(const char *buf, size_t len, struct node_config **ret,
		      struct policy_error *reterr);

/*
 * The built-in configuration, used when the file is absent. state_dir, runtime_dir and
 * cgroup_parent are the build's defaults, passed by the caller. 0 or -ENOMEM.
 */
int node_config_new_default(const char *state_dir, const char *runtime_dir,
			    const char *cgroup_parent, struct node_config **ret);

/*
 * Fills the directories and cgroup parent a file left out with the build's defaults.
 * 0 or -ENOMEM.
 */
int node_config_fill_defaults(struct node_config *c, const char *state_dir, const char *runtime_dir,
			      const char *cgroup_parent);

/* Frees a configuration; accepts and returns NULL. */
struct node_config *node_config_free(struct node_config *c);

/* The effective configuration as indented JSON text (owned by the caller). 0 or -ENOMEM. */
int node_config_to_json(const struct node_config *c, char **ret);

/* Formats an error as "config: /path: message" (with line:column when known). */
void node_config_error_format(const struct policy_error *e, char *buf, size_t len);

/* "require"/"manage"; NULL or -EINVAL for anything else. */
const char *node_forwarding_to_string(enum node_forwarding f);
enum node_forwarding node_forwarding_from_string(const char *s);

/*
 * The node's IPv4 (family AF_INET) or IPv6 pool into *ret, and in name the words every
 * message uses for it: "10.231.0.0/16 (/network/pool of FILE)", or "... (/network/pool,
 * the default; set in /etc/airlock/airlock.json)" when no file set it.
 */
#define NODE_POOL_NAME_MAX 512 /* a longer configuration path is cut short */
void node_network_pool(const struct node_network *n, int family, struct net_pool *ret, char *name,
		       size_t size);

/*
 * The node's pool of family against this host's addresses and routes (net_pool_refusal(),
 * the pool named by node_network_pool()), asked the same way by a run and by `policy check
 * --host`: 1 with the refusal in why, 0, or -errno when they cannot be read. routes: the
 * route table to read, NULL for the kernel's. For AF_INET6, ret_ip6_route (NULL: not
 * asked) says whether the host has an IPv6 default route. Reads the host (node-host.c):
 * the one check here that is not pure.
 */
int node_network_pool_refusal(const struct node_network *n, int family, const char *routes,
			      bool *ret_ip6_route, char *why, size_t size);

/*
 * Whether a run on this host gets IPv6: NULL when it does, else why not, in words a refusal
 * ends with ("this host has no IPv6 default route"). *ret_collision is what
 * node_network_pool_refusal() says of the IPv6 pool (1 with the refusal in why: it matters
 * only to a run with IPv6). A host whose IPv6 addresses or routes cannot be read
 * (*ret_collision < 0) gives no IPv6 rather than refusing: an IPv4 run works there as on a
 * host without IPv6, and only a policy that needs IPv6 is refused. routes as above.
 */
const char *node_network_v6_off(const struct node_network *n, const char *routes,
				int *ret_collision, char *why, size_t size);

/* Where a destination lies against the node's address pool of its family. */
enum node_pool_overlap {
	NODE_POOL_APART, /* no address in common */
	NODE_POOL_INSIDE, /* all of it in the pool: the runs' own addresses, never reached */
	NODE_POOL_HOLDS, /* the whole pool and more: reached, except for the pool */
};

/* The prefix addr/prefixlen against the pool of addr's family. */
enum node_pool_overlap node_network_pool_overlap(const struct node_network *n,
						 const struct policy_addr *addr,
						 unsigned prefixlen);

/* One finding of node_network_check_policy(): "<JSON path>: <why>", one line. */
#define NODE_POOL_LINE_MAX (NODE_POOL_NAME_MAX + 256)
typedef void (*node_pool_report_fn)(bool refusal, const char *line, void *userdata);

/*
 * The refusal of a DNS upstream up that lies in a pool, the words after its JSON path
 * ("10.231.0.53 lies in the address pool 10.231.0.0/16 (/network/pool of FILE), the runs'
 * own addresses: the run's DNS proxy cannot reach it; ..."): snprintf()'s return value, or
 * 0 when it lies in none. key_only names the pool by its key alone ("(/network/pool)"), for
 * the errors of the configuration file being parsed, which name the file themselves.
 */
int node_network_upstream_refusal(const struct node_network *n, const struct policy_addr *up,
				  bool key_only, char *buf, size_t size);

/*
 * A policy's network against the node's pools (docs/network.md, "Host requirements"):
 * reports a refusal for each cidr rule and each dns.upstream that lies in a pool (no task,
 * no DNS proxy reaches an address there), and a warning for each cidr rule that holds a
 * whole pool (the rest of its range is reached, the pool never). Returns the number of
 * refusals.
 */
size_t node_network_check_policy(const struct node_network *n, const struct policy_network *pn,
				 node_pool_report_fn report, void *userdata);

/*
 * The refusal of a run whose DNS upstream is the host's resolver (neither the policy nor
 * the configuration names one) at addr, the first IPv4 nameserver of /etc/resolv.conf,
 * when that lies in the IPv4 pool: snprintf()'s return value, or 0 when it does not.
 */
int node_network_resolver_refusal(const struct node_network *n, const uint8_t addr[4], char *buf,
				  size_t size);

/* The issuer called name, or NULL. */
const struct node_issuer *node_config_issuer(const struct node_config *c, const char *name);
/* Whether this build implements an issuer kind. */
bool node_issuer_kind_is_known(const char *kind);

static inline void node_config_freep(struct node_config **c)
{
	node_config_free(*c);
}
#define _cleanup_node_config_free_ __attribute__((cleanup(node_config_freep)))
