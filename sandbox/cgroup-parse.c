// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pure half of the cgroup module: parsers of /proc and cgroup file text, the cpu
 * quota arithmetic and the limit-hit reason. No I/O, so unit tests and fuzzers can
 * feed it anything.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "macro.h"
#include "parse-util.h"
#include "policy.h"

static const char *const controller_names[_CGROUP_CONTROLLER_MAX] = {
	[CGROUP_MEMORY] = "memory",   [CGROUP_PIDS] = "pids",	    [CGROUP_CPU] = "cpu",
	[CGROUP_CPUACCT] = "cpuacct", [CGROUP_FREEZER] = "freezer", [CGROUP_IO] = "io",
	[CGROUP_CPUSET] = "cpuset",
};

const char *cgroup_controller_to_string(enum cgroup_controller c)
{
	if (c < 0 || c >= _CGROUP_CONTROLLER_MAX)
		return NULL;
	return controller_names[c];
}

enum cgroup_controller cgroup_controller_from_string(const char *s)
{
	if (!s)
		return _CGROUP_CONTROLLER_INVALID;
	if (streq(s, "blkio"))
		return CGROUP_IO;
	for (int i = 0; i < _CGROUP_CONTROLLER_MAX; i++)
		if (streq(s, controller_names[i]))
			return (enum cgroup_controller)i;
	return _CGROUP_CONTROLLER_INVALID;
}

const char *cgroup_mode_to_string(enum cgroup_mode m)
{
	static const char *const names[_CGROUP_MODE_MAX] = {
		[CGROUP_MODE_NONE] = "none",
		[CGROUP_MODE_V1] = "v1",
		[CGROUP_MODE_HYBRID] = "hybrid",
		[CGROUP_MODE_V2] = "v2",
	};

	if (m < 0 || m >= _CGROUP_MODE_MAX)
		return NULL;
	return names[m];
}

const char *cgroup_delegation_to_string(enum cgroup_delegation d)
{
	static const char *const names[_CGROUP_DELEGATION_MAX] = {
		[CGROUP_DELEGATION_NONE] = "none",
		[CGROUP_DELEGATION_SYSTEMD] = "systemd",
		[CGROUP_DELEGATION_CONTAINER] = "container",
	};

	if (d < 0 || d >= _CGROUP_DELEGATION_MAX)
		return NULL;
	return names[d];
}

/* Copies a mountinfo field, decoding the kernel's \ooo escapes. */
static int unescape_field(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			c = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) |
				   (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= size)
			return -ENAMETOOLONG;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return 0;
}

/* Splits line (not NUL-terminated, n bytes) into up to max space-separated fields. */
static size_t split_fields(const char *line, size_t n, const char **f, size_t *flen, size_t max)
{
	size_t k = 0, i = 0;

	while (i < n && k < max) {
		while (i < n && line[i] == ' ')
			i++;
		if (i >= n)
			break;
		f[k] = line + i;
		while (i < n && line[i] != ' ')
			i++;
		flen[k] = (size_t)(line + i - f[k]);
		k++;
	}
	return k;
}

static bool field_is(const char *f, size_t n, const char *s)
{
	return strlen(s) == n && strneq(f, s, n);
}

/* Records the v1 controllers named in a superblock option list ("rw,cpu,cpuacct"). */
static int mountinfo_v1(const char *opts, size_t n, const char *mnt, size_t mn, const char *root,
			size_t rn, struct cgroup_layout *l)
{
	size_t i = 0;
	int r;

	while (i < n) {
		size_t j = i;
		char name[32];
		enum cgroup_controller c;

		while (j < n && opts[j] != ',')
			j++;
		if (j - i < sizeof(name)) {
			memcpy(name, opts + i, j - i);
			name[j - i] = '\0';
			c = cgroup_controller_from_string(name);
			if (c >= 0 && !l->v1[c].mount[0]) {
				r = unescape_field(mnt, mn, l->v1[c].mount, sizeof(l->v1[c].mount));
				if (r < 0)
					return r;
				r = unescape_field(root, rn, l->v1[c].root, sizeof(l->v1[c].root));
				if (r < 0)
					return r;
				l->v1_controllers |= CGROUP_MASK(c);
			}
		}
		i = j + 1;
	}
	return 0;
}

