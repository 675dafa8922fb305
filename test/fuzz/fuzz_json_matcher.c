/*
 * fuzz_json_matcher.c — libFuzzer target for the schema matcher
 * (src/engine/json_matcher.c) on schemas from the compiler (json_schema.c).
 *
 * Input: a schema text, a NUL byte, then a program.  A schema text that
 * starts with byte 0x01 is instead a list of labels separated by '\n' for
 * llm_schema_compile_choice.  The program's bytes:
 *   0xF0        take a mark (up to 16)
 *   0xF1        roll back to the last mark
 *   0xF2        check the completion from here (see below)
 *   0xF3 n b..  feed the next n % 8 bytes with llm_json_matcher_feed (which
 *               may compact the arena: marks are dropped)
 *   other c     feed byte c; if refused, feed the (c mod k)-th of the k
 *               bytes that are allowed here (so programs follow valid paths)
 * Checked: completion_len equals the completion's length, feeding it makes
 * the document complete, must_end implies complete, an accepted byte never
 * leaves the matcher without a completion or without any next byte unless
 * complete, and the final document (bytes + completion) parses as JSON.
 * A failed invariant aborts.
 *
 * Build and run (from the repository root), like scripts/test does:
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/engine \
 *     test/fuzz/fuzz_json_matcher.c src/engine/[a-z]*.c -lcjson -lopenblas -lm -lpthread \
 *     -o /tmp/fuzz_json_matcher
 *   /tmp/fuzz_json_matcher -max_total_time=60 test/fuzz/corpus/json_matcher
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_matcher.h"

#define MAX_MARKS 16
#define MAX_DOC 4096
#define MAX_LABELS 16

static void
fail(const char *what, const char *doc, size_t len)
{
	fprintf(stderr, "fuzz_json_matcher: %s after \"%.*s\"\n", what, (int) len, doc);
	abort();
}

/* The completion from here is consistent; returns it (llm_malloc'd). */
static char *
check_completion(llm_json_matcher *m, const char *doc, size_t len, size_t *comp_len)
{
	llm_error	err;
	char	   *comp = NULL;
	int64_t		clen = llm_json_matcher_completion_len(m);
	llm_json_mark mk;

	if (llm_json_matcher_completion(m, &comp, comp_len, &err) != LLM_OK)
	{
		if (err.status == LLM_ERR_NOMEM)
			return NULL;
		fail("no completion", doc, len);
	}
	if ((int64_t) *comp_len != clen)
		fail("completion_len differs from the completion", doc, len);
	mk = llm_json_matcher_mark(m);
	for (size_t i = 0; i < *comp_len; i++)
		if (!llm_json_matcher_feed_byte(m, (uint8_t) comp[i]))
			fail("completion refused", doc, len);
	if (!llm_json_matcher_is_complete(m))
		fail("completion does not complete", doc, len);
	llm_json_matcher_rollback(m, mk);
	return comp;
}

static int
allowed_bytes(llm_json_matcher *m, uint8_t *out)
{
	llm_json_mark mk = llm_json_matcher_mark(m);
	int			n = 0;

	for (int c = 0; c < 256; c++)
	{
		if (llm_json_matcher_feed_byte(m, (uint8_t) c))
			out[n++] = (uint8_t) c;
		llm_json_matcher_rollback(m, mk);
	}
	return n;
}

static void
run_program(llm_json_matcher *m, const llm_schema *s, const uint8_t *p, size_t n)
{
	char		doc[MAX_DOC];
	size_t		len = 0;
	llm_json_mark marks[MAX_MARKS];
	size_t		mark_len[MAX_MARKS];
	int			n_marks = 0;
	char	   *comp;
	size_t		comp_len;

	for (size_t i = 0; i < n && len + 8 < MAX_DOC; i++)
	{
		uint8_t		c = p[i];

		if (c == 0xF0)
		{
			if (n_marks < MAX_MARKS)
			{
				marks[n_marks] = llm_json_matcher_mark(m);
				mark_len[n_marks++] = len;
			}
		}
		else if (c == 0xF1)
		{
			if (n_marks > 0)
			{
				n_marks--;
				llm_json_matcher_rollback(m, marks[n_marks]);
				len = mark_len[n_marks];
			}
		}
		else if (c == 0xF2)
		{
			comp = check_completion(m, doc, len, &comp_len);
			llm_free(comp);
		}
		else if (c == 0xF3)
		{
			size_t		k = i + 1 < n ? p[i + 1] % 8 : 0;

			i++;
			if (i + 1 + k > n)
				break;
			if (llm_json_matcher_feed(m, (const char *) p + i + 1, k))
			{
				memcpy(doc + len, p + i + 1, k);
				len += k;
			}
			i += k;
			n_marks = 0;
		}
		else
		{
			uint8_t		b = c;

			if (!llm_json_matcher_feed_byte(m, b))
			{
				uint8_t		ok[256];
				int			k = allowed_bytes(m, ok);

				if (k == 0)
				{
					if (!llm_json_matcher_is_complete(m) && !llm_json_matcher_failed(m))
						fail("dead end", doc, len);
					continue;
				}
				b = ok[c % k];
				if (!llm_json_matcher_feed_byte(m, b))
					fail("an allowed byte was refused", doc, len);
			}
			doc[len++] = (char) b;
		}
		if (llm_json_matcher_must_end(m) && !llm_json_matcher_is_complete(m))
			fail("must_end but not complete", doc, len);
	}
	comp = check_completion(m, doc, len, &comp_len);
	if (comp == NULL)
		return;
	if (!s->raw_root)
	{
		char	   *full = malloc(len + comp_len + 1);
		cJSON	   *j;

		if (full == NULL)
			abort();
		memcpy(full, doc, len);
		memcpy(full + len, comp, comp_len);
		full[len + comp_len] = '\0';
		j = cJSON_ParseWithLength(full, len + comp_len);
		if (j == NULL)
			fail("the completed document does not parse", full, len + comp_len);
		cJSON_Delete(j);
		free(full);
	}
	llm_free(comp);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0, size);
	size_t		schema_len = sep ? (size_t) (sep - data) : size;
	llm_schema *s = NULL;
	llm_json_matcher *m = NULL;
	llm_error	err;

	if (size > 1 << 16)
		return 0;
	if (schema_len > 0 && data[0] == 0x01)
	{
		const char *labels[MAX_LABELS];
		size_t		lens[MAX_LABELS];
		int			n = 0;
		size_t		start = 1;

		for (size_t i = 1; i <= schema_len && n < MAX_LABELS; i++)
			if (i == schema_len || data[i] == '\n')
			{
				labels[n] = (const char *) data + start;
				lens[n++] = i - start;
				start = i + 1;
			}
		if (llm_schema_compile_choice(labels, lens, n, &s, &err) != LLM_OK)
			return 0;
	}
	else if (llm_schema_compile((const char *) data, schema_len, &s, &err) != LLM_OK)
		return 0;
	if (llm_json_matcher_create(s, &m, &err) != LLM_OK)
	{
		llm_schema_free(s);
		return 0;
	}
	if (sep != NULL)
		run_program(m, s, sep + 1, size - schema_len - 1);
	else
		run_program(m, s, (const uint8_t *) "", 0);
	llm_json_matcher_free(m);
	llm_schema_free(s);
	return 0;
}
