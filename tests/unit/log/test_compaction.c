/* Unit tests of broker/log compaction against a model: many updates of few
 * keys in small segments; after a pass the log read from the start holds
 * exactly the latest value of each key among cleaned segments plus every
 * record of the uncleaned ones, at their original offsets; tombstones go
 * after delete.retention.ms (time injected); readers racing the cleaner see
 * only valid batches; a crash inside a pass loses nothing; the background
 * thread cleans by dirty ratio; idempotence survives compaction; a
 * producer's last batch stays as an empty batch while the producer is known
 * and goes once it expired. */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/cleaner.h"
#include "broker/log/log.h"
#include "common/err.h"

static char root[64];
static char dir[128];

static void fresh_dir(void)
{
    strcpy(root, "/tmp/sesp-compacttest-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/c-0", root);
}

static void rm_rf(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

#define NKEYS 17
#define MAXOFF 20000

/* The model: what was written at each offset. */
typedef struct model {
    int key[MAXOFF];            /* -1 = null key */
    int ver[MAXOFF];            /* -1 = tombstone */
    int64_t ts[MAXOFF];         /* record timestamp */
    int n;
} model;

static model M;

static sesp_log *open_log(int64_t segment_bytes)
{
    sesp_log_config c;
    sesp_log_config_defaults(&c);
    c.segment_bytes = segment_bytes;
    c.compact = true;
    c.delete_retention = false;
    c.delete_retention_ms = 1000;
    sesp_log *l = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &c, &l), 0);
    return l;
}

/* One batch of n records: keys (k0 + i*step) % NKEYS; codec by batch;
 * producer fields pid/epoch/seq (-1 = not idempotent). */
static void put_batch_as(sesp_log *l, int64_t pid, int16_t epoch, int32_t seq, int n, int k0, int step, int codec,
                         bool tomb, int64_t ts)
{
    sesp_batch_record_in in[32];
    char keys[32][16], vals[32][48];
    for (int i = 0; i < n; i++) {
        int k = (k0 + i * step) % NKEYS;
        int off = M.n + i;
        memset(&in[i], 0, sizeof in[i]);
        snprintf(keys[i], sizeof keys[i], "key-%d", k);
        snprintf(vals[i], sizeof vals[i], "k%d@%d", k, off);
        in[i].key = keys[i];
        in[i].key_len = (int32_t)strlen(keys[i]);
        bool t = tomb && i == n - 1;
        in[i].value = t ? NULL : vals[i];
        in[i].value_len = t ? -1 : (int32_t)strlen(vals[i]);
        in[i].timestamp = ts + i;
        M.key[off] = k;
        M.ver[off] = t ? -1 : off;
        M.ts[off] = ts + i;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.codec = codec;
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    uint8_t *b;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, in, n, &b, &len), 0);
    sesp_log_append_info info;
    CU_ASSERT_EQUAL_FATAL(sesp_log_append(l, b, len, ts, &info), 0);
    CU_ASSERT_EQUAL(info.base_offset, M.n);
    M.n += n;
    free(b);
}

static void put_batch(sesp_log *l, int n, int k0, int step, int codec, bool tomb, int64_t ts)
{
    put_batch_as(l, -1, -1, -1, n, k0, step, codec, tomb, ts);
}

/* Reads the whole log; checks every batch and fills got[offset] = 1 + index
 * into a list of (offset, key, version).  Returns records read. */
typedef struct rec_out {
    int64_t off;
    int key, ver;
} rec_out;

static int read_all(sesp_log *l, rec_out *out, int max)
{
    int n = 0;
    int64_t off = sesp_log_start_offset(l), end = sesp_log_end_offset(l);
    int64_t prev = -1;
    while (off < end) {
        sesp_log_slice s;
        int rc = sesp_log_read(l, off, 1 << 20, true, &s);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        if (s.fd < 0)
            break;
        uint8_t *buf = malloc((size_t)s.length);
        CU_ASSERT_EQUAL_FATAL(pread(s.fd, buf, (size_t)s.length, s.file_pos), s.length);
        close(s.fd);
        for (int64_t pos = 0; pos < s.length;) {
            sesp_batch_header h;
            CU_ASSERT_EQUAL_FATAL(sesp_batch_validate(buf + pos, (size_t)(s.length - pos), 0, &h), 0);
            sesp_batch_iter it;
            sesp_record r;
            CU_ASSERT_EQUAL_FATAL(sesp_batch_iter_init(&it, buf + pos, (size_t)(s.length - pos), 0), 0);
            while (sesp_batch_iter_next(&it, &r) == 1) {
                if (r.offset < off)
                    continue;
                CU_ASSERT_FATAL(r.offset > prev);
                prev = r.offset;
                CU_ASSERT_FATAL(n < max);
                out[n].off = r.offset;
                char kb[32] = "", vb[64] = "";
                CU_ASSERT_FATAL(r.key && r.key_len < 30);
                memcpy(kb, r.key, (size_t)r.key_len);
                out[n].key = atoi(kb + 4);
                if (r.value) {
                    CU_ASSERT_FATAL(r.value_len < 60);
                    memcpy(vb, r.value, (size_t)r.value_len);
                    char *at = strchr(vb, '@');
                    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
                    out[n].ver = atoi(at + 1);
                    CU_ASSERT_EQUAL(out[n].ver, r.offset);     /* values never move */
                } else {
                    out[n].ver = -1;
                }
                n++;
            }
            sesp_batch_iter_free(&it);
            off = sesp_batch_last_offset(&h) + 1;
            pos += sesp_batch_size(&h);
        }
        free(buf);
    }
    return n;
}

