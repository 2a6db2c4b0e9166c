/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The records of runs whose supervisor died (record_mark_aborted()): what their run lock
 * knows against what the state directory holds, turned into the aborted record, chained
 * and signed like any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "record-chain.h"
#include "record-json.h"
#include "record-store.h"
#include "record.h"
#include "run-export.h"
#include "run-log.h"
#include "sha256.h"

/* The largest record record_mark_aborted() reads back. */
#define RECORD_MAX_BYTES (16 * 1024 * 1024)

/*
 * A running record that is not the bytes its run wrote (its lock pinned their SHA-256):
 * changed in the state directory while the run lived. Marked so, since it is signed, and
 * said whether the record is made from the copy the lock kept (from_copy) or, without one
 * that matches the pin, from the fields as found.
 */
static int mark_changed(json_t *exit_o, const char *got, const char *pinned, bool from_copy)
{
	_cleanup_free_ char *msg = NULL;

	if (asprintf(&msg,
		     "its running record was changed after airlock wrote it (sha256 %s found, "
		     "not %s as written): %s",
		     got, pinned,
		     from_copy ? "this record is made from the copy its run lock kept, as "
				 "airlock wrote it"
			       : "its fields are as found, not as airlock wrote them") < 0)
		return -ENOMEM;
	if (record_json_set(exit_o, "reason", json_string("running_record_changed")) < 0 ||
	    record_json_set(exit_o, "message", json_string(msg)) < 0)
		return -ENOMEM;
	return 0;
}

/* Removes what a dead run left in its --record FILE's directory. */
static void sweep_copy_dir(const char *copy_dir, const char *run_id)
{
	_cleanup_close_ int fd = -EBADF;

	if (!copy_dir || copy_dir[0] != '/')
		return;
	fd = open_dir_no_symlinks(copy_dir, 0);
	if (fd >= 0)
		(void)record_sweep_temps(fd, run_id);
}

/* What a dead run's record name holds (found_running()). */
enum found {
	FOUND_RECORD, /* a JSON object with an exit cause: a record, maybe finished */
	FOUND_MISSING,
	FOUND_UNREADABLE, /* not a regular file that reads, or not a record */
};

/*
 * Reads the record under name: what was found, and for a record its JSON and bytes (hashed
 * against the pin), else NULL and why it does not read as one.
 */
static json_t *found_running(int records_fd, const char *name, enum found *ret_found,
			     char hex[static SHA256_HEX_SIZE], char *why, size_t why_len)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	json_t *o;
	struct stat st;
	size_t len = 0;
	int r;

	fd = openat(records_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	*ret_found = fd < 0 && errno == ENOENT ? FOUND_MISSING : FOUND_UNREADABLE;
	if (fd < 0)
		r = -errno;
	else if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = S_ISREG(st.st_mode) ? read_file_fd(fd, RECORD_MAX_BYTES, &buf, &len) : -EBADFD;
	if (r < 0) {
		if (r == -ELOOP || r == -EBADFD)
			snprintf(why, why_len, "%s",
				 r == -ELOOP ? "a symbolic link" : "not a regular file");
		else
			snprintf(why, why_len, "unreadable: %s", strerror(-r));
		return NULL;
	}
	o = json_loadb(buf, len, 0, NULL);
	if (!json_is_string(json_object_get(json_object_get(o, "exit"), "cause"))) {
		json_decref(o);
		snprintf(why, why_len, "%s", "not a JSON run record");
		return NULL;
	}
	*ret_found = FOUND_RECORD;
	sha256_hex(buf, len, hex);
	return o;
}

/*
 * The copy of the running record its run lock kept, parsed, when it is the bytes the lock
 * pinned and a record of this run; else NULL (hex: the copy's SHA-256, or "").
 */
static json_t *pinned_copy(const struct record_dead_run *d, char hex[static SHA256_HEX_SIZE])
{
	_cleanup_(json_decrefp) json_t *o = NULL;

	hex[0] = 0;
	if (!d->running_copy || !d->running_sha256)
		return NULL;
	sha256_hex(d->running_copy, strlen(d->running_copy), hex);
	if (!streq(hex, d->running_sha256))
		return NULL;
	o = json_loads(d->running_copy, 0, NULL);
	if (!json_is_object(json_object_get(o, "exit")) ||
	    !streq(json_string_value(json_object_get(o, "run_id")) ?: "", d->run_id))
		return NULL; /* the pin holds: a copy airlock wrote is a running record of the run */
	return TAKE_PTR(o);
}

