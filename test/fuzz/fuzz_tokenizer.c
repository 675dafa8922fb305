/*
 * fuzz_tokenizer.c — libFuzzer target for the tokenizers (tokenizer.c,
 * bpe.c, spm.c, pretokenize.c, unicode.c, strmap.c).
 *
 * Two modes, chosen by the environment:
 *
 *   text mode (default): the input is text.  A vocabulary is loaded once —
 *     the GGUF named by LLM_FUZZ_VOCAB (e.g. an uncompressed
 *     test/data/tokenizer-vectors/ggml-vocab-starcoder.gguf.gz), or else a
 *     small byte-level BPE vocabulary built in memory.  Each input is
 *     tokenized with special-token parsing off and on; every id must be in
 *     range and decode; when the input is valid UTF-8 and each of its bytes
 *     has a token the decoded text must equal the input exactly.  Then the input is read as an array of int32 ids and
 *     decoded: out-of-range ids must be refused with LLM_ERR_INVALID_ARG,
 *     in-range ones decoded, also one by one with small buffers.
 *
 *   vocab mode (LLM_FUZZ_TOKENIZER_MODE=vocab): the input is a GGUF file.
 *     If it parses and llm_vocab_load accepts it, a few texts are tokenized
 *     and decoded and every token is decoded, which must not crash whatever
 *     nonsense the file's token list, merges, scores or special ids hold.
 *
 * Build and run (from the repository root):
 *   S=src/engine
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *     -I$S test/fuzz/fuzz_tokenizer.c $S/tokenizer.c $S/bpe.c $S/spm.c \
 *     $S/pretokenize.c $S/unicode.c $S/unicode_tables.c $S/strmap.c $S/gguf.c \
 *     $S/dtype.c $S/common.c -lm -o /tmp/fuzz_tokenizer
 *   mkdir -p /tmp/fuzz_tok_corpus
 *   /tmp/fuzz_tokenizer -max_total_time=120 -max_len=4096 -timeout=10 \
 *     /tmp/fuzz_tok_corpus test/fuzz/corpus/tokenizer
 *   LLM_FUZZ_TOKENIZER_MODE=vocab /tmp/fuzz_tokenizer -max_total_time=120 \
 *     -max_len=16384 /tmp/fuzz_tokvocab_corpus test/fuzz/corpus/tokenizer_vocab \
 *     /tmp/fuzz_gguf_seeds   # python3 test/make_bad_ggufs.py --seeds DIR
 * LLM_FUZZ_VOCAB=builtin-spm uses a small built-in SentencePiece vocabulary
 * instead.  With LLM_FUZZ_DUMP_SEED=dir the target writes both built-in
 * vocabularies there as GGUF files (how corpus/tokenizer_vocab/ was made;
 * "tiny" in the name gets them past .gitignore's *.gguf rule).
 */
#define _GNU_SOURCE
#include "common.h"
#include "gguf.h"
#include "tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static llm_vocab *vocab;
static bool byte_ok[256];		/* the byte has a token (BPE stand-in or <0xXX>) */
static bool vocab_mode;

static void
fail(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "fuzz_tokenizer: %s (input of %zu bytes)\n", what, size);
	abort();
}

/* ---------- a small GGUF writer for the built-in vocabulary ---------- */

typedef struct gbuf
{
	uint8_t    *p;
	size_t		n;
	size_t		cap;
} gbuf;

