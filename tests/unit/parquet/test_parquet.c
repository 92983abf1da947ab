/* Unit tests of lakehouse/parquet: Thrift compact round trips, the RLE hybrid
 * at every bit width, writer -> reader round trips over types, logical types,
 * nesting, codecs, encodings and page versions, statistics, and damaged files
 * (truncated at every footer position, flipped bytes) that must fail cleanly;
 * the streaming scan agrees with read_column everywhere. */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "lakehouse/parquet/parquet.h"
#include "lakehouse/parquet/pq_internal.h"

/* ---- helpers ---- */

static int mem_write(void *ctx, const void *p, size_t len)
{
    sesp_bufw_put(ctx, p, len);
    return ((sesp_bufw *)ctx)->err;
}

typedef struct memsrc { const uint8_t *p; size_t len; } memsrc;

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    memsrc *m = ctx;
    if (off > m->len || len > m->len - off)
        return SESP_ERR_TRUNCATED;
    memcpy(buf, m->p + off, len);
    return 0;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static sesp_pq_reader *open_mem(const sesp_bufw *file, memsrc *m, int *rc_out)
{
    m->p = file->p;
    m->len = file->len;
    sesp_pq_source src = {mem_read, m, file->len};
    sesp_pq_reader *r = NULL;
    int rc = sesp_pq_reader_open(src, NULL, &r);
    if (rc_out)
        *rc_out = rc;
    if (rc) {
        sesp_pq_reader_close(r);
        return NULL;
    }
    return r;
}

/* Deep equality of two values (NaN equals NaN bitwise). */
static bool value_eq(const sesp_pq_value *a, const sesp_pq_value *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case SESP_PQV_NULL: return true;
    case SESP_PQV_BOOL: return a->u.b == b->u.b;
    case SESP_PQV_INT32: return a->u.i32 == b->u.i32;
    case SESP_PQV_INT64: return a->u.i64 == b->u.i64;
    case SESP_PQV_FLOAT: return memcmp(&a->u.f, &b->u.f, 4) == 0;
    case SESP_PQV_DOUBLE: return memcmp(&a->u.d, &b->u.d, 8) == 0;
    case SESP_PQV_BYTES:
        return a->u.bytes.len == b->u.bytes.len && (a->u.bytes.len == 0 || memcmp(a->u.bytes.p, b->u.bytes.p, a->u.bytes.len) == 0);
    case SESP_PQV_GROUP:
    case SESP_PQV_LIST: {
        if (a->u.group.n != b->u.group.n)
            return false;
        for (size_t i = 0; i < a->u.group.n; i++)
            if (!value_eq(&a->u.group.v[i], &b->u.group.v[i]))
                return false;
        return true;
    }
    }
    return false;
}

/* ---- thrift ---- */

static void test_thrift_roundtrip(void)
{
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    sesp_tc_writer t;
    sesp_tc_writer_init(&t, &w);
    sesp_tc_w_struct_begin(&t, -1);
    sesp_tc_w_i32(&t, 1, -5);
    sesp_tc_w_i64(&t, 2, INT64_MIN);
    sesp_tc_w_binary(&t, 3, "abc", 3);
    sesp_tc_w_bool(&t, 4, true);
    sesp_tc_w_i32(&t, 40, 77);                /* long delta: explicit id */
    sesp_tc_w_struct_begin(&t, 41);           /* nested, to be skipped */
    sesp_tc_w_i32(&t, 1, 9);
    sesp_tc_w_list_begin(&t, 2, SESP_TC_I32, 20);
    for (int i = 0; i < 20; i++)
        sesp_tc_w_elem_i32(&t, i - 10);
    sesp_tc_w_struct_end(&t);
    sesp_tc_w_bool(&t, 42, false);
    sesp_tc_w_struct_end(&t);
    CU_ASSERT_EQUAL_FATAL(w.err, 0);

    sesp_tc_reader r;
    sesp_tc_reader_init(&r, w.p, w.len);
    CU_ASSERT_TRUE(sesp_tc_struct_begin(&r));
    int16_t id;
    int ft;
    int seen = 0;
    while ((ft = sesp_tc_field(&r, &id)) != SESP_TC_STOP) {
        switch (id) {
        case 1: CU_ASSERT_EQUAL(sesp_tc_int_of(&r, ft), -5); seen |= 1; break;
        case 2: CU_ASSERT_EQUAL(sesp_tc_i64_of(&r, ft), INT64_MIN); seen |= 2; break;
        case 3: { uint32_t l; const uint8_t *p = sesp_tc_binary(&r, &l); CU_ASSERT(l == 3 && memcmp(p, "abc", 3) == 0); seen |= 4; break; }
        case 4: CU_ASSERT_TRUE(sesp_tc_bool(&r, ft)); seen |= 8; break;
        case 40: CU_ASSERT_EQUAL(sesp_tc_int_of(&r, ft), 77); seen |= 16; break;
        case 42: CU_ASSERT_FALSE(sesp_tc_bool(&r, ft)); seen |= 32; break;
        default: CU_ASSERT_TRUE(sesp_tc_skip(&r, ft)); break;
        }
    }
    sesp_tc_struct_end(&r);
    CU_ASSERT_EQUAL(r.r.err, 0);
    CU_ASSERT_EQUAL(seen, 63);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r.r), 0);

    /* Every truncation fails cleanly while skipping the whole struct. */
    for (size_t cut = 0; cut < w.len; cut++) {
        sesp_tc_reader_init(&r, w.p, cut);
        bool ok = sesp_tc_skip(&r, SESP_TC_STRUCT);
        CU_ASSERT_FALSE(ok);
    }
    sesp_bufw_free(&w);

    /* Deep nesting is refused, not recursed into. */
    uint8_t deep[200];
    for (size_t i = 0; i < sizeof deep; i++)
        deep[i] = 0x1c;                       /* field delta 1, type STRUCT */
    sesp_tc_reader_init(&r, deep, sizeof deep);
    CU_ASSERT_FALSE(sesp_tc_skip(&r, SESP_TC_STRUCT));
    CU_ASSERT_EQUAL(r.r.err, SESP_ERR_MALFORMED);
    /* A list claiming more elements than bytes left is refused. */
    uint8_t biglist[] = {0xf5, 0xff, 0xff, 0xff, 0x0f};
    sesp_tc_reader_init(&r, biglist, sizeof biglist);
    int et; uint32_t n;
    CU_ASSERT_FALSE(sesp_tc_list(&r, &et, &n));
}

static void test_metadata_roundtrip(void)
{
    sesp_pq_md_page h;
    memset(&h, 0, sizeof h);
    h.type = SESP_PQ_PAGE_DATA_V2;
    h.uncompressed_page_size = 1000;
    h.compressed_page_size = 500;
    h.has_v2 = true;
    h.v2.num_values = 10; h.v2.num_nulls = 2; h.v2.num_rows = 9; h.v2.encoding = 8;
    h.v2.def_len = 3; h.v2.rep_len = 4; h.v2.is_compressed = false;
    h.v2.has_stats = true;
    h.v2.stats.has_min_value = true;
    h.v2.stats.min_value = (sesp_pq_bytes){(const uint8_t *)"ab", 2};
    h.v2.stats.has_null_count = true;
    h.v2.stats.null_count = 2;
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    sesp_pq_md_page_encode(&h, &w);
    sesp_pq_md_page g;
    size_t used;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_md_page_decode(w.p, w.len, &g, &used), 0);
    CU_ASSERT_EQUAL(used, w.len);
    CU_ASSERT_EQUAL(g.type, SESP_PQ_PAGE_DATA_V2);
    CU_ASSERT(g.has_v2 && g.v2.num_values == 10 && g.v2.num_nulls == 2 && g.v2.num_rows == 9);
    CU_ASSERT(g.v2.def_len == 3 && g.v2.rep_len == 4 && !g.v2.is_compressed && g.v2.encoding == 8);
    CU_ASSERT(g.v2.has_stats && g.v2.stats.null_count == 2 && g.v2.stats.min_value.len == 2);
    for (size_t cut = 0; cut < w.len; cut++)
        CU_ASSERT_NOT_EQUAL(sesp_pq_md_page_decode(w.p, cut, &g, &used), 0);
    sesp_bufw_free(&w);
}

/* ---- RLE ---- */

static void test_rle_all_widths(void)
{
    size_t n = 5000;
    uint32_t *v = malloc(n * sizeof *v), *o = malloc(n * sizeof *o);
    for (int bw = 0; bw <= 32; bw++) {
        uint64_t mask = bw == 32 ? 0xffffffffull : ((1ull << bw) - 1);
        for (size_t i = 0; i < n; i++) {
            /* mixed: runs, random stretches, extremes */
            if ((i / 100) % 3 == 0) v[i] = (uint32_t)(mask & (i / 100));
            else if ((i / 100) % 3 == 1) v[i] = (uint32_t)(rnd() & mask);
            else v[i] = (uint32_t)(i % 2 ? mask : 0);
        }
        for (size_t len = 0; len <= n; len += len < 20 ? 1 : 997) {
            sesp_bufw w;
            sesp_bufw_init(&w, 0, 0);
            sesp_pq_rle_encode(&w, v, len, bw);
            CU_ASSERT_EQUAL(w.err, 0);
            memset(o, 0xab, n * sizeof *o);
            CU_ASSERT_EQUAL(sesp_pq_rle_decode(w.p, w.len, bw, o, len), 0);
            CU_ASSERT_EQUAL(memcmp(v, o, len * sizeof *v), 0);
            if (len > 0 && w.len > 0) {
                /* Truncated input never reads out of bounds. */
                int rc = sesp_pq_rle_decode(w.p, w.len / 2, bw, o, len);
                (void)rc;
            }
            sesp_bufw_free(&w);
        }
        if (bw <= 16) {
            int16_t lv[300], lo[300];
            for (int i = 0; i < 300; i++)
                lv[i] = (int16_t)((rnd() % 4 == 0 ? rnd() : (uint64_t)i / 50) & mask);
            sesp_bufw w;
            sesp_bufw_init(&w, 0, 0);
            sesp_pq_rle_encode16(&w, lv, 300, bw);
            CU_ASSERT_EQUAL(sesp_pq_rle_decode16(w.p, w.len, bw, lo, 300, (int)mask), 0);
            CU_ASSERT_EQUAL(memcmp(lv, lo, sizeof lv), 0);
            sesp_bufw_free(&w);
        }
    }
    /* Level above the max is rejected. */
    int16_t lv[16] = {0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, lo[16];
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    sesp_pq_rle_encode16(&w, lv, 16, 2);
    CU_ASSERT_NOT_EQUAL(sesp_pq_rle_decode16(w.p, w.len, 2, lo, 16, 2), 0);
    sesp_bufw_free(&w);
    free(v);
    free(o);
}

/* ---- DELTA_BINARY_PACKED (read side), with a minimal encoder here ---- */

static void delta_encode(sesp_bufw *w, const int64_t *v, size_t n)
{
    const size_t block = 128, mbs = 4, per = 32;
    sesp_bufw_uvarlong(w, block);
    sesp_bufw_uvarlong(w, mbs);
    sesp_bufw_uvarlong(w, n);
    sesp_bufw_varlong(w, n ? v[0] : 0);
    for (size_t start = 1; start < n; start += block) {
        size_t cnt = n - start < block ? n - start : block;
        int64_t d[128];
        int64_t mn = INT64_MAX;
        for (size_t i = 0; i < cnt; i++) {
            d[i] = (int64_t)((uint64_t)v[start + i] - (uint64_t)v[start + i - 1]);
            if (d[i] < mn) mn = d[i];
        }
        sesp_bufw_varlong(w, mn);
        uint8_t widths[4] = {0};
        for (size_t m = 0; m < mbs; m++) {
            uint64_t mx = 0;
            for (size_t i = m * per; i < (m + 1) * per && i < cnt; i++)
                if ((uint64_t)d[i] - (uint64_t)mn > mx) mx = (uint64_t)d[i] - (uint64_t)mn;
            widths[m] = (uint8_t)sesp_pq_bit_width(mx);
        }
        sesp_bufw_put(w, widths, mbs);
        for (size_t m = 0; m < mbs && m * per < cnt; m++) {
            /* bit-pack 32 values of widths[m] bits, LSB first */
            uint8_t buf[8 * 32] = {0};
            size_t bit = 0;
            for (size_t i = m * per; i < (m + 1) * per; i++) {
                uint64_t x = i < cnt ? (uint64_t)d[i] - (uint64_t)mn : 0;
                for (int b = 0; b < widths[m]; b++, bit++)
                    if (x >> b & 1) buf[bit / 8] |= (uint8_t)(1u << (bit % 8));
            }
            sesp_bufw_put(w, buf, per * widths[m] / 8);
        }
    }
}

static void test_delta_decode(void)
{
    size_t ns[] = {0, 1, 2, 33, 128, 129, 1000};
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        size_t n = ns[t];
        int64_t *v = malloc((n + 1) * sizeof *v), *o = malloc((n + 1) * sizeof *o);
        for (size_t i = 0; i < n; i++)
            v[i] = i % 100 == 5 ? INT64_MIN : i % 77 == 3 ? INT64_MAX : (int64_t)(rnd() % 1000) - 500 + (int64_t)i * 3;
        sesp_bufw w;
        sesp_bufw_init(&w, 0, 0);
        delta_encode(&w, v, n);
        sesp_bufw_put(&w, "tail", 4);
        size_t used = 0;
        CU_ASSERT_EQUAL(sesp_pq_delta_decode(w.p, w.len, 64, o, n, &used), 0);
        CU_ASSERT_EQUAL(used, w.len - 4);
        CU_ASSERT(n == 0 || memcmp(v, o, n * sizeof *v) == 0);
        /* Wrong count and every truncation fail cleanly. */
        CU_ASSERT_NOT_EQUAL(sesp_pq_delta_decode(w.p, w.len, 64, o, n + 1, &used), 0);
        for (size_t cut = 0; n > 1 && cut < w.len - 4; cut += 3)
            CU_ASSERT_NOT_EQUAL(sesp_pq_delta_decode(w.p, cut, 64, o, n, &used), 0);
        sesp_bufw_free(&w);
        free(v);
        free(o);
    }
}

