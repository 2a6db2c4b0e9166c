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
 * The variants below differ only in how it is compiled (simd_level()).
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

typedef size_t plain_copy_fn(const uint8_t *p, size_t n, char *out);

static size_t plain_copy_bytes(const uint8_t *p, size_t n, char *out)
{
	return plain_copy_body(p, n, out, false, false);
}

static size_t plain_copy_vec(const uint8_t *p, size_t n, char *out)
{
	return plain_copy_body(p, n, out, true, false);
}

#if defined(__x86_64__)
__attribute__((target("arch=x86-64-v3"))) static size_t plain_copy_v3(const uint8_t *p, size_t n,
								      char *out)
{
	return plain_copy_body(p, n, out, true, true);
}

__attribute__((target("arch=x86-64-v4"))) static size_t plain_copy_v4(const uint8_t *p, size_t n,
								      char *out)
{
	return plain_copy_body(p, n, out, true, true);
}
#endif

static plain_copy_fn *plain_copy_for(enum simd_level level)
{
#if defined(__x86_64__)
	if (level >= SIMD_AVX512)
		return plain_copy_v4;
	if (level >= SIMD_AVX2)
		return plain_copy_v3;
#endif
	return level >= SIMD_VEC128 ? plain_copy_vec : plain_copy_bytes;
}

static size_t put_byte_escape(char *out, uint8_t b)
{
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hexdigit[b >> 4];
	out[3] = hexdigit[b & 15];
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
static int utf8_sequence(const uint8_t *p, size_t avail, uint32_t *cp)
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

static bool cp_is_hidden_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Neutralises p[0..n). An incomplete UTF-8 sequence at the end is left unconsumed unless
 * final. Returns the bytes written; *consumed is how much of p was used.
 */
static size_t process(struct neutralise *nz, const uint8_t *p, size_t n, bool final, char *out,
		      size_t *consumed)
{
	plain_copy_fn *plain_copy = plain_copy_for(simd_level());
	size_t i = 0, o = 0;

	while (i < n) {
		size_t run = plain_copy(p + i, n - i, out + o);
		uint32_t cp;
		int len;

		o += run;
		i += run;
		if (i == n)
			break;

		if (p[i] < 0x80) {
			o += put_byte_escape(out + o, p[i++]);
			nz->escaped++;
			continue;
		}
		len = utf8_sequence(p + i, n - i, &cp);
		if (len == 0 && !final)
			break;
		if (len <= 0) {
			o += put_byte_escape(out + o, p[i++]);
			nz->escaped++;
		} else if (cp_is_hidden_control(cp)) {
			o += put_cp_escape(out + o, cp);
			nz->escaped++;
			i += len;
		} else {
			memcpy(out + o, p + i, len);
			o += len;
			i += len;
		}
	}
	*consumed = i;
	return o;
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
	size_t used, o;

	o = process(nz, nz->held, nz->n_held, true, out, &used);
	nz->n_held = 0;
	return o;
}
