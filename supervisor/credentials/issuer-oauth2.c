/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "oauth2_client_credentials" kind: RFC 6749 section 4.4, the client authenticated
 * with HTTP Basic (section 2.3.1), and RFC 7009 revocation when the issuer names a
 * revocation URL. OAuth2 has no standard way to ask for a lifetime: the token's lifetime
 * is the issuer's "expires_in", and airlock holds it to the grant's ttl itself (the expiry
 * timer and the revocation when the run ends).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "issuer-util.h"
#include "macro.h"

#define SECRET_MAX 4096
#define OAUTH2_SCOPE_MAX 2048 /* the scope sent, its NUL included */

struct oauth2 {
	char *token_url;
	char *client_id;
	char *client_secret_file;
	char *scope; /* when a grant names none, or NULL */
	char *audience; /* or NULL */
	char *revocation_url; /* RFC 7009, or NULL: tokens live until they expire */
};

static void oauth2_free(void *config)
{
	struct oauth2 *o = config;

	free(o->token_url);
	free(o->client_id);
	free(o->client_secret_file);
	free(o->scope);
	free(o->audience);
	free(o->revocation_url);
	free(o);
}

static int dup_key(json_t *obj, const char *key, bool required, bool url, char **ret, char *err,
		   size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	if (!v && !required)
		return 0;
	if (!s || !s[0] || (url && !strneq(s, "https://", 8)) ||
	    (strstr(key, "_file") && s[0] != '/')) {
		snprintf(err, errlen, "%s: expected %s", key,
			 url			? "an https:// URL"
			 : strstr(key, "_file") ? "an absolute path"
						: "a non-empty string");
		return -EINVAL;
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int oauth2_parse(const char *name, json_t *obj, void **ret, char *err, size_t errlen)
{
	static const char *const keys[] = { "token_url", "client_id", "client_secret_file",
					    "scope",	 "audience",  "revocation_url" };
	struct oauth2 *o = calloc(1, sizeof(*o));
	const char *key;
	json_t *v;
	int r = 0;

	if (!o)
		return -ENOMEM;
	json_object_foreach(obj, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			known = known || streq(keys[i], key);
		if (!known) {
			snprintf(err, errlen, "%s: unknown key", key);
			r = -EINVAL;
			break;
		}
	}
	if (r >= 0)
		r = dup_key(obj, "token_url", true, true, &o->token_url, err, errlen);
	if (r >= 0)
		r = dup_key(obj, "client_id", true, false, &o->client_id, err, errlen);
	if (r >= 0)
		r = dup_key(obj, "client_secret_file", true, false, &o->client_secret_file, err,
			    errlen);
	if (r >= 0)
		r = dup_key(obj, "scope", false, false, &o->scope, err, errlen);
	if (r >= 0)
		r = dup_key(obj, "audience", false, false, &o->audience, err, errlen);
	if (r >= 0)
		r = dup_key(obj, "revocation_url", false, true, &o->revocation_url, err, errlen);
	if (r < 0) {
		oauth2_free(o);
		return r;
	}
	*ret = o;
	return 0;
}

/*
 * The scope to ask for: the grant's (a string, or an array of strings joined by spaces),
 * else the issuer's default. Into buf; "" for none. One that does not fit is refused: cut
 * short, it would be another scope ("read:org-admin-limited" cut to "read:org-admin").
 */
static int requested_scope(const struct oauth2 *o, const json_t *scope, char *buf, size_t len,
			   char *err, size_t errlen)
{
	size_t i, pos = 0;
	json_t *v;

	buf[0] = '\0';
	if (!scope)
		pos = (size_t)snprintf(buf, len, "%s", o->scope ?: "");
	else if (json_is_string(scope))
		pos = (size_t)snprintf(buf, len, "%s", json_string_value(scope));
	else if (!json_is_array(scope)) {
		snprintf(err, errlen, "scope: this kind takes a string or an array of strings");
		return -EINVAL;
	}
	json_array_foreach(scope, i, v)
	{
		if (!json_is_string(v)) {
			snprintf(err, errlen, "scope: this kind takes an array of strings");
			return -EINVAL;
		}
		if (pos < len)
			pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", i ? " " : "",
						json_string_value(v));
	}
	if (pos >= len) {
		snprintf(err, errlen, "scope: longer than %zu bytes, the most a request carries",
			 len - 1);
		return -E2BIG;
	}
	return 0;
}

/* RFC 6749 2.3.1: the id and the secret form-encoded before they go into Basic. */
static int basic_credentials(const struct oauth2 *o, const struct secure_buf *secret,
			     struct issuer_buf *user, struct issuer_buf *pass)
{
	issuer_buf_append_form(user, "", o->client_id, strlen(o->client_id));
	issuer_buf_append_form(pass, "", (const char *)secret->data, secret->len);
	if (user->error || pass->error)
		return user->error ?: pass->error;
	return 0;
}

/* Sends a form to url with the client's Basic credentials; the response goes to *ret. */
static int post_form(const struct oauth2 *o, const struct issuer_common *c, const char *url,
		     const struct issuer_buf *form, struct issuer_http_request *rq,
		     struct issuer_http_response *ret, char *err, size_t errlen)
{
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded",
					       "Accept: application/json", NULL };
	struct issuer_buf user = {}, pass = {};
	struct secure_buf secret = {};
	int r;

	r = issuer_read_secret(o->client_secret_file, "client secret file", SECRET_MAX, &secret,
			       err, errlen);
	if (r < 0)
		return r;
	r = basic_credentials(o, &secret, &user, &pass);
	secure_buf_free(&secret);
	if (r < 0 || form->error) {
		snprintf(err, errlen, "cannot build the request: out of memory");
		r = -ENOMEM;
	} else {
		/* "=" leads each: the form helper writes "=value" for an empty key. */
		*rq = (struct issuer_http_request){
			.method = "POST",
			.url = url,
			.headers = headers,
			.body = form->b.data,
			.body_len = form->b.len,
			.basic_user = (const char *)user.b.data + 1,
			.basic_password = (const char *)pass.b.data + 1,
			.common = c,
		};
		r = issuer_http_do(rq, ret, err, errlen);
	}
	issuer_buf_done(&user);
	issuer_buf_done(&pass);
	return r;
}

