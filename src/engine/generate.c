/*
 * generate.c — prefill, then sample and decode one token at a time.
 */
#include "generate.h"

#include <string.h>
#include <time.h>

#include "stop.h"

struct llm_generator
{
	const llm_vocab *vocab;
	llm_context *ctx;
	int32_t		n_ctx;
	int32_t		n_batch;
	int32_t		n_vocab;
	float	   *logits;			/* [n_vocab]: the last position's logits */
	char	   *piece;			/* one token's bytes */
	size_t		piece_size;
	int32_t    *cached;			/* [n_ctx]: tokens of sequence 0 in the cache, by position */
	int32_t		n_cached;
	/* scratch for one batch */
	int32_t    *batch_pos;
	bool	   *batch_logits;
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

llm_status
llm_generator_create(const llm_weights *w, const llm_vocab *vocab,
					 const llm_context_params *params,
					 llm_generator **out, llm_error *err)
{
	llm_generator *g;
	llm_status	st;

	*out = NULL;
	g = llm_calloc(1, sizeof(*g));
	if (g == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory creating a generator");
	g->vocab = vocab;
	st = llm_context_create(w, params, &g->ctx, err);
	if (st != LLM_OK)
	{
		llm_free(g);
		return st;
	}
	g->n_ctx = llm_context_n_ctx(g->ctx);
	g->n_batch = llm_context_n_batch(g->ctx);
	g->n_vocab = llm_context_n_vocab(g->ctx);
	g->logits = llm_calloc((size_t) g->n_vocab, sizeof(float));
	g->cached = llm_calloc((size_t) g->n_ctx, sizeof(int32_t));
	g->batch_pos = llm_calloc((size_t) g->n_batch, sizeof(int32_t));
	g->batch_logits = llm_calloc((size_t) g->n_batch, sizeof(bool));
	g->piece_size = llm_vocab_max_token_len(vocab) + 8;
	g->piece = llm_malloc(g->piece_size);
	if (!g->logits || !g->cached || !g->batch_pos || !g->batch_logits || !g->piece)
	{
		llm_generator_free(g);
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory creating a generator");
	}
	*out = g;
	return LLM_OK;
}

void
llm_generator_free(llm_generator *g)
{
	if (g == NULL)
		return;
	llm_context_free(g->ctx);
	llm_free(g->logits);
	llm_free(g->cached);
	llm_free(g->batch_pos);
	llm_free(g->batch_logits);
	llm_free(g->piece);
	llm_free(g);
}

int32_t
llm_generator_n_ctx(const llm_generator *g)
{
	return g->n_ctx;
}

/*
 * Feed tokens[0..n) at positions start.. of sequence 0, in batches of at
 * most n_batch, keeping the logits of the last one in g->logits.  g->cached
 * tracks what the cache holds even when a batch fails half-way (a failed
 * batch leaves the cache as it was).
 */
static llm_status
feed_tokens(llm_generator *g, const int32_t *tokens, int32_t n, int32_t start,
			const llm_generate_params *p, llm_error *err)
{
	int32_t		done = 0;

	while (done < n)
	{
		int32_t		chunk = n - done < g->n_batch ? n - done : g->n_batch;
		llm_batch	batch;
		llm_status	st;
		int32_t		i;

		for (i = 0; i < chunk; i++)
		{
			g->batch_pos[i] = start + done + i;
			g->batch_logits[i] = (done + i == n - 1);
		}
		batch.n_tokens = chunk;
		batch.token = tokens + done;
		batch.pos = g->batch_pos;
		batch.seq_id = NULL;
		batch.logits = g->batch_logits;
		st = llm_forward(g->ctx, &batch,
						 done + chunk == n ? g->logits : NULL,
						 p->interrupt, p->interrupt_arg, err);
		if (st != LLM_OK)
			return st;
		memcpy(g->cached + start + done, tokens + done, (size_t) chunk * sizeof(int32_t));
		g->n_cached = start + done + chunk;
		done += chunk;
	}
	return LLM_OK;
}

/* Append bytes to a growing buffer. */
static bool
buf_append(char **buf, size_t *len, size_t *cap, const char *bytes, size_t n)
{
	if (*len + n + 1 > *cap)
	{
		size_t		new_cap = *cap ? *cap : 256;
		char	   *p;

		while (*len + n + 1 > new_cap)
		{
			if (new_cap > SIZE_MAX / 2)
				return false;
			new_cap *= 2;
		}
		p = llm_realloc(*buf, *cap, new_cap);
		if (p == NULL)
			return false;
		*buf = p;
		*cap = new_cap;
	}
	memcpy(*buf + *len, bytes, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}

llm_status
llm_generate(llm_generator *g, const int32_t *prompt, int32_t n_prompt,
			 const llm_generate_params *p, llm_generate_result *res,
			 llm_error *err)
{
	llm_sampler *sampler = NULL;
	llm_stop   *stop = NULL;
	llm_stop_result stop_res;
	char	   *text = NULL;
	size_t		text_len = 0;
	size_t		text_cap = 0;
	int32_t		keep;
	int32_t		pos;
	int32_t		i;
	double		t0;
	llm_status	st = LLM_OK;

	memset(res, 0, sizeof(*res));
	if (n_prompt <= 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "the prompt has no tokens");
	if (p->max_tokens <= 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "max_tokens must be greater than 0, got %d", p->max_tokens);
	if (n_prompt >= g->n_ctx)
	{
		llm_error_set(err, LLM_ERR_LIMIT,
					  "the prompt is %d tokens but the context holds %d",
					  n_prompt, g->n_ctx);
		llm_error_detail(err, "The prompt and the generated text must fit in llm.context_size tokens (%d); "
						 "at least one token must be left for the answer.", g->n_ctx);
		return LLM_ERR_LIMIT;
	}

	sampler = llm_sampler_create(&p->sampling, g->n_vocab, err);
	if (sampler == NULL)
		return err ? err->status : LLM_ERR_INVALID_ARG;
	stop = llm_stop_create(p->stop, p->stop_lens, p->n_stop, err);
	if (stop == NULL)
	{
		llm_sampler_free(sampler);
		return err ? err->status : LLM_ERR_INVALID_ARG;
	}

	/*
	 * Reuse the longest prefix the cache already holds, but recompute at
	 * least the last prompt token: its logits give the first new token.
	 */
	for (keep = 0; keep < g->n_cached && keep < n_prompt - 1; keep++)
		if (g->cached[keep] != prompt[keep])
			break;
	llm_kv_cache_seq_rm(llm_context_kv(g->ctx), 0, keep, -1);
	g->n_cached = keep;
	res->n_prompt = n_prompt;
	res->n_reused = keep;

	t0 = now_seconds();
	st = feed_tokens(g, prompt + keep, n_prompt - keep, keep, p, err);
	res->prefill_seconds = now_seconds() - t0;
	if (st != LLM_OK)
		goto done;
	for (i = 0; i < n_prompt; i++)
		llm_sampler_accept(sampler, prompt[i]);

	t0 = now_seconds();
	pos = n_prompt;
	res->finish = LLM_FINISH_LENGTH;
	for (i = 0; i < p->max_tokens; i++)
	{
		int32_t		token;
		size_t		piece_len;

		if (p->interrupt != NULL && p->interrupt(p->interrupt_arg))
		{
			st = llm_error_set(err, LLM_ERR_CANCELLED, "generation cancelled");
			goto done;
		}
		st = llm_sampler_sample(sampler, g->logits, NULL, &token, err);
		if (st != LLM_OK)
			goto done;
		res->n_generated++;
		if (llm_vocab_is_eog(g->vocab, token))
		{
			res->finish = LLM_FINISH_EOG;
			break;
		}
		llm_sampler_accept(sampler, token);

		/* Control tokens the model emits mid-text are not part of the answer. */
		st = llm_token_to_piece(g->vocab, token, false, g->piece, g->piece_size,
								&piece_len, err);
		if (st != LLM_OK)
			goto done;
		if (!buf_append(&text, &text_len, &text_cap, g->piece, piece_len))
		{
			st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the generated text");
			goto done;
		}
		if (llm_stop_feed(stop, g->piece, piece_len, &stop_res))
		{
			res->finish = LLM_FINISH_STOP;
			break;
		}
		if (i + 1 == p->max_tokens)
			break;
		if (pos >= g->n_ctx)
		{
			res->finish = LLM_FINISH_CONTEXT;
			break;
		}
		st = feed_tokens(g, &token, 1, pos, p, err);
		if (st != LLM_OK)
			goto done;
		pos++;
	}
	res->decode_seconds = now_seconds() - t0;

	/* Cut at the stop string, if one completed. */
	llm_stop_state(stop, &stop_res);
	if (stop_res.stopped)
		text_len = stop_res.stop_offset;
	if (text == NULL)
	{
		text = llm_malloc(1);
		if (text == NULL)
		{
			st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the generated text");
			goto done;
		}
	}
	text[text_len] = '\0';
	res->text = text;
	res->text_len = text_len;
	text = NULL;

done:
	llm_free(text);
	llm_stop_free(stop);
	llm_sampler_free(sampler);
	return st;
}
