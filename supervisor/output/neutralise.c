/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "neutralise.h"
#include "simd.h"

/* 1: passes unchanged on its own (printable ASCII, tab, newline, carriage return). */
static const uint8_t plain[256] = {
	['\t'] = 1,
	['\n'] = 1,
	['\r'] = 1,
	[0x20 ... 0x7e] = 1,
};

static const char hexdigit[] = "0123456789abcdef";

/* k / 4 at k: spreads 16 bytes to 4 slots each (block64_ascii()). */
static const uint8_t spread4[64] = {
	0,  0,	0,  0,	1,  1,	1,  1,	2,  2,	2,  2,	3,  3,	3,  3,	4,  4,	4,  4,	5,  5,
	5,  5,	6,  6,	6,  6,	7,  7,	7,  7,	8,  8,	8,  8,	9,  9,	9,  9,	10, 10, 10, 10,
	11, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15,
};

typedef int8_t v32s __attribute__((vector_size(32)));
typedef int8_t v16s __attribute__((vector_size(16)));

/* Each byte of v: all ones where it is plain. Signed: 0x20..0x7f are above 0x1f, bytes
 * from 0x80 below. A macro for both vector widths. */
#define PLAIN_MASK(vt, v)                                                                  \
	(((vt)((v) > 0x1f) & ~(vt)((v) == 0x7f)) | (vt)((v) == '\n') | (vt)((v) == '\t') | \
	 (vt)((v) == '\r'))

/*
 * Tests the 32 bytes at p, stored to out as they are, into w (a byte of all ones per plain
 * byte). wide: as one 32-byte vector (AVX2 and up); else as two 16-byte ones (SSE2, NEON):
 * GCC lowers a 32-byte vector compare for a 16-byte unit to one compare per byte.
 */
static inline __attribute__((always_inline)) void block32(const uint8_t *p, char *out,
							  uint64_t w[4], bool wide)
{
	if (wide) {
		v32s v, ok;

		memcpy(&v, p, sizeof(v));
		memcpy(out, &v, sizeof(v));
		ok = PLAIN_MASK(v32s, v);
		memcpy(w, &ok, sizeof(ok));
	} else {
		v16s lo, hi, ok_lo, ok_hi;

		memcpy(&lo, p, sizeof(lo));
		memcpy(&hi, p + 16, sizeof(hi));
		memcpy(out, &lo, sizeof(lo));
		memcpy(out + 16, &hi, sizeof(hi));
		ok_lo = PLAIN_MASK(v16s, lo);
		ok_hi = PLAIN_MASK(v16s, hi);
		memcpy(w, &ok_lo, sizeof(ok_lo));
		memcpy(w + 2, &ok_hi, sizeof(ok_hi));
	}
}

/*
 * Copies the run of plain bytes at p[0..n) to out and returns its length. With blocks, a
 * whole 32-byte block is stored as it is tested (block32()), also the block the run ends
 * in: out must have room for n bytes (neutralise_feed's bound is far more), and the bytes
 * stored past the run are overwritten by what follows it. The rest, one byte at a time.
 */
static inline __attribute__((always_inline)) size_t
plain_copy_body(const uint8_t *p, size_t n, char *out, bool blocks, bool wide)
{
	size_t i = 0;

	for (; blocks && i + 32 <= n; i += 32) {
		uint64_t w[4];

		block32(p + i, out + i, w, wide);
		if ((w[0] & w[1] & w[2] & w[3]) == ~0ull)
			continue;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		for (int k = 0;; k++) /* the first byte that is not plain */
			if (w[k] != ~0ull)
				return i + 8 * (size_t)k + (size_t)__builtin_ctzll(~w[k]) / 8;
#else
		break;
#endif
	}
	for (; i < n && plain[p[i]]; i++)
		out[i] = (char)p[i];
	return i;
}

static size_t put_byte_escape(char *out, uint8_t b)
{
	const char esc[4] = { '\\', 'x', hexdigit[b >> 4], hexdigit[b & 15] };

	memcpy(out, esc, 4); /* one store */
	return 4;
}

static size_t put_cp_escape(char *out, uint32_t cp)
{
	out[0] = '\\';
	out[1] = 'u';
	out[2] = hexdigit[(cp >> 12) & 15];
	out[3] = hexdigit[(cp >> 8) & 15];
	out[4] = hexdigit[(cp >> 4) & 15];
	out[5] = hexdigit[cp & 15];
	return 6;
}

