/*
 * jinja_value.c — what template values do, with Python's semantics:
 * truthiness, == (deep, numeric across int/float/bool), ordering, str(),
 * repr() (what printing a list or dict shows), json.dumps, iteration and
 * len().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

llm_status
jinja_fail(jinja_ctx *c, llm_status st, const char *fmt,...)
{
	char		msg[LLM_ERROR_MSG_LEN];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	llm_error_set(c->err, st, "%s", msg);
	return st;
}

llm_status
jinja_nomem(jinja_ctx *c)
{
	if (c->arena->over_limit)
		return jinja_fail(c, LLM_ERR_LIMIT,
						  "chat template rendering exceeded its memory limit");
	return jinja_fail(c, LLM_ERR_NOMEM, "out of memory rendering the chat template");
}

llm_status
jinja_charge(jinja_ctx *c, uint64_t units)
{
	c->work += units;
	if (c->work > (c->work_limit ? c->work_limit : JINJA_MAX_WORK))
		return jinja_fail(c, LLM_ERR_LIMIT, "chat template rendering exceeded its work limit");
	return LLM_OK;
}

llm_status
jinja_raise_deferred(jinja_ctx *c, const jinja_list *l)
{
	if (c->err)
		*c->err = *l->deferred;
	return l->deferred->status;
}

const char *
jv_type_name(jvalue v)
{
	switch (v.kind)
	{
		case JV_UNDEF:
			return "Undefined";
		case JV_NONE:
			return "NoneType";
		case JV_BOOL:
			return "bool";
		case JV_INT:
			return "int";
		case JV_FLOAT:
			return "float";
		case JV_STR:
			return "str";
		case JV_LIST:
			switch (v.u.list->flavor)
			{
				case JL_TUPLE:
					return "tuple";
				case JL_ITER:
					return "generator";
				case JL_KEYS:
					return "dict_keys";
				case JL_VALUES:
					return "dict_values";
				case JL_ITEMS:
					return "dict_items";
				default:
					return "list";
			}
		case JV_DICT:
			return "dict";
		case JV_NS:
			return "Namespace";
		case JV_LOOP:
			return "LoopContext";
		case JV_FUNC:
			return "function";
		case JV_MACRO:
			return "Macro";
		case JV_METHOD:
			return "builtin_function_or_method";
	}
	return "object";
}

bool
jv_truthy(jvalue v)
{
	switch (v.kind)
	{
		case JV_UNDEF:
		case JV_NONE:
			return false;
		case JV_BOOL:
			return v.u.b;
		case JV_INT:
			return v.u.i != 0;
		case JV_FLOAT:
			return v.u.f != 0.0;
		case JV_STR:
			return v.u.s.n > 0;
		case JV_LIST:
			/* a generator object is always true, even when empty */
			return v.u.list->flavor == JL_ITER || v.u.list->n > 0;
		case JV_DICT:
			return v.u.dict->n > 0;
		default:
			return true;
	}
}

bool
jv_safe_repr(jvalue v, int depth)
{
	if (depth > JINJA_MAX_VALUE_DEPTH)
		return false;
	switch (v.kind)
	{
		case JV_NONE:
		case JV_BOOL:
		case JV_INT:
		case JV_FLOAT:
		case JV_STR:
			return true;
		case JV_LIST:
			if (!JL_IS_SEQ(v.u.list->flavor))
				return false;
			for (size_t i = 0; i < v.u.list->n; i++)
				if (!jv_safe_repr(v.u.list->items[i], depth + 1))
					return false;
			return true;
		case JV_DICT:
			for (size_t i = 0; i < v.u.dict->n; i++)
				if (!jv_safe_repr(v.u.dict->keys[i], depth + 1) ||
					!jv_safe_repr(v.u.dict->vals[i], depth + 1))
					return false;
			return true;
		default:
			return false;
	}
}

bool
jv_is_iterable(jvalue v)
{
	return v.kind == JV_UNDEF || v.kind == JV_STR || v.kind == JV_LIST || v.kind == JV_DICT ||
		v.kind == JV_LOOP;
}

static bool
is_number(jvalue v)
{
	return v.kind == JV_BOOL || v.kind == JV_INT || v.kind == JV_FLOAT;
}

static int64_t
as_int(jvalue v)
{
	return v.kind == JV_BOOL ? (int64_t) v.u.b : v.u.i;
}

