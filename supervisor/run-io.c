/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The task's standard streams set up and torn down: the pipes, how airlock's fds 1 and 2
 * are written, the private stderr. Forwarding and draining are run-io-forward.c's, stdin
 * run-io-stdin.c's (run-io.h, run-io-internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "run-io-internal.h"
#include "run-io.h"
#include "run-log.h"
#include "time-util.h"

int run_io_pipe(int *rd, int *wr)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*rd = p[0];
	*wr = p[1];
	return 0;
}

bool run_io_fd_has_access(int fd, int want)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || (fl & O_PATH))
		return false;
	return (fl & O_ACCMODE) == O_RDWR || (fl & O_ACCMODE) == want;
}

/* ---- stdout and stderr: where they go ---- */

/* Picks how fd (airlock's 1 or 2) is written; see run-io.h. Returns 0 or -errno. */
static int stream_open_out(struct run_io_stream *s, int fd)
{
	char path[32];
	struct stat st;
	int own;

	s->out = fd;
	s->mode = RUN_IO_WRITE_BLOCKING;
	if (fstat(fd, &st) < 0 || !run_io_fd_has_access(fd, O_WRONLY)) {
		s->broken =
			true; /* closed or not writable: the task's writes fail, as after EPIPE */
		return 0;
	}
	if (S_ISSOCK(st.st_mode)) {
		s->mode = RUN_IO_WRITE_SEND;
		return 0;
	}
	s->tty = isatty(fd);
	if (!S_ISFIFO(st.st_mode) && !s->tty)
		return 0;
	/*
	 * The caller's pipe grown to 1 MiB as well (never shrunk; best effort): with 64 KiB,
	 * a fast task's output made us wait for the consumer every 64 KiB, a switch of three
	 * processes on the CPUs each time. Only its capacity changes.
	 */
	if (S_ISFIFO(st.st_mode) && fcntl(fd, F_GETPIPE_SZ) < RUN_IO_DISCARD_PIPE_SIZE)
		(void)fcntl(fd, F_SETPIPE_SZ, RUN_IO_DISCARD_PIPE_SIZE);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	own = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (own < 0 && errno == ENXIO) {
		s->broken = true; /* a FIFO nobody reads any more */
		return 0;
	}
	if (own < 0) {
		log_warning_errno(-errno,
				  "Failed to reopen '%s' non-blocking, a stalled reader "
				  "may delay the run: %m",
				  path);
		return 0;
	}
	s->own_fd = s->out = own;
	s->mode = RUN_IO_WRITE_PRIVATE;
	return 0;
}

enum run_io_tty_owner run_io_tty_owner(int fd)
{
	pid_t fg = tcgetpgrp(fd);

	if (fg <= 0)
		return RUN_IO_TTY_NONE;
	return fg == getpgrp() ? RUN_IO_TTY_OURS : RUN_IO_TTY_OTHER;
}

/* Lets our private non-blocking stderr stand in for fd 2, so log lines never block. */
static void swap_stderr(struct run_io *io)
{
	int saved;

	if (io->err.mode != RUN_IO_WRITE_PRIVATE)
		return;
	fflush(stderr);
	saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved < 0)
		return;
	if (dup2(io->err.own_fd, STDERR_FILENO) < 0) {
		safe_close(saved);
		return;
	}
	io->saved_stderr = saved;
}

static void restore_stderr(struct run_io *io)
{
	if (io->saved_stderr < 0)
		return;
	fflush(stderr);
	clearerr(stderr); /* a line lost to EAGAIN must not mark stderr failed for good */
	(void)dup2(io->saved_stderr, STDERR_FILENO);
	io->saved_stderr = safe_close(io->saved_stderr);
}

/*
 * A closed fd 0, 1 or 2 becomes /dev/null, so that none of our own fds (a pipe, a private
 * description) takes its number and is mistaken for the caller's stream.
 */
static int ensure_std_fds(void)
{
	for (int fd = 0; fd <= STDERR_FILENO; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		n = open_devnull(); /* the lowest free number: fd itself */
		if (n < 0)
			return n;
		if (n != fd) {
			safe_close(n);
			return -EBADF;
		}
		(void)fcntl(fd, F_SETFD, 0);
	}
	return 0;
}

static void stream_init(struct run_io *io, struct run_io_stream *s, const char *name,
			uint64_t *bytes)
{
	s->io = io;
	s->name = name;
	s->rd = -EBADF;
	s->out = -EBADF;
	s->own_fd = -EBADF;
	s->pause_fd = -EBADF;
	s->quiet_fd = -EBADF;
	s->bytes = bytes;
}