/*
 * The well-formed UTF-8 sequence at p (RFC 3629, table 3-7 of Unicode): its length, with
 * *cp set; 0 when the avail bytes are a valid but incomplete prefix; -1 when p[0] does not
 * start a well-formed sequence.
 */
static inline __attribute__((always_inline)) int utf8_sequence(const uint8_t *p, size_t avail,
							       uint32_t *cp)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	int len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return -1;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;

	*cp = c & (0x7f >> len);
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= avail)
			return 0;
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf))
			return -1;
		*cp = (*cp << 6) | (p[i] & 0x3f);
	}
	return len;
}

static inline bool cp_is_hidden_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Renders the byte at p that is not plain (with the rest of its UTF-8 sequence, avail bytes
 * at most) at out, *written set. Returns the bytes of p used; 0, with nothing written, when
 * they are a valid but incomplete UTF-8 prefix and not final: the caller holds them.
 */
static inline __attribute__((always_inline)) size_t special(struct neutralise *nz, const uint8_t *p,
							    size_t avail, bool final, char *out,
							    size_t *written)
{
	uint32_t cp;
	int len = p[0] < 0x80 ? -1 : utf8_sequence(p, avail, &cp);

	if (len == 0 && !final)
		return 0;
	if (len <= 0) {
		*written = put_byte_escape(out, p[0]);
		nz->escaped++;
		return 1;
	}
	if (cp_is_hidden_control(cp)) {
		*written = put_cp_escape(out, cp);
		nz->escaped++;
	} else {
		/* As one store where the 4 bytes are there to read (out has room for them). */
		if (avail >= 4)
			memcpy(out, p, 4);
		else
			memcpy(out, p, len);
		*written = len;
	}
	return len;
}

/*
 * Neutralises p[0..n). An incomplete UTF-8 sequence at the end is left unconsumed unless
 * final. Returns the bytes written; *consumed is how much of p was used. out has room
 * for 4 * n bytes: every byte used writes 4 at most (a C1 control's 2 bytes write 6).
 * The levels' variants below differ only in how it is compiled (simd_level()).
 */
static inline __attribute__((always_inline)) size_t
process_body(struct neutralise *nz, const uint8_t *p, size_t n, bool final, char *out,
	     size_t *consumed, bool blocks, bool wide)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t run = plain_copy_body(p + i, n - i, out + o, blocks, wide), used, w;

		o += run;
		i += run;
		if (i == n)
			break;
		used = special(nz, p + i, n - i, final, out + o, &w);
		if (!used)
			break;
		i += used;
		o += w;
	}
	*consumed = i;
	return o;
}

typedef size_t process_fn(struct neutralise *nz, const uint8_t *p, size_t n, bool final, char *out,
			  size_t *consumed);

static size_t process_bytes(struct neutralise *nz, const uint8_t *p, size_t n, bool final,
			    char *out, size_t *consumed)
{
	return process_body(nz, p, n, final, out, consumed, false, false);
}

static size_t process_vec(struct neutralise *nz, const uint8_t *p, size_t n, bool final, char *out,
			  size_t *consumed)
{
	return process_body(nz, p, n, final, out, consumed, true, false);
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("arch=x86-64-v3"))) static size_t process_v3(struct neutralise *nz,
								   const uint8_t *p, size_t n,
								   bool final, char *out,
								   size_t *consumed)
{
	return process_body(nz, p, n, final, out, consumed, true, true);
}

#define X86_AVX512 __attribute__((target("arch=x86-64-v4,avx512vbmi2")))

/*
 * A bit per byte of v that is not plain. v - 0x7f is 0xa1 and above (unsigned) exactly
 * for printable ASCII; of the rest, tab, newline and carriage return are the bytes the
 * shuffle maps onto themselves (a byte from 0x80 maps to 0, one below 0x80 to its low
 * nibble's entry, which is that byte only for those three).
 */
static inline X86_AVX512 uint64_t not_plain64(__m512i v)
{
	const __m512i own = _mm512_broadcast_i32x4(_mm_setr_epi8(-128, -128, -128, -128, -128, -128,
								 -128, -128, -128, '\t', '\n', -128,
								 -128, '\r', -128, -128));
	__mmask64 odd = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8(0x7f)),
					       _mm512_set1_epi8((char)0xa1));

	return _mm512_mask_cmpneq_epi8_mask(odd, _mm512_shuffle_epi8(own, v), v);
}

