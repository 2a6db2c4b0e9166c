/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The events airlock records of a run (run-events.h holds the log itself): what each adds
 * is in docs/run-record.md, "Event log". Each returns 0 (an event the full log dropped
 * included) or -ENOMEM, and logs nothing.
 */

#include <jansson.h>
#include <stdbool.h>

struct credential_set;
struct policy;
struct run_events;
struct run_summary;

/* "run_start": the policy's name and digest, the command and the workspace. */
int run_events_run_start(struct run_events *e, const struct policy *p, char *const *argv,
			 const char *workspace);
/* One "credential" per grant of grants (credentials_to_json(): never a value). */
int run_events_credentials(struct run_events *e, json_t *grants);
/*
 * The task started: run_events_run_start() and run_events_credentials() of creds' grants
 * (NULL: none), then run_events_open() below state_fd, whose error, kept in the log, is
 * said at its end (run_events_finish()).
 */
int run_events_started(struct run_events *e, const struct policy *p, char *const *argv,
		       const char *workspace, const struct credential_set *creds, int state_fd,
		       const char *state_dir);
/*
 * The end of the run, from its final record's summary: "run_start" and its "credential"s
 * unless started (they were added when the task started), then "dns", "dns_unrecorded",
 * "denied", "denied_unrecorded", the cgroup limits' "limit_hit" and "task_exit".
 */
int run_events_conclude(struct run_events *e, const struct run_summary *s, bool started);
/*
 * run_events_conclude(), then run_events_write() below state_fd: the log's end, written
 * before the final record. Logs what fails (the record then says "error"). Returns the
 * record's "events" object (run_events_to_json()), NULL on -ENOMEM.
 */
json_t *run_events_finish(struct run_events *e, const struct run_summary *s, bool started,
			  int state_fd, const char *state_dir);
