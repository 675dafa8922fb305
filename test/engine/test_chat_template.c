/*
 * test_chat_template.c — the chat-template renderer against llama-cpp-python.
 *
 * test/chat/golden.json (made by test/chat/make_golden.py with
 * llama-cpp-python's Jinja2ChatFormatter) lists templates, messages and
 * what the formatter rendered — or that it failed.  Every case must come
 * out byte-identical here (or fail too; with the same message when the
 * template called raise_exception).  Then come checks the golden file
 * cannot express: unsupported constructs, hostile templates hitting the
 * limits, bad input, and the compile-once API.
 *
 * Run from the repository root or from test/engine; LLM_TEST_ROOT
 * overrides the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chat_template.h"
#include "test_util.h"

static char root[1024];

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t) n + 1);
	if (buf && fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
	{
		buf[n] = '\0';
		if (len)
			*len = (size_t) n;
	}
	return buf;
}

static bool
find_root(void)
{
	const char *env = getenv("LLM_TEST_ROOT");
	const char *candidates[] = {".", "../..", NULL};
	char		path[1200];

	if (env)
	{
		snprintf(root, sizeof(root), "%s", env);
		return true;
	}
	for (int i = 0; candidates[i]; i++)
	{
		FILE	   *f;

		snprintf(path, sizeof(path), "%s/test/chat/golden.json", candidates[i]);
		f = fopen(path, "rb");
		if (f)
		{
			fclose(f);
			snprintf(root, sizeof(root), "%s", candidates[i]);
			return true;
		}
	}
	return false;
}

/* per-template tally */
typedef struct
{
	char		name[128];
	int			matched;
	int			total;
} tally;

static tally tallies[64];
static int	n_tallies;

static void
count(const char *name, bool ok)
{
	int			i;

	for (i = 0; i < n_tallies; i++)
		if (strcmp(tallies[i].name, name) == 0)
			break;
	if (i == n_tallies)
	{
		if (n_tallies == 64)
			return;
		snprintf(tallies[n_tallies++].name, sizeof(tallies[0].name), "%s", name);
	}
	tallies[i].total++;
	if (ok)
		tallies[i].matched++;
}

/* show where two renderings first differ */
static void
show_diff(const char *name, const char *want, size_t want_len, const char *got, size_t got_len)
{
	size_t		i = 0;

	while (i < want_len && i < got_len && want[i] == got[i])
		i++;
	fprintf(stderr, "  %s: first difference at byte %zu (want %zu bytes, got %zu)\n",
			name, i, want_len, got_len);
	fprintf(stderr, "    want: \"%.*s\"\n", (int) (want_len - i > 80 ? 80 : want_len - i), want + i);
	fprintf(stderr, "    got:  \"%.*s\"\n", (int) (got_len - i > 80 ? 80 : got_len - i), got + i);
}

