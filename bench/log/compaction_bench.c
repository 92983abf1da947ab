/*
 * Log compaction benchmark, two parts.
 * (1) Cleaner throughput, linking broker/log directly: fills a log with
 *     cleanup.policy=compact and small segments with --mib MiB of 1 KiB
 *     updates over --keys keys, then times sesp_log_clean passes (unthrottled)
 *     -> MB/s of log cleaned (closed segment bytes the pass covered / its
 *     time; a pass reads the dirty part twice, map then copy).  The
 *     reference in the same run is a cp-like sequential read+write of the
 *     same segment files into one file on the same disk, fsynced, measured
 *     before and after the passes.
 * (2) Produce latency through a broker process (this build's broker main,
 *     forked, with the cleaner thread made sure of; or --sesp PATH) with librdkafka at a
 *     fixed rate (--rate MB/s, 1 KiB keyed records, acks=1) on a compacted
 *     topic whose cleaner runs meanwhile, beside the same run on a topic with
 *     cleanup.policy=delete; the partition directory's size at the end
 *     shows whether the broker's cleaner did run.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/log/batch.h"
#include "broker/log/cleaner.h"
#include "broker/log/log.h"
#include "common/err.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- options ---- */

static double opt_mib = 1024, opt_segment_mib = 16, opt_rate = 20, opt_seconds = 15, opt_prefill_mib = 128;
static int opt_keys = 100000, opt_latency_keys = 10000, opt_value = 1024;
static double opt_cleaner_mibps = -1;
static const char *opt_dir = "/tmp";

/* ---- part 1: sesp_log_clean against a copy ---- */

/* xorshift: a cheap, reproducible key sequence. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill_value(char *v, int n, uint64_t seed)
{
    /* Not all-zero so a filesystem cannot cheat; not random to keep it cheap. */
    for (int i = 0; i < n; i++)
        v[i] = (char)('a' + (seed + (uint64_t)i * 7) % 26);
}

/* Appends `bytes` of updates (batches of 16 records) to l. */
static int fill_log(sesp_log *l, double bytes, int64_t *records_out)
{
    enum { PER_BATCH = 16 };
    sesp_batch_record_in in[PER_BATCH];
    char keys[PER_BATCH][32];
    char *vals = malloc((size_t)PER_BATCH * (size_t)opt_value);
    int64_t records = 0;
    double done = 0;
    int rc = 0;
    while (done < bytes) {
        int64_t ts = wall_ms();
        for (int i = 0; i < PER_BATCH; i++) {
            uint64_t k = next_rand() % (uint64_t)opt_keys;
            snprintf(keys[i], sizeof keys[i], "key-%08" PRIu64, k);
            fill_value(vals + (size_t)i * (size_t)opt_value, opt_value, (uint64_t)records + (uint64_t)i);
            in[i] = (sesp_batch_record_in){keys[i], (int32_t)strlen(keys[i]), vals + (size_t)i * (size_t)opt_value,
                                           opt_value, ts, NULL, 0};
        }
        sesp_batch_build_opts o;
        sesp_batch_build_opts_init(&o);
        uint8_t *b = NULL;
        size_t len = 0;
        if ((rc = sesp_batch_build(&o, in, PER_BATCH, &b, &len)) != 0)
            break;
        sesp_log_append_info info;
        rc = sesp_log_append(l, b, len, ts, &info);
        free(b);
        if (rc)
            break;
        records += PER_BATCH;
        done += (double)len;
    }
    free(vals);
    *records_out = records;
    return rc;
}

/* The closed segment files of dir (names ending in .log), sorted. */
static int list_logs(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".log")) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                v = realloc(v, (size_t)cap * sizeof *v);
            }
            v[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    for (int i = 1; i < n; i++)             /* names are zero-padded offsets */
        for (int j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *out = v;
    return n;
}

/* cp-like reference: reads the files srcs in 1 MiB chunks and writes them
 * in sequence to dst (created), then fsync.  Returns MB/s and *bytes. */
static double copy_files(char **srcs, int n, const char *dst, int64_t *bytes)
{
    size_t chunk = 1 << 20;
    char *buf = malloc(chunk);
    int64_t total = 0;
    double t0 = now_s();
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || !buf) {
        free(buf);
        return -1;
    }
    for (int i = 0; i < n && total >= 0; i++) {
        int in = open(srcs[i], O_RDONLY);
        if (in < 0) {
            total = -1;
            break;
        }
        ssize_t r;
        while ((r = read(in, buf, chunk)) > 0) {
            if (write(out, buf, (size_t)r) != r) {
                total = -1;
                break;
            }
            total += r;
        }
        close(in);
    }
    if (fsync(out))
        total = -1;
    close(out);
    double dt = now_s() - t0;
    free(buf);
    *bytes = total;
    return total > 0 ? (double)total / dt / 1e6 : -1;
}

