/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by credentials.c (slots and values) and credentials-deliver.c (files, env, record). */

#include <stdint.h>

#include "credentials.h"
#include "issuer-module.h"
#include "secure-mem.h"
#include "sha256.h"

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
	json_t *revocation; /* the kind's state for revoke(); NULL once revoked */
	int64_t issued_s, expires_s, revoked_s; /* Unix times; revoked_s 0: not (yet) */
	int64_t mint_us; /* the mint's own time */
	bool expired; /* it expired while the task ran */
	const char *result; /* "revoked", "failed", "not_revocable", or NULL: not yet */
	char error[ISSUER_ERR_MAX]; /* result "failed": why */
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
 * credentials-reap.c: <dir>/<grant>.json (0600), what the next start needs to revoke c
 * should this run die. Logs failures. 0 or -errno.
 */
int credentials_state_write(int dir_fd, const char *dir, const struct credential *c);
/* credentials.c: c->digest from c->value. */
void credentials_fingerprint(struct credential *c);
/* credentials-issued.c: frees what the grants hold (after credentials_revoke()). */
void credentials_issued_free(struct credential_set *s);

/*
 * issuer-loader.c: the issuer module, loaded on first use. On failure, returns -errno with
 * the module's path and what is wrong with it (for one logged line).
 */
int issuer_module_get(const struct issuer_module **ret, const char **reterr_path,
		      const char **reterr_problem);