static void
run_golden(void)
{
	char		path[1200];
	char	   *json;
	cJSON	   *doc,
			   *cases,
			   *c;
	struct tm	now;
	const cJSON *nowj;

	snprintf(path, sizeof(path), "%s/test/chat/golden.json", root);
	json = read_file(path, NULL);
	CHECK(json != NULL, "cannot read %s", path);
	if (json == NULL)
		return;
	doc = cJSON_Parse(json);
	free(json);
	CHECK(doc != NULL, "golden.json does not parse");
	if (doc == NULL)
		return;

	memset(&now, 0, sizeof(now));
	nowj = cJSON_GetObjectItem(doc, "now");
	CHECK(cJSON_IsString(nowj) &&
		  sscanf(nowj->valuestring, "%d-%d-%dT%d:%d:%d", &now.tm_year, &now.tm_mon, &now.tm_mday,
				 &now.tm_hour, &now.tm_min, &now.tm_sec) == 6, "golden.json has no usable 'now'");
	now.tm_year -= 1900;
	now.tm_mon -= 1;
	now.tm_isdst = -1;
	/* fill in weekday and day of year */
	{
		struct tm	tmp = now;
		time_t		t = mktime(&tmp);

		CHECK(t != (time_t) -1, "mktime failed");
		now.tm_wday = tmp.tm_wday;
		now.tm_yday = tmp.tm_yday;
	}

	cases = cJSON_GetObjectItem(doc, "cases");
	CHECK(cJSON_IsArray(cases) && cJSON_GetArraySize(cases) > 300, "golden.json has too few cases");
	cJSON_ArrayForEach(c, cases)
	{
		const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
		const cJSON *tfile = cJSON_GetObjectItem(c, "template");
		const cJSON *ttext = cJSON_GetObjectItem(c, "template_text");
		const cJSON *msgs = cJSON_GetObjectItem(c, "messages");
		const cJSON *expected = cJSON_GetObjectItem(c, "expected");
		const cJSON *error = cJSON_GetObjectItem(c, "error");
		const cJSON *message = cJSON_GetObjectItem(c, "message");
		llm_chat_render_options opts;
		llm_chat_message *m;
		int			n_msgs = cJSON_GetArraySize(msgs);
		char	   *tmpl;
		size_t		tmpl_len;
		llm_chat_template *t = NULL;
		llm_error	err;
		char	   *out = NULL;
		size_t		out_len = 0;
		llm_status	st;
		bool		ok;
		char		tally_name[128];

		if (cJSON_IsString(tfile))
		{
			snprintf(path, sizeof(path), "%s/test/data/chat-templates/%s", root, tfile->valuestring);
			tmpl = read_file(path, &tmpl_len);
			snprintf(tally_name, sizeof(tally_name), "%s", tfile->valuestring);
		}
		else
		{
			tmpl_len = strlen(ttext->valuestring);
			tmpl = malloc(tmpl_len + 1);
			if (tmpl)
				memcpy(tmpl, ttext->valuestring, tmpl_len + 1);
			snprintf(tally_name, sizeof(tally_name), "(feature templates)");
		}
		CHECK(tmpl != NULL, "%s: cannot read template", name);
		if (tmpl == NULL)
			continue;

		m = calloc((size_t) n_msgs + 1, sizeof(llm_chat_message));
		for (int i = 0; i < n_msgs; i++)
		{
			const cJSON *mi = cJSON_GetArrayItem(msgs, i);
			const cJSON *content = cJSON_GetObjectItem(mi, "content");

			m[i].role = cJSON_GetObjectItem(mi, "role")->valuestring;
			m[i].content = cJSON_IsString(content) ? content->valuestring : NULL;
		}
		opts.add_generation_prompt = cJSON_IsTrue(cJSON_GetObjectItem(c, "add_generation_prompt"));
		opts.bos_token = cJSON_GetObjectItem(c, "bos")->valuestring;
		opts.eos_token = cJSON_GetObjectItem(c, "eos")->valuestring;
		opts.now = &now;
		opts.max_work = 0;

		memset(&err, 0, sizeof(err));
		st = llm_chat_template_compile(tmpl, tmpl_len, &t, &err);
		if (st == LLM_OK)
			st = llm_chat_template_render(t, m, (size_t) n_msgs, &opts, &out, &out_len, &err);

		if (cJSON_IsString(expected))
		{
			size_t		want_len = strlen(expected->valuestring);

			ok = st == LLM_OK && out_len == want_len && memcmp(out, expected->valuestring, want_len) == 0;
			CHECK(ok, "%s: output differs from llama-cpp-python (status %d: %s %s)",
				  name, (int) st, err.msg, err.detail);
			if (!ok && st == LLM_OK)
				show_diff(name, expected->valuestring, want_len, out, out_len);
		}
		else
		{
			ok = st != LLM_OK;
			if (ok && strcmp(error->valuestring, "raise_exception") == 0)
				ok = st == LLM_ERR_INVALID_ARG && strcmp(err.msg, message->valuestring) == 0;
			CHECK(ok, "%s: expected an error (%s: %s), got status %d \"%s\"",
				  name, error->valuestring, message->valuestring, (int) st,
				  st == LLM_OK ? (out ? out : "") : err.msg);
			/* an error must never be a crash-like status */
			CHECK(st != LLM_ERR_NOMEM, "%s: NOMEM", name);
		}
		count(tally_name, ok);
		llm_free(out);
		llm_chat_template_free(t);
		free(m);
		free(tmpl);
	}
	cJSON_Delete(doc);

	for (int i = 0; i < n_tallies; i++)
		printf("  %-55s %3d / %3d\n", tallies[i].name, tallies[i].matched, tallies[i].total);
}

/* render text with the standard messages; returns status */
static llm_status
render_text(const char *text, char **out, size_t *out_len, llm_error *err)
{
	static const llm_chat_message msgs[] = {
		{"system", "sys"}, {"user", "hi"}, {"assistant", "yo"}, {"user", "again"},
	};

	memset(err, 0, sizeof(*err));
	return llm_chat_render(text, text ? strlen(text) : 0, msgs, 4, true, "<s>", "</s>",
						   out, out_len, err);
}

