/*
 * json_schema_shortest.c — the shortest document of every node of a
 * compiled schema: its length (min_bytes, by fixpoint iteration, because
 * $ref makes the graph cyclic) and its text (llm_schema_write_shortest).
 *
 * Both follow the same choices, so the text written is always exactly
 * min_bytes long.  The serialization is the one the matcher produces with
 * no optional whitespace:
 *   null / true             4 bytes (boolean: "true")
 *   integer                 the integer in the bounds closest to zero
 *   fraction                the decimal (1..12 fraction digits) in the
 *                           bounds with the shortest text, closest to zero
 *   string                  min_chars times "a", or the regex's shortest
 *                           completion, JSON-escaped, between quotes
 *   array                   the first min_items elements, each shortest
 *   object                  required properties, then as many of the
 *                           cheapest optional properties (ties: declaration
 *                           order) and extra keys as min_props needs, in
 *                           declaration order, extra keys last; extra keys
 *                           are "0", "1", ... skipping declared names
 *   literals                the shortest literal (first on ties)
 *   anyOf                   the first child as short as the node (the
 *                           compiler orders children so this never loops)
 * A TYPED node writes its cheapest type, ties broken by LLM_JT_* bit order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_schema_internal.h"

static int64_t
sat_add(int64_t a, int64_t b)
{
	if (a == JS_INF || b == JS_INF || a > JS_INF - b)
		return JS_INF;
	return a + b;
}

static int64_t
sat_mul(int64_t a, int64_t b)
{
	if (a == JS_INF || b == JS_INF)
		return JS_INF;
	if (a != 0 && b > JS_INF / a)
		return JS_INF;
	return a * b;
}

/* ------------------------------------------------------------- numbers */

static bool
in_bounds(const llm_schema_node *n, double d)
{
	if (n->has_min && (d < n->min || (n->min_exclusive && d <= n->min)))
		return false;
	if (n->has_max && (d > n->max || (n->max_exclusive && d >= n->max)))
		return false;
	return true;
}

static bool
text_in_bounds(const llm_schema_node *n, const char *text)
{
	return in_bounds(n, strtod(text, NULL));
}

/* the next integral double above (below) an integral d */
static double
next_integer(double d, int dir)
{
	if (fabs(d) < JS_TWO53)
		return d + dir;
	return nextafter(d, dir > 0 ? INFINITY : -INFINITY);
}

static bool
shortest_integer(const llm_schema_node *n, char *buf, size_t cap, size_t *len)
{
	double		c;
	int			w;

	if (in_bounds(n, 0.0))
		c = 0.0;
	else if (n->has_min && n->min >= 0)
	{
		c = ceil(n->min);
		if (n->min_exclusive && c == n->min)
			c = next_integer(c, 1);
	}
	else if (n->has_max && n->max <= 0)
	{
		c = floor(n->max);
		if (n->max_exclusive && c == n->max)
			c = next_integer(c, -1);
	}
	else
		return false;
	if (!isfinite(c))
		return false;
	if (c == 0)
		c = 0.0;				/* never "-0" */
	w = snprintf(buf, cap, "%.0f", c);
	if (w < 0 || (size_t) w >= cap || !text_in_bounds(n, buf))
		return false;
	*len = (size_t) w;
	return true;
}

/* sign, |k| / 10^d as text with exactly d fraction digits */
static bool
decimal_text(double k, int d, char *buf, size_t cap, size_t *len)
{
	char		digits[48];
	int			nd;
	size_t		pos = 0;

	nd = snprintf(digits, sizeof(digits), "%.0f", fabs(k));
	if (nd < 0 || (size_t) nd >= sizeof(digits))
		return false;
	if (cap < (size_t) nd + (size_t) d + 4)
		return false;
	if (k < 0)
		buf[pos++] = '-';
	if (nd <= d)
	{
		buf[pos++] = '0';
		buf[pos++] = '.';
		for (int i = 0; i < d - nd; i++)
			buf[pos++] = '0';
		memcpy(buf + pos, digits, nd);
		pos += nd;
	}
	else
	{
		memcpy(buf + pos, digits, nd - d);
		pos += nd - d;
		buf[pos++] = '.';
		memcpy(buf + pos, digits + nd - d, d);
		pos += d;
	}
	buf[pos] = '\0';
	*len = pos;
	return true;
}

