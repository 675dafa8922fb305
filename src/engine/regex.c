/*
 * regex.c — JSON Schema "pattern" and "format" regular expressions compiled
 * to a pruned deterministic automaton over UTF-8 bytes (see regex.h).
 *
 * The pipeline:
 *   1. parse: pattern text -> syntax tree whose leaves are sets of code
 *      points (a literal is a one-point set), plus ^ and $;
 *   2. Thompson NFA over BYTES: every code point set becomes a small
 *      deterministic byte automaton for the UTF-8 encodings of its members
 *      (the usual splitting of code point ranges into byte-range sequences,
 *      with shared suffixes), so only valid UTF-8 can ever be read;
 *      {m,n} is expanded by copying;
 *   3. one subset construction over the NFAs of all patterns at once: a DFA
 *      state accepts when every pattern accepts, which is the intersection;
 *      ^ is an assertion only the start closure may pass, $ one that only
 *      acceptance may pass (so neither consumes anything);
 *   4. prune to the states from which acceptance is reachable, minimise;
 *   5. character-count tables for the length queries.
 *
 * Where ECMA-262 and Python's re (what the usual validators use) disagree
 * on a construct's meaning, we use a set both accept:
 *   \d \w \s in a positive position match the characters BOTH engines
 *   match ("narrow"), and in a negated class [^...] or as \D \W \S they
 *   exclude the characters EITHER engine matches ("wide"); "." excludes the
 *   line terminators of both (\n \r U+2028 U+2029).  ECMA's $ never matches
 *   before a final newline, which is a subset of Python's.  Constructs whose
 *   meanings differ outright ({,n}, [], [^], \u{...}, letter escapes such as
 *   \Z or \a) are refused.
 */
#include "regex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

/* Bounds on work and memory; beyond them a pattern is "too complex". */
#define RX_MAX_DEPTH 100		/* group nesting in a pattern */
#define RX_MAX_COUNT 100000		/* a {m,n} bound */
#define RX_MAX_NFA_STATES 100000
#define RX_MAX_NFA_TRANS 400000
#define RX_MAX_SET_RANGES (1 << 20)	/* code point ranges held by the parser */
#define RX_MAX_BUILD_STATES (2 * LLM_REGEX_MAX_STATES)	/* before pruning */
#define RX_MAX_SET_POOL (4 << 20)	/* NFA ids stored for all DFA states */
#define RX_MAX_WORK 60000000	/* closure steps in one compile */
#define RX_LEN_TABLE_WORDS (1 << 20)	/* bits of the exact length table / 64 */
#define RX_LEN_WORK 20000000
#define RX_LEN_MAX_COLS 16384	/* exact counts known up to this at least */
#define RX_FINISH_MAX_NODES 1000000 /* shortest_finish search */

#define RX_MAX_CPT 0x10FFFF
#define RX_INF INT32_MAX

/* The final table is int16_t: state ids must fit. */
_Static_assert(LLM_REGEX_MAX_STATES < 32767, "state ids must fit in int16_t");

/* ------------------------------------------------------------------ */
/* Growing arrays                                                        */
/* ------------------------------------------------------------------ */

/* Make room for `need` elements of `elem` bytes in *ptr (capacity *cap). */
static bool
rx_grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
	size_t		new_cap;
	size_t		old_bytes;
	size_t		new_bytes;
	void	   *p;

	if (need <= *cap)
		return true;
	new_cap = *cap ? *cap : 16;
	while (new_cap < need)
	{
		if (new_cap > SIZE_MAX / 2)
			return false;
		new_cap *= 2;
	}
	if (!llm_mul_size(*cap, elem, &old_bytes) ||
		!llm_mul_size(new_cap, elem, &new_bytes))
		return false;
	p = llm_realloc(*ptr, old_bytes, new_bytes);
	if (p == NULL)
		return false;
	*ptr = p;
	*cap = new_cap;
	return true;
}

#define RX_GROW(arr, cap, need) \
	rx_grow((void **) &(arr), &(cap), (need), sizeof(*(arr)))

