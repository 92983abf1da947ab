/* Unit tests of broker/log record batches: builder round trips with every
 * codec, CRC and framing validation, decompression limits. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"
#include "broker/log/compress.h"
#include "common/err.h"

#define NREC 50

/* Deterministic, moderately compressible record contents. */
static void make_records(sesp_batch_record_in *in, char keys[][16], char vals[][200], sesp_record_hdr *hdr, int n)
{
    memset(in, 0, sizeof *in * (size_t)n);
    hdr[0] = (sesp_record_hdr){(const uint8_t *)"trace", 5, (const uint8_t *)"abc", 3};
    hdr[1] = (sesp_record_hdr){(const uint8_t *)"nullv", 5, NULL, -1};
    for (int i = 0; i < n; i++) {
        snprintf(keys[i], 16, "key-%d", i);
        for (int j = 0; j < 199; j++)
            vals[i][j] = (char)('a' + (i * 7 + j / 10) % 26);
        vals[i][199] = 0;
        in[i].key = i % 5 == 0 ? NULL : keys[i];
        in[i].key_len = i % 5 == 0 ? -1 : (int32_t)strlen(keys[i]);
        in[i].value = vals[i];
        in[i].value_len = 50 + i;
        in[i].timestamp = 1700000000000LL + i * 3;
        in[i].headers = i % 3 == 0 ? hdr : NULL;
        in[i].header_count = i % 3 == 0 ? 2 : 0;
    }
}

static void check_roundtrip(int codec, bool xerial)
{
    static sesp_batch_record_in in[NREC];
    static char keys[NREC][16], vals[NREC][200];
    sesp_record_hdr hdr[2];
    make_records(in, keys, vals, hdr, NREC);
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.codec = codec;
    o.snappy_xerial = xerial;
    o.base_offset = 100;
    uint8_t *b;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, in, NREC, &b, &n), 0);
    if (codec == SESP_CODEC_SNAPPY)
        CU_ASSERT_EQUAL(memcmp(b + SESP_BATCH_HEADER_SIZE, "\x82SNAPPY", 7) == 0, xerial);
    sesp_batch_header h;
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), 0);
    CU_ASSERT_EQUAL(h.magic, 2);
    CU_ASSERT_EQUAL(h.records_count, NREC);
    CU_ASSERT_EQUAL(h.last_offset_delta, NREC - 1);
    CU_ASSERT_EQUAL(h.attributes & SESP_BATCH_ATTR_CODEC_MASK, codec);
    CU_ASSERT_EQUAL(h.base_timestamp, 1700000000000LL);
    CU_ASSERT_EQUAL(h.max_timestamp, 1700000000000LL + (NREC - 1) * 3);
    CU_ASSERT_EQUAL(sesp_batch_size(&h), (int64_t)n);
    if (codec != SESP_CODEC_NONE)
        CU_ASSERT(n < 50u * NREC);     /* it really compressed */
    sesp_batch_iter it;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_iter_init(&it, b, n, 0), 0);
    sesp_record r;
    int i = 0;
    while (sesp_batch_iter_next(&it, &r) == 1) {
        CU_ASSERT_EQUAL(r.offset, 100 + i);
        CU_ASSERT_EQUAL(r.timestamp, in[i].timestamp);
        CU_ASSERT_EQUAL(r.key_len, in[i].key_len);
        if (in[i].key)
            CU_ASSERT(memcmp(r.key, in[i].key, (size_t)r.key_len) == 0);
        CU_ASSERT_EQUAL(r.value_len, in[i].value_len);
        CU_ASSERT(memcmp(r.value, in[i].value, (size_t)r.value_len) == 0);
        CU_ASSERT_EQUAL(r.header_count, in[i].header_count);
        if (r.header_count == 2) {
            sesp_bufr hr;
            sesp_record_hdr hd;
            sesp_bufr_init(&hr, r.headers, r.headers_len);
            CU_ASSERT_EQUAL(sesp_record_next_header(&hr, &hd), 0);
            CU_ASSERT(hd.key_len == 5 && memcmp(hd.key, "trace", 5) == 0 && hd.value_len == 3 && memcmp(hd.value, "abc", 3) == 0);
            CU_ASSERT_EQUAL(sesp_record_next_header(&hr, &hd), 0);
            CU_ASSERT(hd.key_len == 5 && hd.value == NULL && hd.value_len == -1);
        }
        i++;
    }
    CU_ASSERT_EQUAL(it.err, 0);
    CU_ASSERT_EQUAL(i, NREC);
    sesp_batch_iter_free(&it);
    free(b);
}

