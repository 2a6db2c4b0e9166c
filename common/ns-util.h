/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether network namespaces are still in use, for reapers that may only clean up after
 * a namespace that is gone. inos[i] is a namespace's inode number (as /proc/PID/ns/net
 * names it, "net:[ino]"); alive[i] is set when some process lives in it or it is bind
 * mounted in our mount namespace (ip netns keeps one that way), and cleared otherwise.
 * A namespace held open only by a file descriptor is not seen. One scan of /proc for all
 * n. Returns 0, or -errno when /proc cannot be read (then every alive[i] is true: the
 * caller must not take a namespace for gone when it could not look).
 */
int netns_in_use(const unsigned long *inos, bool *alive, size_t n);

/*
 * The same for a directory named after a namespace's inode number (decimal), as the
 * runtime directory keeps them. Returns 1 when it is in use (or /proc cannot be read),
 * 0 when it is gone, -EINVAL when name is no inode number.
 */
int netns_name_in_use(const char *name);
