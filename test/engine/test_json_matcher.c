/*
 * test_json_matcher.c — the byte-level schema matcher (json_matcher.c) on
 * schemas compiled by json_schema.c.
 *
 * For each schema:
 *   (a) valid documents, compact and with whitespace, are accepted byte by
 *       byte and end complete; at every prefix the completion is as long as
 *       completion_len says and brings the matcher to complete;
 *   (b) invalid texts are refused at the expected byte (or, marked -1,
 *       accepted but not complete);
 *   (c) random walks: from the empty state, repeatedly take a random byte
 *       among those allowed (all 256 tried with mark/rollback), until
 *       complete or 300 bytes, then append completion(); the result must be
 *       complete and parse with cJSON.
 * Schemas that do not compile (a pattern or format while regex.c is not
 * there yet) are skipped with a note.
 *
 * Environment:
 *   LLM_MATCHER_DUMP=DIR  write each schema and its generated documents to
 *                         DIR/NN.json, for test/engine/check_json_matcher_dump.py
 *                         (validates them with Python's jsonschema)
 *   LLM_MATCHER_WALKS=N   random walks per schema (default 40)
 */
#include "json_matcher.h"

#include "sampler.h"
#include "test_util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOCS 8

typedef struct bad_text
{
	const char *text;
	int			refused_at;		/* byte index of the first refused byte; -1:
								 * all accepted, not complete */
} bad_text;

typedef struct schema_case
{
	const char *name;
	const char *schema;
	const char *valid[MAX_DOCS];
	bad_text	invalid[MAX_DOCS];
} schema_case;

