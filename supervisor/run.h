/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <signal.h>
#include <stdbool.h>

struct credential_args;
struct node_config;

struct run_options {
	const struct node_config *config; /* the node configuration (never NULL) */
	const char *policy_path; /* NULL: the built-in default policy */
	const char *workspace; /* NULL: the current directory */
	const char *state_dir;
	const char *runtime_dir;
	const char *record_path; /* extra copy of the record, or NULL */
	const char *export_dir; /* --export DIR, or NULL: beside the record */
	char **argv;
	const struct credential_args *credentials; /* --credential, --credential-fd */
};

/*
 * Runs one task from policy to record. Returns airlock's exit status: the task's status,
 * 128+N for a signal, 124 for the wall-clock limit, 125 when airlock failed or refused,
 * 126/127 when the command cannot be executed / is not found. Logs every refusal.
 */
int run_main(const struct run_options *o);
/* Whether name is a cause a record's exit can hold ("exited", ..., "aborted"). */
bool run_cause_is_known(const char *name);
/*
 * The signals `airlock run` turns into a stop of its task (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT), as a new set in *ret.
 */
void run_stop_signals(sigset_t *ret);
/*
 * The lowest stop signal pending for airlock, or 0. `airlock run` blocks them from its
 * start (main.c): one that came stays pending until a signalfd reads it, and this only
 * looks. For the work after the task and before it (the export, the reaping of dead runs),
 * which checks it between steps instead of handling signals. Never logs.
 */
int run_stop_pending(void);
/*
 * Those and every other signal `airlock run` hears instead of dying of it: passed on to the
 * task (SIGUSR1, SIGUSR2, SIGALRM, the real-time ones, ...), as a new set in *ret.
 */
void run_handled_signals(sigset_t *ret);
