/*
 * structured_funcs.c — llm_extract_json, llm_classify and llm_summarize.
 *
 * llm_extract_json and llm_classify decode under a constraint (the engine's
 * json_schema.c / json_matcher.c / constraint.c): every sampled token keeps
 * the answer a prefix of a document the schema accepts (or of one of the
 * labels), so the result always parses and validates.  The prompt tells the
 * model what is wanted; the constraint guarantees the form.
 *
 * Decoding is greedy (temperature 0): an ETL job gets the same answer for
 * the same row every time.
 *
 * Compiled schemas are cached per backend (SCHEMA_CACHE_SIZE entries, least
 * recently used dropped), because an UPDATE over a table passes the same
 * schema for every row.  The cache owns them with malloc, like the model
 * cache, since they outlive any transaction.  Per-call engine objects (the
 * constraint) are freed before any ERROR propagates.
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "generation.h"
#include "json_schema.h"
#include "llm_errors.h"
#include "llm_ext.h"
#include "llm_text.h"
#include "model_cache.h"

PG_FUNCTION_INFO_V1(sql_llm_extract_json);
PG_FUNCTION_INFO_V1(sql_llm_classify);
PG_FUNCTION_INFO_V1(sql_llm_summarize);

#define SCHEMA_CACHE_SIZE 16

/* Prompt tokens we keep free for the answer when deciding whether the
 * schema's text fits in the prompt. */
#define ANSWER_RESERVE 256

#define MAX_SUMMARY_WORDS 10000

typedef struct CachedSchema
{
	char	   *text;			/* the schema as compact UTF-8 JSON (malloc) */
	size_t		len;
	llm_schema *schema;
	uint64		last_used;
} CachedSchema;

static CachedSchema schema_cache[SCHEMA_CACHE_SIZE];
static uint64 schema_cache_clock = 0;

/*
 * The compiled schema for text[0..len), from the cache or compiled now.
 * ERRORs with the compiler's SQLSTATE (0A000 unsupported keyword, 22023
 * malformed schema) and message.
 */
static const llm_schema *
get_schema(const char *text, size_t len)
{
	llm_error	err = {0};
	llm_schema *schema = NULL;
	CachedSchema *slot = &schema_cache[0];
	char	   *copy;
	int			i;

	for (i = 0; i < SCHEMA_CACHE_SIZE; i++)
	{
		CachedSchema *c = &schema_cache[i];

		if (c->schema != NULL && c->len == len && memcmp(c->text, text, len) == 0)
		{
			c->last_used = ++schema_cache_clock;
			return c->schema;
		}
		if (c->schema == NULL || (slot->schema != NULL && c->last_used < slot->last_used))
			slot = c;
	}

	if (llm_schema_compile(text, len, &schema, &err) != LLM_OK)
		llm_report_error(&err, "could not use the JSON schema");
	copy = malloc(len + 1);
	if (copy == NULL)
	{
		llm_schema_free(schema);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	}
	memcpy(copy, text, len);
	copy[len] = '\0';

	if (slot->schema != NULL)
	{
		llm_schema_free(slot->schema);
		free(slot->text);
	}
	slot->text = copy;
	slot->len = len;
	slot->schema = schema;
	slot->last_used = ++schema_cache_clock;
	return schema;
}

/* jsonb as compact UTF-8 JSON text. */
static char *
jsonb_to_utf8(Jsonb *jb, size_t *len)
{
	char	   *s = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	size_t		slen = strlen(s);
	char	   *utf8;

	utf8 = (char *) pg_server_to_any(s, (int) slen, PG_UTF8);
	*len = strlen(utf8);
	return utf8;
}

/* The text argument argno as a NUL-terminated UTF-8 string. */
static char *
arg_utf8(FunctionCallInfo fcinfo, int argno, size_t *len)
{
	size_t		n;
	const char *s = llm_text_to_utf8(PG_GETARG_TEXT_PP(argno), &n);

	if (len)
		*len = n;
	return pnstrdup(s, n);
}

/* Arguments for greedy, deterministic decoding. */
static void
greedy_args(GenerateArgs *args, int32 max_tokens, const char *model)
{
	memset(args, 0, sizeof(*args));
	args->max_tokens = max_tokens;
	args->temperature = 0.0;
	args->top_p = 1.0;
	args->top_k = 0;
	args->seed = 0;
	args->stop = NIL;
	args->model = model;
}

