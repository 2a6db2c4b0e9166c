/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "github_app" kind: a GitHub App's installation access token. The app signs an RS256
 * JWT with its private key (jwt.c), asks POST {api_url}/app/installations/{id}/
 * access_tokens for a token limited to the grant's repositories and permissions, and the
 * token revokes itself with DELETE {api_url}/installation/token when the run ends. GitHub
 * fixes a token's lifetime (an hour); a grant's shorter ttl is held by airlock's expiry
 * and revocation, not by the token.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "issuer-github.h"
#include "issuer-util.h"
#include "jwt.h"
#include "macro.h"

#define GITHUB_ACCEPT "Accept: application/vnd.github+json"
#define GITHUB_API_VERSION "X-GitHub-Api-Version: 2022-11-28"
#define GITHUB_URL_MAX 2048
#define GITHUB_MESSAGE_MAX 160 /* bytes of GitHub's own message in an error line */

struct github_app {
	char *api_url; /* without a trailing '/' */
	char *app_id;
	uint64_t installation_id;
	char *private_key_file;
};

static void github_app_free(void *config)
{
	struct github_app *g = config;

	if (!g)
		return;
	free(g->api_url);
	free(g->app_id);
	free(g->private_key_file);
	free(g);
}

static void github_app_freep(struct github_app **g)
{
	github_app_free(*g);
}

