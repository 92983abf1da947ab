/*
 * Consumer-group rebalance benchmark: drives a real `sesp broker` (spawned
 * here with group.initial.rebalance.delay.ms=0, or any broker given with
 * --bootstrap) with librdkafka consumers, one rd_kafka_t and one poll thread
 * per member.  For each assignor (range, cooperative-sticky) it times: the
 * first subscribe of M members until all hold their assignment; an extra
 * member joining the stable group; that member leaving; repeated --reps
 * times (median and p90), each join and leave at a random point of the
 * heartbeat interval.  "Done" means every live member holds a non-empty
 * assignment, together covering every partition exactly once, and no
 * rebalance callback follows for --settle-ms (the end is the last callback).
 * The same run measures the references the figures are quoted against: one
 * raw JoinGroup+SyncGroup round-trip of a single-member group (the floor),
 * a single librdkafka member's subscribe-to-assignment, and librdkafka's
 * heartbeat.interval.ms, the wait by which existing members learn that a
 * rebalance started.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXM 64
#define MAXP 1024

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- broker process ---- */

static pid_t broker_pid = -1;

static int wait_port(int port)
{
    for (int i = 0; i < 200; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (ok)
            return 0;
        sleep_ms(50);
    }
    return -1;
}

static int spawn_broker(const char *bin, int port, const char *dir)
{
    char l[128], d[512];
    snprintf(l, sizeof l, "listeners=PLAINTEXT://127.0.0.1:%d", port);
    snprintf(d, sizeof d, "log.dirs=%s", dir);
    broker_pid = fork();
    if (broker_pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execl(bin, bin, "broker", "--set", l, "--set", d, "--set", "group.initial.rebalance.delay.ms=0", (char *)NULL);
        _exit(127);
    }
    return wait_port(port);
}

/* ---- statistics ---- */

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n values (sorts v). */
static double pct(double *v, int n, double p)
{
    if (n <= 0)
        return -1;
    qsort(v, (size_t)n, sizeof *v, cmpd);
    int i = (int)(p / 100.0 * n + 0.999999) - 1;
    if (i < 0)
        i = 0;
    if (i >= n)
        i = n - 1;
    return v[i];
}

/* ---- options ---- */

static const char *bootstrap;
static int nparts = 30, nmembers = 10, reps = 5, heartbeat_ms = 3000, settle_ms = 500, floor_reps = 100;
static char topic[64];

/* ---- the members ---- */

typedef struct member {
    int idx;
    rd_kafka_t *rk;
    pthread_t th;
    atomic_bool stop;
    bool live;                  /* counted by the "done" condition */
    bool running;               /* thread started, not joined */
    int parts[MAXP];            /* current assignment (partition ids) */
    int n;
} member;

static member members[MAXM];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int64_t last_event_ns;
static int64_t events;
static atomic_int errors_seen;

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *pl, void *opaque)
{
    member *m = opaque;
    bool coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, pl);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, pl);
        }
    } else {
        if (coop) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, pl);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
    }
    pthread_mutex_lock(&mu);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (!coop)
            m->n = 0;
        for (int i = 0; i < pl->cnt && m->n < MAXP; i++)
            m->parts[m->n++] = pl->elems[i].partition;
    } else if (!coop) {
        m->n = 0;
    } else {
        for (int i = 0; i < pl->cnt; i++)
            for (int j = 0; j < m->n; j++)
                if (m->parts[j] == pl->elems[i].partition) {
                    m->parts[j] = m->parts[--m->n];
                    break;
                }
    }
    last_event_ns = now_ns();
    events++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__FATAL || atomic_load(&errors_seen) < 5)
        fprintf(stderr, "consumer error: %s: %s\n", rd_kafka_err2name(err), reason);
    atomic_fetch_add(&errors_seen, 1);
}

