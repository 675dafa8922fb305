/*
 * vmath.c — scalar lanes of ggml's AVX2 elementwise math (see vmath.h).
 *
 * The exp is the classic range reduction x = n ln2 + b with |b| <= ln2/2,
 * n found by the "shifter" trick (adding 1.5 * 2^23 rounds to an integer in
 * the low mantissa bits), ln2 split in two parts for an exact reduction, a
 * degree-5 polynomial for e^b - 1, and 2^n built directly in the exponent
 * bits.  Large |n| is handled by splitting the scale in two factors so that
 * results which are finite or subnormal come out right.  The constants are
 * those of ggml (numbers, not code: they define the results).
 */
#include "vmath.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define VMATH_AVX2 1
#define AVX2_FN __attribute__((target("avx2,fma")))
#endif

static inline uint32_t
float_bits(float f)
{
	uint32_t	u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float
bits_float(uint32_t u)
{
	float		f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/*
 * The lane functions are always inlined, so that inside the functions built
 * for AVX2+FMA below every fmaf() becomes one vfmadd instruction instead of
 * a call into libm; fmaf() is exact either way, so the results are the same.
 */
#define LANE_FN static inline __attribute__((always_inline))

LANE_FN float
vexpf_lane(float x)
{
	const float shifter = 0x1.8p23f;
	const float z = fmaf(x, 0x1.715476p+0f, shifter);	/* x / ln2 + shifter */
	const float n = z - shifter;	/* round(x / ln2) */
	/* b = x - n * ln2, ln2 in a high and a low part */
	const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
	const uint32_t e = float_bits(z) << 23;	/* n in the exponent field */
	const float k = bits_float(e + float_bits(1.0f));	/* 2^n when it fits */
	const float u = b * b;
	const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
							  fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
						 u, 0x1.ffffecp-1f * b);	/* e^b - 1 */
	uint32_t	g;
	float		s1,
				s2;

	if (!(fabsf(n) > 126.0f))
		return fmaf(j, k, k);

	/* 2^n out of range: scale by s1 * s2 with both factors representable */
	g = n <= 0.0f ? 0x82000000u : 0u;
	s1 = bits_float(g + 0x7f000000u);
	s2 = bits_float(e - g);
	if (fabsf(n) > 192.0f)
		return s1 * s1;			/* certain overflow to inf or underflow to 0 */
	return fmaf(s2, j, s2) * s1;
}

float
llm_vexpf(float x)
{
	return vexpf_lane(x);
}

LANE_FN float
vsilu_lane(float x)
{
	return x / (1.0f + vexpf_lane(0.0f - x));
}

float
llm_vsilu(float x)
{
	return vsilu_lane(x);
}

LANE_FN void
swiglu_body(int64_t n, float *y, const float *gate, const float *up)
{
	const int64_t n_vec = n - n % 8;
	int64_t		i;

	for (i = 0; i < n_vec; i++)
		y[i] = vsilu_lane(gate[i]) * up[i];
	for (; i < n; i++)
		y[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

float
llm_hsum8(const float v[8])
{
	const float h0 = v[4] + v[0];
	const float h1 = v[5] + v[1];
	const float h2 = v[6] + v[2];
	const float h3 = v[7] + v[3];

	return (h0 + h2) + (h1 + h3);
}

float
llm_reduce32(const float v[32])
{
	float		a[8];
	float		t0,
				t1,
				t2,
				t3;

	/* vectors 0..3: (0 + 2) + (1 + 3), lane by lane */
	for (int i = 0; i < 8; i++)
		a[i] = (v[i] + v[16 + i]) + (v[8 + i] + v[24 + i]);
	/* halves, then two horizontal adds */
	t0 = a[0] + a[4];
	t1 = a[1] + a[5];
	t2 = a[2] + a[6];
	t3 = a[3] + a[7];
	return (t0 + t1) + (t2 + t3);
}

LANE_FN double
softmax_exp_body(int64_t n, float *y, const float *x, float max)
{
	double		sum = 0.0;

	for (int64_t i = 0; i < n; i += 8)
	{
		float		lane[8];

		for (int k = 0; k < 8; k++)
		{
			lane[k] = i + k < n ? vexpf_lane(x[i + k] - max) : 0.0f;
			if (i + k < n)
				y[i + k] = lane[k];
		}
		sum += (double) llm_hsum8(lane);
	}
	return sum;
}

/* ------------------------------------------------------------------------
 * Dot products in ggml's lane order.  fmaf() is exact in any build; where
 * the CPU has FMA the same arithmetic runs eight lanes at a time.
 * ------------------------------------------------------------------------
 */

static float
dot_f16_scalar(const float *a, const float *b, int64_t n, bool gemm)
{
	if (gemm && n % 8 == 0)
	{
		float		lane[8] = {0};

		for (int64_t i = 0; i < n; i++)
			lane[i % 8] = fmaf(a[i], b[i], lane[i % 8]);
		return llm_hsum8(lane);
	}
	else
	{
		const int64_t n_vec = n - n % 32;
		float		lane[32] = {0};
		double		sum;

		for (int64_t i = 0; i < n_vec; i++)
			lane[i % 32] = fmaf(a[i], b[i], lane[i % 32]);
		sum = llm_reduce32(lane);
		for (int64_t i = n_vec; i < n; i++)
			sum += (double) (a[i] * b[i]);
		return (float) sum;
	}
}

static void
fma_row_scalar(float *y, const float *x, float a, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		y[i] = fmaf(x[i], a, y[i]);
}

#ifdef VMATH_AVX2
static AVX2_FN float
dot_f16_avx2(const float *a, const float *b, int64_t n, bool gemm)
{
	float		lane[32];

	if (gemm && n % 8 == 0)
	{
		__m256		acc = _mm256_setzero_ps();

		for (int64_t i = 0; i < n; i += 8)
			acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
		_mm256_storeu_ps(lane, acc);
		return llm_hsum8(lane);
	}
	else
	{
		const int64_t n_vec = n - n % 32;
		__m256		acc[4];
		double		sum;

		for (int k = 0; k < 4; k++)
			acc[k] = _mm256_setzero_ps();
		for (int64_t i = 0; i < n_vec; i += 32)
			for (int k = 0; k < 4; k++)
				acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * k),
										 _mm256_loadu_ps(b + i + 8 * k), acc[k]);
		for (int k = 0; k < 4; k++)
			_mm256_storeu_ps(lane + 8 * k, acc[k]);
		sum = llm_reduce32(lane);
		for (int64_t i = n_vec; i < n; i++)
			sum += (double) (a[i] * b[i]);
		return (float) sum;
	}
}

static AVX2_FN void
fma_row_avx2(float *y, const float *x, float a, int64_t n)
{
	const __m256 va = _mm256_set1_ps(a);
	int64_t		i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, _mm256_loadu_ps(y + i)));
	for (; i < n; i++)
		y[i] = fmaf(x[i], a, y[i]);
}

