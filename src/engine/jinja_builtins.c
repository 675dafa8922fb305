/*
 * jinja_builtins.c — the filters, tests, string/dict methods and global
 * functions chat templates call, each with the behaviour of its jinja2 /
 * Python original (argument names included, so keyword calls work).
 *
 * jinja2 builtins that no chat template we know of uses are recognised by
 * name (so a template mentioning one in a branch it never takes still
 * compiles, as in jinja2) but fail with LLM_ERR_UNSUPPORTED if executed.
 * Mutating methods (list.append, dict.update, ...) fail as they do in
 * jinja2's ImmutableSandboxedEnvironment.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

/* ---------- arguments ---------- */

/*
 * Bind positional and keyword arguments to the parameter names; slots[i]
 * is NULL when parameter i was not given.
 */
static llm_status
bind_args(jinja_ctx *c, const char *what, const jinja_args *a,
		  const char *const *names, size_t n, const jvalue **slots)
{
	for (size_t i = 0; i < n; i++)
		slots[i] = i < a->npos ? &a->pos[i] : NULL;
	if (a->npos > n)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: %s takes at most %zu argument(s) (%zu given)",
						  what, n, a->npos);
	for (size_t k = 0; k < a->nkw; k++)
	{
		size_t		i;

		for (i = 0; i < n; i++)
			if (jstr_eq_c(a->kwnames[k], names[i]))
				break;
		if (i == n)
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: %s got an unexpected keyword argument '%.*s'",
							  what, (int) (a->kwnames[k].n > 60 ? 60 : a->kwnames[k].n), a->kwnames[k].p);
		if (slots[i] != NULL)
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: %s got multiple values for argument '%s'",
							  what, names[i]);
		slots[i] = &a->kwvals[k];
	}
	return LLM_OK;
}

static bool
given(const jvalue *slot)
{
	return slot != NULL && slot->kind != JV_NONE;
}

static llm_status
need_str(jinja_ctx *c, const char *what, const jvalue *v, jstr *out)
{
	if (v->kind != JV_STR)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: %s expects a string, not '%s'", what, jv_type_name(*v));
	*out = v->u.s;
	return LLM_OK;
}

static llm_status
need_int(jinja_ctx *c, const char *what, const jvalue *v, int64_t *out)
{
	if (v->kind == JV_INT)
		*out = v->u.i;
	else if (v->kind == JV_BOOL)
		*out = v->u.b;
	else
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: %s expects an integer, not '%s'", what, jv_type_name(*v));
	return LLM_OK;
}

static llm_status
unsupported(jinja_ctx *c, const char *kind, jstr name)
{
	return jinja_fail(c, LLM_ERR_UNSUPPORTED,
					  "chat template uses an unsupported feature: the '%.*s' %s",
					  (int) (name.n > 60 ? 60 : name.n), name.p, kind);
}

static llm_status html_escape(jinja_ctx *c, jstr s, jvalue *out);

/* ---------- codepoint arrays ---------- */

static llm_status
decode_cps(jinja_ctx *c, jstr s, uint32_t **cps, size_t *n)
{
	size_t		count = jinja_utf8_count(s.p, s.n);
	uint32_t   *a = jinja_alloc_array(c->arena, count + 1, sizeof(uint32_t));
	size_t		i = 0,
				k = 0;

	if (a == NULL)
		return jinja_nomem(c);
	while (i < s.n && k < count)
		a[k++] = jinja_utf8_next(s.p, s.n, &i);
	*cps = a;
	*n = k;
	return jinja_charge(c, k / 4);
}

/* Output accumulated through a jinja_buf; finish() makes the value. */
static llm_status
put_cp(jinja_ctx *c, jinja_buf *b, uint32_t cp)
{
	char		tmp[4];
	size_t		len = jinja_utf8_encode(cp, tmp);

	if (!jinja_buf_put(b, tmp, len))
		return b->over_limit ? jinja_fail(c, LLM_ERR_LIMIT, "chat template string is too large")
			: jinja_nomem(c);
	return LLM_OK;
}

static llm_status
put_bytes(jinja_ctx *c, jinja_buf *b, const char *p, size_t n)
{
	if (!jinja_buf_put(b, p, n))
		return b->over_limit ? jinja_fail(c, LLM_ERR_LIMIT, "chat template string is too large")
			: jinja_nomem(c);
	return LLM_OK;
}

static llm_status
finish(jinja_ctx *c, jinja_buf *b, llm_status st, jvalue *out)
{
	if (st == LLM_OK)
		st = jinja_make_str(c, b->p ? b->p : "", b->n, out);
	jinja_buf_free(b);
	return st;
}

/* ---------- case mapping (CPython unicodeobject.c semantics) ---------- */

static bool
is_titlecase(uint32_t cp)
{
	return cp == 0x1C5 || cp == 0x1C8 || cp == 0x1CB || cp == 0x1F2 ||
		(cp >= 0x1F88 && cp <= 0x1F8F) || (cp >= 0x1F98 && cp <= 0x1F9F) ||
		(cp >= 0x1FA8 && cp <= 0x1FAF) || cp == 0x1FBC || cp == 0x1FCC || cp == 0x1FFC;
}

/* str.lower() of cps[i] in context (final sigma). */
static size_t
lower_at(const uint32_t *cps, size_t n, size_t i, uint32_t out[3])
{
	if (cps[i] == 0x3A3)
	{
		size_t		j = i;
		bool		final_sigma = false;

		while (j > 0 && jinja_is_case_ignorable(cps[j - 1]))
			j--;
		if (j > 0 && jinja_is_cased(cps[j - 1]))
		{
			j = i + 1;
			while (j < n && jinja_is_case_ignorable(cps[j]))
				j++;
			final_sigma = j == n || !jinja_is_cased(cps[j]);
		}
		out[0] = final_sigma ? 0x3C2 : 0x3C3;
		return 1;
	}
	return jinja_case_lower(cps[i], out);
}

typedef enum
{
	CASE_UPPER,
	CASE_LOWER,
	CASE_TITLE,					/* str.title() */
	CASE_CAPITALIZE				/* str.capitalize() */
} case_mode;

static llm_status
change_case(jinja_ctx *c, jstr s, case_mode mode, jvalue *out)
{
	uint32_t   *cps;
	size_t		n;
	jinja_buf	b;
	llm_status	st;
	bool		prev_cased = false;

	if ((st = decode_cps(c, s, &cps, &n)) != LLM_OK)
		return st;
	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	for (size_t i = 0; i < n && st == LLM_OK; i++)
	{
		uint32_t	m[3];
		size_t		k;

		switch (mode)
		{
			case CASE_UPPER:
				k = jinja_case_upper(cps[i], m);
				break;
			case CASE_LOWER:
				k = lower_at(cps, n, i, m);
				break;
			case CASE_TITLE:
				k = prev_cased ? lower_at(cps, n, i, m) : jinja_case_title(cps[i], m);
				prev_cased = jinja_is_cased(cps[i]);
				break;
			default:
				k = i == 0 ? jinja_case_title(cps[i], m) : lower_at(cps, n, i, m);
				break;
		}
		for (size_t j = 0; j < k && st == LLM_OK; j++)
			st = put_cp(c, &b, m[j]);
	}
	return finish(c, &b, st, out);
}

/* jinja2's title filter: split on [-\s({\[<]+, upper first, lower rest */
static bool
title_sep(uint32_t cp)
{
	return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || jinja_py_isspace(cp);
}

static llm_status
filter_title_text(jinja_ctx *c, jstr s, jvalue *out)
{
	uint32_t   *cps;
	size_t		n;
	jinja_buf	b;
	llm_status	st;
	size_t		i = 0;

	if ((st = decode_cps(c, s, &cps, &n)) != LLM_OK)
		return st;
	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	while (i < n && st == LLM_OK)
	{
		size_t		j = i;
		bool		sep = title_sep(cps[i]);
		uint32_t	m[3];
		size_t		k;

		while (j < n && title_sep(cps[j]) == sep)
			j++;
		/* item cps[i..j): first char upper()ed, the rest lower()ed alone */
		k = jinja_case_upper(cps[i], m);
		for (size_t q = 0; q < k && st == LLM_OK; q++)
			st = put_cp(c, &b, m[q]);
		for (size_t q = i + 1; q < j && st == LLM_OK; q++)
		{
			k = lower_at(cps + i + 1, j - i - 1, q - i - 1, m);
			for (size_t r = 0; r < k && st == LLM_OK; r++)
				st = put_cp(c, &b, m[r]);
		}
		i = j;
	}
	return finish(c, &b, st, out);
}

static llm_status
str_is_case(jinja_ctx *c, jstr s, bool want_lower, bool *out)
{
	uint32_t   *cps;
	size_t		n;
	llm_status	st;
	bool		cased = false;

	if ((st = decode_cps(c, s, &cps, &n)) != LLM_OK)
		return st;
	*out = false;
	for (size_t i = 0; i < n; i++)
	{
		bool		lo = jinja_is_lower(cps[i]);
		bool		up = jinja_is_upper(cps[i]);

		if (is_titlecase(cps[i]) || (want_lower ? up : lo))
			return LLM_OK;
		if (want_lower ? lo : up)
			cased = true;
	}
	*out = cased;
	return LLM_OK;
}

/* ---------- Python string operations ---------- */

static bool
cp_in(uint32_t cp, const uint32_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == cp)
			return true;
	return false;
}

llm_status
jinja_str_strip(jinja_ctx *c, jstr s, const jvalue *chars, bool left, bool right, jvalue *out)
{
	size_t		start = 0,
				end = s.n;
	uint32_t   *set = NULL;
	size_t		nset = 0;
	llm_status	st;

	if (chars != NULL && chars->kind != JV_NONE)
	{
		jstr		cs;

		if ((st = need_str(c, "strip()", chars, &cs)) != LLM_OK)
			return st;
		if ((st = decode_cps(c, cs, &set, &nset)) != LLM_OK)
			return st;
	}
	if ((st = jinja_charge(c, s.n / 16)) != LLM_OK)
		return st;
	if (set == NULL)
	{
		if (left)
			start = jinja_ws_prefix(s.p, s.n);
		if (right && start < end)
			end -= jinja_ws_suffix(s.p + start, end - start);
	}
	else
	{
		while (left && start < end)
		{
			size_t		k = start;

			if (!cp_in(jinja_utf8_next(s.p, end, &k), set, nset))
				break;
			start = k;
		}
		while (right && end > start)
		{
			size_t		b = end - 1;
			size_t		k;

			while (b > start && ((unsigned char) s.p[b] & 0xC0) == 0x80)
				b--;
			k = b;
			if (!cp_in(jinja_utf8_next(s.p, end, &k), set, nset))
				break;
			end = b;
		}
	}
	*out = jv_str(jstr_make(s.p + start, end - start));
	return LLM_OK;
}

/* growable list under construction */
typedef struct
{
	jvalue	   *v;
	size_t		n;
	size_t		cap;
} vec;

static llm_status
vec_push(jinja_ctx *c, vec *a, jvalue v)
{
	if (a->n == a->cap)
	{
		size_t		ncap = a->cap ? a->cap * 2 : 8;
		jvalue	   *nv = jinja_alloc_array(c->arena, ncap, sizeof(jvalue));

		if (nv == NULL)
			return jinja_nomem(c);
		if (a->n)
			memcpy(nv, a->v, a->n * sizeof(jvalue));
		a->v = nv;
		a->cap = ncap;
	}
	a->v[a->n++] = v;
	return jinja_charge(c, 1);
}

static llm_status
vec_finish(jinja_ctx *c, vec *a, jinja_list_flavor flavor, jvalue *out)
{
	jinja_list *l = jinja_alloc(c->arena, sizeof(jinja_list));

	if (l == NULL)
		return jinja_nomem(c);
	l->n = a->n;
	l->items = a->v;
	l->flavor = flavor;
	*out = jv_list(l);
	return LLM_OK;
}

static size_t
cp_len_at(const char *p, size_t n, size_t i)
{
	size_t		k = i;

	(void) jinja_utf8_next(p, n, &k);
	return k - i;
}