static void test_codec_none(void) { check_roundtrip(SESP_CODEC_NONE, false); }
static void test_codec_gzip(void) { check_roundtrip(SESP_CODEC_GZIP, false); }
static void test_codec_snappy_raw(void) { check_roundtrip(SESP_CODEC_SNAPPY, false); }
static void test_codec_snappy_xerial(void) { check_roundtrip(SESP_CODEC_SNAPPY, true); }
static void test_codec_lz4(void) { check_roundtrip(SESP_CODEC_LZ4, false); }
static void test_codec_zstd(void) { check_roundtrip(SESP_CODEC_ZSTD, false); }

static uint8_t *one_batch(int codec, size_t *n)
{
    sesp_batch_record_in in[3];
    memset(in, 0, sizeof in);
    for (int i = 0; i < 3; i++) {
        in[i].key = "k";
        in[i].key_len = 1;
        in[i].value = "hello world";
        in[i].value_len = 11;
        in[i].timestamp = 1000 + i;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.codec = codec;
    uint8_t *b = NULL;
    CU_ASSERT_EQUAL(sesp_batch_build(&o, in, 3, &b, n), 0);
    return b;
}

static void test_crc_flip(void)
{
    for (int codec = SESP_CODEC_NONE; codec <= SESP_CODEC_ZSTD; codec++) {
        size_t n;
        uint8_t *b = one_batch(codec, &n);
        sesp_batch_header h;
        CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), 0);
        /* Every byte covered by the CRC (attributes..end) must be detected. */
        for (size_t i = SESP_BATCH_CRC_START; i < n; i++) {
            b[i] ^= 0x40;
            CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), SESP_ERR_CORRUPT);
            b[i] ^= 0x40;
        }
        /* And the CRC field itself. */
        b[SESP_BATCH_OFF_CRC] ^= 1;
        CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), SESP_ERR_CORRUPT);
        free(b);
    }
}

static void test_header_errors(void)
{
    size_t n;
    uint8_t *b = one_batch(SESP_CODEC_NONE, &n);
    sesp_batch_header h;
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n - 1, 0, &h), SESP_ERR_TRUNCATED);
    CU_ASSERT_EQUAL(sesp_batch_validate(b, 30, 0, &h), SESP_ERR_TRUNCATED);
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, (int32_t)n - 1, &h), SESP_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, (int32_t)n, &h), 0);
    b[SESP_BATCH_OFF_MAGIC] = 1;
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_EQUAL(sesp_batch_parse_header(b, 20, &h), SESP_ERR_UNSUPPORTED);
    b[SESP_BATCH_OFF_MAGIC] = 2;
    /* records count lies (CRC recomputed so only the count is wrong) */
    b[SESP_BATCH_OFF_RECORDS_COUNT + 3] = 4;
    sesp_batch_update_crc(b, n);
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), SESP_ERR_INVALID_ARG);
    b[SESP_BATCH_OFF_RECORDS_COUNT + 3] = 2;
    sesp_batch_update_crc(b, n);
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), SESP_ERR_INVALID_ARG);
    b[SESP_BATCH_OFF_RECORDS_COUNT + 3] = 3;
    /* first record's length varint made too large: framing error */
    b[SESP_BATCH_HEADER_SIZE] = 0x7e;
    sesp_batch_update_crc(b, n);
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), SESP_ERR_MALFORMED);
    free(b);
    /* batch_length below the header size */
    b = one_batch(SESP_CODEC_NONE, &n);
    b[SESP_BATCH_OFF_LENGTH + 3] = 10;
    b[SESP_BATCH_OFF_LENGTH + 2] = 0;
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), SESP_ERR_MALFORMED);
    free(b);
    /* a base offset where base + lastOffsetDelta overflows (found by
     * fuzz_batch_validate: UBSan signed overflow in the record iterator) */
    b = one_batch(SESP_CODEC_NONE, &n);
    memset(b, 0xff, 8);
    b[0] = 0x7f;
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), SESP_ERR_INVALID_ARG);
    sesp_batch_iter it;
    CU_ASSERT_EQUAL(sesp_batch_iter_init(&it, b, n, 0), SESP_ERR_INVALID_ARG);
    sesp_batch_iter_free(&it);
    b[7] = 0xfd; /* INT64_MAX - 2: the last record is offset INT64_MAX */
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), 0);
    free(b);
}

