/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the issuer module's pure parts (supervisor/credentials/issuer-*.c): each
 * kind's node-config object parsed strictly with the key named, the common settings, JSON
 * pointers and form encoding. No network: the mints are in test-issuers.sh.
 */
#include <string.h>

#include "issuer-module.h"
#include "issuer-util.h"
#include "macro.h"
#include "test.h"

#define OAUTH                                                             \
	"\"kind\": \"oauth2_client_credentials\", \"client_id\": \"c\", " \
	"\"client_secret_file\": \"/etc/airlock/s\""

struct parse_case {
	const char *json;
	const char *fragment; /* NULL: parses */
};

static const struct parse_case parse_cases[] = {
	{ "{" OAUTH ", \"token_url\": \"https://idp.example.com/t\"}", NULL },
	{ "{" OAUTH ", \"token_url\": \"https://idp.example.com/t\", \"revocation_url\": "
	  "\"https://idp.example.com/r\", \"scope\": \"a b\", \"audience\": \"x\", \"ca_file\": "
	  "\"/etc/airlock/ca.pem\", \"timeout\": \"3s\", \"connect_timeout\": \"500ms\", "
	  "\"max_response_bytes\": 4096}",
	  NULL },
	{ "{" OAUTH "}", "token_url: expected an https:// URL" },
	{ "{" OAUTH ", \"token_url\": \"http://idp.example.com/t\"}",
	  "token_url: expected an https:// URL" },
	{ "{" OAUTH ", \"token_url\": \"https://i.example.com/t\", \"timeuot\": \"1s\"}",
	  "timeuot: unknown key" },
	{ "{" OAUTH ", \"token_url\": \"https://i.example.com/t\", \"timeout\": \"0s\"}",
	  "timeout: expected a duration" },
	{ "{" OAUTH ", \"token_url\": \"https://i.example.com/t\", \"timeout\": \"121s\"}",
	  "at most 120s" },
	{ "{" OAUTH ", \"token_url\": \"https://i.example.com/t\", \"max_response_bytes\": 10}",
	  "max_response_bytes: expected 1024..1048576" },
	{ "{" OAUTH ", \"token_url\": \"https://i.example.com/t\", \"ca_file\": \"ca.pem\"}",
	  "ca_file: expected an absolute path" },
	{ "{\"kind\": \"oauth2_client_credentials\", \"token_url\": \"https://i.example.com/t\", "
	  "\"client_id\": \"c\", \"client_secret_file\": \"s\"}",
	  "client_secret_file: expected an absolute path" },
	{ "{\"kind\": \"ldap\"}", "kind: not a kind" },
	{ "[]", "not a JSON object" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"/auth/client_token\", \"headers\": {\"X-Vault-Token\": {\"file\": \"/etc/t\"}, "
	  "\"X-A\": \"b\"}, \"body\": {\"ttl\": \"{{ttl}}s\"}, \"revoke\": {\"url\": "
	  "\"https://v.example.com/r\", \"method\": \"PUT\"}}",
	  NULL },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\"}",
	  "value_pointer: expected a non-empty string" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"auth\"}",
	  "value_pointer: expected a JSON pointer" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"/a\", \"method\": \"get\"}",
	  "method: expected an upper-case HTTP method" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"/a\", \"headers\": {\"A\": \"b\\r\\nX: y\"}}",
	  "headers: expected a string or" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"/a\", \"revoke\": {\"url\": \"https://v.example.com/r\", \"when\": 1}}",
	  "when: expected one of url, method, body" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"/a\", \"lease\": \"/b\"}",
	  "lease: expected a key of http_json" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"/a\", \"revoke\": {\"url\": \"https://v.example.com/r/{{lease_id}}\"}}",
	  "revoke: names {{lease_id}}, but there is no lease_pointer" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"/a\", \"revoke\": {\"url\": \"https://v.example.com/r\", \"body\": {\"lease\": "
	  "\"{{lease_id}}\"}}}",
	  "revoke: names {{lease_id}}, but there is no lease_pointer" },
	{ "{\"kind\": \"http_json\", \"url\": \"https://v.example.com/x\", \"value_pointer\": "
	  "\"/a\", \"lease_pointer\": \"/lease_id\", \"revoke\": {\"url\": "
	  "\"https://v.example.com/r/{{lease_id}}\"}}",
	  NULL },
};

