/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * issuer-github-cli: the github_app kind (issuer_github_app_ops) run by hand against the
 * test servers, for test-issuer-github.sh.
 *
 *   issuer-github-cli mint ISSUER.json SCOPE.json TOKEN_FILE STATE_FILE
 *     prints {"scope": <as granted>, "issued": N, "expires": N}; writes the token to
 *     TOKEN_FILE and the revocation state to STATE_FILE (both 0600)
 *   issuer-github-cli revoke ISSUER.json STATE_FILE
 *
 * ISSUER.json is the issuer's node-config object; "ca_file" is taken out as the common
 * setting. A failure prints one line, "issuer-github-cli: <what>", and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "issuer-github.h"

static int fail(const char *what)
{
	fprintf(stderr, "issuer-github-cli: %s\n", what);
	return 1;
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -EIO;
}

static int load(const char *path, json_t **ret)
{
	*ret = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	return *ret ? 0 : -EINVAL;
}

static int do_mint(const struct issuer_ops *ops, void *config, const struct issuer_common *c,
		   char **argv)
{
	struct issuer_minted m = {};
	char err[ISSUER_ERR_MAX] = "";
	json_t *scope = NULL, *out;
	char *rev, *text;
	int r;

	if (load(argv[3], &scope) < 0)
		return fail("cannot read the scope file");
	struct issuer_grant g = {
		.name = "gh", .issuer = "github", .run_id = "cli", .scope = scope, .ttl_s = 900
	};
	r = ops->mint(config, c, &g, &m, err, sizeof(err));
	json_decref(scope);
	if (r < 0)
		return fail(err);
	rev = json_dumps(m.revocation, JSON_COMPACT);
	out = json_pack("{s:O, s:I, s:I}", "scope", m.scope, "issued", (json_int_t)m.issued_s,
			"expires", (json_int_t)m.expires_s);
	text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	if (!rev || !text || write_file(argv[4], m.value.data, m.value.len) < 0 ||
	    write_file(argv[5], rev, strlen(rev)) < 0)
		return fail("cannot write the token or the state");
	puts(text);
	free(text);
	free(rev);
	json_decref(out);
	json_decref(m.scope);
	json_decref(m.revocation);
	secure_buf_free(&m.value);
	return 0;
}

static int do_revoke(const struct issuer_ops *ops, void *config, const struct issuer_common *c,
		     char **argv)
{
	char err[ISSUER_ERR_MAX] = "";
	json_t *rev = NULL;
	int r;

	if (load(argv[3], &rev) < 0)
		return fail("cannot read the state file");
	r = ops->revoke(config, c, rev, err, sizeof(err));
	json_decref(rev);
	return r < 0 ? fail(err) : 0;
}

int main(int argc, char **argv)
{
	const struct issuer_ops *ops = &issuer_github_app_ops;
	struct issuer_common c = { .connect_timeout_ms = ISSUER_DEFAULT_CONNECT_TIMEOUT_MS,
				   .timeout_ms = 5000,
				   .max_response = ISSUER_DEFAULT_MAX_RESPONSE };
	char err[ISSUER_ERR_MAX] = "";
	json_t *obj = NULL;
	void *config = NULL;
	int r;

	if (argc < 4 || (strcmp(argv[1], "mint") == 0 ? argc != 6 : argc != 4))
		return fail("usage: mint ISSUER.json SCOPE.json TOKEN STATE | revoke ISSUER.json "
			    "STATE");
	if (load(argv[2], &obj) < 0)
		return fail("cannot read the issuer file");
	if (json_is_string(json_object_get(obj, "ca_file")))
		c.ca_file = strdup(json_string_value(json_object_get(obj, "ca_file")));
	json_object_del(obj, "ca_file");
	r = ops->parse("github", obj, &config, err, sizeof(err));
	json_decref(obj);
	if (r < 0)
		return fail(err);
	if (issuer_http_init() < 0)
		return fail("cannot initialise libcurl");
	r = strcmp(argv[1], "mint") == 0 ? do_mint(ops, config, &c, argv)
					 : do_revoke(ops, config, &c, argv);
	ops->free_config(config);
	free(c.ca_file);
	return r;
}
