/*
 * dtype.c — block layouts of the ggml tensor types.
 *
 * Sizes from ggml's ggml-common.h block structs (each checked there with a
 * static_assert); see reference/engine-facts.md §2.
 */
#include "dtype.h"

static const llm_dtype_info dtype_table[LLM_DTYPE_MAX] = {
	[LLM_DTYPE_F32] = {"F32", 1, 4},
	[LLM_DTYPE_F16] = {"F16", 1, 2},
	[LLM_DTYPE_Q4_0] = {"Q4_0", 32, 18},
	[LLM_DTYPE_Q4_1] = {"Q4_1", 32, 20},
	[LLM_DTYPE_Q5_0] = {"Q5_0", 32, 22},
	[LLM_DTYPE_Q5_1] = {"Q5_1", 32, 24},
	[LLM_DTYPE_Q8_0] = {"Q8_0", 32, 34},
	[LLM_DTYPE_Q8_1] = {"Q8_1", 32, 36},
	[LLM_DTYPE_Q2_K] = {"Q2_K", 256, 84},
	[LLM_DTYPE_Q3_K] = {"Q3_K", 256, 110},
	[LLM_DTYPE_Q4_K] = {"Q4_K", 256, 144},
	[LLM_DTYPE_Q5_K] = {"Q5_K", 256, 176},
	[LLM_DTYPE_Q6_K] = {"Q6_K", 256, 210},
	[LLM_DTYPE_Q8_K] = {"Q8_K", 256, 292},
	[LLM_DTYPE_IQ2_XXS] = {"IQ2_XXS", 256, 66},
	[LLM_DTYPE_IQ2_XS] = {"IQ2_XS", 256, 74},
	[LLM_DTYPE_IQ3_XXS] = {"IQ3_XXS", 256, 98},
	[LLM_DTYPE_IQ1_S] = {"IQ1_S", 256, 50},
	[LLM_DTYPE_IQ4_NL] = {"IQ4_NL", 32, 18},
	[LLM_DTYPE_IQ3_S] = {"IQ3_S", 256, 110},
	[LLM_DTYPE_IQ2_S] = {"IQ2_S", 256, 82},
	[LLM_DTYPE_IQ4_XS] = {"IQ4_XS", 256, 136},
	[LLM_DTYPE_I8] = {"I8", 1, 1},
	[LLM_DTYPE_I16] = {"I16", 1, 2},
	[LLM_DTYPE_I32] = {"I32", 1, 4},
	[LLM_DTYPE_I64] = {"I64", 1, 8},
	[LLM_DTYPE_F64] = {"F64", 1, 8},
	[LLM_DTYPE_IQ1_M] = {"IQ1_M", 256, 56},
	[LLM_DTYPE_BF16] = {"BF16", 1, 2},
	[LLM_DTYPE_TQ1_0] = {"TQ1_0", 256, 54},
	[LLM_DTYPE_TQ2_0] = {"TQ2_0", 256, 66},
	[LLM_DTYPE_MXFP4] = {"MXFP4", 32, 17},
};

const llm_dtype_info *
llm_dtype_get(uint32_t id)
{
	if (id >= LLM_DTYPE_MAX || dtype_table[id].name == NULL)
		return NULL;
	return &dtype_table[id];
}

const char *
llm_dtype_name(uint32_t id)
{
	const llm_dtype_info *info = llm_dtype_get(id);

	return info ? info->name : "unknown";
}

bool
llm_dtype_row_bytes(uint32_t id, uint64_t n, uint64_t *out)
{
	const llm_dtype_info *info = llm_dtype_get(id);

	if (info == NULL || n % info->block_elems != 0)
		return false;
	return !__builtin_mul_overflow(n / info->block_elems,
								   (uint64_t) info->block_bytes, out);
}
