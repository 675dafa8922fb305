/*
 * jinja_eval.c — runs a parsed template.
 *
 * Scoping follows what jinja2 does for these templates: "set" writes the
 * innermost scope; every for-loop iteration gets a fresh scope (so a set
 * inside a loop body neither survives to the next iteration nor leaks
 * out), if/elif do not create scopes, macros run in a scope whose parent
 * is the template's top level, and namespace() objects are shared by
 * reference (the one way to carry state out of a loop).
 *
 * Lookups that miss produce Undefined (prints as "", iterates as empty,
 * is false), and using an Undefined in arithmetic, attribute access or a
 * call is an error, as in jinja2's default Undefined.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jinja.h"

static llm_status eval(jinja_ctx *c, const jinja_node *n, jvalue *out);
static llm_status exec_list(jinja_ctx *c, const jinja_nodelist *body);

/* ---------- errors ---------- */

static llm_status
undefined_error(jinja_ctx *c, jvalue v)
{
	if (v.u.s.n)
		return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: '%.*s' is undefined",
						  (int) (v.u.s.n > 80 ? 80 : v.u.s.n), v.u.s.p);
	return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: a value is undefined");
}

static llm_status
type_error(jinja_ctx *c, const char *what, jvalue a, jvalue b)
{
	return jinja_fail(c, LLM_ERR_INVALID_ARG,
					  "chat template error: unsupported operand type(s) for %s: '%s' and '%s'",
					  what, jv_type_name(a), jv_type_name(b));
}

/* ---------- scopes ---------- */

static jinja_scope *
scope_new(jinja_ctx *c, jinja_scope *parent)
{
	jinja_scope *s = jinja_alloc(c->arena, sizeof(jinja_scope));

	if (s)
		s->parent = parent;
	return s;
}

llm_status
jinja_scope_set(jinja_ctx *c, jinja_scope *s, jstr name, jvalue v)
{
	for (size_t i = 0; i < s->n; i++)
		if (jstr_eq(s->names[i], name))
		{
			s->vals[i] = v;
			return LLM_OK;
		}
	if (s->n == s->cap)
	{
		size_t		ncap = s->cap ? s->cap * 2 : 8;
		jstr	   *nn = jinja_alloc_array(c->arena, ncap, sizeof(jstr));
		jvalue	   *nv = jinja_alloc_array(c->arena, ncap, sizeof(jvalue));

		if (nn == NULL || nv == NULL)
			return jinja_nomem(c);
		if (s->n)
		{
			memcpy(nn, s->names, s->n * sizeof(jstr));
			memcpy(nv, s->vals, s->n * sizeof(jvalue));
		}
		s->names = nn;
		s->vals = nv;
		s->cap = ncap;
	}
	s->names[s->n] = name;
	s->vals[s->n] = v;
	s->n++;
	return jinja_charge(c, s->n / 8);
}

static jvalue
lookup(jinja_ctx *c, jstr name)
{
	jvalue		v;

	for (jinja_scope *s = c->scope; s; s = s->parent)
		for (size_t i = s->n; i > 0; i--)
			if (jstr_eq(s->names[i - 1], name))
				return s->vals[i - 1];
	if (jinja_lookup_global(name, &v))
		return v;
	return jv_undef(name);
}

/* ---------- output ---------- */

static llm_status
emit(jinja_ctx *c, const char *s, size_t n)
{
	if (!jinja_buf_put(c->out, s, n))
	{
		if (c->out->over_limit)
			return jinja_fail(c, LLM_ERR_LIMIT,
							  "chat template output is larger than %d bytes", JINJA_MAX_OUTPUT_BYTES);
		return jinja_nomem(c);
	}
	return jinja_charge(c, 1 + n / 32);
}

static jinja_scope *scope_new(jinja_ctx *c, jinja_scope *parent);

/*
 * Run body with output captured into a new string.  The body runs in a
 * scope of its own, as jinja2 renders set-block and filter-block bodies
 * in an inner frame (their sets do not leak out).
 */
static llm_status
capture(jinja_ctx *c, const jinja_nodelist *body, jvalue *out)
{
	jinja_buf	buf;
	jinja_buf  *saved = c->out;
	jinja_scope *saved_scope = c->scope;
	jinja_scope *inner = scope_new(c, c->scope);
	llm_status	st;

	if (inner == NULL)
		return jinja_nomem(c);
	jinja_buf_init(&buf, JINJA_MAX_OUTPUT_BYTES);
	c->out = &buf;
	c->scope = inner;
	st = exec_list(c, body);
	c->scope = saved_scope;
	c->out = saved;
	if (st == LLM_OK)
		st = jinja_make_str(c, buf.p ? buf.p : "", buf.n, out);
	jinja_buf_free(&buf);
	return st;
}

/* ---------- attribute and item access ---------- */

static llm_status
new_method(jinja_ctx *c, jvalue self, jstr name, jvalue *out)
{
	jinja_method *m = jinja_alloc(c->arena, sizeof(jinja_method));

	if (m == NULL)
		return jinja_nomem(c);
	m->self = self;
	m->name = name;
	out->kind = JV_METHOD;
	out->u.method = m;
	return LLM_OK;
}

static llm_status
loop_attr(jinja_ctx *c, jvalue lv, jstr name, jvalue *out)
{
	jinja_loop *l = lv.u.loop;
	size_t		n = l->items->n;

	if (jstr_eq_c(name, "index0"))
		*out = jv_int((int64_t) l->index0);
	else if (jstr_eq_c(name, "index"))
		*out = jv_int((int64_t) l->index0 + 1);
	else if (jstr_eq_c(name, "revindex"))
		*out = jv_int((int64_t) (n - l->index0));
	else if (jstr_eq_c(name, "revindex0"))
		*out = jv_int((int64_t) (n - l->index0 - 1));
	else if (jstr_eq_c(name, "first"))
		*out = jv_bool(l->index0 == 0);
	else if (jstr_eq_c(name, "last"))
		*out = jv_bool(l->index0 + 1 == n);
	else if (jstr_eq_c(name, "length"))
		*out = jv_int((int64_t) n);
	else if (jstr_eq_c(name, "depth"))
		*out = jv_int(l->depth0 + 1);
	else if (jstr_eq_c(name, "depth0"))
		*out = jv_int(l->depth0);
	else if (jstr_eq_c(name, "previtem"))
		*out = l->index0 > 0 ? l->items->items[l->index0 - 1] : jv_undef(JSTR_LIT("previtem"));
	else if (jstr_eq_c(name, "nextitem"))
		*out = l->index0 + 1 < n ? l->items->items[l->index0 + 1] : jv_undef(JSTR_LIT("nextitem"));
	else if (jstr_eq_c(name, "cycle") || jstr_eq_c(name, "changed"))
		return new_method(c, lv, name, out);
	else
		*out = jv_undef(name);
	return LLM_OK;
}

