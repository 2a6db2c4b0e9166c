/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "time-util.h"

#define LOG_LINE_MAX 2048
/* A message of LOG_LINE_MAX bytes, each escaped as \u00XX at worst, and the rest. */
#define LOG_DIAG_LINE_MAX (6 * LOG_LINE_MAX + 256)

static enum log_level max_level = LOG_LEVEL_NOTICE;
static const char *task_id;
static bool housekeeping;
/* The first error line about the caller's own run since log_reset_first_error(). */
static char first_error[LOG_LINE_MAX];
static bool has_first_error;

/* The diagnostics sink: airlock's own lines, apart from the terminal. */
static struct {
	int fd; /* -EBADF: none */
	bool send; /* a socket: send(MSG_DONTWAIT) */
	bool is_stderr; /* fd 2 itself: it replaces the terminal lines */
	enum log_format format;
} diag = { .fd = -EBADF };

static const char *const level_names[_LOG_LEVEL_MAX] = {
	[LOG_LEVEL_DEBUG] = "debug",	 [LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_ERROR] = "error",
};

static const char *const format_names[_LOG_FORMAT_MAX] = {
	[LOG_FORMAT_TEXT] = "text",
	[LOG_FORMAT_JSON] = "json",
};

void log_set_max_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_max_level(void)
{
	return max_level;
}

void log_set_task_id(const char *id)
{
	task_id = id;
}

void log_set_housekeeping(bool on)
{
	housekeeping = on;
}

const char *log_level_to_string(enum log_level level)
{
	if (level < 0 || level >= _LOG_LEVEL_MAX)
		return NULL;
	return level_names[level];
}

const char *log_format_to_string(enum log_format f)
{
	if (f < 0 || f >= _LOG_FORMAT_MAX)
		return NULL;
	return format_names[f];
}

enum log_format log_format_from_string(const char *s)
{
	for (int i = 0; s && i < _LOG_FORMAT_MAX; i++)
		if (strcmp(format_names[i], s) == 0)
			return (enum log_format)i;
	return _LOG_FORMAT_INVALID;
}

int log_open_diagnostics(int fd, enum log_format format)
{
	char path[32];
	struct stat st;
	int own;

	if (fd < 0 || format < 0 || format >= _LOG_FORMAT_MAX)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	log_close_diagnostics();
	diag.format = format;
	diag.is_stderr = fd == STDERR_FILENO;
	diag.send = S_ISSOCK(st.st_mode);
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
		/* A regular file or a socket: plain writes, or send(MSG_DONTWAIT). */
		diag.fd = diag.is_stderr ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
		if (diag.fd < 0)
			return -errno;
		(void)fcntl(diag.fd, F_SETFD, FD_CLOEXEC);
		return 0;
	}
	/* A pipe or terminal: a description of our own that never blocks (a line is lost). */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	own = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (own < 0)
		return errno == ENXIO ? -EPIPE : -errno;
	if (!diag.is_stderr)
		safe_close(fd);
	diag.fd = own;
	return 0;
}

void log_close_diagnostics(void)
{
	diag.fd = safe_close(diag.fd);
	diag.is_stderr = false;
}

/*
 * The code point of the UTF-8 sequence at p and its length (*ret_n), or -1 and 1 for an
 * invalid byte: not a lead byte, a missing continuation, an overlong form, a surrogate or
 * past U+10FFFF. Reads no further than a NUL.
 */
static int32_t utf8_next(const unsigned char *p, unsigned *ret_n)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned n = p[0] < 0x80   ? 1
		     : p[0] < 0xc2 ? 0
		     : p[0] < 0xe0 ? 2
		     : p[0] < 0xf0 ? 3
		     : p[0] < 0xf5 ? 4
				   : 0;
	uint32_t cp;

	*ret_n = 1;
	if (n == 0)
		return -1;
	cp = n == 1 ? p[0] : p[0] & (0x7fu >> n);
	for (unsigned i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min[n] || (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff)
		return -1;
	*ret_n = n;
	return (int32_t)cp;
}

/* Appends s to buf as the inside of a JSON string: valid UTF-8 kept, controls escaped. */
static size_t json_escape(char *buf, size_t pos, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned n;
	int32_t cp;

	while (*p && pos + 8 < len) {
		cp = utf8_next(p, &n);
		if (cp < 0) /* an invalid byte */
			pos += (size_t)snprintf(buf + pos, len - pos, "\\ufffd");
		else if (cp == '"' || cp == '\\') {
			buf[pos++] = '\\';
			buf[pos++] = (char)cp;
		} else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) /* C0, DEL, C1: never raw */
			pos += (size_t)snprintf(buf + pos, len - pos, "\\u%04x", (unsigned)cp);
		else {
			memcpy(buf + pos, p, n);
			pos += n;
		}
		p += n;
	}
	return pos;
}

