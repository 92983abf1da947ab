/* Unit tests of broker/log partition logs: append/read, indexes, rolling,
 * time lookups, retention, restart, and recovery from torn or corrupt files. */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/index.h"
#include "broker/log/log.h"
#include "common/err.h"

static char tmpl[64];

static const char *fresh_dir(void)
{
    strcpy(tmpl, "/tmp/sesp-logtest-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpl));
    static char dir[96];
    snprintf(dir, sizeof dir, "%s/topic-0", tmpl);
    return dir;
}

static void rm_rf(const char *root)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

/* A batch of n records with values "v<offset-in-test>" and timestamps ts0 + i. */
static uint8_t *make_batch(int n, int64_t ts0, int codec, int tag, size_t *len)
{
    sesp_batch_record_in in[64];
    char vals[64][32];
    for (int i = 0; i < n; i++) {
        memset(&in[i], 0, sizeof in[i]);
        snprintf(vals[i], sizeof vals[i], "value-%d-%d", tag, i);
        in[i].key = NULL;
        in[i].key_len = -1;
        in[i].value = vals[i];
        in[i].value_len = (int32_t)strlen(vals[i]);
        in[i].timestamp = ts0 + i;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.codec = codec;
    o.base_offset = 999999;  /* the log must overwrite it */
    uint8_t *b = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, in, n, &b, len), 0);
    return b;
}

static int64_t append(sesp_log *l, int n, int64_t ts0, int64_t now, int tag)
{
    size_t len;
    uint8_t *b = make_batch(n, ts0, tag % 5, tag, &len);
    sesp_log_append_info info;
    int rc = sesp_log_append(l, b, len, now, &info);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(info.record_count, n);
    CU_ASSERT_EQUAL(info.last_offset - info.base_offset + 1, n);
    free(b);
    return rc ? -1 : info.base_offset;
}

/* Reads a slice into memory and checks it is a sequence of valid batches. */
static uint8_t *read_slice(sesp_log *l, int64_t off, int32_t max, bool min_one, size_t *len)
{
    sesp_log_slice s;
    *len = 0;
    CU_ASSERT_EQUAL_FATAL(sesp_log_read(l, off, max, min_one, &s), 0);
    if (s.fd < 0)
        return NULL;
    uint8_t *b = malloc((size_t)s.length);
    CU_ASSERT_EQUAL(pread(s.fd, b, (size_t)s.length, s.file_pos), s.length);
    close(s.fd);
    *len = (size_t)s.length;
    for (size_t p = 0; p < *len;) {
        sesp_batch_header h;
        CU_ASSERT_EQUAL_FATAL(sesp_batch_validate(b + p, *len - p, 0, &h), 0);
        p += (size_t)sesp_batch_size(&h);
    }
    return b;
}

static void check_contains(sesp_log *l, int64_t off)
{
    size_t len;
    uint8_t *b = read_slice(l, off, 1, true, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    sesp_batch_header h;
    CU_ASSERT_EQUAL(sesp_batch_parse_header(b, len, &h), 0);
    CU_ASSERT_EQUAL(sesp_batch_size(&h), (int64_t)len);
    CU_ASSERT(h.base_offset <= off && off <= sesp_batch_last_offset(&h));
    CU_ASSERT_EQUAL(h.partition_leader_epoch, SESP_LOG_LEADER_EPOCH); /* stamped by the append */
    free(b);
}

static sesp_log_config small_cfg(void)
{
    sesp_log_config c;
    sesp_log_config_defaults(&c);
    c.index_interval_bytes = 200;
    c.segment_index_bytes = 4096;
    c.retention_ms = -1;
    return c;
}

static void test_append_read(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 0);
    sesp_log_slice s;
    CU_ASSERT_EQUAL(sesp_log_read(l, 0, 1000, true, &s), 0);
    CU_ASSERT_EQUAL(s.fd, -1);
    int64_t next = 0;
    for (int i = 0; i < 300; i++) {
        int n = 1 + i % 7;
        CU_ASSERT_EQUAL(append(l, n, 1000 + next, 5000, i), next);
        next += n;
    }
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), next);
    CU_ASSERT_EQUAL(sesp_log_start_offset(l), 0);
    for (int64_t off = 0; off < next; off++)
        check_contains(l, off);
    /* A big read returns whole batches only, from the first one. */
    size_t len;
    uint8_t *b = read_slice(l, 0, 5000, false, &len);
    CU_ASSERT(len > 4000 && len <= 5000);
    free(b);
    /* Without min_one a batch bigger than max_bytes is not returned. */
    CU_ASSERT_EQUAL(sesp_log_read(l, 5, 10, false, &s), 0);
    CU_ASSERT_EQUAL(s.fd, -1);
    CU_ASSERT_EQUAL(sesp_log_read(l, next, 100, true, &s), 0);
    CU_ASSERT_EQUAL(s.fd, -1);
    CU_ASSERT_EQUAL(sesp_log_read(l, next + 1, 100, true, &s), SESP_ERR_RANGE);
    CU_ASSERT_EQUAL(sesp_log_read(l, -1, 100, true, &s), SESP_ERR_RANGE);
    sesp_log_close(l);
    rm_rf(tmpl);
}

