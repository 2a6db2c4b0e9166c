/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Resource limits through cgroups: cgroup v2 first, v1 as a fallback.
 *
 * The supervisor detects the host's layout once (cgroup_layout_detect()), reaps what
 * dead runs left (cgroup_reap_stale()), and per run creates one cgroup with the
 * policy's limits (cgroup_run_new()). On v2 the task is cloned straight into it
 * (cgroup_run_clone_fd() for CLONE_INTO_CGROUP); on v1 the supervisor's thread joins the
 * run's cgroups just for the clone (cgroup_run_enter(), cgroup_run_leave()), so the task
 * is born inside them there too and nothing is migrated by pid.
 * At the end it kills what is left (cgroup_run_kill()), collects the kernel's own
 * accounting (cgroup_run_stats()) and removes every directory (cgroup_run_free()).
 *
 * Nothing here logs above debug; every function returns 0 (or a count, or an fd) on
 * success and a negative errno on failure.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct policy_limits;

#define CGROUP_PATH_MAX 512
#define CGROUP_RUN_ID_MAX 64
#define CGROUP_CPU_PERIOD_USEC 100000ULL
#define CGROUP_CPU_MIN_QUOTA_USEC 1000ULL
/* The leaf a delegated v2 supervisor moves itself into; runs are its siblings. */
#define CGROUP_SUPERVISOR_LEAF "supervisor"
/* Default parent on v1 and on a non-delegated v2 host. */
#define CGROUP_V1_DEFAULT_PARENT "airlock"
#define CGROUP_V2_DEFAULT_PARENT "airlock.slice"

enum cgroup_mode {
	CGROUP_MODE_NONE, /* no usable cgroup hierarchy */
	CGROUP_MODE_V1, /* v1 controllers only */
	CGROUP_MODE_HYBRID, /* v1 controllers plus a cgroup2 mount (systemd "hybrid") */
	CGROUP_MODE_V2, /* pure cgroup v2 */
	_CGROUP_MODE_MAX,
	_CGROUP_MODE_INVALID = -EINVAL,
};

/* The controllers airlock uses. On v2, cpuacct and freezer are core features. */
enum cgroup_controller {
	CGROUP_MEMORY,
	CGROUP_PIDS,
	CGROUP_CPU,
	CGROUP_CPUACCT,
	CGROUP_FREEZER,
	CGROUP_IO, /* v2 "io", v1 "blkio" */
	CGROUP_CPUSET, /* v1 only, no limit: for the view (the JDK needs cpuset.cpus there) */
	_CGROUP_CONTROLLER_MAX,
	_CGROUP_CONTROLLER_INVALID = -EINVAL,
};

#define CGROUP_MASK(c) (1u << (c))

enum cgroup_delegation {
	CGROUP_DELEGATION_NONE, /* airlock manages its own subtree below the root */
	CGROUP_DELEGATION_SYSTEMD, /* a unit with Delegate=yes (trusted.delegate xattr) */
	CGROUP_DELEGATION_CONTAINER, /* the cgroup namespace root of a container */
	_CGROUP_DELEGATION_MAX,
	_CGROUP_DELEGATION_INVALID = -EINVAL,
};

/* One mounted hierarchy and airlock's own place in it. */
struct cgroup_hierarchy {
	char mount[CGROUP_PATH_MAX]; /* mount point; "" when absent */
	char root[CGROUP_PATH_MAX]; /* the hierarchy path mounted there (mountinfo field 4) */
	char self[CGROUP_PATH_MAX]; /* our cgroup (from /proc/self/cgroup) */
};

