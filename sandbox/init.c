/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sandbox child. It becomes pid 1 of the new pid namespace ("init"): it builds the
 * mount tree, forks the task, and then only reaps children and forwards signals. When
 * the task exits, init kills whatever the task left behind, reports the task's wait
 * status to the supervisor over result_fd and exits; the kernel then tears down the
 * whole pid namespace. Failures are reported as {step, errno} over status_fd.
 */
#include <errno.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "fd-util.h"
#include "init.h"
#include "landlock.h"
#include "mountns.h"
#include "mounts-internal.h"
#include "policy.h"
#include "proc-title.h"
#include "rlimits.h"
#include "syscall-filter.h"

extern char **environ;

_noreturn_ static void fail(int status_fd, enum sandbox_step step, int error, int exit_code)
{
	struct sandbox_failure f = { .step = (int32_t)step, .error = error < 0 ? -error : error };

	(void)write_all(status_fd, &f, sizeof(f));
	_exit(exit_code);
}

/* The parent-death signal is cleared by every credential change: set it after each. */
static void die_with_parent(void)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static int become_root(void)
{
	if (setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -errno;
	die_with_parent();
	return 0;
}

/* A fresh network namespace has loopback down: bring it up so local servers work. */
static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, r = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

static int setup_stdio(const struct sandbox_config *c)
{
	if (dup2(c->stdin_fd, 0) < 0 || dup2(c->stdout_fd, 1) < 0 || dup2(c->stderr_fd, 2) < 0)
		return -errno;
	return 0;
}

/*
 * The parent pinned every other limit before the release (sandbox_rlimits_pin()); the
 * open files limit, which it could only raise, comes down to the policy's value now that
 * init opens nothing more.
 */
static int set_rlimits(const struct policy *p)
{
	struct rlimit nofile;
	int r;

	r = sandbox_rlimit_for(p, RLIMIT_NOFILE, &nofile);
	if (r < 0)
		return r;
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		return -errno;
	return 0;
}

static void reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The task: what is per process (signals, session, Landlock), then exec. Its identity,
 * capabilities, rlimits, no_new_privs and seccomp filter are init's, dropped before the
 * task was started (drop_privileges()). Reports its own failures.
 */
_noreturn_ static void task_main(const struct sandbox_config *c, int status_fd)
{
	const struct policy *p = c->policy;
	int r;

	reset_signals();
	if (setsid() < 0)
		fail(status_fd, SANDBOX_STEP_SETSID, errno, 125);
	if (p->filesystem.exec) {
		/* The resolved entries (sandbox_exec_resolve()): none contains a link. */
		r = c->mounts->exec_paths ? landlock_restrict_exec(c->mounts->exec_paths) : -EINVAL;
		if (r < 0)
			fail(status_fd, SANDBOX_STEP_LANDLOCK, r, 125);
	}

	/* Everything but stdio and the status pipe (already CLOEXEC) closes at exec. */
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	environ = (char **)c->envp;
	execvpe(c->argv[0], c->argv, (char **)c->envp);
	r = errno;
	fail(status_fd, SANDBOX_STEP_EXEC, r, r == ENOENT ? 127 : 126);
}

/* Kills everything left in the pid namespace and reaps it. */
static void kill_and_reap_all(void)
{
	(void)kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) >= 0 || errno == EINTR)
		;
}

_noreturn_ static void init_loop(pid_t task, const sigset_t *mask, int result_fd)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(mask, &si);
		int status;
		pid_t pid;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			(void)kill(-1, sig);
			continue;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != task)
				continue;
			kill_and_reap_all();
			(void)write_all(result_fd, &status, sizeof(status));
			_exit(0);
		}
	}
}

/*
 * The clone copied every fd of the supervisor (pipes, cgroup files, locks, the stdin
 * pump's write end...). init keeps only the result pipe, as fd 3: nothing else may hold
 * those open for the run's lifetime (a held stdin write end would keep the task from
 * ever seeing EOF).
 */
static int keep_only_result_fd(int result_fd)
{
	if (result_fd != 3) {
		if (dup2(result_fd, 3) < 0)
			_exit(125);
	}
	(void)close_range(0, 2, 0);
	(void)close_range(4, ~0U, 0);
	return 3;
}