static rd_kafka_t *make_consumer(const char *group, const char *assignor, void *opaque)
{
    char err[512], hb[32];
    snprintf(hb, sizeof hb, "%d", heartbeat_ms);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", bootstrap}, {"group.id", group}, {"partition.assignment.strategy", assignor},
        {"heartbeat.interval.ms", hb},    {"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"},
        {"log_level", "3"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(c, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s: %s\n", kv[i][0], err);
            exit(1);
        }
    rd_kafka_conf_set_rebalance_cb(c, rebalance_cb);
    rd_kafka_conf_set_error_cb(c, error_cb);
    rd_kafka_conf_set_opaque(c, opaque);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "consumer: %s\n", err);
        exit(1);
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static void subscribe(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (e) {
        fprintf(stderr, "subscribe: %s\n", rd_kafka_err2str(e));
        exit(1);
    }
}

/* Polls (which runs the rebalance callback) until told to stop, then leaves
 * the group (close sends LeaveGroup) and frees the handle. */
static void *member_main(void *arg)
{
    member *m = arg;
    while (!atomic_load(&m->stop)) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(m->rk, 20);
        if (msg)
            rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(m->rk);
    rd_kafka_destroy(m->rk);
    m->rk = NULL;
    return NULL;
}

static void member_start(int i, const char *group, const char *assignor)
{
    member *m = &members[i];
    pthread_mutex_lock(&mu);
    m->idx = i;
    m->n = 0;
    m->live = true;
    pthread_mutex_unlock(&mu);
    atomic_store(&m->stop, false);
    m->rk = make_consumer(group, assignor, m);
    m->running = true;
    pthread_create(&m->th, NULL, member_main, m);
}

/* Takes member i out of the "done" condition now; its thread leaves later. */
static void member_leave(int i)
{
    pthread_mutex_lock(&mu);
    members[i].live = false;
    pthread_mutex_unlock(&mu);
    atomic_store(&members[i].stop, true);
}

static void member_join(int i)
{
    if (members[i].running) {
        pthread_join(members[i].th, NULL);
        members[i].running = false;
    }
}

/* Under mu: every live member holds partitions and together they hold each
 * partition exactly once. */
static bool settled_locked(int nlive_expected)
{
    static int cover[MAXP];
    memset(cover, 0, sizeof cover);
    int live = 0;
    for (int i = 0; i < MAXM; i++) {
        member *m = &members[i];
        if (!m->live)
            continue;
        live++;
        if (m->n == 0)
            return false;
        for (int j = 0; j < m->n; j++) {
            int p = m->parts[j];
            if (p < 0 || p >= nparts || cover[p]++)
                return false;
        }
    }
    if (live != nlive_expected)
        return false;
    for (int p = 0; p < nparts; p++)
        if (!cover[p])
            return false;
    return true;
}

/* Waits until settled and quiet for settle_ms; returns the seconds from t0 to
 * the last rebalance callback, or -1 after timeout_s. */
static double wait_settled(int64_t t0, int nlive, double timeout_s)
{
    int64_t deadline = t0 + (int64_t)(timeout_s * 1e9);
    double r = -1;
    pthread_mutex_lock(&mu);
    for (;;) {
        int64_t now = now_ns();
        if (now > deadline)
            break;
        if (settled_locked(nlive) && now - last_event_ns >= (int64_t)settle_ms * 1000000 && last_event_ns >= t0) {
            r = (double)(last_event_ns - t0) / 1e9;
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&cv, &mu, &ts);
    }
    pthread_mutex_unlock(&mu);
    return r;
}

/* ---- raw JoinGroup + SyncGroup (the floor) ---- */

typedef struct wbuf {
    uint8_t b[1024];
    size_t n;
} wbuf;

static void w16(wbuf *w, int v) { w->b[w->n++] = (uint8_t)(v >> 8); w->b[w->n++] = (uint8_t)v; }
static void w32(wbuf *w, int32_t v)
{
    for (int s = 24; s >= 0; s -= 8)
        w->b[w->n++] = (uint8_t)((uint32_t)v >> s);
}
static void wstr(wbuf *w, const char *s, size_t n)
{
    w16(w, (int)n);
    memcpy(w->b + w->n, s, n);
    w->n += n;
}
static void wbytes(wbuf *w, const uint8_t *b, size_t n)
{
    w32(w, (int32_t)n);
    memcpy(w->b + w->n, b, n);
    w->n += n;
}

static int read_full(int fd, uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Sends one request (header v1, client id "bench") and reads its response
 * body (after the correlation id) into resp; returns its length or -1. */
static int rpc(int fd, int api, int ver, int32_t corr, const wbuf *body, uint8_t *resp, size_t cap)
{
    wbuf w = {.n = 4};
    w16(&w, api);
    w16(&w, ver);
    w32(&w, corr);
    wstr(&w, "bench", 5);
    memcpy(w.b + w.n, body->b, body->n);
    w.n += body->n;
    size_t total = w.n;
    w.n = 0;
    w32(&w, (int32_t)(total - 4));
    if (write(fd, w.b, total) != (ssize_t)total)
        return -1;
    uint8_t hdr[8];
    if (read_full(fd, hdr, 8))
        return -1;
    uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    int32_t c = (int32_t)((uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7]);
    if (len < 4 || len - 4 > cap || c != corr)
        return -1;
    if (read_full(fd, resp, len - 4))
        return -1;
    return (int)(len - 4);
}

typedef struct rbuf {
    const uint8_t *p;
    size_t n, i;
    bool bad;
} rbuf;

static int32_t r32(rbuf *r)
{
    if (r->i + 4 > r->n) {
        r->bad = true;
        return 0;
    }
    const uint8_t *p = r->p + r->i;
    r->i += 4;
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}
static int16_t r16(rbuf *r)
{
    if (r->i + 2 > r->n) {
        r->bad = true;
        return 0;
    }
    const uint8_t *p = r->p + r->i;
    r->i += 2;
    return (int16_t)((uint16_t)p[0] << 8 | p[1]);
}
/* Copies a STRING into out (NUL-terminated, truncated to cap). */
static void rstr(rbuf *r, char *out, size_t cap)
{
    int16_t n = r16(r);
    if (n < 0 || r->i + (size_t)n > r->n) {
        r->bad = r->bad || n < -1;
        if (out)
            *out = 0;
        return;
    }
    if (out) {
        size_t k = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
        memcpy(out, r->p + r->i, k);
        out[k] = 0;
    }
    r->i += (size_t)n;
}

/* One single-member group: JoinGroup v1 then SyncGroup v0 timed together,
 * then LeaveGroup v0 (not timed).  Seconds, or -1. */
static double raw_join_sync(int fd, int rep)
{
    char group[64];
    snprintf(group, sizeof group, "bench-floor-%d-%d", (int)getpid(), rep);
    uint8_t meta[256];
    wbuf mw = {.n = 0};
    w16(&mw, 0);                /* ConsumerProtocolSubscription v0 */
    w32(&mw, 1);
    wstr(&mw, topic, strlen(topic));
    w32(&mw, -1);               /* user data: null */
    memcpy(meta, mw.b, mw.n);
    size_t metalen = mw.n;

    wbuf j = {.n = 0};
    wstr(&j, group, strlen(group));
    w32(&j, 45000);             /* session timeout */
    w32(&j, 60000);             /* rebalance timeout */
    wstr(&j, "", 0);
    wstr(&j, "consumer", 8);
    w32(&j, 1);
    wstr(&j, "range", 5);
    wbytes(&j, meta, metalen);

    uint8_t resp[8192];
    int64_t t0 = now_ns();
    int n = rpc(fd, 11, 1, 2 * rep, &j, resp, sizeof resp);
    if (n < 0)
        return -1;
    rbuf r = {resp, (size_t)n, 0, false};
    int16_t ec = r16(&r);
    int32_t gen = r32(&r);
    char member_id[256];
    rstr(&r, NULL, 0);          /* protocol name */
    rstr(&r, NULL, 0);          /* leader */
    rstr(&r, member_id, sizeof member_id);
    if (r.bad || ec != 0) {
        fprintf(stderr, "floor: JoinGroup error %d\n", ec);
        return -1;
    }
    wbuf a = {.n = 0};          /* ConsumerProtocolAssignment v0: every partition */
    w16(&a, 0);
    w32(&a, 1);
    wstr(&a, topic, strlen(topic));
    w32(&a, nparts);
    for (int p = 0; p < nparts; p++)
        w32(&a, p);
    w32(&a, -1);
    wbuf s = {.n = 0};
    wstr(&s, group, strlen(group));
    w32(&s, gen);
    wstr(&s, member_id, strlen(member_id));
    w32(&s, 1);
    wstr(&s, member_id, strlen(member_id));
    wbytes(&s, a.b, a.n);
    n = rpc(fd, 14, 0, 2 * rep + 1, &s, resp, sizeof resp);
    double dt = (double)(now_ns() - t0) / 1e9;
    if (n < 2 || ((resp[0] << 8) | resp[1]) != 0) {
        fprintf(stderr, "floor: SyncGroup failed\n");
        return -1;
    }
    wbuf l = {.n = 0};
    wstr(&l, group, strlen(group));
    wstr(&l, member_id, strlen(member_id));
    if (rpc(fd, 13, 0, 1000000 + rep, &l, resp, sizeof resp) < 0)
        return -1;
    return dt;
}

static double floor_median(void)
{
    char host[64];
    int port;
    if (sscanf(bootstrap, "%63[^:]:%d", host, &port) != 2)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, strcmp(host, "localhost") ? host : "127.0.0.1", &sa.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    double *v = calloc((size_t)floor_reps, sizeof *v);
    int n = 0;
    for (int i = 0; i < floor_reps; i++) {
        double d = raw_join_sync(fd, i);
        if (d < 0)
            break;
        v[n++] = d;
    }
    close(fd);
    double med = pct(v, n, 50), p90 = pct(v, n, 90);
    printf("reference: raw JoinGroup+SyncGroup, single-member group: median %.3f ms, p90 %.3f ms (%d reps)\n",
           med * 1e3, p90 * 1e3, n);
    free(v);
    return n ? med : -1;
}

/* ---- scenarios ---- */

static void create_topic(void)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "admin: %s\n", err);
        exit(1);
    }
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, nparts, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **res = ev ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt) : NULL;
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

