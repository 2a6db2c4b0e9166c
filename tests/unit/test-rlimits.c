/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The task's resource limits (sandbox/rlimits.c): every one has a value of airlock's. */
#include <errno.h>
#include <sys/resource.h>

#include "policy.h"
#include "rlimits.h"
#include "test.h"

TEST(every_limit_is_pinned)
{
	struct policy *p = NULL;
	struct rlimit l;

	ASSERT_OK(policy_new_default(&p));
	for (int resource = 0; resource < RLIM_NLIMITS; resource++) {
		ASSERT_OK(sandbox_rlimit_for(p, resource, &l));
		ASSERT_TRUE(l.rlim_cur <= l.rlim_max);
	}
	ASSERT_ERROR(sandbox_rlimit_for(p, RLIM_NLIMITS, &l), EINVAL);
	ASSERT_ERROR(sandbox_rlimit_for(p, -1, &l), EINVAL);
	policy_free(p);
}

TEST(no_realtime_no_core_policy_files)
{
	struct policy *p = NULL;
	struct rlimit l;

	ASSERT_OK(policy_new_default(&p));
	ASSERT_OK(sandbox_rlimit_for(p, RLIMIT_RTPRIO, &l));
	ASSERT_EQ(l.rlim_max, 0);
	ASSERT_OK(sandbox_rlimit_for(p, RLIMIT_RTTIME, &l));
	ASSERT_EQ(l.rlim_max, 0);
	ASSERT_OK(sandbox_rlimit_for(p, RLIMIT_NICE, &l));
	ASSERT_EQ(l.rlim_max, 0);
	/* 1, the value at which the kernel starts no core_pattern pipe helper */
	ASSERT_OK(sandbox_rlimit_for(p, RLIMIT_CORE, &l));
	ASSERT_EQ(l.rlim_cur, 1);
	ASSERT_EQ(l.rlim_max, 1);
	ASSERT_OK(sandbox_rlimit_for(p, RLIMIT_NOFILE, &l));
	ASSERT_EQ(l.rlim_max, POLICY_DEFAULT_OPEN_FILES);
	p->limits.open_files = 77;
	ASSERT_OK(sandbox_rlimit_for(p, RLIMIT_NOFILE, &l));
	ASSERT_EQ(l.rlim_cur, 77);
	ASSERT_EQ(l.rlim_max, 77);
	policy_free(p);
}

TEST_MAIN()
