/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The built-in token patterns. A vector prefilter (GCC vector extensions: SSE2 or AVX2 on
 * x86-64, NEON on arm64) tests 32 positions at a time for two or three characters of each
 * pattern's literal prefix at fixed distances; with AVX-512, 64 positions for the first six
 * characters of every literal, by table lookups (trigger_next()). A position that passes
 * goes to the hand-written matcher of its first character. Matchers see the raw bytes (not the
 * normalised text) and return how the token at p ends:
 *  BM_NONE   no token here;
 *  BM_MORE   the token may go on past the bytes available: hold from p;
 *  BM_MATCH  redact p[start..end) (and, with arm, look for an AWS secret key after it).
 * A literal prefix ("ghp_", "-----BEGIN ", ...) cut by the end of the window is held like
 * a token in progress, except by a flush: then the next window's REDACT_RAW_CTX bytes of
 * context (longer than every prefix) still let the token be found, its label starting
 * after the part of the prefix that went out.
 */
#include <stdlib.h>
#include <string.h>

#include "redact-builtin.h"
#include "redact-internal.h"
#include "simd.h"

#define AWS_SECRET_LEN 40
#define AWS_NEAR 256 /* bytes after a key id or keyword where a secret key is looked for */

const uint8_t builtin_cls[256] = {
	['A' ... 'Z'] = C_UPPER, ['a' ... 'z'] = C_LOWER, ['0' ... '9'] = C_DIGIT,
	['_'] = C_USCORE,	 ['-'] = C_DASH,	  ['.'] = C_DOT,
	['+'] = C_PLUS_SLASH,	 ['/'] = C_PLUS_SLASH,
};

static const char *const names[_BUILTIN_MAX] = {
	[BUILTIN_GITHUB] = "github-token",
	[BUILTIN_GITLAB] = "gitlab-token",
	[BUILTIN_AWS_KEY_ID] = "aws-access-key-id",
	[BUILTIN_AWS_SECRET] = "aws-secret-access-key",
	[BUILTIN_SLACK] = "slack-token",
	[BUILTIN_NPM] = "npm-token",
	[BUILTIN_PYPI] = "pypi-token",
	[BUILTIN_PRIVATE_KEY] = "private-key",
	[BUILTIN_JWT] = "jwt",
	[BUILTIN_AUTHORIZATION] = "authorization",
};

const char *builtin_name(enum builtin_id id)
{
	return id < _BUILTIN_MAX ? names[id] : NULL;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* p against the literal s (ASCII case ignored with fold): 1 it matches, 0 the avail bytes
 * match but are fewer, -1 it does not. */
int builtin_lit(const uint8_t *p, size_t avail, const char *s, bool fold)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i == avail)
			return 0;
		if ((fold ? lower(p[i]) : p[i]) != (uint8_t)s[i])
			return -1;
	}
	return 1;
}

static size_t run(const uint8_t *p, size_t from, size_t avail, uint8_t mask, size_t max)
{
	size_t j = from;

	while (j < avail && j - from < max && (builtin_cls[p[j]] & mask))
		j++;
	return j - from;
}

/* A token: p[0..from) matched, then min..max characters of mask. */
static int token(const uint8_t *p, size_t from, size_t avail, bool final, uint8_t mask, size_t min,
		 size_t max, struct bm *m)
{
	size_t len = run(p, from, avail, mask, max);

	if (from + len == avail && !final && len < max)
		return BM_MORE;
	if (len < min)
		return BM_NONE;
	*m = (struct bm){ 0, from + len, false };
	return BM_MATCH;
}

/* ghp_ gho_ ghs_ ghu_ ghr_, github_pat_, glpat- */
static int match_g(const uint8_t *p, size_t avail, bool final, struct bm *m, int *id)
{
	*id = BUILTIN_GITHUB;
	if (builtin_lit(p, avail, "github_pat_", false) == 1)
		return token(p, 11, avail, final, C_ALNUM | C_USCORE, 22, 255, m);
	if (avail >= 4 && p[1] == 'h' && memchr("pousr", p[2], 5) && p[3] == '_')
		return token(p, 4, avail, final, C_ALNUM, 30, 251, m);
	*id = BUILTIN_GITLAB;
	if (builtin_lit(p, avail, "glpat-", false) == 1)
		return token(p, 6, avail, final, C_B64URL | C_DOT, 20, 300, m);
	return BM_NONE;
}

