/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The change set of a run's overlay workspace (run-overlay.h). The upper layer is read
 * through the supervisor's own fd of its tmpfs, never through the task's mount namespace,
 * and only once nothing of the task is left to write into it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "changes-export.h"
#include "changes.h"
#include "cleanup.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "run-export.h"
#include "run-overlay.h"
#include "sandbox.h"

#define OVERLAY_EXPORT_SUBDIR "workspace"

struct run_overlay {
	int upper_root_fd; /* the upper tmpfs's root: SANDBOX_OVERLAY_UPPER and its work dir */
	int lower_fd; /* a read-only clone of the host workspace */
	bool collected;
	int error; /* negative errno of a failed collection, or 0 */
	struct changes_summary sum;
};

int run_overlay_take(struct sandbox_mounts *m, struct run_overlay **ret)
{
	struct run_overlay *o;
	int upper, lower;

	*ret = NULL;
	if (sandbox_mounts_take_overlay(m, &upper, &lower) < 0)
		return 0; /* no overlay */
	o = calloc(1, sizeof(*o));
	if (!o) {
		safe_close(upper);
		safe_close(lower);
		return log_oom();
	}
	*o = (struct run_overlay){ .upper_root_fd = upper, .lower_fd = lower };
	*ret = o;
	return 0;
}

/* A readable directory fd of dir_fd's name (dir_fd may be an O_PATH mount fd). */
static int open_dir(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* DIR/workspace, fresh: an entry of /out by that name takes it, and the export fails. */
static int make_dest(int dst_fd)
{
	if (mkdirat(dst_fd, OVERLAY_EXPORT_SUBDIR, 0700) < 0)
		return -errno;
	return open_dir(dst_fd, OVERLAY_EXPORT_SUBDIR);
}

/*
 * Removes overlayfs's work directory (the task is dead: nothing uses it), so that the
 * export of the tmpfs walks the upper directory alone, not the whiteouts overlayfs keeps
 * there for reuse. Best effort: what is left is listed in the manifest as skipped.
 */
static void remove_work_dir(int root_fd)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int fd;

	fd = openat(root_fd, SANDBOX_OVERLAY_WORK "/work",
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && !(d = fdopendir(fd)))
		safe_close(fd);
	while (d && (de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			(void)unlinkat(dirfd(d), de->d_name, 0);
	if (unlinkat(root_fd, SANDBOX_OVERLAY_WORK "/work", AT_REMOVEDIR) < 0 ||
	    unlinkat(root_fd, SANDBOX_OVERLAY_WORK, AT_REMOVEDIR) < 0)
		log_debug("could not remove the overlay's work directory, ignoring: %m");
}

static int collect(struct run_overlay *o, const struct run_export *e, const char **ret_path)
{
	_cleanup_change_set_free_ struct change_set *s = NULL;
	_cleanup_close_ int upper = -EBADF, lower = -EBADF, ws = -EBADF;
	struct export_options eo;
	int dst, r;

	r = run_export_options(e, &eo, &dst, ret_path);
	if (r < 0)
		return r;
	upper = open_dir(o->upper_root_fd, SANDBOX_OVERLAY_UPPER);
	if (upper < 0)
		return upper;
	lower = open_dir(o->lower_fd, ".");
	if (lower < 0)
		return lower;
	/* Mounted by real root in the initial user namespace: trusted.overlay.* xattrs. */
	r = change_set_compute(upper, lower, CHANGE_XATTRS_TRUSTED, eo.stop_pending, &s);
	if (r < 0)
		return r; /* -EINTR: a stop signal, asked between entries and chunks compared */
	ws = make_dest(dst);
	if (ws < 0)
		return ws;
	remove_work_dir(o->upper_root_fd);
	return changes_export(s, o->upper_root_fd, lower, ws, &eo, &o->sum);
}

int run_overlay_collect(struct run_overlay *o, const struct run_export *e)
{
	const struct changes_summary *s;
	const char *path = "?";

	if (!o)
		return 0;
	s = &o->sum;
	o->collected = true;
	o->error = collect(o, e, &path);
	if (o->error == -EINTR)
		return o->error; /* a stop signal: run_export_finish() says so, once */
	if (o->error == -EEXIST)
		return log_error_errno(o->error,
				       "Failed to export the workspace's changes: '%s/%s' exists "
				       "(an entry of /out by that name?)",
				       path, OVERLAY_EXPORT_SUBDIR);
	if (o->error < 0)
		return log_error_errno(o->error, "Failed to export the workspace's changes: %m");
	log_info("workspace changes: %zu added, %zu modified, %zu deleted, %zu mode changes, "
		 "%zu not regular files; exported to '%s/%s'%s",
		 s->counts[CHANGE_ADDED], s->counts[CHANGE_MODIFIED], s->counts[CHANGE_DELETED],
		 s->counts[CHANGE_MODE], s->skipped, path, OVERLAY_EXPORT_SUBDIR,
		 s->truncated || s->stop != EXPORT_STOP_NONE ? " (incomplete: a cap was reached)"
							     : "");
	return 0;
}

json_t *run_overlay_to_json(const struct run_overlay *o)
{
	if (!o || !o->collected)
		return NULL;
	if (o->error == -EINTR)
		return json_pack("{s:s}", "error",
				 "interrupted by a stop signal (artifacts.error)");
	if (o->error < 0)
		return json_pack("{s:s}", "error", strerror(-o->error));
	return changes_summary_to_json(&o->sum);
}

struct run_overlay *run_overlay_free(struct run_overlay *o)
{
	if (!o)
		return NULL;
	safe_close(o->upper_root_fd);
	safe_close(o->lower_fd);
	free(o);
	return NULL;
}
