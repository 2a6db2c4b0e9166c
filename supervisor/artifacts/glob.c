/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The include globs of an export, over relative paths of raw bytes. Pure: no I/O, no
 * allocation. Matching is iterative with one backtrack point per '*' and one per "**",
 * so a hostile glob or path costs at most O(glob * path) steps.
 */
#include <stdbool.h>
#include <string.h>

#include "export.h"
#include "macro.h"

/* One component of glob (up to '/' or the end) against one of path; '*' stays inside. */
static bool component_match(const char *g, const char *gend, const char *p, const char *pend)
{
	const char *star_g = NULL, *star_p = NULL;

	while (p < pend) {
		if (g < gend && *g == '*') {
			star_g = ++g;
			star_p = p;
			continue;
		}
		if (g < gend && *g == '\\' && g + 1 < gend && g[1] == *p) {
			g += 2;
			p++;
			continue;
		}
		if (g < gend && *g != '\\' && (*g == '?' || *g == *p)) {
			g++;
			p++;
			continue;
		}
		if (!star_g)
			return false;
		g = star_g;
		p = ++star_p;
	}
	while (g < gend && *g == '*')
		g++;
	return g == gend;
}

static const char *component_end(const char *s)
{
	const char *e = s;

	while (*e && *e != '/') {
		if (*e == '\\' && e[1])
			e++;
		e++;
	}
	return e;
}

static bool is_globstar(const char *g, const char *gend)
{
	return gend - g == 2 && g[0] == '*' && g[1] == '*';
}

bool export_glob_match(const char *glob, const char *path)
{
	const char *g = glob, *p = path;
	const char *back_g = NULL, *back_p = NULL; /* after the last "**": where to retry */

	for (;;) {
		const char *gend = component_end(g), *pend = strchrnul(p, '/');

		if (*g && is_globstar(g, gend)) {
			back_g = *gend ? gend + 1 : gend;
			back_p = p;
			g = back_g;
			if (!*g) /* a trailing "**" matches whatever is left */
				return true;
			continue;
		}
		if (*g && *p && component_match(g, gend, p, pend)) {
			g = *gend ? gend + 1 : gend;
			p = *pend ? pend + 1 : pend;
			if (!*g && !*p)
				return true;
			if (*g && *p)
				continue;
		}
		/* Mismatch: let the last "**" take one more component, if there is one. */
		if (!back_g || !*back_p)
			return false;
		back_p = strchrnul(back_p, '/');
		if (*back_p)
			back_p++;
		else
			return false;
		g = back_g;
		p = back_p;
	}
}

bool export_included(char *const *include, const char *path)
{
	if (!include)
		return true;
	for (char *const *g = include; *g; g++)
		if (export_glob_match(*g, path))
			return true;
	return false;
}

bool export_glob_is_valid(const char *glob)
{
	size_t n = strlen(glob);
	const char *c = glob;

	if (n == 0 || n > EXPORT_MAX_GLOB || glob[0] == '/')
		return false;
	for (;;) {
		const char *end = component_end(c);
		size_t len = (size_t)(end - c);

		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && strneq(c, "..", 2)))
			return false;
		if (!*end)
			break;
		c = end + 1;
	}
	return glob[n - 1] != '\\' || (n >= 2 && glob[n - 2] == '\\');
}