static void
gput(gbuf *b, const void *d, size_t n)
{
	if (b->n + n > b->cap)
	{
		b->cap = (b->n + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void
gu32(gbuf *b, uint32_t v)
{
	gput(b, &v, 4);
}

static void
gu64(gbuf *b, uint64_t v)
{
	gput(b, &v, 8);
}

static void
gstrn(gbuf *b, const char *s, size_t n)
{
	gu64(b, n);
	gput(b, s, n);
}

static void
gkey_str(gbuf *b, const char *k, const char *v)
{
	gstrn(b, k, strlen(k));
	gu32(b, GGUF_TYPE_STRING);
	gstrn(b, v, strlen(v));
}

static void
gkey_u32(gbuf *b, const char *k, uint32_t v)
{
	gstrn(b, k, strlen(k));
	gu32(b, GGUF_TYPE_UINT32);
	gu32(b, v);
}

/* UTF-8 of GPT-2's printable stand-in for byte b */
static size_t
byte_char(int b, char out[2])
{
	unsigned	cp;

	if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)
		cp = (unsigned) b;
	else if (b <= 0x20)
		cp = 256 + (unsigned) b;
	else if (b <= 0xA0)
		cp = 256 + 0x21 + (unsigned) (b - 0x7F);
	else
		cp = 256 + 0x43;
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	out[0] = (char) (0xC0 | (cp >> 6));
	out[1] = (char) (0x80 | (cp & 0x3F));
	return 2;
}

/*
 * 256 byte tokens, a handful of merges (G-dot is the stand-in for space),
 * a control token, a user-defined token: small, lossless, and it exercises
 * merging, specials and the smollm pre-tokenizer.
 */
static void
build_vocab_gguf(gbuf *b)
{
	static const char *const merged[] = {
		"th", "he", "the", "\xC4\xA0t", "\xC4\xA0the", "in", "ing", "\xC4\xA0\xC4\xA0",
		"er", "an", "\xC4\x8A\xC4\x8A", "\xC3\xA9"
	};
	static const char *const merges[] = {
		"t h", "h e", "th e", "\xC4\xA0 t", "\xC4\xA0t he", "i n", "in g",
		"\xC4\xA0 \xC4\xA0", "e r", "a n", "\xC4\x8A \xC4\x8A", "\xC3 \xA9", "x y z", "", "q"
	};
	const size_t n_merged = sizeof(merged) / sizeof(merged[0]);
	const size_t n_merges = sizeof(merges) / sizeof(merges[0]);
	const size_t n_tokens = 256 + n_merged + 2;

	gput(b, "GGUF", 4);
	gu32(b, 3);
	gu64(b, 0);					/* tensors */
	gu64(b, 7);					/* kv */
	gkey_str(b, "tokenizer.ggml.model", "gpt2");
	gkey_str(b, "tokenizer.ggml.pre", "smollm");

	gstrn(b, "tokenizer.ggml.tokens", strlen("tokenizer.ggml.tokens"));
	gu32(b, GGUF_TYPE_ARRAY);
	gu32(b, GGUF_TYPE_STRING);
	gu64(b, n_tokens);
	for (int i = 0; i < 256; i++)
	{
		char		c[2];
		size_t		n = byte_char(i, c);

		gstrn(b, c, n);
	}
	for (size_t i = 0; i < n_merged; i++)
		gstrn(b, merged[i], strlen(merged[i]));
	gstrn(b, "<|endoftext|>", 13);
	gstrn(b, "<ud>", 4);

	gstrn(b, "tokenizer.ggml.token_type", strlen("tokenizer.ggml.token_type"));
	gu32(b, GGUF_TYPE_ARRAY);
	gu32(b, GGUF_TYPE_INT32);
	gu64(b, n_tokens);
	for (size_t i = 0; i < n_tokens; i++)
		gu32(b, i == n_tokens - 2 ? 3 : i == n_tokens - 1 ? 4 : 1);

	gstrn(b, "tokenizer.ggml.merges", strlen("tokenizer.ggml.merges"));
	gu32(b, GGUF_TYPE_ARRAY);
	gu32(b, GGUF_TYPE_STRING);
	gu64(b, n_merges);
	for (size_t i = 0; i < n_merges; i++)
		gstrn(b, merges[i], strlen(merges[i]));

	gkey_u32(b, "tokenizer.ggml.eos_token_id", (uint32_t) (n_tokens - 2));
	gkey_u32(b, "tokenizer.ggml.bos_token_id", (uint32_t) (n_tokens - 2));
}

static void
gkey_arr_hdr(gbuf *b, const char *k, gguf_type t, uint64_t n)
{
	gstrn(b, k, strlen(k));
	gu32(b, GGUF_TYPE_ARRAY);
	gu32(b, t);
	gu64(b, n);
}

/*
 * A tiny SentencePiece vocabulary: unknown/BOS/EOS, all 256 byte tokens,
 * a few pieces with scores (U+2581 is the space mark) and a user-defined
 * token.
 */
static void
build_spm_gguf(gbuf *b)
{
	static const char *const pieces[] = {
		"\xE2\x96\x81", "\xE2\x96\x81t", "he", "\xE2\x96\x81the", "in", "ing",
		"\xE2\x96\x81" "a", "a", "t", "h", "e", "i", "n", "g", "\xE2\x96\x81\xE2\x96\x81",
		"\xC3\xA9", "<ud>"
	};
	const size_t n_pieces = sizeof(pieces) / sizeof(pieces[0]);
	const size_t n_tokens = 3 + 256 + n_pieces;
	static const char hex[] = "0123456789ABCDEF";

	gput(b, "GGUF", 4);
	gu32(b, 3);
	gu64(b, 0);
	gu64(b, 4);
	gkey_str(b, "tokenizer.ggml.model", "llama");
	gkey_arr_hdr(b, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, n_tokens);
	gstrn(b, "<unk>", 5);
	gstrn(b, "<s>", 3);
	gstrn(b, "</s>", 4);
	for (int i = 0; i < 256; i++)
	{
		char		t[6] = {'<', '0', 'x', hex[i >> 4], hex[i & 15], '>'};

		gstrn(b, t, 6);
	}
	for (size_t i = 0; i < n_pieces; i++)
		gstrn(b, pieces[i], strlen(pieces[i]));
	gkey_arr_hdr(b, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, n_tokens);
	for (size_t i = 0; i < n_tokens; i++)
	{
		float		score = i < 259 ? 0.0f : -(float) (i - 259);

		gput(b, &score, 4);
	}
	gkey_arr_hdr(b, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, n_tokens);
	for (size_t i = 0; i < n_tokens; i++)
		gu32(b, i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : i == n_tokens - 1 ? 4 : 1);
}

/* ---------- helpers ---------- */

/* Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static bool
valid_utf8(const uint8_t *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		uint8_t		c = s[i];
		size_t		len;
		uint32_t	cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

static bool
all_bytes_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!byte_ok[s[i]])
			return false;
	return true;
}

static void
check_roundtrip(const uint8_t *data, size_t size, bool parse_special, bool add_special)
{
	int32_t    *ids = NULL;
	size_t		n = 0;
	char	   *out = NULL;
	size_t		out_len = 0;
	llm_error	err;
	int32_t		nt = llm_vocab_n_tokens(vocab);
	size_t		skip_head = 0;
	size_t		skip_tail = 0;

	if (llm_tokenize(vocab, (const char *) data, size, add_special, parse_special, &ids, &n,
					 &err) != LLM_OK)
		fail("tokenize failed", data, size);
	for (size_t i = 0; i < n; i++)
		if (ids[i] < 0 || ids[i] >= nt)
			fail("token id out of range", data, size);
	/* BOS/EOS are not part of the text */
	if (add_special && llm_vocab_add_bos(vocab) && n > 0 && ids[0] == llm_vocab_bos(vocab))
		skip_head = 1;
	if (add_special && llm_vocab_add_eos(vocab) && n > skip_head && ids[n - 1] == llm_vocab_eos(vocab))
		skip_tail = 1;
	if (llm_detokenize(vocab, ids ? ids + skip_head : NULL, n - skip_head - skip_tail, parse_special,
					   &out, &out_len, &err) != LLM_OK)
		fail("detokenize of tokenizer output failed", data, size);
	if (out[out_len] != '\0')
		fail("detokenized text not NUL-terminated", data, size);
	/*
	 * Byte-level BPE is lossless on valid UTF-8 (invalid sequences become
	 * U+FFFD first, as in llama.cpp).  SentencePiece with byte fallback is
	 * lossless on valid UTF-8 without a literal U+2581 (its space mark);
	 * on invalid UTF-8 a truncated sequence can swallow the next space's
	 * U+2581, which then decodes as those bytes — llama.cpp does the same.
	 */
	if (all_bytes_ok(data, size) && valid_utf8(data, size) &&
		(llm_vocab_get_kind(vocab) == LLM_VOCAB_BPE ||
		 memmem(data, size, "\xE2\x96\x81", 3) == NULL) &&
		(out_len != size || memcmp(out, data, size) != 0))
		fail("text did not round-trip", data, size);
	llm_free(out);
	llm_free(ids);
}

static void
check_id_array(const uint8_t *data, size_t size)
{
	size_t		n = size / 4;
	int32_t    *ids = malloc(n * sizeof(int32_t) + 1);
	int32_t		nt = llm_vocab_n_tokens(vocab);
	bool		any_bad = false;
	char	   *out = NULL;
	size_t		out_len;
	llm_error	err;
	llm_status	st;

	if (ids == NULL)
		return;
	for (size_t i = 0; i < n; i++)
	{
		uint32_t	u;

		memcpy(&u, data + 4 * i, 4);
		/* mostly valid ids, some raw (negative, huge) */
		ids[i] = (u & 0x80000000u) ? (int32_t) u : (int32_t) (u % (uint32_t) (nt + 2));
		if (ids[i] < 0 || ids[i] >= nt)
			any_bad = true;
	}
	for (int rs = 0; rs < 2; rs++)
	{
		st = llm_detokenize(vocab, ids, n, rs, &out, &out_len, &err);
		if (any_bad ? st != LLM_ERR_INVALID_ARG : st != LLM_OK)
			fail("detokenize status wrong for the ids given", data, size);
		if (st == LLM_OK)
			llm_free(out);
	}
	for (size_t i = 0; i < n && i < 64; i++)
	{
		char		buf[8];
		size_t		len;

		st = llm_token_to_piece(vocab, ids[i], true, buf, (size_t) (data[0] % 9), &len, &err);
		if (ids[i] < 0 || ids[i] >= nt)
		{
			if (st != LLM_ERR_INVALID_ARG)
				fail("token_to_piece accepted a bad id", data, size);
		}
		else if (st != LLM_OK && !(st == LLM_ERR_LIMIT && len > (size_t) (data[0] % 9)))
			fail("token_to_piece failed", data, size);
		(void) llm_vocab_is_eog(vocab, ids[i]);
		(void) llm_vocab_token_type(vocab, ids[i]);
		(void) llm_vocab_token_text(vocab, ids[i], &len);
	}
	free(ids);
}

/* ---------- vocab mode ---------- */

static void
fuzz_vocab(const uint8_t *data, size_t size)
{
	static const char *const texts[] = {
		"Hello world! 123 it's  \n\n\tcaf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87",
		"<|endoftext|><s></s><unk><|im_start|>x<|im_end|> <ud>",
		"\xFF\x80\xC3 a\0b", ""
	};
	gguf_file  *gf = NULL;
	llm_vocab  *v = NULL;
	llm_error	err;

	if (gguf_parse(data, size, &gf, &err) != LLM_OK)
		return;
	if (llm_vocab_load(gf, &v, &err) != LLM_OK)
	{
		if (v != NULL)
			fail("failed load returned a vocabulary", data, size);
		gguf_close(gf);
		return;
	}
	gguf_close(gf);				/* the vocabulary must not point into the file */

	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
	{
		size_t		len = (t == 2) ? 8 : strlen(texts[t]);

		for (int mode = 0; mode < 4; mode++)
		{
			int32_t    *ids = NULL;
			size_t		n = 0;
			char	   *out = NULL;
			size_t		out_len;

			if (llm_tokenize(v, texts[t], len, mode & 1, mode & 2, &ids, &n, &err) != LLM_OK)
				continue;		/* e.g. an SPM vocabulary with no byte or unknown token */
			for (size_t i = 0; i < n; i++)
				if (ids[i] < 0 || ids[i] >= llm_vocab_n_tokens(v))
					fail("vocab mode: token id out of range", data, size);
			if (llm_detokenize(v, ids, n, mode & 2, &out, &out_len, &err) != LLM_OK)
				fail("vocab mode: detokenize failed", data, size);
			llm_free(out);
			llm_free(ids);
		}
	}
	for (int32_t id = 0; id < llm_vocab_n_tokens(v) && id < 4096; id++)
	{
		char		buf[64];
		size_t		len;
		llm_status	st = llm_token_to_piece(v, id, id & 1, buf, sizeof(buf), &len, &err);

		if (st != LLM_OK && st != LLM_ERR_LIMIT)
			fail("vocab mode: token_to_piece failed", data, size);
		(void) llm_vocab_is_eog(v, id);
	}
	(void) llm_vocab_bos(v);
	(void) llm_vocab_eot(v);
	(void) llm_vocab_pre_name(v);
	llm_vocab_free(v);
}

/* ---------- libFuzzer entry points ---------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *mode = getenv("LLM_FUZZ_TOKENIZER_MODE");
	const char *path = getenv("LLM_FUZZ_VOCAB");
	const char *dump = getenv("LLM_FUZZ_DUMP_SEED");
	gguf_file  *gf = NULL;
	llm_error	err;
	gbuf		b = {0};

	vocab_mode = (mode != NULL && strcmp(mode, "vocab") == 0);
	if (dump != NULL)
	{
		for (int k = 0; k < 2; k++)
		{
			char		fn[4096];
			FILE	   *f;

			snprintf(fn, sizeof(fn), "%s/tiny_builtin_%s.gguf", dump, k ? "spm" : "bpe");
			f = fopen(fn, "wb");
			if (k)
				build_spm_gguf(&b);
			else
				build_vocab_gguf(&b);
			if (f == NULL || fwrite(b.p, 1, b.n, f) != b.n)
				abort();
			fclose(f);
			free(b.p);
			b = (gbuf) {0};
		}
	}
	if (vocab_mode)
		return 0;

	if (path != NULL && strcmp(path, "builtin-spm") == 0)
	{
		build_spm_gguf(&b);
		if (gguf_parse(b.p, b.n, &gf, &err) != LLM_OK)
		{
			fprintf(stderr, "fuzz_tokenizer: built-in SPM vocabulary: %s\n", err.msg);
			abort();
		}
	}
	else if (path != NULL && *path != '\0')
	{
		if (gguf_open(path, &gf, &err) != LLM_OK)
		{
			fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path, err.msg);
			abort();
		}
	}
	else
	{
		build_vocab_gguf(&b);
		if (gguf_parse(b.p, b.n, &gf, &err) != LLM_OK)
		{
			fprintf(stderr, "fuzz_tokenizer: built-in vocabulary: %s\n", err.msg);
			abort();
		}
	}
	if (llm_vocab_load(gf, &vocab, &err) != LLM_OK)
	{
		fprintf(stderr, "fuzz_tokenizer: vocabulary: %s\n", err.msg);
		abort();
	}
	gguf_close(gf);
	free(b.p);				/* the vocabulary keeps no pointer into the file */

	/*
	 * Which bytes have a token (their BPE stand-in, or SPM's <0xXX>): text
	 * made of those only is decoded back exactly (llama.cpp drops a byte
	 * with no token, e.g. 0x04 in SmolLM2's vocabulary).
	 */
	int			n_ok = 0;

	for (int i = 0; i < 256; i++)
	{
		static const char hex[] = "0123456789ABCDEF";
		char		c[6] = {'<', '0', 'x', hex[i >> 4], hex[i & 15], '>'};
		size_t		n = 6;

		if (llm_vocab_get_kind(vocab) == LLM_VOCAB_BPE)
			n = byte_char(i, c);
		byte_ok[i] = llm_vocab_find_token(vocab, c, n) >= 0;
		n_ok += byte_ok[i];
	}
	fprintf(stderr, "fuzz_tokenizer: %d tokens, pre %s, %d bytes with a token\n",
			llm_vocab_n_tokens(vocab), llm_vocab_pre_name(vocab), n_ok);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (vocab_mode)
	{
		fuzz_vocab(data, size);
		return 0;
	}
	check_roundtrip(data, size, false, size & 1);
	check_roundtrip(data, size, true, (size & 2) != 0);
	if (size >= 4)
		check_id_array(data, size);
	return 0;
}
