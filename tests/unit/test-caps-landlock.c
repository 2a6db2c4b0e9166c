/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capabilities and Landlock: caps_drop_all() in a user namespace the child maps itself and
 * in one its parent maps (the supervisor's way), and the Landlock exec allowlist. Every
 * case runs in forked children; a control run without the restriction proves each refusal
 * is the one under test. The seccomp profile has its own test, test-syscall-filter.c.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "fd-util.h"
#include "landlock.h"
#include "macro.h"
#include "sandbox-test-util.h"
#include "syscall-filter.h"
#include "test.h"

/* Returns 0 or the number of the first /proc/self/status line that is not as expected. */
static int status_check(unsigned uid)
{
	static const char *const want[] = {
		"CapInh:\t0000000000000000\n",
		"CapPrm:\t0000000000000000\n",
		"CapEff:\t0000000000000000\n",
		"CapBnd:\t0000000000000000\n",
		"CapAmb:\t0000000000000000\n",
		"NoNewPrivs:\t1\n",
		"Groups:\t \n",
		NULL,
	};
	char buf[8192], uidline[64];
	int fd;
	ssize_t n;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 50;
	n = read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 51;
	buf[n] = '\0';
	for (size_t i = 0; want[i]; i++)
		if (!strstr(buf, want[i]))
			return 60 + (int)i;
	snprintf(uidline, sizeof(uidline), "Uid:\t%u\t%u\t%u\t%u\n", uid, uid, uid, uid);
	return strstr(buf, uidline) ? 0 : 70;
}

static int write_file(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return write_all(fd, s, strlen(s));
}

/* The child writes its own maps: only its own uid/gid can be mapped (as uid/gid 0). */
static int caps_child_self_mapped(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

	/* As root, shed supplementary groups first: setgroups is "deny" once we map ourselves. */
	if (uid == 0 && setgroups(0, NULL) < 0)
		return 10;
	if (unshare(CLONE_NEWUSER) < 0)
		return 77;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return 11;
	if (write_file("/proc/self/setgroups", "deny") < 0)
		return 12;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		return 13;
	if (getgroups(0, NULL) != 0)
		return 77; /* a non-root user's groups cannot be dropped here */
	if (caps_drop_all(0, 0) < 0)
		return 20;
	return status_check(0);
}

TEST(caps_drop_all_self_mapped)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(caps_child_self_mapped());
	status = sandbox_test_child_wait(pid);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		TEST_SKIP("user namespaces unavailable to this user");
	}
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

/* The supervisor's way: the parent maps a range, the child drops to uid/gid 1000. */
static int caps_child_parent_mapped(int rfd)
{
	char c;
	int r;

	if (read(rfd, &c, 1) != 1)
		return 10;
	/* Still uid 0 with every capability in the new namespace, and root's groups. */
	r = caps_drop_all(1000, 1000);
	if (r < 0)
		return 20;
	if (getgroups(0, NULL) != 0 || getuid() != 1000 || getgid() != 1000)
		return 21;
	/* Nothing left to regain: setuid(0) and raising a capability fail. */
	if (setuid(0) == 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 0, 0, 0) == 0)
		return 22;
	return status_check(1000);
}

static int map_child(pid_t pid)
{
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	r = write_file(path, "0 200000 65536\n");
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	return write_file(path, "0 200000 65536\n");
}

/* In a forked helper with supplementary groups, as the supervisor would be: 0 or a step. */
static int caps_parent_mapped_helper(void)
{
	_cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
	const gid_t groups[] = { 100, 4242 };
	int fds[2], status;
	pid_t pid;

	if (setgroups(ELEMENTSOF(groups), groups) < 0 || pipe2(fds, O_CLOEXEC) < 0)
		return 1;
	rfd = fds[0];
	wfd = fds[1];
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		return 2;
	if (pid == 0)
		_exit(caps_child_parent_mapped(rfd));
	if (map_child(pid) < 0 || write(wfd, "g", 1) != 1)
		return 3;
	status = sandbox_test_child_wait(pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 4;
}

TEST(caps_drop_all_parent_mapped)
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		TEST_SKIP("mapping a uid range needs root");
	}
	pid = fork();
	if (pid == 0)
		_exit(caps_parent_mapped_helper());
	status = sandbox_test_child_wait(pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
}