/* Expected content when offsets < cleaned_upto were compacted (tombstones
 * in it kept iff keep_tombs): the latest record per key among [0, cleaned_upto)
 * unless a later record of the key exists anywhere, plus all of the rest. */
static void check_against_model(sesp_log *l, int64_t cleaned_upto, bool keep_tombs)
{
    static rec_out got[MAXOFF];
    int n = read_all(l, got, MAXOFF);
    int latest[NKEYS];
    for (int k = 0; k < NKEYS; k++)
        latest[k] = -1;
    for (int o = 0; o < M.n; o++)
        if (o < cleaned_upto || true)
            latest[M.key[o]] = o;
    int j = 0;
    for (int o = 0; o < M.n; o++) {
        bool expect = o >= cleaned_upto || (latest[M.key[o]] == o && (M.ver[o] >= 0 || keep_tombs));
        /* Records superseded only by records in the uncleaned part may stay or go. */
        if (!expect)
            continue;
        CU_ASSERT_FATAL(j < n);
        CU_ASSERT_EQUAL(got[j].off, o);
        CU_ASSERT_EQUAL(got[j].key, M.key[o]);
        CU_ASSERT_EQUAL(got[j].ver, M.ver[o]);
        if (got[j].off != o)
            return;
        j++;
    }
    CU_ASSERT_EQUAL(j, n);
}

static int64_t first_uncleaned(sesp_log *l)
{
    /* The active segment's base: everything before it is cleaned by a full pass. */
    (void)l;
    DIR *d = opendir(dir);
    struct dirent *e;
    int64_t best = -1;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".log") == 0) {
            int64_t b = atoll(e->d_name);
            if (b > best)
                best = b;
        }
    closedir(d);
    return best;
}

static void fill(sesp_log *l, int batches, int64_t ts)
{
    for (int b = 0; b < batches; b++)
        put_batch(l, 1 + b % 7, b * 3, 1 + b % 4, b % 5, b % 11 == 10, ts + b);
}

static void test_compact_model(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log *l = open_log(2000);
    fill(l, 600, 1000);
    CU_ASSERT_TRUE(sesp_log_segment_count(l) > 10);
    int64_t active_base = first_uncleaned(l);
    int64_t size_before = sesp_log_size_bytes(l);
    sesp_log_clean_stats st;
    CU_ASSERT_EQUAL(sesp_log_clean(l, 5000, &st), 1);
    CU_ASSERT_TRUE(st.records_dropped > 0);
    CU_ASSERT_TRUE(sesp_log_size_bytes(l) < size_before);
    /* Only the key's latest records remain in the cleaned part, but the
     * latest in the cleaned part is superseded by the uncleaned part too:
     * the map covers only the cleaned segments, so records whose newer
     * version is in the active segment stay.  Check with the model restricted
     * to the cleaned part. */
    static rec_out got[MAXOFF];
    int n = read_all(l, got, MAXOFF);
    int latest_clean[NKEYS];
    for (int k = 0; k < NKEYS; k++)
        latest_clean[k] = -1;
    for (int o = 0; o < active_base; o++)
        latest_clean[M.key[o]] = o;
    int j = 0;
    for (int o = 0; o < M.n; o++) {
        bool expect = o >= active_base || latest_clean[M.key[o]] == o;
        if (!expect)
            continue;
        CU_ASSERT_FATAL(j < n);
        CU_ASSERT_EQUAL(got[j].off, o);
        CU_ASSERT_EQUAL(got[j].key, M.key[o]);
        CU_ASSERT_EQUAL(got[j].ver, M.ver[o]);
        if (got[j].off != o)
            break;
        j++;
    }
    CU_ASSERT_EQUAL(j, n);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), M.n);
    /* Reopen: same content, indexes work (read from the middle). */
    sesp_log_close(l);
    l = open_log(2000);
    static rec_out again[MAXOFF];
    CU_ASSERT_EQUAL(read_all(l, again, MAXOFF), n);
    CU_ASSERT_EQUAL(memcmp(again, got, (size_t)n * sizeof got[0]), 0);
    /* A second pass after more writes; then tombstones past their horizon go. */
    fill(l, 200, 2000);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 6000, &st), 1);
    int64_t active2 = first_uncleaned(l);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 6000 + 1000 + 5, &st), 1);
    CU_ASSERT_TRUE(st.tombstones_dropped > 0);
    n = read_all(l, got, MAXOFF);
    for (int k = 0; k < NKEYS; k++)
        latest_clean[k] = -1;
    for (int o = 0; o < active2; o++)
        latest_clean[M.key[o]] = o;
    j = 0;
    for (int o = 0; o < M.n; o++) {
        bool expect = o >= active2 || (latest_clean[M.key[o]] == o && M.ver[o] >= 0);
        if (!expect)
            continue;
        CU_ASSERT_FATAL(j < n);
        CU_ASSERT_EQUAL(got[j].off, o);
        CU_ASSERT_EQUAL(got[j].ver, M.ver[o]);
        if (got[j].off != o)
            break;
        j++;
    }
    CU_ASSERT_EQUAL(j, n);
    sesp_log_close(l);
    rm_rf();
}

