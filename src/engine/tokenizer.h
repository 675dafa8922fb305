/*
 * tokenizer.h — the model's vocabulary and its tokenizers.
 *
 * Loaded from a GGUF's tokenizer.* metadata:
 *   tokenizer.ggml.model = "gpt2"   byte-level BPE with the pre-tokenizer
 *                                   that tokenizer.ggml.pre selects and
 *                                   merge ranks from tokenizer.ggml.merges;
 *   tokenizer.ggml.model = "llama"  SentencePiece BPE with scores, the
 *                                   space prefix and byte fallback.
 * Control and user-defined tokens are matched as text only when the caller
 * asks for special-token parsing.  Behaviour follows llama.cpp's
 * llama-vocab.cpp, which is the reference our tests compare against.
 */
#ifndef LLM_ENGINE_TOKENIZER_H
#define LLM_ENGINE_TOKENIZER_H

#include "common.h"
#include "gguf.h"

typedef struct llm_vocab llm_vocab;

typedef enum llm_vocab_kind
{
	LLM_VOCAB_BPE,				/* "gpt2" */
	LLM_VOCAB_SPM				/* "llama" */
} llm_vocab_kind;

/* token_type values as stored in tokenizer.ggml.token_type */
typedef enum llm_token_type
{
	LLM_TOKEN_UNDEFINED = 0,
	LLM_TOKEN_NORMAL = 1,
	LLM_TOKEN_UNKNOWN = 2,
	LLM_TOKEN_CONTROL = 3,
	LLM_TOKEN_USER_DEFINED = 4,
	LLM_TOKEN_UNUSED = 5,
	LLM_TOKEN_BYTE = 6
} llm_token_type;

/* Build the vocabulary from f.  The result does not point into f, so f may
 * be closed first — but it normally lives as long as the model. */
llm_status	llm_vocab_load(const gguf_file *f, llm_vocab **out, llm_error *err);
void		llm_vocab_free(llm_vocab *v);

int32_t		llm_vocab_n_tokens(const llm_vocab *v);
llm_vocab_kind llm_vocab_get_kind(const llm_vocab *v);
const char *llm_vocab_pre_name(const llm_vocab *v);	/* "smollm", "default", ... */
int32_t		llm_vocab_bos(const llm_vocab *v);	/* -1 when none */
int32_t		llm_vocab_eos(const llm_vocab *v);
int32_t		llm_vocab_eot(const llm_vocab *v);
bool		llm_vocab_add_bos(const llm_vocab *v);
bool		llm_vocab_add_eos(const llm_vocab *v);
llm_token_type llm_vocab_token_type(const llm_vocab *v, int32_t id);
/* The token's stored text (e.g. "Ġthe", "▁the", "<0x0A>"); NULL when out of range. */
const char *llm_vocab_token_text(const llm_vocab *v, int32_t id, size_t *len);
/* Is id an end-of-generation token (eos, eot, and the like)? */
bool		llm_vocab_is_eog(const llm_vocab *v, int32_t id);

/* Added (backward compatible): */
int32_t		llm_vocab_unk(const llm_vocab *v);	/* -1 when none */
/* Longest token text in bytes: no piece (llm_token_to_piece) is longer. */
size_t		llm_vocab_max_token_len(const llm_vocab *v);
/* The id whose stored text is exactly text[0..len), or -1. */
int32_t		llm_vocab_find_token(const llm_vocab *v, const char *text, size_t len);

/*
 * Encode text (len bytes, any bytes; invalid UTF-8 is handled as llama.cpp
 * does) into token ids.
 *   add_special:   add BOS/EOS as the model's metadata says;
 *   parse_special: text of control tokens becomes those tokens (the text of
 *                  user-defined tokens always does, as in llama.cpp).
 * *ids is allocated with llm_malloc (free with llm_free); *n_ids may be 0
 * (then *ids may be NULL).  Texts over INT32_MAX bytes are LLM_ERR_LIMIT.
 * Byte-level BPE turns each invalid UTF-8 byte into U+FFFD first (so such
 * text does not decode back to the same bytes); SentencePiece keeps bytes,
 * except that a space inside a truncated multi-byte sequence comes back as
 * U+2581's bytes (llama.cpp does the same).
 */
llm_status	llm_tokenize(const llm_vocab *v, const char *text, size_t len,
						 bool add_special, bool parse_special,
						 int32_t **ids, size_t *n_ids, llm_error *err);

/*
 * Decode ids back to bytes: the exact inverse of llm_tokenize wherever the
 * tokenizer allows it.  render_special: control tokens appear as their text
 * (otherwise they are dropped).  Any id outside [0, n_tokens) is
 * LLM_ERR_INVALID_ARG naming the id.  *out is NUL-terminated, allocated with
 * llm_malloc; *out_len excludes the NUL.  The bytes are raw: a sequence cut
 * inside a character is not valid UTF-8.
 * Unlike llama.cpp's llama_detokenize this never applies the "clean up
 * tokenization spaces" rules (" ." -> "."), which would break the inverse;
 * and for SentencePiece it removes the space the tokenizer prefixed both at
 * the start and after each special token (llama.cpp: only at the start).
 */
llm_status	llm_detokenize(const llm_vocab *v, const int32_t *ids, size_t n_ids,
						   bool render_special, char **out, size_t *out_len,
						   llm_error *err);

/*
 * The bytes one token decodes to (for streaming generation / stop strings),
 * with no space stripped.  *out_len is set to the piece's length; if that
 * exceeds buf_size nothing is copied and the result is LLM_ERR_LIMIT (a
 * buffer of llm_vocab_max_token_len bytes is always enough).
 */
llm_status	llm_token_to_piece(const llm_vocab *v, int32_t id, bool render_special,
							   char *buf, size_t buf_size, size_t *out_len,
							   llm_error *err);

#endif							/* LLM_ENGINE_TOKENIZER_H */