struct cgroup_layout {
	enum cgroup_mode mode;
	struct cgroup_hierarchy unified; /* the cgroup2 mount, if any */
	unsigned unified_controllers; /* cgroup.controllers of our v2 cgroup */
	struct cgroup_hierarchy v1[_CGROUP_CONTROLLER_MAX]; /* per controller; co-mounts repeat */
	unsigned v1_controllers; /* mask of mounted v1 controllers */
	enum cgroup_delegation delegation; /* v2 only */
	bool memsw; /* v1 memory.memsw.* (swap accounting) present */
	bool v2_swap; /* v2 memory.swap.max can be set */
	bool v2_kill; /* v2 cgroup.kill (5.14+) */
	bool swap_active; /* the host has swap enabled (/proc/swaps) */
	char default_parent[CGROUP_PATH_MAX]; /* relative to each hierarchy's mount */
};

/* Usage and limit events of one run, from the kernel's own accounting. */
struct cgroup_stats {
	uint64_t oom_kills; /* v2 memory.events oom_kill, v1 memory.oom_control */
	uint64_t memory_max_events; /* times the memory limit was hit (v2 max, v1 failcnt) */
	uint64_t pids_max_events; /* fork() refused by pids.max (pids.events max) */
	uint64_t memory_peak; /* bytes; UINT64_MAX when unknown */
	uint64_t pids_peak; /* UINT64_MAX when unknown (pids.peak needs 6.13+) */
	uint64_t cpu_user_usec; /* UINT64_MAX when unknown */
	uint64_t cpu_system_usec;
	uint64_t cpu_usage_usec;
	uint64_t cpu_nr_periods;
	uint64_t cpu_nr_throttled;
	uint64_t cpu_throttled_usec;
};

/* Which limit ended or hindered a task (first match wins, in this order). */
enum cgroup_limit_hit {
	CGROUP_LIMIT_NONE,
	CGROUP_LIMIT_MEMORY, /* OOM-killed by the run's memory limit */
	CGROUP_LIMIT_PIDS, /* fork() failed at pids.max */
	CGROUP_LIMIT_CPU, /* throttled by the cpu quota */
	_CGROUP_LIMIT_MAX,
};

struct cgroup_run;

/*
 * Detects the host's cgroup layout from /proc/self/mountinfo, /proc/self/cgroup and the
 * cgroup files of airlock's own cgroup, including whether airlock runs in a delegated v2
 * subtree, and chooses the default parent. Fills *ret. Returns 0 or -errno (only when
 * /proc cannot be read; a host without cgroups gives CGROUP_MODE_NONE). Does not log.
 */
int cgroup_layout_detect(struct cgroup_layout *ret);

/*
 * Delegated v2 only (a Delegate=yes unit or a container): moves the calling process into
 * the CGROUP_SUPERVISOR_LEAF child of its own cgroup so that runs can be created as
 * siblings (no internal processes), and enables the controllers for them. Call once at
 * start-up before cgroup_run_new(). A no-op (0) on v1 and non-delegated v2.
 * Returns 0 or -errno.
 */
int cgroup_enter_supervisor_leaf(struct cgroup_layout *l);

/*
 * Creates the run's cgroup(s) "<parent>/<run_id>" (parent relative to each hierarchy's
 * mount; NULL = l->default_parent, created if missing) and writes the limits lim sets:
 * memory (+ no swap unless the policy allows it, memory.oom.group on v2), pids, cpu
 * quota from cpu_milli, io weight. On v1 one directory per hierarchy used (memory,
 * pids, cpu, cpuacct, freezer, and cpuset where it can be made usable: it holds no
 * limit, its cpus and mems are the parent's). *ret is owned by the caller
 * (cgroup_run_free()).
 * Returns 0, -EINVAL (bad run id), -EEXIST (run id in use), -EOPNOTSUPP with
 * *reterr_controller naming the controller ("memory", "memory.swap", "pids", "cpu",
 * "io") when a requested limit cannot be enforced here (controller missing or not
 * delegated), or another -errno. Nothing is left behind on failure. Does not log.
 */
int cgroup_run_new(const struct cgroup_layout *l, const char *parent, const char *run_id,
		   const struct policy_limits *lim, struct cgroup_run **ret,
		   const char **reterr_controller);

