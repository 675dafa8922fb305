/*
 * llm_cli.c — run the engine from a shell: load a GGUF, tokenize a prompt,
 * prefill it, decode greedily, print the text and the speed.
 *
 * A developer tool for benchmarks and comparisons with llama.cpp; not part of
 * the extension.  Build from the repository root:
 *
 *   gcc -O2 -std=c11 -D_GNU_SOURCE -Isrc/engine -o llm_cli tools/llm_cli.c \
 *       src/engine/[a-z]*.c -lm -lpthread -lcjson -lopenblas
 *
 * Usage:
 *   llm_cli MODEL.gguf [options]
 *     -p TEXT       prompt text (default: a short support email)
 *     -t IDS        prompt as token ids, comma-separated (skips the tokenizer)
 *     -n N          tokens to decode greedily (default 32)
 *     --chat        wrap the prompt as one user message with the model's
 *                   chat template (add_generation_prompt)
 *     --special     parse special-token text in the prompt (implied by --chat)
 *     --ctx N       context size (default 2048)
 *     --batch N     largest batch per forward call (default 512)
 *     --kv f16|f32  KV cache type (default f16)
 *     --reps N      repeat prefill N times and report the median (default 1)
 *     --quiet       print only the timing lines
 *     --schema FILE decode under the JSON schema in FILE through llm_generate
 *                   (greedy unless --temp; -n is max_tokens): prints the
 *                   document, the decode speed and the constraint's cost
 *                   (tokens checked first, full masks and their time, tokens
 *                   of an appended completion), then the same prompt
 *                   decoded unconstrained for as many tokens, for comparison
 *     --temp T      sampling temperature with --schema (default 0)
 *     --seed N      sampling seed with --schema (default 0)
 *
 * Prefill speed is prompt tokens over the time of the forward calls that
 * take them; decode speed is tokens over the time of the one-token calls,
 * and "weights GB/s" is the weight bytes one decode step reads (every layer
 * matrix plus the output projection) times decode tokens/s.
 */
#include "chat_template.h"
#include "constraint.h"
#include "generate.h"
#include "gguf.h"
#include "llama.h"
#include "model_info.h"
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
compare_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

static int32_t
argmax(const float *a, int32_t n)
{
	int32_t		best = 0;

	for (int32_t i = 1; i < n; i++)
		if (a[i] > a[best])
			best = i;
	return best;
}

/* Bytes of weights one token's forward pass reads. */
static double
weight_bytes_per_token(const llm_weights *w)
{
	double		total = 0.0;

	for (uint32_t l = 0; l < w->n_layer; l++)
	{
		const llm_layer_weights *lw = &w->layers[l];
		const llm_matrix *ms[] = {&lw->wq, &lw->wk, &lw->wv, &lw->wo,
		&lw->ffn_gate, &lw->ffn_up, &lw->ffn_down};

		for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
			total += (double) ms[i]->row_bytes * (double) ms[i]->n_rows;
	}
	total += (double) w->output.row_bytes * (double) w->output.n_rows;
	return total;
}

