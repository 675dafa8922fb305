/*
 * render_cli.c — batch front end to the engine's chat-template renderer,
 * for test/chat/diff_fuzz.py (differential testing against
 * llama-cpp-python).  Reads a JSON array of cases
 *   {"template": str, "messages": [{"role","content"}], "bos", "eos",
 *    "add_generation_prompt": bool}
 * from the file named by argv[1] and writes a JSON array of results
 *   {"ok": true, "out": str} | {"ok": false, "status": int, "msg": str}
 * to stdout.  strftime_now() is pinned to 2025-03-09 14:05:07.
 *
 * Build (from the repository root):
 *   cc -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=address,undefined -Isrc/engine \
 *      -o /tmp/render_cli test/chat/render_cli.c src/engine/chat_template.c \
 *      src/engine/jinja_*.c src/engine/common.c -lcjson -lm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chat_template.h"

int
main(int argc, char **argv)
{
	FILE	   *f;
	long		n;
	char	   *buf;
	cJSON	   *doc,
			   *c,
			   *results;
	struct tm	now;
	char	   *text;

	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL)
	{
		fprintf(stderr, "usage: render_cli cases.json\n");
		return 2;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
		return 2;
	buf[n] = '\0';
	fclose(f);
	doc = cJSON_Parse(buf);
	free(buf);
	if (doc == NULL)
		return 2;

	memset(&now, 0, sizeof(now));
	now.tm_year = 125;
	now.tm_mon = 2;
	now.tm_mday = 9;
	now.tm_hour = 14;
	now.tm_min = 5;
	now.tm_sec = 7;
	now.tm_wday = 0;
	now.tm_yday = 67;

	results = cJSON_CreateArray();
	cJSON_ArrayForEach(c, doc)
	{
		const cJSON *msgs = cJSON_GetObjectItem(c, "messages");
		int			nm = cJSON_GetArraySize(msgs);
		llm_chat_message *m = calloc((size_t) nm + 1, sizeof(llm_chat_message));
		const char *tmpl = cJSON_GetObjectItem(c, "template")->valuestring;
		llm_chat_render_options opts;
		llm_chat_template *t = NULL;
		llm_error	err;
		char	   *out = NULL;
		size_t		out_len = 0;
		llm_status	st;
		cJSON	   *r = cJSON_CreateObject();

		for (int i = 0; i < nm; i++)
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
		st = llm_chat_template_compile(tmpl, strlen(tmpl), &t, &err);
		if (st == LLM_OK)
			st = llm_chat_template_render(t, m, (size_t) nm, &opts, &out, &out_len, &err);
		if (st == LLM_OK)
		{
			cJSON_AddBoolToObject(r, "ok", 1);
			/* outputs with NUL bytes are cut here; the fuzzer avoids them */
			cJSON_AddStringToObject(r, "out", out);
		}
		else
		{
			cJSON_AddBoolToObject(r, "ok", 0);
			cJSON_AddNumberToObject(r, "status", st);
			cJSON_AddStringToObject(r, "msg", err.msg);
		}
		cJSON_AddItemToArray(results, r);
		llm_free(out);
		llm_chat_template_free(t);
		free(m);
	}
	text = cJSON_PrintUnformatted(results);
	fputs(text, stdout);
	putchar('\n');
	free(text);
	cJSON_Delete(results);
	cJSON_Delete(doc);
	return 0;
}
