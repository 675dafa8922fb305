/*
 * test_quant.c — dequantisation and dot products (src/engine/quant.c).
 *
 * Three independent witnesses:
 *   1. hand-built blocks whose values were worked out on paper;
 *   2. a straightforward per-element implementation written here from the
 *      format description (reference/engine-facts.md §2), compared bit for
 *      bit on random blocks;
 *   3. test/quant/vectors.bin, made by test/quant/make_quant_vectors.py with
 *      the gguf Python package's numpy dequantizer (path from env
 *      LLM_QUANT_VECTORS; default test/quant/vectors.bin from the repo root,
 *      or ../quant/vectors.bin from test/engine).
 * Dot products are checked against dequantise-then-dot with the tolerance
 * documented in quant.c: |dot - ref| <= 1e-5 * sum |w[i] * x[i]|.
 *
 * The checks above run through the dispatched entry points, so they test
 * whichever kernel set the CPU gets.  test_simd_vs_scalar then holds the
 * dispatched kernels (AVX2 on a CPU that has it) to the scalar reference
 * directly: dequantisation bit for bit, dot products within
 * SIMD_REL_TOL * (sum of the magnitudes of the terms).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#define LLM_QUANT_BLOCKS
#include "quant.h"
#include "test_util.h"

#define DOT_REL_TOL 1e-5

static const uint32_t all_types[] = {
	LLM_DTYPE_F32, LLM_DTYPE_F16, LLM_DTYPE_BF16, LLM_DTYPE_Q8_0,
	LLM_DTYPE_Q4_0, LLM_DTYPE_Q4_1, LLM_DTYPE_Q5_0, LLM_DTYPE_Q5_1,
	LLM_DTYPE_Q4_K, LLM_DTYPE_Q5_K, LLM_DTYPE_Q6_K
};
#define N_TYPES (sizeof(all_types) / sizeof(all_types[0]))

/* ---- small helpers ---------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t) ((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static float
rnd_float(void)					/* uniform in [-1, 1) */
{
	return (float) ((double) rnd() / 2147483648.0 - 1.0);
}

static uint32_t
fbits(float f)
{
	uint32_t	u;

	memcpy(&u, &f, 4);
	return u;
}

static float
bits_f(uint32_t u)
{
	float		f;

	memcpy(&f, &u, 4);
	return f;
}

