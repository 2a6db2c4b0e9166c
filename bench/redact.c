/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The redactor and the neutraliser on realistic build and test output: MB/s of each case
 * beside a plain memcpy of the same data in the same chunks (the floor), all in one run.
 * Not part of the test suite; build it in release mode (docs/performance.md):
 *
 *   meson setup build-bench --buildtype=release -Dbench=true && ninja -C build-bench
 *   build-bench/bench/redact [--level=plain|ssse3|neon|avx2|avx512] [MiB=64] [ROUNDS=5]
 *
 * --level caps the output filter's vector level (simd.h) to compare the levels' code; the
 * default is the best this CPU runs. A level above the CPU's is refused.
 *
 * The log is synthesised (deterministically): compiler command lines and diagnostics with
 * their source excerpts, make and cmake progress, pytest results and tracebacks, pip and
 * npm chatter, git hashes, timestamped service logs, valgrind frames, some of it colored.
 * A registered secret appears in it about once per 256 KiB, in one of its forms (raw,
 * base64, hex, percent-encoded, split across lines). It is fed in 64 KiB chunks (airlock
 * reads up to 256 KiB from a task's pipe at once). Each case reports its best round. The
 * neutraliser also runs on a coloured listing (ls --color, a coloured diff: an escape
 * every dozen bytes), where rendering escapes is most of its work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "neutralise.h"
#include "redact.h"
#include "simd.h"

#define CHUNK 65536

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const char *pick(const char *const *v, size_t n)
{
	return v[rnd() % n];
}
#define PICK(v) pick(v, sizeof(v) / sizeof(v[0]))

static const char *const dirs[] = { "core",  "net", "util", "parser", "io",  "crypto",
				    "sched", "mm",  "fs",   "api",    "cli", "tests" };
static const char *const files[] = { "buffer", "socket", "config", "main",  "hash",  "list",
				     "loop",   "log",	 "path",   "queue", "token", "worker" };
static const char *const idents[] = { "len",   "ret",  "flags", "ctx",	 "offset", "tmp",
				      "count", "node", "entry", "state", "result", "i" };
static const char *const pkgs[] = { "requests", "urllib3",    "numpy",
				    "pytest",	"setuptools", "charset-normalizer",
				    "idna",	"certifi",    "packaging",
				    "lodash",	"react",      "typescript",
				    "webpack" };
static const char *const colors[] = { "\x1b[32m", "\x1b[1;31m", "\x1b[33m", "\x1b[0m", "\x1b[36m" };

static size_t emit_line(char *p, size_t room)
{
	int kind = rnd() % 14, n = 0;
	unsigned a = rnd() % 1000, b = rnd() % 100, c = rnd() % 80;

	switch (kind) {
	case 0:
	case 1:
		n = snprintf(p, room,
			     "gcc -DHAVE_CONFIG_H -I. -I../include -Wall -Wextra -O2 -g -fPIC "
			     "-MD -MT %s/%s.o -c ../src/%s/%s.c -o %s/%s.o\n",
			     PICK(dirs), PICK(files), PICK(dirs), PICK(files), PICK(dirs),
			     PICK(files));
		break;
	case 2:
		n = snprintf(p, room,
			     "../src/%s/%s.c:%u:%u: \x1b[1;35mwarning:\x1b[0m unused variable "
			     "\xe2\x80\x98%s\xe2\x80\x99 [-Wunused-variable]\n"
			     "  %4u |         int %s = %u;\n       |             ^~~\n",
			     PICK(dirs), PICK(files), a, c, PICK(idents), a, PICK(idents), b);
		break;
	case 3:
		n = snprintf(p, room,
			     "[ %2u%%] Building C object src/CMakeFiles/%s.dir/%s/%s.c.o\n", b,
			     PICK(dirs), PICK(dirs), PICK(files));
		break;
	case 4:
		n = snprintf(p, room, "make[%u]: Entering directory '/home/build/project/%s'\n",
			     b % 4, PICK(dirs));
		break;
	case 5:
	case 6:
		n = snprintf(p, room, "tests/test_%s.py::test_%s_%s[%u-%s] %sPASSED%s%*s[%3u%%]\n",
			     PICK(files), PICK(idents), PICK(files), a, PICK(idents), PICK(colors),
			     "\x1b[0m", (int)(c % 20) + 1, "", b);
		break;
	case 7:
		n = snprintf(p, room,
			     "  File \"/usr/lib/python3/dist-packages/%s/%s.py\", line %u, in %s\n"
			     "    return self.%s(%s, timeout=%u)\n",
			     PICK(pkgs), PICK(files), a, PICK(idents), PICK(idents), PICK(idents),
			     b);
		break;
	case 8:
		n = snprintf(p, room,
			     "Collecting %s==%u.%u.%u\n  Downloading %s-%u.%u.%u-py3-none-any.whl "
			     "(%u kB)\n",
			     PICK(pkgs), b % 9, c, a % 30, PICK(pkgs), b % 9, c, a % 30, a);
		break;
	case 9:
		n = snprintf(p, room,
			     "commit %016llx%016llx%08x\nAuthor: Build Bot <bot@example.com>\n",
			     (unsigned long long)rnd(), (unsigned long long)rnd(), (unsigned)rnd());
		break;
	case 10:
		n = snprintf(p, room,
			     "2024-05-%02uT12:%02u:%02u.%03uZ INFO  [worker-%u] processed request "
			     "id=%08x-%04x-4%03x-a%03x-%012llx in %ums\n",
			     b % 28 + 1, c % 60, a % 60, a, b % 8, (unsigned)rnd(), a, b, c,
			     (unsigned long long)(rnd() & 0xffffffffffffull), a % 97);
		break;
	case 11:
		n = snprintf(p, room, "==%u==    at 0x%llX: %s_%s (%s.c:%u)\n", a * 7 + 1000,
			     (unsigned long long)(0x400000 + rnd() % 0xffffff), PICK(files),
			     PICK(idents), PICK(files), a);
		break;
	case 12:
		n = snprintf(p, room,
			     "npm WARN deprecated %s@%u.%u.%u: this version is no longer "
			     "supported, please upgrade\n",
			     PICK(pkgs), b % 9, c, a % 30);
		break;
	default:
		n = snprintf(p, room, "%s\n",
			     "============================= test session starts "
			     "==============================");
		break;
	}
	return n > 0 && (size_t)n < room ? (size_t)n : 0;
}

static void secret_make(char *s, size_t len)
{
	static const char alnum[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	for (size_t i = 0; i < len; i++)
		s[i] = alnum[rnd() % 62];
	s[len] = '\0';
}

/* One form of secret s: raw, base64, hex, percent-encoded or split across lines. */
static size_t emit_secret(char *p, size_t room, const char *s)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(s), o = 0;

	if (room < 16 * len + 64)
		return 0;
	o += sprintf(p, "export TOKEN=");
	switch (rnd() % 5) {
	case 0:
		o += sprintf(p + o, "%s", s);
		break;
	case 1: /* padded */
		for (size_t i = 0; i < len; i += 3) {
			unsigned v = (uint8_t)s[i] << 16 |
				     (i + 1 < len ? (uint8_t)s[i + 1] << 8 : 0) |
				     (i + 2 < len ? (uint8_t)s[i + 2] : 0);

			for (size_t k = 0; k < 4; k++)
				p[o++] = k <= len - i ? b64[(v >> (18 - 6 * k)) & 63] : '=';
		}
		break;
	case 2:
		for (size_t i = 0; i < len; i++)
			o += sprintf(p + o, "%02x", (uint8_t)s[i]);
		break;
	case 3:
		for (size_t i = 0; i < len; i++)
			o += sprintf(p + o, "%%%02X", (uint8_t)s[i]);
		break;
	default:
		o += sprintf(p + o, "%.*s\n%s", (int)(len / 2), s, s + len / 2);
		break;
	}
	p[o++] = '\n';
	return o;
}

static char *log_make(size_t size, char secrets[][48], size_t n_secrets)
{
	char *log = malloc(size + 4096);
	size_t o = 0, next_secret = 262144;

	if (!log)
		exit(1);
	while (o < size) {
		if (n_secrets > 0 && o >= next_secret) {
			o += emit_secret(log + o, size + 4096 - o, secrets[rnd() % n_secrets]);
			next_secret += 262144;
		}
		o += emit_line(log + o, size + 4096 - o);
	}
	return log;
}

/* A coloured listing (ls --color, a coloured diff): an escape every dozen bytes. */
static char *log_colored(size_t size)
{
	char *log = malloc(size + 4096);
	size_t o = 0;

	if (!log)
		exit(1);
	while (o < size) {
		o += (size_t)sprintf(log + o, "%s%s_%s.c\x1b[0m  ", PICK(colors), PICK(files),
				     PICK(idents));
		if (rnd() % 4 == 0)
			log[o++] = '\n';
	}
	return log;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile uint8_t sink;

static double run_memcpy(const char *log, size_t size)
{
	static char dst[CHUNK];
	double t = now();

	for (size_t o = 0; o < size; o += CHUNK) {
		size_t k = size - o < CHUNK ? size - o : CHUNK;

		memcpy(dst, log + o, k);
		__asm__ volatile("" : : "r"(dst) : "memory");
	}
	return now() - t;
}

static double run_neutralise(const char *log, size_t size)
{
	static char out[NEUTRALISE_MAX_OUT(CHUNK)];
	struct neutralise nz;
	double t = now();

	neutralise_init(&nz);
	for (size_t o = 0; o < size; o += CHUNK) {
		size_t k = size - o < CHUNK ? size - o : CHUNK,
		       n = neutralise_feed(&nz, log + o, k, out);

		sink = out[n / 2];
	}
	sink = neutralise_finish(&nz, out);
	return now() - t;
}

/* The redactor, then (with nz) the neutraliser over its output: the whole filter. */
static double run_redact(const struct redactor *r, const char *log, size_t size, bool nz,
			 uint64_t *redactions)
{
	static char nout[NEUTRALISE_MAX_OUT(4 * CHUNK)];
	struct neutralise n;
	struct redact_stream *s;
	const uint8_t *out;
	size_t len;
	double t;

	if (redact_stream_new(r, &s) < 0)
		exit(1);
	neutralise_init(&n);
	t = now();
	for (size_t o = 0; o < size; o += CHUNK) {
		size_t k = size - o < CHUNK ? size - o : CHUNK;

		if (redact_stream_feed(s, log + o, k, &out, &len) < 0 || len > 4 * CHUNK)
			exit(1);
		if (nz)
			len = neutralise_feed(&n, out, len, nout);
		if (len)
			sink = nz ? nout[len / 2] : out[len / 2];
	}
	if (redact_stream_finish(s, &out, &len) < 0 || len > 4 * CHUNK)
		exit(1);
	if (nz)
		sink = neutralise_feed(&n, out, len, nout) + neutralise_finish(&n, nout);
	t = now() - t;
	*redactions = 0;
	for (size_t i = 0; i < redactor_n_rules(r); i++)
		*redactions += redact_stream_count(s, i);
	redact_stream_free(s);
	return t;
}

static struct redactor *redactor_make(char secrets[][48], size_t n, bool builtin, bool user)
{
	struct redactor *r;
	char name[32];

	if (redactor_new(builtin, &r) < 0)
		exit(1);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "secret-%zu", i);
		if (redactor_add_value(r, name, secrets[i], strlen(secrets[i])) < 0)
			exit(1);
	}
	if (user &&
	    (redactor_add_pattern(r, "ticket", "TICKET-[0-9]{6}", NULL) < 0 ||
	     redactor_add_pattern(r, "password-field", "(?i)password\\s*[=:]\\s*\\S+", NULL) < 0))
		exit(1);
	if (redactor_compile(r) < 0)
		exit(1);
	return r;
}