static int
cmp_int32(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a;
	int32_t		y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

/* Sort and drop duplicates; returns the new length. */
static size_t
sort_unique_int32(int32_t *v, size_t n)
{
	size_t		k = 0;

	if (n < 2)
		return n;
	/* most kernels are tiny: insertion sort beats qsort's call overhead */
	if (n <= 16)
	{
		for (size_t i = 1; i < n; i++)
		{
			int32_t		x = v[i];
			size_t		j = i;

			while (j > 0 && v[j - 1] > x)
			{
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
	}
	else
		qsort(v, n, sizeof(int32_t), cmp_int32);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

static uint64_t
hash_int32s(const int32_t *v, size_t n, uint64_t seed)
{
	uint64_t	h = 0x9E3779B97F4A7C15ULL ^ seed;

	for (size_t i = 0; i < n; i++)
	{
		h ^= (uint32_t) v[i];
		h *= 0xFF51AFD7ED558CCDULL;
		h ^= h >> 32;
	}
	h ^= (uint64_t) n;
	h *= 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 29;
	return h;
}

/* ------------------------------------------------------------------ */
/* Sets of code points                                                  */
/* ------------------------------------------------------------------ */

typedef struct cp_range
{
	uint32_t	lo;
	uint32_t	hi;
} cp_range;

typedef struct cp_set
{
	cp_range   *r;
	size_t		n;
	size_t		cap;
} cp_set;

static void
cpset_free(cp_set *s)
{
	llm_free(s->r);
	s->r = NULL;
	s->n = s->cap = 0;
}

static bool
cpset_add(cp_set *s, uint32_t lo, uint32_t hi)
{
	if (lo > hi)
		return true;
	if (s->n >= RX_MAX_SET_RANGES || !RX_GROW(s->r, s->cap, s->n + 1))
		return false;
	s->r[s->n].lo = lo;
	s->r[s->n].hi = hi;
	s->n++;
	return true;
}

static int
cmp_range(const void *a, const void *b)
{
	const cp_range *x = a;
	const cp_range *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sort and merge overlapping or adjacent ranges. */
static void
cpset_normalize(cp_set *s)
{
	size_t		k = 0;

	if (s->n == 0)
		return;
	qsort(s->r, s->n, sizeof(cp_range), cmp_range);
	for (size_t i = 1; i < s->n; i++)
	{
		if (s->r[i].lo <= s->r[k].hi + 1)
		{
			if (s->r[i].hi > s->r[k].hi)
				s->r[k].hi = s->r[i].hi;
		}
		else
			s->r[++k] = s->r[i];
	}
	s->n = k + 1;
}

/* Replace a normalized set by its complement in [0, U+10FFFF]. */
static bool
cpset_complement(cp_set *s)
{
	cp_set		c = {0};
	uint32_t	next = 0;

	for (size_t i = 0; i < s->n; i++)
	{
		if (s->r[i].lo > next && !cpset_add(&c, next, s->r[i].lo - 1))
		{
			cpset_free(&c);
			return false;
		}
		next = s->r[i].hi + 1;
	}
	if (next <= RX_MAX_CPT && !cpset_add(&c, next, RX_MAX_CPT))
	{
		cpset_free(&c);
		return false;
	}
	cpset_free(s);
	*s = c;
	return true;
}

static bool
cpset_add_set(cp_set *dst, const cp_set *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (!cpset_add(dst, src->r[i].lo, src->r[i].hi))
			return false;
	return true;
}

/* Add every code point whose category flags (unicode.h) meet mask. */
static bool
cpset_add_flags(cp_set *s, uint16_t mask)
{
	for (size_t i = 0; i < llm_unicode_flag_count; i++)
	{
		uint32_t	lo = llm_unicode_flag_start[i];
		uint32_t	hi = i + 1 < llm_unicode_flag_count ?
			llm_unicode_flag_start[i + 1] - 1 : LLM_UNICODE_MAX_CPT - 1;

		if ((llm_unicode_flag_value[i] & mask) != 0 && !cpset_add(s, lo, hi))
			return false;
	}
	return true;
}

/*
 * The class escapes.  kind is one of d D w W s S; `wide` asks for the set
 * used inside a negated class (see the file comment).  Appends to out
 * (not normalized).
 */
static const cp_range ws_narrow[] = {	/* ECMA and Python both */
	{0x09, 0x0D}, {0x20, 0x20}, {0xA0, 0xA0}, {0x1680, 0x1680},
	{0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
	{0x3000, 0x3000}
};
static const cp_range ws_wide[] = {	/* ECMA or Python */
	{0x09, 0x0D}, {0x1C, 0x20}, {0x85, 0x85}, {0xA0, 0xA0},
	{0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
	{0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}
};

static bool
class_escape_set(char kind, bool wide, cp_set *out)
{
	cp_set		tmp = {0};
	bool		ok = true;
	char		base = (char) (kind | 0x20);	/* d w s */
	bool		negated = kind != base;

	/* the complement of a narrow set is wide and vice versa */
	if (negated)
		wide = !wide;
	switch (base)
	{
		case 'd':
			ok = cpset_add(&tmp, '0', '9');
			if (ok && wide)
				ok = cpset_add_flags(&tmp, LLM_CPT_NUMBER | LLM_CPT_UNDEFINED);
			break;
		case 'w':
			ok = cpset_add(&tmp, '0', '9') && cpset_add(&tmp, 'A', 'Z') &&
				cpset_add(&tmp, '_', '_') && cpset_add(&tmp, 'a', 'z');
			if (ok && wide)
				ok = cpset_add_flags(&tmp, LLM_CPT_LETTER | LLM_CPT_NUMBER |
									 LLM_CPT_ACCENT_MARK | LLM_CPT_UNDEFINED);
			break;
		default:
			{
				const cp_range *t = wide ? ws_wide : ws_narrow;
				size_t		n = wide ? sizeof(ws_wide) / sizeof(ws_wide[0]) :
					sizeof(ws_narrow) / sizeof(ws_narrow[0]);

				for (size_t i = 0; ok && i < n; i++)
					ok = cpset_add(&tmp, t[i].lo, t[i].hi);
			}
			break;
	}
	if (ok)
	{
		cpset_normalize(&tmp);
		if (negated)
			ok = cpset_complement(&tmp);
	}
	if (ok)
		ok = cpset_add_set(out, &tmp);
	cpset_free(&tmp);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Parser: pattern text -> syntax tree                                  */
/* ------------------------------------------------------------------ */

typedef enum rn_kind
{
	RN_EMPTY,					/* matches the empty string */
	RN_SET,						/* one code point from a set */
	RN_CAT,						/* children in sequence */
	RN_ALT,						/* one of the children */
	RN_REPEAT,					/* child min..max times (max -1: unbounded) */
	RN_BEGIN,					/* ^ */
	RN_END						/* $ */
} rn_kind;

typedef struct rx_node
{
	rn_kind		kind;
	int32_t		child;			/* first child: CAT, ALT, REPEAT */
	int32_t		next;			/* next sibling */
	int32_t		min;
	int32_t		max;
	size_t		set_off;		/* RN_SET: ranges in rx_parser.ranges */
	size_t		set_len;
} rx_node;

typedef struct rx_parser
{
	const uint8_t *p;
	size_t		len;
	size_t		pos;
	int			pattern_index;
	rx_node    *nodes;
	size_t		n_nodes;
	size_t		cap_nodes;
	cp_range   *ranges;			/* all sets, each normalized */
	size_t		n_ranges;
	size_t		cap_ranges;
	/* sets shared by every use: "." and the six escapes outside classes */
	size_t		std_off[7];
	size_t		std_len[7];
	bool		std_done[7];
	llm_error  *err;
	llm_status	status;
} rx_parser;

static int32_t
perr(rx_parser *ps, llm_status status, const char *what)
{
	if (ps->status == LLM_OK)
	{
		ps->status = status;
		llm_error_set(ps->err, status, "%s", what);
		llm_error_detail(ps->err, "pattern %d, at byte offset %zu",
						 ps->pattern_index + 1, ps->pos);
	}
	return -1;
}

static int32_t
perr_nomem(rx_parser *ps)
{
	return perr(ps, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
}

static int32_t
perr_complex(rx_parser *ps)
{
	return perr(ps, LLM_ERR_UNSUPPORTED, "pattern too complex");
}

static int32_t
new_node(rx_parser *ps, rn_kind kind)
{
	rx_node    *n;

	/* a pattern of at most LLM_REGEX_MAX_PATTERN_LEN bytes needs far fewer */
	if (ps->n_nodes >= 16 * LLM_REGEX_MAX_PATTERN_LEN + 64)
		return perr_complex(ps);
	if (!RX_GROW(ps->nodes, ps->cap_nodes, ps->n_nodes + 1))
		return perr_nomem(ps);
	n = &ps->nodes[ps->n_nodes];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->child = -1;
	n->next = -1;
	return (int32_t) ps->n_nodes++;
}

/* A set node owning a copy of the normalized set s. */
static int32_t
set_node(rx_parser *ps, cp_set *s)
{
	int32_t		id;

	cpset_normalize(s);
	if (ps->n_ranges + s->n > RX_MAX_SET_RANGES)
		return perr_complex(ps);
	if (!RX_GROW(ps->ranges, ps->cap_ranges, ps->n_ranges + s->n))
		return perr_nomem(ps);
	id = new_node(ps, RN_SET);
	if (id < 0)
		return -1;
	if (s->n > 0)
		memcpy(ps->ranges + ps->n_ranges, s->r, s->n * sizeof(cp_range));
	ps->nodes[id].set_off = ps->n_ranges;
	ps->nodes[id].set_len = s->n;
	ps->n_ranges += s->n;
	return id;
}

static int32_t
literal_node(rx_parser *ps, uint32_t cp)
{
	cp_set		s = {0};
	int32_t		id;

	if (!cpset_add(&s, cp, cp))
		return perr_nomem(ps);
	id = set_node(ps, &s);
	cpset_free(&s);
	return id;
}

/*
 * "." (index 0) and \d \D \w \W \s \S (1..6) outside classes.  Their sets
 * are stored once and shared by every node that uses them.
 */
static int32_t
std_node(rx_parser *ps, int which)
{
	static const char kinds[] = ".dDwWsS";
	int32_t		id;

	if (!ps->std_done[which])
	{
		cp_set		s = {0};
		bool		ok;

		if (which == 0)
			ok = cpset_add(&s, 0, 0x09) && cpset_add(&s, 0x0B, 0x0C) &&
				cpset_add(&s, 0x0E, 0x2027) && cpset_add(&s, 0x202A, RX_MAX_CPT);
		else
			ok = class_escape_set(kinds[which], false, &s);
		if (!ok)
		{
			cpset_free(&s);
			return perr_nomem(ps);
		}
		id = set_node(ps, &s);
		cpset_free(&s);
		if (id < 0)
			return -1;
		ps->std_off[which] = ps->nodes[id].set_off;
		ps->std_len[which] = ps->nodes[id].set_len;
		ps->std_done[which] = true;
		return id;
	}
	id = new_node(ps, RN_SET);
	if (id < 0)
		return -1;
	ps->nodes[id].set_off = ps->std_off[which];
	ps->nodes[id].set_len = ps->std_len[which];
	return id;
}

static bool
at_end(const rx_parser *ps)
{
	return ps->pos >= ps->len;
}

static int
peek(const rx_parser *ps, size_t ahead)
{
	return ps->pos + ahead < ps->len ? ps->p[ps->pos + ahead] : -1;
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read n hex digits at pos into *v; false (nothing consumed) if not there. */
static bool
read_hex(rx_parser *ps, int n, uint32_t *v)
{
	uint32_t	x = 0;

	for (int i = 0; i < n; i++)
	{
		int			h = hex_value(peek(ps, (size_t) i));

		if (h < 0)
			return false;
		x = x * 16 + (uint32_t) h;
	}
	ps->pos += (size_t) n;
	*v = x;
	return true;
}

/*
 * Decode one UTF-8 character of the pattern (strictly: no overlong forms,
 * no surrogates).  Returns false on invalid UTF-8.
 */
static bool
read_utf8(rx_parser *ps, uint32_t *cp)
{
	const uint8_t *s = ps->p + ps->pos;
	size_t		left = ps->len - ps->pos;
	uint8_t		b0 = s[0];
	size_t		n;
	uint32_t	v;
	uint32_t	min;

	if (b0 < 0x80)
	{
		*cp = b0;
		ps->pos++;
		return true;
	}
	if (b0 >= 0xC2 && b0 <= 0xDF)
		n = 2, v = b0 & 0x1F, min = 0x80;
	else if (b0 >= 0xE0 && b0 <= 0xEF)
		n = 3, v = b0 & 0x0F, min = 0x800;
	else if (b0 >= 0xF0 && b0 <= 0xF4)
		n = 4, v = b0 & 0x07, min = 0x10000;
	else
		return false;
	if (left < n)
		return false;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return false;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > RX_MAX_CPT || (v >= 0xD800 && v <= 0xDFFF))
		return false;
	ps->pos += n;
	*cp = v;
	return true;
}

/* What an escape stands for: a code point, or one of d D w W s S. */
typedef struct rx_escape
{
	char		set_kind;		/* 0: a code point */
	uint32_t	cp;
} rx_escape;

/*
 * Parse the escape after a backslash (pos is just past it).  in_class:
 * inside [...], where \b is a backspace and \B is an error.  Returns false
 * with the error set.
 */
static bool
parse_escape(rx_parser *ps, bool in_class, rx_escape *e)
{
	int			c = peek(ps, 0);

	e->set_kind = 0;
	e->cp = 0;
	if (c < 0)
		return perr(ps, LLM_ERR_INVALID_ARG, "pattern ends with a lone backslash") >= 0;
	if (c >= 0x80)
	{
		/* an escaped non-ASCII character stands for itself */
		if (!read_utf8(ps, &e->cp))
			return perr(ps, LLM_ERR_INVALID_ARG, "pattern is not valid UTF-8") >= 0;
		return true;
	}
	ps->pos++;
	switch (c)
	{
		case 'd':
		case 'D':
		case 'w':
		case 'W':
		case 's':
		case 'S':
			e->set_kind = (char) c;
			return true;
		case 'n':
			e->cp = '\n';
			return true;
		case 't':
			e->cp = '\t';
			return true;
		case 'r':
			e->cp = '\r';
			return true;
		case 'f':
			e->cp = '\f';
			return true;
		case 'v':
			e->cp = '\v';
			return true;
		case 'b':
			if (in_class)
			{
				e->cp = 0x08;
				return true;
			}
			ps->pos--;
			return perr(ps, LLM_ERR_UNSUPPORTED,
						"word boundary assertion \\b is not supported in pattern") >= 0;
		case 'B':
			ps->pos--;
			return perr(ps, in_class ? LLM_ERR_INVALID_ARG : LLM_ERR_UNSUPPORTED,
						in_class ? "\\B inside a character class" :
						"word boundary assertion \\B is not supported in pattern") >= 0;
		case '0':
			if (peek(ps, 0) >= '0' && peek(ps, 0) <= '9')
			{
				ps->pos--;
				return perr(ps, LLM_ERR_UNSUPPORTED,
							"octal escape is not supported in pattern") >= 0;
			}
			e->cp = 0;
			return true;
		case 'x':
			if (!read_hex(ps, 2, &e->cp))
			{
				ps->pos--;
				return perr(ps, LLM_ERR_INVALID_ARG, "\\x needs two hex digits") >= 0;
			}
			return true;
		case 'u':
			if (peek(ps, 0) == '{')
			{
				ps->pos--;
				return perr(ps, LLM_ERR_UNSUPPORTED,
							"code point escape \\u{...} is not supported in pattern") >= 0;
			}
			if (!read_hex(ps, 4, &e->cp))
			{
				ps->pos--;
				return perr(ps, LLM_ERR_INVALID_ARG, "\\u needs four hex digits") >= 0;
			}
			/* a surrogate pair written as two escapes is one character */
			if (e->cp >= 0xD800 && e->cp <= 0xDBFF && peek(ps, 0) == '\\' &&
				peek(ps, 1) == 'u')
			{
				size_t		save = ps->pos;
				uint32_t	low;

				ps->pos += 2;
				if (read_hex(ps, 4, &low) && low >= 0xDC00 && low <= 0xDFFF)
					e->cp = 0x10000 + ((e->cp - 0xD800) << 10) + (low - 0xDC00);
				else
					ps->pos = save;
			}
			/* a lone surrogate stays: it matches nothing (sets drop them) */
			return true;
		case 'c':
			{
				int			l = peek(ps, 0);

				if ((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z'))
				{
					ps->pos++;
					e->cp = (uint32_t) (l % 32);
					return true;
				}
				ps->pos--;
				return perr(ps, LLM_ERR_INVALID_ARG, "\\c needs a letter") >= 0;
			}
		case 'p':
		case 'P':
			ps->pos--;
			return perr(ps, LLM_ERR_UNSUPPORTED,
						"Unicode property escape \\p is not supported in pattern") >= 0;
		case 'k':
			ps->pos--;
			return perr(ps, LLM_ERR_UNSUPPORTED,
						"backreference \\k is not supported in pattern") >= 0;
		default:
			break;
	}
	if (c >= '1' && c <= '9')
	{
		ps->pos--;
		return perr(ps, LLM_ERR_UNSUPPORTED,
					"backreference is not supported in pattern") >= 0;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
	{
		char		msg[80];

		/* ECMA reads \z as "z", Python as end of string: refuse both */
		ps->pos--;
		snprintf(msg, sizeof(msg), "escape \\%c is not supported in pattern", c);
		return perr(ps, LLM_ERR_UNSUPPORTED, msg) >= 0;
	}
	/* escaped punctuation, space or control character: itself */
	e->cp = (uint32_t) c;
	return true;
}

/* One class item: an escape or a character.  pos is at the item. */
static bool
parse_class_item(rx_parser *ps, rx_escape *e)
{
	int			c = peek(ps, 0);

	e->set_kind = 0;
	if (c == '\\')
	{
		ps->pos++;
		return parse_escape(ps, true, e);
	}
	if (c == '[' && peek(ps, 1) == ':')
	{
		/* [[:alpha:]] means something else to POSIX-minded authors */
		for (size_t i = ps->pos + 2; i + 1 < ps->len && ps->p[i] != ']'; i++)
			if (ps->p[i] == ':' && ps->p[i + 1] == ']')
				return perr(ps, LLM_ERR_UNSUPPORTED,
							"POSIX character class [:...:] is not supported in pattern") >= 0;
	}
	if (!read_utf8(ps, &e->cp))
		return perr(ps, LLM_ERR_INVALID_ARG, "pattern is not valid UTF-8") >= 0;
	return true;
}

/* [...]: pos is just past the '['. */
static int32_t
parse_class(rx_parser *ps)
{
	cp_set		narrow = {0};	/* union of the items for a positive class */
	cp_set		wide = {0};		/* ... and for a negated one */
	bool		negated = false;
	size_t		open = ps->pos - 1;
	int32_t		id = -1;

	if (peek(ps, 0) == '^')
	{
		negated = true;
		ps->pos++;
	}
	if (peek(ps, 0) == ']')
	{
		/* ECMA: matches nothing / anything; Python: a literal ']' */
		return perr(ps, LLM_ERR_UNSUPPORTED,
					"empty character class [] or [^] is not supported in pattern");
	}
	for (;;)
	{
		rx_escape	a;
		rx_escape	b;
		uint32_t	lo;
		uint32_t	hi;

		if (at_end(ps))
		{
			ps->pos = open;
			perr(ps, LLM_ERR_INVALID_ARG, "unterminated character class");
			goto done;
		}
		if (peek(ps, 0) == ']')
		{
			ps->pos++;
			break;
		}
		if (!parse_class_item(ps, &a))
			goto done;
		if (a.set_kind != 0)
		{
			if (peek(ps, 0) == '-' && peek(ps, 1) != ']' && peek(ps, 1) >= 0)
			{
				perr(ps, LLM_ERR_INVALID_ARG, "bad character range: a class escape cannot be its end");
				goto done;
			}
			if (!class_escape_set(a.set_kind, false, &narrow) ||
				!class_escape_set(a.set_kind, true, &wide))
			{
				perr_nomem(ps);
				goto done;
			}
			continue;
		}
		lo = hi = a.cp;
		if (peek(ps, 0) == '-' && peek(ps, 1) != ']' && peek(ps, 1) >= 0)
		{
			ps->pos++;
			if (!parse_class_item(ps, &b))
				goto done;
			if (b.set_kind != 0)
			{
				perr(ps, LLM_ERR_INVALID_ARG, "bad character range: a class escape cannot be its end");
				goto done;
			}
			if (b.cp < a.cp)
			{
				perr(ps, LLM_ERR_INVALID_ARG, "bad character range: out of order");
				goto done;
			}
			hi = b.cp;
		}
		if (!cpset_add(&narrow, lo, hi) || !cpset_add(&wide, lo, hi))
		{
			perr_nomem(ps);
			goto done;
		}
	}
	if (negated)
	{
		cpset_normalize(&wide);
		if (!cpset_complement(&wide))
		{
			perr_nomem(ps);
			goto done;
		}
		id = set_node(ps, &wide);
	}
	else
		id = set_node(ps, &narrow);
done:
	cpset_free(&narrow);
	cpset_free(&wide);
	return id;
}

/*
 * A braced quantifier {m}, {m,} or {m,n} at pos?  On success fills min/max
 * (max -1: unbounded) and returns the length of the text; 0 if the text is
 * not a quantifier (then '{' is a literal, as in ECMA Annex B and Python);
 * -1 on error.
 */
static int
brace_quantifier(rx_parser *ps, int32_t *min, int32_t *max)
{
	size_t		i = ps->pos + 1;
	int64_t		m = 0;
	int64_t		n = -1;
	bool		digits = false;

	if (i < ps->len && ps->p[i] == ',')
	{
		size_t		j = i + 1;

		while (j < ps->len && ps->p[j] >= '0' && ps->p[j] <= '9')
			j++;
		if (j > i + 1 && j < ps->len && ps->p[j] == '}')
		{
			/* ECMA reads {,n} literally, Python as {0,n} */
			perr(ps, LLM_ERR_UNSUPPORTED, "quantifier {,n} is not supported in pattern");
			return -1;
		}
		return 0;
	}
	while (i < ps->len && ps->p[i] >= '0' && ps->p[i] <= '9')
	{
		if (m <= RX_MAX_COUNT)
			m = m * 10 + (ps->p[i] - '0');
		digits = true;
		i++;
	}
	if (!digits || i >= ps->len)
		return 0;
	if (ps->p[i] == '}')
		n = m;
	else if (ps->p[i] == ',')
	{
		i++;
		if (i < ps->len && ps->p[i] >= '0' && ps->p[i] <= '9')
		{
			n = 0;
			while (i < ps->len && ps->p[i] >= '0' && ps->p[i] <= '9')
			{
				if (n <= RX_MAX_COUNT)
					n = n * 10 + (ps->p[i] - '0');
				i++;
			}
		}
		if (i >= ps->len || ps->p[i] != '}')
			return 0;
	}
	else
		return 0;
	if (n >= 0 && n < m)
	{
		perr(ps, LLM_ERR_INVALID_ARG, "bad quantifier: {m,n} with n < m");
		return -1;
	}
	if (m > RX_MAX_COUNT || n > RX_MAX_COUNT)
	{
		perr(ps, LLM_ERR_UNSUPPORTED, "pattern too complex: repetition count too large");
		return -1;
	}
	*min = (int32_t) m;
	*max = (int32_t) n;
	return (int) (i + 1 - ps->pos);
}

/* Is there a quantifier at pos (for "nothing to repeat" checks)? */
static bool
quantifier_here(rx_parser *ps)
{
	int			c = peek(ps, 0);
	int32_t		mn;
	int32_t		mx;
	size_t		save = ps->pos;
	bool		yes;

	if (c == '*' || c == '+' || c == '?')
		return true;
	if (c != '{')
		return false;
	yes = brace_quantifier(ps, &mn, &mx) != 0;
	ps->pos = save;
	return yes;
}

static int32_t parse_alt(rx_parser *ps, int depth);

/* (...) : pos is just past the '('. */
static int32_t
parse_group(rx_parser *ps, int depth)
{
	size_t		open = ps->pos - 1;
	int32_t		inner;

	if (depth >= RX_MAX_DEPTH)
	{
		ps->pos = open;
		return perr(ps, LLM_ERR_UNSUPPORTED, "pattern too complex: groups nested too deeply");
	}
	if (peek(ps, 0) == '?')
	{
		int			c = peek(ps, 1);

		if (c == ':')
			ps->pos += 2;
		else if (c == '=' || c == '!' ||
				 (c == '<' && (peek(ps, 2) == '=' || peek(ps, 2) == '!')))
		{
			ps->pos = open;
			return perr(ps, LLM_ERR_UNSUPPORTED, "lookaround assertion is not supported in pattern");
		}
		else if (c == '<')
		{
			/* a named group (?<name>...) is a plain group for matching */
			size_t		i = ps->pos + 2;

			while (i < ps->len && ps->p[i] != '>' &&
				   ((ps->p[i] >= 'a' && ps->p[i] <= 'z') ||
					(ps->p[i] >= 'A' && ps->p[i] <= 'Z') ||
					(ps->p[i] >= '0' && ps->p[i] <= '9') ||
					ps->p[i] == '_' || ps->p[i] == '$'))
				i++;
			if (i >= ps->len || ps->p[i] != '>' || i == ps->pos + 2 ||
				(ps->p[ps->pos + 2] >= '0' && ps->p[ps->pos + 2] <= '9'))
			{
				ps->pos = open;
				return perr(ps, LLM_ERR_INVALID_ARG, "bad group name");
			}
			ps->pos = i + 1;
		}
		else if (c == 'P')
		{
			ps->pos = open;
			return perr(ps, LLM_ERR_UNSUPPORTED,
						"Python group syntax (?P...) is not supported in pattern");
		}
		else if (c == 'i' || c == 'm' || c == 's' || c == 'x' || c == 'u' || c == '-')
		{
			ps->pos = open;
			return perr(ps, LLM_ERR_UNSUPPORTED, "inline modifiers (?flags) are not supported in pattern");
		}
		else
		{
			ps->pos = open;
			return perr(ps, LLM_ERR_INVALID_ARG, "bad group syntax after (?");
		}
	}
	inner = parse_alt(ps, depth + 1);
	if (inner < 0)
		return -1;
	if (peek(ps, 0) != ')')
	{
		ps->pos = open;
		return perr(ps, LLM_ERR_INVALID_ARG, "unbalanced parenthesis: missing )");
	}
	ps->pos++;
	return inner;
}

static int32_t
parse_atom(rx_parser *ps, int depth)
{
	int			c = peek(ps, 0);
	uint32_t	cp;

	switch (c)
	{
		case '(':
			ps->pos++;
			return parse_group(ps, depth);
		case '[':
			ps->pos++;
			return parse_class(ps);
		case '.':
			ps->pos++;
			return std_node(ps, 0);
		case '^':
			ps->pos++;
			return new_node(ps, RN_BEGIN);
		case '$':
			ps->pos++;
			return new_node(ps, RN_END);
		case '*':
		case '+':
		case '?':
			return perr(ps, LLM_ERR_INVALID_ARG, "nothing to repeat before a quantifier");
		case '{':
			if (quantifier_here(ps))
			{
				if (ps->status != LLM_OK)
					return -1;
				return perr(ps, LLM_ERR_INVALID_ARG, "nothing to repeat before a quantifier");
			}
			if (ps->status != LLM_OK)
				return -1;
			ps->pos++;
			return literal_node(ps, '{');
		case '\\':
			{
				rx_escape	e;
				static const char kinds[] = ".dDwWsS";

				ps->pos++;
				if (!parse_escape(ps, false, &e))
					return -1;
				if (e.set_kind != 0)
					return std_node(ps, (int) (strchr(kinds, e.set_kind) - kinds));
				return literal_node(ps, e.cp);
			}
		default:
			break;
	}
	if (!read_utf8(ps, &cp))
		return perr(ps, LLM_ERR_INVALID_ARG, "pattern is not valid UTF-8");
	return literal_node(ps, cp);
}

static int32_t
parse_term(rx_parser *ps, int depth)
{
	int			first = peek(ps, 0);
	int32_t		atom = parse_atom(ps, depth);
	int32_t		mn;
	int32_t		mx;
	int32_t		rep;
	int			c;

	if (atom < 0)
		return -1;
	c = peek(ps, 0);
	if (c == '*')
		mn = 0, mx = -1, ps->pos++;
	else if (c == '+')
		mn = 1, mx = -1, ps->pos++;
	else if (c == '?')
		mn = 0, mx = 1, ps->pos++;
	else if (c == '{')
	{
		int			n = brace_quantifier(ps, &mn, &mx);

		if (n < 0)
			return -1;
		if (n == 0)
			return atom;		/* a literal '{' follows */
		ps->pos += (size_t) n;
	}
	else
		return atom;
	/* a bare anchor cannot be repeated (a group holding one can) */
	if (first == '^' || first == '$')
		return perr(ps, LLM_ERR_INVALID_ARG, "nothing to repeat: quantifier after an anchor");
	if (peek(ps, 0) == '?')
		ps->pos++;				/* lazy: the same strings match */
	if (quantifier_here(ps))
	{
		if (ps->status != LLM_OK)
			return -1;
		return perr(ps, LLM_ERR_INVALID_ARG, "nothing to repeat: two quantifiers in a row");
	}
	if (ps->status != LLM_OK)
		return -1;
	rep = new_node(ps, RN_REPEAT);
	if (rep < 0)
		return -1;
	ps->nodes[rep].child = atom;
	ps->nodes[rep].min = mn;
	ps->nodes[rep].max = mx;
	return rep;
}

static int32_t
parse_cat(rx_parser *ps, int depth)
{
	int32_t		first = -1;
	int32_t		last = -1;
	int32_t		cat;

	while (!at_end(ps) && peek(ps, 0) != '|' && peek(ps, 0) != ')')
	{
		int32_t		t = parse_term(ps, depth);

		if (t < 0)
			return -1;
		if (first < 0)
			first = t;
		else
			ps->nodes[last].next = t;
		last = t;
	}
	if (first < 0)
		return new_node(ps, RN_EMPTY);
	if (first == last)
		return first;
	cat = new_node(ps, RN_CAT);
	if (cat < 0)
		return -1;
	ps->nodes[cat].child = first;
	return cat;
}

static int32_t
parse_alt(rx_parser *ps, int depth)
{
	int32_t		first = parse_cat(ps, depth);
	int32_t		last = first;
	int32_t		alt;

	if (first < 0)
		return -1;
	if (peek(ps, 0) != '|')
		return first;
	while (peek(ps, 0) == '|')
	{
		int32_t		t;

		ps->pos++;
		t = parse_cat(ps, depth);
		if (t < 0)
			return -1;
		ps->nodes[last].next = t;
		last = t;
	}
	alt = new_node(ps, RN_ALT);
	if (alt < 0)
		return -1;
	ps->nodes[alt].child = first;
	return alt;
}

/* Parse a whole pattern; returns the root node or -1. */
static int32_t
parse_pattern(rx_parser *ps)
{
	int32_t		root = parse_alt(ps, 0);

	if (root < 0)
		return -1;
	if (!at_end(ps))
		return perr(ps, LLM_ERR_INVALID_ARG, "unbalanced parenthesis: unexpected )");
	return root;
}

/* ------------------------------------------------------------------ */
/* Thompson NFA over bytes                                              */
/* ------------------------------------------------------------------ */

typedef enum ns_kind
{
	NS_EPS,						/* -> out */
	NS_SPLIT,					/* -> out and out2 */
	NS_BYTES,					/* byte ranges, each to its own state */
	NS_BEGIN,					/* ^: -> out, only in the start closure */
	NS_END,						/* $: -> out, only when checking acceptance */
	NS_MATCH					/* pattern `pat` accepts */
} ns_kind;

typedef struct nfa_state
{
	uint8_t		kind;
	int32_t		out;
	int32_t		out2;
	int32_t		pat;			/* which pattern the state belongs to */
	bool		satisfied;		/* in a search pattern's trailing loop */
	uint32_t	tr_off;			/* NS_BYTES: transitions in nfa.tr */
	uint32_t	tr_len;
} nfa_state;

typedef struct nfa_tr
{
	uint8_t		lo;
	uint8_t		hi;
	int32_t		to;
} nfa_tr;

/* One UTF-8 byte-range sequence (a product of byte ranges). */
typedef struct utf8_seq
{
	uint8_t		n;
	uint8_t		lo[4];
	uint8_t		hi[4];
} utf8_seq;

typedef struct rx_nfa
{
	nfa_state  *st;
	size_t		n;
	size_t		cap;
	nfa_tr	   *tr;
	size_t		n_tr;
	size_t		cap_tr;
	int32_t		cur_pat;
	/* scratch for code point sets */
	utf8_seq   *seqs;
	size_t		n_seqs;
	size_t		cap_seqs;
	int32_t    *hc;				/* hash-consing table of byte nodes */
	size_t		cap_hc;
	size_t		mask_hc;
	llm_status	status;
	llm_error  *err;
} rx_nfa;

static bool
nfa_fail(rx_nfa *nfa, llm_status status, const char *msg)
{
	if (nfa->status == LLM_OK)
	{
		nfa->status = status;
		llm_error_set(nfa->err, status, "%s", msg);
	}
	return false;
}

static int32_t
nfa_new(rx_nfa *nfa, ns_kind kind)
{
	nfa_state  *s;

	if (nfa->n >= RX_MAX_NFA_STATES)
	{
		nfa_fail(nfa, LLM_ERR_UNSUPPORTED, "pattern too complex");
		return -1;
	}
	if (!RX_GROW(nfa->st, nfa->cap, nfa->n + 1))
	{
		nfa_fail(nfa, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
		return -1;
	}
	s = &nfa->st[nfa->n];
	s->kind = (uint8_t) kind;
	s->out = -1;
	s->out2 = -1;
	s->pat = nfa->cur_pat;
	s->satisfied = false;
	s->tr_off = 0;
	s->tr_len = 0;
	return (int32_t) nfa->n++;
}

/* A fragment: enter at start, leave through end's `out` (still -1). */
typedef struct frag
{
	int32_t		start;
	int32_t		end;
} frag;

static void
encode_utf8(uint32_t cp, uint8_t *b, int *n)
{
	if (cp < 0x80)
	{
		b[0] = (uint8_t) cp;
		*n = 1;
	}
	else if (cp < 0x800)
	{
		b[0] = (uint8_t) (0xC0 | (cp >> 6));
		b[1] = (uint8_t) (0x80 | (cp & 0x3F));
		*n = 2;
	}
	else if (cp < 0x10000)
	{
		b[0] = (uint8_t) (0xE0 | (cp >> 12));
		b[1] = (uint8_t) (0x80 | ((cp >> 6) & 0x3F));
		b[2] = (uint8_t) (0x80 | (cp & 0x3F));
		*n = 3;
	}
	else
	{
		b[0] = (uint8_t) (0xF0 | (cp >> 18));
		b[1] = (uint8_t) (0x80 | ((cp >> 12) & 0x3F));
		b[2] = (uint8_t) (0x80 | ((cp >> 6) & 0x3F));
		b[3] = (uint8_t) (0x80 | (cp & 0x3F));
		*n = 4;
	}
}

/*
 * Split [lo, hi] (no surrogates, same side of them) into byte-range
 * sequences, appended to nfa->seqs in increasing order.  A range is one
 * product of byte ranges when, at every level i, it either stays within
 * one value of the bytes above the low 6*i bits or covers them fully;
 * otherwise cut it at the nearest such boundary and recurse (depth is
 * bounded by a few cuts per level).
 */
static bool
split_utf8(rx_nfa *nfa, uint32_t lo, uint32_t hi)
{
	static const uint32_t limits[] = {0x7F, 0x7FF, 0xFFFF};
	utf8_seq   *q;
	uint8_t		a[4];
	uint8_t		b[4];
	int			na;
	int			nb;

	for (int i = 0; i < 3; i++)
		if (lo <= limits[i] && hi > limits[i])
			return split_utf8(nfa, lo, limits[i]) &&
				split_utf8(nfa, limits[i] + 1, hi);
	if (hi > 0x7F)
	{
		for (int i = 1; i < 4; i++)
		{
			uint32_t	m = (1u << (6 * i)) - 1;

			if ((lo & ~m) != (hi & ~m))
			{
				if ((lo & m) != 0)
					return split_utf8(nfa, lo, lo | m) &&
						split_utf8(nfa, (lo | m) + 1, hi);
				if ((hi & m) != m)
					return split_utf8(nfa, lo, (hi & ~m) - 1) &&
						split_utf8(nfa, hi & ~m, hi);
			}
		}
	}
	if (!RX_GROW(nfa->seqs, nfa->cap_seqs, nfa->n_seqs + 1))
		return nfa_fail(nfa, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
	encode_utf8(lo, a, &na);
	encode_utf8(hi, b, &nb);
	q = &nfa->seqs[nfa->n_seqs++];
	q->n = (uint8_t) na;
	for (int i = 0; i < na; i++)
	{
		q->lo[i] = a[i];
		q->hi[i] = b[i];
	}
	return true;
}

/* Find or make the NS_BYTES state with exactly these transitions. */
static int32_t
intern_bytes(rx_nfa *nfa, const nfa_tr *tr, size_t n)
{
	uint64_t	h = 0x51ED27;
	size_t		slot;
	int32_t		id;

	for (size_t i = 0; i < n; i++)
	{
		h = (h ^ ((uint64_t) tr[i].lo | (uint64_t) tr[i].hi << 8 |
				  (uint64_t) (uint32_t) tr[i].to << 16)) * 0x100000001B3ULL;
		h ^= h >> 31;
	}
	slot = (size_t) h & nfa->mask_hc;
	while (nfa->hc[slot] >= 0)
	{
		const nfa_state *s = &nfa->st[nfa->hc[slot]];

		bool		same = s->tr_len == n;

		/* field by field: the struct has padding */
		for (size_t i = 0; same && i < n; i++)
		{
			const nfa_tr *o = &nfa->tr[s->tr_off + i];

			same = o->lo == tr[i].lo && o->hi == tr[i].hi && o->to == tr[i].to;
		}
		if (same)
			return nfa->hc[slot];
		slot = (slot + 1) & nfa->mask_hc;
	}
	if (nfa->n_tr + n > RX_MAX_NFA_TRANS)
	{
		nfa_fail(nfa, LLM_ERR_UNSUPPORTED, "pattern too complex");
		return -1;
	}
	if (!RX_GROW(nfa->tr, nfa->cap_tr, nfa->n_tr + n))
	{
		nfa_fail(nfa, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
		return -1;
	}
	id = nfa_new(nfa, NS_BYTES);
	if (id < 0)
		return -1;
	memcpy(nfa->tr + nfa->n_tr, tr, n * sizeof(nfa_tr));
	nfa->st[id].tr_off = (uint32_t) nfa->n_tr;
	nfa->st[id].tr_len = (uint32_t) n;
	nfa->n_tr += n;
	nfa->hc[slot] = id;
	return id;
}

/*
 * The byte trie of seqs[a..b) from byte `depth` on, all leaves going to
 * `end`.  Sequences sharing a byte range at this depth are adjacent, and
 * different ranges at one depth never overlap (the splitting guarantees
 * it), so each node is deterministic; nodes are hash-consed, so equal
 * suffixes are one state.  Recursion depth is at most 4.
 */
static int32_t
build_byte_node(rx_nfa *nfa, size_t a, size_t b, int depth, int32_t end)
{
	nfa_tr		tr[256];
	size_t		n = 0;
	size_t		i = a;

	while (i < b)
	{
		const utf8_seq *q = &nfa->seqs[i];
		size_t		j = i + 1;
		int32_t		child;

		while (j < b && nfa->seqs[j].lo[depth] == q->lo[depth] &&
			   nfa->seqs[j].hi[depth] == q->hi[depth])
			j++;
		if (depth + 1 >= q->n)
			child = end;
		else
			child = build_byte_node(nfa, i, j, depth + 1, end);
		if (child < 0)
			return -1;
		if (n >= 256)
		{
			nfa_fail(nfa, LLM_ERR_UNSUPPORTED, "pattern too complex");
			return -1;
		}
		tr[n].lo = q->lo[depth];
		tr[n].hi = q->hi[depth];
		tr[n].to = child;
		n++;
		i = j;
	}
	return intern_bytes(nfa, tr, n);
}

/* A fragment reading one character of the (normalized) set. */
static bool
build_set(rx_nfa *nfa, const cp_range *r, size_t n, frag *f)
{
	size_t		want;

	f->end = nfa_new(nfa, NS_EPS);
	if (f->end < 0)
		return false;
	nfa->n_seqs = 0;
	for (size_t i = 0; i < n; i++)
	{
		uint32_t	lo = r[i].lo;
		uint32_t	hi = r[i].hi > RX_MAX_CPT ? RX_MAX_CPT : r[i].hi;

		if (lo > hi)
			continue;
		/* surrogates are not characters: UTF-8 never encodes them */
		if (lo < 0xD800 && hi >= 0xD800)
		{
			if (!split_utf8(nfa, lo, 0xD7FF))
				return false;
			lo = 0xE000;
		}
		else if (lo >= 0xD800 && lo <= 0xDFFF)
			lo = 0xE000;
		if (lo <= hi && !split_utf8(nfa, lo, hi))
			return false;
	}
	if (nfa->n_seqs == 0)
	{
		/* the empty set: a dead end */
		f->start = nfa_new(nfa, NS_EPS);
		return f->start >= 0;
	}
	/* hash-consing table: at most 4 nodes per sequence, load <= 1/2 */
	want = 16;
	while (want < 8 * nfa->n_seqs + 8)
		want *= 2;
	if (!RX_GROW(nfa->hc, nfa->cap_hc, want))
		return nfa_fail(nfa, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
	memset(nfa->hc, 0xFF, want * sizeof(int32_t));
	nfa->mask_hc = want - 1;
	f->start = build_byte_node(nfa, 0, nfa->n_seqs, 0, f->end);
	return f->start >= 0;
}

/*
 * The fragment of syntax node id.  Repetitions are expanded by building
 * the child again for each copy, so every copy has its own states; the
 * NFA state cap bounds the total.  Recursion follows the syntax tree,
 * whose depth the parser bounds.
 */
static bool
build_node(rx_nfa *nfa, const rx_parser *ps, int32_t id, frag *f)
{
	const rx_node *node = &ps->nodes[id];

	switch (node->kind)
	{
		case RN_EMPTY:
			f->start = f->end = nfa_new(nfa, NS_EPS);
			return f->start >= 0;
		case RN_BEGIN:
			f->start = f->end = nfa_new(nfa, NS_BEGIN);
			return f->start >= 0;
		case RN_END:
			f->start = f->end = nfa_new(nfa, NS_END);
			return f->start >= 0;
		case RN_SET:
			return build_set(nfa, ps->ranges + node->set_off, node->set_len, f);
		case RN_CAT:
			{
				bool		first = true;

				for (int32_t c = node->child; c >= 0; c = ps->nodes[c].next)
				{
					frag		g;

					if (!build_node(nfa, ps, c, &g))
						return false;
					if (first)
						*f = g;
					else
					{
						nfa->st[f->end].out = g.start;
						f->end = g.end;
					}
					first = false;
				}
				return true;
			}
		case RN_ALT:
			{
				int32_t		join = nfa_new(nfa, NS_EPS);
				int32_t		prev_split = -1;

				if (join < 0)
					return false;
				f->end = join;
				f->start = -1;
				for (int32_t c = node->child; c >= 0; c = ps->nodes[c].next)
				{
					frag		g;
					int32_t		entry;

					if (!build_node(nfa, ps, c, &g))
						return false;
					nfa->st[g.end].out = join;
					entry = g.start;
					if (ps->nodes[c].next >= 0)
					{
						/* not the last: a split to this one or the rest */
						entry = nfa_new(nfa, NS_SPLIT);
						if (entry < 0)
							return false;
						nfa->st[entry].out = g.start;
					}
					if (prev_split < 0)
						f->start = entry;
					else
						nfa->st[prev_split].out2 = entry;
					prev_split = entry;
				}
				return true;
			}
		case RN_REPEAT:
			{
				int32_t		cur = nfa_new(nfa, NS_EPS);

				if (cur < 0)
					return false;
				f->start = cur;
				for (int32_t i = 0; i < node->min; i++)
				{
					frag		g;

					if (!build_node(nfa, ps, node->child, &g))
						return false;
					nfa->st[cur].out = g.start;
					cur = g.end;
				}
				if (node->max < 0)
				{
					int32_t		loop = nfa_new(nfa, NS_SPLIT);
					int32_t		exit = nfa_new(nfa, NS_EPS);
					frag		g;

					if (loop < 0 || exit < 0 || !build_node(nfa, ps, node->child, &g))
						return false;
					nfa->st[cur].out = loop;
					nfa->st[loop].out = g.start;
					nfa->st[loop].out2 = exit;
					nfa->st[g.end].out = loop;
					f->end = exit;
				}
				else
				{
					int32_t		exit = nfa_new(nfa, NS_EPS);

					if (exit < 0)
						return false;
					for (int32_t i = node->min; i < node->max; i++)
					{
						int32_t		opt = nfa_new(nfa, NS_SPLIT);
						frag		g;

						if (opt < 0 || !build_node(nfa, ps, node->child, &g))
							return false;
						nfa->st[cur].out = opt;
						nfa->st[opt].out = g.start;
						nfa->st[opt].out2 = exit;
						cur = g.end;
					}
					nfa->st[cur].out = exit;
					f->end = exit;
				}
				return true;
			}
	}
	return false;
}

/*
 * The NFA of one pattern, ending in its NS_MATCH state.  Search mode puts
 * a loop over any character before and after: "^" inside still only holds
 * at the very start, since only the start closure passes NS_BEGIN.  The
 * states of the trailing loop are marked `satisfied` (see closure_state).
 */
static bool
build_pattern(rx_nfa *nfa, const rx_parser *ps, int32_t root,
			  llm_regex_mode mode, int32_t *start)
{
	static const cp_range any[] = {{0, RX_MAX_CPT}};
	frag		body;
	int32_t		match;

	if (!build_node(nfa, ps, root, &body))
		return false;
	match = nfa_new(nfa, NS_MATCH);
	if (match < 0)
		return false;
	if (mode == LLM_REGEX_FULL)
	{
		*start = body.start;
		nfa->st[body.end].out = match;
		return true;
	}
	else
	{
		frag		pre;
		frag		post;
		int32_t		pre_loop = nfa_new(nfa, NS_SPLIT);
		int32_t		post_loop = nfa_new(nfa, NS_SPLIT);

		size_t		post_from;

		if (pre_loop < 0 || post_loop < 0 || !build_set(nfa, any, 1, &pre))
			return false;
		post_from = nfa->n;
		if (!build_set(nfa, any, 1, &post))
			return false;
		/* a thread in here has matched: any valid continuation is accepted */
		for (size_t i = post_from; i < nfa->n; i++)
			nfa->st[i].satisfied = true;
		nfa->st[pre_loop].out = body.start;
		nfa->st[pre_loop].out2 = pre.start;
		nfa->st[pre.end].out = pre_loop;
		nfa->st[body.end].out = post_loop;
		nfa->st[post_loop].out = match;
		nfa->st[post_loop].out2 = post.start;
		nfa->st[post.end].out = post_loop;
		*start = pre_loop;
		return true;
	}
}

/* ------------------------------------------------------------------ */
/* Subset construction                                                  */
/* ------------------------------------------------------------------ */

typedef struct dfa_info
{
	size_t		set_off;		/* its NFA states: pool[set_off..+set_len) */
	int32_t		set_len;
	bool		accept;
} dfa_info;

typedef struct rx_build
{
	rx_nfa	   *nfa;
	int			n_pat;
	const int32_t *pat_start;
	uint8_t    *useful_nb;		/* reaches a match without passing ^ */
	uint8_t    *useful_all;		/* reaches a match at all */

	/* byte classes: bytes no NFA transition tells apart */
	uint8_t		byte_class[256];
	int			n_classes;
	bool		class_excluded[256];

	/* closure scratch */
	uint32_t	stamp;
	uint32_t   *mark_live;		/* per NFA state */
	uint32_t   *mark_end;		/* ... visited after passing $ */
	uint32_t   *acc_mark;		/* per pattern: accepts */
	uint32_t   *live_mark;		/* per pattern: has a recorded state */
	uint32_t   *done_mark;		/* per pattern: a thread is in its trailing loop */
	int32_t    *stack;
	size_t		cap_stack;
	int32_t    *rec;			/* recorded NS_BYTES states */
	size_t		n_rec;
	size_t		cap_rec;

	/* kernels per class of the DFA state being expanded */
	int32_t    *kern;
	size_t		cap_kern;
	size_t		kern_off[257];

	/* DFA states: their NFA sets live in pool */
	dfa_info   *info;
	size_t		cap_dfa;
	int32_t		n_dfa;
	int32_t    *pool;
	size_t		n_pool;
	size_t		cap_pool;
	int32_t    *table;			/* hash table of DFA ids */
	size_t		cap_table;
	int32_t    *trans;			/* n_dfa x n_classes, -1: none */
	size_t		cap_trans;

	uint64_t	work;
	llm_status	status;
	llm_error  *err;
} rx_build;

#define RX_DEAD (-1)
#define RX_FAILED (-2)

static int32_t
build_fail(rx_build *b, llm_status status, const char *msg)
{
	if (b->status == LLM_OK)
	{
		b->status = status;
		llm_error_set(b->err, status, "%s", msg);
	}
	return RX_FAILED;
}

static int32_t
build_nomem(rx_build *b)
{
	return build_fail(b, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
}

static int32_t
build_complex(rx_build *b)
{
	return build_fail(b, LLM_ERR_UNSUPPORTED, "pattern too complex");
}

/*
 * Which NFA states can still lead to a match: reverse reachability from
 * the NS_MATCH states, once without the ^ edges (what a state reached
 * after reading something may use) and once with them.
 */
static bool
compute_useful(rx_build *b)
{
	rx_nfa	   *nfa = b->nfa;
	size_t		n = nfa->n;
	int32_t    *rev_off = llm_calloc(n + 1, sizeof(int32_t));
	int32_t    *rev = NULL;
	int32_t    *queue = llm_malloc((n + 1) * sizeof(int32_t));
	size_t		n_edges = 0;
	bool		ok = false;

	b->useful_nb = llm_calloc(n + 1, 1);
	b->useful_all = llm_calloc(n + 1, 1);
	if (rev_off == NULL || queue == NULL || b->useful_nb == NULL || b->useful_all == NULL)
		goto done;
	/* count, then fill, the reverse edges (target <- source) */
	for (int pass = 0; pass < 2; pass++)
	{
		if (pass == 1)
		{
			size_t		sum = 0;

			for (size_t i = 0; i <= n; i++)
			{
				size_t		c = (size_t) rev_off[i];

				rev_off[i] = (int32_t) sum;
				sum += c;
			}
			n_edges = sum;
			rev = llm_malloc((n_edges + 1) * sizeof(int32_t));
			if (rev == NULL)
				goto done;
		}
		for (size_t s = 0; s < n; s++)
		{
			const nfa_state *st = &nfa->st[s];
			int32_t		tg[2];
			int			nt = 0;

			if (st->kind == NS_BYTES)
			{
				for (uint32_t k = 0; k < st->tr_len; k++)
				{
					int32_t		t = nfa->tr[st->tr_off + k].to;

					if (pass == 0)
						rev_off[t]++;
					else
						rev[rev_off[t]++] = (int32_t) s;
				}
				continue;
			}
			if (st->out >= 0)
				tg[nt++] = st->out;
			if (st->kind == NS_SPLIT && st->out2 >= 0)
				tg[nt++] = st->out2;
			for (int k = 0; k < nt; k++)
			{
				if (pass == 0)
					rev_off[tg[k]]++;
				else
					rev[rev_off[tg[k]]++] = (int32_t) s;
			}
		}
		if (pass == 1)
		{
			/* the fill advanced each offset to the next one's start */
			for (size_t i = n; i > 0; i--)
				rev_off[i] = rev_off[i - 1];
			rev_off[0] = 0;
		}
	}
	for (int with_begin = 0; with_begin < 2; with_begin++)
	{
		uint8_t    *mark = with_begin ? b->useful_all : b->useful_nb;
		size_t		qh = 0;
		size_t		qt = 0;

		for (size_t s = 0; s < n; s++)
			if (nfa->st[s].kind == NS_MATCH)
			{
				mark[s] = 1;
				queue[qt++] = (int32_t) s;
			}
		while (qh < qt)
		{
			int32_t		t = queue[qh++];

			for (int32_t k = rev_off[t]; k < rev_off[t + 1]; k++)
			{
				int32_t		s = rev[k];

				if (mark[s] || (!with_begin && nfa->st[s].kind == NS_BEGIN))
					continue;
				mark[s] = 1;
				queue[qt++] = s;
			}
		}
	}
	ok = true;
done:
	llm_free(rev_off);
	llm_free(rev);
	llm_free(queue);
	return ok;
}

static void
compute_byte_classes(rx_build *b, const bool *exclude_ascii)
{
	bool		cut[257] = {false};	/* a class starts at this byte */
	int			c = -1;

	cut[0] = true;
	cut[0x80] = cut[0xC0] = true;	/* lead and continuation bytes apart */
	for (size_t i = 0; i < b->nfa->n_tr; i++)
	{
		cut[b->nfa->tr[i].lo] = true;
		cut[b->nfa->tr[i].hi + 1] = true;
	}
	if (exclude_ascii != NULL)
		for (int i = 1; i < 129; i++)
			if ((i < 128 && exclude_ascii[i]) != exclude_ascii[i - 1])
				cut[i] = true;
	for (int i = 0; i < 256; i++)
	{
		if (cut[i])
		{
			c++;
			b->class_excluded[c] = exclude_ascii != NULL && i < 128 && exclude_ascii[i];
		}
		b->byte_class[i] = (uint8_t) c;
	}
	b->n_classes = c + 1;
}

static bool
push_stack(rx_build *b, size_t *top, int32_t state, int past_end)
{
	if (!RX_GROW(b->stack, b->cap_stack, *top + 1))
		return false;
	b->stack[(*top)++] = state * 2 + past_end;
	return true;
}

/*
 * The DFA state for the epsilon closure of kernel (NFA states), made if
 * new.  Returns its id, RX_DEAD when no pattern can still match (some
 * pattern has no thread left and does not accept here), or RX_FAILED.
 *
 * Only NS_BYTES states are recorded in the set (the rest are bookkeeping);
 * acceptance is part of the state's identity.  A thread that passes $ can
 * only accept: it is followed in "past end" mode, where byte states are
 * not recorded.
 */
static int32_t
closure_state(rx_build *b, const int32_t *kern, size_t n_kern, bool at_start)
{
	rx_nfa	   *nfa = b->nfa;
	size_t		top = 0;
	bool		accept = true;
	bool		any_done = false;
	uint64_t	h;
	size_t		slot;
	size_t		mask;
	int32_t		id;

	if (++b->stamp == 0)
	{
		memset(b->mark_live, 0, nfa->n * sizeof(uint32_t));
		memset(b->mark_end, 0, nfa->n * sizeof(uint32_t));
		memset(b->acc_mark, 0, (size_t) b->n_pat * sizeof(uint32_t));
		memset(b->live_mark, 0, (size_t) b->n_pat * sizeof(uint32_t));
		memset(b->done_mark, 0, (size_t) b->n_pat * sizeof(uint32_t));
		b->stamp = 1;
	}
	b->n_rec = 0;
	for (size_t i = 0; i < n_kern; i++)
		if (!push_stack(b, &top, kern[i], 0))
			return build_nomem(b);
	while (top > 0)
	{
		int32_t		e = b->stack[--top];
		int32_t		s = e >> 1;
		int			past_end = e & 1;
		const nfa_state *st = &nfa->st[s];
		uint32_t   *mark = past_end ? b->mark_end : b->mark_live;

		if (mark[s] == b->stamp)
			continue;
		mark[s] = b->stamp;
		if (++b->work > RX_MAX_WORK)
			return build_complex(b);
		if (!b->useful_all[s] || (!at_start && !b->useful_nb[s]))
			continue;
		switch (st->kind)
		{
			case NS_EPS:
				if (st->out >= 0 && !push_stack(b, &top, st->out, past_end))
					return build_nomem(b);
				break;
			case NS_SPLIT:
				if ((st->out >= 0 && !push_stack(b, &top, st->out, past_end)) ||
					(st->out2 >= 0 && !push_stack(b, &top, st->out2, past_end)))
					return build_nomem(b);
				break;
			case NS_BEGIN:
				if (at_start && st->out >= 0 && !push_stack(b, &top, st->out, past_end))
					return build_nomem(b);
				break;
			case NS_END:
				if (st->out >= 0 && !push_stack(b, &top, st->out, 1))
					return build_nomem(b);
				break;
			case NS_BYTES:
				if (!past_end && b->useful_nb[s] && st->tr_len > 0)
				{
					if (!RX_GROW(b->rec, b->cap_rec, b->n_rec + 1))
						return build_nomem(b);
					b->rec[b->n_rec++] = s;
					b->live_mark[st->pat] = b->stamp;
					if (st->satisfied)
					{
						b->done_mark[st->pat] = b->stamp;
						any_done = true;
					}
				}
				break;
			case NS_MATCH:
				b->acc_mark[st->pat] = b->stamp;
				break;
		}
	}
	for (int p = 0; p < b->n_pat; p++)
	{
		if (b->acc_mark[p] != b->stamp)
		{
			accept = false;
			if (b->live_mark[p] != b->stamp)
				return RX_DEAD;
		}
	}
	/*
	 * A search pattern with a thread in its trailing loop has matched: it
	 * accepts every valid continuation, so its other threads can add
	 * nothing.  Dropping them keeps such states from multiplying.
	 */
	if (any_done)
	{
		size_t		k = 0;

		for (size_t i = 0; i < b->n_rec; i++)
		{
			const nfa_state *st = &nfa->st[b->rec[i]];

			if (st->satisfied || b->done_mark[st->pat] != b->stamp)
				b->rec[k++] = b->rec[i];
		}
		b->n_rec = k;
	}
	b->n_rec = sort_unique_int32(b->rec, b->n_rec);

	/* look it up */
	h = hash_int32s(b->rec, b->n_rec, accept);
	mask = b->cap_table - 1;
	slot = (size_t) h & mask;
	while ((id = b->table[slot]) >= 0)
	{
		if (b->info[id].accept == accept && (size_t) b->info[id].set_len == b->n_rec &&
			(b->n_rec == 0 ||
			 memcmp(b->pool + b->info[id].set_off, b->rec, b->n_rec * sizeof(int32_t)) == 0))
			return id;
		slot = (slot + 1) & mask;
	}

	/* a new state */
	if (b->n_dfa >= RX_MAX_BUILD_STATES || b->n_pool + b->n_rec > RX_MAX_SET_POOL)
		return build_complex(b);
	if (!RX_GROW(b->info, b->cap_dfa, (size_t) b->n_dfa + 1))
		return build_nomem(b);
	if (!RX_GROW(b->pool, b->cap_pool, b->n_pool + b->n_rec + 1))
		return build_nomem(b);
	if (!RX_GROW(b->trans, b->cap_trans, ((size_t) b->n_dfa + 1) * (size_t) b->n_classes))
		return build_nomem(b);
	id = b->n_dfa++;
	b->info[id].set_off = b->n_pool;
	b->info[id].set_len = (int32_t) b->n_rec;
	b->info[id].accept = accept;
	if (b->n_rec > 0)
		memcpy(b->pool + b->n_pool, b->rec, b->n_rec * sizeof(int32_t));
	b->n_pool += b->n_rec;
	for (int c = 0; c < b->n_classes; c++)
		b->trans[(size_t) id * (size_t) b->n_classes + (size_t) c] = -1;
	b->table[slot] = id;

	/* keep the table at most half full */
	if ((size_t) b->n_dfa * 2 > b->cap_table)
	{
		size_t		new_cap = b->cap_table * 2;
		int32_t    *nt = llm_malloc(new_cap * sizeof(int32_t));

		if (nt == NULL)
			return build_nomem(b);
		memset(nt, 0xFF, new_cap * sizeof(int32_t));
		for (int32_t k = 0; k < b->n_dfa; k++)
		{
			size_t		sl = (size_t) hash_int32s(b->pool + b->info[k].set_off,
												  (size_t) b->info[k].set_len,
												  b->info[k].accept) & (new_cap - 1);

			while (nt[sl] >= 0)
				sl = (sl + 1) & (new_cap - 1);
			nt[sl] = k;
		}
		llm_free(b->table);
		b->table = nt;
		b->cap_table = new_cap;
	}
	return id;
}

/* Fill the transitions of DFA state id. */
static bool
expand_state(rx_build *b, int32_t id)
{
	rx_nfa	   *nfa = b->nfa;
	int			nc = b->n_classes;
	size_t		cnt[257];
	size_t		total = 0;
	int32_t		len = b->info[id].set_len;
	size_t		off = b->info[id].set_off;
	/* a small cache of kernel -> DFA state for this state's classes */
	struct
	{
		uint64_t	h;
		int			cls;
		int32_t		result;
	}			cache[512];
	size_t		uniq_len[256];

	memset(cnt, 0, sizeof(cnt));
	for (int32_t i = 0; i < len; i++)
	{
		const nfa_state *st = &nfa->st[b->pool[off + (size_t) i]];

		for (uint32_t k = 0; k < st->tr_len; k++)
		{
			const nfa_tr *t = &nfa->tr[st->tr_off + k];

			for (int c = b->byte_class[t->lo]; c <= b->byte_class[t->hi]; c++)
				cnt[c]++;
		}
	}
	for (int c = 0; c < nc; c++)
	{
		b->kern_off[c] = total;
		total += cnt[c];
	}
	b->kern_off[nc] = total;
	b->work += total;
	if (b->work > RX_MAX_WORK)
		return build_complex(b) != RX_FAILED;
	if (!RX_GROW(b->kern, b->cap_kern, total + 1))
		return build_nomem(b) != RX_FAILED;
	memset(cnt, 0, sizeof(cnt));
	for (int32_t i = 0; i < len; i++)
	{
		const nfa_state *st = &nfa->st[b->pool[b->info[id].set_off + (size_t) i]];

		for (uint32_t k = 0; k < st->tr_len; k++)
		{
			const nfa_tr *t = &nfa->tr[st->tr_off + k];

			for (int c = b->byte_class[t->lo]; c <= b->byte_class[t->hi]; c++)
				b->kern[b->kern_off[c] + cnt[c]++] = t->to;
		}
	}
	for (size_t i = 0; i < 512; i++)
		cache[i].cls = -1;
	for (int c = 0; c < nc; c++)
	{
		int32_t    *k = b->kern + b->kern_off[c];
		size_t		n;
		uint64_t	h;
		size_t		slot;
		int32_t		to = RX_DEAD;
		bool		found = false;

		uniq_len[c] = 0;
		if (b->class_excluded[c] || cnt[c] == 0)
			continue;
		n = sort_unique_int32(k, cnt[c]);
		uniq_len[c] = n;
		h = hash_int32s(k, n, 7);
		slot = (size_t) h & 511;
		while (cache[slot].cls >= 0)
		{
			int			oc = cache[slot].cls;

			if (cache[slot].h == h && uniq_len[oc] == n &&
				memcmp(b->kern + b->kern_off[oc], k, n * sizeof(int32_t)) == 0)
			{
				to = cache[slot].result;
				found = true;
				break;
			}
			slot = (slot + 1) & 511;
		}
		if (!found)
		{
			to = closure_state(b, k, n, false);
			if (to == RX_FAILED)
				return false;
			cache[slot].h = h;
			cache[slot].cls = c;
			cache[slot].result = to;
		}
		/* b->trans may have moved while the closure added states */
		b->trans[(size_t) id * (size_t) nc + (size_t) c] = to;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The compiled automaton                                               */
/* ------------------------------------------------------------------ */

#define RXF_ACCEPT 1
#define RXF_MID 2				/* inside a UTF-8 sequence */

struct llm_regex
{
	int32_t		n_states;
	int32_t		start;			/* -1: nothing is accepted */
	int32_t		n_classes;
	uint8_t		byte_class[256];
	uint8_t		class_rep[256];	/* the byte shortest_finish writes for a class */
	uint8_t		class_order[256];	/* classes, nicest representative first */
	int16_t    *trans;			/* n_states x n_classes, -1: no way on */
	uint8_t    *flags;			/* RXF_* per state */

	/*
	 * Character counts.  succ lists the states one more character leads to
	 * (for a state inside a sequence: completing the current character);
	 * pred is the reverse.  min_chars/max_chars bound the characters to
	 * acceptance (max RX_INF when a cycle is on the way).
	 */
	int32_t    *succ_off;
	int32_t    *succ;
	int32_t    *pred_off;
	int32_t    *pred;
	int32_t    *min_chars;
	int32_t    *max_chars;

	/*
	 * Exact table: bit k of state s's row says that exactly k more
	 * characters can end in acceptance, for k < len_T; for k >= len_T the
	 * bits repeat with period len_period from len_prefix on (len_period 0:
	 * not known, so treated as "no").
	 */
	int32_t		len_T;
	int32_t		len_prefix;
	int32_t		len_period;
	int32_t		len_words;		/* uint64 words per row */
	uint64_t   *len_rows;
};

static void
regex_free_parts(llm_regex *re)
{
	llm_free(re->trans);
	llm_free(re->flags);
	llm_free(re->succ_off);
	llm_free(re->succ);
	llm_free(re->pred_off);
	llm_free(re->pred);
	llm_free(re->min_chars);
	llm_free(re->max_chars);
	llm_free(re->len_rows);
}

void
llm_regex_free(llm_regex *re)
{
	if (re == NULL)
		return;
	regex_free_parts(re);
	llm_free(re);
}

/* How pleasant a byte is to write in a completion (lower is better). */
static int
byte_rank(int b)
{
	if (b >= 'a' && b <= 'z')
		return b - 'a';
	if (b >= '0' && b <= '9')
		return 26 + b - '0';
	if (b >= 'A' && b <= 'Z')
		return 36 + b - 'A';
	if (b > 0x20 && b < 0x7F && b != '"' && b != '\\')
		return 62 + b;
	if (b == ' ')
		return 200;
	if (b == '"' || b == '\\')
		return 210 + b;
	if (b >= 0xC2 && b <= 0xF4)
		return 400 + b;
	if (b >= 0x80 && b <= 0xBF)
		return 700 + b;
	return 1000 + b;
}

/*
 * Keep the states from which an accepting state is reachable; returns the
 * new number of states and fills map (old -> new or -1).
 */
static int32_t
prune_dead(const rx_build *b, int32_t *map, bool *ok)
{
	int32_t		n = b->n_dfa;
	int			nc = b->n_classes;
	int32_t    *rev_off = llm_calloc((size_t) n + 1, sizeof(int32_t));
	int32_t    *rev = NULL;
	int32_t    *queue = llm_malloc(((size_t) n + 1) * sizeof(int32_t));
	size_t		n_edges = 0;
	size_t		qh = 0;
	size_t		qt = 0;
	int32_t		n_live = 0;

	*ok = false;
	if (rev_off == NULL || queue == NULL)
		goto done;
	for (size_t i = 0; i < (size_t) n * (size_t) nc; i++)
		if (b->trans[i] >= 0)
		{
			rev_off[b->trans[i] + 1]++;
			n_edges++;
		}
	for (int32_t i = 0; i < n; i++)
		rev_off[i + 1] += rev_off[i];
	rev = llm_malloc((n_edges + 1) * sizeof(int32_t));
	if (rev == NULL)
		goto done;
	{
		int32_t    *fill = llm_malloc(((size_t) n + 1) * sizeof(int32_t));

		if (fill == NULL)
			goto done;
		memcpy(fill, rev_off, ((size_t) n + 1) * sizeof(int32_t));
		for (int32_t s = 0; s < n; s++)
			for (int c = 0; c < nc; c++)
			{
				int32_t		t = b->trans[(size_t) s * (size_t) nc + (size_t) c];

				if (t >= 0)
					rev[fill[t]++] = s;
			}
		llm_free(fill);
	}
	for (int32_t s = 0; s < n; s++)
	{
		map[s] = -1;
		if (b->info[s].accept)
		{
			map[s] = 0;
			queue[qt++] = s;
		}
	}
	while (qh < qt)
	{
		int32_t		t = queue[qh++];

		for (int32_t k = rev_off[t]; k < rev_off[t + 1]; k++)
			if (map[rev[k]] < 0)
			{
				map[rev[k]] = 0;
				queue[qt++] = rev[k];
			}
	}
	for (int32_t s = 0; s < n; s++)
		if (map[s] == 0)
			map[s] = n_live++;
	*ok = true;
done:
	llm_free(rev_off);
	llm_free(rev);
	llm_free(queue);
	return n_live;
}

/*
 * Hopcroft's partition refinement on the live states (trans over n states
 * and nc classes, -1 for none): block[s] gets the class of states
 * equivalent to s; returns the number of blocks, or -1 when out of memory.
 *
 * Missing transitions go to an implicit sink (state n), which makes the
 * automaton complete; the sink starts in a block of its own and that block
 * is never used as a splitter (with a complete automaton one initial block
 * may be left out), so the huge set of missing transitions is never
 * walked.  A splitter is a block for all classes at once: the states whose
 * transition on class c enters it, grouped by c, refine the partition.
 * Each state enters O(log n) splitters (the smaller half rule), so the
 * work is O(transitions x log n).
 */
static int32_t
minimize(const int32_t *trans, const uint8_t *accept, int32_t n, int nc,
		 int32_t *block)
{
	int32_t		ns = n + 1;		/* with the sink */
	size_t		n_edges = 0;
	int32_t    *in_off = llm_calloc((size_t) ns + 1, sizeof(int32_t));
	int32_t    *in_src = NULL;	/* (source state, class) pairs by target */
	uint8_t    *in_cls = NULL;
	int32_t    *elems = llm_malloc((size_t) ns * sizeof(int32_t));
	int32_t    *loc = llm_malloc((size_t) ns * sizeof(int32_t));
	int32_t    *blk = llm_malloc((size_t) ns * sizeof(int32_t));
	int32_t    *first = llm_malloc((size_t) ns * sizeof(int32_t));
	int32_t    *end = llm_malloc((size_t) ns * sizeof(int32_t));
	int32_t    *mid = llm_malloc((size_t) ns * sizeof(int32_t));
	uint8_t    *in_work = llm_calloc((size_t) ns, 1);
	int32_t    *work = llm_malloc((size_t) ns * sizeof(int32_t));
	int32_t    *touched = llm_malloc((size_t) ns * sizeof(int32_t));
	int32_t    *pre = NULL;		/* the splitter's predecessors, by class */
	int32_t		cls_cnt[257];
	int32_t		n_blocks = 0;
	int32_t		n_work = 0;
	int32_t		result = -1;

	if (in_off == NULL || elems == NULL || loc == NULL || blk == NULL || first == NULL ||
		end == NULL || mid == NULL || in_work == NULL || work == NULL || touched == NULL)
		goto done;

	/* inverse transitions (the sink's are never needed) */
	for (size_t i = 0; i < (size_t) n * (size_t) nc; i++)
		if (trans[i] >= 0)
		{
			in_off[trans[i] + 1]++;
			n_edges++;
		}
	for (int32_t t = 0; t < ns; t++)
		in_off[t + 1] += in_off[t];
	in_src = llm_malloc((n_edges + 1) * sizeof(int32_t));
	in_cls = llm_malloc(n_edges + 1);
	pre = llm_malloc((n_edges + 1) * sizeof(int32_t));
	if (in_src == NULL || in_cls == NULL || pre == NULL)
		goto done;
	{
		int32_t    *fill = work;	/* borrowed before use */

		memcpy(fill, in_off, (size_t) ns * sizeof(int32_t));
		for (int32_t s = 0; s < n; s++)
			for (int c = 0; c < nc; c++)
			{
				int32_t		t = trans[(size_t) s * (size_t) nc + (size_t) c];

				if (t >= 0)
				{
					in_src[fill[t]] = s;
					in_cls[fill[t]] = (uint8_t) c;
					fill[t]++;
				}
			}
	}

	/* initial blocks: accepting, other live states, the sink */
	{
		int32_t		k = 0;

		for (int pass = 0; pass < 3; pass++)
		{
			int32_t		start = k;

			for (int32_t s = 0; s < ns; s++)
			{
				int			kind = s == n ? 2 : accept[s] ? 0 : 1;

				if (kind != pass)
					continue;
				elems[k] = s;
				loc[s] = k;
				blk[s] = n_blocks;
				k++;
			}
			if (k > start)
			{
				first[n_blocks] = start;
				end[n_blocks] = k;
				mid[n_blocks] = start;
				if (pass < 2)
				{
					work[n_work++] = n_blocks;
					in_work[n_blocks] = 1;
				}
				n_blocks++;
			}
		}
	}

	while (n_work > 0)
	{
		int32_t		b = work[--n_work];
		int32_t		n_pre = 0;
		int32_t		pos[257];

		in_work[b] = 0;
		/* predecessors of the splitter, bucketed by class */
		memset(cls_cnt, 0, sizeof(cls_cnt));
		for (int32_t i = first[b]; i < end[b]; i++)
		{
			int32_t		t = elems[i];

			for (int32_t k = in_off[t]; k < in_off[t + 1]; k++)
				cls_cnt[in_cls[k]]++;
		}
		pos[0] = 0;
		for (int c = 0; c < nc; c++)
			pos[c + 1] = pos[c] + cls_cnt[c];
		n_pre = pos[nc];
		if (n_pre == 0)
			continue;
		{
			int32_t		fillpos[257];

			memcpy(fillpos, pos, sizeof(pos));
			for (int32_t i = first[b]; i < end[b]; i++)
			{
				int32_t		t = elems[i];

				for (int32_t k = in_off[t]; k < in_off[t + 1]; k++)
					pre[fillpos[in_cls[k]]++] = in_src[k];
			}
		}
		for (int c = 0; c < nc; c++)
		{
			int32_t		n_touched = 0;

			if (pos[c] == pos[c + 1])
				continue;
			/* mark: move each predecessor to the front part of its block */
			for (int32_t k = pos[c]; k < pos[c + 1]; k++)
			{
				int32_t		s = pre[k];
				int32_t		p = blk[s];
				int32_t		m = mid[p];

				if (loc[s] < m)
					continue;	/* already marked */
				if (m == first[p])
					touched[n_touched++] = p;
				/* swap s into position m */
				{
					int32_t		other = elems[m];
					int32_t		ls = loc[s];

					elems[m] = s;
					loc[s] = m;
					elems[ls] = other;
					loc[other] = ls;
				}
				mid[p] = m + 1;
			}
			/* split the touched blocks */
			for (int32_t i = 0; i < n_touched; i++)
			{
				int32_t		p = touched[i];
				int32_t		q;

				if (mid[p] == end[p])
				{
					mid[p] = first[p];	/* all marked: no split */
					continue;
				}
				q = n_blocks++;
				first[q] = first[p];
				end[q] = mid[p];
				mid[q] = first[q];
				first[p] = mid[p];
				mid[p] = first[p];
				for (int32_t k = first[q]; k < end[q]; k++)
					blk[elems[k]] = q;
				if (in_work[p])
				{
					work[n_work++] = q;
					in_work[q] = 1;
				}
				else
				{
					int32_t		smaller = end[q] - first[q] <= end[p] - first[p] ? q : p;

					work[n_work++] = smaller;
					in_work[smaller] = 1;
				}
			}
		}
	}

	/* number the blocks of live states 0.. in order of first appearance */
	{
		int32_t    *id = touched;	/* reused */
		int32_t		next_id = 0;

		for (int32_t k = 0; k < n_blocks; k++)
			id[k] = -1;
		for (int32_t s = 0; s < n; s++)
		{
			if (id[blk[s]] < 0)
				id[blk[s]] = next_id++;
			block[s] = id[blk[s]];
		}
		result = next_id;
	}
done:
	llm_free(in_off);
	llm_free(in_src);
	llm_free(in_cls);
	llm_free(elems);
	llm_free(loc);
	llm_free(blk);
	llm_free(first);
	llm_free(end);
	llm_free(mid);
	llm_free(in_work);
	llm_free(work);
	llm_free(touched);
	llm_free(pre);
	return result;
}

/*
 * The one-character graph, min_chars and max_chars.  A state is "mid"
 * when it reads continuation bytes (a valid UTF-8 automaton never mixes
 * them with lead bytes in one state).
 */
static bool
build_char_graph(llm_regex *re)
{
	int32_t		n = re->n_states;
	int			nc = re->n_classes;
	bool		is_cont[256];
	int32_t    *remaining = llm_calloc((size_t) n + 1, sizeof(int32_t));
	int32_t    *comp_off = llm_calloc((size_t) n + 1, sizeof(int32_t));
	int32_t    *comp_len = llm_calloc((size_t) n + 1, sizeof(int32_t));
	int32_t    *comp = NULL;
	size_t		n_comp = 0;
	size_t		cap_comp = 0;
	uint32_t   *mark = llm_calloc((size_t) n + 1, sizeof(uint32_t));
	uint32_t	stamp = 0;
	size_t		n_succ = 0;
	size_t		cap_succ = 0;
	int32_t    *queue = llm_malloc(((size_t) n + 1) * sizeof(int32_t));
	int32_t    *outdeg = llm_calloc((size_t) n + 1, sizeof(int32_t));
	int64_t    *best = llm_calloc((size_t) n + 1, sizeof(int64_t));
	bool		ok = false;

	re->succ_off = llm_calloc((size_t) n + 1, sizeof(int32_t));
	re->pred_off = llm_calloc((size_t) n + 1, sizeof(int32_t));
	re->min_chars = llm_malloc(((size_t) n + 1) * sizeof(int32_t));
	re->max_chars = llm_malloc(((size_t) n + 1) * sizeof(int32_t));
	if (remaining == NULL || comp_off == NULL || comp_len == NULL || mark == NULL ||
		queue == NULL || outdeg == NULL || best == NULL || re->succ_off == NULL ||
		re->pred_off == NULL || re->min_chars == NULL || re->max_chars == NULL)
		goto done;

	for (int c = 0; c < nc; c++)
		is_cont[c] = false;
	for (int byte = 0x80; byte < 0xC0; byte++)
		is_cont[re->byte_class[byte]] = true;
	for (int32_t s = 0; s < n; s++)
		for (int c = 0; c < nc; c++)
			if (is_cont[c] && re->trans[(size_t) s * (size_t) nc + (size_t) c] >= 0)
				re->flags[s] |= RXF_MID;

	/*
	 * Continuation bytes still to read in mid states (1..3): iterate to a
	 * fixpoint, at most 3 rounds in a valid automaton (cap it anyway).
	 */
	for (int round = 0; round < 4; round++)
		for (int32_t s = 0; s < n; s++)
		{
			int32_t		r = 0;

			if (!(re->flags[s] & RXF_MID))
				continue;
			for (int c = 0; c < nc; c++)
			{
				int32_t		t = re->trans[(size_t) s * (size_t) nc + (size_t) c];

				if (t >= 0 && is_cont[c])
				{
					int32_t		rt = (re->flags[t] & RXF_MID) ? remaining[t] + 1 : 1;

					if (rt > r)
						r = rt;
				}
			}
			remaining[s] = r > 4 ? 4 : r;
		}

	/* completions of mid states, shortest remainder first */
	for (int32_t r = 1; r <= 4; r++)
		for (int32_t s = 0; s < n; s++)
		{
			if (!(re->flags[s] & RXF_MID) || remaining[s] != r)
				continue;
			stamp++;
			comp_off[s] = (int32_t) n_comp;
			for (int c = 0; c < nc; c++)
			{
				int32_t		t = re->trans[(size_t) s * (size_t) nc + (size_t) c];

				if (t < 0 || !is_cont[c])
					continue;
				if (re->flags[t] & RXF_MID)
				{
					/* only shorter remainders are done; others are ignored */
					if (remaining[t] >= r)
						continue;
					for (int32_t k = 0; k < comp_len[t]; k++)
					{
						int32_t		u = comp[comp_off[t] + k];

						if (mark[u] != stamp)
						{
							mark[u] = stamp;
							if (!RX_GROW(comp, cap_comp, n_comp + 1))
								goto done;
							comp[n_comp++] = u;
						}
					}
				}
				else if (mark[t] != stamp)
				{
					mark[t] = stamp;
					if (!RX_GROW(comp, cap_comp, n_comp + 1))
						goto done;
					comp[n_comp++] = t;
				}
			}
			comp_len[s] = (int32_t) n_comp - comp_off[s];
		}

	/* one-character successors */
	for (int32_t s = 0; s < n; s++)
	{
		re->succ_off[s] = (int32_t) n_succ;
		stamp++;
		if (re->flags[s] & RXF_MID)
		{
			if (!rx_grow((void **) &re->succ, &cap_succ, n_succ + (size_t) comp_len[s] + 1,
						 sizeof(int32_t)))
				goto done;
			for (int32_t k = 0; k < comp_len[s]; k++)
				re->succ[n_succ++] = comp[comp_off[s] + k];
			continue;
		}
		for (int c = 0; c < nc; c++)
		{
			int32_t		t = re->trans[(size_t) s * (size_t) nc + (size_t) c];
			const int32_t *from;
			int32_t		cnt;

			if (t < 0 || is_cont[c])
				continue;
			if (re->flags[t] & RXF_MID)
			{
				from = comp + comp_off[t];
				cnt = comp_len[t];
			}
			else
			{
				from = &t;
				cnt = 1;
			}
			for (int32_t k = 0; k < cnt; k++)
			{
				int32_t		u = from[k];

				if (mark[u] == stamp)
					continue;
				mark[u] = stamp;
				if (!rx_grow((void **) &re->succ, &cap_succ, n_succ + 1, sizeof(int32_t)))
					goto done;
				re->succ[n_succ++] = u;
			}
		}
	}
	re->succ_off[n] = (int32_t) n_succ;
	if (re->succ == NULL && (re->succ = llm_malloc(sizeof(int32_t))) == NULL)
		goto done;

	/* predecessors */
	re->pred = llm_malloc((n_succ + 1) * sizeof(int32_t));
	if (re->pred == NULL)
		goto done;
	for (size_t k = 0; k < n_succ; k++)
		re->pred_off[re->succ[k] + 1]++;
	for (int32_t s = 0; s < n; s++)
		re->pred_off[s + 1] += re->pred_off[s];
	{
		int32_t    *fill = outdeg;	/* borrowed, reset below */

		for (int32_t s = 0; s < n; s++)
			fill[s] = re->pred_off[s];
		for (int32_t s = 0; s < n; s++)
			for (int32_t k = re->succ_off[s]; k < re->succ_off[s + 1]; k++)
				re->pred[fill[re->succ[k]]++] = s;
	}

	/* min_chars: breadth-first from the accepting states, backwards */
	{
		size_t		qh = 0;
		size_t		qt = 0;

		for (int32_t s = 0; s < n; s++)
		{
			re->min_chars[s] = RX_INF;
			if (re->flags[s] & RXF_ACCEPT)
			{
				re->min_chars[s] = 0;
				queue[qt++] = s;
			}
		}
		while (qh < qt)
		{
			int32_t		t = queue[qh++];

			for (int32_t k = re->pred_off[t]; k < re->pred_off[t + 1]; k++)
			{
				int32_t		s = re->pred[k];

				if (re->min_chars[s] == RX_INF)
				{
					re->min_chars[s] = re->min_chars[t] + 1;
					queue[qt++] = s;
				}
			}
		}
	}

	/*
	 * max_chars: a state finalizes once all its successors have; states
	 * that never do can reach a cycle, so their count is unbounded.
	 */
	{
		size_t		qh = 0;
		size_t		qt = 0;

		for (int32_t s = 0; s < n; s++)
		{
			outdeg[s] = re->succ_off[s + 1] - re->succ_off[s];
			best[s] = (re->flags[s] & RXF_ACCEPT) ? 0 : -1;
			re->max_chars[s] = RX_INF;
			if (outdeg[s] == 0)
			{
				re->max_chars[s] = (int32_t) (best[s] < 0 ? 0 : best[s]);
				queue[qt++] = s;
			}
		}
		while (qh < qt)
		{
			int32_t		t = queue[qh++];

			for (int32_t k = re->pred_off[t]; k < re->pred_off[t + 1]; k++)
			{
				int32_t		s = re->pred[k];

				if (best[s] < (int64_t) re->max_chars[t] + 1)
					best[s] = (int64_t) re->max_chars[t] + 1;
				if (--outdeg[s] == 0)
				{
					re->max_chars[s] = best[s] >= RX_INF ? RX_INF - 1 : (int32_t) best[s];
					queue[qt++] = s;
				}
			}
		}
	}
	ok = true;
done:
	llm_free(remaining);
	llm_free(comp_off);
	llm_free(comp_len);
	llm_free(comp);
	llm_free(mark);
	llm_free(queue);
	llm_free(outdeg);
	llm_free(best);
	return ok;
}

/*
 * S_k, the set of states from which exactly k more characters can end in
 * acceptance, follows S_0 = accepting states and S_k = pred(S_{k-1}): a
 * deterministic sequence of subsets, so it becomes periodic once a set
 * repeats.  Compute the columns until that happens (usually within the
 * longest bounded repetition of the pattern), then store them per state.
 * If the budget runs out first, counts from len_T on are reported as
 * impossible: never a wrong "yes".  Made once at compile time (it takes
 * microseconds for typical patterns and is bounded by RX_LEN_WORK), so
 * the automaton is read-only afterwards.  False when out of memory.
 */
static bool
make_length_table(llm_regex *re)
{
	int32_t		n = re->n_states;
	size_t		words = ((size_t) n + 63) / 64;
	size_t		max_cols = RX_LEN_TABLE_WORDS / (words ? words : 1);
	uint64_t   *cols = NULL;
	size_t		cap_cols = 0;
	size_t		n_cols = 0;
	uint64_t   *hashes = NULL;
	size_t		cap_hashes = 0;
	int32_t    *table = NULL;
	size_t		cap_table = 0;
	int32_t		prefix = 0;
	int32_t		period = 0;
	uint64_t	work = 0;
	bool		ok = false;

	if (max_cols > RX_LEN_MAX_COLS)
		max_cols = RX_LEN_MAX_COLS;
	cap_table = 1024;
	table = llm_malloc(cap_table * sizeof(int32_t));
	if (table == NULL)
		return false;
	memset(table, 0xFF, cap_table * sizeof(int32_t));

	for (;;)
	{
		uint64_t   *col;
		uint64_t	h = 0x243F6A8885A308D3ULL;
		size_t		slot;
		bool		repeated = false;

		if (n_cols >= max_cols || work > RX_LEN_WORK)
			break;
		if (!rx_grow((void **) &cols, &cap_cols, (n_cols + 1) * words, sizeof(uint64_t)) ||
			!RX_GROW(hashes, cap_hashes, n_cols + 1))
			goto fail;
		col = cols + n_cols * words;
		memset(col, 0, words * sizeof(uint64_t));
		if (n_cols == 0)
		{
			for (int32_t s = 0; s < n; s++)
				if (re->flags[s] & RXF_ACCEPT)
					col[s / 64] |= 1ULL << (s % 64);
		}
		else
		{
			const uint64_t *prev = cols + (n_cols - 1) * words;

			for (size_t w = 0; w < words; w++)
			{
				uint64_t	bits = prev[w];

				while (bits != 0)
				{
					int32_t		t = (int32_t) (w * 64 + (size_t) __builtin_ctzll(bits));

					bits &= bits - 1;
					for (int32_t k = re->pred_off[t]; k < re->pred_off[t + 1]; k++)
						col[re->pred[k] / 64] |= 1ULL << (re->pred[k] % 64);
					work += (uint64_t) (re->pred_off[t + 1] - re->pred_off[t]) + 1;
				}
			}
		}
		for (size_t w = 0; w < words; w++)
		{
			h ^= col[w];
			h *= 0xFF51AFD7ED558CCDULL;
			h ^= h >> 31;
		}
		hashes[n_cols] = h;
		/* has this column been seen? */
		slot = (size_t) h & (cap_table - 1);
		while (table[slot] >= 0)
		{
			int32_t		k = table[slot];

			if (hashes[k] == h &&
				memcmp(cols + (size_t) k * words, col, words * sizeof(uint64_t)) == 0)
			{
				prefix = k;
				period = (int32_t) n_cols - k;
				repeated = true;
				break;
			}
			slot = (slot + 1) & (cap_table - 1);
		}
		if (repeated)
			break;				/* column n_cols is not kept: it equals column prefix */
		table[slot] = (int32_t) n_cols;
		n_cols++;
		if (n_cols * 2 > cap_table)
		{
			size_t		new_cap = cap_table * 2;
			int32_t    *nt = llm_malloc(new_cap * sizeof(int32_t));

			if (nt == NULL)
				goto fail;
			memset(nt, 0xFF, new_cap * sizeof(int32_t));
			for (size_t k = 0; k < n_cols; k++)
			{
				size_t		sl = (size_t) hashes[k] & (new_cap - 1);

				while (nt[sl] >= 0)
					sl = (sl + 1) & (new_cap - 1);
				nt[sl] = (int32_t) k;
			}
			llm_free(table);
			table = nt;
			cap_table = new_cap;
		}
	}

	/* transpose: one row of n_cols bits per state */
	{
		size_t		row_words = (n_cols + 63) / 64;
		size_t		total;

		if (row_words == 0)
			row_words = 1;
		if (!llm_mul_size(row_words, (size_t) n, &total))
			goto fail;
		re->len_rows = llm_calloc(total + 1, sizeof(uint64_t));
		if (re->len_rows == NULL)
			goto fail;
		for (size_t k = 0; k < n_cols; k++)
		{
			const uint64_t *col = cols + k * words;

			for (size_t w = 0; w < words; w++)
			{
				uint64_t	bits = col[w];

				while (bits != 0)
				{
					size_t		s = w * 64 + (size_t) __builtin_ctzll(bits);

					bits &= bits - 1;
					re->len_rows[s * row_words + k / 64] |= 1ULL << (k % 64);
				}
			}
		}
		re->len_words = (int32_t) row_words;
	}
	re->len_T = (int32_t) n_cols;
	re->len_prefix = prefix;
	re->len_period = period;
	ok = true;
fail:
	llm_free(cols);
	llm_free(hashes);
	llm_free(table);
	return ok;
}

/* Any bit set in row between a and b inclusive (0 <= a <= b < len_T)? */
static bool
row_any(const uint64_t *row, int64_t a, int64_t b)
{
	int64_t		wa = a / 64;
	int64_t		wb = b / 64;

	for (int64_t w = wa; w <= wb; w++)
	{
		uint64_t	bits = row[w];

		if (w == wa)
			bits &= ~0ULL << (a % 64);
		if (w == wb && b % 64 != 63)
			bits &= (1ULL << (b % 64 + 1)) - 1;
		if (bits != 0)
			return true;
	}
	return false;
}

static bool
exact_lengths(const llm_regex *re, int32_t state, int64_t lo, int64_t hi)
{
	const uint64_t *row;
	int64_t		T;
	int64_t		p;
	int64_t		i0;
	int64_t		a;
	int64_t		count;

	if (re->len_rows == NULL)
		return false;
	T = re->len_T;
	p = re->len_period;
	i0 = re->len_prefix;
	row = re->len_rows + (size_t) state * (size_t) re->len_words;
	if (lo < T && row_any(row, lo, hi < T ? hi : T - 1))
		return true;
	if (hi < T || p == 0)
		return false;
	/* counts from T on repeat the columns [i0, T) */
	a = lo > T ? lo : T;
	count = hi - a + 1;
	if (count >= p)
		return row_any(row, i0, T - 1);
	{
		int64_t		pa = i0 + (a - i0) % p;
		int64_t		pb = pa + count - 1;

		if (pb < T)
			return row_any(row, pa, pb);
		return row_any(row, pa, T - 1) || row_any(row, i0, i0 + (pb - T));
	}
}

/*
 * Turn the subset construction's result into the final automaton: prune,
 * minimise, renumber, choose byte representatives, count characters.
 */
static llm_status
finish_automaton(rx_build *b, int32_t start, llm_regex **out, llm_error *err)
{
	llm_regex  *re = llm_calloc(1, sizeof(llm_regex));
	int32_t    *map = NULL;
	int32_t    *live_trans = NULL;
	uint8_t    *live_accept = NULL;
	int32_t    *block = NULL;
	int32_t    *rep = NULL;
	int32_t		n_live;
	int32_t		n_blocks;
	int			nc = b->n_classes;
	bool		ok;

	if (re == NULL)
		goto nomem;
	re->n_classes = nc;
	memcpy(re->byte_class, b->byte_class, 256);
	re->start = -1;

	/* representatives: the nicest byte of each class */
	{
		int			best_rank[256];
		int			order_n = 0;

		for (int c = 0; c < nc; c++)
			best_rank[c] = 1 << 30;
		for (int byte = 0; byte < 256; byte++)
		{
			int			c = b->byte_class[byte];

			if (byte_rank(byte) < best_rank[c])
			{
				best_rank[c] = byte_rank(byte);
				re->class_rep[c] = (uint8_t) byte;
			}
		}
		for (int c = 0; c < nc; c++)
			re->class_order[order_n++] = (uint8_t) c;
		/* insertion sort by rank: at most 256 entries, once */
		for (int i = 1; i < nc; i++)
		{
			uint8_t		x = re->class_order[i];
			int			j = i;

			while (j > 0 && best_rank[re->class_order[j - 1]] > best_rank[x])
			{
				re->class_order[j] = re->class_order[j - 1];
				j--;
			}
			re->class_order[j] = x;
		}
	}

	if (start < 0)
	{
		/* nothing is accepted: an automaton without states */
		*out = re;
		return LLM_OK;
	}

	map = llm_malloc(((size_t) b->n_dfa + 1) * sizeof(int32_t));
	if (map == NULL)
		goto nomem;
	n_live = prune_dead(b, map, &ok);
	if (!ok)
		goto nomem;
	if (map[start] < 0)
	{
		llm_free(map);
		*out = re;
		return LLM_OK;
	}

	/* the live part, renumbered */
	live_trans = llm_malloc(((size_t) n_live * (size_t) nc + 1) * sizeof(int32_t));
	live_accept = llm_malloc((size_t) n_live + 1);
	block = llm_malloc(((size_t) n_live + 1) * sizeof(int32_t));
	if (live_trans == NULL || live_accept == NULL || block == NULL)
		goto nomem;
	for (int32_t s = 0; s < b->n_dfa; s++)
	{
		int32_t		ns = map[s];

		if (ns < 0)
			continue;
		live_accept[ns] = b->info[s].accept;
		for (int c = 0; c < nc; c++)
		{
			int32_t		t = b->trans[(size_t) s * (size_t) nc + (size_t) c];

			live_trans[(size_t) ns * (size_t) nc + (size_t) c] = t >= 0 ? map[t] : -1;
		}
	}

	n_blocks = minimize(live_trans, live_accept, n_live, nc, block);
	if (n_blocks < 0)
		goto nomem;
	if (n_blocks > LLM_REGEX_MAX_STATES)
	{
		llm_free(map);
		llm_free(live_trans);
		llm_free(live_accept);
		llm_free(block);
		llm_regex_free(re);
		return llm_error_set(err, LLM_ERR_UNSUPPORTED, "pattern too complex");
	}

	/* the final table, states numbered by block, the start first */
	{
		int32_t    *renum = llm_malloc(((size_t) n_blocks + 1) * sizeof(int32_t));
		int32_t		next_id = 0;
		size_t		qh = 0;

		rep = llm_malloc(((size_t) n_blocks + 1) * sizeof(int32_t));
		if (renum == NULL || rep == NULL)
		{
			llm_free(renum);
			goto nomem;
		}
		for (int32_t k = 0; k < n_blocks; k++)
			renum[k] = -1;
		/* breadth-first from the start, so ids follow reading order */
		for (int32_t s = 0; s < n_live; s++)
			rep[block[s]] = s;
		{
			int32_t    *order = llm_malloc(((size_t) n_blocks + 1) * sizeof(int32_t));

			if (order == NULL)
			{
				llm_free(renum);
				goto nomem;
			}
			renum[block[map[start]]] = next_id++;
			order[0] = block[map[start]];
			while (qh < (size_t) next_id)
			{
				int32_t		bl = order[qh++];
				const int32_t *row = live_trans + (size_t) rep[bl] * (size_t) nc;

				for (int c = 0; c < nc; c++)
					if (row[c] >= 0 && renum[block[row[c]]] < 0)
					{
						renum[block[row[c]]] = next_id;
						order[next_id++] = block[row[c]];
					}
			}
			llm_free(order);
		}
		/* every live state is reachable from the start, but be safe */
		for (int32_t k = 0; k < n_blocks; k++)
			if (renum[k] < 0)
				renum[k] = next_id++;

		re->n_states = n_blocks;
		re->trans = llm_malloc(((size_t) n_blocks * (size_t) nc + 1) * sizeof(int16_t));
		re->flags = llm_calloc((size_t) n_blocks + 1, 1);
		if (re->trans == NULL || re->flags == NULL)
		{
			llm_free(renum);
			goto nomem;
		}
		for (int32_t k = 0; k < n_blocks; k++)
		{
			int32_t		id = renum[k];
			const int32_t *row = live_trans + (size_t) rep[k] * (size_t) nc;

			re->flags[id] = live_accept[rep[k]] ? RXF_ACCEPT : 0;
			for (int c = 0; c < nc; c++)
				re->trans[(size_t) id * (size_t) nc + (size_t) c] =
					(int16_t) (row[c] >= 0 ? renum[block[row[c]]] : -1);
		}
		re->start = renum[block[map[start]]];
		llm_free(renum);
	}
	if (!build_char_graph(re) || !make_length_table(re))
		goto nomem;

	llm_free(map);
	llm_free(live_trans);
	llm_free(live_accept);
	llm_free(block);
	llm_free(rep);
	*out = re;
	return LLM_OK;

nomem:
	llm_free(map);
	llm_free(live_trans);
	llm_free(live_accept);
	llm_free(block);
	llm_free(rep);
	llm_regex_free(re);
	return llm_error_set(err, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

static void
free_nfa(rx_nfa *nfa)
{
	llm_free(nfa->st);
	llm_free(nfa->tr);
	llm_free(nfa->seqs);
	llm_free(nfa->hc);
}

static void
free_build(rx_build *b)
{
	llm_free(b->useful_nb);
	llm_free(b->useful_all);
	llm_free(b->mark_live);
	llm_free(b->mark_end);
	llm_free(b->acc_mark);
	llm_free(b->live_mark);
	llm_free(b->done_mark);
	llm_free(b->stack);
	llm_free(b->rec);
	llm_free(b->kern);
	llm_free(b->info);
	llm_free(b->pool);
	llm_free(b->table);
	llm_free(b->trans);
}

llm_status
llm_regex_compile(const char *const *patterns, const size_t *lens,
				  const llm_regex_mode *modes, int n,
				  const bool *exclude_ascii,
				  llm_regex **out, llm_error *err)
{
	static const char *const empty_pattern[] = {""};
	static const size_t empty_len[] = {0};
	static const llm_regex_mode search_mode[] = {LLM_REGEX_SEARCH};
	rx_nfa		nfa;
	rx_build	b;
	int32_t    *starts = NULL;
	int32_t		start;
	llm_status	st;

	if (out == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "llm_regex_compile: no output pointer");
	*out = NULL;
	if (n < 0 || (n > 0 && (patterns == NULL || lens == NULL || modes == NULL)))
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "llm_regex_compile: bad pattern list");
	if (n == 0)
	{
		/* no pattern: every string (still subject to exclude_ascii) */
		patterns = empty_pattern;
		lens = empty_len;
		modes = search_mode;
		n = 1;
	}
	for (int i = 0; i < n; i++)
	{
		if (lens[i] > LLM_REGEX_MAX_PATTERN_LEN)
		{
			llm_error_set(err, LLM_ERR_UNSUPPORTED, "pattern too complex");
			llm_error_detail(err, "pattern %d is %zu bytes long; the limit is %d",
							 i + 1, lens[i], LLM_REGEX_MAX_PATTERN_LEN);
			return LLM_ERR_UNSUPPORTED;
		}
		if (patterns[i] == NULL && lens[i] > 0)
			return llm_error_set(err, LLM_ERR_INVALID_ARG, "llm_regex_compile: NULL pattern");
		if (modes[i] != LLM_REGEX_SEARCH && modes[i] != LLM_REGEX_FULL)
			return llm_error_set(err, LLM_ERR_INVALID_ARG, "llm_regex_compile: bad mode");
	}

	memset(&nfa, 0, sizeof(nfa));
	memset(&b, 0, sizeof(b));
	nfa.err = err;
	b.err = err;
	starts = llm_malloc((size_t) n * sizeof(int32_t));
	if (starts == NULL)
	{
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
		goto done;
	}

	/* parse and build each pattern's NFA */
	for (int i = 0; i < n; i++)
	{
		rx_parser	ps;
		int32_t		root;
		bool		built;

		memset(&ps, 0, sizeof(ps));
		ps.p = (const uint8_t *) (patterns[i] != NULL ? patterns[i] : "");
		ps.len = lens[i];
		ps.pattern_index = i;
		ps.err = err;
		root = parse_pattern(&ps);
		if (root < 0)
		{
			llm_free(ps.nodes);
			llm_free(ps.ranges);
			st = ps.status != LLM_OK ? ps.status : LLM_ERR_INVALID_ARG;
			goto done;
		}
		nfa.cur_pat = i;
		built = build_pattern(&nfa, &ps, root, modes[i], &starts[i]);
		llm_free(ps.nodes);
		llm_free(ps.ranges);
		if (!built)
		{
			st = nfa.status != LLM_OK ? nfa.status : LLM_ERR_NOMEM;
			if (st == LLM_ERR_UNSUPPORTED)
				llm_error_detail(err, "pattern %d expands to more than %d automaton states",
								 i + 1, RX_MAX_NFA_STATES);
			goto done;
		}
	}

	/* subset construction */
	b.nfa = &nfa;
	b.n_pat = n;
	b.pat_start = starts;
	if (!compute_useful(&b))
	{
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
		goto done;
	}
	compute_byte_classes(&b, exclude_ascii);
	b.mark_live = llm_calloc(nfa.n + 1, sizeof(uint32_t));
	b.mark_end = llm_calloc(nfa.n + 1, sizeof(uint32_t));
	b.acc_mark = llm_calloc((size_t) n, sizeof(uint32_t));
	b.live_mark = llm_calloc((size_t) n, sizeof(uint32_t));
	b.done_mark = llm_calloc((size_t) n, sizeof(uint32_t));
	b.cap_table = 1024;
	b.table = llm_malloc(b.cap_table * sizeof(int32_t));
	if (b.mark_live == NULL || b.mark_end == NULL || b.acc_mark == NULL ||
		b.live_mark == NULL || b.done_mark == NULL || b.table == NULL)
	{
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory compiling a regular expression");
		goto done;
	}
	memset(b.table, 0xFF, b.cap_table * sizeof(int32_t));
	start = closure_state(&b, starts, (size_t) n, true);
	for (int32_t i = 0; start >= 0 && i < b.n_dfa; i++)
		if (!expand_state(&b, i))
			break;
	if (b.status != LLM_OK)
	{
		st = b.status;
		if (st == LLM_ERR_UNSUPPORTED)
			llm_error_detail(err, "the automaton would need more than %d states or too much work",
							 LLM_REGEX_MAX_STATES);
		goto done;
	}
	st = finish_automaton(&b, start, out, err);
done:
	llm_free(starts);
	free_nfa(&nfa);
	free_build(&b);
	return st;
}

int32_t
llm_regex_start(const llm_regex *re)
{
	return re != NULL ? re->start : -1;
}

int32_t
llm_regex_next(const llm_regex *re, int32_t state, uint8_t byte)
{
	if (re == NULL || state < 0 || state >= re->n_states)
		return -1;
	return re->trans[(size_t) state * (size_t) re->n_classes + re->byte_class[byte]];
}

bool
llm_regex_is_accept(const llm_regex *re, int32_t state)
{
	if (re == NULL || state < 0 || state >= re->n_states)
		return false;
	return (re->flags[state] & RXF_ACCEPT) != 0;
}

int32_t
llm_regex_n_states(const llm_regex *re)
{
	return re != NULL ? re->n_states : 0;
}

bool
llm_regex_can_finish(const llm_regex *re, int32_t state,
					 int32_t min_more, int32_t max_more)
{
	int64_t		lo = min_more < 0 ? 0 : min_more;
	int64_t		hi = max_more;
	int32_t		mn;
	int32_t		mx;

	if (re == NULL || state < 0 || state >= re->n_states || hi < lo)
		return false;
	mn = re->min_chars[state];
	mx = re->max_chars[state];
	/* the common cases answer from the two bounds */
	if (hi < mn)
		return false;
	if (lo <= mn)
		return true;
	if (mx != RX_INF)
	{
		if (lo > mx)
			return false;
		if (hi >= mx)
			return true;
	}
	return exact_lengths(re, state, lo, hi);
}

bool
llm_regex_matches(const llm_regex *re, const char *s, size_t len)
{
	int32_t		state = llm_regex_start(re);

	for (size_t i = 0; i < len && state >= 0; i++)
		state = llm_regex_next(re, state, (uint8_t) s[i]);
	return llm_regex_is_accept(re, state);
}

/* A node of the shortest_finish search. */
typedef struct finish_node
{
	int32_t		state;
	int32_t		chars;			/* characters so far (clamped when unbounded) */
	int32_t		parent;
	int32_t		depth;
	uint8_t		byte;
} finish_node;

static uint64_t
finish_key_hash(int32_t state, int32_t chars)
{
	uint64_t	h = ((uint64_t) (uint32_t) state << 32 | (uint32_t) chars) * 0x9E3779B97F4A7C15ULL;

	return h ^ (h >> 29);
}

/*
 * Breadth-first over (state, characters so far): the first accepting
 * node with a count in the window is a shortest completion in bytes.
 * Nodes from which the window cannot be met are never entered, so the
 * search only walks completions that work.
 */
llm_status
llm_regex_shortest_finish(const llm_regex *re, int32_t state,
						  int32_t min_more, int32_t max_more,
						  char *buf, size_t cap, size_t *len,
						  llm_error *err)
{
	int32_t		lo = min_more < 0 ? 0 : min_more;
	int32_t		hi = max_more;
	bool		unbounded = max_more == INT32_MAX;
	finish_node *nodes = NULL;
	size_t		n_nodes = 0;
	size_t		cap_nodes = 0;
	int32_t    *table = NULL;
	size_t		cap_table = 1024;
	size_t		head = 0;
	llm_status	st;

	if (len != NULL)
		*len = 0;
	if (len == NULL || (buf == NULL && cap > 0))
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "llm_regex_shortest_finish: bad buffer");
	if (!llm_regex_can_finish(re, state, lo, hi))
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "no completion of the string matches the pattern within the length bounds");
	table = llm_malloc(cap_table * sizeof(int32_t));
	if (table == NULL || !RX_GROW(nodes, cap_nodes, 1))
	{
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
		goto done;
	}
	memset(table, 0xFF, cap_table * sizeof(int32_t));
	nodes[0].state = state;
	/* a state inside a sequence counts the character it completes */
	nodes[0].chars = (re->flags[state] & RXF_MID) ? 1 : 0;
	if (unbounded && nodes[0].chars > lo)
		nodes[0].chars = lo;
	nodes[0].parent = -1;
	nodes[0].depth = 0;
	nodes[0].byte = 0;
	n_nodes = 1;
	table[finish_key_hash(nodes[0].state, nodes[0].chars) & (cap_table - 1)] = 0;

	while (head < n_nodes)
	{
		finish_node cur = nodes[head];
		int32_t		cur_index = (int32_t) head;

		head++;
		if ((re->flags[cur.state] & RXF_ACCEPT) && cur.chars >= lo && cur.chars <= hi)
		{
			size_t		n = (size_t) cur.depth;

			if (n > cap)
			{
				st = llm_error_set(err, LLM_ERR_LIMIT,
								   "the shortest completion needs %zu bytes, more than the %zu available",
								   n, cap);
				goto done;
			}
			for (int32_t k = cur_index; nodes[k].parent >= 0; k = nodes[k].parent)
				buf[--n] = (char) nodes[k].byte;
			*len = (size_t) cur.depth;
			st = LLM_OK;
			goto done;
		}
		if ((size_t) cur.depth >= cap)
		{
			st = llm_error_set(err, LLM_ERR_LIMIT,
							   "the shortest completion needs more than the %zu bytes available", cap);
			goto done;
		}
		for (int i = 0; i < re->n_classes; i++)
		{
			int			c = re->class_order[i];
			uint8_t		byte = re->class_rep[c];
			int32_t		t = re->trans[(size_t) cur.state * (size_t) re->n_classes + (size_t) c];
			int64_t		chars = cur.chars;
			int64_t		need_lo;
			int64_t		need_hi;
			size_t		slot;
			bool		seen = false;

			if (t < 0)
				continue;
			if ((byte & 0xC0) != 0x80)
				chars++;
			if (unbounded && chars > lo)
				chars = lo;
			if (chars > hi)
				continue;
			/* what t still has to produce (a mid state counts its character again) */
			need_lo = (int64_t) lo - chars;
			need_hi = unbounded ? INT32_MAX : (int64_t) hi - chars;
			if (re->flags[t] & RXF_MID)
			{
				need_lo++;
				if (!unbounded)
					need_hi++;
			}
			if (need_lo < 0)
				need_lo = 0;
			if (need_hi > INT32_MAX)
				need_hi = INT32_MAX;
			if (!llm_regex_can_finish(re, t, (int32_t) need_lo, (int32_t) need_hi))
				continue;
			slot = (size_t) finish_key_hash(t, (int32_t) chars) & (cap_table - 1);
			while (table[slot] >= 0)
			{
				if (nodes[table[slot]].state == t && nodes[table[slot]].chars == chars)
				{
					seen = true;
					break;
				}
				slot = (slot + 1) & (cap_table - 1);
			}
			if (seen)
				continue;
			if (n_nodes >= RX_FINISH_MAX_NODES)
			{
				st = llm_error_set(err, LLM_ERR_LIMIT, "the shortest completion search is too large");
				goto done;
			}
			if (!RX_GROW(nodes, cap_nodes, n_nodes + 1))
			{
				st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
				goto done;
			}
			nodes[n_nodes].state = t;
			nodes[n_nodes].chars = (int32_t) chars;
			nodes[n_nodes].parent = cur_index;
			nodes[n_nodes].depth = cur.depth + 1;
			nodes[n_nodes].byte = byte;
			table[slot] = (int32_t) n_nodes;
			n_nodes++;
			if (n_nodes * 2 > cap_table)
			{
				size_t		new_cap = cap_table * 2;
				int32_t    *nt = llm_malloc(new_cap * sizeof(int32_t));

				if (nt == NULL)
				{
					st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
					goto done;
				}
				memset(nt, 0xFF, new_cap * sizeof(int32_t));
				for (size_t k = 0; k < n_nodes; k++)
				{
					size_t		sl = (size_t) finish_key_hash(nodes[k].state, nodes[k].chars) &
						(new_cap - 1);

					while (nt[sl] >= 0)
						sl = (sl + 1) & (new_cap - 1);
					nt[sl] = (int32_t) k;
				}
				llm_free(table);
				table = nt;
				cap_table = new_cap;
			}
		}
	}
	/* can_finish said yes, so the search cannot run dry */
	st = llm_error_set(err, LLM_ERR_INVALID_ARG, "no completion found");
done:
	llm_free(nodes);
	llm_free(table);
	return st;
}

/* ------------------------------------------------------------------ */
/* Built-in "format" patterns                                           */
/* ------------------------------------------------------------------ */

/*
 * Each is a subset of what the format's RFC and Python's jsonschema
 * checkers (rfc3339-validator, datetime.date.fromisoformat, fqdn,
 * ipaddress, uuid, rfc3987) accept; see test/engine/test_regex.c and the
 * issue note for how they were checked.
 *
 * Dates: year 0001-9999 (year 0 is not a date), days 29 and 30 in every
 * month but February, 31 in the long months, February 29 only in leap
 * years (divisible by 4, centuries only when divisible by 400).
 */
#define RX_YEAR "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
#define RX_LEAP_YEAR "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
#define RX_DATE \
	"(?:" RX_YEAR "-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])" \
	"|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)" \
	"|" RX_LEAP_YEAR "-02-29)"
/* RFC 3339 full-time: no leap second (Python's checkers refuse :60) */
#define RX_TIME \
	"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?" \
	"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"

/* a DNS label of 1..n characters: letters, digits, inner hyphens */
#define RX_LABEL(inner) "[A-Za-z0-9](?:[A-Za-z0-9-]{0," inner "}[A-Za-z0-9])?"

/* at most 6 labels of at most 41 characters: never over 253 in all */
#define RX_HOSTNAME RX_LABEL("39") "(?:\\." RX_LABEL("39") "){0,5}"

#define RX_EMAIL \
	"[A-Za-z0-9_%+-]+(?:\\.[A-Za-z0-9_%+-]+)*@" \
	"(?:" RX_LABEL("61") "\\.)+[A-Za-z]{2,63}"

#define RX_OCTET "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
#define RX_IPV4 RX_OCTET "(?:\\." RX_OCTET "){3}"

/* RFC 4291 text forms without an embedded IPv4 part; "::" stands for at
 * least one group */
#define RX_H16 "[0-9A-Fa-f]{1,4}"
#define RX_IPV6 \
	"(?:(?:" RX_H16 ":){7}" RX_H16 \
	"|(?:" RX_H16 ":){1,7}:" \
	"|(?:" RX_H16 ":){1,6}:" RX_H16 \
	"|(?:" RX_H16 ":){1,5}(?::" RX_H16 "){1,2}" \
	"|(?:" RX_H16 ":){1,4}(?::" RX_H16 "){1,3}" \
	"|(?:" RX_H16 ":){1,3}(?::" RX_H16 "){1,4}" \
	"|(?:" RX_H16 ":){1,2}(?::" RX_H16 "){1,5}" \
	"|" RX_H16 ":(?::" RX_H16 "){1,6}" \
	"|:(?::" RX_H16 "){1,7}" \
	"|::)"

#define RX_HEX "[0-9A-Fa-f]"
#define RX_UUID RX_HEX "{8}-" RX_HEX "{4}-" RX_HEX "{4}-" RX_HEX "{4}-" RX_HEX "{12}"

/*
 * RFC 3986 URI, conservatively: a scheme, then "//" a host name with an
 * optional port and an absolute path, or an absolute or rootless path;
 * optional query and fragment.  Only unreserved, sub-delims, ":" "@" and
 * percent-escapes in path, query and fragment.
 */
#define RX_PCHAR "(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
#define RX_URI \
	"[A-Za-z][A-Za-z0-9+.-]*:" \
	"(?://[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*(?::[0-9]{1,5})?(?:/" RX_PCHAR "*)*" \
	"|/(?:" RX_PCHAR "+(?:/" RX_PCHAR "*)*)?" \
	"|" RX_PCHAR "+(?:/" RX_PCHAR "*)*)" \
	"(?:\\?(?:" RX_PCHAR "|[/?])*)?" \
	"(?:#(?:" RX_PCHAR "|[/?])*)?"

const char *
llm_regex_format_pattern(const char *format)
{
	static const struct
	{
		const char *name;
		const char *pattern;
	}			formats[] = {
		{"date-time", RX_DATE "T" RX_TIME},
		{"date", RX_DATE},
		{"time", RX_TIME},
		{"email", RX_EMAIL},
		{"hostname", RX_HOSTNAME},
		{"ipv4", RX_IPV4},
		{"ipv6", RX_IPV6},
		{"uuid", RX_UUID},
		{"uri", RX_URI},
	};

	if (format == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(format, formats[i].name) == 0)
			return formats[i].pattern;
	return NULL;
}
