/*
 * test_constraint.c — token masks over the default model's vocabulary and
 * constrained generation (constraint.c, the constraint part of generate.c).
 *
 * Environment:
 *   LLM_TEST_MODEL   the default model (SmolLM2-135M-Instruct Q4_1); without
 *                    it everything here is skipped with a note.
 *
 * Checks:
 *   - on ~20 states of several schemas, the mask equals a brute force that
 *     feeds every token's piece (llm_token_to_piece) to a matcher, and
 *     llm_constraint_allows agrees with the mask;
 *   - token-level random walks through masks end complete after the
 *     completion;
 *   - llm_generate with a constraint: outputs are complete documents that
 *     parse; a tiny max_tokens forces the appended completion; a schema
 *     whose shortest document does not fit max_tokens is LLM_ERR_LIMIT.
 * Prints mask timings (plain string, object key, number, and a trie walk
 * forced through a string state) and constrained vs unconstrained decode
 * speed.
 */
#include "chat_template.h"
#include "constraint.h"
#include "generate.h"
#include "gguf.h"
#include "llama.h"
#include "model_info.h"
#include "sampler.h"

#include "test_util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static llm_schema *
compile(const char *text)
{
	llm_schema *s = NULL;
	llm_error	err;

	if (llm_schema_compile(text, strlen(text), &s, &err) != LLM_OK)
	{
		printf("  note: schema skipped (%s): %.60s\n", err.msg, text);
		return NULL;
	}
	return s;
}

/* Pieces of every token, as the brute force sees them. */
typedef struct pieces
{
	int32_t		n;
	char	  **p;
	size_t	   *len;
	bool	   *eog;
	bool	   *usable;			/* normal, byte or user-defined, not eog, non-empty */
} pieces;

static void
pieces_load(const llm_vocab *v, pieces *ps)
{
	size_t		cap = llm_vocab_max_token_len(v) + 8;
	char	   *buf = malloc(cap);
	llm_error	err;

	ps->n = llm_vocab_n_tokens(v);
	ps->p = calloc((size_t) ps->n, sizeof(char *));
	ps->len = calloc((size_t) ps->n, sizeof(size_t));
	ps->eog = calloc((size_t) ps->n, sizeof(bool));
	ps->usable = calloc((size_t) ps->n, sizeof(bool));
	for (int32_t i = 0; i < ps->n; i++)
	{
		llm_token_type t = llm_vocab_token_type(v, i);
		size_t		len = 0;

		ps->eog[i] = llm_vocab_is_eog(v, i);
		if (t != LLM_TOKEN_NORMAL && t != LLM_TOKEN_BYTE && t != LLM_TOKEN_USER_DEFINED)
			continue;
		if (llm_token_to_piece(v, i, false, buf, cap, &len, &err) != LLM_OK || len == 0)
			continue;
		ps->p[i] = malloc(len);
		memcpy(ps->p[i], buf, len);
		ps->len[i] = len;
		ps->usable[i] = !ps->eog[i];
	}
	free(buf);
}

static void
pieces_free(pieces *ps)
{
	for (int32_t i = 0; i < ps->n; i++)
		free(ps->p[i]);
	free(ps->p);
	free(ps->len);
	free(ps->eog);
	free(ps->usable);
}

/* Brute force: feed every token separately; returns the count. */
static int32_t
brute_mask(llm_json_matcher *m, const pieces *ps, bool *mask)
{
	int32_t		n = 0;
	bool		complete = llm_json_matcher_is_complete(m);

	for (int32_t i = 0; i < ps->n; i++)
	{
		mask[i] = false;
		if (ps->eog[i])
			mask[i] = complete;
		else if (ps->usable[i])
		{
			llm_json_mark mk = llm_json_matcher_mark(m);
			bool		ok = true;

			for (size_t k = 0; k < ps->len[i] && ok; k++)
				ok = llm_json_matcher_feed_byte(m, (uint8_t) ps->p[i][k]);
			llm_json_matcher_rollback(m, mk);
			mask[i] = ok;
		}
		n += mask[i];
	}
	return n;
}

typedef struct state_case
{
	const char *schema;
	const char *prefixes[8];
} state_case;

