/*
 * generate_funcs.c — llm_generate and llm_chat.
 *
 * Both build a list of chat messages, render it with the model's chat
 * template, tokenize it, and run the engine's generation loop.  The loop
 * polls QueryCancelPending / ProcDiePending through a callback between
 * tokens and between layers, and returns LLM_ERR_CANCELLED when either is
 * set; this file then calls CHECK_FOR_INTERRUPTS() with no engine frame on
 * the stack, so statement_timeout, pg_cancel_backend and
 * pg_terminate_backend take effect within one layer of the forward pass.
 *
 * Engine buffers are freed before any ERROR is raised.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "llm_errors.h"
#include "llm_ext.h"
#include "llm_text.h"
#include "generation.h"
#include "model_cache.h"

PG_FUNCTION_INFO_V1(sql_llm_generate);
PG_FUNCTION_INFO_V1(sql_llm_chat);

static int
interrupt_requested(void *arg)
{
	return (QueryCancelPending || ProcDiePending) ? 1 : 0;
}

void
llm_read_generate_args(FunctionCallInfo fcinfo, int a_max, int a_temp, int a_top_p,
				   int a_top_k, int a_seed, int a_stop, int a_model,
				   GenerateArgs *args)
{
	args->max_tokens = PG_ARGISNULL(a_max) ? llm_max_tokens : PG_GETARG_INT32(a_max);
	args->temperature = PG_ARGISNULL(a_temp) ? 0.0 : PG_GETARG_FLOAT8(a_temp);
	args->top_p = PG_ARGISNULL(a_top_p) ? 1.0 : PG_GETARG_FLOAT8(a_top_p);
	args->top_k = PG_ARGISNULL(a_top_k) ? 0 : PG_GETARG_INT32(a_top_k);

	if (args->max_tokens <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_tokens must be greater than 0, got %d", args->max_tokens)));
	if (isnan(args->temperature) || isinf(args->temperature) || args->temperature < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("temperature must be a finite number >= 0, got %g", args->temperature),
				 errhint("Use temperature => 0 for greedy, deterministic output.")));
	if (isnan(args->top_p) || !(args->top_p > 0.0 && args->top_p <= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top_p must be in (0, 1], got %g", args->top_p)));
	if (args->top_k < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("top_k must be >= 0 (0 turns it off), got %d", args->top_k)));

	if (!PG_ARGISNULL(a_seed))
		args->seed = (uint64) PG_GETARG_INT64(a_seed);
	else if (llm_seed >= 0)
		args->seed = (uint64) llm_seed;
	else
		args->seed = pg_prng_uint64(&pg_global_prng_state);

	args->stop = NIL;
	if (!PG_ARGISNULL(a_stop))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(a_stop);
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int			i;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 0; i < n; i++)
		{
			size_t		len;

			/* NULL and empty stop strings stop nothing. */
			if (nulls[i])
				continue;
			/* The engine takes NUL-terminated stop strings. */
			const char *utf8 = llm_text_to_utf8(DatumGetTextPP(elems[i]), &len);

			args->stop = lappend(args->stop, pnstrdup(utf8, len));
		}
	}
	args->model = PG_ARGISNULL(a_model) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(a_model));
}

/* A token's stored text as a C string; NULL for id -1. */
static const char *
token_text(const llm_vocab *vocab, int32_t id)
{
	const char *s;
	size_t		len;

	if (id < 0 || (s = llm_vocab_token_text(vocab, id, &len)) == NULL)
		return NULL;
	return pnstrdup(s, len);
}

/*
 * The prompt's token ids (llm_malloc'd: the caller llm_frees them).  msgs
 * are rendered with the model's chat template; raw_prompt != NULL: that
 * text as it is, with BOS as the model's metadata says.
 */
