/*
 * Parquet footer and page-header structures (parquet.thrift): FileMetaData,
 * SchemaElement with its LogicalType union, RowGroup, ColumnChunk,
 * ColumnMetaData, Statistics, KeyValue and PageHeader with its data (v1, v2)
 * and dictionary variants; encoding to and decoding from the Thrift compact
 * protocol.  Decoding accepts unknown fields (skipped), rejects missing
 * required fields and keeps decoded strings and arrays in an arena.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <string.h>

#include "common/err.h"

#define FAIL(t) sesp_bufr_fail(&(t)->r, SESP_ERR_MALFORMED)

static const char *dup_bin(sesp_tc_reader *t, sesp_arena *a)
{
    uint32_t len;
    const uint8_t *p = sesp_tc_binary(t, &len);
    if (!p)
        return NULL;
    char *s = sesp_arena_strndup(a, (const char *)p, len);
    if (!s)
        sesp_bufr_fail(&t->r, SESP_ERR_NOMEM);
    return s;
}

static sesp_pq_bytes get_bin(sesp_tc_reader *t)
{
    sesp_pq_bytes b;
    b.p = sesp_tc_binary(t, &b.len);
    return b;
}

static void skip_or_fail(sesp_tc_reader *t, int ft) { sesp_tc_skip(t, ft); }

/*
 * Begins a list<struct> field of type ft: the arena array for its elements
 * (size sz each) with *n their count, or NULL with the reader failed.
 */
static void *dec_struct_list(sesp_tc_reader *t, int ft, sesp_arena *a, size_t sz, uint32_t *n)
{
    int et;
    uint32_t cnt;
    if (ft != SESP_TC_LIST || !sesp_tc_list(t, &et, &cnt) || et != SESP_TC_STRUCT) {
        FAIL(t);
        return NULL;
    }
    void *v = sesp_arena_calloc(a, cnt ? cnt : 1, sz);
    if (!v) {
        sesp_bufr_fail(&t->r, SESP_ERR_NOMEM);
        return NULL;
    }
    *n = cnt;
    return v;
}

/* ---- Statistics ---- */

static void dec_stats(sesp_tc_reader *t, sesp_pq_md_stats *s)
{
    memset(s, 0, sizeof *s);
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (ft == SESP_TC_BINARY && id == 1) { s->max = get_bin(t); s->has_max = true; }
        else if (ft == SESP_TC_BINARY && id == 2) { s->min = get_bin(t); s->has_min = true; }
        else if (id == 3 && ft == SESP_TC_I64) { s->null_count = sesp_tc_i64(t); s->has_null_count = true; }
        else if (id == 4 && ft == SESP_TC_I64) { s->distinct_count = sesp_tc_i64(t); s->has_distinct_count = true; }
        else if (ft == SESP_TC_BINARY && id == 5) { s->max_value = get_bin(t); s->has_max_value = true; }
        else if (ft == SESP_TC_BINARY && id == 6) { s->min_value = get_bin(t); s->has_min_value = true; }
        else skip_or_fail(t, ft);
    }
    sesp_tc_struct_end(t);
}

static void enc_stats(sesp_tc_writer *t, int16_t id, const sesp_pq_md_stats *s)
{
    sesp_tc_w_struct_begin(t, id);
    if (s->has_max) sesp_tc_w_binary(t, 1, s->max.p, s->max.len);
    if (s->has_min) sesp_tc_w_binary(t, 2, s->min.p, s->min.len);
    if (s->has_null_count) sesp_tc_w_i64(t, 3, s->null_count);
    if (s->has_distinct_count) sesp_tc_w_i64(t, 4, s->distinct_count);
    if (s->has_max_value) sesp_tc_w_binary(t, 5, s->max_value.p, s->max_value.len);
    if (s->has_min_value) sesp_tc_w_binary(t, 6, s->min_value.p, s->min_value.len);
    sesp_tc_w_struct_end(t);
}

/* ---- LogicalType ---- */

/* Reads a struct whose content we ignore (the empty annotation structs). */
static void dec_empty(sesp_tc_reader *t) { sesp_tc_skip(t, SESP_TC_STRUCT); }

static sesp_pq_time_unit dec_time_unit(sesp_tc_reader *t)
{
    sesp_pq_time_unit u = SESP_PQ_MICROS;
    if (!sesp_tc_struct_begin(t))
        return u;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (ft == SESP_TC_STRUCT && id >= 1 && id <= 3) { u = (sesp_pq_time_unit)(id - 1); dec_empty(t); }
        else skip_or_fail(t, ft);
    }
    sesp_tc_struct_end(t);
    return u;
}

