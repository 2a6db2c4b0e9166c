// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Exercises the cgroup module for real, as root, on whatever layout the host has (v1 or
 * hybrid here, pure v2 in the vm stage). One case per invocation:
 *
 *   cgroup-check layout
 *   cgroup-check CASE PARENT      CASE: memory pids cpu concurrent refuse stale latency
 *                                       placement cpuset freeze
 *
 * PARENT is the test's own parent cgroup (relative to each hierarchy's mount), created
 * by the module and removed by the calling script. Exit 0 pass, 1 fail, 77 skip;
 * diagnostics go to stdout as TAP comments. Each case asserts the kernel's own
 * accounting and that its run directories are gone afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "policy.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			return 1;                                                         \
		}                                                                         \
	} while (0)
#define CHECK_OK(expr)                                                                         \
	do {                                                                                   \
		int r_ = (expr);                                                               \
		if (r_ < 0) {                                                                  \
			printf("# %s:%d: %s: %s\n", __FILE__, __LINE__, #expr, strerror(-r_)); \
			return 1;                                                              \
		}                                                                              \
	} while (0)

static struct cgroup_layout layout;
static const char *parent;
/* Runs a case created and has not freed yet: main() frees them if the case fails early. */
static struct cgroup_run *open_runs[8];

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- children ---- */

static _noreturn_ void child_memory_hog(int out_fd)
{
	/* Touch 1 GiB, 1 MiB at a time: the 64M limit OOM-kills us long before. */
	for (int i = 0; i < 1024; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		memset(p, 0x5a, 1 << 20);
	}
	_exit(0);
}

static _noreturn_ void child_fork_bomb(int out_fd)
{
	int forked = 0;

	for (int i = 0; i < 10000; i++) {
		pid_t p = fork();

		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0)
			break;
		forked++;
	}
	(void)write_all(out_fd, &forked, sizeof(forked));
	pause();
	_exit(0);
}

static _noreturn_ void child_spin(int out_fd)
{
	volatile uint64_t x = 0;

	/* Two busy processes: the quota holds across cores. */
	(void)fork();
	for (;;)
		x++;
}

/* Shared with the children of case_freeze(): what they count (MAP_SHARED). */
static uint64_t *shared_counter;

static _noreturn_ void child_count(int out_fd)
{
	/* Two counting processes: the hold must take every process of the run. */
	(void)fork();
	for (;;)
		__atomic_add_fetch(shared_counter, 1, __ATOMIC_RELAXED);
}

static _noreturn_ void child_sleep(int out_fd)
{
	for (;;)
		pause();
}

/*
 * Starts fn in a child inside the run's cgroup, the way the supervisor does: cloned into
 * it on v2; on v1 the calling thread joins the run's cgroups for the fork, leaves right
 * after, and writes the limits that wait for the clone (cgroup_run_seal()). *ret_out_fd
 * reads what the child writes; *ret_attach_usec is the time the placement took (clone on
 * v2; enter, fork, leave and seal on v1). Returns the pid or -errno.
 */
static pid_t spawn_in(struct cgroup_run *c, void (*fn)(int), int *ret_out_fd,
		      uint64_t *ret_attach_usec)
{
	int gate[2], out[2];
	uint64_t t0;
	pid_t pid;
	char b = 0;

	if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	t0 = now_usec();
	if (cgroup_run_clone_fd(c) >= 0) {
		struct clone_args a = { .flags = CLONE_INTO_CGROUP,
					.exit_signal = SIGCHLD,
					.cgroup = (uint64_t)cgroup_run_clone_fd(c) };
		pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	} else {
		int r = cgroup_run_enter(c);

		if (r < 0)
			return r;
		pid = fork();
		if (pid > 0 && cgroup_run_leave(c) < 0) {
			printf("# could not leave the run's cgroup\n");
			abort();
		}
		if (pid > 0 && cgroup_run_seal(c, NULL) < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -EIO;
		}
	}
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (read(gate[0], &b, 1) != 1)
			_exit(3);
		/* As the sandbox's init does, it keeps no fd of ours (the run's cgroup locks). */
		if (dup2(out[1], 3) < 0)
			_exit(3);
		(void)close_range(4, ~0U, 0);
		fn(3);
		_exit(0);
	}
	if (ret_attach_usec)
		*ret_attach_usec = now_usec() - t0;
	(void)write(gate[1], &b, 1);
	close(gate[0]);
	close(gate[1]);
	close(out[1]);
	if (ret_out_fd)
		*ret_out_fd = out[0];
	else
		close(out[0]);
	return pid;
}

