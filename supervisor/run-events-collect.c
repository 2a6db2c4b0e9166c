/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The events of a run, from what it knows: its start and credential grants once the task
 * started, and at its end what the record collected (DNS decisions, denied connections,
 * limits hit, the exit). See docs/run-record.md, "Event log". Only run_events_finish()
 * logs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "credentials.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "policy.h"
#include "record-json.h"
#include "record.h"
#include "run-events-collect.h"
#include "run-events.h"

/* 0 or -ENOMEM: a dropped event (the log is full) is no error, the marker says it. */
static int add(struct run_events *e, const char *type, json_t *fields)
{
	int r = run_events_add(e, type, fields);

	return r < 0 ? r : 0;
}

int run_events_run_start(struct run_events *e, const struct policy *p, char *const *argv,
			 const char *workspace)
{
	json_t *o = json_pack("{s:o}", "command", record_json_strv(argv));
	char digest[80];

	if (o && p) /* a run refused for its policy has none */
		snprintf(digest, sizeof(digest), "sha256:%s", p->digest);
	if (o && ((p && json_object_set_new(
				o, "policy",
				json_pack("{s:s, s:s}", "name", p->name, "digest", digest)) < 0) ||
		  (workspace &&
		   json_object_set_new(o, "workspace", record_json_bytes(workspace)) < 0))) {
		json_decref(o);
		o = NULL;
	}
	return add(e, "run_start", o);
}

/* One event per element of array (none when it is not one), each a copy of the element. */
static int add_each(struct run_events *e, const char *type, json_t *array)
{
	size_t i;
	json_t *v;
	int r;

	json_array_foreach(array, i, v)
	{
		r = add(e, type, json_deep_copy(v));
		if (r < 0)
			return r;
	}
	return 0;
}

int run_events_credentials(struct run_events *e, json_t *grants)
{
	return add_each(e, "credential", grants);
}

/* A record's DNS entry as an event's fields: its query type as "qtype" ("type" is the event's). */
static json_t *dns_fields(json_t *entry)
{
	json_t *f = json_object(), *v;
	const char *key, *qkey;

	json_object_foreach(entry, key, v)
	{
		qkey = streq(key, "type") ? "qtype" : key;
		if (f && json_object_set_new(f, qkey, json_deep_copy(v)) < 0) {
			json_decref(f);
			return NULL;
		}
	}
	return f;
}

static int add_dns(struct run_events *e, json_t *entries)
{
	size_t i;
	json_t *v;
	int r;

	json_array_foreach(entries, i, v)
	{
		r = add(e, "dns", dns_fields(v));
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_network(struct run_events *e, json_t *net)
{
	json_int_t dns_lost = json_integer_value(json_object_get(net, "dns_unrecorded"));
	json_int_t denied_lost = json_integer_value(json_object_get(net, "denied_unrecorded"));
	int r;

	r = add_dns(e, json_object_get(net, "dns"));
	if (r >= 0 && dns_lost > 0)
		r = add(e, "dns_unrecorded",
			json_pack("{s:I, s:O}", "count", dns_lost, "verdicts",
				  json_object_get(net, "dns_unrecorded_verdicts")));
	if (r >= 0)
		r = add_each(e, "denied", json_object_get(net, "denied"));
	if (r >= 0 && denied_lost > 0)
		r = add(e, "denied_unrecorded", json_pack("{s:I}", "count", denied_lost));
	return r;
}

/* The cgroup limits the task ran into, from the record's resources. */
static int add_cgroup_limits(struct run_events *e, const struct run_summary *s)
{
	json_int_t ooms = json_integer_value(json_object_get(s->resources, "oom_kills"));
	json_int_t pids = json_integer_value(json_object_get(s->resources, "pids_limit_hits"));
	const struct policy_limits *l = &s->policy->limits;
	char buf[32];
	int r = 0;

	if ((ooms > 0 || streq(s->cause, "oom_killed")) && (l->set & POLICY_LIMIT_MEMORY)) {
		format_size(l->memory, buf, sizeof(buf));
		r = add(e, "limit_hit",
			json_pack("{s:s, s:s, s:I}", "limit", "memory", "value", buf, "oom_kills",
				  ooms));
	}
	if (r >= 0 && pids > 0 && (l->set & POLICY_LIMIT_PIDS))
		r = add(e, "limit_hit",
			json_pack("{s:s, s:I, s:I}", "limit", "pids", "value", (json_int_t)l->pids,
				  "pids_limit_hits", pids));
	return r;
}

static json_t *exit_json(const struct run_summary *s)
{
	json_t *o = json_pack("{s:i, s:s}", "code", s->exit_code, "cause", s->cause);
	int r = 0;

	if (o && s->has_status)
		r |= json_object_set_new(o, "status", json_integer(s->status));
	if (o && s->signal)
		r |= json_object_set_new(o, "signal", json_integer(s->signal));
	if (o && s->init_code == CLD_EXITED)
		r |= json_object_set_new(o, "init_status", json_integer(s->init_status));
	else if (o && (s->init_code == CLD_KILLED || s->init_code == CLD_DUMPED))
		r |= json_object_set_new(o, "init_signal", json_integer(s->init_status));
	if (o && s->failed_step) {
		r |= json_object_set_new(o, "step", json_string(s->failed_step));
		r |= json_object_set_new(o, "error", json_string(strerror(s->failed_errno)));
	}
	if (r < 0) { /* an event that leaves out what ended the run is no event */
		json_decref(o);
		return NULL;
	}
	return o;
}

int run_events_conclude(struct run_events *e, const struct run_summary *s, bool started)
{
	int r = 0;

	if (!started)
		r = run_events_run_start(e, s->policy, s->argv, s->workspace);
	if (r >= 0 && !started && s->credentials)
		r = run_events_credentials(e, s->credentials);
	if (r >= 0 && s->network)
		r = add_network(e, s->network);
	if (r >= 0 && s->resources)
		r = add_cgroup_limits(e, s);
	if (r >= 0)
		r = add(e, "task_exit", exit_json(s));
	return r;
}

int run_events_started(struct run_events *e, const struct policy *p, char *const *argv,
		       const char *workspace, const struct credential_set *creds, int state_fd,
		       const char *state_dir)
{
	_cleanup_(json_decrefp) json_t *grants = creds ? credentials_to_json(creds) : NULL;
	int r;

	if (creds && !grants)
		return -ENOMEM;
	r = run_events_run_start(e, p, argv, workspace);
	if (r >= 0 && grants)
		r = run_events_credentials(e, grants);
	(void)run_events_open(e, state_fd, state_dir);
	return r;
}

json_t *run_events_finish(struct run_events *e, const struct run_summary *s, bool started,
			  int state_fd, const char *state_dir)
{
	int r;

	if (!e) /* out of memory when the run got its id: no log, and the record says nothing */
		return NULL;
	if (run_events_conclude(e, s, started) < 0)
		log_oom();
	r = run_events_write(e, state_fd, state_dir);
	if (r < 0)
		log_error_errno(
			r, "Failed to write the event log '%s/" RUN_EVENTS_DIR "/%s.jsonl': %m",
			state_dir, s->run_id);
	return run_events_to_json(e);
}
