/*
 * spm.c — SentencePiece BPE (tokenizer.ggml.model = "llama"), as llama.cpp's
 * llm_tokenizer_spm_session does it:
 *
 *   1. prefix a space when asked (the caller decides: start of text, or
 *      right after a special token) and replace every ' ' with U+2581;
 *   2. start from one symbol per UTF-8 character — judged by the lead byte
 *      alone, so invalid UTF-8 simply makes odd symbols;
 *   3. repeatedly merge the adjacent pair whose concatenation is a token
 *      with the highest score (ties: leftmost), with a priority queue;
 *   4. emit each symbol's token; a symbol that is not a token (only ever a
 *      single unmerged character) becomes one byte token <0xXX> per byte.
 */
#include "tokenizer_internal.h"
#include "unicode.h"

#include <string.h>

typedef struct spm_symbol
{
	int32_t		prev;
	int32_t		next;
	uint32_t	start;
	uint32_t	n;				/* 0 once merged into its left */
} spm_symbol;

typedef struct spm_pair
{
	float		score;
	int32_t		left;
	int32_t		right;
	uint32_t	size;
} spm_pair;

typedef struct spm_work
{
	spm_symbol *sym;
	spm_pair   *heap;			/* 4-ary heap, see heap_push */
	void	   *heap_raw;		/* the allocation heap points into */
	size_t		heap_n;
	size_t		heap_cap;
} spm_work;

/* heap order: highest score first, then leftmost */
static inline bool
pair_before(const spm_pair *a, const spm_pair *b)
{
	return a->score > b->score || (a->score == b->score && a->left < b->left);
}

/*
 * The work queue is a 4-ary heap (highest score first, then leftmost).  A long word
 * queues about one pair per character, so the heap can hold millions of
 * entries; with four 16-byte children per node, stored so that they fill
 * one 64-byte cache line, a pop touches half as many lines as a binary
 * heap.  Logical node k lives at heap[k + 3]: its children 4k+1..4k+4 are
 * at heap[4k+4..4k+7], 64-byte aligned when heap is.
 */
#define HEAP_PAD 3

