/*
 * gguf.h — a reader for GGUF v2/v3 files over a read-only shared mmap.
 *
 * The whole file is untrusted.  gguf_parse() walks the header, every
 * metadata value (nested arrays included), and every tensor info, checking
 * each count, length, offset and size against the bytes that really exist
 * before using it.  After a successful parse every pointer handed out by
 * this API points inside the mapping and every length is in bounds, so
 * callers need not re-check.
 *
 * Strings in the file are not NUL-terminated: they come out as gguf_string
 * (pointer + length into the mapping).  The mapping is MAP_SHARED and
 * PROT_READ, so every backend that opens the same model shares its pages.
 */
#ifndef LLM_ENGINE_GGUF_H
#define LLM_ENGINE_GGUF_H

#include "common.h"

#include <sys/types.h>

/* Metadata value types, as numbered in the file. */
typedef enum gguf_type
{
	GGUF_TYPE_UINT8 = 0,
	GGUF_TYPE_INT8 = 1,
	GGUF_TYPE_UINT16 = 2,
	GGUF_TYPE_INT16 = 3,
	GGUF_TYPE_UINT32 = 4,
	GGUF_TYPE_INT32 = 5,
	GGUF_TYPE_FLOAT32 = 6,
	GGUF_TYPE_BOOL = 7,
	GGUF_TYPE_STRING = 8,
	GGUF_TYPE_ARRAY = 9,
	GGUF_TYPE_UINT64 = 10,
	GGUF_TYPE_INT64 = 11,
	GGUF_TYPE_FLOAT64 = 12,
	GGUF_TYPE_COUNT
} gguf_type;

typedef struct gguf_string
{
	const char *ptr;			/* into the mapping; not NUL-terminated */
	uint64_t	len;
} gguf_string;

typedef struct gguf_array
{
	gguf_type	elem_type;
	uint64_t	count;
	const uint8_t *data;		/* first element */
	uint64_t	nbytes;			/* bytes of all elements (validated) */
} gguf_array;

typedef struct gguf_value
{
	gguf_type	type;
	union
	{
		uint64_t	u;			/* UINT8..UINT64, BOOL (0/1) */
		int64_t		i;			/* INT8..INT64 */
		double		f;			/* FLOAT32, FLOAT64 */
		gguf_string s;			/* STRING */
		gguf_array	arr;		/* ARRAY */
	};
} gguf_value;

typedef struct gguf_kv
{
	gguf_string key;
	gguf_value	value;
} gguf_kv;

#define GGUF_MAX_DIMS 4
#define GGUF_MAX_TENSOR_NAME 64

typedef struct gguf_tensor
{
	char		name[GGUF_MAX_TENSOR_NAME + 1];	/* NUL-terminated copy */
	uint32_t	n_dims;
	uint64_t	ne[GGUF_MAX_DIMS];	/* ne[0] innermost; unused dims are 1 */
	uint32_t	type;			/* ggml type id, see dtype.h */
	uint64_t	offset;			/* relative to the data section */
	uint64_t	n_elements;
	uint64_t	nbytes;			/* computed from type and shape */
	const void *data;			/* into the mapping, in bounds */
} gguf_tensor;

typedef struct gguf_file
{
	/* the mapping (NULL/0 when parsed from a caller's buffer) */
	void	   *map;
	size_t		map_size;
	const uint8_t *base;		/* start of the bytes parsed */
	size_t		size;

	uint32_t	version;
	uint32_t	alignment;
	uint64_t	n_kv;
	gguf_kv    *kv;
	uint64_t	n_tensors;
	gguf_tensor *tensors;
	uint64_t	data_offset;	/* start of the tensor data section */

	/* identity of the file when opened, to notice replacement */
	dev_t		st_dev;
	ino_t		st_ino;
	int64_t		st_mtime_ns;
	int64_t		st_size;
} gguf_file;

/*
 * Map path read-only and parse it.  On failure *out is NULL.  A gguf_file
 * must come from gguf_open or gguf_parse (the lookups use private indexes
 * allocated with it), never be built or copied by hand.
 */
llm_status	gguf_open(const char *path, gguf_file **out, llm_error *err);

/*
 * Parse bytes the caller owns (fuzzing, tests).  The buffer must outlive
 * the result.
 */
llm_status	gguf_parse(const void *buf, size_t size, gguf_file **out, llm_error *err);

/* Unmap (if mapped) and free.  NULL is fine. */
void		gguf_close(gguf_file *f);

/* Lookups; NULL when absent.  key is NUL-terminated. */
const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/*
 * Typed getters.  Each returns LLM_OK and stores the value, or
 *  - LLM_ERR_CORRUPT when the key is present with a type that cannot
 *    represent the request (a string where a number belongs, a negative
 *    number for an unsigned request, a value out of range);
 *  - LLM_ERR_INVALID_ARG (with no message set) when the key is absent, so
 *    callers can apply a default.
 * Integer getters accept any integer type whose value fits.
 */
llm_status	gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, llm_error *err);
llm_status	gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out, llm_error *err);
llm_status	gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, llm_error *err);
llm_status	gguf_get_f32(const gguf_file *f, const char *key, float *out, llm_error *err);
llm_status	gguf_get_bool(const gguf_file *f, const char *key, bool *out, llm_error *err);
llm_status	gguf_get_str(const gguf_file *f, const char *key, gguf_string *out, llm_error *err);
llm_status	gguf_get_arr(const gguf_file *f, const char *key, gguf_array *out, llm_error *err);

/* True when the key is present (any type). */
bool		gguf_has(const gguf_file *f, const char *key);

/*
 * Array element access.  For fixed-size element types elements are read
 * by index (bounds already validated); string arrays are unpacked in one
 * pass into a caller-provided array of arr->count entries.
 */
size_t		gguf_type_size(gguf_type t);	/* 0 for STRING and ARRAY */
llm_status	gguf_array_strings(const gguf_array *arr, gguf_string *out, llm_error *err);

/*
 * Arrays of arrays (rare; no real model uses them) unpack the same way into
 * arr->count gguf_array entries.
 */
llm_status	gguf_array_arrays(const gguf_array *arr, gguf_array *out, llm_error *err);
int64_t		gguf_array_get_int(const gguf_array *arr, uint64_t i);	/* integer elems */
double		gguf_array_get_float(const gguf_array *arr, uint64_t i);	/* f32/f64 elems */

/* gguf_string helpers */
bool		gguf_str_eq(gguf_string s, const char *cstr);
const char *gguf_type_name(gguf_type t);

#endif							/* LLM_ENGINE_GGUF_H */
