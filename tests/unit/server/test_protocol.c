/* Wire-level tests of the broker server: a raw TCP client sends requests
 * encoded with the generated codecs at every advertised version and decodes
 * the answers with the generated decoders, which checks the hand-written
 * Fetch encoder field by field, plus the error paths (KIP-511 ApiVersions,
 * unknown API, malformed body, fetch sessions, unknown topic ids). */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "broker/admin/admin.h"
#include "broker/log/batch.h"
#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/header.h"
#include "broker/protocol/kerr.h"
#include "broker/server/config.h"
#include "broker/server/server.h"

static char g_dir[64];
static sesp_config g_cfg;
static sesp_server *g_srv;
static int g_port;
static int g_fd = -1;
static int32_t g_corr = 1;
static uint8_t *g_resp;
static size_t g_resp_len;
static sesp_arena g_arena;

static int connect_broker(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads exactly n bytes with a 5 s bound; false on EOF/timeout. */
static bool read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 5000) != 1)
            return false;
        ssize_t r = read(fd, b, n);
        if (r <= 0)
            return false;
        b += r;
        n -= (size_t)r;
    }
    return true;
}

static void send_raw(int fd, int16_t key, int16_t ver, int32_t corr, const uint8_t *body, size_t len)
{
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    sesp_bufw_i32(&w, 0);
    sesp_kreq_header h = {.api_key = key, .api_version = ver, .correlation_id = corr,
                          .client_id = SESP_KSTR("sesp-test")};
    if (sesp_kreq_header_encode(&w, &h) != 0) {
        /* Unknown versions cannot be header-encoded: write header v1 by hand. */
        sesp_bufw_reset(&w);
        sesp_bufw_i32(&w, 0);
        sesp_bufw_i16(&w, key);
        sesp_bufw_i16(&w, ver);
        sesp_bufw_i32(&w, corr);
        sesp_bufw_i16(&w, 9);
        sesp_bufw_put(&w, "sesp-test", 9);
    }
    sesp_bufw_put(&w, body, len);
    sesp_bufw_patch_i32(&w, 0, (int32_t)(w.len - 4));
    CU_ASSERT_TRUE(write_all(fd, w.p, w.len));
    sesp_bufw_free(&w);
}

/* Reads one response, checks the correlation id, leaves a reader on the body. */
static bool recv_resp(int fd, int16_t key, int16_t ver, int32_t corr, sesp_bufr *r)
{
    uint8_t sz[4];
    if (!read_all(fd, sz, 4))
        return false;
    uint32_t n = (uint32_t)sz[0] << 24 | (uint32_t)sz[1] << 16 | (uint32_t)sz[2] << 8 | sz[3];
    free(g_resp);
    g_resp = malloc(n ? n : 1);
    g_resp_len = n;
    if (!read_all(fd, g_resp, n))
        return false;
    sesp_bufr_init(r, g_resp, n);
    CU_ASSERT_EQUAL(sesp_bufr_i32(r), corr);
    if (sesp_kresp_header_version(key, ver) >= 1)
        CU_ASSERT_EQUAL(sesp_bufr_uvarint(r), 0);
    return r->err == 0;
}

/* Encodes a request with enc(w, ver, msg), sends, reads the answer. */
#define CALL(key, ver, enc, msg, r)                                                                                 \
    ({                                                                                                              \
        sesp_bufw w_;                                                                                               \
        sesp_bufw_init(&w_, 256, 0);                                                                                \
        CU_ASSERT_EQUAL(enc(&w_, ver, msg), 0);                                                                     \
        int32_t c_ = g_corr++;                                                                                      \
        send_raw(g_fd, key, ver, c_, w_.p, w_.len);                                                                 \
        sesp_bufw_free(&w_);                                                                                        \
        recv_resp(g_fd, key, ver, c_, r);                                                                           \
    })

static bool closed_by_peer(int fd)
{
    uint8_t b[64];
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, 5000) != 1)
        return false;
    return read(fd, b, sizeof b) <= 0;
}

static int attach(sesp_server *s, void *ud, char *err, size_t errlen)
{
    (void)ud;
    int rc = sesp_admin_register(s);
    return rc ? rc : sesp_server_attach_groups(s, err, errlen);
}

static int suite_init(void)
{
    evthread_use_pthreads();
    snprintf(g_dir, sizeof g_dir, "/tmp/sesp-proto-XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    char err[256];
    sesp_config_init(&g_cfg);
    sesp_config_set(&g_cfg, "listeners", "PLAINTEXT://127.0.0.1:0", err, sizeof err);
    sesp_config_set(&g_cfg, "log.dirs", g_dir, err, sizeof err);
    sesp_config_set(&g_cfg, "num.partitions", "2", err, sizeof err);
    sesp_config_set(&g_cfg, "num.network.threads", "1", err, sizeof err);
    sesp_config_set(&g_cfg, "offsets.topic.num.partitions", "3", err, sizeof err);
    if (sesp_config_finish(&g_cfg, err, sizeof err) ||
        sesp_server_start(&g_cfg, attach, NULL, &g_srv, err, sizeof err))
        return 1;
    g_port = sesp_server_bound_port(g_srv, 0);
    g_fd = connect_broker();
    sesp_arena_init(&g_arena, 0);
    return g_fd < 0;
}

static int suite_clean(void)
{
    close(g_fd);
    sesp_server_stop(g_srv);
    sesp_config_free(&g_cfg);
    sesp_arena_free(&g_arena);
    free(g_resp);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) != 0;
}

