/* Unit tests of broker/server/topics: name rules, create/delete/grow with
 * Kafka's error codes, config overrides and their sources, persistence
 * across a reopen (ids, partitions, configs, data), deferred deletion while
 * a topic is referenced, and partition waiters. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/server/config.h"
#include "broker/server/topics.h"
#include "common/err.h"

static char g_dir[64];

static void make_config(sesp_config *c)
{
    char err[256];
    sesp_config_init(c);
    sesp_config_set(c, "log.dirs", g_dir, err, sizeof err);
    sesp_config_set(c, "num.partitions", "2", err, sizeof err);
    sesp_config_set(c, "log.retention.hours", "5", err, sizeof err);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(c, err, sizeof err), 0);
}

static bool exists(const char *rel)
{
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", g_dir, rel);
    return stat(p, &st) == 0;
}

static void append_one(sesp_log *log, const char *value)
{
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    sesp_batch_record_in r = {.key = "k", .key_len = 1, .value = value, .value_len = (int32_t)strlen(value),
                              .timestamp = 1000};
    uint8_t *b;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(sesp_batch_build(&o, &r, 1, &b, &len), 0);
    sesp_log_append_info info;
    CU_ASSERT_EQUAL(sesp_log_append(log, b, len, 2000, &info), 0);
    free(b);
}

static void test_names(void)
{
    char msg[SESP_TOPICS_MSG_LEN];
    char long_name[260];
    memset(long_name, 'a', sizeof long_name);
    CU_ASSERT_EQUAL(sesp_topics_validate_name("ok.name_-1", 10, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(sesp_topics_validate_name(long_name, 249, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(sesp_topics_validate_name(long_name, 250, msg, sizeof msg), SESP_TOPICS_KERR_INVALID_TOPIC);
    CU_ASSERT_EQUAL(sesp_topics_validate_name(".", 1, msg, sizeof msg), SESP_TOPICS_KERR_INVALID_TOPIC);
    CU_ASSERT_EQUAL(sesp_topics_validate_name("..", 2, msg, sizeof msg), SESP_TOPICS_KERR_INVALID_TOPIC);
    CU_ASSERT_EQUAL(sesp_topics_validate_name("...", 3, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(sesp_topics_validate_name("", 0, msg, sizeof msg), SESP_TOPICS_KERR_INVALID_TOPIC);
    CU_ASSERT_EQUAL(sesp_topics_validate_name("a b", 3, msg, sizeof msg), SESP_TOPICS_KERR_INVALID_TOPIC);
    CU_ASSERT_EQUAL(sesp_topics_validate_name("a/b", 3, msg, sizeof msg), SESP_TOPICS_KERR_INVALID_TOPIC);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "a/b"));
}

static void test_create_errors(void)
{
    sesp_config c;
    make_config(&c);
    sesp_topics *t;
    char err[256], msg[SESP_TOPICS_MSG_LEN];
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    sesp_topic_kv bad_val = {"retention.ms", "soon"}, unknown = {"no.such.config", "1"},
                  bad_enum = {"cleanup.policy", "shred"};
    CU_ASSERT_EQUAL(sesp_topics_create(t, "x/y", 3, 1, 1, NULL, 0, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_TOPIC);
    CU_ASSERT_EQUAL(sesp_topics_create(t, "e1", 2, 0, 1, NULL, 0, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_PARTITIONS);
    CU_ASSERT_EQUAL(sesp_topics_create(t, "e1", 2, 1, 3, NULL, 0, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_REPLICATION_FACTOR);
    CU_ASSERT_EQUAL(sesp_topics_create(t, "e1", 2, 1, 1, &bad_val, 1, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "retention.ms"));
    CU_ASSERT_EQUAL(sesp_topics_create(t, "e1", 2, 1, 1, &unknown, 1, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_CONFIG);
    CU_ASSERT_EQUAL(sesp_topics_create(t, "e1", 2, 1, 1, &bad_enum, 1, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_CONFIG);
    /* validate_only creates nothing. */
    CU_ASSERT_EQUAL(sesp_topics_create(t, "e1", 2, 3, 1, NULL, 0, true, NULL, msg, sizeof msg), 0);
    CU_ASSERT_PTR_NULL(sesp_topics_get(t, "e1", 2));
    CU_ASSERT_FALSE(exists("e1-0"));
    CU_ASSERT_EQUAL(sesp_topics_create(t, "e1", 2, -1, -1, NULL, 0, false, NULL, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(sesp_topics_create(t, "e1", 2, 1, 1, NULL, 0, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_TOPIC_ALREADY_EXISTS);
    /* '.' and '_' collide as in Kafka. */
    CU_ASSERT_EQUAL(sesp_topics_create(t, "a.b", 3, 1, 1, NULL, 0, false, NULL, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(sesp_topics_create(t, "a_b", 3, 1, 1, NULL, 0, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_TOPIC);
    sesp_topic *tp = sesp_topics_get(t, "e1", 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    CU_ASSERT_EQUAL(sesp_topic_partition_count(tp), 2); /* num.partitions */
    CU_ASSERT_TRUE(exists("e1-0") && exists("e1-1"));
    sesp_topic_release(tp);
    CU_ASSERT_EQUAL(sesp_topics_delete(t, "e1", 2, NULL, NULL, NULL, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(sesp_topics_delete(t, "a.b", 3, NULL, NULL, NULL, msg, sizeof msg), 0);
    CU_ASSERT_FALSE(exists("e1-0"));
    CU_ASSERT_EQUAL(sesp_topics_delete(t, "e1", 2, NULL, NULL, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    sesp_topic_id zero = {{0}};
    CU_ASSERT_EQUAL(sesp_topics_delete(t, NULL, 0, &zero, NULL, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_UNKNOWN_TOPIC_ID);
    sesp_topics_close(t);
    sesp_config_free(&c);
}

static void test_persist_and_configs(void)
{
    sesp_config c;
    make_config(&c);
    sesp_topics *t;
    char err[256], msg[SESP_TOPICS_MSG_LEN];
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    sesp_topic_kv kv[] = {{"retention.ms", "60000"}, {"cleanup.policy", "compact,delete"}};
    sesp_topic_id id, id2;
    CU_ASSERT_EQUAL_FATAL(sesp_topics_create(t, "p1", 2, 3, 1, kv, 2, false, &id, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_topics_create(t, "p2", 2, 1, 1, NULL, 0, false, &id2, msg, sizeof msg), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(&id, &id2, sizeof id), 0);
    CU_ASSERT_EQUAL(id.b[6] >> 4, 4); /* a version-4 UUID */
    sesp_topic *tp = sesp_topics_get_by_id(t, &id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    CU_ASSERT_STRING_EQUAL(sesp_topic_name(tp), "p1");
    append_one(sesp_topic_log(tp, 1), "hello");
    append_one(sesp_topic_log(tp, 1), "world");
    CU_ASSERT_PTR_NULL(sesp_topic_log(tp, 3));
    CU_ASSERT_PTR_NULL(sesp_topic_log(tp, -1));

    /* Describe: overrides are DYNAMIC_TOPIC_CONFIG, the rest come from the
     * broker (STATIC_BROKER_CONFIG when set there) or Kafka's defaults. */
    sesp_topic_config_desc *d;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(sesp_topic_configs_describe(t, tp, &d, &n), 0);
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(d[i].name, "retention.ms") == 0) {
            CU_ASSERT_STRING_EQUAL(d[i].value, "60000");
            CU_ASSERT_FALSE(d[i].is_default);
            CU_ASSERT_EQUAL(d[i].source, SESP_CONFIG_SRC_DYNAMIC_TOPIC);
            seen++;
        } else if (strcmp(d[i].name, "segment.bytes") == 0) {
            CU_ASSERT_STRING_EQUAL(d[i].value, "1073741824");
            CU_ASSERT_EQUAL(d[i].source, SESP_CONFIG_SRC_DEFAULT);
            seen++;
        } else if (strcmp(d[i].name, "min.insync.replicas") == 0) {
            CU_ASSERT_STRING_EQUAL(d[i].value, "1");
            seen++;
        }
    }
    CU_ASSERT_EQUAL(seen, 3);
    sesp_topic_configs_free(d, n);
    sesp_topic_release(tp);

    /* Incremental: set one, delete one; full replace drops the rest. */
    sesp_topic_kv inc[] = {{"segment.bytes", "1048576"}, {"cleanup.policy", NULL}};
    CU_ASSERT_EQUAL(sesp_topics_alter_configs(t, "p1", 2, inc, 2, false, false, msg, sizeof msg), 0);
    sesp_topic_kv badinc = {"segment.bytes", "tiny"};
    CU_ASSERT_EQUAL(sesp_topics_alter_configs(t, "p1", 2, &badinc, 1, false, false, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_CONFIG);
    CU_ASSERT_EQUAL(sesp_topics_alter_configs(t, "nope", 4, inc, 1, false, false, msg, sizeof msg),
                    SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    tp = sesp_topics_get(t, "p1", 2);
    char *v = sesp_topic_config_get_override(tp, "segment.bytes");
    CU_ASSERT_STRING_EQUAL(v, "1048576");
    free(v);
    CU_ASSERT_PTR_NULL(sesp_topic_config_get_override(tp, "cleanup.policy"));
    v = sesp_topic_config_get_override(tp, "retention.ms");
    CU_ASSERT_STRING_EQUAL(v, "60000");
    free(v);
    sesp_topic_release(tp);

    /* Growing partitions. */
    CU_ASSERT_EQUAL(sesp_topics_create_partitions(t, "p1", 2, 2, false, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_PARTITIONS);
    CU_ASSERT_EQUAL(sesp_topics_create_partitions(t, "p1", 2, 3, false, msg, sizeof msg),
                    SESP_TOPICS_KERR_INVALID_PARTITIONS);
    CU_ASSERT_EQUAL(sesp_topics_create_partitions(t, "p1", 2, 5, true, msg, sizeof msg), 0);
    CU_ASSERT_FALSE(exists("p1-3"));
    CU_ASSERT_EQUAL(sesp_topics_create_partitions(t, "p1", 2, 5, false, msg, sizeof msg), 0);
    CU_ASSERT_TRUE(exists("p1-4"));
    sesp_topics_close(t);

    /* Reopen: everything is back, including the data. */
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    tp = sesp_topics_get(t, "p1", 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    CU_ASSERT_EQUAL(memcmp(sesp_topic_id_of(tp), &id, sizeof id), 0);
    CU_ASSERT_EQUAL(sesp_topic_partition_count(tp), 5);
    CU_ASSERT_EQUAL(sesp_log_end_offset(sesp_topic_log(tp, 1)), 2);
    CU_ASSERT_EQUAL(sesp_log_end_offset(sesp_topic_log(tp, 0)), 0);
    v = sesp_topic_config_get_override(tp, "segment.bytes");
    CU_ASSERT_STRING_EQUAL(v, "1048576");
    free(v);
    sesp_topic_release(tp);
    sesp_topic **list;
    size_t nl;
    CU_ASSERT_EQUAL_FATAL(sesp_topics_list(t, &list, &nl), 0);
    CU_ASSERT_EQUAL_FATAL(nl, 2);
    CU_ASSERT_STRING_EQUAL(sesp_topic_name(list[0]), "p1");
    CU_ASSERT_STRING_EQUAL(sesp_topic_name(list[1]), "p2");
    sesp_topics_list_free(list, nl);

    /* Replace-all AlterConfigs. */
    sesp_topic_kv all = {"retention.bytes", "1000000"};
    CU_ASSERT_EQUAL(sesp_topics_alter_configs(t, "p1", 2, &all, 1, true, false, msg, sizeof msg), 0);
    tp = sesp_topics_get(t, "p1", 2);
    CU_ASSERT_PTR_NULL(sesp_topic_config_get_override(tp, "retention.ms"));
    v = sesp_topic_config_get_override(tp, "retention.bytes");
    CU_ASSERT_STRING_EQUAL(v, "1000000");
    free(v);
    sesp_topic_release(tp);
    CU_ASSERT_EQUAL(sesp_topics_delete(t, "p1", 2, NULL, NULL, NULL, msg, sizeof msg), 0);
    char name[256];
    sesp_topic_id did;
    CU_ASSERT_EQUAL(sesp_topics_delete(t, NULL, 0, &id2, &did, name, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(name, "p2");
    CU_ASSERT_FALSE(exists("p1-0") || exists("p2-0"));
    sesp_topics_close(t);
    /* Deletions persist too. */
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    CU_ASSERT_PTR_NULL(sesp_topics_get(t, "p1", 2));
    sesp_topics_close(t);
    sesp_config_free(&c);
}

static int g_woken;
static void on_wake(sesp_partition_waiter *w, void *ud)
{
    (void)w;
    *(int *)ud += 1;
}

static void test_deferred_delete_and_waiters(void)
{
    sesp_config c;
    make_config(&c);
    sesp_topics *t;
    char err[256], msg[SESP_TOPICS_MSG_LEN];
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    int16_t kerr;
    /* auto-create with the broker default partition count. */
    sesp_topic *tp = sesp_topics_get_or_create(t, "auto", 4, true, &kerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    CU_ASSERT_EQUAL(sesp_topic_partition_count(tp), 2);
    CU_ASSERT_PTR_NULL(sesp_topics_get_or_create(t, "other", 5, false, &kerr));
    CU_ASSERT_EQUAL(kerr, SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION);

    sesp_partition_waiter w = {.cb = on_wake, .ud = &g_woken};
    sesp_partition *p = sesp_topic_partition(tp, 1);
    sesp_partition_add_waiter(p, &w);
    sesp_partition_notify(p);
    CU_ASSERT_EQUAL(g_woken, 1);
    append_one(sesp_partition_log(p), "x");

    /* Deleting while referenced: gone from the registry at once, data kept
     * until the last reference, the name reserved meanwhile. */
    CU_ASSERT_EQUAL(sesp_topics_delete(t, "auto", 4, NULL, NULL, NULL, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL(g_woken, 2); /* deletion wakes waiters */
    CU_ASSERT_TRUE(sesp_topic_is_deleted(tp));
    CU_ASSERT_PTR_NULL(sesp_topics_get(t, "auto", 4));
    CU_ASSERT_TRUE(exists("auto-1"));
    CU_ASSERT_EQUAL(sesp_log_end_offset(sesp_partition_log(p)), 1);
    CU_ASSERT_EQUAL(sesp_topics_create(t, "auto", 4, 1, 1, NULL, 0, false, NULL, msg, sizeof msg),
                    SESP_TOPICS_KERR_TOPIC_ALREADY_EXISTS);
    sesp_partition_remove_waiter(&w);
    sesp_partition_remove_waiter(&w); /* idempotent */
    sesp_topic_release(tp);
    CU_ASSERT_FALSE(exists("auto-1"));
    CU_ASSERT_EQUAL(sesp_topics_create(t, "auto", 4, 1, 1, NULL, 0, false, NULL, msg, sizeof msg), 0);
    tp = sesp_topics_get(t, "auto", 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    CU_ASSERT_EQUAL(sesp_log_end_offset(sesp_topic_log(tp, 0)), 0); /* fresh */
    sesp_topic_release(tp);
    sesp_topics_close(t);
    sesp_config_free(&c);
}

/* Retention through the registry's periodic task: small segments with old
 * timestamps go, the active segment stays. */
static void test_retention(void)
{
    sesp_config c;
    make_config(&c);
    sesp_topics *t;
    char err[256], msg[SESP_TOPICS_MSG_LEN];
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    sesp_topic_kv kv[] = {{"segment.bytes", "200"}, {"retention.ms", "60000"}};
    CU_ASSERT_EQUAL_FATAL(sesp_topics_create(t, "ret", 3, 1, 1, kv, 2, false, NULL, msg, sizeof msg), 0);
    sesp_topic *tp = sesp_topics_get(t, "ret", 3);
    sesp_log *log = sesp_topic_log(tp, 0);
    for (int i = 0; i < 20; i++)
        append_one(log, "a value long enough to fill segments quickly..........");
    CU_ASSERT(sesp_log_segment_count(log) > 2);
    CU_ASSERT_EQUAL(sesp_log_start_offset(log), 0);
    /* Timestamps are 1000 ms since the epoch: long past retention. */
    CU_ASSERT(sesp_topics_apply_retention(t, 10LL * 24 * 3600 * 1000) > 0);
    CU_ASSERT(sesp_log_start_offset(log) > 0);
    CU_ASSERT_EQUAL(sesp_log_end_offset(log), 20);
    CU_ASSERT(sesp_topics_flush_time(t, 10LL * 24 * 3600 * 1000) >= 0);
    sesp_topic_release(tp);
    sesp_topics_close(t);
    sesp_config_free(&c);
}

/* Several log.dirs: new partitions spread over them, reopen finds them. */
static void test_multi_dirs(void)
{
    char d1[128], d2[128], list[300], err[256], msg[SESP_TOPICS_MSG_LEN];
    snprintf(d1, sizeof d1, "%s/jbod1", g_dir);
    snprintf(d2, sizeof d2, "%s/jbod2", g_dir);
    snprintf(list, sizeof list, "%s,%s", d1, d2);
    sesp_config c;
    sesp_config_init(&c);
    sesp_config_set(&c, "log.dirs", list, err, sizeof err);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(&c, err, sizeof err), 0);
    mkdir(d1, 0755);
    mkdir(d2, 0755);
    sesp_topics *t;
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_topics_create(t, "spread", 6, 4, 1, NULL, 0, false, NULL, msg, sizeof msg), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_topics_create_partitions(t, "spread", 6, 6, false, msg, sizeof msg), 0);
    sesp_topic *tp = sesp_topics_get(t, "spread", 6);
    int in1 = 0, in2 = 0;
    for (int32_t i = 0; i < 6; i++) {
        const char *d = sesp_partition_log_dir(t, sesp_topic_partition(tp, i));
        in1 += strcmp(d, d1) == 0;
        in2 += strcmp(d, d2) == 0;
    }
    CU_ASSERT_EQUAL(in1, 3);
    CU_ASSERT_EQUAL(in2, 3);
    append_one(sesp_topic_log(tp, 1), "in some dir");
    char where[256];
    snprintf(where, sizeof where, "%s", sesp_partition_log_dir(t, sesp_topic_partition(tp, 1)));
    sesp_topic_release(tp);
    sesp_topics_close(t);
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    tp = sesp_topics_get(t, "spread", 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tp);
    CU_ASSERT_STRING_EQUAL(sesp_partition_log_dir(t, sesp_topic_partition(tp, 1)), where);
    CU_ASSERT_EQUAL(sesp_log_end_offset(sesp_topic_log(tp, 1)), 1);
    sesp_topic_release(tp);
    sesp_topics_close(t);
    sesp_config_free(&c);
}

/* The broker's log.cleanup.policy is every topic's default; describe shows
 * it as STATIC_BROKER_CONFIG. */
static void test_broker_cleanup_default(void)
{
    sesp_config c;
    char err[256], msg[SESP_TOPICS_MSG_LEN];
    sesp_config_init(&c);
    sesp_config_set(&c, "log.dirs", g_dir, err, sizeof err);
    sesp_config_set(&c, "log.cleanup.policy", "compact", err, sizeof err);
    CU_ASSERT_EQUAL_FATAL(sesp_config_finish(&c, err, sizeof err), 0);
    sesp_topics *t;
    CU_ASSERT_EQUAL_FATAL(sesp_topics_open(&c, &t, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_topics_create(t, "cmp", 3, 1, 1, NULL, 0, false, NULL, msg, sizeof msg), 0);
    sesp_topic *tp = sesp_topics_get(t, "cmp", 3);
    sesp_topic_config_desc *d;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(sesp_topic_configs_describe(t, tp, &d, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(d[i].name, "cleanup.policy") == 0) {
            CU_ASSERT_STRING_EQUAL(d[i].value, "compact");
            CU_ASSERT_TRUE(d[i].is_default);
            CU_ASSERT_EQUAL(d[i].source, SESP_CONFIG_SRC_STATIC_BROKER);
            CU_ASSERT_STRING_EQUAL(d[i].synonym, "log.cleanup.policy");
        }
    }
    sesp_topic_configs_free(d, n);
    sesp_topic_release(tp);
    CU_ASSERT_EQUAL(sesp_topics_delete(t, "cmp", 3, NULL, NULL, NULL, msg, sizeof msg), 0);
    sesp_topics_close(t);
    sesp_config_free(&c);
}

static void test_corrupt_registry(void)
{
    sesp_config c;
    make_config(&c);
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/__sesp_meta/topics.json", g_dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("{\"topics\": [{\"name\": \"../evil\", \"id\": \"00\", \"partitions\": 1}]}", f);
    fclose(f);
    sesp_topics *t = NULL;
    CU_ASSERT_EQUAL(sesp_topics_open(&c, &t, err, sizeof err), SESP_ERR_CORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "topics.json"));
    unlink(path);
    sesp_config_free(&c);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/sesp-topics-XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("server_topics", NULL, NULL);
    CU_add_test(s, "names", test_names);
    CU_add_test(s, "create errors", test_create_errors);
    CU_add_test(s, "persistence and configs", test_persist_and_configs);
    CU_add_test(s, "deferred delete and waiters", test_deferred_delete_and_waiters);
    CU_add_test(s, "retention", test_retention);
    CU_add_test(s, "several log.dirs", test_multi_dirs);
    CU_add_test(s, "broker cleanup default", test_broker_cleanup_default);
    CU_add_test(s, "corrupt registry", test_corrupt_registry);
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
