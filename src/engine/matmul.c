/*
 * matmul.c — weight matrix × activations, per row for decode and through
 * cblas_sgemm on dequantised weight tiles for prefill.
 *
 * OpenBLAS is told to use one thread: inside a PostgreSQL backend only the
 * calling thread may do work that can be interrupted and accounted for (see
 * the README on OPENBLAS_NUM_THREADS).
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

void
llm_matmul(uint32_t type, const uint8_t *data, size_t row_bytes,
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