/* Identical bits, or both NaN (NaN payloads may legitimately differ). */
static int
same_float(float a, float b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fbits(a) == fbits(b);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

/* ---- independent reference, straight from the format description ------ */

/* binary16 by its definition: (-1)^s * 2^(e-15) * 1.m, or 2^-14 * 0.m */
static float
ref_half(uint16_t h)
{
	int			e = (h >> 10) & 31;
	int			m = h & 1023;
	float		v;

	if (e == 0)
		v = ldexpf((float) m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexpf((float) (m + 1024), e - 25);
	return (h & 0x8000) ? -v : v;
}

static int
ref_i8(uint8_t b)
{
	return b < 128 ? b : b - 256;
}

/* 6-bit scale and min of sub-block s of a Q4_K/Q5_K block */
static void
ref_k_scale(const uint8_t *sc12, int s, int *sc, int *mn)
{
	const uint8_t *d = sc12,
			   *m = sc12 + 4,
			   *md = sc12 + 8;

	if (s < 4)
	{
		*sc = d[s] % 64;
		*mn = m[s] % 64;
	}
	else
	{
		*sc = md[s - 4] % 16 + (d[s - 4] / 64) * 16;
		*mn = md[s - 4] / 16 + (m[s - 4] / 64) * 16;
	}
}

/* element i of one block of type t */
static float
ref_element(uint32_t t, const uint8_t *b, int i)
{
	switch (t)
	{
		case LLM_DTYPE_F32:
			{
				float		f;

				memcpy(&f, b + 4 * i, 4);
				return f;
			}
		case LLM_DTYPE_F16:
			return ref_half(get16(b + 2 * i));
		case LLM_DTYPE_BF16:
			return bits_f((uint32_t) get16(b + 2 * i) << 16);
		case LLM_DTYPE_Q4_0:
			{
				int			q = i < 16 ? b[2 + i] % 16 : b[2 + i - 16] / 16;

				return (float) (q - 8) * ref_half(get16(b));
			}
		case LLM_DTYPE_Q4_1:
			{
				int			q = i < 16 ? b[4 + i] % 16 : b[4 + i - 16] / 16;

				return (float) q * ref_half(get16(b)) + ref_half(get16(b + 2));
			}
		case LLM_DTYPE_Q5_0:
		case LLM_DTYPE_Q5_1:
			{
				int			off = t == LLM_DTYPE_Q5_0 ? 2 : 4;
				int			hi = (b[off + i / 8] >> (i % 8)) & 1;	/* bit i of qh */
				const uint8_t *qs = b + off + 4;
				int			q = (i < 16 ? qs[i] % 16 : qs[i - 16] / 16) + 16 * hi;

				if (t == LLM_DTYPE_Q5_0)
					return (float) (q - 16) * ref_half(get16(b));
				return (float) q * ref_half(get16(b)) + ref_half(get16(b + 2));
			}
		case LLM_DTYPE_Q8_0:
			return (float) ref_i8(b[2 + i]) * ref_half(get16(b));
		case LLM_DTYPE_Q4_K:
		case LLM_DTYPE_Q5_K:
			{
				int			s = i / 32,
							l = i % 32;
				int			sc,
							mn;
				const uint8_t *qs = b + (t == LLM_DTYPE_Q4_K ? 16 : 48);
				uint8_t		byte = qs[32 * (s / 2) + l];
				int			q = s % 2 ? byte / 16 : byte % 16;

				if (t == LLM_DTYPE_Q5_K)
					q += 16 * ((b[16 + l] >> s) & 1);
				ref_k_scale(b + 4, s, &sc, &mn);
				return ref_half(get16(b)) * (float) sc * (float) q -
					ref_half(get16(b + 2)) * (float) mn;
			}
		case LLM_DTYPE_Q6_K:
			{
				/*
				 * Per 128 values (n = i/128): ql advances 64, qh 32, scales
				 * 8.  Within, l = 0..31 gives four values l, l+32, l+64,
				 * l+96 from ql[l], ql[l+32] (low, low, high, high nibble)
				 * and qh[l] bits 0-1, 2-3, 4-5, 6-7, with scale
				 * sc[l/16 + 0, 2, 4, 6].
				 */
				const uint8_t *ql = b + 64 * (i / 128);
				const uint8_t *qh = b + 128 + 32 * (i / 128);
				const uint8_t *sc = b + 192 + 8 * (i / 128);
				int			r = i % 128;
				int			l = r % 32,
							quarter = r / 32;
				int			lo4 = quarter == 0 ? ql[l] & 15 :
					quarter == 1 ? ql[l + 32] & 15 :
					quarter == 2 ? ql[l] >> 4 : ql[l + 32] >> 4;
				int			hi2 = (qh[l] >> (2 * quarter)) & 3;
				int			scale = ref_i8(sc[l / 16 + 2 * quarter]);

				return ref_half(get16(b + 208)) * (float) scale *
					(float) ((lo4 | hi2 << 4) - 32);
			}
	}
	return NAN;
}

static void
ref_dequant(uint32_t t, const uint8_t *row, float *y, int64_t n)
{
	const llm_dtype_info *info = llm_dtype_get(t);

	for (int64_t i = 0; i < n; i++)
	{
		int64_t		blk = i / info->block_elems;

		if (info->block_elems == 1)
			y[i] = ref_element(t, row, (int) i);
		else
			y[i] = ref_element(t, row + blk * info->block_bytes,
							   (int) (i % info->block_elems));
	}
}

/* ---- random blocks ---------------------------------------------------- */

/* a half in [2^-10, 2^-3) of random sign: keeps products of 8-bit q's sane */
static uint16_t
sane_half(void)
{
	uint32_t	r = rnd();

	return (uint16_t) ((r & 0x8000) | ((5 + (r >> 16) % 7) << 10) | (r & 0x3ff));
}

/* byte offsets of the half fields of each block type */
static void
half_fields(uint32_t t, int *off, int *count)
{
	*count = 0;
	switch (t)
	{
		case LLM_DTYPE_Q4_0:
		case LLM_DTYPE_Q5_0:
		case LLM_DTYPE_Q8_0:
			off[(*count)++] = 0;
			break;
		case LLM_DTYPE_Q4_1:
		case LLM_DTYPE_Q5_1:
		case LLM_DTYPE_Q4_K:
		case LLM_DTYPE_Q5_K:
			off[(*count)++] = 0;
			off[(*count)++] = 2;
			break;
		case LLM_DTYPE_Q6_K:
			off[(*count)++] = 208;
			break;
	}
}

/*
 * Fill a row of n elements of type t with random data.  sane: scales and
 * float values are finite and moderate; otherwise every byte is random
 * (infinities, NaNs, subnormals included).
 */
static void
random_row(uint32_t t, uint8_t *row, int64_t n, int sane)
{
	uint64_t	nbytes;
	const llm_dtype_info *info = llm_dtype_get(t);

	llm_dtype_row_bytes(t, (uint64_t) n, &nbytes);
	for (uint64_t i = 0; i < nbytes; i++)
		row[i] = (uint8_t) rnd();
	if (!sane)
		return;
	if (t == LLM_DTYPE_F32)
		for (int64_t i = 0; i < n; i++)
		{
			float		f = rnd_float();

			memcpy(row + 4 * i, &f, 4);
		}
	else if (t == LLM_DTYPE_F16)
		for (int64_t i = 0; i < n; i++)
			put16(row + 2 * i, sane_half() + (14 << 10));	/* ~[2^-1, 2^6) */
	else if (t == LLM_DTYPE_BF16)
		for (int64_t i = 0; i < n; i++)
			put16(row + 2 * i, (uint16_t) ((rnd() & 0x807f) | (120 + rnd() % 10) << 7));
	else
	{
		int			off[2],
					count;

		half_fields(t, off, &count);
		for (int64_t b = 0; b < n / info->block_elems; b++)
			for (int k = 0; k < count; k++)
				put16(row + b * info->block_bytes + off[k], sane_half());
	}
}

/* ---- tests ------------------------------------------------------------ */

static void
test_supported(void)
{
	for (size_t i = 0; i < N_TYPES; i++)
		CHECK(llm_quant_supported(all_types[i]), "type %u supported", all_types[i]);
	CHECK(!llm_quant_supported(LLM_DTYPE_Q8_1), "Q8_1 is not a weight type");
	CHECK(!llm_quant_supported(LLM_DTYPE_Q2_K), "Q2_K not supported");
	CHECK(!llm_quant_supported(LLM_DTYPE_IQ4_NL), "IQ4_NL not supported");
	CHECK(!llm_quant_supported(LLM_DTYPE_MAX), "id MAX not supported");
	CHECK(!llm_quant_supported(0xffffffffu), "id 2^32-1 not supported");
}

static void
test_fp16(void)
{
	int			bad_decode = 0,
				bad_roundtrip = 0,
				bad_mid = 0;

	/* hand-checked values */
	CHECK(llm_fp16_to_fp32(0x3c00) == 1.0f, "0x3c00 = 1");
	CHECK(llm_fp16_to_fp32(0xc000) == -2.0f, "0xc000 = -2");
	CHECK(llm_fp16_to_fp32(0x7bff) == 65504.0f, "0x7bff = 65504");
	CHECK(llm_fp16_to_fp32(0x3555) == 0x1.554p-2f, "0x3555 = 0.333251953125");
	CHECK(llm_fp16_to_fp32(0x0001) == 0x1p-24f, "smallest subnormal 2^-24");
	CHECK(llm_fp16_to_fp32(0x03ff) == 0x1.ff8p-15f, "largest subnormal");
	CHECK(llm_fp16_to_fp32(0x0400) == 0x1p-14f, "smallest normal 2^-14");
	CHECK(fbits(llm_fp16_to_fp32(0x8000)) == 0x80000000u, "-0 keeps its sign");
	CHECK(fbits(llm_fp16_to_fp32(0x7c00)) == 0x7f800000u, "+inf");
	CHECK(fbits(llm_fp16_to_fp32(0xfc00)) == 0xff800000u, "-inf");
	CHECK(fbits(llm_fp16_to_fp32(0x7e00)) == 0x7fc00000u, "quiet NaN");
	CHECK(fbits(llm_fp16_to_fp32(0xfd55)) == 0xffeaa000u,
		  "signalling NaN: sign and payload kept, made quiet (as F16C/ggml)");

	/* every half against the definition; every finite half round-trips */
	for (uint32_t h = 0; h < 65536; h++)
	{
		float		f = llm_fp16_to_fp32((uint16_t) h);

		if (!same_float(f, ref_half((uint16_t) h)))
			bad_decode++;
		if (!isnan(f) && llm_fp32_to_fp16(f) != h)
			bad_roundtrip++;
	}
	CHECK(bad_decode == 0, "%d halves decode differently from the definition", bad_decode);
	CHECK(bad_roundtrip == 0, "%d halves do not round-trip", bad_roundtrip);

	/*
	 * Exact midpoints between neighbouring positive halves round to the even
	 * one; one float ulp either side rounds to the nearer one.
	 */
	for (uint32_t h = 0; h < 0x7bff; h++)
	{
		double		lo = ref_half((uint16_t) h),
					hi = ref_half((uint16_t) (h + 1));
		float		mid = (float) ((lo + hi) / 2);	/* exact */
		uint16_t	even = (h & 1) ? (uint16_t) (h + 1) : (uint16_t) h;

		if (llm_fp32_to_fp16(mid) != even ||
			llm_fp32_to_fp16(-mid) != (0x8000 | even) ||
			llm_fp32_to_fp16(nextafterf(mid, 0)) != h ||
			llm_fp32_to_fp16(nextafterf(mid, INFINITY)) != h + 1)
			bad_mid++;
	}
	CHECK(bad_mid == 0, "%d midpoints round wrongly", bad_mid);

	CHECK(llm_fp32_to_fp16(1.0f) == 0x3c00, "1 -> 0x3c00");
	CHECK(llm_fp32_to_fp16(-0.0f) == 0x8000, "-0 -> 0x8000");
	CHECK(llm_fp32_to_fp16(65504.0f) == 0x7bff, "65504 -> max half");
	CHECK(llm_fp32_to_fp16(65519.996f) == 0x7bff, "just below 65520 -> max half");
	CHECK(llm_fp32_to_fp16(65520.0f) == 0x7c00, "65520 -> inf (tie to even)");
	CHECK(llm_fp32_to_fp16(1e10f) == 0x7c00, "overflow -> inf");
	CHECK(llm_fp32_to_fp16(-INFINITY) == 0xfc00, "-inf");
	CHECK(llm_fp32_to_fp16(NAN) == 0x7e00, "NaN -> 0x7e00");
	CHECK(llm_fp32_to_fp16(-NAN) == 0xfe00, "-NaN -> 0xfe00");
	CHECK(llm_fp32_to_fp16(0x1p-25f) == 0x0000, "2^-25 ties to 0");
	CHECK(llm_fp32_to_fp16(0x1.8p-25f) == 0x0001, "1.5*2^-25 -> 2^-24");
	CHECK(llm_fp32_to_fp16(0x1p-26f) == 0x0000, "2^-26 -> 0");
	CHECK(llm_fp32_to_fp16(-0x1p-30f) == 0x8000, "tiny negative -> -0");
	CHECK(llm_fp32_to_fp16(0x1p-149f) == 0x0000, "float subnormal -> 0");
	CHECK(llm_fp32_to_fp16(0x1.ffcp-15f) == 0x0400,
		  "largest subnormal + half ulp rounds up into the normals");
}

static void
test_bf16(void)
{
	CHECK(llm_bf16_to_fp32(0x3f80) == 1.0f, "bf16 1");
	CHECK(llm_bf16_to_fp32(0xc040) == -3.0f, "bf16 -3");
	CHECK(llm_bf16_to_fp32(0x0001) == 0x1p-133f, "bf16 subnormal");
	CHECK(fbits(llm_bf16_to_fp32(0xff80)) == 0xff800000u, "bf16 -inf");
	CHECK(fbits(llm_bf16_to_fp32(0x7fc1)) == 0x7fc10000u, "bf16 NaN passes through");
	CHECK(fbits(llm_bf16_to_fp32(0x8000)) == 0x80000000u, "bf16 -0");
}

/* Dequantise one block at an odd address (byte 1 of buf) and return y. */
static void
dequant_unaligned(uint32_t t, const uint8_t *block, size_t nbytes, float *y, int64_t n)
{
	static uint8_t buf[1 + 1024];

	memcpy(buf + 1, block, nbytes);
	llm_dequantize_row(t, buf + 1, y, n);
}

static void
test_hand_blocks(void)
{
	float		y[256];

	/* F32 / F16 / BF16 rows of 3 */
	{
		uint8_t		f32[12];
		float		v[3] = {1.5f, -0.0f, 3e38f};
		uint8_t		f16[6] = {0x00, 0x3c, 0x00, 0xb8, 0x01, 0x00};	/* 1, -0.5, 2^-24 */
		uint8_t		bf16[6] = {0x80, 0x3f, 0x20, 0xc1, 0x80, 0x7f};	/* 1, -10, inf */

		memcpy(f32, v, 12);
		dequant_unaligned(LLM_DTYPE_F32, f32, 12, y, 3);
		CHECK(y[0] == 1.5f && fbits(y[1]) == 0x80000000u && y[2] == 3e38f, "F32 copy");
		dequant_unaligned(LLM_DTYPE_F16, f16, 6, y, 3);
		CHECK(y[0] == 1.0f && y[1] == -0.5f && y[2] == 0x1p-24f,
			  "F16 row: %g %g %g", y[0], y[1], y[2]);
		dequant_unaligned(LLM_DTYPE_BF16, bf16, 6, y, 3);
		CHECK(y[0] == 1.0f && y[1] == -10.0f && isinf(y[2]),
			  "BF16 row: %g %g %g", y[0], y[1], y[2]);
	}

	/* Q4_0, d = 0.5: (q - 8) * d; qs[0] = 0x1f -> y0 = 7*.5, y16 = -7*.5 */
	{
		uint8_t		b[18];

		memset(b, 0x88, sizeof(b));	/* q = 8 everywhere: 0 */
		put16(b, 0x3800);
		b[2] = 0x1f;
		b[2 + 15] = 0x0f;		/* y15 = 3.5, y31 = -4 */
		dequant_unaligned(LLM_DTYPE_Q4_0, b, sizeof(b), y, 32);
		CHECK(y[0] == 3.5f && y[16] == -3.5f && y[15] == 3.5f && y[31] == -4.0f &&
			  y[1] == 0.0f && y[17] == 0.0f,
			  "Q4_0: %g %g %g %g %g", y[0], y[16], y[15], y[31], y[1]);
	}

	/* Q4_1, d = 0.25, m = -1: q * d + m; qs[3] = 0xa5 */
	{
		uint8_t		b[20] = {0};

		put16(b, 0x3400);
		put16(b + 2, 0xbc00);
		b[4 + 3] = 0xa5;
		dequant_unaligned(LLM_DTYPE_Q4_1, b, sizeof(b), y, 32);
		CHECK(y[3] == 0.25f && y[19] == 1.5f && y[0] == -1.0f && y[31] == -1.0f,
			  "Q4_1: %g %g %g", y[3], y[19], y[0]);
	}

	/*
	 * Q5_0, d = 1: qh = bits 0, 16 and 31; qs[0] = 0x21, qs[15] = 0x70.
	 * y0 = (1|16)-16 = 1, y16 = (2|16)-16 = 2, y1 = 0-16 = -16,
	 * y15 = 0-16 = -16, y31 = (7|16)-16 = 7.
	 */
	{
		uint8_t		b[22] = {0};

		put16(b, 0x3c00);
		b[2] = 0x01;			/* bit 0 */
		b[4] = 0x01;			/* bit 16 */
		b[5] = 0x80;			/* bit 31 */
		b[6] = 0x21;
		b[6 + 15] = 0x70;
		dequant_unaligned(LLM_DTYPE_Q5_0, b, sizeof(b), y, 32);
		CHECK(y[0] == 1.0f && y[16] == 2.0f && y[1] == -16.0f && y[15] == -16.0f &&
			  y[31] == 7.0f,
			  "Q5_0: %g %g %g %g %g", y[0], y[16], y[1], y[15], y[31]);
	}

	/* Q5_1, d = 0.5, m = 2: qh bit 5, qs[5] = 0x3f: y5 = 31*.5+2, y21 = 3*.5+2 */
	{
		uint8_t		b[24] = {0};

		put16(b, 0x3800);
		put16(b + 2, 0x4000);
		b[4] = 0x20;
		b[8 + 5] = 0x3f;
		dequant_unaligned(LLM_DTYPE_Q5_1, b, sizeof(b), y, 32);
		CHECK(y[5] == 17.5f && y[21] == 3.5f && y[0] == 2.0f,
			  "Q5_1: %g %g %g", y[5], y[21], y[0]);
	}

	/* Q8_0, d = 0.125: 127 -> 15.875, -128 -> -16, -1 -> -0.125 */
	{
		uint8_t		b[34] = {0};

		put16(b, 0x3000);
		b[2] = 127;
		b[3] = 0x80;
		b[2 + 31] = 0xff;
		dequant_unaligned(LLM_DTYPE_Q8_0, b, sizeof(b), y, 32);
		CHECK(y[0] == 15.875f && y[1] == -16.0f && y[31] == -0.125f && y[2] == 0.0f,
			  "Q8_0: %g %g %g", y[0], y[1], y[31]);
	}

	/*
	 * Q4_K, d = 1, dmin = 0.5.  Scales: sub-block 0 sc 1 m 2; sub-block 1
	 * sc 2 m 0; sub-block 5 sc 33 (low 4 bits 1, top 2 bits 0b10) and m 50
	 * (low 4 bits 2, top 2 bits 0b11): scales[9] = 0x21, top bits in
	 * scales[1] (0x80) and scales[5] (0xc0).
	 * qs[0] = 0x47: y0 = 1*7 - 0.5*2 = 6, y32 = 2*4 - 0 = 8.
	 * qs[64+3] = 0x90: sub-block 5 = chunk 2 high nibble, l = 3:
	 * y163 = 33*9 - 0.5*50 = 272; sub-block 4 (low nibble 0): sc 0, m 0.
	 */
	uint8_t		k4[144] = {0};

	put16(k4, 0x3c00);
	put16(k4 + 2, 0x3800);
	k4[4 + 0] = 1;
	k4[4 + 4] = 2;
	k4[4 + 1] = 0x80 | 2;
	k4[4 + 5] = 0xc0;
	k4[4 + 9] = 0x21;
	k4[16 + 0] = 0x47;
	k4[16 + 64 + 3] = 0x90;
	dequant_unaligned(LLM_DTYPE_Q4_K, k4, sizeof(k4), y, 256);
	CHECK(y[0] == 6.0f && y[32] == 8.0f && y[5 * 32 + 3] == 272.0f &&
		  y[1] == -1.0f && y[33] == 0.0f && y[4 * 32 + 3] == 0.0f &&
		  y[5 * 32] == -25.0f,
		  "Q4_K: %g %g %g %g %g %g", y[0], y[32], y[163], y[1], y[128 + 3], y[160]);

	/*
	 * Q5_K: the same scales and nibbles, plus qh[0] bit 0 (sub-block 0,
	 * l 0) and qh[3] bit 5 (sub-block 5, l 3):
	 * y0 = 1*(7+16) - 1 = 22, y32 = 2*4 = 8, y163 = 33*(9+16) - 25 = 800.
	 */
	{
		uint8_t		b[176] = {0};

		memcpy(b, k4, 16);
		b[16 + 0] = 0x01;
		b[16 + 3] = 0x20;
		b[48 + 0] = 0x47;
		b[48 + 64 + 3] = 0x90;
		dequant_unaligned(LLM_DTYPE_Q5_K, b, sizeof(b), y, 256);
		CHECK(y[0] == 22.0f && y[32] == 8.0f && y[163] == 800.0f && y[1] == -1.0f,
			  "Q5_K: %g %g %g %g", y[0], y[32], y[163], y[1]);
	}

	/*
	 * Q6_K, d = 0.5; scales[0] = 2, scales[5] = 1, scales[15] = -3.
	 * y0: ql[0] low 0xa, qh[0] bits 0-1 = 3 -> 58-32 = 26 -> .5*2*26 = 26.
	 * y1: all zero bits -> -32 -> .5*2*-32 = -32.
	 * y80 (group 5, quarter 2, l 16): ql[16] high 0xf, qh[16] bits 4-5 = 2
	 *   -> 47-32 = 15 -> .5*1*15 = 7.5.
	 * y255 (group 15, half 1, quarter 3, l 31): ql[127] high 5, qh[63]
	 *   bits 6-7 = 1 -> 21-32 = -11 -> .5*-3*-11 = 16.5.
	 */
	{
		uint8_t		b[210] = {0};

		b[0] = 0x0a;
		b[128 + 0] = 0x03;
		b[16] = 0xf0;
		b[128 + 16] = 0x20;
		b[127] = 0x50;
		b[128 + 63] = 0x40;
		b[192 + 0] = 2;
		b[192 + 5] = 1;
		b[192 + 15] = 0xfd;
		put16(b + 208, 0x3800);
		dequant_unaligned(LLM_DTYPE_Q6_K, b, sizeof(b), y, 256);
		CHECK(y[0] == 26.0f && y[1] == -32.0f && y[80] == 7.5f && y[255] == 16.5f &&
			  y[16] == 0.0f,
			  "Q6_K: %g %g %g %g %g", y[0], y[1], y[80], y[255], y[16]);
	}
}

/* Random rows of 1..4 blocks against the per-element reference, bit for bit. */
static void
test_random_vs_reference(void)
{
	static uint8_t buf[3 + 4 * 1024];
	static float y[4 * 256],
				ref[4 * 256];

	for (size_t ti = 0; ti < N_TYPES; ti++)
	{
		uint32_t	t = all_types[ti];
		const llm_dtype_info *info = llm_dtype_get(t);
		int			bad = 0;
		int			rows = 0;

		for (int iter = 0; iter < 200; iter++)
		{
			int64_t		nblocks = 1 + iter % 4;
			int64_t		n = info->block_elems == 1 ? 1 + rnd() % 300 :
				nblocks * info->block_elems;
			uint8_t    *row = buf + iter % 3;	/* any alignment */

			random_row(t, row, n, iter % 2);
			llm_dequantize_row(t, row, y, n);
			ref_dequant(t, row, ref, n);
			for (int64_t i = 0; i < n; i++)
				if (!same_float(y[i], ref[i]))
				{
					if (bad++ < 3)
						fprintf(stderr, "  %s elem %ld: %a vs reference %a\n",
								info->name, (long) i, y[i], ref[i]);
				}
			rows++;
		}
		CHECK(bad == 0, "%s: %d values differ from the reference over %d rows",
			  info->name, bad, rows);
	}
}

/*
 * llm_vec_dot against dequantise-then-dot (summed in double from the
 * dequantised floats), for matrices of 3 and 5 rows of 1..4 blocks stored
 * back to back (so most rows are unaligned).
 */
static void
test_dot(void)
{
	static uint8_t mat[1 + 5 * 4 * 1024];
	static float w[4 * 256],
				x[4 * 256];

	for (size_t ti = 0; ti < N_TYPES; ti++)
	{
		uint32_t	t = all_types[ti];
		const llm_dtype_info *info = llm_dtype_get(t);
		int			bad = 0,
					checked = 0;
		double		worst = 0;

		for (int iter = 0; iter < 40; iter++)
		{
			int64_t		nblocks = 1 + iter % 4;
			int64_t		n = info->block_elems == 1 ?
				(int64_t[]) {1, 2, 3, 4, 7, 33, 256, 1000}[iter % 8] :
				nblocks * info->block_elems;
			int			nrows = (iter % 2) ? 5 : 3;
			uint64_t	row_bytes;

			llm_dtype_row_bytes(t, (uint64_t) n, &row_bytes);
			for (int64_t i = 0; i < n; i++)
				x[i] = rnd_float() * 4.0f;
			for (int r = 0; r < nrows; r++)
				random_row(t, mat + 1 + r * row_bytes, n, 1);

			for (int r = 0; r < nrows; r++)
			{
				const uint8_t *row = mat + 1 + r * row_bytes;
				float		dot = llm_vec_dot(t, row, x, n);
				float		fdot = 0.0f;
				double		ref = 0,
							mag = 0;

				llm_dequantize_row(t, row, w, n);
				for (int64_t i = 0; i < n; i++)
				{
					ref += (double) w[i] * x[i];
					mag += fabs((double) w[i] * x[i]);
					fdot += w[i] * x[i];
				}
				if (!(fabs(dot - ref) <= DOT_REL_TOL * mag) ||
					!(fabs(fdot - ref) <= DOT_REL_TOL * mag))
				{
					if (bad++ < 3)
						fprintf(stderr, "  %s n %ld row %d: dot %.9g ref %.9g (float %.9g) mag %g\n",
								info->name, (long) n, r, dot, ref, fdot, mag);
				}
				if (mag > 0 && fabs(dot - ref) / mag > worst)
					worst = fabs(dot - ref) / mag;
				checked++;
			}
		}
		CHECK(bad == 0, "%s: %d of %d dots out of tolerance", info->name, bad, checked);
		CHECK(checked == 40 * 4, "%s: ran %d dots", info->name, checked);
		printf("  %-5s dot: %d rows, worst |dot-ref|/sum|wx| = %.2g\n",
			   info->name, checked, worst);
	}

	/* a hand-checked dot: Q8_0 d = 0.5, q = 0..31, x = 1 -> 0.5 * 496 */
	{
		uint8_t		b[34];

		put16(b, 0x3800);
		for (int i = 0; i < 32; i++)
		{
			b[2 + i] = (uint8_t) i;
			x[i] = 1.0f;
		}
		CHECK(llm_vec_dot(LLM_DTYPE_Q8_0, b, x, 32) == 248.0f, "Q8_0 hand dot");
	}
}

/* ---- SIMD kernels against the scalar reference ------------------------ */

/*
 * Dot products of the SIMD kernels and the scalar code differ only in the
 * order of float additions.  Both compute per block d * sum(q * x) (plus
 * m * sum(x) for the offset types), so the rounding error of either is a
 * few float epsilons (2^-23) times the sum of the magnitudes of those
 * terms, sum_i |x[i]| * (|q[i] * d| + |offset[i]|) <= sum_i |x[i]| *
 * (|w[i]| + 2 |offset[i]|), with offset[i] the block offset (m of
 * Q4_1/Q5_1, dmin * m[s] of Q4_K/Q5_K, 0 otherwise) of element i.  That
 * magnitude, not sum |w[i] * x[i]|, is the honest scale: with random
 * scales q * d and the offset can cancel.  Tolerance:
 *     |simd - scalar| <= SIMD_REL_TOL * magnitude
 * i.e. about 16 float epsilons of the magnitude (a single wrong element
 * would be off by ~1/n of it); test_simd_vs_scalar prints the worst ratio
 * it saw.
 */
#define SIMD_REL_TOL 2e-6

/* |offset| of element i of the block at b (see above) */
static double
ref_offset(uint32_t t, const uint8_t *b, int i)
{
	int			sc,
				mn;

	switch (t)
	{
		case LLM_DTYPE_Q4_1:
		case LLM_DTYPE_Q5_1:
			return fabs((double) ref_half(get16(b + 2)));
		case LLM_DTYPE_Q4_K:
		case LLM_DTYPE_Q5_K:
			ref_k_scale(b + 4, i / 32, &sc, &mn);
			return fabs((double) ref_half(get16(b + 2)) * mn);
	}
	return 0.0;
}

/*
 * Random bytes everywhere, then every float made finite and below 2^60 in
 * magnitude (so no product or sum overflows), subnormals included.
 */
static void
random_finite_row(uint32_t t, uint8_t *row, int64_t n)
{
	const llm_dtype_info *info = llm_dtype_get(t);

	random_row(t, row, n, 0);
	if (t == LLM_DTYPE_F32)
		for (int64_t i = 0; i < n; i++)
		{
			uint32_t	u;

			memcpy(&u, row + 4 * i, 4);
			u = (u & 0x807fffffu) | ((67 + rnd() % 120) << 23);	/* 2^-60..2^59 */
			if (rnd() % 16 == 0)
				u &= 0x807fffffu;	/* subnormal or zero */
			memcpy(row + 4 * i, &u, 4);
		}
	else if (t == LLM_DTYPE_BF16)
		for (int64_t i = 0; i < n; i++)
		{
			uint16_t	h = get16(row + 2 * i);

			h = (uint16_t) ((h & 0x807f) | ((67 + rnd() % 120) << 7));
			if (rnd() % 16 == 0)
				h &= 0x807f;
			put16(row + 2 * i, h);
		}
	else if (t == LLM_DTYPE_F16)
		for (int64_t i = 0; i < n; i++)
		{
			uint16_t	h = get16(row + 2 * i);

			if ((h & 0x7c00) == 0x7c00)
				h ^= 0x4000;	/* inf/NaN -> a finite half */
			put16(row + 2 * i, h);
		}
	else
	{
		int			off[2],
					count;

		half_fields(t, off, &count);
		for (int64_t b = 0; b < n / info->block_elems; b++)
			for (int k = 0; k < count; k++)
			{
				uint8_t    *p = row + b * info->block_bytes + off[k];
				uint16_t	h = get16(p);

				if ((h & 0x7c00) == 0x7c00)
					put16(p, h ^ 0x4000);
			}
	}
}

/* Does this CPU get the AVX2 kernels (unless LLM_FORCE_SCALAR is set)? */
static int
cpu_has_avx2_kernels(void)
{
#if defined(__x86_64__)
	unsigned int a,
				b,
				c,
				d;

	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
		return 0;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29)) != 0;
#else
	return 0;
#endif
}

