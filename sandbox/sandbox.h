/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The task side of a run: clone3 into fresh namespaces, a mount tree on a tmpfs root,
 * a small pid-1 init, dropped privileges, Landlock and seccomp, then exec. The child
 * never logs: failures travel as {step, errno} over a CLOEXEC status pipe.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup_run;
struct policy;
struct syscall_filter;

#define SANDBOX_ID_RANGE 65536 /* uids/gids mapped per run */
#define SANDBOX_INIT_NAME "airlock-init" /* cmdline and comm of the sandbox's pid 1 */

enum sandbox_step {
	SANDBOX_STEP_NONE,
	SANDBOX_STEP_CLONE,
	SANDBOX_STEP_WAIT_PARENT,
	SANDBOX_STEP_CGROUP_NS,
	SANDBOX_STEP_SETGROUPS,
	SANDBOX_STEP_SETUID_ROOT,
	SANDBOX_STEP_LOOPBACK,
	SANDBOX_STEP_MOUNT_PRIVATE,
	SANDBOX_STEP_MOUNT_ROOT,
	SANDBOX_STEP_MOUNT_SYSTEM,
	SANDBOX_STEP_MOUNT_ETC,
	SANDBOX_STEP_MOUNT_WORKSPACE,
	SANDBOX_STEP_MOUNT_BINDS,
	SANDBOX_STEP_MOUNT_TMPFS,
	SANDBOX_STEP_EXEC_PATHS,
	SANDBOX_STEP_MOUNT_SECRETS,
	SANDBOX_STEP_MOUNT_DEV,
	SANDBOX_STEP_MOUNT_PROC,
	SANDBOX_STEP_MOUNT_CGROUP,
	SANDBOX_STEP_PIVOT_ROOT,
	SANDBOX_STEP_REMOUNT_ROOT,
	SANDBOX_STEP_HOSTNAME,
	SANDBOX_STEP_CHDIR,
	SANDBOX_STEP_FORK_TASK,
	SANDBOX_STEP_SETSID,
	SANDBOX_STEP_RLIMITS,
	SANDBOX_STEP_DROP_CAPS,
	SANDBOX_STEP_LANDLOCK,
	SANDBOX_STEP_SECCOMP,
	SANDBOX_STEP_EXEC,
	_SANDBOX_STEP_MAX,
};

/* What a failing child reports. */
struct sandbox_failure {
	int32_t step; /* enum sandbox_step */
	int32_t error; /* positive errno */
};

/* Detached mount trees prepared by the privileged parent (open_tree clones). */
struct sandbox_mounts;

struct sandbox_config {
	const struct policy *policy;
	const struct syscall_filter *filter;
	/* Neither may point into the process's argument or environment area (proc-title.h). */
	char *const *argv;
	char *const *envp; /* the task's whole environment */
	/*
	 * Memory that init clears in its own copy once the task has exec'd (the environment
	 * strings that carry secrets), or NULL.
	 */
	void *wipe_after_exec;
	size_t wipe_after_exec_len;
	const struct sandbox_mounts *mounts;
	uid_t host_id_base; /* host uid/gid of id 0 inside; SANDBOX_ID_RANGE mapped */
	struct cgroup_run *cgroup; /* the run's cgroups (cgroup.h), or NULL */
	int netns_fd; /* network namespace to join, or -EBADF for a new one */
	const char *resolv_conf; /* contents of /etc/resolv.conf, or NULL */
	int stdin_fd;
	int stdout_fd;
	int stderr_fd;
};

struct sandbox {
	pid_t pid; /* the sandbox init, in the supervisor's pid namespace */
	int pidfd;
	int status_fd; /* read end: struct sandbox_failure, EOF once exec succeeded */
	int result_fd; /* read end: the task's wait status, written by init */
	int sync_fd; /* write end: sandbox_release(), sandbox_start_task() */
	int init_code; /* how init itself ended: CLD_EXITED, _KILLED, _DUMPED; 0: not reaped */
	int init_status; /* init's exit status, or the signal that ended it (init_code) */
};