/* str.split / str.rsplit */
static llm_status
str_split(jinja_ctx *c, jstr s, const jvalue *sepv, int64_t maxsplit, bool from_right, jvalue *out)
{
	vec			parts = {NULL, 0, 0};
	llm_status	st;
	uint64_t	max = maxsplit < 0 ? UINT64_MAX : (uint64_t) maxsplit;

	if ((st = jinja_charge(c, s.n / 16)) != LLM_OK)
		return st;
	if (sepv == NULL || sepv->kind == JV_NONE)
	{
		if (!from_right)
		{
			size_t		i = 0;

			while (max-- > 0)
			{
				size_t		j;

				i += jinja_ws_prefix(s.p + i, s.n - i);
				if (i == s.n)
					break;
				j = i;
				while (j < s.n && jinja_ws_prefix(s.p + j, s.n - j) == 0)
					j += cp_len_at(s.p, s.n, j);
				if ((st = vec_push(c, &parts, jv_str(jstr_make(s.p + i, j - i)))) != LLM_OK)
					return st;
				i = j;
			}
			if (i < s.n)
			{
				i += jinja_ws_prefix(s.p + i, s.n - i);
				if (i < s.n && (st = vec_push(c, &parts, jv_str(jstr_make(s.p + i, s.n - i)))) != LLM_OK)
					return st;
			}
		}
		else
		{
			size_t		end = s.n;

			while (max-- > 0)
			{
				size_t		j;

				end -= jinja_ws_suffix(s.p, end);
				if (end == 0)
					break;
				j = end;
				while (j > 0 && jinja_ws_suffix(s.p, j) == 0)
				{
					j--;
					while (j > 0 && ((unsigned char) s.p[j] & 0xC0) == 0x80)
						j--;
				}
				if ((st = vec_push(c, &parts, jv_str(jstr_make(s.p + j, end - j)))) != LLM_OK)
					return st;
				end = j;
			}
			if (end > 0)
			{
				end -= jinja_ws_suffix(s.p, end);
				if (end > 0 && (st = vec_push(c, &parts, jv_str(jstr_make(s.p, end)))) != LLM_OK)
					return st;
			}
		}
	}
	else
	{
		jstr		sep;

		if ((st = need_str(c, "split()", sepv, &sep)) != LLM_OK)
			return st;
		if (sep.n == 0)
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: empty separator");
		if (!from_right)
		{
			size_t		i = 0;
			int64_t		pos;

			while (max-- > 0 && (pos = jinja_find(s, sep, i)) >= 0)
			{
				if ((st = vec_push(c, &parts, jv_str(jstr_make(s.p + i, (size_t) pos - i)))) != LLM_OK)
					return st;
				i = (size_t) pos + sep.n;
			}
			if ((st = vec_push(c, &parts, jv_str(jstr_make(s.p + i, s.n - i)))) != LLM_OK)
				return st;
		}
		else
		{
			size_t		end = s.n;

			while (max-- > 0)
			{
				int64_t		found = -1;

				for (size_t i = end; i >= sep.n; i--)
					if (memcmp(s.p + i - sep.n, sep.p, sep.n) == 0)
					{
						found = (int64_t) (i - sep.n);
						break;
					}
				if (found < 0)
					break;
				if ((st = vec_push(c, &parts, jv_str(jstr_make(s.p + found + sep.n,
																 end - (size_t) found - sep.n)))) != LLM_OK)
					return st;
				end = (size_t) found;
			}
			if ((st = vec_push(c, &parts, jv_str(jstr_make(s.p, end)))) != LLM_OK)
				return st;
		}
	}
	if (from_right)
		for (size_t i = 0; i < parts.n / 2; i++)
		{
			jvalue		t = parts.v[i];

			parts.v[i] = parts.v[parts.n - 1 - i];
			parts.v[parts.n - 1 - i] = t;
		}
	return vec_finish(c, &parts, JL_LIST, out);
}

static llm_status
str_replace(jinja_ctx *c, jstr s, jstr old, jstr new, int64_t count, jvalue *out)
{
	jinja_buf	b;
	llm_status	st = LLM_OK;
	size_t		i = 0;
	uint64_t	max = count < 0 ? UINT64_MAX : (uint64_t) count;

	if ((st = jinja_charge(c, s.n / 16)) != LLM_OK)
		return st;
	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	if (old.n == 0)
	{
		/* insert new before every character and at the end */
		while (st == LLM_OK && i <= s.n)
		{
			size_t		k;

			if (max > 0)
			{
				st = put_bytes(c, &b, new.p, new.n);
				max--;
			}
			if (i == s.n || st != LLM_OK)
				break;
			k = cp_len_at(s.p, s.n, i);
			st = put_bytes(c, &b, s.p + i, k);
			i += k;
		}
		return finish(c, &b, st, out);
	}
	while (st == LLM_OK)
	{
		int64_t		pos = max > 0 ? jinja_find(s, old, i) : -1;

		if (pos < 0)
		{
			st = put_bytes(c, &b, s.p + i, s.n - i);
			break;
		}
		st = put_bytes(c, &b, s.p + i, (size_t) pos - i);
		if (st == LLM_OK)
			st = put_bytes(c, &b, new.p, new.n);
		if (st == LLM_OK)
			st = jinja_charge(c, 1 + new.n / 32);
		i = (size_t) pos + old.n;
		max--;
	}
	return finish(c, &b, st, out);
}

static bool
is_line_break(uint32_t cp)
{
	return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C ||
		cp == 0x1D || cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

static llm_status
str_splitlines(jinja_ctx *c, jstr s, bool keepends, vec *lines)
{
	size_t		i = 0;
	llm_status	st;

	while (i < s.n)
	{
		size_t		start = i;
		size_t		eol;

		for (;;)
		{
			size_t		k = i;
			uint32_t	cp;

			if (i >= s.n)
			{
				eol = i;
				break;
			}
			cp = jinja_utf8_next(s.p, s.n, &k);
			if (is_line_break(cp))
			{
				eol = i;
				i = k;
				if (cp == '\r' && i < s.n && s.p[i] == '\n')
					i++;
				break;
			}
			i = k;
		}
		if ((st = vec_push(c, lines, jv_str(jstr_make(s.p + start, (keepends ? i : eol) - start)))) != LLM_OK)
			return st;
	}
	return LLM_OK;
}

/* byte offset of codepoint index idx (clamped like a slice bound) */
static size_t
cp_offset(jstr s, int64_t idx)
{
	int64_t		count = (int64_t) jinja_utf8_count(s.p, s.n);
	size_t		i = 0;

	if (idx < 0)
		idx += count;
	if (idx < 0)
		idx = 0;
	if (idx >= count)
		return s.n;
	while (idx-- > 0)
		(void) jinja_utf8_next(s.p, s.n, &i);
	return i;
}

/* s[start:end] per optional start/end arguments */
static llm_status
sub_range(jinja_ctx *c, jstr s, const jvalue *startv, const jvalue *endv, jstr *out, size_t *base)
{
	size_t		from = 0,
				to = s.n;
	int64_t		v = 0;
	llm_status	st;

	if (given(startv))
	{
		if ((st = need_int(c, "start", startv, &v)) != LLM_OK)
			return st;
		from = cp_offset(s, v);
	}
	if (given(endv))
	{
		if ((st = need_int(c, "end", endv, &v)) != LLM_OK)
			return st;
		to = cp_offset(s, v);
	}
	if (to < from)
		to = from;
	*out = jstr_make(s.p + from, to - from);
	*base = from;
	return LLM_OK;
}

static llm_status
str_affix(jinja_ctx *c, jstr s, const jvalue *affix, bool suffix, bool *res)
{
	llm_status	st;

	*res = false;
	if (affix->kind == JV_LIST && affix->u.list->flavor == JL_TUPLE)
	{
		for (size_t i = 0; i < affix->u.list->n; i++)
		{
			if ((st = str_affix(c, s, &affix->u.list->items[i], suffix, res)) != LLM_OK)
				return st;
			if (*res)
				return LLM_OK;
		}
		return LLM_OK;
	}
	if (affix->kind != JV_STR)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: %s first arg must be str or a tuple of str, not %s",
						  suffix ? "endswith" : "startswith", jv_type_name(*affix));
	if (affix->u.s.n > s.n)
		return LLM_OK;
	*res = memcmp(suffix ? s.p + s.n - affix->u.s.n : s.p, affix->u.s.p, affix->u.s.n) == 0;
	return LLM_OK;
}

llm_status
jinja_escape(jinja_ctx *c, jvalue v, jvalue *out)
{
	jstr		s;
	llm_status	st;

	if (v.kind == JV_STR && v.markup)
	{
		*out = v;
		return LLM_OK;
	}
	if ((st = jv_to_str(c, v, &s)) != LLM_OK ||
		(st = html_escape(c, s, out)) != LLM_OK)
		return st;
	out->markup = true;
	return LLM_OK;
}

static llm_status
html_escape(jinja_ctx *c, jstr s, jvalue *out)
{
	jinja_buf	b;
	llm_status	st = LLM_OK;

	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	for (size_t i = 0; i < s.n && st == LLM_OK; i++)
	{
		switch (s.p[i])
		{
			case '&':
				st = put_bytes(c, &b, "&amp;", 5);
				break;
			case '<':
				st = put_bytes(c, &b, "&lt;", 4);
				break;
			case '>':
				st = put_bytes(c, &b, "&gt;", 4);
				break;
			case '"':
				st = put_bytes(c, &b, "&#34;", 5);
				break;
			case '\'':
				st = put_bytes(c, &b, "&#39;", 5);
				break;
			default:
				st = put_bytes(c, &b, s.p + i, 1);
				break;
		}
	}
	return finish(c, &b, st, out);
}

/* a string result that is Markup when the input was */
static llm_status
keep_markup(llm_status st, jvalue in, jvalue *out)
{
	if (st == LLM_OK && in.kind == JV_STR && in.markup && out->kind == JV_STR)
		out->markup = true;
	return st;
}

/* ---------- Python int() / float() of strings ---------- */

/* digits with single underscores between them; returns end or start */
static size_t
scan_digits(const char *p, size_t n, size_t i)
{
	size_t		start = i,
				last = i;

	while (i < n && p[i] >= '0' && p[i] <= '9')
	{
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		last = i;
		if (i + 1 < n && p[i] == '_' && p[i + 1] >= '0' && p[i + 1] <= '9')
			i++;
		else
			break;
	}
	return last > start ? last : start;
}

