/*
 * test_regex.c — the pattern compiler and its automaton (src/engine/regex.c).
 *
 * 1. Errors: malformed patterns are LLM_ERR_INVALID_ARG, constructs we do
 *    not support LLM_ERR_UNSUPPORTED, limits hold (nesting, size, states).
 * 2. A table of (pattern, mode, string, expected) covering every construct.
 * 3. Random patterns over a four-character alphabet (two ASCII letters, a
 *    2-byte and a 3-byte character) against a reference written here: the
 *    pattern's language up to REF_N characters, built with set operations
 *    while the pattern text is generated.  Checked: matches(), the prefix
 *    property (a byte is refused exactly when no accepted string continues
 *    so), intersections.
 * 4. can_finish against a brute force over the automaton (all 256 byte
 *    values, character by character, with period detection, so exact for
 *    every window), and against the reference languages.
 * 5. shortest_finish: accepted, inside the window, and as short as a
 *    breadth-first search over bytes says is possible.
 * 6. exclude_ascii, UTF-8 validity, formats, compile time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "regex.h"
#include "test_util.h"

static llm_status
compile1(const char *pat, llm_regex_mode mode, llm_regex **re, llm_error *err)
{
	size_t		len = strlen(pat);

	return llm_regex_compile(&pat, &len, &mode, 1, NULL, re, err);
}

/* ------------------------------------------------------------------ */
/* 1. errors                                                            */
/* ------------------------------------------------------------------ */

typedef struct error_case
{
	const char *pattern;
	llm_status	want;
	const char *msg_part;		/* a word the message must contain, or NULL */
} error_case;

static const error_case error_cases[] = {
	{"(", LLM_ERR_INVALID_ARG, "parenthesis"},
	{"(a", LLM_ERR_INVALID_ARG, "parenthesis"},
	{"((a)", LLM_ERR_INVALID_ARG, "parenthesis"},
	{")", LLM_ERR_INVALID_ARG, "parenthesis"},
	{"a)", LLM_ERR_INVALID_ARG, "parenthesis"},
	{"[a", LLM_ERR_INVALID_ARG, "unterminated"},
	{"[a-", LLM_ERR_INVALID_ARG, "unterminated"},
	{"[z-a]", LLM_ERR_INVALID_ARG, "range"},
	{"[\\d-z]", LLM_ERR_INVALID_ARG, "range"},
	{"[a-\\d]", LLM_ERR_INVALID_ARG, "range"},
	{"a{3,2}", LLM_ERR_INVALID_ARG, "quantifier"},
	{"*a", LLM_ERR_INVALID_ARG, "repeat"},
	{"+", LLM_ERR_INVALID_ARG, "repeat"},
	{"?", LLM_ERR_INVALID_ARG, "repeat"},
	{"a|*", LLM_ERR_INVALID_ARG, "repeat"},
	{"(*a)", LLM_ERR_INVALID_ARG, "repeat"},
	{"{2}", LLM_ERR_INVALID_ARG, "repeat"},
	{"a**", LLM_ERR_INVALID_ARG, "repeat"},
	{"a+*", LLM_ERR_INVALID_ARG, "repeat"},
	{"a{2}{3}", LLM_ERR_INVALID_ARG, "repeat"},
	{"a??+", LLM_ERR_INVALID_ARG, "repeat"},
	{"^*", LLM_ERR_INVALID_ARG, "anchor"},
	{"a$+", LLM_ERR_INVALID_ARG, "anchor"},
	{"\\", LLM_ERR_INVALID_ARG, "backslash"},
	{"\\x4", LLM_ERR_INVALID_ARG, "\\x"},
	{"\\xg0", LLM_ERR_INVALID_ARG, "\\x"},
	{"\\u12", LLM_ERR_INVALID_ARG, "\\u"},
	{"\\c1", LLM_ERR_INVALID_ARG, "\\c"},
	{"[\\B]", LLM_ERR_INVALID_ARG, NULL},
	{"(?", LLM_ERR_INVALID_ARG, "group"},
	{"(?#comment)", LLM_ERR_INVALID_ARG, "group"},
	{"(?<>a)", LLM_ERR_INVALID_ARG, "group name"},
	{"(?<1a>a)", LLM_ERR_INVALID_ARG, "group name"},
	{"(?<a", LLM_ERR_INVALID_ARG, "group name"},
	{"\xff", LLM_ERR_INVALID_ARG, "UTF-8"},
	{"a\xc3", LLM_ERR_INVALID_ARG, "UTF-8"},
	{"\xc0\x80", LLM_ERR_INVALID_ARG, "UTF-8"},
	{"\xed\xa0\x80", LLM_ERR_INVALID_ARG, "UTF-8"},
	{"[\xf4\x90\x80\x80]", LLM_ERR_INVALID_ARG, "UTF-8"},
	{"(?=a)", LLM_ERR_UNSUPPORTED, "lookaround"},
	{"a(?!b)", LLM_ERR_UNSUPPORTED, "lookaround"},
	{"(?<=a)b", LLM_ERR_UNSUPPORTED, "lookaround"},
	{"(?<!a)b", LLM_ERR_UNSUPPORTED, "lookaround"},
	{"(a)\\1", LLM_ERR_UNSUPPORTED, "backreference"},
	{"\\9", LLM_ERR_UNSUPPORTED, "backreference"},
	{"(?<x>a)\\k<x>", LLM_ERR_UNSUPPORTED, "backreference"},
	{"\\bword\\b", LLM_ERR_UNSUPPORTED, "boundary"},
	{"a\\B", LLM_ERR_UNSUPPORTED, "boundary"},
	{"\\p{L}", LLM_ERR_UNSUPPORTED, "property"},
	{"\\P{Lu}", LLM_ERR_UNSUPPORTED, "property"},
	{"\\u{41}", LLM_ERR_UNSUPPORTED, "\\u{"},
	{"abc\\Z", LLM_ERR_UNSUPPORTED, "\\Z"},
	{"\\Aabc", LLM_ERR_UNSUPPORTED, "\\A"},
	{"\\z", LLM_ERR_UNSUPPORTED, "\\z"},
	{"\\a", LLM_ERR_UNSUPPORTED, "\\a"},
	{"\\e", LLM_ERR_UNSUPPORTED, "\\e"},
	{"\\01", LLM_ERR_UNSUPPORTED, "octal"},
	{"(?i)abc", LLM_ERR_UNSUPPORTED, "modifiers"},
	{"(?i:abc)", LLM_ERR_UNSUPPORTED, "modifiers"},
	{"(?P<n>a)", LLM_ERR_UNSUPPORTED, "(?P"},
	{"a{,3}", LLM_ERR_UNSUPPORTED, "{,n}"},
	{"[]", LLM_ERR_UNSUPPORTED, "empty"},
	{"[^]", LLM_ERR_UNSUPPORTED, "empty"},
	{"[]a]", LLM_ERR_UNSUPPORTED, "empty"},
	{"[[:alpha:]]", LLM_ERR_UNSUPPORTED, "POSIX"},
	{"a{100001}", LLM_ERR_UNSUPPORTED, "complex"},
	{"a{1,999999999999}", LLM_ERR_UNSUPPORTED, "complex"},
	{"(a{1000}){1000}", LLM_ERR_UNSUPPORTED, "complex"},
	{"(){100000}(){100000}", LLM_ERR_UNSUPPORTED, "complex"},
	{"(a|b)*a(a|b){20}", LLM_ERR_UNSUPPORTED, "complex"},
};

static void
test_errors(void)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
	{
		const error_case *c = &error_cases[i];
		llm_regex  *re = (llm_regex *) 1;
		llm_error	err;
		llm_status	st;

		memset(&err, 0, sizeof(err));
		st = compile1(c->pattern, LLM_REGEX_SEARCH, &re, &err);
		CHECK(st == c->want, "pattern /%s/: status %d, want %d (%s)", c->pattern, st, c->want,
			  err.msg);
		CHECK(re == NULL, "pattern /%s/: output set on error", c->pattern);
		CHECK(st == LLM_OK || err.status == st, "pattern /%s/: err.status %d", c->pattern,
			  err.status);
		if (c->msg_part != NULL)
			CHECK(strstr(err.msg, c->msg_part) != NULL, "pattern /%s/: message \"%s\" lacks \"%s\"",
				  c->pattern, err.msg, c->msg_part);
		llm_regex_free(st == LLM_OK ? re : NULL);
	}
}

