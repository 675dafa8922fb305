/*
 * pretokenize.c — llama.cpp's BPE pre-tokenizer regexes as linear matchers.
 *
 * How llama.cpp applies a list of regexes (unicode.cpp, unicode_regex_split):
 *   - the text is decoded to code points; the word list starts as one piece;
 *   - each regex splits every current piece on its own: the matches found
 *     by repeated leftmost searches, and the gaps between them, all become
 *     pieces (a regex never sees across a piece boundary: lookaheads and
 *     "$" stop at the piece's end);
 *   - GPT-2's and Llama 3's regexes run as hand-written code over the code
 *     points and their category flags;
 *   - any other regex that uses \p{..} runs as std::regex (ECMAScript,
 *     leftmost-first backtracking) over a COLLAPSED text: code points below
 *     128 stay as they are, a non-ASCII whitespace becomes 0x0B, any other
 *     non-ASCII code point becomes one byte for its category (N 0xD1, L 0xD2,
 *     P 0xD3, M 0xD4, S 0xD5, other 0xD0), and \p{X} in the regex becomes
 *     [that byte + the ASCII members llama.cpp lists for X];
 *   - a regex without \p{..} runs as std::wregex over the code points with
 *     non-ASCII whitespace replaced by 0x0B ("WIDE" units).
 * In both std::regex modes \s matches only 0x09..0x0D and 0x20 (the C
 * locale), which the substitutions above make agree with llama.cpp's
 * whitespace set.
 *
 * Each regex used by a supported pre-tokenizer is implemented here as a
 * "match at position" function with the same semantics as the backtracking
 * engine, written so the total work stays linear in the text length
 * (std::regex recurses per character and can be quadratic; we must not).
 */
#include "pretokenize.h"
#include "unicode.h"

#include <string.h>

/* ---------- piece lists ---------- */

typedef struct seg_vec
{
	size_t	   *v;
	size_t		n;
	size_t		cap;
} seg_vec;

