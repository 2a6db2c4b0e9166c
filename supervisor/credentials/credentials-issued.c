/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Grants ("source": "issuer:<name>"): minted once the run holds its lock and before its
 * task exists, all at once, by the issuer module; each value lands where a caller's does
 * (the set's secure memory, so delivery and the redactor see it alike). What revoking
 * needs is kept root-only in <runtime>/credentials/<run-id>/<grant>.json until it is
 * revoked when the run ends, or, after a supervisor SIGKILL, by the next start
 * (credentials-reap.c). An expiry while the task runs is recorded, and ends the task
 * with "on_expiry": "kill".
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "credentials-internal.h"
#include "fd-util.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "node-config.h"
#include "parse-util.h"
#include "record.h"

int64_t credentials_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool is_grant(const struct credential *c)
{
	return c->slot->source == POLICY_CREDENTIAL_SOURCE_ISSUER;
}

void credentials_hold_secrets(void)
{
	/*
	 * A minted value (or a dead run's revocation state) passes through memory that is not
	 * ours to keep out of a core dump: libcurl's and OpenSSL's buffers, jansson's parse.
	 * Not dumpable, airlock dumps no core at all from here on, and /proc/PID/mem and
	 * ptrace need CAP_SYS_PTRACE even for root. Children inherit it until they exec
	 * (the sandbox's init sets it itself anyway).
	 */
	(void)prctl(PR_SET_DUMPABLE, 0);
}

void credentials_issued_free(struct credential_set *s)
{
	struct credentials_issued *g = s->issued;

	if (g)
		credentials_expiry_finish(s); /* no thread of it outlives the set */
	for (size_t i = 0; i < s->n; i++) {
		struct credential_grant *cg = s->items[i].grant;

		if (!cg)
			continue;
		json_decref(cg->scope);
		secure_buf_free(&cg->state);
		free(cg);
		s->items[i].grant = NULL;
	}
	if (!g)
		return;
	for (size_t i = 0; i < g->n_issuers; i++)
		g->m->issuer_free(g->issuers[i]);
	free(g->issuers);
	safe_close(g->timer_fd); /* out of the loop since credentials_revoke() */
	safe_close(g->batch_fd);
	safe_close(g->dir_fd);
	free(g);
	s->issued = NULL;
}

/* The issuer a grant names: loaded once per set. Logs its refusal. */
static int issuer_for(struct credential_set *s, const struct node_config *cfg,
		      const struct credential *c, const struct issuer **ret)
{
	struct credentials_issued *g = s->issued;
	const struct node_issuer *ni = node_config_issuer(cfg, c->slot->issuer);
	char err[ISSUER_ERR_MAX] = "";
	struct issuer *i = NULL, **grown;
	int r;

	for (size_t k = 0; k < g->n_issuers; k++)
		if (streq(g->issuers[k]->name, c->slot->issuer)) {
			*ret = g->issuers[k];
			return 0;
		}
	assert(ni); /* credentials_check_issuers() */
	r = g->m->issuer_new(ni->name, ni->json, &i, err, sizeof(err));
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0)
		return log_error_errno(r, "refusing run: issuer '%s' of the node configuration: %s",
				       ni->name, err);
	grown = reallocarray(g->issuers, g->n_issuers + 1, sizeof(*grown));
	if (!grown) {
		g->m->issuer_free(i);
		return log_oom();
	}
	g->issuers = grown;
	g->issuers[g->n_issuers++] = i;
	*ret = i;
	return 0;
}

int credentials_check_issuers(const struct policy *p, const struct node_config *cfg)
{
	for (size_t i = 0; i < p->n_credentials; i++) {
		const struct policy_credential *c = &p->credentials[i];

		if (c->source == POLICY_CREDENTIAL_SOURCE_ISSUER &&
		    !node_config_issuer(cfg, c->issuer))
			return log_error_errno(-EINVAL,
					       "refusing run: credential '%s' of policy '%s' names "
					       "issuer '%s', which the node configuration does not "
					       "define",
					       c->name, p->name, c->issuer);
	}
	return 0;
}

