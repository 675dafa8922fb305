/*
 * llm_schema_check.c — compile JSON schema files with the engine's schema
 * compiler and say, per file, whether it compiles and why not.
 *
 * A developer tool for measuring coverage (e.g. over JSONSchemaBench); not
 * part of the extension.  Build from the repository root:
 *
 *   gcc -O2 -std=gnu11 -D_GNU_SOURCE -Isrc/engine -o llm_schema_check \
 *       tools/llm_schema_check.c src/engine/[a-z]*.c -lm -lpthread -lcjson -lopenblas
 *
 * Usage:
 *   llm_schema_check [--shortest] [--summary] FILE|DIR...
 *     A directory means every regular file in it (sorted by name).
 *     --shortest   add "shortest": the shortest document (a JSON string)
 *     --random N   add "random": N documents generated at random by walking
 *                  the compiled graph the way a generator may (random types,
 *                  optional properties, extra keys, array lengths, strings
 *                  through the pattern automaton, numbers in the bounds), to
 *                  check against an independent validator
 *     --dump       print the compiled node graph (stderr)
 *     --summary    after the lines, per directory argument: compiled,
 *                  unsupported and invalid shares and the top reasons
 *                  (on stderr)
 *
 * Output: one JSON object per line,
 *   {"file": ..., "status": "ok"|"unsupported"|"invalid", "reason": msg|null,
 *    "keyword": the keyword the message names or null, "compile_ms": ...,
 *    "nodes": n}
 * LLM_ERR_LIMIT counts as "unsupported" (the reason says which limit).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "json_schema.h"
#include "regex.h"

typedef struct reason_count
{
	char	   *reason;
	int			count;
} reason_count;

typedef struct tally
{
	const char *name;
	int			total;
	int			ok;
	int			unsupported;
	int			invalid;
	reason_count *reasons;		/* "status: keyword-or-message" */
	int			n_reasons;
	int			cap_reasons;
} tally;

static bool want_shortest = false;
static bool want_dump = false;

static void
dump_schema(const llm_schema *s)
{
	for (int32_t i = 0; i < s->n_nodes; i++)
	{
		const llm_schema_node *n = &s->nodes[i];

		fprintf(stderr, "  #%d min_bytes=%lld ", i, (long long) n->min_bytes);
		switch (n->kind)
		{
			case LLM_SN_NEVER:
				fprintf(stderr, "NEVER\n");
				break;
			case LLM_SN_ANYOF:
				fprintf(stderr, "ANYOF");
				for (int32_t k = 0; k < n->n_children; k++)
					fprintf(stderr, " #%d", n->children[k]);
				fprintf(stderr, "\n");
				break;
			case LLM_SN_LITERALS:
				fprintf(stderr, "LITERALS");
				for (int32_t k = 0; k < n->n_literals && k < 8; k++)
					fprintf(stderr, " %.*s", (int) n->literals[k].len, n->literals[k].text);
				fprintf(stderr, "%s\n", n->n_literals > 8 ? " ..." : "");
				break;
			case LLM_SN_TYPED:
				fprintf(stderr, "TYPED types=0x%x", n->types);
				if (n->types & (LLM_JT_INTEGER | LLM_JT_FRACTION))
				{
					if (n->has_min)
						fprintf(stderr, " min%s%g", n->min_exclusive ? ">" : ">=", n->min);
					if (n->has_max)
						fprintf(stderr, " max%s%g", n->max_exclusive ? "<" : "<=", n->max);
				}
				if (n->types & LLM_JT_STRING)
					fprintf(stderr, " chars=[%d,%d]%s", n->min_chars, n->max_chars,
							n->regex ? " regex" : "");
				if (n->types & LLM_JT_ARRAY)
				{
					fprintf(stderr, " items=[%d,%d] prefix=", n->min_items, n->max_items);
					for (int32_t k = 0; k < n->n_prefix; k++)
						fprintf(stderr, "#%d,", n->prefix[k]);
					fprintf(stderr, " rest=#%d", n->items);
				}
				if (n->types & LLM_JT_OBJECT)
				{
					fprintf(stderr, " props=[%d,%d] {", n->min_props, n->max_props);
					for (int32_t k = 0; k < n->n_props; k++)
						fprintf(stderr, " %s%s:#%d", n->props[k].key_json,
								n->props[k].required ? "!" : "", n->props[k].node);
					fprintf(stderr, " } extra=#%d", n->additional);
				}
				fprintf(stderr, "\n");
				break;
		}
	}
}
static int	n_random = 0;
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? (uint32_t) (rng_state % n) : 0;
}

