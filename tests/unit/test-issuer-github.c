/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The github_app kind's pure half (supervisor/credentials/issuer-github-scope.c): a grant's
 * scope to the access_tokens request body, GitHub's answer to a token and the scope as
 * granted, and the check that what was granted is no wider than what was asked.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "issuer-github.h"
#include "test.h"

static json_t *j(const char *s)
{
	return json_loads(s, 0, NULL);
}

static bool json_text_is(const json_t *v, const char *want)
{
	json_t *w = j(want);
	bool eq = json_equal((json_t *)v, w);

	json_decref(w);
	return eq;
}

TEST(scope_request_body)
{
	json_t *scope = j("{\"repositories\": [\"org/app\", \"lib\"],"
			  " \"permissions\": {\"contents\": \"read\", \"issues\": \"write\"}}");
	json_t *body = NULL;
	char err[256] = "";

	ASSERT_OK(github_scope_request(scope, &body, err, sizeof(err)));
	ASSERT_TRUE(json_text_is(body, "{\"repositories\": [\"app\", \"lib\"], \"permissions\": "
				       "{\"contents\": \"read\", \"issues\": \"write\"}}"));
	json_decref(body);
	json_decref(scope);
}

static void check_scope_refused(bool *test_failed_, const char *scope_text, const char *message)
{
	json_t *scope = scope_text ? j(scope_text) : NULL, *body = NULL;
	char err[256] = "";

	ASSERT_TRUE(!scope_text || scope);
	ASSERT_ERROR(github_scope_request(scope, &body, err, sizeof(err)), EINVAL);
	ASSERT_TRUE(body == NULL);
	ASSERT_STREQ(err, message);
	json_decref(scope);
}

TEST(scope_refused)
{
	static const char perms[] = "\"permissions\": {\"contents\": \"read\"}";
	char buf[256];

	check_scope_refused(test_failed_, NULL,
			    "a github_app grant needs a scope: {\"repositories\": [...], "
			    "\"permissions\": {...}}");
	check_scope_refused(test_failed_, "{\"permissions\": {\"contents\": \"read\"}}",
			    "scope.repositories: expected 1 to 500 repository names");
	snprintf(buf, sizeof(buf), "{\"repositories\": [], %s}", perms);
	check_scope_refused(test_failed_, buf,
			    "scope.repositories: expected 1 to 500 repository names");
	for (size_t i = 0; i < 6; i++) {
		static const char *const bad[] = { "\"\"",    "\"a/b/c\"", "\"..\"",
						   "\"a b\"", "\"org/\"",  "7" };
		snprintf(buf, sizeof(buf), "{\"repositories\": [\"ok\", %s], %s}", bad[i], perms);
		check_scope_refused(test_failed_, buf,
				    "scope.repositories[1]: expected \"name\" or \"owner/name\"");
	}
	check_scope_refused(test_failed_, "{\"repositories\": [\"a\"]}",
			    "scope.permissions: expected an object of 1 to 64 permissions");
	check_scope_refused(
		test_failed_,
		"{\"repositories\": [\"a\"], \"permissions\": {\"contents\": \"all\"}}",
		"scope.permissions.contents: expected \"read\", \"write\" or \"admin\"");
	check_scope_refused(
		test_failed_,
		"{\"repositories\": [\"a\"], \"permissions\": {\"Con tents\": \"read\"}}",
		"scope.permissions: 'Con tents' is not a permission name");
	snprintf(buf, sizeof(buf), "{\"repositories\": [\"a\"], %s, \"all\": true}", perms);
	check_scope_refused(test_failed_, buf,
			    "scope: unknown key 'all' (repositories, permissions)");
}

static const char answer[] =
	"{\"token\": \"ghs_16C7e42F292c6912E7710c838347Ae178B4a\","
	" \"expires_at\": \"2016-07-11T22:14:10Z\","
	" \"permissions\": {\"contents\": \"read\", \"metadata\": \"read\"},"
	" \"repository_selection\": \"selected\","
	" \"repositories\": [{\"id\": 1, \"name\": \"app\", \"full_name\": \"org/app\"}]}";

TEST(token_parse)
{
	struct github_token t = {};
	char err[256] = "";

	ASSERT_OK(github_token_parse(answer, strlen(answer), &t, err, sizeof(err)));
	ASSERT_STREQ((const char *)t.value.data, "ghs_16C7e42F292c6912E7710c838347Ae178B4a");
	ASSERT_EQ(t.value.len, 40);
	ASSERT_EQ(t.expires_s, 1468275250);
	ASSERT_TRUE(json_text_is(t.scope, "{\"repositories\": [\"org/app\"], \"permissions\": "
					  "{\"contents\": \"read\", \"metadata\": \"read\"}}"));
	github_token_done(&t);
	ASSERT_TRUE(t.value.data == NULL && t.scope == NULL);
}

