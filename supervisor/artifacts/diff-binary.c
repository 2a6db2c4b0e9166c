/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * git's binary patches (diff.h): "index OLD..NEW" with the blobs' full SHA-1 names, which
 * `git apply` requires of a binary patch and checks both sides against, and the new
 * contents as a "literal" hunk: zlib data (stored blocks: git inflates them like any
 * other) in git's base85 lines. SHA-1 here names git objects; it protects nothing. Pure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "macro.h"

#define BLOB_ID_SIZE 20
#define B85_LINE 52 /* bytes per line: its length letter is 'A'..'Z' (1-26), 'a'..'z' */
#define STORED_MAX 65535U /* bytes of one stored deflate block */

struct sha1 {
	uint32_t h[5];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
};

static uint32_t rol(uint32_t x, int k)
{
	return (x << k) | (x >> (32 - k));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void sha1_update(struct sha1 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->len += len;
	while (len > 0) {
		size_t k = MIN(len, sizeof(s->buf) - s->n);

		memcpy(s->buf + s->n, p, k);
		s->n += k;
		p += k;
		len -= k;
		if (s->n == sizeof(s->buf)) {
			sha1_block(s->h, s->buf);
			s->n = 0;
		}
	}
}

static void sha1_final(struct sha1 *s, uint8_t out[BLOB_ID_SIZE])
{
	uint64_t bits = s->len * 8;
	uint8_t pad[72] = { 0x80 };
	size_t padlen = (s->n < 56 ? 56 : 120) - s->n;

	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(s, pad, padlen + 8);
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

/* git's name of a blob of these bytes, in hex; NULL data: the null name (no such side). */
static void blob_id_hex(const char *data, size_t len, char hex[2 * BLOB_ID_SIZE + 1])
{
	struct sha1 s = { .h = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 } };
	uint8_t id[BLOB_ID_SIZE] = {};
	char head[32];
	int n;

	if (data) {
		n = snprintf(head, sizeof(head), "blob %zu", len);
		sha1_update(&s, head, (size_t)n + 1); /* with its NUL */
		sha1_update(&s, data, len);
		sha1_final(&s, id);
	}
	for (int i = 0; i < BLOB_ID_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

/* The zlib stream of data in stored blocks, into out (diff_binary_zlib_size() bytes). */
static void zlib_stored(const uint8_t *data, size_t len, uint8_t *out)
{
	uint32_t s1 = 1, s2 = 0;
	size_t o = 0, off = 0;

	out[o++] = 0x78; /* deflate, 32K window; with 0x01, a multiple of 31 */
	out[o++] = 0x01;
	do {
		size_t k = MIN(len - off, (size_t)STORED_MAX);

		out[o++] = off + k == len; /* BFINAL, BTYPE 00 */
		out[o++] = (uint8_t)k;
		out[o++] = (uint8_t)(k >> 8);
		out[o++] = (uint8_t)~k;
		out[o++] = (uint8_t)(~k >> 8);
		memcpy(out + o, data + off, k);
		o += k;
		off += k;
	} while (off < len);
	for (size_t i = 0; i < len; i++) {
		s1 = (s1 + data[i]) % 65521;
		s2 = (s2 + s1) % 65521;
	}
	for (int i = 3; i >= 0; i--)
		out[o++] = (uint8_t)(((s2 << 16) | s1) >> (8 * i));
}

static size_t zlib_stored_size(size_t len)
{
	size_t blocks = len ? (len + STORED_MAX - 1) / STORED_MAX : 1;

	return 2 + 5 * blocks + len + 4;
}

/* One line of git's base85: its length letter, 5 characters per 4 bytes (zero-padded). */
static int b85_line(FILE *out, const uint8_t *p, size_t n)
{
	static const char en85[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "abcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";
	char line[1 + B85_LINE / 4 * 5 + 2];
	size_t o = 0;

	line[o++] = (char)(n <= 26 ? 'A' + n - 1 : 'a' + n - 27);
	for (size_t i = 0; i < n; i += 4) {
		uint32_t acc = 0;

		for (size_t j = 0; j < 4; j++)
			acc |= (uint32_t)(i + j < n ? p[i + j] : 0) << (24 - 8 * j);
		for (int k = 4; k >= 0; k--) {
			line[o + (size_t)k] = en85[acc % 85];
			acc /= 85;
		}
		o += 5;
	}
	line[o++] = '\n';
	return fwrite(line, 1, o, out) == o ? 0 : -EIO;
}

size_t diff_binary_size(size_t len)
{
	size_t z = zlib_stored_size(len), lines = z / B85_LINE + 1;

	/* "index" with two names, "GIT binary patch", "literal N", the lines, the blank one */
	return 128 + lines * (1 + B85_LINE / 4 * 5 + 1) + 1;
}

int diff_write_binary_body(FILE *out, const char *a, size_t alen, const char *b, size_t blen)
{
	char old_hex[2 * BLOB_ID_SIZE + 1], new_hex[2 * BLOB_ID_SIZE + 1];
	size_t zlen;
	uint8_t *z;
	int r = 0;

	if (!b)
		blen = 0;
	zlen = zlib_stored_size(blen);
	z = malloc(zlen);
	if (!z)
		return -ENOMEM;
	zlib_stored((const uint8_t *)(b ? b : ""), blen, z);
	blob_id_hex(a, alen, old_hex);
	blob_id_hex(b, blen, new_hex);
	if (fprintf(out, "index %s..%s\nGIT binary patch\nliteral %zu\n", old_hex, new_hex, blen) <
	    0)
		r = -EIO;
	for (size_t off = 0; r >= 0 && off < zlen; off += B85_LINE)
		r = b85_line(out, z + off, MIN((size_t)B85_LINE, zlen - off));
	if (r >= 0 && fputc('\n', out) == EOF)
		r = -EIO;
	free(z);
	return r;
}
