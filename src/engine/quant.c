/*
 * quant.c — scalar dequantisation and dot products for the weight types the
 * forward pass computes with: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
 * Q4_K, Q5_K, Q6_K.
 *
 * Block layouts and formulas are ggml's (ggml-common.h block structs,
 * ggml-quants.c dequantize_row_*; see reference/engine-facts.md §2).  The
 * code here is our own and is meant to be the readable reference that any
 * faster kernel is tested against.  The block structs live in quant.h
 * (under LLM_QUANT_BLOCKS) so that the SIMD kernel files share them.
 *
 * Dispatch.  llm_vec_dot and llm_dequantize_row look the type up in a
 * kernel table filled once per process (pthread_once, at the first call):
 * the AVX2+FMA+F16C kernels of quant_avx2.c when the CPU has them and
 * LLM_FORCE_SCALAR is not set, else the scalar functions here
 * (llm_vec_dot_scalar, llm_dequantize_row_scalar), which also take any type
 * a table leaves empty.  A later kernel set (other instruction sets, dot
 * products with quantised activations) adds a table-filling function and a
 * CPU check in choose_kernels.
 *
 * Unaligned data.  GGUF aligns each tensor to 32 bytes, but blocks of 18,
 * 20 or 22 bytes follow each other with no padding, so a block's 16-bit
 * fields sit at arbitrary addresses.  Every block struct below is therefore
 * made of byte arrays only (alignment 1), and 16-bit fields are assembled
 * from their two little-endian bytes.  Casting a row pointer to a block
 * pointer is then valid at any address.  F32 rows are read with memcpy for
 * the same reason (a caller may hand us a row that is not 4-aligned).
 *
 * Exactness.  llm_dequantize_row does each value's arithmetic in float in the
 * same order as ggml and gguf-py (for example Q4_K is (d*sc)*q - dmin*m), and
 * its output is bit-identical to theirs.  That holds even if the compiler
 * fuses a multiply and add (FMA): a half has an 11-bit significand, so a
 * half times small integers (a 6-bit scale, a q of at most 8 bits, never
 * more than 22 bits together) is exact in float; the only rounding is the
 * final add, the same with or without fusing.  (Q6_K's (d*sc)*q, 25 bits,
 * can round, but has no add to fuse with.)
 *
 * Dot products.  llm_vec_dot factors each block's (or sub-block's) scale out
 * of the inner sum: it computes d * sum(q[i] * x[i]) rather than
 * sum((d * q[i]) * x[i]).  Mathematically the two are equal; in float they
 * differ by rounding only.  The bound the tests use is
 *     |llm_vec_dot - dot(dequantised row, x)| <= 1e-5 * sum |w[i] * x[i]|
 * (with w the dequantised weights), about 170 float epsilons (2^-23) of the
 * absolute sum; measured worst cases are near 3e-7 for rows of up to 1024
 * (test_quant prints them).  Blockwise partial sums keep the error growing
 * slowly with row length.
 */
#define LLM_QUANT_BLOCKS
#include "quant.h"

#include <pthread.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * Half precision
 * ---------------------------------------------------------------------
 */

