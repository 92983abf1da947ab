/* Unit tests of idempotent-producer state in broker/log: duplicates answered
 * with the original offsets, sequence gaps, epoch fencing and bumps, sequence
 * wrap-around, the 5-batch window, unknown producers, dedup surviving clean
 * and unclean restarts (snapshots and log replay), and producer id expiry
 * (removal from the hash table, snapshots after it, the log-level call). */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/log/pstate.h"
#include "common/buf.h"
#include "common/crc32c.h"
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

/* Appends n records from producer pid/epoch starting at seq, record
 * timestamps from ts, at time now; returns rc. */
static int produce_at(sesp_log *l, int64_t pid, int16_t epoch, int32_t seq, int n, int64_t ts, int64_t now,
                      sesp_log_append_info *info)
{
    sesp_batch_record_in in[16];
    char vals[16][32];
    for (int i = 0; i < n; i++) {
        memset(&in[i], 0, sizeof in[i]);
        snprintf(vals[i], sizeof vals[i], "p%lld-s%lld", (long long)pid, (long long)seq + i);
        in[i].key_len = -1;
        in[i].value = vals[i];
        in[i].value_len = (int32_t)strlen(vals[i]);
        in[i].timestamp = ts + i;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    uint8_t *b;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, in, n, &b, &len), 0);
    int rc = sesp_log_append(l, b, len, now, info);
    free(b);
    return rc;
}

