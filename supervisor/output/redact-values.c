/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The value matcher. The window is normalised (redact-norm.c); then a 4-byte gram is
 * read at every stride-th normalised byte and looked up in a bitmap holding, for each
 * needle, its grams at stride consecutive offsets: a needle (at least stride +
 * REDACT_GRAM - 1 long) found anywhere covers one of the sampled positions at one of
 * those offsets. The stride is the longest the shortest needle allows (from
 * REDACT_STRIDE_MIN to REDACT_STRIDE_MAX): values of 19 characters and more are sampled
 * every 16th byte, not every 5th. A hit in the bitmap is checked in a table of the grams
 * and verified with an exact compare, so the only cost of the bitmap's false positives is
 * that lookup. Grams are compared ignoring ASCII case (hex needles ignore it; the others
 * are verified exactly). Matches and held partial matches are mapped back to the
 * original bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "redact-internal.h"

#define GOLDEN 0x9e3779b1u

struct gram_slot {
	uint32_t key;
	uint32_t first, count; /* entries[first..first+count); count 0: empty slot */
};

struct gram_entry {
	uint32_t key;
	uint32_t needle;
	uint32_t off;
};

struct value_matcher {
	struct needle *needles;
	size_t n_needles;
	uint8_t *arena; /* the needles' bytes */
	size_t arena_size;
	uint64_t *bits;
	size_t bits_size;
	unsigned bits_shift;
	struct gram_slot *slots;
	size_t slots_size;
	unsigned slots_shift;
	struct gram_entry *entries;
	size_t entries_size;
	uint64_t *prefixes; /* open addressing; 0 is empty */
	size_t prefixes_size;
	size_t longest;
	size_t stride; /* sampled positions are this far apart */
	size_t tail_max; /* the longest partial that may have no sampled gram */
};

/* The value matcher's own mode beside enum scan_end: a string sequence's text, whole. */
#define SCAN_REGION (SCAN_FINAL + 1)

struct vmatch {
	size_t s, e; /* normalised offsets */
	uint32_t rule;
	size_t os, oe; /* original offsets */
};

struct value_scratch {
	uint8_t *skel;
	size_t skel_cap;
	struct norm_result norm;
	struct vmatch *m;
	size_t n_m, cap_m;
	struct norm_query *q;
	size_t cap_q;
	/* The layout of the last main scan, for value_scan_context(). */
	size_t ctx_len, m_len, consumed;
	uint8_t *rskel; /* a string sequence's text, normalised */
	size_t rskel_cap;
};

static unsigned log2_ceil(size_t v)
{
	unsigned b = 0;

	while (((size_t)1 << b) < v)
		b++;
	return b;
}

static uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static bool needle_eq(const struct needle *nd, const uint8_t *s, size_t len)
{
	if (!(nd->flags & NEEDLE_FOLD))
		return memcmp(nd->b, s, len) == 0;
	for (size_t i = 0; i < len; i++)
		if (lower(s[i]) != nd->b[i])
			return false;
	return true;
}

/*
 * A hash of a prefix (case folded) and its length; never 0. A collision only holds
 * output a little longer. The bytes are taken from the last to the first, so that the
 * keys of all the suffixes of a window's end come one from the next (tail_keys()).
 */
#define PREFIX_BASIS 0xcbf29ce484222325ull

static uint64_t prefix_step(uint64_t h, uint8_t c)
{
	return (h ^ lower(c)) * 0x100000001b3ull;
}

static uint64_t prefix_end(uint64_t h, size_t k)
{
	return (h + k * 0x9e3779b97f4a7c15ull) | 1;
}

static uint64_t prefix_key(const uint8_t *p, size_t k)
{
	uint64_t h = PREFIX_BASIS;

	for (size_t i = k; i > 0; i--)
		h = prefix_step(h, p[i - 1]);
	return prefix_end(h, k);
}

