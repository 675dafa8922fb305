/*
 * llama_weights.c — bind a llama model's tensors as matrix views.
 *
 * Tensor names and shapes as llama.cpp's llama loader expects them
 * (llama-arch.cpp / models/llama.cpp): token_embd, output_norm, optional
 * output (tied to token_embd when absent), optional rope_freqs, and per
 * layer blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output, ffn_norm,
 * ffn_gate, ffn_up, ffn_down}.weight with optional .bias on the
 * projections.  A view points at the tensor's bytes in the mapping; the
 * GGUF reader has already checked that those bytes exist.
 */
#include "llama.h"

#include "dtype.h"
#include "quant.h"

#include <stdio.h>
#include <string.h>

/*
 * Bind one tensor with shape {ne0, ne1} ({ne0} for a vector: ne1 = 1).
 * A missing optional tensor leaves m zeroed (m->data == NULL).
 */
static llm_status
bind_tensor(const gguf_file *f, const char *name, uint64_t ne0, uint64_t ne1,
			bool required, llm_matrix *m, llm_error *err)
{
	const gguf_tensor *t = gguf_find_tensor(f, name);
	uint64_t	row_bytes;
	uint64_t	total;

	memset(m, 0, sizeof(*m));
	if (t == NULL)
	{
		if (!required)
			return LLM_OK;
		return llm_error_set(err, LLM_ERR_CORRUPT, "missing tensor \"%s\" in model file", name);
	}
	if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
	{
		llm_error_set(err, LLM_ERR_CORRUPT, "tensor \"%s\" has the wrong shape", name);
		llm_error_detail(err, "shape is [%llu, %llu, %llu, %llu], expected [%llu, %llu]",
						 (unsigned long long) t->ne[0], (unsigned long long) t->ne[1],
						 (unsigned long long) t->ne[2], (unsigned long long) t->ne[3],
						 (unsigned long long) ne0, (unsigned long long) ne1);
		return LLM_ERR_CORRUPT;
	}
	if (!llm_quant_supported(t->type))
	{
		llm_error_set(err, LLM_ERR_UNSUPPORTED,
					  "tensor \"%s\" has type %s, which the forward pass cannot compute with",
					  name, llm_dtype_name(t->type));
		llm_error_detail(err, "ggml type id %u", (unsigned) t->type);
		return LLM_ERR_UNSUPPORTED;
	}
	/* the reader sized the tensor already; re-check what we rely on */
	if (!llm_dtype_row_bytes(t->type, ne0, &row_bytes) ||
		__builtin_mul_overflow(row_bytes, ne1, &total) ||
		total > t->nbytes || t->data == NULL || row_bytes > SIZE_MAX)
		return llm_error_set(err, LLM_ERR_CORRUPT,
							 "tensor \"%s\" has a size that does not match its type and shape",
							 name);

	m->name = t->name;
	m->type = t->type;
	m->n_cols = (int64_t) ne0;
	m->n_rows = (int64_t) ne1;
	m->row_bytes = (size_t) row_bytes;
	m->data = t->data;
	return LLM_OK;
}

static llm_status
bind_layer_tensor(const gguf_file *f, uint32_t layer, const char *suffix,
				  uint64_t ne0, uint64_t ne1, bool required, llm_matrix *m,
				  llm_error *err)
{
	char		name[GGUF_MAX_TENSOR_NAME + 1];

	snprintf(name, sizeof(name), "blk.%u.%s", (unsigned) layer, suffix);
	return bind_tensor(f, name, ne0, ne1, required, m, err);
}