static const schema_case cases[] = {
	{"object with a required string",
		"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}",
		{"{\"name\":\"Ann\"}", "{ \"name\" : \"\" }", "{\n  \"name\": \"caf\xc3\xa9 \\\"x\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"\n}"},
		{{"{}", 1}, {"{\"name\":1}", 8}, {"{\"nam\":\"x\"}", 5}, {"{\"name\":\"\\u0041\"}", 10},
		{"{\"name\":\"a\x01\"}", 10}, {" {\"name\":\"x\"}", 0}, {"{\"name\":\"x\"} ", 12}, {"{\"name\":\"\xc3\x28\"}", 10}}},
	{"integer bounds",
		"{\"type\":\"integer\",\"minimum\":-5,\"maximum\":150}",
		{"0", "-5", "150", "42", "-1"},
		{{"151", 2}, {"-6", 1}, {"01", 1}, {"-0", 1}, {"1.0", 1}, {"1e2", 1}, {"1500", 3}, {"+1", 0}}},
	{"number with exclusive bounds",
		"{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":2.5}",
		{"0.1", "2.499999999999", "1", "2", "0.000000000001"},
		{{"0", -1}, {"2.5", 2}, {"-1", 0}, {"0.0", -1}, {"3", 0}, {"1.0000000000001", 14}}},
	{"number minimum 0.1 (compared as a double)",
		"{\"type\":\"number\",\"minimum\":0.1,\"maximum\":100}",
		{"0.1", "100", "99.999", "0.10"},
		{{"0.09", 2}, {"100.1", 4}, {"0.0", 2}}},
	{"enum of strings",
		"{\"enum\":[\"red\",\"green\",\"blue\"]}",
		{"\"red\"", "\"green\"", "\"blue\""},
		{{"\"gre\"", 4}, {"\"yellow\"", 1}, {"red", 0}, {"\"red\" ", 5}}},
	{"const object",
		"{\"const\":{\"a\":[1,2],\"b\":null}}",
		{"{\"a\":[1,2],\"b\":null}"},
		{{"{\"a\":[1,3]", 8}, {"{ \"a\"", 1}}},
	{"boolean or null",
		"{\"type\":[\"boolean\",\"null\"]}",
		{"true", "false", "null"},
		{{"tru", -1}, {"nul1", 3}, {"0", 0}, {"\"true\"", 0}}},
	{"string or null",
		"{\"type\":[\"string\",\"null\"],\"maxLength\":3}",
		{"\"abc\"", "null", "\"\"", "\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\""},
		{{"\"abcd\"", 4}, {"\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\"", 10}}},
	{"nested objects, depth 3",
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\",\"properties\":{\"b\":{\"type\":\"object\","
		"\"properties\":{\"c\":{\"type\":\"integer\"}},\"required\":[\"c\"]}},\"required\":[\"b\"]}},\"required\":[\"a\"]}",
		{"{\"a\":{\"b\":{\"c\":1}}}", "{ \"a\" : { \"b\" : { \"c\" : -7 } } }"},
		{{"{\"a\":{\"b\":{}}}", 11}, {"{\"a\":{}}", 6}}},
	{"array of objects with item bounds",
		"{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
		"\"tag\":{\"type\":\"string\"}},\"required\":[\"id\"]},\"minItems\":1,\"maxItems\":2}",
		{"[{\"id\":1}]", "[{\"id\":1,\"tag\":\"x\"},{\"id\":2}]", "[ { \"id\" : 1 } , { \"id\" : 2 } ]"},
		{{"[]", 1}, {"[{\"id\":1},{\"id\":2},{\"id\":3}]", 18}, {"[{\"tag\":\"x\",\"id\":1}]", 3}}},
	{"prefixItems, no more items",
		"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"integer\"},{\"type\":\"string\"}],\"items\":false}",
		{"[]", "[1]", "[1,\"a\"]"},
		{{"[1,\"a\",2]", 6}, {"[\"a\"]", 1}}},
	{"prefixItems then items",
		"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"boolean\"}],\"items\":{\"type\":\"null\"},\"minItems\":2}",
		{"[true,null]", "[false,null,null]"},
		{{"[true]", 5}, {"[null", 1}, {"[true,false", 6}}},
	{"string lengths in characters",
		"{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}",
		{"\"ab\"", "\"\xc3\xa9\xc3\xa9\"", "\"\\n\\t\\\"\"", "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\""},
		{{"\"a\"", 2}, {"\"abcd", 4}, {"\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 7}}},
	{"anyOf of two object shapes",
		"{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"circle\"},\"r\":{\"type\":\"number\"}},"
		"\"required\":[\"kind\",\"r\"]},{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"square\"},"
		"\"side\":{\"type\":\"number\"}},\"required\":[\"kind\",\"side\"]}]}",
		{"{\"kind\":\"circle\",\"r\":1.5}", "{\"kind\":\"square\",\"side\":2}"},
		{{"{\"kind\":\"circle\",\"side\":2}", 18}, {"{\"kind\":\"oval\"}", 9}}},
	{"oneOf with disjoint branches",
		"{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\",\"maxLength\":2}]}",
		{"5", "\"ab\""},
		{{"\"abc\"", 3}, {"1.5", 1}}},
	{"allOf merged",
		"{\"allOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]},"
		"{\"properties\":{\"a\":{\"minimum\":10}}}]}",
		{"{\"a\":10}", "{\"a\":123}"},
		{{"{\"a\":9}", 6}, {"{\"a\":-1", 5}}},
	{"additionalProperties true",
		"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"],"
		"\"additionalProperties\":true}",
		{"{\"id\":1}", "{\"id\":1,\"extra\":[1,{}],\"more\":\"x\"}", "{\"id\":1,\"\":null}"},
		{{"{\"id\":1,\"id\":2}", 11}, {"{\"id\":1,\"x\":1,\"x\":2}", 16}, {"{\"x\":1}", 2}}},
	{"additionalProperties with a schema",
		"{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}",
		{"{}", "{\"a\":1,\"b\":2}", "{\"\\n\":3}"},
		{{"{\"a\":\"x\"}", 5}, {"{\"a\":1,\"a\":2}", 9}}},
	{"minProperties and maxProperties",
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"},"
		"\"c\":{\"type\":\"integer\"}},\"minProperties\":2,\"maxProperties\":2}",
		{"{\"a\":1,\"b\":2}", "{\"a\":1,\"c\":3}", "{\"b\":1,\"c\":2}"},
		{{"{\"a\":1}", 6}, {"{\"a\":1,\"b\":2,", 12}, {"{\"c\":1", 2}}},
	{"$ref into $defs",
		"{\"$defs\":{\"pt\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\"},\"y\":{\"type\":\"integer\"}},"
		"\"required\":[\"x\",\"y\"]}},\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/pt\"}}",
		{"[]", "[{\"x\":1,\"y\":2},{\"x\":-3,\"y\":0}]"},
		{{"[{\"x\":1}]", 7}}},
	{"recursive tree through $ref",
		"{\"$ref\":\"#/definitions/node\",\"definitions\":{\"node\":{\"type\":\"object\",\"properties\":{"
		"\"value\":{\"type\":\"integer\"},\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/node\"}}},"
		"\"required\":[\"value\"]}}}",
		{"{\"value\":1}", "{\"value\":1,\"children\":[{\"value\":2,\"children\":[]},{\"value\":3}]}"},
		{{"{\"value\":1,\"children\":[{}]}", 24}}},
	{"empty schema: any value",
		"{}",
		{"0", "\"x\"", "[1,[2,[3]],{}]", "{}", "null", "-1.25"},
		{{"{\"a\":1}", 1}, {"1e5", 1}, {"NaN", 0}}},
	{"true schema",
		"true",
		{"[]", "false", "\"\""},
		{{"[,]", 1}}},
	{"nullable field",
		"{\"type\":\"object\",\"properties\":{\"note\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}},"
		"\"required\":[\"note\"]}",
		{"{\"note\":null}", "{\"note\":\"hi\"}"},
		{{"{\"note\":1}", 8}}},
	{"large integer bounds need more digits",
		"{\"type\":\"integer\",\"minimum\":100000000000000000000}",
		{"100000000000000000000", "999999999999999999999"},
		{{"99999999999999999999", -1}, {"5", -1}}},
	{"negative integer range",
		"{\"type\":\"integer\",\"minimum\":-1000,\"maximum\":-10}",
		{"-10", "-999", "-1000", "-55"},
		{{"-9", -1}, {"-1001", 4}, {"0", 0}, {"5", 0}}},
	{"enum of numbers and prefixes",
		"{\"enum\":[1,12,1.5,-3,\"1\"]}",
		{"1", "12", "1.5", "-3", "\"1\""},
		{{"13", 1}, {"1.6", 2}, {"-", -1}}},
	{"pattern",
		"{\"type\":\"string\",\"pattern\":\"^[A-Z]{3}-\\\\d{3}$\"}",
		{"\"ABC-123\""},
		{{"\"AB-\"", 3}, {"\"ABC-12a\"", 7}, {"\"abc\"", 1}}},
	{"format date",
		"{\"type\":\"string\",\"format\":\"date\"}",
		{"\"2024-02-29\"", "\"1999-12-31\""},
		{{"\"2024-13-01\"", 7}, {"\"24-01-01\"", 3}}},
	{"format email",
		"{\"type\":\"string\",\"format\":\"email\"}",
		{"\"a@b.co\"", "\"first.last@example.com\""},
		{{"\"@x\"", 1}}},
	{"format uuid",
		"{\"type\":\"string\",\"format\":\"uuid\"}",
		{"\"123e4567-e89b-12d3-a456-426614174000\""},
		{{"\"123e4567e89b\"", 9}}},
	{"format ipv4",
		"{\"type\":\"string\",\"format\":\"ipv4\"}",
		{"\"192.168.0.1\"", "\"0.0.0.0\""},
		{{"\"256.1.1.1\"", 3}}},
	{"format date-time",
		"{\"type\":\"string\",\"format\":\"date-time\"}",
		{"\"2024-01-02T03:04:05Z\"", "\"2024-01-02T03:04:05.123+01:00\""},
		{{"\"2024-01-02 03\"", 11}}},
	{"pattern with lengths",
		"{\"type\":\"string\",\"pattern\":\"^[a-z]+$\",\"minLength\":3,\"maxLength\":5}",
		{"\"abc\"", "\"abcde\""},
		{{"\"ab\"", 3}, {"\"abcdef\"", 6}, {"\"aB\"", 2}}},
	{"only the empty string",
		"{\"type\":\"string\",\"maxLength\":0}",
		{"\"\""},
		{{"\"a\"", 1}}},
	{"array of enums, at least two",
		"{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\"]},\"minItems\":2,\"maxItems\":3}",
		{"[\"a\",\"b\"]", "[\"b\",\"b\",\"a\"]", "[ \"a\" ,\n \"a\" ]"},
		{{"[\"a\"]", 4}, {"[\"a\",\"b\",\"a\",\"b\"]", 12}, {"[\"c\"", 2}}},
	{"optional properties in declaration order",
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"},"
		"\"c\":{\"type\":\"integer\"},\"d\":{\"type\":\"integer\"}},\"required\":[\"c\"]}",
		{"{\"c\":1}", "{\"a\":1,\"c\":2,\"d\":3}", "{\"b\":1,\"c\":2}"},
		{{"{\"d\":1}", 2}, {"{\"c\":1,\"a\":2}", 8}, {"{\"a\":1}", 6}}},
	{"arrays nested three deep",
		"{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},"
		"\"maxItems\":1}}}",
		{"[]", "[[],[[1],[]]]", "[[[1]]]"},
		{{"[[[1,2]]]", 4}, {"[[[[", 3}}},
	{"enum with escapes",
		"{\"enum\":[\"a\\\"b\",\"c\\\\d\",\"\\u00e9\"]}",
		{"\"a\\\"b\"", "\"c\\\\d\"", "\"\xc3\xa9\""},
		{{"\"a\"b\"", 2}}},
	{"keys that need escaping",
		"{\"type\":\"object\",\"properties\":{\"say \\\"hi\\\"\":{\"type\":\"integer\"},\"caf\\u00e9\":{\"type\":\"integer\"}},"
		"\"required\":[\"say \\\"hi\\\"\",\"caf\\u00e9\"]}",
		{"{\"say \\\"hi\\\"\":1,\"caf\xc3\xa9\":2}"},
		{{"{\"say \"", 6}}},
	{"additionalProperties false with required",
		"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"boolean\"}},"
		"\"required\":[\"a\",\"b\"],\"additionalProperties\":false}",
		{"{\"a\":\"\",\"b\":true}"},
		{{"{\"a\":\"\"}", 7}, {"{\"b\":true", 2}, {"{\"a\":\"\",\"b\":true,\"c\":1}", 16}}},
	{"very negative integers",
		"{\"type\":\"integer\",\"maximum\":-1e16}",
		{"-10000000000000000", "-99999999999999999"},
		{{"-9999999999999999", -1}, {"1", 0}}},
	{"date-time inside an object with a $ref",
		"{\"type\":\"object\",\"properties\":{\"when\":{\"$ref\":\"#/$defs/ts\"},\"id\":{\"type\":\"string\","
		"\"format\":\"uuid\"}},\"required\":[\"when\",\"id\"],\"$defs\":{\"ts\":{\"type\":\"string\",\"format\":\"date-time\"}}}",
		{"{\"when\":\"2020-05-06T07:08:09Z\",\"id\":\"00000000-0000-0000-0000-000000000000\"}"},
		{{"{\"when\":\"x", 9}}},
	{"numbers and integers in anyOf",
		"{\"anyOf\":[{\"type\":\"integer\",\"minimum\":10},{\"type\":\"number\",\"maximum\":-0.5}]}",
		{"10", "-0.5", "-1", "123"},
		{{"5", -1}, {"-0.4", 3}}},
};

static const char *dump_dir = NULL;

/* Feed text byte by byte; return the index of the first refused byte, or -1. */
static int
feed_bytes(llm_json_matcher *m, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!llm_json_matcher_feed_byte(m, (uint8_t) text[i]))
			return (int) i;
	return -1;
}

