/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Credential slots filled by the caller: the command-line arguments, the checks of those
 * against the policy's slots, and the one read of each value into secure memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "credentials-internal.h"
#include "log.h"
#include "macro.h"
#include "run.h"

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define FD_DIGITS_MAX 9

static void credential_set_freep(struct credential_set **s)
{
	credential_set_free(*s);
}

/* A name as the policy allows them; anything else is not echoed (it may be a value). */
static bool name_is_plain(const char *s, size_t n)
{
	return n > 0 && n <= POLICY_MAX_CREDENTIAL_NAME && strspn(s, NAME_CHARS) >= n;
}

int credential_arg_parse(const char *arg, bool from_fd, struct credential_arg_syntax *parts)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;

	*parts = (struct credential_arg_syntax){ .fd = -EBADF };
	if (!eq || !name_is_plain(arg, n))
		return -EINVAL;
	parts->name_len = n;
	if (!from_fd) {
		if (eq[1] != '@' || eq[2] == '\0')
			return -EINVAL;
		parts->path = eq + 2;
		return 0;
	}
	n = strlen(eq + 1);
	if (n == 0 || n > FD_DIGITS_MAX || strspn(eq + 1, "0123456789") != n)
		return -EINVAL;
	parts->fd = atoi(eq + 1);
	return 0;
}

/* Whether fd, parsed from --credential-fd NAME=N (-EBADF: N was malformed), may be read. */
static int check_fd(const char *name, int fd)
{
	if (fd < 0)
		return log_error_errno(-EINVAL,
				       "run: --credential-fd %s=...: expected a file descriptor "
				       "number",
				       name);
	if (fd == STDOUT_FILENO || fd == STDERR_FILENO)
		return log_error_errno(-EINVAL,
				       "run: --credential-fd %s=%d: fd %d is airlock's own output",
				       name, fd, fd);
	if (fcntl(fd, F_GETFD) < 0)
		return log_error_errno(-EINVAL, "run: --credential-fd %s=%d: fd %d is not open",
				       name, fd, fd);
	return 0;
}

int credential_args_add(struct credential_args *a, const char *arg, bool from_fd)
{
	const char *opt = from_fd ? "--credential-fd" : "--credential";
	struct credential_arg c = { .fd = -EBADF };
	struct credential_arg_syntax parts;

	/* Refused below part by part, in the order the messages name them. */
	(void)credential_arg_parse(arg, from_fd, &parts);
	if (parts.name_len == 0)
		return log_error_errno(-EINVAL,
				       "run: %s expects NAME=%s, NAME of 1..%d characters "
				       "[A-Za-z0-9_-]",
				       opt, from_fd ? "N" : "@FILE", POLICY_MAX_CREDENTIAL_NAME);
	c.name = strndup(arg, parts.name_len);
	if (!c.name)
		return log_oom();
	for (size_t i = 0; i < a->n; i++)
		if (streq(a->items[i].name, c.name)) {
			log_error("run: credential '%s' is given twice", c.name);
			free(c.name);
			return -EINVAL;
		}
	if (a->n >= ELEMENTSOF(a->items)) {
		free(c.name);
		return log_error_errno(-EINVAL, "run: at most %d credentials may be given",
				       POLICY_MAX_CREDENTIALS);
	}
	if (from_fd && check_fd(c.name, parts.fd) < 0) {
		free(c.name);
		return -EINVAL;
	}
	c.fd = parts.fd;
	/* Read to its end and closed after the first: the second would read whatever
	 * airlock opened at that number since. */
	for (size_t i = 0; from_fd && i < a->n; i++)
		if (a->items[i].fd == c.fd) {
			log_error("run: --credential-fd %s=%d: fd %d is given for credential '%s' "
				  "too (a descriptor gives one value)",
				  c.name, c.fd, c.fd, a->items[i].name);
			free(c.name);
			return -EINVAL;
		}
	if (!from_fd && !parts.path) {
		log_error("run: --credential %s=...: expected @FILE (a value is never taken from "
			  "the command line; --credential-fd %s=N reads one from a descriptor)",
			  c.name, c.name);
		free(c.name);
		return -EINVAL;
	}
	if (!from_fd) {
		c.path = strdup(parts.path);
		if (!c.path) {
			free(c.name);
			return log_oom();
		}
	}
	a->items[a->n++] = c;
	return 0;
}

void credential_args_done(struct credential_args *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->items[i].name);
		free(a->items[i].path);
	}
	a->n = 0;
}

struct credential_set *credential_set_free(struct credential_set *s)
{
	if (!s)
		return NULL;
	credentials_issued_free(s);
	for (size_t i = 0; i < s->n; i++) {
		secure_buf_free(&s->items[i].value);
		secure_buf_free(&s->items[i].file);
	}
	secure_buf_free(&s->env);
	free(s->items);
	free(s);
	return NULL;
}