static bool
parse_py_int(jstr s, int64_t *out)
{
	size_t		i = jinja_ws_prefix(s.p, s.n);
	size_t		end = s.n - jinja_ws_suffix(s.p, s.n);
	bool		neg = false;
	size_t		d;
	uint64_t	v = 0;

	if (i >= end)
		return false;
	if (s.p[i] == '+' || s.p[i] == '-')
		neg = s.p[i++] == '-';
	d = scan_digits(s.p, end, i);
	if (d == i || d != end)
		return false;
	for (; i < d; i++)
	{
		if (s.p[i] == '_')
			continue;
		if (v > (UINT64_C(9223372036854775808) - (uint64_t) (s.p[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t) (s.p[i] - '0');
	}
	if (!neg && v > (uint64_t) INT64_MAX)
		return false;
	*out = neg ? (int64_t) (0 - v) : (int64_t) v;
	return true;
}

static bool
ascii_ieq(const char *p, size_t n, const char *lit)
{
	size_t		len = strlen(lit);

	if (n != len)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		char		a = p[i];

		if (a >= 'A' && a <= 'Z')
			a = (char) (a - 'A' + 'a');
		if (a != lit[i])
			return false;
	}
	return true;
}

static bool
parse_py_float(jstr s, double *out)
{
	size_t		i = jinja_ws_prefix(s.p, s.n);
	size_t		end = s.n - jinja_ws_suffix(s.p, s.n);
	size_t		start,
				d,
				k = 0;
	char		buf[128];
	bool		mant = false;

	if (i >= end)
		return false;
	start = i;
	if (s.p[i] == '+' || s.p[i] == '-')
		i++;
	if (ascii_ieq(s.p + i, end - i, "inf") || ascii_ieq(s.p + i, end - i, "infinity"))
	{
		*out = s.p[start] == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (ascii_ieq(s.p + i, end - i, "nan"))
	{
		*out = NAN;
		return true;
	}
	d = scan_digits(s.p, end, i);
	mant = d > i;
	i = d;
	if (i < end && s.p[i] == '.')
	{
		d = scan_digits(s.p, end, i + 1);
		mant = mant || d > i + 1;
		i = d > i + 1 ? d : i + 1;
	}
	if (!mant)
		return false;
	if (i < end && (s.p[i] == 'e' || s.p[i] == 'E'))
	{
		size_t		e = i + 1;

		if (e < end && (s.p[e] == '+' || s.p[e] == '-'))
			e++;
		d = scan_digits(s.p, end, e);
		if (d == e)
			return false;
		i = d;
	}
	if (i != end || end - start >= sizeof(buf))
		return false;
	for (size_t q = start; q < end; q++)
		if (s.p[q] != '_')
			buf[k++] = s.p[q];
	buf[k] = '\0';
	*out = strtod(buf, NULL);
	return true;
}

/* ---------- attribute getter (jinja2 make_attrgetter) ---------- */

static bool
all_digits(jstr s)
{
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

/* item.a.b (dotted; numeric parts index), default replacing Undefined */
static llm_status
attr_path(jinja_ctx *c, jvalue item, jvalue attribute, const jvalue *dflt, jvalue *out)
{
	llm_status	st;
	bool		use_default = dflt != NULL && dflt->kind != JV_NONE;

	if (attribute.kind == JV_STR)
	{
		jstr		s = attribute.u.s;
		size_t		i = 0;

		for (;;)
		{
			size_t		j = i;
			jstr		part;
			jvalue		key;
			int64_t		idx;

			while (j < s.n && s.p[j] != '.')
				j++;
			part = jstr_make(s.p + i, j - i);
			if (all_digits(part) && parse_py_int(part, &idx))
				key = jv_int(idx);
			else
				key = jv_str(part);
			if ((st = jinja_getitem(c, item, key, &item)) != LLM_OK)
				return st;
			if (use_default && item.kind == JV_UNDEF)
				item = *dflt;
			if (j >= s.n)
				break;
			i = j + 1;
		}
	}
	else
	{
		if ((st = jinja_getitem(c, item, attribute, &item)) != LLM_OK)
			return st;
		if (use_default && item.kind == JV_UNDEF)
			item = *dflt;
	}
	*out = item;
	return LLM_OK;
}

/* ---------- filters ---------- */

typedef llm_status (*filter_fn) (jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out);

static llm_status
str_arg(jinja_ctx *c, jvalue v, jstr *out)
{
	return jv_to_str(c, v, out);
}

static llm_status
f_trim(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"chars"};
	const jvalue *slots[1];
	llm_status	st;
	jstr		s;

	if ((st = bind_args(c, "trim", a, names, 1, slots)) != LLM_OK ||
		(st = str_arg(c, v, &s)) != LLM_OK)
		return st;
	return keep_markup(jinja_str_strip(c, s, slots[0], true, true, out), v, out);
}

static llm_status
f_length(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	int64_t		n;
	llm_status	st;

	if ((st = bind_args(c, "length", a, NULL, 0, NULL)) != LLM_OK ||
		(st = jv_length(c, v, &n)) != LLM_OK)
		return st;
	*out = jv_int(n);
	return LLM_OK;
}

static llm_status
case_filter(jinja_ctx *c, const char *name, jvalue v, const jinja_args *a, case_mode mode, jvalue *out)
{
	llm_status	st;
	jstr		s;

	if ((st = bind_args(c, name, a, NULL, 0, NULL)) != LLM_OK ||
		(st = str_arg(c, v, &s)) != LLM_OK)
		return st;
	return keep_markup(change_case(c, s, mode, out), v, out);
}

static llm_status
f_upper(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	return case_filter(c, "upper", v, a, CASE_UPPER, out);
}

static llm_status
f_lower(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	return case_filter(c, "lower", v, a, CASE_LOWER, out);
}

static llm_status
f_capitalize(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	return case_filter(c, "capitalize", v, a, CASE_CAPITALIZE, out);
}

static llm_status
f_title(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jstr		s;

	if ((st = bind_args(c, "title", a, NULL, 0, NULL)) != LLM_OK ||
		(st = str_arg(c, v, &s)) != LLM_OK)
		return st;
	return filter_title_text(c, s, out);
}

static llm_status
f_default(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"default_value", "boolean"};
	const jvalue *slots[2];
	llm_status	st;

	if ((st = bind_args(c, "default", a, names, 2, slots)) != LLM_OK)
		return st;
	if (v.kind == JV_UNDEF || (slots[1] && jv_truthy(*slots[1]) && !jv_truthy(v)))
		*out = slots[0] ? *slots[0] : jv_str(jstr_make("", 0));
	else
		*out = v;
	return LLM_OK;
}

static llm_status
f_replace(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"old", "new", "count"};
	const jvalue *slots[3];
	llm_status	st;
	jstr		s,
				old,
				new;
	int64_t		count = -1;

	if ((st = bind_args(c, "replace", a, names, 3, slots)) != LLM_OK)
		return st;
	if (!slots[0] || !slots[1])
		return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: replace needs old and new");
	if ((st = str_arg(c, v, &s)) != LLM_OK ||
		(st = str_arg(c, *slots[0], &old)) != LLM_OK ||
		(st = str_arg(c, *slots[1], &new)) != LLM_OK)
		return st;
	if (given(slots[2]) && (st = need_int(c, "replace count", slots[2], &count)) != LLM_OK)
		return st;
	return str_replace(c, s, old, new, count, out);
}

static llm_status
f_string(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jstr		s;

	if ((st = bind_args(c, "string", a, NULL, 0, NULL)) != LLM_OK ||
		(st = str_arg(c, v, &s)) != LLM_OK)
		return st;
	*out = jv_str(s);
	out->markup = v.kind == JV_STR && v.markup;	/* soft_str keeps Markup */
	return LLM_OK;
}

static llm_status
f_list(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jinja_list *items;
	jinja_list *l;

	if ((st = bind_args(c, "list", a, NULL, 0, NULL)) != LLM_OK ||
		(st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	l = jinja_list_new(c, items->n, JL_LIST);
	if (l == NULL)
		return jinja_nomem(c);
	if (items->n)
		memcpy(l->items, items->items, items->n * sizeof(jvalue));
	*out = jv_list(l);
	return jinja_charge(c, items->n);
}

static llm_status
f_join(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"d", "attribute"};
	const jvalue *slots[2];
	llm_status	st;
	jinja_list *items;
	jstr		sep = {"", 0};
	jinja_buf	b;

	if ((st = bind_args(c, "join", a, names, 2, slots)) != LLM_OK ||
		(st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	if (slots[0] && (st = str_arg(c, *slots[0], &sep)) != LLM_OK)
		return st;
	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	for (size_t i = 0; i < items->n && st == LLM_OK; i++)
	{
		jvalue		item = items->items[i];

		if (given(slots[1]))
			st = attr_path(c, item, *slots[1], NULL, &item);
		if (st == LLM_OK && i > 0)
			st = put_bytes(c, &b, sep.p, sep.n);
		if (st == LLM_OK)
			st = jv_write_str(c, item, &b);
	}
	return finish(c, &b, st, out);
}

static llm_status
f_first(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jinja_list *items;

	if ((st = bind_args(c, "first", a, NULL, 0, NULL)) != LLM_OK)
		return st;
	if (v.kind == JV_LIST && v.u.list->deferred && v.u.list->n > 0)
	{
		*out = v.u.list->items[0];
		return LLM_OK;
	}
	if ((st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	*out = items->n ? items->items[0] : jv_undef(JSTR_LIT("first item"));
	return LLM_OK;
}

static llm_status
f_last(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jinja_list *items;

	if ((st = bind_args(c, "last", a, NULL, 0, NULL)) != LLM_OK)
		return st;
	if (v.kind == JV_LIST && v.u.list->flavor == JL_ITER)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: 'generator' object is not reversible");
	if ((st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	*out = items->n ? items->items[items->n - 1] : jv_undef(JSTR_LIT("last item"));
	return LLM_OK;
}

static llm_status
f_reverse(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jinja_list *items;
	jinja_list *l;

	if ((st = bind_args(c, "reverse", a, NULL, 0, NULL)) != LLM_OK)
		return st;
	if (v.kind == JV_STR)
	{
		uint32_t   *cps;
		size_t		n;
		jinja_buf	b;

		if ((st = decode_cps(c, v.u.s, &cps, &n)) != LLM_OK)
			return st;
		jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
		for (size_t i = n; i > 0 && st == LLM_OK; i--)
			st = put_cp(c, &b, cps[i - 1]);
		return keep_markup(finish(c, &b, st, out), v, out);
	}
	if ((st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	/* reversed() gives an iterator; a generator falls back to a list */
	l = jinja_list_new(c, items->n,
					   (v.kind == JV_LIST && v.u.list->flavor == JL_ITER) ? JL_LIST : JL_ITER);
	if (l == NULL)
		return jinja_nomem(c);
	for (size_t i = 0; i < items->n; i++)
		l->items[i] = items->items[items->n - 1 - i];
	*out = jv_list(l);
	return jinja_charge(c, items->n);
}

static llm_status
f_items(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jinja_list *l;

	if ((st = bind_args(c, "items", a, NULL, 0, NULL)) != LLM_OK)
		return st;
	if (v.kind == JV_UNDEF)
	{
		l = jinja_list_new(c, 0, JL_ITER);
		if (l == NULL)
			return jinja_nomem(c);
		*out = jv_list(l);
		return LLM_OK;
	}
	if (v.kind != JV_DICT)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: Can only get item pairs from a mapping.");
	l = jinja_list_new(c, v.u.dict->n, JL_ITER);
	if (l == NULL)
		return jinja_nomem(c);
	for (size_t i = 0; i < v.u.dict->n; i++)
	{
		jinja_list *pair = jinja_list_new(c, 2, JL_TUPLE);

		if (pair == NULL)
			return jinja_nomem(c);
		pair->items[0] = v.u.dict->keys[i];
		pair->items[1] = v.u.dict->vals[i];
		l->items[i] = jv_list(pair);
	}
	*out = jv_list(l);
	return jinja_charge(c, l->n);
}

/* the arguments after the first `skip` positional ones */
static jinja_args
rest_args(const jinja_args *a, size_t skip)
{
	jinja_args	r = *a;

	if (skip > r.npos)
		skip = r.npos;
	r.pos = a->pos ? a->pos + skip : NULL;
	r.npos = a->npos - skip;
	return r;
}

static llm_status
select_common(jinja_ctx *c, jvalue v, const jinja_args *a, bool by_attr, bool reject,
			  jvalue *out)
{
	llm_status	st;
	jinja_list *items;
	vec			kept = {NULL, 0, 0};
	size_t		off = by_attr ? 1 : 0;
	jstr		test = {NULL, 0};
	bool		have_test = false;
	jinja_args	targs;

	/* jinja2 looks at nothing, arguments included, when value is falsy */
	if (!jv_truthy(v))
		return vec_finish(c, &kept, JL_ITER, out);
	if ((st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	if (by_attr && a->npos < 1)
		return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: missing parameter for attribute name");
	if (a->npos > off)
	{
		if ((st = need_str(c, "test name", &a->pos[off], &test)) != LLM_OK)
			return st;
		if (!jinja_test_known(test))
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: no test named '%.*s'",
							  (int) (test.n > 60 ? 60 : test.n), test.p);
		have_test = true;
	}
	targs = rest_args(a, off + 1);
	st = LLM_OK;
	for (size_t i = 0; i < items->n && st == LLM_OK; i++)
	{
		jvalue		subject = items->items[i];
		bool		ok = false;

		if (by_attr)
			st = attr_path(c, subject, a->pos[0], NULL, &subject);
		if (st == LLM_OK)
		{
			if (have_test)
				st = jinja_apply_test(c, test, subject, &targs, &ok);
			else
				ok = jv_truthy(subject);
		}
		if (st == LLM_OK && ok != reject)
			st = vec_push(c, &kept, items->items[i]);
	}
	/* on failure too: the items produced so far (see jinja_list) */
	if (vec_finish(c, &kept, JL_ITER, out) != LLM_OK)
		return c->err->status;
	return st;
}

static llm_status
f_select(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	return select_common(c, v, a, false, false, out);
}

static llm_status
f_reject(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	return select_common(c, v, a, false, true, out);
}

static llm_status
f_selectattr(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	return select_common(c, v, a, true, false, out);
}

static llm_status
f_rejectattr(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	return select_common(c, v, a, true, true, out);
}

static llm_status
f_map(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jinja_list *items;
	jinja_list *l;

	/* as select: a falsy value maps to an empty generator, unchecked */
	if (!jv_truthy(v))
	{
		l = jinja_list_new(c, 0, JL_ITER);
		if (l == NULL)
			return jinja_nomem(c);
		*out = jv_list(l);
		return LLM_OK;
	}
	if ((st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	l = jinja_list_new(c, items->n, JL_ITER);
	if (l == NULL)
		return jinja_nomem(c);
	if (a->npos == 0)
	{
		const jvalue *attribute = NULL,
				   *dflt = NULL;

		for (size_t k = 0; k < a->nkw; k++)
		{
			if (jstr_eq_c(a->kwnames[k], "attribute"))
				attribute = &a->kwvals[k];
			else if (jstr_eq_c(a->kwnames[k], "default"))
				dflt = &a->kwvals[k];
			else
				return jinja_fail(c, LLM_ERR_INVALID_ARG,
								  "chat template error: Unexpected keyword argument '%.*s'",
								  (int) a->kwnames[k].n, a->kwnames[k].p);
		}
		if (attribute == NULL)
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: map requires a filter argument");
		for (size_t i = 0; i < items->n; i++)
			if ((st = attr_path(c, items->items[i], *attribute, dflt, &l->items[i])) != LLM_OK)
			{
				l->n = i;
				*out = jv_list(l);
				return st;
			}
	}
	else
	{
		jstr		fname;
		jinja_args	fargs = rest_args(a, 1);

		if ((st = need_str(c, "map filter name", &a->pos[0], &fname)) != LLM_OK)
			return st;
		if (!jinja_filter_known(fname))
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: no filter named '%.*s'",
							  (int) (fname.n > 60 ? 60 : fname.n), fname.p);
		for (size_t i = 0; i < items->n; i++)
			if ((st = jinja_apply_filter(c, fname, items->items[i], &fargs, &l->items[i])) != LLM_OK)
			{
				l->n = i;
				*out = jv_list(l);
				return st;
			}
	}
	*out = jv_list(l);
	return jinja_charge(c, items->n);
}

static llm_status
f_unique(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"case_sensitive", "attribute"};
	const jvalue *slots[2];
	llm_status	st;
	jinja_list *items;
	vec			kept = {NULL, 0, 0};
	vec			seen = {NULL, 0, 0};
	bool		case_sensitive;

	if ((st = bind_args(c, "unique", a, names, 2, slots)) != LLM_OK ||
		(st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	case_sensitive = slots[0] && jv_truthy(*slots[0]);
	st = LLM_OK;
	for (size_t i = 0; i < items->n && st == LLM_OK; i++)
	{
		jvalue		key = items->items[i];
		bool		dup = false;

		if (given(slots[1]))
			st = attr_path(c, key, *slots[1], NULL, &key);
		if (st == LLM_OK && !case_sensitive && key.kind == JV_STR)
			st = change_case(c, key.u.s, CASE_LOWER, &key);
		if (st == LLM_OK && (key.kind == JV_DICT || key.kind == JV_NS ||
							 (key.kind == JV_LIST && key.u.list->flavor != JL_TUPLE)))
			st = jinja_fail(c, LLM_ERR_INVALID_ARG,
							"chat template error: unhashable type: '%s'", jv_type_name(key));
		for (size_t k = 0; k < seen.n && !dup && st == LLM_OK; k++)
			st = jv_equal(c, seen.v[k], key, &dup);
		if (st == LLM_OK && !dup)
		{
			st = vec_push(c, &seen, key);
			if (st == LLM_OK)
				st = vec_push(c, &kept, items->items[i]);
		}
	}
	if (vec_finish(c, &kept, JL_ITER, out) != LLM_OK)
		return c->err->status;
	return st;
}

static llm_status
json_opts_from(jinja_ctx *c, const jvalue *const *slots, jinja_json_opts *o)
{
	llm_status	st;

	memset(o, 0, sizeof(*o));
	o->ensure_ascii = slots[0] && jv_truthy(*slots[0]);
	o->sort_keys = slots[3] && jv_truthy(*slots[3]);
	if (given(slots[1]))
	{
		o->pretty = true;
		if (slots[1]->kind == JV_STR)
			o->indent = slots[1]->u.s;
		else
		{
			int64_t		w = 0;
			char	   *sp;

			if ((st = need_int(c, "tojson indent", slots[1], &w)) != LLM_OK)
				return st;
			if (w < 0)
				w = 0;
			if (w > 64)
				return jinja_fail(c, LLM_ERR_LIMIT, "chat template tojson indent is too large");
			sp = jinja_alloc(c->arena, (size_t) w + 1);
			if (sp == NULL)
				return jinja_nomem(c);
			memset(sp, ' ', (size_t) w);
			o->indent = jstr_make(sp, (size_t) w);
		}
	}
	o->item_sep = o->pretty ? JSTR_LIT(",") : JSTR_LIT(", ");
	o->key_sep = JSTR_LIT(": ");
	if (given(slots[2]))
	{
		const jvalue *sep = slots[2];

		if (sep->kind != JV_LIST || !JL_IS_SEQ(sep->u.list->flavor) || sep->u.list->n != 2 ||
			sep->u.list->items[0].kind != JV_STR || sep->u.list->items[1].kind != JV_STR)
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: tojson separators must be two strings");
		o->item_sep = sep->u.list->items[0].u.s;
		o->key_sep = sep->u.list->items[1].u.s;
	}
	return LLM_OK;
}

/*
 * llama-cpp-python replaces jinja2's tojson with
 * json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
 * (matching transformers), not jinja2's HTML-safe version.
 */
static llm_status
f_tojson(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"ensure_ascii", "indent", "separators", "sort_keys"};
	const jvalue *slots[4];
	jinja_json_opts o;
	jinja_buf	b;
	llm_status	st;

	if ((st = bind_args(c, "tojson", a, names, 4, slots)) != LLM_OK ||
		(st = json_opts_from(c, slots, &o)) != LLM_OK)
		return st;
	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	st = jv_to_json(c, v, &o, &b, 0);
	return finish(c, &b, st, out);
}

static llm_status
f_safe(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jstr		s;

	/* Markup(value) */
	if ((st = bind_args(c, "safe", a, NULL, 0, NULL)) != LLM_OK ||
		(st = str_arg(c, v, &s)) != LLM_OK)
		return st;
	*out = jv_markup(s);
	return LLM_OK;
}

static llm_status
f_escape(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;

	if ((st = bind_args(c, "escape", a, NULL, 0, NULL)) != LLM_OK)
		return st;
	return jinja_escape(c, v, out);
}

static llm_status
f_forceescape(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;
	jstr		s;

	if ((st = bind_args(c, "forceescape", a, NULL, 0, NULL)) != LLM_OK ||
		(st = str_arg(c, v, &s)) != LLM_OK)
		return st;
	return jinja_escape(c, jv_str(s), out);
}

static llm_status
f_int(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"default", "base"};
	const jvalue *slots[2];
	llm_status	st;
	int64_t		iv;
	double		fv;

	if ((st = bind_args(c, "int", a, names, 2, slots)) != LLM_OK)
		return st;
	if (given(slots[1]) && !(slots[1]->kind == JV_INT && slots[1]->u.i == 10))
		return unsupported(c, "filter argument", JSTR_LIT("int(base=...)"));
	switch (v.kind)
	{
		case JV_UNDEF:
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: '%.*s' is undefined",
							  (int) v.u.s.n, v.u.s.p);
		case JV_INT:
			*out = v;
			return LLM_OK;
		case JV_BOOL:
			*out = jv_int(v.u.b);
			return LLM_OK;
		case JV_FLOAT:
			if (isfinite(v.u.f) && v.u.f > -9.2e18 && v.u.f < 9.2e18)
			{
				*out = jv_int((int64_t) v.u.f);
				return LLM_OK;
			}
			if (isfinite(v.u.f))
				return jinja_fail(c, LLM_ERR_LIMIT, "chat template arithmetic overflowed 64-bit integers");
			break;				/* int(inf/nan) fails: default */
		case JV_STR:
			if (parse_py_int(v.u.s, &iv))
			{
				*out = jv_int(iv);
				return LLM_OK;
			}
			if (parse_py_float(v.u.s, &fv) && isfinite(fv) && fv > -9.2e18 && fv < 9.2e18)
			{
				*out = jv_int((int64_t) fv);
				return LLM_OK;
			}
			break;
		default:
			break;
	}
	*out = slots[0] ? *slots[0] : jv_int(0);
	return LLM_OK;
}

static llm_status
f_float(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"default"};
	const jvalue *slots[1];
	llm_status	st;
	double		fv;

	if ((st = bind_args(c, "float", a, names, 1, slots)) != LLM_OK)
		return st;
	switch (v.kind)
	{
		case JV_UNDEF:
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: '%.*s' is undefined",
							  (int) v.u.s.n, v.u.s.p);
		case JV_INT:
			*out = jv_float((double) v.u.i);
			return LLM_OK;
		case JV_BOOL:
			*out = jv_float(v.u.b);
			return LLM_OK;
		case JV_FLOAT:
			*out = v;
			return LLM_OK;
		case JV_STR:
			if (parse_py_float(v.u.s, &fv))
			{
				*out = jv_float(fv);
				return LLM_OK;
			}
			break;
		default:
			break;
	}
	*out = slots[0] ? *slots[0] : jv_float(0.0);
	return LLM_OK;
}

static llm_status
f_abs(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	llm_status	st;

	if ((st = bind_args(c, "abs", a, NULL, 0, NULL)) != LLM_OK)
		return st;
	if (v.kind == JV_INT)
	{
		if (v.u.i == INT64_MIN)
			return jinja_fail(c, LLM_ERR_LIMIT, "chat template arithmetic overflowed 64-bit integers");
		*out = jv_int(v.u.i < 0 ? -v.u.i : v.u.i);
	}
	else if (v.kind == JV_BOOL)
		*out = jv_int(v.u.b);
	else if (v.kind == JV_FLOAT)
		*out = jv_float(fabs(v.u.f));
	else
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: bad operand type for abs(): '%s'", jv_type_name(v));
	return LLM_OK;
}

static llm_status
f_attr(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"name"};
	const jvalue *slots[1];
	llm_status	st;
	jstr		name;

	if ((st = bind_args(c, "attr", a, names, 1, slots)) != LLM_OK)
		return st;
	if (!slots[0])
		return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: attr needs a name");
	if ((st = str_arg(c, *slots[0], &name)) != LLM_OK)
		return st;
	/* getattr only: a dict's keys are not attributes */
	if (v.kind == JV_NS || v.kind == JV_LOOP)
		return jinja_getattr(c, v, name, out);
	if (v.kind == JV_UNDEF)
		return jinja_getattr(c, v, name, out);
	if (jinja_has_method(v, name))
		return jinja_getattr(c, v, name, out);
	*out = jv_undef(name);
	return LLM_OK;
}

static llm_status
f_indent(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"width", "first", "blank"};
	const jvalue *slots[3];
	llm_status	st;
	jstr		s,
				ind;
	vec			lines = {NULL, 0, 0};
	jinja_buf	b;
	jinja_buf	src;
	bool		first,
				blank;

	if ((st = bind_args(c, "indent", a, names, 3, slots)) != LLM_OK)
		return st;
	/* jinja2 does s += "\n" without str(): only strings work */
	if (v.kind == JV_UNDEF)
		return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: '%.*s' is undefined",
						  (int) v.u.s.n, v.u.s.p);
	if (v.kind != JV_STR)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: unsupported operand type(s) for +=: '%s' and 'str'",
						  jv_type_name(v));
	s = v.u.s;
	first = slots[1] && jv_truthy(*slots[1]);
	blank = slots[2] && jv_truthy(*slots[2]);
	if (slots[0] && slots[0]->kind == JV_STR)
		ind = slots[0]->u.s;
	else
	{
		int64_t		w = 4;
		char	   *sp;

		if (slots[0] && (st = need_int(c, "indent width", slots[0], &w)) != LLM_OK)
			return st;
		if (w < 0)
			w = 0;
		if (w > 256)
			return jinja_fail(c, LLM_ERR_LIMIT, "chat template indent is too wide");
		sp = jinja_alloc(c->arena, (size_t) w + 1);
		if (sp == NULL)
			return jinja_nomem(c);
		memset(sp, ' ', (size_t) w);
		ind = jstr_make(sp, (size_t) w);
	}
	/* jinja2 appends "\n" before splitlines() */
	jinja_buf_init(&src, JINJA_MAX_OUTPUT_BYTES);
	st = put_bytes(c, &src, s.p, s.n);
	if (st == LLM_OK)
		st = put_bytes(c, &src, "\n", 1);
	if (st == LLM_OK)
	{
		jvalue		copy;

		st = jinja_make_str(c, src.p, src.n, &copy);
		if (st == LLM_OK)
			s = copy.u.s;
	}
	jinja_buf_free(&src);
	if (st != LLM_OK || (st = str_splitlines(c, s, false, &lines)) != LLM_OK)
		return st;
	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	if (first)
		st = put_bytes(c, &b, ind.p, ind.n);
	for (size_t i = 0; i < lines.n && st == LLM_OK; i++)
	{
		jstr		line = lines.v[i].u.s;

		if (i > 0)
		{
			st = put_bytes(c, &b, "\n", 1);
			if (st == LLM_OK && (blank || line.n > 0))
				st = put_bytes(c, &b, ind.p, ind.n);
		}
		if (st == LLM_OK)
			st = put_bytes(c, &b, line.p, line.n);
	}
	return keep_markup(finish(c, &b, st, out), v, out);
}

static llm_status
f_sum(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	static const char *const names[] = {"attribute", "start"};
	const jvalue *slots[2];
	llm_status	st;
	jinja_list *items;
	jvalue		acc;

	if ((st = bind_args(c, "sum", a, names, 2, slots)) != LLM_OK ||
		(st = jv_iterate(c, v, &items)) != LLM_OK)
		return st;
	acc = slots[1] ? *slots[1] : jv_int(0);
	for (size_t i = 0; i < items->n; i++)
	{
		jvalue		item = items->items[i];
		jvalue		r;
		bool		af = acc.kind == JV_FLOAT,
					bf;

		if (given(slots[0]) && (st = attr_path(c, item, *slots[0], NULL, &item)) != LLM_OK)
			return st;
		bf = item.kind == JV_FLOAT;
		if (!((acc.kind == JV_INT || acc.kind == JV_BOOL || af) &&
			  (item.kind == JV_INT || item.kind == JV_BOOL || bf)))
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: unsupported operand type(s) for +: '%s' and '%s'",
							  jv_type_name(acc), jv_type_name(item));
		if (af || bf)
		{
			double		x = af ? acc.u.f : (double) (acc.kind == JV_INT ? acc.u.i : acc.u.b);
			double		y = bf ? item.u.f : (double) (item.kind == JV_INT ? item.u.i : item.u.b);

			r = jv_float(x + y);
		}
		else
		{
			int64_t		x = acc.kind == JV_INT ? acc.u.i : acc.u.b;
			int64_t		y = item.kind == JV_INT ? item.u.i : item.u.b;
			int64_t		z;

			if (__builtin_add_overflow(x, y, &z))
				return jinja_fail(c, LLM_ERR_LIMIT, "chat template arithmetic overflowed 64-bit integers");
			r = jv_int(z);
		}
		acc = r;
	}
	*out = acc;
	return LLM_OK;
}

/*
 * A lazy (generator) filter failed: hand back a generator that raises the
 * error when consumed, holding whatever the filter produced before.
 */
static llm_status
defer_error(jinja_ctx *c, llm_status st, jvalue *out)
{
	jinja_list *l;
	llm_error  *saved = jinja_alloc(c->arena, sizeof(llm_error));

	if (saved == NULL)
		return jinja_nomem(c);
	*saved = *c->err;
	saved->status = st;
	if (out->kind == JV_LIST && out->u.list->flavor == JL_ITER)
		l = out->u.list;
	else if ((l = jinja_list_new(c, 0, JL_ITER)) == NULL)
		return jinja_nomem(c);
	l->deferred = saved;
	*out = jv_list(l);
	return LLM_OK;
}

static llm_status
f_format(jinja_ctx *c, jvalue v, const jinja_args *a, jvalue *out)
{
	jstr		s;
	jvalue		fmt,
				args;
	llm_status	st;

	/* jinja2: soft_str(value) % (kwargs or args) */
	if (a->npos > 0 && a->nkw > 0)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: can't handle positional and keyword arguments at the same time");
	if ((st = str_arg(c, v, &s)) != LLM_OK)
		return st;
	fmt = jv_str(s);
	fmt.markup = v.kind == JV_STR && v.markup;
	if (a->nkw > 0)
	{
		jinja_dict *d = jinja_dict_new(c, a->nkw);

		if (d == NULL)
			return jinja_nomem(c);
		for (size_t k = 0; k < a->nkw; k++)
			if ((st = jinja_dict_set(c, d, jv_str(a->kwnames[k]), a->kwvals[k])) != LLM_OK)
				return st;
		args = jv_dict(d);
	}
	else
	{
		jinja_list *t = jinja_list_new(c, a->npos, JL_TUPLE);

		if (t == NULL)
			return jinja_nomem(c);
		for (size_t k = 0; k < a->npos; k++)
			t->items[k] = a->pos[k];
		args = jv_list(t);
	}
	return jinja_percent_format(c, fmt, args, out);
}

static const struct
{
	const char *name;
	filter_fn	fn;				/* NULL: a jinja2 filter we do not implement */
	bool		lazy;			/* a generator in jinja2: errors wait for use */
}			filters[] = {
	{"abs", f_abs, false},
	{"attr", f_attr, false},
	{"batch", NULL, false},
	{"capitalize", f_capitalize, false},
	{"center", NULL, false},
	{"count", f_length, false},
	{"d", f_default, false},
	{"default", f_default, false},
	{"dictsort", NULL, false},
	{"e", f_escape, false},
	{"escape", f_escape, false},
	{"filesizeformat", NULL, false},
	{"first", f_first, false},
	{"float", f_float, false},
	{"forceescape", f_forceescape, false},
	{"format", f_format, false},
	{"groupby", NULL, false},
	{"indent", f_indent, false},
	{"int", f_int, false},
	{"items", f_items, true},
	{"join", f_join, false},
	{"last", f_last, false},
	{"length", f_length, false},
	{"list", f_list, false},
	{"lower", f_lower, false},
	{"map", f_map, true},
	{"max", NULL, false},
	{"min", NULL, false},
	{"pprint", NULL, false},
	{"random", NULL, false},
	{"reject", f_reject, true},
	{"rejectattr", f_rejectattr, true},
	{"replace", f_replace, false},
	{"reverse", f_reverse, false},
	{"round", NULL, false},
	{"safe", f_safe, false},
	{"select", f_select, true},
	{"selectattr", f_selectattr, true},
	{"slice", NULL, false},
	{"sort", NULL, false},
	{"string", f_string, false},
	{"striptags", NULL, false},
	{"sum", f_sum, false},
	{"title", f_title, false},
	{"tojson", f_tojson, false},
	{"trim", f_trim, false},
	{"truncate", NULL, false},
	{"unique", f_unique, true},
	{"upper", f_upper, false},
	{"urlencode", NULL, false},
	{"urlize", NULL, false},
	{"wordcount", NULL, false},
	{"wordwrap", NULL, false},
	{"xmlattr", NULL, false},
};

bool
jinja_filter_known(jstr name)
{
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (jstr_eq_c(name, filters[i].name))
			return true;
	return false;
}

llm_status
jinja_apply_filter(jinja_ctx *c, jstr name, jvalue operand, const jinja_args *args, jvalue *out)
{
	static const jinja_args none = {NULL, 0, NULL, NULL, 0};

	if (args == NULL)
		args = &none;
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (jstr_eq_c(name, filters[i].name))
		{
			llm_status	st;

			if (filters[i].fn == NULL)
				return unsupported(c, "filter", name);
			if ((st = jinja_charge(c, 1)) != LLM_OK)
				return st;
			out->kind = JV_UNDEF;
			st = filters[i].fn(c, operand, args, out);
			if (st != LLM_OK && filters[i].lazy &&
				st != LLM_ERR_LIMIT && st != LLM_ERR_NOMEM && st != LLM_ERR_CANCELLED)
				return defer_error(c, st, out);
			return st;
		}
	return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: no filter named '%.*s'",
					  (int) (name.n > 60 ? 60 : name.n), name.p);
}

/* ---------- tests ---------- */

static const char *const test_names[] = {
	"odd", "even", "divisibleby", "defined", "undefined", "filter", "test",
	"none", "boolean", "false", "true", "integer", "float", "lower", "upper",
	"string", "mapping", "number", "sequence", "iterable", "callable",
	"sameas", "escaped", "in", "==", "eq", "equalto", "!=", "ne", ">", "gt",
	"greaterthan", "ge", ">=", "<", "lt", "lessthan", "<=", "le",
};

bool
jinja_test_known(jstr name)
{
	for (size_t i = 0; i < sizeof(test_names) / sizeof(test_names[0]); i++)
		if (jstr_eq_c(name, test_names[i]))
			return true;
	return false;
}

static llm_status
test_arg(jinja_ctx *c, const char *name, const jinja_args *a, const jvalue **arg)
{
	static const char *const names[] = {"other"};
	const jvalue *slots[1];
	llm_status	st;

	if ((st = bind_args(c, name, a, names, 1, slots)) != LLM_OK)
		return st;
	if (slots[0] == NULL)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: test '%s' needs an argument", name);
	*arg = slots[0];
	return LLM_OK;
}

/* jinja2: value % divisor == want, with Python's % and == */
static llm_status
modulo_test(jinja_ctx *c, jvalue v, jvalue divisor, int64_t want, bool *out)
{
	jvalue		rem;
	llm_status	st = jinja_binop(c, JOP_MOD, v, divisor, &rem);

	if (st != LLM_OK)
		return st;
	return jv_equal(c, rem, jv_int(want), out);
}

llm_status
jinja_apply_test(jinja_ctx *c, jstr name, jvalue v, const jinja_args *a, bool *out)
{
	static const jinja_args none = {NULL, 0, NULL, NULL, 0};
	llm_status	st;
	const jvalue *arg;

#define IS(n) jstr_eq_c(name, n)
	if (a == NULL)
		a = &none;
	if (!jinja_test_known(name))
		return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: no test named '%.*s' found",
						  (int) (name.n > 60 ? 60 : name.n), name.p);
	if ((st = jinja_charge(c, 1)) != LLM_OK)
		return st;
	if (!(IS("divisibleby") || IS("sameas") || IS("in") || IS("==") || IS("eq") ||
		  IS("equalto") || IS("!=") || IS("ne") || IS(">") || IS("gt") ||
		  IS("greaterthan") || IS("ge") || IS(">=") || IS("<") || IS("lt") ||
		  IS("lessthan") || IS("<=") || IS("le")) &&
		(a->npos > 0 || a->nkw > 0))
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: test '%.*s' takes no arguments",
						  (int) name.n, name.p);
	if (IS("defined") || IS("undefined"))
	{
		*out = (v.kind != JV_UNDEF) == IS("defined");
		return LLM_OK;
	}
	if (IS("none"))
		*out = v.kind == JV_NONE;
	else if (IS("boolean"))
		*out = v.kind == JV_BOOL;
	else if (IS("false"))
		*out = v.kind == JV_BOOL && !v.u.b;
	else if (IS("true"))
		*out = v.kind == JV_BOOL && v.u.b;
	else if (IS("integer"))
		*out = v.kind == JV_INT;
	else if (IS("float"))
		*out = v.kind == JV_FLOAT;
	else if (IS("number"))
		*out = v.kind == JV_INT || v.kind == JV_FLOAT || v.kind == JV_BOOL;
	else if (IS("string"))
		*out = v.kind == JV_STR;
	else if (IS("mapping"))
		*out = v.kind == JV_DICT;
	else if (IS("iterable"))
		*out = jv_is_iterable(v);
	else if (IS("sequence"))
		*out = v.kind == JV_UNDEF || v.kind == JV_STR || v.kind == JV_DICT ||
			(v.kind == JV_LIST && JL_IS_SEQ(v.u.list->flavor));
	else if (IS("callable"))
		*out = v.kind == JV_FUNC || v.kind == JV_MACRO || v.kind == JV_METHOD ||
			v.kind == JV_UNDEF || v.kind == JV_LOOP;
	else if (IS("escaped"))
		*out = v.kind == JV_STR && v.markup;
	else if (IS("filter") || IS("test"))
	{
		/* jinja2: value in environment.filters (a dict lookup) */
		if (v.kind == JV_DICT || (v.kind == JV_LIST && JL_IS_SEQ(v.u.list->flavor) &&
								  v.u.list->flavor != JL_TUPLE))
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: unhashable type: '%s'", jv_type_name(v));
		*out = v.kind == JV_STR && (IS("filter") ? jinja_filter_known(v.u.s) : jinja_test_known(v.u.s));
	}
	else if (IS("lower") || IS("upper"))
	{
		jstr		s;

		if ((st = jv_to_str(c, v, &s)) != LLM_OK)
			return st;
		return str_is_case(c, s, IS("lower"), out);
	}
	else if (IS("odd") || IS("even"))
		return modulo_test(c, v, jv_int(2), IS("odd") ? 1 : 0, out);
	else if (IS("divisibleby"))
	{
		if ((st = test_arg(c, "divisibleby", a, &arg)) != LLM_OK)
			return st;
		return modulo_test(c, v, *arg, 0, out);
	}
	else if (IS("sameas"))
	{
		if ((st = test_arg(c, "sameas", a, &arg)) != LLM_OK)
			return st;
		/* identity: equal small values stand in for CPython's cached objects */
		if (v.kind != arg->kind)
			*out = false;
		else if (v.kind == JV_NONE || v.kind == JV_BOOL || v.kind == JV_INT || v.kind == JV_STR ||
				 v.kind == JV_UNDEF || v.kind == JV_FUNC)
			return jv_equal(c, v, *arg, out);
		else if (v.kind == JV_FLOAT)
			*out = false;		/* two float objects */
		else if (v.kind == JV_LIST)
			*out = v.u.list == arg->u.list;
		else if (v.kind == JV_LOOP)
			*out = v.u.loop == arg->u.loop;
		else if (v.kind == JV_MACRO)
			*out = v.u.macro->def == arg->u.macro->def;
		else if (v.kind == JV_METHOD)
			*out = false;		/* each attribute access makes a new bound method */
		else
			*out = v.u.dict == arg->u.dict;
	}
	else if (IS("in"))
	{
		/* "x is in seq" is "x in seq" */
		if ((st = test_arg(c, "in", a, &arg)) != LLM_OK)
			return st;
		if (arg->kind == JV_STR)
		{
			if (v.kind != JV_STR)
				return jinja_fail(c, LLM_ERR_INVALID_ARG,
								  "chat template error: 'in <string>' requires string as left operand");
			*out = jinja_find(arg->u.s, v.u.s, 0) >= 0;
			return LLM_OK;
		}
		{
			jinja_list *items;

			if (arg->kind == JV_DICT)
			{
				*out = jinja_dict_get(arg->u.dict, v) != NULL;
				return LLM_OK;
			}
			if ((st = jv_iterate(c, *arg, &items)) != LLM_OK)
				return st;
			*out = false;
			for (size_t i = 0; i < items->n && !*out; i++)
				if ((st = jv_equal(c, items->items[i], v, out)) != LLM_OK)
					return st;
		}
	}
	else
	{
		/* comparisons */
		int			cmp;

		if ((st = test_arg(c, "comparison test", a, &arg)) != LLM_OK)
			return st;
		if (IS("==") || IS("eq") || IS("equalto"))
			return jv_equal(c, v, *arg, out);
		if (IS("!=") || IS("ne"))
		{
			if ((st = jv_equal(c, v, *arg, out)) != LLM_OK)
				return st;
			*out = !*out;
			return LLM_OK;
		}
		if (v.kind == JV_UNDEF || arg->kind == JV_UNDEF)
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: comparison with an undefined value");
		if ((st = jv_compare(c, v, *arg, &cmp)) != LLM_OK)
			return st;
		if (cmp == 2)
			*out = false;
		else if (IS(">") || IS("gt") || IS("greaterthan"))
			*out = cmp > 0;
		else if (IS(">=") || IS("ge"))
			*out = cmp >= 0;
		else if (IS("<") || IS("lt") || IS("lessthan"))
			*out = cmp < 0;
		else if (IS("<=") || IS("le"))
			*out = cmp <= 0;
		else
			return unsupported(c, "test", name);
	}
#undef IS
	return LLM_OK;
}