static void test_append_errors(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.max_message_bytes = 400;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    sesp_log_append_info info;
    size_t len;
    uint8_t *b = make_batch(3, 1000, 0, 1, &len);
    b[len - 2] ^= 1;
    CU_ASSERT_EQUAL(sesp_log_append(l, b, len, 1, &info), SESP_ERR_CORRUPT);
    CU_ASSERT_EQUAL(info.kafka_error, SESP_LOG_KERR_CORRUPT_MESSAGE);
    CU_ASSERT_PTR_NOT_NULL(info.error_message);
    b[len - 2] ^= 1;
    b[SESP_BATCH_OFF_MAGIC] = 1;
    CU_ASSERT_NOT_EQUAL(sesp_log_append(l, b, len, 1, &info), 0);
    CU_ASSERT_EQUAL(info.kafka_error, SESP_LOG_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    b[SESP_BATCH_OFF_MAGIC] = 2;
    b[SESP_BATCH_OFF_RECORDS_COUNT + 3] = 5;
    sesp_batch_update_crc(b, len);
    CU_ASSERT_NOT_EQUAL(sesp_log_append(l, b, len, 1, &info), 0);
    CU_ASSERT_EQUAL(info.kafka_error, SESP_LOG_KERR_INVALID_RECORD);
    free(b);
    b = make_batch(40, 1000, 0, 1, &len);
    CU_ASSERT(len > 400);
    CU_ASSERT_NOT_EQUAL(sesp_log_append(l, b, len, 1, &info), 0);
    CU_ASSERT_EQUAL(info.kafka_error, SESP_LOG_KERR_MESSAGE_TOO_LARGE);
    free(b);
    /* Two good batches then a torn one: nothing of the request is appended. */
    size_t l1, l2;
    uint8_t *b1 = make_batch(2, 1000, 0, 1, &l1), *b2 = make_batch(2, 1000, 0, 2, &l2);
    uint8_t *multi = malloc(l1 * 2 + 20);
    memcpy(multi, b1, l1);
    memcpy(multi + l1, b2, l2);
    memcpy(multi + l1 + l2, b1, 20);
    CU_ASSERT_NOT_EQUAL(sesp_log_append(l, multi, l1 + l2 + 20, 1, &info), 0);
    CU_ASSERT_EQUAL(info.kafka_error, SESP_LOG_KERR_CORRUPT_MESSAGE);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 0);
    CU_ASSERT_EQUAL(sesp_log_size_bytes(l), 0);
    /* The same two batches alone are one append with consecutive offsets. */
    CU_ASSERT_EQUAL(sesp_log_append(l, multi, l1 + l2, 1, &info), 0);
    CU_ASSERT_EQUAL(info.base_offset, 0);
    CU_ASSERT_EQUAL(info.last_offset, 3);
    sesp_batch_header h;
    sesp_batch_parse_header(multi + l1, l2, &h);
    CU_ASSERT_EQUAL(h.base_offset, 2);   /* rewritten in place */
    free(multi);
    free(b1);
    free(b2);
    sesp_log_close(l);
    rm_rf(tmpl);
}

