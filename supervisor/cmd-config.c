/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "cli.h"
#include "config-file.h"
#include "credentials.h"
#include "log.h"
#include "macro.h"
#include "node-config.h"

static int config_check(const char *path)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	const char *p = path ? path : NODE_CONFIG_PATH;

	int r = config_file_load(path, &c);

	if (r < 0 || credentials_check_config(c) < 0)
		return 1;
	if (r > 0)
		printf("%s: absent; the built-in configuration applies\n", p);
	else
		printf("%s: ok\n", p);
	return 0;
}

static int config_show(const char *path)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	_cleanup_free_ char *json = NULL;

	if (config_file_load(path, &c) < 0)
		return 1;
	if (node_config_to_json(c, &json) < 0) {
		log_oom();
		return 1;
	}
	printf("%s\n", json);
	return 0;
}

int cmd_config(int argc, char **argv)
{
	if (argc == 3 && cli_check_path_arg("config", argv[2]) < 0)
		return 1;
	if ((argc == 2 || argc == 3) && streq(argv[1], "check"))
		return config_check(argc == 3 ? argv[2] : NULL);
	if ((argc == 2 || argc == 3) && streq(argv[1], "show"))
		return config_show(argc == 3 ? argv[2] : NULL);
	fprintf(stderr, "Usage: airlock config check [FILE]\n"
			"       airlock config show [FILE]\n"
			"FILE defaults to " NODE_CONFIG_PATH "; without it the built-in "
			"configuration applies.\n");
	return 2;
}