llm_status
jinja_getattr(jinja_ctx *c, jvalue obj, jstr name, jvalue *out)
{
	jvalue	   *slot;

	switch (obj.kind)
	{
		case JV_UNDEF:
			return undefined_error(c, obj);
		case JV_DICT:
			/* Python getattr first: dict methods win over keys */
			if (jinja_has_method(obj, name))
				return new_method(c, obj, name, out);
			slot = jinja_dict_get_str(obj.u.dict, name);
			*out = slot ? *slot : jv_undef(name);
			return LLM_OK;
		case JV_NS:
			slot = jinja_dict_get_str(obj.u.dict, name);
			*out = slot ? *slot : jv_undef(name);
			return LLM_OK;
		case JV_LOOP:
			return loop_attr(c, obj, name, out);
		default:
			if (jinja_has_method(obj, name))
				return new_method(c, obj, name, out);
			*out = jv_undef(name);
			return LLM_OK;
	}
}

/* Codepoint offsets of s (n+1 entries), or NULL for pure ASCII. */
static llm_status
codepoint_offsets(jinja_ctx *c, jstr s, size_t **offs, size_t *count)
{
	bool		ascii = true;
	size_t	   *o;
	size_t		k = 0,
				i = 0;

	for (size_t j = 0; j < s.n; j++)
		if ((unsigned char) s.p[j] >= 0x80)
		{
			ascii = false;
			break;
		}
	if (ascii)
	{
		*offs = NULL;
		*count = s.n;
		return LLM_OK;
	}
	*count = jinja_utf8_count(s.p, s.n);
	o = jinja_alloc_array(c->arena, *count + 1, sizeof(size_t));
	if (o == NULL)
		return jinja_nomem(c);
	while (i < s.n)
	{
		o[k++] = i;
		(void) jinja_utf8_next(s.p, s.n, &i);
	}
	o[k] = s.n;
	*offs = o;
	return jinja_charge(c, *count / 8);
}

static bool
as_index(jvalue v, int64_t *out)
{
	if (v.kind == JV_INT)
		*out = v.u.i;
	else if (v.kind == JV_BOOL)
		*out = v.u.b;
	else
		return false;
	return true;
}

llm_status
jinja_getitem(jinja_ctx *c, jvalue obj, jvalue key, jvalue *out)
{
	int64_t		idx;

	if (obj.kind == JV_UNDEF)
		return undefined_error(c, obj);
	switch (obj.kind)
	{
		case JV_LIST:
			if (JL_IS_SEQ(obj.u.list->flavor) && as_index(key, &idx))
			{
				int64_t		n = (int64_t) obj.u.list->n;

				if (idx < 0)
					idx += n;
				*out = (idx >= 0 && idx < n) ? obj.u.list->items[idx] : jv_undef(JSTR_LIT("item"));
				return LLM_OK;
			}
			break;
		case JV_STR:
			if (as_index(key, &idx))
			{
				size_t	   *offs;
				size_t		count;
				llm_status	st = codepoint_offsets(c, obj.u.s, &offs, &count);

				if (st != LLM_OK)
					return st;
				if (idx < 0)
					idx += (int64_t) count;
				if (idx < 0 || idx >= (int64_t) count)
				{
					*out = jv_undef(JSTR_LIT("item"));
					return LLM_OK;
				}
				if (offs == NULL)
					*out = jv_str(jstr_make(obj.u.s.p + idx, 1));
				else
					*out = jv_str(jstr_make(obj.u.s.p + offs[idx], offs[idx + 1] - offs[idx]));
				out->markup = obj.markup;	/* Markup.__getitem__ */
				return LLM_OK;
			}
			break;
		case JV_DICT:
			if (key.kind != JV_DICT && key.kind != JV_NS &&
				!(key.kind == JV_LIST && key.u.list->flavor != JL_TUPLE))
			{
				jvalue	   *slot = jinja_dict_get(obj.u.dict, key);

				if (slot)
				{
					*out = *slot;
					return LLM_OK;
				}
			}
			break;
		default:
			break;
	}
	/* jinja2: a failed item lookup with a string falls back to getattr */
	if (key.kind == JV_STR)
		return jinja_getattr(c, obj, key.u.s, out);
	*out = jv_undef(JSTR_LIT("item"));
	return LLM_OK;
}

/* Python slice.indices() */
static void
slice_indices(int64_t len, bool has_start, int64_t start, bool has_stop, int64_t stop,
			  int64_t step, int64_t *o_start, int64_t *o_stop)
{
	int64_t		lower = step < 0 ? -1 : 0;
	int64_t		upper = step < 0 ? len - 1 : len;

	if (!has_start)
		start = step < 0 ? upper : lower;
	else
	{
		if (start < 0)
		{
			start += len;
			if (start < lower)
				start = lower;
		}
		else if (start > upper)
			start = upper;
	}
	if (!has_stop)
		stop = step < 0 ? lower : upper;
	else
	{
		if (stop < 0)
		{
			stop += len;
			if (stop < lower)
				stop = lower;
		}
		else if (stop > upper)
			stop = upper;
	}
	*o_start = start;
	*o_stop = stop;
}

static llm_status
get_slice(jinja_ctx *c, jvalue obj, const jinja_node *sl, jvalue *out)
{
	jvalue		v[3];
	bool		has[3];
	int64_t		iv[3] = {0, 0, 1};
	const jinja_node *parts[3] = {sl->a, sl->b, sl->c};
	llm_status	st;
	int64_t		len,
				start,
				stop,
				step;
	size_t		count;

	for (int k = 0; k < 3; k++)
	{
		has[k] = false;
		if (parts[k] == NULL)
			continue;
		if ((st = eval(c, parts[k], &v[k])) != LLM_OK)
			return st;
		if (v[k].kind == JV_NONE)
			continue;
		if (!as_index(v[k], &iv[k]))
		{
			if (obj.kind == JV_UNDEF)
				return undefined_error(c, obj);
			if (c->const_mode)
			{
				*out = jv_undef(JSTR_LIT("slice"));
				return LLM_OK;
			}
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: slice indices must be integers or None");
		}
		has[k] = true;
	}
	/*
	 * jinja2 compiles a slice to Python's obj[a:b:c] directly (not through
	 * the sandbox's getitem), so slicing anything but a str, list or tuple
	 * is an error rather than Undefined.
	 */
	if (obj.kind == JV_UNDEF)
		return undefined_error(c, obj);
	if (c->const_mode && obj.kind != JV_STR && !(obj.kind == JV_LIST && JL_IS_SEQ(obj.u.list->flavor)))
	{
		/* as_const() goes through getitem, where failure is Undefined */
		*out = jv_undef(JSTR_LIT("slice"));
		return LLM_OK;
	}
	if (obj.kind != JV_STR && !(obj.kind == JV_LIST && JL_IS_SEQ(obj.u.list->flavor)))
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  obj.kind == JV_DICT ? "chat template error: unhashable type: 'slice'"
						  : "chat template error: '%s' object is not subscriptable",
						  jv_type_name(obj));
	step = has[2] ? iv[2] : 1;
	if (step == 0)
		return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: slice step cannot be zero");
	if (step == INT64_MIN)
		step = -INT64_MAX;

	if (obj.kind == JV_LIST && JL_IS_SEQ(obj.u.list->flavor))
	{
		const jinja_list *src = obj.u.list;
		jinja_list *l;

		len = (int64_t) src->n;
		slice_indices(len, has[0], iv[0], has[1], iv[1], step, &start, &stop);
		count = 0;
		for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
		{
			count++;
			if (step > 0 ? i > INT64_MAX - step : i < INT64_MIN - step)
				break;
		}
		l = jinja_list_new(c, count, src->flavor);
		if (l == NULL)
			return jinja_nomem(c);
		for (size_t k = 0; k < count; k++)
			l->items[k] = src->items[start + (int64_t) k * step];
		*out = jv_list(l);
		return jinja_charge(c, count);
	}
	if (obj.kind == JV_STR)
	{
		size_t	   *offs;
		jinja_buf	b;

		if ((st = codepoint_offsets(c, obj.u.s, &offs, &count)) != LLM_OK)
			return st;
		len = (int64_t) count;
		slice_indices(len, has[0], iv[0], has[1], iv[1], step, &start, &stop);
		if (step == 1)
		{
			size_t		from,
						to;

			if (stop < start)
				stop = start;
			from = offs ? offs[start] : (size_t) start;
			to = offs ? offs[stop] : (size_t) stop;
			*out = jv_str(jstr_make(obj.u.s.p + from, to - from));
			out->markup = obj.markup;
			return LLM_OK;
		}
		jinja_buf_init(&b, JINJA_MAX_OUTPUT_BYTES);
		for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
		{
			size_t		from = offs ? offs[i] : (size_t) i;
			size_t		to = offs ? offs[i + 1] : (size_t) i + 1;

			if (!jinja_buf_put(&b, obj.u.s.p + from, to - from))
			{
				jinja_buf_free(&b);
				return jinja_nomem(c);
			}
			if (step > 0 ? i > INT64_MAX - step : i < INT64_MIN - step)
				break;
		}
		st = jinja_make_str(c, b.p ? b.p : "", b.n, out);
		jinja_buf_free(&b);
		out->markup = obj.markup;
		return st;
	}
	return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: object is not subscriptable");
}

