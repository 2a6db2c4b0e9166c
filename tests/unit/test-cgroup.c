// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pure half of the cgroup module: /proc and cgroup file parsers, cpu quota, reasons,
 * the layout of the task's view of its cgroup.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup-internal.h"
#include "macro.h"
#include "policy.h"
#include "test.h"

/* This development machine: systemd-style v1/v2 hybrid, cpu and cpuacct apart. */
static const char mountinfo_hybrid[] =
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
	"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* A Debian 12 host: pure v2, plus a co-mounted v1 hierarchy in a container elsewhere. */
static const char mountinfo_v2[] =
	"25 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
	"30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

static const char mountinfo_comount[] =
	"32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup "
	"rw,cpu,cpuacct\n"
	"33 31 0:30 / /sys/fs/cgroup/with\\040space rw - cgroup cgroup rw,memory\n";

static const char proc_self_hybrid[] = "9:name=systemd:/\n"
				       "8:pids:/\n"
				       "6:freezer:/\n"
				       "4:memory:/process_api/9b12d7a4e3d86cda1be669d63e7de500\n"
				       "2:cpuacct:/\n"
				       "1:cpu:/\n"
				       "0::/\n";

TEST(mountinfo_hybrid)
{
	struct cgroup_layout l = {};

	ASSERT_OK(cgroup_parse_mountinfo(mountinfo_hybrid, &l));
	ASSERT_STREQ(l.unified.mount, "/sys/fs/cgroup/unified");
	ASSERT_STREQ(l.v1[CGROUP_MEMORY].mount, "/sys/fs/cgroup/memory");
	ASSERT_STREQ(l.v1[CGROUP_CPU].mount, "/sys/fs/cgroup/cpu");
	ASSERT_STREQ(l.v1[CGROUP_CPUACCT].mount, "/sys/fs/cgroup/cpuacct");
	ASSERT_STREQ(l.v1[CGROUP_IO].mount, "/sys/fs/cgroup/blkio");
	ASSERT_STREQ(l.v1[CGROUP_CPUSET].mount, "/sys/fs/cgroup/cpuset");
	ASSERT_STREQ(l.v1[CGROUP_PIDS].root, "/");
	ASSERT_EQ(l.v1_controllers, CGROUP_MASK(CGROUP_MEMORY) | CGROUP_MASK(CGROUP_PIDS) |
					    CGROUP_MASK(CGROUP_CPU) | CGROUP_MASK(CGROUP_CPUACCT) |
					    CGROUP_MASK(CGROUP_FREEZER) | CGROUP_MASK(CGROUP_IO) |
					    CGROUP_MASK(CGROUP_CPUSET));
}

TEST(mountinfo_v2)
{
	struct cgroup_layout l = {};

	ASSERT_OK(cgroup_parse_mountinfo(mountinfo_v2, &l));
	ASSERT_STREQ(l.unified.mount, "/sys/fs/cgroup");
	ASSERT_STREQ(l.unified.root, "/");
	ASSERT_EQ(l.v1_controllers, 0);
}

TEST(mountinfo_comount_and_escapes)
{
	struct cgroup_layout l = {};

	ASSERT_OK(cgroup_parse_mountinfo(mountinfo_comount, &l));
	ASSERT_STREQ(l.v1[CGROUP_CPU].mount, "/sys/fs/cgroup/cpu,cpuacct");
	ASSERT_STREQ(l.v1[CGROUP_CPUACCT].mount, "/sys/fs/cgroup/cpu,cpuacct");
	ASSERT_STREQ(l.v1[CGROUP_CPU].root, "/docker/abc");
	ASSERT_STREQ(l.v1[CGROUP_MEMORY].mount, "/sys/fs/cgroup/with space");
	ASSERT_EQ(l.unified.mount[0], '\0');
}

