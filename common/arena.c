/* Bump allocator implementation (see arena.h). */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sesp_arena_chunk {
    sesp_arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void sesp_arena_init(sesp_arena *a, size_t max_total)
{
    a->head = NULL;
    a->total = 0;
    a->max_total = max_total;
}

void *sesp_arena_alloc(sesp_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    sesp_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? c->cap * 2 : 4096;
        if (cap < n)
            cap = n;
        if (cap > ((size_t)1 << 24) && n <= ((size_t)1 << 24))
            cap = (size_t)1 << 24;
        if (a->max_total && (cap > a->max_total || a->total + cap > a->max_total)) {
            if (n > a->max_total || a->total + n > a->max_total)
                return NULL;
            cap = n;
        }
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
        a->total += cap;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void *sesp_arena_calloc(sesp_arena *a, size_t n, size_t sz)
{
    if (sz && n > SIZE_MAX / sz)
        return NULL;
    return sesp_arena_alloc(a, n * sz);
}

char *sesp_arena_strndup(sesp_arena *a, const char *s, size_t n)
{
    char *p = sesp_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

void sesp_arena_free(sesp_arena *a)
{
    sesp_arena_chunk *c = a->head;
    while (c) {
        sesp_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}
