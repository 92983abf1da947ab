/*
 * The Parquet writer: shreds rows (Dremel definition/repetition levels) or
 * flat column batches into per-column page buffers, cuts data pages (v1 or
 * v2) at page_bytes, dictionary-encodes each column chunk until its
 * dictionary passes the limit (then re-encodes the pending page as PLAIN and
 * continues PLAIN), compresses pages, keeps each row group's column chunks in
 * memory until the buffered size passes row_group_bytes and then streams them
 * to the sink, and finally writes the footer.  The hot path appends to
 * growable buffers only; nothing is allocated per value.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#ifndef SESP_VERSION
#define SESP_VERSION "0.0.0"
#endif
#ifndef SESP_BUILD_ID
#define SESP_BUILD_ID "dev"
#endif

#define DICT_PROBE 16384

typedef struct col_writer {
    const sesp_pq_node *n;
    int col;
    int max_def, max_rep;
    /* current page */
    int16_t *def, *rep;
    size_t nlev, levcap;
    sesp_bufw plain;            /* PLAIN values (booleans: one byte each until the cut) */
    uint32_t *idx;
    size_t nidx, idxcap;
    size_t page_values, page_nulls, page_rows;
    /* dictionary */
    bool dict_on;
    sesp_pq_dict dict;
    size_t dict_inserts;        /* values offered to the dictionary this chunk */
    int dict_pages;
    /* statistics */
    sesp_pq_stats page_stats, chunk_stats;
    /* row-group output */
    sesp_bufw chunk;            /* data pages, header + body */
    int64_t chunk_uncompressed;
    int64_t chunk_values;
    uint32_t encodings;
} col_writer;

struct sesp_pq_writer {
    sesp_pq_schema *schema;
    sesp_pq_writer_options opt;
    sesp_pq_sink sink;
    uint64_t pos;
    int err;
    char errmsg[256];
    col_writer *cols;
    int ncols;
    int *first_col, *ncol_under;        /* per node: leaf column range */
    int64_t rg_rows;
    int64_t total_rows;
    sesp_arena arena;                   /* footer metadata for the whole file */
    sesp_pq_md_row_group *rgs;
    uint32_t nrgs, rgcap;
    sesp_pq_kv *kv;
    uint32_t nkv, kvcap;
    char *created_by;
    sesp_bufw scratch, comp, hdr;       /* page assembly */
    size_t peak_buffered;
    size_t row_bytes;                   /* buffered bytes per row, as last seen (0 = none yet) */
};

static int fail(sesp_pq_writer *w, int err, const char *fmt, ...)
{
    if (!w->err) {
        w->err = err;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->errmsg, sizeof w->errmsg, fmt, ap);
        va_end(ap);
    }
    return w->err;
}

const char *sesp_pq_writer_error(const sesp_pq_writer *w)
{
    /* The last message, also after a rejected row that left the writer usable. */
    return w->errmsg[0] ? w->errmsg : "no error";
}

int sesp_pq_sink_stdio_write(void *ctx, const void *p, size_t len)
{
    return fwrite(p, 1, len, (FILE *)ctx) == len ? 0 : SESP_ERR_IO;
}

static int sink_write(sesp_pq_writer *w, const void *p, size_t len)
{
    if (!len)
        return 0;
    int rc = w->sink.write(w->sink.ctx, p, len);
    if (rc)
        return fail(w, rc, "sink write failed: %s", sesp_strerror(rc));
    w->pos += len;
    return 0;
}

/* ---- per-value appends ---- */

static inline bool grow_levels(col_writer *c)
{
    if (c->nlev < c->levcap)
        return true;
    size_t nc = c->levcap ? c->levcap * 2 : 1024;
    if (c->max_def) {
        int16_t *d = realloc(c->def, nc * sizeof *d);
        if (!d) return false;
        c->def = d;
    }
    if (c->max_rep) {
        int16_t *r = realloc(c->rep, nc * sizeof *r);
        if (!r) return false;
        c->rep = r;
    }
    c->levcap = nc;
    return true;
}

static inline int put_level(sesp_pq_writer *w, col_writer *c, int d, int r)
{
    if (!c->max_def && !c->max_rep) {
        c->nlev++;
        return 0;
    }
    if (!grow_levels(c))
        return fail(w, SESP_ERR_NOMEM, "out of memory");
    if (c->max_def) c->def[c->nlev] = (int16_t)d;
    if (c->max_rep) c->rep[c->nlev] = (int16_t)r;
    c->nlev++;
    if (d < c->max_def) {
        c->page_nulls++;
        c->page_stats.null_count++;
    }
    return 0;
}

/* Leaves dictionary mode: the pending page's indices become PLAIN values. */
static int dict_fallback(sesp_pq_writer *w, col_writer *c)
{
    for (size_t i = 0; i < c->nidx; i++) {
        uint32_t e = c->idx[i];
        sesp_bufw_put(&c->plain, c->dict.plain.p + c->dict.offsets[e] -
                      (c->n->physical == SESP_PQ_BYTE_ARRAY ? 4 : 0),
                      c->dict.lens[e] + (c->n->physical == SESP_PQ_BYTE_ARRAY ? 4 : 0));
    }
    c->nidx = 0;
    c->dict_on = false;
    if (c->plain.err)
        return fail(w, SESP_ERR_NOMEM, "out of memory");
    return 0;
}

