/*
 * json_schema_read.c — reading a JSON Schema document for the compiler
 * (json_schema.c): every schema location indexed with its JSON pointer and
 * $id resource, $ref resolved (JSON pointers with ~0 ~1 and %-escapes,
 * $id, $anchor, draft-04 "id"), the keywords of each location checked and
 * read into a js_info, and the regex caches.
 *
 * Keywords with the wrong JSON type are LLM_ERR_INVALID_ARG naming the
 * keyword and its location; validation keywords we do not generate for
 * are recorded per location and become LLM_ERR_UNSUPPORTED only where a
 * node they constrain is built; everything else is an annotation.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_schema_internal.h"

/* ---------------------------------------------------------------- errors */

llm_status
js_kw_error(js_ctx *ctx, llm_status st, int32_t info, const char *kw, const char *fmt,...)
	__attribute__((format(printf, 5, 6)));

llm_status
js_kw_error(js_ctx *ctx, llm_status st, int32_t info, const char *kw, const char *fmt,...)
{
	const char *path = info >= 0 && info < ctx->n_infos ? ctx->infos[info].path : "#";
	char		detail[LLM_ERROR_MSG_LEN];

	if (fmt == NULL)
		return llm_error_set(ctx->err, st, "keyword \"%s\" at %s is not supported", kw, path);
	{
		va_list		ap;

		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	return llm_error_set(ctx->err, st, "keyword \"%s\" at %s: %s", kw, path, detail);
}

llm_status
js_nomem(js_ctx *ctx)
{
	return llm_error_set(ctx->err, LLM_ERR_NOMEM, "out of memory compiling a JSON schema");
}

/* ------------------------------------------------------- document walk */

typedef struct pathbuf
{
	char	   *s;
	size_t		len;
	size_t		cap;
} pathbuf;

static llm_status
path_push(pathbuf *pb, const char *token)
{
	if (js_buf_append(&pb->s, &pb->len, &pb->cap, "/", 1) != LLM_OK)
		return LLM_ERR_NOMEM;
	for (const char *p = token; *p; p++)
	{
		const char *rep = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;

		if (js_buf_append(&pb->s, &pb->len, &pb->cap, rep ? rep : p, rep ? 2 : 1) != LLM_OK)
			return LLM_ERR_NOMEM;
	}
	return LLM_OK;
}

static bool
has_scheme(const char *u)
{
	const char *p = u;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		   (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}

/* RFC 3986 reference resolution, without dot-segment removal. */
static char *
resolve_uri(const char *base, const char *ref, size_t ref_len)
{
	char	   *out = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	size_t		keep;
	char	   *ref_copy = llm_strndup(ref, ref_len);

	if (ref_copy == NULL)
		return NULL;
	if (has_scheme(ref_copy) || base[0] == '\0')
		keep = 0;
	else if (ref_len == 0)
		keep = strlen(base);
	else if (ref_copy[0] == '/' && ref_copy[1] == '/')
		keep = has_scheme(base) ? (size_t) (strchr(base, ':') - base) + 1 : 0;
	else if (ref_copy[0] == '/')
	{
		const char *auth = strstr(base, "://");
		const char *slash;

		if (auth != NULL)
		{
			slash = strchr(auth + 3, '/');
			keep = slash ? (size_t) (slash - base) : strlen(base);
		}
		else
			keep = has_scheme(base) ? (size_t) (strchr(base, ':') - base) + 1 : 0;
	}
	else
	{
		const char *slash = strrchr(base, '/');

		keep = slash ? (size_t) (slash - base) + 1 : 0;
	}
	if (js_buf_append(&out, &len, &cap, base, keep) != LLM_OK ||
		js_buf_append(&out, &len, &cap, ref_copy, ref_len) != LLM_OK)
	{
		llm_free(out);
		out = NULL;
	}
	llm_free(ref_copy);
	return out;
}

static llm_status
register_id(js_ctx *ctx, const char *key, int32_t info)
{
	int32_t		existing;

	if (js_map_get(&ctx->ids, key, strlen(key), &existing))
		return LLM_OK;			/* first one wins */
	return js_map_put(&ctx->ids, key, strlen(key), info);
}

static llm_status
register_anchor(js_ctx *ctx, int32_t resource, const char *name, int32_t info)
{
	char	   *key = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	llm_status	st;

	if (js_buf_append(&key, &len, &cap, ctx->infos[resource].base,
					  strlen(ctx->infos[resource].base)) != LLM_OK ||
		js_buf_append(&key, &len, &cap, "#", 1) != LLM_OK ||
		js_buf_append(&key, &len, &cap, name, strlen(name)) != LLM_OK)
	{
		llm_free(key);
		return LLM_ERR_NOMEM;
	}
	st = register_id(ctx, key, info);
	llm_free(key);
	return st;
}

static bool
is_subschema_map(const char *k)
{
	return strcmp(k, "properties") == 0 || strcmp(k, "patternProperties") == 0 ||
		strcmp(k, "$defs") == 0 || strcmp(k, "definitions") == 0 ||
		strcmp(k, "dependentSchemas") == 0;
}

static bool
is_data_keyword(const char *k)
{
	return strcmp(k, "enum") == 0 || strcmp(k, "const") == 0 ||
		strcmp(k, "default") == 0 || strcmp(k, "examples") == 0 ||
		strcmp(k, "example") == 0;
}

/*
 * Give every object and boolean of the document an info.  in_schema: the
 * value stands where a schema may stand (not inside enum/const/default
 * data, not a property-name map itself), so its $id and $anchor count.
 */
static llm_status
walk(js_ctx *ctx, const cJSON *json, pathbuf *pb, int depth, int32_t resource,
	 bool in_schema, bool is_map)
{
	int32_t		idx = -1;
	llm_status	st;

	if (depth > JS_MAX_JSON_DEPTH)
		return llm_error_set(ctx->err, LLM_ERR_LIMIT,
							 "the schema nests more than %d levels", LLM_SCHEMA_MAX_DEPTH);
	if (cJSON_IsObject(json) || cJSON_IsBool(json))
	{
		js_info    *in;

		if (ctx->n_infos == ctx->cap_infos)
		{
			int32_t		cap = ctx->cap_infos ? ctx->cap_infos * 2 : 64;
			js_info    *grown = llm_realloc(ctx->infos, sizeof(js_info) * ctx->cap_infos,
											sizeof(js_info) * cap);

			if (grown == NULL)
				return js_nomem(ctx);
			ctx->infos = grown;
			ctx->cap_infos = cap;
		}
		idx = ctx->n_infos++;
		in = &ctx->infos[idx];
		memset(in, 0, sizeof(*in));
		in->json = json;
		in->ref = -1;
		in->resource = resource < 0 ? idx : resource;
		in->in_schema = in_schema && !is_map;
		in->path = llm_malloc(pb->len + 2);
		if (in->path == NULL)
			return js_nomem(ctx);
		in->path[0] = '#';
		memcpy(in->path + 1, pb->s ? pb->s : "", pb->len);
		in->path[pb->len + 1] = '\0';
		if (js_map_put(&ctx->info_by_ptr, &json, sizeof(json), idx) != LLM_OK)
			return js_nomem(ctx);

		if (resource < 0)
		{
			in->base = llm_strndup("", 0);
			if (in->base == NULL)
				return js_nomem(ctx);
		}
		if (in->in_schema && cJSON_IsObject(json))
		{
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(json, "$id");

			if (!cJSON_IsString(id) && ctx->draft4)
				id = cJSON_GetObjectItemCaseSensitive(json, "id");
			if (cJSON_IsString(id))
			{
				const char *s = id->valuestring;
				const char *hash = strchr(s, '#');
				size_t		uri_len = hash ? (size_t) (hash - s) : strlen(s);

				if (uri_len > 0)
				{
					/* a new resource: "#/..." pointers below are relative to it */
					char	   *base = resolve_uri(ctx->infos[in->resource].base, s, uri_len);

					if (base == NULL)
						return js_nomem(ctx);
					in = &ctx->infos[idx];
					llm_free(in->base);
					in->base = base;
					in->resource = idx;
					if (register_id(ctx, base, idx) != LLM_OK)
						return js_nomem(ctx);
				}
				if (hash != NULL && hash[1] != '\0' &&
					register_anchor(ctx, ctx->infos[idx].resource, hash + 1, idx) != LLM_OK)
					return js_nomem(ctx);
			}
			for (int k = 0; k < 2; k++)
			{
				const cJSON *anchor = cJSON_GetObjectItemCaseSensitive(json,
																	   k ? "$dynamicAnchor" : "$anchor");

				if (cJSON_IsString(anchor) &&
					register_anchor(ctx, ctx->infos[idx].resource, anchor->valuestring, idx) != LLM_OK)
					return js_nomem(ctx);
			}
		}
		resource = ctx->infos[idx].resource;
	}
	if (cJSON_IsObject(json) || cJSON_IsArray(json))
	{
		int			i = 0;

		for (const cJSON *c = json->child; c != NULL; c = c->next, i++)
		{
			size_t		saved = pb->len;
			char		index[24];
			bool		child_schema = in_schema;
			bool		child_map = false;

			if (cJSON_IsObject(json))
			{
				st = path_push(pb, c->string);
				if (in_schema && !is_map)
				{
					if (is_data_keyword(c->string))
						child_schema = false;
					else if (is_subschema_map(c->string) && cJSON_IsObject(c))
						child_map = true;
				}
			}
			else
			{
				snprintf(index, sizeof(index), "%d", i);
				st = path_push(pb, index);
			}
			if (st != LLM_OK)
				return js_nomem(ctx);
			st = walk(ctx, c, pb, depth + 1, resource, child_schema, child_map);
			if (st != LLM_OK)
				return st;
			pb->len = saved;
			if (pb->s)
				pb->s[saved] = '\0';
		}
	}
	return LLM_OK;
}

/* index the whole document (ctx->doc) */
llm_status
js_read_document(js_ctx *ctx)
{
	pathbuf		pb = {0};
	llm_status	st = walk(ctx, ctx->doc, &pb, 0, -1, true, false);

	llm_free(pb.s);
	return st;
}

llm_status
js_info_get(js_ctx *ctx, const cJSON *json, int32_t *out)
{
	if (!js_map_get(&ctx->info_by_ptr, &json, sizeof(json), out))
		return llm_error_set(ctx->err, LLM_ERR_INVALID_ARG,
							 "internal error: a schema location was not indexed");
	return LLM_OK;
}

/* ----------------------------------------------------------------- $ref */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* percent-decode a URI fragment (in place) */
static void
percent_decode(char *s)
{
	char	   *w = s;

	for (char *r = s; *r; r++)
	{
		if (r[0] == '%' && hex_value(r[1]) >= 0 && hex_value(r[2]) >= 0 &&
			(hex_value(r[1]) << 4 | hex_value(r[2])) != 0)
		{
			*w++ = (char) (hex_value(r[1]) << 4 | hex_value(r[2]));
			r += 2;
		}
		else
			*w++ = *r;
	}
	*w = '\0';
}

/* follow a JSON pointer ("/a/b", already percent-decoded) from json */
static const cJSON *
follow_pointer(const cJSON *json, const char *ptr)
{
	const char *p = ptr;

	while (*p == '/' && json != NULL)
	{
		const char *end = strchr(p + 1, '/');
		size_t		n = end ? (size_t) (end - p - 1) : strlen(p + 1);
		char		token[512];
		size_t		t = 0;

		if (n >= sizeof(token))
			return NULL;
		for (size_t i = 0; i < n; i++)
		{
			char		c = p[1 + i];

			if (c == '~' && i + 1 < n && (p[2 + i] == '0' || p[2 + i] == '1'))
			{
				token[t++] = p[2 + i] == '0' ? '~' : '/';
				i++;
			}
			else
				token[t++] = c;
		}
		token[t] = '\0';
		if (cJSON_IsObject(json))
			json = cJSON_GetObjectItemCaseSensitive(json, token);
		else if (cJSON_IsArray(json))
		{
			char	   *e;
			long		k;

			if (t == 0 || (t > 1 && token[0] == '0') || token[0] < '0' || token[0] > '9')
				return NULL;
			k = strtol(token, &e, 10);
			if (*e != '\0' || k < 0 || k > INT32_MAX)
				return NULL;
			json = cJSON_GetArrayItem(json, (int) k);
		}
		else
			return NULL;
		p += 1 + n;
	}
	return *p == '\0' ? json : NULL;
}

static llm_status
resolve_ref(js_ctx *ctx, int32_t idx, const char *ref, int32_t *out)
{
	const char *hash = strchr(ref, '#');
	size_t		uri_len = hash ? (size_t) (hash - ref) : strlen(ref);
	int32_t		resource = ctx->infos[idx].resource;
	char	   *frag;
	const cJSON *target = NULL;
	llm_status	st = LLM_OK;

	if (uri_len > 0)
	{
		char	   *abs = resolve_uri(ctx->infos[resource].base, ref, uri_len);
		bool		found;

		if (abs == NULL)
			return js_nomem(ctx);
		found = js_map_get(&ctx->ids, abs, strlen(abs), &resource);
		if (!found)
		{
			char	   *plain = llm_strndup(ref, uri_len);

			if (plain == NULL)
			{
				llm_free(abs);
				return js_nomem(ctx);
			}
			found = js_map_get(&ctx->ids, plain, strlen(plain), &resource);
			llm_free(plain);
		}
		llm_free(abs);
		if (!found)
			return js_kw_error(ctx, LLM_ERR_UNSUPPORTED, idx, "$ref",
							"remote reference \"%s\" is not supported", ref);
	}
	frag = llm_strndup(hash ? hash + 1 : "", hash ? strlen(hash + 1) : 0);
	if (frag == NULL)
		return js_nomem(ctx);
	percent_decode(frag);
	if (frag[0] == '\0')
		target = ctx->infos[resource].json;
	else if (frag[0] == '/')
	{
		target = follow_pointer(ctx->infos[resource].json, frag);
		/* lenient: a pointer meant from the document root */
		if (target == NULL && resource != 0)
			target = follow_pointer(ctx->infos[0].json, frag);
	}
	else
	{
		char	   *key = NULL;
		size_t		len = 0;
		size_t		cap = 0;
		int32_t		found;

		if (js_buf_append(&key, &len, &cap, ctx->infos[resource].base,
						  strlen(ctx->infos[resource].base)) != LLM_OK ||
			js_buf_append(&key, &len, &cap, "#", 1) != LLM_OK ||
			js_buf_append(&key, &len, &cap, frag, strlen(frag)) != LLM_OK)
			st = js_nomem(ctx);
		else if (js_map_get(&ctx->ids, key, len, &found))
			target = ctx->infos[found].json;
		llm_free(key);
	}
	llm_free(frag);
	if (st != LLM_OK)
		return st;
	if (target == NULL || !(cJSON_IsObject(target) || cJSON_IsBool(target)))
		return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, "$ref",
						"\"%s\" does not resolve to a schema", ref);
	return js_info_get(ctx, target, out);
}

/* ------------------------------------------------------------- keywords */

bool
js_is_schema(const cJSON *v)
{
	return cJSON_IsObject(v) || cJSON_IsBool(v);
}

static bool
get_count(const cJSON *v, int32_t *out)
{
	double		d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!isfinite(d) || d < 0 || d != floor(d))
		return false;
	*out = d >= (double) INT32_MAX ? INT32_MAX : (int32_t) d;
	return true;
}

