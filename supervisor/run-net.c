/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>

#include "log.h"
#include "policy.h"
#include "run-net.h"

/*
 * Until egress filtering lands, a policy that asks for network access is refused: the
 * boundary fails closed rather than running with a network the policy did not describe.
 */
int run_net_new(const struct policy *p, const char *run_id, struct loop *loop,
		struct run_net **ret)
{
	*ret = NULL;
	if (!p->network.enabled)
		return 0;
	return log_error_errno(-EOPNOTSUPP,
			       "refusing run: policy asks for network egress, which this build "
			       "cannot enforce yet (/network)");
}

int run_net_netns_fd(const struct run_net *n)
{
	return -EBADF;
}

json_t *run_net_to_json(const struct run_net *n)
{
	return NULL;
}

struct run_net *run_net_free(struct run_net *n)
{
	return NULL;
}
