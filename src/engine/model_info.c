/*
 * model_info.c — model summary and llama hyperparameters from GGUF metadata.
 *
 * Key spellings and defaults follow llama.cpp's loader (reference/
 * engine-facts.md §1: "Keys a llama loader needs", "Tensor names"); the
 * LLAMA_FTYPE names come from llama.cpp's llama.h enum llama_ftype.
 */
#include "model_info.h"
#include "dtype.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define KEY_MAX 160

/* ----------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------- */

/*
 * Length of the valid UTF-8 sequence at s (at most left bytes), or 0 when
 * the bytes there are not one: bad lead byte, bad continuation, overlong
 * form, surrogate or beyond U+10FFFF.
 */
static size_t
utf8_seq_len(const unsigned char *s, uint64_t left)
{
	unsigned char c = s[0];
	size_t		n;
	uint32_t	cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
	{
		n = 2;
		cp = c & 0x1F;
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		n = 3;
		cp = c & 0x0F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		n = 4;
		cp = c & 0x07;
	}
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		(cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return 0;
	return n;
}

/*
 * Copy text from the file into a fixed buffer so it is safe to display:
 * control characters and invalid UTF-8 become '?', and the cut never
 * splits a character.
 */
static void
copy_text(char *dst, size_t dstsize, gguf_string src)
{
	const unsigned char *s = (const unsigned char *) src.ptr;
	size_t		n = 0;
	uint64_t	i = 0;

	while (i < src.len)
	{
		size_t		len = utf8_seq_len(s + i, src.len - i);

		if (len == 0 || (len == 1 && (s[i] < 0x20 || s[i] == 0x7F)))
		{
			if (n + 1 >= dstsize)
				break;
			dst[n++] = '?';
			i += len ? len : 1;
			continue;
		}
		if (n + len >= dstsize)
			break;
		memcpy(dst + n, s + i, len);
		n += len;
		i += len;
	}
	dst[n] = '\0';
}

static void
arch_key(char *buf, const char *arch, const char *suffix)
{
	snprintf(buf, KEY_MAX, "%s.%s", arch, suffix);
}

/* ----------------------------------------------------------------
 * File types
 * ---------------------------------------------------------------- */

/* llama.cpp's enum llama_ftype; gaps are ids it removed */
static const char *const ftype_names[] = {
	[0] = "F32",
	[1] = "F16",
	[2] = "Q4_0",
	[3] = "Q4_1",
	[4] = "Q4_1_SOME_F16",
	[7] = "Q8_0",
	[8] = "Q5_0",
	[9] = "Q5_1",
	[10] = "Q2_K",
	[11] = "Q3_K_S",
	[12] = "Q3_K_M",
	[13] = "Q3_K_L",
	[14] = "Q4_K_S",
	[15] = "Q4_K_M",
	[16] = "Q5_K_S",
	[17] = "Q5_K_M",
	[18] = "Q6_K",
	[19] = "IQ2_XXS",
	[20] = "IQ2_XS",
	[21] = "Q2_K_S",
	[22] = "IQ3_XS",
	[23] = "IQ3_XXS",
	[24] = "IQ1_S",
	[25] = "IQ4_NL",
	[26] = "IQ3_S",
	[27] = "IQ3_M",
	[28] = "IQ2_S",
	[29] = "IQ2_M",
	[30] = "IQ4_XS",
	[31] = "IQ1_M",
	[32] = "BF16",
	[33] = "Q4_0_4_4",
	[34] = "Q4_0_4_8",
	[35] = "Q4_0_8_8",
	[36] = "TQ1_0",
	[37] = "TQ2_0",
	[38] = "MXFP4_MOE",
};

/* llama.cpp ORs this into an ftype it guessed rather than read */
#define LLAMA_FTYPE_GUESSED 1024

const char *
llm_ftype_name(int64_t file_type)
{
	if (file_type >= LLAMA_FTYPE_GUESSED && file_type < 2 * LLAMA_FTYPE_GUESSED)
		file_type -= LLAMA_FTYPE_GUESSED;
	if (file_type < 0 || file_type >= (int64_t) (sizeof(ftype_names) / sizeof(ftype_names[0])))
		return NULL;
	return ftype_names[file_type];
}

/*
 * Without general.file_type, name the file after the type most of its
 * matrices use (1-D tensors are norms, kept in F32 by every quantizer).
 */
static const char *
dominant_matrix_type(const gguf_file *f)
{
	uint64_t	count[LLM_DTYPE_MAX] = {0};
	uint64_t	elems[LLM_DTYPE_MAX] = {0};
	int			best = -1;

	for (uint64_t i = 0; i < f->n_tensors; i++)
	{
		const gguf_tensor *t = &f->tensors[i];

		if (t->n_dims < 2 || t->type >= LLM_DTYPE_MAX)
			continue;
		count[t->type]++;
		elems[t->type] += t->n_elements;	/* < 2^63 each; a sum per type of
											 * counts bounded by the file */
	}
	for (int t = 0; t < LLM_DTYPE_MAX; t++)
	{
		if (count[t] == 0)
			continue;
		if (best < 0 || count[t] > count[best] ||
			(count[t] == count[best] && elems[t] > elems[best]))
			best = t;
	}
	return best < 0 ? NULL : llm_dtype_name((uint32_t) best);
}

/* ----------------------------------------------------------------
 * Model summary
 * ---------------------------------------------------------------- */

llm_status
llm_model_info_load(const gguf_file *f, llm_model_info *info, llm_error *err)
{
	llm_error	scratch;		/* errors of optional keys are not fatal */
	gguf_string s;
	gguf_array	arr;
	uint64_t	u;
	int64_t		i64;
	const char *quant = NULL;
	char		key[KEY_MAX];
	llm_status	st;

	memset(info, 0, sizeof(*info));
	info->file_type = -1;

	st = gguf_get_str(f, "general.architecture", &s, err);
	if (st == LLM_ERR_INVALID_ARG)
		return llm_error_set(err, LLM_ERR_CORRUPT,
							 "missing metadata key \"general.architecture\"");
	if (st != LLM_OK)
		return st;
	copy_text(info->architecture, sizeof(info->architecture), s);

	if (gguf_get_str(f, "general.name", &s, &scratch) == LLM_OK)
		copy_text(info->name, sizeof(info->name), s);
	if (gguf_get_str(f, "tokenizer.ggml.model", &s, &scratch) == LLM_OK)
		copy_text(info->tokenizer_model, sizeof(info->tokenizer_model), s);
	info->has_chat_template =
		gguf_get_str(f, "tokenizer.chat_template", &s, &scratch) == LLM_OK;

	info->n_tensors = f->n_tensors;
	for (uint64_t i = 0; i < f->n_tensors; i++)
	{
		if (__builtin_add_overflow(info->n_params, f->tensors[i].n_elements, &info->n_params))
			info->n_params = UINT64_MAX;
	}

	if (gguf_get_i64(f, "general.file_type", &i64, &scratch) == LLM_OK && i64 >= 0)
	{
		info->file_type = i64;
		quant = llm_ftype_name(i64);
	}
	if (quant == NULL)
		quant = dominant_matrix_type(f);
	if (quant != NULL)
		snprintf(info->quantization, sizeof(info->quantization), "%s", quant);

	arch_key(key, info->architecture, "context_length");
	if (gguf_get_u64(f, key, &u, &scratch) == LLM_OK)
		info->context_length = u;
	arch_key(key, info->architecture, "block_count");
	if (gguf_get_u64(f, key, &u, &scratch) == LLM_OK)
		info->n_layer = u;
	arch_key(key, info->architecture, "embedding_length");
	if (gguf_get_u64(f, key, &u, &scratch) == LLM_OK)
		info->n_embd = u;

	arch_key(key, info->architecture, "vocab_size");
	if (gguf_get_u64(f, key, &u, &scratch) == LLM_OK)
		info->vocab_size = u;
	else if (gguf_get_arr(f, "tokenizer.ggml.tokens", &arr, &scratch) == LLM_OK)
		info->vocab_size = arr.count;
	else
	{
		const gguf_tensor *t = gguf_find_tensor(f, "token_embd.weight");

		if (t != NULL && t->n_dims >= 2)
			info->vocab_size = t->ne[1];
	}
	return LLM_OK;
}

/* ----------------------------------------------------------------
 * llama hyperparameters
 * ---------------------------------------------------------------- */

static llm_status
hp_invalid(llm_error *err, const char *key, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

static llm_status
hp_invalid(llm_error *err, const char *key, const char *fmt,...)
{
	char		what[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	llm_error_set(err, LLM_ERR_CORRUPT, "invalid model hyperparameter \"%s\"", key);
	llm_error_detail(err, "%s", what);
	return LLM_ERR_CORRUPT;
}

/*
 * Read <arch>.<suffix> as u32 into *out.  Absent: CORRUPT when required,
 * else *out = def.  Some architectures store per-layer arrays here; llama
 * does not, and we do not implement them.
 */
static llm_status
hp_u32(const gguf_file *f, const char *arch, const char *suffix, bool required,
	   uint32_t def, uint32_t *out, llm_error *err)
{
	char		key[KEY_MAX];
	const gguf_kv *kv;

	arch_key(key, arch, suffix);
	kv = gguf_find_kv(f, key);
	if (kv == NULL)
	{
		if (required)
			return llm_error_set(err, LLM_ERR_CORRUPT, "missing metadata key \"%s\"", key);
		*out = def;
		return LLM_OK;
	}
	if (kv->value.type == GGUF_TYPE_ARRAY)
		return llm_error_set(err, LLM_ERR_UNSUPPORTED,
							 "per-layer values of metadata key \"%s\" are not supported", key);
	return gguf_get_u32(f, key, out, err);
}

static llm_status
hp_f32(const gguf_file *f, const char *arch, const char *suffix, bool required,
	   float def, float *out, llm_error *err)
{
	char		key[KEY_MAX];
	llm_status	st;

	arch_key(key, arch, suffix);
	st = gguf_get_f32(f, key, out, err);
	if (st == LLM_ERR_INVALID_ARG)
	{
		if (required)
			return llm_error_set(err, LLM_ERR_CORRUPT, "missing metadata key \"%s\"", key);
		*out = def;
		return LLM_OK;
	}
	return st;
}

/* lo <= v <= hi, or CORRUPT naming <arch>.<suffix> */
static llm_status
hp_range(llm_error *err, const char *arch, const char *suffix, uint64_t v,
		 uint64_t lo, uint64_t hi)
{
	char		key[KEY_MAX];

	if (v >= lo && v <= hi)
		return LLM_OK;
	arch_key(key, arch, suffix);
	return hp_invalid(err, key, "value %llu is outside %llu..%llu",
					  (unsigned long long) v, (unsigned long long) lo,
					  (unsigned long long) hi);
}

static llm_status
hp_rope_scaling(const gguf_file *f, const char *arch, llm_hparams *hp, llm_error *err)
{
	char		key[KEY_MAX];
	gguf_string s;
	llm_status	st;
	float		legacy;
	bool		have_type = false;

	arch_key(key, arch, "rope.scaling.type");
	st = gguf_get_str(f, key, &s, err);
	if (st == LLM_OK)
	{
		have_type = true;
		if (gguf_str_eq(s, "none"))
			hp->rope_scaling = LLM_ROPE_SCALING_NONE;
		else if (gguf_str_eq(s, "linear"))
			hp->rope_scaling = LLM_ROPE_SCALING_LINEAR;
		else if (gguf_str_eq(s, "yarn"))
			hp->rope_scaling = LLM_ROPE_SCALING_YARN;
		else if (gguf_str_eq(s, "longrope"))
			hp->rope_scaling = LLM_ROPE_SCALING_LONGROPE;
		else
		{
			char		name[64];

			copy_text(name, sizeof(name), s);
			return llm_error_set(err, LLM_ERR_UNSUPPORTED,
								 "unsupported RoPE scaling type \"%s\"", name);
		}
	}
	else if (st != LLM_ERR_INVALID_ARG)
		return st;

	/* llama.cpp reads the older rope.scale_linear first, then the factor */
	if ((st = hp_f32(f, arch, "rope.scale_linear", false, 1.0f, &legacy, err)) != LLM_OK)
		return st;
	if ((st = hp_f32(f, arch, "rope.scaling.factor", false, legacy, &hp->rope_scaling_factor,
					 err)) != LLM_OK)
		return st;
	if (hp->rope_scaling_factor == 0.0f)	/* written by converters to mean "none" */
		hp->rope_scaling_factor = 1.0f;
	if (!isfinite(hp->rope_scaling_factor) || hp->rope_scaling_factor < 0.0f)
	{
		arch_key(key, arch, "rope.scaling.factor");
		return hp_invalid(err, key, "value %g is not a positive number",
						  (double) hp->rope_scaling_factor);
	}
	if (!have_type)
		hp->rope_scaling = hp->rope_scaling_factor != 1.0f ?
			LLM_ROPE_SCALING_LINEAR : LLM_ROPE_SCALING_NONE;

	if ((st = hp_u32(f, arch, "rope.scaling.original_context_length", false,
					 hp->n_ctx_train, &hp->rope_scaling_orig_ctx, err)) != LLM_OK)
		return st;
	return hp_range(err, arch, "rope.scaling.original_context_length",
					hp->rope_scaling_orig_ctx, 1, LLM_HPARAMS_MAX_CTX);
}

/* The tensor must exist with shape {ne0, ne1} (ne1 = 1 for vectors). */
static llm_status
expect_tensor(const gguf_file *f, const char *name, uint64_t ne0, uint64_t ne1,
			  llm_error *err)
{
	const gguf_tensor *t = gguf_find_tensor(f, name);

	if (t == NULL)
		return llm_error_set(err, LLM_ERR_CORRUPT, "missing tensor \"%s\" in model file", name);
	if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != 1 || t->ne[3] != 1)
	{
		llm_error_set(err, LLM_ERR_CORRUPT, "tensor \"%s\" has the wrong shape", name);
		llm_error_detail(err, "shape is [%llu, %llu, %llu, %llu], expected [%llu, %llu]",
						 (unsigned long long) t->ne[0], (unsigned long long) t->ne[1],
						 (unsigned long long) t->ne[2], (unsigned long long) t->ne[3],
						 (unsigned long long) ne0, (unsigned long long) ne1);
		return LLM_ERR_CORRUPT;
	}
	return LLM_OK;
}

static llm_status
check_llama_tensors(const gguf_file *f, const llm_hparams *hp, llm_error *err)
{
	uint64_t	q_dim = (uint64_t) hp->n_head * hp->n_embd_head_k;
	uint64_t	k_dim = (uint64_t) hp->n_head_kv * hp->n_embd_head_k;
	uint64_t	v_dim = (uint64_t) hp->n_head_kv * hp->n_embd_head_v;
	uint64_t	o_dim = (uint64_t) hp->n_head * hp->n_embd_head_v;
	llm_status	st;
	char		name[GGUF_MAX_TENSOR_NAME + 1];

	if ((st = expect_tensor(f, "token_embd.weight", hp->n_embd, hp->n_vocab, err)) != LLM_OK ||
		(st = expect_tensor(f, "output_norm.weight", hp->n_embd, 1, err)) != LLM_OK)
		return st;
	if (gguf_find_tensor(f, "output.weight") != NULL &&
		(st = expect_tensor(f, "output.weight", hp->n_embd, hp->n_vocab, err)) != LLM_OK)
		return st;

	for (uint32_t l = 0; l < hp->n_layer; l++)
	{
		static const struct
		{
			const char *suffix;
			int			shape;	/* index into dims below */
		}			layer_tensors[] = {
			{"attn_norm", 0}, {"attn_q", 1}, {"attn_k", 2}, {"attn_v", 3},
			{"attn_output", 4}, {"ffn_norm", 0}, {"ffn_gate", 5}, {"ffn_up", 5},
			{"ffn_down", 6}
		};
		const uint64_t dims[][2] = {
			{hp->n_embd, 1}, {hp->n_embd, q_dim}, {hp->n_embd, k_dim},
			{hp->n_embd, v_dim}, {o_dim, hp->n_embd}, {hp->n_embd, hp->n_ff},
			{hp->n_ff, hp->n_embd}
		};

		for (size_t i = 0; i < sizeof(layer_tensors) / sizeof(layer_tensors[0]); i++)
		{
			const uint64_t *d = dims[layer_tensors[i].shape];

			snprintf(name, sizeof(name), "blk.%u.%s.weight", l, layer_tensors[i].suffix);
			if ((st = expect_tensor(f, name, d[0], d[1], err)) != LLM_OK)
				return st;
		}
	}
	return LLM_OK;
}

llm_status
llm_hparams_load(const gguf_file *f, llm_hparams *hp, llm_error *err)
{
	gguf_string arch_s;
	const char *arch;
	char		key[KEY_MAX];
	uint32_t	head_dim;
	llm_status	st;

	memset(hp, 0, sizeof(*hp));

	st = gguf_get_str(f, "general.architecture", &arch_s, err);
	if (st == LLM_ERR_INVALID_ARG)
		return llm_error_set(err, LLM_ERR_CORRUPT,
							 "missing metadata key \"general.architecture\"");
	if (st != LLM_OK)
		return st;
	copy_text(hp->arch, sizeof(hp->arch), arch_s);
	if (!gguf_str_eq(arch_s, "llama"))
		return llm_error_set(err, LLM_ERR_UNSUPPORTED,
							 "unsupported model architecture \"%s\"", hp->arch);
	arch = hp->arch;

	if ((st = hp_u32(f, arch, "context_length", true, 0, &hp->n_ctx_train, err)) != LLM_OK ||
		(st = hp_range(err, arch, "context_length", hp->n_ctx_train, 1, LLM_HPARAMS_MAX_CTX)) != LLM_OK ||
		(st = hp_u32(f, arch, "embedding_length", true, 0, &hp->n_embd, err)) != LLM_OK ||
		(st = hp_range(err, arch, "embedding_length", hp->n_embd, 1, LLM_HPARAMS_MAX_DIM)) != LLM_OK ||
		(st = hp_u32(f, arch, "block_count", true, 0, &hp->n_layer, err)) != LLM_OK ||
		(st = hp_range(err, arch, "block_count", hp->n_layer, 1, LLM_HPARAMS_MAX_LAYERS)) != LLM_OK ||
		(st = hp_u32(f, arch, "feed_forward_length", true, 0, &hp->n_ff, err)) != LLM_OK ||
		(st = hp_range(err, arch, "feed_forward_length", hp->n_ff, 1, LLM_HPARAMS_MAX_DIM)) != LLM_OK ||
		(st = hp_u32(f, arch, "attention.head_count", true, 0, &hp->n_head, err)) != LLM_OK ||
		(st = hp_range(err, arch, "attention.head_count", hp->n_head, 1, hp->n_embd)) != LLM_OK)
		return st;

	if (hp->n_embd % hp->n_head != 0)
	{
		arch_key(key, arch, "attention.head_count");
		return hp_invalid(err, key, "embedding length %u is not a multiple of %u heads",
						  hp->n_embd, hp->n_head);
	}
	head_dim = hp->n_embd / hp->n_head;

	if ((st = hp_u32(f, arch, "attention.head_count_kv", false, hp->n_head, &hp->n_head_kv, err)) != LLM_OK ||
		(st = hp_range(err, arch, "attention.head_count_kv", hp->n_head_kv, 1, hp->n_head)) != LLM_OK)
		return st;
	if (hp->n_head % hp->n_head_kv != 0)
	{
		arch_key(key, arch, "attention.head_count_kv");
		return hp_invalid(err, key, "%u heads are not a multiple of %u key/value heads",
						  hp->n_head, hp->n_head_kv);
	}

	/* q/k/v widths must stay below the caps too: n_head * head size */
	if ((st = hp_u32(f, arch, "attention.key_length", false, head_dim, &hp->n_embd_head_k, err)) != LLM_OK ||
		(st = hp_range(err, arch, "attention.key_length", hp->n_embd_head_k, 2,
					   LLM_HPARAMS_MAX_DIM / hp->n_head)) != LLM_OK ||
		(st = hp_u32(f, arch, "attention.value_length", false, head_dim, &hp->n_embd_head_v, err)) != LLM_OK ||
		(st = hp_range(err, arch, "attention.value_length", hp->n_embd_head_v, 1,
					   LLM_HPARAMS_MAX_DIM / hp->n_head)) != LLM_OK)
		return st;
	if (hp->n_embd_head_k % 2 != 0)
	{
		arch_key(key, arch, hp->n_embd_head_k == head_dim ? "attention.head_count" : "attention.key_length");
		return hp_invalid(err, key, "head size %u is odd; RoPE rotates pairs", hp->n_embd_head_k);
	}

	if ((st = hp_u32(f, arch, "rope.dimension_count", false, hp->n_embd_head_k, &hp->n_rot, err)) != LLM_OK ||
		(st = hp_range(err, arch, "rope.dimension_count", hp->n_rot, 2, hp->n_embd_head_k)) != LLM_OK)
		return st;
	if (hp->n_rot % 2 != 0)
	{
		arch_key(key, arch, "rope.dimension_count");
		return hp_invalid(err, key, "value %u is odd; RoPE rotates pairs", hp->n_rot);
	}

	if ((st = hp_f32(f, arch, "attention.layer_norm_rms_epsilon", true, 0.0f,
					 &hp->norm_rms_eps, err)) != LLM_OK)
		return st;
	if (!isfinite(hp->norm_rms_eps) || hp->norm_rms_eps <= 0.0f)
	{
		arch_key(key, arch, "attention.layer_norm_rms_epsilon");
		return hp_invalid(err, key, "value %g is not a positive number", (double) hp->norm_rms_eps);
	}
	if ((st = hp_f32(f, arch, "rope.freq_base", false, 10000.0f, &hp->rope_freq_base, err)) != LLM_OK)
		return st;
	if (!isfinite(hp->rope_freq_base) || hp->rope_freq_base <= 0.0f)
	{
		arch_key(key, arch, "rope.freq_base");
		return hp_invalid(err, key, "value %g is not a positive number", (double) hp->rope_freq_base);
	}
	if ((st = hp_rope_scaling(f, arch, hp, err)) != LLM_OK)
		return st;

	/* vocabulary size: the key, else the token list, else the embedding */
	arch_key(key, arch, "vocab_size");
	if (gguf_has(f, key))
	{
		if ((st = hp_u32(f, arch, "vocab_size", true, 0, &hp->n_vocab, err)) != LLM_OK)
			return st;
	}
	else if (gguf_has(f, "tokenizer.ggml.tokens"))
	{
		gguf_array	tokens;

		if ((st = gguf_get_arr(f, "tokenizer.ggml.tokens", &tokens, err)) != LLM_OK)
			return st;
		if (tokens.count > LLM_HPARAMS_MAX_DIM)
			return hp_invalid(err, "tokenizer.ggml.tokens", "%llu tokens, the limit is %u",
							  (unsigned long long) tokens.count, LLM_HPARAMS_MAX_DIM);
		hp->n_vocab = (uint32_t) tokens.count;
	}
	else
	{
		const gguf_tensor *t = gguf_find_tensor(f, "token_embd.weight");

		if (t == NULL)
			return llm_error_set(err, LLM_ERR_CORRUPT, "model file has no vocabulary");
		hp->n_vocab = t->ne[1] > LLM_HPARAMS_MAX_DIM ? 0 : (uint32_t) t->ne[1];
	}
	if ((st = hp_range(err, arch, "vocab_size", hp->n_vocab, 1, LLM_HPARAMS_MAX_DIM)) != LLM_OK)
		return st;

	hp->has_tensors = f->n_tensors > 0;
	hp->tied_output = gguf_find_tensor(f, "output.weight") == NULL;
	if (hp->has_tensors && (st = check_llama_tensors(f, hp, err)) != LLM_OK)
		return st;
	return LLM_OK;
}
