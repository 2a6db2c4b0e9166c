/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The refusals of an overlay workspace the kernel cannot build (supervisor/preflight.c):
 * one line each, naming the policy key and the missing feature. The failures themselves
 * cannot be provoked on a kernel that has the features, so their wording is checked here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "preflight.h"
#include "sandbox.h"
#include "test.h"

static void refusal(const char *step, int err, char *buf, size_t size)
{
	struct policy *p = NULL;

	if (policy_new_default(&p) < 0)
		abort();
	preflight_mounts_refusal(p, "/srv/ws", step, err, buf, size);
	policy_free(p);
}

TEST(overlay_refusals)
{
	static const struct {
		const char *step;
		int err;
		const char *want;
	} cases[] = {
		{ SANDBOX_OVERLAY_ERR_FS, -ENODEV, "this kernel has no overlayfs" },
		{ SANDBOX_OVERLAY_ERR_LAYERS, -EINVAL,
		  "cannot take its layers by file descriptor" },
		{ SANDBOX_OVERLAY_ERR_CREATE, -EINVAL, "detached, idmapped layers" },
		{ SANDBOX_OVERLAY_ERR_IDMAP, -EINVAL, "must be idmapped to the task" },
		{ SANDBOX_OVERLAY_ERR_TMPFS, -ENOMEM, "the tmpfs of its upper layer" },
		{ SANDBOX_OVERLAY_ERR_OPTIONS, -EINVAL, "lacks an option" },
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		refusal(cases[i].step, cases[i].err, buf, sizeof(buf));
		ASSERT_CONTAINS(buf, "/filesystem/workspace/mode: overlay: ");
		ASSERT_CONTAINS(buf, cases[i].want);
		ASSERT_CONTAINS(buf, strerror(-cases[i].err));
		ASSERT_TRUE(strchr(buf, '\n') == NULL);
	}
	/* The workspace's own failures keep their wording. */
	refusal("/srv/ws", -ENOENT, buf, sizeof(buf));
	ASSERT_STREQ(buf, "workspace '/srv/ws' does not exist on this host");
}

TEST_MAIN()