static void test_tombstone_retention(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log *l = open_log(300);
    /* key-0 written then deleted, then filler on other keys to close segments. */
    put_batch(l, 1, 0, 1, 0, false, 100);
    put_batch(l, 1, 0, 1, 0, true, 101);
    for (int i = 0; i < 40; i++)
        put_batch(l, 2, 1 + i % 5, 1, 0, false, 200 + i);
    sesp_log_clean_stats st;
    CU_ASSERT_EQUAL(sesp_log_clean(l, 10000, &st), 1);
    static rec_out got[MAXOFF];
    int n = read_all(l, got, MAXOFF);
    CU_ASSERT_TRUE(n > 0);
    CU_ASSERT_EQUAL(got[0].off, 1);         /* the tombstone stays for now */
    CU_ASSERT_EQUAL(got[0].ver, -1);
    /* Before the horizon (first pass at 10000 + 1000): still there. */
    CU_ASSERT_EQUAL(sesp_log_clean(l, 10999, &st), 1);
    n = read_all(l, got, MAXOFF);
    CU_ASSERT_EQUAL(got[0].off, 1);
    CU_ASSERT_EQUAL(st.tombstones_dropped, 0);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 11000, &st), 1);
    CU_ASSERT_EQUAL(st.tombstones_dropped, 1);
    n = read_all(l, got, MAXOFF);
    for (int i = 0; i < n; i++)
        CU_ASSERT_NOT_EQUAL(got[i].key, 0);
    sesp_log_close(l);
    rm_rf();
}

static void list_ext(const char *ext, int *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), m = strlen(ext);
        *count += n > m && strcmp(e->d_name + n - m, ext) == 0;
    }
    closedir(d);
}

static void crash_case(int point)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log *l = open_log(2000);
    fill(l, 300, 1000);
    int64_t active_base = first_uncleaned(l);
    static rec_out before[MAXOFF];
    int nb = read_all(l, before, MAXOFF);
    CU_ASSERT_EQUAL(nb, M.n);
    sesp_log_cleaner_crash_point = point;
    CU_ASSERT_EQUAL(sesp_log_clean(l, 5000, NULL), SESP_ERR_STATE);
    sesp_log_cleaner_crash_point = 0;
    int c;
    list_ext(point == 1 ? ".cleaned" : ".swap", &c);
    CU_ASSERT_EQUAL(c, 1);
    sesp_log_close(l);
    l = open_log(2000);
    list_ext(".cleaned", &c);
    CU_ASSERT_EQUAL(c, 0);
    list_ext(".swap", &c);
    CU_ASSERT_EQUAL(c, 0);
    static rec_out got[MAXOFF];
    int n = read_all(l, got, MAXOFF);
    if (point == 1) {
        CU_ASSERT_EQUAL(n, nb);     /* discarded: the original log */
    } else {
        /* Completed: the first group is compacted, the rest untouched; no
         * latest value lost either way. */
        CU_ASSERT_TRUE(n < nb);
    }
    int latest[NKEYS];
    for (int k = 0; k < NKEYS; k++)
        latest[k] = -1;
    for (int i = 0; i < n; i++)
        latest[got[i].key] = got[i].ver;
    for (int k = 0; k < NKEYS; k++) {
        int want = -2;
        for (int o = 0; o < M.n; o++)
            if (M.key[o] == k)
                want = M.ver[o];
        if (want != -2) {
            CU_ASSERT_EQUAL(latest[k], want);
        }
    }
    for (int o = (int)active_base; o < M.n; o++) {
        bool found = false;
        for (int i = 0; i < n; i++)
            found |= got[i].off == o;
        CU_ASSERT_TRUE(found);
    }
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), M.n);
    /* The log keeps working: append and a full clean. */
    put_batch(l, 3, 0, 1, 0, false, 9000);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 9000, NULL), 1);
    sesp_log_close(l);
    rm_rf();
}

static void test_crash_cleaned(void) { crash_case(1); }
static void test_crash_swap(void) { crash_case(2); }

/* Readers race the cleaner thread: every slice is whole valid batches and
 * offsets only increase. */
static atomic_bool stop_readers;
static sesp_log *race_log;

static void *reader(void *arg)
{
    (void)arg;
    static _Thread_local rec_out got[MAXOFF];
    while (!atomic_load(&stop_readers))
        read_all(race_log, got, MAXOFF);
    return NULL;
}

static void test_background_and_readers(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log_cleaner_config cc;
    sesp_log_cleaner_config_defaults(&cc);
    cc.backoff_ms = 20;
    CU_ASSERT_EQUAL_FATAL(sesp_log_cleaner_start(&cc), 0);
    CU_ASSERT_EQUAL(sesp_log_cleaner_start(&cc), SESP_ERR_STATE);
    sesp_log *l = open_log(2000);
    race_log = l;
    atomic_store(&stop_readers, false);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, reader, NULL);
    for (int round = 0; round < 6; round++) {
        fill(l, 150, 1000 + round * 1000);
        usleep(100000);
    }
    /* Wait for the cleaner to bring the dirty ratio down. */
    int64_t now = 1000000;
    for (int i = 0; i < 100 && sesp_log_dirty_ratio(l, now) >= 0.5; i++)
        usleep(50000);
    CU_ASSERT_TRUE(sesp_log_dirty_ratio(l, now) < 0.5);
    atomic_store(&stop_readers, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    /* The latest value of every key is still readable. */
    static rec_out got[MAXOFF];
    int n = read_all(l, got, MAXOFF);
    CU_ASSERT_TRUE(n < M.n);
    int latest[NKEYS];
    for (int k = 0; k < NKEYS; k++)
        latest[k] = -3;
    for (int i = 0; i < n; i++)
        latest[got[i].key] = got[i].ver;
    for (int k = 0; k < NKEYS; k++) {
        int last = -3;
        for (int q = 0; q < M.n; q++)
            if (M.key[q] == k)
                last = M.ver[q];
        if (last == -1) {
            CU_ASSERT_TRUE(latest[k] == -1 || latest[k] == -3);     /* tombstone, maybe gone */
        } else {
            CU_ASSERT_EQUAL(latest[k], last);
        }
    }
    sesp_log_close(l);
    sesp_log_cleaner_stop();
    rm_rf();
}

