/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy lifecycle and the parse driver: syntax (jansson load, per-object dispatch
 * tables), semantic validation (cross-field checks), normalisation (defaults, sorting),
 * then the canonical digest. No I/O, no logging.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "policy-internal.h"
#include "strv.h"

static const char *const mode_names[_POLICY_MODE_MAX] = {
	[POLICY_MODE_RO] = "ro",
	[POLICY_MODE_RW] = "rw",
	[POLICY_MODE_OVERLAY] = "overlay",
};

const char *policy_mode_to_string(enum policy_mode m)
{
	if (m < 0 || m >= _POLICY_MODE_MAX)
		return NULL;
	return mode_names[m];
}

enum policy_mode policy_mode_from_string(const char *s)
{
	if (!s)
		return _POLICY_MODE_INVALID;
	for (int i = 0; i < _POLICY_MODE_MAX; i++)
		if (streq(mode_names[i], s))
			return (enum policy_mode)i;
	return _POLICY_MODE_INVALID;
}

static const char *const seccomp_names[_POLICY_SECCOMP_MAX] = {
	[POLICY_SECCOMP_DEFAULT] = "default",
};

const char *policy_seccomp_profile_to_string(enum policy_seccomp_profile s)
{
	if (s < 0 || s >= _POLICY_SECCOMP_MAX)
		return NULL;
	return seccomp_names[s];
}

enum policy_seccomp_profile policy_seccomp_profile_from_string(const char *s)
{
	if (!s)
		return _POLICY_SECCOMP_INVALID;
	for (int i = 0; i < _POLICY_SECCOMP_MAX; i++)
		if (streq(seccomp_names[i], s))
			return (enum policy_seccomp_profile)i;
	return _POLICY_SECCOMP_INVALID;
}

static void filesystem_done(struct policy_filesystem *fs)
{
	for (size_t i = 0; i < fs->n_binds; i++) {
		free(fs->binds[i].source);
		free(fs->binds[i].target);
	}
	free(fs->binds);
	for (size_t i = 0; i < fs->n_tmpfs; i++)
		free(fs->tmpfs[i].target);
	free(fs->tmpfs);
	strv_free(fs->exec);
	strv_free(fs->etc);
	free(fs->rootfs);
}

static void network_done(struct policy_network *n)
{
	for (size_t i = 0; i < n->n_egress; i++) {
		free(n->egress[i].host);
		free(n->egress[i].ports);
	}
	free(n->egress);
	free(n->dns_upstream);
}

struct policy *policy_free(struct policy *p)
{
	if (!p)
		return NULL;
	free(p->name);
	strv_free(p->command_allow);
	free(p->identity.hostname);
	strv_free(p->environment);
	filesystem_done(&p->filesystem);
	network_done(&p->network);
	policy_credentials_free(p->credentials, p->n_credentials);
	strv_free(p->logs.redact_patterns);
	strv_free(p->artifacts.include);
	free(p);
	return NULL;
}

void policy_error_format(const struct policy_error *e, char *buf, size_t len)
{
	const char *path = e->path[0] ? e->path : "/";

	if (e->line > 0)
		snprintf(buf, len, "policy: %s (line %d, column %d): %s", path, e->line, e->column,
			 e->message);
	else
		snprintf(buf, len, "policy: %s: %s", path, e->message);
}

bool policy_command_allowed(const struct policy *p, const char *argv0)
{
	const char *base;

	if (!p->command_allow)
		return true;
	if (!argv0 || !*argv0)
		return false;

	base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	STRV_FOREACH(a, p->command_allow) {
		if (strchr(*a, '/') ? streq(*a, argv0) : streq(*a, base))
			return true;
	}
	return false;
}

const char *policy_command_allowed_path(const struct policy *p, const char *argv0)
{
	const char *base;

	if (!p->command_allow || !argv0 || strchr(argv0, '/'))
		return NULL;
	STRV_FOREACH(a, p->command_allow) {
		base = strrchr(*a, '/');
		if (base && streq(base + 1, argv0))
			return *a;
	}
	return NULL;
}

static int dispatch_version(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	int *version = data;

	if (json_integer_value(v) != POLICY_VERSION)
		return policy_errorf(ctx, path,
				     "unsupported version %" JSON_INTEGER_FORMAT ", expected %d",
				     json_integer_value(v), POLICY_VERSION);
	*version = POLICY_VERSION;
	return 0;
}

static bool name_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POLICY_MAX_NAME || streq(s, ".") || streq(s, ".."))
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int dispatch_name(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	if (!name_is_valid(json_string_value(v)))
		return policy_errorf(ctx, path,
				     "expected a name of 1..%d characters [A-Za-z0-9._-], "
				     "not \".\" or \"..\"",
				     POLICY_MAX_NAME);
	return policy_dispatch_string(path, v, data, ctx);
}

static int dispatch_seccomp_profile(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	enum policy_seccomp_profile *s = data;
	enum policy_seccomp_profile r;

	r = policy_seccomp_profile_from_string(json_string_value(v));
	if (r < 0)
		return policy_errorf(ctx, path, "expected \"default\"");
	*s = r;
	return 0;
}

static int dispatch_seccomp(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "profile", POLICY_JSON_STRING, dispatch_seccomp_profile, 0, true, "\"default\"" },
		{}
	};

	return policy_dispatch(path, v, table, data, ctx);
}