static int
forced_scalar(void)
{
	const char *v = getenv("LLM_FORCE_SCALAR");

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/*
 * LLM_FORCE_SCALAR=1 selects the scalar kernels.  The choice is made once
 * per process, at the first call, so this runs before any other test and
 * sets the variable in a child process.
 */
static void
test_force_scalar_env(void)
{
	pid_t		pid;
	int			status = 0;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0)
	{
		setenv("LLM_FORCE_SCALAR", "1", 1);
		_exit(strcmp(llm_quant_kernel_name(), "scalar") == 0 &&
			  strcmp(llm_quant_kernel_for(LLM_DTYPE_Q4_1), "scalar") == 0 ? 0 : 1);
	}
	if (pid > 0)
	{
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "LLM_FORCE_SCALAR=1 selects the scalar kernels");
	}
}

static void
test_simd_vs_scalar(void)
{
	static uint8_t mat[3 + 7 * 8 * 1024];
	static float xbuf[8 + 8 * 256],
				w[8 * 256],
				y_simd[8 * 256 + 40],
				y_scalar[8 * 256 + 40];
	const char *name = llm_quant_kernel_name();
	int			expect_simd = cpu_has_avx2_kernels() && !forced_scalar();

	printf("  kernel set: %s (CPU %s AVX2+FMA+F16C%s)\n", name,
		   cpu_has_avx2_kernels() ? "has" : "lacks",
		   forced_scalar() ? ", LLM_FORCE_SCALAR set" : "");
	CHECK(strcmp(name, expect_simd ? "avx2" : "scalar") == 0,
		  "kernel set is %s, expected %s", name, expect_simd ? "avx2" : "scalar");

	for (size_t ti = 0; ti < N_TYPES; ti++)
	{
		uint32_t	t = all_types[ti];
		const llm_dtype_info *info = llm_dtype_get(t);
		const char *kernel = llm_quant_kernel_for(t);
		const char *deq_kernel = llm_quant_dequantize_kernel_for(t);
		int			bad_dot = 0,
					bad_deq = 0,
					dots = 0,
					deq_values = 0;
		double		worst = 0;

		/*
		 * The AVX2 set covers every type the forward pass computes with;
		 * F32 rows are dequantised by memcpy.
		 */
		CHECK(strcmp(kernel, expect_simd ? "avx2" : "scalar") == 0,
			  "%s dot kernel is %s", info->name, kernel);
		CHECK(strcmp(deq_kernel, expect_simd && t != LLM_DTYPE_F32 ? "avx2" : "scalar") == 0,
			  "%s dequantize kernel is %s", info->name, deq_kernel);

		for (int iter = 0; iter < 96; iter++)
		{
			int64_t		nblocks = 1 + iter % 8;
			int64_t		n = info->block_elems == 1 ?
				(int64_t[]) {1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 257, 1000, 2047}[iter % 14] :
				nblocks * info->block_elems;
			int			nrows = 1 + 2 * (iter % 4);	/* 1, 3, 5, 7 */
			int			row_off = 1 + iter % 3; /* rows at odd addresses */
			float	   *x = xbuf + 1 + iter % 7;	/* x not 32-byte aligned */
			int			sane = (iter / 8) % 2;
			uint64_t	row_bytes;

			llm_dtype_row_bytes(t, (uint64_t) n, &row_bytes);
			for (int64_t i = 0; i < n; i++)
				x[i] = rnd_float() * (iter % 3 == 0 ? 1000.0f : 4.0f);
			for (int r = 0; r < nrows; r++)
			{
				uint8_t    *row = mat + row_off + r * row_bytes;

				if (sane)
					random_row(t, row, n, 1);
				else
					random_finite_row(t, row, n);
			}

			for (int r = 0; r < nrows; r++)
			{
				const uint8_t *row = mat + row_off + r * row_bytes;
				float		simd = llm_vec_dot(t, row, x, n);
				float		scalar = llm_vec_dot_scalar(t, row, x, n);
				double		mag = 0;

				llm_dequantize_row_scalar(t, row, w, n);
				for (int64_t i = 0; i < n; i++)
				{
					double		off = info->block_elems == 1 ? 0.0 :
						ref_offset(t, row + (i / info->block_elems) * info->block_bytes,
								   (int) (i % info->block_elems));

					mag += fabs((double) x[i]) * (fabs((double) w[i]) + 2 * off);
				}
				if (!(fabs((double) simd - scalar) <= SIMD_REL_TOL * mag))
				{
					if (bad_dot++ < 3)
						fprintf(stderr, "  %s n %ld row %d (%s): simd %.9g scalar %.9g mag %g\n",
								info->name, (long) n, r, sane ? "sane" : "random",
								simd, scalar, mag);
				}
				if (mag > 0 && fabs((double) simd - scalar) / mag > worst)
					worst = fabs((double) simd - scalar) / mag;
				dots++;

				/*
				 * Dequantisation: bit for bit, with a partial block (or odd
				 * tail) after the row and nothing written past n + tail.
				 */
				{
					int64_t		tail = info->block_elems == 1 ? 0 : 1 + iter % 31;

					for (int64_t i = 0; i < n + tail + 8; i++)
						y_simd[i] = y_scalar[i] = 123.0f;
					llm_dequantize_row(t, row, y_simd, n + tail);
					llm_dequantize_row_scalar(t, row, y_scalar, n + tail);
					for (int64_t i = 0; i < n + tail + 8; i++)
						if (!same_float(y_simd[i], y_scalar[i]))
						{
							if (bad_deq++ < 3)
								fprintf(stderr, "  %s dequant n %ld elem %ld: %a vs scalar %a\n",
										info->name, (long) (n + tail), (long) i,
										y_simd[i], y_scalar[i]);
						}
					deq_values += (int) (n + tail);
				}
			}
		}
		CHECK(bad_dot == 0, "%s: %d of %d SIMD dots differ from scalar beyond %g",
			  info->name, bad_dot, dots, SIMD_REL_TOL);
		CHECK(bad_deq == 0, "%s: %d dequantised values differ from scalar",
			  info->name, bad_deq);
		printf("  %-5s dot %-6s vs scalar: %d dots, worst |diff|/magnitude %.2g; "
			   "dequantize %-6s: %d values identical\n",
			   info->name, kernel, dots, worst, deq_kernel, deq_values - bad_deq);
	}

	/* NaN and infinity in a weight reach the result on every path */
	{
		uint8_t		b[1 + 34];
		float		xs[40];

		for (int i = 0; i < 32; i++)
		{
			b[3 + i] = (uint8_t) i;
			xs[i] = 1.0f;
		}
		put16(b + 1, 0x7c00);	/* d = +inf */
		CHECK(isinf(llm_vec_dot(LLM_DTYPE_Q8_0, b + 1, xs, 32)), "Q8_0 with d = inf");
		put16(b + 1, 0x7e00);	/* d = NaN */
		CHECK(isnan(llm_vec_dot(LLM_DTYPE_Q8_0, b + 1, xs, 32)), "Q8_0 with d = NaN");
	}
}

