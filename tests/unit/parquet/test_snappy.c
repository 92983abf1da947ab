/* Unit tests of lakehouse/parquet/snappy.c, SESP's snappy decompressor, held
 * to libsnappy: what libsnappy compresses (runs at every period, random and
 * text-like data, every size around the decoder's fast-path margins) decodes
 * to the same bytes; hand-built streams exercise every tag form; and damaged
 * streams (every truncation, every single-byte change, wrong lengths, bad
 * offsets) get the same verdict from both, and never a read or write outside
 * the buffers (the test runs under ASan in CI). */
#include <CUnit/Basic.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "lakehouse/parquet/pq_internal.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* libsnappy's verdict on src: decoded length, or -1. */
static long ref_decode(const uint8_t *src, size_t n, uint8_t **out)
{
    size_t l;
    *out = NULL;
    if (snappy_uncompressed_length((const char *)src, n, &l) != SNAPPY_OK || l > (64u << 20))
        return -1;
    uint8_t *b = malloc(l + 1);
    CU_ASSERT_FATAL(b != NULL);
    size_t got = l;
    if (snappy_uncompress((const char *)src, n, (char *)b, &got) != SNAPPY_OK || got != l) {
        free(b);
        return -1;
    }
    *out = b;
    return (long)l;
}

/* Decodes src with SESP into a buffer of exactly expect bytes (a separate
 * allocation, so ASan catches any write past it). */
static int ours(const uint8_t *src, size_t n, size_t expect, uint8_t **out)
{
    uint8_t *b = malloc(expect ? expect : 1);
    CU_ASSERT_FATAL(b != NULL);
    int rc = sesp_pq_snappy_uncompress(src, n, b, expect);
    if (rc) {
        free(b);
        b = NULL;
    }
    *out = b;
    return rc;
}

/* Both decoders agree on src: the same bytes, or both refuse. */
static void agree(const uint8_t *src, size_t n)
{
    uint8_t *r, *o;
    long rl = ref_decode(src, n, &r);
    size_t l;
    size_t expect = snappy_uncompressed_length((const char *)src, n, &l) == SNAPPY_OK && l <= (64u << 20) ? l : 16;
    int rc = ours(src, n, expect, &o);
    if (rl < 0) {
        CU_ASSERT(rc == SESP_ERR_CORRUPT);
    } else {
        CU_ASSERT_FATAL(rc == 0);
        CU_ASSERT((size_t)rl == expect && memcmp(r, o, expect) == 0);
    }
    free(r);
    free(o);
}

static void roundtrip(const uint8_t *data, size_t n)
{
    size_t cap = snappy_max_compressed_length(n), cl = cap;
    uint8_t *c = malloc(cap);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT_FATAL(snappy_compress((const char *)data, n, (char *)c, &cl) == SNAPPY_OK);
    uint8_t *o;
    CU_ASSERT_FATAL(ours(c, cl, n, &o) == 0);
    CU_ASSERT(memcmp(o, data, n) == 0);
    free(o);
    /* The declared length is the contract: one more or one less is refused. */
    CU_ASSERT(ours(c, cl, n + 1, &o) == SESP_ERR_CORRUPT);
    if (n)
        CU_ASSERT(ours(c, cl, n - 1, &o) == SESP_ERR_CORRUPT);
    free(c);
}

static void test_roundtrip_shapes(void)
{
    uint8_t *d = malloc(300000);
    CU_ASSERT_FATAL(d != NULL);
    /* A run of every period 1..80, around the 8- and 16-byte copy sizes. */
    for (size_t period = 1; period <= 80; period++) {
        for (size_t k = 0; k < 5000; k++)
            d[k] = k < period ? (uint8_t)next_rand() : d[k - period];
        roundtrip(d, 5000);
    }
    /* Every size around the decoder's 16/64/80-byte end margins. */
    for (size_t n = 0; n < 300; n++) {
        for (size_t k = 0; k < n; k++)
            d[k] = (uint8_t)(k % 7 == 0 ? next_rand() : 'a' + k % 5);
        roundtrip(d, n);
    }
    /* Random bytes (long literals, the 1- to 4-byte literal lengths), text
     * with matches at every distance, and a mix, at a page's size. */
    for (size_t k = 0; k < 300000; k++)
        d[k] = (uint8_t)next_rand();
    roundtrip(d, 300000);
    for (size_t k = 0; k < 300000; k++)
        d[k] = k % 64 < 40 ? (uint8_t)"value-lorem-ipsum-dolor-sit-amet-0123456789"[k % 40] : (uint8_t)(next_rand() % 10 + 48);
    roundtrip(d, 300000);
    for (size_t k = 0; k < 300000; k += 8) {
        uint64_t v = 1700000000000000ull + k * 1000 + (next_rand() & 0xff);
        memcpy(d + k, &v, 8);
    }
    roundtrip(d, 300000);
    free(d);
}

