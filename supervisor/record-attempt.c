/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "parse-util.h"
#include "policy.h"
#include "record-attempt.h"
#include "record-json.h"
#include "record.h"

static void read_loginuid(struct record_caller *c)
{
	_cleanup_free_ char *buf = NULL;
	unsigned long v;
	char *end = NULL;
	size_t len = 0;

	if (read_file_at(AT_FDCWD, "/proc/self/loginuid", 64, &buf, &len) < 0)
		return;
	errno = 0;
	v = strtoul(buf, &end, 10);
	/* 4294967295: no login uid was ever set (a daemon, or no audit support). */
	if (errno || end == buf || v >= UINT32_MAX)
		return;
	c->has_loginuid = true;
	c->loginuid = (uint32_t)v;
}

void record_caller_get(struct record_caller *c)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	*c = (struct record_caller){ .uid = getuid(), .gid = getgid(), .euid = geteuid() };
	if (getpwuid_r(c->uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(c->user, sizeof(c->user), "%s", res->pw_name);
	read_loginuid(c);
	c->sudo_uid = getenv("SUDO_UID");
	c->sudo_gid = getenv("SUDO_GID");
	c->sudo_user = getenv("SUDO_USER");
}

/* A decimal id as an integer; anything else as the bytes found (a claim, not a fact). */
static json_t *id_json(const char *s)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!errno && end != s && !*end && s[0] >= '0' && s[0] <= '9' && v <= UINT32_MAX)
		return json_integer((json_int_t)v);
	return record_json_bytes(s);
}

static json_t *sudo_json(const struct record_caller *c)
{
	json_t *o = json_object();

	if (o &&
	    ((c->sudo_uid && record_json_set(o, "uid", id_json(c->sudo_uid)) < 0) ||
	     (c->sudo_gid && record_json_set(o, "gid", id_json(c->sudo_gid)) < 0) ||
	     (c->sudo_user && record_json_set(o, "user", record_json_bytes(c->sudo_user)) < 0))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *caller_json(const struct record_caller *c)
{
	json_t *o = json_pack("{s:I, s:I, s:I}", "uid", (json_int_t)c->uid, "gid",
			      (json_int_t)c->gid, "euid", (json_int_t)c->euid);

	if (!o)
		return NULL;
	if ((c->user[0] && record_json_set(o, "user", record_json_bytes(c->user)) < 0) ||
	    (c->has_loginuid &&
	     record_json_set(o, "loginuid", json_integer((json_int_t)c->loginuid)) < 0) ||
	    ((c->sudo_uid || c->sudo_gid || c->sudo_user) &&
	     record_json_set(o, "sudo", sudo_json(c)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *record_policy_effective(const struct policy *p)
{
	_cleanup_free_ char *text = NULL;

	if (policy_to_json(p, false, &text) < 0)
		return NULL;
	return json_loads(text, JSON_REJECT_DUPLICATES, NULL);
}

/* {"name", "digest", "effective": {...}}, or {"file": ...} for a policy that did not parse. */
static json_t *policy_json(const struct run_summary *s)
{
	char digest[80];
	json_t *o;

	if (!s->policy)
		return s->policy_path
			       ? json_pack("{s:o}", "file", record_json_bytes(s->policy_path))
			       : json_object();
	snprintf(digest, sizeof(digest), "sha256:%s", s->policy->digest);
	o = json_pack("{s:s, s:s, s:o}", "name", s->policy->name, "digest", digest, "effective",
		      s->policy_effective ? json_incref(s->policy_effective)
					  : record_policy_effective(s->policy));
	if (o && s->policy_path &&
	    record_json_set(o, "file", record_json_bytes(s->policy_path)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int exit_add(json_t *o, const struct run_summary *s)
{
	json_t *exit_o = json_object_get(o, "exit");

	if (!exit_o)
		return -ENOMEM;
	if (s->reason && record_json_set(exit_o, "reason", json_string(s->reason)) < 0)
		return -ENOMEM;
	if (s->message && record_json_set(exit_o, "message", record_json_bytes(s->message)) < 0)
		return -ENOMEM;
	return 0;
}

int record_attempt_add(json_t *o, const struct run_summary *s)
{
	json_t *checks;
	int64_t ns = (int64_t)s->started.tv_sec * 1000000000 + s->started.tv_nsec;

	if (record_json_set(o, "policy", policy_json(s)) < 0 ||
	    record_json_set(o, "started_ns", json_integer(ns)) < 0 || exit_add(o, s) < 0)
		return -ENOMEM;
	if (s->caller && record_json_set(o, "caller", caller_json(s->caller)) < 0)
		return -ENOMEM;
	if (!s->checks)
		return 0;
	checks = json_array();
	if (record_json_set(o, "checks", checks) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_checks; i++)
		if (record_json_append(checks, json_string(s->checks[i])) < 0)
			return -ENOMEM;
	return 0;
}
