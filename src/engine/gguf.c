/*
 * gguf.c — GGUF v2/v3 reader over a read-only shared mmap.
 *
 * Layout (reference/engine-facts.md §1): a 24-byte header (magic "GGUF",
 * u32 version, u64 tensor_count, u64 kv_count), kv_count metadata pairs,
 * tensor_count tensor infos, padding to the alignment, then tensor data.
 * Everything is little-endian; v2 and v3 share this layout (v3 only added
 * big-endian files, which we do not read), v1 had 32-bit counts.
 *
 * The parser trusts nothing.  Every read goes through reader_need(), which
 * compares against the bytes really left, and every count is checked for
 * plausibility against those bytes before anything is allocated or walked,
 * so a 40-byte file claiming 2^63 entries fails at once.  Large arrays
 * (the tokenizer's 50k strings) are never copied: fixed-size arrays are
 * validated by arithmetic, string arrays by walking their lengths, so
 * parsing a 100 MB model touches only its first few hundred kilobytes.
 *
 * Lookups go through sorted pointer indexes built after parsing (which also
 * find duplicate keys and tensor names), kept in a private wrapper around
 * the public gguf_file so the header stays plain data.
 */
#include "gguf.h"
#include "dtype.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define GGUF_MAGIC_0 'G'
#define GGUF_MAGIC_1 'G'
#define GGUF_MAGIC_2 'U'
#define GGUF_MAGIC_3 'F'
#define GGUF_HEADER_BYTES 24
#define GGUF_DEFAULT_ALIGNMENT 32

/*
 * How deep arrays may nest.  No real file nests at all; the limit only
 * bounds the recursion a hostile file can cause.
 */
#define GGUF_MAX_ARRAY_DEPTH 8

/* The spec caps keys at 65535 bytes. */
#define GGUF_MAX_KEY_LEN 65535

/*
 * Smallest encodings, used to reject counts that cannot fit in what is left
 * of the file before we allocate or loop on them.
 */
#define MIN_KV_BYTES (8 + 4 + 1)	/* empty key, type, one-byte value */
#define MIN_TENSOR_INFO_BYTES (8 + 4 + 8 + 4 + 8)	/* empty name, 1 dim */
#define MIN_STRING_BYTES 8		/* the length */
#define MIN_ARRAY_BYTES (4 + 8)	/* element type and count */

/* The parsed file plus what only this file needs. */
typedef struct gguf_file_impl
{
	gguf_file	pub;			/* must stay first: gguf_file* <-> impl* */
	const gguf_kv **kv_sorted;	/* by key bytes */
	const gguf_tensor **tensor_sorted;	/* by name */
} gguf_file_impl;

/*
 * Where the reader is, for error messages: which section, which entry, and
 * the element path inside nested arrays.
 */
typedef enum reader_section
{
	SECTION_HEADER,
	SECTION_KV,
	SECTION_TENSOR,
	SECTION_ARRAY				/* unpacking an already validated array */
} reader_section;

typedef struct reader
{
	const uint8_t *base;
	size_t		size;
	size_t		pos;
	llm_error  *err;

	reader_section section;
	uint64_t	index;			/* kv or tensor number */
	gguf_string name;			/* key or tensor name, once read */
	int			depth;			/* array nesting depth being read */
	uint64_t	elem[GGUF_MAX_ARRAY_DEPTH + 1];	/* element index per depth */
} reader;

/* ----------------------------------------------------------------
 * Error reporting
 * ---------------------------------------------------------------- */

/*
 * Copy a hostile byte string into a message: printable ASCII only (the
 * glue passes messages to ereport, which wants valid text), cut at max.
 */
