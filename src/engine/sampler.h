/*
 * sampler.h — turning a vector of logits into the next token.
 *
 * Greedy (temperature 0) is argmax over the allowed tokens, ties broken by
 * the lowest token id: bit-for-bit reproducible.
 *
 * With temperature > 0 the chain is llama.cpp's default order (common/
 * sampling.cpp; the definitions of each step from src/llama-sampling.cpp):
 *
 *   repeat penalty -> top_k -> top_p -> min_p -> temperature -> softmax -> draw
 *
 * so top_k, top_p and min_p look at the (penalised) logits at temperature 1,
 * and the temperature only reshapes the distribution over the survivors.
 *
 *   repeat penalty  every token seen among the last repeat_last_n accepted
 *                   tokens has its logit divided by repeat_penalty when
 *                   positive and multiplied by it when negative or zero.
 *                   Applies in greedy mode too (as in llama.cpp).
 *   top_k           keep the k highest logits (0: off).
 *   top_p           sort by probability; keep the shortest prefix whose
 *                   cumulative probability reaches top_p (1: off).
 *   min_p           keep the tokens whose probability is at least min_p
 *                   times the top token's, i.e. logit >= max + ln(min_p)
 *                   (0: off).
 *
 * Ranking everywhere is by logit, descending, then by token id, ascending, so
 * every step is a deterministic function of its input, and top_k = 1 (or a
 * tiny top_p, or min_p = 1) picks exactly the greedy token.
 *
 * Reproducibility.  The random numbers come from xoshiro256** (Blackman and
 * Vigna, 2018) seeded by running splitmix64 from the 64-bit seed; a uniform
 * double in [0, 1) is the top 53 bits of one output times 2^-53.  A draw uses
 * exactly one number.  The probabilities use the sampler's own exp() built
 * from IEEE-754 double additions and multiplications only (no libm), summed
 * in a fixed order, so the same logits, seed and history give the same
 * token on every platform and every libm.  (Different logits — another BLAS,
 * another backend — can of course give different tokens.)
 */
#ifndef LLM_ENGINE_SAMPLER_H
#define LLM_ENGINE_SAMPLER_H

#include "common.h"

/* ---------------------------------------------------------------------------
 * The random number generator: xoshiro256** seeded through splitmix64.
 * Exposed because other deterministic choices may want the same generator.
 */
typedef struct llm_rng
{
	uint64_t	s[4];
} llm_rng;

void		llm_rng_seed(llm_rng *rng, uint64_t seed);
uint64_t	llm_rng_next(llm_rng *rng);
double		llm_rng_uniform(llm_rng *rng);	/* [0, 1), 53 random bits */

/* ---------------------------------------------------------------------------
 * The sampler.
 */

/* The longest repeat_last_n window we accept (tokens); -1 means "all". */
#define LLM_SAMPLER_MAX_LAST_N (1 << 20)

typedef struct llm_sampler_params
{
	double		temperature;	/* 0: greedy; must be finite and >= 0 */
	int32_t		top_k;			/* 0: off; >= 0 */
	double		top_p;			/* 1: off; in (0, 1] */
	double		min_p;			/* 0: off; in [0, 1] */
	double		repeat_penalty; /* 1: off; finite and > 0 */
	int32_t		repeat_last_n;	/* window of the penalty in tokens; 0: off,
								 * -1: every token accepted since the last
								 * reset; at most LLM_SAMPLER_MAX_LAST_N */
	uint64_t	seed;
} llm_sampler_params;

typedef struct llm_sampler llm_sampler;

/* Fill p with the "everything off, greedy" defaults (repeat_last_n = 64). */
void		llm_sampler_params_init(llm_sampler_params *p);

/*
 * Create a sampler for a vocabulary of n_vocab tokens.  Checks every
 * parameter; an out-of-range one gives NULL and LLM_ERR_INVALID_ARG with a
 * message that names it and its value.  NULL and LLM_ERR_NOMEM when memory
 * runs out.  All memory is allocated here, never while sampling: 24 bytes
 * per vocabulary entry when temperature > 0 (none for greedy), plus 4 with
 * a repeat penalty, plus 4 per token of the repeat_last_n window.
 */
llm_sampler *llm_sampler_create(const llm_sampler_params *p, int32_t n_vocab,
								llm_error *err);
void		llm_sampler_free(llm_sampler *s);	/* NULL is fine */

/* Forget the penalty history and restart the generator from the seed. */
void		llm_sampler_reset(llm_sampler *s);

/*
 * Record a token that was appended to the sequence (prompt tokens too, if
 * the penalty should see them).  Tokens outside [0, n_vocab) are ignored.
 */
void		llm_sampler_accept(llm_sampler *s, int32_t token);

/*
 * Choose the next token from logits[0 .. n_vocab).  allowed, if not NULL,
 * is a mask of n_vocab entries: only tokens with allowed[i] true can be
 * chosen (a constraint such as a JSON schema).  A logit of -inf also rules
 * a token out.
 *
 * Errors (LLM_ERR_INVALID_ARG, *token untouched, generator state untouched):
 * no token can be chosen (all masked out or -inf), or an allowed token has
 * a NaN or +inf logit (a broken forward pass: never silently sampled).
 */
llm_status	llm_sampler_sample(llm_sampler *s, const float *logits,
							   const bool *allowed, int32_t *token,
							   llm_error *err);

#endif							/* LLM_ENGINE_SAMPLER_H */
