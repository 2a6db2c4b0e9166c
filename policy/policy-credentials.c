/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "credentials" section: named slots that the caller fills per run, each delivered to
 * the task as a file (optionally rendered from a template) or an environment variable.
 * A slot may instead be a grant, "source": "issuer:<name>", which airlock mints per run
 * from an issuer of the node config, with a ttl, a scope and what happens on expiry.
 * Only the slots are policy; the values never pass through this module.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "parse-util.h"
#include "path-util.h"
#include "policy-internal.h"
#include "strv.h"

#define ISSUER_PREFIX "issuer:"

static const char *const source_names[_POLICY_CREDENTIAL_SOURCE_MAX] = {
	[POLICY_CREDENTIAL_SOURCE_CALLER] = "caller",
	[POLICY_CREDENTIAL_SOURCE_ISSUER] = "issuer",
};

static const char *const on_expiry_names[_POLICY_CREDENTIAL_ON_EXPIRY_MAX] = {
	[POLICY_CREDENTIAL_ON_EXPIRY_RECORD] = "record",
	[POLICY_CREDENTIAL_ON_EXPIRY_KILL] = "kill",
};

const char *policy_credential_on_expiry_to_string(enum policy_credential_on_expiry e)
{
	if (e < 0 || e >= _POLICY_CREDENTIAL_ON_EXPIRY_MAX)
		return NULL;
	return on_expiry_names[e];
}

static const char *const delivery_names[_POLICY_CREDENTIAL_DELIVER_MAX] = {
	[POLICY_CREDENTIAL_DELIVER_FILE] = "file",
	[POLICY_CREDENTIAL_DELIVER_ENV] = "env",
};

const char *policy_credential_source_to_string(enum policy_credential_source s)
{
	if (s < 0 || s >= _POLICY_CREDENTIAL_SOURCE_MAX)
		return NULL;
	return source_names[s];
}

enum policy_credential_source policy_credential_source_from_string(const char *s)
{
	if (!s)
		return _POLICY_CREDENTIAL_SOURCE_INVALID;
	for (int i = 0; i < _POLICY_CREDENTIAL_SOURCE_MAX; i++)
		if (streq(source_names[i], s))
			return (enum policy_credential_source)i;
	return _POLICY_CREDENTIAL_SOURCE_INVALID;
}

const char *policy_credential_delivery_to_string(enum policy_credential_delivery d)
{
	if (d < 0 || d >= _POLICY_CREDENTIAL_DELIVER_MAX)
		return NULL;
	return delivery_names[d];
}

const struct policy_credential *policy_credential_find(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_credentials; i++)
		if (streq(p->credentials[i].name, name))
			return &p->credentials[i];
	return NULL;
}

bool policy_has_grants(const struct policy *p)
{
	for (size_t i = 0; i < p->n_credentials; i++)
		if (p->credentials[i].source == POLICY_CREDENTIAL_SOURCE_ISSUER)
			return true;
	return false;
}

void policy_credentials_free(struct policy_credential *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].target);
		free(c[i].template);
		free(c[i].issuer);
		free(c[i].scope);
	}
	free(c);
}

bool policy_credential_name_is_valid(const char *s)
{
	size_t n = strlen(s);
	char first = s[0];

	if (n == 0 || n > POLICY_MAX_CREDENTIAL_NAME)
		return false;
	if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
	      (first >= '0' && first <= '9')))
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int dispatch_name(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	if (!policy_credential_name_is_valid(json_string_value(v)))
		return policy_errorf(ctx, path,
				     "expected a name of 1..%d characters [A-Za-z0-9_-] starting "
				     "with a letter or digit",
				     POLICY_MAX_CREDENTIAL_NAME);
	return policy_dispatch_string(path, v, data, ctx);
}

