/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "node-config.h"
#include "macro.h"
#include "proc-title.h"
#include "run.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },	{ "policy", cmd_policy },   { "config", cmd_config },
	{ "probe", cmd_probe }, { "records", cmd_records },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: airlock [--debug] COMMAND [ARGS...]\n"
		   "\n"
		   "Commands:\n"
		   "  run [--policy FILE] [--workspace DIR] [--state-dir DIR] [--record FILE]\n"
		   "      [--config FILE] [--export DIR] [--credential NAME=@FILE]...\n"
		   "      [--credential-fd NAME=N]... [--diagnostics-format text|json]\n"
		   "      [--diagnostics-fd N | --diagnostics-file PATH] -- CMD [ARG...]\n"
		   "                        run one command in a sandbox ('airlock run --help')\n"
		   "  policy check FILE [--host [--workspace DIR] [--config FILE]]\n"
		   "                        validate a policy; --host: also what this host would "
		   "refuse\n"
		   "  policy show [FILE]    print the effective policy (defaults filled in)\n"
		   "  config check|show [FILE]\n"
		   "                        the node configuration (" NODE_CONFIG_PATH ")\n"
		   "  probe [--json]        what this kernel can enforce\n"
		   "  records list|show ID|logs ID [--stream stdout|stderr]|events ID [--json]\n"
		   "          verify|head|pubkey|rotate-key|export ID --format in-toto\n"
		   "                        read run records, their captured logs and event logs\n"
		   "  --version, --help\n");
}

/*
 * A closed fd 0, 1 or 2 would be taken by the next open() (a lock file, a record) and
 * then receive output: point them at /dev/null first.
 */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

/*
 * jansson seeds its hash function on first use by opening /dev/urandom; one getrandom()
 * call does the same without the file (json_object_seed() falls back to its own seeding
 * when given 0).
 */
static void seed_json(void)
{
	uint32_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = 0;
	json_object_seed(seed);
}

/*
 * The signals `airlock run` handles (run-watch.c): stops of its task, and those it passes on.
 * Blocked before anything else: one that arrives while airlock starts must not kill it by
 * the default action and leave no record; it stays pending until the run's signalfd reads it.
 */
static void block_run_signals(sigset_t *ret_old)
{
	sigset_t mask;

	run_handled_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, ret_old);
}

int main(int argc, char **argv)
{
	sigset_t old_mask;
	int i = 1;

	block_run_signals(&old_mask);
	/* The sandbox init, a fork of this process, overwrites these with its own name. */
	proc_title_save(argc, argv);
	ensure_std_fds();
	seed_json();

	if (i < argc && streq(argv[i], "--debug")) {
		log_set_max_level(LOG_LEVEL_DEBUG);
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
		usage(stdout);
		return 0;
	}
	if (streq(argv[i], "--version")) {
		printf("airlock %s\n", AIRLOCK_VERSION);
		return 0;
	}
	/* Only a run handles them; every other command stops as it always did. */
	if (!streq(argv[i], "run"))
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
	for (size_t c = 0; c < ELEMENTSOF(commands); c++)
		if (streq(argv[i], commands[c].name))
			return commands[c].fn(argc - i, argv + i);

	log_error("unknown command '%.*s' (try 'airlock --help')", cli_arg_shown(argv[i]), argv[i]);
	return 2;
}
