/*
 * jinja.h — internals of the chat-template interpreter (see chat_template.h).
 *
 * A small Jinja interpreter that renders the subset of Jinja2 chat templates
 * use, with the semantics of the environment llama-cpp-python renders them
 * in (jinja2 ImmutableSandboxedEnvironment, trim_blocks and lstrip_blocks
 * on, keep_trailing_newline off, loopcontrols on, json.dumps-style tojson).
 * Values follow Python: str() and repr() of lists and numbers, truthiness,
 * == across types, slicing, negative indexes, Undefined that prints empty
 * but fails on arithmetic or attribute access.
 *
 * jinja2 behaviours reproduced on purpose, because templates observe them:
 * its compile-time constant folding (a folded slice of a non-sequence is
 * Undefined, "(-1) ** x" is Python's -(1 ** x)), lazy generators from
 * select/map/... (errors surface only when consumed), for/else running
 * when no iteration finished, markupsafe.Markup from |safe and |e
 * (Markup + str escapes the str), printf-style "%" formatting, and the
 * lexer's quirks (an unclosed comment at the very end is no error).
 * test/chat/diff_fuzz.py checks all this against llama-cpp-python.
 *
 * Files:
 *   jinja_util.c     arena, growable buffer, UTF-8 and Python whitespace
 *   jinja_unicase.c  Python's Unicode case tables (generated)
 *   jinja_lexer.c    template text -> tokens (whitespace control lives here)
 *   jinja_parser.c   tokens -> AST
 *   jinja_value.c    values: truthiness, equality, ordering, str/repr/json
 *   jinja_eval.c     the evaluator: scopes, statements, expressions, folding
 *   jinja_builtins.c filters, tests, str/dict methods, global functions
 *
 * A compiled template is immutable while rendering (folded constants are
 * never mutated), so one compiled template can serve concurrent renders.
 *
 * Everything a template creates lives in an arena that is freed as one
 * block, so the evaluator never frees individual values.  Every loop,
 * string operation and allocation is charged against budgets (work, memory,
 * output, recursion depth) so that a hostile template fails with
 * LLM_ERR_LIMIT instead of hanging or exhausting memory.
 */
#ifndef LLM_ENGINE_JINJA_H
#define LLM_ENGINE_JINJA_H

#include <time.h>

#include "common.h"

/* ---------- limits ---------- */

#define JINJA_MAX_TEMPLATE_BYTES	(1024 * 1024)
#define JINJA_MAX_OUTPUT_BYTES		(1024 * 1024)
#define JINJA_MAX_ARENA_BYTES		((size_t) 64 * 1024 * 1024)
#define JINJA_MAX_PARSE_DEPTH		100
#define JINJA_MAX_EVAL_DEPTH		400
#define JINJA_MAX_MACRO_DEPTH		16
#define JINJA_MAX_VALUE_DEPTH		64
#define JINJA_MAX_WORK				((uint64_t) 50 * 1000 * 1000)
#define JINJA_MAX_RANGE				100000	/* jinja2 sandbox MAX_RANGE */

/* ---------- arena ---------- */

typedef struct jinja_chunk jinja_chunk;

typedef struct jinja_arena
{
	jinja_chunk *head;
	size_t		total;			/* bytes obtained from llm_malloc */
	size_t		limit;
	bool		over_limit;		/* last failure was the limit, not OOM */
} jinja_arena;

void		jinja_arena_init(jinja_arena *a, size_t limit);
void		jinja_arena_free(jinja_arena *a);
void	   *jinja_alloc(jinja_arena *a, size_t size);	/* zeroed; NULL on failure */
void	   *jinja_alloc_array(jinja_arena *a, size_t n, size_t elem);
char	   *jinja_strdup(jinja_arena *a, const char *s, size_t len);

/* ---------- strings ---------- */

/* Always valid UTF-8 (inputs are validated); not NUL-terminated. */
typedef struct jstr
{
	const char *p;
	size_t		n;
} jstr;

#define JSTR_LIT(s) ((jstr) { (s), sizeof(s) - 1 })

static inline jstr
jstr_make(const char *p, size_t n)
{
	jstr		s = {p, n};

	return s;
}

bool		jstr_eq(jstr a, jstr b);
bool		jstr_eq_c(jstr a, const char *c);
int			jstr_cmp(jstr a, jstr b);	/* codepoint order == byte order */
/* First byte offset of needle in hay at or after from, or -1. */
int64_t		jinja_find(jstr hay, jstr needle, size_t from);