/* The completion from the current state is as long as said and completes. */
static bool
check_completion(llm_json_matcher *m, const char *name, const char *prefix, size_t prefix_len,
				 char **doc_out, size_t *doc_len_out)
{
	char	   *comp = NULL;
	size_t		comp_len = 0;
	llm_error	err;
	int64_t		clen = llm_json_matcher_completion_len(m);
	llm_json_mark mk;
	bool		ok = true;

	if (llm_json_matcher_completion(m, &comp, &comp_len, &err) != LLM_OK)
	{
		CHECK(false, "%s: no completion after \"%.*s\": %s", name, (int) prefix_len, prefix, err.msg);
		return false;
	}
	CHECK((int64_t) comp_len == clen && strlen(comp) == comp_len,
		  "%s: completion_len %lld but completion has %zu bytes after \"%.*s\"",
		  name, (long long) clen, comp_len, (int) prefix_len, prefix);
	mk = llm_json_matcher_mark(m);
	if (feed_bytes(m, comp, comp_len) >= 0 || !llm_json_matcher_is_complete(m))
	{
		CHECK(false, "%s: completion \"%s\" of \"%.*s\" does not complete", name, comp,
			  (int) prefix_len, prefix);
		ok = false;
	}
	CHECK(llm_json_matcher_completion_len(m) == 0, "%s: complete but completion_len > 0", name);
	llm_json_matcher_rollback(m, mk);
	if (doc_out != NULL)
	{
		char	   *doc = malloc(prefix_len + comp_len + 1);

		memcpy(doc, prefix, prefix_len);
		memcpy(doc + prefix_len, comp, comp_len);
		doc[prefix_len + comp_len] = '\0';
		*doc_out = doc;
		*doc_len_out = prefix_len + comp_len;
	}
	llm_free(comp);
	return ok;
}