static int dispatch_source(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_credential *c = data;
	const char *s = json_string_value(v);
	enum policy_credential_source r;

	if (strneq(s, ISSUER_PREFIX, strlen(ISSUER_PREFIX))) {
		if (!policy_credential_name_is_valid(s + strlen(ISSUER_PREFIX)))
			return policy_errorf(
				ctx, path,
				"expected \"issuer:<name>\", the name of 1..%d "
				"characters [A-Za-z0-9_-] starting with a letter or digit",
				POLICY_MAX_CREDENTIAL_NAME);
		c->issuer = strdup(s + strlen(ISSUER_PREFIX));
		if (!c->issuer)
			return -ENOMEM;
		c->source = POLICY_CREDENTIAL_SOURCE_ISSUER;
		return 0;
	}
	r = policy_credential_source_from_string(s);
	if (r != POLICY_CREDENTIAL_SOURCE_CALLER)
		return policy_errorf(ctx, path, "expected \"caller\" or \"issuer:<name>\"");
	c->source = r;
	return 0;
}

static int dispatch_ttl(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	uint64_t *ttl_s = data, ms;

	if (parse_duration_ms(json_string_value(v), &ms) < 0 || ms % 1000 != 0 || ms == 0 ||
	    ms / 1000 > POLICY_MAX_CREDENTIAL_TTL_S)
		return policy_errorf(ctx, path,
				     "expected a duration of whole seconds like \"15m\", 1s..24h");
	*ttl_s = ms / 1000;
	return 0;
}

static int dispatch_on_expiry(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	enum policy_credential_on_expiry *e = data;

	for (int i = 0; i < _POLICY_CREDENTIAL_ON_EXPIRY_MAX; i++)
		if (streq(on_expiry_names[i], json_string_value(v))) {
			*e = (enum policy_credential_on_expiry)i;
			return 0;
		}
	return policy_errorf(ctx, path, "expected \"record\" or \"kill\"");
}

/* Where a file may go: any normalised path but "/", outside airlock's own mounts but /run,
 * and outside /out. */
static int dispatch_file(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	const char *s = json_string_value(v), *reserved;

	if (!policy_path_is_normal(s) || streq(s, "/"))
		return policy_errorf(ctx, path,
				     "expected an absolute normalised path other than \"/\" (no "
				     "\"..\", \".\", \"//\" or trailing \"/\")");
	reserved = policy_reserved_target(s);
	if (reserved && (!streq(reserved, "/run") || streq(s, "/run")))
		return policy_errorf(
			ctx, path,
			"\"%s\" is reserved by airlock (credential files may go "
			"below /run, a tmpfs mount or elsewhere in the sandbox's root)",
			reserved);
	/* /out is what the artifacts export takes: the file's mount point would be exported
	 * (empty, root's), and the task's tools write beside the value what an export scans. */
	if (path_is_beneath(s, "/out"))
		return policy_errorf(
			ctx, path,
			"\"/out\" holds the task's artifacts, not credentials (credential "
			"files may go below /run, a tmpfs mount or elsewhere in the "
			"sandbox's root)");
	return policy_dispatch_string(path, v, data, ctx);
}

static int dispatch_env(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	const char *s = json_string_value(v);

	if (!policy_env_name_is_valid(s))
		return policy_errorf(ctx, path,
				     "expected a variable name matching [A-Za-z_][A-Za-z0-9_]*");
	if (streq(s, "HOME") || streq(s, "USER"))
		return policy_errorf(ctx, path, "%s is reserved: airlock sets it", s);
	return policy_dispatch_string(path, v, data, ctx);
}

