/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The normaliser: the text as the value matcher sees it. Removed: bytes up to 0x20 and
 * DEL (whitespace, newlines, controls), CSI and other ESC sequences (the text of OSC, DCS,
 * SOS, PM and APC strings is scanned on its own, see norm_region), invisible and spacing
 * characters (U+0080..U+00A0, U+00AD, U+2000..U+200F, U+2028..U+202F, U+205F..U+206F,
 * U+FEFF). Decoded: %XX, JSON escapes (\uXXXX with surrogate pairs, \" \\ \/, and \n \r
 * \t \b \f which then count as whitespace), \xHH, a backslash before any other ASCII
 * punctuation or a space (a shell's or Python's quoting: \' \$ \& "\ " read as the
 * character), and the shell's quote splice '\'' (the \'' after a quote reads as nothing).
 * A decoded byte or character is removed when it is one of the removed ones above.
 * Everything else passes.
 *
 * The input is cut into units (one byte, or an escape); a unit that may continue past
 * the end of the input is left for the next window unless final.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "redact-internal.h"
#include "redact-norm-pack.h"
#include "simd.h"

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

/*
 * A backslash: the JSON and C escapes, a shell's or Python's quoted punctuation or space
 * ("\'", "\ ", "\$": the character), and the shell's quote splice: "'\''" (a single
 * quote in a single-quoted word) reads as the one quote before it, so "'O'\''Brien'"
 * is "'O'Brien'". before: the bytes of the input before p (the quote is looked for there).
 */
static int norm_backslash(const uint8_t *p, size_t before, size_t avail, bool final,
			  struct norm_unit *u)
{
	if (avail < 2)
		return final ? unit_literal(u, p[0]) : 0;
	if (p[1] == '\'' && before > 0 && p[-1] == '\'') {
		if (avail < 3)
			return final ? unit_byte(u, 2, p[1]) : 0;
		if (p[2] == '\'')
			return unit(u, 3);
	}

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
	default:
		/* Punctuation and space: '"', '\\', '/' of JSON, the rest quoted. */
		if (p[1] == ' ' || (p[1] > 0x20 && p[1] < 0x7f && !isalnum(p[1])))
			return unit_byte(u, 2, p[1]);
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

int norm_unit_special(const uint8_t *p, size_t before, size_t avail, bool final,
		      struct norm_unit *u)
{
	switch (p[0]) {
	case 0x1b:
		return norm_escape(p, avail, final, u);
	case '%':
		return norm_percent(p, avail, final, u);
	case '\\':
		return norm_backslash(p, before, avail, final, u);
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

/*
 * block16_*(): normalise 16 bytes at in, none of them NORM_SPECIAL, into out + m (with 16
 * bytes of room past the result): the NORM_DROP bytes go with one shuffle (the table in
 * redact-norm-pack.h), and no branch on whether any does, a coin toss in text. They
 * return the new m, or SIZE_MAX (nothing written) when a byte needs the slow way: ESC,
 * '%', '\\', or one from 0x80 (one test for 0xc2, 0xe2, 0xef).
 */
#if defined(__x86_64__)
#include <immintrin.h>

#define X86_SIMD __attribute__((target("ssse3,popcnt")))

static inline X86_SIMD size_t block16_ssse3(const uint8_t *in, uint8_t *out, size_t m)
{
	__m128i v = _mm_loadu_si128((const __m128i *)in), special, drop, idx;
	unsigned keep, lo, hi;
	uint64_t ilo, ihi;

	special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x1b)),
					    _mm_cmpeq_epi8(v, _mm_set1_epi8('%'))),
			       _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
	if (_mm_movemask_epi8(special) | _mm_movemask_epi8(v))
		return SIZE_MAX;
	drop = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
	keep = ~(unsigned)_mm_movemask_epi8(drop) & 0xffff;
	lo = keep & 0xff;
	hi = keep >> 8;
	memcpy(&ilo, norm_pack[lo], 8);
	memcpy(&ihi, norm_pack[hi], 8);
	idx = _mm_set_epi64x((long long)(ihi + 0x0808080808080808ull), (long long)ilo);
	v = _mm_shuffle_epi8(v, idx);
	_mm_storel_epi64((__m128i *)(out + m), v);
	m += __builtin_popcount(lo);
	_mm_storel_epi64((__m128i *)(out + m), _mm_unpackhi_epi64(v, v));
	return m + __builtin_popcount(hi);
}

