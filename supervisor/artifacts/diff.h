/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Unified diffs of text files in the form `git apply` reads (docs/artifacts.md): Myers's
 * O(ND) line diff, hunks with three lines of context, git's extended headers for new,
 * deleted and mode-changed files, and git's C-style quoting of unusual path names. Pure:
 * no I/O beyond the FILE * it writes to, no logging.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define DIFF_CONTEXT 3
/* Edit distances past this are not searched: the rest becomes one replacing hunk. */
#define DIFF_MAX_EDITS 1024

/* Whether data looks binary to git: it holds a NUL byte. */
bool diff_is_binary(const void *data, size_t len);

/*
 * Writes prefix and path (bytes) as git writes a name in a diff header: as is, or in
 * double quotes with C escapes (\t, \n, \", \\, octal \ooo for other control and
 * non-ASCII bytes) when it holds any of them or a space. Returns 0 or -EIO.
 */
int diff_write_path(FILE *out, const char *prefix, const char *path);

/*
 * Writes the hunks (@@ lines and their bodies, "\ No newline at end of file" where one
 * ends without) that turn a into b. Nothing when they are equal. Returns 0, -ENOMEM or
 * -EIO.
 */
int diff_write_hunks(FILE *out, const char *a, size_t alen, const char *b, size_t blen);

/*
 * Writes one file's patch in git's form: "diff --git", the extended headers (new file,
 * deleted file, old/new mode: git's 100644 or 100755, from the owner's execute bit, or
 * 120000 for a mode with S_IFLNK, whose contents are the link's target), the
 * ---/+++ names and the hunks. old_mode 0 means the file is new (a, alen ignored);
 * new_mode 0 that it is deleted. A file whose contents and git mode are both unchanged
 * writes nothing. Returns 0, -ENOMEM or -EIO.
 */
int diff_write_file(FILE *out, const char *path, mode_t old_mode, mode_t new_mode, const char *a,
		    size_t alen, const char *b, size_t blen);

/*
 * Writes one binary file's patch in git's form (`git diff --binary --full-index`):
 * "diff --git" and the extended headers as diff_write_file(), "index OLD..NEW" (the
 * sides' git blob names, SHA-1 in full, which `git apply` requires of a binary patch and
 * checks; 40 zeros for a side that does not exist), "GIT binary patch" and the new side as
 * a "literal" hunk (zlib data in git's base85). old_mode 0: added; new_mode 0: deleted
 * (an empty literal). A change of mode alone, contents equal, writes the headers only.
 * Returns 0, -ENOMEM or -EIO.
 */
int diff_write_binary(FILE *out, const char *path, mode_t old_mode, mode_t new_mode, const char *a,
		      size_t alen, const char *b, size_t blen);

/* At most the bytes diff_write_binary() writes past its header for a new side of len. */
size_t diff_binary_size(size_t len);

/* diff_write_binary() from its "index" line on (diff-binary.c); a, b NULL: no such side. */
int diff_write_binary_body(FILE *out, const char *a, size_t alen, const char *b, size_t blen);