/*
 * s as text that cannot act on a terminal or split a line, the neutraliser's rendering
 * (docs/logs.md): valid UTF-8 kept; every C0 control (newline and tab too), DEL and invalid
 * byte as "\xHH"; the C1 controls and the bidirectional overrides and isolates as
 * "\uHHHH". A path or command the caller gave, quoted in a message, stays visible text.
 */
static void text_escape(char *buf, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t pos = 0;
	unsigned n;
	int32_t cp;

	while (*p && pos + 8 < len) {
		cp = utf8_next(p, &n);
		if (cp < 0x20 || cp == 0x7f) /* an invalid byte too (-1) */
			pos += (size_t)snprintf(buf + pos, len - pos, "\\x%02x", p[0]);
		else if ((cp >= 0x80 && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
			 (cp >= 0x2066 && cp <= 0x2069))
			pos += (size_t)snprintf(buf + pos, len - pos, "\\u%04x", (unsigned)cp);
		else {
			memcpy(buf + pos, p, n);
			pos += n;
		}
		p += n;
	}
	buf[pos] = '\0';
}

static void format_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	utc_time(ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* One line to the diagnostics sink; a line the sink cannot take now is lost. */
static void diag_write(enum log_level level, const char *run, const char *msg, const char *text)
{
	char line[LOG_DIAG_LINE_MAX], ts[96];
	size_t pos;
	ssize_t n;

	format_now(ts, sizeof(ts));
	if (diag.format == LOG_FORMAT_JSON) {
		pos = (size_t)snprintf(line, sizeof(line),
				       "{\"ts\":\"%s\",\"level\":\"%s\",\"run\":", ts,
				       level_names[level]);
		if (run) {
			line[pos++] = '"';
			pos = json_escape(line, pos, sizeof(line), run);
			line[pos++] = '"';
		} else
			pos += (size_t)snprintf(line + pos, sizeof(line) - pos, "null");
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos, ",\"message\":\"");
		pos = json_escape(line, pos, sizeof(line) - 3, msg);
		line[pos++] = '"';
		line[pos++] = '}';
	} else
		pos = (size_t)snprintf(line, sizeof(line) - 1, "%s %s%s%s: %s", ts,
				       level_names[level], run ? " run=" : "", run ?: "", text);
	pos = pos < sizeof(line) - 1 ? pos : sizeof(line) - 2;
	line[pos++] = '\n';
	if (diag.send)
		n = send(diag.fd, line, pos, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		n = write(diag.fd, line, pos);
	(void)n;
}

/*
 * Where a line goes. Text lines (the terminal's, a text sink's) carry msg as text_escape()
 * renders it, JSON lines as json_escape() does. The terminal (stderr) gets the lines about the caller's own run at
 * max_level and above (and with --debug, every line); the diagnostics sink gets every
 * line at info and above (debug with --debug), whichever run it is about.
 */
static void log_dispatch(enum log_level level, bool task, const char *about, const char *msg)
{
	bool other = housekeeping || about;
	bool term =
		level >= max_level && (!other || max_level == LOG_LEVEL_DEBUG) && !diag.is_stderr;
	bool sink =
		diag.fd >= 0 && level >= (max_level < LOG_LEVEL_INFO ? max_level : LOG_LEVEL_INFO);
	char text[LOG_DIAG_LINE_MAX];
	int saved = errno;

	if (term || (sink && diag.format == LOG_FORMAT_TEXT))
		text_escape(text, sizeof(text), msg);
	if (term) {
		if (task && task_id)
			fprintf(stderr, "airlock: task=%s: %s\n", task_id, text);
		else
			fprintf(stderr, "airlock: %s\n", text);
	}
	if (sink)
		diag_write(level, other ? about : task_id, msg, text);
	errno = saved;
}

int log_internal(enum log_level level, int error, bool task, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;
	int e = error < 0 ? -error : error;
	bool keep = level == LOG_LEVEL_ERROR && !housekeeping && !has_first_error;
	bool shown = level >= max_level || (diag.fd >= 0 && level >= LOG_LEVEL_INFO);

	if (!shown && !keep)
		return -e;

	errno = e;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (keep) { /* the run's record says why it failed, whoever reads stderr */
		memcpy(first_error, buf, sizeof(first_error));
		has_first_error = true;
	}
	if (shown)
		log_dispatch(level, task, NULL, buf);
	return -e;
}

const char *log_first_error(void)
{
	return has_first_error ? first_error : NULL;
}

void log_reset_first_error(void)
{
	has_first_error = false;
}

int log_about_run(enum log_level level, const char *run_id, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;

	if (level < max_level && (diag.fd < 0 || level < LOG_LEVEL_INFO))
		return 0;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_dispatch(level, false, run_id, buf);
	return 0;
}