int32_t *
llm_prompt_tokens(LlmModel *model, const llm_chat_message *msgs, int n_msgs,
				  const char *raw_prompt, size_t raw_len, int32_t *n_tokens)
{
	llm_error	err = {0};
	char	   *prompt_text = NULL;
	size_t		prompt_len = 0;
	int32_t    *ids = NULL;
	size_t		n_ids = 0;
	llm_status	st;

	if (raw_prompt != NULL)
	{
		st = llm_tokenize(model->vocab, raw_prompt, raw_len, true, true, &ids, &n_ids, &err);
	}
	else
	{
		llm_chat_template *tmpl = llm_model_chat_template(model);
		llm_chat_render_options opts = {0};
		const char *bos;
		const char *eos;

		bos = token_text(model->vocab, llm_vocab_bos(model->vocab));
		eos = token_text(model->vocab, llm_vocab_eos(model->vocab));
		opts.add_generation_prompt = true;
		opts.bos_token = bos;
		opts.eos_token = eos;
		st = llm_chat_template_render(tmpl, msgs, (size_t) n_msgs, &opts,
									  &prompt_text, &prompt_len, &err);
		if (st != LLM_OK)
		{
			llm_free(prompt_text);
			llm_report_error(&err, "could not apply the model's chat template");
		}

		/*
		 * The rendered template holds the special tokens it needs (BOS
		 * included), as llama.cpp's chat completion expects.
		 */
		st = llm_tokenize(model->vocab, prompt_text, prompt_len, false, true,
						  &ids, &n_ids, &err);
		llm_free(prompt_text);
	}
	if (st == LLM_OK && n_ids > (size_t) INT32_MAX)
		st = llm_error_set(&err, LLM_ERR_LIMIT, "the prompt has too many tokens");
	if (st != LLM_OK)
	{
		llm_free(ids);
		llm_report_error(&err, "could not tokenize the prompt");
	}
	*n_tokens = (int32_t) n_ids;
	return ids;
}

/* The context size generation uses for model. */
int32_t
llm_generation_n_ctx(LlmModel *model)
{
	return llm_context_size > 0 ? llm_context_size : (int32_t) model->hparams.n_ctx_train;
}

/*
 * Generate from prompt ids (which this function llm_frees, also on ERROR)
 * and return the answer's UTF-8 bytes (palloc'd, NUL-terminated).
 * constraint: NULL, or a schema constraint (generate.h).
 */
char *
llm_run_generation(LlmModel *model, int32_t *ids, int32_t n_ids,
				   const GenerateArgs *args, llm_constraint *constraint,
				   size_t *out_len)
{
	llm_error	err = {0};
	llm_generator *gen;
	llm_generate_params params;
	llm_generate_result res;
	const char **stops;
	ListCell   *lc;
	int			i;
	llm_status	st;
	char	   *result;

	PG_TRY();
	{
		gen = llm_model_generator(model, llm_generation_n_ctx(model));
		stops = palloc(sizeof(char *) * (list_length(args->stop) + 1));
	}
	PG_CATCH();
	{
		llm_free(ids);
		PG_RE_THROW();
	}
	PG_END_TRY();
	i = 0;
	foreach(lc, args->stop)
		stops[i++] = lfirst(lc);

	memset(&params, 0, sizeof(params));
	params.max_tokens = args->max_tokens;
	llm_sampler_params_init(&params.sampling);
	params.sampling.temperature = args->temperature;
	params.sampling.top_p = args->top_p;
	params.sampling.top_k = args->top_k;
	params.sampling.seed = args->seed;
	params.stop = stops;
	params.stop_lens = NULL;
	params.n_stop = i;
	params.interrupt = interrupt_requested;
	params.interrupt_arg = NULL;
	params.constraint = constraint;

	st = llm_generate(gen, ids, n_ids, &params, &res, &err);
	llm_free(ids);
	if (st == LLM_ERR_CANCELLED)
	{
		/* No engine frame is on the stack now: let PostgreSQL act. */
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("generation was interrupted")));
	}
	if (st != LLM_OK)
		llm_report_error(&err, "could not generate");

	elog(DEBUG1, "llm_ext: %d prompt tokens (%d reused) in %.3f s, %d generated in %.3f s",
		 res.n_prompt, res.n_reused, res.prefill_seconds, res.n_generated, res.decode_seconds);

	PG_TRY();
	{
		result = palloc(res.text_len + 1);
		memcpy(result, res.text, res.text_len);
		result[res.text_len] = '\0';
		*out_len = res.text_len;
	}
	PG_FINALLY();
	{
		llm_free(res.text);
	}
	PG_END_TRY();
	return result;
}