/* Exact comparison of two numbers as Python does it (-1, 0, 1; 2 = NaN). */
static int
num_cmp(jvalue a, jvalue b)
{
	if (a.kind != JV_FLOAT && b.kind != JV_FLOAT)
	{
		int64_t		x = as_int(a),
					y = as_int(b);

		return x < y ? -1 : x > y ? 1 : 0;
	}
	if (a.kind == JV_FLOAT && b.kind == JV_FLOAT)
	{
		if (isnan(a.u.f) || isnan(b.u.f))
			return 2;
		return a.u.f < b.u.f ? -1 : a.u.f > b.u.f ? 1 : 0;
	}
	else
	{
		/* int vs float, without the rounding of converting the int */
		bool		swapped = a.kind == JV_FLOAT;
		int64_t		i = swapped ? as_int(b) : as_int(a);
		double		f = swapped ? a.u.f : b.u.f;
		int			r;

		if (isnan(f))
			return 2;
		if (f >= 9223372036854775808.0)
			r = -1;
		else if (f < -9223372036854775808.0)
			r = 1;
		else
		{
			double		fl = floor(f);
			int64_t		fi = (int64_t) fl;

			if (i < fi)
				r = -1;
			else if (i > fi)
				r = 1;
			else
				r = (fl == f) ? 0 : -1;
		}
		return swapped ? -r : r;
	}
}

static llm_status
equal_rec(jinja_ctx *c, jvalue a, jvalue b, bool *eq, int depth)
{
	llm_status	st;

	if (depth > JINJA_MAX_VALUE_DEPTH)
		return jinja_fail(c, LLM_ERR_LIMIT, "chat template values nested too deeply");
	if ((st = jinja_charge(c, 1)) != LLM_OK)
		return st;
	*eq = false;
	if (is_number(a) && is_number(b))
	{
		*eq = num_cmp(a, b) == 0;
		return LLM_OK;
	}
	if (a.kind != b.kind)
		return LLM_OK;
	switch (a.kind)
	{
		case JV_UNDEF:
		case JV_NONE:
			*eq = true;
			return LLM_OK;
		case JV_STR:
			if ((st = jinja_charge(c, a.u.s.n / 32)) != LLM_OK)
				return st;
			*eq = jstr_eq(a.u.s, b.u.s);
			return LLM_OK;
		case JV_LIST:
			{
				const jinja_list *x = a.u.list,
						   *y = b.u.list;

				if (x == y)
				{
					*eq = true;
					return LLM_OK;
				}
				if (x->flavor != y->flavor || !JL_IS_SEQ(x->flavor) || x->n != y->n)
					return LLM_OK;
				for (size_t i = 0; i < x->n; i++)
				{
					if ((st = equal_rec(c, x->items[i], y->items[i], eq, depth + 1)) != LLM_OK)
						return st;
					if (!*eq)
						return LLM_OK;
				}
				*eq = true;
				return LLM_OK;
			}
		case JV_DICT:
			{
				jinja_dict *x = a.u.dict,
						   *y = b.u.dict;

				if (x == y)
				{
					*eq = true;
					return LLM_OK;
				}
				if (x->n != y->n)
					return LLM_OK;
				for (size_t i = 0; i < x->n; i++)
				{
					jvalue	   *other = jinja_dict_get(y, x->keys[i]);

					if (other == NULL)
						return LLM_OK;
					if ((st = equal_rec(c, x->vals[i], *other, eq, depth + 1)) != LLM_OK)
						return st;
					if (!*eq)
						return LLM_OK;
				}
				*eq = true;
				return LLM_OK;
			}
		case JV_NS:
			*eq = a.u.dict == b.u.dict;
			return LLM_OK;
		case JV_LOOP:
			*eq = a.u.loop == b.u.loop;
			return LLM_OK;
		case JV_FUNC:
			*eq = a.u.func == b.u.func;
			return LLM_OK;
		case JV_MACRO:
			*eq = a.u.macro->def == b.u.macro->def;
			return LLM_OK;
		case JV_METHOD:
			*eq = a.u.method == b.u.method;
			return LLM_OK;
		default:
			return LLM_OK;
	}
}

llm_status
jv_equal(jinja_ctx *c, jvalue a, jvalue b, bool *eq)
{
	return equal_rec(c, a, b, eq, 0);
}

