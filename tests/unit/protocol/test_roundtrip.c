/*
 * Round trips every supported version of every generated Kafka message: a
 * generated filler sets every field present in the version to a non-default,
 * seed-dependent value; we encode, decode, re-encode and require identical
 * bytes and a fully consumed buffer.  The same encodings then feed the
 * truncation test: every strict prefix must fail cleanly (under ASan, an
 * over-read would abort the test).
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/protocol/generated/kmsg_fill.h"

enum { SEEDS = 6 };

static int failures_logged;

static void log_fail(const sesp_kmsg_test_entry *e, int v, unsigned seed, const char *what, int rc)
{
    if (failures_logged++ < 20)
        fprintf(stderr, "\n  %s v%d seed %u: %s (rc %d)", e->name, v, seed, what, rc);
}

static void test_roundtrip_all(void)
{
    size_t checked = 0;
    for (size_t i = 0; i < sesp_kmsg_test_entry_count; i++) {
        const sesp_kmsg_test_entry *e = sesp_kmsg_test_entries[i];
        for (int v = e->min_version; v <= e->max_version; v++) {
            for (unsigned seed = 1; seed <= SEEDS; seed++) {
                sesp_arena a;
                sesp_bufw e1, e2;
                sesp_arena_init(&a, 0);
                sesp_bufw_init(&e1, 0, 0);
                sesp_bufw_init(&e2, 0, 0);
                int rc = e->fill_encode((int16_t)v, seed, &a, &e1);
                CU_ASSERT_EQUAL(rc, 0);
                if (rc)
                    log_fail(e, v, seed, "encode of filled message failed", rc);
                size_t consumed = 0;
                /* Decode from an exact-size heap copy so ASan sees over-reads. */
                uint8_t *copy = malloc(e1.len ? e1.len : 1);
                if (e1.len)
                    memcpy(copy, e1.p, e1.len);
                int rc2 = rc ? -1 : e->reencode((int16_t)v, copy, e1.len, &consumed, &e2, &a);
                CU_ASSERT_EQUAL(rc2, 0);
                CU_ASSERT_EQUAL(consumed, e1.len);
                CU_ASSERT_EQUAL(e2.len, e1.len);
                bool same = e2.len == e1.len && (e1.len == 0 || memcmp(e1.p, e2.p, e1.len) == 0);
                CU_ASSERT(same);
                if (!rc && (rc2 || consumed != e1.len || !same))
                    log_fail(e, v, seed, "decode/re-encode mismatch", rc2);
                free(copy);
                sesp_bufw_free(&e1);
                sesp_bufw_free(&e2);
                sesp_arena_free(&a);
                checked++;
            }
        }
    }
    /* 216 messages, most with several versions: make sure the table is really there. */
    CU_ASSERT(sesp_kmsg_test_entry_count > 200);
    CU_ASSERT(checked > 4000);
}

static void test_truncated_prefixes(void)
{
    for (size_t i = 0; i < sesp_kmsg_test_entry_count; i++) {
        const sesp_kmsg_test_entry *e = sesp_kmsg_test_entries[i];
        for (int v = e->min_version; v <= e->max_version; v++) {
            for (unsigned seed = 1; seed <= 2; seed++) {
                sesp_arena a;
                sesp_bufw e1;
                sesp_arena_init(&a, 0);
                sesp_bufw_init(&e1, 0, 0);
                if (e->fill_encode((int16_t)v, seed, &a, &e1) == 0) {
                    for (size_t cut = 0; cut < e1.len; cut++) {
                        uint8_t *copy = malloc(cut ? cut : 1);
                        memcpy(copy, e1.p, cut);
                        size_t consumed = 0;
                        sesp_arena ta;
                        sesp_arena_init(&ta, 0);
                        int rc = e->reencode((int16_t)v, copy, cut, &consumed, NULL, &ta);
                        CU_ASSERT(rc != 0);
                        if (rc == 0)
                            log_fail(e, v, seed, "truncated body decoded", (int)cut);
                        CU_ASSERT(consumed <= cut);
                        sesp_arena_free(&ta);
                        free(copy);
                    }
                }
                sesp_bufw_free(&e1);
                sesp_arena_free(&a);
            }
        }
    }
}

/* Decoded values equal the filled ones field by field (catches a field that
 * encode and decode would both skip, which byte comparison cannot see). */
static void test_decoded_values(void)
{
    for (size_t i = 0; i < sesp_kmsg_test_entry_count; i++) {
        const sesp_kmsg_test_entry *e = sesp_kmsg_test_entries[i];
        for (int v = e->min_version; v <= e->max_version; v++) {
            for (unsigned seed = 1; seed <= SEEDS; seed++) {
                sesp_arena a;
                sesp_arena_init(&a, 0);
                int rc = e->fill_check((int16_t)v, seed, &a);
                CU_ASSERT_EQUAL(rc, 0);
                if (rc)
                    log_fail(e, v, seed, "decoded value differs from filled value", rc);
                sesp_arena_free(&a);
            }
        }
    }
}

/* Unsupported versions are refused by both directions. */
static void test_version_bounds(void)
{
    for (size_t i = 0; i < sesp_kmsg_test_entry_count; i++) {
        const sesp_kmsg_test_entry *e = sesp_kmsg_test_entries[i];
        sesp_arena a;
        sesp_bufw w;
        size_t consumed;
        uint8_t zeros[64] = { 0 };
        sesp_arena_init(&a, 0);
        sesp_bufw_init(&w, 0, 0);
        CU_ASSERT_EQUAL(e->fill_encode((int16_t)(e->max_version + 1), 1, &a, &w), SESP_ERR_UNSUPPORTED);
        CU_ASSERT_EQUAL(e->reencode((int16_t)(e->max_version + 1), zeros, sizeof zeros, &consumed, NULL, &a), SESP_ERR_UNSUPPORTED);
        if (e->min_version > INT16_MIN)
            CU_ASSERT_EQUAL(e->reencode((int16_t)(e->min_version - 1), zeros, sizeof zeros, &consumed, NULL, &a), SESP_ERR_UNSUPPORTED);
        sesp_bufw_free(&w);
        sesp_arena_free(&a);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("protocol_roundtrip", NULL, NULL);
    CU_add_test(s, "every message, every version, byte-identical re-encode", test_roundtrip_all);
    CU_add_test(s, "decoded values equal filled values", test_decoded_values);
    CU_add_test(s, "every strict prefix fails cleanly", test_truncated_prefixes);
    CU_add_test(s, "unsupported versions", test_version_bounds);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
