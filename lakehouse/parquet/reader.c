/*
 * The Parquet reader: validates the file frame ("PAR1" at both ends, footer
 * length within the file), decodes the footer and schema, exposes row groups
 * and column chunk metadata, and reassembles nested rows from the level and
 * value arrays of whole column chunks (decoded by scan.c).  Every offset,
 * length and count taken from the file is checked before use.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"

static int fail(sesp_pq_reader *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int vfail(sesp_pq_reader *r, int err, const char *fmt, va_list ap)
{
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    return err;
}

static int fail(sesp_pq_reader *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(r, err, fmt, ap);
    va_end(ap);
    return err;
}

int sesp_pq_rd_fail(sesp_pq_reader *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(r, err, fmt, ap);
    va_end(ap);
    return err;
}

const char *sesp_pq_reader_error(const sesp_pq_reader *r)
{
    return r->errmsg[0] ? r->errmsg : "no error";
}

int sesp_pq_source_fd_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
    int fd = *(int *)ctx;
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return SESP_ERR_IO;
        }
        if (n == 0)
            return SESP_ERR_TRUNCATED;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}

int sesp_pq_rd_read(sesp_pq_reader *r, uint64_t off, void *buf, size_t len)
{
    if (off > r->src.size || len > r->src.size - off)
        return fail(r, SESP_ERR_CORRUPT, "read of %zu bytes at %llu is past the end of the file (%llu bytes)",
                    len, (unsigned long long)off, (unsigned long long)r->src.size);
    int rc = r->src.read(r->src.ctx, off, buf, len);
    if (rc)
        return fail(r, rc, "read of %zu bytes at %llu failed: %s", len, (unsigned long long)off, sesp_strerror(rc));
    return 0;
}

static void leaf_ranges(sesp_pq_reader *r, int id)
{
    const sesp_pq_node *n = &r->schema->nodes[id];
    if (!n->is_group) {
        r->first_col[id] = n->column;
        r->ncol_under[id] = 1;
        return;
    }
    r->first_col[id] = -1;
    r->ncol_under[id] = 0;
    for (int i = 0; i < n->nchildren; i++) {
        int c = n->children[i];
        leaf_ranges(r, c);
        if (r->ncol_under[c] && r->first_col[id] < 0)
            r->first_col[id] = r->first_col[c];
        r->ncol_under[id] += r->ncol_under[c];
    }
}

static void fill_stats(const sesp_pq_node *n, const sesp_pq_md_stats *m, sesp_pq_statistics *s)
{
    memset(s, 0, sizeof *s);
    s->has_null_count = m->has_null_count;
    s->null_count = m->null_count;
    s->has_distinct_count = m->has_distinct_count;
    s->distinct_count = m->distinct_count;
    if (m->has_min_value) { s->has_min = true; s->min = m->min_value; }
    if (m->has_max_value) { s->has_max = true; s->max = m->max_value; }
    /* Legacy min/max are signed-order: trust them only where that is the order. */
    if (sesp_pq_sort_order_of(n) == SESP_PQ_ORDER_SIGNED && n->physical != SESP_PQ_FIXED_LEN_BYTE_ARRAY) {
        if (!s->has_min && m->has_min) { s->has_min = true; s->min = m->min; }
        if (!s->has_max && m->has_max) { s->has_max = true; s->max = m->max; }
    }
}

