/* Unit tests of the S3 backend's conditional-put detection against a small
 * in-process S3 stand-in (PUT/GET/HEAD/DELETE on paths, one request per
 * connection) that either enforces `If-None-Match: *` or ignores it as some
 * S3-compatible stores do: auto mode probes once per handle and leaves no
 * probe behind, refuses put_if_absent on an ignoring store without a lock,
 * uses the lock when one is configured, and `supported` skips the probe. */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/objstore/objstore.h"

#define MAX_OBJS 64

typedef struct mock {
    int fd, port;
    bool enforce;               /* honour If-None-Match: * */
    volatile bool stop;
    pthread_t th;
    pthread_mutex_t mu;
    struct { char path[512]; char *body; size_t len; } obj[MAX_OBJS];
    int nobj;
    int requests, cond_puts, probe_puts;
    char last_host[256], last_auth[1024], last_path[512];
} mock;

static int find(mock *m, const char *path)
{
    for (int i = 0; i < m->nobj; i++)
        if (!strcmp(m->obj[i].path, path)) return i;
    return -1;
}

static void reply(int c, int status, const char *reason, const char *body, size_t len, bool head)
{
    char hdr[256];
    int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status, reason, len);
    if (write(c, hdr, (size_t)n) < 0) return;
    if (len && !head && write(c, body, len) < 0) return;
}

static void serve(mock *m, int c)
{
    char buf[65536];
    size_t got = 0;
    char *end = NULL;
    while (!end && got < sizeof(buf) - 1) {
        ssize_t r = read(c, buf + got, sizeof(buf) - 1 - got);
        if (r <= 0) return;
        got += (size_t)r;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) return;
    char method[16], path[512];
    if (sscanf(buf, "%15s %511s", method, path) != 2) return;
    char *q = strchr(path, '?');
    if (q) *q = 0;
    size_t clen = 0;
    bool cond = false;
    for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (!strncasecmp(l + 2, "Content-Length:", 15)) clen = strtoul(l + 17, NULL, 10);
        if (!strncasecmp(l + 2, "If-None-Match: *", 16)) cond = true;
        if (!strncasecmp(l + 2, "Host:", 5)) sscanf(l + 8, "%255[^\r]", m->last_host);
        if (!strncasecmp(l + 2, "Authorization:", 14)) sscanf(l + 17, "%1023[^\r]", m->last_auth);
        if (!strncasecmp(l + 2, "Expect: 100-continue", 20) && write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) return;
    }
    char *body = end + 4;
    size_t have = got - (size_t)(body - buf);
    while (have < clen && (size_t)(body - buf) + clen < sizeof(buf)) {
        ssize_t r = read(c, body + have, clen - have);
        if (r <= 0) return;
        have += (size_t)r;
    }
    pthread_mutex_lock(&m->mu);
    snprintf(m->last_path, sizeof(m->last_path), "%s", path);
    m->requests++;
    int i = find(m, path);
    if (!strcmp(method, "PUT")) {
        m->cond_puts += cond;
        m->probe_puts += strstr(path, ".sesp-cas-probe-") != NULL;
        if (cond && m->enforce && i >= 0) reply(c, 412, "Precondition Failed", "<Error><Code>PreconditionFailed</Code></Error>", 46, false);
        else {
            if (i < 0 && m->nobj < MAX_OBJS) {
                i = m->nobj++;
                snprintf(m->obj[i].path, sizeof(m->obj[i].path), "%s", path);
                m->obj[i].body = NULL;
            }
            if (i >= 0) {
                free(m->obj[i].body);
                m->obj[i].body = malloc(clen + 1);
                memcpy(m->obj[i].body, body, clen);
                m->obj[i].len = clen;
            }
            reply(c, 200, "OK", "", 0, false);
        }
    } else if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
        if (i < 0) reply(c, 404, "Not Found", "<Error><Code>NoSuchKey</Code></Error>", 37, !strcmp(method, "HEAD"));
        else reply(c, 200, "OK", m->obj[i].body, m->obj[i].len, !strcmp(method, "HEAD"));
    } else if (!strcmp(method, "DELETE")) {
        if (i >= 0) {
            free(m->obj[i].body);
            m->obj[i] = m->obj[--m->nobj];
        }
        reply(c, 204, "No Content", "", 0, false);
    } else reply(c, 501, "Not Implemented", "", 0, false);
    pthread_mutex_unlock(&m->mu);
}

