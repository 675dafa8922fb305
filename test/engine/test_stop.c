/*
 * test_stop.c — the stop-string matcher and the UTF-8 hold-back.
 *
 * Most checks compare the matcher against a naive reference written here
 * from the definition in stop.h, for every way of cutting the text into
 * pieces.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stop.h"
#include "test_util.h"

typedef struct naive_result
{
	bool		stopped;
	int			stop_index;
	size_t		stop_offset;
} naive_result;

/* First end position where a stop ends; the longest one ending there. */
static naive_result
naive_match(const char *text, size_t len, const char *const *stops,
			const size_t *lens, int n_stops)
{
	naive_result r = {false, -1, 0};

	for (size_t end = 1; end <= len; end++)
	{
		size_t		best_len = 0;
		int			best = -1;

		for (int i = 0; i < n_stops; i++)
		{
			size_t		sl = lens[i];

			if (sl == 0 || sl > end)
				continue;
			if (memcmp(text + end - sl, stops[i], sl) == 0 && sl > best_len)
			{
				best_len = sl;
				best = i;
			}
		}
		if (best >= 0)
		{
			r.stopped = true;
			r.stop_index = best;
			r.stop_offset = end - best_len;
			return r;
		}
	}
	return r;
}

/* len - longest suffix of text[0..len) that is a proper prefix of a stop */
static size_t
naive_safe(const char *text, size_t len, const char *const *stops,
		   const size_t *lens, int n_stops)
{
	size_t		hold = 0;

	for (int i = 0; i < n_stops; i++)
		for (size_t k = 1; k < lens[i] && k <= len; k++)
			if (memcmp(text + len - k, stops[i], k) == 0 && k > hold)
				hold = k;
	return len - hold;
}

/*
 * Feed text in the pieces given by the bit mask (bit j set: a cut after
 * byte j) and compare every step with the reference.  Returns false on
 * the first difference (after recording a failed check).
 */
static bool
check_split(llm_stop *m, const char *text, size_t len, uint64_t cuts,
			const char *const *stops, const size_t *lens, int n_stops)
{
	naive_result want = naive_match(text, len, stops, lens, n_stops);
	llm_stop_result res;
	size_t		start = 0;
	size_t		prev_safe = 0;

	llm_stop_reset(m);
	for (size_t j = 0; j < len; j++)
	{
		bool		cut_here = (j + 1 == len) || (j < 63 && (cuts >> j) & 1);

		if (!cut_here)
			continue;
		llm_stop_feed(m, text + start, j + 1 - start, &res);
		start = j + 1;
		if (res.safe_len < prev_safe)
		{
			CHECK(false, "safe_len went back from %zu to %zu", prev_safe, res.safe_len);
			return false;
		}
		prev_safe = res.safe_len;
		if (res.stopped)
			break;
		/* not stopped yet: the reference must not have stopped by here */
		if (want.stopped && want.stop_offset + lens[want.stop_index] <= start)
		{
			CHECK(false, "'%.*s' cuts %#llx: missed the stop ending by %zu",
				  (int) len, text, (unsigned long long) cuts, start);
			return false;
		}
		if (res.safe_len != naive_safe(text, start, stops, lens, n_stops) ||
			res.total_len != start)
		{
			CHECK(false, "'%.*s' cuts %#llx after %zu bytes: safe_len %zu, want %zu",
				  (int) len, text, (unsigned long long) cuts, start, res.safe_len,
				  naive_safe(text, start, stops, lens, n_stops));
			return false;
		}
	}
	if (!res.stopped)
		llm_stop_finish(m, &res);
	if (res.stopped != want.stopped ||
		(want.stopped && (res.stop_offset != want.stop_offset ||
						  res.stop_index != want.stop_index ||
						  res.safe_len != want.stop_offset)) ||
		(!want.stopped && res.safe_len != len))
	{
		CHECK(false, "'%.*s' cuts %#llx: stopped %d at %zu (stop %d, safe %zu); want %d at %zu (stop %d)",
			  (int) len, text, (unsigned long long) cuts, res.stopped, res.stop_offset,
			  res.stop_index, res.safe_len, want.stopped, want.stop_offset, want.stop_index);
		return false;
	}
	return true;
}

