/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "config-file.h"
#include "config.h"
#include "credentials.h"
#include "log.h"
#include "node-config.h"
#include "run.h"
#include "strv.h"

static void run_usage(FILE *f)
{
	fprintf(f, "Usage: airlock run [--policy FILE] [--workspace DIR] [--state-dir DIR]\n"
		   "                   [--record FILE] [--config FILE]\n"
		   "                   [--credential NAME=@FILE] [--credential-fd NAME=N]\n"
		   "                   -- CMD [ARG...]\n");
}

int cmd_run(int argc, char **argv)
{
	static const struct option options[] = { { "policy", required_argument, NULL, 'p' },
						 { "workspace", required_argument, NULL, 'w' },
						 { "state-dir", required_argument, NULL, 's' },
						 { "record", required_argument, NULL, 'r' },
						 { "config", required_argument, NULL, 'c' },
						 { "credential", required_argument, NULL, 'C' },
						 { "credential-fd", required_argument, NULL, 'F' },
						 { "help", no_argument, NULL, 'h' },
						 {} };
	_cleanup_strv_free_ char **task_argv = NULL;
	_cleanup_node_config_free_ struct node_config *config = NULL;
	_cleanup_(credential_args_done) struct credential_args creds = {};
	const char *config_path = NULL;
	struct run_options o = {};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		switch (c) {
		case 'p':
			o.policy_path = optarg;
			break;
		case 'w':
			o.workspace = optarg;
			break;
		case 's':
			o.state_dir = optarg;
			break;
		case 'r':
			o.record_path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'C':
		case 'F':
			if (credential_args_add(&creds, optarg, c == 'F') < 0)
				return EXIT_AIRLOCK;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		case '?':
		default:
			log_error("run: unknown or incomplete option '%s'", argv[optind - 1]);
			run_usage(stderr);
			return EXIT_AIRLOCK;
		}
	}
	/*
	 * Every run builds namespaces, id maps, cgroups and state below /run/airlock itself;
	 * without root it would fail somewhere in the middle with a bare EACCES.
	 */
	if (geteuid() != 0) {
		log_error("refusing run: airlock run must run as root (this is uid %u)",
			  (unsigned)geteuid());
		return EXIT_AIRLOCK;
	}
	if (cli_check_path_arg("--policy", o.policy_path) < 0 ||
	    cli_check_path_arg("--workspace", o.workspace) < 0 ||
	    cli_check_path_arg("--state-dir", o.state_dir) < 0 ||
	    cli_check_path_arg("--record", o.record_path) < 0 ||
	    cli_check_path_arg("--config", config_path) < 0)
		return EXIT_AIRLOCK;
	if (optind >= argc) {
		log_error("run: no command given (put it after '--')");
		run_usage(stderr);
		return EXIT_AIRLOCK;
	}
	if (argv[optind][0] == '\0') {
		log_error("run: the command is an empty string");
		return EXIT_AIRLOCK;
	}
	/*
	 * A copy: the sandbox init overwrites this process's argument area with its own name
	 * (proc_title_set()) before it starts the task.
	 */
	task_argv = strv_copy(argv + optind);
	if (!task_argv) {
		log_oom();
		return EXIT_AIRLOCK;
	}
	o.argv = task_argv;
	if (config_file_load(config_path, &config) < 0)
		return EXIT_AIRLOCK;
	o.config = config;
	if (!o.state_dir)
		o.state_dir = config->state_dir;
	o.runtime_dir = config->runtime_dir;
	o.credentials = &creds;
	return run_main(&o);
}
