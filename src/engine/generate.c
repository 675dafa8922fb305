/*
 * generate.c — prefill, then sample and decode one token at a time.
 */
#include "generate.h"

#include <math.h>
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

/* Tokens of text (no BOS/EOS, special-token text kept as text). */
static llm_status
count_tokens(const llm_vocab *vocab, const char *text, size_t len, int64_t *n,
			 llm_error *err)
{
	int32_t    *ids = NULL;
	size_t		n_ids = 0;
	llm_status	st;

	st = llm_tokenize(vocab, text, len, false, false, &ids, &n_ids, err);
	llm_free(ids);
	if (st == LLM_OK)
		*n = (int64_t) n_ids;
	return st;
}

/*
 * Does the shortest completion of the matcher's state fit in `left` tokens?
 * Its byte count bounds its token count from above (a token has at least
 * one byte) and, divided by the longest token, from below; only between the
 * two is the completion made and tokenized.  *need gets the token count
 * when it was computed (*exact), else a bound: the upper one when it fits,
 * the lower one when it does not.
 */
static llm_status
completion_fits(const llm_vocab *vocab, llm_json_matcher *m, int64_t left,
				bool *fits, int64_t *need, bool *exact, llm_error *err)
{
	int64_t		bytes = llm_json_matcher_completion_len(m);
	int64_t		longest = (int64_t) llm_vocab_max_token_len(vocab);
	char	   *text = NULL;
	size_t		len = 0;
	llm_status	st;

	if (longest < 1)
		longest = 1;
	*need = bytes;
	*exact = false;
	*fits = bytes <= left;
	if (*fits)
		return LLM_OK;
	if (bytes == INT64_MAX)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "the document cannot be completed");
	if (bytes / longest > left || bytes > ((int64_t) 1 << 24))
	{
		*need = (bytes + longest - 1) / longest;
		return LLM_OK;
	}
	st = llm_json_matcher_completion(m, &text, &len, err);
	if (st == LLM_OK)
		st = count_tokens(vocab, text, len, need, err);
	llm_free(text);
	if (st == LLM_OK)
	{
		*fits = *need <= left;
		*exact = true;
	}
	return st;
}

/*
 * Constraint: append the shortest completion of the current state to the
 * text (never fed to the model) and count its tokens.
 */
static llm_status
append_completion(const llm_vocab *vocab, llm_json_matcher *m, char **text,
				  size_t *text_len, size_t *text_cap, int32_t *n_completed,
				  llm_error *err)
{
	char	   *comp = NULL;
	size_t		comp_len = 0;
	int64_t		n = 0;
	llm_status	st;

	if (llm_json_matcher_is_complete(m))
		return LLM_OK;
	st = llm_json_matcher_completion(m, &comp, &comp_len, err);
	if (st == LLM_OK)
		st = count_tokens(vocab, comp, comp_len, &n, err);
	if (st == LLM_OK && !buf_append(text, text_len, text_cap, comp, comp_len))
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the generated text");
	if (st == LLM_OK && !llm_json_matcher_feed(m, comp, comp_len))
		st = llm_error_set(err, LLM_ERR_INVALID_ARG, "the completion of the document does not match the schema");
	llm_free(comp);
	if (st == LLM_OK)
		*n_completed = n > INT32_MAX ? INT32_MAX : (int32_t) n;
	return st;
}

/* Feed a token's bytes on a mark and say whether its completion still fits. */
static llm_status
token_fits(const llm_vocab *vocab, llm_json_matcher *m, const char *piece, size_t len,
		   int64_t left, bool *fits, llm_error *err)
{
	llm_json_mark mk = llm_json_matcher_mark(m);
	int64_t		need;
	bool		exact;
	llm_status	st = LLM_OK;
	bool		fed = true;

	for (size_t i = 0; i < len && fed; i++)
		fed = llm_json_matcher_feed_byte(m, (uint8_t) piece[i]);
	if (!fed)
	{
		*fits = false;
		st = llm_json_matcher_failed(m) ?
			llm_error_set(err, LLM_ERR_NOMEM, "out of memory matching the schema") :
			llm_error_set(err, LLM_ERR_INVALID_ARG, "a sampled token does not fit the schema");
	}
	else
		st = completion_fits(vocab, m, left, fits, &need, &exact, err);
	llm_json_matcher_rollback(m, mk);
	return st;
}