static llm_status
seg_push(seg_vec *s, size_t len, llm_error *err)
{
	if (s->n == s->cap)
	{
		size_t		cap = s->cap ? s->cap * 2 : 64;
		size_t		bytes;
		size_t	   *v;

		if (!llm_mul_size(cap, sizeof(size_t), &bytes))
			return llm_error_set(err, LLM_ERR_LIMIT, "too many pre-tokenizer pieces");
		v = llm_realloc(s->v, s->cap * sizeof(size_t), bytes);
		if (v == NULL)
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory splitting text into words");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = len;
	return LLM_OK;
}

/* ---------- the text and its unit representations ---------- */

typedef struct text_view
{
	const uint32_t *cpts;
	const uint16_t *flags;
} text_view;

static inline uint32_t
unit_collapsed(const text_view *t, size_t i)
{
	uint32_t	c = t->cpts[i];
	uint16_t	f;

	if (c < 128)
		return c;
	f = t->flags[i];
	if (f & LLM_CPT_WHITESPACE)
		return 0x0B;
	switch (f & LLM_CPT_CATEGORIES)
	{
		case LLM_CPT_NUMBER:
			return 0xD1;
		case LLM_CPT_LETTER:
			return 0xD2;
		case LLM_CPT_PUNCTUATION:
			return 0xD3;
		case LLM_CPT_ACCENT_MARK:
			return 0xD4;
		case LLM_CPT_SYMBOL:
			return 0xD5;
		default:
			return 0xD0;
	}
}

static inline uint32_t
unit_wide(const text_view *t, size_t i)
{
	uint32_t	c = t->cpts[i];

	if (c > 0x7F && (t->flags[i] & LLM_CPT_WHITESPACE))
		return 0x0B;
	return c;
}

static inline uint32_t
unit_at(const text_view *t, size_t i, bool collapsed)
{
	return collapsed ? unit_collapsed(t, i) : unit_wide(t, i);
}

/* std::regex's \s in the C locale */
static inline bool
unit_is_space(uint32_t u)
{
	return u == ' ' || (u >= 0x09 && u <= 0x0D);
}

/* ---------- character classes over units ---------- */

typedef struct unit_range
{
	uint32_t	lo;
	uint32_t	hi;
} unit_range;

typedef struct unit_class
{
	const unit_range *r;
	size_t		n;
	bool		with_space;		/* \s is a member */
	bool		negated;
} unit_class;

#define NRANGES(a) (sizeof(a) / sizeof((a)[0]))

static bool
class_has(const unit_class *c, uint32_t u)
{
	bool		in = c->with_space && unit_is_space(u);

	for (size_t i = 0; !in && i < c->n; i++)
		in = (u >= c->r[i].lo && u <= c->r[i].hi);
	return in != c->negated;
}

/*
 * Collapsed classes: the category byte plus the ASCII members llama.cpp
 * lists for each category (k_ucat_map in unicode.cpp).
 */
static const unit_range ranges_p_n[] = {{0xD1, 0xD1}, {'0', '9'}};
static const unit_range ranges_p_l[] = {{0xD2, 0xD2}, {'A', 'Z'}, {'a', 'z'}};

#define P_PUNCT_RANGES \
	{0xD3, 0xD3}, {'!', '#'}, {'%', '*'}, {',', '/'}, {':', ';'}, {'?', '@'}, \
	{'[', ']'}, {'_', '_'}, {'{', '{'}, {'}', '}'}
static const unit_range ranges_p_p[] = {P_PUNCT_RANGES};

/* "[\p{P}\$\+<=>\^~\|]+" (default) */
static const unit_range ranges_default_punct[] = {
	P_PUNCT_RANGES, {'$', '$'}, {'+', '+'}, {'<', '>'}, {'^', '^'}, {'~', '~'}, {'|', '|'}
};

/* "[\p{P}\$\+<=>\^~\|`]+" (falcon) */
static const unit_range ranges_falcon_punct[] = {
	P_PUNCT_RANGES, {'$', '$'}, {'+', '+'}, {'<', '>'}, {'^', '^'}, {'~', '~'}, {'|', '|'},
	{'`', '`'}
};

static const unit_class class_p_n = {ranges_p_n, NRANGES(ranges_p_n), false, false};
static const unit_class class_p_l = {ranges_p_l, NRANGES(ranges_p_l), false, false};
static const unit_class class_p_p = {ranges_p_p, NRANGES(ranges_p_p), false, false};
static const unit_class class_default_punct = {ranges_default_punct, NRANGES(ranges_default_punct), false, false};
static const unit_class class_falcon_punct = {ranges_falcon_punct, NRANGES(ranges_falcon_punct), false, false};

/* Wide classes (regexes without \p{..}), as code point ranges. */
static const unit_range ranges_cr_lf[] = {{'\n', '\n'}, {'\r', '\r'}};
static const unit_range ranges_ascii_digit[] = {{'0', '9'}};

/* "[一-龥ࠀ-一가-퟿]" (deepseek) */
static const unit_range ranges_deepseek_cjk[] = {
	{0x4E00, 0x9FA5}, {0x0800, 0x4E00}, {0xAC00, 0xD7FF}
};

/* deepseek-llm's letter class "[A-Za-zµÀ-ÖØ-ö...𞤀-𞥃]" */
static const unit_range ranges_deepseek_letters[] = {
	{0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
	{0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
	{0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A},
	{0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
	{0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
	{0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
	{0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
	{0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
	{0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
	{0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107},
	{0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
	{0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
	{0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4},
	{0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F},
	{0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17},
	{0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3},
	{0x104D8, 0x104FB}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF},
	{0x1E900, 0x1E943}
};

/* deepseek-llm's punctuation class "[!-/:-~！-／：-～‘-‟　-。]" */
static const unit_range ranges_deepseek_punct[] = {
	{0x0021, 0x002F}, {0x003A, 0x007E}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E},
	{0x2018, 0x201F}, {0x3000, 0x3002}
};

/* bloom's " ?[^(\s|.,!?…。，、।۔،)]+": the members of the negated class */
static const unit_range ranges_bloom_stop[] = {
	{'(', ')'}, {'|', '|'}, {'.', '.'}, {',', ','}, {'!', '!'}, {'?', '?'},
	{0x2026, 0x2026}, {0x3002, 0x3002}, {0xFF0C, 0xFF0C}, {0x3001, 0x3001},
	{0x0964, 0x0964}, {0x06D4, 0x06D4}, {0x060C, 0x060C}
};

static const unit_class class_cr_lf = {ranges_cr_lf, NRANGES(ranges_cr_lf), false, false};
static const unit_class class_ascii_digit = {ranges_ascii_digit, NRANGES(ranges_ascii_digit), false, false};
static const unit_class class_deepseek_cjk = {ranges_deepseek_cjk, NRANGES(ranges_deepseek_cjk), false, false};
static const unit_class class_deepseek_letters = {ranges_deepseek_letters, NRANGES(ranges_deepseek_letters), false, false};
static const unit_class class_deepseek_punct = {ranges_deepseek_punct, NRANGES(ranges_deepseek_punct), false, false};
static const unit_class class_bloom_word = {ranges_bloom_stop, NRANGES(ranges_bloom_stop), true, true};

/* ---------- passes ---------- */

typedef enum pass_kind
{
	PASS_GPT2,					/* llama.cpp's custom GPT-2 matcher */
	PASS_LLAMA3,				/* llama.cpp's custom Llama 3 matcher */
	PASS_QWEN2,					/* the Qwen2 regex via std::regex (collapsed) */
	PASS_ONE,					/* [class] */
	PASS_RUN,					/* [class]+ */
	PASS_SPACE_RUN,				/* \s?[class]+ */
	PASS_BLANK_RUN,				/* " ?[class]+" (a literal space) */
	PASS_DIGITS3,				/* [0-9][0-9][0-9] */
	PASS_TRAILING_SPACE			/* \s+$ */
} pass_kind;

typedef struct pass
{
	pass_kind	kind;
	bool		collapsed;		/* collapsed units, else wide units */
	const unit_class *cls;
} pass;

#define MAX_PASSES 6

typedef struct pass_list
{
	int			n;
	pass		p[MAX_PASSES];
} pass_list;

static void
passes_for(llm_pretok type, pass_list *out)
{
	memset(out, 0, sizeof(*out));
#define ADD(k, c, cl) (out->p[out->n++] = (pass) {(k), (c), (cl)})
	switch (type)
	{
		case LLM_PRETOK_DEFAULT:
			ADD(PASS_RUN, true, &class_default_punct);
			ADD(PASS_GPT2, false, NULL);
			ADD(PASS_RUN, true, &class_p_n);
			ADD(PASS_DIGITS3, false, &class_ascii_digit);
			break;
		case LLM_PRETOK_GPT2:
			ADD(PASS_GPT2, false, NULL);
			break;
		case LLM_PRETOK_STARCODER:
			ADD(PASS_ONE, true, &class_p_n);
			ADD(PASS_GPT2, false, NULL);
			break;
		case LLM_PRETOK_LLAMA3:
			ADD(PASS_LLAMA3, false, NULL);
			break;
		case LLM_PRETOK_QWEN2:
			ADD(PASS_QWEN2, true, NULL);
			break;
		case LLM_PRETOK_DEEPSEEK_CODER:
			ADD(PASS_ONE, false, &class_cr_lf);
			ADD(PASS_SPACE_RUN, true, &class_p_l);
			ADD(PASS_SPACE_RUN, true, &class_p_p);
			ADD(PASS_RUN, false, &class_deepseek_cjk);
			ADD(PASS_ONE, true, &class_p_n);
			break;
		case LLM_PRETOK_DEEPSEEK_LLM:
			ADD(PASS_ONE, false, &class_cr_lf);
			ADD(PASS_SPACE_RUN, false, &class_deepseek_letters);
			ADD(PASS_SPACE_RUN, false, &class_deepseek_punct);
			ADD(PASS_TRAILING_SPACE, false, NULL);
			ADD(PASS_RUN, false, &class_deepseek_cjk);
			ADD(PASS_RUN, true, &class_p_n);
			break;
		case LLM_PRETOK_FALCON:
			ADD(PASS_RUN, true, &class_falcon_punct);
			ADD(PASS_GPT2, false, NULL);
			ADD(PASS_DIGITS3, false, &class_ascii_digit);
			break;
		case LLM_PRETOK_BLOOM:
			ADD(PASS_BLANK_RUN, false, &class_bloom_word);
			break;
		case LLM_PRETOK_VIKING:
			ADD(PASS_BLANK_RUN, false, &class_bloom_word);
			ADD(PASS_ONE, true, &class_p_n);
			break;
	}
#undef ADD
}

bool
llm_pretok_lookup(const char *name, size_t len, llm_pretok_info *info)
{
	static const struct
	{
		const char *name;
		llm_pretok	type;
		bool		ignore_merges;
		bool		add_bos;
		bool		no_bos;
	}			names[] = {
		{"default", LLM_PRETOK_DEFAULT, false, false, false},
		{"llama3", LLM_PRETOK_LLAMA3, true, true, false},
		{"llama-v3", LLM_PRETOK_LLAMA3, true, true, false},
		{"llama-bpe", LLM_PRETOK_LLAMA3, true, true, false},
		{"falcon3", LLM_PRETOK_LLAMA3, true, true, false},
		{"dbrx", LLM_PRETOK_LLAMA3, false, false, false},
		{"smaug-bpe", LLM_PRETOK_LLAMA3, false, false, false},
		{"chatglm-bpe", LLM_PRETOK_LLAMA3, false, false, true},
		{"deepseek-llm", LLM_PRETOK_DEEPSEEK_LLM, false, false, false},
		{"deepseek-coder", LLM_PRETOK_DEEPSEEK_CODER, false, false, false},
		{"falcon", LLM_PRETOK_FALCON, false, false, false},
		{"mpt", LLM_PRETOK_GPT2, false, false, false},
		{"olmo", LLM_PRETOK_GPT2, false, false, false},
		{"jais", LLM_PRETOK_GPT2, false, false, false},
		{"gpt-2", LLM_PRETOK_GPT2, false, false, false},
		{"phi-2", LLM_PRETOK_GPT2, false, false, false},
		{"jina-es", LLM_PRETOK_GPT2, false, false, false},
		{"jina-de", LLM_PRETOK_GPT2, false, false, false},
		{"gigachat", LLM_PRETOK_GPT2, false, false, false},
		{"jina-v1-en", LLM_PRETOK_GPT2, false, false, false},
		{"jina-v2-es", LLM_PRETOK_GPT2, false, false, false},
		{"jina-v2-de", LLM_PRETOK_GPT2, false, false, false},
		{"jina-v2-code", LLM_PRETOK_GPT2, false, false, false},
		{"roberta-bpe", LLM_PRETOK_GPT2, false, false, false},
		{"starcoder", LLM_PRETOK_STARCODER, false, false, false},
		{"refact", LLM_PRETOK_STARCODER, false, false, false},
		{"command-r", LLM_PRETOK_STARCODER, false, false, false},
		{"smollm", LLM_PRETOK_STARCODER, false, false, false},
		{"codeshell", LLM_PRETOK_STARCODER, false, false, false},
		{"exaone", LLM_PRETOK_STARCODER, false, false, false},
		{"minerva-7b", LLM_PRETOK_STARCODER, false, false, false},
		{"qwen2", LLM_PRETOK_QWEN2, false, false, false},
		{"deepseek-r1-qwen", LLM_PRETOK_QWEN2, false, false, false},
		{"stablelm2", LLM_PRETOK_QWEN2, false, false, false},
		{"megrez", LLM_PRETOK_QWEN2, false, false, false},
		{"bloom", LLM_PRETOK_BLOOM, false, false, false},
		{"poro-chat", LLM_PRETOK_BLOOM, false, false, false},
		{"gpt3-finnish", LLM_PRETOK_BLOOM, false, false, false},
		{"viking", LLM_PRETOK_VIKING, false, false, false},
	};

	memset(info, 0, sizeof(*info));
	info->type = LLM_PRETOK_DEFAULT;
	if (name == NULL || len == 0)
		return true;			/* absent: llama.cpp warns and uses "default" */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0)
		{
			info->type = names[i].type;
			info->ignore_merges = names[i].ignore_merges;
			info->add_bos = names[i].add_bos;
			info->no_bos = names[i].no_bos;
			return true;
		}
	}
	return false;
}

/* ---------- llama.cpp's two hand-written matchers ---------- */

/*
 * State shared by the custom matchers: one piece [ini, end) of the text.
 * Positions outside the piece read as "no code point" with no flags, as in
 * llama.cpp's _get_cpt/_get_flags.
 */
typedef struct piece_cursor
{
	const text_view *t;
	size_t		ini;
	size_t		end;
	size_t		prev_end;
	seg_vec    *out;
	llm_error  *err;
	llm_status	st;
} piece_cursor;

#define NO_CPT 0xFFFFFFFFu

static inline uint32_t
cur_cpt(const piece_cursor *c, size_t pos)
{
	return (pos >= c->ini && pos < c->end) ? c->t->cpts[pos] : NO_CPT;
}

static inline uint16_t
cur_flags(const piece_cursor *c, size_t pos)
{
	return (pos >= c->ini && pos < c->end) ? c->t->flags[pos] : 0;
}

/* Emit the word ending at end (if non-empty); returns its length. */
static size_t
cur_add(piece_cursor *c, size_t end)
{
	size_t		len = end - c->prev_end;

	if (len > 0 && c->st == LLM_OK)
		c->st = seg_push(c->out, len, c->err);
	c->prev_end = end;
	return len;
}

#define F_WS(f)		(((f) & LLM_CPT_WHITESPACE) != 0)
#define F_LETTER(f) (((f) & LLM_CPT_LETTER) != 0)
#define F_NUMBER(f) (((f) & LLM_CPT_NUMBER) != 0)
/* [^\s\p{L}\p{N}] as llama.cpp tests it: any flag at all, but none of those */
#define F_OTHER(f)	(!((f) & (LLM_CPT_WHITESPACE | LLM_CPT_LETTER | LLM_CPT_NUMBER)) && (f) != 0)

/*
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * following llama.cpp's unicode_regex_split_custom_gpt2 step by step.
 */
static void
split_gpt2(piece_cursor *c)
{
	size_t		pos = c->ini;

	while (pos < c->end && c->st == LLM_OK)
	{
		uint32_t	cpt = cur_cpt(c, pos);
		uint16_t	flags = cur_flags(c, pos);
		uint16_t	flags2;
		size_t		num_ws;

		if (cpt == '\'' && pos + 1 < c->end)
		{
			uint32_t	next = cur_cpt(c, pos + 1);

			if (next == 's' || next == 't' || next == 'm' || next == 'd')
			{
				pos += cur_add(c, pos + 2);
				continue;
			}
			if (pos + 2 < c->end)
			{
				uint32_t	next2 = cur_cpt(c, pos + 2);

				if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') ||
					(next == 'l' && next2 == 'l'))
				{
					pos += cur_add(c, pos + 3);
					continue;
				}
			}
		}

		flags2 = (cpt == ' ') ? cur_flags(c, pos + 1) : flags;
		if (F_LETTER(flags2))
		{
			pos += (cpt == ' ');
			while (F_LETTER(flags2))
				flags2 = cur_flags(c, ++pos);
			cur_add(c, pos);
			continue;
		}
		if (F_NUMBER(flags2))
		{
			pos += (cpt == ' ');
			while (F_NUMBER(flags2))
				flags2 = cur_flags(c, ++pos);
			cur_add(c, pos);
			continue;
		}
		if (F_OTHER(flags2))
		{
			pos += (cpt == ' ');
			while (F_OTHER(flags2))
				flags2 = cur_flags(c, ++pos);
			cur_add(c, pos);
			continue;
		}

		num_ws = 0;
		while (F_WS(cur_flags(c, pos + num_ws)))
			num_ws++;
		/* \s+(?!\S): leave the last space to prefix the next word */
		if (num_ws > 1 && pos + num_ws < c->end)
		{
			pos += num_ws - 1;
			cur_add(c, pos);
			continue;
		}
		if (num_ws > 0)
		{
			pos += num_ws;
			cur_add(c, pos);
			continue;
		}
		cur_add(c, ++pos);		/* no alternative matched */
	}
}

/*
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * following llama.cpp's unicode_regex_split_custom_llama3.
 */
static void
split_llama3(piece_cursor *c)
{
	size_t		pos = c->ini;

	while (pos < c->end && c->st == LLM_OK)
	{
		uint32_t	cpt = cur_cpt(c, pos);
		uint16_t	flags = cur_flags(c, pos);
		uint16_t	flags2;
		size_t		num_ws;
		size_t		last_end_r_or_n;

		if (cpt == '\'' && pos + 1 < c->end)
		{
			uint32_t	next = llm_unicode_tolower(cur_cpt(c, pos + 1));

			if (next == 's' || next == 't' || next == 'm' || next == 'd')
			{
				pos += cur_add(c, pos + 2);
				continue;
			}
			if (pos + 2 < c->end)
			{
				uint32_t	next2 = llm_unicode_tolower(cur_cpt(c, pos + 2));

				if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') ||
					(next == 'l' && next2 == 'l'))
				{
					pos += cur_add(c, pos + 3);
					continue;
				}
			}
		}

		/* [^\r\n\p{L}\p{N}]?\p{L}+ */
		if (!(cpt == '\r' || cpt == '\n' || F_NUMBER(flags)))
		{
			if (F_LETTER(flags) || F_LETTER(cur_flags(c, pos + 1)))
			{
				pos++;
				while (F_LETTER(cur_flags(c, pos)))
					pos++;
				cur_add(c, pos);
				continue;
			}
		}

		/* \p{N}{1,3} */
		if (F_NUMBER(flags))
		{
			size_t		ini = pos;

			while (F_NUMBER(cur_flags(c, pos)))
			{
				if (++pos - ini >= 3)
				{
					cur_add(c, pos);
					ini = pos;
				}
			}
			cur_add(c, pos);
			continue;
		}

		/*
		 * <space>?[^\s\p{L}\p{N}]+[\r\n]*  (llama.cpp tests the first
		 * code point's own flags for "any flag" here, not flags2)
		 */
		flags2 = (cpt == ' ') ? cur_flags(c, pos + 1) : flags;
		if (!(flags2 & (LLM_CPT_WHITESPACE | LLM_CPT_LETTER | LLM_CPT_NUMBER)) && flags != 0)
		{
			uint32_t	cpt2;

			pos += (cpt == ' ');
			while (F_OTHER(flags2))
				flags2 = cur_flags(c, ++pos);
			cpt2 = cur_cpt(c, pos);
			while (cpt2 == '\r' || cpt2 == '\n')
				cpt2 = cur_cpt(c, ++pos);
			cur_add(c, pos);
			continue;
		}

		num_ws = 0;
		last_end_r_or_n = 0;
		while (F_WS(cur_flags(c, pos + num_ws)))
		{
			uint32_t	cpt2 = cur_cpt(c, pos + num_ws);

			if (cpt2 == '\r' || cpt2 == '\n')
				last_end_r_or_n = pos + num_ws + 1;
			num_ws++;
		}
		/* \s*[\r\n]+ */
		if (last_end_r_or_n > 0)
		{
			pos = last_end_r_or_n;
			cur_add(c, pos);
			continue;
		}
		/* \s+(?!\S) */
		if (num_ws > 1 && pos + num_ws < c->end)
		{
			pos += num_ws - 1;
			cur_add(c, pos);
			continue;
		}
		/* \s+ */
		if (num_ws > 0)
		{
			pos += num_ws;
			cur_add(c, pos);
			continue;
		}
		cur_add(c, ++pos);
	}
}

/* ---------- std::regex-style passes ---------- */

static inline bool
col_is_letter(uint32_t u)
{
	return u == 0xD2 || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z');
}

static inline bool
col_is_number(uint32_t u)
{
	return u == 0xD1 || (u >= '0' && u <= '9');
}

static inline bool
col_is_other(uint32_t u)
{
	return !unit_is_space(u) && !col_is_letter(u) && !col_is_number(u);
}

/*
 * The Qwen2 regex over collapsed units, with ECMAScript leftmost-first
 * alternation; returns the match length at p (0: no match):
 * (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|
 * [^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|
 * \s+(?!\S)|\s+
 */
static size_t
match_qwen2(const text_view *t, size_t p, size_t e)
{
	uint32_t	u0 = unit_collapsed(t, p);
	size_t		q;

	if (u0 == '\'' && p + 1 < e)
	{
		uint32_t	u1 = unit_collapsed(t, p + 1);

		if (u1 == 's' || u1 == 'S' || u1 == 't' || u1 == 'T' || u1 == 'm' || u1 == 'M' ||
			u1 == 'd' || u1 == 'D')
			return 2;
		if (p + 2 < e)
		{
			uint32_t	u2 = unit_collapsed(t, p + 2);
			bool		e2 = (u2 == 'e' || u2 == 'E');

			if (((u1 == 'r' || u1 == 'R') && e2) || ((u1 == 'v' || u1 == 'V') && e2) ||
				((u1 == 'l' || u1 == 'L') && (u2 == 'l' || u2 == 'L')))
				return 3;
		}
	}

	/* [^\r\n\p{L}\p{N}]?\p{L}+ : the optional char first, then without it */
	q = p;
	if (u0 != '\r' && u0 != '\n' && !col_is_letter(u0) && !col_is_number(u0) &&
		p + 1 < e && col_is_letter(unit_collapsed(t, p + 1)))
		q = p + 1;
	if (col_is_letter(unit_collapsed(t, q)))
	{
		while (q < e && col_is_letter(unit_collapsed(t, q)))
			q++;
		return q - p;
	}

	/* \p{N} */
	if (col_is_number(u0))
		return 1;

	/*  ?[^\s\p{L}\p{N}]+[\r\n]* */
	q = p;
	if (u0 == ' ' && p + 1 < e && col_is_other(unit_collapsed(t, p + 1)))
		q = p + 1;
	if (col_is_other(unit_collapsed(t, q)))
	{
		while (q < e && col_is_other(unit_collapsed(t, q)))
			q++;
		while (q < e && (unit_collapsed(t, q) == '\r' || unit_collapsed(t, q) == '\n'))
			q++;
		return q - p;
	}

	if (!unit_is_space(u0))
		return 0;				/* unreachable: every unit is one of the above */

	/*
	 * \s*[\r\n]+ : \s* takes the whole run and gives back until [\r\n]+ can
	 * match, i.e. the match ends just after the run's last \r or \n.
	 */
	{
		size_t		last_rn = 0;
		bool		have_rn = false;

		q = p;
		while (q < e && unit_is_space(unit_collapsed(t, q)))
		{
			uint32_t	u = unit_collapsed(t, q);

			if (u == '\r' || u == '\n')
			{
				last_rn = q;
				have_rn = true;
			}
			q++;
		}
		if (have_rn)
			return last_rn + 1 - p;
	}
	/* \s+(?!\S): all of the run at the piece's end, else all but its last */
	if (q == e)
		return q - p;
	if (q - p > 1)
		return q - 1 - p;
	return 1;					/* \s+ */
}

static size_t
match_simple(const pass *ps, const text_view *t, size_t p, size_t e)
{
	const unit_class *cls = ps->cls;
	bool		col = ps->collapsed;
	uint32_t	u0 = unit_at(t, p, col);
	size_t		q = p;

	switch (ps->kind)
	{
		case PASS_ONE:
			return class_has(cls, u0) ? 1 : 0;
		case PASS_DIGITS3:
			if (p + 3 <= e && class_has(cls, u0) && class_has(cls, unit_at(t, p + 1, col)) &&
				class_has(cls, unit_at(t, p + 2, col)))
				return 3;
			return 0;
		case PASS_SPACE_RUN:
		case PASS_BLANK_RUN:
			{
				/* greedy optional prefix, given back if the run cannot follow */
				bool		prefix = (ps->kind == PASS_SPACE_RUN) ? unit_is_space(u0) : (u0 == ' ');

				if (prefix && p + 1 < e && class_has(cls, unit_at(t, p + 1, col)))
					q = p + 1;
			}
			/* FALLTHROUGH */
		case PASS_RUN:
			if (!class_has(cls, unit_at(t, q, col)))
				return 0;
			while (q < e && class_has(cls, unit_at(t, q, col)))
				q++;
			return q - p;
		default:
			return 0;
	}
}

/* Split one piece [s, e) with a regex-style pass: matches and gaps. */
static llm_status
split_regex(const pass *ps, const text_view *t, size_t s, size_t e, seg_vec *out,
			llm_error *err)
{
	size_t		gap = s;
	size_t		pos = s;
	llm_status	st;

	if (ps->kind == PASS_TRAILING_SPACE)
	{
		/* \s+$ matches exactly the trailing whitespace run, if any */
		size_t		tail = e;

		while (tail > s && unit_is_space(unit_at(t, tail - 1, ps->collapsed)))
			tail--;
		if (tail > s && (st = seg_push(out, tail - s, err)) != LLM_OK)
			return st;
		if (tail < e && (st = seg_push(out, e - tail, err)) != LLM_OK)
			return st;
		return LLM_OK;
	}

	while (pos < e)
	{
		size_t		len = (ps->kind == PASS_QWEN2) ? match_qwen2(t, pos, e)
			: match_simple(ps, t, pos, e);

		if (len == 0)
		{
			pos++;
			continue;
		}
		if (pos > gap && (st = seg_push(out, pos - gap, err)) != LLM_OK)
			return st;
		if ((st = seg_push(out, len, err)) != LLM_OK)
			return st;
		pos += len;
		gap = pos;
	}
	if (gap < e && (st = seg_push(out, e - gap, err)) != LLM_OK)
		return st;
	return LLM_OK;
}

llm_status
llm_pretokenize(llm_pretok type, const uint32_t *cpts, const uint16_t *flags, size_t n,
				size_t **word_lens, size_t *n_words, llm_error *err)
{
	text_view	t = {cpts, flags};
	pass_list	passes;
	seg_vec		cur = {0};
	seg_vec		next = {0};
	llm_status	st;

	*word_lens = NULL;
	*n_words = 0;
	if (n == 0)
		return LLM_OK;

	passes_for(type, &passes);
	if ((st = seg_push(&cur, n, err)) != LLM_OK)
		return st;

	for (int k = 0; k < passes.n; k++)
	{
		const pass *ps = &passes.p[k];
		size_t		start = 0;

		next.n = 0;
		for (size_t i = 0; i < cur.n; i++)
		{
			size_t		end = start + cur.v[i];

			if (ps->kind == PASS_GPT2 || ps->kind == PASS_LLAMA3)
			{
				piece_cursor c = {&t, start, end, start, &next, err, LLM_OK};

				if (ps->kind == PASS_GPT2)
					split_gpt2(&c);
				else
					split_llama3(&c);
				st = c.st;
			}
			else
				st = split_regex(ps, &t, start, end, &next, err);
			if (st != LLM_OK)
				goto fail;
			start = end;
		}
		/* swap: the pieces just made are the input of the next pass */
		{
			seg_vec		tmp = cur;

			cur = next;
			next = tmp;
		}
	}

	llm_free(next.v);
	*word_lens = cur.v;
	*n_words = cur.n;
	return LLM_OK;

fail:
	llm_free(cur.v);
	llm_free(next.v);
	return st;
}
