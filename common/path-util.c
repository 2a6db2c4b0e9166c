/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "macro.h"
#include "path-util.h"

bool path_is_beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (streq(dir, "/"))
		return true;
	return strneq(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}
