/*
 * llama.h — the forward pass of general.architecture = "llama" models
 * (Llama 1/2/3, TinyLlama, SmolLM/SmolLM2, Mistral-class dense models).
 *
 * Three pieces:
 *  - llm_weights: views of the model's tensors where they lie in the GGUF
 *    mapping, in their stored (quantised) blocks.  Nothing is copied to f32.
 *  - llm_context: what one user of the model owns: the KV cache and the
 *    scratch buffers of a forward pass, sized once for a maximum batch.
 *  - llm_forward: one pass over a batch of tokens, each with its own
 *    sequence and position (as llama.cpp's llama_batch), so prompt prefill,
 *    one decode step of several sequences and prefix reuse are one path.
 *
 * The computation follows llama.cpp's llama graph: token embedding; per
 * layer RMSNorm, Q/K/V projections (+ biases), RoPE, grouped-query causal
 * attention over the cache, output projection, residual, RMSNorm, SwiGLU
 * feed-forward, residual; final RMSNorm and the output projection (the token
 * embedding when the file has no output.weight).
 *
 * Both the weights and the context keep pointers to the gguf_file and the
 * llm_hparams they were made from: those must outlive them.
 */
#ifndef LLM_ENGINE_LLAMA_H
#define LLM_ENGINE_LLAMA_H

#include "common.h"
#include "gguf.h"
#include "kv_cache.h"
#include "model_info.h"

/*
 * A weight tensor seen as a matrix of n_rows rows of n_cols elements, each
 * row stored contiguously in row_bytes bytes of its ggml type (quant blocks
 * run along a row).  A vector (norm weight, bias) has n_rows = 1.  data is
 * NULL for an optional tensor the file does not have.
 */
typedef struct llm_matrix
{
	const char *name;			/* tensor name, for messages */
	uint32_t	type;			/* ggml type id (dtype.h) */
	int64_t		n_cols;			/* ne[0] */
	int64_t		n_rows;			/* ne[1] */
	size_t		row_bytes;
	const uint8_t *data;		/* into the mapping */
} llm_matrix;

typedef struct llm_layer_weights
{
	llm_matrix	attn_norm;		/* [n_embd] */
	llm_matrix	wq;				/* n_head*head_k rows of n_embd */
	llm_matrix	wk;				/* n_head_kv*head_k rows of n_embd */
	llm_matrix	wv;				/* n_head_kv*head_v rows of n_embd */
	llm_matrix	wo;				/* n_embd rows of n_head*head_v */
	llm_matrix	bq,				/* optional biases */
				bk,
				bv,
				bo;
	llm_matrix	ffn_norm;		/* [n_embd] */
	llm_matrix	ffn_gate;		/* n_ff rows of n_embd */
	llm_matrix	ffn_up;			/* n_ff rows of n_embd */
	llm_matrix	ffn_down;		/* n_embd rows of n_ff */
	llm_matrix	ffn_gate_b,		/* optional biases */
				ffn_up_b,
				ffn_down_b;
} llm_layer_weights;

typedef struct llm_weights
{
	const llm_hparams *hp;
	llm_matrix	token_embd;		/* n_vocab rows of n_embd */
	llm_matrix	output_norm;	/* [n_embd] */
	llm_matrix	output;			/* n_vocab rows of n_embd; token_embd when tied */
	bool		output_tied;
	llm_matrix	rope_freqs;		/* optional [n_rot/2] frequency divisors (Llama 3.1+) */
	uint32_t	n_layer;
	llm_layer_weights *layers;	/* [n_layer] */
} llm_weights;

/*
 * Bind the tensors of f (a llama model whose hyperparameters hp came from
 * llm_hparams_load on the same file).  Every tensor's shape is checked
 * against hp; a weight stored in a type the kernels cannot compute with is
 * LLM_ERR_UNSUPPORTED naming the tensor and the type.
 */
llm_status	llm_weights_load(const gguf_file *f, const llm_hparams *hp,
							 llm_weights **out, llm_error *err);
void		llm_weights_free(llm_weights *w);

/* ------------------------------------------------------------------------ */

typedef struct llm_context_params
{
	int32_t		n_ctx;			/* KV cells, shared by all sequences; positions are < n_ctx
								 * (0: the model's trained context length) */
	int32_t		n_batch;		/* most tokens one llm_forward call takes (0: 512) */
	int32_t		n_seq_max;		/* sequence ids are 0 .. n_seq_max-1 (0: 1) */
	llm_kv_type kv_type;		/* LLM_KV_F16 (default) or LLM_KV_F32 */
} llm_context_params;

typedef struct llm_context llm_context;

llm_context_params llm_context_default_params(void);

llm_status	llm_context_create(const llm_weights *w, const llm_context_params *params,
							   llm_context **out, llm_error *err);
void		llm_context_free(llm_context *ctx);

/* What the context was made with (after defaults were applied). */
int32_t		llm_context_n_ctx(const llm_context *ctx);
int32_t		llm_context_n_batch(const llm_context *ctx);
int32_t		llm_context_n_seq_max(const llm_context *ctx);
int32_t		llm_context_n_vocab(const llm_context *ctx);

/* The context's cache, for the llm_kv_cache_* bookkeeping calls. */
llm_kv_cache *llm_context_kv(llm_context *ctx);

/*
 * A batch: n_tokens tokens, token i at position pos[i] of sequence
 * seq_id[i].  seq_id NULL means every token is in sequence 0.  logits[i]
 * asks for the logits after token i; logits NULL means only for the last
 * token.  A (sequence, position) pair may appear only once in the batch and
 * must not already be in the cache (remove it first with
 * llm_kv_cache_seq_rm); a token sees the tokens of its sequence at positions
 * <= its own, both those in the cache and those of the batch.
 */
typedef struct llm_batch
{
	int32_t		n_tokens;
	const int32_t *token;
	const int32_t *pos;
	const int32_t *seq_id;
	const bool *logits;
} llm_batch;

/*
 * Run the model over batch, storing the keys and values of its tokens in
 * the cache.  logits_out receives n_vocab floats per token that asked for
 * logits, in batch order (it may be NULL only if no token asks).
 *
 * interrupt_fn (may be NULL) is called between layers; when it returns
 * non-zero the pass stops with LLM_ERR_CANCELLED and the cache is as
 * before the call.  Other errors: LLM_ERR_INVALID_ARG for a token outside
 * the vocabulary, a bad sequence id, a repeated position or an empty batch;
 * LLM_ERR_LIMIT for a position >= n_ctx, a batch over n_batch tokens or a
 * full cache.  Nothing is changed when an error is returned.
 */
llm_status	llm_forward(llm_context *ctx, const llm_batch *batch, float *logits_out,
						llm_interrupt_fn interrupt_fn, void *interrupt_arg,
						llm_error *err);

#endif							/* LLM_ENGINE_LLAMA_H */
