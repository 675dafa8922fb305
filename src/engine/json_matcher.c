/*
 * json_matcher.c — a byte-level matcher over the compiled schema graph
 * (json_schema.h): which next bytes keep the text a prefix of a document the
 * schema accepts.
 *
 * The state is a set of parse stacks.  A stack is the index of its top
 * frame; each frame points at its parent.  Frames are never changed once
 * written: a byte makes new frames (a new top, and when a value ends a new
 * version of its parent), so the old stacks stay intact and "rollback" is
 * just truncating the arena and the list of stack sets.
 *
 * Ambiguity is handled by keeping every reading: an anyOf node becomes one
 * stack per branch when its value starts, and a value that may end or go on
 * (a number, an enum literal that is a prefix of another) yields both the
 * stack that goes on and the stack where it has ended.  Stacks whose top
 * frames are identical (same content, same parent) are merged, and at most
 * LLM_JSON_MAX_STACKS are kept: each kept stack is a live prefix, so
 * dropping some loses alternatives, never validity.
 *
 * Every frame only accepts a byte if a valid completion remains afterwards
 * (the invariant of json_matcher.h): node viability is computed once here
 * (a fixpoint over the graph, so recursive schemas work), strings ask the
 * automaton whether they can still finish within their length bounds,
 * numbers check that some completion within the digit caps lies within
 * their bounds, arrays and objects check the counts they still have to
 * reach.
 */
#include "json_matcher.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128;

#define JM_MAX_FRAMES (1 << 22)		/* 256 MB of frames: beyond, refuse */
#define JM_MAX_VISIT 256			/* anyOf nodes expanded for one value */
#define JM_MAX_EXPAND_DEPTH 64		/* anyOf inside anyOf */
#define JM_FIXPOINT_PASSES 1000
#define JM_FRAC_DIGITS LLM_SCHEMA_MAX_FRACTION_DIGITS
#define JM_HARD_INT_DIGITS 26		/* 10^(26+12) still fits in 128 bits */
#define JM_FREE_KEY_MAX_CHARS LLM_SCHEMA_DEFAULT_MAX_CHARS
#define JM_FNV_BASIS 14695981039346656037ULL
#define JM_FNV_PRIME 1099511628211ULL

/* Frame kinds. */
enum
{
	FK_ROOT,
	FK_OBJECT,
	FK_ARRAY,
	FK_STRING,
	FK_NUMBER,
	FK_LITS,					/* candidates among a LITERALS node's texts */
	FK_WORD,					/* true / false / null */
	FK_KEYREC					/* not a stack frame: one free key's hash */
};

/* Root phases. */
enum
{
	RP_START,
	RP_DONE
};

/* Object phases. */
enum
{
	OP_OPEN,					/* after '{' */
	OP_COMMA,					/* after ',' */
	OP_DKEY,					/* inside a declared key */
	OP_FKEY,					/* inside a free (additional) key */
	OP_AFTER_KEY,				/* before ':' */
	OP_COLON,					/* after ':'; also while the value is read */
	OP_AFTER_VALUE				/* before ',' or '}' */
};

/* Array phases. */
enum
{
	AP_OPEN,					/* after '['; also while element 0 is read */
	AP_COMMA,					/* after ','; also while the element is read */
	AP_AFTER					/* before ',' or ']' */
};

/* Number phases. */
enum
{
	NP_SIGN,					/* "-" */
	NP_ZERO,					/* "0" or "-0" */
	NP_INT,						/* integer digits, the first not 0 */
	NP_DOT,						/* "...." */
	NP_FRAC						/* fraction digits */
};

/* Frame flags. */
#define FF_NEG 1				/* numbers: negative */
#define FF_FREE 2				/* objects: free keys have started */

/* The part of a string's state a frame carries. */
typedef struct jm_str
{
	int32_t		rstate;			/* automaton state; -1 without a pattern */
	int32_t		chars;			/* complete characters so far */
	uint8_t		need;			/* UTF-8 continuation bytes still expected */
	uint8_t		lo;				/* range of the next continuation byte */
	uint8_t		hi;
	uint8_t		esc;			/* after a backslash */
} jm_str;

/* A 128-bit integer stored without 16-byte alignment. */
typedef struct jm_w128
{
	uint64_t	lo;
	uint64_t	hi;
} jm_w128;

typedef struct jm_frame
{
	int32_t		parent;			/* frame index, -1 for the root */
	int32_t		node;			/* schema node (-1: none) */
	uint8_t		kind;
	uint8_t		phase;
	uint8_t		ws;				/* whitespace bytes in the current run */
	uint8_t		flags;
	uint16_t	depth;			/* containers open, this one included */
	uint16_t	spare;
	union
	{
		struct
		{
			int32_t		k;		/* properties started (key read) */
			int32_t		last;	/* index of the last declared property, -1 */
			int32_t		free_list;	/* FK_KEYREC frame of the last free key, -1 */
			int32_t		cur;	/* node of the current value */
			int32_t		lo;		/* OP_DKEY: candidate range in sorted keys */
			int32_t		hi;
			int32_t		pos;	/* OP_DKEY: bytes of the key read */
			jm_str		s;		/* OP_FKEY */
			uint64_t	hash;	/* OP_FKEY: hash of the decoded key so far */
		}			obj;
		struct
		{
			int32_t		n;		/* elements completed */
		}			arr;
		jm_str		str;
		struct
		{
			jm_w128		ip;		/* integer part (magnitude) */
			uint64_t	frac;	/* fraction digits as an integer */
			int8_t		n_int;
			int8_t		n_frac;
		}			num;
		struct
		{
			int32_t		lo;		/* FK_LITS: range in sorted texts; FK_WORD: word */
			int32_t		hi;
			int32_t		pos;
		}			lit;
		struct
		{
			uint64_t	hash;
		}			rec;
	}			u;
} jm_frame;

/* A text (literal or key) in sorted order. */
typedef struct jm_ref
{
	const char *text;
	size_t		len;
	int32_t		index;			/* literal or property index */
} jm_ref;

/* Numbers: the allowed values of each class, scaled by 10^12, inclusive. */
typedef struct jm_num
{
	int32_t		cap;			/* integer digits at most */
	bool		int_ok;
	bool		frac_ok;
	jm_w128		ilo;			/* integers (multiples of 10^12) */
	jm_w128		ihi;
	jm_w128		flo;			/* numbers with a fraction */
	jm_w128		fhi;
} jm_num;

typedef struct jm_obj
{
	int32_t		n;				/* declared properties */
	bool	   *alive;			/* [n] can be generated (and not a duplicate) */
	int32_t    *req_after;		/* [n+1] required properties at index >= i */
	int32_t    *alive_after;	/* [n+1] live properties at index >= i */
	int32_t    *next_req;		/* [n+1] first required index >= i, or n */
	int64_t    *cost;			/* [n] key ':' shortest value */
	int64_t    *req_cost_after; /* [n+1] */
	uint64_t   *name_hash;		/* [n] sorted hashes of every declared name */
	bool		free_ok;		/* additional keys can be generated */
	int64_t		free_value;		/* bytes of the shortest additional value */
} jm_obj;

typedef struct jm_info
{
	bool		alive;			/* a document exists (matcher's own view) */
	bool		has_scalar;		/* a document that is not an array/object */
	uint32_t	viable;			/* TYPED: LLM_JT_* bits that can be produced */
	jm_ref	   *refs;			/* LITERALS texts / object keys, sorted */
	int32_t		n_refs;
	jm_num	   *num;
	jm_obj	   *obj;
	int32_t		arr_reach;		/* elements that can exist at most */
	int64_t    *arr_cost;		/* [n_prefix+1] cumulative shortest prefix elements */
} jm_info;

typedef struct jm_pair
{
	int64_t		cost;
	int32_t		index;
} jm_pair;

/* Scratch used while computing completions (through a const matcher). */
typedef struct jm_scratch
{
	char	   *buf;			/* automaton completions */
	size_t		cap;
	jm_pair    *pairs;			/* [max props] */
	bool	   *chosen;			/* [max props] */
	uint64_t   *gen_hash;		/* free keys made up in one completion */
	size_t		gen_cap;
} jm_scratch;

struct llm_json_matcher
{
	const llm_schema *s;
	jm_info    *info;
	jm_frame   *frames;
	int32_t		n_frames;
	int32_t		cap_frames;
	int32_t    *stacks;
	size_t		stacks_used;
	size_t		stacks_cap;
	size_t		off;			/* the current set: stacks[off .. off + n) */
	int32_t		n;
	int32_t		compact_at;
	bool		oom;
	/* the set being built by feed_byte */
	size_t		new_off;
	int32_t		new_n;
	/* anyOf expansion of one value */
	int32_t		visited[JM_MAX_VISIT];
	int32_t		n_visited;
	jm_scratch *scratch;
};

static const char *const word_text[3] = {"true", "false", "null"};
static const uint8_t word_len[3] = {4, 5, 4};

static i128 pow10_table[39];

/* ---------------------------------------------------------------------------
 * Small helpers
 */

static i128
w_get(jm_w128 w)
{
	unsigned __int128 u = ((unsigned __int128) w.hi << 64) | w.lo;

	return (i128) u;
}

static jm_w128
w_set(i128 v)
{
	unsigned __int128 u = (unsigned __int128) v;
	jm_w128		w;

	w.lo = (uint64_t) u;
	w.hi = (uint64_t) (u >> 64);
	return w;
}

static void
init_pow10(void)
{
	i128		p = 1;

	if (pow10_table[0] == 1)
		return;
	for (int i = 0; i < 39; i++)
	{
		pow10_table[i] = p;
		if (i < 38)
			p *= 10;
	}
}

static i128
p10(int n)
{
	return pow10_table[n < 0 ? 0 : n > 38 ? 38 : n];
}

