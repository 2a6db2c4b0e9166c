/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A batch of mints that a stop signal can cut short: the issuer module mints in a thread
 * while the caller's hears SIGTERM, SIGINT, SIGHUP and SIGQUIT.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#include "cleanup.h"
#include "credentials-internal.h"
#include "fd-util.h"
#include "issuer-module.h"
#include "macro.h"

struct mint_batch {
	const struct issuer_module *m;
	struct issuer_job *jobs;
	size_t n;
	int cancel;
	int done_fd; /* an eventfd, written when the batch has ended */
};

static void *mint_batch_main(void *userdata)
{
	struct mint_batch *b = userdata;

	b->m->mint_all(b->jobs, b->n, &b->cancel);
	(void)eventfd_write(b->done_fd, 1);
	return NULL;
}

/*
 * Mints in a thread while this one hears the stop signals: SIGTERM or ^C during a slow
 * issuer's request cancels the requests (within about a second) instead of waiting out the
 * issuers' timeouts. Returns the stop signal that came, or 0.
 */
int credentials_mint_interruptible(const struct issuer_module *m, struct issuer_job *jobs, size_t n)
{
	struct mint_batch b = { .m = m, .jobs = jobs, .n = n };
	_cleanup_close_ int sig_fd = -EBADF, done_fd = -EBADF;
	pthread_t t;
	int sig;

	done_fd = b.done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (done_fd < 0 || pthread_create(&t, NULL, mint_batch_main, &b) != 0) {
		m->mint_all(jobs, n, &b.cancel); /* deaf to signals for the issuers' timeouts */
		return 0;
	}
	sig = credentials_wait_readable(done_fd, &sig_fd);
	if (sig > 0)
		__atomic_store_n(&b.cancel, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	return MAX(sig, 0);
}

/* A job the signal cut short says so, for the refusal's line. */
void credentials_mark_interrupted(struct issuer_job *jobs, size_t n, int sig)
{
	for (size_t i = 0; i < n; i++)
		if (jobs[i].error == -ECANCELED)
			snprintf(jobs[i].err, sizeof(jobs[i].err),
				 "interrupted by SIG%s while minting", sigabbrev_np(sig) ?: "?");
}
