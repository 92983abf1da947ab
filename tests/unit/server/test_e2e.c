/* End-to-end test of the broker server in-process: start on port 0 with a
 * temp data dir, produce 1000 keyed messages with headers through
 * librdkafka, consume them back exactly, check metadata, ListOffsets
 * (watermarks, by timestamp), long-poll wake-up, and a restart that keeps
 * every message. */
#include <CUnit/Basic.h>
#include <event2/thread.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/admin/admin.h"
#include "broker/server/config.h"
#include "broker/server/server.h"

#define N_MSGS 1000
#define N_PARTS 3

static char g_dir[64];
static sesp_config g_cfg;
static sesp_server *g_srv;
static char g_bootstrap[64];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int attach(sesp_server *s, void *ud, char *err, size_t errlen)
{
    (void)ud;
    int rc = sesp_admin_register(s);
    return rc ? rc : sesp_server_attach_groups(s, err, errlen);
}

static void start_broker(void)
{
    char err[256] = "";
    sesp_config_init(&g_cfg);
    sesp_config_set(&g_cfg, "listeners", "PLAINTEXT://127.0.0.1:0", err, sizeof err);
    sesp_config_set(&g_cfg, "log.dirs", g_dir, err, sizeof err);
    sesp_config_set(&g_cfg, "num.partitions", "3", err, sizeof err);
    sesp_config_set(&g_cfg, "num.network.threads", "2", err, sizeof err);
    sesp_config_set(&g_cfg, "group.initial.rebalance.delay.ms", "0", err, sizeof err);
    sesp_config_set(&g_cfg, "offsets.topic.num.partitions", "5", err, sizeof err);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(&g_cfg, err, sizeof err), 0);
    int rc = sesp_server_start(&g_cfg, attach, NULL, &g_srv, err, sizeof err);
    if (rc)
        fprintf(stderr, "start: %s\n", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    int port = sesp_server_bound_port(g_srv, 0);
    CU_ASSERT_FATAL(port > 0);
    CU_ASSERT_EQUAL(g_srv->adv_port, port);
    snprintf(g_bootstrap, sizeof g_bootstrap, "127.0.0.1:%d", port);
}

static void stop_broker(void)
{
    sesp_server_stop(g_srv);
    g_srv = NULL;
    sesp_config_free(&g_cfg);
}

static rd_kafka_t *make_client(rd_kafka_type_t type)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", g_bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    if (type == RD_KAFKA_PRODUCER) {
        rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
        rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
        rd_kafka_conf_set(conf, "compression.codec", "lz4", err, sizeof err);
    } else {
        /* librdkafka's consumer wants a group id even for assign(); with
         * explicit offsets it never asks the group coordinator for any. */
        rd_kafka_conf_set(conf, "group.id", "sesp-e2e", err, sizeof err);
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
        rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", err, sizeof err);
        rd_kafka_conf_set(conf, "fetch.wait.max.ms", "2000", err, sizeof err);
        rd_kafka_conf_set(conf, "enable.partition.eof", "false", err, sizeof err);
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk)
        fprintf(stderr, "rd_kafka_new: %s\n", err);
    return rk;
}

static int g_delivered, g_delivery_errors;
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err)
        g_delivery_errors++;
    else
        g_delivered++;
}

