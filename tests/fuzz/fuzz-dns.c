/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes the DNS codec with untrusted messages (what the task and the upstream send):
 * whatever parses must build again and parse back to the same question and answers.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "dns-codec.h"
#include "fuzz.h"

static struct dns_message msg, back;
static uint8_t out[DNS_MAX_MESSAGE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n;

	if (dns_parse(data, size, &msg) < 0)
		return 0;
	n = dns_build(&msg, out, sizeof(out));
	if (n < 0) {
		/* Only a root name ("") decodes but cannot be rebuilt. */
		assert(n == -EINVAL);
		return 0;
	}
	assert(dns_parse(out, (size_t)n, &back) == 0);
	assert(strcmp(back.qname, msg.qname) == 0);
	assert(back.qtype == msg.qtype && back.id == msg.id && back.flags == msg.flags);
	assert(back.n_answers == msg.n_answers);
	for (size_t i = 0; i < msg.n_answers; i++) {
		assert(strcmp(back.answers[i].name, msg.answers[i].name) == 0);
		assert(back.answers[i].type == msg.answers[i].type);
		assert(back.answers[i].ttl == msg.answers[i].ttl);
	}
	return 0;
}