/* Cleaning keeps producer fields: a retry of a producer's last batch after
 * compaction and reopen (snapshots removed) is still a duplicate. */
static void test_idempotence_survives(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log *l = open_log(1500);
    sesp_log_append_info info;
    int64_t last_base = -1;
    for (int i = 0; i < 60; i++) {
        sesp_batch_record_in in[2];
        memset(in, 0, sizeof in);
        for (int r = 0; r < 2; r++) {
            in[r].key = "same";
            in[r].key_len = 4;
            in[r].value = "v";
            in[r].value_len = 1;
            in[r].timestamp = 100 + i;
        }
        sesp_batch_build_opts o;
        sesp_batch_build_opts_init(&o);
        o.producer_id = 42;
        o.producer_epoch = 0;
        o.base_sequence = i * 2;
        uint8_t *b;
        size_t len;
        CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, in, 2, &b, &len), 0);
        CU_ASSERT_EQUAL(sesp_log_append(l, b, len, 100, &info), 0);
        last_base = info.base_offset;
        free(b);
    }
    int crc = sesp_log_clean(l, 1000, NULL);
    CU_ASSERT_EQUAL(crc, 1);
    if (crc != 1)
        fprintf(stderr, "clean: %d segs %d\n", crc, sesp_log_segment_count(l));
    sesp_log_close(l);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -f %s/*.snapshot %s/.sesp_cleanshutdown", dir, dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    l = open_log(1500);
    sesp_batch_record_in in[2];
    memset(in, 0, sizeof in);
    for (int r = 0; r < 2; r++) {
        in[r].key = "same";
        in[r].key_len = 4;
        in[r].value = "v";
        in[r].value_len = 1;
        in[r].timestamp = 159;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.producer_id = 42;
    o.producer_epoch = 0;
    o.base_sequence = 118;
    uint8_t *b;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, in, 2, &b, &len), 0);
    CU_ASSERT_EQUAL(sesp_log_append(l, b, len, 100, &info), 0);
    CU_ASSERT_TRUE(info.duplicate);
    CU_ASSERT_EQUAL(info.base_offset, last_base);
    free(b);
    sesp_log_close(l);
    rm_rf();
}


static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

/* Every batch header in the segment files, in order, each batch fully
 * validated (read from disk: reads skip batches with no records). */
static int raw_batches(sesp_log *l, sesp_batch_header *out, int max)
{
    (void)l;
    static char names[512][32];
    int nn = 0, n = 0;
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".log") == 0 && nn < 512)
            snprintf(names[nn++], sizeof names[0], "%.24s", e->d_name);
    closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp_name);
    for (int i = 0; i < nn; i++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%.31s", dir, names[i]);
        FILE *f = fopen(p, "rb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc((size_t)sz + 1);
        CU_ASSERT_EQUAL_FATAL(fread(buf, 1, (size_t)sz, f), (size_t)sz);
        fclose(f);
        for (long pos = 0; pos < sz;) {
            sesp_batch_header h;
            CU_ASSERT_EQUAL_FATAL(sesp_batch_validate(buf + pos, (size_t)(sz - pos), 0, &h), 0);
            CU_ASSERT_FATAL(n < max);
            out[n++] = h;
            pos += (long)sesp_batch_size(&h);
        }
        free(buf);
    }
    return n;
}

/* The first batch a read at offset returns (base_offset -1 when none). */
static sesp_batch_header first_read(sesp_log *l, int64_t offset)
{
    sesp_batch_header h;
    memset(&h, 0, sizeof h);
    h.base_offset = -1;
    sesp_log_slice s;
    CU_ASSERT_EQUAL_FATAL(sesp_log_read(l, offset, 1 << 20, true, &s), 0);
    if (s.fd < 0)
        return h;
    uint8_t *buf = malloc((size_t)s.length);
    CU_ASSERT_EQUAL_FATAL(pread(s.fd, buf, (size_t)s.length, s.file_pos), s.length);
    close(s.fd);
    CU_ASSERT_EQUAL(sesp_batch_validate(buf, (size_t)s.length, 0, &h), 0);
    free(buf);
    return h;
}

static const sesp_batch_header *batch_at(const sesp_batch_header *v, int n, int64_t base)
{
    for (int i = 0; i < n; i++)
        if (v[i].base_offset == base)
            return &v[i];
    return NULL;
}

/* A retry of an idempotent batch of n records with keys k0.. (values as
 * put_batch_as wrote them at offset base). */
