/*
 * quant_avx2.c — dot products and dequantisation with AVX2, FMA and F16C.
 *
 * Only these functions use the extensions, through per-function target
 * attributes: the file is compiled with the same flags as the rest of the
 * engine (no -march), so the library still loads and runs on any x86-64,
 * and quant.c calls in here only after checking the CPU at run time.  On
 * other architectures the file compiles to nothing.
 *
 * Every kernel computes what its scalar counterpart in quant.c computes,
 * eight lanes at a time:
 *  - dot products keep the scalar code's factoring: each block's (or
 *    sub-block's) integer q's are converted to float and multiplied with x
 *    into an 8-lane partial sum, which is then scaled by the block's d (and
 *    the block offset times the block's sum of x added).  The summation
 *    order differs from the scalar loop, so results differ by rounding only;
 *    test_quant holds them to the scalar results within
 *    2e-6 * (sum of the magnitudes of the terms).
 *  - dequantisation uses the scalar formulas in the same order, and each
 *    result is a single rounding of an exact product or sum (see quant.c's
 *    header comment), so it is bit-identical to the scalar code — fused or
 *    not.
 *
 * Quant bytes are widened to 32-bit lanes straight from memory
 * (vpmovzxbd/vpmovsxbd on 8-byte loads); every load is unaligned-safe, as
 * rows and blocks sit at any address.  Halves are read with F16C, which
 * converts exactly (NaN made quiet, as llm_fp16_to_fp32 does).
 */
#if defined(__x86_64__)

#define LLM_QUANT_BLOCKS
#include "quant.h"

#include <immintrin.h>
#include <string.h>

#define AVX2_FN __attribute__((target("avx2,fma,f16c")))

/* ---------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------
 */

static inline AVX2_FN float
half_at(const uint8_t *p)
{
	return _cvtsh_ss((unsigned short) (p[0] | (p[1] << 8)));
}

/* sum of the 8 lanes */
static inline AVX2_FN float
hsum(__m256 v)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(v),
							   _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* 8 bytes at p, zero- or sign-extended to 32-bit lanes */
static inline AVX2_FN __m256i
load8_u8(const uint8_t *p)
{
	return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) p));
}

static inline AVX2_FN __m256i
load8_i8(const uint8_t *p)
{
	return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *) p));
}

/*
 * The 5th bits of 8 elements of a Q5 block, as 0 or 16 per lane: bit k of
 * qh8 goes to lane k.
 */
static inline AVX2_FN __m256i
q5_high_bits(uint32_t qh8)
{
	const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
	__m256i		bits = _mm256_and_si256(_mm256_set1_epi32((int) qh8), lane_bit);

	bits = _mm256_cmpeq_epi32(bits, lane_bit);
	return _mm256_and_si256(bits, _mm256_set1_epi32(16));
}

static inline uint32_t
read_u32le(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

/*
 * The 32 q's of a legacy block whose low 4 bits are the nibbles of qs[16]
 * (element j low nibble of qs[j], element j+16 high nibble), as four
 * 8-lane int vectors for elements 0-7, 8-15, 16-23, 24-31.
 */
static inline AVX2_FN void
nibbles32(const uint8_t *qs, __m256i q[4])
{
	const __m256i low4 = _mm256_set1_epi32(0x0f);
	__m256i		b0 = load8_u8(qs);
	__m256i		b1 = load8_u8(qs + 8);

	q[0] = _mm256_and_si256(b0, low4);
	q[1] = _mm256_and_si256(b1, low4);
	q[2] = _mm256_srli_epi32(b0, 4);
	q[3] = _mm256_srli_epi32(b1, 4);
}

/* Add the 5th bits (qh, little-endian u32, bit j for element j) to q[4]. */
static inline AVX2_FN void
add_q5_bits(const uint8_t *qh_bytes, __m256i q[4])
{
	uint32_t	qh = read_u32le(qh_bytes);

	for (int k = 0; k < 4; k++)
		q[k] = _mm256_or_si256(q[k], q5_high_bits((qh >> (8 * k)) & 0xff));
}

/* sum_k q[k] * x[8k..8k+7], lane-wise (8 partial sums) */
static inline AVX2_FN __m256
qx32(const __m256i q[4], const float *x)
{
	__m256		a = _mm256_mul_ps(_mm256_cvtepi32_ps(q[0]), _mm256_loadu_ps(x));
	__m256		b = _mm256_mul_ps(_mm256_cvtepi32_ps(q[1]), _mm256_loadu_ps(x + 8));

	a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[2]), _mm256_loadu_ps(x + 16), a);
	b = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[3]), _mm256_loadu_ps(x + 24), b);
	return _mm256_add_ps(a, b);
}