/* Bytes of the closed segments of dir: every .log but the last (active) one. */
static int64_t closed_bytes(const char *dir)
{
    char **names = NULL;
    int n = list_logs(dir, &names);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        char p[1200];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        if (i < n - 1 && stat(p, &sb) == 0)
            total += sb.st_size;
        free(names[i]);
    }
    free(names);
    return total;
}

/* The reference for a pass: its closed segments copied into dst. */
static double copy_closed(const char *dir, const char *dst, int64_t *bytes)
{
    char **names = NULL;
    int n = list_logs(dir, &names);
    if (n < 1)
        return -1;
    char **srcs = calloc((size_t)n, sizeof *srcs);
    for (int i = 0; i < n; i++) {
        srcs[i] = malloc(strlen(dir) + strlen(names[i]) + 2);
        sprintf(srcs[i], "%s/%s", dir, names[i]);
    }
    double r = copy_files(srcs, n - 1, dst, bytes);
    for (int i = 0; i < n; i++) {
        free(srcs[i]);
        free(names[i]);
    }
    free(srcs);
    free(names);
    return r;
}

static int run_cleaner_bench(void)
{
    char root[600], dir[700];
    snprintf(root, sizeof root, "%s/sesp-bench-compact.XXXXXX", opt_dir);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/c-0", root);
    /* The cleaner's byte budget is process-wide, set by the thread's config:
     * start and stop the (idle) thread once to clear it for direct passes. */
    sesp_log_cleaner_config cc;
    sesp_log_cleaner_config_defaults(&cc);
    int64_t default_budget = cc.io_max_bytes_per_second;
    cc.io_max_bytes_per_second = 0;
    if (sesp_log_cleaner_start(&cc) == 0)
        sesp_log_cleaner_stop();

    sesp_log_config c;
    sesp_log_config_defaults(&c);
    c.segment_bytes = (int64_t)(opt_segment_mib * 1024 * 1024);
    c.compact = true;
    c.delete_retention = false;
    sesp_log *l = NULL;
    int rc = sesp_log_open(dir, &c, &l);
    if (rc) {
        fprintf(stderr, "sesp_log_open: %s\n", sesp_strerror(rc));
        return 1;
    }
    int status = 1;
    int64_t records = 0;
    double t0 = now_s();
    if ((rc = fill_log(l, opt_mib * 1024 * 1024, &records)) != 0 || (rc = sesp_log_flush(l)) != 0) {
        fprintf(stderr, "fill: %s\n", sesp_strerror(rc));
        goto out;
    }
    double fill_s = now_s() - t0;
    int64_t size0 = sesp_log_size_bytes(l);
    int nseg0 = sesp_log_segment_count(l);
    printf("part 1: log of %.0f MiB in %d segments of %.0f MiB: %" PRId64 " records of %d B over %d keys"
           " (filled at %.0f MB/s through sesp_log_append)\n",
           (double)size0 / 1048576, nseg0, opt_segment_mib, records, opt_value, opt_keys,
           (double)size0 / fill_s / 1e6);
    fflush(stdout);
    /* Reference before: the closed segments (what a pass reads) into one
     * file; after: that file into another (the segments are gone by then). */
    char copy1[720], copy2[720];
    snprintf(copy1, sizeof copy1, "%s/copy-1.bin", root);
    snprintf(copy2, sizeof copy2, "%s/copy-2.bin", root);
    int64_t copied = 0, copied2 = 0;
    double ref1 = copy_closed(dir, copy1, &copied);

    sesp_log_clean_stats st;
    int64_t in1 = closed_bytes(dir);
    t0 = now_s();
    rc = sesp_log_clean(l, wall_ms(), &st);
    double pass1_s = now_s() - t0;
    if (rc != 1) {
        fprintf(stderr, "pass 1: %d %s\n", rc, rc < 0 ? sesp_strerror(rc) : "nothing cleaned");
        goto out;
    }
    int64_t size1 = sesp_log_size_bytes(l);
    double mbps1 = (double)in1 / pass1_s / 1e6;
    printf("pass 1 (all dirty): %.0f MiB of closed segments; read %.0f MiB, wrote %.1f MiB, %d -> %d segments, kept %" PRId64
           " dropped %" PRId64 " records, log %.0f -> %.0f MiB, %.2f s\n",
           (double)in1 / 1048576, (double)st.bytes_read / 1048576, (double)st.bytes_written / 1048576,
           st.segments_in, st.segments_out, st.records_kept, st.records_dropped, (double)size0 / 1048576, (double)size1 / 1048576, pass1_s);

    /* Pass 2: a quarter of the first fill again on top of the clean part. */
    rc = fill_log(l, opt_mib * 1024 * 1024 / 4, &records);
    if (!rc)
        rc = sesp_log_flush(l);
    if (rc) {
        fprintf(stderr, "refill: %s\n", sesp_strerror(rc));
        goto out;
    }
    sesp_log_clean_stats st2;
    int64_t in2 = closed_bytes(dir), copied3 = 0;
    double ref3 = copy_closed(dir, copy2, &copied3);
    unlink(copy2);
    t0 = now_s();
    rc = sesp_log_clean(l, wall_ms(), &st2);
    double pass2_s = now_s() - t0;
    if (rc != 1) {
        fprintf(stderr, "pass 2: %d\n", rc);
        goto out;
    }
    double mbps2 = (double)in2 / pass2_s / 1e6;
    printf("pass 2 (clean head + %.0f MiB dirty): %.0f MiB of closed segments; read %.0f MiB, wrote %.1f MiB, %d -> %d segments, %.2f s\n",
           opt_mib / 4, (double)in2 / 1048576, (double)st2.bytes_read / 1048576, (double)st2.bytes_written / 1048576, st2.segments_in,
           st2.segments_out, pass2_s);
    char *c1 = copy1;
    double ref2 = copy_files(&c1, 1, copy2, &copied2);
    unlink(copy1);
    unlink(copy2);
    if (ref1 <= 0 || ref2 <= 0 || copied2 != copied) {
        fprintf(stderr, "reference copy failed\n");
        goto out;
    }
    double ref = (ref1 + ref2) / 2;
    printf("reference: sequential read+write copy of the same %.0f MiB with fsync, same disk: %.0f MB/s before the"
           " passes, %.0f MB/s after (mean %.0f)\n", (double)copied / 1048576, ref1, ref2, ref);
    printf("cleaner pass 1: %.0f MB/s of log cleaned = %.2fx the copy (mean of before and after)\n", mbps1, mbps1 / ref);
    printf("cleaner pass 2: %.0f MB/s of log cleaned = %.2fx its own copy reference (%.0f MiB at %.0f MB/s just"
           " before it)\n", mbps2, mbps2 / ref3, (double)copied3 / 1048576, ref3);
    printf("(the broker's cleaner thread is capped at log.cleaner.io.max.bytes.per.second, default %.0f MiB/s"
           " of reads+writes)\n", (double)default_budget / 1048576);
    fflush(stdout);
    status = 0;
out:
    sesp_log_close(l);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return status;
}