/* ---------- methods ---------- */

static const char *const str_methods[] = {
	"strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith",
	"upper", "lower", "title", "capitalize", "replace", "find", "rfind",
	"count", "join", "splitlines", "isspace", "islower", "isupper",
	/* present in Python, not implemented here */
	"format", "format_map", "encode", "center", "ljust", "rjust", "zfill",
	"index", "rindex", "partition", "rpartition", "swapcase", "casefold",
	"isalpha", "isalnum", "isdigit", "isdecimal", "isnumeric",
	"isidentifier", "isprintable", "istitle", "isascii", "expandtabs",
	"translate", "maketrans", "removeprefix", "removesuffix",
};

static const char *const dict_methods[] = {
	"get", "items", "keys", "values",
	"copy", "fromkeys", "clear", "pop", "popitem", "setdefault", "update",
};

static const char *const list_methods[] = {
	"append", "clear", "copy", "count", "extend", "index", "insert", "pop",
	"remove", "reverse", "sort",
};

static bool
in_names(jstr name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (jstr_eq_c(name, names[i]))
			return true;
	return false;
}

#define NAMES(a) (a), (sizeof(a) / sizeof((a)[0]))

bool
jinja_has_method(jvalue self, jstr name)
{
	switch (self.kind)
	{
		case JV_STR:
			return in_names(name, NAMES(str_methods));
		case JV_DICT:
			return in_names(name, NAMES(dict_methods));
		case JV_LIST:
			return JL_IS_SEQ(self.u.list->flavor) && in_names(name, NAMES(list_methods));
		default:
			return false;
	}
}

