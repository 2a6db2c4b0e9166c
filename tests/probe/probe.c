/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * airlock-probe: runs inside a sandbox and reports what it finds, one finding per line.
 * Each subcommand exits 0 when the sandbox looks as expected and 1 when it does not, so
 * the integration tests can assert on the exit code and show the output on failure.
 *
 * It is linked statically so it also runs on a tiny rootfs, and it uses no library call
 * that needs files or sockets the sandbox may hide (no NSS, no netlink). The syscall-family
 * checks ("syscalls") live in probe-syscalls.c.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "macro.h"
#include "probe.h"

extern char **environ;

struct probe_cmd {
	const char *name;
	const char *usage;
	int min_args;
	int (*run)(int argc, char **argv);
};

/* ---- small helpers ---- */

static int read_file(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -EBADF;
	size_t n = 0;
	ssize_t k;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n + 1 < size) {
		k = read(fd, buf + n, size - 1 - n);
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	return (int)n;
}

/* Value of "Key:" in /proc/self/status, trimmed, into buf. */
static int status_field(const char *key, char *buf, size_t size)
{
	char text[8192];
	const char *p, *e;
	size_t klen = strlen(key), n;
	int r;

	r = read_file("/proc/self/status", text, sizeof(text));
	if (r < 0)
		return r;
	for (p = text; *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, '\n');
		if (!strneq(p, key, klen) || p[klen] != ':')
			continue;
		p += klen + 1;
		p += strspn(p, " \t");
		e = strchrnul(p, '\n');
		n = MIN((size_t)(e - p), size - 1);
		memcpy(buf, p, n);
		buf[n] = '\0';
		return 0;
	}
	return -ENOENT;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Prints a file's content, each line prefixed. */
static void print_file(const char *prefix, const char *path)
{
	char buf[4096], *line, *save = NULL;
	int r;

	r = read_file(path, buf, sizeof(buf));
	if (r < 0) {
		printf("%s: cannot read %s: %s\n", prefix, path, strerror(-r));
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("%s: %s\n", prefix, line);
}

/* ---- ids, caps, hostname, env, cwd ---- */

static int cmd_ids(int argc, char **argv)
{
	gid_t groups[64];
	int n, ok = 1;

	printf("uid=%u euid=%u gid=%u egid=%u\n", getuid(), geteuid(), getgid(), getegid());
	n = getgroups(ELEMENTSOF(groups), groups);
	printf("groups=%d", n);
	for (int i = 0; i < n; i++)
		printf(" %u", groups[i]);
	printf("\n");
	print_file("uid_map", "/proc/self/uid_map");
	print_file("gid_map", "/proc/self/gid_map");
	print_file("setgroups", "/proc/self/setgroups");
	if (argc >= 2) {
		uid_t u = (uid_t)strtoul(argv[0], NULL, 10);
		gid_t g = (gid_t)strtoul(argv[1], NULL, 10);

		ok = getuid() == u && geteuid() == u && getgid() == g && getegid() == g;
		if (n > 0 && !(n == 1 && groups[0] == g))
			ok = 0;
	}
	return ok ? 0 : 1;
}

static int cmd_caps(int argc, char **argv)
{
	static const struct {
		const char *key, *want;
	} fields[] = {
		{ "CapInh", "0000000000000000" },
		{ "CapPrm", "0000000000000000" },
		{ "CapEff", "0000000000000000" },
		{ "CapBnd", "0000000000000000" },
		{ "CapAmb", "0000000000000000" },
		{ "NoNewPrivs", "1" },
		{ "Seccomp", "2" },
	};
	char val[128];
	int fail = 0;

	for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
		bool good;

		if (status_field(fields[i].key, val, sizeof(val)) < 0)
			strcpy(val, "(missing)");
		good = streq(val, fields[i].want);
		printf("%s: %s%s%s\n", fields[i].key, val, good ? "" : "  <-- expected ",
		       good ? "" : fields[i].want);
		fail |= !good;
	}
	return fail;
}

static int cmd_hostname(int argc, char **argv)
{
	struct utsname u;

	if (uname(&u) < 0)
		return 1;
	printf("hostname: %s\n", u.nodename);
	return argc >= 1 && !streq(argv[0], u.nodename) ? 1 : 0;
}

static int cmd_cwd(int argc, char **argv)
{
	char buf[PATH_MAX];

	if (!getcwd(buf, sizeof(buf)))
		return 1;
	printf("cwd: %s\n", buf);
	return argc >= 1 && !streq(argv[0], buf) ? 1 : 0;
}

