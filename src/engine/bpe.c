/*
 * bpe.c — byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp's
 * llm_tokenizer_bpe_session does it:
 *
 *   1. decode the fragment to code points (llama.cpp's lenient decoder) and
 *      split it into words with the pre-tokenizer;
 *   2. re-encode each word as UTF-8 and map every byte to its GPT-2
 *      printable code point (bytes_to_unicode), giving the word's text in
 *      the vocabulary's alphabet;
 *   3. start from one symbol per UTF-8 character and repeatedly merge the
 *      adjacent pair with the lowest merge rank (ties: leftmost), using a
 *      priority queue so a long word costs O(n log n), not O(n^2);
 *   4. emit each final symbol's token; a symbol that is not a token falls
 *      back, byte by byte, to tokens whose text is that single byte
 *      (bytes without one are dropped — llama.cpp does the same).
 */
#include "tokenizer_internal.h"
#include "unicode.h"

#include <string.h>

typedef struct bpe_symbol
{
	int32_t		prev;
	int32_t		next;
	uint32_t	start;			/* byte offset in the word */
	uint32_t	n;				/* bytes; 0 once merged into its left */
} bpe_symbol;

typedef struct bpe_pair
{
	int32_t		rank;
	int32_t		left;
	int32_t		right;
	uint32_t	size;			/* bytes of left + right when queued */
} bpe_pair;

typedef struct bpe_work
{
	bpe_symbol *sym;
	size_t		sym_cap;
	bpe_pair   *heap;			/* 4-ary heap, see heap_push */
	void	   *heap_raw;		/* the allocation heap points into */
	size_t		heap_n;
	size_t		heap_cap;
	char	   *key;			/* "left right" lookup key */
	size_t		key_cap;
} bpe_work;

