/*
 * fuzz_regex.c — libFuzzer target for the pattern compiler and its
 * automaton (src/engine/regex.c).
 *
 * Input layout: byte 0 holds the number of patterns (bits 0-1, % 3 + 1),
 * their modes (bits 2-4: set = full match) and whether ASCII control
 * characters are excluded (bit 5).  Each pattern is a length byte and that
 * many bytes.  The rest is a probe string.
 *
 * On a pattern that compiles, the automaton is checked against its
 * contract, aborting on a difference:
 *   - every state reached on the probe can still finish (pruning), and
 *     every accepted prefix is valid UTF-8 without excluded characters;
 *   - shortest_finish from those states succeeds, its completion is
 *     accepted and its character count is inside the window, exactly when
 *     can_finish says yes; can_finish is monotonic in its window;
 *   - matches() agrees with the walk; an intersection agrees with its
 *     parts; a full match is also a search match.
 *
 * Build and run (from the repository root; scripts/test does the same with
 * every engine source):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/engine \
 *     test/fuzz/fuzz_regex.c src/engine/regex.c src/engine/common.c \
 *     src/engine/unicode.c src/engine/unicode_tables.c -o fuzz_regex
 *   ./fuzz_regex -max_total_time=120 test/fuzz/corpus/regex
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex.h"

#define MAX_PATTERNS 3
#define MAX_PROBE 256
#define FINISH_CAP 8192

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_regex: %s\n", what);
	abort();
}

static bool
valid_utf8(const uint8_t *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		uint8_t		b = s[i];
		size_t		k;
		uint32_t	cp;

		if (b < 0x80)
		{
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			k = 2, cp = b & 0x1F;
		else if (b >= 0xE0 && b <= 0xEF)
			k = 3, cp = b & 0x0F;
		else if (b >= 0xF0 && b <= 0xF4)
			k = 4, cp = b & 0x07;
		else
			return false;
		if (i + k > n)
			return false;
		for (size_t j = 1; j < k; j++)
		{
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10FFFF ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k;
	}
	return true;
}

static bool
has_excluded(const uint8_t *s, size_t n, const bool *exclude)
{
	if (exclude == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 128 && exclude[s[i]])
			return true;
	return false;
}

/* characters in a completion, counting the one under way in a mid state */
static int64_t
count_chars(const uint8_t *s, size_t n, bool mid)
{
	int64_t		c = mid ? 1 : 0;

	for (size_t i = 0; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

static bool
is_mid(const llm_regex *re, int32_t s)
{
	for (int b = 0x80; b < 0xC0; b++)
		if (llm_regex_next(re, s, (uint8_t) b) >= 0)
			return true;
	return false;
}

/* Check the finishing functions at state s reached by prefix[0..n). */
static void
check_state(const llm_regex *re, int32_t s, const uint8_t *prefix, size_t n,
			const bool *exclude, int32_t lo, int32_t hi, uint8_t *buf)
{
	size_t		len;
	llm_error	err;
	llm_status	st;
	bool		can;

	if (!llm_regex_can_finish(re, s, 0, INT32_MAX))
		fail("a reachable state cannot finish");
	st = llm_regex_shortest_finish(re, s, 0, INT32_MAX, (char *) buf + n,
								   FINISH_CAP, &len, &err);
	if (st == LLM_OK)
	{
		memcpy(buf, prefix, n);
		if (!llm_regex_matches(re, (const char *) buf, n + len))
			fail("shortest completion not accepted");
		if (!valid_utf8(buf, n + len))
			fail("accepted string is not valid UTF-8");
		if (has_excluded(buf, n + len, exclude))
			fail("accepted string has an excluded character");
	}
	else if (st != LLM_ERR_LIMIT)
		fail("no completion from a live state");

	/* a window: yes exactly when a completion inside it is found */
	can = llm_regex_can_finish(re, s, lo, hi);
	st = llm_regex_shortest_finish(re, s, lo, hi, (char *) buf + n, FINISH_CAP, &len, &err);
	if (can)
	{
		if (st == LLM_OK)
		{
			int64_t		c = count_chars(buf + n, len, is_mid(re, s));
			int32_t		t = s;

			for (size_t i = 0; i < len && t >= 0; i++)
				t = llm_regex_next(re, t, buf[n + i]);
			if (!llm_regex_is_accept(re, t))
				fail("windowed completion not accepted");
			if (c < (lo < 0 ? 0 : lo) || c > hi)
				fail("windowed completion outside the window");
		}
		else if (st != LLM_ERR_LIMIT)
			fail("can_finish said yes but no completion was found");
		if (!llm_regex_can_finish(re, s, lo > 0 ? lo - 1 : lo, hi) ||
			(hi < INT32_MAX && !llm_regex_can_finish(re, s, lo, hi + 1)))
			fail("can_finish is not monotonic in its window");
	}
	else if (st != LLM_ERR_INVALID_ARG)
		fail("can_finish said no but a completion was found");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pats[MAX_PATTERNS];
	size_t		lens[MAX_PATTERNS];
	llm_regex_mode modes[MAX_PATTERNS];
	bool		exclude_table[128];
	const bool *exclude = NULL;
	int			n;
	size_t		pos = 1;
	const uint8_t *probe;
	size_t		probe_len;
	llm_regex  *re = NULL;
	llm_error	err;
	llm_status	st;
	uint8_t    *buf;
	int32_t		s;

	if (size == 0)
		return 0;
	n = (data[0] & 3) % MAX_PATTERNS + 1;
	for (int i = 0; i < n; i++)
	{
		size_t		len = pos < size ? data[pos++] : 0;

		if (len > size - pos)
			len = size - pos;
		pats[i] = (const char *) data + pos;
		lens[i] = len;
		modes[i] = (data[0] >> (2 + i)) & 1 ? LLM_REGEX_FULL : LLM_REGEX_SEARCH;
		pos += len;
	}
	if (data[0] & 0x20)
	{
		for (int c = 0; c < 128; c++)
			exclude_table[c] = c < 0x20 || c == 0x7F;
		exclude = exclude_table;
	}
	probe = data + pos;
	probe_len = size - pos > MAX_PROBE ? MAX_PROBE : size - pos;

	memset(&err, 0, sizeof(err));
	st = llm_regex_compile(pats, lens, modes, n, exclude, &re, &err);
	if (st != LLM_OK)
	{
		if (re != NULL)
			fail("output set on error");
		if (err.status != st || err.msg[0] == '\0')
			fail("error without a message");
		if (st != LLM_ERR_INVALID_ARG && st != LLM_ERR_UNSUPPORTED && st != LLM_ERR_NOMEM)
			fail("unexpected status");
		return 0;
	}
	if ((llm_regex_start(re) < 0) != (llm_regex_n_states(re) == 0))
		fail("start and state count disagree");

	buf = malloc(MAX_PROBE + FINISH_CAP + 1);
	if (buf == NULL)
		fail("out of memory");

	/* walk the probe */
	s = llm_regex_start(re);
	for (size_t i = 0; i <= probe_len && s >= 0; i++)
	{
		if (llm_regex_is_accept(re, s) &&
			(!valid_utf8(probe, i) || has_excluded(probe, i, exclude)))
			fail("accepted an invalid prefix");
		if (i < 6 || i == probe_len)
		{
			int32_t		lo = (int32_t) (i < probe_len ? probe[i] % 24 : 3) - 2;
			int32_t		hi = lo + (int32_t) (i + 1 < probe_len ? probe[i + 1] % 16 : 40) - 1;

			if (i % 5 == 4)
				hi = INT32_MAX;
			check_state(re, s, probe, i, exclude, lo, hi, buf);
		}
		if (i == probe_len)
			break;
		{
			int32_t		t = llm_regex_next(re, s, probe[i]);

			if (t >= llm_regex_n_states(re))
				fail("state out of range");
			if (t >= 0 && probe[i] < 128 && exclude != NULL && exclude[probe[i]])
				fail("an excluded byte was allowed");
			if (t < 0)
			{
				if (llm_regex_matches(re, (const char *) probe, probe_len))
					fail("matches() accepts a string the walk refused");
			}
			else if (i + 1 == probe_len &&
					 llm_regex_matches(re, (const char *) probe, probe_len) !=
					 llm_regex_is_accept(re, t))
				fail("matches() disagrees with the walk");
			s = t;
		}
	}

	/* the intersection agrees with its parts; full implies search */
	if (n > 1 || probe_len < 64)
	{
		bool		all = true;
		bool		whole = llm_regex_matches(re, (const char *) probe, probe_len);
		bool		known = true;

		for (int i = 0; i < n; i++)
		{
			llm_regex  *one = NULL;
			llm_regex  *other = NULL;
			llm_regex_mode flip = modes[i] == LLM_REGEX_FULL ? LLM_REGEX_SEARCH : LLM_REGEX_FULL;
			bool		m;

			if (llm_regex_compile(&pats[i], &lens[i], &modes[i], 1, exclude, &one, &err) != LLM_OK)
			{
				/* a part alone may be too complex only if the whole was not */
				known = false;
				continue;
			}
			m = llm_regex_matches(one, (const char *) probe, probe_len);
			all = all && m;
			if (llm_regex_compile(&pats[i], &lens[i], &flip, 1, exclude, &other, &err) == LLM_OK)
			{
				bool		m2 = llm_regex_matches(other, (const char *) probe, probe_len);

				if (modes[i] == LLM_REGEX_FULL ? (m && !m2) : (m2 && !m))
					fail("a full match is not a search match");
			}
			llm_regex_free(one);
			llm_regex_free(other);
		}
		if (known && all != whole)
			fail("the intersection disagrees with its parts");
	}

	free(buf);
	llm_regex_free(re);
	return 0;
}