/* ---------- calls ---------- */

static llm_status
eval_args(jinja_ctx *c, const jinja_node *n, jinja_args *args)
{
	llm_status	st;

	memset(args, 0, sizeof(*args));
	if (n->items.n)
	{
		args->pos = jinja_alloc_array(c->arena, n->items.n, sizeof(jvalue));
		if (args->pos == NULL)
			return jinja_nomem(c);
		for (size_t i = 0; i < n->items.n; i++)
			if ((st = eval(c, n->items.v[i], &args->pos[i])) != LLM_OK)
				return st;
		args->npos = n->items.n;
	}
	if (n->n_kw)
	{
		args->kwvals = jinja_alloc_array(c->arena, n->n_kw, sizeof(jvalue));
		if (args->kwvals == NULL)
			return jinja_nomem(c);
		for (size_t i = 0; i < n->n_kw; i++)
			if ((st = eval(c, n->values.v[i], &args->kwvals[i])) != LLM_OK)
				return st;
		args->kwnames = n->kwnames;
		args->nkw = n->n_kw;
	}
	return LLM_OK;
}

static llm_status
call_macro(jinja_ctx *c, const jinja_node *def, const jinja_args *args, jvalue *out)
{
	jinja_scope *scope;
	jinja_scope *saved_scope = c->scope;
	int			saved_loop_ctl = c->loop_ctl;
	int			saved_loop_depth = c->loop_depth;
	llm_status	st;

	if (c->macro_depth >= JINJA_MAX_MACRO_DEPTH)
		return jinja_fail(c, LLM_ERR_LIMIT, "chat template macros recurse too deeply");
	if (args->npos > def->n_targets)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: macro '%.*s' takes not more than %zu argument(s)",
						  (int) def->name.n, def->name.p, def->n_targets);
	for (size_t k = 0; k < args->nkw; k++)
	{
		bool		found = false;

		for (size_t i = 0; i < def->n_targets; i++)
			if (jstr_eq(def->targets[i], args->kwnames[k]))
				found = true;
		if (!found)
			return jinja_fail(c, LLM_ERR_UNSUPPORTED,
							  "chat template uses an unsupported feature: macro '%.*s' called with unknown keyword argument '%.*s'",
							  (int) def->name.n, def->name.p,
							  (int) args->kwnames[k].n, args->kwnames[k].p);
	}
	scope = scope_new(c, c->root);
	if (scope == NULL)
		return jinja_nomem(c);
	c->scope = scope;
	c->macro_depth++;
	st = LLM_OK;
	for (size_t i = 0; i < def->n_targets && st == LLM_OK; i++)
	{
		jvalue		v = jv_undef(def->targets[i]);
		bool		given = false;

		if (i < args->npos)
		{
			v = args->pos[i];
			given = true;
		}
		for (size_t k = 0; k < args->nkw && !given; k++)
			if (jstr_eq(def->targets[i], args->kwnames[k]))
			{
				v = args->kwvals[k];
				given = true;
			}
		if (!given && i < def->values.n && def->values.v[i] != NULL)
			st = eval(c, def->values.v[i], &v);
		if (st == LLM_OK)
			st = jinja_scope_set(c, scope, def->targets[i], v);
	}
	c->loop_depth = 0;
	c->loop_ctl = 0;
	if (st == LLM_OK)
		st = capture(c, &def->body, out);
	c->loop_ctl = saved_loop_ctl;
	c->loop_depth = saved_loop_depth;
	c->macro_depth--;
	c->scope = saved_scope;
	return st;
}

llm_status
jinja_call_value(jinja_ctx *c, jvalue callee, const jinja_args *args, jvalue *out)
{
	switch (callee.kind)
	{
		case JV_FUNC:
			return jinja_call_func(c, callee.u.func, args, out);
		case JV_MACRO:
			return call_macro(c, callee.u.macro->def, args, out);
		case JV_METHOD:
			return jinja_call_method(c, callee.u.method->self, callee.u.method->name, args, out);
		case JV_UNDEF:
			return undefined_error(c, callee);
		default:
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: '%s' object is not callable", jv_type_name(callee));
	}
}

/* Apply a filter chain whose innermost operand is missing to input. */
static llm_status
apply_filter_chain(jinja_ctx *c, const jinja_node *f, jvalue input, jvalue *out)
{
	jvalue		operand;
	jinja_args	args;
	llm_status	st;

	if (f == NULL)
	{
		*out = input;
		return LLM_OK;
	}
	if (++c->depth > JINJA_MAX_EVAL_DEPTH)
	{
		c->depth--;
		return jinja_fail(c, LLM_ERR_LIMIT, "chat template evaluation nested too deeply");
	}
	st = apply_filter_chain(c, f->a, input, &operand);
	c->depth--;
	if (st != LLM_OK)
		return st;
	if ((st = eval_args(c, f, &args)) != LLM_OK)
		return st;
	return jinja_apply_filter(c, f->name, operand, &args, out);
}

/* ---------- operators ---------- */

static bool
num_of(jvalue v, bool *is_float, int64_t *i, double *f)
{
	if (v.kind == JV_INT || v.kind == JV_BOOL)
	{
		*is_float = false;
		*i = v.kind == JV_INT ? v.u.i : (int64_t) v.u.b;
		*f = (double) *i;
		return true;
	}
	if (v.kind == JV_FLOAT)
	{
		*is_float = true;
		*f = v.u.f;
		return true;
	}
	return false;
}

static llm_status
int_overflow(jinja_ctx *c)
{
	return jinja_fail(c, LLM_ERR_LIMIT, "chat template arithmetic overflowed 64-bit integers");
}

