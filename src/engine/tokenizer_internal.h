/*
 * tokenizer_internal.h — the vocabulary's layout, shared by tokenizer.c
 * (loading, special tokens, decoding), bpe.c and spm.c.  Not for callers
 * outside the tokenizer: they use tokenizer.h.
 */
#ifndef LLM_ENGINE_TOKENIZER_INTERNAL_H
#define LLM_ENGINE_TOKENIZER_INTERNAL_H

#include "tokenizer.h"
#include "pretokenize.h"
#include "strmap.h"

/* per-token strip flags (llama.cpp's LSTRIP/RSTRIP attributes) */
#define VOCAB_LSTRIP 0x01
#define VOCAB_RSTRIP 0x02

typedef struct vocab_token
{
	uint32_t	off;			/* text at llm_vocab.arena + off, NUL-terminated */
	uint32_t	len;
	float		score;			/* SPM merge priority (NaN read as -FLT_MAX) */
	uint8_t		type;			/* llm_token_type, after llama.cpp's overrides */
	uint8_t		strip;			/* VOCAB_LSTRIP | VOCAB_RSTRIP */
} vocab_token;

struct llm_vocab
{
	llm_vocab_kind kind;
	llm_pretok_info pre;
	char		pre_name[64];

	int32_t		n_tokens;
	vocab_token *tokens;
	char	   *arena;			/* all token texts, NUL-separated */
	size_t		max_token_len;
	llm_strmap	token_ids;		/* text -> id (a duplicate text maps to its last id) */

	/* BPE: merge line "left right" -> rank (first occurrence wins) */
	char	   *merge_arena;
	llm_strmap	merge_ranks;
	size_t		max_merge_len;

	int32_t		bos;			/* -1: none */
	int32_t		eos;
	int32_t		eot;
	int32_t		eom;
	int32_t		unk;
	bool		add_bos;
	bool		add_eos;
	bool		add_space_prefix;	/* SPM only */

	/* control / user-defined / unknown tokens, longest text first */
	int32_t    *special;
	size_t		n_special;

	uint8_t    *eog;			/* bitmap over ids */

	/* SPM byte fallback: the token for each byte value, -1 if none */
	int32_t		byte_token[256];
};

/* A growing list of token ids. */
typedef struct tok_out
{
	int32_t    *ids;
	size_t		n;
	size_t		cap;
} tok_out;

llm_status	tok_out_push(tok_out *o, int32_t id, llm_error *err);

/* Encode one raw-text fragment (no special tokens in it) and append ids. */
llm_status	llm_bpe_encode(const llm_vocab *v, const char *text, size_t len,
						   tok_out *out, llm_error *err);
llm_status	llm_spm_encode(const llm_vocab *v, const char *text, size_t len,
						   bool space_prefix, tok_out *out, llm_error *err);

static inline const char *
token_text(const llm_vocab *v, int32_t id)
{
	return v->arena + v->tokens[id].off;
}

static inline int32_t
vocab_lookup(const llm_vocab *v, const char *text, size_t len)
{
	return llm_strmap_get(&v->token_ids, text, len);
}

#endif							/* LLM_ENGINE_TOKENIZER_INTERNAL_H */