static void test_api_versions(void)
{
    for (int16_t v = 0; v <= 4; v++) {
        sesp_kmsg_api_versions_request req;
        sesp_kmsg_api_versions_request_init(&req);
        req.client_software_name = SESP_KSTR("test");
        req.client_software_version = SESP_KSTR("1.0");
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(18, v, sesp_kmsg_api_versions_request_encode, &req, &r));
        sesp_kmsg_api_versions_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_api_versions_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL(m.error_code, 0);
        int hits = 0;
        for (int32_t i = 0; i < m.api_keys_count; i++) {
            if (i > 0)
                CU_ASSERT(m.api_keys[i].api_key > m.api_keys[i - 1].api_key);
            const sesp_kmsg_api_versions_response_api_version *k = &m.api_keys[i];
            if (k->api_key == 0)
                hits += k->min_version == 0 && k->max_version == 11;
            if (k->api_key == 1)
                hits += k->min_version == 4 && k->max_version == 17;
            if (k->api_key == 18)
                hits += k->min_version == 0 && k->max_version == 4;
        }
        CU_ASSERT_EQUAL(hits, 3);
    }
    /* KIP-511: an unknown version gets error 35 in a v0 body. */
    send_raw(g_fd, 18, 127, 4242, NULL, 0);
    sesp_bufr r;
    CU_ASSERT_TRUE_FATAL(recv_resp(g_fd, 18, 0, 4242, &r));
    sesp_kmsg_api_versions_response m;
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_api_versions_response_decode(&r, 0, &m, &g_arena), 0);
    CU_ASSERT_EQUAL(m.error_code, SESP_KERR_UNSUPPORTED_VERSION);
    CU_ASSERT(m.api_keys_count >= 6);
}

static sesp_kuuid g_topic_id;

static void test_metadata(void)
{
    for (int16_t v = 0; v <= 12; v++) {
        sesp_kmsg_metadata_request req;
        sesp_kmsg_metadata_request_init(&req);
        sesp_kmsg_metadata_request_metadata_request_topic t[3];
        for (int i = 0; i < 3; i++)
            sesp_kmsg_metadata_request_metadata_request_topic_init(&t[i]);
        t[0].name = SESP_KSTR("proto");
        t[1].name = SESP_KSTR("missing");
        t[2].name = SESP_KSTR("bad/name");
        req.topics = t;
        req.topics_count = v >= 4 ? 3 : 1; /* v0-3 always auto-create */
        req.allow_auto_topic_creation = false;
        if (v == 0)
            req.allow_auto_topic_creation = true;
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(3, v, sesp_kmsg_metadata_request_encode, &req, &r));
        sesp_kmsg_metadata_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_metadata_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL(m.brokers_count, 1);
        CU_ASSERT_EQUAL(m.brokers[0].node_id, 1);
        CU_ASSERT_EQUAL(m.brokers[0].port, g_port);
        if (v >= 1)
            CU_ASSERT_EQUAL(m.controller_id, 1);
        if (v >= 2)
            CU_ASSERT_EQUAL(m.cluster_id.len, 22);
        CU_ASSERT_EQUAL_FATAL(m.topics_count, req.topics_count);
        CU_ASSERT_EQUAL(m.topics[0].error_code, 0);
        CU_ASSERT_EQUAL(m.topics[0].partitions_count, 2);
        CU_ASSERT_EQUAL(m.topics[0].partitions[1].leader_id, 1);
        if (v >= 10) {
            CU_ASSERT_FALSE(sesp_kp_uuid_zero(&m.topics[0].topic_id));
            g_topic_id = m.topics[0].topic_id;
        }
        if (v >= 4) {
            CU_ASSERT_EQUAL(m.topics[1].error_code, SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION);
            CU_ASSERT_EQUAL(m.topics[2].error_code, SESP_KERR_INVALID_TOPIC_EXCEPTION);
        }
    }
}

static uint8_t *make_batch(int n, size_t *len)
{
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.codec = SESP_CODEC_ZSTD;
    sesp_batch_record_in recs[8];
    for (int i = 0; i < n; i++)
        recs[i] = (sesp_batch_record_in){.key = "k", .key_len = 1, .value = "payload", .value_len = 7,
                                         .timestamp = 1700000000000LL + i};
    uint8_t *b = NULL;
    CU_ASSERT_EQUAL(sesp_batch_build(&o, recs, n, &b, len), 0);
    return b;
}