/* ---- part 2: produce latency through a broker ---- */

static pid_t broker_pid = -1;
static const char *bootstrap;
static char broker_dir[600];

static int wait_port(int port)
{
    for (int i = 0; i < 200; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (ok)
            return 0;
        usleep(50000);
    }
    return -1;
}

static int child_port;

/* In the forked broker: once it listens, make sure the cleaner thread runs
 * (SESP_ERR_STATE = broker_main already started it). */
static void *start_cleaner_when_up(void *arg)
{
    (void)arg;
    if (wait_port(child_port) == 0) {
        sesp_log_cleaner_config cc;
        sesp_log_cleaner_config_defaults(&cc);
        if (opt_cleaner_mibps >= 0)
            cc.io_max_bytes_per_second = (int64_t)(opt_cleaner_mibps * 1048576);
        int rc = sesp_log_cleaner_start(&cc);
        fprintf(stderr, "compaction bench: cleaner thread %s\n",
                rc == 0 ? "started by the bench (broker_main did not)" : rc == SESP_ERR_STATE ? "already running" : "failed");
    }
    return NULL;
}

/* bin == NULL: fork and run this build's sesp_broker_main in the child, with
 * the cleaner thread guaranteed; else exec bin. */
static int spawn_broker(const char *bin, int port, const char *dir)
{
    char l[128], d[700];
    snprintf(l, sizeof l, "listeners=PLAINTEXT://127.0.0.1:%d", port);
    snprintf(d, sizeof d, "log.dirs=%s", dir);
    child_port = port;
    broker_pid = fork();
    if (broker_pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        if (!bin) {
            char *argv[] = {"broker", "--set", l, "--set", d, NULL};
            pthread_t t;
            pthread_create(&t, NULL, start_cleaner_when_up, NULL);
            pthread_detach(t);
            _exit(sesp_broker_main(5, argv));
        }
        execl(bin, bin, "broker", "--set", l, "--set", d, (char *)NULL);
        _exit(127);
    }
    return wait_port(port);
}