static bool
parses(const char *doc)
{
	cJSON	   *j = cJSON_Parse(doc);
	bool		ok = j != NULL;

	cJSON_Delete(j);
	return ok;
}

/* One random walk; returns the document (malloc'd). */
static char *
random_walk(llm_json_matcher *m, llm_rng *rng, const char *name, bool json)
{
	char		doc[512];
	size_t		len = 0;
	char	   *full = NULL;
	size_t		full_len = 0;
	double		p_close = llm_rng_uniform(rng) * 0.6;

	llm_json_matcher_reset(m);
	while (len < 300)
	{
		uint8_t		ok[256];
		uint8_t		closing[256];
		int			n_ok = 0,
					n_closing = 0;
		llm_json_mark mk = llm_json_matcher_mark(m);
		uint8_t		b;

		if (llm_json_matcher_is_complete(m) && llm_rng_uniform(rng) < 0.3)
			break;
		for (int c = 0; c < 256; c++)
		{
			bool		fed = llm_json_matcher_feed_byte(m, (uint8_t) c);

			llm_json_matcher_rollback(m, mk);
			if (!fed)
				continue;
			ok[n_ok++] = (uint8_t) c;
			if (strchr("\"]},:", c) != NULL && c != 0)
				closing[n_closing++] = (uint8_t) c;
		}
		CHECK(llm_json_matcher_mark(m).arena_used == mk.arena_used &&
			  llm_json_matcher_mark(m).n_stacks == mk.n_stacks,
			  "%s: rollback did not restore the state", name);
		if (n_ok == 0)
		{
			CHECK(llm_json_matcher_is_complete(m), "%s: dead end after \"%.*s\"", name, (int) len, doc);
			break;
		}
		if (n_closing > 0 && llm_rng_uniform(rng) < p_close)
			b = closing[llm_rng_next(rng) % (uint64_t) n_closing];
		else
			b = ok[llm_rng_next(rng) % (uint64_t) n_ok];
		CHECK(llm_json_matcher_feed(m, (const char *) &b, 1), "%s: allowed byte %d refused", name, b);
		doc[len++] = (char) b;
	}
	if (!llm_json_matcher_is_complete(m))
		CHECK(!llm_json_matcher_must_end(m), "%s: must_end while incomplete", name);
	if (!check_completion(m, name, doc, len, &full, &full_len))
		return full;
	if (json)
		CHECK(parses(full), "%s: generated document does not parse: %s", name, full);
	return full;
}

