// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cgroup module's common half: layout detection, run lifecycle dispatch to the v1
 * and v2 backends, directory handling shared by both, and the reaping of runs that a
 * killed supervisor left behind. Non-logging apart from log_debug().
 */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cleanup.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "policy.h"

#define PROC_CGROUP_INIT_INO 0xEFFFFFFBU /* the initial cgroup namespace's inode */
#define CGROUP_FILE_MAX (64 * 1024)
#define CGROUP_RMDIR_DEPTH 16

/* ---- small file helpers ---- */

int cgroup_read_at(int dir_fd, const char *file, char **ret)
{
	return read_file_at(dir_fd, file, CGROUP_FILE_MAX, ret, NULL);
}

int cgroup_read_u64_at(int dir_fd, const char *file, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = cgroup_read_at(dir_fd, file, &s);
	if (r < 0)
		return r;
	return cgroup_parse_u64(s, ret);
}

int cgroup_read_keyed_at(int dir_fd, const char *file, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = cgroup_read_at(dir_fd, file, &s);
	if (r < 0)
		return r;
	return cgroup_parse_keyed(s, key, ret);
}

void cgroup_get_keys_at(int dir_fd, const char *file, const struct cgroup_key *keys, size_t n)
{
	_cleanup_free_ char *text = NULL;
	uint64_t x;

	if (dir_fd < 0 || cgroup_read_at(dir_fd, file, &text) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (cgroup_parse_keyed(text, keys[i].key, &x) >= 0)
			*keys[i].value = x;
}

void cgroup_get_u64_at(int dir_fd, const char *file, uint64_t *value)
{
	uint64_t x;

	if (dir_fd >= 0 && cgroup_read_u64_at(dir_fd, file, &x) >= 0)
		*value = x;
}

int cgroup_write_at(int dir_fd, const char *file, const char *value)
{
	return write_string_at(dir_fd, file, value);
}

int cgroup_write_u64_at(int dir_fd, const char *file, uint64_t value)
{
	char buf[sizeof("18446744073709551615")];

	snprintf(buf, sizeof(buf), "%" PRIu64, value);
	return write_string_at(dir_fd, file, buf);
}

void cgroup_wait_step(void)
{
	struct timespec ts = { 0, CGROUP_WAIT_STEP_USEC * 1000L };

	nanosleep(&ts, NULL);
}

int cgroup_signal_members(int dir_fd, int sig, pid_t except)
{
	_cleanup_free_ char *s = NULL;
	int r, n = 0;

	r = cgroup_read_at(dir_fd, "cgroup.procs", &s);
	if (r < 0)
		return r;
	for (char *p = s; *p;) {
		char *e;
		long pid = strtol(p, &e, 10);

		if (e == p)
			break;
		p = e + strspn(e, "\n");
		if (except > 0 && pid == except)
			continue;
		if (pid > 0 && sig && kill((pid_t)pid, sig) < 0 && errno != ESRCH)
			return -errno;
		n += pid > 0;
	}
	return n;
}

int cgroup_kill_members(int dir_fd)
{
	return cgroup_signal_members(dir_fd, SIGKILL, 0);
}

int cgroup_count_members(int dir_fd)
{
	return cgroup_signal_members(dir_fd, 0, 0);
}

/* ---- directories ---- */

struct cgroup_run *cgroup_run_alloc(const char *run_id, bool v2)
{
	struct cgroup_run *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->v2 = v2;
	snprintf(c->id, sizeof(c->id), "%s", run_id);
	for (size_t i = 0; i < ELEMENTSOF(c->by_ctrl); i++)
		c->by_ctrl[i] = -1;
	return c;
}

/*
 * A directory we made is flock'ed at once, for as long as its fd is open: a run's stays
 * locked for the run's lifetime (its supervisor's cgroup_run), which tells a later start
 * it is alive whatever runtime directory either uses (cgroup_reap_stale()). A start that
 * found it empty and unlocked in between removed it: -ESTALE.
 */
static int lock_new_dir(int pfd, const char *name, int fd)
{
	struct stat a, b;

	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &a) < 0)
		return -errno;
	if (fstatat(pfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino)
		return -ESTALE;
	return 0;
}