typedef struct gbuf
{
	char	   *s;
	size_t		len;
	size_t		cap;
} gbuf;

static void
gput(gbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = (b->len + n + 1) * 2;
		char	   *g = realloc(b->s, cap);

		if (g == NULL)
			abort();
		b->s = g;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
gputs(gbuf *b, const char *s)
{
	gput(b, s, strlen(s));
}

static void
gput_escaped(gbuf *b, const char *s, size_t n)
{
	gputs(b, "\"");
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char		tmp[8];

		if (c == '"' || c == '\\')
		{
			tmp[0] = '\\';
			tmp[1] = (char) c;
			gput(b, tmp, 2);
		}
		else if (c < 0x20)
		{
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			gputs(b, tmp);
		}
		else
			gput(b, (const char *) &c, 1);
	}
	gputs(b, "\"");
}

static bool
node_ok(const llm_schema *s, int32_t n)
{
	return n >= 0 && s->nodes[n].min_bytes != INT64_MAX;
}

static void
gen_shortest(const llm_schema *s, int32_t node, gbuf *b)
{
	char	   *buf = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	llm_error	e;

	if (llm_schema_write_shortest(s, node, &buf, &len, &cap, &e) == LLM_OK)
		gput(b, buf, len);
	else
		gputs(b, "<no shortest>");
	llm_free(buf);
}

static bool
num_ok(const llm_schema_node *n, double d)
{
	if (n->has_min && (d < n->min || (n->min_exclusive && d <= n->min)))
		return false;
	if (n->has_max && (d > n->max || (n->max_exclusive && d >= n->max)))
		return false;
	return true;
}

static void gen_random(const llm_schema *s, int32_t node, gbuf *b, int depth);

static void
gen_string(const llm_schema_node *n, gbuf *b)
{
	char		str[4096];
	size_t		len = 0;
	int32_t		chars = 0;
	int32_t		target = n->min_chars + (int32_t) rnd(8);

	if (target > n->max_chars)
		target = n->max_chars;
	if (n->regex == NULL)
	{
		static const char alphabet[] = "ab c\"\\d/1\xc3\xa9";

		while (chars < target && len + 4 < sizeof(str))
		{
			int			k = (int) rnd(sizeof(alphabet) - 1);

			if ((unsigned char) alphabet[k] == 0xc3 || (unsigned char) alphabet[k] == 0xa9)
			{
				str[len++] = (char) 0xc3;
				str[len++] = (char) 0xa9;
			}
			else
				str[len++] = alphabet[k];
			chars++;
		}
		gput_escaped(b, str, len);
		return;
	}
	{
		int32_t		state = llm_regex_start(n->regex);

		for (;;)
		{
			int			allowed[256];
			int			n_allowed = 0;
			bool		can_stop = llm_regex_is_accept(n->regex, state) &&
				chars >= n->min_chars && chars <= n->max_chars;

			if (can_stop && (chars >= target || rnd(4) == 0))
				break;
			if (len + 8 >= sizeof(str))
				break;
			for (int c = 0; c < 256; c++)
			{
				int32_t		next = llm_regex_next(n->regex, state, (uint8_t) c);
				bool		lead = c < 0x80 || c >= 0xC0;
				int32_t		now = chars + (lead ? 1 : 0);
				int32_t		min_more;

				if (next < 0 || now > n->max_chars)
					continue;
				min_more = n->min_chars - now > 0 ? n->min_chars - now : 0;
				if (llm_regex_can_finish(n->regex, next, min_more, n->max_chars - now))
					allowed[n_allowed++] = c;
			}
			if (n_allowed == 0)
				break;
			{
				int			c = allowed[rnd(n_allowed)];

				str[len++] = (char) c;
				state = llm_regex_next(n->regex, state, (uint8_t) c);
				if (c < 0x80 || c >= 0xC0)
					chars++;
			}
		}
		gput_escaped(b, str, len);
	}
}