static inline int put_raw(sesp_pq_writer *w, col_writer *c, const void *p, size_t len)
{
    c->page_values++;
    if (c->dict_on) {
        int64_t e = sesp_pq_dict_insert(&c->dict, p, len);
        if (e < 0)
            return fail(w, SESP_ERR_NOMEM, "out of memory (dictionary)");
        if (c->nidx == c->idxcap) {
            size_t nc = c->idxcap ? c->idxcap * 2 : 1024;
            uint32_t *x = realloc(c->idx, nc * sizeof *x);
            if (!x)
                return fail(w, SESP_ERR_NOMEM, "out of memory");
            c->idx = x;
            c->idxcap = nc;
        }
        c->idx[c->nidx++] = (uint32_t)e;
        if (c->dict.plain.len > w->opt.dictionary_page_limit)
            return dict_fallback(w, c);
        /* Mostly-distinct values gain nothing from a dictionary and only cost
         * hash-table cache misses: give up early, once. */
        if (++c->dict_inserts == DICT_PROBE && c->dict.n > DICT_PROBE / 2)
            return dict_fallback(w, c);
        return 0;
    }
    if (c->n->physical == SESP_PQ_BYTE_ARRAY)
        sesp_bufw_u32le(&c->plain, (uint32_t)len);
    if (len)
        sesp_bufw_put(&c->plain, p, len);
    if (c->plain.err)
        return fail(w, SESP_ERR_NOMEM, "out of memory");
    return 0;
}

static inline int put_bool(sesp_pq_writer *w, col_writer *c, bool b)
{
    c->page_values++;
    sesp_pq_stats_bool(&c->page_stats, b);
    sesp_bufw_i8(&c->plain, b ? 1 : 0);
    return c->plain.err ? fail(w, SESP_ERR_NOMEM, "out of memory") : 0;
}

static inline int put_i32(sesp_pq_writer *w, col_writer *c, int32_t v)
{
    sesp_pq_stats_i32(&c->page_stats, v);
    return put_raw(w, c, &v, 4);
}

static inline int put_i64(sesp_pq_writer *w, col_writer *c, int64_t v)
{
    sesp_pq_stats_i64(&c->page_stats, v);
    return put_raw(w, c, &v, 8);
}

static inline int put_float(sesp_pq_writer *w, col_writer *c, float v)
{
    sesp_pq_stats_float(&c->page_stats, v);
    return put_raw(w, c, &v, 4);
}

static inline int put_double(sesp_pq_writer *w, col_writer *c, double v)
{
    sesp_pq_stats_double(&c->page_stats, v);
    return put_raw(w, c, &v, 8);
}

static inline int put_bytes(sesp_pq_writer *w, col_writer *c, const uint8_t *p, size_t len)
{
    sesp_pq_stats_bytes(&c->page_stats, p, len);
    return put_raw(w, c, p, len);
}

static size_t page_estimate(const col_writer *c)
{
    return c->plain.len + c->nidx * 2 + c->nlev / 4;
}

/* ---- pages ---- */

static int compress_into(sesp_pq_writer *w, const uint8_t *src, size_t n, sesp_bufw *dst)
{
    size_t bound = sesp_pq_compress_bound(w->opt.codec, n);
    if (bound == 0 && n)
        return fail(w, SESP_ERR_TOO_LARGE, "page too large to compress");
    uint8_t *o = sesp_bufw_reserve(dst, bound ? bound : 1);
    if (!o)
        return fail(w, SESP_ERR_NOMEM, "out of memory");
    size_t out;
    int rc = sesp_pq_compress(w->opt.codec, w->opt.compression_level, src, n, o, bound, &out);
    if (rc)
        return fail(w, rc, "compression failed");
    dst->len += out;
    return 0;
}

static void stats_md_copy(sesp_pq_writer *w, const sesp_pq_stats *s, sesp_pq_md_stats *md, bool to_arena)
{
    uint8_t scratch[16];
    sesp_pq_stats_to_md(s, scratch, md);
    /* Re-point min/max at stable memory. */
    sesp_pq_bytes *f[4] = {&md->min, &md->max, &md->min_value, &md->max_value};
    bool has[4] = {md->has_min, md->has_max, md->has_min_value, md->has_max_value};
    for (int i = 0; i < 4; i++) {
        if (!has[i])
            continue;
        if (to_arena) {
            uint8_t *p = sesp_arena_alloc(&w->arena, f[i]->len ? f[i]->len : 1);
            if (!p) {
                fail(w, SESP_ERR_NOMEM, "out of memory");
                memset(md, 0, sizeof *md);
                return;
            }
            if (f[i]->len)
                memcpy(p, f[i]->p, f[i]->len);
            f[i]->p = p;
        }
    }
}