/* Frees a run and forgets it. */
static void free_run(struct cgroup_run *c)
{
	for (size_t i = 0; i < ELEMENTSOF(open_runs); i++)
		if (open_runs[i] == c)
			open_runs[i] = NULL;
	cgroup_run_free(c);
}

/* Frees c and checks that every directory it had is gone. */
static int free_and_check_gone(struct cgroup_run *c)
{
	char paths[_CGROUP_CONTROLLER_MAX][CGROUP_PATH_MAX];
	int n = 0;

	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++) {
		const char *p = cgroup_run_path(c, (enum cgroup_controller)i);
		bool seen = false;

		for (int j = 0; p && j < n; j++)
			seen |= streq(paths[j], p);
		if (p && !seen)
			snprintf(paths[n++], sizeof(paths[0]), "%s", p);
	}
	free_run(c);
	for (int i = 0; i < n; i++)
		if (access(paths[i], F_OK) == 0 || errno != ENOENT) {
			printf("# still there: %s\n", paths[i]);
			return 1;
		}
	printf("# %d run directories removed\n", n);
	return 0;
}

static int new_run_in(const struct cgroup_layout *l, const char *id,
		      const struct policy_limits *lim, struct cgroup_run **ret)
{
	const char *ctl = NULL;
	int r = cgroup_run_new(l, parent, id, lim, ret, &ctl);

	if (r == -EOPNOTSUPP)
		printf("# cannot enforce '%s' here\n", ctl ? ctl : "?");
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(open_runs); i++)
		if (!open_runs[i]) {
			open_runs[i] = *ret;
			break;
		}
	return r;
}

static int new_run(const char *id, const struct policy_limits *lim, struct cgroup_run **ret)
{
	return new_run_in(&layout, id, lim, ret);
}

static void print_stats(const struct cgroup_stats *s)
{
	printf("# stats: oom_kills=%" PRIu64 " memory_max_events=%" PRIu64
	       " pids_max_events=%" PRIu64 " memory_peak=%" PRIu64 " pids_peak=%" PRIu64
	       " cpu_usage_usec=%" PRIu64 " user=%" PRIu64 " system=%" PRIu64
	       " nr_throttled=%" PRIu64 " throttled_usec=%" PRIu64 "\n",
	       s->oom_kills, s->memory_max_events, s->pids_max_events, s->memory_peak, s->pids_peak,
	       s->cpu_usage_usec, s->cpu_user_usec, s->cpu_system_usec, s->cpu_nr_throttled,
	       s->cpu_throttled_usec);
}

/* ---- cases ---- */

static int case_layout(void)
{
	printf("mode=%s\n", cgroup_mode_to_string(layout.mode));
	printf("delegation=%s\n", cgroup_delegation_to_string(layout.delegation));
	printf("default_parent=%s\n", layout.default_parent);
	printf("unified=%s\n", layout.unified.mount);
	printf("memsw=%d swap_active=%d v2_swap=%d v2_kill=%d\n", layout.memsw, layout.swap_active,
	       layout.v2_swap, layout.v2_kill);
	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++) {
		enum cgroup_controller c = (enum cgroup_controller)i;
		bool v1 = layout.v1_controllers & CGROUP_MASK(c);
		bool v2 = layout.mode == CGROUP_MODE_V2 &&
			  (layout.unified_controllers & CGROUP_MASK(c));

		printf("controller.%s=%s\n", cgroup_controller_to_string(c),
		       v1   ? layout.v1[c].mount
		       : v2 ? "v2"
			    : "-");
	}
	return 0;
}

