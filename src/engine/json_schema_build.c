/*
 * json_schema_build.c — the nodes of a compiled schema, each built from a
 * conj (the schema locations a value must all satisfy; see
 * json_schema_internal.h): enum/const become LITERALS (values kept only if
 * they validate against the whole conj), an unresolved anyOf/oneOf is
 * distributed into an ANYOF over conj + branch, and everything else is
 * merged into one TYPED node (types intersected, bounds tightened,
 * patterns intersected into one automaton, properties merged by name).
 * Children are conjs too, memoized, so $ref recursion is a cycle.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_schema_internal.h"

/* ------------------------------------------------------------------ conj */

llm_status
js_conj_add(js_ctx *ctx, js_conj *c, int32_t info, uint8_t mask)
{
	for (int32_t i = 0; i < c->n; i++)
		if (c->a[i].info == info)
		{
			c->a[i].mask |= mask;
			return LLM_OK;
		}
	if (c->n >= JS_MAX_CONJ)
		return js_kw_error(ctx, LLM_ERR_UNSUPPORTED, info, "allOf",
						"too many subschemas apply to one value (more than %d)",
						JS_MAX_CONJ);
	if (c->n == c->cap)
	{
		int32_t		cap = c->cap ? c->cap * 2 : 8;
		js_atom    *grown = llm_realloc(c->a, sizeof(js_atom) * c->cap, sizeof(js_atom) * cap);

		if (grown == NULL)
			return js_nomem(ctx);
		c->a = grown;
		c->cap = cap;
	}
	c->a[c->n].info = info;
	c->a[c->n].mask = mask;
	c->n++;
	return LLM_OK;
}

static llm_status
conj_add_json(js_ctx *ctx, js_conj *c, const cJSON *json, uint8_t mask)
{
	int32_t		idx;
	llm_status	st = js_info_get(ctx, json, &idx);

	if (st != LLM_OK)
		return st;
	return js_conj_add(ctx, c, idx, mask);
}

static llm_status
conj_copy(js_ctx *ctx, js_conj *c, const js_atom *atoms, int32_t n)
{
	c->a = llm_malloc(sizeof(js_atom) * (size_t) (n > 0 ? n : 1));
	if (c->a == NULL)
		return js_nomem(ctx);
	if (n > 0)
		memcpy(c->a, atoms, sizeof(js_atom) * (size_t) n);
	c->n = c->cap = n > 0 ? n : 1;
	c->n = n;
	return LLM_OK;
}

/*
 * Flatten $ref and allOf into the conj, then drop what constrains nothing
 * (true, wrappers whose only keywords were $ref/allOf, schemas of
 * annotations only).
 * *never: the conj contains false.
 */
static llm_status
conj_close(js_ctx *ctx, js_conj *c, bool *never)
{
	int32_t		w = 0;

	*never = false;
	for (int32_t i = 0; i < c->n; i++)
	{
		int32_t		idx = c->a[i].info;
		js_info    *in;
		llm_status	st = js_info_parse(ctx, idx);

		if (st != LLM_OK)
			return st;
		in = &ctx->infos[idx];
		if (in->is_bool && !in->bool_value)
		{
			*never = true;
			return LLM_OK;
		}
		if (in->ref >= 0 && (st = js_conj_add(ctx, c, in->ref, 0)) != LLM_OK)
			return st;
		in = &ctx->infos[idx];
		if (in->all_of != NULL)
			for (const cJSON *b = in->all_of->child; b != NULL; b = b->next)
				if ((st = conj_add_json(ctx, c, b, 0)) != LLM_OK)
					return st;
	}
	for (int32_t i = 0; i < c->n; i++)
	{
		js_info    *in = &ctx->infos[c->a[i].info];
		uint8_t		mask = c->a[i].mask;
		/*
		 * An atom with a resolved anyOf/oneOf stays (even with nothing else
		 * to say): dropped, it could come back unresolved through an allOf
		 * or $ref of another atom and be distributed again, forever.
		 */
		bool		keep = !in->is_bool &&
			(in->has_constraints || mask != 0 || in->any_of != NULL || in->one_of != NULL);

		if (keep)
			c->a[w++] = c->a[i];
	}
	c->n = w;
	return LLM_OK;
}

static int
cmp_atom(const void *a, const void *b)
{
	const js_atom *x = a;
	const js_atom *y = b;

	if (x->info != y->info)
		return x->info < y->info ? -1 : 1;
	return (int) x->mask - (int) y->mask;
}

llm_status
js_new_node(js_ctx *ctx, int32_t *out)
{
	if (ctx->n_nodes >= LLM_SCHEMA_MAX_NODES)
		return llm_error_set(ctx->err, LLM_ERR_LIMIT,
							 "the schema compiles to more than %d nodes", LLM_SCHEMA_MAX_NODES);
	if (ctx->n_nodes == ctx->cap_nodes)
	{
		int32_t		cap = ctx->cap_nodes ? ctx->cap_nodes * 2 : 64;
		llm_schema_node *nodes = llm_realloc(ctx->nodes, sizeof(llm_schema_node) * ctx->cap_nodes,
											 sizeof(llm_schema_node) * cap);
		js_extra   *extra;

		if (nodes == NULL)
			return js_nomem(ctx);
		ctx->nodes = nodes;
		extra = llm_realloc(ctx->extra, sizeof(js_extra) * ctx->cap_nodes, sizeof(js_extra) * cap);
		if (extra == NULL)
			return js_nomem(ctx);
		ctx->extra = extra;
		ctx->cap_nodes = cap;
	}
	memset(&ctx->nodes[ctx->n_nodes], 0, sizeof(llm_schema_node));
	memset(&ctx->extra[ctx->n_nodes], 0, sizeof(js_extra));
	ctx->nodes[ctx->n_nodes].items = -1;
	ctx->nodes[ctx->n_nodes].additional = -1;
	ctx->nodes[ctx->n_nodes].min_bytes = JS_INF;
	ctx->extra[ctx->n_nodes].witness = -1;
	ctx->extra[ctx->n_nodes].oneof_info = -1;
	ctx->extra[ctx->n_nodes].int_cost = JS_INF;
	ctx->extra[ctx->n_nodes].frac_cost = JS_INF;
	ctx->extra[ctx->n_nodes].str_cost = JS_INF;
	ctx->extra[ctx->n_nodes].clone_of = -1;
	*out = ctx->n_nodes++;
	return LLM_OK;
}

