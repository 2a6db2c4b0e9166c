/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "config.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "records-list.h"
#include "run-log.h"
#include "run.h"

/* Run ids are "<UTC timestamp>-<hex>": [0-9A-Za-z-] only, so no path tricks. */
static bool run_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64)
		return false;
	return strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == n;
}

/* Copies the log of one stream of run id to out, as stored. Logs failures. 0 or -errno. */
static int copy_log(const char *state_dir, const char *id, enum run_log_stream s, int out)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	char path[PATH_MAX], record[PATH_MAX];
	struct stat st;
	ssize_t n;
	int r;

	snprintf(path, sizeof(path), "%s/" RUN_LOG_DIR "/%s.%s", state_dir, id,
		 run_log_stream_to_string(s));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT) {
		snprintf(record, sizeof(record), "%s/records/%s.json", state_dir, id);
		if (access(record, F_OK) < 0)
			return log_error_errno(-ENOENT, "records: no run '%s' in '%s'", id,
					       state_dir);
		return log_error_errno(-ENOENT,
				       "records: run '%s' has no captured %s log (its policy "
				       "sets logs.max_size \"0\", or it ended before its logs "
				       "were made)",
				       id, run_log_stream_to_string(s));
	}
	if (fd < 0)
		return log_error_errno(-errno, "Failed to open '%s': %m", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return log_error_errno(-EBADFD, "Failed to read '%s': not a regular file", path);
	buf = malloc(65536);
	if (!buf)
		return log_oom();
	while ((n = read(fd, buf, 65536)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return log_error_errno(-errno, "Failed to read '%s': %m", path);
		r = write_all(out, buf, (size_t)n);
		if (r < 0)
			return log_error_errno(r, "Failed to write the log of '%s': %m", path);
	}
	return 0;
}

/*
 * records logs ID [--stream stdout|stderr]: the captured logs as stored. Without --stream
 * the stdout log goes to stdout and the stderr log to stderr, as the run's streams did;
 * with it, the one log goes to stdout.
 */
static int records_logs(const char *state_dir, const char *id, const char *name)
{
	enum run_log_stream s = _RUN_LOG_STREAM_INVALID;

	if (!run_id_valid(id)) {
		log_error("records: '%s' is not a run id", id);
		return 1;
	}
	if (name) {
		s = run_log_stream_from_string(name);
		if (s < 0) {
			log_error("records logs: --stream '%s': expected stdout or stderr", name);
			return 2;
		}
		return copy_log(state_dir, id, s, STDOUT_FILENO) < 0 ? 1 : 0;
	}
	if (copy_log(state_dir, id, RUN_LOG_STDOUT, STDOUT_FILENO) < 0 ||
	    copy_log(state_dir, id, RUN_LOG_STDERR, STDERR_FILENO) < 0)
		return 1;
	return 0;
}

static void records_usage(FILE *f)
{
	fprintf(f, "Usage: airlock records [--state-dir DIR] list [--json] [--since TIME]\n"
		   "                      [--until TIME] [--cause CAUSE] [--exit CODE]\n"
		   "                      [--policy-digest DIGEST] [--limit N]\n"
		   "       airlock records [--state-dir DIR] show ID\n"
		   "       airlock records [--state-dir DIR] logs ID [--stream stdout|stderr]\n"
		   "       airlock records [--state-dir DIR] verify [--pubkey FILE] [--since SEQ] "
		   "[--logs]\n"
		   "       airlock records [--state-dir DIR] head | pubkey | rotate-key\n"
		   "       airlock records [--state-dir DIR] export ID --format in-toto\n"
		   "       airlock records [--state-dir DIR] events ID [--json]\n");
}

/*
 * The chain's verbs (cmd-records-chain.c) and events (cmd-records-events.c) take their own
 * options after the verb; before it,
 * only --state-dir. Returns the index of such a verb in argv (its state dir in
 * *ret_state_dir), or 0 when argv names another verb.
 */
static int chain_verb_at(int argc, char **argv, const char **ret_state_dir)
{
	static const char *const verbs[] = { "verify",	   "head",   "pubkey",
					     "rotate-key", "export", "events" };
	const char *state_dir = AIRLOCK_STATE_DIR;
	int i = 1;

	while (i < argc) {
		if (streq(argv[i], "--state-dir") && i + 1 < argc) {
			state_dir = argv[i + 1];
			i += 2;
		} else if (strneq(argv[i], "--state-dir=", 12)) {
			state_dir = argv[i] + 12;
			i++;
		} else
			break;
	}
	if (i >= argc)
		return 0;
	for (size_t k = 0; k < ELEMENTSOF(verbs); k++)
		if (streq(argv[i], verbs[k])) {
			*ret_state_dir = state_dir;
			return i;
		}
	return 0;
}

/*
 * --state-dir DIR (or --state-dir=DIR) after a chain verb, as list, show and logs take it
 * (docs/audit.md: "verify --state-dir COPY --pubkey KEYS.pem"): taken out of argv[from..],
 * which keeps the rest in order. Returns the new argc, or -EINVAL (logged) for a
 * --state-dir without its value.
 */
static int chain_state_dir_after(int argc, char **argv, int from, const char **state_dir)
{
	int n = from;

	for (int i = from; i < argc; i++) {
		if (streq(argv[i], "--state-dir") && i + 1 == argc)
			return log_error_errno(-EINVAL, "records: --state-dir needs a value (DIR)");
		if (streq(argv[i], "--state-dir"))
			*state_dir = argv[++i];
		else if (strneq(argv[i], "--state-dir=", 12))
			*state_dir = argv[i] + 12;
		else
			argv[n++] = argv[i];
	}
	return n;
}

/* A list option's value into f. 0, or -EINVAL (logged). */
static int list_option(int c, const char *arg, struct records_filter *f)
{
	char *end = NULL;
	long long v;

	switch (c) {
	case 'j':
		f->json = true;
		return 0;
	case 'S':
	case 'U':
		if (records_parse_time(arg, c == 'S' ? &f->since_ns : &f->until_ns) < 0)
			return log_error_errno(-EINVAL,
					       "records list: --%s '%s': expected a UTC time "
					       "(2026-12-06T01:00:00Z) or @SECONDS",
					       c == 'S' ? "since" : "until", arg);
		*(c == 'S' ? &f->has_since : &f->has_until) = true;
		return 0;
	case 'c':
		if (!run_cause_is_known(arg))
			return log_error_errno(-EINVAL,
					       "records list: --cause '%s': not a cause a record "
					       "holds (exited, signaled, wall_time, refused, ...: "
					       "docs/run-record.md)",
					       arg);
		f->cause = arg;
		return 0;
	case 'd':
		f->digest = arg;
		return 0;
	default:
		break;
	}
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || (c == 'e' && v > 255))
		return log_error_errno(-EINVAL, "records list: --%s '%s': expected a number%s",
				       c == 'e' ? "exit" : "limit", arg,
				       c == 'e' ? " from 0 to 255" : "");
	if (c == 'e') {
		f->has_exit = true;
		f->exit_code = (int)v;
	} else
		f->limit = (uint64_t)v;
	return 0;
}

