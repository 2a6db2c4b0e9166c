/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one logging layer. Only supervisor/ logs at levels above debug; policy/, sandbox/
 * and netfilter/ return errors and may call log_debug() only. Output is one line per
 * event (docs/diagnostics.md):
 *  - on stderr, prefixed "airlock: ", the lines about the caller's own run at the maximum
 *    level and above (notice by default: what the caller must act on or know of its run);
 *    never lines about other runs (log_about_run(), or logged while log_set_housekeeping()
 *    is on), unless the level is debug;
 *  - on the diagnostics sink, when one is open (log_open_diagnostics()), every line at info
 *    and above (debug too at debug level), about any run, as text or JSON lines.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>

#include "macro.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	_LOG_LEVEL_MAX,
	_LOG_LEVEL_INVALID = -EINVAL,
};

/* How the diagnostics sink writes a line. */
enum log_format {
	LOG_FORMAT_TEXT, /* "<ts> <level>[ run=<id>]: <message>" */
	LOG_FORMAT_JSON, /* {"ts": ..., "level": ..., "run": <id or null>, "message": ...} */
	_LOG_FORMAT_MAX,
	_LOG_FORMAT_INVALID = -EINVAL,
};

void log_set_max_level(enum log_level level);
enum log_level log_get_max_level(void);
/*
 * Sets the caller's run id: log_task_*() prefix it as "task=<id>" on stderr, and every
 * diagnostics line about the caller's run carries it. Not owned; must outlive use.
 */
void log_set_task_id(const char *id);
/*
 * While on, every line concerns runs that are not the caller's (reaping what dead runs
 * left): it goes to the diagnostics sink only (and to stderr at debug level).
 */
void log_set_housekeeping(bool on);
/* "debug", ..., "error"; NULL for anything else. */
const char *log_level_to_string(enum log_level level);
/* "text", "json"; NULL (to_string) or -EINVAL (from_string) for anything else. */
const char *log_format_to_string(enum log_format f);
enum log_format log_format_from_string(const char *s);
/*
 * Opens the diagnostics sink on fd, which it takes over (closed by log_close_diagnostics()
 * or when replaced; fd 2 stays open, and the sink then replaces the stderr lines). Writing
 * never blocks: a pipe or terminal is reopened non-blocking (/proc/self/fd), a socket is
 * written with send(MSG_DONTWAIT); a line the reader cannot take at once is lost. Returns
 * 0, -EBADF (fd not open for writing), -EPIPE (a FIFO nobody reads) or -errno.
 */
int log_open_diagnostics(int fd, enum log_format format);
void log_close_diagnostics(void);

/*
 * Logs one line. If error is non-zero, errno is set to |error| so "%m" works, and the
 * function returns -|error|; with error 0 it returns 0.
 */
int log_internal(enum log_level level, int error, bool task, const char *fmt, ...) _printf_(4, 5);
/*
 * The first error line logged about the caller's own run (not while housekeeping) since
 * log_reset_first_error(), or NULL: the reason a run was refused, for its record. Points
 * into a static buffer that stays until the next reset.
 */
const char *log_first_error(void);
void log_reset_first_error(void);
/* Logs one line about another run (run_id): diagnostics only, as above. Returns 0. */
int log_about_run(enum log_level level, const char *run_id, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_internal(LOG_LEVEL_DEBUG, 0, false, __VA_ARGS__)
#define log_info(...) log_internal(LOG_LEVEL_INFO, 0, false, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_LEVEL_NOTICE, 0, false, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_LEVEL_WARNING, 0, false, __VA_ARGS__)
#define log_error(...) log_internal(LOG_LEVEL_ERROR, 0, false, __VA_ARGS__)
#define log_debug_errno(r, ...) log_internal(LOG_LEVEL_DEBUG, (r), false, __VA_ARGS__)
#define log_warning_errno(r, ...) log_internal(LOG_LEVEL_WARNING, (r), false, __VA_ARGS__)
#define log_error_errno(r, ...) log_internal(LOG_LEVEL_ERROR, (r), false, __VA_ARGS__)
#define log_task_info(...) log_internal(LOG_LEVEL_INFO, 0, true, __VA_ARGS__)
#define log_task_warning(...) log_internal(LOG_LEVEL_WARNING, 0, true, __VA_ARGS__)
#define log_task_error(...) log_internal(LOG_LEVEL_ERROR, 0, true, __VA_ARGS__)
#define log_task_error_errno(r, ...) log_internal(LOG_LEVEL_ERROR, (r), true, __VA_ARGS__)
#define log_oom() log_internal(LOG_LEVEL_ERROR, ENOMEM, false, "Out of memory.")
