/*
 * jinja_parser.c — tokens to AST, a recursive-descent parser shaped like
 * jinja2's (same precedence, same statement grammar), so the templates
 * parse the way jinja2 parses them:
 *
 *   expr     := or ['if' or ['else' expr]]
 *   or       := and ('or' and)*          and := not ('and' not)*
 *   not      := 'not' not | compare
 *   compare  := math1 (('=='|'!='|'<'|...|'in'|'not in') math1)*
 *   math1    := concat (('+'|'-') concat)*     concat := math2 ('~' math2)*
 *   math2    := pow (('*'|'/'|'//'|'%') pow)*  pow := unary ('**' unary)*
 *   unary    := ('-'|'+') unary | primary postfix*  then filters / tests
 *
 * Statements: if/elif/else, for (with tuple targets, an inline "if"
 * filter and an else branch), set (name, ns.attr, tuples, block form),
 * macro, with, filter blocks, break/continue (loopcontrols), print, and
 * llama-cpp-python's {% generation %} pass-through.  Tags jinja2 knows but
 * chat templates have no use for (extends, block, include, import, call,
 * autoescape) are rejected as LLM_ERR_UNSUPPORTED, naming the tag.
 *
 * Like jinja2, an unknown filter or test name is a compile-time error.
 */
#include <stdio.h>
#include <string.h>

#include "jinja.h"

typedef struct parser
{
	jinja_template *t;
	jinja_arena *arena;
	llm_error  *err;
	const jinja_token *toks;
	size_t		n;
	size_t		i;
	int			depth;
} parser;

static llm_status parse_expression(parser *p, bool with_condexpr, jinja_node **out);
static llm_status parse_tuple(parser *p, bool simplified, bool with_condexpr,
							  const char *extra_end, bool explicit_parens, jinja_node **out);
static llm_status parse_unary(parser *p, bool with_filter, jinja_node **out);
static llm_status parse_primary(parser *p, jinja_node **out);
static llm_status parse_postfix(parser *p, jinja_node **node);
static llm_status parse_filter_expr(parser *p, jinja_node **node);
static llm_status parse_filter(parser *p, jinja_node **node, bool start_inline);
static llm_status subparse(parser *p, const char *const *end_tokens, jinja_nodelist *body);

static const jinja_token *
cur(const parser *p)
{
	return &p->toks[p->i < p->n ? p->i : p->n - 1];
}

static const jinja_token *
look(const parser *p)
{
	size_t		k = p->i + 1;

	return &p->toks[k < p->n ? k : p->n - 1];
}

static void
advance(parser *p)
{
	if (p->i < p->n - 1)
		p->i++;
}

static bool
is_name(const jinja_token *t, const char *name)
{
	return t->kind == JT_NAME && jstr_eq_c(t->text, name);
}