static llm_status
repeat_seq(jinja_ctx *c, jvalue seq, int64_t times, jvalue *out)
{
	if (times < 0)
		times = 0;
	if (seq.kind == JV_STR)
	{
		size_t		total;
		char	   *buf;

		if (!llm_mul_size(seq.u.s.n, (size_t) times, &total) || total > JINJA_MAX_OUTPUT_BYTES)
			return jinja_fail(c, LLM_ERR_LIMIT, "chat template string repetition is too large");
		buf = jinja_alloc(c->arena, total + 1);
		if (buf == NULL)
			return jinja_nomem(c);
		for (int64_t k = 0; k < times; k++)
			memcpy(buf + (size_t) k * seq.u.s.n, seq.u.s.p, seq.u.s.n);
		*out = jv_str(jstr_make(buf, total));
		out->markup = seq.markup;	/* Markup.__mul__ */
		return jinja_charge(c, total / 32);
	}
	else
	{
		const jinja_list *src = seq.u.list;
		size_t		total;
		jinja_list *l;

		if (!llm_mul_size(src->n, (size_t) times, &total) || total > JINJA_MAX_RANGE)
			return jinja_fail(c, LLM_ERR_LIMIT, "chat template list repetition is too large");
		l = jinja_list_new(c, total, src->flavor);
		if (l == NULL)
			return jinja_nomem(c);
		for (size_t k = 0; k < total; k++)
			l->items[k] = src->items[k % src->n];
		*out = jv_list(l);
		return jinja_charge(c, total);
	}
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t
floor_mod(int64_t a, int64_t b)
{
	int64_t		r = a % b;

	if (r != 0 && ((r < 0) != (b < 0)))
		r += b;
	return r;
}

llm_status
jinja_binop(jinja_ctx *c, jinja_op op, jvalue a, jvalue b, jvalue *out)
{
	bool		af,
				bf;
	int64_t		ai = 0,
				bi = 0,
				ri;
	double		ad,
				bd;
	static const char *const opname[] = {
		[JOP_ADD] = "+", [JOP_SUB] = "-", [JOP_MUL] = "*", [JOP_DIV] = "/",
		[JOP_FLOORDIV] = "//", [JOP_MOD] = "%", [JOP_POW] = "** or pow()",
	};

	if (op == JOP_MOD && a.kind == JV_STR)
		return jinja_percent_format(c, a, b, out);
	if (a.kind == JV_UNDEF)
		return undefined_error(c, a);
	if (b.kind == JV_UNDEF)
		return undefined_error(c, b);

	if (num_of(a, &af, &ai, &ad) && num_of(b, &bf, &bi, &bd))
	{
		bool		flt = af || bf;

		switch (op)
		{
			case JOP_ADD:
				if (flt)
					*out = jv_float(ad + bd);
				else if (__builtin_add_overflow(ai, bi, &ri))
					return int_overflow(c);
				else
					*out = jv_int(ri);
				return LLM_OK;
			case JOP_SUB:
				if (flt)
					*out = jv_float(ad - bd);
				else if (__builtin_sub_overflow(ai, bi, &ri))
					return int_overflow(c);
				else
					*out = jv_int(ri);
				return LLM_OK;
			case JOP_MUL:
				if (flt)
					*out = jv_float(ad * bd);
				else if (__builtin_mul_overflow(ai, bi, &ri))
					return int_overflow(c);
				else
					*out = jv_int(ri);
				return LLM_OK;
			case JOP_DIV:
				if (bd == 0.0)
					return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat template error: division by zero");
				*out = jv_float(ad / bd);
				return LLM_OK;
			case JOP_FLOORDIV:
			case JOP_MOD:
				if ((flt && bd == 0.0) || (!flt && bi == 0))
					return jinja_fail(c, LLM_ERR_INVALID_ARG,
									  "chat template error: integer division or modulo by zero");
				if (flt)
				{
					/* CPython's float divmod */
					double		mod = fmod(ad, bd);
					double		div = (ad - mod) / bd;
					double		fdiv;

					if (mod != 0.0)
					{
						if ((bd < 0) != (mod < 0))
						{
							mod += bd;
							div -= 1.0;
						}
					}
					else
						mod = copysign(0.0, bd);
					if (div != 0.0)
					{
						fdiv = floor(div);
						if (div - fdiv > 0.5)
							fdiv += 1.0;
					}
					else
						fdiv = copysign(0.0, ad / bd);
					*out = jv_float(op == JOP_MOD ? mod : fdiv);
					return LLM_OK;
				}
				if (ai == INT64_MIN && bi == -1)
					return int_overflow(c);
				*out = jv_int(op == JOP_MOD ? floor_mod(ai, bi) : floor_div(ai, bi));
				return LLM_OK;
			case JOP_POW:
				if (!flt && bi >= 0)
				{
					int64_t		r = 1,
								base = ai,
								e = bi;

					while (e > 0)
					{
						if ((e & 1) && __builtin_mul_overflow(r, base, &r))
							return int_overflow(c);
						e >>= 1;
						if (e > 0 && __builtin_mul_overflow(base, base, &base))
							return int_overflow(c);
					}
					*out = jv_int(r);
					return LLM_OK;
				}
				if (ad == 0.0 && bd < 0)
					return jinja_fail(c, LLM_ERR_INVALID_ARG,
									  "chat template error: 0.0 cannot be raised to a negative power");
				*out = jv_float(pow(ad, bd));
				/* Python raises where C overflows to infinity */
				if (isinf(out->u.f) && isfinite(ad) && isfinite(bd))
					return jinja_fail(c, LLM_ERR_INVALID_ARG,
									  "chat template error: numerical result out of range");
				return LLM_OK;
			default:
				break;
		}
	}
	if (op == JOP_ADD && a.kind == JV_STR && b.kind == JV_STR)
	{
		size_t		total;
		char	   *buf;
		bool		markup = a.markup || b.markup;
		llm_status	st;

		/* Markup.__add__ / __radd__ escape the plain side */
		if (markup && !a.markup && (st = jinja_escape(c, a, &a)) != LLM_OK)
			return st;
		if (markup && !b.markup && (st = jinja_escape(c, b, &b)) != LLM_OK)
			return st;
		if (!llm_add_size(a.u.s.n, b.u.s.n, &total))
			return int_overflow(c);
		buf = jinja_alloc(c->arena, total + 1);
		if (buf == NULL)
			return jinja_nomem(c);
		if (a.u.s.n)
			memcpy(buf, a.u.s.p, a.u.s.n);
		if (b.u.s.n)
			memcpy(buf + a.u.s.n, b.u.s.p, b.u.s.n);
		*out = jv_str(jstr_make(buf, total));
		out->markup = markup;
		return jinja_charge(c, total / 32);
	}
	if (op == JOP_ADD && a.kind == JV_LIST && b.kind == JV_LIST &&
		a.u.list->flavor == b.u.list->flavor && JL_IS_SEQ(a.u.list->flavor))
	{
		jinja_list *l = jinja_list_new(c, a.u.list->n + b.u.list->n, a.u.list->flavor);

		if (l == NULL)
			return jinja_nomem(c);
		if (a.u.list->n)
			memcpy(l->items, a.u.list->items, a.u.list->n * sizeof(jvalue));
		if (b.u.list->n)
			memcpy(l->items + a.u.list->n, b.u.list->items, b.u.list->n * sizeof(jvalue));
		*out = jv_list(l);
		return jinja_charge(c, l->n);
	}
	if (op == JOP_MUL)
	{
		bool		seq_a = a.kind == JV_STR || (a.kind == JV_LIST && JL_IS_SEQ(a.u.list->flavor));
		bool		seq_b = b.kind == JV_STR || (b.kind == JV_LIST && JL_IS_SEQ(b.u.list->flavor));

		if (seq_a && (b.kind == JV_INT || b.kind == JV_BOOL))
			return repeat_seq(c, a, b.kind == JV_INT ? b.u.i : b.u.b, out);
		if (seq_b && (a.kind == JV_INT || a.kind == JV_BOOL))
			return repeat_seq(c, b, a.kind == JV_INT ? a.u.i : a.u.b, out);
	}
	return type_error(c, opname[op] ? opname[op] : "?", a, b);
}

static llm_status
contains(jinja_ctx *c, jvalue container, jvalue item, bool *out)
{
	llm_status	st;

	*out = false;
	switch (container.kind)
	{
		case JV_UNDEF:
			return LLM_OK;
		case JV_STR:
			if (item.kind != JV_STR)
				return jinja_fail(c, LLM_ERR_INVALID_ARG,
								  "chat template error: 'in <string>' requires string as left operand, not %s",
								  jv_type_name(item));
			if ((st = jinja_charge(c, container.u.s.n / 16)) != LLM_OK)
				return st;
			if (item.u.s.n == 0)
				*out = true;
			else
				*out = jinja_find(container.u.s, item.u.s, 0) >= 0;
			return LLM_OK;
		case JV_LIST:
			for (size_t i = 0; i < container.u.list->n; i++)
			{
				bool		eq;

				if ((st = jv_equal(c, container.u.list->items[i], item, &eq)) != LLM_OK)
					return st;
				if (eq)
				{
					*out = true;
					return LLM_OK;
				}
			}
			if (container.u.list->deferred)
				return jinja_raise_deferred(c, container.u.list);
			return LLM_OK;
		case JV_DICT:
			if (item.kind == JV_DICT || item.kind == JV_NS ||
				(item.kind == JV_LIST && item.u.list->flavor != JL_TUPLE))
				return jinja_fail(c, LLM_ERR_INVALID_ARG,
								  "chat template error: unhashable type: '%s'", jv_type_name(item));
			*out = jinja_dict_get(container.u.dict, item) != NULL;
			return jinja_charge(c, container.u.dict->n / 8);
		default:
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: argument of type '%s' is not iterable",
							  jv_type_name(container));
	}
}

