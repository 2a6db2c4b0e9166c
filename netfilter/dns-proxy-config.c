/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The proxy program's configuration on the wire (dns-proxy-config.h). Pure. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "dns-proxy-config.h"
#include "dns-proxy.h"
#include "macro.h"

/*
 * Native byte order and layout: both ends are the same build on the same machine (the
 * supervisor runs the program it was built with). Every length is checked all the same.
 */
#define CONFIG_MAGIC "airlock-dns-proxy-config"
#define CONFIG_VERSION 1

struct wire_addr {
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t addr[16];
};

struct wire_header {
	char magic[sizeof(CONFIG_MAGIC)];
	uint32_t version;
	uint32_t parent; /* the supervisor's pid */
	struct wire_addr task;
	struct wire_addr upstream;
	uint8_t v6_enabled;
	uint32_t n_rules;
};

enum { RULE_WILDCARD = 1 << 0, RULE_CIDR = 1 << 1 };

struct wire_rule {
	uint8_t flags;
	uint16_t host_len; /* bytes of host that follow, without a NUL */
	uint32_t names;
	uint32_t match_length;
};

static int addr_to_wire(const struct policy_addr *a, struct wire_addr *w)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EINVAL;
	w->family = (uint8_t)a->family;
	memcpy(w->addr, a->addr, sizeof(w->addr));
	return 0;
}

static int addr_from_wire(const struct wire_addr *w, struct policy_addr *a)
{
	if (w->family != AF_INET && w->family != AF_INET6)
		return -EBADMSG;
	a->family = w->family;
	memcpy(a->addr, w->addr, sizeof(a->addr));
	return 0;
}

static size_t rule_host_len(const struct policy_egress_rule *r)
{
	return r->is_cidr || !r->host ? 0 : strlen(r->host);
}

int dns_proxy_config_build(const struct dns_proxy_config *cfg, pid_t parent, uint8_t **ret,
			   size_t *ret_len)
{
	const struct policy_network *net = cfg->net;
	_cleanup_free_ uint8_t *buf = NULL;
	struct wire_header h;
	size_t len = sizeof(h), o;

	memset(&h, 0, sizeof(h)); /* padding too: the bytes go to another process */
	memcpy(h.magic, CONFIG_MAGIC, sizeof(h.magic));
	h.version = CONFIG_VERSION;
	h.parent = (uint32_t)parent;
	h.v6_enabled = cfg->v6_enabled;
	h.n_rules = (uint32_t)net->n_egress;
	if (net->n_egress > POLICY_MAX_EGRESS_RULES || parent <= 0 || cfg->task.family != AF_INET ||
	    addr_to_wire(&cfg->task, &h.task) < 0 || addr_to_wire(&cfg->upstream, &h.upstream) < 0)
		return -EINVAL;
	for (size_t i = 0; i < net->n_egress; i++) {
		if (rule_host_len(&net->egress[i]) > POLICY_MAX_HOSTNAME)
			return -EINVAL;
		len += sizeof(struct wire_rule) + rule_host_len(&net->egress[i]);
	}
	if (len > DNS_PROXY_CONFIG_MAX)
		return -EINVAL;
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, &h, sizeof(h));
	o = sizeof(h);
	for (size_t i = 0; i < net->n_egress; i++) {
		const struct policy_egress_rule *r = &net->egress[i];
		struct wire_rule w;

		memset(&w, 0, sizeof(w));
		w.flags =
			(uint8_t)((r->wildcard ? RULE_WILDCARD : 0) | (r->is_cidr ? RULE_CIDR : 0));
		w.host_len = (uint16_t)rule_host_len(r);
		w.names = r->wildcard ? r->names : 0;
		w.match_length = r->wildcard ? r->match_length : 0;
		memcpy(buf + o, &w, sizeof(w));
		o += sizeof(w);
		memcpy(buf + o, r->host ? r->host : "", w.host_len);
		o += w.host_len;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

void dns_proxy_config_net_done(struct policy_network *net)
{
	for (size_t i = 0; net->egress && i < net->n_egress; i++)
		free(net->egress[i].host);
	free(net->egress);
	*net = (struct policy_network){};
}

/* One rule at buf + *o (len bytes in all) into r; *o moves past it. */
static int rule_parse(const uint8_t *buf, size_t len, size_t *o, struct policy_egress_rule *r)
{
	struct wire_rule w;

	if (len - *o < sizeof(w))
		return -EBADMSG;
	memcpy(&w, buf + *o, sizeof(w));
	*o += sizeof(w);
	if ((w.flags & ~(RULE_WILDCARD | RULE_CIDR)) || w.host_len > POLICY_MAX_HOSTNAME ||
	    len - *o < w.host_len || w.names > POLICY_MAX_WILDCARD_NAMES ||
	    w.match_length > POLICY_MAX_WILDCARD_MATCH || memchr(buf + *o, '\0', w.host_len))
		return -EBADMSG;
	r->is_cidr = w.flags & RULE_CIDR;
	r->wildcard = w.flags & RULE_WILDCARD;
	if (r->is_cidr != (w.host_len == 0) || (r->wildcard && r->is_cidr))
		return -EBADMSG; /* a name rule has a host, a cidr rule none */
	r->names = w.names;
	r->match_length = w.match_length;
	if (!r->is_cidr) {
		r->host = strndup((const char *)buf + *o, w.host_len);
		if (!r->host)
			return -ENOMEM;
	}
	*o += w.host_len;
	return 0;
}

int dns_proxy_config_parse(const uint8_t *buf, size_t len, struct dns_proxy_config *cfg,
			   struct policy_network *net, pid_t *ret_parent)
{
	struct policy_network n = { .enabled = true };
	struct wire_header h;
	size_t o = sizeof(h);
	int r = 0;

	if (len < sizeof(h) || len > DNS_PROXY_CONFIG_MAX)
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, CONFIG_MAGIC, sizeof(h.magic)) != 0 || h.version != CONFIG_VERSION ||
	    h.n_rules > POLICY_MAX_EGRESS_RULES || h.parent == 0 || h.parent > INT32_MAX ||
	    h.v6_enabled > 1 || h.task.family != AF_INET)
		return -EBADMSG;
	if (addr_from_wire(&h.task, &cfg->task) < 0 ||
	    addr_from_wire(&h.upstream, &cfg->upstream) < 0)
		return -EBADMSG;
	n.egress = calloc(MAX(h.n_rules, 1U), sizeof(*n.egress));
	if (!n.egress)
		return -ENOMEM;
	for (; r >= 0 && n.n_egress < h.n_rules; n.n_egress++)
		r = rule_parse(buf, len, &o, &n.egress[n.n_egress]);
	if (r >= 0 && o != len)
		r = -EBADMSG;
	if (r < 0) {
		dns_proxy_config_net_done(&n);
		return r;
	}
	*net = n;
	cfg->net = net;
	cfg->v6_enabled = h.v6_enabled;
	*ret_parent = (pid_t)h.parent;
	return 0;
}