/* Without arguments prints the environment; with KEY=VALUE arguments requires exactly them. */
static int cmd_env(int argc, char **argv)
{
	int n = 0, fail = 0;

	for (char **e = environ; e && *e; e++, n++) {
		bool listed = argc == 0;

		for (int i = 0; i < argc && !listed; i++)
			listed = streq(argv[i], *e);
		printf("env: %s%s\n", *e, listed ? "" : "  <-- unexpected");
		fail |= !listed;
	}
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		const char *v = eq ? getenv(strndupa(argv[i], (size_t)(eq - argv[i]))) : NULL;

		if (!v || !streq(v, eq + 1)) {
			printf("env: %s  <-- missing\n", argv[i]);
			fail = 1;
		}
	}
	return fail;
}

static int cmd_rlimit(int argc, char **argv)
{
	struct rlimit rl;
	uint64_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1;
	printf("nofile: soft=%llu hard=%llu\n", (unsigned long long)rl.rlim_cur,
	       (unsigned long long)rl.rlim_max);
	if (argc >= 1 &&
	    (parse_u64(argv[0], &want) < 0 || rl.rlim_cur != want || rl.rlim_max != want))
		return 1;
	return 0;
}

/* ---- fds, processes, network, namespaces ---- */

static int cmd_fds(int argc, char **argv)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fail = 0;

	if (!d)
		return 1;
	while ((de = readdir(d))) {
		char path[64], target[PATH_MAX] = "";
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (readlink(path, target, sizeof(target) - 1) < 0)
			strcpy(target, "?");
		printf("fd %d: %s%s\n", fd, target, fd > 2 ? "  <-- inherited" : "");
		fail |= fd > 2;
	}
	closedir(d);
	return fail;
}

static int cmd_procs(int argc, char **argv)
{
	DIR *d = opendir("/proc");
	uint64_t max = 8;
	struct dirent *de;
	unsigned n = 0;

	if (!d || (argc >= 1 && parse_u64(argv[0], &max) < 0))
		return 1;
	while ((de = readdir(d))) {
		char path[300], comm[64] = "";

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (read_file(path, comm, sizeof(comm)) > 0)
			comm[strcspn(comm, "\n")] = '\0';
		printf("proc %s: %s\n", de->d_name, comm);
		n++;
	}
	closedir(d);
	printf("procs: %u visible, self pid %d\n", n, getpid());
	return n <= max && getpid() <= (pid_t)max * 4 ? 0 : 1;
}

/* Interface names from /proc/net/dev; fails unless the only one is "lo". */
static int list_proc_net_dev(void)
{
	char buf[8192], *line, *save = NULL;
	int r, fail = 0, n = 0;

	r = read_file("/proc/net/dev", buf, sizeof(buf));
	if (r < 0) {
		printf("/proc/net/dev: %s\n", strerror(-r));
		return 1;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		line += strspn(line, " ");
		printf("interface: %s%s\n", line, streq(line, "lo") ? "" : "  <-- not loopback");
		fail |= !streq(line, "lo");
		n++;
	}
	return fail || n != 1;
}

/* Interfaces with an IPv4 address, via SIOCGIFCONF (no netlink needed). */
static int list_ifconf(void)
{
	struct ifreq reqs[32];
	struct ifconf ifc = { .ifc_len = sizeof(reqs), .ifc_req = reqs };
	_cleanup_close_ int fd = -EBADF;
	int fail = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFCONF, &ifc) < 0) {
		printf("SIOCGIFCONF: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < ifc.ifc_len / sizeof(struct ifreq); i++) {
		bool lo = streq(reqs[i].ifr_name, "lo");

		printf("ifconf: %s%s\n", reqs[i].ifr_name, lo ? "" : "  <-- not loopback");
		fail |= !lo;
	}
	return fail;
}

/* A TCP connection over 127.0.0.1 must work: the task keeps its loopback. */
static int check_loopback(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	_cleanup_close_ int l = -EBADF, c = -EBADF;
	socklen_t len = sizeof(a);

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0 ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
		printf("loopback: %s  <-- not usable\n", strerror(errno));
		return 1;
	}
	printf("loopback: tcp connect to 127.0.0.1:%u ok\n", ntohs(a.sin_port));
	return 0;
}

static int cmd_net(int argc, char **argv)
{
	int fail;

	fail = list_proc_net_dev();
	fail |= list_ifconf();
	fail |= check_loopback();
	return fail;
}