/* "npm, gh" of the policy's slots, for a refusal naming what it declares. */
static void slot_names(const struct policy *p, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n_credentials && pos < len; i++)
		pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "",
					p->credentials[i].name);
}

/* Every argument names a slot; every caller slot gets exactly one value. */
static int check_args(const struct policy *p, const struct credential_args *args)
{
	char names[POLICY_MAX_CREDENTIALS * (POLICY_MAX_CREDENTIAL_NAME + 2) + 1];

	for (size_t i = 0; i < args->n; i++) {
		const struct policy_credential *c = policy_credential_find(p, args->items[i].name);

		if (c && c->source == POLICY_CREDENTIAL_SOURCE_ISSUER)
			return log_error_errno(
				-EINVAL,
				"refusing run: credential '%s' of policy '%s' is "
				"minted by issuer '%s': the caller gives it no value",
				c->name, p->name, c->issuer);
		if (c)
			continue;
		slot_names(p, names, sizeof(names));
		return log_error_errno(-EINVAL,
				       "refusing run: credential '%s' is not a slot of policy '%s' "
				       "(%s%s)",
				       args->items[i].name, p->name,
				       p->n_credentials ? "its slots: " : "it declares none",
				       names);
	}
	for (size_t i = 0; i < p->n_credentials; i++) {
		const struct policy_credential *c = &p->credentials[i];
		bool given = false;

		for (size_t j = 0; j < args->n && !given; j++)
			given = streq(args->items[j].name, c->name);
		if (!given && c->source == POLICY_CREDENTIAL_SOURCE_CALLER)
			return log_error_errno(
				-EINVAL,
				"refusing run: credential slot '%s' of policy '%s' "
				"has no value (give it with --credential %s=@FILE or "
				"--credential-fd %s=N)",
				c->name, p->name, c->name, c->name);
	}
	return 0;
}

/*
 * Waits until fd has something to read (or its writer is gone), or a stop signal comes.
 * `airlock run` blocks those signals from its start (main.c), for its signalfd to read
 * once the task runs: without one here, a FIFO nobody opens (or a pipe nobody writes)
 * would hold airlock forever, deaf to SIGTERM and ^C. Returns 0, the signal's number, or
 * -errno.
 */
int credentials_wait_readable(int fd, int *sig_fd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN } };
	struct signalfd_siginfo si;
	sigset_t mask;

	if (*sig_fd < 0) {
		run_stop_signals(&mask);
		*sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
		if (*sig_fd < 0)
			return -errno;
	}
	p[1] = (struct pollfd){ .fd = *sig_fd, .events = POLLIN };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[1].revents && read(*sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			return (int)si.ssi_signo;
		if (p[0].revents)
			return 0;
	}
}

/*
 * Reads to the end of fd, at most len bytes, waiting for data with credentials_wait_readable(). A FIFO
 * opened without a writer reads as empty until one comes: it is waited for first. Returns
 * the bytes read, or -errno (-EINTR with *ret_sig the stop signal that came meanwhile).
 */