/*
 * The not-plain bytes of the block at p[0..len) (len 1..64, a bit per byte in live), the
 * first at bit j of sp, rendered in place: the block is already at out + *o as it was
 * read. After each, the block's rest is stored again where it now goes, and the next is
 * found from sp without a new test. *used: the bytes of p used (past the block when a
 * UTF-8 sequence runs over its end), *o advanced. False when the sequence at *used is
 * to be held (special()).
 */
static inline X86_AVX512 bool block64_specials(struct neutralise *nz, const uint8_t *p,
					       size_t avail, bool final, char *out, size_t *o,
					       uint64_t sp, size_t len, size_t *used)
{
	uint64_t live = _bzhi_u64(~0ull, (unsigned)len);
	size_t s = 0, j, k, w;

	for (;;) {
		j = (size_t)__builtin_ctzll(sp);
		*o += j - s; /* p[s..j) is in place */
		k = special(nz, p + j, avail - j, final, out + *o, &w);
		*used = j + k;
		if (!k)
			return false;
		*o += w;
		s = j + k;
		if (s >= len)
			return true;
		if (w == k) /* UTF-8 as it is: the rest is in place */
			;
		else if (avail - s >= 64) /* room for 4 * 64 */
			_mm512_storeu_si512(out + *o, _mm512_loadu_si512(p + s));
		else
			_mm512_mask_storeu_epi8(out + *o, live >> s,
						_mm512_maskz_loadu_epi8(live >> s, p + s));
		sp &= ~0ull << s;
		if (!sp) {
			*o += len - s;
			*used = len;
			return true;
		}
	}
}

/*
 * 16 bytes (in each lane of x; a bit per not-plain one in sp16, all ASCII) rendered: each
 * byte spread to 4 slots, filled as its escape would be ('\\' or the byte, 'x', two hex
 * digits), and compressed to the slots kept (the first of a plain byte, all four of an
 * escaped one). The first 16 + 3 * popcount(sp16) bytes of the result are the output.
 */
static inline X86_AVX512 __m512i escape16(__m512i x, uint64_t sp16)
{
	const uint64_t first = 0x1111111111111111ull;
	const __m512i hex = _mm512_broadcast_i32x4(_mm_loadu_si128((const void *)hexdigit)),
		      nib = _mm512_set1_epi8(15);
	uint64_t esc = _pdep_u64(sp16, first) * 15; /* the 4 slots of each escaped byte */

	x = _mm512_shuffle_epi8(x, _mm512_loadu_si512(spread4));
	x = _mm512_mask_mov_epi8(
		x, first << 2,
		_mm512_shuffle_epi8(hex, _mm512_and_si512(_mm512_srli_epi16(x, 4), nib)));
	x = _mm512_mask_mov_epi8(x, first << 3, _mm512_shuffle_epi8(hex, _mm512_and_si512(x, nib)));
	x = _mm512_mask_mov_epi8(x, first << 1, _mm512_set1_epi8('x'));
	x = _mm512_mask_mov_epi8(x, esc & first, _mm512_set1_epi8('\\'));
	return _mm512_maskz_compress_epi8(first | esc, x);
}

/*
 * A whole block whose not-plain bytes are all ASCII, many of them: its quarters in turn
 * through escape16(), each stored whole at its place, which the next overwrites: up to
 * out[256), the room of 64 bytes. Returns the bytes written.
 */
static __attribute__((noinline)) X86_AVX512 size_t block64_ascii(__m512i v, uint64_t sp, char *out)
{
	size_t o = 0;

	for (int q = 0; q < 4; q++) {
		/* Each lane has quarter q. */
		__m512i x = _mm512_permutexvar_epi64(_mm512_set_epi64(2 * q + 1, 2 * q, 2 * q + 1,
								      2 * q, 2 * q + 1, 2 * q,
								      2 * q + 1, 2 * q),
						     v);

		_mm512_storeu_si512(out + o, escape16(x, sp >> 16 * q & 0xffff));
		o += 16 + 3 * (size_t)__builtin_popcountll(sp >> 16 * q & 0xffff);
	}
	return o;
}

/*
 * A whole block with one or two bytes that are not plain, both ASCII, rendered without a
 * branch (which of its blocks have one or two is a coin toss in build output): the block
 * is already at out as it was read; each escape is stored where it goes and the block's
 * rest after it, read again, behind it. Without a second one, j is 64 (tzcnt of 0) and
 * the same stores land past the block's output, where what follows overwrites them.
 * Reads p[0..129) and stores into out[0..135). Returns the bytes written.
 */
