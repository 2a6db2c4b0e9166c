/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
		   "                   [--record FILE] [--config FILE] [--export DIR]\n"
		   "                   [--credential NAME=@FILE] [--credential-fd NAME=N]\n"
		   "                   [--diagnostics-fd N | --diagnostics-file PATH]\n"
		   "                   [--diagnostics-format text|json]\n"
		   "                   -- CMD [ARG...]\n");
}

struct diagnostics_args {
	const char *fd; /* --diagnostics-fd, as given */
	const char *file; /* --diagnostics-file */
	const char *format; /* --diagnostics-format */
};

/* --diagnostics-fd N: open for writing, not stdin or stdout. Returns N or -EINVAL (logged). */
static int diagnostics_fd(const char *s)
{
	char *end = NULL;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 0 || n > INT_MAX)
		return log_error_errno(-EINVAL,
				       "run: --diagnostics-fd '%s': expected a file descriptor "
				       "number",
				       s);
	if (n == STDIN_FILENO || n == STDOUT_FILENO)
		return log_error_errno(-EINVAL,
				       "run: --diagnostics-fd %ld: fd %ld is the task's %s; give "
				       "2 or a descriptor of its own",
				       n, n, n == 0 ? "standard input" : "standard output");
	if (fcntl((int)n, F_GETFD) < 0)
		return log_error_errno(-EINVAL, "run: --diagnostics-fd %ld: fd %ld is not open", n,
				       n);
	return (int)n;
}

/*
 * --diagnostics-file PATH: appended to, created 0600 when missing. O_NONBLOCK: a FIFO
 * nobody reads is refused (ENXIO) rather than waited for. Returns the fd or -errno (logged).
 */
static int diagnostics_file(const char *path)
{
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0)
		return log_error_errno(-errno, "run: --diagnostics-file '%s': %s", path,
				       errno == ENXIO ? "a FIFO nobody reads" : strerror(errno));
	if (fstat(fd, &st) >= 0 && S_ISREG(st.st_mode))
		(void)fcntl(fd, F_SETFL, O_WRONLY | O_APPEND);
	return fd;
}

/* The --credential and --credential-fd arguments as given, in order. */
struct credential_opts {
	const char **arg;
	bool *from_fd;
	size_t n;
};

/* Whether credential argument arg (NAME=N or NAME=@FILE) reads the file st is. A
 * malformed one reads none: credential_args_add() refuses it once the sink is open. */
static bool credential_opt_is(const char *arg, bool from_fd, const struct stat *st,
			      int *ret_name_len)
{
	struct credential_arg_syntax parts;
	struct stat src;

	if (credential_arg_parse(arg, from_fd, &parts) < 0)
		return false;
	if (from_fd ? fstat(parts.fd, &src) < 0 : stat(parts.path, &src) < 0)
		return false;
	*ret_name_len = (int)parts.name_len;
	return src.st_dev == st->st_dev && src.st_ino == st->st_ino;
}

/*
 * The sink (fd) is no credential's source: a --credential-fd descriptor is read to its end
 * and closed before the run, and airlock's lines must go neither into a value's file nor
 * into the pipe it is read from (the read would wait for an end that never comes). A
 * terminal or /dev/null (a character device) may be both. 0 or -EINVAL (logged).
 */
static int diagnostics_unshared(int fd, const struct diagnostics_args *d,
				const struct credential_opts *co)
{
	struct credential_arg_syntax parts;
	struct stat st;
	int len = 0;

	for (size_t i = 0; d->fd && i < co->n; i++)
		if (co->from_fd[i] && credential_arg_parse(co->arg[i], true, &parts) == 0 &&
		    parts.fd == fd)
			return log_error_errno(
				-EINVAL,
				"run: --diagnostics-fd %d: fd %d is the source of "
				"--credential-fd %.*s=%d, read to its end and closed",
				fd, fd, (int)parts.name_len, co->arg[i], fd);
	if (fstat(fd, &st) < 0 || S_ISCHR(st.st_mode))
		return 0;
	for (size_t i = 0; i < co->n; i++)
		if (credential_opt_is(co->arg[i], co->from_fd[i], &st, &len))
			return log_error_errno(
				-EINVAL,
				d->fd ? "run: --diagnostics-fd %s: the same file as the source of "
					"credential '%.*s' (airlock's lines would go into its "
					"value)"
				      : "run: --diagnostics-file '%s': the same file as the source "
					"of credential '%.*s' (airlock's lines would go into its "
					"value)",
				d->fd ?: d->file, len, co->arg[i]);
	return 0;
}

