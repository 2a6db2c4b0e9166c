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
#include "run-log.h"

#define RECORD_MAX_BYTES (16 * 1024 * 1024)

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run ids are "<UTC timestamp>-<hex>": [0-9A-Za-z-] only, so no path tricks. */
static bool run_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64)
		return false;
	return strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == n;
}

static void list_one(const char *dir, const char *file)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	char path[PATH_MAX + NAME_MAX + 2];
	json_error_t err;
	const char *id = "?", *started = "?", *name = "?", *cause = "?";
	json_t *cmd = NULL;
	int code = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	o = json_load_file(path, 0, &err);
	if (!o || json_unpack(o, "{s:s, s:s, s:{s:s}, s:{s:i, s:s}, s:o}", "run_id", &id,
			      "started_at", &started, "policy", "name", &name, "exit", "code",
			      &code, "cause", &cause, "command", &cmd) < 0) {
		printf("%-26s (unreadable record: %s)\n", file, o ? "missing fields" : err.text);
		return;
	}
	printf("%-26s %-24s %-16s %4d %-12s %s\n", id, started, name, code, cause,
	       json_string_value(json_array_get(cmd, 0)) ?: "");
}

static int records_list(const char *state_dir)
{
	char dir[PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/records", state_dir);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		log_error_errno(-errno, "Failed to open '%s': %m", dir);
		return 1;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nn;

		if (l < 6 || !streq(de->d_name + l - 5, ".json"))
			continue;
		nn = realloc(names, (n + 1) * sizeof(char *));
		if (!nn)
			break;
		names = nn;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(char *), name_cmp);
	printf("%-26s %-24s %-16s %4s %-12s %s\n", "RUN", "STARTED", "POLICY", "EXIT", "CAUSE",
	       "COMMAND");
	for (size_t i = 0; i < n; i++) {
		list_one(dir, names[i]);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int records_show(const char *state_dir, const char *id)
{
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];

	if (!run_id_valid(id)) {
		log_error("records: '%s' is not a run id", id);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/records/%s.json", state_dir, id);
	if (cli_read_input(path, RECORD_MAX_BYTES, &buf, NULL) < 0)
		return 1;
	fputs(buf, stdout);
	if (buf[0] && buf[strlen(buf) - 1] != '\n')
		putchar('\n');
	return 0;
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
static int records_logs(const char *state_dir, const char *id, int argc, char **argv)
{
	enum run_log_stream s = _RUN_LOG_STREAM_INVALID;
	const char *name = NULL;

	if (!run_id_valid(id)) {
		log_error("records: '%s' is not a run id", id);
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		if (streq(argv[i], "--stream") && i + 1 < argc)
			name = argv[++i];
		else if (strneq(argv[i], "--stream=", 9))
			name = argv[i] + 9;
		else {
			log_error("records logs: unknown argument '%s'", argv[i]);
			return 2;
		}
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

int cmd_records(int argc, char **argv)
{
	static const struct option options[] = { { "state-dir", required_argument, NULL, 's' },
						 {} };
	const char *state_dir = AIRLOCK_STATE_DIR;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0) {
		if (c != 's')
			return 2;
		state_dir = optarg;
	}
	if (cli_check_path_arg("--state-dir", state_dir) < 0)
		return 2;
	if (argc - optind == 1 && streq(argv[optind], "list"))
		return records_list(state_dir);
	if (argc - optind == 2 && streq(argv[optind], "show"))
		return records_show(state_dir, argv[optind + 1]);
	if (argc - optind >= 2 && streq(argv[optind], "logs"))
		return records_logs(state_dir, argv[optind + 1], argc - optind - 2,
				    argv + optind + 2);
	if (argc - optind >= 2 && streq(argv[optind], "events"))
		return cmd_records_events(state_dir, argv[optind + 1], argc - optind - 2,
					  argv + optind + 2);
	fprintf(stderr,
		"Usage: airlock records [--state-dir DIR] list\n"
		"       airlock records [--state-dir DIR] show ID\n"
		"       airlock records [--state-dir DIR] logs ID [--stream stdout|stderr]\n"
		"       airlock records [--state-dir DIR] events ID [--json]\n");
	return 2;
}
