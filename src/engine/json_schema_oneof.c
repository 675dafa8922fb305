/*
 * json_schema_oneof.c — accepting oneOf only when it is sound: a document
 * generated from one branch must fail every other branch as a validator
 * reads it (additionalProperties absent = anything, and so on).  Proofs
 * use the types, number ranges, string lengths, array lengths, required
 * and closed properties and enum values of the nodes (may_overlap).  Before
 * proving, branches are narrowed where that is free or cheap: a type both
 * branches accept entirely is dropped from both (such values match two
 * branches, so they never satisfy the oneOf), and a branch stops writing
 * an optional property another branch requires.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_schema_internal.h"

/* ---------------------------------------------------------------- oneOf */

static bool may_overlap(js_ctx *ctx, int32_t a, int32_t b, int depth);

bool
js_feasible(js_ctx *ctx, int32_t node)
{
	return node >= 0 && ctx->nodes[node].min_bytes != JS_INF;
}

/* may value v (from the schema document) validate against node's conj? */
static bool
value_may_match(js_ctx *ctx, const cJSON *v, int32_t node)
{
	js_extra   *ex = &ctx->extra[node];
	bool		ok;

	if (ctx->nodes[node].kind == LLM_SN_NEVER && ex->lit_source == NULL && node == ctx->never_node)
		return false;
	if (js_validate_conj(ctx, v, ex->conj, ex->n_conj, false, &ok) != LLM_OK)
		return true;
	return ok;
}

static int32_t
find_prop(const llm_schema_node *n, const char *name, size_t len)
{
	for (int32_t p = 0; p < n->n_props; p++)
		if (n->props[p].name_len == len && memcmp(n->props[p].name, name, len) == 0)
			return p;
	return -1;
}

static bool
name_excluded(const js_extra *ex, const char *name, size_t len)
{
	for (int32_t k = 0; k < ex->n_excluded; k++)
		if (strlen(ex->excluded[k]) == len && memcmp(ex->excluded[k], name, len) == 0)
			return true;
	return false;
}

/* can a generated document of node a contain key name? */
static bool
gen_may_have(js_ctx *ctx, const llm_schema_node *a, const char *name, size_t len)
{
	int32_t		p = find_prop(a, name, len);

	if (p >= 0)
		return a->props[p].required || js_feasible(ctx, a->props[p].node);
	return a->additional >= 0 && js_feasible(ctx, a->additional);
}

static bool
objects_may_overlap(js_ctx *ctx, int32_t ai, int32_t bi, int depth)
{
	const llm_schema_node *a = &ctx->nodes[ai];
	const llm_schema_node *b = &ctx->nodes[bi];
	int32_t		lo = 0;
	int32_t		hi = 0;

	for (int32_t p = 0; p < a->n_props; p++)
	{
		lo += a->props[p].required;
		hi += a->props[p].required || js_feasible(ctx, a->props[p].node);
	}
	if (a->additional >= 0 && js_feasible(ctx, a->additional))
		hi = INT32_MAX;
	if (hi > a->max_props)
		hi = a->max_props;
	if (lo < a->min_props)
		lo = a->min_props;
	if (hi < b->min_props || lo > b->max_props)
		return false;
	/* b requires a key a never writes */
	for (int32_t p = 0; p < b->n_props; p++)
		if (b->props[p].required &&
			!gen_may_have(ctx, a, b->props[p].name, b->props[p].name_len))
			return false;
	/* a always writes a key whose value b rejects */
	for (int32_t p = 0; p < a->n_props; p++)
	{
		int32_t		q;

		if (!a->props[p].required)
			continue;
		q = find_prop(b, a->props[p].name, a->props[p].name_len);
		if (q >= 0)
		{
			if (!may_overlap(ctx, a->props[p].node, b->props[q].node, depth + 1))
				return false;
		}
		else if (ctx->extra[bi].closed &&
				 !name_excluded(&ctx->extra[bi], a->props[p].name, a->props[p].name_len))
			return false;
	}
	return true;
}

