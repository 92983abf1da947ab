/*
 * pq_gen: test helper for tests/integration/parquet.
 *   pq_gen write DIR   writes a matrix of Parquet files (all types x codec x
 *                      dictionary/plain x page v1/v2, plus nested files) and,
 *                      next to each X.parquet, X.jsonl with the expected rows;
 *   pq_gen read FILE   reads FILE with the SESP reader and prints its rows.
 * Rows are printed as JSON objects in a canonical typed form that the node
 * script also derives from DuckDB's values: "i:<int>", "f:<float>",
 * "s:<text>", "x:<hex>", "d:<days>", "t:<micros>", "m:<unscaled>/<scale>",
 * "u:<uuid>", true/false, null, arrays for lists, [k, v] pairs for maps and
 * objects for structs.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/parquet/parquet.h"
#include "lakehouse/parquet/pq_internal.h"

static void json_str(FILE *f, const char *prefix, const uint8_t *p, size_t n)
{
    fputc('"', f);
    fputs(prefix, f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void print_i128(FILE *f, __int128 v)
{
    char buf[64];
    int i = 63;
    buf[i] = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        buf[--i] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg)
        buf[--i] = '-';
    fputs(buf + i, f);
}

static void print_value(FILE *f, const sesp_pq_schema *s, int id, const sesp_pq_value *v);

static void print_content(FILE *f, const sesp_pq_schema *s, int id, const sesp_pq_value *v)
{
    const sesp_pq_node *n = sesp_pq_schema_node(s, id);
    if (v->kind == SESP_PQV_NULL) {
        fputs("null", f);
        return;
    }
    if (n->is_group) {
        int mode = s->priv[id].list_mode;
        if (mode) {
            int rid = n->children[0];
            const sesp_pq_node *rn = sesp_pq_schema_node(s, rid);
            bool map = n->logical.kind == SESP_PQ_LT_MAP && rn->is_group && rn->nchildren == 2;
            fputc('[', f);
            for (size_t i = 0; i < v->u.list.n; i++) {
                if (i) fputc(',', f);
                const sesp_pq_value *it = &v->u.list.v[i];
                if (map) {
                    fputc('[', f);
                    print_value(f, s, rn->children[0], &it->u.group.v[0]);
                    fputc(',', f);
                    print_value(f, s, rn->children[1], &it->u.group.v[1]);
                    fputc(']', f);
                } else if (mode == 2) {
                    print_value(f, s, rn->children[0], it);
                } else {
                    print_content(f, s, rid, it);
                }
            }
            fputc(']', f);
            return;
        }
        fputc('{', f);
        for (int i = 0; i < n->nchildren; i++) {
            if (i) fputc(',', f);
            const sesp_pq_node *c = sesp_pq_schema_node(s, n->children[i]);
            json_str(f, "", (const uint8_t *)c->name, strlen(c->name));
            fputc(':', f);
            print_value(f, s, n->children[i], &v->u.group.v[i]);
        }
        fputc('}', f);
        return;
    }
    const sesp_pq_logical *lt = &n->logical;
    switch (v->kind) {
    case SESP_PQV_BOOL: fputs(v->u.b ? "true" : "false", f); break;
    case SESP_PQV_INT32:
        if (lt->kind == SESP_PQ_LT_DATE) fprintf(f, "\"d:%d\"", v->u.i32);
        else if (lt->kind == SESP_PQ_LT_DECIMAL) fprintf(f, "\"m:%d/%d\"", v->u.i32, lt->scale);
        else if (lt->kind == SESP_PQ_LT_INT && !lt->is_signed) fprintf(f, "\"i:%u\"", (uint32_t)v->u.i32);
        else fprintf(f, "\"i:%d\"", v->u.i32);
        break;
    case SESP_PQV_INT64:
        if (lt->kind == SESP_PQ_LT_TIMESTAMP) {
            long long us = lt->unit == SESP_PQ_MILLIS ? (long long)v->u.i64 * 1000
                         : lt->unit == SESP_PQ_NANOS ? (long long)v->u.i64 / 1000 : (long long)v->u.i64;
            fprintf(f, "\"t:%lld\"", us);
        } else if (lt->kind == SESP_PQ_LT_DECIMAL) fprintf(f, "\"m:%lld/%d\"", (long long)v->u.i64, lt->scale);
        else if (lt->kind == SESP_PQ_LT_INT && !lt->is_signed) fprintf(f, "\"i:%llu\"", (unsigned long long)v->u.i64);
        else fprintf(f, "\"i:%lld\"", (long long)v->u.i64);
        break;
    case SESP_PQV_FLOAT: fprintf(f, "\"f:%.17g\"", (double)v->u.f); break;
    case SESP_PQV_DOUBLE: fprintf(f, "\"f:%.17g\"", v->u.d); break;
    case SESP_PQV_BYTES: {
        const uint8_t *p = v->u.bytes.p;
        size_t len = v->u.bytes.len;
        if (lt->kind == SESP_PQ_LT_STRING || lt->kind == SESP_PQ_LT_JSON || lt->kind == SESP_PQ_LT_ENUM) {
            json_str(f, "s:", p, len);
        } else if (lt->kind == SESP_PQ_LT_DECIMAL && len <= 16) {
            __int128 x = len && (p[0] & 0x80) ? -1 : 0;
            for (size_t i = 0; i < len; i++)
                x = (__int128)(((unsigned __int128)x << 8) | p[i]);
            fputs("\"m:", f);
            print_i128(f, x);
            fprintf(f, "/%d\"", lt->scale);
        } else if (lt->kind == SESP_PQ_LT_UUID && len == 16) {
            fputs("\"u:", f);
            for (int i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10) fputc('-', f);
                fprintf(f, "%02x", p[i]);
            }
            fputc('"', f);
        } else {
            fputs("\"x:", f);
            for (size_t i = 0; i < len; i++)
                fprintf(f, "%02x", p[i]);
            fputc('"', f);
        }
        break;
    }
    default: fputs("\"?\"", f); break;
    }
}

static void print_value(FILE *f, const sesp_pq_schema *s, int id, const sesp_pq_value *v)
{
    const sesp_pq_node *n = sesp_pq_schema_node(s, id);
    if (n->repetition == SESP_PQ_REPEATED) {
        fputc('[', f);
        for (size_t i = 0; v->kind == SESP_PQV_LIST && i < v->u.list.n; i++) {
            if (i) fputc(',', f);
            print_content(f, s, id, &v->u.list.v[i]);
        }
        fputc(']', f);
        return;
    }
    print_content(f, s, id, v);
}

static void print_row(FILE *f, const sesp_pq_schema *s, const sesp_pq_value *row)
{
    print_content(f, s, 0, row);
    fputc('\n', f);
}

/* ---- generated data ---- */

