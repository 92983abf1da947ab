/*
 * Broker benchmark: drives a real `sesp broker` (spawned here, or any Kafka
 * broker given with --bootstrap) from this separate process with librdkafka.
 * Measures produce and consume throughput for 100 B and 1 KiB records with
 * acks=1/all and no compression/lz4, produce and end-to-end latency
 * percentiles at a fixed rate, the broker's CPU seconds per GB ingested, and,
 * in the same run, the loopback TCP bandwidth of this machine as the
 * reference every throughput is quoted against.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- loopback reference ---- */

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double loop_recv_cpu; /* CPU seconds of the receiving thread */

static void *loop_sink(void *arg)
{
    int fd = *(int *)arg;
    char *buf = malloc(1 << 20);
    double c0 = thread_cpu_s();
    while (read(fd, buf, 1 << 20) > 0)
        ;
    loop_recv_cpu = thread_cpu_s() - c0;
    free(buf);
    return NULL;
}

/* Loopback bandwidth; *recv_cpu_per_gb gets the receiver's CPU seconds per GB,
 * the least a broker pays to take the bytes in. */
static double loopback_mbps(size_t total, double *recv_cpu_per_gb)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1) || getsockname(ls, (struct sockaddr *)&a, &al))
        return -1;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a))
        return -1;
    int s = accept(ls, NULL, NULL);
    pthread_t t;
    pthread_create(&t, NULL, loop_sink, &s);
    size_t chunk = 256 * 1024, sent = 0;
    char *buf = calloc(1, chunk);
    double t0 = now_s();
    while (sent < total) {
        ssize_t n = write(c, buf, chunk);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    close(c);
    pthread_join(t, NULL);
    double dt = now_s() - t0;
    close(s);
    close(ls);
    free(buf);
    *recv_cpu_per_gb = loop_recv_cpu / ((double)sent / 1e9);
    return sent / dt / 1e6;
}

/* CPU seconds per GB to write() fresh pages of a new file in dir (then
 * removed): the least a broker pays to put received bytes into the page
 * cache.  On a VM whose free memory goes back to the host this is dominated by
 * the host faulting pages in, and it varies from run to run. */
static double pagecache_cpu_per_gb(const char *dir, size_t total)
{
    char path[600];
    snprintf(path, sizeof path, "%s/pagecache-reference", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t chunk = 1 << 20, done = 0;
    char *buf = malloc(chunk);
    memset(buf, 'x', chunk);
    double c0 = thread_cpu_s();
    while (done < total && fwrite(buf, 1, chunk, f) == chunk && fflush(f) == 0)
        done += chunk;
    double c1 = thread_cpu_s();
    fclose(f);
    unlink(path);
    free(buf);
    return done ? (c1 - c0) / ((double)done / 1e9) : -1;
}

/* ---- broker process ---- */

static pid_t broker_pid = -1;

/* CPU seconds used so far by every thread of pid.  /proc/<pid>/stat counts in
 * clock ticks (10 ms), too coarse for runs of a few hundred milliseconds of
 * broker CPU, so the nanosecond run times of /proc/<pid>/task/<tid>/schedstat
 * are summed instead (threads that exited are missed; the broker's threads
 * live as long as it does).  Falls back to stat's utime+stime. */
static double proc_cpu_s(pid_t pid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d) {
        double total = 0;
        bool ok = true;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p2[320];
            snprintf(p2, sizeof p2, "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
            FILE *f = fopen(p2, "r");
            unsigned long long ns = 0;
            if (!f)
                continue; /* the thread just exited */
            if (fscanf(f, "%llu", &ns) != 1)
                ok = false;
            fclose(f);
            total += (double)ns / 1e9;
        }
        closedir(d);
        if (ok && total > 0)
            return total;
    }
    char buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long ut = 0, st = 0;
    /* fields after ')': state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Bytes of the .log segment files of partition 0 of topic under dir, or -1:
 * shows whether the client really compressed (librdkafka before 2.10 never
 * does with a broker whose ApiVersions start Produce at v3, as KIP-896
 * allows: librdkafka#4956, KAFKA-18659). */
static double stored_bytes(const char *dir, const char *topic)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s-0", dir, topic);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 4, ".log") != 0)
            continue;
        char f[1000];
        snprintf(f, sizeof f, "%s/%s", path, e->d_name);
        struct stat st;
        if (stat(f, &st) == 0)
            total += (double)st.st_size;
    }
    closedir(d);
    return total;
}

