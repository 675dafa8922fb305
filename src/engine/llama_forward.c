/*
 * llama_forward.c — the llama forward pass over a batch of tokens.
 *
 * Scalar and straightforward on purpose: this is the reference the fast
 * kernels are tested against.  It is still shaped for speed in the ways that
 * matter to the code that will replace its loops:
 *  - weights are read in their stored blocks from the mapping (llm_vec_dot);
 *  - every projection is matrix x matrix: for each weight row, a dot product
 *    with every token of the batch (matmul() below), so a weight row is read
 *    once per batch and a GEMM kernel can take its place;
 *  - all scratch memory is allocated once per context, for the largest batch.
 *
 * Numerics are those of llama.cpp's CPU backend (x86, AVX2 + FMA build),
 * to the bit on the default model: RMSNorm sums squares in double and
 * scales by 1/sqrtf(mean + eps); RoPE angles are built by repeated
 * multiplication by base^(-2/n_rot) in float and the rotation is fused as
 * gcc fuses ggml's; keys and values go through the cache (f16 by default)
 * before attention reads them, also for the tokens of the batch itself;
 * with an f16 cache, Q and the softmax weights are rounded to f16 too, as
 * ggml converts the other operand of an f16 matrix product, and K.Q and P.V
 * sum in the lane order of the kernel ggml picks for the batch size;
 * softmax and SiLU use ggml's vectorised expf (vmath.c).  Matrix products
 * round their activations as llama.cpp does (matmul.c).  With an f32
 * cache, attention is plain float arithmetic.
 */
#include "llama.h"
#include "matmul.h"

#include "quant.h"
#include "vmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LLM_DEFAULT_N_BATCH 512
#define LLM_MAX_N_BATCH 65536

/* One cache cell a token of the batch may attend to. */
typedef struct visible_cell
{
	int32_t		pos;
	int32_t		cell;
} visible_cell;

struct llm_context
{
	const llm_weights *w;
	const llm_hparams *hp;
	int32_t		n_ctx;
	int32_t		n_batch;
	int32_t		n_seq_max;

	llm_kv_cache kv;

	/* RoPE and attention constants */
	float		rope_freq_scale;	/* 1 / linear scaling factor */
	float		rope_theta_scale;	/* freq_base^(-2/n_rot) */
	float	   *rope_freq_factors;	/* [n_rot/2] or NULL */
	float		kq_scale;		/* 1/sqrt(head size) */

	/* widths */
	int32_t		n_embd;
	int32_t		q_dim;			/* n_head * head_k */
	int32_t		k_dim;			/* n_head_kv * head_k */
	int32_t		v_dim;			/* n_head_kv * head_v */
	int32_t		o_dim;			/* n_head * head_v */
	int32_t		n_ff;

	/* per-token scratch, n_batch rows each */
	float	   *x;				/* residual stream [n_batch][n_embd] */
	float	   *xn;				/* normalised input of a block [n_batch][n_embd] */
	float	   *q;				/* [n_batch][q_dim] */
	float	   *k;				/* [n_batch][k_dim] */
	float	   *v;				/* [n_batch][v_dim] */
	float	   *att;			/* attention output [n_batch][o_dim] */
	float	   *proj;			/* output of wo / ffn_down [n_batch][n_embd] */
	float	   *gate;			/* [n_batch][n_ff] */
	float	   *up;				/* [n_batch][n_ff] */
	float	   *rope_cs;		/* cos, sin pairs [n_batch][n_rot] */

	/* other scratch */
	float	   *vec;			/* one dequantised norm weight or bias */
	float	   *scores;			/* [group][n_ctx] attention weights of a head group */
	float	   *row_buf;		/* one cached key/value row of one head, as f32 */
	float	   *lanes;			/* [group][32][head_v] partial sums of P.V */
	int32_t    *cells;			/* [n_batch] cell reserved for each token */
	int32_t    *out_rows;		/* [n_batch] tokens that want logits */
	int32_t    *seq_zero;		/* [n_batch] zeros: the sequence ids of a batch without them */
	visible_cell *visible;		/* [n_ctx] cells per sequence, sorted by pos */
	int32_t    *seq_first;		/* [n_seq_max] start of the sequence in visible */
	int32_t    *seq_len;		/* [n_seq_max] its cells there */
	bool	   *seq_in_batch;	/* [n_seq_max] */
};

llm_context_params
llm_context_default_params(void)
{
	llm_context_params p;

	memset(&p, 0, sizeof(p));
	p.n_ctx = 0;
	p.n_batch = LLM_DEFAULT_N_BATCH;
	p.n_seq_max = 1;
	p.kv_type = LLM_KV_F16;
	return p;
}

