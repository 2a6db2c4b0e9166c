/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dropping every capability in the task child. The child runs as uid 0 with a full set in
 * its own user namespace; afterwards it holds nothing in any of the five sets, has no
 * supplementary groups, runs as the policy's uid/gid and has no_new_privs set. We do not
 * trust any single call to have worked: caps_verify() reads the state back from the kernel.
 */

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>

#include <cap-ng.h>

#include "caps.h"

/* The one adapter for libcap-ng: its functions return step codes (-1..-9), not errnos. */
static int caps_capng_errno(int r)
{
	if (r >= 0)
		return 0;
	return errno > 0 ? -errno : -EPERM;
}

/* Bounding and ambient sets first: dropping from the bounding set needs CAP_SETPCAP. */
static int caps_drop_bounding_ambient(void)
{
	int r;

	capng_clear(CAPNG_SELECT_ALL);

	errno = 0;
	r = capng_apply(CAPNG_SELECT_BOUNDS);
	if (r < 0)
		return caps_capng_errno(r);

	/* Ambient capabilities would survive execve: clear them explicitly. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

/* Supplementary groups: none may remain, or the task keeps the supervisor's group access. */
static int caps_drop_groups(void)
{
	if (setgroups(0, NULL) == 0)
		return 0;
	if (errno != EPERM)
		return -errno;

	/* setgroups is "deny" in this user namespace: fine only if there is nothing to drop. */
	return getgroups(0, NULL) == 0 ? 0 : -EPERM;
}

static int caps_change_id(uid_t uid, gid_t gid)
{
	int r;

	r = caps_drop_groups();
	if (r < 0)
		return r;
	if (setresgid(gid, gid, gid) < 0)
		return -errno;
	/* Without PR_SET_KEEPCAPS, leaving uid 0 also empties the permitted set. */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	if (setresuid(uid, uid, uid) < 0)
		return -errno;
	return 0;
}

/* Effective, permitted and inheritable (the latter would be kept for uid 0). */
static int caps_drop_process(void)
{
	int r;

	capng_clear(CAPNG_SELECT_BOTH);
	errno = 0;
	r = capng_apply(CAPNG_SELECT_CAPS);
	return caps_capng_errno(r);
}

static int caps_verify_sets(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	for (unsigned i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return -EPERM;
	return 0;
}

/*
 * Walks capability numbers until the kernel says EINVAL: no need for cap_last_cap. The
 * ambient set needs no walk of its own: the kernel keeps it a subset of permitted and
 * inheritable, which caps_verify_sets() found empty.
 */
static int caps_verify_bounding(void)
{
	for (unsigned long cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0 && errno == EINVAL)
			return 0;
		if (r != 0)
			return -EPERM;
	}
	return 0;
}

static int caps_verify(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int r;

	r = caps_verify_sets();
	if (r < 0)
		return r;
	r = caps_verify_bounding();
	if (r < 0)
		return r;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return -EPERM;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EPERM;
	return 0;
}

int caps_drop_all(uid_t uid, gid_t gid)
{
	int r;

	r = caps_drop_bounding_ambient();
	if (r < 0)
		return r;
	r = caps_change_id(uid, gid);
	if (r < 0)
		return r;
	r = caps_drop_process();
	if (r < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;

	return caps_verify(uid, gid);
}
