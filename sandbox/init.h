/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The code that runs in the cloned child (internal to sandbox/). */

#include "macro.h"
#include "sandbox.h"

struct sandbox_child_fds {
	int sync_fd; /* read end: a byte releases the setup, a second the task; EOF aborts */
	int status_fd; /* write end, CLOEXEC: struct sandbox_failure on error */
	int result_fd; /* write end: the task's wait status, written by init before exit */
};

/*
 * Entry point of the clone3 child: becomes the sandbox's pid 1, sets up the mount tree,
 * forks and execs the task, then reaps and forwards signals until the task exits.
 * Never returns and never logs.
 */
_noreturn_ void sandbox_child_main(const struct sandbox_config *c,
				   const struct sandbox_child_fds *fds);
