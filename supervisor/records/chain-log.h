/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "chain.h"

/*
 * Where every run says its state directory's chain head, so that an outside system can pin
 * it (docs/audit.md): to journald with the native protocol when
 * /run/systemd/journal/socket exists (fields AIRLOCK_CHAIN_SEQ, AIRLOCK_CHAIN_SHA256,
 * AIRLOCK_RUN_ID, AIRLOCK_STATE_DIR), else to syslog (facility authpriv) when /dev/log
 * exists. Never fails the run; logs nothing itself.
 */
void chain_log_head(const char *state_dir, const struct chain_head *h);
