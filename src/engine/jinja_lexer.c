/*
 * jinja_lexer.c — template text to tokens, following jinja2's lexer with
 * the settings llama-cpp-python uses:
 *
 *   - newlines (\r\n, \r, \n) are normalized to \n, and one trailing
 *     newline at the very end of the template is dropped
 *     (keep_trailing_newline=False);
 *   - "{%-" / "{{-" / "{#-" strip all whitespace before the tag, and
 *     "-%}" / "-}}" / "-#}" all whitespace after it;
 *   - trim_blocks: a block or comment tag swallows one newline after it;
 *   - lstrip_blocks: spaces and tabs from the start of a line up to a block
 *     or comment tag are removed ("{%+" turns that off, "+%}" turns off
 *     trim_blocks);
 *   - {% raw %}...{% endraw %} is passed through as text.
 *
 * "Whitespace" is Python's (str.isspace), as jinja2's regexes use it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

#define MAX_BALANCE 256

typedef struct lexer
{
	jinja_arena *arena;
	llm_error  *err;
	const char *s;
	size_t		n;
	size_t		pos;
	/* line tracking: line number of position line_pos */
	size_t		line_pos;
	int			line;
	bool		line_starting;
	jinja_token *toks;
	size_t		n_toks;
	size_t		cap;
	char		balance[MAX_BALANCE];
	int			n_balance;
} lexer;

static int
line_at(lexer *lx, size_t pos)
{
	if (pos < lx->line_pos)
	{
		lx->line_pos = 0;
		lx->line = 1;
	}
	for (size_t i = lx->line_pos; i < pos && i < lx->n; i++)
		if (lx->s[i] == '\n')
			lx->line++;
	lx->line_pos = pos;
	return lx->line;
}

static llm_status
lex_fail(lexer *lx, llm_status st, size_t pos, const char *what)
{
	llm_error_set(lx->err, st, "chat template syntax error: %s", what);
	llm_error_detail(lx->err, "at line %d of the template", line_at(lx, pos));
	return st;
}

static llm_status
lex_nomem(lexer *lx)
{
	if (lx->arena->over_limit)
		return llm_error_set(lx->err, LLM_ERR_LIMIT, "chat template is too large to compile");
	return llm_error_set(lx->err, LLM_ERR_NOMEM, "out of memory compiling the chat template");
}

static jinja_token *
push_token(lexer *lx, jinja_tok_kind kind, size_t pos)
{
	if (lx->n_toks == lx->cap)
	{
		size_t		ncap = lx->cap ? lx->cap * 2 : 256;
		jinja_token *nt = jinja_alloc_array(lx->arena, ncap, sizeof(jinja_token));

		if (nt == NULL)
			return NULL;
		if (lx->n_toks)
			memcpy(nt, lx->toks, lx->n_toks * sizeof(jinja_token));
		lx->toks = nt;
		lx->cap = ncap;
	}
	memset(&lx->toks[lx->n_toks], 0, sizeof(jinja_token));
	lx->toks[lx->n_toks].kind = kind;
	lx->toks[lx->n_toks].line = line_at(lx, pos);
	return &lx->toks[lx->n_toks++];
}

static llm_status
push_data(lexer *lx, size_t start, size_t end)
{
	jinja_token *t;

	if (end <= start)
		return LLM_OK;			/* jinja2 drops empty data */
	t = push_token(lx, JT_DATA, start);
	if (t == NULL)
		return lex_nomem(lx);
	t->text = jstr_make(lx->s + start, end - start);
	return LLM_OK;
}

/* Python-whitespace run starting at pos. */
static size_t
skip_ws(const lexer *lx, size_t pos)
{
	return pos + jinja_ws_prefix(lx->s + pos, lx->n - pos);
}

static bool
at(const lexer *lx, size_t pos, const char *lit)
{
	size_t		len = strlen(lit);

	return pos <= lx->n && lx->n - pos >= len && memcmp(lx->s + pos, lit, len) == 0;
}

/*
 * The text between the previous tag and a new one, after "-" stripping or
 * lstrip_blocks.  Returns the new end of the text.
 */
