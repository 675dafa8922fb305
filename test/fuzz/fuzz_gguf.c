/*
 * fuzz_gguf.c — libFuzzer target for the GGUF reader and model metadata.
 *
 * Parses the input with gguf_parse, then touches everything a loader could
 * touch on a file that parsed: every kv through every typed getter, every
 * array element (fixed-size elements by index, strings and nested arrays
 * unpacked), every tensor's bytes, lookups by name, llm_model_info_load and
 * llm_hparams_load.  A file that parses must never make any of these read
 * out of bounds.  See test/fuzz/README.md for building and running.
 */
#include "common.h"
#include "gguf.h"
#include "model_info.h"

#include <stdlib.h>
#include <string.h>

/* Keep results observable so the compiler cannot drop the reads. */
static volatile uint64_t sink;

static void
touch_bytes(const void *p, uint64_t n)
{
	const uint8_t *b = p;
	uint64_t	acc = 0;

	/* first, last and a stride: enough for ASan to see a bad range */
	if (n == 0)
		return;
	acc += b[0] + b[n - 1];
	for (uint64_t i = 0; i < n; i += 4096)
		acc += b[i];
	sink += acc;
}

/* Doubles go in by their bits: converting NaN or -1 to an integer is UB. */
static void
sink_double(double d)
{
	uint64_t	bits;

	memcpy(&bits, &d, sizeof(bits));
	sink += bits;
}

static void exercise_array(const gguf_array *arr, int depth);

static void
exercise_array(const gguf_array *arr, int depth)
{
	llm_error	err;
	uint64_t	n = arr->count;

	touch_bytes(arr->data, arr->nbytes);
	if (depth > 16)
		return;
	if (arr->elem_type == GGUF_TYPE_STRING)
	{
		/* bounded: the parse guarantees count * 8 <= file size */
		gguf_string *strs = n ? calloc(n, sizeof(*strs)) : NULL;

		if (n && strs == NULL)
			return;
		if (gguf_array_strings(arr, strs, &err) == LLM_OK)
			for (uint64_t i = 0; i < n; i++)
			{
				touch_bytes(strs[i].ptr, strs[i].len);
				sink += gguf_str_eq(strs[i], "<s>");
			}
		free(strs);
	}
	else if (arr->elem_type == GGUF_TYPE_ARRAY)
	{
		gguf_array *inner = n ? calloc(n, sizeof(*inner)) : NULL;

		if (n && inner == NULL)
			return;
		if (gguf_array_arrays(arr, inner, &err) == LLM_OK)
			for (uint64_t i = 0; i < n; i++)
				exercise_array(&inner[i], depth + 1);
		free(inner);
	}
	else
	{
		/* every element would be slow for a 1 MB array: first, last, a stride */
		for (uint64_t i = 0; i < n; i += (n / 64) + 1)
		{
			sink += (uint64_t) gguf_array_get_int(arr, i);
			sink_double(gguf_array_get_float(arr, i));
		}
		if (n)
		{
			sink += (uint64_t) gguf_array_get_int(arr, n - 1);
			sink_double(gguf_array_get_float(arr, n - 1));
		}
		sink += (uint64_t) gguf_array_get_int(arr, n);	/* out of range: 0 */
	}
	/* the wrong unpacker must refuse cleanly */
	if (arr->elem_type != GGUF_TYPE_STRING)
		sink += gguf_array_strings(arr, NULL, &err);
	if (arr->elem_type != GGUF_TYPE_ARRAY)
		sink += gguf_array_arrays(arr, NULL, &err);
}

static void
exercise_kv(const gguf_file *f, const gguf_kv *kv)
{
	char		key[256];
	llm_error	err;
	uint32_t	u32;
	uint64_t	u64;
	int64_t		i64;
	float		f32;
	bool		b;
	gguf_string s;
	gguf_array	arr;

	touch_bytes(kv->key.ptr, kv->key.len);
	sink += strlen(gguf_type_name(kv->value.type));

	/* look the key up by name when it can be spelled as a C string */
	if (kv->key.len >= sizeof(key) || memchr(kv->key.ptr, '\0', kv->key.len) != NULL)
		return;
	memcpy(key, kv->key.ptr, kv->key.len);
	key[kv->key.len] = '\0';
	if (gguf_find_kv(f, key) == NULL)
		__builtin_trap();		/* every key must be found by its name */

	sink += gguf_get_u32(f, key, &u32, &err);
	sink += gguf_get_u64(f, key, &u64, &err);
	sink += gguf_get_i64(f, key, &i64, &err);
	if (gguf_get_f32(f, key, &f32, &err) == LLM_OK)
		sink_double(f32);
	sink += gguf_get_bool(f, key, &b, &err);
	sink += gguf_has(f, key);
	if (gguf_get_str(f, key, &s, &err) == LLM_OK)
		touch_bytes(s.ptr, s.len);
	if (gguf_get_arr(f, key, &arr, &err) == LLM_OK)
		exercise_array(&arr, 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gguf_file  *f = NULL;
	llm_error	err;
	llm_model_info info;
	llm_hparams hp;

	if (gguf_parse(data, size, &f, &err) != LLM_OK)
	{
		if (f != NULL)
			__builtin_trap();	/* failure must not hand out a file */
		sink += strlen(err.msg) + strlen(err.detail);
		return 0;
	}

	for (uint64_t i = 0; i < f->n_kv; i++)
		exercise_kv(f, &f->kv[i]);

	for (uint64_t i = 0; i < f->n_tensors; i++)
	{
		const gguf_tensor *t = &f->tensors[i];

		if ((const uint8_t *) t->data < f->base ||
			(const uint8_t *) t->data + t->nbytes > f->base + f->size)
			__builtin_trap();
		touch_bytes(t->data, t->nbytes);
		if (gguf_find_tensor(f, t->name) == NULL)
			__builtin_trap();
	}
	sink += gguf_find_tensor(f, "token_embd.weight") != NULL;
	sink += gguf_find_kv(f, "general.architecture") != NULL;

	if (llm_model_info_load(f, &info, &err) == LLM_OK)
		sink += strlen(info.architecture) + strlen(info.name) + strlen(info.quantization) +
			info.n_params;
	else
		sink += strlen(err.msg);
	if (llm_hparams_load(f, &hp, &err) == LLM_OK)
		sink += hp.n_embd + hp.n_vocab;
	else
		sink += strlen(err.msg);

	gguf_close(f);
	return 0;
}
