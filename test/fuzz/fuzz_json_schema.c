/*
 * fuzz_json_schema.c — libFuzzer target for the JSON Schema compiler
 * (src/engine/json_schema*.c, with regex.c underneath).
 *
 * The input is a schema text.  It is compiled; on success every node is
 * checked the way the matcher relies on it (references in range and never
 * to a node without a document, types never 0, string bounds ordered) and
 * the shortest document of every node (up to 64) must be exactly
 * min_bytes long and parse as JSON.  A failure must return no schema and
 * a message.  Compiling twice must give the same graph size.  The input is
 * also cut at newlines into labels for llm_schema_compile_choice.
 *
 * Build and run (from the repository root; scripts/test does this for
 * every target with the committed seeds and test/fuzz/json_schema.dict):
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/engine \
 *     test/fuzz/fuzz_json_schema.c src/engine/[a-z]*.c \
 *     -lcjson -lopenblas -lm -lpthread -o fuzz_json_schema
 *   ./fuzz_json_schema -dict=test/fuzz/json_schema.dict -max_total_time=120 \
 *     test/fuzz/corpus/json_schema
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_schema.h"

static void
fail(const char *what, int32_t node)
{
	fprintf(stderr, "fuzz_json_schema: %s (node %d)\n", what, node);
	abort();
}

static bool
ref_ok(const llm_schema *s, int32_t r)
{
	return r >= 0 && r < s->n_nodes && s->nodes[r].min_bytes != INT64_MAX;
}

static void
check_schema(const llm_schema *s)
{
	if (s->n_nodes <= 0 || s->root < 0 || s->root >= s->n_nodes)
		fail("bad root", s->root);
	for (int32_t i = 0; i < s->n_nodes; i++)
	{
		const llm_schema_node *n = &s->nodes[i];

		if (n->min_bytes < 0 || n->min_bytes == INT64_MAX || n->kind == LLM_SN_NEVER)
			fail("a node without a document is in the graph", i);
		switch (n->kind)
		{
			case LLM_SN_ANYOF:
				if (n->n_children < 1)
					fail("anyOf without children", i);
				for (int32_t k = 0; k < n->n_children; k++)
					if (!ref_ok(s, n->children[k]))
						fail("bad anyOf child", i);
				if (s->nodes[n->children[0]].min_bytes != n->min_bytes)
					fail("anyOf: the first child is not the shortest", i);
				break;
			case LLM_SN_LITERALS:
				if (n->n_literals < 1)
					fail("no literals", i);
				break;
			case LLM_SN_TYPED:
				if (n->types == 0 || (n->types & ~LLM_JT_ANY) != 0)
					fail("bad types", i);
				if ((n->types & LLM_JT_STRING) &&
					(n->min_chars < 0 || n->min_chars > n->max_chars))
					fail("bad string bounds", i);
				if (n->types & LLM_JT_ARRAY)
				{
					if (n->min_items > n->max_items)
						fail("bad array bounds", i);
					for (int32_t k = 0; k < n->n_prefix; k++)
						if (!ref_ok(s, n->prefix[k]))
							fail("bad prefix item", i);
					if (n->items != -1 && !ref_ok(s, n->items))
						fail("bad items", i);
					if (n->items == -1 && n->max_items > n->n_prefix)
						fail("max_items beyond the prefix with no items", i);
				}
				if (n->types & LLM_JT_OBJECT)
				{
					for (int32_t k = 0; k < n->n_props; k++)
						if (!ref_ok(s, n->props[k].node) || n->props[k].key_json_len < 2)
							fail("bad property", i);
					if (n->additional != -1 && !ref_ok(s, n->additional))
						fail("bad additional", i);
				}
				break;
			default:
				fail("bad kind", i);
		}
	}
	for (int32_t i = 0; i < s->n_nodes && i < 64; i++)
	{
		char	   *buf = NULL;
		size_t		len = 0;
		size_t		cap = 0;
		llm_error	err;

		if (llm_schema_write_shortest(s, i, &buf, &len, &cap, &err) != LLM_OK)
		{
			/* only a shortest document nested beyond the writer's limit */
			if (err.status != LLM_ERR_LIMIT)
				fail("write_shortest failed", i);
		}
		else
		{
			if ((int64_t) len != s->nodes[i].min_bytes)
				fail("shortest document length differs from min_bytes", i);
			if (!(s->raw_root && i == s->root))
			{
				cJSON	   *j = cJSON_ParseWithLength(buf, len);

				if (j == NULL)
					fail("shortest document does not parse", i);
				cJSON_Delete(j);
			}
		}
		llm_free(buf);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	llm_schema *s = NULL;
	llm_schema *again = NULL;
	llm_error	err;
	llm_status	st;

	memset(&err, 0, sizeof(err));
	st = llm_schema_compile((const char *) data, size, &s, &err);
	if ((st == LLM_OK) != (s != NULL))
		fail("status and result disagree", -1);
	if (st != LLM_OK && err.msg[0] == '\0')
		fail("an error without a message", -1);
	if (s != NULL)
	{
		check_schema(s);
		if (llm_schema_compile((const char *) data, size, &again, &err) != LLM_OK ||
			again->n_nodes != s->n_nodes ||
			again->nodes[again->root].min_bytes != s->nodes[s->root].min_bytes)
			fail("compiling twice gave different graphs", -1);
		llm_schema_free(again);
	}
	llm_schema_free(s);

	/* labels: the input cut at newlines */
	{
		const char *labels[16];
		size_t		lens[16];
		int32_t		n = 0;
		size_t		start = 0;

		for (size_t i = 0; i <= size && n < 16; i++)
			if (i == size || data[i] == '\n')
			{
				labels[n] = (const char *) data + start;
				lens[n] = i - start;
				n++;
				start = i + 1;
			}
		s = NULL;
		st = llm_schema_compile_choice(labels, lens, n, &s, &err);
		if ((st == LLM_OK) != (s != NULL))
			fail("choice: status and result disagree", -1);
		if (s != NULL)
			check_schema(s);
		llm_schema_free(s);
	}
	return 0;
}
