/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Credentials of one run (docs/credentials.md): the policy declares named slots
 * (policy.h, struct policy_credential); the caller fills the "caller" ones per run from a
 * file or a file descriptor, never argv or the environment. Values live only in
 * secure-mem.h memory, go to the task as files on a private tmpfs or as environment
 * variables, and appear in the record only as name, delivery, size and SHA-256.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

#define CREDENTIAL_MAX_VALUE (64 * 1024) /* bytes of one value */

/* One --credential NAME=@FILE or --credential-fd NAME=N of the command line. */
struct credential_arg {
	char *name;
	char *path; /* NAME=@FILE: the file, or NULL */
	int fd; /* NAME=N: the descriptor, or -EBADF */
};

struct credential_args {
	struct credential_arg items[POLICY_MAX_CREDENTIALS];
	size_t n;
};

/* The parts of one command-line argument, as credential_arg_parse() finds them. */
struct credential_arg_syntax {
	size_t name_len; /* NAME's length, 0 when it is malformed */
	int fd; /* NAME=N: N, or -EBADF when malformed (or from_fd false) */
	const char *path; /* NAME=@FILE: FILE inside the argument, or NULL when malformed */
};

/*
 * The one parse of "NAME=@FILE" (from_fd false) or "NAME=N" (true): NAME of 1 to
 * POLICY_MAX_CREDENTIAL_NAME characters [A-Za-z0-9_-], N of up to 9 decimal digits, FILE
 * not empty. Fills *parts as far as the argument is well formed (a caller names what is
 * wrong). Checks no descriptor or file and does not log. Returns 0, or -EINVAL when any
 * part is malformed.
 */
int credential_arg_parse(const char *arg, bool from_fd, struct credential_arg_syntax *parts);

/*
 * Adds one command-line argument: "NAME=@FILE" (from_fd false) or "NAME=N" (true). A
 * malformed argument is never echoed past the name, in case it holds a value. Logs its
 * refusal (one line). Returns 0 or -EINVAL.
 */
int credential_args_add(struct credential_args *a, const char *arg, bool from_fd);
/* Frees what credential_args_add() allocated (closes no descriptor). */
void credential_args_done(struct credential_args *a);

/* The values of one run. */
struct credential_set;

/*
 * Fills the slots of p from args, before anything of the run starts: every argument must
 * name a slot of p, every "caller" slot must get a value, and each value is read once
 * (a file is opened, read to its end and closed; a descriptor above 2 is read to its end
 * and closed; standard input is read to its end and replaced with /dev/null) and must hold 1..CREDENTIAL_MAX_VALUE bytes (and no NUL for an environment
 * variable). Logs each refusal as one line. Returns 0 and *ret (NULL when p declares no
 * slot; owned by the caller), or -errno (-EINVAL refused, -ENOMEM, -EIO...). args may be
 * NULL (no argument).
 */
int credentials_load(const struct policy *p, const struct credential_args *args,
		     struct credential_set **ret);
/* Clears every value and frees s; accepts and returns NULL. */
struct credential_set *credential_set_free(struct credential_set *s);

struct sandbox_mounts;

/*
 * Renders each file delivery (its template, or the value alone) and hands the files to
 * the sandbox's secrets tmpfs (sandbox_mounts_add_secrets()). Logs failures. Returns 0
 * or -errno. s may be NULL (nothing to do).
 */
int credentials_add_files(struct credential_set *s, struct sandbox_mounts *m,
			  const struct policy *p, uid_t host_id_base);

/*
 * The task's environment: base followed by one "NAME=value" per env delivery. *ret is
 * a new NULL-terminated array owned by the caller (free() it, not its strings), which
 * borrows base's strings and s's. Returns 0 or -ENOMEM. s may be NULL.
 */
int credentials_env(const struct credential_set *s, char *const *base, char ***ret);
/* Where the "NAME=value" strings live, for the sandbox init to clear its copy (or NULL). */
void credentials_env_memory(const struct credential_set *s, void **ret, size_t *ret_len);

/*
 * The record's "credentials" array: name, source, delivery and target, size and SHA-256
 * of each value, never the value. NULL when s is NULL or on -ENOMEM.
 */
json_t *credentials_to_json(const struct credential_set *s);

/*
 * Calls cb for each value of the run (the slot's name, the value's bytes, which are not
 * NUL-terminated, and userdata), for the output redactor. The bytes are valid until
 * credential_set_free(); cb must not copy them anywhere but memory of its own that is as
 * carefully kept (secure-mem.h).
 */
typedef void (*credentials_cb)(const char *name, const void *value, size_t len, void *userdata);
void credentials_for_each(const struct credential_set *s, credentials_cb cb, void *userdata);

struct node_config;
struct loop;

/*
 * When p has grants, starts loading the issuer module (libcurl's dozen libraries take
 * milliseconds to map) on a thread of its own, so that the run's other preparation hides
 * it; credentials_mint() waits for it. Does nothing otherwise. Does not log.
 */
void credentials_prefetch(const struct policy *p);

/*
 * Whether the issuer of cfg that grant pc names could mint it: defined, its configuration
 * parsed by its kind, the grant's scope one the kind takes (a github_app grant needs
 * repositories and permissions). No request is sent; the issuer module is loaded. For
 * `airlock policy check --host`: a run checks the same before it mints anything. Does not
 * log: 0, or -errno with err filled ("issuer 'github': a github_app grant needs a scope").
 */
struct policy_credential;
int credentials_check_grant(const struct policy_credential *pc, const struct node_config *cfg,
			    char *err, size_t errlen);