static size_t
strip_text(lexer *lx, size_t start, size_t end, char sign, bool lstrip_applies)
{
	if (sign == '-')
		return end - jinja_ws_suffix(lx->s + start, end - start);
	if (sign != '+' && lstrip_applies)
	{
		size_t		l_pos = start;

		for (size_t i = end; i > start; i--)
			if (lx->s[i - 1] == '\n')
			{
				l_pos = i;
				break;
			}
		if ((l_pos > start || lx->line_starting) && l_pos < end &&
			jinja_ws_prefix(lx->s + l_pos, end - l_pos) == end - l_pos)
			return l_pos;
	}
	return end;
}

/* (\d+_)*\d+ at pos: end of the match, or pos if none. */
static size_t
match_digits(const lexer *lx, size_t pos)
{
	size_t		p = pos;
	size_t		last_good = pos;

	while (p < lx->n && lx->s[p] >= '0' && lx->s[p] <= '9')
	{
		while (p < lx->n && lx->s[p] >= '0' && lx->s[p] <= '9')
			p++;
		last_good = p;
		if (p + 1 < lx->n && lx->s[p] == '_' && lx->s[p + 1] >= '0' && lx->s[p + 1] <= '9')
			p++;
		else
			break;
	}
	return last_good;
}

/* The exponent part e[+-]?digits at pos: end, or pos if none. */
static size_t
match_exponent(const lexer *lx, size_t pos)
{
	size_t		p = pos;
	size_t		e;

	if (p >= lx->n || (lx->s[p] != 'e' && lx->s[p] != 'E'))
		return pos;
	p++;
	if (p < lx->n && (lx->s[p] == '+' || lx->s[p] == '-'))
		p++;
	e = match_digits(lx, p);
	return e > p ? e : pos;
}

static size_t
copy_without_underscores(const char *s, size_t n, char *out, size_t outsz)
{
	size_t		k = 0;

	for (size_t i = 0; i < n && k + 1 < outsz; i++)
		if (s[i] != '_')
			out[k++] = s[i];
	out[k] = '\0';
	return k;
}

/* Float literal at pos (jinja2 float_re); returns end or pos. */
static size_t
match_float(const lexer *lx, size_t pos)
{
	size_t		d1,
				frac_end = 0,
				e;

	if (pos > 0 && lx->s[pos - 1] == '.')
		return pos;
	d1 = match_digits(lx, pos);
	if (d1 == pos)
		return pos;
	if (d1 < lx->n && lx->s[d1] == '.')
	{
		size_t		f = match_digits(lx, d1 + 1);

		if (f > d1 + 1)
			frac_end = f;
	}
	if (frac_end)
	{
		e = match_exponent(lx, frac_end);
		if (e > frac_end)
			return e;
	}
	e = match_exponent(lx, d1);
	if (e > d1)
		return e;
	if (frac_end)
		return frac_end;
	return pos;
}

static bool
is_digit_in_base(char c, int base)
{
	if (base == 2)
		return c == '0' || c == '1';
	if (base == 8)
		return c >= '0' && c <= '7';
	if (base == 16)
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	return c >= '0' && c <= '9';
}

/* (_?[digit])+ at pos for the base: end or pos. */
static size_t
match_based_digits(const lexer *lx, size_t pos, int base)
{
	size_t		p = pos;

	for (;;)
	{
		if (p < lx->n && is_digit_in_base(lx->s[p], base))
			p++;
		else if (p + 1 < lx->n && lx->s[p] == '_' && is_digit_in_base(lx->s[p + 1], base))
			p += 2;
		else
			break;
	}
	return p;
}

