/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "chain.h"
#include "cleanup.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "sha256-lib.h"
#include "sha256.h"
#include "run-events.h"
#include "verify-head.h"
#include "verify.h"

#define RECORD_MAX_BYTES (16 * 1024 * 1024)

/* A problem's line, and where it goes: the seq of its record (0: unknown), UINT64_MAX after. */
struct problem_line {
	uint64_t key;
	size_t order;
	char *text;
};

struct scan {
	const struct verify_key *keys;
	size_t n_keys;
	uint64_t since;
	bool logs; /* --logs: the captured logs' digests too */
	int state_fd;
	struct verify_entry *entries;
	size_t n, cap;
	size_t problems, running;
	struct problem_line *lines; /* printed at the end, in the records' order */
	size_t n_lines, cap_lines;
};

void verify_fputs_escaped(const char *text, FILE *f)
{
	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		if (*c < 0x20 || *c >= 0x7f || *c == '\\')
			fprintf(f, "\\x%02x", *c);
		else
			fputc(*c, f);
}

/*
 * Prints one problem on one line. The names in it (file names, run ids, the head's) come
 * from files anyone who could change the records could write: control bytes, newlines and
 * bytes past ASCII are printed as "\xHH", so that a name can neither act on the auditor's
 * terminal nor print a line of its own.
 */
_printf_(2, 3) static void problem(struct scan *s, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	s->problems++;
	if (n >= 0 && s->n_lines == s->cap_lines) {
		size_t cap = s->cap_lines ? s->cap_lines * 2 : 64;
		struct problem_line *l = reallocarray(s->lines, cap, sizeof(*l));

		if (l) {
			s->lines = l;
			s->cap_lines = cap;
		}
	}
	if (n < 0 || s->n_lines == s->cap_lines) { /* out of memory: said now, unsorted */
		fputs("verify: ", stdout);
		verify_fputs_escaped(n < 0 ? "(out of memory)" : text, stdout);
		putchar('\n');
		return;
	}
	s->lines[s->n_lines] = (struct problem_line){ UINT64_MAX, s->n_lines, TAKE_PTR(text) };
	s->n_lines++;
}

