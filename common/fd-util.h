/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes all of buf, retrying on EINTR and short writes. Returns 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);
/* Reads until EOF or len bytes. Returns the number of bytes read or -errno. */
ssize_t read_full(int fd, void *buf, size_t len);
/*
 * Reads a whole file (at most max bytes; more is -EFBIG) relative to dir_fd, NUL-terminated.
 * *ret is owned by the caller. Returns 0 or -errno.
 */
int read_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_len);
/* The same from an open fd, read from its current offset to EOF. */
int read_file_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Writes a string to an existing file relative to dir_fd (O_WRONLY, no create, no truncation:
 * meant for procfs/sysfs/cgroupfs knobs). Returns 0 or -errno. */
int write_string_at(int dir_fd, const char *path, const char *s);
int fd_set_nonblock(int fd, bool nonblock);
/* mkdir -p with the given mode for each created component. 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
/*
 * Opens the directory name beneath dir_fd (no symlink followed), made 0700 when missing,
 * and refuses it unless the caller's effective uid owns it; its mode is set back to 0700.
 * For the state directory's private parts (logs, event logs). Returns the fd or -errno.
 */
int open_private_dir_at(int dir_fd, const char *name);
/*
 * An unnamed file in the directory dir_fd (O_TMPFILE, O_RDWR|O_CLOEXEC) with mode: nothing
 * is left behind if the process dies before it is linked. -EOPNOTSUPP (or -EISDIR) where
 * the filesystem has no O_TMPFILE. Returns the fd or -errno.
 */
int open_tmpfile_at(int dir_fd, mode_t mode);
/* Gives the unnamed file fd the name name in dir_fd: -EEXIST when it is taken. 0 or -errno. */
int link_tmpfile_at(int fd, int dir_fd, const char *name);
/*
 * Writes text to the file name in dir_fd with mode, whole (fsync'd) or not at all: an
 * unnamed file (O_TMPFILE) linked in when written, so a process killed on the way leaves
 * nothing behind; a temporary name where the filesystem has no O_TMPFILE. replace: an
 * existing name is replaced (through a temporary name), else -EEXIST. 0 or -errno.
 */
int write_file_whole_at(int dir_fd, const char *name, const char *text, mode_t mode, bool replace);
/*
 * A directory stream over its own duplicate of dir_fd (F_DUPFD_CLOEXEC): reading it moves
 * no offset of dir_fd's. NULL with errno set on failure (nothing left open).
 */
DIR *opendir_dup(int dir_fd);
/* Opens /dev/null O_RDWR|O_CLOEXEC. Returns fd or -errno. */
int open_devnull(void);
/*
 * Opens the directory at the absolute path (O_RDONLY|O_DIRECTORY|O_CLOEXEC) without
 * following a symbolic link anywhere in it: openat2(RESOLVE_NO_SYMLINKS), or a walk one
 * component at a time (O_NOFOLLOW) where openat2 is missing. With create_mode, missing
 * components are created with it on the way. Returns the fd, -ELOOP when a component is a
 * symbolic link, or -errno.
 */
int open_dir_no_symlinks(const char *path, mode_t create_mode);