int cgroup_dir_open(const char *base, const char *name, bool open_existing, const char *join_file,
		    struct cgroup_dir *d)
{
	_cleanup_close_ int pfd = -EBADF, fd = -EBADF, join = -EBADF;
	int r, n;

	n = snprintf(d->path, sizeof(d->path), "%s/%s", base, name);
	if (n < 0 || (size_t)n >= sizeof(d->path))
		return -ENAMETOOLONG;
	if (!open_existing) {
		r = mkdir_p(base, 0755);
		if (r < 0)
			return r;
	}
	pfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (pfd < 0)
		return -errno;
	for (unsigned attempt = 1;; attempt++) {
		if (!open_existing && mkdirat(pfd, name, 0755) < 0)
			return -errno;
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		r = fd < 0 ? -errno : 0;
		if (r >= 0 && !open_existing)
			r = lock_new_dir(pfd, name, fd);
		if (r != -ESTALE || attempt == 3)
			break;
		fd = safe_close(fd); /* reaped between our mkdir and our lock: made again */
	}
	if (r >= 0 && join_file) {
		join = openat(fd, join_file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		r = join < 0 ? -errno : 0;
	}
	if (r < 0) {
		if (!open_existing)
			(void)unlinkat(pfd, name, AT_REMOVEDIR);
		return r;
	}
	d->parent_fd = TAKE_FD(pfd);
	d->fd = TAKE_FD(fd);
	d->join_fd = TAKE_FD(join);
	return 0;
}

/* Removes name below dir_fd depth-first: cgroup directories hold only knob files. */
static int rmdir_tree(int dir_fd, const char *name, unsigned depth)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int fd;

	if (unlinkat(dir_fd, name, AT_REMOVEDIR) >= 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY)
		return -errno;
	if (depth >= CGROUP_RMDIR_DEPTH)
		return -ELOOP;

	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		safe_close(fd);
		return -errno;
	}
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
			(void)rmdir_tree(dirfd(d), de->d_name, depth + 1);

	if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int cgroup_dir_remove(struct cgroup_dir *d, const char *name)
{
	int r = 0;

	d->join_fd = safe_close(d->join_fd);
	d->home_fd = safe_close(d->home_fd);
	d->fd = safe_close(d->fd);
	if (d->parent_fd < 0)
		return 0;
	/* A just-killed task may take a moment to leave the css_set: retry EBUSY. */
	for (unsigned waited = 0; waited < CGROUP_WAIT_MAX_USEC; waited += CGROUP_WAIT_STEP_USEC) {
		r = rmdir_tree(d->parent_fd, name, 0);
		if (r != -EBUSY)
			break;
		cgroup_wait_step();
	}
	d->parent_fd = safe_close(d->parent_fd);
	return r;
}

/* ---- layout ---- */

bool cgroup_path_is_valid_relative(const char *p)
{
	if (!p || p[0] == '\0' || p[0] == '/' || strlen(p) >= CGROUP_PATH_MAX / 2)
		return false;
	return !strstr(p, "..") && !strstr(p, "//");
}

