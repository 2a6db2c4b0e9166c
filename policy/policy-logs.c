/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "logs" section: how much of each stream a run's captured logs keep, whether the
 * caller's terminal gets the task's output neutralised or raw, and the patterns whose
 * matches are redacted. The patterns are only checked for size here: this module has no
 * regular expression engine, the redactor compiles them (and refuses the run when one does
 * not compile).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse-util.h"
#include "policy-internal.h"
#include "strv.h"

static const char *const terminal_names[_POLICY_LOGS_TERMINAL_MAX] = {
	[POLICY_LOGS_TERMINAL_NEUTRAL] = "neutral",
	[POLICY_LOGS_TERMINAL_RAW] = "raw",
};

const char *policy_logs_terminal_to_string(enum policy_logs_terminal t)
{
	if (t < 0 || t >= _POLICY_LOGS_TERMINAL_MAX)
		return NULL;
	return terminal_names[t];
}

enum policy_logs_terminal policy_logs_terminal_from_string(const char *s)
{
	if (!s)
		return _POLICY_LOGS_TERMINAL_INVALID;
	for (int i = 0; i < _POLICY_LOGS_TERMINAL_MAX; i++)
		if (streq(terminal_names[i], s))
			return (enum policy_logs_terminal)i;
	return _POLICY_LOGS_TERMINAL_INVALID;
}

static int dispatch_max_size(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	uint64_t *max_size = data;
	char hi[32];
	uint64_t s;

	if (parse_size(json_string_value(v), &s) < 0)
		return policy_errorf(ctx, path, "expected a size like \"16M\"");
	if (s > POLICY_MAX_LOG_SIZE) {
		format_size(POLICY_MAX_LOG_SIZE, hi, sizeof(hi));
		return policy_errorf(ctx, path,
				     "expected a size in 0..%s (\"0\": no captured logs)", hi);
	}
	*max_size = s;
	return 0;
}

static int dispatch_terminal(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	enum policy_logs_terminal *t = data;
	enum policy_logs_terminal r;

	r = policy_logs_terminal_from_string(json_string_value(v));
	if (r < 0)
		return policy_errorf(ctx, path, "expected \"neutral\" or \"raw\"");
	*t = r;
	return 0;
}

static int dispatch_redact_patterns(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char ***patterns = data;
	char child[POLICY_MAX_PATH];
	size_t i;
	json_t *e;
	int r;

	if (json_array_size(v) > POLICY_MAX_REDACT_PATTERNS)
		return policy_errorf(ctx, path, "expected at most %d patterns",
				     POLICY_MAX_REDACT_PATTERNS);
	*patterns = calloc(1, sizeof(char *));
	if (!*patterns)
		return -ENOMEM;
	json_array_foreach(v, i, e)
	{
		policy_path_index(child, sizeof(child), path, i);
		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) > POLICY_MAX_REDACT_PATTERN)
			return policy_errorf(ctx, child,
					     "expected a pattern (a non-empty string of at most "
					     "%d bytes)",
					     POLICY_MAX_REDACT_PATTERN);
		r = strv_push_copy(patterns, json_string_value(e));
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_dispatch_logs(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "max_size", POLICY_JSON_STRING, dispatch_max_size,
		  offsetof(struct policy_logs, max_size), false, "a size like \"16M\"" },
		{ "terminal", POLICY_JSON_STRING, dispatch_terminal,
		  offsetof(struct policy_logs, terminal), false, "\"neutral\" or \"raw\"" },
		{ "redact_patterns", POLICY_JSON_ARRAY, dispatch_redact_patterns,
		  offsetof(struct policy_logs, redact_patterns), false,
		  "an array of pattern strings" },
		{}
	};

	return policy_dispatch(path, v, table, data, ctx);
}

json_t *policy_logs_tree(const struct policy_logs *l)
{
	json_t *o, *patterns = json_array();
	char size[32];

	if (!patterns)
		return NULL;
	for (size_t i = 0; l->redact_patterns && l->redact_patterns[i]; i++)
		if (json_array_append_new(patterns, json_string(l->redact_patterns[i])) < 0) {
			json_decref(patterns);
			return NULL;
		}
	format_size(l->max_size, size, sizeof(size));
	/* "o" steals patterns, also when the pack fails. */
	o = json_pack("{s:s, s:s, s:o}", "max_size", size, "terminal",
		      policy_logs_terminal_to_string(l->terminal), "redact_patterns", patterns);
	return o;
}