static inline X86_AVX512 size_t block64_two(const uint8_t *p, char *out, uint64_t sp)
{
	size_t w = 64 + 3 * (size_t)__builtin_popcountll(sp);

	for (size_t k = 0; k < 2; k++) {
		size_t j = _tzcnt_u64(sp);

		put_byte_escape(out + j + 3 * k, p[j]);
		_mm512_storeu_si512(out + j + 3 * k + 4, _mm512_loadu_si512(p + j + 1));
		sp = _blsr_u64(sp);
	}
	return w;
}

/*
 * The AVX-512 level: 64 bytes tested and stored as they are at once. A block with bytes
 * that are not plain is finished where it is, by the first of these that takes it: one or
 * two ASCII ones (ESC around a colour: block64_two()), three or more all ASCII
 * (block64_ascii()), else each in turn (block64_specials(): UTF-8, and the end of p).
 * The end of p, a partial block, is read and stored under a mask, so no store goes past
 * what the bytes before it may write (4 per byte): a block's own bytes, or 64 when 64 or
 * more are left, 135 when 129 are.
 */
static X86_AVX512 size_t process_v4(struct neutralise *nz, const uint8_t *p, size_t n, bool final,
				    char *out, size_t *consumed)
{
	size_t i = 0, o = 0, len, used;
	uint64_t sp = 0;
	__m512i v;

	while (i < n) {
		for (; n - i >= 64; i += 64, o += 64) { /* the common case: one test, one store */
			v = _mm512_loadu_si512(p + i);
			_mm512_storeu_si512(out + o, v);
			sp = not_plain64(v);
			if (sp)
				break;
		}
		len = 64;
		if (n - i < 64) {
			if (i == n)
				break;
			len = n - i;
			v = _mm512_maskz_loadu_epi8(_bzhi_u64(~0ull, (unsigned)len), p + i);
			_mm512_mask_storeu_epi8(out + o, _bzhi_u64(~0ull, (unsigned)len), v);
			sp = not_plain64(v) & _bzhi_u64(~0ull, (unsigned)len);
			if (!sp) {
				i += len;
				o += len;
				break;
			}
		}
		if (!_blsr_u64(_blsr_u64(sp)) && n - i >= 129 && !(sp & _mm512_movepi8_mask(v))) {
			o += block64_two(p + i, out + o, sp);
			nz->escaped += (size_t)__builtin_popcountll(sp);
			i += 64;
			continue;
		}
		if (_blsr_u64(_blsr_u64(_blsr_u64(sp))) && len == 64 &&
		    !(sp & _mm512_movepi8_mask(v))) {
			o += block64_ascii(v, sp, out + o);
			nz->escaped += (size_t)__builtin_popcountll(sp);
			i += 64;
			continue;
		}
		if (!block64_specials(nz, p + i, n - i, final, out, &o, sp, len, &used)) {
			i += used;
			break;
		}
		i += used;
	}
	*consumed = i;
	return o;
}
#endif

static process_fn *process_for(enum simd_level level)
{
#if defined(__x86_64__)
	if (level >= SIMD_AVX512)
		return process_v4;
	if (level >= SIMD_AVX2)
		return process_v3;
#endif
	return level >= SIMD_VEC128 ? process_vec : process_bytes;
}

void neutralise_init(struct neutralise *nz)
{
	*nz = (struct neutralise){};
}

static void held_drop(struct neutralise *nz, size_t used)
{
	memmove(nz->held, nz->held + used, nz->n_held - used);
	nz->n_held -= used;
}

size_t neutralise_feed(struct neutralise *nz, const void *in, size_t len, char *out)
{
	process_fn *process = process_for(simd_level());
	const uint8_t *p = in;
	size_t o = 0, used;

	/* Complete a sequence held from the last feed one byte at a time (at most 3). */
	while (nz->n_held > 0 && len > 0) {
		nz->held[nz->n_held++] = *p++;
		len--;
		o += process(nz, nz->held, nz->n_held, false, out + o, &used);
		held_drop(nz, used);
	}
	if (nz->n_held > 0)
		return o;

	o += process(nz, p, len, false, out + o, &used);
	assert(len - used < sizeof(nz->held));
	memcpy(nz->held, p + used, len - used);
	nz->n_held = len - used;
	return o;
}

size_t neutralise_finish(struct neutralise *nz, char *out)
{
	process_fn *process = process_for(simd_level());
	size_t used, o;

	o = process(nz, nz->held, nz->n_held, true, out, &used);
	nz->n_held = 0;
	return o;
}
