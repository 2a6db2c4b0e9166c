/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * airlock-issuers.so: the table the loader looks up (issuer-module.h), the parse of an
 * issuer's common settings, and the batches of mints and revocations, a thread per job so
 * that a run's grants cost the slowest issuer's time rather than the sum.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "issuer-module.h"
#include "macro.h"
#include "parse-util.h"

extern const struct issuer_ops issuer_oauth2_ops;
extern const struct issuer_ops issuer_http_json_ops;
extern const struct issuer_ops issuer_github_app_ops;

static const struct issuer_ops *const kinds[] = {
	&issuer_oauth2_ops,
	&issuer_http_json_ops,
	&issuer_github_app_ops,
};

const struct issuer_ops *issuer_kind_find(const char *kind)
{
	for (size_t i = 0; kind && i < ELEMENTSOF(kinds); i++)
		if (streq(kinds[i]->kind, kind))
			return kinds[i];
	return NULL;
}

void issuer_minted_done(struct issuer_minted *m)
{
	secure_buf_free(&m->value);
	json_decref(m->scope);
	json_decref(m->revocation);
	*m = (struct issuer_minted){};
}

int issuer_read_secret(const char *path, const char *what, size_t max, struct secure_buf *ret,
		       char *err, size_t errlen)
{
	_cleanup_close_ int fd = -EBADF;
	struct secure_buf b = {};
	struct stat st;
	ssize_t n;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s '%s': %s", what, path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		snprintf(err, errlen, "%s '%s': %s", what, path,
			 !S_ISREG(st.st_mode) ? "not a regular file"
			 : st.st_uid != 0     ? "not owned by root"
					  : "readable or writable by group or others (chmod 600)");
		return -EPERM;
	}
	r = secure_buf_alloc(&b, max + 1, true);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot allocate secure memory", what);
		return r;
	}
	n = read(fd, b.data, max + 1);
	if (n < 0 || (size_t)n > max || n == 0) {
		r = n < 0 ? -errno : n == 0 ? -ENODATA : -EFBIG;
		secure_buf_free(&b);
		snprintf(err, errlen, "%s '%s': %s", what, path,
			 r == -ENODATA ? "empty"
			 : r == -EFBIG ? "too large"
				       : strerror(-r));
		return r;
	}
	while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r'))
		n--;
	b.data[n] = '\0';
	b.len = (size_t)n;
	*ret = b;
	return 0;
}

static int common_timeout(json_t *obj, const char *key, uint32_t def, uint32_t *ret, char *err,
			  size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	uint64_t ms;

	*ret = def;
	if (!v)
		return 0;
	if (!json_is_string(v) || parse_duration_ms(json_string_value(v), &ms) < 0 || ms == 0 ||
	    ms > ISSUER_MAX_TIMEOUT_MS) {
		snprintf(err, errlen, "%s: expected a duration like \"5s\", at most 120s", key);
		return -EINVAL;
	}
	*ret = (uint32_t)ms;
	return json_object_del(obj, key) < 0 ? -ENOMEM : 0;
}

/* Takes the common keys out of obj into c (the kind sees only its own). */
static int common_parse(json_t *obj, struct issuer_common *c, char *err, size_t errlen)
{
	json_t *v;
	int r;

	r = common_timeout(obj, "connect_timeout", ISSUER_DEFAULT_CONNECT_TIMEOUT_MS,
			   &c->connect_timeout_ms, err, errlen);
	if (r >= 0)
		r = common_timeout(obj, "timeout", ISSUER_DEFAULT_TIMEOUT_MS, &c->timeout_ms, err,
				   errlen);
	if (r < 0)
		return r;
	c->max_response = ISSUER_DEFAULT_MAX_RESPONSE;
	v = json_object_get(obj, "max_response_bytes");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1024 ||
		    json_integer_value(v) > ISSUER_MAX_MAX_RESPONSE) {
			snprintf(err, errlen, "max_response_bytes: expected 1024..%d",
				 ISSUER_MAX_MAX_RESPONSE);
			return -EINVAL;
		}
		c->max_response = (size_t)json_integer_value(v);
		(void)json_object_del(obj, "max_response_bytes");
	}
	v = json_object_get(obj, "ca_file");
	if (v) {
		if (!json_is_string(v) || json_string_value(v)[0] != '/') {
			snprintf(err, errlen, "ca_file: expected an absolute path");
			return -EINVAL;
		}
		c->ca_file = strdup(json_string_value(v));
		if (!c->ca_file)
			return -ENOMEM;
		(void)json_object_del(obj, "ca_file");
	}
	(void)json_object_del(obj, "kind");
	return 0;
}