/* Opens the diagnostics sink the options ask for. 0 or -errno (logged). */
static int open_diagnostics(const struct diagnostics_args *d, const struct credential_opts *co)
{
	enum log_format format = LOG_FORMAT_TEXT;
	int fd, r;

	if (d->format) {
		format = log_format_from_string(d->format);
		if (format < 0)
			return log_error_errno(
				-EINVAL, "run: --diagnostics-format '%s': expected text or json",
				d->format);
	}
	if (d->fd && d->file)
		return log_error_errno(-EINVAL,
				       "run: --diagnostics-fd and --diagnostics-file: give one");
	if (cli_check_path_arg("--diagnostics-file", d->file) < 0)
		return -EINVAL;
	if (!d->fd && !d->file)
		return d->format
			       ? log_error_errno(-EINVAL, "run: --diagnostics-format needs "
							  "--diagnostics-fd or --diagnostics-file")
			       : 0;
	fd = d->fd ? diagnostics_fd(d->fd) : diagnostics_file(d->file);
	if (fd < 0)
		return fd;
	if (diagnostics_unshared(fd, d, co) < 0) {
		if (d->file)
			close(fd);
		return -EINVAL;
	}
	r = log_open_diagnostics(fd, format);
	if (r < 0) {
		if (d->file)
			close(fd);
		return log_error_errno(r,
				       d->fd ? "run: --diagnostics-fd %s: %s"
					     : "run: --diagnostics-file '%s': %s",
				       d->fd ?: d->file,
				       r == -EBADF   ? "not open for writing"
				       : r == -EPIPE ? "a pipe nobody reads"
						     : strerror(-r));
	}
	/* A reader of the sink that goes away must not kill airlock with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * Adds them once the diagnostics sink is open, so that their refusals reach it too.
 * 0 or -EINVAL (logged).
 */
static int add_credentials(const struct credential_opts *co, const char *policy_path,
			   struct credential_args *creds)
{
	for (size_t i = 0; i < co->n; i++)
		if (credential_args_add(creds, co->arg[i], co->from_fd[i]) < 0)
			return -EINVAL;
	/* The policy reads standard input to its end first: the value would be empty. */
	for (size_t i = 0; policy_path && streq(policy_path, "-") && i < creds->n; i++)
		if (creds->items[i].fd == STDIN_FILENO)
			return log_error_errno(-EINVAL,
					       "run: --credential-fd %s=0: fd 0 is the policy's "
					       "source (--policy -)",
					       creds->items[i].name);
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "workspace", required_argument, NULL, 'w' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "record", required_argument, NULL, 'r' },
		{ "export", required_argument, NULL, 'E' },
		{ "config", required_argument, NULL, 'c' },
		{ "credential", required_argument, NULL, 'C' },
		{ "credential-fd", required_argument, NULL, 'F' },
		{ "diagnostics-fd", required_argument, NULL, 'D' },
		{ "diagnostics-file", required_argument, NULL, 'L' },
		{ "diagnostics-format", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	_cleanup_strv_free_ char **task_argv = NULL;
	_cleanup_node_config_free_ struct node_config *config = NULL;
	_cleanup_(credential_args_done) struct credential_args creds = {};
	_cleanup_free_ const char **cred_arg = calloc((size_t)argc + 1, sizeof(*cred_arg));
	_cleanup_free_ bool *cred_from_fd = calloc((size_t)argc + 1, sizeof(*cred_from_fd));
	struct credential_opts co = { cred_arg, cred_from_fd, 0 };
	const char *config_path = NULL, *bad_option = NULL;
	struct diagnostics_args diag = {};
	struct run_options o = {};
	int c;

	if (!cred_arg || !cred_from_fd) {
		log_oom();
		return EXIT_AIRLOCK;
	}
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
		case 'E':
			o.export_dir = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'C':
		case 'F':
			co.arg[co.n] = optarg;
			co.from_fd[co.n++] = c == 'F';
			break;
		case 'D':
			diag.fd = optarg;
			break;
		case 'L':
			diag.file = optarg;
			break;
		case 'J':
			diag.format = optarg;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		case '?':
		default:
			/* Refused once the diagnostics sink is open, if the rest names one. */
			if (!bad_option)
				bad_option = argv[optind - 1];
			break;
		}
	}
	/*
	 * First: every line from here on, a refusal of the command line included, goes there
	 * too. Then what the options say, in order.
	 */
	if (open_diagnostics(&diag, &co) < 0)
		return EXIT_AIRLOCK;
	if (bad_option) {
		log_error("run: unknown or incomplete option '%.*s'", cli_arg_shown(bad_option),
			  bad_option);
		run_usage(stderr);
		return EXIT_AIRLOCK;
	}
	if (add_credentials(&co, o.policy_path, &creds) < 0)
		return EXIT_AIRLOCK;
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
	    cli_check_path_arg("--export", o.export_dir) < 0 ||
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