static void
test_defensive(void)
{
	float		y[40];
	uint8_t		b[64] = {0};

	for (int i = 0; i < 40; i++)
		y[i] = 123.0f;
	llm_dequantize_row(LLM_DTYPE_Q2_K, b, y, 32);
	CHECK(y[0] == 0.0f && y[31] == 0.0f && y[32] == 123.0f,
		  "unsupported type -> zeros, nothing past n written");
	CHECK(llm_vec_dot(LLM_DTYPE_IQ4_NL, b, y, 32) == 0.0f, "unsupported dot -> 0");
	CHECK(llm_vec_dot(LLM_DTYPE_F32, b, y, 0) == 0.0f, "empty dot -> 0");
	llm_dequantize_row(LLM_DTYPE_Q4_0, b, y, -5);	/* must not touch y */
	CHECK(y[33] == 123.0f, "negative n does nothing");
	y[32] = 7.0f;
	put16(b, 0x3c00);
	llm_dequantize_row(LLM_DTYPE_Q4_0, b, y, 33);	/* partial trailing block */
	CHECK(y[0] == -8.0f && y[32] == 0.0f && y[33] == 123.0f,
		  "partial block -> zero tail");
}

/* ---- test/quant/vectors.bin (gguf-py numpy dequantizer) --------------- */

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
		(uint32_t) p[3] << 24;
}

