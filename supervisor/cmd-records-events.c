/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * airlock records events ID [--json]: a run's event log, its chain verified against the
 * run's record first (docs/run-record.md, "Event log").
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "cleanup.h"
#include "cli.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "run-events.h"

/* The largest record and event log read. */
#define RECORD_MAX_BYTES (16 * 1024 * 1024)

/*
 * Writes s (n bytes) with every control, DEL and non-ASCII byte as \xHH, and a backslash as
 * two when backslash (a decoded string: so that \xHH is never the string's own text). A
 * line airlock wrote holds none of those bytes: --json prints it unchanged.
 */
static void put_escaped(const char *s, size_t n, bool backslash)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' && backslash)
			fputs("\\\\", stdout);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* One line for a reader: "SEQ TIME TYPE key=value ...", strings unquoted. */
static void print_event(const char *line, size_t n)
{
	_cleanup_(json_decrefp) json_t *o = json_loadb(line, n, 0, NULL);
	_cleanup_free_ char *v = NULL;
	const char *key;
	json_t *val;

	if (!json_is_object(o)) {
		fputs("(not an event) ", stdout);
		put_escaped(line, n, false);
		putchar('\n');
		return;
	}
	printf("%4lld", (long long)json_integer_value(json_object_get(o, "seq")));
	json_object_foreach(o, key, val)
	{
		if (streq(key, "seq") || streq(key, "prev"))
			continue;
		putchar(' ');
		if (!streq(key, "time") && !streq(key, "type")) {
			put_escaped(key, strlen(key), true); /* a changed line's key: any bytes */
			putchar('=');
		}
		if (json_is_string(val)) {
			put_escaped(json_string_value(val), json_string_length(val), true);
		} else {
			free(v);
			v = json_dumps(val, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
			put_escaped(v ?: "?", v ? strlen(v) : 1, false);
		}
	}
	putchar('\n');
}

static void print_log(const char *buf, size_t len, bool raw)
{
	for (size_t off = 0; off < len;) {
		const char *s = buf + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;

		if (raw) {
			put_escaped(s, n, false);
			putchar('\n');
		} else
			print_event(s, n);
		off += n + 1;
	}
}

struct report_ctx {
	const char *id;
};

static void report(const struct run_events_problem *p, void *userdata)
{
	const struct report_ctx *c = userdata;

	if (p->line > 0)
		log_error("records: event log of run %s, line %zu: %s", c->id, p->line, p->what);
	else
		log_error("records: event log of run %s: %s", c->id, p->what);
}

/*
 * What the run's record says of its log (events.head, events.lines), in *x; the record
 * text is kept in *ret_rec for x->head to point into. 0 without a record or an "events".
 */
static int read_expect(const char *state_dir, const char *id, json_t **ret_rec,
		       struct run_events_expect *x)
{
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];
	json_t *ev, *lines;
	size_t len = 0;

	/* A regular file only: a FIFO planted there is never waited on. */
	snprintf(path, sizeof(path), "%s/records/%s.json", state_dir, id);
	if (chain_read_file_at(AT_FDCWD, path, RECORD_MAX_BYTES, &buf, &len) < 0)
		return 0;
	*ret_rec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	ev = json_object_get(*ret_rec, "events");
	if (!ev)
		return 0;
	lines = json_object_get(ev, "lines");
	x->head = json_string_value(json_object_get(ev, "head"));
	x->has_lines = json_is_integer(lines);
	x->lines = x->has_lines ? (uint64_t)json_integer_value(lines) : 0;
	return 1;
}

int cmd_records_events(const char *state_dir, const char *id, int argc, char **argv)
{
	_cleanup_(json_decrefp) json_t *rec = NULL;
	_cleanup_free_ char *buf = NULL;
	struct run_events_expect x = {};
	struct report_ctx ctx = { .id = id };
	char path[PATH_MAX];
	bool raw = false;
	size_t len = 0, problems;
	int r;

	for (int i = 0; i < argc; i++) {
		if (!streq(argv[i], "--json")) {
			log_error("records events: unknown argument '%.*s'", cli_arg_shown(argv[i]),
				  argv[i]);
			return 2;
		}
		raw = true;
	}
	if (strlen(id) == 0 || strlen(id) > 64 ||
	    strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") !=
		    strlen(id)) {
		log_error("records: '%s' is not a run id", id);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/" RUN_EVENTS_DIR "/%s.jsonl", state_dir, id);
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		log_error("records: run '%s' has no event log in '%s/" RUN_EVENTS_DIR "'", id,
			  state_dir);
		return 1;
	}
	r = chain_read_file_at(AT_FDCWD, path, RECORD_MAX_BYTES, &buf, &len);
	if (r < 0) {
		log_error_errno(r, "records: event log of run %s: '%s': %s", id, path,
				r == -EBADFD ? "not a regular file" : strerror(-r));
		return 1;
	}

	if (read_expect(state_dir, id, &rec, &x) == 0)
		log_warning("records: run '%s' has no record saying its event log's head: "
			    "only its chain is checked",
			    id);
	problems = run_events_verify(buf, len, id, &x, 64, report, &ctx);
	print_log(buf, len, raw);
	if (problems > 64)
		log_error("records: event log of run %s: %zu more problems", id, problems - 64);
	return problems > 0 ? 1 : 0;
}
