/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The task's stdout and stderr forwarded: read from its pipes, filtered, passed to the
 * captured log and to airlock's fds 1 and 2 without blocking the loop, cut at the output
 * limit and discarded past it, and drained after the task ended (run-io.h).
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "output-filter.h"
#include "run-io-internal.h"
#include "run-io.h"
#include "run-log.h"
#include "time-util.h"

/* Reads of what is left in a pipe when giving up: a pipe holds at most 1 MiB unprivileged. */
#define RUN_IO_DISCARD_MAX_READS 64
#define RUN_IO_DRAIN_READS 16 /* a pipe holds at most 1 MiB here */

static int on_readable(struct loop *l, int fd, uint32_t events, void *userdata);
static int on_discard(struct loop *l, int fd, uint32_t events, void *userdata);
static void drain_note_progress(struct run_io *io);
static int check_drained(struct run_io *io);

/*
 * With TOSTOP (stty tostop) the kernel stops a background process that writes to its
 * terminal with SIGTTOU, but lets the write through when the process blocks SIGTTOU, as
 * airlock does (run-jobctl.h): the job is stopped here instead, as that SIGTTOU would have
 * stopped it, and each time it is continued still in the background (bg), again. A stop
 * the kernel ignores (an orphaned process group) lets the write go ahead.
 */
static void wait_foreground(struct run_io_stream *s)
{
	struct run_io *io = s->io;
	struct termios t;

	/* A terminal without a foreground group is no background: the write goes ahead. */
	while (io->background_stop && run_io_tty_owner(s->out) == RUN_IO_TTY_OTHER &&
	       tcgetattr(s->out, &t) == 0 && (t.c_lflag & TOSTOP))
		if (!io->background_stop(io->background_userdata, SIGTTOU))
			return;
}