/* Integer literal at pos (jinja2 integer_re); end or pos; base in *base. */
static size_t
match_integer(const lexer *lx, size_t pos, int *base)
{
	char		c = lx->s[pos];

	if (c == '0' && pos + 1 < lx->n)
	{
		char		k = lx->s[pos + 1];
		int			b = 0;

		if (k == 'b' || k == 'B')
			b = 2;
		else if (k == 'o' || k == 'O')
			b = 8;
		else if (k == 'x' || k == 'X')
			b = 16;
		if (b)
		{
			size_t		e = match_based_digits(lx, pos + 2, b);

			if (e > pos + 2)
			{
				*base = b;
				return e;
			}
		}
	}
	*base = 10;
	if (c >= '1' && c <= '9')
		return match_based_digits(lx, pos + 1, 10);
	if (c == '0')
	{
		size_t		p = pos + 1;

		for (;;)
		{
			if (p < lx->n && lx->s[p] == '0')
				p++;
			else if (p + 1 < lx->n && lx->s[p] == '_' && lx->s[p + 1] == '0')
				p += 2;
			else
				break;
		}
		return p;
	}
	return pos;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode a string literal body as jinja2 does: Python "unicode-escape"
 * after "backslashreplace" (so non-ASCII text passes through unchanged).
 */
static llm_status
decode_string(lexer *lx, size_t start, size_t end, jstr *out)
{
	char	   *buf = jinja_alloc(lx->arena, end - start + 1);
	size_t		k = 0;
	size_t		i = start;
	const char *s = lx->s;

	if (buf == NULL)
		return lex_nomem(lx);
	while (i < end)
	{
		char		c = s[i];
		uint32_t	cp;
		int			ndig;

		if (c != '\\')
		{
			buf[k++] = c;
			i++;
			continue;
		}
		if (i + 1 >= end)
		{
			buf[k++] = c;
			i++;
			continue;
		}
		c = s[i + 1];
		i += 2;
		switch (c)
		{
			case '\n':
				continue;		/* line continuation */
			case '\\':
			case '\'':
			case '"':
				buf[k++] = c;
				continue;
			case 'a':
				buf[k++] = '\a';
				continue;
			case 'b':
				buf[k++] = '\b';
				continue;
			case 'f':
				buf[k++] = '\f';
				continue;
			case 'n':
				buf[k++] = '\n';
				continue;
			case 'r':
				buf[k++] = '\r';
				continue;
			case 't':
				buf[k++] = '\t';
				continue;
			case 'v':
				buf[k++] = '\v';
				continue;
			case 'x':
				ndig = 2;
				break;
			case 'u':
				ndig = 4;
				break;
			case 'U':
				ndig = 8;
				break;
			case 'N':
				return lex_fail(lx, LLM_ERR_UNSUPPORTED, i, "\\N{...} escapes in string literals are not supported");
			default:
				if (c >= '0' && c <= '7')
				{
					cp = (uint32_t) (c - '0');
					for (int d = 0; d < 2 && i < end && s[i] >= '0' && s[i] <= '7'; d++)
						cp = cp * 8 + (uint32_t) (s[i++] - '0');
					k += jinja_utf8_encode(cp, buf + k);
					continue;
				}
				if ((unsigned char) c >= 0x80)
				{
					/*
					 * backslashreplace turned the character into \xNN /
					 * \uNNNN / \UNNNNNNNN, whose backslash then pairs with
					 * ours as an escaped backslash: the result is a
					 * literal backslash followed by that spelling.
					 */
					size_t		j = i - 1;
					char		tmp[16];
					int			len;

					cp = jinja_utf8_next(s, end, &j);
					i = j;
					if (cp < 0x100)
						len = snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned) cp);
					else if (cp < 0x10000)
						len = snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned) cp);
					else
						len = snprintf(tmp, sizeof(tmp), "\\U%08x", (unsigned) cp);
					/* the output spelling is longer than the input: grow */
					{
						size_t		need = k + (size_t) len + (end - i) + 1;
						char	   *nb = jinja_alloc(lx->arena, need + 16);

						if (nb == NULL)
							return lex_nomem(lx);
						memcpy(nb, buf, k);
						buf = nb;
					}
					memcpy(buf + k, tmp, (size_t) len);
					k += (size_t) len;
					continue;
				}
				/* unknown escape: kept as written */
				buf[k++] = '\\';
				buf[k++] = c;
				continue;
		}
		/* \x, \u, \U: exactly ndig hex digits */
		cp = 0;
		for (int d = 0; d < ndig; d++)
		{
			int			h = (i < end) ? hexval(s[i]) : -1;

			if (h < 0)
				return lex_fail(lx, LLM_ERR_CORRUPT, i, "truncated \\x, \\u or \\U escape in a string literal");
			cp = cp * 16 + (uint32_t) h;
			i++;
		}
		if (cp > 0x10FFFF)
			return lex_fail(lx, LLM_ERR_CORRUPT, i, "illegal Unicode character in a string literal");
		if (cp >= 0xD800 && cp <= 0xDFFF)
			return lex_fail(lx, LLM_ERR_UNSUPPORTED, i, "surrogate code point in a string literal");
		k += jinja_utf8_encode(cp, buf + k);
	}
	out->p = buf;
	out->n = k;
	return LLM_OK;
}

