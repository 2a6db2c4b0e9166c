// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cgroup v2 backend: one cgroup per run below airlock's parent, limits written
 * before the task is cloned into it with CLONE_INTO_CGROUP, cgroup.kill at the end.
 * Non-logging.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "policy.h"

#define V2_LIMIT_MASK                                                                      \
	(CGROUP_MASK(CGROUP_MEMORY) | CGROUP_MASK(CGROUP_PIDS) | CGROUP_MASK(CGROUP_CPU) | \
	 CGROUP_MASK(CGROUP_IO))
#define V2_FREEZE_WAIT_USEC (1000 * 1000)

static const struct {
	unsigned flag;
	enum cgroup_controller ctrl;
} v2_need[] = {
	{ POLICY_LIMIT_MEMORY, CGROUP_MEMORY },
	{ POLICY_LIMIT_PIDS, CGROUP_PIDS },
	{ POLICY_LIMIT_CPU, CGROUP_CPU },
	{ POLICY_LIMIT_IO_WEIGHT, CGROUP_IO },
};

/* The first controller lim needs that avail lacks, or NULL. */
static const char *v2_missing(unsigned avail, const struct policy_limits *lim)
{
	for (size_t i = 0; i < ELEMENTSOF(v2_need); i++)
		if ((lim->set & v2_need[i].flag) && !(avail & CGROUP_MASK(v2_need[i].ctrl)))
			return cgroup_controller_to_string(v2_need[i].ctrl);
	return NULL;
}

/* Whether some block device of this host uses the BFQ scheduler (the only one with weights). */
static bool v2_any_device_bfq(void)
{
	_cleanup_(closedirp) DIR *d = opendir("/sys/block");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		_cleanup_free_ char *sched = NULL;
		char path[300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/queue/scheduler", de->d_name);
		if (read_file_at(AT_FDCWD, path, 256, &sched, NULL) >= 0 && strstr(sched, "[bfq]"))
			return true;
	}
	return false;
}

/*
 * io.weight exists in every v2 cgroup with the io controller, but only io.cost acts on
 * it, and io.cost is off until enabled per device (io.cost.qos "enable=1"); BFQ reads its
 * own io.bfq.weight. Anything else would accept a weight and ignore it.
 */
const char *cgroup_v2_io_knob(const struct cgroup_layout *l)
{
	_cleanup_free_ char *qos = NULL;
	char path[CGROUP_PATH_MAX + 16];

	if (!(l->unified_controllers & CGROUP_MASK(CGROUP_IO)))
		return NULL;
	snprintf(path, sizeof(path), "%s/io.cost.qos", l->unified.mount);
	if (read_file_at(AT_FDCWD, path, 65536, &qos, NULL) >= 0 && strstr(qos, "enable=1"))
		return "io.weight";
	return v2_any_device_bfq() ? "io.bfq.weight" : NULL;
}

int cgroup_v2_can_enforce(const struct cgroup_layout *l, const struct policy_limits *lim,
			  const char **reterr_controller)
{
	const char *m = v2_missing(l->unified_controllers, lim);

	if (!m && (lim->set & POLICY_LIMIT_IO_WEIGHT) && !cgroup_v2_io_knob(l))
		m = "io";
	if (!m && (lim->set & POLICY_LIMIT_MEMORY) && !l->v2_swap && l->swap_active)
		m = "memory.swap";
	if (!m)
		return 0;
	*reterr_controller = m;
	return -EOPNOTSUPP;
}

