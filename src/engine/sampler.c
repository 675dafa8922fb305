/*
 * sampler.c — greedy and seeded stochastic choice of the next token.
 *
 * See sampler.h for the chain and its definitions.  How the work is kept
 * small for a 49k-256k vocabulary:
 *
 *  - one pass gathers the allowed tokens (penalised logits) and their max,
 *    in token id order, and they stay in that order;
 *  - top_k and top_p each keep a prefix of the ranking, so all they need to
 *    find is the last token kept (the "cut"); one final pass then keeps, in
 *    id order, whatever ranks at or before the cut and passes min_p;
 *  - top_k finds its cut with a bounded heap, O(n log k), and sorts only
 *    the k when top_p follows;
 *  - top_p alone buckets every candidate by its distance below the max
 *    logit (a quarter nat per bucket, so a bucket is a range of ranks) with
 *    each bucket's probability mass, finds the bucket where the cumulative
 *    mass reaches top_p, and sorts only that bucket.  The same cut as
 *    sorting everything, up to the rounding of the sums (they add the same
 *    terms in another order);
 *  - min_p is a threshold and needs no sort at all;
 *  - the draw walks the survivors in ascending token id order, which every
 *    path yields without sorting.
 */
#include "sampler.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The probabilities must come out identical on every build: forbid fusing
 * a*b+c into one fma (which rounds once instead of twice) in this file.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize ("fp-contract=off")
#endif

/* ---------------------------------------------------------------------------
 * xoshiro256** with splitmix64 seeding (https://prng.di.unimi.it/).
 */

