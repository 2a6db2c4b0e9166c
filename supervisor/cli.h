/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The subcommands of `airlock`. Each returns the process exit status. */
int cmd_run(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_records(int argc, char **argv);
/*
 * records verify|head|pubkey|rotate-key|export (cmd-records-chain.c): the exit status, or
 * -ENOENT when argv is none of them.
 */
int cmd_records_chain(const char *state_dir, int argc, char **argv);
/* records events ID [--json] (cmd-records-events.c): argv holds what follows ID. */
int cmd_records_events(const char *state_dir, const char *id, int argc, char **argv);

/* Exit statuses of `airlock run` (docs/man/airlock.1.md). */
#define EXIT_TIMEOUT 124
#define EXIT_AIRLOCK 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

/* How long a pipe or FIFO named as an input file may take to deliver it, in all. */
#define CLI_INPUT_WAIT_MS 10000

/*
 * Reads a whole input of at most max bytes: "-" reads stdin to EOF; a path must name a
 * regular file, or a pipe or FIFO that delivers within CLI_INPUT_WAIT_MS (anything else,
 * a directory or a device, is refused). Logs failures. 0 or -errno.
 */
int cli_read_input(const char *path, size_t max, char **ret, size_t *ret_len);
/*
 * Refuses a path option given as an empty string (value NULL: not given), which every
 * call taking it would read as the current directory or the root, and one starting with
 * "--": an option taken as the value of one whose value was forgotten. Logs "OPTION: ...".
 * 0 or -EINVAL.
 */
int cli_check_path_arg(const char *option, const char *value);
/*
 * How many bytes of a command-line word a refusal quotes: those before its first '='.
 * What follows may be a secret ("--credentials=npm=VALUE", a mistyped --credential), and
 * a refusal never echoes it: print with "%.*s", cli_arg_shown(arg), arg.
 */
int cli_arg_shown(const char *arg);
