/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd-util.h"
#include "ns-util.h"

/* Marks the namespace named by s ("net:[ino]") alive if it is one of inos. */
static void mark(const char *s, const unsigned long *inos, bool *alive, size_t n)
{
	unsigned long ino;
	char end;

	if (sscanf(s, "net:[%lu%c", &ino, &end) != 2 || end != ']')
		return;
	for (size_t i = 0; i < n; i++)
		if (inos[i] == ino)
			alive[i] = true;
}

/* Every process's network namespace. */
static int scan_processes(const unsigned long *inos, bool *alive, size_t n)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[NAME_MAX + 8], link[64];
		ssize_t len;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/ns/net", de->d_name);
		len = readlinkat(dirfd(d), path, link, sizeof(link) - 1);
		if (len <= 0)
			continue; /* gone meanwhile, or a kernel thread */
		link[len] = '\0';
		mark(link, inos, alive, n);
	}
	return 0;
}

/* nsfs bind mounts: mountinfo's fourth field is the namespace ("net:[ino]"). */
static int scan_mounts(const unsigned long *inos, bool *alive, size_t n)
{
	_cleanup_free_ char *mi = NULL;
	int r;

	r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 4 << 20, &mi, NULL);
	if (r < 0)
		return r;
	for (char *line = mi, *next; line && *line; line = next) {
		char root[256];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strstr(line, " - nsfs "))
			continue;
		if (sscanf(line, "%*s %*s %*s %255s", root) == 1)
			mark(root, inos, alive, n);
	}
	return 0;
}

int netns_in_use(const unsigned long *inos, bool *alive, size_t n)
{
	int r;

	for (size_t i = 0; i < n; i++)
		alive[i] = false;
	r = scan_processes(inos, alive, n);
	if (r >= 0)
		r = scan_mounts(inos, alive, n);
	if (r < 0)
		for (size_t i = 0; i < n; i++)
			alive[i] = true;
	return r;
}

int netns_name_in_use(const char *name)
{
	unsigned long ino;
	bool alive;
	char *end;

	if (!isdigit((unsigned char)name[0]))
		return -EINVAL;
	ino = strtoul(name, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	return netns_in_use(&ino, &alive, 1) < 0 || alive;
}