static int produce(sesp_log *l, int64_t pid, int16_t epoch, int32_t seq, int n, sesp_log_append_info *info)
{
    return produce_at(l, pid, epoch, seq, n, 1000, 5000, info);
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


/* ---- producer id expiry ---- */

/* Mirrors pstate.c's slot hash, only to build colliding pids; if the hash
 * changes the tests still hold, they just collide less on purpose. */
static size_t home_slot(int64_t pid, size_t cap)
{
    uint64_t x = (uint64_t)pid * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

static void put_entry(sesp_pstate *st, int64_t pid, int64_t ts, int nb)
{
    sesp_pentry e;
    memset(&e, 0, sizeof e);
    e.pid = pid;
    e.epoch = (int16_t)(pid % 7);
    e.last_ts = ts;
    e.nb = (uint8_t)nb;
    for (int j = 0; j < nb; j++) {
        e.b[j].first_seq = j * 10;
        e.b[j].last_seq = j * 10 + 9;
        e.b[j].first_off = pid * 100 + j * 10;
        e.b[j].last_off = pid * 100 + j * 10 + 9;
        e.b[j].timestamp = ts - (nb - 1 - j);
    }
    CU_ASSERT_EQUAL_FATAL(sesp_pstate_put(st, &e), 0);
}

static bool entry_ok(const sesp_pstate *st, int64_t pid, int64_t ts)
{
    const sesp_pentry *e = sesp_pstate_get(st, pid);
    return e && e->pid == pid && e->epoch == (int16_t)(pid % 7) && e->last_ts == ts;
}

/* Every occupied slot is reachable from its home without crossing a free
 * slot: the invariant linear probing needs and deletion must keep. */
static bool table_consistent(const sesp_pstate *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->cap; i++) {
        if (st->slots[i].pid < 0)
            continue;
        n++;
        for (size_t j = home_slot(st->slots[i].pid, st->cap); j != i; j = (j + 1) & (st->cap - 1))
            if (st->slots[j].pid < 0)
                return false;
    }
    return n == st->count;
}

static void test_pstate_remove_colliding(void)
{
    sesp_pstate st;
    sesp_pstate_init(&st);
    /* Six pids sharing home slot 5 of the first (16-slot) table, and three
     * homed right after it so the probe run wraps their homes too. */
    int64_t same[6], next[3];
    int ns = 0, nn = 0;
    for (int64_t pid = 1; ns < 6 || nn < 3; pid++) {
        size_t h = home_slot(pid, 16);
        if (h == 5 && ns < 6)
            same[ns++] = pid;
        else if (h == 6 && nn < 3)
            next[nn++] = pid;
    }
    for (int i = 0; i < 6; i++)
        put_entry(&st, same[i], 100 + i, 1);
    for (int i = 0; i < 3; i++)
        put_entry(&st, next[i], 200 + i, 0);
    CU_ASSERT_EQUAL_FATAL(st.cap, 16);
    CU_ASSERT_TRUE(table_consistent(&st));
    /* Remove from the middle, the front and the end of the run. */
    CU_ASSERT_TRUE(sesp_pstate_remove(&st, same[2]));
    CU_ASSERT_FALSE(sesp_pstate_remove(&st, same[2]));
    CU_ASSERT_TRUE(table_consistent(&st));
    CU_ASSERT_TRUE(sesp_pstate_remove(&st, same[0]));
    CU_ASSERT_TRUE(sesp_pstate_remove(&st, next[2]));
    CU_ASSERT_TRUE(table_consistent(&st));
    CU_ASSERT_EQUAL(st.count, 6);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(entry_ok(&st, same[i], 100 + i), i != 0 && i != 2);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(entry_ok(&st, next[i], 200 + i), i != 2);
    CU_ASSERT_FALSE(sesp_pstate_remove(&st, 999999));
    /* A run wrapping from the last slot to the first. */
    sesp_pstate_clear(&st);
    int64_t wrap[5];
    int nw = 0;
    for (int64_t pid = 1; nw < 5; pid++)
        if (home_slot(pid, 16) == (size_t)(14 + nw % 2))
            wrap[nw++] = pid;
    for (int i = 0; i < 5; i++)
        put_entry(&st, wrap[i], 300 + i, 2);
    CU_ASSERT_TRUE(table_consistent(&st));
    CU_ASSERT_TRUE(sesp_pstate_remove(&st, wrap[0]));
    CU_ASSERT_TRUE(sesp_pstate_remove(&st, wrap[3]));
    CU_ASSERT_TRUE(table_consistent(&st));
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(entry_ok(&st, wrap[i], 300 + i), i != 0 && i != 3);
    sesp_pstate_free(&st);
}

#define NPROD 5000

/* Expires about a third of many producers (dense and scattered pids, long
 * probe runs), checks every lookup, round-trips a snapshot, then expires
 * nearly all so the table shrinks. */
static void test_pstate_expire_many(void)
{
    sesp_pstate st;
    sesp_pstate_init(&st);
    static int64_t pids[NPROD];
    static int64_t ts[NPROD];
    uint64_t r = 12345;
    for (int i = 0; i < NPROD; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        pids[i] = i % 2 ? (int64_t)(r >> 20) : i;       /* half dense, half scattered */
        ts[i] = i % 3 == 0 ? 1000 + i % 50 : 100000 + i;
        put_entry(&st, pids[i], ts[i], i % 6);
    }
    CU_ASSERT_EQUAL_FATAL(st.count, NPROD);
    const int64_t exp_ms = 50000, now = 60000;   /* cut: last_ts <= 10000 */
    size_t removed = sesp_pstate_expire(&st, now, exp_ms);
    size_t want = 0;
    for (int i = 0; i < NPROD; i++)
        want += ts[i] <= now - exp_ms;
    CU_ASSERT_EQUAL(removed, want);
    CU_ASSERT_EQUAL(st.count, NPROD - want);
    CU_ASSERT_TRUE(table_consistent(&st));
    for (int i = 0; i < NPROD; i++)
        CU_ASSERT_EQUAL(entry_ok(&st, pids[i], ts[i]), ts[i] > now - exp_ms);
    /* Kafka's boundary: idle for exactly expiration_ms is expired. */
    CU_ASSERT_EQUAL(sesp_pstate_expire(&st, now, exp_ms), 0);
    CU_ASSERT_EQUAL(sesp_pstate_expire(&st, 100000 + 1 + exp_ms, exp_ms), 1);   /* pid index 1 */
    CU_ASSERT_PTR_NULL(sesp_pstate_get(&st, pids[1]));
    ts[1] = 0;
    /* Snapshot round trip: exactly the survivors. */
    fresh_dir();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    CU_ASSERT_EQUAL(sesp_pstate_write_snapshot(&st, dir, 77), 0);
    sesp_pstate back;
    sesp_pstate_init(&back);
    int64_t off;
    CU_ASSERT_EQUAL(sesp_pstate_load_latest(&back, dir, 100, &off), 0);
    CU_ASSERT_EQUAL(off, 77);
    CU_ASSERT_EQUAL(back.count, st.count);
    for (int i = 0; i < NPROD; i++) {
        bool alive = ts[i] > now - exp_ms;
        CU_ASSERT_EQUAL(entry_ok(&back, pids[i], ts[i]), alive);
        if (alive) {
            const sesp_pentry *a = sesp_pstate_get(&st, pids[i]), *b = sesp_pstate_get(&back, pids[i]);
            CU_ASSERT_EQUAL(a->nb, b->nb);
            CU_ASSERT_EQUAL(memcmp(a->b, b->b, a->nb * sizeof a->b[0]), 0);
        }
    }
    sesp_pstate_free(&back);
    rm_rf();
    /* Nearly everything expires: the table shrinks and stays usable. */
    size_t cap_before = st.cap;
    CU_ASSERT_TRUE(sesp_pstate_expire(&st, 100000 + NPROD - 3 + exp_ms, exp_ms) > 0);
    CU_ASSERT_TRUE(st.count <= 3);
    CU_ASSERT_TRUE(st.cap < cap_before);
    CU_ASSERT_TRUE(table_consistent(&st));
    for (int i = 0; i < NPROD; i++)
        CU_ASSERT_EQUAL(entry_ok(&st, pids[i], ts[i]), ts[i] > 100000 + NPROD - 3);
    put_entry(&st, 424242, 5, 1);
    CU_ASSERT_TRUE(entry_ok(&st, 424242, 5));
    sesp_pstate_free(&st);
}

/* A producer whose timestamp is unknown (-1: a version-1 snapshot entry with
 * no batches left) gets a full expiration period from the first check. */
static void test_pstate_expire_unknown_ts(void)
{
    fresh_dir();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    /* A version-1 snapshot: pid 5 with one batch (ts 700), pid 6 with none. */
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    sesp_bufw_u32(&w, 0x53505354u);
    sesp_bufw_i16(&w, 1);
    sesp_bufw_i32(&w, 2);
    sesp_bufw_i64(&w, 5);
    sesp_bufw_i16(&w, 3);
    sesp_bufw_i8(&w, 1);
    sesp_bufw_i32(&w, 0);
    sesp_bufw_i32(&w, 4);
    sesp_bufw_i64(&w, 10);
    sesp_bufw_i64(&w, 14);
    sesp_bufw_i64(&w, 700);
    sesp_bufw_i64(&w, 6);
    sesp_bufw_i16(&w, 0);
    sesp_bufw_i8(&w, 0);
    sesp_bufw_u32(&w, sesp_crc32c(0, w.p, w.len));
    CU_ASSERT_EQUAL_FATAL(w.err, 0);
    char p[300];
    snprintf(p, sizeof p, "%s/%020d.snapshot", dir, 20);
    FILE *f = fopen(p, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(w.p, 1, w.len, f), w.len);
    fclose(f);
    sesp_bufw_free(&w);
    sesp_pstate st;
    sesp_pstate_init(&st);
    int64_t off;
    CU_ASSERT_EQUAL(sesp_pstate_load_latest(&st, dir, 100, &off), 0);
    CU_ASSERT_EQUAL_FATAL(off, 20);
    CU_ASSERT_EQUAL(st.count, 2);
    const sesp_pentry *e = sesp_pstate_get(&st, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->last_ts, 700);
    CU_ASSERT_EQUAL(e->epoch, 3);
    CU_ASSERT_EQUAL(e->b[0].last_off, 14);
    e = sesp_pstate_get(&st, 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->last_ts, -1);
    /* At 10000 with 1000 ms: pid 5 (700) goes, pid 6 starts its clock. */
    CU_ASSERT_EQUAL(sesp_pstate_expire(&st, 10000, 1000), 1);
    CU_ASSERT_PTR_NULL(sesp_pstate_get(&st, 5));
    e = sesp_pstate_get(&st, 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->last_ts, 10000);
    CU_ASSERT_EQUAL(sesp_pstate_expire(&st, 10999, 1000), 0);
    CU_ASSERT_EQUAL(sesp_pstate_expire(&st, 11000, 1000), 1);
    CU_ASSERT_EQUAL(st.count, 0);
    sesp_pstate_free(&st);
    rm_rf();
}

/* The log-level call: producers whose last batch is old are forgotten
 * (their next non-zero sequence is UNKNOWN_PRODUCER_ID, sequence 0 starts
 * afresh), recent ones keep deduplicating, and the snapshot written at
 * close no longer holds the forgotten ones. */
static void test_log_expire_producers(void)
{
    fresh_dir();
    sesp_log *l = open_log(1 << 20);
    sesp_log_append_info in;
    const int64_t day = 86400000, t0 = 1700000000000;
    /* Producers 10..19 wrote two days ago, 20..29 an hour ago. */
    for (int p = 10; p < 20; p++)
        for (int b = 0; b < 3; b++)
            CU_ASSERT_EQUAL(produce_at(l, p, 0, b * 2, 2, t0 - 2 * day + b, t0 - 2 * day + b, &in), 0);
    int64_t recent_base[10];
    for (int p = 20; p < 30; p++) {
        CU_ASSERT_EQUAL(produce_at(l, p, 1, 0, 2, t0 - 3600000, t0 - 3600000, &in), 0);
        recent_base[p - 20] = in.base_offset;
    }
    /* A producer whose clock is behind but whose batch arrived recently under
     * LogAppendTime counts from the append time. */
    sesp_log_config c;
    sesp_log_config_defaults(&c);
    c.log_append_time = true;
    sesp_log_set_config(l, &c);
    CU_ASSERT_EQUAL(produce_at(l, 40, 0, 0, 1, t0 - 10 * day, t0 - 60000, &in), 0);
    sesp_log_config_defaults(&c);
    sesp_log_set_config(l, &c);
    CU_ASSERT_EQUAL(sesp_log_expire_producers(l, t0, day), 10);
    CU_ASSERT_EQUAL(sesp_log_expire_producers(l, t0, day), 0);
    int64_t end = sesp_log_end_offset(l);
    for (int p = 10; p < 20; p++) {
        /* The retry of its last batch is no longer recognised; it is refused
         * as an unknown producer's mid-stream sequence. */
        CU_ASSERT_NOT_EQUAL(produce_at(l, p, 0, 4, 2, t0, t0, &in), 0);
        CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_UNKNOWN_PRODUCER_ID);
        CU_ASSERT_NOT_EQUAL(produce_at(l, p, 0, 6, 2, t0, t0, &in), 0);
        CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_UNKNOWN_PRODUCER_ID);
    }
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), end);
    for (int p = 20; p < 30; p++) {
        CU_ASSERT_EQUAL(produce_at(l, p, 1, 0, 2, t0 - 3600000, t0, &in), 0);
        CU_ASSERT_TRUE(in.duplicate);
        CU_ASSERT_EQUAL(in.base_offset, recent_base[p - 20]);
    }
    CU_ASSERT_EQUAL(produce_at(l, 40, 0, 1, 1, t0, t0, &in), 0);
    CU_ASSERT_FALSE(in.duplicate);
    /* Sequence 0 starts a forgotten producer afresh. */
    CU_ASSERT_EQUAL(produce_at(l, 10, 0, 0, 2, t0, t0, &in), 0);
    CU_ASSERT_FALSE(in.duplicate);
    CU_ASSERT_EQUAL(in.base_offset, end + 1);      /* after producer 40's batch */
    sesp_log_close(l);
    /* Reopened from the close-time snapshot: still forgotten (11..19), still
     * known (10, 20..29). */
    l = open_log(1 << 20);
    for (int p = 11; p < 20; p++) {
        CU_ASSERT_NOT_EQUAL(produce_at(l, p, 0, 6, 2, t0, t0, &in), 0);
        CU_ASSERT_EQUAL(in.kafka_error, SESP_LOG_KERR_UNKNOWN_PRODUCER_ID);
    }
    CU_ASSERT_EQUAL(produce_at(l, 10, 0, 2, 1, t0, t0, &in), 0);
    CU_ASSERT_EQUAL(produce_at(l, 25, 1, 0, 2, t0, t0, &in), 0);
    CU_ASSERT_TRUE(in.duplicate);
    CU_ASSERT_EQUAL(sesp_log_expire_producers(l, t0 + 2 * day, day), 12);
    sesp_log_close(l);
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
    CU_add_test(s, "pstate removal with colliding slots", test_pstate_remove_colliding);
    CU_add_test(s, "pstate expiry of many producers + snapshot", test_pstate_expire_many);
    CU_add_test(s, "pstate expiry of unknown timestamps, v1 snapshot", test_pstate_expire_unknown_ts);
    CU_add_test(s, "log-level producer expiry", test_log_expire_producers);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int fails = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