static llm_status
lex_string(lexer *lx, size_t *pos, bool *matched)
{
	char		q = lx->s[*pos];
	size_t		i = *pos + 1;
	jinja_token *t;
	llm_status	st;

	*matched = false;
	while (i < lx->n && lx->s[i] != q)
	{
		if (lx->s[i] == '\\')
		{
			if (i + 1 >= lx->n)
				return LLM_OK;
			i += 2;
		}
		else
			i++;
	}
	if (i >= lx->n)
		return LLM_OK;			/* unterminated: not a string token */
	t = push_token(lx, JT_STRING, *pos);
	if (t == NULL)
		return lex_nomem(lx);
	st = decode_string(lx, *pos + 1, i, &t->text);
	if (st != LLM_OK)
		return st;
	*pos = i + 1;
	*matched = true;
	return LLM_OK;
}

static llm_status
lex_number(lexer *lx, size_t *pos, bool *matched)
{
	size_t		p = *pos;
	size_t		e = match_float(lx, p);
	char		tmp[128];
	jinja_token *t;

	*matched = false;
	if (e > p)
	{
		if (e - p >= sizeof(tmp))
			return lex_fail(lx, LLM_ERR_UNSUPPORTED, p, "number literal too long");
		copy_without_underscores(lx->s + p, e - p, tmp, sizeof(tmp));
		t = push_token(lx, JT_FLOAT, p);
		if (t == NULL)
			return lex_nomem(lx);
		t->fval = strtod(tmp, NULL);
		*pos = e;
		*matched = true;
		return LLM_OK;
	}
	else
	{
		int			base;
		size_t		start;
		uint64_t	v = 0;

		e = match_integer(lx, p, &base);
		if (e == p)
			return LLM_OK;
		start = (base == 10) ? p : p + 2;
		for (size_t i = start; i < e; i++)
		{
			int			d;

			if (lx->s[i] == '_')
				continue;
			d = hexval(lx->s[i]);
			if (v > (UINT64_C(0x7FFFFFFFFFFFFFFF) - (uint64_t) d) / (uint64_t) base)
				return lex_fail(lx, LLM_ERR_UNSUPPORTED, p, "integer literal too large");
			v = v * (uint64_t) base + (uint64_t) d;
		}
		t = push_token(lx, JT_INT, p);
		if (t == NULL)
			return lex_nomem(lx);
		t->ival = (int64_t) v;
		*pos = e;
		*matched = true;
		return LLM_OK;
	}
}

