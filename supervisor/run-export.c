/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The export of a run's /out. The tmpfs at /out lives in the task's mount namespace, which
 * the kernel tears down with its last reference: the supervisor holds one (an nsfs fd of
 * /proc/<init>/ns/mnt, taken right after the clone, before any code of the task can run),
 * so that after the task and every process of the run are dead the namespace, and /out in
 * it, are still there. A forked helper joins the namespace just long enough to open /out
 * (O_PATH, no link followed) and hands the fd back; everything after that is relative to it
 * (artifacts/export.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "credentials.h"
#include "export.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "node-config.h"
#include "policy.h"
#include "record-json.h"
#include "redact.h"
#include "run-export-internal.h"
#include "run-export.h"
#include "run.h"

struct run_export {
	const struct policy *policy;
	struct redactor *redactor;
	int parent_fd; /* the destination's parent directory */
	int dst_fd; /* the partial directory, made by us: the export writes there */
	char name[NAME_MAX + 1]; /* the destination's name in parent_fd (empty until the end) */
	char partial[NAME_MAX + 1]; /* the partial directory's name in parent_fd */
	char path[2 * PATH_MAX + NAME_MAX]; /* the destination, absolute, for messages, record */
	int mntns_fd; /* the task's mount namespace, or -EBADF */
	bool used; /* export_tree() ran: the destination is the caller's now */
	struct statx dir_stx, partial_stx; /* what make_dirs() made: the reaper's proof */
	const char *incomplete; /* why the export stayed partial (the record's error), or NULL */
	struct export_manifest *manifest;
	char digest[65];
	int error; /* negative errno of a failed export, or 0 */
	int interrupted_by; /* the stop signal that cut the export short, or 0 */
	bool partial_kept; /* interrupted, and its partial directory could not be removed */
	uid_t uid;
	gid_t gid;
};

/* The caller: SUDO_UID/SUDO_GID when airlock runs under sudo, else the real ids. */
static void caller_ids(uid_t *uid, gid_t *gid)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	char *end;
	unsigned long u, g;

	*uid = getuid();
	*gid = getgid();
	if (!su || !sg || !*su || !*sg)
		return;
	errno = 0;
	u = strtoul(su, &end, 10);
	if (errno || *end || u >= UINT32_MAX)
		return;
	g = strtoul(sg, &end, 10);
	if (errno || *end || g >= UINT32_MAX)
		return;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
}

/* Makes name in parent_fd, fresh (it must not exist), and opens it into *fd. */
static int make_fresh(int parent_fd, const char *name, int *fd, struct statx *stx)
{
	if (mkdirat(parent_fd, name, 0700) < 0)
		return -errno;
	*fd = run_export_open_beneath(parent_fd, name, O_RDONLY | O_DIRECTORY);
	if (*fd < 0)
		return *fd;
	if (statx(*fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, stx) < 0)
		return -errno;
	if (stx->stx_uid != geteuid() || stx->stx_nlink != 2)
		return -EBADFD; /* replaced between the mkdir and the open */
	return 0;
}

/*
 * The destination DIR, made empty (its name is taken before the task starts), and beside it
 * the partial directory ".NAME.partial" the export writes into: renamed over DIR once the
 * whole export is written (run_export_finish()), so that DIR is either empty or complete,
 * whenever the supervisor dies.
 */
static int make_dirs(struct run_export *e)
{
	_cleanup_close_ int placeholder = -EBADF;
	int k;

	if (snprintf(e->partial, sizeof(e->partial), "." RUN_EXPORT_PARTIAL_FMT, e->name) >=
	    (int)sizeof(e->partial))
		return log_error_errno(-ENAMETOOLONG,
				       "refusing run: export directory '%s': its name is too long "
				       "for the partial directory beside it",
				       e->path);
	k = make_fresh(e->parent_fd, e->name, &placeholder, &e->dir_stx);
	if (k == -EEXIST)
		return log_error_errno(k,
				       "refusing run: export directory '%s' exists (airlock "
				       "makes it, fresh)",
				       e->path);
	if (k < 0)
		return log_error_errno(k, "refusing run: cannot make export directory '%s': %m",
				       e->path);
	k = make_fresh(e->parent_fd, e->partial, &e->dst_fd, &e->partial_stx);
	if (k < 0) {
		(void)unlinkat(e->parent_fd, e->name, AT_REMOVEDIR);
		e->dst_fd = safe_close(e->dst_fd);
		return log_error_errno(k,
				       "refusing run: cannot make '%s' beside export directory "
				       "'%s'%s: %m",
				       e->partial, e->path,
				       k == -EEXIST ? " (left by a killed run? remove it)" : "");
	}
	return 0;
}