static bool
shortest_fraction(const llm_schema_node *n, char *buf, size_t cap, size_t *len)
{
	char		cand[64];
	size_t		cand_len;
	size_t		best = SIZE_MAX;
	double		scale = 1;
	bool		positive;

	if (in_bounds(n, 0.0))
	{
		if (cap < 4)
			return false;
		memcpy(buf, "0.0", 4);
		*len = 3;
		return true;
	}
	if (n->has_min && n->min >= 0)
		positive = true;
	else if (n->has_max && n->max <= 0)
		positive = false;
	else
		return false;
	for (int d = 1; d <= LLM_SCHEMA_MAX_FRACTION_DIGITS; d++)
	{
		double		k;

		scale *= 10;
		k = positive ? ceil(n->min * scale) : floor(n->max * scale);
		if (!isfinite(k) || fabs(k) >= JS_TWO53 / 16)
			break;
		/* the product may be off by one; try the neighbours, nearest zero first */
		for (int step = -1; step <= 2; step++)
		{
			double		kk = positive ? k + step : k - step;

			if (kk == 0)
				continue;
			if (!decimal_text(kk, d, cand, sizeof(cand), &cand_len))
				continue;
			if (text_in_bounds(n, cand))
			{
				if (cand_len < best && cand_len < cap)
				{
					memcpy(buf, cand, cand_len + 1);
					best = cand_len;
				}
				break;
			}
		}
	}
	if (best == SIZE_MAX)
		return false;
	*len = best;
	return true;
}

bool
js_shortest_number(const llm_schema_node *n, uint32_t type, char *buf,
				   size_t cap, size_t *len)
{
	if (type == LLM_JT_INTEGER)
		return shortest_integer(n, buf, cap, len);
	return shortest_fraction(n, buf, cap, len);
}

/* ------------------------------------------------------------- strings */

/* The regex's shortest string for the node, llm_malloc'd, or NULL. */
static char *
shortest_regex_string(const llm_schema_node *n, size_t *out_len, llm_status *st)
{
	int32_t		start = llm_regex_start(n->regex);
	size_t		cap = 256;
	size_t		limit = (size_t) n->max_chars * 4 + 16;

	*st = LLM_ERR_INVALID_ARG;
	if (start < 0 || n->min_chars > n->max_chars)
		return NULL;
	for (;;)
	{
		char	   *buf = llm_malloc(cap);
		llm_error	e;
		llm_status	r;

		if (buf == NULL)
		{
			*st = LLM_ERR_NOMEM;
			return NULL;
		}
		r = llm_regex_shortest_finish(n->regex, start, n->min_chars, n->max_chars,
									  buf, cap, out_len, &e);
		if (r == LLM_OK)
		{
			*st = LLM_OK;
			return buf;
		}
		llm_free(buf);
		if (r != LLM_ERR_LIMIT || cap >= limit)
		{
			*st = r;
			return NULL;
		}
		cap *= 4;
	}
}

static int64_t
escaped_len(const char *s, size_t n)
{
	int64_t		len = 2;

	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ||
			c == '\b' || c == '\f')
			len += 2;
		else if (c < 0x20)
			len += 6;
		else
			len += 1;
	}
	return len;
}

int64_t
js_string_cost(const llm_schema_node *n)
{
	char	   *s;
	size_t		len;
	int64_t		cost;
	llm_status	st;

	if (n->min_chars > n->max_chars || n->min_chars < 0)
		return JS_INF;
	if (n->regex == NULL)
		return 2 + (int64_t) n->min_chars;
	s = shortest_regex_string(n, &len, &st);
	if (s == NULL)
		return JS_INF;
	cost = escaped_len(s, len);
	llm_free(s);
	return cost;
}

/* ------------------------------------------------------------- objects */

/* the name of the j-th extra key that is not a declared property */
static void
extra_key_name(const llm_schema_node *n, int32_t j, char *buf, size_t cap)
{
	int64_t		k = 0;

	for (;;)
	{
		bool		taken = false;

		snprintf(buf, cap, "%lld", (long long) k);
		for (int32_t p = 0; p < n->n_props && !taken; p++)
			taken = strcmp(n->props[p].name, buf) == 0 &&
				n->props[p].name_len == strlen(buf);
		if (!taken)
		{
			if (j == 0)
				return;
			j--;
		}
		k++;
	}
}

typedef struct opt_cost
{
	int64_t		cost;
	int32_t		index;			/* prop index, or -1 - extra number */
} opt_cost;

