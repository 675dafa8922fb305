/*
 * kv_cache.c — the key/value cache: a pool of cells shared by sequences.
 *
 * See kv_cache.h for the model.  Nothing here computes attention; the
 * forward pass reads the rows through llm_kv_cache_k_row/v_row.
 */
#include "kv_cache.h"

#include "quant.h"

#include <string.h>

llm_status
llm_kv_cache_init(llm_kv_cache *c, llm_kv_type type, int32_t n_layer,
				  int32_t n_cells, int32_t n_embd_k, int32_t n_embd_v,
				  int32_t n_seq_max, llm_error *err)
{
	size_t		elem_size;
	size_t		k_bytes,
				v_bytes;

	memset(c, 0, sizeof(*c));
	if (type != LLM_KV_F16 && type != LLM_KV_F32)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "unknown KV cache type %d", (int) type);
	if (n_layer <= 0 || n_cells <= 0 || n_embd_k <= 0 || n_embd_v <= 0 || n_seq_max <= 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "KV cache dimensions must be positive");
	elem_size = type == LLM_KV_F16 ? 2 : 4;

	if (!llm_mul_size((size_t) n_layer, (size_t) n_cells, &k_bytes) ||
		!llm_mul_size(k_bytes, (size_t) n_embd_k, &k_bytes) ||
		!llm_mul_size(k_bytes, elem_size, &k_bytes) ||
		!llm_mul_size((size_t) n_layer, (size_t) n_cells, &v_bytes) ||
		!llm_mul_size(v_bytes, (size_t) n_embd_v, &v_bytes) ||
		!llm_mul_size(v_bytes, elem_size, &v_bytes))
		return llm_error_set(err, LLM_ERR_LIMIT, "KV cache of %d cells is too large", (int) n_cells);

	c->type = type;
	c->elem_size = elem_size;
	c->n_layer = n_layer;
	c->n_cells = n_cells;
	c->n_embd_k = n_embd_k;
	c->n_embd_v = n_embd_v;
	c->n_seq_max = n_seq_max;

	/*
	 * Zeroed so that no uninitialised memory is ever read, even by a kernel
	 * that touches a reserved but not yet written cell.
	 */
	c->k = llm_calloc(1, k_bytes);
	c->v = llm_calloc(1, v_bytes);
	c->cells = llm_calloc((size_t) n_cells, sizeof(llm_kv_cell));
	if (c->k == NULL || c->v == NULL || c->cells == NULL)
	{
		llm_kv_cache_free(c);
		llm_error_set(err, LLM_ERR_NOMEM, "out of memory allocating the KV cache");
		llm_error_detail(err, "%d cells need %zu bytes", (int) n_cells, k_bytes + v_bytes);
		return LLM_ERR_NOMEM;
	}
	llm_kv_cache_clear(c);
	return LLM_OK;
}

void
llm_kv_cache_free(llm_kv_cache *c)
{
	if (c == NULL)
		return;
	llm_free(c->k);
	llm_free(c->v);
	llm_free(c->cells);
	memset(c, 0, sizeof(*c));
}

size_t
llm_kv_cache_bytes(const llm_kv_cache *c)
{
	/* cannot overflow: init checked both products */
	return (size_t) c->n_layer * (size_t) c->n_cells *
		((size_t) c->n_embd_k + (size_t) c->n_embd_v) * c->elem_size;
}

void
llm_kv_cache_clear(llm_kv_cache *c)
{
	for (int32_t i = 0; i < c->n_cells; i++)
	{
		c->cells[i].pos = -1;
		c->cells[i].seq_id = -1;
	}
	c->n_used = 0;
}

int32_t
llm_kv_cache_seq_rm(llm_kv_cache *c, int32_t seq_id, int32_t p0, int32_t p1)
{
	int32_t		n_freed = 0;

	for (int32_t i = 0; i < c->n_cells; i++)
	{
		llm_kv_cell *cell = &c->cells[i];

		if (cell->pos < 0)
			continue;
		if (seq_id >= 0 && cell->seq_id != seq_id)
			continue;
		if (cell->pos < p0 || (p1 >= 0 && cell->pos >= p1))
			continue;
		cell->pos = -1;
		cell->seq_id = -1;
		n_freed++;
	}
	c->n_used -= n_freed;
	return n_freed;
}

int32_t
llm_kv_cache_seq_pos_max(const llm_kv_cache *c, int32_t seq_id)
{
	int32_t		pos_max = -1;

	for (int32_t i = 0; i < c->n_cells; i++)
		if (c->cells[i].pos >= 0 && c->cells[i].seq_id == seq_id &&
			c->cells[i].pos > pos_max)
			pos_max = c->cells[i].pos;
	return pos_max;
}

int32_t
llm_kv_cache_seq_n_tokens(const llm_kv_cache *c, int32_t seq_id)
{
	int32_t		n = 0;

	for (int32_t i = 0; i < c->n_cells; i++)
		if (c->cells[i].pos >= 0 && c->cells[i].seq_id == seq_id)
			n++;
	return n;
}

bool
llm_kv_cache_find_free(const llm_kv_cache *c, int32_t n, int32_t *cells_out)
{
	int32_t		found = 0;

	if (n < 0 || n > c->n_cells - c->n_used)
		return false;
	for (int32_t i = 0; i < c->n_cells && found < n; i++)
		if (c->cells[i].pos < 0)
			cells_out[found++] = i;
	return found == n;
}

void
llm_kv_cache_commit(llm_kv_cache *c, int32_t n, const int32_t *cells,
					const int32_t *pos, const int32_t *seq_id)
{
	for (int32_t i = 0; i < n; i++)
	{
		llm_kv_cell *cell = &c->cells[cells[i]];

		if (cell->pos < 0)
			c->n_used++;
		cell->pos = pos[i];
		cell->seq_id = seq_id[i];
	}
}

void
llm_kv_cache_store(llm_kv_cache *c, int32_t layer, int32_t cell,
				   const float *k, const float *v)
{
	void	   *k_dst = (void *) llm_kv_cache_k_row(c, layer, cell);
	void	   *v_dst = (void *) llm_kv_cache_v_row(c, layer, cell);

	if (c->type == LLM_KV_F32)
	{
		memcpy(k_dst, k, (size_t) c->n_embd_k * sizeof(float));
		memcpy(v_dst, v, (size_t) c->n_embd_v * sizeof(float));
	}
	else
	{
		uint16_t   *kh = k_dst;
		uint16_t   *vh = v_dst;

		for (int32_t i = 0; i < c->n_embd_k; i++)
			kh[i] = llm_fp32_to_fp16(k[i]);
		for (int32_t i = 0; i < c->n_embd_v; i++)
			vh[i] = llm_fp32_to_fp16(v[i]);
	}
}
