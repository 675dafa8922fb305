/*
 * llm_ext.c — module entry point and the llm.* settings.
 *
 * Everything else is set up lazily: a backend opens a model the first time
 * a function asks for it (model_cache.c).
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "llm_ext.h"

PG_MODULE_MAGIC;

char	   *llm_model_dir = NULL;
char	   *llm_default_model = NULL;
int			llm_max_tokens = 256;
int			llm_context_size = 2048;
int			llm_seed = -1;
int			llm_threads = 1;

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

	DefineCustomIntVariable("llm.max_tokens",
							"Most tokens a generation produces when max_tokens is NULL.",
							NULL,
							&llm_max_tokens,
							256, 1, 1000000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("llm.context_size",
							"Tokens of context (prompt plus generated text) per generation.",
							"Each backend that generates keeps a KV cache of this many tokens "
							"(about 23 kB per token for the default model). "
							"0 means the model's trained context length.",
							&llm_context_size,
							2048, 0, 1048576,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("llm.seed",
							"Random seed for sampling when seed is NULL; -1 picks a new seed per call.",
							NULL,
							&llm_seed,
							-1, -1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	/*
	 * The forward pass runs on the backend's own thread for now; a thread
	 * pool (with every signal blocked in its workers) comes with the speed
	 * work, and will widen this range.
	 */
	DefineCustomIntVariable("llm.threads",
							"Threads one generation computes with.",
							NULL,
							&llm_threads,
							1, 1, 1,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("llm");
}
