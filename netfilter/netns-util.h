/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Network namespace helpers for the supervisor (root, single-threaded). A namespace is
 * held only by its fd: nothing is bind-mounted, so nothing outlives the run.
 */

/*
 * Creates a new network namespace owned by the caller's user namespace and returns an
 * O_CLOEXEC fd to it (the caller stays in its own namespace), or -errno. Does not log.
 */
int netns_new(void);

/*
 * Creates a socket inside the namespace netns_fd (the caller's own when netns_fd < 0;
 * SOCK_CLOEXEC is added) and returns it, or -errno. The calling thread enters the
 * namespace only for the socket() call; if it cannot return to its own namespace the
 * process aborts, since continuing there would act on the wrong network. Does not log.
 */
int netns_socket(int netns_fd, int domain, int type, int protocol);

/* The inode number of a namespace fd (a stable id while it lives), or 0 on error. */
unsigned long netns_inode(int netns_fd);

/*
 * Enters netns_fd and returns an fd of the namespace left behind (to pass to
 * netns_leave()), or -errno. For short sections that create kernel objects there.
 */
int netns_enter(int netns_fd);
/* Returns to the namespace saved by netns_enter() and closes it; aborts on failure. */
void netns_leave(int saved_fd);
