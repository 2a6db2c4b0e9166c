/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzzes the pure parts of the export with names a task chose: the input is a glob, a
 * NUL byte, then a path (NULs inside it end it, as the kernel's names end). Properties:
 *  - export_name_escape() gives printable ASCII only, and export_name_unescape() gives
 *    the name back;
 *  - export_glob_match() and export_glob_is_valid() terminate and do not crash; "**"
 *    matches every non-empty path;
 *  - the cap check never lets a file past max_file_size.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fuzz.h"

static void check_escape(const char *name)
{
	char *esc = NULL, *back = NULL;

	if (export_name_escape(name, &esc) < 0)
		return;
	for (const char *c = esc; *c; c++)
		assert(*c >= 0x20 && *c < 0x7f);
	if (export_name_unescape(esc, &back) < 0) { /* only -ENOMEM may fail it */
		free(esc);
		return;
	}
	assert(strcmp(back, name) == 0);
	free(back);
	free(esc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct export_options o = { .max_files = 10, .max_size = 100, .max_file_size = 50 };
	struct export_manifest m = {};
	enum export_stop why;
	char *glob, *path;
	size_t g;

	if (size > 8192)
		return 0;
	glob = calloc(1, size + 1);
	path = calloc(1, size + 1);
	assert(glob && path);
	for (g = 0; g < size && data[g]; g++)
		glob[g] = (char)data[g];
	if (g < size)
		memcpy(path, data + g + 1, size - g - 1); /* ends at its first NUL */

	check_escape(glob);
	check_escape(path);
	(void)export_glob_is_valid(glob);
	(void)export_glob_match(glob, path);
	if (*path)
		assert(export_glob_match("**", path));
	m.bytes = size;
	if (export_caps_check_file(&o, &m, size, g, 1, &why) == EXPORT_SKIP_NONE)
		assert(size <= o.max_file_size && g <= o.max_file_size);
	if (export_caps_check_file(&o, &m, size, g, 4096, &why) == EXPORT_SKIP_NONE)
		assert(size <= o.max_file_size && g <= (o.max_file_size + 4095) / 4096 * 4096);
	free(glob);
	free(path);
	return 0;
}