static ssize_t read_value(int fd, uint8_t *buf, size_t len, int *ret_sig)
{
	_cleanup_close_ int sig_fd = -EBADF;
	size_t got = 0;
	int r;

	while (got < len) {
		ssize_t n;

		r = credentials_wait_readable(fd, &sig_fd);
		if (r > 0) {
			*ret_sig = r;
			return -EINTR;
		}
		if (r < 0)
			return r;
		n = read(fd, buf + got, len - got);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Checks a value just read; the messages name where it came from, never what it holds. */
static int check_value(const struct credential *c, const char *origin)
{
	const char *name = c->slot->name;

	if (c->value.len == 0)
		return log_error_errno(-EINVAL,
				       "refusing run: credential '%s': the value from %s is empty",
				       name, origin);
	if (c->value.len > CREDENTIAL_MAX_VALUE)
		return log_error_errno(-EFBIG,
				       "refusing run: credential '%s': the value from %s is larger "
				       "than %d KiB, the most a credential may hold",
				       name, origin, CREDENTIAL_MAX_VALUE / 1024);
	if (c->slot->delivery == POLICY_CREDENTIAL_DELIVER_ENV &&
	    memchr(c->value.data, 0, c->value.len))
		return log_error_errno(-EINVAL,
				       "refusing run: credential '%s': the value from %s holds a "
				       "NUL byte, which an environment variable cannot carry",
				       name, origin);
	return 0;
}

static int replace_stdin(void)
{
	_cleanup_close_ int null_fd = -EBADF;

	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (null_fd < 0)
		return -errno;
	if (dup2(null_fd, STDIN_FILENO) < 0)
		return -errno;
	return 0;
}

/* The one read of a value: a file is opened, read and closed; fd N above 2 is closed too. */
static int load_value(struct credential *c, const struct credential_arg *a)
{
	_cleanup_close_ int own_fd = -EBADF;
	char origin[PATH_MAX + 16];
	struct stat st = {};
	ssize_t n;
	int fd, r, sig = 0;

	if (a->path) {
		snprintf(origin, sizeof(origin), "'%s'", a->path);
		/* Non-blocking: a FIFO's open would wait for a writer, deaf to signals. */
		own_fd = open(a->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (own_fd < 0)
			return log_error_errno(-errno,
					       "refusing run: credential '%s': cannot open %s: %m",
					       c->slot->name, origin);
		fd = own_fd;
	} else {
		snprintf(origin, sizeof(origin), "fd %d", a->fd);
		fd = a->fd;
		if (fd > STDERR_FILENO)
			own_fd = fd;
	}
	/* One byte more than allowed, to tell "at most" from "too large". */
	r = secure_buf_alloc(&c->value, CREDENTIAL_MAX_VALUE + 1, true);
	if (r < 0)
		return log_error_errno(r, "Failed to allocate memory for credential '%s': %m",
				       c->slot->name);
	n = read_value(fd, c->value.data, CREDENTIAL_MAX_VALUE + 1, &sig);
	if (n == -EINTR)
		return log_error_errno(-EINTR,
				       "refusing run: credential '%s': interrupted by SIG%s while "
				       "waiting for %s (%s)",
				       c->slot->name, sigabbrev_np(sig) ?: "?", origin,
				       a->path && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)
					       ? "a FIFO without a writer"
					       : "its writer has not closed it");
	if (n < 0)
		return log_error_errno((int)n, "refusing run: credential '%s': cannot read %s: %m",
				       c->slot->name, origin);
	c->value.len = (size_t)n;
	/*
	 * Standard input, once read, must not reach the task as well (a regular file would be
	 * reopened for it from the start): it becomes /dev/null.
	 */
	if (fd == STDIN_FILENO) {
		r = replace_stdin();
		if (r < 0)
			return log_error_errno(r, "Failed to replace standard input: %m");
	}
	return check_value(c, origin);
}

void credentials_fingerprint(struct credential *c)
{
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, c->value.data, c->value.len);
	sha256_final(&h, c->digest);
	explicit_bzero(&h, sizeof(h));
	secure_burn_stack(); /* the message schedule held the value's words */
}

/* "NAME=value" for each env delivery, in memory of its own that the child inherits. */
int credentials_build_env(struct credential_set *s)
{
	size_t size = 0, off = 0;
	int r;

	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].slot->delivery == POLICY_CREDENTIAL_DELIVER_ENV)
			size += strlen(s->items[i].slot->target) + s->items[i].value.len + 2;
	if (size == 0)
		return 0;
	r = secure_buf_alloc(&s->env, size, false);
	if (r < 0)
		return log_error_errno(r, "Failed to allocate memory for credentials: %m");
	for (size_t i = 0; i < s->n; i++) {
		struct credential *c = &s->items[i];
		size_t n = strlen(c->slot->target);

		if (c->slot->delivery != POLICY_CREDENTIAL_DELIVER_ENV)
			continue;
		c->env = (char *)s->env.data + off;
		memcpy(c->env, c->slot->target, n);
		c->env[n] = '=';
		memcpy(c->env + n + 1, c->value.data, c->value.len);
		c->env[n + 1 + c->value.len] = '\0';
		off += n + c->value.len + 2;
	}
	s->env.len = off;
	return 0;
}

static struct credential *find_item(struct credential_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->items[i].slot->name, name))
			return &s->items[i];
	return NULL;
}

int credentials_load(const struct policy *p, const struct credential_args *args,
		     struct credential_set **ret)
{
	static const struct credential_args none = {};
	_cleanup_(credential_set_freep) struct credential_set *s = NULL;
	int r;

	if (!args)
		args = &none;
	r = check_args(p, args);
	if (r < 0)
		return r;
	if (p->n_credentials == 0) {
		*ret = NULL;
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->items = calloc(p->n_credentials, sizeof(*s->items))))
		return log_oom();
	s->n = p->n_credentials;
	for (size_t i = 0; i < s->n; i++)
		s->items[i].slot = &p->credentials[i];

	for (size_t i = 0; i < args->n; i++) {
		struct credential *c = find_item(s, args->items[i].name);

		r = load_value(c, &args->items[i]);
		if (r < 0)
			return r;
		credentials_fingerprint(c);
	}
	/* With grants, the environment waits for their values (credentials_mint()). */
	r = policy_has_grants(p) ? 0 : credentials_build_env(s);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

void credentials_for_each(const struct credential_set *s, credentials_cb cb, void *userdata)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->items[i].value.len > 0)
			cb(s->items[i].slot->name, s->items[i].value.data, s->items[i].value.len,
			   userdata);
}