static llm_status
lex_operator(lexer *lx, size_t *pos, bool *matched)
{
	static const struct
	{
		const char *text;
		jinja_tok_kind kind;
	}			ops[] = {
		{"//", JT_FLOORDIV}, {"**", JT_POW}, {"==", JT_EQ}, {"!=", JT_NE},
		{">=", JT_GTEQ}, {"<=", JT_LTEQ},
		{"+", JT_ADD}, {"-", JT_SUB}, {"/", JT_DIV}, {"*", JT_MUL},
		{"%", JT_MOD}, {"~", JT_TILDE}, {"[", JT_LBRACKET}, {"]", JT_RBRACKET},
		{"(", JT_LPAREN}, {")", JT_RPAREN}, {"{", JT_LBRACE}, {"}", JT_RBRACE},
		{">", JT_GT}, {"<", JT_LT}, {"=", JT_ASSIGN}, {".", JT_DOT},
		{":", JT_COLON}, {"|", JT_PIPE}, {",", JT_COMMA}, {";", JT_SEMICOLON},
	};

	*matched = false;
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
	{
		const char *o = ops[k].text;
		jinja_token *t;
		char		c = o[0];

		if (!at(lx, *pos, o))
			continue;
		if (o[1] == '\0' && (c == '(' || c == '[' || c == '{'))
		{
			if (lx->n_balance >= MAX_BALANCE)
				return lex_fail(lx, LLM_ERR_LIMIT, *pos, "brackets nested too deeply");
			lx->balance[lx->n_balance++] = (c == '(') ? ')' : (c == '[') ? ']' : '}';
		}
		else if (o[1] == '\0' && (c == ')' || c == ']' || c == '}'))
		{
			if (lx->n_balance == 0)
				return lex_fail(lx, LLM_ERR_CORRUPT, *pos, "unexpected closing bracket");
			if (lx->balance[lx->n_balance - 1] != c)
				return lex_fail(lx, LLM_ERR_CORRUPT, *pos, "mismatched brackets");
			lx->n_balance--;
		}
		t = push_token(lx, ops[k].kind, *pos);
		if (t == NULL)
			return lex_nomem(lx);
		*pos += strlen(o);
		*matched = true;
		return LLM_OK;
	}
	return LLM_OK;
}

/* The inside of a {{ }} or {% %} tag, from pos up to and including its end. */
static llm_status
lex_tag(lexer *lx, bool is_block)
{
	size_t		p = lx->pos;
	llm_status	st;

	lx->n_balance = 0;
	for (;;)
	{
		size_t		end = 0;
		bool		matched;

		if (lx->n_balance == 0)
		{
			if (is_block)
			{
				if (at(lx, p, "+%}"))
					end = p + 3;
				else if (at(lx, p, "-%}"))
					end = skip_ws(lx, p + 3);
				else if (at(lx, p, "%}"))
				{
					end = p + 2;
					if (end < lx->n && lx->s[end] == '\n')
						end++;		/* trim_blocks */
				}
			}
			else
			{
				if (at(lx, p, "-}}"))
					end = skip_ws(lx, p + 3);
				else if (at(lx, p, "}}"))
					end = p + 2;
			}
			if (end)
			{
				if (push_token(lx, is_block ? JT_BLOCK_END : JT_VAR_END, p) == NULL)
					return lex_nomem(lx);
				lx->line_starting = lx->s[end - 1] == '\n';
				lx->pos = end;
				return LLM_OK;
			}
		}
		if (p >= lx->n)
			return lex_fail(lx, LLM_ERR_CORRUPT, p,
							is_block ? "unexpected end of template, expected '%}'"
							: "unexpected end of template, expected '}}'");
		{
			size_t		w = skip_ws(lx, p);

			if (w > p)
			{
				p = w;
				continue;
			}
		}
		{
			char		c = lx->s[p];

			if (c >= '0' && c <= '9')
			{
				st = lex_number(lx, &p, &matched);
				if (st != LLM_OK)
					return st;
				if (matched)
					continue;
			}
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			{
				size_t		e = p + 1;
				jinja_token *t;

				while (e < lx->n && ((lx->s[e] >= 'a' && lx->s[e] <= 'z') ||
									 (lx->s[e] >= 'A' && lx->s[e] <= 'Z') ||
									 (lx->s[e] >= '0' && lx->s[e] <= '9') ||
									 lx->s[e] == '_'))
					e++;
				t = push_token(lx, JT_NAME, p);
				if (t == NULL)
					return lex_nomem(lx);
				t->text = jstr_make(lx->s + p, e - p);
				p = e;
				continue;
			}
			if (c == '\'' || c == '"')
			{
				st = lex_string(lx, &p, &matched);
				if (st != LLM_OK)
					return st;
				if (matched)
					continue;
			}
			st = lex_operator(lx, &p, &matched);
			if (st != LLM_OK)
				return st;
			if (matched)
				continue;
			if ((unsigned char) c >= 0x80)
				return lex_fail(lx, LLM_ERR_UNSUPPORTED, p, "non-ASCII character inside a tag");
			return lex_fail(lx, LLM_ERR_CORRUPT, p, "unexpected character inside a tag");
		}
	}
}

