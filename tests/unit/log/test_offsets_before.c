/* Unit tests of sesp_log_offsets_before, the answer of ListOffsets v0
 * (Kafka's legacyFetchOffsetsBefore): segment boundaries by .log mtime,
 * LATEST / EARLIEST, max_num_offsets, the log start offset, an empty active
 * segment.  The test sets every segment's mtime itself so the expected lists
 * do not depend on the clock. */
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "common/err.h"

static char g_root[64];
static char g_dir[96];

static void append2(sesp_log *l, int64_t ts0)
{
    sesp_batch_record_in in[2];
    memset(in, 0, sizeof in);
    for (int i = 0; i < 2; i++) {
        in[i].key_len = -1;
        in[i].value = "01234567890123456789";
        in[i].value_len = 20;
        in[i].timestamp = ts0 + i;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    uint8_t *b = NULL;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, in, 2, &b, &len), 0);
    sesp_log_append_info info;
    CU_ASSERT_EQUAL(sesp_log_append(l, b, len, 1000, &info), 0);
    free(b);
}

/* Sets the mtime of the segment at base to ms. */
static void set_mtime(int64_t base, int64_t ms)
{
    char p[160];
    snprintf(p, sizeof p, "%s/%020lld.log", g_dir, (long long)base);
    struct timespec ts[2] = {{.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000},
                             {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000}};
    CU_ASSERT_EQUAL(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* Asserts the answer for (ts, max) is exactly want[0..nwant). */
static void expect(sesp_log *l, int64_t ts, int32_t max, int64_t now, const int64_t *want, int32_t nwant)
{
    int64_t *got = NULL;
    int32_t n = -1;
    CU_ASSERT_EQUAL_FATAL(sesp_log_offsets_before(l, ts, max, now, &got, &n), 0);
    CU_ASSERT_EQUAL(n, nwant);
    for (int32_t i = 0; i < n && i < nwant; i++)
        CU_ASSERT_EQUAL(got[i], want[i]);
    if (n != nwant || (n > 0 && want && memcmp(got, want, (size_t)n * sizeof *got) != 0)) {
        fprintf(stderr, "\n  ts %lld max %d: got", (long long)ts, (int)max);
        for (int32_t i = 0; i < n; i++)
            fprintf(stderr, " %lld", (long long)got[i]);
        fprintf(stderr, "\n");
    }
    CU_ASSERT((n == 0) == (got == NULL));
    free(got);
}

#define EXPECT(l, ts, max, now, ...)                                                                               \
    do {                                                                                                           \
        const int64_t w_[] = {__VA_ARGS__};                                                                        \
        expect(l, ts, max, now, w_, (int32_t)(sizeof w_ / sizeof w_[0]));                                          \
    } while (0)
#define EXPECT_NONE(l, ts, max, now) expect(l, ts, max, now, NULL, 0)

static void test_offsets_before(void)
{
    strcpy(g_root, "/tmp/sesp-obtest-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_root));
    snprintf(g_dir, sizeof g_dir, "%s/t-0", g_root);
    sesp_log_config c;
    sesp_log_config_defaults(&c);
    c.segment_bytes = 150; /* one two-record batch (~115 bytes) per segment */
    c.retention_ms = -1;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(g_dir, &c, &l), 0);

    /* An empty log: LATEST and EARLIEST are both 0 (the empty active
     * segment's base), a time finds nothing unless the segment file is
     * older. */
    EXPECT(l, SESP_LOG_TS_LATEST, 10, 5000000, 0);
    EXPECT(l, SESP_LOG_TS_EARLIEST, 10, 5000000, 0);
    EXPECT_NONE(l, 1000, 10, 5000000);

    for (int i = 0; i < 3; i++)
        append2(l, 1700000000000LL + i * 10);
    CU_ASSERT_EQUAL_FATAL(sesp_log_segment_count(l), 3); /* bases 0, 2, 4; end offset 6 */
    set_mtime(0, 1000000);
    set_mtime(2, 2000000);
    set_mtime(4, 3000000);
    const int64_t now = 5000000;

    EXPECT(l, SESP_LOG_TS_LATEST, 10, now, 6, 4, 2, 0);
    EXPECT(l, SESP_LOG_TS_LATEST, 2, now, 6, 4);
    EXPECT(l, SESP_LOG_TS_LATEST, 1, now, 6);
    EXPECT_NONE(l, SESP_LOG_TS_LATEST, 0, now);
    EXPECT(l, SESP_LOG_TS_EARLIEST, 10, now, 0);
    /* By time: segments modified at or before ts, newest first; the end
     * offset counts as modified now. */
    EXPECT(l, 2500000, 10, now, 2, 0);
    EXPECT(l, 2000000, 10, now, 2, 0);
    EXPECT(l, 1999999, 10, now, 0);
    EXPECT(l, 3000000, 1, now, 4);
    EXPECT(l, 4999999, 10, now, 4, 2, 0);
    EXPECT(l, now, 10, now, 6, 4, 2, 0);
    EXPECT_NONE(l, 999999, 10, now);
    EXPECT_NONE(l, SESP_LOG_TS_MAX_TIMESTAMP, 10, now); /* no v0 meaning: before every file */
    int64_t *got = (int64_t *)1;
    int32_t n = 7;
    CU_ASSERT_EQUAL(sesp_log_offsets_before(l, SESP_LOG_TS_LATEST, -1, now, &got, &n), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(got);
    CU_ASSERT_EQUAL(n, 0);

    /* The log start offset replaces the first segment's base. */
    CU_ASSERT_EQUAL_FATAL(sesp_log_truncate_prefix(l, 3), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_log_segment_count(l), 2);
    EXPECT(l, SESP_LOG_TS_LATEST, 10, now, 6, 4, 3);
    EXPECT(l, SESP_LOG_TS_EARLIEST, 10, now, 3);
    EXPECT(l, 2000000, 10, now, 3);

    /* An empty active segment adds no "now" entry: its base is the end
     * offset and its own mtime counts. */
    c.segment_ms = 1000;
    sesp_log_set_config(l, &c);
    CU_ASSERT(sesp_log_apply_retention(l, 1000000) >= 0);
    CU_ASSERT_EQUAL_FATAL(sesp_log_segment_count(l), 3);
    set_mtime(2, 2000000);
    set_mtime(4, 3000000);
    set_mtime(6, 4000000);
    EXPECT(l, SESP_LOG_TS_LATEST, 10, now, 6, 4, 3);
    EXPECT(l, now, 10, now, 6, 4, 3);
    EXPECT(l, 3999999, 10, now, 4, 3);

    /* Reopened: the files' times are what counts, not in-memory state. */
    sesp_log_close(l);
    set_mtime(2, 2000000);
    set_mtime(4, 3000000);
    set_mtime(6, 4000000);
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(g_dir, &c, &l), 0);
    EXPECT(l, 3500000, 10, now, 4, 3);
    EXPECT(l, SESP_LOG_TS_EARLIEST, 10, now, 3);
    sesp_log_close(l);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("log_offsets_before", NULL, NULL);
    CU_add_test(s, "ListOffsets v0 offsets before a time", test_offsets_before);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
