/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One export (supervisor/artifacts/export.h) of SRC into DST (made fresh here), timed:
 * bench/artifacts.sh runs it against cp -a + sha256sum of the same tree. Not part of the
 * test suite.
 *
 *   export SRC DST scan|noscan
 *
 * "scan": the redactor of a run with one credential value, the built-in patterns and
 * scan "redact"; "noscan": no redactor (copy and hash only). Prints the seconds taken and
 * the hash implementation on one line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "hash.h"
#include "redact.h"

int main(int argc, char **argv)
{
	static const char value[] = "bench-credential-value-0123456789";
	struct export_options o = { .max_files = 1000000,
				    .max_size = 1ULL << 40,
				    .max_file_size = 1ULL << 40,
				    .scan = EXPORT_SCAN_REDACT };
	struct export_manifest *m = NULL;
	struct redactor *r = NULL;
	struct timespec a, b;
	char digest[65];
	int src, dst, k;

	if (argc != 4)
		return fprintf(stderr, "usage: export SRC DST scan|noscan\n"), 2;
	o.uid = getuid();
	o.gid = getgid();
	if (strcmp(argv[3], "scan") == 0) {
		if (redactor_new(true, &r) < 0 ||
		    redactor_add_value(r, "credential:bench", value, strlen(value)) < 0 ||
		    redactor_compile(r) < 0)
			return fprintf(stderr, "redactor failed\n"), 1;
		o.redactor = r;
	}
	src = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (src < 0 || mkdir(argv[2], 0700) < 0)
		return perror(argv[1]), 1;
	dst = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	(void)export_hash_implementation(); /* loads libcrypto outside the timing */
	clock_gettime(CLOCK_MONOTONIC, &a);
	k = export_tree(src, dst, &o, &m, digest);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (k < 0)
		return fprintf(stderr, "export: %s\n", strerror(-k)), 1;
	printf("%.3f %s %llu files %llu bytes %llu redactions\n",
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
	       export_hash_implementation(), (unsigned long long)m->files,
	       (unsigned long long)m->bytes, (unsigned long long)m->redactions);
	export_manifest_free(m);
	redactor_free(r);
	return 0;
}
