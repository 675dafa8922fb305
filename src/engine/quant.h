/*
 * quant.h — reading weights in their stored (quantised) blocks.
 *
 * Weights stay in the GGUF mapping in their stored format; nothing makes an
 * f32 copy of the model.  A matrix row of n elements of type t is read by
 * dequantising it (llm_dequantize_row) or by a dot product against an f32
 * vector (llm_vec_dot).
 *
 * Kernels.  Each entry point goes through a table of per-type kernels chosen
 * once per process from what the CPU can do (quant.c): AVX2+FMA+F16C kernels
 * (quant_avx2.c) on x86-64 CPUs that have them, the portable scalar C
 * otherwise.  The scalar versions are the reference every faster kernel is
 * tested against; llm_vec_dot_scalar and llm_dequantize_row_scalar call them
 * directly.  Environment variable LLM_FORCE_SCALAR=1 (read once, at the
 * first call) makes the table all-scalar, for tests and benchmarks.
 */
#ifndef LLM_ENGINE_QUANT_H
#define LLM_ENGINE_QUANT_H

#include "common.h"
#include "dtype.h"

/* Can the forward pass compute with weights of this type? */
bool		llm_quant_supported(uint32_t type);

/*
 * dst[0..n) = row (n must be a multiple of the type's block size).  The
 * result is bit-identical whichever kernel runs.
 */
void		llm_dequantize_row(uint32_t type, const void *row, float *dst, int64_t n);

/*
 * sum_i row[i] * x[i].  Kernels differ in summation order, so results differ
 * by rounding only (see quant.c for the bound the tests hold them to).
 */
float		llm_vec_dot(uint32_t type, const void *row, const float *x, int64_t n);

/* The scalar reference versions of the two above, whatever the CPU. */
void		llm_dequantize_row_scalar(uint32_t type, const void *row, float *dst, int64_t n);
float		llm_vec_dot_scalar(uint32_t type, const void *row, const float *x, int64_t n);

/*
 * Name of the kernel set in use: "avx2" or "scalar".  llm_quant_kernel_for
 * and llm_quant_dequantize_kernel_for name the kernels llm_vec_dot and
 * llm_dequantize_row use for a given type (a set may leave some types to
 * the scalar code).
 */
const char *llm_quant_kernel_name(void);
const char *llm_quant_kernel_for(uint32_t type);
const char *llm_quant_dequantize_kernel_for(uint32_t type);

/*
 * Activations as llama.cpp rounds them before a matrix product.
 *
 * ggml never multiplies a quantised weight row with f32 activations: it
 * first rounds each activation row to the weight type's "vec_dot type" and
 * then takes integer dot products block by block.  To agree with llama.cpp
 * to the last bit we do the same (quant_q8.c has the details):
 *   Q4_0, Q5_0, Q8_0 weights -> Q8_0 activations (32 int8 + fp16 scale)
 *   Q4_1, Q5_1               -> Q8_1 (Q8_0 plus s = d * sum(q), fp16)
 *   Q4_K, Q5_K, Q6_K         -> Q8_K (256 int8, f32 scale, 16-sums)
 *   F16 -> activations rounded to f16, BF16 -> to bf16, F32 -> unchanged
 *
 * llm_act_type names the activation type of a weight type;
 * llm_act_row_bytes is the size of one quantised activation row of n
 * elements (n a multiple of the weight's block size); llm_quantize_act
 * writes it; llm_vec_dot_act is the dot product of a weight row with it.
 * Every kernel set computes bit-identical results here (the scalar code
 * does the float arithmetic in the same order as the SIMD code), so
 * LLM_FORCE_SCALAR changes speed, not logits.
 */
uint32_t	llm_act_type(uint32_t weight_type);
size_t		llm_act_row_bytes(uint32_t weight_type, int64_t n);
void		llm_quantize_act(uint32_t weight_type, const float *x, void *act, int64_t n);
float		llm_vec_dot_act(uint32_t weight_type, const void *row, const void *act, int64_t n);
void		llm_quantize_act_scalar(uint32_t weight_type, const float *x, void *act, int64_t n);
float		llm_vec_dot_act_scalar(uint32_t weight_type, const void *row, const void *act, int64_t n);
const char *llm_quant_act_kernel_for(uint32_t weight_type);

/* Half-precision conversions (IEEE binary16 and bfloat16). */
float		llm_fp16_to_fp32(uint16_t h);
uint16_t	llm_fp32_to_fp16(float f);
float		llm_bf16_to_fp32(uint16_t h);
uint16_t	llm_fp32_to_bf16(float f);	/* nearest even, as ggml */

