/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure: the per-run flow limits, rules shared by the task's ruleset (its output chain) and
 * the host table (each slot's chain "flows-al<n>"), so that one run's flows, and with them
 * its conntrack entries, stay bounded in both namespaces.
 *
 * The count alone would not bound the entries: conntrack stops counting a TCP connection
 * once it is closed (TIME_WAIT, CLOSE) but keeps its entry for up to two minutes, so a task
 * that opens and closes connections quickly would pile them up. The rate bounds those, and
 * it comes first so that a flood is refused before the count adds each of its packets to
 * its list.
 */
#include <errno.h>
#include <stdio.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include "egress-internal.h"

static void limit_over(struct egress_rule *c, uint32_t rate)
{
	struct nftnl_expr *e = egress_expr_new(c, "limit");

	if (e) {
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1); /* per second */
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, rate * EGRESS_FLOWS_BURST_S);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	}
	egress_expr_add(c, e);
}

static void ct_count_over(struct egress_rule *c, uint32_t max)
{
	struct nftnl_expr *e = egress_expr_new(c, "connlimit");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CONNLIMIT_COUNT, max);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CONNLIMIT_FLAGS, NFT_CONNLIMIT_F_INV);
	}
	egress_expr_add(c, e);
}

/* "ct state new <limit> counter [log] reject with icmpx admin-prohibited" */
static int flow_rule(struct egress_batch *b, const char *table, const char *chain, bool count,
		     uint32_t value, int group)
{
	struct egress_rule c;
	int r;

	r = egress_rule_begin(&c, table, chain);
	if (r < 0)
		return r;
	egress_expr_ct_state(&c, NF_CT_STATE_BIT(IP_CT_NEW));
	if (count)
		ct_count_over(&c, value);
	else
		limit_over(&c, value);
	egress_expr_counter(&c);
	if (group >= 0)
		egress_expr_log(&c, (uint16_t)group, EGRESS_LOG_PREFIX_FLOWS);
	egress_expr_reject(&c, false);
	return egress_rule_commit(b, &c);
}

int egress_build_flow_limit(struct egress_batch *b, const char *table, const char *chain,
			    const struct egress_flow_limit *f, int group)
{
	uint32_t rate = f->rate ? f->rate : EGRESS_FLOWS_RATE_DEFAULT;
	uint32_t max = f->max ? f->max : EGRESS_FLOWS_MAX_DEFAULT;
	int r;

	r = flow_rule(b, table, chain, false, rate, group);
	return r < 0 ? r : flow_rule(b, table, chain, true, max, group);
}