static llm_status
compare_rec(jinja_ctx *c, jvalue a, jvalue b, int *cmp, int depth)
{
	llm_status	st;

	if (depth > JINJA_MAX_VALUE_DEPTH)
		return jinja_fail(c, LLM_ERR_LIMIT, "chat template values nested too deeply");
	if ((st = jinja_charge(c, 1)) != LLM_OK)
		return st;
	if (is_number(a) && is_number(b))
	{
		*cmp = num_cmp(a, b);
		return LLM_OK;
	}
	if (a.kind == JV_STR && b.kind == JV_STR)
	{
		if ((st = jinja_charge(c, a.u.s.n / 32)) != LLM_OK)
			return st;
		*cmp = jstr_cmp(a.u.s, b.u.s);
		return LLM_OK;
	}
	if (a.kind == JV_LIST && b.kind == JV_LIST &&
		a.u.list->flavor == b.u.list->flavor && JL_IS_SEQ(a.u.list->flavor))
	{
		const jinja_list *x = a.u.list,
				   *y = b.u.list;
		size_t		n = x->n < y->n ? x->n : y->n;

		for (size_t i = 0; i < n; i++)
		{
			bool		eq;

			if ((st = equal_rec(c, x->items[i], y->items[i], &eq, depth + 1)) != LLM_OK)
				return st;
			if (!eq)
				return compare_rec(c, x->items[i], y->items[i], cmp, depth + 1);
		}
		*cmp = x->n < y->n ? -1 : x->n > y->n ? 1 : 0;
		return LLM_OK;
	}
	return jinja_fail(c, LLM_ERR_INVALID_ARG,
					  "chat template error: '<' not supported between instances of '%s' and '%s'",
					  jv_type_name(a), jv_type_name(b));
}

llm_status
jv_compare(jinja_ctx *c, jvalue a, jvalue b, int *cmp)
{
	return compare_rec(c, a, b, cmp, 0);
}

/* ---------- containers ---------- */

jinja_list *
jinja_list_new(jinja_ctx *c, size_t n, jinja_list_flavor flavor)
{
	jinja_list *l = jinja_alloc(c->arena, sizeof(jinja_list));

	if (l == NULL)
		return NULL;
	l->n = n;
	l->flavor = flavor;
	if (n)
	{
		l->items = jinja_alloc_array(c->arena, n, sizeof(jvalue));
		if (l->items == NULL)
			return NULL;
	}
	return l;
}

jinja_dict *
jinja_dict_new(jinja_ctx *c, size_t cap)
{
	jinja_dict *d = jinja_alloc(c->arena, sizeof(jinja_dict));

	if (d == NULL)
		return NULL;
	if (cap < 4)
		cap = 4;
	d->keys = jinja_alloc_array(c->arena, cap, sizeof(jvalue));
	d->vals = jinja_alloc_array(c->arena, cap, sizeof(jvalue));
	if (d->keys == NULL || d->vals == NULL)
		return NULL;
	d->cap = cap;
	return d;
}

/*
 * Python dict key equality (hash-compatible: 1 == 1.0 == True).  Tuples
 * nested deeper than the value limit compare unequal rather than recurse.
 */
static bool
key_equal_rec(jvalue a, jvalue b, int depth)
{
	if (depth > JINJA_MAX_VALUE_DEPTH)
		return false;
	if (is_number(a) && is_number(b))
		return num_cmp(a, b) == 0;
	if (a.kind != b.kind)
		return false;
	switch (a.kind)
	{
		case JV_NONE:
		case JV_UNDEF:
			return true;
		case JV_STR:
			return jstr_eq(a.u.s, b.u.s);
		case JV_LIST:
			if (a.u.list->flavor != JL_TUPLE || b.u.list->flavor != JL_TUPLE)
				return a.u.list == b.u.list;
			if (a.u.list->n != b.u.list->n)
				return false;
			for (size_t i = 0; i < a.u.list->n; i++)
				if (!key_equal_rec(a.u.list->items[i], b.u.list->items[i], depth + 1))
					return false;
			return true;
		case JV_FUNC:
			return a.u.func == b.u.func;
		case JV_MACRO:
			return a.u.macro == b.u.macro;
		case JV_METHOD:
			return a.u.method == b.u.method;
		case JV_LOOP:
			return a.u.loop == b.u.loop;
		default:
			return a.u.dict == b.u.dict;	/* DICT, NS: identity */
	}
}

static bool
key_equal(jvalue a, jvalue b)
{
	return key_equal_rec(a, b, 0);
}

jvalue *
jinja_dict_get(jinja_dict *d, jvalue key)
{
	for (size_t i = 0; i < d->n; i++)
		if (key_equal(d->keys[i], key))
			return &d->vals[i];
	return NULL;
}

jvalue *
jinja_dict_get_str(jinja_dict *d, jstr key)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->keys[i].kind == JV_STR && jstr_eq(d->keys[i].u.s, key))
			return &d->vals[i];
	return NULL;
}

