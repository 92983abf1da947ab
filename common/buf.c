/*
 * Implementation of the bounded reader/writer (see buf.h).  The reader is
 * the single place where SESP checks an input length against what is left,
 * so every decoder inherits the bounds checks instead of repeating them.
 */
#include "buf.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

void sesp_bufr_init(sesp_bufr *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = 0;
}

void sesp_bufr_fail(sesp_bufr *r, int err)
{
    if (!r->err)
        r->err = err;
}

static uint64_t rd_be(sesp_bufr *r, size_t n)
{
    const uint8_t *q = sesp_bufr_take(r, n);
    uint64_t v = 0;
    if (!q)
        return 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | q[i];
    return v;
}

static uint64_t rd_le(sesp_bufr *r, size_t n)
{
    const uint8_t *q = sesp_bufr_take(r, n);
    uint64_t v = 0;
    if (!q)
        return 0;
    for (size_t i = n; i > 0; i--)
        v = (v << 8) | q[i - 1];
    return v;
}

int8_t sesp_bufr_i8(sesp_bufr *r) { return (int8_t)rd_be(r, 1); }
int16_t sesp_bufr_i16(sesp_bufr *r) { return (int16_t)rd_be(r, 2); }
int32_t sesp_bufr_i32(sesp_bufr *r) { return (int32_t)rd_be(r, 4); }
int64_t sesp_bufr_i64(sesp_bufr *r) { return (int64_t)rd_be(r, 8); }
uint16_t sesp_bufr_u16(sesp_bufr *r) { return (uint16_t)rd_be(r, 2); }
uint32_t sesp_bufr_u32(sesp_bufr *r) { return (uint32_t)rd_be(r, 4); }
uint32_t sesp_bufr_u32le(sesp_bufr *r) { return (uint32_t)rd_le(r, 4); }
uint64_t sesp_bufr_u64le(sesp_bufr *r) { return rd_le(r, 8); }

double sesp_bufr_f64(sesp_bufr *r)
{
    uint64_t u = rd_be(r, 8);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

uint64_t sesp_bufr_uvar_slow(sesp_bufr *r, unsigned max_bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < max_bytes; i++) {
        const uint8_t *q = sesp_bufr_take(r, 1);
        if (!q)
            return 0;
        v |= (uint64_t)(*q & 0x7f) << (7 * i);
        if (!(*q & 0x80))
            return v;
    }
    sesp_bufr_fail(r, SESP_ERR_MALFORMED);
    return 0;
}

void sesp_bufw_init(sesp_bufw *w, size_t initial_cap, size_t max_size)
{
    memset(w, 0, sizeof *w);
    w->max_size = max_size;
    if (initial_cap) {
        w->p = malloc(initial_cap);
        if (!w->p)
            w->err = SESP_ERR_NOMEM;
        else
            w->cap = initial_cap;
    }
}

void sesp_bufw_free(sesp_bufw *w)
{
    free(w->p);
    memset(w, 0, sizeof *w);
}

void sesp_bufw_reset(sesp_bufw *w)
{
    w->len = 0;
    w->err = 0;
}

uint8_t *sesp_bufw_steal(sesp_bufw *w, size_t *len)
{
    uint8_t *p = w->p;
    if (len)
        *len = w->len;
    w->p = NULL;
    w->len = w->cap = 0;
    return p;
}

uint8_t *sesp_bufw_reserve(sesp_bufw *w, size_t n)
{
    if (w->err)
        return NULL;
    if (n > SIZE_MAX / 2 - w->len || (w->max_size && w->len + n > w->max_size)) {
        w->err = SESP_ERR_TOO_LARGE;
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *np = realloc(w->p, cap);
        if (!np) {
            w->err = SESP_ERR_NOMEM;
            return NULL;
        }
        w->p = np;
        w->cap = cap;
    }
    return w->p + w->len;
}

void sesp_bufw_put(sesp_bufw *w, const void *p, size_t n)
{
    uint8_t *q = sesp_bufw_reserve(w, n);
    if (!q)
        return;
    if (n)
        memcpy(q, p, n);
    w->len += n;
}

static void wr_be(sesp_bufw *w, uint64_t v, size_t n)
{
    uint8_t *q = sesp_bufw_reserve(w, n);
    if (!q)
        return;
    for (size_t i = 0; i < n; i++)
        q[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    w->len += n;
}

static void wr_le(sesp_bufw *w, uint64_t v, size_t n)
{
    uint8_t *q = sesp_bufw_reserve(w, n);
    if (!q)
        return;
    for (size_t i = 0; i < n; i++)
        q[i] = (uint8_t)(v >> (8 * i));
    w->len += n;
}

void sesp_bufw_i8(sesp_bufw *w, int8_t v) { wr_be(w, (uint8_t)v, 1); }
void sesp_bufw_i16(sesp_bufw *w, int16_t v) { wr_be(w, (uint16_t)v, 2); }
void sesp_bufw_i32(sesp_bufw *w, int32_t v) { wr_be(w, (uint32_t)v, 4); }
void sesp_bufw_i64(sesp_bufw *w, int64_t v) { wr_be(w, (uint64_t)v, 8); }
void sesp_bufw_u16(sesp_bufw *w, uint16_t v) { wr_be(w, v, 2); }
void sesp_bufw_u32(sesp_bufw *w, uint32_t v) { wr_be(w, v, 4); }
void sesp_bufw_u32le(sesp_bufw *w, uint32_t v) { wr_le(w, v, 4); }
void sesp_bufw_u64le(sesp_bufw *w, uint64_t v) { wr_le(w, v, 8); }

void sesp_bufw_f64(sesp_bufw *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    wr_be(w, u, 8);
}

void sesp_bufw_uvarlong(sesp_bufw *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    sesp_bufw_put(w, tmp, n);
}

void sesp_bufw_uvarint(sesp_bufw *w, uint32_t v) { sesp_bufw_uvarlong(w, v); }
void sesp_bufw_varint(sesp_bufw *w, int32_t v) { sesp_bufw_uvarlong(w, sesp_zigzag32(v)); }
void sesp_bufw_varlong(sesp_bufw *w, int64_t v) { sesp_bufw_uvarlong(w, sesp_zigzag64(v)); }

void sesp_bufw_patch_u32(sesp_bufw *w, size_t pos, uint32_t v)
{
    if (w->err || pos + 4 > w->len)
        return;
    for (size_t i = 0; i < 4; i++)
        w->p[pos + i] = (uint8_t)(v >> (8 * (3 - i)));
}

void sesp_bufw_patch_i32(sesp_bufw *w, size_t pos, int32_t v) { sesp_bufw_patch_u32(w, pos, (uint32_t)v); }
