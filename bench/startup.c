/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Start-to-exit latency of whole commands, interleaved round-robin so that drift (page
 * cache, RCU, other tenants of the VM) hits every command alike. Not part of the test suite.
 *
 *   startup [-n ROUNDS] [-w WARMUP] [-g MS] [-o RAW.csv] [-r A/B]... [-i FD:PATH]
 *           [-U NAME:PATH]... -- NAME CMD [ARG...] [:: NAME CMD [ARG...]]...
 *
 * Each round runs every command once, starting at a rotating offset. A sample is the
 * wall time from fork() to the reaped exit, stdio on /dev/null. A command that exits
 * non-zero fails the benchmark: a refused sandbox is not a fast one. Prints a table
 * (median, p90, mean, min, max in ms, and the median relative to the first command) and
 * the median ratio of every requested pair A/B.
 *
 * -g sleeps MS milliseconds (untimed) before every start. With a gap longer than an RCU
 *    grace period each start finds the kernel idle, as a sporadic real start does,
 *    instead of riding on the grace period that the previous command's cgroup migration
 *    already waited for.
 * -i opens PATH read-only as FD in every child (a fresh file offset each time), e.g. for
 *    `bwrap --seccomp FD`.
 * -U runs command NAME in a private mount namespace with the mount at PATH detached
 *    (crun 1.8 refuses a v1/v2 hybrid whose v2 mount holds controllers, so it gets a
 *    v1-only view); this adds an unshare() and a umount() to that command's time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

#define MAX_COMMANDS 16
#define MAX_PAIRS 16
#define MAX_ROUNDS 100000

extern char **environ;

struct command {
	const char *name;
	char **argv;
	const char *hide_mount; /* -U: detached in a private mount namespace */
	double *samples; /* ms, one per measured round */
	double median, p90, mean, min, max;
};

struct bench {
	struct command cmds[MAX_COMMANDS];
	size_t n_cmds;
	const char *pairs[MAX_PAIRS];
	size_t n_pairs;
	long rounds, warmup, gap_ms;
	const char *raw_path;
	const char *inherit_path; /* -i: opened as inherit_fd in each child */
	int inherit_fd;
	const char *hides[MAX_COMMANDS]; /* -U NAME:PATH */
	size_t n_hides;
	int null_fd;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The child: stdio on /dev/null, the -i file, the -U mount hidden, then exec. */
static _Noreturn void child_exec(const struct bench *b, const struct command *c)
{
	int fd;

	if (dup2(b->null_fd, STDIN_FILENO) < 0 || dup2(b->null_fd, STDOUT_FILENO) < 0 ||
	    dup2(b->null_fd, STDERR_FILENO) < 0)
		_exit(120);
	if (b->inherit_path) {
		fd = open(b->inherit_path, O_RDONLY);
		if (fd < 0 || (fd != b->inherit_fd && dup2(fd, b->inherit_fd) < 0))
			_exit(121);
	}
	if (c->hide_mount &&
	    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	     umount2(c->hide_mount, MNT_DETACH) < 0))
		_exit(122);
	execve(c->argv[0], c->argv, environ);
	_exit(127);
}

