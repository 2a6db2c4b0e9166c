/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * airlock-dns-proxy: the DNS proxy of one networked run (dns-proxy.h). Only the supervisor
 * starts it (dns-proxy-start.c), with an empty environment and exactly these fds: 0-2
 * /dev/null, DNS_PROXY_FD_LISTEN, _IPC, _LISTEN_TCP and _CONFIG. Still root, it reads its
 * configuration and allocates all it will need; then it drops to nobody, re-arms its
 * parent-death signal (the change of uid cleared it), becomes undumpable, loads its seccomp
 * filter and says so on the guard's socket (struct dns_ipc_ready). A failure before that is
 * reported there as {step, -errno}, and the proxy exits. It never logs.
 *
 * Dropping privileges here rather than before the exec matters: a process that changes its
 * uid from root is not dumpable, so no other process running as nobody can ptrace it.
 */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "dns-proxy-config.h"
#include "dns-proxy.h"

static void report(enum dns_proxy_step step, int error)
{
	struct dns_ipc_ready m = { .type = DNS_IPC_READY, .step = step, .error = error };

	(void)send(DNS_PROXY_FD_IPC, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static _Noreturn void fail(enum dns_proxy_step step, int error)
{
	report(step, error < 0 ? error : -EINVAL);
	_exit(1);
}

/* Its fds are the expected kind; anything else the exec let through is closed. */
static int check_fds(void)
{
	struct stat st;

	for (int fd = DNS_PROXY_FD_LISTEN; fd <= DNS_PROXY_FD_CONFIG; fd++) {
		if (fstat(fd, &st) < 0)
			return -errno;
		if (fd == DNS_PROXY_FD_CONFIG ? !S_ISREG(st.st_mode) : !S_ISSOCK(st.st_mode))
			return -EBADF;
	}
	if (close_range(DNS_PROXY_FD_CONFIG + 1, ~0U, 0) < 0)
		return -errno;
	return 0;
}

static int read_config(struct dns_proxy_config *cfg, struct policy_network *net, pid_t *parent)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct stat st;
	size_t n = 0;

	if (fstat(DNS_PROXY_FD_CONFIG, &st) < 0)
		return -errno;
	if (st.st_size <= 0 || st.st_size > DNS_PROXY_CONFIG_MAX)
		return -EBADMSG;
	buf = malloc((size_t)st.st_size);
	if (!buf)
		return -ENOMEM;
	while (n < (size_t)st.st_size) {
		ssize_t k = pread(DNS_PROXY_FD_CONFIG, buf + n, (size_t)st.st_size - n, (off_t)n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EBADMSG;
		n += (size_t)k;
	}
	if (close(DNS_PROXY_FD_CONFIG) < 0)
		return -errno;
	return dns_proxy_config_parse(buf, n, cfg, net, parent);
}

static int drop_privileges(pid_t parent)
{
	struct rlimit nofile = { DNS_PROXY_NOFILE, DNS_PROXY_NOFILE };

	/* A proxy that hoards sockets holds at most this many; SCM_RIGHTS beyond it fail. */
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		return -errno;
	if (setgroups(0, NULL) < 0 || setresgid(DNS_PROXY_UID, DNS_PROXY_UID, DNS_PROXY_UID) < 0 ||
	    setresuid(DNS_PROXY_UID, DNS_PROXY_UID, DNS_PROXY_UID) < 0)
		return -errno;
	/* uid 0 -> non-zero clears permitted/effective; ambient goes explicitly. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	/* The uid change cleared the parent-death signal: again, and the parent still there. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -errno;
	if (getppid() != parent)
		return -ESRCH;
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		return -errno;
	/* A kernel before 6.14 names a program run by execveat() of an fd after the fd. */
	(void)prctl(PR_SET_NAME, "airlock-dns-pro");
	if (chdir("/") < 0)
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static struct dns_proxy_config cfg;
	static struct policy_network net;
	struct stat st;
	pid_t parent;
	int r;

	if (argc != 1 || fstat(DNS_PROXY_FD_IPC, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr,
			"%s: the DNS proxy of airlock's networked runs; only airlock "
			"starts it\n",
			argc > 0 ? argv[0] : DNS_PROXY_PROGRAM);
		_exit(2);
	}
	r = check_fds();
	if (r < 0)
		fail(DNS_PROXY_STEP_FDS, r);
	r = read_config(&cfg, &net, &parent);
	if (r < 0)
		fail(DNS_PROXY_STEP_CONFIG, r);
	r = dns_proxy_prepare(&cfg);
	if (r < 0)
		fail(DNS_PROXY_STEP_PREPARE, r);
	r = drop_privileges(parent);
	if (r < 0)
		fail(DNS_PROXY_STEP_PRIVILEGES, r);
	r = dns_proxy_seccomp_load();
	if (r < 0)
		fail(DNS_PROXY_STEP_SECCOMP, r);
	report(DNS_PROXY_STEP_NONE, 0);
	dns_proxy_run(&cfg);
}
