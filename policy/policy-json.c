/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The canonical serialisation of an effective policy and its SHA-256 digest. Keys are
 * sorted, sizes and durations are rendered in their normal form ("256M", "10m"), lists
 * the parser sorts are sorted, and unset optional values are omitted, so that parsing
 * the output again gives the same policy and the same digest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "parse-util.h"
#include "sha256.h"
#include "policy-internal.h"

/* Digits of cpu as a JSON real: at most "1024.000", so 10 significant digits is exact. */
#define POLICY_JSON_FLAGS (JSON_SORT_KEYS | JSON_REAL_PRECISION(10))

/* Steals v into obj[key]; fails (and frees nothing twice) on NULL or -ENOMEM. */
static int put(json_t *obj, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

static int append(json_t *arr, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_array_append_new(arr, v) < 0 ? -ENOMEM : 0;
}

static json_t *size_string(uint64_t v)
{
	char buf[32];

	format_size(v, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *strv_array(char *const *l)
{
	_cleanup_json_ json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; l && l[i]; i++)
		if (append(a, json_string(l[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

/* A list the parser keeps in the file's order, sorted and de-duplicated. */
static json_t *sorted_strv_array(char *const *l)
{
	_cleanup_json_ json_t *a = json_array();
	_cleanup_free_ const char **v = NULL;
	size_t n = 0;

	while (l && l[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!a || !v)
		return NULL;
	memcpy(v, l, n * sizeof(*v));
	qsort(v, n, sizeof(*v), policy_strcmp_ptr);
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || !streq(v[i - 1], v[i])) && append(a, json_string(v[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static json_t *limits_tree(const struct policy_limits *l)
{
	_cleanup_json_ json_t *o = json_object();
	char buf[32];
	int r = 0;

	if (!o)
		return NULL;
	if (l->set & POLICY_LIMIT_WALL_TIME) {
		format_duration_ms(l->wall_time_ms, buf, sizeof(buf));
		r |= put(o, "wall_time", json_string(buf));
	}
	if (l->set & POLICY_LIMIT_MEMORY)
		r |= put(o, "memory", size_string(l->memory));
	if (l->set & POLICY_LIMIT_SWAP)
		r |= put(o, "swap", size_string(l->swap));
	if (l->set & POLICY_LIMIT_OUTPUT)
		r |= put(o, "output", size_string(l->output));
	if (l->set & POLICY_LIMIT_PIDS)
		r |= put(o, "pids", json_integer(l->pids));
	if (l->set & POLICY_LIMIT_CPU)
		r |= put(o, "cpu", json_real(l->cpu_milli / 1000.0));
	if (l->set & POLICY_LIMIT_OPEN_FILES)
		r |= put(o, "open_files", json_integer(l->open_files));
	if (l->set & POLICY_LIMIT_IO_WEIGHT)
		r |= put(o, "io_weight", json_integer(l->io_weight));
	return r < 0 ? NULL : TAKE_PTR(o);
}

static json_t *environment_tree(char *const *env)
{
	_cleanup_json_ json_t *o = json_object();

	if (!o)
		return NULL;
	for (size_t i = 0; env && env[i]; i++) {
		_cleanup_free_ char *k = strdup(env[i]);
		char *eq;

		if (!k)
			return NULL;
		eq = strchr(k, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (put(o, k, json_string(eq + 1)) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}

static json_t *filesystem_tree(const struct policy_filesystem *fs)
{
	_cleanup_json_ json_t *o = NULL, *binds = NULL, *tmpfs = NULL;
	int r = 0;

	o = json_pack("{s:{s:s}}", "workspace", "mode", policy_mode_to_string(fs->workspace_mode));
	binds = json_array();
	tmpfs = json_array();
	if (!o || !binds || !tmpfs)
		return NULL;
	if (fs->workspace_mode == POLICY_MODE_OVERLAY) /* the size only where it applies */
		r |= put(json_object_get(o, "workspace"), "size", size_string(fs->workspace_size));
	for (size_t i = 0; i < fs->n_binds; i++)
		r |= append(binds, json_pack("{s:s,s:s,s:s}", "source", fs->binds[i].source,
					     "target", fs->binds[i].target, "mode",
					     policy_mode_to_string(fs->binds[i].mode)));
	for (size_t i = 0; i < fs->n_tmpfs; i++)
		r |= append(tmpfs, json_pack("{s:s,s:o}", "target", fs->tmpfs[i].target, "size",
					     size_string(fs->tmpfs[i].size)));
	r |= put(o, "binds", TAKE_PTR(binds));
	r |= put(o, "tmpfs", TAKE_PTR(tmpfs));
	if (fs->exec)
		r |= put(o, "exec", sorted_strv_array(fs->exec));
	if (fs->etc)
		r |= put(o, "etc", sorted_strv_array(fs->etc));
	if (fs->rootfs)
		r |= put(o, "rootfs", json_string(fs->rootfs));
	r |= put(o, "cgroup", json_boolean(fs->cgroup));
	return r < 0 ? NULL : TAKE_PTR(o);
}

static json_t *rule_tree(const struct policy_egress_rule *rule)
{
	_cleanup_json_ json_t *o = json_object(), *ports = json_array();
	char addr[64], cidr[80];
	int r = 0;

	if (!o || !ports)
		return NULL;
	if (rule->is_cidr) {
		policy_addr_to_string(&rule->cidr, addr, sizeof(addr));
		snprintf(cidr, sizeof(cidr), "%s/%u", addr, rule->prefixlen);
		r |= put(o, "cidr", json_string(cidr));
	} else {
		r |= put(o, "host", json_string(rule->host));
	}
	for (size_t i = 0; i < rule->n_ports; i++)
		r |= append(ports, json_integer(rule->ports[i]));
	r |= put(o, "ports", TAKE_PTR(ports));
	r |= put(o, "protocol", json_string(policy_protocols_to_string(rule->protocols)));
	if (rule->wildcard) {
		r |= put(o, "names", json_integer(rule->names));
		r |= put(o, "match_length", json_integer(rule->match_length));
	}
	return r < 0 ? NULL : TAKE_PTR(o);
}

static json_t *network_tree(const struct policy_network *n)
{
	_cleanup_json_ json_t *o = json_object(), *egress = json_array(), *up = json_array();
	char addr[64];
	int r = 0;

	if (!o || !egress || !up)
		return NULL;
	for (size_t i = 0; i < n->n_egress; i++)
		r |= append(egress, rule_tree(&n->egress[i]));
	for (size_t i = 0; i < n->n_dns_upstream; i++) {
		policy_addr_to_string(&n->dns_upstream[i], addr, sizeof(addr));
		r |= append(up, json_string(addr));
	}
	r |= put(o, "egress", TAKE_PTR(egress));
	r |= put(o, "dns", json_pack("{s:o}", "upstream", TAKE_PTR(up)));
	return r < 0 ? NULL : TAKE_PTR(o);
}

json_t *policy_to_json_tree(const struct policy *p)
{
	_cleanup_json_ json_t *o = NULL;
	int r = 0;

	o = json_pack("{s:i,s:s,s:{s:I,s:I,s:s},s:{s:s}}", "version", p->version, "name", p->name,
		      "identity", "uid", (json_int_t)p->identity.uid, "gid",
		      (json_int_t)p->identity.gid, "hostname", p->identity.hostname, "seccomp",
		      "profile", policy_seccomp_profile_to_string(p->seccomp));
	if (!o)
		return NULL;
	if (p->command_allow)
		r |= put(o, "command", json_pack("{s:o}", "allow", strv_array(p->command_allow)));
	r |= put(o, "limits", limits_tree(&p->limits));
	r |= put(o, "environment", environment_tree(p->environment));
	r |= put(o, "filesystem", filesystem_tree(&p->filesystem));
	if (p->network.enabled)
		r |= put(o, "network", network_tree(&p->network));
	if (p->n_credentials > 0)
		r |= put(o, "credentials", policy_credentials_tree(p));
	r |= put(o, "logs", policy_logs_tree(&p->logs));
	if (p->artifacts.enabled)
		r |= put(o, "artifacts", policy_artifacts_tree(&p->artifacts));
	return r < 0 ? NULL : TAKE_PTR(o);
}

int policy_to_json(const struct policy *p, bool pretty, char **ret)
{
	_cleanup_json_ json_t *o = NULL;
	char *s;

	o = policy_to_json_tree(p);
	if (!o)
		return -ENOMEM;
	s = json_dumps(o, POLICY_JSON_FLAGS | (pretty ? JSON_INDENT(2) : JSON_COMPACT));
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int policy_compute_digest(struct policy *p)
{
	_cleanup_free_ char *s = NULL;
	uint8_t md[SHA256_DIGEST_SIZE];
	int r;

	r = policy_to_json(p, false, &s);
	if (r < 0)
		return r;
	sha256(s, strlen(s), md);
	hex_encode(md, sizeof(md), p->digest);
	return 0;
}