/* llm_malloc of n1 * n2 elements of size elem, overflow-checked; NULL on failure. */
static void *
alloc_array(size_t n1, size_t n2, size_t elem)
{
	size_t		total;

	if (!llm_mul_size(n1, n2, &total) || !llm_mul_size(total, elem, &total))
		return NULL;
	return llm_malloc(total);
}

llm_status
llm_context_create(const llm_weights *w, const llm_context_params *params,
				   llm_context **out, llm_error *err)
{
	const llm_hparams *hp = w->hp;
	llm_context_params p = params ? *params : llm_context_default_params();
	llm_context *ctx;
	llm_status	st;
	size_t		nb;
	size_t		vec_len;

	*out = NULL;
	if (p.n_ctx == 0)
		p.n_ctx = hp->n_ctx_train > INT32_MAX ? INT32_MAX : (int32_t) hp->n_ctx_train;
	if (p.n_batch == 0)
		p.n_batch = LLM_DEFAULT_N_BATCH;
	if (p.n_seq_max == 0)
		p.n_seq_max = 1;
	if (p.n_ctx < 1)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "context size %d is not positive", p.n_ctx);
	if (p.n_batch < 1 || p.n_batch > LLM_MAX_N_BATCH)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "batch size %d is out of range (1 .. %d)", p.n_batch, LLM_MAX_N_BATCH);
	if (p.n_seq_max < 1 || p.n_seq_max > p.n_ctx)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "number of sequences %d is out of range (1 .. %d)", p.n_seq_max, p.n_ctx);
	if (p.n_batch > p.n_ctx)
		p.n_batch = p.n_ctx;	/* a batch can never need more cells than exist */

	ctx = llm_calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory creating a model context");
	ctx->w = w;
	ctx->hp = hp;
	ctx->n_ctx = p.n_ctx;
	ctx->n_batch = p.n_batch;
	ctx->n_seq_max = p.n_seq_max;
	/* hparams are validated: each of these is <= 2^20 */
	ctx->n_embd = (int32_t) hp->n_embd;
	ctx->q_dim = (int32_t) (hp->n_head * hp->n_embd_head_k);
	ctx->k_dim = (int32_t) (hp->n_head_kv * hp->n_embd_head_k);
	ctx->v_dim = (int32_t) (hp->n_head_kv * hp->n_embd_head_v);
	ctx->o_dim = (int32_t) (hp->n_head * hp->n_embd_head_v);
	ctx->n_ff = (int32_t) hp->n_ff;

	st = llm_kv_cache_init(&ctx->kv, p.kv_type, (int32_t) hp->n_layer, p.n_ctx,
						   ctx->k_dim, ctx->v_dim, p.n_seq_max, err);
	if (st != LLM_OK)
	{
		llm_free(ctx);
		return st;
	}

	/*
	 * llama.cpp applies 1/factor whenever a scaling factor is present (type
	 * "linear" or none given); YaRN and LongRoPE were refused at load.
	 */
	ctx->rope_freq_scale = 1.0f / hp->rope_scaling_factor;
	ctx->rope_theta_scale = powf(hp->rope_freq_base, -2.0f / (float) hp->n_rot);
	ctx->kq_scale = 1.0f / sqrtf((float) hp->n_embd_head_k);

	nb = (size_t) p.n_batch;
	vec_len = hp->n_embd;
	if ((size_t) ctx->q_dim > vec_len)
		vec_len = ctx->q_dim;
	if ((size_t) ctx->k_dim > vec_len)
		vec_len = ctx->k_dim;
	if ((size_t) ctx->v_dim > vec_len)
		vec_len = ctx->v_dim;
	if ((size_t) ctx->n_ff > vec_len)
		vec_len = ctx->n_ff;

	ctx->x = alloc_array(nb, ctx->n_embd, sizeof(float));
	ctx->xn = alloc_array(nb, ctx->n_embd, sizeof(float));
	ctx->q = alloc_array(nb, ctx->q_dim, sizeof(float));
	ctx->k = alloc_array(nb, ctx->k_dim, sizeof(float));
	ctx->v = alloc_array(nb, ctx->v_dim, sizeof(float));
	ctx->att = alloc_array(nb, ctx->o_dim, sizeof(float));
	ctx->proj = alloc_array(nb, ctx->n_embd, sizeof(float));
	ctx->gate = alloc_array(nb, ctx->n_ff, sizeof(float));
	ctx->up = alloc_array(nb, ctx->n_ff, sizeof(float));
	ctx->rope_cs = alloc_array(nb, hp->n_rot, sizeof(float));
	ctx->vec = alloc_array(1, vec_len, sizeof(float));
	ctx->scores = alloc_array((size_t) (hp->n_head / hp->n_head_kv), (size_t) p.n_ctx, sizeof(float));
	ctx->row_buf = alloc_array(1, hp->n_embd_head_k > hp->n_embd_head_v ?
							   hp->n_embd_head_k : hp->n_embd_head_v, sizeof(float));
	ctx->lanes = alloc_array((size_t) (hp->n_head / hp->n_head_kv) * 32, hp->n_embd_head_v,
							 sizeof(float));
	ctx->cells = alloc_array(1, nb, sizeof(int32_t));
	ctx->out_rows = alloc_array(1, nb, sizeof(int32_t));
	ctx->seq_zero = alloc_array(1, nb, sizeof(int32_t));
	ctx->visible = alloc_array(1, (size_t) p.n_ctx, sizeof(visible_cell));
	ctx->seq_first = alloc_array(1, (size_t) p.n_seq_max, sizeof(int32_t));
	ctx->seq_len = alloc_array(1, (size_t) p.n_seq_max, sizeof(int32_t));
	ctx->seq_in_batch = alloc_array(1, (size_t) p.n_seq_max, sizeof(bool));
	if (w->rope_freqs.data != NULL)
		ctx->rope_freq_factors = alloc_array(1, hp->n_rot / 2, sizeof(float));

	if (ctx->x == NULL || ctx->xn == NULL || ctx->q == NULL || ctx->k == NULL ||
		ctx->v == NULL || ctx->att == NULL || ctx->proj == NULL || ctx->gate == NULL ||
		ctx->up == NULL || ctx->rope_cs == NULL || ctx->vec == NULL ||
		ctx->scores == NULL || ctx->row_buf == NULL || ctx->lanes == NULL || ctx->cells == NULL || ctx->out_rows == NULL || ctx->seq_zero == NULL ||
		ctx->visible == NULL || ctx->seq_first == NULL || ctx->seq_len == NULL ||
		ctx->seq_in_batch == NULL ||
		(w->rope_freqs.data != NULL && ctx->rope_freq_factors == NULL))
	{
		llm_context_free(ctx);
		return llm_error_set(err, LLM_ERR_NOMEM,
							 "out of memory allocating scratch for a batch of %d tokens",
							 p.n_batch);
	}
	if (w->rope_freqs.data != NULL)
	{
		llm_dequantize_row(w->rope_freqs.type, w->rope_freqs.data,
						   ctx->rope_freq_factors, w->rope_freqs.n_cols);
		for (uint32_t i = 0; i < hp->n_rot / 2; i++)
			if (!isfinite(ctx->rope_freq_factors[i]) || ctx->rope_freq_factors[i] <= 0.0f)
			{
				llm_context_free(ctx);
				return llm_error_set(err, LLM_ERR_CORRUPT,
									 "tensor \"rope_freqs.weight\" holds a value that is not a positive number");
			}
	}

	*out = ctx;
	return LLM_OK;
}

