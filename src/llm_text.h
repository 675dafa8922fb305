/*
 * llm_text.h — moving text between PostgreSQL and the engine.
 *
 * The engine works in UTF-8.  Text from the database is converted from the
 * server encoding; bytes from the engine are made valid UTF-8 (invalid or
 * NUL bytes become U+FFFD, as a decoder with errors="replace" would) and
 * converted to the server encoding.
 */
#ifndef LLM_TEXT_H
#define LLM_TEXT_H

#include "postgres.h"

/*
 * UTF-8 bytes of t (palloc'd, or t's own data on a UTF-8 server: NOT
 * NUL-terminated); *len gets their length.
 */
extern const char *llm_text_to_utf8(text *t, size_t *len);

/* A text datum from engine bytes (any bytes; sanitised as above). */
extern text *llm_utf8_to_text(const char *bytes, size_t len);

#endif