/* --export DIR: its parent as the caller named it, its last component made fresh. */
static int dest_from_arg(struct run_export *e, const char *dir)
{
	_cleanup_free_ char *copy = strdup(dir);
	char *slash, cwd[PATH_MAX];
	const char *parent;

	if (!copy)
		return log_oom();
	while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
		copy[strlen(copy) - 1] = '\0';
	slash = strrchr(copy, '/');
	parent = slash ? (slash == copy ? "/" : copy) : ".";
	if (slash)
		*slash = '\0';
	snprintf(e->name, sizeof(e->name), "%s", slash ? slash + 1 : copy);
	if (!*e->name || streq(e->name, ".") || streq(e->name, ".."))
		return log_error_errno(-EINVAL,
				       "refusing run: --export '%s' names no new directory", dir);
	e->parent_fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (e->parent_fd < 0)
		return log_error_errno(-errno,
				       "refusing run: cannot open the directory of "
				       "--export '%s': %m",
				       dir);
	if (dir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		snprintf(e->path, sizeof(e->path), "%s", dir);
	else
		snprintf(e->path, sizeof(e->path), "%s/%s", cwd, dir);
	return 0;
}

/* The default: <state_dir>/artifacts/<run_id>. */
static int dest_default(struct run_export *e, int state_fd, const char *state_dir,
			const char *run_id)
{
	if (mkdirat(state_fd, RUN_EXPORT_STATE_SUBDIR, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "refusing run: cannot create '%s/%s': %m", state_dir,
				       RUN_EXPORT_STATE_SUBDIR);
	e->parent_fd =
		run_export_open_beneath(state_fd, RUN_EXPORT_STATE_SUBDIR, O_RDONLY | O_DIRECTORY);
	if (e->parent_fd < 0)
		return log_error_errno(e->parent_fd, "refusing run: cannot open '%s/%s': %m",
				       state_dir, RUN_EXPORT_STATE_SUBDIR);
	snprintf(e->name, sizeof(e->name), "%s", run_id);
	snprintf(e->path, sizeof(e->path), "%s/%s/%s", state_dir, RUN_EXPORT_STATE_SUBDIR, run_id);
	return 0;
}

struct add_ctx {
	struct redactor *r;
	int error;
};

/* Labels as in the logs (run-redact.c): [REDACTED:<slot>], [REDACTED:redact_patterns.<i>]. */
static void add_value(const char *name, const void *value, size_t len, void *userdata)
{
	struct add_ctx *c = userdata;
	int k;

	k = redactor_add_value(c->r, name, value, len);
	if (k < 0 && c->error == 0) {
		c->error = k;
		log_error_errno(
			k, "refusing run: the export's scan cannot take credential '%s': %m", name);
	}
}

/* The scan's redactor: the run's values, the built-in patterns and logs.redact_patterns. */
static int build_redactor(struct run_export *e, const struct credential_set *creds)
{
	struct add_ctx c = {};
	char name[sizeof("redact_patterns.") + 20];
	int k;

	k = redactor_new(true, &e->redactor);
	if (k < 0)
		return log_oom();
	c.r = e->redactor;
	credentials_for_each(creds, add_value, &c);
	if (c.error < 0)
		return c.error;
	for (size_t i = 0; e->policy->logs.redact_patterns && e->policy->logs.redact_patterns[i];
	     i++) {
		struct redact_pattern_error pe = {};

		snprintf(name, sizeof(name), "redact_patterns.%zu", i);
		k = redactor_add_pattern(e->redactor, name, e->policy->logs.redact_patterns[i],
					 &pe);
		if (k < 0)
			return log_error_errno(k, "refusing run: logs.redact_patterns[%zu]: %s", i,
					       k == -EINVAL ? pe.message : strerror(-k));
	}
	k = redactor_compile(e->redactor);
	if (k < 0)
		return log_error_errno(k, "Failed to compile the export's scan: %m");
	return 0;
}

int run_export_prepare(const struct policy *p, const char *dir, int state_fd, const char *state_dir,
		       const char *run_id, const struct credential_set *creds,
		       const struct node_artifacts *owner, struct run_export **ret)
{
	_cleanup_(run_export_freep) struct run_export *e = NULL;
	int k;

	*ret = NULL;
	if (!p->artifacts.enabled) {
		if (dir)
			return log_error_errno(
				-EINVAL, "refusing run: --export given, but the policy has no "
					 "\"artifacts\" section");
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return log_oom();
	*e = (struct run_export){
		.policy = p, .parent_fd = -EBADF, .dst_fd = -EBADF, .mntns_fd = -EBADF
	};
	if (owner && owner->has_owner) {
		e->uid = (uid_t)owner->owner_uid;
		e->gid = (gid_t)owner->owner_gid;
	} else
		caller_ids(&e->uid, &e->gid);
	k = dir ? dest_from_arg(e, dir) : dest_default(e, state_fd, state_dir, run_id);
	if (k < 0)
		return k;
	k = build_redactor(e, creds);
	if (k < 0)
		return k;
	k = make_dirs(e); /* last: the caller notes them for the reaper right after */
	if (k < 0)
		return k;
	*ret = TAKE_PTR(e);
	return 0;
}

int run_export_hold(struct run_export *e, pid_t init_pid)
{
	char path[64];

	if (!e)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)init_pid);
	e->mntns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->mntns_fd < 0)
		return log_error_errno(-errno, "Failed to hold the task's mount namespace for the "
					       "export: %m");
	return 0;
}