static void dec_time_like(sesp_tc_reader *t, sesp_pq_logical *lt)
{
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (id == 1 && (ft == SESP_TC_TRUE || ft == SESP_TC_FALSE)) lt->utc = sesp_tc_bool(t, ft);
        else if (id == 2 && ft == SESP_TC_STRUCT) lt->unit = dec_time_unit(t);
        else skip_or_fail(t, ft);
    }
    sesp_tc_struct_end(t);
}

static void dec_logical(sesp_tc_reader *t, sesp_pq_logical *lt)
{
    memset(lt, 0, sizeof *lt);
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (ft != SESP_TC_STRUCT) { skip_or_fail(t, ft); continue; }
        switch (id) {
        case 1: lt->kind = SESP_PQ_LT_STRING; dec_empty(t); break;
        case 2: lt->kind = SESP_PQ_LT_MAP; dec_empty(t); break;
        case 3: lt->kind = SESP_PQ_LT_LIST; dec_empty(t); break;
        case 4: lt->kind = SESP_PQ_LT_ENUM; dec_empty(t); break;
        case 5: {
            lt->kind = SESP_PQ_LT_DECIMAL;
            if (!sesp_tc_struct_begin(t))
                break;
            int16_t fid;
            int f2;
            while ((f2 = sesp_tc_field(t, &fid)) != SESP_TC_STOP) {
                if (fid == 1) lt->scale = sesp_tc_int_of(t, f2);
                else if (fid == 2) lt->precision = sesp_tc_int_of(t, f2);
                else skip_or_fail(t, f2);
            }
            sesp_tc_struct_end(t);
            break;
        }
        case 6: lt->kind = SESP_PQ_LT_DATE; dec_empty(t); break;
        case 7: lt->kind = SESP_PQ_LT_TIME; dec_time_like(t, lt); break;
        case 8: lt->kind = SESP_PQ_LT_TIMESTAMP; dec_time_like(t, lt); break;
        case 10: {
            lt->kind = SESP_PQ_LT_INT;
            if (!sesp_tc_struct_begin(t))
                break;
            int16_t fid;
            int f2;
            while ((f2 = sesp_tc_field(t, &fid)) != SESP_TC_STOP) {
                if (fid == 1) lt->bit_width = sesp_tc_int_of(t, f2);
                else if (fid == 2) lt->is_signed = sesp_tc_bool(t, f2);
                else skip_or_fail(t, f2);
            }
            sesp_tc_struct_end(t);
            break;
        }
        case 12: lt->kind = SESP_PQ_LT_JSON; dec_empty(t); break;
        case 13: lt->kind = SESP_PQ_LT_BSON; dec_empty(t); break;
        case 14: lt->kind = SESP_PQ_LT_UUID; dec_empty(t); break;
        default: lt->kind = SESP_PQ_LT_UNKNOWN; dec_empty(t); break;
        }
    }
    sesp_tc_struct_end(t);
}

static void enc_time_unit(sesp_tc_writer *t, int16_t id, sesp_pq_time_unit u)
{
    sesp_tc_w_struct_begin(t, id);
    sesp_tc_w_struct_begin(t, (int16_t)(u + 1));
    sesp_tc_w_struct_end(t);
    sesp_tc_w_struct_end(t);
}

static void enc_logical(sesp_tc_writer *t, int16_t id, const sesp_pq_logical *lt)
{
    static const int16_t ids[] = {
        [SESP_PQ_LT_STRING] = 1, [SESP_PQ_LT_MAP] = 2, [SESP_PQ_LT_LIST] = 3, [SESP_PQ_LT_ENUM] = 4,
        [SESP_PQ_LT_DECIMAL] = 5, [SESP_PQ_LT_DATE] = 6, [SESP_PQ_LT_TIME] = 7,
        [SESP_PQ_LT_TIMESTAMP] = 8, [SESP_PQ_LT_INT] = 10, [SESP_PQ_LT_JSON] = 12,
        [SESP_PQ_LT_BSON] = 13, [SESP_PQ_LT_UUID] = 14,
    };
    if (lt->kind <= SESP_PQ_LT_NONE || lt->kind >= SESP_PQ_LT_UNKNOWN)
        return;
    sesp_tc_w_struct_begin(t, id);
    sesp_tc_w_struct_begin(t, ids[lt->kind]);
    switch (lt->kind) {
    case SESP_PQ_LT_DECIMAL:
        sesp_tc_w_i32(t, 1, lt->scale);
        sesp_tc_w_i32(t, 2, lt->precision);
        break;
    case SESP_PQ_LT_TIME:
    case SESP_PQ_LT_TIMESTAMP:
        sesp_tc_w_bool(t, 1, lt->utc);
        enc_time_unit(t, 2, lt->unit);
        break;
    case SESP_PQ_LT_INT:
        sesp_tc_w_i8(t, 1, (int8_t)lt->bit_width);
        sesp_tc_w_bool(t, 2, lt->is_signed);
        break;
    default:
        break;
    }
    sesp_tc_w_struct_end(t);
    sesp_tc_w_struct_end(t);
}