static int64_t
sat_add(int64_t a, int64_t b)
{
	if (a == INT64_MAX || b == INT64_MAX)
		return INT64_MAX;
	if (a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

static int64_t
sat_mul(int64_t a, int64_t b)
{
	int64_t		r;

	if (a == INT64_MAX || b == INT64_MAX)
		return a == 0 || b == 0 ? 0 : INT64_MAX;
	if (__builtin_mul_overflow(a, b, &r))
		return INT64_MAX;
	return r;
}

static uint64_t
fnv_byte(uint64_t h, uint8_t b)
{
	return (h ^ b) * JM_FNV_PRIME;
}

static uint64_t
fnv_bytes(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = fnv_byte(h, (uint8_t) p[i]);
	return h;
}

static bool
is_ws(uint8_t b)
{
	return b == ' ' || b == '\t' || b == '\n' || b == '\r';
}

static int64_t
node_min_bytes(const llm_json_matcher *m, int32_t node)
{
	if (node < 0 || node >= m->s->n_nodes || !m->info[node].alive)
		return INT64_MAX;
	return m->s->nodes[node].min_bytes;
}

static bool
node_alive(const llm_json_matcher *m, int32_t node)
{
	return node >= 0 && node < m->s->n_nodes && m->info[node].alive;
}

/* The decoded byte of the escape "\c", or -1. */
static int
escape_value(uint8_t c)
{
	switch (c)
	{
		case '"':
			return '"';
		case '\\':
			return '\\';
		case '/':
			return '/';
		case 'b':
			return '\b';
		case 'f':
			return '\f';
		case 'n':
			return '\n';
		case 'r':
			return '\r';
		case 't':
			return '\t';
		default:
			return -1;
	}
}

static const char escape_chars[8] = {'"', '\\', '/', 'b', 'f', 'n', 'r', 't'};

/* ---------------------------------------------------------------------------
 * Sorted texts (literal sets and object keys)
 */

static int
ref_cmp(const void *a, const void *b)
{
	const jm_ref *x = a;
	const jm_ref *y = b;
	size_t		n = x->len < y->len ? x->len : y->len;
	int			c = n ? memcmp(x->text, y->text, n) : 0;

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * refs[lo..hi) share their first pos bytes; keep those whose byte at pos is
 * b.  A text of exactly pos bytes sorts first.  Returns false if none.
 */
static bool
refs_narrow(const jm_ref *refs, int32_t *lo, int32_t *hi, int32_t pos, uint8_t b)
{
	int32_t		a = *lo,
				z = *hi,
				l,
				r;

	if (a < z && refs[a].len == (size_t) pos)
		a++;
	/* first with byte >= b */
	l = a;
	r = z;
	while (l < r)
	{
		int32_t		mid = l + (r - l) / 2;

		if ((uint8_t) refs[mid].text[pos] < b)
			l = mid + 1;
		else
			r = mid;
	}
	a = l;
	/* first with byte > b */
	r = z;
	while (l < r)
	{
		int32_t		mid = l + (r - l) / 2;

		if ((uint8_t) refs[mid].text[pos] <= b)
			l = mid + 1;
		else
			r = mid;
	}
	if (a >= l)
		return false;
	*lo = a;
	*hi = l;
	return true;
}

/* ---------------------------------------------------------------------------
 * Numbers
 */

/* Write scaled value v (v / 10^12) as a decimal with 12 fraction digits. */
static void
format_scaled(i128 v, char *buf)
{
	char		tmp[64];
	int			n = 0;
	unsigned __int128 u;
	int			i = 0;

	if (v < 0)
	{
		buf[i++] = '-';
		u = (unsigned __int128) (-(v + 1)) + 1;
	}
	else
		u = (unsigned __int128) v;
	do
	{
		tmp[n++] = (char) ('0' + (int) (u % 10));
		u /= 10;
	} while (u != 0 || n <= JM_FRAC_DIGITS);
	while (n > 0)
	{
		buf[i++] = tmp[--n];
		if (n == JM_FRAC_DIGITS)
			buf[i++] = '.';
	}
	buf[i] = '\0';
}

/* Does the text of v / 10^12, read as a double, compare >= bound (> if strict)? */
static bool
scaled_ge(i128 v, double bound, bool strict)
{
	char		buf[64];
	double		d;

	format_scaled(v, buf);
	d = strtod(buf, NULL);
	return strict ? d > bound : d >= bound;
}

static bool
scaled_le(i128 v, double bound, bool strict)
{
	char		buf[64];
	double		d;

	format_scaled(v, buf);
	d = strtod(buf, NULL);
	return strict ? d < bound : d <= bound;
}

/*
 * Smallest v in [lo, hi] with round(v / 10^12) >= bound (or > bound), or
 * hi + 1.  The test is monotone: rounding to double never reverses order.
 */
static i128
first_scaled_ge(i128 lo, i128 hi, double bound, bool strict)
{
	i128		a = lo,
				b = hi;

	if (!scaled_ge(hi, bound, strict))
		return hi + 1;
	if (scaled_ge(lo, bound, strict))
		return lo;
	/* narrow the bracket around the bound first: fewer strtod calls */
	if (fabs(bound) < 1e25)
	{
		i128		g = (i128) (bound * 1e12);
		i128		d = (g < 0 ? -g : g) / ((i128) 1 << 45) + 16;

		for (int i = 0; i < 8; i++)
		{
			i128		x = g - d,
						y = g + d;

			if (x > a && x < b && !scaled_ge(x, bound, strict))
				a = x;
			if (y > a && y < b && scaled_ge(y, bound, strict))
				b = y;
			if (a >= g - d && b <= g + d)
				break;
			d *= 16;
		}
	}
	/* invariant: !ge(a), ge(b) */
	while (b - a > 1)
	{
		i128		mid = a + (b - a) / 2;

		if (scaled_ge(mid, bound, strict))
			b = mid;
		else
			a = mid;
	}
	return b;
}

/* Largest v in [lo, hi] with round(v / 10^12) <= bound (< if strict), or lo - 1. */
static i128
last_scaled_le(i128 lo, i128 hi, double bound, bool strict)
{
	i128		a = lo,
				b = hi;

	if (!scaled_le(lo, bound, strict))
		return lo - 1;
	if (scaled_le(hi, bound, strict))
		return hi;
	if (fabs(bound) < 1e25)
	{
		i128		g = (i128) (bound * 1e12);
		i128		d = (g < 0 ? -g : g) / ((i128) 1 << 45) + 16;

		for (int i = 0; i < 8; i++)
		{
			i128		x = g - d,
						y = g + d;

			if (x > a && x < b && scaled_le(x, bound, strict))
				a = x;
			if (y > a && y < b && !scaled_le(y, bound, strict))
				b = y;
			if (a >= g - d && b <= g + d)
				break;
			d *= 16;
		}
	}
	/* invariant: le(a), !le(b) */
	while (b - a > 1)
	{
		i128		mid = a + (b - a) / 2;

		if (scaled_le(mid, bound, strict))
			a = mid;
		else
			b = mid;
	}
	return a;
}

/* Decimal digits of floor(x) + 1 for x >= 0 (39 when too large to count). */
static int
digits_above(double x)
{
	i128		v;
	int			d = 0;

	if (!(x < 1e37))
		return 39;
	v = (i128) floor(x) + 1;
	while (v > 0)
	{
		d++;
		v /= 10;
	}
	return d;
}

static void
num_info_compute(const llm_schema_node *n, jm_num *ni)
{
	int			cap = LLM_SCHEMA_MAX_INT_DIGITS;
	i128		ilim,
				flim,
				ilo,
				ihi,
				flo,
				fhi;

	if (cap > JM_HARD_INT_DIGITS)
		cap = JM_HARD_INT_DIGITS;
	/* bounds far from zero need more integer digits */
	if (n->has_min && n->min > 0)
	{
		int			d = digits_above(n->min);

		if (d > cap)
			cap = d > JM_HARD_INT_DIGITS ? JM_HARD_INT_DIGITS : d;
	}
	if (n->has_max && n->max < 0)
	{
		int			d = digits_above(-n->max);

		if (d > cap)
			cap = d > JM_HARD_INT_DIGITS ? JM_HARD_INT_DIGITS : d;
	}
	ni->cap = cap;
	ilim = p10(cap) - 1;		/* largest integer magnitude */
	flim = p10(cap + JM_FRAC_DIGITS) - 1;	/* largest scaled magnitude */

	/* integers: exact comparison with the bound, as a validator does */
	ilo = -ilim;
	ihi = ilim;
	if (n->has_min && !isnan(n->min))
	{
		if (n->min > 1e30)
			ilo = ilim + 1;
		else if (n->min >= -1e30)
		{
			double		c = ceil(n->min);
			i128		v = (i128) c;

			if (n->min_exclusive && c == n->min)
				v++;
			if (v > ilo)
				ilo = v;
		}
	}
	if (n->has_max && !isnan(n->max))
	{
		if (n->max < -1e30)
			ihi = -ilim - 1;
		else if (n->max <= 1e30)
		{
			double		f = floor(n->max);
			i128		v = (i128) f;

			if (n->max_exclusive && f == n->max)
				v--;
			if (v < ihi)
				ihi = v;
		}
	}
	if (n->has_min && isnan(n->min))
		ilo = ilim + 1;
	if (n->has_max && isnan(n->max))
		ihi = -ilim - 1;
	ni->int_ok = (n->types & LLM_JT_INTEGER) != 0 && ilo <= ihi;
	if (ilo < -ilim)
		ilo = -ilim;
	if (ihi > ilim)
		ihi = ilim;
	if (ilo > ihi)
		ni->int_ok = false;
	ni->ilo = w_set(ni->int_ok ? ilo * p10(JM_FRAC_DIGITS) : 0);
	ni->ihi = w_set(ni->int_ok ? ihi * p10(JM_FRAC_DIGITS) : 0);

	/* fractions: the text is read as a double, then compared */
	flo = -flim;
	fhi = flim;
	ni->frac_ok = (n->types & LLM_JT_FRACTION) != 0;
	if (ni->frac_ok && n->has_min)
	{
		if (isnan(n->min))
			ni->frac_ok = false;
		else
			flo = first_scaled_ge(-flim, flim, n->min, n->min_exclusive);
	}
	if (ni->frac_ok && n->has_max)
	{
		if (isnan(n->max))
			ni->frac_ok = false;
		else
			fhi = last_scaled_le(-flim, flim, n->max, n->max_exclusive);
	}
	if (flo > fhi)
		ni->frac_ok = false;
	ni->flo = w_set(ni->frac_ok ? flo : 0);
	ni->fhi = w_set(ni->frac_ok ? fhi : 0);
}

/*
 * Is there a value ±m (sign by neg), m in [a, b], a multiple of grid, in
 * [lo, hi], and not zero when negative?  *pick gets the one of smallest
 * magnitude.
 */
static bool
range_hit(i128 a, i128 b, bool neg, i128 lo, i128 hi, i128 grid, i128 *pick)
{
	i128		vlo,
				vhi,
				v;

	if (a > b)
		return false;
	if (neg)
	{
		vlo = -b;
		vhi = -a;
		if (vhi > -1)
			vhi = -1;			/* no "-0" */
	}
	else
	{
		vlo = a;
		vhi = b;
	}
	if (vlo < lo)
		vlo = lo;
	if (vhi > hi)
		vhi = hi;
	if (vlo > vhi)
		return false;
	if (!neg)
	{
		/* smallest multiple of grid >= vlo (vlo >= 0 here) */
		v = vlo % grid == 0 ? vlo : vlo + (grid - vlo % grid);
		if (v > vhi)
			return false;
	}
	else
	{
		/* largest multiple of grid <= vhi (vhi < 0): closest to zero */
		i128		mag = -vhi;

		v = -(mag % grid == 0 ? mag : mag + (grid - mag % grid));
		if (v < vlo)
			return false;
	}
	if (pick)
		*pick = v;
	return true;
}

/* Number state as plain values. */
typedef struct jm_numstate
{
	int			phase;
	bool		neg;
	i128		ip;
	int			n_int;
	i128		frac;
	int			n_frac;
} jm_numstate;

static void
num_load(const jm_frame *f, jm_numstate *ns)
{
	ns->phase = f->phase;
	ns->neg = (f->flags & FF_NEG) != 0;
	ns->ip = w_get(f->u.num.ip);
	ns->n_int = f->u.num.n_int;
	ns->frac = (i128) f->u.num.frac;
	ns->n_frac = f->u.num.n_frac;
}

/*
 * One way of completing a number: `extra` more integer digits (or, from
 * "-", a total of `extra` digits), then, if f >= 0, the fraction reaching
 * f digits in total (f = 0 only in the fraction phases: stop there).
 */
typedef struct jm_numopt
{
	int			extra;
	int			f;				/* total fraction digits; -1: an integer */
	int			cost;
	i128		value;			/* scaled, signed */
} jm_numopt;

/* Magnitude block of the integer part after `extra` digits. */
static void
int_block(const jm_numstate *ns, int extra, i128 *a, i128 *b)
{
	if (ns->phase == NP_SIGN)
	{
		/* `extra` digits in all, no leading zero unless just "0" */
		*a = extra == 1 ? 0 : p10(extra - 1);
		*b = p10(extra) - 1;
	}
	else
	{
		*a = ns->ip * p10(extra);
		*b = (ns->ip + 1) * p10(extra) - 1;
	}
}

/* Try one completion shape; fills o->value. */
static bool
num_option(const jm_num *ni, const jm_numstate *ns, jm_numopt *o)
{
	i128		S = p10(JM_FRAC_DIGITS);
	i128		a,
				b;

	if (ns->phase == NP_DOT || ns->phase == NP_FRAC)
	{
		int			have = ns->phase == NP_DOT ? 0 : ns->n_frac;
		i128		base = ns->ip * S + ns->frac * p10(JM_FRAC_DIGITS - have);

		if (!ni->frac_ok || o->f < have || o->f < 1 || o->f > JM_FRAC_DIGITS)
			return false;
		return range_hit(base, base + p10(JM_FRAC_DIGITS - have) - 1, ns->neg,
						 w_get(ni->flo), w_get(ni->fhi),
						 p10(JM_FRAC_DIGITS - o->f), &o->value);
	}
	int_block(ns, o->extra, &a, &b);
	if (o->f < 0)
	{
		if (!ni->int_ok)
			return false;
		return range_hit(a * S, b * S, ns->neg, w_get(ni->ilo), w_get(ni->ihi), S, &o->value);
	}
	if (!ni->frac_ok)
		return false;
	return range_hit(a * S, b * S + S - 1, ns->neg, w_get(ni->flo), w_get(ni->fhi),
					 p10(JM_FRAC_DIGITS - o->f), &o->value);
}

/* Range of `extra` for the integer part. */
static void
extra_range(const jm_num *ni, const jm_numstate *ns, int *lo, int *hi)
{
	switch (ns->phase)
	{
		case NP_SIGN:
			*lo = 1;
			*hi = ni->cap;
			break;
		case NP_ZERO:
			*lo = 0;
			*hi = 0;
			break;
		case NP_INT:
			*lo = 0;
			*hi = ni->cap - ns->n_int;
			break;
		default:
			*lo = 0;
			*hi = 0;
			break;
	}
}

/* Can the number go on to some valid value?  (Any completion.) */
static bool
num_feasible(const jm_num *ni, const jm_numstate *ns)
{
	i128		S = p10(JM_FRAC_DIGITS);
	int			lo,
				hi;

	if (ns->phase == NP_DOT || ns->phase == NP_FRAC)
	{
		int			have = ns->phase == NP_DOT ? 0 : ns->n_frac;
		i128		base = ns->ip * S + ns->frac * p10(JM_FRAC_DIGITS - have);

		return ni->frac_ok &&
			range_hit(base, base + p10(JM_FRAC_DIGITS - have) - 1, ns->neg,
					  w_get(ni->flo), w_get(ni->fhi), 1, NULL);
	}
	if (ns->phase == NP_SIGN)
	{
		i128		top = p10(ni->cap);

		return (ni->int_ok &&
				range_hit(0, (top - 1) * S, true, w_get(ni->ilo), w_get(ni->ihi), S, NULL)) ||
			(ni->frac_ok &&
			 range_hit(0, top * S - 1, true, w_get(ni->flo), w_get(ni->fhi), 1, NULL));
	}
	extra_range(ni, ns, &lo, &hi);
	for (int e = lo; e <= hi; e++)
	{
		i128		a,
					b;

		int_block(ns, e, &a, &b);
		if (ni->int_ok &&
			range_hit(a * S, b * S, ns->neg, w_get(ni->ilo), w_get(ni->ihi), S, NULL))
			return true;
		if (ni->frac_ok &&
			range_hit(a * S, b * S + S - 1, ns->neg, w_get(ni->flo), w_get(ni->fhi), 1, NULL))
			return true;
	}
	return false;
}

/* Is the number read so far a valid value by itself? */
static bool
num_complete(const jm_num *ni, const jm_numstate *ns)
{
	i128		S = p10(JM_FRAC_DIGITS);
	i128		v;

	switch (ns->phase)
	{
		case NP_ZERO:
		case NP_INT:
			if (!ni->int_ok || (ns->neg && ns->ip == 0))
				return false;
			v = (ns->neg ? -ns->ip : ns->ip) * S;
			return v >= w_get(ni->ilo) && v <= w_get(ni->ihi);
		case NP_FRAC:
			if (!ni->frac_ok)
				return false;
			v = ns->ip * S + ns->frac * p10(JM_FRAC_DIGITS - ns->n_frac);
			if (ns->neg && v == 0)
				return false;
			if (ns->neg)
				v = -v;
			return v >= w_get(ni->flo) && v <= w_get(ni->fhi);
		default:
			return false;
	}
}

/* The cheapest completion shape; false if none (never for a live frame). */
static bool
num_best(const jm_num *ni, const jm_numstate *ns, jm_numopt *best)
{
	jm_numopt	o = {0};
	int			lo,
				hi;

	best->cost = INT32_MAX;
	if (ns->phase == NP_DOT || ns->phase == NP_FRAC)
	{
		int			have = ns->phase == NP_DOT ? 0 : ns->n_frac;

		for (int f = have > 1 ? have : 1; f <= JM_FRAC_DIGITS; f++)
		{
			o.extra = 0;
			o.f = f;
			o.cost = f - have;
			if (num_option(ni, ns, &o))
			{
				*best = o;
				return true;
			}
		}
		return false;
	}
	extra_range(ni, ns, &lo, &hi);
	for (int e = lo; e <= hi; e++)
	{
		if (e >= best->cost)
			break;
		o.extra = e;
		o.f = -1;
		o.cost = e;
		if (num_option(ni, ns, &o))
		{
			*best = o;
			break;				/* later e and fractions cost more */
		}
		for (int f = 1; f <= JM_FRAC_DIGITS && e + 1 + f < best->cost; f++)
		{
			o.extra = e;
			o.f = f;
			o.cost = e + 1 + f;
			if (num_option(ni, ns, &o))
			{
				*best = o;
				break;
			}
		}
	}
	return best->cost != INT32_MAX;
}

/*
 * The text of a number: sign, int_digits integer digits, and if f >= 1 a
 * fraction of f digits.  Returns its length.
 */
static int
num_text(i128 value, int int_digits, int f, char *out)
{
	i128		S = p10(JM_FRAC_DIGITS);
	i128		mag = value < 0 ? -value : value;
	i128		ip = mag / S;
	i128		fr = mag % S;
	int			n = 0;

	if (value < 0)
		out[n++] = '-';
	for (int i = int_digits - 1; i >= 0; i--)
		out[n++] = (char) ('0' + (int) ((ip / p10(i)) % 10));
	if (f >= 1)
	{
		i128		digits = fr / p10(JM_FRAC_DIGITS - f);

		out[n++] = '.';
		for (int i = f - 1; i >= 0; i--)
			out[n++] = (char) ('0' + (int) ((digits / p10(i)) % 10));
	}
	return n;
}

/* The bytes that complete the number (out: at least 48 bytes).  -1: none. */
static int
num_finish(const jm_num *ni, const jm_frame *fr, char *out)
{
	jm_numstate ns;
	jm_numopt	o = {0};
	char		full[96];
	int			int_digits,
				f,
				have,
				len;

	num_load(fr, &ns);
	if (!num_best(ni, &ns, &o))
		return -1;
	switch (ns.phase)
	{
		case NP_SIGN:
			int_digits = o.extra;
			break;
		case NP_ZERO:
			int_digits = 1;
			break;
		case NP_INT:
			int_digits = ns.n_int + o.extra;
			break;
		default:
			int_digits = ns.n_int;
			break;
	}
	f = o.f;
	len = num_text(o.value, int_digits, f, full);
	/* what is already there */
	have = (ns.neg ? 1 : 0) + ns.n_int;
	if (ns.phase == NP_DOT)
		have += 1;
	else if (ns.phase == NP_FRAC)
		have += 1 + ns.n_frac;
	if (have > len)
		return -1;
	memcpy(out, full + have, (size_t) (len - have));
	return len - have;
}

/* ---------------------------------------------------------------------------
 * Strings
 */

enum
{
	STR_REFUSE,
	STR_MORE,
	STR_CLOSE
};

/* Can the string still end well after this state (the limits included)? */
static bool
str_can_finish(const llm_regex *re, int32_t min_chars, int32_t max_chars,
			   const jm_str *st)
{
	int32_t		in_progress = (st->need > 0 || st->esc) ? 1 : 0;

	if (st->chars > max_chars || max_chars - st->chars < in_progress)
		return false;
	if (re == NULL)
		return true;
	if (st->esc)
	{
		for (int i = 0; i < 8; i++)
		{
			int32_t		s2 = llm_regex_next(re, st->rstate, (uint8_t) escape_value((uint8_t) escape_chars[i]));

			if (s2 >= 0 &&
				llm_regex_can_finish(re, s2,
									 min_chars - st->chars - 1 > 0 ? min_chars - st->chars - 1 : 0,
									 max_chars - st->chars - 1))
				return true;
		}
		return false;
	}
	return llm_regex_can_finish(re, st->rstate,
								min_chars - st->chars > 0 ? min_chars - st->chars : 0,
								max_chars - st->chars);
}

/*
 * Feed byte b to a string.  *dec gets the decoded byte (-1: none yet),
 * *char_done whether a character completed.
 */
static int
str_step(const llm_regex *re, int32_t min_chars, int32_t max_chars, jm_str *st,
		 uint8_t b, int *dec, bool *char_done)
{
	*dec = -1;
	*char_done = false;
	if (st->esc)
	{
		int			d = escape_value(b);

		if (d < 0)
			return STR_REFUSE;
		st->esc = 0;
		if (re != NULL)
		{
			st->rstate = llm_regex_next(re, st->rstate, (uint8_t) d);
			if (st->rstate < 0)
				return STR_REFUSE;
		}
		st->chars++;
		*dec = d;
		*char_done = true;
	}
	else if (st->need > 0)
	{
		if (b < st->lo || b > st->hi)
			return STR_REFUSE;
		st->need--;
		st->lo = 0x80;
		st->hi = 0xBF;
		if (re != NULL)
		{
			st->rstate = llm_regex_next(re, st->rstate, b);
			if (st->rstate < 0)
				return STR_REFUSE;
		}
		*dec = b;
		if (st->need == 0)
		{
			st->chars++;
			*char_done = true;
		}
	}
	else if (b == '"')
	{
		if (st->chars < min_chars)
			return STR_REFUSE;
		if (re != NULL && !llm_regex_is_accept(re, st->rstate))
			return STR_REFUSE;
		return STR_CLOSE;
	}
	else if (b == '\\')
		st->esc = 1;
	else if (b < 0x20)
		return STR_REFUSE;
	else
	{
		if (b < 0x80)
		{
			st->chars++;
			*char_done = true;
		}
		else if (b >= 0xC2 && b <= 0xDF)
		{
			st->need = 1;
			st->lo = 0x80;
			st->hi = 0xBF;
		}
		else if (b >= 0xE0 && b <= 0xEF)
		{
			st->need = 2;
			st->lo = b == 0xE0 ? 0xA0 : 0x80;
			st->hi = b == 0xED ? 0x9F : 0xBF;
		}
		else if (b >= 0xF0 && b <= 0xF4)
		{
			st->need = 3;
			st->lo = b == 0xF0 ? 0x90 : 0x80;
			st->hi = b == 0xF4 ? 0x8F : 0xBF;
		}
		else
			return STR_REFUSE;
		if (re != NULL)
		{
			st->rstate = llm_regex_next(re, st->rstate, b);
			if (st->rstate < 0)
				return STR_REFUSE;
		}
		*dec = b;
	}
	if (!str_can_finish(re, min_chars, max_chars, st))
		return STR_REFUSE;
	return STR_MORE;
}

static void
str_init(jm_str *st, const llm_regex *re)
{
	memset(st, 0, sizeof(*st));
	st->rstate = re != NULL ? llm_regex_start(re) : -1;
	st->lo = 0x80;
	st->hi = 0xBF;
}

/* ---------------------------------------------------------------------------
 * Objects: which properties may still come
 */

static bool
obj_feasible(const llm_schema_node *n, const jm_obj *oi, int64_t k, int32_t last, bool free)
{
	int64_t		lo_c,
				hi_c;

	if (free)
	{
		lo_c = k > n->min_props ? k : n->min_props;
		return lo_c <= n->max_props;
	}
	lo_c = k + oi->req_after[last + 1];
	if (lo_c < n->min_props)
		lo_c = n->min_props;
	if (oi->free_ok)
		hi_c = n->max_props;
	else
	{
		hi_c = k + oi->alive_after[last + 1];
		if (hi_c > n->max_props)
			hi_c = n->max_props;
	}
	return lo_c <= hi_c;
}

/* May declared property p be the next key? */
static bool
obj_key_ok(const llm_schema_node *n, const jm_obj *oi, int32_t k, int32_t last,
		   bool free, int32_t p)
{
	if (free || p <= last || p >= oi->n || !oi->alive[p])
		return false;
	if (p > oi->next_req[last + 1])
		return false;			/* would skip a required property */
	if ((int64_t) k + 1 > n->max_props)
		return false;
	return obj_feasible(n, oi, (int64_t) k + 1, p, false);
}

static bool
obj_free_ok(const llm_schema_node *n, const jm_obj *oi, int32_t k, int32_t last, bool free)
{
	if (!oi->free_ok)
		return false;
	if (!free && oi->req_after[last + 1] != 0)
		return false;
	return obj_feasible(n, oi, (int64_t) k + 1, last, true);
}

static bool
obj_can_close(const llm_schema_node *n, const jm_obj *oi, int32_t k, int32_t last, bool free)
{
	if (!free && oi->req_after[last + 1] != 0)
		return false;
	return k >= n->min_props;
}

static bool
obj_any_declared(const llm_schema_node *n, const jm_obj *oi, int32_t k, int32_t last, bool free)
{
	int32_t		end;

	if (free)
		return false;
	end = oi->next_req[last + 1];
	if (end >= oi->n)
		end = oi->n - 1;
	for (int32_t p = last + 1; p <= end; p++)
		if (obj_key_ok(n, oi, k, last, free, p))
			return true;
	return false;
}

static bool
hash_in_sorted(const uint64_t *a, int32_t n, uint64_t h)
{
	int32_t		l = 0,
				r = n;

	while (l < r)
	{
		int32_t		mid = l + (r - l) / 2;

		if (a[mid] < h)
			l = mid + 1;
		else
			r = mid;
	}
	return l < n && a[l] == h;
}

/* Is a free key with this hash excluded (a declared name or a key used)? */
static bool
free_key_excluded(const llm_json_matcher *m, const jm_obj *oi, int32_t free_list,
				  uint64_t h, const uint64_t *extra, size_t n_extra)
{
	int32_t		guard = 0;

	if (hash_in_sorted(oi->name_hash, oi->n, h))
		return true;
	for (int32_t r = free_list; r >= 0 && guard < INT32_MAX; r = m->frames[r].parent, guard++)
		if (m->frames[r].u.rec.hash == h)
			return true;
	for (size_t i = 0; i < n_extra; i++)
		if (extra[i] == h)
			return true;
	return false;
}

/* Letters used to make up free keys: none needs escaping. */
static const char key_alphabet[] =
"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
#define KEY_ALPHABET_LEN 62

/* The t-th string in shortlex order over the alphabet ("" is t = 0). */
static int
made_up_key(uint64_t t, char *out, int max)
{
	int			n = 0;
	char		tmp[16];

	while (t > 0 && n < 16)
	{
		t--;
		tmp[n++] = key_alphabet[t % KEY_ALPHABET_LEN];
		t /= KEY_ALPHABET_LEN;
	}
	if (n > max)
		return -1;
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/*
 * Smallest t (suffix made_up_key(t), at most max_more characters) with
 * hash(prefix + suffix) not excluded.  -1 if none among the first few
 * lengths (only with absurd schemas).
 */
static int64_t
free_key_suffix(const llm_json_matcher *m, const jm_obj *oi, int32_t free_list,
				uint64_t h, int32_t max_more, const uint64_t *extra, size_t n_extra)
{
	uint64_t	limit = 1 + 62 + 62 * 62 + 62 * 62 * 62;

	for (uint64_t t = 0; t < limit; t++)
	{
		char		suf[16];
		int			n = made_up_key(t, suf, max_more > 4 ? 4 : max_more);

		if (n < 0)
			break;
		if (!free_key_excluded(m, oi, free_list, fnv_bytes(h, suf, (size_t) n), extra, n_extra))
			return (int64_t) t;
	}
	return -1;
}

/* ---------------------------------------------------------------------------
 * The arena and the stack sets
 */

static int32_t
frame_new(llm_json_matcher *m, const jm_frame *f)
{
	if (m->n_frames == m->cap_frames)
	{
		int32_t		new_cap;
		jm_frame   *p;

		if (m->cap_frames >= JM_MAX_FRAMES)
		{
			m->oom = true;
			return -1;
		}
		new_cap = m->cap_frames * 2;
		if (new_cap > JM_MAX_FRAMES)
			new_cap = JM_MAX_FRAMES;
		p = llm_realloc(m->frames, (size_t) m->cap_frames * sizeof(jm_frame),
						(size_t) new_cap * sizeof(jm_frame));
		if (p == NULL)
		{
			m->oom = true;
			return -1;
		}
		m->frames = p;
		m->cap_frames = new_cap;
	}
	memcpy(&m->frames[m->n_frames], f, sizeof(jm_frame));
	return m->n_frames++;
}

/* Add frame idx as a stack of the set being built (merging duplicates). */
static void
emit(llm_json_matcher *m, int32_t idx)
{
	const jm_frame *f;

	if (idx < 0)
		return;
	f = &m->frames[idx];
	for (int32_t i = 0; i < m->new_n; i++)
	{
		int32_t		other = m->stacks[m->new_off + (size_t) i];

		if (other == idx || memcmp(&m->frames[other], f, sizeof(jm_frame)) == 0)
		{
			if (other != idx && idx == m->n_frames - 1)
				m->n_frames--;
			return;
		}
	}
	if (m->new_n >= LLM_JSON_MAX_STACKS)
	{
		if (idx == m->n_frames - 1)
			m->n_frames--;
		return;
	}
	if (m->new_off + (size_t) m->new_n >= m->stacks_cap)
	{
		size_t		new_cap = m->stacks_cap * 2;
		int32_t    *p = llm_realloc(m->stacks, m->stacks_cap * sizeof(int32_t),
									new_cap * sizeof(int32_t));

		if (p == NULL)
		{
			m->oom = true;
			return;
		}
		m->stacks = p;
		m->stacks_cap = new_cap;
	}
	m->stacks[m->new_off + (size_t) m->new_n] = idx;
	m->new_n++;
}

static void
frame_init(jm_frame *f, int kind, int32_t parent, int32_t node, int depth)
{
	memset(f, 0, sizeof(*f));
	f->kind = (uint8_t) kind;
	f->parent = parent;
	f->node = node;
	f->depth = (uint16_t) (depth > UINT16_MAX ? UINT16_MAX : depth);
}

/* The parent's next version once its current child value has ended. */
static int32_t
value_done(llm_json_matcher *m, int32_t parent)
{
	jm_frame	f;

	if (parent < 0)
		return -1;
	memcpy(&f, &m->frames[parent], sizeof(f));
	switch (f.kind)
	{
		case FK_ROOT:
			f.phase = RP_DONE;
			break;
		case FK_OBJECT:
			f.phase = OP_AFTER_VALUE;
			f.ws = 0;
			break;
		case FK_ARRAY:
			f.phase = AP_AFTER;
			f.ws = 0;
			f.u.arr.n++;
			break;
		default:
			return -1;
	}
	return frame_new(m, &f);
}

/* ---------------------------------------------------------------------------
 * Starting a value
 */

static int32_t
array_elem(const llm_schema_node *n, int32_t i)
{
	return i < n->n_prefix ? n->prefix[i] : n->items;
}

static void start_value(llm_json_matcher *m, int32_t parent, int depth, int32_t node,
						uint8_t b, bool no_containers, int guard);

static void
start_number(llm_json_matcher *m, int32_t parent, int depth, int32_t node, uint8_t b)
{
	const jm_num *ni = m->info[node].num;
	jm_numstate ns;
	jm_frame	f;

	memset(&ns, 0, sizeof(ns));
	if (b == '-')
	{
		ns.phase = NP_SIGN;
		ns.neg = true;
	}
	else
	{
		ns.phase = b == '0' ? NP_ZERO : NP_INT;
		ns.ip = b - '0';
		ns.n_int = 1;
	}
	if (!num_feasible(ni, &ns))
		return;
	frame_init(&f, FK_NUMBER, parent, node, depth);
	f.phase = (uint8_t) ns.phase;
	f.flags = ns.neg ? FF_NEG : 0;
	f.u.num.ip = w_set(ns.ip);
	f.u.num.n_int = (int8_t) ns.n_int;
	emit(m, frame_new(m, &f));
	if (num_complete(ni, &ns))
		emit(m, value_done(m, parent));
}

static void
start_value(llm_json_matcher *m, int32_t parent, int depth, int32_t node, uint8_t b,
			bool no_containers, int guard)
{
	const llm_schema_node *n;
	const jm_info *in;
	jm_frame	f;

	if (!node_alive(m, node) || guard > JM_MAX_EXPAND_DEPTH)
		return;
	n = &m->s->nodes[node];
	in = &m->info[node];
	switch (n->kind)
	{
		case LLM_SN_NEVER:
			return;
		case LLM_SN_ANYOF:
			for (int32_t i = 0; i < m->n_visited; i++)
				if (m->visited[i] == node)
					return;
			if (m->n_visited >= JM_MAX_VISIT)
				return;
			m->visited[m->n_visited++] = node;
			for (int32_t i = 0; i < n->n_children; i++)
				start_value(m, parent, depth, n->children[i], b, no_containers, guard + 1);
			return;
		case LLM_SN_LITERALS:
			{
				int32_t		lo = 0,
							hi = in->n_refs;

				if (no_containers && (b == '{' || b == '['))
					return;
				if (!refs_narrow(in->refs, &lo, &hi, 0, b))
					return;
				frame_init(&f, FK_LITS, parent, node, depth);
				f.u.lit.lo = lo;
				f.u.lit.hi = hi;
				f.u.lit.pos = 1;
				/* a complete text ends the value; longer ones may go on */
				if (in->refs[lo].len == 1)
				{
					emit(m, value_done(m, parent));
					if (hi - lo > 1)
					{
						f.u.lit.lo = lo + 1;
						emit(m, frame_new(m, &f));
					}
				}
				else
					emit(m, frame_new(m, &f));
				return;
			}
		case LLM_SN_TYPED:
			break;
	}

	switch (b)
	{
		case '{':
			if (!(in->viable & LLM_JT_OBJECT) || no_containers)
				return;
			frame_init(&f, FK_OBJECT, parent, node, depth + 1);
			f.phase = OP_OPEN;
			f.u.obj.last = -1;
			f.u.obj.free_list = -1;
			f.u.obj.cur = -1;
			emit(m, frame_new(m, &f));
			return;
		case '[':
			if (!(in->viable & LLM_JT_ARRAY) || no_containers)
				return;
			frame_init(&f, FK_ARRAY, parent, node, depth + 1);
			f.phase = AP_OPEN;
			emit(m, frame_new(m, &f));
			return;
		case '"':
			if (!(in->viable & LLM_JT_STRING))
				return;
			frame_init(&f, FK_STRING, parent, node, depth);
			str_init(&f.u.str, n->regex);
			emit(m, frame_new(m, &f));
			return;
		case 't':
		case 'f':
		case 'n':
			if (!(in->viable & (b == 'n' ? LLM_JT_NULL : LLM_JT_BOOLEAN)))
				return;
			frame_init(&f, FK_WORD, parent, node, depth);
			f.u.lit.lo = b == 't' ? 0 : b == 'f' ? 1 : 2;
			f.u.lit.pos = 1;
			emit(m, frame_new(m, &f));
			return;
		default:
			if ((b == '-' || (b >= '0' && b <= '9')) &&
				(in->viable & (LLM_JT_INTEGER | LLM_JT_FRACTION)))
				start_number(m, parent, depth, node, b);
			return;
	}
}

/* Start a value of node after parent (frame index) with byte b. */
static void
begin_value(llm_json_matcher *m, int32_t parent, int32_t node, uint8_t b)
{
	int			depth = m->frames[parent].depth;
	bool		no_containers = false;

	/* too deep: no more containers if the value can be a scalar */
	if (depth >= LLM_JSON_MAX_NESTING && node_alive(m, node) && m->info[node].has_scalar)
		no_containers = true;
	m->n_visited = 0;
	start_value(m, parent, depth, node, b, no_containers, 0);
}

/* ---------------------------------------------------------------------------
 * One byte on one stack
 */

static void
step_object(llm_json_matcher *m, int32_t ti, const jm_frame *t, uint8_t b)
{
	const llm_schema_node *n = &m->s->nodes[t->node];
	const jm_info *in = &m->info[t->node];
	const jm_obj *oi = in->obj;
	bool		free = (t->flags & FF_FREE) != 0;
	int32_t		k = t->u.obj.k;
	int32_t		last = t->u.obj.last;
	jm_frame	f;

	memcpy(&f, t, sizeof(f));
	switch (t->phase)
	{
		case OP_OPEN:
		case OP_COMMA:
		case OP_AFTER_KEY:
		case OP_COLON:
		case OP_AFTER_VALUE:
			if (is_ws(b))
			{
				if (t->ws >= LLM_JSON_MAX_WS)
					return;
				f.ws++;
				emit(m, frame_new(m, &f));
				return;
			}
			break;
		default:
			break;
	}

	switch (t->phase)
	{
		case OP_OPEN:
		case OP_COMMA:
			if (b == '}' && t->phase == OP_OPEN)
			{
				if (obj_can_close(n, oi, k, last, free))
					emit(m, value_done(m, t->parent));
				return;
			}
			if (b != '"')
				return;
			f.ws = 0;
			if (!free)
			{
				int32_t		lo = 0,
							hi = in->n_refs;
				bool		any = false;

				if (refs_narrow(in->refs, &lo, &hi, 0, '"'))
					for (int32_t i = lo; i < hi && !any; i++)
						any = obj_key_ok(n, oi, k, last, free, in->refs[i].index);
				if (any)
				{
					f.phase = OP_DKEY;
					f.u.obj.lo = lo;
					f.u.obj.hi = hi;
					f.u.obj.pos = 1;
					emit(m, frame_new(m, &f));
				}
			}
			if (obj_free_ok(n, oi, k, last, free))
			{
				memcpy(&f, t, sizeof(f));
				f.ws = 0;
				f.phase = OP_FKEY;
				str_init(&f.u.obj.s, NULL);
				f.u.obj.hash = JM_FNV_BASIS;
				emit(m, frame_new(m, &f));
			}
			return;
		case OP_DKEY:
			{
				int32_t		lo = t->u.obj.lo,
							hi = t->u.obj.hi,
							pos = t->u.obj.pos;
				int32_t		found = -1;

				if (!refs_narrow(in->refs, &lo, &hi, pos, b))
					return;
				for (int32_t i = lo; i < hi; i++)
					if (obj_key_ok(n, oi, k, last, free, in->refs[i].index))
					{
						found = i;
						break;
					}
				if (found < 0)
					return;
				if (in->refs[found].len == (size_t) pos + 1)
				{
					/* the whole key (it ends with its quote) */
					int32_t		p = in->refs[found].index;

					f.phase = OP_AFTER_KEY;
					f.ws = 0;
					f.u.obj.k = k + 1;
					f.u.obj.last = p;
					f.u.obj.cur = n->props[p].node;
					f.u.obj.lo = f.u.obj.hi = f.u.obj.pos = 0;
				}
				else
				{
					f.u.obj.lo = lo;
					f.u.obj.hi = hi;
					f.u.obj.pos = pos + 1;
				}
				emit(m, frame_new(m, &f));
				return;
			}
		case OP_FKEY:
			{
				int			dec;
				bool		char_done;
				int			r = str_step(NULL, 0, JM_FREE_KEY_MAX_CHARS, &f.u.obj.s, b,
										 &dec, &char_done);

				if (r == STR_REFUSE)
					return;
				if (dec >= 0)
					f.u.obj.hash = fnv_byte(f.u.obj.hash, (uint8_t) dec);
				if (r == STR_CLOSE)
				{
					jm_frame	rec;
					int32_t		ri;

					if (free_key_excluded(m, oi, t->u.obj.free_list, f.u.obj.hash, NULL, 0))
						return;
					frame_init(&rec, FK_KEYREC, t->u.obj.free_list, -1, 0);
					rec.u.rec.hash = f.u.obj.hash;
					ri = frame_new(m, &rec);
					if (ri < 0)
						return;
					f.phase = OP_AFTER_KEY;
					f.ws = 0;
					f.flags |= FF_FREE;
					f.u.obj.k = k + 1;
					f.u.obj.free_list = ri;
					f.u.obj.cur = n->additional;
					memset(&f.u.obj.s, 0, sizeof(f.u.obj.s));
					f.u.obj.hash = 0;
					emit(m, frame_new(m, &f));
					return;
				}
				/* near the length cap, the key must stay completable */
				if (char_done && JM_FREE_KEY_MAX_CHARS - f.u.obj.s.chars <= 2 &&
					free_key_suffix(m, oi, t->u.obj.free_list, f.u.obj.hash,
									JM_FREE_KEY_MAX_CHARS - f.u.obj.s.chars, NULL, 0) < 0)
					return;
				emit(m, frame_new(m, &f));
				return;
			}
		case OP_AFTER_KEY:
			if (b != ':')
				return;
			f.phase = OP_COLON;
			f.ws = 0;
			emit(m, frame_new(m, &f));
			return;
		case OP_COLON:
			begin_value(m, ti, t->u.obj.cur, b);
			return;
		case OP_AFTER_VALUE:
			if (b == '}')
			{
				if (obj_can_close(n, oi, k, last, free))
					emit(m, value_done(m, t->parent));
				return;
			}
			if (b == ',')
			{
				if (obj_free_ok(n, oi, k, last, free) || obj_any_declared(n, oi, k, last, free))
				{
					f.phase = OP_COMMA;
					f.ws = 0;
					emit(m, frame_new(m, &f));
				}
			}
			return;
	}
}

static int32_t
array_limit(const llm_schema_node *n, const jm_info *in)
{
	return n->max_items < in->arr_reach ? n->max_items : in->arr_reach;
}

static void
step_array(llm_json_matcher *m, int32_t ti, const jm_frame *t, uint8_t b)
{
	const llm_schema_node *n = &m->s->nodes[t->node];
	const jm_info *in = &m->info[t->node];
	int32_t		cnt = t->u.arr.n;
	jm_frame	f;

	memcpy(&f, t, sizeof(f));
	if (is_ws(b))
	{
		if (t->ws >= LLM_JSON_MAX_WS)
			return;
		f.ws++;
		emit(m, frame_new(m, &f));
		return;
	}
	switch (t->phase)
	{
		case AP_OPEN:
			if (b == ']')
			{
				if (n->min_items <= 0)
					emit(m, value_done(m, t->parent));
				return;
			}
			if (array_limit(n, in) >= 1)
				begin_value(m, ti, array_elem(n, 0), b);
			return;
		case AP_COMMA:
			begin_value(m, ti, array_elem(n, cnt), b);
			return;
		case AP_AFTER:
			if (b == ']')
			{
				if (cnt >= n->min_items)
					emit(m, value_done(m, t->parent));
				return;
			}
			if (b == ',' && cnt < INT32_MAX && cnt + 1 <= array_limit(n, in))
			{
				f.phase = AP_COMMA;
				f.ws = 0;
				emit(m, frame_new(m, &f));
			}
			return;
	}
}

static void
step_string(llm_json_matcher *m, const jm_frame *t, uint8_t b)
{
	const llm_schema_node *n = &m->s->nodes[t->node];
	jm_frame	f;
	int			dec;
	bool		char_done;
	int			r;

	memcpy(&f, t, sizeof(f));
	r = str_step(n->regex, n->min_chars, n->max_chars, &f.u.str, b, &dec, &char_done);
	if (r == STR_REFUSE)
		return;
	if (r == STR_CLOSE)
		emit(m, value_done(m, t->parent));
	else
		emit(m, frame_new(m, &f));
}

static void
step_number(llm_json_matcher *m, const jm_frame *t, uint8_t b)
{
	const jm_num *ni = m->info[t->node].num;
	jm_numstate ns;
	jm_frame	f;

	num_load(t, &ns);
	if (b >= '0' && b <= '9')
	{
		int			d = b - '0';

		switch (ns.phase)
		{
			case NP_SIGN:
				ns.phase = d == 0 ? NP_ZERO : NP_INT;
				ns.ip = d;
				ns.n_int = 1;
				break;
			case NP_INT:
				if (ns.n_int >= ni->cap)
					return;
				ns.ip = ns.ip * 10 + d;
				ns.n_int++;
				break;
			case NP_DOT:
				ns.phase = NP_FRAC;
				ns.frac = d;
				ns.n_frac = 1;
				break;
			case NP_FRAC:
				if (ns.n_frac >= JM_FRAC_DIGITS)
					return;
				ns.frac = ns.frac * 10 + d;
				ns.n_frac++;
				break;
			default:
				return;			/* no digit after a leading zero */
		}
	}
	else if (b == '.' && (ns.phase == NP_ZERO || ns.phase == NP_INT))
		ns.phase = NP_DOT;
	else
		return;
	if (!num_feasible(ni, &ns))
		return;
	memcpy(&f, t, sizeof(f));
	f.phase = (uint8_t) ns.phase;
	f.u.num.ip = w_set(ns.ip);
	f.u.num.n_int = (int8_t) ns.n_int;
	f.u.num.frac = (uint64_t) ns.frac;
	f.u.num.n_frac = (int8_t) ns.n_frac;
	emit(m, frame_new(m, &f));
	if (num_complete(ni, &ns))
		emit(m, value_done(m, t->parent));
}

static void
step_lits(llm_json_matcher *m, const jm_frame *t, uint8_t b)
{
	const jm_info *in = &m->info[t->node];
	int32_t		lo = t->u.lit.lo,
				hi = t->u.lit.hi,
				pos = t->u.lit.pos;
	jm_frame	f;

	if (!refs_narrow(in->refs, &lo, &hi, pos, b))
		return;
	memcpy(&f, t, sizeof(f));
	f.u.lit.pos = pos + 1;
	if (in->refs[lo].len == (size_t) pos + 1)
	{
		emit(m, value_done(m, t->parent));
		if (hi - lo > 1)
		{
			f.u.lit.lo = lo + 1;
			f.u.lit.hi = hi;
			emit(m, frame_new(m, &f));
		}
		return;
	}
	f.u.lit.lo = lo;
	f.u.lit.hi = hi;
	emit(m, frame_new(m, &f));
}

static void
step_word(llm_json_matcher *m, const jm_frame *t, uint8_t b)
{
	int			w = t->u.lit.lo;
	int32_t		pos = t->u.lit.pos;
	jm_frame	f;

	if (pos >= word_len[w] || (uint8_t) word_text[w][pos] != b)
		return;
	if (pos + 1 == word_len[w])
	{
		emit(m, value_done(m, t->parent));
		return;
	}
	memcpy(&f, t, sizeof(f));
	f.u.lit.pos = pos + 1;
	emit(m, frame_new(m, &f));
}

static void
step(llm_json_matcher *m, int32_t ti, uint8_t b)
{
	jm_frame	t;

	memcpy(&t, &m->frames[ti], sizeof(t));
	switch (t.kind)
	{
		case FK_ROOT:
			if (t.phase == RP_START)
				begin_value(m, ti, t.node, b);
			return;
		case FK_OBJECT:
			step_object(m, ti, &t, b);
			return;
		case FK_ARRAY:
			step_array(m, ti, &t, b);
			return;
		case FK_STRING:
			step_string(m, &t, b);
			return;
		case FK_NUMBER:
			step_number(m, &t, b);
			return;
		case FK_LITS:
			step_lits(m, &t, b);
			return;
		case FK_WORD:
			step_word(m, &t, b);
			return;
		default:
			return;
	}
}

/* ---------------------------------------------------------------------------
 * Node analysis (once per matcher)
 */

static bool
string_viable(const llm_schema_node *n)
{
	if (n->min_chars < 0 || n->max_chars < 0 || n->min_chars > n->max_chars)
		return false;
	if (n->regex == NULL)
		return true;
	{
		int32_t		s0 = llm_regex_start(n->regex);

		return s0 >= 0 && llm_regex_can_finish(n->regex, s0, n->min_chars, n->max_chars);
	}
}

static int32_t
array_reach(const llm_json_matcher *m, const llm_schema_node *n)
{
	for (int32_t i = 0; i < n->n_prefix; i++)
		if (!node_alive(m, n->prefix[i]))
			return i;
	if (n->items >= 0 && node_alive(m, n->items))
		return INT32_MAX;
	return n->n_prefix;
}

static bool
object_viable(const llm_json_matcher *m, const llm_schema_node *n, const jm_obj *oi)
{
	/* recompute the counts with the current liveness */
	int32_t		req = 0,
				alive = 0;

	for (int32_t i = 0; i < n->n_props; i++)
	{
		bool		a = oi->alive[i] && node_alive(m, n->props[i].node);

		if (n->props[i].required && !a)
			return false;
		if (n->props[i].required)
			req++;
		if (a)
			alive++;
	}
	{
		int64_t		lo_c = req > n->min_props ? req : n->min_props;
		int64_t		hi_c = n->max_props;

		if (!(n->additional >= 0 && node_alive(m, n->additional)) && alive < hi_c)
			hi_c = alive;
		return lo_c <= hi_c;
	}
}

static uint32_t
typed_viable(const llm_json_matcher *m, int32_t node)
{
	const llm_schema_node *n = &m->s->nodes[node];
	const jm_info *in = &m->info[node];
	uint32_t	v = n->types & (LLM_JT_NULL | LLM_JT_BOOLEAN);

	if (in->num != NULL)
	{
		if (in->num->int_ok)
			v |= LLM_JT_INTEGER;
		if (in->num->frac_ok)
			v |= LLM_JT_FRACTION;
	}
	if ((n->types & LLM_JT_STRING) && string_viable(n))
		v |= LLM_JT_STRING;
	if (n->types & LLM_JT_ARRAY)
	{
		int32_t		reach = array_reach(m, n);
		int32_t		lim = n->max_items < reach ? n->max_items : reach;

		if (n->min_items >= 0 && n->min_items <= lim)
			v |= LLM_JT_ARRAY;
	}
	if ((n->types & LLM_JT_OBJECT) && in->obj != NULL && object_viable(m, n, in->obj))
		v |= LLM_JT_OBJECT;
	return v;
}

static bool
check_index(const llm_schema *s, int32_t i, bool allow_none)
{
	return (allow_none && i == -1) || (i >= 0 && i < s->n_nodes);
}

/* The graph comes from the compiler, but check it before walking it. */
static bool
graph_valid(const llm_schema *s)
{
	if (s->n_nodes <= 0 || s->nodes == NULL || !check_index(s, s->root, false))
		return false;
	for (int32_t i = 0; i < s->n_nodes; i++)
	{
		const llm_schema_node *n = &s->nodes[i];

		switch (n->kind)
		{
			case LLM_SN_NEVER:
				break;
			case LLM_SN_ANYOF:
				if (n->n_children < 0 || (n->n_children > 0 && n->children == NULL))
					return false;
				for (int32_t c = 0; c < n->n_children; c++)
					if (!check_index(s, n->children[c], false))
						return false;
				break;
			case LLM_SN_LITERALS:
				if (n->n_literals < 0 || (n->n_literals > 0 && n->literals == NULL))
					return false;
				for (int32_t c = 0; c < n->n_literals; c++)
					if (n->literals[c].len > 0 && n->literals[c].text == NULL)
						return false;
				break;
			case LLM_SN_TYPED:
				if (n->n_prefix < 0 || (n->n_prefix > 0 && n->prefix == NULL) ||
					!check_index(s, n->items, true) ||
					n->n_props < 0 || (n->n_props > 0 && n->props == NULL) ||
					!check_index(s, n->additional, true))
					return false;
				for (int32_t c = 0; c < n->n_prefix; c++)
					if (!check_index(s, n->prefix[c], false))
						return false;
				for (int32_t c = 0; c < n->n_props; c++)
					if (!check_index(s, n->props[c].node, false) ||
						(n->props[c].key_json_len > 0 && n->props[c].key_json == NULL) ||
						(n->props[c].name_len > 0 && n->props[c].name == NULL))
						return false;
				break;
			default:
				return false;
		}
	}
	return true;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a,
				y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

/* Build the sorted key table and the per-property arrays of an object node. */
static llm_status
object_info_build(llm_json_matcher *m, int32_t node, llm_error *err)
{
	const llm_schema_node *n = &m->s->nodes[node];
	jm_info    *in = &m->info[node];
	jm_obj	   *oi;
	int32_t		np = n->n_props;
	size_t		n1 = (size_t) np + 1;

	oi = llm_calloc(1, sizeof(jm_obj));
	if (oi == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory analysing a schema");
	in->obj = oi;
	oi->n = np;
	oi->alive = llm_calloc(n1, sizeof(bool));
	oi->req_after = llm_calloc(n1, sizeof(int32_t));
	oi->alive_after = llm_calloc(n1, sizeof(int32_t));
	oi->next_req = llm_calloc(n1, sizeof(int32_t));
	oi->cost = llm_calloc(n1, sizeof(int64_t));
	oi->req_cost_after = llm_calloc(n1, sizeof(int64_t));
	oi->name_hash = llm_calloc(n1, sizeof(uint64_t));
	in->refs = llm_calloc(n1, sizeof(jm_ref));
	if (!oi->alive || !oi->req_after || !oi->alive_after || !oi->next_req ||
		!oi->cost || !oi->req_cost_after || !oi->name_hash || !in->refs)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory analysing a schema");

	/* keys sorted by their JSON text; a repeated key counts once */
	for (int32_t i = 0; i < np; i++)
	{
		in->refs[i].text = n->props[i].key_json;
		in->refs[i].len = n->props[i].key_json_len;
		in->refs[i].index = i;
		oi->alive[i] = true;
		oi->name_hash[i] = fnv_bytes(JM_FNV_BASIS, n->props[i].name, n->props[i].name_len);
	}
	in->n_refs = np;
	if (np > 1)
	{
		qsort(in->refs, (size_t) np, sizeof(jm_ref), ref_cmp);
		qsort(oi->name_hash, (size_t) np, sizeof(uint64_t), u64_cmp);
	}
	for (int32_t i = 0; i < np; i++)
	{
		const jm_ref *r = &in->refs[i];

		/* keys must be quoted strings for the matcher's key phase */
		if (r->len < 2 || r->text[0] != '"' || r->text[r->len - 1] != '"')
			oi->alive[r->index] = false;
		if (i > 0 && r->len == in->refs[i - 1].len &&
			memcmp(r->text, in->refs[i - 1].text, r->len) == 0)
			oi->alive[r->index] = false;
		/* no key may be a prefix of another: a quote inside a key would be */
		for (size_t j = 1; j + 1 < r->len; j++)
			if (r->text[j] == '"' && r->text[j - 1] != '\\')
				oi->alive[r->index] = false;
	}
	return LLM_OK;
}

/* Fill the count tables of an object once liveness is final. */
static void
object_info_finish(llm_json_matcher *m, int32_t node)
{
	const llm_schema_node *n = &m->s->nodes[node];
	jm_obj	   *oi = m->info[node].obj;
	int32_t		np = n->n_props;

	for (int32_t i = 0; i < np; i++)
		if (!node_alive(m, n->props[i].node))
			oi->alive[i] = false;
	oi->req_after[np] = 0;
	oi->alive_after[np] = 0;
	oi->next_req[np] = np;
	oi->req_cost_after[np] = 0;
	for (int32_t i = np - 1; i >= 0; i--)
	{
		bool		req = n->props[i].required;

		oi->cost[i] = oi->alive[i] ?
			sat_add((int64_t) n->props[i].key_json_len + 1, node_min_bytes(m, n->props[i].node)) :
			INT64_MAX;
		oi->req_after[i] = oi->req_after[i + 1] + (req ? 1 : 0);
		oi->alive_after[i] = oi->alive_after[i + 1] + (oi->alive[i] ? 1 : 0);
		oi->next_req[i] = req ? i : oi->next_req[i + 1];
		oi->req_cost_after[i] = sat_add(oi->req_cost_after[i + 1], req ? oi->cost[i] : 0);
	}
	oi->free_ok = n->additional >= 0 && node_alive(m, n->additional);
	oi->free_value = oi->free_ok ? node_min_bytes(m, n->additional) : INT64_MAX;
}

static llm_status
analyse(llm_json_matcher *m, llm_error *err)
{
	const llm_schema *s = m->s;
	int32_t		nn = s->n_nodes;
	int64_t		max_props = 1;
	bool		changed;

	for (int32_t i = 0; i < nn; i++)
	{
		const llm_schema_node *n = &s->nodes[i];
		jm_info    *in = &m->info[i];

		if (n->kind == LLM_SN_LITERALS && n->n_literals > 0)
		{
			int32_t		cnt = 0;

			in->refs = llm_calloc((size_t) n->n_literals, sizeof(jm_ref));
			if (in->refs == NULL)
				return llm_error_set(err, LLM_ERR_NOMEM, "out of memory analysing a schema");
			for (int32_t j = 0; j < n->n_literals; j++)
				if (n->literals[j].len > 0)
				{
					in->refs[cnt].text = n->literals[j].text;
					in->refs[cnt].len = n->literals[j].len;
					in->refs[cnt].index = j;
					cnt++;
				}
			qsort(in->refs, (size_t) cnt, sizeof(jm_ref), ref_cmp);
			/* drop repeats */
			{
				int32_t		w = 0;

				for (int32_t j = 0; j < cnt; j++)
					if (w == 0 || in->refs[j].len != in->refs[w - 1].len ||
						memcmp(in->refs[j].text, in->refs[w - 1].text, in->refs[j].len) != 0)
						in->refs[w++] = in->refs[j];
				cnt = w;
			}
			in->n_refs = cnt;
		}
		if (n->kind == LLM_SN_TYPED)
		{
			if (n->types & (LLM_JT_INTEGER | LLM_JT_FRACTION))
			{
				in->num = llm_calloc(1, sizeof(jm_num));
				if (in->num == NULL)
					return llm_error_set(err, LLM_ERR_NOMEM, "out of memory analysing a schema");
				num_info_compute(n, in->num);
			}
			if (n->types & LLM_JT_OBJECT)
			{
				llm_status	st = object_info_build(m, i, err);

				if (st != LLM_OK)
					return st;
				if (n->n_props > max_props)
					max_props = n->n_props;
			}
		}
	}

	/* liveness: least fixpoint, so recursion needs a finite document */
	for (int pass = 0; pass < JM_FIXPOINT_PASSES; pass++)
	{
		changed = false;
		for (int32_t i = nn - 1; i >= 0; i--)
		{
			const llm_schema_node *n = &s->nodes[i];
			jm_info    *in = &m->info[i];
			bool		a = false;

			if (in->alive || n->min_bytes == INT64_MAX || n->min_bytes < 0)
				continue;
			switch (n->kind)
			{
				case LLM_SN_NEVER:
					break;
				case LLM_SN_ANYOF:
					for (int32_t c = 0; c < n->n_children && !a; c++)
						a = m->info[n->children[c]].alive;
					break;
				case LLM_SN_LITERALS:
					a = in->n_refs > 0;
					break;
				case LLM_SN_TYPED:
					a = typed_viable(m, i) != 0;
					break;
			}
			if (a)
			{
				in->alive = true;
				changed = true;
			}
		}
		if (!changed)
			break;
	}

	for (int32_t i = 0; i < nn; i++)
	{
		const llm_schema_node *n = &s->nodes[i];
		jm_info    *in = &m->info[i];

		if (n->kind != LLM_SN_TYPED)
			continue;
		if (in->obj != NULL)
			object_info_finish(m, i);
		in->viable = in->alive ? typed_viable(m, i) : 0;
		if (n->types & LLM_JT_ARRAY)
		{
			in->arr_reach = array_reach(m, n);
			in->arr_cost = llm_calloc((size_t) n->n_prefix + 1, sizeof(int64_t));
			if (in->arr_cost == NULL)
				return llm_error_set(err, LLM_ERR_NOMEM, "out of memory analysing a schema");
			for (int32_t j = 0; j < n->n_prefix; j++)
				in->arr_cost[j + 1] = sat_add(in->arr_cost[j], node_min_bytes(m, n->prefix[j]));
		}
	}

	/* which values can be scalars (for the nesting limit) */
	for (int pass = 0; pass < JM_FIXPOINT_PASSES; pass++)
	{
		changed = false;
		for (int32_t i = nn - 1; i >= 0; i--)
		{
			const llm_schema_node *n = &s->nodes[i];
			jm_info    *in = &m->info[i];
			bool		h = false;

			if (in->has_scalar || !in->alive)
				continue;
			switch (n->kind)
			{
				case LLM_SN_NEVER:
					break;
				case LLM_SN_ANYOF:
					for (int32_t c = 0; c < n->n_children && !h; c++)
						h = m->info[n->children[c]].alive && m->info[n->children[c]].has_scalar;
					break;
				case LLM_SN_LITERALS:
					for (int32_t j = 0; j < in->n_refs && !h; j++)
						h = in->refs[j].text[0] != '{' && in->refs[j].text[0] != '[';
					break;
				case LLM_SN_TYPED:
					h = (in->viable & ~(uint32_t) (LLM_JT_ARRAY | LLM_JT_OBJECT)) != 0;
					break;
			}
			if (h)
			{
				in->has_scalar = true;
				changed = true;
			}
		}
		if (!changed)
			break;
	}

	m->scratch->pairs = llm_calloc((size_t) max_props, sizeof(jm_pair));
	m->scratch->chosen = llm_calloc((size_t) max_props, sizeof(bool));
	if (!m->scratch->pairs || !m->scratch->chosen)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory analysing a schema");
	return LLM_OK;
}

/* ---------------------------------------------------------------------------
 * Public API: life cycle, feeding
 */

static void
info_free(llm_json_matcher *m)
{
	if (m->info == NULL)
		return;
	for (int32_t i = 0; i < m->s->n_nodes; i++)
	{
		jm_info    *in = &m->info[i];

		llm_free(in->refs);
		llm_free(in->num);
		llm_free(in->arr_cost);
		if (in->obj != NULL)
		{
			llm_free(in->obj->alive);
			llm_free(in->obj->req_after);
			llm_free(in->obj->alive_after);
			llm_free(in->obj->next_req);
			llm_free(in->obj->cost);
			llm_free(in->obj->req_cost_after);
			llm_free(in->obj->name_hash);
			llm_free(in->obj);
		}
	}
	llm_free(m->info);
	m->info = NULL;
}

void
llm_json_matcher_free(llm_json_matcher *m)
{
	if (m == NULL)
		return;
	info_free(m);
	llm_free(m->frames);
	llm_free(m->stacks);
	if (m->scratch != NULL)
	{
		llm_free(m->scratch->buf);
		llm_free(m->scratch->pairs);
		llm_free(m->scratch->chosen);
		llm_free(m->scratch->gen_hash);
		llm_free(m->scratch);
	}
	llm_free(m);
}

void
llm_json_matcher_reset(llm_json_matcher *m)
{
	jm_frame	root;

	frame_init(&root, FK_ROOT, -1, m->s->root, 0);
	root.phase = RP_START;
	memcpy(&m->frames[0], &root, sizeof(root));
	m->n_frames = 1;
	m->stacks[0] = 0;
	m->off = 0;
	m->n = 1;
	m->stacks_used = 1;
	m->compact_at = 65536;
	m->oom = false;
}

llm_status
llm_json_matcher_create(const llm_schema *schema, llm_json_matcher **out, llm_error *err)
{
	llm_json_matcher *m;
	llm_status	st;

	*out = NULL;
	init_pow10();
	if (schema == NULL || !graph_valid(schema))
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "the compiled schema is malformed");
	m = llm_calloc(1, sizeof(*m));
	if (m == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory creating a JSON matcher");
	m->s = schema;
	m->info = llm_calloc((size_t) schema->n_nodes, sizeof(jm_info));
	m->scratch = llm_calloc(1, sizeof(jm_scratch));
	m->cap_frames = 4096;
	m->frames = llm_malloc((size_t) m->cap_frames * sizeof(jm_frame));
	m->stacks_cap = 4096;
	m->stacks = llm_malloc(m->stacks_cap * sizeof(int32_t));
	if (!m->info || !m->scratch || !m->frames || !m->stacks)
	{
		llm_json_matcher_free(m);
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory creating a JSON matcher");
	}
	st = analyse(m, err);
	if (st != LLM_OK)
	{
		llm_json_matcher_free(m);
		return st;
	}
	/*
	 * The completion writes the compiler's shortest documents, so every
	 * node the compiler can write must be one the matcher can follow.
	 */
	for (int32_t i = 0; i < schema->n_nodes; i++)
	{
		const llm_schema_node *n = &schema->nodes[i];

		if (m->info[i].alive || n->min_bytes == INT64_MAX)
			continue;
		llm_json_matcher_free(m);
		if (n->kind == LLM_SN_TYPED && (n->types & (LLM_JT_INTEGER | LLM_JT_FRACTION)) &&
			((n->has_min && n->min >= 1e26) || (n->has_max && n->max <= -1e26)))
			return llm_error_set(err, LLM_ERR_UNSUPPORTED,
								 "a numeric bound of magnitude 10^26 or more that the value must reach is not supported");
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "the matcher finds no document for schema node %d, the compiler does", i);
	}
	if (!m->info[schema->root].alive)
	{
		llm_json_matcher_free(m);
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "no document satisfies the schema");
	}
	llm_json_matcher_reset(m);
	*out = m;
	return LLM_OK;
}

llm_json_mark
llm_json_matcher_mark(const llm_json_matcher *m)
{
	llm_json_mark mk;

	mk.arena_used = (size_t) m->n_frames;
	mk.n_stacks = m->n;
	mk.stacks_offset = m->off;
	return mk;
}

void
llm_json_matcher_rollback(llm_json_matcher *m, llm_json_mark mark)
{
	m->n_frames = (int32_t) mark.arena_used;
	m->n = mark.n_stacks;
	m->off = mark.stacks_offset;
	m->stacks_used = m->off + (size_t) m->n;
}

bool
llm_json_matcher_feed_byte(llm_json_matcher *m, uint8_t byte)
{
	int32_t		before = m->n_frames;

	if (m->oom)
		return false;
	m->new_off = m->off + (size_t) m->n;
	m->new_n = 0;
	for (int32_t i = 0; i < m->n; i++)
		step(m, m->stacks[m->off + (size_t) i], byte);
	if (m->new_n == 0)
	{
		m->n_frames = before;
		return false;
	}
	m->off = m->new_off;
	m->n = m->new_n;
	m->stacks_used = m->off + (size_t) m->n;
	return true;
}

/*
 * Copy the frames the current stacks reach to the front of the arena.
 * References always point to older frames, so one backward pass marks and
 * one forward pass moves.
 */
static void
compact(llm_json_matcher *m)
{
	int32_t    *map = llm_malloc((size_t) m->n_frames * sizeof(int32_t));
	int32_t		w = 0;

	if (map == NULL)
		return;					/* just keep the garbage */
	for (int32_t i = 0; i < m->n_frames; i++)
		map[i] = -1;
	for (int32_t i = 0; i < m->n; i++)
		map[m->stacks[m->off + (size_t) i]] = 0;
	for (int32_t i = m->n_frames - 1; i >= 0; i--)
	{
		const jm_frame *f = &m->frames[i];

		if (map[i] < 0)
			continue;
		if (f->parent >= 0)
			map[f->parent] = 0;
		if (f->kind == FK_OBJECT && f->u.obj.free_list >= 0)
			map[f->u.obj.free_list] = 0;
	}
	for (int32_t i = 0; i < m->n_frames; i++)
	{
		jm_frame	f;

		if (map[i] < 0)
			continue;
		memcpy(&f, &m->frames[i], sizeof(f));
		if (f.parent >= 0)
			f.parent = map[f.parent];
		if (f.kind == FK_OBJECT && f.u.obj.free_list >= 0)
			f.u.obj.free_list = map[f.u.obj.free_list];
		memcpy(&m->frames[w], &f, sizeof(f));
		map[i] = w++;
	}
	for (int32_t i = 0; i < m->n; i++)
		m->stacks[i] = map[m->stacks[m->off + (size_t) i]];
	m->off = 0;
	m->stacks_used = (size_t) m->n;
	m->n_frames = w;
	m->compact_at = w * 2 > 65536 ? w * 2 : 65536;
	llm_free(map);
}

bool
llm_json_matcher_feed(llm_json_matcher *m, const char *bytes, size_t n)
{
	llm_json_mark mk = llm_json_matcher_mark(m);

	for (size_t i = 0; i < n; i++)
		if (!llm_json_matcher_feed_byte(m, (uint8_t) bytes[i]))
		{
			llm_json_matcher_rollback(m, mk);
			return false;
		}
	if (m->n_frames >= m->compact_at)
		compact(m);
	return true;
}

bool
llm_json_matcher_failed(const llm_json_matcher *m)
{
	return m->oom;
}

bool
llm_json_matcher_plain_string(const llm_json_matcher *m, int32_t *room)
{
	const jm_frame *f;
	const llm_schema_node *n;

	if (m->n != 1)
		return false;
	f = &m->frames[m->stacks[m->off]];
	if (f->kind != FK_STRING || f->u.str.esc || f->u.str.need > 0)
		return false;
	n = &m->s->nodes[f->node];
	if (n->regex != NULL)
		return false;
	*room = n->max_chars - f->u.str.chars;
	return true;
}

bool
llm_json_matcher_is_complete(const llm_json_matcher *m)
{
	for (int32_t i = 0; i < m->n; i++)
	{
		const jm_frame *f = &m->frames[m->stacks[m->off + (size_t) i]];

		if (f->kind == FK_ROOT && f->phase == RP_DONE)
			return true;
	}
	return false;
}

bool
llm_json_matcher_must_end(const llm_json_matcher *m)
{
	llm_json_matcher *mm = (llm_json_matcher *) m;	/* explores, then restores */
	llm_json_mark mk;

	if (!llm_json_matcher_is_complete(m))
		return false;
	mk = llm_json_matcher_mark(m);
	for (int b = 0; b < 256; b++)
	{
		bool		ok = llm_json_matcher_feed_byte(mm, (uint8_t) b);

		llm_json_matcher_rollback(mm, mk);
		if (ok)
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------------------
 * Completion: the shortest way to a complete document
 */

typedef struct jm_out
{
	bool		write;			/* false: only count */
	int64_t		len;
	char	   *buf;
	size_t		blen;
	size_t		bcap;
	bool		failed;			/* no completion on this stack */
	llm_status	st;				/* writing failed (memory) */
	llm_error  *err;
} jm_out;

static void
out_bytes(jm_out *o, const char *p, size_t n)
{
	o->len = sat_add(o->len, (int64_t) n);
	if (!o->write || o->st != LLM_OK || n == 0)
		return;
	if (o->blen + n + 1 > o->bcap)
	{
		size_t		cap = o->bcap ? o->bcap : 64;
		char	   *q;

		while (o->blen + n + 1 > cap)
			cap *= 2;
		q = llm_realloc(o->buf, o->bcap, cap);
		if (q == NULL)
		{
			o->st = llm_error_set(o->err, LLM_ERR_NOMEM, "out of memory for a completion");
			return;
		}
		o->buf = q;
		o->bcap = cap;
	}
	memcpy(o->buf + o->blen, p, n);
	o->blen += n;
	o->buf[o->blen] = '\0';
}

static void
out_byte(jm_out *o, char c)
{
	out_bytes(o, &c, 1);
}

static void
out_shortest(const llm_json_matcher *m, jm_out *o, int32_t node)
{
	int64_t		mb = node_min_bytes(m, node);

	if (mb == INT64_MAX)
	{
		o->failed = true;
		return;
	}
	if (!o->write)
	{
		o->len = sat_add(o->len, mb);
		return;
	}
	if (o->st == LLM_OK)
	{
		size_t		before = o->blen;

		o->st = llm_schema_write_shortest(m->s, node, &o->buf, &o->blen, &o->bcap, o->err);
		if (o->st == LLM_OK && o->bcap > o->blen)
			o->buf[o->blen] = '\0';
		o->len = sat_add(o->len, (int64_t) (o->blen - before));
	}
}

/* Make sure scratch->buf holds cap bytes. */
static bool
scratch_reserve(jm_scratch *sc, size_t cap)
{
	char	   *p;

	if (sc->cap >= cap)
		return true;
	p = llm_realloc(sc->buf, sc->cap, cap);
	if (p == NULL)
		return false;
	sc->buf = p;
	sc->cap = cap;
	return true;
}

/* Append decoded bytes as the inside of a JSON string; false if impossible. */
static bool
out_escaped(jm_out *o, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		uint8_t		c = (uint8_t) p[i];
		const char *e = NULL;

		switch (c)
		{
			case '"':
				e = "\\\"";
				break;
			case '\\':
				e = "\\\\";
				break;
			case '\b':
				e = "\\b";
				break;
			case '\f':
				e = "\\f";
				break;
			case '\n':
				e = "\\n";
				break;
			case '\r':
				e = "\\r";
				break;
			case '\t':
				e = "\\t";
				break;
			default:
				if (c < 0x20)
					return false;
				break;
		}
		if (e != NULL)
			out_bytes(o, e, 2);
		else
			out_byte(o, (char) c);
	}
	return true;
}

/* The automaton's shortest finish from state, escaped; false if none. */
static bool
regex_finish(const llm_json_matcher *m, const llm_regex *re, int32_t state,
			 int32_t min_more, int32_t max_more, jm_out *o)
{
	jm_scratch *sc = m->scratch;
	size_t		cap = 4096;
	size_t		len = 0;

	if (min_more < 0)
		min_more = 0;
	if (max_more < min_more)
		return false;
	for (;;)
	{
		llm_error	e;
		llm_status	st;

		if (!scratch_reserve(sc, cap))
		{
			o->failed = true;
			return false;
		}
		st = llm_regex_shortest_finish(re, state, min_more, max_more, sc->buf, sc->cap, &len, &e);
		if (st == LLM_OK)
			break;
		if (st != LLM_ERR_LIMIT || cap > ((size_t) 1 << 30))
			return false;
		cap *= 4;
	}
	return out_escaped(o, sc->buf, len);
}

/* Finish a value string (its closing quote included). */
static void
finish_string(const llm_json_matcher *m, const llm_schema_node *n, const jm_str *st, jm_out *o)
{
	int32_t		min_c = n->min_chars,
				max_c = n->max_chars;

	if (n->regex == NULL)
	{
		int32_t		chars = st->chars;

		if (st->esc)
		{
			out_byte(o, '/');
			chars++;
		}
		else if (st->need > 0)
		{
			out_byte(o, (char) st->lo);
			for (int i = 1; i < st->need; i++)
				out_byte(o, (char) 0x80);
			chars++;
		}
		if (min_c > chars)
		{
			int64_t		pad = min_c - chars;

			if (o->write)
				for (int64_t i = 0; i < pad; i++)
					out_byte(o, 'a');
			else
				o->len = sat_add(o->len, pad);
		}
		out_byte(o, '"');
		return;
	}
	if (st->esc)
	{
		/* pick the escape whose finish is shortest */
		int			best = -1;
		int64_t		best_len = INT64_MAX;

		for (int i = 0; i < 8; i++)
		{
			int32_t		s2 = llm_regex_next(n->regex, st->rstate,
											(uint8_t) escape_value((uint8_t) escape_chars[i]));
			jm_out		probe;

			if (s2 < 0)
				continue;
			memset(&probe, 0, sizeof(probe));
			if (!regex_finish(m, n->regex, s2, min_c - st->chars - 1, max_c - st->chars - 1, &probe))
				continue;
			if (probe.len < best_len)
			{
				best_len = probe.len;
				best = i;
			}
		}
		if (best < 0)
		{
			o->failed = true;
			return;
		}
		out_byte(o, escape_chars[best]);
		regex_finish(m, n->regex,
					 llm_regex_next(n->regex, st->rstate,
									(uint8_t) escape_value((uint8_t) escape_chars[best])),
					 min_c - st->chars - 1, max_c - st->chars - 1, o);
		out_byte(o, '"');
		return;
	}
	if (!regex_finish(m, n->regex, st->rstate, min_c - st->chars, max_c - st->chars, o))
	{
		o->failed = true;
		return;
	}
	out_byte(o, '"');
}

/* Shortest free keys for a completion: write or count them. */
typedef struct jm_keygen
{
	uint64_t	next_t;
	uint64_t   *hashes;			/* in scratch */
	size_t		n;
} jm_keygen;

static bool
keygen_push(const llm_json_matcher *m, jm_keygen *g, uint64_t h)
{
	jm_scratch *sc = m->scratch;

	if (g->n == sc->gen_cap)
	{
		size_t		cap = sc->gen_cap ? sc->gen_cap * 2 : 16;
		uint64_t   *p = llm_realloc(sc->gen_hash, sc->gen_cap * sizeof(uint64_t),
									cap * sizeof(uint64_t));

		if (p == NULL)
			return false;
		sc->gen_hash = p;
		sc->gen_cap = cap;
	}
	sc->gen_hash[g->n++] = h;
	g->hashes = sc->gen_hash;
	return true;
}

/* The next made-up free key (text without quotes) not yet excluded; -1 if none. */
static int
keygen_next(const llm_json_matcher *m, const jm_obj *oi, int32_t free_list,
			jm_keygen *g, char *text)
{
	for (int guard = 0; guard < 1000000; guard++)
	{
		int			n = made_up_key(g->next_t++, text, 8);
		uint64_t	h;

		if (n < 0)
			return -1;
		h = fnv_bytes(JM_FNV_BASIS, text, (size_t) n);
		if (free_key_excluded(m, oi, free_list, h, m->scratch->gen_hash, g->n))
			continue;
		if (!keygen_push(m, g, h))
			return -1;
		return n;
	}
	return -1;
}

static int
pair_cmp(const void *a, const void *b)
{
	const jm_pair *x = a;
	const jm_pair *y = b;

	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

enum
{
	CLOSE_OPEN,					/* right after '{' */
	CLOSE_COMMA,				/* right after ',': one property must follow */
	CLOSE_AFTER					/* after a value */
};

/*
 * Close an object from (k, last, free): the required properties still due,
 * then the cheapest extra ones until min_props, then '}'.  extra_hash: a
 * free key being finished, not yet in free_list.
 */
static void
close_object(const llm_json_matcher *m, const jm_frame *fr, int32_t k, int32_t last,
			 bool free, int mode, const uint64_t *extra_hash, jm_out *o)
{
	const llm_schema_node *n = &m->s->nodes[fr->node];
	const jm_obj *oi = m->info[fr->node].obj;
	jm_scratch *sc = m->scratch;
	int32_t		req = free ? 0 : oi->req_after[last + 1];
	int64_t		need = (int64_t) n->min_props - k - req;
	int32_t		n_opt = 0;
	int64_t		items = 0;
	bool		first = (mode != CLOSE_AFTER);
	jm_keygen	g;
	int32_t		n_free_keys = 0;
	int32_t		n_opt_used = 0;

	if (need < 0)
		need = 0;
	if (mode == CLOSE_COMMA && req == 0 && need == 0)
		need = 1;
	if (need == 0 && !o->write)
	{
		/* only the required ones: their cost is precomputed */
		if (req > 0)
			o->len = sat_add(o->len, sat_add(oi->req_cost_after[last + 1],
											 req - (first ? 1 : 0)));
		o->len = sat_add(o->len, 1);
		if (o->len == INT64_MAX)
			o->failed = true;
		return;
	}
	memset(&g, 0, sizeof(g));
	if (extra_hash != NULL && !keygen_push(m, &g, *extra_hash))
	{
		o->failed = true;
		return;
	}

	/* optional declared properties still possible, cheapest first */
	if (need > 0 && !free)
	{
		for (int32_t p = last + 1; p < oi->n; p++)
		{
			sc->chosen[p] = false;
			if (!n->props[p].required && oi->alive[p])
			{
				sc->pairs[n_opt].cost = oi->cost[p];
				sc->pairs[n_opt].index = p;
				n_opt++;
			}
		}
		if (n_opt > 1)
			qsort(sc->pairs, (size_t) n_opt, sizeof(jm_pair), pair_cmp);
	}
	/* merge with made-up free keys (each "key":value costs its length + 3 + value) */
	{
		int64_t		free_cost_len = -1;	/* length of the pending free key */
		char		keytext[16];

		while (need > 0)
		{
			int64_t		oc = n_opt_used < n_opt ? sc->pairs[n_opt_used].cost : INT64_MAX;
			int64_t		fc = INT64_MAX;

			if (oi->free_ok)
			{
				if (free_cost_len < 0)
				{
					/* peek the next free key's length without consuming it */
					uint64_t	t_save = g.next_t;
					size_t		n_save = g.n;
					int			len = keygen_next(m, oi, fr->u.obj.free_list, &g, keytext);

					g.next_t = t_save;
					g.n = n_save;
					if (len >= 0)
						free_cost_len = len;
				}
				if (free_cost_len >= 0)
					fc = sat_add(free_cost_len + 3, oi->free_value);
			}
			if (oc == INT64_MAX && fc == INT64_MAX)
			{
				o->failed = true;
				return;
			}
			if (oc <= fc)
			{
				sc->chosen[sc->pairs[n_opt_used].index] = true;
				n_opt_used++;
			}
			else
			{
				n_free_keys++;
				/* consume it */
				keygen_next(m, oi, fr->u.obj.free_list, &g, keytext);
				free_cost_len = -1;
			}
			need--;
		}
	}

	/* write (or count) the declared ones in order, then the free ones */
	if (!free)
	{
		for (int32_t p = last + 1; p < oi->n; p++)
		{
			bool		use = n->props[p].required || (n_opt_used > 0 && !n->props[p].required &&
													   oi->alive[p] && sc->chosen[p]);

			if (!use)
				continue;
			if (!first)
				out_byte(o, ',');
			first = false;
			items++;
			out_bytes(o, n->props[p].key_json, n->props[p].key_json_len);
			out_byte(o, ':');
			out_shortest(m, o, n->props[p].node);
		}
	}
	if (n_free_keys > 0)
	{
		/* regenerate the same keys from the start */
		char		keytext[16];

		memset(&g, 0, sizeof(g));
		if (extra_hash != NULL)
			keygen_push(m, &g, *extra_hash);
		for (int32_t i = 0; i < n_free_keys; i++)
		{
			int			len = keygen_next(m, oi, fr->u.obj.free_list, &g, keytext);

			if (len < 0)
			{
				o->failed = true;
				return;
			}
			if (!first)
				out_byte(o, ',');
			first = false;
			out_byte(o, '"');
			out_bytes(o, keytext, (size_t) len);
			out_bytes(o, "\":", 2);
			out_shortest(m, o, n->additional);
		}
	}
	out_byte(o, '}');
}

/* Close an array holding cnt elements (mode CLOSE_OPEN: none yet, cnt = 0). */
static void
close_array(const llm_json_matcher *m, const jm_frame *fr, int32_t cnt, int mode, jm_out *o)
{
	const llm_schema_node *n = &m->s->nodes[fr->node];
	const jm_info *in = &m->info[fr->node];
	bool		first = (mode != CLOSE_AFTER);

	if (!o->write)
	{
		/* counted without a loop: prefix elements from the table */
		int64_t		total = 0;
		int64_t		from = cnt,
					to = n->min_items;

		if (to > from)
		{
			int64_t		pre_to = to < n->n_prefix ? to : n->n_prefix;
			int64_t		elems = to - from;

			if (from < pre_to)
				total = in->arr_cost[pre_to] == INT64_MAX ? INT64_MAX :
					sat_add(total, in->arr_cost[pre_to] - in->arr_cost[from]);
			if (to > n->n_prefix)
			{
				int64_t		k = to - (from > n->n_prefix ? from : n->n_prefix);

				total = sat_add(total, sat_mul(k, node_min_bytes(m, n->items)));
			}
			total = sat_add(total, elems - (first ? 1 : 0));	/* commas */
		}
		o->len = sat_add(o->len, sat_add(total, 1));
		if (total == INT64_MAX)
			o->failed = true;
		return;
	}
	for (int64_t i = cnt; i < n->min_items; i++)
	{
		if (!first)
			out_byte(o, ',');
		first = false;
		out_shortest(m, o, array_elem(n, (int32_t) i));
		if (o->failed || o->st != LLM_OK)
			return;
	}
	out_byte(o, ']');
}

/* Finish a free key being read, then its value and the object. */
static void
finish_free_key(const llm_json_matcher *m, const jm_frame *fr, jm_out *o)
{
	const jm_obj *oi = m->info[fr->node].obj;
	jm_str		st = fr->u.obj.s;
	uint64_t	h = fr->u.obj.hash;
	char		pend[4];
	int			n_pend = 0;
	int64_t		t;
	char		suf[16];
	int			n_suf;
	bool		ok = false;

	/* complete the pending character; try the choices until one works */
	if (st.esc)
	{
		for (int i = 0; i < 8 && !ok; i++)
		{
			uint64_t	h2 = fnv_byte(h, (uint8_t) escape_value((uint8_t) escape_chars[i]));

			t = free_key_suffix(m, oi, fr->u.obj.free_list, h2,
								JM_FREE_KEY_MAX_CHARS - st.chars - 1, NULL, 0);
			if (t >= 0)
			{
				pend[n_pend++] = escape_chars[i];
				h = h2;
				st.chars++;
				ok = true;
			}
		}
	}
	else if (st.need > 0)
	{
		for (int b = st.lo; b <= st.hi && !ok; b++)
		{
			uint64_t	h2 = fnv_byte(h, (uint8_t) b);

			for (int i = 1; i < st.need; i++)
				h2 = fnv_byte(h2, 0x80);
			t = free_key_suffix(m, oi, fr->u.obj.free_list, h2,
								JM_FREE_KEY_MAX_CHARS - st.chars - 1, NULL, 0);
			if (t >= 0)
			{
				pend[n_pend++] = (char) b;
				for (int i = 1; i < st.need; i++)
					pend[n_pend++] = (char) 0x80;
				h = h2;
				st.chars++;
				ok = true;
			}
		}
	}
	else
		ok = true;
	if (!ok)
	{
		o->failed = true;
		return;
	}
	t = free_key_suffix(m, oi, fr->u.obj.free_list, h, JM_FREE_KEY_MAX_CHARS - st.chars, NULL, 0);
	if (t < 0)
	{
		o->failed = true;
		return;
	}
	n_suf = made_up_key((uint64_t) t, suf, 4);
	if (n_suf < 0)
	{
		o->failed = true;
		return;
	}
	h = fnv_bytes(h, suf, (size_t) n_suf);
	out_bytes(o, pend, (size_t) n_pend);
	out_bytes(o, suf, (size_t) n_suf);
	out_bytes(o, "\":", 2);
	out_shortest(m, o, m->s->nodes[fr->node].additional);
	close_object(m, fr, fr->u.obj.k + 1, fr->u.obj.last, true, CLOSE_AFTER, &h, o);
}

/* Finish a declared key being read: the cheapest candidate. */
static void
finish_declared_key(const llm_json_matcher *m, const jm_frame *fr, jm_out *o)
{
	const llm_schema_node *n = &m->s->nodes[fr->node];
	const jm_info *in = &m->info[fr->node];
	int32_t		k = fr->u.obj.k,
				last = fr->u.obj.last,
				pos = fr->u.obj.pos;
	int32_t		best = -1;
	int64_t		best_len = INT64_MAX;

	for (int32_t i = fr->u.obj.lo; i < fr->u.obj.hi; i++)
	{
		int32_t		p = in->refs[i].index;
		jm_out		probe;

		if (!obj_key_ok(n, in->obj, k, last, false, p))
			continue;
		memset(&probe, 0, sizeof(probe));
		probe.len = sat_add((int64_t) in->refs[i].len - pos + 1, node_min_bytes(m, n->props[p].node));
		close_object(m, fr, k + 1, p, false, CLOSE_AFTER, NULL, &probe);
		if (!probe.failed && probe.len < best_len)
		{
			best_len = probe.len;
			best = i;
		}
	}
	if (best < 0)
	{
		o->failed = true;
		return;
	}
	{
		const jm_ref *r = &in->refs[best];
		int32_t		p = r->index;

		out_bytes(o, r->text + pos, r->len - (size_t) pos);
		out_byte(o, ':');
		out_shortest(m, o, n->props[p].node);
		close_object(m, fr, k + 1, p, false, CLOSE_AFTER, NULL, o);
	}
}

/* Finish one frame; child_done: a child value on top of it has just ended. */
static void
finish_frame(const llm_json_matcher *m, const jm_frame *fr, bool child_done, jm_out *o)
{
	const llm_schema_node *n = fr->node >= 0 ? &m->s->nodes[fr->node] : NULL;
	bool		free = (fr->flags & FF_FREE) != 0;

	switch (fr->kind)
	{
		case FK_ROOT:
			if (!child_done && fr->phase == RP_START)
				out_shortest(m, o, fr->node);
			return;
		case FK_OBJECT:
			if (child_done)
			{
				close_object(m, fr, fr->u.obj.k, fr->u.obj.last, free, CLOSE_AFTER, NULL, o);
				return;
			}
			switch (fr->phase)
			{
				case OP_OPEN:
					close_object(m, fr, 0, -1, false, CLOSE_OPEN, NULL, o);
					return;
				case OP_COMMA:
					close_object(m, fr, fr->u.obj.k, fr->u.obj.last, free, CLOSE_COMMA, NULL, o);
					return;
				case OP_DKEY:
					finish_declared_key(m, fr, o);
					return;
				case OP_FKEY:
					finish_free_key(m, fr, o);
					return;
				case OP_AFTER_KEY:
					out_byte(o, ':');
					/* FALLTHROUGH */
				case OP_COLON:
					out_shortest(m, o, fr->u.obj.cur);
					/* FALLTHROUGH */
				default:
					close_object(m, fr, fr->u.obj.k, fr->u.obj.last, free, CLOSE_AFTER, NULL, o);
					return;
			}
		case FK_ARRAY:
			if (child_done)
				close_array(m, fr, fr->u.arr.n + 1, CLOSE_AFTER, o);
			else if (fr->phase == AP_OPEN)
				close_array(m, fr, 0, CLOSE_OPEN, o);
			else if (fr->phase == AP_COMMA)
			{
				out_shortest(m, o, array_elem(n, fr->u.arr.n));
				close_array(m, fr, fr->u.arr.n + 1, CLOSE_AFTER, o);
			}
			else
				close_array(m, fr, fr->u.arr.n, CLOSE_AFTER, o);
			return;
		case FK_STRING:
			finish_string(m, n, &fr->u.str, o);
			return;
		case FK_NUMBER:
			{
				char		buf[96];
				int			len = num_finish(m->info[fr->node].num, fr, buf);

				if (len < 0)
					o->failed = true;
				else
					out_bytes(o, buf, (size_t) len);
				return;
			}
		case FK_LITS:
			{
				const jm_info *in = &m->info[fr->node];
				int32_t		best = fr->u.lit.lo;

				for (int32_t i = fr->u.lit.lo; i < fr->u.lit.hi; i++)
					if (in->refs[i].len < in->refs[best].len)
						best = i;
				out_bytes(o, in->refs[best].text + fr->u.lit.pos,
						  in->refs[best].len - (size_t) fr->u.lit.pos);
				return;
			}
		case FK_WORD:
			out_bytes(o, word_text[fr->u.lit.lo] + fr->u.lit.pos,
					  (size_t) (word_len[fr->u.lit.lo] - fr->u.lit.pos));
			return;
		default:
			o->failed = true;
			return;
	}
}

static void
finish_stack(const llm_json_matcher *m, int32_t top, jm_out *o)
{
	bool		child_done = false;

	for (int32_t f = top; f >= 0 && !o->failed && o->st == LLM_OK; f = m->frames[f].parent)
	{
		finish_frame(m, &m->frames[f], child_done, o);
		child_done = true;
	}
}

/* The stack with the shortest completion; -1 if none. */
static int32_t
best_stack(const llm_json_matcher *m, int64_t *len)
{
	int32_t		best = -1;

	*len = INT64_MAX;
	for (int32_t i = 0; i < m->n; i++)
	{
		int32_t		top = m->stacks[m->off + (size_t) i];
		jm_out		o;

		memset(&o, 0, sizeof(o));
		finish_stack(m, top, &o);
		if (!o.failed && o.len < *len)
		{
			*len = o.len;
			best = top;
		}
	}
	return best;
}

int64_t
llm_json_matcher_completion_len(const llm_json_matcher *m)
{
	int64_t		len;

	if (llm_json_matcher_is_complete(m))
		return 0;
	if (best_stack(m, &len) < 0)
		return INT64_MAX;
	return len;
}

llm_status
llm_json_matcher_completion(const llm_json_matcher *m, char **text, size_t *len,
							llm_error *err)
{
	int64_t		best_len;
	int32_t		top;
	jm_out		o;

	*text = NULL;
	*len = 0;
	memset(&o, 0, sizeof(o));
	o.write = true;
	o.err = err;
	if (!llm_json_matcher_is_complete(m))
	{
		top = best_stack(m, &best_len);
		if (top < 0 || best_len == INT64_MAX)
			return llm_error_set(err, LLM_ERR_INVALID_ARG,
								 "the document cannot be completed");
		finish_stack(m, top, &o);
		if (o.st != LLM_OK)
		{
			llm_free(o.buf);
			return o.st;
		}
		if (o.failed || (int64_t) o.blen != best_len)
		{
			llm_free(o.buf);
			return llm_error_set(err, LLM_ERR_INVALID_ARG,
								 "the document cannot be completed");
		}
	}
	if (o.buf == NULL)
	{
		o.buf = llm_malloc(1);
		if (o.buf == NULL)
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for a completion");
		o.buf[0] = '\0';
	}
	*text = o.buf;
	*len = o.blen;
	return LLM_OK;
}
