/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The task's stdin: what it gets in place of airlock's fd 0 (see run-io.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "loop.h"
#include "run-io-internal.h"
#include "run-io.h"

/*
 * Terminals, pipes, sockets and readable regular files are pumped into a pipe: the task
 * never holds airlock's terminal, nor the caller's file (through /proc/self/fd/0 it could
 * name the host path, or reopen the file for writing where its mode lets others write).
 * Anything else, and any fd 0 we may not read from (closed, O_PATH, write-only), gives the
 * task /dev/null. A file is read through fd 0 itself, from the caller's offset on.
 */
int run_io_stdin_open(struct run_io *io)
{
	struct stat st;
	int fd;

	if (fstat(STDIN_FILENO, &st) < 0 || !run_io_fd_has_access(STDIN_FILENO, O_RDONLY))
		fd = open_devnull();
	else if (isatty(STDIN_FILENO) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
		 S_ISREG(st.st_mode)) {
		io->buf = malloc(RUN_IO_STDIN_BUF);
		if (!io->buf)
			return -ENOMEM;
		io->stdin_src = STDIN_FILENO;
		io->stdin_file = S_ISREG(st.st_mode);
		return run_io_pipe(&io->child_stdin, &io->stdin_wr);
	} else
		fd = open_devnull();
	if (fd < 0)
		return fd;
	io->child_stdin = fd;
	return 0;
}

void run_io_stdin_close(struct run_io *io)
{
	if (io->stdin_src >= 0)
		(void)loop_remove(io->loop, io->stdin_src);
	if (io->stdin_wr >= 0)
		(void)loop_remove(io->loop, io->stdin_wr);
	io->stdin_src = -EBADF; /* airlock's own stdin: not ours to close */
	io->stdin_wr = safe_close(io->stdin_wr);
}

static int on_stdin_writable(struct loop *l, int fd, uint32_t events, void *userdata);

static int on_stdin_readable(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io *io = userdata;
	ssize_t n = read(io->stdin_src, io->buf, RUN_IO_STDIN_BUF);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	/*
	 * Read again once continued: in the foreground, or stopped again if still not. No
	 * terminal (or one without a foreground) is no background: that EIO ends stdin.
	 */
	if (n < 0 && errno == EIO && run_io_tty_owner(fd) == RUN_IO_TTY_OTHER &&
	    io->background_stop && io->background_stop(io->background_userdata, SIGTTIN))
		return 0;
	if (n <= 0) {
		run_io_stdin_close(io);
		return 0;
	}
	io->buf_len = (size_t)n;
	io->buf_off = 0;
	/* Wait until the task takes this chunk before reading more. */
	(void)loop_remove(l, io->stdin_src);
	if (loop_add(l, io->stdin_wr, EPOLLOUT, on_stdin_writable, io) < 0)
		run_io_stdin_close(io);
	return 0;
}

static int on_stdin_writable(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io *io = userdata;
	ssize_t n;

	n = write(io->stdin_wr, io->buf + io->buf_off, io->buf_len - io->buf_off);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		run_io_stdin_close(io); /* the task closed its stdin */
		return 0;
	}
	io->buf_off += (size_t)n;
	if (io->buf_off < io->buf_len)
		return 0;
	(void)loop_remove(l, io->stdin_wr);
	if (loop_add(l, io->stdin_src, EPOLLIN, on_stdin_readable, io) < 0)
		run_io_stdin_close(io);
	return 0;
}

/*
 * Moves the next chunk of a regular file towards the task: spliced into its pipe (page
 * references move, not bytes) or, where the file system cannot splice, read into our
 * buffer. Returns the bytes moved, 0 at the end of the file, or -errno.
 */
static ssize_t stdin_file_next(struct run_io *io)
{
	ssize_t n;

	if (io->stdin_splice) {
		n = splice(io->stdin_src, NULL, io->stdin_wr, NULL, RUN_IO_CHUNK,
			   SPLICE_F_NONBLOCK);
		if (n >= 0)
			return n;
		if (errno != EINVAL)
			return -errno;
		io->stdin_splice = false;
	}
	n = read(io->stdin_src, io->buf, RUN_IO_STDIN_BUF);
	if (n < 0)
		return -errno;
	io->buf_len = (size_t)n;
	io->buf_off = 0;
	return n;
}

/*
 * A regular file is always readable (and epoll refuses it): its pump runs on the room in
 * the task's pipe alone, so a task that does not read its stdin costs nothing.
 */
static int on_stdin_file_writable(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io *io = userdata;
	ssize_t n;

	if (io->buf_off == io->buf_len) {
		n = stdin_file_next(io);
		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n <= 0) {
			run_io_stdin_close(io); /* EOF, a read error, or the task closed it */
			return 0;
		}
		if (io->buf_off == io->buf_len)
			return 0; /* spliced: nothing waits in our buffer */
	}
	n = write(io->stdin_wr, io->buf + io->buf_off, io->buf_len - io->buf_off);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		run_io_stdin_close(io);
	else if (n > 0)
		io->buf_off += (size_t)n;
	return 0;
}

int run_io_stdin_attach(struct run_io *io)
{
	int r;

	if (io->stdin_src < 0)
		return 0;
	r = fd_set_nonblock(io->stdin_wr, true);
	if (r < 0)
		return r;
	if (io->stdin_file) {
		io->stdin_splice = true;
		r = loop_add(io->loop, io->stdin_wr, EPOLLOUT, on_stdin_file_writable, io);
		if (r < 0)
			run_io_stdin_close(io);
		return 0;
	}
	if (loop_add(io->loop, io->stdin_src, EPOLLIN, on_stdin_readable, io) < 0)
		run_io_stdin_close(io); /* not pollable: the task gets EOF */
	return 0;
}
