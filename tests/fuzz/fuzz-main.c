/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replays a fuzz target over every file of a corpus directory (or the files named on the
 * command line), one TAP case per input. A crash fails the test; sanitizers catch the rest.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fd-util.h"
#include "fuzz.h"

#include <fcntl.h>

#define FUZZ_MAX_INPUT (4 * 1024 * 1024)

static void names_push(char ***names, size_t *n, char *name)
{
	char **nn = realloc(*names, (*n + 1) * sizeof(char *));

	if (!nn || !name) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	nn[(*n)++] = name;
	*names = nn;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_one(const char *path, size_t index)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_file_at(AT_FDCWD, path, FUZZ_MAX_INPUT, &buf, &len);
	if (r < 0) {
		printf("not ok %zu - %s: %s\n", index, path, strerror(-r));
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	printf("ok %zu - %s\n", index, path);
	return 0;
}

int main(int argc, char **argv)
{
	char **names = NULL;
	size_t n = 0;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *de;

		if (stat(argv[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			names_push(&names, &n, strdup(argv[i]));
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			printf("Bail out! cannot open %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		while ((de = readdir(d))) {
			char *p;

			if (de->d_name[0] == '.')
				continue;
			if (asprintf(&p, "%s/%s", argv[i], de->d_name) < 0)
				return 1;
			names_push(&names, &n, p);
		}
		closedir(d);
	}
	if (n == 0) {
		printf("1..0 # SKIP empty corpus\n");
		return 77;
	}
	qsort(names, n, sizeof(char *), name_cmp);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		failed += replay_one(names[i], i + 1);
		free(names[i]);
	}
	free(names);
	return failed ? 1 : 0;
}