/*
 * The copy of the running record its run lock kept, as the record of a run whose own
 * running record went from the state directory (found: missing or unreadable), with
 * exit.reason saying so; NULL when there is no copy, or it is not the bytes the lock pinned.
 */
static json_t *from_copy(const struct record_dead_run *d, const char *name, enum found found,
			 const char *why)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_free_ char *msg = NULL;
	char hex[SHA256_HEX_SIZE];
	const char *reason =
		found == FOUND_MISSING ? "running_record_missing" : "running_record_unreadable";
	json_t *exit_o;
	int r;

	o = pinned_copy(d, hex);
	if (!o) {
		log_warning(
			"Run record '%s/records/%s' is %s and its run lock kept no copy of it as "
			"written: run %s is left without a record",
			d->state_dir, name, found == FOUND_MISSING ? "missing" : why, d->run_id);
		return NULL;
	}
	exit_o = json_object_get(o, "exit");
	log_warning("Run record '%s/records/%s' is %s: marked aborted from the copy its run lock "
		    "kept, with exit.reason %s",
		    d->state_dir, name, found == FOUND_MISSING ? "missing" : why, reason);
	if (found == FOUND_MISSING)
		r = asprintf(
			&msg,
			"its running record was deleted from the state directory while the run "
			"lived: this record is made from the copy its run lock kept (sha256 %s, "
			"as airlock wrote it)",
			hex);
	else
		r = asprintf(
			&msg,
			"its running record in the state directory was replaced by what is not "
			"a run record (%s) while the run lived: this record is made from the "
			"copy its run lock kept (sha256 %s, as airlock wrote it)",
			why, hex);
	if (r < 0)
		return NULL;
	if (record_json_set(exit_o, "reason", json_string(reason)) < 0 ||
	    record_json_set(exit_o, "message", json_string(msg)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/*
 * What became of the dead run's grants, as the start that marks it aborted found it
 * (grants: credentials_reap_dead_run()), into each grant the running record left
 * "pending". One it found nothing of was not revoked by it, and the record says so.
 */
static int revocations_apply(json_t *o, json_t *grants)
{
	json_t *list = json_object_get(o, "credentials"), *c, *found;
	size_t i;

	json_array_foreach(list, i, c)
	{
		json_t *v = json_object_get(c, "revocation");

		if (!json_is_string(v) || !streq(json_string_value(v), "pending"))
			continue;
		found = json_object_get(grants,
					json_string_value(json_object_get(c, "name")) ?: "");
		if (found && json_object_update(c, found) < 0)
			return -ENOMEM;
		if (!found && (record_json_set(c, "revocation", json_string("failed")) < 0 ||
			       record_json_set(c, "revocation_error",
					       json_string("the start that marked the run aborted "
							   "found no revocation state of it: not "
							   "revoked by airlock")) < 0))
			return -ENOMEM;
	}
	return 0;
}

/* The running record o, of a run that died, made "aborted", with the logs it left and
 * what became of its grants. */
static int make_aborted(json_t *o, const struct record_dead_run *d)
{
	json_t *exit_o = json_object_get(o, "exit"), *export;
	struct timespec ts;
	char now[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	record_format_time(&ts, now, sizeof(now));
	if (record_json_set(exit_o, "cause", json_string("aborted")) < 0 ||
	    record_json_set(exit_o, "code", json_integer(125)) < 0 ||
	    record_json_set(o, "ended_at", json_string(now)) < 0 ||
	    run_log_reap(d->state_dir, d->run_id, o) < 0 ||
	    (d->grants && revocations_apply(o, d->grants) < 0))
		return -ENOMEM;
	/* The running record's "the task did not run" would be wrong: it may have died in it. */
	export = json_object_get(o, "artifacts");
	if (json_is_object(export) &&
	    record_json_set(
		    export, "error",
		    json_string(d->export_ended
					? "the run was aborted (its supervisor died) after its "
					  "export had ended: the export directory's "
					  "manifest.json is not in this record"
					: "the run was aborted (its supervisor died): nothing "
					  "was exported")) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * The running record *o was changed in the state directory while its run lived (its
 * SHA-256 is found, not the pin): *o becomes the copy the lock kept when that is the pinned
 * bytes (the fields as airlock wrote them), and is marked running_record_changed either way.
 * false on failure (out of memory).
 */
static bool changed(json_t **o, const struct record_dead_run *d, const char *name,
		    const char *found)
{
	char hex[SHA256_HEX_SIZE];
	json_t *copy = pinned_copy(d, hex);

	log_warning("Run record '%s/records/%s' was changed after its run wrote it: marked "
		    "aborted from %s, with exit.reason running_record_changed",
		    d->state_dir, name,
		    copy ? "the copy its run lock kept"
			 : "the fields as found (no copy as written)");
	if (copy) {
		json_decref(*o);
		*o = copy;
	}
	return mark_changed(json_object_get(*o, "exit"), found, d->running_sha256, copy) >= 0;
}

/*
 * The "running" record of a dead run turned "aborted", with the size and SHA-256 of the
 * logs it left, or NULL when it is not one (*ret_missing: there is no record at all, nor
 * one its run lock knows of). A running record that went from the state directory is
 * made from the copy the lock kept.
 */
static json_t *aborted_json(int records_fd, const char *name, const struct record_dead_run *d,
			    bool *ret_missing)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	char hex[SHA256_HEX_SIZE], why[128];
	enum found found;
	json_t *exit_o;

	o = found_running(records_fd, name, &found, hex, why, sizeof(why));
	*ret_missing = found == FOUND_MISSING && !d->running_sha256;
	if (found != FOUND_RECORD) {
		if (!d->running_sha256) /* it died before its first record, or no run wrote it */
			return NULL;
		o = from_copy(d, name, found, why);
		if (!o || make_aborted(o, d) < 0)
			return NULL;
		return TAKE_PTR(o);
	}
	exit_o = json_object_get(o, "exit");
	if (!streq(json_string_value(json_object_get(exit_o, "cause")), "running"))
		return NULL; /* finished: nothing to mark */
	/* Another run's record under this name would be signed as this run, and the head
	 * would name a record that is not there: left for `records verify` to name. */
	if (!streq(json_string_value(json_object_get(o, "run_id")) ?: "", d->run_id)) {
		log_warning("Not marking '%s/records/%s' aborted: it holds another run",
			    d->state_dir, name);
		return NULL;
	}
	if (d->running_sha256 && !streq(hex, d->running_sha256) && !changed(&o, d, name, hex))
		return NULL;
	if (make_aborted(o, d) < 0)
		return NULL;
	return TAKE_PTR(o);
}

struct aborted_write {
	int records_fd;
	const char *name, *run_id;
};

static int replace_aborted(const char *text, void *userdata)
{
	struct aborted_write *w = userdata;

	return record_replace(w->records_fd, w->name, w->run_id, text, RECORD_SYNC_FULL,
			      RECORD_TARGET_ANY);
}

/* The aborted record, chained and signed like any other final one. Logs nothing. */
static int write_aborted(const char *state_dir, int records_fd, const char *name,
			 const char *run_id, json_t *o)
{
	struct aborted_write w = { records_fd, name, run_id };
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int state_fd = -EBADF;

	if (AIRLOCK_RECORD_CHAIN) {
		state_fd = open_dir_no_symlinks(state_dir, 0);
		if (state_fd < 0)
			return state_fd;
		return record_chain_append(state_fd, state_dir, o, replace_aborted, &w, NULL);
	}
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	return replace_aborted(text, &w);
}

int record_mark_aborted(const struct record_dead_run *d)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	_cleanup_close_ int fd = -EBADF;
	char dir[PATH_MAX + 16], name[NAME_MAX + 1];
	bool missing = false;
	int r;

	if (d->state_dir[0] != '/')
		return 0; /* a relative path (before 0.1.0 stored it so): resolves nowhere sure */
	snprintf(dir, sizeof(dir), "%s/records", d->state_dir);
	fd = open_dir_no_symlinks(dir, 0); /* never created: a state dir that went stays gone */
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return log_warning_errno(fd, "Failed to open '%s' to mark run %s aborted: %m", dir,
					 d->run_id);
	/* What the dead run (or a reaper killed while marking it) left half written. */
	(void)record_sweep_temps(fd, d->run_id);
	sweep_copy_dir(d->copy_dir, d->run_id);
	/* Its export directory, made fresh and empty; a stop signal leaves it for the next start. */
	if (run_export_sweep(d->state_dir, d->run_id) == -EINTR)
		return -EINTR;

	snprintf(name, sizeof(name), "%s.json", d->run_id);
	o = aborted_json(fd, name, d, &missing);
	if (!o && missing) /* it died before its first record: its task never started */
		run_log_reap_unrecorded(d->state_dir, d->run_id);
	if (!o)
		return 0;
	r = write_aborted(d->state_dir, fd, name, d->run_id, o);
	if (r < 0)
		return log_warning_errno(
			r,
			"Failed to mark run record '%s/%s' aborted (tried again at "
			"the next start): %m",
			dir, name);
	return 1;
}