static int retry_batch(sesp_log *l, int64_t pid, int16_t epoch, int32_t seq, int n, int k0, int64_t base,
                       sesp_log_append_info *info)
{
    sesp_batch_record_in in[8];
    char keys[8][16], vals[8][48];
    for (int i = 0; i < n; i++) {
        memset(&in[i], 0, sizeof in[i]);
        snprintf(keys[i], sizeof keys[i], "key-%d", (k0 + i) % NKEYS);
        snprintf(vals[i], sizeof vals[i], "k%d@%lld", (k0 + i) % NKEYS, (long long)(base + i));
        in[i].key = keys[i];
        in[i].key_len = (int32_t)strlen(keys[i]);
        in[i].value = vals[i];
        in[i].value_len = (int32_t)strlen(vals[i]);
        in[i].timestamp = 5000;
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

/* Kafka keeps the batch holding a known producer's last sequence even when
 * compaction removes all of its records (an empty batch), so recovery from
 * the log alone still deduplicates that producer's retry; after the producer
 * expired the empty batch goes. */
static void test_producer_last_batch_kept_empty(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log *l = open_log(400);
    /* Producer 77 (zstd, epoch 3): keys 1,2 at offsets 0-1, its last batch. */
    put_batch_as(l, 77, 3, 0, 2, 1, 1, SESP_CODEC_ZSTD, false, 100);
    /* Producer 88: key 3 at offset 2 (seq 0), then at offset 3 (seq 1, its last). */
    put_batch_as(l, 88, 0, 0, 1, 3, 1, 0, false, 110);
    put_batch_as(l, 88, 0, 1, 1, 3, 1, 0, false, 111);
    /* Superseded: keys 1,2 by a plain write, key 3 by another producer. */
    put_batch(l, 2, 1, 1, 0, false, 120);                   /* offsets 4-5 */
    put_batch_as(l, 99, 0, 0, 1, 3, 1, 0, false, 121);      /* offset 6 */
    for (int i = 0; i < 30; i++)
        put_batch(l, 2, 5 + i % 6, 1, 0, false, 200 + i);
    CU_ASSERT_TRUE_FATAL(first_uncleaned(l) > 6);
    sesp_log_clean_stats st;
    CU_ASSERT_EQUAL(sesp_log_clean(l, 1000, &st), 1);
    static sesp_batch_header hs[4096];
    int nh = raw_batches(l, hs, 4096);
    const sesp_batch_header *h = batch_at(hs, nh, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(h->records_count, 0);
    CU_ASSERT_EQUAL(h->batch_length, SESP_BATCH_HEADER_SIZE - SESP_BATCH_LOG_OVERHEAD);
    CU_ASSERT_EQUAL(h->last_offset_delta, 1);
    CU_ASSERT_EQUAL(h->producer_id, 77);
    CU_ASSERT_EQUAL(h->producer_epoch, 3);
    CU_ASSERT_EQUAL(h->base_sequence, 0);
    CU_ASSERT_EQUAL(h->attributes, 0);      /* codec gone with the records */
    CU_ASSERT_EQUAL(h->base_timestamp, -1);
    CU_ASSERT_EQUAL(h->max_timestamp, 101);
    CU_ASSERT_PTR_NULL(batch_at(hs, nh, 2));  /* not 88's last: dropped */
    h = batch_at(hs, nh, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(h->records_count, 0);
    CU_ASSERT_EQUAL(h->producer_id, 88);
    CU_ASSERT_EQUAL(h->base_sequence, 1);
    CU_ASSERT_EQUAL(h->last_offset_delta, 0);
    h = batch_at(hs, nh, 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(h->records_count, 1);
    /* Reads step over them to the first batch with records. */
    CU_ASSERT_EQUAL(first_read(l, 0).base_offset, 4);
    CU_ASSERT_EQUAL(first_read(l, 1).base_offset, 4);
    CU_ASSERT_EQUAL(first_read(l, 3).base_offset, 4);
    CU_ASSERT_EQUAL(first_read(l, 5).base_offset, 4);
    /* Readers see only the latest values; no record below offset 4. */
    static rec_out got[MAXOFF];
    int n = read_all(l, got, MAXOFF);
    CU_ASSERT_TRUE_FATAL(n > 3);
    CU_ASSERT_EQUAL(got[0].off, 4);
    CU_ASSERT_EQUAL(got[1].off, 5);
    CU_ASSERT_EQUAL(got[2].off, 6);
    CU_ASSERT_EQUAL(got[2].key, 3);
    /* A second pass keeps the empty batches as they are. */
    CU_ASSERT_EQUAL(sesp_log_clean(l, 1001, &st), 1);
    CU_ASSERT_EQUAL(raw_batches(l, hs, 4096), nh);
    CU_ASSERT_EQUAL(batch_at(hs, nh, 0)->records_count, 0);
    /* Unclean restart without snapshots: the state comes from the log alone
     * and still recognises both producers' last batches. */
    sesp_log_close(l);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -f %s/*.snapshot %s/.sesp_cleanshutdown", dir, dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    l = open_log(400);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), M.n);
    sesp_log_append_info info;
    CU_ASSERT_EQUAL(retry_batch(l, 77, 3, 0, 2, 1, 0, &info), 0);
    CU_ASSERT_TRUE(info.duplicate);
    CU_ASSERT_EQUAL(info.base_offset, 0);
    CU_ASSERT_EQUAL(info.last_offset, 1);
    CU_ASSERT_EQUAL(retry_batch(l, 88, 0, 1, 1, 3, 3, &info), 0);
    CU_ASSERT_TRUE(info.duplicate);
    CU_ASSERT_EQUAL(info.base_offset, 3);
    CU_ASSERT_NOT_EQUAL(retry_batch(l, 88, 0, 5, 1, 3, 0, &info), 0);
    CU_ASSERT_EQUAL(info.kafka_error, SESP_LOG_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), M.n);
    /* Once the producers expired, the next pass drops their empty batches. */
    CU_ASSERT_EQUAL(sesp_log_expire_producers(l, 1000000, 1000), 3);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 2000, &st), 1);
    nh = raw_batches(l, hs, 4096);
    for (int i = 0; i < nh; i++)
        CU_ASSERT_TRUE(hs[i].records_count > 0);
    CU_ASSERT_PTR_NULL(batch_at(hs, nh, 0));
    CU_ASSERT_PTR_NULL(batch_at(hs, nh, 3));
    CU_ASSERT_PTR_NOT_NULL(batch_at(hs, nh, 6));
    static rec_out again[MAXOFF];
    CU_ASSERT_EQUAL(read_all(l, again, MAXOFF), n);
    CU_ASSERT_EQUAL(memcmp(again, got, (size_t)n * sizeof got[0]), 0);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), M.n);
    sesp_log_close(l);
    rm_rf();
}


/* When nothing but empty batches follows, a read returns them (a client
 * must see them to move its position to the end): an idempotent producer's
 * tombstone, dropped after delete.retention.ms, at the very end of the log. */
static void test_read_only_empty_batches_at_end(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log *l = open_log(400);
    for (int i = 0; i < 12; i++)
        put_batch(l, 1, i, 1, 0, false, 100 + i);
    put_batch_as(l, 55, 0, 0, 1, 13, 1, 0, true, 200);      /* tombstone of key 13 */
    int64_t tomb = M.n - 1;
    /* Roll so the tombstone's segment is closed and the active one empty. */
    sesp_log_config c;
    sesp_log_config_defaults(&c);
    c.segment_bytes = 400;
    c.compact = true;
    c.delete_retention = false;
    c.delete_retention_ms = 1000;
    c.segment_ms = 1;
    sesp_log_set_config(l, &c);
    CU_ASSERT_EQUAL(sesp_log_apply_retention(l, 1000000), 0);
    c.segment_ms = 604800000;
    sesp_log_set_config(l, &c);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 10000, NULL), 1);        /* horizon 11000 */
    CU_ASSERT_EQUAL(sesp_log_clean(l, 11000, NULL), 1);        /* dropped: an empty batch stays */
    static sesp_batch_header hs[256];
    int nh = raw_batches(l, hs, 256);
    const sesp_batch_header *h = batch_at(hs, nh, tomb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_EQUAL(h->records_count, 0);
    CU_ASSERT_EQUAL(hs[nh - 1].base_offset, tomb);
    sesp_batch_header f = first_read(l, tomb);
    CU_ASSERT_EQUAL(f.base_offset, tomb);
    CU_ASSERT_EQUAL(f.records_count, 0);
    CU_ASSERT_EQUAL(first_read(l, tomb - 1).base_offset, tomb - 1);
    CU_ASSERT_EQUAL(sesp_log_end_offset(l), tomb + 1);
    sesp_log_close(l);
    rm_rf();
}

