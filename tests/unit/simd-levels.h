/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * TEST_MAIN_SIMD(): the output filter's tests run once per vector level (simd.h), each
 * level capped in turn; a level this CPU lacks is reported as skipped, with the reason.
 */
#include <stdio.h>

#include "simd.h"
#include "test.h"

static inline void simd_test_variant(size_t k, const char **name, const char **skip)
{
	static char reason[128];

	if (k >= SIMD_N_LEVELS) {
		simd_level_cap(SIMD_AVX512);
		return;
	}
	*name = simd_level_name((enum simd_level)k);
	*skip = NULL;
	if ((enum simd_level)k > simd_cpu_level()) {
		snprintf(reason, sizeof(reason), "this CPU lacks %s (it has up to %s)", *name,
			 simd_level_name(simd_cpu_level()));
		*skip = reason;
		return;
	}
	simd_level_cap((enum simd_level)k);
}

#define TEST_MAIN_SIMD() TEST_MAIN_VARIANTS(SIMD_N_LEVELS, simd_test_variant)
