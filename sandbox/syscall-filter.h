/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

struct policy;

/* A compiled seccomp BPF program (opaque). Compile once per policy, install per task. */
struct syscall_filter;

/*
 * Compiles the policy's seccomp profile into BPF (binary-tree optimised, multi-arch:
 * non-native ABIs are killed/denied). Returns 0 and a new filter in *ret (owned by the
 * caller), -ENOMEM, or another -errno from libseccomp. Does not log.
 */
int syscall_filter_compile(const struct policy *p, struct syscall_filter **ret);
struct syscall_filter *syscall_filter_free(struct syscall_filter *f);
/* Number of BPF instructions, for the run record and benchmarks. */
size_t syscall_filter_size(const struct syscall_filter *f);
/*
 * Installs the filter on the calling thread. Requires no_new_privs (or CAP_SYS_ADMIN).
 * Async-signal-safe: no allocation, usable in a forked child. Returns 0 or -errno.
 */
int syscall_filter_install(const struct syscall_filter *f);
