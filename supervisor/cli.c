/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"

/*
 * Waits until fd is readable (or hung up), at most until deadline (CLOCK_MONOTONIC ms; -1:
 * no bound). SIGINT, SIGTERM, SIGHUP and SIGQUIT, which main() blocks for a run, are let
 * through meanwhile: nothing of a run exists yet, so they stop airlock as usual.
 */
static int wait_readable(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	sigset_t mask;
	int n;

	sigprocmask(SIG_SETMASK, NULL, &mask);
	sigdelset(&mask, SIGINT);
	sigdelset(&mask, SIGTERM);
	sigdelset(&mask, SIGHUP);
	sigdelset(&mask, SIGQUIT);
	for (;;) {
		if (deadline >= 0) {
			int64_t left = deadline - (int64_t)now_mono_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			ts = (struct timespec){ left / 1000, (long)(left % 1000) * 1000000 };
			tsp = &ts;
		}
		n = ppoll(&p, 1, tsp, &mask);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * Reads a pipe, FIFO or terminal to EOF (at most max bytes), polling before every read: a
 * FIFO opened O_NONBLOCK reads as EOF until its writer arrives, and fd 0 is the caller's
 * file description, whose flags are not ours to change.
 */
static int read_stream(int fd, size_t max, int64_t deadline, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, size = 0;
	ssize_t n;
	int r;

	for (;;) {
		if (len == size) {
			char *nbuf;

			if (len > max)
				return -EFBIG;
			size = MIN(size ? size * 2 : 4096, max + 1);
			nbuf = realloc(buf, size + 1);
			if (!nbuf)
				return -ENOMEM;
			buf = nbuf;
		}
		r = wait_readable(fd, deadline);
		if (r < 0)
			return r;
		n = read(fd, buf + len, size - len);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n > 0)
			len += (size_t)n;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

/*
 * A regular file, or a pipe or FIFO that delivers within CLI_INPUT_WAIT_MS (a FIFO nobody
 * writes must not hold the caller for ever); nothing else (a directory, a device).
 */
static int read_path(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	/* O_NONBLOCK: opening a FIFO without a writer would wait for one. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode))
		return read_file_fd(fd, max, ret, ret_len);
	if (S_ISFIFO(st.st_mode))
		return read_stream(fd, max, (int64_t)now_mono_ms() + CLI_INPUT_WAIT_MS, ret,
				   ret_len);
	return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
}

int cli_read_input(const char *path, size_t max, char **ret, size_t *ret_len)
{
	int r;

	if (streq(path, "-"))
		r = read_stream(STDIN_FILENO, max, -1, ret, ret_len);
	else
		r = read_path(path, max, ret, ret_len);
	if (r == -EFBIG)
		return log_error_errno(r, "Failed to read '%s': larger than %zu bytes", path, max);
	if (r == -ETIMEDOUT)
		return log_error_errno(r,
				       "Failed to read '%s': it is a pipe or FIFO and nothing "
				       "wrote it to the end within %d s",
				       path, CLI_INPUT_WAIT_MS / 1000);
	if (r == -EBADFD)
		return log_error_errno(r, "Failed to read '%s': not a regular file, pipe or FIFO",
				       path);
	if (r < 0)
		return log_error_errno(r, "Failed to read '%s': %m", path);
	return 0;
}

int cli_check_path_arg(const char *option, const char *value)
{
	if (value && !value[0])
		return log_error_errno(-EINVAL, "%s: the path is an empty string", option);
	/* "--export -- CMD" made a directory named "--" in the workspace and ran CMD. */
	if (value && strncmp(value, "--", 2) == 0)
		return log_error_errno(-EINVAL,
				       "%s: '%.*s' is an option, not a path (the value is missing; "
				       "write ./%.*s for a file of that name)",
				       option, cli_arg_shown(value), value, cli_arg_shown(value),
				       value);
	return 0;
}

int cli_arg_shown(const char *arg)
{
	size_t n = strcspn(arg, "=");

	return n > INT_MAX ? INT_MAX : (int)n;
}
