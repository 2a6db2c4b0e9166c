/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

/*
 * Whether path equals dir or lies beneath it. Both are normalised absolute paths (no
 * "//", no trailing "/", no "." or ".."): the check is textual, component-wise.
 */
bool path_is_beneath(const char *path, const char *dir);
