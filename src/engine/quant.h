/*
 * quant.h — reading weights in their stored (quantised) blocks.
 *
 * Weights stay in the GGUF mapping in their stored format; nothing makes an
 * f32 copy of the model.  A matrix row of n elements of type t is read by
 * dequantising it (llm_dequantize_row) or by a dot product against an f32
 * vector (llm_vec_dot).  These scalar versions are the reference every
 * faster kernel is tested against.
 */
#ifndef LLM_ENGINE_QUANT_H
#define LLM_ENGINE_QUANT_H

#include "common.h"
#include "dtype.h"

/* Can the forward pass compute with weights of this type? */
bool		llm_quant_supported(uint32_t type);

/* dst[0..n) = row (n must be a multiple of the type's block size). */
void		llm_dequantize_row(uint32_t type, const void *row, float *dst, int64_t n);

/* sum_i row[i] * x[i] */
float		llm_vec_dot(uint32_t type, const void *row, const float *x, int64_t n);

/* Half-precision conversions (IEEE binary16 and bfloat16). */
float		llm_fp16_to_fp32(uint16_t h);
uint16_t	llm_fp32_to_fp16(float f);
float		llm_bf16_to_fp32(uint16_t h);

#endif							/* LLM_ENGINE_QUANT_H */