int cgroup_v2_enable_controllers(int dir_fd, unsigned mask)
{
	_cleanup_free_ char *avail = NULL, *enabled = NULL;
	unsigned want;
	int r;

	r = cgroup_read_at(dir_fd, "cgroup.controllers", &avail);
	if (r < 0)
		return r;
	r = cgroup_read_at(dir_fd, "cgroup.subtree_control", &enabled);
	if (r < 0)
		return r;
	want = mask & V2_LIMIT_MASK & cgroup_parse_controller_list(avail) &
	       ~cgroup_parse_controller_list(enabled);

	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
		char op[32];

		if (!(want & CGROUP_MASK(c)))
			continue;
		snprintf(op, sizeof(op), "+%s", cgroup_controller_to_string(c));
		r = cgroup_write_at(dir_fd, "cgroup.subtree_control", op);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Creates the parent if needed and lets its children use the limit controllers. */
static int v2_prepare_parent(const char *base, unsigned mask)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	r = mkdir_p(base, 0755);
	if (r < 0)
		return r;
	fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	return cgroup_v2_enable_controllers(fd, mask);
}

static int v2_set_memory(int fd, const struct cgroup_layout *l, const struct policy_limits *lim)
{
	uint64_t swap = (lim->set & POLICY_LIMIT_SWAP) ? lim->swap : 0;
	int r;

	r = cgroup_write_u64_at(fd, "memory.max", lim->memory);
	if (r < 0)
		return r;
	r = cgroup_write_u64_at(fd, "memory.swap.max", swap);
	if (r == -ENOENT && !l->swap_active)
		r = 0; /* no swap accounting, but no swap either */
	if (r < 0)
		return r;
	/* An OOM kill takes the whole task down rather than leaving it half-dead. */
	return cgroup_write_at(fd, "memory.oom.group", "1");
}

static int v2_set_limits(int fd, const struct cgroup_layout *l, const struct policy_limits *lim,
			 const char **reterr_controller)
{
	char buf[64];
	const char *what = NULL;
	int r = 0;

	if (lim->set & POLICY_LIMIT_MEMORY) {
		what = "memory";
		r = v2_set_memory(fd, l, lim);
	}
	if (r >= 0 && (lim->set & POLICY_LIMIT_PIDS)) {
		what = "pids";
		r = cgroup_write_u64_at(fd, "pids.max", lim->pids);
	}
	if (r >= 0 && (lim->set & POLICY_LIMIT_CPU)) {
		what = "cpu";
		r = cgroup_format_cpu_max(lim->cpu_milli, buf, sizeof(buf));
		if (r >= 0)
			r = cgroup_write_at(fd, "cpu.max", buf);
	}
	if (r >= 0 && (lim->set & POLICY_LIMIT_IO_WEIGHT)) {
		const char *knob = cgroup_v2_io_knob(l);

		what = "io";
		/* BFQ's weights end at 1000 where io.cost's go to 10000. */
		snprintf(buf, sizeof(buf), "default %u",
			 knob && streq(knob, "io.bfq.weight") ? MIN(lim->io_weight, 1000u)
							      : lim->io_weight);
		r = knob ? cgroup_write_at(fd, knob, buf) : -ENOENT;
	}
	if (r == -ENOENT || r == -EACCES || r == -EPERM || r == -EROFS) {
		*reterr_controller = what;
		return -EOPNOTSUPP;
	}
	return r;
}

int cgroup_v2_run_create(const struct cgroup_layout *l, const char *parent,
			 const struct policy_limits *lim, bool open_existing, struct cgroup_run *c,
			 const char **reterr_controller)
{
	struct cgroup_dir *d = &c->dirs[0];
	_cleanup_free_ char *ctl = NULL;
	char base[CGROUP_PATH_MAX];
	const char *m;
	int r, n;

	n = snprintf(base, sizeof(base), "%s%s%s", l->unified.mount, parent[0] ? "/" : "", parent);
	if (n < 0 || (size_t)n >= sizeof(base))
		return -ENAMETOOLONG;
	if (!open_existing) {
		r = v2_prepare_parent(base, l->unified_controllers);
		if (r < 0 && v2_missing(0, lim)) {
			*reterr_controller = v2_missing(0, lim);
			return r == -EACCES || r == -EPERM || r == -EROFS ? -EOPNOTSUPP : r;
		}
	}

	*d = CGROUP_DIR_INIT;
	r = cgroup_dir_open(base, c->id, open_existing, NULL, d);
	if (r < 0)
		return r;
	c->n_dirs = 1;
	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
		c->by_ctrl[i] = 0;
	c->v2_kill = faccessat(d->fd, "cgroup.kill", F_OK, 0) >= 0;
	if (open_existing)
		return 0;

	/* Fail closed: every controller a limit needs must have reached our cgroup. */
	r = cgroup_read_at(d->fd, "cgroup.controllers", &ctl);
	if (r < 0)
		return r;
	d->controllers = cgroup_parse_controller_list(ctl);
	m = v2_missing(d->controllers, lim);
	if (m) {
		*reterr_controller = m;
		return -EOPNOTSUPP;
	}
	return v2_set_limits(d->fd, l, lim, reterr_controller);
}

