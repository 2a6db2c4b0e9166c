/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state of revocation: what credentials-issued.c keeps of each grant a run holds, and
 * the next start's part of revocation: a supervisor killed with SIGKILL revokes nothing,
 * so the grants it held stay in <runtime>/credentials/<run-id>/<grant>.json. A later start
 * finds the directories whose run is dead (its run lock is free or gone, and nobody holds
 * the directory's own lock), revokes each grant with the issuer of that name in the node
 * configuration, and removes what it revoked. A grant it cannot revoke stays for the next
 * start, until it has expired anyway.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "credentials-internal.h"
#include "log.h"
#include "macro.h"
#include "node-config.h"
#include "run-lock.h"

#define STATE_MAX (64 * 1024)

int credentials_state_text(struct credential *c, const json_t *revocation)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	struct secure_buf b = {};
	size_t n;

	/* The credential's own expiry, not the grant's: until then it is worth revoking. */
	o = json_pack("{s:s, s:s, s:I, s:O}", "grant", c->slot->name, "issuer", c->slot->issuer,
		      "expires", (json_int_t)c->grant->issuer_expires_s, "revocation", revocation);
	/* Sized first, then dumped into secure memory itself: no copy in the heap. */
	n = o ? json_dumpb(o, NULL, 0, JSON_COMPACT) : 0;
	if (n > STATE_MAX) /* the next start could not read it back */
		return -E2BIG;
	if (n == 0 || secure_buf_alloc(&b, n + 1, true) < 0)
		return -ENOMEM;
	if (json_dumpb(o, (char *)b.data, n, JSON_COMPACT) != n) {
		secure_buf_free(&b);
		return -ENOMEM;
	}
	b.data[n] = '\0';
	b.len = n;
	c->grant->state = b;
	return 0;
}

json_t *credentials_state_parse(const uint8_t *text, size_t len)
{
	json_t *o = json_loadb((const char *)text, len, 0, NULL);

	if (!json_is_object(o) || !json_is_string(json_object_get(o, "issuer")) ||
	    !json_is_string(json_object_get(o, "grant"))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* What the next start needs to revoke a grant this run held, should it die. */
int credentials_state_write(int dir_fd, const char *dir, const struct credential *c)
{
	_cleanup_close_ int fd = -EBADF;
	char name[POLICY_MAX_CREDENTIAL_NAME + 8];
	int r;

	snprintf(name, sizeof(name), "%s.json", c->slot->name);
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	r = fd < 0 ? -errno : write_all(fd, c->grant->state.data, c->grant->state.len);
	if (r < 0)
		return log_error_errno(r, "Failed to keep the revocation state of '%s' in '%s': %m",
				       c->slot->name, dir);
	return 0;
}

/*
 * A state file the reaper cannot read is renamed <name>.unreadable, and said once: kept
 * where it was, every start would fail to read it again, and it could never go (its
 * expiry is inside it). Root may look at it; the reaper never reads it again.
 */
static void state_set_aside(int dir_fd, const char *name, const char *path, const char *run_id,
			    const char *why)
{
	char aside[NAME_MAX + 1];

	if (snprintf(aside, sizeof(aside), "%s.unreadable", name) >= (int)sizeof(aside) ||
	    renameat(dir_fd, name, dir_fd, aside) < 0) {
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "Failed to read the revocation state '%s/%s' of dead run %s (%s), "
			      "and to move it aside, ignoring: %m",
			      path, name, run_id, why);
		return;
	}
	log_about_run(LOG_LEVEL_WARNING, run_id,
		      "revocation state '%s/%s' of dead run %s cannot be read (%s): moved to "
		      "'%s/%s'; what it held is not revoked and lives until it expires",
		      path, name, run_id, why, path, aside);
}

/* An error of the moment (fds, memory, a signal): the file stays for the next start. */
static bool transient(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EINTR || e == EAGAIN;
}

/*
 * One state file, read into secure memory and parsed; NULL when it cannot be (set aside,
 * unless it failed for a reason of the moment: then the next start tries it again).
 */
static json_t *state_read(int dir_fd, const char *name, const char *path, const char *run_id)
{
	_cleanup_close_ int fd = -EBADF;
	struct secure_buf buf = {};
	const char *why = NULL;
	json_t *o = NULL;
	ssize_t n = -1;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && transient(errno))
		return NULL;
	if (fd < 0)
		why = strerror(errno);
	else if (secure_buf_alloc(&buf, STATE_MAX + 1, true) < 0)
		return NULL; /* no memory now: the next start tries again */
	else
		n = read(fd, buf.data, STATE_MAX + 1);
	if (fd >= 0 && n < 0 && transient(errno)) {
		secure_buf_free(&buf);
		return NULL;
	}
	if (fd >= 0 && n < 0)
		why = strerror(errno);
	else if (fd >= 0 && (n == 0 || n > STATE_MAX))
		why = n == 0 ? "empty" : "too large";
	else if (fd >= 0 && !(o = credentials_state_parse(buf.data, (size_t)n)))
		why = "not the JSON object of a grant";
	secure_buf_free(&buf);
	if (!o)
		state_set_aside(dir_fd, name, path, run_id, why);
	return o;
}