static int cut_page(sesp_pq_writer *w, col_writer *c)
{
    if (c->nlev == 0)
        return 0;
    if (c->nlev > INT32_MAX)
        return fail(w, SESP_ERR_TOO_LARGE, "page has too many values");
    if (!c->max_rep)
        c->page_rows = c->nlev;     /* one level per row (the columnar path cuts mid-batch) */
    sesp_bufw *body = &w->scratch;
    sesp_bufw_reset(body);
    bool v2 = w->opt.data_page_v2;
    size_t rep_len = 0, def_len = 0;
    /* levels */
    if (c->max_rep) {
        size_t at = body->len;
        if (!v2) sesp_bufw_u32le(body, 0);
        size_t st = body->len;
        sesp_pq_rle_encode16(body, c->rep, c->nlev, sesp_pq_bit_width((uint64_t)c->max_rep));
        rep_len = body->len - st;
        if (!v2 && !body->err) { uint32_t l = (uint32_t)rep_len; memcpy(body->p + at, &l, 4); }
    }
    if (c->max_def) {
        size_t at = body->len;
        if (!v2) sesp_bufw_u32le(body, 0);
        size_t st = body->len;
        sesp_pq_rle_encode16(body, c->def, c->nlev, sesp_pq_bit_width((uint64_t)c->max_def));
        def_len = body->len - st;
        if (!v2 && !body->err) { uint32_t l = (uint32_t)def_len; memcpy(body->p + at, &l, 4); }
    }
    size_t levels_len = body->len;
    /* values */
    int encoding;
    if (c->dict_on) {
        encoding = SESP_PQ_ENC_RLE_DICTIONARY;
        int bw = sesp_pq_bit_width(c->dict.n ? c->dict.n - 1 : 0);
        sesp_bufw_i8(body, (int8_t)bw);
        sesp_pq_rle_encode(body, c->idx, c->nidx, bw);
        c->dict_pages++;
    } else if (c->n->physical == SESP_PQ_BOOLEAN) {
        encoding = SESP_PQ_ENC_PLAIN;
        size_t nb = (c->plain.len + 7) / 8;
        uint8_t *o = sesp_bufw_reserve(body, nb);
        if (o) {
            memset(o, 0, nb);
            for (size_t i = 0; i < c->plain.len; i++)
                o[i >> 3] |= (uint8_t)(c->plain.p[i] << (i & 7));
            body->len += nb;
        }
    } else {
        encoding = SESP_PQ_ENC_PLAIN;
        sesp_bufw_put(body, c->plain.p, c->plain.len);
    }
    if (body->err)
        return fail(w, SESP_ERR_NOMEM, "out of memory");
    if (body->len > INT32_MAX)
        return fail(w, SESP_ERR_TOO_LARGE, "page larger than 2 GiB");
    c->encodings |= 1u << encoding;
    /* compress */
    sesp_bufw *comp = &w->comp;
    sesp_bufw_reset(comp);
    int rc;
    if (v2) {
        sesp_bufw_put(comp, body->p, levels_len);
        rc = compress_into(w, body->p + levels_len, body->len - levels_len, comp);
    } else {
        rc = compress_into(w, body->p, body->len, comp);
    }
    if (rc)
        return rc;
    if (comp->len > INT32_MAX)
        return fail(w, SESP_ERR_TOO_LARGE, "page larger than 2 GiB");
    /* header */
    sesp_pq_md_page h;
    memset(&h, 0, sizeof h);
    h.uncompressed_page_size = (int32_t)body->len;
    h.compressed_page_size = (int32_t)comp->len;
    sesp_pq_md_stats ms;
    bool with_stats = !w->opt.disable_page_statistics;
    uint8_t scratch[16];
    if (with_stats)
        sesp_pq_stats_to_md(&c->page_stats, scratch, &ms);
    if (v2) {
        h.type = SESP_PQ_PAGE_DATA_V2;
        h.has_v2 = true;
        h.v2.num_values = (int32_t)c->nlev;
        h.v2.num_nulls = (int32_t)c->page_nulls;
        h.v2.num_rows = (int32_t)c->page_rows;
        h.v2.encoding = encoding;
        h.v2.def_len = (int32_t)def_len;
        h.v2.rep_len = (int32_t)rep_len;
        h.v2.is_compressed = w->opt.codec != SESP_PQ_UNCOMPRESSED;
        h.v2.has_stats = with_stats;
        if (with_stats) h.v2.stats = ms;
    } else {
        h.type = SESP_PQ_PAGE_DATA;
        h.has_data = true;
        h.data.num_values = (int32_t)c->nlev;
        h.data.encoding = encoding;
        h.data.def_encoding = SESP_PQ_ENC_RLE;
        h.data.rep_encoding = SESP_PQ_ENC_RLE;
        h.data.has_stats = with_stats;
        if (with_stats) h.data.stats = ms;
    }
    size_t before = c->chunk.len;
    sesp_pq_md_page_encode(&h, &c->chunk);
    size_t hlen = c->chunk.len - before;
    sesp_bufw_put(&c->chunk, comp->p, comp->len);
    if (c->chunk.err)
        return fail(w, SESP_ERR_NOMEM, "out of memory");
    c->encodings |= 1u << SESP_PQ_ENC_RLE;
    c->chunk_uncompressed += (int64_t)(hlen + body->len);
    c->chunk_values += (int64_t)c->nlev;
    sesp_pq_stats_merge(&c->chunk_stats, &c->page_stats);
    sesp_pq_stats_reset(&c->page_stats);
    c->nlev = 0;
    c->nidx = 0;
    sesp_bufw_reset(&c->plain);
    c->page_values = c->page_nulls = c->page_rows = 0;
    return 0;
}

static int maybe_cut(sesp_pq_writer *w, col_writer *c)
{
    if (page_estimate(c) >= w->opt.page_bytes)
        return cut_page(w, c);
    return 0;
}

/* ---- row groups ---- */

