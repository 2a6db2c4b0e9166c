/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure half of the export: names escaped for the manifest, cap accounting, the
 * manifest's JSON and the names of the enums. No I/O; the JSON format is documented in
 * docs/artifacts.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "export.h"
#include "macro.h"
#include "parse-util.h"

static const char *const scan_names[_EXPORT_SCAN_MAX] = {
	[EXPORT_SCAN_REDACT] = "redact",
	[EXPORT_SCAN_REJECT] = "reject",
	[EXPORT_SCAN_OFF] = "off",
};

static const char *const type_names[_EXPORT_TYPE_MAX] = {
	[EXPORT_TYPE_FILE] = "file",
	[EXPORT_TYPE_DIRECTORY] = "directory",
	[EXPORT_TYPE_SYMLINK] = "symlink",
	[EXPORT_TYPE_FIFO] = "fifo",
	[EXPORT_TYPE_SOCKET] = "socket",
	[EXPORT_TYPE_CHAR_DEVICE] = "char_device",
	[EXPORT_TYPE_BLOCK_DEVICE] = "block_device",
	[EXPORT_TYPE_UNKNOWN] = "unknown",
};

static const char *const skip_names[_EXPORT_SKIP_MAX] = {
	[EXPORT_SKIP_NONE] = "none",
	[EXPORT_SKIP_TYPE] = "type",
	[EXPORT_SKIP_NOT_INCLUDED] = "not_included",
	[EXPORT_SKIP_FILE_SIZE] = "max_file_size",
	[EXPORT_SKIP_PATH_LENGTH] = "path_length",
	[EXPORT_SKIP_DEPTH] = "depth",
	[EXPORT_SKIP_MOUNT] = "mount_point",
	[EXPORT_SKIP_SECRET] = "secret",
	[EXPORT_SKIP_CHANGED] = "changed",
	[EXPORT_SKIP_RESERVED] = "reserved_name",
};

static const char *const stop_names[_EXPORT_STOP_MAX] = {
	[EXPORT_STOP_NONE] = "none",
	[EXPORT_STOP_MAX_FILES] = "max_files",
	[EXPORT_STOP_MAX_SIZE] = "max_size",
	[EXPORT_STOP_MAX_SKIPPED] = "max_skipped",
};

const char *export_scan_to_string(enum export_scan s)
{
	return s >= 0 && s < _EXPORT_SCAN_MAX ? scan_names[s] : NULL;
}

enum export_scan export_scan_from_string(const char *s)
{
	for (int i = 0; s && i < _EXPORT_SCAN_MAX; i++)
		if (streq(scan_names[i], s))
			return (enum export_scan)i;
	return _EXPORT_SCAN_INVALID;
}

const char *export_type_to_string(enum export_type t)
{
	return t < _EXPORT_TYPE_MAX ? type_names[t] : NULL;
}

const char *export_skip_to_string(enum export_skip s)
{
	return s < _EXPORT_SKIP_MAX ? skip_names[s] : NULL;
}

const char *export_stop_to_string(enum export_stop s)
{
	return s < _EXPORT_STOP_MAX ? stop_names[s] : NULL;
}

int export_name_escape(const char *name, char **ret)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(name);
	char *s, *o;

	s = malloc(n * 4 + 1); /* "\xHH" at most per byte; n <= EXPORT_MAX_PATH */
	if (!s)
		return -ENOMEM;
	o = s;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		if (*c == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (*c >= 0x20 && *c < 0x7f)
			*o++ = (char)*c;
		else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 15];
		}
	}
	*o = '\0';
	*ret = s;
	return 0;
}

/* The value of a lower-case hex digit, or -1. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int export_name_unescape(const char *escaped, char **ret)
{
	_cleanup_free_ char *s = malloc(strlen(escaped) + 1);
	size_t n = 0;

	if (!s)
		return -ENOMEM;
	for (const char *p = escaped; *p; p++) {
		int hi, lo;

		if (*p != '\\') {
			s[n++] = *p;
			continue;
		}
		if (p[1] == '\\') {
			s[n++] = *++p;
			continue;
		}
		hi = p[1] == 'x' ? hex_value(p[2]) : -1;
		lo = hi >= 0 ? hex_value(p[3]) : -1;
		if (lo < 0 || (hi | lo) == 0) /* not "\xHH", or a NUL, which no name holds */
			return -EINVAL;
		s[n++] = (char)(hi << 4 | lo);
		p += 3;
	}
	s[n] = '\0';
	*ret = TAKE_PTR(s);
	return 0;
}