static void test_log_append_time(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.log_append_time = true;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    size_t len;
    uint8_t *b = make_batch(4, 1000, SESP_CODEC_LZ4, 3, &len);
    sesp_log_append_info info;
    CU_ASSERT_EQUAL(sesp_log_append(l, b, len, 777777, &info), 0);
    CU_ASSERT_EQUAL(info.log_append_time, 777777);
    free(b);
    b = read_slice(l, 0, 10000, true, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    sesp_batch_iter it;
    CU_ASSERT_EQUAL(sesp_batch_iter_init(&it, b, len, 0), 0);   /* CRC recomputed */
    CU_ASSERT(it.h.attributes & SESP_BATCH_ATTR_LOG_APPEND_TIME);
    CU_ASSERT_EQUAL(it.h.max_timestamp, 777777);
    sesp_record r;
    int n = 0;
    while (sesp_batch_iter_next(&it, &r) == 1) {
        CU_ASSERT_EQUAL(r.timestamp, 777777);
        n++;
    }
    CU_ASSERT_EQUAL(n, 4);
    sesp_batch_iter_free(&it);
    free(b);
    sesp_log_close(l);
    rm_rf(tmpl);
}

static void test_roll_size_and_reopen(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.segment_bytes = 2000;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    int64_t next = 0;
    for (int i = 0; i < 200; i++) {
        append(l, 3, 10000 + next * 10, 1, i);
        next += 3;
    }
    int segs = sesp_log_segment_count(l);
    CU_ASSERT(segs > 10);
    int64_t size = sesp_log_size_bytes(l);
    for (int64_t off = 0; off < next; off += 7)
        check_contains(l, off);
    int64_t o, t;
    /* batch i holds offsets 3i..3i+2 with timestamps 10000+30i..+2 */
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 10000 + 30 * 100 + 11, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 303);
    sesp_log_close(l);
    char p[256];
    snprintf(p, sizeof p, "%s/00000000000000000000.log", dir);
    struct stat st;
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT(st.st_size <= 2000);
    snprintf(p, sizeof p, "%s/00000000000000000000.index", dir);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT(st.st_size % 8 == 0 && st.st_size < 4096);   /* trimmed */
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    CU_ASSERT_EQUAL(sesp_log_segment_count(l), segs);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), next);
    CU_ASSERT_EQUAL(sesp_log_size_bytes(l), size);
    for (int64_t off = 0; off < next; off++)
        check_contains(l, off);
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 10000 + 30 * 100 + 2, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 302);
    CU_ASSERT_EQUAL(t, 10000 + 30 * 100 + 2);
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 10000 + 30 * 100 + 11, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 303);
    CU_ASSERT_EQUAL(t, 10000 + 30 * 101);
    CU_ASSERT_EQUAL(append(l, 2, 5, 1, 1), next);
    sesp_log_close(l);
    rm_rf(tmpl);
}

static void test_roll_time(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.segment_ms = 1000;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    append(l, 2, 1, 10000, 0);
    append(l, 2, 1, 10500, 1);
    CU_ASSERT_EQUAL(sesp_log_segment_count(l), 1);
    append(l, 2, 1, 11000, 2);
    CU_ASSERT_EQUAL(sesp_log_segment_count(l), 2);
    CU_ASSERT_EQUAL(sesp_log_apply_retention(l, 11500), 0);
    CU_ASSERT_EQUAL(sesp_log_segment_count(l), 2);
    CU_ASSERT_EQUAL(sesp_log_apply_retention(l, 12000), 0);   /* rolls the idle active segment */
    CU_ASSERT_EQUAL(sesp_log_segment_count(l), 3);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 6);
    check_contains(l, 5);
    sesp_log_close(l);
    rm_rf(tmpl);
}

static void test_offset_for_time(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.segment_bytes = 3000;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    /* batch i: 5 records, timestamps 1000 + 10*i .. +4; batch 50 carries the max */
    for (int i = 0; i < 100; i++)
        append(l, 5, i == 50 ? 900000 : 1000 + 10 * i, 1, i);
    int64_t o, t;
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, SESP_LOG_TS_EARLIEST, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 0);
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, SESP_LOG_TS_LATEST, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 500);
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, SESP_LOG_TS_MAX_TIMESTAMP, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 254);
    CU_ASSERT_EQUAL(t, 900004);
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 0, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 0);
    CU_ASSERT_EQUAL(t, 1000);
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 1000 + 10 * 70 + 3, &o, &t), 0);
    CU_ASSERT(o == 50 * 5 && t == 900000);   /* the big timestamp at batch 50 comes first */
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 1000 + 10 * 20 + 3, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 20 * 5 + 3);
    CU_ASSERT_EQUAL(t, 1000 + 10 * 20 + 3);
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 1000 + 10 * 20 + 5, &o, &t), 0);
    CU_ASSERT_EQUAL(o, 21 * 5);
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 900005, &o, &t), 0);
    CU_ASSERT_EQUAL(o, -1);
    sesp_log_close(l);
    rm_rf(tmpl);
}

