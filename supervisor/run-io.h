/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The task's standard streams. stdout and stderr arrive over pipes and are forwarded to
 * airlock's own, counted and cut at the policy's output limit. stdin is a pipe pumped
 * from airlock's stdin when that is a terminal, pipe, socket or readable regular file
 * (the task never holds the caller's terminal or file), and /dev/null otherwise
 * (closed, O_PATH or write-only fds give the task nothing).
 *
 * Forwarding never blocks the event loop, so a reader that stalls cannot delay the wall
 * time deadline or the handling of SIGTERM:
 *  - pipes, FIFOs and terminals are written through a private O_NONBLOCK open file
 *    description, reopened from /proc/self/fd/N (the caller's description keeps its
 *    flags). For stderr, that private description also replaces fd 2 in this process for
 *    the run, so that the supervisor's own log lines cannot block on a stalled reader
 *    either (such a line is lost instead);
 *  - sockets are written with send(MSG_DONTWAIT);
 *  - regular files and other devices take plain writes (they do not wait on a reader).
 * At most one chunk per stream waits for its reader; meanwhile the task's pipe is not
 * read, so back-pressure still slows the task down.
 *
 * When the reader of airlock's fd 1 or 2 goes away (a write fails with EPIPE or any other
 * error, or the fd reports EPOLLERR/EPOLLHUP, which pipes, sockets and terminals do the
 * moment their reader closes), the task's end of that stream closes too: its next write
 * fails with EPIPE or SIGPIPE, as without airlock, and `airlock run -- yes | head` ends.
 * With a captured log (io->log) the stream is read on into the log instead, and closes
 * only once the log takes no more (its logs.max_size, or once the output limit cut the
 * output). What goes to the log alone does not count toward the output limit.
 *
 * Every byte of stdout and stderr passes a per-stream filter first (run-io-filter.c): the
 * redactor, then the neutraliser (docs/logs.md). Bytes that may start a secret are held
 * back until the next read shows whether they do; when the task stays quiet for
 * RUN_IO_QUIET_MS with bytes held, what is safe goes out (a prompt without a newline is
 * not held); at the end of the stream the rest goes, a pending partial secret redacted.
 *
 * The captured log is a sink (run-log.h): it gets the filter's neutralised output, at the
 * one place where bytes are passed on, whether or not the caller still reads.
 *
 * Past the output limit, nothing more is forwarded, and nothing copied: the task's pipes
 * are grown to RUN_IO_DISCARD_PIPE_SIZE and emptied into /dev/null by splice, at most
 * RUN_IO_DISCARD_BATCH chunks per wake-up followed by RUN_IO_DISCARD_PAUSE_MS without
 * listening. A task writing without end thus costs the supervisor a few system calls per
 * pause per stream, and is slowed to about RUN_IO_DISCARD_PIPE_SIZE per pause.
 *
 * After the task ended, run_io_drain() forwards what is left for as long as the reader
 * keeps taking it, but gives up once it took nothing for RUN_IO_DRAIN_IDLE_MS, or
 * RUN_IO_DRAIN_MAX_MS after the task ended: the rest is counted and discarded.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;
struct output_filter;
struct redactor;
struct run_io;

/* A read from the task's pipe: 256 KiB (a quarter of the pipe) cost the supervisor a tenth
 * less CPU per byte than 64 KiB, in a fourth of the system calls and wake-ups; 1 MiB no
 * less than 256 KiB (docs/logs.md). */
#define RUN_IO_CHUNK 262144
/* The buffers live on the heap: on the stack they were paged in, and copied into the
 * sandbox's page tables at the clone, by every run. */
#define RUN_IO_STREAM_BUF (RUN_IO_CHUNK + 128)
#define RUN_IO_STDIN_BUF 16384
#define RUN_IO_DRAIN_IDLE_MS 2000
#define RUN_IO_DRAIN_MAX_MS 30000
#define RUN_IO_DISCARD_PIPE_SIZE (1024 * 1024) /* the unprivileged pipe-max-size */
#define RUN_IO_DISCARD_BATCH 4
#define RUN_IO_DISCARD_PAUSE_MS 50
#define RUN_IO_QUIET_MS 200 /* quiet this long, bytes held back for a short match go out */

enum run_io_write_mode {
	RUN_IO_WRITE_BLOCKING, /* plain write(): regular files, /dev/null, ... */
	RUN_IO_WRITE_PRIVATE, /* write() on our own O_NONBLOCK description */
	RUN_IO_WRITE_SEND, /* send(MSG_DONTWAIT) on the caller's socket */
};