int sesp_pq_reader_open(sesp_pq_source src, const sesp_pq_reader_options *opts, sesp_pq_reader **out)
{
    if (!out)
        return SESP_ERR_INVALID_ARG;
    *out = NULL;
    if (!src.read)
        return SESP_ERR_INVALID_ARG;
    sesp_pq_reader *r = calloc(1, sizeof *r);
    if (!r)
        return SESP_ERR_NOMEM;
    r->src = src;
    if (opts)
        r->opt = *opts;
    if (!r->opt.max_footer_bytes) r->opt.max_footer_bytes = (size_t)64 << 20;
    if (!r->opt.max_page_bytes) r->opt.max_page_bytes = (size_t)256 << 20;
    if (!r->opt.max_row_group_bytes) r->opt.max_row_group_bytes = (size_t)2 << 30;
    r->cur_rg = -1;
    /* Decoded structs are larger than their Thrift bytes: bound the blow-up. */
    sesp_arena_init(&r->arena, r->opt.max_footer_bytes * 8 + ((size_t)1 << 20));
    *out = r;   /* even on failure, so the caller can read the message; close() frees */
    uint8_t *footer = NULL;
    int rc;
    uint8_t tail[8], head[4];
    if (src.size < 12) {
        rc = fail(r, SESP_ERR_CORRUPT, "file of %llu bytes is too small to be Parquet", (unsigned long long)src.size);
        goto out;
    }
    if ((rc = sesp_pq_rd_read(r, 0, head, 4)) || (rc = sesp_pq_rd_read(r, src.size - 8, tail, 8)))
        goto out;
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0) {
        rc = fail(r, SESP_ERR_CORRUPT, memcmp(tail + 4, "PARE", 4) == 0
                  ? "encrypted Parquet footers are not supported" : "missing PAR1 magic");
        if (memcmp(tail + 4, "PARE", 4) == 0)
            rc = SESP_ERR_UNSUPPORTED;
        goto out;
    }
    uint32_t flen;
    memcpy(&flen, tail, 4);
    if (flen == 0 || flen > src.size - 12 || flen > r->opt.max_footer_bytes) {
        rc = fail(r, SESP_ERR_CORRUPT, "footer length %u is invalid for a file of %llu bytes", flen,
                  (unsigned long long)src.size);
        goto out;
    }
    r->data_end = src.size - 8 - flen;
    footer = malloc(flen);
    if (!footer) {
        rc = fail(r, SESP_ERR_NOMEM, "out of memory for a %u-byte footer", flen);
        goto out;
    }
    if ((rc = sesp_pq_rd_read(r, r->data_end, footer, flen)))
        goto out;
    if ((rc = sesp_pq_md_file_decode(footer, flen, &r->arena, &r->md))) {
        rc = fail(r, rc == SESP_ERR_NOMEM ? rc : SESP_ERR_MALFORMED, "footer is not a valid FileMetaData (%s)",
                  sesp_strerror(rc));
        goto out;
    }
    if ((rc = sesp_pq_schema_from_md(r->md.schema, r->md.nschema, &r->schema, r->errmsg, sizeof r->errmsg)))
        goto out;
    int ncols = r->schema->ncolumns;
    if (r->md.num_rows < 0) {
        rc = fail(r, SESP_ERR_MALFORMED, "negative row count");
        goto out;
    }
    r->first_col = calloc((size_t)r->schema->n, sizeof *r->first_col);
    r->ncol_under = calloc((size_t)r->schema->n, sizeof *r->ncol_under);
    r->infos = calloc((size_t)r->md.nrow_groups * (size_t)ncols + 1, sizeof *r->infos);
    if (!r->first_col || !r->ncol_under || !r->infos) {
        rc = fail(r, SESP_ERR_NOMEM, "out of memory");
        goto out;
    }
    leaf_ranges(r, 0);
    int64_t rows = 0;
    for (uint32_t g = 0; g < r->md.nrow_groups; g++) {
        const sesp_pq_md_row_group *rg = &r->md.row_groups[g];
        if (rg->ncolumns != (uint32_t)ncols) {
            rc = fail(r, SESP_ERR_MALFORMED, "row group %u has %u column chunks, schema has %d columns", g,
                      rg->ncolumns, ncols);
            goto out;
        }
        if (rg->num_rows < 0 || rg->num_rows > INT64_MAX - rows) {
            rc = fail(r, SESP_ERR_MALFORMED, "row group %u has an invalid row count", g);
            goto out;
        }
        rows += rg->num_rows;
        for (int c = 0; c < ncols; c++) {
            const sesp_pq_md_chunk *ch = &rg->columns[c];
            const sesp_pq_node *n = &r->schema->nodes[r->schema->columns[c]];
            if (!ch->has_meta || ch->file_path) {
                rc = fail(r, SESP_ERR_UNSUPPORTED, "row group %u column %d: column data outside this file", g, c);
                goto out;
            }
            const sesp_pq_md_column *m = &ch->meta;
            if (m->type != (int)n->physical) {
                rc = fail(r, SESP_ERR_MALFORMED, "row group %u column %d: type %d does not match the schema", g, c,
                          m->type);
                goto out;
            }
            sesp_pq_column_chunk_info *ci = &r->infos[(size_t)g * (size_t)ncols + (size_t)c];
            size_t plen = 1;
            for (uint32_t i = 0; i < m->npath; i++)
                plen += strlen(m->path[i] ? m->path[i] : "") + 1;
            char *path = sesp_arena_alloc(&r->arena, plen);
            if (!path) {
                rc = fail(r, SESP_ERR_NOMEM, "out of memory");
                goto out;
            }
            for (uint32_t i = 0; i < m->npath; i++) {
                if (i) strcat(path, ".");
                strcat(path, m->path[i] ? m->path[i] : "");
            }
            ci->path = path;
            ci->physical = n->physical;
            ci->codec = (sesp_pq_codec)m->codec;
            ci->num_values = m->num_values;
            ci->total_compressed_size = m->total_compressed_size;
            ci->total_uncompressed_size = m->total_uncompressed_size;
            ci->data_page_offset = m->data_page_offset;
            ci->dictionary_page_offset = m->dictionary_page_offset;
            ci->encodings = m->encodings;
            ci->has_statistics = m->has_stats;
            if (m->has_stats)
                fill_stats(n, &m->stats, &ci->stats);
        }
    }
    rc = 0;
