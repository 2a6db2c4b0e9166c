/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one logging layer. Only supervisor/ logs at levels above debug; policy/, sandbox/
 * and netfilter/ return errors and may call log_debug() only. Output is one line per
 * event on stderr, prefixed "airlock: ".
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

void log_set_max_level(enum log_level level);
enum log_level log_get_max_level(void);
/* Sets a task id that log_task_*() prefix as "task=<id>". Not owned; must outlive use. */
void log_set_task_id(const char *id);

/*
 * Logs one line. If error is non-zero, errno is set to |error| so "%m" works, and the
 * function returns -|error|; with error 0 it returns 0.
 */
int log_internal(enum log_level level, int error, bool task, const char *fmt, ...) _printf_(4, 5);

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
