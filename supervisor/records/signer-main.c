/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * airlock-signer (signer.h): started by `airlock run` only, as `airlock-signer PARENT_PID`
 * with its socket on fd 3 and the state directory on fd 4. Loads the node key, makes a
 * first signature, says it is ready, then signs what the run sends until it closes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "signer.h"

/* Signs each request until EOF (what is left at a return is the exit's to free). */
static int serve(const struct sign_key *k)
{
	for (;;) {
		_cleanup_free_ uint8_t *buf = NULL;
		struct signer_answer a = {};
		/* Set up before the request comes: the run then waits only for the signature. */
		void *ctx = sign_prepare(k);
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
		a.error = ctx ? sign_prepared(TAKE_PTR(ctx), buf, n, a.sig)
			      : sign_data(k, buf, n, a.sig);
		if (signer_send_all(SIGNER_SOCKET_FD, &a, sizeof(a)) < 0)
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

int main(int argc, char **argv)
{
	struct sign_key *k = NULL; /* freed by _exit() */
	struct signer_ready_msg m = {};
	uint8_t sig[SIGN_SIGNATURE_SIZE];
	unsigned long parent = 0;
	char *end = NULL;

	/* Only as signer_spawn() starts it: by its parent, which it does not outlive. */
	if (argc == 2)
		parent = strtoul(argv[1], &end, 10);
	if (argc != 2 || !end || *end || parent == 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    getppid() != (pid_t)parent || !has_fds()) {
		fprintf(stderr, "%s: started by airlock run only\n", SIGNER_PROGRAM);
		return 2;
	}
	(void)prctl(PR_SET_DUMPABLE, 0); /* it holds the node key */
	/* Its name, not the fd number execveat(AT_EMPTY_PATH) gives it (ps, top). */
	(void)prctl(PR_SET_NAME, SIGNER_PROGRAM);
	(void)close_range(SIGNER_STATE_FD + 1, ~0U, 0);

	m.error = sign_key_load(SIGNER_STATE_FD, &k);
	safe_close(SIGNER_STATE_FD);
	/* The first signature fetches the algorithm from its provider: done before ready. */
	if (m.error >= 0)
		m.error = sign_data(k, "", 0, sig);
	if (m.error >= 0)
		sign_key_public(k, m.pub);
	if (signer_send_all(SIGNER_SOCKET_FD, &m, sizeof(m)) < 0 || m.error < 0)
		_exit(1);
	/* No exit handler has anything to do: the process ends while the run still runs. */
	_exit(serve(k));
}
