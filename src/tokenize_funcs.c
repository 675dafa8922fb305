/*
 * tokenize_funcs.c — llm_tokenize, llm_detokenize, llm_token_count.
 *
 * Tokenization here is of plain text: no BOS/EOS is added and text that
 * looks like a special token ("<|im_end|>") is tokenized as text, so
 * llm_detokenize(llm_tokenize(s)) = s and the counts are those of the text
 * itself.  Detokenizing renders control tokens as their text, so a user
 * can see them.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "llm_errors.h"
#include "llm_text.h"
#include "model_cache.h"

PG_FUNCTION_INFO_V1(sql_llm_tokenize);
PG_FUNCTION_INFO_V1(sql_llm_detokenize);
PG_FUNCTION_INFO_V1(sql_llm_token_count);

/* The optional model argument: NULL means llm.default_model. */
static LlmModel *
model_from_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return llm_get_model(NULL);
	return llm_get_model(text_to_cstring(PG_GETARG_TEXT_PP(argno)));
}

/*
 * Tokenize a text datum.  Returns a palloc'd copy of the ids; the engine's
 * buffer is freed before any ERROR is raised.
 */
static int32 *
tokenize_text(LlmModel *model, text *input, size_t *n_ids)
{
	llm_error	err = {0};
	int32_t    *ids = NULL;
	int32	   *result;
	llm_status	st;
	size_t		len;
	const char *utf8 = llm_text_to_utf8(input, &len);

	st = llm_tokenize(model->vocab, utf8, len, false, false, &ids, n_ids, &err);
	if (st != LLM_OK)
	{
		llm_free(ids);
		llm_report_error(&err, "could not tokenize");
	}
	result = palloc(Max(*n_ids, 1) * sizeof(int32));
	if (*n_ids > 0)
		memcpy(result, ids, *n_ids * sizeof(int32));
	llm_free(ids);
	return result;
}

Datum
sql_llm_tokenize(PG_FUNCTION_ARGS)
{
	LlmModel   *model;
	int32	   *ids;
	size_t		n_ids;
	Datum	   *elems;
	size_t		i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	model = model_from_arg(fcinfo, 1);
	ids = tokenize_text(model, PG_GETARG_TEXT_PP(0), &n_ids);

	elems = palloc(Max(n_ids, 1) * sizeof(Datum));
	for (i = 0; i < n_ids; i++)
		elems[i] = Int32GetDatum(ids[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, (int) n_ids, INT4OID,
										  sizeof(int32), true, TYPALIGN_INT));
}

Datum
sql_llm_token_count(PG_FUNCTION_ARGS)
{
	LlmModel   *model;
	size_t		n_ids;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	model = model_from_arg(fcinfo, 1);
	(void) tokenize_text(model, PG_GETARG_TEXT_PP(0), &n_ids);
	PG_RETURN_INT32((int32) n_ids);
}

Datum
sql_llm_detokenize(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	LlmModel   *model;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int32_t    *ids;
	char	   *out = NULL;
	size_t		out_len = 0;
	llm_error	err = {0};
	llm_status	st;
	text	   *result;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("token array must be one-dimensional")));
	model = model_from_arg(fcinfo, 1);

	deconstruct_array(arr, INT4OID, sizeof(int32), true, TYPALIGN_INT,
					  &elems, &nulls, &n);
	ids = palloc(Max(n, 1) * sizeof(int32_t));
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("token array must not contain NULLs"),
					 errdetail("Element %d is NULL.", i + 1)));
		ids[i] = DatumGetInt32(elems[i]);
	}

	st = llm_detokenize(model->vocab, ids, (size_t) n, true, &out, &out_len, &err);
	if (st != LLM_OK)
	{
		llm_free(out);
		llm_report_error(&err, "could not detokenize");
	}
	PG_TRY();
	{
		result = llm_utf8_to_text(out, out_len);
	}
	PG_FINALLY();
	{
		llm_free(out);
	}
	PG_END_TRY();
	PG_RETURN_TEXT_P(result);
}
