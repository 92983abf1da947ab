/* Unit tests of idempotent-producer state in broker/log: duplicates answered
 * with the original offsets, sequence gaps, epoch fencing and bumps, sequence
 * wrap-around, the 5-batch window, unknown producers, and dedup surviving
 * clean and unclean restarts (snapshots and log replay). */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/log/pstate.h"
#include "common/err.h"

static char root[64];
static char dir[128];

static void fresh_dir(void)
{
    strcpy(root, "/tmp/sesp-idemtest-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/t-0", root);
}

static void rm_rf(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Appends n records from producer pid/epoch starting at seq; returns rc. */
static int produce(sesp_log *l, int64_t pid, int16_t epoch, int32_t seq, int n, sesp_log_append_info *info)
{
    sesp_batch_record_in in[16];
    char vals[16][32];
    for (int i = 0; i < n; i++) {
        memset(&in[i], 0, sizeof in[i]);
        snprintf(vals[i], sizeof vals[i], "p%lld-s%lld", (long long)pid, (long long)seq + i);
        in[i].key_len = -1;
        in[i].value = vals[i];
        in[i].value_len = (int32_t)strlen(vals[i]);
        in[i].timestamp = 1000 + i;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    uint8_t *b;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, in, n, &b, &len), 0);
    int rc = sesp_log_append(l, b, len, 5000, info);
    free(b);
    return rc;
}

static sesp_log *open_log(int64_t segment_bytes)
{
    sesp_log_config c;
    sesp_log_config_defaults(&c);
    c.segment_bytes = segment_bytes;
    sesp_log *l = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    return l;
}

static void test_duplicates_and_gaps(void)
{
    fresh_dir();
    sesp_log *l = open_log(1 << 20);
    sesp_log_append_info in;
    CU_ASSERT_EQUAL(produce(l, 7, 0, 0, 3, &in), 0);           /* offsets 0..2 */
    CU_ASSERT_FALSE(in.duplicate);
    CU_ASSERT_EQUAL(produce(l, 7, 0, 3, 2, &in), 0);           /* 3..4 */
    CU_ASSERT_EQUAL(in.base_offset, 3);
    /* A retry of the first batch: original offsets, nothing appended. */
    CU_ASSERT_EQUAL(produce(l, 7, 0, 0, 3, &in), 0);
    CU_ASSERT_TRUE(in.duplicate);
    CU_ASSERT_EQUAL(in.base_offset, 0);
    CU_ASSERT_EQUAL(in.last_offset, 2);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 5);
    /* Same first sequence but a different range is not a duplicate: a gap/overlap. */
    CU_ASSERT_NOT_EQUAL(produce(l, 7, 0, 0, 2, &in), 0);
    CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* A gap. */
    CU_ASSERT_NOT_EQUAL(produce(l, 7, 0, 6, 1, &in), 0);
    CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 5);
    /* The right next sequence is accepted. */
    CU_ASSERT_EQUAL(produce(l, 7, 0, 5, 1, &in), 0);
    CU_ASSERT_EQUAL(in.base_offset, 5);
    /* Another producer is independent; a new one must start at 0. */
    CU_ASSERT_NOT_EQUAL(produce(l, 8, 0, 4, 1, &in), 0);
    CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_UNKNOWN_PRODUCER_ID);
    CU_ASSERT_EQUAL(produce(l, 8, 0, 0, 1, &in), 0);
    CU_ASSERT_EQUAL(in.base_offset, 6);
    /* Non-idempotent batches are never deduplicated. */
    CU_ASSERT_EQUAL(produce(l, -1, -1, -1, 1, &in), 0);
    CU_ASSERT_EQUAL(produce(l, -1, -1, -1, 1, &in), 0);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 9);
    sesp_log_close(l);
    rm_rf();
}

static void test_fencing(void)
{
    fresh_dir();
    sesp_log *l = open_log(1 << 20);
    sesp_log_append_info in;
    CU_ASSERT_EQUAL(produce(l, 1, 0, 0, 2, &in), 0);
    CU_ASSERT_EQUAL(produce(l, 1, 0, 2, 2, &in), 0);
    /* A bumped epoch must restart at 0. */
    CU_ASSERT_NOT_EQUAL(produce(l, 1, 1, 4, 1, &in), 0);
    CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(produce(l, 1, 1, 0, 1, &in), 0);
    CU_ASSERT_EQUAL(in.base_offset, 4);
    /* The old epoch is now fenced, even for a batch that was a duplicate. */
    CU_ASSERT_NOT_EQUAL(produce(l, 1, 0, 4, 1, &in), 0);
    CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_INVALID_PRODUCER_EPOCH);
    CU_ASSERT_NOT_EQUAL(produce(l, 1, 0, 0, 2, &in), 0);
    CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_INVALID_PRODUCER_EPOCH);
    /* The new epoch's batch is deduplicated within the new epoch. */
    CU_ASSERT_EQUAL(produce(l, 1, 1, 0, 1, &in), 0);
    CU_ASSERT_TRUE(in.duplicate);
    CU_ASSERT_EQUAL(in.base_offset, 4);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 5);
    sesp_log_close(l);
    rm_rf();
}

