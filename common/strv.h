/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* NULL-terminated arrays of owned strings. */
char **strv_free(char **l);
size_t strv_length(char *const *l);
/* Appends a copy of s. Returns 0 or -ENOMEM; *l is untouched on failure. */
int strv_push_copy(char ***l, const char *s);
/* Deep copy; NULL on -ENOMEM (a NULL input gives an empty list). */
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

static inline void strv_freep(char ***l)
{
	strv_free(*l);
}
#define _cleanup_strv_free_ __attribute__((cleanup(strv_freep)))