static llm_status
bind_layer(const gguf_file *f, const llm_hparams *hp, uint32_t l,
		   llm_layer_weights *lw, llm_error *err)
{
	const uint64_t n_embd = hp->n_embd;
	const uint64_t n_ff = hp->n_ff;
	const uint64_t q_dim = (uint64_t) hp->n_head * hp->n_embd_head_k;
	const uint64_t k_dim = (uint64_t) hp->n_head_kv * hp->n_embd_head_k;
	const uint64_t v_dim = (uint64_t) hp->n_head_kv * hp->n_embd_head_v;
	const uint64_t o_dim = (uint64_t) hp->n_head * hp->n_embd_head_v;
	const struct
	{
		const char *suffix;
		uint64_t	ne0,
					ne1;
		bool		required;
		llm_matrix *m;
	}			spec[] = {
		{"attn_norm.weight", n_embd, 1, true, &lw->attn_norm},
		{"attn_q.weight", n_embd, q_dim, true, &lw->wq},
		{"attn_k.weight", n_embd, k_dim, true, &lw->wk},
		{"attn_v.weight", n_embd, v_dim, true, &lw->wv},
		{"attn_output.weight", o_dim, n_embd, true, &lw->wo},
		{"attn_q.bias", q_dim, 1, false, &lw->bq},
		{"attn_k.bias", k_dim, 1, false, &lw->bk},
		{"attn_v.bias", v_dim, 1, false, &lw->bv},
		{"attn_output.bias", n_embd, 1, false, &lw->bo},
		{"ffn_norm.weight", n_embd, 1, true, &lw->ffn_norm},
		{"ffn_gate.weight", n_embd, n_ff, true, &lw->ffn_gate},
		{"ffn_up.weight", n_embd, n_ff, true, &lw->ffn_up},
		{"ffn_down.weight", n_ff, n_embd, true, &lw->ffn_down},
		{"ffn_gate.bias", n_ff, 1, false, &lw->ffn_gate_b},
		{"ffn_up.bias", n_ff, 1, false, &lw->ffn_up_b},
		{"ffn_down.bias", n_embd, 1, false, &lw->ffn_down_b},
	};
	llm_status	st;

	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++)
		if ((st = bind_layer_tensor(f, l, spec[i].suffix, spec[i].ne0, spec[i].ne1,
									spec[i].required, spec[i].m, err)) != LLM_OK)
			return st;
	return LLM_OK;
}

llm_status
llm_weights_load(const gguf_file *f, const llm_hparams *hp, llm_weights **out,
				 llm_error *err)
{
	llm_weights *w;
	llm_status	st;
	uint64_t	n_expert = 0;
	char		key[LLM_ARCH_NAME_MAX + 32];

	*out = NULL;
	if (strcmp(hp->arch, "llama") != 0)
		return llm_error_set(err, LLM_ERR_UNSUPPORTED,
							 "unsupported model architecture \"%s\"", hp->arch);
	if (!hp->has_tensors)
		return llm_error_set(err, LLM_ERR_INVALID_ARG,
							 "model file has no tensors (vocabulary only)");

	/* Mixtral-style llama files carry experts; we run dense models only. */
	snprintf(key, sizeof(key), "%s.expert_count", hp->arch);
	st = gguf_get_u64(f, key, &n_expert, err);
	if (st != LLM_OK && st != LLM_ERR_INVALID_ARG)
		return st;
	if (st == LLM_OK && n_expert > 0)
		return llm_error_set(err, LLM_ERR_UNSUPPORTED,
							 "mixture-of-experts models are not supported (%s = %llu)",
							 key, (unsigned long long) n_expert);
	if (hp->rope_scaling == LLM_ROPE_SCALING_YARN ||
		hp->rope_scaling == LLM_ROPE_SCALING_LONGROPE)
		return llm_error_set(err, LLM_ERR_UNSUPPORTED,
							 "RoPE scaling type \"%s\" is not supported",
							 hp->rope_scaling == LLM_ROPE_SCALING_YARN ? "yarn" : "longrope");

	w = llm_calloc(1, sizeof(*w));
	if (w == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory loading model weights");
	w->hp = hp;
	w->n_layer = hp->n_layer;
	w->layers = llm_calloc(hp->n_layer, sizeof(llm_layer_weights));
	if (w->layers == NULL)
	{
		llm_weights_free(w);
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory loading model weights");
	}

	if ((st = bind_tensor(f, "token_embd.weight", hp->n_embd, hp->n_vocab, true,
						  &w->token_embd, err)) != LLM_OK ||
		(st = bind_tensor(f, "output_norm.weight", hp->n_embd, 1, true,
						  &w->output_norm, err)) != LLM_OK ||
		(st = bind_tensor(f, "output.weight", hp->n_embd, hp->n_vocab, false,
						  &w->output, err)) != LLM_OK ||
		(st = bind_tensor(f, "rope_freqs.weight", hp->n_rot / 2, 1, false,
						  &w->rope_freqs, err)) != LLM_OK)
		goto fail;
	if (w->output.data == NULL)
	{
		w->output = w->token_embd;
		w->output_tied = true;
	}

	for (uint32_t l = 0; l < hp->n_layer; l++)
		if ((st = bind_layer(f, hp, l, &w->layers[l], err)) != LLM_OK)
			goto fail;

	*out = w;
	return LLM_OK;

fail:
	llm_weights_free(w);
	return st;
}

void
llm_weights_free(llm_weights *w)
{
	if (w == NULL)
		return;
	llm_free(w->layers);
	llm_free(w);
}
