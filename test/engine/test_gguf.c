/*
 * test_gguf.c — the GGUF reader and model metadata against files built in
 * memory: every value type, alignment, tensor views, llama hyperparameters,
 * and a set of hostile files (bad magic, every truncation, absurd counts,
 * deep nesting, bad shapes and offsets, duplicates).
 *
 * With LLM_TEST_MODEL pointing at SmolLM2-135M-Instruct Q4_1 it also
 * checks that file's hyperparameters and summary and times opening it;
 * with LLM_TEST_BAD_GGUFS naming a directory written by
 * test/make_bad_ggufs.py, it checks each of those files' status.
 *
 * Every parse reads from a heap copy of exactly the file's size, so
 * valgrind or ASan catch a read one byte past the end.
 */
#include "common.h"
#include "dtype.h"
#include "gguf.h"
#include "model_info.h"
#include "test_util.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ----------------------------------------------------------------
 * A GGUF builder
 * ---------------------------------------------------------------- */

typedef struct bytes
{
	uint8_t    *p;
	size_t		len;
	size_t		cap;
} bytes;

static void
put(bytes *b, const void *src, size_t n)
{
	if (b->len + n > b->cap)
	{
		size_t		cap = b->cap ? b->cap * 2 : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
		{
			fprintf(stderr, "out of memory\n");
			exit(2);
		}
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void
put_u8(bytes *b, uint8_t v)
{
	put(b, &v, 1);
}

static void
put_u16(bytes *b, uint16_t v)
{
	uint8_t		x[2] = {v & 0xFF, v >> 8};

	put(b, x, 2);
}

static void
put_u32(bytes *b, uint32_t v)
{
	uint8_t		x[4];

	for (int i = 0; i < 4; i++)
		x[i] = (v >> (8 * i)) & 0xFF;
	put(b, x, 4);
}

static void
put_u64(bytes *b, uint64_t v)
{
	put_u32(b, (uint32_t) v);
	put_u32(b, (uint32_t) (v >> 32));
}

static void
put_f32(bytes *b, float f)
{
	uint32_t	u;

	memcpy(&u, &f, 4);
	put_u32(b, u);
}

static void
put_f64(bytes *b, double f)
{
	uint64_t	u;

	memcpy(&u, &f, 8);
	put_u64(b, u);
}

static void
put_str(bytes *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}

typedef struct builder
{
	uint32_t	version;
	uint32_t	alignment;		/* used to lay out data; add the kv yourself */
	bytes		kvs;
	uint64_t	n_kv;
	bytes		infos;
	uint64_t	n_tensors;
	bytes		data;
} builder;

static void
b_init(builder *g, uint32_t alignment)
{
	memset(g, 0, sizeof(*g));
	g->version = 3;
	g->alignment = alignment;
}

static void
b_free(builder *g)
{
	free(g->kvs.p);
	free(g->infos.p);
	free(g->data.p);
}

/* Start a kv; the caller writes the value into g->kvs. */
static bytes *
kv(builder *g, const char *key, gguf_type type)
{
	g->n_kv++;
	put_str(&g->kvs, key);
	put_u32(&g->kvs, type);
	return &g->kvs;
}

static void
kv_u32(builder *g, const char *key, uint32_t v)
{
	put_u32(kv(g, key, GGUF_TYPE_UINT32), v);
}

static void
kv_f32(builder *g, const char *key, float v)
{
	put_f32(kv(g, key, GGUF_TYPE_FLOAT32), v);
}

static void
kv_str(builder *g, const char *key, const char *v)
{
	put_str(kv(g, key, GGUF_TYPE_STRING), v);
}

static void
kv_strs(builder *g, const char *key, int n, const char *const *v)
{
	bytes	   *b = kv(g, key, GGUF_TYPE_ARRAY);

	put_u32(b, GGUF_TYPE_STRING);
	put_u64(b, n);
	for (int i = 0; i < n; i++)
		put_str(b, v[i]);
}

/* Tensor info with an explicit offset and no data. */
static void
tensor_raw(builder *g, const char *name, uint32_t n_dims, const uint64_t *ne,
		   uint32_t type, uint64_t offset)
{
	g->n_tensors++;
	put_str(&g->infos, name);
	put_u32(&g->infos, n_dims);
	for (uint32_t d = 0; d < n_dims; d++)
		put_u64(&g->infos, ne[d]);
	put_u32(&g->infos, type);
	put_u64(&g->infos, offset);
}

/* Tensor with data: bytes i of the tensor are (seed + i) & 0xFF. */
static uint64_t
tensor(builder *g, const char *name, uint32_t n_dims, const uint64_t *ne, uint32_t type)
{
	uint64_t	n = 1,
				row,
				nbytes,
				offset;

	for (uint32_t d = 0; d < n_dims; d++)
		n *= ne[d];
	if (!llm_dtype_row_bytes(type, ne[0], &row))
	{
		fprintf(stderr, "bad test tensor %s\n", name);
		exit(2);
	}
	nbytes = n / ne[0] * row;
	while (g->data.len % g->alignment != 0)
		put_u8(&g->data, 0);
	offset = g->data.len;
	tensor_raw(g, name, n_dims, ne, type, offset);
	for (uint64_t i = 0; i < nbytes; i++)
		put_u8(&g->data, (uint8_t) (g->n_tensors * 7 + i));
	return offset;
}

static void
tensor2(builder *g, const char *name, uint64_t ne0, uint64_t ne1)
{
	uint64_t	ne[2] = {ne0, ne1};

	tensor(g, name, ne1 == 1 ? 1 : 2, ne, LLM_DTYPE_F32);
}

/*
 * Serialize with the given header counts (NULL for the real ones).
 * Returns a malloc'd buffer of exactly *len bytes.
 */
static uint8_t *
b_finish_counts(builder *g, const uint64_t *n_tensors, const uint64_t *n_kv, size_t *len)
{
	bytes		out = {0};
	uint8_t    *p;

	put(&out, "GGUF", 4);
	put_u32(&out, g->version);
	put_u64(&out, n_tensors ? *n_tensors : g->n_tensors);
	put_u64(&out, n_kv ? *n_kv : g->n_kv);
	put(&out, g->kvs.p, g->kvs.len);
	put(&out, g->infos.p, g->infos.len);
	if (g->n_tensors > 0)
	{
		while (out.len % g->alignment != 0)
			put_u8(&out, 0);
		put(&out, g->data.p, g->data.len);
	}
	/* exact-size copy so an overread is an ASan/valgrind error */
	p = malloc(out.len ? out.len : 1);
	memcpy(p, out.p, out.len);
	*len = out.len;
	free(out.p);
	return p;
}

static uint8_t *
b_finish(builder *g, size_t *len)
{
	return b_finish_counts(g, NULL, NULL, len);
}

/* Parse, close, return the status; err gets the message. */
static llm_status
parse_status(const uint8_t *buf, size_t len, llm_error *err)
{
	gguf_file  *f = NULL;
	llm_status	st;

	memset(err, 0, sizeof(*err));
	st = gguf_parse(buf, len, &f, err);
	if (st != LLM_OK && f != NULL)
	{
		CHECK(false, "gguf_parse failed but returned a file");
	}
	gguf_close(f);
	return st;
}

/* Build g, parse, free the builder, expect status; returns err for more checks. */
static void
expect_status(builder *g, llm_status want, const char *what, const char *msg_part,
			  const char *detail_part)
{
	size_t		len;
	uint8_t    *buf = b_finish(g, &len);
	llm_error	err;
	llm_status	st = parse_status(buf, len, &err);

	CHECK(st == want, "%s: status %d, expected %d (%s | %s)", what, st, want, err.msg, err.detail);
	if (msg_part)
		CHECK(strstr(err.msg, msg_part) != NULL, "%s: message \"%s\" lacks \"%s\"", what,
			  err.msg, msg_part);
	if (detail_part)
		CHECK(strstr(err.detail, detail_part) != NULL, "%s: detail \"%s\" lacks \"%s\"", what,
			  err.detail, detail_part);
	free(buf);
	b_free(g);
}

/* ----------------------------------------------------------------
 * Value round trips
 * ---------------------------------------------------------------- */

static void
test_value_types(void)
{
	builder		g;
	bytes	   *b;
	size_t		len;
	uint8_t    *buf;
	gguf_file  *f = NULL;
	llm_error	err = {0};
	llm_status	st;
	uint32_t	u32;
	uint64_t	u64;
	int64_t		i64;
	float		f32;
	bool		bv;
	gguf_string s;
	gguf_array	arr;

	b_init(&g, 32);
	put_u8(kv(&g, "t.u8", GGUF_TYPE_UINT8), 200);
	put_u8(kv(&g, "t.i8", GGUF_TYPE_INT8), (uint8_t) -100);
	put_u16(kv(&g, "t.u16", GGUF_TYPE_UINT16), 65000);
	put_u16(kv(&g, "t.i16", GGUF_TYPE_INT16), (uint16_t) -30000);
	put_u32(kv(&g, "t.u32", GGUF_TYPE_UINT32), 4000000000u);
	put_u32(kv(&g, "t.i32", GGUF_TYPE_INT32), (uint32_t) -2000000000);
	put_f32(kv(&g, "t.f32", GGUF_TYPE_FLOAT32), 1.5f);
	put_u8(kv(&g, "t.bool", GGUF_TYPE_BOOL), 1);
	put_str(kv(&g, "t.str", GGUF_TYPE_STRING), "héllo");
	put_u64(kv(&g, "t.u64", GGUF_TYPE_UINT64), UINT64_MAX);
	put_u64(kv(&g, "t.i64", GGUF_TYPE_INT64), (uint64_t) INT64_MIN);
	put_f64(kv(&g, "t.f64", GGUF_TYPE_FLOAT64), -2.25);
	put_str(kv(&g, "t.empty", GGUF_TYPE_STRING), "");
	put_f64(kv(&g, "t.bigf64", GGUF_TYPE_FLOAT64), 1e300);

	/* arrays of each fixed type */
	b = kv(&g, "a.i16", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_INT16);
	put_u64(b, 3);
	put_u16(b, 1);
	put_u16(b, (uint16_t) -2);
	put_u16(b, 3);
	b = kv(&g, "a.f32", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_FLOAT32);
	put_u64(b, 2);
	put_f32(b, 0.5f);
	put_f32(b, -4.0f);
	b = kv(&g, "a.u64", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_UINT64);
	put_u64(b, 2);
	put_u64(b, 7);
	put_u64(b, 1ull << 40);
	b = kv(&g, "a.f64", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_FLOAT64);
	put_u64(b, 1);
	put_f64(b, 3.125);
	b = kv(&g, "a.bool", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_BOOL);
	put_u64(b, 2);
	put_u8(b, 0);
	put_u8(b, 1);
	b = kv(&g, "a.empty", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_UINT32);
	put_u64(b, 0);
	{
		const char *words[] = {"alpha", "", "gamma delta"};

		kv_strs(&g, "a.str", 3, words);
	}
	/* [[1, 2], [], [3]] of u32 */
	b = kv(&g, "a.nested", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_ARRAY);
	put_u64(b, 3);
	put_u32(b, GGUF_TYPE_UINT32);
	put_u64(b, 2);
	put_u32(b, 1);
	put_u32(b, 2);
	put_u32(b, GGUF_TYPE_UINT8);
	put_u64(b, 0);
	put_u32(b, GGUF_TYPE_UINT32);
	put_u64(b, 1);
	put_u32(b, 3);
	/* [["x", "yz"]] */
	b = kv(&g, "a.nested_str", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_ARRAY);
	put_u64(b, 1);
	put_u32(b, GGUF_TYPE_STRING);
	put_u64(b, 2);
	put_str(b, "x");
	put_str(b, "yz");
	kv_u32(&g, "after.arrays", 42);

	buf = b_finish(&g, &len);
	st = gguf_parse(buf, len, &f, &err);
	CHECK(st == LLM_OK, "value file parses: %s | %s", err.msg, err.detail);
	if (st != LLM_OK)
	{
		free(buf);
		b_free(&g);
		return;
	}
	CHECK(f->version == 3 && f->n_kv == g.n_kv && f->n_tensors == 0, "header fields");
	CHECK(f->alignment == 32, "default alignment 32, got %u", f->alignment);
	CHECK(f->kv[0].value.type == GGUF_TYPE_UINT8 && f->kv[0].value.u == 200, "u8 value");
	CHECK(gguf_str_eq(f->kv[0].key, "t.u8"), "first key");
	CHECK(gguf_find_kv(f, "t.i8")->value.i == -100, "i8");
	CHECK(gguf_find_kv(f, "t.u16")->value.u == 65000, "u16");
	CHECK(gguf_find_kv(f, "t.i16")->value.i == -30000, "i16");
	CHECK(gguf_find_kv(f, "t.u32")->value.u == 4000000000u, "u32");
	CHECK(gguf_find_kv(f, "t.i32")->value.i == -2000000000, "i32");
	CHECK(gguf_find_kv(f, "t.f32")->value.f == 1.5, "f32");
	CHECK(gguf_find_kv(f, "t.bool")->value.u == 1, "bool");
	CHECK(gguf_find_kv(f, "t.u64")->value.u == UINT64_MAX, "u64");
	CHECK(gguf_find_kv(f, "t.i64")->value.i == INT64_MIN, "i64");
	CHECK(gguf_find_kv(f, "t.f64")->value.f == -2.25, "f64");
	CHECK(gguf_find_kv(f, "nope") == NULL && !gguf_has(f, "nope") && gguf_has(f, "t.u8"),
		  "absent key");
	CHECK(gguf_find_kv(f, "t.u") == NULL && gguf_find_kv(f, "t.u80") == NULL,
		  "prefix keys do not match");

	/* typed getters */
	CHECK(gguf_get_u32(f, "t.u8", &u32, &err) == LLM_OK && u32 == 200, "u32 from u8");
	CHECK(gguf_get_u32(f, "t.u32", &u32, &err) == LLM_OK && u32 == 4000000000u, "u32 from u32");
	CHECK(gguf_get_u32(f, "t.i8", &u32, &err) == LLM_ERR_CORRUPT, "u32 from negative i8");
	CHECK(strstr(err.msg, "t.i8") != NULL, "getter error names the key: %s", err.msg);
	CHECK(gguf_get_u32(f, "t.u64", &u32, &err) == LLM_ERR_CORRUPT, "u32 from u64 max");
	CHECK(gguf_get_u64(f, "t.u64", &u64, &err) == LLM_OK && u64 == UINT64_MAX, "u64");
	CHECK(gguf_get_i64(f, "t.u64", &i64, &err) == LLM_ERR_CORRUPT, "i64 from u64 max");
	CHECK(gguf_get_i64(f, "t.i64", &i64, &err) == LLM_OK && i64 == INT64_MIN, "i64 min");
	CHECK(gguf_get_i64(f, "t.i16", &i64, &err) == LLM_OK && i64 == -30000, "i64 from i16");
	CHECK(gguf_get_u64(f, "t.i64", &u64, &err) == LLM_ERR_CORRUPT, "u64 from negative");
	CHECK(gguf_get_u32(f, "t.str", &u32, &err) == LLM_ERR_CORRUPT, "u32 from string");
	CHECK(gguf_get_u32(f, "t.f32", &u32, &err) == LLM_ERR_CORRUPT, "u32 from float");
	CHECK(gguf_get_f32(f, "t.f32", &f32, &err) == LLM_OK && f32 == 1.5f, "f32");
	CHECK(gguf_get_f32(f, "t.f64", &f32, &err) == LLM_OK && f32 == -2.25f, "f32 from f64");
	CHECK(gguf_get_f32(f, "t.u16", &f32, &err) == LLM_OK && f32 == 65000.0f, "f32 from int");
	CHECK(gguf_get_f32(f, "t.bigf64", &f32, &err) == LLM_ERR_CORRUPT, "f32 from 1e300");
	CHECK(gguf_get_f32(f, "t.str", &f32, &err) == LLM_ERR_CORRUPT, "f32 from string");
	CHECK(gguf_get_bool(f, "t.bool", &bv, &err) == LLM_OK && bv, "bool");
	CHECK(gguf_get_bool(f, "t.str", &bv, &err) == LLM_ERR_CORRUPT, "bool from string");
	CHECK(gguf_get_str(f, "t.str", &s, &err) == LLM_OK && gguf_str_eq(s, "héllo"), "string");
	CHECK(gguf_get_str(f, "t.empty", &s, &err) == LLM_OK && s.len == 0 && gguf_str_eq(s, ""),
		  "empty string");
	CHECK(gguf_get_str(f, "t.u8", &s, &err) == LLM_ERR_CORRUPT, "string from u8");
	CHECK(gguf_get_arr(f, "t.u8", &arr, &err) == LLM_ERR_CORRUPT, "array from u8");

	/* absent: INVALID_ARG and the error untouched */
	memset(&err, 0, sizeof(err));
	CHECK(gguf_get_u32(f, "absent", &u32, &err) == LLM_ERR_INVALID_ARG && err.msg[0] == '\0',
		  "absent u32");
	CHECK(gguf_get_u64(f, "absent", &u64, &err) == LLM_ERR_INVALID_ARG, "absent u64");
	CHECK(gguf_get_i64(f, "absent", &i64, &err) == LLM_ERR_INVALID_ARG, "absent i64");
	CHECK(gguf_get_f32(f, "absent", &f32, &err) == LLM_ERR_INVALID_ARG, "absent f32");
	CHECK(gguf_get_bool(f, "absent", &bv, &err) == LLM_ERR_INVALID_ARG, "absent bool");
	CHECK(gguf_get_str(f, "absent", &s, &err) == LLM_ERR_INVALID_ARG, "absent str");
	CHECK(gguf_get_arr(f, "absent", &arr, &err) == LLM_ERR_INVALID_ARG && err.msg[0] == '\0',
		  "absent arr");

	/* arrays */
	CHECK(gguf_get_arr(f, "a.i16", &arr, &err) == LLM_OK && arr.elem_type == GGUF_TYPE_INT16 &&
		  arr.count == 3 && arr.nbytes == 6, "i16 array header");
	CHECK(gguf_array_get_int(&arr, 0) == 1 && gguf_array_get_int(&arr, 1) == -2 &&
		  gguf_array_get_int(&arr, 2) == 3 && gguf_array_get_int(&arr, 3) == 0,
		  "i16 array elements");
	CHECK(gguf_array_get_float(&arr, 1) == -2.0, "int element as float");
	CHECK(gguf_get_arr(f, "a.f32", &arr, &err) == LLM_OK &&
		  gguf_array_get_float(&arr, 0) == 0.5 && gguf_array_get_float(&arr, 1) == -4.0 &&
		  gguf_array_get_float(&arr, 2) == 0.0, "f32 array");
	CHECK(gguf_get_arr(f, "a.u64", &arr, &err) == LLM_OK &&
		  gguf_array_get_int(&arr, 1) == (int64_t) (1ull << 40), "u64 array");
	CHECK(gguf_get_arr(f, "a.f64", &arr, &err) == LLM_OK &&
		  gguf_array_get_float(&arr, 0) == 3.125, "f64 array");
	CHECK(gguf_get_arr(f, "a.bool", &arr, &err) == LLM_OK &&
		  gguf_array_get_int(&arr, 0) == 0 && gguf_array_get_int(&arr, 1) == 1, "bool array");
	CHECK(gguf_get_arr(f, "a.empty", &arr, &err) == LLM_OK && arr.count == 0 &&
		  arr.nbytes == 0, "empty array");
	CHECK(gguf_get_arr(f, "a.str", &arr, &err) == LLM_OK && arr.elem_type == GGUF_TYPE_STRING &&
		  arr.count == 3, "string array header");
	{
		gguf_string strs[3];

		CHECK(gguf_array_strings(&arr, strs, &err) == LLM_OK &&
			  gguf_str_eq(strs[0], "alpha") && gguf_str_eq(strs[1], "") &&
			  gguf_str_eq(strs[2], "gamma delta"), "string array elements");
		CHECK(gguf_array_get_int(&arr, 0) == 0, "int access on a string array gives 0");
	}
	CHECK(gguf_get_arr(f, "a.nested", &arr, &err) == LLM_OK && arr.elem_type == GGUF_TYPE_ARRAY &&
		  arr.count == 3, "nested array header");
	{
		gguf_array	inner[3];
		gguf_string strs[2];

		CHECK(gguf_array_arrays(&arr, inner, &err) == LLM_OK, "unpack nested");
		CHECK(inner[0].elem_type == GGUF_TYPE_UINT32 && inner[0].count == 2 &&
			  gguf_array_get_int(&inner[0], 0) == 1 && gguf_array_get_int(&inner[0], 1) == 2,
			  "nested [0]");
		CHECK(inner[1].elem_type == GGUF_TYPE_UINT8 && inner[1].count == 0, "nested [1]");
		CHECK(inner[2].count == 1 && gguf_array_get_int(&inner[2], 0) == 3, "nested [2]");
		CHECK(gguf_array_strings(&arr, strs, &err) == LLM_ERR_INVALID_ARG,
			  "strings of an array of arrays");

		CHECK(gguf_get_arr(f, "a.nested_str", &arr, &err) == LLM_OK &&
			  gguf_array_arrays(&arr, inner, &err) == LLM_OK &&
			  inner[0].elem_type == GGUF_TYPE_STRING && inner[0].count == 2 &&
			  gguf_array_strings(&inner[0], strs, &err) == LLM_OK &&
			  gguf_str_eq(strs[0], "x") && gguf_str_eq(strs[1], "yz"), "nested strings");
	}
	CHECK(gguf_get_u32(f, "after.arrays", &u32, &err) == LLM_OK && u32 == 42,
		  "value after the arrays");
	CHECK(strcmp(gguf_type_name(GGUF_TYPE_FLOAT32), "float32") == 0 &&
		  strcmp(gguf_type_name((gguf_type) 99), "unknown") == 0, "type names");
	CHECK(gguf_type_size(GGUF_TYPE_UINT64) == 8 && gguf_type_size(GGUF_TYPE_STRING) == 0,
		  "type sizes");
	gguf_close(f);
	free(buf);

	/* version 2 reads the same */
	g.version = 2;
	buf = b_finish(&g, &len);
	CHECK(parse_status(buf, len, &err) == LLM_OK, "version 2 parses");
	free(buf);
	b_free(&g);
}

/* ----------------------------------------------------------------
 * Alignment and tensors
 * ---------------------------------------------------------------- */

static void
test_tensors_and_alignment(void)
{
	static const uint32_t aligns[] = {32, 64, 8, 1, 4096};

	for (size_t a = 0; a < sizeof(aligns) / sizeof(aligns[0]); a++)
	{
		builder		g;
		uint64_t	ne_a[2] = {4, 3};
		uint64_t	ne_b[2] = {64, 2};
		uint64_t	ne_c[1] = {8};
		uint64_t	ne_d[4] = {2, 3, 4, 5};
		uint64_t	off[4];
		size_t		len;
		uint8_t    *buf;
		gguf_file  *f = NULL;
		llm_error	err = {0};
		const gguf_tensor *t;

		b_init(&g, aligns[a]);
		if (aligns[a] != 32)
			kv_u32(&g, "general.alignment", aligns[a]);
		kv_str(&g, "general.architecture", "test");
		off[0] = tensor(&g, "a", 2, ne_a, LLM_DTYPE_F32);
		off[1] = tensor(&g, "b.weight", 2, ne_b, LLM_DTYPE_Q4_1);
		off[2] = tensor(&g, "c", 1, ne_c, LLM_DTYPE_F16);
		off[3] = tensor(&g, "d", 4, ne_d, LLM_DTYPE_I8);
		buf = b_finish(&g, &len);
		if (gguf_parse(buf, len, &f, &err) != LLM_OK)
		{
			CHECK(false, "alignment %u: %s | %s", aligns[a], err.msg, err.detail);
			free(buf);
			b_free(&g);
			continue;
		}
		CHECK(f->alignment == aligns[a], "alignment %u read as %u", aligns[a], f->alignment);
		CHECK(f->data_offset % aligns[a] == 0, "data offset %llu aligned to %u",
			  (unsigned long long) f->data_offset, aligns[a]);
		CHECK(f->data_offset == len - g.data.len, "data offset where the builder put it");
		CHECK(f->n_tensors == 4, "4 tensors");

		t = gguf_find_tensor(f, "a");
		CHECK(t && t->type == LLM_DTYPE_F32 && t->n_dims == 2 && t->ne[0] == 4 && t->ne[1] == 3 &&
			  t->ne[2] == 1 && t->ne[3] == 1 && t->n_elements == 12 && t->nbytes == 48 &&
			  t->offset == off[0], "tensor a view");
		CHECK(t && t->data == buf + f->data_offset + off[0], "tensor a data pointer");
		t = gguf_find_tensor(f, "b.weight");
		CHECK(t && t->type == LLM_DTYPE_Q4_1 && t->n_elements == 128 && t->nbytes == 2 * 2 * 20,
			  "tensor b view (Q4_1)");
		CHECK(t && t->data == buf + f->data_offset + off[1] &&
			  ((const uint8_t *) t->data)[0] == (uint8_t) (2 * 7) &&
			  ((const uint8_t *) t->data)[5] == (uint8_t) (2 * 7 + 5), "tensor b bytes");
		t = gguf_find_tensor(f, "c");
		CHECK(t && t->type == LLM_DTYPE_F16 && t->n_dims == 1 && t->ne[1] == 1 && t->nbytes == 16,
			  "tensor c view (F16)");
		t = gguf_find_tensor(f, "d");
		CHECK(t && t->n_dims == 4 && t->n_elements == 120 && t->nbytes == 120 && t->ne[3] == 5,
			  "tensor d view (4-D)");
		CHECK(gguf_find_tensor(f, "e") == NULL && gguf_find_tensor(f, "b") == NULL,
			  "absent tensor");
		CHECK(&f->tensors[1] == gguf_find_tensor(f, "b.weight"), "tensors keep file order");
		gguf_close(f);
		free(buf);
		b_free(&g);
	}

	/* invalid alignments */
	{
		static const uint32_t bad[] = {0, 3, 48, 0x80000001u};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			builder		g;
			uint64_t	ne[1] = {8};

			b_init(&g, 32);
			kv_u32(&g, "general.alignment", bad[i]);
			tensor(&g, "x", 1, ne, LLM_DTYPE_F32);
			expect_status(&g, LLM_ERR_CORRUPT, "bad alignment", "alignment", "general.alignment");
		}
	}
	{
		builder		g;

		b_init(&g, 32);
		put_u64(kv(&g, "general.alignment", GGUF_TYPE_UINT64), 64);
		expect_status(&g, LLM_ERR_CORRUPT, "u64 alignment", "alignment", "uint64");
	}
	{
		builder		g;

		b_init(&g, 32);
		put_str(kv(&g, "general.alignment", GGUF_TYPE_STRING), "32");
		expect_status(&g, LLM_ERR_CORRUPT, "string alignment", "alignment", NULL);
	}
	/* offset that is fine for 32 but not for a custom 64 */
	{
		builder		g;
		uint64_t	ne[1] = {8};

		b_init(&g, 32);
		kv_u32(&g, "general.alignment", 64);
		tensor_raw(&g, "x", 1, ne, LLM_DTYPE_F32, 32);
		put(&g.data, "0123456789012345678901234567890123456789012345678901234567890123456789", 70);
		g.alignment = 64;
		expect_status(&g, LLM_ERR_CORRUPT, "offset 32 with alignment 64", "offset", "\"x\"");
	}
}

/* ----------------------------------------------------------------
 * Hostile files
 * ---------------------------------------------------------------- */

/* A small valid file with a bit of everything, ending exactly at its data. */
static uint8_t *
small_valid_file(size_t *len)
{
	builder		g;
	bytes	   *b;
	uint8_t    *buf;
	uint64_t	ne2[2] = {32, 2};
	uint64_t	ne1[1] = {4};
	const char *words[] = {"a", "bc", "<s>"};

	b_init(&g, 32);
	kv_str(&g, "general.architecture", "llama");
	kv_u32(&g, "some.u32", 7);
	kv_strs(&g, "tokenizer.ggml.tokens", 3, words);
	b = kv(&g, "some.nested", GGUF_TYPE_ARRAY);
	put_u32(b, GGUF_TYPE_ARRAY);
	put_u64(b, 1);
	put_u32(b, GGUF_TYPE_INT16);
	put_u64(b, 2);
	put_u16(b, 1);
	put_u16(b, 2);
	kv_f32(&g, "some.f32", 0.25f);
	tensor(&g, "first", 2, ne2, LLM_DTYPE_Q8_0);
	tensor(&g, "second", 1, ne1, LLM_DTYPE_F32);
	buf = b_finish(&g, len);
	b_free(&g);
	return buf;
}

static void
test_truncation(void)
{
	size_t		len;
	uint8_t    *full = small_valid_file(&len);
	llm_error	err;
	int			bad = 0;

	CHECK(parse_status(full, len, &err) == LLM_OK, "small valid file parses: %s | %s",
		  err.msg, err.detail);
	for (size_t n = 0; n < len; n++)
	{
		uint8_t    *prefix = malloc(n ? n : 1);
		llm_status	st;

		memcpy(prefix, full, n);
		st = parse_status(n ? prefix : NULL, n, &err);
		if (st != LLM_ERR_CORRUPT)
		{
			if (bad++ < 5)
				CHECK(false, "prefix of %zu/%zu bytes: status %d (%s)", n, len, st, err.msg);
		}
		else if (bad == 0 && (strstr(err.msg, "truncated") == NULL || err.detail[0] == '\0'))
		{
			bad++;
			CHECK(false, "prefix of %zu bytes: message \"%s\" detail \"%s\"", n, err.msg,
				  err.detail);
		}
		free(prefix);
	}
	CHECK(bad == 0, "%d of %zu prefixes misjudged", bad, len);
	printf("truncation: %zu prefixes all CORRUPT\n", len);

	/* the message says what and where */
	parse_status(full, 130, &err);
	CHECK(strcmp(err.detail, "metadata key 2 (\"tokenizer.ggml.tokens\") needs 8 bytes at "
				 "offset 130 but the file has 130 bytes") == 0,
		  "truncation detail names the key: %s", err.detail);
	printf("truncation message: %s: %s\n", err.msg, err.detail);
	parse_status(full, len - 1, &err);
	CHECK(strstr(err.detail, "second") != NULL, "data truncation names the tensor: %s",
		  err.detail);
	free(full);
}

static void
test_hostile_headers(void)
{
	uint8_t		buf[64];
	size_t		len;
	uint8_t    *file;
	llm_error	err;
	builder		g;

	/* wrong magic, text */
	CHECK(parse_status((const uint8_t *) "hello world, not a model", 24, &err) == LLM_ERR_CORRUPT &&
		  strstr(err.msg, "not a GGUF") != NULL, "text file");
	memcpy(buf, "GGML", 4);
	memset(buf + 4, 0, 20);
	CHECK(parse_status(buf, 24, &err) == LLM_ERR_CORRUPT, "wrong magic GGML");
	CHECK(parse_status(NULL, 0, &err) == LLM_ERR_CORRUPT, "empty buffer");

	/* versions */
	b_init(&g, 32);
	g.version = 1;
	expect_status(&g, LLM_ERR_UNSUPPORTED, "version 1", "version 1", NULL);
	b_init(&g, 32);
	g.version = 99;
	expect_status(&g, LLM_ERR_UNSUPPORTED, "version 99", "99", NULL);
	b_init(&g, 32);
	g.version = 0x03000000;
	expect_status(&g, LLM_ERR_UNSUPPORTED, "big-endian", "big-endian", NULL);
	b_init(&g, 32);
	g.version = 0;
	expect_status(&g, LLM_ERR_CORRUPT, "version 0", NULL, NULL);

	/* absurd counts */
	{
		static const uint64_t counts[] = {1ull << 63, UINT64_MAX, 1ull << 32, 1000};

		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		{
			b_init(&g, 32);
			kv_u32(&g, "a", 1);
			file = b_finish_counts(&g, NULL, &counts[i], &len);
			CHECK(parse_status(file, len, &err) == LLM_ERR_CORRUPT, "kv_count %llu",
				  (unsigned long long) counts[i]);
			free(file);
			file = b_finish_counts(&g, &counts[i], NULL, &len);
			CHECK(parse_status(file, len, &err) == LLM_ERR_CORRUPT, "tensor_count %llu",
				  (unsigned long long) counts[i]);
			free(file);
			b_free(&g);
		}
	}

	/* absurd string lengths: key and value */
	b_init(&g, 32);
	put_u64(&g.kvs, 1ull << 63);
	put(&g.kvs, "abcdefghijklmnop", 16);
	g.n_kv = 1;
	expect_status(&g, LLM_ERR_CORRUPT, "key length 2^63", "truncated", "metadata key 0");
	b_init(&g, 32);
	put_u64(kv(&g, "s", GGUF_TYPE_STRING), UINT64_MAX);
	expect_status(&g, LLM_ERR_CORRUPT, "string length 2^64-1", "truncated", "\"s\"");
	b_init(&g, 32);
	put_u64(kv(&g, "s", GGUF_TYPE_STRING), 100);
	put(&g.kvs, "short", 5);
	expect_status(&g, LLM_ERR_CORRUPT, "string length past the end", "truncated", NULL);

	/* absurd array counts, for each kind of element */
	{
		static const uint32_t elem_types[] = {GGUF_TYPE_UINT8, GGUF_TYPE_UINT32, GGUF_TYPE_UINT64,
		GGUF_TYPE_STRING, GGUF_TYPE_ARRAY};
		static const uint64_t counts[] = {1ull << 63, UINT64_MAX, (1ull << 62) + 1, 1ull << 61, 100};

		for (size_t t = 0; t < sizeof(elem_types) / sizeof(elem_types[0]); t++)
			for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
			{
				bytes	   *b;

				b_init(&g, 32);
				b = kv(&g, "tokenizer.ggml.tokens", GGUF_TYPE_ARRAY);
				put_u32(b, elem_types[t]);
				put_u64(b, counts[c]);
				put_u64(b, 0);	/* a little content */
				put_u64(b, 0);
				expect_status(&g, LLM_ERR_CORRUPT, "absurd array count", NULL,
							  "tokenizer.ggml.tokens");
			}
	}

	/* unknown value types, top-level and as array elements */
	b_init(&g, 32);
	put_u32(kv(&g, "x", (gguf_type) 13), 0);
	expect_status(&g, LLM_ERR_CORRUPT, "value type 13", "type", "\"x\"");
	b_init(&g, 32);
	{
		bytes	   *b = kv(&g, "x", GGUF_TYPE_ARRAY);

		put_u32(b, 0xFFFFFFFFu);
		put_u64(b, 1);
		put_u64(b, 0);
	}
	expect_status(&g, LLM_ERR_CORRUPT, "array element type", "type", NULL);

	/* nesting: depth 8 is fine, 9 is not, a million is not */
	for (int depth = 7; depth <= 10; depth++)
	{
		bytes	   *b;

		b_init(&g, 32);
		b = kv(&g, "deep", GGUF_TYPE_ARRAY);
		for (int d = 1; d < depth; d++)
		{
			put_u32(b, GGUF_TYPE_ARRAY);
			put_u64(b, 1);
		}
		put_u32(b, GGUF_TYPE_UINT8);
		put_u64(b, 1);
		put_u8(b, 5);
		expect_status(&g, depth <= 8 ? LLM_OK : LLM_ERR_CORRUPT, "nesting depth",
					  depth <= 8 ? NULL : "nested", depth <= 8 ? NULL : "deep");
	}
	{
		bytes	   *b;

		b_init(&g, 32);
		b = kv(&g, "deeper", GGUF_TYPE_ARRAY);
		for (int d = 0; d < 100000; d++)
		{
			put_u32(b, GGUF_TYPE_ARRAY);
			put_u64(b, 1);
		}
		expect_status(&g, LLM_ERR_CORRUPT, "100000-deep nesting", "nested", NULL);
	}

	/* duplicate key */
	b_init(&g, 32);
	kv_u32(&g, "general.x", 1);
	kv_u32(&g, "general.y", 1);
	kv_str(&g, "general.x", "again");
	expect_status(&g, LLM_ERR_CORRUPT, "duplicate key", "duplicate", "general.x");

	/* key too long */
	{
		char	   *longkey = malloc(70000);

		memset(longkey, 'k', 69999);
		longkey[69999] = '\0';
		b_init(&g, 32);
		kv_u32(&g, longkey, 1);
		expect_status(&g, LLM_ERR_CORRUPT, "70000-byte key", "key", NULL);
		free(longkey);
	}
}

static void
test_hostile_tensors(void)
{
	builder		g;
	uint64_t	ne[4] = {32, 2, 1, 1};

	/* n_dims 0 and 5 */
	b_init(&g, 32);
	tensor_raw(&g, "t", 0, ne, LLM_DTYPE_F32, 0);
	put(&g.data, ne, 32);
	expect_status(&g, LLM_ERR_CORRUPT, "n_dims 0", "shape", "\"t\"");
	{
		uint64_t	ne5[5] = {1, 1, 1, 1, 1};

		b_init(&g, 32);
		tensor_raw(&g, "t", 5, ne5, LLM_DTYPE_F32, 0);
		put(&g.data, ne5, 8);
		expect_status(&g, LLM_ERR_CORRUPT, "n_dims 5", "shape", "5 dimensions");
	}
	/* a zero dim */
	{
		uint64_t	z[2] = {32, 0};

		b_init(&g, 32);
		tensor_raw(&g, "t", 2, z, LLM_DTYPE_F32, 0);
		expect_status(&g, LLM_ERR_CORRUPT, "dim 0", "shape", "dimension 1 is 0");
	}
	/* product overflows */
	{
		uint64_t	big[4] = {1ull << 32, 1ull << 32, 2, 1};
		uint64_t	big2[2] = {1ull << 62, 4};

		b_init(&g, 32);
		tensor_raw(&g, "t", 3, big, LLM_DTYPE_F32, 0);
		expect_status(&g, LLM_ERR_CORRUPT, "dims overflow", "shape", "overflow");
		b_init(&g, 32);
		tensor_raw(&g, "t", 2, big2, LLM_DTYPE_F32, 0);
		expect_status(&g, LLM_ERR_CORRUPT, "dims product 2^64", "shape", "overflow");
	}
	/* byte size overflows though the element count fits */
	{
		uint64_t	big[1] = {1ull << 62};

		b_init(&g, 32);
		tensor_raw(&g, "t", 1, big, LLM_DTYPE_F32, 0);
		expect_status(&g, LLM_ERR_CORRUPT, "nbytes overflow", "shape", "overflow");
	}
	/* plausible but far larger than the file */
	{
		uint64_t	big[2] = {4096, 4096};

		b_init(&g, 32);
		tensor_raw(&g, "t", 2, big, LLM_DTYPE_F32, 0);
		expect_status(&g, LLM_ERR_CORRUPT, "tensor past the end", "truncated", "\"t\"");
	}
	/* unknown tensor types: past the table and in a gap */
	{
		static const uint32_t types[] = {4, 5, 31, 36, 40, 1000, 0xFFFFFFFFu};

		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		{
			char		want[32];

			snprintf(want, sizeof(want), "type id %u", types[i]);
			b_init(&g, 32);
			tensor_raw(&g, "blk.0.attn_q.weight", 2, ne, types[i], 0);
			put(&g.data, ne, 32);
			expect_status(&g, LLM_ERR_UNSUPPORTED, "unknown type", "tensor type", want);
		}
	}
	/* row not a multiple of the block */
	{
		uint64_t	odd[2] = {33, 2};

		b_init(&g, 32);
		tensor_raw(&g, "q", 2, odd, LLM_DTYPE_Q4_0, 0);
		expect_status(&g, LLM_ERR_CORRUPT, "row vs block", "shape", "block size");
	}
	/* offsets: outside the file, huge, misaligned */
	{
		static const uint64_t offs[] = {4096, 1ull << 63, UINT64_MAX - 31, 16, 1};

		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		{
			b_init(&g, 32);
			tensor_raw(&g, "t", 2, ne, LLM_DTYPE_F32, offs[i]);
			put(&g.data, ne, 32);
			expect_status(&g, LLM_ERR_CORRUPT, "bad offset", NULL, "\"t\"");
		}
	}
	/* name too long, NUL in name */
	{
		char		name[80];

		memset(name, 'n', 65);
		name[65] = '\0';
		b_init(&g, 32);
		tensor_raw(&g, name, 1, ne, LLM_DTYPE_F32, 0);
		expect_status(&g, LLM_ERR_CORRUPT, "65-byte name", "name", NULL);
		name[64] = '\0';
		b_init(&g, 32);
		tensor(&g, name, 1, ne, LLM_DTYPE_F32);
		expect_status(&g, LLM_OK, "64-byte name", NULL, NULL);

		b_init(&g, 32);
		g.n_tensors = 1;
		put_u64(&g.infos, 3);
		put(&g.infos, "a\0b", 3);
		put_u32(&g.infos, 1);
		put_u64(&g.infos, 1);
		put_u32(&g.infos, LLM_DTYPE_F32);
		put_u64(&g.infos, 0);
		put(&g.data, ne, 4);
		expect_status(&g, LLM_ERR_CORRUPT, "NUL in name", "name", NULL);
	}
	/* duplicate tensor */
	b_init(&g, 32);
	tensor(&g, "w", 2, ne, LLM_DTYPE_F32);
	tensor(&g, "v", 2, ne, LLM_DTYPE_F32);
	tensor(&g, "w", 2, ne, LLM_DTYPE_F32);
	expect_status(&g, LLM_ERR_CORRUPT, "duplicate tensor", "duplicate", "\"w\"");
}

/* ----------------------------------------------------------------
 * gguf_open
 * ---------------------------------------------------------------- */

static void
write_file(const char *path, const void *buf, size_t len)
{
	FILE	   *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0)
	{
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
}

static void
test_open(void)
{
	char		dir[] = "/tmp/test_gguf_XXXXXX";
	char		path[64];
	size_t		len;
	uint8_t    *buf;
	gguf_file  *f = NULL;
	llm_error	err = {0};
	struct stat st;

	if (mkdtemp(dir) == NULL)
	{
		CHECK(false, "mkdtemp");
		return;
	}
	buf = small_valid_file(&len);
	snprintf(path, sizeof(path), "%s/ok.gguf", dir);
	write_file(path, buf, len);
	stat(path, &st);
	CHECK(gguf_open(path, &f, &err) == LLM_OK, "open a valid file: %s", err.msg);
	if (f)
	{
		CHECK(f->map != NULL && f->map_size == len && f->base == f->map && f->size == len,
			  "mapping fields");
		CHECK(f->st_size == (int64_t) len && f->st_ino == st.st_ino && f->st_dev == st.st_dev &&
			  f->st_mtime_ns == (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
			  "identity fields");
		CHECK(gguf_find_tensor(f, "second") != NULL &&
			  memcmp(gguf_find_tensor(f, "second")->data,
					 buf + (len - 16), 16) == 0, "tensor data through the mapping");
		gguf_close(f);
	}
	unlink(path);

	snprintf(path, sizeof(path), "%s/empty.gguf", dir);
	write_file(path, "", 0);
	CHECK(gguf_open(path, &f, &err) == LLM_ERR_CORRUPT && f == NULL, "empty file: %d %s",
		  err.status, err.msg);
	unlink(path);

	snprintf(path, sizeof(path), "%s/trunc.gguf", dir);
	write_file(path, buf, len / 2);
	CHECK(gguf_open(path, &f, &err) == LLM_ERR_CORRUPT && f == NULL, "truncated file");
	unlink(path);

	snprintf(path, sizeof(path), "%s/missing.gguf", dir);
	CHECK(gguf_open(path, &f, &err) == LLM_ERR_IO && f == NULL &&
		  strstr(err.msg, "missing.gguf") != NULL, "missing file: %s", err.msg);
	CHECK(gguf_open(dir, &f, &err) == LLM_ERR_IO && f == NULL, "directory");
	gguf_close(NULL);
	rmdir(dir);
	free(buf);
}

/* ----------------------------------------------------------------
 * Model metadata
 * ---------------------------------------------------------------- */

typedef struct tiny_llama
{
	uint32_t	n_embd,
				n_head,
				n_head_kv,
				n_ff,
				n_layer,
				n_vocab;
	bool		tensors;
	bool		output;
	const char *arch;
	const char *skip_tensor;	/* leave this one out */
	const char *skip_key;		/* and this key */
} tiny_llama;

static const tiny_llama tiny_default = {8, 2, 1, 16, 2, 4, true, false, "llama", NULL, NULL};

static bool
want_key(const tiny_llama *t, const char *key)
{
	return t->skip_key == NULL || strcmp(t->skip_key, key) != 0;
}

static void
build_tiny_llama(builder *g, const tiny_llama *t)
{
	const char *tokens[] = {"<unk>", "<s>", "</s>", "hi", "there", "x", "y", "z"};
	uint32_t	hd = t->n_embd / (t->n_head ? t->n_head : 1);
	uint32_t	n_head_kv = t->n_head_kv;
	char		key[128];

	b_init(g, 32);
	kv_str(g, "general.architecture", t->arch);
	kv_str(g, "general.name", "Tiny \x01Test\xff Model");
	kv_u32(g, "general.file_type", 0);
#define K(suffix) (snprintf(key, sizeof(key), "%s.%s", t->arch, suffix), key)
	if (want_key(t, "context_length"))
		kv_u32(g, K("context_length"), 256);
	if (want_key(t, "embedding_length"))
		kv_u32(g, K("embedding_length"), t->n_embd);
	if (want_key(t, "block_count"))
		kv_u32(g, K("block_count"), t->n_layer);
	if (want_key(t, "feed_forward_length"))
		kv_u32(g, K("feed_forward_length"), t->n_ff);
	if (want_key(t, "attention.head_count"))
		kv_u32(g, K("attention.head_count"), t->n_head);
	if (want_key(t, "attention.head_count_kv"))
		kv_u32(g, K("attention.head_count_kv"), n_head_kv);
	if (want_key(t, "attention.layer_norm_rms_epsilon"))
		kv_f32(g, K("attention.layer_norm_rms_epsilon"), 1e-6f);
	if (want_key(t, "rope.freq_base"))
		kv_f32(g, K("rope.freq_base"), 500000.0f);
#undef K
	kv_str(g, "tokenizer.ggml.model", "llama");
	kv_strs(g, "tokenizer.ggml.tokens", (int) t->n_vocab, tokens);
	kv_str(g, "tokenizer.chat_template", "{{ messages }}");
	if (!t->tensors)
		return;
	{
		const char *names[] = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
		"ffn_norm", "ffn_gate", "ffn_up", "ffn_down"};
		uint64_t	shapes[9][2] = {
			{t->n_embd, 1}, {t->n_embd, t->n_head * hd}, {t->n_embd, n_head_kv * hd},
			{t->n_embd, n_head_kv * hd}, {t->n_head * hd, t->n_embd}, {t->n_embd, 1},
			{t->n_embd, t->n_ff}, {t->n_embd, t->n_ff}, {t->n_ff, t->n_embd}
		};
		char		name[64];

		if (!t->skip_tensor || strcmp(t->skip_tensor, "token_embd.weight") != 0)
			tensor2(g, "token_embd.weight", t->n_embd, t->n_vocab);
		for (uint32_t l = 0; l < t->n_layer; l++)
			for (int i = 0; i < 9; i++)
			{
				snprintf(name, sizeof(name), "blk.%u.%s.weight", l, names[i]);
				if (t->skip_tensor && strcmp(t->skip_tensor, name) == 0)
					continue;
				tensor2(g, name, shapes[i][0], shapes[i][1]);
			}
		tensor2(g, "output_norm.weight", t->n_embd, 1);
		if (t->output)
			tensor2(g, "output.weight", t->n_embd, t->n_vocab);
	}
}

/* Build, parse, run hparams; returns the status and fills hp/err. */
static llm_status
tiny_hparams(const tiny_llama *t, void (*extra) (builder *g), llm_hparams *hp, llm_error *err)
{
	builder		g;
	size_t		len;
	uint8_t    *buf;
	gguf_file  *f = NULL;
	llm_status	st;

	build_tiny_llama(&g, t);
	if (extra)
		extra(&g);
	buf = b_finish(&g, &len);
	memset(err, 0, sizeof(*err));
	st = gguf_parse(buf, len, &f, err);
	if (st == LLM_OK)
	{
		st = llm_hparams_load(f, hp, err);
		gguf_close(f);
	}
	free(buf);
	b_free(&g);
	return st;
}

static void
extra_rope_yarn(builder *g)
{
	kv_str(g, "llama.rope.scaling.type", "yarn");
	kv_f32(g, "llama.rope.scaling.factor", 4.0f);
	kv_u32(g, "llama.rope.scaling.original_context_length", 64);
	kv_u32(g, "llama.rope.dimension_count", 2);
}

static void
extra_rope_bad(builder *g)
{
	kv_str(g, "llama.rope.scaling.type", "sideways");
}

static void
extra_eps_nan(builder *g)
{
	kv_f32(g, "llama.attention.layer_norm_rms_epsilon", NAN);
}

static void
extra_rot_odd(builder *g)
{
	kv_u32(g, "llama.rope.dimension_count", 3);
}

static void
extra_ctx_string(builder *g)
{
	kv_str(g, "llama.context_length", "long");
}

static void
extra_ff_array(builder *g)
{
	bytes	   *b = kv(g, "llama.feed_forward_length", GGUF_TYPE_ARRAY);

	put_u32(b, GGUF_TYPE_UINT32);
	put_u64(b, 2);
	put_u32(b, 16);
	put_u32(b, 16);
}

static void
extra_vocab_mismatch(builder *g)
{
	kv_u32(g, "llama.vocab_size", 5);
}

static void
test_hparams(void)
{
	llm_hparams hp;
	llm_error	err;
	tiny_llama	t;
	llm_status	st;

	t = tiny_default;
	st = tiny_hparams(&t, NULL, &hp, &err);
	CHECK(st == LLM_OK, "tiny llama hparams: %s | %s", err.msg, err.detail);
	CHECK(strcmp(hp.arch, "llama") == 0 && hp.n_ctx_train == 256 && hp.n_embd == 8 &&
		  hp.n_layer == 2 && hp.n_ff == 16 && hp.n_head == 2 && hp.n_head_kv == 1 &&
		  hp.n_embd_head_k == 4 && hp.n_embd_head_v == 4 && hp.n_rot == 4 && hp.n_vocab == 4,
		  "tiny llama sizes");
	CHECK(hp.norm_rms_eps == 1e-6f && hp.rope_freq_base == 500000.0f &&
		  hp.rope_scaling == LLM_ROPE_SCALING_NONE && hp.rope_scaling_factor == 1.0f &&
		  hp.rope_scaling_orig_ctx == 256, "tiny llama floats and rope defaults");
	CHECK(hp.has_tensors && hp.tied_output, "tied output");

	t.output = true;
	CHECK(tiny_hparams(&t, NULL, &hp, &err) == LLM_OK && !hp.tied_output, "separate output");

	t = tiny_default;
	t.skip_key = "attention.head_count_kv";
	t.n_head_kv = t.n_head;
	CHECK(tiny_hparams(&t, NULL, &hp, &err) == LLM_OK && hp.n_head_kv == 2,
		  "head_count_kv defaults to head_count: %s", err.msg);
	t = tiny_default;
	t.skip_key = "rope.freq_base";
	CHECK(tiny_hparams(&t, NULL, &hp, &err) == LLM_OK && hp.rope_freq_base == 10000.0f,
		  "freq_base default");

	t = tiny_default;
	t.tensors = false;
	CHECK(tiny_hparams(&t, NULL, &hp, &err) == LLM_OK && !hp.has_tensors, "vocab-only: %s",
		  err.msg);

	t = tiny_default;
	t.tensors = false;
	CHECK(tiny_hparams(&t, extra_rope_yarn, &hp, &err) == LLM_OK &&
		  hp.rope_scaling == LLM_ROPE_SCALING_YARN && hp.rope_scaling_factor == 4.0f &&
		  hp.rope_scaling_orig_ctx == 64 && hp.n_rot == 2, "yarn scaling: %s", err.msg);
	CHECK(tiny_hparams(&t, extra_rope_bad, &hp, &err) == LLM_ERR_UNSUPPORTED &&
		  strstr(err.msg, "sideways"), "unknown rope scaling: %s", err.msg);
	/* extra_eps_nan adds a second epsilon key: a duplicate */
	CHECK(tiny_hparams(&t, extra_eps_nan, &hp, &err) == LLM_ERR_CORRUPT &&
		  strstr(err.msg, "duplicate"), "duplicate epsilon key: %s", err.msg);

	/* invalid values, each naming its key */
	{
		struct
		{
			uint32_t	n_embd,
						n_head,
						n_head_kv,
						n_ff,
						n_layer;
			const char *key;
		}			bad[] = {
			{8, 0, 1, 16, 2, "attention.head_count"},
			{8, 2, 0, 16, 2, "attention.head_count_kv"},
			{8, 4, 3, 16, 2, "attention.head_count_kv"},
			{9, 2, 1, 16, 2, "attention.head_count"},
			{6, 2, 1, 16, 2, "attention.head_count"},	/* head dim 3 is odd */
			{8, 2, 1, 0, 2, "feed_forward_length"},
			{8, 2, 1, 16, 0, "block_count"},
			{8, 2, 1, 16, 2000, "block_count"},
			{0, 2, 1, 16, 2, "embedding_length"},
			{1u << 21, 2, 1, 16, 2, "embedding_length"},
			{8, 16, 1, 16, 2, "attention.head_count"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			t = tiny_default;
			t.tensors = false;
			t.n_embd = bad[i].n_embd;
			t.n_head = bad[i].n_head;
			t.n_head_kv = bad[i].n_head_kv;
			t.n_ff = bad[i].n_ff;
			t.n_layer = bad[i].n_layer;
			st = tiny_hparams(&t, NULL, &hp, &err);
			CHECK(st == LLM_ERR_CORRUPT && strstr(err.msg, bad[i].key) != NULL,
				  "bad hparams %zu: status %d, message \"%s\" should name %s", i, st, err.msg,
				  bad[i].key);
		}
	}
	{
		static const char *required[] = {"context_length", "embedding_length", "block_count",
		"feed_forward_length", "attention.head_count", "attention.layer_norm_rms_epsilon"};

		for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		{
			t = tiny_default;
			t.skip_key = required[i];
			st = tiny_hparams(&t, NULL, &hp, &err);
			CHECK(st == LLM_ERR_CORRUPT && strstr(err.msg, "missing") &&
				  strstr(err.msg, required[i]), "missing %s: %d %s", required[i], st, err.msg);
		}
	}
	{
		static void (*const extras[]) (builder *) = {extra_eps_nan, extra_rot_odd, extra_ctx_string};
		static const char *const keys[] = {"attention.layer_norm_rms_epsilon",
		"rope.dimension_count", "context_length"};

		for (size_t i = 0; i < 3; i++)
		{
			t = tiny_default;
			t.skip_key = i == 0 ? "attention.layer_norm_rms_epsilon" :
				i == 2 ? "context_length" : NULL;
			st = tiny_hparams(&t, extras[i], &hp, &err);
			CHECK(st == LLM_ERR_CORRUPT && strstr(err.msg, keys[i]),
				  "bad %s: %d %s", keys[i], st, err.msg);
		}
	}
	t = tiny_default;
	t.skip_key = "feed_forward_length";
	CHECK(tiny_hparams(&t, extra_ff_array, &hp, &err) == LLM_ERR_UNSUPPORTED,
		  "per-layer array: %s", err.msg);
	t = tiny_default;
	CHECK(tiny_hparams(&t, extra_vocab_mismatch, &hp, &err) == LLM_ERR_CORRUPT &&
		  strstr(err.msg, "token_embd"), "vocab_size vs token_embd: %s", err.msg);

	/* tensors */
	t = tiny_default;
	t.skip_tensor = "blk.1.ffn_up.weight";
	CHECK(tiny_hparams(&t, NULL, &hp, &err) == LLM_ERR_CORRUPT &&
		  strstr(err.msg, "blk.1.ffn_up.weight") && strstr(err.msg, "missing"),
		  "missing tensor: %s", err.msg);
	t = tiny_default;
	t.skip_tensor = "token_embd.weight";
	CHECK(tiny_hparams(&t, NULL, &hp, &err) == LLM_ERR_CORRUPT, "missing token_embd");
	t = tiny_default;
	t.n_ff = 24;
	t.n_layer = 3;
	t.n_vocab = 8;
	CHECK(tiny_hparams(&t, NULL, &hp, &err) == LLM_OK && hp.n_ff == 24 && hp.n_layer == 3 &&
		  hp.n_vocab == 8, "other sizes: %s", err.msg);

	/* other architectures */
	t = tiny_default;
	t.arch = "gemma3";
	st = tiny_hparams(&t, NULL, &hp, &err);
	CHECK(st == LLM_ERR_UNSUPPORTED && strcmp(err.msg, "unsupported model architecture \"gemma3\"") == 0,
		  "gemma3: %d %s", st, err.msg);
}

static void
test_wrong_shape(void)
{
	/* q projection built for 3 heads while the key says 2 */
	builder		g;
	tiny_llama	t = tiny_default;
	size_t		len;
	uint8_t    *buf;
	gguf_file  *f = NULL;
	llm_error	err = {0};
	llm_hparams hp;

	t.n_embd = 12;
	t.n_head = 3;
	t.n_head_kv = 1;
	t.skip_key = "attention.head_count";
	build_tiny_llama(&g, &t);
	kv_u32(&g, "llama.attention.head_count", 2);
	kv_u32(&g, "llama.attention.key_length", 4);	/* 2 heads of 4: q is 8 wide */
	buf = b_finish(&g, &len);
	CHECK(gguf_parse(buf, len, &f, &err) == LLM_OK, "wrong-shape file parses");
	if (f)
	{
		CHECK(llm_hparams_load(f, &hp, &err) == LLM_ERR_CORRUPT &&
			  strstr(err.msg, "blk.0.attn_q.weight") && strstr(err.msg, "shape") &&
			  strstr(err.detail, "expected [12, 8]"), "wrong shape: %s | %s", err.msg, err.detail);
		gguf_close(f);
	}
	free(buf);
	b_free(&g);
}

static void
test_model_info(void)
{
	builder		g;
	tiny_llama	t = tiny_default;
	size_t		len;
	uint8_t    *buf;
	gguf_file  *f = NULL;
	llm_error	err = {0};
	llm_model_info info;

	build_tiny_llama(&g, &t);
	buf = b_finish(&g, &len);
	if (gguf_parse(buf, len, &f, &err) == LLM_OK)
	{
		uint64_t	n = 8 * 4 + 8 + 2 * (8 + 8 * 8 + 2 * 8 * 4 + 8 * 8 + 8 + 3 * 8 * 16);

		CHECK(llm_model_info_load(f, &info, &err) == LLM_OK, "model info: %s", err.msg);
		CHECK(strcmp(info.architecture, "llama") == 0, "architecture");
		CHECK(strcmp(info.name, "Tiny ?Test? Model") == 0, "name sanitized: %s", info.name);
		CHECK(strcmp(info.quantization, "F32") == 0 && info.file_type == 0, "quantization %s",
			  info.quantization);
		CHECK(info.n_params == n, "n_params %llu, expected %llu",
			  (unsigned long long) info.n_params, (unsigned long long) n);
		CHECK(info.context_length == 256 && info.vocab_size == 4 && info.n_layer == 2 &&
			  info.n_embd == 8 && info.has_chat_template, "summary values");
		CHECK(strcmp(info.tokenizer_model, "llama") == 0, "tokenizer model");
		gguf_close(f);
	}
	else
		CHECK(false, "model info file: %s", err.msg);
	free(buf);
	b_free(&g);

	/* other architecture, no file_type: dominant 2-D type, still fine */
	b_init(&g, 32);
	kv_str(&g, "general.architecture", "gemma3");
	kv_u32(&g, "gemma3.context_length", 32768);
	{
		uint64_t	ne[2] = {64, 4};
		uint64_t	ne1[1] = {64};

		tensor(&g, "a", 2, ne, LLM_DTYPE_Q8_0);
		tensor(&g, "b", 2, ne, LLM_DTYPE_Q8_0);
		tensor(&g, "c", 2, ne, LLM_DTYPE_F16);
		tensor(&g, "n1", 1, ne1, LLM_DTYPE_F32);
		tensor(&g, "n2", 1, ne1, LLM_DTYPE_F32);
		tensor(&g, "n3", 1, ne1, LLM_DTYPE_F32);
	}
	buf = b_finish(&g, &len);
	if (gguf_parse(buf, len, &f, &err) == LLM_OK)
	{
		llm_hparams hp;

		CHECK(llm_model_info_load(f, &info, &err) == LLM_OK && strcmp(info.architecture, "gemma3") == 0 &&
			  info.context_length == 32768 && strcmp(info.quantization, "Q8_0") == 0 &&
			  info.file_type == -1 && !info.has_chat_template && info.name[0] == '\0' &&
			  info.vocab_size == 0 && info.n_params == 3 * 256 + 3 * 64,
			  "gemma3 info: %s %s", info.architecture, info.quantization);
		CHECK(llm_hparams_load(f, &hp, &err) == LLM_ERR_UNSUPPORTED, "gemma3 hparams unsupported");
		gguf_close(f);
	}
	else
		CHECK(false, "gemma3 file: %s", err.msg);
	free(buf);
	b_free(&g);

	/* no architecture */
	b_init(&g, 32);
	kv_u32(&g, "general.file_type", 15);
	buf = b_finish(&g, &len);
	if (gguf_parse(buf, len, &f, &err) == LLM_OK)
	{
		CHECK(llm_model_info_load(f, &info, &err) == LLM_ERR_CORRUPT &&
			  strstr(err.msg, "general.architecture"), "no architecture");
		gguf_close(f);
	}
	free(buf);
	b_free(&g);

	CHECK(strcmp(llm_ftype_name(15), "Q4_K_M") == 0 && strcmp(llm_ftype_name(3), "Q4_1") == 0 &&
		  strcmp(llm_ftype_name(7), "Q8_0") == 0 && strcmp(llm_ftype_name(1), "F16") == 0 &&
		  strcmp(llm_ftype_name(1024 + 2), "Q4_0") == 0 && llm_ftype_name(5) == NULL &&
		  llm_ftype_name(-1) == NULL && llm_ftype_name(99) == NULL, "ftype names");
}

/* ----------------------------------------------------------------
 * The real model
 * ---------------------------------------------------------------- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
test_real_model(void)
{
	const char *path = getenv("LLM_TEST_MODEL");
	gguf_file  *f = NULL;
	llm_error	err = {0};
	llm_hparams hp;
	llm_model_info info;
	double		best = 1e9;

	if (path == NULL || path[0] == '\0')
	{
		printf("LLM_TEST_MODEL not set: skipping the real-model checks\n");
		return;
	}
	for (int i = 0; i < 5; i++)
	{
		double		t0 = now_ms(),
					t1;
		llm_status	st = gguf_open(path, &f, &err);

		if (st == LLM_OK)
			st = llm_hparams_load(f, &hp, &err);
		t1 = now_ms();
		if (t1 - t0 < best)
			best = t1 - t0;
		CHECK(st == LLM_OK, "open %s: %s | %s", path, err.msg, err.detail);
		if (st != LLM_OK || i == 4)
			break;
		gguf_close(f);
		f = NULL;
	}
	if (f == NULL)
		return;
	printf("gguf_open + llm_hparams_load on %s: %.3f ms (best of 5)\n", path, best);
	/* generous: valgrind is ~50x slower; a quadratic walk would take seconds */
	CHECK(best < 250.0, "open + hparams took %.3f ms", best);

	CHECK(hp.n_embd == 576 && hp.n_layer == 30 && hp.n_head == 9 && hp.n_head_kv == 3 &&
		  hp.n_ff == 1536 && hp.n_vocab == 49152 && hp.n_embd_head_k == 64 && hp.n_rot == 64,
		  "SmolLM2 sizes: %u %u %u %u %u %u", hp.n_embd, hp.n_layer, hp.n_head, hp.n_head_kv,
		  hp.n_ff, hp.n_vocab);
	CHECK(fabsf(hp.norm_rms_eps - 1e-5f) < 1e-9f && hp.rope_freq_base == 100000.0f,
		  "SmolLM2 eps %g base %g", hp.norm_rms_eps, hp.rope_freq_base);
	CHECK(hp.n_ctx_train == 8192 && hp.tied_output && hp.has_tensors, "SmolLM2 ctx/tied");

	CHECK(llm_model_info_load(f, &info, &err) == LLM_OK, "model info: %s", err.msg);
	printf("model info: arch=%s name=\"%s\" quant=%s params=%llu ctx=%llu vocab=%llu template=%d\n",
		   info.architecture, info.name, info.quantization,
		   (unsigned long long) info.n_params, (unsigned long long) info.context_length,
		   (unsigned long long) info.vocab_size, info.has_chat_template);
	CHECK(strcmp(info.quantization, "Q4_1") == 0, "quantization %s", info.quantization);
	CHECK(info.n_params > 134000000 && info.n_params < 135000000, "params %llu",
		  (unsigned long long) info.n_params);
	CHECK(info.has_chat_template && info.vocab_size == 49152 && info.context_length == 8192,
		  "template, vocab, context");
	{
		gguf_array	tokens;
		gguf_string *strs;

		CHECK(gguf_get_arr(f, "tokenizer.ggml.tokens", &tokens, &err) == LLM_OK, "tokens");
		strs = malloc(tokens.count * sizeof(*strs));
		CHECK(gguf_array_strings(&tokens, strs, &err) == LLM_OK &&
			  gguf_str_eq(strs[1], "<|im_start|>"), "token 1 is <|im_start|>");
		free(strs);
	}
	gguf_close(f);
}

/*
 * The files test/make_bad_ggufs.py writes, when LLM_TEST_BAD_GGUFS names
 * their directory: each must fail (or load) exactly as the script says.
 */
static void
test_bad_gguf_dir(void)
{
	static const struct
	{
		const char *file;
		llm_status	open;
		llm_status	hparams;	/* when open succeeds */
	}			cases[] = {
		{"tiny_valid.gguf", LLM_OK, LLM_OK},
		{"tiny_vocab_only.gguf", LLM_OK, LLM_OK},
		{"not_gguf.gguf", LLM_ERR_CORRUPT, 0},
		{"empty.gguf", LLM_ERR_CORRUPT, 0},
		{"truncated_header.gguf", LLM_ERR_CORRUPT, 0},
		{"truncated_kv.gguf", LLM_ERR_CORRUPT, 0},
		{"truncated_tensor_info.gguf", LLM_ERR_CORRUPT, 0},
		{"truncated_data.gguf", LLM_ERR_CORRUPT, 0},
		{"huge_kv_count.gguf", LLM_ERR_CORRUPT, 0},
		{"huge_string_len.gguf", LLM_ERR_CORRUPT, 0},
		{"huge_array_count.gguf", LLM_ERR_CORRUPT, 0},
		{"bad_offset.gguf", LLM_ERR_CORRUPT, 0},
		{"bad_alignment.gguf", LLM_ERR_CORRUPT, 0},
		{"deep_nesting.gguf", LLM_ERR_CORRUPT, 0},
		{"unknown_tensor_type.gguf", LLM_ERR_UNSUPPORTED, 0},
		{"unsupported_arch.gguf", LLM_OK, LLM_ERR_UNSUPPORTED},
		{"bad_hparams.gguf", LLM_OK, LLM_ERR_CORRUPT},
		{"version1.gguf", LLM_ERR_UNSUPPORTED, 0},
		{"duplicate_key.gguf", LLM_ERR_CORRUPT, 0},
	};
	const char *dir = getenv("LLM_TEST_BAD_GGUFS");

	if (dir == NULL || dir[0] == '\0')
	{
		printf("LLM_TEST_BAD_GGUFS not set: skipping the make_bad_ggufs.py files\n");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		path[1024];
		gguf_file  *f = NULL;
		llm_error	err = {0};
		llm_status	st;

		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].file);
		st = gguf_open(path, &f, &err);
		CHECK(st == cases[i].open, "%s: open status %d, expected %d (%s | %s)", cases[i].file,
			  st, cases[i].open, err.msg, err.detail);
		if (st == LLM_OK)
		{
			llm_model_info info;
			llm_hparams hp;

			CHECK(llm_model_info_load(f, &info, &err) == LLM_OK, "%s: model info", cases[i].file);
			st = llm_hparams_load(f, &hp, &err);
			CHECK(st == cases[i].hparams, "%s: hparams status %d, expected %d (%s)",
				  cases[i].file, st, cases[i].hparams, err.msg);
			gguf_close(f);
		}
	}
	printf("checked %zu files in %s\n", sizeof(cases) / sizeof(cases[0]), dir);
}

int
main(void)
{
	test_value_types();
	test_tensors_and_alignment();
	test_truncation();
	test_hostile_headers();
	test_hostile_tensors();
	test_open();
	test_hparams();
	test_wrong_shape();
	test_model_info();
	test_real_model();
	test_bad_gguf_dir();
	return TEST_DONE();
}