/* Bulk unpacking against a bit-by-bit reference at every width, and level
 * decoding's count of entries at the max. */
static void test_unpack_and_levels(void)
{
    uint8_t in[32 * 9];
    uint32_t out[72];
    for (int bw = 0; bw <= 32; bw++) {
        for (size_t i = 0; i < sizeof in; i++)
            in[i] = (uint8_t)rnd();
        sesp_pq_unpack32(in, 9, bw, out);
        bool same = true;
        for (size_t j = 0; j < 72; j++) {
            uint32_t e = 0;
            for (int k = 0; k < bw; k++) {
                size_t bit = j * (size_t)bw + (size_t)k;
                e |= (uint32_t)((in[bit / 8] >> (bit % 8)) & 1) << k;
            }
            same = same && out[j] == e;
        }
        CU_ASSERT_TRUE(same);
    }
    for (int max = 1; max <= 5; max++) {
        int bw = sesp_pq_bit_width((uint64_t)max);
        int16_t lv[1000], lo[1000];
        size_t expect = 0;
        for (size_t i = 0; i < 1000; i++) {
            lv[i] = (int16_t)((i / 37) % 2 ? max : (int)(rnd() % (uint64_t)(max + 1)));
            expect += lv[i] == max;
        }
        for (size_t n = 0; n <= 1000; n += n < 20 ? 1 : 123) {
            sesp_bufw w;
            sesp_bufw_init(&w, 0, 0);
            sesp_pq_rle_encode16(&w, lv, n, bw);
            size_t cnt = 12345, e = 0;
            for (size_t i = 0; i < n; i++)
                e += lv[i] == max;
            CU_ASSERT_EQUAL(sesp_pq_levels_decode(w.p, w.len, bw, lo, n, max, &cnt), 0);
            CU_ASSERT_EQUAL(cnt, e);
            CU_ASSERT(n == 0 || memcmp(lv, lo, n * 2) == 0);
            /* A lower max rejects the data; truncation fails without overrun. */
            if (n > 0 && e > 0)
                CU_ASSERT_NOT_EQUAL(sesp_pq_levels_decode(w.p, w.len, bw, lo, n, max - 1, &cnt), 0);
            for (size_t cut = 0; cut < w.len; cut++) {
                uint8_t *copy = malloc(cut + 1);
                memcpy(copy, w.p, cut);
                (void)sesp_pq_levels_decode(copy, cut, bw, lo, n, max, &cnt);
                free(copy);
            }
            sesp_bufw_free(&w);
        }
        (void)expect;
    }
    /* Booleans: bitmap -> bytes. */
    uint8_t bits[5] = {0xa5, 0x0f, 0xf0, 0x81, 0x03}, bytes[37];
    sesp_pq_unpack_bools(bits, 37, bytes);
    bool ok = true;
    for (size_t i = 0; i < 37; i++)
        ok = ok && bytes[i] == ((bits[i / 8] >> (i % 8)) & 1);
    CU_ASSERT_TRUE(ok);
}

/* Scan arguments and errors: out of range, sticky failure, empty file. */
static void test_scan_api(void)
{
    sesp_pq_schema *s;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_schema_new(&s), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "x", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL), 0);
    sesp_bufw file;
    sesp_bufw_init(&file, 0, 0);
    sesp_pq_writer_options o = {.codec = SESP_PQ_SNAPPY, .page_bytes = 1024, .row_group_bytes = 20000};
    sesp_pq_writer *w;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, &o, (sesp_pq_sink){mem_write, &file}, &w), 0);
    int64_t v[10000];
    for (int i = 0; i < 10000; i++)
        v[i] = (int64_t)i * 3 - 7;
    sesp_pq_column_batch cb = {NULL, v, NULL};
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_column_batch(w, &cb, 10000), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, NULL), 0);
    sesp_pq_schema_free(s);
    memsrc m;
    sesp_pq_reader *r = open_mem(&file, &m, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(sesp_pq_reader_num_row_groups(r) > 1);
    sesp_pq_scan *sc = NULL;
    CU_ASSERT_EQUAL(sesp_pq_scan_open(r, 1, -1, &sc), SESP_ERR_RANGE);
    CU_ASSERT_PTR_NULL(sc);
    CU_ASSERT_EQUAL(sesp_pq_scan_open(r, 0, sesp_pq_reader_num_row_groups(r), &sc), SESP_ERR_RANGE);
    CU_ASSERT_EQUAL(sesp_pq_scan_open(r, 0, -1, NULL), SESP_ERR_INVALID_ARG);
    /* Two scans of one reader interleave; values arrive in order, pages at a time. */
    sesp_pq_scan *a, *b2;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_scan_open(r, 0, -1, &a), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_pq_scan_open(r, 0, -1, &b2), 0);
    size_t na = 0, nb = 0, batches = 0;
    bool ok = true, ea = false, eb = false;
    while (!ea || !eb) {
        sesp_pq_batch x;
        if (!ea) {
            CU_ASSERT_EQUAL_FATAL(sesp_pq_scan_next(a, &x), 0);
            for (size_t k = 0; k < x.n; k++)
                ok = ok && ((const int64_t *)x.values)[k] == (int64_t)(na + k) * 3 - 7;
            CU_ASSERT(x.def == NULL && x.rep == NULL && x.strs == NULL && x.nvalues == x.n);
            na += x.n;
            ea = x.n == 0;
            batches++;
        }
        if (!eb) {
            CU_ASSERT_EQUAL_FATAL(sesp_pq_scan_next(b2, &x), 0);
            nb += x.n;
            eb = x.n == 0;
        }
    }
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(na, 10000);
    CU_ASSERT_EQUAL(nb, 10000);
    CU_ASSERT(batches > (size_t)sesp_pq_reader_num_row_groups(r));
    sesp_pq_scan_close(a);
    sesp_pq_scan_close(b2);
    sesp_pq_reader_close(r);
    /* Corrupt the second row group's first page body: the scan fails there,
     * after delivering the first row group, and stays failed. */
    memsrc m2;
    r = open_mem(&file, &m2, NULL);
    const sesp_pq_column_chunk_info *ci = sesp_pq_reader_column_chunk(r, 1, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ci);
    int64_t rows0 = sesp_pq_reader_row_group_rows(r, 0), dpo = ci->data_page_offset;
    sesp_pq_reader_close(r);
    uint8_t *copy = malloc(file.len);
    memcpy(copy, file.p, file.len);
    for (int k = 0; k < 40; k++)
        copy[dpo + 20 + k] ^= 0x5a;
    sesp_bufw dam = {.p = copy, .len = file.len};
    r = open_mem(&dam, &m2, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(sesp_pq_scan_open(r, 0, -1, &sc), 0);
    size_t got = 0;
    int rc;
    for (;;) {
        sesp_pq_batch x;
        rc = sesp_pq_scan_next(sc, &x);
        if (rc || !x.n)
            break;
        got += x.n;
    }
    CU_ASSERT(rc < 0);
    CU_ASSERT(got >= (size_t)rows0);
    sesp_pq_batch x;
    CU_ASSERT_EQUAL(sesp_pq_scan_next(sc, &x), rc);
    CU_ASSERT(strlen(sesp_pq_reader_error(r)) > 0);
    sesp_pq_scan_close(sc);
    sesp_pq_reader_close(r);
    free(copy);
    sesp_bufw_free(&file);
}

/* ---- flat round trip over all types ---- */

enum { NROWS = 3000 };

typedef struct flat_case {
    sesp_pq_codec codec;
    bool dict;
    bool v2;
    size_t page_bytes;
    size_t row_group_bytes;
    size_t dict_limit;
} flat_case;

static const uint8_t UUIDS[4][16] = {
    {0x00}, {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00},
    {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0},
    {0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
};

static sesp_pq_schema *flat_schema(void)
{
    sesp_pq_schema *s;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_schema_new(&s), 0);
    sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING), date = sesp_pq_lt(SESP_PQ_LT_DATE);
    sesp_pq_logical ts = sesp_pq_lt_timestamp(SESP_PQ_MICROS, true);
    sesp_pq_logical i8 = sesp_pq_lt_int(8, true), i16 = sesp_pq_lt_int(16, true);
    sesp_pq_logical d32 = sesp_pq_lt_decimal(9, 2), d64 = sesp_pq_lt_decimal(18, 4), dfx = sesp_pq_lt_decimal(30, 5);
    sesp_pq_logical uuid = sesp_pq_lt(SESP_PQ_LT_UUID);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "b", SESP_PQ_OPTIONAL, SESP_PQ_BOOLEAN, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "i32", SESP_PQ_REQUIRED, SESP_PQ_INT32, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "i64", SESP_PQ_OPTIONAL, SESP_PQ_INT64, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "f", SESP_PQ_OPTIONAL, SESP_PQ_FLOAT, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "d", SESP_PQ_REQUIRED, SESP_PQ_DOUBLE, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "s", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "bin", SESP_PQ_REQUIRED, SESP_PQ_BYTE_ARRAY, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "fx", SESP_PQ_OPTIONAL, SESP_PQ_FIXED_LEN_BYTE_ARRAY, NULL, 3, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "i8", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &i8, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "i16", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &i16, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "date", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &date, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "ts", SESP_PQ_OPTIONAL, SESP_PQ_INT64, &ts, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "dec32", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &d32, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "dec64", SESP_PQ_OPTIONAL, SESP_PQ_INT64, &d64, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "decfx", SESP_PQ_OPTIONAL, SESP_PQ_FIXED_LEN_BYTE_ARRAY, &dfx, 13, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "uuid", SESP_PQ_OPTIONAL, SESP_PQ_FIXED_LEN_BYTE_ARRAY, &uuid, 16, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_column_count(s), 16);
    return s;
}

