/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The signer: a program of its own (airlock-signer, signer-main.c; libcrypto linked in,
 * statically where the build can) that a run starts as soon as it knows its state
 * directory, so that loading libcrypto and the node key happen beside the run instead of
 * before its final record, with no thread in the supervisor while it clones the sandbox.
 * It is found and checked like the DNS proxy (helper-file.h) and runs with an empty
 * environment. It loads the key, makes a first
 * signature, says it is ready with the key's public half, then signs what it is sent until
 * its socket's other end closes; it dies with its parent (PR_SET_PDEATHSIG). Used only by
 * sign.c, which falls back to signing in-process when the signer fails. Logs nothing;
 * -errno.
 *
 * Protocol on a stream socket: ready = int32 (0 or -errno of the key's load) + 32 bytes of
 * public key; request = uint32 length + the bytes; answer = int32 (0 or -errno) + 64 bytes
 * of signature.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "helper-file.h"
#include "sign.h"

#define SIGNER_PROGRAM "airlock-signer"
/* The signer's socket and the state directory, as it finds them at its start. */
#define SIGNER_SOCKET_FD 3
#define SIGNER_STATE_FD 4
/* The longest message the signer signs; a longer one is signed in-process. */
#define SIGNER_MAX_BYTES (64u * 1024 * 1024)

/* The messages (host byte order: the signer is our child on this machine). */
struct signer_ready_msg {
	int32_t error;
	/* 1: from signer_spawn()'s child, whose execveat() failed with error */
	uint32_t exec_failed;
	uint8_t pub[SIGN_PUBLIC_SIZE];
};

struct signer_answer {
	int32_t error;
	uint8_t sig[SIGN_SIGNATURE_SIZE];
};

/*
 * Starts the signer for the state directory state_fd (passed to it; ours stays open).
 * Returns our end of its socket (CLOEXEC) and its pid, or -errno (h->problem says what is
 * wrong with the program when it could not be opened).
 */
int signer_spawn(int state_fd, pid_t *ret_pid, struct helper_file *h);
/*
 * Once the run needs the signer (here): our CPU only, so that each request and answer
 * hands the CPU over in place instead of waking an idle one (about 100 us on a virtual
 * machine). Before it is let go (!here): our CPUs again, so that its exit runs beside ours.
 * Best effort.
 */
void signer_pin(pid_t pid, bool here);
/*
 * Waits (at most a few seconds) for the signer's ready message: 0 and its public key, the
 * signer's own error (its key could not be loaded), -EPIPE when it died, -ETIMEDOUT. When
 * its program could not be executed, the execveat()'s error, h->problem saying it.
 */
int signer_ready(int fd, uint8_t pub[SIGN_PUBLIC_SIZE], struct helper_file *h);
/* Has the signer sign len bytes: 0, or as signer_ready(). */
int signer_sign(int fd, const void *data, size_t len, uint8_t sig[SIGN_SIGNATURE_SIZE]);
/* Sends all of buf on the stream socket fd: 0, -EPIPE when the other end is gone, -errno. */
int signer_send_all(int fd, const void *buf, size_t len);