/* ---- SchemaElement ---- */

static void dec_schema_el(sesp_tc_reader *t, sesp_arena *a, sesp_pq_md_schema *e)
{
    memset(e, 0, sizeof *e);
    e->type = e->repetition = e->num_children = e->converted_type = -1;
    e->scale = e->precision = e->field_id = -1;
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        switch (id) {
        case 1: e->type = sesp_tc_int_of(t, ft); break;
        case 2: e->type_length = sesp_tc_int_of(t, ft); break;
        case 3: e->repetition = sesp_tc_int_of(t, ft); break;
        case 4: if (ft == SESP_TC_BINARY) e->name = dup_bin(t, a); else FAIL(t); break;
        case 5: e->num_children = sesp_tc_int_of(t, ft); break;
        case 6: e->converted_type = sesp_tc_int_of(t, ft); break;
        case 7: e->scale = sesp_tc_int_of(t, ft); break;
        case 8: e->precision = sesp_tc_int_of(t, ft); break;
        case 9: e->field_id = sesp_tc_int_of(t, ft); break;
        case 10: if (ft == SESP_TC_STRUCT) dec_logical(t, &e->logical); else FAIL(t); break;
        default: skip_or_fail(t, ft); break;
        }
    }
    if (!e->name)
        FAIL(t);
    sesp_tc_struct_end(t);
}

static void enc_schema_el(sesp_tc_writer *t, const sesp_pq_md_schema *e)
{
    sesp_tc_w_struct_begin(t, -1);
    if (e->type >= 0) sesp_tc_w_i32(t, 1, e->type);
    if (e->type == SESP_PQ_FIXED_LEN_BYTE_ARRAY) sesp_tc_w_i32(t, 2, e->type_length);
    if (e->repetition >= 0) sesp_tc_w_i32(t, 3, e->repetition);
    sesp_tc_w_binary(t, 4, e->name, strlen(e->name));
    if (e->num_children >= 0) sesp_tc_w_i32(t, 5, e->num_children);
    if (e->converted_type >= 0) sesp_tc_w_i32(t, 6, e->converted_type);
    if (e->scale >= 0) sesp_tc_w_i32(t, 7, e->scale);
    if (e->precision >= 0) sesp_tc_w_i32(t, 8, e->precision);
    if (e->field_id >= 0) sesp_tc_w_i32(t, 9, e->field_id);
    enc_logical(t, 10, &e->logical);
    sesp_tc_w_struct_end(t);
}

/* ---- ColumnMetaData / ColumnChunk / RowGroup ---- */

static void dec_kv(sesp_tc_reader *t, sesp_arena *a, sesp_pq_kv *kv)
{
    kv->key = kv->value = NULL;
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (id == 1 && ft == SESP_TC_BINARY) kv->key = dup_bin(t, a);
        else if (id == 2 && ft == SESP_TC_BINARY) kv->value = dup_bin(t, a);
        else skip_or_fail(t, ft);
    }
    if (!kv->key)
        FAIL(t);
    sesp_tc_struct_end(t);
}