/* ---- when a log gets cleaned: min.cleanable.dirty.ratio, min/max.compaction.lag.ms ---- */

static sesp_log_config lag_cfg(double min_ratio, int64_t min_lag, int64_t max_lag)
{
    sesp_log_config c;
    sesp_log_config_defaults(&c);
    c.segment_bytes = 2000;
    c.compact = true;
    c.delete_retention = false;
    c.delete_retention_ms = 1000;
    c.min_cleanable_dirty_ratio = min_ratio;
    c.min_compaction_lag_ms = min_lag;
    c.max_compaction_lag_ms = max_lag;
    return c;
}

static sesp_log *open_cfg(const sesp_log_config *c)
{
    sesp_log *l = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, c, &l), 0);
    return l;
}

/* Closes the active segment now (segment.ms = 1 for one retention check). */
static void roll_now(sesp_log *l, sesp_log_config c)
{
    sesp_log_config r = c;
    r.segment_ms = 1;
    sesp_log_set_config(l, &r);
    CU_ASSERT_EQUAL(sesp_log_apply_retention(l, INT64_MAX / 4), 0);
    sesp_log_set_config(l, &c);
}

/* Base of the segment holding offset (from the file names). */
static int64_t segment_of(int64_t offset)
{
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    int64_t best = -1;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".log") == 0) {
            int64_t b = atoll(e->d_name);
            if (b <= offset && b > best)
                best = b;
        }
    closedir(d);
    return best;
}

/* The log holds, below upto, exactly the latest record of each key among
 * [0, upto) (tombstones kept: one pass gives them a horizon), and every
 * record from upto on, all at their original offsets. */
static void check_cleaned_prefix(sesp_log *l, int64_t upto)
{
    static rec_out got[MAXOFF];
    int n = read_all(l, got, MAXOFF);
    int latest[NKEYS];
    for (int k = 0; k < NKEYS; k++)
        latest[k] = -1;
    for (int o = 0; o < upto; o++)
        latest[M.key[o]] = o;
    int j = 0;
    for (int o = 0; o < M.n; o++) {
        if (o < upto && latest[M.key[o]] != o)
            continue;
        CU_ASSERT_FATAL(j < n);
        CU_ASSERT_EQUAL(got[j].off, o);
        CU_ASSERT_EQUAL(got[j].ver, M.ver[o]);
        if (got[j].off != o)
            return;
        j++;
    }
    CU_ASSERT_EQUAL(j, n);
}

