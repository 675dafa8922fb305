/*
 * strmap.h — an open-addressing hash map from byte strings to int32.
 *
 * Keys are borrowed, not copied: the caller keeps the bytes alive (and
 * unchanged) as long as the map.  Any bytes are fine, NUL included; the
 * empty string is a valid key.  Built once, then read many times (token
 * text -> id, merge pair -> rank), so there is no delete.
 */
#ifndef LLM_ENGINE_STRMAP_H
#define LLM_ENGINE_STRMAP_H

#include "common.h"

/*
 * 16 bytes a slot (the table is on the model-load path: smaller means fewer
 * page faults and cache misses).  len_tag packs the key length (low 24
 * bits) with 8 more bits of its hash, so most mismatches are rejected
 * without touching the key bytes.
 */
typedef struct llm_strmap_entry
{
	const char *key;			/* NULL: empty slot */
	uint32_t	len_tag;
	int32_t		value;
} llm_strmap_entry;

#define LLM_STRMAP_MAX_KEY 0xFFFFFF	/* longest key, bytes */

typedef struct llm_strmap
{
	llm_strmap_entry *slots;
	size_t		mask;			/* capacity - 1 (capacity is a power of two) */
	size_t		count;
} llm_strmap;

/* Make an empty map sized for about `expected` keys. */
llm_status	llm_strmap_init(llm_strmap *m, size_t expected, llm_error *err);
void		llm_strmap_free(llm_strmap *m);

/*
 * Insert key -> value.  When the key is already present, overwrite decides:
 * true replaces the value, false keeps the old one.  Grows as needed.
 * Keys longer than LLM_STRMAP_MAX_KEY bytes are refused (LLM_ERR_LIMIT).
 */
llm_status	llm_strmap_put(llm_strmap *m, const char *key, size_t len,
						   int32_t value, bool overwrite, llm_error *err);

/*
 * Insert n keys at once, key i being the value i.  The keys live in one
 * buffer: key i is base[off_i .. off_i + len_i), where off_i and len_i are
 * the uint32 values at (const char *) offs + i * stride and
 * (const char *) lens + i * stride — so the caller can point straight into
 * an array of its own records.  The result is the same as n llm_strmap_put
 * calls in order (same overwrite rule), but the table is filled in slot
 * order, which is much faster for large n (no random cache/TLB misses).
 */
llm_status	llm_strmap_put_many(llm_strmap *m, const char *base, const uint32_t *offs,
								const uint32_t *lens, size_t stride, size_t n,
								bool overwrite, llm_error *err);

/* The value for key, or -1 when absent (always for over-long keys). */
int32_t		llm_strmap_get(const llm_strmap *m, const char *key, size_t len);

/* The hash used (64-bit multiply-xorshift, folded to 32 bits), exposed for tests. */
uint32_t	llm_strmap_hash(const char *key, size_t len);

#endif							/* LLM_ENGINE_STRMAP_H */