void credentials_prefetch(const struct policy *p)
{
	if (policy_has_grants(p))
		issuer_module_prefetch();
}

int credentials_check_config(const struct node_config *cfg)
{
	const struct issuer_module *m;
	const char *path, *problem;
	int r;

	if (cfg->n_issuers == 0)
		return 0;
	r = issuer_module_get(&m, &path, &problem);
	if (r < 0)
		return log_error_errno(
			r, "config: cannot check the issuers: the issuer module '%s' %s", path,
			problem);
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		char err[ISSUER_ERR_MAX] = "";
		struct issuer *issuer = NULL;

		r = m->issuer_new(cfg->issuers[i].name, cfg->issuers[i].json, &issuer, err,
				  sizeof(err));
		if (r == -ENOMEM)
			return log_oom();
		if (r < 0)
			return log_error_errno(r, "config: /credentials/issuers/%s: %s",
					       cfg->issuers[i].name, err);
		m->issuer_free(issuer);
	}
	return 0;
}

/* <runtime>/credentials/<run-id>, root-only, locked for the run's lifetime. */
static int state_dir_open(struct credentials_issued *g, const char *runtime_dir, const char *run_id)
{
	char parent[PATH_MAX - 64];
	int r;

	snprintf(parent, sizeof(parent), "%s/credentials", runtime_dir);
	r = mkdir_p(parent, 0700);
	if (r < 0)
		return log_error_errno(r, "Failed to create '%s': %m", parent);
	snprintf(g->dir, sizeof(g->dir), "%s/%s", parent, run_id);
	if (mkdir(g->dir, 0700) < 0)
		return log_error_errno(-errno, "Failed to create '%s': %m", g->dir);
	g->dir_fd = open(g->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (g->dir_fd < 0 || flock(g->dir_fd, LOCK_EX) < 0)
		return log_error_errno(-errno, "Failed to lock '%s': %m", g->dir);
	return 0;
}

static void state_remove(struct credentials_issued *g, const char *grant)
{
	char name[POLICY_MAX_CREDENTIAL_NAME + 8];

	snprintf(name, sizeof(name), "%s.json", grant);
	(void)unlinkat(g->dir_fd, name, 0);
}

/* What a failed job or one not taken still holds (the module's issuer_minted_done()). */
static void minted_clear(struct issuer_minted *m)
{
	secure_buf_free(&m->value);
	json_decref(m->scope);
	json_decref(m->revocation);
	*m = (struct issuer_minted){};
}

/* The bytes of v as compact JSON, or SIZE_MAX when it cannot be measured. */
static size_t json_size(const json_t *v)
{
	size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);

	return n == 0 ? SIZE_MAX : n;
}

/*
 * A string cut at a character's start until it is at most CREDENTIALS_SCOPE_MAX bytes as
 * JSON: a control character, '"' or '\\' takes up to 6 there, so its bytes are not the
 * bound. Each round keeps the share of the bytes that the bound is of the JSON (fewer
 * each round, until it fits).
 */
static int string_clip(json_t *v)
{
	size_t n = MIN(json_string_length(v), (size_t)CREDENTIALS_SCOPE_MAX - 16), size;

	for (;;) {
		const char *s = json_string_value(v); /* set anew by each json_string_setn() */

		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--; /* a UTF-8 continuation byte: not a character's start */
		if (json_string_setn(v, s, n) < 0)
			return -ENOMEM;
		size = json_size(v);
		if (size <= CREDENTIALS_SCOPE_MAX)
			return 0;
		n = n * (CREDENTIALS_SCOPE_MAX - 2) / (size - 2); /* 2: the quotes */
	}
}

