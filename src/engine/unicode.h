/*
 * unicode.h — the Unicode facts the tokenizers need, matching llama.cpp.
 *
 * Code point categories come from tables extracted from llama.cpp's own
 * src/unicode-data.cpp (see scripts/gen_unicode_tables.py), so that \p{L},
 * \p{N}, \s and friends classify every code point exactly as the reference
 * tokenizer does, whatever Unicode version the host C library has.
 *
 * UTF-8 decoding also follows llama.cpp (unicode_cpts_from_utf8), quirks
 * included, because the decoded code points decide how text is split:
 * overlong forms and surrogates decode without complaint, and a byte that
 * does not start a complete sequence becomes U+FFFD and is skipped alone.
 */
#ifndef LLM_ENGINE_UNICODE_H
#define LLM_ENGINE_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Category flags: the same bit values as llama.cpp's unicode_cpt_flags. */
#define LLM_CPT_UNDEFINED	0x0001	/* Cn, and anything past U+10FFFF */
#define LLM_CPT_NUMBER		0x0002	/* \p{N} */
#define LLM_CPT_LETTER		0x0004	/* \p{L} */
#define LLM_CPT_SEPARATOR	0x0008	/* \p{Z} */
#define LLM_CPT_ACCENT_MARK 0x0010	/* \p{M} */
#define LLM_CPT_PUNCTUATION 0x0020	/* \p{P} */
#define LLM_CPT_SYMBOL		0x0040	/* \p{S} */
#define LLM_CPT_CONTROL		0x0080	/* \p{C} */
#define LLM_CPT_CATEGORIES	0x00FF
#define LLM_CPT_WHITESPACE	0x0100	/* llama.cpp's whitespace set (\s) */

#define LLM_UNICODE_MAX_CPT 0x110000
#define LLM_UNICODE_REPLACEMENT 0xFFFD

/* generated tables (unicode_tables.c) */
extern const uint32_t llm_unicode_flag_start[];
extern const uint16_t llm_unicode_flag_value[];
extern const size_t llm_unicode_flag_count;
extern const uint32_t llm_unicode_lower_from[];
extern const uint32_t llm_unicode_lower_to[];
extern const size_t llm_unicode_lower_count;

/* Flags of a code point; LLM_CPT_UNDEFINED for cpt >= 0x110000. */
uint16_t	llm_unicode_flags(uint32_t cpt);

/* Simple lowercase mapping (cpt itself when it has none). */
uint32_t	llm_unicode_tolower(uint32_t cpt);

/*
 * Byte length of a UTF-8 sequence judged by its first byte alone, as
 * llama.cpp's unicode_len_utf8: 1 for ASCII and for stray continuation
 * bytes, 2/3/4 by the lead byte's high bits.  Callers clamp it to the
 * bytes that remain.
 */
static inline size_t
llm_utf8_len(uint8_t lead)
{
	static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};

	return lookup[lead >> 4];
}

/*
 * Decode one code point at s[0..len) (len >= 1) the way llama.cpp does;
 * *consumed gets the bytes used (always >= 1).  Invalid or truncated
 * sequences give U+FFFD consuming one byte.  Sequences that decode past
 * U+10FFFF (F5..F7 leads) are also U+FFFD and one byte: llama.cpp would
 * throw on them later, so there is no reference behaviour to copy.
 */
uint32_t	llm_utf8_decode(const uint8_t *s, size_t len, size_t *consumed);

/*
 * Encode cpt (< 0x110000; surrogates are encoded as-is, like llama.cpp)
 * into out; returns the byte count (1..4), 0 if cpt is out of range.
 */
size_t		llm_utf8_encode(uint32_t cpt, uint8_t out[4]);

/*
 * GPT-2 byte-level mapping: every byte value gets a printable code point
 * (bytes_to_unicode).  llm_byte_to_cpt gives it; llm_cpt_to_byte inverts
 * it, returning -1 for a code point that is no byte's image.
 */
uint32_t	llm_byte_to_cpt(uint8_t b);
int			llm_cpt_to_byte(uint32_t cpt);

#endif							/* LLM_ENGINE_UNICODE_H */