/* Nesting depth, pattern length, bad arguments. */
static void
test_limits(void)
{
	char	   *p = malloc(20001);
	llm_regex  *re = NULL;
	llm_error	err;
	llm_status	st;
	size_t		len;
	const char *pat;
	llm_regex_mode mode = LLM_REGEX_FULL;

	/* 99 nested groups compile; 2000 are refused without recursing deeply */
	for (int depth = 99; depth <= 2000; depth += 1901)
	{
		size_t		n = 0;

		for (int i = 0; i < depth; i++)
			p[n++] = '(';
		p[n++] = 'a';
		for (int i = 0; i < depth; i++)
			p[n++] = ')';
		p[n] = '\0';
		st = llm_regex_compile((const char *const *) &p, &n, &mode, 1, NULL, &re, &err);
		if (depth == 99)
		{
			CHECK(st == LLM_OK && llm_regex_matches(re, "a", 1), "99 nested groups: %d", st);
			llm_regex_free(re);
			re = NULL;
		}
		else
			CHECK(st == LLM_ERR_UNSUPPORTED, "2000 nested groups: %d (%s)", st, err.msg);
	}
	/* unclosed deep nesting */
	memset(p, '(', 20000);
	p[20000] = '\0';
	len = 4000;
	st = llm_regex_compile((const char *const *) &p, &len, &mode, 1, NULL, &re, &err);
	CHECK(st == LLM_ERR_UNSUPPORTED, "4000 open parentheses: %d", st);

	/* length limit */
	memset(p, 'a', LLM_REGEX_MAX_PATTERN_LEN + 1);
	len = LLM_REGEX_MAX_PATTERN_LEN + 1;
	st = llm_regex_compile((const char *const *) &p, &len, &mode, 1, NULL, &re, &err);
	CHECK(st == LLM_ERR_UNSUPPORTED && strstr(err.msg, "complex") != NULL,
		  "over-long pattern: %d %s", st, err.msg);
	len = LLM_REGEX_MAX_PATTERN_LEN;
	st = llm_regex_compile((const char *const *) &p, &len, &mode, 1, NULL, &re, &err);
	CHECK(st == LLM_OK && llm_regex_n_states(re) == LLM_REGEX_MAX_PATTERN_LEN + 1,
		  "pattern at the length limit: %d, %d states", st, llm_regex_n_states(re));
	llm_regex_free(re);
	re = NULL;

	/* a pattern needing more DFA states than the cap */
	pat = "[ab]*a[ab]{16}";
	CHECK(compile1(pat, LLM_REGEX_FULL, &re, &err) == LLM_ERR_UNSUPPORTED,
		  "exponential DFA refused");
	pat = "[ab]*a[ab]{10}";
	CHECK(compile1(pat, LLM_REGEX_FULL, &re, &err) == LLM_OK &&
		  llm_regex_n_states(re) == 2048, "[ab]*a[ab]{10}: %d states", llm_regex_n_states(re));
	llm_regex_free(re);
	re = NULL;
	/* a long bounded repetition is fine */
	pat = "^x{1000}$";
	CHECK(compile1(pat, LLM_REGEX_SEARCH, &re, &err) == LLM_OK, "x{1000}");
	memset(p, 'x', 1001);
	CHECK(llm_regex_matches(re, p, 1000) && !llm_regex_matches(re, p, 1001) &&
		  !llm_regex_matches(re, p, 999), "x{1000} matches exactly 1000");
	llm_regex_free(re);
	re = NULL;

	/* bad arguments */
	CHECK(llm_regex_compile(NULL, NULL, NULL, -1, NULL, &re, &err) == LLM_ERR_INVALID_ARG,
		  "n < 0");
	CHECK(llm_regex_compile(NULL, NULL, NULL, 1, NULL, &re, &err) == LLM_ERR_INVALID_ARG,
		  "NULL lists");
	{
		const char *np = NULL;
		size_t		nl = 3;

		CHECK(llm_regex_compile(&np, &nl, &mode, 1, NULL, &re, &err) == LLM_ERR_INVALID_ARG,
			  "NULL pattern");
	}
	/* no pattern: every valid UTF-8 string */
	CHECK(llm_regex_compile(NULL, NULL, NULL, 0, NULL, &re, &err) == LLM_OK &&
		  llm_regex_matches(re, "any\n\xe4\xb8\xad", 7) &&
		  !llm_regex_matches(re, "\xc3", 1), "zero patterns: any string");
	llm_regex_free(re);
	re = NULL;

	/* NULL automaton and bad states are harmless */
	CHECK(llm_regex_start(NULL) == -1 && llm_regex_next(NULL, 0, 'a') == -1 &&
		  !llm_regex_is_accept(NULL, 0) && llm_regex_n_states(NULL) == 0 &&
		  !llm_regex_can_finish(NULL, 0, 0, 10) && !llm_regex_matches(NULL, "", 0),
		  "NULL automaton");
	llm_regex_free(NULL);
	CHECK(compile1("abc", LLM_REGEX_FULL, &re, &err) == LLM_OK, "abc");
	CHECK(llm_regex_start(re) == 0 && llm_regex_n_states(re) == 4 &&
		  llm_regex_next(re, 0, 'a') == 1, "states numbered from the start");
	CHECK(llm_regex_next(re, -1, 'a') == -1 && llm_regex_next(re, 99999, 'a') == -1 &&
		  !llm_regex_is_accept(re, 99999) && !llm_regex_can_finish(re, -5, 0, 9),
		  "out-of-range states");
	llm_regex_free(re);
	free(p);
}

/* ------------------------------------------------------------------ */
/* 2. the table                                                         */
/* ------------------------------------------------------------------ */

typedef struct match_case
{
	const char *pattern;
	char		mode;			/* 'F' full, 'S' search */
	const char *s;
	int			want;
} match_case;

