/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "command", "identity", "limits" and "environment" sections.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "parse-util.h"
#include "policy-internal.h"
#include "strv.h"

#define ENV_NAME_MAX 255
#define COMMAND_NAME_MAX 255

bool policy_dns_name_is_valid(const char *s, size_t max)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (label == 0 && c == '-')
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
		label++;
	}
	return true;
}

static bool command_is_valid(const char *s)
{
	if (strchr(s, '/'))
		return policy_path_is_normal(s) && !streq(s, "/");
	if (!*s || strlen(s) > COMMAND_NAME_MAX || streq(s, ".") || streq(s, ".."))
		return false;
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return true;
}

static int dispatch_command_allow(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char ***allow = data;
	char child[POLICY_MAX_PATH];
	size_t i;
	json_t *e;
	int r;

	if (json_array_size(v) == 0)
		return policy_errorf(ctx, path, "expected at least one command");
	if (json_array_size(v) > POLICY_MAX_COMMANDS)
		return policy_errorf(ctx, path, "expected at most %d commands",
				     POLICY_MAX_COMMANDS);

	json_array_foreach(v, i, e)
	{
		policy_path_index(child, sizeof(child), path, i);
		if (!json_is_string(e) || !command_is_valid(json_string_value(e)))
			return policy_errorf(ctx, child,
					     "expected an absolute normalised path or a "
					     "basename of a command");
		r = strv_push_copy(allow, json_string_value(e));
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_dispatch_command(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = { { "allow", POLICY_JSON_ARRAY,
						       dispatch_command_allow, 0, true,
						       "an array of commands" },
						     {} };

	return policy_dispatch(path, v, table, data, ctx);
}

static int dispatch_id(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	uint32_t *id = data;
	uint64_t u;
	int r;

	r = policy_json_uint(ctx, path, v, 0, POLICY_MAX_UID, &u);
	if (r < 0)
		return r;
	*id = (uint32_t)u;
	return 0;
}

static int dispatch_hostname(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	if (!policy_dns_name_is_valid(json_string_value(v), 64))
		return policy_errorf(
			ctx, path, "expected a hostname of RFC 1123 labels, at most 64 characters");
	return policy_dispatch_string(path, v, data, ctx);
}

int policy_dispatch_identity(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "uid", POLICY_JSON_INTEGER, dispatch_id, offsetof(struct policy_identity, uid),
		  false, "an integer in 0..65535" },
		{ "gid", POLICY_JSON_INTEGER, dispatch_id, offsetof(struct policy_identity, gid),
		  false, "an integer in 0..65535" },
		{ "hostname", POLICY_JSON_STRING, dispatch_hostname,
		  offsetof(struct policy_identity, hostname) },
		{}
	};

	return policy_dispatch(path, v, table, data, ctx);
}

/* A size string in [min, max]. */
static int limit_size(struct policy_ctx *ctx, const char *path, json_t *v, uint64_t min,
		      uint64_t *ret)
{
	char lo[32], hi[32];
	uint64_t s;

	if (parse_size(json_string_value(v), &s) < 0)
		return policy_errorf(ctx, path, "expected a size like \"512M\"");
	if (s < min || s > POLICY_MAX_SIZE) {
		format_size(min, lo, sizeof(lo));
		format_size(POLICY_MAX_SIZE, hi, sizeof(hi));
		return policy_errorf(ctx, path, "expected a size in %s..%s", lo, hi);
	}
	*ret = s;
	return 0;
}

static int dispatch_wall_time(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_limits *l = data;
	uint64_t ms;

	if (parse_duration_ms(json_string_value(v), &ms) < 0)
		return policy_errorf(ctx, path, "expected a duration like \"10m\"");
	if (ms < 1 || ms > POLICY_MAX_WALL_TIME_MS)
		return policy_errorf(ctx, path, "expected a duration in 1ms..168h");
	l->wall_time_ms = ms;
	l->set |= POLICY_LIMIT_WALL_TIME;
	return 0;
}

static int dispatch_memory(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_limits *l = data;

	l->set |= POLICY_LIMIT_MEMORY;
	return limit_size(ctx, path, v, POLICY_MIN_MEMORY, &l->memory);
}

static int dispatch_swap(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_limits *l = data;

	l->set |= POLICY_LIMIT_SWAP;
	return limit_size(ctx, path, v, 0, &l->swap);
}

static int dispatch_output(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_limits *l = data;

	l->set |= POLICY_LIMIT_OUTPUT;
	return limit_size(ctx, path, v, 0, &l->output);
}

