/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "cgroup.h"
#include "config.h"
#include "cleanup.h"
#include "fd-util.h"
#include "landlock.h"
#include "macro.h"
#include "net-sysctl.h"
#include "probe.h"
#include "syscall-abi.h"

typedef bool (*probe_fn)(char *detail, size_t len);

static bool syscall_exists(long nr, long a, long b, long c)
{
	return syscall(nr, a, b, c, 0, 0) >= 0 || errno != ENOSYS;
}

static bool probe_kernel(char *d, size_t n)
{
	struct utsname u;

	if (uname(&u) < 0)
		return false;
	snprintf(d, n, "%s %s", u.sysname, u.release);
	return true;
}

static bool probe_userns(char *d, size_t n)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
	int status = 0;

	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		snprintf(d, n, "clone(CLONE_NEWUSER): %s", strerror(errno));
		return false;
	}
	waitpid(pid, &status, 0);
	return true;
}

static bool probe_namespaces(char *d, size_t n)
{
	static const char *const ns[] = { "mnt", "pid", "ipc", "uts", "cgroup", "net", "user" };
	char path[64];

	for (size_t i = 0; i < ELEMENTSOF(ns); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		if (access(path, F_OK) < 0) {
			snprintf(d, n, "missing %s namespace", ns[i]);
			return false;
		}
	}
	snprintf(d, n, "mnt pid ipc uts cgroup net user");
	return true;
}

static bool probe_clone3(char *d, size_t n)
{
	return syscall_exists(SYS_clone3, 0, 0, 0);
}

static bool probe_pidfd(char *d, size_t n)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool probe_close_range(char *d, size_t n)
{
	return syscall(SYS_close_range, ~0U - 1, ~0U, 0) == 0;
}

static bool probe_mount_api(char *d, size_t n)
{
	snprintf(d, n, "open_tree move_mount mount_setattr");
	return syscall_exists(SYS_open_tree, -1, 0, 0) &&
	       syscall_exists(SYS_move_mount, -1, 0, -1) &&
	       syscall_exists(SYS_mount_setattr, -1, 0, 0);
}

