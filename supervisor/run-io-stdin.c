/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The task's stdin: what it gets in place of airlock's fd 0 (see run-io.h). */
#include <errno.h>
#include <fcntl.h>
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
 * A read-only view of the regular file on our stdin, at the caller's offset. The reopen
 * runs as root, so it is only called once fd 0 itself is known to be readable.
 */
static int reopen_stdin_file(void)
{
	_cleanup_close_ int fd = -EBADF;
	off_t pos;

	fd = open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	pos = lseek(STDIN_FILENO, 0, SEEK_CUR);
	if (pos < 0 || lseek(fd, pos, SEEK_SET) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/*
 * Terminals, pipes and sockets are pumped (the task never holds airlock's terminal); a
 * readable regular file is reopened read-only; anything else, and any fd 0 we may not
 * read from (closed, O_PATH, write-only), gives the task /dev/null.
 */
int run_io_stdin_open(struct run_io *io)
{
	struct stat st;
	int fd;

	if (fstat(STDIN_FILENO, &st) < 0 || !run_io_fd_has_access(STDIN_FILENO, O_RDONLY))
		fd = open_devnull();
	else if (isatty(STDIN_FILENO) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		io->buf = malloc(RUN_IO_STDIN_BUF);
		if (!io->buf)
			return -ENOMEM;
		io->stdin_src = STDIN_FILENO;
		return run_io_pipe(&io->child_stdin, &io->stdin_wr);
	} else if (S_ISREG(st.st_mode)) {
		fd = reopen_stdin_file();
		if (fd < 0)
			fd = open_devnull();
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

int run_io_stdin_attach(struct run_io *io)
{
	int r;

	if (io->stdin_src < 0)
		return 0;
	r = fd_set_nonblock(io->stdin_wr, true);
	if (r < 0)
		return r;
	if (loop_add(io->loop, io->stdin_src, EPOLLIN, on_stdin_readable, io) < 0)
		run_io_stdin_close(io); /* not pollable: the task gets EOF */
	return 0;
}
