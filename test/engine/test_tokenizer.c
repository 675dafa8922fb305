/*
 * test_tokenizer.c — the tokenizers against llama.cpp's own test vectors,
 * the SmolLM2 golden corpus, and hostile inputs.
 *
 * Environment:
 *   LLM_TOKENIZER_VECTORS_DIR  directory with llama.cpp's ggml-vocab-*.gguf
 *                              (uncompressed) and their .inp/.out files
 *                              (test/data/tokenizer-vectors has them gzipped)
 *   LLM_TEST_MODEL             the default model (SmolLM2-135M-Instruct)
 *   LLM_TOKENIZER_GOLDEN_DIR   where corpus.json / smollm2_golden.tsv live
 *                              (default ../tokenizer, i.e. test/tokenizer)
 * Parts whose inputs are absent are skipped with a note.
 */
#include "gguf.h"
#include "pretokenize.h"
#include "strmap.h"
#include "tokenizer.h"
#include "unicode.h"

#include "test_util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------- helpers ---------- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t) n;
	return buf;
}

static void
print_ids(FILE *out, const int32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%d", i ? " " : "", ids[i]);
}

static bool
ids_equal(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(int32_t)) == 0);
}

/* Tokenize and return ids (malloc'd by the engine); NULL + *n = SIZE_MAX on error. */
static int32_t *
tok(const llm_vocab *v, const char *text, size_t len, bool add_special, bool parse_special,
	size_t *n)
{
	int32_t    *ids = NULL;
	llm_error	err = {0};

	if (llm_tokenize(v, text, len, add_special, parse_special, &ids, n, &err) != LLM_OK)
	{
		fprintf(stderr, "tokenize failed: %s\n", err.msg);
		*n = SIZE_MAX;
		return NULL;
	}
	return ids;
}

static bool
roundtrips(const llm_vocab *v, const char *text, size_t len, const int32_t *ids, size_t n,
		   bool render_special)
{
	char	   *out = NULL;
	size_t		out_len = 0;
	llm_error	err = {0};
	bool		ok;

	if (llm_detokenize(v, ids, n, render_special, &out, &out_len, &err) != LLM_OK)
		return false;
	ok = out_len == len && memcmp(out, text, len) == 0;
	llm_free(out);
	return ok;
}

static llm_vocab *
load_vocab_file(const char *path, gguf_file **gf_out)
{
	gguf_file  *gf = NULL;
	llm_vocab  *v = NULL;
	llm_error	err = {0};
	double		t0;

	if (gguf_open(path, &gf, &err) != LLM_OK)
	{
		CHECK(false, "gguf_open %s: %s", path, err.msg);
		return NULL;
	}
	t0 = now_ms();
	if (llm_vocab_load(gf, &v, &err) != LLM_OK)
	{
		CHECK(false, "llm_vocab_load %s: %s", path, err.msg);
		gguf_close(gf);
		return NULL;
	}
	printf("  loaded %s: %d tokens, %s, pre=%s in %.2f ms\n", strrchr(path, '/') ? strrchr(path, '/') + 1 : path,
		   llm_vocab_n_tokens(v), llm_vocab_get_kind(v) == LLM_VOCAB_BPE ? "BPE" : "SPM",
		   llm_vocab_pre_name(v), now_ms() - t0);
	if (gf_out)
		*gf_out = gf;
	else
		gguf_close(gf);
	return v;
}

/* ---------- unit checks: Unicode, strmap, byte mapping ---------- */

