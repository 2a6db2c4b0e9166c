/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by credentials.c (slots and values) and credentials-deliver.c (files, env, record). */

#include <stdint.h>

#include "credentials.h"
#include "secure-mem.h"
#include "sha256.h"

struct credential {
	const struct policy_credential *slot; /* borrowed from the run's policy */
	struct secure_buf value; /* wiped on fork: no child ever holds a copy */
	struct secure_buf file; /* a template rendered (wiped on fork), or unallocated */
	char *env; /* "NAME=value" inside the set's env buffer, or NULL */
	uint8_t digest[SHA256_DIGEST_SIZE]; /* SHA-256 of the value */
};

struct credential_set {
	struct credential *items;
	size_t n;
	/* The "NAME=value" strings, which the sandbox child needs: not wiped on fork. */
	struct secure_buf env;
};