static inline float
float_from_bits(uint32_t bits)
{
	float		f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

static inline uint32_t
bits_from_float(float f)
{
	uint32_t	bits;

	memcpy(&bits, &f, sizeof(bits));
	return bits;
}

static inline uint16_t
read_u16le(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint32_t
read_u32le(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

/* A stored byte as the signed value it encodes (two's complement). */
static inline int
byte_as_int8(uint8_t b)
{
	return (int) b - ((b & 0x80) << 1);
}

/*
 * binary16 -> binary32, exact.  Every half is representable as a float, so
 * this is pure bit re-arrangement: rebias the exponent (15 -> 127), widen the
 * mantissa (10 -> 23 bits), and normalise subnormal halves.  Infinities keep
 * their sign; a NaN keeps sign and payload and comes back quiet (quiet bit
 * set), as the hardware conversion (F16C) and ggml's arithmetic version both
 * return it.
 */
float
llm_fp16_to_fp32(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t	exponent = (h >> 10) & 0x1f;
	uint32_t	mantissa = h & 0x3ff;

	if (exponent == 0x1f)
	{
		if (mantissa == 0)
			return float_from_bits(sign | 0x7f800000u);
		return float_from_bits(sign | 0x7fc00000u | (mantissa << 13));
	}
	if (exponent == 0)
	{
		int			shift = 0;

		if (mantissa == 0)
			return float_from_bits(sign);	/* +-0 */

		/*
		 * Subnormal: value = mantissa * 2^-24.  Shift the leading 1 up to
		 * the implicit-bit position (bit 10); each shift lowers the exponent
		 * by one.
		 */
		while ((mantissa & 0x400) == 0)
		{
			mantissa <<= 1;
			shift++;
		}
		mantissa &= 0x3ff;
		return float_from_bits(sign |
							   ((uint32_t) (127 - 15 + 1 - shift) << 23) |
							   (mantissa << 13));
	}
	return float_from_bits(sign | ((exponent + 127 - 15) << 23) |
						   (mantissa << 13));
}

/*
 * binary32 -> binary16, round to nearest even.  Too large -> inf, too small
 * -> subnormal or zero (correctly rounded), NaN -> quiet NaN 0x7e00 with the
 * sign kept (what ggml produces).
 */
uint16_t
llm_fp32_to_fp16(float f)
{
	uint32_t	bits = bits_from_float(f);
	uint16_t	sign = (uint16_t) ((bits >> 16) & 0x8000);
	uint32_t	abs_bits = bits & 0x7fffffffu;
	int32_t		exponent;
	uint32_t	mantissa;
	uint32_t	shift;
	uint32_t	half;
	uint32_t	rest;
	uint32_t	halfway;

	if (abs_bits > 0x7f800000u)
		return sign | 0x7e00;	/* NaN */
	if (abs_bits >= 0x477ff000u)
		return sign | 0x7c00;	/* >= 65520 rounds to inf (or is inf) */

	exponent = (int32_t) (abs_bits >> 23) - 127 + 15;
	mantissa = (abs_bits & 0x7fffff) | 0x800000;	/* with implicit bit */

	if (exponent >= 1)
	{
		/* normal half: keep 10 of the 23 fraction bits */
		shift = 13;
		half = ((uint32_t) exponent << 10) | ((mantissa >> shift) & 0x3ff);
	}
	else
	{
		/*
		 * Subnormal half (or zero): the unit is 2^-24, so shift the full
		 * 24-bit significand right by 14 - exponent.  Past 24 bits nothing
		 * is left, not even a rounding bit.
		 */
		if (abs_bits < 0x33000000u)	/* < 2^-25: rounds to zero */
			return sign;
		shift = (uint32_t) (14 - exponent);
		half = mantissa >> shift;
	}

	/* round to nearest, ties to even; a carry into the exponent is right */
	rest = mantissa & ((1u << shift) - 1);
	halfway = 1u << (shift - 1);
	if (rest > halfway || (rest == halfway && (half & 1)))
		half++;
	return sign | (uint16_t) half;
}

/* bfloat16 is the top half of a binary32: exact, NaNs pass through. */
float
llm_bf16_to_fp32(uint16_t h)
{
	return float_from_bits((uint32_t) h << 16);
}

/*
 * binary32 -> bfloat16 the way ggml rounds activations for BF16 weights:
 * nearest, ties to even, by adding 0x7fff plus the lowest kept bit; a NaN
 * keeps its top bits and is made quiet.
 */
uint16_t
llm_fp32_to_bf16(float f)
{
	uint32_t	u = bits_from_float(f);

	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t) ((u >> 16) | 64);
	return (uint16_t) ((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

static inline float
half_at(const uint8_t *p)
{
	return llm_fp16_to_fp32(read_u16le(p));
}

/* ---------------------------------------------------------------------
 * Dequantisation, one block at a time
 * ---------------------------------------------------------------------
 */

static void
dequant_q4_0(const block_q4_0 *b, float *y)
{
	const float d = half_at(b->d);

	for (int j = 0; j < QK32 / 2; j++)
	{
		y[j] = (float) ((b->qs[j] & 0x0f) - 8) * d;
		y[j + QK32 / 2] = (float) ((b->qs[j] >> 4) - 8) * d;
	}
}

static void
dequant_q4_1(const block_q4_1 *b, float *y)
{
	const float d = half_at(b->d);
	const float m = half_at(b->m);

	for (int j = 0; j < QK32 / 2; j++)
	{
		y[j] = (float) (b->qs[j] & 0x0f) * d + m;
		y[j + QK32 / 2] = (float) (b->qs[j] >> 4) * d + m;
	}
}

/* The 5-bit values of a Q5_0/Q5_1 block, 0..31. */
static void
unpack_q5(const uint8_t *qh_bytes, const uint8_t *qs, int *q)
{
	const uint32_t qh = read_u32le(qh_bytes);

	for (int j = 0; j < QK32 / 2; j++)
	{
		q[j] = (qs[j] & 0x0f) | (int) (((qh >> j) & 1) << 4);
		q[j + QK32 / 2] = (qs[j] >> 4) | (int) (((qh >> (j + 16)) & 1) << 4);
	}
}

static void
dequant_q5_0(const block_q5_0 *b, float *y)
{
	const float d = half_at(b->d);
	int			q[QK32];

	unpack_q5(b->qh, b->qs, q);
	for (int j = 0; j < QK32; j++)
		y[j] = (float) (q[j] - 16) * d;
}

static void
dequant_q5_1(const block_q5_1 *b, float *y)
{
	const float d = half_at(b->d);
	const float m = half_at(b->m);
	int			q[QK32];

	unpack_q5(b->qh, b->qs, q);
	for (int j = 0; j < QK32; j++)
		y[j] = (float) q[j] * d + m;
}

static void
dequant_q8_0(const block_q8_0 *b, float *y)
{
	const float d = half_at(b->d);

	for (int j = 0; j < QK32; j++)
		y[j] = (float) byte_as_int8(b->qs[j]) * d;
}

/*
 * The 4-bit q of value l (0..31) of sub-block s of a Q4_K/Q5_K block: chunk
 * s/2 of qs, low nibble for even s, high nibble for odd s.
 */
static inline int
k_nibble(const uint8_t *qs, int s, int l)
{
	uint8_t		byte = qs[(s / 2) * 32 + l];

	return (s & 1) ? (byte >> 4) : (byte & 0x0f);
}

static void
dequant_q4_k(const block_q4_k *b, float *y)
{
	const float d = half_at(b->d);
	const float dmin = half_at(b->dmin);

	for (int s = 0; s < QK_K / 32; s++)
	{
		int			sc,
					m;
		float		scale,
					offset;

		k_scale_min(b->scales, s, &sc, &m);
		scale = d * (float) sc;
		offset = dmin * (float) m;
		for (int l = 0; l < 32; l++)
			y[s * 32 + l] = scale * (float) k_nibble(b->qs, s, l) - offset;
	}
}

static void
dequant_q5_k(const block_q5_k *b, float *y)
{
	const float d = half_at(b->d);
	const float dmin = half_at(b->dmin);

	for (int s = 0; s < QK_K / 32; s++)
	{
		int			sc,
					m;
		float		scale,
					offset;

		k_scale_min(b->scales, s, &sc, &m);
		scale = d * (float) sc;
		offset = dmin * (float) m;
		for (int l = 0; l < 32; l++)
		{
			int			q = k_nibble(b->qs, s, l) | (((b->qh[l] >> s) & 1) << 4);

			y[s * 32 + l] = scale * (float) q - offset;
		}
	}
}

/*
 * The 6-bit q (0..63) of value i (0..255) of a Q6_K block.  Each half of
 * 128 values is four quarters of 32; quarter k of half h, position l, takes
 *   low 4 bits:  ql[64h + l + 32*(k&1)], low nibble for k<2, high for k>=2
 *   high 2 bits: qh[32h + l] >> 2k
 */
static inline int
q6_value(const block_q6_k *b, int i)
{
	int			h = i / 128;
	int			k = (i % 128) / 32;
	int			l = i % 32;
	uint8_t		lo = b->ql[64 * h + l + 32 * (k & 1)];
	uint8_t		hi = b->qh[32 * h + l];

	return ((k < 2) ? (lo & 0x0f) : (lo >> 4)) | (((hi >> (2 * k)) & 3) << 4);
}

static void
dequant_q6_k(const block_q6_k *b, float *y)
{
	const float d = half_at(b->d);

	/* group g of 16 consecutive values shares scales[g] */
	for (int g = 0; g < QK_K / 16; g++)
	{
		const float scale = d * (float) byte_as_int8(b->scales[g]);

		for (int l = 0; l < 16; l++)
			y[g * 16 + l] = scale * (float) (q6_value(b, g * 16 + l) - 32);
	}
}

/* ---------------------------------------------------------------------
 * Public entry points
 * ---------------------------------------------------------------------
 */

bool
llm_quant_supported(uint32_t type)
{
	switch (type)
	{
		case LLM_DTYPE_F32:
		case LLM_DTYPE_F16:
		case LLM_DTYPE_BF16:
		case LLM_DTYPE_Q8_0:
		case LLM_DTYPE_Q4_0:
		case LLM_DTYPE_Q4_1:
		case LLM_DTYPE_Q5_0:
		case LLM_DTYPE_Q5_1:
		case LLM_DTYPE_Q4_K:
		case LLM_DTYPE_Q5_K:
		case LLM_DTYPE_Q6_K:
			return true;
		default:
			return false;
	}
}

/* Dequantise one block of a block type (not F32/F16/BF16) into y. */
static void
dequant_block(uint32_t type, const uint8_t *block, float *y)
{
	switch (type)
	{
		case LLM_DTYPE_Q4_0:
			dequant_q4_0((const block_q4_0 *) block, y);
			break;
		case LLM_DTYPE_Q4_1:
			dequant_q4_1((const block_q4_1 *) block, y);
			break;
		case LLM_DTYPE_Q5_0:
			dequant_q5_0((const block_q5_0 *) block, y);
			break;
		case LLM_DTYPE_Q5_1:
			dequant_q5_1((const block_q5_1 *) block, y);
			break;
		case LLM_DTYPE_Q8_0:
			dequant_q8_0((const block_q8_0 *) block, y);
			break;
		case LLM_DTYPE_Q4_K:
			dequant_q4_k((const block_q4_k *) block, y);
			break;
		case LLM_DTYPE_Q5_K:
			dequant_q5_k((const block_q5_k *) block, y);
			break;
		case LLM_DTYPE_Q6_K:
			dequant_q6_k((const block_q6_k *) block, y);
			break;
	}
}

/*
 * Callers validate types and shapes when a model is loaded (a tensor whose
 * type fails llm_quant_supported or whose row length is not a multiple of
 * the block size is rejected there).  These functions are not where hostile
 * input is caught, but they still never read or write out of bounds:
 * an unsupported type or a partial trailing block yields zeros.
 */
void
llm_dequantize_row_scalar(uint32_t type, const void *row, float *dst, int64_t n)
{
	const uint8_t *bytes = row;
	const llm_dtype_info *info;
	int64_t		nblocks;

	if (n <= 0)
		return;
	if (!llm_quant_supported(type))
	{
		memset(dst, 0, (size_t) n * sizeof(float));
		return;
	}

	switch (type)
	{
		case LLM_DTYPE_F32:
			memcpy(dst, row, (size_t) n * sizeof(float));
			return;
		case LLM_DTYPE_F16:
			for (int64_t i = 0; i < n; i++)
				dst[i] = llm_fp16_to_fp32(read_u16le(bytes + 2 * i));
			return;
		case LLM_DTYPE_BF16:
			for (int64_t i = 0; i < n; i++)
				dst[i] = llm_bf16_to_fp32(read_u16le(bytes + 2 * i));
			return;
	}

	info = llm_dtype_get(type);
	nblocks = n / info->block_elems;
	for (int64_t b = 0; b < nblocks; b++)
		dequant_block(type, bytes + b * info->block_bytes,
					  dst + b * info->block_elems);
	if (nblocks * info->block_elems < n)
		memset(dst + nblocks * info->block_elems, 0,
			   (size_t) (n - nblocks * info->block_elems) * sizeof(float));
}

/* ---------------------------------------------------------------------
 * Dot products: sum_i w[i] * x[i] with w the dequantised row.  Each block
 * type accumulates its integer-valued q's times x in float, then applies
 * the block's scale (and offset, times sum x) once.
 * ---------------------------------------------------------------------
 */

static float
dot_q4_0(const block_q4_0 *b, const float *x)
{
	float		sum = 0.0f;

	for (int j = 0; j < QK32 / 2; j++)
		sum += (float) ((b->qs[j] & 0x0f) - 8) * x[j] +
			(float) ((b->qs[j] >> 4) - 8) * x[j + QK32 / 2];
	return half_at(b->d) * sum;
}

static float
dot_q4_1(const block_q4_1 *b, const float *x)
{
	float		qx = 0.0f;
	float		xsum = 0.0f;

	for (int j = 0; j < QK32 / 2; j++)
	{
		qx += (float) (b->qs[j] & 0x0f) * x[j] +
			(float) (b->qs[j] >> 4) * x[j + QK32 / 2];
		xsum += x[j] + x[j + QK32 / 2];
	}
	return half_at(b->d) * qx + half_at(b->m) * xsum;
}

static float
dot_q5_0(const block_q5_0 *b, const float *x)
{
	int			q[QK32];
	float		sum = 0.0f;

	unpack_q5(b->qh, b->qs, q);
	for (int j = 0; j < QK32; j++)
		sum += (float) (q[j] - 16) * x[j];
	return half_at(b->d) * sum;
}

static float
dot_q5_1(const block_q5_1 *b, const float *x)
{
	int			q[QK32];
	float		qx = 0.0f;
	float		xsum = 0.0f;

	unpack_q5(b->qh, b->qs, q);
	for (int j = 0; j < QK32; j++)
	{
		qx += (float) q[j] * x[j];
		xsum += x[j];
	}
	return half_at(b->d) * qx + half_at(b->m) * xsum;
}

static float
dot_q8_0(const block_q8_0 *b, const float *x)
{
	float		sum = 0.0f;

	for (int j = 0; j < QK32; j++)
		sum += (float) byte_as_int8(b->qs[j]) * x[j];
	return half_at(b->d) * sum;
}

static float
dot_q4_k(const block_q4_k *b, const float *x)
{
	const float d = half_at(b->d);
	const float dmin = half_at(b->dmin);
	float		sum = 0.0f;

	for (int s = 0; s < QK_K / 32; s++)
	{
		const float *xs = x + s * 32;
		int			sc,
					m;
		float		qx = 0.0f;
		float		xsum = 0.0f;

		k_scale_min(b->scales, s, &sc, &m);
		for (int l = 0; l < 32; l++)
		{
			qx += (float) k_nibble(b->qs, s, l) * xs[l];
			xsum += xs[l];
		}
		sum += d * (float) sc * qx - dmin * (float) m * xsum;
	}
	return sum;
}

static float
dot_q5_k(const block_q5_k *b, const float *x)
{
	const float d = half_at(b->d);
	const float dmin = half_at(b->dmin);
	float		sum = 0.0f;

	for (int s = 0; s < QK_K / 32; s++)
	{
		const float *xs = x + s * 32;
		int			sc,
					m;
		float		qx = 0.0f;
		float		xsum = 0.0f;

		k_scale_min(b->scales, s, &sc, &m);
		for (int l = 0; l < 32; l++)
		{
			int			q = k_nibble(b->qs, s, l) | (((b->qh[l] >> s) & 1) << 4);

			qx += (float) q * xs[l];
			xsum += xs[l];
		}
		sum += d * (float) sc * qx - dmin * (float) m * xsum;
	}
	return sum;
}

static float
dot_q6_k(const block_q6_k *b, const float *x)
{
	const float d = half_at(b->d);
	float		sum = 0.0f;

	for (int g = 0; g < QK_K / 16; g++)
	{
		float		qx = 0.0f;

		for (int l = 0; l < 16; l++)
			qx += (float) (q6_value(b, g * 16 + l) - 32) * x[g * 16 + l];
		sum += d * (float) byte_as_int8(b->scales[g]) * qx;
	}
	return sum;
}

static float
dot_block(uint32_t type, const uint8_t *block, const float *x)
{
	switch (type)
	{
		case LLM_DTYPE_Q4_0:
			return dot_q4_0((const block_q4_0 *) block, x);
		case LLM_DTYPE_Q4_1:
			return dot_q4_1((const block_q4_1 *) block, x);
		case LLM_DTYPE_Q5_0:
			return dot_q5_0((const block_q5_0 *) block, x);
		case LLM_DTYPE_Q5_1:
			return dot_q5_1((const block_q5_1 *) block, x);
		case LLM_DTYPE_Q8_0:
			return dot_q8_0((const block_q8_0 *) block, x);
		case LLM_DTYPE_Q4_K:
			return dot_q4_k((const block_q4_k *) block, x);
		case LLM_DTYPE_Q5_K:
			return dot_q5_k((const block_q5_k *) block, x);
		case LLM_DTYPE_Q6_K:
			return dot_q6_k((const block_q6_k *) block, x);
	}
	return 0.0f;
}

float
llm_vec_dot_scalar(uint32_t type, const void *row, const float *x, int64_t n)
{
	const uint8_t *bytes = row;
	const llm_dtype_info *info;
	int64_t		nblocks;
	float		sum = 0.0f;

	if (n <= 0 || !llm_quant_supported(type))
		return 0.0f;

	switch (type)
	{
		case LLM_DTYPE_F32:
			for (int64_t i = 0; i < n; i++)
			{
				float		w;

				memcpy(&w, bytes + 4 * i, sizeof(w));
				sum += w * x[i];
			}
			return sum;
		case LLM_DTYPE_F16:
			for (int64_t i = 0; i < n; i++)
				sum += llm_fp16_to_fp32(read_u16le(bytes + 2 * i)) * x[i];
			return sum;
		case LLM_DTYPE_BF16:
			for (int64_t i = 0; i < n; i++)
				sum += llm_bf16_to_fp32(read_u16le(bytes + 2 * i)) * x[i];
			return sum;
	}

	/* a partial trailing block (rejected at load time) contributes nothing */
	info = llm_dtype_get(type);
	nblocks = n / info->block_elems;
	for (int64_t b = 0; b < nblocks; b++)
		sum += dot_block(type, bytes + b * info->block_bytes,
						 x + b * info->block_elems);
	return sum;
}

/* ---------------------------------------------------------------------
 * Kernel dispatch
 * ---------------------------------------------------------------------
 */

/*
 * The kernel set, chosen once per process by choose_kernels under
 * pthread_once (concurrent first callers wait for it) and read-only after.
 */
static llm_quant_kernels kernels;
static pthread_once_t kernels_once = PTHREAD_ONCE_INIT;

static bool
force_scalar(void)
{
	const char *value = getenv("LLM_FORCE_SCALAR");

	return value != NULL && value[0] != '\0' && strcmp(value, "0") != 0;
}

#if defined(__x86_64__)
/*
 * F16C by CPUID (leaf 1, ECX bit 29): clang's __builtin_cpu_supports does
 * not know "f16c".  Its registers are the YMM state that the AVX2 check
 * already found the OS saves.
 */
static bool
cpu_has_f16c(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return false;
	return (ecx & (1u << 29)) != 0;
}
#endif

static void
choose_kernels(void)
{
	memset(&kernels, 0, sizeof(kernels));
	kernels.name = "scalar";
	if (force_scalar())
		return;
#if defined(__x86_64__)

	/*
	 * The checks include the OS side: libgcc and compiler-rt report AVX2
	 * only when XGETBV says the OS saves YMM state.  __builtin_cpu_init is
	 * needed only before constructors run, but is harmless and makes this
	 * safe from any caller.
	 */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		cpu_has_f16c())
		llm_quant_avx2_kernels(&kernels);
#endif
}

static inline const llm_quant_kernels *
get_kernels(void)
{
	pthread_once(&kernels_once, choose_kernels);
	return &kernels;
}

const char *
llm_quant_kernel_name(void)
{
	return get_kernels()->name;
}

const char *
llm_quant_kernel_for(uint32_t type)
{
	const llm_quant_kernels *k = get_kernels();

	if (type < LLM_DTYPE_MAX && k->vec_dot[type] != NULL)
		return k->name;
	return "scalar";
}

const char *
llm_quant_dequantize_kernel_for(uint32_t type)
{
	const llm_quant_kernels *k = get_kernels();

	if (type < LLM_DTYPE_MAX && k->dequantize[type] != NULL)
		return k->name;
	return "scalar";
}

void
llm_dequantize_row(uint32_t type, const void *row, float *dst, int64_t n)
{
	const llm_quant_kernels *k;
	const llm_dtype_info *info;
	int64_t		whole;

	if (n <= 0 || type >= LLM_DTYPE_MAX)
	{
		llm_dequantize_row_scalar(type, row, dst, n);
		return;
	}
	k = get_kernels();
	if (k->dequantize[type] == NULL)
	{
		llm_dequantize_row_scalar(type, row, dst, n);
		return;
	}

	/* kernels write whole blocks only; the scalar code zeroes a tail */
	info = llm_dtype_get(type);
	whole = n - n % info->block_elems;
	if (whole > 0)
		k->dequantize[type] (row, dst, whole);
	if (whole < n)
		memset(dst + whole, 0, (size_t) (n - whole) * sizeof(float));
}

float
llm_vec_dot(uint32_t type, const void *row, const float *x, int64_t n)
{
	const llm_quant_kernels *k;

	if (n <= 0 || type >= LLM_DTYPE_MAX)
		return 0.0f;
	k = get_kernels();
	if (k->vec_dot[type] != NULL)
		return k->vec_dot[type] (row, x, n);
	return llm_vec_dot_scalar(type, row, x, n);
}

/*
 * Activations rounded as llama.cpp rounds them, and the dot products with
 * them (quant_q8.c has the scalar reference).  Activation quantisers are
 * indexed by activation type, the dot products by weight type.  Every
 * kernel gives the scalar result bit for bit (test_quant checks).
 */
void
llm_quantize_act(uint32_t weight_type, const float *x, void *act, int64_t n)
{
	const llm_quant_kernels *k;
	uint32_t	act_type;

	if (n <= 0 || weight_type >= LLM_DTYPE_MAX)
		return;
	k = get_kernels();
	act_type = llm_act_type(weight_type);
	if (k->quantize_act[act_type] != NULL)
		k->quantize_act[act_type] (x, act, n);
	else
		llm_quantize_act_scalar(weight_type, x, act, n);
}

float
llm_vec_dot_act(uint32_t weight_type, const void *row, const void *act, int64_t n)
{
	const llm_quant_kernels *k;

	if (n <= 0 || weight_type >= LLM_DTYPE_MAX)
		return 0.0f;
	k = get_kernels();
	if (k->vec_dot_act[weight_type] != NULL)
		return k->vec_dot_act[weight_type] (row, act, n);
	switch (llm_act_type(weight_type))
	{
		case LLM_DTYPE_F32:
		case LLM_DTYPE_F16:
		case LLM_DTYPE_BF16:
			/* float activations: the ordinary float dot (SIMD if there is one) */
			return llm_vec_dot(weight_type, row, act, n);
	}
	return llm_vec_dot_act_scalar(weight_type, row, act, n);
}

const char *
llm_quant_act_kernel_for(uint32_t weight_type)
{
	const llm_quant_kernels *k = get_kernels();

	if (weight_type < LLM_DTYPE_MAX && k->vec_dot_act[weight_type] != NULL)
		return k->name;
	return "scalar";
}