static llm_status
never_node(js_ctx *ctx, int32_t *out)
{
	llm_status	st;

	if (ctx->never_node < 0)
	{
		if ((st = js_new_node(ctx, &ctx->never_node)) != LLM_OK)
			return st;
		ctx->nodes[ctx->never_node].kind = LLM_SN_NEVER;
		ctx->extra[ctx->never_node].built = true;
	}
	*out = ctx->never_node;
	return LLM_OK;
}

/* The node of a conj (closed here); memoized, built later from the queue. */
llm_status
js_node_for_conj(js_ctx *ctx, js_conj *c, int32_t *out)
{
	bool		never;
	js_atom    *key;
	int32_t		idx;
	llm_status	st = conj_close(ctx, c, &never);

	if (st != LLM_OK)
		return st;
	if (never)
		return never_node(ctx, out);
	key = llm_malloc(sizeof(js_atom) * (size_t) (c->n + 1));
	if (key == NULL)
		return js_nomem(ctx);
	if (c->n > 0)
		memcpy(key, c->a, sizeof(js_atom) * (size_t) c->n);
	qsort(key, c->n, sizeof(js_atom), cmp_atom);
	/* js_atom has padding: compare as (info, mask) pairs written densely */
	{
		size_t		klen = (size_t) c->n * 5;
		unsigned char *bytes = llm_malloc(klen + 1);

		if (bytes == NULL)
		{
			llm_free(key);
			return js_nomem(ctx);
		}
		for (int32_t i = 0; i < c->n; i++)
		{
			memcpy(bytes + i * 5, &key[i].info, 4);
			bytes[i * 5 + 4] = key[i].mask;
		}
		llm_free(key);
		if (js_map_get(&ctx->conj_memo, bytes, klen, out))
		{
			llm_free(bytes);
			return LLM_OK;
		}
		st = js_new_node(ctx, &idx);
		if (st == LLM_OK && js_map_put(&ctx->conj_memo, bytes, klen, idx) != LLM_OK)
			st = js_nomem(ctx);
		llm_free(bytes);
		if (st != LLM_OK)
			return st;
	}
	ctx->extra[idx].conj = llm_malloc(sizeof(js_atom) * (size_t) (c->n + 1));
	if (ctx->extra[idx].conj == NULL)
		return js_nomem(ctx);
	if (c->n > 0)
		memcpy(ctx->extra[idx].conj, c->a, sizeof(js_atom) * (size_t) c->n);
	ctx->extra[idx].n_conj = c->n;
	*out = idx;
	return LLM_OK;
}

/* ------------------------------------------------------------ literals */

static uint32_t
json_type_bit(const cJSON *v)
{
	switch (v->type & 0xFF)
	{
		case cJSON_NULL:
			return LLM_JT_NULL;
		case cJSON_True:
		case cJSON_False:
			return LLM_JT_BOOLEAN;
		case cJSON_Number:
			return v->valuedouble == floor(v->valuedouble) ? LLM_JT_INTEGER : LLM_JT_FRACTION;
		case cJSON_String:
			return LLM_JT_STRING;
		case cJSON_Array:
			return LLM_JT_ARRAY;
		default:
			return LLM_JT_OBJECT;
	}
}

/* no number in v overflowed to infinity while parsing (1e400) */
static bool
json_finite(const cJSON *v, int depth)
{
	if (depth > JS_MAX_JSON_DEPTH + 8)
		return false;
	if (cJSON_IsNumber(v))
		return isfinite(v->valuedouble);
	for (const cJSON *c = v->child; c != NULL; c = c->next)
		if (!json_finite(c, depth + 1))
			return false;
	return true;
}

static llm_status
build_literals(js_ctx *ctx, int32_t idx, const js_atom *conj, int32_t n, int32_t lit_info)
{
	js_info    *in = &ctx->infos[lit_info];
	const cJSON *source = in->const_value ? in->const_value : in->enum_values;
	bool		is_const = in->const_value != NULL;
	int32_t		n_values = is_const ? 1 : cJSON_GetArraySize(source);
	llm_schema_node *nd = &ctx->nodes[idx];
	js_extra   *ex = &ctx->extra[idx];
	const char *undecided = NULL;
	int32_t		undecided_info = -1;
	uint32_t	types = 0;
	llm_status	st = LLM_OK;

	nd->kind = LLM_SN_LITERALS;
	ex->lit_source = source;
	ex->lit_is_const = is_const;
	nd->literals = llm_calloc((size_t) n_values + 1, sizeof(llm_schema_literal));
	ex->lit_json = llm_calloc((size_t) n_values + 1, sizeof(cJSON *));
	if (nd->literals == NULL || ex->lit_json == NULL)
		return js_nomem(ctx);
	for (const cJSON *v = is_const ? source : source->child; v != NULL;
		 v = is_const ? NULL : v->next)
	{
		bool		ok;
		char	   *text = NULL;
		size_t		len = 0;
		size_t		cap = 0;
		bool		dup = false;

		/* a number we cannot print back as the value it was */
		if (!json_finite(v, 0))
			continue;
		ctx->unknown_keyword = NULL;
		st = js_validate_conj(ctx, v, conj, n, true, &ok);
		if (st != LLM_OK)
			return st;
		if (!ok)
		{
			if (ctx->unknown_keyword != NULL && undecided == NULL)
			{
				undecided = ctx->unknown_keyword;
				undecided_info = ctx->unknown_info;
			}
			continue;
		}
		st = js_print_value(v, &text, &len, &cap, 0);
		if (st != LLM_OK)
		{
			llm_free(text);
			return st == LLM_ERR_NOMEM ? js_nomem(ctx) :
				js_kw_error(ctx, LLM_ERR_LIMIT, lit_info, is_const ? "const" : "enum",
						 "a value nests too deeply");
		}
		nd = &ctx->nodes[idx];
		for (int32_t k = 0; k < nd->n_literals && !dup; k++)
			dup = nd->literals[k].len == len && memcmp(nd->literals[k].text, text, len) == 0;
		if (dup)
		{
			llm_free(text);
			continue;
		}
		ctx->extra[idx].lit_json[nd->n_literals] = v;
		nd->literals[nd->n_literals].text = text;
		nd->literals[nd->n_literals].len = len;
		nd->n_literals++;
		types |= json_type_bit(v);
	}
	nd = &ctx->nodes[idx];
	ctx->extra[idx].true_types = types;
	if (nd->n_literals == 0)
	{
		if (undecided != NULL)
			return js_kw_error(ctx, LLM_ERR_UNSUPPORTED, undecided_info, undecided,
							"cannot be checked against the %s values at %s",
							is_const ? "const" : "enum", ctx->infos[lit_info].path);
		nd->kind = LLM_SN_NEVER;
	}
	return LLM_OK;
}

