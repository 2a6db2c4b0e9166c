/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "log.h"
#include "loop.h"
#include "run-io.h"

static int make_pipe(int *rd, int *wr)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*rd = p[0];
	*wr = p[1];
	return 0;
}

/*
 * Regular files and /dev/null are reopened read-only for the task; pipes, sockets and
 * terminals are pumped, so the task never holds airlock's terminal.
 */
static int open_stdin(struct run_io *io)
{
	struct stat st;
	int fd;

	if (fstat(STDIN_FILENO, &st) < 0 || S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) ||
	    S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)) {
		bool reopen = fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode);

		if (isatty(STDIN_FILENO))
			goto pump;
		fd = reopen ? open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC | O_NOCTTY)
			    : open_devnull();
		if (fd < 0)
			fd = open_devnull();
		if (fd < 0)
			return fd;
		io->child_stdin = fd;
		return 0;
	}
pump:
	io->stdin_src = STDIN_FILENO;
	return make_pipe(&io->child_stdin, &io->stdin_wr);
}

int run_io_open(struct run_io *io, uint64_t limit)
{
	int r;

	*io = (struct run_io){ .child_stdin = -EBADF, .child_stdout = -EBADF,
			       .child_stderr = -EBADF, .stdin_src = -EBADF, .stdin_wr = -EBADF,
			       .stdout_rd = -EBADF, .stderr_rd = -EBADF, .limit = limit };
	r = make_pipe(&io->stdout_rd, &io->child_stdout);
	if (r < 0)
		return r;
	r = make_pipe(&io->stderr_rd, &io->child_stderr);
	if (r < 0)
		return r;
	return open_stdin(io);
}

void run_io_close_child_ends(struct run_io *io)
{
	io->child_stdin = safe_close(io->child_stdin);
	io->child_stdout = safe_close(io->child_stdout);
	io->child_stderr = safe_close(io->child_stderr);
}

static void forward(struct run_io *io, int out_fd, const char *data, size_t n)
{
	uint64_t room = io->limit - io->forwarded;
	size_t take = n;

	if (io->truncated)
		return;
	if (n > room)
		take = (size_t)room;
	if (!io->out_broken && take > 0 && write_all(out_fd, data, take) < 0)
		io->out_broken = true; /* e.g. EPIPE: keep draining, stop writing */
	io->forwarded += take;
	if (take < n) {
		char marker[96];

		io->truncated = true;
		snprintf(marker, sizeof(marker), "\n[airlock: output truncated at %" PRIu64 " bytes]\n",
			 io->limit);
		if (!io->out_broken)
			(void)write_all(STDERR_FILENO, marker, strlen(marker));
	}
}

/* Reads one chunk; returns 0 at EOF, 1 if data was read, -EAGAIN, or -errno. */
static int pump_output(struct run_io *io, int *fd, int out_fd, uint64_t *counter)
{
	char buf[65536];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR ? 1 : -errno;
	if (n == 0) {
		if (io->loop)
			(void)loop_remove(io->loop, *fd);
		*fd = safe_close(*fd);
		return 0;
	}
	*counter += (uint64_t)n;
	forward(io, out_fd, buf, (size_t)n);
	return 1;
}

static int on_stdout(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io *io = userdata;
	int r = pump_output(io, &io->stdout_rd, STDOUT_FILENO, &io->stdout_bytes);

	return r < 0 && r != -EAGAIN ? r : 0;
}

static int on_stderr(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct run_io *io = userdata;
	int r = pump_output(io, &io->stderr_rd, STDERR_FILENO, &io->stderr_bytes);

	return r < 0 && r != -EAGAIN ? r : 0;
}

static void stdin_close(struct run_io *io)
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
	ssize_t n = read(io->stdin_src, io->buf, sizeof(io->buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		stdin_close(io);
		return 0;
	}
	io->buf_len = (size_t)n;
	io->buf_off = 0;
	/* Wait until the task takes this chunk before reading more. */
	(void)loop_remove(l, io->stdin_src);
	if (loop_add(l, io->stdin_wr, EPOLLOUT, on_stdin_writable, io) < 0)
		stdin_close(io);
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
		stdin_close(io); /* the task closed its stdin */
		return 0;
	}
	io->buf_off += (size_t)n;
	if (io->buf_off < io->buf_len)
		return 0;
	(void)loop_remove(l, io->stdin_wr);
	if (loop_add(l, io->stdin_src, EPOLLIN, on_stdin_readable, io) < 0)
		stdin_close(io);
	return 0;
}

int run_io_attach(struct run_io *io, struct loop *l)
{
	int r;

	io->loop = l;
	r = loop_add(l, io->stdout_rd, EPOLLIN, on_stdout, io);
	if (r < 0)
		return r;
	r = loop_add(l, io->stderr_rd, EPOLLIN, on_stderr, io);
	if (r < 0)
		return r;
	if (io->stdin_src < 0)
		return 0;
	r = fd_set_nonblock(io->stdin_wr, true);
	if (r < 0)
		return r;
	if (loop_add(l, io->stdin_src, EPOLLIN, on_stdin_readable, io) < 0)
		stdin_close(io); /* not pollable: the task gets EOF */
	return 0;
}

bool run_io_outputs_done(const struct run_io *io)
{
	return io->stdout_rd < 0 && io->stderr_rd < 0;
}

void run_io_drain(struct run_io *io)
{
	(void)fd_set_nonblock(io->stdout_rd, true);
	(void)fd_set_nonblock(io->stderr_rd, true);
	while (io->stdout_rd >= 0 && pump_output(io, &io->stdout_rd, STDOUT_FILENO,
						 &io->stdout_bytes) > 0)
		;
	while (io->stderr_rd >= 0 && pump_output(io, &io->stderr_rd, STDERR_FILENO,
						 &io->stderr_bytes) > 0)
		;
}

void run_io_done(struct run_io *io)
{
	run_io_close_child_ends(io);
	if (io->loop)
		stdin_close(io);
	io->stdin_wr = safe_close(io->stdin_wr);
	io->stdout_rd = safe_close(io->stdout_rd);
	io->stderr_rd = safe_close(io->stderr_rd);
}
