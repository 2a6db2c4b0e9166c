/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Memory for secret values: its own anonymous mapping, left out of core dumps
 * (MADV_DONTDUMP), locked in RAM when the host allows it, and cleared before it is
 * unmapped. Nothing else of airlock ever holds a value.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct secure_buf {
	uint8_t *data; /* NULL when not allocated */
	size_t size; /* bytes mapped (a multiple of the page size) */
	size_t len; /* bytes in use */
};

/*
 * Maps at least size bytes (size > 0). With wipe_on_fork, a forked or cloned child gets
 * zeroes there instead of a copy (MADV_WIPEONFORK): only the supervisor holds the value.
 * Returns 0 or -errno (-ENOMEM; -EINVAL when the kernel cannot keep it out of dumps).
 * Does not log.
 */
int secure_buf_alloc(struct secure_buf *b, size_t size, bool wipe_on_fork);
/* Clears (explicit_bzero) and unmaps b; accepts an unallocated one. */
void secure_buf_free(struct secure_buf *b);
/*
 * Clears a few KiB of stack below the caller, where a function that handled a secret
 * (a digest's message schedule) may have left copies.
 */
void secure_burn_stack(void);