/* Row i of the flat table; strings live in buf. */
static void flat_row(size_t i, sesp_pq_value *v, char *buf, uint8_t *fx, uint8_t *dfx)
{
    bool null = i % 7 == 3;
    v[0] = null ? sesp_pqv_null() : sesp_pqv_bool(i % 3 == 0);
    v[1] = sesp_pqv_i32((int32_t)(i * 2654435761u));
    v[2] = null ? sesp_pqv_null() : sesp_pqv_i64(i % 5 == 0 ? INT64_MIN + (int64_t)i : (int64_t)(i * 1000003ull) - 500);
    v[3] = null ? sesp_pqv_null() : sesp_pqv_float(i % 11 == 0 ? NAN : (float)i / 3.0f - 100);
    v[4] = sesp_pqv_double(i % 13 == 0 ? -0.0 : (double)i * 1.5e-3 - 2);
    int n = snprintf(buf, 64, "str-%zu-%s", i % 50, i % 2 ? "\xc3\xa9t\xc3\xa9" : "x");
    v[5] = null ? sesp_pqv_null() : sesp_pqv_bytes(buf, (size_t)n);
    v[6] = sesp_pqv_bytes(buf, i % 4 == 0 ? 0 : (size_t)n);     /* includes empty */
    fx[0] = (uint8_t)i; fx[1] = (uint8_t)(i >> 8); fx[2] = 0xff;
    v[7] = null ? sesp_pqv_null() : sesp_pqv_bytes(fx, 3);
    v[8] = null ? sesp_pqv_null() : sesp_pqv_i32((int32_t)(i % 256) - 128);
    v[9] = null ? sesp_pqv_null() : sesp_pqv_i32((int32_t)(i % 65536) - 32768);
    v[10] = null ? sesp_pqv_null() : sesp_pqv_i32((int32_t)i - 1000);
    v[11] = null ? sesp_pqv_null() : sesp_pqv_i64(1700000000000000ll + (int64_t)i * 1000001);
    v[12] = null ? sesp_pqv_null() : sesp_pqv_i32((int32_t)(i * 7919) % 999999999 * (i % 2 ? -1 : 1));
    v[13] = null ? sesp_pqv_null() : sesp_pqv_i64((int64_t)(i * 104729ull) * (i % 2 ? -1 : 1));
    memset(dfx, i % 2 ? 0xff : 0, 13);
    dfx[12] = (uint8_t)i;
    dfx[11] = (uint8_t)(i >> 8);
    v[14] = null ? sesp_pqv_null() : sesp_pqv_bytes(dfx, 13);
    v[15] = null ? sesp_pqv_null() : sesp_pqv_bytes(UUIDS[i % 4], 16);
}

/* ---- streaming scan ---- */

/* Scans every column (all row groups, then each row group alone) and checks
 * that the batches carry exactly what read_column returns, levels, values
 * and byte-array contents alike.  Returns false if any read failed. */
static bool scan_matches_columns(sesp_pq_reader *r, bool expect_ok)
{
    const sesp_pq_schema *s = sesp_pq_reader_schema(r);
    int ngroups = sesp_pq_reader_num_row_groups(r);
    bool all_ok = true;
    for (int c = 0; c < sesp_pq_schema_column_count(s); c++) {
        const sesp_pq_node *node = sesp_pq_schema_node(s, sesp_pq_schema_column_node(s, c));
        for (int only = -1; only < ngroups; only++) {
            sesp_pq_scan *sc;
            int rc = sesp_pq_scan_open(r, c, only, &sc);
            CU_ASSERT_EQUAL_FATAL(rc, 0);
            int g = only < 0 ? 0 : only, gend = only < 0 ? ngroups : only + 1;
            sesp_pq_column col;
            memset(&col, 0, sizeof col);
            bool have = false, col_failed = false;
            size_t lpos = 0, vpos = 0;
            for (;;) {
                sesp_pq_batch b;
                rc = sesp_pq_scan_next(sc, &b);
                if (rc) {
                    CU_ASSERT(rc < 0);
                    /* sticky */
                    CU_ASSERT_EQUAL(sesp_pq_scan_next(sc, &b), rc);
                    CU_ASSERT_EQUAL(b.n, 0);
                    break;
                }
                /* Move to the row group of this batch, checking skipped ones were empty. */
                while (!have || (lpos == col.n && b.n && g < b.row_group)) {
                    if (have) {
                        CU_ASSERT_EQUAL(vpos, col.nvalues);
                        sesp_pq_column_free(&col);
                        g++;
                    }
                    if (g >= gend)
                        break;
                    if (sesp_pq_reader_read_column(r, g, c, &col)) {
                        col_failed = true;
                        break;
                    }
                    have = true;
                    lpos = vpos = 0;
                }
                if (col_failed) {
                    /* The chunk is damaged further on: the scan may deliver
                     * its first pages but must fail before leaving it. */
                    while (!(rc = sesp_pq_scan_next(sc, &b)) && b.n)
                        CU_ASSERT_EQUAL(b.row_group, g);
                    CU_ASSERT(rc < 0);
                    break;
                }
                if (!b.n) {
                    CU_ASSERT_EQUAL(lpos, col.n);
                    CU_ASSERT_EQUAL(vpos, col.nvalues);
                    CU_ASSERT(g == gend - 1 || g == gend);
                    break;
                }
                CU_ASSERT_EQUAL_FATAL(b.row_group, g);
                CU_ASSERT_EQUAL(b.physical, node->physical);
                CU_ASSERT_FATAL(lpos + b.n <= col.n && vpos + b.nvalues <= col.nvalues);
                CU_ASSERT_EQUAL(b.def != NULL, node->max_def > 0);
                CU_ASSERT_EQUAL(b.rep != NULL, node->max_rep > 0);
                if (b.def)
                    CU_ASSERT_EQUAL(memcmp(b.def, col.def + lpos, b.n * 2), 0);
                if (b.rep)
                    CU_ASSERT_EQUAL(memcmp(b.rep, col.rep + lpos, b.n * 2), 0);
                size_t present = 0;
                for (size_t k = 0; k < b.n; k++)
                    present += !b.def || b.def[k] == node->max_def;
                CU_ASSERT_EQUAL(present, b.nvalues);
                if (b.strs) {
                    CU_ASSERT_PTR_NULL(b.values);
                    const sesp_pq_bytes *e = (const sesp_pq_bytes *)col.values + vpos;
                    bool same = true;
                    for (size_t k = 0; k < b.nvalues; k++)
                        same = same && b.strs[k].len == e[k].len &&
                               (e[k].len == 0 || memcmp(b.base + b.strs[k].off, e[k].p, e[k].len) == 0);
                    CU_ASSERT_TRUE(same);
                } else {
                    size_t vs = node->physical == SESP_PQ_BOOLEAN ? 1
                              : node->physical == SESP_PQ_INT32 || node->physical == SESP_PQ_FLOAT ? 4 : 8;
                    CU_ASSERT_PTR_NOT_NULL_FATAL(b.values);
                    CU_ASSERT_EQUAL((uintptr_t)b.values % vs, 0);
                    CU_ASSERT(b.nvalues == 0 ||
                              memcmp(b.values, (const uint8_t *)col.values + vpos * vs, b.nvalues * vs) == 0);
                }
                lpos += b.n;
                vpos += b.nvalues;
            }
            if (rc) {
                all_ok = false;
                if (expect_ok) {
                    fprintf(stderr, "scan: %s\n", sesp_pq_reader_error(r));
                    CU_FAIL("scan failed");
                }
            }
            sesp_pq_column_free(&col);
            sesp_pq_scan_close(sc);
        }
    }
    return all_ok;
}

static void check_flat_file(const sesp_bufw *file, size_t nrows, const char *what)
{
    memsrc m;
    int rc;
    sesp_pq_reader *r = open_mem(file, &m, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(sesp_pq_reader_num_rows(r), (int64_t)nrows);
    const sesp_pq_schema *s = sesp_pq_reader_schema(r);
    CU_ASSERT_EQUAL(sesp_pq_schema_column_count(s), 16);
    /* Logical types survive. */
    const sesp_pq_node *ts = sesp_pq_schema_node(s, sesp_pq_schema_find_child(s, 0, "ts"));
    CU_ASSERT(ts && ts->logical.kind == SESP_PQ_LT_TIMESTAMP && ts->logical.utc && ts->logical.unit == SESP_PQ_MICROS);
    const sesp_pq_node *dfx = sesp_pq_schema_node(s, sesp_pq_schema_find_child(s, 0, "decfx"));
    CU_ASSERT(dfx && dfx->logical.kind == SESP_PQ_LT_DECIMAL && dfx->logical.precision == 30 &&
              dfx->logical.scale == 5 && dfx->type_length == 13);
    const sesp_pq_node *i8 = sesp_pq_schema_node(s, sesp_pq_schema_find_child(s, 0, "i8"));
    CU_ASSERT(i8 && i8->logical.kind == SESP_PQ_LT_INT && i8->logical.bit_width == 8 && i8->logical.is_signed);
    CU_ASSERT(strncmp(sesp_pq_reader_created_by(r), "SESP version ", 13) == 0);
    sesp_arena a;
    sesp_arena_init(&a, 0);
    size_t i = 0;
    bool all_ok = true;
    for (;; i++) {
        const sesp_pq_value *row;
        rc = sesp_pq_reader_next_row(r, &a, &row);
        if (rc) {
            fprintf(stderr, "%s: %s\n", what, sesp_pq_reader_error(r));
            CU_FAIL("next_row failed");
            break;
        }
        if (!row)
            break;
        sesp_pq_value exp[16];
        char buf[64];
        uint8_t fx[3], dfxb[13];
        flat_row(i, exp, buf, fx, dfxb);
        sesp_pq_value eg = sesp_pqv_group(exp, 16);
        if (!value_eq(row, &eg)) {
            if (all_ok)
                fprintf(stderr, "%s: row %zu differs\n", what, i);
            all_ok = false;
        }
        if (i % 256 == 0) {
            sesp_arena_free(&a);
            sesp_arena_init(&a, 0);
        }
    }
    CU_ASSERT_TRUE(all_ok);
    CU_ASSERT_EQUAL(i, nrows);
    sesp_arena_free(&a);
    /* Columnar read agrees on nulls and values for two columns. */
    size_t row = 0;
    for (int g = 0; g < sesp_pq_reader_num_row_groups(r); g++) {
        sesp_pq_column c2, c5;
        CU_ASSERT_EQUAL_FATAL(sesp_pq_reader_read_column(r, g, 2, &c2), 0);
        CU_ASSERT_EQUAL_FATAL(sesp_pq_reader_read_column(r, g, 5, &c5), 0);
        CU_ASSERT_EQUAL(c2.n, (size_t)sesp_pq_reader_row_group_rows(r, g));
        size_t v = 0;
        for (size_t k = 0; k < c2.n; k++, row++) {
            bool null = row % 7 == 3;
            CU_ASSERT_EQUAL(c2.def[k] == 0, null);
            if (!null) {
                int64_t e = row % 5 == 0 ? INT64_MIN + (int64_t)row : (int64_t)(row * 1000003ull) - 500;
                CU_ASSERT_EQUAL(((int64_t *)c2.values)[v], e);
                v++;
            }
        }
        CU_ASSERT_EQUAL(v, c2.nvalues);
        CU_ASSERT_EQUAL(c5.nvalues, c2.nvalues);
        sesp_pq_column_free(&c2);
        sesp_pq_column_free(&c5);
    }
    CU_ASSERT_TRUE(scan_matches_columns(r, true));
    /* The streaming scan of column 2 alone agrees with the expected rows too. */
    sesp_pq_scan *sc;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_scan_open(r, 2, -1, &sc), 0);
    size_t srow = 0;
    bool sok = true;
    for (;;) {
        sesp_pq_batch b;
        CU_ASSERT_EQUAL_FATAL(sesp_pq_scan_next(sc, &b), 0);
        if (!b.n)
            break;
        const int64_t *v = b.values;
        for (size_t k = 0, j = 0; k < b.n; k++, srow++) {
            bool null = srow % 7 == 3;
            sok = sok && (b.def[k] == 0) == null;
            if (!null) {
                int64_t e = srow % 5 == 0 ? INT64_MIN + (int64_t)srow : (int64_t)(srow * 1000003ull) - 500;
                sok = sok && j < b.nvalues && v[j] == e;
                j++;
            }
        }
    }
    CU_ASSERT_TRUE(sok);
    CU_ASSERT_EQUAL(srow, nrows);
    sesp_pq_scan_close(sc);
    sesp_pq_reader_close(r);
}

