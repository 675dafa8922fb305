/*
 * generation.h — what the SQL functions that generate text share
 * (generate_funcs.c): their common arguments, prompt tokenization and the
 * call into the engine's generation loop.
 */
#ifndef LLM_GENERATION_H
#define LLM_GENERATION_H

#include "postgres.h"

#include "fmgr.h"
#include "nodes/pg_list.h"

#include "model_cache.h"

/* What the generating functions take besides their messages. */
typedef struct GenerateArgs
{
	int32		max_tokens;
	double		temperature;
	double		top_p;
	int32		top_k;
	uint64		seed;
	List	   *stop;			/* of char * (UTF-8) */
	const char *model;			/* NULL: llm.default_model */
} GenerateArgs;

/*
 * Read the arguments at the given positions (a_stop may be -1: none) with
 * their defaults, and check them (22023 naming the argument).
 */
extern void llm_read_generate_args(FunctionCallInfo fcinfo, int a_max, int a_temp,
								   int a_top_p, int a_top_k, int a_seed, int a_stop,
								   int a_model, GenerateArgs *args);

/* The context size generation uses for model (llm.context_size). */
extern int32_t llm_generation_n_ctx(LlmModel *model);

/*
 * The prompt's token ids (llm_malloc'd).  msgs are rendered with the
 * model's chat template; raw_prompt != NULL: that text as it is.
 */
extern int32_t *llm_prompt_tokens(LlmModel *model, const llm_chat_message *msgs,
								  int n_msgs, const char *raw_prompt, size_t raw_len,
								  int32_t *n_tokens);

/*
 * Generate from ids (llm_free'd here, also on ERROR); the answer's UTF-8
 * bytes, palloc'd and NUL-terminated.  constraint may be NULL.
 */
extern char *llm_run_generation(LlmModel *model, int32_t *ids, int32_t n_ids,
								const GenerateArgs *args, llm_constraint *constraint,
								size_t *out_len);

#endif