static int64_t g_produced;

static void test_produce(void)
{
    for (int16_t v = 3; v <= 11; v++) {
        size_t len;
        uint8_t *b = make_batch(2, &len);
        sesp_kmsg_produce_request req;
        sesp_kmsg_produce_request_init(&req);
        sesp_kmsg_produce_request_partition_produce_data pd[2];
        sesp_kmsg_produce_request_partition_produce_data_init(&pd[0]);
        sesp_kmsg_produce_request_partition_produce_data_init(&pd[1]);
        pd[0].index = 0;
        pd[0].records = (sesp_kbytes){b, (int32_t)len};
        pd[1].index = 9;
        pd[1].records = (sesp_kbytes){b, (int32_t)len};
        sesp_kmsg_produce_request_topic_produce_data td;
        sesp_kmsg_produce_request_topic_produce_data_init(&td);
        td.name = SESP_KSTR("proto");
        td.partition_data = pd;
        td.partition_data_count = 2;
        req.acks = -1;
        req.timeout_ms = 1000;
        req.topic_data = &td;
        req.topic_data_count = 1;
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(0, v, sesp_kmsg_produce_request_encode, &req, &r));
        sesp_kmsg_produce_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_produce_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL_FATAL(m.responses_count, 1);
        CU_ASSERT_EQUAL_FATAL(m.responses[0].partition_responses_count, 2);
        CU_ASSERT_EQUAL(m.responses[0].partition_responses[0].error_code, 0);
        CU_ASSERT_EQUAL(m.responses[0].partition_responses[0].base_offset, g_produced);
        CU_ASSERT_EQUAL(m.responses[0].partition_responses[1].error_code, SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        g_produced += 2;
        /* acks=0: no answer; the next request's answer comes next. */
        req.acks = 0;
        td.partition_data_count = 1;
        sesp_bufw w;
        sesp_bufw_init(&w, 256, 0);
        sesp_kmsg_produce_request_encode(&w, v, &req);
        send_raw(g_fd, 0, v, g_corr++, w.p, w.len);
        sesp_bufw_free(&w);
        g_produced += 2;
        /* acks=0 with an error (unknown partition): the connection closes. */
        {
            int fd = connect_broker();
            td.partition_data_count = 2;
            sesp_bufw_init(&w, 256, 0);
            sesp_kmsg_produce_request_encode(&w, v, &req);
            send_raw(fd, 0, v, 1, w.p, w.len);
            sesp_bufw_free(&w);
            CU_ASSERT_TRUE(closed_by_peer(fd));
            close(fd);
            td.partition_data_count = 1;
            g_produced += 2; /* partition 0 of that request was appended */
        }
        /* Invalid acks. */
        req.acks = 2;
        CU_ASSERT_TRUE_FATAL(CALL(0, v, sesp_kmsg_produce_request_encode, &req, &r));
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_produce_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL(m.responses[0].partition_responses[0].error_code, SESP_KERR_INVALID_REQUIRED_ACKS);
        free(b);
    }
}

/* Produce v0-v2 are listed (librdkafka < 2.10 compresses only when v0 is)
 * but refused: nothing is appended and each partition gets UNSUPPORTED_VERSION. */
static void test_produce_old_versions(void)
{
    for (int16_t v = 0; v <= 2; v++) {
        size_t len;
        uint8_t *b = make_batch(2, &len);
        sesp_kmsg_produce_request req;
        sesp_kmsg_produce_request_init(&req);
        sesp_kmsg_produce_request_partition_produce_data pd;
        sesp_kmsg_produce_request_partition_produce_data_init(&pd);
        pd.index = 0;
        pd.records = (sesp_kbytes){b, (int32_t)len};
        sesp_kmsg_produce_request_topic_produce_data td;
        sesp_kmsg_produce_request_topic_produce_data_init(&td);
        td.name = SESP_KSTR("proto-old");
        td.partition_data = &pd;
        td.partition_data_count = 1;
        req.acks = 1;
        req.timeout_ms = 1000;
        req.topic_data = &td;
        req.topic_data_count = 1;
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(0, v, sesp_kmsg_produce_request_encode, &req, &r));
        sesp_kmsg_produce_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_produce_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL_FATAL(m.responses_count, 1);
        CU_ASSERT_EQUAL_FATAL(m.responses[0].partition_responses_count, 1);
        CU_ASSERT_EQUAL(m.responses[0].partition_responses[0].error_code, SESP_KERR_UNSUPPORTED_VERSION);
        free(b);
    }
    /* The refused requests did not create the topic. */
    CU_ASSERT_PTR_NULL(sesp_topics_get(g_srv->topics, "proto-old", 9));
}

