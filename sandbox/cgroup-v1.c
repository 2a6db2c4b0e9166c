// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cgroup v1 backend: one run directory per mounted hierarchy (memory, pids, cpu,
 * cpuacct, freezer, cpuset; blkio when an io weight is asked for), limits written before the
 * task exists, the supervisor's thread joining them for the clone (cgroup_run_enter()),
 * and the freezer for a race-free kill. Non-logging.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cleanup.h"
#include "log.h"
#include "macro.h"
#include "policy.h"

/*
 * The hierarchies a run uses, in creation order: memory first, as it bounds the rest;
 * cpuset last, as it is optional and removed again when it cannot be made usable.
 */
static const enum cgroup_controller v1_used[] = {
	CGROUP_MEMORY,	CGROUP_PIDS, CGROUP_CPU,    CGROUP_CPUACCT,
	CGROUP_FREEZER, CGROUP_IO,   CGROUP_CPUSET,
};

/* What a v1 cpuset cgroup needs before a task can join it (else ENOSPC). */
static const char *const v1_cpuset_knobs[] = { "cpuset.cpus", "cpuset.mems" };

static bool v1_required(enum cgroup_controller c, const struct policy_limits *lim)
{
	switch (c) {
	case CGROUP_MEMORY:
		return lim->set & POLICY_LIMIT_MEMORY;
	case CGROUP_PIDS:
		return lim->set & POLICY_LIMIT_PIDS;
	case CGROUP_CPU:
		return lim->set & POLICY_LIMIT_CPU;
	case CGROUP_IO:
		return lim->set & POLICY_LIMIT_IO_WEIGHT;
	case CGROUP_CPUACCT:
	case CGROUP_FREEZER:
	case CGROUP_CPUSET:
	case _CGROUP_CONTROLLER_MAX:
	case _CGROUP_CONTROLLER_INVALID:
		break;
	}
	return false;
}

const char *cgroup_v1_io_knob(int dir_fd)
{
	if (faccessat(dir_fd, "blkio.weight", W_OK, 0) >= 0)
		return "blkio.weight";
	if (faccessat(dir_fd, "blkio.bfq.weight", W_OK, 0) >= 0)
		return "blkio.bfq.weight";
	return NULL;
}

int cgroup_v1_can_enforce(const struct cgroup_layout *l, const struct policy_limits *lim,
			  const char **reterr_controller)
{
	for (size_t i = 0; i < ELEMENTSOF(v1_used); i++) {
		enum cgroup_controller c = v1_used[i];

		if (v1_required(c, lim) && !(l->v1_controllers & CGROUP_MASK(c))) {
			*reterr_controller = cgroup_controller_to_string(c);
			return -EOPNOTSUPP;
		}
	}
	/* Without memsw, swap use cannot be bounded: only fine when the host has none. */
	if ((lim->set & POLICY_LIMIT_MEMORY) && !l->memsw && l->swap_active) {
		*reterr_controller = "memory.swap";
		return -EOPNOTSUPP;
	}
	if ((lim->set & POLICY_LIMIT_IO_WEIGHT) && !cgroup_io_weight_knob(l)) {
		*reterr_controller = "io";
		return -EOPNOTSUPP;
	}
	return 0;
}

static bool is_denied(int r)
{
	return r == -EACCES || r == -EPERM || r == -EROFS;
}

/*
 * The tasks file of our own cgroup in h, for cgroup_run_leave(). Best effort: when our
 * cgroup is not visible (outside the mounted subtree), leaving falls back to the run's
 * parent, airlock's own subtree.
 */