static llm_status
fail_at(parser *p, llm_status st, const jinja_token *t, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static llm_status
fail_at(parser *p, llm_status st, const jinja_token *t, const char *fmt,...)
{
	char		msg[LLM_ERROR_MSG_LEN];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	llm_error_set(p->err, st, "%s%s",
				  st == LLM_ERR_UNSUPPORTED ? "chat template uses an unsupported feature: " :
				  "chat template syntax error: ", msg);
	llm_error_detail(p->err, "at line %d of the template", t->line);
	return st;
}

static llm_status
nomem(parser *p)
{
	if (p->arena->over_limit)
		return llm_error_set(p->err, LLM_ERR_LIMIT, "chat template is too large to compile");
	return llm_error_set(p->err, LLM_ERR_NOMEM, "out of memory compiling the chat template");
}

static llm_status
expect(parser *p, jinja_tok_kind k)
{
	const jinja_token *t = cur(p);

	if (t->kind != k)
	{
		if (t->kind == JT_NAME)
			return fail_at(p, LLM_ERR_CORRUPT, t, "expected %s, got '%.*s'",
						   jinja_tok_name(k), (int) (t->text.n > 40 ? 40 : t->text.n), t->text.p);
		return fail_at(p, LLM_ERR_CORRUPT, t, "expected %s, got %s",
					   jinja_tok_name(k), jinja_tok_name(t->kind));
	}
	advance(p);
	return LLM_OK;
}

static llm_status
expect_name(parser *p, jstr *out)
{
	const jinja_token *t = cur(p);

	if (t->kind != JT_NAME)
		return fail_at(p, LLM_ERR_CORRUPT, t, "expected a name, got %s", jinja_tok_name(t->kind));
	*out = t->text;
	advance(p);
	return LLM_OK;
}

static jinja_node *
new_node(parser *p, jinja_node_kind kind, int line)
{
	jinja_node *n = jinja_alloc(p->arena, sizeof(jinja_node));

	if (n)
	{
		n->kind = kind;
		n->line = line;
	}
	return n;
}

/* Growable arrays in the arena (old storage is simply abandoned). */
static bool
grow(parser *p, void **arr, size_t n, size_t elem)
{
	/* capacities are powers of two: grow when n reaches one */
	if (n == 0 || (n & (n - 1)) == 0)
	{
		size_t		ncap = n ? n * 2 : 4;
		void	   *na = jinja_alloc_array(p->arena, ncap, elem);

		if (na == NULL)
			return false;
		if (n)
			memcpy(na, *arr, n * elem);
		*arr = na;
	}
	return true;
}

static llm_status
list_push(parser *p, jinja_nodelist *l, jinja_node *node)
{
	if (!grow(p, (void **) &l->v, l->n, sizeof(jinja_node *)))
		return nomem(p);
	l->v[l->n++] = node;
	return LLM_OK;
}

static llm_status
name_push(parser *p, jstr **arr, size_t *n, jstr name)
{
	if (!grow(p, (void **) arr, *n, sizeof(jstr)))
		return nomem(p);
	(*arr)[(*n)++] = name;
	return LLM_OK;
}

static llm_status
enter(parser *p)
{
	if (++p->depth > JINJA_MAX_PARSE_DEPTH)
		return fail_at(p, LLM_ERR_LIMIT, cur(p), "template nested too deeply");
	return LLM_OK;
}

/* ---------- expressions ---------- */

/* (args, name=value, ...) after the callee; current token is '(' */
static llm_status
parse_call_args(parser *p, jinja_node *call)
{
	llm_status	st;
	bool		require_comma = false;

	if ((st = expect(p, JT_LPAREN)) != LLM_OK)
		return st;
	while (cur(p)->kind != JT_RPAREN)
	{
		jinja_node *arg;

		if (require_comma)
		{
			if ((st = expect(p, JT_COMMA)) != LLM_OK)
				return st;
			if (cur(p)->kind == JT_RPAREN)
				break;
		}
		if (cur(p)->kind == JT_MUL || cur(p)->kind == JT_POW)
			return fail_at(p, LLM_ERR_UNSUPPORTED, cur(p), "*args / **kwargs in calls");
		if (cur(p)->kind == JT_NAME && look(p)->kind == JT_ASSIGN)
		{
			jstr		key = cur(p)->text;

			advance(p);
			advance(p);
			if ((st = parse_expression(p, true, &arg)) != LLM_OK)
				return st;
			if ((st = name_push(p, &call->kwnames, &call->n_kw, key)) != LLM_OK)
				return st;
			if ((st = list_push(p, &call->values, arg)) != LLM_OK)
				return st;
		}
		else
		{
			if (call->n_kw > 0)
				return fail_at(p, LLM_ERR_CORRUPT, cur(p), "positional argument follows keyword argument");
			if ((st = parse_expression(p, true, &arg)) != LLM_OK)
				return st;
			if ((st = list_push(p, &call->items, arg)) != LLM_OK)
				return st;
		}
		require_comma = true;
	}
	return expect(p, JT_RPAREN);
}

static llm_status
parse_subscribed(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *args[3] = {NULL, NULL, NULL};
	int			line = cur(p)->line;
	jinja_node *slice;

	if (cur(p)->kind == JT_COLON)
		advance(p);
	else
	{
		jinja_node *node;

		if ((st = parse_expression(p, true, &node)) != LLM_OK)
			return st;
		if (cur(p)->kind != JT_COLON)
		{
			*out = node;
			return LLM_OK;
		}
		advance(p);
		args[0] = node;
	}
	if (cur(p)->kind != JT_COLON && cur(p)->kind != JT_RBRACKET && cur(p)->kind != JT_COMMA)
	{
		if ((st = parse_expression(p, true, &args[1])) != LLM_OK)
			return st;
	}
	if (cur(p)->kind == JT_COLON)
	{
		advance(p);
		if (cur(p)->kind != JT_RBRACKET && cur(p)->kind != JT_COMMA)
		{
			if ((st = parse_expression(p, true, &args[2])) != LLM_OK)
				return st;
		}
	}
	slice = new_node(p, JN_SLICE, line);
	if (slice == NULL)
		return nomem(p);
	slice->a = args[0];
	slice->b = args[1];
	slice->c = args[2];
	*out = slice;
	return LLM_OK;
}

static llm_status
parse_subscript(parser *p, jinja_node **node)
{
	const jinja_token *t = cur(p);
	llm_status	st;
	jinja_node *n;

	if (t->kind == JT_DOT)
	{
		const jinja_token *a;

		advance(p);
		a = cur(p);
		if (a->kind == JT_NAME)
		{
			n = new_node(p, JN_GETATTR, t->line);
			if (n == NULL)
				return nomem(p);
			n->a = *node;
			n->name = a->text;
			advance(p);
			*node = n;
			return LLM_OK;
		}
		if (a->kind != JT_INT)
			return fail_at(p, LLM_ERR_CORRUPT, a, "expected name or number after '.'");
		n = new_node(p, JN_GETITEM, t->line);
		if (n == NULL || (n->b = new_node(p, JN_CONST, a->line)) == NULL)
			return nomem(p);
		n->a = *node;
		n->b->val = jv_int(a->ival);
		advance(p);
		*node = n;
		return LLM_OK;
	}
	/* '[' */
	{
		jinja_nodelist args = {NULL, 0};

		advance(p);
		while (cur(p)->kind != JT_RBRACKET)
		{
			jinja_node *arg = NULL;

			if (args.n > 0 && (st = expect(p, JT_COMMA)) != LLM_OK)
				return st;
			if ((st = parse_subscribed(p, &arg)) != LLM_OK)
				return st;
			if ((st = list_push(p, &args, arg)) != LLM_OK)
				return st;
		}
		if ((st = expect(p, JT_RBRACKET)) != LLM_OK)
			return st;
		n = new_node(p, JN_GETITEM, t->line);
		if (n == NULL)
			return nomem(p);
		n->a = *node;
		if (args.n == 1)
			n->b = args.v[0];
		else
		{
			/* x[a, b] indexes with a tuple; x[] with the empty tuple */
			n->b = new_node(p, JN_TUPLE, t->line);
			if (n->b == NULL)
				return nomem(p);
			n->b->items = args;
		}
		*node = n;
		return LLM_OK;
	}
}

static llm_status
parse_call(parser *p, jinja_node **node)
{
	jinja_node *n = new_node(p, JN_CALL, cur(p)->line);

	if (n == NULL)
		return nomem(p);
	n->a = *node;
	*node = n;
	return parse_call_args(p, n);
}

static llm_status
parse_postfix(parser *p, jinja_node **node)
{
	llm_status	st;

	for (;;)
	{
		jinja_tok_kind k = cur(p)->kind;

		if (k == JT_DOT || k == JT_LBRACKET)
			st = parse_subscript(p, node);
		else if (k == JT_LPAREN)
			st = parse_call(p, node);
		else
			return LLM_OK;
		if (st != LLM_OK)
			return st;
	}
}

/* filter or test name, possibly dotted */
static llm_status
parse_dotted_name(parser *p, jstr *name)
{
	llm_status	st = expect_name(p, name);

	if (st != LLM_OK)
		return st;
	if (cur(p)->kind == JT_DOT)
		return fail_at(p, LLM_ERR_UNSUPPORTED, cur(p), "dotted filter or test names");
	return LLM_OK;
}

static llm_status
parse_filter(parser *p, jinja_node **node, bool start_inline)
{
	llm_status	st;

	while (cur(p)->kind == JT_PIPE || start_inline)
	{
		jinja_node *f;

		if (!start_inline)
			advance(p);
		f = new_node(p, JN_FILTER, cur(p)->line);
		if (f == NULL)
			return nomem(p);
		if ((st = parse_dotted_name(p, &f->name)) != LLM_OK)
			return st;
		if (cur(p)->kind == JT_LPAREN && (st = parse_call_args(p, f)) != LLM_OK)
			return st;
		f->a = *node;
		*node = f;
		start_inline = false;
	}
	return LLM_OK;
}

static llm_status
parse_test(parser *p, jinja_node **node)
{
	llm_status	st;
	const jinja_token *is_tok = cur(p);
	bool		negated = false;
	jinja_node *tn;

	advance(p);					/* 'is' */
	if (is_name(cur(p), "not"))
	{
		advance(p);
		negated = true;
	}
	tn = new_node(p, JN_TEST, is_tok->line);
	if (tn == NULL)
		return nomem(p);
	if ((st = parse_dotted_name(p, &tn->name)) != LLM_OK)
		return st;
	tn->a = *node;
	if (cur(p)->kind == JT_LPAREN)
	{
		if ((st = parse_call_args(p, tn)) != LLM_OK)
			return st;
	}
	else
	{
		jinja_tok_kind k = cur(p)->kind;

		if ((k == JT_NAME || k == JT_STRING || k == JT_INT || k == JT_FLOAT ||
			 k == JT_LPAREN || k == JT_LBRACKET || k == JT_LBRACE) &&
			!is_name(cur(p), "else") && !is_name(cur(p), "or") && !is_name(cur(p), "and"))
		{
			jinja_node *arg;

			if (is_name(cur(p), "is"))
				return fail_at(p, LLM_ERR_CORRUPT, cur(p), "you cannot chain multiple tests with is");
			if ((st = parse_primary(p, &arg)) != LLM_OK)
				return st;
			if ((st = parse_postfix(p, &arg)) != LLM_OK)
				return st;
			if ((st = list_push(p, &tn->items, arg)) != LLM_OK)
				return st;
		}
	}
	if (negated)
	{
		jinja_node *n = new_node(p, JN_NOT, is_tok->line);

		if (n == NULL)
			return nomem(p);
		n->a = tn;
		tn = n;
	}
	*node = tn;
	return LLM_OK;
}

static llm_status
parse_filter_expr(parser *p, jinja_node **node)
{
	llm_status	st;

	for (;;)
	{
		const jinja_token *t = cur(p);

		if (t->kind == JT_PIPE)
			st = parse_filter(p, node, false);
		else if (is_name(t, "is"))
			st = parse_test(p, node);
		else if (t->kind == JT_LPAREN)
			st = parse_call(p, node);
		else
			return LLM_OK;
		if (st != LLM_OK)
			return st;
	}
}

static llm_status
parse_list(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *n = new_node(p, JN_LIST, cur(p)->line);

	if (n == NULL)
		return nomem(p);
	advance(p);					/* '[' */
	while (cur(p)->kind != JT_RBRACKET)
	{
		jinja_node *item;

		if (n->items.n > 0 && (st = expect(p, JT_COMMA)) != LLM_OK)
			return st;
		if (cur(p)->kind == JT_RBRACKET)
			break;
		if ((st = parse_expression(p, true, &item)) != LLM_OK)
			return st;
		if ((st = list_push(p, &n->items, item)) != LLM_OK)
			return st;
	}
	*out = n;
	return expect(p, JT_RBRACKET);
}

static llm_status
parse_dict(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *n = new_node(p, JN_DICT, cur(p)->line);

	if (n == NULL)
		return nomem(p);
	advance(p);					/* '{' */
	while (cur(p)->kind != JT_RBRACE)
	{
		jinja_node *key,
				   *val;

		if (n->items.n > 0 && (st = expect(p, JT_COMMA)) != LLM_OK)
			return st;
		if (cur(p)->kind == JT_RBRACE)
			break;
		if ((st = parse_expression(p, true, &key)) != LLM_OK)
			return st;
		if ((st = expect(p, JT_COLON)) != LLM_OK)
			return st;
		if ((st = parse_expression(p, true, &val)) != LLM_OK)
			return st;
		if ((st = list_push(p, &n->items, key)) != LLM_OK ||
			(st = list_push(p, &n->values, val)) != LLM_OK)
			return st;
	}
	*out = n;
	return expect(p, JT_RBRACE);
}

static llm_status
parse_primary(parser *p, jinja_node **out)
{
	const jinja_token *t = cur(p);
	jinja_node *n;
	llm_status	st;

	if ((st = enter(p)) != LLM_OK)
		return st;
	switch (t->kind)
	{
		case JT_NAME:
			n = new_node(p, JN_CONST, t->line);
			if (n == NULL)
				return nomem(p);
			if (jstr_eq_c(t->text, "true") || jstr_eq_c(t->text, "True"))
				n->val = jv_bool(true);
			else if (jstr_eq_c(t->text, "false") || jstr_eq_c(t->text, "False"))
				n->val = jv_bool(false);
			else if (jstr_eq_c(t->text, "none") || jstr_eq_c(t->text, "None"))
				n->val = jv_none();
			else
			{
				n->kind = JN_NAME;
				n->name = t->text;
			}
			advance(p);
			break;
		case JT_STRING:
			{
				/* adjacent string literals concatenate */
				size_t		total = 0;
				size_t		k = p->i;
				char	   *buf;

				while (k < p->n && p->toks[k].kind == JT_STRING)
					total += p->toks[k++].text.n;
				n = new_node(p, JN_CONST, t->line);
				buf = jinja_alloc(p->arena, total + 1);
				if (n == NULL || buf == NULL)
					return nomem(p);
				total = 0;
				while (cur(p)->kind == JT_STRING)
				{
					if (cur(p)->text.n)
						memcpy(buf + total, cur(p)->text.p, cur(p)->text.n);
					total += cur(p)->text.n;
					advance(p);
				}
				n->val = jv_str(jstr_make(buf, total));
				break;
			}
		case JT_INT:
		case JT_FLOAT:
			n = new_node(p, JN_CONST, t->line);
			if (n == NULL)
				return nomem(p);
			n->val = t->kind == JT_INT ? jv_int(t->ival) : jv_float(t->fval);
			advance(p);
			break;
		case JT_LPAREN:
			advance(p);
			if ((st = parse_tuple(p, false, true, NULL, true, &n)) != LLM_OK)
				return st;
			if ((st = expect(p, JT_RPAREN)) != LLM_OK)
				return st;
			break;
		case JT_LBRACKET:
			if ((st = parse_list(p, &n)) != LLM_OK)
				return st;
			break;
		case JT_LBRACE:
			if ((st = parse_dict(p, &n)) != LLM_OK)
				return st;
			break;
		default:
			return fail_at(p, LLM_ERR_CORRUPT, t, "unexpected %s", jinja_tok_name(t->kind));
	}
	p->depth--;
	*out = n;
	return LLM_OK;
}

static llm_status
parse_unary(parser *p, bool with_filter, jinja_node **out)
{
	const jinja_token *t = cur(p);
	llm_status	st;
	jinja_node *node;

	if ((st = enter(p)) != LLM_OK)
		return st;
	if (t->kind == JT_SUB || t->kind == JT_ADD)
	{
		jinja_node *operand;

		advance(p);
		if ((st = parse_unary(p, false, &operand)) != LLM_OK)
			return st;
		node = new_node(p, t->kind == JT_SUB ? JN_NEG : JN_POS, t->line);
		if (node == NULL)
			return nomem(p);
		node->a = operand;
	}
	else if ((st = parse_primary(p, &node)) != LLM_OK)
		return st;
	if ((st = parse_postfix(p, &node)) != LLM_OK)
		return st;
	if (with_filter && (st = parse_filter_expr(p, &node)) != LLM_OK)
		return st;
	p->depth--;
	*out = node;
	return LLM_OK;
}

static llm_status
make_binop(parser *p, jinja_op op, int line, jinja_node *a, jinja_node *b, jinja_node **out)
{
	jinja_node *n = new_node(p, JN_BINOP, line);

	if (n == NULL)
		return nomem(p);
	n->op = op;
	n->a = a;
	n->b = b;
	*out = n;
	return LLM_OK;
}

static llm_status
parse_pow(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *left;

	if ((st = parse_unary(p, true, &left)) != LLM_OK)
		return st;
	while (cur(p)->kind == JT_POW)
	{
		int			line = cur(p)->line;
		jinja_node *right;

		advance(p);
		if ((st = parse_unary(p, true, &right)) != LLM_OK)
			return st;
		if ((st = make_binop(p, JOP_POW, line, left, right, &left)) != LLM_OK)
			return st;
	}
	*out = left;
	return LLM_OK;
}

static llm_status
parse_math2(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *left;

	if ((st = parse_pow(p, &left)) != LLM_OK)
		return st;
	for (;;)
	{
		jinja_tok_kind k = cur(p)->kind;
		int			line = cur(p)->line;
		jinja_op	op;
		jinja_node *right;

		if (k == JT_MUL)
			op = JOP_MUL;
		else if (k == JT_DIV)
			op = JOP_DIV;
		else if (k == JT_FLOORDIV)
			op = JOP_FLOORDIV;
		else if (k == JT_MOD)
			op = JOP_MOD;
		else
			break;
		advance(p);
		if ((st = parse_pow(p, &right)) != LLM_OK)
			return st;
		if ((st = make_binop(p, op, line, left, right, &left)) != LLM_OK)
			return st;
	}
	*out = left;
	return LLM_OK;
}

static llm_status
parse_concat(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *first;
	jinja_node *n;

	if ((st = parse_math2(p, &first)) != LLM_OK)
		return st;
	if (cur(p)->kind != JT_TILDE)
	{
		*out = first;
		return LLM_OK;
	}
	n = new_node(p, JN_CONCAT, cur(p)->line);
	if (n == NULL)
		return nomem(p);
	if ((st = list_push(p, &n->items, first)) != LLM_OK)
		return st;
	while (cur(p)->kind == JT_TILDE)
	{
		jinja_node *next;

		advance(p);
		if ((st = parse_math2(p, &next)) != LLM_OK)
			return st;
		if ((st = list_push(p, &n->items, next)) != LLM_OK)
			return st;
	}
	*out = n;
	return LLM_OK;
}

static llm_status
parse_math1(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *left;

	if ((st = parse_concat(p, &left)) != LLM_OK)
		return st;
	for (;;)
	{
		jinja_tok_kind k = cur(p)->kind;
		int			line = cur(p)->line;
		jinja_node *right;

		if (k != JT_ADD && k != JT_SUB)
			break;
		advance(p);
		if ((st = parse_concat(p, &right)) != LLM_OK)
			return st;
		if ((st = make_binop(p, k == JT_ADD ? JOP_ADD : JOP_SUB, line, left, right, &left)) != LLM_OK)
			return st;
	}
	*out = left;
	return LLM_OK;
}

static llm_status
parse_compare(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *expr;
	jinja_node *n = NULL;
	size_t		cap_ops = 0;

	if ((st = parse_math1(p, &expr)) != LLM_OK)
		return st;
	for (;;)
	{
		const jinja_token *t = cur(p);
		jinja_op	op;
		jinja_node *operand;

		switch (t->kind)
		{
			case JT_EQ:
				op = JOP_EQ;
				break;
			case JT_NE:
				op = JOP_NE;
				break;
			case JT_LT:
				op = JOP_LT;
				break;
			case JT_LTEQ:
				op = JOP_LE;
				break;
			case JT_GT:
				op = JOP_GT;
				break;
			case JT_GTEQ:
				op = JOP_GE;
				break;
			default:
				if (is_name(t, "in"))
					op = JOP_IN;
				else if (is_name(t, "not") && is_name(look(p), "in"))
				{
					op = JOP_NOTIN;
					advance(p);
				}
				else
					op = 0;
				break;
		}
		if (op == 0)
			break;
		advance(p);
		if ((st = parse_math1(p, &operand)) != LLM_OK)
			return st;
		if (n == NULL)
		{
			n = new_node(p, JN_COMPARE, t->line);
			if (n == NULL)
				return nomem(p);
			n->a = expr;
		}
		if (n->items.n == cap_ops)
		{
			size_t		ncap = cap_ops ? cap_ops * 2 : 4;
			jinja_op   *nops = jinja_alloc_array(p->arena, ncap, sizeof(jinja_op));

			if (nops == NULL)
				return nomem(p);
			if (n->items.n)
				memcpy(nops, n->cmp_ops, n->items.n * sizeof(jinja_op));
			n->cmp_ops = nops;
			cap_ops = ncap;
		}
		n->cmp_ops[n->items.n] = op;
		if ((st = list_push(p, &n->items, operand)) != LLM_OK)
			return st;
	}
	*out = n ? n : expr;
	return LLM_OK;
}

static llm_status
parse_not(parser *p, jinja_node **out)
{
	llm_status	st;

	if (is_name(cur(p), "not"))
	{
		jinja_node *n = new_node(p, JN_NOT, cur(p)->line);

		if (n == NULL)
			return nomem(p);
		advance(p);
		if ((st = enter(p)) != LLM_OK)
			return st;
		if ((st = parse_not(p, &n->a)) != LLM_OK)
			return st;
		p->depth--;
		*out = n;
		return LLM_OK;
	}
	return parse_compare(p, out);
}

static llm_status
parse_and(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *left;

	if ((st = parse_not(p, &left)) != LLM_OK)
		return st;
	while (is_name(cur(p), "and"))
	{
		int			line = cur(p)->line;
		jinja_node *right;

		advance(p);
		if ((st = parse_not(p, &right)) != LLM_OK)
			return st;
		if ((st = make_binop(p, JOP_AND, line, left, right, &left)) != LLM_OK)
			return st;
	}
	*out = left;
	return LLM_OK;
}

static llm_status
parse_or(parser *p, jinja_node **out)
{
	llm_status	st;
	jinja_node *left;

	if ((st = parse_and(p, &left)) != LLM_OK)
		return st;
	while (is_name(cur(p), "or"))
	{
		int			line = cur(p)->line;
		jinja_node *right;

		advance(p);
		if ((st = parse_and(p, &right)) != LLM_OK)
			return st;
		if ((st = make_binop(p, JOP_OR, line, left, right, &left)) != LLM_OK)
			return st;
	}
	*out = left;
	return LLM_OK;
}

static llm_status
parse_expression(parser *p, bool with_condexpr, jinja_node **out)
{
	llm_status	st;
	jinja_node *expr1;

	if ((st = enter(p)) != LLM_OK)
		return st;
	if ((st = parse_or(p, &expr1)) != LLM_OK)
		return st;
	if (with_condexpr)
	{
		while (is_name(cur(p), "if"))
		{
			jinja_node *n = new_node(p, JN_CONDEXPR, cur(p)->line);

			if (n == NULL)
				return nomem(p);
			advance(p);
			if ((st = parse_or(p, &n->a)) != LLM_OK)
				return st;
			n->b = expr1;
			if (is_name(cur(p), "else"))
			{
				advance(p);
				if ((st = parse_expression(p, true, &n->c)) != LLM_OK)
					return st;
			}
			expr1 = n;
		}
	}
	p->depth--;
	*out = expr1;
	return LLM_OK;
}

static bool
is_tuple_end(const parser *p, const char *extra_end)
{
	jinja_tok_kind k = cur(p)->kind;

	if (k == JT_VAR_END || k == JT_BLOCK_END || k == JT_RPAREN)
		return true;
	return extra_end != NULL && is_name(cur(p), extra_end);
}

/*
 * jinja2 parse_tuple: one expression, or a tuple if commas follow.
 * simplified: elements are primaries (assignment targets).
 */
static llm_status
parse_tuple(parser *p, bool simplified, bool with_condexpr, const char *extra_end,
			bool explicit_parens, jinja_node **out)
{
	llm_status	st;
	jinja_nodelist args = {NULL, 0};
	bool		is_tuple = false;
	int			line = cur(p)->line;
	jinja_node *n;

	for (;;)
	{
		jinja_node *item;

		if (args.n > 0 && (st = expect(p, JT_COMMA)) != LLM_OK)
			return st;
		if (is_tuple_end(p, extra_end))
			break;
		if (simplified)
			st = parse_primary(p, &item);
		else
			st = parse_expression(p, with_condexpr, &item);
		if (st != LLM_OK)
			return st;
		if ((st = list_push(p, &args, item)) != LLM_OK)
			return st;
		if (cur(p)->kind == JT_COMMA)
			is_tuple = true;
		else
			break;
	}
	if (!is_tuple)
	{
		if (args.n > 0)
		{
			*out = args.v[0];
			return LLM_OK;
		}
		if (!explicit_parens)
			return fail_at(p, LLM_ERR_CORRUPT, cur(p), "expected an expression, got %s",
						   jinja_tok_name(cur(p)->kind));
	}
	n = new_node(p, JN_TUPLE, line);
	if (n == NULL)
		return nomem(p);
	n->items = args;
	*out = n;
	return LLM_OK;
}

/* ---------- statements ---------- */

static bool
is_reserved_name(jstr name)
{
	return jstr_eq_c(name, "true") || jstr_eq_c(name, "false") ||
		jstr_eq_c(name, "none") || jstr_eq_c(name, "True") ||
		jstr_eq_c(name, "False") || jstr_eq_c(name, "None");
}

/* Assignment target: a name or a flat tuple of names (into node->targets). */
static llm_status
parse_assign_target(parser *p, jinja_node *node, const char *extra_end)
{
	llm_status	st;
	jinja_node *target;
	const jinja_token *t = cur(p);

	if ((st = parse_tuple(p, true, true, extra_end, false, &target)) != LLM_OK)
		return st;
	if (target->kind == JN_NAME)
	{
		node->tuple_target = false;
		return name_push(p, &node->targets, &node->n_targets, target->name);
	}
	if (target->kind == JN_TUPLE)
	{
		node->tuple_target = true;
		for (size_t k = 0; k < target->items.n; k++)
		{
			if (target->items.v[k]->kind != JN_NAME)
				return fail_at(p, LLM_ERR_UNSUPPORTED, t, "nested or non-name assignment targets");
			if ((st = name_push(p, &node->targets, &node->n_targets, target->items.v[k]->name)) != LLM_OK)
				return st;
		}
		return LLM_OK;
	}
	return fail_at(p, LLM_ERR_CORRUPT, t, "cannot assign to this expression");
}

static llm_status
parse_statements(parser *p, const char *const *end_tokens, bool drop_needle,
				 jinja_nodelist *body)
{
	llm_status	st;

	if (cur(p)->kind == JT_COLON)
		advance(p);
	if ((st = expect(p, JT_BLOCK_END)) != LLM_OK)
		return st;
	if ((st = subparse(p, end_tokens, body)) != LLM_OK)
		return st;
	if (cur(p)->kind == JT_EOF)
		return fail_at(p, LLM_ERR_CORRUPT, cur(p), "unexpected end of template, expected '%s'",
					   end_tokens[0]);
	if (drop_needle)
		advance(p);
	return LLM_OK;
}

static llm_status
parse_for(parser *p, jinja_node *n)
{
	static const char *const body_end[] = {"endfor", "else", NULL};
	static const char *const else_end[] = {"endfor", NULL};
	llm_status	st;

	advance(p);					/* 'for' */
	if ((st = parse_assign_target(p, n, "in")) != LLM_OK)
		return st;
	if (!is_name(cur(p), "in"))
		return fail_at(p, LLM_ERR_CORRUPT, cur(p), "expected 'in' in a for loop");
	advance(p);
	if ((st = parse_tuple(p, false, false, "recursive", false, &n->a)) != LLM_OK)
		return st;
	if (is_name(cur(p), "if"))
	{
		advance(p);
		if ((st = parse_expression(p, true, &n->b)) != LLM_OK)
			return st;
	}
	if (is_name(cur(p), "recursive"))
		return fail_at(p, LLM_ERR_UNSUPPORTED, cur(p), "recursive for loops");
	if ((st = parse_statements(p, body_end, false, &n->body)) != LLM_OK)
		return st;
	if (is_name(cur(p), "endfor"))
	{
		advance(p);
		return LLM_OK;
	}
	advance(p);					/* 'else' */
	return parse_statements(p, else_end, true, &n->else_body);
}

static llm_status
parse_if(parser *p, jinja_node *n)
{
	static const char *const body_end[] = {"elif", "else", "endif", NULL};
	static const char *const else_end[] = {"endif", NULL};
	llm_status	st;
	jinja_node *node = n;

	advance(p);					/* 'if' */
	for (;;)
	{
		if ((st = parse_tuple(p, false, false, NULL, false, &node->a)) != LLM_OK)
			return st;
		if ((st = parse_statements(p, body_end, false, &node->body)) != LLM_OK)
			return st;
		if (is_name(cur(p), "elif"))
		{
			jinja_node *elif = new_node(p, JN_IF, cur(p)->line);

			if (elif == NULL)
				return nomem(p);
			advance(p);
			if ((st = list_push(p, &node->else_body, elif)) != LLM_OK)
				return st;
			node = elif;
			continue;
		}
		if (is_name(cur(p), "else"))
		{
			advance(p);
			return parse_statements(p, else_end, true, &node->else_body);
		}
		advance(p);				/* 'endif' */
		return LLM_OK;
	}
}

static llm_status
parse_set(parser *p, jinja_node *n)
{
	static const char *const set_end[] = {"endset", NULL};
	llm_status	st;

	advance(p);					/* 'set' */
	if (cur(p)->kind == JT_NAME && look(p)->kind == JT_DOT)
	{
		n->ns_target = true;
		n->name = cur(p)->text;
		advance(p);
		advance(p);
		if ((st = expect_name(p, &n->attr)) != LLM_OK)
			return st;
	}
	else if ((st = parse_assign_target(p, n, NULL)) != LLM_OK)
		return st;
	for (size_t k = 0; k < n->n_targets; k++)
		if (is_reserved_name(n->targets[k]))
			return fail_at(p, LLM_ERR_CORRUPT, cur(p), "cannot assign to a constant");
	if (cur(p)->kind == JT_ASSIGN)
	{
		advance(p);
		return parse_tuple(p, false, true, NULL, false, &n->a);
	}
	/* block set: {% set x %}...{% endset %}, optionally filtered */
	n->kind = JN_SETBLOCK;
	if (n->tuple_target)
		return fail_at(p, LLM_ERR_CORRUPT, cur(p), "a block set needs a single target");
	if ((st = parse_filter(p, &n->c, false)) != LLM_OK)
		return st;
	return parse_statements(p, set_end, true, &n->body);
}

static llm_status
parse_macro(parser *p, jinja_node *n)
{
	static const char *const macro_end[] = {"endmacro", NULL};
	llm_status	st;
	bool		seen_default = false;

	advance(p);					/* 'macro' */
	if ((st = expect_name(p, &n->name)) != LLM_OK)
		return st;
	if ((st = expect(p, JT_LPAREN)) != LLM_OK)
		return st;
	while (cur(p)->kind != JT_RPAREN)
	{
		jstr		arg;

		if (n->n_targets > 0 && (st = expect(p, JT_COMMA)) != LLM_OK)
			return st;
		if ((st = expect_name(p, &arg)) != LLM_OK)
			return st;
		if ((st = name_push(p, &n->targets, &n->n_targets, arg)) != LLM_OK)
			return st;
		if (cur(p)->kind == JT_ASSIGN)
		{
			jinja_node *def;

			advance(p);
			if ((st = parse_expression(p, true, &def)) != LLM_OK)
				return st;
			if ((st = list_push(p, &n->values, def)) != LLM_OK)
				return st;
			seen_default = true;
		}
		else if (seen_default)
			return fail_at(p, LLM_ERR_CORRUPT, cur(p), "non-default argument follows default argument");
		else if ((st = list_push(p, &n->values, NULL)) != LLM_OK)
			return st;
	}
	if ((st = expect(p, JT_RPAREN)) != LLM_OK)
		return st;
	return parse_statements(p, macro_end, true, &n->body);
}

static llm_status
parse_with(parser *p, jinja_node *n)
{
	static const char *const with_end[] = {"endwith", NULL};
	llm_status	st;

	advance(p);					/* 'with' */
	while (cur(p)->kind != JT_BLOCK_END)
	{
		jstr		name;
		jinja_node *val;

		if (n->n_targets > 0 && (st = expect(p, JT_COMMA)) != LLM_OK)
			return st;
		if ((st = expect_name(p, &name)) != LLM_OK)
			return st;
		if ((st = expect(p, JT_ASSIGN)) != LLM_OK)
			return st;
		if ((st = parse_expression(p, true, &val)) != LLM_OK)
			return st;
		if ((st = name_push(p, &n->targets, &n->n_targets, name)) != LLM_OK ||
			(st = list_push(p, &n->values, val)) != LLM_OK)
			return st;
	}
	return parse_statements(p, with_end, true, &n->body);
}

static llm_status
parse_print(parser *p, jinja_nodelist *body)
{
	llm_status	st;
	bool		first = true;

	advance(p);					/* 'print' */
	while (cur(p)->kind != JT_BLOCK_END)
	{
		jinja_node *out = new_node(p, JN_OUTPUT, cur(p)->line);

		if (out == NULL)
			return nomem(p);
		if (!first && (st = expect(p, JT_COMMA)) != LLM_OK)
			return st;
		if ((st = parse_expression(p, true, &out->a)) != LLM_OK)
			return st;
		if ((st = list_push(p, body, out)) != LLM_OK)
			return st;
		first = false;
	}
	return LLM_OK;
}

/* One {% ... %} statement; appends its node(s) to body. */
static llm_status
parse_statement(parser *p, jinja_nodelist *body)
{
	static const char *const generation_end[] = {"endgeneration", NULL};
	static const char *const filter_end[] = {"endfilter", NULL};
	const jinja_token *t = cur(p);
	jinja_node *n;
	llm_status	st;

	if (t->kind != JT_NAME)
		return fail_at(p, LLM_ERR_CORRUPT, t, "tag name expected");
	if ((st = enter(p)) != LLM_OK)
		return st;

	if (is_name(t, "print"))
		st = parse_print(p, body);
	else if (is_name(t, "generation"))
	{
		/* llama-cpp-python's pass-through for HF's {% generation %} */
		advance(p);
		st = parse_statements(p, generation_end, true, body);
	}
	else if (is_name(t, "break") || is_name(t, "continue"))
	{
		n = new_node(p, is_name(t, "break") ? JN_BREAK : JN_CONTINUE, t->line);
		if (n == NULL)
			return nomem(p);
		advance(p);
		st = list_push(p, body, n);
	}
	else
	{
		jinja_node_kind kind;

		if (is_name(t, "for"))
			kind = JN_FOR;
		else if (is_name(t, "if"))
			kind = JN_IF;
		else if (is_name(t, "set"))
			kind = JN_SET;
		else if (is_name(t, "macro"))
			kind = JN_MACRO;
		else if (is_name(t, "with"))
			kind = JN_WITH;
		else if (is_name(t, "filter"))
			kind = JN_FILTERBLOCK;
		else if (is_name(t, "block") || is_name(t, "extends") || is_name(t, "include") ||
				 is_name(t, "import") || is_name(t, "from") || is_name(t, "call") ||
				 is_name(t, "autoescape"))
			return fail_at(p, LLM_ERR_UNSUPPORTED, t, "the '%.*s' tag",
						   (int) t->text.n, t->text.p);
		else
			return fail_at(p, LLM_ERR_CORRUPT, t, "unknown tag '%.*s'",
						   (int) (t->text.n > 40 ? 40 : t->text.n), t->text.p);
		n = new_node(p, kind, t->line);
		if (n == NULL)
			return nomem(p);
		switch (kind)
		{
			case JN_FOR:
				st = parse_for(p, n);
				break;
			case JN_IF:
				st = parse_if(p, n);
				break;
			case JN_SET:
				st = parse_set(p, n);
				break;
			case JN_MACRO:
				st = parse_macro(p, n);
				break;
			case JN_WITH:
				st = parse_with(p, n);
				break;
			default:			/* JN_FILTERBLOCK */
				advance(p);
				st = parse_filter(p, &n->c, true);
				if (st == LLM_OK)
					st = parse_statements(p, filter_end, true, &n->body);
				break;
		}
		if (st == LLM_OK)
			st = list_push(p, body, n);
	}
	if (st != LLM_OK)
		return st;
	p->depth--;
	return LLM_OK;
}

static bool
at_end_token(const parser *p, const char *const *end_tokens)
{
	if (end_tokens == NULL)
		return false;
	for (size_t k = 0; end_tokens[k]; k++)
		if (is_name(cur(p), end_tokens[k]))
			return true;
	return false;
}

static llm_status
subparse(parser *p, const char *const *end_tokens, jinja_nodelist *body)
{
	llm_status	st;

	for (;;)
	{
		const jinja_token *t = cur(p);
		jinja_node *n;

		switch (t->kind)
		{
			case JT_EOF:
				return LLM_OK;
			case JT_DATA:
				n = new_node(p, JN_TEXT, t->line);
				if (n == NULL)
					return nomem(p);
				n->val = jv_str(t->text);
				if ((st = list_push(p, body, n)) != LLM_OK)
					return st;
				advance(p);
				break;
			case JT_VAR_BEGIN:
				advance(p);
				n = new_node(p, JN_OUTPUT, t->line);
				if (n == NULL)
					return nomem(p);
				if ((st = parse_tuple(p, false, true, NULL, false, &n->a)) != LLM_OK)
					return st;
				if ((st = expect(p, JT_VAR_END)) != LLM_OK)
					return st;
				if ((st = list_push(p, body, n)) != LLM_OK)
					return st;
				break;
			case JT_BLOCK_BEGIN:
				advance(p);
				if (at_end_token(p, end_tokens))
					return LLM_OK;
				if ((st = parse_statement(p, body)) != LLM_OK)
					return st;
				if ((st = expect(p, JT_BLOCK_END)) != LLM_OK)
					return st;
				break;
			default:
				return fail_at(p, LLM_ERR_CORRUPT, t, "unexpected %s", jinja_tok_name(t->kind));
		}
	}
}

/*
 * jinja2 rejects an unknown filter or test at compile time, except where
 * its code generator is in a "soft" frame -- an if statement's test and
 * branches, or a conditional expression -- where the error waits until
 * the filter actually runs.  Loop, macro, with, set-block and filter-block
 * bodies open hard frames again.
 */
static llm_status check_names(parser *p, const jinja_node *n, bool soft, int depth);

static llm_status
check_list(parser *p, const jinja_nodelist *l, bool soft, int depth)
{
	for (size_t i = 0; i < l->n; i++)
	{
		llm_status	st = check_names(p, l->v[i], soft, depth);

		if (st != LLM_OK)
			return st;
	}
	return LLM_OK;
}

static llm_status
check_names(parser *p, const jinja_node *n, bool soft, int depth)
{
	llm_status	st;

	if (n == NULL)
		return LLM_OK;
	if (depth > JINJA_MAX_EVAL_DEPTH)
		return LLM_OK;			/* too deep to run anyway; evaluation reports it */
	switch (n->kind)
	{
		case JN_FILTER:
		case JN_TEST:
			if (!soft && !(n->kind == JN_FILTER ? jinja_filter_known(n->name) : jinja_test_known(n->name)))
			{
				jinja_token t;

				memset(&t, 0, sizeof(t));
				t.line = n->line;
				return fail_at(p, LLM_ERR_CORRUPT, &t, "no %s named '%.*s'",
							   n->kind == JN_FILTER ? "filter" : "test",
							   (int) (n->name.n > 60 ? 60 : n->name.n), n->name.p);
			}
			break;
		case JN_IF:
		case JN_CONDEXPR:
			soft = true;
			break;
		case JN_FOR:
			/* iterable and else in the outer frame; filter and body hard */
			if ((st = check_names(p, n->a, soft, depth + 1)) != LLM_OK ||
				(st = check_list(p, &n->else_body, soft, depth + 1)) != LLM_OK ||
				(st = check_names(p, n->b, false, depth + 1)) != LLM_OK)
				return st;
			return check_list(p, &n->body, false, depth + 1);
		case JN_WITH:
			if ((st = check_list(p, &n->values, soft, depth + 1)) != LLM_OK)
				return st;
			return check_list(p, &n->body, false, depth + 1);
		case JN_MACRO:
		case JN_SETBLOCK:
		case JN_FILTERBLOCK:
			soft = false;
			break;
		default:
			break;
	}
	if ((st = check_names(p, n->a, soft, depth + 1)) != LLM_OK ||
		(st = check_names(p, n->b, soft, depth + 1)) != LLM_OK ||
		(st = check_names(p, n->c, soft, depth + 1)) != LLM_OK ||
		(st = check_list(p, &n->items, soft, depth + 1)) != LLM_OK ||
		(st = check_list(p, &n->values, soft, depth + 1)) != LLM_OK ||
		(st = check_list(p, &n->body, soft, depth + 1)) != LLM_OK)
		return st;
	return check_list(p, &n->else_body, soft, depth + 1);
}

llm_status
jinja_parse(jinja_template *t, const jinja_token *toks, size_t n_toks, llm_error *err)
{
	parser		p;
	llm_status	st;

	memset(&p, 0, sizeof(p));
	p.t = t;
	p.arena = &t->arena;
	p.err = err;
	p.toks = toks;
	p.n = n_toks;
	if (n_toks == 0 || toks[n_toks - 1].kind != JT_EOF)
		return llm_error_set(err, LLM_ERR_CORRUPT, "chat template syntax error: no end of template");
	st = subparse(&p, NULL, &t->body);
	if (st != LLM_OK)
		return st;
	if (cur(&p)->kind != JT_EOF)
	{
		const jinja_token *tk = cur(&p);

		return fail_at(&p, LLM_ERR_CORRUPT, tk, "unexpected '%.*s'",
					   (int) (tk->text.n > 40 ? 40 : tk->text.n), tk->text.p);
	}
	return check_list(&p, &t->body, false, 0);
}