static void test_retention(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.segment_bytes = 1000;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    for (int i = 0; i < 60; i++)
        append(l, 4, 100000 + i * 1000, 1, i);   /* timestamps grow 1s per batch */
    int segs = sesp_log_segment_count(l);
    CU_ASSERT(segs >= 6);
    CU_ASSERT_EQUAL(sesp_log_apply_retention(l, 200000), 0);   /* infinite retention */
    c.retention_ms = 30000;
    sesp_log_set_config(l, &c);
    /* now = newest + 1: batches with ts older than now-30s are past retention */
    int64_t now = 100000 + 59 * 1000 + 1;
    int del = sesp_log_apply_retention(l, now);
    CU_ASSERT(del > 0 && del < segs);
    int64_t start = sesp_log_start_offset(l);
    CU_ASSERT(start > 0);
    sesp_log_slice s;
    CU_ASSERT_EQUAL(sesp_log_read(l, start - 1, 100, true, &s), SESP_ERR_RANGE);
    check_contains(l, start);
    /* every remaining record is young enough or shares a segment with one */
    int64_t o, t;
    CU_ASSERT_EQUAL(sesp_log_offset_for_time(l, 0, &o, &t), 0);
    CU_ASSERT_EQUAL(o, start);
    CU_ASSERT(t + 3 >= now - 30000 - 1000 * 15);
    /* by bytes */
    c.retention_ms = -1;
    c.retention_bytes = 2500;
    sesp_log_set_config(l, &c);
    CU_ASSERT(sesp_log_apply_retention(l, now) > 0);
    /* Kafka's rule: drop the oldest segment while the rest still holds >= retention.bytes */
    CU_ASSERT(sesp_log_size_bytes(l) >= 2500);
    CU_ASSERT(sesp_log_size_bytes(l) < 2500 + 1000);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 240);
    int64_t start2 = sesp_log_start_offset(l);
    CU_ASSERT(start2 > start);
    sesp_log_close(l);
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    CU_ASSERT_EQUAL(sesp_log_start_offset(l), start2);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 240);
    sesp_log_close(l);
    rm_rf(tmpl);
}

static void test_truncate_prefix(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.segment_bytes = 1000;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    for (int i = 0; i < 30; i++)
        append(l, 4, 1000, 1, i);
    int segs = sesp_log_segment_count(l);
    CU_ASSERT_EQUAL(sesp_log_truncate_prefix(l, 121), SESP_ERR_RANGE);
    CU_ASSERT_EQUAL(sesp_log_truncate_prefix(l, 61), 0);
    CU_ASSERT_EQUAL(sesp_log_start_offset(l), 61);
    CU_ASSERT(sesp_log_segment_count(l) < segs);
    check_contains(l, 61);
    sesp_log_slice s;
    CU_ASSERT_EQUAL(sesp_log_read(l, 60, 100, true, &s), SESP_ERR_RANGE);
    sesp_log_close(l);
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    CU_ASSERT_EQUAL(sesp_log_start_offset(l), 61);
    /* truncating everything leaves an empty, appendable log */
    CU_ASSERT_EQUAL(sesp_log_truncate_prefix(l, 120), 0);
    CU_ASSERT_EQUAL(sesp_log_segment_count(l), 1);
    CU_ASSERT_EQUAL(sesp_log_read(l, 120, 100, true, &s), 0);
    CU_ASSERT_EQUAL(s.fd, -1);
    CU_ASSERT_EQUAL(append(l, 2, 1, 1, 0), 120);
    sesp_log_close(l);
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    CU_ASSERT_EQUAL(sesp_log_start_offset(l), 120);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 122);
    CU_ASSERT_EQUAL(sesp_log_delete(l), 0);
    struct stat st;
    CU_ASSERT_NOT_EQUAL(stat(dir, &st), 0);
    rm_rf(tmpl);
}

/* Batch end positions in a .log file, from its headers. */
static int batch_ends(const char *path, int64_t *ends, int max)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    uint8_t *b = malloc((size_t)st.st_size + 1);
    CU_ASSERT_EQUAL(read(fd, b, (size_t)st.st_size), st.st_size);
    close(fd);
    int n = 0;
    for (int64_t p = 0; p < st.st_size && n < max;) {
        sesp_batch_header h;
        CU_ASSERT_EQUAL_FATAL(sesp_batch_parse_header(b + p, (size_t)(st.st_size - p), &h), 0);
        p += sesp_batch_size(&h);
        ends[n++] = p;
    }
    free(b);
    return n;
}