TEST(mountinfo_malformed)
{
	struct cgroup_layout l = {};

	/* A cgroup line without super options cannot say which controllers it holds. */
	ASSERT_ERROR(cgroup_parse_mountinfo("1 2 0:1 / /x rw - cgroup\n", &l), EINVAL);
	/* Lines we do not understand and empty text are skipped. */
	ASSERT_OK(cgroup_parse_mountinfo("garbage\n\n", &l));
	ASSERT_OK(cgroup_parse_mountinfo("", &l));
	ASSERT_EQ(l.v1_controllers, 0);
}

TEST(proc_self_cgroup)
{
	struct cgroup_layout l = {};

	ASSERT_OK(cgroup_parse_proc_self(proc_self_hybrid, &l));
	ASSERT_STREQ(l.unified.self, "/");
	ASSERT_STREQ(l.v1[CGROUP_MEMORY].self, "/process_api/9b12d7a4e3d86cda1be669d63e7de500");
	ASSERT_STREQ(l.v1[CGROUP_PIDS].self, "/");

	memset(&l, 0, sizeof(l));
	ASSERT_OK(cgroup_parse_proc_self("3:cpu,cpuacct:/a/b\n0::/system.slice/airlock.service\n",
					 &l));
	ASSERT_STREQ(l.v1[CGROUP_CPU].self, "/a/b");
	ASSERT_STREQ(l.v1[CGROUP_CPUACCT].self, "/a/b");
	ASSERT_STREQ(l.unified.self, "/system.slice/airlock.service");

	ASSERT_ERROR(cgroup_parse_proc_self("0:/no-second-colon\n", &l), EINVAL);
	ASSERT_ERROR(cgroup_parse_proc_self("0::relative\n", &l), EINVAL);
}

TEST(controller_list)
{
	ASSERT_EQ(cgroup_parse_controller_list("cpuset cpu io memory hugetlb pids rdma misc\n"),
		  CGROUP_MASK(CGROUP_CPUSET) | CGROUP_MASK(CGROUP_CPU) | CGROUP_MASK(CGROUP_IO) |
			  CGROUP_MASK(CGROUP_MEMORY) | CGROUP_MASK(CGROUP_PIDS));
	ASSERT_EQ(cgroup_parse_controller_list("hugetlb\n"), 0);
	ASSERT_EQ(cgroup_parse_controller_list(""), 0);
	ASSERT_EQ(cgroup_controller_from_string("blkio"), CGROUP_IO);
	ASSERT_EQ(cgroup_controller_from_string("cpuset"), CGROUP_CPUSET);
	ASSERT_STREQ(cgroup_controller_to_string(CGROUP_CPUSET), "cpuset");
	ASSERT_ERROR(cgroup_controller_from_string("rdma"), EINVAL);
}

TEST(memory_events)
{
	const char *ev = "low 0\nhigh 0\nmax 17\noom 2\noom_kill 1\noom_group_kill 1\n";
	uint64_t v = 0;

	ASSERT_OK(cgroup_parse_keyed(ev, "oom_kill", &v));
	ASSERT_EQ(v, 1);
	ASSERT_OK(cgroup_parse_keyed(ev, "max", &v));
	ASSERT_EQ(v, 17);
	/* "oom" must not match "oom_kill" nor "oom_group_kill". */
	ASSERT_OK(cgroup_parse_keyed(ev, "oom", &v));
	ASSERT_EQ(v, 2);
	ASSERT_ERROR(cgroup_parse_keyed(ev, "swap", &v), ENOENT);
	ASSERT_ERROR(cgroup_parse_keyed("max lots\n", "max", &v), EINVAL);
}

TEST(pids_events_and_oom_control)
{
	uint64_t v = 0;

	ASSERT_OK(cgroup_parse_keyed("max 42\n", "max", &v));
	ASSERT_EQ(v, 42);
	ASSERT_OK(cgroup_parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill",
				     &v));
	ASSERT_EQ(v, 3);
	ASSERT_OK(cgroup_parse_keyed("populated 1\nfrozen 0\n", "populated", &v));
	ASSERT_EQ(v, 1);
}

