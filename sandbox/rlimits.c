/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The task's resource limits: every one of them is set from this table, none is inherited
 * from whoever started airlock (a caller's RLIMIT_RTPRIO would let the task run SCHED_FIFO
 * threads, which cpu.max does not throttle on a host without RT group scheduling).
 * docs/policy.md lists the table; keep both in step.
 */
#include <errno.h>
#include <sys/resource.h>

#include "macro.h"
#include "policy.h"
#include "rlimits.h"

#define MIB (1024 * 1024)

struct rlimit_pin {
	rlim_t cur, max;
};

/* clang-format off */
static const struct rlimit_pin rlimit_table[RLIM_NLIMITS] = {
	/* bounded by the wall-clock deadline and cpu.max */
	[RLIMIT_CPU] = { RLIM_INFINITY, RLIM_INFINITY },
	/* files: bounded by the tmpfs sizes and the workspace's file system */
	[RLIMIT_FSIZE] = { RLIM_INFINITY, RLIM_INFINITY },
	/* memory: bounded by the memory cgroup */
	[RLIMIT_DATA] = { RLIM_INFINITY, RLIM_INFINITY },
	[RLIMIT_AS] = { RLIM_INFINITY, RLIM_INFINITY },
	[RLIMIT_RSS] = { RLIM_INFINITY, RLIM_INFINITY }, /* ignored by Linux */
	[RLIMIT_STACK] = { 8 * MIB, RLIM_INFINITY }, /* the usual default */
	/*
	 * 1, not 0: the kernel ignores RLIMIT_CORE for a core_pattern pipe helper (apport,
	 * systemd-coredump) except for the value 1, at which it starts no helper; 1 byte is
	 * also less than any core file. The seccomp filter keeps the task from changing it.
	 */
	[RLIMIT_CORE] = { 1, 1 },
	/* processes: counted by the pids cgroup, which the run reports on */
	[RLIMIT_NPROC] = { RLIM_INFINITY, RLIM_INFINITY },
	[RLIMIT_NOFILE] = { 0, 0 }, /* the policy's open_files */
	[RLIMIT_MEMLOCK] = { 8 * MIB, 8 * MIB }, /* the kernel's default since 5.16 */
	[RLIMIT_LOCKS] = { RLIM_INFINITY, RLIM_INFINITY }, /* unused by Linux */
	[RLIMIT_SIGPENDING] = { 8192, 8192 },
	[RLIMIT_MSGQUEUE] = { 819200, 819200 }, /* the kernel's default */
	/* no raised priority, no real-time scheduling; an RT thread would be killed at once */
	[RLIMIT_NICE] = { 0, 0 },
	[RLIMIT_RTPRIO] = { 0, 0 },
	[RLIMIT_RTTIME] = { 0, 0 },
};
/* clang-format on */

int sandbox_rlimit_for(const struct policy *p, int resource, struct rlimit *ret)
{
	if (resource < 0 || resource >= RLIM_NLIMITS)
		return -EINVAL;
	if (resource == RLIMIT_NOFILE) {
		rlim_t n = (p->limits.set & POLICY_LIMIT_OPEN_FILES) ? p->limits.open_files
								     : POLICY_DEFAULT_OPEN_FILES;

		*ret = (struct rlimit){ n, n };
		return 0;
	}
	*ret = (struct rlimit){ rlimit_table[resource].cur, rlimit_table[resource].max };
	return 0;
}

/* Sets one limit of pid; without the privilege to raise a hard limit, keeps the lower one. */
static int pin_one(pid_t pid, int resource, struct rlimit want)
{
	struct rlimit old;

	if (prlimit(pid, resource, NULL, &old) < 0)
		return -errno;
	if (resource == RLIMIT_NOFILE) {
		/* init lowers it itself, once it no longer opens anything (sandbox_child_main) */
		want.rlim_cur = MAX(want.rlim_cur, old.rlim_cur);
		want.rlim_max = MAX(want.rlim_max, old.rlim_max);
	}
	if (prlimit(pid, resource, &want, NULL) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;
	want.rlim_max = MIN(want.rlim_max, old.rlim_max);
	want.rlim_cur = MIN(want.rlim_cur, want.rlim_max);
	if (prlimit(pid, resource, &want, NULL) < 0)
		return -errno;
	return 0;
}

int sandbox_rlimits_pin(pid_t pid, const struct policy *p)
{
	for (int resource = 0; resource < RLIM_NLIMITS; resource++) {
		struct rlimit want;
		int r;

		r = sandbox_rlimit_for(p, resource, &want);
		if (r >= 0)
			r = pin_one(pid, resource, want);
		if (r < 0)
			return r;
	}
	return 0;
}
