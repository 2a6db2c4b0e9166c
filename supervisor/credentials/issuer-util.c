/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of the issuer kinds (issuer-util.h). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "issuer-util.h"
#include "macro.h"

void issuer_buf_append(struct issuer_buf *b, const void *data, size_t len)
{
	struct secure_buf bigger = {};
	size_t need;

	if (b->error)
		return;
	if (__builtin_add_overflow(b->b.len, len + 1, &need)) {
		b->error = -EOVERFLOW;
		return;
	}
	if (need > b->b.size) {
		b->error = secure_buf_alloc(&bigger, need < 4096 ? 4096 : 2 * need, true);
		if (b->error)
			return;
		if (b->b.len)
			memcpy(bigger.data, b->b.data, b->b.len);
		bigger.len = b->b.len;
		secure_buf_free(&b->b);
		b->b = bigger;
	}
	memcpy(b->b.data + b->b.len, data, len);
	b->b.len += len;
	b->b.data[b->b.len] = '\0';
}

void issuer_buf_append_str(struct issuer_buf *b, const char *s)
{
	issuer_buf_append(b, s, strlen(s));
}

static void append_encoded(struct issuer_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3] = { '%', hex[c >> 4], hex[c & 15] };

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~')
			issuer_buf_append(b, &c, 1);
		else if (c == ' ')
			issuer_buf_append(b, "+", 1);
		else
			issuer_buf_append(b, e, 3);
	}
}

void issuer_buf_append_form(struct issuer_buf *b, const char *key, const char *value, size_t len)
{
	if (b->b.len)
		issuer_buf_append(b, "&", 1);
	append_encoded(b, key, strlen(key));
	issuer_buf_append(b, "=", 1);
	append_encoded(b, value, len);
}

void issuer_buf_done(struct issuer_buf *b)
{
	secure_buf_free(&b->b);
	b->error = 0;
}

void issuer_escape_text(const char *s, size_t max, char *buf, size_t len)
{
	size_t pos = 0, i = 0;

	assert(len >= 8);
	for (; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= 0x20 && c < 0x7f && c != '\\';

		if (pos + (plain ? 1 : 4) + 4 > len) /* room for "...\0" */
			break;
		if (plain)
			buf[pos++] = (char)c;
		else
			pos += (size_t)snprintf(buf + pos, len - pos, "\\x%02x", c);
	}
	if (s[i])
		pos += (size_t)snprintf(buf + pos, len - pos, "...");
	buf[pos] = '\0';
}

int issuer_response_json(const struct issuer_http_request *rq,
			 const struct issuer_http_response *resp, json_t **ret, char *err,
			 size_t errlen)
{
	json_error_t e;
	json_t *o;
	size_t n;

	if (resp->status < 200 || resp->status > 299)
		return issuer_http_status_error(rq, resp->status, err, errlen);
	o = json_loadb((const char *)resp->body.data, resp->body.len, JSON_REJECT_DUPLICATES, &e);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		n = strcspn(rq->url, "?#");
		/* e.text may quote the response, which may hold a secret: never print it. */
		snprintf(err, errlen, "response of %s %.*s is not a JSON object", rq->method,
			 (int)(n > 200 ? 200 : n), rq->url);
		return -EBADMSG;
	}
	*ret = o;
	return 0;
}

bool issuer_json_pointer_is_valid(const char *s)
{
	if (!s)
		return false;
	if (s[0] != '\0' && s[0] != '/')
		return false;
	for (const char *p = s; (p = strchr(p, '~')); p++)
		if (p[1] != '0' && p[1] != '1')
			return false;
	return true;
}

/* One reference token of a pointer, unescaped (~1 is '/', ~0 is '~'). */
static size_t pointer_token(const char *p, char *buf, size_t len)
{
	size_t n = 0, i = 0;

	for (; p[i] && p[i] != '/'; i++) {
		char c = p[i];

		if (c == '~') {
			c = p[i + 1] == '1' ? '/' : '~';
			i++;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return i;
}

json_t *issuer_json_pointer(json_t *root, const char *ptr)
{
	json_t *at = root;
	char tok[256];

	if (!issuer_json_pointer_is_valid(ptr))
		return NULL;
	while (at && *ptr == '/') {
		char *end;
		unsigned long idx;

		ptr++;
		ptr += pointer_token(ptr, tok, sizeof(tok));
		if (json_is_object(at))
			at = json_object_get(at, tok);
		else if (json_is_array(at)) {
			errno = 0;
			idx = strtoul(tok, &end, 10);
			at = (*tok && !*end && !errno) ? json_array_get(at, idx) : NULL;
		} else
			at = NULL;
	}
	return at;
}

int64_t issuer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t issuer_expiry(int64_t issued_s, const json_t *granted, uint64_t asked_s)
{
	json_int_t g = json_is_integer(granted) ? json_integer_value(granted) : 0;
	uint64_t life = g > 0 ? (uint64_t)g : asked_s;

	return issued_s + (int64_t)MIN(life, (uint64_t)ISSUER_MAX_LIFETIME_S);
}
