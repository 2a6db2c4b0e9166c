/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs a command with its stdout pipe grown as airlock grows its caller's (to
 * RUN_IO_DISCARD_PIPE_SIZE, best effort). bench/output.sh runs bwrap under it (case
 * "bwrap-1m"), so that airlock's ratio can also be read against bwrap with the pipe
 * airlock gives itself: where switching between a writer and a reader is dear, a 64 KiB
 * pipe alone slows a fast task by half. Not part of the test suite.
 *
 *   pipe-grow CMD [ARG...] > PIPE
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "run-io.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pipe-grow CMD [ARG...] > PIPE\n");
		return 2;
	}
	if (fcntl(STDOUT_FILENO, F_SETPIPE_SZ, RUN_IO_DISCARD_PIPE_SIZE) < 0)
		perror("pipe-grow: F_SETPIPE_SZ");
	execvp(argv[1], argv + 1);
	perror("pipe-grow: exec");
	return 127;
}