static llm_status
compare_op(jinja_ctx *c, jinja_op op, jvalue a, jvalue b, bool *res)
{
	llm_status	st;
	int			cmp;

	switch (op)
	{
		case JOP_EQ:
			return jv_equal(c, a, b, res);
		case JOP_NE:
			if ((st = jv_equal(c, a, b, res)) != LLM_OK)
				return st;
			*res = !*res;
			return LLM_OK;
		case JOP_IN:
			return contains(c, b, a, res);
		case JOP_NOTIN:
			if ((st = contains(c, b, a, res)) != LLM_OK)
				return st;
			*res = !*res;
			return LLM_OK;
		default:
			break;
	}
	if (a.kind == JV_UNDEF)
		return undefined_error(c, a);
	if (b.kind == JV_UNDEF)
		return undefined_error(c, b);
	if ((st = jv_compare(c, a, b, &cmp)) != LLM_OK)
		return st;
	if (cmp == 2)				/* NaN: every ordering is false */
	{
		*res = false;
		return LLM_OK;
	}
	switch (op)
	{
		case JOP_LT:
			*res = cmp < 0;
			break;
		case JOP_LE:
			*res = cmp <= 0;
			break;
		case JOP_GT:
			*res = cmp > 0;
			break;
		default:
			*res = cmp >= 0;
			break;
	}
	return LLM_OK;
}

/* ---------- expressions ---------- */

static llm_status
not_constant(jinja_ctx *c)
{
	return jinja_fail(c, LLM_ERR_UNSUPPORTED, "not a constant expression");
}

/* jinja2 filters that take the context never fold (pass_context) */
static bool
filter_needs_context(jstr name)
{
	return jstr_eq_c(name, "map") || jstr_eq_c(name, "select") || jstr_eq_c(name, "reject") ||
		jstr_eq_c(name, "selectattr") || jstr_eq_c(name, "rejectattr") ||
		jstr_eq_c(name, "random");
}

static llm_status
negate(jinja_ctx *c, jvalue a, jvalue *out)
{
	if (a.kind == JV_FLOAT)
		*out = jv_float(-a.u.f);
	else if (a.kind == JV_INT || a.kind == JV_BOOL)
	{
		int64_t		i = a.kind == JV_INT ? a.u.i : a.u.b;

		if (i == INT64_MIN)
			return int_overflow(c);
		*out = jv_int(-i);
	}
	else
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: bad operand type for unary -: '%s'", jv_type_name(a));
	return LLM_OK;
}

