/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The node key a process signs with (sign.h): sign_key_get() hands out one per process and
 * state directory, the signer's (sign_preload(), signer.h) while it answers, else the same
 * key loaded in-process (sign.c); sign_data() signs with it either way.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "sign-internal.h"
#include "sign.h"
#include "signer.h"

/*
 * The key sign_key_get() hands out, once per process and state directory: the signer's
 * (sign_preload()) when it is for that directory and answers, else loaded in-process.
 */
static struct {
	pid_t signer_pid; /* 0: none started */
	int signer_fd; /* our end of its socket, -EBADF once closed */
	int signer_error; /* why it failed, 0 while it did not */
	struct helper_file signer_program; /* its problem, when it could not be opened */
	int state_fd; /* the directory of the signer, for the in-process fallback */
	dev_t dev;
	ino_t ino;
	int error;
	struct sign_key *key;
} cache = { .signer_fd = -EBADF, .state_fd = -EBADF };

static void signer_close(void)
{
	if (cache.signer_fd >= 0)
		signer_pin(cache.signer_pid, false);
	cache.signer_fd = safe_close(cache.signer_fd);
	if (cache.key)
		cache.key->signer_fd = -EBADF;
}

static void signer_lost(int error)
{
	if (cache.signer_error == 0)
		cache.signer_error = error;
	signer_close();
}

void sign_release(void)
{
	signer_close();
}

int sign_signer_error(const char **ret_path, const char **ret_problem)
{
	if (ret_path)
		*ret_path = cache.signer_program.path;
	if (ret_problem)
		*ret_problem = cache.signer_program.problem;
	return cache.signer_error;
}

static void cache_free(void)
{
	signer_close();
	if (cache.signer_pid > 0) /* it exits at EOF: nothing of it outlives the run */
		while (waitpid(cache.signer_pid, NULL, 0) < 0 && errno == EINTR)
			;
	cache.signer_pid = 0;
	cache.key = sign_key_free(cache.key);
	cache.state_fd = safe_close(cache.state_fd);
}

static void cache_free_at_exit(void)
{
	static bool registered;

	if (!registered)
		registered = atexit(cache_free) == 0;
}

void sign_preload(int state_fd)
{
	struct stat st;
	int fd;

	if (cache.signer_pid > 0 || cache.key || fstat(state_fd, &st) < 0)
		return;
	cache.state_fd = fcntl(state_fd, F_DUPFD_CLOEXEC, 3);
	if (cache.state_fd < 0)
		return;
	cache.dev = st.st_dev;
	cache.ino = st.st_ino;
	cache_free_at_exit();
	fd = signer_spawn(state_fd, &cache.signer_pid, &cache.signer_program);
	if (fd < 0) {
		cache.signer_error = fd;
		cache.state_fd = safe_close(cache.state_fd);
		return;
	}
	cache.signer_fd = fd;
}

/* The signer's key, once it says it is ready; -errno when it failed (it is then closed). */
static int signer_key(struct sign_key **ret)
{
	_cleanup_(sign_key_freep) struct sign_key *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	signer_pin(cache.signer_pid, true);
	r = signer_ready(cache.signer_fd, k->pub, &cache.signer_program);
	if (r < 0) {
		signer_lost(r);
		return r;
	}
	k->signer_fd = cache.signer_fd;
	sign_key_id_of(k->pub, k->id);
	*ret = TAKE_PTR(k);
	return 0;
}

/* After the signer failed: the same key, loaded here. */
static int sign_in_process(struct sign_key *k, const void *data, size_t len,
			   uint8_t sig[SIGN_SIGNATURE_SIZE])
{
	_cleanup_(sign_key_freep) struct sign_key *local = NULL;
	int r;

	if (cache.state_fd < 0)
		return -EIO;
	r = sign_key_load(cache.state_fd, &local);
	if (r < 0)
		return r;
	if (memcmp(local->pub, k->pub, SIGN_PUBLIC_SIZE) != 0)
		return -EIO; /* rotated meanwhile: the id the record names would be wrong */
	k->pkey = TAKE_PTR(local->pkey);
	k->signer_fd = -EBADF;
	return sign_data(k, data, len, sig);
}

int sign_data(const struct sign_key *k, const void *data, size_t len,
	      uint8_t sig[SIGN_SIGNATURE_SIZE])
{
	int r;

	if (k->pkey)
		return sign_local(k, data, len, sig);
	assert(k == cache.key); /* a key of the signer is the cache's */
	if (k->signer_fd >= 0) {
		r = signer_sign(k->signer_fd, data, len, sig);
		if (r >= 0)
			return 0;
		signer_lost(r);
	}
	return sign_in_process(cache.key, data, len, sig);
}

int sign_key_reload(int state_fd, const struct sign_key **ret)
{
	signer_close(); /* it exits at EOF, and is reaped at exit as ever */
	cache.key = sign_key_free(cache.key);
	cache.error = 0;
	return sign_key_get(state_fd, ret);
}

int sign_key_get(int state_fd, const struct sign_key **ret)
{
	struct stat st;

	if (fstat(state_fd, &st) < 0)
		return -errno;
	if ((cache.key || cache.error < 0 || cache.signer_fd >= 0) &&
	    (cache.dev != st.st_dev || cache.ino != st.st_ino)) {
		signer_close(); /* another state directory: the signer's key is not its key */
		cache.key = sign_key_free(cache.key), cache.error = 0;
	}
	if (!cache.key && cache.error >= 0 && cache.signer_fd >= 0 && signer_key(&cache.key) >= 0)
		cache.error = 0;
	if (!cache.key && cache.error >= 0) {
		cache_free_at_exit();
		cache.error = sign_key_load(state_fd, &cache.key);
		cache.dev = st.st_dev;
		cache.ino = st.st_ino;
	}
	if (cache.error < 0)
		return cache.error;
	*ret = cache.key;
	return 0;
}