static void
test_unicode(void)
{
	size_t		used;

	CHECK(llm_unicode_flags('A') == LLM_CPT_LETTER, "A is a letter");
	CHECK(llm_unicode_flags('7') == LLM_CPT_NUMBER, "7 is a number");
	CHECK(llm_unicode_flags(' ') == (LLM_CPT_SEPARATOR | LLM_CPT_WHITESPACE), "space flags %x",
		  llm_unicode_flags(' '));
	CHECK(llm_unicode_flags('\n') == (LLM_CPT_CONTROL | LLM_CPT_WHITESPACE), "newline flags");
	CHECK(llm_unicode_flags(0x1C) == LLM_CPT_CONTROL, "0x1C is not whitespace in llama.cpp");
	CHECK(llm_unicode_flags('~') == LLM_CPT_SYMBOL, "~ is a symbol");
	CHECK(llm_unicode_flags('_') == LLM_CPT_PUNCTUATION, "_ is punctuation");
	CHECK(llm_unicode_flags(0x85) & LLM_CPT_WHITESPACE, "U+0085 is whitespace");
	CHECK(llm_unicode_flags(0xA0) & LLM_CPT_WHITESPACE, "U+00A0 is whitespace");
	CHECK(llm_unicode_flags(0x3000) & LLM_CPT_WHITESPACE, "U+3000 is whitespace");
	CHECK(llm_unicode_flags(0x0301) == LLM_CPT_ACCENT_MARK, "U+0301 is a mark");
	CHECK(llm_unicode_flags(0x00E9) == LLM_CPT_LETTER, "e-acute is a letter");
	CHECK(llm_unicode_flags(0x0663) == LLM_CPT_NUMBER, "Arabic-Indic 3 is a number");
	CHECK(llm_unicode_flags(0x2EBF0) == LLM_CPT_LETTER, "U+2EBF0 (Unicode 15.1) is a letter");
	CHECK(llm_unicode_flags(0x1CC00) == LLM_CPT_UNDEFINED, "U+1CC00 (Unicode 16) is undefined");
	CHECK(llm_unicode_flags(0xD800) == LLM_CPT_CONTROL, "surrogates are Cs");
	CHECK(llm_unicode_flags(0x10FFFF) == LLM_CPT_UNDEFINED, "U+10FFFF undefined");
	CHECK(llm_unicode_flags(0x110000) == LLM_CPT_UNDEFINED, "beyond Unicode undefined");
	CHECK(llm_unicode_flags(0xFFFFFFFF) == LLM_CPT_UNDEFINED, "huge undefined");
	CHECK(llm_unicode_tolower('S') == 's' && llm_unicode_tolower('s') == 's', "tolower ascii");
	CHECK(llm_unicode_tolower(0x130) == 'i', "tolower U+0130");
	CHECK(llm_unicode_tolower(0x391) == 0x3B1, "tolower Greek Alpha");

	/* llama.cpp's decoder */
	CHECK(llm_utf8_decode((const uint8_t *) "\xC3\xA9", 2, &used) == 0xE9 && used == 2, "2-byte");
	CHECK(llm_utf8_decode((const uint8_t *) "\xC3", 1, &used) == 0xFFFD && used == 1, "truncated");
	CHECK(llm_utf8_decode((const uint8_t *) "\x80", 1, &used) == 0xFFFD && used == 1, "continuation");
	CHECK(llm_utf8_decode((const uint8_t *) "\xC0\x80", 2, &used) == 0 && used == 2, "overlong NUL decodes");
	CHECK(llm_utf8_decode((const uint8_t *) "\xED\xA0\x80", 3, &used) == 0xD800 && used == 3, "surrogate");
	CHECK(llm_utf8_decode((const uint8_t *) "\xF0\x9F\x98\x80", 4, &used) == 0x1F600 && used == 4, "emoji");
	CHECK(llm_utf8_decode((const uint8_t *) "\xF7\xBF\xBF\xBF", 4, &used) == 0xFFFD && used == 1, "> U+10FFFF");
	CHECK(llm_utf8_decode((const uint8_t *) "\xFF", 1, &used) == 0xFFFD && used == 1, "FF");
	CHECK(llm_utf8_decode((const uint8_t *) "\xE2\x82", 2, &used) == 0xFFFD && used == 1, "short 3-byte");

	/* GPT-2 byte mapping: a bijection onto 256 code points */
	{
		bool		ok = true;

		for (int b = 0; b < 256; b++)
			ok &= llm_cpt_to_byte(llm_byte_to_cpt((uint8_t) b)) == b;
		CHECK(ok, "bytes_to_unicode round trip");
		CHECK(llm_byte_to_cpt(' ') == 0x120, "space -> U+0120 (G-dot)");
		CHECK(llm_byte_to_cpt('\n') == 0x10A, "newline -> U+010A");
		CHECK(llm_byte_to_cpt(0xAD) == 0x143, "0xAD -> U+0143");
		CHECK(llm_byte_to_cpt('a') == 'a', "a -> a");
		CHECK(llm_cpt_to_byte(0x144) == -1 && llm_cpt_to_byte(0x20) == -1, "non-images");
	}
}

static void
test_strmap(void)
{
	llm_strmap	m;
	llm_error	err = {0};
	char		keys[2000][8];
	bool		ok = true;

	CHECK(llm_strmap_init(&m, 4, &err) == LLM_OK, "strmap init");
	for (int i = 0; i < 2000; i++)
	{
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		ok &= llm_strmap_put(&m, keys[i], strlen(keys[i]), i, false, &err) == LLM_OK;
	}
	CHECK(ok, "2000 puts with growth");
	ok = true;
	for (int i = 0; i < 2000; i++)
		ok &= llm_strmap_get(&m, keys[i], strlen(keys[i])) == i;
	CHECK(ok, "2000 gets");
	CHECK(llm_strmap_get(&m, "k2000", 5) == -1, "absent key");
	CHECK(llm_strmap_put(&m, "k5", 2, 99, false, &err) == LLM_OK && llm_strmap_get(&m, "k5", 2) == 5,
		  "no overwrite keeps first");
	CHECK(llm_strmap_put(&m, "k5", 2, 99, true, &err) == LLM_OK && llm_strmap_get(&m, "k5", 2) == 99,
		  "overwrite replaces");
	CHECK(llm_strmap_put(&m, "", 0, 7, false, &err) == LLM_OK && llm_strmap_get(&m, "", 0) == 7,
		  "empty key");
	CHECK(llm_strmap_put(&m, "a\0b", 3, 8, false, &err) == LLM_OK && llm_strmap_get(&m, "a\0b", 3) == 8 &&
		  llm_strmap_get(&m, "a", 1) == -1, "key with NUL");
	CHECK(m.count == 2002, "count %zu", m.count);
	llm_strmap_free(&m);
	CHECK(llm_strmap_get(&m, "k1", 2) == -1, "get on freed map");
}

/* Pre-tokenizer splits of a UTF-8 string, as "|"-joined words. */
static char *
split_words(llm_pretok type, const char *s)
{
	size_t		len = strlen(s);
	uint32_t	cpts[512];
	uint16_t	flags[512];
	size_t		n = 0;
	size_t	   *lens = NULL;
	size_t		nw = 0;
	llm_error	err = {0};
	static char out[4096];
	size_t		o = 0;
	size_t		bytepos = 0;
	size_t		offs[513];

	for (size_t off = 0; off < len && n < 512;)
	{
		size_t		used;

		offs[n] = off;
		cpts[n] = llm_utf8_decode((const uint8_t *) s + off, len - off, &used);
		flags[n] = llm_unicode_flags(cpts[n]);
		n++;
		off += used;
	}
	offs[n] = len;
	if (llm_pretokenize(type, cpts, flags, n, &lens, &nw, &err) != LLM_OK)
		return NULL;
	{
		size_t		c = 0;

		for (size_t i = 0; i < nw; i++)
		{
			size_t		b0 = offs[c];
			size_t		b1 = offs[c + lens[i]];

			if (i)
				out[o++] = '|';
			memcpy(out + o, s + b0, b1 - b0);
			o += b1 - b0;
			c += lens[i];
			bytepos = b1;
		}
	}
	(void) bytepos;
	out[o] = '\0';
	llm_free(lens);
	return out;
}