/* x[0..31] summed lane-wise */
static inline AVX2_FN __m256
xsum32(const float *x)
{
	return _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8)),
						 _mm256_add_ps(_mm256_loadu_ps(x + 16), _mm256_loadu_ps(x + 24)));
}

/* ---------------------------------------------------------------------
 * Dot products with f32 activations
 * ---------------------------------------------------------------------
 */

static AVX2_FN float
dot_q4_0_avx2(const void *row, const float *x, int64_t n)
{
	const block_q4_0 *b = row;
	const __m256i eight = _mm256_set1_epi32(8);
	__m256		acc = _mm256_setzero_ps();

	for (int64_t i = 0; i < n / QK32; i++, b++, x += QK32)
	{
		__m256i		q[4];

		nibbles32(b->qs, q);
		for (int k = 0; k < 4; k++)
			q[k] = _mm256_sub_epi32(q[k], eight);
		acc = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b->d)), qx32(q, x), acc);
	}
	return hsum(acc);
}

static AVX2_FN float
dot_q4_1_avx2(const void *row, const float *x, int64_t n)
{
	const block_q4_1 *b = row;
	__m256		acc_d = _mm256_setzero_ps();
	__m256		acc_m = _mm256_setzero_ps();

	/* d * sum q*x + m * sum x, per block */
	for (int64_t i = 0; i < n / QK32; i++, b++, x += QK32)
	{
		__m256i		q[4];

		nibbles32(b->qs, q);
		acc_d = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b->d)), qx32(q, x), acc_d);
		acc_m = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b->m)), xsum32(x), acc_m);
	}
	return hsum(_mm256_add_ps(acc_d, acc_m));
}

static AVX2_FN float
dot_q5_0_avx2(const void *row, const float *x, int64_t n)
{
	const block_q5_0 *b = row;
	const __m256i sixteen = _mm256_set1_epi32(16);
	__m256		acc = _mm256_setzero_ps();

	for (int64_t i = 0; i < n / QK32; i++, b++, x += QK32)
	{
		__m256i		q[4];

		nibbles32(b->qs, q);
		add_q5_bits(b->qh, q);
		for (int k = 0; k < 4; k++)
			q[k] = _mm256_sub_epi32(q[k], sixteen);
		acc = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b->d)), qx32(q, x), acc);
	}
	return hsum(acc);
}

static AVX2_FN float
dot_q5_1_avx2(const void *row, const float *x, int64_t n)
{
	const block_q5_1 *b = row;
	__m256		acc_d = _mm256_setzero_ps();
	__m256		acc_m = _mm256_setzero_ps();

	for (int64_t i = 0; i < n / QK32; i++, b++, x += QK32)
	{
		__m256i		q[4];

		nibbles32(b->qs, q);
		add_q5_bits(b->qh, q);
		acc_d = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b->d)), qx32(q, x), acc_d);
		acc_m = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b->m)), xsum32(x), acc_m);
	}
	return hsum(_mm256_add_ps(acc_d, acc_m));
}

static AVX2_FN float
dot_q8_0_avx2(const void *row, const float *x, int64_t n)
{
	const block_q8_0 *b = row;
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	int64_t		nb = n / QK32;
	int64_t		i;

	/* two accumulators: the scale FMA chain is the loop's only dependency */
	for (i = 0; i + 1 < nb; i += 2, b += 2, x += 2 * QK32)
	{
		__m256i		q[4];

		for (int k = 0; k < 4; k++)
			q[k] = load8_i8(b[0].qs + 8 * k);
		acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b[0].d)), qx32(q, x), acc0);
		for (int k = 0; k < 4; k++)
			q[k] = load8_i8(b[1].qs + 8 * k);
		acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b[1].d)), qx32(q, x + QK32), acc1);
	}
	if (i < nb)
	{
		__m256i		q[4];

		for (int k = 0; k < 4; k++)
			q[k] = load8_i8(b->qs + 8 * k);
		acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_at(b->d)), qx32(q, x), acc0);
	}
	return hsum(_mm256_add_ps(acc0, acc1));
}

