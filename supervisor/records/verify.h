/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `airlock records verify`: every signature, the chain and its sequence against the keyring
 * (docs/audit.md). Problems are printed to stdout, one line each naming the record.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sign.h"

struct verify_key {
	uint8_t pub[SIGN_PUBLIC_SIZE];
	char id[SIGN_KEY_ID_LEN + 1];
	bool retired; /* rotated out: it signs no record after seq retired_after */
	uint64_t retired_after;
};

/*
 * The public keys verify trusts: every PEM block of pubkey_file, or without one every
 * .pem file of <state_dir>/keys/trusted/; with the retirement marks of the keyring
 * (<id>.retired, when there) either way. Logs its failure. Returns the count (*ret owned by
 * the caller) or -errno.
 */
int verify_load_keys(const char *state_dir, const char *pubkey_file, struct verify_key **ret);
/* Writes text to f with control bytes, '\' and bytes past ASCII as "\xHH". */
void verify_fputs_escaped(const char *text, FILE *f);
/*
 * Whether a record file's bytes (len of them) end with a signature member that one of
 * keys made over the signed bytes (chain.h): 1 valid, 0 not (unsigned, malformed, an
 * unknown key, a bad signature), -ENOMEM or -ELIBACC. Does not log.
 */
int verify_record_signature(const char *buf, size_t len, const struct verify_key *keys,
			    size_t n_keys);
/*
 * The captured log logs/<id>.<stream> against log, the record's logs.<stream> member:
 * 0 when it matches or the record pins none; 1 with why (what is wrong, naming the file)
 * when it is missing, not a regular file, unreadable or changed. verify-logs.c.
 */
int verify_log(int state_fd, const char *id, const char *stream, const json_t *log, char *why,
	       size_t why_size);
/*
 * Checks the records of state_dir from sequence number since on (0 or 1: all), with logs
 * their captured logs too. Returns the number of problems found (printed), or -errno
 * (logged) when it could not look.
 */
int verify_records(const char *state_dir, const struct verify_key *keys, size_t n_keys,
		   uint64_t since, bool logs);