enum export_skip export_caps_check_file(const struct export_options *o,
					const struct export_manifest *m, uint64_t size,
					uint64_t alloc, uint64_t block, enum export_stop *ret_stop)
{
	uint64_t total, alloc_cap;

	*ret_stop = EXPORT_STOP_NONE;
	/* A file takes whole blocks: its blocks pass the cap only past the block holding it. */
	block = block ? block : 1;
	if (__builtin_add_overflow(o->max_file_size, block - 1, &alloc_cap))
		alloc_cap = UINT64_MAX;
	else
		alloc_cap -= alloc_cap % block;
	if (size > o->max_file_size || alloc > alloc_cap)
		return EXPORT_SKIP_FILE_SIZE;
	if (m->files + m->directories >= o->max_files)
		*ret_stop = EXPORT_STOP_MAX_FILES;
	else if (__builtin_add_overflow(m->bytes, size, &total) || total > o->max_size)
		*ret_stop = EXPORT_STOP_MAX_SIZE;
	return EXPORT_SKIP_NONE;
}

struct export_manifest *export_manifest_free(struct export_manifest *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_entries; i++)
		free(m->entries[i].path);
	free(m->entries);
	free(m->stop_path);
	free(m);
	return NULL;
}

/* Sets key to an escaped copy of raw; returns 0 or -ENOMEM. */
static int set_name(json_t *o, const char *key, const char *raw)
{
	_cleanup_free_ char *esc = NULL;

	if (export_name_escape(raw, &esc) < 0)
		return -ENOMEM;
	return json_object_set_new(o, key, json_string(esc)) < 0 ? -ENOMEM : 0;
}

static json_t *entry_json(const struct export_entry *e)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	char mode[8], hexd[65];

	o = json_pack("{s:s}", "type", export_type_to_string(e->type));
	if (!o || set_name(o, "path", e->path) < 0)
		return NULL;
	if (e->skip != EXPORT_SKIP_NONE) {
		if (json_object_set_new(o, "reason", json_string(export_skip_to_string(e->skip))) <
		    0)
			return NULL;
		if (e->skip == EXPORT_SKIP_SECRET &&
		    json_object_set_new(o, "redactions", json_integer((json_int_t)e->redactions)) <
			    0)
			return NULL;
		return TAKE_PTR(o);
	}
	snprintf(mode, sizeof(mode), "%04o", (unsigned)e->mode);
	if (json_object_set_new(o, "mode", json_string(mode)) < 0)
		return NULL;
	if (e->type != EXPORT_TYPE_FILE)
		return TAKE_PTR(o);
	hex_encode(e->sha256, sizeof(e->sha256), hexd);
	if (json_object_set_new(o, "size", json_integer((json_int_t)e->size)) < 0 ||
	    json_object_set_new(o, "sha256", json_string(hexd)) < 0 ||
	    json_object_set_new(o, "redactions", json_integer((json_int_t)e->redactions)) < 0 ||
	    json_object_set_new(o, "redacted", json_boolean(e->redacted)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_t *counts_json(const struct export_manifest *m)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "files", (json_int_t)m->files,
			 "directories", (json_int_t)m->directories, "bytes", (json_int_t)m->bytes,
			 "skipped", (json_int_t)m->skipped, "skipped_unlisted",
			 (json_int_t)m->skipped_unlisted, "redactions", (json_int_t)m->redactions,
			 "files_redacted", (json_int_t)m->files_redacted, "files_rejected",
			 (json_int_t)m->files_rejected);
}

/* "complete", and where and why it stopped when it is not. */
static int stop_json(json_t *o, const struct export_manifest *m)
{
	if (json_object_set_new(o, "complete", json_boolean(m->stop == EXPORT_STOP_NONE)) < 0)
		return -ENOMEM;
	if (m->stop == EXPORT_STOP_NONE)
		return 0;
	if (json_object_set_new(o, "stopped_by", json_string(export_stop_to_string(m->stop))) < 0)
		return -ENOMEM;
	return m->stop_path ? set_name(o, "stopped_at", m->stop_path) : 0;
}

json_t *export_manifest_to_json(const struct export_manifest *m)
{
	_cleanup_(json_decrefp) json_t *o = NULL;
	json_t *files, *skipped;

	o = json_pack("{s:i, s:s, s:o, s:[], s:[]}", "manifest_version", EXPORT_MANIFEST_VERSION,
		      "scan", export_scan_to_string(m->scan), "counts", counts_json(m), "entries",
		      "skipped");
	if (!o || stop_json(o, m) < 0)
		return NULL;
	files = json_object_get(o, "entries");
	skipped = json_object_get(o, "skipped");
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct export_entry *e = &m->entries[i];

		if (json_array_append_new(e->skip == EXPORT_SKIP_NONE ? files : skipped,
					  entry_json(e)) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}