static void *mock_loop(void *arg)
{
    mock *m = arg;
    while (!m->stop) {
        struct pollfd p = {m->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(m->fd, NULL, NULL);
        if (c < 0) continue;
        serve(m, c);
        close(c);
    }
    return NULL;
}

static mock *mock_start(bool enforce)
{
    mock *m = calloc(1, sizeof(*m));
    m->enforce = enforce;
    pthread_mutex_init(&m->mu, NULL);
    m->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    CU_ASSERT_FATAL(bind(m->fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(m->fd, 16) == 0);
    getsockname(m->fd, (struct sockaddr *)&a, &al);
    m->port = ntohs(a.sin_port);
    pthread_create(&m->th, NULL, mock_loop, m);
    return m;
}

static void mock_stop(mock *m)
{
    m->stop = true;
    pthread_join(m->th, NULL);
    close(m->fd);
    for (int i = 0; i < m->nobj; i++) free(m->obj[i].body);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static int count_probes_left(mock *m)
{
    pthread_mutex_lock(&m->mu);
    int n = 0;
    for (int i = 0; i < m->nobj; i++) n += strstr(m->obj[i].path, ".sesp-cas-probe-") != NULL;
    pthread_mutex_unlock(&m->mu);
    return n;
}

static sesp_objstore *open_s3(mock *m, const char *cond, const char *lock)
{
    static char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", m->port);
    sesp_objstore_opts o = {0};
    o.s3_endpoint = endpoint;
    o.max_attempts = 2;
    o.retry_base_ms = 1;
    o.s3_access_key_id = "AKIDTEST";       /* from the options: the environment plays no part */
    o.s3_secret_access_key = "SECRETTEST";
    if (cond) CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.conditional-put", cond), 0);
    o.s3_lock_path = lock;
    sesp_objstore *s = NULL;
    CU_ASSERT_FATAL(sesp_objstore_open("s3://bucket/tables/t", &o, &s) == 0);
    return s;
}

static const char *KEY = "_delta_log/00000000000000000000.json";

static void test_enforcing_store(void)
{
    mock *m = mock_start(true);
    sesp_objstore *s = open_s3(m, NULL, NULL);   /* auto is the default */
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "first", 5), 0);
    CU_ASSERT_EQUAL(m->probe_puts, 2);          /* one plain create, one conditional */
    CU_ASSERT_EQUAL(count_probes_left(m), 0);   /* and deleted again */
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "other", 5), SESP_ERR_EXISTS);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, "_delta_log/00000000000000000001.json", "x", 1), 0);
    CU_ASSERT_EQUAL(m->probe_puts, 2);          /* probed once per handle */
    uint8_t *d = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(sesp_objstore_get(s, KEY, &d, &n), 0);
    CU_ASSERT(n == 5 && d && !memcmp(d, "first", 5));
    free(d);
    sesp_objstore_close(s);
    /* the probe lands next to the key, whatever its directory */
    s = open_s3(m, "auto", NULL);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, "top", "v", 1), 0);
    CU_ASSERT_EQUAL(m->probe_puts, 4);
    CU_ASSERT_EQUAL(count_probes_left(m), 0);
    sesp_objstore_close(s);
    mock_stop(m);
}

static void test_ignoring_store(void)
{
    mock *m = mock_start(false);
    sesp_objstore *s = open_s3(m, NULL, NULL);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "first", 5), SESP_ERR_UNSUPPORTED);
    const char *e = sesp_objstore_error(s);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "ignores If-None-Match"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "s3.lock-path"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "s3.conditional-put=supported"));
    CU_ASSERT_EQUAL(count_probes_left(m), 0);
    int before = m->requests;
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "first", 5), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_EQUAL(m->requests, before);       /* the answer is remembered */
    uint8_t *d = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(sesp_objstore_get(s, KEY, &d, &n), SESP_ERR_NOT_FOUND);   /* nothing was written */
    sesp_objstore_close(s);

    /* with a lock file the locked HEAD + PUT path takes over */
    char lock[128];
    snprintf(lock, sizeof(lock), "/tmp/sesp-objstore-s3-test-%d.lock", (int)getpid());
    s = open_s3(m, "auto", lock);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "first", 5), 0);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "second", 6), SESP_ERR_EXISTS);
    CU_ASSERT_EQUAL(sesp_objstore_get(s, KEY, &d, &n), 0);
    CU_ASSERT(n == 5 && d && !memcmp(d, "first", 5));
    free(d);
    CU_ASSERT_EQUAL(count_probes_left(m), 0);
    sesp_objstore_close(s);
    unlink(lock);

    /* declared unsupported: no probe, same refusal without a lock */
    int probes = m->probe_puts;
    s = open_s3(m, "unsupported", NULL);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, "_delta_log/x.json", "v", 1), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_objstore_error(s), "s3.conditional-put=unsupported"));
    sesp_objstore_close(s);
    /* declared supported: trusted without a probe (here wrongly: the store ignores it) */
    s = open_s3(m, "supported", NULL);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, "_delta_log/y.json", "v", 1), 0);
    CU_ASSERT_EQUAL(m->probe_puts, probes);
    sesp_objstore_close(s);
    mock_stop(m);
}