/* -------------------------------------------------------------- anyOf */

static llm_status
build_anyof(js_ctx *ctx, int32_t idx, const js_atom *conj, int32_t n, int32_t owner,
			uint8_t kind)
{
	js_info    *in = &ctx->infos[conj[owner].info];
	const cJSON *arr = kind == JS_MASK_ANYOF ? in->any_of : in->one_of;
	int32_t		n_branches = cJSON_GetArraySize(arr);
	int32_t    *children;
	int32_t		n_children = 0;
	int64_t		product = 1;
	int			n_disj = 0;
	llm_status	st = LLM_OK;

	for (int32_t i = 0; i < n; i++)
	{
		js_info    *a = &ctx->infos[conj[i].info];

		if (a->any_of && !(conj[i].mask & JS_MASK_ANYOF))
		{
			product *= cJSON_GetArraySize(a->any_of);
			n_disj++;
		}
		if (a->one_of && !(conj[i].mask & JS_MASK_ONEOF))
		{
			product *= cJSON_GetArraySize(a->one_of);
			n_disj++;
		}
		if (product > JS_MAX_DISTRIBUTION)
			break;
	}
	if (n_disj > 1 && product > JS_MAX_DISTRIBUTION)
		return js_kw_error(ctx, LLM_ERR_UNSUPPORTED, conj[owner].info,
						kind == JS_MASK_ANYOF ? "anyOf" : "oneOf",
						"allOf too complex: more than %d combinations of anyOf/oneOf branches",
						JS_MAX_DISTRIBUTION);

	children = llm_calloc((size_t) n_branches + 1, sizeof(int32_t));
	if (children == NULL)
		return js_nomem(ctx);
	for (const cJSON *b = arr->child; b != NULL; b = b->next)
	{
		js_conj	c = {0};
		int32_t		child;
		bool		dup = false;

		st = conj_copy(ctx, &c, conj, n);
		if (st == LLM_OK)
		{
			c.a[owner].mask |= kind;
			st = conj_add_json(ctx, &c, b, 0);
		}
		if (st == LLM_OK)
			st = js_node_for_conj(ctx, &c, &child);
		llm_free(c.a);
		if (st != LLM_OK)
			break;
		/* anyOf: the same alternative twice is one; oneOf keeps them (they overlap) */
		for (int32_t k = 0; k < n_children && kind == JS_MASK_ANYOF && !dup; k++)
			dup = children[k] == child;
		if (!dup)
			children[n_children++] = child;
	}
	ctx->nodes[idx].kind = LLM_SN_ANYOF;
	ctx->nodes[idx].children = children;
	ctx->nodes[idx].n_children = n_children;
	if (kind == JS_MASK_ONEOF)
		ctx->extra[idx].oneof_info = conj[owner].info;
	return st;
}

/* ---------------------------------------------------------------- typed */

static bool
bounds_empty(const js_bounds *b)
{
	return b->has_min && b->has_max &&
		(b->min > b->max || (b->min == b->max && (b->min_excl || b->max_excl)));
}

/* the integers in the bounds: [*lo, *hi] (infinite when unbounded) */
static void
integer_range(const js_bounds *b, double *lo, double *hi)
{
	*lo = -INFINITY;
	*hi = INFINITY;
	if (b->has_min)
	{
		*lo = ceil(b->min);
		if (b->min_excl && *lo == b->min)
			*lo = fabs(*lo) < JS_TWO53 ? *lo + 1 : nextafter(*lo, INFINITY);
	}
	if (b->has_max)
	{
		*hi = floor(b->max);
		if (b->max_excl && *hi == b->max)
			*hi = fabs(*hi) < JS_TWO53 ? *hi - 1 : nextafter(*hi, -INFINITY);
	}
}

/* does every integer satisfy multipleOf m?  (1, 1/2, 1/4, ...: exactly) */
static bool
integers_are_multiples(double m)
{
	for (int k = 0; k <= 30; k++)
		if (ldexp(m, k) == 1.0)
			return true;
	return false;
}

typedef struct name_list
{
	const char **names;
	int32_t		n;
	int32_t		cap;
	js_map		index;
} name_list;

static llm_status
name_add(js_ctx *ctx, name_list *nl, const char *name, bool *added)
{
	int32_t		found;

	*added = false;
	if (js_map_get(&nl->index, name, strlen(name), &found))
		return LLM_OK;
	if (nl->n == nl->cap)
	{
		int32_t		cap = nl->cap ? nl->cap * 2 : 16;
		const char **grown = llm_realloc(nl->names, sizeof(char *) * nl->cap,
										 sizeof(char *) * cap);

		if (grown == NULL)
			return js_nomem(ctx);
		nl->names = grown;
		nl->cap = cap;
	}
	if (js_map_put(&nl->index, name, strlen(name), nl->n) != LLM_OK)
		return js_nomem(ctx);
	nl->names[nl->n++] = name;
	*added = true;
	return LLM_OK;
}

/*
 * The conj a property's value must satisfy: in every part, the property's
 * own schema, the patternProperties whose pattern matches the name, or
 * else additionalProperties.
 */
static llm_status
property_conj(js_ctx *ctx, const js_atom *conj, int32_t n, const char *name,
			  js_conj *c, bool *required_bool)
{
	llm_status	st;

	*required_bool = false;
	for (int32_t i = 0; i < n; i++)
	{
		int32_t		ai = conj[i].info;
		js_info    *in = &ctx->infos[ai];
		const cJSON *decl;
		bool		matched;

		if ((st = js_info_property(ctx, ai, name, &decl)) != LLM_OK)
			return st;
		matched = decl != NULL;

		if (decl != NULL)
		{
			int32_t		di;

			if ((st = js_info_get(ctx, decl, &di)) != LLM_OK ||
				(st = js_info_parse(ctx, di)) != LLM_OK ||
				(st = js_conj_add(ctx, c, di, 0)) != LLM_OK)
				return st;
			if (ctx->infos[di].required_bool)
				*required_bool = true;
			in = &ctx->infos[ai];
		}
		if (in->pattern_props != NULL)
		{
			for (const cJSON *pp = in->pattern_props->child; pp != NULL; pp = pp->next)
			{
				llm_regex  *re;

				st = js_check_regex(ctx, pp->string, LLM_REGEX_SEARCH, ai,
									"patternProperties", &re);
				if (st != LLM_OK)
					return st;
				if (llm_regex_matches(re, name, strlen(name)))
				{
					matched = true;
					if ((st = conj_add_json(ctx, c, pp, 0)) != LLM_OK)
						return st;
				}
				else if (!js_name_certain(name))
				{
					/* dialects may disagree: apply both readings */
					if ((st = conj_add_json(ctx, c, pp, 0)) != LLM_OK)
						return st;
				}
			}
			in = &ctx->infos[ai];
		}
		if (!matched && in->additional != NULL &&
			(st = conj_add_json(ctx, c, in->additional, 0)) != LLM_OK)
			return st;
	}
	return LLM_OK;
}