/*
 * Generate under a constraint for schema; the answer's UTF-8 bytes.  The
 * constraint is an engine object: it is freed on every path.
 */
static char *
generate_constrained(LlmModel *model, const llm_schema *schema,
					 int32_t *ids, int32_t n_ids, const GenerateArgs *args,
					 size_t *len)
{
	llm_error	err = {0};
	llm_constraint *made = NULL;
	llm_constraint *volatile constraint;
	llm_token_trie *trie;
	char	   *answer;

	PG_TRY();
	{
		trie = llm_model_token_trie(model);
		if (llm_constraint_create(schema, trie, model->vocab, &made, &err) != LLM_OK)
			llm_report_error(&err, "could not prepare constrained decoding");
	}
	PG_CATCH();
	{
		llm_free(ids);
		PG_RE_THROW();
	}
	PG_END_TRY();
	constraint = made;

	PG_TRY();
	{
		answer = llm_run_generation(model, ids, n_ids, args, constraint, len);
	}
	PG_FINALLY();
	{
		llm_constraint_free(constraint);
	}
	PG_END_TRY();
	return answer;
}

/*
 * Tokenize the chat [system, user]; when with_extra is set and the prompt
 * would leave less than ANSWER_RESERVE tokens of the context (or fewer than
 * max_tokens), the caller retries without the optional part.
 */
static int32_t *
chat_tokens(LlmModel *model, const char *system, const char *user, int32_t *n_ids)
{
	llm_chat_message msgs[2];

	msgs[0].role = "system";
	msgs[0].content = system;
	msgs[1].role = "user";
	msgs[1].content = user;
	return llm_prompt_tokens(model, msgs, 2, NULL, 0, n_ids);
}

/*
 * llm_extract_json(input text, schema jsonb, instruction text, max_tokens
 * integer, model text) RETURNS jsonb
 */
Datum
sql_llm_extract_json(PG_FUNCTION_ARGS)
{
	static const char *system_prompt =
		"You extract information from a text and answer with one JSON document "
		"that follows the given JSON Schema. Copy names, numbers, dates and ids "
		"exactly as the text gives them. Use null for a field the text does not "
		"mention when the schema allows null.";
	char	   *input;
	char	   *instruction;
	char	   *schema_text;
	size_t		schema_len;
	const llm_schema *schema;
	LlmModel   *model;
	GenerateArgs args;
	int32		max_tokens;
	int32_t    *ids;
	int32_t		n_ids;
	int32_t		n_ctx;
	char	   *answer;
	size_t		answer_len;
	text	   *answer_text;
	StringInfoData user;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();

	input = arg_utf8(fcinfo, 0, NULL);
	schema_text = jsonb_to_utf8(PG_GETARG_JSONB_P(1), &schema_len);
	instruction = PG_ARGISNULL(2) ? NULL : arg_utf8(fcinfo, 2, NULL);
	max_tokens = PG_ARGISNULL(3) ? llm_max_tokens : PG_GETARG_INT32(3);
	if (max_tokens <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_tokens must be greater than 0, got %d", max_tokens)));

	schema = get_schema(schema_text, schema_len);
	model = llm_get_model(PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4)));
	greedy_args(&args, max_tokens, NULL);
	n_ctx = llm_generation_n_ctx(model);

	/*
	 * The schema's text helps the model choose what to write; the
	 * constraint enforces it either way.  A schema too long for the context
	 * is left out of the prompt rather than failing the call.
	 */
	initStringInfo(&user);
	appendStringInfo(&user, "%s\n\nJSON Schema:\n%s\n\nText:\n%s",
					 instruction ? instruction : "Extract the data described by the JSON Schema from the text.",
					 schema_text, input);
	ids = chat_tokens(model, system_prompt, user.data, &n_ids);
	if (n_ids + Min(max_tokens, ANSWER_RESERVE) > n_ctx)
	{
		llm_free(ids);
		resetStringInfo(&user);
		appendStringInfo(&user, "%s\n\nText:\n%s",
						 instruction ? instruction : "Extract the data from the text as JSON.",
						 input);
		ids = chat_tokens(model, system_prompt, user.data, &n_ids);
	}

	answer = generate_constrained(model, schema, ids, n_ids, &args, &answer_len);
	answer_text = llm_utf8_to_text(answer, answer_len);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in,
										CStringGetDatum(text_to_cstring(answer_text))));
}

