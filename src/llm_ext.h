/*
 * llm_ext.h — declarations shared by the glue files.
 */
#ifndef LLM_EXT_H
#define LLM_EXT_H

/* GUC variables (llm_ext.c) */
extern char *llm_model_dir;
extern char *llm_default_model;
extern int	llm_max_tokens;
extern int	llm_context_size;
extern int	llm_seed;
extern int	llm_threads;

/* Default for llm.model_dir: $(pg_config --sharedir)/llm_ext/models */
extern char *llm_default_model_dir(void);

#endif
