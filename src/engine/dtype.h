/*
 * dtype.h — ggml tensor types: ids as stored in GGUF, and the block layout
 * (elements per block, bytes per block) needed to size a tensor.
 *
 * The kernels that read each type live in quant.c (later issues); this file
 * only knows shapes, so the GGUF reader can validate sizes of every type it
 * meets, including ones we cannot compute with yet.
 */
#ifndef LLM_ENGINE_DTYPE_H
#define LLM_ENGINE_DTYPE_H

#include "common.h"

typedef enum llm_dtype
{
	LLM_DTYPE_F32 = 0,
	LLM_DTYPE_F16 = 1,
	LLM_DTYPE_Q4_0 = 2,
	LLM_DTYPE_Q4_1 = 3,
	LLM_DTYPE_Q5_0 = 6,
	LLM_DTYPE_Q5_1 = 7,
	LLM_DTYPE_Q8_0 = 8,
	LLM_DTYPE_Q8_1 = 9,
	LLM_DTYPE_Q2_K = 10,
	LLM_DTYPE_Q3_K = 11,
	LLM_DTYPE_Q4_K = 12,
	LLM_DTYPE_Q5_K = 13,
	LLM_DTYPE_Q6_K = 14,
	LLM_DTYPE_Q8_K = 15,
	LLM_DTYPE_IQ2_XXS = 16,
	LLM_DTYPE_IQ2_XS = 17,
	LLM_DTYPE_IQ3_XXS = 18,
	LLM_DTYPE_IQ1_S = 19,
	LLM_DTYPE_IQ4_NL = 20,
	LLM_DTYPE_IQ3_S = 21,
	LLM_DTYPE_IQ2_S = 22,
	LLM_DTYPE_IQ4_XS = 23,
	LLM_DTYPE_I8 = 24,
	LLM_DTYPE_I16 = 25,
	LLM_DTYPE_I32 = 26,
	LLM_DTYPE_I64 = 27,
	LLM_DTYPE_F64 = 28,
	LLM_DTYPE_IQ1_M = 29,
	LLM_DTYPE_BF16 = 30,
	LLM_DTYPE_TQ1_0 = 34,
	LLM_DTYPE_TQ2_0 = 35,
	LLM_DTYPE_MXFP4 = 39,
	LLM_DTYPE_MAX = 40			/* one past the largest id we know */
} llm_dtype;

typedef struct llm_dtype_info
{
	const char *name;			/* "Q4_1"; NULL for an unknown id */
	uint32_t	block_elems;	/* elements per block */
	uint32_t	block_bytes;	/* bytes per block */
} llm_dtype_info;

/* NULL when id is not a type we know the layout of. */
const llm_dtype_info *llm_dtype_get(uint32_t id);

/* Name for messages; "unknown" for unknown ids. */
const char *llm_dtype_name(uint32_t id);

/*
 * Bytes of a row of n elements of type id; false when the type is unknown,
 * n is not a multiple of the block size, or the size overflows.
 */
bool		llm_dtype_row_bytes(uint32_t id, uint64_t n, uint64_t *out);

#endif							/* LLM_ENGINE_DTYPE_H */
