/*
 * quant_q8.c — activations rounded to 8-bit blocks, and integer dot
 * products of weight blocks with them: the scalar reference of what
 * llama.cpp's CPU backend (ggml, x86 AVX2 build) computes for a quantised
 * matrix product.  See quant.h ("Activations as llama.cpp rounds them").
 *
 * Facts from ggml (src/ggml-cpu/arch/x86/quants.c and ggml-quants.c), in our
 * own code:
 *
 * Q8_0 / Q8_1 (32 values): amax = max |x|; d = amax / 127; the multiplier
 * is 127 / amax (not 1 / d: the two differ in the last bit); each value is
 * x * (127 / amax) rounded to nearest, ties to even (AVX2 _mm256_round_ps),
 * saturated to int8.  d is stored as fp16.  Q8_1 also stores
 * s = fp16(d * sum(q)) with the unrounded d.
 *
 * Q8_K (256 values): ggml's x86 build uses the reference quantiser: the
 * value of largest magnitude (the first one, if several) is max;
 * iscale = -127 / max; q = nearest(iscale * x) (ties to even), at most
 * 127; d = 1 / iscale as f32 (so d < 0 when max > 0); bsums = sums of 16.
 *
 * Dot products.  ggml's AVX2 kernels multiply the int8 blocks into 8
 * int32 lanes, lane k holding the products of bytes 4k..4k+3 of each
 * 32-byte group of the block (for K-quants: summed over all groups of the
 * super-block, each times its integer sub-block scale).  Integer sums are
 * exact, so the order inside a lane does not matter.  Each block then adds
 * (float) lane[k] times the block's combined scale into float lane k with
 * one fused multiply-add, and the 8 lanes are summed at the end in a fixed
 * order (hsum8_ggml).  Offsets: Q4_1/Q5_1 add m_w * s_x per block into a
 * separate scalar sum (m_w * s_x, two halves, is exact in float); Q4_K keeps its mins in 4 float lanes, Q5_K in one
 * scalar sum, Q6_K subtracts 32 * sum(scale * bsum) in the integer lanes.
 * The code below does exactly that, with fmaf for the fused step, so the
 * AVX2 kernels (quant_avx2.c) can be tested for bit-identical results.
 */
#define LLM_QUANT_BLOCKS
#include "quant.h"

#include <math.h>
#include <string.h>

static inline float
half_at(const uint8_t *p)
{
	return llm_fp16_to_fp32((uint16_t) (p[0] | (p[1] << 8)));
}

static inline float
half_round(float f)
{
	return llm_fp16_to_fp32(llm_fp32_to_fp16(f));
}

static inline int
byte_as_int8(uint8_t b)
{
	return (int) b - ((b & 0x80) << 1);
}

/*
 * A float already rounded to an integer value, as an int8 the way AVX2's
 * convert-then-pack saturates it; NaN (converted to INT_MIN by the
 * hardware) becomes -128.  Never converts an out-of-range float (UB in C).
 */
static inline int8_t
saturate_int8(float v)
{
	if (!(v >= -128.0f))
		return -128;
	if (v > 127.0f)
		return 127;
	return (int8_t) v;
}

/* ---------------------------------------------------------------------
 * Quantisers
 * ---------------------------------------------------------------------
 */

/* One Q8_0/Q8_1 block; returns the (unrounded) d and sets *isum. */
static float
quantize_block_q8(const float *x, act_q8 *y, int *isum)
{
	float		amax = 0.0f;
	float		d,
				id;
	int			sum = 0;

	for (int j = 0; j < QK32; j++)
	{
		float		a = fabsf(x[j]);

		/* max_ps keeps the second operand on NaN; ignore NaN like it */
		if (a > amax)
			amax = a;
	}
	d = amax / 127.0f;
	id = amax != 0.0f ? 127.0f / amax : 0.0f;
	for (int j = 0; j < QK32; j++)
	{
		y->qs[j] = saturate_int8(nearbyintf(x[j] * id));
		sum += y->qs[j];
	}
	y->d = half_round(d);
	*isum = sum;
	return d;
}