struct bench_case {
	const char *label;
	size_t n_values;
	bool builtin, user, nz;
	struct redactor *r;
	double best;
	uint64_t redactions;
};

/* Takes --level=NAME out of argv; the level to run (the CPU's without it). Exits on a bad one. */
static int level_arg(int *argc, char **argv)
{
	int level = (int)simd_cpu_level(), j = 1;

	for (int i = 1; i < *argc; i++) {
		if (strncmp(argv[i], "--level=", 8) != 0) {
			argv[j++] = argv[i];
			continue;
		}
		level = simd_level_from_name(argv[i] + 8);
		if (level < 0) {
			fprintf(stderr, "redact: unknown level \"%s\" (plain, %s, avx2, avx512)\n",
				argv[i] + 8, simd_level_name(SIMD_VEC128));
			exit(2);
		}
		if (level > (int)simd_cpu_level()) {
			fprintf(stderr, "redact: this CPU lacks level %s (it has up to %s)\n",
				argv[i] + 8, simd_level_name(simd_cpu_level()));
			exit(2);
		}
	}
	*argc = j;
	argv[j] = NULL;
	simd_level_cap((enum simd_level)level);
	return level;
}

int main(int argc, char **argv)
{
	static char secrets[100][48];
	int level = level_arg(&argc, argv);
	size_t size = (argc > 1 ? strtoul(argv[1], NULL, 10) : 64) << 20;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	struct bench_case cases[] = {
		{ "memcpy (the floor)" },
		{ "neutralise" },
		{ "neutralise: coloured listing, ESC every ~12 B" },
		{ "redact: no rules", 0, false, false },
		{ "redact: 10 values", 10, false, false },
		{ "redact: 100 values", 100, false, false },
		{ "redact: built-in patterns", 0, true, false },
		{ "redact: 10 values + built-in patterns", 10, true, false },
		{ "redact: 100 values + built-in patterns", 100, true, false },
		{ "redact: 100 values + built-in + 2 user patterns", 100, true, true },
		{ "redact (100 values + built-in), then neutralise", 100, true, false, true },
	};
	size_t n_cases = sizeof(cases) / sizeof(cases[0]);
	char *log, *colored;

	for (size_t i = 0; i < 100; i++)
		secret_make(secrets[i], 24 + rnd() % 17);
	log = log_make(size, secrets, 100);
	colored = log_colored(size);
	for (size_t c = 3; c < n_cases; c++)
		cases[c].r =
			redactor_make(secrets, cases[c].n_values, cases[c].builtin, cases[c].user);

	/* Round-robin, each case's best round: drift on a shared machine hits all alike. */
	for (size_t c = 0; c < n_cases; c++)
		cases[c].best = 1e9;
	for (int k = 0; k < rounds; k++)
		for (size_t c = 0; c < n_cases; c++) {
			double t = c == 0   ? run_memcpy(log, size)
				   : c == 1 ? run_neutralise(log, size)
				   : c == 2 ? run_neutralise(colored, size)
					    : run_redact(cases[c].r, log, size, cases[c].nz,
							 &cases[c].redactions);

			if (t < cases[c].best)
				cases[c].best = t;
		}

	printf("%zu MiB of synthetic build/test log in 64 KiB chunks, best of %d rounds, CPU "
	       "time;\nvalues: random 24..40 characters, every form registered; vector level "
	       "%s\n\n",
	       size >> 20, rounds, simd_level_name((enum simd_level)level));
	printf("%-48s %8s %9s %10s\n", "case", "MB/s", "x memcpy", "redactions");
	for (size_t c = 0; c < n_cases; c++) {
		printf("%-48s %8.0f %9.3f ", cases[c].label, size / cases[c].best / 1e6,
		       cases[0].best / cases[c].best);
		if (c < 3)
			printf("%10s\n", "-");
		else
			printf("%10llu\n", (unsigned long long)cases[c].redactions);
		redactor_free(cases[c].r);
	}
	free(log);
	free(colored);
	return 0;
}
