/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "chain.h"
#include "cleanup.h"
#include "config.h"
#include "fd-util.h"
#include "macro.h"
#include "parse-util.h"
#include "sha256.h"

#define HEAD_FILE "head"
#define HEAD_MAGIC "airlock-chain-head 1\n"
#define HEAD_MAX_BYTES 1024
/* The head file's size, kept: its text, then NUL bytes (past the third line: ignored). */
#define HEAD_FILE_BYTES 512
#define RECORD_MAX_BYTES (16 * 1024 * 1024)
/* The bytes of a run id in the head file ("-" for none). */
#define RUN_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

/* After the mark: the signature object, then the record's closing brace. */
#define SIG_PREFIX "{\n    \"ed25519\": \""
#define SIG_MIDDLE "\",\n    \"key_id\": \""
#define SIG_SUFFIX "\"\n  }\n}"
#define SIG_TAIL_LEN                                                                     \
	(sizeof(CHAIN_SIGNATURE_MARK) - 1 + sizeof(SIG_PREFIX) - 1 + CHAIN_SIG_B64_LEN + \
	 sizeof(SIG_MIDDLE) - 1 + SIGN_KEY_ID_LEN + sizeof(SIG_SUFFIX) - 1)

char *chain_seal(const char *unsigned_text, const char *sig_b64, const char *key_id)
{
	size_t n = strlen(unsigned_text);
	char *out;

	assert(n >= 2 && streq(unsigned_text + n - 2, "\n}"));
	if (asprintf(&out, "%.*s" CHAIN_SIGNATURE_MARK SIG_PREFIX "%s" SIG_MIDDLE "%s" SIG_SUFFIX,
		     (int)(n - 2), unsigned_text, sig_b64, key_id) < 0)
		return NULL;
	return out;
}

static bool all_of(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return true;
}