static void dec_column_md(sesp_tc_reader *t, sesp_arena *a, sesp_pq_md_column *c)
{
    memset(c, 0, sizeof *c);
    c->type = -1;
    c->codec = -1;
    c->data_page_offset = c->index_page_offset = c->dictionary_page_offset = -1;
    uint32_t seen = 0;
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (id >= 1 && id <= 12)
            seen |= 1u << id;
        switch (id) {
        case 1: c->type = sesp_tc_int_of(t, ft); break;
        case 2: {
            int et; uint32_t n;
            if (ft != SESP_TC_LIST || !sesp_tc_list(t, &et, &n)) { FAIL(t); break; }
            for (uint32_t i = 0; i < n && !t->r.err; i++) {
                int32_t e = sesp_tc_int_of(t, et);
                if (e >= 0 && e < 32)
                    c->encodings |= 1u << e;
            }
            break;
        }
        case 3: {
            int et; uint32_t n;
            if (ft != SESP_TC_LIST || !sesp_tc_list(t, &et, &n) || et != SESP_TC_BINARY) { FAIL(t); break; }
            c->path = sesp_arena_calloc(a, n ? n : 1, sizeof *c->path);
            if (!c->path) { sesp_bufr_fail(&t->r, SESP_ERR_NOMEM); break; }
            c->npath = n;
            for (uint32_t i = 0; i < n && !t->r.err; i++)
                c->path[i] = dup_bin(t, a);
            break;
        }
        case 4: c->codec = sesp_tc_int_of(t, ft); break;
        case 5: c->num_values = sesp_tc_i64_of(t, ft); break;
        case 6: c->total_uncompressed_size = sesp_tc_i64_of(t, ft); break;
        case 7: c->total_compressed_size = sesp_tc_i64_of(t, ft); break;
        case 9: c->data_page_offset = sesp_tc_i64_of(t, ft); break;
        case 10: c->index_page_offset = sesp_tc_i64_of(t, ft); break;
        case 11: c->dictionary_page_offset = sesp_tc_i64_of(t, ft); break;
        case 12:
            if (ft != SESP_TC_STRUCT) { FAIL(t); break; }
            dec_stats(t, &c->stats);
            c->has_stats = true;
            break;
        default: skip_or_fail(t, ft); break;
        }
    }
    uint32_t required = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) |
                        (1u << 7) | (1u << 9);
    if ((seen & required) != required)
        FAIL(t);
    sesp_tc_struct_end(t);
}

static void enc_column_md(sesp_tc_writer *t, int16_t id, const sesp_pq_md_column *c)
{
    sesp_tc_w_struct_begin(t, id);
    sesp_tc_w_i32(t, 1, c->type);
    uint32_t n = (uint32_t)__builtin_popcount(c->encodings);
    sesp_tc_w_list_begin(t, 2, SESP_TC_I32, n);
    for (int e = 0; e < 32; e++)
        if (c->encodings & (1u << e))
            sesp_tc_w_elem_i32(t, e);
    sesp_tc_w_list_begin(t, 3, SESP_TC_BINARY, c->npath);
    for (uint32_t i = 0; i < c->npath; i++)
        sesp_tc_w_elem_binary(t, c->path[i], strlen(c->path[i]));
    sesp_tc_w_i32(t, 4, c->codec);
    sesp_tc_w_i64(t, 5, c->num_values);
    sesp_tc_w_i64(t, 6, c->total_uncompressed_size);
    sesp_tc_w_i64(t, 7, c->total_compressed_size);
    sesp_tc_w_i64(t, 9, c->data_page_offset);
    if (c->index_page_offset >= 0) sesp_tc_w_i64(t, 10, c->index_page_offset);
    if (c->dictionary_page_offset >= 0) sesp_tc_w_i64(t, 11, c->dictionary_page_offset);
    if (c->has_stats) enc_stats(t, 12, &c->stats);
    sesp_tc_w_struct_end(t);
}

static void dec_chunk(sesp_tc_reader *t, sesp_arena *a, sesp_pq_md_chunk *c)
{
    memset(c, 0, sizeof *c);
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (id == 1 && ft == SESP_TC_BINARY) c->file_path = dup_bin(t, a);
        else if (id == 2) c->file_offset = sesp_tc_i64_of(t, ft);
        else if (id == 3 && ft == SESP_TC_STRUCT) { dec_column_md(t, a, &c->meta); c->has_meta = true; }
        else skip_or_fail(t, ft);
    }
    sesp_tc_struct_end(t);
}