static const uint8_t UUIDS[3][16] = {
    {0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00},
    {0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01},
};

static sesp_pq_schema *flat_schema(void)
{
    sesp_pq_schema *s;
    sesp_pq_schema_new(&s);
    sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING), date = sesp_pq_lt(SESP_PQ_LT_DATE);
    sesp_pq_logical ts = sesp_pq_lt_timestamp(SESP_PQ_MICROS, true);
    sesp_pq_logical i8 = sesp_pq_lt_int(8, true), i16 = sesp_pq_lt_int(16, true);
    sesp_pq_logical i32 = sesp_pq_lt_int(32, true), i64 = sesp_pq_lt_int(64, true);
    sesp_pq_logical d32 = sesp_pq_lt_decimal(9, 2), d64 = sesp_pq_lt_decimal(18, 4), dfx = sesp_pq_lt_decimal(38, 6);
    sesp_pq_logical d20 = sesp_pq_lt_decimal(20, 2);
    sesp_pq_logical uuid = sesp_pq_lt(SESP_PQ_LT_UUID);
    int rc = 0;
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_bool", SESP_PQ_OPTIONAL, SESP_PQ_BOOLEAN, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_int32", SESP_PQ_REQUIRED, SESP_PQ_INT32, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_int64", SESP_PQ_OPTIONAL, SESP_PQ_INT64, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_int8", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &i8, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_int16", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &i16, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_int32l", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &i32, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_int64l", SESP_PQ_OPTIONAL, SESP_PQ_INT64, &i64, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_float", SESP_PQ_OPTIONAL, SESP_PQ_FLOAT, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_double", SESP_PQ_REQUIRED, SESP_PQ_DOUBLE, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_string", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_binary", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_fixed", SESP_PQ_OPTIONAL, SESP_PQ_FIXED_LEN_BYTE_ARRAY, NULL, 5, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_date", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &date, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_ts", SESP_PQ_OPTIONAL, SESP_PQ_INT64, &ts, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_dec32", SESP_PQ_OPTIONAL, SESP_PQ_INT32, &d32, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_dec64", SESP_PQ_OPTIONAL, SESP_PQ_INT64, &d64, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_decfx", SESP_PQ_OPTIONAL, SESP_PQ_FIXED_LEN_BYTE_ARRAY, &dfx, 16, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_uuid", SESP_PQ_OPTIONAL, SESP_PQ_FIXED_LEN_BYTE_ARRAY, &uuid, 16, NULL);
    /* one distinct value: dictionary indices of bit width 0 */
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_const", SESP_PQ_REQUIRED, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_allnull", SESP_PQ_OPTIONAL, SESP_PQ_INT64, NULL, 0, NULL);
    /* decimal(20,2) in the 9 bytes Spark uses: not a power-of-two width */
    rc |= sesp_pq_schema_add_leaf(s, 0, "c_dec20", SESP_PQ_OPTIONAL, SESP_PQ_FIXED_LEN_BYTE_ARRAY, &d20, 9, NULL);
    if (rc) {
        fprintf(stderr, "schema build failed\n");
        exit(2);
    }
    return s;
}