int cgroup_hierarchy_own_path(const struct cgroup_hierarchy *h, char *buf, size_t len)
{
	size_t rl = strlen(h->root);
	const char *rel = h->self;
	int n;

	if (!streq(h->root, "/")) {
		if (!strneq(h->self, h->root, rl) || (h->self[rl] != '/' && h->self[rl] != '\0'))
			return -ENOENT; /* our cgroup is outside what is mounted */
		rel = h->self + rl;
	}
	n = snprintf(buf, len, "%s%s", h->mount, streq(rel, "/") ? "" : rel);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static bool has_delegate_xattr(const char *path)
{
	char v[8];
	ssize_t n;

	n = getxattr(path, "trusted.delegate", v, sizeof(v));
	if (n < 0)
		n = getxattr(path, "user.delegate", v, sizeof(v));
	return n == 1 && v[0] == '1';
}

static bool in_cgroup_namespace(void)
{
	struct stat st;

	return stat("/proc/self/ns/cgroup", &st) >= 0 && st.st_ino != PROC_CGROUP_INIT_INO;
}

/* Controllers and features of the v2 cgroup at path (our own, when delegated). */
static void detect_v2_features(struct cgroup_layout *l, const char *path, bool is_root)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *s = NULL;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	/*
	 * Below the root, runs get what the root enables for its children (subtree_control);
	 * below our own delegated cgroup, whatever it has (we enable it ourselves).
	 */
	if (cgroup_read_at(fd, is_root ? "cgroup.subtree_control" : "cgroup.controllers", &s) >= 0)
		l->unified_controllers = cgroup_parse_controller_list(s);
	l->unified_controllers |= CGROUP_MASK(CGROUP_CPUACCT) | CGROUP_MASK(CGROUP_FREEZER);
	/* Neither file exists in the root cgroup: there, assume present and check per run. */
	l->v2_swap = is_root || faccessat(fd, "memory.swap.max", F_OK, 0) >= 0;
	l->v2_kill = is_root || faccessat(fd, "cgroup.kill", F_OK, 0) >= 0;
}

/* v2: delegation, the default parent, and the controllers a run can get there. */
static void detect_v2(struct cgroup_layout *l)
{
	char own[CGROUP_PATH_MAX], *slash;
	size_t ml = strlen(l->unified.mount);
	bool is_root;

	if (cgroup_hierarchy_own_path(&l->unified, own, sizeof(own)) < 0)
		return;
	/* After cgroup_enter_supervisor_leaf() we sit in the leaf; judge its parent. */
	slash = strrchr(own, '/');
	if (slash && (size_t)(slash - own) > ml && streq(slash + 1, CGROUP_SUPERVISOR_LEAF))
		*slash = '\0';
	is_root = streq(own, l->unified.mount);

	if (!is_root && has_delegate_xattr(own) && access(own, W_OK) >= 0)
		l->delegation = CGROUP_DELEGATION_SYSTEMD;
	else if (in_cgroup_namespace() && access(own, W_OK) >= 0)
		l->delegation = CGROUP_DELEGATION_CONTAINER;

	if (l->delegation == CGROUP_DELEGATION_NONE) {
		snprintf(l->default_parent, sizeof(l->default_parent), "%s",
			 CGROUP_V2_DEFAULT_PARENT);
		detect_v2_features(l, l->unified.mount, true);
		return;
	}
	/* Runs become siblings of our supervisor leaf inside our own cgroup. */
	snprintf(l->default_parent, sizeof(l->default_parent), "%s", is_root ? "" : own + ml + 1);
	detect_v2_features(l, own, false);
}

static bool swap_is_active(void)
{
	_cleanup_free_ char *s = NULL;

	if (read_file_at(AT_FDCWD, "/proc/swaps", CGROUP_FILE_MAX, &s, NULL) < 0)
		return true; /* unknown: assume the worst (fail closed on swap limits) */
	return strchr(s, '\n') && strchr(s, '\n')[1] != '\0';
}

static enum cgroup_mode mode_from(const struct cgroup_layout *l)
{
	unsigned limits =
		CGROUP_MASK(CGROUP_MEMORY) | CGROUP_MASK(CGROUP_PIDS) | CGROUP_MASK(CGROUP_CPU);

	if (l->v1_controllers & limits)
		return l->unified.mount[0] ? CGROUP_MODE_HYBRID : CGROUP_MODE_V1;
	if (l->unified.mount[0])
		return CGROUP_MODE_V2;
	return CGROUP_MODE_NONE;
}