/* Every split of text (up to 2^(len-1)) against the reference. */
static void
check_all_splits(const char *text, const char *const *stops, int n_stops)
{
	size_t		len = strlen(text);
	size_t		lens[64];
	llm_error	err;
	llm_stop   *m;
	uint64_t	n_splits;
	bool		all_ok = true;

	for (int i = 0; i < n_stops; i++)
		lens[i] = strlen(stops[i]);
	m = llm_stop_create(stops, lens, n_stops, &err);
	CHECK(m != NULL, "create: %s", err.msg);
	if (m == NULL)
		return;
	n_splits = len > 1 ? (UINT64_C(1) << (len - 1)) : 1;
	for (uint64_t cuts = 0; cuts < n_splits && all_ok; cuts++)
		all_ok = check_split(m, text, len, cuts, stops, lens, n_stops);
	CHECK(all_ok, "all %llu splits of '%s' agree with the reference",
		  (unsigned long long) n_splits, text);
	llm_stop_free(m);
}

/* Feed text in one piece; the result. */
static llm_stop_result
run_once(const char *const *stops, int n_stops, const char *text, bool finish)
{
	llm_error	err;
	llm_stop_result res;
	llm_stop   *m = llm_stop_create(stops, NULL, n_stops, &err);

	memset(&res, 0, sizeof(res));
	if (m == NULL)
	{
		CHECK(false, "create: %s", err.msg);
		return res;
	}
	llm_stop_feed(m, text, strlen(text), &res);
	if (finish)
		llm_stop_finish(m, &res);
	llm_stop_free(m);
	return res;
}

static void
test_examples(void)
{
	llm_stop_result r;

	{
		const char *stops[] = {"aab"};

		r = run_once(stops, 1, "aaab", false);
		CHECK(r.stopped && r.stop_offset == 1 && r.stop_index == 0,
			  "'aab' in 'aaab' starts at 1, got stopped=%d at %zu", r.stopped, r.stop_offset);
	}
	{
		const char *stops[] = {"ab", "b"};

		r = run_once(stops, 2, "xab", false);
		CHECK(r.stopped && r.stop_offset == 1 && r.stop_index == 0,
			  "longest of the stops ending together is cut: got %zu (stop %d)",
			  r.stop_offset, r.stop_index);
	}
	{
		const char *stops[] = {"abcd", "c"};

		r = run_once(stops, 2, "abcd", false);
		CHECK(r.stopped && r.stop_offset == 2 && r.stop_index == 1,
			  "the first stop to end wins: got %zu (stop %d)", r.stop_offset, r.stop_index);
	}
	{
		const char *stops[] = {"\n\nUser:", "###", "<|im_end|>"};

		r = run_once(stops, 3, "Sure, here it is ### and more", false);
		CHECK(r.stopped && r.stop_offset == 17 && r.stop_index == 1,
			  "multiple stops: got stopped=%d at %zu (stop %d)", r.stopped,
			  r.stop_offset, r.stop_index);
		r = run_once(stops, 3, "Hello\n\nUse", false);
		CHECK(!r.stopped && r.safe_len == 5 && r.total_len == 10,
			  "'\\n\\nUse' held back: safe %zu of %zu", r.safe_len, r.total_len);
		r = run_once(stops, 3, "Hello\n\nUse", true);
		CHECK(!r.stopped && r.safe_len == 10,
			  "finish releases the held text: safe %zu", r.safe_len);
	}
	{
		const char *stops[] = {"dup", "dup"};

		r = run_once(stops, 2, "a dup", false);
		CHECK(r.stopped && r.stop_index == 0, "equal stops: the first index, got %d",
			  r.stop_index);
	}
	{
		const char *stops[] = {"abc"};

		r = run_once(stops, 1, "abc", false);
		CHECK(r.stopped && r.stop_offset == 0 && r.safe_len == 0,
			  "stop = whole text: output empty, got %zu", r.stop_offset);
	}
	{
		/* no stops at all, and only empty stops */
		const char *empty[] = {"", ""};

		r = run_once(NULL, 0, "anything at all", false);
		CHECK(!r.stopped && r.safe_len == 15, "no stops: all safe, got %zu", r.safe_len);
		r = run_once(empty, 2, "anything at all", false);
		CHECK(!r.stopped && r.safe_len == 15, "empty stops ignored: got %zu", r.safe_len);
	}
}

