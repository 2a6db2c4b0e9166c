/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state of revocation: what credentials-issued.c keeps of each grant a run holds, and
 * the next start's part of revocation: a supervisor killed with SIGKILL revokes nothing,
 * so the grants it held stay in <runtime>/credentials/<run-id>/<grant>.json. The start
 * that marks such a run's record aborted revokes them first (credentials_reap_dead_run()),
 * so that the record, signed once, says what became of each; a grant revoked (or expired
 * at its issuer) leaves <grant>.result in place of its state until the record is final.
 * A later start retries what could not be revoked (credentials_reap_stale()), until it has
 * expired anyway.
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
#include "record.h"
#include "run-lock.h"
#include "strv.h"

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

int credentials_result_write(int dir_fd, const char *grant, const char *result, int64_t at_s,
			     bool expired)
{
	_cleanup_close_ int fd = -EBADF;
	char name[POLICY_MAX_CREDENTIAL_NAME + 8], text[128];
	int n;

	snprintf(name, sizeof(name), "%s" CREDENTIALS_RESULT_SUFFIX, grant);
	n = snprintf(text, sizeof(text),
		     "{\"revocation\":\"%s\",\"revoked_at\":%" PRId64 ",\"expired\":%s}\n", result,
		     at_s, expired ? "true" : "false");
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	return write_all(fd, text, (size_t)n);
}

/*
 * What became of one grant of a dead run, for its aborted record: revocation "revoked",
 * "expired" (at its issuer: nothing left to revoke) or "failed" (error says why); at_s
 * when the request ended (0: none was made).
 */
struct reap_result {
	const char *revocation;
	int64_t at_s;
	bool expired; /* the run said the grant had expired while its task ran */
	char error[ISSUER_ERR_MAX + PATH_MAX];
};

/* The runs whose grants this process tried to revoke as it marked them aborted. */
static char **tried_runs;
/* The threads of this process before its first revocation of a dead run's grant, or -1. */
static int threads_before = -1;

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
 * A state file the reaper cannot read is renamed <name>.unreadable, and said once: kept
 * where it was, every start would fail to read it again, and it could never go (its
 * expiry is inside it). Root may look at it; the reaper never reads it again. res says so.
 */
static void state_set_aside(int dir_fd, const char *name, const char *path, const char *run_id,
			    const char *why, struct reap_result *res)
{
	char aside[NAME_MAX + 1];

	res->revocation = "failed";
	if (snprintf(aside, sizeof(aside), "%s.unreadable", name) >= (int)sizeof(aside) ||
	    renameat(dir_fd, name, dir_fd, aside) < 0) {
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "Failed to read the revocation state '%s/%s' of dead run %s (%s), "
			      "and to move it aside, ignoring: %m",
			      path, name, run_id, why);
		snprintf(res->error, sizeof(res->error),
			 "its revocation state '%s/%s' cannot be read (%s): not revoked", path,
			 name, why);
		return;
	}
	log_about_run(LOG_LEVEL_WARNING, run_id,
		      "revocation state '%s/%s' of dead run %s cannot be read (%s): moved to "
		      "'%s/%s'; what it held is not revoked and lives until it expires",
		      path, name, run_id, why, path, aside);
	snprintf(res->error, sizeof(res->error),
		 "its revocation state '%s/%s' cannot be read (%s): moved to '%s/%s', not "
		 "revoked",
		 path, name, why, path, aside);
}

/* An error of the moment (fds, memory, a signal): the file stays for the next start. */
static bool transient(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EINTR || e == EAGAIN;
}

/*
 * One state file, read into secure memory and parsed; NULL when it cannot be (set aside,
 * unless it failed for a reason of the moment: then the next start tries it again), with
 * res saying why.
 */