static void
dump_case(int index, const char *schema, char **docs, int n_docs)
{
	char		path[1024];
	FILE	   *f;
	cJSON	   *root,
			   *arr;
	char	   *text;

	snprintf(path, sizeof(path), "%s/%02d.json", dump_dir, index);
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "schema", cJSON_CreateString(schema));
	arr = cJSON_CreateArray();
	for (int i = 0; i < n_docs; i++)
		if (docs[i] != NULL)
			cJSON_AddItemToArray(arr, cJSON_CreateString(docs[i]));
	cJSON_AddItemToObject(root, "docs", arr);
	text = cJSON_Print(root);
	f = fopen(path, "w");
	if (f != NULL)
	{
		fputs(text, f);
		fclose(f);
	}
	free(text);
	cJSON_Delete(root);
}

static int	n_skipped = 0;

static void
run_case(int index, const schema_case *c, int n_walks)
{
	llm_schema *s = NULL;
	llm_json_matcher *m = NULL;
	llm_error	err;
	llm_rng		rng;
	char	  **docs;

	if (llm_schema_compile(c->schema, strlen(c->schema), &s, &err) != LLM_OK)
	{
		printf("  note: skipped \"%s\": %s\n", c->name, err.msg);
		n_skipped++;
		return;
	}
	if (llm_json_matcher_create(s, &m, &err) != LLM_OK)
	{
		CHECK(false, "%s: matcher: %s", c->name, err.msg);
		llm_schema_free(s);
		return;
	}

	/* (a) valid documents, and the completion at every prefix */
	for (int i = 0; i < MAX_DOCS && c->valid[i] != NULL; i++)
	{
		const char *doc = c->valid[i];
		size_t		len = strlen(doc);
		int			at;

		llm_json_matcher_reset(m);
		for (size_t k = 0; k <= len; k++)
		{
			check_completion(m, c->name, doc, k, NULL, NULL);
			if (k < len && !llm_json_matcher_feed(m, doc + k, 1))
				break;
		}
		llm_json_matcher_reset(m);
		at = feed_bytes(m, doc, len);
		CHECK(at < 0, "%s: valid %s refused at byte %d", c->name, doc, at);
		CHECK(at >= 0 || llm_json_matcher_is_complete(m), "%s: valid %s not complete", c->name, doc);
	}

	/* (b) invalid texts */
	for (int i = 0; i < MAX_DOCS && c->invalid[i].text != NULL; i++)
	{
		const bad_text *b = &c->invalid[i];
		int			at;

		llm_json_matcher_reset(m);
		at = feed_bytes(m, b->text, strlen(b->text));
		CHECK(at == b->refused_at, "%s: invalid %s refused at byte %d, expected %d",
			  c->name, b->text, at, b->refused_at);
		if (b->refused_at < 0)
			CHECK(!llm_json_matcher_is_complete(m), "%s: invalid %s is complete", c->name, b->text);
	}

	/* (c) random walks */
	docs = calloc((size_t) n_walks, sizeof(char *));
	llm_rng_seed(&rng, 1000 + (uint64_t) index);
	for (int w = 0; w < n_walks; w++)
		docs[w] = random_walk(m, &rng, c->name, !s->raw_root);
	if (dump_dir != NULL)
		dump_case(index, c->schema, docs, n_walks);
	if (getenv("LLM_MATCHER_SHOW") != NULL)
		for (int w = 0; w < n_walks && w < 5; w++)
			printf("    %s\n", docs[w] ? docs[w] : "(none)");
	for (int w = 0; w < n_walks; w++)
		free(docs[w]);
	free(docs);
	llm_json_matcher_free(m);
	llm_schema_free(s);
}

