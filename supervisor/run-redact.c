/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>

#include "cleanup.h"
#include "credentials.h"
#include "log.h"
#include "output-filter.h"
#include "policy.h"
#include "redact.h"
#include "run-io.h"
#include "run-redact.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct redactor *, redactor_free);

struct add_values {
	struct redactor *r;
	int error;
	const char *name; /* the slot whose value failed */
	size_t raw, decoded; /* its bytes besides whitespace, as it is and decoded */
};

static void add_value(const char *name, const void *value, size_t len, void *userdata)
{
	struct add_values *a = userdata;
	int k;

	if (a->error < 0)
		return;
	k = redactor_add_value(a->r, name, value, len);
	if (k < 0) {
		a->error = k;
		a->name = name;
		if (k == -EINVAL && redact_value_counts(value, len, &a->raw, &a->decoded) < 0)
			a->error = -ENOMEM;
	}
}

static int add_values(struct redactor *r, const struct credential_set *creds)
{
	struct add_values a = { .r = r };

	credentials_for_each(creds, add_value, &a);
	/* The value is matched as the normaliser decodes it: "%41%42%43%44" is "ABCD". */
	if (a.error == -EINVAL && a.raw >= REDACT_MIN_VALUE)
		return log_error_errno(
			a.error,
			"refusing run: credential '%s' is too short to be redacted "
			"from the task's output: it decodes to %zu bytes besides whitespace "
			"(%%XX, \\xHH and other escapes read as one byte or character, a "
			"backslash at its end not counted), "
			"at least %d needed",
			a.name, a.decoded, REDACT_MIN_VALUE);
	if (a.error == -EINVAL)
		return log_error_errno(
			a.error,
			"refusing run: credential '%s' is too short to be redacted "
			"from the task's output: %zu bytes besides whitespace, at least %d needed",
			a.name, a.raw, REDACT_MIN_VALUE);
	if (a.error == -E2BIG)
		return log_error_errno(a.error,
				       "refusing run: credential '%s' is too long to be redacted "
				       "from the task's output (at most %d bytes)",
				       a.name, REDACT_MAX_VALUE);
	if (a.error < 0)
		return log_error_errno(
			a.error, "Failed to register credential '%s' for redaction: %m", a.name);
	return 0;
}

static int add_patterns(struct redactor *r, const struct policy *p)
{
	char *const *pat = p->logs.redact_patterns;

	for (size_t i = 0; pat && pat[i]; i++) {
		struct redact_pattern_error e = {};
		char name[sizeof("redact_patterns.") + 20];
		int k;

		snprintf(name, sizeof(name), "redact_patterns.%zu", i);
		k = redactor_add_pattern(r, name, pat[i], &e);
		if (k == -EINVAL)
			return log_error_errno(k,
					       "refusing run: logs.redact_patterns[%zu] at offset "
					       "%zu: %s",
					       i, e.offset, e.message);
		if (k < 0)
			return log_error_errno(k, "Failed to add logs.redact_patterns[%zu]: %m", i);
	}
	return 0;
}

int run_redact_new(const struct policy *p, const struct credential_set *creds,
		   struct redactor **ret)
{
	_cleanup_(redactor_freep) struct redactor *r = NULL;
	int k;

	if (redactor_new(true, &r) < 0)
		return log_oom();
	k = add_values(r, creds);
	if (k >= 0)
		k = add_patterns(r, p);
	if (k < 0)
		return k;
	if (redactor_compile(r) < 0)
		return log_oom();
	*ret = TAKE_PTR(r);
	return 0;
}

static uint64_t rule_count(const struct run_io *io, size_t rule)
{
	uint64_t n = 0;

	if (io->out.filter)
		n += output_filter_count(io->out.filter, rule);
	if (io->err.filter)
		n += output_filter_count(io->err.filter, rule);
	return n;
}

json_t *run_redact_to_json(const struct redactor *r, const struct run_io *io)
{
	json_t *o, *values, *patterns;

	if (!r)
		return NULL;
	o = json_object();
	values = json_object();
	patterns = json_object();
	if (!o || json_object_set_new(o, "credentials", values) < 0 ||
	    json_object_set_new(o, "patterns", patterns) < 0) {
		json_decref(o);
		return NULL;
	}
	for (size_t i = 0; i < redactor_n_rules(r); i++) {
		bool value = redactor_rule_kind(r, i) == REDACT_RULE_VALUE;
		uint64_t n = rule_count(io, i);

		if ((n > 0 || value) &&
		    json_object_set_new(value ? values : patterns, redactor_rule_name(r, i),
					json_integer((json_int_t)n)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