/*
 * Q4_K and Q5_K: chunk c (32 bytes of qs) holds sub-block 2c in its low
 * nibbles and 2c+1 in its high nibbles.  Q5_K's 5th bit of element l of
 * sub-block s is bit s of qh[l]; h[k] holds qh[8k..8k+7] widened to lanes
 * (NULL for Q4_K).  lo[k], hi[k]: elements 8k..8k+7 of sub-blocks 2c, 2c+1.
 */
static inline AVX2_FN void
k_chunk_q(const uint8_t *qs, const __m256i *h, int c, __m256i lo[4], __m256i hi[4])
{
	const __m256i low4 = _mm256_set1_epi32(0x0f);
	const __m256i sixteen = _mm256_set1_epi32(16);

	for (int k = 0; k < 4; k++)
	{
		__m256i		bytes = load8_u8(qs + 32 * c + 8 * k);

		lo[k] = _mm256_and_si256(bytes, low4);
		hi[k] = _mm256_srli_epi32(bytes, 4);
	}
	if (h != NULL)
	{
		const __m256i bit_lo = _mm256_set1_epi32(1 << (2 * c));
		const __m256i bit_hi = _mm256_set1_epi32(2 << (2 * c));

		for (int k = 0; k < 4; k++)
		{
			__m256i		t_lo = _mm256_cmpeq_epi32(_mm256_and_si256(h[k], bit_lo), bit_lo);
			__m256i		t_hi = _mm256_cmpeq_epi32(_mm256_and_si256(h[k], bit_hi), bit_hi);

			lo[k] = _mm256_or_si256(lo[k], _mm256_and_si256(t_lo, sixteen));
			hi[k] = _mm256_or_si256(hi[k], _mm256_and_si256(t_hi, sixteen));
		}
	}
}

/* qh[0..31] of a Q5_K block widened to 8-lane vectors */
static inline AVX2_FN void
k5_high_bytes(const uint8_t *qh, __m256i h[4])
{
	for (int k = 0; k < 4; k++)
		h[k] = load8_u8(qh + 8 * k);
}

/*
 * One Q4_K/Q5_K super-block: each sub-block adds
 * (d*sc) * sum q*x - (dmin*m) * sum x.
 */
static inline AVX2_FN float
dot_k4_or_k5(const uint8_t *d_dmin, const uint8_t *scales, const uint8_t *qh,
			 const uint8_t *qs, const float *x)
{
	const float d = half_at(d_dmin);
	const float dmin = half_at(d_dmin + 2);
	__m256		acc_d = _mm256_setzero_ps();
	__m256		acc_m = _mm256_setzero_ps();
	__m256i		h[4];

	if (qh != NULL)
		k5_high_bytes(qh, h);
	for (int c = 0; c < 4; c++)
	{
		const float *xc = x + 64 * c;
		__m256i		lo[4],
					hi[4];
		int			sc_lo,
					m_lo,
					sc_hi,
					m_hi;

		k_chunk_q(qs, qh != NULL ? h : NULL, c, lo, hi);
		k_scale_min(scales, 2 * c, &sc_lo, &m_lo);
		k_scale_min(scales, 2 * c + 1, &sc_hi, &m_hi);
		acc_d = _mm256_fmadd_ps(_mm256_set1_ps(d * (float) sc_lo), qx32(lo, xc), acc_d);
		acc_d = _mm256_fmadd_ps(_mm256_set1_ps(d * (float) sc_hi), qx32(hi, xc + 32), acc_d);
		acc_m = _mm256_fmadd_ps(_mm256_set1_ps(dmin * (float) m_lo), xsum32(xc), acc_m);
		acc_m = _mm256_fmadd_ps(_mm256_set1_ps(dmin * (float) m_hi), xsum32(xc + 32), acc_m);
	}
	return hsum(_mm256_sub_ps(acc_d, acc_m));
}

static AVX2_FN float
dot_q4_k_avx2(const void *row, const float *x, int64_t n)
{
	const block_q4_k *b = row;
	float		sum = 0.0f;

	for (int64_t i = 0; i < n / QK_K; i++, b++, x += QK_K)
		sum += dot_k4_or_k5(b->d, b->scales, NULL, b->qs, x);
	return sum;
}

