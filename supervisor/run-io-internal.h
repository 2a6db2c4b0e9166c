/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by run-io.c (setup), run-io-forward.c (stdout, stderr) and run-io-stdin.c; see run-io.h. */

#include <stdbool.h>
#include <stddef.h>

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

struct run_io_stream;

/* What run_io_filter_pass() does with the task's bytes. */
enum run_io_filter_op {
	RUN_IO_FILTER_FEED, /* bytes read from the task */
	RUN_IO_FILTER_FLUSH, /* the task went quiet: what is safe of what is held */
	RUN_IO_FILTER_FINISH, /* the end of the stream: everything held, partial secrets redacted */
};

/* Gives s its filter when io->redactor is set (io->raw_terminal applies). 0 or -errno. */
int run_io_filter_attach(struct run_io_stream *s);
/*
 * Passes buf, len (FEED) through s's filter: the captured log gets its neutralised part
 * here, and *ret, *ret_len the caller's part (valid until the next call for s). Without a
 * filter the bytes go through as they are. A FEED arms the quiet timer while bytes are
 * held (a FLUSH does not: what it leaves held waits for a write). A FINISH on a
 * finished filter gives nothing. Returns 0 or -errno (logged; nothing goes out then).
 */
int run_io_filter_pass(struct run_io_stream *s, enum run_io_filter_op op, const void *buf,
		       size_t len, const char **ret, size_t *ret_len);
/* Appends p, n to what waits for s's caller. Returns 0 or -ENOMEM (logged). */
int run_io_stream_queue(struct run_io_stream *s, const char *p, size_t n);
/*
 * run_io_filter_pass(), and the caller's part queued for the caller unless its reader is
 * gone. Returns 0 or -errno (logged).
 */
int run_io_stream_pass(struct run_io_stream *s, enum run_io_filter_op op, const void *buf,
		       size_t n);
/* Frees the filter and the quiet timer (removed from the loop when there is one). */
void run_io_filter_done(struct run_io_stream *s);
/* Appends p, n to what waits for s's caller and writes what the caller takes. 0 or -errno. */
int run_io_stream_emit(struct run_io_stream *s, const char *p, size_t n);
/* Stops reading s's pipe (out of the loop, unpaused) and closes it. */
void run_io_stream_close_rd(struct run_io_stream *s);
