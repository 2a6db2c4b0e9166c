/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A grant's expiry while its task runs: the earlier of the issuer's lifetime and the
 * grant's ttl (an issuer may grant longer than asked). At that time the grant is recorded
 * expired, its task is ended with "on_expiry": "kill", and, whatever on_expiry says, its
 * credential is revoked at the issuer, so that a ttl of 15m means a token dead after 15
 * minutes. A revocation is a blocking HTTP request: it runs on a thread of its own (the
 * issuer module's revoke_all()), never on the run's loop, which goes on passing the task's
 * output and handling signals; the thread's end is an eventfd the loop reads. The run's
 * end waits for a batch still out and revokes only what it left (credentials_revoke()).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "credentials-internal.h"
#include "fd-util.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "record.h"

/* The expired grants being revoked on a thread. */
struct expiry_batch {
	pthread_t thread;
	const struct issuer_module *m;
	struct issuer_job *jobs;
	json_t **states; /* each job's state, parsed from secure memory for the request only */
	size_t *items; /* each job's grant: its index in the set */
	size_t n;
	int done_fd; /* the set's batch_fd, written once revoke_all() has returned */
};

static void batch_free(struct expiry_batch *b)
{
	if (!b)
		return;
	for (size_t k = 0; b->states && k < b->n; k++)
		json_decref(b->states[k]);
	free(b->jobs);
	free(b->states);
	free(b->items);
	free(b);
}

static void *batch_main(void *userdata)
{
	struct expiry_batch *b = userdata;

	b->m->revoke_all(b->jobs, b->n);
	(void)eventfd_write(b->done_fd, 1);
	return NULL;
}

/* A batch of every grant whose revocation is due, marked as being revoked; NULL: none. */
static struct expiry_batch *batch_new(struct credential_set *s, size_t n)
{
	struct expiry_batch *b = calloc(1, sizeof(*b));

	if (!b || !(b->jobs = calloc(n, sizeof(*b->jobs))) ||
	    !(b->states = calloc(n, sizeof(*b->states))) ||
	    !(b->items = calloc(n, sizeof(*b->items)))) {
		batch_free(b);
		return NULL;
	}
	b->m = s->issued->m;
	b->done_fd = s->issued->batch_fd;
	for (size_t i = 0; i < s->n && b->n < n; i++) {
		struct credential_grant *cg = s->items[i].grant;

		if (!cg || !cg->revoke_due)
			continue;
		b->states[b->n] = credentials_state_parse(cg->state.data, cg->state.len);
		if (!b->states[b->n]) { /* out of memory: the run's end revokes them */
			batch_free(b);
			return NULL;
		}
		b->jobs[b->n] = (struct issuer_job){
			.issuer = cg->issuer,
			.revocation = json_object_get(b->states[b->n], "revocation"),
		};
		b->items[b->n++] = i;
	}
	return b;
}

/*
 * Starts revoking every grant whose revocation is due, on a thread that hears no signal
 * (the loop's signalfd gets them all), unless a batch is out: its end starts the next.
 * What cannot be started now is revoked when the run ends (logged).
 */
static void batch_start(struct credential_set *s)
{
	struct credentials_issued *g = s->issued;
	struct expiry_batch *b;
	sigset_t all, old;
	size_t n = 0;
	int r;

	if (g->batch || g->ended)
		return;
	for (size_t i = 0; i < s->n; i++)
		n += s->items[i].grant && s->items[i].grant->revoke_due;
	if (n == 0)
		return;
	b = batch_new(s, n);
	r = b ? 0 : -ENOMEM;
	if (r >= 0) {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		r = -pthread_create(&b->thread, NULL, batch_main, b);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	for (size_t i = 0; i < s->n; i++) {
		struct credential_grant *cg = s->items[i].grant;

		if (cg && cg->revoke_due) {
			cg->revoke_due = false;
			cg->revoking = r >= 0;
		}
	}
	if (r < 0) {
		batch_free(b);
		log_warning_errno(r, "Failed to revoke expired credentials now, revoking them when "
				     "the run ends: %m");
		return;
	}
	g->batch = b;
}

/* An event of the run's log, for the watch's caller (which takes fields). */
static void event(const struct credentials_issued *g, const char *type, json_t *fields)
{
	if (g->on_event)
		g->on_event(type, fields, g->userdata);
	else
		json_decref(fields);
}

/* "credential_revoked": what became of c's revocation at its expiry. */
static void event_revoked(const struct credentials_issued *g, const struct credential *c)
{
	const struct credential_grant *cg = c->grant;
	json_t *o = json_pack("{s:s, s:s}", "name", c->slot->name, "revocation", cg->result);

	if (o && streq(cg->result, "failed") &&
	    json_object_set_new(o, "revocation_error", json_string(cg->error)) < 0) {
		json_decref(o);
		o = NULL;
	}
	event(g, "credential_revoked", o);
}

void credentials_expiry_finish(struct credential_set *s)
{
	struct credentials_issued *g = s->issued;
	struct expiry_batch *b = g->batch;

	if (!b)
		return;
	pthread_join(b->thread, NULL);
	g->batch = NULL;
	for (size_t k = 0; k < b->n; k++) {
		struct credential *c = &s->items[b->items[k]];

		c->grant->revoking = false;
		credentials_revoke_result(g, c, &b->jobs[k], true);
		event_revoked(g, c);
	}
	batch_free(b);
}

/* The batch's thread has ended: its results into the grants, and the next batch out. */
static int on_batch_done(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct credential_set *s = userdata;
	eventfd_t v;

	(void)eventfd_read(fd, &v);
	credentials_expiry_finish(s);
	batch_start(s);
	return 0;
}

/* Which grants next_expiry() looks at. */
enum expiry_of {
	EXPIRY_OF_ANY,
	EXPIRY_OF_KILL, /* "on_expiry": "kill" */
	EXPIRY_OF_RECORD_REVOCABLE, /* "on_expiry": "record", with a revocation to make */
};

static bool is_of(const struct credential *c, enum expiry_of of)
{
	bool kill = c->slot->on_expiry == POLICY_CREDENTIAL_ON_EXPIRY_KILL;

	switch (of) {
	case EXPIRY_OF_ANY:
		return true;
	case EXPIRY_OF_KILL:
		return kill;
	case EXPIRY_OF_RECORD_REVOCABLE:
		return !kill && c->grant->state.data && !c->grant->revoking;
	}
	return false;
}

/* The earliest expiry of a grant not expired yet, of those of, or 0. */
static int64_t next_expiry(const struct credential_set *s, enum expiry_of of)
{
	int64_t next = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct credential *c = &s->items[i];

		if (!c->grant || c->grant->expired || !is_of(c, of))
			continue;
		if (next == 0 || c->grant->expires_s < next)
			next = c->grant->expires_s;
	}
	return next;
}

/* Arms the timer for the earliest expiry still to come; disarms it when none is. */
static int expiry_arm(struct credential_set *s)
{
	struct itimerspec its = {};

	its.it_value.tv_sec = (time_t)next_expiry(s, EXPIRY_OF_ANY);
	if (timerfd_settime(s->issued->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

/* One grant's expiry: logged, recorded (and an event), its revocation due when it has one. */
static void expire(const struct credentials_issued *g, struct credential *c)
{
	bool kill = c->slot->on_expiry == POLICY_CREDENTIAL_ON_EXPIRY_KILL;
	bool revocable = c->grant->state.data && !c->grant->revoking;
	char at[40];

	c->grant->expired = true;
	c->grant->revoke_due = revocable;
	log_warning("credential '%s' from issuer '%s' expired while the task runs: %s%s",
		    c->slot->name, c->slot->issuer,
		    kill ? "ending the task (on_expiry \"kill\")"
			 : "the task goes on (on_expiry \"record\")",
		    revocable ? ", revoking the credential at the issuer" : "");
	record_format_time(&(struct timespec){ .tv_sec = (time_t)c->grant->expires_s }, at,
			   sizeof(at));
	event(g, "credential_expired",
	      json_pack("{s:s, s:s, s:s, s:b}", "name", c->slot->name, "on_expiry",
			policy_credential_on_expiry_to_string(c->slot->on_expiry), "expires_at", at,
			"revoking", revocable));
}

static int on_expiry(struct loop *l, int fd, uint32_t events, void *userdata)
{
	struct credential_set *s = userdata;
	const char *kill_name = NULL;
	int64_t now = credentials_now_s();
	uint64_t ticks;

	(void)read(fd, &ticks, sizeof(ticks));
	for (size_t i = 0; i < s->n; i++) {
		struct credential *c = &s->items[i];

		if (!c->grant || c->grant->expired || c->grant->expires_s > now)
			continue;
		expire(s->issued, c);
		if (c->slot->on_expiry == POLICY_CREDENTIAL_ON_EXPIRY_KILL && !kill_name)
			kill_name = c->slot->name;
	}
	(void)expiry_arm(s);
	batch_start(s);
	if (kill_name)
		return s->issued->on_kill(kill_name, s->issued->userdata);
	return 0;
}

int credentials_watch_expiry(struct credential_set *s, struct loop *l, credentials_expired_fn fn,
			     credentials_event_fn event_fn, void *userdata)
{
	struct credentials_issued *g = s ? s->issued : NULL;
	int r;

	if (!g)
		return 0;
	g->timer_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (g->timer_fd < 0)
		return -errno;
	g->batch_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->batch_fd < 0)
		return -errno;
	g->on_kill = fn;
	g->on_event = event_fn;
	g->userdata = userdata;
	r = expiry_arm(s);
	if (r >= 0)
		r = loop_add(l, g->timer_fd, EPOLLIN, on_expiry, s);
	if (r >= 0)
		r = loop_add(l, g->batch_fd, EPOLLIN, on_batch_done, s);
	if (r >= 0)
		g->loop = l;
	return r;
}

int credentials_expire_due(struct credential_set *s)
{
	struct credentials_issued *g = s ? s->issued : NULL;

	if (!g || !g->loop)
		return 0;
	return on_expiry(g->loop, g->timer_fd, EPOLLIN, s);
}

static int next_expiry_of(const struct credential_set *s, enum expiry_of of, int64_t *ret)
{
	int64_t next;

	if (!s || !s->issued)
		return 0;
	next = next_expiry(s, of);
	if (next == 0)
		return 0;
	*ret = next;
	return 1;
}

int credentials_next_kill_expiry(const struct credential_set *s, int64_t *ret)
{
	return next_expiry_of(s, EXPIRY_OF_KILL, ret);
}

int credentials_next_revoke_expiry(const struct credential_set *s, int64_t *ret)
{
	return next_expiry_of(s, EXPIRY_OF_RECORD_REVOCABLE, ret);
}

int credentials_expire_due_wait(struct credential_set *s)
{
	int k = credentials_expire_due(s);

	/* Each batch waited for; one that ends may leave the next due (batch_start()). */
	while (s && s->issued && s->issued->batch) {
		credentials_expiry_finish(s);
		batch_start(s);
	}
	return k;
}