static void test_wrap_and_window(void)
{
    CU_ASSERT_EQUAL(sesp_pstate_last_seq(INT32_MAX, 0), INT32_MAX);
    CU_ASSERT_EQUAL(sesp_pstate_last_seq(INT32_MAX, 1), 0);
    CU_ASSERT_EQUAL(sesp_pstate_last_seq(INT32_MAX - 1, 4), 2);
    fresh_dir();
    sesp_log *l = open_log(1 << 20);
    sesp_log_append_info in;
    /* A producer known after its data was removed may continue anywhere:
     * bring it near INT32_MAX that way. */
    CU_ASSERT_EQUAL(produce(l, 3, 0, 0, 1, &in), 0);
    CU_ASSERT_EQUAL(sesp_log_truncate_prefix(l, 1), 0);
    CU_ASSERT_EQUAL(produce(l, 3, 0, INT32_MAX - 2, 2, &in), 0);   /* MAX-2..MAX-1 */
    CU_ASSERT_EQUAL(produce(l, 3, 0, INT32_MAX, 3, &in), 0);       /* MAX, 0, 1 */
    int64_t wrapped_base = in.base_offset;
    CU_ASSERT_EQUAL(produce(l, 3, 0, 2, 1, &in), 0);
    /* The wrapped batch is still recognised. */
    CU_ASSERT_EQUAL(produce(l, 3, 0, INT32_MAX, 3, &in), 0);
    CU_ASSERT_TRUE(in.duplicate);
    CU_ASSERT_EQUAL(in.base_offset, wrapped_base);
    /* Window: batches 3..12 of producer 4; only the last 5 are remembered. */
    int64_t base[10];
    for (int i = 0; i < 10; i++) {
        CU_ASSERT_EQUAL(produce(l, 4, 0, i * 2, 2, &in), 0);
        base[i] = in.base_offset;
    }
    for (int i = 5; i < 10; i++) {
        CU_ASSERT_EQUAL(produce(l, 4, 0, i * 2, 2, &in), 0);
        CU_ASSERT_TRUE(in.duplicate);
        CU_ASSERT_EQUAL(in.base_offset, base[i]);
    }
    /* Older than the window: not a duplicate any more, and out of order. */
    CU_ASSERT_NOT_EQUAL(produce(l, 4, 0, 8, 2, &in), 0);
    CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    sesp_log_close(l);
    rm_rf();
}

static void remove_matching(const char *suffix)
{
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), m = strlen(suffix);
        if (n >= m && strcmp(e->d_name + n - m, suffix) == 0) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            CU_ASSERT_EQUAL(unlink(p), 0);
        }
    }
    closedir(d);
}

static int count_matching(const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int c = 0;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), m = strlen(suffix);
        c += n >= m && strcmp(e->d_name + n - m, suffix) == 0;
    }
    if (d)
        closedir(d);
    return c;
}

/* Many producers across many small segments; after reopening (how is the
 * test's parameter) every producer's last batch is still a duplicate and its
 * next sequence is still the only acceptable one. */
static void restart_case(int how)
{
    fresh_dir();
    sesp_log *l = open_log(600);
    sesp_log_append_info in;
    int64_t last_base[6];
    for (int r = 0; r < 8; r++)
        for (int p = 0; p < 6; p++) {
            CU_ASSERT_EQUAL(produce(l, 100 + p, (int16_t)(p % 2), r * 3, 3, &in), 0);
            last_base[p] = in.base_offset;
        }
    CU_ASSERT_TRUE(sesp_log_segment_count(l) > 3);
    sesp_log_close(l);
    CU_ASSERT_TRUE(count_matching(".snapshot") >= 1);
    if (how == 1) {
        /* Unclean: no clean marker, no snapshots: everything from the log. */
        remove_matching(".snapshot");
        remove_matching(".sesp_cleanshutdown");
    } else if (how == 2) {
        /* Only the close-time snapshot lost: the roll snapshot + replay. */
        DIR *d = opendir(dir);
        struct dirent *e;
        char newest[300] = "";
        while ((e = readdir(d)) != NULL)
            if (strstr(e->d_name, ".snapshot") && strcmp(e->d_name, newest) > 0)
                snprintf(newest, sizeof newest, "%s", e->d_name);
        closedir(d);
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, newest);
        CU_ASSERT_EQUAL(unlink(p), 0);
        CU_ASSERT_TRUE(count_matching(".snapshot") >= 1);
        remove_matching(".sesp_cleanshutdown");
    } else if (how == 3) {
        /* A corrupt snapshot is ignored, never trusted. */
        DIR *d = opendir(dir);
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)) != NULL)
            if (strstr(e->d_name, ".snapshot")) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                FILE *f = fopen(p, "r+b");
                fseek(f, 12, SEEK_SET);
                fputc(0x5a, f);
                fclose(f);
            }
        closedir(d);
    }
    l = open_log(600);
    int64_t end = sesp_log_end_offset(l);
    for (int p = 0; p < 6; p++) {
        CU_ASSERT_EQUAL(produce(l, 100 + p, (int16_t)(p % 2), 21, 3, &in), 0);
        CU_ASSERT_TRUE(in.duplicate);
        CU_ASSERT_EQUAL(in.base_offset, last_base[p]);
        CU_ASSERT_NOT_EQUAL(produce(l, 100 + p, (int16_t)(p % 2), 25, 1, &in), 0);
        CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    }
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), end);
    CU_ASSERT_EQUAL(produce(l, 100, 0, 24, 1, &in), 0);
    CU_ASSERT_FALSE(in.duplicate);
    CU_ASSERT_EQUAL(in.base_offset, end);
    sesp_log_close(l);
    rm_rf();
}

