/*
 * Column chunk decoding: the streaming columnar scan (sesp_pq_scan_*) and
 * sesp_pq_reader_read_column, which is that scan collected into whole-chunk
 * arrays.  A scan walks one column's chunks page by page through a sliding
 * read window, decompresses each page into a buffer reused for the next one
 * (uncompressed pages are used in place), and decodes levels and values in
 * bulk into typed vectors that are also reused: definition and repetition
 * levels run by run, PLAIN fixed-width values in place when aligned (else by
 * memcpy), dictionary indices
 * unpacked per bit width and range-checked once per page before the gather,
 * byte arrays as (offset, length) slices of the page or dictionary.  Every
 * offset, length and count from the file is checked before use; the checks
 * sit at page or run granularity, outside the per-value loops, except for
 * PLAIN byte arrays whose lengths can only be found one by one.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#define fail sesp_pq_rd_fail

/* Read granularity of the window (pages larger than this get a larger one). */
#define WINDOW_BYTES ((size_t)1 << 20)
/* First guess at a page header's size; grown if the header is larger. */
#define HEADER_PROBE ((size_t)16 << 10)

struct sesp_pq_scan {
    sesp_pq_reader *r;
    int column, rg_next, rg_end;
    const sesp_pq_node *n;
    size_t vs;                  /* output value size: 1, 4, 8 or sizeof(sesp_pq_str) */
    bool bytes;                 /* BYTE_ARRAY, FIXED, INT96: output is sesp_pq_str */
    bool keep;                  /* read_column: never reuse a buffer that slices may point into */
    int err;                    /* sticky */
    /* current chunk */
    bool in_chunk;
    int rg;
    const sesp_pq_md_column *m;
    const char *path;
    uint64_t cstart;
    size_t clen, pos;           /* chunk length; offset of the next page header */
    int64_t total, done;        /* level entries: in the chunk, decoded so far */
    int page_no;
    /* read window: chunk bytes [wbeg, wend) at win */
    uint8_t *win;
    size_t wcap, wbeg, wend;
    /* dictionary */
    bool dict_present;
    size_t dict_n;
    uint8_t *dict_page;
    size_t dict_page_cap;
    void *dict_vals;
    size_t dict_vals_cap;
    /* scratch */
    uint8_t *page, *rebuilt;
    size_t page_cap, rebuilt_cap;
    uint32_t *idx;
    size_t idx_cap;
    int64_t *t64a, *t64b;
    size_t t64a_cap, t64b_cap;
    /* output vectors */
    int16_t *def, *rep;
    size_t def_cap, rep_cap;
    uint8_t *vals;
    size_t vals_cap;
    /* keep mode: buffers handed to the caller */
    void **kept;
    size_t nkept, kcap;
};

/* Makes *pp hold at least need bytes; contents are not preserved. */
static bool reserve(void *pp, size_t *cap, size_t need)
{
    void **p = pp;
    if (*p && need <= *cap)
        return true;
    if (need > SIZE_MAX / 2)
        return false;
    size_t nc = need + need / 4 + 64;
    void *q = malloc(nc);
    if (!q)
        return false;
    free(*p);
    *p = q;
    *cap = nc;
    return true;
}

static bool keep_ptr(sesp_pq_scan *sc, void *p)
{
    if (!p)
        return true;
    if (sc->nkept == sc->kcap) {
        size_t nc = sc->kcap ? sc->kcap * 2 : 8;
        void **k = realloc(sc->kept, nc * sizeof *k);
        if (!k)
            return false;
        sc->kept = k;
        sc->kcap = nc;
    }
    sc->kept[sc->nkept++] = p;
    return true;
}

/* A buffer that byte-array slices may point into: in keep mode each use gets
 * a fresh one and the previous one is handed over. */
static uint8_t *data_buf(sesp_pq_scan *sc, uint8_t **p, size_t *cap, size_t need)
{
    if (sc->keep && sc->bytes && *p) {
        if (!keep_ptr(sc, *p))
            return NULL;
        *p = NULL;
        *cap = 0;
    }
    return reserve(p, cap, need) ? *p : NULL;
}

static int nomem(sesp_pq_scan *sc)
{
    return fail(sc->r, SESP_ERR_NOMEM, "out of memory");
}

/* Makes chunk bytes [pos, pos + need) available at win + (pos - wbeg);
 * need <= clen - pos. */
