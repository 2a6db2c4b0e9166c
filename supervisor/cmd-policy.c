/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "log.h"
#include "macro.h"
#include "config-file.h"
#include "node-config.h"
#include "policy.h"
#include "preflight.h"

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

static void print_refusal(bool refusal, const char *line, void *userdata)
{
	const char *path = userdata;

	printf("%s: on this host a run would %s: %s\n", path, refusal ? "be refused" : "warn",
	       line);
}

static int policy_check(const char *path, bool host, const char *workspace, const char *config_path)
{
	_cleanup_node_config_free_ struct node_config *cfg = NULL;
	_cleanup_policy_free_ struct policy *p = NULL;
	char cwd[PATH_MAX], ws[PATH_MAX];
	int n;

	if (load(path, &p) < 0)
		return 1;
	printf("%s: ok (policy '%s', digest sha256:%s)\n", path, p->name, p->digest);
	if (!host)
		return 0;

	if (workspace ? !realpath(workspace, ws) : !getcwd(cwd, sizeof(cwd))) {
		log_error_errno(-errno, "Failed to resolve the workspace '%s': %m",
				workspace ?: ".");
		return 1;
	}
	if (config_file_load(config_path, &cfg) < 0)
		return 1;
	n = preflight_host(p, cfg, workspace ? ws : cwd, print_refusal, (void *)path);
	if (n < 0) {
		log_oom();
		return 1;
	}
	if (n == 0)
		printf("%s: ok on this host\n", path);
	return n > 0;
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

static int usage(void)
{
	fprintf(stderr,
		"Usage: airlock policy check FILE [--host [--workspace DIR] [--config FILE]]\n"
		"       airlock policy show [FILE]\n");
	return 2;
}

/* check FILE [--host] [--workspace DIR], options in any order after check. */
static int cmd_check(int argc, char **argv)
{
	const char *file = NULL, *workspace = NULL, *config = NULL;
	bool host = false;

	for (int i = 2; i < argc; i++) {
		if (streq(argv[i], "--host"))
			host = true;
		else if (streq(argv[i], "--workspace") && i + 1 < argc)
			workspace = argv[++i];
		else if (streq(argv[i], "--config") && i + 1 < argc)
			config = argv[++i];
		else if (streq(argv[i], "--workspace") || streq(argv[i], "--config")) {
			log_error("policy check: %s needs a value (%s)", argv[i],
				  streq(argv[i], "--config") ? "FILE" : "DIR");
			return usage();
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			log_error("policy check: unknown option '%.*s'", cli_arg_shown(argv[i]),
				  argv[i]);
			return usage();
		} else if (file) {
			log_error("policy check: one FILE only, '%s' is a second", argv[i]);
			return usage();
		} else
			file = argv[i];
	}
	if (!file) {
		log_error("policy check: the policy FILE is missing");
		return usage();
	}
	if ((workspace || config) && !host) {
		log_error("policy check: --workspace and --config go with --host");
		return usage();
	}
	if (cli_check_path_arg("policy check", file) < 0 ||
	    cli_check_path_arg("--workspace", workspace) < 0 ||
	    cli_check_path_arg("--config", config) < 0)
		return 1;
	return policy_check(file, host, workspace, config);
}

int cmd_policy(int argc, char **argv)
{
	if (argc >= 2 && streq(argv[1], "check"))
		return cmd_check(argc, argv);
	if (argc >= 2 && streq(argv[1], "show")) {
		if (argc > 3) {
			log_error("policy show: at most one FILE, '%s' is a second", argv[3]);
			return usage();
		}
		if (argc == 3 && cli_check_path_arg("policy show", argv[2]) < 0)
			return 1;
		return policy_show(argc == 3 ? argv[2] : NULL);
	}
	if (argc < 2)
		log_error("policy: a verb is needed (check, show)");
	else
		log_error("policy: unknown verb '%s' (check, show)", argv[1]);
	return usage();
}
