/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "chain.h"
#include "cleanup.h"
#include "export.h"
#include "in-toto.h"
#include "fd-util.h"
#include "log.h"
#include "macro.h"
#include "parse-util.h"
#include "record-json.h"
#include "sha256.h"
#include "sign.h"
#include "verify.h"

#define RECORD_MAX_BYTES (16 * 1024 * 1024)
/* The largest export manifest read: 100 000 entries of a few hundred bytes each. */
#define MANIFEST_MAX_BYTES (256 * 1024 * 1024)

/* The hex SHA-256 of a regular file below state_fd: 1, 0 when there is none, or -errno. */
static int file_digest(int state_fd, const char *path, char hex[CHAIN_HASH_LEN + 1])
{
	_cleanup_close_ int fd = -EBADF;
	uint8_t buf[65536], d[SHA256_DIGEST_SIZE];
	struct sha256 h;
	struct stat st;
	ssize_t n;

	fd = openat(state_fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		sha256_update(&h, buf, (size_t)n);
	}
	sha256_final(&h, d);
	hex_encode(d, sizeof(d), hex);
	return 1;
}

static int add_subject(json_t *subjects, const char *name, const char *hex)
{
	return json_array_append_new(
		subjects, json_pack("{s:s, s:{s:s}}", "name", name, "digest", "sha256", hex));
}

/*
 * The SHA-256 (hex) the signed record holds of the run's file i (logs/ID.stdout,
 * logs/ID.stderr, events/ID.jsonl), or NULL: the file is pinned by nothing signed (the
 * event log of an aborted run, or of one whose write failed).
 */
static const char *recorded_digest(const json_t *record, size_t i)
{
	static const char *const key[] = { "stdout", "stderr" };
	const json_t *o = i < ELEMENTSOF(key)
				  ? json_object_get(json_object_get(record, "logs"), key[i])
				  : json_object_get(record, "events");
	const char *d = json_string_value(json_object_get(o, "sha256"));

	if (!d || strlen(d) != CHAIN_HASH_LEN || json_object_get(o, "error"))
		return NULL;
	return d;
}

/*
 * The run's files in the state directory, each when it is there and its signed record
 * holds its digest. The export signs anew: a file whose bytes are not those the record
 * signed (a log or an event log changed, replaced or linked in since) is refused, never
 * attested.
 */
static int add_state_files(json_t *subjects, int state_fd, const char *id, const json_t *record)
{
	static const char *const dir[] = { "logs", "logs", "events" };
	static const char *const ext[] = { "stdout", "stderr", "jsonl" };
	char path[PATH_MAX], hex[CHAIN_HASH_LEN + 1];
	const char *want;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(dir); i++) {
		snprintf(path, sizeof(path), "%s/%s.%s", dir[i], id, ext[i]);
		want = recorded_digest(record, i);
		if (!want)
			continue;
		r = file_digest(state_fd, path, hex);
		if (r == -EBADFD) /* a FIFO or device planted where the run's file was */
			return log_error_errno(r,
					       "records export: refusing run '%s': '%s' is not a "
					       "regular file",
					       id, path);
		if (r < 0)
			return log_error_errno(r, "Failed to hash '%s': %m", path);
		if (r > 0 && !streq(hex, want))
			return log_error_errno(-EBADMSG,
					       "records export: refusing run '%s': '%s' is not the "
					       "file its signed record holds (sha256 %s, not %s): "
					       "changed since the run",
					       id, path, hex, want);
		if (r > 0 && add_subject(subjects, path, hex) < 0)
			return log_oom();
	}
	return 0;
}

/* A subject dir/name for a digest the record holds ("sha256:<hex>"); none without one. */
static int add_recorded(json_t *subjects, const char *dir, const char *name, const json_t *digest)
{
	const char *d = json_string_value(digest);
	_cleanup_free_ char *path = NULL;

	if (!d || !strneq(d, "sha256:", 7) || strlen(d) != 7 + CHAIN_HASH_LEN)
		return 0;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	return add_subject(subjects, path, d + 7);
}

/*
 * A manifest path as the name's bytes (export_name_unescape()), when they are UTF-8: NULL
 * otherwise (or for a path not escaped so), which no subject can name.
 */
static char *unescape_path(const char *p)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_(json_decrefp) json_t *v = NULL;

	if (export_name_unescape(p, &out) < 0)
		return NULL;
	v = record_json_bytesn(out, strlen(out)); /* a JSON string only when the bytes are UTF-8 */
	return json_is_string(v) ? TAKE_PTR(out) : NULL;
}

/*
 * Each exported file a subject of its own, by the SHA-256 its manifest lists (an in-toto
 * verifier looks an artifact up by its digest), once the manifest is the one the signed
 * record pins (hex: its SHA-256). A file whose name is not UTF-8 is covered by the
 * manifest's subject alone.
 */