/*
 * The names every value of the conj must have: required, draft-03
 * "required": true, and the dependents of required names (dependencies /
 * dependentRequired with arrays), to a fixpoint.
 */
static llm_status
required_closure(js_ctx *ctx, const js_atom *conj, int32_t n, name_list *req)
{
	bool		added;
	llm_status	st = LLM_OK;

	for (int32_t i = 0; i < n && st == LLM_OK; i++)
	{
		js_info    *in = &ctx->infos[conj[i].info];

		if (in->required != NULL)
			for (const cJSON *r = in->required->child; r != NULL && st == LLM_OK; r = r->next)
				st = name_add(ctx, req, r->valuestring, &added);
		if (in->properties != NULL)
			for (const cJSON *p = in->properties->child; p != NULL && st == LLM_OK; p = p->next)
			{
				int32_t		pi;

				if ((st = js_info_get(ctx, p, &pi)) == LLM_OK &&
					(st = js_info_parse(ctx, pi)) == LLM_OK &&
					ctx->infos[pi].required_bool)
					st = name_add(ctx, req, p->string, &added);
			}
	}
	for (bool changed = true; changed && st == LLM_OK;)
	{
		changed = false;
		for (int32_t i = 0; i < n && st == LLM_OK; i++)
		{
			js_info    *in = &ctx->infos[conj[i].info];

			for (int k = 0; k < 2; k++)
			{
				const cJSON *deps = k ? in->dependent_required : in->dependencies;
				int32_t		found;

				if (deps == NULL)
					continue;
				for (const cJSON *d = deps->child; d != NULL && st == LLM_OK; d = d->next)
				{
					if (!cJSON_IsArray(d) ||
						!js_map_get(&req->index, d->string, strlen(d->string), &found))
						continue;
					for (const cJSON *r = d->child; r != NULL && st == LLM_OK; r = r->next)
					{
						st = name_add(ctx, req, r->valuestring, &added);
						changed = changed || added;
					}
				}
			}
		}
	}
	return st;
}

static bool
name_listed(const name_list *nl, const char *name)
{
	int32_t		found;

	return js_map_get(&nl->index, name, strlen(name), &found);
}

/* does name satisfy propertyNames pn?  If not: optional names are
 * excluded, a required one is recorded in *fails */
static llm_status
check_property_name(js_ctx *ctx, const cJSON *pn, const char *name, const name_list *req,
					name_list *excluded, bool *fails)
{
	cJSON	   *v;
	int32_t		pi;
	js_atom		atom;
	bool		ok;
	bool		added;
	llm_status	st;

	if (name_listed(excluded, name))
		return LLM_OK;
	if ((st = js_info_get(ctx, pn, &pi)) != LLM_OK)
		return st;
	v = cJSON_CreateString(name);
	if (v == NULL)
		return js_nomem(ctx);
	atom.info = pi;
	atom.mask = 0;
	ctx->unknown_keyword = NULL;
	st = js_validate_conj(ctx, v, &atom, 1, true, &ok);
	cJSON_Delete(v);
	if (st != LLM_OK || ok)
		return st;
	if (name_listed(req, name))
		*fails = true;
	else
		st = name_add(ctx, excluded, name, &added);
	return st;
}

/*
 * patternProperties with minProperties beyond the declared names: extra
 * keys are not generated next to patternProperties, so add optional
 * properties named by the shortest strings of the patterns (each then
 * gets its pattern's schema).  A subset: the names are fixed.
 */
static llm_status
synthesize_names(js_ctx *ctx, const js_atom *conj, int32_t n, int32_t min_props,
				 name_list *nl, const name_list *excluded, char ***owned, int32_t *n_owned)
{
	llm_status	st = LLM_OK;

	for (int32_t i = 0; i < n && nl->n < min_props && st == LLM_OK; i++)
	{
		js_info    *in = &ctx->infos[conj[i].info];

		for (const cJSON *pp = in->pattern_props ? in->pattern_props->child : NULL;
			 pp != NULL && nl->n < min_props && st == LLM_OK; pp = pp->next)
		{
			llm_regex  *re;
			int32_t		start;

			st = js_check_regex(ctx, pp->string, LLM_REGEX_SEARCH, conj[i].info,
								"patternProperties", &re);
			if (st != LLM_OK)
				break;
			start = llm_regex_start(re);
			for (int32_t len = 0; len <= 16 && start >= 0 && nl->n < min_props; len++)
			{
				char		buf[128];
				size_t		blen;
				llm_error	e;
				bool		added;
				bool		plain = true;
				char	   *name;
				char	  **grown;

				if (llm_regex_shortest_finish(re, start, len, len, buf, sizeof(buf) - 1,
											  &blen, &e) != LLM_OK)
					continue;
				buf[blen] = '\0';
				for (size_t k = 0; k < blen; k++)
					plain = plain && (unsigned char) buf[k] >= 0x20 && buf[k] != 0x7F;
				if (!plain || strlen(buf) != blen || name_listed(nl, buf) ||
					name_listed(excluded, buf))
					continue;
				name = llm_strndup(buf, blen);
				grown = llm_realloc(*owned, sizeof(char *) * (size_t) *n_owned,
									sizeof(char *) * (size_t) (*n_owned + 1));
				if (name == NULL || grown == NULL)
				{
					llm_free(name);
					if (grown != NULL)
						*owned = grown;
					return js_nomem(ctx);
				}
				*owned = grown;
				(*owned)[(*n_owned)++] = name;
				st = name_add(ctx, nl, name, &added);
				if (st != LLM_OK)
					break;
			}
		}
	}
	return st;
}

