/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test tool: redacts stdin to stdout with the values in the files named, as airlock
 * will, in chunks of at most CHUNK bytes (a read() each). test-redact-forms.py runs it
 * over the forms tests/lib/secret_forms.py knows, at each vector level of the CPU's.
 *
 *   redact-filter [--level=NAME] CHUNK NAME=VALUE_FILE...
 *   redact-filter --levels        the levels this CPU runs, one name a line
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "redact.h"
#include "simd.h"

static int write_out(const uint8_t *p, size_t n)
{
	return n ? write_all(STDOUT_FILENO, p, n) : 0;
}

/* --levels, or --level=NAME taken off the arguments. 0 to go on, else the exit status. */
static int levels(int *argc, char ***argv)
{
	int l;

	if (*argc > 1 && streq((*argv)[1], "--levels")) {
		for (l = SIMD_PLAIN; l <= (int)simd_cpu_level(); l++)
			printf("%s\n", simd_level_name((enum simd_level)l));
		return fflush(stdout) == 0 ? -1 : 1;
	}
	if (*argc < 2 || !strneq((*argv)[1], "--level=", 8))
		return 0;
	l = simd_level_from_name((*argv)[1] + 8);
	if (l < 0 || l > (int)simd_cpu_level()) {
		fprintf(stderr, "redact-filter: %s: not a level this CPU runs\n", (*argv)[1] + 8);
		return 2;
	}
	simd_level_cap((enum simd_level)l);
	(*argc)--;
	(*argv)++;
	return 0;
}

int main(int argc, char **argv)
{
	struct redactor *r = NULL;
	struct redact_stream *s = NULL;
	size_t chunk, n;
	const uint8_t *out;
	char *buf;
	int k = levels(&argc, &argv);

	if (k != 0)
		return k < 0 ? 0 : k;
	chunk = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	if (argc < 2 || chunk == 0 || !(buf = malloc(chunk)) || redactor_new(true, &r) < 0) {
		fprintf(stderr, "usage: redact-filter [--level=NAME] CHUNK NAME=VALUE_FILE...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		_cleanup_free_ char *value = NULL;
		char *eq = strchr(argv[i], '=');
		size_t len;

		if (!eq)
			return 2;
		*eq = '\0';
		k = read_file_at(AT_FDCWD, eq + 1, 1 << 20, &value, &len);
		if (k < 0 || (k = redactor_add_value(r, argv[i], value, len)) < 0) {
			fprintf(stderr, "redact-filter: %s: %s\n", eq + 1, strerror(-k));
			return 1;
		}
	}
	if (redactor_compile(r) < 0 || redact_stream_new(r, &s) < 0)
		return 1;
	for (;;) {
		ssize_t got = read(STDIN_FILENO, buf, chunk);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (redact_stream_feed(s, buf, got, &out, &n) < 0 || write_out(out, n) < 0)
			return 1;
	}
	if (redact_stream_finish(s, &out, &n) < 0 || write_out(out, n) < 0)
		return 1;
	redact_stream_free(s);
	redactor_free(r);
	free(buf);
	return 0;
}