static AVX2_FN float
dot_q5_k_avx2(const void *row, const float *x, int64_t n)
{
	const block_q5_k *b = row;
	float		sum = 0.0f;

	for (int64_t i = 0; i < n / QK_K; i++, b++, x += QK_K)
		sum += dot_k4_or_k5(b->d, b->scales, b->qh, b->qs, x);
	return sum;
}

/*
 * Q6_K: per half (128 values) and position l (0..31), quarter k of the half
 * (values 32k + l) takes its low 4 bits from ql[l + 32*(k&1)] (low nibble
 * for k < 2, high for k >= 2) and its top 2 bits from bits 2k..2k+1 of
 * qh[l]; group of 16 = 8*half + 2k + l/16 gives the scale.
 *
 * q6_quarters: q - 32 of positions l..l+7 of all four quarters of a half
 * whose ql and qh start at ql, qh.
 */
static inline AVX2_FN void
q6_quarters(const uint8_t *ql, const uint8_t *qh, int l, __m256i q[4])
{
	const __m256i low4 = _mm256_set1_epi32(0x0f);
	const __m256i bits45 = _mm256_set1_epi32(0x30);
	const __m256i thirty_two = _mm256_set1_epi32(32);
	__m256i		a = load8_u8(ql + l);
	__m256i		c = load8_u8(ql + 32 + l);
	__m256i		hb = load8_u8(qh + l);

	q[0] = _mm256_or_si256(_mm256_and_si256(a, low4),
						   _mm256_and_si256(_mm256_slli_epi32(hb, 4), bits45));
	q[1] = _mm256_or_si256(_mm256_and_si256(c, low4),
						   _mm256_and_si256(_mm256_slli_epi32(hb, 2), bits45));
	q[2] = _mm256_or_si256(_mm256_srli_epi32(a, 4),
						   _mm256_and_si256(hb, bits45));
	q[3] = _mm256_or_si256(_mm256_srli_epi32(c, 4),
						   _mm256_and_si256(_mm256_srli_epi32(hb, 2), bits45));
	for (int k = 0; k < 4; k++)
		q[k] = _mm256_sub_epi32(q[k], thirty_two);
}

static inline int
int8_at(const uint8_t *p)
{
	return (int) *p - ((*p & 0x80) << 1);
}

static AVX2_FN float
dot_q6_k_avx2(const void *row, const float *x, int64_t n)
{
	const block_q6_k *b = row;
	__m256		acc = _mm256_setzero_ps();

	for (int64_t i = 0; i < n / QK_K; i++, b++, x += QK_K)
	{
		const float d = half_at(b->d);

		for (int half = 0; half < 2; half++)
		{
			const uint8_t *ql = b->ql + 64 * half;
			const uint8_t *qh = b->qh + 32 * half;
			const uint8_t *sc = b->scales + 8 * half;
			const float *xh = x + 128 * half;

			/* l = 16*g16 .. 16*g16+15 share one scale per quarter */
			for (int g16 = 0; g16 < 2; g16++)
			{
				int			l = 16 * g16;
				__m256i		q0[4],
							q1[4];

				q6_quarters(ql, qh, l, q0);
				q6_quarters(ql, qh, l + 8, q1);
				for (int k = 0; k < 4; k++)
				{
					__m256		qx = _mm256_mul_ps(_mm256_cvtepi32_ps(q0[k]),
												   _mm256_loadu_ps(xh + 32 * k + l));

					qx = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q1[k]),
										 _mm256_loadu_ps(xh + 32 * k + l + 8), qx);
					acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float) int8_at(sc + 2 * k + g16)),
										  qx, acc);
				}
			}
		}
	}
	return hsum(acc);
}

/*
 * Float rows: 32 elements per step into four accumulators, then 8 at a
 * time, then the last n % 8 one by one.
 */
static inline AVX2_FN __m256
f16x8(const uint8_t *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) p));
}

static inline AVX2_FN __m256
bf16x8(const uint8_t *p)
{
	__m256i		wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *) p));

	return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

static inline AVX2_FN __m256
f32x8(const uint8_t *p)
{
	return _mm256_loadu_ps((const float *) p);
}

static inline AVX2_FN float
f16_scalar(const uint8_t *p)
{
	return half_at(p);
}

static inline AVX2_FN float
bf16_scalar(const uint8_t *p)
{
	return llm_bf16_to_fp32((uint16_t) (p[0] | (p[1] << 8)));
}

static inline AVX2_FN float
f32_scalar(const uint8_t *p)
{
	float		f;

	memcpy(&f, p, sizeof(f));
	return f;
}