static json_t *state_read(int dir_fd, const char *name, const char *path, const char *run_id,
			  struct reap_result *res)
{
	_cleanup_close_ int fd = -EBADF;
	struct secure_buf buf = {};
	const char *why = NULL;
	json_t *o = NULL;
	ssize_t n = -1;
	int e = 0;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		e = errno;
	else if (secure_buf_alloc(&buf, STATE_MAX + 1, true) < 0)
		e = ENOMEM;
	else if ((n = read(fd, buf.data, STATE_MAX + 1)) < 0)
		e = errno;
	if (transient(e)) { /* the next start tries again */
		secure_buf_free(&buf);
		res->revocation = "failed";
		snprintf(res->error, sizeof(res->error),
			 "its revocation state '%s/%s' cannot be read now (%s): a later start "
			 "retries",
			 path, name, strerror(e));
		return NULL;
	}
	if (e)
		why = strerror(e);
	else if (n == 0 || n > STATE_MAX)
		why = n == 0 ? "empty" : "too large";
	else if (!(o = credentials_state_parse(buf.data, (size_t)n)))
		why = "not the JSON object of a grant";
	secure_buf_free(&buf);
	if (!o)
		state_set_aside(dir_fd, name, path, run_id, why, res);
	return o;
}

/* The issuer a dead run's grant names, loaded; NULL with res saying why not. */
static struct issuer *reap_issuer(const struct node_config *cfg, const char *name,
				  const struct issuer_module **ret_m, struct reap_result *res)
{
	const struct node_issuer *ni = node_config_issuer(cfg, name);
	const char *path, *problem;
	char err[ISSUER_ERR_MAX] = "";
	struct issuer *issuer = NULL;

	res->revocation = "failed";
	if (!ni)
		snprintf(res->error, sizeof(res->error),
			 "issuer '%s' is not in the node configuration", name);
	else if (issuer_module_get(ret_m, &path, &problem) < 0)
		snprintf(res->error, sizeof(res->error), "the issuer module '%s' %s", path,
			 problem);
	else if ((*ret_m)->issuer_new(ni->name, ni->json, &issuer, err, sizeof(err)) < 0)
		snprintf(res->error, sizeof(res->error),
			 "issuer '%s' of the node configuration: %s", name, err);
	return issuer;
}

/* Revokes one grant; true when its state may go (revoked, or expired anyway). */
static bool reap_grant(json_t *st, const struct node_config *cfg, const char *run_id,
		       struct reap_result *res)
{
	const char *grant = json_string_value(json_object_get(st, "grant"));
	const char *name = json_string_value(json_object_get(st, "issuer"));
	bool expired = json_integer_value(json_object_get(st, "expires")) <= (json_int_t)time(NULL);
	struct issuer_job job = { .revocation = json_object_get(st, "revocation") };
	const struct issuer_module *m = NULL;
	struct issuer *issuer = NULL;

	if (expired) {
		log_about_run(LOG_LEVEL_NOTICE, run_id,
			      "credential '%s' of dead run %s has expired: nothing to revoke",
			      grant, run_id);
		res->revocation = "expired";
		return true;
	}
	issuer = reap_issuer(cfg, name, &m, res);
	if (!issuer) {
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "Failed to revoke credential '%s' of dead run %s: %s", grant, run_id,
			      res->error);
		return false;
	}
	if (threads_before < 0)
		threads_before = thread_count();
	job.issuer = issuer;
	m->revoke_all(&job, 1);
	m->issuer_free(issuer);
	res->at_s = (int64_t)time(NULL);
	if (job.error < 0) {
		snprintf(res->error, sizeof(res->error), "%s", job.err);
		log_about_run(LOG_LEVEL_WARNING, run_id,
			      "Failed to revoke credential '%s' of dead run %s at issuer '%s': %s",
			      grant, run_id, name, job.err);
		return false;
	}
	res->revocation = "revoked";
	log_about_run(LOG_LEVEL_NOTICE, run_id,
		      "revoked credential '%s' of dead run %s at issuer '%s'", grant, run_id, name);
	return true;
}