static void test_decompression_bomb(void)
{
    size_t big = 4u << 20;
    uint8_t *zeros = calloc(1, big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(zeros);
    int codecs[] = {SESP_CODEC_GZIP, SESP_CODEC_SNAPPY, SESP_CODEC_SNAPPY, SESP_CODEC_LZ4, SESP_CODEC_ZSTD};
    for (size_t c = 0; c < 5; c++) {
        uint8_t *z, *out = NULL;
        size_t zn, on;
        CU_ASSERT_EQUAL_FATAL(sesp_compress(codecs[c], c == 2 ? SESP_COMPRESS_SNAPPY_XERIAL : 0, zeros, big, &z, &zn), 0);
        CU_ASSERT(zn < big / 10);
        CU_ASSERT_EQUAL(sesp_decompress(codecs[c], z, zn, big - 1, &out, &on), SESP_ERR_TOO_LARGE);
        CU_ASSERT_EQUAL(sesp_decompress(codecs[c], z, zn, 1000, &out, &on), SESP_ERR_TOO_LARGE);
        CU_ASSERT_EQUAL_FATAL(sesp_decompress(codecs[c], z, zn, big, &out, &on), 0);
        CU_ASSERT_EQUAL(on, big);
        CU_ASSERT(memcmp(out, zeros, big) == 0);
        free(out);
        /* Truncated compressed input fails cleanly. */
        CU_ASSERT_NOT_EQUAL(sesp_decompress(codecs[c], z, zn / 2, big, &out, &on), 0);
        free(z);
    }
    /* A batch whose records inflate past the iteration limit. */
    sesp_batch_record_in in = {.key = NULL, .key_len = -1, .value = zeros, .value_len = (int32_t)big, .timestamp = 1};
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.codec = SESP_CODEC_ZSTD;
    uint8_t *b;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, &in, 1, &b, &n), 0);
    sesp_batch_iter it;
    CU_ASSERT_EQUAL(sesp_batch_iter_init(&it, b, n, 1 << 20), SESP_ERR_TOO_LARGE);
    sesp_batch_iter_free(&it);
    sesp_batch_header h;
    CU_ASSERT_EQUAL(sesp_batch_validate(b, n, 0, &h), 0);
    free(b);
    free(zeros);
}

/* One buffer reused across decompressions: a big one first, a bomb that
 * must not grow it past the limit, a small one, and garbage; the buffer
 * stays the caller's every time and the iterators' thread buffer too. */
