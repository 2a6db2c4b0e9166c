/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What this kernel can enforce: one entry per feature airlock relies on. */

#include <stdbool.h>
#include <stddef.h>

struct probe_result {
	const char *name; /* static, or name_buf */
	char name_buf[32];
	bool available;
	bool required; /* airlock refuses every run without it */
	char detail[160];
};

#define PROBE_MAX 32

/* Fills up to PROBE_MAX results; returns how many. Runs tests in this process only. */
size_t probe_all(struct probe_result *results);
