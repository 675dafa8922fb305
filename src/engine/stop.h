/*
 * stop.h — stop strings for streaming generation, and UTF-8 hold-back.
 *
 * The generated text arrives piece by piece (one token's bytes at a time).
 * The matcher watches that byte stream for any of a set of stop strings.
 * It keeps no copy of the text: the caller keeps the output (it needs it
 * anyway) and the matcher reports offsets into it:
 *
 *   safe_len     bytes [0, safe_len) can never be part of a stop string:
 *                emit them.  The rest is held back because it is the start
 *                of some stop string; it is released (safe_len grows) as
 *                soon as it turns out not to be, or by llm_stop_finish at
 *                the end of generation.  At most (longest stop - 1) bytes
 *                are ever held.
 *   stopped      a stop string has completed.  The output is exactly
 *                [0, stop_offset): the stop string never appears in it, nor
 *                does anything after it.  Feeding more does nothing.
 *
 * Which match: generation stops at the first byte where any stop string
 * ends; among the stop strings ending there, the longest one is cut (so for
 * stops "ab" and "b", "xab" gives "x").  Both depend on the byte stream
 * alone, never on how it was split into pieces, and no stop string can
 * occur inside [0, stop_offset).
 *
 * Stop strings are byte strings (embedded NULs allowed); empty ones are
 * ignored.  Matching is Aho-Corasick: linear in the bytes fed, memory
 * linear in the total length of the stop strings.
 */
#ifndef LLM_ENGINE_STOP_H
#define LLM_ENGINE_STOP_H

#include "common.h"

/* The most stop-string bytes (all strings together) a matcher accepts. */
#define LLM_STOP_MAX_TOTAL_BYTES (1024 * 1024)

typedef struct llm_stop llm_stop;

typedef struct llm_stop_result
{
	bool		stopped;		/* a stop string has completed */
	int32_t		stop_index;		/* which one (index given to create, the
								 * first of equal strings); -1 if not
								 * stopped */
	size_t		stop_offset;	/* if stopped: where it starts = the length
								 * of the final output */
	size_t		safe_len;		/* [0, safe_len) may be emitted; equals
								 * stop_offset once stopped */
	size_t		total_len;		/* bytes fed so far (up to the stop) */
} llm_stop_result;

/*
 * Build a matcher for n_stops strings stops[i] of lens[i] bytes (lens NULL:
 * NUL-terminated strings).  n_stops may be 0 (nothing ever stops).  NULL
 * and LLM_ERR_INVALID_ARG for bad arguments, LLM_ERR_LIMIT when the strings
 * total more than LLM_STOP_MAX_TOTAL_BYTES, LLM_ERR_NOMEM.
 */
llm_stop   *llm_stop_create(const char *const *stops, const size_t *lens,
							int32_t n_stops, llm_error *err);
void		llm_stop_free(llm_stop *m);		/* NULL is fine */

/* Start a new stream with the same stop strings. */
void		llm_stop_reset(llm_stop *m);

/*
 * Feed the next len bytes of the stream; res (may be NULL) gets the state.
 * Returns true when stopped (now or earlier).
 */
bool		llm_stop_feed(llm_stop *m, const char *bytes, size_t len,
						  llm_stop_result *res);

/*
 * End of generation: nothing more will come, so no held byte can become a
 * stop string any more.  Unless stopped, safe_len becomes total_len.
 */
void		llm_stop_finish(llm_stop *m, llm_stop_result *res);

/* The state without feeding anything. */
void		llm_stop_state(const llm_stop *m, llm_stop_result *res);

/*
 * UTF-8 hold-back for streaming.  The longest prefix of s[0 .. len) that
 * does not end inside an incomplete UTF-8 sequence which later bytes could
 * still complete: emit text[0 .. llm_utf8_complete_len(text, safe_len))
 * and a character is never cut in two.  Trailing bytes that can never form
 * a valid character (a stray continuation byte, C0, F5..FF, ...) are not
 * held: holding them would change nothing.  Holds back at most 3 bytes.
 *
 * At the end of generation the text may still end in an incomplete
 * sequence (the model stopped mid-character, or a stop string cut one):
 * that tail is invalid UTF-8 and the caller must drop or replace it.
 */
size_t		llm_utf8_complete_len(const char *s, size_t len);

#endif							/* LLM_ENGINE_STOP_H */