static void check_records(sesp_kbytes rec, int64_t from, int64_t to)
{
    /* Whole batches, consecutive offsets from the batch holding `from`. */
    int64_t next = -1;
    size_t pos = 0;
    while (pos < (size_t)rec.len) {
        sesp_batch_header h;
        CU_ASSERT_EQUAL_FATAL(sesp_batch_validate(rec.ptr + pos, (size_t)rec.len - pos, 0, &h), 0);
        if (next < 0) {
            CU_ASSERT(h.base_offset <= from && sesp_batch_last_offset(&h) >= from);
        } else {
            CU_ASSERT_EQUAL(h.base_offset, next);
        }
        next = sesp_batch_last_offset(&h) + 1;
        pos += (size_t)sesp_batch_size(&h);
    }
    CU_ASSERT_EQUAL(next, to);
}

static void test_fetch(void)
{
    for (int16_t v = 4; v <= 17; v++) {
        sesp_kmsg_fetch_request req;
        sesp_kmsg_fetch_request_init(&req);
        sesp_kmsg_fetch_request_fetch_partition fp[3];
        for (int i = 0; i < 3; i++) {
            sesp_kmsg_fetch_request_fetch_partition_init(&fp[i]);
            fp[i].partition_max_bytes = 1 << 20;
        }
        fp[0].partition = 0;
        fp[0].fetch_offset = 3; /* inside the second batch */
        fp[1].partition = 1;
        fp[1].fetch_offset = 0; /* empty partition */
        fp[2].partition = 0;
        fp[2].fetch_offset = g_produced + 5;
        sesp_kmsg_fetch_request_fetch_topic ft[2];
        sesp_kmsg_fetch_request_fetch_topic_init(&ft[0]);
        sesp_kmsg_fetch_request_fetch_topic_init(&ft[1]);
        ft[0].topic = SESP_KSTR("proto");
        ft[0].topic_id = g_topic_id;
        ft[0].partitions = fp;
        ft[0].partitions_count = 3;
        ft[1].topic = SESP_KSTR("nope");
        memset(ft[1].topic_id.b, 7, 16);
        ft[1].partitions = fp;
        ft[1].partitions_count = 1;
        req.max_wait_ms = 100;
        req.min_bytes = 1;
        req.max_bytes = 1 << 24;
        req.session_id = 0;
        req.session_epoch = -1;
        req.topics = ft;
        req.topics_count = 2;
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(1, v, sesp_kmsg_fetch_request_encode, &req, &r));
        sesp_kmsg_fetch_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_fetch_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
        if (v >= 7) {
            CU_ASSERT_EQUAL(m.error_code, 0);
            CU_ASSERT_EQUAL(m.session_id, 0);
        }
        CU_ASSERT_EQUAL_FATAL(m.responses_count, 2);
        if (v >= 13) {
            CU_ASSERT_EQUAL(memcmp(m.responses[0].topic_id.b, g_topic_id.b, 16), 0);
        } else {
            CU_ASSERT_TRUE(sesp_kstr_eq(m.responses[0].topic, "proto"));
        }
        CU_ASSERT_EQUAL_FATAL(m.responses[0].partitions_count, 3);
        sesp_kmsg_fetch_response_partition_data *p = m.responses[0].partitions;
        CU_ASSERT_EQUAL(p[0].error_code, 0);
        CU_ASSERT_EQUAL(p[0].high_watermark, g_produced);
        CU_ASSERT_EQUAL(p[0].last_stable_offset, g_produced);
        if (v >= 5)
            CU_ASSERT_EQUAL(p[0].log_start_offset, 0);
        check_records(p[0].records, 3, g_produced);
        CU_ASSERT_EQUAL(p[1].error_code, 0);
        CU_ASSERT_EQUAL(p[1].high_watermark, 0);
        CU_ASSERT_EQUAL(p[1].records.len, 0);
        CU_ASSERT_EQUAL(p[2].error_code, SESP_KERR_OFFSET_OUT_OF_RANGE);
        CU_ASSERT_EQUAL(m.responses[1].partitions[0].error_code,
                        v >= 13 ? SESP_KERR_UNKNOWN_TOPIC_ID : SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION);

        /* partition_max_bytes 1: KIP-74 still returns the first batch whole. */
        fp[0].partition_max_bytes = 1;
        req.topics_count = 1;
        ft[0].partitions_count = 1;
        CU_ASSERT_TRUE_FATAL(CALL(1, v, sesp_kmsg_fetch_request_encode, &req, &r));
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_fetch_response_decode(&r, v, &m, &g_arena), 0);
        sesp_batch_header h;
        CU_ASSERT_EQUAL_FATAL(m.responses[0].partitions[0].records.len > 0, 1);
        CU_ASSERT_EQUAL(sesp_batch_validate(m.responses[0].partitions[0].records.ptr,
                                            (size_t)m.responses[0].partitions[0].records.len, 0, &h), 0);
        CU_ASSERT_EQUAL(sesp_batch_size(&h), m.responses[0].partitions[0].records.len);

        if (v >= 7) {
            /* Incremental fetch of a session we never created. */
            req.session_id = 1234;
            req.session_epoch = 3;
            CU_ASSERT_TRUE_FATAL(CALL(1, v, sesp_kmsg_fetch_request_encode, &req, &r));
            CU_ASSERT_EQUAL_FATAL(sesp_kmsg_fetch_response_decode(&r, v, &m, &g_arena), 0);
            CU_ASSERT_EQUAL(m.error_code, SESP_KERR_FETCH_SESSION_ID_NOT_FOUND);
            CU_ASSERT_EQUAL(m.responses_count, 0);
        }
    }
}