/* CPU seconds of this (client) process: librdkafka's threads and ours. */
static double self_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int spawn_broker(const char *bin, int port, const char *dir)
{
    char l[128], d[512];
    snprintf(l, sizeof l, "listeners=PLAINTEXT://127.0.0.1:%d", port);
    snprintf(d, sizeof d, "log.dirs=%s", dir);
    broker_pid = fork();
    if (broker_pid == 0) {
        freopen("/dev/null", "w", stdout);
        execl(bin, bin, "broker", "--set", l, "--set", d, "--set", "num.network.threads=2", (char *)NULL);
        _exit(127);
    }
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

/* ---- latency samples ---- */

typedef struct {
    int64_t *v;
    size_t n, cap;
    pthread_mutex_t mu;
} samples;

static void samples_add(samples *s, int64_t x)
{
    pthread_mutex_lock(&s->mu);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = x;
    pthread_mutex_unlock(&s->mu);
}

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
    return s->v[i] / 1e6;
}

/* ---- produce / consume ---- */

static const char *bootstrap;
static int64_t delivered, failed;
static samples produce_lat;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        failed++;
        return;
    }
    delivered++;
    if (m->_private)
        samples_add(&produce_lat, now_ns() - (int64_t)(intptr_t)m->_private);
}

static rd_kafka_t *make_producer(const char *acks, const char *codec, const char *linger)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(c, "acks", acks, err, sizeof err);
    rd_kafka_conf_set(c, "compression.codec", codec, err, sizeof err);
    rd_kafka_conf_set(c, "linger.ms", linger, err, sizeof err);
    rd_kafka_conf_set(c, "batch.size", "1000000", err, sizeof err);
    rd_kafka_conf_set(c, "queue.buffering.max.kbytes", "1048576", err, sizeof err);
    rd_kafka_conf_set(c, "queue.buffering.max.messages", "2000000", err, sizeof err);
    rd_kafka_conf_set(c, "enable.idempotence", "false", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "producer: %s\n", err);
        exit(1);
    }
    return rk;
}

