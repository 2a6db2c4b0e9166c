/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by run-export.c and run-export-reap.c only. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* A directory's identity: device, inode and birth time (0 where the filesystem has none). */
struct dir_id {
	uintmax_t dev, ino, btime_s, btime_ns;
};

/* openat2() of name below dir_fd, O_CLOEXEC|O_NOFOLLOW, no link followed: fd or -errno. */
int run_export_open_beneath(int dir_fd, const char *name, int flags);

/* The identity of the directory stx describes. */
void run_export_dir_id_of(const struct statx *stx, struct dir_id *id);

/* Whether fd (or name below it) is the directory id names: not one made since in its place. */
bool run_export_is_dir_id(int fd, const char *name, const struct dir_id *id);

/*
 * Removes name below dir_fd and everything in it, no link followed (openat2()), at most
 * RUN_EXPORT_MAX_REMOVE_DEPTH levels. With stoppable, a pending stop signal
 * (run_stop_pending()) ends it between entries with -EINTR: the rest stays. Returns 0 (also
 * when name does not exist) or -errno. Does not log.
 */
int run_export_remove_tree(int dir_fd, const char *name, bool stoppable);
