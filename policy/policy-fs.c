/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "filesystem" section: workspace mode, binds, tmpfs mounts, the Landlock exec
 * allowlist, the rootfs, host /etc entries and the cgroup view; mount-target collision
 * checks; defaults.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "path-util.h"
#include "parse-util.h"
#include "policy-internal.h"
#include "strv.h"

/*
 * Mount points airlock itself creates in the sandbox root: its own pseudo filesystems,
 * the workspace, the system directories bound from the host (or rootfs), and the
 * merged-/usr links. A bind or tmpfs target may be neither one of them nor below one.
 */
static const char *const reserved_targets[] = {
	"/bin",	 "/dev", "/etc",  "/lib", "/lib32", "/lib64",	  "/libx32",
	"/proc", "/run", "/sbin", "/sys", "/usr",   "/workspace",
};

/*
 * /etc entries that stay airlock's: the files it generates (sandbox/mountns.c) and the
 * host entries it binds by default (sandbox/mounts.c). filesystem.etc may name neither,
 * nor anything below one.
 */
static const char *const etc_generated[] = { "passwd",	 "group",	"hosts",
					     "hostname", "resolv.conf", "nsswitch.conf" };
static const char *const etc_default[] = { "ssl",	  "ca-certificates", "alternatives",
					   "ld.so.cache", "ld.so.conf",	     "ld.so.conf.d",
					   "localtime",	  "protocols",	     "services",
					   "mime.types" };

static const struct policy_tmpfs default_tmpfs[] = {
	{ (char *)"/out", 64ULL << 20 },
	{ (char *)"/tmp", 256ULL << 20 },
};

static int dispatch_path(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	if (!policy_path_is_normal(json_string_value(v)))
		return policy_errorf(ctx, path,
				     "expected an absolute normalised path (no \"..\", \".\", "
				     "\"//\" or trailing \"/\")");
	return policy_dispatch_string(path, v, data, ctx);
}

const char *policy_reserved_target(const char *path)
{
	for (size_t i = 0; i < ELEMENTSOF(reserved_targets); i++)
		if (path_is_beneath(path, reserved_targets[i]))
			return reserved_targets[i];
	return NULL;
}

static int dispatch_target(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	const char *s = json_string_value(v), *reserved;
	int r;

	r = dispatch_path(path, v, data, ctx);
	if (r < 0)
		return r;
	if (streq(s, "/"))
		return policy_errorf(ctx, path, "expected a mount target other than \"/\"");
	reserved = policy_reserved_target(s);
	if (reserved)
		return policy_errorf(ctx, path, "\"%s\" is reserved by airlock", reserved);
	return 0;
}

static int dispatch_rootfs(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	int r;

	r = dispatch_path(path, v, data, ctx);
	if (r < 0)
		return r;
	if (streq(json_string_value(v), "/"))
		return policy_errorf(ctx, path,
				     "expected a directory other than \"/\" (omit \"rootfs\" to "
				     "use the host's system directories)");
	return 0;
}

static int dispatch_mode(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	enum policy_mode *m = data;
	enum policy_mode r;

	r = policy_mode_from_string(json_string_value(v));
	if (r < 0 || r == POLICY_MODE_OVERLAY)
		return policy_errorf(ctx, path, "expected \"ro\" or \"rw\"");
	*m = r;
	return 0;
}

static int dispatch_workspace_mode(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	enum policy_mode *m = data;
	enum policy_mode r;

	r = policy_mode_from_string(json_string_value(v));
	if (r < 0)
		return policy_errorf(ctx, path, "expected \"ro\", \"rw\" or \"overlay\"");
	*m = r;
	return 0;
}

static int dispatch_bind(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "source", POLICY_JSON_STRING, dispatch_path, offsetof(struct policy_bind, source),
		  true, "an absolute path" },
		{ "target", POLICY_JSON_STRING, dispatch_target,
		  offsetof(struct policy_bind, target), true, "an absolute path" },
		{ "mode", POLICY_JSON_STRING, dispatch_mode, offsetof(struct policy_bind, mode),
		  false, "\"ro\" or \"rw\"" },
		{}
	};
	struct policy_bind *b = data;

	b->mode = POLICY_MODE_RO;
	return policy_dispatch(path, v, table, b, ctx);
}

