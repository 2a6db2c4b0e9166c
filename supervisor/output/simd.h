/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The one place the output filter's vector level is decided (docs/logs.md, Performance).
 * The normaliser, the neutraliser and the built-in prefilter each ask simd_level() and run
 * the code of that level, so every level's code can be tested on a CPU that has it.
 */

enum simd_level {
	SIMD_PLAIN, /* byte by byte, no vector code */
	SIMD_VEC128, /* SSSE3 (x86-64), NEON (arm64), GCC generic vectors elsewhere */
	SIMD_AVX2, /* x86-64-v3 */
	SIMD_AVX512, /* x86-64-v4 with AVX-512 VBMI and VBMI2 */
	SIMD_N_LEVELS,
};

/* The highest level this CPU runs; computed once. */
enum simd_level simd_cpu_level(void);
/* The level the filter uses: the CPU's, at most the cap. */
enum simd_level simd_level(void);
/*
 * Caps the level (tests and benchmarks; the product never calls it, and nothing in the
 * environment sets it). SIMD_AVX512 removes the cap.
 */
void simd_level_cap(enum simd_level cap);
/* "plain", "ssse3" / "neon" / "vector", "avx2", "avx512"; NULL when out of range. */
const char *simd_level_name(enum simd_level level);
/* Parses a name of simd_level_name(); -1 when unknown. */
int simd_level_from_name(const char *name);
