/*
 * json_matcher.h — follows a document being generated, byte by byte, and
 * says which next bytes keep it a prefix of some document the compiled
 * schema (json_schema.h) accepts.
 *
 * The state is a small set of parse stacks (several while anyOf branches
 * are still all possible).  Frames are immutable and allocated in an arena,
 * so trying a byte never changes what is already there: a caller that
 * explores (the token mask walks a trie of the vocabulary) takes a mark,
 * feeds bytes, and rolls back to the mark.
 *
 * Invariant: every state reachable by feeding accepted bytes can still be
 * completed into a valid document (nodes with no document are never
 * entered; string, number, array and object frames check the bounds they
 * still have to meet).  So the decoder never paints itself into a corner.
 *
 * Whitespace: at most LLM_JSON_MAX_WS bytes of space, tab, CR or LF in each
 * place JSON allows whitespace; none before or after the top-level value.
 */
#ifndef LLM_ENGINE_JSON_MATCHER_H
#define LLM_ENGINE_JSON_MATCHER_H

#include "common.h"
#include "json_schema.h"

#define LLM_JSON_MAX_WS 24
#define LLM_JSON_MAX_STACKS 64	/* parallel alternatives kept at once */
#define LLM_JSON_MAX_NESTING 64 /* arrays/objects opened inside each other */

typedef struct llm_json_matcher llm_json_matcher;

/* Where to roll back to (opaque to callers). */
typedef struct llm_json_mark
{
	size_t		arena_used;
	int32_t		n_stacks;
	size_t		stacks_offset;
} llm_json_mark;

/* The schema must outlive the matcher. */
llm_status	llm_json_matcher_create(const llm_schema *schema,
									llm_json_matcher **out, llm_error *err);
void		llm_json_matcher_free(llm_json_matcher *m);	/* NULL is fine */

/* Back to the empty document. */
void		llm_json_matcher_reset(llm_json_matcher *m);

/*
 * Feed bytes.  Returns true and advances when every byte keeps the text a
 * valid prefix; otherwise returns false and leaves the state as it was.
 * It may compact the arena, so marks taken before it are void afterwards
 * (as after reset).
 */
bool		llm_json_matcher_feed(llm_json_matcher *m, const char *bytes, size_t n);

/* Exploration without committing: mark, feed_byte..., rollback. */
llm_json_mark llm_json_matcher_mark(const llm_json_matcher *m);
bool		llm_json_matcher_feed_byte(llm_json_matcher *m, uint8_t byte);
void		llm_json_matcher_rollback(llm_json_matcher *m, llm_json_mark mark);

/*
 * Did memory run out while feeding (the arena could not grow)?  Bytes are
 * then refused; the caller should report LLM_ERR_NOMEM.  Reset clears it.
 */
bool		llm_json_matcher_failed(const llm_json_matcher *m);

/*
 * Is the state exactly one stack inside a string value with no pattern, at
 * a character boundary?  Then *room = characters the string may still
 * take.  (The token mask's shortcut: which tokens keep such a string going
 * depends only on their bytes and on room.)
 */
bool		llm_json_matcher_plain_string(const llm_json_matcher *m, int32_t *room);

/* Is the text so far a complete valid document? */
bool		llm_json_matcher_is_complete(const llm_json_matcher *m);
/* ... and can no byte follow it (so generation must end here)? */
bool		llm_json_matcher_must_end(const llm_json_matcher *m);

/* Bytes of the shortest completion of the text so far (0 when complete). */
int64_t		llm_json_matcher_completion_len(const llm_json_matcher *m);
/*
 * The shortest completion itself, llm_malloc'd and NUL-terminated (an empty
 * string when complete).  Feeding it leaves the matcher complete.
 */
llm_status	llm_json_matcher_completion(const llm_json_matcher *m, char **text,
										size_t *len, llm_error *err);

#endif							/* LLM_ENGINE_JSON_MATCHER_H */
