/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The head file against the records (docs/audit.md): its latest line pins the end of the
 * chain, the only thing that shows records removed from the end. A head edited or put back
 * to an older copy must show too: its run id, its line before, records after it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "macro.h"
#include "verify-head.h"

struct head_check {
	verify_problem_fn fn;
	void *userdata;
	size_t problems;
};

_printf_(2, 3) static void problem(struct head_check *c, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	c->problems++;
	c->fn(n < 0 ? "chain/head: a problem (out of memory to say which)" : text, c->userdata);
}

/* Whether e is the record run_id's file: "<run_id>.json". */
static bool names(const struct verify_entry *e, const char *run_id)
{
	size_t n = strlen(run_id);

	return strneq(e->name, run_id, n) && streq(e->name + n, ".json");
}

/*
 * The record of seq h->seq that h names: the one with its SHA-256 (of two with one seq, the
 * right one), else the first of that seq, else NULL.
 */
static const struct verify_entry *find(const struct verify_entry *v, size_t n,
				       const struct chain_head *h)
{
	const struct verify_entry *first = NULL;

	for (size_t i = 0; i < n; i++) {
		if (v[i].seq != h->seq)
			continue;
		if (streq(v[i].sha256, h->sha256))
			return &v[i];
		if (!first)
			first = &v[i];
	}
	return first;
}

/* The latest line: the record it names, by seq, SHA-256 and run id. */
static void check_latest(struct head_check *c, const struct chain_head *h,
			 const struct verify_entry *v, size_t n)
{
	const struct verify_entry *e = find(v, n, h);

	if (!e)
		problem(c,
			"seq %" PRIu64 ": missing: the head names run %s (deleted, or its writer "
			"died before writing it)",
			h->seq, h->run_id);
	else if (!streq(e->sha256, h->sha256))
		problem(c,
			"seq %" PRIu64 ": the head names run %s with sha256 %s: not record %s "
			"(changed or replaced)",
			h->seq, h->run_id, h->sha256, e->name);
	else if (!names(e, h->run_id))
		problem(c,
			"seq %" PRIu64 ": the head names run %s: not record %s, whose sha256 it "
			"holds (the head was edited)",
			h->seq, h->run_id, e->name);
}

/*
 * The line before: an append writes the head it followed there, so it is the record one
 * lower ("-" before the first). A record of that seq that is not there is a gap, which the
 * links name.
 */
static void check_before(struct head_check *c, const struct chain_head *latest,
			 const struct chain_head *b, const struct verify_entry *v, size_t n)
{
	const struct verify_entry *e;

	if (latest->seq == 1 && b->seq != 0) {
		problem(c,
			"chain/head: the line before seq 1 names seq %" PRIu64 " (run %s): the "
			"first record has none before it (the head was edited)",
			b->seq, b->run_id);
		return;
	}
	if (latest->seq <= 1)
		return;
	if (b->seq == 0) {
		problem(c,
			"chain/head: the line before seq %" PRIu64 " is \"-\" (none), not seq "
			"%" PRIu64 " (the head was edited)",
			latest->seq, latest->seq - 1);
		return;
	}
	if (b->seq != latest->seq - 1) {
		problem(c,
			"chain/head: the line before seq %" PRIu64 " names seq %" PRIu64
			" (run %s), not seq %" PRIu64 " (the head was edited)",
			latest->seq, b->seq, b->run_id, latest->seq - 1);
		return;
	}
	e = find(v, n, b);
	if (!e)
		return;
	if (!streq(e->sha256, b->sha256))
		problem(c,
			"seq %" PRIu64 ": the head's line before names run %s with sha256 %s: "
			"not record %s (changed or replaced, or the head edited)",
			b->seq, b->run_id, b->sha256, e->name);
	else if (!names(e, b->run_id))
		problem(c,
			"seq %" PRIu64 ": the head's line before names run %s: not record %s, "
			"whose sha256 it holds (the head was edited)",
			b->seq, b->run_id, e->name);
}

size_t verify_head(const struct chain_head *latest, const struct chain_head *before,
		   const struct verify_entry *v, size_t n, uint64_t head_now_seq,
		   verify_problem_fn fn, void *userdata)
{
	struct head_check c = { fn, userdata, 0 };
	uint64_t last = n > 0 ? v[n - 1].seq : 0;
	size_t i = 0;

	if (latest->seq == 0) {
		if (n > 0)
			problem(&c,
				"chain/head: missing, while %zu records are chained: removed "
				"(with any records after seq %" PRIu64 ")",
				n, last);
		return c.problems;
	}
	check_latest(&c, latest, v, n);
	check_before(&c, latest, before, v, n);
	/* Appends write the head first: a record after it is one the head was put back from. */
	if (last > latest->seq && head_now_seq < last) {
		while (v[i].seq <= latest->seq)
			i++;
		problem(&c,
			"record %s (seq %" PRIu64 "): after the head (seq %" PRIu64 ", run %s): "
			"the head was put back (%zu record%s after it)",
			v[i].name, v[i].seq, latest->seq, latest->run_id, n - i,
			n - i == 1 ? "" : "s");
	}
	return c.problems;
}