#define FLOAT_ROW_DOT(NAME, ELEM_BYTES, LOAD8, LOAD1) \
static AVX2_FN float \
NAME(const void *row, const float *x, int64_t n) \
{ \
	const uint8_t *w = row; \
	__m256		acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), \
						  _mm256_setzero_ps(), _mm256_setzero_ps()}; \
	float		tail = 0.0f; \
	int64_t		i = 0; \
	\
	for (; i + 32 <= n; i += 32) \
		for (int k = 0; k < 4; k++) \
			acc[k] = _mm256_fmadd_ps(LOAD8(w + (i + 8 * k) * (ELEM_BYTES)), \
									 _mm256_loadu_ps(x + i + 8 * k), acc[k]); \
	for (; i + 8 <= n; i += 8) \
		acc[0] = _mm256_fmadd_ps(LOAD8(w + i * (ELEM_BYTES)), \
								 _mm256_loadu_ps(x + i), acc[0]); \
	for (; i < n; i++) \
		tail += LOAD1(w + i * (ELEM_BYTES)) * x[i]; \
	return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), \
							  _mm256_add_ps(acc[2], acc[3]))) + tail; \
}

FLOAT_ROW_DOT(dot_f32_avx2, 4, f32x8, f32_scalar)
FLOAT_ROW_DOT(dot_f16_avx2, 2, f16x8, f16_scalar)
FLOAT_ROW_DOT(dot_bf16_avx2, 2, bf16x8, bf16_scalar)

/* ---------------------------------------------------------------------
 * Dequantisation (bit-identical to the scalar code; see the top comment)
 * ---------------------------------------------------------------------
 */

static AVX2_FN void
dequant_q4_0_avx2(const void *row, float *y, int64_t n)
{
	const block_q4_0 *b = row;
	const __m256i eight = _mm256_set1_epi32(8);

	for (int64_t i = 0; i < n / QK32; i++, b++, y += QK32)
	{
		__m256		d = _mm256_set1_ps(half_at(b->d));
		__m256i		q[4];

		nibbles32(b->qs, q);
		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(y + 8 * k,
							 _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q[k], eight)), d));
	}
}

static AVX2_FN void
dequant_q4_1_avx2(const void *row, float *y, int64_t n)
{
	const block_q4_1 *b = row;

	for (int64_t i = 0; i < n / QK32; i++, b++, y += QK32)
	{
		__m256		d = _mm256_set1_ps(half_at(b->d));
		__m256		m = _mm256_set1_ps(half_at(b->m));
		__m256i		q[4];

		nibbles32(b->qs, q);
		/* q * d is exact (4 bits times 11), so fusing changes nothing */
		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(y + 8 * k, _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[k]), d, m));
	}
}

static AVX2_FN void
dequant_q8_0_avx2(const void *row, float *y, int64_t n)
{
	const block_q8_0 *b = row;

	for (int64_t i = 0; i < n / QK32; i++, b++, y += QK32)
	{
		__m256		d = _mm256_set1_ps(half_at(b->d));

		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(y + 8 * k,
							 _mm256_mul_ps(_mm256_cvtepi32_ps(load8_i8(b->qs + 8 * k)), d));
	}
}

static AVX2_FN void
dequant_q5_0_avx2(const void *row, float *y, int64_t n)
{
	const block_q5_0 *b = row;
	const __m256i sixteen = _mm256_set1_epi32(16);

	for (int64_t i = 0; i < n / QK32; i++, b++, y += QK32)
	{
		__m256		d = _mm256_set1_ps(half_at(b->d));
		__m256i		q[4];

		nibbles32(b->qs, q);
		add_q5_bits(b->qh, q);
		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(y + 8 * k,
							 _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q[k], sixteen)), d));
	}
}

static AVX2_FN void
dequant_q5_1_avx2(const void *row, float *y, int64_t n)
{
	const block_q5_1 *b = row;

	for (int64_t i = 0; i < n / QK32; i++, b++, y += QK32)
	{
		__m256		d = _mm256_set1_ps(half_at(b->d));
		__m256		m = _mm256_set1_ps(half_at(b->m));
		__m256i		q[4];

		nibbles32(b->qs, q);
		add_q5_bits(b->qh, q);
		/* q * d is exact (5 bits times 11) */
		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(y + 8 * k, _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[k]), d, m));
	}
}