llm_status
jinja_dict_set(jinja_ctx *c, jinja_dict *d, jvalue key, jvalue val)
{
	jvalue	   *slot;

	if (key.kind == JV_DICT || key.kind == JV_NS ||
		(key.kind == JV_LIST && key.u.list->flavor == JL_LIST))
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: unhashable type: '%s'", jv_type_name(key));
	slot = jinja_dict_get(d, key);
	if (slot)
	{
		*slot = val;
		return LLM_OK;
	}
	if (d->n == d->cap)
	{
		size_t		ncap = d->cap * 2;
		jvalue	   *nk = jinja_alloc_array(c->arena, ncap, sizeof(jvalue));
		jvalue	   *nv = jinja_alloc_array(c->arena, ncap, sizeof(jvalue));

		if (nk == NULL || nv == NULL)
			return jinja_nomem(c);
		memcpy(nk, d->keys, d->n * sizeof(jvalue));
		memcpy(nv, d->vals, d->n * sizeof(jvalue));
		d->keys = nk;
		d->vals = nv;
		d->cap = ncap;
	}
	d->keys[d->n] = key;
	d->vals[d->n] = val;
	d->n++;
	return jinja_charge(c, d->n / 8);
}

llm_status
jinja_make_str(jinja_ctx *c, const char *p, size_t n, jvalue *out)
{
	char	   *copy = jinja_strdup(c->arena, p, n);

	if (copy == NULL)
		return jinja_nomem(c);
	*out = jv_str(jstr_make(copy, n));
	return jinja_charge(c, n / 32);
}

llm_status
jv_iterate(jinja_ctx *c, jvalue v, jinja_list **out)
{
	switch (v.kind)
	{
		case JV_UNDEF:
			*out = jinja_list_new(c, 0, JL_LIST);
			break;
		case JV_LIST:
			if (v.u.list->deferred)
				return jinja_raise_deferred(c, v.u.list);
			*out = v.u.list;
			return LLM_OK;
		case JV_DICT:
			{
				jinja_list *l = jinja_list_new(c, v.u.dict->n, JL_LIST);

				if (l == NULL)
					return jinja_nomem(c);
				for (size_t i = 0; i < v.u.dict->n; i++)
					l->items[i] = v.u.dict->keys[i];
				*out = l;
				return LLM_OK;
			}
		case JV_STR:
			{
				size_t		count = jinja_utf8_count(v.u.s.p, v.u.s.n);
				jinja_list *l = jinja_list_new(c, count, JL_LIST);
				size_t		i = 0,
							k = 0;

				if (l == NULL)
					return jinja_nomem(c);
				while (i < v.u.s.n && k < count)
				{
					size_t		start = i;

					(void) jinja_utf8_next(v.u.s.p, v.u.s.n, &i);
					l->items[k++] = jv_str(jstr_make(v.u.s.p + start, i - start));
				}
				*out = l;
				return jinja_charge(c, count);
			}
		case JV_LOOP:
			/* it would advance the running loop: nothing a chat template does */
			return jinja_fail(c, LLM_ERR_UNSUPPORTED,
							  "chat template uses an unsupported feature: iterating the loop variable");
		default:
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: '%s' object is not iterable", jv_type_name(v));
	}
	if (*out == NULL)
		return jinja_nomem(c);
	return LLM_OK;
}

llm_status
jv_length(jinja_ctx *c, jvalue v, int64_t *out)
{
	switch (v.kind)
	{
		case JV_UNDEF:
			*out = 0;
			return LLM_OK;
		case JV_STR:
			*out = (int64_t) jinja_utf8_count(v.u.s.p, v.u.s.n);
			return LLM_OK;
		case JV_LIST:
			if (v.u.list->flavor == JL_ITER)
				break;
			*out = (int64_t) v.u.list->n;
			return LLM_OK;
		case JV_DICT:
			*out = (int64_t) v.u.dict->n;
			return LLM_OK;
		case JV_LOOP:
			*out = (int64_t) v.u.loop->items->n;
			return LLM_OK;
		default:
			break;
	}
	return jinja_fail(c, LLM_ERR_INVALID_ARG,
					  "chat template error: object of type '%s' has no len()", jv_type_name(v));
}

/* ---------- formatting ---------- */