/* A single librdkafka member: subscribe until its assignment (median of 5). */
static double single_member(const char *assignor, int round)
{
    double v[5];
    int n = 0;
    for (int i = 0; i < 5; i++) {
        char group[96];
        snprintf(group, sizeof group, "bench-single-%s-%d-%d-%d", assignor, (int)getpid(), round, i);
        member_start(0, group, assignor);
        int64_t t0 = now_ns();
        subscribe(members[0].rk);
        double d = wait_settled(t0, 1, 30);
        member_leave(0);
        member_join(0);
        if (d >= 0)
            v[n++] = d;
    }
    return pct(v, n, 50);
}

/* The members' heartbeats are in phase (they all synced at the same moment),
 * so an action a fixed time after a rebalance would always meet the same
 * heartbeat wait: start each one at a uniformly random point of the
 * interval instead. */
static void phase_delay(void)
{
    sleep_ms((int)(drand48() * heartbeat_ms));
}

static void report(const char *what, double *v, int n, double floor_s, double hb_s)
{
    double med = pct(v, n, 50), p90 = pct(v, n, 90);
    printf("  %-28s median %8.1f ms  p90 %8.1f ms  = %6.1fx floor, %5.2fx heartbeat interval  (%d ok)\n", what,
           med * 1e3, p90 * 1e3, med / floor_s, med / hb_s, n);
}

