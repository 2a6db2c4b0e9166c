/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "parse-util.h"

/* Parses leading decimal digits; *end points past them. */
static int parse_digits(const char *s, uint64_t *ret, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -ERANGE;
	}
	*ret = v;
	*end = p;
	return 0;
}

struct unit {
	const char *suffix;
	uint64_t factor;
};

/* Digits followed by exactly one suffix of the table, scaled without overflow. */
static int parse_with_units(const char *s, const struct unit *units, size_t n_units, uint64_t *ret)
{
	const char *end;
	uint64_t v;
	int r;

	r = parse_digits(s, &v, &end);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_units; i++) {
		if (!streq(end, units[i].suffix))
			continue;
		if (__builtin_mul_overflow(v, units[i].factor, &v))
			return -ERANGE;
		*ret = v;
		return 0;
	}
	return -EINVAL;
}

int parse_size(const char *s, uint64_t *ret)
{
	static const struct unit units[] = {
		{ "", 1 },	     { "K", 1ULL << 10 }, { "M", 1ULL << 20 },
		{ "G", 1ULL << 30 }, { "T", 1ULL << 40 },
	};

	return parse_with_units(s, units, ELEMENTSOF(units), ret);
}

int parse_duration_ms(const char *s, uint64_t *ret)
{
	static const struct unit units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60 * 1000 },
		{ "h", 60 * 60 * 1000 },
	};

	return parse_with_units(s, units, ELEMENTSOF(units), ret);
}

void format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char suffixes[] = "TGMK";

	for (int i = 0; i < 4; i++) {
		uint64_t f = 1ULL << (10 * (4 - i));
		if (bytes >= f && bytes % f == 0) {
			snprintf(buf, len, "%" PRIu64 "%c", bytes / f, suffixes[i]);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64, bytes);
}

void format_duration_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms >= 3600000 && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRIu64 "h", ms / 3600000);
	else if (ms >= 60000 && ms % 60000 == 0)
		snprintf(buf, len, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRIu64 "ms", ms);
}

void hex_encode(const uint8_t *data, size_t len, char *buf)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		buf[2 * i] = digits[data[i] >> 4];
		buf[2 * i + 1] = digits[data[i] & 0xf];
	}
	buf[2 * len] = '\0';
}