void
llm_context_free(llm_context *ctx)
{
	if (ctx == NULL)
		return;
	llm_kv_cache_free(&ctx->kv);
	llm_free(ctx->x);
	llm_free(ctx->xn);
	llm_free(ctx->q);
	llm_free(ctx->k);
	llm_free(ctx->v);
	llm_free(ctx->att);
	llm_free(ctx->proj);
	llm_free(ctx->gate);
	llm_free(ctx->up);
	llm_free(ctx->rope_cs);
	llm_free(ctx->vec);
	llm_free(ctx->scores);
	llm_free(ctx->row_buf);
	llm_free(ctx->lanes);
	llm_free(ctx->cells);
	llm_free(ctx->out_rows);
	llm_free(ctx->seq_zero);
	llm_free(ctx->visible);
	llm_free(ctx->seq_first);
	llm_free(ctx->seq_len);
	llm_free(ctx->seq_in_batch);
	llm_free(ctx->rope_freq_factors);
	llm_free(ctx);
}

int32_t
llm_context_n_ctx(const llm_context *ctx)
{
	return ctx->n_ctx;
}

int32_t
llm_context_n_batch(const llm_context *ctx)
{
	return ctx->n_batch;
}

int32_t
llm_context_n_seq_max(const llm_context *ctx)
{
	return ctx->n_seq_max;
}

int32_t
llm_context_n_vocab(const llm_context *ctx)
{
	return (int32_t) ctx->hp->n_vocab;
}

llm_kv_cache *
llm_context_kv(llm_context *ctx)
{
	return &ctx->kv;
}

/* ------------------------------------------------------------------------
 * Kernels (scalar reference versions)
 * ------------------------------------------------------------------------
 */

/* y[t][r] = dot(row r of w, x[t]) for every row r of w and token t. */
static void
matmul(const llm_matrix *w, const float *x, size_t x_stride, int32_t n_tokens,
	   float *y, size_t y_stride)
{
	llm_matmul(w->type, w->data, w->row_bytes, w->n_rows, w->n_cols,
			   x, x_stride, n_tokens, y, y_stride);
}