static void write_flat(const flat_case *fc, bool batch, sesp_bufw *file)
{
    sesp_pq_schema *s = flat_schema();
    sesp_pq_writer_options o = {.codec = fc->codec, .disable_dictionary = !fc->dict, .data_page_v2 = fc->v2,
                                .page_bytes = fc->page_bytes, .row_group_bytes = fc->row_group_bytes,
                                .dictionary_page_limit = fc->dict_limit};
    sesp_pq_kv kv[] = {{"sesp.test", "yes"}, {"nullvalue", NULL}};
    o.kv = kv;
    o.nkv = 2;
    sesp_bufw_init(file, 0, 0);
    sesp_pq_writer *w;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, &o, (sesp_pq_sink){mem_write, file}, &w), 0);
    sesp_pq_schema_free(s);
    if (!batch) {
        for (size_t i = 0; i < NROWS; i++) {
            sesp_pq_value v[16];
            char buf[64];
            uint8_t fx[3], dfx[13];
            flat_row(i, v, buf, fx, dfx);
            sesp_pq_value row = sesp_pqv_group(v, 16);
            CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_row(w, &row), 0);
        }
    } else {
        /* Build column arrays from the same rows, in two batches. */
        static uint8_t bools[NROWS], valid[16][(NROWS + 7) / 8];
        static int32_t i32s[5][NROWS];
        static int64_t i64s[3][NROWS];
        static float fs[NROWS];
        static double ds[NROWS];
        static sesp_pq_bytes bs[5][NROWS];
        static char strs[NROWS][64];
        static uint8_t fxs[NROWS][3], dfxs[NROWS][13];
        memset(valid, 0, sizeof valid);
        for (size_t i = 0; i < NROWS; i++) {
            sesp_pq_value v[16];
            flat_row(i, v, strs[i], fxs[i], dfxs[i]);
            for (int c = 0; c < 16; c++)
                if (v[c].kind != SESP_PQV_NULL)
                    valid[c][i / 8] |= (uint8_t)(1u << (i % 8));
            bools[i] = v[0].kind == SESP_PQV_BOOL && v[0].u.b;
            i32s[0][i] = v[1].u.i32;
            i64s[0][i] = v[2].u.i64;
            fs[i] = v[3].u.f;
            ds[i] = v[4].u.d;
            bs[0][i] = v[5].u.bytes;
            bs[1][i] = v[6].u.bytes;
            bs[2][i] = v[7].u.bytes;
            i32s[1][i] = v[8].u.i32;
            i32s[2][i] = v[9].u.i32;
            i32s[3][i] = v[10].u.i32;
            i64s[1][i] = v[11].u.i64;
            i32s[4][i] = v[12].u.i32;
            i64s[2][i] = v[13].u.i64;
            bs[3][i] = v[14].u.bytes;
            bs[4][i] = v[15].u.bytes;
        }
        /* Two batches split at a byte boundary of the bitmaps. */
        sesp_pq_column_batch cb[16] = {
            {valid[0], bools, NULL}, {NULL, i32s[0], NULL}, {valid[2], i64s[0], NULL},
            {valid[3], fs, NULL}, {NULL, ds, NULL}, {valid[5], NULL, bs[0]}, {NULL, NULL, bs[1]},
            {valid[7], NULL, bs[2]}, {valid[8], i32s[1], NULL}, {valid[9], i32s[2], NULL},
            {valid[10], i32s[3], NULL}, {valid[11], i64s[1], NULL}, {valid[12], i32s[4], NULL},
            {valid[13], i64s[2], NULL}, {valid[14], NULL, bs[3]}, {valid[15], NULL, bs[4]},
        };
        size_t half = 1504;
        CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_column_batch(w, cb, half), 0);
        sesp_pq_column_batch cb2[16];
        for (int c = 0; c < 16; c++) {
            size_t vs = c == 0 ? 1 : (c == 2 || c == 11 || c == 13 || c == 4) ? 8 : 4;
            cb2[c].valid = cb[c].valid ? cb[c].valid + half / 8 : NULL;
            cb2[c].values = cb[c].values ? (const uint8_t *)cb[c].values + half * vs : NULL;
            cb2[c].bytes = cb[c].bytes ? cb[c].bytes + half : NULL;
        }
        CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_column_batch(w, cb2, NROWS - half), 0);
    }
    uint64_t size;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, &size), 0);
    CU_ASSERT_EQUAL(size, file->len);
}

static void test_flat_matrix(void)
{
    sesp_pq_codec codecs[] = {SESP_PQ_UNCOMPRESSED, SESP_PQ_SNAPPY, SESP_PQ_GZIP, SESP_PQ_ZSTD, SESP_PQ_LZ4_RAW};
    for (size_t ci = 0; ci < 5; ci++)
        for (int dict = 0; dict < 2; dict++)
            for (int v2 = 0; v2 < 2; v2++)
                for (int batch = 0; batch < 2; batch++) {
                    flat_case fc = {.codec = codecs[ci], .dict = dict, .v2 = v2,
                                    .page_bytes = (ci + dict) % 2 ? 4096 : 0,
                                    .row_group_bytes = batch ? 0 : 60000};
                    sesp_bufw file;
                    write_flat(&fc, batch, &file);
                    char what[128];
                    snprintf(what, sizeof what, "codec=%s dict=%d v2=%d batch=%d", sesp_pq_codec_name(codecs[ci]),
                             dict, v2, batch);
                    check_flat_file(&file, NROWS, what);
                    sesp_bufw_free(&file);
                }
}

static void test_dictionary_fallback_and_stats(void)
{
    flat_case fc = {.codec = SESP_PQ_SNAPPY, .dict = true, .dict_limit = 4000, .page_bytes = 1024};
    sesp_bufw file;
    write_flat(&fc, false, &file);
    check_flat_file(&file, NROWS, "fallback");
    memsrc m;
    sesp_pq_reader *r = open_mem(&file, &m, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(sesp_pq_reader_num_row_groups(r), 1);
    /* i32 (unique values) overflowed the small dictionary: both encodings. */
    const sesp_pq_column_chunk_info *ci = sesp_pq_reader_column_chunk(r, 0, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ci);
    CU_ASSERT(ci->encodings & (1u << SESP_PQ_ENC_RLE_DICTIONARY));
    CU_ASSERT(ci->encodings & (1u << SESP_PQ_ENC_PLAIN));
    CU_ASSERT(ci->dictionary_page_offset > 0);
    /* The string column (50 distinct) stays dictionary-only. */
    ci = sesp_pq_reader_column_chunk(r, 0, 5);
    CU_ASSERT_STRING_EQUAL(ci->path, "s");
    CU_ASSERT(ci->encodings & (1u << SESP_PQ_ENC_RLE_DICTIONARY));
    /* Statistics: signed int64 min is the most negative value. */
    ci = sesp_pq_reader_column_chunk(r, 0, 2);
    CU_ASSERT_TRUE_FATAL(ci->has_statistics && ci->stats.has_min && ci->stats.has_max);
    int64_t mn, mx;
    memcpy(&mn, ci->stats.min.p, 8);
    memcpy(&mx, ci->stats.max.p, 8);
    CU_ASSERT_EQUAL(mn, INT64_MIN);
    CU_ASSERT_EQUAL(ci->stats.null_count, (NROWS + 3) / 7);
    int64_t expmax = INT64_MIN;
    for (size_t i = 0; i < NROWS; i++) {
        if (i % 7 == 3) continue;
        int64_t e = i % 5 == 0 ? INT64_MIN + (int64_t)i : (int64_t)(i * 1000003ull) - 500;
        if (e > expmax) expmax = e;
    }
    CU_ASSERT_EQUAL(mx, expmax);
    /* Floats: NaN never a bound. */
    ci = sesp_pq_reader_column_chunk(r, 0, 3);
    float fmn, fmx;
    memcpy(&fmn, ci->stats.min.p, 4);
    memcpy(&fmx, ci->stats.max.p, 4);
    float efmn = INFINITY, efmx = -INFINITY;
    for (size_t i = 0; i < NROWS; i++) {
        if (i % 7 == 3 || i % 11 == 0) continue;
        float f = (float)i / 3.0f - 100;
        if (f < efmn) efmn = f;
        if (f > efmx) efmx = f;
    }
    CU_ASSERT(!isnan(fmn) && !isnan(fmx) && fmn == efmn && fmx == efmx);
    /* Strings: unsigned bytewise; UUID: 0xff.. is the max, 00.. the min. */
    ci = sesp_pq_reader_column_chunk(r, 0, 15);
    CU_ASSERT(ci->stats.max.len == 16 && ci->stats.max.p[0] == 0xff);
    CU_ASSERT(ci->stats.min.len == 16 && ci->stats.min.p[0] == 0x00);
    /* Decimal on FIXED: signed order, negative (0xff..) values are the min. */
    ci = sesp_pq_reader_column_chunk(r, 0, 14);
    CU_ASSERT(ci->stats.min.len == 13 && ci->stats.min.p[0] == 0xff);
    CU_ASSERT(ci->stats.max.len == 13 && ci->stats.max.p[0] == 0x00);
    /* date: signed */
    ci = sesp_pq_reader_column_chunk(r, 0, 10);
    int32_t dmn;
    memcpy(&dmn, ci->stats.min.p, 4);
    CU_ASSERT_EQUAL(dmn, -1000);
    /* key-value metadata */
    CU_ASSERT_EQUAL(sesp_pq_reader_kv_count(r), 2);
    CU_ASSERT_STRING_EQUAL(sesp_pq_reader_kv(r, 0)->key, "sesp.test");
    CU_ASSERT_STRING_EQUAL(sesp_pq_reader_kv(r, 0)->value, "yes");
    CU_ASSERT_PTR_NULL(sesp_pq_reader_kv(r, 1)->value);
    sesp_pq_reader_close(r);
    sesp_bufw_free(&file);
}

/* Mostly-distinct columns leave dictionary mode early; low-cardinality ones stay. */
static void test_early_dictionary_fallback(void)
{
    sesp_pq_schema *s;
    sesp_pq_schema_new(&s);
    sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING);
    sesp_pq_schema_add_leaf(s, 0, "uniq", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "few", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
    enum { N = 50000 };
    static int64_t u[N];
    static sesp_pq_bytes f[N];
    static uint8_t valid[(N + 7) / 8];
    static const char *names[] = {"alpha", "beta", "gamma"};
    for (size_t i = 0; i < N; i++) {
        u[i] = (int64_t)(i * 2654435761u);
        f[i] = (sesp_pq_bytes){(const uint8_t *)names[i % 3], (uint32_t)strlen(names[i % 3])};
        if (i % 10)
            valid[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    sesp_bufw file;
    sesp_bufw_init(&file, 0, 0);
    sesp_pq_writer *w;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, NULL, (sesp_pq_sink){mem_write, &file}, &w), 0);
    sesp_pq_schema_free(s);
    sesp_pq_column_batch cb[2] = {{NULL, u, NULL}, {valid, NULL, f}};
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_column_batch(w, cb, N), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, NULL), 0);
    memsrc m;
    sesp_pq_reader *r = open_mem(&file, &m, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const sesp_pq_column_chunk_info *ci = sesp_pq_reader_column_chunk(r, 0, 0);
    CU_ASSERT(ci->encodings & (1u << SESP_PQ_ENC_PLAIN));
    CU_ASSERT_FALSE(ci->encodings & (1u << SESP_PQ_ENC_RLE_DICTIONARY));
    CU_ASSERT_EQUAL(ci->dictionary_page_offset, -1);
    ci = sesp_pq_reader_column_chunk(r, 0, 1);
    CU_ASSERT(ci->encodings & (1u << SESP_PQ_ENC_RLE_DICTIONARY));
    CU_ASSERT(ci->stats.has_min && ci->stats.min.len == 5 && memcmp(ci->stats.min.p, "alpha", 5) == 0);
    CU_ASSERT(ci->stats.has_max && ci->stats.max.len == 5 && memcmp(ci->stats.max.p, "gamma", 5) == 0);
    CU_ASSERT_EQUAL(ci->stats.null_count, N / 10);
    sesp_pq_column c0, c1;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_reader_read_column(r, 0, 0, &c0), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_pq_reader_read_column(r, 0, 1, &c1), 0);
    CU_ASSERT(c0.nvalues == N && memcmp(c0.values, u, sizeof u) == 0);
    CU_ASSERT_EQUAL(c1.nvalues, N - N / 10);
    size_t v = 0;
    bool ok = true;
    for (size_t i = 0; i < N; i++) {
        if (i % 10 == 0) { ok &= c1.def[i] == 0; continue; }
        sesp_pq_bytes b = ((sesp_pq_bytes *)c1.values)[v++];
        ok &= b.len == f[i].len && memcmp(b.p, f[i].p, b.len) == 0;
    }
    CU_ASSERT_TRUE(ok);
    sesp_pq_column_free(&c0);
    sesp_pq_column_free(&c1);
    sesp_pq_reader_close(r);
    sesp_bufw_free(&file);
}

