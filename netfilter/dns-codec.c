/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "dns-codec.h"
#include "macro.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Lower-cases c when it may appear in a label; returns 0 for a forbidden character. */
static char label_char(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
		return (char)c;
	return 0;
}

/* Appends one label of n bytes at p to the text name ret (used bytes *pos). */
static int name_append_label(const uint8_t *p, size_t n, char *ret, size_t *pos)
{
	if (*pos + (*pos ? 1 : 0) + n > DNS_NAME_SIZE - 1)
		return -EBADMSG;
	if (*pos)
		ret[(*pos)++] = '.';
	for (size_t i = 0; i < n; i++) {
		char c = label_char(p[i]);

		if (!c)
			return -EBADMSG;
		ret[(*pos)++] = c;
	}
	ret[*pos] = 0;
	return 0;
}

int dns_name_decode(const uint8_t *msg, size_t len, size_t *offset, char *ret)
{
	size_t pos = 0, wire = 0, o = *offset, end = 0, limit = *offset;
	unsigned jumps = 0;
	bool jumped = false;
	int r;

	ret[0] = 0;
	for (;;) {
		uint8_t l;

		if (o >= len)
			return -EBADMSG;
		l = msg[o];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (o + 1 >= len || ++jumps > DNS_MAX_POINTERS)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | msg[o + 1];
			/* Strictly backwards from where this name started: no loops. */
			if (target >= limit)
				return -EBADMSG;
			if (!jumped)
				end = o + 2;
			jumped = true;
			limit = target;
			o = target;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG; /* 0x40/0x80: extended label types, unsupported */
		wire += 1 + l;
		if (wire > DNS_MAX_WIRE_NAME)
			return -EBADMSG;
		if (l == 0)
			break;
		if (o + 1 + l > len)
			return -EBADMSG;
		r = name_append_label(msg + o + 1, l, ret, &pos);
		if (r < 0)
			return r;
		o += 1 + l;
	}
	*offset = jumped ? end : o + 1;
	return 0;
}

bool dns_name_is_valid(const char *name)
{
	size_t n = strlen(name), label = 0;

	if (n == 0 || n > DNS_NAME_SIZE - 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!label_char((uint8_t)name[i]) || ++label > DNS_MAX_LABEL)
			return false;
	}
	return label > 0;
}

int dns_name_encode(const char *name, uint8_t *buf, size_t size)
{
	size_t o = 0;

	if (!dns_name_is_valid(name))
		return -EINVAL;
	for (const char *p = name; *p;) {
		size_t l = strcspn(p, ".");

		if (o + 1 + l >= size)
			return -ENOBUFS;
		buf[o++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++)
			buf[o++] = (uint8_t)label_char((uint8_t)p[i]);
		p += l;
		if (*p == '.')
			p++;
	}
	if (o >= size)
		return -ENOBUFS;
	buf[o++] = 0;
	return (int)o;
}

/* Reads one resource record at *o; stores it in m when it is an IN A/AAAA/CNAME. */
static int parse_rr(const uint8_t *buf, size_t len, size_t *o, struct dns_message *m)
{
	struct dns_rr rr = {};
	uint16_t class, rdlen;
	size_t rd;
	int r;

	r = dns_name_decode(buf, len, o, rr.name);
	if (r < 0)
		return r;
	if (*o + 10 > len)
		return -EBADMSG;
	rr.type = get16(buf + *o);
	class = get16(buf + *o + 2);
	rr.ttl = get32(buf + *o + 4) & 0x7fffffff; /* RFC 2181: top bit set means 0 */
	if (get32(buf + *o + 4) & 0x80000000)
		rr.ttl = 0;
	rdlen = get16(buf + *o + 8);
	rd = *o + 10;
	if (rd + rdlen > len)
		return -EBADMSG;
	*o = rd + rdlen;

	if (class != DNS_CLASS_IN || m->n_answers >= DNS_MAX_ANSWERS)
		goto skip;
	switch (rr.type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA:
		if (rdlen != (rr.type == DNS_TYPE_A ? 4 : 16))
			return -EBADMSG;
		memcpy(rr.addr, buf + rd, rdlen);
		break;
	case DNS_TYPE_CNAME:
		r = dns_name_decode(buf, len, &rd, rr.target);
		if (r < 0)
			return r;
		if (rd != *o || !rr.target[0])
			return -EBADMSG;
		break;
	default:
		goto skip;
	}
	m->answers[m->n_answers++] = rr;
	return 0;
skip:
	m->n_skipped++;
	return 0;
}