static void
test_streaming_release(void)
{
	const char *stops[] = {"END", "<stop>"};
	llm_error	err;
	llm_stop_result r;
	llm_stop   *m = llm_stop_create(stops, NULL, 2, &err);

	CHECK(m != NULL, "create: %s", err.msg);
	if (m == NULL)
		return;
	llm_stop_feed(m, "foo E", 5, &r);
	CHECK(r.safe_len == 4, "'E' held: safe %zu", r.safe_len);
	llm_stop_feed(m, "N", 1, &r);
	CHECK(r.safe_len == 4, "'EN' held: safe %zu", r.safe_len);
	llm_stop_feed(m, "x <st", 5, &r);
	CHECK(!r.stopped && r.safe_len == 8, "'ENx' released, '<st' held: safe %zu", r.safe_len);
	llm_stop_feed(m, "op", 2, &r);
	CHECK(!r.stopped && r.safe_len == 8, "'<stop' held: safe %zu", r.safe_len);
	llm_stop_feed(m, ">tail", 5, &r);
	CHECK(r.stopped && r.stop_offset == 8 && r.stop_index == 1 && r.total_len == 14,
		  "'<stop>' across three pieces: stopped=%d at %zu, total %zu",
		  r.stopped, r.stop_offset, r.total_len);
	CHECK(llm_stop_feed(m, "more END", 8, &r) && r.stop_offset == 8 && r.total_len == 14,
		  "feeding after the stop changes nothing");

	/* reset: a new stream; finish: release */
	llm_stop_reset(m);
	llm_stop_feed(m, "EN", 2, &r);
	CHECK(!r.stopped && r.safe_len == 0, "after reset 'EN' held: %zu", r.safe_len);
	llm_stop_finish(m, &r);
	CHECK(!r.stopped && r.safe_len == 2, "finish releases: %zu", r.safe_len);
	llm_stop_free(m);
}

static void
test_binary_and_limits(void)
{
	const char	nul_stop[] = {'a', '\0', 'b'};
	const char *stops[] = {nul_stop, NULL};
	size_t		lens[] = {3, 0};
	llm_error	err;
	llm_stop_result r;
	llm_stop   *m;
	char	   *big;
	const char *big_stops[2];
	size_t		big_lens[2];

	m = llm_stop_create(stops, lens, 2, &err);
	CHECK(m != NULL, "create with an embedded NUL and a NULL empty stop: %s", err.msg);
	if (m != NULL)
	{
		llm_stop_feed(m, "xa\0b", 4, &r);
		CHECK(r.stopped && r.stop_offset == 1, "stop with a NUL byte: %d at %zu",
			  r.stopped, r.stop_offset);
		llm_stop_free(m);
	}

	/* a NULL string with a length is an error, not a crash */
	lens[1] = 2;
	m = llm_stop_create(stops, lens, 2, &err);
	CHECK(m == NULL && err.status == LLM_ERR_INVALID_ARG, "NULL stop with length rejected");
	m = llm_stop_create(NULL, NULL, 3, &err);
	CHECK(m == NULL && err.status == LLM_ERR_INVALID_ARG, "NULL list rejected");

	/* over the size limit */
	big = malloc(LLM_STOP_MAX_TOTAL_BYTES);
	memset(big, 'x', LLM_STOP_MAX_TOTAL_BYTES);
	big_stops[0] = big;
	big_stops[1] = big;
	big_lens[0] = LLM_STOP_MAX_TOTAL_BYTES;
	big_lens[1] = 1;
	m = llm_stop_create(big_stops, big_lens, 2, &err);
	CHECK(m == NULL && err.status == LLM_ERR_LIMIT, "over %d bytes: LLM_ERR_LIMIT (%s)",
		  LLM_STOP_MAX_TOTAL_BYTES, err.msg);
	big_lens[1] = SIZE_MAX;
	m = llm_stop_create(big_stops, big_lens, 2, &err);
	CHECK(m == NULL && err.status == LLM_ERR_LIMIT, "length overflow: LLM_ERR_LIMIT");
	/* exactly at the limit is fine, and one long stop matches */
	m = llm_stop_create(big_stops, big_lens, 1, &err);
	CHECK(m != NULL, "exactly %d bytes accepted", LLM_STOP_MAX_TOTAL_BYTES);
	if (m != NULL)
	{
		llm_stop_feed(m, "y", 1, &r);
		for (int i = 0; i < 1024; i++)
			llm_stop_feed(m, big, LLM_STOP_MAX_TOTAL_BYTES / 1024, &r);
		CHECK(r.stopped && r.stop_offset == 1, "1 MiB stop matched at %zu", r.stop_offset);
		llm_stop_free(m);
	}
	free(big);
}