/* heap order: lowest rank first, then leftmost */
static inline bool
pair_before(const bpe_pair *a, const bpe_pair *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

/*
 * The work queue is a 4-ary heap (lowest rank first, then leftmost).  A long word
 * queues about one pair per character, so the heap can hold millions of
 * entries; with four 16-byte children per node, stored so that they fill
 * one 64-byte cache line, a pop touches half as many lines as a binary
 * heap.  Logical node k lives at heap[k + 3]: its children 4k+1..4k+4 are
 * at heap[4k+4..4k+7], 64-byte aligned when heap is.
 */
#define HEAP_PAD 3

static llm_status
heap_grow(bpe_work *w, llm_error *err)
{
	size_t		cap = w->heap_cap ? w->heap_cap * 2 : 256;
	size_t		bytes;
	void	   *raw;
	bpe_pair   *heap;

	if (cap > (SIZE_MAX - 64) / sizeof(bpe_pair) - HEAP_PAD)
		return llm_error_set(err, LLM_ERR_LIMIT, "tokenizer work queue too large");
	bytes = (cap + HEAP_PAD) * sizeof(bpe_pair) + 64;
	raw = llm_malloc(bytes);
	if (raw == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the tokenizer work queue");
	heap = (bpe_pair *) (((uintptr_t) raw + 63) & ~(uintptr_t) 63);
	if (w->heap_n > 0)
		memcpy(heap + HEAP_PAD, w->heap + HEAP_PAD, w->heap_n * sizeof(bpe_pair));
	llm_free(w->heap_raw);
	w->heap_raw = raw;
	w->heap = heap;
	w->heap_cap = cap;
	return LLM_OK;
}

static llm_status
heap_push(bpe_work *w, bpe_pair p, llm_error *err)
{
	bpe_pair   *h;
	size_t		i;
	llm_status	st;

	if (w->heap_n == w->heap_cap && (st = heap_grow(w, err)) != LLM_OK)
		return st;
	h = w->heap + HEAP_PAD;
	i = w->heap_n++;
	while (i > 0)
	{
		size_t		parent = (i - 1) / 4;

		if (!pair_before(&p, &h[parent]))
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = p;
	return LLM_OK;
}

static bpe_pair
heap_pop(bpe_work *w)
{
	bpe_pair   *h = w->heap + HEAP_PAD;
	bpe_pair	top = h[0];
	bpe_pair	last = h[--w->heap_n];
	size_t		n = w->heap_n;
	size_t		i = 0;

	if (n == 0)
		return top;
	for (;;)
	{
		size_t		first = 4 * i + 1;
		size_t		end = first + 4 < n ? first + 4 : n;
		size_t		best;

		if (first >= n)
			break;
		best = first;
		for (size_t c = first + 1; c < end; c++)
			if (pair_before(&h[c], &h[best]))
				best = c;
		if (!pair_before(&h[best], &last))
			break;
		h[i] = h[best];
		i = best;
	}
	h[i] = last;
	return top;
}

/* Queue the pair (left, right) if "left right" is a merge. */
static llm_status
add_pair(const llm_vocab *v, bpe_work *w, const char *word, int32_t left, int32_t right,
		 llm_error *err)
{
	const bpe_symbol *l;
	const bpe_symbol *r;
	size_t		klen;
	int32_t		rank;

	if (left < 0 || right < 0)
		return LLM_OK;
	l = &w->sym[left];
	r = &w->sym[right];
	klen = (size_t) l->n + 1 + r->n;
	if (klen > v->max_merge_len)
		return LLM_OK;			/* longer than any merge: cannot be one */
	memcpy(w->key, word + l->start, l->n);
	w->key[l->n] = ' ';
	memcpy(w->key + l->n + 1, word + r->start, r->n);
	rank = llm_strmap_get(&v->merge_ranks, w->key, klen);
	if (rank < 0)
		return LLM_OK;
	return heap_push(w, (bpe_pair) {rank, left, right, l->n + r->n}, err);
}

/* BPE over one word already in the byte-level alphabet. */
static llm_status
bpe_word(const llm_vocab *v, bpe_work *w, const char *word, size_t len, tok_out *out,
		 llm_error *err)
{
	size_t		n_sym = 0;
	llm_status	st;

	if (len == 0)
		return LLM_OK;
	if (v->pre.ignore_merges)
	{
		int32_t		id = vocab_lookup(v, word, len);

		if (id >= 0)
			return tok_out_push(out, id, err);
	}

	/* one symbol per UTF-8 character (the word is valid UTF-8 by construction) */
	if (len > w->sym_cap)
	{
		bpe_symbol *s = llm_calloc(len, sizeof(bpe_symbol));

		if (s == NULL)
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory in BPE (word of %zu bytes)", len);
		llm_free(w->sym);
		w->sym = s;
		w->sym_cap = len;
	}
	for (size_t off = 0; off < len;)
	{
		size_t		clen = llm_utf8_len((uint8_t) word[off]);
		bpe_symbol *s = &w->sym[n_sym];

		if (clen > len - off)
			clen = len - off;
		s->start = (uint32_t) off;
		s->n = (uint32_t) clen;
		s->prev = (int32_t) n_sym - 1;
		off += clen;
		s->next = (off == len) ? -1 : (int32_t) n_sym + 1;
		n_sym++;
	}

	w->heap_n = 0;
	for (size_t i = 1; i < n_sym; i++)
		if ((st = add_pair(v, w, word, (int32_t) i - 1, (int32_t) i, err)) != LLM_OK)
			return st;

	while (w->heap_n > 0)
	{
		bpe_pair	p = heap_pop(w);
		bpe_symbol *l = &w->sym[p.left];
		bpe_symbol *r = &w->sym[p.right];

		/*
		 * Stale entry: one side was merged away, or grew.  Sides only grow
		 * by absorbing their right neighbour, so equal total size means
		 * the same two strings as when queued.
		 */
		if (l->n == 0 || r->n == 0 || l->n + r->n != p.size)
			continue;

		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			w->sym[r->next].prev = p.left;

		if ((st = add_pair(v, w, word, l->prev, p.left, err)) != LLM_OK)
			return st;
		if ((st = add_pair(v, w, word, p.left, l->next, err)) != LLM_OK)
			return st;
	}

	/* symbol 0 is never merged away: walk the chain from it */
	for (int32_t i = 0; i != -1; i = w->sym[i].next)
	{
		const bpe_symbol *s = &w->sym[i];
		int32_t		id;

		if (s->n == 0)
			continue;
		id = vocab_lookup(v, word + s->start, s->n);
		if (id >= 0)
		{
			if ((st = tok_out_push(out, id, err)) != LLM_OK)
				return st;
			continue;
		}
		for (uint32_t j = 0; j < s->n; j++)
		{
			int32_t		bid = vocab_lookup(v, word + s->start + j, 1);

			if (bid >= 0 && (st = tok_out_push(out, bid, err)) != LLM_OK)
				return st;
		}
	}
	return LLM_OK;
}

llm_status
llm_bpe_encode(const llm_vocab *v, const char *text, size_t len, tok_out *out, llm_error *err)
{
	uint32_t   *cpts = NULL;
	uint16_t   *flags = NULL;
	size_t	   *word_lens = NULL;
	size_t		n_words = 0;
	size_t		n = 0;
	char	   *wbuf = NULL;
	size_t		wbuf_cap = 0;
	bpe_work	w = {0};
	llm_status	st = LLM_OK;
	uint8_t		mapped[256][2];
	uint8_t		mapped_len[256];

	if (len == 0)
		return LLM_OK;

	/* the byte-level alphabet: byte -> UTF-8 of its printable stand-in */
	for (int b = 0; b < 256; b++)
	{
		uint8_t		tmp[4];

		mapped_len[b] = (uint8_t) llm_utf8_encode(llm_byte_to_cpt((uint8_t) b), tmp);
		mapped[b][0] = tmp[0];
		mapped[b][1] = tmp[1];	/* stand-ins are below U+0800: at most 2 bytes */
	}

	cpts = llm_calloc(len, sizeof(uint32_t));
	flags = llm_calloc(len, sizeof(uint16_t));
	w.key = llm_malloc(v->max_merge_len + 1);
	w.key_cap = v->max_merge_len + 1;
	if (cpts == NULL || flags == NULL || w.key == NULL)
	{
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory tokenizing %zu bytes", len);
		goto done;
	}

	for (size_t off = 0; off < len;)
	{
		size_t		used;

		cpts[n] = llm_utf8_decode((const uint8_t *) text + off, len - off, &used);
		flags[n] = llm_unicode_flags(cpts[n]);
		n++;
		off += used;
	}

	st = llm_pretokenize(v->pre.type, cpts, flags, n, &word_lens, &n_words, err);
	if (st != LLM_OK)
		goto done;

	{
		size_t		start = 0;

		for (size_t i = 0; i < n_words; i++)
		{
			size_t		wl = word_lens[i];
			size_t		blen = 0;
			size_t		need;

			/* up to 4 UTF-8 bytes per code point, each 2 bytes once mapped */
			if (!llm_mul_size(wl, 8, &need))
			{
				st = llm_error_set(err, LLM_ERR_LIMIT, "word too long");
				goto done;
			}
			if (need > wbuf_cap)
			{
				char	   *nb = llm_realloc(wbuf, wbuf_cap, need);

				if (nb == NULL)
				{
					st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory tokenizing a word of %zu characters", wl);
					goto done;
				}
				wbuf = nb;
				wbuf_cap = need;
			}
			for (size_t k = start; k < start + wl; k++)
			{
				uint8_t		u8[4];
				size_t		ulen = llm_utf8_encode(cpts[k], u8);

				for (size_t b = 0; b < ulen; b++)
				{
					wbuf[blen++] = (char) mapped[u8[b]][0];
					if (mapped_len[u8[b]] == 2)
						wbuf[blen++] = (char) mapped[u8[b]][1];
				}
			}
			if ((st = bpe_word(v, &w, wbuf, blen, out, err)) != LLM_OK)
				goto done;
			start += wl;
		}
	}

done:
	llm_free(cpts);
	llm_free(flags);
	llm_free(word_lens);
	llm_free(wbuf);
	llm_free(w.sym);
	llm_free(w.heap_raw);
	llm_free(w.key);
	return st;
}
