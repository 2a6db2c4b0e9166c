/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The body of norm_run() (redact-internal.h), included by redact-norm.c once per way of
 * doing 16 bytes at a time: NORM_RUN_NAME is the function to define, NORM_RUN_ATTR its
 * attributes (the CPU features it may use), NORM_BLOCK the block16_*() it inlines, or,
 * with NORM_BLOCK_UPTO defined (its block size), a block*_upto() that normalises up to
 * the first special byte and returns the bytes it used. No
 * include guard: that is the point.
 */

static NORM_RUN_ATTR int NORM_RUN_NAME(const uint8_t *in, size_t n, bool final, uint8_t *out,
				       struct norm_result *res)
{
	size_t i = 0, m = 0, mark = 0;

	res->n_regions = 0;
	res->n_marks = 0;
	while (i < n) {
		size_t stop = n - i > NORM_MARK_EVERY ? i + NORM_MARK_EVERY : n;
		struct norm_unit u;

		if (i >= mark) {
			if (mark_push(res, i, m) < 0)
				return -ENOMEM;
			mark = i + NORM_MARK_EVERY;
		}
#ifdef NORM_BLOCK_UPTO
		/* Whole blocks, then the one a special byte is in up to that byte; the last
		 * may end past the stop (a block's bytes are units of one byte each). */
		while (i + NORM_BLOCK_UPTO <= n && i < stop) {
			size_t used = NORM_BLOCK(in + i, out, &m);

			i += used;
			if (used < NORM_BLOCK_UPTO)
				break;
		}
#else
		for (size_t next;
		     i + 16 <= stop && (next = NORM_BLOCK(in + i, out, m)) != SIZE_MAX;) {
			m = next;
			i += 16;
		}
#endif
		/* Up to the special byte (in the next 16) or the stop: a store per byte, kept
		 * or not, and no branch but the class. */
		for (size_t end = i + 16 < stop ? i + 16 : stop; i < end; i++) {
			uint8_t c = in[i], k = norm_class[c];

			if (k == NORM_SPECIAL)
				break;
			out[m] = c;
			m += k;
		}
		if (i >= stop || norm_class[in[i]] != NORM_SPECIAL)
			continue;
		if (!norm_unit_special(in + i, res->pre + i, n - i, final, &u))
			break;
		memcpy(out + m, u.out, u.n_out);
		m += u.n_out;
		if (u.content_len > 0 &&
		    region_push(res, i + u.content_off, i + u.content_off + u.content_len) < 0)
			return -ENOMEM;
		i += u.len;
	}
	res->m = m;
	res->consumed = i;
	return 0;
}

#undef NORM_RUN_NAME
#undef NORM_RUN_ATTR
#undef NORM_BLOCK
#undef NORM_BLOCK_UPTO
