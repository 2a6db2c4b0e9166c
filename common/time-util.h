/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <time.h>

/*
 * UTC calendar time from seconds since the epoch, without the C library's gmtime_r(),
 * which loads the local time zone (/etc/localtime) on first use although UTC needs none.
 * Fills the struct tm fields tm_year (years since 1900), tm_mon (0-11), tm_mday, tm_hour,
 * tm_min, tm_sec, tm_wday and tm_yday; proleptic Gregorian calendar, any time_t.
 */
void utc_time(time_t t, struct tm *ret);

/* CLOCK_MONOTONIC in milliseconds: for intervals and deadlines, never for the calendar. */
static inline uint64_t now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