static const match_case match_cases[] = {
	/* literals and escapes */
	{"abc", 'F', "abc", 1},
	{"abc", 'F', "ab", 0},
	{"abc", 'F', "abcd", 0},
	{"abc", 'S', "xxabcxx", 1},
	{"abc", 'S', "abxc", 0},
	{"", 'S', "", 1},
	{"", 'S', "anything", 1},
	{"", 'F', "", 1},
	{"", 'F', "a", 0},
	{"a\\.b", 'F', "a.b", 1},
	{"a\\.b", 'F', "axb", 0},
	{"a.b", 'F', "axb", 1},
	{"\\/", 'F', "/", 1},
	{"\\-", 'F', "-", 1},
	{"\\\\", 'F', "\\", 1},
	{"\\n", 'F', "\n", 1},
	{"\\t", 'F', "\t", 1},
	{"\\r", 'F', "\r", 1},
	{"\\f", 'F', "\f", 1},
	{"\\v", 'F', "\v", 1},
	{"\\x41\\x7e", 'F', "A~", 1},
	{"\\u00e9", 'F', "\xc3\xa9", 1},
	{"\\u4E2D", 'F', "\xe4\xb8\xad", 1},
	{"\\ud83d\\ude00", 'F', "\xf0\x9f\x98\x80", 1},
	{"\\ud83d", 'S', "\xf0\x9f\x98\x80", 0},
	{"\\cJ", 'F', "\n", 1},
	{"\\$\\^", 'F', "$^", 1},
	{"\\(\\)\\[\\]\\{\\}", 'F', "()[]{}", 1},
	{"\\*\\+\\?\\|\\.", 'F', "*+?|.", 1},
	{"\\ ", 'F', " ", 1},
	{"\\\xc3\xa9", 'F', "\xc3\xa9", 1},
	{"a{", 'F', "a{", 1},
	{"a{1", 'F', "a{1", 1},
	{"a{1,x}", 'F', "a{1,x}", 1},
	{"a{x}", 'F', "a{x}", 1},
	{"}", 'F', "}", 1},
	{"]", 'F', "]", 1},
	{"caf\xc3\xa9", 'F', "caf\xc3\xa9", 1},
	{"caf\xc3\xa9", 'F', "cafe", 0},
	/* dot */
	{".", 'F', "a", 1},
	{".", 'F', "\n", 0},
	{".", 'F', "\r", 0},
	{".", 'F', "\xe2\x80\xa8", 0},
	{".", 'F', "\xe2\x80\xa9", 0},
	{".", 'F', "\t", 1},
	{".", 'F', "\x7f", 1},
	{".", 'F', "\xc3\xa9", 1},
	{".", 'F', "\xe4\xb8\xad", 1},
	{".", 'F', "\xf0\x9f\x98\x80", 1},
	{".", 'F', "\xed\x9f\xbf", 1},
	{".", 'F', "\xee\x80\x80", 1},
	{".", 'F', "\xef\xbf\xbf", 1},
	{".", 'F', "\xf4\x8f\xbf\xbf", 1},
	{".", 'F', "", 0},
	{".", 'F', "ab", 0},
	{".", 'F', "\xc3", 0},
	{".", 'F', "\x80", 0},
	{".", 'F', "\xff", 0},
	{".", 'F', "\xc0\x80", 0},
	{".", 'F', "\xc1\xbf", 0},
	{".", 'F', "\xe0\x80\x80", 0},
	{".", 'F', "\xed\xa0\x80", 0},
	{".", 'F', "\xf0\x80\x80\x80", 0},
	{".", 'F', "\xf4\x90\x80\x80", 0},
	{".", 'F', "\xf5\x80\x80\x80", 0},
	/* classes */
	{"[abc]", 'F', "b", 1},
	{"[abc]", 'F', "d", 0},
	{"[a-z]", 'F', "m", 1},
	{"[a-z]", 'F', "M", 0},
	{"[^a-z]", 'F', "M", 1},
	{"[^a-z]", 'F', "m", 0},
	{"[^a]", 'F', "\n", 1},
	{"[^a]", 'F', "\xc3\xa9", 1},
	{"[^a]", 'F', "\xf0\x9f\x98\x80", 1},
	{"[^a]", 'F', "", 0},
	{"[^a]", 'F', "\xed\xa0\x80", 0},
	{"[a-]", 'F', "-", 1},
	{"[-a]", 'F', "-", 1},
	{"[a\\-z]", 'F', "-", 1},
	{"[a\\-z]", 'F', "b", 0},
	{"[\\]]", 'F', "]", 1},
	{"[\\\\]", 'F', "\\", 1},
	{"[.]", 'F', ".", 1},
	{"[.]", 'F', "a", 0},
	{"[*+?{}()|^$]+", 'F', "*+?{}()|^$", 1},
	{"[[]", 'F', "[", 1},
	{"[\\d]", 'F', "5", 1},
	{"[\\da-f]+", 'F', "3fa0", 1},
	{"[\\da-f]+", 'F', "3fg", 0},
	{"[^\\d]", 'F', "a", 1},
	{"[^\\d]", 'F', "7", 0},
	{"[\\s]", 'F', " ", 1},
	{"[\\w-]+", 'F', "a-b_c9", 1},
	{"[\\b]", 'F', "\b", 1},
	{"[\\x00-\\x1f]", 'F', "\x01", 1},
	{"[\\u0041-\\u005A]", 'F', "Q", 1},
	{"[\xce\xb1-\xcf\x89]", 'F', "\xce\xb2", 1},
	{"[\xce\xb1-\xcf\x89]", 'F', "a", 0},
	{"[\xc3\xa9-\xe4\xb8\xad]", 'F', "\xc3\xb6", 1},
	{"[\xc3\xa9-\xe4\xb8\xad]", 'F', "\xe4\xb8\xae", 0},
	{"[^\xc3\xa9]", 'F', "\xc3\xa9", 0},
	{"[^\xc3\xa9]", 'F', "\xc3\xa8", 1},
	{"[\\u0800-\\uffff]", 'F', "\xe0\xa0\x80", 1},
	{"[\\u0800-\\uffff]", 'F', "\xed\xa0\x80", 0},
	{"[\\u0800-\\uffff]", 'F', "\xdf\xbf", 0},
	{"[\\ud800-\\udfff]", 'S', "", 0},
	{"[^\\W]", 'F', "a", 1},
	{"[^\\W]", 'F', "\xc3\xa9", 0},
	{"[^\\w\\s]", 'F', "!", 1},
	{"[^\\w\\s]", 'F', " ", 0},
	/* \d \w \s and their negations */
	{"\\d", 'F', "0", 1},
	{"\\d", 'F', "9", 1},
	{"\\d+", 'F', "0123456789", 1},
	{"\\d", 'F', "/", 0},
	{"\\d", 'F', ":", 0},
	{"\\w+", 'F', "azAZ09_", 1},
	{"\\w", 'F', "-", 0},
	{"\\w", 'F', "`", 0},
	{"\\w", 'F', "[", 0},
	{"[a-z]", 'F', "a", 1},
	{"[a-z]", 'F', "z", 1},
	{"[a-z]", 'F', "{", 0},
	{"[a-z]", 'F', "`", 0},
	{"\\s", 'F', "\xe3\x80\x81", 0},
	{"\\s", 'F', "\xe2\x80\x8b", 0},
	{"\\s", 'F', "\xe2\x80\x8a", 1},
	{"\\s", 'F', "\x0b\x0c", 0},
	{"\\d", 'F', "\xd9\xa3", 0},
	{"\\D", 'F', "a", 1},
	{"\\D", 'F', "5", 0},
	{"\\D", 'F', "\xd9\xa3", 0},
	{"\\w", 'F', "_", 1},
	{"\\w", 'F', "Z", 1},
	{"\\w", 'F', "\xc3\xa9", 0},
	{"\\W", 'F', "!", 1},
	{"\\W", 'F', "_", 0},
	{"\\W", 'F', "\xc3\xa9", 0},
	{"\\W", 'F', "\xe2\x82\xac", 1},
	{"\\s", 'F', " ", 1},
	{"\\s", 'F', "\t", 1},
	{"\\s", 'F', "\n", 1},
	{"\\s", 'F', "\xc2\xa0", 1},
	{"\\s", 'F', "\xe3\x80\x80", 1},
	{"\\s", 'F', "\xe2\x80\xa8", 1},
	{"\\s", 'F', "\xef\xbb\xbf", 0},
	{"\\s", 'F', "\x1c", 0},
	{"\\S", 'F', "a", 1},
	{"\\S", 'F', " ", 0},
	{"\\S", 'F', "\x1c", 0},
	{"\\S", 'F', "\xc2\x85", 0},
	{"\\S+", 'F', "h\xc3\xa9llo", 1},
	/* groups and alternation */
	{"(ab)+", 'F', "abab", 1},
	{"(ab)+", 'F', "aba", 0},
	{"(?:ab)+", 'F', "ab", 1},
	{"a|b", 'F', "b", 1},
	{"a|b", 'F', "ab", 0},
	{"a|", 'F', "", 1},
	{"|a", 'F', "a", 1},
	{"(a|b)c", 'F', "bc", 1},
	{"(a|bc)d", 'F', "bcd", 1},
	{"(a|bc)d", 'F', "bd", 0},
	{"((a))", 'F', "a", 1},
	{"(?<name>ab)c", 'F', "abc", 1},
	{"()", 'F', "", 1},
	{"(a|b|c|d)", 'F', "d", 1},
	{"a(b|c)*d", 'F', "abcbd", 1},
	{"a(b|c)*d", 'F', "abxd", 0},
	{"ab|cd|ef", 'S', "xxefxx", 1},
	/* quantifiers */
	{"a*", 'F', "", 1},
	{"a*", 'F', "aaa", 1},
	{"a+", 'F', "", 0},
	{"a+", 'F', "a", 1},
	{"a?", 'F', "", 1},
	{"a?", 'F', "aa", 0},
	{"a{3}", 'F', "aaa", 1},
	{"a{3}", 'F', "aa", 0},
	{"a{2,}", 'F', "aaaaa", 1},
	{"a{2,}", 'F', "a", 0},
	{"a{2,3}", 'F', "aaa", 1},
	{"a{2,3}", 'F', "aaaa", 0},
	{"a{0}", 'F', "", 1},
	{"a{0}b", 'F', "b", 1},
	{"a{0,0}", 'F', "a", 0},
	{"a*?", 'F', "aa", 1},
	{"a+?", 'F', "", 0},
	{"a??", 'F', "a", 1},
	{"a{2,3}?", 'F', "aa", 1},
	{"(a{2}){2}", 'F', "aaaa", 1},
	{"(a{2}){2}", 'F', "aaa", 0},
	{"(ab?){2}", 'F', "aab", 1},
	{"(a*)*", 'F', "aaa", 1},
	{"(a?)+", 'F', "", 1},
	{"(a|)+b", 'F', "aab", 1},
	{".{3}", 'F', "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 1},
	{".{3}", 'F', "abcd", 0},
	{"[a-z]{2,4}", 'F', "abcde", 0},
	{"(?:(?:a{1,2}){1,2}){2}", 'F', "aaaaaaaa", 1},
	{"(?:(?:a{1,2}){1,2}){2}", 'F', "a", 0},
	/* anchors */
	{"^abc", 'S', "abcd", 1},
	{"^abc", 'S', "xabc", 0},
	{"abc$", 'S', "xabc", 1},
	{"abc$", 'S', "abcx", 0},
	{"^abc$", 'S', "abc", 1},
	{"^abc$", 'S', "abc\n", 0},
	{"^a|b$", 'S', "ax", 1},
	{"^a|b$", 'S', "xa", 0},
	{"^a|b$", 'S', "xb", 1},
	{"^a|b$", 'S', "bx", 0},
	{"a^b", 'S', "ab", 0},
	{"a$b", 'S', "ab", 0},
	{"^", 'S', "", 1},
	{"^", 'S', "xyz", 1},
	{"$", 'S', "xyz", 1},
	{"^$", 'S', "", 1},
	{"^$", 'S', "a", 0},
	{"(^a)", 'S', "ab", 1},
	{"(^|x)a", 'S', "ba", 0},
	{"(^|x)a", 'S', "bxa", 1},
	{"(^|x)a", 'S', "a", 1},
	{"a(b|$)", 'S', "a", 1},
	{"a(b|$)", 'S', "ac", 0},
	{"a(b|$)", 'S', "cab", 1},
	{"(?:^)*a", 'S', "ba", 1},
	{"x*^a", 'S', "a", 1},
	{"x*^a", 'S', "xa", 0},
	{"^^a$$", 'S', "a", 1},
	{"(^)+a", 'S', "ba", 0},
	{"^abc$", 'F', "abc", 1},
	{"a^", 'F', "a", 0},
	{"^a", 'F', "a", 1},
	{"$a", 'F', "a", 0},
	{"a$|b", 'F', "b", 1},
	{"\\d{3}", 'S', "ab123cd", 1},
	{"\\d{3}", 'S', "ab12cd3", 0},
	{"[^a]", 'S', "aaa", 0},
	{"[^a]", 'S', "aab", 1},
	{"\xc3\xa9", 'S', "caf\xc3\xa9", 1},
	{"^.{2}$", 'S', "\xc3\xa9\xe4\xb8\xad", 1},
	{"^.{2}$", 'S', "abc", 0},
	{"b", 'S', "a\nb", 1},
	{"a", 'S', "\xff" "a", 0},
	{"a", 'S', "a\xc3", 0},
	{"", 'S', "\xed\xa0\x80", 0},
	{"^b", 'S', "a\nb", 0},
	/* patterns seen in real schemas */
	{"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$", 'S', "a.b@c.de", 1},
	{"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$", 'S', "a@b", 0},
	{"^\\d{4}-\\d{2}-\\d{2}$", 'S', "2024-01-31", 1},
	{"^\\d{4}-\\d{2}-\\d{2}$", 'S', "2024-1-31", 0},
	{"^[A-Z]{2}\\d{6}$", 'S', "AB123456", 1},
	{"^https?://", 'S', "https://x", 1},
	{"^https?://", 'S', "ftp://x", 0},
	{"^\\+?[1-9]\\d{1,14}$", 'S', "+14155552671", 1},
	{"^#[0-9a-fA-F]{6}$", 'S', "#A0b1C2", 1},
	{"^(\\([0-9]{3}\\))?[0-9]{3}-[0-9]{4}$", 'S', "(555)555-1234", 1},
	{"^[^@]+@[^@]+$", 'S', "x@y", 1},
	{"^[^@]+@[^@]+$", 'S', "x@@y", 0},
	{"^\\S+$", 'S', "abc", 1},
	{"^\\S+$", 'S', "a b", 0},
	{"^[a-z0-9]+(?:-[a-z0-9]+)*$", 'S', "my-slug-2", 1},
	{"^[a-z0-9]+(?:-[a-z0-9]+)*$", 'S', "-x", 0},
	{"^v?\\d+\\.\\d+\\.\\d+$", 'S', "v1.2.3", 1},
	{"^(0|[1-9][0-9]*)$", 'S', "012", 0},
	{"^[A-Z][a-z]+(?: [A-Z][a-z]+)*$", 'S', "New York", 1},
};

static void
test_table(void)
{
	size_t		n = sizeof(match_cases) / sizeof(match_cases[0]);

	CHECK(n >= 150, "table has %zu rows", n);
	for (size_t i = 0; i < n; i++)
	{
		const match_case *c = &match_cases[i];
		llm_regex  *re = NULL;
		llm_error	err;
		llm_status	st = compile1(c->pattern, c->mode == 'F' ? LLM_REGEX_FULL : LLM_REGEX_SEARCH,
								  &re, &err);
		bool		got;

		CHECK(st == LLM_OK, "/%s/ does not compile: %s", c->pattern, err.msg);
		if (st != LLM_OK)
			continue;
		got = llm_regex_matches(re, c->s, strlen(c->s));
		CHECK(got == (c->want != 0), "/%s/ %c on \"%s\": got %d", c->pattern, c->mode, c->s, got);
		llm_regex_free(re);
	}
	/* NUL is a character like any other */
	{
		llm_regex  *re = NULL;
		llm_error	err;

		CHECK(compile1("a\\0b", LLM_REGEX_FULL, &re, &err) == LLM_OK &&
			  llm_regex_matches(re, "a\0b", 3) && !llm_regex_matches(re, "a0b", 3), "\\0");
		llm_regex_free(re);
		CHECK(compile1("^.$", LLM_REGEX_SEARCH, &re, &err) == LLM_OK &&
			  llm_regex_matches(re, "\0", 1), ". matches NUL");
		llm_regex_free(re);
	}
}

/* ------------------------------------------------------------------ */
/* 3. random patterns against reference languages                      */
/* ------------------------------------------------------------------ */

/*
 * The alphabet: a, b, é (2 bytes), 中 (3 bytes).  Strings of at most REF_N
 * characters are numbered: all of length 0, then length 1, and so on.
 */
#define REF_K 4
#define REF_N 5
#define REF_M 1365				/* (4^6 - 1) / 3 */

static const char *const ref_chars[REF_K] = {"a", "b", "\xc3\xa9", "\xe4\xb8\xad"};
static int	ref_len_of[REF_M];
static int	ref_val_of[REF_M];
static int	ref_off[REF_N + 2];
static int	ref_prefix[REF_M][REF_N + 1];	/* index of the first l characters */
static int16_t ref_sub[REF_M][REF_N + 1][REF_N + 1];	/* characters i..j */
static char ref_text[REF_M][16];	/* UTF-8 */
static size_t ref_text_len[REF_M];

static void
ref_init(void)
{
	int			k = 0;
	int			pw = 1;

	for (int len = 0; len <= REF_N; len++)
	{
		ref_off[len] = k;
		for (int v = 0; v < pw; v++)
		{
			ref_len_of[k] = len;
			ref_val_of[k] = v;
			k++;
		}
		pw *= REF_K;
	}
	ref_off[REF_N + 1] = k;
}

static int	ref_substr(int idx, int from, int to);
static size_t ref_bytes(int idx, char *out);

static void
ref_init_tables(void)
{
	for (int i = 0; i < REF_M; i++)
	{
		for (int l = 0; l <= ref_len_of[i]; l++)
			ref_prefix[i][l] = ref_substr(i, 0, l);
		for (int a = 0; a <= ref_len_of[i]; a++)
			for (int b = a; b <= ref_len_of[i]; b++)
				ref_sub[i][a][b] = (int16_t) ref_substr(i, a, b);
		ref_text_len[i] = ref_bytes(i, ref_text[i]);
	}
}

/* The index of an alphabet string given as bytes, or -1. */
static int
ref_index(const char *s, size_t n)
{
	int			v = 0;
	int			len = 0;
	size_t		i = 0;

	while (i < n)
	{
		int			c = -1;

		for (int k = 0; k < REF_K; k++)
		{
			size_t		cl = strlen(ref_chars[k]);

			if (i + cl <= n && memcmp(s + i, ref_chars[k], cl) == 0)
			{
				c = k;
				i += cl;
				break;
			}
		}
		if (c < 0 || len == REF_N)
			return -1;
		v = v * REF_K + c;
		len++;
	}
	return ref_off[len] + v;
}

static int
ref_pow(int len)
{
	int			p = 1;

	for (int i = 0; i < len; i++)
		p *= REF_K;
	return p;
}

/* character i (0 = first) of string idx */
static int
ref_char(int idx, int i)
{
	int			len = ref_len_of[idx];

	return (ref_val_of[idx] / ref_pow(len - 1 - i)) % REF_K;
}

static int
ref_substr(int idx, int from, int to)
{
	int			v = 0;

	for (int i = from; i < to; i++)
		v = v * REF_K + ref_char(idx, i);
	return ref_off[to - from] + v;
}

static size_t
ref_bytes(int idx, char *out)
{
	size_t		n = 0;

	for (int i = 0; i < ref_len_of[idx]; i++)
	{
		const char *c = ref_chars[ref_char(idx, i)];

		memcpy(out + n, c, strlen(c));
		n += strlen(c);
	}
	return n;
}

typedef struct lang
{
	uint8_t		in[REF_M];
} lang;

static void
lang_concat(const lang *a, const lang *b, lang *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < REF_M; i++)
	{
		if (!a->in[i])
			continue;
		for (int j = 0; j < ref_off[REF_N + 1 - ref_len_of[i]]; j++)
		{
			if (!b->in[j])
				continue;
			out->in[ref_off[ref_len_of[i] + ref_len_of[j]] +
					ref_val_of[i] * ref_pow(ref_len_of[j]) + ref_val_of[j]] = 1;
		}
	}
}