static uint32_t
type_bits(const char *name)
{
	static const struct
	{
		const char *name;
		uint32_t	bits;
	}			names[] = {
		{"null", LLM_JT_NULL}, {"boolean", LLM_JT_BOOLEAN},
		{"integer", LLM_JT_INTEGER}, {"number", LLM_JT_INTEGER | LLM_JT_FRACTION},
		{"string", LLM_JT_STRING}, {"array", LLM_JT_ARRAY},
		{"object", LLM_JT_OBJECT}, {"any", LLM_JT_ANY},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].bits;
	return 0;
}

void
js_tighten_min(js_bounds *b, double v, bool excl)
{
	if (!b->has_min || v > b->min || (v == b->min && excl && !b->min_excl))
	{
		b->has_min = true;
		b->min = v;
		b->min_excl = excl;
	}
}

void
js_tighten_max(js_bounds *b, double v, bool excl)
{
	if (!b->has_max || v < b->max || (v == b->max && excl && !b->max_excl))
	{
		b->has_max = true;
		b->max = v;
		b->max_excl = excl;
	}
}

static void
add_unsup(js_info *in, const char *kw, uint32_t types)
{
	if (in->n_unsup < JS_MAX_UNSUP)
	{
		in->unsup[in->n_unsup].keyword = kw;
		in->unsup[in->n_unsup].types = types;
		in->n_unsup++;
	}
}