/* (d*sc) * q - dmin*m: the product (6+11 bits times 5) is exact */
static inline AVX2_FN void
dequant_k4_or_k5(const uint8_t *d_dmin, const uint8_t *scales, const uint8_t *qh,
				 const uint8_t *qs, float *y)
{
	const float d = half_at(d_dmin);
	const float dmin = half_at(d_dmin + 2);
	__m256i		h[4];

	if (qh != NULL)
		k5_high_bytes(qh, h);
	for (int c = 0; c < 4; c++)
	{
		__m256i		lo[4],
					hi[4];
		int			sc_lo,
					m_lo,
					sc_hi,
					m_hi;
		__m256		scale_lo,
					offset_lo,
					scale_hi,
					offset_hi;

		k_chunk_q(qs, qh != NULL ? h : NULL, c, lo, hi);
		k_scale_min(scales, 2 * c, &sc_lo, &m_lo);
		k_scale_min(scales, 2 * c + 1, &sc_hi, &m_hi);
		scale_lo = _mm256_set1_ps(d * (float) sc_lo);
		offset_lo = _mm256_set1_ps(dmin * (float) m_lo);
		scale_hi = _mm256_set1_ps(d * (float) sc_hi);
		offset_hi = _mm256_set1_ps(dmin * (float) m_hi);
		for (int k = 0; k < 4; k++)
		{
			_mm256_storeu_ps(y + 64 * c + 8 * k,
							 _mm256_fmsub_ps(scale_lo, _mm256_cvtepi32_ps(lo[k]), offset_lo));
			_mm256_storeu_ps(y + 64 * c + 32 + 8 * k,
							 _mm256_fmsub_ps(scale_hi, _mm256_cvtepi32_ps(hi[k]), offset_hi));
		}
	}
}

static AVX2_FN void
dequant_q4_k_avx2(const void *row, float *y, int64_t n)
{
	const block_q4_k *b = row;

	for (int64_t i = 0; i < n / QK_K; i++, b++, y += QK_K)
		dequant_k4_or_k5(b->d, b->scales, NULL, b->qs, y);
}

static AVX2_FN void
dequant_q5_k_avx2(const void *row, float *y, int64_t n)
{
	const block_q5_k *b = row;

	for (int64_t i = 0; i < n / QK_K; i++, b++, y += QK_K)
		dequant_k4_or_k5(b->d, b->scales, b->qh, b->qs, y);
}

/* (d*sc) * (q - 32): one rounding, as the scalar code */
static AVX2_FN void
dequant_q6_k_avx2(const void *row, float *y, int64_t n)
{
	const block_q6_k *b = row;

	for (int64_t i = 0; i < n / QK_K; i++, b++, y += QK_K)
	{
		const float d = half_at(b->d);

		for (int half = 0; half < 2; half++)
			for (int l = 0; l < 32; l += 8)
			{
				const uint8_t *sc = b->scales + 8 * half + l / 16;
				float	   *yh = y + 128 * half;
				__m256i		q[4];

				q6_quarters(b->ql + 64 * half, b->qh + 32 * half, l, q);
				for (int k = 0; k < 4; k++)
					_mm256_storeu_ps(yh + 32 * k + l,
									 _mm256_mul_ps(_mm256_set1_ps(d * (float) int8_at(sc + 2 * k)),
												   _mm256_cvtepi32_ps(q[k])));
			}
	}
}

static AVX2_FN void
dequant_f16_avx2(const void *row, float *y, int64_t n)
{
	const uint8_t *w = row;
	int64_t		i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, f16x8(w + 2 * i));
	for (; i < n; i++)
		y[i] = f16_scalar(w + 2 * i);
}

static AVX2_FN void
dequant_bf16_avx2(const void *row, float *y, int64_t n)
{
	const uint8_t *w = row;
	int64_t		i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, bf16x8(w + 2 * i));
	for (; i < n; i++)
		y[i] = bf16_scalar(w + 2 * i);
}

/* ---------------------------------------------------------------------
 * Quantised activations (quant_q8.c is the reference; these give its
 * results bit for bit: same rounding, same int8 lanes, same fused
 * multiply-adds, same final reduction order as ggml's AVX2 kernels)
 * ---------------------------------------------------------------------
 */