static void produce_one(rd_kafka_t *rk, const char *topic, const char *val, size_t len, void *opaque)
{
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                                  RD_KAFKA_V_VALUE((void *)val, len),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
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

typedef struct {
    double mbps, recs;
    double cpu_per_gb;        /* broker */
    double client_cpu_per_gb; /* this process */
} result;

static result run_produce(const char *topic, size_t size, size_t count, const char *acks, const char *codec)
{
    rd_kafka_t *rk = make_producer(acks, codec, "5");
    /* Records are different slices of a text of words drawn at random
     * from a small vocabulary: they compress about as well as log lines do
     * (lz4 roughly halves them), where one repeated value would shrink a
     * batch fifty-fold and measure nothing. */
    size_t pool_len = ((size_t)1 << 20) + size;
    char *pool = malloc(pool_len);
    char words[64][10];
    uint64_t rnd = 0x9e3779b97f4a7c15ull;
    for (int w = 0; w < 64; w++) {
        rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
        int wl = 3 + (int)(rnd >> 60) % 7;
        for (int k = 0; k < wl; k++)
            words[w][k] = (char)('a' + (rnd >> (8 + 5 * k)) % 26);
        words[w][wl] = 0;
    }
    for (size_t i = 0; i < pool_len;) {
        rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
        for (const char *c = words[rnd >> 58]; *c && i < pool_len; c++)
            pool[i++] = *c;
        if (i < pool_len)
            pool[i++] = ' ';
    }
    const char *val = pool;
    /* Topic creation (auto-created by the first produce) and the client's
     * metadata round trips are not part of the measurement: librdkafka
     * retries an unknown topic's metadata only after a back-off, which
     * otherwise adds up to a second to some runs.  The record is one more
     * for the consumer, which reads only count. */
    produce_one(rk, topic, val, size, NULL);
    rd_kafka_flush(rk, 30000);
    delivered = failed = 0;
    double cpu0 = broker_pid > 0 ? proc_cpu_s(broker_pid) : 0;
    double ccpu0 = self_cpu_s();
    double t0 = now_s();
    for (size_t i = 0; i < count; i++) {
        val = pool + (i * 4099) % (pool_len - size);
        produce_one(rk, topic, val, size, NULL);
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    double dt = now_s() - t0;
    double cpu1 = broker_pid > 0 ? proc_cpu_s(broker_pid) : 0;
    double ccpu1 = self_cpu_s();
    if (failed || delivered != (int64_t)count)
        fprintf(stderr, "warning: %" PRId64 " delivered, %" PRId64 " failed of %zu\n", delivered, failed, count);
    rd_kafka_destroy(rk);
    free(pool);
    double bytes = (double)size * (double)count;
    return (result){bytes / dt / 1e6, count / dt, broker_pid > 0 ? (cpu1 - cpu0) / (bytes / 1e9) : -1,
                    (ccpu1 - ccpu0) / (bytes / 1e9)};
}

/* Extra librdkafka properties from the environment ("k=v,k=v"), so a
 * client setting can be tried without rebuilding. */
static void apply_conf_env(rd_kafka_conf_t *c, const char *var)
{
    const char *v = getenv(var);
    if (!v)
        return;
    char *copy = strdup(v), *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char err[256], *eq = strchr(kv, '=');
        if (!eq) {
            fprintf(stderr, "%s: %s is not key=value\n", var, kv);
            exit(2);
        }
        *eq = 0;
        if (rd_kafka_conf_set(c, kv, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s: %s\n", var, err);
            exit(2);
        }
    }
    free(copy);
}

static rd_kafka_t *make_consumer(const char *topic, int64_t offset)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_conf_set(c, "group.id", "sesp-bench", err, sizeof err);
    rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof err);
    /* librdkafka's defaults otherwise (fetch.max.bytes 50 MiB,
     * max.partition.fetch.bytes 1 MiB, queue 64 MiB).  Its default
     * queued.min.messages (100,000) stops the fetcher while that many
     * records are queued and caps 100 B records at ~170,000/s.  Larger
     * fetches and queue (16 MiB, 256 MiB; used until 2026-11-28) made 1 KiB
     * consume slower: the client then parses and reads records that have
     * left its caches. */
    rd_kafka_conf_set(c, "queued.min.messages", "1000000", err, sizeof err);
    if (getenv("SESP_BENCH_CONSUMER_DEBUG")) /* librdkafka debug contexts, to stderr */
        rd_kafka_conf_set(c, "debug", getenv("SESP_BENCH_CONSUMER_DEBUG"), err, sizeof err);
    apply_conf_env(c, "SESP_BENCH_CONSUMER_CONF");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "consumer: %s\n", err);
        exit(1);
    }
    /* With the leader already known at assign, librdkafka looks the start
     * offset up at once; otherwise (2.0.2) it waits for a 500 ms timer. */
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    if (t && rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    if (t)
        rd_kafka_topic_destroy(t);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, 0)->offset = offset;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return rk;
}

static result run_consume(const char *topic, size_t count)
{
    /* The clock starts before the consumer exists: starting it at the first
     * record would leave out the whole first fetch (up to
     * max.partition.fetch.bytes, all of a small run) while counting its
     * bytes.  Connecting and the offset lookup cost a few milliseconds
     * (see make_consumer). */
    double t0 = now_s();
    double cpu0 = broker_pid > 0 ? proc_cpu_s(broker_pid) : 0;
    double ccpu0 = self_cpu_s();
    rd_kafka_t *rk = make_consumer(topic, RD_KAFKA_OFFSET_BEGINNING);
    size_t got = 0;
    double bytes = 0;
    while (got < count) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
        if (!m)
            continue;
        if (!m->err) {
            got++;
            bytes += m->len;
        }
        rd_kafka_message_destroy(m);
    }
    double dt = now_s() - t0;
    double cpu1 = broker_pid > 0 ? proc_cpu_s(broker_pid) : 0;
    double ccpu1 = self_cpu_s();
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return (result){bytes / dt / 1e6, got / dt, broker_pid > 0 ? (cpu1 - cpu0) / (bytes / 1e9) : -1,
                    (ccpu1 - ccpu0) / (bytes / 1e9)};
}

