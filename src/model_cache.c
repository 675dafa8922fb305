/*
 * model_cache.c — resolving model names and caching open models per backend.
 *
 * A model name is a GGUF file's base name in llm.model_dir.  Names are
 * checked so that no spelling can reach outside that directory: no '/', no
 * "..", no leading '.', and the file's real path (after following symlinks)
 * must still be inside the directory's real path.
 *
 * Opening a model maps the file read-only and shared and builds the
 * tokenizer tables; that is done once per backend and kept for the session
 * (the first call pays a few milliseconds, later ones nothing).  Every call
 * stats the file: when it was replaced (other inode, size or mtime) the
 * cached model is dropped and the new file opened.  Replace model files by
 * renaming a new file over the old one: truncating a mapped file in place
 * can make the old mapping fault.
 *
 * Engine objects are allocated with malloc (the engine's default allocator)
 * because they outlive any transaction; the cache owns them deliberately.
 */
#include "postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "miscadmin.h"
#include "utils/memutils.h"

#include "llm_errors.h"
#include "llm_ext.h"
#include "model_cache.h"

#define MODEL_NAME_MAX 200

static LlmModel *model_cache = NULL;

static void
check_model_name(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	if (len > MODEL_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name is too long (%zu bytes, at most %d)",
						len, MODEL_NAME_MAX)));
	if (strchr(name, '/') != NULL || strstr(name, "..") != NULL || name[0] == '.')
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("invalid model name \"%s\"", name),
				 errdetail("A model name is a file's base name in llm.model_dir; "
						   "it cannot contain \"/\" or \"..\" or start with \".\".")));
}

char *
llm_real_model_dir(void)
{
	char		resolved[PATH_MAX];

	if (realpath(llm_model_dir, resolved) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model directory \"%s\" is not accessible: %m", llm_model_dir),
				 errhint("Set llm.model_dir to the directory that holds the GGUF files.")));
	return pstrdup(resolved);
}

char *
llm_resolve_model_path(const char *name, bool missing_ok)
{
	char	   *dir;
	char	   *path;
	char		resolved[PATH_MAX];
	size_t		dirlen;
	struct stat st;

	check_model_name(name);
	dir = llm_real_model_dir();
	path = psprintf("%s/%s.gguf", dir, name);

	if (realpath(path, resolved) == NULL)
	{
		if (errno == ENOENT || errno == ENOTDIR)
		{
			if (missing_ok)
				return NULL;
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" does not exist", name),
					 errdetail("There is no file \"%s.gguf\" in llm.model_dir.", name),
					 errhint("SELECT name FROM llm_models lists the available models.")));
		}
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not resolve model file \"%s\": %m", path)));
	}

	/* Following symlinks must not lead out of the model directory. */
	dirlen = strlen(dir);
	if (strncmp(resolved, dir, dirlen) != 0 || resolved[dirlen] != '/')
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("model \"%s\" resolves to a file outside llm.model_dir", name),
				 errdetail("Model files (and the targets of symlinks) must be inside llm.model_dir.")));

	if (stat(resolved, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat model file \"%s\": %m", resolved)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" is not a regular file", name)));

	pfree(path);
	pfree(dir);
	return pstrdup(resolved);
}

