/*
 * common.h — what every engine file shares: error reporting and allocation.
 *
 * The engine is plain C11 with no PostgreSQL header.  It never longjmps and
 * never exits: every fallible function returns an llm_status and, on failure,
 * fills an llm_error the caller (the PostgreSQL glue, a unit test, the CLI)
 * turns into its own kind of error.
 */
#ifndef LLM_ENGINE_COMMON_H
#define LLM_ENGINE_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Status codes.  Each maps to one SQLSTATE in the glue (see src/errors.c),
 * so pick the one that tells the user what to do about it.
 */
typedef enum llm_status
{
	LLM_OK = 0,
	LLM_ERR_IO,					/* cannot open / stat / map a file */
	LLM_ERR_CORRUPT,			/* the file is not what it claims: XX001 */
	LLM_ERR_UNSUPPORTED,		/* valid, but a feature we do not implement: 0A000 */
	LLM_ERR_NOMEM,				/* allocation failed: 53200 */
	LLM_ERR_INVALID_ARG,		/* a caller-supplied value is out of range: 22023 */
	LLM_ERR_LIMIT,				/* a program limit (context size, ...): 54000 */
	LLM_ERR_CANCELLED			/* the caller's progress callback asked to stop */
} llm_status;

#define LLM_ERROR_MSG_LEN 512

typedef struct llm_error
{
	llm_status	status;
	char		msg[LLM_ERROR_MSG_LEN];		/* one sentence, no trailing period */
	char		detail[LLM_ERROR_MSG_LEN];	/* where / which value; may be empty */
} llm_error;

/* Fill err (if not NULL) and return status; printf-style message. */
llm_status	llm_error_set(llm_error *err, llm_status status, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Add a detail line to an error already set. */
void		llm_error_detail(llm_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/*
 * Allocation.  All engine memory goes through these so the glue can point
 * them at a PostgreSQL memory context (allocating with "no OOM error" so
 * a failure comes back as NULL instead of a longjmp through engine frames).
 * The defaults are malloc/realloc/free.  llm_calloc and llm_realloc check
 * for size overflow.
 */
typedef struct llm_allocator
{
	void	   *(*alloc) (size_t size, void *ctx);
	void	   *(*realloc) (void *ptr, size_t old_size, size_t new_size, void *ctx);
	void		(*free) (void *ptr, void *ctx);
	void	   *ctx;
} llm_allocator;

void		llm_set_allocator(const llm_allocator *a);	/* NULL: back to malloc */
void	   *llm_malloc(size_t size);
void	   *llm_calloc(size_t n, size_t size);	/* zeroed; NULL on overflow */
void	   *llm_realloc(void *ptr, size_t old_size, size_t new_size);
void		llm_free(void *ptr);
char	   *llm_strndup(const char *s, size_t len);	/* NUL-terminated copy */

/* Overflow-checked arithmetic on sizes: return false on overflow. */
static inline bool
llm_mul_size(size_t a, size_t b, size_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

static inline bool
llm_add_size(size_t a, size_t b, size_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}

/*
 * Progress / interrupt callback.  Long-running engine loops (prefill,
 * loading) call it from the calling thread between units of work; a
 * non-zero return makes the engine stop and return LLM_ERR_CANCELLED with
 * its state still consistent.  The glue uses it to poll PostgreSQL's
 * InterruptPending without longjmp-ing through engine frames.
 */
typedef int (*llm_interrupt_fn) (void *arg);

#endif							/* LLM_ENGINE_COMMON_H */
