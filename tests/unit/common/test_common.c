/* Unit tests of common/: the bounded buffer reader/writer, arena and CRC32C. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/err.h"

static void test_varint_roundtrip(void)
{
    int64_t vals[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        sesp_bufw_varlong(&w, vals[i]);
    sesp_bufw_varint(&w, -12345);
    CU_ASSERT_EQUAL(w.err, 0);
    sesp_bufr r;
    sesp_bufr_init(&r, w.p, w.len);
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        CU_ASSERT_EQUAL(sesp_bufr_varlong(&r), vals[i]);
    CU_ASSERT_EQUAL(sesp_bufr_varint(&r), -12345);
    CU_ASSERT_EQUAL(r.err, 0);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
    sesp_bufw_free(&w);
}

static void test_reader_bounds(void)
{
    uint8_t b[3] = {0x00, 0x01, 0x02};
    sesp_bufr r;
    sesp_bufr_init(&r, b, sizeof b);
    CU_ASSERT_EQUAL(sesp_bufr_i16(&r), 1);
    CU_ASSERT_EQUAL(sesp_bufr_i32(&r), 0);
    CU_ASSERT_EQUAL(r.err, SESP_ERR_TRUNCATED);
    CU_ASSERT_PTR_NULL(sesp_bufr_take(&r, 1));
    /* An over-long varint is malformed, not an infinite loop. */
    uint8_t v[12];
    memset(v, 0xff, sizeof v);
    sesp_bufr_init(&r, v, sizeof v);
    sesp_bufr_uvarint(&r);
    CU_ASSERT_EQUAL(r.err, SESP_ERR_MALFORMED);
}

static void test_writer_limit(void)
{
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 8);
    sesp_bufw_i64(&w, 7);
    CU_ASSERT_EQUAL(w.err, 0);
    sesp_bufw_i8(&w, 1);
    CU_ASSERT_EQUAL(w.err, SESP_ERR_TOO_LARGE);
    sesp_bufw_free(&w);
}

static void test_crc32c(void)
{
    /* Standard check value of CRC-32C. */
    CU_ASSERT_EQUAL(sesp_crc32c(0, "123456789", 9), 0xE3069283u);
    /* Incremental equals one-shot. */
    uint32_t c = sesp_crc32c(0, "1234", 4);
    CU_ASSERT_EQUAL(sesp_crc32c(c, "56789", 5), 0xE3069283u);
    uint8_t big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = (uint8_t)(i * 7);
    CU_ASSERT_EQUAL(sesp_crc32c(sesp_crc32c(0, big, 333), big + 333, 667), sesp_crc32c(0, big, 1000));
}

/* Bit at a time, straight from the definition: the oracle for both paths. */
static uint32_t crc32c_ref(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* One length: at a random alignment, one-shot and split at random points,
 * hardware (if any) and table paths against the reference. */
static void check_crc_len(uint8_t *mem, size_t len)
{
    size_t align = rng() % 16;
    uint8_t *p = mem + align;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)rng();
    uint32_t seed = (rng() & 1) ? 0 : (uint32_t)rng();
    uint32_t want = crc32c_ref(seed, p, len);
    CU_ASSERT_EQUAL(sesp_crc32c(seed, p, len), want);
    CU_ASSERT_EQUAL(sesp_crc32c_sw(seed, p, len), want);
    uint32_t c = seed, csw = seed;
    size_t pos = 0;
    while (pos < len) {
        size_t n = rng() % 3 == 0 ? rng() % 16 : rng() % (len - pos + 1);
        if (n > len - pos)
            n = len - pos;
        c = sesp_crc32c(c, p + pos, n);
        csw = sesp_crc32c_sw(csw, p + pos, n);
        pos += n;
    }
    CU_ASSERT_EQUAL(c, want);
    CU_ASSERT_EQUAL(csw, want);
}