/*
 * In a forked child: joins the held mount namespace (its root is the task's root) and
 * opens /out there, O_PATH, no link followed; it must be a tmpfs and a mount's root.
 * Returns the fd or -errno. Never logs.
 */
static int child_open_out(int mntns_fd)
{
	_cleanup_close_ int root = -EBADF;
	struct statx stx;
	struct statfs sfs;
	int fd;

	if (setns(mntns_fd, CLONE_NEWNS) < 0)
		return -errno;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	fd = run_export_open_beneath(root, "out", O_PATH | O_DIRECTORY);
	if (fd < 0)
		return fd;
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC ||
	    statx(fd, "", AT_EMPTY_PATH, 0, &stx) < 0 ||
	    !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ||
	    !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return -EMEDIUMTYPE;
	return fd;
}

/* Sends fd (or, when negative, the error alone) over sock. */
static void child_send(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	int32_t err = fd < 0 ? fd : 0;
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	(void)sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* Receives what child_send() sent: the fd, or -errno. */
static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	int32_t err = -EIO;
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd = -EBADF;
	ssize_t n;

	n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n < (ssize_t)sizeof(err))
		return n < 0 ? -errno : -EIO;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (err < 0) {
		safe_close(fd);
		return err;
	}
	return fd >= 0 ? fd : -EIO;
}

/* /out of the held namespace, as an O_PATH fd of the supervisor. */
static int open_out(int mntns_fd)
{
	int sv[2], fd, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		fd = -errno;
		safe_close(sv[0]);
		safe_close(sv[1]);
		return fd;
	}
	if (pid == 0) {
		child_send(sv[1], child_open_out(mntns_fd));
		_exit(0);
	}
	safe_close(sv[1]);
	fd = recv_fd(sv[0]);
	safe_close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return fd;
}

static enum export_scan scan_of(enum policy_artifacts_scan s)
{
	switch (s) {
	case POLICY_ARTIFACTS_SCAN_REJECT:
		return EXPORT_SCAN_REJECT;
	case POLICY_ARTIFACTS_SCAN_OFF:
		return EXPORT_SCAN_OFF;
	case POLICY_ARTIFACTS_SCAN_REDACT:
	case _POLICY_ARTIFACTS_SCAN_MAX:
	case _POLICY_ARTIFACTS_SCAN_INVALID:
	default:
		return EXPORT_SCAN_REDACT;
	}
}

static void log_outcome(const struct run_export *e)
{
	const struct export_manifest *m = e->manifest;

	log_info("artifacts: %" PRIu64 " files (%" PRIu64 " bytes) exported to '%s', %" PRIu64
		 " skipped, %" PRIu64 " redactions%s%s",
		 m->files, m->bytes, e->path, m->skipped, m->redactions,
		 m->stop != EXPORT_STOP_NONE ? "; stopped by " : "",
		 m->stop != EXPORT_STOP_NONE ? export_stop_to_string(m->stop) : "");
}

int run_export_options(const struct run_export *e, struct export_options *ret, int *ret_dst_fd,
		       const char **ret_path)
{
	const struct export_manifest *m;
	const struct policy_artifacts *a;
	uint64_t used_files = 0, used_bytes = 0;

	if (!e)
		return -ENOENT;
	a = &e->policy->artifacts;
	/* One budget for the whole export: what /out's export used is not left for another. */
	if (e->manifest) {
		m = e->manifest;
		used_files = m->files + m->directories;
		used_bytes = m->bytes;
	}
	*ret = (struct export_options){
		.max_files = a->max_files - MIN(used_files, a->max_files),
		.max_size = a->max_size - MIN(used_bytes, a->max_size),
		.max_file_size = a->max_file_size,
		.include = a->include,
		.scan = scan_of(a->scan),
		.redactor = e->redactor,
		.uid = e->uid,
		.gid = e->gid,
		.stop_pending = run_stop_pending,
	};
	*ret_dst_fd = e->dst_fd;
	*ret_path = e->path;
	return 0;
}