static int
cmp_opt_cost(const void *a, const void *b)
{
	const opt_cost *x = a;
	const opt_cost *y = b;

	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	/* props (index >= 0) in declaration order, then extras in order */
	if ((x->index >= 0) != (y->index >= 0))
		return x->index >= 0 ? -1 : 1;
	if (x->index >= 0)
		return x->index < y->index ? -1 : 1;
	return x->index > y->index ? -1 : 1;
}

/*
 * The shortest object of node n: returns its bytes (JS_INF if none); if
 * chosen is not NULL it gets, per property, whether it is written, and
 * *n_extra the number of extra keys.
 */
static int64_t
object_plan(const llm_schema_node *nodes, const llm_schema_node *n, bool *chosen,
			int32_t *n_extra)
{
	int64_t		total = 2;
	int32_t		count = 0;
	int32_t		need;
	opt_cost   *opts;
	int32_t		n_opts = 0;
	int32_t		extra_avail = 0;
	int64_t		add_cost = JS_INF;

	if (n_extra)
		*n_extra = 0;
	if (n->min_props > n->max_props)
		return JS_INF;
	for (int32_t p = 0; p < n->n_props; p++)
	{
		if (chosen)
			chosen[p] = n->props[p].required;
		if (!n->props[p].required)
			continue;
		if (n->props[p].node < 0)
			return JS_INF;
		total = sat_add(total, sat_add((int64_t) n->props[p].key_json_len + 1,
									   nodes[n->props[p].node].min_bytes));
		count++;
	}
	if (total == JS_INF || count > n->max_props)
		return JS_INF;
	need = n->min_props - count;
	if (need > 0)
	{
		if (n->additional >= 0)
			add_cost = nodes[n->additional].min_bytes;
		if (add_cost != JS_INF)
			extra_avail = need;
		opts = llm_calloc((size_t) n->n_props + (size_t) extra_avail + 1, sizeof(opt_cost));
		if (opts == NULL)
			return JS_INF;
		for (int32_t p = 0; p < n->n_props; p++)
		{
			int64_t		c;

			if (n->props[p].required || n->props[p].node < 0)
				continue;
			c = nodes[n->props[p].node].min_bytes;
			if (c == JS_INF)
				continue;
			opts[n_opts].cost = sat_add((int64_t) n->props[p].key_json_len + 1, c);
			opts[n_opts].index = p;
			n_opts++;
		}
		for (int32_t j = 0; j < extra_avail; j++)
		{
			char		name[32];

			extra_key_name(n, j, name, sizeof(name));
			opts[n_opts].cost = sat_add((int64_t) strlen(name) + 3, add_cost);
			opts[n_opts].index = -1 - j;
			n_opts++;
		}
		if (n_opts < need)
		{
			llm_free(opts);
			return JS_INF;
		}
		qsort(opts, n_opts, sizeof(opt_cost), cmp_opt_cost);
		for (int32_t i = 0; i < need; i++)
		{
			total = sat_add(total, opts[i].cost);
			if (opts[i].index >= 0)
			{
				if (chosen)
					chosen[opts[i].index] = true;
			}
			else if (n_extra)
				(*n_extra)++;
		}
		count += need;
		llm_free(opts);
	}
	if (count > 1)
		total = sat_add(total, count - 1);
	return total;
}

static int64_t
array_cost(const llm_schema_node *nodes, const llm_schema_node *n)
{
	int64_t		total = 2;
	int32_t		m = n->min_items;
	int32_t		i;

	if (n->min_items > n->max_items)
		return JS_INF;
	for (i = 0; i < m && i < n->n_prefix; i++)
		total = sat_add(total, n->prefix[i] >= 0 ? nodes[n->prefix[i]].min_bytes : JS_INF);
	if (i < m)
	{
		if (n->items < 0)
			return JS_INF;
		total = sat_add(total, sat_mul(m - i, nodes[n->items].min_bytes));
	}
	if (m > 1)
		total = sat_add(total, m - 1);
	return total;
}

int64_t
js_type_cost(const llm_schema_node *nodes, const js_extra *extra, int32_t node,
			 uint32_t type)
{
	const llm_schema_node *n = &nodes[node];
	char		buf[512];
	size_t		len;

	switch (type)
	{
		case LLM_JT_NULL:
		case LLM_JT_BOOLEAN:
			return 4;
		case LLM_JT_INTEGER:
			if (extra)
				return extra[node].int_cost;
			return js_shortest_number(n, type, buf, sizeof(buf), &len) ? (int64_t) len : JS_INF;
		case LLM_JT_FRACTION:
			if (extra)
				return extra[node].frac_cost;
			return js_shortest_number(n, type, buf, sizeof(buf), &len) ? (int64_t) len : JS_INF;
		case LLM_JT_STRING:
			if (extra)
				return extra[node].str_cost;
			return js_string_cost(n);
		case LLM_JT_ARRAY:
			return array_cost(nodes, n);
		case LLM_JT_OBJECT:
			return object_plan(nodes, n, NULL, NULL);
		default:
			return JS_INF;
	}
}

