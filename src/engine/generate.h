/*
 * generate.h — the generation loop: prefill a prompt, then decode token by
 * token, sampling each next token, until an end-of-generation token, a stop
 * string, max_tokens or the end of the context.
 *
 * A generator owns one context (KV cache and scratch) of a loaded model and
 * remembers the tokens its cache holds, so a prompt that starts like the
 * previous one (the same system turn, the same instruction for every row of
 * a table) only computes the part that differs.
 */
#ifndef LLM_ENGINE_GENERATE_H
#define LLM_ENGINE_GENERATE_H

#include "common.h"
#include "constraint.h"
#include "llama.h"
#include "sampler.h"
#include "tokenizer.h"

typedef struct llm_generator llm_generator;

llm_status	llm_generator_create(const llm_weights *w, const llm_vocab *vocab,
								 const llm_context_params *params,
								 llm_generator **out, llm_error *err);
void		llm_generator_free(llm_generator *g);	/* NULL is fine */
int32_t		llm_generator_n_ctx(const llm_generator *g);

/* Why generation ended. */
typedef enum llm_finish_reason
{
	LLM_FINISH_EOG,				/* the model ended its turn (with a constraint:
								 * or the document is complete and nothing
								 * may follow) */
	LLM_FINISH_STOP,			/* a stop string appeared */
	LLM_FINISH_LENGTH,			/* max_tokens were generated */
	LLM_FINISH_CONTEXT			/* the context is full */
} llm_finish_reason;

typedef struct llm_generate_params
{
	int32_t		max_tokens;		/* > 0 */
	llm_sampler_params sampling;
	const char *const *stop;	/* stop strings (bytes), excluded from the output */
	const size_t *stop_lens;	/* NULL: NUL-terminated */
	int32_t		n_stop;
	llm_interrupt_fn interrupt; /* polled between tokens and layers; may be NULL */
	void	   *interrupt_arg;

	/*
	 * A schema constraint (constraint.h), or NULL.  With one, every token
	 * keeps the text a prefix of a valid document, end-of-generation is
	 * allowed only once the document is complete, and generation ends as
	 * soon as nothing may follow.  max_tokens then bounds the whole
	 * document: when the tokens left are just enough for the shortest
	 * completion, sampling stops and that completion is appended (its
	 * tokens counted), so the result always validates; LLM_ERR_LIMIT if
	 * even the shortest document needs more than max_tokens tokens.
	 * Stop strings are not used with a constraint.  The finish reason is
	 * LLM_FINISH_LENGTH (or _CONTEXT) when a completion was appended.
	 * llm_generate resets the constraint first.
	 */
	llm_constraint *constraint;
} llm_generate_params;

typedef struct llm_generate_result
{
	char	   *text;			/* llm_malloc'd, NUL-terminated; raw bytes */
	size_t		text_len;
	int32_t		n_prompt;		/* prompt tokens */
	int32_t		n_reused;		/* of which were already in the cache */
	int32_t		n_generated;	/* tokens sampled (the end-of-turn one included) */
	double		prefill_seconds;
	double		decode_seconds;
	llm_finish_reason finish;
	int32_t		n_completed;	/* constraint: tokens of the appended completion */
} llm_generate_result;

/*
 * Generate from prompt (token ids).  Errors: LLM_ERR_INVALID_ARG for an
 * empty prompt, bad sampling parameters or stop strings; LLM_ERR_LIMIT when
 * the prompt does not fit the context (the message gives both counts);
 * LLM_ERR_CANCELLED when interrupt returned non-zero.  On error res->text
 * is NULL and nothing needs freeing.
 */
llm_status	llm_generate(llm_generator *g, const int32_t *prompt, int32_t n_prompt,
						 const llm_generate_params *p, llm_generate_result *res,
						 llm_error *err);

/*
 * The log-probability (natural log, summed over tokens) the model gives the
 * continuation cont after prompt: log P(cont | prompt).  Reuses and updates
 * the cache like llm_generate (the prompt's shared prefix is not
 * recomputed), so scoring several continuations of one prompt costs about
 * one pass over each continuation.  n_cont must fit one batch.
 * LLM_ERR_LIMIT when prompt + continuation exceed the context;
 * LLM_ERR_CANCELLED when interrupt returned non-zero.
 */
llm_status	llm_generator_score(llm_generator *g, const int32_t *prompt, int32_t n_prompt,
								const int32_t *cont, int32_t n_cont,
								llm_interrupt_fn interrupt, void *interrupt_arg,
								double *log_prob, llm_error *err);

#endif							/* LLM_ENGINE_GENERATE_H */
