/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-file.h"
#include "config.h"
#include "fd-util.h"
#include "log.h"
#include "node-config.h"

/* The file's owner and mode: root's, and nobody else may change what root will trust. */
static int check_owner(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return log_error_errno(-errno, "Failed to stat '%s': %m", path);
	if (!S_ISREG(st.st_mode))
		return log_error_errno(-EINVAL, "refusing configuration '%s': not a regular file",
				       path);
	if (st.st_uid != 0)
		return log_error_errno(-EPERM,
				       "refusing configuration '%s': owned by uid %u, not root",
				       path, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return log_error_errno(-EPERM,
				       "refusing configuration '%s': writable by group or others "
				       "(mode %04o); chmod go-w it",
				       path, (unsigned)(st.st_mode & 07777));
	return 0;
}

int config_file_load(const char *path, struct node_config **ret)
{
	_cleanup_node_config_free_ struct node_config *c = NULL;
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	struct policy_error err = {};
	const char *p = path ? path : NODE_CONFIG_PATH;
	char msg[POLICY_MAX_PATH + POLICY_MAX_ERROR + 32];
	size_t len;
	ssize_t n;
	int r;

	/* O_NONBLOCK: a FIFO put there must not hang every run; check_owner() refuses it. */
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && !path) {
		r = node_config_new_default(AIRLOCK_STATE_DIR, AIRLOCK_RUNTIME_DIR,
					    AIRLOCK_CGROUP_PARENT, ret);
		return r < 0 ? log_oom() : 1;
	}
	if (fd < 0 && errno == ELOOP) /* O_NOFOLLOW: the path's last part is a symbolic link */
		return log_error_errno(
			-ELOOP,
			"refusing configuration '%s': a symbolic link (name the file "
			"itself)",
			p);
	if (fd < 0)
		return log_error_errno(-errno, "Failed to open configuration '%s': %m", p);
	r = check_owner(fd, p);
	if (r < 0)
		return r;
	buf = malloc(NODE_CONFIG_MAX_BYTES + 1);
	if (!buf)
		return log_oom();
	n = read_full(fd, buf, NODE_CONFIG_MAX_BYTES + 1);
	if (n < 0)
		return log_error_errno((int)n, "Failed to read configuration '%s': %m", p);
	if (n > NODE_CONFIG_MAX_BYTES)
		return log_error_errno(-EFBIG, "refusing configuration '%s': larger than %d bytes",
				       p, NODE_CONFIG_MAX_BYTES);
	len = (size_t)n;

	r = node_config_parse(buf, len, &c, &err);
	if (r == -ENOMEM)
		return log_oom();
	if (r < 0) {
		node_config_error_format(&err, msg, sizeof(msg));
		return log_error_errno(r, "%s: %s", p, msg);
	}
	if (node_config_fill_defaults(c, AIRLOCK_STATE_DIR, AIRLOCK_RUNTIME_DIR,
				      AIRLOCK_CGROUP_PARENT) < 0)
		return log_oom();
	c->path = strdup(p);
	if (!c->path)
		return log_oom();
	c->network.config_path = c->path;
	*ret = TAKE_PTR(c);
	return 0;
}