/* 1 when the CPU has AVX2 and FMA, 0 when not, -1 before the first check */
static int	have_avx2 = -1;

static inline bool
use_avx2(void)
{
	if (have_avx2 < 0)
		have_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	return have_avx2 != 0;
}
#endif

float
llm_dot_f16(const float *a, const float *b, int64_t n, bool gemm)
{
#ifdef VMATH_AVX2
	if (use_avx2())
		return dot_f16_avx2(a, b, n, gemm);
#endif
	return dot_f16_scalar(a, b, n, gemm);
}

void
llm_fma_row(float *y, const float *x, float a, int64_t n)
{
#ifdef VMATH_AVX2
	if (use_avx2())
	{
		fma_row_avx2(y, x, a, n);
		return;
	}
#endif
	fma_row_scalar(y, x, a, n);
}

void
llm_sum_lanes(float *out, const float *acc, int64_t n, int64_t stride, bool gemm)
{
	const int	n_lanes = gemm ? 8 : 32;

	for (int64_t i = 0; i < n; i++)
	{
		float		lane[32];

		for (int l = 0; l < n_lanes; l++)
			lane[l] = acc[(size_t) l * stride + i];
		out[i] = gemm ? llm_hsum8(lane) : llm_reduce32(lane);
	}
}

/* ------------------------------------------------------------------------
 * SwiGLU and softmax: the same lanes, built twice.
 */
#ifdef VMATH_AVX2
static AVX2_FN void
swiglu_fma(int64_t n, float *y, const float *gate, const float *up)
{
	swiglu_body(n, y, gate, up);
}

static AVX2_FN double
softmax_exp_fma(int64_t n, float *y, const float *x, float max)
{
	return softmax_exp_body(n, y, x, max);
}
#endif

void
llm_swiglu(int64_t n, float *y, const float *gate, const float *up)
{
#ifdef VMATH_AVX2
	if (use_avx2())
	{
		swiglu_fma(n, y, gate, up);
		return;
	}
#endif
	swiglu_body(n, y, gate, up);
}

double
llm_softmax_exp(int64_t n, float *y, const float *x, float max)
{
#ifdef VMATH_AVX2
	if (use_avx2())
		return softmax_exp_fma(n, y, x, max);
#endif
	return softmax_exp_body(n, y, x, max);
}
