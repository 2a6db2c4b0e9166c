/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Helpers the kinds of issuer.h share: forms, JSON responses and pointers, times. */

#include <jansson.h>
#include <stdint.h>

#include "issuer.h"

/* A buffer of secure memory grown by appends (for request bodies that hold secrets). */
struct issuer_buf {
	struct secure_buf b;
	int error; /* the first append's failure, then every later append is a no-op */
};

void issuer_buf_append(struct issuer_buf *b, const void *data, size_t len);
void issuer_buf_append_str(struct issuer_buf *b, const char *s);
/* "key=value" percent-encoded as application/x-www-form-urlencoded, '&' before all but the first. */
void issuer_buf_append_form(struct issuer_buf *b, const char *key, const char *value, size_t len);
void issuer_buf_done(struct issuer_buf *b);

/*
 * Text an issuer wrote (an error's "message"), made safe for a terminal and one line: at most
 * max bytes of s, control bytes, '\\' and bytes past ASCII as "\\xHH" (the records'
 * verify prints untrusted names the same way), "..." when cut short; into buf of len >= 8.
 */
void issuer_escape_text(const char *s, size_t max, char *buf, size_t len);

/*
 * The body of a response as a JSON object (the status must be 2xx). Returns 0 and *ret,
 * or -EPROTO/-EBADMSG with err filled ("HTTP 500 from POST https://h/t", "response of POST
 * https://h/t is not a JSON object").
 */
int issuer_response_json(const struct issuer_http_request *rq,
			 const struct issuer_http_response *resp, json_t **ret, char *err,
			 size_t errlen);

/* RFC 6901: the value at pointer ptr in root (borrowed), or NULL. */
json_t *issuer_json_pointer(json_t *root, const char *ptr);
/* Whether s is a valid RFC 6901 pointer ("" or "/..."). */
bool issuer_json_pointer_is_valid(const char *s);

/* The wall clock, in seconds. */
int64_t issuer_now(void);
/*
 * When a credential issued at issued_s expires: after the lifetime in seconds the issuer's
 * response gave (granted, an integer), or after asked_s when it gave none or one of 0 or
 * less. A lifetime longer than ISSUER_MAX_LIFETIME_S (a hostile or broken issuer's
 * 9223372036854775807, which would overflow) is taken as that.
 */
int64_t issuer_expiry(int64_t issued_s, const json_t *granted, uint64_t asked_s);