/*
 * 100 stop strings of 100 bytes over a small alphabet (lots of shared
 * prefixes and failure links), against the reference on random text.
 */
static void
test_many_long_stops(void)
{
	enum
	{
		N_STOPS = 100, STOP_LEN = 100, TEXT_LEN = 20000
	};
	static char stop_buf[N_STOPS][STOP_LEN];
	const char *stops[N_STOPS];
	size_t		lens[N_STOPS];
	static char text[TEXT_LEN];
	llm_error	err;
	llm_stop   *m;
	llm_stop_result r;
	naive_result want;
	uint32_t	x = 12345;
	clock_t		t0;
	double		secs;
	bool		safe_ok = true;

	for (int i = 0; i < N_STOPS; i++)
	{
		for (int j = 0; j < STOP_LEN; j++)
		{
			x = x * 1103515245 + 12345;
			/* mostly 'a', so the stops overlap each other and the text */
			stop_buf[i][j] = (x >> 16) % 50 == 0 ? 'b' : 'a';
		}
		stops[i] = stop_buf[i];
		lens[i] = STOP_LEN;
	}
	for (int j = 0; j < TEXT_LEN; j++)
	{
		x = x * 1103515245 + 12345;
		text[j] = (x >> 16) % 8 == 0 ? 'b' : 'a';
	}
	/* plant one stop near the end */
	memcpy(text + TEXT_LEN - 150, stops[77], STOP_LEN);

	m = llm_stop_create(stops, lens, N_STOPS, &err);
	CHECK(m != NULL, "create: %s", err.msg);
	if (m == NULL)
		return;
	t0 = clock();
	for (size_t i = 0; i < TEXT_LEN; i += 3)
	{
		size_t		n = TEXT_LEN - i < 3 ? TEXT_LEN - i : 3;

		if (llm_stop_feed(m, text + i, n, &r))
			break;
		if (i % 997 == 0 &&
			r.safe_len != naive_safe(text, i + n, stops, lens, N_STOPS))
			safe_ok = false;
	}
	secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	want = naive_match(text, TEXT_LEN, stops, lens, N_STOPS);
	CHECK(safe_ok, "safe_len agrees with the reference along the way");
	CHECK(r.stopped == want.stopped && r.stop_offset == want.stop_offset &&
		  r.stop_index == want.stop_index,
		  "100 x 100-byte stops: stopped=%d at %zu (stop %d), want %d at %zu (stop %d)",
		  r.stopped, r.stop_offset, r.stop_index, want.stopped, want.stop_offset,
		  want.stop_index);
	CHECK(secs < 0.5, "matching 20 kB took %.3f s", secs);
	printf("stop: 100 x 100-byte stops, %zu bytes matched in %.2f ms\n",
		   r.total_len, secs * 1000);
	llm_stop_free(m);
}

