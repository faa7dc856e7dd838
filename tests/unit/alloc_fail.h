/*
 * alloc_fail.h - for the tests that refuse each allocation in turn
 * (tests/unit/<module>/test_alloc.c): malloc, calloc and realloc wrapped at
 * link time (-Wl,--wrap, see tests/CMakeLists.txt), so that the test sees
 * libkasa's own calls, and an allocator for jansson
 * (json_set_alloc_funcs(json_malloc, free)) that notes when a refusal was
 * its.  Included by exactly one file of each test program.
 *
 * A run sets `seen` to 0 and `fail_at` to the allocation to refuse,
 * counting from 0 (-1: none); after a run with none refused, `seen` is how
 * many there were.
 */
#ifndef KASA_TEST_ALLOC_FAIL_H
#define KASA_TEST_ALLOC_FAIL_H

#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static long fail_at = -1;
static long seen;

static int refuse(void)
{
    return seen++ == fail_at;
}

void *__wrap_malloc(size_t n)
{
    return refuse() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return refuse() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return refuse() ? NULL : __real_realloc(p, n);
}

/* jansson reports some of its allocation failures as syntax errors (a
 * string it cannot store is "expected"); note when the refusal was its */
static int refused_in_jansson;

static void *json_malloc(size_t n)
{
    void *p = __wrap_malloc(n);

    if (!p)
        refused_in_jansson = 1;
    return p;
}

#endif
