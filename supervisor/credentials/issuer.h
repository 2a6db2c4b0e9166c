/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Credential issuers (docs/credentials.md, docs/config.md): the kinds of service that mint a
 * short-lived credential for one grant of one run, and take it back when the run ends. Each
 * kind is one ops table (struct issuer_ops) in the issuer module, airlock-issuers.so, which
 * holds libcurl and libcrypto: a run without grants never maps them (issuer-module.h).
 *
 * A kind's functions do not log: they may run on threads of their own (grants are minted
 * concurrently), so each failure is written as one line into the caller's err buffer,
 * naming the HTTP status or the curl error and never a secret; the core adds the grant and
 * issuer names and logs it once.
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "secure-mem.h"

/* What one failure says: "<what went wrong>", as one line without a newline. */
#define ISSUER_ERR_MAX 512
/* Defaults of an issuer's common settings (docs/config.md). */
#define ISSUER_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define ISSUER_DEFAULT_TIMEOUT_MS 15000
#define ISSUER_DEFAULT_MAX_RESPONSE (64 * 1024)
#define ISSUER_MAX_MAX_RESPONSE (1024 * 1024)
#define ISSUER_MAX_TIMEOUT_MS 120000
/* The longest lifetime an issuer's response is taken at its word for (68 years). */
#define ISSUER_MAX_LIFETIME_S INT32_MAX

/* What every kind's node-config object may carry besides its own keys. */
struct issuer_common {
	char *ca_file; /* PEM CA bundle that alone verifies the issuer's TLS; NULL: system CAs */
	uint32_t connect_timeout_ms; /* "connect_timeout", e.g. "5s" */
	uint32_t timeout_ms; /* "timeout": a whole request, connect included */
	size_t max_response; /* "max_response_bytes": a longer response is an error */
};

/* One grant to mint, as the core asks for it. Borrowed for the call only. */
struct issuer_grant {
	const char *name; /* the policy's credential name */
	const char *issuer; /* the issuer's name in the node config */
	const char *run_id;
	const json_t *scope; /* the grant's "scope" as written in the policy, or NULL */
	uint64_t ttl_s; /* lifetime to ask for: min(grant's ttl, run's wall time), >= 1 */
};

/* What a mint gives back. Owned by the caller (issuer_minted_done()). */
struct issuer_minted {
	struct secure_buf value; /* the credential; secure_buf_alloc(.., true) */
	json_t *scope; /* the scope as the issuer reported it, or NULL when it says nothing */
	int64_t issued_s; /* Unix time the issuer issued it (or the request's time) */
	/*
	 * Unix time the credential itself expires, as the issuer says (issued + the lifetime
	 * granted; the lifetime asked for when it says nothing), even when that is past the
	 * grant's ttl: the core holds the grant to the shorter one, and keeps revoking (after
	 * a supervisor SIGKILL) until this one.
	 */
	int64_t expires_s;
	/*
	 * What revoke() needs, opaque to the core (it may hold the value: RFC 7009 revokes a
	 * token by the token). Kept root-only in the run's runtime directory until revoked,
	 * so that the next start revokes it after a supervisor SIGKILL. NULL: the issuer has
	 * no revocation; the credential lives until it expires.
	 */
	json_t *revocation;
};

