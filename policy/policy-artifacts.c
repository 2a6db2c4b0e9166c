/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "artifacts" section: what of the task's /out is exported after the run
 * (docs/artifacts.md). Absent: nothing is exported and /out goes with the run. The globs
 * are only checked for shape here; supervisor/artifacts/glob.c matches them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse-util.h"
#include "policy-internal.h"
#include "strv.h"

static const char *const scan_names[_POLICY_ARTIFACTS_SCAN_MAX] = {
	[POLICY_ARTIFACTS_SCAN_REDACT] = "redact",
	[POLICY_ARTIFACTS_SCAN_REJECT] = "reject",
	[POLICY_ARTIFACTS_SCAN_OFF] = "off",
};

const char *policy_artifacts_scan_to_string(enum policy_artifacts_scan s)
{
	if (s < 0 || s >= _POLICY_ARTIFACTS_SCAN_MAX)
		return NULL;
	return scan_names[s];
}

enum policy_artifacts_scan policy_artifacts_scan_from_string(const char *s)
{
	for (int i = 0; s && i < _POLICY_ARTIFACTS_SCAN_MAX; i++)
		if (streq(scan_names[i], s))
			return (enum policy_artifacts_scan)i;
	return _POLICY_ARTIFACTS_SCAN_INVALID;
}

static int dispatch_max_files(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	return policy_json_uint(ctx, path, v, 1, POLICY_MAX_ARTIFACT_FILES, data);
}

static int dispatch_size(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char hi[32];
	uint64_t s;

	if (parse_size(json_string_value(v), &s) < 0)
		return policy_errorf(ctx, path, "expected a size like \"256M\"");
	if (s < 1 || s > POLICY_MAX_SIZE) {
		format_size(POLICY_MAX_SIZE, hi, sizeof(hi));
		return policy_errorf(ctx, path, "expected a size in 1..%s", hi);
	}
	*(uint64_t *)data = s;
	return 0;
}

/* Relative, no empty, "." or ".." component, not ending in a lone '\'. */
static bool glob_is_valid(const char *g)
{
	size_t n = strlen(g), backslashes = 0;

	if (n == 0 || n > POLICY_MAX_ARTIFACT_GLOB || g[0] == '/')
		return false;
	for (const char *c = g;;) {
		size_t len = strcspn(c, "/");

		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && strneq(c, "..", 2)))
			return false;
		if (!c[len])
			break;
		c += len + 1;
	}
	while (backslashes < n && g[n - 1 - backslashes] == '\\')
		backslashes++;
	return backslashes % 2 == 0;
}

static int dispatch_include(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char ***include = data;
	char child[POLICY_MAX_PATH];
	size_t i;
	json_t *e;
	int r;

	if (json_array_size(v) == 0 || json_array_size(v) > POLICY_MAX_ARTIFACT_GLOBS)
		return policy_errorf(ctx, path, "expected 1..%d globs", POLICY_MAX_ARTIFACT_GLOBS);
	json_array_foreach(v, i, e)
	{
		policy_path_index(child, sizeof(child), path, i);
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e) ||
		    !glob_is_valid(json_string_value(e)))
			return policy_errorf(ctx, child,
					     "expected a relative glob of at most %d bytes without "
					     "empty, \".\" or \"..\" components",
					     POLICY_MAX_ARTIFACT_GLOB);
		r = strv_push_copy(include, json_string_value(e));
		if (r < 0)
			return r;
	}
	return 0;
}

static int dispatch_scan(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	enum policy_artifacts_scan s = policy_artifacts_scan_from_string(json_string_value(v));

	if (s < 0)
		return policy_errorf(ctx, path, "expected \"redact\", \"reject\" or \"off\"");
	*(enum policy_artifacts_scan *)data = s;
	return 0;
}

int policy_dispatch_artifacts(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "max_files", POLICY_JSON_INTEGER, dispatch_max_files,
		  offsetof(struct policy_artifacts, max_files), false, "an integer" },
		{ "max_size", POLICY_JSON_STRING, dispatch_size,
		  offsetof(struct policy_artifacts, max_size), false, "a size like \"1G\"" },
		{ "max_file_size", POLICY_JSON_STRING, dispatch_size,
		  offsetof(struct policy_artifacts, max_file_size), false, "a size like \"256M\"" },
		{ "include", POLICY_JSON_ARRAY, dispatch_include,
		  offsetof(struct policy_artifacts, include), false, "an array of globs" },
		{ "scan", POLICY_JSON_STRING, dispatch_scan,
		  offsetof(struct policy_artifacts, scan), false,
		  "\"redact\", \"reject\" or \"off\"" },
		{}
	};
	struct policy_artifacts *a = data;

	a->enabled = true;
	return policy_dispatch(path, v, table, data, ctx);
}

int policy_artifacts_validate(struct policy_ctx *ctx)
{
	const struct policy_filesystem *fs = &ctx->p->filesystem;

	if (!ctx->p->artifacts.enabled)
		return 0;
	for (size_t i = 0; i < fs->n_tmpfs; i++)
		if (streq(fs->tmpfs[i].target, "/out"))
			return 0;
	return policy_errorf(ctx, "/artifacts",
			     "exports /out, which needs a filesystem.tmpfs entry at \"/out\"");
}

json_t *policy_artifacts_tree(const struct policy_artifacts *a)
{
	json_t *include = json_array();
	char size[32], file_size[32];
	int r = 0;

	if (!include)
		return NULL;
	if (!a->include)
		r = json_array_append_new(include, json_string("**"));
	for (size_t i = 0; r == 0 && a->include && a->include[i]; i++)
		r = json_array_append_new(include, json_string(a->include[i]));
	if (r < 0) {
		json_decref(include);
		return NULL;
	}
	format_size(a->max_size, size, sizeof(size));
	format_size(a->max_file_size, file_size, sizeof(file_size));
	/* "o" steals the include array, also when the pack fails. */
	return json_pack("{s:I, s:s, s:s, s:o, s:s}", "max_files", (json_int_t)a->max_files,
			 "max_size", size, "max_file_size", file_size, "include", include, "scan",
			 policy_artifacts_scan_to_string(a->scan));
}
