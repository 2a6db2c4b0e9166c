/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nfnetlink_log reader for denied connection attempts (kernel side). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "cleanup.h"
#include "egress.h"
#include "fd-util.h"
#include "netns-util.h"
#include "nflog.h"

#define COPY_RANGE 128

static int send_config(int fd, uint16_t group, uint8_t family, const void *attr_data,
		       uint16_t attr_type, size_t attr_len)
{
	uint8_t buf[256] = {};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint8_t ack[256];
	ssize_t n;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	mnl_attr_put(nlh, attr_type, attr_len, attr_data);
	if (sendto(fd, buf, nlh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	n = recv(fd, ack, sizeof(ack), 0);
	if (n < 0)
		return -errno;
	nlh = (struct nlmsghdr *)ack;
	if (n >= (ssize_t)(sizeof(*nlh) + sizeof(struct nlmsgerr)) &&
	    nlh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error;
	return 0;
}

int egress_nflog_open(int netns_fd, uint16_t group)
{
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { .copy_range = htonl(COPY_RANGE),
					       .copy_mode = NFULNL_COPY_PACKET };
	uint32_t qthresh = htonl(1);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	_cleanup_close_ int fd = -EBADF;
	int r;

	fd = netns_socket(netns_fd, AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	r = send_config(fd, group, AF_UNSPEC, &cmd, NFULA_CFG_CMD, sizeof(cmd));
	if (r >= 0)
		r = send_config(fd, group, AF_UNSPEC, &mode, NFULA_CFG_MODE, sizeof(mode));
	/*
	 * Each packet at once: by default the kernel batches up to 100 of them for up to a
	 * second, and the last attempts of a run would miss its record.
	 */
	if (r >= 0)
		r = send_config(fd, group, AF_UNSPEC, &qthresh, NFULA_CFG_QTHRESH, sizeof(qthresh));
	if (r < 0)
		return r;
	r = fd_set_nonblock(fd, true);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

static bool is_ipv6_exthdr(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_FRAGMENT;
}

/*
 * IPv6 (len >= 40): the transport protocol and the offset of its header, past the extension
 * headers (hop-by-hop, routing, destination options, fragment). A truncated packet or a
 * fragment other than the first has no transport header there: SIZE_MAX.
 */
static size_t ipv6_transport(const uint8_t *pkt, size_t len, uint8_t *ret_proto)
{
	uint8_t nh = pkt[6];
	size_t o = 40;
	bool first = true;

	for (unsigned i = 0; i < 8 && is_ipv6_exthdr(nh); i++) {
		uint8_t type = nh;

		if (len < o + 8)
			break;
		if (type == IPPROTO_FRAGMENT) /* the fragment offset: 0 in the first one */
			first = first && (pkt[o + 2] << 8 | (pkt[o + 3] & 0xf8)) == 0;
		nh = pkt[o];
		o += type == IPPROTO_FRAGMENT ? 8 : ((size_t)pkt[o + 1] + 1) * 8;
	}
	*ret_proto = nh;
	return is_ipv6_exthdr(nh) || !first ? SIZE_MAX : o;
}

int egress_packet_decode(const uint8_t *pkt, size_t len, struct egress_denied *ret)
{
	struct egress_denied d = {};
	size_t l4;

	if (len < 1)
		return -EBADMSG;
	if (pkt[0] >> 4 == 4) {
		if (len < 20 || (pkt[0] & 0xf) < 5)
			return -EBADMSG;
		d.daddr.family = AF_INET;
		memcpy(d.daddr.addr, pkt + 16, 4);
		d.proto = pkt[9];
		l4 = (size_t)(pkt[0] & 0xf) * 4;
	} else if (pkt[0] >> 4 == 6) {
		if (len < 40)
			return -EBADMSG;
		d.daddr.family = AF_INET6;
		memcpy(d.daddr.addr, pkt + 24, 16);
		l4 = ipv6_transport(pkt, len, &d.proto);
	} else {
		return -EBADMSG;
	}
	if ((d.proto == IPPROTO_TCP || d.proto == IPPROTO_UDP) && l4 <= len && len - l4 >= 4)
		d.dport = (uint16_t)(pkt[l4 + 2] << 8 | pkt[l4 + 3]);
	*ret = d;
	return 0;
}

static bool prefix_is(const struct nlattr *prefix, const char *want)
{
	return prefix &&
	       strncmp(mnl_attr_get_payload(prefix), want, mnl_attr_get_payload_len(prefix)) == 0;
}

/* One NFULNL_MSG_PACKET: prefix, input interface and payload. */
static int handle_packet(const struct nlmsghdr *nlh, egress_denied_fn fn, void *userdata)
{
	const struct nlattr *a, *payload = NULL, *prefix = NULL, *indev = NULL;
	struct egress_denied d;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == NFULA_PAYLOAD)
			payload = a;
		else if (mnl_attr_get_type(a) == NFULA_PREFIX)
			prefix = a;
		else if (mnl_attr_get_type(a) == NFULA_IFINDEX_INDEV &&
			 mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			indev = a;
	}
	if (!payload || egress_packet_decode(mnl_attr_get_payload(payload),
					     mnl_attr_get_payload_len(payload), &d) < 0)
		return 0;
	d.denied_range = prefix_is(prefix, EGRESS_LOG_PREFIX_DENY_RANGE);
	d.host = prefix_is(prefix, EGRESS_LOG_PREFIX_HOST);
	d.flow_limit = prefix_is(prefix, EGRESS_LOG_PREFIX_FLOWS);
	d.indev = indev ? ntohl(mnl_attr_get_u32(indev)) : 0;
	fn(&d, userdata);
	return 1;
}

int egress_nflog_read(int fd, unsigned max_reads, egress_denied_fn fn, void *userdata)
{
	uint8_t buf[8192];
	int count = 0;

	for (unsigned reads = 0;; reads++) {
		const struct nlmsghdr *nlh;
		ssize_t n;
		int len;

		if (reads >= max_reads)
			return count; /* the rest waits for the next wakeup: others get their turn */
		n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return count;
			if (errno == ENOBUFS)
				continue; /* overrun: some packets were lost, keep reading */
			return -errno;
		}
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len))
			if (nlh->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
				count += handle_packet(nlh, fn, userdata);
	}
}
