/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The normaliser: the text as the value matcher sees it. Removed: bytes up to 0x20 and
 * DEL (whitespace, newlines, controls), CSI and other ESC sequences (the text of OSC, DCS,
 * SOS, PM and APC strings is scanned on its own, see norm_region), invisible and spacing
 * characters (U+0080..U+00A0, U+00AD, U+2000..U+200F, U+2028..U+202F, U+205F..U+206F,
 * U+FEFF). Decoded: %XX, JSON escapes (\uXXXX with surrogate pairs, \" \\ \/, and \n \r
 * \t \b \f which then count as whitespace) and \xHH. A decoded byte or character is
 * removed when it is one of the removed ones above. Everything else passes.
 *
 * The input is cut into units (one byte, or an escape); a unit that may continue past
 * the end of the input is left for the next window unless final.
 */
#include <stdlib.h>
#include <string.h>

#include "redact-internal.h"
#include "redact-norm-pack.h"

#define NORM_CSI_MAX 64 /* ESC [ ... final: longer is not a sequence we remove whole */
#define NORM_NF_MAX 16
#define NORM_STRING_MAX 4096 /* OSC/DCS/...: longer is not a string we take as one unit */

const uint8_t norm_class[256] = {
	[0x1b] = NORM_SPECIAL,	     [0x21 ... 0x24] = NORM_KEEP, ['%'] = NORM_SPECIAL,
	[0x26 ... 0x5b] = NORM_KEEP, ['\\'] = NORM_SPECIAL,	  [0x5d ... 0x7e] = NORM_KEEP,
	[0x80 ... 0xc1] = NORM_KEEP, [0xc2] = NORM_SPECIAL,	  [0xc3 ... 0xe1] = NORM_KEEP,
	[0xe2] = NORM_SPECIAL,	     [0xe3 ... 0xee] = NORM_KEEP, [0xef] = NORM_SPECIAL,
	[0xf0 ... 0xff] = NORM_KEEP,
};

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Whether the first k bytes of p are hex digits. */
static bool all_hex(const uint8_t *p, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (hexval(p[i]) < 0)
			return false;
	return true;
}

static uint32_t hex_number(const uint8_t *p, size_t k)
{
	uint32_t v = 0;

	for (size_t i = 0; i < k; i++)
		v = v << 4 | (uint32_t)hexval(p[i]);
	return v;
}

static bool cp_removed(uint32_t cp)
{
	return cp < 0x21 || cp == 0x7f || (cp >= 0x80 && cp <= 0xa0) || cp == 0xad ||
	       (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f) ||
	       (cp >= 0x205f && cp <= 0x206f) || cp == 0xfeff;
}

static int unit(struct norm_unit *u, size_t len)
{
	*u = (struct norm_unit){ .len = len };
	return 1;
}

static int unit_literal(struct norm_unit *u, uint8_t c)
{
	unit(u, 1);
	u->out[0] = c;
	u->n_out = 1;
	return 1;
}

static int unit_byte(struct norm_unit *u, size_t len, uint8_t b)
{
	unit(u, len);
	if (b > 0x20 && b != 0x7f) {
		u->out[0] = b;
		u->n_out = 1;
	}
	return 1;
}

static int unit_cp(struct norm_unit *u, size_t len, uint32_t cp)
{
	unit(u, len);
	if (cp_removed(cp))
		return 1;
	if (cp < 0x80) {
		u->out[0] = cp;
		u->n_out = 1;
	} else if (cp < 0x800) {
		u->out[0] = 0xc0 | cp >> 6;
		u->out[1] = 0x80 | (cp & 0x3f);
		u->n_out = 2;
	} else if (cp < 0x10000) {
		u->out[0] = 0xe0 | cp >> 12;
		u->out[1] = 0x80 | ((cp >> 6) & 0x3f);
		u->out[2] = 0x80 | (cp & 0x3f);
		u->n_out = 3;
	} else {
		u->out[0] = 0xf0 | cp >> 18;
		u->out[1] = 0x80 | ((cp >> 12) & 0x3f);
		u->out[2] = 0x80 | ((cp >> 6) & 0x3f);
		u->out[3] = 0x80 | (cp & 0x3f);
		u->n_out = 4;
	}
	return 1;
}

static int norm_percent(const uint8_t *p, size_t avail, bool final, struct norm_unit *u)
{
	if (avail >= 3 && all_hex(p + 1, 2))
		return unit_byte(u, 3, hex_number(p + 1, 2));
	if (!final && avail < 3 && all_hex(p + 1, avail - 1))
		return 0;
	return unit_literal(u, p[0]);
}