/*
 * The scope an issuer reported goes into the record as it is, if it is a string, an array
 * or an object of at most CREDENTIALS_SCOPE_MAX bytes (as JSON). A larger one is clipped,
 * and the record says so (scope_clipped): a string cut at a character's start, an array or
 * object without its elements past the bound. One of another type is left out. Does not
 * fail: what cannot be clipped is left out too.
 */
static void scope_bound(struct credential_grant *cg)
{
	json_t *v = cg->scope;
	size_t used = 2, n;

	if (!v || ((json_is_string(v) || json_is_array(v) || json_is_object(v)) &&
		   json_size(v) <= CREDENTIALS_SCOPE_MAX))
		return;
	cg->scope_clipped = true;
	if (json_is_string(v)) {
		if (string_clip(v) == 0)
			return;
	} else if (json_is_array(v)) {
		size_t i;

		for (i = 0; i < json_array_size(v); i++) {
			n = json_size(json_array_get(v, i)) + 1;
			if (n > CREDENTIALS_SCOPE_MAX || used + n > CREDENTIALS_SCOPE_MAX)
				break;
			used += n;
		}
		while (json_array_size(v) > i)
			(void)json_array_remove(v, json_array_size(v) - 1);
		return;
	} else if (json_is_object(v)) {
		const char *key;
		json_t *x;
		void *tmp;

		json_object_foreach_safe(v, tmp, key, x)
		{
			n = json_size(x) + strlen(key) * 6 + 4;
			if (n > CREDENTIALS_SCOPE_MAX || used + n > CREDENTIALS_SCOPE_MAX)
				(void)json_object_del(v, key);
			else
				used += n;
		}
		return;
	}
	cg->scope = (json_decref(cg->scope), NULL);
}

/*
 * A job's result into its slot: the value moves into the set, the rest into the grant
 * allocated before the mint (cg), so that nothing here can fail. The revocation state stays
 * in the job until credentials_state_text() has a copy.
 */
static void take_minted(struct credential *c, const struct issuer *issuer, struct issuer_job *j,
			struct credential_grant *cg)
{
	c->grant = cg;
	c->value = j->minted.value;
	j->minted.value = (struct secure_buf){};
	*c->grant = (struct credential_grant){
		.issuer = issuer,
		.scope = TAKE_PTR(j->minted.scope),
		.issued_s = j->minted.issued_s,
		/* An issuer may grant longer than asked (OAuth2 cannot even ask): the ttl holds. */
		.expires_s = MIN(j->minted.expires_s, j->minted.issued_s + (int64_t)j->grant.ttl_s),
		.issuer_expires_s = j->minted.expires_s,
		.mint_us = j->mono_us,
	};
	if (!j->minted.revocation)
		c->grant->result = "not_revocable";
	scope_bound(c->grant);
	credentials_fingerprint(c);
}

/* The lifetime to ask for: the grant's ttl, and no longer than the run may last. */
static uint64_t ttl_for(const struct policy *p, const struct policy_credential *c)
{
	uint64_t wall_s;

	if (!(p->limits.set & POLICY_LIMIT_WALL_TIME))
		return c->ttl_s;
	wall_s = (p->limits.wall_time_ms + 999) / 1000;
	return MIN(c->ttl_s, MAX(wall_s, 1));
}

/* A grant its issuer could never mint refuses the run before any grant is minted. Logs. */
static int grant_check(const struct issuer_module *m, const struct issuer *issuer,
		       const struct credential *c, const json_t *scope)
{
	char err[ISSUER_ERR_MAX] = "";
	int r;

	r = m->grant_check(issuer, scope, err, sizeof(err));
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0)
		return log_error_errno(r, "refusing run: credential '%s' from issuer '%s': %s",
				       c->slot->name, c->slot->issuer, err);
	return 0;
}