static void
gen_number(const llm_schema_node *n, uint32_t type, gbuf *b)
{
	char		text[64];
	double		lo = n->has_min ? n->min : -1000;
	double		hi = n->has_max ? n->max : 1000;

	if (lo < -1e6)
		lo = -1e6;
	if (hi > 1e6)
		hi = 1e6;
	if (lo > hi)
		lo = hi;
	for (int tries = 0; tries < 20; tries++)
	{
		double		d = lo + (hi - lo) * (rnd(10001) / 10000.0);

		if (type == LLM_JT_INTEGER)
		{
			d = (rnd(2) ? ceil(d) : floor(d));
			snprintf(text, sizeof(text), "%.0f", d == 0 ? 0.0 : d);
		}
		else
		{
			snprintf(text, sizeof(text), "%.*f", 1 + (int) rnd(3), d);
			if (strtod(text, NULL) == 0 && text[0] == '-')
				memmove(text, text + 1, strlen(text));
		}
		if (num_ok(n, strtod(text, NULL)))
		{
			gputs(b, text);
			return;
		}
	}
	{
		/* fall back to the shortest number of that type */
		llm_schema_node copy = *n;

		copy.types = type;
		copy.min_bytes = 0;
		{
			llm_schema	one = {1, &copy, 0, false};

			gen_shortest(&one, 0, b);
		}
	}
}

static void
gen_random(const llm_schema *s, int32_t node, gbuf *b, int depth)
{
	const llm_schema_node *n = &s->nodes[node];
	uint32_t	types[7];
	int			n_types = 0;

	if (depth > 12)
	{
		gen_shortest(s, node, b);
		return;
	}
	switch (n->kind)
	{
		case LLM_SN_NEVER:
			gputs(b, "<never>");
			return;
		case LLM_SN_LITERALS:
			{
				const llm_schema_literal *l = &n->literals[rnd(n->n_literals)];

				gput(b, l->text, l->len);
				return;
			}
		case LLM_SN_ANYOF:
			{
				int32_t		ok[256];
				int			k = 0;

				for (int32_t c = 0; c < n->n_children && k < 256; c++)
					if (node_ok(s, n->children[c]))
						ok[k++] = n->children[c];
				if (k == 0)
				{
					gputs(b, "<anyof without child>");
					return;
				}
				gen_random(s, ok[rnd(k)], b, depth + 1);
				return;
			}
		case LLM_SN_TYPED:
			break;
	}
	for (uint32_t t = 1; t < LLM_JT_ANY; t <<= 1)
		if (n->types & t)
			types[n_types++] = t;
	if (n_types == 0)
	{
		gputs(b, "<no type>");
		return;
	}
	switch (types[rnd(n_types)])
	{
		case LLM_JT_NULL:
			gputs(b, "null");
			break;
		case LLM_JT_BOOLEAN:
			gputs(b, rnd(2) ? "true" : "false");
			break;
		case LLM_JT_INTEGER:
			gen_number(n, LLM_JT_INTEGER, b);
			break;
		case LLM_JT_FRACTION:
			gen_number(n, LLM_JT_FRACTION, b);
			break;
		case LLM_JT_STRING:
			gen_string(n, b);
			break;
		case LLM_JT_ARRAY:
			{
				int32_t		hi = n->min_items + (int32_t) rnd(4);
				int32_t		count;

				if (hi > n->max_items)
					hi = n->max_items;
				gputs(b, "[");
				for (count = 0; count < hi; count++)
				{
					int32_t		e = count < n->n_prefix ? n->prefix[count] : n->items;

					if (!node_ok(s, e))
						break;
					if (count > 0)
						gputs(b, ",");
					gen_random(s, e, b, depth + 1);
				}
				gputs(b, "]");
				break;
			}
		case LLM_JT_OBJECT:
			{
				int32_t		count = 0;
				int32_t		want_extra;
				bool	   *use = calloc(n->n_props + 1, 1);

				for (int32_t p = 0; p < n->n_props; p++)
				{
					use[p] = n->props[p].required;
					count += use[p];
				}
				for (int32_t p = 0; p < n->n_props; p++)
					if (!use[p] && count < n->max_props && rnd(2) && node_ok(s, n->props[p].node))
					{
						use[p] = true;
						count++;
					}
				for (int32_t p = 0; p < n->n_props && count < n->min_props; p++)
					if (!use[p] && node_ok(s, n->props[p].node))
					{
						use[p] = true;
						count++;
					}
				want_extra = node_ok(s, n->additional) ? (int32_t) rnd(3) : 0;
				if (count < n->min_props && node_ok(s, n->additional))
					want_extra += n->min_props - count;
				if (count + want_extra > n->max_props)
					want_extra = n->max_props - count;
				gputs(b, "{");
				count = 0;
				for (int32_t p = 0; p < n->n_props; p++)
				{
					if (!use[p])
						continue;
					if (count++ > 0)
						gputs(b, ",");
					gput(b, n->props[p].key_json, n->props[p].key_json_len);
					gputs(b, ":");
					gen_random(s, n->props[p].node, b, depth + 1);
				}
				for (int32_t j = 0, k = 0; j < want_extra && k < 100; k++)
				{
					char		name[32];
					bool		taken = false;

					snprintf(name, sizeof(name), "x%d", k);
					for (int32_t p = 0; p < n->n_props && !taken; p++)
						taken = strcmp(n->props[p].name, name) == 0;
					if (taken)
						continue;
					if (count++ > 0)
						gputs(b, ",");
					gput_escaped(b, name, strlen(name));
					gputs(b, ":");
					gen_random(s, n->additional, b, depth + 1);
					j++;
				}
				gputs(b, "}");
				free(use);
				break;
			}
	}
}

