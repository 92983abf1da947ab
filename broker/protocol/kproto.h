/*
 * Support types and wire primitives for the generated Kafka message codecs in
 * broker/protocol/generated/.  Strings and byte fields are views (pointer +
 * length) into the decoded frame or into caller memory, so decoding copies
 * nothing but the arrays, which come from the per-request arena.  The
 * sesp_kp_* helpers are the only place that knows the difference between the
 * classic (int16/int32 length) and flexible (uvarint length+1) encodings;
 * they poison the reader on any error so generated decoders check r->err once
 * per step.  Unknown tagged fields are skipped on decode and not re-emitted.
 */
#ifndef SESP_KPROTO_H
#define SESP_KPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"

typedef struct { const char *ptr; int32_t len; } sesp_kstr;      /* len -1 = null; ptr NOT NUL-terminated */
typedef struct { const uint8_t *ptr; int32_t len; } sesp_kbytes; /* bytes and records; len -1 = null */
typedef struct { uint8_t b[16]; } sesp_kuuid;

#define SESP_KSTR(s) ((sesp_kstr){ (s), (int32_t)strlen(s) })
#define SESP_KSTR_NULL ((sesp_kstr){ NULL, -1 })
#define SESP_KBYTES_NULL ((sesp_kbytes){ NULL, -1 })

/* True if the string equals the NUL-terminated c string (null equals nothing). */
bool sesp_kstr_eq(sesp_kstr s, const char *c);
/* Copies s into arena memory with a NUL terminator; NULL for a null string or OOM. */
char *sesp_kstr_dup(sesp_kstr s, sesp_arena *a);

/* ---- Primitives used by generated code (not meant for handlers). ---- */

/* Reads a string/bytes/array length; on error poisons r and returns false.
 * Array counts are checked against the bytes left assuming each element
 * takes at least min_elem bytes, so nothing is allocated for a lying count. */
bool sesp_kp_rd_str(sesp_bufr *r, bool flex, bool nullable, sesp_kstr *out);
bool sesp_kp_rd_bytes(sesp_bufr *r, bool flex, bool nullable, sesp_kbytes *out);
bool sesp_kp_rd_arrlen(sesp_bufr *r, bool flex, bool nullable, size_t min_elem, int32_t *out);
void sesp_kp_rd_uuid(sesp_bufr *r, sesp_kuuid *out);
bool sesp_kp_rd_bool(sesp_bufr *r);
/* Arena allocation that poisons r (SESP_ERR_TOO_LARGE past the arena's cap,
 * SESP_ERR_NOMEM otherwise) on failure. */
void *sesp_kp_alloc(sesp_bufr *r, sesp_arena *a, size_t n, size_t sz);
/* Reads the tagged-field count of a flexible struct (checked against what is
 * left: every tagged field takes at least two bytes). */
bool sesp_kp_rd_tag_count(sesp_bufr *r, uint32_t *out);
/* Reads one tagged field header and returns a sub-reader over its payload;
 * tags must be strictly ascending (*prev_tag is -1 before the first). */
bool sesp_kp_rd_tag(sesp_bufr *r, int64_t *prev_tag, uint32_t *tag, sesp_bufr *sub);
/* Propagates a sub-reader's result: the payload must be consumed exactly. */
bool sesp_kp_end_sub(sesp_bufr *r, sesp_bufr *sub);

/* Writers return 0 or SESP_ERR_INVALID_ARG (null where not nullable, length
 * out of range for the encoding, count > 0 with a NULL pointer). */
int sesp_kp_wr_str(sesp_bufw *w, bool flex, bool nullable, sesp_kstr s);
int sesp_kp_wr_bytes(sesp_bufw *w, bool flex, bool nullable, sesp_kbytes b);
int sesp_kp_wr_arrlen(sesp_bufw *w, bool flex, bool nullable, int32_t count, const void *ptr);
void sesp_kp_wr_uuid(sesp_bufw *w, const sesp_kuuid *u);
/* Appends (tag, size, payload) where payload is the sub-writer's content; frees sub. */
int sesp_kp_wr_tag(sesp_bufw *w, uint32_t tag, sesp_bufw *sub);

static inline bool sesp_kp_uuid_zero(const sesp_kuuid *u)
{
    for (int i = 0; i < 16; i++)
        if (u->b[i])
            return false;
    return true;
}
static inline bool sesp_kp_str_is(sesp_kstr s, const char *def, int32_t deflen)
{
    if (!def)
        return s.len == -1;
    return s.len == deflen && (deflen == 0 || memcmp(s.ptr, def, (size_t)deflen) == 0);
}

#endif