static llm_status
check_schema_array(js_ctx *ctx, int32_t idx, const cJSON *v, const char *kw, bool allow_empty)
{
	if (!cJSON_IsArray(v) || (!allow_empty && v->child == NULL))
		return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, kw,
						"must be a %sarray of schemas", allow_empty ? "" : "non-empty ");
	for (const cJSON *c = v->child; c != NULL; c = c->next)
		if (!js_is_schema(c))
			return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, kw,
							"must be an array of schemas (objects or booleans)");
	return LLM_OK;
}

static llm_status
check_schema_map(js_ctx *ctx, int32_t idx, const cJSON *v, const char *kw)
{
	if (!cJSON_IsObject(v))
		return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, kw, "must be an object");
	for (const cJSON *c = v->child; c != NULL; c = c->next)
		if (!js_is_schema(c))
			return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, kw,
							"the value of \"%s\" must be a schema (object or boolean)",
							c->string);
	return LLM_OK;
}

static llm_status
check_string_array(js_ctx *ctx, int32_t idx, const cJSON *v, const char *kw)
{
	if (!cJSON_IsArray(v))
		return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, kw, "must be an array of strings");
	for (const cJSON *c = v->child; c != NULL; c = c->next)
		if (!cJSON_IsString(c))
			return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, kw, "must be an array of strings");
	return LLM_OK;
}