TEST(cpu_stat)
{
	const char *v2 = "usage_usec 2500000\nuser_usec 2400000\nsystem_usec 100000\n"
			 "nr_periods 50\nnr_throttled 49\nthrottled_usec 2450000\n";
	const char *v1 = "nr_periods 10\nnr_throttled 9\nthrottled_time 900000000\n";
	uint64_t v = 0;

	ASSERT_OK(cgroup_parse_keyed(v2, "throttled_usec", &v));
	ASSERT_EQ(v, 2450000);
	ASSERT_OK(cgroup_parse_keyed(v2, "user_usec", &v));
	ASSERT_EQ(v, 2400000);
	ASSERT_OK(cgroup_parse_keyed(v1, "throttled_time", &v));
	ASSERT_EQ(v, 900000000);
	ASSERT_OK(cgroup_parse_keyed(v1, "nr_throttled", &v));
	ASSERT_EQ(v, 9);
}

TEST(single_values)
{
	uint64_t v = 0;

	ASSERT_OK(cgroup_parse_u64("268435456\n", &v));
	ASSERT_EQ(v, 268435456);
	ASSERT_OK(cgroup_parse_u64("max\n", &v));
	ASSERT_TRUE(v == UINT64_MAX);
	ASSERT_OK(cgroup_parse_u64("18446744073709551615", &v));
	ASSERT_TRUE(v == UINT64_MAX);
	ASSERT_ERROR(cgroup_parse_u64("18446744073709551616", &v), EINVAL);
	ASSERT_ERROR(cgroup_parse_u64("12 34\n", &v), EINVAL);
	ASSERT_ERROR(cgroup_parse_u64("", &v), EINVAL);
	ASSERT_ERROR(cgroup_parse_u64("-1", &v), EINVAL);
}

