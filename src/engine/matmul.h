/*
 * matmul.h — a weight matrix times a batch of activation vectors.
 *
 * y[t][r] = dot(row r of w, x[t]) for every row r of w and token t,
 * computed with llama.cpp's numerics (see matmul.c): quantised weights take
 * activations rounded to 8-bit blocks and integer block dot products, for
 * any number of tokens; F16/BF16 weights take activations rounded to
 * f16/bf16.  Float weights with several tokens (prefill) go through
 * OpenBLAS on weight tiles dequantised into a small cache-sized buffer.
 */
#ifndef LLM_ENGINE_MATMUL_H
#define LLM_ENGINE_MATMUL_H

#include "common.h"

/* Fewest tokens for which the GEMM path is used (float weights only). */
#define LLM_GEMM_MIN_TOKENS 4

void		llm_matmul(uint32_t type, const uint8_t *data, size_t row_bytes,
					   int64_t n_rows, int64_t n_cols,
					   const float *x, size_t x_stride, int32_t n_tokens,
					   float *y, size_t y_stride);

#endif							/* LLM_ENGINE_MATMUL_H */
