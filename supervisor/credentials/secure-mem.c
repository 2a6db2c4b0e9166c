/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "secure-mem.h"

#define BURN_STACK_BYTES 8192

int secure_buf_alloc(struct secure_buf *b, size_t size, bool wipe_on_fork)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), mapped;
	void *p;

	if (size == 0 || __builtin_add_overflow(size, page - 1, &mapped))
		return -EINVAL;
	mapped -= mapped % page;
	p = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (madvise(p, mapped, MADV_DONTDUMP) < 0 ||
	    (wipe_on_fork && madvise(p, mapped, MADV_WIPEONFORK) < 0)) {
		int r = -errno;

		munmap(p, mapped);
		return r;
	}
	/* Keeps the pages out of swap; root may, and a few pages are cheap. Best effort. */
	(void)mlock(p, mapped);
	*b = (struct secure_buf){ .data = p, .size = mapped };
	return 0;
}

void secure_buf_free(struct secure_buf *b)
{
	if (!b->data)
		return;
	explicit_bzero(b->data, b->size);
	(void)munlock(b->data, b->size);
	(void)munmap(b->data, b->size);
	*b = (struct secure_buf){};
}

__attribute__((noinline)) void secure_burn_stack(void)
{
	char buf[BURN_STACK_BYTES];

	explicit_bzero(buf, sizeof(buf));
	/* Keeps the compiler from dropping or shrinking the frame. */
	__asm__ volatile("" : : "r"(buf) : "memory");
}