static void dec_row_group(sesp_tc_reader *t, sesp_arena *a, sesp_pq_md_row_group *g)
{
    memset(g, 0, sizeof *g);
    g->file_offset = g->total_compressed_size = -1;
    g->ordinal = -1;
    bool have_cols = false, have_rows = false;
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        switch (id) {
        case 1:
            if (!(g->columns = dec_struct_list(t, ft, a, sizeof *g->columns, &g->ncolumns)))
                break;
            for (uint32_t i = 0; i < g->ncolumns && !t->r.err; i++)
                dec_chunk(t, a, &g->columns[i]);
            have_cols = true;
            break;
        case 2: g->total_byte_size = sesp_tc_i64_of(t, ft); break;
        case 3: g->num_rows = sesp_tc_i64_of(t, ft); have_rows = true; break;
        case 5: g->file_offset = sesp_tc_i64_of(t, ft); break;
        case 6: g->total_compressed_size = sesp_tc_i64_of(t, ft); break;
        case 7: g->ordinal = sesp_tc_int_of(t, ft); break;
        default: skip_or_fail(t, ft); break;
        }
    }
    if (!have_cols || !have_rows)
        FAIL(t);
    sesp_tc_struct_end(t);
}

/* ---- FileMetaData ---- */

int sesp_pq_md_file_decode(const uint8_t *p, size_t len, sesp_arena *a, sesp_pq_md_file *f)
{
    memset(f, 0, sizeof *f);
    sesp_tc_reader tr, *t = &tr;
    sesp_tc_reader_init(t, p, len);
    bool have_schema = false, have_rows = false, have_rgs = false;
    if (!sesp_tc_struct_begin(t))
        return SESP_ERR_MALFORMED;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        switch (id) {
        case 1: f->version = sesp_tc_int_of(t, ft); break;
        case 2:
            if (!(f->schema = dec_struct_list(t, ft, a, sizeof *f->schema, &f->nschema)))
                break;
            for (uint32_t i = 0; i < f->nschema && !t->r.err; i++)
                dec_schema_el(t, a, &f->schema[i]);
            have_schema = true;
            break;
        case 3: f->num_rows = sesp_tc_i64_of(t, ft); have_rows = true; break;
        case 4:
            if (!(f->row_groups = dec_struct_list(t, ft, a, sizeof *f->row_groups, &f->nrow_groups)))
                break;
            for (uint32_t i = 0; i < f->nrow_groups && !t->r.err; i++)
                dec_row_group(t, a, &f->row_groups[i]);
            have_rgs = true;
            break;
        case 5:
            if (!(f->kv = dec_struct_list(t, ft, a, sizeof *f->kv, &f->nkv)))
                break;
            for (uint32_t i = 0; i < f->nkv && !t->r.err; i++)
                dec_kv(t, a, &f->kv[i]);
            break;
        case 6: if (ft == SESP_TC_BINARY) f->created_by = dup_bin(t, a); else FAIL(t); break;
        default: skip_or_fail(t, ft); break;
        }
    }
    if (!t->r.err && (!have_schema || !have_rows || !have_rgs))
        return SESP_ERR_MALFORMED;
    return t->r.err;
}