static void test_restart_clean(void) { restart_case(0); }
static void test_restart_unclean(void) { restart_case(1); }
static void test_restart_older_snapshot(void) { restart_case(2); }
static void test_restart_corrupt_snapshot(void) { restart_case(3); }

/* A torn tail after the last snapshot: the state must not remember batches
 * that recovery cut off (a retry of them is appended again). */
static void test_torn_tail(void)
{
    fresh_dir();
    sesp_log *l = open_log(1 << 20);
    sesp_log_append_info in;
    CU_ASSERT_EQUAL(produce(l, 9, 0, 0, 2, &in), 0);
    CU_ASSERT_EQUAL(sesp_log_flush(l), 0);
    CU_ASSERT_EQUAL(produce(l, 9, 0, 2, 2, &in), 0);
    sesp_log_close(l);
    remove_matching(".snapshot");
    remove_matching(".sesp_cleanshutdown");
    char p[600];
    snprintf(p, sizeof p, "%s/%020d.log", dir, 0);
    FILE *f = fopen(p, "r+b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fclose(f);
    CU_ASSERT_EQUAL(truncate(p, sz - 5), 0);
    l = open_log(1 << 20);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 2);
    CU_ASSERT_EQUAL(produce(l, 9, 0, 2, 2, &in), 0);
    CU_ASSERT_FALSE(in.duplicate);
    CU_ASSERT_EQUAL(in.base_offset, 2);
    sesp_log_close(l);
    rm_rf();
}

/* Snapshots with garbage of every length never crash the loader. */
static void test_snapshot_fuzz(void)
{
    fresh_dir();
    sesp_log *l = open_log(1 << 20);
    sesp_log_append_info in;
    for (int p = 0; p < 20; p++)
        CU_ASSERT_EQUAL(produce(l, p, 0, 0, 1, &in), 0);
    sesp_log_close(l);
    char p[600];
    snprintf(p, sizeof p, "%s/%020d.snapshot", dir, 20);
    FILE *f = fopen(p, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    srand(42);
    for (int iter = 0; iter < 300; iter++) {
        uint8_t m[4096];
        memcpy(m, buf, n);
        size_t len = (size_t)rand() % (n + 1);
        for (int k = 0; k < 3; k++)
            if (len)
                m[rand() % len] ^= (uint8_t)(1 + rand() % 255);
        f = fopen(p, "wb");
        fwrite(m, 1, len, f);
        fclose(f);
        sesp_pstate st;
        sesp_pstate_init(&st);
        int64_t off;
        CU_ASSERT_EQUAL(sesp_pstate_load_latest(&st, dir, 100, &off), 0);
        CU_ASSERT_TRUE(off == -1 || off == 20);
        sesp_pstate_free(&st);
    }
    rm_rf();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("log idempotence", NULL, NULL);
    CU_add_test(s, "duplicates and gaps", test_duplicates_and_gaps);
    CU_add_test(s, "epoch fencing and bumps", test_fencing);
    CU_add_test(s, "sequence wrap and 5-batch window", test_wrap_and_window);
    CU_add_test(s, "restart clean", test_restart_clean);
    CU_add_test(s, "restart unclean (replay whole log)", test_restart_unclean);
    CU_add_test(s, "restart from an older snapshot", test_restart_older_snapshot);
    CU_add_test(s, "restart with corrupt snapshots", test_restart_corrupt_snapshot);
    CU_add_test(s, "torn tail forgets cut batches", test_torn_tail);
    CU_add_test(s, "snapshot garbage", test_snapshot_fuzz);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int fails = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
