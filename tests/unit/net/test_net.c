/*
 * Unit tests of broker/net over real sockets on 127.0.0.1 (port 0): ordered
 * pipelined responses answered out of order, bad frame sizes, truncated
 * frames, back-pressure, idle close, file-segment responses, close-after-slot,
 * acks=0 slots, late answers on closed connections, graceful stop.
 *
 * Requests are frames whose first byte is an op and next four a big-endian
 * parameter; the test callback acts on them:
 *   'E' echo now             'D' echo after param ms      'P' echo; odd seqs late
 *   'B' echo + param filler  'F' file segment response    'N' no response
 *   'C' close after earlier answers
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "broker/net/net.h"
#include "common/err.h"

#define FILE_LEN 200000

typedef struct test_ctx {
    atomic_int calls;
    atomic_int late_on_closed;   /* delayed answers that found the conn closed */
    atomic_int cb_errors;        /* checks failed on loop threads (CUnit is not thread-safe) */
    int file_fd;
    bool file_plain;             /* 'F' uses evbuffer_new() instead of sesp_net_body_new() */
    atomic_bool echo_only;       /* ignore ops: plain echo (random-input test) */
} test_ctx;

static test_ctx g_ctx;

#define CB_CHECK(cond)                                    \
    do {                                                  \
        if (!(cond)) {                                    \
            fprintf(stderr, "callback check failed: %s\n", #cond); \
            atomic_fetch_add(&g_ctx.cb_errors, 1);        \
        }                                                 \
    } while (0)
#define CB_REQUIRE(cond)                                  \
    do {                                                  \
        if (!(cond)) {                                    \
            fprintf(stderr, "callback check failed: %s\n", #cond); \
            abort();                                      \
        }                                                 \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- server side ---- */

typedef struct delayed {
    sesp_conn *c;
    uint64_t seq;
    struct evbuffer *body;
    struct delayed *prev, *next;
} delayed;

/* Late answers not yet sent; whatever a stop leaves behind (its timer never
 * fires once the loop is gone) is released by stop_net, as the server must. */
static pthread_mutex_t g_delayed_mu = PTHREAD_MUTEX_INITIALIZER;
static delayed *g_delayed;

static void delayed_unlink(delayed *d)
{
    pthread_mutex_lock(&g_delayed_mu);
    if (d->prev)
        d->prev->next = d->next;
    else
        g_delayed = d->next;
    if (d->next)
        d->next->prev = d->prev;
    pthread_mutex_unlock(&g_delayed_mu);
}

static void delayed_cb(evutil_socket_t fd, short what, void *arg)
{
    delayed *d = arg;
    delayed_unlink(d);
    if (sesp_conn_is_closed(d->c))
        atomic_fetch_add(&g_ctx.late_on_closed, 1);
    sesp_conn_respond(d->c, d->seq, d->body);
    sesp_conn_unref(d->c);
    free(d);
}

static void respond_later(sesp_conn *c, uint64_t seq, struct evbuffer *body, int ms)
{
    delayed *d = malloc(sizeof *d);
    CB_REQUIRE(d != NULL);
    d->c = c;
    d->seq = seq;
    d->body = body;
    d->prev = NULL;
    pthread_mutex_lock(&g_delayed_mu);
    d->next = g_delayed;
    if (g_delayed)
        g_delayed->prev = d;
    g_delayed = d;
    pthread_mutex_unlock(&g_delayed_mu);
    sesp_conn_ref(c);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    CB_REQUIRE(event_base_once(sesp_conn_base(c), -1, EV_TIMEOUT, delayed_cb, d, &tv) == 0);
}

static void test_cb(sesp_conn *c, uint64_t seq, uint8_t *frame, size_t len, void *ud)
{
    test_ctx *t = ud;
    atomic_fetch_add(&t->calls, 1);
    CB_CHECK(sesp_conn_peer(c) != NULL);
    CB_CHECK(strncmp(sesp_conn_peer(c), "127.0.0.1:", 10) == 0);
    char op = len && !atomic_load(&t->echo_only) ? (char)frame[0] : 'E';
    uint32_t param = len >= 5 ? get_u32(frame + 1) : 0;
    struct evbuffer *body = evbuffer_new();
    CB_REQUIRE(body != NULL);
    switch (op) {
    case 'D':
        evbuffer_add(body, frame, len);
        respond_later(c, seq, body, (int)param);
        break;
    case 'P':
        evbuffer_add(body, frame, len);
        if (seq % 2)
            respond_later(c, seq, body, (int)((seq * 7) % 5 + 1) * 3);
        else
            sesp_conn_respond(c, seq, body);
        break;
    case 'B': {
        evbuffer_add(body, frame, len);
        char *fill = malloc(param);
        memset(fill, 'z', param);
        evbuffer_add(body, fill, param);
        free(fill);
        sesp_conn_respond(c, seq, body);
        break;
    }
    case 'F': {
        evbuffer_free(body);
        body = t->file_plain ? evbuffer_new() : sesp_net_body_new();
        evbuffer_add(body, "hdr", 3);
        struct evbuffer_file_segment *fs = evbuffer_file_segment_new(t->file_fd, 0, FILE_LEN, 0);
        CB_REQUIRE(fs != NULL);
        CB_CHECK(evbuffer_add_file_segment(body, fs, 1000, 150000) == 0);
        evbuffer_file_segment_free(fs);
        evbuffer_add(body, "trl", 3);
        sesp_conn_respond(c, seq, body);
        break;
    }
    case 'N':
        evbuffer_free(body);
        sesp_conn_respond_none(c, seq);
        break;
    case 'C':
        evbuffer_free(body);
        sesp_conn_close(c, seq);
        break;
    default:
        evbuffer_add(body, frame, len);
        sesp_conn_respond(c, seq, body);
        break;
    }
    free(frame);
}

static sesp_net_listener g_listener = {"127.0.0.1", 0};

static sesp_net *start_net(sesp_net_config *cfg)
{
    cfg->listeners = &g_listener;
    cfg->num_listeners = 1;
    atomic_store(&g_ctx.calls, 0);
    atomic_store(&g_ctx.late_on_closed, 0);
    atomic_store(&g_ctx.cb_errors, 0);
    sesp_net *n = NULL;
    CU_ASSERT_FATAL(sesp_net_start(cfg, test_cb, &g_ctx, &n) == 0);
    CU_ASSERT_FATAL(n != NULL);
    CU_ASSERT(sesp_net_bound_port(n, 0) > 0);
    CU_ASSERT(sesp_net_bound_port(n, 1) == -1);
    return n;
}

static void release_delayed(void)
{
    while (g_delayed) {
        delayed *d = g_delayed;
        delayed_unlink(d);
        CU_ASSERT(sesp_conn_is_closed(d->c));
        sesp_conn_respond(d->c, d->seq, d->body); /* a no-op that frees body */
        sesp_conn_unref(d->c);
        free(d);
    }
}

static void stop_net(sesp_net *n)
{
    sesp_net_stop(n);
    release_delayed();
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.cb_errors), 0);
}

static sesp_net *start_default(void)
{
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.num_threads = 2;
    return start_net(&cfg);
}

/* ---- client side ---- */

static int client(sesp_net *n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sesp_net_bound_port(n, 0))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static bool send_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len > 0) {
        ssize_t w = send(fd, b, len, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        b += w;
        len -= (size_t)w;
    }
    return true;
}