TEST(cpu_max)
{
	char buf[64];
	uint64_t q = 0;

	ASSERT_OK(cgroup_format_cpu_max(1000, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "100000 100000");
	ASSERT_OK(cgroup_format_cpu_max(1500, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "150000 100000");
	ASSERT_OK(cgroup_format_cpu_max(250, buf, sizeof(buf)));
	ASSERT_STREQ(buf, "25000 100000");
	/* The kernel refuses quotas below 1 ms. */
	ASSERT_OK(cgroup_cpu_quota(1, &q));
	ASSERT_EQ(q, 1000);
	ASSERT_OK(cgroup_cpu_quota(POLICY_MAX_CPU_MILLI, &q));
	ASSERT_EQ(q, 102400000);
	ASSERT_ERROR(cgroup_cpu_quota(0, &q), ERANGE);
	ASSERT_ERROR(cgroup_format_cpu_max(1000, buf, 5), ERANGE);
}

TEST(run_ids)
{
	ASSERT_TRUE(cgroup_run_id_is_valid("20261121-abc_DEF.1"));
	ASSERT_FALSE(cgroup_run_id_is_valid(""));
	ASSERT_FALSE(cgroup_run_id_is_valid(".hidden"));
	ASSERT_FALSE(cgroup_run_id_is_valid(".."));
	ASSERT_FALSE(cgroup_run_id_is_valid("a/b"));
	ASSERT_FALSE(cgroup_run_id_is_valid("cgroup procs"));
	ASSERT_FALSE(cgroup_run_id_is_valid(CGROUP_SUPERVISOR_LEAF));
	ASSERT_FALSE(cgroup_run_id_is_valid(
		"a123456789012345678901234567890123456789012345678901234567890123456789"));
}

static struct cgroup_stats stats_zero(void)
{
	return (struct cgroup_stats){ .memory_peak = UINT64_MAX,
				      .pids_peak = UINT64_MAX,
				      .cpu_throttled_usec = UINT64_MAX };
}

TEST(limit_hit_reasons)
{
	struct policy_limits lim = { .set = POLICY_LIMIT_MEMORY | POLICY_LIMIT_PIDS |
					    POLICY_LIMIT_CPU,
				     .memory = 256ULL << 20,
				     .pids = 64,
				     .cpu_milli = 500 };
	struct cgroup_stats s = stats_zero();
	char buf[128];

	ASSERT_EQ(cgroup_limit_hit_describe(&s, &lim, true, buf, sizeof(buf)), CGROUP_LIMIT_NONE);
	ASSERT_STREQ(buf, "");

	s.oom_kills = 1;
	ASSERT_EQ(cgroup_limit_hit_describe(&s, &lim, true, buf, sizeof(buf)), CGROUP_LIMIT_MEMORY);
	ASSERT_STREQ(buf, "memory limit 256M reached");
	/* A task that exited by itself was not ended by an OOM kill of one of its children. */
	ASSERT_EQ(cgroup_limit_hit_describe(&s, &lim, false, buf, sizeof(buf)), CGROUP_LIMIT_NONE);

	s = stats_zero();
	s.pids_max_events = 3;
	ASSERT_EQ(cgroup_limit_hit_describe(&s, &lim, false, buf, sizeof(buf)), CGROUP_LIMIT_PIDS);
	ASSERT_STREQ(buf, "pids limit 64 reached (3 forks refused)");

	s = stats_zero();
	s.cpu_nr_throttled = 5;
	s.cpu_throttled_usec = 1500000;
	ASSERT_EQ(cgroup_limit_hit_describe(&s, &lim, false, buf, sizeof(buf)), CGROUP_LIMIT_CPU);
	ASSERT_STREQ(buf, "cpu limit 0.5 cores, throttled for 1500ms");

	/* Without the limit in the policy, nothing is blamed on it. */
	lim.set = 0;
	ASSERT_EQ(cgroup_limit_hit_describe(&s, &lim, false, buf, sizeof(buf)), CGROUP_LIMIT_NONE);
}

TEST(names)
{
	ASSERT_STREQ(cgroup_mode_to_string(CGROUP_MODE_HYBRID), "hybrid");
	ASSERT_STREQ(cgroup_delegation_to_string(CGROUP_DELEGATION_SYSTEMD), "systemd");
	ASSERT_STREQ(cgroup_controller_to_string(CGROUP_IO), "io");
	ASSERT_TRUE(cgroup_mode_to_string(_CGROUP_MODE_MAX) == NULL);
}

TEST(view_names)
{
	char buf[CGROUP_VIEW_NAME_MAX], small[4];

	ASSERT_OK(cgroup_view_name("/sys/fs/cgroup/cpu,cpuacct", buf, sizeof(buf)));
	ASSERT_STREQ(buf, "cpu,cpuacct");
	ASSERT_OK(cgroup_view_name("/sys/fs/cgroup/memory", buf, sizeof(buf)));
	ASSERT_STREQ(buf, "memory");
	ASSERT_OK(cgroup_view_name("/cgroup/name=systemd", buf, sizeof(buf)));
	ASSERT_STREQ(buf, "name=systemd");
	ASSERT_ERROR(cgroup_view_name("/sys/fs/cgroup/with space", buf, sizeof(buf)), EINVAL);
	ASSERT_ERROR(cgroup_view_name("/sys/fs/cgroup/", buf, sizeof(buf)), EINVAL);
	ASSERT_ERROR(cgroup_view_name("/sys/fs/cgroup/..", buf, sizeof(buf)), EINVAL);
	ASSERT_ERROR(cgroup_view_name("/sys/fs/cgroup/.memory", buf, sizeof(buf)), EINVAL);
	ASSERT_ERROR(cgroup_view_name("/x/a\nb", buf, sizeof(buf)), EINVAL);
	ASSERT_ERROR(
		cgroup_view_name("/x/"
				 "a123456789012345678901234567890123456789012345678901234567890"
				 "123",
				 buf, sizeof(buf)),
		ENAMETOOLONG);
	ASSERT_ERROR(cgroup_view_name("/sys/fs/cgroup/memory", small, sizeof(small)), ENAMETOOLONG);
}

TEST(view_links)
{
	static const char *const hybrid[] = { "memory", "pids", "cpu,cpuacct", "freezer" };
	static const char *const taken[] = { "cpu", "cpu,cpuacct", "net_cls,net_prio,cpu" };
	static const char *const odd[] = { ",a,,a,.x,b c,", "plain" };
	struct cgroup_view_link l[CGROUP_VIEW_LINKS_MAX];

	ASSERT_EQ(cgroup_view_links(hybrid, 4, l, ELEMENTSOF(l)), 2);
	ASSERT_STREQ(l[0].name, "cpu");
	ASSERT_STREQ(l[0].target, "cpu,cpuacct");
	ASSERT_STREQ(l[1].name, "cpuacct");
	ASSERT_STREQ(l[1].target, "cpu,cpuacct");
	/* A name that is a directory of its own, or linked already, gets no second link. */
	ASSERT_EQ(cgroup_view_links(taken, 3, l, ELEMENTSOF(l)), 3);
	ASSERT_STREQ(l[0].name, "cpuacct");
	ASSERT_STREQ(l[1].name, "net_cls");
	ASSERT_STREQ(l[1].target, "net_cls,net_prio,cpu");
	ASSERT_STREQ(l[2].name, "net_prio");
	/* Empty, hidden and invalid parts are skipped. */
	ASSERT_EQ(cgroup_view_links(odd, 2, l, ELEMENTSOF(l)), 1);
	ASSERT_STREQ(l[0].name, "a");
	ASSERT_EQ(cgroup_view_links(hybrid, 2, l, ELEMENTSOF(l)), 0);
	ASSERT_ERROR(cgroup_view_links(hybrid, 4, l, 1), E2BIG);
}

TEST(run_view)
{
	struct cgroup_view_dir v[_CGROUP_CONTROLLER_MAX];
	struct cgroup_run *c;

	ASSERT_EQ(cgroup_run_view(NULL, v, ELEMENTSOF(v)), 0);

	c = cgroup_run_alloc("run", true);
	ASSERT_TRUE(c);
	ASSERT_EQ(cgroup_run_view(c, v, ELEMENTSOF(v)), 0);
	c->dirs[0] = CGROUP_DIR_INIT;
	c->dirs[0].fd = 7;
	c->n_dirs = 1;
	ASSERT_EQ(cgroup_run_view(c, v, ELEMENTSOF(v)), 1);
	ASSERT_EQ(v[0].fd, 7);
	ASSERT_STREQ(v[0].name, "");
	free(c);

	/* v1: one entry per named directory; one without a usable name stays out. */
	c = cgroup_run_alloc("run", false);
	ASSERT_TRUE(c);
	for (int i = 0; i < 3; i++) {
		c->dirs[i] = CGROUP_DIR_INIT;
		c->dirs[i].fd = 10 + i;
	}
	snprintf(c->dirs[0].view_name, sizeof(c->dirs[0].view_name), "memory");
	snprintf(c->dirs[2].view_name, sizeof(c->dirs[2].view_name), "cpu,cpuacct");
	c->n_dirs = 3;
	ASSERT_EQ(cgroup_run_view(c, v, ELEMENTSOF(v)), 2);
	ASSERT_EQ(v[0].fd, 10);
	ASSERT_STREQ(v[0].name, "memory");
	ASSERT_EQ(v[1].fd, 12);
	ASSERT_STREQ(v[1].name, "cpu,cpuacct");
	ASSERT_EQ(cgroup_run_view(c, v, 1), 1);
	free(c);
}

TEST_MAIN()