static int github_err(char *err, size_t errlen, int r, const char *fmt, ...) _printf_(4, 5);
static int github_err(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

/* "app_id": a number or a client id string, as the JWT's "iss" takes it. */
static int github_parse_app_id(json_t *v, char **ret)
{
	char buf[32];

	if (json_is_integer(v) && json_integer_value(v) > 0) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*ret = strdup(buf);
	} else if (json_is_string(v) && json_string_length(v) > 0 &&
		   json_string_length(v) <= JWT_APP_ID_MAX &&
		   strspn(json_string_value(v),
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789._-") == json_string_length(v)) {
		*ret = strdup(json_string_value(v));
	} else
		return -EINVAL;
	return *ret ? 0 : -ENOMEM;
}

static int github_parse_installation(json_t *v, uint64_t *ret)
{
	const char *s = json_string_value(v);
	char *end;

	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*ret = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!s || s[0] < '1' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int github_app_parse(const char *name, json_t *obj, void **ret, char *err, size_t errlen)
{
	_cleanup_(github_app_freep) struct github_app *g = calloc(1, sizeof(*g));
	const char *url = NULL, *key = NULL;
	json_t *app = NULL, *inst = NULL;
	json_error_t jerr;

	if (!g)
		return -ENOMEM;
	if (json_unpack_ex(obj, &jerr, JSON_STRICT, "{s:s, s:o, s:o, s:s}", "api_url", &url,
			   "app_id", &app, "installation_id", &inst, "private_key_file", &key) < 0)
		return github_err(err, errlen, -EINVAL, "%s", jerr.text);
	if (!strneq(url, "https://", 8) || strlen(url) <= 8 || strlen(url) > GITHUB_URL_MAX / 2)
		return github_err(err, errlen, -EINVAL, "api_url: expected an https:// URL");
	if (key[0] != '/')
		return github_err(err, errlen, -EINVAL,
				  "private_key_file: expected an absolute path");
	if (github_parse_app_id(app, &g->app_id) < 0)
		return github_err(err, errlen, -EINVAL,
				  "app_id: expected the app's id (a number) or client id");
	if (github_parse_installation(inst, &g->installation_id) < 0)
		return github_err(err, errlen, -EINVAL,
				  "installation_id: expected a positive number");
	g->api_url = strndup(url, strlen(url) - (url[strlen(url) - 1] == '/'));
	g->private_key_file = strdup(key);
	if (!g->api_url || !g->private_key_file)
		return -ENOMEM;
	*ret = TAKE_PTR(g);
	return 0;
}

/* The app's JWT, signed with the key file read (root-only) for this mint alone. */
static int github_app_jwt(const struct github_app *g, char **ret, char *err, size_t errlen)
{
	struct secure_buf pem = {};
	struct jwt_key *k = NULL;
	char *why = NULL;
	int r;

	r = issuer_read_secret(g->private_key_file, "private key file", JWT_KEY_MAX, &pem, err,
			       errlen);
	if (r < 0)
		return r;
	r = jwt_key_parse(pem.data, pem.len, &k, &why);
	secure_buf_free(&pem);
	if (r < 0) {
		github_err(err, errlen, r, "private key file '%s': %s", g->private_key_file,
			   why ?: "cannot be read");
		free(why);
		return r;
	}
	r = jwt_github_app(k, g->app_id, time(NULL), ret);
	jwt_key_free(k);
	if (r < 0)
		return github_err(err, errlen, r, "cannot sign the app's JWT: %s", strerror(-r));
	return 0;
}

/*
 * Appends GitHub's own "message" of a refusal to err, escaped and cut short
 * (issuer_escape_text()): "HTTP 401 from https://... (A JSON web token could not be
 * decoded)". It is the server's text: it must not act on a terminal or start a line.
 */
static void github_err_message(const struct issuer_http_response *resp, char *err, size_t errlen)
{
	json_t *root = json_loadb((const char *)resp->body.data, resp->body.len, 0, NULL);
	const char *msg = json_string_value(json_object_get(root, "message"));
	char text[GITHUB_MESSAGE_MAX + 48]; /* escapes past that are cut, with "..." */
	size_t n = strlen(err);

	if (msg) {
		issuer_escape_text(msg, GITHUB_MESSAGE_MAX, text, sizeof(text));
		snprintf(err + n, errlen - n, " (%s)", text);
	}
	json_decref(root);
}

/* DELETE /installation/token with the token itself: 204, or 401 for one already gone. */
static int github_revoke_token(const struct github_app *g, const struct issuer_common *c,
			       const char *token, char *err, size_t errlen)
{
	_cleanup_free_ char *url = NULL;
	struct issuer_http_response resp = {};
	struct secure_buf auth = {};
	int r;

	if (asprintf(&url, "%s/installation/token", g->api_url) < 0)
		return -ENOMEM;
	r = secure_buf_alloc(&auth, strlen(token) + 32, false);
	if (r < 0)
		return github_err(err, errlen, r, "cannot allocate secure memory");
	snprintf((char *)auth.data, auth.size, "Authorization: Bearer %s", token);

	const char *const headers[] = { GITHUB_ACCEPT, GITHUB_API_VERSION, (char *)auth.data,
					NULL };
	struct issuer_http_request rq = {
		.method = "DELETE", .url = url, .headers = headers, .common = c
	};
	r = issuer_http_do(&rq, &resp, err, errlen);
	secure_buf_free(&auth);
	if (r >= 0 && resp.status != 204 && resp.status != 401)
		r = issuer_http_status_error(&rq, resp.status, err, errlen);
	issuer_http_response_done(&resp);
	return r < 0 ? r : 0;
}

/* POST .../access_tokens with the JWT and the scope's body; the 201 answer into *ret. */
static int github_request_token(const struct github_app *g, const struct issuer_common *c,
				const char *jwt, const char *body, struct github_token *ret,
				char *err, size_t errlen)
{
	_cleanup_free_ char *url = NULL, *auth = NULL;
	struct issuer_http_response resp = {};
	int r;

	if (asprintf(&url, "%s/app/installations/%" PRIu64 "/access_tokens", g->api_url,
		     g->installation_id) < 0 ||
	    asprintf(&auth, "Authorization: Bearer %s", jwt) < 0)
		return github_err(err, errlen, -ENOMEM, "out of memory");

	const char *const headers[] = { GITHUB_ACCEPT, GITHUB_API_VERSION,
					"Content-Type: application/json", auth, NULL };
	struct issuer_http_request rq = { .method = "POST",
					  .url = url,
					  .headers = headers,
					  .body = body,
					  .body_len = strlen(body),
					  .common = c };
	r = issuer_http_do(&rq, &resp, err, errlen);
	if (r < 0)
		return r;
	if (resp.status != 201 && resp.status != 200) {
		r = issuer_http_status_error(&rq, resp.status, err, errlen);
		github_err_message(&resp, err, errlen);
	} else
		r = github_token_parse((const char *)resp.body.data, resp.body.len, ret, err,
				       errlen);
	issuer_http_response_done(&resp);
	return r;
}

/*
 * Hands t over to the core: the value, the scope as granted, the revocation state, and
 * GitHub's own expiry (an hour on): the core holds the task to the grant's shorter ttl (its
 * on_expiry), revocation ends the token itself, and a start after a supervisor SIGKILL
 * revokes it until GitHub's expiry.
 */
static int github_minted(struct github_token *t, struct issuer_minted *ret, char *err,
			 size_t errlen)
{
	int64_t now = (int64_t)time(NULL);
	json_t *rev = json_pack("{s:s%}", "token", (const char *)t->value.data, t->value.len);

	if (!rev) {
		github_token_done(t);
		return github_err(err, errlen, -ENOMEM, "out of memory");
	}
	*ret = (struct issuer_minted){
		.value = t->value,
		.scope = TAKE_PTR(t->scope),
		.issued_s = now,
		.expires_s = MIN(t->expires_s, now + (int64_t)ISSUER_MAX_LIFETIME_S),
		.revocation = rev,
	};
	t->value = (struct secure_buf){};
	return 0;
}

static int github_app_mint(const void *config, const struct issuer_common *c,
			   const struct issuer_grant *gr, struct issuer_minted *ret, char *err,
			   size_t errlen)
{
	const struct github_app *g = config;
	_cleanup_free_ char *jwt = NULL, *body = NULL;
	struct github_token t = {};
	json_t *req = NULL;
	int r;

	r = github_scope_request(gr->scope, &req, err, errlen);
	if (r < 0)
		return r;
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!body)
		return github_err(err, errlen, -ENOMEM, "out of memory");
	r = github_app_jwt(g, &jwt, err, errlen);
	if (r < 0)
		return r;
	r = github_request_token(g, c, jwt, body, &t, err, errlen);
	explicit_bzero(jwt, strlen(jwt));
	if (r < 0)
		return r;

	/* A token wider than asked is given back at once, and the grant refused. */
	r = github_scope_check(t.scope, gr->scope, err, errlen);
	if (r < 0) {
		char ignored[ISSUER_ERR_MAX];
		(void)github_revoke_token(g, c, (const char *)t.value.data, ignored,
					  sizeof(ignored));
		github_token_done(&t);
		return r;
	}
	return github_minted(&t, ret, err, errlen);
}

static int github_app_revoke(const void *config, const struct issuer_common *c,
			     const json_t *revocation, char *err, size_t errlen)
{
	const char *token = json_string_value(json_object_get(revocation, "token"));

	if (!token || strlen(token) > GITHUB_TOKEN_MAX)
		return github_err(err, errlen, -EINVAL, "the revocation state has no token");
	return github_revoke_token(config, c, token, err, errlen);
}

static int github_app_check_grant(const void *config, const json_t *scope, char *err, size_t errlen)
{
	json_t *req = NULL;
	int r = github_scope_request(scope, &req, err, errlen);

	json_decref(req);
	return r;
}

const struct issuer_ops issuer_github_app_ops = {
	.kind = "github_app",
	.parse = github_app_parse,
	.free_config = github_app_free,
	.mint = github_app_mint,
	.revoke = github_app_revoke,
	.check_grant = github_app_check_grant,
};