static int case_memory(void)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_MEMORY, .memory = 64ULL << 20 };
	struct cgroup_run *c = NULL;
	struct cgroup_stats s;
	char why[128];
	int status;
	pid_t pid;

	CHECK_OK(new_run("memory", &lim, &c));
	pid = spawn_in(c, child_memory_hog, NULL, NULL);
	CHECK_OK(pid);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK_OK(cgroup_run_stats(c, &s));
	print_stats(&s);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(s.oom_kills >= 1);
	CHECK(s.memory_peak != UINT64_MAX && s.memory_peak <= lim.memory);
	CHECK(s.memory_peak >= lim.memory / 2);
	CHECK(cgroup_limit_hit_describe(&s, &lim, true, why, sizeof(why)) == CGROUP_LIMIT_MEMORY);
	printf("# reason: %s\n", why);
	CHECK(streq(why, "memory limit 64M reached"));
	return free_and_check_gone(c);
}

static int case_pids(void)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_PIDS, .pids = 16 };
	struct cgroup_run *c = NULL;
	struct cgroup_stats s;
	int out = -EBADF, forked = -1, status;
	char why[128];
	pid_t pid, other;

	CHECK_OK(new_run("pids", &lim, &c));
	pid = spawn_in(c, child_fork_bomb, &out, NULL);
	CHECK_OK(pid);
	CHECK(read_full(out, &forked, sizeof(forked)) == sizeof(forked));
	close(out);
	printf("# the bomb forked %d times before pids.max stopped it\n", forked);
	/* The bomb itself is one of the 16. */
	CHECK(forked == 15);

	/* The host is unaffected: we can still fork. */
	other = fork();
	if (other == 0)
		_exit(7);
	CHECK(other > 0 && waitpid(other, &status, 0) == other && WEXITSTATUS(status) == 7);

	CHECK_OK(cgroup_run_stats(c, &s));
	print_stats(&s);
	CHECK(s.pids_max_events >= 1);
	CHECK(s.pids_peak == UINT64_MAX || s.pids_peak == 16);
	CHECK(cgroup_limit_hit_describe(&s, &lim, false, why, sizeof(why)) == CGROUP_LIMIT_PIDS);
	printf("# reason: %s\n", why);

	CHECK_OK(cgroup_run_kill(c));
	CHECK(cgroup_run_is_populated(c) == 0);
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
	return free_and_check_gone(c);
}

static int case_cpu(void)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_CPU, .cpu_milli = 200 };
	struct cgroup_run *c = NULL;
	struct cgroup_stats s;
	uint64_t t0, wall;
	double used;
	pid_t pid;

	CHECK_OK(new_run("cpu", &lim, &c));
	t0 = now_usec();
	pid = spawn_in(c, child_spin, NULL, NULL);
	CHECK_OK(pid);
	sleep_ms(1500);
	CHECK_OK(cgroup_run_stats(c, &s));
	wall = now_usec() - t0;
	CHECK_OK(cgroup_run_kill(c));
	waitpid(pid, NULL, 0);
	print_stats(&s);
	CHECK(s.cpu_usage_usec != UINT64_MAX);

	/* Two spinning processes, 0.2 cores allowed: the cgroup's own clock must agree. */
	used = (double)s.cpu_usage_usec / (double)wall;
	printf("# %.3f cores used over %.2fs wall (limit 0.200)\n", used, (double)wall / 1e6);
	CHECK(used <= 0.26);
	CHECK(used >= 0.10);
	CHECK(s.cpu_nr_throttled > 0);
	return free_and_check_gone(c);
}

/* Whether the run's cgroup (first hierarchy) lists exactly pid. */
static bool lists_only(struct cgroup_run *c, pid_t pid)
{
	_cleanup_free_ char *procs = NULL;
	char path[CGROUP_PATH_MAX + 32], want[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup_run_path(c, CGROUP_PIDS));
	if (read_file_at(AT_FDCWD, path, 4096, &procs, NULL) < 0)
		return false;
	snprintf(want, sizeof(want), "%d\n", (int)pid);
	return streq(procs, want);
}

/* Whether the run's directory for ctrl lists exactly pid (true when ctrl is not used). */
static bool ctrl_lists_only(struct cgroup_run *c, enum cgroup_controller ctrl, pid_t pid)
{
	_cleanup_free_ char *procs = NULL;
	char path[CGROUP_PATH_MAX + 32], want[32];

	if (!cgroup_run_path(c, ctrl))
		return true;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup_run_path(c, ctrl));
	if (read_file_at(AT_FDCWD, path, 4096, &procs, NULL) < 0)
		return false;
	snprintf(want, sizeof(want), "%d\n", (int)pid);
	return streq(procs, want);
}