static void create_topic(const char *topic, const char *policy)
{
    char err[512], seg[32];
    snprintf(seg, sizeof seg, "%lld", (long long)(opt_segment_mib * 1024 * 1024));
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "admin: %s\n", err);
        exit(1);
    }
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, err, sizeof err);
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", policy);
    rd_kafka_NewTopic_set_config(nt, "segment.bytes", seg);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **res =
        ev ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt) : NULL;
    if (!ev || rd_kafka_event_error(ev) || cnt != 1 || rd_kafka_topic_result_error(res[0])) {
        fprintf(stderr, "CreateTopics %s failed: %s\n", topic,
                !ev ? "timeout" : rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev)
                                                            : cnt ? rd_kafka_topic_result_error_string(res[0]) : "?");
        exit(1);
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
}

/* Deletes the topic after its run: the one cleaner thread then has no
 * leftover pass to finish for it during the next run. */
static void delete_topic(const char *topic)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        return;
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (!ev || rd_kafka_event_error(ev))
        fprintf(stderr, "DeleteTopics %s: %s\n", topic, ev ? rd_kafka_event_error_string(ev) : "timeout");
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_destroy(rk);
}

typedef struct samples {
    int64_t *v;
    size_t n, cap;
} samples;

static samples lat;
static int64_t delivered, failed;
static bool record_latency;
static int cleaned_runs;

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(samples *s, double p)
{
    if (!s->n)
        return -1;
    qsort(s->v, s->n, sizeof *s->v, cmp64);
    size_t i = (size_t)(p / 100.0 * (double)(s->n - 1));
    return (double)s->v[i] / 1e6;
}

/* Delivery reports run on the producing thread (rd_kafka_poll): no lock. */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        failed++;
        return;
    }
    delivered++;
    if (record_latency && m->_private) {
        if (lat.n == lat.cap) {
            lat.cap = lat.cap ? lat.cap * 2 : 65536;
            lat.v = realloc(lat.v, lat.cap * sizeof *lat.v);
        }
        lat.v[lat.n++] = now_ns() - (int64_t)(intptr_t)m->_private;
    }
}

static rd_kafka_t *make_producer(const char *linger)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", bootstrap}, {"acks", "1"}, {"linger.ms", linger}, {"enable.idempotence", "false"},
        {"queue.buffering.max.kbytes", "1048576"}, {"queue.buffering.max.messages", "2000000"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(c, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s: %s\n", kv[i][0], err);
            exit(1);
        }
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "producer: %s\n", err);
        exit(1);
    }
    return rk;
}

static void produce_keyed(rd_kafka_t *rk, const char *topic, const char *val, void *opaque)
{
    char key[32];
    snprintf(key, sizeof key, "key-%08" PRIu64, next_rand() % (uint64_t)opt_latency_keys);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE((void *)val, (size_t)opt_value), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 1);
            continue;
        }
        if (e) {
            fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
            exit(1);
        }
        return;
    }
}