/*
 * Mints the values of p's grants ("source": "issuer:<name>") from the issuers of cfg, all at
 * once, once the run holds its lock (run_id) and before its task exists, asking each for at
 * most its ttl and the run's wall time; then builds the environment deliveries. What
 * revoking needs is kept in <runtime_dir>/credentials/<run_id>/ (root-only) until
 * credentials_revoke(). A grant naming an issuer cfg lacks, an issuer that does not parse,
 * a module that does not load or any failed mint refuses the run with one logged line
 * naming the grant, the issuer and the HTTP status or curl error; what was minted is
 * revoked. Returns 0 (also when p has no grant: nothing is loaded) or -errno.
 */
int credentials_mint(struct credential_set *s, const struct policy *p,
		     const struct node_config *cfg, const char *runtime_dir, const char *run_id);

/*
 * Revokes every grant not yet revoked, at once, and records when and how for the record;
 * removes the run's revocation state, except what failed (a later start retries it until
 * it expires). Logs failures as warnings. s may be NULL; a second call does nothing.
 */
void credentials_revoke(struct credential_set *s);
/*
 * Once the run's record is final (written, or refused): removes what the run's revocation
 * state directory kept for a start that would mark it aborted, and the directory when
 * nothing is left to revoke (a failed revocation's state stays for a later start). Not
 * called when the record could not be written: that start then reads what became of each
 * grant. Logs a warning when the directory stays. s may be NULL.
 */
void credentials_release(struct credential_set *s);

/*
 * Watches the grants' expiry on l: an expiry is logged and recorded, and the credential is
 * revoked at its issuer then, on a thread of its own (credentials-expiry.c), whose result
 * the loop takes when it ends; one of a grant with "on_expiry": "kill" also calls fn with
 * the grant's name (its return value is the handler's). Each expiry and each revocation at
 * expiry, once its result is in, is given to event (may be NULL) as an event of the run's
 * log: "credential_expired" or "credential_revoked" and its fields (a new reference, NULL
 * when out of memory; never a value). Returns 0 or -errno. s may be NULL.
 */
typedef int (*credentials_expired_fn)(const char *name, void *userdata);
typedef void (*credentials_event_fn)(const char *type, json_t *fields, void *userdata);
int credentials_watch_expiry(struct credential_set *s, struct loop *l, credentials_expired_fn fn,
			     credentials_event_fn event, void *userdata);

/*
 * Handles now what credentials_watch_expiry()'s timer would once the loop reads it: every
 * grant expired by now is logged and recorded, and fn is called for one with "on_expiry":
 * "kill". For a run whose loop cannot get to it yet (job control holds the task). Returns
 * fn's return value, or 0. s may be NULL; nothing before credentials_watch_expiry().
 */
int credentials_expire_due(struct credential_set *s);

/*
 * The earliest expiry (Unix time) of a grant with "on_expiry": "kill" not yet expired:
 * 1 and *ret, or 0 when there is none. s may be NULL.
 */
int credentials_next_kill_expiry(const struct credential_set *s, int64_t *ret);
/*
 * The earliest expiry (Unix time) of a grant with "on_expiry": "record" not yet expired
 * whose credential is to be revoked then: 1 and *ret, or 0 when there is none. s may be
 * NULL.
 */
int credentials_next_revoke_expiry(const struct credential_set *s, int64_t *ret);
/*
 * credentials_expire_due(), then waits for the revocations it started to end (up to each
 * issuer's timeout), their results taken as the loop would: for a run whose airlock is
 * woken from a stop for them alone, and stops again after (run-jobctl.c). Returns
 * credentials_expire_due()'s value. s may be NULL.
 */
int credentials_expire_due_wait(struct credential_set *s);

/*
 * Checks the kind-specific keys of cfg's issuers as strictly as a run would (loading the
 * issuer module when there are any), for `airlock config check`. Logs the first error as
 * one line ("config: /credentials/issuers/idp: token_url: expected an https:// URL").
 * Returns 0 or -errno.
 */
int credentials_check_config(const struct node_config *cfg);

/*
 * The next start's part (credentials-reap.c), for dead run run_id, before its record is
 * marked aborted (the caller holds its run lock): revokes what the run still held, from its
 * state in <runtime_dir>/credentials/<run_id>/, with the issuers of cfg (loading the issuer
 * module only when there is such state), and reads back what became of the grants it no
 * longer held. *ret: an object, for each grant of which something was found, of the record's
 * keys "revocation" ("revoked", "expired" at its issuer, "failed"), "revoked_at" (when a
 * request ended), "revocation_error" (failed: why; a later start retries a failed
 * revocation until the credential expires) and "expired" (true: the run had recorded the
 * grant expired before it revoked it). Logs what it did (about another run). Returns
 * 0, -EBUSY when another process holds the directory, or -ENOMEM.
 */
int credentials_reap_dead_run(const char *runtime_dir, const char *run_id,
			      const struct node_config *cfg, json_t **ret);
/* Once the dead run's record is final: what credentials_reap_dead_run() kept for it goes. */
void credentials_reap_dead_run_done(const char *runtime_dir, const char *run_id);

/*
 * The next start's retries (credentials-reap.c): revokes what dead runs whose records are
 * final still hold (a revocation failed before), from their state in
 * <runtime_dir>/credentials/, with the issuers of cfg; those not yet marked aborted are
 * marked first (run_lock_is_alive()). Logs what it did (about other runs). Returns 0, or
 * -EBUSY (not logged: the caller refuses its run) when a thread libcurl started for a
 * revocation of this process (a name lookup that outlived its request) was still alive
 * after CREDENTIALS_THREAD_WAIT_MS.
 */
#define CREDENTIALS_THREAD_WAIT_MS 30000
int credentials_reap_stale(const char *runtime_dir, const struct node_config *cfg);