/* The token response (RFC 6749 5.1) into m. */
static int take_token(json_t *resp, const char *asked_scope, const struct issuer_grant *g,
		      const struct issuer_http_request *rq, struct issuer_minted *m, char *err,
		      size_t errlen)
{
	json_t *token = json_object_get(resp, "access_token");
	json_t *expires = json_object_get(resp, "expires_in");
	json_t *scope = json_object_get(resp, "scope");
	size_t len = json_string_length(token);
	int r;

	if (!json_is_string(token) || len == 0 || (expires && !json_is_integer(expires)) ||
	    (scope && !json_is_string(scope))) {
		snprintf(err, errlen,
			 "response of POST %.*s: expected \"access_token\" (string), "
			 "\"expires_in\" (integer) and \"scope\" (string)",
			 (int)strcspn(rq->url, "?#"), rq->url);
		return -EBADMSG;
	}
	r = secure_buf_alloc(&m->value, len + 1, true);
	if (r < 0) {
		snprintf(err, errlen, "cannot allocate secure memory");
		return r;
	}
	memcpy(m->value.data, json_string_value(token), len);
	m->value.len = len;
	m->issued_s = issuer_now();
	/* No expires_in: the issuer does not say; the grant's ttl bounds it all the same. */
	m->expires_s = issuer_expiry(m->issued_s, expires, g->ttl_s);
	/* RFC 6749 5.1: no "scope" means the scope asked for. */
	m->scope = scope	    ? json_string(json_string_value(scope))
		   : asked_scope[0] ? json_string(asked_scope)
				    : NULL;
	return 0;
}

static int oauth2_mint(const void *config, const struct issuer_common *c,
		       const struct issuer_grant *g, struct issuer_minted *ret, char *err,
		       size_t errlen)
{
	const struct oauth2 *o = config;
	struct issuer_minted m = {};
	struct issuer_buf form = {};
	struct issuer_http_request rq;
	struct issuer_http_response resp = {};
	_cleanup_(json_decrefp) json_t *body = NULL;
	char scope[OAUTH2_SCOPE_MAX];
	int r;

	r = requested_scope(o, g->scope, scope, sizeof(scope), err, errlen);
	if (r < 0)
		return r;
	issuer_buf_append_form(&form, "grant_type", "client_credentials", 18);
	if (scope[0])
		issuer_buf_append_form(&form, "scope", scope, strlen(scope));
	if (o->audience)
		issuer_buf_append_form(&form, "audience", o->audience, strlen(o->audience));
	r = post_form(o, c, o->token_url, &form, &rq, &resp, err, errlen);
	issuer_buf_done(&form);
	if (r < 0)
		return r;
	r = issuer_response_json(&rq, &resp, &body, err, errlen);
	issuer_http_response_done(&resp);
	if (r >= 0)
		r = take_token(body, scope, g, &rq, &m, err, errlen);
	if (r >= 0 && o->revocation_url) {
		m.revocation =
			json_pack("{s:s%}", "token", (const char *)m.value.data, m.value.len);
		if (!m.revocation)
			r = -ENOMEM;
	}
	if (r < 0) {
		issuer_minted_done(&m);
		return r;
	}
	*ret = m;
	return 0;
}

static int oauth2_revoke(const void *config, const struct issuer_common *c,
			 const json_t *revocation, char *err, size_t errlen)
{
	const struct oauth2 *o = config;
	const json_t *token = json_object_get(revocation, "token");
	struct issuer_buf form = {};
	struct issuer_http_request rq;
	struct issuer_http_response resp = {};
	int r;

	if (!o->revocation_url || !json_is_string(token)) {
		snprintf(err, errlen, "no revocation URL or token to revoke");
		return -EINVAL;
	}
	issuer_buf_append_form(&form, "token", json_string_value(token), json_string_length(token));
	issuer_buf_append_form(&form, "token_type_hint", "access_token", 12);
	r = post_form(o, c, o->revocation_url, &form, &rq, &resp, err, errlen);
	issuer_buf_done(&form);
	if (r < 0)
		return r;
	/* RFC 7009 2.2: 200 for a revoked token and for one the issuer no longer knows. */
	if (resp.status != 200)
		r = issuer_http_status_error(&rq, resp.status, err, errlen);
	issuer_http_response_done(&resp);
	return r;
}

static int oauth2_check_grant(const void *config, const json_t *scope, char *err, size_t errlen)
{
	char buf[OAUTH2_SCOPE_MAX];

	return requested_scope(config, scope, buf, sizeof(buf), err, errlen);
}

const struct issuer_ops issuer_oauth2_ops = {
	.kind = "oauth2_client_credentials",
	.parse = oauth2_parse,
	.free_config = oauth2_free,
	.mint = oauth2_mint,
	.revoke = oauth2_revoke,
	.check_grant = oauth2_check_grant,
};