static int add_exported_files(json_t *subjects, const char *dir, const char *hex)
{
	_cleanup_(json_decrefp) json_t *m = NULL;
	_cleanup_free_ char *buf = NULL, *path = NULL;
	char got[CHAIN_HASH_LEN + 1];
	const json_t *entries;
	size_t len = 0, i;
	int r;

	if (asprintf(&path, "%s/manifest.json", dir) < 0)
		return log_oom();
	r = chain_read_file_at(AT_FDCWD, path, MANIFEST_MAX_BYTES, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "records export: refusing: cannot read '%s': %s", path,
				       r == -EBADFD ? "not a regular file" : strerror(-r));
	sha256_hex(buf, len, got);
	if (!streq(got, hex))
		return log_error_errno(-EBADMSG,
				       "records export: refusing: '%s' is not the manifest its "
				       "signed record holds (sha256 %s, not %s): changed since the "
				       "run",
				       path, got, hex);
	m = json_loadb(buf, len, 0, NULL);
	entries = json_object_get(m, "entries");
	for (i = 0; i < json_array_size(entries); i++) {
		const json_t *e = json_array_get(entries, i);
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *sha = json_string_value(json_object_get(e, "sha256"));
		const char *p = json_string_value(json_object_get(e, "path"));
		_cleanup_free_ char *name = NULL, *full = NULL;

		if (!type || !streq(type, "file") || !sha || strlen(sha) != CHAIN_HASH_LEN || !p)
			continue;
		name = unescape_path(p);
		if (!name)
			continue;
		if (asprintf(&full, "%s/%s", dir, name) < 0 || add_subject(subjects, full, sha) < 0)
			return log_oom();
	}
	return 0;
}

/*
 * The export's manifest (and an overlay workspace's manifest, changes.json and
 * changes.patch) by the digests the record holds, and each file the manifest of /out lists
 * (add_exported_files()). Named by the export's absolute
 * path, which must then be a string (UTF-8): a byte string's base64 form names no file.
 */
static int add_artifacts(json_t *subjects, json_t *record)
{
	const json_t *a = json_object_get(record, "artifacts");
	const json_t *w = json_object_get(record, "workspace_changes");
	const char *dir = json_string_value(json_object_get(a, "path")), *d;
	_cleanup_free_ char *ws = NULL;

	if (!json_object_get(a, "manifest_digest"))
		return 0; /* no export, or none made */
	if (!dir)
		return log_error_errno(-EINVAL, "records export: the run's export directory is "
						"not UTF-8: no in-toto subject can name it");
	if (add_recorded(subjects, dir, "manifest.json", json_object_get(a, "manifest_digest")) < 0)
		return log_oom();
	d = json_string_value(json_object_get(a, "manifest_digest"));
	if (d && strneq(d, "sha256:", 7) && add_exported_files(subjects, dir, d + 7) < 0)
		return -EBADMSG;
	if (!json_object_get(w, "manifest_digest"))
		return 0;
	if (asprintf(&ws, "%s/workspace", dir) < 0 ||
	    add_recorded(subjects, ws, "manifest.json", json_object_get(w, "manifest_digest")) <
		    0 ||
	    add_recorded(subjects, ws, "changes.json", json_object_get(w, "changes_digest")) < 0 ||
	    add_recorded(subjects, ws, "changes.patch", json_object_get(w, "patch_digest")) < 0)
		return log_oom();
	return 0;
}

static json_t *statement(int state_fd, const char *id, json_t *record)
{
	_cleanup_(json_decrefp) json_t *subjects = json_array();

	if (!subjects)
		return NULL;
	if (add_state_files(subjects, state_fd, id, record) < 0 ||
	    add_artifacts(subjects, record) < 0)
		return NULL;
	return json_pack("{s:s, s:O, s:s, s:O}", "_type", EXPORT_STATEMENT_TYPE, "subject",
			 subjects, "predicateType", EXPORT_PREDICATE_TYPE, "predicate", record);
}

/* The DSSE envelope of payload, signed over its PAE. */
static json_t *envelope(const struct sign_key *key, const char *payload)
{
	_cleanup_free_ char *pae = NULL, *b64 = NULL;
	uint8_t sig[SIGN_SIGNATURE_SIZE];
	char sig_b64[BASE64_LEN(SIGN_SIGNATURE_SIZE) + 1];
	size_t len = strlen(payload), pae_len = 0;

	pae = chain_dsse_pae(EXPORT_PAYLOAD_TYPE, payload, len, &pae_len);
	b64 = malloc(BASE64_LEN(len) + 1);
	if (!pae || !b64)
		return NULL;
	if (sign_data(key, pae, pae_len, sig) < 0)
		return NULL;
	base64_encode((const uint8_t *)payload, len, b64);
	base64_encode(sig, sizeof(sig), sig_b64);
	return json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType", EXPORT_PAYLOAD_TYPE,
			 "payload", b64, "signatures", "keyid", sign_key_id(key), "sig", sig_b64);
}