static struct issuer *issuer_free(struct issuer *i)
{
	if (!i)
		return NULL;
	if (i->config)
		i->ops->free_config(i->config);
	free(i->common.ca_file);
	free(i->name);
	free(i);
	return NULL;
}

static int issuer_new(const char *name, const char *json, struct issuer **ret, char *err,
		      size_t errlen)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	struct issuer *i;
	json_error_t e;
	int r;

	obj = json_loads(json, JSON_REJECT_DUPLICATES, &e);
	if (!obj || !json_is_object(obj)) {
		snprintf(err, errlen, "not a JSON object");
		return -EINVAL;
	}
	i = calloc(1, sizeof(*i));
	if (!i || !(i->name = strdup(name))) {
		free(i);
		return -ENOMEM;
	}
	i->ops = issuer_kind_find(json_string_value(json_object_get(obj, "kind")));
	if (!i->ops) {
		snprintf(err, errlen, "kind: not a kind this airlock knows");
		issuer_free(i);
		return -EINVAL;
	}
	r = common_parse(obj, &i->common, err, errlen);
	if (r >= 0)
		r = i->ops->parse(name, obj, &i->config, err, errlen);
	if (r < 0) {
		issuer_free(i);
		return r;
	}
	*ret = i;
	return 0;
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *mint_one(void *arg)
{
	struct issuer_job *j = arg;
	int64_t t0 = mono_us();

	j->error = j->issuer->ops->mint(j->issuer->config, &j->issuer->common, &j->grant,
					&j->minted, j->err, sizeof(j->err));
	j->mono_us = mono_us() - t0;
	return NULL;
}

static void *revoke_one(void *arg)
{
	struct issuer_job *j = arg;
	int64_t t0 = mono_us();

	j->error = j->issuer->ops->revoke
			   ? j->issuer->ops->revoke(j->issuer->config, &j->issuer->common,
						    j->revocation, j->err, sizeof(j->err))
			   : 0;
	j->mono_us = mono_us() - t0;
	return NULL;
}

/* One thread per job but the first, which runs on the caller's; a failed spawn runs inline. */
static void run_all(struct issuer_job *jobs, size_t n, void *(*fn)(void *))
{
	pthread_t *t = calloc(n ? n : 1, sizeof(*t));
	bool *spawned = calloc(n ? n : 1, sizeof(*spawned));

	for (size_t i = 1; t && spawned && i < n; i++) /* out of memory: all on this thread */
		spawned[i] = pthread_create(&t[i], NULL, fn, &jobs[i]) == 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || !spawned || !spawned[i])
			fn(&jobs[i]);
	for (size_t i = 1; i < n; i++)
		if (spawned && spawned[i])
			pthread_join(t[i], NULL);
	free(t);
	free(spawned);
}

static void mint_all(struct issuer_job *jobs, size_t n, const int *cancel)
{
	issuer_http_cancel_on(cancel);
	run_all(jobs, n, mint_one);
	issuer_http_cancel_on(NULL); /* revocations are never cancelled */
}

static void revoke_all(struct issuer_job *jobs, size_t n)
{
	run_all(jobs, n, revoke_one);
}

static int grant_check(const struct issuer *i, const json_t *scope, char *err, size_t errlen)
{
	return i->ops->check_grant ? i->ops->check_grant(i->config, scope, err, errlen) : 0;
}

const struct issuer_module issuer_module = {
	.abi = ISSUER_MODULE_ABI,
	.version = AIRLOCK_VERSION,
	.init = issuer_http_init,
	.issuer_new = issuer_new,
	.issuer_free = issuer_free,
	.mint_all = mint_all,
	.revoke_all = revoke_all,
	.grant_check = grant_check,
};
