/*
 * llm_errors.h — turning engine errors into PostgreSQL errors.
 */
#ifndef LLM_ERRORS_H
#define LLM_ERRORS_H

#include "common.h"

/*
 * ereport(ERROR) with the SQLSTATE that matches err->status, the engine's
 * message, and its detail.  context names what was being done ("model
 * \"smollm2\""), and goes first in the message.  Never returns.
 */
extern void llm_report_error(const llm_error *err, const char *context) pg_attribute_noreturn();

/* The SQLSTATE for an engine status. */
extern int	llm_status_sqlstate(llm_status status);

#endif