static llm_status
build_object(js_ctx *ctx, int32_t idx, llm_schema_node *nd, const js_atom *conj,
			 int32_t n, const name_list *req, bool extras, bool extras_possible)
{
	name_list	nl = {0};
	name_list	excluded = {0};
	bool		name_fails = false;
	bool		any_patterns = false;
	char	  **owned = NULL;
	int32_t		n_owned = 0;
	llm_status	st = LLM_OK;
	bool		added;

	/*
	 * dependencies whose trigger is not required: the trigger is never
	 * generated (its dependents would have to follow it; a subset)
	 */
	for (int32_t i = 0; i < n && st == LLM_OK; i++)
	{
		js_info    *in = &ctx->infos[conj[i].info];

		for (int k = 0; k < 3; k++)
		{
			const cJSON *deps = k == 0 ? in->dependencies :
				k == 1 ? in->dependent_required : in->dependent_schemas;

			if (deps == NULL)
				continue;
			for (const cJSON *d = deps->child; d != NULL && st == LLM_OK; d = d->next)
				if (!name_listed(req, d->string))
					st = name_add(ctx, &excluded, d->string, &added);
		}
		/* "not": {"required": [a, b]}: never write the first one not required */
		if (in->not_required != NULL)
			for (const cJSON *r = in->not_required->child; r != NULL && st == LLM_OK; r = r->next)
				if (!name_listed(req, r->valuestring))
				{
					st = name_add(ctx, &excluded, r->valuestring, &added);
					break;
				}
	}
	if (st != LLM_OK)
		goto out;

	/*
	 * propertyNames: only declared (and required) names are generated, so
	 * each is checked; an optional name that fails is left out, a required
	 * one leaves no object.  Extra keys are off (their names are free).
	 */
	for (int32_t i = 0; i < n && st == LLM_OK; i++)
	{
		const cJSON *pn = ctx->infos[conj[i].info].property_names;

		if (pn == NULL)
			continue;
		extras = false;
		for (int32_t j = 0; j < n && st == LLM_OK; j++)
		{
			js_info    *in = &ctx->infos[conj[j].info];

			for (const cJSON *p = in->properties ? in->properties->child : NULL;
				 p != NULL && st == LLM_OK; p = p->next)
				st = check_property_name(ctx, pn, p->string, req, &excluded, &name_fails);
		}
		for (int32_t k = 0; k < req->n && st == LLM_OK; k++)
			st = check_property_name(ctx, pn, req->names[k], req, &excluded, &name_fails);
	}
	if (st != LLM_OK)
		goto out;
	if (excluded.n > 0)
	{
		js_extra   *ex = &ctx->extra[idx];

		ex->excluded = llm_calloc((size_t) excluded.n, sizeof(char *));
		if (ex->excluded == NULL)
		{
			st = js_nomem(ctx);
			goto out;
		}
		memcpy(ex->excluded, excluded.names, sizeof(char *) * (size_t) excluded.n);
		ex->n_excluded = excluded.n;
		/* an extra key could be a trigger */
		extras = false;
	}

	/* declared names in order, then names only required */
	for (int32_t i = 0; i < n && st == LLM_OK; i++)
	{
		js_info    *in = &ctx->infos[conj[i].info];

		if (in->properties != NULL)
			for (const cJSON *p = in->properties->child; p != NULL && st == LLM_OK; p = p->next)
				if (!name_listed(&excluded, p->string))
					st = name_add(ctx, &nl, p->string, &added);
	}
	for (int32_t k = 0; k < req->n && st == LLM_OK; k++)
		st = name_add(ctx, &nl, req->names[k], &added);
	for (int32_t i = 0; i < n; i++)
		any_patterns = any_patterns || ctx->infos[conj[i].info].pattern_props != NULL;
	if (st == LLM_OK && any_patterns && nl.n < nd->min_props)
		st = synthesize_names(ctx, conj, n, nd->min_props, &nl, &excluded, &owned, &n_owned);
	if (st != LLM_OK)
		goto out;
	/*
	 * minProperties beyond the names we have, and the schema allows other
	 * keys: generate extra keys after all (their values as the schema says:
	 * anything, when additionalProperties is absent)
	 */
	if (!extras && extras_possible && excluded.n == 0 && nl.n < nd->min_props)
		extras = true;
	for (int32_t i = 0; i < n && extras; i++)
		if (ctx->infos[conj[i].info].property_names != NULL)
			extras = false;
	nd->props = llm_calloc((size_t) nl.n + 2, sizeof(llm_schema_prop));
	if (nd->props == NULL)
	{
		st = js_nomem(ctx);
		goto out;
	}
	for (int32_t k = 0; k < nl.n; k++)
	{
		const char *name = nl.names[k];
		js_conj	c = {0};
		bool		req_bool;
		llm_schema_prop *p = &nd->props[k];
		size_t		len = 0;
		size_t		cap = 0;
		int32_t		child;

		st = property_conj(ctx, conj, n, name, &c, &req_bool);
		if (st == LLM_OK)
			st = js_node_for_conj(ctx, &c, &child);
		llm_free(c.a);
		if (st != LLM_OK)
			goto out;
		p->required = name_listed(req, name);
		p->node = child;
		p->name_len = strlen(name);
		p->name = llm_strndup(name, p->name_len);
		nd->n_props = k + 1;
		if (p->name == NULL ||
			js_print_string(name, p->name_len, &p->key_json, &len, &cap) != LLM_OK)
		{
			st = js_nomem(ctx);
			goto out;
		}
		p->key_json_len = len;
	}
	if (name_fails)
	{
		/* a required name fails propertyNames: no object (a property that
		 * can never be written stands for that) */
		llm_schema_prop *p = &nd->props[nd->n_props];
		size_t		len = 0;
		size_t		cap = 0;

		st = never_node(ctx, &p->node);
		if (st != LLM_OK)
			goto out;
		p->required = true;
		p->name = llm_strndup("", 0);
		nd->n_props++;
		if (p->name == NULL || js_print_string("", 0, &p->key_json, &len, &cap) != LLM_OK)
		{
			st = js_nomem(ctx);
			goto out;
		}
		p->key_json_len = len;
	}
	if (extras)
	{
		js_conj	c = {0};

		for (int32_t i = 0; i < n && st == LLM_OK; i++)
			if (ctx->infos[conj[i].info].additional != NULL)
				st = conj_add_json(ctx, &c, ctx->infos[conj[i].info].additional, 0);
		if (st == LLM_OK)
			st = js_node_for_conj(ctx, &c, &nd->additional);
		llm_free(c.a);
	}
out:
	llm_free(nl.names);
	js_map_free(&nl.index);
	llm_free(excluded.names);
	js_map_free(&excluded.index);
	for (int32_t k = 0; k < n_owned; k++)
		llm_free(owned[k]);
	llm_free(owned);
	return st;
}