out:
    r->footer = footer;
    return rc;
}

static void unload_rg(sesp_pq_reader *r)
{
    if (r->cols) {
        for (int c = 0; c < r->schema->ncolumns; c++)
            sesp_pq_column_free(&r->cols[c]);
    }
    free(r->cols);
    free(r->lpos);
    free(r->vpos);
    r->cols = NULL;
    r->lpos = r->vpos = NULL;
    r->cur_rg = -1;
}

void sesp_pq_reader_close(sesp_pq_reader *r)
{
    if (!r)
        return;
    if (r->schema)
        unload_rg(r);
    sesp_pq_schema_free(r->schema);
    free(r->infos);
    free(r->first_col);
    free(r->ncol_under);
    sesp_arena_free(&r->arena);
    free(r->footer);
    free(r);
}

const sesp_pq_schema *sesp_pq_reader_schema(const sesp_pq_reader *r) { return r->schema; }
int64_t sesp_pq_reader_num_rows(const sesp_pq_reader *r) { return r->md.num_rows; }
int sesp_pq_reader_num_row_groups(const sesp_pq_reader *r) { return r->schema ? (int)r->md.nrow_groups : 0; }

int64_t sesp_pq_reader_row_group_rows(const sesp_pq_reader *r, int rg)
{
    return rg >= 0 && (uint32_t)rg < r->md.nrow_groups ? r->md.row_groups[rg].num_rows : -1;
}

const sesp_pq_column_chunk_info *sesp_pq_reader_column_chunk(const sesp_pq_reader *r, int rg, int column)
{
    if (!r->schema || rg < 0 || (uint32_t)rg >= r->md.nrow_groups || column < 0 || column >= r->schema->ncolumns)
        return NULL;
    return &r->infos[(size_t)rg * (size_t)r->schema->ncolumns + (size_t)column];
}

const char *sesp_pq_reader_created_by(const sesp_pq_reader *r) { return r->md.created_by; }
int sesp_pq_reader_kv_count(const sesp_pq_reader *r) { return (int)r->md.nkv; }

const sesp_pq_kv *sesp_pq_reader_kv(const sesp_pq_reader *r, int i)
{
    return i >= 0 && (uint32_t)i < r->md.nkv ? &r->md.kv[i] : NULL;
}

/* ---- row assembly ---- */

typedef struct asm_ctx {
    sesp_pq_reader *r;
    sesp_arena *a;
    int err;
} asm_ctx;

static int asm_fail(asm_ctx *x, const char *what)
{
    if (!x->err)
        x->err = fail(x->r, SESP_ERR_MALFORMED, "row group %d row %lld: %s", x->r->cur_rg,
                      (long long)x->r->row_in_rg, what);
    return x->err;
}