static void test_fetch_long_poll_timeout(void)
{
    sesp_kmsg_fetch_request req;
    sesp_kmsg_fetch_request_init(&req);
    sesp_kmsg_fetch_request_fetch_partition fp;
    sesp_kmsg_fetch_request_fetch_partition_init(&fp);
    fp.partition = 1;
    fp.fetch_offset = 0;
    fp.partition_max_bytes = 1000;
    sesp_kmsg_fetch_request_fetch_topic ft;
    sesp_kmsg_fetch_request_fetch_topic_init(&ft);
    ft.topic = SESP_KSTR("proto");
    ft.partitions = &fp;
    ft.partitions_count = 1;
    req.max_wait_ms = 300;
    req.min_bytes = 1;
    req.topics = &ft;
    req.topics_count = 1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    sesp_bufr r;
    CU_ASSERT_TRUE_FATAL(CALL(1, 11, sesp_kmsg_fetch_request_encode, &req, &r));
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    CU_ASSERT(ms >= 250 && ms < 2000);
    sesp_kmsg_fetch_response m;
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_fetch_response_decode(&r, 11, &m, &g_arena), 0);
    CU_ASSERT_EQUAL(m.responses[0].partitions[0].records.len, 0);
}

static void test_list_offsets_and_coordinator(void)
{
    for (int16_t v = 0; v <= 10; v++) {
        sesp_kmsg_list_offsets_request req;
        sesp_kmsg_list_offsets_request_init(&req);
        sesp_kmsg_list_offsets_request_list_offsets_partition p[4];
        /* The last is after every record and (for v0) after "now": year 2100. */
        int64_t ts[4] = {-1, -2, 1700000000000LL, 4102444800000LL};
        for (int i = 0; i < 4; i++) {
            sesp_kmsg_list_offsets_request_list_offsets_partition_init(&p[i]);
            p[i].partition_index = 0;
            p[i].timestamp = ts[i];
        }
        p[0].max_num_offsets = 5; /* v0 only */
        sesp_kmsg_list_offsets_request_list_offsets_topic t;
        sesp_kmsg_list_offsets_request_list_offsets_topic_init(&t);
        t.name = SESP_KSTR("proto");
        t.partitions = p;
        t.partitions_count = 4;
        req.replica_id = -1;
        req.topics = &t;
        req.topics_count = 1;
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(2, v, sesp_kmsg_list_offsets_request_encode, &req, &r));
        sesp_kmsg_list_offsets_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_list_offsets_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL_FATAL(m.topics[0].partitions_count, 4);
        if (v == 0) {
            /* One segment holding data: LATEST is the end offset then the
             * segment's base; EARLIEST the log start; a time before the
             * segment file was written finds nothing; a time after now
             * gives the end offset (max_num_offsets 1, the default). */
            sesp_kmsg_list_offsets_response_list_offsets_partition_response *q = m.topics[0].partitions;
            for (int i = 0; i < 4; i++)
                CU_ASSERT_EQUAL(q[i].error_code, 0);
            CU_ASSERT_EQUAL_FATAL(q[0].old_style_offsets_count, 2);
            CU_ASSERT_EQUAL(q[0].old_style_offsets[0], g_produced);
            CU_ASSERT_EQUAL(q[0].old_style_offsets[1], 0);
            CU_ASSERT_EQUAL_FATAL(q[1].old_style_offsets_count, 1);
            CU_ASSERT_EQUAL(q[1].old_style_offsets[0], 0);
            CU_ASSERT_EQUAL(q[2].old_style_offsets_count, 0);
            CU_ASSERT_EQUAL_FATAL(q[3].old_style_offsets_count, 1);
            CU_ASSERT_EQUAL(q[3].old_style_offsets[0], g_produced);
            continue;
        }
        CU_ASSERT_EQUAL(m.topics[0].partitions[0].offset, g_produced);
        CU_ASSERT_EQUAL(m.topics[0].partitions[1].offset, 0);
        CU_ASSERT_EQUAL(m.topics[0].partitions[2].offset, 0);
        CU_ASSERT_EQUAL(m.topics[0].partitions[2].timestamp, 1700000000000LL);
        CU_ASSERT_EQUAL(m.topics[0].partitions[3].offset, -1);
    }
    for (int16_t v = 0; v <= 6; v++) {
        sesp_kmsg_find_coordinator_request req;
        sesp_kmsg_find_coordinator_request_init(&req);
        sesp_kstr keys[2] = {SESP_KSTR("g1"), SESP_KSTR("g2")};
        req.key = SESP_KSTR("g1");
        req.coordinator_keys = keys;
        req.coordinator_keys_count = 2;
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(10, v, sesp_kmsg_find_coordinator_request_encode, &req, &r));
        sesp_kmsg_find_coordinator_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_find_coordinator_response_decode(&r, v, &m, &g_arena), 0);
        if (v < 4) {
            CU_ASSERT_EQUAL(m.error_code, 0);
            CU_ASSERT_EQUAL(m.node_id, 1);
            CU_ASSERT_EQUAL(m.port, g_port);
        } else {
            CU_ASSERT_EQUAL_FATAL(m.coordinators_count, 2);
            CU_ASSERT_TRUE(sesp_kstr_eq(m.coordinators[1].key, "g2"));
            CU_ASSERT_EQUAL(m.coordinators[1].node_id, 1);
            CU_ASSERT_EQUAL(m.coordinators[1].port, g_port);
        }
    }
}

