/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Run locks: <runtime>/runs/<run-id>.lock, flock'ed for a run's lifetime, holding where its
 * records go. A later start tells live runs from dead ones by them and cleans up after the
 * dead (their records marked aborted, their temporary files and lock files removed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "credentials.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "record.h"
#include "run-export.h"
#include "run-lock.h"

/* How old an unlocked ".<id>.new" lock file must be to be taken for a dead creator's. */
#define RUN_LOCK_NEW_STALE_S 60

/*
 * The legacy way to make a lock appear only once locked and written, where the runtime
 * directory's filesystem has no O_TMPFILE: a ".<id>.new" file renamed into place. A
 * supervisor killed before the rename leaves it behind; run_lock_sweep() removes it once
 * it is stale.
 */
static int create_renamed(const char *dir, const char *run_id, const char *path, const char *text,
			  size_t len)
{
	_cleanup_close_ int fd = -EBADF;
	char tmp[PATH_MAX + 64];

	snprintf(tmp, sizeof(tmp), "%s/.%s.new", dir, run_id);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0 || write_all(fd, text, len) < 0 || rename(tmp, path) < 0) {
		int k = -errno;

		(void)unlink(tmp);
		return k;
	}
	return TAKE_FD(fd);
}

/* An O_TMPFILE inode written, locked and linked in under path. Returns the fd or -errno. */
static int create_linked(const char *dir, const char *path, const char *text, size_t len)
{
	_cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;
	int r;

	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return -errno;
	fd = open_tmpfile_at(dir_fd, 0600);
	if (fd < 0)
		return fd;
	r = write_all(fd, text, len);
	if (r < 0)
		return r;
	if (flock(fd, LOCK_EX) < 0)
		return -errno;
	r = link_tmpfile_at(fd, AT_FDCWD, path);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

int run_lock_take(const char *runtime_dir, const char *run_id, const char *state_dir,
		  const char *copy_dir)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], text[2 * PATH_MAX + 2];
	size_t len;
	int fd, k;

	snprintf(dir, sizeof(dir), "%s/runs", runtime_dir);
	k = mkdir_p(dir, 0755);
	if (k < 0)
		return log_error_errno(k, "Failed to create runtime directory '%s': %m", dir);
	snprintf(path, sizeof(path), "%s/%s.lock", dir, run_id);
	len = (size_t)snprintf(text, sizeof(text), "%s%c%s", state_dir, '\0', copy_dir ?: "") + 1;

	fd = create_linked(dir, path, text, len);
	if (fd == -EOPNOTSUPP || fd == -EISDIR)
		fd = create_renamed(dir, run_id, path, text, len);
	if (fd < 0)
		return log_error_errno(fd, "Failed to take the run lock '%s': %m", path);
	return fd;
}

int run_lock_drop(const char *runtime_dir, const char *run_id, int fd, bool keep_file)
{
	char path[PATH_MAX];

	if (fd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "%s/runs/%s.lock", runtime_dir, run_id);
	if (!keep_file)
		(void)unlink(path);
	return safe_close(fd);
}

/*
 * The length of the lock file's first fields, the state and copy directories, and with_pin
 * its pin when there is one (the note follows them), or -errno. buf gets the file.
 */
static ssize_t fields_len(int fd, char *buf, size_t size, bool with_pin)
{
	ssize_t n = pread(fd, buf, size - 1, 0);
	size_t l;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	l = strlen(buf) + 1;
	if ((ssize_t)l >= n)
		return n;
	l += strlen(buf + l) + 1;
	if (with_pin && (ssize_t)l < n &&
	    strneq(buf + l, RUN_LOCK_PIN_PREFIX, strlen(RUN_LOCK_PIN_PREFIX)))
		l += strlen(buf + l) + 1;
	return (ssize_t)MIN(l, (size_t)n);
}

/* Writes text (len bytes, its NULs included) at off and cuts the file there. */
static int write_at(int fd, const char *text, size_t len, off_t off)
{
	ssize_t n = len ? pwrite(fd, text, len, off) : 0;

	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return ftruncate(fd, off + (off_t)len) < 0 ? -errno : 0;
}

int run_lock_note(int fd, const char *note)
{
	char buf[RUN_LOCK_MAX_BYTES];
	ssize_t off = fields_len(fd, buf, sizeof(buf), true);

	if (off < 0)
		return (int)off;
	return write_at(fd, note ?: "", note ? strlen(note) + 1 : 0, off);
}