/*
 * The v2 run cgroup's directory fd for clone3(CLONE_INTO_CGROUP), still owned by c;
 * -EBADF on v1 or without cgroups (the caller then uses cgroup_run_enter()).
 */
int cgroup_run_clone_fd(const struct cgroup_run *c);

/*
 * v1: moves the calling thread, and only it, into the run's cgroup in every hierarchy,
 * so that a process it creates next is born inside them. The kernel migrates a thread
 * that moves itself without its global threadgroup lock, so this does not wait for the
 * RCU grace period that attaching another process by pid waits for (7-16 ms on an idle
 * host). Call cgroup_run_leave() right after the clone: until then the thread counts
 * toward the run's pids and is charged its memory and CPU. A no-op on v2 and without
 * cgroups. Returns 0, -ENOTRECOVERABLE if it failed half-way and the thread could not
 * get out again, or another -errno (the thread is back where it was).
 */
int cgroup_run_enter(struct cgroup_run *c);

/*
 * Moves the calling thread back to the cgroups it was in before cgroup_run_enter() (to
 * the run's parent, airlock's own subtree, where those are gone). Returns 0 or -errno:
 * then the thread is still inside, and must not go on running there.
 */
int cgroup_run_leave(struct cgroup_run *c);

/*
 * Writes the limits that wait for the clone: on v1 the memory limit (and memsw), so that
 * the clone's own kernel memory, charged to the run while the supervisor's thread is
 * inside, can never make the OOM killer pick the supervisor. Call after
 * cgroup_run_leave() and before the sandbox starts anything. A no-op on v2 (the limits
 * are written at creation; CLONE_INTO_CGROUP charges the child only). Returns 0,
 * -EOPNOTSUPP with *reterr_controller "memory" when the write is refused, -EBUSY when the
 * run's usage is already above the limit, or another -errno.
 */
int cgroup_run_seal(struct cgroup_run *c, const char **reterr_controller);

/*
 * Kills every process in the run's cgroup and waits (at most about 5 s) until it is
 * empty: v2 cgroup.kill (else freeze, kill, thaw); v1 freezer FROZEN, SIGKILL each
 * member, THAWED (without a freezer: kill until empty). Returns 0, -EBUSY if processes
 * remain after the wait, or -errno.
 */
int cgroup_run_kill(struct cgroup_run *c);

/* Whether any process is left in the run's cgroup. Returns 1, 0 or -errno. */
int cgroup_run_is_populated(struct cgroup_run *c);

/*
 * Job control (cgroup-freeze.c). Whether the run has a freezer that holds all of it: v2,
 * or a v1 run with a directory in the freezer hierarchy. False for NULL.
 */
bool cgroup_run_has_freezer(const struct cgroup_run *c);

/*
 * Freezes (freeze true) or thaws every process of the run: v2 cgroup.freeze, v1
 * freezer.state. A freeze waits (at most about 1 s) until the kernel reports the whole
 * cgroup frozen. Returns 0, -EOPNOTSUPP (no freezer: cgroup_run_has_freezer()),
 * -ETIMEDOUT (the freeze was asked for and is still under way: a thaw undoes it) or
 * another -errno.
 */
int cgroup_run_freeze(struct cgroup_run *c, bool freeze);

/*
 * Sends sig to every process listed in the run's cgroup.procs once, but except (a pid in
 * airlock's namespace; 0: none). A process forked meanwhile is missed, and a pid reaped
 * and reused meanwhile is signalled; neither can happen while the freezer reports the
 * cgroup frozen (cgroup_run_freeze() returned 0). Not so for a freeze still under way
 * (-ETIMEDOUT), nor for SIGSTOP sent one by one: a process forked before its own SIGSTOP
 * came is missed, and a dead one can still be reaped.
 * Returns how many, -EOPNOTSUPP for a run without cgroups, or -errno.
 */
int cgroup_run_signal(struct cgroup_run *c, int sig, pid_t except);

