/*
 * constraint.c — the schema matcher applied to tokens: a trie of the
 * vocabulary's bytes, full masks by walking it, and single-token checks.
 *
 * The trie is built once per vocabulary.  Its nodes are numbered in
 * depth-first preorder: a node's subtree is the run of numbers from it to
 * skip[node], and the tokens ending at a node are one run of an array.
 * Four flat arrays, no pointers, and a walk reads them front to back.
 *
 * A full mask walks the trie in that order, feeding each node's byte to the
 * matcher after rolling back to the mark of its parent, so a prefix shared
 * by many tokens is matched once and a refused byte skips its whole
 * subtree.
 *
 * One state is so common that it gets a shortcut: the inside of a string
 * with no pattern (most string values).  There, whether a token stays
 * inside the string depends only on its own bytes and on how many more
 * characters the string may take, so the trie build classifies every token
 * once ("stays inside, with n characters" / "closes the string" /
 * "impossible"), and the mask is a prefix of the inside-tokens sorted by
 * character count plus an exact check of the few tokens holding a quote.
 */
#include "constraint.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Token classes inside a plain string (see above). */
enum
{
	TC_BAD,
	TC_INNER,
	TC_QUOTE
};

/* Pieces longer than this are left out of the trie (never allowed). */
#define TRIE_MAX_PIECE 4096

struct llm_token_trie
{
	int32_t		n_vocab;
	int32_t		n_nodes;		/* node 0 is the root (the empty prefix) */
	int32_t    *skip;			/* [n_nodes]: first node after node i's subtree */
	uint8_t    *byte;			/* [n_nodes]: the byte on the edge into node i */
	uint16_t   *depth;			/* [n_nodes]: bytes from the root */
	int32_t    *tok_start;		/* [n_nodes + 1]: tokens ending at node i in tok_ids */
	int32_t    *tok_ids;
	int32_t		max_depth;		/* longest piece in the trie */
	/* each token's piece */
	uint32_t   *piece_off;		/* [n_vocab + 1] */
	char	   *pieces;
	/* end-of-generation tokens */
	int32_t    *eog;
	int32_t		n_eog;
	bool	   *is_eog;			/* [n_vocab] */
	/* the plain-string shortcut */
	int32_t    *inner;			/* TC_INNER tokens by character count */
	int32_t    *inner_upto;		/* [max_depth + 2]: inner tokens with <= c characters */
	int32_t    *quote;			/* TC_QUOTE tokens */
	int32_t		n_quote;
};

struct llm_constraint
{
	const llm_schema *schema;
	const llm_token_trie *trie;
	const llm_vocab *vocab;
	llm_json_matcher *m;
	llm_json_mark *marks;		/* [trie->max_depth + 1]: state at each depth of the walk */
	llm_constraint_stats stats;
};

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------------------
 * The trie
 */

typedef struct piece_ref
{
	const char *p;
	uint32_t	len;
	int32_t		id;
} piece_ref;