static void
print_json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	long		size;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
	{
		buf = malloc((size_t) size + 1);
		if (buf != NULL && fread(buf, 1, (size_t) size, f) != (size_t) size)
		{
			free(buf);
			buf = NULL;
		}
		if (buf != NULL)
		{
			buf[size] = '\0';
			*len = (size_t) size;
		}
	}
	fclose(f);
	return buf;
}

/* the keyword a message names: 'keyword "X" at ...' */
static bool
message_keyword(const char *msg, char *out, size_t cap)
{
	const char *p = strstr(msg, "keyword \"");
	const char *end;

	if (p == NULL)
		return false;
	p += 9;
	end = strchr(p, '"');
	if (end == NULL || (size_t) (end - p) >= cap)
		return false;
	memcpy(out, p, end - p);
	out[end - p] = '\0';
	return true;
}

static void
count_reason(tally *t, const char *reason)
{
	for (int i = 0; i < t->n_reasons; i++)
		if (strcmp(t->reasons[i].reason, reason) == 0)
		{
			t->reasons[i].count++;
			return;
		}
	if (t->n_reasons == t->cap_reasons)
	{
		int			cap = t->cap_reasons ? t->cap_reasons * 2 : 32;
		reason_count *grown = realloc(t->reasons, sizeof(reason_count) * cap);

		if (grown == NULL)
			return;
		t->reasons = grown;
		t->cap_reasons = cap;
	}
	t->reasons[t->n_reasons].reason = strdup(reason);
	t->reasons[t->n_reasons].count = 1;
	if (t->reasons[t->n_reasons].reason != NULL)
		t->n_reasons++;
}

