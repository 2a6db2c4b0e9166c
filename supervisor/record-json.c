/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "record-json.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t len)
{
	size_t out_len = (len + 2) / 3 * 4, o = 0;
	char *out;

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return NULL;
	out = malloc(out_len + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

/* Strict: padded, canonical alphabet, no whitespace. */
static int b64_decode(const char *in, size_t len, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = NULL;
	size_t o = 0;

	if (len % 4)
		return -EINVAL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int a = b64_value(in[i]), b = b64_value(in[i + 1]);
		int c = last && in[i + 2] == '=' && in[i + 3] == '=' ? -2 : b64_value(in[i + 2]);
		int d = last && in[i + 3] == '=' ? -2 : b64_value(in[i + 3]);

		if (a < 0 || b < 0 || c == -1 || d == -1)
			return -EINVAL;
		out[o++] = (char)((a << 2) | (b >> 4));
		if (c >= 0)
			out[o++] = (char)(((b & 15) << 4) | (c >> 2));
		if (d >= 0)
			out[o++] = (char)(((c & 3) << 6) | d);
	}
	out[o] = '\0';
	*ret = TAKE_PTR(out);
	*ret_len = o;
	return 0;
}

json_t *record_json_bytesn(const char *s, size_t len)
{
	_cleanup_free_ char *b64 = NULL;
	json_t *v;

	/* jansson refuses what is not valid UTF-8 (overlong forms and surrogates included). */
	v = json_stringn(s, len);
	if (v)
		return v;
	b64 = b64_encode((const unsigned char *)s, len);
	if (!b64)
		return NULL;
	return json_pack("{s:s}", "base64", b64);
}

json_t *record_json_bytes(const char *s)
{
	return s ? record_json_bytesn(s, strlen(s)) : NULL;
}

int record_json_set(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

int record_json_append(json_t *a, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_array_append_new(a, v) < 0 ? -ENOMEM : 0;
}

json_t *record_json_strv(char *const *strv)
{
	json_t *a = json_array();

	for (char *const *s = strv; a && s && *s; s++)
		if (record_json_append(a, record_json_bytes(*s)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int record_json_bytes_decode(const json_t *v, char **ret, size_t *ret_len)
{
	const char *b64;
	char *copy;

	if (json_is_string(v)) {
		copy = malloc(json_string_length(v) + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, json_string_value(v), json_string_length(v) + 1);
		*ret = copy;
		*ret_len = json_string_length(v);
		return 0;
	}
	if (!json_is_object(v) || json_object_size(v) != 1)
		return -EINVAL;
	b64 = json_string_value(json_object_get(v, "base64"));
	if (!b64)
		return -EINVAL;
	return b64_decode(b64, strlen(b64), ret, ret_len);
}