/* A vector weight (norm weight, bias) as f32 in ctx->vec. */
static const float *
load_vector(llm_context *ctx, const llm_matrix *m)
{
	llm_dequantize_row(m->type, m->data, ctx->vec, m->n_cols);
	return ctx->vec;
}

/* y[t] += bias for every token, when the bias exists. */
static void
add_bias(llm_context *ctx, const llm_matrix *bias, float *y, size_t stride,
		 int32_t n_tokens)
{
	const float *b;

	if (bias->data == NULL)
		return;
	b = load_vector(ctx, bias);
	for (int32_t t = 0; t < n_tokens; t++)
		for (int64_t i = 0; i < bias->n_cols; i++)
			y[(size_t) t * stride + (size_t) i] += b[i];
}

/*
 * out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * weight, for n_tokens rows of n.
 * The sum of squares is accumulated in double, as ggml does.
 */
static void
rms_norm(llm_context *ctx, const llm_matrix *weight, const float *x, float *out,
		 int32_t n_tokens, int32_t n)
{
	const float *w = load_vector(ctx, weight);
	const float eps = ctx->hp->norm_rms_eps;

	for (int32_t t = 0; t < n_tokens; t++)
	{
		const float *xt = x + (size_t) t * n;
		float	   *ot = out + (size_t) t * n;
		double		sum = 0.0;
		float		mean,
					scale;

		for (int32_t i = 0; i < n; i++)
			sum += (double) (xt[i] * xt[i]);
		mean = (float) (sum / n);
		scale = 1.0f / sqrtf(mean + eps);
		for (int32_t i = 0; i < n; i++)
			ot[i] = xt[i] * scale * w[i];
	}
}

/*
 * cos/sin of every rotated pair for each token's position: pair i turns by
 * pos * freq_scale * base^(-2i/n_rot) / freq_factor[i].  The angle is built
 * by repeated multiplication as ggml's rope cache does, so the rounding
 * matches.
 */
static void
rope_prepare(llm_context *ctx, const int32_t *pos, int32_t n_tokens)
{
	const uint32_t n_rot = ctx->hp->n_rot;

	for (int32_t t = 0; t < n_tokens; t++)
	{
		float	   *cs = ctx->rope_cs + (size_t) t * n_rot;
		float		theta = (float) pos[t];

		for (uint32_t i0 = 0; i0 < n_rot; i0 += 2)
		{
			float		ff = ctx->rope_freq_factors ? ctx->rope_freq_factors[i0 / 2] : 1.0f;
			float		angle = ctx->rope_freq_scale * (theta / ff);

			cs[i0] = cosf(angle);
			cs[i0 + 1] = sinf(angle);
			theta *= ctx->rope_theta_scale;
		}
	}
}

/*
 * Rotate adjacent pairs (x[2i], x[2i+1]) of the first n_rot values of each
 * head ("NORMAL" RoPE).  llama GGUFs store Q and K rows permuted by the
 * converter so that this is exactly HF's rotate_half on the original
 * weights; the rest of a head past n_rot is left as is.
 */
static void
rope_apply(llm_context *ctx, float *x, size_t stride, int32_t n_tokens,
		   int32_t n_heads, int32_t head_dim)
{
	const uint32_t n_rot = ctx->hp->n_rot;

	for (int32_t t = 0; t < n_tokens; t++)
	{
		const float *cs = ctx->rope_cs + (size_t) t * n_rot;

		for (int32_t h = 0; h < n_heads; h++)
		{
			float	   *xh = x + (size_t) t * stride + (size_t) h * head_dim;

			for (uint32_t i0 = 0; i0 < n_rot; i0 += 2)
			{
				float		x0 = xh[i0];
				float		x1 = xh[i0 + 1];

				/*
				 * llama.cpp's x86 build contracts these into fused
				 * multiply-adds (gcc -ffp-contract=fast): x0*cos fused
				 * with the rounded x1*sin, x0*sin fused with the rounded
				 * x1*cos.  Measured: only this pairing reproduces its
				 * logits exactly on SmolLM2.
				 */
				xh[i0] = fmaf(x0, cs[i0], -(x1 * cs[i0 + 1]));
				xh[i0 + 1] = fmaf(x0, cs[i0 + 1], x1 * cs[i0]);
			}
		}
	}
}

/*
 * IEEE binary16 -> binary32, exact for every input (zeros, subnormals,
 * infinities, NaNs).  Inline and branch-free because attention converts
 * every cached key and value it reads: shift the half's exponent and
 * mantissa into float position and rescale by 2^112 to rebias the exponent
 * (15 -> 127); subnormal halves, whose scaled value would be wrong, are
 * built instead by placing the mantissa under a fixed exponent and
 * subtracting that exponent's implicit one.
 */