static void
quantize_q8_0_scalar(const float *x, void *act, int64_t n)
{
	act_q8	   *y = act;

	for (int64_t b = 0; b < n / QK32; b++)
	{
		int			isum;

		quantize_block_q8(x + b * QK32, &y[b], &isum);
		y[b].s = 0.0f;
	}
}

static void
quantize_q8_1_scalar(const float *x, void *act, int64_t n)
{
	act_q8	   *y = act;

	for (int64_t b = 0; b < n / QK32; b++)
	{
		int			isum;
		float		d = quantize_block_q8(x + b * QK32, &y[b], &isum);

		y[b].s = half_round(d * (float) isum);
	}
}

/*
 * ggml's nearest_int: adding 1.5 * 2^23 leaves the integer part of v,
 * rounded to nearest even, in the low mantissa bits; valid for
 * |v| <= 2^22, and |iscale * x| <= 127 here (NaN gives garbage, not UB).
 */
static inline int
nearest_int(float v)
{
	float		f = v + 12582912.0f;
	int32_t		i;

	memcpy(&i, &f, sizeof(i));
	return (i & 0x007fffff) - 0x00400000;
}

static void
quantize_q8_k_block(const float *x, act_q8_k *y)
{
	float		max = 0.0f,
				amax = 0.0f,
				iscale;

	for (int j = 0; j < QK_K; j++)
	{
		float		a = fabsf(x[j]);

		if (a > amax)
		{
			amax = a;
			max = x[j];
		}
	}
	if (amax == 0.0f)
	{
		memset(y, 0, sizeof(*y));
		return;
	}
	iscale = -127.0f / max;
	for (int j = 0; j < QK_K; j++)
	{
		int			v = nearest_int(iscale * x[j]);

		y->qs[j] = (int8_t) (v > 127 ? 127 : (v < -128 ? -128 : v));
	}
	for (int g = 0; g < QK_K / 16; g++)
	{
		int			sum = 0;

		for (int j = 0; j < 16; j++)
			sum += y->qs[16 * g + j];
		y->bsums[g] = (int16_t) sum;
	}
	y->d = 1.0f / iscale;
}

static void
quantize_q8_k_scalar(const float *x, void *act, int64_t n)
{
	act_q8_k   *y = act;

	for (int64_t b = 0; b < n / QK_K; b++)
		quantize_q8_k_block(x + b * QK_K, &y[b]);
}

/* ---------------------------------------------------------------------
 * Dot products, legacy 32-value blocks.  q[32] holds the weight block's
 * integer values (offset already applied for Q4_0/Q5_0).
 * ---------------------------------------------------------------------
 */

static inline void
lanes32(const int *q, const int8_t *a, int lane[8])
{
	for (int k = 0; k < 8; k++)
		lane[k] = q[4 * k] * a[4 * k] + q[4 * k + 1] * a[4 * k + 1] +
			q[4 * k + 2] * a[4 * k + 2] + q[4 * k + 3] * a[4 * k + 3];
}

static inline void
acc_lanes(float acc[8], float d, const int lane[8])
{
	for (int k = 0; k < 8; k++)
		acc[k] = fmaf(d, (float) lane[k], acc[k]);
}

static void
unpack_nibbles(const uint8_t *qs, int *q, int offset)
{
	for (int j = 0; j < QK32 / 2; j++)
	{
		q[j] = (qs[j] & 0x0f) - offset;
		q[j + QK32 / 2] = (qs[j] >> 4) - offset;
	}
}

static void
add_fifth_bits(const uint8_t *qh_bytes, int *q)
{
	uint32_t	qh = (uint32_t) qh_bytes[0] | ((uint32_t) qh_bytes[1] << 8) |
		((uint32_t) qh_bytes[2] << 16) | ((uint32_t) qh_bytes[3] << 24);

	for (int j = 0; j < QK32; j++)
		q[j] += (int) ((qh >> j) & 1) << 4;
}