int run_lock_pin(int fd, const char *sha256_hex)
{
	char buf[RUN_LOCK_MAX_BYTES], text[RUN_LOCK_MAX_BYTES + 128];
	ssize_t off = fields_len(fd, buf, sizeof(buf), false), rest, n;
	size_t len;

	if (off < 0)
		return (int)off;
	/* The note that follows (after an older pin, if any), kept after the new pin. */
	rest = fields_len(fd, buf, sizeof(buf), true);
	if (rest < 0)
		return (int)rest;
	n = pread(fd, buf, sizeof(buf) - 1, rest);
	if (n < 0)
		return -errno;
	len = (size_t)snprintf(text, sizeof(text), RUN_LOCK_PIN_PREFIX "%s", sha256_hex) + 1;
	memcpy(text + len, buf, (size_t)n);
	len += (size_t)n;
	/* Never shorter than the file was (a pin of the same length before, or none): no cut. */
	n = pwrite(fd, text, len, off);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * The lock file holds where the dead run's records go (run_lock_take(): the state
 * directory, NUL, the --record FILE's directory, NUL; before: the state directory alone),
 * the SHA-256 of its "running" record once written (run_lock_pin(): "running-sha256 HEX",
 * NUL), and what it made for its export, until the export was in place (run_lock_note()): its
 * temporary files and unfinished export go, the grants it held are revoked (cfg: the
 * issuers), and its record is marked aborted, saying what became of them. Returns -errno
 * (logged) when the record could not be rewritten, -EBUSY when its grants are another
 * start's to revoke, or -EINTR when a stop signal cut the removal of its export short: the
 * lock file then stays for the next start to try.
 */
static int mark_aborted(int lock_fd, const char *runtime_dir, const struct node_config *cfg,
			const char *run_id)
{
	_cleanup_(json_decrefp) json_t *grants = NULL;
	char buf[RUN_LOCK_MAX_BYTES] = "";
	const char *copy_dir = NULL, *pin = NULL;
	ssize_t n = pread(lock_fd, buf, sizeof(buf) - 1, 0);
	size_t l, l2;
	bool ended;
	int r;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	l = strlen(buf);
	if ((ssize_t)l + 1 < n)
		copy_dir = buf + l + 1;
	l2 = copy_dir ? l + 1 + strlen(copy_dir) + 1 : (size_t)n;
	if ((ssize_t)l2 < n && strneq(buf + l2, RUN_LOCK_PIN_PREFIX, strlen(RUN_LOCK_PIN_PREFIX))) {
		pin = buf + l2 + strlen(RUN_LOCK_PIN_PREFIX);
		l2 += strlen(buf + l2) + 1;
	}
	ended = (ssize_t)l2 < n && streq(buf + l2, RUN_EXPORT_ENDED_NOTE);
	/* Before the record, as its temporary files; a stop signal leaves both to the next start. */
	if ((ssize_t)l2 < n && !ended && run_export_sweep_noted(buf + l2, run_id) == -EINTR)
		return -EINTR;
	/* Before the record, which is signed once: it says what became of each grant. */
	r = credentials_reap_dead_run(runtime_dir, run_id, cfg, &grants);
	if (r < 0) {
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "Not marking run %s aborted yet: its credentials cannot be revoked "
			      "now (%s); the next start tries again",
			      run_id, strerror(-r));
		return r;
	}
	r = record_mark_aborted(buf, copy_dir, run_id, pin, ended, grants);
	if (r > 0)
		log_about_run(LOG_LEVEL_NOTICE, run_id,
			      "marked the record of run %s aborted: its supervisor died", run_id);
	if (r >= 0)
		credentials_reap_dead_run_done(runtime_dir, run_id);
	return r;
}

bool run_lock_is_alive(const char *runtime_dir, const struct node_config *cfg, const char *run_id)
{
	_cleanup_close_ int fd = -EBADF;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/runs/%s.lock", runtime_dir, run_id);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return true;
	if (mark_aborted(fd, runtime_dir, cfg, run_id) >= 0)
		(void)unlink(path);
	return false;
}

/*
 * A ".<id>.new" file of the legacy lock creation (create_renamed()) whose
 * creator died before renaming it: nobody holds it and it is older than any creation
 * takes.
 */
static void sweep_stale_new(int dir_fd, const char *name)
{
	_cleanup_close_ int fd = -EBADF;
	struct timespec now;
	struct stat st;

	fd = openat(dir_fd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec - st.st_mtim.tv_sec >= RUN_LOCK_NEW_STALE_S)
		(void)unlinkat(dir_fd, name, 0);
}

void run_lock_sweep(const char *runtime_dir, const struct node_config *cfg)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/runs", runtime_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char id[NAME_MAX + 1];
		size_t n = strlen(de->d_name);

		if (n > 5 && de->d_name[0] == '.' && strcmp(de->d_name + n - 4, ".new") == 0) {
			sweep_stale_new(dirfd(d), de->d_name);
			continue;
		}
		if (n <= 5 || strcmp(de->d_name + n - 5, ".lock") != 0)
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(n - 5), de->d_name);
		(void)run_lock_is_alive(runtime_dir, cfg, id);
	}
	closedir(d);
}