static llm_status
build_array(js_ctx *ctx, llm_schema_node *nd, const js_atom *conj, int32_t n)
{
	int32_t		n_prefix = 0;
	llm_status	st = LLM_OK;

	for (int32_t i = 0; i < n; i++)
	{
		js_info    *in = &ctx->infos[conj[i].info];

		if (in->prefix != NULL && cJSON_GetArraySize(in->prefix) > n_prefix)
			n_prefix = cJSON_GetArraySize(in->prefix);
	}
	if (n_prefix > nd->max_items)
		n_prefix = nd->max_items;
	if (n_prefix > 0)
	{
		nd->prefix = llm_calloc((size_t) n_prefix, sizeof(int32_t));
		if (nd->prefix == NULL)
			return js_nomem(ctx);
	}
	for (int32_t e = 0; e <= n_prefix && st == LLM_OK; e++)
	{
		js_conj	c = {0};
		int32_t		child;

		if (e == n_prefix && nd->max_items <= n_prefix)
			break;				/* no element after the prefix */
		for (int32_t i = 0; i < n && st == LLM_OK; i++)
		{
			js_info    *in = &ctx->infos[conj[i].info];
			int32_t		size = in->prefix ? cJSON_GetArraySize(in->prefix) : 0;

			if (e < size)
			{
				st = conj_add_json(ctx, &c, cJSON_GetArrayItem(in->prefix, e), 0);
				/* prefixItems under a legacy draft: items applies to all */
				if (st == LLM_OK && in->items != NULL && ctx->legacy && !in->prefix_from_items)
					st = conj_add_json(ctx, &c, in->items, 0);
			}
			else if (in->items != NULL)
				st = conj_add_json(ctx, &c, in->items, 0);
			else if (in->prefix_from_items && in->additional_items != NULL)
				st = conj_add_json(ctx, &c, in->additional_items, 0);
		}
		if (st == LLM_OK)
			st = js_node_for_conj(ctx, &c, &child);
		llm_free(c.a);
		if (st != LLM_OK)
			break;
		if (e < n_prefix)
		{
			nd->prefix[e] = child;
			nd->n_prefix = e + 1;
		}
		else
			nd->items = child;
	}
	return st;
}

/* true, {}, or absent */
static bool
schema_trivially_true(const cJSON *s)
{
	return s == NULL || cJSON_IsTrue(s) || (cJSON_IsObject(s) && s->child == NULL);
}

