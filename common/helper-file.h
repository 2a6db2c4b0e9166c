/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <limits.h>

/*
 * One of airlock's own files that it loads or runs as root: the network module
 * (airlock-net.so) and the DNS proxy program (airlock-dns-proxy). Where it comes from is
 * fixed: next to the running executable (/proc/self/exe: the build tree, or a copy of it),
 * or, for the executable installed in bindir, the directory it was installed to. Never the
 * environment, the current directory or a search path. The file and its directory must be
 * writable by root only.
 */
struct helper_file {
	char path[PATH_MAX]; /* where it was looked for, once known */
	char problem[512]; /* on failure: what is wrong, to follow "'<path>' " in a message */
};

/*
 * Opens the helper `name`: beside /proc/self/exe, or in installed_dir when the executable's
 * directory is bindir. Refuses a symbolic link, anything but a regular file, and a file or
 * directory not owned by root or writable by group or others; the open does not block (a
 * FIFO in its place must not hang the caller). Fills h->path, and h->problem on failure.
 * Returns an O_RDONLY|O_CLOEXEC fd or -errno. Does not log.
 */
int helper_file_open(const char *name, const char *bindir, const char *installed_dir,
		     struct helper_file *h);