/* mark every string in a list as Markup (Markup.split and friends) */
static void
mark_items(jvalue *v)
{
	if (v->kind == JV_LIST)
		for (size_t i = 0; i < v->u.list->n; i++)
			if (v->u.list->items[i].kind == JV_STR)
				v->u.list->items[i].markup = true;
}

static llm_status str_method_plain(jinja_ctx *c, jvalue self, jstr name,
								   const jinja_args *a, jvalue *out);

/*
 * Methods of a str, and of a Markup: those return Markup and escape
 * their string arguments (markupsafe), the rest behave as on str.
 */
static llm_status
str_method(jinja_ctx *c, jvalue self, jstr name, const jinja_args *a, jvalue *out)
{
	llm_status	st;

	if (!self.markup)
		return str_method_plain(c, self, name, a, out);
	if (jstr_eq_c(name, "join"))
	{
		jinja_list *items;
		jinja_list *escaped;

		if (a->npos != 1 || a->nkw != 0)
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: join() takes one argument");
		if ((st = jv_iterate(c, a->pos[0], &items)) != LLM_OK)
			return st;
		escaped = jinja_list_new(c, items->n, JL_LIST);
		if (escaped == NULL)
			return jinja_nomem(c);
		for (size_t i = 0; i < items->n; i++)
			if ((st = jinja_escape(c, items->items[i], &escaped->items[i])) != LLM_OK)
				return st;
		{
			jinja_args	ea = *a;
			jvalue		arg = jv_list(escaped);

			ea.pos = &arg;
			st = str_method_plain(c, self, name, &ea, out);
		}
		return keep_markup(st, self, out);
	}
	if (jstr_eq_c(name, "replace") && a->npos >= 2 && a->nkw == 0)
	{
		jinja_args	ea = *a;
		jvalue		args[3];

		for (size_t i = 0; i < a->npos && i < 3; i++)
			args[i] = a->pos[i];
		if ((st = jinja_escape(c, args[1], &args[1])) != LLM_OK)
			return st;
		ea.pos = args;
		return keep_markup(str_method_plain(c, self, name, &ea, out), self, out);
	}
	st = str_method_plain(c, self, name, a, out);
	if (st != LLM_OK)
		return st;
	if (jstr_eq_c(name, "split") || jstr_eq_c(name, "rsplit") || jstr_eq_c(name, "splitlines"))
		mark_items(out);
	else if (jstr_eq_c(name, "strip") || jstr_eq_c(name, "lstrip") || jstr_eq_c(name, "rstrip") ||
			 jstr_eq_c(name, "upper") || jstr_eq_c(name, "lower") || jstr_eq_c(name, "title") ||
			 jstr_eq_c(name, "capitalize"))
		out->markup = true;
	return LLM_OK;
}

