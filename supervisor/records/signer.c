/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "signer.h"

#define SIGNER_SOCKET_FD 3
#define SIGNER_STATE_FD 4
/* How long the supervisor waits for the signer before signing in-process. */
#define SIGNER_TIMEOUT_MS 10000

extern char **environ;

struct signer_ready_msg {
	int32_t error;
	uint8_t pub[SIGN_PUBLIC_SIZE];
};

struct signer_answer {
	int32_t error;
	uint8_t sig[SIGN_SIGNATURE_SIZE];
};

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET ? -EPIPE : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Exactly len bytes within the timeout: -EPIPE on EOF, -ETIMEDOUT. */
static int recv_exact(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, SIGNER_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	n = read_full(fd, buf, len);
	if (n < 0)
		return n == -ECONNRESET ? -EPIPE : (int)n;
	return (size_t)n == len ? 0 : -EPIPE;
}

/* Our end of the socket and the state directory, each at an fd above the signer's two. */
static int spawn_fds(int state_fd, int *ret_ours, int *ret_theirs, int *ret_dir)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	*ret_ours = sv[0];
	*ret_theirs = fcntl(sv[1], F_DUPFD_CLOEXEC, SIGNER_STATE_FD + 1);
	safe_close(sv[1]);
	*ret_dir = fcntl(state_fd, F_DUPFD_CLOEXEC, SIGNER_STATE_FD + 1);
	return *ret_theirs < 0 || *ret_dir < 0 ? -errno : 0;
}

int signer_spawn(int state_fd, pid_t *ret_pid)
{
	_cleanup_close_ int ours = -EBADF, theirs = -EBADF, dir = -EBADF;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	char parent[32];
	char *argv[] = { (char *)"airlock", (char *)SIGNER_COMMAND, parent, NULL };
	sigset_t all;
	pid_t pid;
	int r;

	r = spawn_fds(state_fd, &ours, &theirs, &dir);
	if (r < 0)
		return r;
	snprintf(parent, sizeof(parent), "%d", (int)getpid());
	sigfillset(&all);
	r = posix_spawn_file_actions_init(&fa);
	if (r != 0)
		return -r;
	r = posix_spawnattr_init(&attr);
	if (r != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	/* Nothing but its socket and the state directory; every signal blocked (it answers
	 * its socket only, and dies with us), every disposition back to the default. */
	if (!(r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) &&
	    !(r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, theirs, SIGNER_SOCKET_FD)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, dir, SIGNER_STATE_FD)) &&
	    !(r = posix_spawnattr_setflags(&attr,
					   POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) &&
	    !(r = posix_spawnattr_setsigmask(&attr, &all)) &&
	    !(r = posix_spawnattr_setsigdefault(&attr, &all)))
		r = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	*ret_pid = pid;
	return TAKE_FD(ours);
}

int signer_ready(int fd, uint8_t pub[SIGN_PUBLIC_SIZE])
{
	struct signer_ready_msg m;
	int r;

	r = recv_exact(fd, &m, sizeof(m));
	if (r < 0)
		return r;
	if (m.error > 0 || m.error < -4095)
		return -EPROTO;
	if (m.error < 0)
		return m.error;
	memcpy(pub, m.pub, SIGN_PUBLIC_SIZE);
	return 0;
}

int signer_sign(int fd, const void *data, size_t len, uint8_t sig[SIGN_SIGNATURE_SIZE])
{
	struct signer_answer a;
	uint32_t n = (uint32_t)len;
	int r;

	if (len > SIGNER_MAX_BYTES)
		return -EMSGSIZE;
	r = send_all(fd, &n, sizeof(n));
	if (r >= 0)
		r = send_all(fd, data, len);
	if (r >= 0)
		r = recv_exact(fd, &a, sizeof(a));
	if (r < 0)
		return r;
	if (a.error != 0)
		return a.error < 0 && a.error >= -4095 ? a.error : -EPROTO;
	memcpy(sig, a.sig, SIGN_SIGNATURE_SIZE);
	return 0;
}

/* ---- the signer's side ---- */

/* Signs each request until EOF. */
static int serve(const struct sign_key *k)
{
	for (;;) {
		_cleanup_free_ uint8_t *buf = NULL;
		struct signer_answer a = {};
		uint32_t n;
		ssize_t l;

		l = read_full(SIGNER_SOCKET_FD, &n, sizeof(n));
		if (l == 0)
			return 0; /* the supervisor is done */
		if (l != sizeof(n) || n > SIGNER_MAX_BYTES)
			return 1;
		buf = malloc(n ? n : 1);
		if (!buf)
			return 1;
		if (read_full(SIGNER_SOCKET_FD, buf, n) != (ssize_t)n)
			return 1;
		a.error = sign_data(k, buf, n, a.sig);
		if (send_all(SIGNER_SOCKET_FD, &a, sizeof(a)) < 0)
			return 1;
	}
}

/* Whether fd 3 is a socket and fd 4 a directory: what signer_spawn() hands over. */
static bool has_fds(void)
{
	struct stat s, d;

	return fstat(SIGNER_SOCKET_FD, &s) == 0 && S_ISSOCK(s.st_mode) &&
	       fstat(SIGNER_STATE_FD, &d) == 0 && S_ISDIR(d.st_mode);
}

int signer_main(int argc, char **argv)
{
	_cleanup_(sign_key_freep) struct sign_key *k = NULL;
	struct signer_ready_msg m = {};
	uint8_t sig[SIGN_SIGNATURE_SIZE];
	unsigned long parent = 0;
	char *end = NULL;

	/* Only as signer_spawn() starts it: by its parent, which it does not outlive. */
	if (argc == 2)
		parent = strtoul(argv[1], &end, 10);
	if (argc != 2 || !end || *end || parent == 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    getppid() != (pid_t)parent || !has_fds()) {
		fprintf(stderr, "airlock: %s is started by airlock run only\n", SIGNER_COMMAND);
		return 2;
	}
	(void)prctl(PR_SET_DUMPABLE, 0); /* it holds the node key */
	(void)close_range(SIGNER_STATE_FD + 1, ~0U, 0);

	m.error = sign_key_load(SIGNER_STATE_FD, &k);
	safe_close(SIGNER_STATE_FD);
	/* The first signature fetches the algorithm from its provider: done before ready. */
	if (m.error >= 0)
		m.error = sign_data(k, "", 0, sig);
	if (m.error >= 0)
		sign_key_public(k, m.pub);
	if (send_all(SIGNER_SOCKET_FD, &m, sizeof(m)) < 0 || m.error < 0)
		return 1;
	return serve(k);
}
