/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rule set: names, values, patterns; compiling it into the matchers. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "redact-internal.h"
#include "redact-rules.h"

void *redact_secret_alloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/*
	 * Left out of core dumps: the values, their forms and the tables built from them. And
	 * out of every child: the sandbox's init is a clone of the supervisor that lives as
	 * long as the task, in the task's own pid namespace and with the task's uid.
	 */
	if (madvise(p, size, MADV_DONTDUMP) < 0 || madvise(p, size, MADV_WIPEONFORK) < 0) {
		munmap(p, size);
		return NULL;
	}
	return p;
}

void redact_secret_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size == 0)
		size = 1;
	explicit_bzero(p, size);
	munmap(p, size);
}

int span_list_push(struct span_list *l, size_t start, size_t end, uint32_t rule)
{
	return span_list_push_anchored(l, start, start, end, rule);
}

int span_list_push_anchored(struct span_list *l, size_t anchor, size_t start, size_t end,
			    uint32_t rule)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct redact_span *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct redact_span){ start, end, anchor, rule };
	return 0;
}

void span_list_done(struct span_list *l)
{
	free(l->v);
	*l = (struct span_list){};
}

static const char *const kind_names[_REDACT_RULE_KIND_MAX] = {
	[REDACT_RULE_VALUE] = "value",
	[REDACT_RULE_BUILTIN] = "builtin",
	[REDACT_RULE_PATTERN] = "pattern",
};

const char *redact_rule_kind_to_string(enum redact_rule_kind k)
{
	return k >= 0 && k < _REDACT_RULE_KIND_MAX ? kind_names[k] : NULL;
}

static bool name_is_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > REDACT_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == ':'))
			return false;
	}
	return true;
}

