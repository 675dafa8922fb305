/*
 * test_sampler.c — the PRNG, greedy, the truncation chain, the draw,
 * penalties, masks and parameter checking.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sampler.h"
#include "test_util.h"

/* A test-only generator for logits, independent of the one under test. */
static uint32_t test_rand_state = 1;

static uint32_t
test_rand(void)
{
	test_rand_state = test_rand_state * 1664525u + 1013904223u;
	return test_rand_state >> 8;
}

static float
test_randf(float lo, float hi)
{
	return lo + (hi - lo) * (float) (test_rand() & 0xFFFFFF) / (float) 0x1000000;
}

static llm_sampler *
make(double temperature, int top_k, double top_p, double min_p, uint64_t seed,
	 int32_t n_vocab)
{
	llm_sampler_params p;
	llm_error	err;
	llm_sampler *s;

	llm_sampler_params_init(&p);
	p.temperature = temperature;
	p.top_k = top_k;
	p.top_p = top_p;
	p.min_p = min_p;
	p.seed = seed;
	s = llm_sampler_create(&p, n_vocab, &err);
	CHECK(s != NULL, "create: %s", err.msg);
	return s;
}

static int32_t
draw(llm_sampler *s, const float *logits, const bool *allowed)
{
	llm_error	err;
	int32_t		tok = -1;
	llm_status	st = llm_sampler_sample(s, logits, allowed, &tok, &err);

	if (st != LLM_OK)
		CHECK(false, "sample failed: %s", err.msg);
	return tok;
}

static int32_t
argmax(const float *logits, const bool *allowed, int32_t n)
{
	int32_t		best = -1;

	for (int32_t i = 0; i < n; i++)
		if ((allowed == NULL || allowed[i]) && (best < 0 || logits[i] > logits[best]))
			best = i;
	return best;
}

static void
test_rng(void)
{
	llm_rng		r;
	/* xoshiro256** seeded with splitmix64, from an independent Python model */
	static const uint64_t want0[] = {
		UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a),
		UINT64_C(0x1a5f849d4933e6e0)
	};
	static const uint64_t want42[] = {
		UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e),
		UINT64_C(0xae17533239e499a1)
	};
	bool		ok = true;
	double		sum = 0;

	llm_rng_seed(&r, 0);
	CHECK(r.s[0] == UINT64_C(0xe220a8397b1dcdaf), "splitmix64(0) first output");
	for (int i = 0; i < 3; i++)
		ok &= llm_rng_next(&r) == want0[i];
	llm_rng_seed(&r, 42);
	for (int i = 0; i < 3; i++)
		ok &= llm_rng_next(&r) == want42[i];
	CHECK(ok, "xoshiro256** outputs for seeds 0 and 42 match the reference");

	llm_rng_seed(&r, 7);
	for (int i = 0; i < 100000; i++)
	{
		double		u = llm_rng_uniform(&r);

		if (u < 0 || u >= 1)
			ok = false;
		sum += u;
	}
	CHECK(ok, "uniform in [0, 1)");
	CHECK(fabs(sum / 100000 - 0.5) < 0.005, "uniform mean %.4f", sum / 100000);
}

