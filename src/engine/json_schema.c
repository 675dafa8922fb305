/*
 * json_schema.c — compiles a JSON Schema into the node graph of
 * json_schema.h.
 *
 * Steps:
 *   1. cJSON parses the text; one walk over the whole document gives every
 *      object and boolean an "info" (its JSON pointer, its $id resource) and
 *      collects $id / $anchor names for $ref (json_schema_read.c).
 *   2. Nodes are built from conjs (sets of schema locations a value must all
 *      satisfy; see json_schema_internal.h), memoized by the set, so $ref
 *      recursion becomes a cycle and allOf is a merge of keywords
 *      (json_schema_build.c):
 *        - enum/const in the conj: LITERALS, each value kept only if it
 *          validates against the whole conj (json_schema_validate.c);
 *        - an unresolved anyOf/oneOf: ANYOF, one child per branch, each child
 *          the conj plus the branch (so allOf[A, anyOf[B, C]] is
 *          anyOf[A∧B, A∧C]);
 *        - otherwise TYPED: types intersected, bounds tightened, patterns
 *          intersected in one automaton, properties merged by name (each
 *          property's conj takes the property, matching patternProperties
 *          or additionalProperties of every part).
 *   3. min_bytes of every node (json_schema_shortest.c).
 *   4. oneOf is accepted only when no generated document of one branch can
 *      validate against another branch (json_schema_oneof.c), otherwise
 *      LLM_ERR_UNSUPPORTED.
 *   5. Options with no document are pruned, the reachable nodes renumbered
 *      (here).
 *
 * Keywords a node does not enforce are an error only where they can matter:
 * a keyword that constrains arrays (uniqueItems, contains) on a node that
 * cannot be an array is inert, as JSON Schema defines it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_schema_internal.h"

/* -------------------------------------------------------------- finalize */

static void
free_node_contents(llm_schema_node *n)
{
	llm_free(n->children);
	for (int32_t k = 0; k < n->n_literals; k++)
		llm_free(n->literals[k].text);
	llm_free(n->literals);
	for (int32_t k = 0; k < n->n_props; k++)
	{
		llm_free(n->props[k].name);
		llm_free(n->props[k].key_json);
	}
	llm_free(n->props);
	llm_free(n->prefix);
	memset(n, 0, sizeof(*n));
	n->kind = LLM_SN_NEVER;
	n->items = -1;
	n->additional = -1;
	n->min_bytes = JS_INF;
}

/* drop every option that has no document (min_bytes is unchanged) */
static void
prune_node(js_ctx *ctx, int32_t i)
{
	llm_schema_node *n = &ctx->nodes[i];

	if (n->min_bytes == JS_INF)
	{
		free_node_contents(n);
		return;
	}
	if (n->kind == LLM_SN_ANYOF)
	{
		int32_t		w = 0;
		int32_t		best = ctx->extra[i].witness >= 0 ? n->children[ctx->extra[i].witness] : -1;

		/* the child giving min_bytes first: write_shortest takes the first */
		for (int32_t k = 0; k < n->n_children; k++)
			if (js_feasible(ctx, n->children[k]) && n->children[k] != best)
				n->children[w++] = n->children[k];
		if (best >= 0)
		{
			memmove(n->children + 1, n->children, sizeof(int32_t) * (size_t) w);
			n->children[0] = best;
			w++;
		}
		n->n_children = w;
		return;
	}
	if (n->kind != LLM_SN_TYPED)
		return;
	for (uint32_t t = 1; t < LLM_JT_ANY; t <<= 1)
		if ((n->types & t) && js_type_cost(ctx->nodes, ctx->extra, i, t) == JS_INF)
			n->types &= ~t;
	if (!(n->types & LLM_JT_STRING))
		n->regex = NULL;
	if (!(n->types & LLM_JT_ARRAY))
	{
		llm_free(n->prefix);
		n->prefix = NULL;
		n->n_prefix = 0;
		n->items = -1;
	}
	else
	{
		for (int32_t e = 0; e < n->n_prefix; e++)
			if (!js_feasible(ctx, n->prefix[e]))
			{
				n->n_prefix = e;
				n->items = -1;
				break;
			}
		if (n->items >= 0 && !js_feasible(ctx, n->items))
			n->items = -1;
		if (n->items < 0 && n->max_items > n->n_prefix)
			n->max_items = n->n_prefix;
	}
	if (!(n->types & LLM_JT_OBJECT))
	{
		for (int32_t k = 0; k < n->n_props; k++)
		{
			llm_free(n->props[k].name);
			llm_free(n->props[k].key_json);
		}
		n->n_props = 0;
		n->additional = -1;
	}
	else
	{
		int32_t		w = 0;
		bool		dropped = false;

		for (int32_t k = 0; k < n->n_props; k++)
		{
			if (js_feasible(ctx, n->props[k].node))
				n->props[w++] = n->props[k];
			else
			{
				/* an optional property that cannot be written (e.g. false) */
				llm_free(n->props[k].name);
				llm_free(n->props[k].key_json);
				dropped = true;
			}
		}
		n->n_props = w;
		/* its name must not come back as an extra key */
		if (dropped || (n->additional >= 0 && !js_feasible(ctx, n->additional)))
			n->additional = -1;
	}
}