static int dispatch_tmpfs_size(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char lo[32], hi[32];
	uint64_t *size = data;

	if (parse_size(json_string_value(v), size) < 0)
		return policy_errorf(ctx, path, "expected a size like \"256M\"");
	if (*size < POLICY_MIN_TMPFS_SIZE || *size > POLICY_MAX_SIZE) {
		format_size(POLICY_MIN_TMPFS_SIZE, lo, sizeof(lo));
		format_size(POLICY_MAX_SIZE, hi, sizeof(hi));
		return policy_errorf(ctx, path, "expected a size in %s..%s", lo, hi);
	}
	return 0;
}

/* { "mode": "ro" | "rw" | "overlay", "size": "512M" }: a size only for an overlay. */
static int dispatch_workspace(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "mode", POLICY_JSON_STRING, dispatch_workspace_mode,
		  offsetof(struct policy_filesystem, workspace_mode), true,
		  "\"ro\", \"rw\" or \"overlay\"" },
		{ "size", POLICY_JSON_STRING, dispatch_tmpfs_size,
		  offsetof(struct policy_filesystem, workspace_size), false,
		  "a size like \"512M\"" },
		{}
	};
	struct policy_filesystem *fs = data;
	char child[POLICY_MAX_PATH];
	int r;

	r = policy_dispatch(path, v, table, fs, ctx);
	if (r < 0)
		return r;
	if (fs->workspace_mode != POLICY_MODE_OVERLAY && fs->workspace_size > 0) {
		snprintf(child, sizeof(child), "%s/size", path);
		return policy_errorf(ctx, child,
				     "a size applies only to an \"overlay\" workspace (its upper "
				     "layer)");
	}
	if (fs->workspace_mode == POLICY_MODE_OVERLAY && fs->workspace_size == 0)
		fs->workspace_size = POLICY_DEFAULT_WORKSPACE_SIZE;
	return 0;
}

static int dispatch_tmpfs_entry(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "target", POLICY_JSON_STRING, dispatch_target,
		  offsetof(struct policy_tmpfs, target), true, "an absolute path" },
		{ "size", POLICY_JSON_STRING, dispatch_tmpfs_size,
		  offsetof(struct policy_tmpfs, size), true, "a size like \"256M\"" },
		{}
	};

	return policy_dispatch(path, v, table, data, ctx);
}

