/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The boundary between the airlock executable and its issuer module, airlock-issuers.so:
 * the kinds of issuer.h with libcurl and libcrypto, which only runs with grants (and the
 * reaper of a dead run that held some) load. supervisor/credentials/issuer-loader.c finds
 * and checks it like the network module (run-net-module.h): beside the executable or in
 * AIRLOCK_MODULE_DIR, root-only, same ABI and version, one exported symbol.
 */

#include <jansson.h>
#include <stdint.h>

#include "issuer.h"

#define ISSUER_MODULE_NAME "airlock-issuers.so"
#define ISSUER_MODULE_SYMBOL "issuer_module"
/* Bump with every change of this struct, of issuer.h's structs or of what they mean. */
#define ISSUER_MODULE_ABI 4

/* One configured issuer: the node config's object, parsed by its kind. */
struct issuer {
	char *name;
	const struct issuer_ops *ops;
	struct issuer_common common;
	void *config; /* the kind's own */
};

/* One mint or revocation of a batch the module runs concurrently. */
struct issuer_job {
	const struct issuer *issuer;
	struct issuer_grant grant; /* mint: what to ask for */
	const json_t *revocation; /* revoke: what the mint left */
	struct issuer_minted minted; /* mint: the result, when error is 0 */
	int error; /* 0 or -errno */
	char err[ISSUER_ERR_MAX]; /* when error < 0: one line */
	int64_t mono_us; /* how long the call took (CLOCK_MONOTONIC) */
};

struct issuer_module {
	uint32_t abi; /* ISSUER_MODULE_ABI */
	const char *version; /* AIRLOCK_VERSION of the build */
	/* Once, after loading and before any thread (libcurl's global init). 0 or -EIO. */
	int (*init)(void);
	/*
	 * Parses an issuer's node-config object (JSON text; "kind" picks the ops). Returns
	 * 0 and *ret, or -EINVAL/-ENOMEM with err naming the key.
	 */
	int (*issuer_new)(const char *name, const char *json, struct issuer **ret, char *err,
			  size_t errlen);
	struct issuer *(*issuer_free)(struct issuer *i);
	/*
	 * Runs every job's mint at once (a thread each) and returns when all have ended. Once
	 * *cancel is nonzero (another thread sets it), the requests still running end within
	 * about a second, their jobs with -ECANCELED.
	 */
	void (*mint_all)(struct issuer_job *jobs, size_t n, const int *cancel);
	/* The same for revocations (job->revocation). */
	void (*revoke_all)(struct issuer_job *jobs, size_t n);
	/*
	 * Whether issuer i could mint a grant of this scope (the policy's, or NULL), without
	 * a request (issuer_ops.check_grant). 0, or -errno with err filled.
	 */
	int (*grant_check)(const struct issuer *i, const json_t *scope, char *err, size_t errlen);
};

/* Defined by the module only; the loader finds it with dlsym(). */
extern const struct issuer_module issuer_module;