/*
 * Reads the run's usage and limit events into *ret (unknown values are UINT64_MAX,
 * counters 0). Returns 0 or -errno. Call before cgroup_run_free().
 */
int cgroup_run_stats(struct cgroup_run *c, struct cgroup_stats *ret);

/* The run's directory in hierarchy ctrl (v1) or the v2 directory (any ctrl). */
const char *cgroup_run_path(const struct cgroup_run *c, enum cgroup_controller ctrl);

/*
 * The task's view of its own cgroup: where each of the run's directories appears below
 * CGROUP_VIEW_ROOT inside the sandbox. On v2 the one run cgroup is the view's root
 * (name ""); on v1 each hierarchy's run directory appears under the name the host
 * mounts that hierarchy as ("memory", "pids", "cpu,cpuacct", "freezer", "cpuset").
 */
#define CGROUP_VIEW_ROOT "/sys/fs/cgroup"
#define CGROUP_VIEW_NAME_MAX 64
#define CGROUP_VIEW_LINKS_MAX 16

struct cgroup_view_dir {
	int fd; /* the run's directory (O_DIRECTORY), still owned by the run */
	const char *name; /* "" (v2) or the hierarchy's name; points into the run */
};

/* An alias of a co-mounted v1 hierarchy: "cpu" -> "cpu,cpuacct", as a v1 host has. */
struct cgroup_view_link {
	char name[CGROUP_VIEW_NAME_MAX];
	const char *target; /* one of the names passed to cgroup_view_links() */
};

/*
 * Lists the run's directories for the task's view into ret (at most n): the v2 cgroup,
 * or one entry per v1 hierarchy directory (co-mounted controllers share one). Returns
 * the count, 0 for a run without cgroups. Does no I/O.
 */
size_t cgroup_run_view(const struct cgroup_run *c, struct cgroup_view_dir *ret, size_t n);

/*
 * Kills what remains and removes every directory of the run. Accepts and returns NULL.
 * Failures are ignored (a later cgroup_reap_stale() retries).
 */
struct cgroup_run *cgroup_run_free(struct cgroup_run *c);

/*
 * Removes the run cgroups below parent (NULL = default) whose run is dead: every child
 * directory except CGROUP_SUPERVISOR_LEAF for which run_alive(name, ud) returns false
 * and whose directories no open cgroup_run holds (cgroup_run_new()'s flock: a live run
 * whose run lock is in a runtime directory run_alive does not see) is killed and
 * removed. run_alive NULL means every such run is dead. Returns the number of runs
 * removed or -errno (the first failure; the others are still attempted).
 */
int cgroup_reap_stale(const struct cgroup_layout *l, const char *parent,
		      bool (*run_alive)(const char *run_id, void *ud), void *ud);

/* Removes the (empty) parent directories created by cgroup_run_new(). 0 or -errno. */
int cgroup_parent_remove(const struct cgroup_layout *l, const char *parent);

/*
 * The cgroup file through which an io weight takes effect on this host, or NULL when none
 * does: v1 blkio.weight (CFQ) or blkio.bfq.weight (BFQ); v2 io.weight when io.cost is
 * enabled on a device, io.bfq.weight when a device uses BFQ. Reads files on each call
 * (only runs that ask for an io weight, and `airlock probe`, need it).
 */
const char *cgroup_io_weight_knob(const struct cgroup_layout *l);

/* Whether the host can enforce lim. 0, or -EOPNOTSUPP with *reterr_controller set. */
int cgroup_layout_can_enforce(const struct cgroup_layout *l, const struct policy_limits *lim,
			      const char **reterr_controller);

const char *cgroup_mode_to_string(enum cgroup_mode m);
const char *cgroup_controller_to_string(enum cgroup_controller c);
/* Accepts v1 and v2 names ("blkio" and "io" give CGROUP_IO). */
enum cgroup_controller cgroup_controller_from_string(const char *s);
const char *cgroup_delegation_to_string(enum cgroup_delegation d);