/* x[0..31] -> 32 int8 (x * 127/amax, nearest even); returns amax; *isum */
static inline AVX2_FN float
quantize32_avx2(const float *x, int8_t *qs, int *isum)
{
	const __m256 sign_bit = _mm256_set1_ps(-0.0f);
	__m256		v[4];
	__m256		max_abs;
	__m128		max4;
	__m256i		i[4];
	__m256i		packed;
	float		amax,
				id;

	for (int k = 0; k < 4; k++)
		v[k] = _mm256_loadu_ps(x + 8 * k);
	max_abs = _mm256_andnot_ps(sign_bit, v[0]);
	for (int k = 1; k < 4; k++)
		max_abs = _mm256_max_ps(max_abs, _mm256_andnot_ps(sign_bit, v[k]));
	max4 = _mm_max_ps(_mm256_extractf128_ps(max_abs, 1), _mm256_castps256_ps128(max_abs));
	max4 = _mm_max_ps(max4, _mm_movehl_ps(max4, max4));
	max4 = _mm_max_ss(max4, _mm_movehdup_ps(max4));
	amax = _mm_cvtss_f32(max4);
	id = amax != 0.0f ? 127.0f / amax : 0.0f;
	for (int k = 0; k < 4; k++)
		i[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], _mm256_set1_ps(id)),
												  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	if (isum != NULL)
	{
		__m256i		t = _mm256_add_epi32(_mm256_add_epi32(i[0], i[1]), _mm256_add_epi32(i[2], i[3]));
		__m128i		s4 = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));

		s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
		s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(2, 3, 0, 1)));
		*isum = _mm_cvtsi128_si32(s4);
	}
	/* saturating packs work per 128-bit half; the permute restores order */
	packed = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
	packed = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
	_mm256_storeu_si256((__m256i *) qs, packed);
	return amax;
}

static inline float
half_round(float f)
{
	return llm_fp16_to_fp32(llm_fp32_to_fp16(f));
}

static AVX2_FN void
quantize_q8_0_avx2(const float *x, void *act, int64_t n)
{
	act_q8	   *y = act;

	for (int64_t b = 0; b < n / QK32; b++, x += QK32)
	{
		float		amax = quantize32_avx2(x, y[b].qs, NULL);

		y[b].d = half_round(amax / 127.0f);
		y[b].s = 0.0f;
	}
}

static AVX2_FN void
quantize_q8_1_avx2(const float *x, void *act, int64_t n)
{
	act_q8	   *y = act;

	for (int64_t b = 0; b < n / QK32; b++, x += QK32)
	{
		int			isum;
		float		d = quantize32_avx2(x, y[b].qs, &isum) / 127.0f;

		y[b].d = half_round(d);
		y[b].s = half_round(d * (float) isum);
	}
}

/* sum of products of 32 unsigned (ux) and signed (sy) bytes, 8 int32 lanes, as float */
static inline AVX2_FN __m256
lanes_us8(__m256i ux, __m256i sy)
{
	return _mm256_cvtepi32_ps(_mm256_madd_epi16(_mm256_maddubs_epi16(ux, sy),
												_mm256_set1_epi16(1)));
}

