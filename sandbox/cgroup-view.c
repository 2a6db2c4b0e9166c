// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The task's view of its own cgroup: which of the run's directories appear where below
 * /sys/fs/cgroup, and the alias links of co-mounted v1 hierarchies. Pure (no I/O); the
 * mounts themselves are prepared by mounts.c and attached by mountns.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cgroup-internal.h"
#include "macro.h"

#define VIEW_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_,.=-"

static bool view_name_is_valid(const char *s, size_t len)
{
	return len > 0 && len < CGROUP_VIEW_NAME_MAX && s[0] != '.' &&
	       strspn(s, VIEW_NAME_CHARS) >= len;
}

int cgroup_view_name(const char *mount, char *buf, size_t len)
{
	const char *slash = strrchr(mount, '/');
	const char *name = slash ? slash + 1 : mount;
	size_t n = strlen(name);

	if (!view_name_is_valid(name, n))
		return n >= CGROUP_VIEW_NAME_MAX ? -ENAMETOOLONG : -EINVAL;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, name, n + 1);
	return 0;
}

static bool name_is_taken(const char *part, const char *const *names, size_t n,
			  const struct cgroup_view_link *links, size_t n_links)
{
	for (size_t i = 0; i < n; i++)
		if (streq(part, names[i]))
			return true;
	for (size_t i = 0; i < n_links; i++)
		if (streq(part, links[i].name))
			return true;
	return false;
}

/* Adds a link for each comma-separated part of name; returns the new count or -E2BIG. */
static int links_of(const char *name, const char *const *names, size_t n,
		    struct cgroup_view_link *ret, size_t count, size_t max)
{
	for (const char *p = name; *p;) {
		size_t len = strcspn(p, ",");
		char part[CGROUP_VIEW_NAME_MAX];

		if (len < sizeof(part)) {
			memcpy(part, p, len);
			part[len] = '\0';
			if (view_name_is_valid(part, len) &&
			    !name_is_taken(part, names, n, ret, count)) {
				if (count >= max)
					return -E2BIG;
				memcpy(ret[count].name, part, len + 1);
				ret[count++].target = name;
			}
		}
		p += len + (p[len] == ',');
	}
	return (int)count;
}

int cgroup_view_links(const char *const *names, size_t n, struct cgroup_view_link *ret, size_t max)
{
	int count = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strchr(names[i], ','))
			continue;
		count = links_of(names[i], names, n, ret, (size_t)count, max);
		if (count < 0)
			return count;
	}
	return count;
}

size_t cgroup_run_view(const struct cgroup_run *c, struct cgroup_view_dir *ret, size_t n)
{
	size_t k = 0;

	if (!c)
		return 0;
	for (size_t i = 0; i < c->n_dirs && k < n; i++) {
		const struct cgroup_dir *d = &c->dirs[i];

		/* A v1 directory whose hierarchy has no usable name stays out of the view. */
		if (d->fd < 0 || (!c->v2 && d->view_name[0] == '\0'))
			continue;
		ret[k++] =
			(struct cgroup_view_dir){ .fd = d->fd, .name = c->v2 ? "" : d->view_name };
	}
	return k;
}