static llm_status
str_method_plain(jinja_ctx *c, jvalue self, jstr name, const jinja_args *a, jvalue *out)
{
	jstr		s = self.u.s;
	llm_status	st;

#define IS(n) jstr_eq_c(name, n)
	if (IS("strip") || IS("lstrip") || IS("rstrip"))
	{
		static const char *const names[] = {"chars"};
		const jvalue *slots[1];

		if ((st = bind_args(c, "strip()", a, names, 1, slots)) != LLM_OK)
			return st;
		return jinja_str_strip(c, s, slots[0], !IS("rstrip"), !IS("lstrip"), out);
	}
	if (IS("split") || IS("rsplit"))
	{
		static const char *const names[] = {"sep", "maxsplit"};
		const jvalue *slots[2];
		int64_t		maxsplit = -1;

		if ((st = bind_args(c, "split()", a, names, 2, slots)) != LLM_OK)
			return st;
		if (slots[1] && (st = need_int(c, "maxsplit", slots[1], &maxsplit)) != LLM_OK)
			return st;
		return str_split(c, s, slots[0], maxsplit, IS("rsplit"), out);
	}
	if (IS("startswith") || IS("endswith"))
	{
		static const char *const names[] = {"prefix", "start", "end"};
		const jvalue *slots[3];
		jstr		sub;
		size_t		base;
		bool		res;

		if ((st = bind_args(c, "startswith()", a, names, 3, slots)) != LLM_OK)
			return st;
		if (!slots[0])
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: startswith/endswith needs an argument");
		if ((st = sub_range(c, s, slots[1], slots[2], &sub, &base)) != LLM_OK ||
			(st = str_affix(c, sub, slots[0], IS("endswith"), &res)) != LLM_OK)
			return st;
		*out = jv_bool(res);
		return LLM_OK;
	}
	if (IS("upper") || IS("lower") || IS("title") || IS("capitalize"))
	{
		if ((st = bind_args(c, "case method", a, NULL, 0, NULL)) != LLM_OK)
			return st;
		return change_case(c, s, IS("upper") ? CASE_UPPER : IS("lower") ? CASE_LOWER :
						   IS("title") ? CASE_TITLE : CASE_CAPITALIZE, out);
	}
	if (IS("replace"))
	{
		static const char *const names[] = {"old", "new", "count"};
		const jvalue *slots[3];
		jstr		old,
					new;
		int64_t		count = -1;

		if ((st = bind_args(c, "replace()", a, names, 3, slots)) != LLM_OK)
			return st;
		if (!slots[0] || !slots[1])
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: replace() needs old and new");
		if ((st = need_str(c, "replace()", slots[0], &old)) != LLM_OK ||
			(st = need_str(c, "replace()", slots[1], &new)) != LLM_OK)
			return st;
		if (slots[2] && (st = need_int(c, "replace() count", slots[2], &count)) != LLM_OK)
			return st;
		return str_replace(c, s, old, new, count, out);
	}
	if (IS("find") || IS("rfind") || IS("count"))
	{
		static const char *const names[] = {"sub", "start", "end"};
		const jvalue *slots[3];
		jstr		sub,
					hay;
		size_t		base;

		if ((st = bind_args(c, "find()", a, names, 3, slots)) != LLM_OK)
			return st;
		if (!slots[0])
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: find()/count() needs an argument");
		if ((st = need_str(c, "find()", slots[0], &sub)) != LLM_OK ||
			(st = sub_range(c, s, slots[1], slots[2], &hay, &base)) != LLM_OK ||
			(st = jinja_charge(c, hay.n / 16)) != LLM_OK)
			return st;
		if (IS("count"))
		{
			int64_t		n = 0;

			if (sub.n == 0)
				n = (int64_t) jinja_utf8_count(hay.p, hay.n) + 1;
			else
			{
				int64_t		pos;
				size_t		from = 0;

				while ((pos = jinja_find(hay, sub, from)) >= 0)
				{
					n++;
					from = (size_t) pos + sub.n;
				}
			}
			*out = jv_int(n);
			return LLM_OK;
		}
		{
			int64_t		pos = -1;

			if (IS("find"))
				pos = jinja_find(hay, sub, 0);
			else
				for (size_t i = hay.n + 1; i > 0; i--)
					if (i - 1 + sub.n <= hay.n && memcmp(hay.p + i - 1, sub.p, sub.n) == 0)
					{
						pos = (int64_t) (i - 1);
						break;
					}
			if (pos >= 0)
				pos = (int64_t) jinja_utf8_count(s.p, base + (size_t) pos);
			*out = jv_int(pos);
			return LLM_OK;
		}
	}
	if (IS("join"))
	{
		static const char *const names[] = {"iterable"};
		const jvalue *slots[1];
		jinja_list *items;
		jinja_buf	b;

		if ((st = bind_args(c, "join()", a, names, 1, slots)) != LLM_OK)
			return st;
		if (!slots[0])
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: join() needs an argument");
		if ((st = jv_iterate(c, *slots[0], &items)) != LLM_OK)
			return st;
		jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
		for (size_t i = 0; i < items->n && st == LLM_OK; i++)
		{
			if (items->items[i].kind != JV_STR)
				st = jinja_fail(c, LLM_ERR_INVALID_ARG,
								"chat template error: sequence item %zu: expected str instance, %s found",
								i, jv_type_name(items->items[i]));
			if (st == LLM_OK && i > 0)
				st = put_bytes(c, &b, s.p, s.n);
			if (st == LLM_OK)
				st = put_bytes(c, &b, items->items[i].u.s.p, items->items[i].u.s.n);
		}
		return finish(c, &b, st, out);
	}
	if (IS("splitlines"))
	{
		static const char *const names[] = {"keepends"};
		const jvalue *slots[1];
		vec			lines = {NULL, 0, 0};

		if ((st = bind_args(c, "splitlines()", a, names, 1, slots)) != LLM_OK ||
			(st = str_splitlines(c, s, slots[0] && jv_truthy(*slots[0]), &lines)) != LLM_OK)
			return st;
		return vec_finish(c, &lines, JL_LIST, out);
	}
	if (IS("isspace"))
	{
		if ((st = bind_args(c, "isspace()", a, NULL, 0, NULL)) != LLM_OK)
			return st;
		*out = jv_bool(s.n > 0 && jinja_ws_prefix(s.p, s.n) == s.n);
		return LLM_OK;
	}
	if (IS("islower") || IS("isupper"))
	{
		bool		res;

		if ((st = bind_args(c, "islower()", a, NULL, 0, NULL)) != LLM_OK ||
			(st = str_is_case(c, s, IS("islower"), &res)) != LLM_OK)
			return st;
		*out = jv_bool(res);
		return LLM_OK;
	}
#undef IS
	return unsupported(c, "string method", name);
}

static llm_status
loop_method(jinja_ctx *c, jvalue self, jstr name, const jinja_args *a, jvalue *out)
{
	jinja_loop *l = self.u.loop;

	if (jstr_eq_c(name, "cycle"))
	{
		if (a->npos == 0)
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: no items for cycling given");
		*out = a->pos[l->index0 % a->npos];
		return LLM_OK;
	}
	/* changed(*values): true when the values differ from the last call */
	{
		jinja_list *now = jinja_list_new(c, a->npos, JL_LIST);
		bool		same = false;
		llm_status	st;

		if (now == NULL)
			return jinja_nomem(c);
		for (size_t i = 0; i < a->npos; i++)
			now->items[i] = a->pos[i];
		if (l->has_changed && (st = jv_equal(c, l->last_changed, jv_list(now), &same)) != LLM_OK)
			return st;
		l->last_changed = jv_list(now);
		l->has_changed = true;
		*out = jv_bool(!same);
		return LLM_OK;
	}
}

