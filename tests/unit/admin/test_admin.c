/*
 * Admin API tests: a real broker in-process (port 0, temp data dir, the
 * admin APIs registered through the sesp_server_start ext hook), driven by
 * librdkafka's Admin API (CreateTopics, DeleteTopics, CreatePartitions,
 * DescribeConfigs, AlterConfigs, DeleteRecords) and, for what librdkafka
 * 2.0 cannot send (IncrementalAlterConfigs, DescribeCluster,
 * DescribeLogDirs, topic ids, every version), by raw requests built with
 * the generated codecs.
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/admin/admin.h"
#include "broker/log/log.h"
#include "broker/protocol/generated/create_partitions_request.h"
#include "broker/protocol/generated/create_partitions_response.h"
#include "broker/protocol/generated/create_topics_request.h"
#include "broker/protocol/generated/create_topics_response.h"
#include "broker/protocol/generated/delete_records_request.h"
#include "broker/protocol/generated/delete_records_response.h"
#include "broker/protocol/generated/delete_topics_request.h"
#include "broker/protocol/generated/delete_topics_response.h"
#include "broker/protocol/generated/describe_cluster_request.h"
#include "broker/protocol/generated/describe_cluster_response.h"
#include "broker/protocol/generated/describe_configs_request.h"
#include "broker/protocol/generated/describe_configs_response.h"
#include "broker/protocol/generated/alter_configs_request.h"
#include "broker/protocol/generated/alter_configs_response.h"
#include "broker/protocol/generated/describe_log_dirs_request.h"
#include "broker/protocol/generated/describe_log_dirs_response.h"
#include "broker/protocol/generated/incremental_alter_configs_request.h"
#include "broker/protocol/generated/incremental_alter_configs_response.h"
#include "broker/protocol/header.h"
#include "broker/protocol/kerr.h"
#include "broker/server/server.h"

static char g_dir[256];
static char g_dir2[256];   /* a second log dir, once the two-dirs test has made it */
static sesp_config g_cfg;
static sesp_server *g_srv;
static char g_boot[64];
static int g_port;

/* ---- broker ------------------------------------------------------------ */

static int admin_ext(sesp_server *s, void *ud, char *err, size_t errlen)
{
    (void)ud;
    int rc = sesp_admin_register(s);
    if (rc)
        snprintf(err, errlen, "sesp_admin_register: %d", rc);
    return rc;
}

static int start_server(void)
{
    char err[256];
    char dirs[520];
    snprintf(dirs, sizeof dirs, "%s%s%s", g_dir, g_dir2[0] ? "," : "", g_dir2);
    sesp_config_init(&g_cfg);
    if (sesp_config_set(&g_cfg, "listeners", "PLAINTEXT://127.0.0.1:0", err, sizeof err) ||
        sesp_config_set(&g_cfg, "log.dirs", dirs, err, sizeof err) ||
        sesp_config_set(&g_cfg, "num.network.threads", "1", err, sizeof err) ||
        sesp_config_set(&g_cfg, "log.segment.bytes", "1024", err, sizeof err) ||
        sesp_config_set(&g_cfg, "node.id", "3", err, sizeof err) || sesp_config_finish(&g_cfg, err, sizeof err)) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    if (sesp_server_start(&g_cfg, admin_ext, NULL, &g_srv, err, sizeof err)) {
        fprintf(stderr, "start: %s\n", err);
        sesp_config_free(&g_cfg);
        return -1;
    }
    g_port = sesp_server_bound_port(g_srv, 0);
    snprintf(g_boot, sizeof g_boot, "127.0.0.1:%d", g_port);
    return 0;
}

static void stop_server(void)
{
    sesp_server_stop(g_srv);
    g_srv = NULL;
    sesp_config_free(&g_cfg);
}

static bool dir_exists(const char *topic, int p)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s-%d", g_dir, topic, p);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int32_t partitions_of(const char *name)
{
    sesp_topic *tp = sesp_topics_get(g_srv->topics, name, strlen(name));
    if (!tp)
        return -1;
    int32_t n = sesp_topic_partition_count(tp);
    sesp_topic_release(tp);
    return n;
}

/* ---- librdkafka helpers -------------------------------------------------- */

static rd_kafka_t *client(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", g_boot, err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    return rk;
}

static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_EQUAL(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR);
    return ev;
}