static void test_decompress_into_reuse(void)
{
    size_t big = 1u << 20;
    uint8_t *text = malloc(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    for (size_t i = 0; i < big; i++)
        text[i] = (uint8_t)('a' + (i * 7 + i / 977) % 26);
    for (int c = SESP_CODEC_GZIP; c <= SESP_CODEC_ZSTD; c++) {
        uint8_t *z, *buf = NULL;
        size_t zn, cap = 0, on = 1;
        CU_ASSERT_EQUAL_FATAL(sesp_compress(c, 0, text, big, &z, &zn), 0);
        CU_ASSERT_EQUAL(sesp_decompress_into(c, z, zn, big, &buf, &cap, &on), 0);
        CU_ASSERT_EQUAL(on, big);
        CU_ASSERT(cap >= big && cap <= big + 1);
        CU_ASSERT(buf && memcmp(buf, text, big) == 0);
        CU_ASSERT_EQUAL(sesp_decompress_into(c, z, zn, 4096, &buf, &cap, &on), SESP_ERR_TOO_LARGE);
        CU_ASSERT(cap <= big + 1);
        CU_ASSERT_EQUAL(on, 0);
        uint8_t *zs;
        size_t zsn;
        CU_ASSERT_EQUAL_FATAL(sesp_compress(c, 0, text + 100, 300, &zs, &zsn), 0);
        uint8_t *before = buf;
        CU_ASSERT_EQUAL(sesp_decompress_into(c, zs, zsn, big, &buf, &cap, &on), 0);
        CU_ASSERT(on == 300 && memcmp(buf, text + 100, 300) == 0);
        CU_ASSERT_PTR_EQUAL(buf, before); /* no reallocation for a smaller output */
        CU_ASSERT_NOT_EQUAL(sesp_decompress_into(c, zs, zsn / 2, big, &buf, &cap, &on), 0);
        free(zs);
        free(z);
        free(buf);
    }
    /* Two iterators at once on one thread each see their own records. */
    sesp_batch_record_in in1 = {.key = NULL, .key_len = -1, .value = text, .value_len = 5000, .timestamp = 1};
    sesp_batch_record_in in2 = {.key = NULL, .key_len = -1, .value = text + 1, .value_len = 7000, .timestamp = 1};
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.codec = SESP_CODEC_LZ4;
    uint8_t *b1, *b2;
    size_t n1, n2;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, &in1, 1, &b1, &n1), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, &in2, 1, &b2, &n2), 0);
    for (int round = 0; round < 2; round++) {
        sesp_batch_iter i1, i2;
        sesp_record r1, r2;
        CU_ASSERT_EQUAL_FATAL(sesp_batch_iter_init(&i1, b1, n1, 0), 0);
        CU_ASSERT_EQUAL_FATAL(sesp_batch_iter_init(&i2, b2, n2, 0), 0);
        CU_ASSERT_EQUAL(sesp_batch_iter_next(&i1, &r1), 1);
        CU_ASSERT_EQUAL(sesp_batch_iter_next(&i2, &r2), 1);
        CU_ASSERT(r1.value_len == 5000 && memcmp(r1.value, text, 5000) == 0);
        CU_ASSERT(r2.value_len == 7000 && memcmp(r2.value, text + 1, 7000) == 0);
        sesp_batch_iter_free(&i1);
        sesp_batch_iter_free(&i2);
    }
    free(b1);
    free(b2);
    free(text);
}

static void test_garbage_compressed(void)
{
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    for (int c = SESP_CODEC_GZIP; c <= SESP_CODEC_ZSTD; c++) {
        uint8_t *out = NULL;
        size_t on;
        CU_ASSERT_NOT_EQUAL(sesp_decompress(c, junk, sizeof junk, 1 << 20, &out, &on), 0);
    }
    uint8_t *out;
    size_t on;
    CU_ASSERT_EQUAL(sesp_decompress(7, junk, 10, 100, &out, &on), SESP_ERR_UNSUPPORTED);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("log_batch", NULL, NULL);
    CU_add_test(s, "codec none", test_codec_none);
    CU_add_test(s, "codec gzip", test_codec_gzip);
    CU_add_test(s, "codec snappy raw", test_codec_snappy_raw);
    CU_add_test(s, "codec snappy xerial", test_codec_snappy_xerial);
    CU_add_test(s, "codec lz4", test_codec_lz4);
    CU_add_test(s, "codec zstd", test_codec_zstd);
    CU_add_test(s, "crc flip", test_crc_flip);
    CU_add_test(s, "header errors", test_header_errors);
    CU_add_test(s, "decompression bomb", test_decompression_bomb);
    CU_add_test(s, "garbage compressed", test_garbage_compressed);
    CU_add_test(s, "decompress into a reused buffer", test_decompress_into_reuse);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