static void run_assignor(const char *assignor, int round, double floor_s)
{
    double hb_s = heartbeat_ms / 1e3;
    double single = single_member(assignor, round);
    printf("%s (reference: one librdkafka member subscribe->assignment %.1f ms = %.1fx floor)\n", assignor,
           single * 1e3, single / floor_s);
    double *first = calloc((size_t)reps, sizeof(double)), *join = calloc((size_t)reps, sizeof(double)),
           *leave = calloc((size_t)reps, sizeof(double));
    int nf = 0, nj = 0, nl = 0;
    for (int r = 0; r < reps; r++) {
        char group[96];
        snprintf(group, sizeof group, "bench-%s-%d-%d-%d", assignor, (int)getpid(), round, r);
        for (int i = 0; i < nmembers; i++)
            member_start(i, group, assignor);
        int64_t t0 = now_ns();
        for (int i = 0; i < nmembers; i++)
            subscribe(members[i].rk);
        double d = wait_settled(t0, nmembers, 120);
        if (d >= 0)
            first[nf++] = d;
        else
            fprintf(stderr, "%s: first assignment of %d members timed out\n", assignor, nmembers);
        /* An extra member joins, then leaves: several times in the same group. */
        for (int k = 0; d >= 0 && k < 1; k++) {
            member_start(nmembers, group, assignor);
            phase_delay();
            t0 = now_ns();
            subscribe(members[nmembers].rk);
            double dj = wait_settled(t0, nmembers + 1, 120);
            if (dj < 0) {
                fprintf(stderr, "%s: join timed out\n", assignor);
                break;
            }
            join[nj++] = dj;
            phase_delay();
            t0 = now_ns();
            member_leave(nmembers);
            double dl = wait_settled(t0, nmembers, 120);
            member_join(nmembers);
            if (dl < 0) {
                fprintf(stderr, "%s: leave timed out\n", assignor);
                break;
            }
            leave[nl++] = dl;
        }
        for (int i = 0; i <= nmembers; i++)
            if (members[i].running)
                member_leave(i);
        for (int i = 0; i <= nmembers; i++)
            member_join(i);
    }
    char what[64];
    snprintf(what, sizeof what, "first %d members", nmembers);
    report(what, first, nf, floor_s, hb_s);
    snprintf(what, sizeof what, "member %d joins", nmembers + 1);
    report(what, join, nj, floor_s, hb_s);
    snprintf(what, sizeof what, "member %d leaves", nmembers + 1);
    report(what, leave, nl, floor_s, hb_s);
    fflush(stdout);
    free(first);
    free(join);
    free(leave);
}

