/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The github_app issuer kind (docs/config.md): a GitHub App's installation token, asked
 * for with an RS256 JWT (jwt.h), scoped per grant to repositories and permissions, revoked
 * with DELETE /installation/token. issuer-github.c talks to the API; the pure half below
 * (issuer-github-scope.c) builds the request from a grant's scope and reads the answer,
 * and is unit tested without a network.
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "issuer.h"

extern const struct issuer_ops issuer_github_app_ops;

/* Limits of a grant's scope: GitHub takes up to 500 repositories per token. */
#define GITHUB_MAX_REPOSITORIES 500
#define GITHUB_MAX_PERMISSIONS 64
#define GITHUB_NAME_MAX 100
/* The longest token we take (GitHub's are 40 bytes today; it documents no limit). */
#define GITHUB_TOKEN_MAX 1024

/*
 * Checks a grant's scope, {"repositories": ["name" | "owner/name", ...], "permissions":
 * {"<permission>": "read" | "write" | "admin", ...}}, both required and non-empty, no other
 * key, and builds the request body GitHub takes: the repositories by name (an "owner/"
 * prefix taken off: GitHub names them within the installation's account) and the
 * permissions as given. Returns 0 and *ret_body (the caller's), or -EINVAL with err
 * saying what is wrong.
 */
int github_scope_request(const json_t *scope, json_t **ret_body, char *err, size_t errlen);

/* What an access_tokens answer gave. */
struct github_token {
	struct secure_buf value; /* the token (secure_buf_alloc(.., true)) */
	json_t *scope; /* {"repositories": [full names], "permissions": {...}} as granted */
	int64_t expires_s; /* "expires_at" as Unix time */
};

/*
 * Reads the body of a 201 answer to POST /app/installations/ID/access_tokens: "token"
 * (printable, no space, at most GITHUB_TOKEN_MAX bytes), "expires_at" (ISO 8601 UTC),
 * "permissions" and "repositories" (objects with "full_name"; an answer without the list,
 * a token for all repositories, is refused). The copy of the token in the parsed JSON is
 * cleared before it is freed. Returns 0 and *ret (release with github_token_done()), or
 * -EBADMSG/-ENOMEM with err filled; no token was taken then.
 */
int github_token_parse(const char *body, size_t len, struct github_token *ret, char *err,
		       size_t errlen);
/*
 * Checks what was granted (github_token_parse()'s scope) against what the grant's scope
 * asked: -EPERM, with err filled, for a repository not asked for (an "owner/name" entry
 * matches only that owner's, a "name" entry that name under any owner: the installation
 * has one) or a permission above the one asked (GitHub adds "metadata": "read" to every
 * token, which passes). 0 otherwise.
 */
int github_scope_check(const json_t *granted, const json_t *asked, char *err, size_t errlen);
void github_token_done(struct github_token *t);

/* "2026-12-06T02:08:11Z" as Unix time, or -EINVAL. */
int github_parse_time(const char *s, int64_t *ret);