/* Whether record o's key was retired (rotate-key) before o's place in the chain. */
static bool signed_after_retirement(const json_t *o, const struct verify_key *keys, size_t n)
{
	const char *id =
		json_string_value(json_object_get(json_object_get(o, "signature"), "key_id"));
	json_int_t seq = json_integer_value(json_object_get(json_object_get(o, "chain"), "seq"));

	for (size_t i = 0; id && i < n; i++)
		if (streq(keys[i].id, id) && keys[i].retired &&
		    (uint64_t)seq > keys[i].retired_after)
			return true;
	return false;
}

/*
 * The record of run id, parsed, once its signature is checked against the keyring that
 * `records verify` trusts: the export signs it anew with the node key, and must never
 * turn a record changed after it was signed into a fresh, valid attestation.
 */
static int load_record(int state_fd, const char *state_dir, const char *id, json_t **ret)
{
	_cleanup_free_ struct verify_key *keys = NULL;
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX];
	json_t *o;
	size_t len = 0;
	int n, r;

	snprintf(path, sizeof(path), "records/%s.json", id);
	r = chain_read_file_at(state_fd, path, RECORD_MAX_BYTES, &buf, &len);
	if (r == -ENOENT)
		return log_error_errno(r, "records export: no run '%s'", id);
	if (r == -EBADFD)
		return log_error_errno(r, "records export: record '%s' is not a regular file",
				       path);
	if (r < 0)
		return log_error_errno(r, "Failed to read record '%s': %m", path);
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!o)
		return log_error_errno(-EBADMSG, "records export: record '%s' is not JSON", path);
	if (!json_object_get(o, "signature")) {
		json_decref(o);
		return log_error_errno(-EBADMSG,
				       "records export: record '%s' is not signed (a run in "
				       "progress, or not chained)",
				       path);
	}
	n = verify_load_keys(state_dir, NULL, &keys); /* logs its failure */
	r = n < 0 ? n : verify_record_signature(buf, len, keys, (size_t)n);
	if (r <= 0) {
		json_decref(o);
		if (n < 0)
			return n;
		if (r < 0)
			return log_error_errno(r,
					       "records export: cannot check the signature of "
					       "'%s': %m",
					       path);
		return log_error_errno(-EBADMSG,
				       "records export: refusing record '%s': its signature does "
				       "not verify against the keyring (changed since signed; see "
				       "`airlock records verify`)",
				       path);
	}
	if (signed_after_retirement(o, keys, (size_t)n)) {
		json_decref(o);
		return log_error_errno(-EBADMSG,
				       "records export: refusing record '%s': signed by a key "
				       "after it was retired (see `airlock records verify`)",
				       path);
	}
	if (!streq(json_string_value(json_object_get(o, "run_id")) ?: "", id)) {
		json_decref(o);
		return log_error_errno(-EBADMSG,
				       "records export: refusing record '%s': it holds another "
				       "run (moved or swapped; see `airlock records verify`)",
				       path);
	}
	*ret = o;
	return 0;
}

int export_in_toto(const char *state_dir, const char *id, FILE *out)
{
	_cleanup_(json_decrefp) json_t *record = NULL, *st = NULL, *env = NULL;
	_cleanup_free_ char *payload = NULL;
	_cleanup_close_ int state_fd = -EBADF;
	const struct sign_key *key = NULL;
	const char *dir;
	int r;

	state_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (state_fd < 0)
		return log_error_errno(-errno, "Failed to open state directory '%s': %m",
				       state_dir);
	r = load_record(state_fd, state_dir, id, &record);
	if (r < 0)
		return r;
	st = statement(state_fd, id, record);
	if (!st)
		return -ENOMEM;
	payload = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	if (!payload)
		return log_oom();
	r = sign_key_get(state_fd, &key);
	if (r == -EPERM && (dir = chain_key_refused_dir(state_fd)))
		return log_error_errno(r, "records export: " CHAIN_KEYS_DIR_REFUSAL, state_dir,
				       dir);
	if (r == -ENOKEY || r == -EPERM)
		return log_error_errno(r, "records export: " CHAIN_KEY_REFUSAL, state_dir);
	if (r < 0)
		return log_error_errno(r, "Failed to load the node key of '%s': %m", state_dir);
	env = envelope(key, payload);
	if (!env || json_dumpf(env, out, JSON_INDENT(2)) < 0)
		return log_oom();
	fputc('\n', out);
	return 0;
}