/* One kind of issuer. */
struct issuer_ops {
	const char *kind; /* the node config's "kind" */
	/*
	 * Parses the kind's own keys of an issuer's object (the common ones are already
	 * taken out of obj, and "kind"): strictly, an unknown key is an error. *ret is the
	 * kind's private config (freed by free_config()). Returns 0 or -EINVAL/-ENOMEM with
	 * err naming the key.
	 */
	int (*parse)(const char *name, json_t *obj, void **ret, char *err, size_t errlen);
	void (*free_config)(void *config);
	/*
	 * Mints one credential for g. Secret files the config names are read here, each
	 * refused when it is not a regular file owned by root and unreadable by group and
	 * others (issuer_read_secret()). Returns 0 and *ret, or -errno with err filled.
	 * Runs on a thread of its own: no logging, no global state but libcurl's.
	 */
	int (*mint)(const void *config, const struct issuer_common *common,
		    const struct issuer_grant *g, struct issuer_minted *ret, char *err,
		    size_t errlen);
	/*
	 * Revokes what a mint's revocation state names. Returns 0 (revoked, or already
	 * gone), or -errno with err filled (the credential may live until it expires).
	 */
	int (*revoke)(const void *config, const struct issuer_common *common,
		      const json_t *revocation, char *err, size_t errlen);
	/*
	 * Checks a grant's scope (as the policy wrote it, or NULL) the way mint() takes it,
	 * without a request: so a grant that could never be minted refuses its run before
	 * any other grant is, and `airlock policy check --host` says so. NULL: any scope.
	 * Returns 0, or -EINVAL/-E2BIG/-ENOMEM with err filled as mint() would.
	 */
	int (*check_grant)(const void *config, const json_t *scope, char *err, size_t errlen);
};

/* Clears the value and frees what m holds; m itself is the caller's. */
void issuer_minted_done(struct issuer_minted *m);

/* The kinds the module knows (issuer-kinds.c); NULL for another name. */
const struct issuer_ops *issuer_kind_find(const char *kind);

/*
 * Reads a secret file an issuer's config names into secure memory (at most max bytes,
 * without a trailing newline): refused unless it is a regular file owned by root with no
 * group or other permission bits. Returns 0 or -errno with err filled ("client secret file
 * '/p': readable by group or others").
 */
int issuer_read_secret(const char *path, const char *what, size_t max, struct secure_buf *ret,
		       char *err, size_t errlen);

/* An HTTP request of an issuer (issuer-http.c, the only user of libcurl). */
struct issuer_http_request {
	const char *method; /* "GET", "POST", "DELETE"... */
	const char *url; /* https:// (or http:// to a loopback address only, for tests) */
	/*
	 * The URL error lines name (without its query), or NULL: url. A kind whose URL is
	 * rendered from a template that may put a value in (http_json's {{value}}) names the
	 * template here: the rendered URL is never in a message or the record.
	 */
	const char *url_shown;
	const char *const *headers; /* "Name: value" strings, NULL-terminated, or NULL */
	const void *body; /* sent as is, or NULL */
	size_t body_len;
	const char *basic_user; /* HTTP basic authentication, or NULL */
	const char *basic_password;
	const struct issuer_common *common; /* CA file, timeouts, response bound */
};

struct issuer_http_response {
	long status; /* the HTTP status */
	struct secure_buf body; /* the body, NUL-terminated after len bytes (wipe on fork) */
};

/*
 * Sends one request and reads its response, verifying TLS always (there is no way to
 * turn it off) against common->ca_file or the system CAs, within the connect and total
 * timeouts, refusing a response longer than common->max_response. Returns 0 and *ret
 * (a response of any status: the caller decides), or -errno with err filled as one line
 * ("curl: SSL peer certificate or SSH remote key was not OK", "response of POST https://...
 * larger than 65536 bytes"), naming url_shown. Thread-safe once issuer_http_init() has run.
 */
int issuer_http_do(const struct issuer_http_request *rq, struct issuer_http_response *ret,
		   char *err, size_t errlen);
void issuer_http_response_done(struct issuer_http_response *r);
/* "HTTP 500 from <url without query>" into err, for a status the caller refuses. */
int issuer_http_status_error(const struct issuer_http_request *rq, long status, char *err,
			     size_t errlen);
/* Once per process before any request (curl_global_init). 0 or -EIO. */
int issuer_http_init(void);
/*
 * While flag points to a nonzero int, every request of issuer_http_do() ends within about a
 * second with -ECANCELED ("interrupted"). NULL: none is cancelled. Set between batches.
 */
void issuer_http_cancel_on(const int *flag);