/* Whether name is a grant's file of kind suffix; its grant's name (cut) into buf. */
static bool grant_file(const char *name, const char *suffix, char *buf, size_t len)
{
	size_t n = strlen(name), k = strlen(suffix);

	if (name[0] == '.' || n <= k || !streq(name + n - k, suffix) || n - k >= len)
		return false;
	memcpy(buf, name, n - k);
	buf[n - k] = '\0';
	return true;
}

/*
 * One <grant>.json of a dead run: revoked (or found expired) and replaced by its
 * <grant>.result, or left for a later start. res says how it went.
 */
static void reap_state(int dir_fd, const char *name, const char *grant, const char *path,
		       const char *run_id, const struct node_config *cfg, struct reap_result *res)
{
	json_t *st = state_read(dir_fd, name, path, run_id, res);

	if (st && reap_grant(st, cfg, run_id, res)) {
		/* The result first: should this start die now, the next one revokes again. */
		if (credentials_result_write(dir_fd, grant, res->revocation, res->at_s, false) < 0)
			log_about_run(LOG_LEVEL_WARNING, run_id,
				      "Failed to keep what became of credential '%s' of dead run "
				      "%s in '%s', ignoring: %m",
				      grant, run_id, path);
		(void)unlinkat(dir_fd, name, 0);
	}
	json_decref(st);
}

/* A <grant>.result, as the run (or a start before) wrote it. */
static void result_read(int dir_fd, const char *name, struct reap_result *res)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -EBADF;
	json_t *o = NULL, *v;
	size_t len = 0;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd >= 0 && read_file_fd(fd, 4096, &text, &len) >= 0)
		o = json_loadb(text, len, 0, NULL);
	v = json_object_get(o, "revocation");
	if (json_is_string(v) &&
	    (streq(json_string_value(v), "revoked") || streq(json_string_value(v), "expired"))) {
		res->revocation = streq(json_string_value(v), "revoked") ? "revoked" : "expired";
		res->at_s = json_integer_value(json_object_get(o, "revoked_at"));
		res->expired = json_is_true(json_object_get(o, "expired"));
	} else {
		res->revocation = "failed";
		snprintf(res->error, sizeof(res->error), "what became of it ('%s') cannot be read",
			 name);
	}
	json_decref(o);
}

static json_t *time_json(int64_t t)
{
	char buf[40];

	record_format_time(&(struct timespec){ .tv_sec = (time_t)t }, buf, sizeof(buf));
	return json_string(buf);
}

/* res as the record's keys of a grant: revocation, revoked_at, revocation_error. */
static json_t *result_json(const struct reap_result *res)
{
	json_t *o = json_pack("{s:s}", "revocation", res->revocation);
	int r = 0;

	if (o && res->at_s > 0)
		r |= json_object_set_new(o, "revoked_at", time_json(res->at_s));
	if (o && res->expired)
		r |= json_object_set_new(o, "expired", json_true());
	if (o && streq(res->revocation, "failed"))
		r |= json_object_set_new(o, "revocation_error", json_string(res->error));
	if (r < 0)
		o = (json_decref(o), NULL);
	return o;
}

/*
 * The directory dir_fd is, opened anew for a walk of its own (NULL: it cannot be): a dup()
 * would share its position with every other walk, and a second would find nothing left.
 */
static DIR *dir_reopen(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d)
		safe_close(fd);
	return d;
}