/* Revokes one grant; true when its state may go (revoked, or expired anyway). */
static bool reap_grant(json_t *st, const struct node_config *cfg, const char *run_id)
{
	const char *grant = json_string_value(json_object_get(st, "grant"));
	const char *name = json_string_value(json_object_get(st, "issuer"));
	const struct node_issuer *ni = node_config_issuer(cfg, name);
	bool expired = json_integer_value(json_object_get(st, "expires")) <= (json_int_t)time(NULL);
	struct issuer_job job = { .revocation = json_object_get(st, "revocation") };
	const struct issuer_module *m;
	const char *path, *problem;
	struct issuer *issuer = NULL;

	if (expired) {
		log_about_run(LOG_LEVEL_NOTICE, run_id,
			      "credential '%s' of dead run %s has expired: nothing to revoke",
			      grant, run_id);
		return true;
	}
	if (!ni || issuer_module_get(&m, &path, &problem) < 0 ||
	    m->issuer_new(ni->name, ni->json, &issuer, job.err, sizeof(job.err)) < 0) {
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "Failed to revoke credential '%s' of dead run %s: issuer '%s' %s",
			      grant, run_id, name,
			      !ni ? "is not in the node configuration" : "cannot be loaded");
		return false;
	}
	job.issuer = issuer;
	m->revoke_all(&job, 1);
	m->issuer_free(issuer);
	if (job.error < 0) {
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "Failed to revoke credential '%s' of dead run %s at issuer '%s': %s",
			      grant, run_id, name, job.err);
		return false;
	}
	log_about_run(LOG_LEVEL_NOTICE, run_id,
		      "revoked credential '%s' of dead run %s at issuer '%s'", grant, run_id, name);
	return true;
}

static void reap_run(int dir_fd, const char *path, const char *run_id,
		     const struct node_config *cfg)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int fd;

	credentials_hold_secrets(); /* the state files may hold values */
	fd = dup(dir_fd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		safe_close(fd);
		return;
	}
	while ((de = readdir(d))) {
		json_t *st;
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || n < 6 || !streq(de->d_name + n - 5, ".json"))
			continue;
		st = state_read(dir_fd, de->d_name, path, run_id);
		if (st && reap_grant(st, cfg, run_id))
			(void)unlinkat(dir_fd, de->d_name, 0);
		json_decref(st);
	}
	(void)rmdir(path); /* fails while something is left to retry */
}

/* The threads of this process: the entries of /proc/self/task. */
static int thread_count(void)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	return n;
}

/*
 * libcurl's threaded resolver gives up on a lookup at the request's timeout but leaves its
 * thread, detached, until getaddrinfo() returns (seconds more: the resolver's own timeouts
 * and attempts). The run clones its sandbox next: not beside a thread that may hold a lock
 * of libc's the child would need. Waits until the process has no more threads than before
 * the reap (the module's prefetch may end meanwhile too); -EBUSY after the bound.
 */
static int threads_settle(int before)
{
	for (int waited = 0; thread_count() > before; waited += 10) {
		if (waited >= CREDENTIALS_THREAD_WAIT_MS)
			return -EBUSY;
		(void)usleep(10 * 1000);
	}
	return 0;
}

int credentials_reap_stale(const char *runtime_dir, const struct node_config *cfg)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char parent[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
	struct dirent *de;
	int before = thread_count();
	bool reaped = false;

	snprintf(parent, sizeof(parent), "%s/credentials", runtime_dir);
	d = opendir(parent);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -EBADF;

		if (de->d_name[0] == '.' || run_lock_is_alive(runtime_dir, de->d_name))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		/* Held: its run is alive (between its lock and its start), or another reaps it. */
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
		reap_run(fd, path, de->d_name, cfg);
		reaped = true;
	}
	return reaped ? threads_settle(before) : 0;
}
