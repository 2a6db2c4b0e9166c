/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cli.h"
#include "log.h"
#include "macro.h"
#include "policy.h"

/* Loads FILE (or the built-in default when NULL); prints the error itself. */
static int load(const char *path, struct policy **ret)
{
	_cleanup_free_ char *buf = NULL;
	struct policy_error err = {};
	char msg[POLICY_MAX_PATH + POLICY_MAX_ERROR + 32];
	size_t len = 0;
	int r;

	if (!path)
		return policy_new_default(ret) < 0 ? log_oom() : 0;
	r = cli_read_input(path, POLICY_MAX_BYTES, &buf, &len);
	if (r < 0)
		return r;
	r = policy_parse(buf, len, ret, &err);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0) {
		policy_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s: %s\n", path, msg);
	}
	return r;
}

static int policy_check(const char *path)
{
	_cleanup_policy_free_ struct policy *p = NULL;

	if (load(path, &p) < 0)
		return 1;
	printf("%s: ok (policy '%s', digest sha256:%s)\n", path, p->name, p->digest);
	return 0;
}

static int policy_show(const char *path)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	_cleanup_free_ char *json = NULL;

	if (load(path, &p) < 0)
		return 1;
	if (policy_to_json(p, true, &json) < 0) {
		log_oom();
		return 1;
	}
	printf("%s\n", json);
	return 0;
}

int cmd_policy(int argc, char **argv)
{
	if (argc == 3 && streq(argv[1], "check"))
		return policy_check(argv[2]);
	if ((argc == 2 || argc == 3) && streq(argv[1], "show"))
		return policy_show(argc == 3 ? argv[2] : NULL);
	fprintf(stderr, "Usage: airlock policy check FILE\n"
			"       airlock policy show [FILE]\n");
	return 2;
}