/* Fixed-rate run: produce and end-to-end latency. */
static volatile bool e2e_stop;
static samples e2e_lat;
static const char *e2e_topic;

static void *e2e_consumer(void *arg)
{
    (void)arg;
    rd_kafka_t *rk = make_consumer(e2e_topic, RD_KAFKA_OFFSET_END);
    while (!e2e_stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err && m->len >= 8) {
            int64_t sent;
            memcpy(&sent, m->payload, 8);
            samples_add(&e2e_lat, now_ns() - sent);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

static void run_fixed_rate(const char *topic, size_t size, double mbps, double seconds)
{
    e2e_topic = topic;
    e2e_stop = false;
    /* Create the topic and let the consumer settle at the end before measuring. */
    rd_kafka_t *rk = make_producer("1", "none", "0");
    char *val = calloc(1, size);
    produce_one(rk, topic, val, size, NULL);
    rd_kafka_flush(rk, 10000);
    pthread_t t;
    pthread_create(&t, NULL, e2e_consumer, NULL);
    sleep(2);
    produce_lat.n = 0;
    double rate = mbps * 1e6 / (double)size; /* records per second */
    double t0 = now_s();
    size_t sent = 0;
    while (now_s() - t0 < seconds) {
        size_t due = (size_t)((now_s() - t0) * rate);
        while (sent < due) {
            int64_t ts = now_ns();
            memcpy(val, &ts, 8);
            produce_one(rk, topic, val, size, (void *)(intptr_t)ts);
            sent++;
        }
        rd_kafka_poll(rk, 0);
        usleep(200);
    }
    /* The rate achieved by the loop itself; the flush and the settling pause
     * after it are not part of the measured interval. */
    double achieved = (double)sent * (double)size / (now_s() - t0) / 1e6;
    rd_kafka_flush(rk, 30000);
    sleep(1);
    e2e_stop = true;
    pthread_join(t, NULL);
    printf("fixed rate %.0f MB/s (achieved %.1f), %zu B, acks=1: produce p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms;"
           " end-to-end p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms (%zu samples)\n",
           mbps, achieved, size, pct_ms(&produce_lat, 50), pct_ms(&produce_lat, 99), pct_ms(&produce_lat, 99.9),
           pct_ms(&e2e_lat, 50), pct_ms(&e2e_lat, 99), pct_ms(&e2e_lat, 99.9), e2e_lat.n);
    rd_kafka_destroy(rk);
    free(val);
}

/* Whether the comma-separated list holds item. */
static bool list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, item, n))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