static llm_status
eval_inner(jinja_ctx *c, const jinja_node *n, jvalue *out)
{
	llm_status	st;
	jvalue		a,
				b;

	switch (n->kind)
	{
		case JN_CONST:
			*out = n->val;
			return LLM_OK;
		case JN_NAME:
			if (c->const_mode)
				return not_constant(c);
			*out = lookup(c, n->name);
			return LLM_OK;
		case JN_GETATTR:
			if ((st = eval(c, n->a, &a)) != LLM_OK)
				return st;
			return jinja_getattr(c, a, n->name, out);
		case JN_GETITEM:
			if ((st = eval(c, n->a, &a)) != LLM_OK)
				return st;
			if (n->b->kind == JN_SLICE)
				return get_slice(c, a, n->b, out);
			if ((st = eval(c, n->b, &b)) != LLM_OK)
				return st;
			return jinja_getitem(c, a, b, out);
		case JN_SLICE:
			return jinja_fail(c, LLM_ERR_UNSUPPORTED,
							  "chat template uses an unsupported feature: a slice outside []");
		case JN_CALL:
			{
				jinja_args args;

				if (c->const_mode)
					return not_constant(c);	/* calls never fold in a sandbox */
				if ((st = eval(c, n->a, &a)) != LLM_OK)
					return st;
				if ((st = eval_args(c, n, &args)) != LLM_OK)
					return st;
				return jinja_call_value(c, a, &args, out);
			}
		case JN_FILTER:
			{
				jinja_args args;

				if (n->a == NULL)
					return jinja_fail(c, LLM_ERR_UNSUPPORTED,
									  "chat template uses an unsupported feature: a filter without operand");
				if (c->const_mode && filter_needs_context(n->name))
					return not_constant(c);
				if ((st = eval(c, n->a, &a)) != LLM_OK)
					return st;
				if ((st = eval_args(c, n, &args)) != LLM_OK)
					return st;
				return jinja_apply_filter(c, n->name, a, &args, out);
			}
		case JN_TEST:
			{
				jinja_args args;
				bool		res;

				if ((st = eval(c, n->a, &a)) != LLM_OK)
					return st;
				if ((st = eval_args(c, n, &args)) != LLM_OK)
					return st;
				if ((st = jinja_apply_test(c, n->name, a, &args, &res)) != LLM_OK)
					return st;
				*out = jv_bool(res);
				return LLM_OK;
			}
		case JN_NOT:
			if ((st = eval(c, n->a, &a)) != LLM_OK)
				return st;
			*out = jv_bool(!jv_truthy(a));
			return LLM_OK;
		case JN_NEG:
		case JN_POS:
			if ((st = eval(c, n->a, &a)) != LLM_OK)
				return st;
			if (a.kind == JV_UNDEF)
				return undefined_error(c, a);
			if (a.kind == JV_FLOAT)
				*out = jv_float(n->kind == JN_NEG ? -a.u.f : a.u.f);
			else if (a.kind == JV_INT || a.kind == JV_BOOL)
			{
				int64_t		i = a.kind == JV_INT ? a.u.i : a.u.b;

				if (n->kind == JN_NEG && i == INT64_MIN)
					return int_overflow(c);
				*out = jv_int(n->kind == JN_NEG ? -i : i);
			}
			else
				return jinja_fail(c, LLM_ERR_INVALID_ARG,
								  "chat template error: bad operand type for unary %s: '%s'",
								  n->kind == JN_NEG ? "-" : "+", jv_type_name(a));
			return LLM_OK;
		case JN_BINOP:
			if ((st = eval(c, n->a, &a)) != LLM_OK)
				return st;
			if (n->op == JOP_AND)
			{
				if (!jv_truthy(a))
				{
					*out = a;
					return LLM_OK;
				}
				return eval(c, n->b, out);
			}
			if (n->op == JOP_OR)
			{
				if (jv_truthy(a))
				{
					*out = a;
					return LLM_OK;
				}
				return eval(c, n->b, out);
			}
			if ((st = eval(c, n->b, &b)) != LLM_OK)
				return st;
			if (n->op == JOP_POW && !c->const_mode && (n->a->folded || n->a->kind == JN_CONST) &&
				((a.kind == JV_INT && a.u.i < 0) || (a.kind == JV_FLOAT && signbit(a.u.f))))
			{
				/*
				 * jinja2 constant-folds the base to a literal like -1 and
				 * emits Python "(-1 ** x)", which Python reads as -(1 ** x).
				 */
				if (a.kind == JV_INT)
				{
					if (a.u.i == INT64_MIN)
						return int_overflow(c);
					a.u.i = -a.u.i;
				}
				else
					a.u.f = -a.u.f;
				if ((st = jinja_binop(c, JOP_POW, a, b, &a)) != LLM_OK)
					return st;
				return negate(c, a, out);
			}
			return jinja_binop(c, n->op, a, b, out);
		case JN_CONCAT:
			{
				jinja_buf	buf;

				jinja_buf_init(&buf, JINJA_MAX_OUTPUT_BYTES);
				st = LLM_OK;
				for (size_t i = 0; i < n->items.n && st == LLM_OK; i++)
				{
					st = eval(c, n->items.v[i], &a);
					if (st == LLM_OK)
						st = jv_write_str(c, a, &buf);
				}
				if (st == LLM_OK)
					st = jinja_make_str(c, buf.p ? buf.p : "", buf.n, out);
				jinja_buf_free(&buf);
				return st;
			}
		case JN_COMPARE:
			{
				bool		res = true;

				if ((st = eval(c, n->a, &a)) != LLM_OK)
					return st;
				for (size_t i = 0; i < n->items.n; i++)
				{
					if ((st = eval(c, n->items.v[i], &b)) != LLM_OK)
						return st;
					if ((st = compare_op(c, n->cmp_ops[i], a, b, &res)) != LLM_OK)
						return st;
					if (!res)
						break;
					a = b;
				}
				*out = jv_bool(res);
				return LLM_OK;
			}
		case JN_CONDEXPR:
			if ((st = eval(c, n->a, &a)) != LLM_OK)
				return st;
			if (jv_truthy(a))
				return eval(c, n->b, out);
			if (n->c)
				return eval(c, n->c, out);
			if (c->const_mode)
				return not_constant(c);
			*out = jv_undef(JSTR_LIT("conditional expression"));
			return LLM_OK;
		case JN_LIST:
		case JN_TUPLE:
			{
				jinja_list *l = jinja_list_new(c, n->items.n,
											   n->kind == JN_LIST ? JL_LIST : JL_TUPLE);

				if (l == NULL)
					return jinja_nomem(c);
				for (size_t i = 0; i < n->items.n; i++)
					if ((st = eval(c, n->items.v[i], &l->items[i])) != LLM_OK)
						return st;
				*out = jv_list(l);
				return LLM_OK;
			}
		case JN_DICT:
			{
				jinja_dict *d = jinja_dict_new(c, n->items.n);

				if (d == NULL)
					return jinja_nomem(c);
				for (size_t i = 0; i < n->items.n; i++)
				{
					if ((st = eval(c, n->items.v[i], &a)) != LLM_OK)
						return st;
					if ((st = eval(c, n->values.v[i], &b)) != LLM_OK)
						return st;
					if ((st = jinja_dict_set(c, d, a, b)) != LLM_OK)
						return st;
				}
				*out = jv_dict(d);
				return LLM_OK;
			}
		default:
			return jinja_fail(c, LLM_ERR_CORRUPT, "chat template error: statement used as expression");
	}
}

static llm_status
eval(jinja_ctx *c, const jinja_node *n, jvalue *out)
{
	llm_status	st;

	if (n->folded)
	{
		*out = n->val;
		return LLM_OK;
	}
	if (++c->depth > JINJA_MAX_EVAL_DEPTH)
	{
		c->depth--;
		return jinja_fail(c, LLM_ERR_LIMIT, "chat template evaluation nested too deeply");
	}
	st = jinja_charge(c, 1);
	if (st == LLM_OK)
		st = eval_inner(c, n, out);
	c->depth--;
	return st;
}

/* ---------- statements ---------- */

/* Bind a for/set target (name or tuple of names) in scope. */
static llm_status
bind_targets(jinja_ctx *c, jinja_scope *scope, const jinja_node *n, jvalue v)
{
	jinja_list *parts;
	llm_status	st;

	if (!n->tuple_target)
		return jinja_scope_set(c, scope, n->targets[0], v);
	if (v.kind == JV_UNDEF)
		return undefined_error(c, v);
	if ((st = jv_iterate(c, v, &parts)) != LLM_OK)
		return st;
	if (parts->n < n->n_targets)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: not enough values to unpack (expected %zu, got %zu)",
						  n->n_targets, parts->n);
	if (parts->n > n->n_targets)
		return jinja_fail(c, LLM_ERR_INVALID_ARG,
						  "chat template error: too many values to unpack (expected %zu)",
						  n->n_targets);
	for (size_t i = 0; i < n->n_targets; i++)
		if ((st = jinja_scope_set(c, scope, n->targets[i], parts->items[i])) != LLM_OK)
			return st;
	return LLM_OK;
}