int credentials_check_grant(const struct policy_credential *pc, const struct node_config *cfg,
			    char *err, size_t errlen)
{
	const struct node_issuer *ni = node_config_issuer(cfg, pc->issuer);
	const struct issuer_module *m;
	const char *path, *problem;
	struct issuer *issuer = NULL;
	char why[ISSUER_ERR_MAX] = "";
	json_t *scope = NULL;
	int r;

	if (!ni) {
		snprintf(err, errlen, "issuer '%s' is not defined by the node configuration",
			 pc->issuer);
		return -ENOENT;
	}
	r = issuer_module_get(&m, &path, &problem);
	if (r < 0) {
		snprintf(err, errlen, "the issuer module '%s' %s", path, problem);
		return r;
	}
	r = m->issuer_new(ni->name, ni->json, &issuer, why, sizeof(why));
	if (r >= 0 && pc->scope && !(scope = json_loads(pc->scope, JSON_DECODE_ANY, NULL)))
		r = -ENOMEM;
	else if (r >= 0)
		r = m->grant_check(issuer, scope, why, sizeof(why));
	if (r < 0)
		snprintf(err, errlen, "issuer '%s'%s: %s", ni->name,
			 issuer ? "" : " of the node configuration",
			 r == -ENOMEM ? "out of memory" : why);
	json_decref(scope);
	m->issuer_free(issuer);
	return r;
}

/* The jobs of every grant; scopes parsed into scopes[]. Logs its refusal. */
static int jobs_prepare(struct credential_set *s, const struct policy *p,
			const struct node_config *cfg, const char *run_id, struct issuer_job *jobs,
			json_t **scopes, size_t *ret_n)
{
	size_t n = 0;
	int r;

	for (size_t i = 0; i < s->n; i++) {
		const struct credential *c = &s->items[i];
		const struct issuer *issuer = NULL;

		if (!is_grant(c))
			continue;
		r = issuer_for(s, cfg, c, &issuer);
		if (r < 0)
			return r;
		scopes[n] =
			c->slot->scope ? json_loads(c->slot->scope, JSON_DECODE_ANY, NULL) : NULL;
		if (c->slot->scope && !scopes[n])
			return log_oom();
		r = grant_check(s->issued->m, issuer, c, scopes[n]);
		if (r < 0)
			return r;
		jobs[n++] = (struct issuer_job){
			.issuer = issuer,
			.grant = { .name = c->slot->name,
				   .issuer = c->slot->issuer,
				   .run_id = run_id,
				   .scope = scopes[n - 1],
				   .ttl_s = ttl_for(p, c->slot) },
		};
	}
	*ret_n = n;
	return 0;
}

/*
 * The results into the set (in the jobs' order: the grants'), each into its grant of
 * grants[]; logs the first failure. A job whose revocation state could not be kept keeps
 * it (j->minted.revocation) for revoke_untaken().
 */
static int jobs_take(struct credential_set *s, struct issuer_job *jobs, size_t n,
		     struct credential_grant **grants)
{
	int first = -1, r = 0;

	for (size_t i = 0, k = 0; i < s->n && k < n; i++) {
		struct credential *c = &s->items[i];
		struct issuer_job *j;

		if (!is_grant(c))
			continue;
		j = &jobs[k++];
		if (j->error < 0) {
			first = first < 0 ? (int)(k - 1) : first;
			continue;
		}
		take_minted(c, j->issuer, j, TAKE_PTR(grants[k - 1]));
		log_debug("credential '%s' minted by issuer '%s' in %" PRId64
			  " us, expires in %" PRId64 " s",
			  c->slot->name, c->slot->issuer, j->mono_us,
			  c->grant->expires_s - c->grant->issued_s);
		if (!j->minted.revocation)
			continue;
		if (credentials_state_text(c, j->minted.revocation) < 0) {
			r = log_error_errno(-ENOMEM,
					    "refusing run: cannot keep the revocation state of "
					    "credential '%s': revoking it at once",
					    c->slot->name);
			continue;
		}
		j->minted.revocation = (json_decref(j->minted.revocation), NULL);
		if (credentials_state_write(s->issued->dir_fd, s->issued->dir, c) < 0)
			r = -EIO;
	}
	if (first >= 0)
		return log_error_errno(
			jobs[first].error, "refusing run: credential '%s' from issuer '%s': %s",
			jobs[first].grant.name, jobs[first].grant.issuer, jobs[first].err);
	return r;
}

