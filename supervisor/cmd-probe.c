/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "macro.h"
#include "probe.h"

static int print_json(const struct probe_result *res, size_t n)
{
	json_t *o = json_object();
	char *text;

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, res[i].name,
				    json_pack("{s:b, s:b, s:s}", "available", res[i].available,
					      "required", res[i].required, "detail",
					      res[i].detail));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return 1;
	printf("%s\n", text);
	free(text);
	return 0;
}

int cmd_probe(int argc, char **argv)
{
	struct probe_result res[PROBE_MAX];
	size_t n = probe_all(res);
	bool missing = false;

	if (argc == 2 && streq(argv[1], "--json"))
		return print_json(res, n);
	if (argc != 1) {
		fprintf(stderr, "Usage: airlock probe [--json]\n");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s: %s", res[i].name, res[i].available ? "yes" : "no");
		if (res[i].detail[0])
			printf(" (%s)", res[i].detail);
		printf("\n");
		missing |= res[i].required && !res[i].available;
	}
	return missing ? 1 : 0;
}
