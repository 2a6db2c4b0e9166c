/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The checked export of a tree (docs/artifacts.md): what a task left in a directory is
 * copied into a freshly made, empty destination, checked, hashed and scanned, and
 * described by a manifest. Used for a run's /out (supervisor/run-export.c) and meant for
 * any tree a task could have written (the overlay workspace's changes).
 *
 * Only regular files and directories are copied; anything else is listed as skipped and
 * never followed or recreated. Every lookup in the source is an openat2() beneath the
 * source fd with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV; every create in
 * the destination is O_EXCL | O_NOFOLLOW (mkdirat, then openat2 beneath the destination).
 * Modes are reduced to 0644 or 0755 (set-id and sticky bits dropped), owners set to the
 * caller's uid:gid.
 *
 * Pure helpers (name escaping, glob matching, cap accounting, the manifest's JSON) sit
 * in manifest.c and glob.c and are unit-tested and fuzzed; export.c does the I/O.
 */

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct redactor;

#define EXPORT_MANIFEST_NAME "manifest.json"
#define EXPORT_MANIFEST_VERSION 1
#define EXPORT_MAX_DEPTH 64 /* directories below the source root */
#define EXPORT_MAX_PATH 4095 /* bytes of a path relative to the source root */
#define EXPORT_MAX_SKIPPED_LISTED 1000 /* skipped entries named in the manifest; more: counted */
#define EXPORT_MAX_INCLUDE 64 /* include globs */
#define EXPORT_MAX_GLOB 1024 /* bytes of one include glob */
#define EXPORT_COPY_CHUNK (1U << 20) /* bytes of a file read, scanned, hashed, written at once */

/* What the scan does with a file in which the redactor finds a match. */
enum export_scan {
	EXPORT_SCAN_REDACT, /* the exported copy has the matches rewritten; marked "redacted" */
	EXPORT_SCAN_REJECT, /* the file is left out, listed as skipped ("secret") */
	EXPORT_SCAN_OFF, /* copied as is; matches only counted */
	_EXPORT_SCAN_MAX,
	_EXPORT_SCAN_INVALID = -EINVAL,
};

enum export_type {
	EXPORT_TYPE_FILE,
	EXPORT_TYPE_DIRECTORY,
	EXPORT_TYPE_SYMLINK,
	EXPORT_TYPE_FIFO,
	EXPORT_TYPE_SOCKET,
	EXPORT_TYPE_CHAR_DEVICE,
	EXPORT_TYPE_BLOCK_DEVICE,
	EXPORT_TYPE_UNKNOWN,
	_EXPORT_TYPE_MAX,
};

/* Why an entry was not exported (EXPORT_SKIP_NONE: it was). */
enum export_skip {
	EXPORT_SKIP_NONE,
	EXPORT_SKIP_TYPE, /* not a regular file or directory */
	EXPORT_SKIP_NOT_INCLUDED, /* no include glob matches it */
	EXPORT_SKIP_FILE_SIZE, /* apparent or allocated size over max_file_size */
	EXPORT_SKIP_PATH_LENGTH, /* relative path over EXPORT_MAX_PATH bytes */
	EXPORT_SKIP_DEPTH, /* directory deeper than EXPORT_MAX_DEPTH */
	EXPORT_SKIP_MOUNT, /* another filesystem mounted there */
	EXPORT_SKIP_SECRET, /* scan "reject": the redactor matched */
	EXPORT_SKIP_CHANGED, /* changed or vanished while read (only while a writer lives) */
	EXPORT_SKIP_RESERVED, /* EXPORT_MANIFEST_NAME at the top: that name is the manifest's */
	_EXPORT_SKIP_MAX,
};

/* Why the export stopped before the end of the tree (EXPORT_STOP_NONE: it did not). */
enum export_stop {
	EXPORT_STOP_NONE,
	EXPORT_STOP_MAX_FILES, /* max_files entries exported */
	EXPORT_STOP_MAX_SIZE, /* the next file would pass max_size bytes in all */
	EXPORT_STOP_MAX_SKIPPED, /* max_files entries skipped: the walk is bounded too */
	_EXPORT_STOP_MAX,
};

struct export_options {
	uint64_t max_files; /* files and directories exported */
	uint64_t max_size; /* bytes exported in all */
	uint64_t max_file_size; /* apparent size and allocated bytes of one file */
	char *const *include; /* globs over the relative path (glob.c); NULL: everything */
	enum export_scan scan;
	const struct redactor *redactor; /* compiled (redact.h); NULL: no scan */
	uid_t uid; /* owner of everything created in the destination */
	gid_t gid;
	/*
	 * Asked between entries and after every chunk (EXPORT_COPY_CHUNK) of a file: a value
	 * above 0 (a stop signal's number) ends the export at once with -EINTR. NULL: never.
	 */
	int (*stop_pending)(void);
};

/* One entry of the tree, exported or skipped. */
struct export_entry {
	char *path; /* relative, '/'-separated, the names' raw bytes (owned) */
	enum export_type type;
	enum export_skip skip;
	mode_t mode; /* exported: 0644, 0755 (files), 0755 (directories) */
	uint64_t size; /* bytes written (after redaction) */
	uint8_t sha256[32]; /* of the bytes written */
	uint64_t redactions; /* matches the scan found in the source's bytes */
	bool redacted; /* the copy differs from the source: matches rewritten */
};

struct export_manifest {
	struct export_entry *entries; /* in walk order: sorted by name bytes, depth first */
	size_t n_entries;
	size_t allocated;
	uint64_t files; /* regular files exported */
	uint64_t directories; /* directories exported (the root not counted) */
	uint64_t bytes; /* bytes exported in all */
	uint64_t skipped; /* entries skipped, listed or not */
	uint64_t skipped_unlisted; /* skipped past EXPORT_MAX_SKIPPED_LISTED: counted only */
	uint64_t redactions; /* matches found in all files */
	uint64_t files_redacted;
	uint64_t files_rejected;
	enum export_stop stop;
	char *stop_path; /* the entry the export stopped at (owned), or NULL */
	enum export_scan scan;
};

/*
 * Copies the tree below src_fd (a directory; O_PATH is enough) into dst_fd, a directory
 * the caller has just made and that must be empty, as described above. Caps never fail
 * the export: past one it stops (or skips the entry) and the manifest says so. Writes
 * EXPORT_MANIFEST_NAME into dst_fd last (created like the rest: a name taken by the tree
 * makes the export fail), and its hex SHA-256 into ret_digest (65 bytes). *ret is owned by
 * the caller (export_manifest_free()).
 *
 * Returns 0, or -errno when the export could not be done safely: -ENOSYS (no openat2()),
 * -ENOTEMPTY (dst_fd not empty), -EEXIST (a name in the destination was taken meanwhile),
 * -ENOSPC, -EIO, -ENOMEM, or -EINTR when o->stop_pending asked to stop. On failure the destination may hold part of the copy: the
 * caller removes or reports it. Does not log.
 */
int export_tree(int src_fd, int dst_fd, const struct export_options *o,
		struct export_manifest **ret, char ret_digest[65]);

/* Frees a manifest; accepts and returns NULL. */
struct export_manifest *export_manifest_free(struct export_manifest *m);

/*
 * The manifest as JSON (docs/artifacts.md): owned by the caller, NULL on -ENOMEM. Names
 * are escaped (export_name_escape()). Pure.
 */
json_t *export_manifest_to_json(const struct export_manifest *m);

/*
 * Escapes raw name bytes for the manifest: printable ASCII except '\' as is, '\' as
 * "\\", every other byte as "\xHH" (lower-case hex), so that any byte string maps to one
 * printable ASCII string and back. *ret owned by the caller. Returns 0 or -ENOMEM. Pure.
 */
int export_name_escape(const char *name, char **ret);
/*
 * The inverse of export_name_escape(): the name's bytes from a manifest path. *ret owned
 * by the caller. Returns 0, -EINVAL for a string it does not produce (a '\' not followed
 * by '\' or by 'x' and two lower-case hex digits, or "\x00"), or -ENOMEM. Pure.
 */
int export_name_unescape(const char *escaped, char **ret);

/*
 * Whether path (relative, '/'-separated) matches glob: '*' matches any bytes but '/',
 * '?' one byte but '/', "**" as a whole component any number of components (also none),
 * '\' quotes the next byte; everything else matches itself. Pure.
 */
bool export_glob_match(const char *glob, const char *path);
/* Whether path matches one of include (NULL: everything matches). Pure. */
bool export_included(char *const *include, const char *path);
/*
 * Whether glob is acceptable: non-empty, at most EXPORT_MAX_GLOB bytes, relative (no
 * leading '/'), no "." or ".." component, no empty component, no trailing '\'. Pure.
 */
bool export_glob_is_valid(const char *glob);

/*
 * Cap accounting for one regular file of size bytes (apparent) and alloc bytes
 * (allocated blocks, of block bytes each: the filesystem's allocation unit, 0 as 1)
 * against o and what m has exported so far: EXPORT_SKIP_FILE_SIZE when size passes
 * max_file_size or alloc passes it rounded up to a whole block (a 9-byte file of a tmpfs
 * takes 4 KiB, which a cap of 1000 must not refuse), or
 * EXPORT_SKIP_NONE with *ret_stop set when the export must stop before this file
 * (EXPORT_STOP_MAX_FILES, EXPORT_STOP_MAX_SIZE), EXPORT_STOP_NONE when it may be copied.
 * Pure.
 */
enum export_skip export_caps_check_file(const struct export_options *o,
					const struct export_manifest *m, uint64_t size,
					uint64_t alloc, uint64_t block, enum export_stop *ret_stop);

const char *export_scan_to_string(enum export_scan s);
enum export_scan export_scan_from_string(const char *s);
const char *export_type_to_string(enum export_type t);
const char *export_skip_to_string(enum export_skip s);
const char *export_stop_to_string(enum export_stop s);
