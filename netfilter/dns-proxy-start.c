/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's side of the DNS proxy (see dns-proxy.h): the sockets it creates as root
 * and hands to the proxy (its listeners, and a fresh upstream socket for every query), and
 * the proxy program's start and stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sock_diag.h>
#include <linux/sockios.h>

#include "cleanup.h"
#include "dns-proxy-config.h"
#include "dns-proxy.h"
#include "fd-util.h"
#include "macro.h"
#include "netns-util.h"

/* Bytes of unread replies in the proxy's queue past which no more sockets are sent. */
#define SOCKETS_QUEUED_MAX (16 * 1024)

/* A UDP socket connected to upstream port 53, on a fresh port the kernel picks at random. */
static int udp_upstream_socket(const struct policy_addr *a)
{
	/* IPv6 egress: an IPv6 upstream gets IPv6 sockets (the listening socket is IPv4). */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	bool v6 = a->family == AF_INET6;
	struct sockaddr *sp = v6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa;
	socklen_t sl = v6 ? sizeof(sa6) : sizeof(sa);
	_cleanup_close_ int fd = -EBADF;

	fd = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	memcpy(&sa.sin_addr, a->addr, 4);
	memcpy(&sa6.sin6_addr, a->addr, 16);
	if (connect(fd, sp, sl) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* Whether the proxy still has more than SOCKETS_QUEUED_MAX bytes of our replies unread. */
static bool proxy_lags(int ipc_fd)
{
	int queued = 0;

	return ioctl(ipc_fd, SIOCOUTQ, &queued) == 0 && queued > SOCKETS_QUEUED_MAX;
}

/* A TCP socket whose connect to upstream port 53 is under way (non-blocking). */
static int tcp_upstream_socket(const struct policy_addr *a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	bool v6 = a->family == AF_INET6;
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (v6) {
		memcpy(&sa6.sin6_addr, a->addr, 16);
		r = connect(fd, (struct sockaddr *)&sa6, sizeof(sa6));
	} else {
		memcpy(&sa.sin_addr, a->addr, 4);
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (r < 0 && errno != EINPROGRESS)
		return -errno;
	return TAKE_FD(fd);
}

uint32_t dns_socket_budget_take(struct dns_socket_budget *b, uint32_t n, uint32_t burst,
				uint32_t per_sec, uint64_t now_ms)
{
	uint32_t granted;

	if (b->last_ms == 0 || now_ms < b->last_ms)
		b->tokens = burst;
	else
		b->tokens = MIN((double)burst,
				b->tokens + (double)(now_ms - b->last_ms) * per_sec / 1000.0);
	b->last_ms = now_ms ? now_ms : 1;
	granted = (uint32_t)MIN((double)n, b->tokens);
	b->tokens -= granted;
	b->refused += n - granted;
	return granted;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* How many of the n sockets asked for the budget grants (all without one). */
static uint32_t budget_grant(struct dns_socket_budget *b, uint32_t n, uint32_t type)
{
	if (!b)
		return n;
	if (type == DNS_IPC_TCP)
		return dns_socket_budget_take(b, n, DNS_GUARD_TCP_BURST, DNS_GUARD_SOCKETS_PER_SEC,
					      now_ms());
	return dns_socket_budget_take(b, n, DNS_GUARD_UDP_BURST, DNS_GUARD_SOCKETS_PER_SEC,
				      now_ms());
}

static int send_sockets(int ipc_fd, const struct policy_addr *upstream, uint32_t n, uint32_t type,
			struct dns_socket_budget *budget)
{
	union {
		struct cmsghdr h;
		uint8_t buf[CMSG_SPACE(sizeof(int) * DNS_PROXY_SPARE_SOCKETS)];
	} ctl = {};
	struct dns_ipc_reply reply = { .type = type };
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[DNS_PROXY_SPARE_SOCKETS], r = 0;
	size_t k = 0;

	n = MIN(n, (uint32_t)DNS_PROXY_SPARE_SOCKETS);
	if (upstream->family != AF_INET && upstream->family != AF_INET6)
		r = -EAFNOSUPPORT;
	else if (proxy_lags(ipc_fd))
		r = -EBUSY;
	else if ((n = budget_grant(budget, n, type)) == 0)
		r = -EBUSY;
	for (; r >= 0 && k < n; k++) {
		r = type == DNS_IPC_TCP ? tcp_upstream_socket(upstream)
					: udp_upstream_socket(upstream);
		if (r < 0)
			break;
		fds[k] = r;
	}
	if (k > 0) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * k);
		ctl.h.cmsg_level = SOL_SOCKET;
		ctl.h.cmsg_type = SCM_RIGHTS;
		ctl.h.cmsg_len = CMSG_LEN(sizeof(int) * k);
		memcpy(CMSG_DATA(&ctl.h), fds, sizeof(int) * k);
	} else {
		reply.error = r < 0 ? r : -EINVAL;
	}
	r = sendmsg(ipc_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
	for (size_t i = 0; i < k; i++)
		close(fds[i]);
	return r == -EPIPE || r == -ECONNRESET ? -EPIPE : 0;
}

int dns_proxy_send_sockets(int ipc_fd, const struct policy_addr *upstream, uint32_t n,
			   struct dns_socket_budget *budget)
{
	return send_sockets(ipc_fd, upstream, n, DNS_IPC_SOCKETS, budget);
}

int dns_proxy_send_tcp_socket(int ipc_fd, const struct policy_addr *upstream,
			      struct dns_socket_budget *budget)
{
	return send_sockets(ipc_fd, upstream, 1, DNS_IPC_TCP, budget);
}

/*
 * The proxy's listeners, in the task's namespace on 127.0.0.1:53, where the task's ruleset
 * sends its DNS (egress-build.c): nothing of the host's is involved, so a resolver on the
 * host's *:53 neither keeps them from binding nor gets the task's queries once the proxy is
 * gone (they are closed with it: the supervisor keeps no copy). The UDP one is bound to
 * that namespace's lo: sendto() with a destination, which the proxy's filter allows on it
 * alone, reaches nothing outside the task's namespace.
 */
static int listen_socket(int netns_fd, int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(DNS_PROXY_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	_cleanup_close_ int fd = -EBADF;

	fd = netns_socket(netns_fd, AF_INET, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	if (type == SOCK_DGRAM && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (type == SOCK_STREAM && listen(fd, DNS_PROXY_TCP_MAX_CONNS) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static const char *const step_table[_DNS_PROXY_STEP_MAX] = {
	[DNS_PROXY_STEP_NONE] = "start",      [DNS_PROXY_STEP_FDS] = "fds",
	[DNS_PROXY_STEP_EXEC] = "exec",	      [DNS_PROXY_STEP_CONFIG] = "config",
	[DNS_PROXY_STEP_PREPARE] = "prepare", [DNS_PROXY_STEP_PRIVILEGES] = "privileges",
	[DNS_PROXY_STEP_SECCOMP] = "seccomp",
};

const char *dns_proxy_step_to_string(enum dns_proxy_step s)
{
	return s >= 0 && s < _DNS_PROXY_STEP_MAX ? step_table[s] : NULL;
}

/* The proxy's configuration in a sealed memfd: neither end can change it once written. */
static int config_memfd(const struct dns_proxy_config *cfg)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_close_ int fd = -EBADF;
	size_t len;
	int r;

	r = dns_proxy_config_build(cfg, getpid(), &buf, &len);
	if (r < 0)
		return r;
	fd = memfd_create("airlock-dns-proxy-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	r = write_all(fd, buf, len);
	if (r < 0)
		return r;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* In the child: a step that failed before the exec, on the socket the proxy would use. */
static void child_report(int fd, enum dns_proxy_step step, int error)
{
	struct dns_ipc_ready m = { .type = DNS_IPC_READY, .step = step, .error = error };

	(void)send(fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*
 * In the child: src[i] becomes fd DNS_PROXY_FD_LISTEN + i, 0-2 become /dev/null, and every
 * other fd is closed by the exec.
 */
static int child_fds(const int src[4])
{
	int tmp[4], devnull;

	for (int i = 0; i < 4; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 64);
		if (tmp[i] < 0)
			return -errno;
	}
	for (int i = 0; i < 4; i++)
		if (dup2(tmp[i], DNS_PROXY_FD_LISTEN + i) < 0)
			return -errno;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	for (int i = 0; i < 3; i++)
		if (devnull != i && dup2(devnull, i) < 0)
			return -errno;
	if (close_range(DNS_PROXY_FD_CONFIG + 1, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/*
 * The child between vfork and exec: syscalls only, no log, nothing of the parent's memory
 * written. The program runs from exe_fd, the file the caller checked, so a path swapped
 * meanwhile changes nothing.
 */
static _noreturn_ void child(int exe_fd, const int fds[4], pid_t parent)
{
	static char *const argv[] = { (char *)DNS_PROXY_PROGRAM, NULL };
	static char *const envp[] = { NULL };
	int status = fcntl(fds[1], F_DUPFD_CLOEXEC, 64);
	int exe = fcntl(exe_fd, F_DUPFD_CLOEXEC, 64);
	enum dns_proxy_step step = DNS_PROXY_STEP_FDS;
	int r;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(2); /* the supervisor is gone: no one to tell */
	r = status < 0 || exe < 0 ? -EMFILE : child_fds(fds);
	if (r >= 0) {
		step = DNS_PROXY_STEP_EXEC;
		(void)execveat(exe, "", argv, envp, AT_EMPTY_PATH);
		r = -errno;
	}
	child_report(status, step, r);
	_exit(1);
}

/* How a proxy that said nothing ended, from its wait status. */
static const char *died_step(int status)
{
	return WIFSIGNALED(status) ? "start (killed by a signal)" : "start (exited)";
}

/*
 * Waits for the proxy's first message. Returns 0 when it is up, else -errno and what failed
 * in *reterr_step: the step it reported, or how it died without a word.
 */
static int wait_ready(struct dns_proxy *p, const char **reterr_step)
{
	uint64_t end = now_ms() + DNS_PROXY_START_TIMEOUT_MS;
	struct dns_ipc_ready m = {};
	ssize_t n = -1;
	int status;

	for (;;) {
		struct pollfd pfd = { .fd = p->ipc_fd, .events = POLLIN };
		uint64_t now = now_ms();

		if (now >= end) {
			*reterr_step = "start (no word from it)";
			return -ETIMEDOUT;
		}
		if (poll(&pfd, 1, (int)(end - now)) < 0 && errno != EINTR)
			return -errno;
		n = recv(p->ipc_fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n >= 0 || errno != EAGAIN)
			break;
	}
	if (n == sizeof(m) && m.type == DNS_IPC_READY && m.step == DNS_PROXY_STEP_NONE &&
	    m.error == 0)
		return 0;
	if (n == sizeof(m) && m.type == DNS_IPC_READY && m.error < 0 &&
	    dns_proxy_step_to_string(m.step)) {
		*reterr_step = dns_proxy_step_to_string(m.step);
		return m.error;
	}
	*reterr_step = "start";
	if (dns_proxy_reap(p, &status) == 0)
		*reterr_step = died_step(status);
	return -ECHILD;
}

/* The listeners, the guard's socketpair and the configuration: the fds the proxy gets. */
struct start_fds {
	int listen, pair[2], tcp, config;
};

static void start_fds_done(struct start_fds *f)
{
	safe_close(f->listen);
	safe_close(f->pair[0]);
	safe_close(f->pair[1]);
	safe_close(f->tcp);
	safe_close(f->config);
}

static int start_fds_open(const struct dns_proxy_config *cfg, struct start_fds *f)
{
	f->listen = listen_socket(cfg->task_netns_fd, SOCK_DGRAM);
	if (f->listen < 0)
		return f->listen;
	f->tcp = listen_socket(cfg->task_netns_fd, SOCK_STREAM);
	if (f->tcp < 0)
		return f->tcp;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->pair) < 0)
		return -errno;
	f->config = config_memfd(cfg);
	return f->config < 0 ? f->config : 0;
}

/* Runs the program on p; *step says what it is doing. */
static int proxy_start(const struct dns_proxy_config *cfg, struct dns_proxy *p, const char **step)
{
	_cleanup_(start_fds_done) struct start_fds f = {
		.listen = -EBADF, .pair = { -EBADF, -EBADF }, .tcp = -EBADF, .config = -EBADF
	};
	pid_t parent = getpid();
	int r;

	*step = "sockets";
	r = start_fds_open(cfg, &f);
	if (r < 0)
		return r;
	p->ipc_fd = TAKE_FD(f.pair[0]);
	/* Never read here: only its drop count (SO_MEMINFO), closed when the proxy is reaped. */
	p->listen_fd = fcntl(f.listen, F_DUPFD_CLOEXEC, DNS_PROXY_FD_LAST + 1);
	if (p->listen_fd < 0)
		return -errno;

	/*
	 * vfork(), as posix_spawn(), sandbox/init.c and syscall-abi.c do: the supervisor's page
	 * tables are not copied, and the child runs at once while we wait for its exec, rather
	 * than waiting to be scheduled. It only makes syscalls on its own stack frame and
	 * either execs or _exit()s; it never returns here.
	 */
	*step = "fork";
	p->pid = vfork();
	if (p->pid == 0)
		child(cfg->exe_fd, (const int[4]){ f.listen, f.pair[1], f.tcp, f.config }, parent);
	if (p->pid < 0)
		return -errno;
	/* The proxy's own now: of its fds, only the listener's copy stays with the supervisor. */
	return 0;
}

int dns_proxy_start(const struct dns_proxy_config *cfg, struct dns_proxy **ret,
		    const char **reterr_step)
{
	const char *step = "start";
	struct dns_proxy *p;
	int r;

	if ((cfg->upstream.family != AF_INET && cfg->upstream.family != AF_INET6) ||
	    cfg->task_netns_fd < 0 || cfg->exe_fd < 0) {
		*reterr_step = step;
		return -EAFNOSUPPORT;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		*reterr_step = step;
		return -ENOMEM;
	}
	p->ipc_fd = p->listen_fd = -EBADF;
	r = proxy_start(cfg, p, &step);
	if (r < 0) {
		dns_proxy_stop(p);
		*reterr_step = step;
		return r;
	}
	*ret = p;
	return 0;
}

int dns_proxy_wait_ready(struct dns_proxy *p, const struct policy_addr *upstream,
			 const char **reterr_step)
{
	const char *step = "start";
	int r;

	r = wait_ready(p, &step);
	/* The first sockets wait in the queue before the task can send its first query. */
	if (r >= 0) {
		step = "sockets";
		r = dns_proxy_send_sockets(p->ipc_fd, upstream, DNS_PROXY_SPARE_SOCKETS, NULL);
	}
	if (r < 0)
		*reterr_step = step;
	return r;
}

int dns_proxy_request_final(struct dns_proxy *p)
{
	struct dns_ipc_reply m = { .type = DNS_IPC_FINAL };

	if (p->pid <= 0)
		return -EPIPE;
	/* The proxy's queue holds our replies only: room, unless it stopped reading (broken). */
	if (send(p->ipc_fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return -EPIPE;
	return 0;
}

int dns_proxy_reap(struct dns_proxy *p, int *ret_status)
{
	int status;

	if (p->pid <= 0)
		return -ECHILD;
	(void)kill(p->pid, SIGKILL); /* nothing when it has exited already */
	while (waitpid(p->pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	p->pid = 0;
	*ret_status = status;
	/*
	 * With the proxy gone, the task's queries must meet a closed port ("port unreachable")
	 * rather than a queue nobody reads: the supervisor's copy goes too, its count kept.
	 */
	p->queue_drops = dns_proxy_queue_drops(p);
	p->listen_fd = safe_close(p->listen_fd);
	return 0;
}

uint32_t dns_proxy_queue_drops(const struct dns_proxy *p)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (!p)
		return 0;
	if (p->listen_fd < 0 || getsockopt(p->listen_fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(uint32_t))
		return p->queue_drops;
	return mem[SK_MEMINFO_DROPS];
}

struct dns_proxy *dns_proxy_stop(struct dns_proxy *p)
{
	int status;

	if (!p)
		return NULL;
	(void)dns_proxy_reap(p, &status);
	safe_close(p->ipc_fd);
	safe_close(p->listen_fd);
	free(p);
	return NULL;
}
