/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The redactor's own structure, shared by redact.c and redact-stream.c. */

#include "redact-internal.h"

struct redact_rule {
	char *name;
	enum redact_rule_kind kind;
};

struct redactor {
	struct redact_rule *rules;
	size_t n_rules, cap_rules;
	struct redact_value *values;
	size_t n_values;
	struct secret_chunk *chunks; /* the values' bytes (redact.c) */
	size_t n_patterns;
	bool builtin;
	bool compiled;
	struct value_matcher *vm; /* NULL without values */
	struct pattern_set *patterns; /* NULL without user patterns */
};
