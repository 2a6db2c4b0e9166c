/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "http_json" kind, for Vault-style services: one JSON request (a body template with
 * the grant's name, ttl, scope and run id put in), JSON pointers to the value, its TTL, a
 * lease id and the scope granted in the response, and an optional revoke call with the
 * lease id (or the value) put in. Header values may come from root-only files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "issuer-util.h"
#include "macro.h"

#define HEADERS_MAX 16
#define HEADER_VALUE_MAX 4096

struct header {
	char *name;
	char *value; /* literal, or NULL */
	char *file; /* the value's root-only file, or NULL */
};

struct call {
	char *url;
	char *method;
	json_t *body; /* template, or NULL */
};

struct http_json {
	struct call mint;
	struct call revoke; /* url NULL: no revocation */
	struct header headers[HEADERS_MAX];
	size_t n_headers;
	char *value_pointer;
	char *ttl_pointer; /* or NULL: the ttl asked for */
	char *lease_pointer; /* or NULL */
	char *scope_pointer; /* or NULL: the scope asked for */
};

static void call_done(struct call *c)
{
	free(c->url);
	free(c->method);
	json_decref(c->body);
}

static void http_json_free(void *config)
{
	struct http_json *h = config;

	call_done(&h->mint);
	call_done(&h->revoke);
	for (size_t i = 0; i < h->n_headers; i++) {
		free(h->headers[i].name);
		free(h->headers[i].value);
		free(h->headers[i].file);
	}
	free(h->value_pointer);
	free(h->ttl_pointer);
	free(h->lease_pointer);
	free(h->scope_pointer);
	free(h);
}

static int fail(char *err, size_t errlen, const char *key, const char *what)
{
	snprintf(err, errlen, "%s: expected %s", key, what);
	return -EINVAL;
}

static int take_string(json_t *obj, const char *key, const char *path, bool required, char **ret,
		       char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	if (!v && !required)
		return 0;
	if (!s || !s[0])
		return fail(err, errlen, path, "a non-empty string");
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int parse_call(json_t *v, const char *path, struct call *c, char *err, size_t errlen)
{
	const char *key;
	json_t *x;
	int r;

	if (!json_is_object(v))
		return fail(err, errlen, path, "an object");
	json_object_foreach(v, key,
			    x) if (!streq(key, "url") && !streq(key, "method") &&
				   !streq(key, "body")) return fail(err, errlen, key,
								    "one of url, method, body");
	r = take_string(v, "url", "url", true, &c->url, err, errlen);
	if (r >= 0 && !strneq(c->url, "https://", 8))
		r = fail(err, errlen, "url", "an https:// URL");
	if (r >= 0)
		r = take_string(v, "method", "method", false, &c->method, err, errlen);
	if (r >= 0 && !c->method && !(c->method = strdup("POST")))
		r = -ENOMEM;
	if (r >= 0 && strspn(c->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(c->method))
		r = fail(err, errlen, "method", "an upper-case HTTP method");
	if (r >= 0 && json_object_get(v, "body"))
		c->body = json_incref(json_object_get(v, "body"));
	return r;
}

static int parse_headers(json_t *v, struct http_json *h, char *err, size_t errlen)
{
	const char *key;
	json_t *x;

	if (!json_is_object(v) || json_object_size(v) > HEADERS_MAX)
		return fail(err, errlen, "headers", "an object of at most 16 headers");
	json_object_foreach(v, key, x)
	{
		struct header *hd = &h->headers[h->n_headers];
		json_t *file = json_object_get(x, "file");

		if (!key[0] || strcspn(key, ": \t\r\n") != strlen(key))
			return fail(err, errlen, "headers", "header names without ':' or spaces");
		if (json_is_string(x) && !strpbrk(json_string_value(x), "\r\n"))
			hd->value = strdup(json_string_value(x));
		else if (json_is_object(x) && json_object_size(x) == 1 && json_is_string(file) &&
			 json_string_value(file)[0] == '/')
			hd->file = strdup(json_string_value(file));
		else
			return fail(err, errlen, "headers",
				    "a string or {\"file\": \"/path\"} each");
		hd->name = strdup(key);
		h->n_headers++;
		if (!hd->name || (!hd->value && !hd->file))
			return -ENOMEM;
	}
	return 0;
}

static int parse_pointer(json_t *obj, const char *key, bool required, char **ret, char *err,
			 size_t errlen)
{
	int r = take_string(obj, key, key, required, ret, err, errlen);

	if (r >= 0 && *ret && !issuer_json_pointer_is_valid(*ret))
		return fail(err, errlen, key, "a JSON pointer like \"/data/token\"");
	return r;
}

/* Whether the call's URL or body template names the variable var ("{{lease_id}}"). */
static bool call_names(const struct call *c, const char *var)
{
	_cleanup_free_ char *body =
		c->body ? json_dumps(c->body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	return (c->url && strstr(c->url, var)) || (body && strstr(body, var));
}

static int http_json_parse_keys(json_t *obj, struct http_json *h, char *err, size_t errlen)
{
	static const char *const keys[] = { "url",	     "method",	      "body",
					    "headers",	     "value_pointer", "ttl_pointer",
					    "lease_pointer", "scope_pointer", "revoke" };
	const char *key;
	json_t *v;
	int r;

	json_object_foreach(obj, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			known = known || streq(keys[i], key);
		if (!known)
			return fail(err, errlen, key, "a key of http_json (this one is unknown)");
	}
	/* The mint call's keys sit at the top level: a call object of them alone. */
	v = json_object();
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < 3; i++)
		if (json_object_get(obj, keys[i]) &&
		    json_object_set(v, keys[i], json_object_get(obj, keys[i])) < 0) {
			json_decref(v);
			return -ENOMEM;
		}
	r = parse_call(v, "url", &h->mint, err, errlen);
	json_decref(v);
	if (r >= 0 && json_object_get(obj, "revoke"))
		r = parse_call(json_object_get(obj, "revoke"), "revoke", &h->revoke, err, errlen);
	if (r >= 0 && json_object_get(obj, "headers"))
		r = parse_headers(json_object_get(obj, "headers"), h, err, errlen);
	if (r >= 0)
		r = parse_pointer(obj, "value_pointer", true, &h->value_pointer, err, errlen);
	if (r >= 0)
		r = parse_pointer(obj, "ttl_pointer", false, &h->ttl_pointer, err, errlen);
	if (r >= 0)
		r = parse_pointer(obj, "lease_pointer", false, &h->lease_pointer, err, errlen);
	if (r >= 0)
		r = parse_pointer(obj, "scope_pointer", false, &h->scope_pointer, err, errlen);
	/* Else every revocation would fail: refused here, not at the end of each run. */
	if (r >= 0 && !h->lease_pointer && call_names(&h->revoke, "{{lease_id}}")) {
		snprintf(err, errlen,
			 "revoke: names {{lease_id}}, but there is no lease_pointer to take it "
			 "from");
		r = -EINVAL;
	}
	return r;
}

static int http_json_parse(const char *name, json_t *obj, void **ret, char *err, size_t errlen)
{
	struct http_json *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	r = http_json_parse_keys(obj, h, err, errlen);
	if (r < 0) {
		http_json_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

/* What a template may name. */
struct vars {
	const struct issuer_grant *g;
	const char *lease_id; /* revoke only */
	const struct secure_buf *value; /* revoke only */
};

/*
 * Why text put into a URL unescaped would change the request, or NULL when it is safe.
 * Vault's path form (PUT /v1/sys/leases/revoke/<lease id>) needs a lease id's slashes as
 * they are, so it is not escaped: what could make it another URL is refused instead (a
 * query, a fragment, an escape, a dot segment libcurl would resolve), and what cannot be in
 * one (a control character, a space, a byte outside ASCII).
 */
static const char *url_unsafe(const char *s, size_t n)
{
	if (n == 0)
		return "empty";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t seg = strcspn(s + i, "/");

		if (c < 0x21 || c > 0x7e)
			return c == ' ' ? "a space" : "a control character or a byte outside ASCII";
		if (strchr("?#%\\", c))
			return "a '?', '#', '%' or '\\'";
		if ((i == 0 || s[i - 1] == '/') &&
		    ((seg == 1 && c == '.') || (seg == 2 && c == '.' && s[i + 1] == '.')))
			return "a '.' or '..' segment";
	}
	return NULL;
}

/* The text of one variable, or NULL when the template names an unknown one. */
static const char *var_text(const struct vars *v, const char *name, size_t n, char *num,
			    size_t numlen, size_t *ret_len)
{
	const char *s = NULL;

	if (n == 4 && strneq(name, "name", 4))
		s = v->g ? v->g->name : "";
	else if (n == 6 && strneq(name, "run_id", 6))
		s = v->g ? v->g->run_id : "";
	else if (n == 3 && strneq(name, "ttl", 3)) {
		snprintf(num, numlen, "%llu", v->g ? (unsigned long long)v->g->ttl_s : 0ULL);
		s = num;
	} else if (n == 8 && strneq(name, "lease_id", 8))
		s = v->lease_id ?: "";
	else if (n == 5 && strneq(name, "value", 5) && v->value) {
		*ret_len = v->value->len;
		return (const char *)v->value->data;
	}
	if (s)
		*ret_len = strlen(s);
	return s;
}

/*
 * s with each "{{var}}" put in, into out (secure memory: it may hold the value). With
 * url, a variable's text that url_unsafe() refuses fails it (-EPERM, *ret_why says why).
 */
static int render_text(const char *s, const struct vars *v, struct issuer_buf *out, bool url,
		       const char **ret_why)
{
	char num[32];

	for (const char *at; (at = strstr(s, "{{"));) {
		const char *end = strstr(at + 2, "}}");
		const char *text;
		size_t len = 0;

		if (!end ||
		    !(text = var_text(v, at + 2, (size_t)(end - at - 2), num, sizeof(num), &len)))
			return -EINVAL;
		if (url && (*ret_why = url_unsafe(text, len)))
			return -EPERM;
		issuer_buf_append(out, s, (size_t)(at - s));
		issuer_buf_append(out, text, len);
		s = end + 2;
	}
	issuer_buf_append_str(out, s);
	return out->error;
}

/* A JSON template rendered: "{{scope}}" and "{{ttl}}" alone become JSON values. */
static json_t *render_json(const json_t *t, const struct vars *v)
{
	if (json_is_string(t)) {
		const char *s = json_string_value(t);
		struct issuer_buf b = {};
		json_t *r;

		if (streq(s, "{{scope}}"))
			return v->g && v->g->scope ? json_deep_copy(v->g->scope) : json_null();
		if (streq(s, "{{ttl}}"))
			return json_integer(v->g ? (json_int_t)v->g->ttl_s : 0);
		if (render_text(s, v, &b, false, NULL) < 0) {
			issuer_buf_done(&b);
			return NULL;
		}
		r = json_stringn((const char *)b.b.data, b.b.len);
		issuer_buf_done(&b);
		return r;
	}
	if (json_is_object(t)) {
		json_t *o = json_object(), *x;
		const char *key;

		json_object_foreach((json_t *)t, key,
				    x) if (!o || json_object_set_new(o, key, render_json(x, v)) <
							 0) return json_decref(o),
			NULL;
		return o;
	}
	if (json_is_array(t)) {
		json_t *a = json_array(), *x;
		size_t i;

		json_array_foreach(t, i, x) if (!a || json_array_append_new(a, render_json(x, v)) <
							      0) return json_decref(a),
			NULL;
		return a;
	}
	return json_deep_copy(t);
}

/* The request's "Name: value" lines, file values read now; *lines point into bufs. */
static int build_headers(const struct http_json *h, struct issuer_buf *bufs, const char **lines,
			 char *err, size_t errlen)
{
	size_t n = 0;
	int r;

	for (size_t i = 0; i < h->n_headers; i++) {
		const struct header *hd = &h->headers[i];
		struct secure_buf file = {};

		issuer_buf_append_str(&bufs[i], hd->name);
		issuer_buf_append_str(&bufs[i], ": ");
		if (hd->file) {
			r = issuer_read_secret(hd->file, "header file", HEADER_VALUE_MAX, &file,
					       err, errlen);
			if (r < 0)
				return r;
			if (memchr(file.data, '\n', file.len) ||
			    memchr(file.data, '\r', file.len)) {
				secure_buf_free(&file);
				snprintf(err, errlen, "header file '%s': holds a line break",
					 hd->file);
				return -EINVAL;
			}
			issuer_buf_append(&bufs[i], file.data, file.len);
			secure_buf_free(&file);
		} else
			issuer_buf_append_str(&bufs[i], hd->value);
		if (bufs[i].error)
			return bufs[i].error;
		lines[n++] = (const char *)bufs[i].b.data;
	}
	lines[n++] = "Content-Type: application/json";
	lines[n++] = "Accept: application/json";
	lines[n] = NULL;
	return 0;
}

/* One call: the URL and body rendered, headers added, the response's JSON in *ret. */
static int send_call(const struct http_json *h, const struct call *c,
		     const struct issuer_common *common, const struct vars *v, json_t **ret,
		     char *err, size_t errlen)
{
	struct issuer_buf bufs[HEADERS_MAX] = {}, url = {};
	const char *lines[HEADERS_MAX + 3];
	/* Errors name the template: the rendered URL may hold the value ({{value}}). */
	struct issuer_http_request rq = {
		.method = c->method, .url = c->url, .url_shown = c->url, .common = common
	};
	struct issuer_http_response resp = {};
	const char *why = NULL;
	json_t *body = NULL;
	char *text = NULL;
	int r;

	r = render_text(c->url, v, &url, true, &why);
	if (r == -EPERM)
		snprintf(err, errlen, "url: a variable it puts in holds %s: not sent", why);
	else if (r < 0)
		snprintf(err, errlen, "url: cannot put in its variables");
	if (r >= 0)
		r = build_headers(h, bufs, lines, err, errlen);
	if (r >= 0 && c->body) {
		body = render_json(c->body, v);
		text = body ? json_dumps(body, JSON_COMPACT) : NULL;
		if (!text)
			snprintf(err, errlen, "body: cannot render the template");
		r = text ? 0 : -EINVAL;
	}
	if (r >= 0) {
		rq.url = (const char *)url.b.data;
		rq.headers = lines;
		rq.body = text;
		rq.body_len = text ? strlen(text) : 0;
		r = issuer_http_do(&rq, &resp, err, errlen);
		rq.url = c->url; /* and issuer_response_json()'s, which names rq.url */
	}
	if (r >= 0 && ret)
		r = issuer_response_json(&rq, &resp, ret, err, errlen);
	else if (r >= 0 && (resp.status < 200 || resp.status > 299))
		r = issuer_http_status_error(&rq, resp.status, err, errlen);
	issuer_http_response_done(&resp);
	if (text) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	json_decref(body);
	issuer_buf_done(&url);
	for (size_t i = 0; i < HEADERS_MAX; i++)
		issuer_buf_done(&bufs[i]);
	return r;
}

static bool call_uses_value(const struct call *c)
{
	char *body = c->body ? json_dumps(c->body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	bool uses = (c->url && strstr(c->url, "{{value}}")) || (body && strstr(body, "{{value}}"));

	free(body);
	return uses;
}

/* The response into m: value, lifetime, scope, and what the revoke call needs. */
static int take_response(const struct http_json *h, json_t *resp, const struct issuer_grant *g,
			 struct issuer_minted *m, char *err, size_t errlen)
{
	json_t *value = issuer_json_pointer(resp, h->value_pointer);
	json_t *ttl = h->ttl_pointer ? issuer_json_pointer(resp, h->ttl_pointer) : NULL;
	json_t *lease = h->lease_pointer ? issuer_json_pointer(resp, h->lease_pointer) : NULL;
	json_t *scope = h->scope_pointer ? issuer_json_pointer(resp, h->scope_pointer) : NULL;
	size_t len = json_string_length(value);
	const char *why;
	int r;

	if (!json_is_string(value) || len == 0 || (h->ttl_pointer && !json_is_integer(ttl)) ||
	    (h->lease_pointer && !json_is_string(lease))) {
		snprintf(err, errlen, "response of %s: expected a string at %s%s%s%s%s",
			 h->mint.method, h->value_pointer, h->ttl_pointer ? ", an integer at " : "",
			 h->ttl_pointer ?: "", h->lease_pointer ? ", a string at " : "",
			 h->lease_pointer ?: "");
		return -EBADMSG;
	}
	r = secure_buf_alloc(&m->value, len + 1, true);
	if (r < 0)
		return r;
	memcpy(m->value.data, json_string_value(value), len);
	m->value.len = len;
	m->issued_s = issuer_now();
	m->expires_s = issuer_expiry(m->issued_s, ttl, g->ttl_s);
	m->scope = scope ? json_deep_copy(scope) : g->scope ? json_deep_copy(g->scope) : NULL;
	if (!h->revoke.url)
		return 0;
	why = lease && strstr(h->revoke.url, "{{lease_id}}")
		      ? url_unsafe(json_string_value(lease), json_string_length(lease))
		      : NULL;
	if (why) {
		snprintf(err, errlen,
			 "lease id at %s: holds %s, which the revoke URL cannot carry: the "
			 "credential it minted is not revocable and lives until it expires",
			 h->lease_pointer, why);
		return -EBADMSG;
	}
	m->revocation = json_pack("{s:s?}", "lease_id", lease ? json_string_value(lease) : NULL);
	if (m->revocation && call_uses_value(&h->revoke))
		(void)json_object_set_new(m->revocation, "value",
					  json_stringn((const char *)m->value.data, len));
	return m->revocation ? 0 : -ENOMEM;
}

static int http_json_mint(const void *config, const struct issuer_common *c,
			  const struct issuer_grant *g, struct issuer_minted *ret, char *err,
			  size_t errlen)
{
	const struct http_json *h = config;
	const struct vars v = { .g = g };
	_cleanup_(json_decrefp) json_t *resp = NULL;
	struct issuer_minted m = {};
	int r;

	r = send_call(h, &h->mint, c, &v, &resp, err, errlen);
	if (r >= 0)
		r = take_response(h, resp, g, &m, err, errlen);
	if (r < 0) {
		issuer_minted_done(&m);
		return r;
	}
	*ret = m;
	return 0;
}

static int http_json_revoke(const void *config, const struct issuer_common *c,
			    const json_t *revocation, char *err, size_t errlen)
{
	const struct http_json *h = config;
	json_t *value = json_object_get(revocation, "value");
	struct secure_buf vb = {};
	struct vars v = {
		.lease_id = json_string_value(json_object_get(revocation, "lease_id")),
	};
	int r;

	if (!h->revoke.url) {
		snprintf(err, errlen, "the issuer has no revoke call");
		return -EINVAL;
	}
	if (json_is_string(value)) {
		vb.data = (uint8_t *)json_string_value(value);
		vb.len = json_string_length(value);
		v.value = &vb;
	}
	r = send_call(h, &h->revoke, c, &v, NULL, err, errlen);
	return r;
}

const struct issuer_ops issuer_http_json_ops = {
	.kind = "http_json",
	.parse = http_json_parse,
	.free_config = http_json_free,
	.mint = http_json_mint,
	.revoke = http_json_revoke,
};
