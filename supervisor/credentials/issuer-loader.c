/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading airlock-issuers.so (issuer-module.h) on first use: only a run with grants, or the
 * reaper of a dead run that held some, gets here, so a plain run never maps libcurl or
 * libcrypto. Where the module comes from is fixed, as for the network module
 * (run-net-loader.c): beside /proc/self/exe or in AIRLOCK_MODULE_DIR, root-only
 * (common/helper-file.c), loaded through the fd that was checked.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "config.h"
#include "credentials-internal.h"
#include "helper-file.h"
#include "log.h"
#include "macro.h"

static const struct issuer_module *module;
static int module_error;
static struct helper_file module_file = { .path = ISSUER_MODULE_NAME };

static int module_load(void)
{
	_cleanup_close_ int fd = -EBADF;
	const struct issuer_module *m;
	const char *e;
	char proc[64];
	void *h;

	fd = helper_file_open(ISSUER_MODULE_NAME, AIRLOCK_BINDIR, AIRLOCK_MODULE_DIR, &module_file);
	if (fd < 0)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	h = dlopen(proc, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		e = dlerror();
		snprintf(module_file.problem, sizeof(module_file.problem), "cannot be loaded: %s",
			 strneq(e, proc, strlen(proc)) ? e + strlen(proc) : e);
		return -ELIBBAD;
	}
	m = dlsym(h, ISSUER_MODULE_SYMBOL);
	if (!m || m->abi != ISSUER_MODULE_ABI || !streq(m->version, AIRLOCK_VERSION)) {
		snprintf(module_file.problem, sizeof(module_file.problem),
			 !m ? "does not define " ISSUER_MODULE_SYMBOL
			    : "is from another build of airlock (ABI or version differs)");
		dlclose(h);
		return -ELIBBAD;
	}
	if (m->init() < 0) {
		snprintf(module_file.problem, sizeof(module_file.problem),
			 "cannot initialise libcurl");
		return -EIO;
	}
	module = m;
	return 0;
}

/* A load started ahead on a thread of its own (issuer_module_prefetch()), joined once. */
static pthread_t prefetch_thread;
static bool prefetching;
static int64_t load_us;

static void *prefetch(void *unused)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	module_error = module_load();
	clock_gettime(CLOCK_MONOTONIC, &b);
	load_us = (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000;
	return NULL;
}

/*
 * Once the module is in, jansson's memory may hold a value (a token response, a revocation
 * state): its frees clear what they free from then on, process-wide. Set on the main
 * thread, when no other thread uses jansson.
 */
static void json_free_clearing(void *p)
{
	if (!p)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void issuer_module_prefetch(void)
{
	if (!module && module_error == 0 && !prefetching)
		prefetching = pthread_create(&prefetch_thread, NULL, prefetch, NULL) == 0;
}

int issuer_module_get(const struct issuer_module **ret, const char **reterr_path,
		      const char **reterr_problem)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (prefetching) {
		(void)pthread_join(prefetch_thread, NULL);
		prefetching = false;
	} else if (!module && module_error == 0)
		(void)prefetch(NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (module && load_us)
		json_set_alloc_funcs(malloc, json_free_clearing);
	if (load_us) {
		log_debug("issuer module loaded in %" PRId64 " us, %ld us of it waited for",
			  load_us,
			  (long)((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000));
		load_us = 0;
	}
	if (module_error < 0) {
		*reterr_path = module_file.path;
		*reterr_problem = module_file.problem;
		return module_error;
	}
	*ret = module;
	return 0;
}
