/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parent side of the sandbox: clone3 into fresh namespaces, write the id maps, release
 * the child, and later collect what its init reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "fd-util.h"
#include "init.h"
#include "rlimits.h"
#include "sandbox.h"

static const char *const step_names[_SANDBOX_STEP_MAX] = {
	[SANDBOX_STEP_NONE] = "none",
	[SANDBOX_STEP_CLONE] = "clone",
	[SANDBOX_STEP_WAIT_PARENT] = "wait-parent",
	[SANDBOX_STEP_CGROUP_NS] = "cgroup-namespace",
	[SANDBOX_STEP_SETGROUPS] = "setgroups",
	[SANDBOX_STEP_SETUID_ROOT] = "setuid-root",
	[SANDBOX_STEP_LOOPBACK] = "loopback",
	[SANDBOX_STEP_MOUNT_PRIVATE] = "mount-private",
	[SANDBOX_STEP_MOUNT_ROOT] = "mount-root",
	[SANDBOX_STEP_MOUNT_SYSTEM] = "mount-system",
	[SANDBOX_STEP_MOUNT_ETC] = "mount-etc",
	[SANDBOX_STEP_MOUNT_WORKSPACE] = "mount-workspace",
	[SANDBOX_STEP_MOUNT_BINDS] = "mount-binds",
	[SANDBOX_STEP_MOUNT_TMPFS] = "mount-tmpfs",
	[SANDBOX_STEP_EXEC_PATHS] = "exec-allowlist-paths",
	[SANDBOX_STEP_MOUNT_SECRETS] = "mount-secrets",
	[SANDBOX_STEP_MOUNT_DEV] = "mount-dev",
	[SANDBOX_STEP_MOUNT_PROC] = "mount-proc",
	[SANDBOX_STEP_MOUNT_CGROUP] = "mount-cgroup",
	[SANDBOX_STEP_PIVOT_ROOT] = "pivot-root",
	[SANDBOX_STEP_REMOUNT_ROOT] = "remount-root",
	[SANDBOX_STEP_HOSTNAME] = "hostname",
	[SANDBOX_STEP_CHDIR] = "chdir",
	[SANDBOX_STEP_FORK_TASK] = "fork-task",
	[SANDBOX_STEP_SETSID] = "setsid",
	[SANDBOX_STEP_RLIMITS] = "rlimits",
	[SANDBOX_STEP_DROP_CAPS] = "drop-capabilities",
	[SANDBOX_STEP_LANDLOCK] = "landlock",
	[SANDBOX_STEP_SECCOMP] = "seccomp",
	[SANDBOX_STEP_EXEC] = "exec",
};

const char *sandbox_step_to_string(enum sandbox_step step)
{
	if (step < 0 || step >= _SANDBOX_STEP_MAX || !step_names[step])
		return "unknown";
	return step_names[step];
}

const char *sandbox_init_end_describe(const struct sandbox *s, char *buf, size_t size)
{
	const char *abbrev;

	switch (s->init_code) {
	case CLD_EXITED:
		snprintf(buf, size, "exited with status %d", s->init_status);
		break;
	case CLD_KILLED:
	case CLD_DUMPED:
		abbrev = sigabbrev_np(s->init_status);
		snprintf(buf, size, "was killed by signal %d (SIG%s)", s->init_status,
			 abbrev ?: "?");
		break;
	default:
		snprintf(buf, size, "could not be waited for");
		break;
	}
	return buf;
}

static int write_id_maps(pid_t pid, uid_t base)
{
	char path[64], map[64];
	int r;

	snprintf(map, sizeof(map), "0 %u %u\n", base, SANDBOX_ID_RANGE);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	r = write_string_at(AT_FDCWD, path, map);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	return write_string_at(AT_FDCWD, path, map);
}

/* clone3 with the task's namespaces, in the prepared network namespace if there is one. */
static pid_t clone_in_netns(const struct sandbox_config *c, int *ret_pidfd)
{
	struct clone_args args = {
		.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
			 CLONE_NEWCGROUP | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)ret_pidfd,
		.exit_signal = SIGCHLD,
	};
	_cleanup_close_ int own_netns = -EBADF;
	pid_t pid;
	int saved;

	if (c->cgroup && cgroup_run_clone_fd(c->cgroup) >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgroup_run_clone_fd(c->cgroup);
	}
	if (c->netns_fd < 0)
		args.flags |= CLONE_NEWNET;
	else {
		own_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (own_netns < 0)
			return -errno;
		if (setns(c->netns_fd, CLONE_NEWNET) < 0)
			return -errno;
	}

	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	saved = errno;
	if (pid == 0)
		return 0;
	if (own_netns >= 0 && setns(own_netns, CLONE_NEWNET) < 0)
		abort(); /* the supervisor must never keep running in a task's netns */
	return pid < 0 ? -saved : pid;
}

