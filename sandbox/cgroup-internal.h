/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Shared between cgroup.c (layout, common directory handling) and its two backends,
 * cgroup-v1.c and cgroup-v2.c. Not for use outside sandbox/cgroup*.c.
 */

#include <stdint.h>

#include "cgroup.h"

/* One directory of a run: the single v2 cgroup, or one per v1 hierarchy. */
struct cgroup_dir {
	int fd; /* the run directory (O_DIRECTORY) */
	int parent_fd; /* its parent, for unlinkat(AT_REMOVEDIR) */
	int join_fd; /* v1 run: its tasks file; v2 supervisor leaf: cgroup.procs; else -EBADF */
	int home_fd; /* v1 run: the tasks file of the supervisor's own cgroup there */
	unsigned controllers; /* CGROUP_MASK() bits served by this directory */
	char path[CGROUP_PATH_MAX];
	char view_name[CGROUP_VIEW_NAME_MAX]; /* v1: the hierarchy's name in the view, or "" */
};

struct cgroup_run {
	bool v2;
	bool v2_kill; /* cgroup.kill available */
	char id[CGROUP_RUN_ID_MAX + 1];
	struct cgroup_dir dirs[_CGROUP_CONTROLLER_MAX];
	size_t n_dirs;
	int by_ctrl[_CGROUP_CONTROLLER_MAX]; /* index into dirs, or -1 */
	/* v1: the memory limit, written only after the clone (cgroup_run_seal()). */
	bool v1_memory_pending;
	uint64_t v1_memory; /* memory.limit_in_bytes */
	uint64_t v1_memsw; /* memory.memsw.limit_in_bytes, or UINT64_MAX: none to write */
};

/* Polling granularity and bound of the kill/empty waits. */
#define CGROUP_WAIT_STEP_USEC 1000
#define CGROUP_WAIT_MAX_USEC (5 * 1000 * 1000)

/* A fresh run with no directories. NULL on -ENOMEM. */
struct cgroup_run *cgroup_run_alloc(const char *run_id, bool v2);

#define CGROUP_DIR_INIT       \
	((struct cgroup_dir){ \
		.fd = -EBADF, .parent_fd = -EBADF, .join_fd = -EBADF, .home_fd = -EBADF })

/*
 * Creates (or, with open_existing, opens) "<base>/<name>", creating base with mkdir -p,
 * and opens its join_file ("tasks", "cgroup.procs"; NULL for none) for writing. base is
 * an absolute path. A directory it creates is flock'ed (LOCK_EX) for as long as d->fd is
 * open. Fills *d. Returns 0, -EEXIST (create and it exists), -ENOENT (open and it is
 * missing), -ESTALE (a reaper removed it before the lock) or -errno.
 */
int cgroup_dir_open(const char *base, const char *name, bool open_existing, const char *join_file,
		    struct cgroup_dir *d);

/* A cgroup parent as configured: relative, no "..", no "//", not too long. */
bool cgroup_path_is_valid_relative(const char *p);

/*
 * Creates (or, with open_existing, opens) the run's directories below parent (NULL: the
 * layout's default) with the limits lim, flock()ed for as long as *ret is open (an
 * existing run's without waiting); on a failure what it created is removed. Fills *ret (owned by the caller:
 * cgroup_run_free()). 0 or -errno; -EOPNOTSUPP names the missing controller in
 * *reterr_controller; -EBUSY (open_existing): a live supervisor holds the run's locks,
 * nothing of it was touched.
 */
int cgroup_run_open(const struct cgroup_layout *l, const char *parent, const char *run_id,
		    const struct policy_limits *lim, bool open_existing, struct cgroup_run **ret,
		    const char **reterr_controller);

/* Our own cgroup's directory in h: mount point + our path below the mount's root. */
int cgroup_hierarchy_own_path(const struct cgroup_hierarchy *h, char *buf, size_t len);

/* Closes d's fds and removes the directory (and any sub-cgroups). 0 or -errno. */
int cgroup_dir_remove(struct cgroup_dir *d, const char *name);

/* Reads a cgroup file (at most 64 KiB) into *ret (owned by the caller). 0 or -errno. */
int cgroup_read_at(int dir_fd, const char *file, char **ret);
int cgroup_read_u64_at(int dir_fd, const char *file, uint64_t *ret);
/* Reads one key of a flat-keyed file. 0, -ENOENT (file or key missing) or -errno. */
int cgroup_read_keyed_at(int dir_fd, const char *file, const char *key, uint64_t *ret);
/* One key of a flat-keyed file and where its value goes (cgroup_get_keys_at()). */
struct cgroup_key {
	const char *key;
	uint64_t *value;
};
/*
 * Accounting reads that may find nothing: reads file once and stores each key present
 * into its *value, leaving the others as they are. Nothing when dir_fd < 0.
 */
void cgroup_get_keys_at(int dir_fd, const char *file, const struct cgroup_key *keys, size_t n);
/* The same for a single-value file. */
void cgroup_get_u64_at(int dir_fd, const char *file, uint64_t *value);
int cgroup_write_at(int dir_fd, const char *file, const char *value);
int cgroup_write_u64_at(int dir_fd, const char *file, uint64_t value);

/* SIGKILLs every process listed in dir's cgroup.procs. Returns how many, or -errno. */
int cgroup_kill_members(int dir_fd);
/* Sends sig to every process of dir's cgroup.procs but except (0: none): the count, or -errno. */
int cgroup_signal_members(int dir_fd, int sig, pid_t except);
/* Number of processes listed in dir's cgroup.procs, or -errno. */
int cgroup_count_members(int dir_fd);
/* Sleeps one wait step. */
void cgroup_wait_step(void);

/* The backends. Each fills the run's dirs; see cgroup_run_new() for the contract. */
int cgroup_v1_run_create(const struct cgroup_layout *l, const char *parent,
			 const struct policy_limits *lim, bool open_existing, struct cgroup_run *c,
			 const char **reterr_controller);
int cgroup_v1_run_kill(struct cgroup_run *c);
int cgroup_v1_run_seal(struct cgroup_run *c, const char **reterr_controller);
int cgroup_v1_run_stats(struct cgroup_run *c, struct cgroup_stats *s);
int cgroup_v1_can_enforce(const struct cgroup_layout *l, const struct policy_limits *lim,
			  const char **reterr_controller);
/* The writable blkio weight file in a v1 blkio directory, or NULL. */
const char *cgroup_v1_io_knob(int dir_fd);

int cgroup_v2_run_create(const struct cgroup_layout *l, const char *parent,
			 const struct policy_limits *lim, bool open_existing, struct cgroup_run *c,
			 const char **reterr_controller);
int cgroup_v2_run_kill(struct cgroup_run *c);
int cgroup_v2_run_stats(struct cgroup_run *c, struct cgroup_stats *s);
int cgroup_v2_can_enforce(const struct cgroup_layout *l, const struct policy_limits *lim,
			  const char **reterr_controller);
/* The v2 io weight file that takes effect on this host (io.cost or BFQ), or NULL. */
const char *cgroup_v2_io_knob(const struct cgroup_layout *l);
/* Enables the controllers airlock uses in dir's cgroup.subtree_control. 0 or -errno. */
int cgroup_v2_enable_controllers(int dir_fd, unsigned mask);