/* Runs c once; returns its wall time in ms, or a negative errno / -1000-status. */
static double run_once(const struct bench *b, const struct command *c)
{
	double t0, t1;
	pid_t pid;
	int status;

	t0 = now_ms();
	pid = fork();
	if (pid == 0)
		child_exec(b, c);
	if (pid < 0)
		return -(double)errno;
	if (waitpid(pid, &status, 0) < 0)
		return -(double)errno;
	t1 = now_ms();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1000.0 - (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double percentile(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void command_stats(struct command *c, size_t n)
{
	_cleanup_free_ double *v = malloc(n * sizeof(*v));
	double sum = 0;

	if (!v)
		abort();
	memcpy(v, c->samples, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	c->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	c->p90 = percentile(v, n, 90);
	c->mean = sum / (double)n;
	c->min = v[0];
	c->max = v[n - 1];
}

static int run_rounds(struct bench *b)
{
	long total = b->warmup + b->rounds;

	for (long round = 0; round < total; round++) {
		for (size_t j = 0; j < b->n_cmds; j++) {
			struct command *c = &b->cmds[(j + (size_t)round) % b->n_cmds];
			double t;

			if (b->gap_ms > 0)
				(void)usleep((useconds_t)(b->gap_ms * 1000));
			t = run_once(b, c);

			if (t < 0) {
				fprintf(stderr, "startup: '%s' failed in round %ld (%s %d)\n",
					c->name, round, t <= -1000 ? "exit status" : "errno",
					t <= -1000 ? (int)(-t - 1000) : (int)-t);
				return -EIO;
			}
			if (round >= b->warmup)
				c->samples[round - b->warmup] = t;
		}
	}
	return 0;
}

static struct command *find_command(struct bench *b, const char *name, size_t len)
{
	for (size_t i = 0; i < b->n_cmds; i++)
		if (strlen(b->cmds[i].name) == len && strncmp(b->cmds[i].name, name, len) == 0)
			return &b->cmds[i];
	return NULL;
}

static void print_report(struct bench *b)
{
	const struct command *floor = &b->cmds[0];

	printf("%-24s %9s %9s %9s %9s %9s %8s\n", "command", "median", "p90", "mean", "min", "max",
	       "x first");
	for (size_t i = 0; i < b->n_cmds; i++) {
		const struct command *c = &b->cmds[i];

		printf("%-24s %9.3f %9.3f %9.3f %9.3f %9.3f %8.2f\n", c->name, c->median, c->p90,
		       c->mean, c->min, c->max, c->median / floor->median);
	}
	for (size_t i = 0; i < b->n_pairs; i++) {
		const char *slash = strchr(b->pairs[i], '/');
		struct command *x, *y;

		x = slash ? find_command(b, b->pairs[i], (size_t)(slash - b->pairs[i])) : NULL;
		y = slash ? find_command(b, slash + 1, strlen(slash + 1)) : NULL;
		if (!x || !y) {
			printf("ratio %-30s unknown command\n", b->pairs[i]);
			continue;
		}
		printf("ratio %-30s median %.3f  p90 %.3f\n", b->pairs[i], x->median / y->median,
		       x->p90 / y->p90);
	}
}

static int write_raw(const struct bench *b)
{
	_cleanup_fclose_ FILE *f = fopen(b->raw_path, "we");

	if (!f)
		return -errno;
	fprintf(f, "round,command,ms\n");
	for (long r = 0; r < b->rounds; r++)
		for (size_t i = 0; i < b->n_cmds; i++)
			fprintf(f, "%ld,%s,%.4f\n", r, b->cmds[i].name, b->cmds[i].samples[r]);
	return fflush(f) == 0 ? 0 : -errno;
}

/* Splits argv[0..argc) at "::" into commands, each "NAME CMD [ARG...]". */
static int parse_commands(struct bench *b, int argc, char **argv)
{
	int i = 0;

	while (i < argc) {
		struct command *c = &b->cmds[b->n_cmds];
		int start = i;

		if (b->n_cmds == MAX_COMMANDS)
			return -E2BIG;
		while (i < argc && strcmp(argv[i], "::") != 0)
			i++;
		if (i - start < 2)
			return -EINVAL;
		argv[i < argc ? i : argc] = NULL; /* argv[argc] is NULL already */
		c->name = argv[start];
		c->argv = &argv[start + 1];
		c->samples = calloc((size_t)b->rounds, sizeof(double));
		if (!c->samples)
			return -ENOMEM;
		b->n_cmds++;
		i++;
	}
	return b->n_cmds > 0 ? 0 : -EINVAL;
}

/* Attaches each -U NAME:PATH to its command. */
static int resolve_hides(struct bench *b)
{
	for (size_t i = 0; i < b->n_hides; i++) {
		const char *colon = strchr(b->hides[i], ':');
		struct command *c;

		c = colon ? find_command(b, b->hides[i], (size_t)(colon - b->hides[i])) : NULL;
		if (!c || colon[1] != '/')
			return -EINVAL;
		c->hide_mount = colon + 1;
	}
	return 0;
}

static int parse_options(struct bench *b, int argc, char **argv)
{
	char *end;
	int c, r;

	while ((c = getopt(argc, argv, "+n:w:o:r:i:U:g:")) >= 0) {
		switch (c) {
		case 'n':
			b->rounds = strtol(optarg, NULL, 10);
			break;
		case 'w':
			b->warmup = strtol(optarg, NULL, 10);
			break;
		case 'g':
			b->gap_ms = strtol(optarg, NULL, 10);
			break;
		case 'o':
			b->raw_path = optarg;
			break;
		case 'r':
			if (b->n_pairs == MAX_PAIRS)
				return -E2BIG;
			b->pairs[b->n_pairs++] = optarg;
			break;
		case 'U':
			if (b->n_hides == MAX_COMMANDS)
				return -E2BIG;
			b->hides[b->n_hides++] = optarg;
			break;
		case 'i':
			b->inherit_fd = (int)strtol(optarg, &end, 10);
			if (*end != ':' || b->inherit_fd <= STDERR_FILENO || b->inherit_fd > 255)
				return -EINVAL;
			b->inherit_path = end + 1;
			break;
		default:
			return -EINVAL;
		}
	}
	if (b->rounds < 1 || b->rounds > MAX_ROUNDS || b->warmup < 0 || b->warmup > MAX_ROUNDS ||
	    b->gap_ms < 0 || b->gap_ms > 10000)
		return -ERANGE;
	r = parse_commands(b, argc - optind, argv + optind);
	if (r < 0)
		return r;
	return resolve_hides(b);
}

int main(int argc, char **argv)
{
	struct bench b = { .rounds = 200, .warmup = 20 };
	int r;

	r = parse_options(&b, argc, argv);
	if (r < 0) {
		fprintf(stderr, "usage: startup [-n ROUNDS] [-w WARMUP] [-o RAW.csv] [-r A/B]... "
				"[-i FD:PATH] [-U NAME:PATH]... [-g MS] -- NAME CMD [ARG...] [:: "
				"NAME CMD [ARG...]]...\n");
		return 2;
	}
	b.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (b.null_fd < 0)
		return 1;

	r = run_rounds(&b);
	if (r < 0)
		return 1;
	for (size_t i = 0; i < b.n_cmds; i++)
		command_stats(&b.cmds[i], (size_t)b.rounds);
	printf("# %ld rounds after %ld warm-up rounds, interleaved, %ld ms idle before each "
	       "start; times in ms\n",
	       b.rounds, b.warmup, b.gap_ms);
	print_report(&b);
	if (b.raw_path && write_raw(&b) < 0) {
		fprintf(stderr, "startup: cannot write '%s': %s\n", b.raw_path, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < b.n_cmds; i++)
		free(b.cmds[i].samples);
	return 0;
}