static inline float
half_to_float(uint16_t h)
{
	const uint32_t w = (uint32_t) h << 16;
	const uint32_t sign = w & 0x80000000u;
	const uint32_t two_w = w + w;
	uint32_t	bits;
	float		normal,
				subnormal;

	bits = (two_w >> 4) + (0xE0u << 23);
	memcpy(&normal, &bits, sizeof(bits));
	normal *= 0x1.0p-112f;
	bits = (two_w >> 17) | (126u << 23);
	memcpy(&subnormal, &bits, sizeof(bits));
	subnormal -= 0.5f;

	memcpy(&bits, two_w < (1u << 27) ? &subnormal : &normal, sizeof(bits));
	bits |= sign;
	memcpy(&normal, &bits, sizeof(bits));
	return normal;
}

/*
 * A cached key or value row of one head as f32: a pointer into the cache
 * when it stores f32, else converted into buf.
 */
static inline const float *
cached_row(const llm_kv_cache *kv, const void *row, float *buf, int32_t n)
{
	const uint16_t *h = row;

	if (kv->type == LLM_KV_F32)
		return row;
	for (int32_t i = 0; i < n; i++)
		buf[i] = half_to_float(h[i]);
	return buf;
}

/*
 * Causal grouped-query attention of every token of the batch over the cells
 * its sequence may see (ctx->visible, prepared per batch).  The group of
 * n_head / n_head_kv query heads that share a key/value head is handled
 * together, so each cached row is read (and converted) once per group.
 *
 * The arithmetic is ggml's (non-flash attention, f16 cache), because
 * SmolLM2-class models turn last-bit differences here into visible logit
 * differences:
 *  - K.Q and P.V are f16 matrix products: the other operand is rounded to
 *    f16, and the dot products use the lane order of the kernel ggml picks
 *    (llamafile's tinyBLAS for 2+ tokens, ggml_vec_dot_f16 for one; see
 *    llm_dot_f16).  P.V runs over the cache cells, so cell j of the
 *    sequence goes to lane j % 8 (or j % 32), accumulated with fmaf.
 *  - softmax uses ggml's vectorised exp and 8-lane sums (llm_softmax_exp).
 * ggml's rows run over the whole padded KV window, with masked cells at
 * probability 0; those add nothing to any sum, so the visible cells alone
 * give the same results when a sequence's cells are in position order from
 * cell 0 (the usual single-sequence case).
 */