static float
dot_q4_0_q8_0(const void *row, const void *act, int64_t n)
{
	const block_q4_0 *w = row;
	const act_q8 *a = act;
	float		acc[8] = {0};

	for (int64_t b = 0; b < n / QK32; b++)
	{
		int			q[QK32],
					lane[8];

		unpack_nibbles(w[b].qs, q, 8);
		lanes32(q, a[b].qs, lane);
		acc_lanes(acc, half_at(w[b].d) * a[b].d, lane);
	}
	return hsum8_ggml(acc);
}

static float
dot_q5_0_q8_0(const void *row, const void *act, int64_t n)
{
	const block_q5_0 *w = row;
	const act_q8 *a = act;
	float		acc[8] = {0};

	for (int64_t b = 0; b < n / QK32; b++)
	{
		int			q[QK32],
					lane[8];

		unpack_nibbles(w[b].qs, q, 0);
		add_fifth_bits(w[b].qh, q);
		for (int j = 0; j < QK32; j++)
			q[j] -= 16;
		lanes32(q, a[b].qs, lane);
		acc_lanes(acc, half_at(w[b].d) * a[b].d, lane);
	}
	return hsum8_ggml(acc);
}

static float
dot_q8_0_q8_0(const void *row, const void *act, int64_t n)
{
	const block_q8_0 *w = row;
	const act_q8 *a = act;
	float		acc[8] = {0};

	for (int64_t b = 0; b < n / QK32; b++)
	{
		int			q[QK32],
					lane[8];

		for (int j = 0; j < QK32; j++)
			q[j] = byte_as_int8(w[b].qs[j]);
		lanes32(q, a[b].qs, lane);
		acc_lanes(acc, half_at(w[b].d) * a[b].d, lane);
	}
	return hsum8_ggml(acc);
}

static float
dot_q4_1_q8_1(const void *row, const void *act, int64_t n)
{
	const block_q4_1 *w = row;
	const act_q8 *a = act;
	float		acc[8] = {0};
	float		summs = 0.0f;

	for (int64_t b = 0; b < n / QK32; b++)
	{
		int			q[QK32],
					lane[8];
		float		ms = half_at(w[b].m) * a[b].s;

		summs += ms;
		unpack_nibbles(w[b].qs, q, 0);
		lanes32(q, a[b].qs, lane);
		acc_lanes(acc, half_at(w[b].d) * a[b].d, lane);
	}
	return hsum8_ggml(acc) + summs;
}

static float
dot_q5_1_q8_1(const void *row, const void *act, int64_t n)
{
	const block_q5_1 *w = row;
	const act_q8 *a = act;
	float		acc[8] = {0};
	float		summs = 0.0f;

	for (int64_t b = 0; b < n / QK32; b++)
	{
		int			q[QK32],
					lane[8];
		float		ms = half_at(w[b].m) * a[b].s;

		summs += ms;
		unpack_nibbles(w[b].qs, q, 0);
		add_fifth_bits(w[b].qh, q);
		lanes32(q, a[b].qs, lane);
		acc_lanes(acc, half_at(w[b].d) * a[b].d, lane);
	}
	return hsum8_ggml(acc) + summs;
}

/* ---------------------------------------------------------------------
 * Dot products, K-quants with Q8_K activations.  lane[k] collects, over
 * the super-block, scale(i) * q[i] * a[i] for every i with (i % 32) / 4 == k.
 * ---------------------------------------------------------------------
 */

static inline int
k_nibble(const uint8_t *qs, int s, int l)
{
	uint8_t		byte = qs[(s / 2) * 32 + l];

	return (s & 1) ? (byte >> 4) : (byte & 0x0f);
}