/*
 * Resolves each filesystem.exec entry in the root the task will see (the system tree of
 * the host or the rootfs, /etc, the workspace, binds, tmpfs mounts), as openat2() with
 * RESOLVE_IN_ROOT would in the finished sandbox: a symbolic link means its target, and an
 * absolute target or ".." never leaves that root. Links are followed only in airlock's
 * system tree and /etc; one met in the workspace, a bind or a tmpfs (which a task or
 * another user may have planted) refuses the entry. Needs no run: it opens the trees
 * O_PATH and closes them again, so a caller may use it to tell what a run would allow.
 * workspace (a resolved host path) may be NULL: nothing is then under /workspace.
 *
 * Returns 0 and *ret: the resolved, link-free paths in the order of p->filesystem.exec
 * (a NULL-terminated list owned by the caller; NULL when the policy has no exec list).
 * Returns -errno on failure with *reterr_index naming the entry (SIZE_MAX: the system
 * root itself could not be opened): -ENOENT (does not exist in the sandbox's root),
 * -ENOTDIR (a component is a file), -ELOOP (more than 40 links), -EPERM (a link in the
 * workspace, a bind or a tmpfs), -ENAMETOOLONG, -ENOMEM.
 */
int sandbox_exec_resolve(const struct policy *p, const char *workspace, char ***ret,
			 size_t *reterr_index);

/*
 * Opens detached copies of every host tree the policy binds (system directories or the
 * rootfs, /etc pieces, the workspace, binds) with their mount attributes set, and, unless
 * the policy turns it off, read-only binds of the run's cgroup directories cg (NULL: none)
 * for /sys/fs/cgroup. Runs in the privileged parent, after the run's cgroup exists.
 * exec_paths is the resolved exec allowlist (sandbox_exec_resolve(); NULL exactly when the
 * policy has none): mounts outside it are noexec, and the task's Landlock ruleset lists
 * it. A read-write workspace is idmapped so that its owner's files appear owned by the
 * task user (host_id_base + the policy's uid). *ret is owned by the caller. Returns 0 or
 * -errno (-EOPNOTSUPP: the workspace needs an idmapped mount its filesystem cannot have;
 * -ELOOP: a path contains a symlink); on failure *reterr_path names the path that failed
 * (static or pointing into the policy: an entry of filesystem.etc is that very string).
 * Does not log.
 */
int sandbox_mounts_open(const struct policy *p, char *const *exec_paths, const char *workspace,
			uid_t host_id_base, const struct cgroup_run *cg,
			struct sandbox_mounts **ret, const char **reterr_path);
struct sandbox_mounts *sandbox_mounts_free(struct sandbox_mounts *m);
/* One file of a run's secrets tmpfs (sandbox_mounts_add_secrets()). */
struct sandbox_secret_file {
	const char *target; /* absolute, normalised path in the sandbox */
	const void *data; /* the contents: written to the tmpfs, never copied in memory */
	size_t size;
};

/*
 * Makes the run's private tmpfs for secret files and writes them into it: its root 0700
 * and each file 0400, owned by the task user (host_id_base + the policy's uid and gid),
 * nosuid, nodev, noexec, read-only once written, sized to fit (and kept out of swap
 * where the kernel offers "noswap"). The tmpfs is never attached in the caller's mount
 * namespace: m holds it as a detached mount, and the sandbox child binds each file at its
 * target (read-only, nosuid, nodev, noexec) and lets go of the rest, so it lives exactly
 * as long as the task's mount namespace. At most once per m, after sandbox_mounts_open().
 * Returns 0 or -errno (-EEXIST: called twice; -E2BIG: too many files). Does not log.
 */
int sandbox_mounts_add_secrets(struct sandbox_mounts *m, const struct policy *p, uid_t host_id_base,
			       const struct sandbox_secret_file *files, size_t n);
/* The upper and work directories' names in an overlay workspace's tmpfs. */
#define SANDBOX_OVERLAY_UPPER "files"
#define SANDBOX_OVERLAY_WORK "work"