static int window(sesp_pq_scan *sc, size_t pos, size_t need)
{
    assert(need <= sc->clen - pos);
    if (pos >= sc->wbeg && pos + need <= sc->wend)
        return 0;
    size_t have = pos >= sc->wbeg && pos < sc->wend ? sc->wend - pos : 0;
    size_t want = sc->keep ? sc->clen - pos : need > WINDOW_BYTES ? need : WINDOW_BYTES;
    if (want > sc->clen - pos)
        want = sc->clen - pos;
    if (want > sc->wcap || !sc->win) {
        /* In keep mode the window is the whole chunk, allocated once. */
        assert(!sc->keep || !sc->win);
        size_t ncap = sc->keep ? want : want < WINDOW_BYTES ? WINDOW_BYTES : want + want / 4;
        uint8_t *nb = malloc(ncap + 1);
        if (!nb)
            return nomem(sc);
        if (have)
            memcpy(nb, sc->win + (pos - sc->wbeg), have);
        free(sc->win);
        sc->win = nb;
        sc->wcap = ncap;
    } else if (have && pos != sc->wbeg) {
        memmove(sc->win, sc->win + (pos - sc->wbeg), have);
    }
    size_t rd = sc->wcap - have;
    if (rd > sc->clen - pos - have)
        rd = sc->clen - pos - have;
    sc->wbeg = pos;
    sc->wend = pos + have;
    if (rd) {
        int rc = sesp_pq_rd_read(sc->r, sc->cstart + pos + have, sc->win + have, rd);
        if (rc)
            return rc;
        sc->wend += rd;
    }
    assert(pos + need <= sc->wend);
    return 0;
}

static size_t out_size(sesp_pq_physical t)
{
    switch (t) {
    case SESP_PQ_BOOLEAN: return 1;
    case SESP_PQ_INT32: case SESP_PQ_FLOAT: return 4;
    case SESP_PQ_INT64: case SESP_PQ_DOUBLE: return 8;
    default: return sizeof(sesp_pq_str);
    }
}

static int begin_chunk(sesp_pq_scan *sc, int rg)
{
    sesp_pq_reader *r = sc->r;
    const sesp_pq_column_chunk_info *ci = sesp_pq_reader_column_chunk(r, rg, sc->column);
    assert(ci);
    const sesp_pq_md_column *m = &r->md.row_groups[rg].columns[sc->column].meta;
    sc->rg = rg;
    sc->m = m;
    sc->path = ci->path;
    if (!sesp_pq_codec_supported(m->codec))
        return fail(r, SESP_ERR_UNSUPPORTED, "column %s: compression codec %d is not supported", ci->path, m->codec);
    int64_t start = m->data_page_offset;
    if (m->dictionary_page_offset > 0 && m->dictionary_page_offset < start)
        start = m->dictionary_page_offset;
    int64_t clen = m->total_compressed_size;
    if (start < 4 || clen <= 0 || (uint64_t)start > r->data_end || (uint64_t)clen > r->data_end - (uint64_t)start)
        return fail(r, SESP_ERR_CORRUPT, "column %s: chunk [%lld, +%lld) lies outside the data area", ci->path,
                    (long long)start, (long long)clen);
    const sesp_pq_node *n = sc->n;
    int64_t total = m->num_values;
    /* Bounded as if the whole chunk were materialised (read_column does). */
    size_t per_entry = (sc->bytes ? sizeof(sesp_pq_bytes) : sc->vs) + (n->max_def ? 2 : 0) + (n->max_rep ? 2 : 0);
    if ((uint64_t)clen > r->opt.max_row_group_bytes || total < 0 ||
        (uint64_t)total > r->opt.max_row_group_bytes / per_entry)
        return fail(r, SESP_ERR_TOO_LARGE, "column %s: chunk of %lld bytes / %lld values exceeds the reader limits",
                    ci->path, (long long)clen, (long long)total);
    sc->cstart = (uint64_t)start;
    sc->clen = (size_t)clen;
    sc->pos = 0;
    sc->wbeg = sc->wend = 0;
    sc->total = total;
    sc->done = 0;
    sc->page_no = 0;
    sc->dict_present = false;
    sc->dict_n = 0;
    sc->in_chunk = true;
    return 0;
}

/* Decompresses a page body into buf (or returns it in place if stored). */
static int page_bytes(sesp_pq_scan *sc, int codec, const uint8_t *src, size_t csz, size_t usz, uint8_t **bufp,
                      size_t *capp, const uint8_t **out)
{
    if (codec == SESP_PQ_UNCOMPRESSED) {
        if (csz != usz)
            return SESP_ERR_CORRUPT;
        *out = src;
        return 0;
    }
    uint8_t *u = data_buf(sc, bufp, capp, usz + 1);
    if (!u)
        return SESP_ERR_NOMEM;
    int rc = sesp_pq_decompress(codec, src, csz, u, usz);
    if (rc)
        return rc == SESP_ERR_NOMEM ? rc : SESP_ERR_CORRUPT;
    *out = u;
    return 0;
}

