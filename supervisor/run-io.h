/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The task's standard streams: stdout and stderr arrive over pipes and are forwarded to
 * airlock's own, counted and cut at the policy's output limit; stdin is pumped from
 * airlock's stdin (a terminal is never handed to the task).
 */

#include <stdbool.h>
#include <stdint.h>

struct loop;

struct run_io {
	/* Ends handed to the sandbox (closed by run_io_close_child_ends after spawn). */
	int child_stdin;
	int child_stdout;
	int child_stderr;
	/* Our ends. */
	int stdin_src;		/* airlock's stdin when pumped, else -EBADF */
	int stdin_wr;
	int stdout_rd;
	int stderr_rd;
	/* Counting and truncation. */
	uint64_t limit;		/* UINT64_MAX: none */
	uint64_t forwarded;
	uint64_t stdout_bytes;
	uint64_t stderr_bytes;
	bool truncated;
	bool out_broken;	/* our stdout/stderr went away: discard */
	/* stdin pump buffer */
	char buf[16384];
	size_t buf_len, buf_off;
	struct loop *loop;
};

/* Creates the pipes. Returns 0 or -errno. */
int run_io_open(struct run_io *io, uint64_t limit);
void run_io_close_child_ends(struct run_io *io);
/* Registers the pumps with the loop. Returns 0 or -errno. */
int run_io_attach(struct run_io *io, struct loop *l);
/* Whether stdout and stderr both reached EOF. */
bool run_io_outputs_done(const struct run_io *io);
/* Reads whatever is still buffered in the output pipes (after the task ended). */
void run_io_drain(struct run_io *io);
void run_io_done(struct run_io *io);
