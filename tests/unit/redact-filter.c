/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test tool: redacts stdin to stdout with the values in the files named, as airlock
 * will, in chunks of at most CHUNK bytes (a read() each). test-redact-forms.py runs it
 * over the forms tests/lib/secret_forms.py knows.
 *
 *   redact-filter CHUNK NAME=VALUE_FILE...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "redact.h"

static int write_out(const uint8_t *p, size_t n)
{
	return n ? write_all(STDOUT_FILENO, p, n) : 0;
}

int main(int argc, char **argv)
{
	struct redactor *r = NULL;
	struct redact_stream *s = NULL;
	size_t chunk = argc > 1 ? strtoul(argv[1], NULL, 10) : 0, n;
	const uint8_t *out;
	char *buf;
	int k;

	if (argc < 2 || chunk == 0 || !(buf = malloc(chunk)) || redactor_new(true, &r) < 0) {
		fprintf(stderr, "usage: redact-filter CHUNK NAME=VALUE_FILE...\n");
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