/* ListOffsets v0's handler on the edges: max_num_offsets 0 and negative
 * (Kafka: an empty list; an unknown server error), EARLIEST_LOCAL as
 * EARLIEST, MAX_TIMESTAMP meaning nothing in v0, unknown partitions and
 * topics, each error with an empty (not null) list. */
static void test_list_offsets_v0(void)
{
    struct {
        int32_t part;
        int64_t ts;
        int32_t max;
        int16_t err;
        int32_t n;
        int64_t first;
    } c[] = {
        {0, -1, 0, 0, 0, 0},
        {0, -1, -1, SESP_KERR_UNKNOWN_SERVER_ERROR, 0, 0},
        {0, -4, 3, 0, 1, 0},
        {0, -3, 3, 0, 0, 0},
        {0, -1, 1000000, 0, 2, g_produced},
        {9, -1, 1, SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION, 0, 0},
    };
    enum { NC = sizeof c / sizeof c[0] };
    sesp_kmsg_list_offsets_request_list_offsets_partition p[NC], up;
    for (int i = 0; i < NC; i++) {
        sesp_kmsg_list_offsets_request_list_offsets_partition_init(&p[i]);
        p[i].partition_index = c[i].part;
        p[i].timestamp = c[i].ts;
        p[i].max_num_offsets = c[i].max;
    }
    sesp_kmsg_list_offsets_request_list_offsets_partition_init(&up);
    up.timestamp = -1;
    sesp_kmsg_list_offsets_request_list_offsets_topic t[2];
    sesp_kmsg_list_offsets_request_list_offsets_topic_init(&t[0]);
    sesp_kmsg_list_offsets_request_list_offsets_topic_init(&t[1]);
    t[0].name = SESP_KSTR("proto");
    t[0].partitions = p;
    t[0].partitions_count = NC;
    t[1].name = SESP_KSTR("no-such-topic-v0");
    t[1].partitions = &up;
    t[1].partitions_count = 1;
    sesp_kmsg_list_offsets_request req;
    sesp_kmsg_list_offsets_request_init(&req);
    req.replica_id = -1;
    req.topics = t;
    req.topics_count = 2;
    sesp_bufr r;
    CU_ASSERT_TRUE_FATAL(CALL(2, 0, sesp_kmsg_list_offsets_request_encode, &req, &r));
    sesp_kmsg_list_offsets_response m;
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_list_offsets_response_decode(&r, 0, &m, &g_arena), 0);
    CU_ASSERT_EQUAL(r.len - r.pos, 0);
    CU_ASSERT_EQUAL_FATAL(m.topics_count, 2);
    CU_ASSERT_EQUAL_FATAL(m.topics[0].partitions_count, NC);
    for (int i = 0; i < NC; i++) {
        const sesp_kmsg_list_offsets_response_list_offsets_partition_response *q = &m.topics[0].partitions[i];
        CU_ASSERT_EQUAL(q->partition_index, c[i].part);
        CU_ASSERT_EQUAL(q->error_code, c[i].err);
        CU_ASSERT_EQUAL(q->old_style_offsets_count, c[i].n);
        if (c[i].n > 0 && q->old_style_offsets_count > 0)
            CU_ASSERT_EQUAL(q->old_style_offsets[0], c[i].first);
    }
    CU_ASSERT_EQUAL_FATAL(m.topics[1].partitions_count, 1);
    CU_ASSERT_EQUAL(m.topics[1].partitions[0].error_code, SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(m.topics[1].partitions[0].old_style_offsets_count, 0);
}