/*
 * The child is born inside the run's cgroup in every hierarchy, and the caller, whose
 * thread joined them for the fork on v1, is back where it was: the run lists only the
 * child, the caller's own cgroups are unchanged, and pids.current counts one process.
 */
static int case_placement(void)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_PIDS | POLICY_LIMIT_MEMORY,
				     .pids = 2,
				     .memory = 64ULL << 20 };
	_cleanup_free_ char *before = NULL, *after = NULL, *child_cg = NULL, *cur = NULL;
	struct cgroup_run *c = NULL;
	char path[CGROUP_PATH_MAX + 32];
	pid_t pid;
	int status;

	CHECK(read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &before, NULL) >= 0);
	CHECK_OK(new_run("placement", &lim, &c));
	pid = spawn_in(c, child_sleep, NULL, NULL);
	CHECK_OK(pid);
	CHECK(read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &after, NULL) >= 0);
	printf("# caller before: %s# caller after: %s", before, after);
	CHECK(streq(before, after));
	CHECK(!strstr(after, "placement"));
	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
		CHECK(ctrl_lists_only(c, (enum cgroup_controller)i, pid));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	CHECK(read_file_at(AT_FDCWD, path, 65536, &child_cg, NULL) >= 0);
	CHECK(strstr(child_cg, "/placement\n"));
	snprintf(path, sizeof(path), "%s/pids.current", cgroup_run_path(c, CGROUP_PIDS));
	CHECK(read_file_at(AT_FDCWD, path, 64, &cur, NULL) >= 0 && streq(cur, "1\n"));
	CHECK(free_and_check_gone(c) == 0);
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
	return 0;
}

static int case_concurrent(void)
{
	struct policy_limits la = { .set = POLICY_LIMIT_PIDS, .pids = 8 };
	struct policy_limits lb = { .set = POLICY_LIMIT_PIDS, .pids = 9 };
	struct cgroup_run *a = NULL, *b = NULL, *dup = NULL;
	pid_t pa, pb;
	int status;

	CHECK_OK(new_run("conc-a", &la, &a));
	CHECK_OK(new_run("conc-b", &lb, &b));
	CHECK(new_run("conc-b", &lb, &dup) == -EEXIST && !dup);
	pa = spawn_in(a, child_sleep, NULL, NULL);
	pb = spawn_in(b, child_sleep, NULL, NULL);
	CHECK(pa > 0 && pb > 0);

	CHECK(lists_only(a, pa));
	CHECK(lists_only(b, pb));
	CHECK_OK(cgroup_run_kill(a));
	CHECK(waitpid(pa, &status, 0) == pa && WIFSIGNALED(status));
	/* Killing A left B alone. */
	CHECK(kill(pb, 0) == 0);
	CHECK(cgroup_run_is_populated(b) == 1);
	CHECK(free_and_check_gone(a) == 0);
	CHECK(lists_only(b, pb));
	CHECK(free_and_check_gone(b) == 0);
	CHECK(waitpid(pb, &status, 0) == pb && WIFSIGNALED(status));
	return 0;
}