/* "\uXXXX", or a surrogate pair "\uD8xx\uDCxx". */
static int norm_json_u(const uint8_t *p, size_t avail, bool final, struct norm_unit *u)
{
	uint32_t hi, lo;

	if (avail < 6 || !all_hex(p + 2, 4)) {
		if (!final && avail < 6 && all_hex(p + 2, avail - 2))
			return 0;
		return unit_literal(u, p[0]);
	}
	hi = hex_number(p + 2, 4);
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return unit_literal(u, p[0]);
	if (hi < 0xd800 || hi > 0xdbff)
		return unit_cp(u, 6, hi);

	if (avail < 12) {
		const uint8_t *q = p + 6;
		size_t k = avail - 6;

		if (!final && (k < 1 || q[0] == '\\') && (k < 2 || q[1] == 'u') &&
		    (k < 3 || all_hex(q + 2, k - 2)))
			return 0;
		return unit_literal(u, p[0]);
	}
	if (p[6] != '\\' || p[7] != 'u' || !all_hex(p + 8, 4))
		return unit_literal(u, p[0]);
	lo = hex_number(p + 8, 4);
	if (lo < 0xdc00 || lo > 0xdfff)
		return unit_literal(u, p[0]);
	return unit_cp(u, 12, 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
}

static int norm_backslash(const uint8_t *p, size_t avail, bool final, struct norm_unit *u)
{
	if (avail < 2)
		return final ? unit_literal(u, p[0]) : 0;

	switch (p[1]) {
	case 'u':
		return norm_json_u(p, avail, final, u);
	case 'x':
		if (avail >= 4 && all_hex(p + 2, 2))
			return unit_byte(u, 4, hex_number(p + 2, 2));
		if (!final && avail < 4 && all_hex(p + 2, avail - 2))
			return 0;
		return unit_literal(u, p[0]);
	case 'n':
	case 'r':
	case 't':
	case 'b':
	case 'f':
		return unit(u, 2);
	case '"':
	case '\\':
	case '/':
		return unit_byte(u, 2, p[1]);
	default:
		return unit_literal(u, p[0]);
	}
}

/* OSC, DCS, SOS, PM, APC: ESC x ... terminated by BEL or ESC \ (or cut by another ESC). */
static int norm_string(const uint8_t *p, size_t avail, bool final, struct norm_unit *u)
{
	size_t j, term = 0;

	for (j = 2; j < avail && j < NORM_STRING_MAX; j++) {
		if (p[j] == 0x07) {
			term = 1;
			break;
		}
		if (p[j] == 0x1b) {
			if (j + 1 == avail)
				break;
			term = p[j + 1] == '\\' ? 2 : 0;
			break;
		}
	}
	if (j < avail && j < NORM_STRING_MAX) {
		unit(u, j + term);
		u->content_off = 2;
		u->content_len = j - 2;
		return 1;
	}
	if (!final && j < NORM_STRING_MAX)
		return 0;
	return unit(u, 2); /* unterminated: only the introducer goes */
}

static int norm_escape(const uint8_t *p, size_t avail, bool final, struct norm_unit *u)
{
	size_t j;

	if (avail < 2)
		return final ? unit(u, 1) : 0;

	switch (p[1]) {
	case '[':
		for (j = 2; j < avail && j < NORM_CSI_MAX && p[j] >= 0x20 && p[j] <= 0x3f; j++)
			;
		if (j == avail && !final && j < NORM_CSI_MAX)
			return 0;
		return unit(u, j < avail && p[j] >= 0x40 && p[j] <= 0x7e ? j + 1 : j);
	case ']':
	case 'P':
	case 'X':
	case '^':
	case '_':
		return norm_string(p, avail, final, u);
	default:
		break;
	}
	if (p[1] >= 0x20 && p[1] <= 0x2f) { /* nF: intermediates, then a final byte */
		for (j = 2; j < avail && j < NORM_NF_MAX && p[j] >= 0x20 && p[j] <= 0x2f; j++)
			;
		if (j == avail && !final && j < NORM_NF_MAX)
			return 0;
		return unit(u, j < avail && p[j] >= 0x30 && p[j] <= 0x7e ? j + 1 : j);
	}
	if (p[1] >= 0x30 && p[1] <= 0x7e)
		return unit(u, 2);
	return unit(u, 1);
}

/* 0xc2, 0xe2, 0xef: the UTF-8 of a removed character, or a byte like any other. */
static int norm_utf8(const uint8_t *p, size_t avail, bool final, struct norm_unit *u)
{
	uint8_t b1 = avail > 1 ? p[1] : 0, b2 = avail > 2 ? p[2] : 0;

	switch (p[0]) {
	case 0xc2:
		if (avail < 2)
			return final ? unit_literal(u, p[0]) : 0;
		if (b1 >= 0x80 && (b1 <= 0xa0 || b1 == 0xad))
			return unit(u, 2);
		break;
	case 0xe2:
		if (avail < 3 && !final && (avail == 1 || b1 == 0x80 || b1 == 0x81))
			return 0;
		if (avail >= 3 && b1 == 0x80 &&
		    ((b2 >= 0x80 && b2 <= 0x8f) || (b2 >= 0xa8 && b2 <= 0xaf)))
			return unit(u, 3);
		if (avail >= 3 && b1 == 0x81 && b2 >= 0x9f && b2 <= 0xaf)
			return unit(u, 3);
		break;
	default: /* 0xef */
		if (avail < 3 && !final && (avail == 1 || b1 == 0xbb))
			return 0;
		if (avail >= 3 && b1 == 0xbb && b2 == 0xbf)
			return unit(u, 3);
		break;
	}
	return unit_literal(u, p[0]);
}

int norm_unit_special(const uint8_t *p, size_t avail, bool final, struct norm_unit *u)
{
	switch (p[0]) {
	case 0x1b:
		return norm_escape(p, avail, final, u);
	case '%':
		return norm_percent(p, avail, final, u);
	case '\\':
		return norm_backslash(p, avail, final, u);
	default:
		return norm_utf8(p, avail, final, u);
	}
}

static int region_push(struct norm_result *res, size_t start, size_t end)
{
	if (res->n_regions == res->cap_regions) {
		size_t cap = res->cap_regions ? res->cap_regions * 2 : 8;
		struct norm_region *v = realloc(res->regions, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		res->regions = v;
		res->cap_regions = cap;
	}
	res->regions[res->n_regions++] = (struct norm_region){ start, end };
	return 0;
}

static int mark_push(struct norm_result *res, size_t i, size_t m)
{
	if (res->n_marks == res->cap_marks) {
		size_t cap = res->cap_marks ? res->cap_marks * 2 : 64;
		struct norm_mark *v = realloc(res->marks, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		res->marks = v;
		res->cap_marks = cap;
	}
	res->marks[res->n_marks++] = (struct norm_mark){ i, m };
	return 0;
}

void norm_result_done(struct norm_result *res)
{
	free(res->regions);
	free(res->marks);
	*res = (struct norm_result){};
}

typedef uint8_t v16 __attribute__((vector_size(16)));
typedef uint64_t v2u64 __attribute__((vector_size(16)));

/* The bit mask of the bytes of an 8-byte lane that are 0xff (the others are 0). */
static unsigned lane_mask(uint64_t w)
{
	return ((w & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56;
}

/*
 * Normalises 16 bytes at in with no NORM_SPECIAL among them into out + m (16 bytes of room
 * past the result), dropping the NORM_DROP ones with one shuffle. Returns the new m, or
 * SIZE_MAX (nothing written) when a special byte is there.
 */
static inline __attribute__((always_inline)) size_t block16(const uint8_t *in, uint8_t *out,
							    size_t m)
{
	v16 v, special, drop, idx;
	uint64_t w[2], ilo, ihi;
	unsigned lo, hi;

	memcpy(&v, in, sizeof(v));
	/* Bytes from 0x80 go the slow way too: one compare for 0xc2, 0xe2 and 0xef. */
	special = (v16)(v == 0x1b) | (v16)(v == '%') | (v16)(v == '\\') | (v16)(v >= 0x80);
	memcpy(w, &special, sizeof(w));
	if (w[0] | w[1])
		return SIZE_MAX;
	/* No branch on whether anything is dropped: it would be a coin toss in text. */
	drop = (v16)(v <= 0x20) | (v16)(v == 0x7f);
	memcpy(w, &drop, sizeof(w));
	lo = ~lane_mask(w[0]) & 0xff;
	hi = ~lane_mask(w[1]) & 0xff;
	memcpy(&ilo, norm_pack[lo], 8);
	memcpy(&ihi, norm_pack[hi], 8);
	idx = (v16)(v2u64){ ilo, ihi + 0x0808080808080808ull }; /* no trip through memory */
	v = __builtin_shuffle(v, idx);
	memcpy(out + m, &v, 8);
	m += __builtin_popcount(lo);
	memcpy(out + m, (uint8_t *)&v + 8, 8);
	return m + __builtin_popcount(hi);
}

/* x86-64's baseline (SSE2) has no byte shuffle nor popcnt: the x86-64-v2 clone (SSSE3's
 * pshufb, popcnt) is picked at load time where the CPU has them. arm64 has tbl always. */
#if defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v2", "default")))
#endif
int norm_run(const uint8_t *in, size_t n, bool final, uint8_t *out, struct norm_result *res)
{
	size_t i = 0, m = 0, mark = 0;

	res->n_regions = 0;
	res->n_marks = 0;
	while (i < n) {
		size_t stop = n - i > NORM_MARK_EVERY ? i + NORM_MARK_EVERY : n, next;
		struct norm_unit u;

		if (i >= mark) {
			if (mark_push(res, i, m) < 0)
				return -ENOMEM;
			mark = i + NORM_MARK_EVERY;
		}
		while (i + 16 <= stop && (next = block16(in + i, out, m)) != SIZE_MAX) {
			m = next;
			i += 16;
		}
		/* Up to the special byte (in the next 16) or the stop: a store per byte, kept
		 * or not, and no branch but the class. */
		for (size_t end = i + 16 < stop ? i + 16 : stop; i < end; i++) {
			uint8_t c = in[i], k = norm_class[c];

			if (k == NORM_SPECIAL)
				break;
			out[m] = c;
			m += k;
		}
		if (i == stop || norm_class[in[i]] != NORM_SPECIAL)
			continue;
		if (!norm_unit_special(in + i, n - i, final, &u))
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

/* Walks the units of in[from..n) with i (declared by the caller) at each unit's start:
 * the common loop of the walkers. After it, i is where a unit that may continue starts. */
#define NORM_WALK(in, from, n, final, i, u, body)                              \
	for (i = (from); i < (n);) {                                           \
		struct norm_unit u;                                            \
		if (norm_class[(in)[i]] != NORM_SPECIAL) {                     \
			u = (struct norm_unit){ .len = 1 };                    \
			if (norm_class[(in)[i]] == NORM_KEEP) {                \
				u.out[0] = (in)[i];                            \
				u.n_out = 1;                                   \
			}                                                      \
		} else if (!norm_unit_special((in) + i, (n)-i, (final), &u)) { \
			break;                                                 \
		}                                                              \
		body;                                                          \
		i += u.len;                                                    \
	}

/* The last mark at or before normalised offset m (by == 'm') or input offset i. */
static const struct norm_mark *mark_find(const struct norm_result *res, size_t v, bool by_m)
{
	size_t lo = 0, hi = res->n_marks;

	if (hi == 0)
		return &(const struct norm_mark){ 0, 0 };
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if ((by_m ? res->marks[mid].m : res->marks[mid].i) <= v)
			lo = mid;
		else
			hi = mid;
	}
	return &res->marks[lo];
}

void norm_map(const uint8_t *in, size_t n, bool final, const struct norm_result *res,
	      struct norm_query *q, size_t n_q)
{
	size_t k = 0;

	while (k < n_q) {
		/* From the last mark before the next query: the queries near it are answered
		 * on the way; one far ahead is reached by a jump to its own mark. */
		const struct norm_mark *mk = mark_find(res, q[k].index, true);
		size_t i, m = mk->m;
		bool jump = false;

		NORM_WALK(in, mk->i, n, final, i, u, {
			bool answered = false;

			for (size_t o = 0; o < u.n_out; o++, m++)
				for (; k < n_q && q[k].index == m; k++) {
					*q[k].ret_start = i;
					*q[k].ret_end = i + u.len;
					answered = true;
				}
			if (k == n_q)
				return;
			if (answered && mark_find(res, q[k].index, true)->i > i + u.len) {
				jump = true;
				break;
			}
		});
		if (!jump)
			return; /* the input ended before the rest of the queries */
	}
}

size_t norm_count(const uint8_t *in, const struct norm_result *res, size_t x)
{
	const struct norm_mark *mk = mark_find(res, x, false);
	size_t i, m = mk->m;

	NORM_WALK(in, mk->i, x, false, i, u, { m += u.n_out; });
	return m;
}

size_t norm_unit_floor(const uint8_t *in, size_t n, const struct norm_result *res, size_t x)
{
	size_t i;

	NORM_WALK(in, mark_find(res, x, false)->i, n, false, i, u, {
		if (i + u.len > x)
			return i;
	});
	return i < x ? i : x;
}

size_t norm_value(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i, m = 0;

	NORM_WALK(in, 0, n, true, i, u, {
		memcpy(out + m, u.out, u.n_out);
		m += u.n_out;
	});
	return m;
}