static void produce_all(void)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", g_bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "acks", "all", err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
    rd_kafka_conf_set(conf, "compression.codec", "lz4", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (int i = 0; i < N_MSGS; i++) {
        char key[32], val[64], hv[16];
        snprintf(key, sizeof key, "key-%d", i);
        snprintf(val, sizeof val, "value-%d-%0*d", i, i % 40, 0);
        snprintf(hv, sizeof hv, "%d", i);
        rd_kafka_resp_err_t e =
            rd_kafka_producev(p, RD_KAFKA_V_TOPIC("e2e"), RD_KAFKA_V_KEY(key, strlen(key)),
                              RD_KAFKA_V_VALUE(val, strlen(val)), RD_KAFKA_V_HEADER("idx", hv, (ssize_t)strlen(hv)),
                              RD_KAFKA_V_HEADER("const", "c", 1), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END);
        CU_ASSERT_EQUAL(e, RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_poll(p, 0);
    }
    CU_ASSERT_EQUAL(rd_kafka_flush(p, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(g_delivered, N_MSGS);
    CU_ASSERT_EQUAL(g_delivery_errors, 0);
    rd_kafka_destroy(p);
}

/* Consumes every partition from the beginning; checks each message exactly. */
static void consume_all(void)
{
    rd_kafka_t *c = make_client(RD_KAFKA_CONSUMER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(N_PARTS);
    for (int p = 0; p < N_PARTS; p++)
        rd_kafka_topic_partition_list_add(l, "e2e", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    CU_ASSERT_EQUAL(rd_kafka_assign(c, l), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
    static bool seen[N_MSGS];
    memset(seen, 0, sizeof seen);
    int64_t last_off[N_PARTS] = {-1, -1, -1};
    int got = 0, bad = 0;
    int64_t deadline = now_ms() + 30000;
    while (got < N_MSGS && now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m)
            continue;
        if (m->err) {
            fprintf(stderr, "consume error: %s\n", rd_kafka_message_errstr(m));
            bad++;
            rd_kafka_message_destroy(m);
            continue;
        }
        int i = -1;
        char key[32], val[64];
        if (m->key_len < sizeof key) {
            memcpy(key, m->key, m->key_len);
            key[m->key_len] = 0;
            sscanf(key, "key-%d", &i);
        }
        if (i < 0 || i >= N_MSGS || seen[i]) {
            bad++;
        } else {
            seen[i] = true;
            snprintf(val, sizeof val, "value-%d-%0*d", i, i % 40, 0);
            if (m->len != strlen(val) || memcmp(m->payload, val, m->len) != 0)
                bad++;
            rd_kafka_headers_t *h = NULL;
            const void *hv;
            size_t hl;
            char want[16];
            snprintf(want, sizeof want, "%d", i);
            if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, "idx", &hv, &hl) ||
                hl != strlen(want) || memcmp(hv, want, hl) != 0 || rd_kafka_header_cnt(h) != 2)
                bad++;
            if (m->partition < 0 || m->partition >= N_PARTS || m->offset <= last_off[m->partition])
                bad++;
            else
                last_off[m->partition] = m->offset;
        }
        got++;
        rd_kafka_message_destroy(m);
    }
    CU_ASSERT_EQUAL(got, N_MSGS);
    CU_ASSERT_EQUAL(bad, 0);
    /* Nothing more arrives. */
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 500);
    CU_ASSERT_PTR_NULL(m);
    if (m)
        rd_kafka_message_destroy(m);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

static void check_metadata_and_offsets(void)
{
    rd_kafka_t *c = make_client(RD_KAFKA_CONSUMER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const struct rd_kafka_metadata *md = NULL;
    CU_ASSERT_EQUAL_FATAL(rd_kafka_metadata(c, 1, NULL, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(md->broker_cnt, 1);
    CU_ASSERT_EQUAL(md->brokers[0].id, 1);
    CU_ASSERT_EQUAL(md->brokers[0].port, g_srv->adv_port);
    CU_ASSERT_STRING_EQUAL(md->brokers[0].host, "127.0.0.1");
    int found = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, "e2e") != 0)
            continue;
        found++;
        CU_ASSERT_EQUAL(md->topics[i].err, RD_KAFKA_RESP_ERR_NO_ERROR);
        CU_ASSERT_EQUAL(md->topics[i].partition_cnt, N_PARTS);
        for (int p = 0; p < md->topics[i].partition_cnt; p++) {
            CU_ASSERT_EQUAL(md->topics[i].partitions[p].leader, 1);
            CU_ASSERT_EQUAL(md->topics[i].partitions[p].replica_cnt, 1);
            CU_ASSERT_EQUAL(md->topics[i].partitions[p].isr_cnt, 1);
        }
    }
    CU_ASSERT_EQUAL(found, 1);
    rd_kafka_metadata_destroy(md);

    /* ListOffsets: earliest/latest per partition add up to every message. */
    int64_t total = 0;
    for (int p = 0; p < N_PARTS; p++) {
        int64_t lo = -5, hi = -5;
        CU_ASSERT_EQUAL(rd_kafka_query_watermark_offsets(c, "e2e", p, &lo, &hi, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
        CU_ASSERT_EQUAL(lo, 0);
        total += hi;
    }
    CU_ASSERT_EQUAL(total, N_MSGS);
    /* By timestamp: 0 finds the first offset, the far future none (-1). */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, "e2e", 0)->offset = 0;
    rd_kafka_topic_partition_list_add(l, "e2e", 1)->offset = (int64_t)time(NULL) * 1000 + 3600000;
    CU_ASSERT_EQUAL(rd_kafka_offsets_for_times(c, l, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(l->elems[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(l->elems[0].offset, 0);
    CU_ASSERT_EQUAL(l->elems[1].offset, -1);
    rd_kafka_topic_partition_list_destroy(l);
    /* An unknown partition is an error, not a crash. */
    int64_t lo, hi;
    CU_ASSERT_NOT_EQUAL(rd_kafka_query_watermark_offsets(c, "e2e", 17, &lo, &hi, 3000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(c);
}

/* A consumer parked at the end of a partition gets a new message at once,
 * not after fetch.wait.max.ms. */
static void check_long_poll(void)
{
    rd_kafka_t *c = make_client(RD_KAFKA_CONSUMER);
    rd_kafka_t *p = make_client(RD_KAFKA_PRODUCER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "e2e", 0)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    /* Let the consumer reach the end and park a fetch. */
    int64_t until = now_ms() + 1500;
    while (now_ms() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (m)
            rd_kafka_message_destroy(m);
    }
    int64_t t0 = now_ms();
    CU_ASSERT_EQUAL(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("e2e"), RD_KAFKA_V_PARTITION(0),
                                      RD_KAFKA_V_VALUE("late", 4), RD_KAFKA_V_END),
                    RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_flush(p, 5000);
    rd_kafka_message_t *got = NULL;
    while (!got && now_ms() - t0 < 5000) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 20);
        if (m && !m->err)
            got = m;
        else if (m)
            rd_kafka_message_destroy(m);
    }
    int64_t dt = now_ms() - t0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(got->len, 4);
    CU_ASSERT_EQUAL(memcmp(got->payload, "late", 4), 0);
    if (dt >= 1000)
        fprintf(stderr, "\nlong-poll delivery took %lld ms\n", (long long)dt);
    CU_ASSERT(dt < 1000); /* fetch.wait.max.ms is 2000 */
    rd_kafka_message_destroy(got);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_destroy(p);
}

/* A consumer group (subscribe) reads everything, commits, and a new member
 * of the group sees the committed offsets. */
static void check_group(void)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", g_bootstrap, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "e2e-group", err, sizeof err);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(conf, "session.timeout.ms", "6000", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, "e2e", RD_KAFKA_PARTITION_UA);
    CU_ASSERT_EQUAL(rd_kafka_subscribe(c, sub), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(sub);
    int got = 0;
    int64_t deadline = now_ms() + 30000;
    while (got < N_MSGS + 1 && now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 200);
        if (!m)
            continue;
        if (!m->err)
            got++;
        rd_kafka_message_destroy(m);
    }
    CU_ASSERT_EQUAL(got, N_MSGS + 1);
    CU_ASSERT_EQUAL(rd_kafka_commit(c, NULL, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(N_PARTS);
    for (int p = 0; p < N_PARTS; p++)
        rd_kafka_topic_partition_list_add(l, "e2e", p);
    CU_ASSERT_EQUAL(rd_kafka_committed(c, l, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t sum = 0;
    for (int p = 0; p < N_PARTS; p++)
        sum += l->elems[p].offset > 0 ? l->elems[p].offset : 0;
    CU_ASSERT_EQUAL(sum, N_MSGS + 1);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
}

/* The admin API through the wired admin module: create, then see it. */
static void check_admin_create(void)
{
    rd_kafka_t *a = make_client(RD_KAFKA_PRODUCER);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    char err[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new("admin-made", 4, 1, err, sizeof err);
    rd_kafka_NewTopic_set_config(nt, "retention.ms", "3600000");
    rd_kafka_queue_t *q = rd_kafka_queue_new(a);
    rd_kafka_CreateTopics(a, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_EQUAL(rd_kafka_topic_result_error(tr[0]), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    sesp_topic *tp = sesp_topics_get(g_srv->topics, "admin-made", 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    CU_ASSERT_EQUAL(sesp_topic_partition_count(tp), 4);
    char *v = sesp_topic_config_get_override(tp, "retention.ms");
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v)
        CU_ASSERT_STRING_EQUAL(v, "3600000");
    free(v);
    sesp_topic_release(tp);
    rd_kafka_destroy(a);
}

static void test_roundtrip(void)
{
    start_broker();
    produce_all();
    consume_all();
    check_metadata_and_offsets();
    stop_broker();
}

static void test_restart_keeps_data(void)
{
    start_broker();
    consume_all();
    check_long_poll();
    check_group();
    check_admin_create();
    stop_broker();
}

int main(void)
{
    evthread_use_pthreads();
    snprintf(g_dir, sizeof g_dir, "/tmp/sesp-e2e-XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("server_e2e", NULL, NULL);
    CU_add_test(s, "produce and consume 1000 keyed messages", test_roundtrip);
    CU_add_test(s, "restart keeps data; long poll; group; admin", test_restart_keeps_data);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
    return failed ? 1 : 0;
}
