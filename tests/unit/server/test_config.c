/* Unit tests of broker/server/config: defaults, the Java properties parser,
 * --set style overrides, Kafka's precedence rules, unknown keys and the
 * fatal errors for malformed values. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/server/config.h"
#include "common/err.h"

static void test_defaults(void)
{
    sesp_config c;
    char err[256];
    sesp_config_init(&c);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(&c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.node_id, 1);
    CU_ASSERT_EQUAL(c.num_listeners, 1);
    CU_ASSERT_STRING_EQUAL(c.listeners[0].name, "PLAINTEXT");
    CU_ASSERT_STRING_EQUAL(c.listeners[0].host, "127.0.0.1");
    CU_ASSERT_EQUAL(c.listeners[0].port, 9092);
    CU_ASSERT_EQUAL(c.num_advertised, 1);
    CU_ASSERT_EQUAL(c.advertised[0].port, 9092);
    CU_ASSERT_EQUAL(c.num_log_dirs, 1);
    CU_ASSERT_STRING_EQUAL(c.log_dirs[0], "./data");
    CU_ASSERT_EQUAL(c.num_partitions, 1);
    CU_ASSERT_EQUAL(c.default_replication_factor, 1);
    CU_ASSERT_TRUE(c.auto_create_topics);
    CU_ASSERT_EQUAL(c.log_segment_bytes, 1073741824);
    CU_ASSERT_EQUAL(c.log_roll_ms, 168LL * 3600000);
    CU_ASSERT_EQUAL(c.log_retention_ms, 168LL * 3600000);
    CU_ASSERT_EQUAL(c.log_retention_bytes, -1);
    CU_ASSERT_EQUAL(c.log_retention_check_interval_ms, 300000);
    CU_ASSERT_EQUAL(c.producer_id_expiration_ms, 86400000);
    CU_ASSERT_EQUAL(c.producer_id_expiration_check_interval_ms, 600000);
    CU_ASSERT_EQUAL(c.message_max_bytes, 1048588);
    CU_ASSERT_EQUAL(c.socket_request_max_bytes, 104857600);
    CU_ASSERT_EQUAL(c.log_flush_interval_messages, INT64_MAX);
    CU_ASSERT_EQUAL(c.log_flush_interval_ms, INT64_MAX);
    CU_ASSERT_EQUAL(c.num_network_threads, 3);
    CU_ASSERT_FALSE(c.log_append_time);
    CU_ASSERT_EQUAL(c.connections_max_idle_ms, 600000);
    CU_ASSERT_EQUAL(c.log_index_interval_bytes, 4096);
    CU_ASSERT_EQUAL(c.num_unknown, 0);
    sesp_config_desc d;
    CU_ASSERT_TRUE(sesp_config_describe(&c, "num.partitions", &d));
    CU_ASSERT_TRUE(d.is_default);
    CU_ASSERT_EQUAL(d.source, SESP_CONFIG_SRC_DEFAULT);
    CU_ASSERT_STRING_EQUAL(d.value, "1");
    CU_ASSERT_FALSE(sesp_config_describe(&c, "no.such.key", &d));
    sesp_config_free(&c);
}

static void test_properties_syntax(void)
{
    const char *text = "# a comment\n"
                       "! another comment\n"
                       "   \n"
                       "num.partitions=4\n"
                       "  log.dirs : /tmp/a,/tmp/b  \n"
                       "broker.id 7\n"
                       "listeners=PLAINTEXT://127.0.0.1:9093,\\\n"
                       "          OTHER://:9094\n"
                       "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT\n"
                       "advertised.listeners=OTHER://broker.example:19094\n"
                       "log.retention.hours=1\n"
                       "log.retention.minutes=30\n"
                       "log.message.timestamp.type=LogAppendTime\n"
                       "producer.id.expiration.ms=3600000\n"
                       "producer.id.expiration.check.interval.ms=1000\n"
                       "custom.key=a\\tb\\u0041\n"
                       "# trailing comment \\\n"
                       "auto.create.topics.enable=false\n"
                       "log.flush.interval.ms=2500\r\n";
    sesp_config c;
    char err[256] = "";
    sesp_config_init(&c);
    CU_ASSERT_EQUAL_FATAL(sesp_config_load_string(&c, text, strlen(text), err, sizeof err), 0);
    /* --set overrides come after the file and win. */
    CU_ASSERT_EQUAL(sesp_config_set(&c, "num.partitions", "6", err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(&c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.num_partitions, 6);
    CU_ASSERT_EQUAL(c.node_id, 7);
    CU_ASSERT_EQUAL(c.num_log_dirs, 2);
    CU_ASSERT_STRING_EQUAL(c.log_dirs[0], "/tmp/a");
    CU_ASSERT_STRING_EQUAL(c.log_dirs[1], "/tmp/b");
    CU_ASSERT_EQUAL_FATAL(c.num_listeners, 2);
    CU_ASSERT_EQUAL(c.listeners[0].port, 9093);
    CU_ASSERT_STRING_EQUAL(c.listeners[1].name, "OTHER");
    CU_ASSERT_STRING_EQUAL(c.listeners[1].host, "");
    CU_ASSERT_EQUAL(c.listeners[1].port, 9094);
    CU_ASSERT_EQUAL_FATAL(c.num_advertised, 1);
    CU_ASSERT_STRING_EQUAL(c.advertised[0].host, "broker.example");
    CU_ASSERT_EQUAL(c.advertised[0].port, 19094);
    /* minutes beat hours. */
    CU_ASSERT_EQUAL(c.log_retention_ms, 30LL * 60000);
    CU_ASSERT_TRUE(c.log_append_time);
    CU_ASSERT_FALSE(c.auto_create_topics);
    CU_ASSERT_EQUAL(c.log_flush_interval_ms, 2500);
    CU_ASSERT_EQUAL(c.producer_id_expiration_ms, 3600000);
    CU_ASSERT_EQUAL(c.producer_id_expiration_check_interval_ms, 1000);
    CU_ASSERT_EQUAL_FATAL(c.num_unknown, 1);
    CU_ASSERT_STRING_EQUAL(sesp_config_get(&c, "custom.key"), "a\tbA");
    sesp_config_desc d;
    CU_ASSERT_TRUE(sesp_config_describe(&c, "log.dirs", &d));
    CU_ASSERT_FALSE(d.is_default);
    CU_ASSERT_EQUAL(d.source, SESP_CONFIG_SRC_STATIC_BROKER);

    /* The unknown key is reported, once, by name. */
    char buf[512] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    sesp_config_warn_unknown(&c, f);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "custom.key"));
    sesp_config_free(&c);

    /* ms beats minutes; -1 hours = unlimited. */
    sesp_config_init(&c);
    sesp_config_set(&c, "log.retention.ms", "1234", err, sizeof err);
    sesp_config_set(&c, "log.retention.minutes", "5", err, sizeof err);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(&c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.log_retention_ms, 1234);
    sesp_config_free(&c);
    sesp_config_init(&c);
    sesp_config_set(&c, "log.retention.hours", "-1", err, sizeof err);
    sesp_config_set(&c, "log.roll.hours", "2", err, sizeof err);
    sesp_config_set(&c, "node.id", "3", err, sizeof err);
    sesp_config_set(&c, "log.dir", "/var/x", err, sizeof err);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(&c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.log_retention_ms, -1);
    CU_ASSERT_EQUAL(c.log_roll_ms, 2LL * 3600000);
    CU_ASSERT_EQUAL(c.node_id, 3);
    CU_ASSERT_STRING_EQUAL(c.log_dirs[0], "/var/x");
    sesp_config_free(&c);
}