llm_status
jinja_call_method(jinja_ctx *c, jvalue self, jstr name, const jinja_args *a, jvalue *out)
{
	llm_status	st;

	if ((st = jinja_charge(c, 1)) != LLM_OK)
		return st;
	switch (self.kind)
	{
		case JV_STR:
			return str_method(c, self, name, a, out);
		case JV_LOOP:
			return loop_method(c, self, name, a, out);
		case JV_DICT:
			if (jstr_eq_c(name, "get"))
			{
				static const char *const names[] = {"key", "default"};
				const jvalue *slots[2];
				jvalue	   *v;

				if ((st = bind_args(c, "get()", a, names, 2, slots)) != LLM_OK)
					return st;
				if (!slots[0])
					return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: get() needs a key");
				if (slots[0]->kind == JV_DICT || slots[0]->kind == JV_NS ||
					(slots[0]->kind == JV_LIST && slots[0]->u.list->flavor != JL_TUPLE))
					return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: unhashable type");
				v = jinja_dict_get(self.u.dict, *slots[0]);
				*out = v ? *v : (slots[1] ? *slots[1] : jv_none());
				return LLM_OK;
			}
			if (jstr_eq_c(name, "items") || jstr_eq_c(name, "keys") || jstr_eq_c(name, "values"))
			{
				jinja_list *l;

				if ((st = bind_args(c, "items()", a, NULL, 0, NULL)) != LLM_OK)
					return st;
				l = jinja_list_new(c, self.u.dict->n,
								   jstr_eq_c(name, "keys") ? JL_KEYS :
								   jstr_eq_c(name, "values") ? JL_VALUES : JL_ITEMS);
				if (l == NULL)
					return jinja_nomem(c);
				for (size_t i = 0; i < self.u.dict->n; i++)
				{
					if (jstr_eq_c(name, "keys"))
						l->items[i] = self.u.dict->keys[i];
					else if (jstr_eq_c(name, "values"))
						l->items[i] = self.u.dict->vals[i];
					else
					{
						jinja_list *pair = jinja_list_new(c, 2, JL_TUPLE);

						if (pair == NULL)
							return jinja_nomem(c);
						pair->items[0] = self.u.dict->keys[i];
						pair->items[1] = self.u.dict->vals[i];
						l->items[i] = jv_list(pair);
					}
				}
				*out = jv_list(l);
				return jinja_charge(c, l->n);
			}
			if (in_names(name, NAMES(dict_methods)) && !jstr_eq_c(name, "copy") &&
				!jstr_eq_c(name, "fromkeys"))
				return jinja_fail(c, LLM_ERR_INVALID_ARG,
								  "chat template error: access to attribute '%.*s' of 'dict' object is unsafe",
								  (int) name.n, name.p);
			return unsupported(c, "dict method", name);
		case JV_LIST:
			if (jstr_eq_c(name, "copy") || jstr_eq_c(name, "count") || jstr_eq_c(name, "index"))
				return unsupported(c, "list method", name);
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: access to attribute '%.*s' of 'list' object is unsafe",
							  (int) name.n, name.p);
		default:
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: '%s' object has no attribute '%.*s'",
							  jv_type_name(self), (int) name.n, name.p);
	}
}

/* ---------- global functions ---------- */

bool
jinja_lookup_global(jstr name, jvalue *out)
{
	static const struct
	{
		const char *name;
		jinja_func	f;
	}			globals[] = {
		{"range", JF_RANGE},
		{"namespace", JF_NAMESPACE},
		{"dict", JF_DICT},
		{"lipsum", JF_LIPSUM},
		{"cycler", JF_CYCLER},
		{"joiner", JF_JOINER},
	};

	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
		if (jstr_eq_c(name, globals[i].name))
		{
			out->kind = JV_FUNC;
			out->u.func = globals[i].f;
			return true;
		}
	return false;
}

/* dict(*args, **kwargs) contents into d */
static llm_status
fill_dict(jinja_ctx *c, const char *what, jinja_dict *d, const jinja_args *a)
{
	llm_status	st;

	if (a->npos > 1)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: %s expected at most 1 positional argument", what);
	if (a->npos == 1)
	{
		jvalue		src = a->pos[0];

		if (src.kind == JV_DICT)
		{
			for (size_t i = 0; i < src.u.dict->n; i++)
				if ((st = jinja_dict_set(c, d, src.u.dict->keys[i], src.u.dict->vals[i])) != LLM_OK)
					return st;
		}
		else
		{
			jinja_list *items;

			if ((st = jv_iterate(c, src, &items)) != LLM_OK)
				return st;
			for (size_t i = 0; i < items->n; i++)
			{
				jinja_list *pair;

				if ((st = jv_iterate(c, items->items[i], &pair)) != LLM_OK)
					return st;
				if (pair->n != 2)
					return jinja_fail(c, LLM_ERR_INVALID_ARG,
									  "chat template error: dictionary update sequence element has wrong length");
				if ((st = jinja_dict_set(c, d, pair->items[0], pair->items[1])) != LLM_OK)
					return st;
			}
		}
	}
	for (size_t k = 0; k < a->nkw; k++)
		if ((st = jinja_dict_set(c, d, jv_str(a->kwnames[k]), a->kwvals[k])) != LLM_OK)
			return st;
	return LLM_OK;
}