/* break cycles of anyOf nodes pointing at each other without a value in
 * between (they add no document; the matcher must not loop on them) */
static llm_status
break_anyof_cycles(js_ctx *ctx)
{
	int32_t		n = ctx->n_nodes;
	uint8_t    *color = llm_calloc((size_t) n + 1, 1);
	int32_t    *stack = llm_malloc(sizeof(int32_t) * ((size_t) n + 1));
	int32_t    *pos = llm_calloc((size_t) n + 1, sizeof(int32_t));

	if (color == NULL || stack == NULL || pos == NULL)
	{
		llm_free(color);
		llm_free(stack);
		llm_free(pos);
		return js_nomem(ctx);
	}
	for (int32_t s = 0; s < n; s++)
	{
		int32_t		sp = 0;

		if (color[s] || ctx->nodes[s].kind != LLM_SN_ANYOF)
			continue;
		stack[sp++] = s;
		color[s] = 1;
		pos[s] = 0;
		while (sp > 0)
		{
			int32_t		v = stack[sp - 1];
			llm_schema_node *nv = &ctx->nodes[v];

			if (pos[v] < nv->n_children)
			{
				int32_t		k = pos[v]++;
				int32_t		c = nv->children[k];

				if (ctx->nodes[c].kind != LLM_SN_ANYOF)
					continue;
				if (color[c] == 1)
				{
					/* back edge: remove it */
					memmove(&nv->children[k], &nv->children[k + 1],
							sizeof(int32_t) * (size_t) (nv->n_children - k - 1));
					nv->n_children--;
					pos[v]--;
				}
				else if (color[c] == 0)
				{
					color[c] = 1;
					pos[c] = 0;
					stack[sp++] = c;
				}
			}
			else
			{
				color[v] = 2;
				sp--;
			}
		}
	}
	llm_free(color);
	llm_free(stack);
	llm_free(pos);
	return LLM_OK;
}

/* follow single-child anyOf nodes to what they stand for */
static int32_t
resolve_alias(const llm_schema_node *nodes, int32_t n_nodes, int32_t i)
{
	for (int32_t hops = 0; i >= 0 && hops < n_nodes; hops++)
	{
		if (nodes[i].kind != LLM_SN_ANYOF || nodes[i].n_children != 1)
			break;
		i = nodes[i].children[0];
	}
	return i;
}