/* Prefill tokens[0..n) in batches of n_batch; logits of the last into out. */
static llm_status
prefill(llm_context *ctx, const int32_t *tokens, int32_t n, float *out, llm_error *err)
{
	int32_t		n_batch = llm_context_n_batch(ctx);
	int32_t    *pos = malloc(sizeof(int32_t) * (size_t) n_batch);
	llm_status	st = LLM_OK;

	if (pos == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory");
	for (int32_t start = 0; start < n && st == LLM_OK; start += n_batch)
	{
		int32_t		len = n - start < n_batch ? n - start : n_batch;
		llm_batch	b = {0};

		for (int32_t i = 0; i < len; i++)
			pos[i] = start + i;
		b.n_tokens = len;
		b.token = tokens + start;
		b.pos = pos;
		b.seq_id = NULL;
		b.logits = NULL;		/* last token of the chunk */
		st = llm_forward(ctx, &b, out, NULL, NULL, err);
	}
	free(pos);
	return st;
}

static char *
read_text_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	long		n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
	{
		buf = malloc((size_t) n + 1);
		if (buf != NULL && fread(buf, 1, (size_t) n, f) == (size_t) n)
		{
			buf[n] = '\0';
			*len = (size_t) n;
		}
		else
		{
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/*
 * --schema: generate through llm_generate under the schema, then the same
 * prompt without it for as many tokens, and print both speeds and the
 * constraint's counters.
 */
static int
run_schema(const llm_weights *w, const llm_vocab *vocab, const char *schema_path,
		   const int32_t *tokens, int32_t n_tokens, int32_t n_gen, int32_t n_ctx,
		   double temperature, uint64_t seed, bool quiet)
{
	llm_error	err = {0};
	char	   *text;
	size_t		len = 0;
	llm_schema *schema = NULL;
	llm_token_trie *trie = NULL;
	llm_constraint *con = NULL;
	llm_generator *g = NULL;
	llm_context_params cp = llm_context_default_params();
	llm_generate_params gp;
	llm_generate_result res;
	llm_constraint_stats stats;
	double		t0,
				t_compile,
				t_trie,
				tps_con = 0.0;
	int32_t		n_con;

	text = read_text_file(schema_path, &len);
	if (text == NULL)
	{
		fprintf(stderr, "llm_cli: cannot read %s\n", schema_path);
		return 1;
	}
	t0 = now_s();
	if (llm_schema_compile(text, len, &schema, &err) != LLM_OK)
	{
		fprintf(stderr, "llm_cli: schema: %s\n", err.msg);
		if (err.detail[0])
			fprintf(stderr, "  %s\n", err.detail);
		free(text);
		return 1;
	}
	t_compile = now_s() - t0;
	free(text);
	t0 = now_s();
	if (llm_token_trie_build(vocab, &trie, &err) != LLM_OK)
	{
		fprintf(stderr, "llm_cli: token trie: %s\n", err.msg);
		return 1;
	}
	t_trie = now_s() - t0;
	if (llm_constraint_create(schema, trie, vocab, &con, &err) != LLM_OK)
	{
		fprintf(stderr, "llm_cli: constraint: %s\n", err.msg);
		return 1;
	}
	cp.n_ctx = n_ctx;
	if (llm_generator_create(w, vocab, &cp, &g, &err) != LLM_OK)
	{
		fprintf(stderr, "llm_cli: generator: %s\n", err.msg);
		return 1;
	}
	memset(&gp, 0, sizeof(gp));
	gp.max_tokens = n_gen;
	llm_sampler_params_init(&gp.sampling);
	gp.sampling.temperature = temperature;
	gp.sampling.seed = seed;
	gp.constraint = con;
	if (llm_generate(g, tokens, n_tokens, &gp, &res, &err) != LLM_OK)
	{
		fprintf(stderr, "llm_cli: generate: %s\n", err.msg);
		if (err.detail[0])
			fprintf(stderr, "  %s\n", err.detail);
		return 1;
	}
	llm_constraint_get_stats(con, &stats);
	if (!quiet)
		printf("%s\n", res.text);
	n_con = res.n_generated;
	if (res.n_generated > 1 && res.decode_seconds > 0)
		tps_con = (res.n_generated - 1) / res.decode_seconds;
	printf("schema: compiled in %.2f ms (%d nodes); token trie built in %.1f ms\n",
		   t_compile * 1e3, schema->n_nodes, t_trie * 1e3);
	printf("constrained: %d tokens sampled + %d completed (finish %d); decode %.2f tokens/s; "
		   "%lld checked first, %lld full masks in %.2f ms (%.3f ms per token)\n",
		   res.n_generated, res.n_completed, (int) res.finish, tps_con,
		   (long long) stats.n_checks, (long long) stats.n_masks, stats.mask_seconds * 1e3,
		   res.n_generated > 0 ? stats.mask_seconds * 1e3 / res.n_generated : 0.0);
	llm_free(res.text);

	/* the same prompt, as many tokens, no constraint (end-of-turn ignored: -1 below) */
	gp.constraint = NULL;
	gp.max_tokens = n_con > 1 ? n_con : n_gen;
	if (llm_generate(g, tokens, n_tokens, &gp, &res, &err) == LLM_OK)
	{
		if (res.n_generated > 1 && res.decode_seconds > 0)
		{
			double		tps = (res.n_generated - 1) / res.decode_seconds;

			printf("unconstrained: %d tokens; decode %.2f tokens/s; constrained/unconstrained %.3f\n",
				   res.n_generated, tps, tps_con / tps);
		}
		llm_free(res.text);
	}
	llm_generator_free(g);
	llm_constraint_free(con);
	llm_token_trie_free(trie);
	llm_schema_free(schema);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: llm_cli MODEL.gguf [-p TEXT | -t IDS] [-n N] [--chat] [--special] "
			"[--ctx N] [--batch N] [--kv f16|f32] [--reps N] [--quiet] "
			"[--schema FILE [--temp T] [--seed N]]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *model_path;
	const char *prompt = "Dear support team, I ordered a laptop two weeks ago and it still "
		"hasn't arrived. My order number is 48213. Could you please check the status?";
	const char *ids_arg = NULL;
	int32_t		n_gen = 32;
	int32_t		n_ctx = 2048;
	int32_t		n_batch = 512;
	int			reps = 1;
	bool		chat = false,
				special = false,
				quiet = false;
	const char *schema_path = NULL;
	double		temperature = 0.0;
	uint64_t	seed = 0;
	llm_kv_type kv_type = LLM_KV_F16;
	gguf_file  *f = NULL;
	llm_hparams hp;
	llm_weights *w = NULL;
	llm_vocab  *vocab = NULL;
	llm_context *ctx = NULL;
	llm_context_params cp;
	llm_error	err = {0};
	int32_t    *tokens = NULL;
	size_t		n_tokens = 0;
	float	   *logits;
	double	   *times;
	double		t0,
				t_decode = 0.0;
	int32_t		n_decoded = 0;
	char	   *text = NULL;

	if (argc < 2 || argv[1][0] == '-')
		usage();
	model_path = argv[1];
	for (int i = 2; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--chat") == 0)
			chat = special = true;
		else if (strcmp(a, "--special") == 0)
			special = true;
		else if (strcmp(a, "--quiet") == 0)
			quiet = true;
		else if (v == NULL)
			usage();
		else if (strcmp(a, "-p") == 0)
			prompt = v, i++;
		else if (strcmp(a, "-t") == 0)
			ids_arg = v, i++;
		else if (strcmp(a, "-n") == 0)
			n_gen = atoi(v), i++;
		else if (strcmp(a, "--ctx") == 0)
			n_ctx = atoi(v), i++;
		else if (strcmp(a, "--batch") == 0)
			n_batch = atoi(v), i++;
		else if (strcmp(a, "--schema") == 0)
			schema_path = v, i++;
		else if (strcmp(a, "--temp") == 0)
			temperature = atof(v), i++;
		else if (strcmp(a, "--seed") == 0)
			seed = strtoull(v, NULL, 10), i++;
		else if (strcmp(a, "--reps") == 0)
			reps = atoi(v) > 0 ? atoi(v) : 1, i++;
		else if (strcmp(a, "--kv") == 0)
		{
			kv_type = strcmp(v, "f32") == 0 ? LLM_KV_F32 : LLM_KV_F16;
			i++;
		}
		else
			usage();
	}

	t0 = now_s();
	if (gguf_open(model_path, &f, &err) != LLM_OK ||
		llm_hparams_load(f, &hp, &err) != LLM_OK ||
		llm_weights_load(f, &hp, &w, &err) != LLM_OK ||
		llm_vocab_load(f, &vocab, &err) != LLM_OK)
	{
		fprintf(stderr, "llm_cli: %s\n", err.msg);
		if (err.detail[0])
			fprintf(stderr, "  %s\n", err.detail);
		return 1;
	}
	cp = llm_context_default_params();
	cp.n_ctx = n_ctx;
	cp.n_batch = n_batch;
	cp.kv_type = kv_type;
	if (llm_context_create(w, &cp, &ctx, &err) != LLM_OK)
	{
		fprintf(stderr, "llm_cli: %s\n", err.msg);
		return 1;
	}
	if (!quiet)
		fprintf(stderr, "loaded %s in %.1f ms: %u layers, n_embd %u, vocab %u, KV cache %.1f MB\n",
				model_path, (now_s() - t0) * 1e3, hp.n_layer, hp.n_embd, hp.n_vocab,
				llm_kv_cache_bytes(llm_context_kv(ctx)) / 1e6);

	/* the prompt's tokens */
	if (ids_arg != NULL)
	{
		const char *s = ids_arg;

		tokens = llm_malloc(sizeof(int32_t) * (strlen(s) / 2 + 2));
		while (*s)
		{
			char	   *end;
			long		id = strtol(s, &end, 10);

			if (end == s)
				usage();
			tokens[n_tokens++] = (int32_t) id;
			s = *end == ',' ? end + 1 : end;
		}
	}
	else
	{
		char	   *rendered = NULL;
		size_t		rendered_len = 0;
		const char *input = prompt;
		size_t		input_len = strlen(prompt);

		if (chat)
		{
			gguf_string tmpl = {0};
			llm_chat_message msg = {"user", prompt};

			if (gguf_get_str(f, "tokenizer.chat_template", &tmpl, &err) != LLM_OK)
				tmpl.ptr = NULL, tmpl.len = 0;	/* ChatML */
			if (llm_chat_render(tmpl.ptr, tmpl.len, &msg, 1, true, NULL, NULL,
								&rendered, &rendered_len, &err) != LLM_OK)
			{
				fprintf(stderr, "llm_cli: chat template: %s\n", err.msg);
				return 1;
			}
			input = rendered;
			input_len = rendered_len;
		}
		if (llm_tokenize(vocab, input, input_len, true, special, &tokens, &n_tokens, &err) != LLM_OK)
		{
			fprintf(stderr, "llm_cli: tokenize: %s\n", err.msg);
			return 1;
		}
		llm_free(rendered);
	}
	if (n_tokens == 0)
	{
		fprintf(stderr, "llm_cli: empty prompt\n");
		return 1;
	}

	if (schema_path != NULL)
	{
		int			rc = run_schema(w, vocab, schema_path, tokens, (int32_t) n_tokens, n_gen,
									n_ctx, temperature, seed, quiet);

		llm_free(tokens);
		llm_context_free(ctx);
		llm_vocab_free(vocab);
		llm_weights_free(w);
		gguf_close(f);
		return rc;
	}

	logits = malloc(sizeof(float) * hp.n_vocab);
	times = malloc(sizeof(double) * (size_t) reps);
	for (int r = 0; r < reps; r++)
	{
		llm_kv_cache_clear(llm_context_kv(ctx));
		t0 = now_s();
		if (prefill(ctx, tokens, (int32_t) n_tokens, logits, &err) != LLM_OK)
		{
			fprintf(stderr, "llm_cli: prefill: %s\n", err.msg);
			if (err.detail[0])
				fprintf(stderr, "  %s\n", err.detail);
			return 1;
		}
		times[r] = now_s() - t0;
	}
	qsort(times, (size_t) reps, sizeof(double), compare_double);

	/* greedy decode */
	{
		int32_t    *out = malloc(sizeof(int32_t) * (size_t) (n_gen > 0 ? n_gen : 1));
		int32_t		tok = argmax(logits, (int32_t) hp.n_vocab);

		for (int32_t i = 0; i < n_gen; i++)
		{
			int32_t		pos = (int32_t) n_tokens + i;
			llm_batch	b = {1, &tok, &pos, NULL, NULL};

			out[n_decoded++] = tok;
			if (llm_vocab_is_eog(vocab, tok) || i + 1 == n_gen)
				break;
			t0 = now_s();
			if (llm_forward(ctx, &b, logits, NULL, NULL, &err) != LLM_OK)
			{
				fprintf(stderr, "llm_cli: decode: %s\n", err.msg);
				break;
			}
			t_decode += now_s() - t0;
			tok = argmax(logits, (int32_t) hp.n_vocab);
		}
		if (!quiet)
		{
			size_t		text_len;

			if (llm_detokenize(vocab, out, (size_t) n_decoded, false, &text, &text_len, &err) == LLM_OK)
				printf("%s\n", text);
			printf("ids:");
			for (int32_t i = 0; i < n_decoded; i++)
				printf(" %d", out[i]);
			printf("\n");
		}
		free(out);
	}

	printf("prompt: %zu tokens; prefill %.2f tokens/s (median of %d, %.3f s)\n",
		   n_tokens, n_tokens / times[reps / 2], reps, times[reps / 2]);
	if (n_decoded > 1 && t_decode > 0)
	{
		double		tps = (n_decoded - 1) / t_decode;

		printf("decode: %d tokens; %.2f tokens/s, weights %.2f GB/s\n",
			   n_decoded - 1, tps, tps * weight_bytes_per_token(w) / 1e9);
	}

	llm_free(text);
	llm_free(tokens);
	free(logits);
	free(times);
	llm_context_free(ctx);
	llm_vocab_free(vocab);
	llm_weights_free(w);
	gguf_close(f);
	return 0;
}
