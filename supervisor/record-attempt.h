/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The parts of a run record that say who asked for what and why an attempt was refused
 * (docs/run-record.md: "caller", "policy", "exit.reason", "exit.message", "checks"), so
 * that a refused attempt leaves a record as complete as a run's.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct policy;
struct run_summary;

/* Who ran airlock, as the kernel and (for sudo) the environment say. */
struct record_caller {
	uid_t uid; /* real ids of the airlock process */
	gid_t gid;
	uid_t euid;
	char user[256]; /* the uid's user name (passwd), "" when it has none */
	bool has_loginuid;
	uint32_t loginuid; /* /proc/self/loginuid: the audit login uid, when set */
	const char *sudo_uid; /* SUDO_UID, SUDO_GID, SUDO_USER as found, or NULL (borrowed) */
	const char *sudo_gid;
	const char *sudo_user;
};

/* Fills c for this process. Cannot fail: what cannot be read is left out. Logs nothing. */
void record_caller_get(struct record_caller *c);

/*
 * The effective policy p as a JSON object (its canonical form, which the digest hashes),
 * for the record's policy.effective: made once per run, it is shared by its records. New
 * reference, or NULL on -ENOMEM. Logs nothing.
 */
json_t *record_policy_effective(const struct policy *p);

/*
 * Adds to record o what the attempt in s asked and who asked it: "caller", "policy" (name,
 * digest and the effective policy itself; or the file when it did not parse), "started_ns",
 * "checks", and "reason"/"message" in "exit". Returns 0 or -ENOMEM (nothing is left out
 * silently). Logs nothing.
 */
int record_attempt_add(json_t *o, const struct run_summary *s);