/* Each grant file of the dead run's directory: revoked, or read back; into results. */
static int reap_dir(int dir_fd, const char *path, const char *run_id, const struct node_config *cfg,
		    json_t *results)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char grant[POLICY_MAX_CREDENTIAL_NAME + 1];
	struct dirent *de;

	d = dir_reopen(dir_fd);
	if (!d)
		return -ENOMEM;
	while ((de = readdir(d))) {
		struct reap_result res = {};
		bool state = grant_file(de->d_name, ".json", grant, sizeof(grant));

		if (!state &&
		    !grant_file(de->d_name, CREDENTIALS_RESULT_SUFFIX, grant, sizeof(grant)))
			continue;
		if (state)
			reap_state(dir_fd, de->d_name, grant, path, run_id, cfg, &res);
		else
			result_read(dir_fd, de->d_name, &res);
		/* A state file read after its result (a start that died between the two). */
		if (!state && json_object_get(results, grant))
			continue;
		if (json_object_set_new(results, grant, result_json(&res)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int credentials_reap_dead_run(const char *runtime_dir, const char *run_id,
			      const struct node_config *cfg, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *results = json_object();
	_cleanup_close_ int fd = -EBADF;
	char path[PATH_MAX];
	int r;

	if (!results)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/credentials/%s", runtime_dir, run_id);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno != ENOENT)
		return -errno;
	if (fd >= 0) {
		/* Held: another start reaps it (it could not hold the run lock we hold). */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0)
			return -EBUSY;
		credentials_hold_secrets(); /* the state files may hold values */
		r = reap_dir(fd, path, run_id, cfg, results);
		if (r < 0)
			return r;
	}
	/* Tried once by this start: its sweep leaves what failed to a later one. */
	if (!strv_contains(tried_runs, run_id) && strv_push_copy(&tried_runs, run_id) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(results);
	return 0;
}

/* Removes the <grant>.result files of a run whose record is final, then its directory. */
static void results_remove(int dir_fd, const char *path)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char grant[POLICY_MAX_CREDENTIAL_NAME + 1];
	struct dirent *de;

	d = dir_reopen(dir_fd);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (grant_file(de->d_name, CREDENTIALS_RESULT_SUFFIX, grant, sizeof(grant)))
			(void)unlinkat(dir_fd, de->d_name, 0);
	(void)rmdir(path); /* fails while something is left to retry */
}

void credentials_reap_dead_run_done(const char *runtime_dir, const char *run_id)
{
	_cleanup_close_ int fd = -EBADF;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/credentials/%s", runtime_dir, run_id);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) >= 0)
		results_remove(fd, path);
}

/* A later start's retry of what a dead run's marking could not revoke. */
static void reap_run(int dir_fd, const char *path, const char *run_id,
		     const struct node_config *cfg)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char grant[POLICY_MAX_CREDENTIAL_NAME + 1];
	struct dirent *de;

	credentials_hold_secrets(); /* the state files may hold values */
	d = dir_reopen(dir_fd);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct reap_result res = {};

		if (grant_file(de->d_name, ".json", grant, sizeof(grant)))
			reap_state(dir_fd, de->d_name, grant, path, run_id, cfg, &res);
	}
	/* Its record is final (or there is none): what it says of its grants is written. */
	results_remove(dir_fd, path);
}

/*
 * libcurl's threaded resolver gives up on a lookup at the request's timeout but leaves its
 * thread, detached, until getaddrinfo() returns (seconds more: the resolver's own timeouts
 * and attempts). The run clones its sandbox next: not beside a thread that may hold a lock
 * of libc's the child would need. Waits until the process has no more threads than before
 * the first revocation; -EBUSY after the bound.
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

	snprintf(parent, sizeof(parent), "%s/credentials", runtime_dir);
	d = opendir(parent);
	while (d && (de = readdir(d))) {
		_cleanup_close_ int fd = -EBADF;

		if (de->d_name[0] == '.' || strv_contains(tried_runs, de->d_name) ||
		    run_lock_is_alive(runtime_dir, cfg, de->d_name) ||
		    strv_contains(tried_runs, de->d_name)) /* marked aborted just now */
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		/* Held: its run is alive (between its lock and its start), or another reaps it. */
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
		reap_run(fd, path, de->d_name, cfg);
	}
	return threads_before >= 0 ? threads_settle(threads_before) : 0;
}