static void
lang_union(lang *a, const lang *b)
{
	for (int i = 0; i < REF_M; i++)
		a->in[i] |= b->in[i];
}

typedef struct gen
{
	char		buf[512];
	size_t		len;
	uint64_t	rng;
	bool		overflow;
} gen;

static uint32_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t) (*s >> 11);
}

static void
emit(gen *g, const char *s)
{
	size_t		n = strlen(s);

	if (g->len + n + 1 > sizeof(g->buf))
	{
		g->overflow = true;
		return;
	}
	memcpy(g->buf + g->len, s, n);
	g->len += n;
	g->buf[g->len] = '\0';
}

/* Atoms: text and the set of alphabet characters they match (bit mask).
 * Every atom matches some alphabet character, so anything the automaton
 * accepts maps to an alphabet string of the same character count. */
static const struct
{
	const char *text;
	int			mask;
}			atoms[] = {
	{"a", 1}, {"b", 2}, {"\xc3\xa9", 4}, {"\xe4\xb8\xad", 8}, {".", 15},
	{"[ab]", 3}, {"[^a]", 14}, {"\\w", 3}, {"[\xc3\xa9-\xe4\xb8\xad]", 12},
	{"[a-z\xc3\xa9]", 7}, {"\\S", 15}, {"\\D", 15}, {"[^\\d]", 15}, {"[b\xe4\xb8\xad]", 10},
	{"\\u4e2d", 8}, {"[\\x61]", 1},
};

static void gen_alt(gen *g, int depth, lang *out);

static void
gen_atom(gen *g, int depth, lang *out)
{
	uint32_t	r = rnd(&g->rng) % 10;

	memset(out, 0, sizeof(*out));
	if (depth < 3 && r < 2)
	{
		emit(g, r == 0 ? "(" : "(?:");
		gen_alt(g, depth + 1, out);
		emit(g, ")");
		return;
	}
	{
		int			k = (int) (rnd(&g->rng) % (sizeof(atoms) / sizeof(atoms[0])));

		emit(g, atoms[k].text);
		for (int c = 0; c < REF_K; c++)
			if (atoms[k].mask & (1 << c))
				out->in[ref_off[1] + c] = 1;
	}
}

static void
gen_term(gen *g, int depth, lang *out)
{
	lang		a;
	int			mn;
	int			mx;
	char		q[32];
	uint32_t	r;

	gen_atom(g, depth, &a);
	r = rnd(&g->rng) % 12;
	switch (r)
	{
		case 0:
			mn = 0, mx = -1, strcpy(q, "*");
			break;
		case 1:
			mn = 1, mx = -1, strcpy(q, "+");
			break;
		case 2:
			mn = 0, mx = 1, strcpy(q, "?");
			break;
		case 3:
			mn = (int) (rnd(&g->rng) % 3);
			mx = mn;
			snprintf(q, sizeof(q), "{%d}", mn);
			break;
		case 4:
			mn = (int) (rnd(&g->rng) % 3);
			mx = mn + (int) (rnd(&g->rng) % 3);
			snprintf(q, sizeof(q), "{%d,%d}%s", mn, mx, rnd(&g->rng) % 2 ? "?" : "");
			break;
		case 5:
			mn = (int) (rnd(&g->rng) % 3);
			mx = -1;
			snprintf(q, sizeof(q), "{%d,}", mn);
			break;
		default:
			*out = a;
			return;
	}
	emit(g, q);
	/* union of a^i for i in [mn, mx], or [mn, mn + REF_N] when unbounded */
	{
		lang		pw;
		lang		tmp;
		int			top = mx < 0 ? mn + REF_N : mx;

		memset(out, 0, sizeof(*out));
		memset(&pw, 0, sizeof(pw));
		pw.in[0] = 1;
		for (int i = 0; i <= top; i++)
		{
			if (i >= mn)
				lang_union(out, &pw);
			lang_concat(&pw, &a, &tmp);
			pw = tmp;
		}
	}
}

