/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build-time generator: compiles the default seccomp profile with libseccomp and writes
 * it as a C array (the file named by argv[1]) for syscall-filter-builtin.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "syscall-filter-internal.h"
#include "syscall-filter.h"

static int emit(FILE *out, const struct syscall_filter *f)
{
	fprintf(out, "/* Generated at build time by syscall-filter-gen from sandbox/syscall-filter.c."
		     " Do not edit. */\n"
		     "#include \"syscall-filter-internal.h\"\n\n"
		     "const struct sock_filter syscall_filter_builtin_default[] = {\n");
	for (unsigned i = 0; i < f->prog.len; i++) {
		const struct sock_filter *in = &f->prog.filter[i];

		fprintf(out, "\t{ 0x%04x, %u, %u, 0x%08x },\n", in->code, in->jt, in->jf, in->k);
	}
	fprintf(out, "};\n\nconst unsigned short syscall_filter_builtin_default_len = %u;\n",
		f->prog.len);
	return ferror(out) ? -EIO : 0;
}

int main(int argc, char **argv)
{
	struct syscall_filter *f = NULL;
	FILE *out;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: syscall-filter-gen OUTPUT.c\n");
		return 2;
	}
	r = syscall_filter_compile_profile(POLICY_SECCOMP_DEFAULT, &f);
	if (r < 0) {
		fprintf(stderr, "syscall-filter-gen: compile failed: %s\n", strerror(-r));
		return 1;
	}
	out = fopen(argv[1], "we");
	if (!out) {
		fprintf(stderr, "syscall-filter-gen: %s: %s\n", argv[1], strerror(errno));
		syscall_filter_free(f);
		return 1;
	}
	r = emit(out, f);
	syscall_filter_free(f);
	if (fclose(out) != 0 || r < 0) {
		fprintf(stderr, "syscall-filter-gen: failed to write %s\n", argv[1]);
		return 1;
	}
	return 0;
}