static void gather(const sesp_pq_scan *sc, const uint32_t *idx, size_t n, void *out)
{
    if (sc->bytes) {
        const sesp_pq_str *d = sc->dict_vals;
        sesp_pq_str *o = out;
        for (size_t i = 0; i < n; i++)
            o[i] = d[idx[i]];
        return;
    }
    switch (sc->vs) {
    case 1: {
        const uint8_t *d = sc->dict_vals;
        uint8_t *o = out;
        for (size_t i = 0; i < n; i++)
            o[i] = d[idx[i]];
        return;
    }
    case 4: {
        const uint32_t *d = sc->dict_vals;
        uint32_t *o = out;
        for (size_t i = 0; i < n; i++)
            o[i] = d[idx[i]];
        return;
    }
    default: {
        const uint64_t *d = sc->dict_vals;
        uint64_t *o = out;
        for (size_t i = 0; i < n; i++)
            o[i] = d[idx[i]];
        return;
    }
    }
}

/* Decodes nv non-null values of a data page into sc->vals; *base is what
 * byte-array slices are relative to. */
static int decode_values(sesp_pq_scan *sc, int encoding, const uint8_t *p, size_t len, size_t nv,
                         const uint8_t **base, const void **values)
{
    sesp_pq_reader *r = sc->r;
    const sesp_pq_node *n = sc->n;
    int page_no = sc->page_no;
    uint8_t *out = sc->vals;
    size_t used;
    int rc;
    *base = p;
    *values = out;
    switch (encoding) {
    case SESP_PQ_ENC_PLAIN:
        if (!sc->bytes && sc->vs > 1 && ((uintptr_t)p & (sc->vs - 1)) == 0) {
            /* Aligned fixed-width values are used where they lie. */
            if (nv > len / sc->vs)
                return fail(r, SESP_ERR_MALFORMED, "page %d: PLAIN values run past the page", page_no);
            *values = p;
            return 0;
        }
        if (sesp_pq_plain_decode(n->physical, n->type_length, p, len, nv, out, &used))
            return fail(r, SESP_ERR_MALFORMED, "page %d: PLAIN values run past the page", page_no);
        return 0;
    case SESP_PQ_ENC_PLAIN_DICTIONARY:
    case SESP_PQ_ENC_RLE_DICTIONARY: {
        if (!sc->dict_present)
            return fail(r, SESP_ERR_MALFORMED, "page %d: dictionary-encoded page without a dictionary", page_no);
        *base = sc->dict_page;
        if (nv == 0)
            return 0;
        if (len < 1 || p[0] > 32)
            return fail(r, SESP_ERR_MALFORMED, "page %d: bad dictionary index bit width", page_no);
        if (!reserve(&sc->idx, &sc->idx_cap, nv * sizeof *sc->idx))
            return nomem(sc);
        uint32_t *idx = sc->idx;
        if (sesp_pq_rle_decode(p + 1, len - 1, p[0], idx, nv))
            return fail(r, SESP_ERR_MALFORMED, "page %d: corrupt dictionary indices", page_no);
        uint32_t hi = 0;
        for (size_t i = 0; i < nv; i++)
            hi = idx[i] > hi ? idx[i] : hi;
        if (hi >= sc->dict_n) {
            size_t i = 0;
            while (idx[i] < sc->dict_n)
                i++;
            return fail(r, SESP_ERR_MALFORMED, "page %d: dictionary index %u out of range (%zu entries)", page_no,
                        idx[i], sc->dict_n);
        }
        gather(sc, idx, nv, out);
        return 0;
    }
    case SESP_PQ_ENC_RLE: {
        if (n->physical != SESP_PQ_BOOLEAN)
            return fail(r, SESP_ERR_UNSUPPORTED, "page %d: RLE values only supported for BOOLEAN", page_no);
        if (len < 4)
            return fail(r, SESP_ERR_MALFORMED, "page %d: truncated RLE booleans", page_no);
        uint32_t l;
        memcpy(&l, p, 4);
        if (l > len - 4)
            return fail(r, SESP_ERR_MALFORMED, "page %d: RLE length past the page", page_no);
        if (!reserve(&sc->idx, &sc->idx_cap, (nv ? nv : 1) * sizeof *sc->idx))
            return nomem(sc);
        if (sesp_pq_rle_decode(p + 4, l, 1, sc->idx, nv))
            return fail(r, SESP_ERR_MALFORMED, "page %d: corrupt RLE booleans", page_no);
        for (size_t i = 0; i < nv; i++)
            out[i] = (uint8_t)sc->idx[i];
        return 0;
    }
    case SESP_PQ_ENC_BYTE_STREAM_SPLIT: {
        size_t w = sesp_pq_plain_width(n->physical, n->type_length);
        if (n->physical == SESP_PQ_BYTE_ARRAY || n->physical == SESP_PQ_BOOLEAN || n->physical == SESP_PQ_INT96 || w == 0)
            return fail(r, SESP_ERR_MALFORMED, "page %d: BYTE_STREAM_SPLIT on an unsupported type", page_no);
        if (nv > len / w)
            return fail(r, SESP_ERR_MALFORMED, "page %d: BYTE_STREAM_SPLIT data too short", page_no);
        if (n->physical == SESP_PQ_FIXED_LEN_BYTE_ARRAY) {
            if (nv * w > UINT32_MAX)
                return fail(r, SESP_ERR_TOO_LARGE, "page %d: BYTE_STREAM_SPLIT data too large", page_no);
            uint8_t *buf = data_buf(sc, &sc->rebuilt, &sc->rebuilt_cap, nv * w + 1);
            if (!buf)
                return nomem(sc);
            sesp_pq_str *o = (sesp_pq_str *)out;
            for (size_t i = 0; i < nv; i++) {
                for (size_t k = 0; k < w; k++)
                    buf[i * w + k] = p[k * nv + i];
                o[i].off = (uint32_t)(i * w);
                o[i].len = (uint32_t)w;
            }
            *base = buf;
        } else {
            for (size_t k = 0; k < w; k++) {
                const uint8_t *s = p + k * nv;
                for (size_t i = 0; i < nv; i++)
                    out[i * w + k] = s[i];
            }
        }
        return 0;
    }
    case SESP_PQ_ENC_DELTA_BINARY_PACKED: {
        if (n->physical != SESP_PQ_INT32 && n->physical != SESP_PQ_INT64)
            return fail(r, SESP_ERR_MALFORMED, "page %d: DELTA_BINARY_PACKED on a non-integer column", page_no);
        if (!reserve(&sc->t64a, &sc->t64a_cap, (nv ? nv : 1) * sizeof *sc->t64a))
            return nomem(sc);
        int64_t *tmp = sc->t64a;
        rc = sesp_pq_delta_decode(p, len, n->physical == SESP_PQ_INT32 ? 32 : 64, tmp, nv, &used);
        if (rc)
            return fail(r, SESP_ERR_MALFORMED, "page %d: corrupt DELTA_BINARY_PACKED values", page_no);
        if (n->physical == SESP_PQ_INT32) {
            int32_t *o = (int32_t *)out;
            for (size_t i = 0; i < nv; i++)
                o[i] = (int32_t)tmp[i];
        } else if (nv) {
            memcpy(out, tmp, nv * 8);
        }
        return 0;
    }
    case SESP_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
    case SESP_PQ_ENC_DELTA_BYTE_ARRAY: {
        if (n->physical != SESP_PQ_BYTE_ARRAY && n->physical != SESP_PQ_FIXED_LEN_BYTE_ARRAY)
            return fail(r, SESP_ERR_MALFORMED, "page %d: delta byte-array encoding on a non-binary column", page_no);
        if (!reserve(&sc->t64a, &sc->t64a_cap, (nv ? nv : 1) * sizeof *sc->t64a))
            return nomem(sc);
        int64_t *lens = sc->t64a, *pre = NULL;
        size_t u1 = 0, u2 = 0;
        const uint8_t *q = p;
        size_t qlen = len;
        rc = 0;
        if (encoding == SESP_PQ_ENC_DELTA_BYTE_ARRAY) {
            if (!reserve(&sc->t64b, &sc->t64b_cap, (nv ? nv : 1) * sizeof *sc->t64b))
                return nomem(sc);
            pre = sc->t64b;
            rc = sesp_pq_delta_decode(q, qlen, 64, pre, nv, &u1);
            q += u1;
            qlen -= u1;
        }
        if (!rc)
            rc = sesp_pq_delta_decode(q, qlen, 64, lens, nv, &u2);
        q += u2;
        qlen -= u2;
        /* Suffix bytes follow; DELTA_BYTE_ARRAY values are rebuilt in a new buffer. */
        uint64_t total = 0;
        for (size_t i = 0; !rc && i < nv; i++) {
            if (lens[i] < 0 || (uint64_t)lens[i] > qlen || (pre && pre[i] < 0))
                rc = SESP_ERR_MALFORMED;
            else
                total += (uint64_t)lens[i] + (pre ? (uint64_t)pre[i] : 0);
        }
        uint8_t *buf = NULL;
        if (!rc && pre) {
            if (total > r->opt.max_page_bytes * 4ull || total >= UINT32_MAX)
                rc = SESP_ERR_TOO_LARGE;
            else if (!(buf = data_buf(sc, &sc->rebuilt, &sc->rebuilt_cap, (size_t)total + 1)))
                rc = SESP_ERR_NOMEM;
            *base = buf;
        }
        sesp_pq_str *o = (sesp_pq_str *)out;
        size_t pos = 0, bpos = 0, qoff = (size_t)(q - p);
        for (size_t i = 0; !rc && i < nv; i++) {
            size_t l = (size_t)lens[i];
            if (l > qlen - pos) { rc = SESP_ERR_MALFORMED; break; }
            if (pre) {
                size_t pl = (size_t)pre[i];
                if (pl > 0 && (i == 0 || pl > o[i - 1].len)) { rc = SESP_ERR_MALFORMED; break; }
                if (pl) memcpy(buf + bpos, buf + o[i - 1].off, pl);
                if (l) memcpy(buf + bpos + pl, q + pos, l);
                o[i].off = (uint32_t)bpos;
                o[i].len = (uint32_t)(pl + l);
                bpos += pl + l;
            } else {
                o[i].off = (uint32_t)(qoff + pos);
                o[i].len = (uint32_t)l;
            }
            pos += l;
            if (n->physical == SESP_PQ_FIXED_LEN_BYTE_ARRAY && o[i].len != (uint32_t)n->type_length)
                rc = SESP_ERR_MALFORMED;
        }
        if (rc == SESP_ERR_NOMEM)
            return fail(r, rc, "out of memory");
        return rc ? fail(r, rc, "page %d: corrupt delta-encoded byte arrays", page_no) : 0;
    }
    default:
        return fail(r, SESP_ERR_UNSUPPORTED, "page %d: value encoding %d is not supported", page_no, encoding);
    }
}