static int line_cmp(const void *a, const void *b)
{
	const struct problem_line *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The problems found, by record seq, then as found; each one line, escaped. */
static void print_problems(struct scan *s)
{
	if (s->n_lines > 1) /* qsort() takes no NULL, even for none */
		qsort(s->lines, s->n_lines, sizeof(*s->lines), line_cmp);
	for (size_t i = 0; i < s->n_lines; i++) {
		fputs("verify: ", stdout);
		verify_fputs_escaped(s->lines[i].text, stdout);
		putchar('\n');
		free(s->lines[i].text);
	}
	free(s->lines);
	s->lines = NULL;
	s->n_lines = s->cap_lines = 0;
}

static int add_key(struct verify_key **keys, size_t *n, const uint8_t pub[SIGN_PUBLIC_SIZE])
{
	struct verify_key *k = realloc(*keys, (*n + 1) * sizeof(**keys));

	if (!k)
		return -ENOMEM;
	*keys = k;
	k[*n] = (struct verify_key){};
	memcpy(k[*n].pub, pub, SIGN_PUBLIC_SIZE);
	sign_key_id_of(pub, k[*n].id);
	(*n)++;
	return 0;
}

/* Every public key PEM block of a file. */
static int load_pem_file(int dir_fd, const char *path, struct verify_key **keys, size_t *n)
{
	_cleanup_free_ char *buf = NULL;
	uint8_t pub[SIGN_PUBLIC_SIZE];
	const char *pos;
	size_t len = 0, before = *n;
	int r;

	/* --pubkey may be a pipe (<(airlock records pubkey)); a keyring file is regular. */
	r = dir_fd == AT_FDCWD ? read_file_at(dir_fd, path, 1024 * 1024, &buf, &len)
			       : chain_read_file_at(dir_fd, path, 1024 * 1024, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "Failed to read public key file '%s': %m", path);
	pos = buf;
	while ((r = sign_parse_public_pem(&pos, pub)) > 0)
		if (add_key(keys, n, pub) < 0)
			return log_oom();
	if (r < 0 || *n == before)
		return log_error_errno(-ENOKEY, "'%s' holds no Ed25519 public key (PEM)", path);
	return 0;
}

/*
 * The retirement marks of the keyring (`records rotate-key`: "<id>.retired" holding
 * "seq N") onto the keys of that id. A keyring that is not there (a copy without it) has
 * none; a mark that does not read is one line, and the key taken as retired after seq 0.
 */
static void load_retired(const char *state_dir, struct verify_key *keys, size_t n)
{
	char dir[PATH_MAX], name[SIGN_KEY_ID_LEN + sizeof(SIGN_RETIRED_SUFFIX)];
	_cleanup_close_ int fd = -EBADF;

	snprintf(dir, sizeof(dir), "%s/" SIGN_KEY_DIR "/" SIGN_TRUSTED_DIR, state_dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; fd >= 0 && i < n; i++) {
		_cleanup_free_ char *buf = NULL;
		uint64_t seq = 0;
		int r;

		snprintf(name, sizeof(name), "%s" SIGN_RETIRED_SUFFIX, keys[i].id);
		r = chain_read_file_at(fd, name, 64, &buf, NULL);
		if (r == -ENOENT)
			continue;
		if (r < 0 || sscanf(buf, "seq %" SCNu64 "\n", &seq) != 1)
			log_warning("'%s/%s': not a retirement mark (\"seq N\"): key %s taken as "
				    "retired before any record",
				    dir, name, keys[i].id);
		keys[i].retired = true;
		keys[i].retired_after = r < 0 ? 0 : seq;
	}
}

static int load_keys(const char *state_dir, const char *pubkey_file, struct verify_key **ret)
{
	_cleanup_free_ struct verify_key *keys = NULL;
	char dir[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	int r = 0, fd;
	DIR *d;

	if (pubkey_file) {
		r = load_pem_file(AT_FDCWD, pubkey_file, &keys, &n);
		if (r < 0)
			return r;
		*ret = TAKE_PTR(keys);
		return (int)n;
	}
	snprintf(dir, sizeof(dir), "%s/" SIGN_KEY_DIR "/" SIGN_TRUSTED_DIR, state_dir);
	d = opendir(dir);
	/* A state directory that is not there is named as head and pubkey name it. */
	if (!d && errno == ENOENT && access(state_dir, F_OK) < 0)
		return log_error_errno(-errno, "Failed to open state directory '%s': %m",
				       state_dir);
	if (!d && errno == ENOENT)
		return log_error_errno(-ENOKEY,
				       "no keyring '%s': no signed record was ever written there "
				       "(or pass --pubkey FILE)",
				       dir);
	if (!d)
		return log_error_errno(-errno, "Failed to open keyring '%s': %m", dir);
	fd = dirfd(d);
	while (r >= 0 && (de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] != '.' && l > 4 && streq(de->d_name + l - 4, ".pem"))
			r = load_pem_file(fd, de->d_name, &keys, &n);
	}
	closedir(d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(keys);
	return (int)n;
}

int verify_load_keys(const char *state_dir, const char *pubkey_file, struct verify_key **ret)
{
	int n = load_keys(state_dir, pubkey_file, ret);

	if (n > 0)
		load_retired(state_dir, *ret, (size_t)n);
	return n;
}

static const struct verify_key *find_key(const struct scan *s, const char *id)
{
	for (size_t i = 0; i < s->n_keys; i++)
		if (streq(s->keys[i].id, id))
			return &s->keys[i];
	return NULL;
}

/* A file without a signature member: a run in progress, or a record that is not chained. */
static void check_unsigned(struct scan *s, const char *name, const char *buf, size_t len)
{
	_cleanup_(json_decrefp) json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	const char *cause = json_string_value(json_object_get(json_object_get(o, "exit"), "cause"));

	if (cause && streq(cause, "running") && !json_object_get(o, "chain")) {
		s->running++;
		return;
	}
	problem(s, "record %s: not signed (no signature member): written by hand, or changed",
		name);
}

/* A record or event log: libcrypto's SHA-256 (loaded for the signatures anyway: about 5x ours), else ours. */
static void hash_bytes(const char *buf, size_t len, uint8_t d[SHA256_DIGEST_SIZE])
{
	void *ctx = sha256_lib_new();

	if (ctx && !sha256_lib_update(ctx, buf, len))
		ctx = (sha256_lib_free(ctx), NULL);
	if (ctx && sha256_lib_final(ctx, d))
		return;
	sha256(buf, len, d);
}

/* Why a file could not be read, for a problem line. */
static const char *read_error(int r)
{
	return r == -EBADFD ? "not a regular file" : strerror(-r);
}

struct events_ctx {
	struct scan *s;
	const char *name;
};

static void events_problem(const struct run_events_problem *p, void *userdata)
{
	struct events_ctx *c = userdata;

	if (p->line > 0)
		problem(c->s, "record %s: its event log, line %zu: %s", c->name, p->line, p->what);
	else
		problem(c->s, "record %s: its event log: %s", c->name, p->what);
}

/*
 * The event log of a signed record against what the record says of it (events.sha256 of
 * the whole file, events.head and events.lines): a line removed, changed or added shows
 * here, and the lines are named. A record whose log could not be written (events.error)
 * or that has none is not looked into.
 */
static void check_events(struct scan *s, const char *name, const char *id, const json_t *ev)
{
	_cleanup_free_ char *buf = NULL;
	struct events_ctx c = { s, name };
	struct run_events_expect x = {};
	char path[NAME_MAX + 16], hex[CHAIN_HASH_LEN + 1];
	const char *want = json_string_value(json_object_get(ev, "sha256"));
	uint8_t d[SHA256_DIGEST_SIZE];
	size_t len = 0, n;
	int r;

	if (!ev || json_object_get(ev, "error"))
		return;
	snprintf(path, sizeof(path), RUN_EVENTS_DIR "/%s.jsonl", id);
	r = chain_read_file_at(s->state_fd, path, RUN_EVENTS_MAX_BYTES, &buf, &len);
	if (r < 0) {
		problem(s, "record %s: its event log %s: %s", name, path,
			r == -ENOENT ? "missing (deleted)" : read_error(r));
		return;
	}
	hash_bytes(buf, len, d);
	hex_encode(d, sizeof(d), hex);
	if (want && streq(want, hex))
		return;
	x.head = json_string_value(json_object_get(ev, "head"));
	x.has_lines = json_is_integer(json_object_get(ev, "lines"));
	x.lines = x.has_lines ? (uint64_t)json_integer_value(json_object_get(ev, "lines")) : 0;
	n = run_events_verify(buf, len, id, &x, 8, events_problem, &c);
	if (n == 0)
		problem(s, "record %s: its event log %s: changed (its sha256 is not the record's)",
			name, path);
	else if (n > 8)
		problem(s, "record %s: its event log: %zu more problems", name, n - 8);
}

/*
 * What follows the top-level member key of jansson's 2-space dump, which airlock signs
 * ("\n  \"key\": ": a raw newline is never inside a JSON string, and only top-level
 * members are indented by two); NULL when absent or there twice.
 */
static const char *member(const char *t, size_t len, const char *key)
{
	const char *p = memmem(t, len, key, strlen(key));

	if (!p)
		return NULL;
	p += strlen(key);
	return memmem(p, len - (size_t)(p - t), key, strlen(key)) ? NULL : p;
}

/* Skips the literal s at *p. */
static bool skip(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

/*
 * The chained fields read straight from the signed bytes as airlock writes them, without
 * parsing all of the record (jansson's parse was a third of verify's time). false when the
 * layout is any other: the caller then parses it. Only the layout airlock signs matches,
 * so a record it matches reads the same as parsed (and a text it matches that is not
 * valid JSON cannot carry the node's signature, nor be the previous record's hash).
 */
static bool read_chained_fast(const char *t, size_t len, struct verify_entry *e, char *id,
			      size_t id_max)
{
	const char *end = t + len, *p, *q;
	uint64_t seq = 0;
	size_t n = 0;

	p = member(t, len, "\n  \"chain\": ");
	if (!p || !skip(&p, end, "{\n    \"prev_sha256\": \"") || end - p < CHAIN_HASH_LEN)
		return false;
	for (q = p; q < p + CHAIN_HASH_LEN; q++)
		if (!strchr("0123456789abcdef", *q) || !*q)
			return false;
	memcpy(e->prev, p, CHAIN_HASH_LEN);
	e->prev[CHAIN_HASH_LEN] = '\0';
	p += CHAIN_HASH_LEN;
	if (!skip(&p, end, "\",\n    \"seq\": ") || p == end || *p < '1' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9' && n < 18; p++, n++)
		seq = seq * 10 + (uint64_t)(*p - '0');
	if (!skip(&p, end, "\n  }"))
		return false;
	p = member(t, len, "\n  \"run_id\": \"");
	if (!p)
		return false;
	for (n = 0; p + n < end && p[n] != '"'; n++)
		if (n + 1 >= id_max ||
		    !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-_.",
			    p[n]) ||
		    !p[n])
			return false;
	if (p + n == end)
		return false;
	memcpy(id, p, n);
	id[n] = '\0';
	e->seq = seq;
	return true;
}

/* The same fields parsed, for a record in any other layout: the problem it has, named. */
static int read_chained_parsed(const char *t, size_t len, struct verify_entry *e, char *id,
			       size_t id_max)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	const char *i = NULL, *prev = NULL;
	json_int_t seq = -1;

	o = json_loadb(t, len, JSON_REJECT_DUPLICATES, NULL);
	if (!o ||
	    json_unpack(o, "{s:s, s:{s:I, s:s}}", "run_id", &i, "chain", "seq", &seq, "prev_sha256",
			&prev) < 0 ||
	    seq < 1 || strlen(prev) != CHAIN_HASH_LEN)
		return -EBADMSG;
	e->seq = (uint64_t)seq;
	strcpy(e->prev, prev);
	snprintf(id, id_max, "%s", i);
	return 0;
}

/*
 * The record's top-level member key ("\n  \"events\": "): in airlock's layout, parsed alone
 * (the rest of the record is not); else from the whole record parsed. NULL when it has none.
 */
static json_t *member_of(const char *t, size_t len, bool fast, const char *key)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	char mark[64];
	const char *p;

	if (fast) {
		snprintf(mark, sizeof(mark), "\n  \"%s\": ", key);
		p = member(t, len, mark);
		return p ? json_loadb(p, len - (size_t)(p - t),
				      JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, NULL)
			 : NULL;
	}
	o = json_loadb(t, len, JSON_REJECT_DUPLICATES, NULL);
	return json_incref(json_object_get(o, key));
}

/* --logs: the record's captured logs against the sizes and digests it holds. */
static void check_logs(struct scan *s, const char *name, const char *id, const json_t *logs)
{
	static const char *const streams[] = { "stdout", "stderr" };
	char why[NAME_MAX + 256];

	for (size_t i = 0; i < ELEMENTSOF(streams); i++)
		if (verify_log(s->state_fd, id, streams[i], json_object_get(logs, streams[i]), why,
			       sizeof(why)) > 0)
			problem(s, "record %s: %s", name, why);
}

/* What happened to the running record of an aborted one (exit.reason, record.c). */
static const struct {
	const char *reason, *text;
} running_reasons[] = {
	{ "running_record_changed", "was changed in the state directory before it was marked "
				    "aborted: its fields are not airlock's" },
	{ "running_record_missing", "was deleted from the state directory before it was marked "
				    "aborted: this record is the copy its run lock kept" },
	{ "running_record_unreadable",
	  "was replaced in the state directory by what is not a run record before it was marked "
	  "aborted: this record is the copy its run lock kept" },
};

/*
 * An aborted record whose running record was changed, deleted or replaced while its run
 * lived: the start that marked it signed it, but said so.
 */
static void check_running_reason(struct scan *s, const char *name, uint64_t seq,
				 const char *signed_text, size_t len, bool fast)
{
	_cleanup_(json_decrefp) json_t *exit_o = member_of(signed_text, len, fast, "exit");
	const char *reason = json_string_value(json_object_get(exit_o, "reason"));

	for (size_t i = 0; reason && i < ELEMENTSOF(running_reasons); i++)
		if (streq(reason, running_reasons[i].reason))
			problem(s, "record %s (seq %" PRIu64 "): its running record %s", name, seq,
				running_reasons[i].text);
}

/* The chained fields of the signed bytes, and the file name they must match. */
static int read_signed(struct scan *s, const char *name, const char *signed_text, size_t len,
		       struct verify_entry *e)
{
	char id[NAME_MAX + 1], want[NAME_MAX + 8];
	_cleanup_(json_decrefp) json_t *events = NULL;
	bool fast = read_chained_fast(signed_text, len, e, id, sizeof(id));

	if (!fast && read_chained_parsed(signed_text, len, e, id, sizeof(id)) < 0) {
		problem(s, "record %s: changed: its signed part is not a chained record", name);
		return -EBADMSG;
	}
	snprintf(want, sizeof(want), "%s.json", id);
	if (!streq(want, name))
		problem(s, "record %s (seq %" PRIu64 "): holds run %s: moved or swapped", name,
			e->seq, id);
	else if (e->seq >= s->since) {
		check_running_reason(s, name, e->seq, signed_text, len, fast);
		events = member_of(signed_text, len, fast, "events");
		check_events(s, name, id, events);
		if (s->logs) {
			_cleanup_(json_decrefp) json_t *logs =
				member_of(signed_text, len, fast, "logs");

			check_logs(s, name, id, logs);
		}
	}
	return 0;
}

static void check_signature(struct scan *s, const struct verify_entry *e, const char *signed_text,
			    size_t len, const char *sig_b64, const char *key_id)
{
	const struct verify_key *k = find_key(s, key_id);
	uint8_t sig[SIGN_SIGNATURE_SIZE];
	int r;

	if (!k) {
		problem(s, "record %s (seq %" PRIu64 "): unknown key %s", e->name, e->seq, key_id);
		return;
	}
	if (k->retired && e->seq > k->retired_after)
		problem(s,
			"record %s (seq %" PRIu64 "): signed by key %s after it was retired "
			"(after seq %" PRIu64 ")",
			e->name, e->seq, key_id, k->retired_after);
	if (base64_decode(sig_b64, strlen(sig_b64), sig, sizeof(sig)) != sizeof(sig))
		r = 0;
	else
		r = sign_verify(k->pub, signed_text, len, sig);
	if (r == 0)
		problem(s, "record %s (seq %" PRIu64 "): bad signature: changed since signed",
			e->name, e->seq);
	else if (r < 0)
		problem(s, "record %s: cannot check its signature: %s", e->name, strerror(-r));
}

int verify_record_signature(const char *buf, size_t len, const struct verify_key *keys,
			    size_t n_keys)
{
	_cleanup_free_ char *signed_text = NULL;
	char sig_b64[CHAIN_SIG_B64_LEN + 1], key_id[SIGN_KEY_ID_LEN + 1];
	uint8_t sig[SIGN_SIGNATURE_SIZE];
	const struct verify_key *k = NULL;
	size_t prefix = 0;

	if (chain_split(buf, len, &prefix, sig_b64, key_id) <= 0)
		return 0;
	for (size_t i = 0; !k && i < n_keys; i++)
		if (streq(keys[i].id, key_id))
			k = &keys[i];
	if (!k || base64_decode(sig_b64, strlen(sig_b64), sig, sizeof(sig)) != sizeof(sig))
		return 0;
	signed_text = malloc(prefix + 3);
	if (!signed_text)
		return -ENOMEM;
	memcpy(signed_text, buf, prefix);
	memcpy(signed_text + prefix, "\n}", 3);
	return sign_verify(k->pub, signed_text, prefix + 2, sig);
}

static int check_file(struct scan *s, int dir_fd, const char *name)
{
	_cleanup_free_ char *buf = NULL, *signed_text = NULL;
	char sig_b64[CHAIN_SIG_B64_LEN + 1], key_id[SIGN_KEY_ID_LEN + 1];
	uint8_t d[SHA256_DIGEST_SIZE];
	struct verify_entry e = {};
	size_t len = 0, prefix = 0;
	int r;

	r = chain_read_file_at(dir_fd, name, RECORD_MAX_BYTES, &buf, &len);
	if (r < 0) {
		problem(s, "record %s: unreadable: %s", name, read_error(r));
		return 0;
	}
	r = chain_split(buf, len, &prefix, sig_b64, key_id);
	if (r == 0) {
		check_unsigned(s, name, buf, len);
		return 0;
	}
	if (r < 0) {
		problem(s, "record %s: changed: its signature member is malformed", name);
		return 0;
	}
	/* The signed bytes: all before the signature member, then the closing "\n}". */
	signed_text = malloc(prefix + 3);
	if (!signed_text)
		return -ENOMEM;
	memcpy(signed_text, buf, prefix);
	memcpy(signed_text + prefix, "\n}", 3);
	strcpy(e.name, name);
	if (read_signed(s, name, signed_text, prefix + 2, &e) < 0)
		return 0;
	if (e.seq >= s->since)
		check_signature(s, &e, signed_text, prefix + 2, sig_b64, key_id);
	hash_bytes(buf, len, d);
	hex_encode(d, sizeof(d), e.sha256);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct verify_entry *n = reallocarray(s->entries, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->entries = n;
		s->cap = cap;
	}
	s->entries[s->n++] = e;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct verify_entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : strcmp(x->name, y->name);
}

/*
 * Sequence gaps, duplicates and broken links, over the entries sorted by seq. With --since
 * SEQ, from SEQ-1 on: the record verified last time must still be there for SEQ's link to
 * it to be checked (a chain cut back to before it shows too).
 */
static void check_links(struct scan *s)
{
	const uint64_t from = s->since > 1 ? s->since - 1 : 1;
	const struct verify_entry *p = NULL;

	for (size_t i = 0; i < s->n; i++) {
		const struct verify_entry *e = &s->entries[i];
		uint64_t want = MAX(p ? p->seq + 1 : 1, from);

		if (e->seq < s->since) {
			p = e; /* before --since: only the link of the next one */
			continue;
		}
		if (p && e->seq == p->seq)
			problem(s, "record %s (seq %" PRIu64 "): seq taken twice, also by %s",
				e->name, e->seq, p->name);
		else if (e->seq == want + 1)
			problem(s, "seq %" PRIu64 ": missing (before record %s)", want, e->name);
		else if (e->seq > want)
			problem(s, "seq %" PRIu64 "..%" PRIu64 ": missing (before record %s)", want,
				e->seq - 1, e->name);
		else if (p && e->seq == p->seq + 1 && !streq(e->prev, p->sha256))
			problem(s,
				"record %s (seq %" PRIu64 "): prev_sha256 is not record %s (seq "
				"%" PRIu64 "): reordered, replaced or changed",
				e->name, e->seq, p->name, p->seq);
		p = e;
	}
	if (s->since > 1 && p && p->seq < from)
		problem(s,
			"seq %" PRIu64 ": missing (--since %" PRIu64
			"; the last record is %s, seq %" PRIu64 ")",
			from, s->since, p->name, p->seq);
	else if (s->since > 1 && !p)
		problem(s, "seq %" PRIu64 ": missing (--since %" PRIu64 "; there is no record)",
			from, s->since);
}

static void head_problem(const char *text, void *userdata)
{
	problem(userdata, "%s", text);
}

/* The head as written, read under the chain lock: never one half-appended. */
static int read_head(int state_fd, struct chain_head *ret, struct chain_head *ret_before)
{
	_cleanup_close_ int lock = -EBADF;

	/* No lock file (nothing was ever appended), or one we may not open: a copy, unlocked. */
	lock = chain_lock(state_fd, false);
	return chain_head_read(state_fd, ret, ret_before);
}

/*
 * The head read before the records against them. Records after it are read against the
 * head read again: appends meanwhile wrote it first (and the first append may have made it).
 */
static void check_head(struct scan *s, struct chain_head *head, struct chain_head *before)
{
	struct chain_head now, now_before;
	uint64_t now_seq = head->seq;

	if (s->n > 0 && s->entries[s->n - 1].seq > head->seq &&
	    read_head(s->state_fd, &now, &now_before) == 0) {
		if (head->seq == 0) {
			*head = now;
			*before = now_before;
		}
		now_seq = now.seq;
	}
	verify_head(head, before, s->entries, s->n, now_seq, head_problem, s);
}

static int is_record_name(const struct dirent *de)
{
	size_t l = strlen(de->d_name);

	return de->d_name[0] != '.' && l >= 6 && streq(de->d_name + l - 5, ".json");
}

/* The records in name order (a run id starts with its start time): problems in time order. */
static int scan_dir(struct scan *s, const char *dir)
{
	_cleanup_close_ int fd = -EBADF;
	struct dirent **names = NULL;
	int n, r = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(-errno, "Failed to open '%s': %m", dir);
	n = scandirat(fd, ".", &names, is_record_name, alphasort);
	if (n < 0)
		return log_error_errno(-errno, "Failed to read '%s': %m", dir);
	for (int i = 0; i < n; i++) {
		size_t first = s->n_lines, had = s->n;

		if (r >= 0)
			r = check_file(s, fd, names[i]->d_name);
		for (size_t k = first; k < s->n_lines; k++) /* its lines go where its seq is */
			s->lines[k].key = s->n > had ? s->entries[s->n - 1].seq : 0;
		free(names[i]);
	}
	free(names);
	return r < 0 ? log_oom() : 0;
}

/*
 * The summary names only the records whose signatures were checked: with --since SEQ, those
 * from SEQ on (of SEQ-1 only its link to SEQ), never the earlier ones.
 */
static void print_verified(const struct scan *s, const struct chain_head *head)
{
	size_t i = 0;

	while (i < s->n && s->entries[i].seq < s->since)
		i++;
	if (i < s->n)
		printf("verified %zu record%s (seq %" PRIu64 "..%" PRIu64 ")", s->n - i,
		       s->n - i == 1 ? "" : "s", s->entries[i].seq, s->entries[s->n - 1].seq);
	else if (s->since > 1)
		printf("verified 0 records (none from seq %" PRIu64 " on)", s->since);
	else
		printf("verified 0 records (seq 0..0)");
	printf(", %zu in progress; head seq %" PRIu64 " sha256 %s\n", s->running, head->seq,
	       head->sha256);
}

int verify_records(const char *state_dir, const struct verify_key *keys, size_t n_keys,
		   uint64_t since, bool logs)
{
	struct scan s = {
		.keys = keys, .n_keys = n_keys, .since = since, .logs = logs, .state_fd = -EBADF
	};
	_cleanup_close_ int state_fd = -EBADF;
	struct chain_head head = {}, before = {};
	char dir[PATH_MAX];
	bool head_bad;
	int r;

	state_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (state_fd < 0)
		return log_error_errno(-errno, "Failed to open state directory '%s': %m",
				       state_dir);
	/* Read first: records appended while we scan come after it and are not missing. */
	r = read_head(state_fd, &head, &before);
	head_bad = r == -EBADMSG; /* edited: named below, and the records checked all the same */
	if (r < 0 && !head_bad)
		return log_error_errno(r, "Failed to read '%s/" CHAIN_DIR "/head': %s", state_dir,
				       read_error(r));
	snprintf(dir, sizeof(dir), "%s/records", state_dir);
	s.state_fd = state_fd;
	r = scan_dir(&s, dir);
	if (r < 0) {
		print_problems(&s);
		free(s.entries);
		return r;
	}
	if (s.n > 1)
		qsort(s.entries, s.n, sizeof(*s.entries), entry_cmp);
	check_links(&s);
	if (head_bad)
		problem(&s, CHAIN_DIR
			"/head: changed: not a head airlock writes (\"airlock-chain-head "
			"1\", then two lines \"seq N sha256 HEX run ID\"): records removed from "
			"the end cannot be seen");
	else
		check_head(&s, &head, &before);
	print_problems(&s);
	if (s.problems == 0)
		print_verified(&s, &head);
	else
		printf("%zu problem%s in %zu record%s\n", s.problems, s.problems == 1 ? "" : "s",
		       s.n, s.n == 1 ? "" : "s");
	free(s.entries);
	return (int)s.problems;
}
