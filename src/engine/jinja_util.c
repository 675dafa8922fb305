/*
 * jinja_util.c — arena, output buffer, UTF-8 and Python character classes
 * for the chat-template interpreter (see jinja.h).
 */
#include <stdio.h>
#include <string.h>

#include "jinja.h"

/* ---------- arena ---------- */

#define JINJA_CHUNK_SIZE	(64 * 1024)
#define JINJA_ALIGN			16

struct jinja_chunk
{
	jinja_chunk *next;
	size_t		size;			/* usable bytes after the header */
	size_t		used;
	/* data follows, aligned */
};

#define CHUNK_HEADER ((sizeof(jinja_chunk) + JINJA_ALIGN - 1) & ~(size_t) (JINJA_ALIGN - 1))

void
jinja_arena_init(jinja_arena *a, size_t limit)
{
	a->head = NULL;
	a->total = 0;
	a->limit = limit;
	a->over_limit = false;
}

void
jinja_arena_free(jinja_arena *a)
{
	jinja_chunk *c = a->head;

	while (c)
	{
		jinja_chunk *next = c->next;

		llm_free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}

void *
jinja_alloc(jinja_arena *a, size_t size)
{
	jinja_chunk *c = a->head;
	size_t		need;
	char	   *p;

	if (size == 0)
		size = 1;
	if (size > a->limit)
	{
		a->over_limit = true;
		return NULL;
	}
	need = (size + JINJA_ALIGN - 1) & ~(size_t) (JINJA_ALIGN - 1);

	if (c == NULL || c->size - c->used < need)
	{
		size_t		csize = need > JINJA_CHUNK_SIZE ? need : JINJA_CHUNK_SIZE;

		if (a->total + csize + CHUNK_HEADER > a->limit)
		{
			a->over_limit = true;
			return NULL;
		}
		c = llm_malloc(CHUNK_HEADER + csize);
		if (c == NULL)
		{
			a->over_limit = false;
			return NULL;
		}
		c->size = csize;
		c->used = 0;
		/*
		 * A big one-off allocation goes behind the current chunk so the
		 * current chunk's free space stays usable.
		 */
		if (a->head && need > JINJA_CHUNK_SIZE)
		{
			c->next = a->head->next;
			a->head->next = c;
		}
		else
		{
			c->next = a->head;
			a->head = c;
		}
		a->total += CHUNK_HEADER + csize;
	}
	p = (char *) c + CHUNK_HEADER + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

void *
jinja_alloc_array(jinja_arena *a, size_t n, size_t elem)
{
	size_t		size;

	if (!llm_mul_size(n, elem, &size))
	{
		a->over_limit = true;
		return NULL;
	}
	return jinja_alloc(a, size);
}

char *
jinja_strdup(jinja_arena *a, const char *s, size_t len)
{
	char	   *p;
	size_t		size;

	if (!llm_add_size(len, 1, &size))
		return NULL;
	p = jinja_alloc(a, size);
	if (p && len)
		memcpy(p, s, len);
	return p;
}

/* ---------- strings ---------- */

bool
jstr_eq(jstr a, jstr b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool
jstr_eq_c(jstr a, const char *c)
{
	size_t		n = strlen(c);

	return a.n == n && (n == 0 || memcmp(a.p, c, n) == 0);
}

int
jstr_cmp(jstr a, jstr b)
{
	size_t		n = a.n < b.n ? a.n : b.n;
	int			r = n ? memcmp(a.p, b.p, n) : 0;

	if (r != 0)
		return r < 0 ? -1 : 1;
	if (a.n == b.n)
		return 0;
	return a.n < b.n ? -1 : 1;
}

int64_t
jinja_find(jstr hay, jstr needle, size_t from)
{
	if (from > hay.n)
		return -1;
	if (needle.n == 0)
		return (int64_t) from;
	if (hay.n < needle.n)
		return -1;
	for (size_t i = from; i + needle.n <= hay.n; i++)
		if (hay.p[i] == needle.p[0] && memcmp(hay.p + i, needle.p, needle.n) == 0)
			return (int64_t) i;
	return -1;
}

/* ---------- output buffer ---------- */

void
jinja_buf_init(jinja_buf *b, size_t limit)
{
	b->p = NULL;
	b->n = 0;
	b->cap = 0;
	b->limit = limit;
	b->over_limit = false;
}

void
jinja_buf_free(jinja_buf *b)
{
	llm_free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

bool
jinja_buf_put(jinja_buf *b, const char *s, size_t n)
{
	size_t		need;

	if (n == 0)
		return true;
	if (!llm_add_size(b->n, n, &need) || need > b->limit)
	{
		b->over_limit = true;
		return false;
	}
	/* keep room for a terminating NUL */
	if (need + 1 > b->cap)
	{
		size_t		ncap = b->cap ? b->cap : 256;
		char	   *np;

		while (ncap < need + 1)
			ncap *= 2;
		np = llm_realloc(b->p, b->cap, ncap);
		if (np == NULL)
		{
			b->over_limit = false;
			return false;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->n, s, n);
	b->n = need;
	b->p[b->n] = '\0';
	return true;
}

bool
jinja_buf_putc(jinja_buf *b, char c)
{
	return jinja_buf_put(b, &c, 1);
}

bool
jinja_buf_puts(jinja_buf *b, const char *s)
{
	return jinja_buf_put(b, s, strlen(s));
}

bool
jinja_buf_printf(jinja_buf *b, const char *fmt,...)
{
	char		tmp[128];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(tmp))
		return false;			/* only used for short numeric output */
	return jinja_buf_put(b, tmp, (size_t) n);
}

/* ---------- UTF-8 ---------- */

/*
 * Strict UTF-8 validation: no overlongs, no surrogates, nothing above
 * U+10FFFF.  Python strings cannot hold invalid UTF-8, so neither do we.
 */
bool
jinja_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = u[i];

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
		{
			if (n - i < 2 || (u[i + 1] & 0xC0) != 0x80)
				return false;
			i += 2;
		}
		else if (c >= 0xE0 && c <= 0xEF)
		{
			if (n - i < 3 || (u[i + 1] & 0xC0) != 0x80 || (u[i + 2] & 0xC0) != 0x80)
				return false;
			if (c == 0xE0 && u[i + 1] < 0xA0)
				return false;	/* overlong */
			if (c == 0xED && u[i + 1] >= 0xA0)
				return false;	/* surrogate */
			i += 3;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			if (n - i < 4 || (u[i + 1] & 0xC0) != 0x80 ||
				(u[i + 2] & 0xC0) != 0x80 || (u[i + 3] & 0xC0) != 0x80)
				return false;
			if (c == 0xF0 && u[i + 1] < 0x90)
				return false;	/* overlong */
			if (c == 0xF4 && u[i + 1] >= 0x90)
				return false;	/* > U+10FFFF */
			i += 4;
		}
		else
			return false;
	}
	return true;
}

uint32_t
jinja_utf8_next(const char *s, size_t n, size_t *i)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		k = *i;
	unsigned char c;
	uint32_t	cp;
	int			extra;

	if (k >= n)
		return 0;
	c = u[k];
	if (c < 0x80)
	{
		*i = k + 1;
		return c;
	}
	if (c >= 0xF0)
	{
		cp = c & 0x07;
		extra = 3;
	}
	else if (c >= 0xE0)
	{
		cp = c & 0x0F;
		extra = 2;
	}
	else
	{
		cp = c & 0x1F;
		extra = 1;
	}
	k++;
	/* inputs are validated; stay in bounds regardless */
	while (extra-- > 0 && k < n)
		cp = (cp << 6) | (u[k++] & 0x3F);
	*i = k;
	return cp;
}

size_t
jinja_utf8_encode(uint32_t cp, char out[4])
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		out[0] = (char) (0xC0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		out[0] = (char) (0xE0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char) (0xF0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

size_t
jinja_utf8_count(const char *s, size_t n)
{
	size_t		count = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

/*
 * Python's str.isspace(): bidi class WS, B or S, or category Zs.  This is
 * the whitespace str.strip()/split() and jinja2's "-" tags remove.
 */
bool
jinja_py_isspace(uint32_t cp)
{
	if (cp <= 0x20)
		return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
	if (cp < 0x85)
		return false;
	return cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
		(cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
		cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

size_t
jinja_ws_prefix(const char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		size_t		k = i;
		uint32_t	cp = jinja_utf8_next(s, n, &k);

		if (!jinja_py_isspace(cp))
			break;
		i = k;
	}
	return i;
}

size_t
jinja_ws_suffix(const char *s, size_t n)
{
	size_t		end = n;

	while (end > 0)
	{
		size_t		start = end - 1;
		size_t		k;

		while (start > 0 && ((unsigned char) s[start] & 0xC0) == 0x80)
			start--;
		k = start;
		if (!jinja_py_isspace(jinja_utf8_next(s, n, &k)))
			break;
		end = start;
	}
	return n - end;
}