static int dictionary_page(sesp_pq_scan *sc, const sesp_pq_md_page *h, const uint8_t *cp, size_t csz, size_t usz)
{
    sesp_pq_reader *r = sc->r;
    const sesp_pq_node *n = sc->n;
    if (!h->has_dict || sc->dict_present || sc->done > 0)
        return fail(r, SESP_ERR_MALFORMED, "column %s: unexpected dictionary page %d", sc->path, sc->page_no);
    if (h->dict.encoding != SESP_PQ_ENC_PLAIN && h->dict.encoding != SESP_PQ_ENC_PLAIN_DICTIONARY)
        return fail(r, SESP_ERR_UNSUPPORTED, "column %s: dictionary encoding %d", sc->path, h->dict.encoding);
    /* Always copied: the window moves on, the dictionary must stay. */
    uint8_t *u = data_buf(sc, &sc->dict_page, &sc->dict_page_cap, usz + 1);
    if (!u)
        return nomem(sc);
    int rc = sesp_pq_decompress(sc->m->codec, cp, csz, u, usz);
    if (rc == SESP_ERR_NOMEM)
        return nomem(sc);
    if (rc)
        return fail(r, SESP_ERR_CORRUPT, "column %s: dictionary page does not decompress", sc->path);
    if (h->dict.num_values < 0 || (size_t)h->dict.num_values > usz * 8 + 8)
        return fail(r, SESP_ERR_MALFORMED, "column %s: dictionary of %d values in %zu bytes", sc->path,
                    h->dict.num_values, usz);
    size_t dn = (size_t)h->dict.num_values;
    if (!reserve(&sc->dict_vals, &sc->dict_vals_cap, dn * sc->vs + 1))
        return nomem(sc);
    size_t used;
    if (sesp_pq_plain_decode(n->physical, n->type_length, u, usz, dn, sc->dict_vals, &used))
        return fail(r, SESP_ERR_MALFORMED, "column %s: dictionary values run past the page", sc->path);
    sc->dict_n = dn;
    sc->dict_present = true;
    return 0;
}

