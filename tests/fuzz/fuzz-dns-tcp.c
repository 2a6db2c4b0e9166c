/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes DNS over TCP as the proxy reads it from the task: a byte stream cut into
 * length-prefixed messages (dns_tcp_frame), each parsed. The input arrives in pieces, as
 * a stream does, and every frame must lie within what was received.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "dns-codec.h"
#include "fuzz.h"
#include "macro.h"

#define MAX_QUERY 512

static struct dns_message msg;
static uint8_t in[2 + MAX_QUERY];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n_in = 0, off = 0;

	while (off < size) {
		/* Pieces of 1..7 bytes, so that frames straddle reads. */
		size_t piece = MIN(size - off, (size_t)(data[off] % 7) + 1);
		size_t len;
		int r;

		piece = MIN(piece, sizeof(in) - n_in);
		memcpy(in + n_in, data + off, piece);
		n_in += piece;
		off += piece;
		while ((r = dns_tcp_frame(in, n_in, MAX_QUERY, &len)) == 1) {
			assert(len >= 1 && len <= MAX_QUERY && 2 + len <= n_in);
			(void)dns_parse(in + 2, len, &msg);
			memmove(in, in + 2 + len, n_in - 2 - len);
			n_in -= 2 + len;
		}
		if (r < 0) {
			assert(r == -EMSGSIZE);
			return 0; /* the proxy closes the connection */
		}
		assert(n_in < sizeof(in));
	}
	return 0;
}