llm_status
llm_generate(llm_generator *g, const int32_t *prompt, int32_t n_prompt,
			 const llm_generate_params *p, llm_generate_result *res,
			 llm_error *err)
{
	llm_sampler *sampler = NULL;
	llm_stop   *stop = NULL;
	llm_constraint *c = p->constraint;
	llm_json_matcher *m = NULL;
	bool	   *mask = NULL;
	bool		complete_it = false;
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
	/* with a constraint the schema decides where the text ends */
	if (c != NULL)
		stop = llm_stop_create(NULL, NULL, 0, err);
	else
		stop = llm_stop_create(p->stop, p->stop_lens, p->n_stop, err);
	if (stop == NULL)
	{
		llm_sampler_free(sampler);
		return err ? err->status : LLM_ERR_INVALID_ARG;
	}
	if (c != NULL)
	{
		bool		fits;
		bool		exact;
		int64_t		need;

		m = llm_constraint_matcher(c);
		llm_constraint_reset(c);
		mask = llm_malloc((size_t) g->n_vocab * sizeof(bool));
		if (mask == NULL)
		{
			st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the token mask");
			goto done;
		}
		st = completion_fits(g->vocab, m, p->max_tokens, &fits, &need, &exact, err);
		if (st != LLM_OK)
			goto done;
		if (!fits)
		{
			llm_error_set(err, LLM_ERR_LIMIT,
						  "the shortest document the schema allows takes %s%lld tokens, but max_tokens is %d",
						  exact ? "" : "at least ",
						  (long long) need, p->max_tokens);
			llm_error_detail(err, "Raise max_tokens to at least %lld, or simplify the schema.",
							 (long long) need);
			st = LLM_ERR_LIMIT;
			goto done;
		}
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

		/*
		 * Constraint: check the sampled token first; only if the schema
		 * refuses it, mask the whole vocabulary and sample again (the same
		 * distribution as masking first: constraint.h).
		 */
		if (c != NULL && !llm_constraint_allows(c, token))
		{
			if (llm_constraint_fill_mask(c, mask) == 0)
			{
				/* cannot happen while the matcher keeps its invariant */
				complete_it = true;
				break;
			}
			st = llm_sampler_sample(sampler, g->logits, mask, &token, err);
			if (st != LLM_OK)
				goto done;
		}
		if (llm_vocab_is_eog(g->vocab, token))
		{
			res->n_generated++;
			res->finish = LLM_FINISH_EOG;
			break;
		}

		/* Control tokens the model emits mid-text are not part of the answer. */
		st = llm_token_to_piece(g->vocab, token, false, g->piece, g->piece_size,
								&piece_len, err);
		if (st != LLM_OK)
			goto done;
		if (c != NULL)
		{
			bool		fits;

			/* take the token only if the document can still close in time */
			st = token_fits(g->vocab, m, g->piece, piece_len,
							(int64_t) p->max_tokens - i - 1, &fits, err);
			if (st != LLM_OK)
				goto done;
			if (!fits)
			{
				complete_it = true;
				break;
			}
			st = llm_constraint_accept(c, token, err);
			if (st != LLM_OK)
				goto done;
		}
		res->n_generated++;
		llm_sampler_accept(sampler, token);
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
		if (c != NULL && llm_constraint_must_end(c))
		{
			/* the document is complete and nothing may follow */
			res->finish = LLM_FINISH_EOG;
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

	/*
	 * Constraint: the text must be a complete document.  When max_tokens or
	 * the context ran out first, close it along the shortest path (the
	 * budget check above guarantees it fits in the tokens left).
	 */
	if (c != NULL && (complete_it || !llm_json_matcher_is_complete(m)))
	{
		st = append_completion(g->vocab, m, &text, &text_len, &text_cap,
							   &res->n_completed, err);
		if (st != LLM_OK)
			goto done;
		if (res->finish == LLM_FINISH_EOG || res->finish == LLM_FINISH_STOP)
			res->finish = LLM_FINISH_LENGTH;
	}

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
	llm_free(mask);
	llm_stop_free(stop);
	llm_sampler_free(sampler);
	return st;
}

/*
 * log(softmax(logits)[token]) in double: the log-probability the model gives
 * token after the position whose logits these are.
 */
static double
log_prob_of(const float *logits, int32_t n_vocab, int32_t token)
{
	double		max = logits[0];
	double		sum = 0.0;
	int32_t		i;

	for (i = 1; i < n_vocab; i++)
		if (logits[i] > max)
			max = logits[i];
	for (i = 0; i < n_vocab; i++)
		sum += exp((double) logits[i] - max);
	return (double) logits[token] - max - log(sum);
}

llm_status
llm_generator_score(llm_generator *g, const int32_t *prompt, int32_t n_prompt,
					const int32_t *cont, int32_t n_cont,
					llm_interrupt_fn interrupt, void *interrupt_arg,
					double *log_prob, llm_error *err)
{
	llm_generate_params p;
	int32_t		keep;
	int32_t		n_batch_tokens;
	int32_t    *tokens = NULL;
	int32_t    *pos = NULL;
	bool	   *want = NULL;
	float	   *logits = NULL;
	llm_batch	batch;
	llm_status	st;
	int32_t		i;
	double		total = 0.0;

	*log_prob = 0.0;
	if (n_prompt <= 0 || n_cont <= 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "scoring needs a prompt and a continuation");
	if (n_cont > g->n_batch)
		return llm_error_set(err, LLM_ERR_LIMIT,
							 "a scored continuation of %d tokens is longer than a batch (%d)",
							 n_cont, g->n_batch);
	if (n_prompt + n_cont > g->n_ctx)
	{
		llm_error_set(err, LLM_ERR_LIMIT,
					  "the prompt is %d tokens but the context holds %d",
					  n_prompt + n_cont, g->n_ctx);
		return LLM_ERR_LIMIT;
	}
	for (i = 0; i < n_prompt + n_cont; i++)
		if ((i < n_prompt ? prompt[i] : cont[i - n_prompt]) < 0 ||
			(i < n_prompt ? prompt[i] : cont[i - n_prompt]) >= g->n_vocab)
			return llm_error_set(err, LLM_ERR_INVALID_ARG, "token id out of range");

	memset(&p, 0, sizeof(p));
	p.interrupt = interrupt;
	p.interrupt_arg = interrupt_arg;

	/* The prompt minus its last token goes through the cache as usual. */
	for (keep = 0; keep < g->n_cached && keep < n_prompt - 1; keep++)
		if (g->cached[keep] != prompt[keep])
			break;
	llm_kv_cache_seq_rm(llm_context_kv(g->ctx), 0, keep, -1);
	g->n_cached = keep;
	if (keep < n_prompt - 1)
	{
		st = feed_tokens(g, prompt + keep, n_prompt - 1 - keep, keep, &p, err);
		if (st != LLM_OK)
			return st;
	}

	/*
	 * One batch: the last prompt token and every continuation token but the
	 * last, each asking for logits; position i's logits score cont[i].
	 */
	n_batch_tokens = n_cont;
	tokens = llm_calloc((size_t) n_batch_tokens, sizeof(int32_t));
	pos = llm_calloc((size_t) n_batch_tokens, sizeof(int32_t));
	want = llm_calloc((size_t) n_batch_tokens, sizeof(bool));
	logits = llm_calloc((size_t) n_batch_tokens * (size_t) g->n_vocab, sizeof(float));
	if (!tokens || !pos || !want || !logits)
	{
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory scoring a continuation");
		goto done;
	}
	for (i = 0; i < n_batch_tokens; i++)
	{
		tokens[i] = i == 0 ? prompt[n_prompt - 1] : cont[i - 1];
		pos[i] = n_prompt - 1 + i;
		want[i] = true;
	}
	batch.n_tokens = n_batch_tokens;
	batch.token = tokens;
	batch.pos = pos;
	batch.seq_id = NULL;
	batch.logits = want;
	st = llm_forward(g->ctx, &batch, logits, interrupt, interrupt_arg, err);
	if (st != LLM_OK)
		goto done;
	/* The cache now holds the prompt and the continuation's prefix. */
	memcpy(g->cached + n_prompt - 1, tokens, (size_t) n_batch_tokens * sizeof(int32_t));
	g->n_cached = n_prompt - 1 + n_batch_tokens;

	for (i = 0; i < n_cont; i++)
		total += log_prob_of(logits + (size_t) i * (size_t) g->n_vocab, g->n_vocab, cont[i]);
	*log_prob = total;

done:
	llm_free(tokens);
	llm_free(pos);
	llm_free(want);
	llm_free(logits);
	return st;
}
