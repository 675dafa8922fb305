/*
 * tokenizer.c — vocabulary loading, special tokens, and the encode/decode
 * entry points.  The merging itself lives in bpe.c and spm.c, the word
 * splitting in pretokenize.c.
 *
 * Reference: llama.cpp src/llama-vocab.cpp (llama_vocab::impl::load,
 * tokenizer_st_partition, tokenize, token_to_piece).  Where llama.cpp
 * would crash or throw on a malformed file we pick a sensible, documented
 * behaviour instead.
 */
#include "tokenizer_internal.h"
#include "unicode.h"

#include <ctype.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

/* ---------- small helpers ---------- */

llm_status
tok_out_push(tok_out *o, int32_t id, llm_error *err)
{
	if (o->n == o->cap)
	{
		size_t		cap = o->cap ? o->cap * 2 : 64;
		int32_t    *ids;

		if (cap > SIZE_MAX / sizeof(int32_t))
			return llm_error_set(err, LLM_ERR_LIMIT, "too many tokens");
		ids = llm_realloc(o->ids, o->cap * sizeof(int32_t), cap * sizeof(int32_t));
		if (ids == NULL)
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for %zu token ids", cap);
		o->ids = ids;
		o->cap = cap;
	}
	o->ids[o->n++] = id;
	return LLM_OK;
}

static bool
valid_id(const llm_vocab *v, int32_t id)
{
	return id >= 0 && id < v->n_tokens;
}

static int32_t
lookup_cstr(const llm_vocab *v, const char *s)
{
	return vocab_lookup(v, s, strlen(s));
}

static bool
is_special_type(uint8_t type)
{
	return type == LLM_TOKEN_CONTROL || type == LLM_TOKEN_UNKNOWN;
}

/* ---------- loading ---------- */

/*
 * Read an optional special-token id.  llama.cpp keeps the default when the
 * key's value is out of range; we also keep it when the value is not a
 * non-negative integer (llama.cpp would refuse the file).
 */
static void
read_special_id(const gguf_file *f, const char *key, int32_t n_tokens, int32_t *id)
{
	uint32_t	val;
	llm_error	ignored;

	if (gguf_get_u32(f, key, &val, &ignored) != LLM_OK)
		return;
	if (val < (uint32_t) n_tokens)
		*id = (int32_t) val;
}

/* Optional bool key; a present key of another type is a corrupt file. */
static llm_status
read_bool(const gguf_file *f, const char *key, bool *out, llm_error *err)
{
	llm_status	st = gguf_get_bool(f, key, out, err);

	if (st == LLM_ERR_INVALID_ARG)
		return LLM_OK;			/* absent: keep the default */
	return st;
}

/*
 * Walk a string array element by element.  gguf_array_strings would first
 * unpack all of them into a 16-byte-per-string array; the vocabulary is on
 * the model-load path and has ~100k strings, so we read the (already
 * validated) GGUF layout — u64 little-endian length, then the bytes —
 * directly, still checking every step against the array's extent.
 */
typedef struct str_walker
{
	const uint8_t *p;
	const uint8_t *end;
} str_walker;

static bool
next_string(str_walker *w, const char **s, uint64_t *len)
{
	uint64_t	n = 0;

	if (w->end - w->p < 8)
		return false;
	for (int b = 7; b >= 0; b--)
		n = (n << 8) | w->p[b];
	w->p += 8;
	if (n > (uint64_t) (w->end - w->p))
		return false;
	*s = (const char *) w->p;
	*len = n;
	w->p += n;
	return true;
}