static const char *const wday_short[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wday_long[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
static const char *const mon_short[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const mon_long[] = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"};

/*
 * strftime in the C locale (what Python's datetime.strftime gives in a
 * process that never called setlocale), for the directives templates use,
 * including glibc's "-" (no padding) and "_" (space padding) flags.
 */
static llm_status
do_strftime(jinja_ctx *c, jstr fmt, const struct tm *tm, jvalue *out)
{
	jinja_buf	b;
	llm_status	st = LLM_OK;
	size_t		i = 0;

	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	while (i < fmt.n && st == LLM_OK)
	{
		char		flag = 0;
		char		d;
		char		tmp[64];
		int			num = -1,
					width = 2;
		const char *text = NULL;

		if (fmt.p[i] != '%')
		{
			st = put_bytes(c, &b, fmt.p + i, 1);
			i++;
			continue;
		}
		i++;
		if (i < fmt.n && (fmt.p[i] == '-' || fmt.p[i] == '_' || fmt.p[i] == '0'))
			flag = fmt.p[i++];
		if (i >= fmt.n)
		{
			st = put_bytes(c, &b, "%", 1);
			break;
		}
		d = fmt.p[i++];
		switch (d)
		{
			case '%':
				text = "%";
				break;
			case 'a':
				text = wday_short[(unsigned) tm->tm_wday % 7];
				break;
			case 'A':
				text = wday_long[(unsigned) tm->tm_wday % 7];
				break;
			case 'b':
			case 'h':
				text = mon_short[(unsigned) tm->tm_mon % 12];
				break;
			case 'B':
				text = mon_long[(unsigned) tm->tm_mon % 12];
				break;
			case 'd':
				num = tm->tm_mday;
				break;
			case 'e':
				num = tm->tm_mday;
				if (!flag)
					flag = '_';
				break;
			case 'm':
				num = tm->tm_mon + 1;
				break;
			case 'y':
				num = ((tm->tm_year + 1900) % 100 + 100) % 100;
				break;
			case 'Y':
				num = tm->tm_year + 1900;
				width = 1;
				break;
			case 'H':
				num = tm->tm_hour;
				break;
			case 'I':
				num = tm->tm_hour % 12 == 0 ? 12 : tm->tm_hour % 12;
				break;
			case 'M':
				num = tm->tm_min;
				break;
			case 'S':
				num = tm->tm_sec;
				break;
			case 'p':
				text = tm->tm_hour < 12 ? "AM" : "PM";
				break;
			case 'j':
				num = tm->tm_yday + 1;
				width = 3;
				break;
			case 'w':
				num = tm->tm_wday;
				width = 1;
				break;
			default:
				jinja_buf_free(&b);
				return jinja_fail(c, LLM_ERR_UNSUPPORTED,
								  "chat template uses an unsupported feature: strftime directive %%%c", d);
		}
		if (text)
			st = put_bytes(c, &b, text, strlen(text));
		else
		{
			int			len;

			if (flag == '-')
				len = snprintf(tmp, sizeof(tmp), "%d", num);
			else if (flag == '_')
				len = snprintf(tmp, sizeof(tmp), "%*d", width, num);
			else
				len = snprintf(tmp, sizeof(tmp), "%0*d", width, num);
			st = put_bytes(c, &b, tmp, (size_t) len);
		}
	}
	return finish(c, &b, st, out);
}

llm_status
jinja_call_func(jinja_ctx *c, jinja_func f, const jinja_args *a, jvalue *out)
{
	llm_status	st;

	if ((st = jinja_charge(c, 1)) != LLM_OK)
		return st;
	switch (f)
	{
		case JF_RAISE_EXCEPTION:
			{
				jstr		msg = {"", 0};

				if (a->npos > 0 && (st = jv_to_str(c, a->pos[0], &msg)) != LLM_OK)
					return st;
				llm_error_set(c->err, LLM_ERR_INVALID_ARG, "%.*s",
							  (int) (msg.n > LLM_ERROR_MSG_LEN ? LLM_ERROR_MSG_LEN : msg.n), msg.p);
				/* An empty message (or one starting with NUL) still says what happened. */
				if (c->err != NULL && c->err->msg[0] == '\0')
					llm_error_set(c->err, LLM_ERR_INVALID_ARG,
								  "the chat template raised an error without a message");
				llm_error_detail(c->err, "raised by the model's chat template");
				return LLM_ERR_INVALID_ARG;
			}
		case JF_STRFTIME_NOW:
			{
				jstr		fmt = {"", 0};

				if (a->npos != 1 || a->nkw != 0)
					return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: strftime_now takes one argument");
				if ((st = need_str(c, "strftime_now", &a->pos[0], &fmt)) != LLM_OK)
					return st;
				return do_strftime(c, fmt, c->now, out);
			}
		case JF_NAMESPACE:
		case JF_DICT:
			{
				jinja_dict *d = jinja_dict_new(c, a->nkw + 4);

				if (d == NULL)
					return jinja_nomem(c);
				if ((st = fill_dict(c, f == JF_DICT ? "dict" : "namespace", d, a)) != LLM_OK)
					return st;
				out->kind = f == JF_DICT ? JV_DICT : JV_NS;
				out->u.dict = d;
				return LLM_OK;
			}
		case JF_RANGE:
			{
				int64_t		start = 0,
							stop,
							step = 1;
				int64_t		count;
				jinja_list *l;

				if (a->nkw > 0 || a->npos < 1 || a->npos > 3)
					return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: range expects 1 to 3 integer arguments");
				for (size_t i = 0; i < a->npos; i++)
					if (a->pos[i].kind != JV_INT && a->pos[i].kind != JV_BOOL)
						return jinja_fail(c, LLM_ERR_INVALID_ARG,
										  "chat template error: '%s' object cannot be interpreted as an integer",
										  jv_type_name(a->pos[i]));
#define IV(k) (a->pos[k].kind == JV_INT ? a->pos[k].u.i : (int64_t) a->pos[k].u.b)
				if (a->npos == 1)
					stop = IV(0);
				else
				{
					start = IV(0);
					stop = IV(1);
					if (a->npos == 3)
						step = IV(2);
				}
#undef IV
				if (step == 0)
					return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: range() arg 3 must not be zero");
				if (step > 0)
					count = start < stop ? (int64_t) (((double) stop - (double) start - 1) / (double) step) + 1 : 0;
				else
					count = start > stop ? (int64_t) (((double) start - (double) stop - 1) / (double) -step) + 1 : 0;
				if (count > JINJA_MAX_RANGE)
					return jinja_fail(c, LLM_ERR_LIMIT,
									  "chat template range is too big (more than %d items)", JINJA_MAX_RANGE);
				/* recount exactly now that the size is known to be small */
				count = 0;
				for (int64_t v = start; step > 0 ? v < stop : v > stop; v += step)
				{
					count++;
					if (step > 0 ? v > INT64_MAX - step : v < INT64_MIN - step)
						break;
				}
				l = jinja_list_new(c, (size_t) count, JL_LIST);
				if (l == NULL)
					return jinja_nomem(c);
				for (int64_t k = 0; k < count; k++)
					l->items[k] = jv_int(start + k * step);
				*out = jv_list(l);
				return jinja_charge(c, (uint64_t) count);
			}
		case JF_LIPSUM:
			return unsupported(c, "function", JSTR_LIT("lipsum"));
		case JF_CYCLER:
			return unsupported(c, "function", JSTR_LIT("cycler"));
		case JF_JOINER:
			return unsupported(c, "function", JSTR_LIT("joiner"));
	}
	return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: unknown function");
}

/* ---------- printf-style formatting: str % args ---------- */

/* Python's PyMapping_Check for our values: has __getitem__, not a str/tuple */
static bool
percent_mapping(jvalue v)
{
	return v.kind == JV_DICT || v.kind == JV_UNDEF ||
		(v.kind == JV_LIST && v.u.list->flavor == JL_LIST);
}

static llm_status
percent_type_error(jinja_ctx *c, char conv, const char *want, jvalue v)
{
	return jinja_fail(c, LLM_ERR_INVALID_ARG,
					  "chat template error: %%%c format: %s is required, not %s",
					  conv, want, jv_type_name(v));
}

/* pad text to width codepoints (left-aligned when minus) */
static llm_status
put_padded(jinja_ctx *c, jinja_buf *b, const char *p, size_t n, int64_t width, bool minus)
{
	size_t		len = jinja_utf8_count(p, n);
	llm_status	st = LLM_OK;

	if (!minus)
		for (int64_t k = (int64_t) len; k < width && st == LLM_OK; k++)
			st = put_bytes(c, b, " ", 1);
	if (st == LLM_OK)
		st = put_bytes(c, b, p, n);
	if (minus)
		for (int64_t k = (int64_t) len; k < width && st == LLM_OK; k++)
			st = put_bytes(c, b, " ", 1);
	return st;
}

/*
 * fmt % args with Python's semantics (%s %r %d %i %u %o %x %X %e %E %f
 * %F %g %G %c %%, flags "-+ #0", width and precision including "*",
 * %(key)s with a mapping).  A Markup format string escapes what %s and %r
 * insert and gives Markup.
 */
llm_status
jinja_percent_format(jinja_ctx *c, jvalue fmtv, jvalue args, jvalue *out)
{
	jstr		fmt = fmtv.u.s;
	const jvalue *arglist;
	size_t		nargs,
				argidx = 0;
	bool		mapping = false;
	jinja_buf	b;
	llm_status	st = LLM_OK;
	size_t		i = 0;
	jvalue		single = args;

	if (args.kind == JV_LIST && args.u.list->flavor == JL_TUPLE)
	{
		arglist = args.u.list->items;
		nargs = args.u.list->n;
	}
	else
	{
		mapping = percent_mapping(args);
		arglist = &single;
		nargs = 1;
	}
	jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
	while (i < fmt.n && st == LLM_OK)
	{
		char		flags[8];
		int			nflags = 0;
		bool		minus = false,
					plus = false,
					space = false,
					alt = false,
					zero = false;
		int64_t		width = -1,
					prec = -1;
		char		conv;
		jvalue		arg;
		bool		have_arg = false;
		size_t		start = i;

		if (fmt.p[i] != '%')
		{
			while (i < fmt.n && fmt.p[i] != '%')
				i++;
			st = put_bytes(c, &b, fmt.p + start, i - start);
			continue;
		}
		i++;
		/* only "%%" right away is a literal percent (CPython) */
		if (i < fmt.n && fmt.p[i] == '%')
		{
			i++;
			st = put_bytes(c, &b, "%", 1);
			continue;
		}
		if (i < fmt.n && fmt.p[i] == '(')
		{
			/* %(key)s: parentheses may nest */
			int			level = 1;
			size_t		kstart = ++i;
			jvalue		key;

			while (i < fmt.n && level > 0)
			{
				if (fmt.p[i] == '(')
					level++;
				else if (fmt.p[i] == ')')
					level--;
				i++;
			}
			if (level > 0)
			{
				st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: incomplete format key");
				break;
			}
			if (!mapping)
			{
				st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: format requires a mapping");
				break;
			}
			key = jv_str(jstr_make(fmt.p + kstart, i - 1 - kstart));
			if (args.kind == JV_DICT)
			{
				jvalue	   *slot = jinja_dict_get(args.u.dict, key);

				if (slot == NULL)
				{
					st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: KeyError: '%.*s'",
									(int) key.u.s.n, key.u.s.p);
					break;
				}
				arg = *slot;
			}
			else if (args.kind == JV_UNDEF)
			{
				st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: '%.*s' is undefined",
								(int) args.u.s.n, args.u.s.p);
				break;
			}
			else
			{
				st = jinja_fail(c, LLM_ERR_INVALID_ARG,
								"chat template error: list indices must be integers or slices, not str");
				break;
			}
			have_arg = true;
			argidx = nargs + 1;	/* a mapping format uses no positional args */
		}
		while (i < fmt.n && strchr("-+ #0", fmt.p[i]) != NULL && fmt.p[i] != '\0')
		{
			switch (fmt.p[i])
			{
				case '-':
					minus = true;
					break;
				case '+':
					plus = true;
					break;
				case ' ':
					space = true;
					break;
				case '#':
					alt = true;
					break;
				default:
					zero = true;
					break;
			}
			i++;
		}
		for (int pass = 0; pass < 2 && st == LLM_OK; pass++)
		{
			int64_t    *target = pass == 0 ? &width : &prec;

			if (pass == 1)
			{
				if (i < fmt.n && fmt.p[i] == '.')
				{
					i++;
					prec = 0;
				}
				else
					break;
			}
			if (i < fmt.n && fmt.p[i] == '*')
			{
				int64_t		v = 0;

				i++;
				if (fmtv.markup)
				{
					/* markupsafe's argument wrapper is no int */
					st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: * wants int");
					break;
				}
				if (argidx >= nargs)
				{
					st = jinja_fail(c, LLM_ERR_INVALID_ARG,
									"chat template error: not enough arguments for format string");
					break;
				}
				if ((st = need_int(c, "* width", &arglist[argidx++], &v)) != LLM_OK)
					break;
				if (v == INT64_MIN || v > JINJA_MAX_OUTPUT_BYTES || v < -JINJA_MAX_OUTPUT_BYTES)
				{
					st = jinja_fail(c, LLM_ERR_LIMIT, "chat template format width is too large");
					break;
				}
				if (pass == 0 && v < 0)
				{
					minus = true;
					v = -v;
				}
				*target = v < 0 ? 0 : v;
			}
			else
			{
				while (i < fmt.n && fmt.p[i] >= '0' && fmt.p[i] <= '9')
				{
					if (*target < 0)
						*target = 0;
					*target = *target * 10 + (fmt.p[i] - '0');
					if (*target > JINJA_MAX_OUTPUT_BYTES)
						*target = JINJA_MAX_OUTPUT_BYTES + 1;
					i++;
				}
			}
		}
		if (st != LLM_OK)
			break;
		if (width > JINJA_MAX_OUTPUT_BYTES || prec > JINJA_MAX_OUTPUT_BYTES)
		{
			st = jinja_fail(c, LLM_ERR_LIMIT, "chat template format width is too large");
			break;
		}
		while (i < fmt.n && (fmt.p[i] == 'h' || fmt.p[i] == 'l' || fmt.p[i] == 'L'))
			i++;
		if (i >= fmt.n)
		{
			st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: incomplete format");
			break;
		}
		conv = fmt.p[i++];
		if (!have_arg)
		{
			if (argidx >= nargs)
			{
				st = jinja_fail(c, LLM_ERR_INVALID_ARG,
								"chat template error: not enough arguments for format string");
				break;
			}
			arg = arglist[argidx++];
		}
		nflags = 0;
		if (minus)
			flags[nflags++] = '-';
		if (plus)
			flags[nflags++] = '+';
		if (space)
			flags[nflags++] = ' ';
		if (alt)
			flags[nflags++] = '#';
		if (zero)
			flags[nflags++] = '0';
		flags[nflags] = '\0';

		switch (conv)
		{
			case 's':
			case 'r':
				{
					jinja_buf	tmp;
					jvalue		text;

					jinja_buf_init(&tmp, JINJA_MAX_OUTPUT_BYTES);
					st = conv == 's' ? jv_write_str(c, arg, &tmp) : jv_repr(c, arg, &tmp, 0);
					if (st == LLM_OK)
						st = jinja_make_str(c, tmp.p ? tmp.p : "", tmp.n, &text);
					jinja_buf_free(&tmp);
					if (st == LLM_OK && fmtv.markup && !(conv == 's' && arg.kind == JV_STR && arg.markup))
						st = html_escape(c, text.u.s, &text);
					if (st == LLM_OK)
					{
						size_t		n = text.u.s.n;

						if (prec >= 0)
						{
							size_t		k = 0;
							int64_t		cp = 0;

							while (k < n && cp < prec)
							{
								(void) jinja_utf8_next(text.u.s.p, n, &k);
								cp++;
							}
							n = k;
						}
						st = put_padded(c, &b, text.u.s.p, n, width, minus);
					}
					break;
				}
			case 'c':
				{
					uint32_t	cp;
					char		enc[4];

					if (fmtv.markup)
					{
						st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: %%c requires int or char");
						break;
					}
					if (arg.kind == JV_STR && jinja_utf8_count(arg.u.s.p, arg.u.s.n) == 1)
					{
						size_t		k = 0;

						cp = jinja_utf8_next(arg.u.s.p, arg.u.s.n, &k);
					}
					else if (arg.kind == JV_INT || arg.kind == JV_BOOL)
					{
						int64_t		v = arg.kind == JV_INT ? arg.u.i : arg.u.b;

						if (v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
						{
							st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: %%c arg not in range(0x110000)");
							break;
						}
						cp = (uint32_t) v;
					}
					else
					{
						st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: %%c requires int or char");
						break;
					}
					st = put_padded(c, &b, enc, jinja_utf8_encode(cp, enc), width, minus);
					break;
				}
			case 'd':
			case 'i':
			case 'u':
			case 'o':
			case 'x':
			case 'X':
				{
					int64_t		v;
					uint64_t	mag;
					char		digits[80];
					char		num[200];
					const char *sign,
							   *prefix = "";
					int			nd,
								zeros = 0,
								pad,
								k = 0;

					if (arg.kind == JV_INT || arg.kind == JV_BOOL)
						v = arg.kind == JV_INT ? arg.u.i : arg.u.b;
					else if (arg.kind == JV_FLOAT && (conv == 'd' || conv == 'i' || conv == 'u'))
					{
						if (!isfinite(arg.u.f))
						{
							st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: cannot convert float to integer");
							break;
						}
						if (arg.u.f <= -9.2e18 || arg.u.f >= 9.2e18)
						{
							st = jinja_fail(c, LLM_ERR_LIMIT, "chat template arithmetic overflowed 64-bit integers");
							break;
						}
						v = (int64_t) arg.u.f;
					}
					else if (arg.kind == JV_UNDEF)
					{
						st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: '%.*s' is undefined",
										(int) arg.u.s.n, arg.u.s.p);
						break;
					}
					else
					{
						st = percent_type_error(c, conv, conv == 'd' || conv == 'i' || conv == 'u' ?
												"a real number" : "an integer", arg);
						break;
					}
					/* markupsafe's argument wrapper has __int__ but no __index__ */
					if (fmtv.markup && (conv == 'o' || conv == 'x' || conv == 'X'))
					{
						st = jinja_fail(c, LLM_ERR_INVALID_ARG,
										"chat template error: %%%c format: an integer is required", conv);
						break;
					}
					/* Python formats sign and magnitude (no two's complement) */
					mag = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
					sign = v < 0 ? "-" : plus ? "+" : space ? " " : "";
					if (conv == 'o')
						nd = snprintf(digits, sizeof(digits), "%llo", (unsigned long long) mag);
					else if (conv == 'x')
						nd = snprintf(digits, sizeof(digits), "%llx", (unsigned long long) mag);
					else if (conv == 'X')
						nd = snprintf(digits, sizeof(digits), "%llX", (unsigned long long) mag);
					else
						nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long) mag);
					if (alt)
						prefix = conv == 'o' ? "0o" : conv == 'x' ? "0x" : conv == 'X' ? "0X" : "";
					if (prec > nd)
						zeros = (int) (prec > 100 ? 100 : prec) - nd;
					pad = (int) width - (int) strlen(sign) - (int) strlen(prefix) - zeros - nd;
					if (pad < 0)
						pad = 0;
					if (pad > 100)
					{
						st = jinja_fail(c, LLM_ERR_LIMIT, "chat template number format too wide");
						break;
					}
					if (!minus && !zero)
						for (int q = 0; q < pad; q++)
							num[k++] = ' ';
					k += snprintf(num + k, sizeof(num) - (size_t) k, "%s%s", sign, prefix);
					if (!minus && zero)
						for (int q = 0; q < pad; q++)
							num[k++] = '0';
					for (int q = 0; q < zeros; q++)
						num[k++] = '0';
					memcpy(num + k, digits, (size_t) nd);
					k += nd;
					if (minus)
						for (int q = 0; q < pad; q++)
							num[k++] = ' ';
					st = put_bytes(c, &b, num, (size_t) k);
					break;
				}
			case 'e':
			case 'E':
			case 'f':
			case 'F':
			case 'g':
			case 'G':
				{
					double		f;
					char		spec[48];
					char		num[512];
					int			len;

					if (arg.kind == JV_FLOAT)
						f = arg.u.f;
					else if (arg.kind == JV_INT || arg.kind == JV_BOOL)
						f = (double) (arg.kind == JV_INT ? arg.u.i : arg.u.b);
					else if (arg.kind == JV_UNDEF)
					{
						st = jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: '%.*s' is undefined",
										(int) arg.u.s.n, arg.u.s.p);
						break;
					}
					else
					{
						st = jinja_fail(c, LLM_ERR_INVALID_ARG,
										"chat template error: must be real number, not %s", jv_type_name(arg));
						break;
					}
					if (prec > 100 || width > 100)
					{
						st = jinja_fail(c, LLM_ERR_LIMIT, "chat template number format too wide");
						break;
					}
					/* C's printf agrees with Python's %-formatting of floats */
					if (zero && !minus && width > 0)
						snprintf(spec, sizeof(spec), "%%%s%lld.%lld%c", flags, (long long) width,
								 (long long) (prec >= 0 ? prec : 6), conv);
					else if (prec >= 0)
						snprintf(spec, sizeof(spec), "%%%s.%lld%c", flags, (long long) prec, conv);
					else
						snprintf(spec, sizeof(spec), "%%%s%c", flags, conv);
					len = snprintf(num, sizeof(num), spec, f);
					if (len < 0 || len >= (int) sizeof(num))
					{
						st = jinja_fail(c, LLM_ERR_LIMIT, "chat template number format too wide");
						break;
					}
					st = put_padded(c, &b, num, (size_t) len, width, minus);
					break;
				}
			case 'a':
				st = jinja_fail(c, LLM_ERR_UNSUPPORTED, "chat template uses an unsupported feature: %%a formatting");
				break;
			default:
				st = jinja_fail(c, LLM_ERR_INVALID_ARG,
								"chat template error: unsupported format character '%c' (0x%x) at index %zu",
								(conv >= 0x20 && conv < 0x7F) ? conv : '?', (unsigned char) conv, i - 1);
				break;
		}
	}
	if (st == LLM_OK && !mapping && argidx < nargs)
		st = jinja_fail(c, LLM_ERR_INVALID_ARG,
						"chat template error: not all arguments converted during string formatting");
	st = finish(c, &b, st, out);
	if (st == LLM_OK)
		out->markup = fmtv.markup;
	return st;
}