/* Decodes the next data page of the current chunk into b: 1 = a batch
 * (possibly empty), 0 = the chunk has no more pages, < 0 = error. */
static int next_page(sesp_pq_scan *sc, sesp_pq_batch *b)
{
    sesp_pq_reader *r = sc->r;
    const sesp_pq_node *n = sc->n;
    int rc;
    while (sc->pos < sc->clen && sc->done < sc->total) {
        sesp_pq_md_page h;
        size_t hlen, left = sc->clen - sc->pos;
        size_t probe = left < HEADER_PROBE ? left : HEADER_PROBE;
        for (;;) {
            if ((rc = window(sc, sc->pos, probe)))
                return rc;
            size_t avail = sc->wend - sc->pos;
            rc = sesp_pq_md_page_decode(sc->win + (sc->pos - sc->wbeg), avail, &h, &hlen);
            if (!rc)
                break;
            if (avail >= left)
                return fail(r, SESP_ERR_MALFORMED, "column %s: page %d has a corrupt header (%s)", sc->path,
                            sc->page_no, sesp_strerror(rc));
            /* The header may just be longer than what the window holds. */
            probe = avail * 2 < left ? avail * 2 : left;
        }
        sc->pos += hlen;
        if ((size_t)h.compressed_page_size > sc->clen - sc->pos)
            return fail(r, SESP_ERR_CORRUPT, "column %s: page %d (%d bytes) runs past its chunk", sc->path,
                        sc->page_no, h.compressed_page_size);
        if ((size_t)h.uncompressed_page_size > r->opt.max_page_bytes)
            return fail(r, SESP_ERR_TOO_LARGE, "column %s: page %d of %d bytes exceeds the limit", sc->path,
                        sc->page_no, h.uncompressed_page_size);
        size_t csz = (size_t)h.compressed_page_size, page_off = sc->pos;
        sc->pos += csz;
        if (h.type == SESP_PQ_PAGE_INDEX || (h.type != SESP_PQ_PAGE_DICTIONARY && h.type != SESP_PQ_PAGE_DATA &&
                                             h.type != SESP_PQ_PAGE_DATA_V2)) {
            sc->page_no++;
            continue;   /* unknown page types are skippable by design */
        }
        if ((rc = window(sc, page_off, csz)))
            return rc;
        const uint8_t *cp = sc->win + (page_off - sc->wbeg);
        size_t usz = (size_t)h.uncompressed_page_size;
        if (h.type == SESP_PQ_PAGE_DICTIONARY) {
            if ((rc = dictionary_page(sc, &h, cp, csz, usz)))
                return rc;
            sc->page_no++;
            continue;
        }
        /* data pages */
        bool v2 = h.type == SESP_PQ_PAGE_DATA_V2;
        if ((v2 && !h.has_v2) || (!v2 && !h.has_data))
            return fail(r, SESP_ERR_MALFORMED, "column %s: page %d lacks its data header", sc->path, sc->page_no);
        int32_t nvals = v2 ? h.v2.num_values : h.data.num_values;
        int encoding = v2 ? h.v2.encoding : h.data.encoding;
        if (nvals < 0 || (uint64_t)nvals > (uint64_t)(sc->total - sc->done))
            return fail(r, SESP_ERR_MALFORMED, "column %s: page %d claims %d values, more than the chunk's %lld",
                        sc->path, sc->page_no, nvals, (long long)sc->total);
        const uint8_t *lv;      /* level bytes */
        size_t lvlen;
        const uint8_t *vals;
        size_t vlen;
        if (v2) {
            if (h.v2.rep_len < 0 || h.v2.def_len < 0 ||
                (size_t)h.v2.rep_len + (size_t)h.v2.def_len > csz ||
                (size_t)h.v2.rep_len + (size_t)h.v2.def_len > usz)
                return fail(r, SESP_ERR_MALFORMED, "column %s: page %d level lengths exceed the page", sc->path,
                            sc->page_no);
            size_t ll = (size_t)h.v2.rep_len + (size_t)h.v2.def_len;
            lv = cp;
            lvlen = ll;
            vlen = usz - ll;
            int codec = h.v2.is_compressed ? sc->m->codec : SESP_PQ_UNCOMPRESSED;
            rc = page_bytes(sc, codec, cp + ll, csz - ll, vlen, &sc->page, &sc->page_cap, &vals);
        } else {
            rc = page_bytes(sc, sc->m->codec, cp, csz, usz, &sc->page, &sc->page_cap, &lv);
            lvlen = usz;
            vals = NULL;
            vlen = 0;
        }
        if (rc == SESP_ERR_NOMEM)
            return nomem(sc);
        if (rc)
            return fail(r, SESP_ERR_CORRUPT, "column %s: page %d does not decompress", sc->path, sc->page_no);
        /* levels */
        size_t lp = 0, nv = (size_t)nvals, present = nv;
        const char *what[2] = {"repetition", "definition"};
        for (int k = 0; k < 2; k++) {
            int max = k ? n->max_def : n->max_rep;
            if (!max)
                continue;
            int16_t **outp = k ? &sc->def : &sc->rep;
            if (!reserve(outp, k ? &sc->def_cap : &sc->rep_cap, nv * 2 + 2))
                return nomem(sc);
            size_t l;
            const uint8_t *lb;
            if (v2) {
                l = (size_t)(k ? h.v2.def_len : h.v2.rep_len);
                lb = lv + (k ? h.v2.rep_len : 0);
            } else {
                int enc = k ? h.data.def_encoding : h.data.rep_encoding;
                if (enc != SESP_PQ_ENC_RLE)
                    return fail(r, SESP_ERR_UNSUPPORTED, "column %s: %s level encoding %d", sc->path, what[k], enc);
                uint32_t l32 = 0;
                if (lvlen - lp < 4 || (memcpy(&l32, lv + lp, 4), l32 > lvlen - lp - 4))
                    return fail(r, SESP_ERR_MALFORMED, "column %s: page %d %s levels run past the page", sc->path,
                                sc->page_no, what[k]);
                l = l32;
                lb = lv + lp + 4;
                lp += 4 + l;
            }
            size_t nmax;
            if (sesp_pq_levels_decode(lb, l, sesp_pq_bit_width((uint64_t)max), *outp, nv, max, &nmax))
                return fail(r, SESP_ERR_MALFORMED, "page %d: corrupt %s levels", sc->page_no, what[k]);
            if (k == 0 && sc->done == 0 && nv && sc->rep[0] != 0)
                return fail(r, SESP_ERR_MALFORMED, "column %s: first repetition level is not 0", sc->path);
            if (k == 1)
                present = nmax;
        }
        if (!v2) {
            vals = lv + lp;
            vlen = lvlen - lp;
        }
        if (!reserve(&sc->vals, &sc->vals_cap, present * sc->vs + 8))
            return nomem(sc);
        const uint8_t *base;
        const void *values;
        if ((rc = decode_values(sc, encoding, vals, vlen, present, &base, &values)))
            return rc;
        b->physical = n->physical;
        b->row_group = sc->rg;
        b->n = nv;
        b->nvalues = present;
        b->def = n->max_def ? sc->def : NULL;
        b->rep = n->max_rep ? sc->rep : NULL;
        b->values = sc->bytes ? NULL : values;
        b->strs = sc->bytes ? (const sesp_pq_str *)sc->vals : NULL;
        b->base = sc->bytes ? base : NULL;
        sc->done += (int64_t)nv;
        sc->page_no++;
        return 1;
    }
    return 0;
}

