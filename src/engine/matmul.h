/*
 * matmul.h — a weight matrix times a batch of activation vectors.
 *
 * y[t][r] = dot(row r of w, x[t]) for every row r of w and token t.
 * One token (decode) reads each stored row once with llm_vec_dot.  Several
 * tokens (prefill) go through OpenBLAS: the weight rows are dequantised a
 * tile at a time into a small f32 buffer that stays in cache, and each tile
 * is multiplied with the whole batch by cblas_sgemm — the arithmetic rate
 * of a tuned GEMM without ever making an f32 copy of the model.
 */
#ifndef LLM_ENGINE_MATMUL_H
#define LLM_ENGINE_MATMUL_H

#include "common.h"

/* Fewest tokens for which the GEMM path is used. */
#define LLM_GEMM_MIN_TOKENS 4

void		llm_matmul(uint32_t type, const uint8_t *data, size_t row_bytes,
					   int64_t n_rows, int64_t n_cols,
					   const float *x, size_t x_stride, int32_t n_tokens,
					   float *y, size_t y_stride);

#endif							/* LLM_ENGINE_MATMUL_H */