static void v1_open_home(const struct cgroup_hierarchy *h, struct cgroup_dir *d)
{
	char own[CGROUP_PATH_MAX + sizeof("/tasks")];

	if (cgroup_hierarchy_own_path(h, own, CGROUP_PATH_MAX) < 0)
		return;
	strcat(own, "/tasks");
	d->home_fd = open(own, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
}

/* Creates or opens the run's directory in controller c's hierarchy. */
static int v1_add_dir(const struct cgroup_layout *l, const char *parent, enum cgroup_controller c,
		      const struct policy_limits *lim, bool open_existing, struct cgroup_run *run,
		      const char **reterr_controller)
{
	struct cgroup_dir *d = &run->dirs[run->n_dirs];
	char base[CGROUP_PATH_MAX];
	int r, n;

	/* Co-mounted with a controller we already have ("cpu,cpuacct")? Share the directory. */
	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
		if (run->by_ctrl[i] >= 0 && streq(l->v1[i].mount, l->v1[c].mount)) {
			run->by_ctrl[c] = run->by_ctrl[i];
			run->dirs[run->by_ctrl[i]].controllers |= CGROUP_MASK(c);
			return 0;
		}

	n = snprintf(base, sizeof(base), "%s/%s", l->v1[c].mount, parent);
	if (n < 0 || (size_t)n >= sizeof(base))
		return -ENAMETOOLONG;
	*d = CGROUP_DIR_INIT;
	r = cgroup_dir_open(base, run->id, open_existing, open_existing ? NULL : "tasks", d);
	if (r == -ENOENT && open_existing)
		return 0;
	if (is_denied(r) && !v1_required(c, lim))
		return 0; /* optional hierarchy we may not use: go without it */
	if (is_denied(r)) {
		*reterr_controller = cgroup_controller_to_string(c);
		return -EOPNOTSUPP;
	}
	if (r < 0)
		return r;
	d->controllers = CGROUP_MASK(c);
	/* An oddly named mount point only keeps this directory out of the task's view. */
	if (cgroup_view_name(l->v1[c].mount, d->view_name, sizeof(d->view_name)) < 0)
		d->view_name[0] = '\0';
	run->by_ctrl[c] = (int)run->n_dirs++;
	if (!open_existing)
		v1_open_home(&l->v1[c], d);
	return 0;
}

static bool is_blank(const char *s)
{
	return s[strspn(s, " \t\n")] == '\0';
}

/*
 * Gives the cpuset cgroup fd the cpus and mems of its parent where it has none: a new v1
 * cpuset cgroup is born empty unless its parent has cgroup.clone_children, and no task
 * can join it then. Returns 0, -ENOSPC when the parent has none either, or -errno.
 */
static int v1_cpuset_inherit(int parent_fd, int fd)
{
	for (size_t i = 0; i < ELEMENTSOF(v1_cpuset_knobs); i++) {
		_cleanup_free_ char *have = NULL, *from = NULL;
		int r;

		r = cgroup_read_at(fd, v1_cpuset_knobs[i], &have);
		if (r < 0)
			return r;
		if (!is_blank(have))
			continue;
		r = cgroup_read_at(parent_fd, v1_cpuset_knobs[i], &from);
		if (r < 0)
			return r;
		if (is_blank(from))
			return -ENOSPC;
		r = cgroup_write_at(fd, v1_cpuset_knobs[i], from);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Fills airlock's parent directories below the cpuset hierarchy's mount, top down, from
 * the directory above each, and sets cgroup.clone_children on the last so that each run's
 * directory is born with its cpus and mems. Only the first run after the parent was
 * created comes here; the hierarchy's own root is never written.
 */
static int v1_cpuset_prepare_parent(const char *mount, const char *parent)
{
	_cleanup_close_ int fd = -EBADF;
	char rel[CGROUP_PATH_MAX], *save = NULL;
	int r;

	if (parent[0] == '\0')
		return -ENOSPC; /* the runs' parent is the root, and it has no cpus */
	if (snprintf(rel, sizeof(rel), "%s", parent) >= (int)sizeof(rel))
		return -ENAMETOOLONG;
	fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	for (char *p = strtok_r(rel, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		_cleanup_close_ int child = -EBADF;

		child = openat(fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (child < 0)
			return -errno;
		r = v1_cpuset_inherit(fd, child);
		if (r < 0)
			return r;
		safe_close(fd);
		fd = TAKE_FD(child);
	}
	return cgroup_write_at(fd, "cgroup.clone_children", "1");
}

/* Makes the run's cpuset directory d joinable: usually it was born so (clone_children). */
static int v1_cpuset_fill(const struct cgroup_layout *l, const char *parent, struct cgroup_dir *d)
{
	int r;

	r = v1_cpuset_inherit(d->parent_fd, d->fd);
	if (r != -ENOSPC)
		return r;
	r = v1_cpuset_prepare_parent(l->v1[CGROUP_CPUSET].mount, parent);
	if (r < 0)
		return r;
	return v1_cpuset_inherit(d->parent_fd, d->fd);
}

/*
 * The run's cpuset directory. It holds no limit; it is there for the task's view, since
 * runtimes such as the JDK refuse a v1 layout without cpuset (they read cpuset.cpus).
 * Optional: when it cannot be created or made joinable the run goes without it, unless
 * it is a co-mounted directory that another controller needs.
 */
static int v1_add_cpuset(const struct cgroup_layout *l, const char *parent,
			 const struct policy_limits *lim, struct cgroup_run *c)
{
	const char *unused = NULL;
	size_t n = c->n_dirs;
	struct cgroup_dir *d;
	int r;

	r = v1_add_dir(l, parent, CGROUP_CPUSET, lim, false, c, &unused);
	if (r < 0)
		log_debug_errno(r, "Failed to create the cpuset cgroup of run '%s', ignoring: %m",
				c->id);
	if (r < 0 || c->by_ctrl[CGROUP_CPUSET] < 0)
		return 0;

	d = &c->dirs[c->by_ctrl[CGROUP_CPUSET]];
	r = v1_cpuset_fill(l, parent, d);
	if (r >= 0 || c->n_dirs == n)
		return r; /* a shared directory without cpus could not take the task either */
	log_debug_errno(r, "Failed to give cpus and mems to cgroup '%s', ignoring: %m", d->path);
	(void)cgroup_dir_remove(d, c->id);
	c->by_ctrl[CGROUP_CPUSET] = -1;
	c->n_dirs--;
	return 0;
}

/*
 * The memory limit is kept for cgroup_run_seal(): while the supervisor's thread is in the
 * run's cgroups for the clone, the clone's own kernel memory (page tables, the copy of
 * the mount namespace) is charged there, and a small limit could OOM-kill the supervisor.
 */
static int v1_keep_memory(struct cgroup_run *c, const struct cgroup_layout *l,
			  const struct policy_limits *lim)
{
	uint64_t swap = (lim->set & POLICY_LIMIT_SWAP) ? lim->swap : 0;

	c->v1_memory = lim->memory;
	c->v1_memsw = UINT64_MAX;
	if (l->memsw && __builtin_add_overflow(lim->memory, swap, &c->v1_memsw))
		return -ERANGE;
	c->v1_memory_pending = true;
	return 0;
}

static int v1_set_cpu(int fd, const struct policy_limits *lim)
{
	uint64_t quota;
	int r;

	r = cgroup_cpu_quota(lim->cpu_milli, &quota);
	if (r < 0)
		return r;
	r = cgroup_write_u64_at(fd, "cpu.cfs_period_us", CGROUP_CPU_PERIOD_USEC);
	if (r < 0)
		return r;
	return cgroup_write_u64_at(fd, "cpu.cfs_quota_us", quota);
}

static int v1_set_io(int fd, const struct policy_limits *lim)
{
	const char *knob = cgroup_v1_io_knob(fd);
	uint64_t w = (uint64_t)lim->io_weight * 5; /* v2 default 100 -> v1 default 500 */

	if (!knob)
		return -EOPNOTSUPP;
	return cgroup_write_u64_at(fd, knob, MIN(MAX(w, 10), 1000));
}

static int v1_dir_fd(const struct cgroup_run *c, enum cgroup_controller ctrl)
{
	return c->by_ctrl[ctrl] >= 0 ? c->dirs[c->by_ctrl[ctrl]].fd : -EBADF;
}

int cgroup_v1_run_seal(struct cgroup_run *c, const char **reterr_controller)
{
	int fd = v1_dir_fd(c, CGROUP_MEMORY), r;

	if (!c->v1_memory_pending)
		return 0;
	/* memory.limit first: memsw may never be below it. */
	r = cgroup_write_u64_at(fd, "memory.limit_in_bytes", c->v1_memory);
	if (r >= 0 && c->v1_memsw != UINT64_MAX)
		r = cgroup_write_u64_at(fd, "memory.memsw.limit_in_bytes", c->v1_memsw);
	if (r < 0 && (is_denied(r) || r == -ENOENT)) {
		if (reterr_controller)
			*reterr_controller = "memory";
		return -EOPNOTSUPP;
	}
	if (r >= 0)
		c->v1_memory_pending = false;
	return r;
}

/* Writes each limit lim sets; on failure names the controller. */
static int v1_set_limits(const struct cgroup_layout *l, const struct policy_limits *lim,
			 struct cgroup_run *c, const char **reterr_controller)
{
	const char *what = NULL;
	int r = 0;

	if (lim->set & POLICY_LIMIT_MEMORY) {
		what = "memory";
		r = v1_keep_memory(c, l, lim);
	}
	if (r >= 0 && (lim->set & POLICY_LIMIT_PIDS)) {
		what = "pids";
		r = cgroup_write_u64_at(v1_dir_fd(c, CGROUP_PIDS), "pids.max", lim->pids);
	}
	if (r >= 0 && (lim->set & POLICY_LIMIT_CPU)) {
		what = "cpu";
		r = v1_set_cpu(v1_dir_fd(c, CGROUP_CPU), lim);
	}
	if (r >= 0 && (lim->set & POLICY_LIMIT_IO_WEIGHT)) {
		what = "io";
		r = v1_set_io(v1_dir_fd(c, CGROUP_IO), lim);
	}
	if (r < 0 && (is_denied(r) || r == -EOPNOTSUPP || r == -ENOENT)) {
		*reterr_controller = what;
		return -EOPNOTSUPP;
	}
	return r;
}

int cgroup_v1_run_create(const struct cgroup_layout *l, const char *parent,
			 const struct policy_limits *lim, bool open_existing, struct cgroup_run *c,
			 const char **reterr_controller)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(v1_used); i++) {
		enum cgroup_controller ctrl = v1_used[i];

		if (!(l->v1_controllers & CGROUP_MASK(ctrl)))
			continue;
		if (ctrl == CGROUP_IO && !(lim->set & POLICY_LIMIT_IO_WEIGHT))
			continue;
		if (ctrl == CGROUP_CPUSET && !open_existing)
			r = v1_add_cpuset(l, parent, lim, c);
		else
			r = v1_add_dir(l, parent, ctrl, lim, open_existing, c, reterr_controller);
		if (r < 0)
			return r;
	}
	if (open_existing)
		return 0;
	return v1_set_limits(l, lim, c, reterr_controller);
}

/* Freezes the run and waits until the kernel reports FROZEN (bounded). */
static int v1_kill_all(struct cgroup_run *c)
{
	int r, n = 0;

	for (size_t i = 0; i < c->n_dirs; i++) {
		r = cgroup_kill_members(c->dirs[i].fd);
		if (r < 0 && r != -ENOENT)
			return r;
		n += MAX(r, 0);
	}
	return n;
}

int cgroup_v1_run_kill(struct cgroup_run *c)
{
	int r;

	/*
	 * Frozen, nobody can fork while we read and kill the member list; the SIGKILLs
	 * take effect at the thaw. Without a freezer we repeat until the cgroup is empty
	 * (pids.max still bounds a fork race).
	 */
	if (cgroup_run_has_freezer(c)) {
		r = cgroup_run_freeze(c, true);
		if (r >= 0)
			r = v1_kill_all(c);
		(void)cgroup_run_freeze(c, false);
		if (r < 0 && r != -ETIMEDOUT)
			return r;
	}
	for (unsigned w = 0; w < CGROUP_WAIT_MAX_USEC; w += CGROUP_WAIT_STEP_USEC) {
		r = v1_kill_all(c);
		if (r < 0)
			return r;
		if (r == 0)
			return 0;
		cgroup_wait_step();
	}
	return -EBUSY;
}

static uint64_t ns_to_usec(uint64_t ns)
{
	return ns == UINT64_MAX ? ns : ns / 1000;
}

int cgroup_v1_run_stats(struct cgroup_run *c, struct cgroup_stats *s)
{
	int mem = v1_dir_fd(c, CGROUP_MEMORY), pids = v1_dir_fd(c, CGROUP_PIDS);
	int cpu = v1_dir_fd(c, CGROUP_CPU), acct = v1_dir_fd(c, CGROUP_CPUACCT);

	const struct cgroup_key oom[] = { { "oom_kill", &s->oom_kills } };
	const struct cgroup_key pids_events[] = { { "max", &s->pids_max_events } };
	const struct cgroup_key cpu_stat[] = { { "nr_periods", &s->cpu_nr_periods },
					       { "nr_throttled", &s->cpu_nr_throttled },
					       { "throttled_time", &s->cpu_throttled_usec } };

	cgroup_get_keys_at(mem, "memory.oom_control", oom, ELEMENTSOF(oom));
	cgroup_get_u64_at(mem, "memory.failcnt", &s->memory_max_events);
	cgroup_get_u64_at(mem, "memory.max_usage_in_bytes", &s->memory_peak);
	cgroup_get_keys_at(pids, "pids.events", pids_events, ELEMENTSOF(pids_events));
	cgroup_get_u64_at(pids, "pids.peak", &s->pids_peak);
	cgroup_get_u64_at(acct, "cpuacct.usage_user", &s->cpu_user_usec);
	cgroup_get_u64_at(acct, "cpuacct.usage_sys", &s->cpu_system_usec);
	cgroup_get_u64_at(acct, "cpuacct.usage", &s->cpu_usage_usec);
	cgroup_get_keys_at(cpu, "cpu.stat", cpu_stat, ELEMENTSOF(cpu_stat));
	/* v1 accounts in nanoseconds. */
	s->cpu_user_usec = ns_to_usec(s->cpu_user_usec);
	s->cpu_system_usec = ns_to_usec(s->cpu_system_usec);
	s->cpu_usage_usec = ns_to_usec(s->cpu_usage_usec);
	s->cpu_throttled_usec = ns_to_usec(s->cpu_throttled_usec);
	return 0;
}
