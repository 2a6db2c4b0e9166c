/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Writes an overlay workspace's change set out (docs/artifacts.md): the new contents of
 * added and modified regular files under DIR/workspace/, and beside it DIR/changes.json
 * (every change) and DIR/changes.patch (a unified diff of the text files, which `git
 * apply` accepts). Every read is beneath the layers' fds without following a link or
 * crossing a mount; every create is beneath a directory made here, O_EXCL|O_NOFOLLOW.
 * Does not log.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "changes.h"
#include "sha256.h"

#define CHANGES_MAX_DIFF_FILE (8ULL << 20) /* bytes of one file a patch may show */

struct changes_summary {
	size_t counts[_CHANGE_KIND_MAX];
	size_t skipped; /* not regular files or directories: listed, not exported */
	size_t exported; /* files written under DIR/workspace/ */
	uint64_t exported_bytes;
	size_t not_in_patch; /* text changes left out of changes.patch (binary, too large) */
	bool truncated;
	const char *truncated_why;
	uint8_t json_digest[SHA256_DIGEST_SIZE]; /* of DIR/changes.json */
	uint8_t patch_digest[SHA256_DIGEST_SIZE]; /* of DIR/changes.patch */
};

/*
 * Exports s (computed from upper_fd against lower_fd, the same directory fds) into the
 * directory dir_fd: creates "workspace" (which must not exist), "changes.json" and
 * "changes.patch" (neither may exist). Fills each change's digest and patch state.
 * Returns 0 and *ret, or -errno (-EEXIST: something of the export is there already).
 */
int changes_export(struct change_set *s, int upper_fd, int lower_fd, int dir_fd,
		   struct changes_summary *ret);

/* The record's "workspace_changes" object for a summary. New reference, or NULL (OOM). */
json_t *changes_summary_to_json(const struct changes_summary *sum);

/*
 * A path (bytes) as changes.json shows it: printable ASCII as is, a backslash doubled,
 * any other byte as \xHH. *ret owned by the caller. Returns 0 or -ENOMEM.
 */
int changes_escape_path(const char *path, char **ret);
