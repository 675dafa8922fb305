/*
 * model_info.h — what a GGUF file says about its model, read from the
 * metadata without loading weights or vocabulary.
 *
 * Two levels:
 *  - llm_model_info: a cheap summary of any GGUF (any architecture) for the
 *    llm_models view: architecture, name, size, quantization, context.
 *  - llm_hparams: the hyperparameters of a model we can run (llama), fully
 *    validated, plus a check that the tensors the forward pass needs exist
 *    with the shapes those hyperparameters imply.  After a successful
 *    llm_hparams_load every size is in range and mutually consistent, so the
 *    model loader can allocate from them without further checks.
 */
#ifndef LLM_ENGINE_MODEL_INFO_H
#define LLM_ENGINE_MODEL_INFO_H

#include "common.h"
#include "gguf.h"

#define LLM_ARCH_NAME_MAX 64	/* buffer sizes, including the NUL */
#define LLM_MODEL_NAME_MAX 256
#define LLM_QUANT_NAME_MAX 32
#define LLM_TOKENIZER_NAME_MAX 32

/* Caps on sizes a file may claim; anything larger is treated as corrupt. */
#define LLM_HPARAMS_MAX_DIM (1u << 20)	/* embedding, ffn, vocab, heads */
#define LLM_HPARAMS_MAX_CTX (1u << 24)	/* trained context length */
#define LLM_HPARAMS_MAX_LAYERS 1024

typedef enum llm_rope_scaling
{
	LLM_ROPE_SCALING_NONE = 0,
	LLM_ROPE_SCALING_LINEAR,
	LLM_ROPE_SCALING_YARN,
	LLM_ROPE_SCALING_LONGROPE
} llm_rope_scaling;

typedef struct llm_hparams
{
	char		arch[LLM_ARCH_NAME_MAX];	/* "llama" */
	uint32_t	n_ctx_train;	/* <arch>.context_length */
	uint32_t	n_embd;			/* <arch>.embedding_length */
	uint32_t	n_layer;		/* <arch>.block_count */
	uint32_t	n_ff;			/* <arch>.feed_forward_length */
	uint32_t	n_head;			/* <arch>.attention.head_count */
	uint32_t	n_head_kv;		/* <arch>.attention.head_count_kv (default n_head) */
	uint32_t	n_embd_head_k;	/* <arch>.attention.key_length (default n_embd/n_head) */
	uint32_t	n_embd_head_v;	/* <arch>.attention.value_length (default n_embd/n_head) */
	uint32_t	n_rot;			/* <arch>.rope.dimension_count (default n_embd_head_k) */
	uint32_t	n_vocab;		/* <arch>.vocab_size, else tokens, else token_embd */
	float		norm_rms_eps;	/* <arch>.attention.layer_norm_rms_epsilon */
	float		rope_freq_base; /* <arch>.rope.freq_base (default 10000) */
	llm_rope_scaling rope_scaling;	/* <arch>.rope.scaling.type (default none) */
	float		rope_scaling_factor;	/* <arch>.rope.scaling.factor (default 1) */
	uint32_t	rope_scaling_orig_ctx;	/* ...original_context_length (default n_ctx_train) */

	bool		has_tensors;	/* false for a vocab-only file */
	bool		tied_output;	/* no output.weight: the output reuses token_embd */
} llm_hparams;

typedef struct llm_model_info
{
	char		architecture[LLM_ARCH_NAME_MAX];	/* general.architecture */
	char		name[LLM_MODEL_NAME_MAX];	/* general.name, "" if absent */
	char		quantization[LLM_QUANT_NAME_MAX];	/* "Q4_1", "Q4_K_M"; "" if unknown */
	char		tokenizer_model[LLM_TOKENIZER_NAME_MAX];	/* tokenizer.ggml.model, "" if absent */
	int64_t		file_type;		/* general.file_type, -1 if absent */
	uint64_t	n_params;		/* sum of tensor element counts */
	uint64_t	n_tensors;
	uint64_t	context_length; /* <arch>.context_length, 0 if absent */
	uint64_t	vocab_size;		/* 0 if unknown */
	uint64_t	n_layer;		/* <arch>.block_count, 0 if absent */
	uint64_t	n_embd;			/* <arch>.embedding_length, 0 if absent */
	bool		has_chat_template;	/* tokenizer.chat_template is a string */
} llm_model_info;

/*
 * Summary of any GGUF.  Fails (CORRUPT) only when general.architecture is
 * missing or not a string; other odd values are reported as unknown.  Copied
 * strings are cut to their buffers at a UTF-8 boundary, with control
 * characters and invalid UTF-8 replaced by '?', so they are safe to show.
 */
llm_status	llm_model_info_load(const gguf_file *f, llm_model_info *info, llm_error *err);

/*
 * Hyperparameters of a model we can run.  LLM_ERR_UNSUPPORTED for an
 * architecture other than llama; LLM_ERR_CORRUPT (naming the key or tensor)
 * for missing or inconsistent values or tensors.
 */
llm_status	llm_hparams_load(const gguf_file *f, llm_hparams *hp, llm_error *err);

/* Name of a llama.cpp LLAMA_FTYPE id ("Q4_K_M"); NULL if unknown. */
const char *llm_ftype_name(int64_t file_type);

#endif							/* LLM_ENGINE_MODEL_INFO_H */