static inline int peek_def(sesp_pq_reader *r, int col)
{
    const sesp_pq_column *c = &r->cols[col];
    return c->def ? c->def[r->lpos[col]] : r->schema->nodes[r->schema->columns[col]].max_def;
}

static int consume_null(asm_ctx *x, int id)
{
    sesp_pq_reader *r = x->r;
    int first = r->first_col[id];
    for (int i = 0; i < r->ncol_under[id]; i++) {
        int col = first + i;
        if (r->lpos[col] >= r->cols[col].n)
            return asm_fail(x, "levels end early");
        if (peek_def(r, col) >= r->schema->nodes[id].max_def)
            return asm_fail(x, "columns disagree on a null");
        r->lpos[col]++;
    }
    return 0;
}

static int read_field(asm_ctx *x, int id, sesp_pq_value *out, int depth);

static int read_leaf(asm_ctx *x, int id, sesp_pq_value *out)
{
    sesp_pq_reader *r = x->r;
    const sesp_pq_node *n = &r->schema->nodes[id];
    int col = n->column;
    sesp_pq_column *c = &r->cols[col];
    if (r->lpos[col] >= c->n || r->vpos[col] >= c->nvalues)
        return asm_fail(x, "values end early");
    if (peek_def(r, col) != n->max_def)
        return asm_fail(x, "columns disagree on a value");
    size_t v = r->vpos[col]++;
    r->lpos[col]++;
    switch (n->physical) {
    case SESP_PQ_BOOLEAN: *out = sesp_pqv_bool(((uint8_t *)c->values)[v] != 0); break;
    case SESP_PQ_INT32: *out = sesp_pqv_i32(((int32_t *)c->values)[v]); break;
    case SESP_PQ_INT64: *out = sesp_pqv_i64(((int64_t *)c->values)[v]); break;
    case SESP_PQ_FLOAT: *out = sesp_pqv_float(((float *)c->values)[v]); break;
    case SESP_PQ_DOUBLE: *out = sesp_pqv_double(((double *)c->values)[v]); break;
    default: {
        sesp_pq_bytes b = ((sesp_pq_bytes *)c->values)[v];
        uint8_t *p = sesp_arena_alloc(x->a, b.len ? b.len : 1);
        if (!p)
            return x->err = fail(r, SESP_ERR_NOMEM, "out of memory");
        memcpy(p, b.p, b.len);
        *out = sesp_pqv_bytes(p, b.len);
        break;
    }
    }
    return 0;
}

/* Growable item array in the arena. */
typedef struct vec {
    sesp_pq_value *v;
    size_t n, cap;
} vec;

static sesp_pq_value *vec_push(asm_ctx *x, vec *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 4;
        sesp_pq_value *nv = sesp_arena_calloc(x->a, nc, sizeof *nv);
        if (!nv) {
            x->err = fail(x->r, SESP_ERR_NOMEM, "out of memory");
            return NULL;
        }
        if (v->n)
            memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv;
        v->cap = nc;
    }
    return &v->v[v->n++];
}

static int read_content(asm_ctx *x, int id, sesp_pq_value *out, int depth);

/* Reads the items of repeated node rid (present at its max_def) into a LIST. */
static int read_items(asm_ctx *x, int rid, int mode, sesp_pq_value *out, int depth)
{
    sesp_pq_reader *r = x->r;
    const sesp_pq_node *rn = &r->schema->nodes[rid];
    int col = r->first_col[rid];
    *out = sesp_pqv_list(NULL, 0);
    if (r->ncol_under[rid] == 0)
        return 0;
    if (r->lpos[col] >= r->cols[col].n)
        return asm_fail(x, "levels end early");
    if (peek_def(r, col) < rn->max_def)
        return consume_null(x, rid);
    vec items = {0};
    for (;;) {
        sesp_pq_value *it = vec_push(x, &items);
        if (!it)
            return x->err;
        int rc = mode == 2 ? read_field(x, rn->children[0], it, depth + 1) : read_content(x, rid, it, depth + 1);
        if (rc)
            return rc;
        const sesp_pq_column *c = &r->cols[col];
        if (r->lpos[col] >= c->n || !c->rep || c->rep[r->lpos[col]] != rn->max_rep)
            break;
    }
    *out = sesp_pqv_list(items.v, items.n);
    return 0;
}