/* the same for two signed byte vectors */
static inline AVX2_FN __m256
lanes_s8(__m256i x, __m256i y)
{
	return lanes_us8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

/* 32 nibbles: byte j = element j (low nibbles, then high nibbles) */
static inline AVX2_FN __m256i
nibble_bytes(const uint8_t *qs)
{
	__m128i		t = _mm_loadu_si128((const __m128i *) qs);

	return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
}

static AVX2_FN float
dot_q4_0_q8_0_avx2(const void *row, const void *act, int64_t n)
{
	const block_q4_0 *w = row;
	const act_q8 *a = act;
	__m256		acc = _mm256_setzero_ps();

	for (int64_t b = 0; b < n / QK32; b++)
	{
		__m256i		qx = _mm256_sub_epi8(nibble_bytes(w[b].qs), _mm256_set1_epi8(8));
		__m256i		qy = _mm256_loadu_si256((const __m256i *) a[b].qs);

		acc = _mm256_fmadd_ps(_mm256_set1_ps(half_at(w[b].d) * a[b].d), lanes_s8(qx, qy), acc);
	}
	return hsum(acc);
}

static AVX2_FN float
dot_q8_0_q8_0_avx2(const void *row, const void *act, int64_t n)
{
	const block_q8_0 *w = row;
	const act_q8 *a = act;
	__m256		acc = _mm256_setzero_ps();

	for (int64_t b = 0; b < n / QK32; b++)
	{
		__m256i		qx = _mm256_loadu_si256((const __m256i *) w[b].qs);
		__m256i		qy = _mm256_loadu_si256((const __m256i *) a[b].qs);

		acc = _mm256_fmadd_ps(_mm256_set1_ps(half_at(w[b].d) * a[b].d), lanes_s8(qx, qy), acc);
	}
	return hsum(acc);
}

static AVX2_FN float
dot_q4_1_q8_1_avx2(const void *row, const void *act, int64_t n)
{
	const block_q4_1 *w = row;
	const act_q8 *a = act;
	__m256		acc = _mm256_setzero_ps();
	float		summs = 0.0f;

	for (int64_t b = 0; b < n / QK32; b++)
	{
		__m256i		qy = _mm256_loadu_si256((const __m256i *) a[b].qs);

		/* m * s: two halves, exact in float, so fusing cannot matter */
		summs += half_at(w[b].m) * a[b].s;
		acc = _mm256_fmadd_ps(_mm256_set1_ps(half_at(w[b].d) * a[b].d),
							  lanes_us8(nibble_bytes(w[b].qs), qy), acc);
	}
	return hsum(acc) + summs;
}

/* ---------------------------------------------------------------------
 * The kernel table
 * ---------------------------------------------------------------------
 */

void
llm_quant_avx2_kernels(llm_quant_kernels *kernels)
{
	kernels->name = "avx2";
	kernels->vec_dot[LLM_DTYPE_F32] = dot_f32_avx2;
	kernels->vec_dot[LLM_DTYPE_F16] = dot_f16_avx2;
	kernels->vec_dot[LLM_DTYPE_BF16] = dot_bf16_avx2;
	kernels->vec_dot[LLM_DTYPE_Q4_0] = dot_q4_0_avx2;
	kernels->vec_dot[LLM_DTYPE_Q4_1] = dot_q4_1_avx2;
	kernels->vec_dot[LLM_DTYPE_Q5_0] = dot_q5_0_avx2;
	kernels->vec_dot[LLM_DTYPE_Q5_1] = dot_q5_1_avx2;
	kernels->vec_dot[LLM_DTYPE_Q8_0] = dot_q8_0_avx2;
	kernels->vec_dot[LLM_DTYPE_Q4_K] = dot_q4_k_avx2;
	kernels->vec_dot[LLM_DTYPE_Q5_K] = dot_q5_k_avx2;
	kernels->vec_dot[LLM_DTYPE_Q6_K] = dot_q6_k_avx2;

	kernels->quantize_act[LLM_DTYPE_Q8_0] = quantize_q8_0_avx2;
	kernels->quantize_act[LLM_DTYPE_Q8_1] = quantize_q8_1_avx2;
	kernels->vec_dot_act[LLM_DTYPE_Q4_0] = dot_q4_0_q8_0_avx2;
	kernels->vec_dot_act[LLM_DTYPE_Q4_1] = dot_q4_1_q8_1_avx2;
	kernels->vec_dot_act[LLM_DTYPE_Q8_0] = dot_q8_0_q8_0_avx2;

	kernels->dequantize[LLM_DTYPE_F16] = dequant_f16_avx2;
	kernels->dequantize[LLM_DTYPE_BF16] = dequant_bf16_avx2;
	kernels->dequantize[LLM_DTYPE_Q4_0] = dequant_q4_0_avx2;
	kernels->dequantize[LLM_DTYPE_Q4_1] = dequant_q4_1_avx2;
	kernels->dequantize[LLM_DTYPE_Q5_0] = dequant_q5_0_avx2;
	kernels->dequantize[LLM_DTYPE_Q5_1] = dequant_q5_1_avx2;
	kernels->dequantize[LLM_DTYPE_Q8_0] = dequant_q8_0_avx2;
	kernels->dequantize[LLM_DTYPE_Q4_K] = dequant_q4_k_avx2;
	kernels->dequantize[LLM_DTYPE_Q5_K] = dequant_q5_k_avx2;
	kernels->dequantize[LLM_DTYPE_Q6_K] = dequant_q6_k_avx2;
}

#else							/* !__x86_64__ */

/* ISO C wants at least one declaration in a translation unit. */
typedef int llm_quant_avx2_unused;

#endif							/* __x86_64__ */
