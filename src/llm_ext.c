/*
 * llm_ext.c — module entry point and the llm.* settings.
 *
 * Everything else is set up lazily: a backend opens a model the first time
 * a function asks for it (model_cache.c).
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "llm_ext.h"

PG_MODULE_MAGIC;

char	   *llm_model_dir = NULL;
char	   *llm_default_model = NULL;

void		_PG_init(void);

char *
llm_default_model_dir(void)
{
	char		sharedir[MAXPGPATH];

	get_share_path(my_exec_path, sharedir);
	return psprintf("%s/llm_ext/models", sharedir);
}

/*
 * llm.model_dir must be an absolute path: every model path is checked to
 * stay inside it, and a relative path would silently depend on the data
 * directory.
 */
static bool
check_model_dir(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || !is_absolute_path(*newval))
	{
		GUC_check_errdetail("llm.model_dir must be an absolute path.");
		return false;
	}
	return true;
}

void
_PG_init(void)
{
	DefineCustomStringVariable("llm.model_dir",
							   "Directory that holds the GGUF model files.",
							   "A model's name is its file's base name without .gguf.",
							   &llm_model_dir,
							   MemoryContextStrdup(TopMemoryContext,
												   llm_default_model_dir()),
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   check_model_dir, NULL, NULL);

	DefineCustomStringVariable("llm.default_model",
							   "Model used when a function's model argument is NULL.",
							   NULL,
							   &llm_default_model,
							   "SmolLM2-135M-Instruct.Q4_1",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("llm");
}