static void write_at(const char *path, int64_t pos, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY);
    CU_ASSERT_EQUAL(pwrite(fd, p, n, pos), (ssize_t)n);
    close(fd);
}

static void test_recovery(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.flush_interval_messages = 1;
    char logp[256], idxp[256], marker[256], tidxp[256];
    snprintf(logp, sizeof logp, "%s/00000000000000000000.log", dir);
    snprintf(idxp, sizeof idxp, "%s/00000000000000000000.index", dir);
    snprintf(tidxp, sizeof tidxp, "%s/00000000000000000000.timeindex", dir);
    snprintf(marker, sizeof marker, "%s/.sesp_cleanshutdown", dir);
    srand(12345);
    for (int round = 0; round < 25; round++) {
        sesp_log *l;
        CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
        int64_t base_end = sesp_log_end_offset(l);
        for (int i = 0; i < 20; i++)
            append(l, 3, 1000 + i, 1, i);
        sesp_log_close(l);
        int64_t ends[4096];
        int nb = batch_ends(logp, ends, 4096);
        CU_ASSERT_EQUAL(nb * 3, base_end + 60);
        /* each batch holds 3 records, so batch k ends at offset 3k+3 */
        int kind = round % 5;
        int64_t expect_end = base_end + 60;
        if (kind == 0 || kind == 3) {
            int64_t cut = rand() % ends[nb - 1];
            CU_ASSERT_EQUAL(truncate(logp, cut), 0);
            int whole = 0;
            while (whole < nb && ends[whole] <= cut)
                whole++;
            expect_end = whole * 3;
            if (kind == 3)
                unlink(marker);
        } else if (kind == 1) {
            uint8_t junk[333];
            for (size_t i = 0; i < sizeof junk; i++)
                junk[i] = (uint8_t)rand();
            write_at(logp, ends[nb - 1], junk, sizeof junk);
            unlink(marker);
        } else if (kind == 2) {
            uint8_t junk[64];
            for (size_t i = 0; i < sizeof junk; i++)
                junk[i] = (uint8_t)rand();
            write_at(idxp, 0, junk, sizeof junk);
            write_at(tidxp, 0, junk, 24);
        } else {
            /* flip one byte inside a batch in the middle: everything from it is cut */
            int k = rand() % nb;
            int64_t start = k ? ends[k - 1] : 0;
            uint8_t x = 0x5a;
            write_at(logp, start + 40, &x, 1);
            unlink(marker);
            expect_end = k * 3;
        }
        CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
        CU_ASSERT_EQUAL(sesp_log_end_offset(l), expect_end);
        for (int64_t off = 0; off < expect_end; off++)
            check_contains(l, off);
        CU_ASSERT_EQUAL(append(l, 3, 5, 1, 0), expect_end);
        check_contains(l, expect_end + 2);
        sesp_log_close(l);
    }
    rm_rf(tmpl);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Reset clears only what may be non-zero (what the file held at open, and
 * what was appended since), yet leaves the whole map zero in every case. */
static void test_index_reset(void)
{
    const char *dir = fresh_dir();
    char cmd[160], path[160];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    snprintf(path, sizeof path, "%s/x.index", dir);
    /* A fresh file is all preallocation. */
    sesp_oindex ix;
    CU_ASSERT_EQUAL_FATAL(sesp_oindex_open(path, 100, 4096, &ix), 0);
    CU_ASSERT_EQUAL(ix.f.map_len, 4096);
    CU_ASSERT_EQUAL(ix.f.dirty_len, 0);
    for (int i = 0; i < 40; i++)
        CU_ASSERT_EQUAL(sesp_oindex_append(&ix, 100 + i * 3, i * 50), 0);
    CU_ASSERT_EQUAL(ix.f.dirty_len, 40 * SESP_OINDEX_ENTRY);
    sesp_idxfile_reset(&ix.f);
    CU_ASSERT_EQUAL(ix.f.entries, 0);
    CU_ASSERT(all_zero(ix.f.map, ix.f.map_len));
    CU_ASSERT_EQUAL(sesp_oindex_append(&ix, 100, 0), 0);
    CU_ASSERT_EQUAL(sesp_oindex_lookup(&ix, 150), 0);
    sesp_idxfile_close(&ix.f);
    /* A file left untrimmed by a crash, stale bytes past its good entries. */
    int fd = open(path, O_WRONLY | O_TRUNC);
    uint8_t junk[1000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 13 + 1);
    CU_ASSERT_EQUAL(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(sesp_oindex_open(path, 100, 4096, &ix), 0);
    CU_ASSERT_EQUAL(ix.f.dirty_len, sizeof junk);
    CU_ASSERT(!all_zero(ix.f.map, sizeof junk));
    sesp_idxfile_reset(&ix.f);
    CU_ASSERT(all_zero(ix.f.map, ix.f.map_len));
    sesp_idxfile_close(&ix.f);
    rm_rf(tmpl);
}

struct thr { sesp_log *l; int id; int fails; };

static void *writer(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < 150; i++) {
        size_t len;
        uint8_t *b = make_batch(1 + i % 4, 1000 + i, (t->id + i) % 5, t->id, &len);
        sesp_log_append_info info;
        if (sesp_log_append(t->l, b, len, 1000 + i, &info) != 0 || info.last_offset - info.base_offset != i % 4)
            t->fails++;
        free(b);
        int64_t end = sesp_log_end_offset(t->l);
        sesp_log_slice sl;
        if (sesp_log_read(t->l, end > 0 ? end - 1 : 0, 100, true, &sl) != 0)
            t->fails++;
        if (sl.fd >= 0)
            close(sl.fd);
    }
    return NULL;
}

static void test_concurrent(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.segment_bytes = 5000;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    pthread_t th[4];
    struct thr t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct thr){l, i, 0};
        pthread_create(&th[i], NULL, writer, &t[i]);
    }
    int64_t expect = 0;
    for (int i = 0; i < 150; i++)
        expect += 1 + i % 4;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(t[i].fails, 0);
    }
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), 4 * expect);
    for (int64_t off = 0; off < 4 * expect; off++)
        check_contains(l, off);
    sesp_log_close(l);
    rm_rf(tmpl);
}