static void
gen_cat(gen *g, int depth, lang *out)
{
	int			n = (int) (rnd(&g->rng) % 4);

	memset(out, 0, sizeof(*out));
	out->in[0] = 1;
	for (int i = 0; i < n; i++)
	{
		lang		t;
		lang		tmp;

		gen_term(g, depth, &t);
		lang_concat(out, &t, &tmp);
		*out = tmp;
	}
}

static void
gen_alt(gen *g, int depth, lang *out)
{
	int			n = 1 + (int) (rnd(&g->rng) % 3 == 0 ? rnd(&g->rng) % 3 : 0);

	gen_cat(g, depth, out);
	for (int i = 1; i < n; i++)
	{
		lang		t;

		emit(g, "|");
		gen_cat(g, depth, &t);
		lang_union(out, &t);
	}
}

/* A pattern: top-level alternatives, each maybe anchored. */
typedef struct ref_pattern
{
	char		text[512];
	int			n_alts;
	lang		alts[3];
	bool		anch_start[3];
	bool		anch_end[3];
	llm_regex_mode mode;
} ref_pattern;

static void
gen_pattern(uint64_t *rng, ref_pattern *p)
{
	gen			g;

	do
	{
		memset(&g, 0, sizeof(g));
		g.rng = *rng;
		p->n_alts = 1 + (int) (rnd(&g.rng) % 4 == 0 ? 1 + rnd(&g.rng) % 2 : 0);
		for (int i = 0; i < p->n_alts; i++)
		{
			if (i > 0)
				emit(&g, "|");
			p->anch_start[i] = rnd(&g.rng) % 3 == 0;
			p->anch_end[i] = rnd(&g.rng) % 3 == 0;
			if (p->anch_start[i])
				emit(&g, "^");
			gen_cat(&g, 0, &p->alts[i]);
			if (p->anch_end[i])
				emit(&g, "$");
		}
		p->mode = rnd(&g.rng) % 2 ? LLM_REGEX_FULL : LLM_REGEX_SEARCH;
		*rng = g.rng;
	} while (g.overflow);
	memcpy(p->text, g.buf, g.len + 1);
}

static bool
ref_matches(const ref_pattern *p, int idx)
{
	int			len = ref_len_of[idx];

	for (int k = 0; k < p->n_alts; k++)
	{
		if (p->mode == LLM_REGEX_FULL)
		{
			if (p->alts[k].in[idx])
				return true;
			continue;
		}
		for (int i = 0; i <= len; i++)
			for (int j = i; j <= len; j++)
			{
				if ((p->anch_start[k] && i != 0) || (p->anch_end[k] && j != len))
					continue;
				if (p->alts[k].in[ref_sub[idx][i][j]])
					return true;
			}
	}
	return false;
}

static int32_t
walk(const llm_regex *re, const char *s, size_t n)
{
	int32_t		st = llm_regex_start(re);

	for (size_t i = 0; i < n && st >= 0; i++)
		st = llm_regex_next(re, st, (uint8_t) s[i]);
	return st;
}

/* ------------------------------------------------------------------ */
/* 4. can_finish: brute force over the automaton                        */
/* ------------------------------------------------------------------ */

#define BF_MAX_STATES 600
#define BF_MAX_STEPS 400

/* The automaton as a plain table, read through the API once. */
typedef struct brute
{
	int			n;
	int32_t    *next;			/* n x 256 */
	uint8_t    *mid;			/* reads continuation bytes */
	uint8_t    *step;			/* n x n: one character leads s to t */
	int32_t    *adj_off;		/* the same as lists */
	int32_t    *adj;
	uint8_t    *acc;
} brute;

/* states after finishing the character under way in mid state s */
static void
complete_char(const brute *bf, int32_t s, uint8_t *out, int depth)
{
	if (depth > 4)
		return;
	for (int b = 0x80; b < 0xC0; b++)
	{
		int32_t		t = bf->next[(size_t) s * 256 + (size_t) b];

		if (t < 0)
			continue;
		if (bf->mid[t])
			complete_char(bf, t, out, depth + 1);
		else
			out[t] = 1;
	}
}

static bool
brute_init(brute *bf, const llm_regex *re)
{
	int			n = llm_regex_n_states(re);

	if (n > BF_MAX_STATES)
		return false;
	bf->n = n;
	bf->next = malloc(sizeof(int32_t) * 256 * ((size_t) n + 1));
	bf->step = calloc((size_t) n * (size_t) n + 1, 1);
	bf->acc = calloc((size_t) n + 1, 1);
	bf->mid = calloc((size_t) n + 1, 1);
	for (int s = 0; s < n; s++)
	{
		bf->acc[s] = llm_regex_is_accept(re, s);
		for (int b = 0; b < 256; b++)
		{
			bf->next[(size_t) s * 256 + (size_t) b] = llm_regex_next(re, s, (uint8_t) b);
			if (b >= 0x80 && b < 0xC0 && bf->next[(size_t) s * 256 + (size_t) b] >= 0)
				bf->mid[s] = 1;
		}
	}
	for (int s = 0; s < n; s++)
	{
		uint8_t    *row = bf->step + (size_t) s * (size_t) n;

		if (bf->mid[s])
		{
			complete_char(bf, s, row, 0);
			continue;
		}
		for (int b = 0; b < 256; b++)
		{
			int32_t		t;

			if (b >= 0x80 && b < 0xC0)
				continue;
			t = bf->next[(size_t) s * 256 + (size_t) b];
			if (t < 0)
				continue;
			if (bf->mid[t])
				complete_char(bf, t, row, 0);
			else
				row[t] = 1;
		}
	}
	{
		size_t		m = 0;

		bf->adj_off = malloc(sizeof(int32_t) * ((size_t) n + 1));
		for (size_t i = 0; i < (size_t) n * (size_t) n; i++)
			m += bf->step[i];
		bf->adj = malloc(sizeof(int32_t) * (m + 1));
		m = 0;
		for (int s = 0; s < n; s++)
		{
			bf->adj_off[s] = (int32_t) m;
			for (int t = 0; t < n; t++)
				if (bf->step[(size_t) s * (size_t) n + (size_t) t])
					bf->adj[m++] = t;
		}
		bf->adj_off[n] = (int32_t) m;
	}
	return true;
}

static void
brute_free(brute *bf)
{
	free(bf->next);
	free(bf->mid);
	free(bf->step);
	free(bf->adj_off);
	free(bf->adj);
	free(bf->acc);
}

/*
 * Lengths k from state s that can end in acceptance: hit[k] for k below
 * *T; from *T on they repeat with period *P from *P0 (R_k sets repeat).
 */
static void
brute_lengths(const brute *bf, int32_t s, uint8_t *hit, int *T, int *P0, int *P)
{
	int			n = bf->n;
	uint8_t    *sets = calloc((size_t) BF_MAX_STEPS * (size_t) n + 1, 1);
	int			k;

	*P = 0;
	*P0 = 0;
	sets[s] = 1;
	for (k = 0; k < BF_MAX_STEPS; k++)
	{
		uint8_t    *cur = sets + (size_t) k * (size_t) n;

		hit[k] = 0;
		for (int t = 0; t < n; t++)
			if (cur[t] && bf->acc[t])
				hit[k] = 1;
		for (int j = 0; j < k; j++)
			if (memcmp(sets + (size_t) j * (size_t) n, cur, (size_t) n) == 0)
			{
				*P0 = j;
				*P = k - j;
				*T = k;
				free(sets);
				return;
			}
		if (k + 1 < BF_MAX_STEPS)
		{
			uint8_t    *nx = sets + (size_t) (k + 1) * (size_t) n;

			for (int t = 0; t < n; t++)
				if (cur[t])
					for (int32_t e = bf->adj_off[t]; e < bf->adj_off[t + 1]; e++)
						nx[bf->adj[e]] = 1;
		}
	}
	*T = k;
	free(sets);
}

static bool
brute_window(const uint8_t *hit, int T, int P0, int P, int64_t lo, int64_t hi, bool *known)
{
	int64_t		last;

	*known = true;
	if (lo < 0)
		lo = 0;
	/* T + P + 1 consecutive counts from lo cover every residue */
	last = hi < lo + T + P ? hi : lo + T + P;
	for (int64_t k = lo; k <= last; k++)
	{
		int64_t		m = k;

		if (k >= T)
		{
			if (P == 0)
			{
				*known = false;
				return false;
			}
			m = P0 + (k - P0) % P;
		}
		if (hit[m])
			return true;
	}
	return false;
}

static void
check_can_finish_sampled(const llm_regex *re, const char *label, uint64_t *rng, int max_states);

static void
check_can_finish(const llm_regex *re, const char *label, uint64_t *rng)
{
	check_can_finish_sampled(re, label, rng, BF_MAX_STATES);
}

/* Every state (or max_states random ones), 60 windows each. */
static void
check_can_finish_sampled(const llm_regex *re, const char *label, uint64_t *rng, int max_states)
{
	brute		bf;
	uint8_t    *hit = malloc(BF_MAX_STEPS);
	int			fails = 0;

	if (!brute_init(&bf, re))
	{
		free(hit);
		return;
	}
	for (int si = 0; si < bf.n && si < max_states; si++)
	{
		int			T;
		int			P0;
		int			P;
		int32_t		s = bf.n <= max_states ? si : (int32_t) (rnd(rng) % (uint32_t) bf.n);

		brute_lengths(&bf, s, hit, &T, &P0, &P);
		for (int q = 0; q < 60; q++)
		{
			int64_t		lo = (int64_t) (rnd(rng) % 40) - 2;
			int64_t		hi = lo + (int64_t) (rnd(rng) % 12) - 1;
			bool		known;
			bool		want;
			bool		got;

			if (q % 10 == 0)
				hi = INT32_MAX;
			if (q % 10 == 1)
				lo = 0, hi = (int64_t) (rnd(rng) % 30);
			want = brute_window(hit, T, P0, P, lo, hi, &known);
			if (!known)
				continue;
			got = llm_regex_can_finish(re, s, (int32_t) lo, (int32_t) hi);
			if (got != want && fails++ < 3)
				CHECK(false, "%s: can_finish(state %d, %lld, %lld) = %d, brute force %d",
					  label, s, (long long) lo, (long long) hi, got, want);
		}
	}
	CHECK(fails == 0, "%s: %d can_finish differences", label, fails);
	brute_free(&bf);
	free(hit);
}