static llm_status
build_typed(js_ctx *ctx, int32_t idx, const js_atom *conj, int32_t n)
{
	llm_schema_node nd;
	js_extra   *ex;
	uint32_t	types = LLM_JT_ANY;
	js_bounds	b = {0};
	int32_t		min_chars = 0;
	int32_t		max_len = -1;
	int32_t		unique_info = -1;
	int32_t		format_info = -1;
	bool		pattern_props = false;
	bool		add_explicit = false;
	bool		add_false = false;
	bool		closed = false;
	bool		not_number = false;
	bool		any_object = true;
	bool		any_array = true;
	uint32_t	gen_remove = 0;
	js_bounds	gb = {0};		/* bounds on what is generated only */
	js_pattern_list pl = {0};
	name_list	req = {0};
	llm_status	st = LLM_OK;

	memset(&nd, 0, sizeof(nd));
	nd.kind = LLM_SN_TYPED;
	nd.items = -1;
	nd.additional = -1;
	nd.max_items = INT32_MAX;
	nd.max_props = INT32_MAX;
	nd.min_bytes = JS_INF;

	for (int32_t i = 0; i < n && st == LLM_OK; i++)
	{
		int32_t		ai = conj[i].info;
		js_info    *in = &ctx->infos[ai];

		types &= in->types;
		not_number = not_number || in->not_number;
		if (in->properties || in->pattern_props || !schema_trivially_true(in->additional) ||
			in->required || in->min_props > 0 || in->max_props < INT32_MAX ||
			in->dependencies || in->dependent_required || in->dependent_schemas ||
			in->property_names || in->not_required)
			any_object = false;
		if (in->prefix || !schema_trivially_true(in->items) || in->min_items > 0 ||
			in->max_items < INT32_MAX || in->unique_items || in->contains)
			any_array = false;
		if (in->bounds.has_min)
			js_tighten_min(&b, in->bounds.min, in->bounds.min_excl);
		if (in->bounds.has_max)
			js_tighten_max(&b, in->bounds.max, in->bounds.max_excl);
		if (in->min_len > min_chars)
			min_chars = in->min_len;
		if (in->max_len >= 0 && (max_len < 0 || in->max_len < max_len))
			max_len = in->max_len;
		if (in->pattern != NULL)
			st = js_pattern_add(ctx, &pl, in->pattern, LLM_REGEX_SEARCH, ai, "pattern");
		if (in->format != NULL)
		{
			if (in->format_pattern != NULL)
			{
				if (st == LLM_OK)
					st = js_pattern_add(ctx, &pl, in->format_pattern, LLM_REGEX_FULL, ai, "format");
			}
			else
			{
				if (format_info < 0)
					format_info = ai;
				/* OpenAPI's integer formats: validators ignore them, we keep
				 * the generated numbers in range */
				if (strcmp(in->format, "int32") == 0)
				{
					js_tighten_min(&gb, -2147483648.0, false);
					js_tighten_max(&gb, 2147483647.0, false);
				}
				else if (strcmp(in->format, "int64") == 0)
				{
					js_tighten_min(&gb, -9223372036854775808.0, false);
					js_tighten_max(&gb, 9223372036854774784.0, false);
				}
			}
		}
		if (in->min_items > nd.min_items)
			nd.min_items = in->min_items;
		if (in->max_items < nd.max_items)
			nd.max_items = in->max_items;
		if (in->unique_items && unique_info < 0)
			unique_info = ai;
		if (in->min_props > nd.min_props)
			nd.min_props = in->min_props;
		if (in->max_props < nd.max_props)
			nd.max_props = in->max_props;
		if (in->pattern_props != NULL)
			pattern_props = true;
		if (in->additional != NULL)
		{
			if (cJSON_IsFalse(in->additional))
			{
				add_false = true;
				if (in->pattern_props == NULL)
					closed = true;
			}
			else
				add_explicit = true;
		}
	}
	if (st == LLM_OK)
		st = required_closure(ctx, conj, n, &req);
	if (st != LLM_OK)
		goto out;

	/* what no value of a type can satisfy removes the type (true semantics) */
	if ((types & JS_NUMBER_TYPES) && bounds_empty(&b))
		types &= ~JS_NUMBER_TYPES;
	for (int32_t i = 0; i < n && (types & JS_NUMBER_TYPES); i++)
	{
		js_info    *in = &ctx->infos[conj[i].info];
		double		r;

		if (!in->has_multiple_of)
			continue;
		if (in->multiple_of == 1)
		{
			/* only integers are multiples of 1 */
			types &= ~LLM_JT_FRACTION;
			continue;
		}
		if (integers_are_multiples(in->multiple_of))
		{
			gen_remove |= LLM_JT_FRACTION;
			continue;
		}
		/*
		 * m close to 1/r (0.01, 0.001, ...): Python's jsonschema tests n / m
		 * in floating point.  For an integer n with |n * r| < 2^53 the
		 * quotient rounds to exactly n * r when m * r is within 2^-54 of 1
		 * (the error n * r * (m * r - 1) stays under half a unit in the last
		 * place), so integers in that range are generated.
		 */
		r = nearbyint(1.0 / in->multiple_of);
		if (r >= 2 && r <= 1073741824.0 &&
			fabs(fma(in->multiple_of, r, -1.0)) <= ldexp(1.0, -54))
		{
			double		lim = floor((JS_TWO53 - 1) / r);

			gen_remove |= LLM_JT_FRACTION;
			js_tighten_min(&gb, -lim, false);
			js_tighten_max(&gb, lim, false);
			continue;
		}
		st = js_kw_error(ctx, LLM_ERR_UNSUPPORTED, conj[i].info, "multipleOf", NULL);
		goto out;
	}
	if (types & LLM_JT_INTEGER)
	{
		double		lo;
		double		hi;

		integer_range(&b, &lo, &hi);
		if (lo > hi)
			types &= ~LLM_JT_INTEGER;
	}
	if (max_len >= 0 && min_chars > max_len)
		types &= ~LLM_JT_STRING;
	if (nd.min_items > nd.max_items)
		types &= ~LLM_JT_ARRAY;
	if (nd.min_props > nd.max_props || req.n > nd.max_props)
		types &= ~LLM_JT_OBJECT;
	for (int32_t i = 0; i < n && (types & LLM_JT_OBJECT); i++)
	{
		const cJSON *nr = ctx->infos[conj[i].info].not_required;
		bool		all = nr != NULL;

		for (const cJSON *r = nr ? nr->child : NULL; r != NULL && all; r = r->next)
			all = name_listed(&req, r->valuestring);
		if (all)
			types &= ~LLM_JT_OBJECT;	/* "not": {"required": names it requires} */
	}

	ex = &ctx->extra[idx];
	ex->true_types = types;
	ex->true_bounds = b;
	ex->closed = closed;
	ex->any_object = any_object;
	ex->any_array = any_array;
	ex->any_number = !b.has_min && !b.has_max;
	for (int32_t i = 0; i < n; i++)
		if (ctx->infos[conj[i].info].has_multiple_of)
			ex->any_number = false;
	if (types == 0)
	{
		nd.kind = LLM_SN_NEVER;
		goto out;
	}

	/* keywords we do not enforce, where they apply */
	for (int32_t i = 0; i < n; i++)
	{
		js_info    *in = &ctx->infos[conj[i].info];

		for (int k = 0; k < in->n_unsup; k++)
			if (in->unsup[k].types & types)
			{
				st = js_kw_error(ctx, LLM_ERR_UNSUPPORTED, conj[i].info, in->unsup[k].keyword, NULL);
				goto out;
			}
	}
	if (unique_info >= 0 && (types & LLM_JT_ARRAY) && nd.max_items >= 2)
	{
		st = js_kw_error(ctx, LLM_ERR_UNSUPPORTED, unique_info, "uniqueItems", NULL);
		goto out;
	}
	if (format_info >= 0 && (types & LLM_JT_STRING))
	{
		st = js_kw_error(ctx, LLM_ERR_UNSUPPORTED, format_info, "format",
					  "format \"%s\" is not supported", ctx->infos[format_info].format);
		goto out;
	}

	/* what is generated: a subset */
	if (not_number)
		types &= ~JS_NUMBER_TYPES;
	types &= ~gen_remove;
	if (gb.has_min)
		js_tighten_min(&b, gb.min, gb.min_excl);
	if (gb.has_max)
		js_tighten_max(&b, gb.max, gb.max_excl);
	if ((types & JS_NUMBER_TYPES) && bounds_empty(&b))
		types &= ~JS_NUMBER_TYPES;
	if (types == 0)
	{
		nd.kind = LLM_SN_NEVER;
		goto out;
	}
	if (types & LLM_JT_INTEGER)
	{
		double		lo;
		double		hi;

		integer_range(&b, &lo, &hi);
		if (lo > hi)
			types &= ~LLM_JT_INTEGER;
	}
	if (types == 0)
	{
		nd.kind = LLM_SN_NEVER;
		goto out;
	}
	if ((types & JS_NUMBER_TYPES) == LLM_JT_INTEGER)
	{
		double		lo;
		double		hi;

		/* integers only: inclusive integer bounds */
		integer_range(&b, &lo, &hi);
		b.has_min = isfinite(lo);
		b.min = b.has_min ? lo : 0;
		b.min_excl = false;
		b.has_max = isfinite(hi);
		b.max = b.has_max ? hi : 0;
		b.max_excl = false;
	}
	nd.types = types;
	nd.has_min = b.has_min;
	nd.min = b.min;
	nd.min_exclusive = b.min_excl;
	nd.has_max = b.has_max;
	nd.max = b.max;
	nd.max_exclusive = b.max_excl;

	nd.min_chars = min_chars;
	ex->max_chars_explicit = max_len >= 0;
	nd.max_chars = max_len >= 0 ? max_len :
		(min_chars > LLM_SCHEMA_DEFAULT_MAX_CHARS ? min_chars : LLM_SCHEMA_DEFAULT_MAX_CHARS);
	if ((types & LLM_JT_STRING) && pl.n > 0)
	{
		st = js_node_regex(ctx, &pl, &nd.regex);
		if (st != LLM_OK)
			goto out;
	}
	if (!(types & LLM_JT_ARRAY))
	{
		nd.min_items = 0;
		nd.max_items = INT32_MAX;
	}
	else if ((st = build_array(ctx, &nd, conj, n)) != LLM_OK)
		goto out;
	if (!(types & LLM_JT_OBJECT))
	{
		nd.min_props = 0;
		nd.max_props = INT32_MAX;
	}
	else if ((st = build_object(ctx, idx, &nd, conj, n, &req,
								add_explicit && !add_false && !pattern_props,
								!add_false && !pattern_props)) != LLM_OK)
		goto out;

	ex = &ctx->extra[idx];
	{
		char		buf[512];
		size_t		len;

		if ((types & LLM_JT_INTEGER) &&
			js_shortest_number(&nd, LLM_JT_INTEGER, buf, sizeof(buf), &len))
			ex->int_cost = (int64_t) len;
		if ((types & LLM_JT_FRACTION) &&
			js_shortest_number(&nd, LLM_JT_FRACTION, buf, sizeof(buf), &len))
			ex->frac_cost = (int64_t) len;
		if (types & LLM_JT_STRING)
			ex->str_cost = js_string_cost(&nd);
	}
out:
	ctx->nodes[idx] = nd;
	js_pattern_list_free(&pl);
	llm_free(req.names);
	js_map_free(&req.index);
	return st;
}