/* Writes what the reader takes now. Returns bytes written (0: it would block) or -errno. */
static ssize_t stream_write(struct run_io_stream *s, const char *p, size_t n)
{
	ssize_t k;
	int r;

	if (s->tty)
		wait_foreground(s);
	if (s->mode == RUN_IO_WRITE_BLOCKING) {
		r = write_all(s->out, p, n);
		return r < 0 ? r : (ssize_t)n;
	}
	if (s->mode == RUN_IO_WRITE_SEND)
		k = send(s->out, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		k = write(s->out, p, n);
	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	return k;
}

static void stream_read_off(struct run_io_stream *s)
{
	if (s->rd_in_loop)
		(void)loop_remove(s->io->loop, s->rd);
	s->rd_in_loop = false;
}

static void stream_unpause(struct run_io_stream *s)
{
	struct itimerspec off = {};

	if (!s->paused)
		return;
	(void)timerfd_settime(s->pause_fd, 0, &off, NULL);
	s->paused = false;
}

void run_io_stream_close_rd(struct run_io_stream *s)
{
	stream_read_off(s);
	stream_unpause(s);
	s->rd = safe_close(s->rd);
}

/* ---- the filter, the captured log and the caller's pending data ---- */

static enum run_log_stream stream_log_id(const struct run_io_stream *s)
{
	return s == &s->io->out ? RUN_LOG_STDOUT : RUN_LOG_STDERR;
}

/* Whether the log still takes this stream (never past the output limit). */
static bool stream_capturing(const struct run_io_stream *s)
{
	return !s->io->truncated && run_log_is_capturing(s->io->log, stream_log_id(s));
}

/*
 * (Re)starts reading the task's pipe unless a chunk waits for the reader: forwarding up to
 * the output limit, discarding past it. A stream whose reader went away is read only while
 * its log takes it, and closes then. Returns 0 or -errno.
 */
static int stream_listen(struct run_io_stream *s)
{
	struct run_io *io = s->io;
	int r;

	if (s->rd < 0 || s->waiting || s->paused)
		return 0;
	if (s->broken && !stream_capturing(s)) {
		run_io_stream_close_rd(s); /* nobody takes it any more: the task's writes fail */
		return 0;
	}
	if (io->truncated && !s->discarding) {
		stream_read_off(s);
		s->discarding = true;
		/* Fewer wake-ups; the writer's memory cgroup pays for the pages it fills. */
		(void)fcntl(s->rd, F_SETPIPE_SZ, RUN_IO_DISCARD_PIPE_SIZE);
	}
	if (s->rd_in_loop)
		return 0;
	r = loop_add(io->loop, s->rd, EPOLLIN, s->discarding ? on_discard : on_readable, s);
	if (r < 0)
		return r;
	s->rd_in_loop = true;
	return 0;
}

/* What the task already wrote into its pipe, into the log; never waits for more. */
static void stream_drain_to_log(struct run_io_stream *s)
{
	if (s->rd < 0 || fcntl(s->rd, F_SETFL, O_NONBLOCK) < 0)
		return;
	for (unsigned i = 0; i < RUN_IO_DRAIN_READS && s->rd >= 0; i++) {
		ssize_t n = read(s->rd, s->buf, RUN_IO_CHUNK);

		if (n <= 0)
			return;
		s->passed += (size_t)n;
		(void)run_io_stream_pass(s, RUN_IO_FILTER_FEED, s->buf, (size_t)n);
	}
}

/*
 * The reader of s went away (EPIPE, or the caller's fd reports an error or hang-up), or s
 * cannot be written (err, logged): the task's end of the pipe closes too, so that its next
 * write fails with EPIPE (SIGPIPE) as it would without airlock, instead of the task running
 * on into nothing. The captured log keeps what the task wrote until then: what waited for
 * the reader is in it already, and what is still in the pipe is read into it first.
 */
static void stream_reader_gone(struct run_io_stream *s, int err)
{
	bool capturing = stream_capturing(s);

	if (s->broken)
		return;
	if (err != -EPIPE && err != -ECONNRESET)
		log_warning_errno(err, "Failed to forward the task's %s, closing it: %m", s->name);
	s->broken = true;
	s->waiting = false;
	s->off = s->len = 0;
	if (s->out_watched)
		(void)loop_remove(s->io->loop, s->out);
	s->out_watched = false;
	if (capturing)
		stream_drain_to_log(s);
	run_io_stream_close_rd(s);
	(void)run_io_stream_pass(s, RUN_IO_FILTER_FINISH, NULL, 0); /* the log's end, redacted */
}

/* Stops reading the task's pipe until the reader takes the pending data. */
static void stream_wait(struct run_io_stream *s)
{
	int r;

	if (s->waiting)
		return;
	r = s->out_watched ? loop_modify(s->io->loop, s->out, EPOLLOUT) : -EBADF;
	if (r < 0) {
		stream_reader_gone(s, r); /* cannot wait for it: stop rather than block */
		return;
	}
	stream_read_off(s);
	s->waiting = true;
}

/* Nothing is pending any more: read the task's pipe again. Returns 0 or -errno. */
static int stream_resume(struct run_io_stream *s)
{
	s->off = s->len = 0;
	if (s->waiting) {
		s->waiting = false;
		(void)loop_modify(s->io->loop, s->out, 0);
	}
	return stream_listen(s);
}

/* Writes the pending data; what the reader cannot take yet waits for EPOLLOUT. */
static int stream_flush(struct run_io_stream *s)
{
	while (s->off < s->len && !s->broken) {
		ssize_t k = stream_write(s, s->pend + s->off, s->len - s->off);

		if (k < 0) {
			stream_reader_gone(s, (int)k);
			return 0;
		}
		if (k == 0) {
			stream_wait(s);
			return 0;
		}
		s->off += (size_t)k;
		drain_note_progress(s->io);
	}
	return stream_resume(s);
}

int run_io_stream_emit(struct run_io_stream *s, const char *p, size_t n)
{
	int r;

	if (s->broken || n == 0)
		return 0;
	r = run_io_stream_queue(s, p, n);
	if (r < 0 || s->waiting)
		return r;
	r = stream_flush(s);
	if (r < 0)
		return r;
	return check_drained(s->io);
}

/*
 * Queues the truncation marker on stderr, after whatever is pending there, on a line of its
 * own: a stream the task left in the middle of a line gets the newline it lacks (stdout's
 * own, not a blank line on stderr).
 */
static int queue_marker(struct run_io *io)
{
	char marker[96];
	int n, r;

	if (io->out.mid_line && !io->out.broken) {
		r = run_io_stream_queue(&io->out, "\n", 1);
		if (r < 0)
			return r;
	}
	if (io->err.broken)
		return 0;
	n = snprintf(marker, sizeof(marker), "%s[airlock: output truncated at %" PRIu64 " bytes]\n",
		     io->err.mid_line ? "\n" : "", io->limit);
	return run_io_stream_queue(&io->err, marker, (size_t)n);
}

/*
 * The output limit is reached: what the filters hold goes out (within the limit: it was
 * counted when read), then the marker, then both streams turn to discarding.
 */
static int truncate_output(struct run_io_stream *s)
{
	struct run_io *io = s->io;
	struct run_io_stream *other = s == &io->out ? &io->err : &io->out;
	int r;

	io->truncated = true;
	io->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (io->null_fd < 0)
		io->null_fd = -EBADF; /* discarding then copies into our buffer */
	r = run_io_stream_pass(&io->out, RUN_IO_FILTER_FINISH, NULL, 0);
	if (r >= 0)
		r = run_io_stream_pass(&io->err, RUN_IO_FILTER_FINISH, NULL, 0);
	if (r >= 0)
		r = queue_marker(io);
	if (r >= 0)
		r = stream_flush(other);
	return r < 0 ? r : 0;
}

/*
 * The filter's output p, n for the caller, after what waits for it: written from where it
 * lies when nothing waits (no copy), what the reader does not take now queued. Returns 0
 * or -errno (logged).
 */
static int stream_put(struct run_io_stream *s, const char *p, size_t n)
{
	if (s->broken)
		return 0;
	if (n > 0)
		s->mid_line = p[n - 1] != '\n';
	while (n > 0 && s->off == s->len && !s->waiting) {
		ssize_t k = stream_write(s, p, n);

		if (k < 0) {
			stream_reader_gone(s, (int)k);
			return 0;
		}
		if (k == 0)
			break;
		p += k;
		n -= (size_t)k;
		drain_note_progress(s->io);
	}
	return n > 0 ? run_io_stream_queue(s, p, n) : 0;
}

/*
 * Passes on the n bytes just read into buf, within the output limit; for a stream whose
 * reader left, to its log alone, which has a cap of its own: the output limit counts what
 * the caller got.
 */
static int forward(struct run_io_stream *s, const char *buf, size_t n)
{
	struct run_io *io = s->io;
	uint64_t room = io->limit - io->forwarded;
	size_t take = n > room && !s->broken ? (size_t)room : n;
	const char *p;
	size_t len;
	int r;

	if (io->truncated)
		return stream_listen(s);
	if (!s->broken)
		io->forwarded += take;
	s->passed += take;
	r = run_io_filter_pass(s, RUN_IO_FILTER_FEED, buf, take, &p, &len);
	if (r >= 0)
		r = stream_put(s, p, len);
	if (r < 0)
		return r;
	if (take < n) {
		r = truncate_output(s);
		if (r < 0)
			return r;
	}
	return stream_flush(s);
}

static int on_readable(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io_stream *s = userdata;
	char *buf;
	ssize_t n;
	int r;

	if (s->waiting || s->rd < 0)
		return 0; /* a stale event */
	/* Into the filter's window where there is one: it is not copied there then. */
	buf = s->filter ? output_filter_space(s->filter, RUN_IO_CHUNK) : NULL;
	if (!buf)
		buf = s->buf;
	n = read(s->rd, buf, RUN_IO_CHUNK);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0) {
		run_io_stream_close_rd(s);
		r = run_io_stream_pass(s, RUN_IO_FILTER_FINISH, NULL, 0);
		if (r >= 0)
			r = stream_flush(s);
		if (r < 0)
			return r;
		return check_drained(s->io);
	}
	*s->bytes += (uint64_t)n;
	r = forward(s, buf, (size_t)n);
	if (r < 0)
		return r;
	return check_drained(s->io);
}