static void
expect_status(const char *text, llm_status want, const char *what)
{
	char	   *out = NULL;
	size_t		len;
	llm_error	err;
	clock_t		t0 = clock();
	llm_status	st = render_text(text, &out, &len, &err);
	double		secs = (double) (clock() - t0) / CLOCKS_PER_SEC;

	CHECK(st == want, "%s: want status %d, got %d (%s %s)", what, (int) want, (int) st, err.msg, err.detail);
	CHECK(secs < 5.0, "%s: took %.1f s", what, secs);
	if (st != LLM_OK)
		CHECK(out == NULL && err.msg[0] != '\0', "%s: failed without a message or left output", what);
	llm_free(out);
}

static void
expect_output(const char *text, const char *want, const char *what)
{
	char	   *out = NULL;
	size_t		len = 0;
	llm_error	err;
	llm_status	st = render_text(text, &out, &len, &err);

	CHECK(st == LLM_OK && len == strlen(want) && memcmp(out, want, len) == 0,
		  "%s: got status %d \"%s\" (%s), want \"%s\"", what, (int) st, out ? out : "", err.msg, want);
	llm_free(out);
}

static void
test_default_chatml(void)
{
	expect_output(NULL,
				  "<|im_start|>system\nsys<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
				  "<|im_start|>assistant\nyo<|im_end|>\n<|im_start|>user\nagain<|im_end|>\n"
				  "<|im_start|>assistant\n", "NULL template is ChatML");
}

static void
test_unsupported(void)
{
	expect_status("{% include 'x.jinja' %}", LLM_ERR_UNSUPPORTED, "include");
	expect_status("{% extends 'base' %}", LLM_ERR_UNSUPPORTED, "extends");
	expect_status("{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}x{% endcall %}",
				  LLM_ERR_UNSUPPORTED, "call block");
	expect_status("{% for x in [1] recursive %}{% endfor %}", LLM_ERR_UNSUPPORTED, "recursive loop");
	expect_status("{{ [3, 1]|sort }}", LLM_ERR_UNSUPPORTED, "sort filter");
	expect_status("{{ [3, 1]|groupby('x') }}", LLM_ERR_UNSUPPORTED, "groupby filter");
	expect_status("{{ 'x'.format(1) }}", LLM_ERR_UNSUPPORTED, "str.format");
	expect_status("{{ '%a' % 1 }}", LLM_ERR_UNSUPPORTED, "%a formatting");
	expect_status("{% for x in [1] %}{{ loop|list }}{% endfor %}", LLM_ERR_UNSUPPORTED, "iterating loop");
	expect_status("{{ f(*args) }}", LLM_ERR_UNSUPPORTED, "*args");
	expect_status("{{ cycler(1, 2) }}", LLM_ERR_UNSUPPORTED, "cycler");
	/* a template that only mentions an unsupported filter in a dead branch still renders */
	expect_output("{% if false %}{{ x|sort }}{% endif %}ok", "ok", "dead unsupported branch");
	/* and the same for tool blocks: tools is None */
	expect_output("{% if tools %}{{ tools|map(attribute='function')|tojson(indent=2) }}{% endif %}ok",
				  "ok", "tools branch not taken");
}

static void
test_syntax_errors(void)
{
	expect_status("{% if x %}", LLM_ERR_CORRUPT, "unclosed if");
	expect_status("{{ x ", LLM_ERR_CORRUPT, "unclosed output");
	expect_status("{# never closed", LLM_ERR_CORRUPT, "unclosed comment");
	expect_status("{% endfor %}", LLM_ERR_CORRUPT, "stray endfor");
	expect_status("{{ x|nosuchfilter }}", LLM_ERR_CORRUPT, "unknown filter");
	expect_status("{{ x is nosuchtest }}", LLM_ERR_CORRUPT, "unknown test");
	/* like jinja2: inside an if, an unknown filter only fails if it runs */
	expect_output("{% if false %}{{ x|nosuchfilter }}{% endif %}ok", "ok", "unknown filter in dead if");
	expect_status("{% if true %}{{ x|nosuchfilter }}{% endif %}", LLM_ERR_INVALID_ARG, "unknown filter run");
	expect_status("{% if false %}{% for i in x %}{{ i|nosuchfilter }}{% endfor %}{% endif %}",
				  LLM_ERR_CORRUPT, "unknown filter in a loop inside an if");
	expect_status("{{ (1 }}", LLM_ERR_CORRUPT, "unbalanced paren");
	expect_status("{{ 'unterminated }}", LLM_ERR_CORRUPT, "unterminated string");
	expect_status("{% set true = 1 %}", LLM_ERR_CORRUPT, "assign to constant");
	expect_status("{{ 99999999999999999999 }}", LLM_ERR_UNSUPPORTED, "integer literal too big");
	expect_status("{% frobnicate %}", LLM_ERR_CORRUPT, "unknown tag");
	expect_status("{% break %}", LLM_ERR_CORRUPT, "break outside loop");
}