/* Oversized byte-array bounds are left out of the statistics, not truncated wrongly. */
static void test_huge_stat_values(void)
{
    sesp_pq_schema *s;
    sesp_pq_schema_new(&s);
    sesp_pq_schema_add_leaf(s, 0, "blob", SESP_PQ_REQUIRED, SESP_PQ_BYTE_ARRAY, NULL, 0, NULL);
    static uint8_t big[10000];
    memset(big, 'z', sizeof big);
    sesp_bufw file;
    sesp_bufw_init(&file, 0, 0);
    sesp_pq_writer *w;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, NULL, (sesp_pq_sink){mem_write, &file}, &w), 0);
    sesp_pq_schema_free(s);
    sesp_pq_value v[2] = {sesp_pqv_bytes("a", 1), sesp_pqv_bytes(big, sizeof big)};
    for (int i = 0; i < 2; i++) {
        sesp_pq_value row = sesp_pqv_group(&v[i], 1);
        CU_ASSERT_EQUAL(sesp_pq_writer_write_row(w, &row), 0);
    }
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, NULL), 0);
    memsrc m;
    sesp_pq_reader *r = open_mem(&file, &m, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const sesp_pq_column_chunk_info *ci = sesp_pq_reader_column_chunk(r, 0, 0);
    CU_ASSERT(ci->has_statistics && !ci->stats.has_min && !ci->stats.has_max);
    CU_ASSERT(ci->stats.has_null_count && ci->stats.null_count == 0);
    CU_ASSERT(file.len < 2 * sizeof big);
    sesp_pq_reader_close(r);
    sesp_bufw_free(&file);
}

/* All-null and single-valued columns: empty value sections, bit width 0 indices. */
static void test_all_null_and_constant(void)
{
    sesp_pq_codec codecs[] = {SESP_PQ_UNCOMPRESSED, SESP_PQ_SNAPPY, SESP_PQ_GZIP, SESP_PQ_ZSTD, SESP_PQ_LZ4_RAW};
    for (int ci = 0; ci < 5; ci++) {
        for (int v2 = 0; v2 < 2; v2++) {
            sesp_pq_schema *s;
            sesp_pq_schema_new(&s);
            sesp_pq_schema_add_leaf(s, 0, "n", SESP_PQ_OPTIONAL, SESP_PQ_INT64, NULL, 0, NULL);
            sesp_pq_schema_add_leaf(s, 0, "c", SESP_PQ_REQUIRED, SESP_PQ_DOUBLE, NULL, 0, NULL);
            sesp_pq_writer_options o = {.codec = codecs[ci], .data_page_v2 = v2};
            sesp_bufw file;
            sesp_bufw_init(&file, 0, 0);
            sesp_pq_writer *w;
            CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, &o, (sesp_pq_sink){mem_write, &file}, &w), 0);
            sesp_pq_schema_free(s);
            for (int i = 0; i < 100; i++) {
                sesp_pq_value v[2] = {sesp_pqv_null(), sesp_pqv_double(2.5)};
                sesp_pq_value row = sesp_pqv_group(v, 2);
                CU_ASSERT_EQUAL(sesp_pq_writer_write_row(w, &row), 0);
            }
            CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, NULL), 0);
            memsrc m;
            sesp_pq_reader *r = open_mem(&file, &m, NULL);
            CU_ASSERT_PTR_NOT_NULL_FATAL(r);
            const sesp_pq_column_chunk_info *info = sesp_pq_reader_column_chunk(r, 0, 0);
            CU_ASSERT(info->stats.null_count == 100 && !info->stats.has_min);
            sesp_pq_column c0, c1;
            CU_ASSERT_EQUAL_FATAL(sesp_pq_reader_read_column(r, 0, 0, &c0), 0);
            CU_ASSERT_EQUAL_FATAL(sesp_pq_reader_read_column(r, 0, 1, &c1), 0);
            CU_ASSERT(c0.n == 100 && c0.nvalues == 0 && c1.n == 100 && c1.nvalues == 100);
            bool ok = true;
            for (int i = 0; i < 100; i++)
                ok &= c0.def[i] == 0 && ((double *)c1.values)[i] == 2.5;
            CU_ASSERT_TRUE(ok);
            sesp_pq_column_free(&c0);
            sesp_pq_column_free(&c1);
            sesp_pq_reader_close(r);
            sesp_bufw_free(&file);
        }
    }
}

/* ---- page statistics ---- */

/* Expected statistics of one page, built from the values written with the
 * writer's rules (NaN never a bound, a zero min is -0.0 and a zero max +0.0,
 * signed order for ints, unsigned bytewise for strings). */
typedef struct pstat {
    bool has;
    int64_t nulls;
    uint8_t mn[64], mx[64];
    uint32_t mnlen, mxlen;
} pstat;

enum { PS_ROWS = 4000 };

static bool ps_null(int col, size_t i)
{
    switch (col) {
    case 0: return i % 13 == 0;
    case 2: return i % 17 == 5;
    case 3: return i % 11 == 0;
    case 4: return i != 0;                                    /* all-null pages after the first */
    default: return false;
    }
}

static int32_t ps_i32(size_t i) { return i == 1234 ? INT32_MIN : (int32_t)((i * 7919) % 2001) - 1000; }
static int64_t ps_i64(size_t i) { return (int64_t)(i * 2654435761ull) - ((int64_t)1 << 40); }
static double ps_dbl(size_t i)
{
    if (i >= 3000 || i % 5 == 0) return NAN;                  /* whole pages of NaN at the end */
    if (i < 1999) return -(double)(1999 - i) / 3;
    if (i < 2300) return i % 2 ? -0.0 : 0.0;                  /* pages of zeros of both signs */
    return (double)(i - 1999) / 3;
}
static uint32_t ps_str(size_t i, char *buf)
{
    if (i % 7 == 0) return (uint32_t)sprintf(buf, "\xc3\xa9t\xc3\xa9%zu", i);   /* sorts after ASCII */
    return (uint32_t)sprintf(buf, "v%05zu", (i * 37) % 10007);
}

static void ps_expect(int col, size_t from, size_t to, pstat *e)
{
    memset(e, 0, sizeof *e);
    for (size_t i = from; i < to; i++) {
        if (ps_null(col, i)) { e->nulls++; continue; }
        uint8_t v[64];
        uint32_t len;
        int c_mn, c_mx;
        switch (col) {
        case 0: { int32_t x = ps_i32(i); memcpy(v, &x, 4); len = 4;
                  int32_t a, b; memcpy(&a, e->mn, 4); memcpy(&b, e->mx, 4);
                  c_mn = x < a ? -1 : 1; c_mx = x > b ? 1 : -1; break; }
        case 1: case 4: { int64_t x = ps_i64(i); memcpy(v, &x, 8); len = 8;
                  int64_t a, b; memcpy(&a, e->mn, 8); memcpy(&b, e->mx, 8);
                  c_mn = x < a ? -1 : 1; c_mx = x > b ? 1 : -1; break; }
        case 2: { double x = ps_dbl(i); if (isnan(x)) continue;
                  memcpy(v, &x, 8); len = 8;
                  double a, b; memcpy(&a, e->mn, 8); memcpy(&b, e->mx, 8);
                  c_mn = x < a ? -1 : 1; c_mx = x > b ? 1 : -1; break; }
        default: { len = ps_str(i, (char *)v);
                   int m = memcmp(v, e->mn, len < e->mnlen ? len : e->mnlen);
                   c_mn = m ? m : (len < e->mnlen ? -1 : 1);
                   m = memcmp(v, e->mx, len < e->mxlen ? len : e->mxlen);
                   c_mx = m ? m : (len > e->mxlen ? 1 : -1); break; }
        }
        if (!e->has || c_mn < 0) { memcpy(e->mn, v, len); e->mnlen = len; }
        if (!e->has || c_mx > 0) { memcpy(e->mx, v, len); e->mxlen = len; }
        e->has = true;
    }
    if (col == 2 && e->has) {
        double a, b;
        memcpy(&a, e->mn, 8); memcpy(&b, e->mx, 8);
        if (a == 0) { a = -0.0; memcpy(e->mn, &a, 8); }
        if (b == 0) { b = 0.0; memcpy(e->mx, &b, 8); }
    }
}