/* EPOLLOUT while a chunk waits; EPOLLERR or EPOLLHUP (reported always): the reader left. */
static int on_out_event(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io_stream *s = userdata;
	int r;

	if (events & (EPOLLERR | EPOLLHUP)) {
		stream_reader_gone(s, -EPIPE);
		return check_drained(s->io);
	}
	if (!s->waiting)
		return 0; /* a stale event */
	r = stream_flush(s);
	if (r < 0)
		return r;
	return check_drained(s->io);
}

/* ---- stdout and stderr: past the output limit ---- */

/* Drops one chunk of the task's pipe. Returns the bytes dropped, 0 at EOF, or -errno. */
static ssize_t stream_drop_chunk(struct run_io_stream *s)
{
	ssize_t n;

	if (s->io->null_fd >= 0) {
		n = splice(s->rd, NULL, s->io->null_fd, NULL, RUN_IO_DISCARD_PIPE_SIZE,
			   SPLICE_F_NONBLOCK);
		if (n >= 0)
			return n;
		if (errno != EINVAL)
			return -errno;
		s->io->null_fd = safe_close(s->io->null_fd); /* cannot splice there: copy */
	}
	n = read(s->rd, s->buf, RUN_IO_CHUNK);
	return n < 0 ? -errno : n;
}

