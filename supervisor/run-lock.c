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
#include "sha256.h"

/* How old an unlocked ".<id>.new" lock file must be to be taken for a dead creator's. */
#define RUN_LOCK_NEW_STALE_S 60
/* The largest running record copy read back: a record's largest (record.c). */
#define RUN_LOCK_RUNNING_MAX_BYTES (16 * 1024 * 1024)

/* <runtime_dir>/runs/<run_id><suffix>: the lock file, or the running record's copy. */
static void run_path(char *buf, size_t len, const char *runtime_dir, const char *run_id,
		     const char *suffix)
{
	snprintf(buf, len, "%s/runs/%s%s", runtime_dir, run_id, suffix);
}

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

/* The lock's files: the running record's copy first, so that none outlives its lock. */
static void unlink_files(const char *runtime_dir, const char *run_id)
{
	char path[PATH_MAX];

	run_path(path, sizeof(path), runtime_dir, run_id, RUN_LOCK_RUNNING_SUFFIX);
	(void)unlink(path);
	run_path(path, sizeof(path), runtime_dir, run_id, ".lock");
	(void)unlink(path);
}

int run_lock_drop(const char *runtime_dir, const char *run_id, int fd, bool keep_file)
{
	if (fd < 0)
		return -EBADF;
	if (!keep_file)
		unlink_files(runtime_dir, run_id);
	return safe_close(fd);
}

/*
 * Reads the lock file into buf (NUL-terminated) once: returns its length or -errno, with
 * where its first fields end: the state and copy directories (*ret_dirs_end), and after
 * them its pin when there is one (*ret_pin_end; the note follows).
 */
static ssize_t read_fields(int fd, char *buf, size_t size, size_t *ret_dirs_end,
			   size_t *ret_pin_end)
{
	ssize_t n = pread(fd, buf, size - 1, 0);
	size_t l;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	l = strlen(buf) + 1;
	if ((ssize_t)l < n)
		l += strlen(buf + l) + 1;
	l = MIN(l, (size_t)n);
	*ret_dirs_end = l;
	if ((ssize_t)l < n && strneq(buf + l, RUN_LOCK_PIN_PREFIX, strlen(RUN_LOCK_PIN_PREFIX)))
		l = MIN(l + strlen(buf + l) + 1, (size_t)n);
	*ret_pin_end = l;
	return n;
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
	size_t dirs_end, pin_end;
	ssize_t n = read_fields(fd, buf, sizeof(buf), &dirs_end, &pin_end);

	if (n < 0)
		return (int)n;
	return write_at(fd, note ?: "", note ? strlen(note) + 1 : 0, (off_t)pin_end);
}

/* Pins the SHA-256 (hex) of the running record in the lock file fd. */
static int pin(int fd, const char *sha256_hex)
{
	char buf[RUN_LOCK_MAX_BYTES], text[RUN_LOCK_MAX_BYTES + 128];
	size_t dirs_end, pin_end, len;
	ssize_t n = read_fields(fd, buf, sizeof(buf), &dirs_end, &pin_end);

	if (n < 0)
		return (int)n;
	/* The note that follows (after an older pin, if any), kept after the new pin. */
	len = (size_t)snprintf(text, sizeof(text), RUN_LOCK_PIN_PREFIX "%s", sha256_hex) + 1;
	memcpy(text + len, buf + pin_end, (size_t)n - pin_end);
	len += (size_t)n - pin_end;
	/* Never shorter than the file was (a pin of the same length before, or none): no cut. */
	n = pwrite(fd, text, len, (off_t)dirs_end);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* The running record as written, beside the lock: replaced whole, root's alone. */
static int keep_copy(const char *runtime_dir, const char *run_id, const char *running)
{
	_cleanup_close_ int fd = -EBADF;
	char path[PATH_MAX];

	run_path(path, sizeof(path), runtime_dir, run_id, RUN_LOCK_RUNNING_SUFFIX);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	return write_all(fd, running, strlen(running));
}

int run_lock_pin(const char *runtime_dir, const char *run_id, int fd, const char *running)
{
	char hex[SHA256_HEX_SIZE];
	int r, k;

	/* The copy first: a pinned one is whole (the reaper checks it against the pin). */
	r = keep_copy(runtime_dir, run_id, running);
	sha256_hex(running, strlen(running), hex);
	k = pin(fd, hex);
	return r < 0 ? r : k;
}

/*
 * The copy of the running record a dead run kept beside its lock (run_lock_pin()), read
 * when it pinned one; NULL otherwise, or when it cannot be read (record_mark_aborted()
 * then checks it against the pin).
 */
static char *read_copy(const char *runtime_dir, const char *run_id, const char *pinned)
{
	char path[PATH_MAX], *text = NULL;
	_cleanup_close_ int fd = -EBADF;

	if (!pinned)
		return NULL;
	run_path(path, sizeof(path), runtime_dir, run_id, RUN_LOCK_RUNNING_SUFFIX);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || read_file_fd(fd, RUN_LOCK_RUNNING_MAX_BYTES, &text, NULL) < 0)
		return NULL;
	return text;
}

/*
 * The lock file holds where the dead run's records go (run_lock_take(): the state
 * directory, NUL, the --record FILE's directory, NUL; before: the state directory alone),
 * the SHA-256 of its "running" record once written (run_lock_pin(): "running-sha256 HEX",
 * NUL; the record itself kept beside the lock), and what it made for its export, until the
 * export was in place (run_lock_note()): its temporary files and unfinished export go, the
 * grants it held are revoked (cfg: the issuers), and its record is marked aborted, saying
 * what became of them. Returns -errno (logged) when the record could not be rewritten,
 * -EBUSY when its grants are another start's to revoke, or -EINTR when a stop signal cut
 * the removal of its export short: the lock file then stays for the next start to try.
 */
static int mark_aborted(int lock_fd, const char *runtime_dir, const struct node_config *cfg,
			const char *run_id)
{
	_cleanup_(json_decrefp) json_t *grants = NULL;
	char buf[RUN_LOCK_MAX_BYTES] = "";
	_cleanup_free_ char *copy = NULL;
	struct record_dead_run d = { .state_dir = buf, .run_id = run_id };
	size_t dirs_end, pin_end;
	ssize_t n = read_fields(lock_fd, buf, sizeof(buf), &dirs_end, &pin_end);
	const char *note = buf + pin_end;
	int r;

	if (n <= 0)
		return 0;
	if (strlen(buf) + 1 < dirs_end)
		d.copy_dir = buf + strlen(buf) + 1;
	if (pin_end > dirs_end)
		d.running_sha256 = buf + dirs_end + strlen(RUN_LOCK_PIN_PREFIX);
	d.export_ended = streq(note, RUN_EXPORT_ENDED_NOTE);
	/* Before the record, as its temporary files; a stop signal leaves both to the next start. */
	if (*note && !d.export_ended && run_export_sweep_noted(note, run_id) == -EINTR)
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
	copy = read_copy(runtime_dir, run_id, d.running_sha256);
	d.running_copy = copy;
	d.grants = grants;
	r = record_mark_aborted(&d);
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

	run_path(path, sizeof(path), runtime_dir, run_id, ".lock");
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return true;
	if (mark_aborted(fd, runtime_dir, cfg, run_id) >= 0)
		unlink_files(runtime_dir, run_id);
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