/* A log whose dirty ratio is at or below min.cleanable.dirty.ratio is not
 * due for cleaning; above it, it is (Kafka: cleanableRatio > minCleanableRatio). */
static void test_min_cleanable_dirty_ratio(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log_config c = lag_cfg(0.5, 0, INT64_MAX);
    sesp_log *l = open_cfg(&c);
    fill(l, 300, 1000);
    roll_now(l, c);
    CU_ASSERT_TRUE(sesp_log_cleaner_due(l, 5000));         /* never cleaned: all dirty */
    CU_ASSERT_EQUAL(sesp_log_clean(l, 5000, NULL), 1);
    CU_ASSERT_EQUAL(sesp_log_dirty_ratio(l, 5000), 0.0);
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 5000));        /* all clean */
    /* A little new data: dirty, but less than half of the log. */
    put_batch(l, 1, 3, 1, 0, false, 3000);
    roll_now(l, c);
    double r = sesp_log_dirty_ratio(l, 5000);
    CU_ASSERT_TRUE_FATAL(r > 0.0 && r < 0.5);
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 5000));
    /* Exactly at the ratio: still not due; just below it: due. */
    c.min_cleanable_dirty_ratio = r;
    sesp_log_set_config(l, &c);
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 5000));
    c.min_cleanable_dirty_ratio = r - 0.01;
    sesp_log_set_config(l, &c);
    CU_ASSERT_TRUE(sesp_log_cleaner_due(l, 5000));
    /* Back at 0.5: more dirty data takes the log above it. */
    c.min_cleanable_dirty_ratio = 0.5;
    sesp_log_set_config(l, &c);
    fill(l, 200, 4000);
    roll_now(l, c);
    CU_ASSERT_TRUE(sesp_log_dirty_ratio(l, 5000) > 0.5);
    CU_ASSERT_TRUE(sesp_log_cleaner_due(l, 5000));
    /* Not compacted: never due, whatever the ratio. */
    c.compact = false;
    sesp_log_set_config(l, &c);
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 5000));
    c.compact = true;
    sesp_log_set_config(l, &c);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 5000, NULL), 1);
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 5000));
    check_cleaned_prefix(l, sesp_log_end_offset(l));
    sesp_log_close(l);
    rm_rf();
}

/* min.compaction.lag.ms: a pass stops at the first dirty segment holding a
 * record newer than the lag (Kafka: its largest timestamp > now - lag), so
 * those records stay uncompacted however dirty the log is; once old enough
 * they are cleaned. */
static void test_min_compaction_lag(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log_config c = lag_cfg(0.01, 1000, INT64_MAX);
    sesp_log *l = open_cfg(&c);
    fill(l, 300, 1000);             /* record timestamps 1000 .. ~1305 */
    roll_now(l, c);
    int64_t now = 2150;             /* records after 1150 are too young */
    int first_young = 0;
    while (first_young < M.n && M.ts[first_young] <= now - 1000)
        first_young++;
    int64_t boundary = segment_of(first_young);
    CU_ASSERT_TRUE_FATAL(boundary > 0);
    CU_ASSERT_TRUE_FATAL(boundary < sesp_log_end_offset(l) - 200);
    CU_ASSERT_TRUE(sesp_log_cleaner_due(l, now));
    sesp_log_clean_stats st;
    CU_ASSERT_EQUAL(sesp_log_clean(l, now, &st), 1);
    CU_ASSERT_TRUE(st.records_dropped > 0);
    check_cleaned_prefix(l, boundary);
    /* The young segments are dirty but not cleanable yet: nothing is due. */
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, now));
    CU_ASSERT_EQUAL(sesp_log_clean(l, now, &st), 1);
    check_cleaned_prefix(l, boundary);
    /* Once the last record is older than the lag, everything is cleaned. */
    int64_t later = M.ts[M.n - 1] + 1000;
    for (int o = 0; o < M.n; o++)
        if (M.ts[o] + 1000 > later)
            later = M.ts[o] + 1000;
    CU_ASSERT_TRUE(sesp_log_cleaner_due(l, later));
    CU_ASSERT_EQUAL(sesp_log_clean(l, later, &st), 1);
    check_cleaned_prefix(l, sesp_log_end_offset(l));
    sesp_log_close(l);
    rm_rf();
}

/* Only dirty segments hold a pass back (Kafka looks at dirtyNonActiveSegments):
 * an already cleaned segment whose records carry a future timestamp does not
 * keep older dirty segments after it from being cleaned. */
static void test_min_lag_ignores_clean_segments(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log_config c = lag_cfg(0.01, 0, INT64_MAX);
    sesp_log *l = open_cfg(&c);
    fill(l, 60, 1000);
    put_batch(l, 5, 0, 1, 0, false, 1000000);          /* latest of keys 0-4, timestamps far ahead */
    roll_now(l, c);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 5000, NULL), 1);
    int64_t cleaned = sesp_log_end_offset(l);
    c.min_compaction_lag_ms = 1000;
    sesp_log_set_config(l, &c);
    fill(l, 150, 2000);
    roll_now(l, c);
    CU_ASSERT_TRUE(sesp_log_cleaner_due(l, 5000));
    sesp_log_clean_stats st;
    CU_ASSERT_EQUAL(sesp_log_clean(l, 5000, &st), 1);
    CU_ASSERT_TRUE(st.records_dropped > 0);
    CU_ASSERT_TRUE(cleaned < sesp_log_end_offset(l));
    check_cleaned_prefix(l, sesp_log_end_offset(l));
    sesp_log_close(l);
    rm_rf();
}

