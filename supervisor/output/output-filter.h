/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The filter one task stream (stdout or stderr) goes through on its way out of the
 * supervisor: the redactor, then the neutraliser (docs/logs.md). Pure: no I/O, no globals;
 * it allocates memory. It has two outputs: what the caller gets and what the captured log
 * gets. Both are redacted; the log's is always neutralised, the caller's unless the policy
 * says logs.terminal "raw" (then it is the redacted bytes as they are).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redactor;
struct output_filter;

/* What one call gave out; the buffers stay valid until the next call on the filter. */
struct output_filter_out {
	const char *caller;
	size_t caller_len;
	const char *log;
	size_t log_len;
};

/*
 * A filter over compiled r (which must outlive it). raw_caller: the caller's output is
 * not neutralised. Returns 0 and *ret, -EINVAL (r not compiled) or -ENOMEM. Does not log.
 */
int output_filter_new(const struct redactor *r, bool raw_caller, struct output_filter **ret);
/* Frees f; accepts and returns NULL. */
struct output_filter *output_filter_free(struct output_filter *f);

/*
 * Takes len bytes of task output; *ret has what may go out now (possibly nothing: bytes
 * that may start a secret are held back). Returns 0, -ENOMEM (the stream is lost: fail
 * closed, emit nothing more of it), or -EINVAL after output_filter_finish(). Does not log.
 */
int output_filter_feed(struct output_filter *f, const void *buf, size_t len,
		       struct output_filter_out *ret);
/*
 * Room for len bytes to read the task's output into: fed from there, it is not copied
 * (redact_stream_space()). Valid until the next call on f; NULL when out of memory or
 * after output_filter_finish().
 */
void *output_filter_space(struct output_filter *f, size_t len);
/* The task went quiet: what was held only for a short partial match goes out. As feed. */
int output_filter_flush(struct output_filter *f, struct output_filter_out *ret);
/* The end of the stream: everything held, a pending partial match redacted. As feed. */
int output_filter_finish(struct output_filter *f, struct output_filter_out *ret);
/* Bytes held back now. */
size_t output_filter_held(const struct output_filter *f);
/* Whether output_filter_finish() ran. */
bool output_filter_is_finished(const struct output_filter *f);
/* Redactions emitted so far for rule (an index of redactor_rule_name()). */
uint64_t output_filter_count(const struct output_filter *f, size_t rule);
