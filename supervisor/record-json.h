/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Checked construction of run records (docs/run-record.md, "Byte strings"). Every byte
 * string from outside (argv, environment names, paths, file and host names, messages that
 * quote them) enters a record through record_json_bytes(): a JSON string when it is valid
 * UTF-8, else {"base64": "<standard base64, padded, of the exact bytes>"}. Nothing is
 * dropped: a value that cannot be built makes the whole record fail.
 */

#include <jansson.h>
#include <stddef.h>

/*
 * The record value of the NUL-terminated byte string s: a string, or {"base64": ...}.
 * NULL only when out of memory. New reference, owned by the caller.
 */
json_t *record_json_bytes(const char *s);
/* The same for len bytes of s (which may hold NUL bytes). */
json_t *record_json_bytesn(const char *s, size_t len);
/* A new array of the record values of each string of the NULL-terminated strv. NULL: OOM. */
json_t *record_json_strv(char *const *strv);
/*
 * Sets key of o to v, taking v (a NULL v is a failure). Returns 0 or -ENOMEM; v is released
 * either way.
 */
int record_json_set(json_t *o, const char *key, json_t *v);
/* Appends v to a, taking v; as record_json_set(). */
int record_json_append(json_t *a, json_t *v);

/*
 * The bytes a record value stands for (a string, or {"base64": ...}), decoded into a new
 * buffer (NUL-terminated; *ret_len without it). Returns 0, -EINVAL (neither form, or bad
 * base64) or -ENOMEM.
 */
int record_json_bytes_decode(const json_t *v, char **ret, size_t *ret_len);