int main(int argc, char **argv)
{
    const char *bin = "build/bin/sesp";
    double mib = 512; /* per 1 KiB scenario */
    double rate = 50, seconds = 10;
    const char *only = NULL; /* "SIZE:ACKS:CODEC[,...]" */
    bool latency = true, throughput = true, bootstrap_given = false;
    char dir[] = "/tmp/sesp-bench.XXXXXX";
    char boot[64];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sesp") && i + 1 < argc)
            bin = argv[++i];
        else if (!strcmp(argv[i], "--bootstrap") && i + 1 < argc)
            bootstrap = argv[++i], bootstrap_given = true;
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
            mib = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--no-latency"))
            latency = false;
        else if (!strcmp(argv[i], "--latency-only"))
            throughput = false;
        else {
            fprintf(stderr, "usage: %s [--sesp PATH | --bootstrap HOST:PORT] [--mib N] [--rate MBps] [--seconds S]\n"
                            "       [--only SIZE:ACKS:CODEC[,...]] [--no-latency | --latency-only]\n",
                    argv[0]);
            return 2;
        }
    }
    pthread_mutex_init(&produce_lat.mu, NULL);
    pthread_mutex_init(&e2e_lat.mu, NULL);
    if (!bootstrap) {
        if (!mkdtemp(dir))
            return 1;
        int port = 20000 + getpid() % 20000;
        snprintf(boot, sizeof boot, "127.0.0.1:%d", port);
        bootstrap = boot;
        if (spawn_broker(bin, port, dir)) {
            fprintf(stderr, "broker did not start\n");
            return 1;
        }
    }
    double recv_cpu = -1;
    double loop = loopback_mbps((size_t)4 << 30, &recv_cpu);
    printf("reference: loopback TCP bandwidth %.0f MB/s (receiver CPU %.3f s/GB)", loop, recv_cpu);
    if (!bootstrap_given)
        printf("; page-cache write of new file pages %.3f s/GB", pagecache_cpu_per_gb(dir, (size_t)256 << 20));
    printf("\n");
    printf("CPU s/GB: broker = the broker process, client = this process (librdkafka)\n");
    printf("stored = bytes of the partition's log files / record bytes produced (shows whether the client compressed)\n");
    printf("pcache = CPU s/GB of this process writing as many new file pages as the broker just stored, measured\n"
           "         right after it: the page-cache part of the broker's cost on this machine at this moment\n");
    printf("%-5s %-4s %-5s | %10s %10s %6s %6s %6s %6s %6s | %10s %10s %6s %6s %6s\n", "size", "acks", "codec",
           "produce", "records/s", "ratio", "broker", "pcache", "client", "stored", "consume", "records/s", "ratio",
           "broker", "client");
    size_t sizes[] = {100, 1024};
    const char *acks[] = {"1", "all"};
    const char *codecs[] = {"none", "lz4"};
    for (int si = 0; si < 2; si++)
        for (int ai = 0; ai < 2; ai++)
            for (int ci = 0; ci < 2; ci++) {
                size_t size = sizes[si];
                char name[64];
                snprintf(name, sizeof name, "%zu:%s:%s", size, acks[ai], codecs[ci]);
                if (!throughput || (only && !list_has(only, name)))
                    continue;
                double total = mib * 1024 * 1024 / (size == 100 ? 4 : 1);
                size_t count = (size_t)(total / (double)size);
                char topic[64];
                snprintf(topic, sizeof topic, "bench-%zu-%s-%s-%d", size, acks[ai], codecs[ci], getpid());
                result p = run_produce(topic, size, count, acks[ai], codecs[ci]);
                double stored = bootstrap_given ? -1 : stored_bytes(dir, topic);
                /* Fresh page-cache pages cost very different amounts on a VM
                 * (first touch of guest memory), so the floor is taken for
                 * the same volume, at the same time, not once at start. */
                double pcache = stored > 0 ? pagecache_cpu_per_gb(dir, (size_t)stored) : -1;
                result c = run_consume(topic, count);
                printf("%-5zu %-4s %-5s | %5.0f MB/s %10.0f %5.1f%% %6.3f %6.3f %6.3f %5.0f%% | %5.0f MB/s %10.0f "
                       "%5.1f%% %6.3f %6.3f\n",
                       size, acks[ai], codecs[ci], p.mbps, p.recs, 100 * p.mbps / loop, p.cpu_per_gb, pcache,
                       p.client_cpu_per_gb, stored < 0 ? -1 : 100 * stored / ((double)size * (double)(count + 1)),
                       c.mbps, c.recs, 100 * c.mbps / loop, c.cpu_per_gb, c.client_cpu_per_gb);
                fflush(stdout);
            }
    if (latency) {
        char topic[64];
        snprintf(topic, sizeof topic, "bench-latency-%d", getpid());
        run_fixed_rate(topic, 1024, rate, seconds);
    }
    if (broker_pid > 0) {
        kill(broker_pid, SIGTERM);
        waitpid(broker_pid, NULL, 0);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}