/* One line on what is wrong with the verb and its arguments, before the usage. */
static void verb_error(const char *verb, int n_args, bool list_opts, const char *stream)
{
	static const char *const with_id[] = { "show", "logs", "events", "export" };
	static const char *const bare[] = { "head", "pubkey", "rotate-key", "list" };

	if (!*verb) {
		log_error("records: a verb is needed (list, show, logs, verify, ...)");
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(with_id); i++)
		if (streq(verb, with_id[i])) {
			if (n_args < 1)
				log_error("records: '%s' needs a run ID", verb);
			else if (list_opts)
				log_error("records: list's filters apply to 'list' only, not '%s'",
					  verb);
			else if (stream)
				log_error("records: --stream applies to 'logs' only, not '%s'",
					  verb);
			else
				log_error("records: '%s' takes one run ID", verb);
			return;
		}
	for (size_t i = 0; i < ELEMENTSOF(bare); i++)
		if (streq(verb, bare[i])) {
			if (stream)
				log_error("records: --stream applies to 'logs' only, not '%s'",
					  verb);
			else
				log_error("records: '%s' takes no arguments", verb);
			return;
		}
	log_error("records: unknown verb '%s'", verb);
}

int cmd_records(int argc, char **argv)
{
	static const struct option options[] = { { "state-dir", required_argument, NULL, 's' },
						 { "json", no_argument, NULL, 'j' },
						 { "since", required_argument, NULL, 'S' },
						 { "until", required_argument, NULL, 'U' },
						 { "cause", required_argument, NULL, 'c' },
						 { "exit", required_argument, NULL, 'e' },
						 { "policy-digest", required_argument, NULL, 'd' },
						 { "limit", required_argument, NULL, 'n' },
						 { "stream", required_argument, NULL, 't' },
						 { "help", no_argument, NULL, 'h' },
						 {} };
	const char *state_dir = AIRLOCK_STATE_DIR, *stream = NULL, *verb;
	struct records_filter f = {};
	bool list_opts = false;
	int c, k;

	c = chain_verb_at(argc, argv, &state_dir);
	if (c > 0) {
		argc = chain_state_dir_after(argc, argv, c + 1, &state_dir);
		if (argc < 0 || cli_check_path_arg("--state-dir", state_dir) < 0)
			return 2;
		if (streq(argv[c], "events") && argc - c >= 2)
			return cmd_records_events(state_dir, argv[c + 1], argc - c - 2,
						  argv + c + 2);
		verb = argv[c];
		k = argc - c - 1;
		c = cmd_records_chain(state_dir, argc - c, argv + c);
		if (c == -ENOENT) {
			verb_error(verb, k, false, NULL);
			records_usage(stderr);
			return 2;
		}
		return c;
	}
	/* Options anywhere: "records --state-dir D list" and "records list --state-dir D". */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (c == 's')
			state_dir = optarg;
		else if (c == 't' && stream) {
			log_error("records logs: --stream given twice ('%s', '%s'): name one, or "
				  "none for both",
				  stream, optarg);
			return 2;
		} else if (c == 't')
			stream = optarg;
		else if (c == 'h') {
			records_usage(stdout);
			return 0;
		} else if (c == '?') {
			log_error("records: unknown or incomplete option '%.*s'",
				  cli_arg_shown(argv[optind - 1]), argv[optind - 1]);
			records_usage(stderr);
			return 2;
		} else if (list_option(c, optarg, &f) < 0)
			return 2;
		else
			list_opts = true;
	}
	if (cli_check_path_arg("--state-dir", state_dir) < 0)
		return 2;
	verb = optind < argc ? argv[optind] : "";
	if (argc - optind == 1 && streq(verb, "list") && !stream)
		return records_list(state_dir, &f);
	if (argc - optind == 2 && streq(verb, "show") && !stream && !list_opts)
		return records_show(state_dir, argv[optind + 1]);
	if (argc - optind == 2 && streq(verb, "logs") && !list_opts)
		return records_logs(state_dir, argv[optind + 1], stream);
	verb_error(verb, argc - optind - 1, list_opts, stream);
	records_usage(stderr);
	return 2;
}
