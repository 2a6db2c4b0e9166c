/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by run-io.c (stdout, stderr) and run-io-stdin.c; see run-io.h. */

#include <stdbool.h>

struct run_io;

/* pipe2(O_CLOEXEC) into *rd and *wr. Returns 0 or -errno. */
int run_io_pipe(int *rd, int *wr);
/* Whether fd was opened for reading (want O_RDONLY) or writing (O_WRONLY); O_PATH is not. */
bool run_io_fd_has_access(int fd, int want);

/* Decides what the task gets as stdin (io->child_stdin). Returns 0 or -errno. */
int run_io_stdin_open(struct run_io *io);
/* Starts the stdin pump on io->loop, if there is one. Returns 0 or -errno. */
int run_io_stdin_attach(struct run_io *io);
/* Stops the pump: the task sees EOF. Safe to call more than once. */
void run_io_stdin_close(struct run_io *io);