static size_t buffered_bytes(const sesp_pq_writer *w)
{
    size_t b = 0;
    for (int i = 0; i < w->ncols; i++) {
        const col_writer *c = &w->cols[i];
        b += (size_t)c->chunk_uncompressed + page_estimate(c) + (c->dict_pages || c->dict_on ? c->dict.plain.len : 0);
    }
    return b;
}

int sesp_pq_writer_flush_row_group(sesp_pq_writer *w)
{
    if (w->err)
        return w->err;
    if (w->rg_rows == 0)
        return 0;
    if (w->nrgs == w->rgcap) {
        uint32_t nc = w->rgcap ? w->rgcap * 2 : 8;
        sesp_pq_md_row_group *g = realloc(w->rgs, nc * sizeof *g);
        if (!g)
            return fail(w, SESP_ERR_NOMEM, "out of memory");
        w->rgs = g;
        w->rgcap = nc;
    }
    sesp_pq_md_row_group *rg = &w->rgs[w->nrgs];
    memset(rg, 0, sizeof *rg);
    rg->columns = sesp_arena_calloc(&w->arena, (size_t)w->ncols, sizeof *rg->columns);
    if (!rg->columns)
        return fail(w, SESP_ERR_NOMEM, "out of memory");
    rg->ncolumns = (uint32_t)w->ncols;
    rg->num_rows = w->rg_rows;
    rg->file_offset = (int64_t)w->pos;
    rg->ordinal = w->nrgs < 32767 ? (int)w->nrgs : -1;
    int64_t total_comp = 0, total_uncomp = 0;
    for (int i = 0; i < w->ncols; i++) {
        col_writer *c = &w->cols[i];
        int rc = cut_page(w, c);
        if (rc)
            return rc;
        sesp_pq_md_chunk *ch = &rg->columns[i];
        sesp_pq_md_column *m = &ch->meta;
        ch->has_meta = true;
        m->type = (int)c->n->physical;
        m->codec = (int)w->opt.codec;
        m->index_page_offset = -1;
        m->dictionary_page_offset = -1;
        m->path = sesp_pq_schema_column_path(w->schema, i, &w->arena, &m->npath);
        if (!m->path)
            return fail(w, SESP_ERR_NOMEM, "out of memory");
        int64_t start = (int64_t)w->pos;
        int64_t comp = 0, uncomp = 0;
        if (c->dict_pages > 0) {
            /* The dictionary page goes first in the chunk. */
            sesp_bufw_reset(&w->comp);
            if ((rc = compress_into(w, c->dict.plain.p, c->dict.plain.len, &w->comp)))
                return rc;
            if (c->dict.plain.len > INT32_MAX || w->comp.len > INT32_MAX)
                return fail(w, SESP_ERR_TOO_LARGE, "dictionary page too large");
            sesp_pq_md_page h;
            memset(&h, 0, sizeof h);
            h.type = SESP_PQ_PAGE_DICTIONARY;
            h.uncompressed_page_size = (int32_t)c->dict.plain.len;
            h.compressed_page_size = (int32_t)w->comp.len;
            h.has_dict = true;
            h.dict.num_values = (int32_t)c->dict.n;
            h.dict.encoding = SESP_PQ_ENC_PLAIN;
            sesp_bufw_reset(&w->hdr);
            sesp_pq_md_page_encode(&h, &w->hdr);
            if (w->hdr.err)
                return fail(w, SESP_ERR_NOMEM, "out of memory");
            m->dictionary_page_offset = start;
            if ((rc = sink_write(w, w->hdr.p, w->hdr.len)) || (rc = sink_write(w, w->comp.p, w->comp.len)))
                return rc;
            comp += (int64_t)(w->hdr.len + w->comp.len);
            uncomp += (int64_t)(w->hdr.len + c->dict.plain.len);
            c->encodings |= 1u << SESP_PQ_ENC_PLAIN;
        }
        m->data_page_offset = (int64_t)w->pos;
        if ((rc = sink_write(w, c->chunk.p, c->chunk.len)))
            return rc;
        comp += (int64_t)c->chunk.len;
        uncomp += c->chunk_uncompressed;
        m->encodings = c->encodings;
        m->num_values = c->chunk_values;
        m->total_compressed_size = comp;
        m->total_uncompressed_size = uncomp;
        m->has_stats = true;
        stats_md_copy(w, &c->chunk_stats, &m->stats, true);
        ch->file_offset = 0;        /* deprecated; 0 = metadata only in the footer */
        total_comp += comp;
        total_uncomp += uncomp;
        /* reset for the next row group */
        sesp_bufw_reset(&c->chunk);
        c->chunk_uncompressed = c->chunk_values = 0;
        c->encodings = 0;
        c->dict_pages = 0;
        c->dict_inserts = 0;
        sesp_pq_dict_reset(&c->dict);
        c->dict_on = !w->opt.disable_dictionary && c->n->physical != SESP_PQ_BOOLEAN;
        sesp_pq_stats_reset(&c->chunk_stats);
    }
    if (w->err)
        return w->err;
    rg->total_byte_size = total_uncomp;
    rg->total_compressed_size = total_comp;
    w->nrgs++;
    w->total_rows += w->rg_rows;
    w->rg_rows = 0;
    return 0;
}