static int scan_new(sesp_pq_reader *r, int column, int rg, bool keep, sesp_pq_scan **out)
{
    *out = NULL;
    if (!r->schema)
        return fail(r, SESP_ERR_STATE, "reader is not open");
    if (column < 0 || column >= r->schema->ncolumns || rg >= (int)r->md.nrow_groups)
        return fail(r, SESP_ERR_RANGE, "no row group %d / column %d", rg, column);
    sesp_pq_scan *sc = calloc(1, sizeof *sc);
    if (!sc)
        return fail(r, SESP_ERR_NOMEM, "out of memory");
    sc->r = r;
    sc->column = column;
    sc->n = &r->schema->nodes[r->schema->columns[column]];
    sc->vs = out_size(sc->n->physical);
    sc->bytes = sc->n->physical == SESP_PQ_BYTE_ARRAY || sc->n->physical == SESP_PQ_FIXED_LEN_BYTE_ARRAY ||
                sc->n->physical == SESP_PQ_INT96;
    sc->keep = keep;
    sc->rg_next = rg < 0 ? 0 : rg;
    sc->rg_end = rg < 0 ? (int)r->md.nrow_groups : rg + 1;
    *out = sc;
    return 0;
}

int sesp_pq_scan_open(sesp_pq_reader *r, int column, int rg, sesp_pq_scan **out)
{
    if (!out)
        return SESP_ERR_INVALID_ARG;
    *out = NULL;
    if (!r)
        return SESP_ERR_INVALID_ARG;
    return scan_new(r, column, rg, false, out);
}