static bool bytes_eq(sesp_pq_bytes b, const uint8_t *p, uint32_t len)
{
    return b.len == len && memcmp(b.p, p, len) == 0;
}

/* Walks every page header of every column chunk of a file the writer made
 * (with the reader's page-header decoder) and checks each data page's own
 * statistics against the values of exactly the rows in that page. */
static void test_page_statistics(void)
{
    static const struct { bool v2, dict; sesp_pq_codec codec; bool batch; } cfgs[] = {
        {false, false, SESP_PQ_UNCOMPRESSED, false}, {false, true, SESP_PQ_SNAPPY, true},
        {true, false, SESP_PQ_ZSTD, true}, {true, true, SESP_PQ_UNCOMPRESSED, false},
    };
    static int32_t a[PS_ROWS];
    static int64_t b[PS_ROWS];
    static double d[PS_ROWS];
    static char sbuf[PS_ROWS][32];
    static sesp_pq_bytes sv[PS_ROWS];
    static uint8_t valid[4][(PS_ROWS + 7) / 8];
    memset(valid, 0, sizeof valid);
    for (size_t i = 0; i < PS_ROWS; i++) {
        a[i] = ps_i32(i);
        b[i] = ps_i64(i);
        d[i] = ps_dbl(i);
        sv[i] = (sesp_pq_bytes){(const uint8_t *)sbuf[i], ps_str(i, sbuf[i])};
        if (!ps_null(0, i)) valid[0][i / 8] |= (uint8_t)(1u << (i % 8));
        if (!ps_null(2, i)) valid[1][i / 8] |= (uint8_t)(1u << (i % 8));
        if (!ps_null(3, i)) valid[2][i / 8] |= (uint8_t)(1u << (i % 8));
        if (!ps_null(4, i)) valid[3][i / 8] |= (uint8_t)(1u << (i % 8));
    }
    for (size_t ci = 0; ci < sizeof cfgs / sizeof cfgs[0]; ci++) {
        sesp_pq_schema *s;
        sesp_pq_schema_new(&s);
        sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING);
        sesp_pq_schema_add_leaf(s, 0, "a", SESP_PQ_OPTIONAL, SESP_PQ_INT32, NULL, 0, NULL);
        sesp_pq_schema_add_leaf(s, 0, "b", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL);
        sesp_pq_schema_add_leaf(s, 0, "d", SESP_PQ_OPTIONAL, SESP_PQ_DOUBLE, NULL, 0, NULL);
        sesp_pq_schema_add_leaf(s, 0, "s", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
        sesp_pq_schema_add_leaf(s, 0, "z", SESP_PQ_OPTIONAL, SESP_PQ_INT64, NULL, 0, NULL);
        sesp_pq_writer_options o = {.codec = cfgs[ci].codec, .data_page_v2 = cfgs[ci].v2,
                                    .disable_dictionary = !cfgs[ci].dict, .page_bytes = 600,
                                    .row_group_bytes = 40000};
        sesp_bufw file;
        sesp_bufw_init(&file, 0, 0);
        sesp_pq_writer *w;
        CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, &o, (sesp_pq_sink){mem_write, &file}, &w), 0);
        sesp_pq_schema_free(s);
        if (cfgs[ci].batch) {
            for (size_t from = 0; from < PS_ROWS; from += 1000) {   /* several calls */
                sesp_pq_column_batch cb[5] = {{valid[0] + from / 8, a + from, NULL}, {NULL, b + from, NULL},
                                              {valid[1] + from / 8, d + from, NULL},
                                              {valid[2] + from / 8, NULL, sv + from},
                                              {valid[3] + from / 8, b + from, NULL}};
                CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_column_batch(w, cb, 1000), 0);
            }
        } else {
            for (size_t i = 0; i < PS_ROWS; i++) {
                sesp_pq_value v[5] = {
                    ps_null(0, i) ? sesp_pqv_null() : sesp_pqv_i32(a[i]), sesp_pqv_i64(b[i]),
                    ps_null(2, i) ? sesp_pqv_null() : sesp_pqv_double(d[i]),
                    ps_null(3, i) ? sesp_pqv_null() : sesp_pqv_bytes(sv[i].p, sv[i].len),
                    ps_null(4, i) ? sesp_pqv_null() : sesp_pqv_i64(b[i])};
                sesp_pq_value row = sesp_pqv_group(v, 5);
                CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_row(w, &row), 0);
            }
        }
        CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, NULL), 0);
        memsrc m;
        sesp_pq_reader *r = open_mem(&file, &m, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        int nrg = sesp_pq_reader_num_row_groups(r);
        CU_ASSERT(nrg >= 2);
        int pages[5] = {0}, nan_pages = 0, null_pages = 0, zero_min = 0, zero_max = 0;
        size_t row0 = 0;
        bool ok = true;
        for (int rg = 0; rg < nrg; rg++) {
            size_t rows = (size_t)sesp_pq_reader_row_group_rows(r, rg);
            for (int col = 0; col < 5; col++) {
                const sesp_pq_column_chunk_info *info = sesp_pq_reader_column_chunk(r, rg, col);
                CU_ASSERT_PTR_NOT_NULL_FATAL(info);
                int64_t pos = info->dictionary_page_offset >= 0 ? info->dictionary_page_offset : info->data_page_offset;
                int64_t end = pos + info->total_compressed_size;
                size_t at = row0;
                int64_t chunk_nulls = 0;
                while (pos < end) {
                    sesp_pq_md_page h;
                    size_t used;
                    CU_ASSERT_EQUAL_FATAL(sesp_pq_md_page_decode(file.p + pos, (size_t)(end - pos), &h, &used), 0);
                    pos += (int64_t)used + h.compressed_page_size;
                    if (h.type == SESP_PQ_PAGE_DICTIONARY) {
                        CU_ASSERT_TRUE(cfgs[ci].dict);
                        continue;
                    }
                    CU_ASSERT_EQUAL_FATAL(h.type, cfgs[ci].v2 ? SESP_PQ_PAGE_DATA_V2 : SESP_PQ_PAGE_DATA);
                    bool has_stats = cfgs[ci].v2 ? h.v2.has_stats : h.data.has_stats;
                    const sesp_pq_md_stats *st = cfgs[ci].v2 ? &h.v2.stats : &h.data.stats;
                    size_t n = (size_t)(cfgs[ci].v2 ? h.v2.num_values : h.data.num_values);
                    CU_ASSERT_TRUE_FATAL(has_stats);
                    /* page_bytes holds on both paths (the columnar one checks every 256 rows) */
                    CU_ASSERT(h.uncompressed_page_size <= 600 + 256 * 16);
                    pstat e;
                    ps_expect(col, at, at + n, &e);
                    ok &= st->has_null_count && st->null_count == e.nulls;
                    chunk_nulls += st->null_count;
                    if (cfgs[ci].v2)
                        ok &= h.v2.num_nulls == e.nulls && h.v2.num_rows == (int32_t)n;
                    ok &= st->has_min_value == e.has && st->has_max_value == e.has;
                    if (e.has)
                        ok &= bytes_eq(st->min_value, e.mn, e.mnlen) && bytes_eq(st->max_value, e.mx, e.mxlen);
                    /* legacy min/max only where their signed order is right */
                    if (col == 3)
                        ok &= !st->has_min && !st->has_max;
                    else if (e.has)
                        ok &= st->has_min && st->has_max && bytes_eq(st->min, e.mn, e.mnlen) &&
                              bytes_eq(st->max, e.mx, e.mxlen);
                    if (!ok) {
                        fprintf(stderr, "cfg %zu rg %d col %d rows %zu-%zu: page stats differ\n", ci, rg, col, at, at + n);
                        CU_FAIL_FATAL("page statistics");
                    }
                    if (col == 2 && !e.has && e.nulls < (int64_t)n) nan_pages++;
                    if (col == 4 && e.nulls == (int64_t)n) null_pages++;
                    if (col == 2 && e.has) {
                        double mn, mx;
                        memcpy(&mn, e.mn, 8);
                        memcpy(&mx, e.mx, 8);
                        zero_min += mn == 0 && signbit(mn);
                        zero_max += mx == 0 && !signbit(mx) && mn < 0;
                    }
                    pages[col]++;
                    at += n;
                }
                CU_ASSERT_EQUAL(pos, end);
                CU_ASSERT_EQUAL(at, row0 + rows);
                CU_ASSERT(info->has_statistics && info->stats.null_count == chunk_nulls);
            }
            row0 += rows;
        }
        CU_ASSERT_EQUAL(row0, PS_ROWS);
        /* the cases this test is about did occur */
        for (int col = 0; col < 4; col++)
            CU_ASSERT(pages[col] >= 2 * nrg && pages[col] >= 8);
        CU_ASSERT(nan_pages >= 1);
        CU_ASSERT(null_pages >= 1);
        CU_ASSERT(zero_min >= 1 && zero_max >= 1);
        sesp_pq_reader_close(r);
        sesp_bufw_free(&file);
    }
}

/* ---- streaming ---- */

typedef struct counting_sink {
    uint64_t bytes;
    size_t calls;
} counting_sink;

static int count_write(void *ctx, const void *p, size_t len)
{
    (void)p;
    counting_sink *c = ctx;
    c->bytes += len;
    c->calls++;
    return 0;
}

/* Rows go to the sink a row group at a time, long before close, and what the
 * writer holds stays bounded by row_group_bytes however many row groups pass:
 * checked from outside (a counting sink, the raw bytes handed in since the
 * sink last grew) and inside (sesp_pq_writer_get_stats). */