static int rule_add(struct redactor *r, const char *name, enum redact_rule_kind kind)
{
	struct redact_rule *v;

	if (r->n_rules == r->cap_rules) {
		size_t cap = r->cap_rules ? r->cap_rules * 2 : 16;

		v = realloc(r->rules, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->rules = v;
		r->cap_rules = cap;
	}
	v = &r->rules[r->n_rules];
	*v = (struct redact_rule){ .kind = kind };
	v->name = strdup(name);
	if (!v->name)
		return -ENOMEM;
	return r->n_rules++;
}

static int rule_find(const struct redactor *r, const char *name, enum redact_rule_kind kind)
{
	for (size_t i = 0; i < r->n_rules; i++)
		if (r->rules[i].kind == kind && strcmp(r->rules[i].name, name) == 0)
			return i;
	return -ENOENT;
}

int redactor_new(bool builtin_patterns, struct redactor **ret)
{
	struct redactor *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	for (int id = 0; builtin_patterns && id < _BUILTIN_MAX; id++)
		if (rule_add(r, builtin_name(id), REDACT_RULE_BUILTIN) < 0) {
			redactor_free(r);
			return -ENOMEM;
		}
	r->builtin = builtin_patterns;
	*ret = r;
	return 0;
}

/*
 * The values' bytes are taken from chunks of secret memory, many values to one mapping:
 * each mapping costs three syscalls and its page faults, which for 64 values (32 slots,
 * each also registered without its trailing newline) were milliseconds of a run's start.
 */
#define SECRET_CHUNK (64 * 1024)

struct secret_chunk {
	struct secret_chunk *next;
	size_t size, used; /* of data */
	uint8_t data[];
};

static uint8_t *secret_take(struct redactor *r, size_t len)
{
	struct secret_chunk *c = r->chunks;

	if (!c || c->size - c->used < len) {
		size_t size = sizeof(*c) + len > SECRET_CHUNK ? sizeof(*c) + len : SECRET_CHUNK;

		c = redact_secret_alloc(size);
		if (!c)
			return NULL;
		*c = (struct secret_chunk){ .next = r->chunks, .size = size - sizeof(*c) };
		r->chunks = c;
	}
	c->used += len;
	return c->data + c->used - len;
}

/* Wipes and gives back p, the last len bytes taken. */
static void secret_give_back(struct redactor *r, uint8_t *p, size_t len)
{
	explicit_bzero(p, len);
	r->chunks->used -= len;
}

struct redactor *redactor_free(struct redactor *r)
{
	if (!r)
		return NULL;
	while (r->chunks) {
		struct secret_chunk *c = r->chunks;

		r->chunks = c->next;
		redact_secret_free(c, sizeof(*c) + c->size);
	}
	free(r->values);
	for (size_t i = 0; i < r->n_rules; i++)
		free(r->rules[i].name);
	free(r->rules);
	value_matcher_free(r->vm);
	pattern_set_free(r->patterns);
	free(r);
	return NULL;
}

static int value_push(struct redactor *r, int rule, const uint8_t *value, size_t len)
{
	struct redact_value *v;

	v = realloc(r->values, (r->n_values + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->values = v;
	v = &r->values[r->n_values];
	v->bytes = secret_take(r, len);
	if (!v->bytes)
		return -ENOMEM;
	memcpy(v->bytes, value, len);
	v->len = len;
	v->rule = rule;
	r->n_values++;
	return 0;
}

/* ASCII whitespace that tools take off a value's ends: $(cat FILE), read, strip(). */
static bool is_edge_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * The bytes of value b (len) besides whitespace, as it is (*ret_raw) and as the
 * normaliser decodes it (*ret_decoded), with norm (len bytes) as scratch. A value ending in
 * a backslash is also looked for without it (redact-forms.c: the character after it in
 * the text may join it into an escape), and so is its twin without whitespace at the
 * ends: each such needle must be long enough too.
 */
static void value_counts(const uint8_t *b, size_t len, uint8_t *norm, size_t *ret_raw,
			 size_t *ret_decoded)
{
	size_t end = len, lead = 0, m;

	*ret_raw = 0;
	for (size_t i = 0; i < len; i++)
		*ret_raw += b[i] > 0x20 && b[i] != 0x7f;
	*ret_decoded = norm_value(b, len, norm);
	while (end > 0 && is_edge_space(b[end - 1]))
		end--;
	if (end <= 1 || b[end - 1] != '\\')
		return;
	while (lead < end && is_edge_space(b[lead]))
		lead++;
	m = norm_value(b + lead, end - 1 - lead, norm);
	if (m < *ret_decoded)
		*ret_decoded = m;
}

int redact_value_counts(const void *value, size_t len, size_t *ret_raw, size_t *ret_decoded)
{
	uint8_t *norm;

	*ret_raw = 0;
	*ret_decoded = 0;
	if (len == 0)
		return 0;
	norm = redact_secret_alloc(len);
	if (!norm)
		return -ENOMEM;
	value_counts(value, len, norm, ret_raw, ret_decoded);
	redact_secret_free(norm, len);
	return 0;
}

int redactor_add_value(struct redactor *r, const char *name, const void *value, size_t len)
{
	const uint8_t *b = value;
	size_t raw, decoded, lead = 0, end = len;
	bool trimmed;
	uint8_t *norm;
	int rule, k;

	if (r->compiled)
		return -EBUSY;
	if (!name_is_valid(name) || !value)
		return -EINVAL;
	while (lead < end && is_edge_space(b[lead]))
		lead++;
	while (end > lead && is_edge_space(b[end - 1]))
		end--;
	/* A value with whitespace at its ends is also registered without it (a second
	 * value): a file written with echo ends in a newline, which the task's $(cat FILE)
	 * takes off before it encodes the value. */
	trimmed = lead > 0 || end < len;
	if (len > REDACT_MAX_VALUE || r->n_values + 1 + trimmed > REDACT_MAX_VALUES)
		return -E2BIG;
	/* Both the value as it appears and as decoded must be long enough; the scratch is
	 * the secret chunk's, given back (a mapping per value cost 3 syscalls and a fault). */
	norm = secret_take(r, len);
	if (!norm)
		return -ENOMEM;
	value_counts(b, len, norm, &raw, &decoded);
	secret_give_back(r, norm, len);
	if (raw < REDACT_MIN_VALUE || decoded < REDACT_MIN_VALUE)
		return -EINVAL;

	rule = rule_find(r, name, REDACT_RULE_VALUE);
	if (rule < 0)
		rule = rule_add(r, name, REDACT_RULE_VALUE);
	if (rule < 0)
		return rule;
	k = value_push(r, rule, b, len);
	if (k >= 0 && trimmed)
		k = value_push(r, rule, b + lead, end - lead);
	return k;
}

int redactor_add_pattern(struct redactor *r, const char *name, const char *pattern,
			 struct redact_pattern_error *reterr)
{
	int rule, k;

	if (r->compiled)
		return -EBUSY;
	if (!name_is_valid(name) || !pattern)
		return -EINVAL;
	if (strlen(pattern) > REDACT_MAX_PATTERN || r->n_patterns >= REDACT_MAX_PATTERNS)
		return -E2BIG;
	if (rule_find(r, name, REDACT_RULE_PATTERN) >= 0)
		return -EEXIST;
	rule = rule_add(r, name, REDACT_RULE_PATTERN);
	if (rule < 0)
		return rule;
	k = pattern_set_add(&r->patterns, pattern, rule, reterr);
	if (k < 0) {
		free(r->rules[--r->n_rules].name);
		return k;
	}
	r->n_patterns++;
	return 0;
}

int redactor_compile(struct redactor *r)
{
	int k;

	if (r->compiled)
		return -EBUSY;
	if (r->n_values > 0) {
		k = value_matcher_build(r->values, r->n_values, &r->vm);
		if (k < 0)
			return k;
	}
	r->compiled = true;
	return 0;
}

size_t redactor_n_rules(const struct redactor *r)
{
	return r->n_rules;
}

const char *redactor_rule_name(const struct redactor *r, size_t rule)
{
	return rule < r->n_rules ? r->rules[rule].name : NULL;
}

enum redact_rule_kind redactor_rule_kind(const struct redactor *r, size_t rule)
{
	return rule < r->n_rules ? r->rules[rule].kind : _REDACT_RULE_KIND_INVALID;
}

size_t redactor_hold_max(const struct redactor *r)
{
	size_t h = value_matcher_longest(r->vm);

	if (r->builtin && h < REDACT_BUILTIN_MAX)
		h = REDACT_BUILTIN_MAX;
	if (r->n_patterns > 0 && h < REDACT_PATTERN_HOLD)
		h = REDACT_PATTERN_HOLD;
	return h;
}