static int cmd_ns(int argc, char **argv)
{
	static const char *const types[] = { "user", "mnt", "pid", "net", "ipc", "uts", "cgroup" };

	for (size_t i = 0; i < ELEMENTSOF(types); i++) {
		char path[64];
		struct stat st;

		snprintf(path, sizeof(path), "/proc/self/ns/%s", types[i]);
		if (stat(path, &st) < 0)
			printf("ns %s: %s\n", types[i], strerror(errno));
		else
			printf("ns %s: %" PRIu64 "\n", types[i], (uint64_t)st.st_ino);
	}
	return 0;
}

/* ---- filesystem ---- */

/* Tries to create a file below dir (or to open file for writing): 0 or -errno. */
static int try_write(const char *path)
{
	char tmp[PATH_MAX];
	struct stat st;
	int fd;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		snprintf(tmp, sizeof(tmp), "%s/.airlock-probe-%d", path, getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			unlink(tmp);
	} else {
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int cmd_ro(int argc, char **argv)
{
	int fail = 0;

	for (int i = 0; i < argc; i++) {
		struct statvfs sv;
		bool rdonly;
		int r;

		rdonly = statvfs(argv[i], &sv) == 0 && (sv.f_flag & ST_RDONLY);
		r = try_write(argv[i]);
		/* The mount flag is the proof; the write error varies (EROFS, EACCES, ENOENT). */
		if (rdonly && r < 0) {
			printf("%s: read-only (%s)\n", argv[i], strerrorname_np(-r));
			continue;
		}
		printf("%s: %s, write %s  <-- not read-only\n", argv[i],
		       rdonly ? "ST_RDONLY" : "mount writable",
		       r == 0 ? "succeeded" : strerror(-r));
		fail = 1;
	}
	return fail;
}

static int cmd_write(int argc, char **argv)
{
	_cleanup_close_ int fd = -EBADF;
	size_t len = strlen(argv[1]);

	fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, argv[1], len) != (ssize_t)len) {
		printf("write %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	printf("write %s: %zu bytes\n", argv[0], len);
	return 0;
}

static int cmd_absent(int argc, char **argv)
{
	int fail = 0;

	for (int i = 0; i < argc; i++) {
		struct stat st;
		bool gone = lstat(argv[i], &st) < 0 && errno == ENOENT;

		printf("%s: %s\n", argv[i], gone ? "absent" : "present  <-- should be absent");
		fail |= !gone;
	}
	return fail;
}

/* A masked path cannot be opened, reads as empty, or is an empty directory. */
static bool is_masked(const char *path, char *how, size_t size)
{
	char buf[64];
	struct stat st;
	DIR *d;
	int r;

	if (stat(path, &st) < 0) {
		snprintf(how, size, "stat: %s", strerror(errno));
		return errno == ENOENT || errno == EACCES;
	}
	if (!S_ISDIR(st.st_mode)) {
		r = read_file(path, buf, sizeof(buf));
		snprintf(how, size, "read: %s", r < 0 ? strerror(-r) : r == 0 ? "empty" : "data");
		return r <= 0 && r != -EFAULT;
	}
	d = opendir(path);
	if (!d) {
		snprintf(how, size, "opendir: %s", strerror(errno));
		return true;
	}
	r = 0;
	for (struct dirent *de; (de = readdir(d));)
		r += de->d_name[0] != '.';
	closedir(d);
	snprintf(how, size, "directory with %d entries", r);
	return r == 0;
}

static int cmd_masked(int argc, char **argv)
{
	int fail = 0;

	for (int i = 0; i < argc; i++) {
		char how[128];
		bool m = is_masked(argv[i], how, sizeof(how));

		printf("%s: %s%s\n", argv[i], how, m ? " (masked)" : "  <-- not masked");
		fail |= !m;
	}
	return fail;
}

/* Writes 1 MiB chunks below dir until ENOSPC; passes if that happens within size bytes. */
static int cmd_tmpfs_fill(int argc, char **argv)
{
	static char chunk[1 << 20];
	char path[PATH_MAX];
	uint64_t size, total = 0;
	int fd, err = 0;

	if (parse_u64(argv[1], &size) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/.airlock-fill-%d", argv[0], getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		printf("open %s: %s\n", path, strerror(errno));
		return 1;
	}
	memset(chunk, 'x', sizeof(chunk));
	while (total <= size + (4 << 20)) {
		ssize_t k = write(fd, chunk, sizeof(chunk));

		if (k <= 0) {
			err = k < 0 ? errno : ENOSPC;
			break;
		}
		total += (uint64_t)k;
	}
	close(fd);
	unlink(path);
	printf("tmpfs-fill %s: wrote %" PRIu64 " bytes, then %s\n", argv[0], total,
	       err ? strerror(err) : "no error");
	return err == ENOSPC && total <= size ? 0 : 1;
}

/* Copies this program below dir and executes it; passes if execve is denied (EACCES). */
static int cmd_noexec(int argc, char **argv)
{
	char buf[65536];
	_cleanup_close_ int in = -EBADF, out = -EBADF;
	int status;
	ssize_t k;
	pid_t pid;

	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	out = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		return printf("noexec: cannot copy to %s: %s\n", argv[0], strerror(errno)), 1;
	while ((k = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)k) != k)
			return 1;
	out = safe_close(out);

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(argv[0], argv[0], "exit", "42", (char *)NULL);
		_exit(errno == EACCES ? 200 : 201);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	unlink(argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 200)
		return printf("noexec %s: execve denied (EACCES)\n", argv[0]), 0;
	printf("noexec %s: %s  <-- exec not denied\n", argv[0],
	       WIFEXITED(status) && WEXITSTATUS(status) == 42 ? "executed" : "other failure");
	return 1;
}

/* ---- behaviour for exit-code and lifecycle tests ---- */

static int cmd_exit(int argc, char **argv)
{
	return atoi(argv[0]);
}

static int cmd_kill(int argc, char **argv)
{
	int sig = atoi(argv[0]);

	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
	return 1;
}

static int cmd_sleep(int argc, char **argv)
{
	unsigned s = (unsigned)atoi(argv[0]);

	while ((s = sleep(s)) > 0)
		;
	return 0;
}

/* Writes n bytes ('x' lines of 64) to stdout, or stderr with "err". */
static int cmd_output(int argc, char **argv)
{
	char line[64];
	uint64_t n;
	int fd = argc >= 2 && streq(argv[1], "err") ? 2 : 1;

	if (parse_u64(argv[0], &n) < 0)
		return 1;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	while (n > 0) {
		size_t k = MIN(n, sizeof(line));

		if (write(fd, line + sizeof(line) - k, k) < 0)
			return 1;
		n -= k;
	}
	return 0;
}

/* Leaves a detached grandchild (new session) sleeping, then returns. */
static int cmd_daemon(int argc, char **argv)
{
	int devnull;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0)
		return waitpid(pid, NULL, 0) < 0;
	setsid();
	if (fork() != 0)
		_exit(0);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3 && devnull >= 0; fd++)
		dup2(devnull, fd);
	cmd_sleep(argc, argv);
	_exit(0);
}

