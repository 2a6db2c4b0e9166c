/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once
/*
 * The run's redactor (docs/logs.md): the built-in token patterns, the value of each
 * credential slot under its name, and the policy's logs.redact_patterns, named
 * "redact_patterns.<index>"; and the record's "redactions" object, its counts.
 */
#include <jansson.h>

struct credential_set;
struct policy;
struct redactor;
struct run_io;

/*
 * Builds and compiles the redactor of a run. A value that cannot be redacted (shorter than
 * 8 bytes once whitespace is taken out, or longer than 16 KiB) or a pattern that does not
 * compile refuses the run. Logs each refusal as one line. Returns 0 and *ret (owned by the
 * caller, redactor_free()), or -errno. creds may be NULL.
 */
int run_redact_new(const struct policy *p, const struct credential_set *creds,
		   struct redactor **ret);
/*
 * The record's "redactions" object (owned by the caller): per credential name every
 * slot's count, per pattern those that matched; stdout and stderr together. NULL when r
 * is NULL or on -ENOMEM.
 */
json_t *run_redact_to_json(const struct redactor *r, const struct run_io *io);