/*
 * clone3 with the task's namespaces, in the run's cgroups. A prepared network namespace
 * is owned by the initial user namespace, so the child could not join it after creating
 * its own user namespace: the caller's thread enters it just for the clone and returns
 * to its own at once. On cgroup v1 the thread joins the run's cgroups the same way.
 */
static pid_t clone_child(const struct sandbox_config *c, int *ret_pidfd)
{
	pid_t pid;
	int r;

	r = c->cgroup ? cgroup_run_enter(c->cgroup) : 0;
	if (r == -ENOTRECOVERABLE)
		abort(); /* the supervisor must never keep running in a task's cgroup */
	if (r < 0)
		return r;
	pid = clone_in_netns(c, ret_pidfd);
	if (pid == 0)
		return 0;
	if (c->cgroup && cgroup_run_leave(c->cgroup) < 0)
		abort();
	return pid;
}

int sandbox_spawn(const struct sandbox_config *c, struct sandbox **ret)
{
	int sync_p[2] = { -EBADF, -EBADF }, status_p[2] = { -EBADF, -EBADF },
	    result_p[2] = { -EBADF, -EBADF };
	struct sandbox *s = NULL;
	int pidfd = -EBADF, r;
	pid_t pid;

	if (pipe2(sync_p, O_CLOEXEC) < 0 || pipe2(status_p, O_CLOEXEC) < 0 ||
	    pipe2(result_p, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		r = -ENOMEM;
		goto fail;
	}

	pid = clone_child(c, &pidfd);
	if (pid == 0) {
		struct sandbox_child_fds fds = { sync_p[0], status_p[1], result_p[1] };

		close(sync_p[1]);
		close(status_p[0]);
		close(result_p[0]);
		sandbox_child_main(c, &fds);
	}
	if (pid < 0) {
		r = pid;
		goto fail;
	}
	*s = (struct sandbox){ .pid = pid,
			       .pidfd = pidfd,
			       .status_fd = status_p[0],
			       .result_fd = result_p[0],
			       .sync_fd = sync_p[1] };
	close(sync_p[0]);
	close(status_p[1]);
	close(result_p[1]);

	r = write_id_maps(pid, c->host_id_base);
	if (r >= 0)
		r = sandbox_rlimits_pin(pid, c->policy);
	if (r < 0) {
		sandbox_kill(s, SIGKILL);
		(void)waitid(P_PIDFD, (id_t)s->pidfd, NULL, WEXITED);
		sandbox_free(s);
		return r;
	}
	*ret = s;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		safe_close(sync_p[i]);
		safe_close(status_p[i]);
		safe_close(result_p[i]);
	}
	free(s);
	return r;
}

int sandbox_release(struct sandbox *s)
{
	return write_all(s->sync_fd, "s", 1);
}

int sandbox_start_task(struct sandbox *s)
{
	int r = write_all(s->sync_fd, "t", 1);

	s->sync_fd = safe_close(s->sync_fd);
	return r;
}

int sandbox_wait_exec(struct sandbox *s, struct sandbox_failure *ret_failure)
{
	struct sandbox_failure f;
	ssize_t n;

	n = read_full(s->status_fd, &f, sizeof(f));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof(f))
		f = (struct sandbox_failure){ SANDBOX_STEP_NONE, EPROTO };
	*ret_failure = f;
	return -EIO;
}

int sandbox_kill(struct sandbox *s, int sig)
{
	if (syscall(SYS_pidfd_send_signal, s->pidfd, sig, NULL, 0) < 0)
		return errno == ESRCH ? 0 : -errno;
	return 0;
}

int sandbox_reap(struct sandbox *s, int *ret_wstatus)
{
	siginfo_t si = {};
	int status;
	ssize_t n;

	if (waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED) < 0)
		return -errno;
	s->init_code = si.si_code;
	s->init_status = si.si_status;
	n = read_full(s->result_fd, &status, sizeof(status));
	if (n != (ssize_t)sizeof(status))
		return -ENODATA;
	*ret_wstatus = status;
	return 0;
}

struct sandbox *sandbox_free(struct sandbox *s)
{
	if (!s)
		return NULL;
	safe_close(s->pidfd);
	safe_close(s->status_fd);
	safe_close(s->result_fd);
	safe_close(s->sync_fd);
	free(s);
	return NULL;
}
