/*
 * models_view.c — llm_models_list(), the set-returning function behind the
 * llm_models view: one row per *.gguf file in llm.model_dir.
 *
 * Each file's header is parsed (a read-only mapping of the file, no
 * tokenizer tables), so listing is cheap.  A file that does not parse, or
 * a symlink that leads outside the directory, is still listed by name with
 * the other columns NULL: the view is a directory listing and must not fail
 * because one file is bad; opening that model gives the real error.
 */
#include "postgres.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "model_cache.h"

PG_FUNCTION_INFO_V1(sql_llm_models_list);

#define MODELS_COLS 10

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Collect the model names (file base names) in dir, sorted. */
static List *
list_model_names(const char *dir)
{
	DIR		   *d;
	struct dirent *de;
	char	  **names;
	int			n = 0;
	int			cap = 16;
	List	   *result = NIL;
	int			i;

	names = palloc(cap * sizeof(char *));
	d = AllocateDir(dir);
	while ((de = ReadDir(d, dir)) != NULL)
	{
		size_t		len = strlen(de->d_name);

		if (len <= 5 || de->d_name[0] == '.' ||
			strcmp(de->d_name + len - 5, ".gguf") != 0)
			continue;
		if (n == cap)
		{
			cap *= 2;
			names = repalloc(names, cap * sizeof(char *));
		}
		names[n++] = pnstrdup(de->d_name, len - 5);
	}
	FreeDir(d);

	qsort(names, n, sizeof(char *), cmp_names);
	for (i = 0; i < n; i++)
		result = lappend(result, names[i]);
	return result;
}

/* The real path of dir/name.gguf if it is a regular file inside dir, else NULL. */
static char *
contained_path(const char *dir, const char *name)
{
	char	   *path = psprintf("%s/%s.gguf", dir, name);
	char		resolved[PATH_MAX];
	size_t		dirlen = strlen(dir);
	struct stat st;

	if (realpath(path, resolved) == NULL ||
		strncmp(resolved, dir, dirlen) != 0 || resolved[dirlen] != '/' ||
		stat(resolved, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	return pstrdup(resolved);
}

Datum
sql_llm_models_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *dir;
	List	   *names;
	ListCell   *lc;

	SetSingleFuncCall(fcinfo, 0);
	dir = llm_real_model_dir();
	names = list_model_names(dir);

	foreach(lc, names)
	{
		char	   *name = lfirst(lc);
		char	   *path = contained_path(dir, name);
		Datum		values[MODELS_COLS] = {0};
		bool		nulls[MODELS_COLS] = {0};
		gguf_file  *gguf = NULL;
		llm_model_info info;
		llm_error	err = {0};
		bool		have_info = false;
		int			i;

		/* Listing many files can take a moment on a slow disk. */
		CHECK_FOR_INTERRUPTS();

		if (path != NULL && gguf_open(path, &gguf, &err) == LLM_OK &&
			llm_model_info_load(gguf, &info, &err) == LLM_OK)
			have_info = true;

		values[0] = CStringGetTextDatum(name);
		for (i = 1; i < MODELS_COLS; i++)
			nulls[i] = true;
		if (path != NULL)
		{
			struct stat st;

			values[1] = CStringGetTextDatum(path);
			nulls[1] = false;
			if (stat(path, &st) == 0)
			{
				values[7] = Int64GetDatum((int64) st.st_size);
				nulls[7] = false;
			}
			values[9] = BoolGetDatum(llm_model_is_loaded(name, path));
			nulls[9] = false;
		}
		if (have_info)
		{
			values[2] = CStringGetTextDatum(info.architecture);
			values[3] = Int64GetDatum((int64) info.n_params);
			values[4] = CStringGetTextDatum(info.quantization);
			values[5] = Int64GetDatum((int64) info.context_length);
			values[6] = Int64GetDatum((int64) info.vocab_size);
			values[8] = BoolGetDatum(info.has_chat_template);
			nulls[2] = nulls[3] = nulls[4] = nulls[5] = nulls[6] = nulls[8] = false;
		}
		gguf_close(gguf);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