/* Hand-built streams: the 4-byte-offset copy (libsnappy never writes one for
 * a small block) and each length form of a literal. */
static void test_tag_forms(void)
{
    uint8_t s[64], *o;
    size_t p = 0;
    s[p++] = 10;                 /* length 10 */
    s[p++] = (3 - 1) << 2;       /* literal "abc" */
    memcpy(s + p, "abc", 3);
    p += 3;
    s[p++] = ((7 - 1) << 2) | 3; /* copy 7 at offset 3, 4-byte offset */
    s[p++] = 3;
    s[p++] = 0;
    s[p++] = 0;
    s[p++] = 0;
    CU_ASSERT_FATAL(ours(s, p, 10, &o) == 0);
    CU_ASSERT(memcmp(o, "abcabcabca", 10) == 0);
    free(o);
    agree(s, p);
    /* Literal lengths in 1, 2, 3 and 4 extra bytes. */
    for (unsigned nb = 1; nb <= 4; nb++) {
        uint8_t t[16];
        size_t q = 0;
        t[q++] = 2;
        t[q++] = (uint8_t)((59 + nb) << 2);
        t[q++] = 1; /* length - 1 = 1 */
        for (unsigned k = 1; k < nb; k++)
            t[q++] = 0;
        t[q++] = 'x';
        t[q++] = 'y';
        CU_ASSERT_FATAL(ours(t, q, 2, &o) == 0);
        CU_ASSERT(memcmp(o, "xy", 2) == 0);
        free(o);
        agree(t, q);
    }
    /* A stored literal length of 0xffffffff wraps to an empty literal in
     * libsnappy (found by fuzz_snappy); SESP answers the same. */
    const uint8_t wrap[] = {0, 63 << 2, 0xff, 0xff, 0xff, 0xff};
    CU_ASSERT(ours(wrap, sizeof wrap, 0, &o) == 0);
    free(o);
    agree(wrap, sizeof wrap);
}

static void test_bad_streams(void)
{
    uint8_t *o;
    /* Offset 0, an offset before the start, a literal past the input, a copy
     * past the declared length, a length varint of 6 bytes or over 32 bits,
     * trailing bytes after the last tag, and an empty input. */
    const uint8_t off0[] = {4, 0, 'a', 1 | (0 << 2), 0};
    const uint8_t before[] = {6, 0, 'a', 1 | (1 << 2), 2};
    const uint8_t litpast[] = {4, 3 << 2, 'a', 'b'};
    const uint8_t copypast[] = {3, 0, 'a', 1 | (4 << 2), 1};
    const uint8_t longvar[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0};
    const uint8_t over32[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    const uint8_t trailing[] = {1, 0, 'a', 0};
    const struct { const uint8_t *p; size_t n; size_t expect; } bad[] = {
        {off0, sizeof off0, 4}, {before, sizeof before, 6}, {litpast, sizeof litpast, 4},
        {copypast, sizeof copypast, 3}, {longvar, sizeof longvar, 0}, {over32, sizeof over32, 0},
        {trailing, sizeof trailing, 1}, {(const uint8_t *)"", 0, 0},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CU_ASSERT(ours(bad[k].p, bad[k].n, bad[k].expect, &o) == SESP_ERR_CORRUPT);
        agree(bad[k].p, bad[k].n);
    }

    /* Every truncation and every single-byte change of real streams. */
    uint8_t d[2000], c[4000];
    for (int shape = 0; shape < 3; shape++) {
        for (size_t k = 0; k < sizeof d; k++)
            d[k] = shape == 0 ? (uint8_t)next_rand() : shape == 1 ? (uint8_t)("abcdefghij"[k % 10] + (k % 97 == 0))
                                                                 : (uint8_t)(k / 50);
        size_t cl = sizeof c;
        CU_ASSERT_FATAL(snappy_compress((const char *)d, sizeof d, (char *)c, &cl) == SNAPPY_OK);
        for (size_t cut = 0; cut < cl; cut++)
            agree(c, cut);
        for (size_t at = 0; at < cl; at++) {
            uint8_t keep = c[at];
            for (int v = 0; v < 4; v++) {
                c[at] = v == 0 ? (uint8_t)(keep ^ 1) : v == 1 ? (uint8_t)(keep ^ 0x80) : v == 2 ? 0 : 0xff;
                agree(c, cl);
            }
            c[at] = keep;
        }
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("snappy", NULL, NULL);
    CU_add_test(s, "roundtrip_shapes", test_roundtrip_shapes);
    CU_add_test(s, "tag_forms", test_tag_forms);
    CU_add_test(s, "bad_streams", test_bad_streams);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
