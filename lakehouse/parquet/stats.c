/*
 * Column statistics: min/max under the sort order the column's logical type
 * defines (signed for signed integers, dates, timestamps and decimals,
 * unsigned for unsigned integers, unsigned bytewise for strings, UUIDs and
 * other byte arrays; NaN never becomes a bound and zero bounds are written as
 * -0.0 / +0.0 as parquet.thrift asks) and null counts, accumulated per page
 * and merged per column chunk, and turned into the Thrift Statistics struct.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <math.h>

#define SESP_PQ_MAX_STAT_BYTES 4096
#include <string.h>

sesp_pq_sort_order sesp_pq_sort_order_of(const sesp_pq_node *n)
{
    switch (n->physical) {
    case SESP_PQ_BOOLEAN: case SESP_PQ_FLOAT: case SESP_PQ_DOUBLE:
        return SESP_PQ_ORDER_SIGNED;
    case SESP_PQ_INT32: case SESP_PQ_INT64:
        if (n->logical.kind == SESP_PQ_LT_INT && !n->logical.is_signed)
            return SESP_PQ_ORDER_UNSIGNED;
        return SESP_PQ_ORDER_SIGNED;
    case SESP_PQ_FIXED_LEN_BYTE_ARRAY:
        return n->logical.kind == SESP_PQ_LT_DECIMAL ? SESP_PQ_ORDER_SIGNED : SESP_PQ_ORDER_UNSIGNED;
    case SESP_PQ_BYTE_ARRAY:
        return n->logical.kind == SESP_PQ_LT_DECIMAL ? SESP_PQ_ORDER_UNDEFINED : SESP_PQ_ORDER_UNSIGNED;
    default:
        return SESP_PQ_ORDER_UNDEFINED;
    }
}

void sesp_pq_stats_init(sesp_pq_stats *s, const sesp_pq_node *n)
{
    memset(s, 0, sizeof *s);
    s->type = n->physical;
    s->type_length = n->type_length;
    s->order = sesp_pq_sort_order_of(n);
    sesp_bufw_init(&s->minb, 0, 0);
    sesp_bufw_init(&s->maxb, 0, 0);
}

void sesp_pq_stats_free(sesp_pq_stats *s)
{
    sesp_bufw_free(&s->minb);
    sesp_bufw_free(&s->maxb);
}

void sesp_pq_stats_reset(sesp_pq_stats *s)
{
    s->has = false;
    s->null_count = 0;
    sesp_bufw_reset(&s->minb);
    sesp_bufw_reset(&s->maxb);
}

void sesp_pq_stats_i32(sesp_pq_stats *s, int32_t v)
{
    if (!s->has) {
        s->min.i32 = s->max.i32 = v;
        s->has = true;
    } else if (s->order == SESP_PQ_ORDER_UNSIGNED) {
        if ((uint32_t)v < (uint32_t)s->min.i32) s->min.i32 = v;
        if ((uint32_t)v > (uint32_t)s->max.i32) s->max.i32 = v;
    } else {
        if (v < s->min.i32) s->min.i32 = v;
        if (v > s->max.i32) s->max.i32 = v;
    }
}

void sesp_pq_stats_i64(sesp_pq_stats *s, int64_t v)
{
    if (!s->has) {
        s->min.i64 = s->max.i64 = v;
        s->has = true;
    } else if (s->order == SESP_PQ_ORDER_UNSIGNED) {
        if ((uint64_t)v < (uint64_t)s->min.i64) s->min.i64 = v;
        if ((uint64_t)v > (uint64_t)s->max.i64) s->max.i64 = v;
    } else {
        if (v < s->min.i64) s->min.i64 = v;
        if (v > s->max.i64) s->max.i64 = v;
    }
}

void sesp_pq_stats_float(sesp_pq_stats *s, float v)
{
    if (isnan(v))
        return;
    if (!s->has) {
        s->min.f = s->max.f = v;
        s->has = true;
        return;
    }
    if (v < s->min.f) s->min.f = v;
    if (v > s->max.f) s->max.f = v;
}

void sesp_pq_stats_double(sesp_pq_stats *s, double v)
{
    if (isnan(v))
        return;
    if (!s->has) {
        s->min.d = s->max.d = v;
        s->has = true;
        return;
    }
    if (v < s->min.d) s->min.d = v;
    if (v > s->max.d) s->max.d = v;
}

void sesp_pq_stats_bool(sesp_pq_stats *s, bool v)
{
    if (!s->has) {
        s->min.b = s->max.b = v;
        s->has = true;
        return;
    }
    if (!v) s->min.b = false;
    if (v) s->max.b = true;
}

/* Signed comparison of big-endian two's complement byte strings of equal
 * length (DECIMAL on FIXED), else unsigned bytewise with shorter-is-smaller. */
