// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Holding a run's task still for job control (^Z): the cgroup freezer where the run has one
 * (v2 cgroup.freeze, v1 freezer.state), else SIGSTOP/SIGCONT to every member. Non-logging.
 */
#include <assert.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-internal.h"
#include "cleanup.h"
#include "macro.h"

/* How long a freeze may take before we stop waiting for it (it still completes later). */
#define FREEZE_WAIT_USEC (1000 * 1000)

/* The directory whose freezer holds the whole run, or -1: v2's one cgroup, v1's freezer. */
static int freezer_fd(const struct cgroup_run *c)
{
	if (c->n_dirs == 0)
		return -1;
	if (c->v2)
		return c->dirs[0].fd;
	return c->by_ctrl[CGROUP_FREEZER] >= 0 ? c->dirs[c->by_ctrl[CGROUP_FREEZER]].fd : -1;
}

static int is_frozen(const struct cgroup_run *c, int fd)
{
	_cleanup_free_ char *state = NULL;
	uint64_t frozen;
	int r;

	if (c->v2) {
		r = cgroup_read_keyed_at(fd, "cgroup.events", "frozen", &frozen);
		return r < 0 ? r : frozen > 0;
	}
	r = cgroup_read_at(fd, "freezer.state", &state);
	return r < 0 ? r : strneq(state, "FROZEN", 6);
}

bool cgroup_run_has_freezer(const struct cgroup_run *c)
{
	return c && freezer_fd(c) >= 0;
}

int cgroup_run_freeze(struct cgroup_run *c, bool freeze)
{
	int fd, r;

	assert(c);

	fd = freezer_fd(c);
	if (fd < 0)
		return -EOPNOTSUPP;
	if (c->v2)
		r = cgroup_write_at(fd, "cgroup.freeze", freeze ? "1" : "0");
	else
		r = cgroup_write_at(fd, "freezer.state", freeze ? "FROZEN" : "THAWED");
	if (r < 0 || !freeze)
		return r;
	for (unsigned w = 0; w < FREEZE_WAIT_USEC; w += CGROUP_WAIT_STEP_USEC) {
		r = is_frozen(c, fd);
		if (r != 0)
			return MIN(r, 0);
		cgroup_wait_step();
	}
	return -ETIMEDOUT;
}

int cgroup_run_signal(struct cgroup_run *c, int sig, pid_t except)
{
	assert(c);

	if (c->n_dirs == 0)
		return -EOPNOTSUPP;
	/* Every hierarchy of a v1 run holds the same processes: they were born in all. */
	return cgroup_signal_members(c->dirs[0].fd, sig, except);
}