static void test_crc32c_random(void)
{
    uint8_t *mem = malloc(100000 + 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
    /* Every short length: each lane size's boundaries and tails. */
    for (size_t len = 0; len <= 1600; len++)
        check_crc_len(mem, len);
    /* Around multiples of three lanes of each size (64, 512, 4096 bytes). */
    static const size_t lanes[] = {64, 512, 4096};
    for (size_t l = 0; l < 3; l++)
        for (size_t m = 1; m <= 3; m++)
            for (int d = -9; d <= 9; d++)
                check_crc_len(mem, (size_t)((long)(3 * lanes[l] * m) + d));
    for (int i = 0; i < 60; i++)
        check_crc_len(mem, rng() % 100001);
    check_crc_len(mem, 100000);
    free(mem);
}

/* The inline one- and two-byte paths and the out-of-line path must agree on
 * values, positions and errors at every boundary. */
static void test_varint_fast_paths(void)
{
    static const uint64_t vals[] = {0, 1, 0x7f, 0x80, 0xff, 0x3fff, 0x4000, 0x1fffff, 0x200000,
                                    UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        sesp_bufw w;
        sesp_bufw_init(&w, 0, 0);
        sesp_bufw_uvarlong(&w, vals[i]);
        size_t n = w.len;
        CU_ASSERT_EQUAL(n, sesp_uvarint_size(vals[i]));
        sesp_bufr r;
        sesp_bufr_init(&r, w.p, n);
        CU_ASSERT_EQUAL(sesp_bufr_uvarlong(&r), vals[i]);
        CU_ASSERT_EQUAL(r.err, 0);
        CU_ASSERT_EQUAL(r.pos, n);
        sesp_bufr_init(&r, w.p, n);
        uint32_t u = sesp_bufr_uvarint(&r);
        if (n <= 5) {
            /* As Kafka's readVarint: bits past 32 in the fifth byte are dropped. */
            CU_ASSERT_EQUAL(u, (uint32_t)vals[i]);
            CU_ASSERT_EQUAL(r.err, 0);
            CU_ASSERT_EQUAL(r.pos, n);
        } else {
            CU_ASSERT_EQUAL(r.err, SESP_ERR_MALFORMED);     /* more than 5 bytes */
        }
        /* Every truncation is an error, never a read past the end. */
        for (size_t cut = 0; cut < n; cut++) {
            sesp_bufr_init(&r, w.p, cut);
            CU_ASSERT_EQUAL(sesp_bufr_uvarlong(&r), 0);
            CU_ASSERT_EQUAL(r.err, SESP_ERR_TRUNCATED);
            sesp_bufr_init(&r, w.p, cut);
            CU_ASSERT_EQUAL(sesp_bufr_varint(&r), 0);
            CU_ASSERT_EQUAL(r.err, cut < 5 ? SESP_ERR_TRUNCATED : SESP_ERR_MALFORMED);
        }
        sesp_bufw_free(&w);
    }
    /* Signed two-byte values on both sides of zero. */
    for (int32_t v = -9000; v <= 9000; v++) {
        sesp_bufw w;
        sesp_bufw_init(&w, 0, 0);
        sesp_bufw_varint(&w, v);
        sesp_bufw_varlong(&w, v);
        sesp_bufr r;
        sesp_bufr_init(&r, w.p, w.len);
        CU_ASSERT_EQUAL(sesp_bufr_varint(&r), v);
        CU_ASSERT_EQUAL(sesp_bufr_varlong(&r), v);
        CU_ASSERT_EQUAL(r.err, 0);
        CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
        sesp_bufw_free(&w);
    }
    /* A poisoned reader reads nothing and stays where it was. */
    uint8_t one[2] = {0x05, 0x05};
    sesp_bufr r;
    sesp_bufr_init(&r, one, sizeof one);
    sesp_bufr_fail(&r, SESP_ERR_CORRUPT);
    CU_ASSERT_EQUAL(sesp_bufr_uvarint(&r), 0);
    CU_ASSERT_EQUAL(sesp_bufr_varlong(&r), 0);
    CU_ASSERT_EQUAL(r.pos, 0);
    CU_ASSERT_EQUAL(r.err, SESP_ERR_CORRUPT);
    /* A redundant continuation (0x80 0x00 is zero in two bytes) is accepted
     * as Kafka's decoder does; 0xff x5 then more for a 32-bit varint is not. */
    uint8_t pad[2] = {0x80, 0x00};
    sesp_bufr_init(&r, pad, sizeof pad);
    CU_ASSERT_EQUAL(sesp_bufr_uvarint(&r), 0);
    CU_ASSERT_EQUAL(r.err, 0);
    CU_ASSERT_EQUAL(r.pos, 2);
}

static void test_arena(void)
{
    sesp_arena a;
    sesp_arena_init(&a, 1 << 20);
    for (int i = 0; i < 1000; i++) {
        int *p = sesp_arena_calloc(&a, 10, sizeof(int));
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL(p[9], 0);
        p[9] = i;
    }
    CU_ASSERT_PTR_NULL(sesp_arena_alloc(&a, 2 << 20));
    CU_ASSERT_PTR_NULL(sesp_arena_calloc(&a, SIZE_MAX / 2, 4));
    sesp_arena_free(&a);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("common", NULL, NULL);
    CU_add_test(s, "varint roundtrip", test_varint_roundtrip);
    CU_add_test(s, "reader bounds", test_reader_bounds);
    CU_add_test(s, "writer limit", test_writer_limit);
    CU_add_test(s, "crc32c", test_crc32c);
    CU_add_test(s, "crc32c random lengths, alignments, splits", test_crc32c_random);
    CU_add_test(s, "varint fast paths", test_varint_fast_paths);
    CU_add_test(s, "arena", test_arena);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