static int end_rows(sesp_pq_writer *w, size_t nrows)
{
    w->rg_rows += (int64_t)nrows;
    for (int i = 0; i < w->ncols; i++) {
        w->cols[i].page_rows += nrows;
        int rc = maybe_cut(w, &w->cols[i]);
        if (rc)
            return rc;
    }
    size_t b = buffered_bytes(w);
    if (b > w->peak_buffered)
        w->peak_buffered = b;
    if (w->rg_rows > 0)
        w->row_bytes = b / (size_t)w->rg_rows + 1;
    if (b >= w->opt.row_group_bytes)
        return sesp_pq_writer_flush_row_group(w);
    return 0;
}

void sesp_pq_writer_get_stats(const sesp_pq_writer *w, sesp_pq_writer_stats *out)
{
    memset(out, 0, sizeof *out);
    out->bytes_written = w->pos;
    out->row_groups = w->nrgs;
    out->buffered_bytes = buffered_bytes(w);
    out->peak_buffered_bytes = w->peak_buffered > out->buffered_bytes ? w->peak_buffered : out->buffered_bytes;
    size_t cap = w->scratch.cap + w->comp.cap + w->hdr.cap;
    for (int i = 0; i < w->ncols; i++) {
        const col_writer *c = &w->cols[i];
        cap += c->levcap * (sizeof(int16_t) * ((c->max_def > 0) + (c->max_rep > 0)));
        cap += c->idxcap * sizeof *c->idx + c->plain.cap + c->chunk.cap;
        cap += c->dict.plain.cap + (size_t)c->dict.cap_entries * (sizeof *c->dict.offsets + sizeof *c->dict.lens) +
               (size_t)c->dict.nslots * sizeof *c->dict.slots;
        cap += c->page_stats.minb.cap + c->page_stats.maxb.cap + c->chunk_stats.minb.cap + c->chunk_stats.maxb.cap;
    }
    out->buffer_capacity = cap;
}

/* ---- open / close ---- */

static void leaf_ranges(sesp_pq_writer *w, int id)
{
    const sesp_pq_node *n = &w->schema->nodes[id];
    if (!n->is_group) {
        w->first_col[id] = n->column;
        w->ncol_under[id] = 1;
        return;
    }
    w->first_col[id] = -1;
    w->ncol_under[id] = 0;
    for (int i = 0; i < n->nchildren; i++) {
        int c = n->children[i];
        leaf_ranges(w, c);
        if (w->ncol_under[c] && w->first_col[id] < 0)
            w->first_col[id] = w->first_col[c];
        w->ncol_under[id] += w->ncol_under[c];
    }
}

int sesp_pq_writer_open(const sesp_pq_schema *schema, const sesp_pq_writer_options *opts,
                        sesp_pq_sink sink, sesp_pq_writer **out)
{
    if (!schema || !sink.write || !out)
        return SESP_ERR_INVALID_ARG;
    if (schema->ncolumns == 0)
        return SESP_ERR_INVALID_ARG;
    sesp_pq_writer *w = calloc(1, sizeof *w);
    if (!w)
        return SESP_ERR_NOMEM;
    int rc = 0;
    if (opts)
        w->opt = *opts;
    if (!sesp_pq_codec_supported(w->opt.codec)) {
        free(w);
        return SESP_ERR_UNSUPPORTED;
    }
    if (!w->opt.row_group_bytes) w->opt.row_group_bytes = (size_t)128 << 20;
    if (!w->opt.page_bytes) w->opt.page_bytes = (size_t)1 << 20;
    if (!w->opt.dictionary_page_limit) w->opt.dictionary_page_limit = (size_t)1 << 20;
    w->opt.kv = NULL;
    w->opt.nkv = 0;
    w->sink = sink;
    sesp_arena_init(&w->arena, 0);
    sesp_bufw_init(&w->scratch, 0, 0);
    sesp_bufw_init(&w->comp, 0, 0);
    sesp_bufw_init(&w->hdr, 0, 0);
    if ((rc = sesp_pq_schema_clone(schema, &w->schema)))
        goto fail;
    const char *cb = opts && opts->created_by ? opts->created_by
                     : "SESP version " SESP_VERSION " (build " SESP_BUILD_ID ")";
    w->created_by = strdup(cb);
    w->ncols = w->schema->ncolumns;
    w->cols = calloc((size_t)w->ncols, sizeof *w->cols);
    w->first_col = calloc((size_t)w->schema->n, sizeof *w->first_col);
    w->ncol_under = calloc((size_t)w->schema->n, sizeof *w->ncol_under);
    if (!w->created_by || !w->cols || !w->first_col || !w->ncol_under) {
        rc = SESP_ERR_NOMEM;
        goto fail;
    }
    leaf_ranges(w, 0);
    for (int i = 0; i < w->ncols; i++) {
        col_writer *c = &w->cols[i];
        c->n = &w->schema->nodes[w->schema->columns[i]];
        c->col = i;
        c->max_def = c->n->max_def;
        c->max_rep = c->n->max_rep;
        sesp_bufw_init(&c->plain, 0, 0);
        sesp_bufw_init(&c->chunk, 0, 0);
        sesp_pq_dict_init(&c->dict, c->n->physical, c->n->type_length);
        c->dict_on = !w->opt.disable_dictionary && c->n->physical != SESP_PQ_BOOLEAN;
        sesp_pq_stats_init(&c->page_stats, c->n);
        sesp_pq_stats_init(&c->chunk_stats, c->n);
    }
    if (opts)
        for (size_t i = 0; i < opts->nkv; i++)
            if ((rc = sesp_pq_writer_add_kv(w, opts->kv[i].key, opts->kv[i].value)))
                goto fail;
    if ((rc = sink_write(w, "PAR1", 4)))
        goto fail;
    *out = w;
    return 0;
fail:
    sesp_pq_writer_abort(w);
    return rc;
}

