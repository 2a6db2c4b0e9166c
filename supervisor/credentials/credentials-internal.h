/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by credentials.c (slots and values) and credentials-deliver.c (files, env, record). */

#include <limits.h>
#include <stdint.h>

#include "credentials.h"
#include "issuer-module.h"
#include "secure-mem.h"
#include "sha256.h"

/* The most bytes (as compact JSON) of an issuer's scope the record holds. */
#define CREDENTIALS_SCOPE_MAX 1024

struct credential {
	const struct policy_credential *slot; /* borrowed from the run's policy */
	struct secure_buf value; /* wiped on fork: no child ever holds a copy */
	struct secure_buf file; /* a template rendered (wiped on fork), or unallocated */
	char *env; /* "NAME=value" inside the set's env buffer, or NULL */
	uint8_t digest[SHA256_DIGEST_SIZE]; /* SHA-256 of the value */
	struct credential_grant *grant; /* "issuer:<name>" slots, once minted; else NULL */
};

/* What a grant's mint returned, and what became of it (credentials-issued.c). */
struct credential_grant {
	const struct issuer *issuer; /* the set's, loaded by the module */
	json_t *scope; /* as the issuer granted it, or NULL */
	/*
	 * The revocation state: the text of <grant>.json (credentials_state_text()), with
	 * the kind's state for revoke(), which may hold the value: in secure memory, never in
	 * the heap. Unallocated: nothing to revoke (not revocable, or revoked).
	 */
	struct secure_buf state;
	int64_t issued_s, revoked_s; /* Unix times; revoked_s 0: not (yet) */
	/*
	 * The grant's expiry: the issuer's, or issued_s + the lifetime asked for (the grant's
	 * ttl, at most the run's wall time) when that comes first. on_expiry applies then.
	 */
	int64_t expires_s;
	/* When the credential itself expires, as the issuer said: revocable until then. */
	int64_t issuer_expires_s;
	int64_t mint_us; /* the mint's own time */
	bool expired; /* it expired while the task ran */
	bool revoke_due; /* expired: its revocation waits for the batch out to end */
	bool revoking; /* in the batch revoking expired grants off the loop */
	bool scope_clipped; /* the issuer's scope was larger than CREDENTIALS_SCOPE_MAX */
	const char *result; /* "revoked", "failed", "not_revocable", or NULL: not yet */
	char error[ISSUER_ERR_MAX]; /* result "failed": why */
};

struct expiry_batch;
struct loop;

/* The grants' issuers and state (credentials-issued.c), and their expiry (credentials-expiry.c). */
struct credentials_issued {
	const struct issuer_module *m;
	struct issuer **issuers; /* one per issuer the grants name */
	size_t n_issuers;
	char dir[PATH_MAX]; /* <runtime>/credentials/<run-id> */
	int dir_fd; /* flock'ed LOCK_EX while the run holds anything */
	int timer_fd; /* the next expiry, or -EBADF */
	struct loop *loop;
	credentials_expired_fn on_kill;
	credentials_event_fn on_event; /* or NULL */
	void *userdata;
	/* The revocation of expired grants on a thread, off the loop, or NULL. */
	struct expiry_batch *batch;
	int batch_fd; /* an eventfd the batch's thread writes once it has ended, or -EBADF */
	bool ended; /* credentials_revoke() ran: nothing more is revoked */
};

struct credential_set {
	struct credential *items;
	size_t n;
	/* The "NAME=value" strings, which the sandbox child needs: not wiped on fork. */
	struct secure_buf env;
	struct credentials_issued *issued; /* the grants' issuers and state, or NULL */
};

/* credentials.c: the "NAME=value" strings of env deliveries, once every value is in. */
int credentials_build_env(struct credential_set *s);
/* credentials-issued.c: a grant's keys of the record, added to o. 0 or -ENOMEM. */
int credentials_grant_to_json(const struct credential *c, json_t *o);
/* credentials-issued.c: -EINVAL (logged) when a grant names an issuer cfg lacks. */
struct node_config;
int credentials_check_issuers(const struct policy *p, const struct node_config *cfg);
/*
 * credentials-reap.c: c->grant->state, the text of <grant>.json, from the kind's revocation
 * state: {"grant", "issuer", "expires", "revocation"}, written straight into secure memory.
 * Does not log. 0, or -ENOMEM (the caller still holds revocation, to revoke with).
 */
int credentials_state_text(struct credential *c, const json_t *revocation);
/*
 * credentials-reap.c: <dir>/<grant>.json (0600), what the next start needs to revoke c
 * should this run die. Logs failures. 0 or -errno.
 */
int credentials_state_write(int dir_fd, const char *dir, const struct credential *c);
/*
 * credentials-reap.c: <dir>/<grant>.result (0600), what became of a grant whose state is
 * gone: result "revoked" (or "expired", at its issuer) at Unix time at_s, and whether the
 * grant had expired while its task ran. It holds no value; it stays until the run's record
 * is final (credentials_release()), for the start that marks the run aborted should it die
 * before. Does not log. 0 or -errno.
 */
#define CREDENTIALS_RESULT_SUFFIX ".result"
int credentials_result_write(int dir_fd, const char *grant, const char *result, int64_t at_s,
			     bool expired);
/*
 * credentials-reap.c: the state text parsed (jansson's frees clear once the issuer module
 * is loaded); its "revocation" is what revoke() takes. NULL when it cannot be parsed.
 */
json_t *credentials_state_parse(const uint8_t *text, size_t len);
/*
 * credentials-issued.c: makes airlock not dumpable (prctl PR_SET_DUMPABLE 0) from before a
 * mint, or a dead run's revocation state is read, on.
 */
void credentials_hold_secrets(void);
/*
 * Waits until fd is readable (or its writer is gone: 0) or a stop signal comes (its number),
 * with *sig_fd a signalfd made on the first call (the caller closes it). -errno on failure.
 */
int credentials_wait_readable(int fd, int *sig_fd);
/*
 * m->mint_all() in a thread while this one waits for it or a stop signal, which cancels the
 * requests still out (they end within about a second, -ECANCELED). The signal, or 0.
 */
int credentials_mint_interruptible(const struct issuer_module *m, struct issuer_job *jobs,
				   size_t n);
/* Each job cut short by signal sig says so in its err, for the refusal's line. */
void credentials_mark_interrupted(struct issuer_job *jobs, size_t n, int sig);
/* credentials.c: c->digest from c->value. */
void credentials_fingerprint(struct credential *c);
/*
 * credentials-issued.c: what revocation j (of grant c) came to, for the record: on success,
 * the state goes (<grant>.result in its place); on failure, it stays and a warning says
 * so (at_expiry: the run's end retries it).
 */
void credentials_revoke_result(struct credentials_issued *g, struct credential *c,
			       const struct issuer_job *j, bool at_expiry);
/* credentials-issued.c: the current Unix time. */
int64_t credentials_now_s(void);
/*
 * credentials-expiry.c: waits for the batch revoking expired grants, if one is out, and
 * takes its results (credentials_revoke_result()). For the run's end.
 */
void credentials_expiry_finish(struct credential_set *s);
/* credentials-issued.c: frees what the grants hold (after credentials_revoke()). */
void credentials_issued_free(struct credential_set *s);

/* issuer-loader.c: starts loading the module on a thread (issuer_module_get() joins it). */
void issuer_module_prefetch(void);
/*
 * issuer-loader.c: the issuer module, loaded on first use. On failure, returns -errno with
 * the module's path and what is wrong with it (for one logged line).
 */
int issuer_module_get(const struct issuer_module **ret, const char **reterr_path,
		      const char **reterr_problem);