static uint64_t
splitmix64_next(uint64_t *state)
{
	uint64_t	z;

	*state += UINT64_C(0x9e3779b97f4a7c15);
	z = *state;
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static inline uint64_t
rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
llm_rng_seed(llm_rng *rng, uint64_t seed)
{
	uint64_t	sm = seed;

	/* splitmix64 never yields four zero words, the one bad xoshiro state */
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64_next(&sm);
}

uint64_t
llm_rng_next(llm_rng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl64(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

double
llm_rng_uniform(llm_rng *rng)
{
	return (double) (llm_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* ---------------------------------------------------------------------------
 * exp(x) for x <= 0 from + and * only, so every platform gets the same bits.
 *
 * x = k ln2 + r with |r| <= ln2/2: k is rounded to nearest by adding
 * 1.5 * 2^52 (which also leaves k in the low mantissa bits, ready to become
 * the exponent of 2^k), and ln2 is split in two (fdlibm's constants) so
 * k * LN2_HI is exact.  e^r by its Taylor series to degree 11: relative
 * error below 1e-14, far below anything a draw can notice.  x is clamped
 * at -708 (e^-708 ~ 3e-308, still a normal double); no branch, so the
 * compiler can vectorise the loops that call it.
 */
#define LN2_HI	6.93147180369123816490e-01
#define LN2_LO	1.90821492927058770002e-10
#define LOG2E	1.44269504088896338700e+00
#define ROUND_MAGIC 0x1.8p52

static inline double
exp_nonpositive(double x)
{
	double		t,
				k,
				r,
				p,
				scale;
	uint64_t	bits;

	x = x < -708.0 ? -708.0 : x;
	t = x * LOG2E + ROUND_MAGIC;
	k = t - ROUND_MAGIC;
	r = (x - k * LN2_HI) - k * LN2_LO;

	p = 1.0 / 39916800.0;		/* 1/11! */
	p = p * r + 1.0 / 3628800.0;
	p = p * r + 1.0 / 362880.0;
	p = p * r + 1.0 / 40320.0;
	p = p * r + 1.0 / 5040.0;
	p = p * r + 1.0 / 720.0;
	p = p * r + 1.0 / 120.0;
	p = p * r + 1.0 / 24.0;
	p = p * r + 1.0 / 6.0;
	p = p * r + 0.5;
	p = p * r + 1.0;
	p = p * r + 1.0;

	/*
	 * t's low mantissa bits are 2^51 + k, k in [-1021, 0]: the low 12 bits
	 * of that plus the bias are the exponent field of 2^k
	 */
	memcpy(&bits, &t, sizeof(bits));
	bits = (bits + 1023) << 52;
	memcpy(&scale, &bits, sizeof(scale));
	return p * scale;
}

/* ---------------------------------------------------------------------------
 * The sampler.
 */

typedef struct llm_candidate
{
	float		logit;			/* after the repeat penalty */
	int32_t		id;
} llm_candidate;

struct llm_sampler
{
	llm_sampler_params p;
	int32_t		n_vocab;
	llm_rng		rng;

	llm_candidate *cand;		/* n_vocab: the candidates, in id order */
	llm_candidate *ranked;		/* n_vocab: some of them, by rank */
	double	   *weight;			/* n_vocab: per-candidate weights */

	/* repeat penalty: NULL when off */
	uint32_t   *seen;			/* n_vocab: occurrences in the window */
	int32_t    *ring;			/* last repeat_last_n tokens, when > 0 */
	int32_t		ring_len;
	int32_t		ring_head;		/* index of the oldest token */
};

void
llm_sampler_params_init(llm_sampler_params *p)
{
	p->temperature = 0.0;
	p->top_k = 0;
	p->top_p = 1.0;
	p->min_p = 0.0;
	p->repeat_penalty = 1.0;
	p->repeat_last_n = 64;
	p->seed = 0;
}

static llm_status
check_params(const llm_sampler_params *p, int32_t n_vocab, llm_error *err)
{
	if (p == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "sampler parameters are missing");
	if (n_vocab <= 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "n_vocab must be > 0, got %d", (int) n_vocab);
	if (!isfinite(p->temperature) || p->temperature < 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "temperature must be a finite number >= 0, got %g",
							 p->temperature);
	if (p->top_k < 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "top_k must be >= 0 (0 turns it off), got %d",
							 (int) p->top_k);
	if (!(p->top_p > 0 && p->top_p <= 1))
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "top_p must be a number in (0, 1] (1 turns it off), got %g",
							 p->top_p);
	if (!(p->min_p >= 0 && p->min_p <= 1))
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "min_p must be a number in [0, 1] (0 turns it off), got %g",
							 p->min_p);
	if (!isfinite(p->repeat_penalty) || p->repeat_penalty <= 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "repeat_penalty must be a finite number > 0 (1 turns it off), got %g",
							 p->repeat_penalty);
	if (p->repeat_last_n < -1 || p->repeat_last_n > LLM_SAMPLER_MAX_LAST_N)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "repeat_last_n must be -1 (all tokens) or between 0 and %d, got %d",
							 LLM_SAMPLER_MAX_LAST_N, (int) p->repeat_last_n);
	return LLM_OK;
}

llm_sampler *
llm_sampler_create(const llm_sampler_params *p, int32_t n_vocab, llm_error *err)
{
	llm_sampler *s;

	if (check_params(p, n_vocab, err) != LLM_OK)
		return NULL;

	s = llm_calloc(1, sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->p = *p;
	s->n_vocab = n_vocab;
	if (p->temperature > 0)
	{
		/* greedy needs no scratch */
		s->cand = llm_calloc((size_t) n_vocab, sizeof(*s->cand));
		s->ranked = llm_calloc((size_t) n_vocab, sizeof(*s->ranked));
		s->weight = llm_calloc((size_t) n_vocab, sizeof(*s->weight));
		if (s->cand == NULL || s->ranked == NULL || s->weight == NULL)
			goto nomem;
	}

	if (p->repeat_penalty != 1.0 && p->repeat_last_n != 0)
	{
		s->seen = llm_calloc((size_t) n_vocab, sizeof(*s->seen));
		if (s->seen == NULL)
			goto nomem;
		if (p->repeat_last_n > 0)
		{
			s->ring = llm_calloc((size_t) p->repeat_last_n, sizeof(*s->ring));
			if (s->ring == NULL)
				goto nomem;
		}
	}

	llm_rng_seed(&s->rng, p->seed);
	return s;

nomem:
	llm_sampler_free(s);
	llm_error_set(err, LLM_ERR_NOMEM, "out of memory creating a sampler for %d tokens",
				  (int) n_vocab);
	return NULL;
}

void
llm_sampler_free(llm_sampler *s)
{
	if (s == NULL)
		return;
	llm_free(s->cand);
	llm_free(s->ranked);
	llm_free(s->weight);
	llm_free(s->seen);
	llm_free(s->ring);
	llm_free(s);
}

void
llm_sampler_reset(llm_sampler *s)
{
	if (s == NULL)
		return;
	if (s->seen != NULL)
		memset(s->seen, 0, (size_t) s->n_vocab * sizeof(*s->seen));
	s->ring_len = 0;
	s->ring_head = 0;
	llm_rng_seed(&s->rng, s->p.seed);
}

void
llm_sampler_accept(llm_sampler *s, int32_t token)
{
	if (s == NULL || s->seen == NULL || token < 0 || token >= s->n_vocab)
		return;

	if (s->ring == NULL)
	{
		/* window = whole history */
		if (s->seen[token] < UINT32_MAX)
			s->seen[token]++;
		return;
	}

	if (s->ring_len == s->p.repeat_last_n)
	{
		/* window full: the oldest token leaves it */
		int32_t		old = s->ring[s->ring_head];

		s->seen[old]--;
		s->ring[s->ring_head] = token;
		s->ring_head = (s->ring_head + 1) % s->p.repeat_last_n;
	}
	else
	{
		s->ring[(s->ring_head + s->ring_len) % s->p.repeat_last_n] = token;
		s->ring_len++;
	}
	s->seen[token]++;
}

/*
 * The repeat penalty (llama.cpp's): divide a positive logit, multiply a
 * negative one, so a seen token always becomes less likely.  Computed in
 * double and clamped so a tiny penalty cannot turn a finite logit into inf.
 */
static inline float
penalised_logit(const llm_sampler *s, int32_t id, float logit)
{
	double		v;

	if (s->seen == NULL || s->seen[id] == 0 || isinf(logit))
		return logit;
	if (logit <= 0)
		v = (double) logit * s->p.repeat_penalty;
	else
		v = (double) logit / s->p.repeat_penalty;
	if (v > FLT_MAX)
		return FLT_MAX;
	if (v < -FLT_MAX)
		return -FLT_MAX;
	return (float) v;
}

static llm_status
bad_logit(llm_error *err, int32_t id, float logit)
{
	return llm_error_set(err, LLM_ERR_INVALID_ARG,
						 "the logit of token %d is %s: the model produced non-finite values",
						 (int) id, isnan(logit) ? "NaN" : "+inf");
}

static llm_status
nothing_to_sample(llm_error *err, int32_t n_vocab)
{
	return llm_error_set(err, LLM_ERR_INVALID_ARG,
						 "no token can be sampled: all %d tokens are masked out or have a logit of -inf",
						 (int) n_vocab);
}

/* Ranking: higher logit first, then lower id.  A total order. */
static inline bool
ranks_before(const llm_candidate *a, const llm_candidate *b)
{
	return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int
cmp_rank(const void *pa, const void *pb)
{
	const llm_candidate *a = pa;
	const llm_candidate *b = pb;

	if (ranks_before(a, b))
		return -1;
	if (ranks_before(b, a))
		return 1;
	return 0;
}

static llm_status
sample_greedy(llm_sampler *s, const float *logits, const bool *allowed,
			  int32_t *token, llm_error *err)
{
	int32_t		best_id = -1;
	float		best = 0;

	for (int32_t i = 0; i < s->n_vocab; i++)
	{
		float		l;

		if (allowed != NULL && !allowed[i])
			continue;
		l = logits[i];
		if (!(l < INFINITY))	/* NaN or +inf, in one comparison */
			return bad_logit(err, i, l);
		l = penalised_logit(s, i, l);
		if (l == -INFINITY)
			continue;
		/* strict > keeps the lowest id among equal logits */
		if (best_id < 0 || l > best)
		{
			best_id = i;
			best = l;
		}
	}
	if (best_id < 0)
		return nothing_to_sample(err, s->n_vocab);
	*token = best_id;
	return LLM_OK;
}

/*
 * The k best of cand[0 .. n) into top[0 .. k), in heap order with the worst
 * of them at top[0].  A heap of the k best so far, worst at the root: each
 * later candidate costs one comparison unless it beats the worst of them.
 */
static void
heap_sift_down(llm_candidate *h, int32_t n, int32_t i)
{
	for (;;)
	{
		int32_t		worst = i;
		int32_t		l = 2 * i + 1;
		int32_t		r = l + 1;
		llm_candidate tmp;

		if (l < n && ranks_before(&h[worst], &h[l]))
			worst = l;
		if (r < n && ranks_before(&h[worst], &h[r]))
			worst = r;
		if (worst == i)
			return;
		tmp = h[i];
		h[i] = h[worst];
		h[worst] = tmp;
		i = worst;
	}
}

static void
select_top_k(const llm_candidate *cand, int32_t n, int32_t k, llm_candidate *top)
{
	memcpy(top, cand, (size_t) k * sizeof(*top));
	for (int32_t i = k / 2 - 1; i >= 0; i--)
		heap_sift_down(top, k, i);
	for (int32_t j = k; j < n; j++)
	{
		if (ranks_before(&cand[j], &top[0]))
		{
			top[0] = cand[j];
			heap_sift_down(top, k, 0);
		}
	}
}

/*
 * w[j] = exp((logit_j - max) / temperature): softmax numerators in (0, 1].
 * A loop of its own, without branches, so it can be vectorised.
 */
static void
fill_weights(const llm_candidate *cand, int32_t m, double max_logit,
			 double temperature, double *w)
{
	for (int32_t j = 0; j < m; j++)
		w[j] = exp_nonpositive(((double) cand[j].logit - max_logit) / temperature);
}

/*
 * Walk ranked[0 .. m) (in rank order) adding probability mass to acc until
 * it reaches target; the index of the token that reaches it, or m - 1 if
 * rounding leaves the sum just short.
 */
static int32_t
top_p_walk(const llm_candidate *ranked, int32_t m, double max_logit,
		   double acc, double target)
{
	for (int32_t j = 0; j < m; j++)
	{
		acc += exp_nonpositive((double) ranked[j].logit - max_logit);
		if (acc >= target)
			return j;
	}
	return m - 1;
}

#define TOP_P_BUCKETS 256
#define TOP_P_BUCKETS_PER_NAT 4.0

/* Bucket of a logit by its distance below the max: monotone in rank. */
static inline int
top_p_bucket(float logit, double max_logit)
{
	double		d = (max_logit - (double) logit) * TOP_P_BUCKETS_PER_NAT;

	/* compare before converting: the distance can be ~1e39 */
	return d < TOP_P_BUCKETS - 1 ? (int) d : TOP_P_BUCKETS - 1;
}

/*
 * top_p over all of cand[0 .. n) (no top_k before it) without sorting them
 * all: the mass of each bucket gives the bucket B where the cumulative mass
 * reaches top_p; the buckets before B are kept whole (a bucket holds
 * exactly a range of ranks), and only B is sorted and walked.  Returns the
 * last kept token: every token ranking at or before it survives.
 */
static llm_candidate
top_p_cut_bucketed(llm_sampler *s, int32_t n, double max_logit)
{
	const llm_candidate *cand = s->cand;
	llm_candidate *ranked = s->ranked;
	double	   *w = s->weight;
	double		mass[TOP_P_BUCKETS];
	int32_t		count[TOP_P_BUCKETS];
	double		z = 0;
	double		target;
	double		before = 0;
	int			b;
	int32_t		n_in_bucket = 0;

	memset(mass, 0, sizeof(mass));
	memset(count, 0, sizeof(count));
	fill_weights(cand, n, max_logit, 1.0, w);
	for (int32_t j = 0; j < n; j++)
	{
		int			bj = top_p_bucket(cand[j].logit, max_logit);

		z += w[j];
		mass[bj] += w[j];
		count[bj]++;
	}
	target = s->p.top_p * z;

	for (b = 0; b < TOP_P_BUCKETS - 1; b++)
	{
		if (before + mass[b] >= target)
			break;
		before += mass[b];
	}

	if (count[b] == 0)
	{
		/*
		 * Only when top_p is within rounding of 1 and the sums fell short:
		 * keep everything up to the last bucket with tokens (bucket 0 has
		 * the top token).
		 */
		while (count[b] == 0)
			b--;
		target = INFINITY;
	}

	for (int32_t j = 0; j < n; j++)
		if (top_p_bucket(cand[j].logit, max_logit) == b)
			ranked[n_in_bucket++] = cand[j];
	qsort(ranked, (size_t) n_in_bucket, sizeof(*ranked), cmp_rank);
	return ranked[top_p_walk(ranked, n_in_bucket, max_logit, before, target)];
}

static llm_status
sample_stochastic(llm_sampler *s, const float *logits, const bool *allowed,
				  int32_t *token, llm_error *err)
{
	llm_candidate *cand = s->cand;
	llm_candidate *ranked = s->ranked;
	double	   *w = s->weight;
	int32_t		n = 0;
	int32_t		m;
	float		max_logit = -INFINITY;
	bool		have_cut = false;
	llm_candidate cut = {0, 0};
	double		total;
	double		target;
	double		acc;
	int32_t		chosen;

	/* gather the allowed tokens in id order, penalised */
	for (int32_t i = 0; i < s->n_vocab; i++)
	{
		float		l;

		if (allowed != NULL && !allowed[i])
			continue;
		l = logits[i];
		if (!(l < INFINITY))	/* NaN or +inf, in one comparison */
			return bad_logit(err, i, l);
		l = penalised_logit(s, i, l);
		if (l == -INFINITY)
			continue;
		cand[n].logit = l;
		cand[n].id = i;
		n++;
		if (l > max_logit)
			max_logit = l;
	}
	if (n == 0)
		return nothing_to_sample(err, s->n_vocab);

	/*
	 * top_k and top_p both keep a prefix of the ranking: find its last
	 * token ("cut") without reordering cand, which stays in id order.
	 */
	if (s->p.top_k > 0 && s->p.top_k < n)
	{
		int32_t		k = s->p.top_k;

		select_top_k(cand, n, k, ranked);
		cut = ranked[0];		/* the worst of the k */
		have_cut = true;
		if (s->p.top_p < 1.0 && k > 1)
		{
			double		z = 0;

			qsort(ranked, (size_t) k, sizeof(*ranked), cmp_rank);
			for (int32_t j = 0; j < k; j++)
				z += exp_nonpositive((double) ranked[j].logit - max_logit);
			cut = ranked[top_p_walk(ranked, k, max_logit, 0, s->p.top_p * z)];
		}
	}
	else if (s->p.top_p < 1.0 && n > 1)
	{
		cut = top_p_cut_bucketed(s, n, max_logit);
		have_cut = true;
	}

	/*
	 * Keep, in id order, what ranks at or before the cut and passes min_p
	 * (p >= min_p * p_max).  The top token always passes both.
	 */
	m = n;
	if (have_cut || s->p.min_p > 0.0)
	{
		m = 0;
		for (int32_t j = 0; j < n; j++)
		{
			if (have_cut && ranks_before(&cut, &cand[j]))
				continue;
			if (s->p.min_p > 0.0 &&
				exp_nonpositive((double) cand[j].logit - max_logit) < s->p.min_p)
				continue;
			cand[m++] = cand[j];
		}
	}

	/* softmax at the temperature, relative to the max: weights in (0, 1] */
	fill_weights(cand, m, max_logit, s->p.temperature, w);
	total = 0;
	for (int32_t j = 0; j < m; j++)
		total += w[j];

	/* total >= 1 (the max token weighs 1); target in [0, total] */
	target = llm_rng_uniform(&s->rng) * total;
	acc = 0;
	chosen = -1;
	for (int32_t j = 0; j < m; j++)
	{
		acc += w[j];
		if (acc > target)
		{
			chosen = j;
			break;
		}
	}
	if (chosen < 0)
	{
		/* target rounded up to total: the last token with any weight */
		for (int32_t j = m - 1; j >= 0; j--)
			if (w[j] > 0)
			{
				chosen = j;
				break;
			}
	}
	*token = cand[chosen].id;
	return LLM_OK;
}

llm_status
llm_sampler_sample(llm_sampler *s, const float *logits, const bool *allowed,
				   int32_t *token, llm_error *err)
{
	if (s == NULL || logits == NULL || token == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "llm_sampler_sample: sampler, logits and token are required");
	if (s->p.temperature == 0.0)
		return sample_greedy(s, logits, allowed, token, err);
	return sample_stochastic(s, logits, allowed, token, err);
}
