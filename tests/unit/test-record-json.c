/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of supervisor/record-json.c: byte strings reach a record losslessly (a string
 * when valid UTF-8, {"base64": ...} otherwise) and decode back to the same bytes; a value
 * that could not be built fails the set instead of vanishing.
 */
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "record-json.h"
#include "test.h"

/* Encodes len bytes, checks the form, decodes and compares: whether all held. */
static bool round_trip(const char *bytes, size_t len, bool want_string)
{
	_cleanup_free_ char *back = NULL;
	json_t *v = record_json_bytesn(bytes, len);
	size_t back_len = 0;
	bool ok;

	if (!v)
		return false;
	ok = json_is_string(v) == want_string &&
	     record_json_bytes_decode(v, &back, &back_len) == 0 && back_len == len &&
	     memcmp(back, bytes, len) == 0;
	json_decref(v);
	return ok;
}

TEST(utf8_stays_a_string)
{
	ASSERT_TRUE(round_trip("echo hello", 10, true));
	ASSERT_TRUE(round_trip("", 0, true));
	ASSERT_TRUE(round_trip("caf\xc3\xa9 \x1b[31m", 11, true));
}

TEST(invalid_utf8_is_base64)
{
	_cleanup_free_ char *text = NULL;
	json_t *v = record_json_bytes("echo hidden #\xff");

	ASSERT_TRUE(v != NULL);
	text = json_dumps(v, JSON_COMPACT);
	ASSERT_STREQ(text, "{\"base64\":\"ZWNobyBoaWRkZW4gI/8=\"}");
	json_decref(v);
	ASSERT_TRUE(round_trip("\xff", 1, false));
	ASSERT_TRUE(round_trip("a\xff", 2, false));
	ASSERT_TRUE(round_trip("ab\xff", 3, false));
	ASSERT_TRUE(round_trip("\xc0\xaf", 2, false)); /* overlong '/' */
	ASSERT_TRUE(round_trip("\xed\xa0\x80", 3, false)); /* a surrogate */
}

TEST(decode_refuses_bad_forms)
{
	char *out = NULL;
	size_t len = 0;
	json_t *v;

	v = json_pack("{s:s}", "base64", "ab=c");
	ASSERT_ERROR(record_json_bytes_decode(v, &out, &len), EINVAL);
	json_decref(v);
	v = json_pack("{s:s}", "base64", "abc");
	ASSERT_ERROR(record_json_bytes_decode(v, &out, &len), EINVAL);
	json_decref(v);
	v = json_pack("{s:s, s:s}", "base64", "YQ==", "x", "y");
	ASSERT_ERROR(record_json_bytes_decode(v, &out, &len), EINVAL);
	json_decref(v);
	v = json_integer(3);
	ASSERT_ERROR(record_json_bytes_decode(v, &out, &len), EINVAL);
	json_decref(v);
}

TEST(strv_keeps_every_argument)
{
	char *argv[] = { "sh", "-c", "echo hidden #\xff", "echo hello", NULL };
	json_t *a = record_json_strv(argv);

	ASSERT_TRUE(a != NULL);
	ASSERT_EQ(json_array_size(a), 4u);
	ASSERT_TRUE(json_is_object(json_array_get(a, 2)));
	ASSERT_STREQ(json_string_value(json_array_get(a, 3)), "echo hello");
	json_decref(a);
}

TEST(set_fails_on_null)
{
	json_t *o = json_object();

	ASSERT_ERROR(record_json_set(o, "x", NULL), ENOMEM);
	ASSERT_ERROR(record_json_append(json_array_get(o, 0) ?: o, NULL), ENOMEM);
	ASSERT_OK(record_json_set(o, "y", json_integer(1)));
	ASSERT_EQ(json_object_size(o), 1u);
	json_decref(o);
}

TEST_MAIN()