static llm_status
load_tokens(llm_vocab *v, const gguf_file *f, llm_error *err)
{
	gguf_array	tokens;
	gguf_array	scores = {0};
	gguf_array	types = {0};
	bool		have_scores = false;
	bool		have_types = false;
	str_walker	w;
	size_t		arena_size;
	char	   *p;
	llm_status	st;

	st = gguf_get_arr(f, "tokenizer.ggml.tokens", &tokens, err);
	if (st == LLM_ERR_INVALID_ARG)
		return llm_error_set(err, LLM_ERR_CORRUPT, "model file has no tokenizer.ggml.tokens");
	if (st != LLM_OK)
		return st;
	if (tokens.elem_type != GGUF_TYPE_STRING)
		return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.tokens holds %s, not strings",
							 gguf_type_name(tokens.elem_type));
	if (tokens.count == 0)
		return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.tokens is empty");
	if (tokens.count > INT32_MAX)
		return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.tokens has %llu entries",
							 (unsigned long long) tokens.count);

	st = gguf_get_arr(f, "tokenizer.ggml.scores", &scores, err);
	if (st == LLM_OK)
	{
		if (scores.elem_type != GGUF_TYPE_FLOAT32 && scores.elem_type != GGUF_TYPE_FLOAT64)
			return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.scores holds %s, not floats",
								 gguf_type_name(scores.elem_type));
		have_scores = true;
	}
	else if (st != LLM_ERR_INVALID_ARG)
		return st;

	st = gguf_get_arr(f, "tokenizer.ggml.token_type", &types, err);
	if (st == LLM_OK)
	{
		if (gguf_type_size(types.elem_type) == 0 || types.elem_type == GGUF_TYPE_FLOAT32 ||
			types.elem_type == GGUF_TYPE_FLOAT64)
			return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.token_type holds %s, not integers",
								 gguf_type_name(types.elem_type));
		have_types = true;
	}
	else if (st != LLM_ERR_INVALID_ARG)
		return st;

	v->n_tokens = (int32_t) tokens.count;
	v->tokens = llm_calloc(tokens.count, sizeof(vocab_token));
	if (v->tokens == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for %d tokens", v->n_tokens);

	/*
	 * One arena for all texts.  Each element takes 8 + len bytes in the file
	 * and len + 1 here, except that an empty token becomes "[EMPTY_<id>]"
	 * (as in llama.cpp): at most 20 bytes more each.
	 */
	if (tokens.nbytes > SIZE_MAX / 2 ||
		!llm_mul_size((size_t) tokens.count, 24, &arena_size) ||
		!llm_add_size(arena_size, (size_t) tokens.nbytes, &arena_size))
		return llm_error_set(err, LLM_ERR_LIMIT, "token list too large");
	if (arena_size > UINT32_MAX)
		return llm_error_set(err, LLM_ERR_LIMIT, "token texts total %zu bytes, more than we index",
							 arena_size);
	v->arena = llm_malloc(arena_size);
	if (v->arena == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the token texts (%zu bytes)", arena_size);

	w.p = tokens.data;
	w.end = tokens.data + tokens.nbytes;
	p = v->arena;
	for (int32_t i = 0; i < v->n_tokens; i++)
	{
		vocab_token *t = &v->tokens[i];
		const char *src;
		uint64_t	len;

		if (!next_string(&w, &src, &len))
			return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.tokens is truncated at entry %d", i);
		if (len == 0)
			len = (uint64_t) snprintf(p, 24, "[EMPTY_%d]", i);
		else
			memcpy(p, src, (size_t) len);
		p[len] = '\0';
		t->off = (uint32_t) (p - v->arena);
		t->len = (uint32_t) len;
		p += len + 1;
		if (len > v->max_token_len)
			v->max_token_len = (size_t) len;

		t->score = 0.0f;
		if (have_scores && (uint64_t) i < scores.count)
		{
			double		s = gguf_array_get_float(&scores, (uint64_t) i);

			/* NaN would break the queue's ordering; make it the lowest priority */
			t->score = isnan(s) ? -FLT_MAX : (float) s;
		}

		t->type = LLM_TOKEN_NORMAL;
		if (have_types && (uint64_t) i < types.count)
		{
			int64_t		ty = gguf_array_get_int(&types, (uint64_t) i);

			t->type = (ty >= LLM_TOKEN_UNDEFINED && ty <= LLM_TOKEN_BYTE) ? (uint8_t) ty
				: LLM_TOKEN_UNDEFINED;
		}
	}

	/* a repeated text maps to its last id, as llama.cpp's map assignment */
	return llm_strmap_put_many(&v->token_ids, v->arena, &v->tokens[0].off, &v->tokens[0].len,
							   sizeof(vocab_token), (size_t) v->n_tokens, true, err);
}

static llm_status
load_merges(llm_vocab *v, const gguf_file *f, llm_error *err)
{
	gguf_array	merges;
	str_walker	w;
	uint32_t   *spans = NULL;	/* (offset, length) per merge in merge_arena */
	char	   *p;
	llm_status	st;

	st = gguf_get_arr(f, "tokenizer.ggml.merges", &merges, err);
	if (st == LLM_ERR_INVALID_ARG)
		return llm_error_set(err, LLM_ERR_CORRUPT, "BPE model file has no tokenizer.ggml.merges");
	if (st != LLM_OK)
		return st;
	if (merges.elem_type != GGUF_TYPE_STRING)
		return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.merges holds %s, not strings",
							 gguf_type_name(merges.elem_type));
	if (merges.count > INT32_MAX)
		return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.merges has %llu entries",
							 (unsigned long long) merges.count);
	if (merges.count == 0)
		return llm_strmap_init(&v->merge_ranks, 0, err);
	/* each merge is 8 + len bytes in the file, len here */
	if (merges.nbytes > UINT32_MAX)
		return llm_error_set(err, LLM_ERR_LIMIT, "merge list of %llu bytes is too large",
							 (unsigned long long) merges.nbytes);

	v->merge_arena = llm_malloc((size_t) merges.nbytes + 1);
	spans = llm_calloc((size_t) merges.count, 2 * sizeof(uint32_t));
	if (v->merge_arena == NULL || spans == NULL)
	{
		llm_free(spans);
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for %llu merges",
							 (unsigned long long) merges.count);
	}

	/*
	 * llama.cpp splits each merge at its first space after the first byte
	 * and ranks the (left, right) pair by index, keeping the first rank of a
	 * repeated pair.  We key by the whole line and look pairs up as
	 * "left right": the symbols being merged never contain a space (the
	 * byte-level alphabet has none), so a lookup can only hit lines whose
	 * first space is the split point — the same pairs llama.cpp can find.
	 */
	w.p = merges.data;
	w.end = merges.data + merges.nbytes;
	p = v->merge_arena;
	for (uint64_t i = 0; i < merges.count; i++)
	{
		const char *src;
		uint64_t	len;

		if (!next_string(&w, &src, &len))
		{
			llm_free(spans);
			return llm_error_set(err, LLM_ERR_CORRUPT, "tokenizer.ggml.merges is truncated at entry %llu",
								 (unsigned long long) i);
		}
		if (len > 0)
			memcpy(p, src, (size_t) len);
		spans[2 * i] = (uint32_t) (p - v->merge_arena);
		spans[2 * i + 1] = (uint32_t) len;
		if (len > v->max_merge_len)
			v->max_merge_len = (size_t) len;
		p += len;
	}

	/* a repeated merge keeps its first (lowest) rank */
	st = llm_strmap_put_many(&v->merge_ranks, v->merge_arena, &spans[0], &spans[1],
							 2 * sizeof(uint32_t), (size_t) merges.count, false, err);
	llm_free(spans);
	return st;
}