static void
test_params(void)
{
	llm_sampler_params p;
	llm_error	err;
	llm_sampler *s;

#define EXPECT_REJECT(field, value, needle) \
	do { \
		llm_sampler_params_init(&p); \
		p.field = (value); \
		memset(&err, 0, sizeof(err)); \
		s = llm_sampler_create(&p, 100, &err); \
		CHECK(s == NULL && err.status == LLM_ERR_INVALID_ARG && strstr(err.msg, needle) != NULL, \
			  "%s = %s rejected naming it (got \"%s\")", #field, #value, err.msg); \
		llm_sampler_free(s); \
	} while (0)

	EXPECT_REJECT(temperature, -1, "temperature must be a finite number >= 0, got -1");
	EXPECT_REJECT(temperature, NAN, "temperature");
	EXPECT_REJECT(temperature, INFINITY, "temperature");
	EXPECT_REJECT(top_k, -1, "top_k must be >= 0");
	EXPECT_REJECT(top_p, 0, "top_p must be a number in (0, 1]");
	EXPECT_REJECT(top_p, 1.5, "got 1.5");
	EXPECT_REJECT(top_p, NAN, "top_p");
	EXPECT_REJECT(min_p, -0.1, "min_p must be a number in [0, 1]");
	EXPECT_REJECT(min_p, 1.01, "min_p");
	EXPECT_REJECT(min_p, NAN, "min_p");
	EXPECT_REJECT(repeat_penalty, 0, "repeat_penalty must be a finite number > 0");
	EXPECT_REJECT(repeat_penalty, -2, "repeat_penalty");
	EXPECT_REJECT(repeat_penalty, INFINITY, "repeat_penalty");
	EXPECT_REJECT(repeat_last_n, -2, "repeat_last_n");
	EXPECT_REJECT(repeat_last_n, LLM_SAMPLER_MAX_LAST_N + 1, "repeat_last_n");
#undef EXPECT_REJECT

	llm_sampler_params_init(&p);
	s = llm_sampler_create(&p, 0, &err);
	CHECK(s == NULL && err.status == LLM_ERR_INVALID_ARG, "n_vocab 0 rejected");
	s = llm_sampler_create(NULL, 10, &err);
	CHECK(s == NULL && err.status == LLM_ERR_INVALID_ARG, "NULL params rejected");

	/* the edges of every range are accepted */
	p.temperature = 0;
	p.top_p = 1;
	p.min_p = 1;
	p.top_k = 0;
	p.repeat_penalty = 1e-30;
	p.repeat_last_n = -1;
	s = llm_sampler_create(&p, 10, &err);
	CHECK(s != NULL, "edge values accepted: %s", s ? "" : err.msg);
	llm_sampler_free(s);
	p.top_p = 1e-9;
	p.min_p = 0;
	p.repeat_last_n = LLM_SAMPLER_MAX_LAST_N;
	s = llm_sampler_create(&p, 10, &err);
	CHECK(s != NULL, "edge values accepted (2)");
	llm_sampler_free(s);
}

static void
test_greedy(void)
{
	enum
	{
		N = 5000
	};
	static float logits[N];
	llm_sampler *s = make(0, 0, 1, 0, 0, N);
	bool		ok = true;

	if (s == NULL)
		return;
	/* ties: the lowest id wins */
	for (int i = 0; i < N; i++)
		logits[i] = 0;
	logits[17] = 3;
	logits[4000] = 3;
	logits[9] = 3;
	CHECK(draw(s, logits, NULL) == 9, "tie among 9, 17, 4000 goes to 9");
	for (int i = 0; i < N; i++)
		logits[i] = -2.5f;
	CHECK(draw(s, logits, NULL) == 0, "all equal: token 0");

	for (int trial = 0; trial < 200; trial++)
	{
		for (int i = 0; i < N; i++)
			logits[i] = test_randf(-20, 20);
		if (draw(s, logits, NULL) != argmax(logits, NULL, N))
			ok = false;
	}
	CHECK(ok, "greedy = argmax on 200 random vectors");
	llm_sampler_free(s);
}

static void
test_reproducible(void)
{
	enum
	{
		N = 1000
	};
	static float logits[N];
	llm_sampler *a = make(1.0, 0, 1, 0, 42, N);
	llm_sampler *b = make(1.0, 0, 1, 0, 42, N);
	llm_sampler *c = make(1.0, 0, 1, 0, 43, N);
	int32_t		first[200];
	bool		same = true;
	bool		replay = true;
	int			n_diff = 0;
	int			distinct = 0;
	static bool seen[N];

	if (a == NULL || b == NULL || c == NULL)
		return;

	for (int i = 0; i < N; i++)
		logits[i] = test_randf(-2, 2);
	for (int i = 0; i < 200; i++)
	{
		first[i] = draw(a, logits, NULL);
		if (draw(b, logits, NULL) != first[i])
			same = false;
	}
	CHECK(same, "same seed, same 200 tokens");
	llm_sampler_reset(a);
	for (int i = 0; i < 200; i++)
		if (draw(a, logits, NULL) != first[i])
			replay = false;
	CHECK(replay, "reset replays the sequence");

	/* different seeds on a flat distribution */
	for (int i = 0; i < N; i++)
		logits[i] = 0;
	llm_sampler_reset(a);
	for (int i = 0; i < 50; i++)
	{
		int32_t		ta = draw(a, logits, NULL);

		if (ta != draw(c, logits, NULL))
			n_diff++;
		if (!seen[ta])
		{
			seen[ta] = true;
			distinct++;
		}
	}
	/* two independent draws from 1000 equal tokens agree with p = 1/1000 */
	CHECK(n_diff >= 45, "seeds 42 and 43 differ in %d of 50 flat draws", n_diff);
	CHECK(distinct >= 45, "50 flat draws give %d distinct tokens", distinct);

	/*
	 * Pin a sequence: the same seed must give the same text on every
	 * platform.  The expected tokens come from an independent Python model
	 * of the documented algorithm (xoshiro256**, top_k -> top_p -> min_p ->
	 * temperature, draw in id order).
	 */
	{
		static const int32_t pinned[8] = {62, 889, 704, 914, 136, 926, 494, 235};
		llm_sampler *g = make(0.8, 40, 0.95, 0.05, 1234, N);
		bool		pinned_ok = true;

		if (g != NULL)
		{
			for (int i = 0; i < N; i++)
				logits[i] = (float) ((i * 7919) % 1000) / 100.0f;	/* 0 .. 9.99 */
			for (int i = 0; i < 8; i++)
				if (draw(g, logits, NULL) != pinned[i])
					pinned_ok = false;
			CHECK(pinned_ok, "seed 1234 gives the pinned tokens");
			llm_sampler_free(g);
		}
	}
	llm_sampler_free(a);
	llm_sampler_free(b);
	llm_sampler_free(c);
}

/* top_k = 1, a tiny top_p and min_p = 1 all reduce to greedy */
static void
test_truncation_to_greedy(void)
{
	enum
	{
		N = 3000
	};
	static float logits[N];
	llm_sampler *k1[3];
	llm_sampler *p0 = make(1.0, 0, 1e-9, 0, 5, N);
	llm_sampler *m1 = make(1.0, 0, 1, 1.0, 6, N);
	llm_sampler *p0k = make(1.5, 100, 1e-9, 0, 7, N);
	bool		ok_k = true,
				ok_p = true,
				ok_m = true,
				ok_pk = true;

	k1[0] = make(0.5, 1, 1, 0, 1, N);
	k1[1] = make(1.0, 1, 1, 0, 2, N);
	k1[2] = make(2.0, 1, 1, 0, 3, N);
	if (!k1[0] || !k1[1] || !k1[2] || !p0 || !m1 || !p0k)
		return;
	for (int trial = 0; trial < 200; trial++)
	{
		int32_t		want;

		for (int i = 0; i < N; i++)
			logits[i] = test_randf(-5, 5);
		if (trial % 10 == 0)
		{
			/* a tie at the top: the lowest id is the greedy choice */
			int32_t		a = (int32_t) (test_rand() % N);

			logits[a] = 6;
			logits[(a + 1 + test_rand() % (N - 1)) % N] = 6;
		}
		want = argmax(logits, NULL, N);
		for (int j = 0; j < 3; j++)
			if (draw(k1[j], logits, NULL) != want)
				ok_k = false;
		if (draw(p0, logits, NULL) != want)
			ok_p = false;
		if (draw(p0k, logits, NULL) != want)
			ok_pk = false;
		if (trial % 10 != 0 && draw(m1, logits, NULL) != want)
			ok_m = false;
	}
	CHECK(ok_k, "top_k = 1 equals greedy at temperatures 0.5, 1, 2 (ties included)");
	CHECK(ok_p, "top_p = 1e-9 equals greedy (ties included)");
	CHECK(ok_pk, "top_k = 100 with top_p = 1e-9 equals greedy");
	CHECK(ok_m, "min_p = 1 equals greedy");
	for (int j = 0; j < 3; j++)
		llm_sampler_free(k1[j]);
	llm_sampler_free(p0);
	llm_sampler_free(m1);
	llm_sampler_free(p0k);
}

/*
 * Empirical frequencies over many draws against the expected distribution
 * (want[] sums to 1).  Tolerance: 5 standard errors per token.
 */
static void
check_frequencies(const char *what, llm_sampler *s, const float *logits,
				  const bool *allowed, int32_t n, const double *want, int draws)
{
	int			count[16] = {0};
	bool		ok = true;
	double		worst = 0;

	for (int d = 0; d < draws; d++)
	{
		int32_t		t = draw(s, logits, allowed);

		if (t < 0 || t >= n)
		{
			ok = false;
			break;
		}
		count[t]++;
	}
	for (int32_t i = 0; i < n && ok; i++)
	{
		double		f = (double) count[i] / draws;
		double		se = sqrt(want[i] * (1 - want[i]) / draws);

		if (want[i] == 0 ? count[i] != 0 : fabs(f - want[i]) > 5 * se + 1e-9)
			ok = false;
		if (se > 0 && fabs(f - want[i]) / se > worst)
			worst = fabs(f - want[i]) / se;
	}
	CHECK(ok, "%s: frequencies match (worst %.2f standard errors)", what, worst);
}

/* softmax(logits / t) restricted to keep[] */
static void
softmax_over(const float *logits, const bool *keep, int32_t n, double t, double *out)
{
	double		max = -INFINITY,
				z = 0;

	for (int32_t i = 0; i < n; i++)
		if (keep[i] && logits[i] > max)
			max = logits[i];
	for (int32_t i = 0; i < n; i++)
	{
		out[i] = keep[i] ? exp((logits[i] - max) / t) : 0;
		z += out[i];
	}
	for (int32_t i = 0; i < n; i++)
		out[i] /= z;
}

static void
test_distribution(void)
{
	static const float logits[8] = {1.0f, 2.0f, 0.5f, -1.0f, 1.5f, 0.0f, 2.0f, -3.0f};
	bool		all[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	bool		top3[8] = {0, 1, 0, 0, 1, 0, 1, 0};
	bool		masked[8] = {1, 0, 1, 1, 0, 1, 0, 1};
	double		want[8];
	float		nucleus[4];
	static const double np[4] = {0.5, 0.3, 0.15, 0.05};
	llm_sampler *s;

	softmax_over(logits, all, 8, 1.0, want);
	s = make(1.0, 0, 1, 0, 11, 8);
	if (s)
		check_frequencies("temperature 1, 100k draws", s, logits, NULL, 8, want, 100000);
	llm_sampler_free(s);

	softmax_over(logits, all, 8, 0.7, want);
	s = make(0.7, 0, 1, 0, 12, 8);
	if (s)
		check_frequencies("temperature 0.7", s, logits, NULL, 8, want, 100000);
	llm_sampler_free(s);

	softmax_over(logits, all, 8, 3.0, want);
	s = make(3.0, 0, 1, 0, 13, 8);
	if (s)
		check_frequencies("temperature 3", s, logits, NULL, 8, want, 100000);
	llm_sampler_free(s);

	/* top_k = 3 keeps ids 1, 6 (2.0) and 4 (1.5) */
	softmax_over(logits, top3, 8, 1.3, want);
	s = make(1.3, 3, 1, 0, 14, 8);
	if (s)
		check_frequencies("top_k 3 at temperature 1.3", s, logits, NULL, 8, want, 100000);
	llm_sampler_free(s);

	/* a mask renormalises over the allowed tokens */
	softmax_over(logits, masked, 8, 1.0, want);
	s = make(1.0, 0, 1, 0, 15, 8);
	if (s)
		check_frequencies("masked", s, logits, masked, 8, want, 100000);
	llm_sampler_free(s);

	/* probabilities 0.5 0.3 0.15 0.05 */
	for (int i = 0; i < 4; i++)
		nucleus[i] = (float) log(np[i]);
	{
		double		w2[4] = {0.625, 0.375, 0, 0};	/* top_p 0.75: first two */
		double		w3[4] = {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0};	/* min_p 0.2 */
		double		w4[4];
		bool		keep3[4] = {1, 1, 1, 0};

		s = make(1.0, 0, 0.75, 0, 16, 4);
		if (s)
			check_frequencies("top_p 0.75", s, nucleus, NULL, 4, w2, 100000);
		llm_sampler_free(s);
		s = make(1.0, 0, 1, 0.2, 17, 4);
		if (s)
			check_frequencies("min_p 0.2", s, nucleus, NULL, 4, w3, 100000);
		llm_sampler_free(s);

		/*
		 * top_p and min_p look at temperature-1 probabilities; the
		 * temperature then reshapes the survivors (llama.cpp's order)
		 */
		softmax_over(nucleus, keep3, 4, 2.0, w4);
		s = make(2.0, 0, 0.9, 0, 18, 4);
		if (s)
			check_frequencies("top_p 0.9 then temperature 2", s, nucleus, NULL, 4, w4, 100000);
		llm_sampler_free(s);
	}
}

/*
 * The truncated set against a plain full-sort reference, on 8000 tokens
 * (the bucketing depends on logit distances, not on the vocabulary size).
 * A huge temperature makes the survivors equally likely, so enough draws
 * must hit every survivor and nothing else.
 */
typedef struct ranked
{
	float		logit;
	int32_t		id;
} ranked;

static int
cmp_ranked(const void *pa, const void *pb)
{
	const ranked *a = pa,
			   *b = pb;

	if (a->logit != b->logit)
		return a->logit > b->logit ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static int32_t
reference_set(const float *logits, int32_t n, int top_k, double top_p, double min_p,
			  bool *in_set)
{
	ranked	   *r = malloc(sizeof(*r) * n);
	int32_t		m = n;
	double		max;

	for (int32_t i = 0; i < n; i++)
	{
		r[i].logit = logits[i];
		r[i].id = i;
	}
	qsort(r, n, sizeof(*r), cmp_ranked);
	max = r[0].logit;
	if (top_k > 0 && top_k < m)
		m = top_k;
	if (top_p < 1)
	{
		double		z = 0,
					acc = 0;

		for (int32_t j = 0; j < m; j++)
			z += exp(r[j].logit - max);
		for (int32_t j = 0; j < m; j++)
		{
			acc += exp(r[j].logit - max);
			if (acc >= top_p * z)
			{
				m = j + 1;
				break;
			}
		}
	}
	if (min_p > 0)
	{
		int32_t		j;

		for (j = 1; j < m; j++)
			if (exp(r[j].logit - max) < min_p)
				break;
		m = j;
	}
	memset(in_set, 0, n);
	for (int32_t j = 0; j < m; j++)
		in_set[r[j].id] = true;
	free(r);
	return m;
}

static void
test_truncated_sets(void)
{
	enum
	{
		N = 8000
	};
	static float logits[N];
	static bool want[N];
	static bool got[N];
	static const struct
	{
		int			top_k;
		double		top_p;
		double		min_p;
	}			cfg[] = {
		{50, 1, 0}, {0, 0.9, 0}, {0, 0.5, 0}, {0, 0.99, 0}, {0, 1, 0.01},
		{40, 0.95, 0.05}, {100, 0.8, 0}, {0, 0.9, 0.02}, {7, 1, 0},
	};
	bool		ok = true;

	for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++)
	{
		for (int round = 0; round < 3; round++)
		{
			llm_sampler *s;
			int32_t		m;
			int32_t		n_got = 0;
			bool		outside = false;

			/* a long tail and a few hundred plausible tokens */
			for (int i = 0; i < N; i++)
				logits[i] = test_randf(-20, -5);
			for (int i = 0; i < 200; i++)
				logits[test_rand() % N] = test_randf(0, 8 + 4 * round);
			m = reference_set(logits, N, cfg[c].top_k, cfg[c].top_p, cfg[c].min_p, want);
			s = make(1e9, cfg[c].top_k, cfg[c].top_p, cfg[c].min_p, 100 + c, N);
			if (s == NULL)
				return;
			memset(got, 0, sizeof(got));
			for (int d = 0; d < 16 * m + 100; d++)
			{
				int32_t		t = draw(s, logits, NULL);

				if (t < 0 || !want[t])
					outside = true;
				else if (!got[t])
				{
					got[t] = true;
					n_got++;
				}
			}
			if (outside || n_got != m)
			{
				ok = false;
				CHECK(false, "config %zu round %d: drew %d of %d survivors%s", c, round,
					  n_got, m, outside ? ", and a token outside the set" : "");
			}
			llm_sampler_free(s);
		}
	}
	CHECK(ok, "top_k / top_p / min_p sets equal the full-sort reference");
}

/*
 * min_p right at its boundary: a token 1e-5 nats above the cut stays, one
 * 1e-5 below goes.  This pins the sampler's own exp() to ~1e-6 relative
 * over 23 nats, on the unsorted path and (with top_k) the sorted one.
 */
static void
test_min_p_boundary(void)
{
	static const double ps[] = {0.9, 0.5, 0.3, 0.1, 0.01, 1e-3, 1e-5, 1e-10};
	bool		ok = true;

	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
	{
		for (int with_top_k = 0; with_top_k < 2; with_top_k++)
		{
			float		logits[4] = {
				3.0f, (float) (3.0 + log(ps[i]) + 1e-5), (float) (3.0 + log(ps[i]) - 1e-5), -50.0f
			};
			llm_sampler *s = make(1e9, with_top_k ? 3 : 0, 1, ps[i], 31, 4);
			int			count[4] = {0};

			if (s == NULL)
				return;
			for (int d = 0; d < 300; d++)
			{
				int32_t		t = draw(s, logits, NULL);

				if (t >= 0 && t < 4)
					count[t]++;
			}
			if (count[0] == 0 || count[1] == 0 || count[2] != 0 || count[3] != 0)
			{
				ok = false;
				CHECK(false, "min_p %g%s: counts %d %d %d %d", ps[i],
					  with_top_k ? " with top_k" : "", count[0], count[1], count[2], count[3]);
			}
			llm_sampler_free(s);
		}
	}
	CHECK(ok, "min_p keeps/drops tokens 1e-5 nats either side of its cut");
}

/*
 * top_p within rounding of 1, with tails that underflow: the bucket sums
 * may fall short of the target.  Must not crash (ASan) and must keep the
 * plausible tokens.
 */
static void
test_top_p_near_one(void)
{
	enum
	{
		N = 4000
	};
	static float logits[N];
	bool		ok = true;

	for (int round = 0; round < 20; round++)
	{
		llm_sampler *s = make(1.0, 0, nextafter(1.0, 0.0), 0, 50 + round, N);

		if (s == NULL)
			return;
		for (int i = 0; i < N; i++)
			logits[i] = round % 2 ? test_randf(-3000, -1000) : test_randf(-5, 5);
		logits[test_rand() % N] = 10;
		for (int d = 0; d < 50; d++)
		{
			int32_t		t = draw(s, logits, NULL);

			if (t < 0 || t >= N)
				ok = false;
		}
		llm_sampler_free(s);
	}
	CHECK(ok, "top_p = 1 - 2^-53 draws valid tokens");
}

static void
test_mask_and_errors(void)
{
	enum
	{
		N = 100
	};
	float		logits[N];
	bool		allowed[N];
	llm_sampler *s = make(1.0, 0, 1, 0, 21, N);
	llm_sampler *g = make(0, 0, 1, 0, 0, N);
	llm_sampler *fresh = make(1.0, 0, 1, 0, 21, N);
	llm_error	err;
	int32_t		tok;
	llm_status	st;
	bool		ok = true;

	if (!s || !g || !fresh)
		return;
	for (int i = 0; i < N; i++)
	{
		logits[i] = test_randf(-3, 3);
		allowed[i] = (test_rand() & 1) != 0;
	}
	allowed[argmax(logits, NULL, N)] = false;	/* the best is not allowed */
	for (int d = 0; d < 10000; d++)
		if (!allowed[draw(s, logits, allowed)])
			ok = false;
	CHECK(ok, "10k draws never pick a masked token");
	CHECK(draw(g, logits, allowed) == argmax(logits, allowed, N),
		  "greedy picks the best allowed token");

	/* all masked, all -inf: an error, not a crash */
	memset(allowed, 0, sizeof(allowed));
	tok = -7;
	st = llm_sampler_sample(s, logits, allowed, &tok, &err);
	CHECK(st == LLM_ERR_INVALID_ARG && tok == -7, "all masked: LLM_ERR_INVALID_ARG (%s)", err.msg);
	st = llm_sampler_sample(g, logits, allowed, &tok, &err);
	CHECK(st == LLM_ERR_INVALID_ARG, "all masked, greedy: LLM_ERR_INVALID_ARG");
	for (int i = 0; i < N; i++)
		logits[i] = -INFINITY;
	st = llm_sampler_sample(s, logits, NULL, &tok, &err);
	CHECK(st == LLM_ERR_INVALID_ARG, "all -inf: LLM_ERR_INVALID_ARG");
	st = llm_sampler_sample(g, logits, NULL, &tok, &err);
	CHECK(st == LLM_ERR_INVALID_ARG, "all -inf, greedy: LLM_ERR_INVALID_ARG");

	/* -inf rules a token out */
	logits[5] = 0;
	logits[9] = 0;
	ok = true;
	for (int d = 0; d < 1000; d++)
	{
		int32_t		t = draw(s, logits, NULL);

		if (t != 5 && t != 9)
			ok = false;
	}
	CHECK(ok, "-inf tokens are never drawn");

	/* NaN / +inf among allowed tokens: an error naming the token */
	for (int i = 0; i < N; i++)
	{
		logits[i] = 0;
		allowed[i] = true;
	}
	logits[42] = NAN;
	st = llm_sampler_sample(s, logits, NULL, &tok, &err);
	CHECK(st == LLM_ERR_INVALID_ARG && strstr(err.msg, "42") && strstr(err.msg, "NaN"),
		  "NaN logit: error (%s)", err.msg);
	st = llm_sampler_sample(g, logits, NULL, &tok, &err);
	CHECK(st == LLM_ERR_INVALID_ARG, "NaN logit, greedy: error");
	allowed[42] = false;
	st = llm_sampler_sample(g, logits, allowed, &tok, &err);
	CHECK(st == LLM_OK && tok == 0, "NaN in a masked-out token is ignored");
	logits[42] = INFINITY;
	st = llm_sampler_sample(s, logits, NULL, &tok, &err);
	CHECK(st == LLM_ERR_INVALID_ARG && strstr(err.msg, "+inf"), "+inf logit: error (%s)", err.msg);

	/* a failed call does not consume a random number */
	llm_sampler_reset(s);
	logits[42] = NAN;
	(void) llm_sampler_sample(s, logits, NULL, &tok, &err);
	logits[42] = 0;
	ok = true;
	for (int d = 0; d < 20; d++)
		if (draw(s, logits, NULL) != draw(fresh, logits, NULL))
			ok = false;
	CHECK(ok, "errors leave the generator untouched");

	st = llm_sampler_sample(NULL, logits, NULL, &tok, &err);
	CHECK(st == LLM_ERR_INVALID_ARG, "NULL sampler: error");
	llm_sampler_free(s);
	llm_sampler_free(g);
	llm_sampler_free(fresh);
}

static void
test_penalties(void)
{
	llm_sampler_params p;
	llm_error	err;
	llm_sampler *s;
	float		pos[4] = {2.0f, 1.9f, -1.0f, -5.0f};
	float		neg[4] = {-1.0f, -1.2f, -9.0f, -9.0f};
	float		huge[4] = {3e38f, 1.0f, -3e38f, 0.0f};

	llm_sampler_params_init(&p);
	p.repeat_penalty = 1.5;
	p.repeat_last_n = 2;
	s = llm_sampler_create(&p, 4, &err);
	CHECK(s != NULL, "create with a penalty: %s", s ? "" : err.msg);
	if (s == NULL)
		return;
	CHECK(draw(s, pos, NULL) == 0, "no history: token 0");
	llm_sampler_accept(s, 0);
	CHECK(draw(s, pos, NULL) == 1, "positive logit divided: 2/1.5 < 1.9");
	CHECK(draw(s, neg, NULL) == 1, "negative logit multiplied: -1*1.5 < -1.2");
	llm_sampler_accept(s, 3);
	CHECK(draw(s, pos, NULL) == 1, "token 0 still in a window of 2");
	llm_sampler_accept(s, 2);
	CHECK(draw(s, pos, NULL) == 0, "token 0 left the window of 2");
	llm_sampler_accept(s, -1);
	llm_sampler_accept(s, 4);
	llm_sampler_accept(s, INT32_MAX);
	CHECK(draw(s, pos, NULL) == 0, "out-of-range tokens are ignored");
	llm_sampler_accept(s, 0);
	CHECK(draw(s, pos, NULL) == 1, "penalised again");
	llm_sampler_reset(s);
	CHECK(draw(s, pos, NULL) == 0, "reset clears the history");
	llm_sampler_free(s);

	/* whole history (-1) */
	p.repeat_last_n = -1;
	s = llm_sampler_create(&p, 4, &err);
	if (s != NULL)
	{
		llm_sampler_accept(s, 0);
		for (int i = 0; i < 1000; i++)
			llm_sampler_accept(s, 3);
		CHECK(draw(s, pos, NULL) == 1, "repeat_last_n -1 remembers everything");
		llm_sampler_free(s);
	}

	/* off: repeat_last_n 0, or penalty 1 */
	p.repeat_last_n = 0;
	s = llm_sampler_create(&p, 4, &err);
	if (s != NULL)
	{
		llm_sampler_accept(s, 0);
		CHECK(draw(s, pos, NULL) == 0, "repeat_last_n 0: no penalty");
		llm_sampler_free(s);
	}

	/* a tiny penalty cannot make a finite logit infinite */
	p.repeat_last_n = 64;
	p.repeat_penalty = 1e-30;
	s = llm_sampler_create(&p, 4, &err);
	if (s != NULL)
	{
		int32_t		tok;
		llm_status	st;

		llm_sampler_accept(s, 0);
		llm_sampler_accept(s, 1);
		llm_sampler_accept(s, 2);
		st = llm_sampler_sample(s, huge, NULL, &tok, &err);
		CHECK(st == LLM_OK && tok == 0, "huge logits with a tiny penalty: token %d", tok);
		llm_sampler_free(s);
	}

	/* sampling mode applies the penalty too */
	p.temperature = 0.01;
	p.repeat_penalty = 100;
	s = llm_sampler_create(&p, 4, &err);
	if (s != NULL)
	{
		bool		ok = true;

		llm_sampler_accept(s, 0);
		for (int d = 0; d < 1000; d++)
			if (draw(s, pos, NULL) != 1)
				ok = false;
		CHECK(ok, "penalty applies when sampling");
		llm_sampler_free(s);
	}
}

/* Time per call on a 256k vocabulary: no full sort when it is not needed. */
static void
test_speed(void)
{
	enum
	{
		N = 256000, CALLS = 20
	};
	static float logits[N];
	static const struct
	{
		const char *name;
		double		temperature;
		int			top_k;
		double		top_p;
		double		min_p;
	}			cfg[] = {
		{"greedy", 0, 0, 1, 0},
		{"temperature only", 0.8, 0, 1, 0},
		{"top_k 40 top_p 0.95 min_p 0.05", 0.8, 40, 0.95, 0.05},
		{"top_p 0.95 only", 0.8, 0, 0.95, 0},
		{"top_p 0.999 only", 1.0, 0, 0.999, 0},
		{"min_p 0.05 only", 0.8, 0, 1, 0.05},
		{"top_k 10000", 0.8, 10000, 1, 0},
		{"top_k 10000 top_p 0.9", 0.8, 10000, 0.9, 0},
	};
	double		greedy_ms = 1;

	/* roughly normal logits (sum of 4 uniforms), sd ~2.3, plus peaks */
	for (int i = 0; i < N; i++)
		logits[i] = test_randf(-4, 4) + test_randf(-4, 4) + test_randf(-4, 4) + test_randf(-4, 4);
	for (int i = 0; i < 50; i++)
		logits[test_rand() % N] = test_randf(12, 20);

	for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++)
	{
		llm_sampler *s = make(cfg[c].temperature, cfg[c].top_k, cfg[c].top_p,
							  cfg[c].min_p, 1, N);
		clock_t		t0;
		double		ms;

		if (s == NULL)
			return;
		t0 = clock();
		for (int i = 0; i < CALLS; i++)
			(void) draw(s, logits, NULL);
		ms = (double) (clock() - t0) * 1000.0 / CLOCKS_PER_SEC / CALLS;
		if (c == 0)
			greedy_ms = ms;
		printf("sampler: 256k vocab, %-32s %7.3f ms/token\n", cfg[c].name, ms);

		/*
		 * Relative to one greedy pass, so it holds under valgrind too: a
		 * sort of the vocabulary per token costs > 100 greedy passes.
		 */
		CHECK(ms < 60 * greedy_ms + 0.5, "%s: %.3f ms per token, %.1f greedy passes",
			  cfg[c].name, ms, ms / greedy_ms);
		llm_sampler_free(s);
	}
}

int
main(void)
{
	test_rng();
	test_params();
	test_greedy();
	test_reproducible();
	test_truncation_to_greedy();
	test_distribution();
	test_truncated_sets();
	test_min_p_boundary();
	test_top_p_near_one();
	test_mask_and_errors();
	test_penalties();
	test_speed();
	return TEST_DONE();
}