static llm_status
heap_grow(spm_work *w, llm_error *err)
{
	size_t		cap = w->heap_cap ? w->heap_cap * 2 : 256;
	size_t		bytes;
	void	   *raw;
	spm_pair   *heap;

	if (cap > (SIZE_MAX - 64) / sizeof(spm_pair) - HEAP_PAD)
		return llm_error_set(err, LLM_ERR_LIMIT, "tokenizer work queue too large");
	bytes = (cap + HEAP_PAD) * sizeof(spm_pair) + 64;
	raw = llm_malloc(bytes);
	if (raw == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the tokenizer work queue");
	heap = (spm_pair *) (((uintptr_t) raw + 63) & ~(uintptr_t) 63);
	if (w->heap_n > 0)
		memcpy(heap + HEAP_PAD, w->heap + HEAP_PAD, w->heap_n * sizeof(spm_pair));
	llm_free(w->heap_raw);
	w->heap_raw = raw;
	w->heap = heap;
	w->heap_cap = cap;
	return LLM_OK;
}

static llm_status
heap_push(spm_work *w, spm_pair p, llm_error *err)
{
	spm_pair   *h;
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

static spm_pair
heap_pop(spm_work *w)
{
	spm_pair   *h = w->heap + HEAP_PAD;
	spm_pair	top = h[0];
	spm_pair	last = h[--w->heap_n];
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

/* Queue (left, right) if their concatenation is a token. */
static llm_status
try_pair(const llm_vocab *v, spm_work *w, const char *text, int32_t left, int32_t right,
		 llm_error *err)
{
	const spm_symbol *l;
	size_t		size;
	int32_t		id;

	if (left < 0 || right < 0)
		return LLM_OK;
	l = &w->sym[left];
	size = (size_t) l->n + w->sym[right].n;
	if (size > v->max_token_len)
		return LLM_OK;
	/* adjacent live symbols are contiguous in the text */
	id = vocab_lookup(v, text + l->start, size);
	if (id < 0)
		return LLM_OK;
	return heap_push(w, (spm_pair) {v->tokens[id].score, left, right, (uint32_t) size}, err);
}

static llm_status
push_bytes(const llm_vocab *v, const char *s, size_t n, tok_out *out, llm_error *err)
{
	llm_status	st;

	for (size_t j = 0; j < n; j++)
	{
		uint8_t		b = (uint8_t) s[j];
		int32_t		id = v->byte_token[b];

		/*
		 * llama.cpp throws here (the vocabulary has no byte tokens); the
		 * unknown token is what SentencePiece itself would give.
		 */
		if (id < 0)
			id = v->unk;
		if (id < 0)
			return llm_error_set(err, LLM_ERR_UNSUPPORTED,
								 "the vocabulary has no token for byte 0x%02X and no unknown token", b);
		if ((st = tok_out_push(out, id, err)) != LLM_OK)
			return st;
	}
	return LLM_OK;
}

llm_status
llm_spm_encode(const llm_vocab *v, const char *text, size_t len, bool space_prefix,
			   tok_out *out, llm_error *err)
{
	static const char escaped_space[3] = {'\xE2', '\x96', '\x81'};	/* U+2581 */
	char	   *buf = NULL;
	size_t		blen = 0;
	size_t		cap;
	size_t		n_sym = 0;
	spm_work	w = {0};
	llm_status	st = LLM_OK;

	if (len == 0 && !space_prefix)
		return LLM_OK;

	/* every byte may become 3 */
	if (!llm_mul_size(len, 3, &cap) || !llm_add_size(cap, 3, &cap))
		return llm_error_set(err, LLM_ERR_LIMIT, "text too long");
	buf = llm_malloc(cap);
	if (buf == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory tokenizing %zu bytes", len);
	if (space_prefix)
	{
		memcpy(buf, escaped_space, 3);
		blen = 3;
	}
	for (size_t i = 0; i < len; i++)
	{
		if (text[i] == ' ')
		{
			memcpy(buf + blen, escaped_space, 3);
			blen += 3;
		}
		else
			buf[blen++] = text[i];
	}

	w.sym = llm_calloc(blen, sizeof(spm_symbol));
	if (w.sym == NULL)
	{
		st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory tokenizing %zu bytes", len);
		goto done;
	}
	for (size_t off = 0; off < blen;)
	{
		size_t		clen = llm_utf8_len((uint8_t) buf[off]);
		spm_symbol *s = &w.sym[n_sym];

		if (clen > blen - off)
			clen = blen - off;
		s->start = (uint32_t) off;
		s->n = (uint32_t) clen;
		s->prev = (int32_t) n_sym - 1;
		off += clen;
		s->next = (off == blen) ? -1 : (int32_t) n_sym + 1;
		n_sym++;
	}

	for (size_t i = 1; i < n_sym; i++)
		if ((st = try_pair(v, &w, buf, (int32_t) i - 1, (int32_t) i, err)) != LLM_OK)
			goto done;

	while (w.heap_n > 0)
	{
		spm_pair	p = heap_pop(&w);
		spm_symbol *l = &w.sym[p.left];
		spm_symbol *r = &w.sym[p.right];

		if (l->n == 0 || r->n == 0 || l->n + r->n != p.size)
			continue;			/* stale: a side was merged away or grew */

		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			w.sym[r->next].prev = p.left;

		if ((st = try_pair(v, &w, buf, l->prev, p.left, err)) != LLM_OK)
			goto done;
		if ((st = try_pair(v, &w, buf, p.left, l->next, err)) != LLM_OK)
			goto done;
	}

	for (int32_t i = 0; n_sym > 0 && i != -1; i = w.sym[i].next)
	{
		const spm_symbol *s = &w.sym[i];
		int32_t		id = vocab_lookup(v, buf + s->start, s->n);

		/*
		 * A merged symbol is always a token; a symbol that is not one is a
		 * single character no merge produced, spelled out in bytes.
		 */
		if (id >= 0)
			st = tok_out_push(out, id, err);
		else
			st = push_bytes(v, buf + s->start, s->n, out, err);
		if (st != LLM_OK)
			goto done;
	}

done:
	llm_free(buf);
	llm_free(w.sym);
	llm_free(w.heap_raw);
	return st;
}
