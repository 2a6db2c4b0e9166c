/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The per-run event log (docs/run-record.md, "Event log"): JSON Lines at
 * <state>/events/<run-id>.jsonl, root's file of mode 0600 in a directory of mode 0700.
 * Each line is one compact JSON object
 *
 *	{"seq": N, "time": "...", "type": "...", <fields>..., "prev": "<64 hex digits>"}
 *
 * where seq counts from 1 and prev is the SHA-256 of the previous line's exact bytes (its
 * newline excluded); the first line's prev is the SHA-256 of the run id's bytes. The lines
 * are built in memory as events are added; the file is created, with the lines so far,
 * once the task started (run_events_open(), off its start path), and gets the rest at the
 * end of the run (run_events_write()), before the final record, which holds the log's head
 * (run_events_to_json()).
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUN_EVENTS_DIR "events"
/* Caps on one run's log; the last lines and bytes below them are kept for the end. */
#define RUN_EVENTS_MAX_LINES 4096
#define RUN_EVENTS_MAX_BYTES (1024 * 1024)
/* Lower-case hex SHA-256 and its NUL. */
#define RUN_EVENTS_HASH_LEN 65

struct run_events;

/* A new, empty log of run_id. Returns 0 and *ret, or -ENOMEM. Logs nothing. */
int run_events_new(const char *run_id, struct run_events **ret);
/* Accepts and returns NULL. */
struct run_events *run_events_free(struct run_events *e);

/*
 * Appends one event of type, stamped with the current time: fields' keys after seq, time
 * and type, in their order. Takes fields (an object; NULL only as the result of a failed
 * constructor: -ENOMEM). Returns 0; 1 when the event was dropped because the log is full
 * (counted, and said by the last line, "events_dropped"); -EINVAL for a field named seq,
 * time, type or prev, or fields not an object; -ESTALE once the log was written; -ENOMEM.
 * The types "task_exit" and "events_dropped" may use the room kept for the end. Logs
 * nothing.
 */
int run_events_add(struct run_events *e, const char *type, json_t *fields);

/*
 * Creates <state>/events/<run-id>.jsonl below state_fd (the directory made 0700 when
 * missing, tightened to 0700, and refused when not airlock's own), a new file of mode 0600,
 * and writes the lines so far: a supervisor that dies later leaves at least those. Returns
 * 0 or -errno, kept for run_events_to_json() (later writes are not tried); -ESTALE when
 * called twice or after run_events_write(). Logs nothing.
 */
int run_events_open(struct run_events *e, int state_fd, const char *state_dir);
/*
 * Ends the log (appends "events_dropped" when events were dropped), writes what the file
 * lacks (creating it first when run_events_open() was not called) and closes it. Later
 * calls to run_events_add() return -ESTALE. Returns 0 or -errno (also the open's error);
 * the error is kept for run_events_to_json(). Logs nothing.
 */
int run_events_write(struct run_events *e, int state_fd, const char *state_dir);

/*
 * The record's "events" object (a new reference, NULL on -ENOMEM): path, lines, bytes,
 * head, sha256, dropped and, when writing failed, error. Logs nothing.
 */
json_t *run_events_to_json(const struct run_events *e);

/* The log's lines as built so far (owned by e; NULL when empty), their length in *ret_len. */
const char *run_events_text(const struct run_events *e, size_t *ret_len);

/* The prev of a log's first line: SHA-256 of run_id's bytes, as hex. */
void run_events_first_prev(const char *run_id, char hex[RUN_EVENTS_HASH_LEN]);

/* One problem run_events_verify() found. */
struct run_events_problem {
	size_t line; /* 1-based line of the log it concerns; 0: the log as a whole */
	char what[160];
};

/* What the final record says of the log, for run_events_verify(); NULL/0: not checked. */
struct run_events_expect {
	const char *head; /* events.head */
	uint64_t lines; /* events.lines; 0 with has_lines false: not checked */
	bool has_lines;
};

/*
 * Verifies the chain of an event log of run_id held in buf: every line is a JSON object
 * whose seq is its line number and whose prev is the SHA-256 of the line before (the run
 * id's for the first), and, when expect says so, the last line's hash and the line count
 * match the record. A removed, changed, added or reordered line is found and named. Calls
 * report once per problem (at most max_problems times; the count goes on). Pure: no I/O.
 * Returns the number of problems (0: the log verifies).
 */
size_t run_events_verify(const char *buf, size_t len, const char *run_id,
			 const struct run_events_expect *expect, size_t max_problems,
			 void (*report)(const struct run_events_problem *p, void *userdata),
			 void *userdata);
