/*
 * Bounded byte reader and writer shared by every codec in SESP (Kafka wire
 * protocol, record batches, Thrift compact, Delta checkpoints).  All multi-byte
 * integers are big-endian as in Kafka unless a function says otherwise.  The
 * reader never reads past its end: every call checks what is left and, once a
 * read has failed, the reader is poisoned (r->err set) so a decoder can chain
 * reads and check once.  The writer grows a heap buffer it owns; out-of-memory
 * or exceeding max_size poisons it the same way.
 */
#ifndef SESP_BUF_H
#define SESP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct sesp_bufr {
    const uint8_t *p;   /* start of the whole buffer */
    size_t len;         /* total length */
    size_t pos;         /* read position */
    int err;            /* 0 or SESP_ERR_* once a read failed */
} sesp_bufr;

typedef struct sesp_bufw {
    uint8_t *p;         /* owned, realloc'ed */
    size_t len;         /* bytes written */
    size_t cap;
    size_t max_size;    /* 0 = unlimited */
    int err;
} sesp_bufw;

void sesp_bufr_init(sesp_bufr *r, const void *p, size_t len);
static inline size_t sesp_bufr_left(const sesp_bufr *r) { return r->err ? 0 : r->len - r->pos; }
static inline const uint8_t *sesp_bufr_cur(const sesp_bufr *r) { return r->p + r->pos; }

int8_t sesp_bufr_i8(sesp_bufr *r);
int16_t sesp_bufr_i16(sesp_bufr *r);
int32_t sesp_bufr_i32(sesp_bufr *r);
int64_t sesp_bufr_i64(sesp_bufr *r);
uint16_t sesp_bufr_u16(sesp_bufr *r);
uint32_t sesp_bufr_u32(sesp_bufr *r);
double sesp_bufr_f64(sesp_bufr *r);
/* Little-endian variants (Parquet, Thrift binary). */
uint32_t sesp_bufr_u32le(sesp_bufr *r);
uint64_t sesp_bufr_u64le(sesp_bufr *r);
/* Unsigned LEB128 varint (max 5 bytes for 32-bit, 10 for 64-bit).  Record
 * framing is mostly one- and two-byte varints, so those are decoded inline
 * here; anything else (longer, truncated, poisoned reader) goes to
 * sesp_bufr_uvar_slow, which does every check. */
uint64_t sesp_bufr_uvar_slow(sesp_bufr *r, unsigned max_bytes);

static inline uint64_t sesp_bufr_uvar_fast(sesp_bufr *r, unsigned max_bytes)
{
    if (!r->err && r->pos < r->len) {
        const uint8_t *q = r->p + r->pos;
        if (!(q[0] & 0x80)) {
            r->pos += 1;
            return q[0];
        }
        if (r->len - r->pos >= 2 && !(q[1] & 0x80)) {
            r->pos += 2;
            return (uint64_t)(q[0] & 0x7f) | (uint64_t)q[1] << 7;
        }
    }
    return sesp_bufr_uvar_slow(r, max_bytes);
}

static inline uint32_t sesp_bufr_uvarint(sesp_bufr *r) { return (uint32_t)sesp_bufr_uvar_fast(r, 5); }
static inline uint64_t sesp_bufr_uvarlong(sesp_bufr *r) { return sesp_bufr_uvar_fast(r, 10); }
/* Zig-zag signed varints as in Kafka records and protobuf. */
static inline int32_t sesp_bufr_varint(sesp_bufr *r)
{
    uint32_t u = sesp_bufr_uvarint(r);
    return (int32_t)((u >> 1) ^ (~(u & 1) + 1));
}
static inline int64_t sesp_bufr_varlong(sesp_bufr *r)
{
    uint64_t u = sesp_bufr_uvarlong(r);
    return (int64_t)((u >> 1) ^ (~(u & 1) + 1));
}
void sesp_bufr_fail(sesp_bufr *r, int err);
/* Returns a pointer to n bytes inside the buffer and advances, or NULL (and
 * poisons with SESP_ERR_TRUNCATED) if fewer than n bytes are left.  Inline
 * because record framing calls it several times per record. */
static inline const uint8_t *sesp_bufr_take(sesp_bufr *r, size_t n)
{
    if (r->err)
        return NULL;
    if (n > r->len - r->pos) {
        r->err = SESP_ERR_TRUNCATED;
        return NULL;
    }
    const uint8_t *q = r->p + r->pos;
    r->pos += n;
    return q;
}
static inline bool sesp_bufr_skip(sesp_bufr *r, size_t n) { return sesp_bufr_take(r, n) != NULL; }

void sesp_bufw_init(sesp_bufw *w, size_t initial_cap, size_t max_size);
void sesp_bufw_free(sesp_bufw *w);
/* Hands the buffer to the caller (who frees it with free()); resets w. */
uint8_t *sesp_bufw_steal(sesp_bufw *w, size_t *len);
void sesp_bufw_reset(sesp_bufw *w);
/* Makes room for n more bytes; returns a pointer to write them or NULL. */
uint8_t *sesp_bufw_reserve(sesp_bufw *w, size_t n);
void sesp_bufw_put(sesp_bufw *w, const void *p, size_t n);
void sesp_bufw_i8(sesp_bufw *w, int8_t v);
void sesp_bufw_i16(sesp_bufw *w, int16_t v);
void sesp_bufw_i32(sesp_bufw *w, int32_t v);
void sesp_bufw_i64(sesp_bufw *w, int64_t v);
void sesp_bufw_u16(sesp_bufw *w, uint16_t v);
void sesp_bufw_u32(sesp_bufw *w, uint32_t v);
void sesp_bufw_f64(sesp_bufw *w, double v);
void sesp_bufw_u32le(sesp_bufw *w, uint32_t v);
void sesp_bufw_u64le(sesp_bufw *w, uint64_t v);
void sesp_bufw_uvarint(sesp_bufw *w, uint32_t v);
void sesp_bufw_uvarlong(sesp_bufw *w, uint64_t v);
void sesp_bufw_varint(sesp_bufw *w, int32_t v);
void sesp_bufw_varlong(sesp_bufw *w, int64_t v);
/* Overwrites already-written bytes at pos (for length/CRC back-patching). */
void sesp_bufw_patch_i32(sesp_bufw *w, size_t pos, int32_t v);
void sesp_bufw_patch_u32(sesp_bufw *w, size_t pos, uint32_t v);

static inline size_t sesp_uvarint_size(uint64_t v) { size_t n = 1; while (v >= 0x80) { v >>= 7; n++; } return n; }
static inline uint64_t sesp_zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline uint32_t sesp_zigzag32(int32_t v) { return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31); }

#endif