/* Growable output buffer on llm_realloc, with a hard size limit. */
typedef struct jinja_buf
{
	char	   *p;
	size_t		n;
	size_t		cap;
	size_t		limit;
	bool		over_limit;
} jinja_buf;

void		jinja_buf_init(jinja_buf *b, size_t limit);
void		jinja_buf_free(jinja_buf *b);
bool		jinja_buf_put(jinja_buf *b, const char *s, size_t n);
bool		jinja_buf_putc(jinja_buf *b, char c);
bool		jinja_buf_puts(jinja_buf *b, const char *s);
bool		jinja_buf_printf(jinja_buf *b, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* UTF-8 */
bool		jinja_utf8_valid(const char *s, size_t n);
/* Decode one codepoint at s[*i] (input known valid); advance *i. */
uint32_t	jinja_utf8_next(const char *s, size_t n, size_t *i);
size_t		jinja_utf8_encode(uint32_t cp, char out[4]);
size_t		jinja_utf8_count(const char *s, size_t n);
/* Python str.isspace() for one codepoint. */
bool		jinja_py_isspace(uint32_t cp);
/* Length of the Python-whitespace run starting at / ending at. */
size_t		jinja_ws_prefix(const char *s, size_t n);
size_t		jinja_ws_suffix(const char *s, size_t n);

/* Python case mapping and properties (generated: jinja_unicase.c). */
size_t		jinja_case_upper(uint32_t cp, uint32_t out[3]);
size_t		jinja_case_lower(uint32_t cp, uint32_t out[3]);
size_t		jinja_case_title(uint32_t cp, uint32_t out[3]);
bool		jinja_is_cased(uint32_t cp);
bool		jinja_is_case_ignorable(uint32_t cp);
bool		jinja_is_upper(uint32_t cp);
bool		jinja_is_lower(uint32_t cp);
bool		jinja_is_printable(uint32_t cp);

/* ---------- values ---------- */

typedef enum jinja_kind
{
	JV_UNDEF = 0,				/* jinja2 Undefined */
	JV_NONE,
	JV_BOOL,
	JV_INT,
	JV_FLOAT,
	JV_STR,
	JV_LIST,					/* list, tuple or one-shot iterator */
	JV_DICT,
	JV_NS,						/* namespace(): a mutable attribute dict */
	JV_LOOP,					/* the loop variable of a for loop */
	JV_FUNC,					/* a builtin function */
	JV_MACRO,
	JV_METHOD					/* a bound method: receiver + name */
} jinja_kind;

typedef enum jinja_list_flavor
{
	JL_LIST = 0,
	JL_TUPLE,
	JL_ITER,					/* a generator: prints as one, no len() */
	JL_KEYS,					/* dict.keys() / values() / items() views: */
	JL_VALUES,					/* iterable and sized, not subscriptable */
	JL_ITEMS
} jinja_list_flavor;

/* a list or tuple: subscriptable, sliceable, JSON-serializable */
#define JL_IS_SEQ(f) ((f) == JL_LIST || (f) == JL_TUPLE)

typedef enum jinja_func
{
	JF_RAISE_EXCEPTION = 1,
	JF_STRFTIME_NOW,
	JF_NAMESPACE,
	JF_RANGE,
	JF_DICT,
	JF_LIPSUM,
	JF_CYCLER,
	JF_JOINER
} jinja_func;

typedef struct jinja_list jinja_list;
typedef struct jinja_dict jinja_dict;
typedef struct jinja_loop jinja_loop;
typedef struct jinja_macro jinja_macro;
typedef struct jinja_method jinja_method;

typedef struct jvalue
{
	jinja_kind	kind;
	bool		markup;			/* JV_STR: a markupsafe.Markup (from |safe, |e) */
	union
	{
		bool		b;
		int64_t		i;
		double		f;
		jstr		s;			/* JV_STR; JV_UNDEF: what was undefined */
		jinja_list *list;
		jinja_dict *dict;		/* JV_DICT and JV_NS */
		jinja_loop *loop;
		jinja_func	func;
		jinja_macro *macro;
		jinja_method *method;
	}			u;
} jvalue;

struct jinja_list
{
	size_t		n;
	jinja_list_flavor flavor;
	jvalue	   *items;
	/*
	 * A generator whose producing filter failed: jinja2's select/map/...
	 * are lazy, so the error only surfaces when the generator is consumed
	 * (items holds what was produced before the failure).
	 */
	const llm_error *deferred;
};

struct jinja_dict
{
	size_t		n;
	size_t		cap;
	jvalue	   *keys;
	jvalue	   *vals;
};

struct jinja_loop
{
	size_t		index0;
	const jinja_list *items;
	int			depth0;
	jvalue		last_changed;	/* for loop.changed() */
	bool		has_changed;
};

struct jinja_method
{
	jvalue		self;
	jstr		name;
};

static inline jvalue
jv_undef(jstr hint)
{
	jvalue		v;

	v.markup = false;
	v.kind = JV_UNDEF;
	v.u.s = hint;
	return v;
}

static inline jvalue
jv_none(void)
{
	jvalue		v;

	v.markup = false;
	v.kind = JV_NONE;
	v.u.i = 0;
	return v;
}

static inline jvalue
jv_bool(bool b)
{
	jvalue		v;

	v.markup = false;
	v.kind = JV_BOOL;
	v.u.b = b;
	return v;
}

static inline jvalue
jv_int(int64_t i)
{
	jvalue		v;

	v.markup = false;
	v.kind = JV_INT;
	v.u.i = i;
	return v;
}

static inline jvalue
jv_float(double f)
{
	jvalue		v;

	v.markup = false;
	v.kind = JV_FLOAT;
	v.u.f = f;
	return v;
}

static inline jvalue
jv_str(jstr s)
{
	jvalue		v;

	v.kind = JV_STR;
	v.markup = false;
	v.u.s = s;
	return v;
}

static inline jvalue
jv_markup(jstr s)
{
	jvalue		v = jv_str(s);

	v.markup = true;
	return v;
}

static inline jvalue
jv_list(jinja_list *l)
{
	jvalue		v;

	v.markup = false;
	v.kind = JV_LIST;
	v.u.list = l;
	return v;
}

static inline jvalue
jv_dict(jinja_dict *d)
{
	jvalue		v;

	v.markup = false;
	v.kind = JV_DICT;
	v.u.dict = d;
	return v;
}

/* ---------- AST ---------- */

typedef enum jinja_node_kind
{
	/* expressions */
	JN_CONST,
	JN_NAME,
	JN_GETATTR,
	JN_GETITEM,
	JN_SLICE,
	JN_CALL,
	JN_FILTER,
	JN_TEST,
	JN_NOT,
	JN_NEG,
	JN_POS,
	JN_BINOP,
	JN_CONCAT,
	JN_COMPARE,
	JN_CONDEXPR,
	JN_LIST,
	JN_TUPLE,
	JN_DICT,
	/* statements */
	JN_TEXT,
	JN_OUTPUT,
	JN_IF,
	JN_FOR,
	JN_SET,
	JN_SETBLOCK,
	JN_MACRO,
	JN_BREAK,
	JN_CONTINUE,
	JN_WITH,
	JN_FILTERBLOCK
} jinja_node_kind;

typedef enum jinja_op
{
	JOP_ADD = 1,
	JOP_SUB,
	JOP_MUL,
	JOP_DIV,
	JOP_FLOORDIV,
	JOP_MOD,
	JOP_POW,
	JOP_AND,
	JOP_OR,
	JOP_EQ,
	JOP_NE,
	JOP_LT,
	JOP_LE,
	JOP_GT,
	JOP_GE,
	JOP_IN,
	JOP_NOTIN
} jinja_op;

typedef struct jinja_node jinja_node;

typedef struct jinja_nodelist
{
	jinja_node **v;
	size_t		n;
} jinja_nodelist;

struct jinja_node
{
	jinja_node_kind kind;
	int			line;
	jinja_op	op;				/* JN_BINOP */
	jvalue		val;			/* JN_CONST, JN_TEXT */
	jstr		name;			/* NAME, GETATTR, FILTER, TEST, MACRO; SET ns */
	jstr		attr;			/* JN_SET/JN_SETBLOCK namespace attribute */
	bool		ns_target;		/* JN_SET/JN_SETBLOCK: target is ns.attr */
	bool		tuple_target;	/* JN_FOR/JN_SET: unpack into targets */
	jinja_node *a;				/* operand / object / test / iterable */
	jinja_node *b;				/* index / then / loop filter */
	jinja_node *c;				/* else / step / filter chain */
	jinja_nodelist items;		/* args, elements, dict keys, operands */
	jinja_nodelist values;		/* kwarg values, dict values, defaults */
	jstr	   *kwnames;		/* kwarg names (values in .values) */
	size_t		n_kw;
	jstr	   *targets;		/* for/set/with targets, macro params */
	size_t		n_targets;
	jinja_op   *cmp_ops;		/* JN_COMPARE: one per operand in items */
	jinja_nodelist body;
	jinja_nodelist else_body;
	/*
	 * jinja2's optimizer folds constant subexpressions at compile time
	 * (nodes.as_const); folded nodes evaluate to val.  This matters where
	 * folding changes behaviour: a folded slice of a non-sequence is
	 * Undefined while a run-time one is an error, and "(-1) ** x" runs as
	 * Python's -(1 ** x) once -1 is folded.
	 */
	bool		folded;
};

typedef struct jinja_template
{
	jinja_arena arena;
	jinja_nodelist body;
	bool		uses_strftime;
} jinja_template;

struct jinja_macro
{
	const jinja_node *def;
};

/* ---------- lexer ---------- */

typedef enum jinja_tok_kind
{
	JT_EOF = 0,
	JT_DATA,
	JT_VAR_BEGIN,
	JT_VAR_END,
	JT_BLOCK_BEGIN,
	JT_BLOCK_END,
	JT_NAME,
	JT_STRING,
	JT_INT,
	JT_FLOAT,
	JT_ADD,
	JT_SUB,
	JT_DIV,
	JT_FLOORDIV,
	JT_MUL,
	JT_MOD,
	JT_POW,
	JT_TILDE,
	JT_LBRACKET,
	JT_RBRACKET,
	JT_LPAREN,
	JT_RPAREN,
	JT_LBRACE,
	JT_RBRACE,
	JT_EQ,
	JT_NE,
	JT_GT,
	JT_GTEQ,
	JT_LT,
	JT_LTEQ,
	JT_ASSIGN,
	JT_DOT,
	JT_COLON,
	JT_PIPE,
	JT_COMMA,
	JT_SEMICOLON
} jinja_tok_kind;

typedef struct jinja_token
{
	jinja_tok_kind kind;
	int			line;
	jstr		text;			/* NAME, STRING (decoded), DATA */
	int64_t		ival;
	double		fval;
} jinja_token;

llm_status	jinja_lex(jinja_arena *a, const char *src, size_t len,
					  jinja_token **toks, size_t *n_toks, llm_error *err);
const char *jinja_tok_name(jinja_tok_kind k);

/* ---------- parser ---------- */

llm_status	jinja_parse(jinja_template *t, const jinja_token *toks, size_t n_toks,
						llm_error *err);

/* ---------- evaluation ---------- */

typedef struct jinja_scope jinja_scope;

struct jinja_scope
{
	jinja_scope *parent;
	size_t		n;
	size_t		cap;
	jstr	   *names;
	jvalue	   *vals;
};

typedef struct jinja_ctx
{
	jinja_arena *arena;
	llm_error  *err;
	jinja_buf  *out;			/* where output goes right now */
	jinja_scope *scope;			/* innermost scope */
	jinja_scope *root;			/* template-level scope */
	uint64_t	work;
	uint64_t	work_limit;		/* 0: JINJA_MAX_WORK */
	int			depth;
	int			macro_depth;
	int			loop_depth;		/* for loop.depth */
	int			loop_ctl;		/* JINJA_BREAK / JINJA_CONTINUE pending */
	bool		const_mode;		/* evaluating as jinja2's as_const() would */
	const struct tm *now;		/* for strftime_now() */
	const void *repr_stack[JINJA_MAX_VALUE_DEPTH + 2];	/* containers being repr'd */
	int			repr_depth;
} jinja_ctx;

#define JINJA_BREAK		1
#define JINJA_CONTINUE	2

/* Fill ctx->err and return status. */
llm_status	jinja_fail(jinja_ctx *c, llm_status st, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
llm_status	jinja_nomem(jinja_ctx *c);	/* NOMEM or LIMIT per the arena */
llm_status	jinja_charge(jinja_ctx *c, uint64_t units);
/* Report the error a failed generator deferred (see jinja_list). */
llm_status	jinja_raise_deferred(jinja_ctx *c, const jinja_list *l);

/* Template-level variables bound before rendering. */
llm_status	jinja_scope_set(jinja_ctx *c, jinja_scope *s, jstr name, jvalue v);
llm_status	jinja_render(jinja_ctx *c, const jinja_template *t);
/* Constant folding pass over a parsed template (see jinja_node.folded). */
llm_status	jinja_fold_constants(jinja_template *t, llm_error *err);

/* Call a macro value (used by the evaluator and by map()). */
typedef struct jinja_args
{
	jvalue	   *pos;
	size_t		npos;
	jstr	   *kwnames;
	jvalue	   *kwvals;
	size_t		nkw;
} jinja_args;

/* a OP b for the arithmetic operators, with Python semantics */
llm_status	jinja_binop(jinja_ctx *c, jinja_op op, jvalue a, jvalue b, jvalue *out);
/* obj.name and obj[key] with jinja2's sandbox lookup rules. */
llm_status	jinja_getattr(jinja_ctx *c, jvalue obj, jstr name, jvalue *out);
llm_status	jinja_getitem(jinja_ctx *c, jvalue obj, jvalue key, jvalue *out);
llm_status	jinja_call_value(jinja_ctx *c, jvalue callee, const jinja_args *args,
							 jvalue *out);

/* ---------- values (jinja_value.c) ---------- */

const char *jv_type_name(jvalue v);	/* Python type name, for messages */
bool		jv_truthy(jvalue v);
/* jinja2 has_safe_repr(): may a folded constant hold this value? */
bool		jv_safe_repr(jvalue v, int depth);
bool		jv_is_iterable(jvalue v);
llm_status	jv_equal(jinja_ctx *c, jvalue a, jvalue b, bool *eq);
llm_status	jv_compare(jinja_ctx *c, jvalue a, jvalue b, int *cmp);	/* < == > */
llm_status	jv_to_str(jinja_ctx *c, jvalue v, jstr *out);	/* Python str() */
llm_status	jv_repr(jinja_ctx *c, jvalue v, jinja_buf *b, int depth);
llm_status	jv_write_str(jinja_ctx *c, jvalue v, jinja_buf *b);
void		jinja_format_float(double f, char buf[40]);		/* Python repr */

typedef struct jinja_json_opts
{
	bool		ensure_ascii;
	bool		sort_keys;
	bool		pretty;			/* indent given */
	jstr		indent;			/* per level */
	jstr		item_sep;
	jstr		key_sep;
} jinja_json_opts;

llm_status	jv_to_json(jinja_ctx *c, jvalue v, const jinja_json_opts *o,
					   jinja_buf *b, int depth);

jinja_list *jinja_list_new(jinja_ctx *c, size_t n, jinja_list_flavor flavor);
jinja_dict *jinja_dict_new(jinja_ctx *c, size_t cap);
llm_status	jinja_dict_set(jinja_ctx *c, jinja_dict *d, jvalue key, jvalue val);
/* Lookup by Python equality; NULL when absent. */
jvalue	   *jinja_dict_get(jinja_dict *d, jvalue key);
jvalue	   *jinja_dict_get_str(jinja_dict *d, jstr key);
/* A copy of s in the arena as a value. */
llm_status	jinja_make_str(jinja_ctx *c, const char *p, size_t n, jvalue *out);

/*
 * Iterate a value as Python's iter() would: list items, dict keys,
 * string codepoints; Undefined iterates as empty.  Produces a list.
 */
llm_status	jv_iterate(jinja_ctx *c, jvalue v, jinja_list **out);
llm_status	jv_length(jinja_ctx *c, jvalue v, int64_t *out);

/* ---------- builtins (jinja_builtins.c) ---------- */

bool		jinja_filter_known(jstr name);	/* a jinja2 builtin filter? */
bool		jinja_test_known(jstr name);
llm_status	jinja_apply_filter(jinja_ctx *c, jstr name, jvalue operand,
							   const jinja_args *args, jvalue *out);
llm_status	jinja_apply_test(jinja_ctx *c, jstr name, jvalue operand,
							 const jinja_args *args, bool *out);
/* obj.name for str/list/dict receivers; false when not a known method. */
bool		jinja_has_method(jvalue self, jstr name);
llm_status	jinja_call_method(jinja_ctx *c, jvalue self, jstr name,
							  const jinja_args *args, jvalue *out);
llm_status	jinja_call_func(jinja_ctx *c, jinja_func f, const jinja_args *args,
							jvalue *out);
/* Global functions jinja2 provides (range, namespace, dict, ...). */
bool		jinja_lookup_global(jstr name, jvalue *out);
/* Python's fmt % args (printf-style formatting). */
llm_status	jinja_percent_format(jinja_ctx *c, jvalue fmt, jvalue args, jvalue *out);
/* markupsafe.escape(): HTML-escape str(v) unless v is already Markup. */
llm_status	jinja_escape(jinja_ctx *c, jvalue v, jvalue *out);
/* Python-style string helpers shared by filters and methods. */
llm_status	jinja_str_strip(jinja_ctx *c, jstr s, const jvalue *chars,
							bool left, bool right, jvalue *out);

#endif							/* LLM_ENGINE_JINJA_H */
