/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * `airlock records verify`: the head file (chain/head) against the records it names
 * (docs/audit.md). Pure: it reads no file; verify.c hands it what it read.
 */

#include <stddef.h>
#include <stdint.h>

#include "chain.h"

/* One chained record as verify read it. */
struct verify_entry {
	uint64_t seq;
	char name[256]; /* its file in records/ (NAME_MAX + 1) */
	char prev[CHAIN_HASH_LEN + 1];
	char sha256[CHAIN_HASH_LEN + 1]; /* of the file's exact bytes */
};

/* Takes one problem's line (without "verify: "). */
typedef void (*verify_problem_fn)(const char *text, void *userdata);

/*
 * The head's two lines, latest and before (chain_head_read()), against the chained
 * records v[0..n) sorted by seq: the latest line must name the record of its seq by file
 * and SHA-256, the line before the record one lower (or "-" before the first), and no record
 * may come after the head. head_now_seq is the head's seq read again after the records were
 * read: records past the head read before them were appended meanwhile when it reaches
 * them. Returns the number of problems, each passed to fn.
 */
size_t verify_head(const struct chain_head *latest, const struct chain_head *before,
		   const struct verify_entry *v, size_t n, uint64_t head_now_seq,
		   verify_problem_fn fn, void *userdata);