static void
check_split(llm_pretok type, const char *in, const char *want)
{
	const char *got = split_words(type, in);

	CHECK(got != NULL && strcmp(got, want) == 0, "split(%d, \"%s\") = \"%s\", want \"%s\"",
		  (int) type, in, got ? got : "(error)", want);
}

static void
test_pretokenize(void)
{
	llm_pretok_info info;

	CHECK(llm_pretok_lookup("smollm", 6, &info) && info.type == LLM_PRETOK_STARCODER, "smollm");
	CHECK(llm_pretok_lookup("llama-bpe", 9, &info) && info.type == LLM_PRETOK_LLAMA3 &&
		  info.ignore_merges && info.add_bos, "llama-bpe");
	CHECK(llm_pretok_lookup("qwen2", 5, &info) && info.type == LLM_PRETOK_QWEN2, "qwen2");
	CHECK(llm_pretok_lookup(NULL, 0, &info) && info.type == LLM_PRETOK_DEFAULT, "absent");
	CHECK(!llm_pretok_lookup("tekken", 6, &info), "tekken unsupported");
	CHECK(!llm_pretok_lookup("smollm2", 7, &info), "no prefix matching");

	check_split(LLM_PRETOK_GPT2, "Hello world", "Hello| world");
	check_split(LLM_PRETOK_GPT2, "I'm don't  you're", "I|'m| don|'t| | you|'re");
	check_split(LLM_PRETOK_GPT2, "a   b", "a|  | b");
	check_split(LLM_PRETOK_GPT2, "a   ", "a|   ");
	check_split(LLM_PRETOK_GPT2, "x 123!!", "x| 123|!!");
	check_split(LLM_PRETOK_GPT2, "\n\nab", "\n|\n|ab");
	/* digits split first: the whitespace before a digit ends its piece */
	check_split(LLM_PRETOK_STARCODER, "a   1", "a|   |1");
	check_split(LLM_PRETOK_STARCODER, "x 123", "x| |1|2|3");
	check_split(LLM_PRETOK_LLAMA3, "12345 I'M", "123|45| I|'M");
	check_split(LLM_PRETOK_LLAMA3, "a\n\n  b", "a|\n\n| | b");
	check_split(LLM_PRETOK_LLAMA3, "$$\n\nx", "$$\n\n|x");
	check_split(LLM_PRETOK_QWEN2, "12345 I'M", "1|2|3|4|5| I|'M");
	check_split(LLM_PRETOK_QWEN2, "a\n\n  b", "a|\n\n| | b");
	check_split(LLM_PRETOK_QWEN2, "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87!", "caf\xC3\xA9| \xE4\xB8\xAD\xE6\x96\x87|!");
	check_split(LLM_PRETOK_DEFAULT, "a+b=1234", "a|+|b|=|123|4");
	check_split(LLM_PRETOK_DEEPSEEK_CODER, "ab\ncd 12", "ab|\n|cd| |1|2");
	check_split(LLM_PRETOK_DEEPSEEK_LLM, "Hi there  ", "Hi| there|  ");
}

/* ---------- llama.cpp's vectors ---------- */

/*
 * Texts whose ids legitimately do not decode back to the same bytes.
 * None are known for these five vocabularies: every .inp text is valid
 * UTF-8 and the byte-level/byte-fallback tokenizers are lossless on it.
 */