int sesp_pq_scan_next(sesp_pq_scan *sc, sesp_pq_batch *b)
{
    memset(b, 0, sizeof *b);
    if (sc->err)
        return sc->err;
    b->physical = sc->n->physical;
    for (;;) {
        int rc;
        if (!sc->in_chunk) {
            if (sc->rg_next >= sc->rg_end)
                return 0;
            if ((rc = begin_chunk(sc, sc->rg_next++)))
                return sc->err = rc;
        }
        rc = next_page(sc, b);
        if (rc < 0)
            return sc->err = rc;
        if (rc == 1 && b->n)
            return 0;
        if (rc == 0) {
            if (sc->done != sc->total)
                return sc->err = fail(sc->r, SESP_ERR_MALFORMED, "column %s: chunk holds %lld values, metadata says %lld",
                                      sc->path, (long long)sc->done, (long long)sc->total);
            sc->in_chunk = false;
        }
    }
}

void sesp_pq_scan_close(sesp_pq_scan *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->nkept; i++)
        free(sc->kept[i]);
    free(sc->kept);
    free(sc->win);
    free(sc->dict_page);
    free(sc->dict_vals);
    free(sc->page);
    free(sc->rebuilt);
    free(sc->idx);
    free(sc->t64a);
    free(sc->t64b);
    free(sc->def);
    free(sc->rep);
    free(sc->vals);
    free(sc);
}