/* Builds the sandbox: root in the user namespace, loopback, mount tree, identity, stdio. */
static void build_sandbox(const struct sandbox_config *c, int status_fd)
{
	const struct policy *p = c->policy;
	enum sandbox_step step;
	int r;

	r = become_root();
	if (r < 0)
		fail(status_fd, SANDBOX_STEP_SETUID_ROOT, r, 125);
	if (c->netns_fd < 0) {
		r = loopback_up();
		if (r < 0)
			fail(status_fd, SANDBOX_STEP_LOOPBACK, r, 125);
	}
	r = mountns_setup(c, &step);
	if (r < 0)
		fail(status_fd, step, r, 125);
	if (sethostname(p->identity.hostname, strlen(p->identity.hostname)) < 0)
		fail(status_fd, SANDBOX_STEP_HOSTNAME, errno, 125);
	if (chdir("/workspace") < 0)
		fail(status_fd, SANDBOX_STEP_CHDIR, errno, 125);
	r = setup_stdio(c);
	if (r < 0)
		fail(status_fd, SANDBOX_STEP_FORK_TASK, r, 125);
	if (setsid() < 0)
		fail(status_fd, SANDBOX_STEP_SETSID, errno, 125);
}

/*
 * Waits for one byte from the parent (sandbox_release(), then sandbox_start_task()); EOF
 * (the parent died or gave up) aborts.
 */
static void wait_parent(const struct sandbox_child_fds *fds)
{
	char byte;

	if (read(fds->sync_fd, &byte, 1) != 1)
		fail(fds->status_fd, SANDBOX_STEP_WAIT_PARENT, EPIPE, 125);
}

/*
 * Before the task exists, init becomes what the task will be: the policy's open files
 * limit (the others were pinned by the parent), the policy identity with every capability
 * dropped and verified, no_new_privs, and the seccomp filter. The task inherits all of
 * it, and init itself keeps no privilege it does not need to reap and forward signals.
 */
static void drop_privileges(const struct sandbox_config *c, int status_fd)
{
	int r;

	r = set_rlimits(c->policy);
	if (r < 0)
		fail(status_fd, SANDBOX_STEP_RLIMITS, r, 125);
	r = caps_drop_all(c->policy->identity.uid, c->policy->identity.gid);
	if (r < 0)
		fail(status_fd, SANDBOX_STEP_DROP_CAPS, r, 125);
	die_with_parent(); /* the identity change cleared it */
	/* Same uid as the task: keep /proc/1 and ptrace-style access from it closed. */
	(void)prctl(PR_SET_DUMPABLE, 0);
	r = syscall_filter_install(c->filter);
	if (r < 0)
		fail(status_fd, SANDBOX_STEP_SECCOMP, r, 125);
}

/*
 * Starts the task with vfork(), as posix_spawn() does: init's address space (a copy of
 * the supervisor's) is neither copied nor write-faulted, and init sleeps until the task
 * has exec'd or failed. Until then the task runs on init's stack and memory, below the
 * caller's frame, and never returns here. It may use that memory as its own (init is
 * single-threaded and stopped); it changes no ids (it inherits them from init) and
 * calls nothing that keeps per-process library state.
 */
static pid_t spawn_task(const struct sandbox_config *c, const struct sandbox_child_fds *fds)
{
	pid_t pid = vfork();

	if (pid == 0) {
		close(fds->result_fd);
		task_main(c, fds->status_fd);
	}
	return pid;
}

_noreturn_ void sandbox_child_main(const struct sandbox_config *c,
				   const struct sandbox_child_fds *fds)
{
	sigset_t mask;
	pid_t task;

	/*
	 * A copy of the supervisor: its command line (state directory, policy path) and
	 * environment would show in /proc/1/cmdline of the task and in ps on the host.
	 */
	(void)proc_title_set(SANDBOX_INIT_NAME);
	die_with_parent();
	wait_parent(fds);
	build_sandbox(c, fds->status_fd);

	/*
	 * We were born in the run's cgroups (v2 CLONE_INTO_CGROUP; v1: the parent's thread
	 * had joined them for the clone). A fresh cgroup namespace roots the task's view there
	 * whichever way the clone's own namespace was rooted.
	 */
	if (unshare(CLONE_NEWCGROUP) < 0)
		fail(fds->status_fd, SANDBOX_STEP_CGROUP_NS, errno, 125);

	/* Block every signal init forwards before the task exists, so none is lost. */
	sigfillset(&mask);
	sigdelset(&mask, SIGKILL);
	sigdelset(&mask, SIGSTOP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	drop_privileges(c, fds->status_fd);
	/* The supervisor lets the task start once it can account for it (its first record). */
	wait_parent(fds);
	close(fds->sync_fd);
	task = spawn_task(c, fds);
	if (task < 0)
		fail(fds->status_fd, SANDBOX_STEP_FORK_TASK, errno, 125);
	/* The task has exec'd (vfork returned): init needs no copy of its secrets. */
	if (c->wipe_after_exec)
		explicit_bzero(c->wipe_after_exec, c->wipe_after_exec_len);
	init_loop(task, &mask, keep_only_result_fd(fds->result_fd));
}