/* ---------------------------------------------------------------------
 * For the kernel files only (quant.c, quant_avx2.c, ...).
 * ---------------------------------------------------------------------
 */

/*
 * One type's kernels.  n is the row length; block types read n / block
 * elements whole blocks (a partial trailing block is rejected at load time;
 * here it is ignored).  n > 0.  row may be at any address, x need only be
 * float-aligned.
 */
typedef float (*llm_vec_dot_fn) (const void *row, const float *x, int64_t n);
typedef void (*llm_dequantize_fn) (const void *row, float *dst, int64_t n);

/* Activation quantiser (x -> act) and weight-row x act dot product. */
typedef void (*llm_quantize_act_fn) (const float *x, void *act, int64_t n);
typedef float (*llm_vec_dot_act_fn) (const void *row, const void *act, int64_t n);

/* A kernel set; a NULL entry means "use the scalar reference". */
typedef struct llm_quant_kernels
{
	const char *name;
	llm_vec_dot_fn vec_dot[LLM_DTYPE_MAX];
	llm_dequantize_fn dequantize[LLM_DTYPE_MAX];
	llm_quantize_act_fn quantize_act[LLM_DTYPE_MAX];	/* by activation type */
	llm_vec_dot_act_fn vec_dot_act[LLM_DTYPE_MAX];	/* by weight type */
} llm_quant_kernels;

#if defined(__x86_64__)
/*
 * quant_avx2.c: fill in the kernels it has.  Call only when the CPU has
 * AVX2, FMA and F16C (and the OS saves the YMM registers).
 */
void		llm_quant_avx2_kernels(llm_quant_kernels *kernels);
#endif

#ifdef LLM_QUANT_BLOCKS

/*
 * Block layouts, shared by the kernel files (they define LLM_QUANT_BLOCKS
 * before including this header).  Field order and sizes are the file
 * format; every field is a byte array so that the structs have alignment 1
 * (see quant.c's header comment).  "half" fields hold an IEEE binary16,
 * little-endian.
 */
#define QK32 32					/* elements per block of the legacy formats */
#define QK_K 256				/* elements per super-block of the K formats */
#define K_SCALE_BYTES 12		/* packed 6-bit scales and mins of Q4_K/Q5_K */

/* Q4_0: value = (q - 8) * d, q a 4-bit nibble */
typedef struct block_q4_0
{
	uint8_t		d[2];			/* half: scale */
	uint8_t		qs[QK32 / 2];	/* element j in the low nibble of qs[j],
								 * element j+16 in the high nibble */
} block_q4_0;

/* Q4_1: value = q * d + m */
typedef struct block_q4_1
{
	uint8_t		d[2];			/* half: scale */
	uint8_t		m[2];			/* half: offset (the block minimum) */
	uint8_t		qs[QK32 / 2];	/* nibbles, as Q4_0 */
} block_q4_1;

/* Q5_0: value = (q - 16) * d, q = 4 low bits from qs | 5th bit from qh */
typedef struct block_q5_0
{
	uint8_t		d[2];			/* half: scale */
	uint8_t		qh[4];			/* little-endian u32: bit j = 5th bit of
								 * element j */
	uint8_t		qs[QK32 / 2];	/* low 4 bits, nibbles as Q4_0 */
} block_q5_0;

/* Q5_1: value = q * d + m, bits as Q5_0 */
typedef struct block_q5_1
{
	uint8_t		d[2];			/* half: scale */
	uint8_t		m[2];			/* half: offset */
	uint8_t		qh[4];
	uint8_t		qs[QK32 / 2];
} block_q5_1;

/* Q8_0: value = q * d, q a signed byte */
typedef struct block_q8_0
{
	uint8_t		d[2];			/* half: scale */
	uint8_t		qs[QK32];		/* int8 values, stored as bytes */
} block_q8_0;

/*
 * Q4_K: a super-block of 8 sub-blocks of 32 values.  Sub-block s has a 6-bit
 * scale sc[s] and a 6-bit min m[s] packed into scales[12];
 * value = (d * sc[s]) * q - (dmin * m[s]).  The 4-bit q's come in 4 chunks
 * of 32 bytes: chunk c holds sub-block 2c in its low nibbles and 2c+1 in its
 * high nibbles.
 */
typedef struct block_q4_k
{
	uint8_t		d[2];			/* half: super-scale of the scales */
	uint8_t		dmin[2];		/* half: super-scale of the mins */
	uint8_t		scales[K_SCALE_BYTES];
	uint8_t		qs[QK_K / 2];
} block_q4_k;