/* A template holds 1..POLICY_MAX_TEMPLATE_VALUES markers and no other "{{". */
static int dispatch_template(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	const char *s = json_string_value(v), *at = s;
	const size_t marker = strlen(POLICY_TEMPLATE_MARKER);
	size_t n = 0;

	if (json_string_length(v) > POLICY_MAX_TEMPLATE)
		return policy_errorf(ctx, path, "expected a template of at most %d bytes",
				     POLICY_MAX_TEMPLATE);
	while ((at = strstr(at, "{{"))) {
		if (!strneq(at, POLICY_TEMPLATE_MARKER, marker))
			return policy_errorf(ctx, path,
					     "unknown placeholder at byte %zu: the only one is "
					     "\"" POLICY_TEMPLATE_MARKER "\"",
					     (size_t)(at - s));
		n++;
		at += marker;
	}
	if (n == 0)
		return policy_errorf(ctx, path,
				     "expected \"" POLICY_TEMPLATE_MARKER "\" in the "
				     "template (omit \"template\" for the value alone)");
	if (n > POLICY_MAX_TEMPLATE_VALUES)
		return policy_errorf(ctx, path,
				     "expected at most %d \"" POLICY_TEMPLATE_MARKER "\" markers",
				     POLICY_MAX_TEMPLATE_VALUES);
	return policy_dispatch_string(path, v, data, ctx);
}

/* The "deliver" object as written, before it is folded into the slot. */
struct deliver {
	char *file;
	char *env;
	char *template;
};

static int dispatch_deliver(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "file", POLICY_JSON_STRING, dispatch_file, offsetof(struct deliver, file), false,
		  "an absolute path" },
		{ "env", POLICY_JSON_STRING, dispatch_env, offsetof(struct deliver, env), false,
		  "a variable name" },
		{ "template", POLICY_JSON_STRING, dispatch_template,
		  offsetof(struct deliver, template), false, "a string with \"{{value}}\"" },
		{}
	};
	struct policy_credential *c = data;
	struct deliver d = {};
	char child[POLICY_MAX_PATH];
	int r;

	r = policy_dispatch(path, v, table, &d, ctx);
	if (r >= 0 && !d.file == !d.env)
		r = policy_errorf(ctx, path, "expected exactly one of \"file\" and \"env\"");
	if (r >= 0 && d.template && !d.file) {
		policy_path_key(child, sizeof(child), path, "template");
		r = policy_errorf(ctx, child, "a template renders a file: it needs \"file\"");
	}
	if (r < 0) {
		free(d.file);
		free(d.env);
		free(d.template);
		return r;
	}
	c->delivery = d.file ? POLICY_CREDENTIAL_DELIVER_FILE : POLICY_CREDENTIAL_DELIVER_ENV;
	c->target = d.file ? d.file : d.env;
	c->template = d.template;
	return 0;
}

/* "scope": any JSON value but null, kept as compact text; dispatched outside the table. */
static int take_scope(const char *path, json_t *o, struct policy_credential *c,
		      struct policy_ctx *ctx)
{
	json_t *v = json_object_get(o, "scope");
	char child[POLICY_MAX_PATH];

	if (!v)
		return 0;
	policy_path_key(child, sizeof(child), path, "scope");
	if (json_is_null(v))
		return policy_errorf(ctx, child, "expected a string, an array or an object");
	c->scope = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	if (!c->scope)
		return -ENOMEM;
	if (strlen(c->scope) > POLICY_MAX_CREDENTIAL_SCOPE)
		return policy_errorf(ctx, child, "expected at most %d bytes of compact JSON",
				     POLICY_MAX_CREDENTIAL_SCOPE);
	return json_object_del(o, "scope") < 0 ? -ENOMEM : 0;
}

/* A grant's keys with a caller slot, or a grant without its ttl. */
static int check_grant_keys(const char *path, json_t *o, const struct policy_credential *c,
			    struct policy_ctx *ctx)
{
	static const char *const keys[] = { "ttl", "on_expiry" };
	char child[POLICY_MAX_PATH];

	if (c->source == POLICY_CREDENTIAL_SOURCE_ISSUER) {
		if (json_object_get(o, "ttl"))
			return 0;
		return policy_errorf(ctx, path, "a grant (\"issuer:%s\") needs \"ttl\"", c->issuer);
	}
	if (c->scope) {
		policy_path_key(child, sizeof(child), path, "scope");
		return policy_errorf(ctx, child, "only a grant (\"issuer:<name>\") has a scope");
	}
	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (json_object_get(o, keys[i])) {
			policy_path_key(child, sizeof(child), path, keys[i]);
			return policy_errorf(
				ctx, child, "only a grant (\"issuer:<name>\") has \"%s\"", keys[i]);
		}
	return 0;
}