static int dispatch_pids(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_limits *l = data;
	uint64_t u;
	int r;

	r = policy_json_uint(ctx, path, v, POLICY_MIN_PIDS, POLICY_MAX_PIDS, &u);
	if (r < 0)
		return r;
	l->pids = (uint32_t)u;
	l->set |= POLICY_LIMIT_PIDS;
	return 0;
}

static int dispatch_open_files(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_limits *l = data;
	uint64_t u;
	int r;

	r = policy_json_uint(ctx, path, v, POLICY_MIN_OPEN_FILES, POLICY_MAX_OPEN_FILES, &u);
	if (r < 0)
		return r;
	l->open_files = (uint32_t)u;
	l->set |= POLICY_LIMIT_OPEN_FILES;
	return 0;
}

static int dispatch_io_weight(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_limits *l = data;
	uint64_t u;
	int r;

	r = policy_json_uint(ctx, path, v, 1, POLICY_MAX_IO_WEIGHT, &u);
	if (r < 0)
		return r;
	l->io_weight = (uint32_t)u;
	l->set |= POLICY_LIMIT_IO_WEIGHT;
	return 0;
}

/* CPUs as a JSON number, stored in milli-cores (rounded to the nearest). */
static int dispatch_cpu(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_limits *l = data;
	double cpu = json_number_value(v);

	if (!(cpu * 1000 >= 0.5 && cpu * 1000 < POLICY_MAX_CPU_MILLI + 0.5))
		return policy_errorf(ctx, path, "expected a number of CPUs in 0.001..%d",
				     POLICY_MAX_CPU_MILLI / 1000);
	l->cpu_milli = (uint32_t)(cpu * 1000 + 0.5);
	l->set |= POLICY_LIMIT_CPU;
	return 0;
}

int policy_dispatch_limits(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "wall_time", POLICY_JSON_STRING, dispatch_wall_time, 0, false,
		  "a duration like \"10m\"" },
		{ "memory", POLICY_JSON_STRING, dispatch_memory, 0, false, "a size like \"512M\"" },
		{ "swap", POLICY_JSON_STRING, dispatch_swap, 0, false, "a size like \"512M\"" },
		{ "output", POLICY_JSON_STRING, dispatch_output, 0, false, "a size like \"512M\"" },
		{ "pids", POLICY_JSON_INTEGER, dispatch_pids, 0, false, "an integer" },
		{ "cpu", POLICY_JSON_NUMBER, dispatch_cpu, 0, false, "a number of CPUs like 1.5" },
		{ "open_files", POLICY_JSON_INTEGER, dispatch_open_files, 0, false, "an integer" },
		{ "io_weight", POLICY_JSON_INTEGER, dispatch_io_weight, 0, false, "an integer" },
		{}
	};

	return policy_dispatch(path, v, table, data, ctx);
}

bool policy_env_name_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ENV_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int env_add(const char *path, const char *name, json_t *v, char ***env,
		   struct policy_ctx *ctx)
{
	_cleanup_free_ char *kv = NULL;
	char **nl;
	size_t n;

	if (!policy_env_name_is_valid(name))
		return policy_errorf(ctx, path,
				     "expected a variable name matching [A-Za-z_][A-Za-z0-9_]*");
	if (streq(name, "HOME") || streq(name, "USER"))
		return policy_errorf(ctx, path, "%s is reserved: airlock sets it", name);
	if (!json_is_string(v))
		return policy_errorf(ctx, path, "expected a string");
	if (json_string_length(v) > POLICY_MAX_ENV_VALUE)
		return policy_errorf(ctx, path, "expected a value of at most %d bytes",
				     POLICY_MAX_ENV_VALUE);

	if (asprintf(&kv, "%s=%s", name, json_string_value(v)) < 0)
		return -ENOMEM;
	n = strv_length(*env);
	nl = realloc(*env, (n + 2) * sizeof(char *));
	if (!nl)
		return -ENOMEM;
	nl[n] = TAKE_PTR(kv);
	nl[n + 1] = NULL;
	*env = nl;
	return 0;
}

int policy_dispatch_environment(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char ***env = data;
	char child[POLICY_MAX_PATH];
	const char *key;
	json_t *e;
	int r;

	ctx->have_environment = true;
	if (json_object_size(v) > POLICY_MAX_ENV)
		return policy_errorf(ctx, path, "expected at most %d variables", POLICY_MAX_ENV);

	*env = calloc(1, sizeof(char *));
	if (!*env)
		return -ENOMEM;
	json_object_foreach(v, key, e)
	{
		policy_path_key(child, sizeof(child), path, key);
		r = env_add(child, key, e, env, ctx);
		if (r < 0)
			return r;
	}
	policy_strv_sort_uniq(*env);
	return 0;
}