#define NORM_RUN_NAME norm_run_ssse3
#define NORM_RUN_ATTR X86_SIMD
#define NORM_BLOCK block16_ssse3
#include "redact-norm-run.h"

/*
 * The same 64 bytes at a time with AVX-512 (VBMI2's byte compress in place of the table),
 * and a block with a special byte normalised up to it rather than byte by byte: returns
 * the bytes used (64, or the offset of the first special byte it leaves), *m advanced.
 * Stores 64 bytes at out + *m whatever it keeps (NORM_ROOM).
 *
 * The specials of build output are taken in the block when the whole unit is in it, as
 * norm_unit_special() takes them: a CSI sequence (ESC [ parameters final: colours) is
 * dropped, a '%' not followed by two hex digits is kept; and bytes from 0x80 other than
 * 0xc2, 0xe2 and 0xef are kept without a test. Any other special ends the block.
 */
/*
 * The bytes of the CSI sequences (ESC [ parameters 0x20-0x3f, a final 0x40-0x7e) that
 * lie whole in the block, from the masks of its ESC, '[', parameter and final bytes; only
 * those before the first that is not one (its ESC stays special and ends the block).
 * Without a branch per sequence: the carry of adding each sequence's first parameter
 * position to the parameter mask runs to where its parameters end.
 */
#define X86_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi2,bmi,popcnt")))

static inline uint64_t csi_spans(uint64_t esc, uint64_t open, uint64_t param, uint64_t final)
{
	uint64_t start = esc & open >> 1 & ((1ull << 62) - 1), end, bad, below;
	unsigned __int128 spans;

	if (!start)
		return 0;
	end = (param + (start << 2)) & ~param; /* a carry out of the block is lost */
	if (__builtin_popcountll(end) < __builtin_popcountll(start)) /* the last one's was */
		start &= ~(1ull << (63 - __builtin_clzll(start)));
	spans = ((unsigned __int128)end << 1) - start; /* each start's bits up to its end */
	bad = end & ~final;
	if (!bad)
		return (uint64_t)spans;
	below = start & ((bad & -bad) - 1); /* the bad end's start is the last of these */
	return (uint64_t)spans & ((1ull << (63 - __builtin_clzll(below))) - 1);
}

static inline X86_AVX512 size_t block64_upto_avx512(const uint8_t *in, uint8_t *out, size_t *m)
{
	__m512i v = _mm512_loadu_si512(in);
	__mmask64 special, drop, keep, esc, pct, hex, csi;
	size_t used = 64;

	esc = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(0x1b));
	pct = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('%'));
	special = esc | pct | _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')) |
		  _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)0xc2)) |
		  _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)0xe2)) |
		  _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8((char)0xef));
	drop = _mm512_cmple_epu8_mask(v, _mm512_set1_epi8(0x20)) |
	       _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(0x7f));
	if (special) {
		/* A '%' (before the last two bytes) not followed by two hex digits: a literal. */
		hex = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')),
					     _mm512_set1_epi8(9)) |
		      _mm512_cmple_epu8_mask(
			      _mm512_sub_epi8(_mm512_or_si512(v, _mm512_set1_epi8(0x20)),
					      _mm512_set1_epi8('a')),
			      _mm512_set1_epi8(5));
		special &= ~(pct & ~(hex >> 1 & hex >> 2) & ((1ull << 62) - 1));
		/* A special inside a CSI sequence is part of it. */
		csi = csi_spans(esc, _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('[')),
				_mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8(0x20)),
						       _mm512_set1_epi8(0x1f)),
				_mm512_cmple_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8(0x40)),
						       _mm512_set1_epi8(0x3e)));
		special &= ~csi;
		drop |= csi;
	}
	keep = ~drop;
	if (special) {
		used = (size_t)__builtin_ctzll(special);
		keep &= (special & -special) - 1; /* the bytes before the first special one */
	}
	_mm512_storeu_si512(out + *m, _mm512_maskz_compress_epi8(keep, v));
	*m += (size_t)__builtin_popcountll(keep);
	return used;
}

#define NORM_RUN_NAME norm_run_avx512
#define NORM_RUN_ATTR X86_AVX512
#define NORM_BLOCK block64_upto_avx512
#define NORM_BLOCK_UPTO 64
#include "redact-norm-run.h"

#elif defined(__aarch64__)
#include <arm_neon.h>

