/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A bounded DNS message codec (RFC 1035) for the egress DNS proxy. It reads exactly one
 * question and the answer section; of the answers it keeps A, AAAA and CNAME records of
 * class IN and counts the rest. Names are decoded to lower-case text without the trailing
 * dot; compression pointers must point strictly backwards, at most DNS_MAX_POINTERS of them
 * per name, and a name is at most 255 bytes on the wire. Only the characters [a-z0-9_-]
 * are accepted in labels, so a decoded name is always safe to match and to print.
 * Pure: no I/O, no allocation, no logging.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_SIZE 12
#define DNS_MAX_WIRE_NAME 255
#define DNS_NAME_SIZE 254 /* text form: at most 253 characters + NUL */
#define DNS_MAX_LABEL 63
#define DNS_MAX_POINTERS 16
#define DNS_MAX_ANSWERS 64
#define DNS_MAX_MESSAGE 65535
#define DNS_UDP_MAX_MESSAGE 512 /* without EDNS (RFC 1035 4.2.1) */

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_ANY = 255,
};

#define DNS_CLASS_IN 1

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_OPCODE 0x7800
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_RCODE 0x000f

struct dns_rr {
	char name[DNS_NAME_SIZE];
	uint16_t type; /* DNS_TYPE_A, _AAAA or _CNAME */
	uint32_t ttl;
	uint8_t addr[16]; /* A: first 4 bytes; AAAA: all 16 */
	char target[DNS_NAME_SIZE]; /* CNAME */
};

struct dns_message {
	uint16_t id;
	uint16_t flags;
	char qname[DNS_NAME_SIZE];
	uint16_t qtype;
	uint16_t qclass;
	size_t n_answers;
	struct dns_rr answers[DNS_MAX_ANSWERS];
	size_t n_skipped; /* answers of other types/classes, or beyond DNS_MAX_ANSWERS */
};

/*
 * Decodes the name at *offset of msg (len bytes) into ret (DNS_NAME_SIZE bytes; the root
 * name is ""). On success advances *offset past the name as stored at that place and
 * returns 0. Returns -EBADMSG on truncation, forward or looping pointers, bad label
 * characters or over-long names. Does not log.
 */
int dns_name_decode(const uint8_t *msg, size_t len, size_t *offset, char *ret);

/*
 * Encodes a text name (as dns_name_decode() produces, or with upper-case letters) in wire
 * form into buf (size bytes), uncompressed. Returns the number of bytes written, -EINVAL
 * for an invalid name, or -ENOBUFS.
 */
int dns_name_encode(const char *name, uint8_t *buf, size_t size);

/* Whether name is a valid text name for dns_name_encode() (1..253 chars, labels ≤ 63). */
bool dns_name_is_valid(const char *name);

/*
 * Parses a message: header, exactly one question, and the answer section (authority and
 * additional sections are ignored). Returns 0 and fills *ret, or -EBADMSG. Does not log.
 */
int dns_parse(const uint8_t *buf, size_t len, struct dns_message *ret);

/*
 * Builds a message from m (header flags as given, one question, m->n_answers answers).
 * Owner names equal to an earlier name are compressed. Returns the length written to buf
 * (size bytes), -EINVAL for a bad name or record, or -ENOBUFS.
 */
int dns_build(const struct dns_message *m, uint8_t *buf, size_t size);

/* Fills m as a recursive query for (name, qtype) with the given id. -EINVAL on a bad name. */
int dns_message_init_query(struct dns_message *m, uint16_t id, const char *name, uint16_t qtype);

static inline int dns_message_rcode(const struct dns_message *m)
{
	return m->flags & DNS_FLAG_RCODE;
}

/*
 * DNS over TCP (RFC 1035 4.2.2, RFC 7766): each message is preceded by its length, two bytes
 * in network order. Looks at the len bytes received so far on a stream: returns 1 and sets
 * *ret_len (the message starts at buf + 2) when a whole message is there, 0 when more bytes
 * are needed, or -EMSGSIZE when the announced length is 0 or over max. Pure.
 */
int dns_tcp_frame(const uint8_t *buf, size_t len, size_t max, size_t *ret_len);

/* "A", "AAAA", "CNAME", "TXT", ... or NULL for an unnamed type. */
const char *dns_type_to_string(uint16_t type);
/* "NOERROR", "NXDOMAIN", ... or NULL. */
const char *dns_rcode_to_string(int rcode);
