/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Days to civil date in the proleptic Gregorian calendar: count in 400-year eras
 * (146097 days each) starting on 1 March, so that the leap day is the last day of a
 * year and each era repeats exactly.
 */
#include <stdint.h>

#include "time-util.h"

#define DAYS_PER_ERA 146097
#define SECS_PER_DAY 86400

void utc_time(time_t t, struct tm *ret)
{
	int64_t days = t / SECS_PER_DAY, secs = t % SECS_PER_DAY;
	int64_t era, doe, yoe, doy, mp, year;

	if (secs < 0) {
		secs += SECS_PER_DAY;
		days--;
	}
	/* 1970-01-01 is a Thursday, day 719468 after 0000-03-01. */
	ret->tm_wday = (int)(((days % 7) + 11) % 7);
	days += 719468;
	era = (days >= 0 ? days : days - (DAYS_PER_ERA - 1)) / DAYS_PER_ERA;
	doe = days - era * DAYS_PER_ERA; /* day of era, 0..146096 */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* year of era, 0..399 */
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* day of the March-based year */
	mp = (5 * doy + 2) / 153; /* month, March = 0 */
	year = yoe + era * 400 + (mp >= 10);

	ret->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	ret->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	ret->tm_year = (int)(year - 1900);
	ret->tm_hour = (int)(secs / 3600);
	ret->tm_min = (int)(secs / 60 % 60);
	ret->tm_sec = (int)(secs % 60);
	/* Day of the January-based year. */
	{
		static const int before[12] = { 0,   31,  59,  90,  120, 151,
						181, 212, 243, 273, 304, 334 };
		int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

		ret->tm_yday = before[ret->tm_mon] + ret->tm_mday - 1 + (leap && ret->tm_mon > 1);
	}
}