/* Q5_K: Q4_K plus a 5th bit: bit s of qh[l] belongs to sub-block s, row l */
typedef struct block_q5_k
{
	uint8_t		d[2];
	uint8_t		dmin[2];
	uint8_t		scales[K_SCALE_BYTES];
	uint8_t		qh[QK_K / 8];
	uint8_t		qs[QK_K / 2];
} block_q5_k;

/*
 * Q6_K: 16 groups of 16 values, each with a signed 8-bit scale;
 * value = (d * scales[g]) * (q - 32), q 6 bits: 4 from ql, 2 from qh.
 * Layout per half (128 values): ql 64 bytes, qh 32 bytes, scales 8.
 */
typedef struct block_q6_k
{
	uint8_t		ql[QK_K / 2];	/* low 4 bits */
	uint8_t		qh[QK_K / 4];	/* high 2 bits */
	uint8_t		scales[QK_K / 16];	/* int8 */
	uint8_t		d[2];			/* half: super-scale (last, unlike the
								 * others) */
} block_q6_k;

/*
 * Quantised activations (our own scratch, never read from a file, so with
 * natural alignment).  The scales are kept as the float value of what
 * ggml stores: d and s of Q8_0/Q8_1 already rounded through fp16.
 */
typedef struct act_q8
{
	float		d;				/* fp16-rounded scale */
	float		s;				/* Q8_1: fp16-rounded d * sum(qs); Q8_0: 0 */
	int8_t		qs[QK32];
} act_q8;

typedef struct act_q8_k
{
	float		d;				/* f32 scale (negative when the block's
								 * largest magnitude is positive, as ggml) */
	int16_t		bsums[QK_K / 16];	/* sums of 16 consecutive qs */
	int8_t		qs[QK_K];
} act_q8_k;

/*
 * The 8-lane float accumulator of ggml's AVX2 kernels, reduced in its order:
 * (lanes k + k+4), then (0+2) + (1+3) of those.
 */
static inline float
hsum8_ggml(const float acc[8])
{
	float		t0 = acc[0] + acc[4],
				t1 = acc[1] + acc[5],
				t2 = acc[2] + acc[6],
				t3 = acc[3] + acc[7];

	return (t0 + t2) + (t1 + t3);
}

_Static_assert(sizeof(block_q4_0) == 18, "Q4_0 block is 18 bytes");
_Static_assert(sizeof(block_q4_1) == 20, "Q4_1 block is 20 bytes");
_Static_assert(sizeof(block_q5_0) == 22, "Q5_0 block is 22 bytes");
_Static_assert(sizeof(block_q5_1) == 24, "Q5_1 block is 24 bytes");
_Static_assert(sizeof(block_q8_0) == 34, "Q8_0 block is 34 bytes");
_Static_assert(sizeof(block_q4_k) == 144, "Q4_K block is 144 bytes");
_Static_assert(sizeof(block_q5_k) == 176, "Q5_K block is 176 bytes");
_Static_assert(sizeof(block_q6_k) == 210, "Q6_K block is 210 bytes");
_Static_assert(_Alignof(block_q4_0) == 1 && _Alignof(block_q4_1) == 1 &&
			   _Alignof(block_q5_0) == 1 && _Alignof(block_q5_1) == 1 &&
			   _Alignof(block_q8_0) == 1 && _Alignof(block_q4_k) == 1 &&
			   _Alignof(block_q5_k) == 1 && _Alignof(block_q6_k) == 1,
			   "block structs must be readable at any address");

/*
 * The 6-bit scale and min of sub-block s (0..7) of a Q4_K/Q5_K super-block.
 * Bytes 0-3 hold the scales of sub-blocks 0-3 in their low 6 bits, bytes 4-7
 * the mins of 0-3; sub-blocks 4-7 keep their low 4 bits in the nibbles of
 * bytes 8-11 (scale low, min high) and their top 2 bits in the spare top
 * bits of bytes 0-3 (scales) and 4-7 (mins).
 */
static inline void
k_scale_min(const uint8_t *scales, int s, int *sc, int *m)
{
	if (s < 4)
	{
		*sc = scales[s] & 63;
		*m = scales[s + 4] & 63;
	}
	else
	{
		*sc = (scales[s + 4] & 0x0f) | ((scales[s - 4] >> 6) << 4);
		*m = (scales[s + 4] >> 4) | ((scales[s] >> 6) << 4);
	}
}

#endif							/* LLM_QUANT_BLOCKS */

#endif							/* LLM_ENGINE_QUANT_H */
