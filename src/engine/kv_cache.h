/*
 * kv_cache.h — the attention key/value cache of one context.
 *
 * The cache is a pool of n_cells cells shared by every sequence of the
 * context.  A cell holds, for every layer, the key and value vectors of one
 * token (n_head_kv * head size values each) and says which sequence and
 * position that token belongs to.  A token of sequence s at position p
 * attends to exactly the cells of s whose position is <= p, wherever in the
 * pool they sit, so several sequences, a prefix kept between calls and
 * positions removed in the middle all work the same way.
 *
 * A forward pass writes keys and values into free cells it has reserved
 * (llm_kv_cache_find_free) and only marks them used when the whole batch
 * has been computed (llm_kv_cache_commit).  A pass that stops half-way
 * (cancelled) therefore leaves the cache as it was.
 *
 * Keys and values are stored as f16 (half the memory, what llama.cpp uses by
 * default) or f32, row-major [layer][cell][n_embd_k|v].
 */
#ifndef LLM_ENGINE_KV_CACHE_H
#define LLM_ENGINE_KV_CACHE_H

#include "common.h"

typedef enum llm_kv_type
{
	LLM_KV_F16 = 0,
	LLM_KV_F32 = 1
} llm_kv_type;

typedef struct llm_kv_cell
{
	int32_t		pos;			/* < 0: the cell is free */
	int32_t		seq_id;
} llm_kv_cell;

typedef struct llm_kv_cache
{
	llm_kv_type type;
	size_t		elem_size;		/* 2 or 4 */
	int32_t		n_layer;
	int32_t		n_cells;
	int32_t		n_embd_k;		/* values per cell per layer: n_head_kv * head size */
	int32_t		n_embd_v;
	int32_t		n_seq_max;		/* sequence ids are 0 .. n_seq_max-1 */
	int32_t		n_used;			/* cells holding a token */
	void	   *k;				/* [n_layer][n_cells][n_embd_k] */
	void	   *v;				/* [n_layer][n_cells][n_embd_v] */
	llm_kv_cell *cells;			/* [n_cells] */
} llm_kv_cache;

/* Allocate (llm_malloc) an empty cache.  On failure the cache is zeroed. */
llm_status	llm_kv_cache_init(llm_kv_cache *c, llm_kv_type type, int32_t n_layer,
							  int32_t n_cells, int32_t n_embd_k, int32_t n_embd_v,
							  int32_t n_seq_max, llm_error *err);
void		llm_kv_cache_free(llm_kv_cache *c);

/* Bytes the key and value storage takes. */
size_t		llm_kv_cache_bytes(const llm_kv_cache *c);

/* Forget every token. */
void		llm_kv_cache_clear(llm_kv_cache *c);

/*
 * Remove the tokens of seq_id (every sequence when seq_id < 0) whose
 * position is in [p0, p1) (p1 < 0: no upper bound).  Returns how many
 * cells were freed.
 */
int32_t		llm_kv_cache_seq_rm(llm_kv_cache *c, int32_t seq_id, int32_t p0, int32_t p1);

/* Largest position stored for seq_id; -1 when it has none. */
int32_t		llm_kv_cache_seq_pos_max(const llm_kv_cache *c, int32_t seq_id);

/* Number of tokens stored for seq_id. */
int32_t		llm_kv_cache_seq_n_tokens(const llm_kv_cache *c, int32_t seq_id);

/*
 * Reserve n free cells: their indexes go to cells_out (ascending).  The cells
 * stay free until llm_kv_cache_commit.  False when fewer than n are free.
 */
bool		llm_kv_cache_find_free(const llm_kv_cache *c, int32_t n, int32_t *cells_out);

/* Mark cells[i] as holding the token at pos[i] of seq_id[i]. */
void		llm_kv_cache_commit(llm_kv_cache *c, int32_t n, const int32_t *cells,
								const int32_t *pos, const int32_t *seq_id);

/* Store one token's key and value (f32) for one layer into a cell. */
void		llm_kv_cache_store(llm_kv_cache *c, int32_t layer, int32_t cell,
							   const float *k, const float *v);

/* Start of the stored key / value row of a cell in a layer. */
static inline const void *
llm_kv_cache_k_row(const llm_kv_cache *c, int32_t layer, int32_t cell)
{
	return (const char *) c->k +
		(((size_t) layer * (size_t) c->n_cells + (size_t) cell) * (size_t) c->n_embd_k) * c->elem_size;
}

static inline const void *
llm_kv_cache_v_row(const llm_kv_cache *c, int32_t layer, int32_t cell)
{
	return (const char *) c->v +
		(((size_t) layer * (size_t) c->n_cells + (size_t) cell) * (size_t) c->n_embd_v) * c->elem_size;
}

#endif							/* LLM_ENGINE_KV_CACHE_H */
