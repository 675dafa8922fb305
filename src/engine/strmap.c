/*
 * strmap.c — open-addressing (linear probing) string -> int32 map.
 *
 * The table has a power-of-two size with at most 3/4 of its slots used
 * (it is built on the model-load path, where every page touched costs a
 * fault; linear probing still scans only a few 16-byte slots — one or two
 * cache lines — for a miss at that load).  The home slot comes from
 * the hash's low bits and each slot keeps 8 high bits of the hash next to
 * the key length, so a probe rarely needs to compare key bytes.
 */
#include "strmap.h"

#include <string.h>

/*
 * Hash 8 bytes at a time (keys are mostly short token texts, so the
 * per-key cost matters more than the per-byte cost), then mix the length
 * in and finish with a 64-bit avalanche (murmur3's fmix64).
 */
uint32_t
llm_strmap_hash(const char *key, size_t len)
{
	const uint64_t k = 0x9E3779B97F4A7C15ull;
	uint64_t	h = 0x243F6A8885A308D3ull ^ len;
	size_t		i = 0;

	for (; i + 8 <= len; i += 8)
	{
		uint64_t	w;

		memcpy(&w, key + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (i < len)
	{
		uint64_t	w = 0;

		memcpy(&w, key + i, len - i);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t) h;
}

static inline uint32_t
make_len_tag(size_t len, uint32_t hash)
{
	return (uint32_t) len | (hash & 0xFF000000u);
}

static llm_status
alloc_slots(llm_strmap *m, size_t capacity, llm_error *err)
{
	m->slots = llm_calloc(capacity, sizeof(llm_strmap_entry));
	if (m->slots == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for a hash table of %zu slots",
							 capacity);
	m->mask = capacity - 1;
	m->count = 0;
	return LLM_OK;
}

/* Smallest power of two (>= 16) that holds keys at a load of at most 3/4. */
static bool
capacity_for(size_t keys, size_t *capacity)
{
	size_t		c = 16;

	while (c / 4 * 3 < keys)
	{
		if (c > SIZE_MAX / 4 / sizeof(llm_strmap_entry))
			return false;
		c *= 2;
	}
	*capacity = c;
	return true;
}

llm_status
llm_strmap_init(llm_strmap *m, size_t expected, llm_error *err)
{
	size_t		capacity;

	m->slots = NULL;
	m->mask = 0;
	m->count = 0;
	if (!capacity_for(expected, &capacity))
		return llm_error_set(err, LLM_ERR_LIMIT, "hash table for %zu keys is too large", expected);
	return alloc_slots(m, capacity, err);
}

void
llm_strmap_free(llm_strmap *m)
{
	if (m == NULL)
		return;
	llm_free(m->slots);
	m->slots = NULL;
	m->mask = 0;
	m->count = 0;
}

/* Slot holding key, or the empty slot where it would go. */
static llm_strmap_entry *
find_slot(llm_strmap_entry *slots, size_t mask, const char *key, size_t len, uint32_t hash)
{
	uint32_t	len_tag = make_len_tag(len, hash);
	size_t		i = hash & mask;

	for (;;)
	{
		llm_strmap_entry *e = &slots[i];

		if (e->key == NULL)
			return e;
		if (e->len_tag == len_tag && memcmp(e->key, key, len) == 0)
			return e;
		i = (i + 1) & mask;
	}
}

/* Move every entry of m into a fresh table of the given capacity. */
static llm_status
rehash(llm_strmap *m, size_t capacity, llm_error *err)
{
	llm_strmap_entry *old = m->slots;
	size_t		old_capacity = old ? m->mask + 1 : 0;
	size_t		count = m->count;
	llm_status	st;

	st = alloc_slots(m, capacity, err);
	if (st != LLM_OK)
	{
		m->slots = old;
		m->mask = old_capacity ? old_capacity - 1 : 0;
		return st;
	}
	for (size_t i = 0; i < old_capacity; i++)
	{
		const llm_strmap_entry *e = &old[i];
		size_t		len;

		if (e->key == NULL)
			continue;
		len = e->len_tag & LLM_STRMAP_MAX_KEY;
		*find_slot(m->slots, m->mask, e->key, len, llm_strmap_hash(e->key, len)) = *e;
	}
	m->count = count;
	llm_free(old);
	return LLM_OK;
}

llm_status
llm_strmap_put(llm_strmap *m, const char *key, size_t len, int32_t value,
			   bool overwrite, llm_error *err)
{
	llm_strmap_entry *e;
	uint32_t	hash;
	llm_status	st;

	if (len > LLM_STRMAP_MAX_KEY)
		return llm_error_set(err, LLM_ERR_LIMIT, "hash key of %zu bytes is too long", len);
	if (m->slots == NULL || m->count + 1 > (m->mask + 1) / 4 * 3)
	{
		size_t		capacity;

		if (!capacity_for(m->count + 1, &capacity))
			return llm_error_set(err, LLM_ERR_LIMIT, "hash table is too large");
		if ((st = rehash(m, capacity, err)) != LLM_OK)
			return st;
	}
	/* a NULL key pointer would read as an empty slot; any non-NULL works for len 0 */
	if (key == NULL)
		key = "";
	hash = llm_strmap_hash(key, len);
	e = find_slot(m->slots, m->mask, key, len, hash);
	if (e->key != NULL)
	{
		if (overwrite)
			e->value = value;
		return LLM_OK;
	}
	e->key = key;
	e->len_tag = make_len_tag(len, hash);
	e->value = value;
	m->count++;
	return LLM_OK;
}

static inline uint32_t
strided_u32(const uint32_t *first, size_t stride, size_t i)
{
	uint32_t	v;

	memcpy(&v, (const char *) first + i * stride, sizeof(v));
	return v;
}

llm_status
llm_strmap_put_many(llm_strmap *m, const char *base, const uint32_t *offs,
					const uint32_t *lens, size_t stride, size_t n, bool overwrite,
					llm_error *err)
{
	typedef struct pending
	{
		uint32_t	hash;
		uint32_t	off;
		uint32_t	len;
		int32_t		value;
	} pending;
	uint32_t   *hashes = NULL;
	pending    *sorted = NULL;
	uint32_t	start[4096 + 1];
	size_t		n_buckets;
	int			shift = 0;
	llm_status	st = LLM_OK;

	if (n == 0)
		return LLM_OK;
	if (n > INT32_MAX)
		return llm_error_set(err, LLM_ERR_LIMIT, "too many keys (%zu)", n);

	/* size the table for all of them up front: no growth in the loop */
	if (m->slots == NULL || m->count + n > (m->mask + 1) / 4 * 3)
	{
		size_t		capacity;

		if (!capacity_for(m->count + n, &capacity))
			return llm_error_set(err, LLM_ERR_LIMIT, "hash table for %zu keys is too large", n);
		if ((st = rehash(m, capacity, err)) != LLM_OK)
			return st;
	}

	/*
	 * Counting-sort the keys by home slot, coarsely (4096 buckets, so the
	 * counters stay in L1) and stably (equal keys keep their order, so the
	 * overwrite rule holds), carrying what the insert needs; the inserts
	 * then sweep the table and the records in order instead of at random.
	 */
	n_buckets = m->mask + 1;
	while (n_buckets > 4096)
	{
		n_buckets >>= 1;
		shift++;
	}
	memset(start, 0, sizeof(start));
	hashes = llm_malloc(n * sizeof(uint32_t));
	sorted = llm_malloc(n * sizeof(pending));
	if (hashes == NULL || sorted == NULL)
	{
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory building a hash table of %zu keys", n);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
	{
		uint32_t	len = strided_u32(lens, stride, i);

		if (len > LLM_STRMAP_MAX_KEY)
		{
			st = llm_error_set(err, LLM_ERR_LIMIT, "hash key of %u bytes is too long", len);
			goto done;
		}
		hashes[i] = llm_strmap_hash(base + strided_u32(offs, stride, i), len);
		start[((hashes[i] & m->mask) >> shift) + 1]++;
	}
	for (size_t b = 0; b < n_buckets; b++)
		start[b + 1] += start[b];
	for (size_t i = 0; i < n; i++)
	{
		pending    *p = &sorted[start[(hashes[i] & m->mask) >> shift]++];

		p->hash = hashes[i];
		p->off = strided_u32(offs, stride, i);
		p->len = strided_u32(lens, stride, i);
		p->value = (int32_t) i;
	}

	for (size_t k = 0; k < n; k++)
	{
		const pending *p = &sorted[k];
		llm_strmap_entry *e = find_slot(m->slots, m->mask, base + p->off, p->len, p->hash);

		if (e->key != NULL)
		{
			if (overwrite)
				e->value = p->value;
			continue;
		}
		e->key = base + p->off;
		e->len_tag = make_len_tag(p->len, p->hash);
		e->value = p->value;
		m->count++;
	}

done:
	llm_free(hashes);
	llm_free(sorted);
	return st;
}

int32_t
llm_strmap_get(const llm_strmap *m, const char *key, size_t len)
{
	const llm_strmap_entry *e;

	if (m->slots == NULL || len > LLM_STRMAP_MAX_KEY)
		return -1;
	if (key == NULL)
		key = "";
	e = find_slot(m->slots, m->mask, key, len, llm_strmap_hash(key, len));
	return e->key != NULL ? e->value : -1;
}