static int64_t
typed_cost(const llm_schema_node *nodes, const js_extra *extra, int32_t node,
		   uint32_t *best_type)
{
	int64_t		best = JS_INF;

	for (uint32_t t = 1; t < LLM_JT_ANY; t <<= 1)
	{
		int64_t		c;

		if (!(nodes[node].types & t))
			continue;
		c = js_type_cost(nodes, extra, node, t);
		if (c < best)
		{
			best = c;
			if (best_type)
				*best_type = t;
		}
	}
	return best;
}

void
js_compute_min_bytes(llm_schema_node *nodes, js_extra *extra, int32_t n_nodes)
{
	bool		changed = true;

	for (int32_t i = 0; i < n_nodes; i++)
	{
		nodes[i].min_bytes = JS_INF;
		if (extra)
			extra[i].witness = -1;
	}
	for (int32_t pass = 0; changed && pass <= n_nodes + 1; pass++)
	{
		changed = false;
		for (int32_t i = n_nodes - 1; i >= 0; i--)
		{
			llm_schema_node *n = &nodes[i];
			int64_t		v = JS_INF;
			int32_t		witness = -1;

			switch (n->kind)
			{
				case LLM_SN_NEVER:
					break;
				case LLM_SN_LITERALS:
					for (int32_t k = 0; k < n->n_literals; k++)
						if ((int64_t) n->literals[k].len < v)
							v = (int64_t) n->literals[k].len;
					break;
				case LLM_SN_ANYOF:
					for (int32_t k = 0; k < n->n_children; k++)
					{
						int32_t		c = n->children[k];

						if (c >= 0 && nodes[c].min_bytes < v)
						{
							v = nodes[c].min_bytes;
							witness = k;
						}
					}
					break;
				case LLM_SN_TYPED:
					v = typed_cost(nodes, extra, i, NULL);
					break;
			}
			if (v < n->min_bytes)
			{
				n->min_bytes = v;
				if (extra)
					extra[i].witness = witness;
				changed = true;
			}
		}
	}
}

/* --------------------------------------------------------------- write */

#define WRITE_MAX_DEPTH 1000

/* kept out of write_node so the recursion's frames stay small */
static __attribute__((noinline)) llm_status
write_number(const llm_schema_node *n, uint32_t type, char **buf, size_t *len,
			 size_t *cap, llm_error *err)
{
	char		num[512];
	size_t		num_len;

	if (!js_shortest_number(n, type, num, sizeof(num), &num_len))
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "no number in the bounds");
	return js_buf_append(buf, len, cap, num, num_len);
}