int cgroup_layout_detect(struct cgroup_layout *ret)
{
	_cleanup_free_ char *mi = NULL, *self = NULL;
	struct cgroup_layout l = {};
	char p[CGROUP_PATH_MAX + 32];
	int r;

	r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &mi, NULL);
	if (r < 0)
		return r;
	r = read_file_at(AT_FDCWD, "/proc/self/cgroup", CGROUP_FILE_MAX, &self, NULL);
	if (r < 0)
		return r;
	r = cgroup_parse_mountinfo(mi, &l);
	if (r < 0)
		return r;
	r = cgroup_parse_proc_self(self, &l);
	if (r < 0)
		return r;

	l.mode = mode_from(&l);
	l.swap_active = swap_is_active();
	if (l.mode == CGROUP_MODE_V2) {
		detect_v2(&l);
	} else if (l.mode != CGROUP_MODE_NONE) {
		snprintf(l.default_parent, sizeof(l.default_parent), "%s",
			 CGROUP_V1_DEFAULT_PARENT);
		snprintf(p, sizeof(p), "%s/memory.memsw.limit_in_bytes", l.v1[CGROUP_MEMORY].mount);
		l.memsw = (l.v1_controllers & CGROUP_MASK(CGROUP_MEMORY)) && access(p, F_OK) >= 0;
	}
	log_debug("cgroup layout: %s, delegation %s, parent '%s'", cgroup_mode_to_string(l.mode),
		  cgroup_delegation_to_string(l.delegation), l.default_parent);
	*ret = l;
	return 0;
}

/* Moves every process of from_fd's cgroup into to_fd's cgroup.procs. */
static int move_members(int from_fd, int to_procs_fd)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = cgroup_read_at(from_fd, "cgroup.procs", &s);
	if (r < 0)
		return r;
	for (char *p = s, *e; *p; p = e + strspn(e, "\n")) {
		size_t n = strcspn(p, "\n");

		e = p + n;
		if (n == 0)
			break;
		if (pwrite(to_procs_fd, p, n, 0) < 0 && errno != ESRCH)
			return -errno;
	}
	return 0;
}

int cgroup_enter_supervisor_leaf(struct cgroup_layout *l)
{
	struct cgroup_dir leaf = CGROUP_DIR_INIT;
	char own[CGROUP_PATH_MAX + 2];
	int r;

	if (l->mode != CGROUP_MODE_V2 || l->delegation == CGROUP_DELEGATION_NONE)
		return 0;
	r = snprintf(own, sizeof(own), "%s/%s", l->unified.mount, l->default_parent);
	if (r < 0 || (size_t)r >= sizeof(own))
		return -ENAMETOOLONG;

	r = cgroup_dir_open(own, CGROUP_SUPERVISOR_LEAF, false, "cgroup.procs", &leaf);
	if (r == -EEXIST)
		r = cgroup_dir_open(own, CGROUP_SUPERVISOR_LEAF, true, "cgroup.procs", &leaf);
	if (r < 0)
		return r;
	/* No internal processes: everyone in our cgroup (us included) moves to the leaf. */
	r = move_members(leaf.parent_fd, leaf.join_fd);
	if (r >= 0)
		r = cgroup_v2_enable_controllers(leaf.parent_fd, l->unified_controllers);
	if (r >= 0 && !strstr(l->unified.self, "/" CGROUP_SUPERVISOR_LEAF)) {
		char self[CGROUP_PATH_MAX];
		int n = snprintf(self, sizeof(self), "%s/%s",
				 streq(l->unified.self, "/") ? "" : l->unified.self,
				 CGROUP_SUPERVISOR_LEAF);
		if (n > 0 && (size_t)n < sizeof(self))
			memcpy(l->unified.self, self, (size_t)n + 1);
	}
	safe_close(leaf.join_fd);
	safe_close(leaf.fd);
	safe_close(leaf.parent_fd);
	return r;
}

/* ---- runs ---- */

static bool layout_is_v2(const struct cgroup_layout *l)
{
	return l->mode == CGROUP_MODE_V2;
}