/*
 * Fails closed: a job that minted but whose revocation state is not in the set (it could
 * not be copied) is revoked with what is in hand, the job's own state, before it is
 * dropped. Its grant's result says how that went.
 */
static void revoke_untaken(struct credential_set *s, struct issuer_job *jobs, size_t n)
{
	for (size_t i = 0, k = 0; i < s->n && k < n; i++) {
		struct credential *c = &s->items[i];
		struct issuer_job *j;

		if (!is_grant(c))
			continue;
		j = &jobs[k++];
		if (j->error < 0 || !j->minted.revocation)
			continue;
		j->revocation = j->minted.revocation;
		j->err[0] = '\0';
		s->issued->m->revoke_all(j, 1);
		if (c->grant && c->grant->result == NULL) {
			c->grant->revoked_s = credentials_now_s();
			c->grant->result = j->error >= 0 ? "revoked" : "failed";
			snprintf(c->grant->error, sizeof(c->grant->error), "%s", j->err);
		}
		if (j->error < 0)
			log_warning("Failed to revoke credential '%s' at issuer '%s': %s",
				    c->slot->name, c->slot->issuer, j->err);
	}
}

/* One grant struct per job, allocated before the mint: taking a result cannot fail. */
static int grants_alloc(struct credential_grant **grants, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		grants[i] = calloc(1, sizeof(*grants[i]));
		if (!grants[i])
			return log_oom();
	}
	return 0;
}

/*
 * Mints every job, then takes the results; what was minted but not taken is revoked. A stop
 * signal meanwhile refuses the run (what was minted is taken, and revoked with the run).
 */
static int mint_and_take(struct credential_set *s, struct issuer_job *jobs, size_t n,
			 struct credential_grant **grants)
{
	int64_t t0 = mono_us(), slowest = 0;
	int r, sig;

	credentials_hold_secrets();
	sig = credentials_mint_interruptible(s->issued->m, jobs, n);
	for (size_t i = 0; i < n; i++)
		slowest = MAX(slowest, jobs[i].mono_us);
	log_debug("minted %zu grants in %" PRId64 " us, the slowest request %" PRId64 " us", n,
		  mono_us() - t0, slowest);
	if (sig > 0)
		credentials_mark_interrupted(jobs, n, sig);
	r = jobs_take(s, jobs, n, grants);
	revoke_untaken(s, jobs, n);
	if (r >= 0 && sig > 0) /* every request had ended before the signal could cancel it */
		r = log_error_errno(-EINTR,
				    "refusing run: interrupted by SIG%s while minting credentials",
				    sigabbrev_np(sig) ?: "?");
	return r;
}

