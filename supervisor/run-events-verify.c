/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event log's chain, checked without I/O (run-events.h, run_events_verify()). */
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "macro.h"
#include "parse-util.h"
#include "run-events.h"
#include "sha256.h"

struct verifier {
	size_t problems, max_problems;
	void (*report)(const struct run_events_problem *p, void *userdata);
	void *userdata;
};

_printf_(3, 4) static void problem(struct verifier *v, size_t line, const char *fmt, ...)
{
	struct run_events_problem p = { .line = line };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p.what, sizeof(p.what), fmt, ap);
	va_end(ap);
	if (v->problems++ < v->max_problems && v->report)
		v->report(&p, v->userdata);
}

/*
 * One line (n bytes, no newline), number line: its seq must follow last_seq and its prev
 * must be prev. Reports at most one problem. Updates *last_seq when the seq is readable.
 */
static void check_line(struct verifier *v, const char *s, size_t n, size_t line,
		       json_int_t *last_seq, const char *prev)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *seq, *p;

	o = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		problem(v, line, "not a JSON object: the line was changed");
		return;
	}
	seq = json_object_get(o, "seq");
	p = json_object_get(o, "prev");
	if (!json_is_integer(seq) || !json_is_string(p) ||
	    !json_is_string(json_object_get(o, "type"))) {
		problem(v, line, "seq, type or prev missing: the line was changed");
		return;
	}
	/* No seq follows the largest one (and adding 1 to it would overflow). */
	if (*last_seq == LLONG_MAX || json_integer_value(seq) != *last_seq + 1)
		problem(v, line, "seq %lld follows seq %lld: a line was removed, added or moved",
			(long long)json_integer_value(seq), (long long)*last_seq);
	else if (!streq(json_string_value(p), prev) && line == 1)
		problem(v, line,
			"prev is not the hash of the run id: lines were removed before "
			"it, or the log is another run's");
	else if (!streq(json_string_value(p), prev))
		problem(v, line,
			"prev is not the hash of line %zu: line %zu was changed, or a "
			"line was removed or moved",
			line - 1, line - 1);
	*last_seq = json_integer_value(seq);
}

static void check_expect(struct verifier *v, const struct run_events_expect *x, size_t lines,
			 const char *head)
{
	if (x->has_lines && x->lines != lines)
		problem(v, 0, "the log has %zu line%s, its record says %llu: lines were %s", lines,
			lines == 1 ? "" : "s", (unsigned long long)x->lines,
			lines < x->lines ? "removed" : "added");
	else if (x->head && !streq(x->head, head))
		problem(v, lines,
			"the hash of the last line is not the record's head: the line "
			"was changed, or lines were replaced at the end");
}

size_t run_events_verify(const char *buf, size_t len, const char *run_id,
			 const struct run_events_expect *expect, size_t max_problems,
			 void (*report)(const struct run_events_problem *p, void *userdata),
			 void *userdata)
{
	struct verifier v = { .max_problems = max_problems,
			      .report = report,
			      .userdata = userdata };
	char prev[RUN_EVENTS_HASH_LEN];
	uint8_t md[SHA256_DIGEST_SIZE];
	json_int_t last_seq = 0;
	size_t line = 0, off = 0;

	run_events_first_prev(run_id, prev);
	while (off < len) {
		const char *s = buf + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl ? (size_t)(nl - s) : len - off;

		line++;
		if (!nl)
			problem(&v, line, "no newline at its end: the log was cut or changed");
		else
			check_line(&v, s, n, line, &last_seq, prev);
		sha256(s, n, md);
		hex_encode(md, sizeof(md), prev);
		off += n + 1;
	}
	if (expect)
		check_expect(&v, expect, line, prev);
	return v.problems;
}
