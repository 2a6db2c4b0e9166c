/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What dead runs left below a cgroup parent: their run cgroups, killed and removed by a
 * later start (cgroup_reap_stale()), and the parent directories themselves.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cgroup-internal.h"
#include "cleanup.h"
#include "log.h"
#include "macro.h"
#include "policy.h"

/* The distinct hierarchy mounts a run uses (co-mounted controllers appear once). */
static size_t layout_bases(const struct cgroup_layout *l, const char *parent,
			   char bases[][CGROUP_PATH_MAX * 2], size_t max)
{
	size_t n = 0;

	if (l->mode == CGROUP_MODE_V2) {
		snprintf(bases[n++], sizeof(bases[0]), "%s%s%s", l->unified.mount,
			 parent[0] ? "/" : "", parent);
		return n;
	}
	for (int i = 0; i < _CGROUP_CONTROLLER_MAX && n < max; i++) {
		bool dup = false;

		if (!(l->v1_controllers & CGROUP_MASK(i)))
			continue;
		for (int j = 0; j < i; j++)
			dup |= (l->v1_controllers & CGROUP_MASK(j)) &&
			       streq(l->v1[j].mount, l->v1[i].mount);
		if (!dup)
			snprintf(bases[n++], sizeof(bases[0]), "%s/%s", l->v1[i].mount, parent);
	}
	return n;
}

static int reap_one(const struct cgroup_layout *l, const char *parent, const char *name)
{
	static const struct policy_limits none = {};
	struct cgroup_run *c = NULL;
	int r;

	r = cgroup_run_open(l, parent, name, &none, true, &c, NULL);
	if (r == -EBUSY) /* a live run whose lock is in another runtime directory */
		return 0;
	if (r < 0)
		return r;
	log_debug("Reaping stale cgroup run '%s'", name);
	cgroup_run_free(c);
	return 1;
}

static int reap_base(const struct cgroup_layout *l, const char *parent, const char *base,
		     bool (*run_alive)(const char *run_id, void *ud), void *ud)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int r, n = 0, first = 0;

	d = opendir(base);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !cgroup_run_id_is_valid(de->d_name))
			continue;
		if (run_alive && run_alive(de->d_name, ud))
			continue;
		r = reap_one(l, parent, de->d_name);
		if (r < 0 && first == 0)
			first = r;
		n += r > 0;
	}
	return first < 0 ? first : n;
}

int cgroup_reap_stale(const struct cgroup_layout *l, const char *parent,
		      bool (*run_alive)(const char *run_id, void *ud), void *ud)
{
	char bases[_CGROUP_CONTROLLER_MAX][CGROUP_PATH_MAX * 2];
	size_t n;
	int r, total = 0, first = 0;

	assert(l);
	if (l->mode == CGROUP_MODE_NONE)
		return 0;
	if (!parent)
		parent = l->default_parent;
	if (parent[0] != '\0' && !cgroup_path_is_valid_relative(parent))
		return -EINVAL;

	n = layout_bases(l, parent, bases, ELEMENTSOF(bases));
	for (size_t i = 0; i < n; i++) {
		r = reap_base(l, parent, bases[i], run_alive, ud);
		if (r < 0 && first == 0)
			first = r;
		total += MAX(r, 0);
	}
	return first < 0 ? first : total;
}

int cgroup_parent_remove(const struct cgroup_layout *l, const char *parent)
{
	char bases[_CGROUP_CONTROLLER_MAX][CGROUP_PATH_MAX * 2];
	size_t n;
	int first = 0;

	assert(l && parent);
	if (l->mode == CGROUP_MODE_NONE)
		return 0;
	if (!cgroup_path_is_valid_relative(parent))
		return -EINVAL;

	n = layout_bases(l, parent, bases, ELEMENTSOF(bases));
	for (size_t i = 0; i < n; i++)
		if (rmdir(bases[i]) < 0 && errno != ENOENT && first == 0)
			first = -errno;
	return first;
}
