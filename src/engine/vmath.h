/*
 * vmath.h — the elementwise math of llama.cpp's CPU backend, bit for bit.
 *
 * ggml's x86 build (AVX2 + FMA) does not call libm's expf for SiLU and
 * softmax: it uses its own 8-lane polynomial exp (ggml_v_expf, after ARM's
 * optimized-routines expf) and sums vectors in a fixed tree.  Models like
 * SmolLM2 amplify the last-bit differences this makes into visible logit
 * differences, so the reference forward pass reproduces them.  Each lane of
 * ggml's vector code is computed independently, so scalar code with the
 * same operations — fmaf() where ggml uses a fused multiply-add, plain
 * float operations elsewhere — gives identical results on any machine.
 */
#ifndef LLM_ENGINE_VMATH_H
#define LLM_ENGINE_VMATH_H

#include <stdbool.h>
#include <stdint.h>

/* One lane of ggml_v_expf: e^x, max error ~1.5 ulp; 0 below ~-104, inf above ~88.4. */
float		llm_vexpf(float x);

/* One lane of ggml_v_silu: x / (1 + llm_vexpf(-x)). */
float		llm_vsilu(float x);

/*
 * y[i] = silu(gate[i]) * up[i] as ggml_vec_swiglu_f32: the vector lanes for
 * the first n - n % 8 elements, libm's expf for the tail.
 */
void		llm_swiglu(int64_t n, float *y, const float *gate, const float *up);

/*
 * y[i] = e^(x[i] - max) as ggml_vec_soft_max_f32, returning the sum.  Each
 * group of 8 is summed in float in AVX's horizontal-add tree and the group
 * sums are accumulated in double; a tail shorter than 8 is padded with
 * zeros, which is what ggml sees (its KV length is padded with masked cells).
 */
double		llm_softmax_exp(int64_t n, float *y, const float *x, float max);

/* Sum of 8 floats in the tree of ggml's/llamafile's hsum(__m256). */
float		llm_hsum8(const float v[8]);

/* Sum of 32 floats (4 vectors of 8) in the tree of GGML_F32x8_REDUCE. */
float		llm_reduce32(const float v[32]);

/*
 * The dot product of two f16 vectors (given as f32) as ggml computes it on
 * the CPU.  gemm: as llamafile's tinyBLAS, which ggml uses for an f16
 * matrix product with 2 or more columns when n % 8 == 0 — one 8-lane
 * fused multiply-add accumulator, element i in lane i % 8, then llm_hsum8.
 * Otherwise as ggml_vec_dot_f16 — four 8-lane accumulators (element i in
 * lane i % 32) for the first n - n % 32 elements, llm_reduce32, then the
 * rest added in double.
 */
float		llm_dot_f16(const float *a, const float *b, int64_t n, bool gemm);

/* y[i] = fmaf(x[i], a, y[i]): one lane row of a dot product built column by column. */
void		llm_fma_row(float *y, const float *x, float a, int64_t n);

/*
 * out[i] = sum over the lanes l of acc[l * stride + i], in the tree of
 * llm_hsum8 (gemm, 8 lanes) or llm_reduce32 (32 lanes): the end of n dot
 * products accumulated with llm_fma_row, element j in lane j % 8 or j % 32.
 */
void		llm_sum_lanes(float *out, const float *acc, int64_t n, int64_t stride, bool gemm);

#endif							/* LLM_ENGINE_VMATH_H */