int chain_split(const char *text, size_t len, size_t *ret_prefix_len, char *sig_b64, char *key_id)
{
	const char *p, *mark = CHAIN_SIGNATURE_MARK;
	size_t at;

	if (len < SIG_TAIL_LEN || !memmem(text, len, mark, strlen(mark)))
		return 0;
	at = len - SIG_TAIL_LEN;
	p = text + at;
	if (memcmp(p, mark, strlen(mark)) != 0)
		return -EBADMSG;
	p += strlen(mark);
	if (memcmp(p, SIG_PREFIX, strlen(SIG_PREFIX)) != 0)
		return -EBADMSG;
	p += strlen(SIG_PREFIX);
	if (!all_of(p, CHAIN_SIG_B64_LEN,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="))
		return -EBADMSG;
	memcpy(sig_b64, p, CHAIN_SIG_B64_LEN);
	sig_b64[CHAIN_SIG_B64_LEN] = '\0';
	p += CHAIN_SIG_B64_LEN;
	if (memcmp(p, SIG_MIDDLE, strlen(SIG_MIDDLE)) != 0)
		return -EBADMSG;
	p += strlen(SIG_MIDDLE);
	if (!all_of(p, SIGN_KEY_ID_LEN, "0123456789abcdef"))
		return -EBADMSG;
	memcpy(key_id, p, SIGN_KEY_ID_LEN);
	key_id[SIGN_KEY_ID_LEN] = '\0';
	p += SIGN_KEY_ID_LEN;
	if (memcmp(p, SIG_SUFFIX, strlen(SIG_SUFFIX)) != 0)
		return -EBADMSG;
	*ret_prefix_len = at;
	return 1;
}

char *chain_dsse_pae(const char *type, const void *body, size_t body_len, size_t *ret_len)
{
	size_t tl = strlen(type), n;
	char *out;
	int h;

	out = malloc(64 + tl + body_len);
	if (!out)
		return NULL;
	h = snprintf(out, 64 + tl, "DSSEv1 %zu %s %zu ", tl, type, body_len);
	n = (size_t)h;
	memcpy(out + n, body, body_len);
	*ret_len = n + body_len;
	return out;
}

int chain_lock(int state_fd, bool create)
{
	_cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;

	if (create && mkdirat(state_fd, CHAIN_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	dir_fd = openat(state_fd, CHAIN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0)
		return -errno;
	/* Read-only for a reader (flock needs no write access): verify works on a copy. */
	fd = openat(dir_fd, "lock", (create ? O_CREAT | O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return TAKE_FD(fd);
}

const char *chain_key_refused_dir(int state_fd)
{
	const char *what = NULL;

	if (sign_key_usable(state_fd, &what) != -EPERM || !what ||
	    streq(what, SIGN_KEY_DIR "/" SIGN_KEY_FILE))
		return NULL;
	return what;
}

static void head_zero(struct chain_head *h)
{
	h->seq = 0;
	memset(h->sha256, '0', CHAIN_HASH_LEN);
	h->sha256[CHAIN_HASH_LEN] = '\0';
	strcpy(h->run_id, "-");
}

/* One line "seq <N> sha256 <hex> run <id>". */
static int head_parse_line(const char *line, struct chain_head *h)
{
	char hash[CHAIN_HASH_LEN + 2], id[66];

	if (sscanf(line, "seq %" SCNu64 " sha256 %65s run %65s", &h->seq, hash, id) != 3 ||
	    strlen(hash) != CHAIN_HASH_LEN || !all_of(hash, CHAIN_HASH_LEN, "0123456789abcdef") ||
	    strlen(id) > 64 || !all_of(id, strlen(id), RUN_ID_CHARS))
		return -EBADMSG; /* what `records head` and verify print: never a control byte */
	strcpy(h->sha256, hash);
	strcpy(h->run_id, id);
	return 0;
}

int chain_read_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	fd = openat(dir_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	return read_file_fd(fd, max, ret, ret_len);
}

/* Whether <state>/records/<id>.json is the record h names (its bytes hash to h's). */
static bool head_is_written(int state_fd, const struct chain_head *h)
{
	_cleanup_free_ char *buf = NULL;
	char path[128], hex[CHAIN_HASH_LEN + 1];
	size_t len = 0;

	snprintf(path, sizeof(path), "records/%s.json", h->run_id);
	if (strchr(h->run_id, '/') ||
	    chain_read_file_at(state_fd, path, RECORD_MAX_BYTES, &buf, &len) < 0)
		return false;
	sha256_hex(buf, len, hex);
	return streq(hex, h->sha256);
}

/*
 * The head file holds the latest append (line 2) and the one before it (line 3): an
 * append writes it before the record, so a writer that died in between leaves line 2
 * naming a record that is not there (or still its "running" form), and line 3 is the head.
 */
int chain_head_read(int state_fd, struct chain_head *ret_latest, struct chain_head *ret_before)
{
	_cleanup_free_ char *buf = NULL;
	struct chain_head latest, before;
	char *l2, *l3;
	size_t len = 0;
	int r;

	r = chain_read_file_at(state_fd, CHAIN_DIR "/" HEAD_FILE, HEAD_MAX_BYTES, &buf, &len);
	if (r == -ENOENT) {
		head_zero(ret_latest);
		head_zero(ret_before);
		return 0;
	}
	if (r < 0)
		return r;
	if (!strneq(buf, HEAD_MAGIC, strlen(HEAD_MAGIC)))
		return -EBADMSG;
	l2 = buf + strlen(HEAD_MAGIC);
	l3 = strchr(l2, '\n');
	if (!l3 || head_parse_line(l2, &latest) < 0)
		return -EBADMSG;
	l3++;
	if (strneq(l3, "-\n", 2))
		head_zero(&before);
	else if (head_parse_line(l3, &before) < 0)
		return -EBADMSG;
	*ret_latest = latest;
	*ret_before = before;
	return 0;
}

int chain_head_get(int state_fd, struct chain_head *ret)
{
	struct chain_head latest, before;
	int r;

	r = chain_head_read(state_fd, &latest, &before);
	if (r < 0)
		return r;
	*ret = latest.seq == 0 || head_is_written(state_fd, &latest) ? latest : before;
	return 0;
}

/*
 * A head file shorter than HEAD_FILE_BYTES (the first head's, or one an older airlock cut
 * to its text) grown to it, its blocks allocated, before the first write in place: the
 * growth adds only NUL bytes past the third line, which a reader ignores, so a failure
 * here leaves the old head whole.
 */
static int head_grow(int fd, off_t size)
{
	static const char zeros[HEAD_FILE_BYTES];
	ssize_t n;

	if (size >= HEAD_FILE_BYTES)
		return 0;
	if (fallocate(fd, 0, 0, HEAD_FILE_BYTES) < 0) {
		if (errno != EOPNOTSUPP)
			return -errno;
		/* No fallocate here: NUL bytes written past the text, never over it. */
		n = pwrite(fd, zeros, (size_t)(HEAD_FILE_BYTES - size), size);
		if (n < 0)
			return -errno;
		if (n != HEAD_FILE_BYTES - size)
			return -EIO;
	}
	return fdatasync(fd) < 0 ? -errno : 0; /* the size made, before any write relies on it */
}

/*
 * The head is rewritten in place, under the chain lock: one write of HEAD_FILE_BYTES (the
 * text and NUL bytes) over the file's first sector, allocated when the file was made (or
 * grown, head_grow()), so the write never extends the file and never needs a block: no
 * ENOSPC, no short write that leaves a torn head. Replacing it through a new file and a
 * rename cost about 1.4 ms per run on ext4 (the rename over a file starts the new one's
 * writeback), a pwrite 40 us. A reader without the lock may read a half-written head (an
 * error, never a wrong head: the lines are checked); a crash leaves the old bytes or the
 * new ones, and bytes past the third line are ignored.
 */
static int head_write(int state_fd, const struct chain_head *latest,
		      const struct chain_head *before)
{
	_cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;
	char text[HEAD_FILE_BYTES] = "";
	struct stat st;
	ssize_t n;
	int r;

	dir_fd = openat(state_fd, CHAIN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0)
		return -errno;
	snprintf(text, sizeof(text), HEAD_MAGIC "seq %" PRIu64 " sha256 %s run %s\n", latest->seq,
		 latest->sha256, latest->run_id);
	if (before->seq == 0)
		strcat(text, "-\n");
	else
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "seq %" PRIu64 " sha256 %s run %s\n", before->seq, before->sha256,
			 before->run_id);
	fd = openat(dir_fd, HEAD_FILE, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) { /* the first: whole or not there, grown at the next */
		r = write_file_whole_at(dir_fd, HEAD_FILE, text, 0600, false);
		if (r < 0)
			return r;
		fd = openat(dir_fd, HEAD_FILE, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		return fd < 0 ? 0 : head_grow(fd, (off_t)strlen(text));
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return -EBADMSG; /* read as a corrupt head: the same refusal */
	r = head_grow(fd, st.st_size);
	if (r < 0)
		return r;
	n = pwrite(fd, text, sizeof(text), 0);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(text))
		return -EIO;
	/* Bytes past HEAD_FILE_BYTES (not ours: appended by hand) go; a cut allocates nothing. */
	if (st.st_size > HEAD_FILE_BYTES && ftruncate(fd, HEAD_FILE_BYTES) < 0)
		return -errno;
	/* As far on its way to the disk as the record after it (docs/run-record.md). */
	if (AIRLOCK_RECORD_SYNC_FULL && fdatasync(fd) < 0)
		return -errno;
	if (!AIRLOCK_RECORD_SYNC_FULL)
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

/* The record's text with its "chain" member for the record after prev, signed. */
static char *seal_record(json_t *o, const struct chain_head *prev, const struct sign_key *key)
{
	_cleanup_free_ char *text = NULL;
	uint8_t sig[SIGN_SIGNATURE_SIZE];
	char b64[BASE64_LEN(SIGN_SIGNATURE_SIZE) + 1];
	json_t *c;

	c = json_pack("{s:I, s:s}", "seq", (json_int_t)(prev->seq + 1), "prev_sha256",
		      prev->sha256);
	if (!c || json_object_set_new(o, "chain", c) < 0)
		return NULL;
	(void)json_object_del(o, "signature");
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return NULL;
	if (sign_data(key, text, strlen(text), sig) < 0)
		return NULL;
	base64_encode(sig, sizeof(sig), b64);
	return chain_seal(text, b64, sign_key_id(key));
}

int chain_append(int state_fd, json_t *o, chain_write_fn write, void *userdata, char **ret_text,
		 struct chain_head *ret_head)
{
	_cleanup_close_ int lock_fd = -EBADF;
	_cleanup_free_ char *text = NULL;
	const struct sign_key *key = NULL;
	struct chain_head prev, next;
	const char *id = json_string_value(json_object_get(o, "run_id"));
	int r;

	if (!id || !*id || strlen(id) > 64 || !all_of(id, strlen(id), RUN_ID_CHARS))
		return -EINVAL; /* the head file could not name it */
	r = sign_key_get(state_fd, &key);
	if (r < 0)
		return r;
	lock_fd = chain_lock(state_fd, true);
	if (lock_fd < 0)
		return lock_fd;
	/* Rotated out since it was loaded (under this lock): the new node key signs. */
	if (sign_key_retired(state_fd, key)) {
		r = sign_key_reload(state_fd, &key);
		if (r < 0)
			return r;
	}
	r = chain_head_get(state_fd, &prev);
	if (r < 0)
		return r;
	text = seal_record(o, &prev, key);
	if (!text)
		return -ENOMEM;
	next.seq = prev.seq + 1;
	sha256_hex(text, strlen(text), next.sha256);
	strcpy(next.run_id, id);
	r = head_write(state_fd, &next, &prev);
	if (r < 0)
		return r;
	r = write(text, userdata);
	if (r < 0)
		return r;
	*ret_text = TAKE_PTR(text);
	*ret_head = next;
	return 0;
}
