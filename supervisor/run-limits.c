/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "config.h"
#include "log.h"
#include "policy.h"
#include "run-limits.h"
#include "run-lock.h"
#include "run-net.h"

struct run_limits {
	const struct policy *policy;
	const char *cgroup_parent; /* NULL: the detected default */
	struct cgroup_layout layout;
	struct cgroup_run *cg;
	struct cgroup_stats stats;
	bool have_stats;
	enum cgroup_limit_hit hit;
};

struct reap_ctx {
	const char *runtime_dir;
	const struct node_config *cfg;
};

static bool run_alive(const char *run_id, void *userdata)
{
	const struct reap_ctx *ctx = userdata;

	return run_lock_is_alive(ctx->runtime_dir, ctx->cfg, run_id);
}

void run_limits_reap_stale(struct run_limits *l, const char *runtime_dir,
			   const struct node_config *cfg)
{
	struct reap_ctx ctx = { runtime_dir, cfg };
	int r;

	if (!l)
		return;
	r = cgroup_reap_stale(&l->layout, l->cgroup_parent, run_alive, &ctx);
	if (r > 0)
		log_notice("removed the cgroups of %d run(s) that ended without cleaning up", r);
	else if (r < 0 && r != -ENOENT)
		log_warning_errno(r, "Failed to reap cgroups of dead runs, ignoring: %m");
	run_lock_sweep(runtime_dir, cfg);
	run_net_reap_stale();
}

static const char *limit_key(const char *controller)
{
	if (strcmp(controller, "memory.swap") == 0)
		return "swap";
	if (strcmp(controller, "io") == 0)
		return "io_weight";
	return controller;
}

int run_limits_refusal(const char *controller, char *buf, size_t size)
{
	if (strcmp(controller, "io") == 0)
		return snprintf(buf, size,
				"/limits/io_weight needs io weights, which no block device "
				"scheduler on this host acts on (BFQ, or io.cost on cgroup v2; "
				"`airlock probe` shows io-weight)");
	return snprintf(buf, size,
			"/limits/%s needs the '%s' cgroup controller, which this host does "
			"not provide to airlock",
			limit_key(controller), controller);
}

static int log_refusal(int r, const char *controller)
{
	char why[256];

	run_limits_refusal(controller, why, sizeof(why));
	return log_error_errno(r, "refusing run: %s", why);
}

int run_limits_new(const struct policy *p, const char *cgroup_parent, const char *run_id,
		   const char *runtime_dir, struct run_limits **ret)
{
	_cleanup_free_ struct run_limits *l = calloc(1, sizeof(*l));
	const char *ctrl = NULL;
	int r;

	if (!l)
		return log_oom();
	l->policy = p;
	l->cgroup_parent = cgroup_parent && cgroup_parent[0] ? cgroup_parent : NULL;
	r = cgroup_layout_detect(&l->layout);
	if (r < 0)
		return log_error_errno(r, "Failed to detect the cgroup layout: %m");
	r = cgroup_enter_supervisor_leaf(&l->layout);
	if (r < 0)
		return log_error_errno(r,
				       "Failed to move airlock into its delegated leaf cgroup: %m");

	r = cgroup_run_new(&l->layout, l->cgroup_parent, run_id, &p->limits, &l->cg, &ctrl);
	if (r == -EOPNOTSUPP)
		return log_refusal(r, ctrl);
	if (r < 0)
		return log_error_errno(r, "Failed to create the run's cgroup: %m");
	*ret = TAKE_PTR(l);
	return 0;
}

int run_limits_seal(struct run_limits *l)
{
	const char *ctrl = NULL;
	int r;

	if (!l || !l->cg)
		return 0;
	r = cgroup_run_seal(l->cg, &ctrl);
	if (r == -EOPNOTSUPP)
		return log_refusal(r, ctrl);
	if (r == -EBUSY)
		return log_error_errno(r, "refusing run: /limits/memory is below what the sandbox "
					  "needed to start");
	if (r < 0)
		return log_error_errno(r, "Failed to set the run's memory limit: %m");
	return 0;
}

struct cgroup_run *run_limits_cgroup(const struct run_limits *l)
{
	return l ? l->cg : NULL;
}

int run_limits_kill(struct run_limits *l)
{
	int r;

	if (!l || !l->cg)
		return 0;
	r = cgroup_run_kill(l->cg);
	if (r < 0)
		return log_error_errno(r, "Failed to kill what is left of the task: %m");
	return 0;
}

const char *run_limits_conclude(struct run_limits *l, bool task_killed)
{
	char why[160] = "";

	if (!l || !l->cg)
		return NULL;
	if (cgroup_run_stats(l->cg, &l->stats) < 0)
		return NULL;
	l->have_stats = true;
	l->hit = cgroup_limit_hit_describe(&l->stats, &l->policy->limits, task_killed, why,
					   sizeof(why));
	switch (l->hit) {
	case CGROUP_LIMIT_MEMORY:
		log_error("task killed: %s", why);
		return "oom_killed";
	case CGROUP_LIMIT_PIDS:
		log_error("task hindered: %s", why);
		return "pids_limit_hit";
	case CGROUP_LIMIT_CPU:
		/* Throttling is the limit working, not something the caller must act on. */
		log_info("task hindered: %s", why);
		return NULL;
	case CGROUP_LIMIT_NONE:
	case _CGROUP_LIMIT_MAX:
		break;
	}
	return NULL;
}

static void set_u64(json_t *o, const char *key, uint64_t v)
{
	if (v != UINT64_MAX)
		json_object_set_new(o, key, json_integer((json_int_t)v));
}

json_t *run_limits_to_json(const struct run_limits *l)
{
	const struct cgroup_stats *s;
	json_t *o;

	if (!l || !l->have_stats)
		return NULL;
	s = &l->stats;
	o = json_pack("{s:s, s:I, s:I, s:I}", "cgroup", cgroup_mode_to_string(l->layout.mode),
		      "oom_kills", (json_int_t)s->oom_kills, "pids_limit_hits",
		      (json_int_t)s->pids_max_events, "memory_limit_hits",
		      (json_int_t)s->memory_max_events);
	if (!o)
		return NULL;
	set_u64(o, "memory_peak_bytes", s->memory_peak);
	set_u64(o, "pids_peak", s->pids_peak);
	set_u64(o, "cpu_user_usec", s->cpu_user_usec);
	set_u64(o, "cpu_system_usec", s->cpu_system_usec);
	set_u64(o, "cpu_usage_usec", s->cpu_usage_usec);
	set_u64(o, "cpu_throttled_usec", s->cpu_throttled_usec);
	set_u64(o, "cpu_nr_throttled", s->cpu_nr_throttled);
	return o;
}

const char *run_limits_feature(const struct run_limits *l)
{
	if (!l || !l->cg)
		return NULL;
	switch (l->layout.mode) {
	case CGROUP_MODE_V2:
		return "cgroup-v2";
	case CGROUP_MODE_V1:
	case CGROUP_MODE_HYBRID: /* the limits live in the v1 controllers */
		return "cgroup-v1";
	case CGROUP_MODE_NONE:
	case _CGROUP_MODE_MAX:
	case _CGROUP_MODE_INVALID:
		break;
	}
	return NULL;
}

struct run_limits *run_limits_free(struct run_limits *l)
{
	if (!l)
		return NULL;
	cgroup_run_free(l->cg);
	free(l);
	return NULL;
}