int main(int argc, char **argv)
{
    const char *bin = "build/bin/sesp";
    const char *assignors = "range,cooperative-sticky";
    char dir[] = "/tmp/sesp-bench-group.XXXXXX";
    char boot[64];
    /* Every option takes a value: options come in pairs. */
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            goto usage;
        if (!strcmp(a, "--sesp"))
            bin = v;
        else if (!strcmp(a, "--bootstrap"))
            bootstrap = v;
        else if (!strcmp(a, "--partitions"))
            nparts = atoi(v);
        else if (!strcmp(a, "--members"))
            nmembers = atoi(v);
        else if (!strcmp(a, "--reps"))
            reps = atoi(v);
        else if (!strcmp(a, "--heartbeat-ms"))
            heartbeat_ms = atoi(v);
        else if (!strcmp(a, "--settle-ms"))
            settle_ms = atoi(v);
        else if (!strcmp(a, "--floor-reps"))
            floor_reps = atoi(v);
        else if (!strcmp(a, "--assignors"))
            assignors = v;
        else
            goto usage;
    }
    if (nparts < 1 || nparts > MAXP || nmembers < 1 || nmembers + 1 > MAXM || nmembers + 1 > nparts || reps < 1 ||
        heartbeat_ms < 1 || settle_ms < 0 || floor_reps < 1)
        goto usage;
    signal(SIGPIPE, SIG_IGN);
    srand48(1);
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
    snprintf(topic, sizeof topic, "bench-rebalance-%d", (int)getpid());
    create_topic();
    printf("topic %s: %d partitions; %d members (+1 joining/leaving), %d reps, settle %d ms\n", topic, nparts,
           nmembers, reps, settle_ms);
    printf("reference: librdkafka heartbeat.interval.ms %d ms\n", heartbeat_ms);
    double floor_s = floor_median();
    if (floor_s <= 0) {
        fprintf(stderr, "floor measurement failed\n");
        return 1;
    }
    fflush(stdout);
    char list[256];
    snprintf(list, sizeof list, "%s", assignors);
    int round = 0;
    for (char *save = NULL, *as = strtok_r(list, ",", &save); as; as = strtok_r(NULL, ",", &save))
        run_assignor(as, round++, floor_s);
    if (atomic_load(&errors_seen))
        printf("(%d consumer errors reported, see stderr)\n", atomic_load(&errors_seen));
    if (broker_pid > 0) {
        kill(broker_pid, SIGTERM);
        waitpid(broker_pid, NULL, 0);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
usage:
    fprintf(stderr,
            "usage: %s [--sesp PATH | --bootstrap HOST:PORT] [--partitions 30] [--members 10] [--reps 5]\n"
            "          [--heartbeat-ms 3000] [--settle-ms 500] [--floor-reps 100] [--assignors range,cooperative-sticky]\n",
            argv[0]);
    return 2;
}