static const state_case state_cases[] = {
	{"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\",\"minimum\":0,"
		"\"maximum\":150},\"email\":{\"type\":\"string\",\"maxLength\":20},\"tags\":{\"type\":\"array\",\"items\":"
		"{\"type\":\"string\"},\"maxItems\":3}},\"required\":[\"name\"]}",
	{"", "{", "{\"", "{\"name\":\"", "{\"name\":\"Bob", "{\"name\":\"Bob\",\"age\":1", "{\"name\":\"Bob\",\"tags\":[",
	"{\"name\":\"B\\"}},
	{"{\"type\":\"object\",\"properties\":{\"email\":{\"type\":\"string\",\"maxLength\":5}},\"required\":[\"email\"]}",
	{"{\"email\":\"abc", "{\"email\":\"abcde", "{\"email\":\"ab\xc3", "{\"email\":\"\""}},
	{"{\"type\":\"number\",\"minimum\":-2.5,\"maximum\":1000}",
	{"", "-", "-2.", "12", "1000"}},
	{"{\"enum\":[\"alpha\",\"beta\",\"gamma delta\",42,null]}",
	{"", "\"", "\"gamma", "4"}},
	{"{\"type\":\"array\",\"items\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"}}",
	{"[\"", "[\"abc"}},
	{"{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}",
	{"{\"", "{\"ke", "{\"a\":1,"}},
};

static void
test_masks(const llm_vocab *v, const llm_token_trie *trie, const pieces *ps)
{
	int32_t		n_vocab = llm_vocab_n_tokens(v);
	bool	   *mask = malloc((size_t) n_vocab);
	bool	   *brute = malloc((size_t) n_vocab);
	int			n_states = 0;

	for (size_t c = 0; c < sizeof(state_cases) / sizeof(state_cases[0]); c++)
	{
		llm_schema *s = compile(state_cases[c].schema);
		llm_constraint *con = NULL;
		llm_json_matcher *m;
		llm_error	err;

		if (s == NULL)
			continue;
		if (llm_constraint_create(s, trie, v, &con, &err) != LLM_OK)
		{
			CHECK(false, "constraint_create: %s", err.msg);
			llm_schema_free(s);
			continue;
		}
		m = llm_constraint_matcher(con);
		for (int i = 0; i < 8 && state_cases[c].prefixes[i] != NULL; i++)
		{
			const char *pre = state_cases[c].prefixes[i];
			int32_t		n_mask,
						n_brute,
						diff = 0,
						allow_diff = 0;

			llm_constraint_reset(con);
			if (!llm_json_matcher_feed(m, pre, strlen(pre)))
			{
				CHECK(false, "state \"%s\" refused", pre);
				continue;
			}
			n_mask = llm_constraint_fill_mask(con, mask);
			n_brute = brute_mask(m, ps, brute);
			for (int32_t t = 0; t < n_vocab; t++)
			{
				if (mask[t] != brute[t] && diff++ < 3)
					fprintf(stderr, "  state \"%s\": token %d mask %d brute %d\n", pre, t, mask[t], brute[t]);
				if (llm_constraint_allows(con, t) != mask[t])
					allow_diff++;
			}
			CHECK(diff == 0 && n_mask == n_brute, "state \"%s\": mask %d tokens, brute force %d, %d differ",
				  pre, n_mask, n_brute, diff);
			CHECK(allow_diff == 0, "state \"%s\": allows() disagrees with the mask on %d tokens",
				  pre, allow_diff);
			CHECK(n_mask > 0, "state \"%s\": some token allowed", pre);
			n_states++;
		}
		llm_constraint_free(con);
		llm_schema_free(s);
	}
	printf("  masks equal the brute force on %d states\n", n_states);
	free(mask);
	free(brute);
}

