/*
 * chat_template.c — the public chat-template API over the Jinja
 * interpreter (jinja.h): compile once, render many times.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L	/* localtime_r */
#endif

#include <string.h>
#include <time.h>

#include "chat_template.h"
#include "jinja.h"

const char	LLM_CHAT_TEMPLATE_CHATML[] =
"{% for message in messages %}"
"{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
"{% endfor %}"
"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

struct llm_chat_template
{
	jinja_template jt;
};

llm_status
llm_chat_template_compile(const char *tmpl, size_t tmpl_len,
						  llm_chat_template **out, llm_error *err)
{
	llm_chat_template *t;
	jinja_token *toks;
	size_t		n_toks;
	llm_status	st;

	*out = NULL;
	if (tmpl == NULL)
	{
		tmpl = LLM_CHAT_TEMPLATE_CHATML;
		tmpl_len = strlen(LLM_CHAT_TEMPLATE_CHATML);
	}
	if (tmpl_len > JINJA_MAX_TEMPLATE_BYTES)
		return llm_error_set(err, LLM_ERR_LIMIT,
							 "chat template is %zu bytes, more than the %d allowed",
							 tmpl_len, JINJA_MAX_TEMPLATE_BYTES);
	if (!jinja_utf8_valid(tmpl, tmpl_len))
		return llm_error_set(err, LLM_ERR_CORRUPT, "chat template is not valid UTF-8");

	t = llm_calloc(1, sizeof(llm_chat_template));
	if (t == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory compiling the chat template");
	/* the AST of even a large template is a few hundred kB */
	jinja_arena_init(&t->jt.arena, 64 * (size_t) JINJA_MAX_TEMPLATE_BYTES);
	st = jinja_lex(&t->jt.arena, tmpl, tmpl_len, &toks, &n_toks, err);
	if (st == LLM_OK)
		st = jinja_parse(&t->jt, toks, n_toks, err);
	if (st == LLM_OK)
		st = jinja_fold_constants(&t->jt, err);
	if (st != LLM_OK)
	{
		llm_chat_template_free(t);
		return st;
	}
	*out = t;
	return LLM_OK;
}

void
llm_chat_template_free(llm_chat_template *t)
{
	if (t == NULL)
		return;
	jinja_arena_free(&t->jt.arena);
	llm_free(t);
}

static llm_status
input_string(jinja_ctx *c, const char *s, const char *what, jvalue *out)
{
	size_t		n = strlen(s);

	if (!jinja_utf8_valid(s, n))
		return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat %s is not valid UTF-8", what);
	*out = jv_str(jstr_make(s, n));
	return LLM_OK;
}

static llm_status
bind_context(jinja_ctx *c, const llm_chat_message *msgs, size_t n_msgs,
			 const llm_chat_render_options *opts)
{
	static const char *const none_vars[] = {"functions", "function_call", "tools", "tool_choice"};
	jinja_list *list = jinja_list_new(c, n_msgs, JL_LIST);
	jvalue		v;
	llm_status	st;

	if (list == NULL)
		return jinja_nomem(c);
	for (size_t i = 0; i < n_msgs; i++)
	{
		jinja_dict *d = jinja_dict_new(c, 2);
		jvalue		role,
					content = jv_none();

		if (d == NULL)
			return jinja_nomem(c);
		if (msgs[i].role == NULL)
			return jinja_fail(c, LLM_ERR_INVALID_ARG, "chat message %zu has no role", i + 1);
		if ((st = input_string(c, msgs[i].role, "message role", &role)) != LLM_OK)
			return st;
		if (msgs[i].content && (st = input_string(c, msgs[i].content, "message content", &content)) != LLM_OK)
			return st;
		if ((st = jinja_dict_set(c, d, jv_str(JSTR_LIT("role")), role)) != LLM_OK ||
			(st = jinja_dict_set(c, d, jv_str(JSTR_LIT("content")), content)) != LLM_OK)
			return st;
		list->items[i] = jv_dict(d);
	}
	if ((st = jinja_scope_set(c, c->root, JSTR_LIT("messages"), jv_list(list))) != LLM_OK)
		return st;

	if ((st = input_string(c, opts->bos_token ? opts->bos_token : "", "bos_token", &v)) != LLM_OK ||
		(st = jinja_scope_set(c, c->root, JSTR_LIT("bos_token"), v)) != LLM_OK)
		return st;
	if ((st = input_string(c, opts->eos_token ? opts->eos_token : "", "eos_token", &v)) != LLM_OK ||
		(st = jinja_scope_set(c, c->root, JSTR_LIT("eos_token"), v)) != LLM_OK)
		return st;
	if ((st = jinja_scope_set(c, c->root, JSTR_LIT("add_generation_prompt"),
							  jv_bool(opts->add_generation_prompt))) != LLM_OK)
		return st;
	v.kind = JV_FUNC;
	v.u.func = JF_RAISE_EXCEPTION;
	if ((st = jinja_scope_set(c, c->root, JSTR_LIT("raise_exception"), v)) != LLM_OK)
		return st;
	v.u.func = JF_STRFTIME_NOW;
	if ((st = jinja_scope_set(c, c->root, JSTR_LIT("strftime_now"), v)) != LLM_OK)
		return st;
	for (size_t i = 0; i < sizeof(none_vars) / sizeof(none_vars[0]); i++)
		if ((st = jinja_scope_set(c, c->root, jstr_make(none_vars[i], strlen(none_vars[i])),
								  jv_none())) != LLM_OK)
			return st;
	return LLM_OK;
}

llm_status
llm_chat_template_render(const llm_chat_template *t,
						 const llm_chat_message *msgs, size_t n_msgs,
						 const llm_chat_render_options *opts,
						 char **out, size_t *out_len, llm_error *err)
{
	static const llm_chat_render_options defaults = {true, NULL, NULL, NULL, 0};
	jinja_arena arena;
	jinja_buf	buf;
	jinja_ctx	c;
	jinja_scope root;
	struct tm	now_tm;
	llm_status	st;

	*out = NULL;
	*out_len = 0;
	if (t == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "no chat template given");
	if (msgs == NULL && n_msgs > 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "chat messages missing");
	if (opts == NULL)
		opts = &defaults;

	jinja_arena_init(&arena, JINJA_MAX_ARENA_BYTES);
	jinja_buf_init(&buf, JINJA_MAX_OUTPUT_BYTES);
	memset(&c, 0, sizeof(c));
	memset(&root, 0, sizeof(root));
	c.arena = &arena;
	c.err = err;
	c.out = &buf;
	c.root = &root;
	c.scope = &root;
	c.work_limit = (opts->max_work && opts->max_work < JINJA_MAX_WORK) ? opts->max_work : JINJA_MAX_WORK;
	if (opts->now)
		c.now = opts->now;
	else
	{
		time_t		now = time(NULL);

		if (localtime_r(&now, &now_tm) == NULL)
			memset(&now_tm, 0, sizeof(now_tm));
		c.now = &now_tm;
	}

	st = bind_context(&c, msgs, n_msgs, opts);
	if (st == LLM_OK)
		st = jinja_render(&c, &t->jt);
	if (st == LLM_OK && buf.p == NULL)
	{
		buf.p = llm_malloc(1);
		if (buf.p == NULL)
			st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory rendering the chat template");
		else
			buf.p[0] = '\0';
	}
	jinja_arena_free(&arena);
	if (st != LLM_OK)
	{
		jinja_buf_free(&buf);
		return st;
	}
	*out = buf.p;
	*out_len = buf.n;
	return LLM_OK;
}

llm_status
llm_chat_render(const char *tmpl, size_t tmpl_len,
				const llm_chat_message *msgs, size_t n_msgs,
				bool add_generation_prompt,
				const char *bos_token, const char *eos_token,
				char **out, size_t *out_len, llm_error *err)
{
	llm_chat_template *t;
	llm_chat_render_options opts = {add_generation_prompt, bos_token, eos_token, NULL, 0};
	llm_status	st;

	*out = NULL;
	*out_len = 0;
	st = llm_chat_template_compile(tmpl, tmpl_len, &t, err);
	if (st != LLM_OK)
		return st;
	st = llm_chat_template_render(t, msgs, n_msgs, &opts, out, out_len, err);
	llm_chat_template_free(t);
	return st;
}