static llm_status
exec_for(jinja_ctx *c, const jinja_node *n)
{
	jvalue		iterable;
	jinja_list *items;
	jinja_scope *outer = c->scope;
	jinja_loop *loop;
	bool		completed = false;
	llm_status	st;

	if ((st = eval(c, n->a, &iterable)) != LLM_OK)
		return st;
	if ((st = jv_iterate(c, iterable, &items)) != LLM_OK)
		return st;

	if (n->b)
	{
		/* inline "if": filter first, so loop.index/length count kept items */
		jinja_list *kept = jinja_list_new(c, items->n, JL_LIST);
		size_t		k = 0;

		if (kept == NULL)
			return jinja_nomem(c);
		for (size_t i = 0; i < items->n; i++)
		{
			jinja_scope *tmp = scope_new(c, outer);
			jvalue		cond;

			if (tmp == NULL)
				return jinja_nomem(c);
			if ((st = bind_targets(c, tmp, n, items->items[i])) != LLM_OK)
				return st;
			c->scope = tmp;
			st = eval(c, n->b, &cond);
			c->scope = outer;
			if (st != LLM_OK)
				return st;
			if (jv_truthy(cond))
				kept->items[k++] = items->items[i];
		}
		kept->n = k;
		items = kept;
	}
	if (items->n == 0)
		return exec_list(c, &n->else_body);

	/*
	 * jinja2 runs the else block unless some iteration reached the end of
	 * the body: an iteration left by break or continue does not count.
	 */
	loop = jinja_alloc(c->arena, sizeof(jinja_loop));
	if (loop == NULL)
		return jinja_nomem(c);
	loop->items = items;
	loop->depth0 = 0;			/* only recursive loops go deeper */
	c->loop_depth++;
	st = LLM_OK;
	for (size_t i = 0; i < items->n; i++)
	{
		jinja_scope *scope = scope_new(c, outer);
		jvalue		lv;

		if (scope == NULL)
		{
			st = jinja_nomem(c);
			break;
		}
		loop->index0 = i;
		lv.kind = JV_LOOP;
		lv.u.loop = loop;
		if ((st = jinja_charge(c, 4)) != LLM_OK ||
			(st = bind_targets(c, scope, n, items->items[i])) != LLM_OK ||
			(st = jinja_scope_set(c, scope, JSTR_LIT("loop"), lv)) != LLM_OK)
			break;
		c->scope = scope;
		st = exec_list(c, &n->body);
		c->scope = outer;
		if (st != LLM_OK)
			break;
		if (c->loop_ctl == 0)
			completed = true;
		if (c->loop_ctl == JINJA_BREAK)
		{
			c->loop_ctl = 0;
			break;
		}
		c->loop_ctl = 0;
	}
	c->scope = outer;
	c->loop_depth--;
	if (st == LLM_OK && !completed)
		st = exec_list(c, &n->else_body);
	return st;
}

static llm_status
exec_set(jinja_ctx *c, const jinja_node *n, jvalue v)
{
	if (n->ns_target)
	{
		jvalue		ns = lookup(c, n->name);

		if (ns.kind != JV_NS)
			return jinja_fail(c, LLM_ERR_INVALID_ARG,
							  "chat template error: cannot assign attribute on non-namespace object");
		return jinja_dict_set(c, ns.u.dict, jv_str(n->attr), v);
	}
	return bind_targets(c, c->scope, n, v);
}

static llm_status
exec_stmt(jinja_ctx *c, const jinja_node *n)
{
	llm_status	st;
	jvalue		v;

	switch (n->kind)
	{
		case JN_TEXT:
			return emit(c, n->val.u.s.p, n->val.u.s.n);
		case JN_OUTPUT:
			if (n->folded)		/* constant output computed at compile time */
				return emit(c, n->val.u.s.p, n->val.u.s.n);
			if ((st = eval(c, n->a, &v)) != LLM_OK)
				return st;
			if (v.kind == JV_STR)
				return emit(c, v.u.s.p, v.u.s.n);
			return jv_write_str(c, v, c->out);
		case JN_IF:
			/* elif chains are nested ifs in else bodies: walk them iteratively */
			for (;;)
			{
				if ((st = eval(c, n->a, &v)) != LLM_OK)
					return st;
				if (jv_truthy(v))
					return exec_list(c, &n->body);
				if (n->else_body.n == 1 && n->else_body.v[0]->kind == JN_IF)
				{
					n = n->else_body.v[0];
					continue;
				}
				return exec_list(c, &n->else_body);
			}
		case JN_FOR:
			return exec_for(c, n);
		case JN_SET:
			if ((st = eval(c, n->a, &v)) != LLM_OK)
				return st;
			return exec_set(c, n, v);
		case JN_SETBLOCK:
			if ((st = capture(c, &n->body, &v)) != LLM_OK)
				return st;
			if (c->loop_ctl)
				return LLM_OK;	/* break/continue skipped the assignment */
			if ((st = apply_filter_chain(c, n->c, v, &v)) != LLM_OK)
				return st;
			return exec_set(c, n, v);
		case JN_MACRO:
			{
				jinja_macro *m = jinja_alloc(c->arena, sizeof(jinja_macro));

				if (m == NULL)
					return jinja_nomem(c);
				m->def = n;
				v.kind = JV_MACRO;
				v.u.macro = m;
				return jinja_scope_set(c, c->scope, n->name, v);
			}
		case JN_BREAK:
		case JN_CONTINUE:
			if (c->loop_depth == 0)
				return jinja_fail(c, LLM_ERR_CORRUPT,
								  "chat template error: '%s' outside a loop",
								  n->kind == JN_BREAK ? "break" : "continue");
			c->loop_ctl = n->kind == JN_BREAK ? JINJA_BREAK : JINJA_CONTINUE;
			return LLM_OK;
		case JN_WITH:
			{
				jinja_scope *outer = c->scope;
				jinja_scope *scope = scope_new(c, outer);

				if (scope == NULL)
					return jinja_nomem(c);
				for (size_t i = 0; i < n->n_targets; i++)
				{
					if ((st = eval(c, n->values.v[i], &v)) != LLM_OK)
						return st;
					if ((st = jinja_scope_set(c, scope, n->targets[i], v)) != LLM_OK)
						return st;
				}
				c->scope = scope;
				st = exec_list(c, &n->body);
				c->scope = outer;
				return st;
			}
		case JN_FILTERBLOCK:
			if ((st = capture(c, &n->body, &v)) != LLM_OK)
				return st;
			if (c->loop_ctl)
				return LLM_OK;	/* break/continue: the captured text is dropped */
			if ((st = apply_filter_chain(c, n->c, v, &v)) != LLM_OK)
				return st;
			return jv_write_str(c, v, c->out);
		default:
			return jinja_fail(c, LLM_ERR_CORRUPT, "chat template error: expression used as statement");
	}
}

static llm_status
exec_list(jinja_ctx *c, const jinja_nodelist *body)
{
	for (size_t i = 0; i < body->n; i++)
	{
		llm_status	st;

		if (++c->depth > JINJA_MAX_EVAL_DEPTH)
		{
			c->depth--;
			return jinja_fail(c, LLM_ERR_LIMIT, "chat template evaluation nested too deeply");
		}
		st = jinja_charge(c, 1);
		if (st == LLM_OK)
			st = exec_stmt(c, body->v[i]);
		c->depth--;
		if (st != LLM_OK)
			return st;
		if (c->loop_ctl)
			return LLM_OK;
	}
	return LLM_OK;
}