static void
test_limits(void)
{
	char	   *deep;
	size_t		n = 5000;

	/* nested loops that would run for hours */
	expect_status("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
				  LLM_ERR_LIMIT, "nested loop work limit");
	/* output growing past 1 MB */
	expect_status("{% for a in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
				  LLM_ERR_LIMIT, "output limit");
	/* quadratic string growth through a namespace */
	expect_status("{% set ns = namespace(s='x') %}{% for a in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
				  LLM_ERR_LIMIT, "doubling string");
	expect_status("{{ 'x' * 100000000 }}", LLM_ERR_LIMIT, "huge repetition");
	expect_status("{{ range(1000000000) }}", LLM_ERR_LIMIT, "huge range");
	/* unbounded recursion */
	expect_status("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", LLM_ERR_LIMIT, "macro recursion");
	/* a cycle through a namespace: Python's repr shows it as {...} */
	expect_output("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}",
				  "<Namespace {'me': <Namespace {...}>}>", "cyclic value repr");
	expect_status("{% set ns = namespace(a=[]) %}{% set ns.a = [ns, [ns]] %}{{ ns == ns.a[0] }}{{ ns.a == ns.a }}",
				  LLM_OK, "cyclic value equality");
	expect_status("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns|tojson }}", LLM_ERR_INVALID_ARG,
				  "namespace is not JSON");
	/* deep nesting in the parser */
	deep = malloc(n * 2 + 16);
	memcpy(deep, "{{ ", 3);
	for (size_t i = 0; i < n; i++)
		deep[3 + i] = '(';
	deep[3 + n] = '1';
	for (size_t i = 0; i < n; i++)
		deep[4 + n + i] = ')';
	memcpy(deep + 4 + 2 * n, " }}", 4);
	expect_status(deep, LLM_ERR_LIMIT, "deeply nested parentheses");
	for (size_t i = 0; i < n; i++)
		deep[3 + i] = '[';
	for (size_t i = 0; i < n; i++)
		deep[4 + n + i] = ']';
	expect_status(deep, LLM_ERR_LIMIT, "deeply nested lists");
	free(deep);
	/* deep block nesting */
	{
		size_t		depth = 300;
		char	   *t = malloc(depth * 24 + 8);
		size_t		k = 0;

		for (size_t i = 0; i < depth; i++)
			k += (size_t) sprintf(t + k, "{%% if true %%}");
		for (size_t i = 0; i < depth; i++)
			k += (size_t) sprintf(t + k, "{%% endif %%}");
		t[k] = '\0';
		expect_status(t, LLM_ERR_LIMIT, "deeply nested ifs");
		free(t);
	}
	/* long chains build deep trees without parser recursion */
	{
		const char *links[] = {"|trim", "+1", ".x", " or 1", "[0]", " ** 1"};

		for (size_t l = 0; l < sizeof(links) / sizeof(links[0]); l++)
		{
			size_t		count = 150000;
			size_t		ll = strlen(links[l]);
			char	   *t = malloc(count * ll + 32);
			size_t		k = 0;

			k += (size_t) sprintf(t, "{{ '1'");
			for (size_t i = 0; i < count && k + ll + 8 < (size_t) 1000000; i++)
			{
				memcpy(t + k, links[l], ll);
				k += ll;
			}
			memcpy(t + k, " }}", 4);
			expect_status(t, LLM_ERR_LIMIT, links[l]);
			free(t);
		}
	}
	/* long elif chains are fine (they do not nest at run time) */
	{
		size_t		arms = 2000;
		char	   *t = malloc(arms * 32 + 64);
		size_t		k = 0;

		k += (size_t) sprintf(t + k, "{%% if false %%}");
		for (size_t i = 0; i < arms; i++)
			k += (size_t) sprintf(t + k, "{%% elif %zu == %zu %%}%zu", i, arms - 1, i);
		k += (size_t) sprintf(t + k, "{%% endif %%}");
		t[k] = '\0';
		{
			char		want[16];

			snprintf(want, sizeof(want), "%zu", arms - 1);
			expect_output(t, want, "long elif chain");
		}
		free(t);
	}
}