static inline void cgroup_run_freep(struct cgroup_run **c)
{
	cgroup_run_free(*c);
}
#define _cleanup_cgroup_run_free_ __attribute__((cleanup(cgroup_run_freep)))

/* ---- Pure helpers (no I/O; unit tested and fuzzable) ---- */

/*
 * Parses /proc/self/mountinfo text: fills l->unified and l->v1[] mount points and roots
 * (octal escapes decoded), l->v1_controllers. Does not touch the other fields.
 * Returns 0, -EINVAL on a malformed cgroup line, -ENAMETOOLONG.
 */
int cgroup_parse_mountinfo(const char *text, struct cgroup_layout *l);

/*
 * Parses /proc/self/cgroup text ("id:controllers:path" lines) into l->unified.self and
 * l->v1[].self. Returns 0, -EINVAL or -ENAMETOOLONG.
 */
int cgroup_parse_proc_self(const char *text, struct cgroup_layout *l);

/*
 * Parses a controller list ("cpu memory pids", v2 cgroup.controllers) into a mask of
 * known controllers. Unknown names are ignored.
 */
unsigned cgroup_parse_controller_list(const char *text);

/*
 * Finds "key value" in a flat-keyed cgroup file (memory.events, pids.events, cpu.stat,
 * memory.oom_control, cgroup.events). "max" as value gives UINT64_MAX.
 * Returns 0, -ENOENT (no such key) or -EINVAL (bad number).
 */
int cgroup_parse_keyed(const char *text, const char *key, uint64_t *ret);

/* Parses a single-value file ("12345\n" or "max\n" = UINT64_MAX). 0 or -EINVAL. */
int cgroup_parse_u64(const char *text, uint64_t *ret);

/*
 * CPU quota for cpu_milli thousandths of a core over CGROUP_CPU_PERIOD_USEC:
 * at least CGROUP_CPU_MIN_QUOTA_USEC. Returns 0 or -ERANGE (cpu_milli 0).
 */
int cgroup_cpu_quota(uint32_t cpu_milli, uint64_t *ret_quota_usec);

/* Formats the v2 cpu.max value ("150000 100000") into buf. Returns 0, -ERANGE. */
int cgroup_format_cpu_max(uint32_t cpu_milli, char *buf, size_t len);

/*
 * The name a v1 hierarchy mounted at mount has in the view: the mount point's last
 * component ("/sys/fs/cgroup/cpu,cpuacct" gives "cpu,cpuacct"), which must be 1..63 of
 * [A-Za-z0-9_,.=-], not starting with '.'. Returns 0, -EINVAL or -ENAMETOOLONG.
 */
int cgroup_view_name(const char *mount, char *buf, size_t len);

/*
 * The alias links a v1 host shows for co-mounted hierarchies: each comma-separated part
 * of a name ("cpu" and "cpuacct" of "cpu,cpuacct") that is a valid name, is not itself
 * one of names and is not listed yet, links to that name. Fills ret (at most max) and
 * returns the count, or -E2BIG.
 */
int cgroup_view_links(const char *const *names, size_t n, struct cgroup_view_link *ret, size_t max);

/* Whether name is a valid run id: 1..64 of [A-Za-z0-9._-], not starting with '.'. */
bool cgroup_run_id_is_valid(const char *name);

/*
 * Decides which limit ended or hindered the task from its stats and the policy limits,
 * and formats the reason for the supervisor's stderr line, e.g. "memory limit 256M
 * reached", "pids limit 64 reached", "cpu limit 0.5 cores throttled 1.2s" into buf.
 * task_signaled: the task died of SIGKILL (an OOM kill only counts then).
 * Returns the enum (CGROUP_LIMIT_NONE leaves buf "").
 */
enum cgroup_limit_hit cgroup_limit_hit_describe(const struct cgroup_stats *s,
						const struct policy_limits *lim, bool task_killed,
						char *buf, size_t len);
