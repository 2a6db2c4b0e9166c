/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host-dependent half of a policy check: cgroup controllers for the limits, Landlock
 * for an exec allowlist, the host trees the mount tree is made of, forwarding for egress,
 * the node configuration's issuers for grants.
 * Each check is the one a run makes (or the same kernel question), worded the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "cgroup.h"
#include "cleanup.h"
#include "config.h"
#include "credentials.h"
#include "fd-util.h"
#include "idpool.h"
#include "landlock.h"
#include "macro.h"
#include "net-pool.h"
#include "net-sysctl.h"
#include "node-config.h"
#include "path-util.h"
#include "policy.h"
#include "preflight.h"
#include "run-limits.h"
#include "sandbox.h"
#include "strv.h"

#define REFUSAL_MAX 512

struct checker {
	preflight_report_fn report;
	void *userdata;
	int count;
};

static _printf_(2, 3) void refuse(struct checker *c, const char *fmt, ...)
{
	char buf[REFUSAL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->report(true, buf, c->userdata);
	c->count++;
}

/* A node_pool_report_fn: the policy's destinations in the node's address pools. */
static void report_pools(bool refusal, const char *line, void *userdata)
{
	struct checker *c = userdata;

	if (refusal)
		refuse(c, "%s", line);
	else
		c->report(false, line, c->userdata);
}

/* Each limit on its own, so that every one the host cannot hold is named. */
static void check_limits(struct checker *c, const struct policy *p)
{
	static const unsigned flags[] = { POLICY_LIMIT_MEMORY, POLICY_LIMIT_PIDS, POLICY_LIMIT_CPU,
					  POLICY_LIMIT_IO_WEIGHT };
	struct cgroup_layout l;
	int r;

	r = cgroup_layout_detect(&l);
	if (r < 0) {
		refuse(c, "/limits: cannot detect the cgroup layout: %s", strerror(-r));
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
		struct policy_limits one = p->limits;
		const char *ctrl = NULL;
		char why[REFUSAL_MAX];

		if (!(p->limits.set & flags[i]))
			continue;
		one.set = flags[i] | (p->limits.set & POLICY_LIMIT_SWAP);
		if (cgroup_layout_can_enforce(&l, &one, &ctrl) >= 0 || !ctrl)
			continue;
		run_limits_refusal(ctrl, why, sizeof(why));
		refuse(c, "%s", why);
	}
}

static void check_landlock(struct checker *c, const struct policy *p)
{
	if (p->filesystem.exec && landlock_abi_version() < 0)
		refuse(c, "/filesystem/exec needs Landlock, which this kernel does not offer");
}

/* The exec entries resolved and the trees a run clones, opened the same way and released. */
static void check_mounts(struct checker *c, const struct policy *p, const char *workspace)
{
	struct sandbox_mounts *m = NULL;
	_cleanup_strv_free_ char **exec_paths = NULL;
	const char *bad = NULL;
	size_t bad_index = SIZE_MAX;
	char why[REFUSAL_MAX];
	int r;

	r = sandbox_exec_resolve(p, workspace, &exec_paths, &bad_index);
	if (r < 0) {
		preflight_exec_refusal(p, bad_index, r, why, sizeof(why));
		refuse(c, "%s", why);
		return;
	}
	r = sandbox_mounts_open(p, exec_paths, workspace, IDPOOL_BASE, NULL, &m, &bad);
	if (r >= 0) {
		sandbox_mounts_free(m);
		return;
	}
	preflight_mounts_refusal(p, workspace, bad, r, why, sizeof(why));
	refuse(c, "%s", why);
}

/* The run's IPv6 checks (supervisor/run-net.c net_configure_v6()), worded the same way. */
static void check_network_v6(struct checker *c, const struct policy *p,
			     const struct node_config *cfg)
{
	char a[INET6_ADDRSTRLEN], why[REFUSAL_MAX];
	bool v4_up = false, v6_up = false;
	const char *off;
	int collision;

	off = node_network_v6_off(&cfg->network, NULL, &collision, why, sizeof(why));
	if (!off) {
		if (collision > 0)
			refuse(c, "/network/pool6: %s", why);
		return;
	}
	for (size_t i = 0; i < p->network.n_egress; i++) {
		const struct policy_egress_rule *r = &p->network.egress[i];

		if (!r->is_cidr || r->cidr.family != AF_INET6)
			continue;
		if (!inet_ntop(AF_INET6, r->cidr.addr, a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
		refuse(c, "/network/egress/%zu: cidr %s/%u is IPv6, but %s", i, a, r->prefixlen,
		       off);
	}
	for (size_t i = 0; i < p->network.n_dns_upstream; i++) {
		v4_up |= p->network.dns_upstream[i].family == AF_INET;
		v6_up |= p->network.dns_upstream[i].family == AF_INET6;
	}
	for (size_t i = 0; !v4_up && !v6_up && i < cfg->network.n_dns_upstream; i++) {
		v4_up |= cfg->network.dns_upstream[i].family == AF_INET;
		v6_up |= cfg->network.dns_upstream[i].family == AF_INET6;
	}
	if (v6_up && !v4_up)
		refuse(c, "/network/dns/upstream: the DNS upstreams are IPv6 only, but %s", off);
}

/* The run's last resort for its DNS upstream (supervisor/run-net.c net_configure_upstream()). */
static void check_upstream(struct checker *c, const struct policy *p, const struct node_config *cfg)
{
	char why[NODE_POOL_LINE_MAX];
	uint8_t a[4];

	if (p->network.n_dns_upstream || cfg->network.n_dns_upstream)
		return;
	if (net_host_resolver4(a) <= 0)
		refuse(c,
		       "/network/dns/upstream: no DNS upstream in the policy or the configuration "
		       "and no IPv4 one in %s",
		       NET_RESOLV_CONF);
	else if (node_network_resolver_refusal(&cfg->network, a, why, sizeof(why)) > 0)
		refuse(c, "%s", why);
}

static void check_network(struct checker *c, const struct policy *p, const struct node_config *cfg)
{
	char why[REFUSAL_MAX];
	int fd, r;

	if (!p->network.enabled)
		return;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		refuse(c, "/network needs nf_tables, which this kernel does not offer: %s",
		       strerror(errno));
	else
		close(fd);
	/* With "manage" the run turns forwarding on, forwarding only its own traffic. */
	if (cfg->network.forwarding != NODE_FORWARDING_MANAGE && net_ip_forward_enabled() <= 0)
		refuse(c,
		       "/network: policy asks for network egress but net.ipv4.ip_forward is off "
		       "on this host; enable it (sysctl net.ipv4.ip_forward=1) or let airlock "
		       "manage it (\"network\": { \"forwarding\": \"manage\" } in %s)",
		       cfg->path ? cfg->path : NODE_CONFIG_PATH);
	r = node_network_pool_refusal(&cfg->network, AF_INET, NULL, NULL, why, sizeof(why));
	if (r < 0)
		refuse(c, "/network/pool: cannot read this host's addresses and routes: %s",
		       strerror(-r));
	else if (r > 0)
		refuse(c, "/network/pool: %s", why);
	check_network_v6(c, p, cfg);
	check_upstream(c, p, cfg);
	/* As a run checks them before anything of it exists (supervisor/run.c check_egress()). */
	(void)node_network_check_policy(&cfg->network, &p->network, report_pools, c);
}

/*
 * Each grant's issuer, as a run checks it before it mints (credentials_check_issuers(),
 * then each issuer's configuration and the grant's scope: credentials_check_grant()).
 */
static void check_issuers(struct checker *c, const struct policy *p, const struct node_config *cfg)
{
	char why[512];

	for (size_t i = 0; i < p->n_credentials; i++) {
		const struct policy_credential *pc = &p->credentials[i];

		if (pc->source != POLICY_CREDENTIAL_SOURCE_ISSUER)
			continue;
		if (!node_config_issuer(cfg, pc->issuer))
			refuse(c,
			       "/credentials/%zu: credential '%s' names issuer '%s', which the "
			       "node configuration does not define",
			       i, pc->name, pc->issuer);
		else if (credentials_check_grant(pc, cfg, why, sizeof(why)) < 0)
			refuse(c, "/credentials/%zu: credential '%s' from %s", i, pc->name, why);
	}
}

/*
 * System directories, one rule for all: the root and the directories the FHS itself names
 * at the top and in /var (a project lives below them, never in them: the shared temporary
 * directories /tmp and /var/tmp alike), and whatever lies in the trees of the system.
 */
static bool is_system_dir(const char *ws)
{
	static const char *const trees[] = { "/proc", "/sys", "/dev", "/boot",
					     "/etc",  "/usr", "/run", AIRLOCK_STATE_DIR };
	static const char *const top[] = { "bin",    "home",  "lib", "lib32", "lib64",
					   "libx32", "media", "mnt", "opt",   "root",
					   "sbin",   "srv",   "tmp", "var" };
	static const char *const var[] = { "backups", "cache", "crash", "lib",	 "local", "lock",
					   "log",     "mail",  "opt",	"spool", "tmp" };
	const char *name;

	for (size_t i = 0; i < ELEMENTSOF(trees); i++)
		if (path_is_beneath(ws, trees[i]))
			return true;
	if (streq(ws, "/"))
		return true;
	if (strncmp(ws, "/var/", 5) == 0) {
		name = ws + 5;
		for (size_t i = 0; i < ELEMENTSOF(var); i++)
			if (streq(name, var[i]))
				return true;
		return false;
	}
	name = ws + 1;
	for (size_t i = 0; i < ELEMENTSOF(top); i++)
		if (streq(name, top[i]))
			return true;
	return false;
}

int preflight_workspace_refusal(const char *ws, const char *state_dir, char *buf, size_t size)
{
	bool bad = is_system_dir(ws);

	/* The records (and later the node key) a task must never rewrite. */
	if (!bad && state_dir && state_dir[0] == '/' &&
	    (path_is_beneath(ws, state_dir) || path_is_beneath(state_dir, ws)))
		return snprintf(buf, size,
				"workspace '%s' holds or lies in the state directory '%s', which a "
				"task must not write",
				ws, state_dir);
	if (!bad)
		return 0;
	return snprintf(buf, size,
			"workspace '%s' is a system directory; run from (or pass --workspace) a "
			"project directory",
			ws);
}

/* The first read-write bind whose source holds dir (or, holds_too, lies in it), or -1. */
static ssize_t rw_bind_holding(const struct policy *p, const char *dir, bool holds_too)
{
	for (size_t i = 0; dir && i < p->filesystem.n_binds; i++) {
		const struct policy_bind *b = &p->filesystem.binds[i];

		if (b->mode == POLICY_MODE_RW && (path_is_beneath(dir, b->source) ||
						  (holds_too && path_is_beneath(b->source, dir))))
			return (ssize_t)i;
	}
	return -1;
}

int preflight_records_refusal(const struct policy *p, const char *ws, const char *state_dir,
			      const char *copy_dir, const char *copy_path, char *buf, size_t size)
{
	ssize_t i;

	if (copy_dir && ws && p->filesystem.workspace_mode == POLICY_MODE_RW &&
	    path_is_beneath(copy_dir, ws))
		return snprintf(buf, size,
				"--record '%s' lies in the read-write workspace '%s', which the "
				"task may change under it",
				copy_path ?: copy_dir, ws);
	i = rw_bind_holding(p, copy_dir, false);
	if (i >= 0)
		return snprintf(
			buf, size,
			"--record '%s' lies in /filesystem/binds/%zd/source '%s', which the "
			"task may change under it",
			copy_path ?: copy_dir, i, p->filesystem.binds[i].source);
	i = rw_bind_holding(p, state_dir, true);
	if (i >= 0)
		return snprintf(buf, size,
				"/filesystem/binds/%zd/source '%s' holds or lies in the state "
				"directory '%s', which a task must not write",
				i, p->filesystem.binds[i].source, state_dir);
	return 0;
}

int preflight_host(const struct policy *p, const struct node_config *cfg, const char *workspace,
		   preflight_report_fn report, void *userdata)
{
	struct checker c = { report, userdata, 0 };
	char why[REFUSAL_MAX];

	if (preflight_workspace_refusal(workspace, cfg->state_dir, why, sizeof(why)) > 0)
		refuse(&c, "%s", why);
	if (preflight_records_refusal(p, workspace, cfg->state_dir, NULL, NULL, why, sizeof(why)) >
	    0)
		refuse(&c, "%s", why);

	check_limits(&c, p);
	check_landlock(&c, p);
	check_mounts(&c, p, workspace);
	check_network(&c, p, cfg);
	check_issuers(&c, p, cfg);
	return c.count;
}

/* Why an exec entry cannot be allowed. */
static const char *exec_error_text(int err)
{
	switch (err) {
	case -ENOENT:
		return "does not exist in the sandbox's root";
	case -ENOTDIR:
		return "passes through a file that is not a directory in the sandbox's root";
	case -ELOOP:
		return "has too many levels of symbolic links in the sandbox's root";
	case -EPERM:
		return "passes through a symbolic link in the workspace, a bind or a tmpfs, "
		       "which is not followed; list the path it points to";
	default:
		return NULL;
	}
}

int preflight_exec_refusal(const struct policy *p, size_t index, int err, char *buf, size_t size)
{
	char *const *exec = p->filesystem.exec;
	const char *text = exec_error_text(err);

	if (index == SIZE_MAX || !exec)
		return snprintf(buf, size, "cannot open the sandbox's system root '%s': %s",
				p->filesystem.rootfs ?: "/", strerror(-err));
	return snprintf(buf, size, "/filesystem/exec/%zu: '%s' %s", index, exec[index],
			text ?: strerror(-err));
}

/* The JSON path of the policy entry that names bad, or NULL. */
static const char *mount_entry_path(const struct policy *p, const char *bad, char *buf, size_t size)
{
	if (bad && bad == p->filesystem.rootfs)
		return "/filesystem/rootfs";
	for (size_t i = 0; bad && i < p->filesystem.n_binds; i++)
		if (bad == p->filesystem.binds[i].source) {
			snprintf(buf, size, "/filesystem/binds/%zu/source", i);
			return buf;
		}
	return NULL;
}

/* The index of the filesystem.etc entry bad points to, or SIZE_MAX. */
static size_t etc_index(const struct policy *p, const char *bad)
{
	for (size_t i = 0; bad && p->filesystem.etc && p->filesystem.etc[i]; i++)
		if (bad == p->filesystem.etc[i])
			return i;
	return SIZE_MAX;
}

static int etc_refusal(const struct policy *p, size_t i, int err, char *buf, size_t size)
{
	const char *name = p->filesystem.etc[i];

	if (err == -ENOENT)
		return snprintf(buf, size,
				"/filesystem/etc/%zu: '%s' does not exist in /etc of the system "
				"root ('%s/etc')",
				i, name, p->filesystem.rootfs ?: "");
	if (err == -ELOOP)
		return snprintf(buf, size,
				"/filesystem/etc/%zu: '%s' passes through a symbolic link in /etc; "
				"name the real entry",
				i, name);
	return snprintf(buf, size, "/filesystem/etc/%zu: cannot bind '/etc/%s': %s", i, name,
			strerror(-err));
}

static const char *mount_error_text(int err)
{
	switch (err) {
	case -ENOENT:
		return "does not exist on this host";
	case -ELOOP:
		return "contains a symbolic link (or changed while airlock opened it); name the "
		       "resolved path";
	case -EINVAL:
		return "is neither a directory nor a regular file";
	case -EXDEV:
		return "resolves outside the tree it must stay in";
	default:
		return NULL;
	}
}

/* "WHAT 'NAME' does not exist on this host", or "WHAT 'NAME': <strerror>" for the rest. */
static int mount_error(char *buf, size_t size, const char *what, const char *name, int err)
{
	const char *text = mount_error_text(err);

	if (text)
		return snprintf(buf, size, "%s '%s' %s", what, name, text);
	return snprintf(buf, size, "%s '%s': %s", what, name, strerror(-err));
}

/* An overlay workspace's failure (sandbox/overlay.c): the kernel feature it lacks. */
static int overlay_refusal(const char *step, int err, char *buf, size_t size)
{
	static const struct {
		const char *step;
		int err; /* 0: any */
		const char *text;
	} table[] = {
		{ SANDBOX_OVERLAY_ERR_FS, -ENODEV,
		  "this kernel has no overlayfs (filesystem type 'overlay' unknown)" },
		{ SANDBOX_OVERLAY_ERR_FS, 0, "cannot open overlayfs" },
		{ SANDBOX_OVERLAY_ERR_TMPFS, 0, "cannot make the tmpfs of its upper layer" },
		{ SANDBOX_OVERLAY_ERR_IDMAP, -EINVAL,
		  "its lower layer must be idmapped to the task, which the workspace's "
		  "filesystem does not support on this kernel" },
		{ SANDBOX_OVERLAY_ERR_IDMAP, 0, "cannot clone the workspace for its lower layer" },
		{ SANDBOX_OVERLAY_ERR_LAYERS, 0,
		  "overlayfs on this kernel cannot take its layers by file descriptor "
		  "(\"lowerdir+\" by fd needs Linux 6.13)" },
		{ SANDBOX_OVERLAY_ERR_OPTIONS, 0,
		  "overlayfs on this kernel lacks an option airlock sets (redirect_dir, metacopy, "
		  "index, xino or nfs_export)" },
		{ SANDBOX_OVERLAY_ERR_CREATE, 0,
		  "overlayfs on this kernel refused detached, idmapped layers (needs Linux "
		  "6.15)" },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (streq(step, table[i].step) && (table[i].err == 0 || table[i].err == err))
			return snprintf(buf, size, "/filesystem/workspace/mode: overlay: %s: %s",
					table[i].text, strerror(-err));
	return snprintf(buf, size, "/filesystem/workspace/mode: overlay: %s", strerror(-err));
}

int preflight_mounts_refusal(const struct policy *p, const char *workspace, const char *bad,
			     int err, char *buf, size_t size)
{
	size_t etc = etc_index(p, bad);
	const char *entry;
	char path[64], what[80];

	if (etc != SIZE_MAX)
		return etc_refusal(p, etc, err, buf, size);
	if (bad && strneq(bad, "overlay:", strlen("overlay:")))
		return overlay_refusal(bad, err, buf, size);
	if (bad && workspace && streq(bad, workspace)) {
		if (err == -EOPNOTSUPP)
			return snprintf(buf, size,
					"workspace '%s' must be idmapped to the task (read-write, "
					"or not readable by others), which its filesystem does "
					"not support on this kernel (tmpfs needs Linux 6.3)",
					workspace);
		return mount_error(buf, size, "workspace", workspace, err);
	}
	entry = mount_entry_path(p, bad, path, sizeof(path));
	if (!entry) /* the system trees of the host root (or of rootfs) */
		return mount_error(buf, size, "system tree", bad ?: "?", err);
	snprintf(what, sizeof(what), "%s:", entry);
	return mount_error(buf, size, what, bad, err);
}