int run_io_open(struct run_io *io, uint64_t limit)
{
	int r;

	*io = (struct run_io){ .child_stdin = -EBADF,
			       .child_stdout = -EBADF,
			       .child_stderr = -EBADF,
			       .stdin_src = -EBADF,
			       .stdin_wr = -EBADF,
			       .saved_stderr = -EBADF,
			       .drain_fd = -EBADF,
			       .null_fd = -EBADF,
			       .limit = limit };
	stream_init(io, &io->out, "stdout", &io->stdout_bytes);
	stream_init(io, &io->err, "stderr", &io->stderr_bytes);
	io->out.buf = malloc(RUN_IO_STREAM_BUF);
	io->err.buf = malloc(RUN_IO_STREAM_BUF);
	if (!io->out.buf || !io->err.buf)
		return -ENOMEM;
	r = ensure_std_fds();
	if (r < 0)
		return r;
	r = run_io_pipe(&io->out.rd, &io->child_stdout);
	if (r < 0)
		return r;
	r = run_io_pipe(&io->err.rd, &io->child_stderr);
	if (r < 0)
		return r;
	/*
	 * 1 MiB pipes: a task writing fast fills 16 times more before it waits for us, and we
	 * read it in a row rather than waking per 64 KiB (a wakeup costs ~20-100 us in a VM).
	 * Best effort: a smaller pipe only costs throughput.
	 */
	(void)fcntl(io->out.rd, F_SETPIPE_SZ, RUN_IO_DISCARD_PIPE_SIZE);
	(void)fcntl(io->err.rd, F_SETPIPE_SZ, RUN_IO_DISCARD_PIPE_SIZE);
	r = stream_open_out(&io->out, STDOUT_FILENO);
	if (r < 0)
		return r;
	r = stream_open_out(&io->err, STDERR_FILENO);
	if (r < 0)
		return r;
	swap_stderr(io);
	return run_io_stdin_open(io);
}

/*
 * The task's ends of our pipes become the task's own, as the pipes a shell hands its
 * children are: a script's `echo x >/dev/stderr` reopens /proc/self/fd/2, which checks the
 * pipe inode's owner and mode (0600, root's until now: "Permission denied"). Owning them
 * lets only the task itself reopen them (a reopen through /proc also needs ptrace access
 * to a process holding the pipe: the task's, or airlock's, which is root's); a mode of 0666
 * would give the same to anyone who reaches them. A file or /dev/null given as stdin
 * is not ours and keeps its owner.
 */
int run_io_chown_child_ends(struct run_io *io, uid_t uid, gid_t gid)
{
	int fds[] = { io->child_stdout, io->child_stderr,
		      io->stdin_wr >= 0 ? io->child_stdin : -EBADF };

	for (size_t i = 0; i < ELEMENTSOF(fds); i++)
		if (fds[i] >= 0 && fchown(fds[i], uid, gid) < 0)
			return -errno;
	return 0;
}

void run_io_close_child_ends(struct run_io *io)
{
	io->child_stdin = safe_close(io->child_stdin);
	io->child_stdout = safe_close(io->child_stdout);
	io->child_stderr = safe_close(io->child_stderr);
}

static void stream_done_fds(struct run_io_stream *s)
{
	if (s->io->loop) {
		if (s->out_watched)
			(void)loop_remove(s->io->loop, s->out);
		s->out_watched = s->waiting = false;
		run_io_stream_close_rd(s);
		if (s->pause_fd >= 0)
			(void)loop_remove(s->io->loop, s->pause_fd);
	}
	s->rd = safe_close(s->rd);
	s->pause_fd = safe_close(s->pause_fd);
	s->own_fd = safe_close(s->own_fd);
	s->out = -EBADF;
	run_io_filter_done(s);
}

void run_io_done(struct run_io *io)
{
	if (!io->out.io)
		return; /* run_io_open() never ran: nothing is ours */
	run_io_close_child_ends(io);
	if (io->loop)
		run_io_stdin_close(io);
	io->stdin_wr = safe_close(io->stdin_wr);
	if (io->drain_fd >= 0 && io->loop)
		(void)loop_remove(io->loop, io->drain_fd);
	io->drain_fd = safe_close(io->drain_fd);
	stream_done_fds(&io->out);
	stream_done_fds(&io->err);
	io->null_fd = safe_close(io->null_fd);
	restore_stderr(io);
	free(io->out.buf);
	free(io->err.buf);
	free(io->out.pend);
	free(io->err.pend);
	free(io->buf);
	io->out.buf = io->err.buf = io->buf = io->out.pend = io->err.pend = NULL;
}
