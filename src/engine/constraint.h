/*
 * constraint.h — a compiled schema applied to token sampling.
 *
 * The decoder asks two questions per step: "may this token come next?"
 * (cheap: feed its bytes to the matcher and roll back) and, only when the
 * sampled token is refused, "which tokens may come next?" (the full mask).
 * The full mask walks a trie of every token's bytes once per backend and
 * vocabulary (llm_token_trie), feeding each trie edge to the matcher, so
 * tokens sharing a prefix share the work and whole subtrees die with their
 * first refused byte — the vocabulary is never scanned token by token.
 *
 * Sampling the unconstrained distribution, keeping the token if allowed and
 * otherwise resampling from the masked distribution draws each allowed
 * token with probability p(t) / p(allowed): exactly the masked
 * distribution, so "check first" changes speed, not results.
 *
 * Control tokens are never allowed, except the end-of-generation tokens,
 * which are allowed exactly when the document is complete.
 */
#ifndef LLM_ENGINE_CONSTRAINT_H
#define LLM_ENGINE_CONSTRAINT_H

#include "common.h"
#include "json_matcher.h"
#include "tokenizer.h"

/* Every token's bytes in a trie; built once per vocabulary, read-only after. */
typedef struct llm_token_trie llm_token_trie;

llm_status	llm_token_trie_build(const llm_vocab *vocab, llm_token_trie **out,
								 llm_error *err);
void		llm_token_trie_free(llm_token_trie *t);	/* NULL is fine */

typedef struct llm_constraint llm_constraint;

/* schema, trie and vocab must outlive the constraint. */
llm_status	llm_constraint_create(const llm_schema *schema,
								  const llm_token_trie *trie,
								  const llm_vocab *vocab,
								  llm_constraint **out, llm_error *err);
void		llm_constraint_free(llm_constraint *c);	/* NULL is fine */
void		llm_constraint_reset(llm_constraint *c);

/* May token come next?  Does not change the state. */
bool		llm_constraint_allows(llm_constraint *c, int32_t token);

/* mask[0 .. n_vocab) = may each token come next?  Returns the count allowed. */
int32_t		llm_constraint_fill_mask(llm_constraint *c, bool *mask);

/* Append an allowed token.  LLM_ERR_INVALID_ARG if it is not allowed. */
llm_status	llm_constraint_accept(llm_constraint *c, int32_t token, llm_error *err);

/* The document is complete / complete and nothing may follow. */
bool		llm_constraint_is_complete(const llm_constraint *c);
bool		llm_constraint_must_end(const llm_constraint *c);

/* The underlying matcher (completion length and text). */
llm_json_matcher *llm_constraint_matcher(llm_constraint *c);

/* Counters for benchmarks: full masks computed, tokens checked first. */
typedef struct llm_constraint_stats
{
	int64_t		n_checks;
	int64_t		n_masks;
	double		mask_seconds;
} llm_constraint_stats;
void		llm_constraint_get_stats(const llm_constraint *c, llm_constraint_stats *s);

#endif							/* LLM_ENGINE_CONSTRAINT_H */