const char *cgroup_io_weight_knob(const struct cgroup_layout *l)
{
	_cleanup_close_ int fd = -EBADF;

	if (l->mode == CGROUP_MODE_NONE)
		return NULL;
	if (layout_is_v2(l))
		return cgroup_v2_io_knob(l);
	if (!(l->v1_controllers & CGROUP_MASK(CGROUP_IO)))
		return NULL;
	fd = open(l->v1[CGROUP_IO].mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? NULL : cgroup_v1_io_knob(fd);
}

int cgroup_layout_can_enforce(const struct cgroup_layout *l, const struct policy_limits *lim,
			      const char **reterr_controller)
{
	static const struct {
		unsigned flag;
		const char *name;
	} need[] = {
		{ POLICY_LIMIT_MEMORY, "memory" },
		{ POLICY_LIMIT_PIDS, "pids" },
		{ POLICY_LIMIT_CPU, "cpu" },
		{ POLICY_LIMIT_IO_WEIGHT, "io" },
	};

	if (l->mode == CGROUP_MODE_NONE) {
		for (size_t i = 0; i < ELEMENTSOF(need); i++)
			if (lim->set & need[i].flag) {
				*reterr_controller = need[i].name;
				return -EOPNOTSUPP;
			}
		return 0;
	}
	return layout_is_v2(l) ? cgroup_v2_can_enforce(l, lim, reterr_controller)
			       : cgroup_v1_can_enforce(l, lim, reterr_controller);
}

/* Closes a run's directories without touching them: another supervisor's live run. */
static void run_forget(struct cgroup_run *c)
{
	for (size_t i = 0; i < c->n_dirs; i++) {
		safe_close(c->dirs[i].fd);
		safe_close(c->dirs[i].parent_fd);
		safe_close(c->dirs[i].join_fd);
		safe_close(c->dirs[i].home_fd);
	}
	c->n_dirs = 0;
}

/*
 * An existing run's directories, locked without waiting (to reap them): -EBUSY, a live
 * supervisor holds them (lock_new_dir()), whatever runtime directory its run lock is in.
 */
static int run_lock_existing(struct cgroup_run *c)
{
	for (size_t i = 0; i < c->n_dirs; i++)
		if (flock(c->dirs[i].fd, LOCK_EX | LOCK_NB) < 0)
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

int cgroup_run_open(const struct cgroup_layout *l, const char *parent, const char *run_id,
		    const struct policy_limits *lim, bool open_existing, struct cgroup_run **ret,
		    const char **reterr_controller)
{
	_cleanup_cgroup_run_free_ struct cgroup_run *c = NULL;
	int r;

	if (!cgroup_run_id_is_valid(run_id))
		return -EINVAL;
	if (!parent)
		parent = l->default_parent;
	if (parent[0] != '\0' && !cgroup_path_is_valid_relative(parent))
		return -EINVAL;

	c = cgroup_run_alloc(run_id, layout_is_v2(l));
	if (!c)
		return -ENOMEM;
	if (l->mode != CGROUP_MODE_NONE) {
		r = layout_is_v2(l) ? cgroup_v2_run_create(l, parent, lim, open_existing, c,
							   reterr_controller)
				    : cgroup_v1_run_create(l, parent, lim, open_existing, c,
							   reterr_controller);
		if (r < 0)
			return r;
	}
	r = open_existing ? run_lock_existing(c) : 0;
	if (r == -EBUSY)
		run_forget(c);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int cgroup_run_new(const struct cgroup_layout *l, const char *parent, const char *run_id,
		   const struct policy_limits *lim, struct cgroup_run **ret,
		   const char **reterr_controller)
{
	const char *err = NULL;
	int r;

	assert(l && lim && ret);

	r = cgroup_layout_can_enforce(l, lim, &err);
	if (r >= 0)
		r = cgroup_run_open(l, parent, run_id, lim, false, ret, &err);
	if (r == -EOPNOTSUPP && reterr_controller)
		*reterr_controller = err;
	return r;
}

int cgroup_run_clone_fd(const struct cgroup_run *c)
{
	if (!c || !c->v2 || c->n_dirs == 0)
		return -EBADF;
	return c->dirs[0].fd;
}

/*
 * "0" names the writing thread. Moving only the caller's own thread is the one migration
 * the kernel does without its global threadgroup lock (cgroup_procs_write_start()), so it
 * never waits for the RCU grace period that moving another process by pid costs on v1.
 */
static int move_self(int tasks_fd)
{
	return pwrite(tasks_fd, "0", 1, 0) < 0 ? -errno : 0;
}

int cgroup_run_leave(struct cgroup_run *c)
{
	int r = 0;

	assert(c);

	for (size_t i = 0; i < c->n_dirs; i++) {
		struct cgroup_dir *d = &c->dirs[i];
		_cleanup_close_ int fallback = -EBADF;

		if (d->join_fd < 0 || move_self(d->home_fd) >= 0)
			continue;
		/* Our own cgroup went away meanwhile: airlock's subtree is ours to stay in. */
		fallback = openat(d->parent_fd, "tasks", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fallback < 0 || move_self(fallback) < 0)
			r = -errno;
	}
	return r;
}

int cgroup_run_enter(struct cgroup_run *c)
{
	int r;

	assert(c);

	for (size_t i = 0; i < c->n_dirs; i++) {
		if (c->dirs[i].join_fd < 0)
			continue;
		r = move_self(c->dirs[i].join_fd);
		if (r < 0) {
			if (cgroup_run_leave(c) < 0)
				return -ENOTRECOVERABLE;
			return r;
		}
	}
	return 0;
}

int cgroup_run_seal(struct cgroup_run *c, const char **reterr_controller)
{
	assert(c);

	return c->v2 ? 0 : cgroup_v1_run_seal(c, reterr_controller);
}

int cgroup_run_kill(struct cgroup_run *c)
{
	assert(c);

	if (c->n_dirs == 0)
		return 0;
	/*
	 * Usually the task's pid namespace is gone already and so is everything in the
	 * cgroup. An empty cgroup cannot fill again (only a member can fork into it), so
	 * there is nothing to freeze: freezing takes milliseconds even when empty.
	 */
	if (cgroup_run_is_populated(c) == 0)
		return 0;
	return c->v2 ? cgroup_v2_run_kill(c) : cgroup_v1_run_kill(c);
}

int cgroup_run_is_populated(struct cgroup_run *c)
{
	uint64_t v;
	int r;

	assert(c);

	if (c->v2 && c->n_dirs > 0) {
		r = cgroup_read_keyed_at(c->dirs[0].fd, "cgroup.events", "populated", &v);
		return r < 0 ? r : v > 0;
	}
	for (size_t i = 0; i < c->n_dirs; i++) {
		r = cgroup_count_members(c->dirs[i].fd);
		if (r != 0)
			return r < 0 ? r : 1;
	}
	return 0;
}

int cgroup_run_stats(struct cgroup_run *c, struct cgroup_stats *ret)
{
	struct cgroup_stats s = {
		.memory_peak = UINT64_MAX,
		.pids_peak = UINT64_MAX,
		.cpu_user_usec = UINT64_MAX,
		.cpu_system_usec = UINT64_MAX,
		.cpu_usage_usec = UINT64_MAX,
		.cpu_throttled_usec = UINT64_MAX,
	};
	int r = 0;

	assert(c && ret);

	if (c->n_dirs > 0)
		r = c->v2 ? cgroup_v2_run_stats(c, &s) : cgroup_v1_run_stats(c, &s);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

const char *cgroup_run_path(const struct cgroup_run *c, enum cgroup_controller ctrl)
{
	if (!c || ctrl < 0 || ctrl >= _CGROUP_CONTROLLER_MAX)
		return NULL;
	if (c->v2)
		return c->n_dirs > 0 ? c->dirs[0].path : NULL;
	return c->by_ctrl[ctrl] >= 0 ? c->dirs[c->by_ctrl[ctrl]].path : NULL;
}

struct cgroup_run *cgroup_run_free(struct cgroup_run *c)
{
	if (!c)
		return NULL;
	if (c->n_dirs > 0) {
		int r = cgroup_run_kill(c);
		if (r < 0)
			log_debug_errno(r, "Failed to kill cgroup run '%s', ignoring: %m", c->id);
	}
	for (size_t i = 0; i < c->n_dirs; i++) {
		int r = cgroup_dir_remove(&c->dirs[i], c->id);
		if (r < 0)
			log_debug_errno(r, "Failed to remove '%s', ignoring: %m", c->dirs[i].path);
	}
	free(c);
	return NULL;
}