static void check_answer_refused(bool *test_failed_, const char *body, const char *message)
{
	struct github_token t = {};
	char err[256] = "";

	ASSERT_ERROR(github_token_parse(body, strlen(body), &t, err, sizeof(err)), EBADMSG);
	ASSERT_TRUE(t.value.data == NULL && t.scope == NULL);
	ASSERT_STREQ(err, message);
}

TEST(token_parse_refused)
{
	static const char ok_tail[] =
		"\"expires_at\": \"2016-07-11T22:14:10Z\", \"permissions\": {},"
		" \"repositories\": [{\"full_name\": \"org/app\"}]}";
	char buf[512];

	check_answer_refused(test_failed_, "{\"token\": \"unterminated",
			     "the answer is not a JSON object");
	check_answer_refused(test_failed_, "[]", "the answer is not a JSON object");
	snprintf(buf, sizeof(buf), "{\"token\": \"a b\", %s", ok_tail);
	check_answer_refused(test_failed_, buf, "the answer has no valid \"token\"");
	snprintf(buf, sizeof(buf), "{\"token\": 7, %s", ok_tail);
	check_answer_refused(test_failed_, buf, "the answer has no valid \"token\"");
	snprintf(buf, sizeof(buf), "{%s", ok_tail);
	check_answer_refused(test_failed_, buf, "the answer has no valid \"token\"");
	check_answer_refused(test_failed_,
			     "{\"token\": \"t\", \"expires_at\": \"tomorrow\", \"permissions\": {},"
			     " \"repositories\": []}",
			     "the answer has no valid \"expires_at\"");
	check_answer_refused(test_failed_,
			     "{\"token\": \"t\", \"expires_at\": \"2016-07-11T22:14:10Z\","
			     " \"permissions\": {}, \"repository_selection\": \"all\"}",
			     "the answer has no \"permissions\" object or no \"repositories\" list "
			     "(a token for all repositories is refused)");
	check_answer_refused(test_failed_,
			     "{\"token\": \"t\", \"expires_at\": \"2016-07-11T22:14:10Z\","
			     " \"permissions\": {}, \"repositories\": [{\"name\": \"app\"}]}",
			     "the answer's repositories[0] has no valid \"full_name\"");
}

static int check(const char *granted, const char *asked, char *err, size_t errlen)
{
	json_t *g = j(granted), *a = j(asked);
	int r = github_scope_check(g, a, err, errlen);

	json_decref(g);
	json_decref(a);
	return r;
}

TEST(scope_check)
{
	static const char asked[] = "{\"repositories\": [\"org/app\", \"lib\"],"
				    " \"permissions\": {\"contents\": \"write\"}}";
	char err[256] = "";

	ASSERT_OK(check("{\"repositories\": [\"org/app\", \"any/lib\"], \"permissions\":"
			" {\"contents\": \"read\", \"metadata\": \"read\"}}",
			asked, err, sizeof(err)));
	ASSERT_OK(check("{\"repositories\": [\"ORG/App\"], \"permissions\": {}}", asked, err,
			sizeof(err)));

	ASSERT_ERROR(check("{\"repositories\": [\"evil/app\"], \"permissions\": {}}", asked, err,
			   sizeof(err)),
		     EPERM);
	ASSERT_STREQ(err, "the token was granted repository 'evil/app', which the scope did not "
			  "ask for");
	ASSERT_ERROR(check("{\"repositories\": [\"org/other\"], \"permissions\": {}}", asked, err,
			   sizeof(err)),
		     EPERM);
	ASSERT_ERROR(check("{\"repositories\": [], \"permissions\": {\"contents\": \"admin\"}}",
			   asked, err, sizeof(err)),
		     EPERM);
	ASSERT_STREQ(err, "the token was granted permission contents:admin, more than the scope "
			  "asked for");
	ASSERT_ERROR(check("{\"repositories\": [], \"permissions\": {\"issues\": \"read\"}}", asked,
			   err, sizeof(err)),
		     EPERM);
	ASSERT_ERROR(check("{\"repositories\": [], \"permissions\": {\"metadata\": \"write\"}}",
			   asked, err, sizeof(err)),
		     EPERM);
}

TEST(parse_time)
{
	int64_t t = 0;

	ASSERT_OK(github_parse_time("1970-01-01T00:00:00Z", &t));
	ASSERT_EQ(t, 0);
	ASSERT_OK(github_parse_time("2026-12-06T02:08:11Z", &t));
	ASSERT_EQ(t, 1796522891);
	ASSERT_ERROR(github_parse_time("2026-12-06T02:08:11+01:00", &t), EINVAL);
	ASSERT_ERROR(github_parse_time("2026-12-06", &t), EINVAL);
	ASSERT_ERROR(github_parse_time(NULL, &t), EINVAL);
}

TEST_MAIN()