static void test_probe_failure(void)
{
    /* nothing listens: the probe's own error, and a later call probes again */
    sesp_objstore_opts o = {0};
    o.s3_endpoint = "http://127.0.0.1:9";
    o.max_attempts = 1;
    o.s3_anonymous = true;
    sesp_objstore *s = NULL;
    CU_ASSERT_FATAL(sesp_objstore_open("s3://bucket/p", &o, &s) == 0);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "v", 1), SESP_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_objstore_error(s), "probing"));
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "v", 1), SESP_ERR_IO);
    sesp_objstore_close(s);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.conditional-put", "auto"), 0);
    CU_ASSERT_EQUAL(o.s3_conditional_put, SESP_S3_CONDITIONAL_PUT_AUTO);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.conditional-put", "supported"), 0);
    CU_ASSERT_EQUAL(o.s3_conditional_put, SESP_S3_CONDITIONAL_PUT_SUPPORTED);
}

/* virtual-hosted addressing: the bucket moves into the Host header (curl
 * resolves *.localhost to the loopback address itself) and out of the path,
 * and SigV4 signs that host */
static void test_virtual_hosted(void)
{
    mock *m = mock_start(true);
    char endpoint[64], host[96];
    snprintf(endpoint, sizeof(endpoint), "http://s3.localhost:%d", m->port);
    snprintf(host, sizeof(host), "bucket.s3.localhost:%d", m->port);
    sesp_objstore_opts o = {0};
    o.s3_endpoint = endpoint;
    o.max_attempts = 2;
    o.retry_base_ms = 1;
    o.s3_region = "eu-west-3";
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.path-style", "false"), 0);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.access-key-id", "AKIDVHOST"), 0);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.secret-access-key", "SECRETVHOST"), 0);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.conditional-put", "supported"), 0);
    sesp_objstore *s = NULL;
    CU_ASSERT_FATAL(sesp_objstore_open("s3://bucket/tables/t", &o, &s) == 0);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "vh", 2), 0);
    CU_ASSERT_STRING_EQUAL(m->last_host, host);
    CU_ASSERT_STRING_EQUAL(m->last_path, "/tables/t/_delta_log/00000000000000000000.json");
    CU_ASSERT_PTR_NOT_NULL(strstr(m->last_auth, "AWS4-HMAC-SHA256 Credential=AKIDVHOST/"));
    CU_ASSERT_PTR_NOT_NULL(strstr(m->last_auth, "/eu-west-3/s3/aws4_request"));
    /* only headers that are sent are signed: never a disabled "Expect:" */
    CU_ASSERT_PTR_NOT_NULL(strstr(m->last_auth, "SignedHeaders=content-type;host;if-none-match;x-amz-content-sha256;x-amz-date,"));
    CU_ASSERT_PTR_NULL(strstr(m->last_auth, "SECRETVHOST"));
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, KEY, "no", 2), SESP_ERR_EXISTS);
    uint8_t *d = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(sesp_objstore_get(s, KEY, &d, &n), 0);
    CU_ASSERT(n == 2 && d && !memcmp(d, "vh", 2));
    free(d);
    CU_ASSERT_STRING_EQUAL(m->last_host, host);
    CU_ASSERT_EQUAL(sesp_objstore_delete(s, KEY), 0);
    CU_ASSERT_STRING_EQUAL(m->last_path, "/tables/t/_delta_log/00000000000000000000.json");
    sesp_objstore_close(s);
    mock_stop(m);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("objstore_s3", NULL, NULL);
    CU_add_test(su, "enforcing_store", test_enforcing_store);
    CU_add_test(su, "ignoring_store", test_ignoring_store);
    CU_add_test(su, "probe_failure", test_probe_failure);
    CU_add_test(su, "virtual_hosted", test_virtual_hosted);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