static bool recv_all(int fd, void *p, size_t len)
{
    uint8_t *b = p;
    while (len > 0) {
        ssize_t r = recv(fd, b, len, 0);
        if (r <= 0)
            return false;
        b += r;
        len -= (size_t)r;
    }
    return true;
}

/* Builds op+param+payload into out (cap >= 9 + strlen(payload)); returns the frame length. */
static size_t make_req(uint8_t *out, char op, uint32_t param, const char *payload)
{
    size_t pl = strlen(payload);
    put_u32(out, (uint32_t)(5 + pl));
    out[4] = (uint8_t)op;
    put_u32(out + 5, param);
    memcpy(out + 9, payload, pl);
    return 9 + pl;
}

static bool send_req(int fd, char op, uint32_t param, const char *payload)
{
    uint8_t buf[512];
    size_t n = make_req(buf, op, param, payload);
    return send_all(fd, buf, n);
}

/* Receives one response frame into a malloc'ed buffer; NULL on EOF/timeout. */
static uint8_t *recv_frame(int fd, size_t *len)
{
    uint8_t hdr[4];
    if (!recv_all(fd, hdr, 4))
        return NULL;
    uint32_t n = get_u32(hdr);
    uint8_t *p = malloc(n ? n : 1);
    if (!recv_all(fd, p, n)) {
        free(p);
        return NULL;
    }
    *len = n;
    return p;
}