/* Python repr(float): shortest round-trip digits, Python's layout. */
void
jinja_format_float(double f, char buf[40])
{
	char		tmp[40];
	char		digits[24];
	int			nd = 0;
	int			exp10;
	int			prec;
	char	   *e;
	bool		neg;
	size_t		k = 0;

	if (isnan(f))
	{
		strcpy(buf, "nan");
		return;
	}
	if (isinf(f))
	{
		strcpy(buf, f < 0 ? "-inf" : "inf");
		return;
	}
	if (f == 0.0)
	{
		strcpy(buf, signbit(f) ? "-0.0" : "0.0");
		return;
	}
	for (prec = 1; prec <= 17; prec++)
	{
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	/* tmp is [-]d[.ddd]e[+-]xx */
	neg = tmp[0] == '-';
	for (char *p = tmp + (neg ? 1 : 0); *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && nd < 20)
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	e = strchr(tmp, 'e');
	exp10 = e ? atoi(e + 1) : 0;

	if (neg)
		buf[k++] = '-';
	if (exp10 >= -5 + 1 && exp10 < 16)
	{
		/* fixed notation: -4 <= exp10 < 16 */
		if (exp10 >= 0)
		{
			for (int i = 0; i <= exp10; i++)
				buf[k++] = i < nd ? digits[i] : '0';
			buf[k++] = '.';
			if (nd > exp10 + 1)
				for (int i = exp10 + 1; i < nd; i++)
					buf[k++] = digits[i];
			else
				buf[k++] = '0';
		}
		else
		{
			buf[k++] = '0';
			buf[k++] = '.';
			for (int i = 0; i < -exp10 - 1; i++)
				buf[k++] = '0';
			for (int i = 0; i < nd; i++)
				buf[k++] = digits[i];
		}
		buf[k] = '\0';
	}
	else
	{
		buf[k++] = digits[0];
		if (nd > 1)
		{
			buf[k++] = '.';
			for (int i = 1; i < nd; i++)
				buf[k++] = digits[i];
		}
		snprintf(buf + k, 40 - k, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
	}
}

static llm_status
put(jinja_ctx *c, jinja_buf *b, const char *s, size_t n)
{
	if (!jinja_buf_put(b, s, n))
	{
		if (b->over_limit)
			return jinja_fail(c, LLM_ERR_LIMIT,
							  "chat template output is larger than %d bytes", JINJA_MAX_OUTPUT_BYTES);
		return jinja_nomem(c);
	}
	return jinja_charge(c, 1 + n / 32);
}

static llm_status
puts_(jinja_ctx *c, jinja_buf *b, const char *s)
{
	return put(c, b, s, strlen(s));
}

static llm_status repr_dict_items(jinja_ctx *c, const jinja_dict *d, jinja_buf *b, int depth);

/* Python repr() of a str */
static llm_status
repr_str(jinja_ctx *c, jstr s, jinja_buf *b)
{
	char		quote = '\'';
	bool		has_single = memchr(s.p, '\'', s.n) != NULL;
	bool		has_double = memchr(s.p, '"', s.n) != NULL;
	size_t		i = 0;
	llm_status	st;

	if (has_single && !has_double)
		quote = '"';
	if ((st = put(c, b, &quote, 1)) != LLM_OK)
		return st;
	while (i < s.n)
	{
		size_t		start = i;
		uint32_t	cp = jinja_utf8_next(s.p, s.n, &i);
		char		esc[16];

		if (cp == (uint32_t) quote || cp == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) cp;
			st = put(c, b, esc, 2);
		}
		else if (cp == '\t')
			st = put(c, b, "\\t", 2);
		else if (cp == '\n')
			st = put(c, b, "\\n", 2);
		else if (cp == '\r')
			st = put(c, b, "\\r", 2);
		else if (cp < 0x20 || cp == 0x7F)
		{
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned) cp);
			st = put(c, b, esc, 4);
		}
		else if (cp < 0x7F || jinja_is_printable(cp))
			st = put(c, b, s.p + start, i - start);
		else
		{
			if (cp <= 0xFF)
				snprintf(esc, sizeof(esc), "\\x%02x", (unsigned) cp);
			else if (cp <= 0xFFFF)
				snprintf(esc, sizeof(esc), "\\u%04x", (unsigned) cp);
			else
				snprintf(esc, sizeof(esc), "\\U%08x", (unsigned) cp);
			st = puts_(c, b, esc);
		}
		if (st != LLM_OK)
			return st;
	}
	return put(c, b, &quote, 1);
}

/*
 * Python's repr() prints a container it is already inside as {...} or
 * [...] (a namespace can hold itself); true if that happened.
 */
static bool
repr_enter(jinja_ctx *c, const void *p)
{
	for (int i = 0; i < c->repr_depth; i++)
		if (c->repr_stack[i] == p)
			return false;
	if (c->repr_depth < JINJA_MAX_VALUE_DEPTH + 2)
		c->repr_stack[c->repr_depth++] = p;
	return true;
}