static void test_streaming_bounded(void)
{
    enum { ROWS = 30000, RG = 32 << 10 };
    for (int batch = 0; batch < 2; batch++) {
        for (int dict = 0; dict < 2; dict++) {
            sesp_pq_schema *s;
            sesp_pq_schema_new(&s);
            sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING);
            sesp_pq_schema_add_leaf(s, 0, "id", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL);
            sesp_pq_schema_add_leaf(s, 0, "s", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
            sesp_pq_schema_add_leaf(s, 0, "x", SESP_PQ_OPTIONAL, SESP_PQ_DOUBLE, NULL, 0, NULL);
            sesp_pq_writer_options o = {.codec = SESP_PQ_ZSTD, .row_group_bytes = RG, .page_bytes = 8 << 10,
                                        .disable_dictionary = !dict};
            counting_sink cs = {0};
            sesp_pq_writer *w;
            CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, &o, (sesp_pq_sink){count_write, &cs}, &w), 0);
            sesp_pq_schema_free(s);
            sesp_pq_writer_stats st;
            uint64_t last_sink = cs.bytes, raw_since = 0, raw_total = 0, max_raw_since = 0;
            uint32_t last_rgs = 0;
            size_t cap_at_10 = 0, max_buffered = 0;
            bool ok = true;
            enum { STEP = 50 };   /* columnar calls of STEP rows */
            int64_t ids[STEP];
            double xs[STEP];
            char sb[STEP][80];
            sesp_pq_bytes ss[STEP];
            uint8_t valid[(STEP + 7) / 8];
            for (size_t i = 0; i < ROWS; i++) {
                size_t k = i % STEP;
                ids[k] = (int64_t)(rnd() >> 1);
                xs[k] = (double)(rnd() % 100000) / 7;
                unsigned len = 10 + (unsigned)(rnd() % 60);
                for (unsigned j = 0; j < len; j++)
                    sb[k][j] = (char)('a' + rnd() % 26);
                ss[k] = (sesp_pq_bytes){(const uint8_t *)sb[k], len};
                raw_since += 8 + 8 + len;
                raw_total += 8 + 8 + len;
                if (!batch) {
                    sesp_pq_value v[3] = {sesp_pqv_i64(ids[k]), sesp_pqv_bytes(sb[k], len), sesp_pqv_double(xs[k])};
                    sesp_pq_value row = sesp_pqv_group(v, 3);
                    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_row(w, &row), 0);
                } else if (k == STEP - 1) {
                    memset(valid, 0xff, sizeof valid);
                    sesp_pq_column_batch cb[3] = {{NULL, ids, NULL}, {valid, NULL, ss}, {valid, xs, NULL}};
                    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_column_batch(w, cb, STEP), 0);
                } else {
                    continue;
                }
                sesp_pq_writer_get_stats(w, &st);
                ok &= st.bytes_written == cs.bytes;
                if (st.buffered_bytes > max_buffered) max_buffered = st.buffered_bytes;
                if (st.row_groups != last_rgs) {
                    /* a row group was cut: its bytes are already in the sink */
                    ok &= st.row_groups == last_rgs + 1 && cs.bytes > last_sink;
                    last_rgs = st.row_groups;
                    last_sink = cs.bytes;
                    raw_since = 0;
                    if (st.row_groups == 10) cap_at_10 = st.buffer_capacity;
                } else {
                    ok &= cs.bytes == last_sink;    /* nothing trickles out mid row group */
                }
                if (raw_since > max_raw_since) max_raw_since = raw_since;
            }
            if (!ok) CU_FAIL("sink/row group bookkeeping");
            sesp_pq_writer_get_stats(w, &st);
            /* many row groups, each handed to the sink when it filled up */
            CU_ASSERT(st.row_groups >= raw_total / RG / 2);
            CU_ASSERT(st.row_groups >= 20);
            /* never more than a row group (plus one write call) of input held back */
            CU_ASSERT(max_raw_since <= RG + STEP * 90);
            CU_ASSERT(max_buffered <= RG + STEP * 200);
            CU_ASSERT(st.peak_buffered_bytes >= max_buffered && st.peak_buffered_bytes <= RG + STEP * 200);
            /* allocations stop growing after the first row groups and stay a small multiple of RG */
            /* (statistics bounds may still grow to the longest string) */
            CU_ASSERT(cap_at_10 > 0 && st.buffer_capacity <= cap_at_10 + 1024);
            CU_ASSERT(st.buffer_capacity <= 8 * (size_t)RG);
            uint64_t size = 0, before = cs.bytes;
            CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, &size), 0);
            CU_ASSERT(size == cs.bytes && before > size / 2);   /* most of the file was out before close */
        }
    }
}

/* One columnar call of many wide rows still cuts row groups near
 * row_group_bytes (the steps shrink to what is left of the row group). */
static void test_streaming_wide_batch(void)
{
    enum { ROWS = 3000, RG = 32 << 10, W = 1000 };
    sesp_pq_schema *s;
    sesp_pq_schema_new(&s);
    sesp_pq_schema_add_leaf(s, 0, "id", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "blob", SESP_PQ_REQUIRED, SESP_PQ_BYTE_ARRAY, NULL, 0, NULL);
    sesp_pq_writer_options o = {.codec = SESP_PQ_LZ4_RAW, .row_group_bytes = RG};
    counting_sink cs = {0};
    sesp_pq_writer *w;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, &o, (sesp_pq_sink){count_write, &cs}, &w), 0);
    sesp_pq_schema_free(s);
    static int64_t ids[ROWS];
    static uint8_t blob[ROWS][W];
    static sesp_pq_bytes bs[ROWS];
    for (size_t i = 0; i < ROWS; i++) {
        ids[i] = (int64_t)i;
        for (size_t j = 0; j < W; j++) blob[i][j] = (uint8_t)rnd();
        bs[i] = (sesp_pq_bytes){blob[i], W};
    }
    sesp_pq_column_batch cb[2] = {{NULL, ids, NULL}, {NULL, NULL, bs}};
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_column_batch(w, cb, ROWS), 0);
    sesp_pq_writer_stats st;
    sesp_pq_writer_get_stats(w, &st);
    CU_ASSERT(st.row_groups >= (ROWS * W) / RG / 2);
    CU_ASSERT(cs.bytes > (uint64_t)ROWS * W / 2);                 /* out before close */
    CU_ASSERT(st.peak_buffered_bytes <= RG + 4 * (W + 16));       /* a few rows over, not a 4096-row step */
    CU_ASSERT(st.buffer_capacity <= 8 * (size_t)RG);
    uint64_t size = 0;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, &size), 0);
    CU_ASSERT_EQUAL(size, cs.bytes);
}

/* ---- nesting ---- */

/* message { required int64 id;
 *           optional group info { optional binary name (STRING);
 *                                 optional group tags (LIST) { repeated group list { optional group element {
 *                                      required int32 k; optional group vals (LIST) { repeated group list { optional double element }}}}}}
 *           optional group m (MAP) { repeated group key_value { required binary key (STRING); optional int32 value }}
 *           repeated int32 raw; } */
static sesp_pq_schema *nested_schema(void)
{
    sesp_pq_schema *s;
    sesp_pq_schema_new(&s);
    sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING);
    int info, lst, el, vl, kv;
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "id", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_group(s, 0, "info", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &info), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, info, "name", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_list(s, info, "tags", SESP_PQ_OPTIONAL, &lst), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_group(s, lst, "element", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &el), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, el, "k", SESP_PQ_REQUIRED, SESP_PQ_INT32, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_list(s, el, "vals", SESP_PQ_OPTIONAL, &vl), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, vl, "element", SESP_PQ_OPTIONAL, SESP_PQ_DOUBLE, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_map(s, 0, "m", SESP_PQ_OPTIONAL, &kv), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, kv, "key", SESP_PQ_REQUIRED, SESP_PQ_BYTE_ARRAY, &str, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, kv, "value", SESP_PQ_OPTIONAL, SESP_PQ_INT32, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "raw", SESP_PQ_REPEATED, SESP_PQ_INT32, NULL, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_column_count(s), 7);
    const sesp_pq_node *ve = sesp_pq_schema_node(s, sesp_pq_schema_column_node(s, 3));
    CU_ASSERT_STRING_EQUAL(ve->name, "element");
    CU_ASSERT_EQUAL(ve->max_def, 7);
    CU_ASSERT_EQUAL(ve->max_rep, 2);
    return s;
}

/* Builds row i in the arena. */
static sesp_pq_value nested_row(size_t i, sesp_arena *a)
{
    sesp_pq_value *top = sesp_arena_calloc(a, 4, sizeof *top);
    top[0] = sesp_pqv_i64((int64_t)i);
    if (i % 6 == 1) {
        top[1] = sesp_pqv_null();
    } else {
        sesp_pq_value *info = sesp_arena_calloc(a, 2, sizeof *info);
        char *name = sesp_arena_alloc(a, 32);
        int nl = snprintf(name, 32, "n%zu", i);
        info[0] = i % 5 == 2 ? sesp_pqv_null() : sesp_pqv_bytes(name, (size_t)nl);
        size_t ntags = i % 4;   /* 0 = empty list */
        if (i % 9 == 4) {
            info[1] = sesp_pqv_null();
        } else {
            sesp_pq_value *tags = sesp_arena_calloc(a, ntags + 1, sizeof *tags);
            for (size_t t = 0; t < ntags; t++) {
                if ((i + t) % 5 == 0) { tags[t] = sesp_pqv_null(); continue; }
                sesp_pq_value *el = sesp_arena_calloc(a, 2, sizeof *el);
                el[0] = sesp_pqv_i32((int32_t)(i * 10 + t));
                size_t nv = (i + t) % 3;
                if ((i + t) % 7 == 1) {
                    el[1] = sesp_pqv_null();
                } else {
                    sesp_pq_value *vals = sesp_arena_calloc(a, nv + 1, sizeof *vals);
                    for (size_t k = 0; k < nv; k++)
                        vals[k] = (i + k) % 4 == 3 ? sesp_pqv_null() : sesp_pqv_double((double)i + (double)k / 8);
                    el[1] = sesp_pqv_list(vals, nv);
                }
                tags[t] = sesp_pqv_group(el, 2);
            }
            info[1] = sesp_pqv_list(tags, ntags);
        }
        top[1] = sesp_pqv_group(info, 2);
    }
    if (i % 8 == 7) {
        top[2] = sesp_pqv_null();
    } else {
        size_t nk = i % 3;
        sesp_pq_value *entries = sesp_arena_calloc(a, nk + 1, sizeof *entries);
        for (size_t k = 0; k < nk; k++) {
            sesp_pq_value *e = sesp_arena_calloc(a, 2, sizeof *e);
            char *key = sesp_arena_alloc(a, 16);
            int kl = snprintf(key, 16, "k%zu", k);
            e[0] = sesp_pqv_bytes(key, (size_t)kl);
            e[1] = k == 1 ? sesp_pqv_null() : sesp_pqv_i32((int32_t)(i + k));
            entries[k] = sesp_pqv_group(e, 2);
        }
        top[2] = sesp_pqv_list(entries, nk);
    }
    size_t nr = i % 5;
    sesp_pq_value *raw = sesp_arena_calloc(a, nr + 1, sizeof *raw);
    for (size_t k = 0; k < nr; k++)
        raw[k] = sesp_pqv_i32((int32_t)(k * i));
    top[3] = sesp_pqv_list(raw, nr);
    return sesp_pqv_group(top, 4);
}

static void test_nested_roundtrip(void)
{
    for (int variant = 0; variant < 4; variant++) {
        sesp_pq_schema *s = nested_schema();
        sesp_pq_writer_options o = {.codec = variant % 2 ? SESP_PQ_ZSTD : SESP_PQ_UNCOMPRESSED,
                                    .data_page_v2 = variant >= 2, .disable_dictionary = variant == 1,
                                    .page_bytes = 512, .row_group_bytes = variant == 3 ? 20000 : 0};
        sesp_bufw file;
        sesp_bufw_init(&file, 0, 0);
        sesp_pq_writer *w;
        CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, &o, (sesp_pq_sink){mem_write, &file}, &w), 0);
        sesp_arena a;
        sesp_arena_init(&a, 0);
        size_t n = 2000;
        for (size_t i = 0; i < n; i++) {
            sesp_pq_value row = nested_row(i, &a);
            CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_row(w, &row), 0);
        }
        /* A row that does not fit the schema is refused and writes nothing. */
        sesp_pq_value bad[4] = {sesp_pqv_null(), sesp_pqv_null(), sesp_pqv_null(), sesp_pqv_list(NULL, 0)};
        sesp_pq_value badrow = sesp_pqv_group(bad, 4);
        CU_ASSERT_EQUAL(sesp_pq_writer_write_row(w, &badrow), SESP_ERR_INVALID_ARG);
        CU_ASSERT_PTR_NOT_NULL(strstr(sesp_pq_writer_error(w), "'id'"));
        bad[0] = sesp_pqv_i32(1);
        CU_ASSERT_EQUAL(sesp_pq_writer_write_row(w, &badrow), SESP_ERR_INVALID_ARG);
        CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, NULL), 0);
        sesp_pq_schema_free(s);

        memsrc m;
        int rc;
        sesp_pq_reader *r = open_mem(&file, &m, &rc);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(sesp_pq_reader_num_rows(r), (int64_t)n);
        if (variant == 3)
            CU_ASSERT(sesp_pq_reader_num_row_groups(r) > 1);
        sesp_arena ra;
        sesp_arena_init(&ra, 0);
        size_t i = 0;
        bool ok = true;
        for (;; i++) {
            const sesp_pq_value *row;
            rc = sesp_pq_reader_next_row(r, &ra, &row);
            if (rc) {
                fprintf(stderr, "nested: %s\n", sesp_pq_reader_error(r));
                CU_FAIL("next_row");
                break;
            }
            if (!row)
                break;
            sesp_pq_value exp = nested_row(i, &ra);
            if (!value_eq(row, &exp)) {
                if (ok)
                    fprintf(stderr, "nested variant %d: row %zu differs\n", variant, i);
                ok = false;
            }
        }
        CU_ASSERT_TRUE(ok);
        CU_ASSERT_EQUAL(i, n);
        CU_ASSERT_TRUE(scan_matches_columns(r, true));
        sesp_arena_free(&ra);
        sesp_arena_free(&a);
        sesp_pq_reader_close(r);
        sesp_bufw_free(&file);
    }
}