int dns_parse(const uint8_t *buf, size_t len, struct dns_message *ret)
{
	size_t o = DNS_HEADER_SIZE;
	uint16_t qd, an;
	int r;

	if (len < DNS_HEADER_SIZE || len > DNS_MAX_MESSAGE)
		return -EBADMSG;
	qd = get16(buf + 4);
	an = get16(buf + 6);
	if (qd != 1)
		return -EBADMSG;

	memset(ret, 0, offsetof(struct dns_message, answers));
	ret->n_skipped = 0; /* after the answers: not covered by the memset */
	ret->id = get16(buf);
	ret->flags = get16(buf + 2);
	r = dns_name_decode(buf, len, &o, ret->qname);
	if (r < 0)
		return r;
	if (o + 4 > len)
		return -EBADMSG;
	ret->qtype = get16(buf + o);
	ret->qclass = get16(buf + o + 2);
	o += 4;

	for (unsigned i = 0; i < an; i++) {
		r = parse_rr(buf, len, &o, ret);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Names already written, for compression: offsets into the output. */
struct name_table {
	const char *name[DNS_MAX_ANSWERS * 2 + 1];
	uint16_t offset[DNS_MAX_ANSWERS * 2 + 1];
	size_t n;
};

static int put_name(struct name_table *t, const char *name, uint8_t *buf, size_t size, size_t *o)
{
	int n;

	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->name[i], name) == 0) {
			if (*o + 2 > size)
				return -ENOBUFS;
			put16(buf + *o, 0xc000 | t->offset[i]);
			*o += 2;
			return 0;
		}
	n = dns_name_encode(name, buf + *o, size - *o);
	if (n < 0)
		return n;
	if (*o < 0x3fff && t->n < ELEMENTSOF(t->name)) {
		t->name[t->n] = name;
		t->offset[t->n++] = (uint16_t)*o;
	}
	*o += (size_t)n;
	return 0;
}

static int put_rr(struct name_table *t, const struct dns_rr *rr, uint8_t *buf, size_t size,
		  size_t *o)
{
	size_t rdlen_at;
	int r;

	r = put_name(t, rr->name, buf, size, o);
	if (r < 0)
		return r;
	if (*o + 10 > size)
		return -ENOBUFS;
	put16(buf + *o, rr->type);
	put16(buf + *o + 2, DNS_CLASS_IN);
	put32(buf + *o + 4, rr->ttl);
	rdlen_at = *o + 8;
	*o += 10;
	switch (rr->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		size_t n = rr->type == DNS_TYPE_A ? 4 : 16;

		if (*o + n > size)
			return -ENOBUFS;
		memcpy(buf + *o, rr->addr, n);
		*o += n;
		break;
	}
	case DNS_TYPE_CNAME:
		r = put_name(t, rr->target, buf, size, o);
		if (r < 0)
			return r;
		break;
	default:
		return -EINVAL;
	}
	put16(buf + rdlen_at, (uint16_t)(*o - rdlen_at - 2));
	return 0;
}

int dns_build(const struct dns_message *m, uint8_t *buf, size_t size)
{
	struct name_table t = {};
	size_t o = DNS_HEADER_SIZE;
	int r;

	if (size < DNS_HEADER_SIZE || m->n_answers > DNS_MAX_ANSWERS)
		return size < DNS_HEADER_SIZE ? -ENOBUFS : -EINVAL;
	put16(buf, m->id);
	put16(buf + 2, m->flags);
	put16(buf + 4, 1);
	put16(buf + 6, (uint16_t)m->n_answers);
	put16(buf + 8, 0);
	put16(buf + 10, 0);

	r = put_name(&t, m->qname, buf, size, &o);
	if (r < 0)
		return r;
	if (o + 4 > size)
		return -ENOBUFS;
	put16(buf + o, m->qtype);
	put16(buf + o + 2, m->qclass);
	o += 4;

	for (size_t i = 0; i < m->n_answers; i++) {
		r = put_rr(&t, &m->answers[i], buf, size, &o);
		if (r < 0)
			return r;
	}
	if (o > DNS_MAX_MESSAGE)
		return -ENOBUFS;
	return (int)o;
}

int dns_message_init_query(struct dns_message *m, uint16_t id, const char *name, uint16_t qtype)
{
	if (!dns_name_is_valid(name))
		return -EINVAL;
	memset(m, 0, offsetof(struct dns_message, answers));
	m->id = id;
	m->flags = DNS_FLAG_RD;
	strcpy(m->qname, name);
	m->qtype = qtype;
	m->qclass = DNS_CLASS_IN;
	return 0;
}

const char *dns_type_to_string(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_A:
		return "A";
	case DNS_TYPE_NS:
		return "NS";
	case DNS_TYPE_CNAME:
		return "CNAME";
	case DNS_TYPE_SOA:
		return "SOA";
	case DNS_TYPE_PTR:
		return "PTR";
	case DNS_TYPE_MX:
		return "MX";
	case DNS_TYPE_TXT:
		return "TXT";
	case DNS_TYPE_AAAA:
		return "AAAA";
	case DNS_TYPE_OPT:
		return "OPT";
	case DNS_TYPE_ANY:
		return "ANY";
	}
	return NULL;
}

const char *dns_rcode_to_string(int rcode)
{
	static const char *const names[] = { "NOERROR",	 "FORMERR", "SERVFAIL",
					     "NXDOMAIN", "NOTIMP",  "REFUSED" };

	if (rcode < 0 || (size_t)rcode >= ELEMENTSOF(names))
		return NULL;
	return names[rcode];
}

int dns_tcp_frame(const uint8_t *buf, size_t len, size_t max, size_t *ret_len)
{
	size_t n;

	if (len < 2)
		return 0;
	n = (size_t)buf[0] << 8 | buf[1];
	if (n == 0 || n > max)
		return -EMSGSIZE;
	if (len - 2 < n)
		return 0;
	*ret_len = n;
	return 1;
}