static int cmp_bytes(sesp_pq_sort_order o, const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    if (o == SESP_PQ_ORDER_SIGNED && al == bl && al > 0) {
        int sa = a[0] & 0x80, sb = b[0] & 0x80;
        if (sa != sb)
            return sa ? -1 : 1;
        return memcmp(a, b, al);
    }
    size_t m = al < bl ? al : bl;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

void sesp_pq_stats_bytes(sesp_pq_stats *s, const uint8_t *p, size_t len)
{
    if (s->order == SESP_PQ_ORDER_UNDEFINED)
        return;
    if (!s->has) {
        sesp_bufw_reset(&s->minb);
        sesp_bufw_put(&s->minb, p, len);
        sesp_bufw_reset(&s->maxb);
        sesp_bufw_put(&s->maxb, p, len);
        s->has = true;
        return;
    }
    if (cmp_bytes(s->order, p, len, s->minb.p, s->minb.len) < 0) {
        sesp_bufw_reset(&s->minb);
        sesp_bufw_put(&s->minb, p, len);
    }
    if (cmp_bytes(s->order, p, len, s->maxb.p, s->maxb.len) > 0) {
        sesp_bufw_reset(&s->maxb);
        sesp_bufw_put(&s->maxb, p, len);
    }
}

void sesp_pq_stats_merge(sesp_pq_stats *into, const sesp_pq_stats *from)
{
    into->null_count += from->null_count;
    if (!from->has)
        return;
    switch (from->type) {
    case SESP_PQ_BOOLEAN: sesp_pq_stats_bool(into, from->min.b); sesp_pq_stats_bool(into, from->max.b); break;
    case SESP_PQ_INT32: sesp_pq_stats_i32(into, from->min.i32); sesp_pq_stats_i32(into, from->max.i32); break;
    case SESP_PQ_INT64: sesp_pq_stats_i64(into, from->min.i64); sesp_pq_stats_i64(into, from->max.i64); break;
    case SESP_PQ_FLOAT: sesp_pq_stats_float(into, from->min.f); sesp_pq_stats_float(into, from->max.f); break;
    case SESP_PQ_DOUBLE: sesp_pq_stats_double(into, from->min.d); sesp_pq_stats_double(into, from->max.d); break;
    default:
        sesp_pq_stats_bytes(into, from->minb.p, from->minb.len);
        sesp_pq_stats_bytes(into, from->maxb.p, from->maxb.len);
        break;
    }
}

void sesp_pq_stats_to_md(const sesp_pq_stats *s, uint8_t scratch[16], sesp_pq_md_stats *md)
{
    memset(md, 0, sizeof *md);
    md->has_null_count = true;
    md->null_count = s->null_count;
    if (!s->has || s->order == SESP_PQ_ORDER_UNDEFINED)
        return;
    sesp_pq_bytes mn, mx;
    switch (s->type) {
    case SESP_PQ_BOOLEAN:
        scratch[0] = s->min.b; scratch[8] = s->max.b;
        mn.len = mx.len = 1;
        break;
    case SESP_PQ_INT32:
        memcpy(scratch, &s->min.i32, 4); memcpy(scratch + 8, &s->max.i32, 4);
        mn.len = mx.len = 4;
        break;
    case SESP_PQ_INT64:
        memcpy(scratch, &s->min.i64, 8); memcpy(scratch + 8, &s->max.i64, 8);
        mn.len = mx.len = 8;
        break;
    case SESP_PQ_FLOAT: {
        float a = s->min.f == 0 ? -0.0f : s->min.f, b = s->max.f == 0 ? 0.0f : s->max.f;
        memcpy(scratch, &a, 4); memcpy(scratch + 8, &b, 4);
        mn.len = mx.len = 4;
        break;
    }
    case SESP_PQ_DOUBLE: {
        double a = s->min.d == 0 ? -0.0 : s->min.d, b = s->max.d == 0 ? 0.0 : s->max.d;
        memcpy(scratch, &a, 8); memcpy(scratch + 8, &b, 8);
        mn.len = mx.len = 8;
        break;
    }
    default:
        /* Huge bounds would bloat every footer and page header; omit them
         * (truncating a max needs an increment that may not exist). */
        if (s->minb.len > SESP_PQ_MAX_STAT_BYTES || s->maxb.len > SESP_PQ_MAX_STAT_BYTES)
            return;
        md->has_min_value = md->has_max_value = true;
        md->min_value = (sesp_pq_bytes){s->minb.p, (uint32_t)s->minb.len};
        md->max_value = (sesp_pq_bytes){s->maxb.p, (uint32_t)s->maxb.len};
        return;
    }
    mn.p = scratch;
    mx.p = scratch + 8;
    md->has_min_value = md->has_max_value = true;
    md->min_value = mn;
    md->max_value = mx;
    if (s->order == SESP_PQ_ORDER_SIGNED) {
        /* The legacy fields are defined as signed order: fine for these. */
        md->has_min = md->has_max = true;
        md->min = mn;
        md->max = mx;
    }
}

int sesp_pq_stats_compare(sesp_pq_physical t, sesp_pq_sort_order o, sesp_pq_bytes a, sesp_pq_bytes b)
{
    switch (t) {
    case SESP_PQ_INT32: {
        int32_t x = 0, y = 0;
        if (a.len >= 4) memcpy(&x, a.p, 4);
        if (b.len >= 4) memcpy(&y, b.p, 4);
        if (o == SESP_PQ_ORDER_UNSIGNED) return (uint32_t)x < (uint32_t)y ? -1 : (uint32_t)x > (uint32_t)y;
        return x < y ? -1 : x > y;
    }
    case SESP_PQ_INT64: {
        int64_t x = 0, y = 0;
        if (a.len >= 8) memcpy(&x, a.p, 8);
        if (b.len >= 8) memcpy(&y, b.p, 8);
        if (o == SESP_PQ_ORDER_UNSIGNED) return (uint64_t)x < (uint64_t)y ? -1 : (uint64_t)x > (uint64_t)y;
        return x < y ? -1 : x > y;
    }
    case SESP_PQ_FLOAT: {
        float x = 0, y = 0;
        if (a.len >= 4) memcpy(&x, a.p, 4);
        if (b.len >= 4) memcpy(&y, b.p, 4);
        return x < y ? -1 : x > y;
    }
    case SESP_PQ_DOUBLE: {
        double x = 0, y = 0;
        if (a.len >= 8) memcpy(&x, a.p, 8);
        if (b.len >= 8) memcpy(&y, b.p, 8);
        return x < y ? -1 : x > y;
    }
    case SESP_PQ_BOOLEAN: {
        int x = a.len ? a.p[0] : 0, y = b.len ? b.p[0] : 0;
        return x < y ? -1 : x > y;
    }
    default:
        return cmp_bytes(o, a.p, a.len, b.p, b.len);
    }
}