/* Render, tokenize and generate without a constraint; the answer as text. */
static text *
run_generation(LlmModel *model, const llm_chat_message *msgs, int n_msgs,
			   const char *raw_prompt, size_t raw_len, const GenerateArgs *args)
{
	int32_t		n_ids;
	int32_t    *ids;
	char	   *answer;
	size_t		len;

	ids = llm_prompt_tokens(model, msgs, n_msgs, raw_prompt, raw_len, &n_ids);
	answer = llm_run_generation(model, ids, n_ids, args, NULL, &len);
	return llm_utf8_to_text(answer, len);
}

Datum
sql_llm_generate(PG_FUNCTION_ARGS)
{
	GenerateArgs args;
	LlmModel   *model;
	llm_chat_message msgs[2];
	int			n_msgs = 0;
	size_t		len;
	const char *prompt;
	bool		raw;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/* prompt, max_tokens, temperature, top_p, top_k, seed, stop, system, raw, model */
	llm_read_generate_args(fcinfo, 1, 2, 3, 4, 5, 6, 9, &args);
	raw = PG_ARGISNULL(8) ? false : PG_GETARG_BOOL(8);
	prompt = llm_text_to_utf8(PG_GETARG_TEXT_PP(0), &len);
	model = llm_get_model(args.model);

	if (raw)
		PG_RETURN_TEXT_P(run_generation(model, NULL, 0, prompt, len, &args));

	if (!PG_ARGISNULL(7))
	{
		size_t		slen;

		msgs[n_msgs].role = "system";
		msgs[n_msgs].content = pnstrdup(llm_text_to_utf8(PG_GETARG_TEXT_PP(7), &slen), slen);
		n_msgs++;
	}
	msgs[n_msgs].role = "user";
	msgs[n_msgs].content = pnstrdup(prompt, len);
	n_msgs++;
	PG_RETURN_TEXT_P(run_generation(model, msgs, n_msgs, NULL, 0, &args));
}

/* A string field of a message object, or an ERROR naming what is wrong. */
static char *
message_field(JsonbContainer *obj, const char *key, int index)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(obj, key, strlen(key), &v) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("message %d has no \"%s\"", index + 1, key),
				 errhint("messages is an array of {\"role\": ..., \"content\": ...} objects.")));
	if (v.type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" of message %d must be a string", key, index + 1)));
	return pnstrdup(v.val.string.val, v.val.string.len);
}

Datum
sql_llm_chat(PG_FUNCTION_ARGS)
{
	GenerateArgs args;
	Jsonb	   *messages;
	LlmModel   *model;
	llm_chat_message *msgs;
	int			n;
	int			i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/* messages, max_tokens, temperature, top_p, top_k, seed, stop, model */
	llm_read_generate_args(fcinfo, 1, 2, 3, 4, 5, 6, 7, &args);

	messages = PG_GETARG_JSONB_P(0);
	if (JB_ROOT_IS_SCALAR(messages) || !JB_ROOT_IS_ARRAY(messages))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("messages must be a JSON array"),
				 errhint("messages is an array of {\"role\": ..., \"content\": ...} objects.")));
	n = JB_ROOT_COUNT(messages);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("messages must not be empty")));

	msgs = palloc(sizeof(llm_chat_message) * n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *elem = getIthJsonbValueFromContainer(&messages->root, i);
		char	   *role;

		if (elem == NULL || elem->type != jbvBinary ||
			!JsonContainerIsObject(elem->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("message %d is not an object", i + 1),
					 errhint("messages is an array of {\"role\": ..., \"content\": ...} objects.")));
		role = message_field(elem->val.binary.data, "role", i);
		if (strcmp(role, "system") != 0 && strcmp(role, "user") != 0 &&
			strcmp(role, "assistant") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("role of message %d must be \"system\", \"user\" or \"assistant\", got \"%s\"",
							i + 1, role)));
		msgs[i].role = role;
		msgs[i].content = message_field(elem->val.binary.data, "content", i);
	}

	model = llm_get_model(args.model);
	PG_RETURN_TEXT_P(run_generation(model, msgs, n, NULL, 0, &args));
}
