/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

/*
 * In the task child: switches to uid/gid with no supplementary groups and drops every
 * capability (effective, permitted, inheritable, bounding, ambient), then sets
 * no_new_privs. Verifies the result. Returns 0 or -errno. Does not log.
 */
int caps_drop_all(uid_t uid, gid_t gid);