static bool probe_seccomp(char *d, size_t n)
{
	uint32_t action = SECCOMP_RET_ERRNO;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
		return false;
	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

static bool probe_landlock(char *d, size_t n)
{
	int abi = landlock_abi_version();

	if (abi < 0) {
		snprintf(d, n, "not available (filesystem.exec policies are refused)");
		return false;
	}
	snprintf(d, n, "ABI %d", abi);
	return true;
}

static bool probe_cgroups(char *d, size_t n)
{
	struct cgroup_layout l;
	char ctrls[96] = "";
	unsigned mask;

	if (cgroup_layout_detect(&l) < 0 || l.mode == CGROUP_MODE_NONE) {
		snprintf(d, n,
			 "no cgroup hierarchy (policies with memory/pids/cpu limits are refused)");
		return false;
	}
	mask = l.mode == CGROUP_MODE_V2 ? l.unified_controllers : l.v1_controllers;
	for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
		if (mask & CGROUP_MASK(c)) {
			strncat(ctrls, " ", sizeof(ctrls) - strlen(ctrls) - 1);
			strncat(ctrls, cgroup_controller_to_string(c),
				sizeof(ctrls) - strlen(ctrls) - 1);
		}
	snprintf(d, n, "%s, delegation %s, parent '%s', controllers:%s",
		 cgroup_mode_to_string(l.mode), cgroup_delegation_to_string(l.delegation),
		 AIRLOCK_CGROUP_PARENT[0] ? AIRLOCK_CGROUP_PARENT : l.default_parent, ctrls);
	return true;
}

static bool probe_io_weight(char *d, size_t n)
{
	struct cgroup_layout l;
	const char *knob;

	if (cgroup_layout_detect(&l) < 0)
		return false;
	knob = cgroup_io_weight_knob(&l);
	if (knob)
		snprintf(d, n, "through %s", knob);
	else
		snprintf(d, n,
			 "no block device scheduler here acts on io weights (BFQ, or "
			 "io.cost on cgroup v2): /limits/io_weight is refused");
	return knob != NULL;
}

static bool probe_nftables(char *d, size_t n)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	if (fd < 0) {
		snprintf(d, n, "%s", strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

static bool probe_ip_forward(char *d, size_t n)
{
	int r = net_ip_forward_enabled();

	if (r < 0)
		return false;
	snprintf(d, n, "net.ipv4.ip_forward=%d (network egress needs 1, or forwarding: manage)", r);
	return r > 0;
}

static bool probe_overlay(char *d, size_t n)
{
	_cleanup_free_ char *f = NULL;

	if (read_file_at(AT_FDCWD, "/proc/filesystems", 65536, &f, NULL) < 0)
		return false;
	return strstr(f, "\toverlay\n") != NULL;
}

/* One entry per syscall ABI: "abi-<name>" is available when the kernel runs it. */
static size_t probe_abis(struct probe_result *res, size_t room)
{
	static const char *const details[_SYSCALL_ABI_STATE_MAX] = {
		[SYSCALL_ABI_NATIVE] = "native: the only ABI the seccomp profile allows",
		[SYSCALL_ABI_RUNS] =
			"the kernel runs it; the seccomp profile kills a task using it",
		[SYSCALL_ABI_OFF] = "blocked by the kernel: ABI not enabled",
		[SYSCALL_ABI_UNKNOWN] = "unknown: the check was refused by something else",
		[SYSCALL_ABI_NOT_TESTED] = "n/a: not tested on this architecture",
	};
	struct syscall_abi abis[SYSCALL_ABI_MAX];
	size_t n = MIN(syscall_abi_detect(abis), room);

	for (size_t i = 0; i < n; i++) {
		res[i] = (struct probe_result){
			.name = abis[i].name,
			.available = abis[i].state == SYSCALL_ABI_NATIVE ||
				     abis[i].state == SYSCALL_ABI_RUNS,
		};
		snprintf(res[i].name_buf, sizeof(res[i].name_buf), "abi-%s", abis[i].name);
		res[i].name = res[i].name_buf;
		if (abis[i].state == SYSCALL_ABI_OFF)
			snprintf(res[i].detail, sizeof(res[i].detail),
				 "blocked by the kernel: %s ABI not enabled", abis[i].name);
		else
			snprintf(res[i].detail, sizeof(res[i].detail), "%s",
				 details[abis[i].state]);
	}
	return n;
}

size_t probe_all(struct probe_result *res)
{
	static const struct {
		const char *name;
		probe_fn fn;
		bool required;
	} probes[] = {
		{ "kernel", probe_kernel, true },
		{ "user-namespaces", probe_userns, true },
		{ "namespaces", probe_namespaces, true },
		{ "clone3", probe_clone3, true },
		{ "pidfd", probe_pidfd, true },
		{ "close-range", probe_close_range, true },
		{ "mount-api", probe_mount_api, true },
		{ "seccomp-filter", probe_seccomp, true },
		{ "cgroups", probe_cgroups, false },
		{ "io-weight", probe_io_weight, false },
		{ "landlock", probe_landlock, false },
		{ "nftables", probe_nftables, false },
		{ "ip-forward", probe_ip_forward, false },
		{ "overlayfs", probe_overlay, false },
	};
	size_t count = 0;

	for (size_t i = 0; i < ELEMENTSOF(probes) && count < PROBE_MAX; i++) {
		struct probe_result *r = &res[count++];

		*r = (struct probe_result){ .name = probes[i].name,
					    .required = probes[i].required };
		r->available = probes[i].fn(r->detail, sizeof(r->detail));
	}
	return count + probe_abis(res + count, PROBE_MAX - count);
}
