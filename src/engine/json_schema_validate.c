/*
 * json_schema_validate.c — checking one JSON value (a cJSON tree taken from
 * the schema itself: an enum or const value) against the schema as written,
 * with JSON Schema's own semantics; and the small text utilities the schema
 * compiler shares (compact JSON printing, UTF-8, a byte-string map).
 *
 * The compiler uses the checker in two directions, so it answers in one of
 * two modes:
 *   strict  "certainly valid": used to keep enum values, which are then
 *           emitted verbatim and must validate.  Anything it cannot decide
 *           (a format we do not know, a pattern on non-ASCII text whose
 *           meaning differs between regex dialects) answers "no", and
 *           ctx->unknown_keyword says which keyword could not be decided;
 *   loose   "possibly valid": used to prove that a document of one oneOf
 *           branch fails another.  Anything undecided answers "yes".
 * "not" and oneOf switch modes for their subschemas (strictly passing
 * "not S" needs S to certainly fail).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_schema_internal.h"

/* ------------------------------------------------------------------ map */

static uint64_t
map_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void
js_map_free(js_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		llm_free(m->keys[i]);
	llm_free(m->keys);
	llm_free(m->key_lens);
	llm_free(m->values);
	memset(m, 0, sizeof(*m));
}

static size_t
map_slot(const js_map *m, const void *key, size_t len)
{
	size_t		i = (size_t) map_hash(key, len) & (m->cap - 1);

	while (m->keys[i] != NULL &&
		   (m->key_lens[i] != len || memcmp(m->keys[i], key, len) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

bool
js_map_get(const js_map *m, const void *key, size_t len, int32_t *value)
{
	size_t		i;

	if (m->cap == 0)
		return false;
	i = map_slot(m, key, len);
	if (m->keys[i] == NULL)
		return false;
	*value = m->values[i];
	return true;
}

static llm_status
map_grow(js_map *m)
{
	js_map		bigger;
	size_t		cap = m->cap ? m->cap * 2 : 64;

	memset(&bigger, 0, sizeof(bigger));
	bigger.keys = llm_calloc(cap, sizeof(char *));
	bigger.key_lens = llm_calloc(cap, sizeof(size_t));
	bigger.values = llm_calloc(cap, sizeof(int32_t));
	if (bigger.keys == NULL || bigger.key_lens == NULL || bigger.values == NULL)
	{
		llm_free(bigger.keys);
		llm_free(bigger.key_lens);
		llm_free(bigger.values);
		return LLM_ERR_NOMEM;
	}
	bigger.cap = cap;
	for (size_t i = 0; i < m->cap; i++)
	{
		if (m->keys[i] != NULL)
		{
			size_t		j = map_slot(&bigger, m->keys[i], m->key_lens[i]);

			bigger.keys[j] = m->keys[i];
			bigger.key_lens[j] = m->key_lens[i];
			bigger.values[j] = m->values[i];
			bigger.count++;
		}
	}
	llm_free(m->keys);
	llm_free(m->key_lens);
	llm_free(m->values);
	*m = bigger;
	return LLM_OK;
}

llm_status
js_map_put(js_map *m, const void *key, size_t len, int32_t value)
{
	size_t		i;
	char	   *copy;

	if ((m->count + 1) * 2 > m->cap && map_grow(m) != LLM_OK)
		return LLM_ERR_NOMEM;
	i = map_slot(m, key, len);
	if (m->keys[i] != NULL)
	{
		m->values[i] = value;
		return LLM_OK;
	}
	copy = llm_malloc(len + 1);
	if (copy == NULL)
		return LLM_ERR_NOMEM;
	memcpy(copy, key, len);
	copy[len] = '\0';
	m->keys[i] = copy;
	m->key_lens[i] = len;
	m->values[i] = value;
	m->count++;
	return LLM_OK;
}

/* ----------------------------------------------------------------- text */

bool
js_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = p[i];
		size_t		need;
		uint32_t	cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
		{
			need = 1;
			cp = c & 0x1F;
		}
		else if (c >= 0xE0 && c <= 0xEF)
		{
			need = 2;
			cp = c & 0x0F;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			need = 3;
			cp = c & 0x07;
		}
		else
			return false;
		if (n - i - 1 < need)
			return false;
		for (size_t k = 1; k <= need; k++)
		{
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
			cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += need + 1;
	}
	return true;
}

size_t
js_utf8_chars(const char *s, size_t n)
{
	size_t		count = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

llm_status
js_buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	size_t		need;

	if (!llm_add_size(*len, n, &need) || !llm_add_size(need, 1, &need))
		return LLM_ERR_NOMEM;
	if (need > *cap)
	{
		size_t		new_cap = *cap ? *cap : 64;
		char	   *grown;

		while (new_cap < need)
		{
			if (!llm_mul_size(new_cap, 2, &new_cap))
				return LLM_ERR_NOMEM;
		}
		grown = llm_realloc(*buf, *cap, new_cap);
		if (grown == NULL)
			return LLM_ERR_NOMEM;
		*buf = grown;
		*cap = new_cap;
	}
	if (n > 0)
		memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return LLM_OK;
}

llm_status
js_print_string(const char *s, size_t n, char **buf, size_t *len, size_t *cap)
{
	size_t		start = 0;

	if (js_buf_append(buf, len, cap, "\"", 1) != LLM_OK)
		return LLM_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		esc[8];
		const char *e = NULL;

		if (c == '"')
			e = "\\\"";
		else if (c == '\\')
			e = "\\\\";
		else if (c == '\n')
			e = "\\n";
		else if (c == '\r')
			e = "\\r";
		else if (c == '\t')
			e = "\\t";
		else if (c == '\b')
			e = "\\b";
		else if (c == '\f')
			e = "\\f";
		else if (c < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			e = esc;
		}
		if (e != NULL)
		{
			if (js_buf_append(buf, len, cap, s + start, i - start) != LLM_OK ||
				js_buf_append(buf, len, cap, e, strlen(e)) != LLM_OK)
				return LLM_ERR_NOMEM;
			start = i + 1;
		}
	}
	if (js_buf_append(buf, len, cap, s + start, n - start) != LLM_OK ||
		js_buf_append(buf, len, cap, "\"", 1) != LLM_OK)
		return LLM_ERR_NOMEM;
	return LLM_OK;
}

/*
 * A number as JSON text that reads back as the same double: integers
 * below 1e17 in full, others in the shortest %g form that round-trips.
 */
static void
format_number(double d, char *out, size_t cap)
{
	if (d == floor(d) && fabs(d) < 1e17)
	{
		snprintf(out, cap, "%.0f", d);
		return;
	}
	for (int prec = 15; prec <= 17; prec++)
	{
		snprintf(out, cap, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

llm_status
js_print_value(const cJSON *v, char **buf, size_t *len, size_t *cap, int depth)
{
	char		num[64];

	if (depth > JS_MAX_JSON_DEPTH + 8)
		return LLM_ERR_LIMIT;
	switch (v->type & 0xFF)
	{
		case cJSON_NULL:
			return js_buf_append(buf, len, cap, "null", 4);
		case cJSON_True:
			return js_buf_append(buf, len, cap, "true", 4);
		case cJSON_False:
			return js_buf_append(buf, len, cap, "false", 5);
		case cJSON_Number:
			format_number(v->valuedouble, num, sizeof(num));
			return js_buf_append(buf, len, cap, num, strlen(num));
		case cJSON_String:
			return js_print_string(v->valuestring, strlen(v->valuestring), buf, len, cap);
		case cJSON_Array:
		case cJSON_Object:
			{
				bool		obj = cJSON_IsObject(v);
				llm_status	st;

				st = js_buf_append(buf, len, cap, obj ? "{" : "[", 1);
				for (const cJSON *c = v->child; st == LLM_OK && c != NULL; c = c->next)
				{
					if (c != v->child)
						st = js_buf_append(buf, len, cap, ",", 1);
					if (st == LLM_OK && obj)
					{
						st = js_print_string(c->string, strlen(c->string), buf, len, cap);
						if (st == LLM_OK)
							st = js_buf_append(buf, len, cap, ":", 1);
					}
					if (st == LLM_OK)
						st = js_print_value(c, buf, len, cap, depth + 1);
				}
				if (st == LLM_OK)
					st = js_buf_append(buf, len, cap, obj ? "}" : "]", 1);
				return st;
			}
		default:
			return LLM_ERR_INVALID_ARG;
	}
}

/* ------------------------------------------------------------- equality */

static int
count_children(const cJSON *v)
{
	int			n = 0;

	for (const cJSON *c = v->child; c != NULL; c = c->next)
		n++;
	return n;
}

/* JSON Schema equality: numbers by value, booleans are not numbers,
 * objects regardless of member order. */
bool
js_json_equal(const cJSON *a, const cJSON *b, int depth)
{
	int			ta = a->type & 0xFF;
	int			tb = b->type & 0xFF;

	if (depth > JS_MAX_JSON_DEPTH + 8 || ta != tb)
		return false;
	switch (ta)
	{
		case cJSON_NULL:
		case cJSON_True:
		case cJSON_False:
			return true;
		case cJSON_Number:
			return a->valuedouble == b->valuedouble;
		case cJSON_String:
			return strcmp(a->valuestring, b->valuestring) == 0;
		case cJSON_Array:
			{
				const cJSON *x = a->child;
				const cJSON *y = b->child;

				for (; x != NULL && y != NULL; x = x->next, y = y->next)
					if (!js_json_equal(x, y, depth + 1))
						return false;
				return x == NULL && y == NULL;
			}
		case cJSON_Object:
			if (count_children(a) != count_children(b))
				return false;
			for (const cJSON *x = a->child; x != NULL; x = x->next)
			{
				const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);

				if (y == NULL || !js_json_equal(x, y, depth + 1))
					return false;
			}
			return true;
		default:
			return false;
	}
}

/* -------------------------------------------------------------- checker */

/* Is the text free of characters on which regex dialects disagree?  (\s,
 * \w, \d and "." differ between ECMA-262 and Python beyond ASCII.) */
static bool
regex_certain_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if (!((*p >= 0x20 && *p < 0x7F) || *p == '\t' || *p == '\n' ||
			  *p == '\r' || *p == '\f' || *p == '\v'))
			return false;
	return true;
}

/*
 * Record an undecidable keyword.  Returns true when the caller should stop
 * with *ok as set (strict: no), false when checking goes on (loose: the
 * keyword is assumed to pass).
 */
static bool
undecided(js_ctx *ctx, bool strict, const char *keyword, int32_t info, bool *ok)
{
	if (!strict)
		return false;
	if (ctx->unknown_keyword == NULL)
	{
		ctx->unknown_keyword = keyword;
		ctx->unknown_info = info;
	}
	*ok = false;
	return true;
}

static uint32_t
value_type(const cJSON *v)
{
	switch (v->type & 0xFF)
	{
		case cJSON_NULL:
			return LLM_JT_NULL;
		case cJSON_True:
		case cJSON_False:
			return LLM_JT_BOOLEAN;
		case cJSON_Number:
			return v->valuedouble == floor(v->valuedouble) && isfinite(v->valuedouble) ?
				LLM_JT_INTEGER : LLM_JT_FRACTION;
		case cJSON_String:
			return LLM_JT_STRING;
		case cJSON_Array:
			return LLM_JT_ARRAY;
		default:
			return LLM_JT_OBJECT;
	}
}

static bool
type_matches(uint32_t types, uint32_t vt)
{
	/* "number" is INTEGER|FRACTION; an integral value is also a number */
	if (vt == LLM_JT_INTEGER)
		return (types & (LLM_JT_INTEGER | LLM_JT_FRACTION)) != 0;
	return (types & vt) != 0;
}

static llm_status validate_info(js_ctx *ctx, const cJSON *v, int32_t idx,
								uint8_t mask, bool strict, int depth, bool *ok);

static llm_status
validate_json(js_ctx *ctx, const cJSON *v, const cJSON *schema, bool strict,
			  int depth, bool *ok)
{
	int32_t		idx;
	llm_status	st = js_info_get(ctx, schema, &idx);

	if (st != LLM_OK)
		return st;
	return validate_info(ctx, v, idx, 0, strict, depth + 1, ok);
}

static bool
bounds_ok(const js_bounds *b, double d)
{
	if (b->has_min && (d < b->min || (b->min_excl && d <= b->min)))
		return false;
	if (b->has_max && (d > b->max || (b->max_excl && d >= b->max)))
		return false;
	return true;
}

/* Python jsonschema's multipleOf: exact for integers, float division else */
static bool
multiple_ok(double d, double m)
{
	double		q;

	if (d == floor(d) && m == floor(m) && fabs(d) < 9007199254740992.0 &&
		m < 9007199254740992.0)
		return fmod(d, m) == 0;
	q = d / m;
	if (!isfinite(q))
		return false;
	return q == trunc(q);
}

static llm_status
string_checks(js_ctx *ctx, const cJSON *v, int32_t idx, bool strict, bool *ok)
{
	js_info    *in = &ctx->infos[idx];
	const char *s = v->valuestring;
	size_t		n = strlen(s);
	size_t		chars = js_utf8_chars(s, n);
	llm_status	st;
	llm_regex  *re;

	if ((int64_t) chars < in->min_len || (in->max_len >= 0 && (int64_t) chars > in->max_len))
	{
		*ok = false;
		return LLM_OK;
	}
	if (in->pattern != NULL)
	{
		st = js_check_regex(ctx, in->pattern, LLM_REGEX_SEARCH, idx, "pattern", &re);
		if (st != LLM_OK)
			return st;
		if (!regex_certain_text(s))
		{
			if (undecided(ctx, strict, "pattern", idx, ok))
				return LLM_OK;
		}
		else if (!llm_regex_matches(re, s, n))
		{
			*ok = false;
			return LLM_OK;
		}
	}
	if (in->format != NULL && strict && !in->format_numeric)
	{
		if (in->format_pattern == NULL)
		{
			undecided(ctx, strict, "format", idx, ok);
			return LLM_OK;
		}
		st = js_check_regex(ctx, in->format_pattern, LLM_REGEX_FULL, idx, "format", &re);
		if (st != LLM_OK)
			return st;
		/* our format patterns accept a subset of what validators accept */
		if (!llm_regex_matches(re, s, n))
			*ok = false;
	}
	return LLM_OK;
}

static llm_status
array_checks(js_ctx *ctx, const cJSON *v, int32_t idx, bool strict, int depth, bool *ok)
{
	js_info    *in = &ctx->infos[idx];
	int			n = count_children(v);
	int			i = 0;
	int			n_prefix = in->prefix ? cJSON_GetArraySize(in->prefix) : 0;
	llm_status	st;

	if (n < in->min_items || n > in->max_items)
	{
		*ok = false;
		return LLM_OK;
	}
	for (const cJSON *e = v->child; e != NULL; e = e->next, i++)
	{
		const cJSON *sub = NULL;

		if (i < n_prefix)
		{
			sub = cJSON_GetArrayItem(in->prefix, i);
			if (in->items != NULL && ctx->legacy && !in->prefix_from_items)
			{
				/* prefixItems under a legacy draft: items applies to all */
				st = validate_json(ctx, e, in->items, strict, depth, ok);
				if (st != LLM_OK || !*ok)
					return st;
			}
		}
		else if (in->items != NULL)
			sub = in->items;
		else if (in->prefix_from_items && in->additional_items != NULL)
			sub = in->additional_items;
		if (sub != NULL)
		{
			st = validate_json(ctx, e, sub, strict, depth, ok);
			if (st != LLM_OK || !*ok)
				return st;
		}
	}
	if (in->unique_items)
	{
		for (const cJSON *a = v->child; a != NULL; a = a->next)
			for (const cJSON *b = a->next; b != NULL; b = b->next)
				if (js_json_equal(a, b, 0))
				{
					*ok = false;
					return LLM_OK;
				}
	}
	if (in->contains != NULL)
	{
		int			sure = 0;
		int			maybe = 0;
		bool		hit;

		for (const cJSON *e = v->child; e != NULL; e = e->next)
		{
			st = validate_json(ctx, e, in->contains, true, depth, &hit);
			if (st != LLM_OK)
				return st;
			sure += hit;
			st = validate_json(ctx, e, in->contains, false, depth, &hit);
			if (st != LLM_OK)
				return st;
			maybe += hit;
		}
		if (strict ? (sure < in->min_contains || maybe > in->max_contains)
			: (maybe < in->min_contains || sure > in->max_contains))
			*ok = false;
	}
	return LLM_OK;
}

static llm_status
object_checks(js_ctx *ctx, const cJSON *v, int32_t idx, bool strict, int depth, bool *ok)
{
	js_info    *in = &ctx->infos[idx];
	int			n = count_children(v);
	llm_status	st;

	if (n < in->min_props || n > in->max_props)
	{
		*ok = false;
		return LLM_OK;
	}
	if (in->required != NULL)
	{
		for (const cJSON *r = in->required->child; r != NULL; r = r->next)
			if (cJSON_GetObjectItemCaseSensitive(v, r->valuestring) == NULL)
			{
				*ok = false;
				return LLM_OK;
			}
	}
	if (in->properties != NULL)
	{
		/* draft-03: "required": true inside the property's schema */
		for (const cJSON *p = in->properties->child; p != NULL; p = p->next)
		{
			int32_t		pi;

			st = js_info_get(ctx, p, &pi);
			if (st == LLM_OK)
				st = js_info_parse(ctx, pi);
			if (st != LLM_OK)
				return st;
			if (ctx->infos[pi].required_bool &&
				cJSON_GetObjectItemCaseSensitive(v, p->string) == NULL)
			{
				*ok = false;
				return LLM_OK;
			}
		}
	}
	for (const cJSON *m = v->child; m != NULL; m = m->next)
	{
		const cJSON *decl;
		bool		matched;

		if ((st = js_info_property(ctx, idx, m->string, &decl)) != LLM_OK)
			return st;
		matched = decl != NULL;

		if (decl != NULL)
		{
			st = validate_json(ctx, m, decl, strict, depth, ok);
			if (st != LLM_OK || !*ok)
				return st;
		}
		if (in->pattern_props != NULL)
		{
			for (const cJSON *pp = in->pattern_props->child; pp != NULL; pp = pp->next)
			{
				llm_regex  *re;

				st = js_check_regex(ctx, pp->string, LLM_REGEX_SEARCH, idx,
									"patternProperties", &re);
				if (st != LLM_OK)
					return st;
				if (!regex_certain_text(m->string))
				{
					/* cannot tell which schemas apply */
					if (undecided(ctx, strict, "patternProperties", idx, ok))
						return LLM_OK;
					matched = true;
					continue;
				}
				if (llm_regex_matches(re, m->string, strlen(m->string)))
				{
					matched = true;
					st = validate_json(ctx, m, pp, strict, depth, ok);
					if (st != LLM_OK || !*ok)
						return st;
				}
			}
		}
		if (!matched && in->additional != NULL)
		{
			st = validate_json(ctx, m, in->additional, strict, depth, ok);
			if (st != LLM_OK || !*ok)
				return st;
		}
		if (in->property_names != NULL)
		{
			cJSON	   *name = cJSON_CreateString(m->string);

			if (name == NULL)
				return LLM_ERR_NOMEM;
			st = validate_json(ctx, name, in->property_names, strict, depth, ok);
			cJSON_Delete(name);
			if (st != LLM_OK || !*ok)
				return st;
		}
	}
	/* dependencies (draft-04..07), dependentRequired, dependentSchemas */
	for (int k = 0; k < 3; k++)
	{
		const cJSON *deps = k == 0 ? in->dependencies :
			k == 1 ? in->dependent_required : in->dependent_schemas;

		if (deps == NULL)
			continue;
		for (const cJSON *d = deps->child; d != NULL; d = d->next)
		{
			if (cJSON_GetObjectItemCaseSensitive(v, d->string) == NULL)
				continue;
			if (cJSON_IsArray(d))
			{
				for (const cJSON *r = d->child; r != NULL; r = r->next)
					if (cJSON_GetObjectItemCaseSensitive(v, r->valuestring) == NULL)
					{
						*ok = false;
						return LLM_OK;
					}
			}
			else
			{
				st = validate_json(ctx, v, d, strict, depth, ok);
				if (st != LLM_OK || !*ok)
					return st;
			}
		}
	}
	return LLM_OK;
}

/* count the branches of anyOf/oneOf that pass, in both modes */
static llm_status
count_branches(js_ctx *ctx, const cJSON *v, const cJSON *arr, int depth,
			   int *sure, int *maybe, bool need_sure)
{
	llm_status	st;
	bool		hit;

	*sure = *maybe = 0;
	for (const cJSON *b = arr->child; b != NULL; b = b->next)
	{
		st = validate_json(ctx, v, b, false, depth, &hit);
		if (st != LLM_OK)
			return st;
		if (!hit)
			continue;
		(*maybe)++;
		if (need_sure)
		{
			st = validate_json(ctx, v, b, true, depth, &hit);
			if (st != LLM_OK)
				return st;
			*sure += hit;
		}
	}
	return LLM_OK;
}

static llm_status
validate_info(js_ctx *ctx, const cJSON *v, int32_t idx, uint8_t mask,
			  bool strict, int depth, bool *ok)
{
	js_info    *in;
	llm_status	st;
	uint32_t	vt = value_type(v);

	*ok = true;
	if (++ctx->validate_steps > JS_VALIDATE_BUDGET || depth > 4 * LLM_SCHEMA_MAX_DEPTH)
	{
		undecided(ctx, strict, "(schema too complex to check a value)", idx, ok);
		return LLM_OK;
	}
	st = js_info_parse(ctx, idx);
	if (st != LLM_OK)
		return st;
	in = &ctx->infos[idx];
	if (in->is_bool)
	{
		*ok = in->bool_value;
		return LLM_OK;
	}

	/* keywords the checker cannot decide */
	for (int i = 0; i < in->n_unsup; i++)
	{
		const char *kw = in->unsup[i].keyword;

		if ((strncmp(kw, "unevaluated", 11) == 0 || kw[0] == '$') &&
			undecided(ctx, strict, kw, idx, ok))
			return LLM_OK;
	}

	if (in->ref >= 0)
	{
		st = validate_info(ctx, v, in->ref, 0, strict, depth + 1, ok);
		if (st != LLM_OK || !*ok)
			return st;
	}
	if (!type_matches(in->types, vt))
	{
		*ok = false;
		return LLM_OK;
	}
	if (in->enum_values != NULL)
	{
		bool		found = false;

		for (const cJSON *e = in->enum_values->child; e != NULL && !found; e = e->next)
			found = js_json_equal(v, e, 0);
		if (!found)
		{
			*ok = false;
			return LLM_OK;
		}
	}
	if (in->const_value != NULL && !js_json_equal(v, in->const_value, 0))
	{
		*ok = false;
		return LLM_OK;
	}

	if (cJSON_IsNumber(v))
	{
		double		d = v->valuedouble;

		if (!bounds_ok(&in->bounds, d) ||
			(in->has_multiple_of && !multiple_ok(d, in->multiple_of)))
		{
			*ok = false;
			return LLM_OK;
		}
		if (in->format_numeric && strict && in->format != NULL)
		{
			if ((strcmp(in->format, "int32") == 0 &&
				 (d < -2147483648.0 || d > 2147483647.0 || vt != LLM_JT_INTEGER)) ||
				(strcmp(in->format, "int64") == 0 &&
				 (d < -9223372036854775808.0 || d >= 9223372036854775808.0 ||
				  vt != LLM_JT_INTEGER)))
			{
				*ok = false;
				return LLM_OK;
			}
		}
	}
	else if (cJSON_IsString(v))
		st = string_checks(ctx, v, idx, strict, ok);
	else if (cJSON_IsArray(v))
		st = array_checks(ctx, v, idx, strict, depth, ok);
	else if (cJSON_IsObject(v))
		st = object_checks(ctx, v, idx, strict, depth, ok);
	if (st != LLM_OK || !*ok)
		return st;
	in = &ctx->infos[idx];

	if (in->all_of != NULL)
	{
		for (const cJSON *b = in->all_of->child; b != NULL; b = b->next)
		{
			st = validate_json(ctx, v, b, strict, depth, ok);
			if (st != LLM_OK || !*ok)
				return st;
		}
	}
	if (in->any_of != NULL && !(mask & JS_MASK_ANYOF))
	{
		bool		any = false;

		for (const cJSON *b = in->any_of->child; b != NULL && !any; b = b->next)
		{
			st = validate_json(ctx, v, b, strict, depth, &any);
			if (st != LLM_OK)
				return st;
		}
		if (!any)
		{
			*ok = false;
			return LLM_OK;
		}
	}
	if (in->one_of != NULL && !(mask & JS_MASK_ONEOF))
	{
		int			sure;
		int			maybe;

		st = count_branches(ctx, v, in->one_of, depth, &sure, &maybe, true);
		if (st != LLM_OK)
			return st;
		if (strict ? !(sure >= 1 && maybe <= 1) : !(maybe >= 1 && sure <= 1))
		{
			*ok = false;
			return LLM_OK;
		}
	}
	if (in->not_schema != NULL)
	{
		bool		inner;

		st = validate_json(ctx, v, in->not_schema, !strict, depth, &inner);
		if (st != LLM_OK)
			return st;
		if (inner)
		{
			*ok = false;
			return LLM_OK;
		}
	}
	if (in->if_schema != NULL && (in->then_schema != NULL || in->else_schema != NULL))
	{
		bool		sure;
		bool		maybe;
		bool		then_ok = true;
		bool		else_ok = true;

		st = validate_json(ctx, v, in->if_schema, true, depth, &sure);
		if (st == LLM_OK)
			st = validate_json(ctx, v, in->if_schema, false, depth, &maybe);
		if (st == LLM_OK && maybe && in->then_schema != NULL)
			st = validate_json(ctx, v, in->then_schema, strict, depth, &then_ok);
		if (st == LLM_OK && !sure && in->else_schema != NULL)
			st = validate_json(ctx, v, in->else_schema, strict, depth, &else_ok);
		if (st != LLM_OK)
			return st;
		if (sure)
			*ok = then_ok;
		else if (!maybe)
			*ok = else_ok;
		else
			*ok = strict ? (then_ok && else_ok) : (then_ok || else_ok);
	}
	return LLM_OK;
}

llm_status
js_validate_conj(js_ctx *ctx, const cJSON *v, const js_atom *conj, int32_t n,
				 bool strict, bool *ok)
{
	*ok = true;
	ctx->validate_steps = 0;
	for (int32_t i = 0; i < n; i++)
	{
		llm_status	st = validate_info(ctx, v, conj[i].info, conj[i].mask, strict, 0, ok);

		if (st != LLM_OK || !*ok)
			return st;
	}
	return LLM_OK;
}