/*
 * One mountinfo line: "id parent maj:min root mountpoint opts [optional...] - fstype
 * source superopts".
 */
static int mountinfo_line(const char *line, size_t n, struct cgroup_layout *l)
{
	const char *f[64];
	size_t fl[64], k, sep;
	int r;

	k = split_fields(line, n, f, fl, ELEMENTSOF(f));
	for (sep = 6; sep < k; sep++)
		if (field_is(f[sep], fl[sep], "-"))
			break;
	if (k < 7 || sep + 1 >= k)
		return 0; /* not a line we understand; cgroup lines always have the separator */
	if (field_is(f[sep + 1], fl[sep + 1], "cgroup2")) {
		if (l->unified.mount[0])
			return 0;
		r = unescape_field(f[4], fl[4], l->unified.mount, sizeof(l->unified.mount));
		if (r < 0)
			return r;
		return unescape_field(f[3], fl[3], l->unified.root, sizeof(l->unified.root));
	}
	if (field_is(f[sep + 1], fl[sep + 1], "cgroup")) {
		if (sep + 3 >= k)
			return -EINVAL;
		return mountinfo_v1(f[sep + 3], fl[sep + 3], f[4], fl[4], f[3], fl[3], l);
	}
	return 0;
}

int cgroup_parse_mountinfo(const char *text, struct cgroup_layout *l)
{
	const char *p = text;

	assert(text && l);

	while (*p) {
		const char *e = strchrnul(p, '\n');
		int r;

		if (e - p >= 6) {
			r = mountinfo_line(p, (size_t)(e - p), l);
			if (r < 0)
				return r;
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

static int copy_path(const char *s, size_t n, char *buf, size_t size)
{
	if (n == 0 || s[0] != '/')
		return -EINVAL;
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* One "id:controllers:path" line of /proc/self/cgroup. */
static int proc_self_line(const char *line, size_t n, struct cgroup_layout *l)
{
	const char *c1 = memchr(line, ':', n), *c2, *ctl;
	size_t cn;

	if (!c1)
		return -EINVAL;
	c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line));
	if (!c2)
		return -EINVAL;
	ctl = c1 + 1;
	cn = (size_t)(c2 - ctl);
	n -= (size_t)(c2 + 1 - line);
	if (cn == 0)
		return copy_path(c2 + 1, n, l->unified.self, sizeof(l->unified.self));

	while (cn > 0) {
		const char *e = memchr(ctl, ',', cn);
		size_t len = e ? (size_t)(e - ctl) : cn;
		char name[32];
		int c, r;

		if (len < sizeof(name)) {
			memcpy(name, ctl, len);
			name[len] = '\0';
			c = cgroup_controller_from_string(name);
			if (c >= 0) {
				r = copy_path(c2 + 1, n, l->v1[c].self, sizeof(l->v1[c].self));
				if (r < 0)
					return r;
			}
		}
		cn -= e ? len + 1 : len;
		ctl += e ? len + 1 : len;
	}
	return 0;
}

int cgroup_parse_proc_self(const char *text, struct cgroup_layout *l)
{
	const char *p = text;

	assert(text && l);

	while (*p) {
		const char *e = strchrnul(p, '\n');
		int r;

		if (e > p) {
			r = proc_self_line(p, (size_t)(e - p), l);
			if (r < 0)
				return r;
		}
		p = *e ? e + 1 : e;
	}
	return 0;
}

unsigned cgroup_parse_controller_list(const char *text)
{
	unsigned mask = 0;
	const char *p = text;

	while (p && *p) {
		size_t n;
		char name[32];
		int c;

		p += strspn(p, " \t\n");
		n = strcspn(p, " \t\n");
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			c = cgroup_controller_from_string(name);
			if (c >= 0)
				mask |= CGROUP_MASK(c);
		}
		p += n;
	}
	return mask;
}

/* Parses digits up to whitespace or end; "max" is UINT64_MAX. */
static int parse_value(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 3 && strneq(s, "max", 3)) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (n == 0 || n > 20)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

int cgroup_parse_u64(const char *text, uint64_t *ret)
{
	size_t n;

	assert(text && ret);
	n = strcspn(text, " \t\n");
	if (text[n + strspn(text + n, " \t\n")] != '\0')
		return -EINVAL;
	return parse_value(text, n, ret);
}

int cgroup_parse_keyed(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	const char *p = text;

	assert(text && key && ret);

	while (*p) {
		const char *e = strchrnul(p, '\n');

		if ((size_t)(e - p) > klen && strneq(p, key, klen) && p[klen] == ' ') {
			const char *v = p + klen + 1;
			return parse_value(v, strcspn(v, " \n"), ret);
		}
		p = *e ? e + 1 : e;
	}
	return -ENOENT;
}

int cgroup_cpu_quota(uint32_t cpu_milli, uint64_t *ret_quota_usec)
{
	uint64_t q;

	if (cpu_milli == 0)
		return -ERANGE;
	q = (uint64_t)cpu_milli * CGROUP_CPU_PERIOD_USEC / 1000;
	*ret_quota_usec = MAX(q, CGROUP_CPU_MIN_QUOTA_USEC);
	return 0;
}

int cgroup_format_cpu_max(uint32_t cpu_milli, char *buf, size_t len)
{
	uint64_t q;
	int r, n;

	r = cgroup_cpu_quota(cpu_milli, &q);
	if (r < 0)
		return r;
	n = snprintf(buf, len, "%" PRIu64 " %llu", q, CGROUP_CPU_PERIOD_USEC);
	if (n < 0 || (size_t)n >= len)
		return -ERANGE;
	return 0;
}

bool cgroup_run_id_is_valid(const char *name)
{
	size_t n;

	if (!name || name[0] == '\0' || name[0] == '.')
		return false;
	n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	return name[n] == '\0' && n <= CGROUP_RUN_ID_MAX && !streq(name, CGROUP_SUPERVISOR_LEAF);
}

static void format_cores(uint32_t milli, char *buf, size_t len)
{
	if (milli % 1000 == 0)
		snprintf(buf, len, "%u", milli / 1000);
	else if (milli % 100 == 0)
		snprintf(buf, len, "%u.%u", milli / 1000, milli % 1000 / 100);
	else
		snprintf(buf, len, "%u.%03u", milli / 1000, milli % 1000);
}

enum cgroup_limit_hit cgroup_limit_hit_describe(const struct cgroup_stats *s,
						const struct policy_limits *lim, bool task_killed,
						char *buf, size_t len)
{
	char v[32], t[32];

	assert(s && lim && buf && len > 0);
	buf[0] = '\0';

	if (task_killed && s->oom_kills > 0 && (lim->set & POLICY_LIMIT_MEMORY)) {
		format_size(lim->memory, v, sizeof(v));
		snprintf(buf, len, "memory limit %s reached", v);
		return CGROUP_LIMIT_MEMORY;
	}
	if (s->pids_max_events > 0 && (lim->set & POLICY_LIMIT_PIDS)) {
		snprintf(buf, len, "pids limit %" PRIu32 " reached (%" PRIu64 " forks refused)",
			 lim->pids, s->pids_max_events);
		return CGROUP_LIMIT_PIDS;
	}
	if (s->cpu_nr_throttled > 0 && s->cpu_throttled_usec != UINT64_MAX &&
	    (lim->set & POLICY_LIMIT_CPU)) {
		format_cores(lim->cpu_milli, v, sizeof(v));
		format_duration_ms(s->cpu_throttled_usec / 1000, t, sizeof(t));
		snprintf(buf, len, "cpu limit %s cores, throttled for %s", v, t);
		return CGROUP_LIMIT_CPU;
	}
	return CGROUP_LIMIT_NONE;
}
