/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes github_token_parse() (a GitHub access_tokens answer, bytes from the network) and
 * github_scope_check() of what it granted: an accepted answer has a printable token of at
 * most GITHUB_TOKEN_MAX bytes and a scope of full names; a refused one leaves a message
 * and nothing allocated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "issuer-github.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char asked_text[] = "{\"repositories\": [\"org/app\", \"lib\"],"
					 " \"permissions\": {\"contents\": \"read\"}}";
	struct github_token t = {};
	char err[256] = "";
	json_t *asked;
	int r;

	r = github_token_parse((const char *)data, size, &t, err, sizeof(err));
	if (r < 0) {
		if (!err[0] || t.value.data || t.scope)
			abort();
		return 0;
	}
	if (t.value.len == 0 || t.value.len > GITHUB_TOKEN_MAX ||
	    strlen((const char *)t.value.data) != t.value.len || !json_is_object(t.scope))
		abort();
	asked = json_loads(asked_text, 0, NULL);
	err[0] = '\0';
	r = github_scope_check(t.scope, asked, err, sizeof(err));
	if (r < 0 && (r != -EPERM || !err[0]))
		abort();
	json_decref(asked);
	github_token_done(&t);
	return 0;
}
