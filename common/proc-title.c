/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/prctl.h>

#include "proc-title.h"

extern char **environ;

static char *title_start; /* argv[0]: the kernel's arg_start */
static char *title_args_end; /* the kernel's arg_end */
static char *title_end; /* end of the environment strings (env_end) when adjacent */

/* Follows strings laid out end to end from *end; returns how many it took. */
static int follow(char *const *strv, int max, char **end)
{
	int i;

	for (i = 0; (max < 0 || i < max) && strv[i] && strv[i] == *end; i++)
		*end = strv[i] + strlen(strv[i]) + 1;
	return i;
}

void proc_title_save(int argc, char **argv)
{
	char *end;

	if (argc < 1 || !argv || !argv[0])
		return;
	end = argv[0];
	if (follow(argv, argc, &end) < argc) {
		/* Someone rearranged them: keep only what is certainly the argument area. */
		title_start = argv[0];
		title_args_end = title_end = end;
		return;
	}
	title_start = argv[0];
	title_args_end = end;
	if (environ)
		(void)follow(environ, -1, &end);
	title_end = end;
}

int proc_title_set(const char *name)
{
	size_t args, n;

	(void)prctl(PR_SET_NAME, name);
	if (!title_start)
		return -ENODATA;

	memset(title_start, 0, (size_t)(title_end - title_start));
	args = (size_t)(title_args_end - title_start);
	if (args < 2) /* no room for a name and its NUL */
		return 0;
	n = strnlen(name, args - 2);
	memcpy(title_start, name, n);
	/*
	 * A last argument byte that is not NUL tells the kernel the title was rewritten:
	 * cmdline then reads up to the first NUL (the one after name) instead of the whole
	 * area, so it shows neither the old length nor a tail of zeros (fs/proc/base.c
	 * get_mm_cmdline()).
	 */
	title_args_end[-1] = ' ';
	return 0;
}