int credentials_mint(struct credential_set *s, const struct policy *p,
		     const struct node_config *cfg, const char *runtime_dir, const char *run_id)
{
	struct issuer_job *jobs = NULL;
	struct credential_grant **grants = NULL;
	json_t **scopes = NULL;
	const char *path, *problem;
	int64_t begin = mono_us();
	size_t n = 0;
	int r;

	if (!s || !policy_has_grants(p))
		return 0;
	r = credentials_check_issuers(p, cfg);
	if (r < 0)
		return r;
	s->issued = calloc(1, sizeof(*s->issued));
	if (!s->issued)
		return log_oom();
	*s->issued = (struct credentials_issued){ .dir_fd = -EBADF,
						  .timer_fd = -EBADF,
						  .batch_fd = -EBADF };
	r = issuer_module_get(&s->issued->m, &path, &problem);
	if (r < 0)
		return log_error_errno(r,
				       "refusing run: policy '%s' has credential grants but the "
				       "issuer module '%s' %s",
				       p->name, path, problem);
	jobs = calloc(s->n, sizeof(*jobs));
	scopes = calloc(s->n, sizeof(*scopes));
	grants = calloc(s->n, sizeof(*grants));
	r = jobs && scopes && grants ? 0 : log_oom();
	if (r >= 0)
		r = jobs_prepare(s, p, cfg, run_id, jobs, scopes, &n);
	if (r >= 0)
		r = grants_alloc(grants, n);
	if (r >= 0)
		r = state_dir_open(s->issued, runtime_dir, run_id);
	if (r >= 0)
		r = mint_and_take(s, jobs, n, grants);
	for (size_t i = 0; jobs && i < n; i++)
		minted_clear(&jobs[i].minted);
	for (size_t i = 0; scopes && i < s->n; i++)
		json_decref(scopes[i]);
	for (size_t i = 0; grants && i < s->n; i++)
		free(grants[i]); /* those of grants never minted */
	free(jobs);
	free(scopes);
	free(grants);
	if (r < 0) {
		credentials_revoke(s); /* what was minted before the failure */
		return r;
	}
	log_debug("grants ready in %" PRId64 " us (module, issuers, requests, state)",
		  mono_us() - begin);
	return credentials_build_env(s);
}

void credentials_revoke_result(struct credentials_issued *g, struct credential *c,
			       const struct issuer_job *j, bool at_expiry)
{
	struct credential_grant *cg = c->grant;
	char until[40];

	cg->revoked_s = credentials_now_s();
	if (j->error >= 0) {
		cg->result = "revoked";
		secure_buf_free(&cg->state);
		/* Kept until the record is final: a start that marks this run aborted reads it. */
		if (credentials_result_write(g->dir_fd, c->slot->name, cg->result, cg->revoked_s,
					     cg->expired) < 0)
			log_debug("could not keep what became of credential '%s' in '%s'",
				  c->slot->name, g->dir);
		state_remove(g, c->slot->name);
		log_debug("credential '%s' revoked by issuer '%s' in %" PRId64 " us%s",
			  c->slot->name, c->slot->issuer, j->mono_us,
			  at_expiry ? ", at its expiry" : "");
		return;
	}
	cg->result = "failed";
	snprintf(cg->error, sizeof(cg->error), "%s", j->err);
	if (at_expiry) {
		log_warning("Failed to revoke expired credential '%s' at issuer '%s': %s; "
			    "retrying when the run ends",
			    c->slot->name, c->slot->issuer, j->err);
		return;
	}
	record_format_time(&(struct timespec){ .tv_sec = cg->issuer_expires_s }, until,
			   sizeof(until));
	log_warning("Failed to revoke credential '%s' at issuer '%s': %s; it stays valid until "
		    "%s unless a later start revokes it",
		    c->slot->name, c->slot->issuer, j->err, until);
}

/* Whether c holds a grant still to revoke (never revoked, or its revocation failed). */
static bool is_pending(const struct credential *c)
{
	return c->grant && c->grant->state.data && !c->grant->revoking;
}

void credentials_revoke(struct credential_set *s)
{
	struct credentials_issued *g = s ? s->issued : NULL;
	struct issuer_job *jobs;
	json_t **states;
	size_t n = 0;

	if (!g || g->ended)
		return;
	g->ended = true;
	/* No expiry matters any more; the loop may be gone before the set. */
	if (g->loop) {
		(void)loop_remove(g->loop, g->timer_fd);
		(void)loop_remove(g->loop, g->batch_fd);
		g->loop = NULL;
	}
	/* What a revocation at expiry is doing is waited for: no grant is revoked twice. */
	credentials_expiry_finish(s);
	jobs = calloc(s->n, sizeof(*jobs));
	states = calloc(s->n, sizeof(*states));
	if (!jobs || !states) {
		free(jobs);
		free(states);
		log_oom(); /* the state files stay: the next start revokes them */
		return;
	}
	/* Parsed from secure memory for the requests only (jansson's frees clear). */
	for (size_t i = 0; i < s->n; i++) {
		struct credential_grant *cg = s->items[i].grant;

		if (!is_pending(&s->items[i]))
			continue;
		states[n] = credentials_state_parse(cg->state.data, cg->state.len);
		jobs[n] = (struct issuer_job){
			.issuer = cg->issuer,
			.revocation = json_object_get(states[n], "revocation"),
		};
		n++;
	}
	if (n > 0)
		g->m->revoke_all(jobs, n);
	for (size_t i = 0, k = 0; i < s->n && k < n; i++)
		if (is_pending(&s->items[i]))
			credentials_revoke_result(g, &s->items[i], &jobs[k++], false);
	for (size_t k = 0; k < n; k++)
		json_decref(states[k]);
	free(jobs);
	free(states);
}

