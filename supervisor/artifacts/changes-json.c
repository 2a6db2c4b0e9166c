/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * changes.json (docs/artifacts.md): every change of an overlay workspace's change set, its
 * path escaped as the export's manifest escapes names. Pure.
 */
#include <stdio.h>
#include <stdlib.h>

#include "changes-export.h"
#include "cleanup.h"
#include "parse-util.h"

static json_t *mode_json(mode_t m)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%04o", (unsigned)(m & 07777));
	return json_string(buf);
}

static json_t *change_json(const struct change *c)
{
	_cleanup_free_ char *path = NULL;
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	json_t *o;
	int r = 0;

	if (changes_escape_path(c->path, &path) < 0)
		return NULL;
	o = json_pack("{s:s,s:s,s:s}", "path", path, "kind", change_kind_to_string(c->kind), "type",
		      change_type_to_string(c->type));
	if (!o)
		return NULL;
	if (c->kind != CHANGE_ADDED)
		r |= json_object_set_new(o, "old_mode", mode_json(c->old_mode));
	if (c->kind != CHANGE_DELETED)
		r |= json_object_set_new(o, "new_mode", mode_json(c->new_mode));
	if (c->type == CHANGE_TYPE_FILE && c->kind != CHANGE_DELETED)
		r |= json_object_set_new(o, "size", json_integer((json_int_t)c->size));
	if (c->type == CHANGE_TYPE_FILE && c->kind != CHANGE_ADDED)
		r |= json_object_set_new(o, "old_size", json_integer((json_int_t)c->old_size));
	if (c->has_digest) {
		hex_encode(c->digest, SHA256_DIGEST_SIZE, hex);
		r |= json_object_set_new(o, "sha256", json_string(hex));
	}
	if (c->patch)
		r |= json_object_set_new(o, "patch", json_string(c->patch));
	if (c->not_exported)
		r |= json_object_set_new(o, "not_exported", json_string(c->not_exported));
	if (c->redacted)
		r |= json_object_set_new(o, "redacted", json_true());
	if (c->type != CHANGE_TYPE_FILE && c->type != CHANGE_TYPE_DIR)
		r |= json_object_set_new(o, "skipped", json_string("not a regular file"));
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *changes_set_to_json(const struct change_set *s)
{
	json_t *o, *arr = json_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (json_array_append_new(arr, change_json(&s->items[i])) < 0) {
			json_decref(arr);
			return NULL;
		}
	o = json_pack("{s:i,s:b,s:o}", "version", 1, "truncated", s->truncated, "changes", arr);
	if (o && s->truncated_why &&
	    json_object_set_new(o, "truncated_why", json_string(s->truncated_why)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
