/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Ed25519 signatures of run records with the node key (docs/run-record.md, "Signature").
 * libcrypto is opened with dlopen() at first use rather than linked: mapping it costs about
 * 0.7 ms at every exec of airlock, and a run loads it in a process of its own while the run
 * goes on (sign_preload()). Logs nothing; -errno.
 *
 * The node key lives in <state_dir>/keys/: node.key (PKCS#8 PEM, 0600, the directory 0700)
 * and trusted/<key id>.pem, the public key of every node key the state directory ever had
 * (the keyring verify reads, which rotation keeps). A key id is the lower-case hex SHA-256
 * of the key's 32 raw public bytes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SIGN_KEY_DIR "keys"
#define SIGN_KEY_FILE "node.key"
/* A rotation's new key, written before the old one is retired (sign_key_rotate()). */
#define SIGN_KEY_NEXT_FILE "node.key.next"
#define SIGN_TRUSTED_DIR "trusted"
#define SIGN_PUBLIC_SIZE 32
#define SIGN_SIGNATURE_SIZE 64
#define SIGN_KEY_ID_LEN 64
#define SIGN_PEM_MAX 256

/* A node key: private half and its id. */
struct sign_key;

/*
 * Loads <state_fd>/keys/node.key, or creates it (and its public key in the keyring) when
 * missing; two processes creating it at once end with the same key. -ENOKEY for a file that
 * is not an Ed25519 PKCS#8 key, -ELIBACC when libcrypto cannot be loaded, or -errno.
 */
int sign_key_load(int state_fd, struct sign_key **ret);
/*
 * Whether the keyring under <state_fd> is one sign_key_load() takes by owners and modes
 * (a key's content is read only then): keys/ and keys/trusted/, when there, directories
 * of ours that nobody else may write; keys/node.key, when there, a file of ours nobody
 * else may read. 0, or -EPERM (or -errno) with *ret_path naming what is wrong, relative to
 * the state directory. Cheap: no libcrypto; a run asks before its task starts, so that it
 * never runs a task whose record it cannot sign.
 */
int sign_key_usable(int state_fd, const char **ret_path);
struct sign_key *sign_key_free(struct sign_key *k);
static inline void sign_key_freep(struct sign_key **k)
{
	sign_key_free(*k);
}
const char *sign_key_id(const struct sign_key *k);
/* The key's 32 raw public bytes. */
void sign_key_public(const struct sign_key *k, uint8_t pub[SIGN_PUBLIC_SIZE]);
/* The key's public half as a SubjectPublicKeyInfo PEM block (with a final newline). */
void sign_key_public_pem(const struct sign_key *k, char buf[SIGN_PEM_MAX]);
/*
 * Signs len bytes. 0, or -EIO when libcrypto refuses. With the signer's key, asks the
 * signer; if it fails, loads the same key in-process and signs (-errno when that fails).
 */
int sign_data(const struct sign_key *k, const void *data, size_t len,
	      uint8_t sig[SIGN_SIGNATURE_SIZE]);
/*
 * The first half of sign_data() for a key loaded in this process, done ahead (an EVP_MD_CTX
 * initialised with the key: 20-90 µs here), or NULL (out of memory, libcrypto refuses, or
 * the signer's key). sign_prepared() signs with it once and frees it: 0, or -EIO.
 */
void *sign_prepare(const struct sign_key *k);
int sign_prepared(void *prepared, const void *data, size_t len, uint8_t sig[SIGN_SIGNATURE_SIZE]);
/*
 * Retires the node key: under the chain lock the caller holds (and the keyring's own),
 * makes a new key, node.key.next (its public key joins the keyring; the old public key
 * stays there), marks the old key retired after record head_seq
 * (keys/trusted/<old-id>.retired, "seq N"), then renames the new key over node.key. A
 * rotation killed after the mark is finished by the next load of the node key.
 */
int sign_key_rotate(int state_fd, uint64_t head_seq, struct sign_key **ret);
/* The retirement mark of key id in the keyring (SIGN_RETIRED_SUFFIX): "seq N" and a newline. */
#define SIGN_RETIRED_SUFFIX ".retired"
/*
 * Whether k was retired (its mark is in the keyring) since this process loaded it: a run
 * that started before `records rotate-key` still holds the old key. Cheap: one faccessat().
 */
bool sign_key_retired(int state_fd, const struct sign_key *k);
/* sign_key_get() anew: the cached key (and the signer's) dropped, the node key loaded here. */
int sign_key_reload(int state_fd, const struct sign_key **ret);

/*
 * Starts the signer (signer.h) for the node key of state_fd: a process that loads
 * libcrypto and the key beside the run, so that sign_key_get() later finds them ready. No
 * thread is started: the caller may clone or fork afterwards. Failing to start is not an
 * error: sign_key_get() then loads them itself. Logs nothing.
 */
void sign_preload(int state_fd);
/*
 * Closes the signer's socket once the run signed what it had to: the signer exits beside
 * the rest of the run and is reaped at exit. A later signature is made in-process.
 */
void sign_release(void);
/*
 * Why the signer failed (-errno: -EPIPE it died, -ETIMEDOUT, -ENOKEY...), the signatures
 * then being made in-process; 0 while it did not, or none was started. When its program
 * could not be opened or executed, *ret_problem is not empty and says what is wrong with
 * *ret_path.
 */
int sign_signer_error(const char **ret_path, const char **ret_problem);
/*
 * The node key of state_fd: the signer's when sign_preload() started one for the same state
 * directory and it answers, else loaded now. The key stays owned by this module (freed at
 * exit, when the signer is also reaped).
 */
int sign_key_get(int state_fd, const struct sign_key **ret);

/* Ed25519 verification against a raw public key: 1 valid, 0 invalid, -ELIBACC. */
int sign_verify(const uint8_t pub[SIGN_PUBLIC_SIZE], const void *data, size_t len,
		const uint8_t sig[SIGN_SIGNATURE_SIZE]);
/* The key id of a raw public key, into id (SIGN_KEY_ID_LEN + 1 bytes). */
void sign_key_id_of(const uint8_t pub[SIGN_PUBLIC_SIZE], char *id);
/*
 * Parses the next Ed25519 public key PEM block of text from *pos on ("-----BEGIN PUBLIC
 * KEY-----"), advancing *pos past it. 1 found, 0 none left, -ENOKEY not an Ed25519 key.
 */
int sign_parse_public_pem(const char **pos, uint8_t pub[SIGN_PUBLIC_SIZE]);