/*
 * dependencies / dependentSchemas with a schema whose trigger is required:
 * the schema applies to the whole value, so it joins the conj.  If that
 * changes the conj, this node becomes an alias (a one-child anyOf, removed
 * when finalizing) of the node of the larger conj.
 */
static llm_status
expand_dependent_schemas(js_ctx *ctx, int32_t idx, js_atom **conj, int32_t *n,
						 bool *done)
{
	js_conj	c = {0};
	bool		grown = false;
	llm_status	st = LLM_OK;
	bool		any = false;

	*done = false;
	for (int32_t i = 0; i < *n && !any; i++)
	{
		js_info    *in = &ctx->infos[(*conj)[i].info];

		any = in->dependent_schemas != NULL || in->dependencies != NULL;
	}
	if (!any)
		return LLM_OK;
	if ((st = conj_copy(ctx, &c, *conj, *n)) != LLM_OK)
		return st;
	for (bool changed = true; changed && st == LLM_OK;)
	{
		name_list	req = {0};

		changed = false;
		st = required_closure(ctx, c.a, c.n, &req);
		for (int32_t i = 0; i < c.n && st == LLM_OK; i++)
		{
			for (int k = 0; k < 2 && st == LLM_OK; k++)
			{
				const cJSON *deps = k ? ctx->infos[c.a[i].info].dependent_schemas :
					ctx->infos[c.a[i].info].dependencies;

				if (deps == NULL)
					continue;
				for (const cJSON *d = deps->child; d != NULL && st == LLM_OK; d = d->next)
				{
					int32_t		di;
					int32_t		before = c.n;

					if (!js_is_schema(d) || !name_listed(&req, d->string))
						continue;
					if ((st = js_info_get(ctx, d, &di)) == LLM_OK)
						st = js_conj_add(ctx, &c, di, 0);
					if (c.n != before)
						changed = grown = true;
				}
			}
		}
		llm_free(req.names);
		js_map_free(&req.index);
		if (st == LLM_OK && changed)
		{
			bool		never;

			st = conj_close(ctx, &c, &never);
			if (st == LLM_OK && never)
			{
				ctx->nodes[idx].kind = LLM_SN_NEVER;
				*done = true;
				llm_free(c.a);
				return LLM_OK;
			}
		}
	}
	if (st == LLM_OK && grown)
	{
		int32_t		target;
		int32_t    *children;

		st = js_node_for_conj(ctx, &c, &target);
		if (st == LLM_OK)
		{
			children = llm_malloc(sizeof(int32_t));
			if (children == NULL)
				st = js_nomem(ctx);
			else
			{
				children[0] = target;
				ctx->nodes[idx].kind = LLM_SN_ANYOF;
				ctx->nodes[idx].children = children;
				ctx->nodes[idx].n_children = 1;
				*done = true;
			}
		}
	}
	llm_free(c.a);
	return st;
}

llm_status
js_build_node(js_ctx *ctx, int32_t idx)
{
	js_atom    *conj;
	int32_t		n = ctx->extra[idx].n_conj;
	llm_status	st;

	ctx->extra[idx].built = true;
	/* nodes are added while building: work on a copy of the conj */
	conj = llm_malloc(sizeof(js_atom) * (size_t) (n + 1));
	if (conj == NULL)
		return js_nomem(ctx);
	if (n > 0)
		memcpy(conj, ctx->extra[idx].conj, sizeof(js_atom) * (size_t) n);

	{
		bool		done;

		st = expand_dependent_schemas(ctx, idx, &conj, &n, &done);
		if (st != LLM_OK || done)
		{
			llm_free(conj);
			return st;
		}
	}
	{
		int32_t		lit = -1;
		int32_t		owner = -1;
		uint8_t		kind = 0;

		for (int32_t i = 0; i < n && lit < 0; i++)
		{
			js_info    *in = &ctx->infos[conj[i].info];

			if (in->enum_values != NULL || in->const_value != NULL)
				lit = conj[i].info;
		}
		for (int32_t i = 0; i < n && owner < 0 && lit < 0; i++)
		{
			js_info    *in = &ctx->infos[conj[i].info];

			if (in->any_of != NULL && !(conj[i].mask & JS_MASK_ANYOF))
			{
				owner = i;
				kind = JS_MASK_ANYOF;
			}
			else if (in->one_of != NULL && !(conj[i].mask & JS_MASK_ONEOF))
			{
				owner = i;
				kind = JS_MASK_ONEOF;
			}
		}
		if (lit >= 0)
			st = build_literals(ctx, idx, conj, n, lit);
		else if (owner >= 0)
			st = build_anyof(ctx, idx, conj, n, owner, kind);
		else
			st = build_typed(ctx, idx, conj, n);
	}
	llm_free(conj);
	return st;
}