static size_t prefix_slot(const struct value_matcher *vm, uint64_t key)
{
	size_t mask = vm->prefixes_size / sizeof(uint64_t) - 1;
	size_t i = (key * 0x9e3779b97f4a7c15ull) >> 32 & mask;

	while (vm->prefixes[i] != 0 && vm->prefixes[i] != key)
		i = (i + 1) & mask;
	return i;
}

static bool prefix_has(const struct value_matcher *vm, uint64_t key)
{
	return vm->prefixes[prefix_slot(vm, key)] == key;
}

/* A gram's cost as a sampling point: frequent in text (repeats, punctuation) is dear. */
static unsigned gram_cost(const uint8_t *p)
{
	unsigned cost = p[0] == p[1] && p[1] == p[2] && p[2] == p[3] ? 8 : 0;

	for (size_t i = 0; i < REDACT_GRAM; i++)
		if (!((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') &&
		    !(p[i] >= '0' && p[i] <= '9'))
			cost++;
	return cost;
}

/* The first of the stride offsets of a needle whose grams go in the table. */
static size_t gram_window(const struct needle *nd, size_t stride)
{
	size_t best = 0, last = nd->len - (stride + REDACT_GRAM - 1);
	unsigned best_cost = ~0u;

	if (last > REDACT_GRAM_SHIFT_MAX)
		last = REDACT_GRAM_SHIFT_MAX;
	for (size_t o = 0; o <= last; o++) {
		unsigned cost = 0;

		for (size_t k = 0; k < stride; k++)
			cost += gram_cost(nd->b + o + k);
		if (cost < best_cost) {
			best_cost = cost;
			best = o;
		}
	}
	return best;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct gram_entry *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static int build_needles(struct value_matcher *vm, const struct redact_value *values, size_t n)
{
	size_t size = 0, off = 0;

	for (size_t i = 0; i < n; i++)
		size += forms_size(values[i].len);
	vm->arena = redact_secret_alloc(size);
	vm->needles = calloc(n * REDACT_FORMS_MAX, sizeof(struct needle));
	if (!vm->arena || !vm->needles)
		return -ENOMEM;
	vm->arena_size = size;

	for (size_t i = 0; i < n; i++) {
		size_t k = forms_build(values[i].bytes, values[i].len, values[i].rule,
				       vm->arena + off, vm->needles + vm->n_needles);

		for (size_t j = vm->n_needles; j < vm->n_needles + k; j++)
			if (vm->needles[j].len > vm->longest)
				vm->longest = vm->needles[j].len;
		vm->n_needles += k;
		off += forms_size(values[i].len);
	}
	/* Each needle must span a stride of grams: the shortest sets it. */
	vm->stride = REDACT_STRIDE_MAX;
	for (size_t j = 0; j < vm->n_needles; j++)
		if (vm->needles[j].len - (REDACT_GRAM - 1) < vm->stride)
			vm->stride = vm->needles[j].len - (REDACT_GRAM - 1);
	/* At most REDACT_TAIL_MAX (the stride at most REDACT_STRIDE_MAX): tail_scan()'s keys. */
	vm->tail_max = vm->stride + REDACT_GRAM - 2 + REDACT_GRAM_SHIFT_MAX;
	return 0;
}

static int build_grams(struct value_matcher *vm)
{
	size_t stride = vm->stride, n = vm->n_needles * stride, distinct = 0;
	unsigned bits_log2, slots_log2;

	vm->entries_size = n * sizeof(struct gram_entry);
	vm->entries = redact_secret_alloc(vm->entries_size);
	if (!vm->entries)
		return -ENOMEM;
	for (size_t i = 0; i < vm->n_needles; i++) {
		size_t o = gram_window(&vm->needles[i], stride);

		for (size_t k = 0; k < stride; k++)
			vm->entries[i * stride + k] = (struct gram_entry){
				.key = load32(vm->needles[i].b + o + k) | 0x20202020u,
				.needle = i,
				.off = o + k,
			};
	}
	qsort(vm->entries, n, sizeof(struct gram_entry), entry_cmp);
	for (size_t i = 0; i < n; i++)
		distinct += i == 0 || vm->entries[i].key != vm->entries[i - 1].key;

	bits_log2 = log2_ceil(n * 64);
	bits_log2 = bits_log2 < 12 ? 12 : bits_log2 > 22 ? 22 : bits_log2;
	vm->bits_shift = 32 - bits_log2;
	vm->bits_size = ((size_t)1 << bits_log2) / 8;
	slots_log2 = log2_ceil(distinct * 2);
	slots_log2 = slots_log2 < 4 ? 4 : slots_log2;
	vm->slots_shift = 32 - slots_log2;
	vm->slots_size = ((size_t)1 << slots_log2) * sizeof(struct gram_slot);
	vm->bits = redact_secret_alloc(vm->bits_size);
	vm->slots = redact_secret_alloc(vm->slots_size);
	if (!vm->bits || !vm->slots)
		return -ENOMEM;

	for (size_t i = 0; i < n;) {
		uint32_t key = vm->entries[i].key, h = key * GOLDEN, b = h >> vm->bits_shift;
		size_t mask = ((size_t)1 << slots_log2) - 1, s = h >> vm->slots_shift, j = i;

		vm->bits[b >> 6] |= (uint64_t)1 << (b & 63);
		while (j < n && vm->entries[j].key == key)
			j++;
		while (vm->slots[s].count != 0)
			s = (s + 1) & mask;
		vm->slots[s] = (struct gram_slot){ .key = key, .first = i, .count = j - i };
		i = j;
	}
	return 0;
}

static int build_prefixes(struct value_matcher *vm)
{
	size_t n = vm->n_needles * vm->tail_max;

	vm->prefixes_size = ((size_t)1 << log2_ceil(n * 2 + 2)) * sizeof(uint64_t);
	vm->prefixes = redact_secret_alloc(vm->prefixes_size);
	if (!vm->prefixes)
		return -ENOMEM;
	for (size_t i = 0; i < vm->n_needles; i++)
		for (size_t k = 1; k <= vm->tail_max && k < vm->needles[i].len; k++) {
			uint64_t key = prefix_key(vm->needles[i].b, k);

			vm->prefixes[prefix_slot(vm, key)] = key;
		}
	return 0;
}

struct value_matcher *value_matcher_free(struct value_matcher *vm)
{
	if (!vm)
		return NULL;
	redact_secret_free(vm->arena, vm->arena_size);
	redact_secret_free(vm->bits, vm->bits_size);
	redact_secret_free(vm->slots, vm->slots_size);
	redact_secret_free(vm->entries, vm->entries_size);
	redact_secret_free(vm->prefixes, vm->prefixes_size);
	free(vm->needles);
	free(vm);
	return NULL;
}

int value_matcher_build(const struct redact_value *values, size_t n, struct value_matcher **ret)
{
	struct value_matcher *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		return -ENOMEM;
	r = build_needles(vm, values, n);
	if (r >= 0)
		r = build_grams(vm);
	if (r >= 0)
		r = build_prefixes(vm);
	if (r < 0) {
		value_matcher_free(vm);
		return r;
	}
	*ret = vm;
	return 0;
}

size_t value_matcher_longest(const struct value_matcher *vm)
{
	return vm ? vm->longest : 0;
}

struct value_scratch *value_scratch_free(struct value_scratch *sc)
{
	if (!sc)
		return NULL;
	free(sc->skel);
	free(sc->rskel);
	norm_result_done(&sc->norm);
	free(sc->m);
	free(sc->q);
	free(sc);
	return NULL;
}

int value_scratch_new(struct value_scratch **ret)
{
	*ret = calloc(1, sizeof(struct value_scratch));
	return *ret ? 0 : -ENOMEM;
}

static int grow(void **p, size_t *cap, size_t want, size_t size)
{
	void *np;

	if (want <= *cap)
		return 0;
	if (want < *cap * 2)
		want = *cap * 2;
	np = realloc(*p, want * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = want;
	return 0;
}

static int match_push(struct value_scratch *sc, size_t s, size_t e, uint32_t rule)
{
	if (grow((void **)&sc->m, &sc->cap_m, sc->n_m + 1, sizeof(struct vmatch)) < 0)
		return -ENOMEM;
	sc->m[sc->n_m++] = (struct vmatch){ .s = s, .e = e, .rule = rule };
	return 0;
}

/* One scan over skel[0..m), the first ctx_len bytes of which are emitted context. */
struct segment {
	const uint8_t *skel;
	size_t m, ctx_len;
	int mode; /* enum scan_end, or SCAN_REGION */
	size_t pend; /* normalised offset of the earliest partial to hold, or SIZE_MAX */
};

static void hold(struct segment *g, size_t s)
{
	if (s < g->pend)
		g->pend = s;
}

/*
 * A complete match at skel[i..i+len). A base64 needle takes in the character after it that
 * carries some of its last bits (whether there is one is known only when the next byte
 * is: until then the match is held). The one before, which mixes its first bits with the
 * byte before it, stays: taking it in would make the output depend on where the writes
 * were split (it may have gone out before the value began), for 2 or 4 bits.
 */
static int complete(struct value_scratch *sc, struct segment *g, const struct needle *nd, size_t i)
{
	size_t s = i, e = i + nd->len;

	if (nd->flags & NEEDLE_B64_POST) {
		if (e == g->m && g->mode <= SCAN_FLUSH) {
			hold(g, s);
			return 0;
		}
		if (e < g->m && forms_is_b64(g->skel[e]))
			e++;
	}
	return match_push(sc, s, e, nd->rule);
}

static int candidates(const struct value_matcher *vm, struct value_scratch *sc, struct segment *g,
		      size_t p, uint32_t key)
{
	size_t mask = vm->slots_size / sizeof(struct gram_slot) - 1;
	size_t s = (key * GOLDEN) >> vm->slots_shift;
	const struct gram_slot *slot;

	for (;; s = (s + 1) & mask) {
		slot = &vm->slots[s];
		if (slot->count == 0)
			return 0;
		if (slot->key == key)
			break;
	}
	for (size_t k = slot->first; k < slot->first + slot->count; k++) {
		const struct gram_entry *e = &vm->entries[k];
		const struct needle *nd = &vm->needles[e->needle];
		size_t i = p - e->off, avail;
		int r;

		if (e->off > p)
			continue;
		avail = g->m - i;
		if (avail >= nd->len) {
			if (needle_eq(nd, g->skel + i, nd->len) && (r = complete(sc, g, nd, i)) < 0)
				return r;
		} else if (needle_eq(nd, g->skel + i, avail)) {
			if (g->mode <= SCAN_FLUSH)
				hold(g, i);
			else if (g->mode == SCAN_FINAL && avail >= REDACT_PARTIAL_MIN &&
				 (r = match_push(sc, i, g->m, nd->rule)) < 0)
				return r;
		}
	}
	return 0;
}

static int gram_scan(const struct value_matcher *vm, struct value_scratch *sc, struct segment *g)
{
	const uint8_t *skel = g->skel;
	const uint64_t *bits = vm->bits;
	unsigned shift = vm->bits_shift;
	size_t stride = vm->stride;
	int r;

	for (size_t p = 0; p + REDACT_GRAM <= g->m; p += stride) {
		uint32_t key = load32(skel + p) | 0x20202020u, b = (key * GOLDEN) >> shift;

		if (__builtin_expect(!(bits[b >> 6] >> (b & 63) & 1), 1))
			continue;
		r = candidates(vm, sc, g, p, key);
		if (r < 0)
			return r;
	}
	return 0;
}

/* keys[k]: prefix_key() of the last k of the m bytes at p, for k from 1 to max (<= m). */
static void tail_keys(const uint8_t *p, size_t m, size_t max, uint64_t *keys)
{
	uint64_t h = PREFIX_BASIS;

	for (size_t k = 1; k <= max; k++) {
		h = prefix_step(h, p[m - k]);
		keys[k] = prefix_end(h, k);
	}
}

/* Partials that may have no sampled gram: 1..tail_max bytes (from
 * REDACT_PARTIAL_MIN when flushing or at the end). */
static int tail_scan(const struct value_matcher *vm, struct value_scratch *sc, struct segment *g)
{
	size_t min = g->mode == SCAN_STREAM ? 1 : REDACT_PARTIAL_MIN;
	size_t max = vm->tail_max < g->m ? vm->tail_max : g->m;
	uint64_t keys[REDACT_TAIL_MAX + 1];

	if (g->mode != SCAN_FINAL) {
		tail_keys(g->skel, g->m, max, keys);
		for (size_t k = max; k >= min; k--)
			if (prefix_has(vm, keys[k])) {
				hold(g, g->m - k);
				return 0;
			}
		return 0;
	}
	for (size_t k = max; k >= min; k--) {
		size_t s = g->m - k;

		for (size_t i = 0; i < vm->n_needles; i++)
			if (vm->needles[i].len > k && needle_eq(&vm->needles[i], g->skel + s, k))
				return match_push(sc, s, g->m, vm->needles[i].rule);
	}
	return 0;
}

static int query_cmp(const void *a, const void *b)
{
	const struct norm_query *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Maps the matches (and the held partial) of a segment of in[0..n) back to input offsets,
 * plus base, and appends them.
 */
static int resolve(struct value_scratch *sc, const struct segment *g, const uint8_t *in, size_t n,
		   bool final, const struct norm_result *res, size_t base, struct span_list *spans,
		   size_t *pending)
{
	size_t nq = 0, pend_orig = 0, unused;
	int r;

	if (sc->n_m == 0 && g->pend == SIZE_MAX)
		return 0;
	r = grow((void **)&sc->q, &sc->cap_q, 2 * sc->n_m + 1, sizeof(struct norm_query));
	if (r < 0)
		return r;
	for (size_t i = 0; i < sc->n_m; i++) {
		struct vmatch *v = &sc->m[i];

		v->os = 0;
		if (v->s >= g->ctx_len)
			sc->q[nq++] = (struct norm_query){ v->s - g->ctx_len, &v->os, &unused };
		sc->q[nq++] = (struct norm_query){ v->e - 1 - g->ctx_len, &unused, &v->oe };
	}
	if (g->pend != SIZE_MAX && g->pend >= g->ctx_len)
		sc->q[nq++] = (struct norm_query){ g->pend - g->ctx_len, &pend_orig, &unused };
	qsort(sc->q, nq, sizeof(struct norm_query), query_cmp);
	norm_map(in, n, final, res, sc->q, nq);

	for (size_t i = 0; i < sc->n_m; i++) {
		r = span_list_push(spans, base + sc->m[i].os, base + sc->m[i].oe, sc->m[i].rule);
		if (r < 0)
			return r;
	}
	if (g->pend != SIZE_MAX && base + pend_orig < *pending)
		*pending = base + pend_orig;
	return 0;
}

/* The text of a terminal string sequence, complete: scanned on its own. */
static int scan_region(const struct value_matcher *vm, struct value_scratch *sc, const uint8_t *win,
		       const struct norm_region *rg, struct span_list *spans)
{
	struct norm_result res = {};
	struct segment g = { .mode = SCAN_REGION, .pend = SIZE_MAX };
	size_t unused = SIZE_MAX;
	int r;

	r = grow((void **)&sc->rskel, &sc->rskel_cap, rg->end - rg->start + NORM_ROOM, 1);
	if (r < 0)
		return r;
	g.skel = sc->rskel;
	r = norm_run(win + rg->start, rg->end - rg->start, true, sc->rskel, &res);
	if (r >= 0) {
		g.m = res.m;
		sc->n_m = 0;
		r = gram_scan(vm, sc, &g);
	}
	if (r >= 0)
		r = resolve(sc, &g, win + rg->start, rg->end - rg->start, true, &res, rg->start,
			    spans, &unused);
	norm_result_done(&res);
	return r;
}

/*
 * The end of the stream inside an unfinished unit (an escape, a terminal sequence, a UTF-8
 * character): the final normalisation renders that unit as text, so a partial value just
 * before it would no longer end the normalised text. What precedes the unit is scanned as
 * the end, and a match that ends there takes the unit in.
 */
static int final_unfinished(const struct value_matcher *vm, struct value_scratch *sc,
			    size_t ctx_len, const uint8_t *win, size_t n, struct span_list *spans)
{
	struct segment g = { .ctx_len = ctx_len, .mode = SCAN_FINAL, .pend = SIZE_MAX };
	size_t first = spans->n, k = 0, unused = SIZE_MAX;
	int r;

	r = norm_run(win, n, false, sc->skel + ctx_len, &sc->norm);
	if (r < 0 || sc->norm.consumed == n)
		return r;
	g.skel = sc->skel;
	g.m = ctx_len + sc->norm.m;
	sc->n_m = 0;
	r = gram_scan(vm, sc, &g);
	if (r >= 0)
		r = tail_scan(vm, sc, &g);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sc->n_m; i++)
		if (sc->m[i].e == g.m)
			sc->m[k++] = sc->m[i];
	sc->n_m = k;
	r = resolve(sc, &g, win, n, false, &sc->norm, 0, spans, &unused);
	for (size_t i = first; r >= 0 && i < spans->n; i++)
		spans->v[i].end = n;
	return r;
}

int value_scan(const struct value_matcher *vm, struct value_scratch *sc, size_t raw_pre,
	       const uint8_t *ctx, size_t ctx_len, const uint8_t *win, size_t n, enum scan_end end,
	       struct span_list *spans, size_t *pending)
{
	struct segment g = { .ctx_len = ctx_len, .mode = end, .pend = SIZE_MAX };
	bool final = end == SCAN_FINAL;
	int r;

	r = grow((void **)&sc->skel, &sc->skel_cap, ctx_len + n + NORM_ROOM, 1);
	if (r < 0)
		return r;
	if (ctx_len > 0)
		memcpy(sc->skel, ctx, ctx_len);
	sc->norm.pre = raw_pre;
	if (final && n > 0) {
		r = final_unfinished(vm, sc, ctx_len, win, n, spans);
		if (r < 0)
			return r;
	}
	r = norm_run(win, n, final, sc->skel + ctx_len, &sc->norm);
	if (r < 0)
		return r;
	g.skel = sc->skel;
	g.m = ctx_len + sc->norm.m;
	sc->ctx_len = ctx_len;
	sc->m_len = g.m;
	sc->consumed = sc->norm.consumed;
	if (!final && sc->norm.consumed < *pending)
		*pending = sc->norm.consumed;

	sc->n_m = 0;
	r = gram_scan(vm, sc, &g);
	if (r >= 0)
		r = tail_scan(vm, sc, &g);
	if (r >= 0)
		r = resolve(sc, &g, win, n, final, &sc->norm, 0, spans, pending);
	if (r < 0)
		return r;

	for (size_t i = 0; i < sc->norm.n_regions; i++) {
		r = scan_region(vm, sc, win, &sc->norm.regions[i], spans);
		if (r < 0)
			return r;
	}
	return 0;
}

size_t value_scan_unit_floor(const struct value_scratch *sc, const uint8_t *win, size_t n, size_t p)
{
	return norm_unit_floor(win, n, &sc->norm, p);
}

size_t value_scan_context(const struct value_scratch *sc, const uint8_t *win, size_t p,
			  uint8_t *ctx)
{
	size_t end = p >= sc->consumed ? sc->m_len : sc->ctx_len + norm_count(win, &sc->norm, p);
	size_t len = end < REDACT_VALUE_CTX ? end : REDACT_VALUE_CTX;

	memcpy(ctx, sc->skel + end - len, len);
	return len;
}