llm_status
js_info_property(js_ctx *ctx, int32_t info, const char *name, const cJSON **out)
{
	js_info    *in = &ctx->infos[info];
	int32_t		found;
	int32_t		n = 0;

	*out = NULL;
	if (in->properties == NULL)
		return LLM_OK;
	if (!in->prop_indexed)
	{
		/* a linear search is fine for the usual handful of properties */
		for (const cJSON *p = in->properties->child; p != NULL && n <= 16; p = p->next)
			n++;
		if (n <= 16)
		{
			*out = cJSON_GetObjectItemCaseSensitive(in->properties, name);
			return LLM_OK;
		}
		n = cJSON_GetArraySize(in->properties);
		in->prop_items = llm_calloc((size_t) n + 1, sizeof(cJSON *));
		if (in->prop_items == NULL)
			return js_nomem(ctx);
		n = 0;
		for (const cJSON *p = in->properties->child; p != NULL; p = p->next, n++)
		{
			in->prop_items[n] = p;
			if (!js_map_get(&in->prop_index, p->string, strlen(p->string), &found) &&
				js_map_put(&in->prop_index, p->string, strlen(p->string), n) != LLM_OK)
				return js_nomem(ctx);
		}
		in->prop_indexed = true;
	}
	if (js_map_get(&in->prop_index, name, strlen(name), &found))
		*out = in->prop_items[found];
	return LLM_OK;
}

/* does the schema constrain nothing at all ({} or true, annotations only)? */
static bool
info_trivial(const js_info *in)
{
	if (in->is_bool)
		return in->bool_value;
	return !in->has_constraints && in->all_of == NULL && in->any_of == NULL &&
		in->one_of == NULL && in->ref < 0;
}

/*
 * Read and check the keywords of one schema location.  Keywords with the
 * wrong JSON type are LLM_ERR_INVALID_ARG; validation keywords we do not
 * generate for are recorded in unsup[] (an error only if they can matter
 * for the node built); everything unknown is an annotation.
 */