/* llm_classify's labels: raw texts, no JSON. */
static void
test_choice(void)
{
	const char *labels[] = {"spam", "not spam", "sp", "urgent \"now\""};
	size_t		lens[4];
	llm_schema *s;
	llm_json_matcher *m;
	llm_error	err;
	llm_rng		rng;
	char	   *comp;
	size_t		comp_len;

	for (int i = 0; i < 4; i++)
		lens[i] = strlen(labels[i]);
	if (llm_schema_compile_choice(labels, lens, 4, &s, &err) != LLM_OK)
	{
		CHECK(false, "compile_choice: %s", err.msg);
		return;
	}
	CHECK(s->raw_root, "a choice has a raw root");
	if (llm_json_matcher_create(s, &m, &err) != LLM_OK)
	{
		CHECK(false, "choice matcher: %s", err.msg);
		llm_schema_free(s);
		return;
	}
	for (int i = 0; i < 4; i++)
	{
		llm_json_matcher_reset(m);
		CHECK(llm_json_matcher_feed(m, labels[i], lens[i]) && llm_json_matcher_is_complete(m),
			  "label %s accepted", labels[i]);
	}
	llm_json_matcher_reset(m);
	CHECK(llm_json_matcher_feed(m, "sp", 2) && llm_json_matcher_is_complete(m) &&
		  !llm_json_matcher_must_end(m), "\"sp\" is complete and may go on");
	CHECK(llm_json_matcher_feed(m, "am", 2) && llm_json_matcher_must_end(m), "\"spam\" must end");
	llm_json_matcher_reset(m);
	CHECK(!llm_json_matcher_feed(m, " spam", 5), "no whitespace around a label");
	CHECK(!llm_json_matcher_feed(m, "\"spam\"", 6), "labels are not quoted");
	llm_json_matcher_reset(m);
	CHECK(llm_json_matcher_feed(m, "no", 2), "prefix of a label");
	CHECK(llm_json_matcher_completion(m, &comp, &comp_len, &err) == LLM_OK &&
		  strcmp(comp, "t spam") == 0, "completion of \"no\"");
	llm_free(comp);
	llm_json_matcher_reset(m);
	CHECK(llm_json_matcher_completion(m, &comp, &comp_len, &err) == LLM_OK &&
		  strcmp(comp, "sp") == 0, "shortest label");
	llm_free(comp);
	llm_rng_seed(&rng, 7);
	for (int w = 0; w < 20; w++)
	{
		char	   *doc = random_walk(m, &rng, "choice", false);
		bool		found = false;

		for (int i = 0; i < 4 && doc; i++)
			found |= strcmp(doc, labels[i]) == 0;
		CHECK(found, "choice walk gave a label: %s", doc ? doc : "(none)");
		free(doc);
	}
	llm_json_matcher_free(m);
	llm_schema_free(s);
}

