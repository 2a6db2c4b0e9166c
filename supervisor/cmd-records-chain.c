/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tamper-evidence verbs of `airlock records`: verify, head, pubkey, rotate-key, export
 * (docs/audit.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "cleanup.h"
#include "cli.h"
#include "in-toto.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "sign.h"
#include "verify.h"

static int records_verify(const char *state_dir, int argc, char **argv)
{
	_cleanup_free_ struct verify_key *keys = NULL;
	const char *pubkey = NULL;
	uint64_t since = 0;
	bool logs = false;
	int n, r;

	for (int i = 0; i < argc; i++) {
		if (streq(argv[i], "--logs"))
			logs = true;
		else if (streq(argv[i], "--pubkey") && i + 1 < argc)
			pubkey = argv[++i];
		else if (streq(argv[i], "--since") && i + 1 < argc) {
			char *end;

			errno = 0;
			since = strtoull(argv[++i], &end, 10);
			if (errno || *end || !*argv[i] || argv[i][0] == '-') {
				log_error(
					"records verify: --since '%s': expected a sequence number",
					argv[i]);
				return 2;
			}
		} else if (streq(argv[i], "--pubkey") || streq(argv[i], "--since")) {
			log_error("records verify: %s needs a value (%s)", argv[i],
				  streq(argv[i], "--pubkey") ? "FILE" : "SEQ");
			return 2;
		} else {
			log_error("records verify: unknown argument '%.*s'", cli_arg_shown(argv[i]),
				  argv[i]);
			return 2;
		}
	}
	n = verify_load_keys(state_dir, pubkey, &keys);
	if (n < 0)
		return 1;
	r = verify_records(state_dir, keys, (size_t)n, since, logs);
	return r == 0 ? 0 : 1;
}

static int open_state(const char *state_dir)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return log_error_errno(-errno, "Failed to open state directory '%s': %m",
				       state_dir);
	return fd;
}

static int records_head(const char *state_dir)
{
	_cleanup_close_ int fd = -EBADF, lock = -EBADF;
	struct chain_head h;
	int r;

	fd = open_state(state_dir);
	if (fd < 0)
		return 1;
	/* The head is rewritten in place under the lock: read it under the lock too, when we
	 * may (a copy another user made, as verify reads it: without). */
	lock = chain_lock(fd, false);
	r = chain_head_get(fd, &h);
	if (r == -EBADMSG) {
		log_error("records head: '%s/" CHAIN_DIR "/head' is not a head airlock writes "
			  "(changed): run records verify",
			  state_dir);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "Failed to read the chain head of '%s': %m", state_dir);
		return 1;
	}
	printf("seq %" PRIu64 " sha256 %s run %s\n", h.seq, h.sha256, h.run_id);
	return 0;
}

static void print_key(const struct sign_key *k)
{
	char pem[SIGN_PEM_MAX];

	sign_key_public_pem(k, pem);
	printf("key id %s\n%s", sign_key_id(k), pem);
}

static int records_pubkey(const char *state_dir)
{
	_cleanup_close_ int fd = -EBADF;
	const struct sign_key *k = NULL;
	const char *dir;
	int r;

	fd = open_state(state_dir);
	if (fd < 0)
		return 1;
	r = sign_key_get(fd, &k);
	if (r == -EPERM && (dir = chain_key_refused_dir(fd))) {
		log_error_errno(r, "records pubkey: " CHAIN_KEYS_DIR_REFUSAL, state_dir, dir);
		return 1;
	}
	if (r == -ENOKEY || r == -EPERM) {
		log_error_errno(r, "records pubkey: " CHAIN_KEY_REFUSAL, state_dir);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "Failed to load the node key of '%s': %m", state_dir);
		return 1;
	}
	print_key(k);
	return 0;
}

/* A new node key; the old one's public key stays in the keyring (docs/audit.md). */
static int records_rotate_key(const char *state_dir)
{
	_cleanup_(sign_key_freep) struct sign_key *k = NULL;
	_cleanup_close_ int fd = -EBADF, lock = -EBADF;
	struct chain_head head;
	int r;

	fd = open_state(state_dir);
	if (fd < 0)
		return 1;
	lock = chain_lock(fd, true); /* no record is signed while the key changes */
	if (lock < 0) {
		log_error_errno(lock, "Failed to lock the chain of '%s': %m", state_dir);
		return 1;
	}
	r = chain_head_get(fd, &head); /* the old key signs nothing after this record */
	if (r < 0) {
		log_error_errno(r, "Failed to read the chain head of '%s': %m", state_dir);
		return 1;
	}
	r = sign_key_rotate(fd, head.seq, &k);
	if (r < 0) {
		log_error_errno(r, "Failed to make a new node key in '%s': %m", state_dir);
		return 1;
	}
	print_key(k);
	return 0;
}

/* export ID --format in-toto, in either order. */
static int records_export(const char *state_dir, int argc, char **argv)
{
	const char *id = NULL, *format = NULL;
	size_t n;

	for (int i = 0; i < argc; i++) {
		if (streq(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (strneq(argv[i], "--format=", 9))
			format = argv[i] + 9;
		else if (streq(argv[i], "--format")) {
			log_error("records export: --format needs a value (in-toto)");
			return 2;
		} else if (argv[i][0] == '-' || id) {
			log_error("records export: unknown argument '%.*s'", cli_arg_shown(argv[i]),
				  argv[i]);
			return 2;
		} else
			id = argv[i];
	}
	if (!id) {
		log_error("records: 'export' needs a run ID");
		return 2;
	}
	if (!format || !streq(format, "in-toto")) {
		log_error("records export: %s%s%s: expected --format in-toto",
			  format ? "format '" : "no --format", format ?: "", format ? "'" : "");
		return 2;
	}
	/* Run ids are "<UTC timestamp>-<hex>": nothing that walks out of records/. */
	n = strlen(id);
	if (n == 0 || n > 64 ||
	    strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") != n) {
		log_error("records: '%s' is not a run id", id);
		return 1;
	}
	return export_in_toto(state_dir, id, stdout) < 0 ? 1 : 0;
}

int cmd_records_chain(const char *state_dir, int argc, char **argv)
{
	if (argc >= 1 && streq(argv[0], "verify"))
		return records_verify(state_dir, argc - 1, argv + 1);
	if (argc == 1 && streq(argv[0], "head"))
		return records_head(state_dir);
	if (argc == 1 && streq(argv[0], "pubkey"))
		return records_pubkey(state_dir);
	if (argc == 1 && streq(argv[0], "rotate-key"))
		return records_rotate_key(state_dir);
	if (argc >= 1 && streq(argv[0], "export"))
		return records_export(state_dir, argc - 1, argv + 1);
	return -ENOENT;
}
