/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run-net.h for the executable: the network module (run-net-module.h) is loaded on first
 * use and everything is forwarded to it. A run without a "network" section never loads it,
 * nor does the reaper when no networked run left anything behind, so a plain run does not
 * map libnftnl, libmnl and libnl (about 0.45 ms of every start).
 *
 * The module runs as root inside airlock, so where it comes from is fixed: next to the
 * running executable (/proc/self/exe: the build tree, or a copy of it), or, for the
 * executable installed in AIRLOCK_BINDIR, AIRLOCK_MODULE_DIR. Never the environment, the
 * current directory or the library search path. The file and its directory must be
 * writable by root only (common/helper-file.c).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "helper-file.h"
#include "log.h"
#include "macro.h"
#include "ns-util.h"
#include "policy.h"
#include "run-net-module.h"

/* Loaded at most once and never unloaded; a failure is kept and reported to each caller. */
static const struct run_net_module *module;
static int module_error;
static struct helper_file module_file = { .path = RUN_NET_MODULE_NAME };

_printf_(2, 3) static int module_fail(int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(module_file.problem, sizeof(module_file.problem), fmt, ap);
	va_end(ap);
	return error;
}

/* dlerror() names the file /proc/self/fd/N; the log line names the real path already. */
static const char *strip_proc_path(const char *error, const char *proc)
{
	size_t n = strlen(proc);

	return strneq(error, proc, n) && strneq(error + n, ": ", 2) ? error + n + 2 : error;
}

static int module_load(void)
{
	_cleanup_close_ int fd = -EBADF;
	const struct run_net_module *m;
	char proc[64];
	void *h;
	int r = 0;

	fd = helper_file_open(RUN_NET_MODULE_NAME, AIRLOCK_BINDIR, AIRLOCK_MODULE_DIR,
			      &module_file);
	if (fd < 0)
		return fd;

	/*
	 * dlopen() the file that was checked, through its fd, rather than its path again: a
	 * directory above the checked one may belong to someone else, who could swap the
	 * path between the check and the load. The price: debuggers and sanitizers name the
	 * module /proc/self/fd/N (/proc/PID/maps shows its real path). RTLD_NOW: a reference
	 * the executable cannot satisfy fails here, not in the middle of a run.
	 */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	h = dlopen(proc, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return module_fail(-ELIBBAD, "cannot be loaded: %s",
				   strip_proc_path(dlerror(), proc));
	m = dlsym(h, RUN_NET_MODULE_SYMBOL);
	if (!m)
		r = module_fail(-ELIBBAD, "does not define " RUN_NET_MODULE_SYMBOL);
	else if (m->abi != RUN_NET_MODULE_ABI)
		r = module_fail(-ELIBBAD, "has module ABI %" PRIu32 ", this airlock needs %d",
				m->abi, RUN_NET_MODULE_ABI);
	else if (!streq(m->version, AIRLOCK_VERSION))
		r = module_fail(-ELIBBAD, "is from airlock %s, this is airlock %s", m->version,
				AIRLOCK_VERSION);
	if (r < 0) {
		dlclose(h);
		return r;
	}
	module = m;
	return 0;
}

static int module_get(const struct run_net_module **ret)
{
	if (!module && module_error == 0)
		module_error = module_load();
	if (module_error < 0)
		return module_error;
	*ret = module;
	return 0;
}

int run_net_new(const struct policy *p, const struct node_network *cfg, const char *run_id,
		struct loop *loop, struct run_net **ret)
{
	const struct run_net_module *m;
	int r;

	*ret = NULL;
	if (!p->network.enabled)
		return 0;
	r = module_get(&m);
	if (r < 0)
		return log_error_errno(r,
				       "refusing run: policy asks for network egress (/network) "
				       "but the network module '%s' %s",
				       module_file.path, module_file.problem);
	return m->new (p, cfg, run_id, loop, ret);
}

/* A run_net exists only when the module is loaded: it made it. */
int run_net_ready(struct run_net *n)
{
	return n ? module->ready(n) : 0;
}

int run_net_netns_fd(const struct run_net *n)
{
	return n ? module->netns_fd(n) : -EBADF;
}

int run_net_resolv_conf(const struct run_net *n, char *buf, size_t size)
{
	return n ? module->resolv_conf(n, buf, size) : -EINVAL;
}

void run_net_conclude(struct run_net *n)
{
	if (n)
		module->conclude(n);
}

json_t *run_net_to_json(const struct run_net *n)
{
	return n ? module->to_json(n) : NULL;
}

struct run_net *run_net_free(struct run_net *n)
{
	return n ? module->free(n) : NULL;
}

/*
 * Whether one directory of <runtime>/net needs the reaper. This mirrors egress_nat_reap()
 * (netfilter/host-nat.c), which leaves a directory untouched only when one of its slot
 * locks is held (a live run) and none is free (no dead run). Anything else needs it: a
 * dead run's slot; no live slot, e.g. what a killed last networked run left (a finished
 * one removes its directory itself); something that cannot be read.
 */
static bool net_dir_needs_reap(int net_fd, const char *name)
{
	_cleanup_close_ int fd = -EBADF, lock = -EBADF;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	unsigned live = 0;

	fd = openat(net_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno != ENOENT; /* gone: another start reaped it */
	/* Slots are taken, counted and reaped under an exclusive flock on .lock. */
	lock = openat(fd, ".lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (lock < 0 || flock(lock, LOCK_SH) < 0)
		return true;
	d = fdopendir(fd);
	if (!d)
		return true;
	TAKE_FD(fd);
	while ((de = readdir(d))) {
		_cleanup_close_ int slot = -EBADF;
		unsigned n;

		if (sscanf(de->d_name, "slot-%u.lock", &n) != 1)
			continue;
		slot = openat(dirfd(d), de->d_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (slot < 0)
			continue;
		if (flock(slot, LOCK_EX | LOCK_NB) == 0)
			return true; /* nobody holds it: its run died */
		live++;
	}
	return live == 0;
}

/*
 * Whether name, in <runtime>/net, is our own namespace's "<inode>" directory of an older
 * airlock, beside our "<inode>-<cookie>" one: the module reaps it with ours.
 */
static bool net_dir_is_own_legacy(const char *name, const char *own)
{
	size_t n = strcspn(own, "-");

	return own[n] == '-' && strlen(name) == n && strneq(name, own, n);
}

/*
 * Whether the directory name of <runtime>/net belongs to another network namespace that is
 * still in use: the runs in it reap it, never a run elsewhere (see run-net.c).
 */
static bool net_dir_foreign_alive(const char *name, const char *own)
{
	return own[0] && !streq(name, own) && !net_dir_is_own_legacy(name, own) &&
	       netns_name_in_use(name) > 0;
}

static bool net_reap_needed(void)
{
	_cleanup_(closedirp) DIR *d = opendir(AIRLOCK_RUNTIME_DIR "/net");
	struct dirent *de;
	char own[64] = "";

	if (!d)
		return errno != ENOENT;
	/* Our namespace's directory name, looked up once for the whole scan. */
	if (netns_key_self(own, sizeof(own)) < 0)
		own[0] = '\0';
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && !net_dir_foreign_alive(de->d_name, own) &&
		    net_dir_needs_reap(dirfd(d), de->d_name))
			return true;
	return false;
}

void run_net_reap_stale(void)
{
	const struct run_net_module *m;

	if (!net_reap_needed())
		return;
	if (module_get(&m) < 0) {
		log_warning("Failed to reap the network leftovers of dead runs: the network "
			    "module '%s' %s, ignoring",
			    module_file.path, module_file.problem);
		return;
	}
	m->reap_stale();
}