static void
test_bad_input(void)
{
	llm_chat_message msgs[2] = {{"user", "hi"}, {NULL, "x"}};
	llm_chat_message bad_utf8[1] = {{"user", "\xC3\x28"}};
	char	   *out = NULL;
	size_t		len;
	llm_error	err;
	llm_status	st;

	st = llm_chat_render(NULL, 0, msgs, 2, true, "", "", &out, &len, &err);
	CHECK(st == LLM_ERR_INVALID_ARG && out == NULL, "NULL role: status %d", (int) st);
	st = llm_chat_render(NULL, 0, bad_utf8, 1, true, "", "", &out, &len, &err);
	CHECK(st == LLM_ERR_INVALID_ARG && out == NULL, "invalid UTF-8 content: status %d", (int) st);
	st = llm_chat_render("\xFF{{ 1 }}", 8, msgs, 1, true, "", "", &out, &len, &err);
	CHECK(st == LLM_ERR_CORRUPT && out == NULL, "invalid UTF-8 template: status %d", (int) st);
	st = llm_chat_render(NULL, 0, msgs, 1, true, "\xC0\x80", "", &out, &len, &err);
	CHECK(st == LLM_ERR_INVALID_ARG && out == NULL, "overlong UTF-8 bos: status %d", (int) st);

	/* zero messages with ChatML: just the generation prompt */
	st = llm_chat_render(NULL, 0, NULL, 0, true, NULL, NULL, &out, &len, &err);
	CHECK(st == LLM_OK && len == 22 && strcmp(out, "<|im_start|>assistant\n") == 0,
		  "no messages: status %d", (int) st);
	llm_free(out);

	/* NUL inside the template (GGUF strings are length-counted) */
	st = llm_chat_render("a\0b{{ 'c' }}", 12, msgs, 1, true, "", "", &out, &len, &err);
	CHECK(st == LLM_OK && len == 4 && memcmp(out, "a\0bc", 4) == 0, "NUL in template: status %d", (int) st);
	llm_free(out);
}

static void
test_compile_once(void)
{
	llm_chat_template *t = NULL;
	llm_error	err;
	llm_chat_message a[1] = {{"user", "one"}};
	llm_chat_message b[2] = {{"user", "two"}, {"assistant", "three"}};
	llm_chat_render_options opts = {false, "<s>", "</s>", NULL, 0};
	char	   *out = NULL;
	size_t		len;
	llm_status	st;
	const char *text = "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}"
		"{% if add_generation_prompt %}>{% endif %}{{ eos_token }}";

	st = llm_chat_template_compile(text, strlen(text), &t, &err);
	CHECK(st == LLM_OK && t != NULL, "compile: %s", err.msg);
	if (t == NULL)
		return;
	for (int round = 0; round < 3; round++)
	{
		st = llm_chat_template_render(t, a, 1, &opts, &out, &len, &err);
		CHECK(st == LLM_OK && strcmp(out, "<s>[user:one]</s>") == 0, "render a: %s", out ? out : err.msg);
		llm_free(out);
		opts.add_generation_prompt = true;
		st = llm_chat_template_render(t, b, 2, &opts, &out, &len, &err);
		CHECK(st == LLM_OK && strcmp(out, "<s>[user:two][assistant:three]></s>") == 0,
			  "render b: %s", out ? out : err.msg);
		llm_free(out);
		opts.add_generation_prompt = false;
	}
	/* options may be NULL: generation prompt on, empty tokens */
	st = llm_chat_template_render(t, a, 1, NULL, &out, &len, &err);
	CHECK(st == LLM_OK && strcmp(out, "[user:one]>") == 0, "NULL options: %s", out ? out : err.msg);
	llm_free(out);
	/* strftime_now without a pinned time uses the clock: 4-digit year */
	{
		llm_chat_template *d = NULL;

		st = llm_chat_template_compile("{{ strftime_now('%Y') }}", 24, &d, &err);
		CHECK(st == LLM_OK, "compile strftime");
		st = llm_chat_template_render(d, a, 1, NULL, &out, &len, &err);
		CHECK(st == LLM_OK && len == 4 && out[0] == '2', "strftime_now now: %s", out ? out : err.msg);
		llm_free(out);
		llm_chat_template_free(d);
	}
	llm_chat_template_free(t);
	llm_chat_template_free(NULL);
}

int
main(void)
{
	if (!find_root())
	{
		fprintf(stderr, "cannot find test/chat/golden.json (run from the repository root or set LLM_TEST_ROOT)\n");
		CHECK(false, "golden.json not found");
		return TEST_DONE();
	}
	run_golden();
	test_default_chatml();
	test_unsupported();
	test_syntax_errors();
	test_limits();
	test_bad_input();
	test_compile_once();
	return TEST_DONE();
}
