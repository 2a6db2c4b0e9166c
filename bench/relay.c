/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The floor of any supervisor that takes a task's output through a process of its own (as
 * redaction must): stdin copied to stdout with nothing looked at, in reads of the size
 * airlock reads (RUN_IO_CHUNK), both pipes grown as airlock grows them. bench/output.sh
 * runs it between bwrap and the consumer (case "relay"), so that the ratio airlock reaches
 * can be read against the ratio no filter at all could beat on the same machine in the
 * same run. Not part of the test suite.
 *
 *   relay < PIPE > PIPE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "run-io.h"

int main(void)
{
	char *buf = malloc(RUN_IO_CHUNK);

	if (!buf)
		return 1;
	(void)fcntl(STDIN_FILENO, F_SETPIPE_SZ, RUN_IO_DISCARD_PIPE_SIZE);
	(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, RUN_IO_DISCARD_PIPE_SIZE);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, RUN_IO_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("relay: read");
			return 1;
		}
		if (n == 0)
			return 0;
		for (ssize_t off = 0, w; off < n; off += w) {
			w = write(STDOUT_FILENO, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0) {
				perror("relay: write");
				return 1;
			}
		}
	}
}