static llm_status
finalize(js_ctx *ctx, int32_t root, llm_schema **out)
{
	int32_t		n = ctx->n_nodes;
	int32_t    *map = NULL;
	int32_t    *queue = NULL;
	int32_t		n_queue = 0;
	llm_schema *s = NULL;
	llm_status	st;

	for (int32_t i = 0; i < n; i++)
		prune_node(ctx, i);
	if ((st = break_anyof_cycles(ctx)) != LLM_OK)
		return st;
	root = resolve_alias(ctx->nodes, n, root);
	if (root < 0 || ctx->nodes[root].min_bytes == JS_INF ||
		ctx->nodes[root].kind == LLM_SN_NEVER)
		return llm_error_set(ctx->err, LLM_ERR_INVALID_ARG, "the schema admits no document");

	map = llm_malloc(sizeof(int32_t) * ((size_t) n + 1));
	queue = llm_malloc(sizeof(int32_t) * ((size_t) n + 1));
	s = llm_calloc(1, sizeof(llm_schema));
	if (map == NULL || queue == NULL || s == NULL)
	{
		st = js_nomem(ctx);
		goto fail;
	}
	for (int32_t i = 0; i < n; i++)
		map[i] = -1;
	map[root] = 0;
	queue[n_queue++] = root;
	/* breadth-first from the root; references through aliases resolved */
	for (int32_t q = 0; q < n_queue; q++)
	{
		llm_schema_node *nd = &ctx->nodes[queue[q]];

#define VISIT(ref) \
		do { \
			if ((ref) >= 0) \
			{ \
				int32_t r_ = resolve_alias(ctx->nodes, n, (ref)); \
				if (map[r_] < 0) \
				{ \
					map[r_] = n_queue; \
					queue[n_queue++] = r_; \
				} \
				(ref) = r_; \
			} \
		} while (0)

		for (int32_t k = 0; k < nd->n_children; k++)
			VISIT(nd->children[k]);
		for (int32_t k = 0; k < nd->n_prefix; k++)
			VISIT(nd->prefix[k]);
		VISIT(nd->items);
		for (int32_t k = 0; k < nd->n_props; k++)
			VISIT(nd->props[k].node);
		VISIT(nd->additional);
#undef VISIT
	}
	s->nodes = llm_calloc((size_t) n_queue, sizeof(llm_schema_node));
	if (s->nodes == NULL)
	{
		st = js_nomem(ctx);
		goto fail;
	}
	for (int32_t q = 0; q < n_queue; q++)
	{
		llm_schema_node *nd = &s->nodes[q];

		*nd = ctx->nodes[queue[q]];
		for (int32_t k = 0; k < nd->n_children; k++)
			nd->children[k] = map[nd->children[k]];
		for (int32_t k = 0; k < nd->n_prefix; k++)
			nd->prefix[k] = map[nd->prefix[k]];
		if (nd->items >= 0)
			nd->items = map[nd->items];
		for (int32_t k = 0; k < nd->n_props; k++)
			nd->props[k].node = map[nd->props[k].node];
		if (nd->additional >= 0)
			nd->additional = map[nd->additional];
		/* moved: the compiler's copy must not be freed */
		memset(&ctx->nodes[queue[q]], 0, sizeof(llm_schema_node));
	}
	s->n_nodes = n_queue;
	s->root = 0;
	s->raw_root = false;

	/* automata no node kept are freed with the compiler's state; the kept
	 * ones now belong to the schema */
	for (int32_t r = 0; r < ctx->n_node_regexes; r++)
		for (int32_t q = 0; q < n_queue; q++)
			if (s->nodes[q].regex == ctx->node_regexes[r])
			{
				ctx->node_regexes[r] = NULL;
				break;
			}
	llm_free(map);
	llm_free(queue);
	*out = s;
	return LLM_OK;
fail:
	llm_free(map);
	llm_free(queue);
	llm_schema_free(s);
	return st;
}

/* ------------------------------------------------------------------- API */

static void
ctx_free(js_ctx *ctx)
{
	for (int32_t i = 0; i < ctx->n_infos; i++)
	{
		llm_free(ctx->infos[i].path);
		llm_free(ctx->infos[i].base);
		llm_free(ctx->infos[i].prop_items);
		js_map_free(&ctx->infos[i].prop_index);
	}
	llm_free(ctx->infos);
	js_map_free(&ctx->info_by_ptr);
	js_map_free(&ctx->ids);
	for (int32_t i = 0; i < ctx->n_nodes; i++)
	{
		free_node_contents(&ctx->nodes[i]);
		llm_free(ctx->extra[i].conj);
		llm_free(ctx->extra[i].lit_json);
		llm_free(ctx->extra[i].excluded);
	}
	llm_free(ctx->nodes);
	llm_free(ctx->extra);
	js_map_free(&ctx->conj_memo);
	for (int32_t i = 0; i < ctx->n_node_regexes; i++)
		llm_regex_free(ctx->node_regexes[i]);
	llm_free(ctx->node_regexes);
	js_map_free(&ctx->node_regex_map);
	for (int32_t i = 0; i < ctx->n_check_regexes; i++)
		llm_regex_free(ctx->check_regexes[i]);
	llm_free(ctx->check_regexes);
	js_map_free(&ctx->check_regex_map);
	if (ctx->doc != NULL)
		cJSON_Delete(ctx->doc);
}

/* a \u0000 escape: cJSON would cut the string there */
static bool
has_nul_escape(const char *json, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
	{
		if (json[i] != '\\')
			continue;
		if (json[i + 1] == 'u' && i + 5 < len && memcmp(json + i + 2, "0000", 4) == 0)
			return true;
		i++;					/* skip the escaped character */
	}
	return false;
}