llm_status
jinja_render(jinja_ctx *c, const jinja_template *t)
{
	llm_status	st;

	st = exec_list(c, &t->body);
	if (st == LLM_OK && c->loop_ctl)
		return jinja_fail(c, LLM_ERR_CORRUPT, "chat template error: break or continue outside a loop");
	return st;
}

/* ---------- constant folding (jinja2's optimizer) ---------- */

#define FOLD_MAX_BYTES	(64 * 1024)

/*
 * Worth trying as_const() on?  Names and calls never fold; anything else
 * might (even with a name inside: "1 or x" folds, as Or.as_const stops at
 * the first operand), so the evaluator decides.
 */
static bool
maybe_const(const jinja_node *n)
{
	return n->kind < JN_TEXT && n->kind != JN_NAME && n->kind != JN_CALL &&
		!(n->kind == JN_FILTER && (n->a == NULL || filter_needs_context(n->name)));
}

/* Copy a folded value into the template's arena; false if too big. */
static bool
copy_value(jinja_arena *dst, jvalue v, jvalue *out, size_t *budget, int depth)
{
	if (depth > JINJA_MAX_VALUE_DEPTH)
		return false;
	*out = v;
	switch (v.kind)
	{
		case JV_STR:
			{
				char	   *p;

				if (v.u.s.n > *budget)
					return false;
				*budget -= v.u.s.n;
				p = jinja_strdup(dst, v.u.s.p, v.u.s.n);
				if (p == NULL)
					return false;
				out->u.s = jstr_make(p, v.u.s.n);
				return true;
			}
		case JV_LIST:
			{
				jinja_list *l = jinja_alloc(dst, sizeof(jinja_list));

				if (l == NULL || v.u.list->n > *budget / sizeof(jvalue))
					return false;
				*budget -= v.u.list->n * sizeof(jvalue);
				*l = *v.u.list;
				if (l->n)
				{
					l->items = jinja_alloc_array(dst, l->n, sizeof(jvalue));
					if (l->items == NULL)
						return false;
					for (size_t i = 0; i < l->n; i++)
						if (!copy_value(dst, v.u.list->items[i], &l->items[i], budget, depth + 1))
							return false;
				}
				out->u.list = l;
				return true;
			}
		case JV_DICT:
			{
				jinja_dict *d = jinja_alloc(dst, sizeof(jinja_dict));
				size_t		n = v.u.dict->n;

				if (d == NULL || n + 1 > *budget / (2 * sizeof(jvalue)))
					return false;
				*budget -= (n + 1) * 2 * sizeof(jvalue);
				d->n = n;
				d->cap = n + 1;
				d->keys = jinja_alloc_array(dst, n + 1, sizeof(jvalue));
				d->vals = jinja_alloc_array(dst, n + 1, sizeof(jvalue));
				if (d->keys == NULL || d->vals == NULL)
					return false;
				for (size_t i = 0; i < n; i++)
					if (!copy_value(dst, v.u.dict->keys[i], &d->keys[i], budget, depth + 1) ||
						!copy_value(dst, v.u.dict->vals[i], &d->vals[i], budget, depth + 1))
						return false;
				out->u.dict = d;
				return true;
			}
		default:
			return true;
	}
}

typedef struct fold_state
{
	jinja_template *t;
	jinja_ctx	c;				/* const-mode context on a scratch arena */
	bool		exhausted;		/* work or memory ran out: stop trying */
} fold_state;

static void fold_list(fold_state *fs, jinja_nodelist *l, int depth);

/*
 * The AST can be deeper than the parser's nesting limit (a long chain of
 * filters or of "+" builds nested nodes without recursion), so the walk
 * is bounded here; evaluation itself is bounded by JINJA_MAX_EVAL_DEPTH.
 */
static void
fold_node(fold_state *fs, jinja_node *n, int depth)
{
	jvalue		v;
	llm_status	st;

	if (n == NULL || fs->exhausted)
		return;
	if (depth > JINJA_MAX_EVAL_DEPTH)
	{
		fs->exhausted = true;
		return;
	}
	/* children first, as jinja2's optimizer does */
	fold_node(fs, n->a, depth + 1);
	fold_node(fs, n->b, depth + 1);
	fold_node(fs, n->c, depth + 1);
	fold_list(fs, &n->items, depth + 1);
	fold_list(fs, &n->values, depth + 1);
	fold_list(fs, &n->body, depth + 1);
	fold_list(fs, &n->else_body, depth + 1);
	if (n->kind == JN_OUTPUT && !n->a->folded && maybe_const(n->a))
	{
		/*
		 * jinja2 prints str(as_const()) of an output expression whenever
		 * as_const() succeeds, safe repr or not (so a folded Undefined
		 * prints "" where evaluating it at run time might fail).
		 */
		jstr		text;

		fs->c.depth = 0;
		st = eval(&fs->c, n->a, &v);
		if (st == LLM_OK)
			st = jv_to_str(&fs->c, v, &text);
		if (st == LLM_ERR_LIMIT || st == LLM_ERR_NOMEM || fs->c.arena->over_limit)
		{
			fs->exhausted = true;
			return;
		}
		if (st == LLM_OK && text.n <= FOLD_MAX_BYTES)
		{
			char	   *p = jinja_strdup(&fs->t->arena, text.p, text.n);

			if (p)
			{
				n->val = jv_str(jstr_make(p, text.n));
				n->folded = true;
			}
		}
		return;
	}
	if (n->kind >= JN_TEXT || n->kind == JN_CONST || n->kind == JN_SLICE || !maybe_const(n))
		return;

	fs->c.depth = 0;
	st = eval(&fs->c, n, &v);
	if (st == LLM_ERR_LIMIT || st == LLM_ERR_NOMEM || fs->c.arena->over_limit)
	{
		fs->exhausted = true;
		return;
	}
	if (st == LLM_OK && jv_safe_repr(v, 0))
	{
		size_t		budget = FOLD_MAX_BYTES;
		jvalue		copy;

		if (copy_value(&fs->t->arena, v, &copy, &budget, 0))
		{
			n->val = copy;
			n->folded = true;
		}
	}
}

static void
fold_list(fold_state *fs, jinja_nodelist *l, int depth)
{
	for (size_t i = 0; i < l->n; i++)
		fold_node(fs, l->v[i], depth);
}

llm_status
jinja_fold_constants(jinja_template *t, llm_error *err)
{
	fold_state	fs;
	jinja_arena scratch;
	jinja_buf	sink;
	jinja_scope root;
	llm_error	fold_err;

	memset(&fs, 0, sizeof(fs));
	memset(&root, 0, sizeof(root));
	memset(&fold_err, 0, sizeof(fold_err));
	jinja_arena_init(&scratch, JINJA_MAX_ARENA_BYTES);
	jinja_buf_init(&sink, 0);
	fs.t = t;
	fs.c.arena = &scratch;
	fs.c.err = &fold_err;
	fs.c.out = &sink;
	fs.c.root = &root;
	fs.c.scope = &root;
	fs.c.const_mode = true;
	fold_list(&fs, &t->body, 0);
	jinja_arena_free(&scratch);
	jinja_buf_free(&sink);
	if (t->arena.over_limit)
		return llm_error_set(err, LLM_ERR_LIMIT, "chat template is too large to compile");
	return LLM_OK;
}