/* One forwarded stream: the task's pipe -> airlock's fd 1 or 2. */
struct run_io_stream {
	struct run_io *io;
	const char *name; /* "stdout" or "stderr" */
	int rd; /* our end of the task's pipe; -EBADF after EOF or once broken */
	int out; /* where data goes: own_fd, or airlock's fd 1/2 */
	int own_fd; /* private non-blocking description of fd 1/2, or -EBADF */
	int pause_fd; /* timerfd: listen to rd again after a discard pause, or -EBADF */
	enum run_io_write_mode mode;
	bool tty; /* out is a terminal: a background write may stop the job (TOSTOP) */
	bool rd_in_loop; /* rd is watched for EPOLLIN */
	bool out_watched; /* out is watched: EPOLLERR/EPOLLHUP, and EPOLLOUT while waiting */
	bool waiting; /* data pending: out watched for EPOLLOUT, rd not read */
	bool broken; /* the reader went away (or fd 1/2 unusable): rd is closed */
	bool discarding; /* past the output limit: rd is emptied into /dev/null */
	bool paused; /* discarding, and rd not listened to until pause_fd fires */
	bool mid_line; /* the last byte handed on to the caller is not a newline */
	uint64_t *bytes; /* bytes the task wrote to this stream */
	uint64_t passed; /* of those, bytes passed on (to the caller and the log), not dropped */
	char *buf; /* RUN_IO_STREAM_BUF: a chunk read from the task */
	char *pend; /* what waits for the caller: pend[off, len), filtered; grown as needed */
	size_t pend_cap, off, len;
	struct output_filter *filter; /* redactor, then neutraliser (run-io-filter.c), or NULL */
	int quiet_fd; /* timerfd: the task went quiet with bytes held back, or -EBADF */
	bool quiet_armed; /* quiet_fd is armed (for quiet_due or earlier) */
	uint64_t quiet_due; /* CLOCK_MONOTONIC ms: the held bytes go out then, if still quiet */
};

struct run_io {
	/* Ends handed to the sandbox (closed by run_io_close_child_ends after spawn). */
	int child_stdin;
	int child_stdout;
	int child_stderr;
	/* stdin pump. */
	int stdin_src; /* airlock's stdin when pumped, else -EBADF */
	int stdin_wr;
	bool stdin_file; /* stdin_src is a regular file: pumped as the pipe has room */
	bool stdin_splice; /* ... with splice(), until the file system refuses it */
	char *buf; /* RUN_IO_STDIN_BUF, allocated when stdin is pumped */
	size_t buf_len, buf_off;
	/* stdout and stderr. */
	struct run_io_stream out;
	struct run_io_stream err;
	int saved_stderr; /* airlock's original fd 2 while the private one stands in */
	/* Counting and truncation. */
	uint64_t limit; /* UINT64_MAX: none */
	uint64_t forwarded;
	uint64_t stdout_bytes;
	uint64_t stderr_bytes;
	bool truncated;
	int null_fd; /* /dev/null, opened for discarding past the limit, or -EBADF */
	/* Draining after the task ended. */
	bool draining;
	int drain_fd; /* timerfd: give up on the reader */
	uint64_t drain_started_ms, drain_progress_ms;
	struct loop *loop;
	/* The captured logs, or NULL: set after run_io_open(), before run_io_attach(). */
	struct run_log *log;
	/* The compiled redactor (not owned), or NULL (no filter); set as log is. */
	const struct redactor *redactor;
	bool raw_terminal; /* logs.terminal "raw": the caller's stream is not neutralised */
	/*
	 * Job control: airlock used its terminal from a background process group, where the
	 * kernel would have stopped it with sig had it not blocked the signal: a read
	 * (SIGTTIN; the kernel refused it with EIO), or a write with TOSTOP set (SIGTTOU; the
	 * kernel let it through). Stops the job as that signal would have; returns false when
	 * it did not (an orphaned process group): stdin then ends, a write goes ahead. NULL:
	 * the same.
	 */
	bool (*background_stop)(void *userdata, int sig);
	void *background_userdata;
};

/*
 * Creates the pipes, decides how stdin reaches the task and how stdout/stderr are
 * written (see above; may swap fd 2 for a private description until run_io_done()).
 * *io must not be in use. Returns 0 or -errno; logs nothing except a warning when a
 * private description cannot be opened (writes to that stream then block).
 */
int run_io_open(struct run_io *io, uint64_t limit);
/*
 * Makes the task's ends of the pipes run_io_open() created (stdout, stderr, and stdin when
 * pumped) owned by uid:gid, the task's host ids, so that it may reopen them through
 * /dev/stdout, /dev/stderr and /dev/stdin. Returns 0 or -errno.
 */
int run_io_chown_child_ends(struct run_io *io, uid_t uid, gid_t gid);
void run_io_close_child_ends(struct run_io *io);
/* Registers the pumps with the loop (not owned; must outlive io's use). 0 or -errno. */
int run_io_attach(struct run_io *io, struct loop *l);
/* Whether stdout and stderr both reached EOF and nothing is left to forward. */
bool run_io_outputs_done(const struct run_io *io);
/*
 * The task has ended (every writer of the pipes is gone): stops the stdin pump and
 * forwards what is left from the loop, bounded as described above. Once everything is
 * forwarded or dropped, it calls loop_quit() on the attached loop. Logs a warning when it
 * gives up on a reader (unless that reader is airlock's stalled stderr itself).
 */
void run_io_drain(struct run_io *io);
/* Closes everything and puts airlock's original fd 2 back. Safe to call more than once. */
void run_io_done(struct run_io *io);

/* Whose is the foreground of the terminal fd: tcgetpgrp() against airlock's process group. */
enum run_io_tty_owner {
	RUN_IO_TTY_NONE, /* fd is no terminal (or -1), or the terminal has no foreground group */
	RUN_IO_TTY_OURS, /* airlock's process group: airlock is the foreground job */
	RUN_IO_TTY_OTHER, /* another group (the shell, another job): airlock is in the background */
};
enum run_io_tty_owner run_io_tty_owner(int fd);