static int on_pause_end(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io_stream *s = userdata;
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return 0; /* a stale event */
	s->paused = false;
	return stream_listen(s);
}

/* Stops listening to the task's pipe for RUN_IO_DISCARD_PAUSE_MS. */
static void stream_pause(struct run_io_stream *s)
{
	struct itimerspec its = { .it_value = { 0, RUN_IO_DISCARD_PAUSE_MS * 1000000L } };

	if (s->pause_fd < 0) {
		s->pause_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (s->pause_fd < 0)
			return; /* no pacing: keep listening */
		if (loop_add(s->io->loop, s->pause_fd, EPOLLIN, on_pause_end, s) < 0) {
			s->pause_fd = safe_close(s->pause_fd);
			return;
		}
	}
	if (timerfd_settime(s->pause_fd, 0, &its, NULL) < 0)
		return;
	stream_read_off(s);
	s->paused = true;
}

/*
 * Past the output limit the task's output goes to /dev/null by splice (page references
 * are dropped, nothing is copied), a few chunks per wake-up, and then the pipe is not
 * listened to for RUN_IO_DISCARD_PAUSE_MS: a task that writes without end costs the
 * supervisor a handful of system calls per pause, whatever it writes, and meanwhile waits
 * on its full pipe as under a slow reader. Once the task ended nothing refills the pipe:
 * it is emptied without pauses.
 */
static int on_discard(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io_stream *s = userdata;
	ssize_t n = 0;

	if (!s->rd_in_loop || s->rd < 0)
		return 0; /* a stale event */
	for (int i = 0; i < RUN_IO_DISCARD_BATCH; i++) {
		n = stream_drop_chunk(s);
		if (n <= 0)
			break;
		*s->bytes += (uint64_t)n;
	}
	if (n == 0) {
		run_io_stream_close_rd(s);
		return check_drained(s->io);
	}
	if (n < 0 && n != -EAGAIN && n != -EINTR)
		return (int)n;
	if (!s->io->draining)
		stream_pause(s);
	return 0;
}

static int stream_attach(struct run_io_stream *s)
{
	int r;

	r = fd_set_nonblock(s->rd, true);
	if (r >= 0)
		r = run_io_filter_attach(s);
	if (r < 0)
		return r;
	if (s->broken && !stream_capturing(s)) {
		run_io_stream_close_rd(s); /* nobody reads: the task's writes fail with EPIPE */
		return 0;
	}
	if (s->mode != RUN_IO_WRITE_BLOCKING && !s->broken) {
		r = loop_add(s->io->loop, s->out, 0, on_out_event, s);
		if (r < 0)
			return r;
		s->out_watched = true;
	}
	return stream_listen(s);
}

int run_io_attach(struct run_io *io, struct loop *l)
{
	int r;

	io->loop = l;
	r = stream_attach(&io->out);
	if (r >= 0)
		r = stream_attach(&io->err);
	if (r < 0)
		return r;
	return run_io_stdin_attach(io);
}

