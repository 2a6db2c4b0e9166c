/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
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

int path_normalize(const char *path, char *buf, size_t len)
{
	size_t n = 0;

	if (!path || path[0] != '/' || len < 2)
		return -EINVAL;
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, '/');
		size_t l = (size_t)(end - p);

		if (l == 2 && strneq(p, "..", 2)) {
			while (n > 0 && buf[n - 1] != '/')
				n--;
			n = n > 0 ? n - 1 : 0; /* the slash before it; ".." of "/" is "/" */
		} else if (l > 0 && !(l == 1 && p[0] == '.')) {
			if (n + 1 + l >= len)
				return -ENAMETOOLONG;
			buf[n++] = '/';
			memcpy(buf + n, p, l);
			n += l;
		}
		p = *end ? end + 1 : end;
	}
	if (n == 0)
		buf[n++] = '/';
	buf[n] = '\0';
	return 0;
}