llm_status
llm_schema_compile(const char *json, size_t len, llm_schema **out, llm_error *err)
{
	js_ctx		ctx;
	int32_t		root;
	llm_status	st;
	const cJSON *dialect;

	*out = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.err = err;
	ctx.never_node = -1;
	if (json == NULL || len == 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "the schema is empty");
	if (!js_utf8_valid(json, len))
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "the schema is not valid UTF-8");
	if (has_nul_escape(json, len))
		return llm_error_set(err, LLM_ERR_UNSUPPORTED,
							 "a \\u0000 escape in the schema is not supported");
	ctx.doc = cJSON_ParseWithLength(json, len);
	if (ctx.doc == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "the schema is not valid JSON");
	if (!cJSON_IsObject(ctx.doc) && !cJSON_IsBool(ctx.doc))
	{
		ctx_free(&ctx);
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "the schema must be a JSON object or a boolean");
	}
	dialect = cJSON_IsObject(ctx.doc) ?
		cJSON_GetObjectItemCaseSensitive(ctx.doc, "$schema") : NULL;
	if (cJSON_IsString(dialect))
	{
		const char *d = dialect->valuestring;

		ctx.draft4 = strstr(d, "draft-04") != NULL || strstr(d, "draft-03") != NULL;
		ctx.legacy = ctx.draft4 || strstr(d, "draft-06") != NULL ||
			strstr(d, "draft-07") != NULL || strstr(d, "2019-09") != NULL;
	}

	st = js_read_document(&ctx);
	if (st == LLM_OK)
	{
		js_conj	c = {0};

		st = js_conj_add(&ctx, &c, 0, 0);
		if (st == LLM_OK)
			st = js_node_for_conj(&ctx, &c, &root);
		llm_free(c.a);
	}
	for (int32_t i = 0; st == LLM_OK && i < ctx.n_nodes; i++)
		if (!ctx.extra[i].built)
			st = js_build_node(&ctx, i);
	if (st == LLM_OK)
	{
		js_compute_min_bytes(ctx.nodes, ctx.extra, ctx.n_nodes);
		st = js_check_oneofs(&ctx);
	}
	if (st == LLM_OK)
		st = finalize(&ctx, root, out);
	ctx_free(&ctx);
	return st;
}

llm_status
llm_schema_compile_choice(const char *const *labels, const size_t *lens, int32_t n,
						  llm_schema **out, llm_error *err)
{
	llm_schema *s;
	llm_schema_node *nd;

	*out = NULL;
	if (n <= 0 || labels == NULL || lens == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "there must be at least one label");
	for (int32_t i = 0; i < n; i++)
	{
		if (labels[i] == NULL || lens[i] == 0)
			return llm_error_set(err, LLM_ERR_INVALID_ARG, "label %d is empty", i + 1);
		for (int32_t j = 0; j < i; j++)
			if (lens[j] == lens[i] && memcmp(labels[j], labels[i], lens[i]) == 0)
				return llm_error_set(err, LLM_ERR_INVALID_ARG,
									 "label %d repeats label %d", i + 1, j + 1);
	}
	s = llm_calloc(1, sizeof(llm_schema));
	if (s == NULL || (s->nodes = llm_calloc(1, sizeof(llm_schema_node))) == NULL)
	{
		llm_free(s);
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
	}
	s->n_nodes = 1;
	s->root = 0;
	s->raw_root = true;
	nd = &s->nodes[0];
	nd->kind = LLM_SN_LITERALS;
	nd->items = -1;
	nd->additional = -1;
	nd->min_bytes = JS_INF;
	nd->literals = llm_calloc((size_t) n, sizeof(llm_schema_literal));
	if (nd->literals == NULL)
	{
		llm_schema_free(s);
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
	}
	for (int32_t i = 0; i < n; i++)
	{
		nd->literals[i].text = llm_strndup(labels[i], lens[i]);
		if (nd->literals[i].text == NULL)
		{
			llm_schema_free(s);
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
		}
		nd->literals[i].len = lens[i];
		nd->n_literals++;
		if ((int64_t) lens[i] < nd->min_bytes)
			nd->min_bytes = (int64_t) lens[i];
	}
	*out = s;
	return LLM_OK;
}

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t	x = (uintptr_t) *(void *const *) a;
	uintptr_t	y = (uintptr_t) *(void *const *) b;

	return x < y ? -1 : x > y;
}

void
llm_schema_free(llm_schema *s)
{
	llm_regex **res;
	int32_t		n_res = 0;

	if (s == NULL)
		return;
	/* nodes share automata: free each once */
	res = llm_calloc((size_t) s->n_nodes + 1, sizeof(llm_regex *));
	for (int32_t i = 0; i < s->n_nodes; i++)
	{
		if (s->nodes[i].regex != NULL)
		{
			if (res != NULL)
				res[n_res++] = s->nodes[i].regex;
		}
		free_node_contents(&s->nodes[i]);
	}
	if (res != NULL)
	{
		qsort(res, n_res, sizeof(llm_regex *), cmp_ptr);
		for (int32_t i = 0; i < n_res; i++)
			if (i == 0 || res[i] != res[i - 1])
				llm_regex_free(res[i]);
		llm_free(res);
	}
	llm_free(s->nodes);
	llm_free(s);
}
