/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Internal to policy/: the table-driven JSON dispatcher, error helpers and the parse
 * context shared by the section parsers. json_t never leaves this module.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "macro.h"
#include "policy.h"

/* What a table row accepts; POLICY_JSON_NUMBER takes integers and reals. */
enum policy_json_kind {
	POLICY_JSON_OBJECT,
	POLICY_JSON_ARRAY,
	POLICY_JSON_STRING,
	POLICY_JSON_INTEGER,
	POLICY_JSON_NUMBER,
	POLICY_JSON_BOOLEAN,
};

/* State of one policy_parse() call. */
struct policy_ctx {
	struct policy *p;
	struct policy_error *err;
	bool have_environment; /* "environment" given: no default PATH/LANG */
	bool have_tmpfs; /* "filesystem.tmpfs" given: no default /tmp, /out */
};

/*
 * A field handler: v has the row's type already; data points at base + offset. path is
 * the JSON pointer of v. Returns 0, -EINVAL (after filling ctx->err) or -ENOMEM.
 */
typedef int (*policy_dispatch_fn)(const char *path, json_t *v, void *data, struct policy_ctx *ctx);

struct policy_field {
	const char *key;
	enum policy_json_kind kind;
	policy_dispatch_fn fn;
	size_t offset;
	bool required;
	const char *expect; /* "a size like \"512M\""; NULL: derived from kind */
};

/*
 * Checks that obj is an object whose keys all appear in table (NULL-key terminated), that
 * required keys are present and each value has its row's type, then calls the handlers in
 * table order. Returns 0, -EINVAL or -ENOMEM.
 */
int policy_dispatch(const char *path, json_t *obj, const struct policy_field *table, void *base,
		    struct policy_ctx *ctx);

/* Fills ctx->err (path and printf-style message) and returns -EINVAL. */
int policy_errorf(struct policy_ctx *ctx, const char *path, const char *fmt, ...) _printf_(3, 4);
/* Converts a jansson load error into ctx->err (with line/column). Returns -EINVAL. */
int policy_error_from_json(struct policy_ctx *ctx, const json_error_t *je);
/*
 * Loads len bytes of JSON text strictly (duplicate keys rejected) into *ret. A NUL byte,
 * which no JSON text may hold and jansson would report as an early end of file, is named
 * with its byte offset. Returns 0, -EINVAL (ctx->err filled) or -ENOMEM.
 */
int policy_json_load(struct policy_ctx *ctx, const char *buf, size_t len, json_t **ret);

/* JSON pointer of a child: "<parent>/<key>" (RFC 6901 escaped) or "<parent>/<index>". */
void policy_path_key(char *buf, size_t len, const char *parent, const char *key);
void policy_path_index(char *buf, size_t len, const char *parent, size_t index);

/* Describes a kind for "expected ..." messages ("an object", "a string", ...). */
const char *policy_json_kind_to_string(enum policy_json_kind kind);
/* Whether v has the given kind. */
bool policy_json_is_kind(json_t *v, enum policy_json_kind kind);

/* Copies a string value (handler for char * fields). */
int policy_dispatch_string(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
/* Stores a boolean value (handler for bool fields). */
int policy_dispatch_bool(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
/*
 * Reads an integer in [min, max] into *ret; errors name the range. v must be an integer.
 */
int policy_json_uint(struct policy_ctx *ctx, const char *path, json_t *v, uint64_t min,
		     uint64_t max, uint64_t *ret);

/*
 * Checks an absolute, normalised path: starts with '/', no "//", no "." or ".."
 * component, no trailing '/', at most POLICY_MAX_PATH - 1 bytes. "/" itself is valid.
 */
bool policy_path_is_normal(const char *s);

/* Whether s is an environment variable name: [A-Za-z_][A-Za-z0-9_]*, at most 255 bytes. */
bool policy_env_name_is_valid(const char *s);
/*
 * The mount point airlock itself creates ("/usr", "/run", "/workspace", ...) that path
 * equals or lies beneath, or NULL.
 */
const char *policy_reserved_target(const char *path);

/* Whether s is a DNS name of RFC 1123 labels (letters, digits, '-'), at most max bytes. */
bool policy_dns_name_is_valid(const char *s, size_t max);

/* Section handlers (one file each). */
int policy_dispatch_identity(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
int policy_dispatch_limits(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
int policy_dispatch_environment(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
int policy_dispatch_command(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
int policy_dispatch_filesystem(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
int policy_dispatch_network(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
int policy_dispatch_credentials(const char *path, json_t *v, void *data, struct policy_ctx *ctx);
/* node-config-issuers.c, for node-config.c. */
struct node_config;
struct node_issuer;
int node_config_dispatch_credentials(const char *path, json_t *v, void *data,
				     struct policy_ctx *ctx);
void node_issuers_free(struct node_issuer *issuers, size_t n);
json_t *node_config_issuers_json(const struct node_config *c);
int policy_dispatch_logs(const char *path, json_t *v, void *data, struct policy_ctx *ctx);

/* The canonical "logs" object (owned by the caller), or NULL on -ENOMEM. */
json_t *policy_logs_tree(const struct policy_logs *l);

/*
 * Cross-field checks of the credentials (unique names, variables and paths; file paths
 * against the mount targets), then sorts them by name. Runs after normalisation, when
 * the environment and tmpfs defaults are filled in. Returns 0, -EINVAL or -ENOMEM.
 */
int policy_credentials_validate(struct policy_ctx *ctx);
/* Frees n credential slots and the array. */
void policy_credentials_free(struct policy_credential *c, size_t n);
/* The canonical "credentials" array (owned by the caller), or NULL on -ENOMEM. */
json_t *policy_credentials_tree(const struct policy *p);

/* Cross-field checks of the filesystem section (mount target collisions). */
int policy_filesystem_validate(struct policy_ctx *ctx);
/* Fills filesystem defaults and sorts/dedupes lists. Returns 0 or -ENOMEM. */
int policy_filesystem_normalize(struct policy_ctx *ctx);

/*
 * A "dns.upstream" array (at most POLICY_MAX_DNS_UPSTREAMS IP literals) into *ret (owned by
 * the caller, also on failure) and *ret_n. Shared by the policy and the node
 * configuration. Returns 0, -EINVAL (ctx->err names the element) or -ENOMEM.
 */
int policy_parse_upstreams(const char *path, json_t *v, struct policy_addr **ret, size_t *ret_n,
			   struct policy_ctx *ctx);
/* Parses an IP literal (v4 or v6) into *ret. Returns 0 or -EINVAL. */
int policy_addr_from_string(const char *s, struct policy_addr *ret);
/* Formats an address into buf (INET6_ADDRSTRLEN bytes at least). */
void policy_addr_to_string(const struct policy_addr *a, char *buf, size_t len);

/* The canonical JSON tree of p (owned by the caller), or NULL on -ENOMEM. */
json_t *policy_to_json_tree(const struct policy *p);
/* Computes p->digest from the canonical compact form. Returns 0 or -ENOMEM. */
int policy_compute_digest(struct policy *p);

/* qsort comparator for char * arrays. */
int policy_strcmp_ptr(const void *a, const void *b);
/* Sorts and removes duplicates of a NULL-terminated string list in place. */
void policy_strv_sort_uniq(char **l);

static inline void policy_json_decrefp(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(policy_json_decrefp)))
