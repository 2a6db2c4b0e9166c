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
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "config.h"
#include "credentials-internal.h"
#include "helper-file.h"
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

int issuer_module_get(const struct issuer_module **ret, const char **reterr_path,
		      const char **reterr_problem)
{
	if (!module && module_error == 0)
		module_error = module_load();
	if (module_error < 0) {
		*reterr_path = module_file.path;
		*reterr_problem = module_file.problem;
		return module_error;
	}
	*ret = module;
	return 0;
}