/* 1 if the cleaner has a pass's output file in dir right now. */
static int cleaner_busy_in(const char *dir)
{
    DIR *d = opendir(dir);
    int busy = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while (!busy && (e = readdir(d)))
        busy = strstr(e->d_name, ".cleaned") || strstr(e->d_name, ".swap");
    closedir(d);
    return busy;
}

static int64_t dir_bytes(const char *dir, int *nlog)
{
    DIR *d = opendir(dir);
    int64_t total = 0;
    *nlog = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[1200];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        size_t len = strlen(e->d_name);
        if (len > 4 && !strcmp(e->d_name + len - 4, ".log") && stat(p, &sb) == 0) {
            total += sb.st_size;
            (*nlog)++;
        }
    }
    closedir(d);
    return total;
}

/* Pre-fills the topic (as fast as it goes), then produces at opt_rate for
 * opt_seconds recording delivery latency. */
static double run_fixed_rate(const char *topic, const char *policy)
{
    char *val = malloc((size_t)opt_value);
    fill_value(val, opt_value, 1);
    rd_kafka_t *rk = make_producer("5");
    record_latency = false;
    size_t pre = (size_t)(opt_prefill_mib * 1048576 / opt_value);
    for (size_t i = 0; i < pre; i++) {
        produce_keyed(rk, topic, val, NULL);
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    rd_kafka_destroy(rk);

    rk = make_producer("0");
    produce_keyed(rk, topic, val, NULL);    /* connection and metadata outside the window */
    rd_kafka_flush(rk, 10000);
    /* Both topics start their window with no dirty page cache left by
     * earlier work, so writeback does not favour the second one. */
    sync();
    char pdir[800];
    snprintf(pdir, sizeof pdir, "%s/%s-0", broker_dir, topic);
    int polls = 0, busy = 0;
    double next_poll = 0;
    lat.n = 0;
    delivered = failed = 0;
    record_latency = true;
    double rate = opt_rate * 1e6 / opt_value;
    double t0 = now_s();
    size_t sent = 0;
    while (now_s() - t0 < opt_seconds) {
        size_t due = (size_t)((now_s() - t0) * rate);
        while (sent < due) {
            produce_keyed(rk, topic, val, (void *)(intptr_t)now_ns());
            sent++;
        }
        rd_kafka_poll(rk, 0);
        if (now_s() - t0 >= next_poll) {
            polls++;
            busy += cleaner_busy_in(pdir);
            next_poll += 0.1;
        }
        usleep(200);
    }
    double dt = now_s() - t0;
    rd_kafka_flush(rk, 60000);
    rd_kafka_destroy(rk);
    int nlog = 0;
    int64_t on_disk = dir_bytes(pdir, &nlog);
    double produced = (opt_prefill_mib * 1048576 + (double)sent * opt_value) / 1048576;
    double p99 = pct_ms(&lat, 99);
    bool cleaned = busy > 0;
    if (cleaned && !strcmp(policy, "compact"))
        cleaned_runs++;
    printf("  %-8s achieved %.1f MB/s: produce p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms (%zu samples,"
           " %" PRId64 " failed); partition: %.0f MiB produced, %.0f MiB on disk in %d segments; cleaner busy on it in"
           " %d%% of the window\n",
           policy, (double)sent * opt_value / dt / 1e6, pct_ms(&lat, 50), p99, pct_ms(&lat, 99.9),
           pct_ms(&lat, 100), lat.n, failed, produced, (double)on_disk / 1048576, nlog, polls ? 100 * busy / polls : 0);
    fflush(stdout);
    free(val);
    return p99;
}

static int run_latency_bench(const char *bin)
{
    char boot[64];
    if (!bootstrap) {
        snprintf(broker_dir, sizeof broker_dir, "%s/sesp-bench-compact-broker.XXXXXX", opt_dir);
        if (!mkdtemp(broker_dir))
            return 1;
        int port = 20000 + getpid() % 20000;
        snprintf(boot, sizeof boot, "127.0.0.1:%d", port);
        bootstrap = boot;
        if (spawn_broker(bin, port, broker_dir)) {
            fprintf(stderr, "broker did not start\n");
            return 1;
        }
    }
    printf("part 2: produce at %.0f MB/s for %.0f s, %d B keyed records over %d keys, acks=1, linger.ms=0,"
           " after a %.0f MiB pre-fill; segment.bytes %.0f MiB\n",
           opt_rate, opt_seconds, opt_value, opt_latency_keys, opt_prefill_mib, opt_segment_mib);
    /* ABBA order (one fresh topic per run) so drift on a shared machine
     * cancels out of the ratio. */
    const char *policies[] = {"delete", "compact", "compact", "delete"};
    double sum[2] = {0, 0};
    for (int i = 0; i < 4; i++) {
        char topic[64];
        snprintf(topic, sizeof topic, "bench-%s-%d-%d", policies[i], (int)getpid(), i);
        create_topic(topic, policies[i]);
        sum[!strcmp(policies[i], "compact")] += run_fixed_rate(topic, policies[i]);
        delete_topic(topic);
    }
    printf("produce p99 on the compacted topic %.3f ms vs %.3f ms without compaction = %.2fx (mean of 2 runs each;"
           " %s)\n", sum[1] / 2, sum[0] / 2, sum[1] / sum[0],
           cleaned_runs == 2 ? "the cleaner was busy during both" : "the cleaner was NOT seen busy during every compacted run");
    fflush(stdout);
    if (broker_pid > 0) {
        kill(broker_pid, SIGTERM);
        waitpid(broker_pid, NULL, 0);
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", broker_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", broker_dir);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *bin = NULL;
    bool part1 = true, part2 = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--only-cleaner")) {
            part2 = false;
            continue;
        }
        if (!strcmp(a, "--only-latency")) {
            part1 = false;
            continue;
        }
        if (!v)
            goto usage;
        if (!strcmp(a, "--sesp"))
            bin = v;
        else if (!strcmp(a, "--bootstrap"))
            bootstrap = v;
        else if (!strcmp(a, "--dir"))
            opt_dir = v;
        else if (!strcmp(a, "--mib"))
            opt_mib = atof(v);
        else if (!strcmp(a, "--segment-mib"))
            opt_segment_mib = atof(v);
        else if (!strcmp(a, "--latency-keys"))
            opt_latency_keys = atoi(v);
        else if (!strcmp(a, "--cleaner-mibps"))
            opt_cleaner_mibps = atof(v);
        else if (!strcmp(a, "--keys"))
            opt_keys = atoi(v);
        else if (!strcmp(a, "--value"))
            opt_value = atoi(v);
        else if (!strcmp(a, "--rate"))
            opt_rate = atof(v);
        else if (!strcmp(a, "--seconds"))
            opt_seconds = atof(v);
        else if (!strcmp(a, "--prefill-mib"))
            opt_prefill_mib = atof(v);
        else
            goto usage;
        i++;
    }
    if (opt_mib <= 0 || opt_segment_mib <= 0 || opt_keys < 1 || opt_latency_keys < 1 || opt_value < 16 || opt_rate <= 0 || opt_seconds <= 0 ||
        opt_prefill_mib < 0 || (bootstrap && part2 && !getenv("SESP_BENCH_LOG_DIR")))
        goto usage;
    if (bootstrap)
        snprintf(broker_dir, sizeof broker_dir, "%s", getenv("SESP_BENCH_LOG_DIR"));
    signal(SIGPIPE, SIG_IGN);
    if (part1 && run_cleaner_bench())
        return 1;
    if (part2 && run_latency_bench(bin))
        return 1;
    return 0;
usage:
    fprintf(stderr,
            "usage: %s [--only-cleaner | --only-latency] [--sesp PATH (default: fork this build's broker) |\n"
            "          --bootstrap HOST:PORT (needs\n"
            "          SESP_BENCH_LOG_DIR=<the broker's log dir>)] [--dir /tmp] [--mib 1024] [--segment-mib 16]\n"
            "          [--keys 100000] [--value 1024] [--rate 20] [--seconds 15] [--prefill-mib 128]\n"
            "          [--latency-keys 10000] [--cleaner-mibps 32 (forked broker only)]\n",
            argv[0]);
    return 2;
}
