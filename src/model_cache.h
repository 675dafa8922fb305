/*
 * model_cache.h — the per-backend cache of open models.
 */
#ifndef LLM_MODEL_CACHE_H
#define LLM_MODEL_CACHE_H

#include "chat_template.h"
#include "constraint.h"
#include "generate.h"
#include "gguf.h"
#include "llama.h"
#include "model_info.h"
#include "tokenizer.h"

/*
 * An open model.  Lives for the session (or until its file changes); owned
 * by the cache, never freed by callers.  The weights stay in the read-only
 * shared mapping held by gguf, so every backend shares their pages.
 */
typedef struct LlmModel
{
	char	   *name;			/* as the user spells it: file base name */
	char	   *path;			/* resolved real path inside llm.model_dir */
	gguf_file  *gguf;
	llm_vocab  *vocab;
	llm_model_info info;
	llm_hparams hparams;		/* valid when info.architecture is "llama" */

	/* Made on first use by what needs them (generation), NULL until then. */
	llm_weights *weights;		/* tensor views into the mapping */
	llm_generator *generator;	/* KV cache + scratch, for gen_n_ctx tokens */
	int32_t		gen_n_ctx;
	llm_chat_template *chat_template;	/* compiled tokenizer.chat_template */
	llm_token_trie *token_trie;	/* the vocabulary's bytes, for schema masks */
	struct LlmModel *next;
} LlmModel;

/*
 * The model called name (NULL: llm.default_model), opened on first use and
 * reopened when its file has been replaced.  ERRORs (with a SQLSTATE) on a
 * bad name, a path outside llm.model_dir, a missing file or a bad GGUF.
 */
extern LlmModel *llm_get_model(const char *name);

/*
 * Resolve name to the real path of name.gguf inside llm.model_dir,
 * ERRORing on names that could escape it.  missing_ok: return NULL when
 * the file does not exist instead of ERRORing.
 */
extern char *llm_resolve_model_path(const char *name, bool missing_ok);

/*
 * The model's generator (weights bound, KV cache for n_ctx tokens), made on
 * first use and remade when n_ctx changes.  ERRORs with 0A000 for an
 * architecture the forward pass does not support.
 */
extern llm_generator *llm_model_generator(LlmModel *model, int32_t n_ctx);

/* The model's compiled chat template (ChatML when it has none). */
extern llm_chat_template *llm_model_chat_template(LlmModel *model);

/* The vocabulary trie constrained decoding walks, built on first use. */
extern llm_token_trie *llm_model_token_trie(LlmModel *model);

/* Is this model open in this backend, with the file as it is now? */
extern bool llm_model_is_loaded(const char *name, const char *path);

/* The real path of llm.model_dir (palloc'd); ERRORs when it is missing. */
extern char *llm_real_model_dir(void);

#endif