/*
 * {% raw %} at tag_start (already known to match): emit the raw text up
 * to {% endraw %} as data.
 */
static llm_status
lex_raw(lexer *lx, size_t body_start)
{
	size_t		i = body_start;

	for (;; i++)
	{
		size_t		p,
					end = 0;
		char		sign = 0;
		size_t		data_end;
		llm_status	st;

		if (i + 1 >= lx->n)
			return lex_fail(lx, LLM_ERR_CORRUPT, body_start, "missing end of raw directive");
		if (lx->s[i] != '{' || lx->s[i + 1] != '%')
			continue;
		p = i + 2;
		if (p < lx->n && (lx->s[p] == '-' || lx->s[p] == '+'))
			sign = lx->s[p++];
		p = skip_ws(lx, p);
		if (!at(lx, p, "endraw"))
			continue;
		p = skip_ws(lx, p + 6);
		if (at(lx, p, "+%}"))
			end = p + 3;
		else if (at(lx, p, "-%}"))
			end = skip_ws(lx, p + 3);
		else if (at(lx, p, "%}"))
		{
			end = p + 2;
			if (end < lx->n && lx->s[end] == '\n')
				end++;
		}
		if (!end)
			continue;
		data_end = strip_text(lx, body_start, i, sign, true);
		st = push_data(lx, body_start, data_end);
		if (st != LLM_OK)
			return st;
		lx->line_starting = lx->s[end - 1] == '\n';
		lx->pos = end;
		return LLM_OK;
	}
}

/* If a {% raw %} tag starts at p (after "{%" and sign), its end; else 0. */
static size_t
match_raw_begin(const lexer *lx, size_t p)
{
	p = skip_ws(lx, p);
	if (!at(lx, p, "raw"))
		return 0;
	p = skip_ws(lx, p + 3);
	if (at(lx, p, "-%}"))
		return skip_ws(lx, p + 3);
	if (at(lx, p, "%}"))
		return p + 2;
	return 0;
}

