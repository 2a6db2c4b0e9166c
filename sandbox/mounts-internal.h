/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared between the parent side (mounts.c) and the child side (mountns.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "macro.h"
#include "sandbox.h"

#define SANDBOX_MAX_MOUNTS 128

enum mount_entry_kind {
	MOUNT_ENTRY_TREE, /* detached tree (fd) attached at target */
	MOUNT_ENTRY_SYMLINK, /* symlink at target pointing to link */
};

/*
 * Attach order: system trees, the workspace, the policy's tmpfs mounts, then binds; the
 * run's cgroup view after /proc.
 */
enum mount_phase {
	MOUNT_PHASE_SYSTEM,
	MOUNT_PHASE_WORKSPACE,
	MOUNT_PHASE_BINDS,
	MOUNT_PHASE_CGROUP,
};

struct mount_entry {
	enum mount_entry_kind kind;
	enum mount_phase phase;
	char *target; /* absolute, inside the sandbox */
	int fd; /* MOUNT_ENTRY_TREE: open_tree() clone */
	bool is_dir; /* MOUNT_ENTRY_TREE: directory or file */
	char *link; /* MOUNT_ENTRY_SYMLINK */
};

/* A detached tmpfs (mounts_tmpfs_open()): its root is 0700; nosuid, nodev, noexec. */
struct mounts_tmpfs {
	const char *source; /* what mountinfo shows as its source */
	uint64_t size; /* bytes; never 0, which would mean no limit */
	uint64_t nr_inodes; /* 0: the kernel's default */
	bool owned; /* its root belongs to uid:gid, else to root */
	uid_t uid;
	gid_t gid;
	bool noswap; /* its pages never go to swap (Linux 6.4+; ignored before) */
};

/*
 * A new tmpfs as t says, as a detached mount (fsopen/fsmount), never attached anywhere.
 * Returns the mount's fd (O_CLOEXEC, owned by the caller) or -errno.
 */
int mounts_tmpfs_open(const struct mounts_tmpfs *t);
/* fsconfig(FSCONFIG_SET_STRING) of key to value on the fsopen() fd fs_fd. 0 or -errno. */
int mounts_fs_set_option(int fs_fd, const char *key, const char *value);

struct policy;

/*
 * Opens path (relative to dir_fd) as an O_PATH fd with openat2() resolve flags (plus
 * RESOLVE_NO_MAGICLINKS). Returns an fd or -errno (-ELOOP: a forbidden symlink).
 */
int mounts_open_resolved(int dir_fd, const char *path, uint64_t resolve);

/*
 * Whether the mount at target must be noexec: the policy restricts execution (Landlock;
 * exec is the resolved allowlist, sandbox_exec_resolve(), or NULL for none) and the mount
 * does not lie on or beneath an allowed exec path. Landlock only
 * governs execve(); noexec also stops the dynamic loader from mapping files executable,
 * which would otherwise run any readable binary ("ld.so ./tool").
 */
bool mount_needs_noexec(char *const *exec, const char *target);
/*
 * Whether an exec allowlist entry lies inside a mount made noexec (e.g. "/workspace/bin"
 * with the workspace noexec): that subtree is then re-bound with exec allowed, so only
 * the listed part of the mount can be executed or mapped executable.
 */
bool mount_exec_path_needs_rebind(const struct policy *p, char *const *exec, const char *exec_path);

/* System directories taken from the host root (or the policy's rootfs). */
extern const char *const mounts_system_dirs[];
extern const size_t mounts_n_system_dirs;
/* Host /etc entries bound read-only when present (besides the policy's filesystem.etc). */
extern const char *const mounts_etc_entries[];
extern const size_t mounts_n_etc_entries;
/* /etc files airlock writes itself (mountns.c); policy/policy-fs.c reserves the same. */
extern const char *const mounts_etc_generated[];
extern const size_t mounts_n_etc_generated;

struct sandbox_mounts {
	struct mount_entry entries[SANDBOX_MAX_MOUNTS];
	size_t n_entries;
	bool workspace_idmapped;
	char **exec_paths; /* the resolved exec allowlist (sandbox_exec_resolve()), or NULL */
	int secrets_fd; /* detached tmpfs of secret files (secrets.c), or -EBADF */
	int overlay_upper_fd; /* an overlay workspace's upper tmpfs (overlay.c), or -EBADF */
	int overlay_lower_fd; /* its plain read-only clone of the workspace, or -EBADF */
	char **secret_targets; /* where file "<i>" of that tmpfs goes, or NULL */
};

/*
 * Builds an overlay workspace (overlay.c) over the workspace at ws_fd (an O_PATH fd; ws_st
 * its stat): an upper tmpfs of size bytes whose "upper" directory belongs to uid:gid, the
 * lower idmapped by userns_fd. Returns the overlay's detached mount fd (nosuid, nodev, and
 * noexec when asked), and keeps the upper tmpfs and a plain clone of the workspace in m.
 * Returns -errno on failure, with *reterr_what naming the step (SANDBOX_OVERLAY_ERR_*).
 */
int mounts_overlay_open(struct sandbox_mounts *m, int ws_fd, const struct stat *ws_st,
			int userns_fd, uint64_t size, uid_t uid, gid_t gid, bool noexec,
			const char **reterr_what);

/* Name of file i in the secrets tmpfs (decimal index); buf holds at least 24 bytes. */
void mounts_secret_name(char *buf, size_t len, size_t i);