static int case_refuse(void)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_MEMORY | POLICY_LIMIT_PIDS,
				     .memory = 64ULL << 20,
				     .pids = 8 };
	struct cgroup_layout l = layout;
	struct cgroup_run *c = NULL;
	const char *ctl = NULL;
	char path[CGROUP_PATH_MAX * 2];

	/* A host without the memory controller must refuse a memory limit, naming it. */
	l.v1_controllers &= ~CGROUP_MASK(CGROUP_MEMORY);
	l.unified_controllers &= ~CGROUP_MASK(CGROUP_MEMORY);
	CHECK(cgroup_run_new(&l, parent, "refused", &lim, &c, &ctl) == -EOPNOTSUPP);
	CHECK(!c && ctl && streq(ctl, "memory"));

	l = layout;
	l.v1_controllers &= ~CGROUP_MASK(CGROUP_PIDS);
	l.unified_controllers &= ~CGROUP_MASK(CGROUP_PIDS);
	CHECK(cgroup_run_new(&l, parent, "refused", &lim, &c, &ctl) == -EOPNOTSUPP);
	CHECK(streq(ctl, "pids"));

	/* A host with swap but without swap accounting cannot bound memory+swap. */
	l = layout;
	l.memsw = l.v2_swap = false;
	l.swap_active = true;
	CHECK(cgroup_run_new(&l, parent, "refused", &lim, &c, &ctl) == -EOPNOTSUPP);
	CHECK(streq(ctl, "memory.swap"));

	l = layout;
	l.mode = CGROUP_MODE_NONE;
	CHECK(cgroup_run_new(&l, parent, "refused", &lim, &c, &ctl) == -EOPNOTSUPP);

	CHECK(cgroup_run_new(&layout, parent, "../escape", &lim, &c, &ctl) == -EINVAL);
	CHECK(cgroup_run_new(&layout, "../x", "ok", &lim, &c, &ctl) == -EINVAL);

	/* Nothing was created for the refused runs. */
	snprintf(path, sizeof(path), "%s",
		 layout.mode == CGROUP_MODE_V2 ? layout.unified.mount
					       : layout.v1[CGROUP_PIDS].mount);
	strncat(path, "/", sizeof(path) - strlen(path) - 1);
	strncat(path, parent, sizeof(path) - strlen(path) - 1);
	strncat(path, "/refused", sizeof(path) - strlen(path) - 1);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	return 0;
}

/* A run of layout l, without limits, that a child joins; whether it has a cpuset directory. */
static int run_with_child(const struct cgroup_layout *l, const char *id, bool want_cpuset)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_PIDS, .pids = 4 };
	struct cgroup_run *c = NULL;
	int status;
	pid_t pid;

	CHECK_OK(new_run_in(l, id, &lim, &c));
	CHECK(!cgroup_run_path(c, CGROUP_CPUSET) == !want_cpuset);
	pid = spawn_in(c, child_sleep, NULL, NULL);
	CHECK_OK(pid);
	CHECK(ctrl_lists_only(c, CGROUP_CPUSET, pid) && ctrl_lists_only(c, CGROUP_PIDS, pid));
	CHECK(free_and_check_gone(c) == 0);
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
	return 0;
}

/* Reads mount/rel/file (rel may be ""). */
static int read_below(const char *mount, const char *rel, const char *file, char **ret)
{
	char path[CGROUP_PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s%s%s/%s", mount, rel[0] ? "/" : "", rel, file);
	return read_file_at(AT_FDCWD, path, 4096, ret, NULL);
}

/*
 * v1: a run gets a cpuset directory for the task's view, with the cpus and mems of the
 * hierarchy's root, which the first run copies into the parent, setting its
 * cgroup.clone_children; a child can join it. Where the directory cannot be created or
 * filled (no such mount; a hierarchy without cpuset) the run goes without it.
 */
static int case_cpuset(void)
{
	_cleanup_free_ char *root_cpus = NULL, *cpus = NULL, *mems = NULL, *clone = NULL;
	const char *mount = layout.v1[CGROUP_CPUSET].mount;
	struct cgroup_layout l = layout;

	if (layout.mode == CGROUP_MODE_V2 ||
	    !(layout.v1_controllers & CGROUP_MASK(CGROUP_CPUSET))) {
		printf("# no v1 cpuset hierarchy on this host\n");
		return 77;
	}
	CHECK_OK(read_below(mount, "", "cpuset.cpus", &root_cpus));
	CHECK(run_with_child(&layout, "cpuset", true) == 0);
	CHECK_OK(read_below(mount, parent, "cpuset.cpus", &cpus));
	CHECK_OK(read_below(mount, parent, "cpuset.mems", &mems));
	CHECK_OK(read_below(mount, parent, "cgroup.clone_children", &clone));
	printf("# root cpus %s# parent cpus %s# parent mems %s", root_cpus, cpus, mems);
	CHECK(streq(cpus, root_cpus) && !streq(mems, "\n") && streq(clone, "1\n"));

	/* The cpuset "mount" is no directory at all: the run goes without. */
	snprintf(l.v1[CGROUP_CPUSET].mount, sizeof(l.v1[0].mount), "/proc/airlock-no-cpuset");
	CHECK(run_with_child(&l, "no-cpuset-mount", false) == 0);
	/* It is a hierarchy without cpuset files (blkio, which no run here uses). */
	if ((layout.v1_controllers & CGROUP_MASK(CGROUP_IO)) &&
	    !streq(layout.v1[CGROUP_IO].mount, mount)) {
		l = layout;
		snprintf(l.v1[CGROUP_CPUSET].mount, sizeof(l.v1[0].mount), "%s",
			 layout.v1[CGROUP_IO].mount);
		CHECK(run_with_child(&l, "no-cpuset-files", false) == 0);
	}
	return 0;
}

static bool alive_if_live(const char *run_id, void *ud)
{
	return strneq(run_id, "live-", 5);
}

/* A supervisor that creates a run with a task in it and is then SIGKILLed mid-run. */
static _noreturn_ void doomed_supervisor(int out_fd)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_PIDS, .pids = 8 };
	struct cgroup_run *c = NULL;
	pid_t task;

	if (new_run("dead-run", &lim, &c) < 0)
		_exit(1);
	task = spawn_in(c, child_sleep, NULL, NULL);
	if (task < 0)
		_exit(1);
	(void)write_all(out_fd, &task, sizeof(task));
	for (;;)
		pause();
}