static void test_init_producer_id(void)
{
    int64_t first = -1;
    for (int16_t v = 0; v <= 5; v++) {
        sesp_kmsg_init_producer_id_request req;
        sesp_kmsg_init_producer_id_request_init(&req);
        req.transactional_id = SESP_KSTR_NULL;
        req.transaction_timeout_ms = 60000;
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(22, v, sesp_kmsg_init_producer_id_request_encode, &req, &r));
        sesp_kmsg_init_producer_id_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_init_producer_id_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL(m.error_code, 0);
        CU_ASSERT(m.producer_id > first);
        CU_ASSERT_EQUAL(m.producer_epoch, 0);
        first = m.producer_id;
        if (v >= 3) {
            /* KIP-360 epoch bump of a known id. */
            req.producer_id = m.producer_id;
            req.producer_epoch = 0;
            CU_ASSERT_TRUE_FATAL(CALL(22, v, sesp_kmsg_init_producer_id_request_encode, &req, &r));
            CU_ASSERT_EQUAL_FATAL(sesp_kmsg_init_producer_id_response_decode(&r, v, &m, &g_arena), 0);
            CU_ASSERT_EQUAL(m.producer_id, first);
            CU_ASSERT_EQUAL(m.producer_epoch, 1);
        }
        req.transactional_id = SESP_KSTR("txn");
        req.producer_id = -1;
        req.producer_epoch = -1;
        CU_ASSERT_TRUE_FATAL(CALL(22, v, sesp_kmsg_init_producer_id_request_encode, &req, &r));
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_init_producer_id_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL(m.error_code, SESP_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    }
    /* Clients may not write internal topics, nor create them by metadata. */
    size_t len;
    uint8_t *b = make_batch(1, &len);
    sesp_kmsg_produce_request req;
    sesp_kmsg_produce_request_init(&req);
    sesp_kmsg_produce_request_partition_produce_data pd;
    sesp_kmsg_produce_request_partition_produce_data_init(&pd);
    pd.records = (sesp_kbytes){b, (int32_t)len};
    sesp_kmsg_produce_request_topic_produce_data td;
    sesp_kmsg_produce_request_topic_produce_data_init(&td);
    td.name = SESP_KSTR("__consumer_offsets");
    td.partition_data = &pd;
    td.partition_data_count = 1;
    req.acks = 1;
    req.topic_data = &td;
    req.topic_data_count = 1;
    sesp_bufr r;
    CU_ASSERT_TRUE_FATAL(CALL(0, 9, sesp_kmsg_produce_request_encode, &req, &r));
    sesp_kmsg_produce_response m;
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_produce_response_decode(&r, 9, &m, &g_arena), 0);
    CU_ASSERT_EQUAL(m.responses[0].partition_responses[0].error_code, SESP_KERR_INVALID_TOPIC_EXCEPTION);
    free(b);
    /* It exists, made by the group glue with offsets.topic.num.partitions,
     * not by a client's request. */
    sesp_topic *co = sesp_topics_get(g_srv->topics, "__consumer_offsets", 18);
    CU_ASSERT_PTR_NOT_NULL_FATAL(co);
    CU_ASSERT_EQUAL(sesp_topic_partition_count(co), 3);
    sesp_topic_release(co);
}