static void
attention(llm_context *ctx, int32_t layer, const llm_batch *b, const int32_t *seq)
{
	const llm_hparams *hp = ctx->hp;
	const int32_t head_k = (int32_t) hp->n_embd_head_k;
	const int32_t head_v = (int32_t) hp->n_embd_head_v;
	const int32_t group = (int32_t) (hp->n_head / hp->n_head_kv);
	const size_t elem = ctx->kv.elem_size;
	const bool	f16 = ctx->kv.type != LLM_KV_F32;

	/* tinyBLAS takes products with 2+ columns; P.V also needs head_v % 4 == 0 */
	const bool	gemm_kq = b->n_tokens >= 2;
	const bool	gemm_pv = b->n_tokens >= 2 && head_v % 4 == 0;
	const int32_t n_lanes = gemm_pv ? 8 : 32;

	/*
	 * K.Q in ggml is an f16 matrix (the cached keys) times Q, and ggml
	 * rounds Q to f16 for it: do the same (Q is used for nothing else).
	 */
	if (f16)
		for (size_t i = 0; i < (size_t) b->n_tokens * ctx->q_dim; i++)
			ctx->q[i] = llm_fp16_to_fp32(llm_fp32_to_fp16(ctx->q[i]));

	for (int32_t t = 0; t < b->n_tokens; t++)
	{
		const visible_cell *vis = ctx->visible + ctx->seq_first[seq[t]];
		int32_t		lo = 0,
					hi = ctx->seq_len[seq[t]];
		int32_t		n_vis;

		/* the sequence's cells are sorted by position: count those <= pos */
		while (lo < hi)
		{
			int32_t		mid = lo + (hi - lo) / 2;

			if (vis[mid].pos <= b->pos[t])
				lo = mid + 1;
			else
				hi = mid;
		}
		n_vis = lo;				/* >= 1: the token's own cell is there */

		for (int32_t kvh = 0; kvh < (int32_t) hp->n_head_kv; kvh++)
		{
			const int32_t h0 = kvh * group;

			/* scores[g][j] = q(h0+g) . k(j) / sqrt(head size) */
			for (int32_t j = 0; j < n_vis; j++)
			{
				const uint8_t *krow = llm_kv_cache_k_row(&ctx->kv, layer, vis[j].cell);
				const float *k = cached_row(&ctx->kv, krow + (size_t) kvh * head_k * elem,
											ctx->row_buf, head_k);

				for (int32_t g = 0; g < group; g++)
				{
					const float *q = ctx->q + (size_t) t * ctx->q_dim + (size_t) (h0 + g) * head_k;
					float		dot;

					if (f16)
						dot = llm_dot_f16(k, q, head_k, gemm_kq);
					else
					{
						dot = 0.0f;
						for (int32_t i = 0; i < head_k; i++)
							dot += q[i] * k[i];
					}
					ctx->scores[(size_t) g * ctx->n_ctx + j] = dot * ctx->kq_scale;
				}
			}

			/* softmax over j for each head, max subtracted, sum in double */
			for (int32_t g = 0; g < group; g++)
			{
				float	   *sc = ctx->scores + (size_t) g * ctx->n_ctx;
				float		max = -INFINITY;
				double		sum;
				float		inv_sum;

				for (int32_t j = 0; j < n_vis; j++)
					if (sc[j] > max)
						max = sc[j];
				sum = llm_softmax_exp(n_vis, sc, sc, max);
				inv_sum = (float) (1.0 / sum);
				for (int32_t j = 0; j < n_vis; j++)
					sc[j] *= inv_sum;

				/*
				 * ggml multiplies V (f16) with the probabilities converted
				 * to f16 (the vec_dot type of an f16 matrix)
				 */
				if (f16)
					for (int32_t j = 0; j < n_vis; j++)
						sc[j] = llm_fp16_to_fp32(llm_fp32_to_fp16(sc[j]));
			}

			/* out(h0+g) = sum_j p[g][j] * v(j), in lanes */
			memset(ctx->lanes, 0, (size_t) group * 32 * head_v * sizeof(float));
			for (int32_t j = 0; j < n_vis; j++)
			{
				const uint8_t *vrow = llm_kv_cache_v_row(&ctx->kv, layer, vis[j].cell);
				const float *v = cached_row(&ctx->kv, vrow + (size_t) kvh * head_v * elem,
											ctx->row_buf, head_v);

				for (int32_t g = 0; g < group; g++)
				{
					float	   *lane = ctx->lanes + ((size_t) g * 32 + (size_t) (j % n_lanes)) * head_v;

					llm_fma_row(lane, v, ctx->scores[(size_t) g * ctx->n_ctx + j], head_v);
				}
			}
			for (int32_t g = 0; g < group; g++)
				llm_sum_lanes(ctx->att + (size_t) t * ctx->o_dim + (size_t) (h0 + g) * head_v,
							  ctx->lanes + (size_t) g * 32 * head_v, head_v, head_v, gemm_pv);
		}
	}
}

/* ------------------------------------------------------------------------
 * Batch preparation
 * ------------------------------------------------------------------------
 */

static int
compare_visible(const void *a, const void *b)
{
	const visible_cell *x = a;
	const visible_cell *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return (x->cell > y->cell) - (x->cell < y->cell);
}

/*
 * Check the batch and reserve its cells; build, for every sequence in the
 * batch, the list of cells (already in the cache or reserved now) sorted by
 * position.  Nothing in the cache changes.
 */
