/*
 * fuzz_chat_template.c — libFuzzer target for the chat-template renderer.
 *
 * The input is a template (any bytes: invalid UTF-8, broken syntax and
 * hostile loops included); it is compiled and rendered twice against a
 * fixed conversation.  Whatever the input, the renderer must return a
 * status (never crash, leak, hang or overrun), produce valid output on
 * success, and a message on failure.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/engine \
 *       test/fuzz/fuzz_chat_template.c src/engine/chat_template.c \
 *       src/engine/jinja_*.c src/engine/common.c -lm -o /tmp/fuzz_chat_template
 *   /tmp/fuzz_chat_template -max_len=8192 -dict=test/chat/fuzz.dict \
 *       -max_total_time=120 /tmp/corpus test/data/chat-templates
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chat_template.h"

static const llm_chat_message messages[] = {
	{"system", "You are helpful."},
	{"user", "Hi \xC3\xA9 {{ x }} {% if %}"},
	{"assistant", " <think>hm</think>ok\n"},
	{"tool", NULL},
	{"user", "again"},
};

static void
check(llm_status st, const char *out, size_t len, const llm_error *err)
{
	if (st == LLM_OK)
	{
		/* NUL-terminated at len */
		if (out == NULL || out[len] != '\0')
			abort();
	}
	else if (out != NULL || err->msg[0] == '\0' || st != err->status)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	llm_chat_template *t = NULL;
	llm_error	err;
	llm_status	st;
	struct tm	now;
	llm_chat_render_options opts;

	memset(&err, 0, sizeof(err));
	st = llm_chat_template_compile((const char *) data, size, &t, &err);
	if (st != LLM_OK)
	{
		if (t != NULL || err.msg[0] == '\0')
			abort();
		return 0;
	}
	memset(&now, 0, sizeof(now));
	now.tm_year = 125;
	now.tm_mday = 9;
	opts.add_generation_prompt = true;
	opts.bos_token = "<s>";
	opts.eos_token = "</s>";
	opts.now = &now;
	opts.max_work = 2 * 1000 * 1000;	/* keep each input quick */
	for (int round = 0; round < 2; round++)
	{
		char	   *out = NULL;
		size_t		len = 0;

		memset(&err, 0, sizeof(err));
		st = llm_chat_template_render(t, messages, round == 0 ? 5 : 2, &opts, &out, &len, &err);
		check(st, out, len, &err);
		llm_free(out);
		opts.add_generation_prompt = false;
	}
	llm_chat_template_free(t);
	return 0;
}