static void test_offset_for_leader_epoch(void)
{
    for (int16_t v = 0; v <= 4; v++) {
        sesp_kmsg_offset_for_leader_epoch_request req;
        sesp_kmsg_offset_for_leader_epoch_request_init(&req);
        sesp_kmsg_offset_for_leader_epoch_request_offset_for_leader_partition p[3];
        for (int i = 0; i < 3; i++)
            sesp_kmsg_offset_for_leader_epoch_request_offset_for_leader_partition_init(&p[i]);
        p[0].partition = 0;
        p[0].leader_epoch = 0;
        p[0].current_leader_epoch = 0;
        p[1].partition = 0;
        p[1].leader_epoch = 5;
        p[1].current_leader_epoch = -1;
        p[2].partition = 42;
        sesp_kmsg_offset_for_leader_epoch_request_offset_for_leader_topic t;
        sesp_kmsg_offset_for_leader_epoch_request_offset_for_leader_topic_init(&t);
        t.topic = SESP_KSTR("proto");
        t.partitions = p;
        t.partitions_count = 3;
        req.replica_id = -1;
        req.topics = &t;
        req.topics_count = 1;
        sesp_bufr r;
        CU_ASSERT_TRUE_FATAL(CALL(23, v, sesp_kmsg_offset_for_leader_epoch_request_encode, &req, &r));
        sesp_kmsg_offset_for_leader_epoch_response m;
        CU_ASSERT_EQUAL_FATAL(sesp_kmsg_offset_for_leader_epoch_response_decode(&r, v, &m, &g_arena), 0);
        CU_ASSERT_EQUAL_FATAL(m.topics[0].partitions_count, 3);
        CU_ASSERT_EQUAL(m.topics[0].partitions[0].error_code, 0);
        CU_ASSERT_EQUAL(m.topics[0].partitions[0].end_offset, g_produced);
        CU_ASSERT_EQUAL(m.topics[0].partitions[1].end_offset, -1);
        CU_ASSERT_EQUAL(m.topics[0].partitions[2].error_code, SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    }
}

static void test_bad_requests(void)
{
    /* Unknown API key: closed. */
    int fd = connect_broker();
    send_raw(fd, 1000, 0, 1, NULL, 0);
    CU_ASSERT_TRUE(closed_by_peer(fd));
    close(fd);
    /* Version we do not advertise (Produce v2): closed. */
    fd = connect_broker();
    send_raw(fd, 0, 2, 1, NULL, 0);
    CU_ASSERT_TRUE(closed_by_peer(fd));
    close(fd);
    /* Truncated Metadata body: closed. */
    fd = connect_broker();
    uint8_t body[3] = {0, 0, 5};
    send_raw(fd, 3, 1, 1, body, sizeof body);
    CU_ASSERT_TRUE(closed_by_peer(fd));
    close(fd);
    /* Lying array count in a Produce: closed, not a huge allocation. */
    fd = connect_broker();
    uint8_t pb[] = {0xff, 0xff, 0, 1, 0, 0, 0x03, 0xe8, 0x7f, 0xff, 0xff, 0xff};
    send_raw(fd, 0, 3, 1, pb, sizeof pb);
    CU_ASSERT_TRUE(closed_by_peer(fd));
    close(fd);
    /* The main connection still works. */
    sesp_kmsg_api_versions_request req;
    sesp_kmsg_api_versions_request_init(&req);
    sesp_bufr r;
    CU_ASSERT_TRUE(CALL(18, 2, sesp_kmsg_api_versions_request_encode, &req, &r));
}

/* Random and mutated bodies for every API and version we advertise: each
 * request is answered or its connection closed; the broker stays up. */
static void test_garbage_bodies(void)
{
    uint64_t seed = 0x5e5e5e5e12345678ULL;
#define RND() (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17, seed)
    int answered = 0, closed = 0;
    for (size_t a = 0; a < g_srv->napis; a++) {
        const sesp_api_def *d = &g_srv->apis[a];
        const char *only = getenv("GARBAGE_API"); /* for bisecting a failure */
        if (only && atoi(only) != d->api_key)
            continue;
        for (int16_t v = d->min_version; v <= d->max_version; v++) {
            for (int i = 0; i < 6; i++) {
                uint8_t body[160];
                size_t len = RND() % sizeof body;
                for (size_t k = 0; k < len; k++)
                    body[k] = (uint8_t)(RND() % 4 == 0 ? RND() : (RND() % 3 == 0 ? 0xff : 0));
                int fd = connect_broker();
                CU_ASSERT_FATAL(fd >= 0);
                send_raw(fd, d->api_key, v, 7, body, len);
                /* A sentinel ApiVersions: its answer proves the first was handled. */
                send_raw(fd, 18, 0, 8, NULL, 0);
                uint8_t buf[4096];
                bool done = false, got_any = false;
                while (!done) {
                    struct pollfd pf = {.fd = fd, .events = POLLIN};
                    if (poll(&pf, 1, 10000) != 1) {
                        CU_FAIL("no answer and no close within 10 s");
                        break;
                    }
                    ssize_t n = read(fd, buf, sizeof buf);
                    if (n <= 0) {
                        closed++;
                        done = true;
                    } else {
                        got_any = true;
                        /* Good enough: the sentinel's correlation id 8 follows
                         * the first answer; stop once we saw bytes and the
                         * stream goes quiet. */
                        struct pollfd q = {.fd = fd, .events = POLLIN};
                        if (poll(&q, 1, 50) == 0) {
                            answered++;
                            done = true;
                        }
                    }
                }
                (void)got_any;
                close(fd);
            }
        }
    }
    CU_ASSERT(answered + closed > 0);
    /* Still serving. */
    sesp_kmsg_api_versions_request req;
    sesp_kmsg_api_versions_request_init(&req);
    sesp_bufr r;
    CU_ASSERT_TRUE(CALL(18, 3, sesp_kmsg_api_versions_request_encode, &req, &r));
#undef RND
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("server_protocol", suite_init, suite_clean);
    CU_add_test(s, "ApiVersions all versions and KIP-511", test_api_versions);
    CU_add_test(s, "Metadata v0-12", test_metadata);
    CU_add_test(s, "Produce v3-11", test_produce);
    CU_add_test(s, "Produce v0-2 listed but refused", test_produce_old_versions);
    CU_add_test(s, "Fetch v4-17 (hand encoder)", test_fetch);
    CU_add_test(s, "Fetch long-poll timeout", test_fetch_long_poll_timeout);
    CU_add_test(s, "ListOffsets v0-10 and FindCoordinator v0-6", test_list_offsets_and_coordinator);
    CU_add_test(s, "ListOffsets v0 errors and limits", test_list_offsets_v0);
    CU_add_test(s, "InitProducerId v0-5, internal topics", test_init_producer_id);
    CU_add_test(s, "OffsetForLeaderEpoch v0-4", test_offset_for_leader_epoch);
    CU_add_test(s, "bad requests close the connection", test_bad_requests);
    if (!getenv("SKIP_GARBAGE"))
        CU_add_test(s, "garbage bodies for every API and version", test_garbage_bodies);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