static llm_status
prepare_batch(llm_context *ctx, const llm_batch *b, const int32_t *seq,
			  float *logits_out, int32_t *n_out, llm_error *err)
{
	const int32_t n_vocab = (int32_t) ctx->hp->n_vocab;
	int32_t		n_total = 0;

	if (b->token == NULL || b->pos == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "batch has no token or position array");
	*n_out = 0;
	for (int32_t t = 0; t < b->n_tokens; t++)
	{
		if (b->token[t] < 0 || b->token[t] >= n_vocab)
			return llm_error_set(err, LLM_ERR_INVALID_ARG,
								 "token id %d is outside the vocabulary (0 .. %d)",
								 b->token[t], n_vocab - 1);
		if (b->pos[t] < 0)
			return llm_error_set(err, LLM_ERR_INVALID_ARG,
								 "position %d is negative", b->pos[t]);
		if (b->pos[t] >= ctx->n_ctx)
		{
			llm_error_set(err, LLM_ERR_LIMIT,
						  "position %d is beyond the context size", b->pos[t]);
			llm_error_detail(err, "context size is %d tokens", ctx->n_ctx);
			return LLM_ERR_LIMIT;
		}
		if (seq[t] < 0 || seq[t] >= ctx->n_seq_max)
			return llm_error_set(err, LLM_ERR_INVALID_ARG,
								 "sequence id %d is out of range (0 .. %d)",
								 seq[t], ctx->n_seq_max - 1);
		if (b->logits ? b->logits[t] : t == b->n_tokens - 1)
			ctx->out_rows[(*n_out)++] = t;
	}
	if (*n_out > 0 && logits_out == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "batch asks for logits but gives no buffer");

	if (!llm_kv_cache_find_free(&ctx->kv, b->n_tokens, ctx->cells))
	{
		llm_error_set(err, LLM_ERR_LIMIT, "KV cache is full");
		llm_error_detail(err, "%d of %d cells used, batch needs %d",
						 ctx->kv.n_used, ctx->kv.n_cells, b->n_tokens);
		return LLM_ERR_LIMIT;
	}

	/* count the cells of each sequence in the batch: batch + cache */
	for (int32_t s = 0; s < ctx->n_seq_max; s++)
	{
		ctx->seq_len[s] = 0;
		ctx->seq_in_batch[s] = false;
	}
	for (int32_t t = 0; t < b->n_tokens; t++)
	{
		ctx->seq_len[seq[t]]++;
		ctx->seq_in_batch[seq[t]] = true;
	}
	for (int32_t c = 0; c < ctx->kv.n_cells; c++)
	{
		const llm_kv_cell *cell = &ctx->kv.cells[c];

		if (cell->pos >= 0 && ctx->seq_in_batch[cell->seq_id])
			ctx->seq_len[cell->seq_id]++;
	}
	/* n_total <= used cells + batch tokens <= n_ctx (the reserved cells were free) */
	for (int32_t s = 0; s < ctx->n_seq_max; s++)
	{
		ctx->seq_first[s] = n_total;
		n_total += ctx->seq_len[s];
		ctx->seq_len[s] = 0;	/* refilled below */
	}

	for (int32_t c = 0; c < ctx->kv.n_cells; c++)
	{
		const llm_kv_cell *cell = &ctx->kv.cells[c];

		if (cell->pos >= 0 && ctx->seq_in_batch[cell->seq_id])
		{
			int32_t		s = cell->seq_id;
			visible_cell *v = &ctx->visible[ctx->seq_first[s] + ctx->seq_len[s]++];

			v->pos = cell->pos;
			v->cell = c;
		}
	}
	for (int32_t t = 0; t < b->n_tokens; t++)
	{
		visible_cell *v = &ctx->visible[ctx->seq_first[seq[t]] + ctx->seq_len[seq[t]]++];

		v->pos = b->pos[t];
		v->cell = ctx->cells[t];
	}

	/* sort each sequence by position and refuse a position seen twice */
	for (int32_t s = 0; s < ctx->n_seq_max; s++)
	{
		visible_cell *v = ctx->visible + ctx->seq_first[s];
		int32_t		n = ctx->seq_len[s];

		if (n < 2)
			continue;
		qsort(v, (size_t) n, sizeof(*v), compare_visible);
		for (int32_t i = 1; i < n; i++)
			if (v[i].pos == v[i - 1].pos)
			{
				llm_error_set(err, LLM_ERR_INVALID_ARG,
							  "position %d of sequence %d is given twice",
							  v[i].pos, s);
				llm_error_detail(err, "a position already in the KV cache must be removed before it is computed again");
				return LLM_ERR_INVALID_ARG;
			}
	}
	return LLM_OK;
}

/* ------------------------------------------------------------------------
 * The forward pass
 * ------------------------------------------------------------------------
 */

