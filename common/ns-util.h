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
 * The name that keys the caller's network namespace in the runtime directory:
 * "<inode>-<cookie>" (SO_NETNS_COOKIE, Linux 5.14+: unique for the boot, never reused),
 * or "<inode>" on older kernels, where an inode number can be reused by a later namespace.
 * Writes it to buf. Returns 0, -ENAMETOOLONG or -errno. Does not log.
 */
int netns_key_self(char *buf, size_t len);

/*
 * The same for a directory named by netns_key_self(). Returns 1 when that namespace is in
 * use (or when it cannot tell: /proc unreadable, the namespace's cookie not readable), 0
 * when it is gone (no namespace has the inode, or the one that has it is another namespace:
 * its cookie differs), -EINVAL when name is no key. A name without a cookie is taken for
 * in use whenever its inode is. Enters the candidate namespace (setns) for its cookie.
 */
int netns_name_in_use(const char *name);