static int v2_wait_frozen(int fd)
{
	uint64_t frozen;
	int r;

	for (unsigned w = 0; w < V2_FREEZE_WAIT_USEC; w += CGROUP_WAIT_STEP_USEC) {
		r = cgroup_read_keyed_at(fd, "cgroup.events", "frozen", &frozen);
		if (r < 0)
			return r;
		if (frozen)
			return 0;
		cgroup_wait_step();
	}
	return -ETIMEDOUT;
}

/* Before 5.14 there is no cgroup.kill: freeze, kill each member, thaw. */
static int v2_kill_frozen(int fd)
{
	int r;

	r = cgroup_write_at(fd, "cgroup.freeze", "1");
	if (r < 0)
		return r;
	r = v2_wait_frozen(fd);
	if (r >= 0 || r == -ETIMEDOUT)
		r = cgroup_kill_members(fd);
	(void)cgroup_write_at(fd, "cgroup.freeze", "0");
	return r;
}

int cgroup_v2_run_kill(struct cgroup_run *c)
{
	int fd = c->dirs[0].fd, r;
	uint64_t populated;

	r = c->v2_kill ? cgroup_write_at(fd, "cgroup.kill", "1") : v2_kill_frozen(fd);
	if (r < 0)
		return r;
	for (unsigned w = 0; w < CGROUP_WAIT_MAX_USEC; w += CGROUP_WAIT_STEP_USEC) {
		r = cgroup_read_keyed_at(fd, "cgroup.events", "populated", &populated);
		if (r < 0)
			return r;
		if (!populated)
			return 0;
		if (!c->v2_kill)
			(void)cgroup_kill_members(fd);
		cgroup_wait_step();
	}
	return -EBUSY;
}

int cgroup_v2_run_stats(struct cgroup_run *c, struct cgroup_stats *s)
{
	int fd = c->dirs[0].fd;

	const struct cgroup_key memory_events[] = { { "oom_kill", &s->oom_kills },
						    { "max", &s->memory_max_events } };
	const struct cgroup_key pids_events[] = { { "max", &s->pids_max_events } };
	const struct cgroup_key cpu_stat[] = { { "usage_usec", &s->cpu_usage_usec },
					       { "user_usec", &s->cpu_user_usec },
					       { "system_usec", &s->cpu_system_usec },
					       { "nr_periods", &s->cpu_nr_periods },
					       { "nr_throttled", &s->cpu_nr_throttled },
					       { "throttled_usec", &s->cpu_throttled_usec } };

	cgroup_get_keys_at(fd, "memory.events", memory_events, ELEMENTSOF(memory_events));
	cgroup_get_u64_at(fd, "memory.peak", &s->memory_peak);
	cgroup_get_keys_at(fd, "pids.events", pids_events, ELEMENTSOF(pids_events));
	cgroup_get_u64_at(fd, "pids.peak", &s->pids_peak);
	cgroup_get_keys_at(fd, "cpu.stat", cpu_stat, ELEMENTSOF(cpu_stat));
	return 0;
}