/* Q4_K (qh == NULL) and Q5_K */
static void
k45_lanes(const uint8_t *scales, const uint8_t *qh, const uint8_t *qs,
		  const int8_t *a, int lane[8])
{
	memset(lane, 0, 8 * sizeof(int));
	for (int s = 0; s < QK_K / 32; s++)
	{
		int			sc,
					m;

		k_scale_min(scales, s, &sc, &m);
		for (int l = 0; l < 32; l++)
		{
			int			q = k_nibble(qs, s, l);

			if (qh != NULL)
				q |= ((qh[l] >> s) & 1) << 4;
			lane[l / 4] += sc * q * a[32 * s + l];
		}
	}
}

/* sum over sub-block pairs: prod[j] = m[2j]*S[2j] + m[2j+1]*S[2j+1], S = 32-sums */
static void
k45_min_prods(const uint8_t *scales, const int16_t *bsums, int prod[4])
{
	for (int j = 0; j < 4; j++)
	{
		prod[j] = 0;
		for (int t = 0; t < 2; t++)
		{
			int			s = 2 * j + t,
						sc,
						m;

			k_scale_min(scales, s, &sc, &m);
			prod[j] += m * (bsums[2 * s] + bsums[2 * s + 1]);
		}
	}
}

static float
dot_q4_k_q8_k(const void *row, const void *act, int64_t n)
{
	const block_q4_k *w = row;
	const act_q8_k *a = act;
	float		acc[8] = {0};
	float		acc_m[4] = {0};

	for (int64_t b = 0; b < n / QK_K; b++)
	{
		const float d = a[b].d * half_at(w[b].d);
		const float dmin = -a[b].d * half_at(w[b].dmin);
		int			lane[8],
					prod[4];

		k45_min_prods(w[b].scales, a[b].bsums, prod);
		for (int j = 0; j < 4; j++)
			acc_m[j] = fmaf(dmin, (float) prod[j], acc_m[j]);
		k45_lanes(w[b].scales, NULL, w[b].qs, a[b].qs, lane);
		acc_lanes(acc, d, lane);
	}
	return hsum8_ggml(acc) + ((acc_m[0] + acc_m[2]) + (acc_m[1] + acc_m[3]));
}

static float
dot_q5_k_q8_k(const void *row, const void *act, int64_t n)
{
	const block_q5_k *w = row;
	const act_q8_k *a = act;
	float		acc[8] = {0};
	float		summs = 0.0f;

	for (int64_t b = 0; b < n / QK_K; b++)
	{
		const float d = a[b].d * half_at(w[b].d);
		const float dmin = -a[b].d * half_at(w[b].dmin);
		int			lane[8],
					prod[4];

		/* ggml's build fuses this multiply-add (measured: bit-exact only so) */
		k45_min_prods(w[b].scales, a[b].bsums, prod);
		summs = fmaf(dmin, (float) (prod[0] + prod[1] + prod[2] + prod[3]), summs);
		k45_lanes(w[b].scales, w[b].qh, w[b].qs, a[b].qs, lane);
		acc_lanes(acc, d, lane);
	}
	return hsum8_ggml(acc) + summs;
}

/* The 6-bit q (0..63) of value i of a Q6_K block (see quant.c). */
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

static float
dot_q6_k_q8_k(const void *row, const void *act, int64_t n)
{
	const block_q6_k *w = row;
	const act_q8_k *a = act;
	float		acc[8] = {0};

	for (int64_t b = 0; b < n / QK_K; b++)
	{
		const float d = a[b].d * half_at(w[b].d);
		int			lane[8] = {0};

		for (int i = 0; i < QK_K; i++)
			lane[(i % 32) / 4] += byte_as_int8(w[b].scales[i / 16]) *
				q6_value(&w[b], i) * a[b].qs[i];
		/* the -32 offset, through the 16-sums: lane k takes groups 2k, 2k+1 */
		for (int k = 0; k < 8; k++)
			lane[k] -= 32 * (a[b].bsums[2 * k] * byte_as_int8(w[b].scales[2 * k]) +
							 a[b].bsums[2 * k + 1] * byte_as_int8(w[b].scales[2 * k + 1]));
		acc_lanes(acc, d, lane);
	}
	return hsum8_ggml(acc);
}