static rd_kafka_AdminOptions_t *opts(rd_kafka_t *rk, rd_kafka_admin_op_t op, bool validate_only)
{
    char err[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    if (validate_only)
        CU_ASSERT_EQUAL(rd_kafka_AdminOptions_set_validate_only(o, 1, err, sizeof err), RD_KAFKA_RESP_ERR_NO_ERROR);
    return o;
}

/* Creates one topic; returns the per-topic error.  configs: k, v, ..., NULL. */
static rd_kafka_resp_err_t create_topic(rd_kafka_t *rk, const char *name, int np, int32_t assign_node,
                                        bool validate_only, const char *const *configs, char *msg, size_t msglen)
{
    char err[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, assign_node >= 0 ? np : np, assign_node >= 0 ? -1 : 1, err,
                                                    sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(nt);
    for (int p = 0; assign_node >= 0 && p < np; p++)
        CU_ASSERT_EQUAL(rd_kafka_NewTopic_set_replica_assignment(nt, p, &assign_node, 1, err, sizeof err), 0);
    for (size_t i = 0; configs && configs[i]; i += 2)
        rd_kafka_NewTopic_set_config(nt, configs[i], configs[i + 1]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = opts(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, validate_only);
    rd_kafka_CreateTopics(rk, &nt, 1, o, q);
    rd_kafka_event_t *ev = wait_result(q);
    size_t n = 0;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(rd_kafka_topic_result_name(res[0]), name);
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[0]);
    if (msg)
        snprintf(msg, msglen, "%s", rd_kafka_topic_result_error_string(res[0]) ? rd_kafka_topic_result_error_string(res[0]) : "");
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    return e;
}

static rd_kafka_resp_err_t delete_topic(rd_kafka_t *rk, const char *name)
{
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(q);
    size_t n = 0;
    const rd_kafka_topic_result_t **res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_queue_destroy(q);
    return e;
}

static rd_kafka_resp_err_t create_partitions(rd_kafka_t *rk, const char *name, int total, bool validate_only)
{
    char err[256];
    rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(name, (size_t)total, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = opts(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, validate_only);
    rd_kafka_CreatePartitions(rk, &np, 1, o, q);
    rd_kafka_event_t *ev = wait_result(q);
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewPartitions_destroy(np);
    rd_kafka_queue_destroy(q);
    return e;
}

/* A described config: value (or NULL) and source, into out; found or not. */
typedef struct cfgval {
    char value[128];
    bool null_value;
    int source;
    bool read_only, is_default;
    size_t total;
} cfgval;

static rd_kafka_resp_err_t describe(rd_kafka_t *rk, rd_kafka_ResourceType_t type, const char *name, const char *key,
                                    cfgval *out)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(type, name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &cr, 1, NULL, q);
    rd_kafka_event_t *ev = wait_result(q);
    size_t n = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(res[0]);
    memset(out, 0, sizeof *out);
    out->source = -1;
    size_t nc = 0;
    const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(res[0], &nc);
    out->total = nc;
    for (size_t i = 0; i < nc; i++) {
        if (strcmp(rd_kafka_ConfigEntry_name(ents[i]), key) != 0)
            continue;
        const char *v = rd_kafka_ConfigEntry_value(ents[i]);
        out->null_value = v == NULL;
        snprintf(out->value, sizeof out->value, "%s", v ? v : "");
        out->source = rd_kafka_ConfigEntry_source(ents[i]);
        out->read_only = rd_kafka_ConfigEntry_is_read_only(ents[i]);
        out->is_default = rd_kafka_ConfigEntry_is_default(ents[i]);
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(cr);
    rd_kafka_queue_destroy(q);
    return e;
}

/* AlterConfigs with key, value, ..., NULL. */
static rd_kafka_resp_err_t alter(rd_kafka_t *rk, rd_kafka_ResourceType_t type, const char *name, bool validate_only,
                                 const char *const *kv)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(type, name);
    for (size_t i = 0; kv && kv[i]; i += 2)
        rd_kafka_ConfigResource_set_config(cr, kv[i], kv[i + 1]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = opts(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, validate_only);
    rd_kafka_AlterConfigs(rk, &cr, 1, o, q);
    rd_kafka_event_t *ev = wait_result(q);
    size_t n = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(res[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(cr);
    rd_kafka_queue_destroy(q);
    return e;
}

/* ---- raw requests ---------------------------------------------------------- */

static int raw_fd = -1;

static void raw_connect(void)
{
    if (raw_fd >= 0)
        close(raw_fd);
    raw_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_EQUAL_FATAL(connect(raw_fd, (struct sockaddr *)&a, sizeof a), 0);
}

static bool read_full(int fd, void *p, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t r = read(fd, (char *)p + off, n - off);
        if (r <= 0)
            return false;
        off += (size_t)r;
    }
    return true;
}

/* Sends body (already encoded) as api/version; returns the response body
 * (malloc'ed, *r positioned after the response header) or NULL. */
static uint8_t *raw_call(int16_t key, int16_t ver, sesp_bufw *body, sesp_bufr *r)
{
    static int32_t corr = 1;
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    sesp_bufw_i32(&w, 0);
    sesp_kreq_header h = {key, ver, corr++, SESP_KSTR("raw-test")};
    CU_ASSERT_EQUAL(sesp_kreq_header_encode(&w, &h), 0);
    sesp_bufw_put(&w, body->p, body->len);
    sesp_bufw_patch_i32(&w, 0, (int32_t)(w.len - 4));
    sesp_bufw_free(body);
    CU_ASSERT_EQUAL_FATAL(write(raw_fd, w.p, w.len), (ssize_t)w.len);
    sesp_bufw_free(&w);
    uint8_t lenb[4];
    if (!read_full(raw_fd, lenb, 4))
        return NULL;
    uint32_t len = (uint32_t)lenb[0] << 24 | (uint32_t)lenb[1] << 16 | (uint32_t)lenb[2] << 8 | lenb[3];
    uint8_t *buf = malloc(len ? len : 1);
    if (!read_full(raw_fd, buf, len)) {
        free(buf);
        return NULL;
    }
    sesp_bufr_init(r, buf, len);
    CU_ASSERT_EQUAL(sesp_bufr_i32(r), h.correlation_id);
    if (sesp_kresp_header_version(key, ver) >= 1)
        CU_ASSERT_EQUAL(sesp_bufr_uvarint(r), 0);
    return buf;
}

/* Encodes req with enc at version v, sends it, decodes the answer with dec
 * into resp (arena a); returns the frame to free. */
#define RAW(key, v, enc, req, dec, resp, a)                                                                 \
    ({                                                                                                      \
        sesp_bufw bw_;                                                                                      \
        sesp_bufw_init(&bw_, 256, 0);                                                                       \
        CU_ASSERT_EQUAL_FATAL(enc(&bw_, (v), (req)), 0);                                                    \
        sesp_bufr br_;                                                                                      \
        uint8_t *f_ = raw_call((key), (v), &bw_, &br_);                                                     \
        CU_ASSERT_PTR_NOT_NULL_FATAL(f_);                                                                   \
        CU_ASSERT_EQUAL(dec(&br_, (v), (resp), (a)), 0);                                                    \
        CU_ASSERT_EQUAL(sesp_bufr_left(&br_), 0);                                                           \
        f_;                                                                                                 \
    })

/* ---- tests ------------------------------------------------------------------ */

static void test_create_topics(void)
{
    rd_kafka_t *rk = client();
    char msg[512];
    const char *cfg[] = {"retention.ms", "3600000", "cleanup.policy", "delete", NULL};
    CU_ASSERT_EQUAL(create_topic(rk, "orders", 3, -1, false, cfg, msg, sizeof msg), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(partitions_of("orders"), 3);
    CU_ASSERT(dir_exists("orders", 0) && dir_exists("orders", 2) && !dir_exists("orders", 3));
    CU_ASSERT_EQUAL(create_topic(rk, "orders", 1, -1, false, NULL, msg, sizeof msg),
                    RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "already exists"));
    CU_ASSERT_EQUAL(create_topic(rk, "bad name!", 1, -1, false, NULL, msg, sizeof msg),
                    RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "illegal"));
    const char *badcfg[] = {"retention.ms", "soon", NULL};
    CU_ASSERT_EQUAL(create_topic(rk, "badcfg", 1, -1, false, badcfg, msg, sizeof msg), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "retention.ms"));
    const char *unkcfg[] = {"no.such.config", "1", NULL};
    CU_ASSERT_EQUAL(create_topic(rk, "badcfg", 1, -1, false, unkcfg, msg, sizeof msg), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    CU_ASSERT_EQUAL(partitions_of("badcfg"), -1);
    /* validate_only checks and creates nothing. */
    CU_ASSERT_EQUAL(create_topic(rk, "dryrun", 2, -1, true, cfg, msg, sizeof msg), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(partitions_of("dryrun"), -1);
    CU_ASSERT(!dir_exists("dryrun", 0));
    CU_ASSERT_EQUAL(create_topic(rk, "orders", 2, -1, true, NULL, msg, sizeof msg),
                    RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
    /* Manual assignment: only this node (3) is a valid replica. */
    CU_ASSERT_EQUAL(create_topic(rk, "assigned", 2, 3, false, NULL, msg, sizeof msg), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(partitions_of("assigned"), 2);
    CU_ASSERT_EQUAL(create_topic(rk, "assigned2", 2, 7, false, NULL, msg, sizeof msg),
                    RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "broker 7"));
    CU_ASSERT_EQUAL(partitions_of("assigned2"), -1);
    rd_kafka_destroy(rk);
}

static void test_describe_configs(void)
{
    rd_kafka_t *rk = client();
    cfgval c;
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", "retention.ms", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.value, "3600000");
    CU_ASSERT_EQUAL(c.source, RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
    CU_ASSERT(!c.is_default && !c.read_only);
    CU_ASSERT(c.total >= 25);
    /* Set in the broker's config: the static broker value. */
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", "segment.bytes", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.value, "1024");
    CU_ASSERT_EQUAL(c.source, RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", "max.message.bytes", &c), 0);
    CU_ASSERT_EQUAL(c.source, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
    CU_ASSERT(c.is_default);
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_TOPIC, "nope", "retention.ms", &c),
                    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    /* Broker resource: by this node's id. */
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_BROKER, "3", "log.segment.bytes", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.value, "1024");
    CU_ASSERT_EQUAL(c.source, RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG);
    CU_ASSERT(c.read_only);
    CU_ASSERT(c.total > 20);
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_BROKER, "3", "num.partitions", &c), 0);
    CU_ASSERT_EQUAL(c.source, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
    CU_ASSERT_STRING_EQUAL(c.value, "1");
    rd_kafka_destroy(rk);
}

static void test_alter_configs(void)
{
    rd_kafka_t *rk = client();
    cfgval c;
    /* Non-incremental: retention.ms (not given) returns to its default. */
    const char *kv[] = {"segment.ms", "600000", "cleanup.policy", "delete", NULL};
    CU_ASSERT_EQUAL(alter(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", false, kv), 0);
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", "segment.ms", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.value, "600000");
    CU_ASSERT_EQUAL(c.source, RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", "retention.ms", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.value, "604800000");
    CU_ASSERT_EQUAL(c.source, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
    /* validate_only changes nothing; a bad value changes nothing. */
    const char *kv2[] = {"segment.ms", "700000", NULL};
    CU_ASSERT_EQUAL(alter(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", true, kv2), 0);
    const char *bad[] = {"segment.ms", "-5", NULL};
    CU_ASSERT_EQUAL(alter(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", false, bad), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", "segment.ms", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.value, "600000");
    CU_ASSERT_EQUAL(alter(rk, RD_KAFKA_RESOURCE_TOPIC, "nope", false, kv2), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    /* No dynamic broker configs. */
    const char *bk[] = {"log.retention.ms", "1000", NULL};
    CU_ASSERT_EQUAL(alter(rk, RD_KAFKA_RESOURCE_BROKER, "3", false, bk), RD_KAFKA_RESP_ERR_INVALID_REQUEST);
    rd_kafka_destroy(rk);
}

static void test_create_partitions(void)
{
    rd_kafka_t *rk = client();
    CU_ASSERT_EQUAL(create_partitions(rk, "orders", 5, false), 0);
    CU_ASSERT_EQUAL(partitions_of("orders"), 5);
    CU_ASSERT(dir_exists("orders", 4));
    CU_ASSERT_EQUAL(create_partitions(rk, "orders", 8, true), 0);
    CU_ASSERT_EQUAL(partitions_of("orders"), 5);
    CU_ASSERT_EQUAL(create_partitions(rk, "orders", 2, false), RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
    CU_ASSERT_EQUAL(create_partitions(rk, "orders", 5, false), RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
    CU_ASSERT_EQUAL(create_partitions(rk, "nope", 5, false), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    rd_kafka_destroy(rk);
}

static void produce(rd_kafka_t *rk, const char *topic, int n)
{
    for (int i = 0; i < n; i++) {
        char v[32];
        snprintf(v, sizeof v, "value-%d", i);
        CU_ASSERT_EQUAL(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                          RD_KAFKA_V_VALUE(v, strlen(v)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                          RD_KAFKA_V_END),
                        RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    CU_ASSERT_EQUAL(rd_kafka_flush(rk, 15000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

static rd_kafka_resp_err_t delete_records(rd_kafka_t *rk, const char *topic, int32_t p, int64_t off, int64_t *low)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = off;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(l);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteRecords(rk, &dr, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    if (e)
        fprintf(stderr, "DeleteRecords: %s\n", rd_kafka_event_error_string(ev));
    const rd_kafka_topic_partition_list_t *res =
        e ? NULL : rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    if (res && res->cnt == 1) {
        e = res->elems[0].err;
        *low = res->elems[0].offset;
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_queue_destroy(q);
    return e;
}

static void test_delete_records(void)
{
    rd_kafka_t *rk = client();
    CU_ASSERT_EQUAL(create_topic(rk, "events", 1, -1, false, NULL, NULL, 0), 0);
    produce(rk, "events", 50); /* segment.bytes=1024: several segments */
    int64_t low = -1, lo = -1, hi = -1;
    CU_ASSERT_EQUAL(delete_records(rk, "events", 0, 30, &low), 0);
    CU_ASSERT_EQUAL(low, 30);
    CU_ASSERT_EQUAL(rd_kafka_query_watermark_offsets(rk, "events", 0, &lo, &hi, 10000), 0);
    CU_ASSERT_EQUAL(lo, 30);
    CU_ASSERT_EQUAL(hi, 50);
    CU_ASSERT_EQUAL(delete_records(rk, "events", 0, 10, &low), 0); /* backwards: no-op */
    CU_ASSERT_EQUAL(low, 30);
    CU_ASSERT_EQUAL(delete_records(rk, "events", 0, 51, &low), RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);
    /* librdkafka itself refuses a partition without a leader. */
    CU_ASSERT_NOT_EQUAL(delete_records(rk, "events", 5, 1, &low), RD_KAFKA_RESP_ERR_NO_ERROR);

    /* A consumer from the beginning starts at the new low watermark. */
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", g_boot, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "admin-test", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rd_kafka_topic_partition_list_t *as = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(as, "events", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    CU_ASSERT_EQUAL(rd_kafka_assign(c, as), 0);
    rd_kafka_topic_partition_list_destroy(as);
    int64_t first = -1;
    for (int i = 0; i < 100 && first < 0; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (m && !m->err)
            first = m->offset;
        if (m)
            rd_kafka_message_destroy(m);
    }
    CU_ASSERT_EQUAL(first, 30);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);

    /* -1 = up to the high watermark. */
    CU_ASSERT_EQUAL(delete_records(rk, "events", 0, -1, &low), 0);
    CU_ASSERT_EQUAL(low, 50);
    rd_kafka_destroy(rk);
}

static void test_delete_topics(void)
{
    rd_kafka_t *rk = client();
    CU_ASSERT(dir_exists("assigned", 0));
    CU_ASSERT_EQUAL(delete_topic(rk, "assigned"), 0);
    CU_ASSERT_EQUAL(partitions_of("assigned"), -1);
    for (int i = 0; i < 50 && dir_exists("assigned", 0); i++)
        usleep(20000);
    CU_ASSERT(!dir_exists("assigned", 0) && !dir_exists("assigned", 1));
    CU_ASSERT_EQUAL(delete_topic(rk, "assigned"), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    /* The name can be used again. */
    CU_ASSERT_EQUAL(create_topic(rk, "assigned", 1, -1, false, NULL, NULL, 0), 0);
    CU_ASSERT_EQUAL(partitions_of("assigned"), 1);
    rd_kafka_destroy(rk);
}

/* Configs survive a restart. */
static void test_restart(void)
{
    stop_server();
    CU_ASSERT_EQUAL_FATAL(start_server(), 0);
    rd_kafka_t *rk = client();
    cfgval c;
    CU_ASSERT_EQUAL(describe(rk, RD_KAFKA_RESOURCE_TOPIC, "orders", "segment.ms", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.value, "600000");
    CU_ASSERT_EQUAL(c.source, RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
    CU_ASSERT_EQUAL(partitions_of("orders"), 5);
    int64_t lo = -1, hi = -1;
    CU_ASSERT_EQUAL(rd_kafka_query_watermark_offsets(rk, "events", 0, &lo, &hi, 10000), 0);
    CU_ASSERT_EQUAL(lo, 50);
    rd_kafka_destroy(rk);
}

/* ---- raw protocol: what librdkafka 2.0 cannot send ----------------------- */

typedef sesp_kmsg_create_topics_request_creatable_topic ctopic;

static void test_raw_create_delete_by_id(void)
{
    raw_connect();
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_kmsg_create_topics_request_creatable_topic_config cc = {SESP_KSTR("retention.ms"), SESP_KSTR("1000")};
    ctopic t[3];
    const char *names[3] = {"raw7", "dup", "dup"};
    for (int i = 0; i < 3; i++) {
        sesp_kmsg_create_topics_request_creatable_topic_init(&t[i]);
        t[i].name = SESP_KSTR(names[i]);
        t[i].num_partitions = 2;
        t[i].replication_factor = -1;
        t[i].configs = &cc;
        t[i].configs_count = 1;
    }
    sesp_kmsg_create_topics_request req;
    sesp_kmsg_create_topics_request_init(&req);
    req.topics = t;
    req.topics_count = 3;
    sesp_kmsg_create_topics_response resp;
    uint8_t *f = RAW(19, 7, sesp_kmsg_create_topics_request_encode, &req, sesp_kmsg_create_topics_response_decode,
                     &resp, &a);
    CU_ASSERT_EQUAL_FATAL(resp.topics_count, 3);
    sesp_kmsg_create_topics_response_creatable_topic_result *r = &resp.topics[0];
    CU_ASSERT_EQUAL(r->error_code, 0);
    CU_ASSERT(!sesp_kp_uuid_zero(&r->topic_id));
    CU_ASSERT_EQUAL(r->num_partitions, 2);
    CU_ASSERT_EQUAL(r->replication_factor, 1);
    CU_ASSERT(r->configs_count >= 25);
    bool found = false;
    for (int32_t i = 0; i < r->configs_count; i++)
        if (sesp_kstr_eq(r->configs[i].name, "retention.ms")) {
            found = true;
            CU_ASSERT(sesp_kstr_eq(r->configs[i].value, "1000"));
            CU_ASSERT_EQUAL(r->configs[i].config_source, 1);
        }
    CU_ASSERT(found);
    CU_ASSERT_EQUAL(resp.topics[1].error_code, SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(resp.topics[2].error_code, SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(partitions_of("dup"), -1);
    const sesp_topic_id *want = NULL;
    sesp_topic *tp = sesp_topics_get(g_srv->topics, "raw7", 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    want = sesp_topic_id_of(tp);
    CU_ASSERT_EQUAL(memcmp(want->b, r->topic_id.b, 16), 0);
    sesp_topic_release(tp);
    sesp_kuuid id = r->topic_id;
    free(f);

    /* v6: by id; the answer names the topic. */
    sesp_kmsg_delete_topics_request_delete_topic_state st;
    sesp_kmsg_delete_topics_request_delete_topic_state_init(&st);
    st.name = SESP_KSTR_NULL;
    st.topic_id = id;
    sesp_kmsg_delete_topics_request dreq;
    sesp_kmsg_delete_topics_request_init(&dreq);
    dreq.topics = &st;
    dreq.topics_count = 1;
    sesp_kmsg_delete_topics_response dresp;
    f = RAW(20, 6, sesp_kmsg_delete_topics_request_encode, &dreq, sesp_kmsg_delete_topics_response_decode, &dresp,
            &a);
    CU_ASSERT_EQUAL_FATAL(dresp.responses_count, 1);
    CU_ASSERT_EQUAL(dresp.responses[0].error_code, 0);
    CU_ASSERT(sesp_kstr_eq(dresp.responses[0].name, "raw7"));
    free(f);
    CU_ASSERT_EQUAL(partitions_of("raw7"), -1);
    f = RAW(20, 6, sesp_kmsg_delete_topics_request_encode, &dreq, sesp_kmsg_delete_topics_response_decode, &dresp,
            &a);
    CU_ASSERT_EQUAL(dresp.responses[0].error_code, SESP_KERR_UNKNOWN_TOPIC_ID);
    free(f);
    sesp_arena_free(&a);
}

/* One IncrementalAlterConfigs op on "orders"; returns the error code. */
static int16_t incr(int16_t v, const char *key, int8_t op, const char *value)
{
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_kmsg_incremental_alter_configs_request_alterable_config c = {SESP_KSTR(key), op,
                                                                      value ? SESP_KSTR(value) : SESP_KSTR_NULL};
    sesp_kmsg_incremental_alter_configs_request_alter_configs_resource res;
    sesp_kmsg_incremental_alter_configs_request_alter_configs_resource_init(&res);
    res.resource_type = 2;
    res.resource_name = SESP_KSTR("orders");
    res.configs = &c;
    res.configs_count = 1;
    sesp_kmsg_incremental_alter_configs_request req;
    sesp_kmsg_incremental_alter_configs_request_init(&req);
    req.resources = &res;
    req.resources_count = 1;
    sesp_kmsg_incremental_alter_configs_response resp;
    uint8_t *f = RAW(44, v, sesp_kmsg_incremental_alter_configs_request_encode, &req,
                     sesp_kmsg_incremental_alter_configs_response_decode, &resp, &a);
    CU_ASSERT_EQUAL_FATAL(resp.responses_count, 1);
    CU_ASSERT(sesp_kstr_eq(resp.responses[0].resource_name, "orders"));
    int16_t e = resp.responses[0].error_code;
    free(f);
    sesp_arena_free(&a);
    return e;
}

static char *override(const char *key)
{
    sesp_topic *tp = sesp_topics_get(g_srv->topics, "orders", 6);
    char *v = tp ? sesp_topic_config_get_override(tp, key) : NULL;
    sesp_topic_release(tp);
    return v;
}

static void check_override(const char *key, const char *want)
{
    char *v = override(key);
    if (!want) {
        CU_ASSERT_PTR_NULL(v);
    } else {
        CU_ASSERT_PTR_NOT_NULL(v);
        if (v)
            CU_ASSERT_STRING_EQUAL(v, want);
    }
    free(v);
}

static void test_raw_incremental_alter(void)
{
    raw_connect();
    CU_ASSERT_EQUAL(incr(1, "cleanup.policy", 2, "compact"), 0); /* APPEND */
    check_override("cleanup.policy", "delete,compact");
    CU_ASSERT_EQUAL(incr(0, "cleanup.policy", 2, "compact"), 0); /* already there */
    check_override("cleanup.policy", "delete,compact");
    CU_ASSERT_EQUAL(incr(1, "cleanup.policy", 3, "delete"), 0); /* SUBTRACT */
    check_override("cleanup.policy", "compact");
    CU_ASSERT_EQUAL(incr(1, "retention.ms", 0, "5000"), 0);    /* SET */
    check_override("retention.ms", "5000");
    check_override("segment.ms", "600000");                    /* untouched */
    CU_ASSERT_EQUAL(incr(1, "retention.ms", 1, NULL), 0);      /* DELETE */
    check_override("retention.ms", NULL);
    CU_ASSERT_EQUAL(incr(1, "retention.ms", 2, "1"), SESP_KERR_INVALID_CONFIG); /* not a list */
    CU_ASSERT_EQUAL(incr(1, "retention.ms", 0, "x"), SESP_KERR_INVALID_CONFIG);
    CU_ASSERT_EQUAL(incr(1, "no.such", 0, "1"), SESP_KERR_INVALID_CONFIG);
    CU_ASSERT_EQUAL(incr(1, "retention.ms", 9, "1"), SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(incr(1, "cleanup.policy", 3, "compact"), SESP_KERR_INVALID_CONFIG); /* empty list */
    check_override("cleanup.policy", "compact");
    CU_ASSERT_EQUAL(incr(1, "cleanup.policy", 0, "delete"), 0);
    check_override("cleanup.policy", "delete");
}

static void test_raw_describe_cluster(void)
{
    raw_connect();
    for (int16_t v = 0; v <= 1; v++) {
        sesp_arena a;
        sesp_arena_init(&a, 0);
        sesp_kmsg_describe_cluster_request req;
        sesp_kmsg_describe_cluster_request_init(&req);
        sesp_kmsg_describe_cluster_response resp;
        uint8_t *f = RAW(60, v, sesp_kmsg_describe_cluster_request_encode, &req,
                         sesp_kmsg_describe_cluster_response_decode, &resp, &a);
        CU_ASSERT_EQUAL(resp.error_code, 0);
        CU_ASSERT(sesp_kstr_eq(resp.cluster_id, g_srv->cluster_id));
        CU_ASSERT_EQUAL(resp.controller_id, 3);
        CU_ASSERT_EQUAL(resp.cluster_authorized_operations, INT32_MIN);
        CU_ASSERT_EQUAL_FATAL(resp.brokers_count, 1);
        CU_ASSERT_EQUAL(resp.brokers[0].broker_id, 3);
        CU_ASSERT_EQUAL(resp.brokers[0].port, g_port);
        free(f);
        if (v == 1) {
            req.endpoint_type = 2;
            f = RAW(60, v, sesp_kmsg_describe_cluster_request_encode, &req, sesp_kmsg_describe_cluster_response_decode,
                    &resp, &a);
            CU_ASSERT_EQUAL(resp.error_code, SESP_KERR_UNSUPPORTED_ENDPOINT_TYPE);
            free(f);
        }
        sesp_arena_free(&a);
    }
}

/* DescribeLogDirs of every topic at version v; returns the frame to free. */
static uint8_t *describe_all_log_dirs(int16_t v, sesp_kmsg_describe_log_dirs_response *resp, sesp_arena *a)
{
    sesp_kmsg_describe_log_dirs_request req;
    sesp_kmsg_describe_log_dirs_request_init(&req);
    req.topics = NULL;
    req.topics_count = -1;
    return RAW(35, v, sesp_kmsg_describe_log_dirs_request_encode, &req, sesp_kmsg_describe_log_dirs_response_decode,
               resp, a);
}

static void test_raw_describe_log_dirs(void)
{
    raw_connect();
    for (int16_t v = 0; v <= 4; v++) {
        sesp_arena a;
        sesp_arena_init(&a, 0);
        sesp_kmsg_describe_log_dirs_request req;
        sesp_kmsg_describe_log_dirs_request_init(&req);
        sesp_kmsg_describe_log_dirs_response resp;
        uint8_t *f = describe_all_log_dirs(v, &resp, &a);
        CU_ASSERT_EQUAL_FATAL(resp.results_count, 1);
        sesp_kmsg_describe_log_dirs_response_describe_log_dirs_result *r = &resp.results[0];
        CU_ASSERT_EQUAL(r->error_code, 0);
        CU_ASSERT(r->log_dir.len > 0 && r->log_dir.ptr[0] == '/');
        if (v >= 4)
            CU_ASSERT(r->total_bytes > 0 && r->usable_bytes >= 0 && r->usable_bytes <= r->total_bytes);
        bool saw_orders = false;
        for (int32_t i = 0; i < r->topics_count; i++)
            if (sesp_kstr_eq(r->topics[i].name, "orders")) {
                saw_orders = true;
                CU_ASSERT_EQUAL(r->topics[i].partitions_count, 5);
            }
        CU_ASSERT(saw_orders);
        free(f);

        /* A filter: existing partitions only. */
        int32_t parts[] = {0, 99};
        sesp_kmsg_describe_log_dirs_request_describable_log_dir_topic dt = {SESP_KSTR("orders"), parts, 2};
        sesp_kmsg_describe_log_dirs_request_describable_log_dir_topic nt = {SESP_KSTR("nope"), parts, 1};
        sesp_kmsg_describe_log_dirs_request_describable_log_dir_topic both[2] = {dt, nt};
        req.topics = both;
        req.topics_count = 2;
        f = RAW(35, v, sesp_kmsg_describe_log_dirs_request_encode, &req, sesp_kmsg_describe_log_dirs_response_decode,
                &resp, &a);
        CU_ASSERT_EQUAL_FATAL(resp.results_count, 1);
        CU_ASSERT_EQUAL_FATAL(resp.results[0].topics_count, 1);
        CU_ASSERT_EQUAL(resp.results[0].topics[0].partitions_count, 1);
        CU_ASSERT_EQUAL(resp.results[0].topics[0].partitions[0].partition_index, 0);
        free(f);
        sesp_arena_free(&a);
    }
    /* A partition with data reports its size. */
    sesp_arena a;
    sesp_arena_init(&a, 0);
    int32_t p0 = 0;
    sesp_kmsg_describe_log_dirs_request_describable_log_dir_topic et = {SESP_KSTR("events"), &p0, 1};
    sesp_kmsg_describe_log_dirs_request req;
    sesp_kmsg_describe_log_dirs_request_init(&req);
    req.topics = &et;
    req.topics_count = 1;
    sesp_kmsg_describe_log_dirs_response resp;
    uint8_t *f = RAW(35, 4, sesp_kmsg_describe_log_dirs_request_encode, &req,
                     sesp_kmsg_describe_log_dirs_response_decode, &resp, &a);
    CU_ASSERT_EQUAL_FATAL(resp.results[0].topics_count, 1);
    sesp_topic *tp = sesp_topics_get(g_srv->topics, "events", 6);
    CU_ASSERT_EQUAL(resp.results[0].topics[0].partitions[0].partition_size, sesp_log_size_bytes(sesp_topic_log(tp, 0)));
    sesp_topic_release(tp);
    free(f);
    sesp_arena_free(&a);
}

/* With two log dirs, partitions are spread over both and each directory's
 * entry lists exactly the partitions living in it.  Runs last: the server
 * keeps both dirs from here on. */
static void test_describe_log_dirs_two_dirs(void)
{
    snprintf(g_dir2, sizeof g_dir2, "/tmp/sesp-admin-test2.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_dir2));
    stop_server();
    CU_ASSERT_EQUAL_FATAL(start_server(), 0);
    rd_kafka_t *rk = client();
    char msg[256];
    CU_ASSERT_EQUAL(create_topic(rk, "spread", 6, -1, false, NULL, msg, sizeof msg), 0);
    rd_kafka_destroy(rk);
    raw_connect();
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_kmsg_describe_log_dirs_response resp;
    uint8_t *f = describe_all_log_dirs(4, &resp, &a);
    CU_ASSERT_EQUAL_FATAL(resp.results_count, 2);
    int seen[6] = {0};
    for (int d = 0; d < 2; d++) {
        const sesp_kmsg_describe_log_dirs_response_describe_log_dirs_result *r = &resp.results[d];
        char real[PATH_MAX];
        CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(d ? g_dir2 : g_dir, real));
        CU_ASSERT(sesp_kstr_eq(r->log_dir, real));
        bool orders = false;
        for (int32_t i = 0; i < r->topics_count; i++) {
            orders |= sesp_kstr_eq(r->topics[i].name, "orders");
            if (!sesp_kstr_eq(r->topics[i].name, "spread"))
                continue;
            for (int32_t j = 0; j < r->topics[i].partitions_count; j++) {
                int32_t p = r->topics[i].partitions[j].partition_index;
                CU_ASSERT_FATAL(p >= 0 && p < 6);
                seen[p]++;
                char path[600];
                struct stat st;
                snprintf(path, sizeof path, "%s/spread-%d", d ? g_dir2 : g_dir, p);
                CU_ASSERT(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
            }
        }
        /* the older topics stay in the first dir, listed only there */
        CU_ASSERT(orders == (d == 0));
    }
    for (int p = 0; p < 6; p++)
        CU_ASSERT_EQUAL(seen[p], 1);
    free(f);
    sesp_arena_free(&a);
}

/* Creates one topic by raw CreateTopics v4; returns the error code. */
static int16_t raw_create(ctopic *t)
{
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_kmsg_create_topics_request req;
    sesp_kmsg_create_topics_request_init(&req);
    req.topics = t;
    req.topics_count = 1;
    sesp_kmsg_create_topics_response resp;
    uint8_t *f = RAW(19, 4, sesp_kmsg_create_topics_request_encode, &req, sesp_kmsg_create_topics_response_decode,
                     &resp, &a);
    int16_t e = resp.topics_count == 1 ? resp.topics[0].error_code : -2;
    if (e)
        CU_ASSERT(resp.topics[0].error_message.len > 0);
    free(f);
    sesp_arena_free(&a);
    return e;
}

static void init_topic(ctopic *t, const char *name, int32_t np, int16_t rf)
{
    sesp_kmsg_create_topics_request_creatable_topic_init(t);
    t->name = SESP_KSTR(name);
    t->num_partitions = np;
    t->replication_factor = rf;
    t->assignments = NULL;
    t->assignments_count = 0;
    t->configs = NULL;
    t->configs_count = 0;
}

static int16_t raw_describe_one(int8_t type, const char *name)
{
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_kmsg_describe_configs_request_describe_configs_resource res;
    sesp_kmsg_describe_configs_request_describe_configs_resource_init(&res);
    res.resource_type = type;
    res.resource_name = SESP_KSTR(name);
    res.configuration_keys = NULL;
    res.configuration_keys_count = -1;
    sesp_kmsg_describe_configs_request req;
    sesp_kmsg_describe_configs_request_init(&req);
    req.resources = &res;
    req.resources_count = 1;
    sesp_kmsg_describe_configs_response resp;
    uint8_t *f = RAW(32, 4, sesp_kmsg_describe_configs_request_encode, &req, sesp_kmsg_describe_configs_response_decode,
                     &resp, &a);
    int16_t e = resp.results_count == 1 ? resp.results[0].error_code : -2;
    if (e)
        CU_ASSERT(resp.results[0].configs_count == 0 && resp.results[0].error_message.len > 0);
    free(f);
    sesp_arena_free(&a);
    return e;
}

static void test_raw_errors(void)
{
    raw_connect();
    ctopic t;
    init_topic(&t, "e1", 0, 1);
    CU_ASSERT_EQUAL(raw_create(&t), SESP_KERR_INVALID_PARTITIONS);
    init_topic(&t, "e1", 1, 0);
    CU_ASSERT_EQUAL(raw_create(&t), SESP_KERR_INVALID_REPLICATION_FACTOR);
    init_topic(&t, "e1", 1, 2);
    CU_ASSERT_EQUAL(raw_create(&t), SESP_KERR_INVALID_REPLICATION_FACTOR);
    int32_t me = 3;
    sesp_kmsg_create_topics_request_creatable_replica_assignment as[2] = {{0, &me, 1}, {2, &me, 1}};
    init_topic(&t, "e1", 2, -1);
    t.assignments = as;
    t.assignments_count = 2;
    CU_ASSERT_EQUAL(raw_create(&t), SESP_KERR_INVALID_REQUEST); /* both a count and an assignment */
    t.num_partitions = -1;
    CU_ASSERT_EQUAL(raw_create(&t), SESP_KERR_INVALID_REPLICA_ASSIGNMENT); /* partitions 0 and 2 */
    as[1].partition_index = 1;
    as[1].broker_ids_count = 0;
    CU_ASSERT_EQUAL(raw_create(&t), SESP_KERR_INVALID_REPLICA_ASSIGNMENT); /* empty replica list */
    as[1].broker_ids_count = 1;
    sesp_kmsg_create_topics_request_creatable_topic_config nullcfg = {SESP_KSTR("retention.ms"), SESP_KSTR_NULL};
    t.configs = &nullcfg;
    t.configs_count = 1;
    CU_ASSERT_EQUAL(raw_create(&t), SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(partitions_of("e1"), -1);
    t.configs_count = 0;
    CU_ASSERT_EQUAL(raw_create(&t), 0);
    CU_ASSERT_EQUAL(partitions_of("e1"), 2);

    /* DescribeConfigs resource names. */
    CU_ASSERT_EQUAL(raw_describe_one(4, "9"), SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(raw_describe_one(4, "abc"), SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(raw_describe_one(4, "3"), 0);
    CU_ASSERT_EQUAL(raw_describe_one(2, "bad name"), SESP_KERR_INVALID_TOPIC_EXCEPTION);
    CU_ASSERT_EQUAL(raw_describe_one(2, "nope"), SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    CU_ASSERT_EQUAL(raw_describe_one(8, "3"), SESP_KERR_INVALID_REQUEST);

    sesp_arena a;
    sesp_arena_init(&a, 0);
    /* DeleteTopics v6: name and id together, and a name given twice. */
    sesp_kmsg_delete_topics_request_delete_topic_state st[2];
    for (int i = 0; i < 2; i++) {
        sesp_kmsg_delete_topics_request_delete_topic_state_init(&st[i]);
        st[i].name = SESP_KSTR("e1");
    }
    st[0].topic_id.b[5] = 1;
    sesp_kmsg_delete_topics_request dreq;
    sesp_kmsg_delete_topics_request_init(&dreq);
    dreq.topics = st;
    dreq.topics_count = 1;
    sesp_kmsg_delete_topics_response dresp;
    uint8_t *f = RAW(20, 6, sesp_kmsg_delete_topics_request_encode, &dreq, sesp_kmsg_delete_topics_response_decode,
                     &dresp, &a);
    CU_ASSERT_EQUAL(dresp.responses[0].error_code, SESP_KERR_INVALID_REQUEST);
    free(f);
    sesp_kstr twice[2] = {SESP_KSTR("e1"), SESP_KSTR("e1")};
    sesp_kmsg_delete_topics_request_init(&dreq);
    dreq.topic_names = twice;
    dreq.topic_names_count = 2;
    f = RAW(20, 5, sesp_kmsg_delete_topics_request_encode, &dreq, sesp_kmsg_delete_topics_response_decode, &dresp, &a);
    CU_ASSERT_EQUAL_FATAL(dresp.responses_count, 2);
    CU_ASSERT_EQUAL(dresp.responses[0].error_code, SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(dresp.responses[1].error_code, SESP_KERR_INVALID_REQUEST);
    free(f);
    CU_ASSERT_EQUAL(partitions_of("e1"), 2);

    /* AlterConfigs: duplicate resources, null value, empty broker change. */
    sesp_kmsg_alter_configs_request_alterable_config nv = {SESP_KSTR("retention.ms"), SESP_KSTR_NULL};
    sesp_kmsg_alter_configs_request_alter_configs_resource ar[3];
    for (int i = 0; i < 3; i++)
        sesp_kmsg_alter_configs_request_alter_configs_resource_init(&ar[i]);
    ar[0] = (sesp_kmsg_alter_configs_request_alter_configs_resource){2, SESP_KSTR("e1"), &nv, 1};
    ar[1] = (sesp_kmsg_alter_configs_request_alter_configs_resource){2, SESP_KSTR("orders"), &nv, 1};
    ar[2] = (sesp_kmsg_alter_configs_request_alter_configs_resource){4, SESP_KSTR(""), NULL, 0};
    sesp_kmsg_alter_configs_request areq;
    sesp_kmsg_alter_configs_request_init(&areq);
    areq.resources = ar;
    areq.resources_count = 3;
    sesp_kmsg_alter_configs_response aresp;
    f = RAW(33, 1, sesp_kmsg_alter_configs_request_encode, &areq, sesp_kmsg_alter_configs_response_decode, &aresp, &a);
    CU_ASSERT_EQUAL_FATAL(aresp.responses_count, 3);
    CU_ASSERT_EQUAL(aresp.responses[0].error_code, SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(aresp.responses[1].error_code, SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(aresp.responses[2].error_code, 0);
    free(f);
    /* The same resource twice: both refused, nothing changes. */
    sesp_kmsg_alter_configs_request_alterable_config ok = {SESP_KSTR("segment.ms"), SESP_KSTR("1")};
    ar[0] = (sesp_kmsg_alter_configs_request_alter_configs_resource){2, SESP_KSTR("orders"), &ok, 1};
    ar[1] = ar[0];
    areq.resources_count = 2;
    f = RAW(33, 2, sesp_kmsg_alter_configs_request_encode, &areq, sesp_kmsg_alter_configs_response_decode, &aresp, &a);
    CU_ASSERT_EQUAL(aresp.responses[0].error_code, SESP_KERR_INVALID_REQUEST);
    CU_ASSERT_EQUAL(aresp.responses[1].error_code, SESP_KERR_INVALID_REQUEST);
    free(f);
    check_override("segment.ms", "600000");

    /* IncrementalAlterConfigs on the broker: DELETE is a no-op, SET refused. */
    sesp_kmsg_incremental_alter_configs_request_alterable_config ic = {SESP_KSTR("log.retention.ms"), 1, SESP_KSTR_NULL};
    sesp_kmsg_incremental_alter_configs_request_alter_configs_resource ir = {4, SESP_KSTR("3"), &ic, 1};
    sesp_kmsg_incremental_alter_configs_request ireq;
    sesp_kmsg_incremental_alter_configs_request_init(&ireq);
    ireq.resources = &ir;
    ireq.resources_count = 1;
    sesp_kmsg_incremental_alter_configs_response iresp;
    f = RAW(44, 1, sesp_kmsg_incremental_alter_configs_request_encode, &ireq,
            sesp_kmsg_incremental_alter_configs_response_decode, &iresp, &a);
    CU_ASSERT_EQUAL(iresp.responses[0].error_code, 0);
    free(f);
    ic.config_operation = 0;
    ic.value = SESP_KSTR("1");
    f = RAW(44, 1, sesp_kmsg_incremental_alter_configs_request_encode, &ireq,
            sesp_kmsg_incremental_alter_configs_response_decode, &iresp, &a);
    CU_ASSERT_EQUAL(iresp.responses[0].error_code, SESP_KERR_INVALID_REQUEST);
    CU_ASSERT(iresp.responses[0].error_message.len > 0);
    free(f);
    sesp_arena_free(&a);

    /* A truncated body closes the connection; the broker keeps serving. */
    sesp_bufw bw;
    sesp_bufw_init(&bw, 16, 0);
    sesp_bufw_i32(&bw, 5); /* topics: 5 entries, then nothing */
    sesp_bufr br;
    uint8_t *fr = raw_call(19, 4, &bw, &br);
    CU_ASSERT_PTR_NULL(fr);
    free(fr);
    raw_connect();
    CU_ASSERT_EQUAL(raw_describe_one(2, "orders"), 0);
}

/* Every version of every admin API answers a well-formed request with a
 * response that decodes at that version. */
static void test_raw_all_versions(void)
{
    raw_connect();
    sesp_arena a;
    sesp_arena_init(&a, 0);
    char name[32];
    for (int16_t v = 0; v <= 7; v++) {
        snprintf(name, sizeof name, "ver-%d", v);
        ctopic t;
        sesp_kmsg_create_topics_request_creatable_topic_init(&t);
        t.name = SESP_KSTR(name);
        t.num_partitions = 1;
        t.replication_factor = 1;
        t.configs = NULL;
        t.configs_count = 0;
        t.assignments = NULL;
        t.assignments_count = 0;
        sesp_kmsg_create_topics_request req;
        sesp_kmsg_create_topics_request_init(&req);
        req.topics = &t;
        req.topics_count = 1;
        sesp_kmsg_create_topics_response resp;
        uint8_t *f = RAW(19, v, sesp_kmsg_create_topics_request_encode, &req, sesp_kmsg_create_topics_response_decode,
                         &resp, &a);
        CU_ASSERT_EQUAL(resp.topics_count == 1 ? resp.topics[0].error_code : -2, 0);
        free(f);
        CU_ASSERT_EQUAL(partitions_of(name), 1);
        /* Again: exists. */
        f = RAW(19, v, sesp_kmsg_create_topics_request_encode, &req, sesp_kmsg_create_topics_response_decode, &resp,
                &a);
        CU_ASSERT_EQUAL(resp.topics[0].error_code, SESP_KERR_TOPIC_ALREADY_EXISTS);
        if (v >= 1)
            CU_ASSERT(resp.topics[0].error_message.len > 0);
        free(f);
    }
    for (int16_t v = 0; v <= 3; v++) {
        sesp_kmsg_create_partitions_request_create_partitions_topic t;
        sesp_kmsg_create_partitions_request_create_partitions_topic_init(&t);
        t.name = SESP_KSTR("ver-0");
        t.count = 2 + v;
        t.assignments = NULL;
        t.assignments_count = -1;
        sesp_kmsg_create_partitions_request req;
        sesp_kmsg_create_partitions_request_init(&req);
        req.topics = &t;
        req.topics_count = 1;
        sesp_kmsg_create_partitions_response resp;
        uint8_t *f = RAW(37, v, sesp_kmsg_create_partitions_request_encode, &req,
                         sesp_kmsg_create_partitions_response_decode, &resp, &a);
        CU_ASSERT_EQUAL(resp.results_count == 1 ? resp.results[0].error_code : -2, 0);
        free(f);
        CU_ASSERT_EQUAL(partitions_of("ver-0"), 2 + v);
    }
    /* Assignments naming another broker. */
    {
        int32_t other = 4;
        sesp_kmsg_create_partitions_request_create_partitions_assignment as = {&other, 1};
        sesp_kmsg_create_partitions_request_create_partitions_topic t;
        sesp_kmsg_create_partitions_request_create_partitions_topic_init(&t);
        t.name = SESP_KSTR("ver-0");
        t.count = 6;
        t.assignments = &as;
        t.assignments_count = 1;
        sesp_kmsg_create_partitions_request req;
        sesp_kmsg_create_partitions_request_init(&req);
        req.topics = &t;
        req.topics_count = 1;
        sesp_kmsg_create_partitions_response resp;
        uint8_t *f = RAW(37, 3, sesp_kmsg_create_partitions_request_encode, &req,
                         sesp_kmsg_create_partitions_response_decode, &resp, &a);
        CU_ASSERT_EQUAL(resp.results[0].error_code, SESP_KERR_INVALID_REPLICA_ASSIGNMENT);
        free(f);
    }
    for (int16_t v = 0; v <= 4; v++) {
        sesp_kstr key = SESP_KSTR("segment.ms");
        sesp_kmsg_describe_configs_request_describe_configs_resource res[3];
        for (int i = 0; i < 3; i++) {
            sesp_kmsg_describe_configs_request_describe_configs_resource_init(&res[i]);
            res[i].configuration_keys = &key;
            res[i].configuration_keys_count = 1;
        }
        res[0].resource_type = 2;
        res[0].resource_name = SESP_KSTR("orders");
        res[1].resource_type = 3; /* GROUP: not a config resource here */
        res[1].resource_name = SESP_KSTR("g");
        res[2].resource_type = 4;
        res[2].resource_name = SESP_KSTR("");
        sesp_kmsg_describe_configs_request req;
        sesp_kmsg_describe_configs_request_init(&req);
        req.resources = res;
        req.resources_count = 3;
        req.include_synonyms = v >= 1;
        req.include_documentation = v >= 3;
        sesp_kmsg_describe_configs_response resp;
        uint8_t *f = RAW(32, v, sesp_kmsg_describe_configs_request_encode, &req,
                         sesp_kmsg_describe_configs_response_decode, &resp, &a);
        CU_ASSERT_EQUAL_FATAL(resp.results_count, 3);
        CU_ASSERT_EQUAL(resp.results[0].error_code, 0);
        CU_ASSERT_EQUAL_FATAL(resp.results[0].configs_count, 1);
        sesp_kmsg_describe_configs_response_describe_configs_resource_result *c = &resp.results[0].configs[0];
        CU_ASSERT(sesp_kstr_eq(c->name, "segment.ms") && sesp_kstr_eq(c->value, "600000"));
        if (v >= 1) {
            CU_ASSERT_EQUAL(c->config_source, 1);
            CU_ASSERT_FATAL(c->synonyms_count >= 1);
            CU_ASSERT_EQUAL(c->synonyms[0].source, 1);
            CU_ASSERT(sesp_kstr_eq(c->synonyms[0].name, "segment.ms"));
        } else {
            CU_ASSERT(!c->is_default);
        }
        if (v >= 3) {
            CU_ASSERT_EQUAL(c->config_type, 5); /* LONG */
            CU_ASSERT(c->documentation.len > 0);
        }
        CU_ASSERT_EQUAL(resp.results[1].error_code, SESP_KERR_INVALID_REQUEST);
        CU_ASSERT_EQUAL(resp.results[2].error_code, 0);
        CU_ASSERT_EQUAL(resp.results[2].configs_count, 0);
        free(f);
    }
    for (int16_t v = 0; v <= 2; v++) {
        sesp_kmsg_alter_configs_request_alterable_config c = {SESP_KSTR("segment.ms"), SESP_KSTR("900000")};
        sesp_kmsg_alter_configs_request_alter_configs_resource res;
        sesp_kmsg_alter_configs_request_alter_configs_resource_init(&res);
        res.resource_type = 2;
        res.resource_name = SESP_KSTR("ver-1");
        res.configs = &c;
        res.configs_count = 1;
        sesp_kmsg_alter_configs_request req;
        sesp_kmsg_alter_configs_request_init(&req);
        req.resources = &res;
        req.resources_count = 1;
        sesp_kmsg_alter_configs_response resp;
        uint8_t *f = RAW(33, v, sesp_kmsg_alter_configs_request_encode, &req, sesp_kmsg_alter_configs_response_decode,
                         &resp, &a);
        CU_ASSERT_EQUAL(resp.responses_count == 1 ? resp.responses[0].error_code : -2, 0);
        free(f);
    }
    for (int16_t v = 0; v <= 2; v++) {
        sesp_kmsg_delete_records_request_delete_records_partition p[2] = {{0, -1}, {7, 0}};
        sesp_kmsg_delete_records_request_delete_records_topic t = {SESP_KSTR("events"), p, 2};
        sesp_kmsg_delete_records_request req;
        sesp_kmsg_delete_records_request_init(&req);
        req.topics = &t;
        req.topics_count = 1;
        sesp_kmsg_delete_records_response resp;
        uint8_t *f = RAW(21, v, sesp_kmsg_delete_records_request_encode, &req, sesp_kmsg_delete_records_response_decode,
                         &resp, &a);
        CU_ASSERT_EQUAL_FATAL(resp.topics_count, 1);
        CU_ASSERT_EQUAL(resp.topics[0].partitions[0].error_code, 0);
        CU_ASSERT_EQUAL(resp.topics[0].partitions[0].low_watermark, 50);
        CU_ASSERT_EQUAL(resp.topics[0].partitions[1].error_code, SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION);
        CU_ASSERT_EQUAL(resp.topics[0].partitions[1].low_watermark, -1);
        free(f);
    }
    for (int16_t v = 0; v <= 6; v++) {
        snprintf(name, sizeof name, "ver-%d", v);
        sesp_kmsg_delete_topics_request req;
        sesp_kmsg_delete_topics_request_init(&req);
        sesp_kstr nm = SESP_KSTR(name);
        sesp_kmsg_delete_topics_request_delete_topic_state st;
        sesp_kmsg_delete_topics_request_delete_topic_state_init(&st);
        st.name = nm;
        if (v >= 6) {
            req.topics = &st;
            req.topics_count = 1;
        } else {
            req.topic_names = &nm;
            req.topic_names_count = 1;
        }
        sesp_kmsg_delete_topics_response resp;
        uint8_t *f = RAW(20, v, sesp_kmsg_delete_topics_request_encode, &req, sesp_kmsg_delete_topics_response_decode,
                         &resp, &a);
        CU_ASSERT_EQUAL(resp.responses_count == 1 ? resp.responses[0].error_code : -2, 0);
        free(f);
        CU_ASSERT_EQUAL(partitions_of(name), -1);
    }
    sesp_arena_free(&a);
    close(raw_fd);
    raw_fd = -1;
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/sesp-admin-test.XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    if (start_server() != 0)
        return 1;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("admin", NULL, NULL);
    CU_add_test(s, "create topics", test_create_topics);
    CU_add_test(s, "describe configs", test_describe_configs);
    CU_add_test(s, "alter configs", test_alter_configs);
    CU_add_test(s, "create partitions", test_create_partitions);
    CU_add_test(s, "delete records", test_delete_records);
    CU_add_test(s, "delete topics", test_delete_topics);
    CU_add_test(s, "restart keeps configs", test_restart);
    CU_add_test(s, "raw create v7 / delete by id", test_raw_create_delete_by_id);
    CU_add_test(s, "raw incremental alter configs", test_raw_incremental_alter);
    CU_add_test(s, "raw describe cluster", test_raw_describe_cluster);
    CU_add_test(s, "raw describe log dirs", test_raw_describe_log_dirs);
    CU_add_test(s, "raw error paths", test_raw_errors);
    CU_add_test(s, "raw every version", test_raw_all_versions);
    CU_add_test(s, "describe log dirs over two dirs", test_describe_log_dirs_two_dirs);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    if (raw_fd >= 0)
        close(raw_fd);
    stop_server();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", g_dir, g_dir2);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", g_dir);
    return failed ? 1 : 0;
}
