/*
 * llm_errors.c — engine status codes to SQLSTATEs.
 *
 * The engine never throws; it returns an llm_status and a message.  The glue
 * frees whatever engine memory it holds, then calls llm_report_error, so an
 * ERROR never unwinds through engine frames.
 */
#include "postgres.h"

#include "llm_errors.h"

int
llm_status_sqlstate(llm_status status)
{
	switch (status)
	{
		case LLM_ERR_IO:
			return ERRCODE_IO_ERROR;
		case LLM_ERR_CORRUPT:
			return ERRCODE_DATA_CORRUPTED;
		case LLM_ERR_UNSUPPORTED:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		case LLM_ERR_NOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case LLM_ERR_INVALID_ARG:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case LLM_ERR_LIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case LLM_ERR_CANCELLED:
			return ERRCODE_QUERY_CANCELED;
		case LLM_OK:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}

void
llm_report_error(const llm_error *err, const char *context)
{
	const char *msg = err->msg[0] ? err->msg : "unknown engine error";

	ereport(ERROR,
			(errcode(llm_status_sqlstate(err->status)),
			 context ? errmsg("%s: %s", context, msg) : errmsg("%s", msg),
			 err->detail[0] ? errdetail("%s", err->detail) : 0));
	pg_unreachable();
}
