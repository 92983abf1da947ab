/*
 * Thrift compact protocol, the encoding of every Parquet footer and page
 * header: field headers carrying id deltas, zig-zag varints, length-prefixed
 * binaries, lists and nested structs.  The reader sits on common/buf.h (so a
 * failed read poisons it), bounds nesting depth and list sizes so hostile
 * input cannot recurse or allocate without limit, and can skip any field it
 * does not know.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <assert.h>

#include "common/err.h"

void sesp_tc_reader_init(sesp_tc_reader *t, const void *p, size_t len)
{
    sesp_bufr_init(&t->r, p, len);
    t->depth = 0;
    t->last[0] = 0;
    t->max_list = (size_t)1 << 26;
}

bool sesp_tc_struct_begin(sesp_tc_reader *t)
{
    if (t->r.err)
        return false;
    if (t->depth + 1 >= SESP_TC_MAX_DEPTH) {
        sesp_bufr_fail(&t->r, SESP_ERR_MALFORMED);
        return false;
    }
    t->last[++t->depth] = 0;
    return true;
}

void sesp_tc_struct_end(sesp_tc_reader *t)
{
    if (t->depth > 0)
        t->depth--;
}

int sesp_tc_field(sesp_tc_reader *t, int16_t *id)
{
    uint8_t b = (uint8_t)sesp_bufr_i8(&t->r);
    if (t->r.err)
        return SESP_TC_STOP;
    int type = b & 0x0f;
    if (type == SESP_TC_STOP)
        return SESP_TC_STOP;
    int delta = b >> 4;
    int32_t fid;
    if (delta)
        fid = t->last[t->depth] + delta;
    else
        fid = sesp_bufr_varint(&t->r);
    if (t->r.err || fid < INT16_MIN || fid > INT16_MAX || type > SESP_TC_STRUCT) {
        sesp_bufr_fail(&t->r, SESP_ERR_MALFORMED);
        return SESP_TC_STOP;
    }
    t->last[t->depth] = (int16_t)fid;
    *id = (int16_t)fid;
    return type;
}

int32_t sesp_tc_i32(sesp_tc_reader *t) { return sesp_bufr_varint(&t->r); }
int64_t sesp_tc_i64(sesp_tc_reader *t) { return sesp_bufr_varlong(&t->r); }

bool sesp_tc_bool(sesp_tc_reader *t, int ftype)
{
    if (ftype != SESP_TC_TRUE && ftype != SESP_TC_FALSE) {
        sesp_bufr_fail(&t->r, SESP_ERR_MALFORMED);
        return false;
    }
    return ftype == SESP_TC_TRUE;
}

int32_t sesp_tc_int_of(sesp_tc_reader *t, int ftype)
{
    switch (ftype) {
    case SESP_TC_I8: return sesp_bufr_i8(&t->r);
    case SESP_TC_I16:
    case SESP_TC_I32: return sesp_bufr_varint(&t->r);
    default: sesp_bufr_fail(&t->r, SESP_ERR_MALFORMED); return 0;
    }
}

int64_t sesp_tc_i64_of(sesp_tc_reader *t, int ftype)
{
    if (ftype == SESP_TC_I64)
        return sesp_bufr_varlong(&t->r);
    return sesp_tc_int_of(t, ftype);
}

const uint8_t *sesp_tc_binary(sesp_tc_reader *t, uint32_t *len)
{
    uint32_t n = sesp_bufr_uvarint(&t->r);
    const uint8_t *p = sesp_bufr_take(&t->r, n);
    *len = p ? n : 0;
    return p;
}

bool sesp_tc_list(sesp_tc_reader *t, int *etype, uint32_t *n)
{
    uint8_t b = (uint8_t)sesp_bufr_i8(&t->r);
    uint32_t size = b >> 4;
    if (size == 15)
        size = sesp_bufr_uvarint(&t->r);
    *etype = b & 0x0f;
    /* Every element takes at least one byte, except booleans-in-struct which
     * do not occur in lists; this bounds allocations by the input size. */
    if (t->r.err || size > sesp_bufr_left(&t->r) || size > t->max_list || *etype == SESP_TC_STOP) {
        sesp_bufr_fail(&t->r, t->r.err ? t->r.err : SESP_ERR_MALFORMED);
        *n = 0;
        return false;
    }
    *n = size;
    return true;
}

