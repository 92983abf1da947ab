/* libFuzzer target: request bodies for every API the broker server routes
 * (built-in handlers and the admin APIs acting on the topic registry), sent
 * over a real connection to an in-process broker.  Input: byte 0 picks the
 * API, byte 1 the version, the rest is the body.  Each request must be
 * answered or its connection closed; the broker must never crash or leak
 * (ASan/LSan at exit).  Group APIs are fuzzed by broker/group's own target. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/admin/admin.h"
#include "broker/protocol/header.h"
#include "broker/server/config.h"
#include "broker/server/server.h"

static sesp_config g_cfg;
static sesp_server *g_srv;
static int g_port;
static char g_dir[64];

static void shutdown_broker(void)
{
    sesp_server_stop(g_srv);
    sesp_config_free(&g_cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
}

static int attach(sesp_server *s, void *ud, char *err, size_t errlen)
{
    (void)ud;
    (void)err;
    (void)errlen;
    return sesp_admin_register(s);
}

static void start_broker(void)
{
    char err[256];
    evthread_use_pthreads();
    snprintf(g_dir, sizeof g_dir, "/tmp/sesp-fuzz-srv-XXXXXX");
    if (!mkdtemp(g_dir))
        abort();
    sesp_config_init(&g_cfg);
    sesp_config_set(&g_cfg, "listeners", "PLAINTEXT://127.0.0.1:0", err, sizeof err);
    sesp_config_set(&g_cfg, "log.dirs", g_dir, err, sizeof err);
    sesp_config_set(&g_cfg, "num.network.threads", "1", err, sizeof err);
    sesp_config_set(&g_cfg, "log.segment.bytes", "65536", err, sizeof err);
    if (sesp_config_finish(&g_cfg, err, sizeof err) || sesp_server_start(&g_cfg, attach, NULL, &g_srv, err, sizeof err)) {
        fprintf(stderr, "fuzz broker: %s\n", err);
        abort();
    }
    g_port = sesp_server_bound_port(g_srv, 0);
    char msg[SESP_TOPICS_MSG_LEN];
    /* A topic with data so Fetch/ListOffsets reach the log. */
    sesp_topics_create(g_srv->topics, "t", 1, 2, 1, NULL, 0, false, NULL, msg, sizeof msg);
    atexit(shutdown_broker);
}

/* libFuzzer's -timeout runs a once-a-second SIGALRM, which interrupts a
 * blocking connect that waits on a full accept queue (EINTR: the connection
 * goes on in the background), or a send. */
static int connect_loopback(int fd, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return 0;
    if (errno != EINTR)
        return -1;
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    int r;
    while ((r = poll(&pf, 1, 10000)) < 0 && errno == EINTR) {
    }
    int err = 0;
    socklen_t l = sizeof err;
    if (r != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err) {
        errno = err ? err : ETIMEDOUT;
        return -1;
    }
    return 0;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_srv)
        start_broker();
    if (size < 2)
        return 0;
    const sesp_api_def *d = &g_srv->apis[data[0] % g_srv->napis];
    int span = d->max_version - d->min_version + 1;
    int16_t ver = (int16_t)(d->min_version + data[1] % span);
    sesp_bufw w;
    sesp_bufw_init(&w, size + 64, 0);
    sesp_bufw_i32(&w, 0);
    sesp_kreq_header h = {.api_key = d->api_key, .api_version = ver, .correlation_id = 1,
                          .client_id = SESP_KSTR("fuzz")};
    sesp_kreq_header_encode(&w, &h);
    sesp_bufw_put(&w, data + 2, size - 2);
    sesp_bufw_patch_i32(&w, 0, (int32_t)(w.len - 4));
    /* Sentinel: an ApiVersions v0 right behind; its answer means ours was handled. */
    size_t mark = w.len;
    sesp_bufw_i32(&w, 0);
    sesp_kreq_header s = {.api_key = 18, .api_version = 0, .correlation_id = 0x5e5e, .client_id = SESP_KSTR("f")};
    sesp_kreq_header_encode(&w, &s);
    sesp_bufw_patch_i32(&w, mark, (int32_t)(w.len - mark - 4));

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect_loopback(fd, g_port) != 0) {
        int e = errno, nfd = 0;
        DIR *dd = opendir("/proc/self/fd");
        for (struct dirent *de; dd && (de = readdir(dd));) nfd++;
        if (dd) closedir(dd);
        fprintf(stderr, "connect: %s (%d fds open)\n", strerror(e), nfd);
        abort(); /* the broker died */
    }
    if (send_all(fd, w.p, w.len) == 0) {
        /* Read until the peer closes or goes quiet after answering; a parked
         * long-poll is left to its timer. */
        uint8_t buf[65536];
        for (;;) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (poll(&pf, 1, 2000) != 1)
                break;
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            if (n >= 4 && memmem(buf, (size_t)n, "\x00\x00\x5e\x5e", 4))
                break;
        }
    }
    close(fd);
    sesp_bufw_free(&w);
    return 0;
}
