/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The hash chain of a state directory's final run records, and their signatures
 * (docs/run-record.md, "Chain and signature"). Each record carries
 * "chain": {"seq": N, "prev_sha256": "<hex SHA-256 of the exact bytes of record N-1>"}
 * and ends with its "signature" member, over the record's bytes without it:
 *
 *   file   = signed[0 .. len-2] + ",\n  \"signature\": {\n    \"ed25519\": \"<base64>\",\n"
 *            "    \"key_id\": \"<hex>\"\n  }\n}"
 *   signed = the record as JSON without "signature" (it ends with "\n}")
 *
 * Appending takes <state_dir>/chain/lock (flock) only while it assigns the sequence number,
 * signs and writes; <state_dir>/chain/head remembers the latest record. Logs nothing;
 * -errno.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sign.h"

#define CHAIN_DIR "chain"
#define CHAIN_HASH_LEN 64
#define CHAIN_SIG_B64_LEN 88
#define CHAIN_SIGNATURE_MARK ",\n  \"signature\": "
/* How a node key that is not usable (-ENOKEY, -EPERM) is named, with the state directory. */
#define CHAIN_KEY_REFUSAL \
	"'%s/keys/node.key' is not an Ed25519 private key of airlock's own, mode 0600"
/* How a keyring directory that is not usable (-EPERM) is named: the state directory, then
 * the directory's path in it (chain_key_refused_dir()). */
#define CHAIN_KEYS_DIR_REFUSAL                                                                  \
	"'%s/%s' is not a directory of airlock's own that only it may write: the node key and " \
	"the keys records are trusted by live there"

struct chain_head {
	uint64_t seq; /* 0: no record yet */
	char sha256[CHAIN_HASH_LEN + 1]; /* of the record's exact bytes; zeros for seq 0 */
	char run_id[65]; /* "-" for seq 0 */
};

/* Writes the final text of a record under the chain lock (e.g. renames it into place). */
typedef int (*chain_write_fn)(const char *text, void *userdata);

/*
 * Appends the record o (without "chain" or "signature"; "run_id" names its file in
 * <state_fd>/records) to the chain: under the lock, sets o's "chain", signs with the node
 * key, and hands the text to write. *ret_text (owned by the caller) is what was written,
 * *ret_head the new head. Returns 0, write's error, or -errno (-ELIBACC, -ENOKEY: see
 * sign.h).
 */
int chain_append(int state_fd, json_t *o, chain_write_fn write, void *userdata, char **ret_text,
		 struct chain_head *ret_head);
/* The latest record of the chain of state_fd, as its head file and records say. */
int chain_head_get(int state_fd, struct chain_head *ret);
/*
 * The head file as written: the latest append (which a writer that died before writing its
 * record never finished) and the head before it. Zero heads when there is no file.
 */
int chain_head_read(int state_fd, struct chain_head *ret_latest, struct chain_head *ret_before);
/*
 * read_file_at() of a regular file only: no FIFO or device (a copy of a state directory
 * is read as it came), never waited on. -EBADFD for any other file type.
 */
int chain_read_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Takes the chain lock of state_fd (creating it when create); returns its fd or -errno. */
int chain_lock(int state_fd, bool create);
/*
 * What a -EPERM of sign_key_get() under state_fd is about, when it is a keyring directory
 * (keys or keys/trusted, relative to the state directory): NULL when it is the node key.
 */
const char *chain_key_refused_dir(int state_fd);

/*
 * The signed form of unsigned_text (json_dumps() of a record, ending with "}") with the
 * signature member added (see above). Returns NULL on OOM; the caller frees it.
 */
char *chain_seal(const char *unsigned_text, const char *sig_b64, const char *key_id);
/*
 * Splits a record file's bytes: 1 when it ends with a well-formed signature member, with
 * *ret_prefix_len the length of the bytes before CHAIN_SIGNATURE_MARK (the signed bytes are
 * those plus "\n}"), sig_b64 (CHAIN_SIG_B64_LEN + 1) and key_id (SIGN_KEY_ID_LEN + 1)
 * filled; 0 when it has no signature member; -EBADMSG when it has a malformed one.
 */
int chain_split(const char *text, size_t len, size_t *ret_prefix_len, char *sig_b64, char *key_id);
/* DSSE's pre-authentication encoding of type and body; NULL on OOM, *ret_len its length. */
char *chain_dsse_pae(const char *type, const void *body, size_t body_len, size_t *ret_len);