static void
test_vectors(void)
{
	const char *path = getenv("LLM_QUANT_VECTORS");
	FILE	   *fp = NULL;
	uint8_t    *data;
	long		size;
	size_t		pos;
	uint32_t	count;
	int			per_type_values[LLM_DTYPE_MAX] = {0};
	int			per_type_bad[LLM_DTYPE_MAX] = {0};
	int			to_fp16_bad = 0,
				to_fp16_n = 0;

	if (path)
		fp = fopen(path, "rb");
	else
	{
		path = "test/quant/vectors.bin";
		fp = fopen(path, "rb");
		if (!fp)
		{
			path = "../quant/vectors.bin";
			fp = fopen(path, "rb");
		}
	}
	CHECK(fp != NULL, "cannot open quant vectors %s (set LLM_QUANT_VECTORS)", path);
	if (!fp)
		return;
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	data = malloc((size_t) size);
	CHECK(data && fread(data, 1, (size_t) size, fp) == (size_t) size, "read %s", path);
	fclose(fp);
	if (!data)
		return;

	CHECK(size >= 12 && memcmp(data, "LLMQVEC1", 8) == 0, "vectors magic");
	count = get32(data + 8);
	pos = 12;
	for (uint32_t r = 0; r < count; r++)
	{
		uint32_t	kind,
					type,
					n,
					nbytes;
		const uint8_t *raw;
		float	   *want,
				   *got;
		uint64_t	expect_bytes;

		if (pos + 16 > (size_t) size)
			break;
		kind = get32(data + pos);
		type = get32(data + pos + 4);
		n = get32(data + pos + 8);
		nbytes = get32(data + pos + 12);
		pos += 16;
		if (pos + nbytes + 4 * (size_t) n > (size_t) size || type >= LLM_DTYPE_MAX)
			break;
		raw = data + pos;
		want = malloc(4 * (size_t) n + 1);
		got = malloc(4 * (size_t) n + 1);
		memcpy(want, data + pos + nbytes, 4 * (size_t) n);
		pos += nbytes + 4 * (size_t) n;

		if (kind == 0)
		{
			CHECK(llm_dtype_row_bytes(type, n, &expect_bytes) && expect_bytes == nbytes,
				  "record %u: %s x %u is %u bytes", r, llm_dtype_name(type), n, nbytes);
			llm_dequantize_row(type, raw, got, n);
			for (uint32_t i = 0; i < n; i++)
			{
				if (!same_float(got[i], want[i]))
				{
					if (per_type_bad[type]++ < 3)
						fprintf(stderr, "  record %u %s [%u]: %a, numpy %a\n",
								r, llm_dtype_name(type), i, got[i], want[i]);
				}
				per_type_values[type]++;
			}
		}
		else if (kind == 1)
		{
			for (uint32_t i = 0; i < n && 2 * i + 1 < nbytes; i++)
			{
				uint16_t	h = llm_fp32_to_fp16(want[i]);

				if (h != get16(raw + 2 * i))
				{
					if (to_fp16_bad++ < 3)
						fprintf(stderr, "  fp32->fp16 %a: 0x%04x, numpy 0x%04x\n",
								want[i], h, get16(raw + 2 * i));
				}
				to_fp16_n++;
			}
		}
		free(want);
		free(got);
	}
	CHECK(pos == (size_t) size, "vectors file parsed to the end (%zu of %ld)", pos, size);
	free(data);

	for (size_t ti = 0; ti < N_TYPES; ti++)
	{
		uint32_t	t = all_types[ti];

		CHECK(per_type_values[t] > 0, "vectors cover %s", llm_dtype_name(t));
		CHECK(per_type_bad[t] == 0, "%s: %d of %d values differ from gguf-py",
			  llm_dtype_name(t), per_type_bad[t], per_type_values[t]);
		printf("  %-5s vs gguf-py: %d values, %d differ\n", llm_dtype_name(t),
			   per_type_values[t], per_type_bad[t]);
	}
	CHECK(to_fp16_n > 1000 && to_fp16_bad == 0,
		  "fp32->fp16: %d of %d differ from numpy", to_fp16_bad, to_fp16_n);
	printf("  fp32->fp16 vs numpy: %d values, %d differ\n", to_fp16_n, to_fp16_bad);
}

