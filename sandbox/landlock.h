/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The Landlock ABI version of the running kernel (>= 1), or -EOPNOTSUPP. */
int landlock_abi_version(void);

/*
 * In the task child, after pivot_root: restricts execution (LANDLOCK_ACCESS_FS_EXECUTE)
 * to files beneath the given absolute paths (NULL-terminated). Requires no_new_privs.
 * Each path is opened without following symlinks, so a symlink planted in a writable
 * tree cannot widen the allowlist. Returns 0, -EOPNOTSUPP when Landlock is unavailable,
 * -EINVAL for a relative path, -ELOOP when a path is or passes through a symlink, -ENOENT
 * when one is missing, or another -errno. Async-signal-safe (no allocation). Does not log.
 */
int landlock_restrict_exec(char *const *paths);