void sesp_pq_md_file_encode(const sesp_pq_md_file *f, sesp_bufw *w)
{
    sesp_tc_writer tw, *t = &tw;
    sesp_tc_writer_init(t, w);
    sesp_tc_w_struct_begin(t, -1);
    sesp_tc_w_i32(t, 1, f->version);
    sesp_tc_w_list_begin(t, 2, SESP_TC_STRUCT, f->nschema);
    for (uint32_t i = 0; i < f->nschema; i++)
        enc_schema_el(t, &f->schema[i]);
    sesp_tc_w_i64(t, 3, f->num_rows);
    sesp_tc_w_list_begin(t, 4, SESP_TC_STRUCT, f->nrow_groups);
    for (uint32_t g = 0; g < f->nrow_groups; g++) {
        const sesp_pq_md_row_group *rg = &f->row_groups[g];
        sesp_tc_w_struct_begin(t, -1);
        sesp_tc_w_list_begin(t, 1, SESP_TC_STRUCT, rg->ncolumns);
        for (uint32_t c = 0; c < rg->ncolumns; c++) {
            const sesp_pq_md_chunk *ch = &rg->columns[c];
            sesp_tc_w_struct_begin(t, -1);
            if (ch->file_path) sesp_tc_w_binary(t, 1, ch->file_path, strlen(ch->file_path));
            sesp_tc_w_i64(t, 2, ch->file_offset);
            if (ch->has_meta) enc_column_md(t, 3, &ch->meta);
            sesp_tc_w_struct_end(t);
        }
        sesp_tc_w_i64(t, 2, rg->total_byte_size);
        sesp_tc_w_i64(t, 3, rg->num_rows);
        if (rg->file_offset >= 0) sesp_tc_w_i64(t, 5, rg->file_offset);
        if (rg->total_compressed_size >= 0) sesp_tc_w_i64(t, 6, rg->total_compressed_size);
        if (rg->ordinal >= 0) {
            sesp_tc_w_field(t, SESP_TC_I16, 7);
            sesp_bufw_varint(w, rg->ordinal);
        }
        sesp_tc_w_struct_end(t);
    }
    if (f->nkv) {
        sesp_tc_w_list_begin(t, 5, SESP_TC_STRUCT, f->nkv);
        for (uint32_t i = 0; i < f->nkv; i++) {
            sesp_tc_w_struct_begin(t, -1);
            sesp_tc_w_binary(t, 1, f->kv[i].key, strlen(f->kv[i].key));
            if (f->kv[i].value) sesp_tc_w_binary(t, 2, f->kv[i].value, strlen(f->kv[i].value));
            sesp_tc_w_struct_end(t);
        }
    }
    if (f->created_by) sesp_tc_w_binary(t, 6, f->created_by, strlen(f->created_by));
    if (f->write_column_orders) {
        uint32_t leaves = 0;
        for (uint32_t i = 0; i < f->nschema; i++)
            if (f->schema[i].num_children < 0)
                leaves++;
        sesp_tc_w_list_begin(t, 7, SESP_TC_STRUCT, leaves);
        for (uint32_t i = 0; i < leaves; i++) {
            sesp_tc_w_struct_begin(t, -1);      /* ColumnOrder union */
            sesp_tc_w_struct_begin(t, 1);       /* TYPE_ORDER */
            sesp_tc_w_struct_end(t);
            sesp_tc_w_struct_end(t);
        }
    }
    sesp_tc_w_struct_end(t);
}

/* ---- PageHeader ---- */

/* A field of one of the PageHeader's nested structs, decoded into h. */
typedef void (*page_field_fn)(sesp_tc_reader *t, sesp_pq_md_page *h, int16_t id, int ft);

/* Decodes a nested struct through field(); fails unless every field id in
 * required (bit i for id i) was present. */
static void dec_page_part(sesp_tc_reader *t, sesp_pq_md_page *h, uint32_t required, page_field_fn field)
{
    uint32_t seen = 0;
    if (!sesp_tc_struct_begin(t))
        return;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (id >= 0 && id < 32) seen |= (1u << id) & required;
        field(t, h, id, ft);
    }
    if (seen != required)
        FAIL(t);
    sesp_tc_struct_end(t);
}

static void data_v1_field(sesp_tc_reader *t, sesp_pq_md_page *h, int16_t id, int ft)
{
    switch (id) {
    case 1: h->data.num_values = sesp_tc_int_of(t, ft); break;
    case 2: h->data.encoding = sesp_tc_int_of(t, ft); break;
    case 3: h->data.def_encoding = sesp_tc_int_of(t, ft); break;
    case 4: h->data.rep_encoding = sesp_tc_int_of(t, ft); break;
    case 5:
        if (ft != SESP_TC_STRUCT) { FAIL(t); break; }
        dec_stats(t, &h->data.stats);
        h->data.has_stats = true;
        break;
    default: skip_or_fail(t, ft); break;
    }
}

static void data_v2_field(sesp_tc_reader *t, sesp_pq_md_page *h, int16_t id, int ft)
{
    switch (id) {
    case 1: h->v2.num_values = sesp_tc_int_of(t, ft); break;
    case 2: h->v2.num_nulls = sesp_tc_int_of(t, ft); break;
    case 3: h->v2.num_rows = sesp_tc_int_of(t, ft); break;
    case 4: h->v2.encoding = sesp_tc_int_of(t, ft); break;
    case 5: h->v2.def_len = sesp_tc_int_of(t, ft); break;
    case 6: h->v2.rep_len = sesp_tc_int_of(t, ft); break;
    case 7: h->v2.is_compressed = sesp_tc_bool(t, ft); break;
    case 8:
        if (ft != SESP_TC_STRUCT) { FAIL(t); break; }
        dec_stats(t, &h->v2.stats);
        h->v2.has_stats = true;
        break;
    default: skip_or_fail(t, ft); break;
    }
}