static void
sanitize(char *dst, size_t dstsize, const char *src, uint64_t len)
{
	size_t		max = dstsize - 1;
	size_t		n = 0;
	bool		cut = len > 80;

	if (cut)
		len = 80;
	for (uint64_t i = 0; i < len && n < max; i++)
	{
		unsigned char c = (unsigned char) src[i];

		dst[n++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char) c : '?';
	}
	if (cut && n + 3 <= max)
	{
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

/* "metadata key 17 (\"tokenizer.ggml.tokens\") element 5" and the like. */
static void
describe_where(const reader *r, char *buf, size_t bufsize)
{
	char		name[100];
	int			n = 0;

	name[0] = '\0';
	if (r->name.ptr != NULL)
		sanitize(name, sizeof(name), r->name.ptr, r->name.len);

	switch (r->section)
	{
		case SECTION_HEADER:
			n = snprintf(buf, bufsize, "the header");
			break;
		case SECTION_KV:
			if (r->name.ptr != NULL)
				n = snprintf(buf, bufsize, "metadata key %llu (\"%s\")",
							 (unsigned long long) r->index, name);
			else
				n = snprintf(buf, bufsize, "metadata key %llu",
							 (unsigned long long) r->index);
			break;
		case SECTION_TENSOR:
			if (r->name.ptr != NULL)
				n = snprintf(buf, bufsize, "tensor info %llu (\"%s\")",
							 (unsigned long long) r->index, name);
			else
				n = snprintf(buf, bufsize, "tensor info %llu",
							 (unsigned long long) r->index);
			break;
		case SECTION_ARRAY:
			n = snprintf(buf, bufsize, "an array value");
			break;
	}
	if (n < 0 || (size_t) n >= bufsize)
		return;
	if (r->depth > 0)
	{
		n += snprintf(buf + n, bufsize - n, " element ");
		for (int d = 1; d <= r->depth && (size_t) n < bufsize; d++)
			n += snprintf(buf + n, bufsize - n, "[%llu]",
						  (unsigned long long) r->elem[d]);
	}
}

static llm_status
reader_fail(reader *r, llm_status status, const char *msg, const char *what)
{
	char		where[300];

	describe_where(r, where, sizeof(where));
	llm_error_set(r->err, status, "%s", msg);
	llm_error_detail(r->err, "%s: %s at offset %zu (file size %zu bytes)",
					 where, what, r->pos, r->size);
	return status;
}

/* ----------------------------------------------------------------
 * Bounds-checked reads
 * ---------------------------------------------------------------- */

static inline size_t
reader_left(const reader *r)
{
	return r->size - r->pos;
}

static llm_status
reader_need(reader *r, uint64_t n)
{
	char		where[300];

	if (n <= reader_left(r))
		return LLM_OK;
	describe_where(r, where, sizeof(where));
	llm_error_set(r->err, LLM_ERR_CORRUPT, "truncated GGUF file");
	llm_error_detail(r->err,
					 "%s needs %llu bytes at offset %zu but the file has %zu bytes",
					 where, (unsigned long long) n, r->pos, r->size);
	return LLM_ERR_CORRUPT;
}

/* Little-endian loads that work at any alignment and on any host. */
static inline uint16_t
load_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint32_t
load_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static inline uint64_t
load_u64(const uint8_t *p)
{
	return (uint64_t) load_u32(p) | ((uint64_t) load_u32(p + 4) << 32);
}

static llm_status
read_u32(reader *r, uint32_t *out)
{
	llm_status	st = reader_need(r, 4);

	if (st != LLM_OK)
		return st;
	*out = load_u32(r->base + r->pos);
	r->pos += 4;
	return LLM_OK;
}

static llm_status
read_u64(reader *r, uint64_t *out)
{
	llm_status	st = reader_need(r, 8);

	if (st != LLM_OK)
		return st;
	*out = load_u64(r->base + r->pos);
	r->pos += 8;
	return LLM_OK;
}

static llm_status
read_string(reader *r, gguf_string *out)
{
	uint64_t	len;
	llm_status	st;

	if ((st = read_u64(r, &len)) != LLM_OK)
		return st;
	if ((st = reader_need(r, len)) != LLM_OK)
		return st;
	out->ptr = (const char *) (r->base + r->pos);
	out->len = len;
	r->pos += (size_t) len;
	return LLM_OK;
}

/* ----------------------------------------------------------------
 * Values
 * ---------------------------------------------------------------- */

size_t
gguf_type_size(gguf_type t)
{
	switch (t)
	{
		case GGUF_TYPE_UINT8:
		case GGUF_TYPE_INT8:
		case GGUF_TYPE_BOOL:
			return 1;
		case GGUF_TYPE_UINT16:
		case GGUF_TYPE_INT16:
			return 2;
		case GGUF_TYPE_UINT32:
		case GGUF_TYPE_INT32:
		case GGUF_TYPE_FLOAT32:
			return 4;
		case GGUF_TYPE_UINT64:
		case GGUF_TYPE_INT64:
		case GGUF_TYPE_FLOAT64:
			return 8;
		default:
			return 0;
	}
}

const char *
gguf_type_name(gguf_type t)
{
	static const char *const names[GGUF_TYPE_COUNT] = {
		"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
		"bool", "string", "array", "uint64", "int64", "float64"
	};

	if ((unsigned) t >= GGUF_TYPE_COUNT)
		return "unknown";
	return names[t];
}

static bool
type_is_unsigned(gguf_type t)
{
	return t == GGUF_TYPE_UINT8 || t == GGUF_TYPE_UINT16 ||
		t == GGUF_TYPE_UINT32 || t == GGUF_TYPE_UINT64;
}

static bool
type_is_signed(gguf_type t)
{
	return t == GGUF_TYPE_INT8 || t == GGUF_TYPE_INT16 ||
		t == GGUF_TYPE_INT32 || t == GGUF_TYPE_INT64;
}

static bool
type_is_float(gguf_type t)
{
	return t == GGUF_TYPE_FLOAT32 || t == GGUF_TYPE_FLOAT64;
}

/* Decode one fixed-size scalar at p into v (type already set). */
static void
decode_scalar(const uint8_t *p, gguf_value *v)
{
	uint32_t	u32;
	uint64_t	u64;
	float		f32;
	double		f64;

	switch (v->type)
	{
		case GGUF_TYPE_UINT8:
			v->u = p[0];
			break;
		case GGUF_TYPE_BOOL:
			v->u = p[0] != 0;
			break;
		case GGUF_TYPE_INT8:
			v->i = (int8_t) p[0];
			break;
		case GGUF_TYPE_UINT16:
			v->u = load_u16(p);
			break;
		case GGUF_TYPE_INT16:
			v->i = (int16_t) load_u16(p);
			break;
		case GGUF_TYPE_UINT32:
			v->u = load_u32(p);
			break;
		case GGUF_TYPE_INT32:
			v->i = (int32_t) load_u32(p);
			break;
		case GGUF_TYPE_UINT64:
			v->u = load_u64(p);
			break;
		case GGUF_TYPE_INT64:
			v->i = (int64_t) load_u64(p);
			break;
		case GGUF_TYPE_FLOAT32:
			u32 = load_u32(p);
			memcpy(&f32, &u32, 4);
			v->f = f32;
			break;
		case GGUF_TYPE_FLOAT64:
			u64 = load_u64(p);
			memcpy(&f64, &u64, 8);
			v->f = f64;
			break;
		default:
			break;
	}
}

static llm_status
bad_type(reader *r, uint32_t type)
{
	char		what[64];

	snprintf(what, sizeof(what), "value type %u", type);
	return reader_fail(r, LLM_ERR_CORRUPT, "invalid GGUF metadata value type", what);
}

/*
 * Read an array body (element type, count, elements) at r->pos.  r->depth
 * counts the arrays whose elements we are inside, so this array sits at
 * nesting level r->depth + 1.
 */
static llm_status
read_array(reader *r, gguf_array *out)
{
	uint32_t	elem_type;
	uint64_t	count;
	size_t		start;
	size_t		elem_size;
	llm_status	st;

	if (r->depth + 1 > GGUF_MAX_ARRAY_DEPTH)
	{
		char		what[64];

		snprintf(what, sizeof(what), "more than %d levels", GGUF_MAX_ARRAY_DEPTH);
		return reader_fail(r, LLM_ERR_CORRUPT, "GGUF metadata arrays nested too deeply", what);
	}
	if ((st = read_u32(r, &elem_type)) != LLM_OK)
		return st;
	if (elem_type >= GGUF_TYPE_COUNT)
		return bad_type(r, elem_type);
	if ((st = read_u64(r, &count)) != LLM_OK)
		return st;

	out->elem_type = (gguf_type) elem_type;
	out->count = count;
	out->data = r->base + r->pos;
	start = r->pos;

	/*
	 * Check the count against the bytes left before walking anything:
	 * fixed-size elements need exactly count * size bytes, strings and
	 * arrays at least their 8- or 12-byte headers each.
	 */
	elem_size = gguf_type_size((gguf_type) elem_type);
	{
		uint64_t	min_each = elem_size != 0 ? elem_size :
			elem_type == GGUF_TYPE_STRING ? MIN_STRING_BYTES : MIN_ARRAY_BYTES;
		uint64_t	min_total;

		if (__builtin_mul_overflow(count, min_each, &min_total) || min_total > reader_left(r))
		{
			char		where[300];

			describe_where(r, where, sizeof(where));
			llm_error_set(r->err, LLM_ERR_CORRUPT, "truncated GGUF file");
			llm_error_detail(r->err,
							 "%s: an array of %llu %s values needs %s%llu bytes each at offset %zu but the file has %zu bytes",
							 where, (unsigned long long) count,
							 gguf_type_name((gguf_type) elem_type),
							 elem_size != 0 ? "" : "at least ",
							 (unsigned long long) min_each, r->pos, r->size);
			return LLM_ERR_CORRUPT;
		}
		if (elem_size != 0)
			r->pos += (size_t) min_total;
	}
	if (elem_size == 0)
	{
		/* each element takes at least 8 bytes: the walk is linear in the file */
		r->depth++;
		for (uint64_t i = 0; i < count; i++)
		{
			r->elem[r->depth] = i;
			if (elem_type == GGUF_TYPE_STRING)
			{
				gguf_string s;

				st = read_string(r, &s);
			}
			else
			{
				gguf_array	inner;

				st = read_array(r, &inner);
			}
			if (st != LLM_OK)
				return st;		/* depth left as is: the error names it */
		}
		r->depth--;
	}
	out->nbytes = r->pos - start;
	return LLM_OK;
}

/* Read a value of the given type at r->pos. */
static llm_status
read_value(reader *r, uint32_t type, gguf_value *out)
{
	llm_status	st;
	size_t		size;

	if (type >= GGUF_TYPE_COUNT)
		return bad_type(r, type);
	out->type = (gguf_type) type;
	if (type == GGUF_TYPE_STRING)
		return read_string(r, &out->s);
	if (type == GGUF_TYPE_ARRAY)
		return read_array(r, &out->arr);
	size = gguf_type_size((gguf_type) type);
	if ((st = reader_need(r, size)) != LLM_OK)
		return st;
	decode_scalar(r->base + r->pos, out);
	r->pos += size;
	return LLM_OK;
}

/* ----------------------------------------------------------------
 * Sorting and lookup
 * ---------------------------------------------------------------- */

static int
compare_bytes(const char *a, uint64_t alen, const char *b, uint64_t blen)
{
	uint64_t	n = alen < blen ? alen : blen;
	int			c = n ? memcmp(a, b, (size_t) n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int
compare_kv_ptr(const void *a, const void *b)
{
	const gguf_kv *x = *(const gguf_kv *const *) a;
	const gguf_kv *y = *(const gguf_kv *const *) b;

	return compare_bytes(x->key.ptr, x->key.len, y->key.ptr, y->key.len);
}

static int
compare_tensor_ptr(const void *a, const void *b)
{
	const gguf_tensor *x = *(const gguf_tensor *const *) a;
	const gguf_tensor *y = *(const gguf_tensor *const *) b;

	return strcmp(x->name, y->name);
}

const gguf_kv *
gguf_find_kv(const gguf_file *f, const char *key)
{
	const gguf_file_impl *impl = (const gguf_file_impl *) f;
	size_t		keylen;
	uint64_t	lo = 0,
				hi;

	if (f == NULL || key == NULL || f->n_kv == 0)
		return NULL;
	keylen = strlen(key);
	hi = f->n_kv;
	while (lo < hi)
	{
		uint64_t	mid = lo + (hi - lo) / 2;
		const gguf_kv *kv = impl->kv_sorted[mid];
		int			c = compare_bytes(kv->key.ptr, kv->key.len, key, keylen);

		if (c == 0)
			return kv;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const gguf_tensor *
gguf_find_tensor(const gguf_file *f, const char *name)
{
	const gguf_file_impl *impl = (const gguf_file_impl *) f;
	uint64_t	lo = 0,
				hi;

	if (f == NULL || name == NULL || f->n_tensors == 0)
		return NULL;
	hi = f->n_tensors;
	while (lo < hi)
	{
		uint64_t	mid = lo + (hi - lo) / 2;
		const gguf_tensor *t = impl->tensor_sorted[mid];
		int			c = strcmp(t->name, name);

		if (c == 0)
			return t;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool
gguf_has(const gguf_file *f, const char *key)
{
	return gguf_find_kv(f, key) != NULL;
}

/* ----------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------- */

/* Grow a parse-time array so memory follows what the file really holds. */
static llm_status
grow(void **arr, uint64_t *cap, uint64_t need, size_t elem, llm_error *err)
{
	uint64_t	newcap;
	size_t		oldbytes,
				newbytes;
	void	   *p;

	if (need <= *cap)
		return LLM_OK;
	newcap = *cap ? *cap * 2 : 16;
	if (newcap < need)
		newcap = need;
	if (!llm_mul_size((size_t) *cap, elem, &oldbytes) ||
		!llm_mul_size((size_t) newcap, elem, &newbytes))
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory reading GGUF file");
	p = llm_realloc(*arr, oldbytes, newbytes);
	if (p == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory reading GGUF file");
	*arr = p;
	*cap = newcap;
	return LLM_OK;
}

static llm_status
parse_header(reader *r, gguf_file *f)
{
	const uint8_t *p = r->base;
	llm_status	st;

	if (r->size < 4)
		return reader_need(r, 4);
	if (p[0] != GGUF_MAGIC_0 || p[1] != GGUF_MAGIC_1 ||
		p[2] != GGUF_MAGIC_2 || p[3] != GGUF_MAGIC_3)
	{
		llm_error_set(r->err, LLM_ERR_CORRUPT, "not a GGUF file");
		llm_error_detail(r->err, "the first 4 bytes are %02x %02x %02x %02x, expected \"GGUF\"",
						 p[0], p[1], p[2], p[3]);
		return LLM_ERR_CORRUPT;
	}
	r->pos = 4;
	if ((st = read_u32(r, &f->version)) != LLM_OK)
		return st;
	if (f->version == 1)
	{
		llm_error_set(r->err, LLM_ERR_UNSUPPORTED, "GGUF version 1 is not supported");
		llm_error_detail(r->err, "convert the file with a current llama.cpp; versions 2 and 3 are supported");
		return LLM_ERR_UNSUPPORTED;
	}
	if (f->version != 2 && f->version != 3)
	{
		/* a byte-swapped small number: a big-endian file */
		if (f->version != 0 && (f->version & 0xFFFF) == 0)
		{
			llm_error_set(r->err, LLM_ERR_UNSUPPORTED, "big-endian GGUF files are not supported");
			return LLM_ERR_UNSUPPORTED;
		}
		st = f->version == 0 ? LLM_ERR_CORRUPT : LLM_ERR_UNSUPPORTED;
		llm_error_set(r->err, st, "unsupported GGUF version %u", f->version);
		llm_error_detail(r->err, "versions 2 and 3 are supported");
		return st;
	}
	if ((st = read_u64(r, &f->n_tensors)) != LLM_OK)
		return st;
	if ((st = read_u64(r, &f->n_kv)) != LLM_OK)
		return st;
	return LLM_OK;
}

/*
 * Check a count from the header against the smallest bytes each entry could
 * take.  A count too large for the rest of the file is indistinguishable
 * from a file cut short, and is reported as such.
 */
static llm_status
check_count(reader *r, uint64_t count, uint64_t min_each, const char *what)
{
	uint64_t	need;
	char		where[300];

	if (!__builtin_mul_overflow(count, min_each, &need) && need <= reader_left(r))
		return LLM_OK;
	describe_where(r, where, sizeof(where));
	llm_error_set(r->err, LLM_ERR_CORRUPT, "truncated GGUF file");
	llm_error_detail(r->err,
					 "the header announces %llu %s, which need at least %llu bytes each at offset %zu, but the file has %zu bytes",
					 (unsigned long long) count, what, (unsigned long long) min_each,
					 r->pos, r->size);
	return LLM_ERR_CORRUPT;
}

static llm_status
parse_kvs(reader *r, gguf_file *f, llm_error *err)
{
	uint64_t	cap = 0;
	llm_status	st;

	r->section = SECTION_HEADER;
	if ((st = check_count(r, f->n_kv, MIN_KV_BYTES, "metadata keys")) != LLM_OK)
		return st;

	for (uint64_t i = 0; i < f->n_kv; i++)
	{
		gguf_kv    *kv;
		uint32_t	type;

		if ((st = grow((void **) &f->kv, &cap, i + 1, sizeof(gguf_kv), err)) != LLM_OK)
			return st;
		kv = &f->kv[i];
		memset(kv, 0, sizeof(*kv));

		r->section = SECTION_KV;
		r->index = i;
		r->name.ptr = NULL;
		r->depth = 0;
		if ((st = read_string(r, &kv->key)) != LLM_OK)
			return st;
		r->name = kv->key;
		if (kv->key.len > GGUF_MAX_KEY_LEN)
			return reader_fail(r, LLM_ERR_CORRUPT, "invalid GGUF file: metadata key too long",
							   "key longer than 65535 bytes");
		if ((st = read_u32(r, &type)) != LLM_OK)
			return st;
		if ((st = read_value(r, type, &kv->value)) != LLM_OK)
			return st;
	}
	return LLM_OK;
}

static llm_status
parse_alignment(gguf_file *f, const gguf_kv *kv, llm_error *err)
{
	f->alignment = GGUF_DEFAULT_ALIGNMENT;
	if (kv == NULL)
		return LLM_OK;
	if (kv->value.type != GGUF_TYPE_UINT32)
	{
		llm_error_set(err, LLM_ERR_CORRUPT, "invalid GGUF alignment");
		llm_error_detail(err, "metadata key \"general.alignment\" has type %s, expected uint32",
						 gguf_type_name(kv->value.type));
		return LLM_ERR_CORRUPT;
	}
	if (kv->value.u == 0 || (kv->value.u & (kv->value.u - 1)) != 0)
	{
		llm_error_set(err, LLM_ERR_CORRUPT, "invalid GGUF alignment");
		llm_error_detail(err, "metadata key \"general.alignment\" is %llu, expected a power of two",
						 (unsigned long long) kv->value.u);
		return LLM_ERR_CORRUPT;
	}
	f->alignment = (uint32_t) kv->value.u;
	return LLM_OK;
}

static llm_status
tensor_fail(reader *r, llm_status status, const char *msg, const char *fmt,...)
	__attribute__((format(printf, 4, 5)));

static llm_status
tensor_fail(reader *r, llm_status status, const char *msg, const char *fmt,...)
{
	char		what[300];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return reader_fail(r, status, msg, what);
}

static llm_status
parse_tensor_info(reader *r, gguf_file *f, uint64_t i, gguf_tensor *t)
{
	gguf_string name;
	uint32_t	n_dims;
	uint64_t	rows,
				row_bytes;
	const llm_dtype_info *dt;
	llm_status	st;

	memset(t, 0, sizeof(*t));
	r->section = SECTION_TENSOR;
	r->index = i;
	r->name.ptr = NULL;
	r->depth = 0;

	if ((st = read_string(r, &name)) != LLM_OK)
		return st;
	r->name = name;
	if (name.len > GGUF_MAX_TENSOR_NAME)
		return tensor_fail(r, LLM_ERR_CORRUPT, "invalid GGUF tensor name",
						   "name is %llu bytes, the limit is %d",
						   (unsigned long long) name.len, GGUF_MAX_TENSOR_NAME);
	if (memchr(name.ptr, '\0', (size_t) name.len) != NULL)
		return tensor_fail(r, LLM_ERR_CORRUPT, "invalid GGUF tensor name",
						   "name contains a NUL byte");
	memcpy(t->name, name.ptr, (size_t) name.len);
	t->name[name.len] = '\0';

	if ((st = read_u32(r, &n_dims)) != LLM_OK)
		return st;
	if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
		return tensor_fail(r, LLM_ERR_CORRUPT, "invalid GGUF tensor shape",
						   "%u dimensions, expected 1 to %d", n_dims, GGUF_MAX_DIMS);
	t->n_dims = n_dims;
	t->n_elements = 1;
	for (int d = 0; d < GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (uint32_t d = 0; d < n_dims; d++)
	{
		if ((st = read_u64(r, &t->ne[d])) != LLM_OK)
			return st;
		if (t->ne[d] == 0)
			return tensor_fail(r, LLM_ERR_CORRUPT, "invalid GGUF tensor shape",
							   "dimension %u is 0", d);
		/* keep counts signed-safe: downstream code indexes with int64 */
		if (__builtin_mul_overflow(t->n_elements, t->ne[d], &t->n_elements) ||
			t->n_elements > (uint64_t) INT64_MAX)
			return tensor_fail(r, LLM_ERR_CORRUPT, "invalid GGUF tensor shape",
							   "the element count overflows at dimension %u", d);
	}

	if ((st = read_u32(r, &t->type)) != LLM_OK)
		return st;
	dt = llm_dtype_get(t->type);
	if (dt == NULL)
		return tensor_fail(r, LLM_ERR_UNSUPPORTED, "unsupported GGUF tensor type",
						   "type id %u", t->type);
	if (t->ne[0] % dt->block_elems != 0)
		return tensor_fail(r, LLM_ERR_CORRUPT, "invalid GGUF tensor shape",
						   "row length %llu is not a multiple of the %s block size %u",
						   (unsigned long long) t->ne[0], dt->name, dt->block_elems);
	rows = t->n_elements / t->ne[0];
	if (!llm_dtype_row_bytes(t->type, t->ne[0], &row_bytes) ||
		__builtin_mul_overflow(rows, row_bytes, &t->nbytes))
		return tensor_fail(r, LLM_ERR_CORRUPT, "invalid GGUF tensor shape",
						   "the byte size overflows");

	if ((st = read_u64(r, &t->offset)) != LLM_OK)
		return st;
	if (t->offset % f->alignment != 0)
		return tensor_fail(r, LLM_ERR_CORRUPT, "invalid GGUF tensor offset",
						   "data offset %llu is not a multiple of the alignment %u",
						   (unsigned long long) t->offset, f->alignment);
	return LLM_OK;
}

static llm_status
parse_tensors(reader *r, gguf_file *f, llm_error *err)
{
	uint64_t	cap = 0;
	uint64_t	data_offset;
	llm_status	st;

	r->section = SECTION_HEADER;
	r->name.ptr = NULL;
	r->depth = 0;
	if ((st = check_count(r, f->n_tensors, MIN_TENSOR_INFO_BYTES, "tensor infos")) != LLM_OK)
		return st;

	for (uint64_t i = 0; i < f->n_tensors; i++)
	{
		if ((st = grow((void **) &f->tensors, &cap, i + 1, sizeof(gguf_tensor), err)) != LLM_OK)
			return st;
		if ((st = parse_tensor_info(r, f, i, &f->tensors[i])) != LLM_OK)
			return st;
	}

	/* data starts at the next multiple of the alignment */
	data_offset = r->pos;
	if (data_offset % f->alignment != 0)
		data_offset += f->alignment - data_offset % f->alignment;
	f->data_offset = data_offset;

	for (uint64_t i = 0; i < f->n_tensors; i++)
	{
		gguf_tensor *t = &f->tensors[i];
		uint64_t	start,
					end;

		if (__builtin_add_overflow(data_offset, t->offset, &start) ||
			__builtin_add_overflow(start, t->nbytes, &end) ||
			end > r->size)
		{
			char		name[100];

			sanitize(name, sizeof(name), t->name, strlen(t->name));
			llm_error_set(err, LLM_ERR_CORRUPT, "truncated GGUF file");
			llm_error_detail(err,
							 "tensor %llu (\"%s\") needs %llu bytes at offset %llu + %llu but the file has %zu bytes",
							 (unsigned long long) i, name,
							 (unsigned long long) t->nbytes,
							 (unsigned long long) data_offset,
							 (unsigned long long) t->offset, r->size);
			return LLM_ERR_CORRUPT;
		}
		t->data = r->base + start;
	}
	return LLM_OK;
}

static llm_status
build_kv_index(gguf_file_impl *impl, llm_error *err)
{
	gguf_file  *f = &impl->pub;
	char		name[100];

	if (f->n_kv > 0)
	{
		impl->kv_sorted = llm_calloc((size_t) f->n_kv, sizeof(*impl->kv_sorted));
		if (impl->kv_sorted == NULL)
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory reading GGUF file");
		for (uint64_t i = 0; i < f->n_kv; i++)
			impl->kv_sorted[i] = &f->kv[i];
		qsort(impl->kv_sorted, (size_t) f->n_kv, sizeof(*impl->kv_sorted), compare_kv_ptr);
		for (uint64_t i = 1; i < f->n_kv; i++)
		{
			if (compare_kv_ptr(&impl->kv_sorted[i - 1], &impl->kv_sorted[i]) == 0)
			{
				const gguf_kv *kv = impl->kv_sorted[i];

				sanitize(name, sizeof(name), kv->key.ptr, kv->key.len);
				llm_error_set(err, LLM_ERR_CORRUPT, "duplicate metadata key in GGUF file");
				llm_error_detail(err, "key \"%s\" appears more than once", name);
				return LLM_ERR_CORRUPT;
			}
		}
	}
	return LLM_OK;
}

static llm_status
build_tensor_index(gguf_file_impl *impl, llm_error *err)
{
	gguf_file  *f = &impl->pub;
	char		name[100];

	if (f->n_tensors > 0)
	{
		impl->tensor_sorted = llm_calloc((size_t) f->n_tensors, sizeof(*impl->tensor_sorted));
		if (impl->tensor_sorted == NULL)
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory reading GGUF file");
		for (uint64_t i = 0; i < f->n_tensors; i++)
			impl->tensor_sorted[i] = &f->tensors[i];
		qsort(impl->tensor_sorted, (size_t) f->n_tensors, sizeof(*impl->tensor_sorted),
			  compare_tensor_ptr);
		for (uint64_t i = 1; i < f->n_tensors; i++)
		{
			if (strcmp(impl->tensor_sorted[i - 1]->name, impl->tensor_sorted[i]->name) == 0)
			{
				const char *tname = impl->tensor_sorted[i]->name;

				sanitize(name, sizeof(name), tname, strlen(tname));
				llm_error_set(err, LLM_ERR_CORRUPT, "duplicate tensor name in GGUF file");
				llm_error_detail(err, "tensor \"%s\" appears more than once", name);
				return LLM_ERR_CORRUPT;
			}
		}
	}
	return LLM_OK;
}

static void
free_impl(gguf_file_impl *impl)
{
	if (impl == NULL)
		return;
	llm_free(impl->kv_sorted);
	llm_free(impl->tensor_sorted);
	llm_free(impl->pub.kv);
	llm_free(impl->pub.tensors);
	if (impl->pub.map != NULL)
		munmap(impl->pub.map, impl->pub.map_size);
	llm_free(impl);
}

/* Parse into a fresh impl; on failure everything but the mapping is freed. */
static llm_status
parse_into(const void *buf, size_t size, gguf_file_impl **out, llm_error *err)
{
	gguf_file_impl *impl;
	gguf_file  *f;
	reader		r;
	llm_status	st;

	*out = NULL;
	impl = llm_calloc(1, sizeof(*impl));
	if (impl == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory reading GGUF file");
	f = &impl->pub;
	f->base = buf;
	f->size = size;
	f->alignment = GGUF_DEFAULT_ALIGNMENT;

	memset(&r, 0, sizeof(r));
	r.base = buf;
	r.size = size;
	r.err = err;
	r.section = SECTION_HEADER;

	if ((st = parse_header(&r, f)) != LLM_OK ||
		(st = parse_kvs(&r, f, err)) != LLM_OK ||
		(st = build_kv_index(impl, err)) != LLM_OK ||
		(st = parse_alignment(f, gguf_find_kv(f, "general.alignment"), err)) != LLM_OK ||
		(st = parse_tensors(&r, f, err)) != LLM_OK ||
		(st = build_tensor_index(impl, err)) != LLM_OK)
	{
		free_impl(impl);		/* map is still NULL: the caller owns it */
		return st;
	}
	*out = impl;
	return LLM_OK;
}

llm_status
gguf_parse(const void *buf, size_t size, gguf_file **out, llm_error *err)
{
	gguf_file_impl *impl;
	llm_status	st;

	if (out == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "gguf_parse: out is NULL");
	*out = NULL;
	if (buf == NULL && size != 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "gguf_parse: NULL buffer");
	if (buf == NULL)
		buf = "";
	st = parse_into(buf, size, &impl, err);
	if (st == LLM_OK)
		*out = &impl->pub;
	return st;
}

llm_status
gguf_open(const char *path, gguf_file **out, llm_error *err)
{
	struct stat st;
	int			fd;
	void	   *map = NULL;
	size_t		size;
	gguf_file_impl *impl;
	llm_status	status;

	if (out == NULL || path == NULL)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "gguf_open: NULL argument");
	*out = NULL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		int			e = errno;

		llm_error_set(err, LLM_ERR_IO, "could not open model file \"%s\": %s", path, strerror(e));
		return LLM_ERR_IO;
	}
	if (fstat(fd, &st) != 0)
	{
		int			e = errno;

		close(fd);
		return llm_error_set(err, LLM_ERR_IO, "could not stat model file \"%s\": %s",
							 path, strerror(e));
	}
	if (!S_ISREG(st.st_mode))
	{
		close(fd);
		return llm_error_set(err, LLM_ERR_IO, "model file \"%s\" is not a regular file", path);
	}
	if (st.st_size < 0 || (uint64_t) st.st_size > SIZE_MAX)
	{
		close(fd);
		return llm_error_set(err, LLM_ERR_IO, "model file \"%s\" is too large to map", path);
	}
	size = (size_t) st.st_size;

	/* mmap of 0 bytes fails; an empty file is simply a truncated one */
	if (size > 0)
	{
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
		{
			int			e = errno;

			close(fd);
			return llm_error_set(err, LLM_ERR_IO, "could not map model file \"%s\": %s",
								 path, strerror(e));
		}
	}
	/* the mapping keeps the file alive; the descriptor is no longer needed */
	close(fd);

	status = parse_into(size > 0 ? map : "", size, &impl, err);
	if (status != LLM_OK)
	{
		if (map != NULL)
			munmap(map, size);
		if (err != NULL && err->detail[0] == '\0')
			llm_error_detail(err, "file \"%s\"", path);
		return status;
	}
	impl->pub.map = map;
	impl->pub.map_size = size;
	impl->pub.st_dev = st.st_dev;
	impl->pub.st_ino = st.st_ino;
	impl->pub.st_mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	impl->pub.st_size = (int64_t) st.st_size;
	*out = &impl->pub;
	return LLM_OK;
}

void
gguf_close(gguf_file *f)
{
	free_impl((gguf_file_impl *) f);
}

/* ----------------------------------------------------------------
 * Typed getters
 * ---------------------------------------------------------------- */

static llm_status
getter_fail(llm_error *err, const gguf_kv *kv, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static llm_status
getter_fail(llm_error *err, const gguf_kv *kv, const char *fmt,...)
{
	char		name[100];
	char		what[200];
	va_list		ap;

	sanitize(name, sizeof(name), kv->key.ptr, kv->key.len);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	llm_error_set(err, LLM_ERR_CORRUPT, "invalid value for GGUF metadata key \"%s\"", name);
	llm_error_detail(err, "%s", what);
	return LLM_ERR_CORRUPT;
}

/*
 * Any integer value as a (sign, magnitude) pair so the range checks below
 * need no signed/unsigned juggling.
 */
static bool
kv_integer(const gguf_kv *kv, bool *negative, uint64_t *magnitude)
{
	gguf_type	t = kv->value.type;

	if (type_is_unsigned(t))
	{
		*negative = false;
		*magnitude = kv->value.u;
		return true;
	}
	if (type_is_signed(t))
	{
		int64_t		i = kv->value.i;

		*negative = i < 0;
		*magnitude = i < 0 ? (uint64_t) 0 - (uint64_t) i : (uint64_t) i;
		return true;
	}
	return false;
}

llm_status
gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out, llm_error *err)
{
	const gguf_kv *kv = gguf_find_kv(f, key);
	bool		neg;
	uint64_t	mag;

	if (kv == NULL)
		return LLM_ERR_INVALID_ARG;
	if (!kv_integer(kv, &neg, &mag))
		return getter_fail(err, kv, "type is %s, expected an integer",
						   gguf_type_name(kv->value.type));
	if (neg)
		return getter_fail(err, kv, "value %lld is negative", (long long) kv->value.i);
	*out = mag;
	return LLM_OK;
}

llm_status
gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, llm_error *err)
{
	uint64_t	v;
	llm_status	st = gguf_get_u64(f, key, &v, err);

	if (st != LLM_OK)
		return st;
	if (v > UINT32_MAX)
		return getter_fail(err, gguf_find_kv(f, key),
						   "value %llu does not fit in 32 bits", (unsigned long long) v);
	*out = (uint32_t) v;
	return LLM_OK;
}

llm_status
gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, llm_error *err)
{
	const gguf_kv *kv = gguf_find_kv(f, key);
	bool		neg;
	uint64_t	mag;

	if (kv == NULL)
		return LLM_ERR_INVALID_ARG;
	if (!kv_integer(kv, &neg, &mag))
		return getter_fail(err, kv, "type is %s, expected an integer",
						   gguf_type_name(kv->value.type));
	if (neg)
		*out = kv->value.i;
	else if (mag > (uint64_t) INT64_MAX)
		return getter_fail(err, kv, "value %llu does not fit in a signed 64-bit integer",
						   (unsigned long long) mag);
	else
		*out = (int64_t) mag;
	return LLM_OK;
}

llm_status
gguf_get_f32(const gguf_file *f, const char *key, float *out, llm_error *err)
{
	const gguf_kv *kv = gguf_find_kv(f, key);
	bool		neg;
	uint64_t	mag;
	double		d;

	if (kv == NULL)
		return LLM_ERR_INVALID_ARG;
	if (type_is_float(kv->value.type))
		d = kv->value.f;
	else if (kv_integer(kv, &neg, &mag))
		d = neg ? -(double) mag : (double) mag;
	else
		return getter_fail(err, kv, "type is %s, expected a number",
						   gguf_type_name(kv->value.type));
	/* a finite double beyond float range would become inf (UB in C) */
	if (isfinite(d) && (d > 3.4028234663852886e38 || d < -3.4028234663852886e38))
		return getter_fail(err, kv, "value %g does not fit in a float", d);
	*out = (float) d;
	return LLM_OK;
}

llm_status
gguf_get_bool(const gguf_file *f, const char *key, bool *out, llm_error *err)
{
	const gguf_kv *kv = gguf_find_kv(f, key);
	bool		neg;
	uint64_t	mag;

	if (kv == NULL)
		return LLM_ERR_INVALID_ARG;
	if (kv->value.type == GGUF_TYPE_BOOL)
	{
		*out = kv->value.u != 0;
		return LLM_OK;
	}
	/* some writers store flags as 0/1 integers */
	if (kv_integer(kv, &neg, &mag) && !neg && mag <= 1)
	{
		*out = mag == 1;
		return LLM_OK;
	}
	return getter_fail(err, kv, "type is %s, expected bool", gguf_type_name(kv->value.type));
}

llm_status
gguf_get_str(const gguf_file *f, const char *key, gguf_string *out, llm_error *err)
{
	const gguf_kv *kv = gguf_find_kv(f, key);

	if (kv == NULL)
		return LLM_ERR_INVALID_ARG;
	if (kv->value.type != GGUF_TYPE_STRING)
		return getter_fail(err, kv, "type is %s, expected string",
						   gguf_type_name(kv->value.type));
	*out = kv->value.s;
	return LLM_OK;
}

llm_status
gguf_get_arr(const gguf_file *f, const char *key, gguf_array *out, llm_error *err)
{
	const gguf_kv *kv = gguf_find_kv(f, key);

	if (kv == NULL)
		return LLM_ERR_INVALID_ARG;
	if (kv->value.type != GGUF_TYPE_ARRAY)
		return getter_fail(err, kv, "type is %s, expected array",
						   gguf_type_name(kv->value.type));
	*out = kv->value.arr;
	return LLM_OK;
}

/* ----------------------------------------------------------------
 * Array elements
 * ---------------------------------------------------------------- */

/*
 * The arrays come from a validated parse, but these still check against
 * arr->nbytes: a caller may hand in an array it built or sliced itself.
 */
static void
array_reader(reader *r, const gguf_array *arr, llm_error *err)
{
	memset(r, 0, sizeof(*r));
	r->base = arr->data;
	r->size = (size_t) arr->nbytes;
	r->err = err;
	r->section = SECTION_ARRAY;
}

llm_status
gguf_array_strings(const gguf_array *arr, gguf_string *out, llm_error *err)
{
	reader		r;
	llm_status	st;

	if (arr == NULL || arr->elem_type != GGUF_TYPE_STRING)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "array elements are not strings");
	array_reader(&r, arr, err);
	r.depth = 1;
	for (uint64_t i = 0; i < arr->count; i++)
	{
		r.elem[1] = i;
		if ((st = read_string(&r, &out[i])) != LLM_OK)
			return st;
	}
	return LLM_OK;
}

llm_status
gguf_array_arrays(const gguf_array *arr, gguf_array *out, llm_error *err)
{
	reader		r;
	llm_status	st;

	if (arr == NULL || arr->elem_type != GGUF_TYPE_ARRAY)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "array elements are not arrays");
	array_reader(&r, arr, err);
	/* depth restarts here: the parse already bounded the real depth */
	r.depth = 1;
	for (uint64_t i = 0; i < arr->count; i++)
	{
		r.elem[1] = i;
		if ((st = read_array(&r, &out[i])) != LLM_OK)
			return st;
	}
	return LLM_OK;
}

static bool
array_element(const gguf_array *arr, uint64_t i, gguf_value *v)
{
	size_t		size = gguf_type_size(arr->elem_type);
	uint64_t	off;

	if (size == 0 || i >= arr->count ||
		__builtin_mul_overflow(i, (uint64_t) size, &off) ||
		off + size > arr->nbytes)
		return false;
	v->type = arr->elem_type;
	decode_scalar(arr->data + off, v);
	return true;
}

int64_t
gguf_array_get_int(const gguf_array *arr, uint64_t i)
{
	gguf_value	v;

	if (arr == NULL || !array_element(arr, i, &v))
		return 0;
	if (type_is_signed(v.type))
		return v.i;
	if (type_is_unsigned(v.type) || v.type == GGUF_TYPE_BOOL)
		return (int64_t) v.u;	/* u64 beyond INT64_MAX wraps, as documented */
	return 0;
}

double
gguf_array_get_float(const gguf_array *arr, uint64_t i)
{
	gguf_value	v;

	if (arr == NULL || !array_element(arr, i, &v))
		return 0.0;
	if (type_is_float(v.type))
		return v.f;
	if (type_is_signed(v.type))
		return (double) v.i;
	if (type_is_unsigned(v.type) || v.type == GGUF_TYPE_BOOL)
		return (double) v.u;
	return 0.0;
}

bool
gguf_str_eq(gguf_string s, const char *cstr)
{
	size_t		n = strlen(cstr);

	return s.len == n && (n == 0 || memcmp(s.ptr, cstr, n) == 0);
}