static int
piece_cmp(const void *a, const void *b)
{
	const piece_ref *x = a;
	const piece_ref *y = b;
	uint32_t	n = x->len < y->len ? x->len : y->len;
	int			c = n ? memcmp(x->p, y->p, n) : 0;

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Classify a piece from the inside of a plain string: does it stay inside
 * (and how many characters does it add, a started one included), close the
 * string, or break it?  Mirrors the string rules of json_matcher.c.
 */
static int
classify_piece(const uint8_t *p, uint32_t len, int32_t *n_chars)
{
	int32_t		chars = 0;
	int			need = 0;
	uint8_t		lo = 0x80,
				hi = 0xBF;
	bool		esc = false;

	for (uint32_t i = 0; i < len; i++)
	{
		uint8_t		b = p[i];

		if (esc)
		{
			if (!strchr("\"\\/bfnrt", b) || b == 0)
				return TC_BAD;
			esc = false;
			chars++;
		}
		else if (need > 0)
		{
			if (b < lo || b > hi)
				return TC_BAD;
			need--;
			lo = 0x80;
			hi = 0xBF;
			if (need == 0)
				chars++;
		}
		else if (b == '"')
			return TC_QUOTE;
		else if (b == '\\')
			esc = true;
		else if (b < 0x20)
			return TC_BAD;
		else if (b < 0x80)
			chars++;
		else if (b >= 0xC2 && b <= 0xDF)
			need = 1;
		else if (b >= 0xE0 && b <= 0xEF)
		{
			need = 2;
			lo = b == 0xE0 ? 0xA0 : 0x80;
			hi = b == 0xED ? 0x9F : 0xBF;
		}
		else if (b >= 0xF0 && b <= 0xF4)
		{
			need = 3;
			lo = b == 0xF0 ? 0x90 : 0x80;
			hi = b == 0xF4 ? 0x8F : 0xBF;
		}
		else
			return TC_BAD;
	}
	*n_chars = chars + ((need > 0 || esc) ? 1 : 0);
	return TC_INNER;
}

void
llm_token_trie_free(llm_token_trie *t)
{
	if (t == NULL)
		return;
	llm_free(t->skip);
	llm_free(t->byte);
	llm_free(t->depth);
	llm_free(t->tok_start);
	llm_free(t->tok_ids);
	llm_free(t->piece_off);
	llm_free(t->pieces);
	llm_free(t->eog);
	llm_free(t->is_eog);
	llm_free(t->inner);
	llm_free(t->inner_upto);
	llm_free(t->quote);
	llm_free(t);
}

/* Grow the node arrays to hold at least need nodes (+1 for the sentinel). */
static bool
trie_reserve(llm_token_trie *t, int32_t *cap, int32_t need)
{
	int32_t		new_cap;
	size_t		o,
				nw;
	void	   *p;

	if (need + 1 <= *cap)
		return true;
	if (*cap > INT32_MAX / 4)
		return false;
	new_cap = *cap * 2;
	while (new_cap < need + 1)
		new_cap *= 2;
	o = (size_t) *cap;
	nw = (size_t) new_cap;
	p = llm_realloc(t->skip, o * sizeof(int32_t), nw * sizeof(int32_t));
	if (p == NULL)
		return false;
	t->skip = p;
	p = llm_realloc(t->byte, o, nw);
	if (p == NULL)
		return false;
	t->byte = p;
	p = llm_realloc(t->depth, o * sizeof(uint16_t), nw * sizeof(uint16_t));
	if (p == NULL)
		return false;
	t->depth = p;
	p = llm_realloc(t->tok_start, o * sizeof(int32_t), nw * sizeof(int32_t));
	if (p == NULL)
		return false;
	t->tok_start = p;
	*cap = new_cap;
	return true;
}

llm_status
llm_token_trie_build(const llm_vocab *vocab, llm_token_trie **out, llm_error *err)
{
	llm_token_trie *t;
	int32_t		n_vocab = llm_vocab_n_tokens(vocab);
	size_t		max_len = llm_vocab_max_token_len(vocab) + 8;
	char	   *buf = NULL;
	piece_ref  *refs = NULL;
	int32_t		n_refs = 0;
	int32_t    *path = NULL;		/* node at each depth of the current piece */
	int32_t		cap = 1024;
	int32_t		n_tok = 0;
	size_t		total = 0;
	int32_t    *inner_chars = NULL;
	int32_t		n_inner = 0;
	llm_status	st = LLM_OK;

	*out = NULL;
	if (n_vocab <= 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "the vocabulary is empty");
	t = llm_calloc(1, sizeof(*t));
	if (t == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory building the token trie");
	t->n_vocab = n_vocab;
	buf = llm_malloc(max_len);
	t->piece_off = llm_calloc((size_t) n_vocab + 1, sizeof(uint32_t));
	t->is_eog = llm_calloc((size_t) n_vocab, sizeof(bool));
	refs = llm_calloc((size_t) n_vocab, sizeof(piece_ref));
	if (!buf || !t->piece_off || !t->is_eog || !refs)
		goto nomem;

	/* the pieces: normal, byte and user-defined tokens only */
	for (int pass = 0; pass < 2; pass++)
	{
		total = 0;
		for (int32_t id = 0; id < n_vocab; id++)
		{
			llm_token_type type = llm_vocab_token_type(vocab, id);
			size_t		len = 0;

			t->piece_off[id] = (uint32_t) total;
			if (pass == 0 && llm_vocab_is_eog(vocab, id))
			{
				t->is_eog[id] = true;
				t->n_eog++;
			}
			if (type != LLM_TOKEN_NORMAL && type != LLM_TOKEN_BYTE &&
				type != LLM_TOKEN_USER_DEFINED)
				continue;
			if (llm_token_to_piece(vocab, id, false, buf, max_len, &len, err) != LLM_OK)
				continue;		/* no piece: never allowed */
			if (pass == 1)
				memcpy(t->pieces + total, buf, len);
			total += len;
			if (total > UINT32_MAX - max_len)
			{
				st = llm_error_set(err, LLM_ERR_LIMIT, "the vocabulary's token texts are too large");
				goto fail;
			}
		}
		t->piece_off[n_vocab] = (uint32_t) total;
		if (pass == 0)
		{
			t->pieces = llm_malloc(total + 1);
			if (t->pieces == NULL)
				goto nomem;
		}
	}
	if (err)
		memset(err, 0, sizeof(*err));	/* skipped tokens are not errors */

	t->eog = llm_calloc((size_t) t->n_eog + 1, sizeof(int32_t));
	if (t->eog == NULL)
		goto nomem;
	t->n_eog = 0;
	for (int32_t id = 0; id < n_vocab; id++)
	{
		uint32_t	len = t->piece_off[id + 1] - t->piece_off[id];

		if (t->is_eog[id])
			t->eog[t->n_eog++] = id;
		if (len == 0 || t->is_eog[id] || len > TRIE_MAX_PIECE)
			continue;			/* end-of-generation is decided by completeness */
		refs[n_refs].p = t->pieces + t->piece_off[id];
		refs[n_refs].len = len;
		refs[n_refs].id = id;
		n_refs++;
		if ((int32_t) len > t->max_depth)
			t->max_depth = (int32_t) len;
	}
	qsort(refs, (size_t) n_refs, sizeof(piece_ref), piece_cmp);

	/*
	 * Preorder from the sorted pieces: each piece shares its first lcp bytes
	 * with the one before, so the path is cut back to lcp (those nodes'
	 * subtrees end here) and a node is added per new byte.  A piece sorts
	 * before its extensions, so a node's tokens come right after it.
	 */
	t->skip = llm_malloc((size_t) cap * sizeof(int32_t));
	t->byte = llm_malloc((size_t) cap);
	t->depth = llm_malloc((size_t) cap * sizeof(uint16_t));
	t->tok_start = llm_malloc((size_t) cap * sizeof(int32_t));
	path = llm_malloc(((size_t) t->max_depth + 1) * sizeof(int32_t));
	t->tok_ids = llm_malloc(((size_t) n_refs + 1) * sizeof(int32_t));
	if (!t->skip || !t->byte || !t->depth || !t->tok_start || !path || !t->tok_ids)
		goto nomem;
	t->n_nodes = 1;
	t->byte[0] = 0;
	t->depth[0] = 0;
	t->tok_start[0] = 0;
	path[0] = 0;
	{
		int32_t		path_len = 0;	/* depth of the deepest node on the path */
		const piece_ref *prev = NULL;

		for (int32_t r = 0; r < n_refs; r++)
		{
			const piece_ref *pr = &refs[r];
			int32_t		lcp = 0;

			if (prev != NULL)
				while ((uint32_t) lcp < prev->len && (uint32_t) lcp < pr->len &&
					   prev->p[lcp] == pr->p[lcp])
					lcp++;
			while (path_len > lcp)
				t->skip[path[path_len--]] = t->n_nodes;
			while ((uint32_t) path_len < pr->len)
			{
				int32_t		node = t->n_nodes;

				if (!trie_reserve(t, &cap, node + 1))
					goto nomem;
				t->byte[node] = (uint8_t) pr->p[path_len];
				t->depth[node] = (uint16_t) (path_len + 1);
				t->tok_start[node] = n_tok;
				path[++path_len] = node;
				t->n_nodes++;
			}
			t->tok_ids[n_tok++] = pr->id;
			prev = pr;
		}
		while (path_len > 0)
			t->skip[path[path_len--]] = t->n_nodes;
		t->skip[0] = t->n_nodes;
		t->tok_start[t->n_nodes] = n_tok;
	}

	/* the plain-string classes */
	inner_chars = llm_calloc((size_t) n_vocab, sizeof(int32_t));
	t->inner = llm_calloc((size_t) n_refs + 1, sizeof(int32_t));
	t->inner_upto = llm_calloc((size_t) t->max_depth + 2, sizeof(int32_t));
	t->quote = llm_calloc((size_t) n_refs + 1, sizeof(int32_t));
	if (!inner_chars || !t->inner || !t->inner_upto || !t->quote)
		goto nomem;
	for (int32_t id = 0; id < n_vocab; id++)
	{
		uint32_t	len = t->piece_off[id + 1] - t->piece_off[id];
		int32_t		c = 0;
		int			cls;

		inner_chars[id] = -1;
		if (len == 0 || t->is_eog[id])
			continue;
		cls = classify_piece((const uint8_t *) t->pieces + t->piece_off[id], len, &c);
		if (cls == TC_QUOTE)
			t->quote[t->n_quote++] = id;
		else if (cls == TC_INNER && c <= t->max_depth)
		{
			inner_chars[id] = c;
			t->inner_upto[c + 1]++;
			n_inner++;
		}
	}
	/* counting sort by characters: inner_upto[c] = tokens with < c, then <= c */
	for (int32_t c = 1; c <= t->max_depth + 1; c++)
		t->inner_upto[c] += t->inner_upto[c - 1];
	for (int32_t id = 0; id < n_vocab; id++)
		if (inner_chars[id] >= 0)
			t->inner[t->inner_upto[inner_chars[id]]++] = id;
	/* now inner_upto[c] = tokens with <= c characters */

	llm_free(inner_chars);
	llm_free(path);
	llm_free(refs);
	llm_free(buf);
	*out = t;
	return LLM_OK;

nomem:
	st = llm_error_set(err, LLM_ERR_NOMEM, "out of memory building the token trie");
fail:
	llm_free(inner_chars);
	llm_free(path);
	llm_free(refs);
	llm_free(buf);
	llm_token_trie_free(t);
	return st;
}

/* ---------------------------------------------------------------------------
 * The constraint
 */

llm_status
llm_constraint_create(const llm_schema *schema, const llm_token_trie *trie,
					  const llm_vocab *vocab, llm_constraint **out, llm_error *err)
{
	llm_constraint *c;
	llm_status	st;

	*out = NULL;
	if (trie->n_vocab != llm_vocab_n_tokens(vocab))
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "the token trie was built for another vocabulary");
	c = llm_calloc(1, sizeof(*c));
	if (c == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory creating a constraint");
	c->schema = schema;
	c->trie = trie;
	c->vocab = vocab;
	c->marks = llm_calloc((size_t) trie->max_depth + 2, sizeof(llm_json_mark));
	if (c->marks == NULL)
	{
		llm_free(c);
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory creating a constraint");
	}
	st = llm_json_matcher_create(schema, &c->m, err);
	if (st != LLM_OK)
	{
		llm_free(c->marks);
		llm_free(c);
		return st;
	}
	*out = c;
	return LLM_OK;
}

void
llm_constraint_free(llm_constraint *c)
{
	if (c == NULL)
		return;
	llm_json_matcher_free(c->m);
	llm_free(c->marks);
	llm_free(c);
}

void
llm_constraint_reset(llm_constraint *c)
{
	llm_json_matcher_reset(c->m);
}

llm_json_matcher *
llm_constraint_matcher(llm_constraint *c)
{
	return c->m;
}

bool
llm_constraint_is_complete(const llm_constraint *c)
{
	return llm_json_matcher_is_complete(c->m);
}

bool
llm_constraint_must_end(const llm_constraint *c)
{
	return llm_json_matcher_must_end(c->m);
}

/* Feed the token's piece on a mark; true if every byte is accepted. */
static bool
try_token(llm_constraint *c, int32_t token)
{
	const llm_token_trie *t = c->trie;
	const uint8_t *p = (const uint8_t *) t->pieces + t->piece_off[token];
	uint32_t	len = t->piece_off[token + 1] - t->piece_off[token];
	llm_json_mark mk;
	bool		ok = len > 0 && !t->is_eog[token];

	mk = llm_json_matcher_mark(c->m);
	for (uint32_t i = 0; i < len && ok; i++)
		ok = llm_json_matcher_feed_byte(c->m, p[i]);
	llm_json_matcher_rollback(c->m, mk);
	return ok;
}

bool
llm_constraint_allows(llm_constraint *c, int32_t token)
{
	c->stats.n_checks++;
	if (token < 0 || token >= c->trie->n_vocab)
		return false;
	if (c->trie->is_eog[token])
		return llm_json_matcher_is_complete(c->m);
	return try_token(c, token);
}

/* Walk the trie from the root with the matcher; mark every live token. */
static int32_t
mask_walk(llm_constraint *c, bool *mask)
{
	const llm_token_trie *t = c->trie;
	llm_json_mark *marks = c->marks;
	int32_t		count = 0;
	int32_t		j = 1;

	marks[0] = llm_json_matcher_mark(c->m);
	while (j < t->n_nodes)
	{
		int32_t		d = t->depth[j];

		/* back to the parent's state (the last node visited at depth d-1) */
		llm_json_matcher_rollback(c->m, marks[d - 1]);
		if (!llm_json_matcher_feed_byte(c->m, t->byte[j]))
		{
			j = t->skip[j];		/* no token under this prefix */
			continue;
		}
		for (int32_t i = t->tok_start[j]; i < t->tok_start[j + 1]; i++)
		{
			mask[t->tok_ids[i]] = true;
			count++;
		}
		marks[d] = llm_json_matcher_mark(c->m);
		j++;
	}
	llm_json_matcher_rollback(c->m, marks[0]);
	return count;
}

/* The plain-string shortcut; false if the state is not one. */
static bool
mask_plain_string(llm_constraint *c, bool *mask, int32_t *count)
{
	const llm_token_trie *t = c->trie;
	int32_t		room;
	int32_t		n;

	if (!llm_json_matcher_plain_string(c->m, &room))
		return false;
	if (room < 0)
		room = 0;
	if (room > t->max_depth + 1)
		room = t->max_depth + 1;
	n = t->inner_upto[room];
	for (int32_t i = 0; i < n; i++)
		mask[t->inner[i]] = true;
	*count = n;
	for (int32_t i = 0; i < t->n_quote; i++)
		if (try_token(c, t->quote[i]))
		{
			mask[t->quote[i]] = true;
			(*count)++;
		}
	return true;
}

int32_t
llm_constraint_fill_mask(llm_constraint *c, bool *mask)
{
	const llm_token_trie *t = c->trie;
	double		t0 = now_seconds();
	int32_t		count = 0;

	memset(mask, 0, (size_t) t->n_vocab * sizeof(bool));
	if (!mask_plain_string(c, mask, &count))
		count = mask_walk(c, mask);
	if (llm_json_matcher_is_complete(c->m))
		for (int32_t i = 0; i < t->n_eog; i++)
			if (!mask[t->eog[i]])
			{
				mask[t->eog[i]] = true;
				count++;
			}
	c->stats.n_masks++;
	c->stats.mask_seconds += now_seconds() - t0;
	return count;
}

llm_status
llm_constraint_accept(llm_constraint *c, int32_t token, llm_error *err)
{
	const llm_token_trie *t = c->trie;
	uint32_t	len;

	if (token < 0 || token >= t->n_vocab)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "token %d is not in the vocabulary", token);
	if (t->is_eog[token])
	{
		if (llm_json_matcher_is_complete(c->m))
			return LLM_OK;
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "the document is not complete: it cannot end here");
	}
	len = t->piece_off[token + 1] - t->piece_off[token];
	if (len == 0 || t->is_eog[token] ||
		!llm_json_matcher_feed(c->m, t->pieces + t->piece_off[token], len))
	{
		if (llm_json_matcher_failed(c->m))
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory matching the schema");
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "token %d does not fit the schema here", token);
	}
	return LLM_OK;
}

void
llm_constraint_get_stats(const llm_constraint *c, llm_constraint_stats *s)
{
	*s = c->stats;
}