/* AKIA or ASIA and 16 of [A-Z0-9], standing alone. prev: the byte before, -1 when the
 * stream starts here, -2 when it is not known (gone with the context). */
static int match_aws_id(const uint8_t *p, size_t avail, bool final, int prev, struct bm *m)
{
	size_t len;

	if (avail < 4 || (p[1] != 'K' && p[1] != 'S') || p[2] != 'I' || p[3] != 'A')
		return BM_NONE;
	if (prev == -2 || (prev >= 0 && (builtin_cls[prev] & (C_UPPER | C_DIGIT))))
		return BM_NONE;
	len = run(p, 4, avail, C_UPPER | C_DIGIT, 17);
	if (4 + len == avail && !final && len <= 16)
		return BM_MORE;
	if (len != 16)
		return BM_NONE;
	*m = (struct bm){ 0, 20, true };
	return BM_MATCH;
}

/* secret[_-]access[_-]key, any case: arms the AWS secret key search. */
static int match_keyword(const uint8_t *p, size_t avail, struct bm *m)
{
	size_t j = 6;

	if (builtin_lit(p, avail, "secret", true) != 1)
		return BM_NONE;
	if (j < avail && (p[j] == '_' || p[j] == '-'))
		j++;
	if (j >= avail || builtin_lit(p + j, avail - j, "access", true) != 1)
		return BM_NONE;
	j += 6;
	if (j < avail && (p[j] == '_' || p[j] == '-'))
		j++;
	if (j >= avail || builtin_lit(p + j, avail - j, "key", true) != 1)
		return BM_NONE;
	*m = (struct bm){ j + 3, j + 3, true };
	return BM_MATCH;
}

/* The end of a run of backslashes at p + j (at most 8: a block escaped that many times). */
size_t builtin_backslashes(const uint8_t *p, size_t j, size_t avail)
{
	size_t k = j;

	while (k < avail && k - j < 8 && p[k] == '\\')
		k++;
	return k;
}

size_t builtin_skip_blanks(const uint8_t *p, size_t j, size_t avail)
{
	for (size_t k = 0; j < avail && k < 64 && (p[j] == ' ' || p[j] == '\t'); k++)
		j++;
	return j;
}

int builtin_quote(const uint8_t *p, size_t j, size_t avail, size_t *end)
{
	static const struct {
		const char *esc;
		uint8_t quote;
	} escs[] = { { "u0022", '"' }, { "u0027", '\'' } };
	size_t k = builtin_backslashes(p, j, avail);
	int r;

	if (k == avail)
		return -1;
	if (p[k] == '"' || p[k] == '\'') {
		*end = k + 1;
		return p[k];
	}
	if (k == j || p[k] != 'u')
		return 0;
	for (size_t i = 0; i < 2; i++) {
		r = builtin_lit(p + k, avail - k, escs[i].esc, true);
		if (r == 0)
			return -1;
		if (r > 0) {
			*end = k + 5;
			return escs[i].quote;
		}
	}
	return 0;
}

/* eyJ...(header).(payload).(signature, may be empty) in base64url. */
static int match_jwt(const uint8_t *p, size_t avail, bool final, struct bm *m)
{
	size_t j = 3, len;

	if (builtin_lit(p, avail, "eyJ", false) != 1)
		return BM_NONE;
	for (int seg = 0; seg < 3; seg++) {
		len = run(p, j, avail, C_B64URL, REDACT_BUILTIN_MAX - j);
		j += len;
		if (j == avail && !final && j < REDACT_BUILTIN_MAX)
			return BM_MORE;
		if (seg == 2 || j == REDACT_BUILTIN_MAX)
			break;
		if ((seg == 0 && j < 10) || (seg == 1 && len < 2) || j == avail || p[j] != '.')
			return BM_NONE;
		j++;
	}
	*m = (struct bm){ 0, j, false };
	return BM_MATCH;
}

/* The token at buf[c] (the prefilter passed it); prev as for match_aws_id(). */
static int dispatch(const uint8_t *p, size_t avail, bool final, int prev, size_t back, bool bos,
		    struct bm *m, int *id)
{
	int r;