static llm_status
write_node(const llm_schema *s, int32_t node, char **buf, size_t *len,
		   size_t *cap, llm_error *err, int depth)
{
	const llm_schema_node *nodes = s->nodes;
	const llm_schema_node *n;
	uint32_t	type = 0;
	llm_status	st = LLM_OK;

	if (depth > WRITE_MAX_DEPTH)
		return llm_error_set(err, LLM_ERR_LIMIT,
							 "the shortest document nests more than %d levels",
							 WRITE_MAX_DEPTH);
	/* anyOf: the first child as short as the node */
	for (int32_t hops = 0;; hops++)
	{
		if (node < 0 || node >= s->n_nodes || hops > s->n_nodes)
			return llm_error_set(err, LLM_ERR_INVALID_ARG, "bad schema node %d", node);
		n = &nodes[node];
		if (n->min_bytes == JS_INF || n->kind == LLM_SN_NEVER)
			return llm_error_set(err, LLM_ERR_INVALID_ARG,
								 "schema node %d admits no document", node);
		if (n->kind != LLM_SN_ANYOF)
			break;
		{
			int32_t		next = -1;

			for (int32_t k = 0; k < n->n_children && next < 0; k++)
				if (n->children[k] >= 0 && nodes[n->children[k]].min_bytes == n->min_bytes)
					next = n->children[k];
			node = next;
		}
	}

	if (n->kind == LLM_SN_LITERALS)
	{
		int32_t		best = 0;

		for (int32_t k = 1; k < n->n_literals; k++)
			if (n->literals[k].len < n->literals[best].len)
				best = k;
		st = js_buf_append(buf, len, cap, n->literals[best].text, n->literals[best].len);
		goto done;
	}

	typed_cost(nodes, NULL, node, &type);
	switch (type)
	{
		case LLM_JT_NULL:
			st = js_buf_append(buf, len, cap, "null", 4);
			break;
		case LLM_JT_BOOLEAN:
			st = js_buf_append(buf, len, cap, "true", 4);
			break;
		case LLM_JT_INTEGER:
		case LLM_JT_FRACTION:
			st = write_number(n, type, buf, len, cap, err);
			break;
		case LLM_JT_STRING:
			if (n->regex == NULL)
			{
				st = js_buf_append(buf, len, cap, "\"", 1);
				for (int32_t i = 0; st == LLM_OK && i < n->min_chars; i++)
					st = js_buf_append(buf, len, cap, "a", 1);
				if (st == LLM_OK)
					st = js_buf_append(buf, len, cap, "\"", 1);
			}
			else
			{
				size_t		slen;
				char	   *str = shortest_regex_string(n, &slen, &st);

				if (str == NULL)
					return llm_error_set(err, st == LLM_ERR_NOMEM ? st : LLM_ERR_INVALID_ARG,
										 "no string matches the pattern");
				st = js_print_string(str, slen, buf, len, cap);
				llm_free(str);
			}
			break;
		case LLM_JT_ARRAY:
			st = js_buf_append(buf, len, cap, "[", 1);
			for (int32_t i = 0; st == LLM_OK && i < n->min_items; i++)
			{
				if (i > 0)
					st = js_buf_append(buf, len, cap, ",", 1);
				if (st == LLM_OK)
					st = write_node(s, i < n->n_prefix ? n->prefix[i] : n->items,
									buf, len, cap, err, depth + 1);
			}
			if (st == LLM_OK)
				st = js_buf_append(buf, len, cap, "]", 1);
			break;
		case LLM_JT_OBJECT:
			{
				bool	   *chosen = llm_calloc((size_t) n->n_props + 1, sizeof(bool));
				int32_t		n_extra = 0;
				bool		first = true;

				if (chosen == NULL)
					return llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
				object_plan(nodes, n, chosen, &n_extra);
				st = js_buf_append(buf, len, cap, "{", 1);
				for (int32_t p = 0; st == LLM_OK && p < n->n_props; p++)
				{
					if (!chosen[p])
						continue;
					if (!first)
						st = js_buf_append(buf, len, cap, ",", 1);
					first = false;
					if (st == LLM_OK)
						st = js_buf_append(buf, len, cap, n->props[p].key_json,
										   n->props[p].key_json_len);
					if (st == LLM_OK)
						st = js_buf_append(buf, len, cap, ":", 1);
					if (st == LLM_OK)
						st = write_node(s, n->props[p].node, buf, len, cap, err, depth + 1);
				}
				for (int32_t j = 0; st == LLM_OK && j < n_extra; j++)
				{
					char		name[32];

					extra_key_name(n, j, name, sizeof(name));
					if (!first)
						st = js_buf_append(buf, len, cap, ",", 1);
					first = false;
					if (st == LLM_OK)
						st = js_print_string(name, strlen(name), buf, len, cap);
					if (st == LLM_OK)
						st = js_buf_append(buf, len, cap, ":", 1);
					if (st == LLM_OK)
						st = write_node(s, n->additional, buf, len, cap, err, depth + 1);
				}
				if (st == LLM_OK)
					st = js_buf_append(buf, len, cap, "}", 1);
				llm_free(chosen);
			}
			break;
		default:
			return llm_error_set(err, LLM_ERR_INVALID_ARG, "schema node %d has no type", node);
	}
done:
	/* the appends fail only for memory; nested calls have set err */
	if (st == LLM_ERR_NOMEM)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
	return st;
}

llm_status
llm_schema_write_shortest(const llm_schema *s, int32_t node, char **buf,
						  size_t *len, size_t *cap, llm_error *err)
{
	size_t		before = *len;
	llm_status	st;

	if (s == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "no schema");
	st = write_node(s, node, buf, len, cap, err, 0);
	if (st != LLM_OK)
	{
		*len = before;
		if (*buf != NULL && *cap > before)
			(*buf)[before] = '\0';
	}
	return st;
}
