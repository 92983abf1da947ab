/* Unit tests of VACUUM (lakehouse/delta/vacuum.c) through the public API:
 * the VACUUM START / VACUUM END commits with Delta's operationParameters and
 * operationMetrics, a dry run leaving the log alone, the retention (the
 * table's delta.deletedFileRetentionDuration by default, counted from a
 * removal) and Delta's retention check, and an append racing the END commit
 * (the END commit moves to the next version). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/delta/delta.h"

#define HOUR_MS (3600 * 1000LL)
#define DAY_MS (24 * HOUR_MS)

static char root[256];
static int table_seq;

static const char *SCHEMA =
    "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sesp_delta_table *open_at(const char *uri, int64_t now_ms)
{
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    o.now_ms = now_ms;
    sesp_delta_table *t = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
    return t;
}

static void append(sesp_delta_table *t, int id)
{
    char js[100];
    snprintf(js, sizeof(js), "[{\"id\":%d,\"p\":\"a\"},{\"id\":%d,\"p\":\"b\"}]", id, id + 1000);
    json_t *rows = json_loads(js, 0, NULL);
    sesp_delta_result r;
    int rc = sesp_delta_table_append(t, rows, NULL, &r);
    if (rc) fprintf(stderr, "\nappend: %s\n", sesp_delta_table_error(t));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    json_decref(rows);
}

/* A table of 3 appends then OPTIMIZE: 6 files removed at "now", 2 live.
 * cfg: an optional delta.deletedFileRetentionDuration. */
static void make_table(char *uri, size_t cap, const char *retention)
{
    snprintf(uri, cap, "file://%s/t%d", root, ++table_seq);
    sesp_delta_table *t = open_at(uri, 0);
    sesp_delta_kv kv[1] = {{"delta.deletedFileRetentionDuration", retention}};
    sesp_delta_map cfg = {kv, retention ? 1 : 0};
    CU_ASSERT_FATAL(sesp_delta_table_create(t, SCHEMA, (const char *[]){"p"}, 1, &cfg, "t") == 0);
    for (int i = 0; i < 3; i++) append(t, i * 10);
    sesp_delta_result r;
    CU_ASSERT_FATAL(sesp_delta_table_optimize(t, 0, &r) == 0);
    CU_ASSERT_EQUAL(r.files_removed, 6);
    sesp_delta_table_close(t);
}

static int64_t latest(sesp_delta_table *t)
{
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_snapshot(t, -1, &s) == 0);
    int64_t v = s->version;
    sesp_delta_snapshot_free(s);
    return v;
}

static int count_rows(void *ud, const json_t *row) { (void)row; (*(int *)ud)++; return 0; }

static int scan_count(sesp_delta_table *t)
{
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_snapshot(t, -1, &s) == 0);
    int n = 0;
    CU_ASSERT_EQUAL(sesp_delta_table_scan(t, s, count_rows, &n), 0);
    sesp_delta_snapshot_free(s);
    return n;
}

/* The lines of commit v, parsed into an array. */
static json_t *commit_lines(sesp_delta_table *t, int64_t v)
{
    char key[64];
    snprintf(key, sizeof(key), "_delta_log/%020lld.json", (long long)v);
    uint8_t *data = NULL;
    size_t len = 0;
    CU_ASSERT_FATAL(sesp_objstore_get(sesp_delta_table_store(t), key, &data, &len) == 0);
    json_t *arr = json_array();
    char *text = strndup((const char *)data, len), *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        json_array_append_new(arr, json_loads(line, 0, NULL));
    free(text);
    free(data);
    return arr;
}

/* commitInfo of commit v when that is the commit's only action, else NULL
 * (borrowed from *keep, which the caller frees). */
static json_t *only_commit_info(sesp_delta_table *t, int64_t v, json_t **keep)
{
    *keep = commit_lines(t, v);
    if (json_array_size(*keep) != 1) return NULL;
    return json_object_get(json_array_get(*keep, 0), "commitInfo");
}

static const char *str_at(json_t *ci, const char *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(ci, obj), key));
}