static bool stream_done(const struct run_io_stream *s)
{
	return s->rd < 0 && !s->waiting && s->off == s->len;
}

bool run_io_outputs_done(const struct run_io *io)
{
	return stream_done(&io->out) && stream_done(&io->err);
}

/* ---- draining after the task ended ---- */

static void drain_finish(struct run_io *io)
{
	if (io->drain_fd >= 0)
		(void)loop_remove(io->loop, io->drain_fd);
	io->drain_fd = safe_close(io->drain_fd);
	io->draining = false;
	loop_quit(io->loop);
}

static int check_drained(struct run_io *io)
{
	if (io->draining && run_io_outputs_done(io))
		drain_finish(io);
	return 0;
}

/* Arms the drain timer: idle time after the last progress, within the overall bound. */
static int drain_arm(struct run_io *io)
{
	uint64_t at = MIN(io->drain_progress_ms + RUN_IO_DRAIN_IDLE_MS,
			  io->drain_started_ms + RUN_IO_DRAIN_MAX_MS);
	struct itimerspec its = {
		.it_value = { (time_t)(at / 1000), (long)(at % 1000) * 1000000 },
	};

	if (timerfd_settime(io->drain_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

static void drain_note_progress(struct run_io *io)
{
	if (!io->draining || io->drain_fd < 0)
		return;
	io->drain_progress_ms = now_mono_ms();
	(void)drain_arm(io);
}

/* Drops what is pending and what is left in the pipe, counting it. Returns bytes dropped. */
static uint64_t stream_discard(struct run_io_stream *s)
{
	uint64_t dropped;
	ssize_t n;

	(void)run_io_stream_pass(s, RUN_IO_FILTER_FINISH, NULL, 0); /* what it held, into the log */
	dropped = s->broken ? 0 : s->len - s->off;
	if (s->waiting)
		(void)loop_modify(s->io->loop, s->out, 0);
	s->waiting = false;
	s->off = s->len = 0;
	for (int i = 0; s->rd >= 0 && i < RUN_IO_DISCARD_MAX_READS; i++) {
		n = read(s->rd, s->buf, RUN_IO_CHUNK);
		if (n <= 0)
			break;
		*s->bytes += (uint64_t)n;
		dropped += s->broken ? 0 : (uint64_t)n;
	}
	run_io_stream_close_rd(s);
	return dropped;
}

static void drain_give_up(struct run_io *io)
{
	bool stalled_stderr = io->err.waiting && io->saved_stderr < 0;
	uint64_t dropped = stream_discard(&io->out) + stream_discard(&io->err);

	/* With a stalled stderr not replaced by our private one, even this line would block. */
	if (!stalled_stderr)
		log_warning("Gave up forwarding the task's output: the reader did not take it "
			    "in time, %" PRIu64 " bytes dropped",
			    dropped);
	drain_finish(io);
}

static int on_drain_timeout(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io *io = userdata;
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return 0; /* a stale event */
	drain_give_up(io);
	return 0;
}

void run_io_drain(struct run_io *io)
{
	int r;

	run_io_stdin_close(io);
	io->draining = true;
	io->drain_started_ms = io->drain_progress_ms = now_mono_ms();
	/* A paused discard empties the pipe now: nothing refills it. */
	for (int i = 0; i < 2; i++) {
		struct run_io_stream *s = i ? &io->err : &io->out;

		if (s->paused) {
			stream_unpause(s);
			(void)stream_listen(s);
		}
	}
	if (run_io_outputs_done(io)) {
		drain_finish(io);
		return;
	}
	io->drain_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	r = io->drain_fd < 0 ? -errno : drain_arm(io);
	if (r >= 0)
		r = loop_add(io->loop, io->drain_fd, EPOLLIN, on_drain_timeout, io);
	if (r < 0) {
		io->drain_fd = safe_close(io->drain_fd);
		log_warning_errno(r, "Failed to bound the wait for the output reader: %m");
		drain_give_up(io);
	}
}