/* Whitespace runs, nesting, mark/rollback, plain-string state. */
static void
test_api(void)
{
	const char *schema = "{\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"string\"},{\"$ref\":\"#\"}]}}";
	const char *rec = "{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}";
	llm_schema *s;
	llm_json_matcher *m;
	llm_error	err;
	char		buf[400];
	int32_t		room;
	llm_json_mark mk;

	if (llm_schema_compile(schema, strlen(schema), &s, &err) != LLM_OK)
	{
		CHECK(false, "compile: %s", err.msg);
		return;
	}
	if (llm_json_matcher_create(s, &m, &err) != LLM_OK)
	{
		CHECK(false, "create: %s", err.msg);
		llm_schema_free(s);
		return;
	}
	/* whitespace: at most LLM_JSON_MAX_WS bytes in a run */
	memset(buf, ' ', sizeof(buf));
	buf[0] = '[';
	CHECK(llm_json_matcher_feed(m, buf, 1 + LLM_JSON_MAX_WS), "a full whitespace run");
	CHECK(!llm_json_matcher_feed(m, " ", 1), "one more space refused");
	CHECK(llm_json_matcher_feed(m, "\"", 1), "then a string");
	CHECK(llm_json_matcher_plain_string(m, &room) && room == LLM_SCHEMA_DEFAULT_MAX_CHARS,
		  "plain string state, room %d", room);
	CHECK(llm_json_matcher_feed(m, "ab", 2) && llm_json_matcher_plain_string(m, &room) &&
		  room == LLM_SCHEMA_DEFAULT_MAX_CHARS - 2, "room after two characters");
	CHECK(llm_json_matcher_feed(m, "\\", 1) && !llm_json_matcher_plain_string(m, &room),
		  "not plain inside an escape");

	/* mark/rollback restores exactly */
	mk = llm_json_matcher_mark(m);
	CHECK(llm_json_matcher_feed_byte(m, 'n'), "escape n");
	CHECK(llm_json_matcher_feed_byte(m, '"'), "close");
	CHECK(llm_json_matcher_feed_byte(m, ']'), "close array");
	CHECK(llm_json_matcher_is_complete(m), "complete");
	llm_json_matcher_rollback(m, mk);
	CHECK(!llm_json_matcher_is_complete(m), "rolled back");
	CHECK(!llm_json_matcher_feed_byte(m, 'x'), "still inside the escape");
	CHECK(llm_json_matcher_feed_byte(m, 't'), "escape t");

	/* nesting: containers stop at LLM_JSON_MAX_NESTING where a string can go */
	llm_json_matcher_reset(m);
	memset(buf, '[', sizeof(buf));
	CHECK(llm_json_matcher_feed(m, buf, LLM_JSON_MAX_NESTING), "nest to the limit");
	CHECK(!llm_json_matcher_feed(m, "[", 1), "no deeper than the limit");
	CHECK(llm_json_matcher_feed(m, "\"\"", 2), "a string there");
	CHECK(llm_json_matcher_completion_len(m) == LLM_JSON_MAX_NESTING, "closing needs one byte per level");
	llm_json_matcher_free(m);
	llm_schema_free(s);

	/* without a scalar alternative, nesting goes on (max_tokens bounds it) */
	if (llm_schema_compile(rec, strlen(rec), &s, &err) != LLM_OK)
	{
		CHECK(false, "compile: %s", err.msg);
		return;
	}
	if (llm_json_matcher_create(s, &m, &err) == LLM_OK)
	{
		CHECK(llm_json_matcher_feed(m, buf, LLM_JSON_MAX_NESTING + 10), "deeper when there is no other way");
		CHECK(llm_json_matcher_completion_len(m) == LLM_JSON_MAX_NESTING + 10, "closing all of them");
		llm_json_matcher_free(m);
	}
	llm_schema_free(s);
}

/* Free keys: never a declared name, never twice, completable at the cap. */
static void
test_free_keys(void)
{
	char	   *schema = malloc(4096);
	char	   *doc = malloc(4096);
	char	   *longname = malloc(LLM_SCHEMA_DEFAULT_MAX_CHARS + 1);
	llm_schema *s;
	llm_json_matcher *m;
	llm_error	err;
	char	   *comp;
	size_t		comp_len;
	int			n;

	memset(longname, 'a', LLM_SCHEMA_DEFAULT_MAX_CHARS);
	longname[LLM_SCHEMA_DEFAULT_MAX_CHARS] = '\0';
	snprintf(schema, 4096, "{\"type\":\"object\",\"properties\":{\"%s\":{\"type\":\"integer\"},\"x\":{\"type\":\"integer\"}},"
			 "\"required\":[\"x\"],\"additionalProperties\":{\"type\":\"null\"},\"minProperties\":4}", longname);
	if (llm_schema_compile(schema, strlen(schema), &s, &err) != LLM_OK ||
		llm_json_matcher_create(s, &m, &err) != LLM_OK)
	{
		CHECK(false, "free keys: %s", err.msg);
		free(schema);
		free(doc);
		free(longname);
		return;
	}
	/* after "x" the long name is behind the window: only as a free key, which it may not be */
	n = snprintf(doc, 4096, "{\"x\":1,\"%.*s", LLM_SCHEMA_DEFAULT_MAX_CHARS - 1, longname);
	CHECK(llm_json_matcher_feed(m, doc, (size_t) n), "free key up to one below the cap");
	CHECK(!llm_json_matcher_feed(m, "a", 1), "free key equal to a declared name refused at the cap");
	CHECK(llm_json_matcher_feed(m, "b", 1), "another last character");
	CHECK(!llm_json_matcher_feed(m, "b", 1), "no character beyond the cap");
	CHECK(llm_json_matcher_completion(m, &comp, &comp_len, &err) == LLM_OK &&
		  strcmp(comp, "\":null,\"\":null,\"a\":null}") == 0,
		  "completion adds distinct made-up keys: %s", comp);
	llm_free(comp);
	llm_json_matcher_reset(m);
	n = snprintf(doc, 4096, "{\"x\":1,\"%.*s", LLM_SCHEMA_DEFAULT_MAX_CHARS - 1, longname);
	CHECK(llm_json_matcher_feed(m, doc, (size_t) n), "again");
	CHECK(llm_json_matcher_completion(m, &comp, &comp_len, &err) == LLM_OK &&
		  comp_len == strlen("\":null,\"\":null,\"a\":null}") && comp[0] == '"',
		  "completion of a key one below the cap: %s", comp);
	llm_free(comp);
	/* a free key used once cannot come again; declared names cannot be free keys */
	llm_json_matcher_reset(m);
	CHECK(llm_json_matcher_feed(m, "{\"x\":1,\"k\":null,\"", 17), "first free key");
	CHECK(!llm_json_matcher_feed(m, "k\"", 2), "the same free key again");
	CHECK(!llm_json_matcher_feed(m, "x\"", 2), "a declared name as a free key");
	CHECK(llm_json_matcher_feed(m, "\\u", 1) && !llm_json_matcher_feed(m, "u", 1), "no \\u escapes in keys");
	llm_json_matcher_free(m);
	llm_schema_free(s);
	free(schema);
	free(doc);
	free(longname);
}

