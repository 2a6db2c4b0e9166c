/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a run's export leaves behind when its supervisor dies (run-export.h): the partial
 * directory and the empty destination, removed by the next start (run-lock.c's reaper),
 * and the removal of a tree without following a link that it and an interrupted export
 * share (run-export-internal.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "run-export-internal.h"
#include "run-export.h"
#include "run.h"

int run_export_open_beneath(int dir_fd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));

	return fd < 0 ? -errno : fd;
}

#define REMOVE_STOP_EVERY 64

static int remove_tree(int dir_fd, const char *name, unsigned depth, bool stoppable);

/* Entries removed by this process: when to look for a stop signal again. */
static unsigned removed;
/* The stop signal that cut a dead run's partial export short, or 0. */
static int stopped_by;

/* Removes everything in the directory fd (taken); no link is followed. */
static int remove_entries(int fd, unsigned depth, bool stoppable)
{
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		safe_close(fd);
		return -errno;
	}
	while (r >= 0 && (de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		/*
		 * Asked every REMOVE_STOP_EVERY entries (sigpending() costs about a microsecond
		 * here, an unlink some): a huge tree stops within a millisecond or so.
		 */
		if (stoppable && ++removed % REMOVE_STOP_EVERY == 0 && run_stop_pending() > 0)
			return -EINTR;
		r = remove_tree(dirfd(d), de->d_name, depth + 1, stoppable);
	}
	return r;
}

/* Removes name below dir_fd and everything in it; no link is followed (openat2()). */
static int remove_tree(int dir_fd, const char *name, unsigned depth, bool stoppable)
{
	int fd, r;

	if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > RUN_EXPORT_MAX_REMOVE_DEPTH)
		return -ELOOP;
	fd = run_export_open_beneath(dir_fd, name, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	r = remove_entries(fd, depth, stoppable);
	if (r < 0)
		return r;
	return unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int run_export_remove_tree(int dir_fd, const char *name, bool stoppable)
{
	return remove_tree(dir_fd, name, 0, stoppable);
}

/* The reaper's line for a partial export it removed (k 0), could not (k < 0) or stopped. */
static void log_swept(int k, const char *dir, const char *partial, const char *run_id)
{
	int sig = k == -EINTR ? run_stop_pending() : 0;

	if (sig > 0 && stopped_by == 0)
		stopped_by = sig;
	if (sig > 0)
		log_about_run(LOG_LEVEL_NOTICE, run_id,
			      "stopped removing '%s/%s', the partial export of dead run %s, at "
			      "SIG%s: the next start goes on",
			      dir, partial, run_id, sigabbrev_np(sig) ?: "?");
	else if (k < 0)
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "could not remove '%s/%s', the partial export of dead run %s: %s",
			      dir, partial, run_id, strerror(-k));
	else
		log_about_run(LOG_LEVEL_NOTICE, run_id,
			      "removed '%s/%s', the partial export of dead run %s", dir, partial,
			      run_id);
}

int run_export_sweep(const char *state_dir, const char *run_id)
{
	_cleanup_close_ int fd = -EBADF;
	char dir[PATH_MAX], partial[NAME_MAX + 1];
	struct stat st;
	int k;

	if (strchr(run_id, '/') || streq(run_id, ".") || streq(run_id, ".."))
		return 0;
	snprintf(dir, sizeof(dir), "%s/" RUN_EXPORT_STATE_SUBDIR, state_dir);
	fd = open_dir_no_symlinks(dir, 0);
	if (fd < 0)
		return 0;
	/* What a supervisor killed during its export wrote: never complete, never DIR. */
	if (snprintf(partial, sizeof(partial), "." RUN_EXPORT_PARTIAL_FMT, run_id) <
		    (int)sizeof(partial) &&
	    fstatat(fd, partial, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		k = remove_tree(fd, partial, 0, true);
		log_swept(k, dir, partial, run_id);
		if (k == -EINTR)
			return k;
	}
	if (unlinkat(fd, run_id, AT_REMOVEDIR) == 0)
		log_debug("removed the empty export directory '%s/%s' of dead run %s", dir, run_id,
			  run_id);
	return 0;
}

void run_export_dir_id_of(const struct statx *stx, struct dir_id *id)
{
	bool born = stx->stx_mask & STATX_BTIME;

	*id = (struct dir_id){ makedev(stx->stx_dev_major, stx->stx_dev_minor), stx->stx_ino,
			       born ? (uintmax_t)stx->stx_btime.tv_sec : 0,
			       born ? stx->stx_btime.tv_nsec : 0 };
}

bool run_export_is_dir_id(int fd, const char *name, const struct dir_id *id)
{
	struct statx stx;
	struct dir_id now;

	if (statx(fd, name, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH),
		  STATX_BASIC_STATS | STATX_BTIME, &stx) < 0 ||
	    !S_ISDIR(stx.stx_mode))
		return false;
	run_export_dir_id_of(&stx, &now);
	return now.dev == id->dev && now.ino == id->ino &&
	       (id->btime_s == 0 || (now.btime_s == id->btime_s && now.btime_ns == id->btime_ns));
}
/* The partial directory a dead run made and wrote: its entries, then itself. */
static int sweep_partial(int parent_fd, const char *partial, const struct dir_id *id)
{
	int fd, r;

	fd = run_export_open_beneath(parent_fd, partial, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	if (!run_export_is_dir_id(fd, "", id)) {
		safe_close(fd);
		return 0; /* not the run's (gone, and another made since): stays */
	}
	r = remove_entries(fd, 0, true);
	if (r < 0)
		return r;
	return unlinkat(parent_fd, partial, AT_REMOVEDIR) < 0 ? -errno : 1;
}

int run_export_sweep_noted(const char *note, const char *run_id)
{
	_cleanup_close_ int parent_fd = -EBADF;
	_cleanup_free_ char *path = NULL;
	struct dir_id d, p;
	char partial[NAME_MAX + 1], *name;
	int n = 0, k;

	if (sscanf(note, "%ju %ju %ju %ju %ju %ju %ju %ju %n", &d.dev, &d.ino, &d.btime_s,
		   &d.btime_ns, &p.dev, &p.ino, &p.btime_s, &p.btime_ns, &n) != 8 ||
	    n == 0 || note[n] != '/')
		return 0;
	path = strdup(note + n);
	if (!path)
		return 0;
	name = strrchr(path, '/');
	*name++ = '\0';
	if (snprintf(partial, sizeof(partial), "." RUN_EXPORT_PARTIAL_FMT, name) >=
	    (int)sizeof(partial))
		return 0;
	parent_fd = open(*path ? path : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (parent_fd < 0)
		return 0;
	k = sweep_partial(parent_fd, partial, &p);
	if (k != 0)
		log_swept(MIN(k, 0), path, partial, run_id);
	if (k == -EINTR)
		return k; /* DIR too stays, for the next start */
	/* DIR only as the run made it, still empty: not one made since, nor a complete export. */
	if (run_export_is_dir_id(parent_fd, name, &d) &&
	    unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
		log_about_run(LOG_LEVEL_NOTICE, run_id,
			      "removed '%s/%s', the empty export directory of dead run %s", path,
			      name, run_id);
	return 0;
}

int run_export_reap_stopped_by(void)
{
	return stopped_by;
}