/* Checks the next response echoes (op, param, payload). */
static bool expect_echo(int fd, char op, uint32_t param, const char *payload)
{
    size_t len = 0;
    uint8_t *p = recv_frame(fd, &len);
    bool ok = p && len == 5 + strlen(payload) && p[0] == (uint8_t)op && get_u32(p + 1) == param &&
              memcmp(p + 5, payload, len - 5) == 0;
    free(p);
    return ok;
}

/* True if the peer closes (EOF or reset) within the receive timeout, with no data first. */
static bool expect_closed(int fd)
{
    uint8_t b;
    ssize_t r = recv(fd, &b, 1, 0);
    if (r == 0)
        return true;
    return r < 0 && (errno == ECONNRESET || errno == EPIPE);
}

static void wait_calls(int want, int ms)
{
    int64_t end = now_ms() + ms;
    while (atomic_load(&g_ctx.calls) < want && now_ms() < end)
        usleep(2000);
}

/* ---- tests ---- */

static void test_pipelined_order(void)
{
    sesp_net *n = start_default();
    enum { N = 400 };
    int fds[2] = {client(n), client(n)};
    /* All requests in one go, so many are in flight (more than max_inflight). */
    size_t cap = N * 32;
    uint8_t *buf = malloc(cap);
    for (int k = 0; k < 2; k++) {
        size_t off = 0;
        for (int i = 0; i < N; i++) {
            char pl[32];
            snprintf(pl, sizeof pl, "c%d-req-%d", k, i);
            off += make_req(buf + off, 'P', (uint32_t)i, pl);
        }
        CU_ASSERT_FATAL(send_all(fds[k], buf, off));
    }
    free(buf);
    for (int k = 0; k < 2; k++) {
        int good = 0;
        for (int i = 0; i < N; i++) {
            char pl[32];
            snprintf(pl, sizeof pl, "c%d-req-%d", k, i);
            if (expect_echo(fds[k], 'P', (uint32_t)i, pl))
                good++;
            else
                break;
        }
        CU_ASSERT_EQUAL(good, N);
    }
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), 2 * N);
    close(fds[0]);
    close(fds[1]);
    stop_net(n);
}

typedef struct many_arg {
    int fd;
    int id;
    int good;
} many_arg;

static void *many_client(void *arg)
{
    many_arg *a = arg;
    enum { M = 60 };
    int fd = a->fd;
    uint8_t buf[M * 32];
    size_t off = 0;
    for (int i = 0; i < M; i++) {
        char pl[24];
        snprintf(pl, sizeof pl, "%d/%d", a->id, i);
        off += make_req(buf + off, i % 3 ? 'P' : 'E', (uint32_t)i, pl);
    }
    if (send_all(fd, buf, off)) {
        for (int i = 0; i < M; i++) {
            char pl[24];
            snprintf(pl, sizeof pl, "%d/%d", a->id, i);
            if (!expect_echo(fd, i % 3 ? 'P' : 'E', (uint32_t)i, pl))
                break;
            a->good++;
        }
    }
    close(fd);
    return NULL;
}

static void test_many_connections(void)
{
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.num_threads = 3;
    sesp_net *n = start_net(&cfg);
    enum { K = 40 };
    pthread_t th[K];
    many_arg args[K];
    for (int k = 0; k < K; k++) {
        args[k] = (many_arg){client(n), k, 0}; /* CUnit asserts stay on this thread */
        CU_ASSERT_FATAL(pthread_create(&th[k], NULL, many_client, &args[k]) == 0);
    }
    int good = 0;
    for (int k = 0; k < K; k++) {
        pthread_join(th[k], NULL);
        good += args[k].good;
    }
    CU_ASSERT_EQUAL(good, K * 60);
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), K * 60);
    stop_net(n);
}