int run_export_collect(struct run_export *e)
{
	_cleanup_close_ int out = -EBADF;
	struct export_options o;
	const char *unused_path;
	int unused_fd;

	if (!e)
		return 0;
	if (e->mntns_fd < 0)
		e->error = -EBADF;
	else
		e->error = out = open_out(e->mntns_fd);
	if (e->error < 0)
		return log_error_errno(e->error,
				       "Failed to open the task's /out for the export: %m");
	e->mntns_fd = safe_close(e->mntns_fd);
	(void)run_export_options(e, &o, &unused_fd, &unused_path);
	e->used = true;
	e->error = export_tree(out, e->dst_fd, &o, &e->manifest, e->digest);
	if (e->error == -EINTR)
		return e->error; /* run_export_finish() says so, once, and removes what it wrote */
	if (e->error == -ENOSYS)
		return log_error_errno(e->error, "Failed to export /out: openat2() is missing "
						 "(Linux 5.6 or later needed)");
	if (e->error < 0)
		return log_error_errno(e->error, "Failed to export /out to '%s': %m", e->path);
	e->error = 0;
	log_outcome(e);
	return 0;
}

/* The record of an export a stop signal cut short: why, and by which signal. */
static json_t *interrupted_to_json(const struct run_export *e, json_t *o)
{
	char why[160], sig[16];

	snprintf(sig, sizeof(sig), "SIG%s", sigabbrev_np(e->interrupted_by) ?: "?");
	snprintf(why, sizeof(why), "interrupted by %s: the export was cut short (%s)", sig,
		 e->partial_kept ? "what it wrote stays in the partial directory beside the "
				   "export directory, which stays empty"
				 : "what it wrote is removed; the export directory stays empty");
	if (json_object_set_new(o, "error", json_string(why)) < 0 ||
	    json_object_set_new(o, "interrupted_by", json_string(sig)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *run_export_to_json(const struct run_export *e)
{
	const struct export_manifest *m;
	char digest[80];
	json_t *o;

	if (!e)
		return NULL;
	m = e->manifest;
	/* The path as given: any bytes (--export), as a record byte string. */
	o = json_pack("{s:o, s:s}", "path", record_json_bytes(e->path), "scan",
		      policy_artifacts_scan_to_string(e->policy->artifacts.scan));
	if (!o)
		return NULL;
	if (e->interrupted_by > 0)
		return interrupted_to_json(e, o);
	if (e->error < 0 || !m || e->incomplete) {
		const char *why = e->incomplete	 ? e->incomplete
				  : e->error < 0 ? strerror(-e->error)
						 : "the task did not run";

		if (json_object_set_new(o, "error", json_string(why)) < 0) {
			json_decref(o);
			return NULL;
		}
		return o;
	}
	snprintf(digest, sizeof(digest), "sha256:%s", e->digest);
	if (json_object_set_new(o, "manifest_digest", json_string(digest)) < 0 ||
	    json_object_set_new(o, "complete", json_boolean(m->stop == EXPORT_STOP_NONE)) < 0 ||
	    json_object_set_new(o, "files", json_integer((json_int_t)m->files)) < 0 ||
	    json_object_set_new(o, "directories", json_integer((json_int_t)m->directories)) < 0 ||
	    json_object_set_new(o, "bytes", json_integer((json_int_t)m->bytes)) < 0 ||
	    json_object_set_new(o, "skipped", json_integer((json_int_t)m->skipped)) < 0 ||
	    json_object_set_new(o, "redactions", json_integer((json_int_t)m->redactions)) < 0 ||
	    json_object_set_new(o, "files_redacted", json_integer((json_int_t)m->files_redacted)) <
		    0 ||
	    json_object_set_new(o, "files_rejected", json_integer((json_int_t)m->files_rejected)) <
		    0 ||
	    (m->stop != EXPORT_STOP_NONE &&
	     json_object_set_new(o, "stopped_by", json_string(export_stop_to_string(m->stop))) <
		     0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static bool partial_is_made(const struct run_export *e);

/*
 * A stop signal came during the export (/out's or the workspace's): what it wrote goes, as
 * the reaper would remove it, and DIR stays empty, as after a failed export. The removal is
 * not cut short in turn: it is bounded by what the export wrote before the signal.
 */
static int finish_interrupted(struct run_export *e, int sig)
{
	const char *name = sigabbrev_np(sig) ?: "?", *why = "it was replaced while the task ran";
	int k = -ESTALE; /* the partial directory is not ours any more: it stays */

	e->interrupted_by = sig;
	e->error = -EINTR;
	if (partial_is_made(e))
		k = run_export_remove_tree(e->parent_fd, e->partial, false);
	e->partial_kept = k < 0;
	if (k < 0 && k != -ESTALE)
		why = strerror(-k);
	if (k < 0)
		return log_error_errno(-EINTR,
				       "the export to '%s' was interrupted by SIG%s: what it wrote "
				       "stays in '%s' beside it (%s), which stays empty",
				       e->path, name, e->partial, why);
	return log_error_errno(-EINTR,
			       "the export to '%s' was interrupted by SIG%s: what it wrote is "
			       "removed, '%s' stays empty",
			       e->path, name, e->path);
}

int run_export_finish(struct run_export *e, bool ok)
{
	int sig;

	if (!e || !e->used)
		return 0;
	sig = e->error < 0 || !ok ? run_stop_pending() : 0;
	if (sig > 0)
		return finish_interrupted(e, sig);
	/*
	 * Renamed by name: a task that sees it (DIR in its read-write workspace) may have put
	 * a directory of its own in its place, which must not become the export. Its
	 * processes are all dead now: what is checked stays so until the rename.
	 */
	if (e->error == 0 && ok && !partial_is_made(e)) {
		e->incomplete =
			"not in place: its partial directory was replaced while the task ran";
		return log_error_errno(
			-EXDEV,
			"the export is not complete: its partial directory '%s' beside "
			"'%s' was replaced while the task ran; DIR stays empty",
			e->partial, e->path);
	}
	if (e->error == 0 && ok) {
		/* DIR is the empty directory made before the task: replaced whole, at once. */
		if (renameat(e->parent_fd, e->partial, e->parent_fd, e->name) == 0)
			return 0;
		e->error = -errno;
		log_error_errno(e->error, "Failed to move the export into place at '%s': %m",
				e->path);
	}
	if (e->error == 0)
		e->incomplete = "not complete: the workspace's changes could not be exported (left "
				"in the partial directory beside the export directory)";
	return log_error_errno(e->error < 0 ? e->error : -ECANCELED,
			       "the export is not complete: it stays in '%s' beside '%s', which "
			       "stays empty",
			       e->partial, e->path);
}

/* Whether the partial directory is still the one make_dirs() made (and the export wrote). */
static bool partial_is_made(const struct run_export *e)
{
	struct dir_id id;

	run_export_dir_id_of(&e->partial_stx, &id);
	return run_export_is_dir_id(e->parent_fd, e->partial, &id);
}

int run_export_note(const struct run_export *e, char *buf, size_t size)
{
	char proc[64], parent[PATH_MAX];
	struct dir_id d, p;
	ssize_t n;

	if (!e || e->used || e->parent_fd < 0 || e->dst_fd < 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", e->parent_fd);
	n = readlink(proc, parent, sizeof(parent) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	parent[n] = '\0';
	if (parent[0] != '/')
		return -ENOENT;
	run_export_dir_id_of(&e->dir_stx, &d);
	run_export_dir_id_of(&e->partial_stx, &p);
	n = snprintf(buf, size, "%ju %ju %ju %ju %ju %ju %ju %ju %s%s%s", d.dev, d.ino, d.btime_s,
		     d.btime_ns, p.dev, p.ino, p.btime_s, p.btime_ns, parent,
		     streq(parent, "/") ? "" : "/", e->name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 1;
}

bool run_export_is_used(const struct run_export *e)
{
	return e && e->used;
}

int run_export_interrupted_by(const struct run_export *e)
{
	return e ? e->interrupted_by : 0;
}

struct run_export *run_export_free(struct run_export *e)
{
	if (!e)
		return NULL;
	/* A run refused or ended before the export: its fresh, empty directories go. */
	if (!e->used && e->parent_fd >= 0 && e->dst_fd >= 0) {
		(void)unlinkat(e->parent_fd, e->partial, AT_REMOVEDIR);
		(void)unlinkat(e->parent_fd, e->name, AT_REMOVEDIR);
	}
	safe_close(e->dst_fd);
	safe_close(e->parent_fd);
	safe_close(e->mntns_fd);
	redactor_free(e->redactor);
	export_manifest_free(e->manifest);
	free(e);
	return NULL;
}