/* Normalize newlines and drop one trailing newline (see the header). */
static char *
normalize_source(jinja_arena *a, const char *src, size_t len, size_t *out_len)
{
	char	   *buf = jinja_alloc(a, len + 1);
	size_t		k = 0;

	if (buf == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
	{
		if (src[i] == '\r')
		{
			buf[k++] = '\n';
			if (i + 1 < len && src[i + 1] == '\n')
				i++;
		}
		else
			buf[k++] = src[i];
	}
	if (k > 0 && buf[k - 1] == '\n')
		k--;
	buf[k] = '\0';
	*out_len = k;
	return buf;
}

llm_status
jinja_lex(jinja_arena *a, const char *src, size_t len,
		  jinja_token **toks, size_t *n_toks, llm_error *err)
{
	lexer		lx;
	llm_status	st;

	memset(&lx, 0, sizeof(lx));
	lx.arena = a;
	lx.err = err;
	lx.line = 1;
	lx.line_starting = true;
	lx.s = normalize_source(a, src, len, &lx.n);
	if (lx.s == NULL)
		return lex_nomem(&lx);

	while (lx.pos < lx.n)
	{
		size_t		tag = lx.pos;
		char		kind = 0;
		char		sign = 0;
		size_t		p;
		size_t		text_end;
		size_t		raw_end = 0;

		while (tag + 1 < lx.n)
		{
			if (lx.s[tag] == '{' &&
				(lx.s[tag + 1] == '{' || lx.s[tag + 1] == '%' || lx.s[tag + 1] == '#'))
			{
				kind = lx.s[tag + 1];
				break;
			}
			tag++;
		}
		if (!kind)
		{
			st = push_data(&lx, lx.pos, lx.n);
			if (st != LLM_OK)
				return st;
			break;
		}
		p = tag + 2;
		if (p < lx.n && (lx.s[p] == '-' || lx.s[p] == '+'))
			sign = lx.s[p++];
		if (kind == '%')
			raw_end = match_raw_begin(&lx, p);

		text_end = strip_text(&lx, lx.pos, tag, sign, kind != '{');
		st = push_data(&lx, lx.pos, text_end);
		if (st != LLM_OK)
			return st;

		/*
		 * jinja2 quirk: an unclosed comment or raw block with nothing at
		 * all after its opening tag ends the template without an error
		 * (its lexer runs out of input before its "missing end" rule can
		 * match a character).
		 */
		if ((raw_end && raw_end >= lx.n) || (kind == '#' && p >= lx.n))
			break;
		if (raw_end)
		{
			lx.line_starting = lx.s[raw_end - 1] == '\n';
			st = lex_raw(&lx, raw_end);
			if (st != LLM_OK)
				return st;
			continue;
		}
		if (kind == '#')
		{
			/* comment: up to the first "#}", with its own -/+ control */
			size_t		j = p;
			size_t		end;

			while (j + 1 < lx.n && !(lx.s[j] == '#' && lx.s[j + 1] == '}'))
				j++;
			if (j + 1 >= lx.n)
				return lex_fail(&lx, LLM_ERR_CORRUPT, tag, "missing end of comment tag");
			end = j + 2;
			if (j > p && lx.s[j - 1] == '-')
				end = skip_ws(&lx, end);
			else if (j > p && lx.s[j - 1] == '+')
				;
			else if (end < lx.n && lx.s[end] == '\n')
				end++;			/* trim_blocks applies to comments too */
			lx.line_starting = lx.s[end - 1] == '\n';
			lx.pos = end;
			continue;
		}
		if (push_token(&lx, kind == '%' ? JT_BLOCK_BEGIN : JT_VAR_BEGIN, tag) == NULL)
			return lex_nomem(&lx);
		lx.line_starting = false;
		lx.pos = p;
		st = lex_tag(&lx, kind == '%');
		if (st != LLM_OK)
			return st;
	}
	if (push_token(&lx, JT_EOF, lx.n) == NULL)
		return lex_nomem(&lx);
	*toks = lx.toks;
	*n_toks = lx.n_toks;
	return LLM_OK;
}

const char *
jinja_tok_name(jinja_tok_kind k)
{
	switch (k)
	{
		case JT_EOF:
			return "end of template";
		case JT_DATA:
			return "template data";
		case JT_VAR_BEGIN:
			return "'{{'";
		case JT_VAR_END:
			return "'}}'";
		case JT_BLOCK_BEGIN:
			return "'{%'";
		case JT_BLOCK_END:
			return "'%}'";
		case JT_NAME:
			return "name";
		case JT_STRING:
			return "string";
		case JT_INT:
			return "integer";
		case JT_FLOAT:
			return "float";
		case JT_ADD:
			return "'+'";
		case JT_SUB:
			return "'-'";
		case JT_DIV:
			return "'/'";
		case JT_FLOORDIV:
			return "'//'";
		case JT_MUL:
			return "'*'";
		case JT_MOD:
			return "'%'";
		case JT_POW:
			return "'**'";
		case JT_TILDE:
			return "'~'";
		case JT_LBRACKET:
			return "'['";
		case JT_RBRACKET:
			return "']'";
		case JT_LPAREN:
			return "'('";
		case JT_RPAREN:
			return "')'";
		case JT_LBRACE:
			return "'{'";
		case JT_RBRACE:
			return "'}'";
		case JT_EQ:
			return "'=='";
		case JT_NE:
			return "'!='";
		case JT_GT:
			return "'>'";
		case JT_GTEQ:
			return "'>='";
		case JT_LT:
			return "'<'";
		case JT_LTEQ:
			return "'<='";
		case JT_ASSIGN:
			return "'='";
		case JT_DOT:
			return "'.'";
		case JT_COLON:
			return "':'";
		case JT_PIPE:
			return "'|'";
		case JT_COMMA:
			return "','";
		case JT_SEMICOLON:
			return "';'";
	}
	return "token";
}
