/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `airlock records list` and `show` (docs/run-record.md, "Reading records"): the records of
 * a state directory in time order, filtered, as a table or JSON lines, every field of the
 * table neutralised so that no record can act on the reader's terminal.
 */

#include <stdbool.h>
#include <stdint.h>

struct records_filter {
	bool json; /* JSON lines instead of the table */
	bool has_since, has_until;
	int64_t since_ns, until_ns; /* started_ns in [since, until) */
	const char *cause; /* exit.cause, or NULL */
	bool has_exit;
	int exit_code;
	const char *digest; /* policy.digest, with or without "sha256:", or NULL */
	uint64_t limit; /* at most the last limit records; 0: all */
};

/*
 * Parses a --since/--until TIME: RFC 3339 UTC ("2026-12-06T01:00:00Z", with or without a
 * fraction of a second) or "@SECONDS[.FRACTION]". Returns 0 and *ret (ns since the epoch)
 * or -EINVAL.
 */
int records_parse_time(const char *s, int64_t *ret);

/*
 * Prints the records of <state_dir>/records that f lets through, oldest first. Returns 0,
 * 1 when a record could not be read (listed as such), or 1 on an error it logged.
 */
int records_list(const char *state_dir, const struct records_filter *f);

/*
 * Prints record id as stored, after checking it is a run record (a JSON object with
 * record_version, run_id and exit); else logs one line naming the file and the problem.
 * Returns 0 or 1.
 */
int records_show(const char *state_dir, const char *id);
