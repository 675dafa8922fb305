/*
 * regex.h — the regular expressions of JSON Schema's "pattern" (and the
 * built-in "format" patterns) compiled to a deterministic automaton over the
 * UTF-8 bytes of a string.
 *
 * The automaton drives constrained decoding: a string value is generated
 * byte by byte, and every byte must keep the string a prefix of some string
 * the patterns accept.  So the automaton is pruned: a state exists only if
 * an accepting state can be reached from it, and llm_regex_next returns -1
 * for every byte that would leave that set.  Only valid UTF-8 is ever
 * accepted (".", classes and negated classes expand to UTF-8 sequences).
 *
 * Syntax (ECMA-262 subset, the dialect JSON Schema specifies): literals and
 * escapes (\. \\ \/ \- \n \t \r \f \v \0 \xHH \uHHHH and escaped
 * punctuation), ".", classes [abc] [a-z] [^...] with escapes inside,
 * \d \w \s and \D \W \S, groups (...) and (?:...), alternation |,
 * quantifiers ? * + {m} {m,} {m,n} (a lazy "?" suffix is accepted and
 * means the same for matching), anchors ^ and $.  Anything else —
 * backreferences, lookaround, \b, Unicode property escapes — is
 * LLM_ERR_UNSUPPORTED naming the construct; a malformed pattern
 * (unbalanced parenthesis, bad range, {3,2}) is LLM_ERR_INVALID_ARG.
 * A named group (?<name>...) is a plain group.
 *
 * Where ECMA-262 and Python's re (what most validators run) read a
 * construct differently, the automaton accepts only what both accept:
 * \d \w \s match what both match (ASCII digits, ASCII word characters,
 * whitespace other than U+FEFF); \D \W \S and negated classes exclude
 * what either matches (so \D excludes every Unicode number and \W every
 * letter, number and mark, both also unassigned code points); "."
 * excludes \n \r U+2028 U+2029; $ is the end of the string only.
 * Constructs the two read in different ways ({,n}, [] and [^], \u{...},
 * letter escapes such as \Z or \a) are LLM_ERR_UNSUPPORTED.
 *
 * Matching mode: JSON Schema patterns are NOT anchored (ECMA "search"):
 * "abc" accepts any string containing abc, "^abc" any string starting with
 * it.  LLM_REGEX_SEARCH gives that; LLM_REGEX_FULL matches the whole string
 * (what the built-in formats use).
 */
#ifndef LLM_ENGINE_REGEX_H
#define LLM_ENGINE_REGEX_H

#include "common.h"

typedef struct llm_regex llm_regex;

typedef enum llm_regex_mode
{
	LLM_REGEX_SEARCH,			/* JSON Schema "pattern": a match anywhere */
	LLM_REGEX_FULL				/* the whole string must match */
} llm_regex_mode;

/* Limits: patterns longer than this, or automata with more states (after
 * minimisation), are LLM_ERR_UNSUPPORTED ("pattern too complex"); so are
 * patterns whose expansion ({m,n} copies the repeated part) or subset
 * construction would take too much memory or time. */
#define LLM_REGEX_MAX_PATTERN_LEN 4096
#define LLM_REGEX_MAX_STATES 20000

/*
 * Compile n patterns (each lens[i] bytes, not NUL-terminated, with its own
 * mode) into ONE automaton accepting the strings that ALL of them accept
 * (the intersection: "pattern" together with "format", or allOf).
 *
 * exclude_ascii: if not NULL, a 128-entry table; ASCII characters c with
 * exclude_ascii[c] true never appear in an accepted string (the JSON string
 * generator uses it to keep out control characters it does not emit).
 * The pruning accounts for it.
 *
 * An intersection that accepts no string at all is still a valid automaton:
 * llm_regex_start returns -1.  n == 0 means no pattern: every valid UTF-8
 * string (minus excluded characters).
 *
 * The automaton is minimal, and its states are numbered from the start
 * (state 0 when anything is accepted) in breadth-first order.
 */
llm_status	llm_regex_compile(const char *const *patterns, const size_t *lens,
							  const llm_regex_mode *modes, int n,
							  const bool *exclude_ascii,
							  llm_regex **out, llm_error *err);
void		llm_regex_free(llm_regex *re);	/* NULL is fine */

/* The start state, or -1 if no string is accepted. */
int32_t		llm_regex_start(const llm_regex *re);
/* The state after one more byte, or -1 when no accepted string continues so. */
int32_t		llm_regex_next(const llm_regex *re, int32_t state, uint8_t byte);
/* Does the string read so far match (never true inside a UTF-8 sequence)? */
bool		llm_regex_is_accept(const llm_regex *re, int32_t state);
int32_t		llm_regex_n_states(const llm_regex *re);

/*
 * Lengths are counted in characters (Unicode code points), as JSON Schema's
 * minLength/maxLength are.  max_more may be INT32_MAX for "no limit".
 *
 * llm_regex_can_finish: can the string read so far (which left the
 * automaton in state) be completed by between min_more and max_more more
 * characters into an accepted string?  A state inside a UTF-8 sequence
 * counts the character being completed as one of the "more".
 *
 * The answer is exact: never true unless such a completion exists.  Most
 * calls are answered in O(1) from the shortest and longest completion of
 * each state; a window strictly inside them (lengths can have gaps: (ab)*)
 * is answered from a table of achievable counts made at compile time.
 * Should that table exceed its budget (only huge automata whose counts
 * take very long to become periodic), counts beyond it are answered "no",
 * never a wrong "yes".  The automaton is read-only after compiling.
 */
bool		llm_regex_can_finish(const llm_regex *re, int32_t state,
								 int32_t min_more, int32_t max_more);

/*
 * The shortest (fewest bytes) completion from state with a character count
 * in [min_more, max_more], written to buf (UTF-8, not NUL-terminated).
 * LLM_ERR_INVALID_ARG if none exists; LLM_ERR_LIMIT if cap is too small.
 */
llm_status	llm_regex_shortest_finish(const llm_regex *re, int32_t state,
									  int32_t min_more, int32_t max_more,
									  char *buf, size_t cap, size_t *len,
									  llm_error *err);

/* Does the whole string s[0..len) get accepted?  (Enum filtering, tests.) */
bool		llm_regex_matches(const llm_regex *re, const char *s, size_t len);

/*
 * The built-in patterns for JSON Schema "format" values we enforce:
 * date-time, date, time, email, hostname, ipv4, ipv6, uuid, uri.  Returns
 * a pattern for LLM_REGEX_FULL, or NULL for a format we do not know.
 * Each accepts only strings that Python's jsonschema format checkers (and
 * the RFCs they follow) accept, so generated values always validate.  The
 * subsets: date-time/date/time in RFC 3339 with upper-case T and Z, real
 * calendar dates (February 29 in leap years only), no leap second; email
 * as dot-atoms of [A-Za-z0-9_%+-] at a domain of at least two labels;
 * hostname as at most 6 labels of at most 41 characters; ipv6 without an
 * embedded IPv4 part or zone; uri as scheme ":" then "//" host [":" port]
 * path, or an absolute or rootless path, with optional query and fragment,
 * in ASCII.
 */
const char *llm_regex_format_pattern(const char *format);

#endif							/* LLM_ENGINE_REGEX_H */