static int read_content(asm_ctx *x, int id, sesp_pq_value *out, int depth)
{
    sesp_pq_reader *r = x->r;
    const sesp_pq_node *n = &r->schema->nodes[id];
    if (!n->is_group)
        return read_leaf(x, id, out);
    int mode = r->schema->priv[id].list_mode;
    if (mode)
        return read_items(x, n->children[0], mode, out, depth);
    sesp_pq_value *kids = n->nchildren ? sesp_arena_calloc(x->a, (size_t)n->nchildren, sizeof *kids) : NULL;
    if (n->nchildren && !kids)
        return x->err = fail(r, SESP_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n->nchildren; i++) {
        int rc = read_field(x, n->children[i], &kids[i], depth + 1);
        if (rc)
            return rc;
    }
    *out = sesp_pqv_group(kids, (size_t)n->nchildren);
    return 0;
}

static int read_field(asm_ctx *x, int id, sesp_pq_value *out, int depth)
{
    sesp_pq_reader *r = x->r;
    const sesp_pq_node *n = &r->schema->nodes[id];
    if (n->repetition == SESP_PQ_REPEATED)
        return read_items(x, id, 1, out, depth);
    if (n->repetition == SESP_PQ_OPTIONAL && r->ncol_under[id]) {
        int col = r->first_col[id];
        if (r->lpos[col] >= r->cols[col].n)
            return asm_fail(x, "levels end early");
        if (peek_def(r, col) < n->max_def) {
            *out = sesp_pqv_null();
            return consume_null(x, id);
        }
    }
    return read_content(x, id, out, depth);
}

static int next_row(sesp_pq_reader *r, sesp_arena *a, const sesp_pq_value **row_out);

int sesp_pq_reader_next_row(sesp_pq_reader *r, sesp_arena *a, const sesp_pq_value **row_out)
{
    *row_out = NULL;
    if (!r->schema)
        return fail(r, SESP_ERR_STATE, "reader is not open");
    if (r->row_err)
        return r->row_err;
    int rc = next_row(r, a, row_out);
    if (rc)
        r->row_err = rc;
    return rc;
}

static int next_row(sesp_pq_reader *r, sesp_arena *a, const sesp_pq_value **row_out)
{
    int ncols = r->schema->ncolumns;
    if (r->cur_rg >= (int)r->md.nrow_groups)
        return 0;
    while (r->cur_rg < 0 || r->row_in_rg >= r->md.row_groups[r->cur_rg].num_rows) {
        int next = r->cur_rg + 1;
        if (r->cols) {
            unload_rg(r);
        }
        if ((uint32_t)next >= r->md.nrow_groups) {
            r->cur_rg = (int)r->md.nrow_groups;
            return 0;
        }
        r->cols = calloc((size_t)ncols + 1, sizeof *r->cols);
        r->lpos = calloc((size_t)ncols + 1, sizeof *r->lpos);
        r->vpos = calloc((size_t)ncols + 1, sizeof *r->vpos);
        if (!r->cols || !r->lpos || !r->vpos) {
            unload_rg(r);
            return fail(r, SESP_ERR_NOMEM, "out of memory");
        }
        for (int c = 0; c < ncols; c++) {
            int rc = sesp_pq_reader_read_column(r, next, c, &r->cols[c]);
            if (rc) {
                unload_rg(r);
                return rc;
            }
        }
        r->cur_rg = next;
        r->row_in_rg = 0;
    }
    asm_ctx x = {.r = r, .a = a};
    sesp_pq_value *row = sesp_arena_alloc(a, sizeof *row);
    if (!row)
        return fail(r, SESP_ERR_NOMEM, "out of memory");
    int rc = read_content(&x, 0, row, 0);
    if (rc)
        return rc;
    /* The row must end exactly where the next one starts. */
    for (int c = 0; c < ncols; c++) {
        const sesp_pq_column *col = &r->cols[c];
        if (r->lpos[c] < col->n && col->rep && col->rep[r->lpos[c]] != 0)
            return asm_fail(&x, "row does not end at repetition level 0");
    }
    r->row_in_rg++;
    *row_out = row;
    return 0;
}