TEST(parse)
{
	for (size_t i = 0; i < ELEMENTSOF(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		char err[ISSUER_ERR_MAX] = "";
		struct issuer *issuer = NULL;
		int r = issuer_module.issuer_new("idp", c->json, &issuer, err, sizeof(err));

		if (!c->fragment) {
			ASSERT_OK(r);
			issuer_module.issuer_free(issuer);
			continue;
		}
		ASSERT_ERROR(r, EINVAL);
		ASSERT_TRUE(issuer == NULL);
		ASSERT_CONTAINS(err, c->fragment);
	}
}

TEST(common_defaults)
{
	char err[ISSUER_ERR_MAX] = "";
	struct issuer *i = NULL;

	ASSERT_OK(issuer_module.issuer_new(
		"idp", "{" OAUTH ", \"token_url\": \"https://i.example.com/t\"}", &i, err,
		sizeof(err)));
	ASSERT_STREQ(i->ops->kind, "oauth2_client_credentials");
	ASSERT_EQ(i->common.connect_timeout_ms, ISSUER_DEFAULT_CONNECT_TIMEOUT_MS);
	ASSERT_EQ(i->common.timeout_ms, ISSUER_DEFAULT_TIMEOUT_MS);
	ASSERT_EQ(i->common.max_response, ISSUER_DEFAULT_MAX_RESPONSE);
	ASSERT_TRUE(i->common.ca_file == NULL);
	issuer_module.issuer_free(i);
}

TEST(json_pointer)
{
	json_t *doc = json_loads("{\"a\": {\"b/c\": [1, {\"~x\": \"v\"}]}, \"\": 2}", 0, NULL);

	ASSERT_TRUE(doc != NULL);
	ASSERT_STREQ(json_string_value(issuer_json_pointer(doc, "/a/b~1c/1/~0x")), "v");
	ASSERT_EQ(json_integer_value(issuer_json_pointer(doc, "/")), 2);
	ASSERT_TRUE(issuer_json_pointer(doc, "") == doc);
	ASSERT_TRUE(issuer_json_pointer(doc, "/a/b~1c/2") == NULL);
	ASSERT_TRUE(issuer_json_pointer(doc, "/a/b~1c/x") == NULL);
	ASSERT_TRUE(issuer_json_pointer(doc, "/a/nope") == NULL);
	ASSERT_TRUE(issuer_json_pointer(doc, "a") == NULL);
	ASSERT_FALSE(issuer_json_pointer_is_valid("/a~2"));
	ASSERT_TRUE(issuer_json_pointer_is_valid("/a~0~1"));
	json_decref(doc);
}

TEST(form)
{
	struct issuer_buf b = {};

	issuer_buf_append_form(&b, "grant_type", "client_credentials", 18);
	issuer_buf_append_form(&b, "scope", "a b&c=d/é", strlen("a b&c=d/é"));
	ASSERT_OK(b.error);
	ASSERT_STREQ((const char *)b.b.data,
		     "grant_type=client_credentials&scope=a+b%26c%3Dd%2F%C3%A9");
	issuer_buf_done(&b);
}

/* A response's lifetime: taken as given, the asked one without it, never past INT32_MAX. */
TEST(expiry)
{
	json_t *big = json_integer(INT64_MAX), *neg = json_integer(-5), *ten = json_integer(10);
	json_t *str = json_string("10");

	ASSERT_EQ(issuer_expiry(1000, ten, 60), 1010);
	ASSERT_EQ(issuer_expiry(1000, NULL, 60), 1060);
	ASSERT_EQ(issuer_expiry(1000, neg, 60), 1060);
	ASSERT_EQ(issuer_expiry(1000, str, 60), 1060);
	ASSERT_EQ(issuer_expiry(1000, big, 60), 1000 + (int64_t)ISSUER_MAX_LIFETIME_S);
	json_decref(big);
	json_decref(neg);
	json_decref(ten);
	json_decref(str);
}

TEST_MAIN()
