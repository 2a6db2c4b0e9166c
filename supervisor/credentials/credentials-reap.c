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

/* What the next start needs to revoke a grant this run held, should it die. */
int credentials_state_write(int dir_fd, const char *dir, const struct credential *c)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_(json_decrefp) json_t *o = NULL;
	char name[POLICY_MAX_CREDENTIAL_NAME + 8];
	char *text;
	int r;

	o = json_pack("{s:s, s:s, s:I, s:O}", "grant", c->slot->name, "issuer", c->slot->issuer,
		      "expires", (json_int_t)c->grant->expires_s, "revocation",
		      c->grant->revocation);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!text)
		return log_oom();
	snprintf(name, sizeof(name), "%s.json", c->slot->name);
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	r = fd < 0 ? -errno : write_all(fd, text, strlen(text));
	explicit_bzero(text, strlen(text));
	free(text);
	if (r < 0)
		return log_error_errno(r, "Failed to keep the revocation state of '%s' in '%s': %m",
				       c->slot->name, dir);
	return 0;
}

/* One state file, parsed; NULL when it cannot be read (logged). */
static json_t *state_read(int dir_fd, const char *name, const char *run_id)
{
	_cleanup_close_ int fd = -EBADF;
	char *buf = NULL;
	json_t *o = NULL;
	ssize_t n;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	buf = fd >= 0 ? malloc(STATE_MAX + 1) : NULL;
	n = buf ? read(fd, buf, STATE_MAX + 1) : -1;
	if (n > 0 && n <= STATE_MAX)
		o = json_loadb(buf, (size_t)n, 0, NULL);
	if (buf) {
		explicit_bzero(buf, STATE_MAX + 1);
		free(buf);
	}
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "issuer")) ||
	    !json_is_string(json_object_get(o, "grant"))) {
		json_decref(o);
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "Failed to read the revocation state '%s' of dead run %s, ignoring",
			      name, run_id);
		return NULL;
	}
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
		st = state_read(dir_fd, de->d_name, run_id);
		if (st && reap_grant(st, cfg, run_id))
			(void)unlinkat(dir_fd, de->d_name, 0);
		json_decref(st);
	}
	(void)rmdir(path); /* fails while something is left to retry */
}

void credentials_reap_stale(const char *runtime_dir, const struct node_config *cfg)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char parent[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
	struct dirent *de;

	snprintf(parent, sizeof(parent), "%s/credentials", runtime_dir);
	d = opendir(parent);
	if (!d)
		return;
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
	}
}