static int cmd_true(int argc, char **argv)
{
	return 0;
}

static const struct probe_cmd commands[] = {
	{ "ids", "[UID GID]", 0, cmd_ids },
	{ "caps", "", 0, cmd_caps },
	{ "hostname", "[NAME]", 0, cmd_hostname },
	{ "cwd", "[PATH]", 0, cmd_cwd },
	{ "env", "[KEY=VALUE...]", 0, cmd_env },
	{ "rlimit", "[NOFILE]", 0, cmd_rlimit },
	{ "syscalls", "[NAME...]", 0, probe_syscalls },
	{ "abi", "i386|x32", 1, probe_abi },
	{ "fds", "", 0, cmd_fds },
	{ "procs", "[MAX]", 0, cmd_procs },
	{ "net", "", 0, cmd_net },
	{ "ns", "", 0, cmd_ns },
	{ "ro", "PATH...", 1, cmd_ro },
	{ "write", "FILE TEXT", 2, cmd_write },
	{ "absent", "PATH...", 1, cmd_absent },
	{ "masked", "PATH...", 1, cmd_masked },
	{ "tmpfs-fill", "DIR SIZE", 2, cmd_tmpfs_fill },
	{ "noexec", "PATH", 1, cmd_noexec },
	{ "exit", "CODE", 1, cmd_exit },
	{ "kill", "SIGNAL", 1, cmd_kill },
	{ "sleep", "SECONDS", 1, cmd_sleep },
	{ "output", "BYTES [err]", 1, cmd_output },
	{ "daemon", "SECONDS", 1, cmd_daemon },
	{ "true", "", 0, cmd_true },
};

static int usage(void)
{
	fprintf(stderr, "usage: airlock-probe COMMAND [ARG...]\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		fprintf(stderr, "  %s %s\n", commands[i].name, commands[i].usage);
	return 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage();
	for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
		if (!streq(argv[1], commands[i].name))
			continue;
		if (argc - 2 < commands[i].min_args)
			return usage();
		return commands[i].run(argc - 2, argv + 2);
	}
	return usage();
}
