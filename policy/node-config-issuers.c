/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The node configuration's "credentials" object: the issuers of minted credentials, keyed
 * by name. Here each issuer's name and "kind" are checked and its object is kept as text;
 * the kind's own keys are parsed strictly by the issuer module (issuer-module.h) when a run
 * with grants, or `airlock config check`, loads it. No I/O, no logging.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "node-config.h"
#include "policy-internal.h"

/* The kinds an issuer module of this build implements (issuer-module.c's table). */
static const char *const kinds[] = {
	"oauth2_client_credentials",
	"http_json",
	"github_app",
};

bool node_issuer_kind_is_known(const char *kind)
{
	for (size_t i = 0; kind && i < ELEMENTSOF(kinds); i++)
		if (streq(kinds[i], kind))
			return true;
	return false;
}

void node_issuers_free(struct node_issuer *issuers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(issuers[i].name);
		free(issuers[i].kind);
		free(issuers[i].json);
	}
	free(issuers);
}

static int dispatch_issuer(const char *path, const char *name, json_t *v, struct node_issuer *i,
			   struct policy_ctx *ctx)
{
	const char *kind = json_string_value(json_object_get(v, "kind"));
	char child[POLICY_MAX_PATH];

	if (!policy_credential_name_is_valid(name))
		return policy_errorf(ctx, path,
				     "expected a name of 1..%d characters [A-Za-z0-9_-] starting "
				     "with a letter or digit",
				     POLICY_MAX_CREDENTIAL_NAME);
	if (!json_is_object(v))
		return policy_errorf(ctx, path, "expected an object");
	policy_path_key(child, sizeof(child), path, "kind");
	if (!kind)
		return policy_errorf(ctx, child, "expected the issuer's kind (a string)");
	if (!node_issuer_kind_is_known(kind))
		return policy_errorf(ctx, child,
				     "unknown kind \"%s\" (known: oauth2_client_credentials, "
				     "http_json, github_app)",
				     kind);
	i->name = strdup(name);
	i->kind = strdup(kind);
	i->json = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	return i->name && i->kind && i->json ? 0 : -ENOMEM;
}

static int dispatch_issuers(const char *path, json_t *v, void *data, struct policy_ctx *ctx)
{
	struct node_config *c = data;
	char child[POLICY_MAX_PATH];
	const char *name;
	json_t *x;
	int r;

	if (json_object_size(v) > NODE_CONFIG_MAX_ISSUERS)
		return policy_errorf(ctx, path, "expected at most %d issuers",
				     NODE_CONFIG_MAX_ISSUERS);
	c->issuers = calloc(json_object_size(v) ?: 1, sizeof(*c->issuers));
	if (!c->issuers)
		return -ENOMEM;
	json_object_foreach(v, name, x)
	{
		policy_path_key(child, sizeof(child), path, name);
		r = dispatch_issuer(child, name, x, &c->issuers[c->n_issuers++], ctx);
		if (r < 0)
			return r;
	}
	return 0;
}

int node_config_dispatch_credentials(const char *path, json_t *v, void *data,
				     struct policy_ctx *ctx)
{
	static const struct policy_field table[] = { { "issuers", POLICY_JSON_OBJECT,
						       dispatch_issuers, 0, false,
						       "an object of issuers by name" },
						     {} };

	return policy_dispatch(path, v, table, data, ctx);
}

const struct node_issuer *node_config_issuer(const struct node_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_issuers; i++)
		if (streq(c->issuers[i].name, name))
			return &c->issuers[i];
	return NULL;
}

json_t *node_config_issuers_json(const struct node_config *c)
{
	_cleanup_json_ json_t *o = json_object();

	for (size_t i = 0; o && i < c->n_issuers; i++)
		if (json_object_set_new(o, c->issuers[i].name,
					json_loads(c->issuers[i].json, 0, NULL)) < 0)
			return NULL;
	return o ? json_pack("{s:O}", "issuers", o) : NULL;
}