/* Random stops and texts over {a, b, c}: every split against the reference. */
static void
test_random_differential(void)
{
	uint32_t	x = 777;
	int			n_bad = 0;

	for (int round = 0; round < 300 && n_bad == 0; round++)
	{
		char		stop_buf[4][6];
		const char *stops[4];
		size_t		lens[4];
		char		text[11];
		int			n_stops;
		size_t		len;
		llm_error	err;
		llm_stop   *m;

		x = x * 1103515245 + 12345;
		n_stops = 1 + (x >> 16) % 4;
		for (int i = 0; i < n_stops; i++)
		{
			x = x * 1103515245 + 12345;
			lens[i] = (x >> 16) % 6;	/* 0 .. 5, empty ones included */
			for (size_t j = 0; j < lens[i]; j++)
			{
				x = x * 1103515245 + 12345;
				stop_buf[i][j] = 'a' + (x >> 16) % 3;
			}
			stops[i] = stop_buf[i];
		}
		x = x * 1103515245 + 12345;
		len = 1 + (x >> 16) % 10;
		for (size_t j = 0; j < len; j++)
		{
			x = x * 1103515245 + 12345;
			text[j] = 'a' + (x >> 16) % 3;
		}
		text[len] = '\0';

		m = llm_stop_create(stops, lens, n_stops, &err);
		if (m == NULL)
		{
			n_bad++;
			break;
		}
		for (uint64_t cuts = 0; cuts < (UINT64_C(1) << (len - 1)); cuts++)
			if (!check_split(m, text, len, cuts, stops, lens, n_stops))
			{
				n_bad++;
				break;
			}
		llm_stop_free(m);
	}
	CHECK(n_bad == 0, "300 random stop sets x texts x every split agree with the reference");
}

static void
test_utf8(void)
{
	static const struct
	{
		const char *s;
		size_t		want;
	}			cases[] = {
		{"", 0},
		{"abc", 3},
		{"a\xC3", 1},			/* é cut after its lead */
		{"a\xC3\xA9", 3},		/* é complete */
		{"\xE2\x82", 0},		/* € cut after 2 of 3 */
		{"x\xE2\x82\xAC", 4},	/* € complete */
		{"\xF0\x9F\x98", 0},	/* emoji cut after 3 of 4 */
		{"\xF0\x9F\x98\x80", 4},
		{"ab\xF0", 2},
		{"a\x80", 2},			/* stray continuation: not held */
		{"a\x80\x80\x80\x80", 5},
		{"a\xC0", 2},			/* C0 can never start a character */
		{"a\xF5", 2},
		{"a\xFF", 2},
		{"a\xE0\x80", 3},		/* overlong start: never valid */
		{"a\xE0\xA0", 1},		/* valid start of a 3-byte sequence */
		{"a\xED\xA0", 3},		/* surrogate: never valid */
		{"a\xF4\x90", 3},		/* above U+10FFFF: never valid */
		{"a\xF4\x8F\xBF", 1},
		{"\xC3\xA9\xC3", 2},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		size_t		len = strlen(cases[i].s);
		size_t		got = llm_utf8_complete_len(cases[i].s, len);

		CHECK(got == cases[i].want, "utf8 case %zu: got %zu, want %zu", i, got,
			  cases[i].want);
	}
}

int
main(void)
{
	static const char *const hello_stops[] = {"wor"};
	static const char *const overlap_stops[] = {"aab"};
	static const char *const multi_stops[] = {"ab", "b", "abcd", "cda"};
	static const char *const prefix_stops[] = {"abab", "abac", "ba"};

	check_all_splits("hello world", hello_stops, 1);
	check_all_splits("hello there", hello_stops, 1);	/* no stop */
	check_all_splits("hello wo", hello_stops, 1);	/* held to the end */
	check_all_splits("aaab", overlap_stops, 1);
	check_all_splits("aaaaaaaaaab", overlap_stops, 1);
	check_all_splits("xxabcdaxx", multi_stops, 4);
	check_all_splits("cccdaab", multi_stops, 4);
	check_all_splits("aababacaba", prefix_stops, 3);
	check_all_splits("abaababaccab", prefix_stops, 3);

	test_examples();
	test_streaming_release();
	test_binary_and_limits();
	test_many_long_stops();
	test_random_differential();
	test_utf8();
	return TEST_DONE();
}
