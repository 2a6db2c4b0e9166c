/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes policy_parse(): any accepted input must serialise, re-parse to the same digest
 * and serialise to the same canonical text; a rejected input must leave a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policy.h"

static void check_roundtrip(const struct policy *p)
{
	struct policy *q = NULL;
	struct policy_error e;
	char *s = NULL, *pretty = NULL, *s2 = NULL;

	if (policy_to_json(p, false, &s) < 0 || policy_to_json(p, true, &pretty) < 0)
		abort();
	if (policy_parse(pretty, strlen(pretty), &q, &e) < 0) {
		fprintf(stderr, "re-parse failed: %s: %s\n%s\n", e.path, e.message, pretty);
		abort();
	}
	if (strcmp(p->digest, q->digest) != 0)
		abort();
	if (policy_to_json(q, false, &s2) < 0 || strcmp(s, s2) != 0)
		abort();
	free(s);
	free(s2);
	free(pretty);
	policy_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct policy_error e;
	char buf[POLICY_MAX_PATH + POLICY_MAX_ERROR + 64];
	int r;

	r = policy_parse((const char *)data, size, &p, &e);
	if (r == -ENOMEM)
		return 0;
	if (r < 0) {
		if (r != -EINVAL || !e.message[0])
			abort();
		policy_error_format(&e, buf, sizeof(buf));
		return 0;
	}
	check_roundtrip(p);
	(void)policy_command_allowed(p, "/usr/bin/make");
	policy_free(p);
	return 0;
}
