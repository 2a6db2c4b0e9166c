/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The github_app kind's pure half: a grant's scope to a request body, the answer to a token. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "issuer-github.h"
#include "macro.h"

static int github_err(char *err, size_t errlen, int r, const char *fmt, ...) _printf_(4, 5);
static int github_err(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* GitHub's owner and repository names: letters, digits, '-', '_', '.'. */
static bool github_name_is_valid(const char *s, size_t n)
{
	return n > 0 && n <= GITHUB_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") >=
		       n &&
	       !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* "name" or "owner/name": the name part into *ret_name, or NULL when malformed. */
static const char *github_repo_name(const char *s)
{
	const char *slash = strchr(s, '/');

	if (!slash)
		return github_name_is_valid(s, strlen(s)) ? s : NULL;
	if (!github_name_is_valid(s, (size_t)(slash - s)) ||
	    !github_name_is_valid(slash + 1, strlen(slash + 1)))
		return NULL;
	return slash + 1;
}

static int github_scope_repositories(const json_t *repos, json_t *body, char *err, size_t errlen)
{
	json_t *names = json_array(), *v;
	size_t i;

	if (!names || json_object_set_new(body, "repositories", names) < 0)
		return -ENOMEM;
	if (!json_is_array(repos) || json_array_size(repos) == 0 ||
	    json_array_size(repos) > GITHUB_MAX_REPOSITORIES)
		return github_err(err, errlen, -EINVAL,
				  "scope.repositories: expected 1 to %d repository names",
				  GITHUB_MAX_REPOSITORIES);
	json_array_foreach(repos, i, v)
	{
		const char *name =
			json_is_string(v) ? github_repo_name(json_string_value(v)) : NULL;

		if (!name)
			return github_err(
				err, errlen, -EINVAL,
				"scope.repositories[%zu]: expected \"name\" or \"owner/name\"", i);
		if (json_array_append_new(names, json_string(name)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int github_access_rank(const char *s)
{
	static const char *const levels[] = { "read", "write", "admin" };

	for (size_t i = 0; i < ELEMENTSOF(levels); i++)
		if (s && streq(s, levels[i]))
			return (int)i + 1;
	return 0;
}

static int github_scope_permissions(const json_t *perms, json_t *body, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(perms) || json_object_size(perms) == 0 ||
	    json_object_size(perms) > GITHUB_MAX_PERMISSIONS)
		return github_err(err, errlen, -EINVAL,
				  "scope.permissions: expected an object of 1 to %d permissions",
				  GITHUB_MAX_PERMISSIONS);
	json_object_foreach((json_t *)perms, k, v)
	{
		if (strlen(k) == 0 || strlen(k) > GITHUB_NAME_MAX ||
		    strspn(k, "abcdefghijklmnopqrstuvwxyz_") != strlen(k))
			return github_err(err, errlen, -EINVAL,
					  "scope.permissions: '%.64s' is not a permission name", k);
		if (github_access_rank(json_string_value(v)) == 0)
			return github_err(
				err, errlen, -EINVAL,
				"scope.permissions.%s: expected \"read\", \"write\" or \"admin\"",
				k);
	}
	return json_object_set(body, "permissions", (json_t *)perms) < 0 ? -ENOMEM : 0;
}

int github_scope_request(const json_t *scope, json_t **ret_body, char *err, size_t errlen)
{
	json_t *body = NULL;
	const char *k;
	json_t *v;
	int r;

	assert(ret_body && err);

	if (!json_is_object(scope))
		return github_err(err, errlen, -EINVAL,
				  "a github_app grant needs a scope: {\"repositories\": [...], "
				  "\"permissions\": {...}}");
	json_object_foreach(
		(json_t *)scope, k,
		v) if (!streq(k, "repositories") &&
		       !streq(k, "permissions")) return github_err(err, errlen, -EINVAL,
								   "scope: unknown key '%.64s' "
								   "(repositories, permissions)",
								   k);

	body = json_object();
	if (!body)
		return -ENOMEM;
	r = github_scope_repositories(json_object_get(scope, "repositories"), body, err, errlen);
	if (r >= 0)
		r = github_scope_permissions(json_object_get(scope, "permissions"), body, err,
					     errlen);
	if (r < 0) {
		json_decref(body);
		return r == -ENOMEM ? github_err(err, errlen, r, "out of memory") : r;
	}
	*ret_body = body;
	return 0;
}

int github_parse_time(const char *s, int64_t *ret)
{
	struct tm tm = {};
	const char *end;
	time_t t;

	end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!end || *end)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)t;
	return 0;
}

/* Whether the asked entry ("name" or "owner/name") covers full ("owner/name"). */
static bool github_repo_matches(const char *asked, const char *full)
{
	const char *slash = strchr(full, '/');

	if (!slash)
		return false;
	if (strchr(asked, '/'))
		return strcasecmp(asked, full) == 0;
	return strcasecmp(asked, slash + 1) == 0;
}

static bool github_repo_was_asked(const json_t *asked, const char *full)
{
	size_t i;
	json_t *v;

	json_array_foreach(asked, i,
			   v) if (github_repo_matches(json_string_value(v), full)) return true;
	return false;
}

int github_scope_check(const json_t *granted, const json_t *asked, char *err, size_t errlen)
{
	const json_t *asked_repos = json_object_get(asked, "repositories");
	const json_t *asked_perms = json_object_get(asked, "permissions");
	const char *k;
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(granted, "repositories"), i, v) if (
		!github_repo_was_asked(
			asked_repos,
			json_string_value(v))) return github_err(err, errlen, -EPERM,
								 "the token was granted repository "
								 "'%.200s', which the "
								 "scope did not ask for",
								 json_string_value(v));
	json_object_foreach(json_object_get(granted, "permissions"), k, v)
	{
		int want = github_access_rank(json_string_value(json_object_get(asked_perms, k)));
		int got = github_access_rank(json_string_value(v));

		if (streq(k, "metadata") && got == 1)
			continue; /* every installation token can read metadata */
		if (got == 0 || got > want)
			return github_err(err, errlen, -EPERM,
					  "the token was granted permission %.64s:%.16s, more than "
					  "the scope asked for",
					  k, json_is_string(v) ? json_string_value(v) : "?");
	}
	return 0;
}

static bool github_token_is_valid(const char *s, size_t n)
{
	if (n == 0 || n > GITHUB_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* The granted scope from the answer: repositories by full name, permissions as given. */
static int github_granted_scope(json_t *root, json_t **ret, char *err, size_t errlen)
{
	json_t *perms = json_object_get(root, "permissions"), *repos = json_array(), *v;
	json_t *scope;
	size_t i;

	if (!repos)
		return -ENOMEM;
	scope = json_pack("{s:o, s:O}", "repositories", repos, "permissions", perms);
	if (!json_is_object(perms) || !json_is_array(json_object_get(root, "repositories")) ||
	    !scope) {
		json_decref(scope);
		return github_err(
			err, errlen, -EBADMSG,
			"the answer has no \"permissions\" object or no "
			"\"repositories\" list (a token for all repositories is refused)");
	}
	json_array_foreach(json_object_get(root, "repositories"), i, v)
	{
		const char *full = json_string_value(json_object_get(v, "full_name"));

		if (!full || !strchr(full, '/') || strlen(full) > 2 * GITHUB_NAME_MAX + 1 ||
		    json_array_append_new(repos, json_string(full)) < 0) {
			json_decref(scope);
			return github_err(
				err, errlen, -EBADMSG,
				"the answer's repositories[%zu] has no valid \"full_name\"", i);
		}
	}
	*ret = scope;
	return 0;
}

static int github_token_copy(json_t *tok, struct secure_buf *ret, char *err, size_t errlen)
{
	const char *s = json_string_value(tok);
	size_t n = json_string_length(tok);
	int r;

	if (!s || !github_token_is_valid(s, n))
		return github_err(err, errlen, -EBADMSG, "the answer has no valid \"token\"");
	r = secure_buf_alloc(ret, n + 1, true);
	if (r < 0)
		return github_err(err, errlen, r, "cannot allocate secure memory for the token");
	memcpy(ret->data, s, n);
	ret->data[n] = '\0';
	ret->len = n;
	return 0;
}

static void github_json_wipe_token(json_t *root)
{
	json_t *tok = json_object_get(root, "token");

	if (json_is_string(tok))
		explicit_bzero((char *)json_string_value(tok), json_string_length(tok));
}

int github_token_parse(const char *body, size_t len, struct github_token *ret, char *err,
		       size_t errlen)
{
	struct github_token t = {};
	json_error_t jerr;
	json_t *root;
	int r;

	assert(body && ret && err);

	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		return github_err(err, errlen, -EBADMSG, "the answer is not a JSON object");
	}
	r = github_parse_time(json_string_value(json_object_get(root, "expires_at")), &t.expires_s);
	if (r < 0)
		r = github_err(err, errlen, -EBADMSG, "the answer has no valid \"expires_at\"");
	if (r >= 0)
		r = github_granted_scope(root, &t.scope, err, errlen);
	if (r >= 0)
		r = github_token_copy(json_object_get(root, "token"), &t.value, err, errlen);
	github_json_wipe_token(root);
	json_decref(root);
	if (r < 0) {
		github_token_done(&t);
		return r;
	}
	*ret = t;
	return 0;
}

void github_token_done(struct github_token *t)
{
	secure_buf_free(&t->value);
	json_decref(t->scope);
	t->scope = NULL;
}