/* ---------------------------------------------------------------------
 * Entry points (scalar; quant.c dispatches to faster kernels)
 * ---------------------------------------------------------------------
 */

uint32_t
llm_act_type(uint32_t weight_type)
{
	switch (weight_type)
	{
		case LLM_DTYPE_Q4_0:
		case LLM_DTYPE_Q5_0:
		case LLM_DTYPE_Q8_0:
			return LLM_DTYPE_Q8_0;
		case LLM_DTYPE_Q4_1:
		case LLM_DTYPE_Q5_1:
			return LLM_DTYPE_Q8_1;
		case LLM_DTYPE_Q4_K:
		case LLM_DTYPE_Q5_K:
		case LLM_DTYPE_Q6_K:
			return LLM_DTYPE_Q8_K;
		case LLM_DTYPE_F16:
			return LLM_DTYPE_F16;
		case LLM_DTYPE_BF16:
			return LLM_DTYPE_BF16;
		default:
			return LLM_DTYPE_F32;
	}
}

size_t
llm_act_row_bytes(uint32_t weight_type, int64_t n)
{
	if (n <= 0)
		return 0;
	switch (llm_act_type(weight_type))
	{
		case LLM_DTYPE_Q8_0:
		case LLM_DTYPE_Q8_1:
			return (size_t) (n / QK32) * sizeof(act_q8);
		case LLM_DTYPE_Q8_K:
			return (size_t) (n / QK_K) * sizeof(act_q8_k);
		default:
			/* F32, F16, BF16: floats (the latter two rounded) */
			return (size_t) n * sizeof(float);
	}
}

void
llm_quantize_act_scalar(uint32_t weight_type, const float *x, void *act, int64_t n)
{
	float	   *out = act;

	if (n <= 0)
		return;
	switch (llm_act_type(weight_type))
	{
		case LLM_DTYPE_Q8_0:
			quantize_q8_0_scalar(x, act, n);
			return;
		case LLM_DTYPE_Q8_1:
			quantize_q8_1_scalar(x, act, n);
			return;
		case LLM_DTYPE_Q8_K:
			quantize_q8_k_scalar(x, act, n);
			return;
		case LLM_DTYPE_F16:
			for (int64_t i = 0; i < n; i++)
				out[i] = llm_fp16_to_fp32(llm_fp32_to_fp16(x[i]));
			return;
		case LLM_DTYPE_BF16:
			for (int64_t i = 0; i < n; i++)
				out[i] = llm_bf16_to_fp32(llm_fp32_to_bf16(x[i]));
			return;
		default:
			memcpy(out, x, (size_t) n * sizeof(float));
			return;
	}
}

float
llm_vec_dot_act_scalar(uint32_t weight_type, const void *row, const void *act, int64_t n)
{
	if (n <= 0)
		return 0.0f;
	switch (weight_type)
	{
		case LLM_DTYPE_Q4_0:
			return dot_q4_0_q8_0(row, act, n);
		case LLM_DTYPE_Q5_0:
			return dot_q5_0_q8_0(row, act, n);
		case LLM_DTYPE_Q8_0:
			return dot_q8_0_q8_0(row, act, n);
		case LLM_DTYPE_Q4_1:
			return dot_q4_1_q8_1(row, act, n);
		case LLM_DTYPE_Q5_1:
			return dot_q5_1_q8_1(row, act, n);
		case LLM_DTYPE_Q4_K:
			return dot_q4_k_q8_k(row, act, n);
		case LLM_DTYPE_Q5_K:
			return dot_q5_k_q8_k(row, act, n);
		case LLM_DTYPE_Q6_K:
			return dot_q6_k_q8_k(row, act, n);
		default:
			/* F32, F16, BF16: the float dot with the (rounded) activations */
			return llm_vec_dot_scalar(weight_type, row, act, n);
	}
}