/*
 * Up to this many labels, llm_classify scores every label in full (the
 * model's probability of the label followed by its end-of-turn token) and
 * returns the most probable one: the exact best choice under the "one of
 * the labels" constraint, and better than greedy decoding, which commits to
 * a label's first token before seeing the rest.  Beyond it, decoding under
 * the labels' constraint picks the label in one pass.
 */
#define CLASSIFY_SCORE_MAX_LABELS 64

static int
interrupt_requested(void *arg)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

/*
 * The index of the most probable label after the prompt ids (which are
 * llm_free'd here).  ERRORs like generation does.
 */
static int
best_label(LlmModel *model, int32_t *ids, int32_t n_ids,
		   const char **labels, const size_t *label_lens, int n)
{
	llm_error	err = {0};
	llm_generator *gen;
	int32_t		end_token;
	int			best = 0;
	double		best_lp = 0.0;
	int			i;

	PG_TRY();
	{
		gen = llm_model_generator(model, llm_generation_n_ctx(model));
	}
	PG_CATCH();
	{
		llm_free(ids);
		PG_RE_THROW();
	}
	PG_END_TRY();
	end_token = llm_vocab_eot(model->vocab);
	if (end_token < 0)
		end_token = llm_vocab_eos(model->vocab);

	for (i = 0; i < n; i++)
	{
		int32_t    *cont = NULL;
		size_t		n_cont = 0;
		int32_t    *with_end;
		double		lp;
		llm_status	st;

		st = llm_tokenize(model->vocab, labels[i], label_lens[i], false, false,
						  &cont, &n_cont, &err);
		if (st == LLM_OK && n_cont + 1 > (size_t) 256)
			st = llm_error_set(&err, LLM_ERR_LIMIT, "label %d is longer than 255 tokens", i + 1);
		with_end = st == LLM_OK ? llm_calloc(n_cont + 1, sizeof(int32_t)) : NULL;
		if (st == LLM_OK && with_end == NULL)
			st = llm_error_set(&err, LLM_ERR_NOMEM, "out of memory");
		if (st == LLM_OK)
		{
			if (n_cont > 0)
				memcpy(with_end, cont, n_cont * sizeof(int32_t));
			with_end[n_cont] = end_token;
			st = llm_generator_score(gen, ids, n_ids, with_end,
									 end_token >= 0 ? (int32_t) n_cont + 1 : (int32_t) n_cont,
									 interrupt_requested, NULL, &lp, &err);
		}
		llm_free(cont);
		llm_free(with_end);
		if (st != LLM_OK)
		{
			llm_free(ids);
			if (st == LLM_ERR_CANCELLED)
			{
				CHECK_FOR_INTERRUPTS();
				ereport(ERROR,
						(errcode(ERRCODE_QUERY_CANCELED),
						 errmsg("classification was interrupted")));
			}
			llm_report_error(&err, "could not score the labels");
		}
		if (i == 0 || lp > best_lp)
		{
			best = i;
			best_lp = lp;
		}
	}
	llm_free(ids);
	return best;
}

/*
 * llm_classify(input text, labels text[], instruction text, model text)
 * RETURNS text: exactly one of labels.
 */