static void dict_field(sesp_tc_reader *t, sesp_pq_md_page *h, int16_t id, int ft)
{
    switch (id) {
    case 1: h->dict.num_values = sesp_tc_int_of(t, ft); break;
    case 2: h->dict.encoding = sesp_tc_int_of(t, ft); break;
    case 3: h->dict.is_sorted = sesp_tc_bool(t, ft); break;
    default: skip_or_fail(t, ft); break;
    }
}

int sesp_pq_md_page_decode(const uint8_t *p, size_t len, sesp_pq_md_page *h, size_t *used)
{
    memset(h, 0, sizeof *h);
    sesp_tc_reader tr, *t = &tr;
    sesp_tc_reader_init(t, p, len);
    uint32_t seen = 0;
    if (!sesp_tc_struct_begin(t))
        return SESP_ERR_MALFORMED;
    int16_t id;
    int ft;
    while ((ft = sesp_tc_field(t, &id)) != SESP_TC_STOP) {
        if (id >= 1 && id <= 3) seen |= 1u << id;
        switch (id) {
        case 1: h->type = sesp_tc_int_of(t, ft); break;
        case 2: h->uncompressed_page_size = sesp_tc_int_of(t, ft); break;
        case 3: h->compressed_page_size = sesp_tc_int_of(t, ft); break;
        case 4: h->crc = sesp_tc_int_of(t, ft); h->has_crc = true; break;
        case 5:
            if (ft != SESP_TC_STRUCT) { FAIL(t); break; }
            dec_page_part(t, h, 0x1e, data_v1_field);
            h->has_data = true;
            break;
        case 7:
            if (ft != SESP_TC_STRUCT) { FAIL(t); break; }
            dec_page_part(t, h, 0x6, dict_field);
            h->has_dict = true;
            break;
        case 8:
            if (ft != SESP_TC_STRUCT) { FAIL(t); break; }
            h->v2.is_compressed = true; /* the spec's default when the field is absent */
            dec_page_part(t, h, 0x7e, data_v2_field);
            h->has_v2 = true;
            break;
        default: skip_or_fail(t, ft); break;
        }
    }
    if (t->r.err)
        return t->r.err;
    if (seen != 0xe || h->uncompressed_page_size < 0 || h->compressed_page_size < 0)
        return SESP_ERR_MALFORMED;
    *used = t->r.pos;
    return 0;
}

void sesp_pq_md_page_encode(const sesp_pq_md_page *h, sesp_bufw *w)
{
    sesp_tc_writer tw, *t = &tw;
    sesp_tc_writer_init(t, w);
    sesp_tc_w_struct_begin(t, -1);
    sesp_tc_w_i32(t, 1, h->type);
    sesp_tc_w_i32(t, 2, h->uncompressed_page_size);
    sesp_tc_w_i32(t, 3, h->compressed_page_size);
    if (h->has_crc) sesp_tc_w_i32(t, 4, h->crc);
    if (h->has_data) {
        sesp_tc_w_struct_begin(t, 5);
        sesp_tc_w_i32(t, 1, h->data.num_values);
        sesp_tc_w_i32(t, 2, h->data.encoding);
        sesp_tc_w_i32(t, 3, h->data.def_encoding);
        sesp_tc_w_i32(t, 4, h->data.rep_encoding);
        if (h->data.has_stats) enc_stats(t, 5, &h->data.stats);
        sesp_tc_w_struct_end(t);
    }
    if (h->has_dict) {
        sesp_tc_w_struct_begin(t, 7);
        sesp_tc_w_i32(t, 1, h->dict.num_values);
        sesp_tc_w_i32(t, 2, h->dict.encoding);
        if (h->dict.is_sorted) sesp_tc_w_bool(t, 3, true);
        sesp_tc_w_struct_end(t);
    }
    if (h->has_v2) {
        sesp_tc_w_struct_begin(t, 8);
        sesp_tc_w_i32(t, 1, h->v2.num_values);
        sesp_tc_w_i32(t, 2, h->v2.num_nulls);
        sesp_tc_w_i32(t, 3, h->v2.num_rows);
        sesp_tc_w_i32(t, 4, h->v2.encoding);
        sesp_tc_w_i32(t, 5, h->v2.def_len);
        sesp_tc_w_i32(t, 6, h->v2.rep_len);
        sesp_tc_w_bool(t, 7, h->v2.is_compressed);
        if (h->v2.has_stats) enc_stats(t, 8, &h->v2.stats);
        sesp_tc_w_struct_end(t);
    }
    sesp_tc_w_struct_end(t);
}
