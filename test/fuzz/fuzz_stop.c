/*
 * fuzz_stop.c — libFuzzer target for the stop-string matcher and the UTF-8
 * hold-back (src/engine/stop.c).
 *
 * Input layout: byte 0 % 8 = number of stop strings; each stop string is a
 * length byte (% 12) and that many bytes; the rest is the generated stream
 * as pieces, each a length byte (% 16) and that many bytes.  Every step is
 * checked against a naive reference; a difference aborts.
 *
 * Build and run (from the repository root):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/engine \
 *     test/fuzz/fuzz_stop.c src/engine/stop.c src/engine/common.c -o fuzz_stop
 *   ./fuzz_stop -max_total_time=120 test/fuzz/corpus/stop
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stop.h"

#define MAX_STOPS 8

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_stop: %s\n", what);
	abort();
}

/* First end position where a stop ends; the longest one ending there. */
static bool
naive_match(const uint8_t *text, size_t len, const uint8_t *const *stops,
			const size_t *lens, int n_stops, size_t *offset, int *index)
{
	for (size_t end = 1; end <= len; end++)
	{
		size_t		best_len = 0;
		int			best = -1;

		for (int i = 0; i < n_stops; i++)
			if (lens[i] > 0 && lens[i] <= end && lens[i] > best_len &&
				memcmp(text + end - lens[i], stops[i], lens[i]) == 0)
			{
				best_len = lens[i];
				best = i;
			}
		if (best >= 0)
		{
			*offset = end - best_len;
			*index = best;
			return true;
		}
	}
	return false;
}

static size_t
naive_safe(const uint8_t *text, size_t len, const uint8_t *const *stops,
		   const size_t *lens, int n_stops)
{
	size_t		hold = 0;

	for (int i = 0; i < n_stops; i++)
		for (size_t k = 1; k < lens[i] && k <= len; k++)
			if (memcmp(text + len - k, stops[i], k) == 0 && k > hold)
				hold = k;
	return len - hold;
}

static void
check_utf8(const uint8_t *s, size_t len)
{
	size_t		n = llm_utf8_complete_len((const char *) s, len);

	if (n > len || len - n > 3)
		fail("utf8: held more than 3 bytes");
	if (n < len)
	{
		uint8_t		lead = s[n];
		size_t		need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;

		if (lead < 0xC2 || lead > 0xF4)
			fail("utf8: held a tail that does not start with a lead byte");
		if (len - n >= need)
			fail("utf8: held a complete sequence");
		for (size_t i = n + 1; i < len; i++)
			if ((s[i] & 0xC0) != 0x80)
				fail("utf8: held a tail with a non-continuation byte");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *stops[MAX_STOPS];
	size_t		lens[MAX_STOPS];
	int			n_stops;
	size_t		pos = 0;
	uint8_t    *stream;
	size_t		stream_len = 0;
	llm_error	err;
	llm_stop   *m;
	llm_stop   *whole;
	llm_stop_result res;
	llm_stop_result res_whole;
	size_t		prev_safe = 0;
	size_t		want_offset = 0;
	int			want_index = -1;
	bool		want_stop;

	if (size == 0)
		return 0;
	n_stops = data[pos++] % MAX_STOPS;
	for (int i = 0; i < n_stops; i++)
	{
		size_t		len = pos < size ? data[pos++] % 12 : 0;

		if (len > size - pos)
			len = size - pos;
		stops[i] = data + pos;
		lens[i] = len;
		pos += len;
	}

	m = llm_stop_create((const char *const *) stops, lens, n_stops, &err);
	whole = llm_stop_create((const char *const *) stops, lens, n_stops, &err);
	if (m == NULL || whole == NULL)
		fail("create failed on valid stops");

	stream = malloc(size + 1);
	if (stream == NULL)
		fail("out of memory");
	res.stopped = false;
	while (pos < size && !res.stopped)
	{
		size_t		len = data[pos++] % 16;

		if (len > size - pos)
			len = size - pos;
		memcpy(stream + stream_len, data + pos, len);
		stream_len += len;
		llm_stop_feed(m, (const char *) data + pos, len, &res);
		pos += len;

		if (res.safe_len < prev_safe)
			fail("safe_len went back");
		prev_safe = res.safe_len;
		if (res.safe_len > res.total_len)
			fail("safe_len beyond the stream");
		if (!res.stopped)
		{
			if (res.total_len != stream_len)
				fail("total_len wrong");
			if (res.safe_len != naive_safe(stream, stream_len, stops, lens, n_stops))
				fail("safe_len differs from the reference");
			if (naive_match(stream, stream_len, stops, lens, n_stops, &want_offset, &want_index))
				fail("missed a stop");
		}
		check_utf8(stream, res.safe_len);
	}
	if (!res.stopped)
		llm_stop_finish(m, &res);

	want_stop = naive_match(stream, stream_len, stops, lens, n_stops, &want_offset, &want_index);
	if (res.stopped != want_stop)
		fail("stopped differs from the reference");
	if (want_stop && (res.stop_offset != want_offset || res.stop_index != want_index ||
					  res.safe_len != want_offset ||
					  res.total_len != want_offset + lens[want_index]))
		fail("stop position differs from the reference");
	if (!want_stop && res.safe_len != stream_len)
		fail("finish did not release everything");

	/* the same stream in one piece gives the same answer */
	llm_stop_feed(whole, (const char *) stream, stream_len, &res_whole);
	if (!res_whole.stopped)
		llm_stop_finish(whole, &res_whole);
	if (res_whole.stopped != res.stopped || res_whole.safe_len != res.safe_len ||
		res_whole.stop_index != res.stop_index)
		fail("the answer depends on how the stream was cut");

	free(stream);
	llm_stop_free(m);
	llm_stop_free(whole);
	return 0;
}
