/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build-time generator: compiles every variant of the default seccomp profile with
 * libseccomp and writes them as C arrays (the file named by argv[1]) for
 * syscall-filter-builtin.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syscall-filter-internal.h"
#include "syscall-filter.h"

static int emit_variant(FILE *out, enum syscall_filter_variant v)
{
	struct syscall_filter *f = NULL;
	int r;

	r = syscall_filter_compile_profile(POLICY_SECCOMP_DEFAULT, v, &f);
	if (r < 0)
		return r;
	fprintf(out, "static const struct sock_filter default_%d[] = {\n", (int)v);
	for (unsigned i = 0; i < f->prog.len; i++) {
		const struct sock_filter *in = &f->prog.filter[i];

		fprintf(out, "\t{ 0x%04x, %u, %u, 0x%08x },\n", in->code, in->jt, in->jf, in->k);
	}
	fprintf(out, "};\n\n");
	/* syscall_filter_free() lives in the run-time library, which embeds our output. */
	free(f->prog.filter);
	free(f);
	return ferror(out) ? -EIO : 0;
}

static int emit(FILE *out)
{
	int r;

	fprintf(out,
		"/* Generated at build time by syscall-filter-gen from sandbox/syscall-filter.c."
		" Do not edit. */\n"
		"#include \"syscall-filter-internal.h\"\n\n");
	for (int v = 0; v < _SYSCALL_FILTER_VARIANT_MAX; v++) {
		r = emit_variant(out, v);
		if (r < 0)
			return r;
	}
	fprintf(out, "const struct syscall_filter_program "
		     "syscall_filter_builtin_default[_SYSCALL_FILTER_VARIANT_MAX] = {\n");
	for (int v = 0; v < _SYSCALL_FILTER_VARIANT_MAX; v++)
		fprintf(out, "\t{ default_%d, sizeof(default_%d) / sizeof(default_%d[0]) },\n", v,
			v, v);
	fprintf(out, "};\n");
	return ferror(out) ? -EIO : 0;
}

int main(int argc, char **argv)
{
	FILE *out;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: syscall-filter-gen OUTPUT.c\n");
		return 2;
	}
	out = fopen(argv[1], "we");
	if (!out) {
		fprintf(stderr, "syscall-filter-gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	r = emit(out);
	if (fclose(out) != 0 || r < 0) {
		fprintf(stderr, "syscall-filter-gen: failed to write %s: %s\n", argv[1],
			strerror(r < 0 ? -r : EIO));
		remove(argv[1]);
		return 1;
	}
	return 0;
}