static void
repr_leave(jinja_ctx *c)
{
	if (c->repr_depth > 0)
		c->repr_depth--;
}

static llm_status
repr_dict_body(jinja_ctx *c, const jinja_dict *d, jinja_buf *b, int depth)
{
	llm_status	st;

	if (!repr_enter(c, d))
		return put(c, b, "{...}", 5);
	st = repr_dict_items(c, d, b, depth);
	repr_leave(c);
	return st;
}

static llm_status
repr_dict_items(jinja_ctx *c, const jinja_dict *d, jinja_buf *b, int depth)
{
	llm_status	st;

	if ((st = put(c, b, "{", 1)) != LLM_OK)
		return st;
	for (size_t i = 0; i < d->n; i++)
	{
		if (i > 0 && (st = put(c, b, ", ", 2)) != LLM_OK)
			return st;
		if ((st = jv_repr(c, d->keys[i], b, depth + 1)) != LLM_OK)
			return st;
		if ((st = put(c, b, ": ", 2)) != LLM_OK)
			return st;
		if ((st = jv_repr(c, d->vals[i], b, depth + 1)) != LLM_OK)
			return st;
	}
	return put(c, b, "}", 1);
}

llm_status
jv_repr(jinja_ctx *c, jvalue v, jinja_buf *b, int depth)
{
	llm_status	st = LLM_OK;

	if (depth > JINJA_MAX_VALUE_DEPTH)
		return jinja_fail(c, LLM_ERR_LIMIT, "chat template values nested too deeply");
	switch (v.kind)
	{
		case JV_STR:
			if (!v.markup)
				return repr_str(c, v.u.s, b);
			if ((st = puts_(c, b, "Markup(")) != LLM_OK ||
				(st = repr_str(c, v.u.s, b)) != LLM_OK)
				return st;
			return put(c, b, ")", 1);
		case JV_UNDEF:
			return puts_(c, b, "Undefined");
		case JV_LIST:
			{
				const jinja_list *l = v.u.list;

				if (l->flavor == JL_ITER)
					return puts_(c, b, "<generator object>");
				if (!JL_IS_SEQ(l->flavor))
				{
					/* dict_keys([...]) and friends */
					jinja_list	plain = *l;

					plain.flavor = JL_LIST;
					if ((st = puts_(c, b, jv_type_name(v))) != LLM_OK ||
						(st = put(c, b, "(", 1)) != LLM_OK ||
						(st = jv_repr(c, jv_list(&plain), b, depth + 1)) != LLM_OK)
						return st;
					return put(c, b, ")", 1);
				}
				if ((st = put(c, b, l->flavor == JL_TUPLE ? "(" : "[", 1)) != LLM_OK)
					return st;
				if (l->flavor == JL_LIST && !repr_enter(c, l))
					return put(c, b, "...]", 4);
				for (size_t i = 0; i < l->n; i++)
				{
					if (i > 0 && (st = put(c, b, ", ", 2)) != LLM_OK)
						break;
					if ((st = jv_repr(c, l->items[i], b, depth + 1)) != LLM_OK)
						break;
				}
				if (l->flavor == JL_LIST)
					repr_leave(c);
				if (st != LLM_OK)
					return st;
				if (l->flavor == JL_TUPLE && l->n == 1 && (st = put(c, b, ",", 1)) != LLM_OK)
					return st;
				return put(c, b, l->flavor == JL_TUPLE ? ")" : "]", 1);
			}
		case JV_DICT:
			return repr_dict_body(c, v.u.dict, b, depth);
		case JV_NS:
			if ((st = puts_(c, b, "<Namespace ")) != LLM_OK)
				return st;
			if ((st = repr_dict_body(c, v.u.dict, b, depth)) != LLM_OK)
				return st;
			return put(c, b, ">", 1);
		default:
			return jv_write_str(c, v, b);
	}
}