static int exec_status(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(path, path, NULL);
		_exit(127);
	}
	return sandbox_test_child_wait(pid);
}

/* Exits 1 (from /usr/bin/false) when the copy was refused with EACCES and /usr allowed. */
static int landlock_child(const char *copy)
{
	char *const usr[] = { "/usr", NULL };
	char *const rel[] = { "usr", NULL };
	char *const missing[] = { "/nonexistent-airlock", NULL };

	if (landlock_restrict_exec(rel) != -EINVAL || landlock_restrict_exec(missing) != -ENOENT)
		return 9;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || landlock_restrict_exec(usr) < 0)
		return 8;
	execl(copy, copy, NULL);
	if (errno != EACCES)
		return 10;
	execl("/usr/bin/false", "false", NULL);
	return 11;
}

TEST(landlock_exec_allowlist)
{
	char dir[] = "/tmp/airlock-test-ll-XXXXXX", copy[64], cmd[160];
	int status, control, abi = landlock_abi_version();
	pid_t pid;

	if (abi == -EOPNOTSUPP) {
		TEST_SKIP("kernel without Landlock");
	}
	ASSERT_TRUE(abi >= 1);
	printf("# Landlock ABI %d\n", abi);

	ASSERT_TRUE(mkdtemp(dir));
	snprintf(copy, sizeof(copy), "%s/true", dir);
	snprintf(cmd, sizeof(cmd), "cp /usr/bin/true '%s'", copy);
	ASSERT_EQ(system(cmd), 0);
	/* Control: without Landlock the copy runs (so /tmp is not noexec). */
	control = exec_status(copy);
	pid = fork();
	if (pid == 0)
		_exit(landlock_child(copy));
	status = sandbox_test_child_wait(pid);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
	if (!WIFEXITED(control) || WEXITSTATUS(control) != 0) {
		TEST_SKIP("cannot execute from /tmp without Landlock either");
	}
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 1);
}

/*
 * A listed path that is, or passes through, a symlink fails with -ELOOP. Under the
 * filter, openat2 fails with ENOSYS, which exercises the component-by-component fallback.
 */
static int landlock_symlink_child(const char *dir, const struct syscall_filter *f)
{
	char link[128], via[128], real[128];
	char *const paths[][2] = { { link, NULL }, { via, NULL }, { real, NULL } };

	snprintf(link, sizeof(link), "%s/bin", dir);
	snprintf(via, sizeof(via), "%s/bin/sub", dir);
	snprintf(real, sizeof(real), "%s/real/sub", dir);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 8;
	if (f && syscall_filter_install(f) < 0)
		return 12;
	if (landlock_restrict_exec(paths[0]) != -ELOOP)
		return 9;
	if (landlock_restrict_exec(paths[1]) != -ELOOP)
		return 10;
	return landlock_restrict_exec(paths[2]) == 0 ? 0 : 11;
}

TEST(landlock_refuses_symlinks)
{
	_cleanup_filter_ struct syscall_filter *f = sandbox_test_filter_compile();
	char dir[] = "/tmp/airlock-test-ls-XXXXXX", cmd[200];
	int status[2];

	if (landlock_abi_version() == -EOPNOTSUPP) {
		TEST_SKIP("kernel without Landlock");
	}
	ASSERT_TRUE(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/real/sub' && ln -s real '%s/bin'", dir, dir);
	ASSERT_EQ(system(cmd), 0);
	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(landlock_symlink_child(dir, i ? f : NULL));
		status[i] = sandbox_test_child_wait(pid);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
	ASSERT_TRUE(WIFEXITED(status[0]) && WIFEXITED(status[1]));
	ASSERT_EQ(WEXITSTATUS(status[0]), 0);
	ASSERT_EQ(WEXITSTATUS(status[1]), 0); /* without openat2 */
}

TEST_MAIN()