/* ---- activations rounded like llama.cpp (quant_q8.c) ------------------ */

/* A straightforward Q8_0/Q8_1 block quantiser: ggml's AVX2 formulas. */
static void
ref_q8_block(const float *x, float *d, float *s, int8_t *q)
{
	float		amax = 0.0f,
				id;
	int			sum = 0;

	for (int j = 0; j < 32; j++)
		amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
	id = amax != 0.0f ? 127.0f / amax : 0.0f;
	for (int j = 0; j < 32; j++)
	{
		q[j] = (int8_t) rintf(x[j] * id);
		sum += q[j];
	}
	*d = llm_fp16_to_fp32(llm_fp32_to_fp16(amax / 127.0f));
	*s = llm_fp16_to_fp32(llm_fp32_to_fp16(amax / 127.0f * (float) sum));
}

static void
test_activations(void)
{
	enum
	{
		N = 1024
	};
	static float x[N];
	static uint8_t row[N * 4];
	static uint8_t act[N * 8],
				act_s[N * 8];
	int			bad_quant = 0,
				bad_simd = 0,
				bad_dot = 0;

	CHECK(llm_act_type(LLM_DTYPE_Q4_1) == LLM_DTYPE_Q8_1 &&
		  llm_act_type(LLM_DTYPE_Q8_0) == LLM_DTYPE_Q8_0 &&
		  llm_act_type(LLM_DTYPE_Q6_K) == LLM_DTYPE_Q8_K &&
		  llm_act_type(LLM_DTYPE_F16) == LLM_DTYPE_F16 &&
		  llm_act_type(LLM_DTYPE_F32) == LLM_DTYPE_F32, "activation types");

	for (int iter = 0; iter < 50; iter++)
	{
		for (int i = 0; i < N; i++)
			x[i] = rnd_float() * (float) (1 + i % 5) * (iter % 3 ? 1.0f : 1e-4f);
		if (iter % 7 == 0)
			memset(x, 0, 32 * sizeof(float));	/* an all-zero block */

		/* quantisers vs the straightforward reference */
		llm_quantize_act(LLM_DTYPE_Q4_1, x, act, N);
		for (int b = 0; b < N / 32; b++)
		{
			const act_q8 *a = (const act_q8 *) act + b;
			float		d,
						sum_s;
			int8_t		q[32];

			ref_q8_block(x + 32 * b, &d, &sum_s, q);
			bad_quant += a->d != d || a->s != sum_s || memcmp(q, a->qs, 32) != 0;
		}
		llm_quantize_act(LLM_DTYPE_Q6_K, x, act, N);
		for (int b = 0; b < N / 256; b++)
		{
			const act_q8_k *a = (const act_q8_k *) act + b;
			const float *xb = x + 256 * b;
			float		mx = 0.0f;

			for (int j = 0; j < 256; j++)
				if (fabsf(xb[j]) > fabsf(mx))
					mx = xb[j];
			for (int j = 0; j < 256 && mx != 0.0f; j++)
				bad_quant += a->qs[j] != (int8_t) rintf(-127.0f / mx * xb[j]);
			for (int g = 0; g < 16; g++)
			{
				int			sum = 0;

				for (int j = 0; j < 16; j++)
					sum += a->qs[16 * g + j];
				bad_quant += sum != a->bsums[g];
			}
			bad_quant += mx != 0.0f && a->d != 1.0f / (-127.0f / mx);
		}

		for (size_t t = 0; t < N_TYPES; t++)
		{
			uint32_t	type = all_types[t];
			size_t		bytes = llm_act_row_bytes(type, N);
			float		simd,
						scalar;

			random_row(type, row, N, 1);
			llm_quantize_act(type, x, act, N);
			llm_quantize_act_scalar(type, x, act_s, N);
			bad_simd += memcmp(act, act_s, bytes) != 0;
			simd = llm_vec_dot_act(type, row, act, N);
			scalar = llm_vec_dot_act_scalar(type, row, act_s, N);
			/* float weights go through the float dot: order may differ */
			if (llm_act_type(type) != LLM_DTYPE_F32 && llm_act_type(type) != LLM_DTYPE_F16 &&
				llm_act_type(type) != LLM_DTYPE_BF16)
				bad_simd += fbits(simd) != fbits(scalar);

			/* vs the dequantised row times the dequantised activations */
			if (llm_act_type(type) == LLM_DTYPE_Q8_0 || llm_act_type(type) == LLM_DTYPE_Q8_1 ||
				llm_act_type(type) == LLM_DTYPE_Q8_K)
			{
				static float w[N],
							xa[N];
				double		ref = 0.0,
							mag = 0.0;

				llm_dequantize_row(type, row, w, N);
				for (int i = 0; i < N; i++)
				{
					if (llm_act_type(type) == LLM_DTYPE_Q8_K)
					{
						const act_q8_k *a = (const act_q8_k *) act + i / 256;

						xa[i] = a->d * a->qs[i % 256];
					}
					else
					{
						const act_q8 *a = (const act_q8 *) act + i / 32;

						xa[i] = a->d * a->qs[i % 32];
					}
					ref += (double) w[i] * xa[i];
					mag += fabs((double) w[i] * xa[i]);
				}

				/*
				 * Q4_1/Q5_1 use the block's stored s (fp16 of d*sum q) for
				 * the offset term: allow its fp16 rounding
				 */
				if (fabs(simd - ref) > 1e-5 * mag + 2e-3 * fabs(ref) + 1e-6)
				{
					if (bad_dot++ < 3)
						printf("  type %u: dot %.9g, reference %.9g\n", type, simd, ref);
				}
			}
		}
	}
	CHECK(bad_quant == 0, "activation quantisers vs reference: %d mismatches", bad_quant);
	CHECK(bad_simd == 0, "activation kernels (%s) vs scalar: %d not bit-identical",
		  llm_quant_kernel_name(), bad_simd);
	CHECK(bad_dot == 0, "quantised-activation dots vs reference: %d off", bad_dot);
	printf("activation kernels: Q4_1 dot uses %s, quantisers and dots bit-identical to scalar\n",
		   llm_quant_act_kernel_for(LLM_DTYPE_Q4_1));
}

int
main(void)
{
	test_force_scalar_env();	/* first: before this process picks kernels */
	test_supported();
	test_fp16();
	test_bf16();
	test_hand_blocks();
	test_random_vs_reference();
	test_dot();
	test_simd_vs_scalar();
	test_defensive();
	test_vectors();
	test_activations();
	return TEST_DONE();
}
