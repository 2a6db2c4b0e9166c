/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static enum log_level max_level = LOG_LEVEL_NOTICE;
static const char *task_id;

void log_set_max_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_max_level(void)
{
	return max_level;
}

void log_set_task_id(const char *id)
{
	task_id = id;
}

int log_internal(enum log_level level, int error, bool task, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int e = error < 0 ? -error : error;

	if (level < max_level)
		return -e;

	errno = e;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	if (task && task_id)
		fprintf(stderr, "airlock: task=%s: %s\n", task_id, buf);
	else
		fprintf(stderr, "airlock: %s\n", buf);
	return -e;
}