static void test_start_end(void)
{
    char uri[300];
    make_table(uri, sizeof(uri), NULL);
    /* ten days later: past the default retention of 7 days */
    sesp_delta_table *t = open_at(uri, now_ms() + 10 * DAY_MS);
    int64_t v0 = latest(t);

    /* dry run: reports, deletes nothing, logs nothing */
    sesp_delta_vacuum_opts o = {.retention_ms = -1, .dry_run = true};
    sesp_delta_vacuum_result r;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_vacuum(t, &o, &r), 0);
    CU_ASSERT_EQUAL(r.files, 6);
    CU_ASSERT(r.bytes > 0);
    CU_ASSERT_EQUAL(r.start_version, -1);
    CU_ASSERT_EQUAL(r.end_version, -1);
    CU_ASSERT_EQUAL(latest(t), v0);
    sesp_delta_version_info *vi = NULL;
    size_t nvi = 0;
    char err[256];
    CU_ASSERT_EQUAL(sesp_delta_log_versions(sesp_delta_table_store(t), &vi, &nvi, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(nvi, (size_t)v0 + 1);
    free(vi);
    uint64_t bytes = r.bytes;

    /* the real one: START, the deletes, END */
    o.dry_run = false;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_vacuum(t, &o, &r), 0);
    CU_ASSERT_EQUAL(r.files, 6);
    CU_ASSERT_EQUAL(r.bytes, bytes);
    CU_ASSERT_EQUAL(r.dirs, 3);   /* the root, p=a, p=b */
    CU_ASSERT_EQUAL(r.start_version, v0 + 1);
    CU_ASSERT_EQUAL(r.end_version, v0 + 2);
    CU_ASSERT_EQUAL(latest(t), v0 + 2);
    CU_ASSERT_EQUAL(scan_count(t), 6);

    json_t *keep = NULL;
    json_t *ci = only_commit_info(t, v0 + 1, &keep);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ci);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ci, "operation")), "VACUUM START");
    json_t *p = json_object_get(ci, "operationParameters");
    CU_ASSERT(json_is_true(json_object_get(p, "retentionCheckEnabled")));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "defaultRetentionMillis")), 7 * DAY_MS);
    CU_ASSERT_PTR_NULL(json_object_get(p, "specifiedRetentionMillis"));   /* none given */
    CU_ASSERT_STRING_EQUAL(str_at(ci, "operationMetrics", "numFilesToDelete"), "6");
    char want[32];
    snprintf(want, sizeof(want), "%llu", (unsigned long long)bytes);
    CU_ASSERT_STRING_EQUAL(str_at(ci, "operationMetrics", "sizeOfDataToDelete"), want);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(ci, "readVersion")), v0);
    json_decref(keep);

    ci = only_commit_info(t, v0 + 2, &keep);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ci);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ci, "operation")), "VACUUM END");
    CU_ASSERT_STRING_EQUAL(str_at(ci, "operationParameters", "status"), "COMPLETED");
    CU_ASSERT_STRING_EQUAL(str_at(ci, "operationMetrics", "numDeletedFiles"), "6");
    CU_ASSERT_STRING_EQUAL(str_at(ci, "operationMetrics", "numVacuumedDirectories"), "3");
    json_decref(keep);

    /* nothing left to delete: still logged, with zeros */
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_vacuum(t, &o, &r), 0);
    CU_ASSERT_EQUAL(r.files, 0);
    CU_ASSERT_EQUAL(r.start_version, v0 + 3);
    ci = only_commit_info(t, v0 + 4, &keep);
    CU_ASSERT_STRING_EQUAL(str_at(ci, "operationMetrics", "numDeletedFiles"), "0");
    json_decref(keep);
    sesp_delta_table_close(t);
}

static void test_retention(void)
{
    char uri[300];
    make_table(uri, sizeof(uri), "interval 2 hours");
    /* an hour later: within the table's 2 hours nothing goes */
    sesp_delta_table *t = open_at(uri, now_ms() + HOUR_MS);
    int64_t v0 = latest(t);
    sesp_delta_vacuum_opts o = {.retention_ms = -1};
    sesp_delta_vacuum_result r;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_vacuum(t, &o, &r), 0);
    CU_ASSERT_EQUAL(r.files, 0);
    v0 += 2;
    /* below the table's retention: refused by the check, nothing logged */
    o.retention_ms = 30 * 60 * 1000;
    CU_ASSERT_EQUAL(sesp_delta_table_vacuum(t, &o, &r), SESP_ERR_INVALID_ARG);
    CU_ASSERT(strstr(sesp_delta_table_error(t), "delta.deletedFileRetentionDuration") != NULL);
    CU_ASSERT_EQUAL(latest(t), v0);
    /* ... unless the check is off, and that is recorded */
    o.no_retention_check = true;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_vacuum(t, &o, &r), 0);
    CU_ASSERT_EQUAL(r.files, 6);
    json_t *keep = NULL;
    json_t *ci = only_commit_info(t, r.start_version, &keep);
    json_t *p = json_object_get(ci, "operationParameters");
    CU_ASSERT(json_is_false(json_object_get(p, "retentionCheckEnabled")));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "specifiedRetentionMillis")), 30 * 60 * 1000);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(p, "defaultRetentionMillis")), 2 * HOUR_MS);
    json_decref(keep);
    CU_ASSERT_EQUAL(scan_count(t), 6);
    sesp_delta_table_close(t);
}

/* An append from another handle while the files are being deleted: after
 * VACUUM START, before VACUUM END, so END loses the race for its version. */
typedef struct racer {
    const char *uri;
    int appended;
} racer;

static void race(void *ud, const char *path, uint64_t size)
{
    (void)path;
    (void)size;
    racer *r = ud;
    if (r->appended++) return;
    sesp_delta_table *other = open_at(r->uri, 0);
    append(other, 500);
    sesp_delta_table_close(other);
}

static void test_race(void)
{
    char uri[300];
    make_table(uri, sizeof(uri), NULL);
    sesp_delta_table *t = open_at(uri, now_ms() + 10 * DAY_MS);
    int64_t v0 = latest(t);
    racer rc = {uri, 0};
    sesp_delta_vacuum_opts o = {.retention_ms = -1, .fn = race, .ud = &rc};
    sesp_delta_vacuum_result r;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_vacuum(t, &o, &r), 0);
    CU_ASSERT_EQUAL(r.files, 6);
    CU_ASSERT_EQUAL(r.start_version, v0 + 1);
    CU_ASSERT_EQUAL(r.end_version, v0 + 3);   /* v0 + 2 is the append */
    json_t *keep = NULL;
    CU_ASSERT_PTR_NULL(only_commit_info(t, v0 + 2, &keep));   /* adds: not a VACUUM record */
    json_decref(keep);
    json_t *ci = only_commit_info(t, v0 + 3, &keep);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ci, "operation")), "VACUUM END");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(ci, "readVersion")), v0 + 1);
    json_decref(keep);
    CU_ASSERT_EQUAL(scan_count(t), 8);   /* the racing append's rows are all there */
    sesp_delta_table_close(t);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/sesp-delta-vacuum-test-%d", (int)getpid());
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("delta_vacuum", NULL, NULL);
    CU_add_test(su, "start_end", test_start_end);
    CU_add_test(su, "retention", test_retention);
    CU_add_test(su, "race", test_race);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd)) {}
    return fails ? 1 : 0;
}