	switch (p[0]) {
	case 'g':
		return match_g(p, avail, final, m, id);
	case 'A':
		*id = BUILTIN_AWS_KEY_ID;
		r = match_aws_id(p, avail, final, prev, m);
		if (r != BM_NONE)
			return r;
		__attribute__((fallthrough));
	case 'a':
		*id = BUILTIN_AUTHORIZATION;
		return builtin_match_authorization(p, avail, final, m);
	case 'x':
		*id = BUILTIN_SLACK;
		if (avail >= 5 && builtin_lit(p, avail, "xox", false) == 1 &&
		    memchr("abpr", p[3], 4) && p[4] == '-')
			return token(p, 5, avail, final, C_ALNUM | C_DASH, 10, 250, m);
		return BM_NONE;
	case 'n':
		*id = BUILTIN_NPM;
		return builtin_lit(p, avail, "npm_", false) == 1
			       ? token(p, 4, avail, final, C_ALNUM, 36, 250, m)
			       : BM_NONE;
	case 'p':
		*id = BUILTIN_PYPI;
		return builtin_lit(p, avail, "pypi-", false) == 1
			       ? token(p, 5, avail, final, C_B64URL, 50, 1000, m)
			       : BM_NONE;
	case '-':
		*id = BUILTIN_PRIVATE_KEY;
		return builtin_match_pem(p, avail, final, back, bos, m);
	case 'e':
		*id = BUILTIN_JWT;
		return match_jwt(p, avail, final, m);
	case 's':
	case 'S':
		*id = BUILTIN_AWS_SECRET;
		return match_keyword(p, avail, m);
	default:
		return BM_NONE;
	}
}

/*
 * The literal prefixes the matchers above start with (dispatch()): a token can start only
 * where one of them does. held: a prefix cut by the end of the window is held (the
 * keyword only arms the AWS secret search). bucket: its group in the AVX-512 prefilter.
 */
static const struct trigger_literal {
	const char *s;
	bool fold, held;
	uint8_t bucket;
} trigger_literals[] = {
	{ "ghp_", false, true, 0 },	    { "gho_", false, true, 0 },
	{ "ghs_", false, true, 0 },	    { "ghu_", false, true, 0 },
	{ "ghr_", false, true, 0 },	    { "github_pat_", false, true, 0 },
	{ "glpat-", false, true, 0 },	    { "AKIA", false, true, 1 },
	{ "ASIA", false, true, 1 },	    { "npm_", false, true, 1 },
	{ "authorization", true, true, 2 }, { "xoxa-", false, true, 3 },
	{ "xoxb-", false, true, 3 },	    { "xoxp-", false, true, 3 },
	{ "xoxr-", false, true, 3 },	    { "pypi-", false, true, 3 },
	{ "-----BEGIN ", false, true, 4 },  { "eyJ", false, true, 5 },
	{ "secret", true, false, 6 },
};

/* Whether p[0..avail) is a proper prefix of a token's literal prefix. */
static bool literal_prefix_at_end(const uint8_t *p, size_t avail)
{
	for (size_t i = 0; i < sizeof(trigger_literals) / sizeof(trigger_literals[0]); i++) {
		const struct trigger_literal *t = &trigger_literals[i];

		if (t->held && avail < strlen(t->s) && builtin_lit(p, avail, t->s, t->fold) == 0)
			return true;
	}
	return false;
}

/* ---- the AWS secret access key: 40 characters near a key id or keyword ---- */

static bool is_aws_secret_char(uint8_t c)
{
	return builtin_cls[c] & (C_ALNUM | C_PLUS_SLASH);
}

/*
 * Looks in buf[from..to) (window offsets plus ctx_len) for runs of exactly 40 characters
 * of [A-Za-z0-9/+] with both cases (a hex digest is not one).
 */
static int aws_secret_scan(const uint8_t *buf, size_t ctx_len, size_t n, size_t from, size_t to,
			   bool final, struct span_list *spans, size_t *pending)
{
	for (size_t i = from; i < to && i < n; i++) {
		size_t e = i, upper = 0, lower_ = 0;
		int r;

		if (!is_aws_secret_char(buf[i]) || (i > 0 && is_aws_secret_char(buf[i - 1])))
			continue;
		for (; e < n && is_aws_secret_char(buf[e]) && e - i <= AWS_SECRET_LEN; e++) {
			upper += (builtin_cls[buf[e]] & C_UPPER) != 0;
			lower_ += (builtin_cls[buf[e]] & C_LOWER) != 0;
		}
		if (e == n && !final && e - i <= AWS_SECRET_LEN) {
			if (i - ctx_len < *pending)
				*pending = i - ctx_len;
			return 0;
		}
		if (e - i == AWS_SECRET_LEN && upper > 0 && lower_ > 0) {
			r = span_list_push(spans, i - ctx_len, e - ctx_len, BUILTIN_AWS_SECRET);
			if (r < 0)
				return r;
		}
		i = e;
	}
	return 0;
}