static void test_bad_sizes(void)
{
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.num_threads = 2;
    cfg.max_request_size = 1024;
    sesp_net *n = start_net(&cfg);
    int good = client(n);
    CU_ASSERT(send_req(good, 'E', 1, "before"));
    CU_ASSERT(expect_echo(good, 'E', 1, "before"));

    int neg = client(n);
    uint8_t hdr[4];
    put_u32(hdr, 0xffffffffu); /* -1 */
    CU_ASSERT(send_all(neg, hdr, 4));
    CU_ASSERT(expect_closed(neg));
    close(neg);

    int big = client(n);
    put_u32(hdr, 1025);
    CU_ASSERT(send_all(big, hdr, 4));
    CU_ASSERT(expect_closed(big));
    close(big);

    /* Exactly the limit is fine; so is an empty frame. */
    int edge = client(n);
    uint8_t *max = calloc(1, 4 + 1024);
    put_u32(max, 1024);
    max[4] = 'E';
    CU_ASSERT(send_all(edge, max, 4 + 1024));
    size_t len = 0;
    uint8_t *p = recv_frame(edge, &len);
    CU_ASSERT(p && len == 1024 && memcmp(p, max + 4, 1024) == 0);
    free(p);
    free(max);
    put_u32(hdr, 0);
    CU_ASSERT(send_all(edge, hdr, 4));
    p = recv_frame(edge, &len);
    CU_ASSERT(p && len == 0);
    free(p);
    close(edge);

    CU_ASSERT(send_req(good, 'E', 2, "after"));
    CU_ASSERT(expect_echo(good, 'E', 2, "after"));
    close(good);
    stop_net(n);
}

static void test_random_input(void)
{
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.num_threads = 2;
    cfg.max_request_size = 4096;
    atomic_store(&g_ctx.echo_only, true);
    sesp_net *n = start_net(&cfg);
    int good = client(n);
    unsigned seed = 12345;
    for (int i = 0; i < 60; i++) {
        int fd = client(n);
        uint8_t buf[3000];
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)rand_r(&seed);
        /* Sometimes a plausible small size so frames do get dispatched. */
        if (len >= 4 && i % 2)
            put_u32(buf, (uint32_t)(rand_r(&seed) % (int)len));
        send_all(fd, buf, len);
        if (i % 3 == 0)
            shutdown(fd, SHUT_WR);
        close(fd);
    }
    CU_ASSERT(send_req(good, 'E', 9, "survived"));
    CU_ASSERT(expect_echo(good, 'E', 9, "survived"));
    close(good);
    stop_net(n);
    atomic_store(&g_ctx.echo_only, false);
}

static void test_truncated(void)
{
    sesp_net *n = start_default();
    for (int i = 0; i < 20; i++) {
        int fd = client(n);
        uint8_t b[14] = {0};
        put_u32(b, 100);
        b[4] = 'E';
        /* Half a header, a partial frame, or a whole frame plus a partial one. */
        size_t cut = (size_t)(i % 3 == 0 ? 2 : 14);
        CU_ASSERT(send_all(fd, b, cut));
        if (i % 3 == 2)
            CU_ASSERT(send_req(fd, 'D', 50, "then-gone"));
        close(fd);
    }
    int fd = client(n);
    CU_ASSERT(send_req(fd, 'E', 7, "still-works"));
    CU_ASSERT(expect_echo(fd, 'E', 7, "still-works"));
    close(fd);
    usleep(100 * 1000); /* let the late 'D' answers hit closed connections */
    stop_net(n);
}

static void test_backpressure(void)
{
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.num_threads = 1;
    cfg.max_unsent_bytes = 256 * 1024;
    sesp_net *n = start_net(&cfg);
    enum { N = 2000, FILL = 16 * 1024 };
    int fd = client(n);
    uint8_t *buf = malloc(N * 32);
    size_t off = 0;
    for (int i = 0; i < N; i++) {
        char pl[16];
        snprintf(pl, sizeof pl, "%d", i);
        off += make_req(buf + off, 'B', FILL, pl);
    }
    CU_ASSERT_FATAL(send_all(fd, buf, off));
    free(buf);
    /* The client never reads: output piles up and the server stops reading. */
    usleep(500 * 1000);
    int c1 = atomic_load(&g_ctx.calls);
    usleep(300 * 1000);
    int c2 = atomic_load(&g_ctx.calls);
    CU_ASSERT(c1 > 0);
    CU_ASSERT(c1 < N);
    CU_ASSERT_EQUAL(c1, c2);
    /* Reading everything resumes it, in order. */
    int good = 0;
    for (int i = 0; i < N; i++) {
        size_t len = 0;
        uint8_t *p = recv_frame(fd, &len);
        char pl[16];
        snprintf(pl, sizeof pl, "%d", i);
        size_t pll = strlen(pl);
        bool ok = p && len == 5 + pll + FILL && p[0] == 'B' && memcmp(p + 5, pl, pll) == 0 &&
                  p[len - 1] == 'z';
        free(p);
        if (!ok)
            break;
        good++;
    }
    CU_ASSERT_EQUAL(good, N);
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), N);
    close(fd);
    stop_net(n);
}

