/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "fd-util.h"
#include "macro.h"
#include "net-sysctl.h"

static int read_flag(const char *path, bool absent_is_off)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = read_file_at(AT_FDCWD, path, 16, &s, NULL);
	if (r < 0)
		return r == -ENOENT && absent_is_off ? 0 : r;
	return s[0] == '1';
}

int net_ip_forward_enabled(void)
{
	return read_flag(NET_IP_FORWARD, false);
}

int net_ip6_forward_enabled(void)
{
	return read_flag(NET_IP6_FORWARD, true);
}

int net_ip6_default_route_parse(const char *table)
{
	const char *line = table;

	for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char dst[33], plen[3], ifname[32];
		unsigned flags;

		if (sscanf(line, "%32s %2s %*s %*s %*s %*s %*s %*s %x %31s", dst, plen, &flags,
			   ifname) != 4)
			continue;
		if (strspn(dst, "0") == 32 && streq(plen, "00") && !(flags & 0x0200 /* REJECT */) &&
		    !streq(ifname, "lo"))
			return 1;
	}
	return 0;
}

int net_host_resolver4_parse(const char *text, uint8_t ret[4])
{
	for (const char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char addr[64];

		if (sscanf(line, " nameserver %63s", addr) == 1 &&
		    inet_pton(AF_INET, addr, ret) == 1)
			return 1;
	}
	return 0;
}

int net_host_resolver4(uint8_t ret[4])
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = read_file_at(AT_FDCWD, NET_RESOLV_CONF, 64 * 1024, &s, NULL);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	return net_host_resolver4_parse(s, ret);
}