/* Median time of reps masks in the state after prefix. */
static double
time_mask(llm_constraint *con, const char *prefix, bool *mask, int reps, int32_t *n_allowed)
{
	llm_json_matcher *m = llm_constraint_matcher(con);
	double		best = 1e9;

	llm_constraint_reset(con);
	if (!llm_json_matcher_feed(m, prefix, strlen(prefix)))
		return -1;
	for (int r = 0; r < reps; r++)
	{
		double		t0 = now_s(),
					t;

		*n_allowed = llm_constraint_fill_mask(con, mask);
		t = now_s() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

static void
test_timing(const llm_vocab *v, const llm_token_trie *trie)
{
	const char *schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"},"
		"\"country\":{\"type\":\"string\"},\"amount\":{\"type\":\"number\"},\"paid\":{\"type\":\"boolean\"},"
		"\"alt\":{\"anyOf\":[{\"type\":\"string\",\"maxLength\":300},{\"type\":\"string\",\"minLength\":400,"
		"\"maxLength\":500}]},\"code\":{\"type\":\"string\",\"pattern\":\"^.*$\"}},\"required\":[\"name\"]}";
	struct
	{
		const char *label;
		const char *prefix;
	}			states[] = {
		{"plain string (shortcut)", "{\"name\":\"Ali"},
		{"object key", "{\"name\":\"A\",\""},
		{"after a value", "{\"name\":\"A\""},
		{"number", "{\"name\":\"A\",\"amount\":12"},
		{"string, two anyOf branches (trie walk)", "{\"name\":\"A\",\"alt\":\"x"},
		{"string with a pattern (trie walk)", "{\"name\":\"A\",\"code\":\"x"},
	};
	llm_schema *s = compile(schema);
	llm_constraint *con;
	llm_error	err;
	bool	   *mask = malloc((size_t) llm_vocab_n_tokens(v));

	if (s == NULL)
	{
		/* no regex yet: time the same without the pattern */
		const char *plain = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"amount\":"
			"{\"type\":\"number\"},\"alt\":{\"anyOf\":[{\"type\":\"string\",\"maxLength\":300},{\"type\":"
			"\"string\",\"minLength\":400,\"maxLength\":500}]}},\"required\":[\"name\"]}";

		s = compile(plain);
		if (s == NULL)
		{
			free(mask);
			return;
		}
	}
	if (llm_constraint_create(s, trie, v, &con, &err) != LLM_OK)
	{
		CHECK(false, "constraint_create: %s", err.msg);
		llm_schema_free(s);
		free(mask);
		return;
	}
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
	{
		int32_t		n = 0;
		double		t = time_mask(con, states[i].prefix, mask, 20, &n);

		if (t < 0)
			continue;
		printf("  mask time: %-34s %8.3f ms  (%d tokens allowed)\n", states[i].label, t * 1e3, n);
	}
	/* single-token checks */
	{
		llm_json_matcher *m = llm_constraint_matcher(con);
		double		t0;
		int			n = 200000;
		int32_t		nv = llm_vocab_n_tokens(v);

		llm_constraint_reset(con);
		llm_json_matcher_feed(m, "{\"name\":\"Ali", 12);
		t0 = now_s();
		for (int i = 0; i < n; i++)
			(void) llm_constraint_allows(con, (int32_t) ((i * 7919) % nv));
		printf("  check-first: %.3f us per llm_constraint_allows in a string\n",
			   (now_s() - t0) / n * 1e6);
	}
	llm_constraint_free(con);
	llm_schema_free(s);
	free(mask);
}

/*
 * The constraint's cost per token on the check-first path, without the
 * model: replay a document token by token doing what llm_generate does
 * (check the token, feed it on a mark for the completion budget, accept,
 * ask whether the document must end).
 */
static void
test_replay(const llm_vocab *v, const llm_token_trie *trie)
{
	const char *schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":40},"
		"\"email\":{\"type\":\"string\",\"format\":\"email\"},\"order_number\":{\"type\":\"integer\",\"minimum\":0},"
		"\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"product\":{\"type\":\"string\"},"
		"\"quantity\":{\"type\":\"integer\",\"minimum\":1}},\"required\":[\"product\",\"quantity\"]}},\"urgent\":"
		"{\"type\":\"boolean\"}},\"required\":[\"name\",\"email\",\"order_number\",\"items\",\"urgent\"]}";
	const char *doc = "{\n  \"name\": \"Jane Doe\",\n  \"email\": \"jane.doe@example.com\",\n  \"order_number\": 48213,\n"
		"  \"items\": [\n    {\n      \"product\": \"Laptop\",\n      \"quantity\": 2\n    },\n    {\n"
		"      \"product\": \"Mouse\",\n      \"quantity\": 1\n    }\n  ],\n  \"urgent\": true\n}";
	llm_schema *s = compile(schema);
	llm_constraint *con;
	llm_error	err;
	int32_t    *ids = NULL;
	size_t		n_ids = 0;
	double		t0,
				t;
	int			reps = 50;
	bool		ok = true;

	if (s == NULL || llm_constraint_create(s, trie, v, &con, &err) != LLM_OK ||
		llm_tokenize(v, doc, strlen(doc), false, false, &ids, &n_ids, &err) != LLM_OK)
	{
		llm_schema_free(s);
		return;
	}
	t0 = now_s();
	for (int r = 0; r < reps; r++)
	{
		llm_json_matcher *m = llm_constraint_matcher(con);

		llm_constraint_reset(con);
		for (size_t i = 0; i < n_ids; i++)
		{
			llm_json_mark mk;
			char		piece[256];
			size_t		plen = 0;
			bool		fed = true;

			ok &= llm_constraint_allows(con, ids[i]);
			llm_token_to_piece(v, ids[i], false, piece, sizeof(piece), &plen, &err);
			mk = llm_json_matcher_mark(m);
			for (size_t k = 0; k < plen && fed; k++)
				fed = llm_json_matcher_feed_byte(m, (uint8_t) piece[k]);
			ok &= fed && llm_json_matcher_completion_len(m) < INT64_MAX;
			llm_json_matcher_rollback(m, mk);
			ok &= llm_constraint_accept(con, ids[i], &err) == LLM_OK;
			(void) llm_constraint_must_end(con);
		}
		ok &= llm_constraint_is_complete(con);
	}
	t = (now_s() - t0) / (double) (reps * (double) n_ids);
	CHECK(ok, "replay: every token of the document is allowed and it ends complete");
	printf("  constraint cost per token on the check-first path: %.2f us (%zu tokens replayed)\n",
		   t * 1e6, n_ids);
	llm_free(ids);
	llm_constraint_free(con);
	llm_schema_free(s);
}

/* Token-level random walks: sample uniformly among the allowed tokens. */
static void
test_token_walks(const llm_vocab *v, const llm_token_trie *trie)
{
	const char *schemas[] = {
		"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\",\"minimum\":1},\"name\":{\"type\":\"string\","
		"\"maxLength\":12},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"bb\",\"c c\"]}},\"score\":{\"type\":"
		"\"number\",\"minimum\":0,\"maximum\":1}},\"required\":[\"id\",\"name\"]}",
		("{\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"string\",\"minLength\":2},{\"type\":\"null\"},"
		 "{\"type\":\"boolean\"}]},\"maxItems\":4}"),
		"{}",
	};
	int32_t		n_vocab = llm_vocab_n_tokens(v);
	bool	   *mask = malloc((size_t) n_vocab);
	int32_t    *allowed = malloc(sizeof(int32_t) * (size_t) n_vocab);
	llm_rng		rng;
	int			n_docs = 0;

	llm_rng_seed(&rng, 42);
	for (size_t k = 0; k < sizeof(schemas) / sizeof(schemas[0]); k++)
	{
		llm_schema *s = compile(schemas[k]);
		llm_constraint *con;
		llm_error	err;

		if (s == NULL || llm_constraint_create(s, trie, v, &con, &err) != LLM_OK)
		{
			llm_schema_free(s);
			continue;
		}
		for (int w = 0; w < 20; w++)
		{
			llm_json_matcher *m = llm_constraint_matcher(con);
			char	   *doc = NULL;
			size_t		len = 0;
			char	   *comp = NULL;
			size_t		comp_len = 0;
			cJSON	   *j;

			llm_constraint_reset(con);
			for (int step = 0; step < 60; step++)
			{
				int32_t		n = llm_constraint_fill_mask(con, mask),
							na = 0,
							tok;

				CHECK(n > 0, "walk: some token allowed");
				if (n == 0)
					break;
				for (int32_t t = 0; t < n_vocab; t++)
					if (mask[t])
						allowed[na++] = t;
				tok = allowed[llm_rng_next(&rng) % (uint64_t) na];
				if (llm_vocab_is_eog(v, tok))
				{
					CHECK(llm_constraint_is_complete(con), "walk: end-of-generation only when complete");
					break;
				}
				CHECK(llm_constraint_accept(con, tok, &err) == LLM_OK, "walk: accept %d: %s", tok, err.msg);
				{
					size_t		cap = llm_vocab_max_token_len(v) + 8,
								plen = 0;

					doc = realloc(doc, len + cap + 1);
					llm_token_to_piece(v, tok, false, doc + len, cap, &plen, &err);
					len += plen;
				}
				if (llm_constraint_must_end(con))
					break;
			}
			CHECK(llm_json_matcher_completion(m, &comp, &comp_len, &err) == LLM_OK, "walk: completion");
			doc = realloc(doc, len + comp_len + 1);
			memcpy(doc + len, comp, comp_len);
			doc[len + comp_len] = '\0';
			CHECK(llm_json_matcher_feed(m, comp, comp_len) && llm_json_matcher_is_complete(m),
				  "walk: completion completes %s", doc);
			j = cJSON_Parse(doc);
			CHECK(j != NULL, "walk: document parses: %s", doc);
			cJSON_Delete(j);
			if (w < 2)
				printf("    walk: %.150s\n", doc);
			llm_free(comp);
			free(doc);
			n_docs++;
		}
		llm_constraint_free(con);
		llm_schema_free(s);
	}
	printf("  %d token-level walks\n", n_docs);
	free(mask);
	free(allowed);
}

/* ---------- end to end ---------- */

typedef struct gen_env
{
	gguf_file  *f;
	llm_hparams hp;
	llm_weights *w;
	llm_vocab  *v;
	llm_token_trie *trie;
	llm_generator *g;
	char	   *tmpl;
	size_t		tmpl_len;
} gen_env;

static int32_t *
chat_prompt(gen_env *e, const char *user, size_t *n)
{
	llm_chat_message msg = {"user", user};
	char	   *text = NULL;
	size_t		len = 0;
	int32_t    *ids = NULL;
	llm_error	err;

	if (llm_chat_render(e->tmpl, e->tmpl_len, &msg, 1, true, NULL, NULL, &text, &len, &err) != LLM_OK)
		return NULL;
	if (llm_tokenize(e->v, text, len, true, true, &ids, n, &err) != LLM_OK)
		ids = NULL;
	llm_free(text);
	return ids;
}

/* Generate under schema; returns the status, the text in *out (malloc'd). */
static llm_status
generate(gen_env *e, const char *schema_text, const char *user, int32_t max_tokens,
		 double temperature, llm_generate_result *res, llm_error *err, llm_constraint_stats *stats)
{
	llm_schema *s = compile(schema_text);
	llm_constraint *con = NULL;
	llm_generate_params p;
	int32_t    *ids;
	size_t		n_ids = 0;
	llm_status	st;

	memset(res, 0, sizeof(*res));
	if (s == NULL)
		return llm_error_set(err, LLM_ERR_UNSUPPORTED, "schema did not compile");
	st = llm_constraint_create(s, e->trie, e->v, &con, err);
	if (st != LLM_OK)
	{
		llm_schema_free(s);
		return st;
	}
	ids = chat_prompt(e, user, &n_ids);
	memset(&p, 0, sizeof(p));
	p.max_tokens = max_tokens;
	llm_sampler_params_init(&p.sampling);
	p.sampling.temperature = temperature;
	p.sampling.seed = 7;
	p.constraint = con;
	st = llm_generate(e->g, ids, (int32_t) n_ids, &p, res, err);
	if (stats != NULL)
		llm_constraint_get_stats(con, stats);
	llm_free(ids);
	llm_constraint_free(con);
	llm_schema_free(s);
	return st;
}

/* The text is a complete document of the schema. */
static bool
valid_doc(const char *schema_text, const char *text, size_t len)
{
	llm_schema *s = compile(schema_text);
	llm_json_matcher *m = NULL;
	llm_error	err;
	bool		ok;
	cJSON	   *j;

	if (s == NULL || llm_json_matcher_create(s, &m, &err) != LLM_OK)
	{
		llm_schema_free(s);
		return false;
	}
	ok = llm_json_matcher_feed(m, text, len) && llm_json_matcher_is_complete(m);
	j = cJSON_ParseWithLength(text, len);
	ok = ok && j != NULL;
	cJSON_Delete(j);
	llm_json_matcher_free(m);
	llm_schema_free(s);
	return ok;
}

static void
test_generate(const char *model_path, const llm_token_trie *trie_in, llm_vocab *v)
{
	gen_env		e;
	llm_context_params cp = llm_context_default_params();
	llm_error	err = {0};
	gguf_string tmpl = {0};
	const char *schemas[] = {
		"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":40},\"email\":{\"type\":"
		"\"string\",\"maxLength\":60},\"order_number\":{\"type\":\"integer\",\"minimum\":0}},\"required\":[\"name\","
		"\"order_number\"]}",
		"{\"type\":\"object\",\"properties\":{\"sentiment\":{\"enum\":[\"positive\",\"negative\",\"neutral\"]},"
		"\"confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},\"keywords\":{\"type\":\"array\",\"items\":"
		"{\"type\":\"string\",\"maxLength\":20},\"maxItems\":5}},\"required\":[\"sentiment\",\"confidence\",\"keywords\"]}",
		"{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"item\":{\"type\":\"string\"},\"qty\":"
		"{\"type\":\"integer\",\"minimum\":1,\"maximum\":99}},\"required\":[\"item\",\"qty\"]},\"minItems\":1,"
		"\"maxItems\":3}",
	};
	const char *prompt = "Dear support team, I am Jane Doe (jane.doe@example.com). I ordered two laptops and "
		"one mouse two weeks ago and they still have not arrived. My order number is 48213. Please help! "
		"Extract the data as JSON.";
	llm_generate_result res;
	llm_constraint_stats stats;
	double		tps_con = 0,
				tps_free = 0;

	memset(&e, 0, sizeof(e));
	e.v = v;
	e.trie = (llm_token_trie *) trie_in;
	if (gguf_open(model_path, &e.f, &err) != LLM_OK ||
		llm_hparams_load(e.f, &e.hp, &err) != LLM_OK ||
		llm_weights_load(e.f, &e.hp, &e.w, &err) != LLM_OK)
	{
		CHECK(false, "load %s: %s", model_path, err.msg);
		return;
	}
	if (gguf_get_str(e.f, "tokenizer.chat_template", &tmpl, &err) == LLM_OK)
	{
		e.tmpl = (char *) tmpl.ptr;
		e.tmpl_len = tmpl.len;
	}
	cp.n_ctx = 1024;
	if (llm_generator_create(e.w, v, &cp, &e.g, &err) != LLM_OK)
	{
		CHECK(false, "generator: %s", err.msg);
		llm_weights_free(e.w);
		gguf_close(e.f);
		return;
	}

	for (size_t k = 0; k < sizeof(schemas) / sizeof(schemas[0]); k++)
	{
		for (int temp = 0; temp < 2; temp++)
		{
			llm_status	st = generate(&e, schemas[k], prompt, 160, temp ? 0.8 : 0.0, &res, &err, &stats);

			if (st == LLM_ERR_UNSUPPORTED)
				continue;
			CHECK(st == LLM_OK, "generate schema %zu: %s", k, err.msg);
			if (st != LLM_OK)
				continue;
			CHECK(valid_doc(schemas[k], res.text, res.text_len), "schema %zu: output is a complete document: %s",
				  k, res.text);
			printf("    t=%.1f: %s  [%d tokens + %d completed, finish %d, %lld checks, %lld masks, %.2f ms masks]\n",
				   temp ? 0.8 : 0.0, res.text, res.n_generated, res.n_completed, (int) res.finish,
				   (long long) stats.n_checks, (long long) stats.n_masks, stats.mask_seconds * 1e3);
			llm_free(res.text);
		}
	}

	/* max_tokens too small to finish freely: the shortest completion is appended */
	{
		llm_status	st = generate(&e, schemas[0], prompt, 14, 0.0, &res, &err, NULL);

		CHECK(st == LLM_OK, "tiny max_tokens: %s", err.msg);
		if (st == LLM_OK)
		{
			CHECK(valid_doc(schemas[0], res.text, res.text_len), "tiny max_tokens: complete: %s", res.text);
			CHECK(res.n_generated + res.n_completed <= 14, "tiny max_tokens: %d + %d tokens within 14",
				  res.n_generated, res.n_completed);
			printf("    max_tokens 14: %s [%d + %d completed]\n", res.text, res.n_generated, res.n_completed);
			llm_free(res.text);
		}
	}
	/* the shortest document does not fit */
	{
		const char *big = "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":40}";
		llm_status	st = generate(&e, big, prompt, 30, 0.0, &res, &err, NULL);

		CHECK(st == LLM_ERR_LIMIT && res.text == NULL, "shortest document over max_tokens: LLM_ERR_LIMIT (%d %s)",
			  st, err.msg);
		printf("    %s\n", err.msg);
		st = generate(&e, big, prompt, 200, 0.0, &res, &err, NULL);
		CHECK(st == LLM_OK && valid_doc(big, res.text, res.text_len), "minItems 40 in 200 tokens: %s",
			  st == LLM_OK ? res.text : err.msg);
		if (st == LLM_OK)
			llm_free(res.text);
	}
	/* speed: constrained, then unconstrained for as many tokens, same prompt, greedy */
	{
		int32_t    *ids;
		size_t		n_ids = 0;
		llm_generate_params p;
		int32_t		n_con = 0;

		if (generate(&e, schemas[2], prompt, 120, 0.0, &res, &err, &stats) == LLM_OK)
		{
			n_con = res.n_generated;
			if (res.n_generated > 1)
				tps_con = (res.n_generated - 1) / res.decode_seconds;
			llm_free(res.text);
		}
		ids = chat_prompt(&e, prompt, &n_ids);
		memset(&p, 0, sizeof(p));
		p.max_tokens = n_con > 1 ? n_con : 100;
		llm_sampler_params_init(&p.sampling);
		if (llm_generate(e.g, ids, (int32_t) n_ids, &p, &res, &err) == LLM_OK)
		{
			if (res.n_generated > 1)
				tps_free = (res.n_generated - 1) / res.decode_seconds;
			printf("  decode: constrained %.1f tokens/s (%d tokens, %lld masks, %.2f ms in masks), "
				   "unconstrained %.1f tokens/s (%d tokens)\n", tps_con, n_con, (long long) stats.n_masks,
				   stats.mask_seconds * 1e3, tps_free, res.n_generated);
			llm_free(res.text);
		}
		llm_free(ids);
	}

	llm_generator_free(e.g);
	llm_weights_free(e.w);
	gguf_close(e.f);
}

