/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "chain-log.h"
#include "log.h"
#include "record-chain.h"
#include "sign.h"

/* The signer failed: said once, the record being signed in-process instead. */
static void warn_signer(void)
{
	const char *path, *problem;
	static bool said;
	int r = sign_signer_error(&path, &problem);

	if (r >= 0 || said)
		return;
	said = true;
	if (problem[0]) {
		log_warning("Record signer program '%s' %s; signing the run record in-process",
			    path, problem);
		return;
	}
	if (r == -ENOKEY || r == -EPERM || r == -ELIBACC)
		return; /* the key's own error: the in-process load says it as ever */
	log_warning_errno(r,
			  "Record signer process %s; signing the run record "
			  "in-process: %m",
			  r == -EPIPE	    ? "died"
			  : r == -ETIMEDOUT ? "did not answer"
					    : "failed");
}

int record_chain_append(int state_fd, const char *state_dir, json_t *o, chain_write_fn write,
			void *userdata, char **ret_text)
{
	struct chain_head head;
	char *text = NULL;
	int r;

	r = chain_append(state_fd, o, write, userdata, &text, &head);
	warn_signer();
	if (r < 0)
		return r;
	chain_log_head(state_dir, &head);
	if (ret_text)
		*ret_text = text;
	else
		free(text);
	return 0;
}

struct logged_write {
	chain_write_fn write;
	void *userdata;
	bool called;
};

static int write_once(const char *text, void *userdata)
{
	struct logged_write *w = userdata;

	w->called = true;
	return w->write(text, w->userdata);
}

int record_chain_write(int state_fd, const char *state_dir, json_t *o, chain_write_fn write,
		       void *userdata, char **ret_text)
{
	struct logged_write w = { write, userdata, false };
	const char *dir;
	int r;

	r = record_chain_append(state_fd, state_dir, o, write_once, &w, ret_text);
	if (r >= 0 || w.called)
		return r;
	if (r == -ELIBACC)
		return log_error_errno(r,
				       "Failed to sign run record in '%s': cannot load "
				       "libcrypto (libcrypto.so.3)",
				       state_dir);
	if (r == -EPERM && (dir = chain_key_refused_dir(state_fd)))
		return log_error_errno(r, "Failed to sign run record: " CHAIN_KEYS_DIR_REFUSAL,
				       state_dir, dir);
	if (r == -ENOKEY || r == -EPERM)
		return log_error_errno(r, "Failed to sign run record: " CHAIN_KEY_REFUSAL,
				       state_dir);
	if (r == -EBADMSG)
		return log_error_errno(r, "Failed to chain run record: '%s/chain/head' is corrupt",
				       state_dir);
	/* The head could not be read or written: the record is not written either. */
	return log_error_errno(r, "Failed to write run record '%s/records/%s.json': %m", state_dir,
			       json_string_value(json_object_get(o, "run_id")));
}