/*
 * The run's record is final: what its state directory kept for a reaper (<grant>.result)
 * goes, and the directory with it once nothing in it is left to revoke.
 */
void credentials_release(struct credential_set *s)
{
	struct credentials_issued *g = s ? s->issued : NULL;
	char name[POLICY_MAX_CREDENTIAL_NAME + 16];

	if (!g || g->dir_fd < 0)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->items[i].grant)
			continue;
		snprintf(name, sizeof(name), "%s" CREDENTIALS_RESULT_SUFFIX,
			 s->items[i].slot->name);
		(void)unlinkat(g->dir_fd, name, 0);
	}
	/* errno passed on: the logger's own calls would change it before %m is formatted. */
	if (rmdir(g->dir) < 0 && errno != ENOENT)
		log_warning_errno(-errno,
				  "Failed to remove '%s' (a revocation failed: the next start "
				  "retries it), ignoring: %m",
				  g->dir);
	g->dir_fd = safe_close(g->dir_fd);
}

/* A Unix time as the record writes times. */
static json_t *time_json(int64_t t)
{
	char buf[40];

	record_format_time(&(struct timespec){ .tv_sec = (time_t)t }, buf, sizeof(buf));
	return json_string(buf);
}

int credentials_grant_to_json(const struct credential *c, json_t *o)
{
	const struct credential_grant *cg = c->grant;
	char ttl[32];
	int r = 0;

	if (!is_grant(c))
		return 0;
	format_duration_ms(c->slot->ttl_s * 1000, ttl, sizeof(ttl));
	r |= json_object_set_new(o, "issuer", json_string(c->slot->issuer));
	r |= json_object_set_new(o, "ttl", json_string(ttl));
	r |= json_object_set_new(
		o, "on_expiry",
		json_string(policy_credential_on_expiry_to_string(c->slot->on_expiry)));
	if (!cg) { /* never minted (a refused run): no value to describe */
		(void)json_object_del(o, "bytes");
		(void)json_object_del(o, "fingerprint");
		return r < 0 ? -ENOMEM : 0;
	}
	r |= json_object_set_new(o, "kind", json_string(cg->issuer->ops->kind));
	if (cg->scope)
		r |= json_object_set_new(o, "scope", json_deep_copy(cg->scope));
	if (cg->scope_clipped)
		r |= json_object_set_new(o, "scope_clipped", json_true());
	r |= json_object_set_new(o, "issued_at", time_json(cg->issued_s));
	r |= json_object_set_new(o, "expires_at", time_json(cg->expires_s));
	r |= json_object_set_new(o, "issuer_expires_at", time_json(cg->issuer_expires_s));
	r |= json_object_set_new(o, "expired", json_boolean(cg->expired));
	if (cg->revoked_s)
		r |= json_object_set_new(o, "revoked_at", time_json(cg->revoked_s));
	r |= json_object_set_new(o, "revocation", json_string(cg->result ?: "pending"));
	if (cg->result && streq(cg->result, "failed"))
		r |= json_object_set_new(o, "revocation_error", json_string(cg->error));
	return r < 0 ? -ENOMEM : 0;
}
