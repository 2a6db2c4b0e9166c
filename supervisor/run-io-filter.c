/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The filter between the task's stdout and stderr and everything they reach (run-io.h):
 * per stream, the redactor and the neutraliser (output-filter.h), the captured log fed
 * with the neutralised output, and the quiet timer that lets held bytes out when the task
 * stops writing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "output-filter.h"
#include "run-io-internal.h"
#include "run-io.h"
#include "run-log.h"
#include "time-util.h"

int run_io_filter_attach(struct run_io_stream *s)
{
	if (!s->io->redactor || s->filter)
		return 0;
	return output_filter_new(s->io->redactor, s->io->raw_terminal, &s->filter);
}

/* Arms the quiet timer for quiet_due (absolute); not armed when that fails. */
static void quiet_arm(struct run_io_stream *s)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(s->quiet_due / 1000),
			      .tv_nsec = (long)(s->quiet_due % 1000) * 1000000L },
	};

	s->quiet_armed = timerfd_settime(s->quiet_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0;
}

static int on_quiet(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io_stream *s = userdata;
	uint64_t expirations;
	const char *p;
	size_t n;
	int r, avail;

	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return 0; /* a stale event */
	s->quiet_armed = false;
	if (!s->filter || output_filter_is_finished(s->filter) || s->io->truncated ||
	    output_filter_held(s->filter) == 0)
		return 0;
	if (now_mono_ms() < s->quiet_due) {
		quiet_arm(s); /* the task wrote since the timer was armed: not quiet yet */
		return 0;
	}
	/*
	 * Bytes in the pipe are a write we have not read yet (the timer's event came first,
	 * or the machine kept us from the pipe): the task was not quiet. Its next read re-arms.
	 */
	if (s->rd >= 0 && ioctl(s->rd, FIONREAD, &avail) == 0 && avail > 0)
		return 0;
	r = run_io_filter_pass(s, RUN_IO_FILTER_FLUSH, NULL, 0, &p, &n);
	if (r < 0)
		return r;
	return run_io_stream_emit(s, p, n);
}

/*
 * While bytes are held back, the quiet timer is due RUN_IO_QUIET_MS after the last write.
 * It is armed once, not at every write (a timerfd_settime() per chunk was about 3% of the
 * output path), and re-armed when it fires early; a timer that fires when nothing is held
 * does nothing, so it is never disarmed.
 */
static void quiet_update(struct run_io_stream *s)
{
	if (output_filter_is_finished(s->filter) || output_filter_held(s->filter) == 0)
		return;
	if (s->quiet_fd < 0 && s->io->loop) {
		s->quiet_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (s->quiet_fd < 0)
			return; /* held until the next write or the end: never lost */
		if (loop_add(s->io->loop, s->quiet_fd, EPOLLIN, on_quiet, s) < 0) {
			s->quiet_fd = safe_close(s->quiet_fd);
			return;
		}
	}
	if (s->quiet_fd < 0)
		return;
	s->quiet_due = now_mono_ms() + RUN_IO_QUIET_MS;
	if (!s->quiet_armed)
		quiet_arm(s);
}

static int filter_call(struct run_io_stream *s, enum run_io_filter_op op, const void *buf,
		       size_t len, struct output_filter_out *o)
{
	switch (op) {
	case RUN_IO_FILTER_FEED:
		return output_filter_feed(s->filter, buf, len, o);
	case RUN_IO_FILTER_FLUSH:
		return output_filter_flush(s->filter, o);
	case RUN_IO_FILTER_FINISH:
		return output_filter_finish(s->filter, o);
	}
	return -EINVAL;
}

int run_io_filter_pass(struct run_io_stream *s, enum run_io_filter_op op, const void *buf,
		       size_t len, const char **ret, size_t *ret_len)
{
	enum run_log_stream id = s == &s->io->out ? RUN_LOG_STDOUT : RUN_LOG_STDERR;
	struct output_filter_out o = {
		.caller = buf, .caller_len = len, .log = buf, .log_len = len
	};
	int r;

	if (s->filter && op != RUN_IO_FILTER_FEED && output_filter_is_finished(s->filter))
		o = (struct output_filter_out){};
	else if (s->filter) {
		r = filter_call(s, op, buf, len, &o);
		if (r < 0)
			return log_error_errno(r, "Failed to filter the task's %s, ending it: %m",
					       s->name);
		/*
		 * A write (re)starts the quiet period. Not a flush: what it still holds (a
		 * partial of REDACT_PARTIAL_MIN or more) only a write can let out, and a timer
		 * armed again would wake us every RUN_IO_QUIET_MS while the task sleeps.
		 */
		if (op == RUN_IO_FILTER_FEED)
			quiet_update(s);
	}
	run_log_write(s->io->log, id, o.log, o.log_len);
	*ret = o.caller;
	*ret_len = o.caller_len;
	return 0;
}

/* Appends p, n to what waits for the caller. Returns 0 or -ENOMEM. */
int run_io_stream_queue(struct run_io_stream *s, const char *p, size_t n)
{
	size_t want;
	char *np;

	if (n > 0)
		s->mid_line = p[n - 1] != '\n';
	if (s->off == s->len)
		s->off = s->len = 0;
	if (__builtin_add_overflow(s->len, n, &want))
		return -ENOMEM;
	if (want > s->pend_cap) {
		want = MAX(want, MAX(s->pend_cap * 2, (size_t)RUN_IO_STREAM_BUF));
		np = realloc(s->pend, want);
		if (!np)
			return log_oom();
		s->pend = np;
		s->pend_cap = want;
	}
	memcpy(s->pend + s->len, p, n);
	s->len += n;
	return 0;
}

/*
 * The task's bytes (op: see run-io-internal.h) through the filter: the log takes its part,
 * and the caller's waits for it unless its reader is gone. Returns 0 or -errno (logged).
 */
int run_io_stream_pass(struct run_io_stream *s, enum run_io_filter_op op, const void *buf, size_t n)
{
	const char *p;
	size_t len;
	int r;

	r = run_io_filter_pass(s, op, buf, n, &p, &len);
	if (r < 0 || s->broken || len == 0)
		return r;
	return run_io_stream_queue(s, p, len);
}

void run_io_filter_done(struct run_io_stream *s)
{
	if (s->quiet_fd >= 0 && s->io->loop)
		(void)loop_remove(s->io->loop, s->quiet_fd);
	s->quiet_fd = safe_close(s->quiet_fd);
	s->filter = output_filter_free(s->filter);
}