static void test_inflight_limit(void)
{
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.num_threads = 1;
    cfg.max_inflight = 4;
    sesp_net *n = start_net(&cfg);
    int fd = client(n);
    /* Six slow requests: only four are dispatched until the first answers. */
    for (int i = 0; i < 6; i++)
        CU_ASSERT(send_req(fd, 'D', 300, "slow"));
    usleep(150 * 1000);
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), 4);
    for (int i = 0; i < 6; i++)
        CU_ASSERT(expect_echo(fd, 'D', 300, "slow"));
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), 6);
    close(fd);
    stop_net(n);
}

static void test_idle_close(void)
{
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.num_threads = 2;
    cfg.idle_ms = 200;
    sesp_net *n = start_net(&cfg);
    int idle = client(n);
    int busy = client(n);
    int64_t t0 = now_ms();
    /* A pending answer slower than idle_ms keeps its connection open. */
    CU_ASSERT(send_req(busy, 'D', 450, "long-poll"));
    CU_ASSERT(expect_closed(idle));
    int64_t took = now_ms() - t0;
    CU_ASSERT(took >= 180);
    CU_ASSERT(took < 2000);
    close(idle);
    CU_ASSERT(expect_echo(busy, 'D', 450, "long-poll"));
    /* ... and once answered, it is idle too. */
    t0 = now_ms();
    CU_ASSERT(expect_closed(busy));
    took = now_ms() - t0;
    CU_ASSERT(took >= 150);
    CU_ASSERT(took < 2000);
    close(busy);
    stop_net(n);
}

static void check_file_response(bool plain)
{
    g_ctx.file_plain = plain;
    sesp_net *n = start_default();
    int fd = client(n);
    CU_ASSERT(send_req(fd, 'F', 0, ""));
    CU_ASSERT(send_req(fd, 'E', 3, "next"));
    size_t len = 0;
    uint8_t *p = recv_frame(fd, &len);
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_EQUAL(len, 3 + 150000 + 3);
    if (len == 150006) {
        CU_ASSERT(memcmp(p, "hdr", 3) == 0);
        bool same = true;
        for (size_t i = 0; i < 150000; i++)
            if (p[3 + i] != (uint8_t)((1000 + i) * 31 % 251))
                same = false;
        CU_ASSERT(same);
        CU_ASSERT(memcmp(p + 150003, "trl", 3) == 0);
    }
    free(p);
    CU_ASSERT(expect_echo(fd, 'E', 3, "next"));
    close(fd);
    stop_net(n);
}

static void test_file_segment(void)
{
    check_file_response(false);
    check_file_response(true);
}

static void test_close_and_none(void)
{
    sesp_net *n = start_default();
    int fd = client(n);
    CU_ASSERT(send_req(fd, 'E', 1, "one"));
    CU_ASSERT(send_req(fd, 'N', 2, "acks0"));
    CU_ASSERT(send_req(fd, 'D', 100, "slow-two"));
    CU_ASSERT(send_req(fd, 'C', 0, "bye"));
    CU_ASSERT(send_req(fd, 'E', 4, "never"));
    CU_ASSERT(expect_echo(fd, 'E', 1, "one"));
    CU_ASSERT(expect_echo(fd, 'D', 100, "slow-two"));
    CU_ASSERT(expect_closed(fd));
    close(fd);
    /* A late answer to a disconnected client is a harmless no-op. */
    fd = client(n);
    CU_ASSERT(send_req(fd, 'D', 100, "gone"));
    wait_calls(5, 2000);
    close(fd);
    usleep(300 * 1000);
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.late_on_closed), 1);
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), 5); /* "never" was not dispatched */
    stop_net(n);
}