static const struct policy_field root_table[] = {
	{ "version", POLICY_JSON_INTEGER, dispatch_version, offsetof(struct policy, version), true,
	  "the integer 1" },
	{ "name", POLICY_JSON_STRING, dispatch_name, offsetof(struct policy, name) },
	{ "command", POLICY_JSON_OBJECT, policy_dispatch_command,
	  offsetof(struct policy, command_allow) },
	{ "identity", POLICY_JSON_OBJECT, policy_dispatch_identity,
	  offsetof(struct policy, identity) },
	{ "limits", POLICY_JSON_OBJECT, policy_dispatch_limits, offsetof(struct policy, limits) },
	{ "environment", POLICY_JSON_OBJECT, policy_dispatch_environment,
	  offsetof(struct policy, environment) },
	{ "filesystem", POLICY_JSON_OBJECT, policy_dispatch_filesystem,
	  offsetof(struct policy, filesystem) },
	{ "seccomp", POLICY_JSON_OBJECT, dispatch_seccomp, offsetof(struct policy, seccomp) },
	{ "network", POLICY_JSON_OBJECT, policy_dispatch_network,
	  offsetof(struct policy, network) },
	{ "credentials", POLICY_JSON_ARRAY, policy_dispatch_credentials, 0, false,
	  "an array of credential slots" },
	{ "logs", POLICY_JSON_OBJECT, policy_dispatch_logs, offsetof(struct policy, logs) },
	{ "artifacts", POLICY_JSON_OBJECT, policy_dispatch_artifacts,
	  offsetof(struct policy, artifacts) },
	{}
};

/* Values that hold before any key is read: the defaults of scalar fields. */
static struct policy *policy_alloc(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->identity.uid = POLICY_DEFAULT_UID;
	p->identity.gid = POLICY_DEFAULT_GID;
	p->limits.set = POLICY_LIMIT_WALL_TIME | POLICY_LIMIT_OPEN_FILES | POLICY_LIMIT_OUTPUT |
			POLICY_LIMIT_MEMORY | POLICY_LIMIT_PIDS | POLICY_LIMIT_CPU;
	p->limits.wall_time_ms = POLICY_DEFAULT_WALL_TIME_MS;
	p->limits.memory = POLICY_DEFAULT_MEMORY;
	p->limits.pids = POLICY_DEFAULT_PIDS;
	p->limits.cpu_milli = POLICY_DEFAULT_CPU_MILLI;
	p->limits.open_files = POLICY_DEFAULT_OPEN_FILES;
	p->limits.output = POLICY_DEFAULT_OUTPUT;
	p->filesystem.workspace_mode = POLICY_MODE_RO;
	p->filesystem.cgroup = true;
	p->seccomp = POLICY_SECCOMP_DEFAULT;
	p->logs.max_size = POLICY_DEFAULT_LOG_SIZE;
	p->logs.terminal = POLICY_LOGS_TERMINAL_NEUTRAL;
	p->artifacts.max_files = POLICY_DEFAULT_ARTIFACT_FILES;
	p->artifacts.max_size = POLICY_DEFAULT_ARTIFACT_SIZE;
	p->artifacts.max_file_size = POLICY_DEFAULT_ARTIFACT_FILE_SIZE;
	p->artifacts.scan = POLICY_ARTIFACTS_SCAN_REDACT;
	return p;
}

/* Normalisation: string defaults and the default environment. */
static int policy_normalize(struct policy_ctx *ctx)
{
	struct policy *p = ctx->p;
	int r;

	if (!p->name) {
		p->name = strdup(POLICY_DEFAULT_NAME);
		if (!p->name)
			return -ENOMEM;
	}
	if (!p->identity.hostname) {
		p->identity.hostname = strdup(POLICY_DEFAULT_HOSTNAME);
		if (!p->identity.hostname)
			return -ENOMEM;
	}
	if (!ctx->have_environment) {
		r = strv_push_copy(&p->environment, "LANG=" POLICY_DEFAULT_LANG);
		if (r < 0)
			return r;
		r = strv_push_copy(&p->environment, "PATH=" POLICY_DEFAULT_PATH);
		if (r < 0)
			return r;
	}
	policy_strv_sort_uniq(p->command_allow);
	return policy_filesystem_normalize(ctx);
}

/* Pass one: bytes to a JSON object, strictly. */
static int policy_load(const char *buf, size_t len, json_t **ret, struct policy_ctx *ctx)
{
	if (len > POLICY_MAX_BYTES)
		return policy_errorf(ctx, "", "policy is larger than %d bytes", POLICY_MAX_BYTES);
	return policy_json_load(ctx, buf, len, ret);
}

int policy_parse(const char *buf, size_t len, struct policy **ret, struct policy_error *reterr)
{
	_cleanup_policy_free_ struct policy *p = NULL;
	_cleanup_json_ json_t *j = NULL;
	struct policy_error scratch;
	struct policy_ctx ctx = { .err = reterr ? reterr : &scratch };
	int r;

	assert(buf || len == 0);
	assert(ret);

	r = policy_load(buf ? buf : "", len, &j, &ctx);
	if (r < 0)
		return r;

	p = policy_alloc();
	if (!p)
		return -ENOMEM;
	ctx.p = p;

	r = policy_dispatch("", j, root_table, p, &ctx);
	if (r < 0)
		return r;

	r = policy_filesystem_validate(&ctx);
	if (r < 0)
		return r;

	r = policy_normalize(&ctx);
	if (r < 0)
		return r;

	r = policy_credentials_validate(&ctx);
	if (r < 0)
		return r;

	r = policy_artifacts_validate(&ctx);
	if (r < 0)
		return r;

	r = policy_compute_digest(p);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(p);
	return 0;
}

int policy_new_default(struct policy **ret)
{
	static const char text[] = "{ \"version\": 1 }";
	struct policy_error e;
	int r;

	r = policy_parse(text, sizeof(text) - 1, ret, &e);
	/* The built-in text is valid; only allocation can fail. */
	assert(r != -EINVAL);
	return r;
}