static bool
arrays_may_overlap(js_ctx *ctx, int32_t ai, int32_t bi, int depth)
{
	const llm_schema_node *a = &ctx->nodes[ai];
	const llm_schema_node *b = &ctx->nodes[bi];
	int32_t		hi = a->max_items;

	if (!(a->items >= 0 && js_feasible(ctx, a->items)) && a->n_prefix < hi)
		hi = a->n_prefix;
	if (hi < b->min_items || a->min_items > b->max_items)
		return false;
	if (a->min_items >= 1)
	{
		int32_t		ea = a->n_prefix > 0 ? a->prefix[0] : a->items;
		int32_t		eb = b->n_prefix > 0 ? b->prefix[0] : b->items;

		if (ea >= 0 && eb >= 0 && !may_overlap(ctx, ea, eb, depth + 1))
			return false;
	}
	return true;
}

/*
 * The language a validator's regex (Python's re) may accept for pattern p,
 * as a pattern our automaton reads the same way or more broadly: "." and
 * \d \w \s \S (whose sets differ beyond ASCII) become [^\n], any
 * character of a string we generate.  \D and \W are kept (Python's sets
 * are smaller).  NULL when that is not possible (\b, \A, \Z, back
 * references, {,n}, a class escape inside brackets) or out of memory.
 */
