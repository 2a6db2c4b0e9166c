/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "idpool.h"
#include "sandbox.h"

int idpool_acquire(const char *runtime_dir, struct idpool_slot *ret)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	unsigned start = 0;
	int r;

	snprintf(dir, sizeof(dir), "%s/ids", runtime_dir);
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return r;
	/* A random starting point keeps concurrent starts from contending on slot 0. */
	(void)getrandom(&start, sizeof(start), GRND_NONBLOCK);

	for (unsigned i = 0; i < IDPOOL_SLOTS; i++) {
		unsigned slot = (start + i) % IDPOOL_SLOTS;
		_cleanup_close_ int fd = -EBADF;

		snprintf(path, sizeof(path), "%s/%u.lock", dir, slot);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno == EWOULDBLOCK)
				continue;
			return -errno;
		}
		*ret = (struct idpool_slot){ .index = slot,
					     .base = IDPOOL_BASE + slot * SANDBOX_ID_RANGE,
					     .lock_fd = TAKE_FD(fd) };
		return 0;
	}
	return -EAGAIN;
}

void idpool_release(struct idpool_slot *slot)
{
	slot->lock_fd = safe_close(slot->lock_fd);
}