static int dispatch_credential(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "name", POLICY_JSON_STRING, dispatch_name,
		  offsetof(struct policy_credential, name), true, "a name" },
		{ "source", POLICY_JSON_STRING, dispatch_source, 0, true,
		  "\"caller\" or \"issuer:<name>\"" },
		{ "deliver", POLICY_JSON_OBJECT, dispatch_deliver, 0, true,
		  "an object with \"file\" or \"env\"" },
		{ "ttl", POLICY_JSON_STRING, dispatch_ttl,
		  offsetof(struct policy_credential, ttl_s), false, "a duration like \"15m\"" },
		{ "on_expiry", POLICY_JSON_STRING, dispatch_on_expiry,
		  offsetof(struct policy_credential, on_expiry), false, "\"record\" or \"kill\"" },
		{}
	};
	_cleanup_json_ json_t *o = NULL;
	int r;

	if (!json_is_object(v))
		return policy_dispatch(path, v, table, data, ctx); /* names the type error */
	o = json_copy(v);
	if (!o)
		return -ENOMEM;
	r = take_scope(path, o, data, ctx);
	if (r >= 0)
		r = policy_dispatch(path, o, table, data, ctx);
	if (r >= 0)
		r = check_grant_keys(path, o, data, ctx);
	return r;
}