int sesp_pq_writer_add_kv(sesp_pq_writer *w, const char *key, const char *value)
{
    if (!key)
        return SESP_ERR_INVALID_ARG;
    if (w->nkv == w->kvcap) {
        uint32_t nc = w->kvcap ? w->kvcap * 2 : 8;
        sesp_pq_kv *k = realloc(w->kv, nc * sizeof *k);
        if (!k)
            return SESP_ERR_NOMEM;
        w->kv = k;
        w->kvcap = nc;
    }
    char *k = sesp_arena_strndup(&w->arena, key, strlen(key));
    char *v = value ? sesp_arena_strndup(&w->arena, value, strlen(value)) : NULL;
    if (!k || (value && !v))
        return SESP_ERR_NOMEM;
    w->kv[w->nkv].key = k;
    w->kv[w->nkv].value = v;
    w->nkv++;
    return 0;
}

void sesp_pq_writer_abort(sesp_pq_writer *w)
{
    if (!w)
        return;
    if (w->cols)
        for (int i = 0; i < w->ncols; i++) {
            col_writer *c = &w->cols[i];
            free(c->def);
            free(c->rep);
            free(c->idx);
            sesp_bufw_free(&c->plain);
            sesp_bufw_free(&c->chunk);
            sesp_pq_dict_free(&c->dict);
            sesp_pq_stats_free(&c->page_stats);
            sesp_pq_stats_free(&c->chunk_stats);
        }
    free(w->cols);
    free(w->first_col);
    free(w->ncol_under);
    free(w->rgs);
    free(w->kv);
    free(w->created_by);
    sesp_bufw_free(&w->scratch);
    sesp_bufw_free(&w->comp);
    sesp_bufw_free(&w->hdr);
    sesp_arena_free(&w->arena);
    sesp_pq_schema_free(w->schema);
    free(w);
}

int sesp_pq_writer_close(sesp_pq_writer *w, uint64_t *file_size_out)
{
    int rc = sesp_pq_writer_flush_row_group(w);
    if (rc)
        goto out;
    sesp_pq_md_file f;
    memset(&f, 0, sizeof f);
    f.version = 1;
    if ((rc = sesp_pq_schema_to_md(w->schema, &w->arena, &f.schema, &f.nschema)))
        goto out;
    f.num_rows = w->total_rows;
    f.row_groups = w->rgs;
    f.nrow_groups = w->nrgs;
    f.kv = w->kv;
    f.nkv = w->nkv;
    f.created_by = w->created_by;
    f.write_column_orders = true;
    sesp_bufw_reset(&w->hdr);
    sesp_pq_md_file_encode(&f, &w->hdr);
    if (w->hdr.err || w->hdr.len > UINT32_MAX) {
        rc = fail(w, SESP_ERR_NOMEM, "cannot encode footer");
        goto out;
    }
    uint32_t flen = (uint32_t)w->hdr.len;
    sesp_bufw_u32le(&w->hdr, flen);
    sesp_bufw_put(&w->hdr, "PAR1", 4);
    if (w->hdr.err) {
        rc = fail(w, SESP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = sink_write(w, w->hdr.p, w->hdr.len)))
        goto out;
    if (file_size_out)
        *file_size_out = w->pos;
out:
    sesp_pq_writer_abort(w);
    return rc;
}

/* ---- row shredding ---- */

static bool leaf_value_ok(const sesp_pq_node *n, const sesp_pq_value *v)
{
    switch (n->physical) {
    case SESP_PQ_BOOLEAN: return v->kind == SESP_PQV_BOOL;
    case SESP_PQ_INT32: return v->kind == SESP_PQV_INT32;
    case SESP_PQ_INT64: return v->kind == SESP_PQV_INT64;
    case SESP_PQ_FLOAT: return v->kind == SESP_PQV_FLOAT;
    case SESP_PQ_DOUBLE: return v->kind == SESP_PQV_DOUBLE;
    case SESP_PQ_BYTE_ARRAY: return v->kind == SESP_PQV_BYTES && (v->u.bytes.p || !v->u.bytes.len);
    case SESP_PQ_FIXED_LEN_BYTE_ARRAY:
        return v->kind == SESP_PQV_BYTES && v->u.bytes.p && v->u.bytes.len == (uint32_t)n->type_length;
    default: return false;
    }
}

static int check_field(sesp_pq_writer *w, int id, const sesp_pq_value *v, int depth);