Datum
sql_llm_classify(PG_FUNCTION_ARGS)
{
	static const char *system_prompt =
		"You are a text classifier. Read the text and answer with exactly one "
		"label from the list, and nothing else.";
	char	   *input;
	char	   *instruction;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	const char **labels;
	size_t	   *label_lens;
	size_t		longest = 0;
	llm_schema *compiled = NULL;
	llm_schema *volatile schema;
	llm_error	err = {0};
	LlmModel   *model;
	GenerateArgs args;
	int32_t    *ids;
	int32_t		n_ids;
	char	   *answer = NULL;
	size_t		answer_len = 0;
	StringInfoData user;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	input = arg_utf8(fcinfo, 0, NULL);
	instruction = PG_ARGISNULL(2) ? NULL : arg_utf8(fcinfo, 2, NULL);

	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("labels must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("labels must not be empty")));
	labels = palloc(sizeof(char *) * n);
	label_lens = palloc(sizeof(size_t) * n);
	for (i = 0; i < n; i++)
	{
		const char *s;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("label %d is NULL", i + 1)));
		s = llm_text_to_utf8(DatumGetTextPP(elems[i]), &label_lens[i]);
		labels[i] = pnstrdup(s, label_lens[i]);
		longest = Max(longest, label_lens[i]);
	}

	model = llm_get_model(PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	if (llm_schema_compile_choice(labels, label_lens, n, &compiled, &err) != LLM_OK)
		llm_report_error(&err, "invalid labels");
	schema = compiled;

	/* A label takes at most one token per byte. */
	greedy_args(&args, (int32) Min(longest + 1, (size_t) PG_INT32_MAX), NULL);

	initStringInfo(&user);
	appendStringInfo(&user, "%s\nLabels: ",
					 instruction ? instruction : "Classify the text.");
	for (i = 0; i < n; i++)
		appendStringInfo(&user, "%s%s", i > 0 ? ", " : "", labels[i]);
	appendStringInfo(&user, "\n\nText:\n%s\n\nAnswer with one label.", input);

	if (n <= CLASSIFY_SCORE_MAX_LABELS)
	{
		llm_schema_free(schema);
		ids = chat_tokens(model, system_prompt, user.data, &n_ids);
		i = best_label(model, ids, n_ids, labels, label_lens, n);
		PG_RETURN_DATUM(PointerGetDatum(PG_DETOAST_DATUM_COPY(elems[i])));
	}

	PG_TRY();
	{
		ids = chat_tokens(model, system_prompt, user.data, &n_ids);
		answer = generate_constrained(model, schema, ids, n_ids, &args, &answer_len);
	}
	PG_FINALLY();
	{
		llm_schema_free(schema);
	}
	PG_END_TRY();

	/* Return the label as the caller wrote it (server encoding). */
	for (i = 0; i < n; i++)
		if (label_lens[i] == answer_len && memcmp(labels[i], answer, answer_len) == 0)
			PG_RETURN_DATUM(PointerGetDatum(PG_DETOAST_DATUM_COPY(elems[i])));
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("constrained decoding produced \"%s\", which is not one of the labels",
					answer)));
	PG_RETURN_NULL();
}

/* The first max_words whitespace-separated words of s, single-spaced lines kept. */
static char *
first_words(const char *s, size_t len, int max_words)
{
	StringInfoData out;
	size_t		i = 0;
	int			words = 0;

	initStringInfo(&out);
	while (i < len && words < max_words)
	{
		size_t		start;

		while (i < len && isspace((unsigned char) s[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && !isspace((unsigned char) s[i]))
			i++;
		if (words > 0)
			appendStringInfoChar(&out, ' ');
		appendBinaryStringInfo(&out, s + start, (int) (i - start));
		words++;
	}
	return out.data;
}

/*
 * llm_summarize(input text, max_words integer, model text) RETURNS text:
 * at most max_words words (whitespace-separated; the answer is cut there
 * and its whitespace collapsed to single spaces).
 */
Datum
sql_llm_summarize(PG_FUNCTION_ARGS)
{
	static const char *system_prompt =
		"You write short, factual summaries. Answer with the summary only.";
	char	   *input;
	size_t		input_len;
	int32		max_words;
	LlmModel   *model;
	GenerateArgs args;
	int32_t    *ids;
	int32_t		n_ids;
	char	   *answer;
	size_t		answer_len;
	char	   *summary;
	StringInfoData user;
	size_t		i;
	bool		blank = true;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	max_words = PG_ARGISNULL(1) ? 60 : PG_GETARG_INT32(1);
	if (max_words <= 0 || max_words > MAX_SUMMARY_WORDS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_words must be between 1 and %d, got %d",
						MAX_SUMMARY_WORDS, max_words)));
	input = arg_utf8(fcinfo, 0, &input_len);
	for (i = 0; i < input_len; i++)
		if (!isspace((unsigned char) input[i]))
			blank = false;
	/* Nothing to summarise: an empty summary, not an invented one. */
	if (blank)
		PG_RETURN_TEXT_P(cstring_to_text(""));

	model = llm_get_model(PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)));

	/* About 1.3 tokens per English word, plus room for punctuation. */
	greedy_args(&args, max_words * 2 + 16, NULL);
	initStringInfo(&user);
	appendStringInfo(&user, "Summarize the following text in at most %d words.\n\nText:\n%s",
					 max_words, input);
	ids = chat_tokens(model, system_prompt, user.data, &n_ids);
	answer = llm_run_generation(model, ids, n_ids, &args, NULL, &answer_len);
	summary = first_words(answer, answer_len, max_words);
	PG_RETURN_TEXT_P(llm_utf8_to_text(summary, strlen(summary)));
}