int policy_dispatch_credentials(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy *p = data;
	char child[POLICY_MAX_PATH];
	size_t n = json_array_size(v);
	int r;

	if (n > POLICY_MAX_CREDENTIALS)
		return policy_errorf(ctx, path, "expected at most %d credentials",
				     POLICY_MAX_CREDENTIALS);
	p->credentials = calloc(n ? n : 1, sizeof(*p->credentials));
	if (!p->credentials)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		p->n_credentials = i + 1; /* freed with the policy, whatever it holds */
		policy_path_index(child, sizeof(child), path, i);
		r = dispatch_credential(child, json_array_get(v, i), &p->credentials[i], ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A file path against the mount targets: beneath a tmpfs is fine, a bind is the host's. */
static int check_file_mounts(const char *path, const char *file, const struct policy *p,
			     struct policy_ctx *ctx)
{
	const struct policy_filesystem *fs = &p->filesystem;

	for (size_t i = 0; i < fs->n_binds; i++)
		if (path_is_beneath(file, fs->binds[i].target))
			return policy_errorf(ctx, path,
					     "\"%s\" lies in the bind at \"%s\", a host "
					     "directory: the file would be made on the host",
					     file, fs->binds[i].target);
	for (size_t i = 0; i < fs->n_binds; i++)
		if (path_is_beneath(fs->binds[i].target, file))
			return policy_errorf(ctx, path, "\"%s\" would cover the bind at \"%s\"",
					     file, fs->binds[i].target);
	for (size_t i = 0; i < fs->n_tmpfs; i++)
		if (path_is_beneath(fs->tmpfs[i].target, file))
			return policy_errorf(ctx, path, "\"%s\" would cover the tmpfs at \"%s\"",
					     file, fs->tmpfs[i].target);
	return 0;
}

static int check_env_unique(const char *path, const char *name, const struct policy *p,
			    struct policy_ctx *ctx)
{
	size_t n = strlen(name);

	STRV_FOREACH(e, p->environment)
		if (strneq(*e, name, n) && (*e)[n] == '=')
			return ctx->have_environment
				       ? policy_errorf(ctx, path, "%s is set by /environment too",
						       name)
				       : policy_errorf(ctx, path,
						       "%s is set by the default environment (LANG "
						       "and PATH, when there is no /environment)",
						       name);
	return 0;
}

/* Slot i against the slots before it and the rest of the policy. */
static int check_credential(const struct policy *p, size_t i, struct policy_ctx *ctx)
{
	const struct policy_credential *c = &p->credentials[i];
	bool file = c->delivery == POLICY_CREDENTIAL_DELIVER_FILE;
	char base[64], path[POLICY_MAX_PATH];
	int r;

	snprintf(base, sizeof(base), "/credentials/%zu", i);
	for (size_t j = 0; j < i; j++) {
		const struct policy_credential *o = &p->credentials[j];

		if (streq(c->name, o->name)) {
			policy_path_key(path, sizeof(path), base, "name");
			return policy_errorf(ctx, path, "\"%s\" names /credentials/%zu too",
					     c->name, j);
		}
		if (o->delivery != c->delivery)
			continue;
		snprintf(path, sizeof(path), "%s/deliver/%s", base, file ? "file" : "env");
		if (!file && streq(c->target, o->target))
			return policy_errorf(ctx, path, "%s is delivered by /credentials/%zu too",
					     c->target, j);
		if (file && (path_is_beneath(c->target, o->target) ||
			     path_is_beneath(o->target, c->target)))
			return policy_errorf(ctx, path,
					     "\"%s\" collides with /credentials/%zu (\"%s\"): "
					     "files may not be equal or nested",
					     c->target, j, o->target);
	}
	snprintf(path, sizeof(path), "%s/deliver/%s", base, file ? "file" : "env");
	r = file ? check_file_mounts(path, c->target, p, ctx)
		 : check_env_unique(path, c->target, p, ctx);
	return r;
}

static int credential_cmp(const void *a, const void *b)
{
	return strcmp(((const struct policy_credential *)a)->name,
		      ((const struct policy_credential *)b)->name);
}

int policy_credentials_validate(struct policy_ctx *ctx)
{
	struct policy *p = ctx->p;
	int r;

	for (size_t i = 0; i < p->n_credentials; i++) {
		r = check_credential(p, i, ctx);
		if (r < 0)
			return r;
	}
	if (p->n_credentials > 1)
		qsort(p->credentials, p->n_credentials, sizeof(*p->credentials), credential_cmp);
	return 0;
}

/* A grant's own keys, added to its slot's object; "source" becomes "issuer:<name>". */
static int grant_tree(const struct policy_credential *c, json_t *o)
{
	_cleanup_free_ char *source = NULL;
	char ttl[32];
	json_t *scope = NULL;

	if (asprintf(&source, ISSUER_PREFIX "%s", c->issuer) < 0)
		return -ENOMEM;
	format_duration_ms(c->ttl_s * 1000, ttl, sizeof(ttl));
	if (c->scope && !(scope = json_loads(c->scope, JSON_DECODE_ANY, NULL)))
		return -ENOMEM;
	if (json_object_set_new(o, "source", json_string(source)) < 0 ||
	    json_object_set_new(o, "ttl", json_string(ttl)) < 0 ||
	    json_object_set_new(o, "on_expiry",
				json_string(policy_credential_on_expiry_to_string(c->on_expiry))) <
		    0 ||
	    (scope && json_object_set_new(o, "scope", scope) < 0))
		return -ENOMEM;
	return 0;
}

json_t *policy_credentials_tree(const struct policy *p)
{
	_cleanup_json_ json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < p->n_credentials; i++) {
		const struct policy_credential *c = &p->credentials[i];
		json_t *deliver, *o;

		deliver = json_pack("{s:s}", policy_credential_delivery_to_string(c->delivery),
				    c->target);
		if (deliver && c->template &&
		    json_object_set_new(deliver, "template", json_string(c->template)) < 0)
			deliver = (json_decref(deliver), NULL);
		o = deliver ? json_pack("{s:s,s:s,s:o}", "name", c->name, "source",
					policy_credential_source_to_string(c->source), "deliver",
					deliver)
			    : NULL;
		if (o && c->source == POLICY_CREDENTIAL_SOURCE_ISSUER && grant_tree(c, o) < 0)
			o = (json_decref(o), NULL);
		if (!o || json_array_append_new(a, o) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}