static char *
validator_pattern(const char *p)
{
	char	   *out = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	bool		in_class = false;
	bool		ok = true;

	for (; *p && ok; p++)
	{
		const char *piece = p;
		size_t		n = 1;

		if (*p == '\\')
		{
			unsigned char e = (unsigned char) p[1];

			/* letters and digits other than these mean different things
			 * (\A \Z \1 \p ...): not used for a proof */
			if (e == '\0' ||
				(((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) &&
				 strchr("dwsSDWnrtfvxu", e) == NULL))
				return llm_free(out), NULL;
			if (strchr("dwsS", p[1]) != NULL)
			{
				if (in_class)
					return llm_free(out), NULL;
				piece = "[^\\n]";
				n = 5;
			}
			else if (strchr("DW", p[1]) != NULL && in_class)
				return llm_free(out), NULL;
			else
				n = 2;
			p++;
		}
		else if (*p == '{' && p[1] == ',')
			return llm_free(out), NULL; /* Python: {0,n}; ECMA: literal */
		else if (*p == '[' && !in_class && (p[1] == ']' || (p[1] == '^' && p[2] == ']')))
			return llm_free(out), NULL; /* Python: "]" literal; ECMA: empty */
		else if (*p == '[')
			in_class = true;
		else if (*p == ']')
			in_class = false;
		else if (*p == '.' && !in_class)
		{
			piece = "[^\\n]";
			n = 5;
		}
		ok = js_buf_append(&out, &len, &cap, piece, n) == LLM_OK;
	}
	if (!ok)
	{
		llm_free(out);
		return NULL;
	}
	if (out == NULL)
		return llm_strndup("", 0);
	return out;
}

/*
 * Strings: lengths, a's automaton against b's lengths, and a's patterns
 * intersected with b's as a validator may read them (validator_pattern;
 * b's "pattern" keywords only: b's formats are checked by the validator's
 * own code, not our patterns).
 */
static bool
strings_may_overlap(js_ctx *ctx, int32_t ai, int32_t bi)
{
	const llm_schema_node *a = &ctx->nodes[ai];
	const llm_schema_node *b = &ctx->nodes[bi];
	const js_extra *ea = &ctx->extra[ai];
	const js_extra *eb = &ctx->extra[bi];
	int32_t		lo = a->min_chars > b->min_chars ? a->min_chars : b->min_chars;
	int32_t		hi = a->max_chars;
	js_pattern_list pl = {0};
	int			n_a;
	bool		overlap = true;
	llm_regex  *re;
	char	   *owned[8];
	int			n_owned = 0;

	if (eb->max_chars_explicit && b->max_chars < hi)
		hi = b->max_chars;
	if (lo > hi)
		return false;
	if (a->regex != NULL && (llm_regex_start(a->regex) < 0 ||
							 !llm_regex_can_finish(a->regex, llm_regex_start(a->regex), lo, hi)))
		return false;
	for (int32_t i = 0; i < ea->n_conj && a->regex != NULL; i++)
	{
		js_info    *in = &ctx->infos[ea->conj[i].info];

		if (in->pattern != NULL &&
			js_pattern_add(ctx, &pl, in->pattern, LLM_REGEX_SEARCH, ea->conj[i].info, "pattern") != LLM_OK)
			goto out;
		if (in->format_pattern != NULL &&
			js_pattern_add(ctx, &pl, in->format_pattern, LLM_REGEX_FULL, ea->conj[i].info, "format") != LLM_OK)
			goto out;
	}
	n_a = pl.n;
	for (int32_t i = 0; i < eb->n_conj && n_owned < 8; i++)
	{
		js_info    *in = &ctx->infos[eb->conj[i].info];

		if (in->pattern == NULL)
			continue;
		owned[n_owned] = validator_pattern(in->pattern);
		if (owned[n_owned] == NULL)
			continue;			/* a weaker b: fine */
		if (js_pattern_add(ctx, &pl, owned[n_owned++], LLM_REGEX_SEARCH, eb->conj[i].info,
						   "pattern") != LLM_OK)
			goto out;
	}
	if (pl.n == n_a)
		goto out;				/* b has no pattern to meet */
	if (js_node_regex(ctx, &pl, &re) != LLM_OK)
		goto out;
	overlap = llm_regex_start(re) >= 0 && llm_regex_can_finish(re, llm_regex_start(re), lo, hi);
out:
	js_pattern_list_free(&pl);
	for (int k = 0; k < n_owned; k++)
		llm_free(owned[k]);
	return overlap;
}

static bool
numbers_may_overlap(const llm_schema_node *a, const js_bounds *b)
{
	if (a->has_max && b->has_min &&
		(a->max < b->min || (a->max == b->min && (a->max_exclusive || b->min_excl))))
		return false;
	if (b->has_max && a->has_min &&
		(b->max < a->min || (b->max == a->min && (b->max_excl || a->min_exclusive))))
		return false;
	return true;
}

/*
 * Can a document generated from node a validate against node b as a
 * validator reads b (additionalProperties absent = anything, strings of
 * any length, ...)?  false only when proved; true when unsure.
 */
static bool
may_overlap(js_ctx *ctx, int32_t ai, int32_t bi, int depth)
{
	const llm_schema_node *a;
	const llm_schema_node *b;
	js_extra   *eb;

	if (++ctx->disjoint_steps > JS_DISJOINT_BUDGET || depth > JS_DISJOINT_DEPTH)
		return true;
	if (!js_feasible(ctx, ai))
		return false;
	/* b as a validator reads it: a copy generating less still validates so */
	if (ctx->extra[bi].clone_of >= 0)
		bi = ctx->extra[bi].clone_of;
	a = &ctx->nodes[ai];
	b = &ctx->nodes[bi];
	eb = &ctx->extra[bi];
	if (b->kind == LLM_SN_NEVER && eb->lit_source == NULL)
		return false;
	if (a->kind == LLM_SN_ANYOF)
	{
		for (int32_t k = 0; k < a->n_children; k++)
			if (may_overlap(ctx, a->children[k], bi, depth + 1))
				return true;
		return false;
	}
	if (a->kind == LLM_SN_LITERALS)
	{
		for (int32_t k = 0; k < a->n_literals; k++)
			if (value_may_match(ctx, ctx->extra[ai].lit_json[k], bi))
				return true;
		return false;
	}
	if (a->kind != LLM_SN_TYPED)
		return false;
	if (b->kind == LLM_SN_ANYOF)
	{
		for (int32_t k = 0; k < b->n_children; k++)
			if (may_overlap(ctx, ai, b->children[k], depth + 1))
				return true;
		return false;
	}
	if (eb->lit_source != NULL)
	{
		/* every value b's enum/const could accept, as a validator reads it */
		for (const cJSON *v = eb->lit_is_const ? eb->lit_source : eb->lit_source->child;
			 v != NULL; v = eb->lit_is_const ? NULL : v->next)
			if (value_may_match(ctx, v, bi) && value_may_match(ctx, v, ai))
				return true;
		return false;
	}
	{
		uint32_t	ga = 0;
		uint32_t	tb = eb->true_types;

		for (uint32_t t = 1; t < LLM_JT_ANY; t <<= 1)
			if ((a->types & t) && js_type_cost(ctx->nodes, ctx->extra, ai, t) != JS_INF)
				ga |= t;
		if (ga & tb & (LLM_JT_NULL | LLM_JT_BOOLEAN))
			return true;
		if ((ga & JS_NUMBER_TYPES) && (tb & JS_NUMBER_TYPES) && numbers_may_overlap(a, &eb->true_bounds))
			return true;
		if ((ga & tb & LLM_JT_STRING) && strings_may_overlap(ctx, ai, bi))
			return true;
		if ((ga & tb & LLM_JT_ARRAY) && arrays_may_overlap(ctx, ai, bi, depth))
			return true;
		if ((ga & tb & LLM_JT_OBJECT) && objects_may_overlap(ctx, ai, bi, depth))
			return true;
		return false;
	}
}

static llm_status
clone_node(js_ctx *ctx, int32_t src, int32_t *out)
{
	int32_t		d;
	llm_schema_node *sn;
	llm_schema_node *dn;
	js_extra   *se;
	js_extra   *de;
	llm_status	st = js_new_node(ctx, &d);

	if (st != LLM_OK)
		return st;
	sn = &ctx->nodes[src];
	dn = &ctx->nodes[d];
	se = &ctx->extra[src];
	de = &ctx->extra[d];
	*dn = *sn;
	dn->children = NULL;
	dn->n_children = 0;
	dn->literals = NULL;
	dn->n_literals = 0;
	dn->props = NULL;
	dn->n_props = 0;
	dn->prefix = NULL;
	dn->n_prefix = 0;
	de->true_types = se->true_types;
	de->max_chars_explicit = se->max_chars_explicit;
	de->closed = se->closed;
	de->built = true;
	de->int_cost = se->int_cost;
	de->frac_cost = se->frac_cost;
	de->str_cost = se->str_cost;
	de->clone_of = se->clone_of >= 0 ? se->clone_of : src;
	de->conj = llm_malloc(sizeof(js_atom) * ((size_t) se->n_conj + 1));
	if (de->conj == NULL)
		return js_nomem(ctx);
	if (se->n_conj > 0)
		memcpy(de->conj, se->conj, sizeof(js_atom) * (size_t) se->n_conj);
	de->n_conj = se->n_conj;
	if (sn->n_prefix > 0)
	{
		dn->prefix = llm_malloc(sizeof(int32_t) * (size_t) sn->n_prefix);
		if (dn->prefix == NULL)
			return js_nomem(ctx);
		memcpy(dn->prefix, sn->prefix, sizeof(int32_t) * (size_t) sn->n_prefix);
		dn->n_prefix = sn->n_prefix;
	}
	dn->props = llm_calloc((size_t) sn->n_props + 1, sizeof(llm_schema_prop));
	if (dn->props == NULL)
		return js_nomem(ctx);
	for (int32_t k = 0; k < sn->n_props; k++)
	{
		llm_schema_prop *p = &dn->props[k];

		*p = sn->props[k];
		p->name = llm_strndup(sn->props[k].name, sn->props[k].name_len);
		p->key_json = llm_strndup(sn->props[k].key_json, sn->props[k].key_json_len);
		dn->n_props = k + 1;
		if (p->name == NULL || p->key_json == NULL)
			return js_nomem(ctx);
	}
	*out = d;
	return LLM_OK;
}

static bool
object_typed(js_ctx *ctx, int32_t node)
{
	return ctx->nodes[node].kind == LLM_SN_TYPED &&
		(ctx->nodes[node].types & LLM_JT_OBJECT) != 0;
}

/*
 * An optional property of branch x that branch y rejects (y is closed and
 * does not declare it, or y's schema for it is disjoint from x's): if x
 * always writes it, x's documents fail y.  Returns its index in x, or -1.
 */
static int32_t
promotable(js_ctx *ctx, int32_t cx, int32_t cy)
{
	const llm_schema_node *nx = &ctx->nodes[cx];
	int32_t		yb = ctx->extra[cy].clone_of >= 0 ? ctx->extra[cy].clone_of : cy;
	const llm_schema_node *ny = &ctx->nodes[yb];
	const js_extra *ey = &ctx->extra[yb];

	if (ny->kind != LLM_SN_TYPED)
		return -1;
	for (int32_t p = 0; p < nx->n_props; p++)
	{
		int32_t		q;

		if (nx->props[p].required || !js_feasible(ctx, nx->props[p].node))
			continue;
		q = find_prop(ny, nx->props[p].name, nx->props[p].name_len);
		if (q < 0)
		{
			if (ey->closed && !name_excluded(ey, nx->props[p].name, nx->props[p].name_len))
				return p;
			continue;
		}
		ctx->disjoint_steps = 0;
		if (!may_overlap(ctx, nx->props[p].node, ny->props[q].node, 1))
			return p;
	}
	return -1;
}

/*
 * oneOf branches that differ by which properties they require (oneOf:
 * [{required: [a]}, {required: [b]}] next to properties a and b): a
 * document of branch x must not contain a property branch y requires, so
 * branch x is replaced by a copy that never writes it.  Failing that, a
 * copy that always writes a property y rejects (promotable).  Only for
 * pairs not already proved disjoint.  Returns whether anything changed.
 */
static llm_status
exclude_for_oneofs(js_ctx *ctx, bool *changed)
{
	int32_t		n0 = ctx->n_nodes;
	const char **drops = NULL;
	size_t	   *drop_lens = NULL;
	const char **promotes = NULL;
	size_t	   *promote_lens = NULL;
	llm_status	st = LLM_OK;

	*changed = false;
	/*
	 * A value of a type that two branches both accept entirely (null when
	 * neither says "type", any string when neither constrains strings)
	 * matches both, so it never satisfies the oneOf: those types go.
	 */
	for (int32_t i = 0; i < n0 && st == LLM_OK; i++)
	{
		int32_t		k = ctx->nodes[i].n_children;

		if (ctx->nodes[i].kind != LLM_SN_ANYOF || ctx->extra[i].oneof_info < 0)
			continue;
		for (int32_t x = 0; x < k && st == LLM_OK; x++)
		{
			int32_t		cx = ctx->nodes[i].children[x];
			uint32_t	gx = 0;
			uint32_t	certain = 0;
			int32_t		cl;

			if (ctx->nodes[cx].kind != LLM_SN_TYPED || !js_feasible(ctx, cx))
				continue;
			for (uint32_t t = 1; t < LLM_JT_ANY; t <<= 1)
				if ((ctx->nodes[cx].types & t) &&
					js_type_cost(ctx->nodes, ctx->extra, cx, t) != JS_INF)
					gx |= t;
			for (int32_t y = 0; y < k; y++)
			{
				int32_t		yb = ctx->nodes[i].children[y];
				js_extra   *ey;
				uint32_t	common;

				if (y == x)
					continue;
				if (ctx->extra[yb].clone_of >= 0)
					yb = ctx->extra[yb].clone_of;
				if (ctx->nodes[yb].kind != LLM_SN_TYPED)
					continue;
				ey = &ctx->extra[yb];
				common = gx & ey->true_types;
				certain |= common & (LLM_JT_NULL | LLM_JT_BOOLEAN);
				if ((common & LLM_JT_STRING) && ctx->nodes[yb].min_chars == 0 &&
					!ey->max_chars_explicit && ctx->nodes[yb].regex == NULL)
					certain |= LLM_JT_STRING;
				if ((gx & LLM_JT_INTEGER) && (ey->true_types & JS_NUMBER_TYPES) && ey->any_number)
					certain |= LLM_JT_INTEGER;
				if ((common & LLM_JT_FRACTION) && ey->any_number)
					certain |= LLM_JT_FRACTION;
				if ((common & LLM_JT_ARRAY) && ey->any_array)
					certain |= LLM_JT_ARRAY;
				if ((common & LLM_JT_OBJECT) && ey->any_object)
					certain |= LLM_JT_OBJECT;
			}
			if (certain == 0)
				continue;
			if ((st = clone_node(ctx, cx, &cl)) != LLM_OK)
				break;
			ctx->nodes[cl].types &= ~certain;
			ctx->nodes[i].children[x] = cl;
			*changed = true;
		}
	}
	if (*changed)
		js_compute_min_bytes(ctx->nodes, ctx->extra, ctx->n_nodes);

	for (int32_t i = 0; i < n0 && st == LLM_OK; i++)
	{
		int32_t		k = ctx->nodes[i].n_children;

		if (ctx->nodes[i].kind != LLM_SN_ANYOF || ctx->extra[i].oneof_info < 0)
			continue;
		for (int32_t x = 0; x < k && st == LLM_OK; x++)
		{
			int32_t		cx = ctx->nodes[i].children[x];
			int32_t		n_drops = 0;
			int32_t		n_promotes = 0;
			int32_t		cl;

			if (!object_typed(ctx, cx) || !js_feasible(ctx, cx))
				continue;
			llm_free(drops);
			llm_free(drop_lens);
			llm_free(promotes);
			llm_free(promote_lens);
			drops = llm_calloc((size_t) k, sizeof(char *));
			drop_lens = llm_calloc((size_t) k, sizeof(size_t));
			promotes = llm_calloc((size_t) k, sizeof(char *));
			promote_lens = llm_calloc((size_t) k, sizeof(size_t));
			if (drops == NULL || drop_lens == NULL || promotes == NULL || promote_lens == NULL)
			{
				st = js_nomem(ctx);
				break;
			}
			for (int32_t y = 0; y < k; y++)
			{
				int32_t		cy = ctx->nodes[i].children[y];
				/* what y requires as a validator reads it, not y's copy */
				int32_t		yb = ctx->extra[cy].clone_of >= 0 ? ctx->extra[cy].clone_of : cy;
				const llm_schema_node *ny = &ctx->nodes[yb];
				const llm_schema_node *nx = &ctx->nodes[cx];

				if (y == x || !object_typed(ctx, cy) || ny->kind != LLM_SN_TYPED)
					continue;
				ctx->disjoint_steps = 0;
				if (!may_overlap(ctx, cx, cy, 0))
					continue;
				{
					int32_t		before = n_drops;

					for (int32_t p = 0; p < ny->n_props; p++)
					{
						int32_t		q;

						if (!ny->props[p].required)
							continue;
						q = find_prop(nx, ny->props[p].name, ny->props[p].name_len);
						if (q >= 0 && nx->props[q].required)
							continue;
						drops[n_drops] = ny->props[p].name;
						drop_lens[n_drops] = ny->props[p].name_len;
						n_drops++;
						break;
					}
					if (n_drops == before)
					{
						int32_t		p = promotable(ctx, cx, cy);

						if (p >= 0)
						{
							promotes[n_promotes] = ctx->nodes[cx].props[p].name;
							promote_lens[n_promotes] = ctx->nodes[cx].props[p].name_len;
							n_promotes++;
						}
					}
				}
			}
			if (n_drops == 0 && n_promotes == 0)
				continue;
			if (cx >= n0)
				cl = cx;		/* already our copy */
			else if ((st = clone_node(ctx, cx, &cl)) != LLM_OK)
				break;
			{
				llm_schema_node *nc = &ctx->nodes[cl];
				int32_t		w = 0;

				for (int32_t p = 0; p < nc->n_props; p++)
				{
					bool		drop = false;

					for (int32_t d = 0; d < n_drops && !drop; d++)
						drop = nc->props[p].name_len == drop_lens[d] &&
							memcmp(nc->props[p].name, drops[d], drop_lens[d]) == 0;
					if (drop)
					{
						llm_free(nc->props[p].name);
						llm_free(nc->props[p].key_json);
						continue;
					}
					for (int32_t d = 0; d < n_promotes; d++)
						if (nc->props[p].name_len == promote_lens[d] &&
							memcmp(nc->props[p].name, promotes[d], promote_lens[d]) == 0)
							nc->props[p].required = true;
					nc->props[w++] = nc->props[p];
				}
				nc->n_props = w;
				if (n_drops > 0)
					nc->additional = -1;
				ctx->nodes[i].children[x] = cl;
				*changed = true;
			}
		}
	}
	llm_free(drops);
	llm_free(drop_lens);
	llm_free(promotes);
	llm_free(promote_lens);
	return st;
}

llm_status
js_check_oneofs(js_ctx *ctx)
{
	bool		changed;
	llm_status	st = exclude_for_oneofs(ctx, &changed);

	if (st != LLM_OK)
		return st;
	if (changed)
		js_compute_min_bytes(ctx->nodes, ctx->extra, ctx->n_nodes);

	for (int32_t i = 0; i < ctx->n_nodes; i++)
	{
		llm_schema_node *n = &ctx->nodes[i];

		if (n->kind != LLM_SN_ANYOF || ctx->extra[i].oneof_info < 0 || !js_feasible(ctx, i))
			continue;
		for (int32_t x = 0; x < n->n_children; x++)
			for (int32_t y = x + 1; y < n->n_children; y++)
			{
				bool		overlap;

				ctx->disjoint_steps = 0;
				overlap = may_overlap(ctx, n->children[x], n->children[y], 0);
				ctx->disjoint_steps = 0;
				overlap = overlap || may_overlap(ctx, n->children[y], n->children[x], 0);
				if (overlap)
					return js_kw_error(ctx, LLM_ERR_UNSUPPORTED, ctx->extra[i].oneof_info, "oneOf",
									"branches %d and %d may both match one document", x, y);
			}
	}
	return LLM_OK;
}
