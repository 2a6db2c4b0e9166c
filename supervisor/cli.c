/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"

int cli_read_input(const char *path, size_t max, char **ret, size_t *ret_len)
{
	int r;

	if (streq(path, "-"))
		r = read_file_at(AT_FDCWD, "/dev/stdin", max, ret, ret_len);
	else
		r = read_file_at(AT_FDCWD, path, max, ret, ret_len);
	if (r == -EFBIG)
		return log_error_errno(r, "Failed to read '%s': larger than %zu bytes", path, max);
	if (r < 0)
		return log_error_errno(r, "Failed to read '%s': %m", path);
	return 0;
}