/* ---- whole column chunks ---- */

typedef struct col_priv {
    void **bufs;
    size_t nbufs, cap;
} col_priv;

void sesp_pq_column_free(sesp_pq_column *c)
{
    if (!c)
        return;
    col_priv *cp = c->priv_;
    if (cp) {
        for (size_t i = 0; i < cp->nbufs; i++)
            free(cp->bufs[i]);
        free(cp->bufs);
        free(cp);
    }
    free(c->def);
    free(c->rep);
    free(c->values);
    memset(c, 0, sizeof *c);
}

int sesp_pq_reader_read_column(sesp_pq_reader *r, int rg, int column, sesp_pq_column *c)
{
    memset(c, 0, sizeof *c);
    const sesp_pq_column_chunk_info *ci = sesp_pq_reader_column_chunk(r, rg, column);
    if (!ci)
        return fail(r, SESP_ERR_RANGE, "no row group %d / column %d", rg, column);
    sesp_pq_scan *sc;
    int rc = scan_new(r, column, rg, true, &sc);
    if (rc)
        return rc;
    c->physical = sc->n->physical;
    size_t vs = sc->bytes ? sizeof(sesp_pq_bytes) : sc->vs;
    if (!(c->priv_ = calloc(1, sizeof(col_priv)))) {
        rc = nomem(sc);
        goto out;
    }
    if ((rc = begin_chunk(sc, rg)))
        goto out;
    sc->rg_next = rg + 1;
    size_t total = (size_t)sc->total;
    c->values = malloc(total * vs + 1);
    if (sc->n->max_def) c->def = malloc(total * 2 + 1);
    if (sc->n->max_rep) c->rep = malloc(total * 2 + 1);
    if (!c->values || (sc->n->max_def && !c->def) || (sc->n->max_rep && !c->rep)) {
        rc = nomem(sc);
        goto out;
    }
    for (;;) {
        sesp_pq_batch b;
        if ((rc = sesp_pq_scan_next(sc, &b)))
            goto out;
        if (!b.n)
            break;
        assert(c->n + b.n <= total);
        if (b.def)
            memcpy(c->def + c->n, b.def, b.n * 2);
        if (b.rep)
            memcpy(c->rep + c->n, b.rep, b.n * 2);
        if (sc->bytes) {
            sesp_pq_bytes *o = (sesp_pq_bytes *)c->values + c->nvalues;
            for (size_t i = 0; i < b.nvalues; i++)
                o[i] = (sesp_pq_bytes){b.base + b.strs[i].off, b.strs[i].len};
        } else if (b.nvalues) {
            memcpy((uint8_t *)c->values + c->nvalues * vs, b.values, b.nvalues * vs);
        }
        c->n += b.n;
        c->nvalues += b.nvalues;
    }
    /* Hand over every buffer the byte arrays may point into. */
    if (sc->bytes) {
        uint8_t **bufs[4] = {&sc->win, &sc->page, &sc->rebuilt, &sc->dict_page};
        for (int i = 0; i < 4; i++) {
            if (!keep_ptr(sc, *bufs[i])) {
                rc = nomem(sc);
                goto out;
            }
            *bufs[i] = NULL;
        }
        col_priv *cp = c->priv_;
        cp->bufs = sc->kept;
        cp->nbufs = sc->nkept;
        cp->cap = sc->kcap;
        sc->kept = NULL;
        sc->nkept = sc->kcap = 0;
    }
    rc = 0;
out:
    sesp_pq_scan_close(sc);
    if (rc)
        sesp_pq_column_free(c);
    return rc;
}
