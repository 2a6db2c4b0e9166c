/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "chain-log.h"
#include "cleanup.h"
#include "fd-util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* One datagram of "FIELD=value\n" lines (journald's native protocol, text values only). */
static int journal_send(const char *text)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
	_cleanup_close_ int fd = -EBADF;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

void chain_log_head(const char *state_dir, const struct chain_head *h)
{
	char text[PATH_MAX + 512];
	/* A path with a newline would end its field early: the message names it escaped. */
	bool plain = !strchr(state_dir, '\n');

	if (access(JOURNAL_SOCKET, F_OK) == 0) {
		snprintf(text, sizeof(text),
			 "MESSAGE=records head: seq %" PRIu64 " sha256 %s\n"
			 "PRIORITY=6\nSYSLOG_IDENTIFIER=airlock\n"
			 "AIRLOCK_CHAIN_SEQ=%" PRIu64 "\nAIRLOCK_CHAIN_SHA256=%s\n"
			 "AIRLOCK_RUN_ID=%s\nAIRLOCK_STATE_DIR=%s\n",
			 h->seq, h->sha256, h->seq, h->sha256, h->run_id,
			 plain ? state_dir : "(unprintable)");
		if (journal_send(text) >= 0)
			return;
	}
	if (access("/dev/log", F_OK) < 0)
		return; /* no syslog either: `airlock records head` still says it */
	openlog("airlock", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
	syslog(LOG_INFO, "records head: seq %" PRIu64 " sha256 %s run %s state %s", h->seq,
	       h->sha256, h->run_id, plain ? state_dir : "(unprintable)");
	closelog();
}