/* More anyOf branches than LLM_JSON_MAX_STACKS: extras are dropped, never validity. */
static void
test_many_branches(void)
{
	char	   *schema = malloc(16384);
	size_t		len = 0;
	llm_schema *s;
	llm_json_matcher *m;
	llm_error	err;
	llm_rng		rng;

	len += (size_t) snprintf(schema + len, 16384 - len, "{\"anyOf\":[");
	for (int i = 0; i < 100; i++)
		len += (size_t) snprintf(schema + len, 16384 - len,
								 "%s{\"type\":\"object\",\"properties\":{\"k%d\":{\"type\":\"integer\"},\"v\":{\"type\":\"string\"}},"
								 "\"required\":[\"k%d\"]}", i ? "," : "", i % 90, i % 90);
	snprintf(schema + len, 16384 - len, "]}");
	if (llm_schema_compile(schema, strlen(schema), &s, &err) != LLM_OK)
	{
		printf("  note: many branches skipped: %s\n", err.msg);
		free(schema);
		return;
	}
	if (llm_json_matcher_create(s, &m, &err) != LLM_OK)
	{
		CHECK(false, "many branches: %s", err.msg);
		llm_schema_free(s);
		free(schema);
		return;
	}
	CHECK(llm_json_matcher_feed(m, "{\"k1", 4), "a branch");
	CHECK(llm_json_matcher_feed(m, "\":5", 3), "its value");
	llm_rng_seed(&rng, 99);
	for (int w = 0; w < 50; w++)
		free(random_walk(m, &rng, "many branches", true));
	llm_json_matcher_free(m);
	llm_schema_free(s);
	free(schema);
}

/* A long document: the arena is compacted and stays small. */
static void
test_long(void)
{
	const char *schema = "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},"
		"\"b\":{\"type\":[\"number\",\"null\"]}},\"required\":[\"a\"]}}";
	llm_schema *s;
	llm_json_matcher *m;
	llm_error	err;
	const char *item = "{\"a\":\"some text here\",\"b\":-12.5},";
	bool		ok = true;

	if (llm_schema_compile(schema, strlen(schema), &s, &err) != LLM_OK ||
		llm_json_matcher_create(s, &m, &err) != LLM_OK)
	{
		CHECK(false, "long: %s", err.msg);
		return;
	}
	ok = llm_json_matcher_feed(m, "[", 1);
	for (int i = 0; i < 20000 && ok; i++)
		ok = llm_json_matcher_feed(m, item, strlen(item));
	CHECK(ok, "20000 items accepted");
	CHECK(llm_json_matcher_mark(m).arena_used < 200000, "arena bounded after compaction (%zu frames)",
		  llm_json_matcher_mark(m).arena_used);
	CHECK(llm_json_matcher_completion_len(m) == 9, "completion of a trailing comma: %lld",
		  (long long) llm_json_matcher_completion_len(m));
	CHECK(!llm_json_matcher_failed(m), "no memory failure");
	llm_json_matcher_free(m);
	llm_schema_free(s);
}

int
main(void)
{
	int			n_walks = 40;
	int			n_cases = (int) (sizeof(cases) / sizeof(cases[0]));

	dump_dir = getenv("LLM_MATCHER_DUMP");
	if (getenv("LLM_MATCHER_WALKS") != NULL)
		n_walks = atoi(getenv("LLM_MATCHER_WALKS"));
	for (int i = 0; i < n_cases; i++)
		run_case(i, &cases[i], n_walks);
	printf("  %d schemas, %d skipped\n", n_cases, n_skipped);
	test_choice();
	test_api();
	test_free_keys();
	test_many_branches();
	test_long();
	return TEST_DONE();
}
