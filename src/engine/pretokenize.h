/*
 * pretokenize.h — split text into words before byte-level BPE, as llama.cpp
 * does for each tokenizer.ggml.pre value.
 *
 * llama.cpp runs a list of regexes one after the other; each regex splits
 * every piece the previous one left into matches and the gaps between them.
 * Two of its regexes (GPT-2's and Llama 3's) have hand-written matchers in
 * llama.cpp; the others go through std::regex over a "collapsed" copy of the
 * text in which each non-ASCII code point stands as one byte for its
 * category.  We implement each regex llama.cpp uses for the supported
 * pre-tokenizers as a linear-time matcher over the same representation, so
 * the splits (quirks included) come out the same.
 */
#ifndef LLM_ENGINE_PRETOKENIZE_H
#define LLM_ENGINE_PRETOKENIZE_H

#include "common.h"

typedef enum llm_pretok
{
	LLM_PRETOK_DEFAULT,			/* absent / "default" */
	LLM_PRETOK_GPT2,			/* gpt-2, mpt, olmo, jais, phi-2, ... */
	LLM_PRETOK_STARCODER,		/* starcoder, smollm, refact, command-r, ... */
	LLM_PRETOK_LLAMA3,			/* llama3 / llama-bpe / dbrx / smaug / chatglm */
	LLM_PRETOK_QWEN2,			/* qwen2, deepseek-r1-qwen, stablelm2, megrez */
	LLM_PRETOK_DEEPSEEK_CODER,
	LLM_PRETOK_DEEPSEEK_LLM,
	LLM_PRETOK_FALCON,
	LLM_PRETOK_BLOOM,			/* bloom, poro-chat, gpt3-finnish */
	LLM_PRETOK_VIKING
} llm_pretok;

/* What a tokenizer.ggml.pre name implies besides the regexes. */
typedef struct llm_pretok_info
{
	llm_pretok	type;
	bool		ignore_merges;	/* whole word in vocab: take it as is */
	bool		add_bos;		/* llama.cpp's default for add_bos */
	bool		no_bos;			/* llama.cpp clears the BOS id (chatglm) */
} llm_pretok_info;

/*
 * Map a tokenizer.ggml.pre value (len bytes, not NUL-terminated; NULL or
 * empty = absent) to its pre-tokenizer.  False when we do not support it.
 */
bool		llm_pretok_lookup(const char *name, size_t len, llm_pretok_info *info);

/*
 * Split cpts[0..n) into words.  flags[i] must be llm_unicode_flags(cpts[i]).
 * On success *word_lens (llm_malloc'd, free with llm_free; NULL when n is 0)
 * holds *n_words lengths in code points, each >= 1, summing to n.
 */
llm_status	llm_pretokenize(llm_pretok type, const uint32_t *cpts, const uint16_t *flags,
							size_t n, size_t **word_lens, size_t *n_words, llm_error *err);

#endif							/* LLM_ENGINE_PRETOKENIZE_H */