/* Force a token to CONTROL, as llama.cpp does for text-detected specials. */
static void
make_control(llm_vocab *v, int32_t id)
{
	if (valid_id(v, id))
		v->tokens[id].type = LLM_TOKEN_CONTROL;
}

/*
 * When the metadata does not name a special token, llama.cpp finds it by
 * its text and forces it to CONTROL.  llama.cpp takes the first match in
 * hash-map order; we take the first text of the list that exists, which is
 * deterministic and prefers the more specific texts.
 */
static void
detect_by_text(llm_vocab *v, int32_t *id, const char *const *texts)
{
	if (*id >= 0)
		return;
	for (int i = 0; texts[i] != NULL; i++)
	{
		int32_t		found = lookup_cstr(v, texts[i]);

		if (found >= 0)
		{
			*id = found;
			make_control(v, found);
			return;
		}
	}
}

static void
set_eog(llm_vocab *v, int32_t id)
{
	if (valid_id(v, id))
		v->eog[id / 8] |= (uint8_t) (1u << (id % 8));
}

static llm_status
setup_specials(llm_vocab *v, const gguf_file *f, llm_error *err)
{
	/*
	 * The texts llama.cpp recognises (c392e509, plus the few later
	 * llama.cpp added — Granite's FIM texts, <|end_of_text|>, smoldocling's
	 * <end_of_utterance>, o200k's <|return|>/<|call|> — which only ever
	 * make generation stop earlier).  "\xE2\x96\x81" is U+2581,
	 * "\xEF\xBD\x9C" U+FF5C.
	 */
	static const char *const eot_texts[] = {
		"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
		"<|end_of_text|>", "<EOT>", "_<EOT>",
		"<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
		"<end_of_utterance>", NULL
	};
	static const char *const eom_texts[] = {"<|eom_id|>", NULL};
	static const char *const fim_pre_texts[] = {
		"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
		"<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>", "<PRE>", "\xE2\x96\x81<PRE>", NULL
	};
	static const char *const fim_suf_texts[] = {
		"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
		"<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>", "<SUF>", "\xE2\x96\x81<SUF>", NULL
	};
	static const char *const fim_mid_texts[] = {
		"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
		"<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>", "<MID>", "\xE2\x96\x81<MID>", NULL
	};
	static const char *const fim_pad_texts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", NULL};
	static const char *const fim_rep_texts[] = {
		"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL
	};
	static const char *const fim_sep_texts[] = {"<|file_sep|>", NULL};
	static const char *const eog_texts[] = {
		"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",
		"<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
		NULL
	};
	int32_t		n = v->n_tokens;
	int32_t		fim_pre = -1,
				fim_suf = -1,
				fim_mid = -1,
				fim_pad = -1,
				fim_rep = -1,
				fim_sep = -1;
	int32_t		sep = -1,
				pad = -1,
				mask = -1;
	llm_status	st;

	read_special_id(f, "tokenizer.ggml.bos_token_id", n, &v->bos);
	read_special_id(f, "tokenizer.ggml.eos_token_id", n, &v->eos);
	read_special_id(f, "tokenizer.ggml.eot_token_id", n, &v->eot);
	read_special_id(f, "tokenizer.ggml.eom_token_id", n, &v->eom);
	read_special_id(f, "tokenizer.ggml.unknown_token_id", n, &v->unk);
	read_special_id(f, "tokenizer.ggml.seperator_token_id", n, &sep);
	read_special_id(f, "tokenizer.ggml.padding_token_id", n, &pad);
	read_special_id(f, "tokenizer.ggml.mask_token_id", n, &mask);
	read_special_id(f, "tokenizer.ggml.fim_pre_token_id", n, &fim_pre);
	read_special_id(f, "tokenizer.ggml.fim_suf_token_id", n, &fim_suf);
	read_special_id(f, "tokenizer.ggml.fim_mid_token_id", n, &fim_mid);
	read_special_id(f, "tokenizer.ggml.fim_pad_token_id", n, &fim_pad);
	read_special_id(f, "tokenizer.ggml.fim_rep_token_id", n, &fim_rep);
	read_special_id(f, "tokenizer.ggml.fim_sep_token_id", n, &fim_sep);
	read_special_id(f, "tokenizer.ggml.prefix_token_id", n, &fim_pre);
	read_special_id(f, "tokenizer.ggml.suffix_token_id", n, &fim_suf);
	read_special_id(f, "tokenizer.ggml.middle_token_id", n, &fim_mid);

	/* a default id the vocabulary is too small for means "none" */
	if (!valid_id(v, v->bos))
		v->bos = -1;
	if (!valid_id(v, v->eos))
		v->eos = -1;
	if (!valid_id(v, v->unk))
		v->unk = -1;

	if ((st = read_bool(f, "tokenizer.ggml.add_bos_token", &v->add_bos, err)) != LLM_OK)
		return st;
	if ((st = read_bool(f, "tokenizer.ggml.add_eos_token", &v->add_eos, err)) != LLM_OK)
		return st;

	detect_by_text(v, &v->eot, eot_texts);
	detect_by_text(v, &v->eom, eom_texts);
	detect_by_text(v, &fim_pre, fim_pre_texts);
	detect_by_text(v, &fim_suf, fim_suf_texts);
	detect_by_text(v, &fim_mid, fim_mid_texts);
	detect_by_text(v, &fim_pad, fim_pad_texts);
	detect_by_text(v, &fim_rep, fim_rep_texts);
	detect_by_text(v, &fim_sep, fim_sep_texts);

	/* end-of-generation set, as llama.cpp builds special_eog_ids */
	v->eog = llm_calloc((size_t) n / 8 + 1, 1);
	if (v->eog == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the end-of-generation set");
	set_eog(v, fim_pad);
	set_eog(v, fim_rep);
	set_eog(v, fim_sep);
	for (int i = 0; eog_texts[i] != NULL; i++)
	{
		int32_t		id = lookup_cstr(v, eog_texts[i]);

		if (id >= 0)
		{
			set_eog(v, id);
			make_control(v, id);
		}
	}
	set_eog(v, v->eos);
	set_eog(v, v->eot);
	set_eog(v, v->eom);
	return LLM_OK;
}

typedef struct special_key
{
	uint32_t	len;
	int32_t		id;
} special_key;

static int
cmp_special(const void *a, const void *b)
{
	const special_key *ka = a;
	const special_key *kb = b;

	if (ka->len != kb->len)
		return ka->len > kb->len ? -1 : 1;	/* longest first */
	return ka->id < kb->id ? -1 : (ka->id > kb->id);	/* then by id (llama.cpp: unspecified) */
}

/* First occurrence of needle (nlen >= 1) in hay, or NULL. */
static const char *
find_bytes(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	const char *p = hay;
	const char *end = hay + hlen;

	while ((size_t) (end - p) >= nlen)
	{
		p = memchr(p, needle[0], (size_t) (end - p) - nlen + 1);
		if (p == NULL)
			return NULL;
		if (memcmp(p + 1, needle + 1, nlen - 1) == 0)
			return p;
		p++;
	}
	return NULL;
}

/*
 * Per-token strip attributes llama.cpp sets by model name (jina-v2 <mask>
 * strips spaces to its left; Phi-3's special tokens strip spaces to their
 * right).  They only matter when special tokens are parsed.
 */
static void
setup_strip_attrs(llm_vocab *v, const gguf_file *f)
{
	gguf_string name = {0};
	gguf_string pre = {0};
	llm_error	ignored;
	char		lname[256];
	size_t		n;

	(void) gguf_get_str(f, "tokenizer.ggml.pre", &pre, &ignored);
	(void) gguf_get_str(f, "general.name", &name, &ignored);

	for (size_t i = 0; i < 3; i++)
	{
		static const char *const jina[] = {"jina-v2-de", "jina-v2-es", "jina-v2-code"};

		if (pre.len > 0 && find_bytes(pre.ptr, pre.len, jina[i], strlen(jina[i])) != NULL)
		{
			int32_t		id = lookup_cstr(v, "<mask>");

			if (id >= 0)
				v->tokens[id].strip |= VOCAB_LSTRIP;
			return;
		}
	}

	n = name.len < sizeof(lname) - 1 ? (size_t) name.len : sizeof(lname) - 1;
	for (size_t i = 0; i < n; i++)
		lname[i] = (char) tolower((unsigned char) name.ptr[i]);
	lname[n] = '\0';
	if (strstr(lname, "phi-3") != NULL || strstr(lname, "phi3") != NULL)
	{
		static const char *const no_rstrip[] = {"<unk>", "<s>", "<|endoftext|>"};
		int32_t		id;

		for (size_t i = 0; i < v->n_special; i++)
			v->tokens[v->special[i]].strip |= VOCAB_RSTRIP;
		if ((id = lookup_cstr(v, "</s>")) >= 0)
			v->tokens[id].strip |= VOCAB_RSTRIP;
		for (size_t i = 0; i < 3; i++)
			if ((id = lookup_cstr(v, no_rstrip[i])) >= 0)
				v->tokens[id].strip &= (uint8_t) ~VOCAB_RSTRIP;
	}
}

static llm_status
setup_special_cache(llm_vocab *v, llm_error *err)
{
	size_t		count = 0;
	special_key *keys;

	for (int32_t i = 0; i < v->n_tokens; i++)
	{
		uint8_t		t = v->tokens[i].type;

		if (t == LLM_TOKEN_CONTROL || t == LLM_TOKEN_USER_DEFINED || t == LLM_TOKEN_UNKNOWN)
			count++;
	}
	if (count == 0)
		return LLM_OK;
	v->special = llm_calloc(count, sizeof(int32_t));
	keys = llm_calloc(count, sizeof(special_key));
	if (v->special == NULL || keys == NULL)
	{
		llm_free(keys);
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for %zu special tokens", count);
	}
	for (int32_t i = 0; i < v->n_tokens; i++)
	{
		uint8_t		t = v->tokens[i].type;

		if (t == LLM_TOKEN_CONTROL || t == LLM_TOKEN_USER_DEFINED || t == LLM_TOKEN_UNKNOWN)
			keys[v->n_special++] = (special_key) {v->tokens[i].len, i};
	}
	qsort(keys, v->n_special, sizeof(special_key), cmp_special);
	for (size_t i = 0; i < v->n_special; i++)
		v->special[i] = keys[i].id;
	llm_free(keys);
	return LLM_OK;
}

static void
setup_byte_tokens(llm_vocab *v)
{
	static const char hex[] = "0123456789ABCDEF";

	for (int b = 0; b < 256; b++)
	{
		char		name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
		char		raw = (char) b;
		int32_t		id = vocab_lookup(v, name, 6);

		if (id < 0)
			id = vocab_lookup(v, &raw, 1);	/* llama.cpp's second choice */
		v->byte_token[b] = id;
	}
}

llm_status
llm_vocab_load(const gguf_file *f, llm_vocab **out, llm_error *err)
{
	llm_vocab  *v;
	gguf_string model;
	gguf_string pre = {0};
	bool		have_pre = false;
	llm_status	st;

	*out = NULL;
	st = gguf_get_str(f, "tokenizer.ggml.model", &model, err);
	if (st == LLM_ERR_INVALID_ARG)
		return llm_error_set(err, LLM_ERR_UNSUPPORTED,
							 "model file has no tokenizer (tokenizer.ggml.model is missing)");
	if (st != LLM_OK)
		return st;

	v = llm_calloc(1, sizeof(llm_vocab));
	if (v == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for the vocabulary");
	v->eot = -1;
	v->eom = -1;

	if (gguf_str_eq(model, "llama"))
	{
		v->kind = LLM_VOCAB_SPM;
		v->bos = 1;
		v->eos = 2;
		v->unk = 0;
		v->add_bos = true;
		v->add_eos = false;
		v->add_space_prefix = true;
		strcpy(v->pre_name, "default");
	}
	else if (gguf_str_eq(model, "gpt2"))
	{
		v->kind = LLM_VOCAB_BPE;
		/* llama.cpp's (odd) defaults for BPE vocabularies */
		v->bos = 11;
		v->eos = 11;
		v->unk = -1;
		v->add_bos = false;
		v->add_eos = false;
		v->add_space_prefix = false;

		st = gguf_get_str(f, "tokenizer.ggml.pre", &pre, err);
		if (st == LLM_OK)
			have_pre = true;
		else if (st != LLM_ERR_INVALID_ARG)
			goto fail;
		if (!llm_pretok_lookup(have_pre ? pre.ptr : NULL, have_pre ? (size_t) pre.len : 0, &v->pre))
		{
			st = llm_error_set(err, LLM_ERR_UNSUPPORTED, "unsupported pre-tokenizer \"%.*s\"",
							   (int) (pre.len > 100 ? 100 : pre.len), pre.ptr);
			llm_error_detail(err, "tokenizer.ggml.pre names a BPE pre-tokenizer this build does not implement");
			goto fail;
		}
		if (have_pre && pre.len > 0)
			snprintf(v->pre_name, sizeof(v->pre_name), "%.*s", (int) pre.len, pre.ptr);
		else
			strcpy(v->pre_name, "default");
		v->add_bos = v->pre.add_bos;
		if (v->pre.no_bos)
			v->bos = -1;
	}
	else
	{
		st = llm_error_set(err, LLM_ERR_UNSUPPORTED, "unsupported tokenizer \"%.*s\"",
						   (int) (model.len > 100 ? 100 : model.len), model.ptr);
		llm_error_detail(err, "tokenizer.ggml.model must be \"gpt2\" (byte-level BPE) or \"llama\" (SentencePiece)");
		goto fail;
	}

	if (v->kind == LLM_VOCAB_SPM &&
		(st = read_bool(f, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix, err)) != LLM_OK)
		goto fail;

	if ((st = load_tokens(v, f, err)) != LLM_OK)
		goto fail;
	if (v->kind == LLM_VOCAB_BPE)
	{
		if ((st = load_merges(v, f, err)) != LLM_OK)
			goto fail;
	}
	else if ((st = llm_strmap_init(&v->merge_ranks, 0, err)) != LLM_OK)
		goto fail;

	if ((st = setup_specials(v, f, err)) != LLM_OK)
		goto fail;
	if ((st = setup_special_cache(v, err)) != LLM_OK)
		goto fail;
	setup_strip_attrs(v, f);
	setup_byte_tokens(v);

	*out = v;
	return LLM_OK;

fail:
	llm_vocab_free(v);
	return st;
}

void
llm_vocab_free(llm_vocab *v)
{
	if (v == NULL)
		return;
	llm_strmap_free(&v->token_ids);
	llm_strmap_free(&v->merge_ranks);
	llm_free(v->tokens);
	llm_free(v->arena);
	llm_free(v->merge_arena);
	llm_free(v->special);
	llm_free(v->eog);
	llm_free(v);
}

/* ---------- accessors ---------- */

int32_t
llm_vocab_n_tokens(const llm_vocab *v)
{
	return v->n_tokens;
}

llm_vocab_kind
llm_vocab_get_kind(const llm_vocab *v)
{
	return v->kind;
}

const char *
llm_vocab_pre_name(const llm_vocab *v)
{
	return v->pre_name;
}

int32_t
llm_vocab_bos(const llm_vocab *v)
{
	return v->bos;
}

int32_t
llm_vocab_eos(const llm_vocab *v)
{
	return v->eos;
}

int32_t
llm_vocab_eot(const llm_vocab *v)
{
	return v->eot;
}

int32_t
llm_vocab_unk(const llm_vocab *v)
{
	return v->unk;
}

bool
llm_vocab_add_bos(const llm_vocab *v)
{
	return v->add_bos;
}

bool
llm_vocab_add_eos(const llm_vocab *v)
{
	return v->add_eos;
}

size_t
llm_vocab_max_token_len(const llm_vocab *v)
{
	return v->max_token_len;
}

llm_token_type
llm_vocab_token_type(const llm_vocab *v, int32_t id)
{
	if (!valid_id(v, id))
		return LLM_TOKEN_UNDEFINED;
	return (llm_token_type) v->tokens[id].type;
}

const char *
llm_vocab_token_text(const llm_vocab *v, int32_t id, size_t *len)
{
	if (!valid_id(v, id))
	{
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = v->tokens[id].len;
	return token_text(v, id);
}

int32_t
llm_vocab_find_token(const llm_vocab *v, const char *text, size_t len)
{
	return vocab_lookup(v, text, len);
}

bool
llm_vocab_is_eog(const llm_vocab *v, int32_t id)
{
	return valid_id(v, id) && (v->eog[id / 8] & (1u << (id % 8))) != 0;
}

/* ---------- special-token partition ---------- */

typedef struct fragment
{
	int32_t		token;			/* >= 0: a special token; -1: raw text */
	size_t		off;
	size_t		len;
} fragment;

typedef struct frag_list
{
	fragment   *f;
	size_t		n;
	size_t		cap;
} frag_list;

static llm_status
frag_push(frag_list *l, fragment fr, llm_error *err)
{
	if (l->n == l->cap)
	{
		size_t		cap = l->cap ? l->cap * 2 : 16;
		fragment   *f;

		if (cap > SIZE_MAX / sizeof(fragment))
			return llm_error_set(err, LLM_ERR_LIMIT, "too many text fragments");
		f = llm_realloc(l->f, l->cap * sizeof(fragment), cap * sizeof(fragment));
		if (f == NULL)
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory splitting special tokens");
		l->f = f;
		l->cap = cap;
	}
	l->f[l->n++] = fr;
	return LLM_OK;
}

/* the C locale's isspace, which llama.cpp uses for LSTRIP/RSTRIP */
static inline bool
c_isspace(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * llama.cpp's tokenizer_st_partition: for each special token, longest text
 * first, split every remaining raw fragment at each (leftmost,
 * non-overlapping) occurrence of its text.  Control and unknown tokens
 * take part only with parse_special; user-defined tokens always do.
 */
static llm_status
partition_specials(const llm_vocab *v, const char *text, size_t len, bool parse_special,
				   frag_list *frags, llm_error *err)
{
	frag_list	next = {0};
	llm_status	st;

	frags->n = 0;
	if (len == 0)
		return LLM_OK;
	if ((st = frag_push(frags, (fragment) {-1, 0, len}, err)) != LLM_OK)
		return st;

	for (size_t k = 0; k < v->n_special; k++)
	{
		int32_t		id = v->special[k];
		const vocab_token *tok = &v->tokens[id];
		bool		any = false;

		if (!parse_special && is_special_type(tok->type))
			continue;

		next.n = 0;
		for (size_t i = 0; i < frags->n; i++)
		{
			fragment	fr = frags->f[i];
			size_t		pos;
			size_t		end;

			if (fr.token >= 0 || fr.len < tok->len)
			{
				if ((st = frag_push(&next, fr, err)) != LLM_OK)
					goto fail;
				continue;
			}
			pos = fr.off;
			end = fr.off + fr.len;
			for (;;)
			{
				const char *hit = find_bytes(text + pos, end - pos, token_text(v, id), tok->len);
				size_t		left_len;
				size_t		right;

				if (hit == NULL)
					break;
				any = true;
				left_len = (size_t) (hit - (text + pos));
				if (tok->strip & VOCAB_LSTRIP)
					while (left_len > 0 && c_isspace(text[pos + left_len - 1]))
						left_len--;
				if (left_len > 0 && (st = frag_push(&next, (fragment) {-1, pos, left_len}, err)) != LLM_OK)
					goto fail;
				if ((st = frag_push(&next, (fragment) {id, 0, 0}, err)) != LLM_OK)
					goto fail;
				right = (size_t) (hit - text) + tok->len;
				if (tok->strip & VOCAB_RSTRIP)
					while (right < end && c_isspace(text[right]))
						right++;
				pos = right;
			}
			if (pos < end && (st = frag_push(&next, (fragment) {-1, pos, end - pos}, err)) != LLM_OK)
				goto fail;
		}
		if (any)
		{
			frag_list	tmp = *frags;

			*frags = next;
			next = tmp;
		}
	}
	llm_free(next.f);
	return LLM_OK;

fail:
	llm_free(next.f);
	return st;
}

/* ---------- encode ---------- */

llm_status
llm_tokenize(const llm_vocab *v, const char *text, size_t len, bool add_special,
			 bool parse_special, int32_t **ids, size_t *n_ids, llm_error *err)
{
	frag_list	frags = {0};
	tok_out		out = {0};
	bool		prev_special = true;	/* SPM: prefix a space at the start */
	llm_status	st;

	*ids = NULL;
	*n_ids = 0;
	if (text == NULL && len > 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "text is NULL");
	if (len > (size_t) INT32_MAX)
		return llm_error_set(err, LLM_ERR_LIMIT, "text of %zu bytes is too long to tokenize", len);

	if ((st = partition_specials(v, text, len, parse_special, &frags, err)) != LLM_OK)
		goto fail;

	if (add_special && v->add_bos && v->bos >= 0 &&
		(st = tok_out_push(&out, v->bos, err)) != LLM_OK)
		goto fail;

	for (size_t i = 0; i < frags.n; i++)
	{
		const fragment *fr = &frags.f[i];

		if (fr->token >= 0)
		{
			st = tok_out_push(&out, fr->token, err);
			prev_special = true;
		}
		else if (v->kind == LLM_VOCAB_SPM)
		{
			st = llm_spm_encode(v, text + fr->off, fr->len, v->add_space_prefix && prev_special,
								&out, err);
			prev_special = false;
		}
		else
			st = llm_bpe_encode(v, text + fr->off, fr->len, &out, err);
		if (st != LLM_OK)
			goto fail;
	}

	if (add_special && v->add_eos && v->eos >= 0 &&
		(st = tok_out_push(&out, v->eos, err)) != LLM_OK)
		goto fail;

	llm_free(frags.f);
	*ids = out.ids;
	*n_ids = out.n;
	return LLM_OK;

fail:
	llm_free(frags.f);
	llm_free(out.ids);
	return st;
}

/* ---------- decode ---------- */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Write the piece of token id into buf (which has room for the token's
 * text length: no piece is longer); returns its length.
 */
static size_t
piece_into(const llm_vocab *v, int32_t id, bool render_special, char *buf)
{
	const vocab_token *t = &v->tokens[id];
	const char *text = token_text(v, id);
	size_t		n = 0;

	if (is_special_type(t->type))
	{
		if (!render_special)
			return 0;
		memcpy(buf, text, t->len);
		return t->len;
	}
	if (t->type == LLM_TOKEN_USER_DEFINED)
	{
		memcpy(buf, text, t->len);
		return t->len;
	}

	if (v->kind == LLM_VOCAB_SPM)
	{
		if (t->type == LLM_TOKEN_NORMAL)
		{
			/* U+2581 back to a space */
			for (uint32_t i = 0; i < t->len; i++)
			{
				if (i + 2 < t->len && (uint8_t) text[i] == 0xE2 &&
					(uint8_t) text[i + 1] == 0x96 && (uint8_t) text[i + 2] == 0x81)
				{
					buf[n++] = ' ';
					i += 2;
				}
				else
					buf[n++] = text[i];
			}
			return n;
		}
		if (t->type == LLM_TOKEN_BYTE)
		{
			/* "<0xXX>"; a malformed byte token decodes to nothing */
			int			hi,
						lo;

			if (t->len >= 6 && memcmp(text, "<0x", 3) == 0 &&
				(hi = hex_value(text[3])) >= 0 && (lo = hex_value(text[4])) >= 0)
			{
				buf[0] = (char) (hi * 16 + lo);
				return 1;
			}
			return 0;
		}
		return 0;				/* unused / undefined: nothing, as llama.cpp */
	}

	if (t->type == LLM_TOKEN_NORMAL)
	{
		/*
		 * Each code point of the text is the stand-in of one byte.  A code
		 * point that stands for no byte (not produced by our encoder) is
		 * copied as it is; llama.cpp writes "[UNK_BYTE_0x..]" instead.
		 */
		for (uint32_t i = 0; i < t->len;)
		{
			size_t		used;
			uint32_t	cpt = llm_utf8_decode((const uint8_t *) text + i, t->len - i, &used);
			int			b = llm_cpt_to_byte(cpt);

			if (b >= 0)
				buf[n++] = (char) b;
			else
			{
				memcpy(buf + n, text + i, used);
				n += used;
			}
			i += (uint32_t) used;
		}
		return n;
	}
	return 0;
}

llm_status
llm_token_to_piece(const llm_vocab *v, int32_t id, bool render_special, char *buf,
				   size_t buf_size, size_t *out_len, llm_error *err)
{
	char		small[256];
	char	   *tmp = small;
	size_t		n;

	*out_len = 0;
	if (!valid_id(v, id))
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "token id %d is out of range", id);
	if (v->tokens[id].len > sizeof(small))
	{
		tmp = llm_malloc(v->tokens[id].len);
		if (tmp == NULL)
			return llm_error_set(err, LLM_ERR_NOMEM, "out of memory decoding token %d", id);
	}
	n = piece_into(v, id, render_special, tmp);
	*out_len = n;
	if (n > buf_size)
	{
		if (tmp != small)
			llm_free(tmp);
		return llm_error_set(err, LLM_ERR_LIMIT, "token %d needs %zu bytes, the buffer has %zu",
							 id, n, buf_size);
	}
	if (n > 0)
		memcpy(buf, tmp, n);
	if (tmp != small)
		llm_free(tmp);
	return LLM_OK;
}

llm_status
llm_detokenize(const llm_vocab *v, const int32_t *ids, size_t n_ids, bool render_special,
			   char **out, size_t *out_len, llm_error *err)
{
	size_t		cap = 1;
	size_t		n = 0;
	char	   *buf;
	bool		strip_space;

	*out = NULL;
	*out_len = 0;
	if (ids == NULL && n_ids > 0)
		return llm_error_set(err, LLM_ERR_INVALID_ARG, "token array is NULL");
	for (size_t i = 0; i < n_ids; i++)
	{
		if (!valid_id(v, ids[i]))
		{
			llm_error_set(err, LLM_ERR_INVALID_ARG, "token id %d is out of range", ids[i]);
			llm_error_detail(err, "valid ids are 0 to %d (position %zu)", v->n_tokens - 1, i);
			return LLM_ERR_INVALID_ARG;
		}
		if (!llm_add_size(cap, v->tokens[ids[i]].len, &cap))
			return llm_error_set(err, LLM_ERR_LIMIT, "detokenized text too long");
	}
	buf = llm_malloc(cap);
	if (buf == NULL)
		return llm_error_set(err, LLM_ERR_NOMEM, "out of memory for %zu bytes of text", cap);

	/*
	 * SPM: the tokenizer put a space before the text at the start and after
	 * each special token; take it off again so decoding inverts encoding.
	 * (llama.cpp strips it only at the very start, and not after a BOS.)
	 */
	strip_space = (v->kind == LLM_VOCAB_SPM && v->add_space_prefix);
	for (size_t i = 0; i < n_ids; i++)
	{
		const vocab_token *t = &v->tokens[ids[i]];
		size_t		len = piece_into(v, ids[i], render_special, buf + n);
		bool		from_partition = is_special_type(t->type) || t->type == LLM_TOKEN_USER_DEFINED;

		if (strip_space && !from_partition && len > 0 && buf[n] == ' ')
		{
			memmove(buf + n, buf + n + 1, len - 1);
			len--;
		}
		n += len;
		if (v->kind == LLM_VOCAB_SPM && v->add_space_prefix)
			strip_space = from_partition;
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return LLM_OK;
}