/*
 * What an overlay workspace's failure was (sandbox_mounts_open()'s *reterr_path): making
 * its upper tmpfs, the idmapped lower clone, opening overlayfs, handing it its layers by
 * fd, setting its options, or creating the mount.
 */
#define SANDBOX_OVERLAY_ERR_TMPFS "overlay:tmpfs"
#define SANDBOX_OVERLAY_ERR_IDMAP "overlay:idmap"
#define SANDBOX_OVERLAY_ERR_FS "overlay:fs"
#define SANDBOX_OVERLAY_ERR_LAYERS "overlay:layers"
#define SANDBOX_OVERLAY_ERR_OPTIONS "overlay:options"
#define SANDBOX_OVERLAY_ERR_CREATE "overlay:create"

/*
 * An overlay workspace's layers, taken from m before it is freed (the supervisor keeps
 * them until the task is dead): *ret_upper_fd, the detached root of the upper tmpfs, whose
 * SANDBOX_OVERLAY_UPPER directory holds the task's changes; *ret_lower_fd, a read-only, not idmapped
 * clone of the host workspace the overlay lies on. Both are the caller's; closing them
 * frees the tmpfs once the task's mount namespace is gone. Returns 0, or -ENOENT when the
 * workspace is no overlay (or they were taken already). Does not log.
 */
int sandbox_mounts_take_overlay(struct sandbox_mounts *m, int *ret_upper_fd, int *ret_lower_fd);
/* Whether the workspace is idmapped to the task (false when the filesystem cannot be). */
bool sandbox_mounts_workspace_idmapped(const struct sandbox_mounts *m);

/*
 * Clones the sandbox init into new user, mount, pid, ipc, uts, cgroup (and network
 * unless netns_fd is given) namespaces and writes its uid/gid maps. The child then waits
 * for sandbox_release() to build the sandbox and start the task. It is born in the run's
 * cgroups: cloned into them on v2, and on v1 the calling thread joins them just for the
 * clone (cgroup_run_enter()). Returns 0 and *ret (owned by the caller) or -errno.
 */
int sandbox_spawn(const struct sandbox_config *c, struct sandbox **ret);
/*
 * Lets the child build the sandbox, up to the point where init would start the task: it
 * then waits for sandbox_start_task(), so that the supervisor can do what must precede the
 * task (its first record) while the sandbox is built. Returns 0 or -errno (-EPIPE: the
 * child failed a step, its status pipe says which).
 */
int sandbox_release(struct sandbox *s);
/*
 * Lets the child start the task once the sandbox is built. Without it the task never
 * starts: init fails step wait-parent when the supervisor closes or dies. 0 or -errno.
 */
int sandbox_start_task(struct sandbox *s);
/*
 * Waits until the task has exec'd (returns 0) or a setup step failed (returns -EIO and
 * fills *ret_failure). Blocks on the status pipe.
 */
int sandbox_wait_exec(struct sandbox *s, struct sandbox_failure *ret_failure);
/* Sends sig to the sandbox init (SIGKILL ends the whole pid namespace). 0 or -errno. */
int sandbox_kill(struct sandbox *s, int sig);
/*
 * After init exited (pidfd readable): reaps it and returns the task's wait status in
 * *ret_wstatus as init reported it; -ENODATA if init died before reporting (e.g. killed).
 * How init itself ended is kept in s->init_code and s->init_status either way.
 */
int sandbox_reap(struct sandbox *s, int *ret_wstatus);
struct sandbox *sandbox_free(struct sandbox *s);

const char *sandbox_step_to_string(enum sandbox_step step);
/*
 * How init itself ended (sandbox_reap() saw it), as words for a message: "was killed by
 * signal 9 (SIGKILL)", "exited with status 125", or "could not be waited for". Writes
 * into buf (64 bytes are enough) and returns it; never fails, never logs.
 */
const char *sandbox_init_end_describe(const struct sandbox *s, char *buf, size_t size);
