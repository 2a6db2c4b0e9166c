/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether path equals dir or lies beneath it. Both are normalised absolute paths (no
 * "//", no trailing "/", no "." or ".."): the check is textual, component-wise.
 */
bool path_is_beneath(const char *path, const char *dir);
/*
 * Writes the absolute path in its normal form into buf: no "//", no trailing "/", no "."
 * and no ".." (taken lexically: the caller makes sure no symbolic link is in the way).
 * Returns 0, -EINVAL (not absolute) or -ENAMETOOLONG.
 */
int path_normalize(const char *path, char *buf, size_t len);
