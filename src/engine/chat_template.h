/*
 * chat_template.h — render a model's chat template for a list of messages.
 *
 * A GGUF carries its chat template as Jinja text in the metadata key
 * "tokenizer.chat_template".  This renders it byte-for-byte as
 * llama-cpp-python's Jinja2ChatFormatter does (jinja2's
 * ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the
 * loopcontrols extension, {% generation %} passed through, and
 * json.dumps-style tojson), with these variables bound:
 *
 *   messages               list of {"role": ..., "content": ...} dicts
 *                          (content None when the message's content is NULL)
 *   bos_token, eos_token   the token texts passed in
 *   add_generation_prompt  bool
 *   raise_exception(msg)   fails the render with msg as the error message
 *   strftime_now(fmt)      the current local date/time (or opts->now)
 *   tools, tool_choice, functions, function_call   None
 *
 * The interpreter (jinja.h) covers the Jinja chat templates use: output,
 * comments and whitespace control, if/elif/else, for (tuple targets, loop
 * filter, else, loop.*, break/continue), set (incl. namespace attributes
 * and block sets), macros, with, filter blocks, the jinja2 filters and
 * tests templates use, str/dict methods, slicing, "%" formatting and
 * Python's formatting of values.  What it does not implement (call blocks,
 * include/extends/import, recursive loops, sort/groupby/... filters,
 * str.format) fails with LLM_ERR_UNSUPPORTED naming the construct;
 * integers beyond 64 bits (Python's are unbounded) fail with LLM_ERR_LIMIT.
 *
 * Errors: a template jinja2 would not compile is LLM_ERR_CORRUPT (at
 * compile time); a failure while rendering -- raise_exception(), whose
 * message becomes err->msg verbatim, or a type error -- is
 * LLM_ERR_INVALID_ARG (these messages do not suit this template).
 * Rendering is bounded: output at most 1 MB, a work budget, 64 MB of
 * scratch memory, bounded nesting and recursion -- LLM_ERR_LIMIT beyond.
 *
 * A model without a chat template uses ChatML (LLM_CHAT_TEMPLATE_CHATML):
 *   <|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n
 * which differs from llama-cpp-python (whose fallback is its "llama-2"
 * format) on purpose: the engine's default model, SmolLM2, speaks ChatML.
 */
#ifndef LLM_ENGINE_CHAT_TEMPLATE_H
#define LLM_ENGINE_CHAT_TEMPLATE_H

#include <time.h>

#include "common.h"

typedef struct llm_chat_message
{
	const char *role;			/* NUL-terminated UTF-8, required */
	const char *content;		/* NUL-terminated UTF-8; NULL renders as None */
} llm_chat_message;

/* The ChatML template used when a model has none. */
extern const char LLM_CHAT_TEMPLATE_CHATML[];

/* A compiled template; immutable after compilation, so it can be cached. */
typedef struct llm_chat_template llm_chat_template;

/* Compile tmpl (tmpl_len bytes, UTF-8; NULL => ChatML). */
llm_status	llm_chat_template_compile(const char *tmpl, size_t tmpl_len,
									  llm_chat_template **out, llm_error *err);
void		llm_chat_template_free(llm_chat_template *t);

typedef struct llm_chat_render_options
{
	bool		add_generation_prompt;
	const char *bos_token;		/* NULL => "" */
	const char *eos_token;		/* NULL => "" */
	const struct tm *now;		/* strftime_now() time; NULL => local time now */
	uint64_t	max_work;		/* work budget (~bytes processed); 0 => default
								 * (50M), larger values are capped to it */
} llm_chat_render_options;

/*
 * Render.  On success *out is a NUL-terminated llm_malloc'd string the
 * caller frees with llm_free, and *out_len its length (the text may
 * contain NUL bytes if the template writes them).
 */
llm_status	llm_chat_template_render(const llm_chat_template *t,
									 const llm_chat_message *msgs, size_t n_msgs,
									 const llm_chat_render_options *opts,
									 char **out, size_t *out_len, llm_error *err);

/* Compile, render and free in one call. */
llm_status	llm_chat_render(const char *tmpl, size_t tmpl_len,
							const llm_chat_message *msgs, size_t n_msgs,
							bool add_generation_prompt,
							const char *bos_token, const char *eos_token,
							char **out, size_t *out_len, llm_error *err);

#endif							/* LLM_ENGINE_CHAT_TEMPLATE_H */
