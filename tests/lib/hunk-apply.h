/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Applies the hunks of patch (NUL-terminated "@@ -a,b +c,d @@" hunks with " ", "-", "+"
 * lines and "\ No newline at end of file" markers) to the NUL-terminated text a. Returns
 * the result (malloc'd) or NULL when the patch does not fit: a context or removed line
 * differs, a range is wrong, a count is off. Texts must not hold NUL bytes.
 */
char *hunk_apply(const char *a, const char *patch);
