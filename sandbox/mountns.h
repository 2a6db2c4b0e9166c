/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Child side of the mount tree (internal to sandbox/). */

#include "sandbox.h"

/*
 * In the cloned child (new user and mount namespaces, uid 0 inside): builds the task's
 * root on a fresh tmpfs from the prepared detached trees, generated /etc, tmpfs mounts,
 * a minimal /dev and a fresh /proc, then pivots into it and makes it read-only.
 * Returns 0 or -errno and stores the failing step in *ret_step. Never logs.
 */
int mountns_setup(const struct sandbox_config *c, enum sandbox_step *ret_step);
