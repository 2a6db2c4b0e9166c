/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A final run record joins its state directory's chain (chain.h), and the head is said. */

#include <jansson.h>

#include "chain.h"

/*
 * chain_append() of o, then chain_log_head(). *ret_text (NULL: not wanted) is the text
 * written. Logs nothing but the head line. Returns 0 or -errno.
 */
int record_chain_append(int state_fd, const char *state_dir, json_t *o, chain_write_fn write,
			void *userdata, char **ret_text);
/*
 * The same for a run's own final record, logging its failure once (write's own failures are
 * write's to log) as "Failed to sign run record ...".
 */
int record_chain_write(int state_fd, const char *state_dir, json_t *o, chain_write_fn write,
		       void *userdata, char **ret_text);