bool sesp_tc_skip(sesp_tc_reader *t, int type)
{
    switch (type) {
    case SESP_TC_TRUE:
    case SESP_TC_FALSE:
        return !t->r.err;
    case SESP_TC_I8: sesp_bufr_skip(&t->r, 1); break;
    case SESP_TC_I16:
    case SESP_TC_I32:
    case SESP_TC_I64: sesp_bufr_uvarlong(&t->r); break;
    case SESP_TC_DOUBLE: sesp_bufr_skip(&t->r, 8); break;
    case SESP_TC_BINARY: { uint32_t l; sesp_tc_binary(t, &l); break; }
    case SESP_TC_LIST:
    case SESP_TC_SET: {
        int et; uint32_t n;
        if (!sesp_tc_list(t, &et, &n))
            return false;
        if (!sesp_tc_struct_begin(t))     /* depth accounting for nested containers */
            return false;
        for (uint32_t i = 0; i < n && !t->r.err; i++) {
            if (et == SESP_TC_TRUE || et == SESP_TC_FALSE)
                sesp_bufr_skip(&t->r, 1);   /* list booleans are one byte each */
            else
                sesp_tc_skip(t, et);
        }
        sesp_tc_struct_end(t);
        break;
    }
    case SESP_TC_MAP: {
        uint32_t n = sesp_bufr_uvarint(&t->r);
        if (n == 0)
            break;
        uint8_t kv = (uint8_t)sesp_bufr_i8(&t->r);
        if (t->r.err || n > sesp_bufr_left(&t->r)) {
            sesp_bufr_fail(&t->r, t->r.err ? t->r.err : SESP_ERR_MALFORMED);
            return false;
        }
        if (!sesp_tc_struct_begin(t))
            return false;
        for (uint32_t i = 0; i < n && !t->r.err; i++) {
            int kt = kv >> 4, vt = kv & 0x0f;
            if (kt == SESP_TC_TRUE || kt == SESP_TC_FALSE) sesp_bufr_skip(&t->r, 1); else sesp_tc_skip(t, kt);
            if (vt == SESP_TC_TRUE || vt == SESP_TC_FALSE) sesp_bufr_skip(&t->r, 1); else sesp_tc_skip(t, vt);
        }
        sesp_tc_struct_end(t);
        break;
    }
    case SESP_TC_STRUCT: {
        if (!sesp_tc_struct_begin(t))
            return false;
        int16_t id;
        int ft;
        while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP)
            if (!sesp_tc_skip(t, ft))
                break;
        sesp_tc_struct_end(t);
        break;
    }
    default:
        sesp_bufr_fail(&t->r, SESP_ERR_MALFORMED);
        return false;
    }
    return !t->r.err;
}

/* ---- writer ---- */

void sesp_tc_writer_init(sesp_tc_writer *t, sesp_bufw *w)
{
    t->w = w;
    t->depth = 0;
    t->last[0] = 0;
}

void sesp_tc_w_field(sesp_tc_writer *t, int type, int16_t id)
{
    int delta = id - t->last[t->depth];
    if (delta > 0 && delta <= 15) {
        sesp_bufw_i8(t->w, (int8_t)(uint8_t)((delta << 4) | type));
    } else {
        sesp_bufw_i8(t->w, (int8_t)type);
        sesp_bufw_varint(t->w, id);
    }
    t->last[t->depth] = id;
}

void sesp_tc_w_i32(sesp_tc_writer *t, int16_t id, int32_t v)
{
    sesp_tc_w_field(t, SESP_TC_I32, id);
    sesp_bufw_varint(t->w, v);
}

void sesp_tc_w_i64(sesp_tc_writer *t, int16_t id, int64_t v)
{
    sesp_tc_w_field(t, SESP_TC_I64, id);
    sesp_bufw_varlong(t->w, v);
}

void sesp_tc_w_i8(sesp_tc_writer *t, int16_t id, int8_t v)
{
    sesp_tc_w_field(t, SESP_TC_I8, id);
    sesp_bufw_i8(t->w, v);
}

void sesp_tc_w_bool(sesp_tc_writer *t, int16_t id, bool v)
{
    sesp_tc_w_field(t, v ? SESP_TC_TRUE : SESP_TC_FALSE, id);
}

void sesp_tc_w_binary(sesp_tc_writer *t, int16_t id, const void *p, size_t len)
{
    sesp_tc_w_field(t, SESP_TC_BINARY, id);
    sesp_tc_w_elem_binary(t, p, len);
}

void sesp_tc_w_struct_begin(sesp_tc_writer *t, int16_t id)
{
    if (id >= 0)
        sesp_tc_w_field(t, SESP_TC_STRUCT, id);
    assert(t->depth + 1 < SESP_TC_MAX_DEPTH);
    t->last[++t->depth] = 0;
}

void sesp_tc_w_struct_end(sesp_tc_writer *t)
{
    sesp_bufw_i8(t->w, SESP_TC_STOP);
    assert(t->depth > 0);
    t->depth--;
}

void sesp_tc_w_list_begin(sesp_tc_writer *t, int16_t id, int etype, uint32_t n)
{
    sesp_tc_w_field(t, SESP_TC_LIST, id);
    if (n < 15) {
        sesp_bufw_i8(t->w, (int8_t)(uint8_t)((n << 4) | (uint32_t)etype));
    } else {
        sesp_bufw_i8(t->w, (int8_t)(uint8_t)(0xf0 | etype));
        sesp_bufw_uvarint(t->w, n);
    }
}

void sesp_tc_w_elem_i32(sesp_tc_writer *t, int32_t v) { sesp_bufw_varint(t->w, v); }

void sesp_tc_w_elem_binary(sesp_tc_writer *t, const void *p, size_t len)
{
    sesp_bufw_uvarint(t->w, (uint32_t)len);
    sesp_bufw_put(t->w, p, len);
}