int
main(void)
{
	const char *model_path = getenv("LLM_TEST_MODEL");
	gguf_file  *f = NULL;
	llm_vocab  *v = NULL;
	llm_token_trie *trie = NULL;
	llm_error	err = {0};
	pieces		ps;
	double		t0;

	if (model_path == NULL || model_path[0] == '\0')
	{
		printf("LLM_TEST_MODEL not set: constraint tests skipped\n");
		return TEST_DONE();
	}
	if (gguf_open(model_path, &f, &err) != LLM_OK || llm_vocab_load(f, &v, &err) != LLM_OK)
	{
		CHECK(false, "load vocabulary %s: %s", model_path, err.msg);
		gguf_close(f);
		return TEST_DONE();
	}
	t0 = now_s();
	CHECK(llm_token_trie_build(v, &trie, &err) == LLM_OK, "trie: %s", err.msg);
	printf("  token trie for %d tokens built in %.1f ms\n", llm_vocab_n_tokens(v), (now_s() - t0) * 1e3);
	if (trie != NULL)
	{
		pieces_load(v, &ps);
		test_masks(v, trie, &ps);
		test_timing(v, trie);
		test_replay(v, trie);
		test_token_walks(v, trie);
		pieces_free(&ps);
		gguf_close(f);
		f = NULL;
		test_generate(model_path, trie, v);
	}
	llm_token_trie_free(trie);
	llm_vocab_free(v);
	gguf_close(f);
	return TEST_DONE();
}