/* max.compaction.lag.ms: a log below min.cleanable.dirty.ratio is due anyway
 * once a dirty segment's first batch is older than the lag (Kafka measures
 * from the first batch's timestamp, not the segment's largest). */
static void test_max_compaction_lag(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log_config c = lag_cfg(0.95, 0, 1000);
    sesp_log *l = open_cfg(&c);
    /* A clean part first (cleaned while max lag is off). */
    c.max_compaction_lag_ms = INT64_MAX;
    sesp_log_set_config(l, &c);
    fill(l, 300, 1000);
    roll_now(l, c);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 5000, NULL), 1);
    c.max_compaction_lag_ms = 1000;
    sesp_log_set_config(l, &c);
    /* Then one dirty segment whose batches span 10000 .. 10000 + 50 * k. */
    int64_t clean_end = sesp_log_end_offset(l);
    int b = 0;
    while (sesp_log_segment_count(l) < 2 || segment_of(M.n) == segment_of(clean_end))
        put_batch(l, 1 + b % 7, b * 3, 1, 0, false, 10000 + 50 * b), b++;
    roll_now(l, c);
    int64_t last_ts = 0;
    for (int o = (int)clean_end; o < M.n; o++)
        if (M.ts[o] > last_ts)
            last_ts = M.ts[o];
    CU_ASSERT_TRUE_FATAL(last_ts > 10000 + 200);
    double r = sesp_log_dirty_ratio(l, 11001);
    CU_ASSERT_TRUE_FATAL(r > 0.0 && r < 0.95);
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 10500));       /* first batch 10000: not yet */
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 11000));       /* exactly at the lag */
    CU_ASSERT_TRUE(sesp_log_cleaner_due(l, 11001));        /* past it, though later batches are younger */
    CU_ASSERT_TRUE(11001 - last_ts < 1000);
    /* Without a max lag the same log is not due. */
    c.max_compaction_lag_ms = INT64_MAX;
    sesp_log_set_config(l, &c);
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 1000000000));
    c.max_compaction_lag_ms = 1000;
    sesp_log_set_config(l, &c);
    CU_ASSERT_EQUAL(sesp_log_clean(l, 11001, NULL), 1);
    CU_ASSERT_FALSE(sesp_log_cleaner_due(l, 1000000000));  /* clean again */
    check_cleaned_prefix(l, sesp_log_end_offset(l));
    sesp_log_close(l);
    rm_rf();
}

/* log.cleaner.io.max.bytes.per.second: a pass's reads and writes are held
 * to the budget (the thread's config applies to every pass). */
static void test_throttle(void)
{
    fresh_dir();
    memset(&M, 0, sizeof M);
    sesp_log *l = open_log(2000);
    fill(l, 400, 1000);
    sesp_log_cleaner_config cc;
    sesp_log_cleaner_config_defaults(&cc);
    cc.io_max_bytes_per_second = 256 << 10;
    CU_ASSERT_EQUAL_FATAL(sesp_log_cleaner_start(&cc), 0);
    sesp_log_cleaner_stop();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sesp_log_clean_stats st;
    CU_ASSERT_EQUAL(sesp_log_clean(l, 5000, &st), 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double budget = (double)st.bytes_read / (double)cc.io_max_bytes_per_second;
    CU_ASSERT_TRUE(budget > 0.2);
    CU_ASSERT_TRUE(secs >= budget * 0.9);
    if (secs < budget * 0.9)
        fprintf(stderr, "throttle: %.3f s for %lld bytes read, budget %.3f s\n", secs, (long long)st.bytes_read, budget);
    /* Back to the defaults for the other tests. */
    sesp_log_cleaner_config_defaults(&cc);
    CU_ASSERT_EQUAL_FATAL(sesp_log_cleaner_start(&cc), 0);
    sesp_log_cleaner_stop();
    sesp_log_close(l);
    rm_rf();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("log compaction", NULL, NULL);
    CU_add_test(s, "compaction against a model", test_compact_model);
    CU_add_test(s, "tombstone retention", test_tombstone_retention);
    CU_add_test(s, "crash after .cleaned", test_crash_cleaned);
    CU_add_test(s, "crash after .swap", test_crash_swap);
    CU_add_test(s, "background cleaner with readers", test_background_and_readers);
    CU_add_test(s, "idempotence survives compaction", test_idempotence_survives);
    CU_add_test(s, "a producer's last batch stays empty until it expires", test_producer_last_batch_kept_empty);
    CU_add_test(s, "reads return empty batches only at the end", test_read_only_empty_batches_at_end);
    CU_add_test(s, "min.cleanable.dirty.ratio", test_min_cleanable_dirty_ratio);
    CU_add_test(s, "min.compaction.lag.ms", test_min_compaction_lag);
    CU_add_test(s, "min.compaction.lag.ms ignores cleaned segments", test_min_lag_ignores_clean_segments);
    CU_add_test(s, "max.compaction.lag.ms", test_max_compaction_lag);
    CU_add_test(s, "io throttle", test_throttle);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int fails = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    (void)check_against_model;
    return fails ? 1 : 0;
}