static sesp_pq_value flat_row(size_t i, sesp_arena *a)
{
    sesp_pq_value *v = sesp_arena_calloc(a, 21, sizeof *v);
    bool null = i % 9 == 4;
    uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
    v[0] = null ? sesp_pqv_null() : sesp_pqv_bool(h >> 63);
    v[1] = sesp_pqv_i32((int32_t)(uint32_t)(h >> 20));
    v[2] = null ? sesp_pqv_null() : sesp_pqv_i64(i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : (int64_t)h);
    v[3] = null ? sesp_pqv_null() : sesp_pqv_i32((int32_t)(i % 256) - 128);
    v[4] = null ? sesp_pqv_null() : sesp_pqv_i32((int32_t)((h >> 7) % 65536) - 32768);
    v[5] = null ? sesp_pqv_null() : sesp_pqv_i32(i % 3 ? (int32_t)(i % 17) : INT32_MIN + (int32_t)i);
    v[6] = null ? sesp_pqv_null() : sesp_pqv_i64((int64_t)(i % 100) - 50);
    v[7] = null ? sesp_pqv_null() : sesp_pqv_float(i % 50 == 7 ? NAN : (float)((double)(int64_t)h / 3e15));
    v[8] = sesp_pqv_double(i % 40 == 9 ? -0.0 : (double)(int64_t)h / 7e12);
    char *s = sesp_arena_alloc(a, 64);
    int sl = snprintf(s, 64, "%s-%zu-\xe2\x82\xac\"\\", i % 2 ? "caf\xc3\xa9" : "row", i % 300);
    v[9] = null ? sesp_pqv_null() : sesp_pqv_bytes(s, i % 17 == 0 ? 0 : (size_t)sl);
    uint8_t *b = sesp_arena_alloc(a, 8);
    for (int k = 0; k < 8; k++) b[k] = (uint8_t)(h >> (8 * k));
    v[10] = null ? sesp_pqv_null() : sesp_pqv_bytes(b, i % 8);
    v[11] = null ? sesp_pqv_null() : sesp_pqv_bytes(b, 5);
    v[12] = null ? sesp_pqv_null() : sesp_pqv_i32((int32_t)(i * 37 % 40000) - 10000);
    v[13] = null ? sesp_pqv_null() : sesp_pqv_i64(1700000000000000ll + (int64_t)i * 1234567891ll * (i % 2 ? -1 : 1));
    v[14] = null ? sesp_pqv_null() : sesp_pqv_i32((int32_t)((h >> 33) % 999999999) * (i % 2 ? -1 : 1));
    v[15] = null ? sesp_pqv_null() : sesp_pqv_i64((int64_t)((h >> 5) % 999999999999999999ull) * (i % 2 ? -1 : 1));
    uint8_t *d = sesp_arena_alloc(a, 16);
    /* a 128-bit value within 38 digits: sign-extended 100-bit number */
    __int128 x = (__int128)(((unsigned __int128)(__int128)(int64_t)h) << 36) ^ (__int128)i;
    for (int k = 0; k < 16; k++) d[15 - k] = (uint8_t)(x >> (8 * k));
    v[16] = null ? sesp_pqv_null() : sesp_pqv_bytes(d, 16);
    v[17] = null ? sesp_pqv_null() : sesp_pqv_bytes(UUIDS[i % 3], 16);
    v[18] = sesp_pqv_bytes("constant", 8);
    v[19] = sesp_pqv_null();
    /* rising through zero, so row-group and page bounds differ and signed
     * order matters (negatives are 0xFF.. bytes); the first rows are the
     * extremes of the precision, +-(10^20 - 1) */
    __int128 p20 = 1;
    for (int k = 0; k < 20; k++) p20 *= 10;
    __int128 y = i == 0 ? -(p20 - 1) : i == 1 ? p20 - 1 : ((__int128)i - 2500) * 12345678901234567 + (__int128)(h % 1000);
    uint8_t *d9 = sesp_arena_alloc(a, 9);
    for (int k = 0; k < 9; k++) d9[8 - k] = (uint8_t)(y >> (8 * k));
    v[20] = null ? sesp_pqv_null() : sesp_pqv_bytes(d9, 9);
    return sesp_pqv_group(v, 21);
}