static void
test_vector_file(const char *dir, const char *name)
{
	char		path[4096];
	char	   *inp;
	char	   *outs;
	size_t		inp_len,
				out_len;
	llm_vocab  *v;
	const char *sep = "\n__ggml_vocab_test__\n";
	size_t		seplen = strlen(sep);
	size_t		pos = 0;
	char	   *line;
	char	   *save = NULL;
	int			total = 0,
				matched = 0,
				rt_ok = 0;

	snprintf(path, sizeof(path), "%s/%s.gguf", dir, name);
	v = load_vocab_file(path, NULL);
	if (v == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s.gguf.inp", dir, name);
	inp = read_file(path, &inp_len);
	snprintf(path, sizeof(path), "%s/%s.gguf.out", dir, name);
	outs = read_file(path, &out_len);
	CHECK(inp != NULL && outs != NULL, "%s: .inp/.out readable", name);
	if (inp == NULL || outs == NULL)
	{
		free(inp);
		free(outs);
		llm_vocab_free(v);
		return;
	}

	/* .out: one line per text (lines may be empty: no strtok) */
	line = outs;
	while (pos < inp_len)
	{
		const char *next = strstr(inp + pos, sep);
		size_t		tlen = next ? (size_t) (next - (inp + pos)) : inp_len - pos;
		char	   *eol;
		int32_t		want[1024];
		size_t		nwant = 0;
		int32_t    *got;
		size_t		ngot;

		if (line == NULL || *line == '\0')
		{
			CHECK(false, "%s: .out has fewer lines than .inp has texts", name);
			break;
		}
		eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		for (char *p = line; *p;)
		{
			char	   *endp;
			long		id = strtol(p, &endp, 10);

			if (endp == p)
			{
				p++;
				continue;
			}
			if (nwant < 1024)
				want[nwant++] = (int32_t) id;
			p = endp;
		}
		line = eol ? eol + 1 : NULL;

		got = tok(v, inp + pos, tlen, false, false, &ngot);
		total++;
		if (ngot != SIZE_MAX && ids_equal(got, ngot, want, nwant))
			matched++;
		else
		{
			fprintf(stderr, "  %s: MISMATCH for \"%.*s\"\n    want: ", name, (int) tlen, inp + pos);
			print_ids(stderr, want, nwant);
			fprintf(stderr, "\n    got:  ");
			if (got)
				print_ids(stderr, got, ngot);
			fprintf(stderr, "\n");
		}
		if (ngot != SIZE_MAX && roundtrips(v, inp + pos, tlen, got, ngot, false))
			rt_ok++;
		else
			fprintf(stderr, "  %s: no round trip for \"%.*s\"\n", name, (int) tlen, inp + pos);
		llm_free(got);
		pos += tlen + (next ? seplen : 0);
		(void) save;
	}
	printf("  %s: %d/%d matched, %d/%d round-trip\n", name, matched, total, rt_ok, total);
	CHECK(total > 0 && matched == total, "%s: %d/%d matched", name, matched, total);
	CHECK(rt_ok == total, "%s: %d/%d round-trip", name, rt_ok, total);

	free(inp);
	free(outs);
	llm_vocab_free(v);
}

static void
test_vectors(void)
{
	static const char *const names[] = {
		"ggml-vocab-llama-spm", "ggml-vocab-phi-3", "ggml-vocab-gpt-2",
		"ggml-vocab-starcoder", "ggml-vocab-deepseek-coder"
	};
	const char *dir = getenv("LLM_TOKENIZER_VECTORS_DIR");

	if (dir == NULL || *dir == '\0')
	{
		printf("  SKIP llama.cpp vectors: LLM_TOKENIZER_VECTORS_DIR not set\n");
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		test_vector_file(dir, names[i]);
}

/* ---------- SPM specifics on the llama-spm vocabulary ---------- */

static void
test_spm_specifics(void)
{
	const char *dir = getenv("LLM_TOKENIZER_VECTORS_DIR");
	char		path[4096];
	llm_vocab  *v;
	int32_t    *ids;
	size_t		n;
	char	   *s = NULL;
	size_t		slen;
	llm_error	err = {0};

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/ggml-vocab-llama-spm.gguf", dir);
	v = load_vocab_file(path, NULL);
	if (v == NULL)
		return;

	CHECK(llm_vocab_bos(v) == 1 && llm_vocab_eos(v) == 2 && llm_vocab_unk(v) == 0, "SPM special ids");
	CHECK(llm_vocab_add_bos(v) && !llm_vocab_add_eos(v), "SPM add_bos default");
	CHECK(llm_vocab_is_eog(v, 2) && !llm_vocab_is_eog(v, 1), "eos is eog");

	/* add_special: BOS first */
	ids = tok(v, "Hello", 5, true, false, &n);
	CHECK(ids && n >= 2 && ids[0] == 1, "BOS added");
	CHECK(ids && roundtrips(v, "Hello", 5, ids, n, false), "BOS + text round-trips to the text");
	llm_free(ids);

	/* parse_special: "<s>" becomes BOS and the text after it gets a space prefix */
	ids = tok(v, "<s>Hi", 5, false, true, &n);
	CHECK(ids && n >= 2 && ids[0] == 1, "<s> parsed as BOS");
	CHECK(ids && roundtrips(v, "<s>Hi", 5, ids, n, true), "<s>Hi round-trips with render_special");
	llm_free(ids);
	ids = tok(v, "<s>Hi", 5, false, false, &n);
	CHECK(ids && n >= 2 && ids[0] != 1, "<s> is text without parse_special");
	llm_free(ids);

	/* byte fallback for a character not in the vocabulary */
	ids = tok(v, "\xF0\x9F\xA6\x99", 4, false, false, &n);
	CHECK(ids && n >= 4, "emoji falls back to bytes (%zu ids)", n);
	CHECK(ids && roundtrips(v, "\xF0\x9F\xA6\x99", 4, ids, n, false), "emoji bytes round trip");
	llm_free(ids);

	/* invalid UTF-8 also round-trips in SPM (byte fallback is lossless) */
	ids = tok(v, "a\xFF\x80" "b\xC3", 5, false, false, &n);
	CHECK(ids && roundtrips(v, "a\xFF\x80" "b\xC3", 5, ids, n, false), "SPM invalid UTF-8 round trip");
	llm_free(ids);

	/*
	 * ...except where a truncated sequence swallows the next space's U+2581
	 * (symbols are cut by lead byte alone): llama.cpp gives the same ids
	 */
	ids = tok(v, "\xF0 x", 3, false, false, &n);
	CHECK(ids && llm_detokenize(v, ids, n, false, &s, &slen, &err) == LLM_OK &&
		  slen == 5 && memcmp(s, "\xF0\xE2\x96\x81x", 5) == 0, "SPM truncated lead + space quirk");
	llm_free(ids);
	llm_free(s);

	/* the byte token decodes to its byte */
	{
		char		buf[8];
		size_t		len;
		int32_t		nl = llm_vocab_find_token(v, "<0x0A>", 6);

		CHECK(nl >= 0 && llm_token_to_piece(v, nl, false, buf, sizeof(buf), &len, &err) == LLM_OK &&
			  len == 1 && buf[0] == '\n', "<0x0A> -> newline");
		CHECK(llm_token_to_piece(v, 1, false, buf, sizeof(buf), &len, &err) == LLM_OK && len == 0,
			  "BOS renders nothing without render_special");
		CHECK(llm_token_to_piece(v, 1, true, buf, sizeof(buf), &len, &err) == LLM_OK && len == 3 &&
			  memcmp(buf, "<s>", 3) == 0, "BOS renders <s> with render_special");
		CHECK(llm_token_to_piece(v, 1, true, buf, 2, &len, &err) == LLM_ERR_LIMIT && len == 3,
			  "small buffer -> LIMIT with needed length");
		CHECK(llm_token_to_piece(v, -1, true, buf, sizeof(buf), &len, &err) == LLM_ERR_INVALID_ARG,
			  "bad id");
	}

	{
		int32_t		bad[2] = {5, 40000};

		CHECK(llm_detokenize(v, bad, 2, false, &s, &slen, &err) == LLM_ERR_INVALID_ARG &&
			  strstr(err.msg, "40000") != NULL, "out-of-range id named: %s", err.msg);
	}
	llm_vocab_free(v);
}

/* ---------- SmolLM2 ---------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
test_smollm_golden(const llm_vocab *v)
{
	const char *dir = getenv("LLM_TOKENIZER_GOLDEN_DIR");
	char		path[4096];
	char	   *tsv;
	size_t		tsv_len;
	int			total = 0,
				matched = 0,
				rt = 0;
	char	   *line;

	snprintf(path, sizeof(path), "%s/smollm2_golden.tsv", dir && *dir ? dir : "../tokenizer");
	tsv = read_file(path, &tsv_len);
	if (tsv == NULL)
	{
		printf("  SKIP SmolLM2 golden corpus: %s not found\n", path);
		return;
	}
	line = tsv;
	while (line && *line)
	{
		char	   *eol = strchr(line, '\n');
		char	   *tab;
		char	   *text;
		size_t		tlen = 0;
		int32_t    *want;
		size_t		nwant = 0;
		int32_t    *got;
		size_t		ngot;

		if (eol)
			*eol = '\0';
		tab = strchr(line, '\t');
		if (tab == NULL || line[0] == '#')
		{
			line = eol ? eol + 1 : NULL;
			continue;
		}
		*tab = '\0';
		text = malloc(strlen(line) / 2 + 1);
		want = malloc(sizeof(int32_t) * (strlen(tab + 1) / 2 + 2));
		for (char *p = line; p[0] && p[1]; p += 2)
			text[tlen++] = (char) (hexval(p[0]) * 16 + hexval(p[1]));
		for (char *p = tab + 1; *p;)
		{
			char	   *endp;
			long		id = strtol(p, &endp, 10);

			if (endp == p)
			{
				p++;
				continue;
			}
			want[nwant++] = (int32_t) id;
			p = endp;
		}
		got = tok(v, text, tlen, false, false, &ngot);
		total++;
		if (ngot != SIZE_MAX && ids_equal(got, ngot, want, nwant))
			matched++;
		else if (total - matched <= 20)
		{
			fprintf(stderr, "  smollm2 golden MISMATCH for \"%.*s\"\n    want: ", (int) (tlen > 200 ? 200 : tlen), text);
			print_ids(stderr, want, nwant);
			fprintf(stderr, "\n    got:  ");
			if (got)
				print_ids(stderr, got, ngot);
			fprintf(stderr, "\n");
		}
		if (ngot != SIZE_MAX && roundtrips(v, text, tlen, got, ngot, false))
			rt++;
		else if (total - rt <= 20)
			fprintf(stderr, "  smollm2 golden: no round trip for \"%.*s\"\n", (int) (tlen > 200 ? 200 : tlen), text);
		llm_free(got);
		free(text);
		free(want);
		line = eol ? eol + 1 : NULL;
	}
	printf("  smollm2 golden: %d/%d matched, %d/%d round-trip\n", matched, total, rt, total);
	CHECK(total > 0 && matched == total, "smollm2 golden %d/%d", matched, total);
	CHECK(rt == total, "smollm2 golden round trip %d/%d", rt, total);
	free(tsv);
}

static void
check_ids(const llm_vocab *v, const char *text, const int32_t *want, size_t nwant)
{
	size_t		n;
	int32_t    *got = tok(v, text, strlen(text), false, false, &n);

	CHECK(got && ids_equal(got, n, want, nwant), "ids for \"%s\"", text);
	if (!(got && ids_equal(got, n, want, nwant)))
	{
		fprintf(stderr, "    want: ");
		print_ids(stderr, want, nwant);
		fprintf(stderr, "\n    got:  ");
		if (got)
			print_ids(stderr, got, n);
		fprintf(stderr, "\n");
	}
	CHECK(got && roundtrips(v, text, strlen(text), got, n, false), "round trip \"%s\"", text);
	llm_free(got);
}

static void test_hostile_inputs(const llm_vocab *v, const char *label);

static void
test_smollm(void)
{
	const char *path = getenv("LLM_TEST_MODEL");
	gguf_file  *gf = NULL;
	llm_vocab  *v;

	if (path == NULL || *path == '\0')
	{
		printf("  SKIP SmolLM2: LLM_TEST_MODEL not set\n");
		return;
	}
	v = load_vocab_file(path, &gf);
	if (v == NULL)
		return;

	/* vocab load is on the time-to-first-result path */
	{
		double		t0 = now_ms();
		llm_vocab  *v2 = NULL;
		llm_error	err = {0};

		for (int i = 0; i < 10; i++)
		{
			CHECK(llm_vocab_load(gf, &v2, &err) == LLM_OK, "reload");
			llm_vocab_free(v2);
		}
		printf("  SmolLM2 vocab load: %.2f ms average\n", (now_ms() - t0) / 10);
		/* generous: catches a pathological load, not a slow or sanitized build */
		CHECK((now_ms() - t0) / 10 < 500.0, "vocab load under 500 ms");
	}
	gguf_close(gf);

	CHECK(strcmp(llm_vocab_pre_name(v), "smollm") == 0, "pre smollm");
	CHECK(llm_vocab_n_tokens(v) == 49152, "49152 tokens");
	CHECK(llm_vocab_bos(v) == 1 && llm_vocab_eos(v) == 2, "bos 1 eos 2");
	CHECK(!llm_vocab_add_bos(v) && !llm_vocab_add_eos(v), "SmolLM2 adds no BOS/EOS");
	/* as llama.cpp: eos, <|im_end|>, <|endoftext|>, and <reponame> (a FIM token) */
	CHECK(llm_vocab_is_eog(v, 2) && llm_vocab_is_eog(v, 0) && llm_vocab_is_eog(v, 4) &&
		  !llm_vocab_is_eog(v, 1) && !llm_vocab_is_eog(v, 3) && !llm_vocab_is_eog(v, 100), "eog set");
	CHECK(llm_vocab_eot(v) == 2, "eot is <|im_end|> (%d)", llm_vocab_eot(v));
	CHECK(llm_vocab_token_type(v, 1) == LLM_TOKEN_CONTROL, "<|im_start|> is control");

	/* engine-facts.md section 4 (re-checked against llama-cpp-python) */
	{
		static const int32_t a[] = {19556, 28, 392, 416, 722};
		static const int32_t b[] = {19556, 905, 17, 216, 33, 34, 35};
		static const int32_t c[] = {198};
		static const int32_t d[] = {216, 2701, 256, 5600};
		static const int32_t e[] = {51, 1939, 2756, 32564, 90, 16739, 386, 101, 30};

		check_ids(v, "Hello, we can use", a, 5);
		check_ids(v, "Hello world! 123", b, 7);
		check_ids(v, "\n", c, 1);
		check_ids(v, "  multiple   spaces", d, 4);
		check_ids(v, "Caf\xC3\xA9 d\xC3\xA9j\xC3\xA0 vu.", e, 9);
	}

	/* chat markup with special parsing */
	{
		const char *chat = "<|im_start|>user\nHi<|im_end|>\n";
		size_t		n;
		int32_t    *ids = tok(v, chat, strlen(chat), false, true, &n);

		CHECK(ids && n >= 4 && ids[0] == 1 && ids[n - 2] == 2, "chat specials parsed");
		CHECK(ids && roundtrips(v, chat, strlen(chat), ids, n, true), "chat round trip (render_special)");
		llm_free(ids);
		ids = tok(v, chat, strlen(chat), false, false, &n);
		CHECK(ids && n > 6 && ids[0] != 1, "chat specials as text without parse_special");
		CHECK(ids && roundtrips(v, chat, strlen(chat), ids, n, false), "chat text round trip");
		llm_free(ids);
	}

	test_smollm_golden(v);
	test_hostile_inputs(v, "smollm2");
	llm_vocab_free(v);
}

/* ---------- hostile inputs ---------- */

static void
test_hostile_inputs(const llm_vocab *v, const char *label)
{
	size_t		big = 1 << 20;
	char	   *s = malloc(big);
	int32_t    *ids;
	size_t		n;
	double		t0;
	char	   *out;
	size_t		out_len;
	llm_error	err = {0};

	/* invalid UTF-8: tokenizes; BPE replaces bad bytes with U+FFFD as llama.cpp */
	{
		static const char *const bad[] = {
			"\x80", "\xC3", "\xC3(", "\xE2\x82", "\xF0\x9F\x98", "\xFF\xFE", "a\xC0\x80z",
			"\xED\xA0\x80", "\xF7\xBF\xBF\xBF", "\x80\x80\x80 abc \xBF"
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			ids = tok(v, bad[i], strlen(bad[i]), false, false, &n);
			CHECK(ids != NULL || n == 0, "%s: invalid UTF-8 #%zu tokenizes", label, i);
			if (ids)
			{
				CHECK(llm_detokenize(v, ids, n, true, &out, &out_len, &err) == LLM_OK,
					  "%s: detokenize invalid #%zu", label, i);
				llm_free(out);
			}
			llm_free(ids);
		}
	}

	/* NUL bytes are ordinary bytes */
	ids = tok(v, "a\0b\0\0c", 6, false, false, &n);
	CHECK(ids && n >= 3 && roundtrips(v, "a\0b\0\0c", 6, ids, n, false), "%s: NUL bytes round trip", label);
	llm_free(ids);

	/* empty text */
	ids = tok(v, "", 0, false, false, &n);
	CHECK(n == 0, "%s: empty text gives no tokens", label);
	llm_free(ids);
	ids = tok(v, NULL, 0, true, true, &n);
	CHECK(n == (llm_vocab_add_bos(v) ? 1u : 0u) + (llm_vocab_add_eos(v) ? 1u : 0u), "%s: NULL empty text", label);
	llm_free(ids);

	/* 1 MB of mixed text */
	for (size_t i = 0; i < big; i++)
	{
		static const char mix[] = "The quick brown fox, 12345 jumps!\n\t  caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 it's ";

		s[i] = mix[i % (sizeof(mix) - 1)];
	}
	t0 = now_ms();
	ids = tok(v, s, big, false, false, &n);
	printf("  %s: 1 MB mixed text -> %zu tokens in %.0f ms\n", label, n, now_ms() - t0);
	CHECK(ids && n > 1000, "%s: 1 MB tokenizes", label);
	/* limits catch quadratic behaviour (minutes), not slow machines or sanitizers */
	CHECK(now_ms() - t0 < 20000, "%s: 1 MB in reasonable time", label);
	/* the cut in the middle of a UTF-8 char at the end is allowed to differ */
	llm_free(ids);

	/* 1 MB of one letter: a single huge word for BPE */
	memset(s, 'a', big);
	t0 = now_ms();
	ids = tok(v, s, big, false, false, &n);
	printf("  %s: 1 MB of 'a' -> %zu tokens in %.0f ms\n", label, n, now_ms() - t0);
	CHECK(ids && n > 0 && roundtrips(v, s, big, ids, n, false), "%s: 1 MB of a round-trips", label);
	CHECK(now_ms() - t0 < 20000, "%s: 1 MB word in reasonable time", label);
	llm_free(ids);

	/* 100k spaces, 100k digits, 100k newlines */
	{
		static const char fill[] = {' ', '7', '\n', '!'};

		for (size_t k = 0; k < sizeof(fill); k++)
		{
			memset(s, fill[k], 100000);
			t0 = now_ms();
			ids = tok(v, s, 100000, false, false, &n);
			CHECK(ids && n > 0 && roundtrips(v, s, 100000, ids, n, false),
				  "%s: 100k of 0x%02x round-trips", label, fill[k]);
			CHECK(now_ms() - t0 < 10000, "%s: 100k of 0x%02x in %.0f ms", label, fill[k], now_ms() - t0);
			llm_free(ids);
		}
	}

	/* every byte value, with special parsing on */
	for (int i = 0; i < 256; i++)
		s[i] = (char) i;
	ids = tok(v, s, 256, true, true, &n);
	CHECK(ids != NULL, "%s: all byte values tokenize", label);
	llm_free(ids);

	free(s);
}

/* ---------- hostile vocabularies (built in memory) ---------- */

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
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
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
gstr(gbuf *b, const char *s)
{
	gu64(b, strlen(s));
	gput(b, s, strlen(s));
}

static void
gkey_str(gbuf *b, const char *k, const char *v)
{
	gstr(b, k);
	gu32(b, GGUF_TYPE_STRING);
	gstr(b, v);
}

static void
gkey_u32(gbuf *b, const char *k, uint32_t v)
{
	gstr(b, k);
	gu32(b, GGUF_TYPE_UINT32);
	gu32(b, v);
}

static void
gkey_strs(gbuf *b, const char *k, const char *const *v, size_t n)
{
	gstr(b, k);
	gu32(b, GGUF_TYPE_ARRAY);
	gu32(b, GGUF_TYPE_STRING);
	gu64(b, n);
	for (size_t i = 0; i < n; i++)
		gstr(b, v[i]);
}

static void
gkey_i32s(gbuf *b, const char *k, const int32_t *v, size_t n)
{
	gstr(b, k);
	gu32(b, GGUF_TYPE_ARRAY);
	gu32(b, GGUF_TYPE_INT32);
	gu64(b, n);
	gput(b, v, n * 4);
}

static void
gkey_f32s(gbuf *b, const char *k, const float *v, size_t n)
{
	gstr(b, k);
	gu32(b, GGUF_TYPE_ARRAY);
	gu32(b, GGUF_TYPE_FLOAT32);
	gu64(b, n);
	gput(b, v, n * 4);
}

static void
gheader(gbuf *b, uint64_t n_kv)
{
	gput(b, "GGUF", 4);
	gu32(b, 3);
	gu64(b, 0);
	gu64(b, n_kv);
}

static llm_status
load_from(gbuf *b, llm_vocab **v, llm_error *err)
{
	gguf_file  *gf = NULL;
	llm_status	st = gguf_parse(b->p, b->n, &gf, err);

	*v = NULL;
	if (st != LLM_OK)
	{
		fprintf(stderr, "gguf_parse of built vocab failed: %s\n", err->msg);
		return st;
	}
	st = llm_vocab_load(gf, v, err);
	gguf_close(gf);
	return st;
}

static void
test_hostile_vocab(void)
{
	/* a tiny BPE vocabulary with nonsense in it */
	static const char *const toks[] = {
		"a", "b", "ab", "", "ab", "<|im_end|>", "\xC4\xA0", "\xC4\xA0\x61", "c", "<ctl>", "x y"
	};
	static const char *const merges[] = {
		"a b", "zz qq", "", "nospace", "\xC4\xA0 a", "a b", " lead", "a  b", "ab c", "x y z"
	};
	int32_t		types[] = {1, 1, 1, 1, 1, 1, 1, 1, 4};	/* shorter than toks */
	gbuf		b = {0};
	llm_vocab  *v = NULL;
	llm_error	err = {0};
	int32_t    *ids;
	size_t		n;

	gheader(&b, 7);
	gkey_str(&b, "tokenizer.ggml.model", "gpt2");
	gkey_str(&b, "tokenizer.ggml.pre", "gpt-2");
	gkey_strs(&b, "tokenizer.ggml.tokens", toks, 11);
	gkey_strs(&b, "tokenizer.ggml.merges", merges, 10);
	gkey_i32s(&b, "tokenizer.ggml.token_type", types, 9);
	gkey_u32(&b, "tokenizer.ggml.bos_token_id", 99999);	/* out of range: ignored */
	gkey_u32(&b, "tokenizer.ggml.eos_token_id", 5);
	CHECK(load_from(&b, &v, &err) == LLM_OK, "hostile BPE vocab loads: %s", err.msg);
	if (v)
	{
		size_t		len;

		CHECK(llm_vocab_bos(v) == -1, "default BPE bos 11 is out of range -> none (%d)", llm_vocab_bos(v));
		CHECK(llm_vocab_eos(v) == 5 && llm_vocab_is_eog(v, 5), "eos 5");
		CHECK(strcmp(llm_vocab_token_text(v, 3, &len), "[EMPTY_3]") == 0, "empty token renamed");
		CHECK(llm_vocab_find_token(v, "ab", 2) == 4, "duplicate text maps to its last id");
		CHECK(llm_vocab_token_type(v, 8) == LLM_TOKEN_USER_DEFINED, "type read");
		CHECK(llm_vocab_token_type(v, 10) == LLM_TOKEN_NORMAL, "missing type -> normal");
		CHECK(llm_vocab_token_type(v, 5) == LLM_TOKEN_CONTROL, "<|im_end|> forced to control");

		ids = tok(v, "ab", 2, false, false, &n);
		CHECK(ids && n == 1 && ids[0] == 4, "merge a+b -> ab (id 4)");
		llm_free(ids);
		ids = tok(v, " a", 2, false, false, &n);
		CHECK(ids && n == 1 && ids[0] == 7, "G-dot a merged");
		llm_free(ids);
		/* 'c' is user-defined: split out before BPE even without parse_special */
		ids = tok(v, "abcab", 5, false, false, &n);
		CHECK(ids && n == 3 && ids[0] == 4 && ids[1] == 8 && ids[2] == 4, "user-defined split");
		llm_free(ids);
		/* characters with no token are dropped, as llama.cpp does */
		ids = tok(v, "zq\n", 3, true, true, &n);
		CHECK(n == 0, "unknown chars dropped (%zu)", n);
		llm_free(ids);
		ids = tok(v, "<|im_end|>", 10, false, true, &n);
		CHECK(ids && n == 1 && ids[0] == 5, "control parsed");
		llm_free(ids);
		llm_vocab_free(v);
	}
	free(b.p);

	/* missing merges for BPE: corrupt */
	memset(&b, 0, sizeof(b));
	gheader(&b, 2);
	gkey_str(&b, "tokenizer.ggml.model", "gpt2");
	gkey_strs(&b, "tokenizer.ggml.tokens", toks, 3);
	CHECK(load_from(&b, &v, &err) == LLM_ERR_CORRUPT && v == NULL, "BPE without merges: %s", err.msg);
	free(b.p);

	/* unknown pre-tokenizer: unsupported, named */
	memset(&b, 0, sizeof(b));
	gheader(&b, 4);
	gkey_str(&b, "tokenizer.ggml.model", "gpt2");
	gkey_str(&b, "tokenizer.ggml.pre", "martian-bpe");
	gkey_strs(&b, "tokenizer.ggml.tokens", toks, 3);
	gkey_strs(&b, "tokenizer.ggml.merges", merges, 1);
	CHECK(load_from(&b, &v, &err) == LLM_ERR_UNSUPPORTED && strstr(err.msg, "martian-bpe"),
		  "unknown pre named: %s", err.msg);
	free(b.p);

	/* unknown tokenizer model */
	memset(&b, 0, sizeof(b));
	gheader(&b, 2);
	gkey_str(&b, "tokenizer.ggml.model", "bert");
	gkey_strs(&b, "tokenizer.ggml.tokens", toks, 3);
	CHECK(load_from(&b, &v, &err) == LLM_ERR_UNSUPPORTED && strstr(err.msg, "bert"), "bert: %s", err.msg);
	free(b.p);

	/* no tokenizer at all */
	memset(&b, 0, sizeof(b));
	gheader(&b, 1);
	gkey_str(&b, "general.name", "x");
	CHECK(load_from(&b, &v, &err) == LLM_ERR_UNSUPPORTED, "no tokenizer: %s", err.msg);
	free(b.p);

	/* tokens of the wrong type */
	memset(&b, 0, sizeof(b));
	gheader(&b, 2);
	gkey_str(&b, "tokenizer.ggml.model", "llama");
	gkey_i32s(&b, "tokenizer.ggml.tokens", types, 3);
	CHECK(load_from(&b, &v, &err) == LLM_ERR_CORRUPT, "int tokens: %s", err.msg);
	free(b.p);

	/* SPM without byte tokens, NaN scores, short scores: falls back to unk */
	{
		static const char *const stoks[] = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "h", "i", "\xE2\x96\x81h"};
		float		scores[] = {0, 0, 0, -1, -2, -3, 0.0f / 0.0f};	/* NaN for the last */
		int32_t		stypes[] = {2, 3, 3, 1, 1, 1, 1};

		memset(&b, 0, sizeof(b));
		gheader(&b, 4);
		gkey_str(&b, "tokenizer.ggml.model", "llama");
		gkey_strs(&b, "tokenizer.ggml.tokens", stoks, 7);
		gkey_f32s(&b, "tokenizer.ggml.scores", scores, 5);
		gkey_i32s(&b, "tokenizer.ggml.token_type", stypes, 7);
		CHECK(load_from(&b, &v, &err) == LLM_OK, "tiny SPM loads: %s", err.msg);
		if (v)
		{
			ids = tok(v, "hiz", 3, true, false, &n);
			CHECK(ids && n == 4 && ids[0] == 1 && ids[1] == 6 && ids[2] == 5 && ids[3] == 0,
				  "SPM: bos, \xE2\x96\x81h, i, unk (z: no byte token)");
			llm_free(ids);
			ids = tok(v, "<unk><s>", 8, false, true, &n);
			CHECK(ids && n == 2 && ids[0] == 0 && ids[1] == 1, "unknown and control parsed");
			llm_free(ids);
			llm_vocab_free(v);
		}
		free(b.p);
	}
}

int
main(void)
{
	printf("unicode\n");
	test_unicode();
	printf("strmap\n");
	test_strmap();
	printf("pretokenize\n");
	test_pretokenize();
	printf("hostile vocabularies\n");
	test_hostile_vocab();
	printf("llama.cpp vectors\n");
	test_vectors();
	test_spm_specifics();
	{
		const char *dir = getenv("LLM_TOKENIZER_VECTORS_DIR");

		if (dir && *dir)
		{
			char		path[4096];
			llm_vocab  *v;

			snprintf(path, sizeof(path), "%s/ggml-vocab-llama-spm.gguf", dir);
			if ((v = load_vocab_file(path, NULL)) != NULL)
			{
				test_hostile_inputs(v, "llama-spm");
				llm_vocab_free(v);
			}
			snprintf(path, sizeof(path), "%s/ggml-vocab-deepseek-coder.gguf", dir);
			if ((v = load_vocab_file(path, NULL)) != NULL)
			{
				test_hostile_inputs(v, "deepseek-coder");
				llm_vocab_free(v);
			}
		}
	}
	printf("SmolLM2\n");
	test_smollm();
	return TEST_DONE();
}