/* Append Python str(v). */
llm_status
jv_write_str(jinja_ctx *c, jvalue v, jinja_buf *b)
{
	char		tmp[64];

	switch (v.kind)
	{
		case JV_UNDEF:
			return LLM_OK;
		case JV_NONE:
			return puts_(c, b, "None");
		case JV_BOOL:
			return puts_(c, b, v.u.b ? "True" : "False");
		case JV_INT:
			snprintf(tmp, sizeof(tmp), "%lld", (long long) v.u.i);
			return puts_(c, b, tmp);
		case JV_FLOAT:
			jinja_format_float(v.u.f, tmp);
			return puts_(c, b, tmp);
		case JV_STR:
			return put(c, b, v.u.s.p, v.u.s.n);
		case JV_LIST:
		case JV_DICT:
		case JV_NS:
			return jv_repr(c, v, b, 0);
		case JV_LOOP:
			snprintf(tmp, sizeof(tmp), "<LoopContext %zu/%zu>",
					 v.u.loop->index0 + 1, v.u.loop->items->n);
			return puts_(c, b, tmp);
		case JV_FUNC:
			return puts_(c, b, "<function>");
		case JV_MACRO:
			if (puts_(c, b, "<Macro ") != LLM_OK)
				return c->err->status;
			if (repr_str(c, v.u.macro->def->name, b) != LLM_OK)
				return c->err->status;
			return puts_(c, b, ">");
		case JV_METHOD:
			return puts_(c, b, "<built-in method>");
	}
	return LLM_OK;
}

llm_status
jv_to_str(jinja_ctx *c, jvalue v, jstr *out)
{
	jinja_buf	b;
	llm_status	st;

	if (v.kind == JV_STR)
	{
		*out = v.u.s;
		return LLM_OK;
	}
	if (v.kind == JV_UNDEF)
	{
		*out = jstr_make("", 0);
		return LLM_OK;
	}
	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	st = jv_write_str(c, v, &b);
	if (st == LLM_OK)
	{
		char	   *copy = jinja_strdup(c->arena, b.p ? b.p : "", b.n);

		if (copy == NULL)
			st = jinja_nomem(c);
		else
			*out = jstr_make(copy, b.n);
	}
	jinja_buf_free(&b);
	return st;
}

/* ---------- JSON (json.dumps) ---------- */

static llm_status
json_str(jinja_ctx *c, jstr s, bool ensure_ascii, jinja_buf *b)
{
	size_t		i = 0;
	llm_status	st;

	if ((st = put(c, b, "\"", 1)) != LLM_OK)
		return st;
	while (i < s.n)
	{
		size_t		start = i;
		uint32_t	cp = jinja_utf8_next(s.p, s.n, &i);
		char		esc[16];

		switch (cp)
		{
			case '"':
				st = put(c, b, "\\\"", 2);
				break;
			case '\\':
				st = put(c, b, "\\\\", 2);
				break;
			case '\n':
				st = put(c, b, "\\n", 2);
				break;
			case '\r':
				st = put(c, b, "\\r", 2);
				break;
			case '\t':
				st = put(c, b, "\\t", 2);
				break;
			case '\b':
				st = put(c, b, "\\b", 2);
				break;
			case '\f':
				st = put(c, b, "\\f", 2);
				break;
			default:
				if (cp < 0x20 || (ensure_ascii && cp >= 0x7F))
				{
					if (cp >= 0x10000)
					{
						uint32_t	v = cp - 0x10000;

						snprintf(esc, sizeof(esc), "\\u%04x\\u%04x",
								 (unsigned) (0xD800 | (v >> 10)), (unsigned) (0xDC00 | (v & 0x3FF)));
					}
					else
						snprintf(esc, sizeof(esc), "\\u%04x", (unsigned) cp);
					st = puts_(c, b, esc);
				}
				else
					st = put(c, b, s.p + start, i - start);
				break;
		}
		if (st != LLM_OK)
			return st;
	}
	return put(c, b, "\"", 1);
}

static llm_status
json_newline(jinja_ctx *c, const jinja_json_opts *o, jinja_buf *b, int level)
{
	llm_status	st;

	if ((st = put(c, b, "\n", 1)) != LLM_OK)
		return st;
	for (int i = 0; i < level; i++)
		if ((st = put(c, b, o->indent.p, o->indent.n)) != LLM_OK)
			return st;
	return LLM_OK;
}

/* A dict key as json.dumps converts it. */
static llm_status
json_key(jinja_ctx *c, jvalue k, const jinja_json_opts *o, jinja_buf *b)
{
	char		tmp[64];

	switch (k.kind)
	{
		case JV_STR:
			return json_str(c, k.u.s, o->ensure_ascii, b);
		case JV_BOOL:
			return json_str(c, jstr_make(k.u.b ? "true" : "false", k.u.b ? 4 : 5), false, b);
		case JV_NONE:
			return json_str(c, JSTR_LIT("null"), false, b);
		case JV_INT:
			snprintf(tmp, sizeof(tmp), "%lld", (long long) k.u.i);
			return json_str(c, jstr_make(tmp, strlen(tmp)), false, b);
		case JV_FLOAT:
			if (isnan(k.u.f))
				strcpy(tmp, "NaN");
			else if (isinf(k.u.f))
				strcpy(tmp, k.u.f < 0 ? "-Infinity" : "Infinity");
			else
				jinja_format_float(k.u.f, tmp);
			return json_str(c, jstr_make(tmp, strlen(tmp)), false, b);
		default:
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: keys must be str, int, float, bool or None, not %s",
							  jv_type_name(k));
	}
}

