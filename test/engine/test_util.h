/*
 * test_util.h — a tiny check harness for the engine unit tests.
 *
 * CHECK(cond, fmt, ...) records one check; a failure prints where and why
 * and the test goes on.  TEST_DONE() prints "CHECKS <passed> <failed>"
 * (which scripts/test adds up) and returns the exit code from main.
 */
#ifndef LLM_TEST_UTIL_H
#define LLM_TEST_UTIL_H

#include <stdio.h>

static int	test_passed = 0;
static int	test_failed = 0;

#define CHECK(cond, ...) \
	do { \
		if (cond) \
			test_passed++; \
		else \
		{ \
			test_failed++; \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

#define TEST_DONE() \
	(printf("CHECKS %d %d\n", test_passed, test_failed), test_failed == 0 ? 0 : 1)

#endif
