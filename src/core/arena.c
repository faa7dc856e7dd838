/*
 * arena.c - a bump allocator.  A parsed pattern or one evaluation owns one
 * arena and frees it once; nothing in it is freed on its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct kasa__arena_block {
    kasa__arena_block *next;
    size_t size;
    /* followed by the block's bytes, 16-aligned */
};

#define BLOCK_HEADER ((sizeof(kasa__arena_block) + 15) & ~(size_t)15)

static char *align16(char *p)
{
    return (char *)(((uintptr_t)p + 15) & ~(uintptr_t)15);
}

void kasa__arena_init(kasa__arena *a, void *first, size_t size)
{
    a->head = NULL;
    a->cur = first;
    a->end = first ? (char *)first + size : NULL;
    a->next_size = 4096;
}

void kasa__arena_fini(kasa__arena *a)
{
    kasa__arena_block *b = a->head, *next;

    for (; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
    a->cur = a->end = NULL;
}

void *kasa__arena_alloc(kasa__arena *a, size_t n)
{
    char *p;
    size_t size;
    kasa__arena_block *b;

    if (a->cur) {
        p = align16(a->cur);
        if (p <= a->end && (size_t)(a->end - p) >= n) {
            a->cur = p + n;
            return p;
        }
    }
    if (n > SIZE_MAX / 2 - BLOCK_HEADER)
        return NULL;
    size = a->next_size;
    while (size < n + 16)
        size *= 2;
    b = malloc(BLOCK_HEADER + size);
    if (!b)
        return NULL;
    b->next = a->head;
    b->size = size;
    a->head = b;
    if (a->next_size < (1u << 20))
        a->next_size *= 2;
    p = (char *)b + BLOCK_HEADER;
    a->cur = p + n;
    a->end = p + size;
    return p;
}

void *kasa__arena_zalloc(kasa__arena *a, size_t n)
{
    void *p = kasa__arena_alloc(a, n);

    if (p)
        memset(p, 0, n);
    return p;
}

char *kasa__arena_strndup(kasa__arena *a, const char *s, size_t n)
{
    char *p = kasa__arena_alloc(a, n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

bool kasa__grow(void *items, size_t *cap, size_t len, size_t size)
{
    size_t ncap;
    void *cur, *nv;

    if (len < *cap)
        return true;
    ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / size)
        return false;
    memcpy(&cur, items, sizeof(cur));
    nv = realloc(cur, ncap * size);
    if (nv == NULL)
        return false;
    memcpy(items, &nv, sizeof(nv));
    *cap = ncap;
    return true;
}
