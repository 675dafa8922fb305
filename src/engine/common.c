/*
 * common.c — engine error reporting and the pluggable allocator.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *
default_alloc(size_t size, void *ctx)
{
	(void) ctx;
	return malloc(size ? size : 1);
}

static void *
default_realloc(void *ptr, size_t old_size, size_t new_size, void *ctx)
{
	(void) ctx;
	(void) old_size;
	return realloc(ptr, new_size ? new_size : 1);
}

static void
default_free(void *ptr, void *ctx)
{
	(void) ctx;
	free(ptr);
}

static llm_allocator current_allocator = {
	default_alloc, default_realloc, default_free, NULL
};

void
llm_set_allocator(const llm_allocator *a)
{
	if (a == NULL)
	{
		current_allocator.alloc = default_alloc;
		current_allocator.realloc = default_realloc;
		current_allocator.free = default_free;
		current_allocator.ctx = NULL;
	}
	else
		current_allocator = *a;
}

void *
llm_malloc(size_t size)
{
	return current_allocator.alloc(size, current_allocator.ctx);
}

void *
llm_calloc(size_t n, size_t size)
{
	size_t		total;
	void	   *p;

	if (!llm_mul_size(n, size, &total))
		return NULL;
	p = llm_malloc(total);
	if (p != NULL)
		memset(p, 0, total);
	return p;
}

void *
llm_realloc(void *ptr, size_t old_size, size_t new_size)
{
	if (ptr == NULL)
		return llm_malloc(new_size);
	return current_allocator.realloc(ptr, old_size, new_size, current_allocator.ctx);
}

void
llm_free(void *ptr)
{
	if (ptr != NULL)
		current_allocator.free(ptr, current_allocator.ctx);
}

char *
llm_strndup(const char *s, size_t len)
{
	char	   *p;

	if (len == SIZE_MAX)
		return NULL;
	p = llm_malloc(len + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

llm_status
llm_error_set(llm_error *err, llm_status status, const char *fmt,...)
{
	va_list		ap;

	if (err != NULL)
	{
		err->status = status;
		err->detail[0] = '\0';
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return status;
}

void
llm_error_detail(llm_error *err, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}