static void
check_file(const char *path, tally *t)
{
	size_t		len = 0;
	char	   *text = read_file(path, &len);
	llm_schema *s = NULL;
	llm_error	err;
	llm_status	st;
	struct timespec t0;
	struct timespec t1;
	double		ms;
	const char *status;
	char		keyword[128];
	bool		has_kw = false;

	memset(&err, 0, sizeof(err));
	if (text == NULL)
	{
		fprintf(stderr, "llm_schema_check: cannot read %s\n", path);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = llm_schema_compile(text, len, &s, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	status = st == LLM_OK ? "ok" :
		(st == LLM_ERR_UNSUPPORTED || st == LLM_ERR_LIMIT) ? "unsupported" : "invalid";

	printf("{\"file\":");
	print_json_string(path, strlen(path));
	printf(",\"status\":\"%s\",\"reason\":", status);
	if (st == LLM_OK)
		printf("null");
	else
		print_json_string(err.msg, strlen(err.msg));
	printf(",\"keyword\":");
	if (st != LLM_OK && (has_kw = message_keyword(err.msg, keyword, sizeof(keyword))))
		print_json_string(keyword, strlen(keyword));
	else
		printf("null");
	printf(",\"compile_ms\":%.3f,\"nodes\":%d", ms, s ? s->n_nodes : 0);
	if (want_dump && s != NULL)
		dump_schema(s);
	if (want_shortest && s != NULL)
	{
		char	   *buf = NULL;
		size_t		blen = 0;
		size_t		cap = 0;
		llm_error	e2;

		printf(",\"shortest\":");
		if (llm_schema_write_shortest(s, s->root, &buf, &blen, &cap, &e2) == LLM_OK)
		{
			print_json_string(buf, blen);
			if ((int64_t) blen != s->nodes[s->root].min_bytes)
				printf(",\"shortest_mismatch\":%lld", (long long) s->nodes[s->root].min_bytes);
		}
		else
			printf("null");
		llm_free(buf);
	}
	if (n_random > 0 && s != NULL)
	{
		printf(",\"random\":[");
		for (int r = 0; r < n_random; r++)
		{
			gbuf		b = {0};

			gen_random(s, s->root, &b, 0);
			if (r > 0)
				putchar(',');
			print_json_string(b.s ? b.s : "", b.len);
			free(b.s);
		}
		printf("]");
	}
	printf("}\n");

	if (t != NULL)
	{
		char		reason[700];

		t->total++;
		if (st == LLM_OK)
			t->ok++;
		else
		{
			if (st == LLM_ERR_UNSUPPORTED || st == LLM_ERR_LIMIT)
				t->unsupported++;
			else
				t->invalid++;
			snprintf(reason, sizeof(reason), "%s: %s", status, has_kw ? keyword : err.msg);
			count_reason(t, reason);
		}
	}
	llm_schema_free(s);
	free(text);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
cmp_reason(const void *a, const void *b)
{
	const reason_count *x = a;
	const reason_count *y = b;

	return y->count - x->count;
}

static void
check_dir(const char *dir, tally *t)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	char	  **names = NULL;
	int			n = 0;
	int			cap = 0;

	if (d == NULL)
	{
		fprintf(stderr, "llm_schema_check: cannot open %s\n", dir);
		return;
	}
	while ((e = readdir(d)) != NULL)
	{
		char		path[4096];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap)
		{
			cap = cap ? cap * 2 : 256;
			names = realloc(names, sizeof(char *) * cap);
			if (names == NULL)
				break;
		}
		names[n++] = strdup(path);
	}
	closedir(d);
	if (names == NULL)
		return;
	qsort(names, n, sizeof(char *), cmp_str);
	for (int i = 0; i < n; i++)
	{
		if (names[i] != NULL)
			check_file(names[i], t);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	bool		summary = false;
	tally	   *tallies = calloc(argc > 0 ? argc : 1, sizeof(tally));
	int			n_tallies = 0;

	if (tallies == NULL)
		return 1;
	for (int i = 1; i < argc; i++)
	{
		struct stat sb;

		if (strcmp(argv[i], "--shortest") == 0)
		{
			want_shortest = true;
			continue;
		}
		if (strcmp(argv[i], "--random") == 0 && i + 1 < argc)
		{
			n_random = atoi(argv[++i]);
			continue;
		}
		if (strcmp(argv[i], "--dump") == 0)
		{
			want_dump = true;
			continue;
		}
		if (strcmp(argv[i], "--summary") == 0)
		{
			summary = true;
			continue;
		}
		if (stat(argv[i], &sb) != 0)
		{
			fprintf(stderr, "llm_schema_check: cannot stat %s\n", argv[i]);
			continue;
		}
		if (S_ISDIR(sb.st_mode))
		{
			tally	   *t = &tallies[n_tallies++];

			t->name = argv[i];
			check_dir(argv[i], t);
		}
		else
			check_file(argv[i], NULL);
	}
	if (argc < 2)
	{
		fprintf(stderr, "usage: llm_schema_check [--shortest] [--random N] [--summary] FILE|DIR...\n");
		return 2;
	}
	if (summary)
	{
		for (int i = 0; i < n_tallies; i++)
		{
			tally	   *t = &tallies[i];
			double		n = t->total ? t->total : 1;

			fprintf(stderr, "%s: %d schemas, compiled %.1f%%, unsupported %.1f%%, invalid %.1f%%\n",
					t->name, t->total, 100.0 * t->ok / n, 100.0 * t->unsupported / n,
					100.0 * t->invalid / n);
			if (t->n_reasons > 0)
				qsort(t->reasons, t->n_reasons, sizeof(reason_count), cmp_reason);
			for (int k = 0; k < t->n_reasons && k < 12; k++)
				fprintf(stderr, "    %5d  %s\n", t->reasons[k].count, t->reasons[k].reason);
			for (int k = 0; k < t->n_reasons; k++)
				free(t->reasons[k].reason);
			free(t->reasons);
		}
	}
	free(tallies);
	return 0;
}
