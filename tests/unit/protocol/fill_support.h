/*
 * Value makers for the generated test fillers (tests/unit/protocol/generated):
 * seed-dependent strings, bytes and UUIDs allocated from the test's arena, so
 * every round-trip test exercises distinct, non-default field contents.
 */
#ifndef SESP_TEST_FILL_SUPPORT_H
#define SESP_TEST_FILL_SUPPORT_H

#include <stdio.h>

#include "broker/protocol/kproto.h"

static inline sesp_kstr sesp_kt_str(sesp_arena *a, uint32_t seed, bool nullable)
{
    if (nullable && seed % 4u == 0)
        return SESP_KSTR_NULL;
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "s%u-%.*s", (unsigned)seed, (int)(seed % 9u), "xxxxxxxxx");
    char *p = sesp_arena_strndup(a, tmp, (size_t)n);
    return p ? (sesp_kstr){ p, n } : (sesp_kstr){ NULL, 0 };
}

static inline sesp_kbytes sesp_kt_bytes(sesp_arena *a, uint32_t seed, bool nullable)
{
    if (nullable && seed % 4u == 0)
        return SESP_KBYTES_NULL;
    int32_t n = (int32_t)(1 + seed % 13u);
    uint8_t *p = sesp_arena_alloc(a, (size_t)n);
    if (!p)
        return (sesp_kbytes){ NULL, 0 };
    for (int32_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 7u + (uint32_t)i);
    return (sesp_kbytes){ p, n };
}

static inline void sesp_kt_uuid(sesp_kuuid *u, uint32_t seed)
{
    for (int i = 0; i < 16; i++)
        u->b[i] = (uint8_t)(seed + (uint32_t)i * 17u + 1u);
}

static inline bool sesp_kt_str_eq(sesp_kstr x, sesp_kstr y)
{
    return x.len == y.len && (x.len <= 0 || memcmp(x.ptr, y.ptr, (size_t)x.len) == 0);
}

static inline bool sesp_kt_bytes_eq(sesp_kbytes x, sesp_kbytes y)
{
    return x.len == y.len && (x.len <= 0 || memcmp(x.ptr, y.ptr, (size_t)x.len) == 0);
}

#endif
