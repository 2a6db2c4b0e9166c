/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Credentials on their way to the task (files rendered for the secrets tmpfs, environment
 * strings) and into the record (fingerprints only).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "credentials-internal.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "sandbox.h"

/* The file's text: the template with each marker replaced by the value. */
static int render_template(struct credential *c)
{
	const char *t = c->slot->template, *at;
	const size_t marker = strlen(POLICY_TEMPLATE_MARKER);
	size_t n = 0, size, off = 0;
	int r;

	for (at = t; (at = strstr(at, POLICY_TEMPLATE_MARKER)); at += marker)
		n++;
	/* At most POLICY_MAX_TEMPLATE bytes and values: no overflow. */
	size = strlen(t) - n * marker + n * c->value.len;
	r = secure_buf_alloc(&c->file, size > 0 ? size : 1, true);
	if (r < 0)
		return r;
	for (; (at = strstr(t, POLICY_TEMPLATE_MARKER)); t = at + marker) {
		memcpy(c->file.data + off, t, (size_t)(at - t));
		off += (size_t)(at - t);
		memcpy(c->file.data + off, c->value.data, c->value.len);
		off += c->value.len;
	}
	memcpy(c->file.data + off, t, strlen(t));
	c->file.len = off + strlen(t);
	return 0;
}

int credentials_add_files(struct credential_set *s, struct sandbox_mounts *m,
			  const struct policy *p, uid_t host_id_base)
{
	_cleanup_free_ struct sandbox_secret_file *files = NULL;
	size_t n = 0;
	int r;

	if (!s)
		return 0;
	files = calloc(s->n, sizeof(*files));
	if (!files)
		return log_oom();
	for (size_t i = 0; i < s->n; i++) {
		struct credential *c = &s->items[i];

		if (c->slot->delivery != POLICY_CREDENTIAL_DELIVER_FILE)
			continue;
		if (c->slot->template && !c->file.data) {
			r = render_template(c);
			if (r < 0)
				return log_error_errno(r, "Failed to render credential '%s': %m",
						       c->slot->name);
		}
		files[n++] = (struct sandbox_secret_file){
			.target = c->slot->target,
			.data = c->slot->template ? c->file.data : c->value.data,
			.size = c->slot->template ? c->file.len : c->value.len,
		};
	}
	r = sandbox_mounts_add_secrets(m, p, host_id_base, files, n);
	if (r < 0)
		return log_error_errno(r, "Failed to create the run's credential files: %m");
	return 0;
}

int credentials_env(const struct credential_set *s, char *const *base, char ***ret)
{
	size_t n = 0, k = 0;
	char **env;

	while (base && base[n])
		n++;
	env = calloc(n + (s ? s->n : 0) + 1, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		env[k++] = base[i];
	for (size_t i = 0; s && i < s->n; i++)
		if (s->items[i].env)
			env[k++] = s->items[i].env;
	*ret = env;
	return 0;
}

void credentials_env_memory(const struct credential_set *s, void **ret, size_t *ret_len)
{
	*ret = s && s->env.data ? s->env.data : NULL;
	*ret_len = s && s->env.data ? s->env.size : 0;
}

/* One grant of the record: where it went and what it was, by size and SHA-256 only. */
static json_t *grant_json(const struct credential *c)
{
	bool file = c->slot->delivery == POLICY_CREDENTIAL_DELIVER_FILE;
	char hex[2 * SHA256_DIGEST_SIZE + 1], fingerprint[sizeof(hex) + 8];
	json_t *o;

	hex_encode(c->digest, sizeof(c->digest), hex);
	snprintf(fingerprint, sizeof(fingerprint), "sha256:%s", hex);
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b}", "name", c->slot->name, "source",
		      policy_credential_source_to_string(c->slot->source), "delivery",
		      policy_credential_delivery_to_string(c->slot->delivery), "bytes",
		      (json_int_t)c->value.len, "fingerprint", fingerprint, "weak", !file);
	if (!o)
		return NULL;
	if ((file && json_object_set_new(o, "file", json_string(c->slot->target)) < 0) ||
	    (file && json_object_set_new(o, "template", json_boolean(c->slot->template)) < 0) ||
	    (!file && json_object_set_new(o, "env", json_string(c->slot->target)) < 0) ||
	    credentials_grant_to_json(c, o) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *credentials_to_json(const struct credential_set *s)
{
	json_t *a;

	if (!s)
		return NULL;
	a = json_array();
	for (size_t i = 0; a && i < s->n; i++)
		if (json_array_append_new(a, grant_json(&s->items[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}
