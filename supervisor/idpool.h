/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Host uid/gid ranges for tasks. Each run holds one slot of SANDBOX_ID_RANGE ids, locked
 * with flock() on a file in the runtime directory, so concurrent runs never share a range
 * and a crashed run's slot frees itself when its lock fd closes.
 */

#include <sys/types.h>

/* First host id handed out; above systemd's container range (ends 0x6fffffff). */
#define IDPOOL_BASE 0x70000000u
#define IDPOOL_SLOTS 1024u

struct idpool_slot {
	unsigned index;
	uid_t base; /* host id of uid/gid 0 inside the sandbox */
	int lock_fd;
};

/* Takes a free slot. Returns 0, -EAGAIN when all slots are busy, or -errno. Logs nothing. */
int idpool_acquire(const char *runtime_dir, struct idpool_slot *ret);
void idpool_release(struct idpool_slot *slot);