static int check_content(sesp_pq_writer *w, int id, const sesp_pq_value *v, int depth)
{
    const sesp_pq_schema *s = w->schema;
    const sesp_pq_node *n = &s->nodes[id];
    if (depth > 200)
        return fail(w, SESP_ERR_INVALID_ARG, "value nested too deeply");
    if (!n->is_group) {
        if (!leaf_value_ok(n, v))
            return fail(w, SESP_ERR_INVALID_ARG, "value of kind %d does not fit column '%s'", v->kind, n->name);
        return 0;
    }
    int mode = s->priv[id].list_mode;
    if (mode) {
        if (v->kind != SESP_PQV_LIST || (v->u.list.n && !v->u.list.v))
            return fail(w, SESP_ERR_INVALID_ARG, "field '%s' needs a LIST value", n->name);
        int r = n->children[0];
        for (size_t i = 0; i < v->u.list.n; i++) {
            int rc = mode == 2 ? check_field(w, s->nodes[r].children[0], &v->u.list.v[i], depth + 1)
                               : check_content(w, r, &v->u.list.v[i], depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (v->kind != SESP_PQV_GROUP || v->u.group.n != (size_t)n->nchildren || (n->nchildren && !v->u.group.v))
        return fail(w, SESP_ERR_INVALID_ARG, "group '%s' needs a GROUP value with %d children", n->name,
                    n->nchildren);
    for (int i = 0; i < n->nchildren; i++) {
        int rc = check_field(w, n->children[i], &v->u.group.v[i], depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

static int check_field(sesp_pq_writer *w, int id, const sesp_pq_value *v, int depth)
{
    const sesp_pq_node *n = &w->schema->nodes[id];
    if (n->repetition == SESP_PQ_REPEATED) {
        if (v->kind == SESP_PQV_NULL)
            return 0;
        if (v->kind != SESP_PQV_LIST || (v->u.list.n && !v->u.list.v))
            return fail(w, SESP_ERR_INVALID_ARG, "repeated field '%s' needs a LIST value", n->name);
        for (size_t i = 0; i < v->u.list.n; i++) {
            int rc = check_content(w, id, &v->u.list.v[i], depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (v->kind == SESP_PQV_NULL)
        return n->repetition == SESP_PQ_OPTIONAL ? 0
               : fail(w, SESP_ERR_INVALID_ARG, "required field '%s' is null", n->name);
    return check_content(w, id, v, depth);
}

static int emit_nulls(sesp_pq_writer *w, int id, int d, int r)
{
    int first = w->first_col[id], n = w->ncol_under[id];
    for (int i = 0; i < n; i++) {
        int rc = put_level(w, &w->cols[first + i], d, r);
        if (rc)
            return rc;
    }
    return 0;
}

static int emit_leaf(sesp_pq_writer *w, col_writer *c, const sesp_pq_value *v, int d, int r)
{
    int rc;
    switch (v->kind) {
    case SESP_PQV_BOOL: rc = put_bool(w, c, v->u.b); break;
    case SESP_PQV_INT32: rc = put_i32(w, c, v->u.i32); break;
    case SESP_PQV_INT64: rc = put_i64(w, c, v->u.i64); break;
    case SESP_PQV_FLOAT: rc = put_float(w, c, v->u.f); break;
    case SESP_PQV_DOUBLE: rc = put_double(w, c, v->u.d); break;
    default: rc = put_bytes(w, c, v->u.bytes.p, v->u.bytes.len); break;
    }
    return rc ? rc : put_level(w, c, d, r);
}

static int shred_field(sesp_pq_writer *w, int id, const sesp_pq_value *v, int d, int r);

static int shred_content(sesp_pq_writer *w, int id, const sesp_pq_value *v, int d, int r)
{
    const sesp_pq_schema *s = w->schema;
    const sesp_pq_node *n = &s->nodes[id];
    if (!n->is_group) {
        assert(d == n->max_def);
        return emit_leaf(w, &w->cols[n->column], v, d, r);
    }
    int mode = s->priv[id].list_mode;
    int rc = 0;
    if (mode) {
        int rid = n->children[0];
        const sesp_pq_node *rn = &s->nodes[rid];
        if (v->u.list.n == 0)
            return emit_nulls(w, rid, d, r);
        for (size_t i = 0; i < v->u.list.n && !rc; i++) {
            int rr = i == 0 ? r : rn->max_rep;
            if (mode == 2)
                rc = shred_field(w, rn->children[0], &v->u.list.v[i], d + 1, rr);
            else
                rc = shred_content(w, rid, &v->u.list.v[i], d + 1, rr);
        }
        return rc;
    }
    for (int i = 0; i < n->nchildren && !rc; i++)
        rc = shred_field(w, n->children[i], &v->u.group.v[i], d, r);
    return rc;
}

static int shred_field(sesp_pq_writer *w, int id, const sesp_pq_value *v, int d, int r)
{
    const sesp_pq_node *n = &w->schema->nodes[id];
    if (n->repetition == SESP_PQ_REPEATED) {
        size_t cnt = v->kind == SESP_PQV_LIST ? v->u.list.n : 0;
        if (cnt == 0)
            return emit_nulls(w, id, d, r);
        int rc = 0;
        for (size_t i = 0; i < cnt && !rc; i++)
            rc = shred_content(w, id, &v->u.list.v[i], d + 1, i == 0 ? r : n->max_rep);
        return rc;
    }
    if (v->kind == SESP_PQV_NULL)
        return emit_nulls(w, id, d, r);
    return shred_content(w, id, v, d + (n->repetition == SESP_PQ_OPTIONAL), r);
}

int sesp_pq_writer_write_row(sesp_pq_writer *w, const sesp_pq_value *row)
{
    if (w->err)
        return w->err;
    if (!row)
        return SESP_ERR_INVALID_ARG;
    int rc = check_content(w, 0, row, 0);
    if (rc) {
        /* A bad row is the caller's error: report it, keep the writer usable. */
        w->err = 0;
        return rc;
    }
    if ((rc = shred_content(w, 0, row, 0, 0)))
        return rc;
    return end_rows(w, 1);
}

/* ---- columnar fast path ---- */

#define BATCH_STEP 4096
#define PAGE_CHECK 256

static int batch_range(sesp_pq_writer *w, col_writer *c, const sesp_pq_column_batch *b,
                       size_t from, size_t to)
{
    const uint8_t *valid = b->valid;
    int rc = 0;
#define LOOP(PUT)                                                               \
    for (size_t i = from; i < to && !rc; i++) {                                 \
        if (valid && !(valid[i >> 3] & (1u << (i & 7)))) {                      \
            rc = put_level(w, c, 0, 0);                                         \
            continue;                                                           \
        }                                                                       \
        rc = PUT;                                                               \
        if (!rc && c->max_def)                                                  \
            rc = put_level(w, c, 1, 0);                                         \
        else if (!rc)                                                           \
            c->nlev++;                                                          \
    }
    switch (c->n->physical) {
    case SESP_PQ_BOOLEAN: { const uint8_t *v = b->values; LOOP(put_bool(w, c, v[i] != 0)); break; }
    case SESP_PQ_INT32: { const int32_t *v = b->values; LOOP(put_i32(w, c, v[i])); break; }
    case SESP_PQ_INT64: { const int64_t *v = b->values; LOOP(put_i64(w, c, v[i])); break; }
    case SESP_PQ_FLOAT: { const float *v = b->values; LOOP(put_float(w, c, v[i])); break; }
    case SESP_PQ_DOUBLE: { const double *v = b->values; LOOP(put_double(w, c, v[i])); break; }
    case SESP_PQ_BYTE_ARRAY: { const sesp_pq_bytes *v = b->bytes; LOOP(put_bytes(w, c, v[i].p, v[i].len)); break; }
    case SESP_PQ_FIXED_LEN_BYTE_ARRAY: { const sesp_pq_bytes *v = b->bytes; LOOP(put_bytes(w, c, v[i].p, v[i].len)); break; }
    default: rc = fail(w, SESP_ERR_INVALID_ARG, "unsupported column type");
    }
#undef LOOP
    return rc;
}

/* Pages are cut inside a batch too (checked every PAGE_CHECK rows), so
 * page_bytes bounds the columnar path's pages as it does the row path's. */
static int batch_column(sesp_pq_writer *w, col_writer *c, const sesp_pq_column_batch *b,
                        size_t from, size_t to)
{
    for (size_t sub = from; sub < to; sub += PAGE_CHECK) {
        size_t end = to - sub > PAGE_CHECK ? sub + PAGE_CHECK : to;
        int rc = batch_range(w, c, b, sub, end);
        if (!rc && end < to)
            rc = maybe_cut(w, c);
        if (rc)
            return rc;
    }
    return 0;
}

/* Rows per step of a batch: at most BATCH_STEP, and no more than what is left
 * of the row group at the last seen bytes per row (an 8-row probe before any
 * row was seen), so wide rows do not overshoot row_group_bytes by a step. */
static size_t batch_step(const sesp_pq_writer *w)
{
    if (!w->row_bytes)
        return 8;
    size_t b = buffered_bytes(w);
    size_t left = b < w->opt.row_group_bytes ? w->opt.row_group_bytes - b : 0;
    size_t n = left / w->row_bytes + 1;
    return n < BATCH_STEP ? n : BATCH_STEP;
}

int sesp_pq_writer_write_column_batch(sesp_pq_writer *w, const sesp_pq_column_batch *cols,
                                      size_t nrows)
{
    if (w->err)
        return w->err;
    for (int i = 0; i < w->ncols; i++) {
        const col_writer *c = &w->cols[i];
        const sesp_pq_node *n = c->n;
        if (n->parent != 0 || n->repetition == SESP_PQ_REPEATED)
            return SESP_ERR_INVALID_ARG;     /* flat schemas only */
        if (nrows && ((n->physical == SESP_PQ_BYTE_ARRAY || n->physical == SESP_PQ_FIXED_LEN_BYTE_ARRAY)
                      ? !cols[i].bytes : !cols[i].values))
            return SESP_ERR_INVALID_ARG;
        if (cols[i].valid && n->repetition == SESP_PQ_REQUIRED) {
            for (size_t r = 0; r < nrows; r++)
                if (!(cols[i].valid[r >> 3] & (1u << (r & 7))))
                    return SESP_ERR_INVALID_ARG;
        }
        /* Checked up front so a bad batch writes nothing. */
        if (n->physical == SESP_PQ_FIXED_LEN_BYTE_ARRAY)
            for (size_t r = 0; r < nrows; r++)
                if ((!cols[i].valid || (cols[i].valid[r >> 3] & (1u << (r & 7)))) &&
                    (cols[i].bytes[r].len != (uint32_t)n->type_length || !cols[i].bytes[r].p))
                    return SESP_ERR_INVALID_ARG;
    }
    for (size_t from = 0; from < nrows;) {
        size_t step = batch_step(w);
        size_t to = nrows - from > step ? from + step : nrows;
        for (int i = 0; i < w->ncols; i++) {
            int rc = batch_column(w, &w->cols[i], &cols[i], from, to);
            if (rc)
                return rc;
        }
        int rc = end_rows(w, to - from);
        if (rc)
            return rc;
        from = to;
    }
    return 0;
}