llm_status
js_info_parse(js_ctx *ctx, int32_t idx)
{
	js_info    *in = &ctx->infos[idx];
	const cJSON *json = in->json;
	bool		has_minimum = false;
	bool		has_maximum = false;
	double		minimum = 0;
	double		maximum = 0;
	bool		excl_min_bool = false;
	bool		excl_max_bool = false;
	const cJSON *items_array = NULL;
	const cJSON *prefix_items = NULL;
	const cJSON *not_json = NULL;
	int			n_keywords = 0;
	bool		has_type_kw = false;
	llm_status	st;

	if (in->parsed)
		return LLM_OK;
	in->parsed = true;
	in->types = LLM_JT_ANY;
	in->max_props = INT32_MAX;
	in->max_items = INT32_MAX;
	in->max_len = -1;
	in->min_contains = 1;
	in->max_contains = INT32_MAX;
	in->ref = -1;
	if (cJSON_IsBool(json))
	{
		in->is_bool = true;
		in->bool_value = cJSON_IsTrue(json);
		in->has_constraints = !in->bool_value;
		return LLM_OK;
	}
	if (!cJSON_IsObject(json))
		return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, "$ref",
						"does not point at a schema");

	for (const cJSON *m = json->child; m != NULL; m = m->next)
	{
		const char *k = m->string;
		bool		constraint = true;

		if (strcmp(k, "type") == 0)
		{
			uint32_t	bits = 0;

			if (cJSON_IsString(m))
				bits = type_bits(m->valuestring);
			else if (cJSON_IsArray(m) && m->child != NULL)
			{
				for (const cJSON *t = m->child; t != NULL; t = t->next)
				{
					uint32_t	b = cJSON_IsString(t) ? type_bits(t->valuestring) : 0;

					if (b == 0)
					{
						bits = 0;
						break;
					}
					bits |= b;
				}
			}
			if (bits == 0)
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, "type",
								"must be a type name or a non-empty array of type names");
			in->types &= bits;
			has_type_kw = true;
		}
		else if (strcmp(k, "enum") == 0)
		{
			if (!cJSON_IsArray(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, "enum", "must be an array");
			if (in->enum_values == NULL)
				in->enum_values = m;
		}
		else if (strcmp(k, "const") == 0)
		{
			if (in->const_value == NULL)
				in->const_value = m;
		}
		else if (strcmp(k, "properties") == 0)
		{
			if ((st = check_schema_map(ctx, idx, m, k)) != LLM_OK)
				return st;
			in->properties = m;
		}
		else if (strcmp(k, "patternProperties") == 0)
		{
			if ((st = check_schema_map(ctx, idx, m, k)) != LLM_OK)
				return st;
			in->pattern_props = m->child ? m : NULL;
		}
		else if (strcmp(k, "additionalProperties") == 0)
		{
			if (!js_is_schema(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a schema (object or boolean)");
			in->additional = m;
		}
		else if (strcmp(k, "required") == 0)
		{
			if (cJSON_IsBool(m))
			{
				in->required_bool = cJSON_IsTrue(m);
				constraint = false;
			}
			else
			{
				if ((st = check_string_array(ctx, idx, m, k)) != LLM_OK)
					return st;
				in->required = m->child ? m : NULL;
			}
		}
		else if (strcmp(k, "minProperties") == 0 || strcmp(k, "maxProperties") == 0 ||
				 strcmp(k, "minItems") == 0 || strcmp(k, "maxItems") == 0 ||
				 strcmp(k, "minLength") == 0 || strcmp(k, "maxLength") == 0 ||
				 strcmp(k, "minContains") == 0 || strcmp(k, "maxContains") == 0)
		{
			int32_t		v;

			if (!get_count(m, &v))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a non-negative integer");
			if (strcmp(k, "minProperties") == 0)
				in->min_props = v > in->min_props ? v : in->min_props;
			else if (strcmp(k, "maxProperties") == 0)
				in->max_props = v < in->max_props ? v : in->max_props;
			else if (strcmp(k, "minItems") == 0)
				in->min_items = v > in->min_items ? v : in->min_items;
			else if (strcmp(k, "maxItems") == 0)
				in->max_items = v < in->max_items ? v : in->max_items;
			else if (strcmp(k, "minLength") == 0)
				in->min_len = v > in->min_len ? v : in->min_len;
			else if (strcmp(k, "maxLength") == 0)
				in->max_len = in->max_len < 0 || v < in->max_len ? v : in->max_len;
			else if (strcmp(k, "minContains") == 0)
				in->min_contains = v;
			else
				in->max_contains = v;
		}
		else if (strcmp(k, "items") == 0)
		{
			if (cJSON_IsArray(m))
			{
				if ((st = check_schema_array(ctx, idx, m, k, true)) != LLM_OK)
					return st;
				items_array = m;
			}
			else if (js_is_schema(m))
				in->items = m;
			else
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a schema or an array of schemas");
		}
		else if (strcmp(k, "prefixItems") == 0)
		{
			if ((st = check_schema_array(ctx, idx, m, k, true)) != LLM_OK)
				return st;
			prefix_items = m;
		}
		else if (strcmp(k, "additionalItems") == 0)
		{
			if (!js_is_schema(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a schema (object or boolean)");
			in->additional_items = m;
		}
		else if (strcmp(k, "uniqueItems") == 0)
		{
			if (!cJSON_IsBool(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k, "must be a boolean");
			in->unique_items = in->unique_items || cJSON_IsTrue(m);
		}
		else if (strcmp(k, "contains") == 0)
		{
			if (!js_is_schema(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a schema (object or boolean)");
			in->contains = m;
			add_unsup(in, "contains", LLM_JT_ARRAY);
		}
		else if (strcmp(k, "pattern") == 0)
		{
			if (!cJSON_IsString(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k, "must be a string");
			in->pattern = m->valuestring;
		}
		else if (strcmp(k, "format") == 0)
		{
			if (!cJSON_IsString(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k, "must be a string");
			in->format = m->valuestring;
			in->format_pattern = llm_regex_format_pattern(m->valuestring);
			in->format_numeric = in->format_pattern == NULL &&
				(strcmp(m->valuestring, "int32") == 0 || strcmp(m->valuestring, "int64") == 0 ||
				 strcmp(m->valuestring, "float") == 0 || strcmp(m->valuestring, "double") == 0);
		}
		else if (strcmp(k, "minimum") == 0 || strcmp(k, "maximum") == 0)
		{
			if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k, "must be a finite number");
			if (k[1] == 'i')
			{
				minimum = has_minimum ? fmax(minimum, m->valuedouble) : m->valuedouble;
				has_minimum = true;
			}
			else
			{
				maximum = has_maximum ? fmin(maximum, m->valuedouble) : m->valuedouble;
				has_maximum = true;
			}
		}
		else if (strcmp(k, "exclusiveMinimum") == 0 || strcmp(k, "exclusiveMaximum") == 0)
		{
			bool		is_min = k[10] == 'i';

			if (cJSON_IsBool(m))
			{
				/* draft-04: modifies minimum/maximum */
				if (is_min)
					excl_min_bool = cJSON_IsTrue(m);
				else
					excl_max_bool = cJSON_IsTrue(m);
			}
			else if (cJSON_IsNumber(m) && isfinite(m->valuedouble))
			{
				if (is_min)
					js_tighten_min(&in->bounds, m->valuedouble, true);
				else
					js_tighten_max(&in->bounds, m->valuedouble, true);
			}
			else
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a number (or a boolean in draft-04)");
		}
		else if (strcmp(k, "multipleOf") == 0)
		{
			if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble) || m->valuedouble <= 0)
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k, "must be a number above 0");
			in->has_multiple_of = true;
			in->multiple_of = m->valuedouble;
		}
		else if (strcmp(k, "allOf") == 0 || strcmp(k, "anyOf") == 0 || strcmp(k, "oneOf") == 0)
		{
			if ((st = check_schema_array(ctx, idx, m, k, false)) != LLM_OK)
				return st;
			if (k[0] == 'a' && k[1] == 'l')
				in->all_of = m;
			else if (k[0] == 'a')
				in->any_of = m;
			else
				in->one_of = m;
			constraint = false;
		}
		else if (strcmp(k, "not") == 0)
		{
			if (!js_is_schema(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a schema (object or boolean)");
			not_json = m;
		}
		else if (strcmp(k, "if") == 0 || strcmp(k, "then") == 0 || strcmp(k, "else") == 0)
		{
			if (!js_is_schema(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a schema (object or boolean)");
			if (k[0] == 'i')
				in->if_schema = m;
			else if (k[0] == 't')
				in->then_schema = m;
			else
				in->else_schema = m;
			constraint = false;
		}
		else if (strcmp(k, "$ref") == 0)
		{
			if (!cJSON_IsString(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k, "must be a string");
			if ((st = resolve_ref(ctx, idx, m->valuestring, &in->ref)) != LLM_OK)
				return st;
			in = &ctx->infos[idx];
			constraint = false;
		}
		else if (strcmp(k, "dependencies") == 0 || strcmp(k, "dependentRequired") == 0 ||
				 strcmp(k, "dependentSchemas") == 0)
		{
			if (!cJSON_IsObject(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k, "must be an object");
			for (const cJSON *d = m->child; d != NULL; d = d->next)
			{
				bool		ok = k[9] == 'R' ? false : js_is_schema(d);

				if (k[9] != 'S' && cJSON_IsArray(d))
				{
					ok = true;
					for (const cJSON *r = d->child; r != NULL; r = r->next)
						ok = ok && cJSON_IsString(r);
				}
				if (!ok)
					return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
									"the value of \"%s\" has the wrong type", d->string);
			}
			if (k[9] == 'R')
				in->dependent_required = m;
			else if (k[9] == 'S')
				in->dependent_schemas = m;
			else
				in->dependencies = m;
			constraint = m->child != NULL;
		}
		else if (strcmp(k, "propertyNames") == 0)
		{
			if (!js_is_schema(m))
				return js_kw_error(ctx, LLM_ERR_INVALID_ARG, idx, k,
								"must be a schema (object or boolean)");
			in->property_names = m;
		}
		else if (strcmp(k, "unevaluatedProperties") == 0)
			add_unsup(in, "unevaluatedProperties", LLM_JT_OBJECT);
		else if (strcmp(k, "unevaluatedItems") == 0)
			add_unsup(in, "unevaluatedItems", LLM_JT_ARRAY);
		else if (strcmp(k, "$dynamicRef") == 0)
			add_unsup(in, "$dynamicRef", LLM_JT_ANY);
		else if (strcmp(k, "$recursiveRef") == 0)
			add_unsup(in, "$recursiveRef", LLM_JT_ANY);
		else
			constraint = false; /* annotation or unknown keyword */
		if (constraint)
		{
			in->has_constraints = true;
			n_keywords++;
		}
	}

	if (items_array != NULL && prefix_items == NULL)
	{
		in->prefix = items_array;
		in->prefix_from_items = true;
	}
	else if (prefix_items != NULL)
		in->prefix = prefix_items;
	if (in->prefix_from_items)
	{
		/* additionalItems only means something next to items as an array */
	}
	else
		in->additional_items = NULL;
	if (has_minimum)
		js_tighten_min(&in->bounds, minimum, excl_min_bool);
	if (has_maximum)
		js_tighten_max(&in->bounds, maximum, excl_max_bool);
	if (in->if_schema != NULL && (in->then_schema != NULL || in->else_schema != NULL))
	{
		add_unsup(in, "if", LLM_JT_ANY);
		in->has_constraints = true;
	}

	in->only_type = has_type_kw && n_keywords == 1 && not_json == NULL &&
		in->all_of == NULL && in->any_of == NULL && in->one_of == NULL && in->ref < 0;
	in->only_required = in->required != NULL && n_keywords == 1 && not_json == NULL &&
		in->all_of == NULL && in->any_of == NULL && in->one_of == NULL && in->ref < 0;
	if (not_json != NULL)
	{
		int32_t		ni;
		js_info    *inner;

		in->not_schema = not_json;
		if ((st = js_info_get(ctx, not_json, &ni)) != LLM_OK ||
			(st = js_info_parse(ctx, ni)) != LLM_OK)
			return st;
		in = &ctx->infos[idx];
		inner = &ctx->infos[ni];
		if (info_trivial(inner))
		{
			/* "not": {} — nothing validates */
			in->is_bool = true;
			in->bool_value = false;
			in->has_constraints = true;
			return LLM_OK;
		}
		if (inner->is_bool)
		{
			/* "not": false constrains nothing */
		}
		else if (inner->only_required)
		{
			in->not_required = inner->required;
			in->has_constraints = true;
		}
		else if (inner->only_type)
		{
			uint32_t	out = inner->types;

			/* not integer: generate no number (a "2.0" would be an integer) */
			in->types &= ~out;
			in->not_number = (out & JS_NUMBER_TYPES) != 0;
			in->has_constraints = true;
		}
		else
		{
			add_unsup(in, "not", LLM_JT_ANY);
			in->has_constraints = true;
		}
	}
	return LLM_OK;
}

/* --------------------------------------------------------------- regexes */

/* the text contains only characters on which regex dialects agree */
bool
js_name_certain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if (*p < 0x20 || *p >= 0x7F)
			return false;
	return true;
}

static llm_status
remember_regex(js_ctx *ctx, llm_regex ***list, int32_t *n, int32_t *cap, llm_regex *re)
{
	if (*n == *cap)
	{
		int32_t		new_cap = *cap ? *cap * 2 : 16;
		llm_regex **grown = llm_realloc(*list, sizeof(llm_regex *) * *cap,
										sizeof(llm_regex *) * new_cap);

		if (grown == NULL)
		{
			llm_regex_free(re);
			return js_nomem(ctx);
		}
		*list = grown;
		*cap = new_cap;
	}
	(*list)[(*n)++] = re;
	return LLM_OK;
}

/* One pattern, for checking values and matching property names (cached). */
llm_status
js_check_regex(js_ctx *ctx, const char *pattern, llm_regex_mode mode, int32_t info,
			   const char *keyword, llm_regex **out)
{
	char	   *key = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	char		m = mode == LLM_REGEX_FULL ? 'F' : 'S';
	int32_t		found;
	size_t		plen = strlen(pattern);
	llm_regex  *re = NULL;
	llm_error	e;
	llm_status	st;

	if (js_buf_append(&key, &len, &cap, &m, 1) != LLM_OK ||
		js_buf_append(&key, &len, &cap, pattern, plen) != LLM_OK)
	{
		llm_free(key);
		return js_nomem(ctx);
	}
	if (js_map_get(&ctx->check_regex_map, key, len, &found))
	{
		llm_free(key);
		*out = ctx->check_regexes[found];
		return LLM_OK;
	}
	memset(&e, 0, sizeof(e));
	st = llm_regex_compile(&pattern, &plen, &mode, 1, NULL, &re, &e);
	if (st != LLM_OK)
	{
		llm_free(key);
		if (st == LLM_ERR_NOMEM)
			return js_nomem(ctx);
		return js_kw_error(ctx, st, info, keyword, "%s", e.msg);
	}
	st = remember_regex(ctx, &ctx->check_regexes, &ctx->n_check_regexes,
						&ctx->cap_check_regexes, re);
	if (st == LLM_OK &&
		js_map_put(&ctx->check_regex_map, key, len, ctx->n_check_regexes - 1) != LLM_OK)
		st = js_nomem(ctx);
	llm_free(key);
	*out = re;
	return st;
}

void
js_pattern_list_free(js_pattern_list *pl)
{
	llm_free(pl->pats);
	llm_free(pl->lens);
	llm_free(pl->modes);
	llm_free(pl->infos);
	llm_free(pl->keywords);
}

llm_status
js_pattern_add(js_ctx *ctx, js_pattern_list *pl, const char *pat, llm_regex_mode mode,
			int32_t info, const char *keyword)
{
	for (int i = 0; i < pl->n; i++)
		if (pl->modes[i] == mode && strcmp(pl->pats[i], pat) == 0)
			return LLM_OK;
	if (pl->n == pl->cap)
	{
		int			cap = pl->cap ? pl->cap * 2 : 4;
		const char **pats = llm_realloc(pl->pats, sizeof(char *) * pl->cap, sizeof(char *) * cap);

		if (pats)
			pl->pats = pats;
		{
			size_t	   *lens = llm_realloc(pl->lens, sizeof(size_t) * pl->cap, sizeof(size_t) * cap);

			if (lens)
				pl->lens = lens;
			else
				pats = NULL;
		}
		{
			llm_regex_mode *modes = llm_realloc(pl->modes, sizeof(llm_regex_mode) * pl->cap,
												sizeof(llm_regex_mode) * cap);

			if (modes)
				pl->modes = modes;
			else
				pats = NULL;
		}
		{
			int32_t    *infos = llm_realloc(pl->infos, sizeof(int32_t) * pl->cap,
											sizeof(int32_t) * cap);

			if (infos)
				pl->infos = infos;
			else
				pats = NULL;
		}
		{
			const char **kws = llm_realloc(pl->keywords, sizeof(char *) * pl->cap,
										   sizeof(char *) * cap);

			if (kws)
				pl->keywords = kws;
			else
				pats = NULL;
		}
		if (pats == NULL)
			return js_nomem(ctx);
		pl->cap = cap;
	}
	pl->pats[pl->n] = pat;
	pl->lens[pl->n] = strlen(pat);
	pl->modes[pl->n] = mode;
	pl->infos[pl->n] = info;
	pl->keywords[pl->n] = keyword;
	pl->n++;
	return LLM_OK;
}

/*
 * The automaton of a string node: all its patterns intersected, with the
 * control characters the JSON string generator never emits left out.
 * Nodes with the same patterns share one automaton.
 */
llm_status
js_node_regex(js_ctx *ctx, const js_pattern_list *pl, llm_regex **out)
{
	char	   *key = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	int32_t		found;
	bool		exclude[128];
	llm_regex  *re = NULL;
	llm_error	e;
	llm_status	st = LLM_OK;

	for (int i = 0; i < pl->n && st == LLM_OK; i++)
	{
		char		head[16];

		snprintf(head, sizeof(head), "%c%zu:", pl->modes[i] == LLM_REGEX_FULL ? 'F' : 'S',
				 pl->lens[i]);
		if (js_buf_append(&key, &len, &cap, head, strlen(head)) != LLM_OK ||
			js_buf_append(&key, &len, &cap, pl->pats[i], pl->lens[i]) != LLM_OK)
			st = LLM_ERR_NOMEM;
	}
	if (st != LLM_OK)
	{
		llm_free(key);
		return js_nomem(ctx);
	}
	if (js_map_get(&ctx->node_regex_map, key, len, &found))
	{
		llm_free(key);
		*out = ctx->node_regexes[found];
		return LLM_OK;
	}
	for (int c = 0; c < 128; c++)
		exclude[c] = c < 0x20;
	memset(&e, 0, sizeof(e));
	st = llm_regex_compile(pl->pats, pl->lens, pl->modes, pl->n, exclude, &re, &e);
	if (st != LLM_OK)
	{
		llm_free(key);
		if (st == LLM_ERR_NOMEM)
			return js_nomem(ctx);
		/* name the pattern at fault if one fails alone */
		for (int i = 0; i < pl->n && pl->n > 1; i++)
		{
			llm_regex  *one;
			llm_status	st1 = js_check_regex(ctx, pl->pats[i], pl->modes[i], pl->infos[i],
											 pl->keywords[i], &one);

			if (st1 != LLM_OK)
				return st1;
		}
		return js_kw_error(ctx, st, pl->infos[0], pl->keywords[0], "%s", e.msg);
	}
	st = remember_regex(ctx, &ctx->node_regexes, &ctx->n_node_regexes,
						&ctx->cap_node_regexes, re);
	if (st == LLM_OK &&
		js_map_put(&ctx->node_regex_map, key, len, ctx->n_node_regexes - 1) != LLM_OK)
		st = js_nomem(ctx);
	llm_free(key);
	*out = re;
	return st;
}
