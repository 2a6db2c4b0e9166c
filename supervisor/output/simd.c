/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <string.h>

#include "simd.h"

/* -1 until computed; racing first calls compute the same value. */
static int cpu_level = -1;
static int level_cap = SIMD_AVX512;

static enum simd_level detect(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("ssse3") || !__builtin_cpu_supports("popcnt"))
		return SIMD_PLAIN;
	/* x86-64-v3, by the features both gcc and clang name (the CPUs with these have
	 * LZCNT, MOVBE and F16C too). */
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi") ||
	    !__builtin_cpu_supports("bmi2") || !__builtin_cpu_supports("fma"))
		return SIMD_VEC128;
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
	    !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512dq") ||
	    !__builtin_cpu_supports("avx512cd") || !__builtin_cpu_supports("avx512vbmi") ||
	    !__builtin_cpu_supports("avx512vbmi2"))
		return SIMD_AVX2;
	return SIMD_AVX512;
#else
	/* NEON is part of arm64; GCC's generic vectors run on any CPU. */
	return SIMD_VEC128;
#endif
}

enum simd_level simd_cpu_level(void)
{
	int l = __atomic_load_n(&cpu_level, __ATOMIC_RELAXED);

	if (l < 0) {
		l = (int)detect();
		__atomic_store_n(&cpu_level, l, __ATOMIC_RELAXED);
	}
	return (enum simd_level)l;
}

enum simd_level simd_level(void)
{
	int l = (int)simd_cpu_level(), cap = __atomic_load_n(&level_cap, __ATOMIC_RELAXED);

	return (enum simd_level)(l < cap ? l : cap);
}

void simd_level_cap(enum simd_level cap)
{
	if ((int)cap < 0 || cap >= SIMD_N_LEVELS)
		cap = SIMD_AVX512;
	__atomic_store_n(&level_cap, (int)cap, __ATOMIC_RELAXED);
}

const char *simd_level_name(enum simd_level level)
{
	switch (level) {
	case SIMD_PLAIN:
		return "plain";
	case SIMD_VEC128:
#if defined(__x86_64__)
		return "ssse3";
#elif defined(__aarch64__)
		return "neon";
#else
		return "vector";
#endif
	case SIMD_AVX2:
		return "avx2";
	case SIMD_AVX512:
		return "avx512";
	case SIMD_N_LEVELS:
	default:
		return NULL;
	}
}

int simd_level_from_name(const char *name)
{
	for (int l = 0; l < SIMD_N_LEVELS; l++)
		if (strcmp(name, simd_level_name((enum simd_level)l)) == 0)
			return l;
	return -1;
}
