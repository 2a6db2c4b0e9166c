/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes run_events_verify() over an event log's bytes as found on disk (anyone who could
 * write the state directory may have changed them): it must not crash, must name only
 * lines the input has, and must report as many problems as it counts (up to its cap).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "run-events.h"

#define RUN_ID "20260101T000000Z-0123abcd"
#define MAX_PROBLEMS 8

struct seen {
	size_t reports, lines;
};

static void report(const struct run_events_problem *p, void *userdata)
{
	struct seen *s = userdata;

	if (p->line > s->lines || !memchr(p->what, '\0', sizeof(p->what)))
		abort();
	s->reports++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_events_expect x = { .head = "0", .lines = 3, .has_lines = true };
	struct seen s = {};
	size_t n;

	for (size_t i = 0; i < size; i++)
		s.lines += data[i] == '\n';
	s.lines += size > 0 && data[size - 1] != '\n';
	n = run_events_verify((const char *)data, size, RUN_ID, NULL, MAX_PROBLEMS, report, &s);
	if (s.reports != (n < MAX_PROBLEMS ? n : MAX_PROBLEMS))
		abort();
	s.reports = 0;
	n = run_events_verify((const char *)data, size, RUN_ID, &x, MAX_PROBLEMS, report, &s);
	if (n == 0 || s.reports != (n < MAX_PROBLEMS ? n : MAX_PROBLEMS))
		abort(); /* a head of "0" never matches */
	return 0;
}