typedef struct stopper {
    sesp_net *n;
    int64_t took;
} stopper;

static void *stop_thread(void *arg)
{
    stopper *s = arg;
    int64_t t0 = now_ms();
    sesp_net_stop(s->n);
    s->took = now_ms() - t0;
    return NULL;
}

static void test_graceful_stop(void)
{
    sesp_net *n = start_default();
    int fd = client(n);
    int idle = client(n);
    CU_ASSERT(send_req(fd, 'D', 300, "answer-me"));
    wait_calls(1, 2000);
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), 1);
    stopper s = {n, 0};
    pthread_t th;
    CU_ASSERT_FATAL(pthread_create(&th, NULL, stop_thread, &s) == 0);
    /* The answer arrives, then the close. */
    CU_ASSERT(expect_echo(fd, 'D', 300, "answer-me"));
    CU_ASSERT(expect_closed(fd));
    CU_ASSERT(expect_closed(idle));
    pthread_join(th, NULL);
    release_delayed();
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.cb_errors), 0);
    CU_ASSERT(s.took >= 250);
    CU_ASSERT(s.took < 3000);
    close(fd);
    close(idle);
}

static void test_stop_timeout(void)
{
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.num_threads = 1;
    cfg.stop_timeout_ms = 200;
    sesp_net *n = start_net(&cfg);
    int fd = client(n);
    CU_ASSERT(send_req(fd, 'D', 1500, "too-slow"));
    wait_calls(1, 2000);
    int64_t t0 = now_ms();
    stop_net(n);
    int64_t took = now_ms() - t0;
    CU_ASSERT(took >= 150);
    CU_ASSERT(took < 1200);
    CU_ASSERT(expect_closed(fd));
    close(fd);
}

/* ---- large frames (read straight into the frame buffer) ---- */

static const size_t g_big_sizes[] = {70000, 9, 1u << 20, 65535, 65536, 200, 3u << 20, 65537, 5};
#define BIG_N 27

static uint8_t big_byte(uint32_t i, size_t j) { return (uint8_t)(i * 31 + j * 7 + (j >> 9)); }

/* Frame i of the large-frame stream: 'E', param i, then a pattern. */
static uint8_t *make_big(uint32_t i, size_t *len)
{
    size_t n = g_big_sizes[i % (sizeof g_big_sizes / sizeof g_big_sizes[0])];
    uint8_t *p = malloc(4 + n);
    put_u32(p, (uint32_t)n);
    p[4] = 'E';
    put_u32(p + 5, i);
    for (size_t j = 9; j < 4 + n; j++)
        p[j] = big_byte(i, j);
    *len = 4 + n;
    return p;
}

typedef struct big_sender {
    int fd;
    bool ok;
} big_sender;

/* Sends the stream in uneven pieces (some cut inside headers, some spanning
 * frames) with short pauses, so frames arrive split across many reads. */
static void *big_send_thread(void *arg)
{
    big_sender *b = arg;
    unsigned seed = 12345;
    b->ok = true;
    for (uint32_t i = 0; i < BIG_N && b->ok; i++) {
        size_t len;
        uint8_t *p = make_big(i, &len);
        for (size_t off = 0; off < len && b->ok;) {
            size_t piece = 1 + (size_t)rand_r(&seed) % 300000;
            if (piece > len - off)
                piece = len - off;
            b->ok = send_all(b->fd, p + off, piece);
            off += piece;
            if (rand_r(&seed) % 4 == 0)
                usleep(1000);
        }
        free(p);
    }
    return NULL;
}

static void test_large_frames(void)
{
    sesp_net *n = start_default();
    int fd = client(n);
    big_sender b = {fd, false};
    pthread_t th;
    CU_ASSERT_FATAL(pthread_create(&th, NULL, big_send_thread, &b) == 0);
    int good = 0;
    for (uint32_t i = 0; i < BIG_N; i++) {
        size_t want_len, len = 0;
        uint8_t *want = make_big(i, &want_len);
        uint8_t *got = recv_frame(fd, &len);
        bool ok = got && len == want_len - 4 && memcmp(got, want + 4, len) == 0;
        free(want);
        free(got);
        if (!ok)
            break;
        good++;
    }
    pthread_join(th, NULL);
    CU_ASSERT(b.ok);
    CU_ASSERT_EQUAL(good, BIG_N);
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), BIG_N);
    /* Small requests still work on the same connection afterwards. */
    CU_ASSERT(send_req(fd, 'E', 99, "after-big"));
    CU_ASSERT(expect_echo(fd, 'E', 99, "after-big"));
    close(fd);
    stop_net(n);
}