/* The path a run named name has in controller ctrl's hierarchy (or on v2). */
static void run_dir_path(enum cgroup_controller ctrl, const char *name, char *buf, size_t len)
{
	const char *mount =
		layout.mode == CGROUP_MODE_V2 ? layout.unified.mount : layout.v1[ctrl].mount;

	snprintf(buf, len, "%s/%s/%s", mount, parent, name);
}

/* Whether the run name has a directory in any hierarchy. */
static bool run_dir_exists(const char *name)
{
	char path[CGROUP_PATH_MAX * 2];

	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++) {
		if (layout.mode != CGROUP_MODE_V2 && !(layout.v1_controllers & CGROUP_MASK(i)))
			continue;
		run_dir_path((enum cgroup_controller)i, name, path, sizeof(path));
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

static int case_stale(void)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_PIDS, .pids = 8 };
	struct cgroup_run *live = NULL;
	pid_t sup, task = -1, lt;
	int p[2], status, n;

	/* Orphans of the killed supervisor become our children, so we can reap them. */
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	CHECK_OK(new_run("live-run", &lim, &live));
	lt = spawn_in(live, child_sleep, NULL, NULL);
	CHECK_OK(lt);

	CHECK(pipe2(p, O_CLOEXEC) == 0);
	sup = fork();
	CHECK(sup >= 0);
	if (sup == 0) {
		close(p[0]);
		doomed_supervisor(p[1]);
	}
	close(p[1]);
	CHECK(read_full(p[0], &task, sizeof(task)) == sizeof(task));
	close(p[0]);
	CHECK(kill(sup, SIGKILL) == 0 && waitpid(sup, &status, 0) == sup);

	/* What the dead supervisor left: its run directory and its task. */
	CHECK(run_dir_exists("dead-run"));
	CHECK(kill(task, 0) == 0);

	n = cgroup_reap_stale(&layout, parent, alive_if_live, NULL);
	printf("# reaped %d stale run(s)\n", n);
	CHECK(n == 1);
	CHECK(!run_dir_exists("dead-run"));
	CHECK(waitpid(task, &status, 0) == task && WIFSIGNALED(status) &&
	      WTERMSIG(status) == SIGKILL);

	/* The live run was left alone. */
	CHECK(run_dir_exists("live-run"));
	CHECK(cgroup_run_is_populated(live) == 1 && kill(lt, 0) == 0);
	CHECK(free_and_check_gone(live) == 0);
	CHECK(waitpid(lt, &status, 0) == lt && WIFSIGNALED(status));
	return 0;
}