/* ---- the prefilter ---- */

/*
 * 32 positions at a time: one 32-byte vector on x86-64-v3, two 16-byte ones (SSE2, NEON)
 * else: GCC lowers a 32-byte vector compare for a 16-byte unit to one compare per byte.
 */
typedef uint8_t v32 __attribute__((vector_size(32)));
typedef uint8_t v16 __attribute__((vector_size(16)));
#define PREFILTER_REACH 13 /* bytes a test at position i reads: i..i+12 */

static unsigned lane_mask(uint64_t w)
{
	return ((w & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56;
}

/*
 * Defines name(p): bit k of the result, position p+k may start a token; with vt the
 * vector type (its width the positions tested). A macro, not a function taking vectors:
 * a function passing a 32-byte vector has two ABIs.
 */
#define PREFILTER_DEFINE(name, vt)                                                                 \
	static inline __attribute__((always_inline)) uint32_t name(const uint8_t *p)               \
	{                                                                                          \
		vt v0, v1, v2, v3, v4, v5, v6, v7, v9, v12, f0, hit;                               \
		uint64_t w[sizeof(vt) / 8], any = 0;                                               \
		uint32_t mask = 0;                                                                 \
                                                                                                   \
		memcpy(&v0, p, sizeof(vt));                                                        \
		memcpy(&v1, p + 1, sizeof(vt));                                                    \
		memcpy(&v2, p + 2, sizeof(vt));                                                    \
		memcpy(&v3, p + 3, sizeof(vt));                                                    \
		memcpy(&v4, p + 4, sizeof(vt));                                                    \
		memcpy(&v5, p + 5, sizeof(vt));                                                    \
		memcpy(&v6, p + 6, sizeof(vt));                                                    \
		memcpy(&v7, p + 7, sizeof(vt));                                                    \
		memcpy(&v9, p + 9, sizeof(vt));                                                    \
		memcpy(&v12, p + 12, sizeof(vt));                                                  \
		f0 = v0 | 0x20;                                                                    \
		hit = EQ(vt, v0, 'g') &                                                            \
		      ((EQ(vt, v1, 'h') & EQ(vt, v3, '_')) | (EQ(vt, v1, 'i') & EQ(vt, v6, '_')) | \
		       (EQ(vt, v1, 'l') & EQ(vt, v5, '-')));                                       \
		hit |= EQ(vt, v0, 'A') & EQ(vt, v2, 'I') & EQ(vt, v3, 'A');                        \
		hit |= EQ(vt, v0, 'x') & EQ(vt, v1, 'o') & EQ(vt, v4, '-');                        \
		hit |= EQ(vt, v0, 'n') & EQ(vt, v2, 'm') & EQ(vt, v3, '_');                        \
		hit |= EQ(vt, v0, 'p') & EQ(vt, v1, 'y') & EQ(vt, v4, '-');                        \
		hit |= EQ(vt, v0, '-') & EQ(vt, v5, 'B') & EQ(vt, v9, 'N');                        \
		hit |= EQ(vt, v0, 'e') & EQ(vt, v1, 'y') & EQ(vt, v2, 'J');                        \
		hit |= EQ(vt, f0, 'a') & EQ(vt, v7 | 0x20, 'z') & EQ(vt, v12 | 0x20, 'n');         \
		hit |= EQ(vt, f0, 's') & EQ(vt, v2 | 0x20, 'c') & EQ(vt, v5 | 0x20, 't');          \
                                                                                                   \
		memcpy(w, &hit, sizeof(w));                                                        \
		for (size_t k = 0; k < sizeof(w) / 8; k++)                                         \
			any |= w[k];                                                               \
		if (!any)                                                                          \
			return 0;                                                                  \
		for (size_t k = 0; k < sizeof(w) / 8; k++)                                         \
			mask |= (uint32_t)lane_mask(w[k]) << (8 * k);                              \
		return mask;                                                                       \
	}
#define EQ(vt, v, c) ((vt)((v) == (c)))

PREFILTER_DEFINE(prefilter_wide32, v32)
PREFILTER_DEFINE(prefilter16, v16)

/* prefilter_wide32() (one 32-byte vector) or two prefilter16(). */
static inline __attribute__((always_inline)) uint32_t prefilter32(const uint8_t *p, bool wide)
{
	if (wide)
		return prefilter_wide32(p);
	return prefilter16(p) | prefilter16(p + 16) << 16;
}

static bool maybe_token_start(uint8_t c)
{
	return memchr("gAaxnp-esS", c, 10) != NULL;
}

static int arm_push(struct builtin_state *st, uint64_t from)
{
	if (st->n_arms == st->cap_arms) {
		size_t cap = st->cap_arms ? st->cap_arms * 2 : 8;
		uint64_t *v = realloc(st->arms, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		st->arms = v;
		st->cap_arms = cap;
	}
	st->arms[st->n_arms++] = from;
	return 0;
}

/* Records that a private-key block goes on at stream offset at as c says. */
static int step_push(struct builtin_state *st, uint64_t at, const struct pem_cont *c)
{
	if (st->n_steps == st->cap_steps) {
		size_t cap = st->cap_steps ? st->cap_steps * 2 : 4;
		struct pem_point *v = realloc(st->steps, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		st->steps = v;
		st->cap_steps = cap;
	}
	st->steps[st->n_steps++] = (struct pem_point){ at, *c };
	return 0;
}

void builtin_commit(struct builtin_state *st, uint64_t emitted, uint64_t redacted)
{
	/* The redactions of a long block end where the next step starts: what went out ends
	 * at one of them, or before the first (found again), or after the block. */
	for (size_t i = 0; i < st->n_steps; i++)
		if (st->steps[i].at <= emitted)
			st->pem = st->steps[i];
	st->n_steps = 0;
	for (size_t i = 0; i < st->n_arms; i++)
		if (st->arms[i] <= emitted && st->arms[i] + AWS_NEAR > st->aws_armed_until)
			st->aws_armed_until = st->arms[i] + AWS_NEAR;
	st->n_arms = 0;
	if (redacted > st->redacted_until)
		st->redacted_until = redacted;
}

void builtin_state_done(struct builtin_state *st)
{
	free(st->arms);
	free(st->steps);
	*st = (struct builtin_state){};
}

struct scan {
	struct builtin_state *st;
	const uint8_t *buf;
	size_t ctx_len, n;
	uint64_t base;
	bool final, flush;
	struct span_list *spans;
	size_t *pending;
	size_t next; /* positions before this are inside a match */
	bool stop; /* a token is held: nothing after it matters now */
};

/*
 * A private-key block goes on at buf[at] as c says, past a redaction of it that stopped
 * at REDACT_BUILTIN_MAX bytes: redacts the rest in steps of at most that much each, to
 * the block's end, or holds from the step whose end is still to come.
 */
static int pem_steps(struct scan *s, size_t at, struct pem_cont c)
{
	struct bm m;
	int r;

	for (;;) {
		r = step_push(s->st, s->base + (at - s->ctx_len), &c);
		if (r < 0)
			return r;
		r = builtin_pem_resume(s->buf + at, s->n - at, s->final, &c, &m);
		if (r == BM_MORE) {
			if (at - s->ctx_len < *s->pending)
				*s->pending = at - s->ctx_len;
			s->stop = true;
			return 0;
		}
		if (r != BM_MATCH)
			return 0;
		if (m.end > 0) {
			r = span_list_push(s->spans, at - s->ctx_len, at + m.end - s->ctx_len,
					   BUILTIN_PRIVATE_KEY);
			if (r < 0)
				return r;
			s->spans->v[s->spans->n - 1].quiet = true;
		}
		at += m.end;
		s->next = at;
		if (!m.cont)
			return 0;
		c = m.pem;
	}
}

static int try_at(struct scan *s, size_t c)
{
	struct bm m;
	int id = 0, r;
	size_t start, end, back;

	if (c < s->next || s->base + c - s->ctx_len < s->st->redacted_until)
		return 0;
	/* The same bytes before c however the output was split: the context holds
	 * REDACT_RAW_CTX of them, and with fewer the stream starts at buf[0]. */
	back = c < PEM_PREFIX_MAX + 1 ? c : PEM_PREFIX_MAX + 1;
	if (s->n - c < 13 && !s->final && !s->flush && literal_prefix_at_end(s->buf + c, s->n - c))
		r = BM_MORE;
	else
		r = dispatch(s->buf + c, s->n - c, s->final,
			     c > 0	       ? s->buf[c - 1]
			     : s->ctx_len == 0 ? -1
					       : -2,
			     back, c == back && s->ctx_len < REDACT_RAW_CTX, &m, &id);
	if (r == BM_NONE)
		return 0;
	if (r == BM_MORE) {
		size_t w = c > s->ctx_len ? c - s->ctx_len : 0;

		if (w < *s->pending)
			*s->pending = w;
		s->stop = true;
		return 0;
	}
	start = c + m.start > s->ctx_len ? c + m.start : s->ctx_len;
	end = c + m.end;
	s->next = end;
	if (m.arm && end >= s->ctx_len) {
		r = arm_push(s->st, s->base + (end - s->ctx_len));
		if (r >= 0)
			r = aws_secret_scan(s->buf, s->ctx_len, s->n, end, end + AWS_NEAR, s->final,
					    s->spans, s->pending);
		if (r < 0)
			return r;
	}
	if (end > start) {
		r = span_list_push_anchored(s->spans, c > s->ctx_len ? c - s->ctx_len : 0,
					    start - s->ctx_len, end - s->ctx_len, id);
		if (r < 0)
			return r;
	}
	return m.cont ? pem_steps(s, end, m.pem) : 0;
}

/* Each position of mask (bit k: position i + k) the prefilter passed, to try_at(). */
static int try_mask(struct scan *s, size_t i, uint64_t mask)
{
	int r;

	for (; mask && !s->stop; mask &= mask - 1) {
		r = try_at(s, i + (size_t)__builtin_ctzll(mask));
		if (r < 0)
			return r;
	}
	return 0;
}

#if defined(__x86_64__)
#include <immintrin.h>

#include <threads.h>

#define X86_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi,bmi")))
#define TRIGGER_SPAN 6 /* the characters of a literal the AVX-512 prefilter tests */

/*
 * The AVX-512 prefilter's tables (as Teddy does it in Hyperscan, with VBMI's 128-entry byte
 * lookups in place of nibbles): for each of the first TRIGGER_SPAN offsets k and each
 * ASCII byte c, bit b set when a literal of bucket b has c at k (either case when it
 * folds) or is shorter than k + 1. A position where a literal starts has its bucket's bit
 * in all of them; a byte from 0x80 reads as its low 7 bits (a false hit only).
 */
static uint8_t trigger_tables[TRIGGER_SPAN][128];
static once_flag trigger_tables_once = ONCE_FLAG_INIT;

static void trigger_tables_build(void)
{
	for (size_t i = 0; i < sizeof(trigger_literals) / sizeof(trigger_literals[0]); i++) {
		const struct trigger_literal *t = &trigger_literals[i];
		uint8_t bit = (uint8_t)(1u << t->bucket);
		size_t len = strlen(t->s);

		for (size_t k = 0; k < TRIGGER_SPAN; k++) {
			uint8_t c = k < len ? (uint8_t)t->s[k] : 0;

			for (unsigned b = 0; b < 128; b++)
				if (k >= len || b == c || (t->fold && lower((uint8_t)b) == c))
					trigger_tables[k][b] |= bit;
		}
	}
}

/*
 * The first 64-position block from i (while one fits before end) where a token may start:
 * its offset, *mask its positions (bit k: i + k); with none, where the blocks stop and
 * *mask 0. No call in the loop, so that the tables stay in registers.
 */
static X86_AVX512 size_t trigger_next(const uint8_t *buf, size_t i, size_t end, uint64_t *mask)
{
	/* Named vectors, not an array of them: one on the stack may lose its alignment. */
	const __m512i lo0 = _mm512_loadu_si512(trigger_tables[0]),
		      hi0 = _mm512_loadu_si512(trigger_tables[0] + 64),
		      lo1 = _mm512_loadu_si512(trigger_tables[1]),
		      hi1 = _mm512_loadu_si512(trigger_tables[1] + 64),
		      lo2 = _mm512_loadu_si512(trigger_tables[2]),
		      hi2 = _mm512_loadu_si512(trigger_tables[2] + 64),
		      lo3 = _mm512_loadu_si512(trigger_tables[3]),
		      hi3 = _mm512_loadu_si512(trigger_tables[3] + 64),
		      lo4 = _mm512_loadu_si512(trigger_tables[4]),
		      hi4 = _mm512_loadu_si512(trigger_tables[4] + 64),
		      lo5 = _mm512_loadu_si512(trigger_tables[5]),
		      hi5 = _mm512_loadu_si512(trigger_tables[5] + 64);

	for (; i + 64 <= end; i += 64) {
		const uint8_t *p = buf + i;
#define LOOKUP(k) _mm512_permutex2var_epi8(lo##k, _mm512_loadu_si512(p + k), hi##k)
		__m512i a = _mm512_ternarylogic_epi64(LOOKUP(0), LOOKUP(1), LOOKUP(2), 0x80), b;

		/* Most blocks hold no literal's first three characters: the rest is not read. */
		if (!_mm512_test_epi8_mask(a, a))
			continue;
		b = _mm512_ternarylogic_epi64(LOOKUP(3), LOOKUP(4), LOOKUP(5), 0x80);
#undef LOOKUP
		*mask = _mm512_test_epi8_mask(a, b);
		if (*mask)
			return i;
	}
	*mask = 0;
	return i;
}

/* The 64-position steps of triggers(); *i: where the rest starts. */
static X86_AVX512 int triggers_avx512(struct scan *s, size_t *i)
{
	size_t end = s->n >= PREFILTER_REACH ? s->n - PREFILTER_REACH : 0;
	uint64_t mask;
	int r;

	call_once(&trigger_tables_once, trigger_tables_build);
	while (*i + 64 <= end && !s->stop) {
		*i = trigger_next(s->buf, *i, end, &mask);
		if (!mask)
			break;
		r = try_mask(s, *i, mask);
		if (r < 0)
			return r;
		*i += 64;
	}
	return 0;
}
#endif

/*
 * The positions from i on, 32 at a time with blocks (GCC vector extensions, compiled per
 * level by the variants below), then one at a time.
 */
static inline __attribute__((always_inline)) int triggers_body(struct scan *s, size_t i,
							       bool blocks, bool wide)
{
	int r;

	for (; blocks && i + 32 + PREFILTER_REACH <= s->n && !s->stop; i += 32) {
		uint32_t mask = prefilter32(s->buf + i, wide);

		if (mask && (r = try_mask(s, i, mask)) < 0)
			return r;
	}
	for (; i < s->n && !s->stop; i++)
		if (maybe_token_start(s->buf[i]) && (r = try_at(s, i)) < 0)
			return r;
	return 0;
}

static int triggers_bytes(struct scan *s, size_t i)
{
	return triggers_body(s, i, false, false);
}

static int triggers_vec(struct scan *s, size_t i)
{
	return triggers_body(s, i, true, false);
}

#if defined(__x86_64__)
__attribute__((target("arch=x86-64-v3"))) static int triggers_v3(struct scan *s, size_t i)
{
	return triggers_body(s, i, true, true);
}
#endif

/* The scan of the level simd_level() says. */
static int triggers(struct scan *s)
{
	enum simd_level level = simd_level();
	size_t i = 0;

#if defined(__x86_64__)
	if (level >= SIMD_AVX512) {
		int r = triggers_avx512(s, &i);

		if (r < 0)
			return r;
	}
	if (level >= SIMD_AVX2)
		return triggers_v3(s, i);
#endif
	if (level >= SIMD_VEC128)
		return triggers_vec(s, i);
	return triggers_bytes(s, i);
}

int builtin_scan(struct builtin_state *st, const uint8_t *buf, size_t ctx_len, size_t n,
		 uint64_t base, enum scan_end end, struct span_list *spans, size_t *pending)
{
	bool final = end == SCAN_FINAL;
	struct scan s = { st, buf, ctx_len, n, base, final, end == SCAN_FLUSH, spans, pending };
	int r;

	/* Still armed by a key id or keyword already emitted. */
	st->n_arms = 0;
	st->n_steps = 0;
	if (st->aws_armed_until > base) {
		r = aws_secret_scan(buf, ctx_len, n, ctx_len,
				    ctx_len + (size_t)(st->aws_armed_until - base), final, spans,
				    pending);
		if (r < 0)
			return r;
	}
	/* In a private-key block longer than a step, its start gone out already. */
	if (st->pem.at > 0 && st->pem.at >= base && st->pem.at - base < n - ctx_len) {
		r = pem_steps(&s, ctx_len + (size_t)(st->pem.at - base), st->pem.cont);
		if (r < 0 || s.stop)
			return r;
	}
	return triggers(&s);
}
