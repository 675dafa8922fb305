/*
 * unicode.c — code point classification and UTF-8 as llama.cpp does them.
 */
#include "unicode.h"

uint16_t
llm_unicode_flags(uint32_t cpt)
{
	size_t		lo = 0;
	size_t		hi;

	if (cpt >= LLM_UNICODE_MAX_CPT)
		return LLM_CPT_UNDEFINED;

	/* last run whose start is <= cpt; run 0 starts at 0 */
	hi = llm_unicode_flag_count - 1;
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo + 1) / 2;

		if (llm_unicode_flag_start[mid] <= cpt)
			lo = mid;
		else
			hi = mid - 1;
	}
	return llm_unicode_flag_value[lo];
}

uint32_t
llm_unicode_tolower(uint32_t cpt)
{
	size_t		lo = 0;
	size_t		hi = llm_unicode_lower_count;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (llm_unicode_lower_from[mid] < cpt)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < llm_unicode_lower_count && llm_unicode_lower_from[lo] == cpt)
		return llm_unicode_lower_to[lo];
	return cpt;
}

static inline bool
is_continuation(uint8_t b)
{
	return (b & 0xC0) == 0x80;
}

uint32_t
llm_utf8_decode(const uint8_t *s, size_t len, size_t *consumed)
{
	uint8_t		b0 = s[0];
	uint32_t	cpt;

	*consumed = 1;
	if (!(b0 & 0x80))
		return b0;
	if (!(b0 & 0x40))
		return LLM_UNICODE_REPLACEMENT;	/* stray continuation byte */
	if (!(b0 & 0x20))
	{
		if (len < 2 || !is_continuation(s[1]))
			return LLM_UNICODE_REPLACEMENT;
		*consumed = 2;
		return ((uint32_t) (b0 & 0x1F) << 6) | (s[1] & 0x3F);
	}
	if (!(b0 & 0x10))
	{
		if (len < 3 || !is_continuation(s[1]) || !is_continuation(s[2]))
			return LLM_UNICODE_REPLACEMENT;
		*consumed = 3;
		return ((uint32_t) (b0 & 0x0F) << 12) | ((uint32_t) (s[1] & 0x3F) << 6) |
			(s[2] & 0x3F);
	}
	if (!(b0 & 0x08))
	{
		if (len < 4 || !is_continuation(s[1]) || !is_continuation(s[2]) ||
			!is_continuation(s[3]))
			return LLM_UNICODE_REPLACEMENT;
		cpt = ((uint32_t) (b0 & 0x07) << 18) | ((uint32_t) (s[1] & 0x3F) << 12) |
			((uint32_t) (s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		if (cpt >= LLM_UNICODE_MAX_CPT)
			return LLM_UNICODE_REPLACEMENT;
		*consumed = 4;
		return cpt;
	}
	return LLM_UNICODE_REPLACEMENT;	/* F8..FF */
}

size_t
llm_utf8_encode(uint32_t cpt, uint8_t out[4])
{
	if (cpt <= 0x7F)
	{
		out[0] = (uint8_t) cpt;
		return 1;
	}
	if (cpt <= 0x7FF)
	{
		out[0] = (uint8_t) (0xC0 | (cpt >> 6));
		out[1] = (uint8_t) (0x80 | (cpt & 0x3F));
		return 2;
	}
	if (cpt <= 0xFFFF)
	{
		out[0] = (uint8_t) (0xE0 | (cpt >> 12));
		out[1] = (uint8_t) (0x80 | ((cpt >> 6) & 0x3F));
		out[2] = (uint8_t) (0x80 | (cpt & 0x3F));
		return 3;
	}
	if (cpt < LLM_UNICODE_MAX_CPT)
	{
		out[0] = (uint8_t) (0xF0 | (cpt >> 18));
		out[1] = (uint8_t) (0x80 | ((cpt >> 12) & 0x3F));
		out[2] = (uint8_t) (0x80 | ((cpt >> 6) & 0x3F));
		out[3] = (uint8_t) (0x80 | (cpt & 0x3F));
		return 4;
	}
	return 0;
}

/*
 * GPT-2's bytes_to_unicode: the printable Latin-1 bytes ('!'..'~',
 * U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves; the other 68 bytes,
 * in increasing order, take U+0100, U+0101, ...
 */
static inline bool
byte_is_self_mapped(unsigned b)
{
	return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

uint32_t
llm_byte_to_cpt(uint8_t b)
{
	unsigned	n = 0;

	if (byte_is_self_mapped(b))
		return b;
	/* count the non-self-mapped bytes below b */
	if (b <= 0x20)
		n = b;
	else if (b >= 0x7F && b <= 0xA0)
		n = 0x21 + (b - 0x7F);
	else						/* 0xAD */
		n = 0x21 + 0x22;
	return 256 + n;
}

int
llm_cpt_to_byte(uint32_t cpt)
{
	uint32_t	n;

	if (cpt < 256)
		return byte_is_self_mapped(cpt) ? (int) cpt : -1;
	if (cpt >= 256 + 68)
		return -1;
	n = cpt - 256;
	if (n <= 0x20)
		return (int) n;
	if (n < 0x21 + 0x22)
		return (int) (0x7F + (n - 0x21));
	return 0xAD;
}
