/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The syntax of --credential NAME=@FILE and --credential-fd NAME=N (credentials.c): the one
 * parse the command line's checks share, and credential_args_add() holding to it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "credentials.h"
#include "test.h"

TEST(arg_parse_fd)
{
	struct credential_arg_syntax s;

	ASSERT_OK(credential_arg_parse("gh=3", true, &s));
	ASSERT_EQ(s.name_len, 2);
	ASSERT_EQ(s.fd, 3);
	ASSERT_TRUE(s.path == NULL);
	ASSERT_OK(credential_arg_parse("a_b-9=0", true, &s));
	ASSERT_EQ(s.name_len, 5);
	ASSERT_EQ(s.fd, 0);
	ASSERT_OK(credential_arg_parse("gh=000000007", true, &s));
	ASSERT_EQ(s.fd, 7);

	/* What strtol() would take is no descriptor number: digits only, at most 9. */
	static const char *const bad[] = { "gh=",    "gh=+3", "gh= 3",	       "gh=3 ", "gh=-1",
					   "gh=0x3", "gh=3a", "gh=1234567890", "gh=@3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_ERROR(credential_arg_parse(bad[i], true, &s), EINVAL);
		ASSERT_EQ(s.name_len, 2); /* the name is still given, to name it in a refusal */
		ASSERT_EQ(s.fd, -EBADF);
	}
}

TEST(arg_parse_file)
{
	struct credential_arg_syntax s;

	ASSERT_OK(credential_arg_parse("npm=@/run/npm=token", false, &s));
	ASSERT_EQ(s.name_len, 3);
	ASSERT_STREQ(s.path, "/run/npm=token");
	ASSERT_EQ(s.fd, -EBADF);
	ASSERT_ERROR(credential_arg_parse("npm=@", false, &s), EINVAL);
	ASSERT_EQ(s.name_len, 3);
	ASSERT_TRUE(s.path == NULL);
	ASSERT_ERROR(credential_arg_parse("npm=s3cr3t", false, &s), EINVAL);
	ASSERT_TRUE(s.path == NULL);
	ASSERT_ERROR(credential_arg_parse("npm=3", false, &s), EINVAL);
}

TEST(arg_parse_name)
{
	char long_name[POLICY_MAX_CREDENTIAL_NAME + 8];
	struct credential_arg_syntax s;

	/* A malformed name is no name: nothing of the argument is taken. */
	static const char *const bad[] = { "gh", "=3", "g h=3", "g.h=3", "gh:3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_ERROR(credential_arg_parse(bad[i], true, &s), EINVAL);
		ASSERT_EQ(s.name_len, 0);
		ASSERT_EQ(s.fd, -EBADF);
	}
	ASSERT_ERROR(credential_arg_parse("g/h=@f", false, &s), EINVAL);
	ASSERT_TRUE(s.name_len == 0 && s.path == NULL);

	memset(long_name, 'a', POLICY_MAX_CREDENTIAL_NAME);
	strcpy(long_name + POLICY_MAX_CREDENTIAL_NAME, "=3");
	ASSERT_OK(credential_arg_parse(long_name, true, &s));
	ASSERT_EQ(s.name_len, POLICY_MAX_CREDENTIAL_NAME);
	strcpy(long_name + POLICY_MAX_CREDENTIAL_NAME, "a=3");
	ASSERT_ERROR(credential_arg_parse(long_name, true, &s), EINVAL);
	ASSERT_EQ(s.name_len, 0);
}

/* credential_args_add() refuses what the parse refuses, and takes what it takes. */
TEST(args_add_same_syntax)
{
	struct credential_args a = {};
	char arg[32];
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ASSERT_TRUE(fd > 2);
	snprintf(arg, sizeof(arg), "gh=+%d", fd);
	ASSERT_ERROR(credential_args_add(&a, arg, true), EINVAL);
	snprintf(arg, sizeof(arg), "gh=%d", fd);
	ASSERT_OK(credential_args_add(&a, arg, true));
	ASSERT_ERROR(credential_args_add(&a, "npm=@", false), EINVAL);
	ASSERT_OK(credential_args_add(&a, "npm=@/run/npm", false));
	close(fd);
	ASSERT_EQ(a.n, 2);
	ASSERT_STREQ(a.items[0].name, "gh");
	ASSERT_EQ(a.items[0].fd, fd);
	ASSERT_TRUE(a.items[0].path == NULL);
	ASSERT_STREQ(a.items[1].name, "npm");
	ASSERT_STREQ(a.items[1].path, "/run/npm");
	ASSERT_EQ(a.items[1].fd, -EBADF);
	credential_args_done(&a);
}

TEST_MAIN()
