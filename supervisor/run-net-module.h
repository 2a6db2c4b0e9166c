/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The boundary between the airlock executable and its network module, airlock-net.so:
 * supervisor/run-net.c with netfilter/ and the libraries only networked runs use (libnftnl,
 * libmnl, libnl-3, libnl-route-3). supervisor/run-net-loader.c implements run-net.h by
 * loading the module on first use and calling through this table.
 *
 * The module exports this table and nothing else (supervisor/run-net.sym). Its own
 * references to log_*(), loop_*(), common/ and policy/ bind to the executable, which
 * exports them (meson.build), so there is one log state and one allocator; json_t crosses
 * the boundary through the one shared libjansson both load. The module is part of the
 * build that made the executable, never a stable interface: the loader refuses any other
 * ABI or version.
 */

#include <stdint.h>

#include "run-net.h"

#define RUN_NET_MODULE_NAME "airlock-net.so"
#define RUN_NET_MODULE_SYMBOL "run_net_module"
/* Bump with every change of this struct or of what its functions mean. */
#define RUN_NET_MODULE_ABI 6

/* The functions of run-net.h, as documented there. */
struct run_net_module {
	uint32_t abi; /* RUN_NET_MODULE_ABI */
	const char *version; /* AIRLOCK_VERSION of the build */
	int (*new)(const struct policy *p, const struct node_network *cfg, const char *run_id,
		   struct loop *loop, struct run_net **ret);
	int (*ready)(struct run_net *n);
	int (*netns_fd)(const struct run_net *n);
	void (*conclude)(struct run_net *n);
	json_t *(*to_json)(const struct run_net *n);
	int (*resolv_conf)(const struct run_net *n, char *buf, size_t size);
	void (*reap_stale)(void);
	struct run_net *(*free)(struct run_net *n);
};

/* Defined by the module only; the loader finds it with dlsym(). */
extern const struct run_net_module run_net_module;
