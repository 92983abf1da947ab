/* Unit tests of common/: the bounded buffer reader/writer, arena and CRC32C. */
#include <CUnit/Basic.h>
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
    CU_add_test(s, "arena", test_arena);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