static void test_large_frame_cut(void)
{
    sesp_net *n = start_default();
    size_t len;
    uint8_t *p = make_big(2, &len); /* 1 MiB */
    /* Cut in the middle, then gone: nothing is dispatched, nothing leaks. */
    int fd = client(n);
    CU_ASSERT(send_all(fd, p, len / 2));
    usleep(20 * 1000);
    close(fd);
    /* Cut in the middle while the layer stops: the stop does not wait for it. */
    int half = client(n);
    CU_ASSERT(send_req(half, 'E', 1, "first"));
    CU_ASSERT(expect_echo(half, 'E', 1, "first"));
    CU_ASSERT(send_all(half, p, len / 3));
    int other = client(n);
    CU_ASSERT(send_req(other, 'E', 2, "other"));
    CU_ASSERT(expect_echo(other, 'E', 2, "other"));
    usleep(20 * 1000);
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), 2);
    int64_t t0 = now_ms();
    stop_net(n);
    CU_ASSERT(now_ms() - t0 < 2000);
    CU_ASSERT(expect_closed(half));
    CU_ASSERT_EQUAL(atomic_load(&g_ctx.calls), 2);
    close(half);
    close(other);
    free(p);
}

static void test_bind_conflict(void)
{
    sesp_net *n = start_default();
    sesp_net_listener l = {"127.0.0.1", sesp_net_bound_port(n, 0)};
    sesp_net_config cfg;
    sesp_net_config_defaults(&cfg);
    cfg.listeners = &l;
    cfg.num_listeners = 1;
    sesp_net *n2 = NULL;
    sesp_net_set_log_level(-1); /* the failure is expected; keep the output clean */
    CU_ASSERT_EQUAL(sesp_net_start(&cfg, test_cb, &g_ctx, &n2), SESP_ERR_IO);
    sesp_net_set_log_level(1);
    CU_ASSERT_PTR_NULL(n2);
    stop_net(n);
}

int main(void)
{
    char path[] = "/tmp/sesp_net_test_XXXXXX";
    g_ctx.file_fd = mkstemp(path);
    if (g_ctx.file_fd < 0)
        return 1;
    unlink(path);
    uint8_t *data = malloc(FILE_LEN);
    for (size_t i = 0; i < FILE_LEN; i++)
        data[i] = (uint8_t)(i * 31 % 251);
    if (write(g_ctx.file_fd, data, FILE_LEN) != FILE_LEN)
        return 1;
    free(data);
    if (getenv("SESP_NET_LOG") == NULL)
        sesp_net_set_log_level(0);

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("net", NULL, NULL);
    CU_add_test(s, "pipelined responses in request order", test_pipelined_order);
    CU_add_test(s, "many connections over several loops", test_many_connections);
    CU_add_test(s, "bad frame sizes close only that connection", test_bad_sizes);
    CU_add_test(s, "random input on many connections", test_random_input);
    CU_add_test(s, "truncated frames then disconnect", test_truncated);
    CU_add_test(s, "back-pressure on unsent output", test_backpressure);
    CU_add_test(s, "in-flight limit pauses dispatch", test_inflight_limit);
    CU_add_test(s, "idle connections close", test_idle_close);
    CU_add_test(s, "file segment responses", test_file_segment);
    CU_add_test(s, "close slot and acks=0 slot", test_close_and_none);
    CU_add_test(s, "graceful stop answers pending slot", test_graceful_stop);
    CU_add_test(s, "stop timeout bounds the drain", test_stop_timeout);
    CU_add_test(s, "bind conflict is an error", test_bind_conflict);
    CU_add_test(s, "large frames split across reads", test_large_frames);
    CU_add_test(s, "large frame cut by disconnect or stop", test_large_frame_cut);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    close(g_ctx.file_fd);
    return failed ? 1 : 0;
}