/* ---- damaged files ---- */

static void read_everything(const uint8_t *p, size_t len)
{
    memsrc m = {p, len};
    sesp_pq_source src = {mem_read, &m, len};
    sesp_pq_reader *r = NULL;
    int rc = sesp_pq_reader_open(src, NULL, &r);
    if (rc == 0) {
        sesp_arena a;
        sesp_arena_init(&a, 0);
        const sesp_pq_value *row;
        for (int k = 0; k < 100000; k++) {
            if (sesp_pq_reader_next_row(r, &a, &row) || !row)
                break;
        }
        sesp_arena_free(&a);
        /* The streaming scan fails cleanly (or agrees with read_column). */
        scan_matches_columns(r, false);
    } else {
        CU_ASSERT(rc < 0);
        CU_ASSERT(strlen(sesp_pq_reader_error(r)) > 0);
    }
    sesp_pq_reader_close(r);
}

static void test_damaged_files(void)
{
    sesp_pq_schema *s = nested_schema();
    sesp_pq_writer_options o = {.codec = SESP_PQ_SNAPPY, .page_bytes = 256};
    sesp_bufw file;
    sesp_bufw_init(&file, 0, 0);
    sesp_pq_writer *w;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(s, &o, (sesp_pq_sink){mem_write, &file}, &w), 0);
    sesp_arena a;
    sesp_arena_init(&a, 0);
    for (size_t i = 0; i < 300; i++) {
        sesp_pq_value row = nested_row(i, &a);
        CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_write_row(w, &row), 0);
    }
    sesp_arena_free(&a);
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, NULL), 0);
    sesp_pq_schema_free(s);

    /* Cut at every position: the footer and frame are validated. */
    for (size_t cut = 0; cut < file.len; cut++) {
        uint8_t *copy = malloc(cut + 1);
        memcpy(copy, file.p, cut);
        memsrc m = {copy, cut};
        sesp_pq_source src = {mem_read, &m, cut};
        sesp_pq_reader *r = NULL;
        int rc = sesp_pq_reader_open(src, NULL, &r);
        CU_ASSERT_NOT_EQUAL(rc, 0);
        sesp_pq_reader_close(r);
        free(copy);
    }
    /* Footer cut: keep the frame but shorten the footer at every length. */
    uint32_t flen;
    memcpy(&flen, file.p + file.len - 8, 4);
    size_t fstart = file.len - 8 - flen;
    for (uint32_t l = 0; l < flen; l++) {
        size_t nlen = fstart + l + 8;
        uint8_t *copy = malloc(nlen);
        memcpy(copy, file.p, fstart + l);
        memcpy(copy + fstart + l, &l, 4);
        memcpy(copy + fstart + l + 4, "PAR1", 4);
        read_everything(copy, nlen);
        free(copy);
    }
    /* Flip bytes everywhere (deterministically), one and several at a time. */
    uint8_t *copy = malloc(file.len);
    for (size_t k = 0; k < 4000; k++) {
        memcpy(copy, file.p, file.len);
        int flips = 1 + (int)(k % 3);
        for (int f = 0; f < flips; f++) {
            size_t pos = k < file.len ? (k * 7919) % file.len : rnd() % file.len;
            if (f > 0 || k >= 2000)
                pos = (k >= 2000 ? fstart + rnd() % (flen + 8) : rnd() % file.len);
            if (pos >= file.len) pos = file.len - 1;
            copy[pos] ^= (uint8_t)(1u << (rnd() % 8));
        }
        read_everything(copy, file.len);
    }
    free(copy);
    /* Not Parquet at all. */
    read_everything((const uint8_t *)"PAR1PAR1", 8);
    read_everything((const uint8_t *)"PAR1\x01\x00\x00\x00\x00PAR1", 13);
    sesp_bufw_free(&file);
}

static void test_schema_validation(void)
{
    sesp_pq_schema *s;
    sesp_pq_schema_new(&s);
    sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING), uuid = sesp_pq_lt(SESP_PQ_LT_UUID);
    sesp_pq_logical dec = sesp_pq_lt_decimal(10, 2), i8 = sesp_pq_lt_int(8, true);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "a", SESP_PQ_REQUIRED, SESP_PQ_INT32, &str, 0, NULL), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "a", SESP_PQ_REQUIRED, SESP_PQ_FIXED_LEN_BYTE_ARRAY, &uuid, 8, NULL), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "a", SESP_PQ_REQUIRED, SESP_PQ_INT32, &dec, 0, NULL), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "a", SESP_PQ_REQUIRED, SESP_PQ_INT64, &i8, 0, NULL), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "a", SESP_PQ_REQUIRED, SESP_PQ_INT64, &dec, 0, NULL), 0);
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, 0, "a", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL), SESP_ERR_EXISTS);
    int leaf = sesp_pq_schema_find_child(s, 0, "a");
    CU_ASSERT_EQUAL(sesp_pq_schema_add_leaf(s, leaf, "x", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL), SESP_ERR_INVALID_ARG);
    sesp_pq_schema_free(s);
    /* An empty schema cannot be written. */
    sesp_pq_schema_new(&s);
    sesp_bufw file;
    sesp_bufw_init(&file, 0, 0);
    sesp_pq_writer *w;
    CU_ASSERT_EQUAL(sesp_pq_writer_open(s, NULL, (sesp_pq_sink){mem_write, &file}, &w), SESP_ERR_INVALID_ARG);
    sesp_pq_schema_free(s);
    sesp_bufw_free(&file);
}

/* Footers whose FIXED_LEN_BYTE_ARRAY width does not fit the DECIMAL they
 * claim: too narrow for the precision, the annotation is dropped (the bytes
 * stay readable, nobody takes them for decimals); no width at all is a
 * malformed footer; a wider width than needed is valid (DuckDB pads to 16). */
static void test_fixed_decimal_widths(void)
{
    const struct { int type_length, precision, logical_from_converted; int want_rc; int want_kind; } cases[] = {
        {3, 20, 0, 0, SESP_PQ_LT_UNKNOWN},      /* 3 bytes hold 6 digits, not 20 */
        {3, 20, 1, 0, SESP_PQ_LT_UNKNOWN},      /* the same through the legacy converted type */
        {8, 19, 0, 0, SESP_PQ_LT_UNKNOWN},      /* 8 bytes hold 18 */
        {9, 20, 0, 0, SESP_PQ_LT_DECIMAL},      /* Spark's width */
        {16, 38, 0, 0, SESP_PQ_LT_DECIMAL},
        {15, 38, 0, 0, SESP_PQ_LT_UNKNOWN},
        {16, 39, 0, 0, SESP_PQ_LT_UNKNOWN},     /* no Parquet width check can pass 39 digits in 16 bytes */
        {17, 20, 0, 0, SESP_PQ_LT_DECIMAL},     /* padded */
        {0, 20, 0, SESP_ERR_MALFORMED, 0},
        {-5, 20, 0, SESP_ERR_MALFORMED, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sesp_pq_md_schema el[2];
        memset(el, 0, sizeof el);
        el[0] = (sesp_pq_md_schema){.name = "schema", .type = -1, .repetition = -1, .num_children = 1, .converted_type = -1,
                                    .scale = -1, .precision = -1, .field_id = -1};
        el[1] = (sesp_pq_md_schema){.name = "d", .type = SESP_PQ_FIXED_LEN_BYTE_ARRAY, .type_length = cases[c].type_length,
                                    .repetition = SESP_PQ_OPTIONAL, .num_children = -1, .converted_type = -1, .scale = 2,
                                    .precision = cases[c].precision, .field_id = -1};
        if (cases[c].logical_from_converted) el[1].converted_type = 5;   /* DECIMAL */
        else el[1].logical = sesp_pq_lt_decimal(cases[c].precision, 2);
        sesp_pq_schema *s = NULL;
        char err[128] = "";
        int rc = sesp_pq_schema_from_md(el, 2, &s, err, sizeof err);
        CU_ASSERT_EQUAL(rc, cases[c].want_rc);
        if (!rc) {
            const sesp_pq_node *n = sesp_pq_schema_node(s, 1);
            CU_ASSERT_EQUAL((int)n->logical.kind, cases[c].want_kind);
            if (n->logical.kind != (sesp_pq_logical_kind)cases[c].want_kind)
                fprintf(stderr, "\ncase %zu: FIXED(%d) decimal(%d,2): logical %d\n", c, cases[c].type_length, cases[c].precision, n->logical.kind);
            CU_ASSERT_EQUAL(n->type_length, cases[c].type_length);
        } else {
            CU_ASSERT_PTR_NULL(s);
            CU_ASSERT(err[0] != 0);
        }
        sesp_pq_schema_free(s);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("parquet", NULL, NULL);
    CU_add_test(s, "thrift_roundtrip", test_thrift_roundtrip);
    CU_add_test(s, "metadata_roundtrip", test_metadata_roundtrip);
    CU_add_test(s, "rle_all_widths", test_rle_all_widths);
    CU_add_test(s, "delta_decode", test_delta_decode);
    CU_add_test(s, "unpack_and_levels", test_unpack_and_levels);
    CU_add_test(s, "scan_api", test_scan_api);
    CU_add_test(s, "schema_validation", test_schema_validation);
    CU_add_test(s, "flat_matrix", test_flat_matrix);
    CU_add_test(s, "dictionary_fallback_and_stats", test_dictionary_fallback_and_stats);
    CU_add_test(s, "early_dictionary_fallback", test_early_dictionary_fallback);
    CU_add_test(s, "huge_stat_values", test_huge_stat_values);
    CU_add_test(s, "all_null_and_constant", test_all_null_and_constant);
    CU_add_test(s, "page_statistics", test_page_statistics);
    CU_add_test(s, "streaming_bounded", test_streaming_bounded);
    CU_add_test(s, "streaming_wide_batch", test_streaming_wide_batch);
    CU_add_test(s, "nested_roundtrip", test_nested_roundtrip);
    CU_add_test(s, "damaged_files", test_damaged_files);
    CU_add_test(s, "fixed_decimal_widths", test_fixed_decimal_widths);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