/* The bit mask of the bytes of an 8-byte lane that are 0xff (the others are 0). */
static inline unsigned lane_mask(uint64_t w)
{
	return ((w & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56;
}

static inline size_t block16_neon(const uint8_t *in, uint8_t *out, size_t m)
{
	uint8x16_t v = vld1q_u8(in), special, drop, idx;
	unsigned lo, hi;

	special = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8(0x1b)), vceqq_u8(v, vdupq_n_u8('%'))),
			   vorrq_u8(vceqq_u8(v, vdupq_n_u8('\\')), vcgeq_u8(v, vdupq_n_u8(0x80))));
	if (vmaxvq_u8(special))
		return SIZE_MAX;
	drop = vorrq_u8(vcleq_u8(v, vdupq_n_u8(0x20)), vceqq_u8(v, vdupq_n_u8(0x7f)));
	lo = ~lane_mask(vgetq_lane_u64(vreinterpretq_u64_u8(drop), 0)) & 0xff;
	hi = ~lane_mask(vgetq_lane_u64(vreinterpretq_u64_u8(drop), 1)) & 0xff;
	idx = vcombine_u8(vld1_u8(norm_pack[lo]), vadd_u8(vld1_u8(norm_pack[hi]), vdup_n_u8(8)));
	v = vqtbl1q_u8(v, idx);
	vst1_u8(out + m, vget_low_u8(v));
	m += __builtin_popcount(lo);
	vst1_u8(out + m, vget_high_u8(v));
	return m + __builtin_popcount(hi);
}

#define NORM_RUN_NAME norm_run_neon
#define NORM_RUN_ATTR
#define NORM_BLOCK block16_neon
#include "redact-norm-run.h"
#endif

/* Elsewhere (and on an x86-64 without SSSE3): byte by byte. */
static inline size_t block16_none(const uint8_t *in, uint8_t *out, size_t m)
{
	return SIZE_MAX;
}

#define NORM_RUN_NAME norm_run_plain
#define NORM_RUN_ATTR
#define NORM_BLOCK block16_none
#include "redact-norm-run.h"

int norm_run(const uint8_t *in, size_t n, bool final, uint8_t *out, struct norm_result *res)
{
	enum simd_level level = simd_level();

	(void)level;
#if defined(__x86_64__)
	if (level >= SIMD_AVX512)
		return norm_run_avx512(in, n, final, out, res);
	if (level >= SIMD_VEC128) /* no AVX2 variant: SSSE3's 16 bytes at a time */
		return norm_run_ssse3(in, n, final, out, res);
#elif defined(__aarch64__)
	if (level >= SIMD_VEC128)
		return norm_run_neon(in, n, final, out, res);
#endif
	return norm_run_plain(in, n, final, out, res);
}

/* Walks the units of in[from..n) (pre bytes before in readable) with i (declared by the
 * caller) at each unit's start: the common loop of the walkers. After it, i is where a
 * unit that may continue starts. */
#define NORM_WALK(in, pre, from, n, final, i, u, body)                                    \
	for (i = (from); i < (n);) {                                                      \
		struct norm_unit u;                                                       \
		if (norm_class[(in)[i]] != NORM_SPECIAL) {                                \
			u = (struct norm_unit){ .len = 1 };                               \
			if (norm_class[(in)[i]] == NORM_KEEP) {                           \
				u.out[0] = (in)[i];                                       \
				u.n_out = 1;                                              \
			}                                                                 \
		} else if (!norm_unit_special((in) + i, (pre) + i, (n)-i, (final), &u)) { \
			break;                                                            \
		}                                                                         \
		body;                                                                     \
		i += u.len;                                                               \
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

		NORM_WALK(in, res->pre, mk->i, n, final, i, u, {
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

	/* Over the whole input norm_run() used, not up to x: a unit ending at x may need the
	 * bytes after it to be told from a longer one ("%" then "s"). */
	NORM_WALK(in, res->pre, mk->i, res->consumed, false, i, u, {
		if (i >= x)
			break;
		m += u.n_out;
	});
	return m;
}

size_t norm_unit_floor(const uint8_t *in, size_t n, const struct norm_result *res, size_t x)
{
	size_t i;

	NORM_WALK(in, res->pre, mark_find(res, x, false)->i, n, false, i, u, {
		if (i + u.len > x)
			return i;
	});
	return i < x ? i : x;
}

size_t norm_value(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i, m = 0;

	NORM_WALK(in, 0, 0, n, true, i, u, {
		memcpy(out + m, u.out, u.n_out);
		m += u.n_out;
	});
	return m;
}
