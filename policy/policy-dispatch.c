/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table-driven JSON dispatcher (one table per JSON object, systemd JsonDispatch
 * style) and the single adapter from jansson's json_error_t to struct policy_error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "policy-internal.h"

int policy_errorf(struct policy_ctx *ctx, const char *path, const char *fmt, ...)
{
	struct policy_error *e = ctx->err;
	va_list ap;

	if (!e)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int policy_error_from_json(struct policy_ctx *ctx, const json_error_t *je)
{
	int r;

	r = policy_errorf(ctx, "", "%s", je->text[0] ? je->text : "invalid JSON");
	if (ctx->err && je->line > 0) {
		ctx->err->line = je->line;
		ctx->err->column = je->column > 0 ? je->column : 0;
	}
	return r;
}

int policy_json_load(struct policy_ctx *ctx, const char *buf, size_t len, json_t **ret)
{
	const char *nul = len > 0 ? memchr(buf, '\0', len) : NULL;
	json_error_t je;
	json_t *j;
	int r;

	if (nul) {
		size_t off = (size_t)(nul - buf);
		int line = 1, column = 1;

		for (const char *c = buf; c < nul; c++) {
			column = *c == '\n' ? 1 : column + 1;
			line += *c == '\n';
		}
		r = policy_errorf(ctx, "",
				  "a NUL byte at byte offset %zu (JSON text cannot hold one)", off);
		if (ctx->err) {
			ctx->err->line = line;
			ctx->err->column = column;
		}
		return r;
	}
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return json_error_code(&je) == json_error_out_of_memory
			       ? -ENOMEM
			       : policy_error_from_json(ctx, &je);
	*ret = j;
	return 0;
}

/* Appends s to buf at *pos, escaping '~' and '/' as RFC 6901 requires; truncates. */
static void path_append_escaped(char *buf, size_t len, size_t *pos, const char *s)
{
	for (; *s && *pos + 3 < len; s++) {
		if (*s == '~' || *s == '/') {
			buf[(*pos)++] = '~';
			buf[(*pos)++] = *s == '~' ? '0' : '1';
		} else {
			buf[(*pos)++] = *s;
		}
	}
	buf[*pos] = '\0';
}

void policy_path_key(char *buf, size_t len, const char *parent, const char *key)
{
	size_t pos;

	snprintf(buf, len, "%s/", parent);
	pos = strlen(buf);
	path_append_escaped(buf, len, &pos, key);
}

void policy_path_index(char *buf, size_t len, const char *parent, size_t index)
{
	snprintf(buf, len, "%s/%zu", parent, index);
}

const char *policy_json_kind_to_string(enum policy_json_kind kind)
{
	static const char *const names[] = {
		[POLICY_JSON_OBJECT] = "an object", [POLICY_JSON_ARRAY] = "an array",
		[POLICY_JSON_STRING] = "a string",  [POLICY_JSON_INTEGER] = "an integer",
		[POLICY_JSON_NUMBER] = "a number",  [POLICY_JSON_BOOLEAN] = "true or false",
	};

	return names[kind];
}

bool policy_json_is_kind(json_t *v, enum policy_json_kind kind)
{
	switch (kind) {
	case POLICY_JSON_OBJECT:
		return json_is_object(v);
	case POLICY_JSON_ARRAY:
		return json_is_array(v);
	case POLICY_JSON_STRING:
		return json_is_string(v);
	case POLICY_JSON_INTEGER:
		return json_is_integer(v);
	case POLICY_JSON_NUMBER:
		return json_is_number(v);
	case POLICY_JSON_BOOLEAN:
		return json_is_boolean(v);
	}
	return false;
}

static const struct policy_field *field_find(const struct policy_field *table, const char *key)
{
	for (const struct policy_field *f = table; f->key; f++)
		if (streq(f->key, key))
			return f;
	return NULL;
}

/* Pass one: every key known, every value of the right type, every required key present. */
static int dispatch_check(const char *path, json_t *obj, const struct policy_field *table,
			  struct policy_ctx *ctx)
{
	char child[POLICY_MAX_PATH];
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		const struct policy_field *f = field_find(table, key);

		policy_path_key(child, sizeof(child), path, key);
		if (!f)
			return policy_errorf(ctx, child, "unknown key");
		if (!policy_json_is_kind(v, f->kind))
			return policy_errorf(ctx, child, "expected %s",
					     f->expect ? f->expect
						       : policy_json_kind_to_string(f->kind));
	}
	for (const struct policy_field *f = table; f->key; f++) {
		if (!f->required || json_object_get(obj, f->key))
			continue;
		policy_path_key(child, sizeof(child), path, f->key);
		return policy_errorf(ctx, child, "missing required key");
	}
	return 0;
}

int policy_dispatch(const char *path, json_t *obj, const struct policy_field *table, void *base,
		    struct policy_ctx *ctx)
{
	char child[POLICY_MAX_PATH];
	int r;

	if (!json_is_object(obj))
		return policy_errorf(ctx, path, "expected an object");

	r = dispatch_check(path, obj, table, ctx);
	if (r < 0)
		return r;

	for (const struct policy_field *f = table; f->key; f++) {
		json_t *v = json_object_get(obj, f->key);

		if (!v || !f->fn)
			continue;
		policy_path_key(child, sizeof(child), path, f->key);
		r = f->fn(child, v, (char *)base + f->offset, ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_dispatch_string(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char **s = data;
	char *c;

	c = strdup(json_string_value(v));
	if (!c)
		return -ENOMEM;
	free(*s);
	*s = c;
	return 0;
}

int policy_dispatch_bool(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	bool *b = data;

	*b = json_is_true(v);
	return 0;
}

int policy_json_uint(struct policy_ctx *ctx, const char *path, json_t *v, uint64_t min,
		     uint64_t max, uint64_t *ret)
{
	json_int_t i;

	if (!json_is_integer(v))
		return policy_errorf(ctx, path, "expected an integer");
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return policy_errorf(ctx, path,
				     "expected an integer in %" PRIu64 "..%" PRIu64
				     ", got %" JSON_INTEGER_FORMAT,
				     min, max, i);
	*ret = (uint64_t)i;
	return 0;
}

bool policy_path_is_normal(const char *s)
{
	size_t n = strlen(s);

	if (s[0] != '/' || n >= POLICY_MAX_PATH)
		return false;
	if (n == 1)
		return true;
	if (s[n - 1] == '/')
		return false;
	for (const char *c = s; *c; c++) {
		const char *next;
		size_t l;

		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
		if (*c != '/')
			continue;
		next = strchrnul(c + 1, '/');
		l = (size_t)(next - (c + 1));
		if (l == 0 || (l == 1 && c[1] == '.') || (l == 2 && c[1] == '.' && c[2] == '.'))
			return false;
	}
	return true;
}

int policy_strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void policy_strv_sort_uniq(char **l)
{
	size_t n = 0, w = 0;

	while (l && l[n])
		n++;
	if (n < 2)
		return;
	qsort(l, n, sizeof(char *), policy_strcmp_ptr);
	for (size_t i = 0; i < n; i++) {
		if (w > 0 && streq(l[w - 1], l[i])) {
			free(l[i]);
			continue;
		}
		l[w++] = l[i];
	}
	l[w] = NULL;
}
