/*
 * A bump allocator for per-request memory: decoded protocol messages put
 * their arrays here and the whole request is released with one call, so a
 * decoder that fails halfway leaks nothing.  Not thread-safe; one arena per
 * request.  Chunks grow geometrically; max_total bounds what untrusted input
 * can make us allocate.
 */
#ifndef SESP_ARENA_H
#define SESP_ARENA_H

#include <stddef.h>

typedef struct sesp_arena_chunk sesp_arena_chunk;

typedef struct sesp_arena {
    sesp_arena_chunk *head;
    size_t total;      /* bytes allocated in chunks */
    size_t max_total;  /* 0 = unlimited */
} sesp_arena;

void sesp_arena_init(sesp_arena *a, size_t max_total);
/* Zeroed memory aligned for any type, or NULL past max_total / on OOM. */
void *sesp_arena_alloc(sesp_arena *a, size_t n);
/* n elements of size sz, overflow-checked. */
void *sesp_arena_calloc(sesp_arena *a, size_t n, size_t sz);
char *sesp_arena_strndup(sesp_arena *a, const char *s, size_t n);
void sesp_arena_free(sesp_arena *a);

#endif