static void test_file(void)
{
    char path[] = "/tmp/sesp-config-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    const char *text = "log.segment.bytes = 1048576\nnum.network.threads=2\n";
    CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    sesp_config c;
    char err[256];
    sesp_config_init(&c);
    CU_ASSERT_EQUAL_FATAL(sesp_config_load_file(&c, path, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(&c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.log_segment_bytes, 1048576);
    CU_ASSERT_EQUAL(c.num_network_threads, 2);
    sesp_config_free(&c);
    unlink(path);
    sesp_config_init(&c);
    CU_ASSERT_NOT_EQUAL(sesp_config_load_file(&c, "/nonexistent/sesp.properties", err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/sesp.properties"));
    sesp_config_free(&c);
}

/* Each bad key=value must fail finish with a message naming the key. */
static void expect_bad(const char *key, const char *value, const char *named)
{
    sesp_config c;
    char err[256] = "";
    sesp_config_init(&c);
    CU_ASSERT_EQUAL(sesp_config_set(&c, key, value, err, sizeof err), 0);
    int rc = sesp_config_finish(&c, err, sizeof err);
    CU_ASSERT_EQUAL(rc, SESP_ERR_INVALID_ARG);
    if (rc == 0 || !strstr(err, named))
        fprintf(stderr, "\n%s=%s: rc %d, err '%s'\n", key, value, rc, err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, named));
    sesp_config_free(&c);
}

static void test_bad_values(void)
{
    expect_bad("num.partitions", "abc", "num.partitions");
    expect_bad("num.partitions", "0", "num.partitions");
    expect_bad("message.max.bytes", "-5", "message.max.bytes");
    expect_bad("log.segment.bytes", "99999999999", "log.segment.bytes");
    expect_bad("log.retention.ms", "12x", "log.retention.ms");
    expect_bad("auto.create.topics.enable", "maybe", "auto.create.topics.enable");
    expect_bad("listeners", "SSL://127.0.0.1:9093", "listeners");
    expect_bad("listeners", "PLAINTEXT://127.0.0.1", "listeners");
    expect_bad("listeners", "PLAINTEXT://127.0.0.1:70000", "listeners");
    expect_bad("listeners", "127.0.0.1:9092", "listeners");
    expect_bad("log.message.timestamp.type", "Whenever", "log.message.timestamp.type");
    expect_bad("num.network.threads", "", "num.network.threads");
    expect_bad("log.cleaner.min.cleanable.ratio", "half", "log.cleaner.min.cleanable.ratio");
    expect_bad("log.dirs", " , ", "log.dirs");
    expect_bad("log.cleanup.policy", "compact,shred", "log.cleanup.policy");
    expect_bad("compression.type", "brotli", "compression.type");
    expect_bad("log.cleaner.backoff.ms", "soon", "log.cleaner.backoff.ms");
    expect_bad("producer.id.expiration.ms", "0", "producer.id.expiration.ms");
    expect_bad("producer.id.expiration.check.interval.ms", "3000000000", "producer.id.expiration.check.interval.ms");
    sesp_config c;
    char err[256];
    sesp_config_init(&c);
    sesp_config_set(&c, "node.id", "1", err, sizeof err);
    sesp_config_set(&c, "broker.id", "2", err, sizeof err);
    CU_ASSERT_NOT_EQUAL(sesp_config_finish(&c, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "broker.id"));
    sesp_config_free(&c);
    /* An empty key in a file is an error with the line number. */
    sesp_config_init(&c);
    CU_ASSERT_NOT_EQUAL(sesp_config_load_string(&c, "a=1\n=2\n", 7, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));
    sesp_config_free(&c);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("server_config", NULL, NULL);
    CU_add_test(s, "defaults", test_defaults);
    CU_add_test(s, "properties syntax and precedence", test_properties_syntax);
    CU_add_test(s, "file", test_file);
    CU_add_test(s, "bad values", test_bad_values);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