/* Measures the placement after idle and the back-to-back cost of a whole run cgroup. */
static int case_latency(void)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_MEMORY | POLICY_LIMIT_PIDS |
					    POLICY_LIMIT_CPU,
				     .memory = 64ULL << 20,
				     .pids = 16,
				     .cpu_milli = 500 };
	uint64_t attach_idle = 0, attach, t0, worst = 0, total = 0;
	struct cgroup_run *c = NULL;
	char id[32];
	pid_t pid;

	for (int i = 0; i < 5; i++) {
		sleep_ms(100);
		snprintf(id, sizeof(id), "lat-idle-%d", i);
		CHECK_OK(new_run(id, &lim, &c));
		pid = spawn_in(c, child_sleep, NULL, &attach);
		CHECK_OK(pid);
		attach_idle += attach;
		worst = MAX(worst, attach);
		CHECK(free_and_check_gone(c) == 0);
		waitpid(pid, NULL, 0);
	}
	printf("# placement after 100ms idle: mean %.3f ms, worst %.3f ms\n",
	       (double)attach_idle / 5000.0, (double)worst / 1000.0);

	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "lat-b2b-%d", i);
		t0 = now_usec();
		CHECK_OK(new_run(id, &lim, &c));
		pid = spawn_in(c, child_sleep, NULL, &attach);
		CHECK_OK(pid);
		free_run(c);
		total += now_usec() - t0;
		waitpid(pid, NULL, 0);
	}
	printf("# back-to-back new+limits+spawn+kill+free: mean %.3f ms\n",
	       (double)total / 20000.0);
	return 0;
}

/* Whether the children's counter stays where it is for ms. */
static bool counter_still(unsigned ms)
{
	uint64_t a = __atomic_load_n(shared_counter, __ATOMIC_RELAXED);

	sleep_ms(ms);
	return __atomic_load_n(shared_counter, __ATOMIC_RELAXED) == a;
}

/*
 * Job control's hold: the freezer (where the run has one) and the SIGSTOP fallback each
 * stop both counting processes, and let them go on; a frozen run is still killed and
 * removed whole.
 */
static int case_freeze(void)
{
	struct policy_limits lim = {};
	struct cgroup_run *c = NULL;
	pid_t pid;

	shared_counter =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(shared_counter != MAP_FAILED);
	CHECK_OK(new_run("freeze", &lim, &c));
	pid = spawn_in(c, child_count, NULL, NULL);
	CHECK_OK(pid);
	sleep_ms(100);
	CHECK(!counter_still(200));
	if (cgroup_run_has_freezer(c)) {
		CHECK_OK(cgroup_run_freeze(c, true));
		CHECK(counter_still(300));
		CHECK_OK(cgroup_run_freeze(c, false));
		CHECK(!counter_still(200));
	} else
		printf("# the run has no freezer here: only the signal fallback is checked\n");
	CHECK(cgroup_run_signal(c, SIGSTOP, 0) == 2);
	sleep_ms(50);
	CHECK(counter_still(300));
	CHECK(cgroup_run_signal(c, SIGCONT, 0) == 2);
	CHECK(!counter_still(200));
	CHECK(cgroup_run_signal(c, SIGCONT, pid) == 1); /* all but pid */

	if (cgroup_run_has_freezer(c))
		CHECK_OK(cgroup_run_freeze(c, true));
	CHECK_OK(cgroup_run_kill(c));
	CHECK(cgroup_run_is_populated(c) == 0);
	CHECK(waitpid(pid, NULL, 0) == pid);
	return free_and_check_gone(c);
}

static int usage(void)
{
	fprintf(stderr, "usage: cgroup-check layout | CASE PARENT\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} cases[] = {
		{ "memory", case_memory },   { "pids", case_pids },
		{ "cpu", case_cpu },	     { "concurrent", case_concurrent },
		{ "refuse", case_refuse },   { "stale", case_stale },
		{ "latency", case_latency }, { "placement", case_placement },
		{ "cpuset", case_cpuset },   { "freeze", case_freeze },
	};
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	r = cgroup_layout_detect(&layout);
	if (r < 0) {
		printf("# cgroup_layout_detect: %s\n", strerror(-r));
		return 1;
	}
	if (streq(argv[1], "layout"))
		return case_layout();
	if (argc != 3)
		return usage();
	if (layout.mode == CGROUP_MODE_NONE) {
		printf("# no cgroup hierarchy on this host\n");
		return 77;
	}
	parent = argv[2];
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		if (!streq(argv[1], cases[i].name))
			continue;
		r = cases[i].fn();
		/* A failed check leaves its runs: kill their processes, remove their cgroups. */
		for (size_t j = 0; j < ELEMENTSOF(open_runs); j++)
			cgroup_run_free(open_runs[j]);
		return r;
	}
	return usage();
}