/* ------------------------------------------------------------------ */
/* 5. shortest_finish                                                   */
/* ------------------------------------------------------------------ */

/* Characters in bytes s[0..n) as can_finish counts them from a state
 * that is `mid` (inside a character) or not. */
static int64_t
count_chars(const char *s, size_t n, bool mid)
{
	int64_t		c = mid ? 1 : 0;

	for (size_t i = 0; i < n; i++)
		if (((uint8_t) s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

/* Fewest bytes from s to acceptance with a count in [lo, hi]. */
static int
brute_min_bytes(const brute *bf, int32_t s, int lo, int hi)
{
	int			n = bf->n;
	int			H = hi + 2;
	int32_t    *dist = malloc(sizeof(int32_t) * (size_t) n * (size_t) H);
	int32_t    *queue = malloc(sizeof(int32_t) * (size_t) n * (size_t) H);
	size_t		qh = 0;
	size_t		qt = 0;
	int			best = -1;
	int			c0 = bf->mid[s] ? 1 : 0;

	for (size_t i = 0; i < (size_t) n * (size_t) H; i++)
		dist[i] = -1;
	dist[(size_t) s * (size_t) H + (size_t) c0] = 0;
	queue[qt++] = s * H + c0;
	while (qh < qt)
	{
		int32_t		e = queue[qh++];
		int32_t		st = e / H;
		int			c = e % H;

		if (bf->acc[st] && c >= lo && c <= hi)
		{
			best = dist[e];
			break;
		}
		for (int b = 0; b < 256; b++)
		{
			int32_t		t = bf->next[(size_t) st * 256 + (size_t) b];
			int			c2 = c + ((b & 0xC0) != 0x80 ? 1 : 0);

			if (t < 0 || c2 > hi)
				continue;
			if (dist[(size_t) t * (size_t) H + (size_t) c2] < 0)
			{
				dist[(size_t) t * (size_t) H + (size_t) c2] = dist[e] + 1;
				queue[qt++] = t * H + c2;
			}
		}
	}
	free(dist);
	free(queue);
	return best;
}

static void
check_shortest(const llm_regex *re, const char *label, uint64_t *rng, int tries)
{
	int			n = llm_regex_n_states(re);
	int			fails = 0;
	brute		bf;

	if (n == 0 || !brute_init(&bf, re))
		return;
	for (int q = 0; q < tries; q++)
	{
		int32_t		s = (int32_t) (rnd(rng) % (uint32_t) n);
		int			lo = (int) (rnd(rng) % 8);
		int			hi = lo + (int) (rnd(rng) % 6);
		char		buf[256];
		size_t		len = 99;
		llm_error	err;
		llm_status	st;
		bool		can = llm_regex_can_finish(re, s, lo, hi);
		bool		mid = bf.mid[s];

		st = llm_regex_shortest_finish(re, s, lo, hi, buf, sizeof(buf), &len, &err);
		if ((st == LLM_OK) != can)
		{
			if (fails++ < 3)
				CHECK(false, "%s: shortest_finish(%d, %d, %d) status %d, can_finish %d",
					  label, s, lo, hi, st, can);
			continue;
		}
		if (st != LLM_OK)
		{
			if (st != LLM_ERR_INVALID_ARG && fails++ < 3)
				CHECK(false, "%s: shortest_finish status %d", label, st);
			continue;
		}
		{
			int32_t		t = s;
			int64_t		chars = count_chars(buf, len, mid);
			int			want = brute_min_bytes(&bf, s, lo, hi);

			for (size_t i = 0; i < len && t >= 0; i++)
				t = llm_regex_next(re, t, (uint8_t) buf[i]);
			if ((!llm_regex_is_accept(re, t) || chars < lo || chars > hi ||
				 (int) len != want) && fails++ < 3)
				CHECK(false, "%s: shortest_finish(%d, %d, %d) gave %zu bytes, %lld chars, "
					  "accept %d; brute force %d bytes", label, s, lo, hi, len,
					  (long long) chars, llm_regex_is_accept(re, t), want);
		}
		/* too small a buffer */
		if (len > 0)
		{
			size_t		len2;

			st = llm_regex_shortest_finish(re, s, lo, hi, buf, len - 1, &len2, &err);
			if (st != LLM_ERR_LIMIT && fails++ < 3)
				CHECK(false, "%s: small buffer: status %d", label, st);
		}
	}
	CHECK(fails == 0, "%s: %d shortest_finish failures", label, fails);
	brute_free(&bf);
}

/* ------------------------------------------------------------------ */
/* 3 (cont.): the random driver                                         */
/* ------------------------------------------------------------------ */

static void
test_random_patterns(void)
{
	uint64_t	rng = 0x1234567ULL;
	int			n_patterns = 0;
	int			match_fails = 0;
	int			prefix_fails = 0;
	int			window_fails = 0;
	int			inter_fails = 0;
	ref_pattern *p = malloc(sizeof(ref_pattern));
	ref_pattern *p2 = malloc(sizeof(ref_pattern));
	char		bytes[64];

	ref_init();
	ref_init_tables();
	for (int iter = 0; iter < 160; iter++)
	{
		llm_regex  *re = NULL;
		llm_error	err;
		llm_status	st;
		uint8_t    *acc = malloc(REF_M);
		const char *text;
		size_t		tlen;

		gen_pattern(&rng, p);
		text = p->text;
		tlen = strlen(text);
		st = llm_regex_compile(&text, &tlen, &p->mode, 1, NULL, &re, &err);
		if (st != LLM_OK)
		{
			CHECK(st == LLM_ERR_UNSUPPORTED, "/%s/: %s", p->text, err.msg);
			free(acc);
			continue;
		}
		n_patterns++;

		/* matches() over every string of the alphabet */
		for (int i = 0; i < REF_M; i++)
		{
			acc[i] = ref_matches(p, i);
			if (llm_regex_matches(re, ref_text[i], ref_text_len[i]) != (acc[i] != 0) &&
				match_fails++ < 5)
				CHECK(false, "/%s/ %s on \"%s\": reference says %d", p->text,
					  p->mode == LLM_REGEX_FULL ? "full" : "search", ref_text[i], acc[i]);
		}

		/*
		 * Prefix property.  For every string w (and every byte prefix of its
		 * last character): if some accepted string of at most REF_N
		 * characters extends w, the automaton must still be alive; if it is
		 * alive, shortest_finish must give an accepted extension, which the
		 * reference must accept when it is short enough to judge.
		 */
		for (int i = 0; i < ref_off[REF_N]; i++)
		{
			size_t		nb = ref_bytes(i, bytes);
			bool		extendable = false;

			for (int j = 0; j < REF_M && !extendable; j++)
				if (acc[j] && ref_len_of[j] >= ref_len_of[i] &&
					ref_prefix[j][ref_len_of[i]] == i)
					extendable = true;
			for (size_t cut = nb; cut + 3 >= nb && cut > 0; cut--)
			{
				int32_t		s = walk(re, bytes, cut);

				if (extendable && s < 0 && prefix_fails++ < 5)
					CHECK(false, "/%s/: prefix \"%.*s\" refused but extendable", p->text,
						  (int) cut, bytes);
				if (cut != nb)
					continue;
				if (s >= 0)
				{
					char		fin[300];
					size_t		fl;

					memcpy(fin, bytes, nb);
					if (llm_regex_shortest_finish(re, s, 0, INT32_MAX, fin + nb,
												  sizeof(fin) - nb, &fl, &err) != LLM_OK)
					{
						if (prefix_fails++ < 5)
							CHECK(false, "/%s/: live prefix \"%.*s\" has no completion",
								  p->text, (int) nb, bytes);
						continue;
					}
					if (!llm_regex_matches(re, fin, nb + fl) && prefix_fails++ < 5)
						CHECK(false, "/%s/: completion not accepted", p->text);
					/* judge it with the reference when it is alphabet-only and short */
					{
						int			j = ref_index(fin, nb + fl);

						if (j >= 0 && !acc[j] && prefix_fails++ < 5)
							CHECK(false, "/%s/: completion \"%.*s\" rejected by the reference",
								  p->text, (int) (nb + fl), fin);
					}
				}
			}
		}

		/*
		 * can_finish from full-character prefixes against the reference,
		 * where the reference sees every candidate (|w| + hi <= REF_N).
		 */
		for (int i = 0; i < ref_off[3]; i++)
		{
			size_t		nb = ref_bytes(i, bytes);
			int32_t		s = walk(re, bytes, nb);
			int			lw = ref_len_of[i];

			if (s < 0)
				continue;
			for (int lo = 0; lo <= REF_N - lw; lo++)
				for (int hi = lo; hi <= REF_N - lw; hi++)
				{
					bool		want = false;

					for (int j = 0; j < REF_M && !want; j++)
					{
						int			lj = ref_len_of[j];

						if (acc[j] && lj - lw >= lo && lj - lw <= hi && ref_prefix[j][lw] == i)
							want = true;
					}
					if (llm_regex_can_finish(re, s, lo, hi) != want && window_fails++ < 5)
						CHECK(false, "/%s/: can_finish after \"%.*s\" [%d,%d]: reference %d",
							  p->text, (int) nb, bytes, lo, hi, want);
				}
		}

		if (iter % 4 == 0)
		{
			char		label[600];

			snprintf(label, sizeof(label), "/%s/", p->text);
			check_can_finish(re, label, &rng);
			check_shortest(re, label, &rng, 30);
		}

		/* intersection with a second random pattern */
		if (iter % 2 == 0)
		{
			const char *texts[2];
			size_t		lens[2];
			llm_regex_mode modes[2];
			llm_regex  *both = NULL;

			gen_pattern(&rng, p2);
			texts[0] = p->text;
			texts[1] = p2->text;
			lens[0] = strlen(p->text);
			lens[1] = strlen(p2->text);
			modes[0] = p->mode;
			modes[1] = p2->mode;
			st = llm_regex_compile(texts, lens, modes, 2, NULL, &both, &err);
			if (st == LLM_OK)
			{
				bool		any = false;

				for (int i = 0; i < REF_M; i++)
				{
					size_t		nb = ref_bytes(i, bytes);
					bool		want = acc[i] && ref_matches(p2, i);

					any |= want;
					if (llm_regex_matches(both, bytes, nb) != want && inter_fails++ < 5)
						CHECK(false, "/%s/ and /%s/ on \"%.*s\": reference %d", p->text,
							  p2->text, (int) nb, bytes, want);
				}
				if (any && llm_regex_start(both) < 0 && inter_fails++ < 5)
					CHECK(false, "intersection is empty but should not be");
				if (iter % 8 == 0)
					check_can_finish(both, "intersection", &rng);
			}
			else
				CHECK(st == LLM_ERR_UNSUPPORTED, "intersection: %s", err.msg);
			llm_regex_free(both);
		}
		free(acc);
		llm_regex_free(re);
	}
	CHECK(n_patterns >= 140, "only %d random patterns compiled", n_patterns);
	CHECK(match_fails == 0, "%d matches() differences", match_fails);
	CHECK(prefix_fails == 0, "%d prefix property failures", prefix_fails);
	CHECK(window_fails == 0, "%d can_finish/reference differences", window_fails);
	CHECK(inter_fails == 0, "%d intersection differences", inter_fails);
	free(p);
	free(p2);
}

/* Length windows on patterns whose lengths have gaps and long periods. */
static void
test_lengths(void)
{
	static const struct
	{
		const char *pattern;
		llm_regex_mode mode;
	}			cases[] = {
		{"(ab){3,}|(abc){2}", LLM_REGEX_FULL},
		{"(aaa)*(bbbbb)*", LLM_REGEX_FULL},
		{"^(.{7})*$", LLM_REGEX_SEARCH},
		{"(\xc3\xa9{2}|\xe4\xb8\xad{3})+", LLM_REGEX_FULL},
		{"a{3,5}b{0,2}", LLM_REGEX_FULL},
		{"(ab|cde)*", LLM_REGEX_FULL},
		{"x(ab|cde)*y", LLM_REGEX_SEARCH},
		{"(a{11})*|(b{13})*", LLM_REGEX_FULL},
		{"[a-z]{2,5}(-[a-z]{2,5}){0,3}", LLM_REGEX_FULL},
		{"^\\d{4}-\\d{2}-\\d{2}$", LLM_REGEX_SEARCH},
		{"((a|\xf0\x9f\x98\x80){2}){2,}", LLM_REGEX_FULL},
		{"", LLM_REGEX_FULL},
	};
	uint64_t	rng = 99;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		llm_regex  *re = NULL;
		llm_error	err;

		if (compile1(cases[i].pattern, cases[i].mode, &re, &err) != LLM_OK)
		{
			CHECK(false, "/%s/: %s", cases[i].pattern, err.msg);
			continue;
		}
		check_can_finish(re, cases[i].pattern, &rng);
		check_shortest(re, cases[i].pattern, &rng, 60);
		llm_regex_free(re);
	}
	/* the formats: bigger automata, lengths bounded by their structure */
	{
		static const char *const fmts[] = {"date-time", "email", "hostname", "ipv6", "uri"};

		for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		{
			llm_regex  *re = NULL;
			llm_error	err;

			if (compile1(llm_regex_format_pattern(fmts[i]), LLM_REGEX_FULL, &re, &err) != LLM_OK)
				continue;
			check_can_finish_sampled(re, fmts[i], &rng, 12);
			check_shortest(re, fmts[i], &rng, 20);
			llm_regex_free(re);
		}
	}

	/* spot checks of the counting convention */
	{
		llm_regex  *re = NULL;
		llm_error	err;
		int32_t		s;

		CHECK(compile1("(ab){3,}|(abc){2}", LLM_REGEX_FULL, &re, &err) == LLM_OK, "gaps");
		s = llm_regex_start(re);
		CHECK(llm_regex_can_finish(re, s, 6, 6) && !llm_regex_can_finish(re, s, 7, 7) &&
			  llm_regex_can_finish(re, s, 8, 8) && !llm_regex_can_finish(re, s, 9, 9) &&
			  llm_regex_can_finish(re, s, 10000, 10000) &&
			  !llm_regex_can_finish(re, s, 10001, 10001) &&
			  !llm_regex_can_finish(re, s, 0, 5) && llm_regex_can_finish(re, s, 7, 8),
			  "(ab){3,}|(abc){2}: even lengths from 6");
		llm_regex_free(re);

		/* counts whose pattern repeats only after lcm(97, 89, 83) = 716539 */
		CHECK(compile1("(a{97})*|(b{89})*|(c{83})*", LLM_REGEX_FULL, &re, &err) == LLM_OK,
			  "long period");
		s = llm_regex_start(re);
		CHECK(llm_regex_can_finish(re, s, 97 * 100, 97 * 100) &&
			  !llm_regex_can_finish(re, s, 12036, 12055) &&
			  llm_regex_can_finish(re, s, 15024, 15035) &&
			  !llm_regex_can_finish(re, s, 15024, 15034) &&
			  !llm_regex_can_finish(re, s, 1, 82) &&
			  !llm_regex_can_finish(re, s, 2000000, 2000010),
			  "long period: exact where known, never a wrong yes");
		llm_regex_free(re);

		CHECK(compile1("\xc3\xa9", LLM_REGEX_FULL, &re, &err) == LLM_OK, "e-acute");
		s = llm_regex_start(re);
		CHECK(llm_regex_can_finish(re, s, 1, 1) && !llm_regex_can_finish(re, s, 0, 0) &&
			  !llm_regex_can_finish(re, s, 2, 5), "start of e-acute");
		s = llm_regex_next(re, s, 0xC3);
		CHECK(s >= 0 && llm_regex_can_finish(re, s, 1, 1) && !llm_regex_can_finish(re, s, 0, 0) &&
			  !llm_regex_is_accept(re, s), "inside e-acute: the character counts as one more");
		s = llm_regex_next(re, s, 0xA9);
		CHECK(llm_regex_is_accept(re, s) && llm_regex_can_finish(re, s, 0, 0) &&
			  !llm_regex_can_finish(re, s, 1, 9), "after e-acute");
		llm_regex_free(re);
	}
}

/* ------------------------------------------------------------------ */
/* 6. exclude_ascii, UTF-8 validity, formats, speed                     */
/* ------------------------------------------------------------------ */

static void
test_exclude(void)
{
	bool		ex[128] = {false};
	llm_regex  *re = NULL;
	llm_error	err;
	llm_regex_mode search = LLM_REGEX_SEARCH;
	llm_regex_mode full = LLM_REGEX_FULL;
	const char *pat;
	size_t		len;

	for (int c = 0; c < 0x20; c++)
		ex[c] = true;
	ex['b'] = true;

	pat = "a|b";
	len = strlen(pat);
	CHECK(llm_regex_compile(&pat, &len, &search, 1, ex, &re, &err) == LLM_OK, "a|b");
	CHECK(llm_regex_matches(re, "xax", 3) && !llm_regex_matches(re, "xbx", 3) &&
		  !llm_regex_matches(re, "ab", 2) && !llm_regex_matches(re, "a\n", 2),
		  "excluded characters never appear");
	CHECK(llm_regex_next(re, llm_regex_start(re), '\n') == -1 &&
		  llm_regex_next(re, llm_regex_start(re), 'b') == -1 &&
		  llm_regex_next(re, llm_regex_start(re), 0xC3) >= 0, "excluded bytes refused at once");
	llm_regex_free(re);

	pat = "b";
	len = 1;
	CHECK(llm_regex_compile(&pat, &len, &search, 1, ex, &re, &err) == LLM_OK &&
		  llm_regex_start(re) == -1 && llm_regex_n_states(re) == 0,
		  "a pattern needing an excluded character accepts nothing");
	CHECK(!llm_regex_matches(re, "b", 1) && !llm_regex_can_finish(re, -1, 0, 9),
		  "empty automaton");
	llm_regex_free(re);

	/* pruning accounts for exclusions: after 'x' only 'a' can follow */
	pat = "x(b|a)";
	len = strlen(pat);
	CHECK(llm_regex_compile(&pat, &len, &full, 1, ex, &re, &err) == LLM_OK, "x(b|a)");
	{
		int32_t		s = llm_regex_next(re, llm_regex_start(re), 'x');
		int			n_ok = 0;

		for (int b = 0; b < 256; b++)
			n_ok += llm_regex_next(re, s, (uint8_t) b) >= 0;
		CHECK(n_ok == 1 && llm_regex_next(re, s, 'a') >= 0, "only 'a' after x: %d bytes", n_ok);
	}
	llm_regex_free(re);

	/* intersections that are empty */
	{
		const char *pats[2] = {"abc", "abd"};
		size_t		lens[2] = {3, 3};
		llm_regex_mode modes[2] = {LLM_REGEX_FULL, LLM_REGEX_FULL};

		CHECK(llm_regex_compile(pats, lens, modes, 2, NULL, &re, &err) == LLM_OK &&
			  llm_regex_start(re) == -1, "abc and abd: nothing");
		llm_regex_free(re);
		pats[0] = "^[a-z]+$";
		pats[1] = "^.{3}$";
		lens[0] = strlen(pats[0]);
		lens[1] = strlen(pats[1]);
		modes[0] = modes[1] = LLM_REGEX_SEARCH;
		CHECK(llm_regex_compile(pats, lens, modes, 2, NULL, &re, &err) == LLM_OK &&
			  llm_regex_matches(re, "abc", 3) && !llm_regex_matches(re, "ab", 2) &&
			  !llm_regex_matches(re, "abcd", 4) && !llm_regex_matches(re, "a1c", 3),
			  "three lowercase letters");
		llm_regex_free(re);
		pats[0] = "a";
		pats[1] = "b";
		lens[0] = lens[1] = 1;
		CHECK(llm_regex_compile(pats, lens, modes, 2, NULL, &re, &err) == LLM_OK &&
			  llm_regex_matches(re, "xbxa", 4) && !llm_regex_matches(re, "aaa", 3),
			  "contains a and b");
		llm_regex_free(re);
	}
}

/* Every accepted string of a random walk is valid UTF-8. */
static bool
valid_utf8(const uint8_t *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		uint8_t		b = s[i];
		size_t		k;
		uint32_t	cp;

		if (b < 0x80)
		{
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			k = 2, cp = b & 0x1F;
		else if (b >= 0xE0 && b <= 0xEF)
			k = 3, cp = b & 0x0F;
		else if (b >= 0xF0 && b <= 0xF4)
			k = 4, cp = b & 0x07;
		else
			return false;
		if (i + k > n)
			return false;
		for (size_t j = 1; j < k; j++)
		{
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10FFFF ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k;
	}
	return true;
}

static void
test_utf8_walks(void)
{
	static const char *const pats[] = {".*", "[^a]*", "\\W*", "\\S*", "[\\s\\S]*", "\\D+",
	"[^\\u0080-\\u07ff]*", "[\\u0800-\\U0010]?x*"};
	uint64_t	rng = 7;
	int			bad = 0;

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
	{
		llm_regex  *re = NULL;
		llm_error	err;
		llm_status	st = compile1(pats[i], LLM_REGEX_FULL, &re, &err);

		if (i == sizeof(pats) / sizeof(pats[0]) - 1)
		{
			CHECK(st == LLM_ERR_UNSUPPORTED, "\\U is not an escape we know");
			continue;
		}
		CHECK(st == LLM_OK, "/%s/: %s", pats[i], err.msg);
		if (st != LLM_OK)
			continue;
		for (int w = 0; w < 300; w++)
		{
			uint8_t		buf[64];
			size_t		n = 0;
			int32_t		s = llm_regex_start(re);

			for (int tries = 0; tries < 5000 && n < sizeof(buf) && s >= 0; tries++)
			{
				uint8_t		b = (uint8_t) rnd(&rng);
				int32_t		t = llm_regex_next(re, s, b);

				if (t < 0)
					continue;	/* try another byte */
				buf[n++] = b;
				s = t;
				if (llm_regex_is_accept(re, s) && !valid_utf8(buf, n))
					bad++;
				if (!llm_regex_can_finish(re, s, 0, INT32_MAX))
					bad++;
			}
		}
		llm_regex_free(re);
	}
	CHECK(bad == 0, "%d invalid UTF-8 strings or dead states on walks", bad);
}

static void
test_formats(void)
{
	static const struct
	{
		const char *format;
		const char *good[4];
		const char *bad[6];
	}			cases[] = {
		{"date-time", {"2024-02-29T23:59:59Z", "1999-12-31T00:00:00.123+05:30", "0001-01-01T00:00:00-00:00", NULL},
		{"2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01t00:00:00Z", "0000-01-01T00:00:00Z", "2024-01-01T00:00:60Z"}},
		{"date", {"2000-02-29", "2024-04-30", "2024-12-31", NULL},
		{"1900-02-29", "2024-04-31", "2024-00-10", "24-01-01", "2024-1-01", NULL}},
		{"time", {"00:00:00Z", "23:59:59.5-12:00", "12:30:00+01:00", NULL},
		{"24:00:00Z", "12:00:00", "12:60:00Z", "1:00:00Z", NULL, NULL}},
		{"email", {"a@b.co", "first.last+tag@sub.example.org", "x_y%z@a-b.io", NULL},
		{"a@b", "@b.co", "a..b@c.de", ".a@b.co", "a@-b.co", "a b@c.de"}},
		{"hostname", {"localhost", "a.b-c.d", "xn--bcher-kva.example", NULL},
		{"-a", "a-", "a..b", "a_b", "", "a.b."}},
		{"ipv4", {"0.0.0.0", "255.255.255.255", "192.168.1.10", NULL},
		{"256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.-4", NULL}},
		{"ipv6", {"::", "::1", "2001:db8::ff00:42:8329", "1:2:3:4:5:6:7:8"},
		{"1:2:3:4:5:6:7:8:9", ":::", "1::2::3", "12345::", "g::1", "::1%eth0"}},
		{"uuid", {"123e4567-e89b-12d3-a456-426614174000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", NULL, NULL},
		{"123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400", "{123e4567-e89b-12d3-a456-426614174000}", NULL, NULL, NULL}},
		{"uri", {"https://example.com/a/b?c=d#e", "mailto:someone@example.org", "urn:isbn:0451450523", "http://localhost:8080/"},
		{"example.com", "://x", "1http://x", "http://exa mple.com", "http://x/%zz", NULL}},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *pat = llm_regex_format_pattern(cases[i].format);
		llm_regex  *re = NULL;
		llm_error	err;

		CHECK(pat != NULL, "format %s has a pattern", cases[i].format);
		if (pat == NULL)
			continue;
		CHECK(compile1(pat, LLM_REGEX_FULL, &re, &err) == LLM_OK, "format %s: %s",
			  cases[i].format, err.msg);
		for (int k = 0; k < 4 && cases[i].good[k] != NULL; k++)
			CHECK(llm_regex_matches(re, cases[i].good[k], strlen(cases[i].good[k])),
				  "%s accepts %s", cases[i].format, cases[i].good[k]);
		for (int k = 0; k < 6 && cases[i].bad[k] != NULL; k++)
			CHECK(!llm_regex_matches(re, cases[i].bad[k], strlen(cases[i].bad[k])),
				  "%s refuses %s", cases[i].format, cases[i].bad[k]);
		/* no dead ends from the start on: a completion always exists */
		CHECK(llm_regex_can_finish(re, llm_regex_start(re), 0, INT32_MAX), "%s live",
			  cases[i].format);
		llm_regex_free(re);
	}
	CHECK(llm_regex_format_pattern("color") == NULL && llm_regex_format_pattern(NULL) == NULL &&
		  llm_regex_format_pattern("DATE") == NULL, "unknown formats");

	/* a format together with a pattern and a SEARCH-mode pattern */
	{
		const char *pats[2] = {llm_regex_format_pattern("date"), "^2024-"};
		size_t		lens[2] = {strlen(pats[0]), strlen(pats[1])};
		llm_regex_mode modes[2] = {LLM_REGEX_FULL, LLM_REGEX_SEARCH};
		llm_regex  *re = NULL;
		llm_error	err;

		CHECK(llm_regex_compile(pats, lens, modes, 2, NULL, &re, &err) == LLM_OK &&
			  llm_regex_matches(re, "2024-02-29", 10) && !llm_regex_matches(re, "2023-02-28", 10),
			  "date and ^2024-");
		llm_regex_free(re);
	}
}

static void
test_speed(void)
{
	static const char *const pats[] = {
		"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$",
		"^\\d{4}-\\d{2}-\\d{2}$",
		"^[A-Za-z0-9 ,.'-]{1,100}$",
	};
	static const char *const fmts[] = {"date-time", "email", "hostname", "ipv6", "uri"};

	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]) + sizeof(fmts) / sizeof(fmts[0]); i++)
	{
		bool		is_fmt = i >= sizeof(pats) / sizeof(pats[0]);
		const char *pat = is_fmt ? llm_regex_format_pattern(fmts[i - sizeof(pats) / sizeof(pats[0])]) : pats[i];
		llm_regex_mode mode = is_fmt ? LLM_REGEX_FULL : LLM_REGEX_SEARCH;
		struct timespec t0;
		struct timespec t1;
		double		ms;
		llm_regex  *re = NULL;
		llm_error	err;
		const int	reps = 10;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int r = 0; r < reps; r++)
		{
			llm_regex_free(re);
			re = NULL;
			CHECK(compile1(pat, mode, &re, &err) == LLM_OK, "speed pattern %zu", i);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = ((double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6) / reps;
		printf("compile %-10s %7.3f ms, %d states\n",
			   is_fmt ? fmts[i - sizeof(pats) / sizeof(pats[0])] : (i == 0 ? "email-like" : i == 1 ? "date-like" : "name-like"),
			   ms, llm_regex_n_states(re));
		/* generous: the machine is shared; typical is well under 5 ms */
		CHECK(ms < 50.0, "compiling pattern %zu took %.2f ms", i, ms);
		llm_regex_free(re);
	}
}

int
main(void)
{
	test_errors();
	test_limits();
	test_table();
	test_exclude();
	test_utf8_walks();
	test_lengths();
	test_formats();
	test_random_patterns();
	test_speed();
	return TEST_DONE();
}
