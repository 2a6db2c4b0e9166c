/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Writes an overlay workspace's change set out (docs/artifacts.md) into DIR/workspace/:
 * the upper layer's regular files through the checked export (export.h: export_tree(),
 * with the run's caps and scan) under "files/" with its manifest.json, and beside them
 * changes.json (every change) and changes.patch (a unified diff of the text files, which
 * `git apply` accepts). The patch's new side is read from the exported copy (what the
 * scan let out), its old side from the lower layer; every read is openat2() beneath its
 * fd without links or mount crossings, every create O_EXCL|O_NOFOLLOW. Does not log.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "changes.h"
#include "export.h"
#include "sha256.h"

#define CHANGES_MAX_DIFF_FILE (8ULL << 20) /* bytes of one file a patch may show */
/* The upper directory's name in its tmpfs, and in DIR/workspace/ (sandbox/overlay.c). */
#define CHANGES_FILES_DIR "files"

struct changes_summary {
	size_t counts[_CHANGE_KIND_MAX];
	size_t skipped; /* not regular files or directories: listed, not exported */
	size_t exported; /* changed files exported under DIR/workspace/files/ */
	uint64_t exported_bytes;
	size_t not_in_patch; /* file changes left out of changes.patch (too large...) */
	bool truncated; /* the walk stopped at a cap */
	const char *truncated_why;
	enum export_stop stop; /* the export stopped at one of its caps */
	char manifest_digest[65]; /* hex, of DIR/workspace/manifest.json */
	uint8_t json_digest[SHA256_DIGEST_SIZE]; /* of changes.json */
	uint8_t patch_digest[SHA256_DIGEST_SIZE]; /* of changes.patch */
};

/*
 * Exports s, computed from upper_root_fd's CHANGES_FILES_DIR against lower_fd, into ws_fd
 * (DIR/workspace, made fresh and empty by the caller) with the export options o (its
 * include is replaced: the whole upper). Fills each change's digest, patch and export
 * state. Returns 0 and *ret, or -errno (-EEXIST: a name of the export was taken; what
 * export_tree() returns; -EINTR when o->stop_pending asked to stop, also between the
 * patch's files).
 */
int changes_export(struct change_set *s, int upper_root_fd, int lower_fd, int ws_fd,
		   const struct export_options *o, struct changes_summary *ret);

/* changes.json's document for s (changes-json.c). New reference, or NULL (OOM). Pure. */
json_t *changes_set_to_json(const struct change_set *s);

/* The record's "workspace_changes" object for a summary. New reference, or NULL (OOM). */
json_t *changes_summary_to_json(const struct changes_summary *sum);

/*
 * A path (bytes) as changes.json shows it: export_name_escape()'s form (printable ASCII
 * as is, a backslash doubled, any other byte as \xHH). Returns 0 or -ENOMEM.
 */
int changes_escape_path(const char *path, char **ret);