static void test_flush(void)
{
    const char *dir = fresh_dir();
    sesp_log_config c = small_cfg();
    c.flush_interval_ms = 1000;
    c.segment_bytes = 300;
    sesp_log *l;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    size_t len;
    uint8_t *b = make_batch(30, 1, 0, 0, &len);
    sesp_log_append_info info;
    CU_ASSERT(len > 300);
    CU_ASSERT_EQUAL(sesp_log_append(l, b, len, 1, &info), SESP_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(info.kafka_error, SESP_LOG_KERR_RECORD_LIST_TOO_LARGE);
    free(b);
    append(l, 2, 1, 1, 0);
    char p[256];
    snprintf(p, sizeof p, "%s/recovery-point-offset-checkpoint", dir);
    struct stat st;
    CU_ASSERT_EQUAL(sesp_log_maybe_flush_time(l, 5000), 0);     /* starts the clock */
    CU_ASSERT_NOT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(sesp_log_maybe_flush_time(l, 6000), 0);
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    FILE *f = fopen(p, "r");
    long long v = -1;
    CU_ASSERT_EQUAL(fscanf(f, "%lld", &v), 1);
    fclose(f);
    CU_ASSERT_EQUAL(v, 2);
    append(l, 2, 1, 1, 0);
    CU_ASSERT_EQUAL(sesp_log_flush(l), 0);
    f = fopen(p, "r");
    CU_ASSERT_EQUAL(fscanf(f, "%lld", &v), 1);
    fclose(f);
    CU_ASSERT_EQUAL(v, 4);
    sesp_log_close(l);
    rm_rf(tmpl);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("log", NULL, NULL);
    CU_add_test(s, "append and read", test_append_read);
    CU_add_test(s, "append errors", test_append_errors);
    CU_add_test(s, "log append time", test_log_append_time);
    CU_add_test(s, "roll by size, reopen", test_roll_size_and_reopen);
    CU_add_test(s, "roll by time", test_roll_time);
    CU_add_test(s, "offset for time", test_offset_for_time);
    CU_add_test(s, "retention", test_retention);
    CU_add_test(s, "truncate prefix", test_truncate_prefix);
    CU_add_test(s, "recovery", test_recovery);
    CU_add_test(s, "index reset", test_index_reset);
    CU_add_test(s, "concurrent append/read", test_concurrent);
    CU_add_test(s, "flush policy", test_flush);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
