/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS proxy's wildcard budgets: each wildcard rule lets at most its "names" distinct
 * names upstream (kept as keyed hashes), each with at most "match_length" characters in
 * place of the "*".
 */
#include <stdlib.h>
#include <string.h>

#include "dns-proxy-internal.h"
#include "egress.h"

static uint64_t name_hash(const struct proxy *p, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ p->hash_key; /* FNV-1a, keyed */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ULL;
	return h;
}

int proxy_wildcard_check(struct proxy *p, const char *name, int32_t *ret_rule)
{
	const struct policy_network *net = p->cfg->net;
	const struct policy_egress_rule *r = NULL;
	size_t nl = strlen(name), match;
	struct wild *w;
	uint64_t h;
	int32_t best = -1;

	for (size_t i = 0; i < net->n_egress; i++) {
		const struct policy_egress_rule *x = &net->egress[i];

		if (x->is_cidr || !egress_name_matches(x->host, name))
			continue;
		if (!x->wildcard)
			return 0; /* exact names are not budgeted */
		if (!r || strlen(x->host) > strlen(r->host)) { /* the most specific suffix */
			r = x;
			best = (int32_t)i;
		}
	}
	if (!r || !p->wild)
		return 0;
	*ret_rule = best;
	match = nl - (strlen(r->host) - 1); /* "*.a.test": the suffix is ".a.test" */
	if (match > r->match_length)
		return DNS_VERDICT_WILDCARD_LENGTH;
	w = &p->wild[best];
	h = name_hash(p, name);
	for (uint32_t i = 0; i < w->n; i++)
		if (w->seen[i] == h)
			return 0;
	if (!w->seen || w->n >= r->names)
		return DNS_VERDICT_WILDCARD_BUDGET;
	w->seen[w->n++] = h;
	return 0;
}

static struct wild *wild_free(struct wild *w, const struct policy_network *net)
{
	for (size_t i = 0; w && i < net->n_egress; i++)
		free(w[i].seen);
	free(w);
	return NULL;
}

struct wild *proxy_wild_new(const struct policy_network *net)
{
	struct wild *w = calloc(net->n_egress ? net->n_egress : 1, sizeof(*w));

	for (size_t i = 0; w && i < net->n_egress; i++) {
		if (!net->egress[i].wildcard || !net->egress[i].names)
			continue;
		w[i].seen = calloc(net->egress[i].names, sizeof(uint64_t));
		if (!w[i].seen)
			return wild_free(w, net);
	}
	return w;
}
