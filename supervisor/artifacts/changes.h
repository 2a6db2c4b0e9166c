/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The change set of an overlay workspace (docs/artifacts.md): what the task changed,
 * read from the overlay's upper layer against its lower layer (the host workspace) once
 * the task is dead. Added, modified and deleted entries and mode changes; whiteouts and
 * opaque directories are read as deletions, never as devices. Nothing is followed: every
 * lookup is relative to a directory fd with O_NOFOLLOW, so a symbolic link planted in the
 * upper layer is listed, never read through. Does not log.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sha256.h"

#define CHANGES_MAX_ENTRIES 100000 /* changes listed; past it the set is truncated */
#define CHANGES_MAX_DEPTH 128 /* directory levels walked (two fds open per level) */

enum change_kind {
	CHANGE_ADDED,
	CHANGE_MODIFIED, /* contents differ (the mode may too) */
	CHANGE_DELETED,
	CHANGE_MODE, /* permission bits only */
	_CHANGE_KIND_MAX,
};

/* What an entry is: the new one (added, modified, mode) or the old one (deleted). */
enum change_type {
	CHANGE_TYPE_FILE,
	CHANGE_TYPE_DIR,
	CHANGE_TYPE_SYMLINK,
	CHANGE_TYPE_FIFO,
	CHANGE_TYPE_SOCKET,
	CHANGE_TYPE_DEVICE,
	_CHANGE_TYPE_MAX,
};

/* How the xattrs of the upper layer are named: as the overlay was mounted. */
enum change_xattrs {
	CHANGE_XATTRS_TRUSTED, /* "trusted.overlay.*": mounted by real root */
	CHANGE_XATTRS_USER, /* "user.overlay.*": mounted with userxattr (a user namespace) */
};

struct change {
	char *path; /* bytes, relative to the workspace root, no leading "/" */
	enum change_kind kind;
	enum change_type type;
	mode_t old_mode; /* permission bits (07777); 0 for added */
	mode_t new_mode; /* 0 for deleted */
	uint64_t old_size; /* regular files: bytes before; 0 otherwise */
	uint64_t size; /* regular files: bytes after; 0 otherwise */
	/* Filled by the export (changes-export.c), not by the walk: */
	bool has_digest;
	uint8_t digest[SHA256_DIGEST_SIZE]; /* the exported contents (none for deleted) */
	const char *patch; /* "included", "too_large", "git_path", "secret", "not_exported",
			    * or NULL: nothing for a patch (a directory, a mode git ignores) */
	const char *not_exported; /* added or modified, yet not exported: why (static) */
	bool redacted; /* the exported copy had secrets rewritten by the scan */
};

struct change_set {
	struct change *items; /* sorted by path (bytes) */
	size_t n;
	size_t cap;
	bool truncated; /* a cap (entries, depth, path length) stopped the walk */
	const char *truncated_why; /* static text, or NULL */
};

/*
 * Computes the change set of the upper directory upper_fd against lower_fd (both
 * directory fds opened O_RDONLY|O_DIRECTORY; lower_fd may be -EBADF: everything is
 * added). Returns 0 and *ret (owned by the caller, free with change_set_free()), or
 * -errno (-ENOMEM, or an I/O error reading a layer). Caps do not fail: they truncate.
 * stop_pending (may be NULL) is asked before each entry and each MiB compared; once it
 * returns more than 0 the walk ends with -EINTR (files compared whole can take long).
 */
int change_set_compute(int upper_fd, int lower_fd, enum change_xattrs xattrs,
		       int (*stop_pending)(void), struct change_set **ret);

struct change_set *change_set_free(struct change_set *s);

/* "added", "modified", "deleted", "mode"; NULL otherwise. */
const char *change_kind_to_string(enum change_kind k);
/* "file", "dir", "symlink", "fifo", "socket", "device"; NULL otherwise. */
const char *change_type_to_string(enum change_type t);

static inline void change_set_freep(struct change_set **s)
{
	change_set_free(*s);
}
#define _cleanup_change_set_free_ __attribute__((cleanup(change_set_freep)))