static sesp_pq_schema *nested_schema(void)
{
    sesp_pq_schema *s;
    sesp_pq_schema_new(&s);
    sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING);
    int info, lst, el, vl, kv, il;
    int rc = 0;
    rc |= sesp_pq_schema_add_leaf(s, 0, "id", SESP_PQ_REQUIRED, SESP_PQ_INT64, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_group(s, 0, "info", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &info);
    rc |= sesp_pq_schema_add_leaf(s, info, "name", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
    rc |= sesp_pq_schema_add_list(s, info, "tags", SESP_PQ_OPTIONAL, &lst);
    rc |= sesp_pq_schema_add_group(s, lst, "element", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &el);
    rc |= sesp_pq_schema_add_leaf(s, el, "k", SESP_PQ_REQUIRED, SESP_PQ_INT32, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_list(s, el, "vals", SESP_PQ_OPTIONAL, &vl);
    rc |= sesp_pq_schema_add_leaf(s, vl, "element", SESP_PQ_OPTIONAL, SESP_PQ_DOUBLE, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_map(s, 0, "attrs", SESP_PQ_OPTIONAL, &kv);
    rc |= sesp_pq_schema_add_leaf(s, kv, "key", SESP_PQ_REQUIRED, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
    rc |= sesp_pq_schema_add_leaf(s, kv, "value", SESP_PQ_OPTIONAL, SESP_PQ_INT32, NULL, 0, NULL);
    rc |= sesp_pq_schema_add_list(s, 0, "ints", SESP_PQ_REQUIRED, &il);
    rc |= sesp_pq_schema_add_leaf(s, il, "element", SESP_PQ_REQUIRED, SESP_PQ_INT32, NULL, 0, NULL);
    if (rc) {
        fprintf(stderr, "nested schema build failed\n");
        exit(2);
    }
    return s;
}

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
        size_t ntags = i % 4;
        if (i % 9 == 4) {
            info[1] = sesp_pqv_null();
        } else {
            sesp_pq_value *tags = sesp_arena_calloc(a, ntags + 1, sizeof *tags);
            for (size_t t = 0; t < ntags; t++) {
                if ((i + t) % 5 == 0) { tags[t] = sesp_pqv_null(); continue; }
                sesp_pq_value *e = sesp_arena_calloc(a, 2, sizeof *e);
                e[0] = sesp_pqv_i32((int32_t)(i * 10 + t));
                size_t nv = (i + t) % 3;
                if ((i + t) % 7 == 1) {
                    e[1] = sesp_pqv_null();
                } else {
                    sesp_pq_value *vals = sesp_arena_calloc(a, nv + 1, sizeof *vals);
                    for (size_t k = 0; k < nv; k++)
                        vals[k] = (i + k) % 4 == 3 ? sesp_pqv_null() : sesp_pqv_double((double)i + (double)k / 8);
                    e[1] = sesp_pqv_list(vals, nv);
                }
                tags[t] = sesp_pqv_group(e, 2);
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
    sesp_pq_value *ints = sesp_arena_calloc(a, nr + 1, sizeof *ints);
    for (size_t k = 0; k < nr; k++)
        ints[k] = sesp_pqv_i32((int32_t)(k * i) - 7);
    top[3] = sesp_pqv_list(ints, nr);
    return sesp_pqv_group(top, 4);
}

static int write_file(const char *dir, const char *name, sesp_pq_schema *s, const sesp_pq_writer_options *o,
                      sesp_pq_value (*gen)(size_t, sesp_arena *), size_t nrows)
{
    char path[1024], jpath[1024];
    snprintf(path, sizeof path, "%s/%s.parquet", dir, name);
    snprintf(jpath, sizeof jpath, "%s/%s.jsonl", dir, name);
    FILE *f = fopen(path, "wb"), *j = fopen(jpath, "w");
    if (!f || !j) {
        perror(path);
        return 1;
    }
    sesp_pq_writer *w;
    int rc = sesp_pq_writer_open(s, o, (sesp_pq_sink){sesp_pq_sink_stdio_write, f}, &w);
    if (rc) {
        fprintf(stderr, "%s: open: %s\n", name, sesp_strerror(rc));
        return 1;
    }
    sesp_arena a;
    sesp_arena_init(&a, 0);
    for (size_t i = 0; i < nrows; i++) {
        sesp_pq_value row = gen(i, &a);
        if ((rc = sesp_pq_writer_write_row(w, &row))) {
            fprintf(stderr, "%s: row %zu: %s (%s)\n", name, i, sesp_strerror(rc), sesp_pq_writer_error(w));
            return 1;
        }
        print_row(j, s, &row);
        if (i % 512 == 511) {
            sesp_arena_free(&a);
            sesp_arena_init(&a, 0);
        }
    }
    sesp_arena_free(&a);
    if ((rc = sesp_pq_writer_close(w, NULL))) {
        fprintf(stderr, "%s: close: %s\n", name, sesp_strerror(rc));
        return 1;
    }
    fclose(f);
    fclose(j);
    printf("%s\n", name);
    return 0;
}

static int cmd_write(const char *dir)
{
    mkdir(dir, 0755);
    sesp_pq_codec codecs[] = {SESP_PQ_UNCOMPRESSED, SESP_PQ_SNAPPY, SESP_PQ_GZIP, SESP_PQ_ZSTD, SESP_PQ_LZ4_RAW};
    int bad = 0;
    for (int c = 0; c < 5; c++)
        for (int dict = 0; dict < 2; dict++)
            for (int v2 = 0; v2 < 2; v2++) {
                char name[128];
                snprintf(name, sizeof name, "sesp_flat_%s_%s_%s", sesp_pq_codec_name(codecs[c]),
                         dict ? "dict" : "plain", v2 ? "v2" : "v1");
                sesp_pq_writer_options o = {.codec = codecs[c], .disable_dictionary = !dict, .data_page_v2 = v2,
                                            .page_bytes = 16384, .row_group_bytes = c == 1 ? 200000 : 0,
                                            .dictionary_page_limit = c == 3 ? 20000 : 0};
                sesp_pq_schema *s = flat_schema();
                bad |= write_file(dir, name, s, &o, flat_row, 5000);
                sesp_pq_schema_free(s);
            }
    for (int c = 0; c < 5; c++) {
        char name[128];
        snprintf(name, sizeof name, "sesp_nested_%s", sesp_pq_codec_name(codecs[c]));
        sesp_pq_writer_options o = {.codec = codecs[c], .page_bytes = 2048, .data_page_v2 = c == 2,
                                    .disable_dictionary = c == 4};
        sesp_pq_schema *s = nested_schema();
        bad |= write_file(dir, name, s, &o, nested_row, 3000);
        sesp_pq_schema_free(s);
    }
    return bad;
}

static int cmd_read(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    struct stat st;
    fstat(fd, &st);
    sesp_pq_source src = {sesp_pq_source_fd_read, &fd, (uint64_t)st.st_size};
    sesp_pq_reader *r;
    int rc = sesp_pq_reader_open(src, NULL, &r);
    if (rc) {
        fprintf(stderr, "%s: %s\n", path, sesp_pq_reader_error(r));
        sesp_pq_reader_close(r);
        return 1;
    }
    sesp_arena a;
    sesp_arena_init(&a, 0);
    const sesp_pq_schema *s = sesp_pq_reader_schema(r);
    for (size_t i = 0;; i++) {
        const sesp_pq_value *row;
        if ((rc = sesp_pq_reader_next_row(r, &a, &row))) {
            fprintf(stderr, "%s: %s\n", path, sesp_pq_reader_error(r));
            break;
        }
        if (!row)
            break;
        print_row(stdout, s, row);
        if (i % 512 == 511) {
            sesp_arena_free(&a);
            sesp_arena_init(&a, 0);
        }
    }
    sesp_arena_free(&a);
    sesp_pq_reader_close(r);
    close(fd);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "write") == 0)
        return cmd_write(argv[2]);
    if (argc == 3 && strcmp(argv[1], "read") == 0)
        return cmd_read(argv[2]);
    fprintf(stderr, "usage: pq_gen write DIR | pq_gen read FILE\n");
    return 2;
}