/* Does the open file still match what is at path now? */
static bool
model_file_unchanged(const LlmModel *m, const char *path)
{
	struct stat st;

	if (strcmp(m->path, path) != 0 || stat(path, &st) != 0)
		return false;
	return st.st_dev == m->gguf->st_dev &&
		st.st_ino == m->gguf->st_ino &&
		(int64_t) st.st_size == m->gguf->st_size &&
		((int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec) == m->gguf->st_mtime_ns;
}

static void
free_model(LlmModel *m)
{
	llm_generator_free(m->generator);
	llm_weights_free(m->weights);
	llm_chat_template_free(m->chat_template);
	llm_token_trie_free(m->token_trie);
	llm_vocab_free(m->vocab);
	gguf_close(m->gguf);
	free(m->name);
	free(m->path);
	free(m);
}

static void
unlink_cached(LlmModel *m)
{
	LlmModel  **pp;

	for (pp = &model_cache; *pp != NULL; pp = &(*pp)->next)
	{
		if (*pp == m)
		{
			*pp = m->next;
			return;
		}
	}
}

static LlmModel *
find_cached(const char *name)
{
	LlmModel   *m;

	for (m = model_cache; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

bool
llm_model_is_loaded(const char *name, const char *path)
{
	LlmModel   *m = find_cached(name);

	return m != NULL && model_file_unchanged(m, path);
}

/*
 * Open the model file.  Engine errors are collected first and reported only
 * after every engine object is freed, so an ERROR never leaks them.
 */
static LlmModel *
open_model(const char *name, const char *path)
{
	llm_error	err = {0};
	gguf_file  *gguf = NULL;
	llm_vocab  *vocab = NULL;
	LlmModel   *m;
	llm_status	st;
	char	   *context;

	st = gguf_open(path, &gguf, &err);
	if (st == LLM_OK)
		st = llm_vocab_load(gguf, &vocab, &err);
	m = calloc(1, sizeof(LlmModel));
	if (st == LLM_OK && m == NULL)
		st = llm_error_set(&err, LLM_ERR_NOMEM, "out of memory");
	if (st == LLM_OK)
		st = llm_model_info_load(gguf, &m->info, &err);
	/*
	 * A llama model must have sane hyperparameters and the tensors they
	 * imply.  Other architectures still open (their tokenizer works); what
	 * needs the forward pass refuses them later with feature_not_supported.
	 */
	if (st == LLM_OK && strcmp(m->info.architecture, "llama") == 0)
		st = llm_hparams_load(gguf, &m->hparams, &err);
	if (st == LLM_OK)
	{
		m->name = strdup(name);
		m->path = strdup(path);
		if (m->name == NULL || m->path == NULL)
			st = llm_error_set(&err, LLM_ERR_NOMEM, "out of memory");
	}
	if (st != LLM_OK)
	{
		if (m != NULL)
		{
			free(m->name);
			free(m->path);
			free(m);
		}
		llm_vocab_free(vocab);
		gguf_close(gguf);
		context = psprintf("could not open model \"%s\"", name);
		llm_report_error(&err, context);
	}
	m->gguf = gguf;
	m->vocab = vocab;
	return m;
}

LlmModel *
llm_get_model(const char *name)
{
	LlmModel   *m;
	char	   *path;

	if (name == NULL)
	{
		name = llm_default_model;
		if (name == NULL || name[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("no model given and llm.default_model is empty"),
					 errhint("Pass a model name or set llm.default_model.")));
	}

	path = llm_resolve_model_path(name, false);
	m = find_cached(name);
	if (m != NULL)
	{
		if (model_file_unchanged(m, path))
		{
			pfree(path);
			return m;
		}
		/* The file was replaced or moved: drop the old one. */
		unlink_cached(m);
		free_model(m);
	}

	m = open_model(name, path);
	pfree(path);
	m->next = model_cache;
	model_cache = m;
	return m;
}

llm_generator *
llm_model_generator(LlmModel *model, int32_t n_ctx)
{
	llm_error	err = {0};
	llm_context_params params;
	llm_status	st;

	if (strcmp(model->info.architecture, "llama") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" has architecture \"%s\", which llm_ext cannot run yet",
						model->name, model->info.architecture),
				 errdetail("Tokenization works for it; generation supports the \"llama\" architecture.")));
	if (!model->hparams.has_tensors)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model \"%s\" has no weights", model->name),
				 errdetail("The file holds only a vocabulary: it can tokenize but not generate.")));
	if (model->generator != NULL && model->gen_n_ctx == n_ctx)
		return model->generator;

	llm_generator_free(model->generator);
	model->generator = NULL;
	if (model->weights == NULL)
	{
		st = llm_weights_load(model->gguf, &model->hparams, &model->weights, &err);
		if (st != LLM_OK)
		{
			model->weights = NULL;
			llm_report_error(&err, psprintf("could not load model \"%s\"", model->name));
		}
	}
	params = llm_context_default_params();
	params.n_ctx = n_ctx;
	st = llm_generator_create(model->weights, model->vocab, &params, &model->generator, &err);
	if (st != LLM_OK)
	{
		model->generator = NULL;
		llm_report_error(&err, psprintf("could not create a context for model \"%s\"", model->name));
	}
	model->gen_n_ctx = n_ctx;
	return model->generator;
}

llm_chat_template *
llm_model_chat_template(LlmModel *model)
{
	llm_error	err = {0};
	gguf_string tmpl = {NULL, 0};
	llm_status	st;

	if (model->chat_template != NULL)
		return model->chat_template;
	/* A model without a template (or with a non-string one) gets ChatML. */
	if (gguf_get_str(model->gguf, "tokenizer.chat_template", &tmpl, NULL) != LLM_OK)
		tmpl.ptr = NULL;
	st = llm_chat_template_compile(tmpl.ptr, tmpl.ptr ? tmpl.len : 0,
								   &model->chat_template, &err);
	if (st != LLM_OK)
	{
		model->chat_template = NULL;
		llm_report_error(&err, psprintf("could not compile the chat template of model \"%s\"",
										model->name));
	}
	return model->chat_template;
}

llm_token_trie *
llm_model_token_trie(LlmModel *model)
{
	llm_error	err = {0};

	if (model->token_trie != NULL)
		return model->token_trie;
	if (llm_token_trie_build(model->vocab, &model->token_trie, &err) != LLM_OK)
	{
		model->token_trie = NULL;
		llm_report_error(&err, psprintf("could not index the vocabulary of model \"%s\"",
										model->name));
	}
	return model->token_trie;
}