llm_status
llm_forward(llm_context *ctx, const llm_batch *b, float *logits_out,
			llm_interrupt_fn interrupt_fn, void *interrupt_arg, llm_error *err)
{
	const llm_weights *w = ctx->w;
	const llm_hparams *hp = ctx->hp;
	const int32_t n_embd = ctx->n_embd;
	int32_t		n_tokens;
	int32_t		n_out = 0;
	const int32_t *seq;
	llm_status	st;

	if (b == NULL || b->n_tokens <= 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "batch has no tokens");
	if (b->n_tokens > ctx->n_batch)
	{
		llm_error_set(err, LLM_ERR_LIMIT, "batch of %d tokens exceeds the context's batch size",
					  b->n_tokens);
		llm_error_detail(err, "batch size is %d", ctx->n_batch);
		return LLM_ERR_LIMIT;
	}
	if (b->seq_id != NULL)
		seq = b->seq_id;
	else
	{
		memset(ctx->seq_zero, 0, (size_t) b->n_tokens * sizeof(int32_t));
		seq = ctx->seq_zero;
	}

	if ((st = prepare_batch(ctx, b, seq, logits_out, &n_out, err)) != LLM_OK)
		return st;
	n_tokens = b->n_tokens;

	/* token embeddings */
	for (int32_t t = 0; t < n_tokens; t++)
		llm_dequantize_row(w->token_embd.type,
						   w->token_embd.data + (size_t) b->token[t] * w->token_embd.row_bytes,
						   ctx->x + (size_t) t * n_embd, n_embd);

	rope_prepare(ctx, b->pos, n_tokens);

	for (uint32_t l = 0; l < hp->n_layer; l++)
	{
		const llm_layer_weights *lw = &w->layers[l];

		/* the cells are not committed yet, so stopping here leaves no trace */
		if (interrupt_fn != NULL && interrupt_fn(interrupt_arg) != 0)
			return llm_error_set(err, LLM_ERR_CANCELLED, "forward pass cancelled");

		/* attention block */
		rms_norm(ctx, &lw->attn_norm, ctx->x, ctx->xn, n_tokens, n_embd);
		matmul(&lw->wq, ctx->xn, n_embd, n_tokens, ctx->q, ctx->q_dim);
		matmul(&lw->wk, ctx->xn, n_embd, n_tokens, ctx->k, ctx->k_dim);
		matmul(&lw->wv, ctx->xn, n_embd, n_tokens, ctx->v, ctx->v_dim);
		add_bias(ctx, &lw->bq, ctx->q, ctx->q_dim, n_tokens);
		add_bias(ctx, &lw->bk, ctx->k, ctx->k_dim, n_tokens);
		add_bias(ctx, &lw->bv, ctx->v, ctx->v_dim, n_tokens);
		rope_apply(ctx, ctx->q, ctx->q_dim, n_tokens, (int32_t) hp->n_head,
				   (int32_t) hp->n_embd_head_k);
		rope_apply(ctx, ctx->k, ctx->k_dim, n_tokens, (int32_t) hp->n_head_kv,
				   (int32_t) hp->n_embd_head_k);

		/* keys and values enter the cache first: the batch attends to itself through it */
		for (int32_t t = 0; t < n_tokens; t++)
			llm_kv_cache_store(&ctx->kv, (int32_t) l, ctx->cells[t],
							   ctx->k + (size_t) t * ctx->k_dim,
							   ctx->v + (size_t) t * ctx->v_dim);
		attention(ctx, (int32_t) l, b, seq);

		matmul(&lw->wo, ctx->att, ctx->o_dim, n_tokens, ctx->proj, n_embd);
		add_bias(ctx, &lw->bo, ctx->proj, n_embd, n_tokens);
		for (size_t i = 0; i < (size_t) n_tokens * n_embd; i++)
			ctx->x[i] += ctx->proj[i];

		/* feed-forward block: down(silu(gate(x)) * up(x)) */
		rms_norm(ctx, &lw->ffn_norm, ctx->x, ctx->xn, n_tokens, n_embd);
		matmul(&lw->ffn_gate, ctx->xn, n_embd, n_tokens, ctx->gate, ctx->n_ff);
		matmul(&lw->ffn_up, ctx->xn, n_embd, n_tokens, ctx->up, ctx->n_ff);
		add_bias(ctx, &lw->ffn_gate_b, ctx->gate, ctx->n_ff, n_tokens);
		add_bias(ctx, &lw->ffn_up_b, ctx->up, ctx->n_ff, n_tokens);
		for (int32_t t = 0; t < n_tokens; t++)
			llm_swiglu(ctx->n_ff, ctx->gate + (size_t) t * ctx->n_ff,
					   ctx->gate + (size_t) t * ctx->n_ff, ctx->up + (size_t) t * ctx->n_ff);
		matmul(&lw->ffn_down, ctx->gate, ctx->n_ff, n_tokens, ctx->proj, n_embd);
		add_bias(ctx, &lw->ffn_down_b, ctx->proj, n_embd, n_tokens);
		for (size_t i = 0; i < (size_t) n_tokens * n_embd; i++)
			ctx->x[i] += ctx->proj[i];
	}

	if (interrupt_fn != NULL && interrupt_fn(interrupt_arg) != 0)
		return llm_error_set(err, LLM_ERR_CANCELLED, "forward pass cancelled");

	/* final norm and output projection, only for the rows that want logits */
	if (n_out > 0)
	{
		for (int32_t i = 0; i < n_out; i++)
			memmove(ctx->proj + (size_t) i * n_embd,
					ctx->x + (size_t) ctx->out_rows[i] * n_embd,
					(size_t) n_embd * sizeof(float));
		rms_norm(ctx, &w->output_norm, ctx->proj, ctx->xn, n_out, n_embd);
		matmul(&w->output, ctx->xn, n_embd, n_out, logits_out, hp->n_vocab);
	}

	llm_kv_cache_commit(&ctx->kv, n_tokens, ctx->cells, b->pos, seq);
	return LLM_OK;
}
