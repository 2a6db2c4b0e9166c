/* SPDX-License-Identifier: GPL-2.0-or-later */
/* run_io_tty_owner() (supervisor/run-io.c) on a real pseudo-terminal: whose foreground it is. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "run-io.h"
#include "test.h"

/*
 * In a session of its own with the terminal name as its controlling terminal: its owner
 * for the session's own group, then with another group of the session in the foreground.
 * Writes the two to fd out. Runs in a child: it changes the process's session.
 */
static int owners_in_session(const char *name, int out)
{
	unsigned char seen[2];
	pid_t other;
	int fd;

	if (setsid() < 0)
		return 1;
	fd = open(name, O_RDWR | O_CLOEXEC); /* a session leader's first terminal: its own */
	if (fd < 0)
		return 2;
	seen[0] = (unsigned char)run_io_tty_owner(fd);
	other = fork();
	if (other < 0)
		return 3;
	if (other == 0) {
		pause();
		_exit(0);
	}
	/* The shell's way of giving a job the terminal: its own group, then tcsetpgrp(). */
	if (setpgid(other, other) < 0 || tcsetpgrp(fd, other) < 0)
		return 4;
	seen[1] = (unsigned char)run_io_tty_owner(fd);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	return write(out, seen, sizeof(seen)) == (ssize_t)sizeof(seen) ? 0 : 5;
}

TEST(owner_of_a_terminal)
{
	unsigned char seen[2] = { 0xff, 0xff };
	int master, slave, p[2], status;
	const char *name;
	pid_t pid;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		TEST_SKIP("no pseudo-terminal on this host: posix_openpt: %s", strerror(errno));
	ASSERT_TRUE(grantpt(master) == 0 && unlockpt(master) == 0);
	name = ptsname(master);
	ASSERT_TRUE(name);
	ASSERT_OK(pipe2(p, O_CLOEXEC) < 0 ? -errno : 0);

	/* No terminal: none, whether a pipe, no fd at all, or a terminal of no session. */
	ASSERT_EQ(run_io_tty_owner(p[0]), RUN_IO_TTY_NONE);
	ASSERT_EQ(run_io_tty_owner(-1), RUN_IO_TTY_NONE);
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_TRUE(slave >= 0);
	ASSERT_EQ(run_io_tty_owner(slave), RUN_IO_TTY_NONE);
	close(slave);

	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(owners_in_session(name, p[1]));
	close(p[1]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_EQ(status, 0);
	ASSERT_EQ(read(p[0], seen, sizeof(seen)), (ssize_t)sizeof(seen));
	close(p[0]);
	close(master);
	ASSERT_EQ(seen[0], RUN_IO_TTY_OURS);
	ASSERT_EQ(seen[1], RUN_IO_TTY_OTHER);
}

TEST_MAIN()
