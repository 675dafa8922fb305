/*
 * matmul.c — weight matrix × activations, computed the way llama.cpp's CPU
 * backend computes it, so that our logits agree with llama.cpp's.
 *
 * Quantised weights (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K): each
 * activation row is first rounded to 8-bit blocks (Q8_0, Q8_1 or Q8_K; see
 * quant.h), once per call, into one scratch buffer for all tokens; then
 * every output is an integer block dot product (llm_vec_dot_act).  This is
 * what ggml does for every token count: on x86 it has no BLAS path for
 * these types, so its prefill and its decode use the same rounding, and so
 * do we — prefill and decode give the same logits, bit for bit.  (ggml's
 * llamafile tinyBLAS kernel, which it uses for Q8_0/Q4_0/Q5_0 batches,
 * accumulates in the same lanes and order as its vec_dot, so one path
 * matches both.  Not matched: ggml repacks Q4_0 weights for AVX2 and has a
 * "tiled" kernel for K-quant batches of 8 tokens or more; those reorder
 * the float accumulation, a last-bit difference.)
 *
 * F16 and BF16 weights: ggml rounds the activations to f16 / bf16 first; we
 * round them into the scratch buffer and then compute in f32 (per row for
 * decode, OpenBLAS on dequantised tiles for prefill).  Rounding the
 * activations is what changes logits; the summation order is noise.
 * F32 weights: activations as they are, per row or OpenBLAS.
 *
 * OpenBLAS is told to use one thread: inside a PostgreSQL backend only the
 * calling thread may do work that can be interrupted and accounted for (see
 * the README on OPENBLAS_NUM_THREADS).
 *
 * If the scratch cannot be allocated, the product is still computed, with
 * f32 activations (a last resort: correct, but not llama.cpp's rounding).
 */
#include "matmul.h"

#include <cblas.h>
#include <pthread.h>

#include "quant.h"

/* f32 elements of one dequantised weight tile: 256 KB, cache-sized. */
#define TILE_FLOATS (64 * 1024)

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void
blas_single_thread(void)
{
	openblas_set_num_threads(1);
}

static void
matmul_rows(uint32_t type, const uint8_t *data, size_t row_bytes,
			int64_t n_rows, int64_t n_cols,
			const float *x, size_t x_stride, int32_t n_tokens,
			float *y, size_t y_stride)
{
	for (int64_t r = 0; r < n_rows; r++)
	{
		const uint8_t *row = data + (size_t) r * row_bytes;

		for (int32_t t = 0; t < n_tokens; t++)
			y[(size_t) t * y_stride + (size_t) r] =
				llm_vec_dot(type, row, x + (size_t) t * x_stride, n_cols);
	}
}

/* Every output as an integer dot product with quantised activations. */
static void
matmul_quantized(uint32_t type, const uint8_t *data, size_t row_bytes,
				 int64_t n_rows, int64_t n_cols, const uint8_t *act, size_t act_bytes,
				 int32_t n_tokens, float *y, size_t y_stride)
{
	for (int64_t r = 0; r < n_rows; r++)
	{
		const uint8_t *row = data + (size_t) r * row_bytes;

		for (int32_t t = 0; t < n_tokens; t++)
			y[(size_t) t * y_stride + (size_t) r] =
				llm_vec_dot_act(type, row, act + (size_t) t * act_bytes, n_cols);
	}
}

static void matmul_float(uint32_t type, const uint8_t *data, size_t row_bytes,
						 int64_t n_rows, int64_t n_cols,
						 const float *x, size_t x_stride, int32_t n_tokens,
						 float *y, size_t y_stride);

void
llm_matmul(uint32_t type, const uint8_t *data, size_t row_bytes,
		   int64_t n_rows, int64_t n_cols,
		   const float *x, size_t x_stride, int32_t n_tokens,
		   float *y, size_t y_stride)
{
	uint32_t	act_type = llm_act_type(type);
	size_t		act_bytes;
	uint8_t    *act;

	if (n_tokens <= 0 || n_rows <= 0 || n_cols <= 0)
		return;
	if (act_type == LLM_DTYPE_F32)
	{
		matmul_float(type, data, row_bytes, n_rows, n_cols, x, x_stride, n_tokens, y, y_stride);
		return;
	}

	act_bytes = llm_act_row_bytes(type, n_cols);
	act = llm_malloc(act_bytes * (size_t) n_tokens);
	if (act == NULL)
	{
		matmul_float(type, data, row_bytes, n_rows, n_cols, x, x_stride, n_tokens, y, y_stride);
		return;
	}
	for (int32_t t = 0; t < n_tokens; t++)
		llm_quantize_act(type, x + (size_t) t * x_stride, act + (size_t) t * act_bytes, n_cols);

	if (act_type == LLM_DTYPE_F16 || act_type == LLM_DTYPE_BF16)
		matmul_float(type, data, row_bytes, n_rows, n_cols, (const float *) act,
					 (size_t) n_cols, n_tokens, y, y_stride);
	else
		matmul_quantized(type, data, row_bytes, n_rows, n_cols, act, act_bytes,
						 n_tokens, y, y_stride);
	llm_free(act);
}

/* F32/F16/BF16 weights: per row for few tokens, OpenBLAS on tiles for more. */
static void
matmul_float(uint32_t type, const uint8_t *data, size_t row_bytes,
			 int64_t n_rows, int64_t n_cols,
			 const float *x, size_t x_stride, int32_t n_tokens,
			 float *y, size_t y_stride)
{
	float	   *tile;
	int64_t		tile_rows;

	if (n_tokens < LLM_GEMM_MIN_TOKENS || n_cols > TILE_FLOATS)
	{
		matmul_rows(type, data, row_bytes, n_rows, n_cols, x, x_stride, n_tokens, y, y_stride);
		return;
	}

	tile_rows = TILE_FLOATS / n_cols;
	tile = llm_malloc(sizeof(float) * (size_t) TILE_FLOATS);
	if (tile == NULL)
	{
		/* No memory for the fast path: the slow one needs none. */
		matmul_rows(type, data, row_bytes, n_rows, n_cols, x, x_stride, n_tokens, y, y_stride);
		return;
	}
	pthread_once(&blas_once, blas_single_thread);

	for (int64_t r0 = 0; r0 < n_rows; r0 += tile_rows)
	{
		int64_t		rows = n_rows - r0 < tile_rows ? n_rows - r0 : tile_rows;

		for (int64_t r = 0; r < rows; r++)
			llm_dequantize_row(type, data + (size_t) (r0 + r) * row_bytes,
							   tile + (size_t) r * (size_t) n_cols, n_cols);
		/* y[t][r0 + r] = sum_k x[t][k] * tile[r][k] */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
					n_tokens, (int) rows, (int) n_cols,
					1.0f, x, (int) x_stride,
					tile, (int) n_cols,
					0.0f, y + r0, (int) y_stride);
	}
	llm_free(tile);
}