static int
sort_keys_cmp(const void *x, const void *y)
{
	const jvalue *a = x,
			   *b = y;

	return jstr_cmp(a->u.s, b->u.s);
}

llm_status
jv_to_json(jinja_ctx *c, jvalue v, const jinja_json_opts *o, jinja_buf *b, int depth)
{
	char		tmp[64];
	llm_status	st;

	if (depth > JINJA_MAX_VALUE_DEPTH)
		return jinja_fail(c, LLM_ERR_LIMIT, "chat template values nested too deeply");
	switch (v.kind)
	{
		case JV_NONE:
			return puts_(c, b, "null");
		case JV_BOOL:
			return puts_(c, b, v.u.b ? "true" : "false");
		case JV_INT:
			snprintf(tmp, sizeof(tmp), "%lld", (long long) v.u.i);
			return puts_(c, b, tmp);
		case JV_FLOAT:
			if (isnan(v.u.f))
				return puts_(c, b, "NaN");
			if (isinf(v.u.f))
				return puts_(c, b, v.u.f < 0 ? "-Infinity" : "Infinity");
			jinja_format_float(v.u.f, tmp);
			return puts_(c, b, tmp);
		case JV_STR:
			return json_str(c, v.u.s, o->ensure_ascii, b);
		case JV_LIST:
			{
				const jinja_list *l = v.u.list;

				if (!JL_IS_SEQ(l->flavor))
					break;
				if (l->n == 0)
					return puts_(c, b, "[]");
				if ((st = put(c, b, "[", 1)) != LLM_OK)
					return st;
				for (size_t i = 0; i < l->n; i++)
				{
					if (i > 0 && (st = put(c, b, o->item_sep.p, o->item_sep.n)) != LLM_OK)
						return st;
					if (o->pretty && (st = json_newline(c, o, b, depth + 1)) != LLM_OK)
						return st;
					if ((st = jv_to_json(c, l->items[i], o, b, depth + 1)) != LLM_OK)
						return st;
				}
				if (o->pretty && (st = json_newline(c, o, b, depth)) != LLM_OK)
					return st;
				return put(c, b, "]", 1);
			}
		case JV_DICT:
			{
				const jinja_dict *d = v.u.dict;
				jvalue	   *order = d->keys;

				if (d->n == 0)
					return puts_(c, b, "{}");
				if (o->sort_keys)
				{
					/* only str keys sort without error in Python */
					for (size_t i = 0; i < d->n; i++)
						if (d->keys[i].kind != JV_STR)
							return jinja_fail(c, LLM_ERR_INVALID_ARG,
											  "chat template error: cannot sort mixed dictionary keys");
					order = jinja_alloc_array(c->arena, d->n, sizeof(jvalue));
					if (order == NULL)
						return jinja_nomem(c);
					memcpy(order, d->keys, d->n * sizeof(jvalue));
					qsort(order, d->n, sizeof(jvalue), sort_keys_cmp);
				}
				if ((st = put(c, b, "{", 1)) != LLM_OK)
					return st;
				for (size_t i = 0; i < d->n; i++)
				{
					jvalue	   *val = o->sort_keys ? jinja_dict_get((jinja_dict *) d, order[i]) : &d->vals[i];

					if (i > 0 && (st = put(c, b, o->item_sep.p, o->item_sep.n)) != LLM_OK)
						return st;
					if (o->pretty && (st = json_newline(c, o, b, depth + 1)) != LLM_OK)
						return st;
					if ((st = json_key(c, order[i], o, b)) != LLM_OK)
						return st;
					if ((st = put(c, b, o->key_sep.p, o->key_sep.n)) != LLM_OK)
						return st;
					if ((st = jv_to_json(c, *val, o, b, depth + 1)) != LLM_OK)
						return st;
				}
				if (o->pretty && (st = json_newline(c, o, b, depth)) != LLM_OK)
					return st;
				return put(c, b, "}", 1);
			}
		default:
			break;
	}
	return jinja_fail(c, LLM_ERR_INVALID_ARG,
					  "chat template error: Object of type %s is not JSON serializable",
					  jv_type_name(v));
}