/* Allocates n elements of size sz for a JSON array and dispatches each with fn. */
static int dispatch_array(const char *path, json_t *v, size_t max, size_t sz, void **items,
			  size_t *n_items, policy_dispatch_fn fn, struct policy_ctx *ctx)
{
	char child[POLICY_MAX_PATH];
	size_t n = json_array_size(v);
	int r;

	if (n > max)
		return policy_errorf(ctx, path, "expected at most %zu entries", max);
	*items = calloc(n ? n : 1, sz);
	if (!*items)
		return -ENOMEM;
	*n_items = n;
	for (size_t i = 0; i < n; i++) {
		policy_path_index(child, sizeof(child), path, i);
		r = fn(child, json_array_get(v, i), (char *)*items + i * sz, ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

static int dispatch_binds(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_filesystem *fs = data;

	return dispatch_array(path, v, POLICY_MAX_BINDS, sizeof(struct policy_bind),
			      (void **)&fs->binds, &fs->n_binds, dispatch_bind, ctx);
}

static int dispatch_tmpfs(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct policy_filesystem *fs = data;

	ctx->have_tmpfs = true;
	return dispatch_array(path, v, POLICY_MAX_TMPFS, sizeof(struct policy_tmpfs),
			      (void **)&fs->tmpfs, &fs->n_tmpfs, dispatch_tmpfs_entry, ctx);
}

static int dispatch_exec(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char ***exec = data;
	char child[POLICY_MAX_PATH];
	size_t i;
	json_t *e;
	int r;

	if (json_array_size(v) == 0)
		return policy_errorf(ctx, path,
				     "expected at least one path (omit \"exec\" to "
				     "not restrict execution)");
	if (json_array_size(v) > POLICY_MAX_EXEC)
		return policy_errorf(ctx, path, "expected at most %d paths", POLICY_MAX_EXEC);

	json_array_foreach(v, i, e)
	{
		policy_path_index(child, sizeof(child), path, i);
		if (!json_is_string(e) || !policy_path_is_normal(json_string_value(e)))
			return policy_errorf(ctx, child, "expected an absolute normalised path");
		r = strv_push_copy(exec, json_string_value(e));
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether name (relative to /etc) is first or lies below first ("ssl/certs" in "ssl"). */
static bool etc_name_is_beneath(const char *name, const char *first)
{
	size_t n = strlen(first);

	return strneq(name, first, n) && (name[n] == '\0' || name[n] == '/');
}

static int check_etc_name(const char *path, const char *name, struct policy_ctx *ctx)
{
	char abs[POLICY_MAX_ETC_NAME + 2];

	if (strlen(name) > POLICY_MAX_ETC_NAME)
		return policy_errorf(ctx, path, "expected a name of at most %d bytes",
				     POLICY_MAX_ETC_NAME);
	snprintf(abs, sizeof(abs), "/%s", name);
	if (name[0] == '/' || streq(abs, "/") || !policy_path_is_normal(abs))
		return policy_errorf(ctx, path,
				     "expected a name relative to /etc (like \"java-17-openjdk\" "
				     "or \"ssl/certs\"; no leading \"/\", no \"..\", \".\", "
				     "\"//\" or trailing \"/\")");
	for (size_t i = 0; i < ELEMENTSOF(etc_generated); i++)
		if (etc_name_is_beneath(name, etc_generated[i]))
			return policy_errorf(ctx, path,
					     "\"/etc/%s\" is generated by airlock and cannot be "
					     "taken from the host",
					     etc_generated[i]);
	for (size_t i = 0; i < ELEMENTSOF(etc_default); i++)
		if (etc_name_is_beneath(name, etc_default[i]))
			return policy_errorf(ctx, path,
					     "\"/etc/%s\" is bound from the host by airlock "
					     "already",
					     etc_default[i]);
	return 0;
}

static int dispatch_etc(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	char ***etc = data;
	char child[POLICY_MAX_PATH];
	size_t i;
	json_t *e;
	int r;

	if (json_array_size(v) == 0)
		return policy_errorf(ctx, path,
				     "expected at least one name (omit \"etc\" to take no more "
				     "of the host's /etc)");
	if (json_array_size(v) > POLICY_MAX_ETC)
		return policy_errorf(ctx, path, "expected at most %d names", POLICY_MAX_ETC);

	json_array_foreach(v, i, e)
	{
		policy_path_index(child, sizeof(child), path, i);
		if (!json_is_string(e))
			return policy_errorf(ctx, child, "expected a name relative to /etc");
		r = check_etc_name(child, json_string_value(e), ctx);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++) {
			const char *a = json_string_value(e), *b = (*etc)[j];

			if (etc_name_is_beneath(a, b) || etc_name_is_beneath(b, a))
				return policy_errorf(ctx, child,
						     "\"%s\" collides with /filesystem/etc/%zu "
						     "(\"%s\"): entries may not be equal or nested",
						     a, j, b);
		}
		r = strv_push_copy(etc, json_string_value(e));
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_dispatch_filesystem(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	static const struct policy_field table[] = {
		{ "workspace", POLICY_JSON_OBJECT, dispatch_workspace, 0 },
		{ "binds", POLICY_JSON_ARRAY, dispatch_binds, 0 },
		{ "tmpfs", POLICY_JSON_ARRAY, dispatch_tmpfs, 0 },
		{ "exec", POLICY_JSON_ARRAY, dispatch_exec,
		  offsetof(struct policy_filesystem, exec), false, "an array of absolute paths" },
		{ "rootfs", POLICY_JSON_STRING, dispatch_rootfs,
		  offsetof(struct policy_filesystem, rootfs), false, "an absolute path" },
		{ "etc", POLICY_JSON_ARRAY, dispatch_etc, offsetof(struct policy_filesystem, etc),
		  false, "an array of names relative to /etc" },
		{ "cgroup", POLICY_JSON_BOOLEAN, policy_dispatch_bool,
		  offsetof(struct policy_filesystem, cgroup) },
		{}
	};

	return policy_dispatch(path, v, table, data, ctx);
}

/* One mount target and where it came from, for collision messages. */
struct target_ref {
	const char *target;
	char path[64];
};

static void collect_targets(const struct policy_filesystem *fs, bool have_tmpfs,
			    struct target_ref *refs, size_t *n)
{
	const struct policy_tmpfs *tmpfs = have_tmpfs ? fs->tmpfs : default_tmpfs;
	size_t n_tmpfs = have_tmpfs ? fs->n_tmpfs : ELEMENTSOF(default_tmpfs);

	*n = 0;
	for (size_t i = 0; i < n_tmpfs; i++) {
		refs[*n].target = tmpfs[i].target;
		if (have_tmpfs)
			snprintf(refs[*n].path, sizeof(refs[*n].path), "/filesystem/tmpfs/%zu", i);
		else
			snprintf(refs[*n].path, sizeof(refs[*n].path), "the default tmpfs");
		(*n)++;
	}
	for (size_t i = 0; i < fs->n_binds; i++) {
		refs[*n].target = fs->binds[i].target;
		snprintf(refs[*n].path, sizeof(refs[*n].path), "/filesystem/binds/%zu", i);
		(*n)++;
	}
}

int policy_filesystem_validate(struct policy_ctx *ctx)
{
	struct target_ref refs[POLICY_MAX_BINDS + POLICY_MAX_TMPFS];
	char path[POLICY_MAX_PATH];
	size_t n;

	/* The changes of an overlay go out through the export, or nowhere. */
	if (ctx->p->filesystem.workspace_mode == POLICY_MODE_OVERLAY && !ctx->p->artifacts.enabled)
		return policy_errorf(ctx, "/filesystem/workspace/mode",
				     "an \"overlay\" workspace needs an \"artifacts\" section: "
				     "its changes are exported through it");

	collect_targets(&ctx->p->filesystem, ctx->have_tmpfs, refs, &n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			if (!path_is_beneath(refs[j].target, refs[i].target) &&
			    !path_is_beneath(refs[i].target, refs[j].target))
				continue;
			snprintf(path, sizeof(path), "%s/target", refs[i].path);
			return policy_errorf(ctx, path,
					     "\"%s\" collides with %s (\"%s\"): mount targets "
					     "may not be equal or nested",
					     refs[i].target, refs[j].path, refs[j].target);
		}
	return 0;
}

static int bind_cmp(const void *a, const void *b)
{
	return strcmp(((const struct policy_bind *)a)->target,
		      ((const struct policy_bind *)b)->target);
}

static int tmpfs_cmp(const void *a, const void *b)
{
	return strcmp(((const struct policy_tmpfs *)a)->target,
		      ((const struct policy_tmpfs *)b)->target);
}

int policy_filesystem_normalize(struct policy_ctx *ctx)
{
	struct policy_filesystem *fs = &ctx->p->filesystem;

	if (!ctx->have_tmpfs) {
		fs->tmpfs = calloc(ELEMENTSOF(default_tmpfs), sizeof(struct policy_tmpfs));
		if (!fs->tmpfs)
			return -ENOMEM;
		for (size_t i = 0; i < ELEMENTSOF(default_tmpfs); i++) {
			fs->tmpfs[i].target = strdup(default_tmpfs[i].target);
			if (!fs->tmpfs[i].target)
				return -ENOMEM;
			fs->tmpfs[i].size = default_tmpfs[i].size;
			fs->n_tmpfs = i + 1;
		}
	}
	if (fs->n_binds > 1)
		qsort(fs->binds, fs->n_binds, sizeof(*fs->binds), bind_cmp);
	if (fs->n_tmpfs > 1)
		qsort(fs->tmpfs, fs->n_tmpfs, sizeof(*fs->tmpfs), tmpfs_cmp);
	/* exec and etc keep the file's order: run-time refusals name /filesystem/exec/N. */
	return 0;
}
