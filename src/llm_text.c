/*
 * llm_text.c — UTF-8 in and out of the engine.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "llm_text.h"

const char *
llm_text_to_utf8(text *t, size_t *len)
{
	const char *data = VARDATA_ANY(t);
	int			n = VARSIZE_ANY_EXHDR(t);
	char	   *conv;

	conv = pg_server_to_any(data, n, PG_UTF8);
	if (conv != data)
		n = strlen(conv);
	*len = (size_t) n;
	return conv;
}

/*
 * Copy bytes, replacing every byte that does not start a valid UTF-8
 * sequence (and NUL, which text cannot hold) with U+FFFD.
 */
static char *
sanitize_utf8(const char *bytes, size_t len, size_t *out_len)
{
	StringInfoData buf;
	size_t		i = 0;

	initStringInfo(&buf);
	while (i < len)
	{
		unsigned char c = (unsigned char) bytes[i];
		int			l = (c == 0) ? 1 : pg_utf_mblen((const unsigned char *) bytes + i);

		if (c != 0 && i + l <= len &&
			pg_utf8_islegal((const unsigned char *) bytes + i, l))
		{
			appendBinaryStringInfo(&buf, bytes + i, l);
			i += l;
		}
		else
		{
			appendBinaryStringInfo(&buf, "\xEF\xBF\xBD", 3);
			i += 1;
		}
	}
	*out_len = buf.len;
	return buf.data;
}

text *
llm_utf8_to_text(const char *bytes, size_t len)
{
	size_t		clean_len;
	char	   *clean = sanitize_utf8(bytes, len, &clean_len);
	char	   *conv;
	text	   *result;

	if (clean_len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("result is too long")));
	conv = pg_any_to_server(clean, (int) clean_len, PG_UTF8);
	if (conv != clean)
		clean_len = strlen(conv);
	result = cstring_to_text_with_len(conv, (int) clean_len);
	if (conv != clean)
		pfree(conv);
	pfree(clean);
	return result;
}
