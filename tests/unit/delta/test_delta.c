/* Unit tests of lakehouse/delta: action JSON round trips and rejection of
 * malformed actions, schema parsing/evolution, snapshot reconstruction with
 * removes and txns (from commits and from a checkpoint), optimistic
 * concurrency between two writers, idempotent txn appends, and time travel
 * by version and timestamp. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/delta/delta.h"

static char root[256];
static int table_seq;

static void fresh_uri(char *uri, size_t cap)
{
    snprintf(uri, cap, "file://%s/t%d", root, ++table_seq);
}

/* ---- actions ---- */

static void test_action_roundtrip(void)
{
    const char *commit =
        "{\"commitInfo\":{\"timestamp\":1700000000000,\"operation\":\"WRITE\"}}\n"
        "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
        "{\"metaData\":{\"id\":\"abc\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","
        "\"partitionColumns\":[\"p\"],\"configuration\":{\"delta.checkpointInterval\":\"5\"},\"createdTime\":123}}\n"
        "{\"add\":{\"path\":\"p=1/a%20b.parquet\",\"partitionValues\":{\"p\":\"1\",\"q\":null},\"size\":10,\"modificationTime\":5,\"dataChange\":true,\"stats\":\"{}\"}}\n"
        "{\"remove\":{\"path\":\"old.parquet\",\"deletionTimestamp\":7,\"dataChange\":true,\"extendedFileMetadata\":true,\"partitionValues\":{},\"size\":3}}\n"
        "{\"txn\":{\"appId\":\"app\",\"version\":42,\"lastUpdated\":9}}\n"
        "{\"domainMetadata\":{\"domain\":\"x\",\"configuration\":\"{}\",\"removed\":false}}\n";
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_delta_action *acts = NULL;
    size_t n = 0;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(sesp_delta_actions_decode(commit, strlen(commit), &a, &acts, &n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(n, 7);
    CU_ASSERT_EQUAL(acts[0].kind, SESP_DA_COMMIT_INFO);
    CU_ASSERT_EQUAL(acts[0].u.commit_info.timestamp, 1700000000000LL);
    CU_ASSERT_STRING_EQUAL(acts[0].u.commit_info.operation, "WRITE");
    CU_ASSERT_EQUAL(acts[1].u.protocol.min_writer, 2);
    CU_ASSERT_STRING_EQUAL(acts[2].u.metadata.partition_columns[0], "p");
    CU_ASSERT_STRING_EQUAL(sesp_delta_map_get(&acts[2].u.metadata.configuration, "delta.checkpointInterval", NULL), "5");
    CU_ASSERT_EQUAL(acts[2].u.metadata.created_time, 123);
    CU_ASSERT_STRING_EQUAL(acts[3].u.add.path, "p=1/a%20b.parquet");
    bool present = false;
    CU_ASSERT_PTR_NULL(sesp_delta_map_get(&acts[3].u.add.partition_values, "q", &present));
    CU_ASSERT(present);
    CU_ASSERT_EQUAL(acts[4].u.remove.deletion_timestamp, 7);
    CU_ASSERT_EQUAL(acts[5].u.txn.version, 42);
    CU_ASSERT_EQUAL(acts[6].kind, SESP_DA_OTHER);
    /* encode everything and decode again: same actions */
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    for (size_t i = 0; i < n; i++) CU_ASSERT_EQUAL(sesp_delta_action_encode(&acts[i], &w), 0);
    sesp_delta_action *again = NULL;
    size_t n2 = 0;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_actions_decode(w.p, w.len, &a, &again, &n2, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(n2, n);
    for (size_t i = 0; i < n; i++) {
        json_t *x = sesp_delta_action_to_json(&acts[i]), *y = sesp_delta_action_to_json(&again[i]);
        CU_ASSERT(json_equal(x, y));
        json_decref(x);
        json_decref(y);
    }
    CU_ASSERT_STRING_EQUAL(again[3].u.add.path, "p=1/a%20b.parquet");
    CU_ASSERT_EQUAL(again[3].u.add.size, 10);
    CU_ASSERT(again[3].u.add.data_change);
    sesp_bufw_free(&w);
    sesp_arena_free(&a);
}

static void expect_reject(const char *line, int code, const char *needle)
{
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_delta_action *acts = NULL;
    size_t n = 0;
    char err[256] = "";
    int rc = sesp_delta_actions_decode(line, strlen(line), &a, &acts, &n, err, sizeof(err));
    CU_ASSERT_EQUAL(rc, code);
    if (needle && !strstr(err, needle)) {
        fprintf(stderr, "\nerror '%s' lacks '%s' for %s\n", err, needle, line);
        CU_FAIL("error message");
    }
    sesp_arena_free(&a);
}

static void test_action_malformed(void)
{
    expect_reject("{\"add\":{\"path\":\"x\",\"partitionValues\":{},\"size\":\"10\",\"modificationTime\":1,\"dataChange\":true}}", SESP_ERR_MALFORMED, "size");
    expect_reject("{\"add\":{\"path\":\"x\",\"partitionValues\":{},\"size\":10,\"dataChange\":true}}", SESP_ERR_MALFORMED, "modificationTime");
    expect_reject("{\"add\":{\"partitionValues\":{},\"size\":10,\"modificationTime\":1,\"dataChange\":true}}", SESP_ERR_MALFORMED, "path");
    expect_reject("{\"add\":{\"path\":\"x\",\"partitionValues\":{\"p\":1},\"size\":10,\"modificationTime\":1,\"dataChange\":true}}", SESP_ERR_MALFORMED, "partitionValues.p");
    expect_reject("{\"add\":{\"path\":\"x\",\"partitionValues\":{},\"size\":-1,\"modificationTime\":1,\"dataChange\":true}}", SESP_ERR_MALFORMED, "negative");
    expect_reject("{\"add\":{\"path\":\"x\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":\"yes\"}}", SESP_ERR_MALFORMED, "dataChange");
    expect_reject("{\"add\":{\"path\":\"x\",\"partitionValues\":{},\"size\":1,\"modificationTime\":1,\"dataChange\":true,\"deletionVector\":{\"storageType\":\"u\"}}}", SESP_ERR_UNSUPPORTED, "deletion vector");
    expect_reject("{\"remove\":{\"path\":\"x\"}}", SESP_ERR_MALFORMED, "dataChange");
    expect_reject("{\"txn\":{\"appId\":\"a\",\"version\":1.5}}", SESP_ERR_MALFORMED, "version");
    expect_reject("{\"protocol\":{\"minReaderVersion\":1}}", SESP_ERR_MALFORMED, "minWriterVersion");
    expect_reject("{\"protocol\":{\"minReaderVersion\":99,\"minWriterVersion\":2}}", SESP_ERR_MALFORMED, "range");
    expect_reject("{\"metaData\":{\"id\":\"x\",\"schemaString\":\"{}\",\"partitionColumns\":[]}}", SESP_ERR_MALFORMED, "format");
    expect_reject("{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":\"{}\",\"partitionColumns\":[1]}}", SESP_ERR_MALFORMED, "partitionColumns");
    expect_reject("{\"add\":{}, \"remove\":{}}", SESP_ERR_MALFORMED, "exactly one");
    expect_reject("[1,2]", SESP_ERR_MALFORMED, "object");
    expect_reject("{\"add\":", SESP_ERR_MALFORMED, "line 1");
    expect_reject("{\"txn\":{\"appId\":\"a\",\"version\":1}}\n{\"add\":5}", SESP_ERR_MALFORMED, "line 2");
    expect_reject("{\"txn\":{\"appId\":\"a\",\"appId\":\"b\",\"version\":1}}", SESP_ERR_MALFORMED, NULL);
}

static void test_schema(void)
{
    const char *js = "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
                     "{\"name\":\"d\",\"type\":\"decimal(10,2)\",\"nullable\":true,\"metadata\":{}},"
                     "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"integer\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
                     "{\"name\":\"l\",\"type\":{\"type\":\"array\",\"elementType\":{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}}]},\"containsNull\":false},\"nullable\":true,\"metadata\":{}}]}";
    sesp_delta_type *t = NULL, *t2 = NULL, *in = NULL, *m = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_parse(js, strlen(js), &t, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(t->nfields, 4);
    CU_ASSERT_EQUAL(t->fields[1].type->kind, SESP_DT_DECIMAL);
    CU_ASSERT_EQUAL(t->fields[1].type->precision, 10);
    CU_ASSERT_EQUAL(t->fields[3].type->element->fields[0].type->kind, SESP_DT_DATE);
    char *s = sesp_delta_schema_to_string(t);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_parse(s, strlen(s), &t2, err, sizeof(err)), 0);
    CU_ASSERT(sesp_delta_type_equal(t, t2));
    free(s);
    /* rejected schemas */
    sesp_delta_type *bad = NULL;
    CU_ASSERT_EQUAL(sesp_delta_schema_parse("{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"int128\",\"nullable\":true}]}", 80, &bad, err, sizeof(err)) != 0, 1);
    const char *dup = "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\",\"nullable\":true},{\"name\":\"a\",\"type\":\"long\",\"nullable\":true}]}";
    CU_ASSERT_EQUAL(sesp_delta_schema_parse(dup, strlen(dup), &bad, err, sizeof(err)), SESP_ERR_MALFORMED);
    const char *dec = "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"decimal(40,2)\",\"nullable\":true}]}";
    CU_ASSERT_EQUAL(sesp_delta_schema_parse(dec, strlen(dec), &bad, err, sizeof(err)), SESP_ERR_MALFORMED);
    /* evolution: a new nullable column is added, a type change names the column */
    const char *add = "{\"type\":\"struct\",\"fields\":[{\"name\":\"z\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}}]}";
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_parse(add, strlen(add), &in, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_merge(t, in, SESP_DELTA_WIDEN_NEVER, &m, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(m->nfields, 5);
    CU_ASSERT_STRING_EQUAL(m->fields[4].name, "z");
    CU_ASSERT(m->fields[4].nullable);
    sesp_delta_type_free(m);
    sesp_delta_type_free(in);
    const char *chg = "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_parse(chg, strlen(chg), &in, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sesp_delta_schema_merge(t, in, SESP_DELTA_WIDEN_NEVER, &m, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "column a"));
    sesp_delta_type_free(in);
    sesp_delta_type_free(t);
    sesp_delta_type_free(t2);
    /* inference */
    json_t *rows = json_loads("[{\"a\":1,\"b\":\"x\",\"c\":{\"d\":true},\"e\":[1,2.5]},{\"a\":2.5,\"f\":null}]", 0, NULL);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_infer(rows, &t, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(t, "a")->type->kind, SESP_DT_DOUBLE);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(t, "b")->type->kind, SESP_DT_STRING);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(t, "c")->type->kind, SESP_DT_STRUCT);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(t, "e")->type->element->kind, SESP_DT_DOUBLE);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(t, "f")->type->kind, SESP_DT_STRING);
    sesp_delta_type_free(t);
    json_decref(rows);
    rows = json_loads("[{\"a\":1},{\"a\":\"x\"}]", 0, NULL);
    CU_ASSERT_NOT_EQUAL(sesp_delta_schema_infer(rows, &t, err, sizeof(err)), 0);
    json_decref(rows);
}

/* ---- tables ---- */

static const char *SCHEMA = "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
                            "{\"name\":\"v\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
                            "{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";

static sesp_delta_table *make_table(char *uri, size_t cap, const char *interval)
{
    fresh_uri(uri, cap);
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    sesp_delta_table *t = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
    sesp_delta_kv kv[1] = {{"delta.checkpointInterval", interval}};
    sesp_delta_map cfg = {kv, 1};
    const char *part[] = {"p"};
    CU_ASSERT_FATAL(sesp_delta_table_create(t, SCHEMA, part, 1, &cfg, "t") == 0);
    return t;
}

static int64_t append_rows(sesp_delta_table *t, const char *json, const char *app, int64_t txv, sesp_delta_result *res)
{
    json_t *rows = json_loads(json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    sesp_delta_append_opts o = {.app_id = app, .txn_version = txv};
    int rc = sesp_delta_table_append(t, rows, &o, res);
    json_decref(rows);
    return rc ? rc : res->version;
}

static int count_row(void *ud, const json_t *row)
{
    (void)row;
    (*(int *)ud)++;
    return 0;
}

static int scan_count(sesp_delta_table *t, int64_t version)
{
    sesp_delta_snapshot *s = NULL;
    if (sesp_delta_table_snapshot(t, version, &s)) return -1;
    int n = 0;
    CU_ASSERT_EQUAL(sesp_delta_table_scan(t, s, count_row, &n), 0);
    sesp_delta_snapshot_free(s);
    return n;
}

static bool del_id(void *ud, const json_t *row) { return json_integer_value(json_object_get(row, "id")) == *(int *)ud; }

static void test_snapshot_replay(void)
{
    char uri[300];
    sesp_delta_table *t = make_table(uri, sizeof(uri), "3");
    sesp_delta_result r;
    CU_ASSERT_EQUAL(append_rows(t, "[{\"id\":1,\"v\":\"a\",\"p\":\"x\"},{\"id\":2,\"v\":\"b\",\"p\":\"y\"}]", "app", 0, &r), 1);
    CU_ASSERT_EQUAL(r.files_added, 2);
    CU_ASSERT_EQUAL(append_rows(t, "[{\"id\":3,\"v\":null,\"p\":\"x\"}]", "app", 1, &r), 2);
    int id = 1;
    CU_ASSERT_EQUAL(sesp_delta_table_delete(t, del_id, &id, &r), 0);
    CU_ASSERT_EQUAL(r.version, 3);
    CU_ASSERT_EQUAL(r.rows_deleted, 1);
    CU_ASSERT_EQUAL(r.files_removed, 1);
    CU_ASSERT_EQUAL(r.files_added, 0);   /* the x file of version 1 held only id 1 */
    /* version 3 is a checkpoint (interval 3): the snapshot must come from it */
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    CU_ASSERT_EQUAL(s->version, 3);
    CU_ASSERT_EQUAL(s->checkpoint_version, 3);
    CU_ASSERT_EQUAL(s->nfiles, 2);
    CU_ASSERT_EQUAL(s->ntombstones, 1);
    CU_ASSERT_EQUAL(sesp_delta_snapshot_txn_version(s, "app"), 1);
    CU_ASSERT_EQUAL(sesp_delta_snapshot_txn_version(s, "other"), -1);
    CU_ASSERT_STRING_EQUAL(s->metadata.partition_columns[0], "p");
    sesp_delta_snapshot_free(s);
    CU_ASSERT_EQUAL(scan_count(t, -1), 2);
    /* the same snapshot rebuilt from commits only (checkpoint removed) */
    sesp_objstore_delete(sesp_delta_table_store(t), "_delta_log/00000000000000000003.checkpoint.parquet");
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    CU_ASSERT_EQUAL(s->checkpoint_version, -1);
    CU_ASSERT_EQUAL(s->nfiles, 2);
    CU_ASSERT_EQUAL(sesp_delta_snapshot_txn_version(s, "app"), 1);
    sesp_delta_snapshot_free(s);
    /* idempotent txn: version 1 of app was applied, so this is skipped */
    CU_ASSERT_EQUAL(append_rows(t, "[{\"id\":9,\"v\":\"dup\",\"p\":\"x\"}]", "app", 1, &r), 3);
    CU_ASSERT(r.skipped);
    CU_ASSERT_EQUAL(scan_count(t, -1), 2);
    /* schema enforcement names the column */
    json_t *bad = json_loads("[{\"id\":\"nope\",\"v\":\"a\",\"p\":\"x\"}]", 0, NULL);
    CU_ASSERT_EQUAL(sesp_delta_table_append(t, bad, NULL, &r), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "column id"));
    json_decref(bad);
    bad = json_loads("[{\"id\":5,\"extra\":1}]", 0, NULL);
    CU_ASSERT_EQUAL(sesp_delta_table_append(t, bad, NULL, &r), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "extra"));
    /* ... unless schema merging is asked for */
    sesp_delta_append_opts mo = {.merge_schema = true};
    CU_ASSERT_EQUAL(sesp_delta_table_append(t, bad, &mo, &r), 0);
    json_decref(bad);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    CU_ASSERT_PTR_NOT_NULL(sesp_delta_struct_field(s->schema, "extra"));
    sesp_delta_snapshot_free(s);
    CU_ASSERT_EQUAL(scan_count(t, -1), 3);
    /* a non-nullable column refuses null */
    bad = json_loads("[{\"v\":\"no id\"}]", 0, NULL);
    CU_ASSERT_EQUAL(sesp_delta_table_append(t, bad, NULL, &r), SESP_ERR_INVALID_ARG);
    json_decref(bad);
    sesp_delta_table_close(t);
}

static void test_time_travel(void)
{
    char uri[300];
    sesp_delta_table *t = make_table(uri, sizeof(uri), "100");
    sesp_delta_result r;
    int64_t ts[4];
    for (int i = 1; i <= 3; i++) {
        char js[100];
        snprintf(js, sizeof(js), "[{\"id\":%d,\"v\":\"r\",\"p\":\"a\"}]", i);
        CU_ASSERT_EQUAL(append_rows(t, js, NULL, 0, &r), i);
        sesp_delta_snapshot *s = NULL;
        CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
        ts[i] = s->timestamp_ms;
        sesp_delta_snapshot_free(s);
        usleep(20000);
    }
    CU_ASSERT_EQUAL(scan_count(t, 1), 1);
    CU_ASSERT_EQUAL(scan_count(t, 2), 2);
    CU_ASSERT_EQUAL(scan_count(t, 3), 3);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL(sesp_delta_table_snapshot(t, 7, &s), SESP_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot_at(t, ts[2] + 5, &s), 0);
    CU_ASSERT_EQUAL(s->version, 2);
    sesp_delta_snapshot_free(s);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot_at(t, ts[3], &s), 0);
    CU_ASSERT_EQUAL(s->version, 3);
    sesp_delta_snapshot_free(s);
    CU_ASSERT_EQUAL(sesp_delta_table_snapshot_at(t, 1000, &s), SESP_ERR_RANGE);
    /* restore to version 1 */
    CU_ASSERT_EQUAL(sesp_delta_table_restore(t, 1, &r), 0);
    CU_ASSERT_EQUAL(r.version, 4);
    CU_ASSERT_EQUAL(scan_count(t, -1), 1);
    sesp_delta_table_close(t);
}

/* ---- concurrency ---- */

static void test_conflicts(void)
{
    char uri[300];
    sesp_delta_table *t = make_table(uri, sizeof(uri), "100");
    sesp_delta_result r;
    CU_ASSERT_EQUAL(append_rows(t, "[{\"id\":1,\"v\":\"a\",\"p\":\"x\"}]", NULL, 0, &r), 1);
    sesp_objstore *s = sesp_delta_table_store(t);
    sesp_delta_snapshot *snap = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &snap), 0);
    const sesp_delta_add *f = snap->files[0];
    char err[512];
    int64_t v1 = -1, v2 = -1;
    /* two writers read version 1 and both remove the same file: the second conflicts */
    sesp_delta_action rm = {.kind = SESP_DA_REMOVE, .u.remove = {.path = f->path, .data_change = true}};
    sesp_delta_txn_read rd = {0};
    CU_ASSERT_EQUAL(sesp_delta_commit(s, 1, &rm, 1, &rd, "DELETE", NULL, &v1, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v1, 2);
    CU_ASSERT_EQUAL(sesp_delta_commit(s, 1, &rm, 1, &rd, "DELETE", NULL, &v2, err, sizeof(err)), SESP_ERR_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "concurrently removed"));
    /* blind appends from the same read version both land, one after the other */
    sesp_delta_action add = {.kind = SESP_DA_ADD, .u.add = {.path = "p=x/new1.parquet", .size = 1, .modification_time = 1, .data_change = true}};
    sesp_delta_txn_read blind = {.blind_append = true};
    CU_ASSERT_EQUAL(sesp_delta_commit(s, 1, &add, 1, &blind, "WRITE", NULL, &v2, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v2, 3);
    /* a transaction that read the whole table conflicts with that append */
    sesp_delta_txn_read whole = {.read_whole_table = true};
    CU_ASSERT_EQUAL(sesp_delta_commit(s, 2, &add, 1, &whole, "MERGE", NULL, &v2, err, sizeof(err)), SESP_ERR_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "concurrent append"));
    /* same appId in a concurrent txn */
    sesp_delta_action tx = {.kind = SESP_DA_TXN, .u.txn = {.app_id = "stream", .version = 1}};
    CU_ASSERT_EQUAL(sesp_delta_commit(s, 3, &tx, 1, &blind, "WRITE", NULL, &v2, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sesp_delta_commit(s, 3, &tx, 1, &blind, "WRITE", NULL, &v2, err, sizeof(err)), SESP_ERR_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "stream"));
    /* metadata changed concurrently */
    sesp_delta_action md = {.kind = SESP_DA_METADATA, .u.metadata = snap->metadata};
    CU_ASSERT_EQUAL(sesp_delta_commit(s, 4, &md, 1, &rd, "SET TBLPROPERTIES", NULL, &v2, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sesp_delta_commit(s, 4, &add, 1, &blind, "WRITE", NULL, &v2, err, sizeof(err)), SESP_ERR_CONFLICT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "metadata"));
    sesp_delta_snapshot_free(snap);
    sesp_delta_table_close(t);
}

#define WRITERS 4
#define PER_WRITER 5
static char race_uri[300];

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    sesp_delta_table *t = NULL;
    if (sesp_delta_table_open(race_uri, &o, &t)) return (void *)1;
    intptr_t failures = 0;
    for (int i = 0; i < PER_WRITER; i++) {
        char js[128], app[32];
        snprintf(js, sizeof(js), "[{\"id\":%d,\"v\":\"w%d\",\"p\":\"w%d\"}]", id * 100 + i, id, id);
        snprintf(app, sizeof(app), "writer-%d", id);
        json_t *rows = json_loads(js, 0, NULL);
        sesp_delta_append_opts ao = {.app_id = app, .txn_version = i};
        sesp_delta_result r;
        if (sesp_delta_table_append(t, rows, &ao, &r)) failures++;
        json_decref(rows);
    }
    sesp_delta_table_close(t);
    return (void *)failures;
}

static int collect_ids(void *ud, const json_t *row)
{
    int *seen = ud;
    int64_t id = json_integer_value(json_object_get(row, "id"));
    if (id >= 0 && id < WRITERS * 100) seen[id]++;
    return 0;
}

static void test_concurrent_writers(void)
{
    sesp_delta_table *t = make_table(race_uri, sizeof(race_uri), "4");
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i);
    for (int i = 0; i < WRITERS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        CU_ASSERT_EQUAL((intptr_t)ret, 0);
    }
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    CU_ASSERT_EQUAL(s->version, WRITERS * PER_WRITER);
    int seen[WRITERS * 100] = {0};
    CU_ASSERT_EQUAL(sesp_delta_table_scan(t, s, collect_ids, seen), 0);
    for (int w = 0; w < WRITERS; w++) {
        char app[32];
        snprintf(app, sizeof(app), "writer-%d", w);
        CU_ASSERT_EQUAL(sesp_delta_snapshot_txn_version(s, app), PER_WRITER - 1);
        for (int i = 0; i < PER_WRITER; i++) CU_ASSERT_EQUAL(seen[w * 100 + i], 1);
    }
    sesp_delta_snapshot_free(s);
    sesp_delta_table_close(t);
}

static void test_maintenance(void)
{
    char uri[300];
    sesp_delta_table *t = make_table(uri, sizeof(uri), "2");
    sesp_delta_result r;
    for (int i = 0; i < 6; i++) {
        char js[100];
        snprintf(js, sizeof(js), "[{\"id\":%d,\"v\":\"r\",\"p\":\"a\"},{\"id\":%d,\"v\":\"r\",\"p\":\"b\"}]", i, i + 50);
        CU_ASSERT(append_rows(t, js, NULL, 0, &r) > 0);
    }
    CU_ASSERT_EQUAL(scan_count(t, -1), 12);
    CU_ASSERT_EQUAL(sesp_delta_table_optimize(t, 1 << 20, &r), 0);
    CU_ASSERT_EQUAL(r.files_removed, 12);
    CU_ASSERT_EQUAL(r.files_added, 2);
    CU_ASSERT_EQUAL(scan_count(t, -1), 12);
    sesp_delta_vacuum_result vr;
    sesp_delta_vacuum_opts vo = {.retention_ms = 0, .dry_run = true, .no_retention_check = true};
    CU_ASSERT_EQUAL(sesp_delta_table_vacuum(t, &vo, &vr), 0);
    CU_ASSERT_EQUAL(vr.files, 12);
    vo.dry_run = false;
    vo.retention_ms = 3600 * 1000;
    CU_ASSERT_EQUAL(sesp_delta_table_vacuum(t, &vo, &vr), 0);
    CU_ASSERT_EQUAL(vr.files, 0);   /* removed just now: kept for the retention */
    vo.retention_ms = 0;
    CU_ASSERT_EQUAL(sesp_delta_table_vacuum(t, &vo, &vr), 0);
    CU_ASSERT_EQUAL(vr.files, 12);
    CU_ASSERT_EQUAL(scan_count(t, -1), 12);
    sesp_delta_table_close(t);
    int64_t ms;
    CU_ASSERT_EQUAL(sesp_delta_parse_interval("interval 30 days", &ms), 0);
    CU_ASSERT_EQUAL(ms, 30LL * 86400 * 1000);
    CU_ASSERT_EQUAL(sesp_delta_parse_interval("2 hours", &ms), 0);
    CU_ASSERT_EQUAL(ms, 7200000);
    CU_ASSERT_NOT_EQUAL(sesp_delta_parse_interval("soon", &ms), 0);
}

static void test_log_cleanup(void)
{
    char uri[300];
    fresh_uri(uri, sizeof(uri));
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    sesp_delta_table *t = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
    sesp_delta_kv kv[2] = {{"delta.checkpointInterval", "2"}, {"delta.logRetentionDuration", "interval 1 millisecond"}};
    sesp_delta_map cfg = {kv, 2};
    CU_ASSERT_FATAL(sesp_delta_table_create(t, SCHEMA, NULL, 0, &cfg, NULL) == 0);
    sesp_delta_result r;
    for (int i = 1; i <= 4; i++) {
        usleep(10000);
        char js[100];
        snprintf(js, sizeof(js), "[{\"id\":%d,\"v\":\"r\",\"p\":\"a\"}]", i);
        CU_ASSERT_EQUAL(append_rows(t, js, NULL, 0, &r), i);
    }
    /* after the checkpoint at 4: commits 0-3 and checkpoint 2 are gone */
    sesp_delta_version_info *v = NULL;
    size_t nv = 0;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(sesp_delta_log_versions(sesp_delta_table_store(t), &v, &nv, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(nv, 1);
    CU_ASSERT_EQUAL(v[0].version, 4);
    CU_ASSERT(v[0].has_json && v[0].has_checkpoint);
    free(v);
    CU_ASSERT_EQUAL(scan_count(t, -1), 4);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL(sesp_delta_table_snapshot(t, 1, &s), SESP_ERR_CORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "missing"));
    /* restore cannot go where the log no longer reaches, nor forward */
    CU_ASSERT_NOT_EQUAL(sesp_delta_table_restore(t, 1, &r), 0);
    CU_ASSERT_EQUAL(sesp_delta_table_restore(t, 9, &r), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(append_rows(t, "[{\"id\":5,\"v\":\"r\",\"p\":\"a\"}]", NULL, 0, &r), 5);
    CU_ASSERT_EQUAL(scan_count(t, -1), 5);
    sesp_delta_table_close(t);
}

/* After clean-up removed the commits a checkpoint covers, losing or damaging
 * that checkpoint is a clear error naming it (never a crash, never a table
 * rebuilt from what is left), and no writer commits on top of it. */
static void test_missing_checkpoint(void)
{
    for (int mode = 0; mode < 3; mode++) {   /* deleted, truncated, overwritten with garbage */
        char uri[300];
        fresh_uri(uri, sizeof(uri));
        sesp_delta_table_opts o = {0};
        o.store.local_no_fsync = true;
        sesp_delta_table *t = NULL;
        CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
        sesp_delta_kv kv[2] = {{"delta.checkpointInterval", "2"}, {"delta.logRetentionDuration", "interval 1 millisecond"}};
        sesp_delta_map cfg = {kv, 2};
        CU_ASSERT_FATAL(sesp_delta_table_create(t, SCHEMA, NULL, 0, &cfg, NULL) == 0);
        sesp_delta_result r;
        for (int i = 1; i <= 4; i++) {
            usleep(5000);
            char js[100];
            snprintf(js, sizeof(js), "[{\"id\":%d,\"v\":\"r\",\"p\":\"a\"}]", i);
            CU_ASSERT_EQUAL(append_rows(t, js, NULL, 0, &r), i);
        }
        sesp_delta_table_close(t);
        /* commits 0-3 are gone; 4 is there with its checkpoint */
        char dir[300], cp[400], c0[400];
        snprintf(dir, sizeof(dir), "%s/t%d/_delta_log", root, table_seq);
        snprintf(c0, sizeof(c0), "%s/%020d.json", dir, 0);
        snprintf(cp, sizeof(cp), "%s/%020d.checkpoint.parquet", dir, 4);
        CU_ASSERT_NOT_EQUAL(access(c0, F_OK), 0);
        CU_ASSERT_EQUAL_FATAL(access(cp, F_OK), 0);
        if (mode == 0) {
            CU_ASSERT_EQUAL(unlink(cp), 0);
        } else {
            FILE *f = fopen(cp, "r+b");
            CU_ASSERT_PTR_NOT_NULL_FATAL(f);
            fseek(f, 0, SEEK_END);
            long size = ftell(f);
            fclose(f);
            if (mode == 1) {
                CU_ASSERT_EQUAL(truncate(cp, size / 2), 0);
            } else {
                f = fopen(cp, "wb");
                for (long i = 0; i < size; i++) fputc((int)(i * 131 % 251), f);
                fclose(f);
            }
        }
        CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
        sesp_delta_snapshot *s = NULL;
        CU_ASSERT_EQUAL(sesp_delta_table_snapshot(t, -1, &s), SESP_ERR_CORRUPT);
        CU_ASSERT_PTR_NULL(s);
        const char *e = sesp_delta_table_error(t);
        CU_ASSERT_PTR_NOT_NULL(strstr(e, "checkpoint 4"));
        CU_ASSERT_PTR_NOT_NULL(strstr(e, "version 0"));
        CU_ASSERT_PTR_NOT_NULL(strstr(e, mode == 0 ? "is missing" : "unreadable"));
        if (mode == 0) CU_ASSERT_PTR_NOT_NULL(strstr(e, "00000000000000000004.checkpoint.parquet"));
        /* time travel to 4 and appends fail the same way; nothing is committed */
        CU_ASSERT_EQUAL(sesp_delta_table_snapshot(t, 4, &s), SESP_ERR_CORRUPT);
        CU_ASSERT_NOT_EQUAL(append_rows(t, "[{\"id\":9,\"v\":\"r\",\"p\":\"a\"}]", NULL, 0, &r), 5);
        CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "checkpoint 4"));
        char c5[400];
        snprintf(c5, sizeof(c5), "%s/%020d.json", dir, 5);
        CU_ASSERT_NOT_EQUAL(access(c5, F_OK), 0);
        sesp_delta_table_close(t);
    }
}

static void test_writer_protocol(void)
{
    char uri[300];
    sesp_delta_table *t = make_table(uri, sizeof(uri), "100");
    sesp_delta_result r;
    CU_ASSERT_EQUAL(append_rows(t, "[{\"id\":1,\"v\":\"a\",\"p\":\"x\"}]", NULL, 0, &r), 1);
    /* another writer upgrades the table to writer version 4 (generated columns, ...) */
    sesp_delta_action up = {.kind = SESP_DA_PROTOCOL, .u.protocol = {.min_reader = 1, .min_writer = 4}};
    char err[256];
    int64_t v;
    CU_ASSERT_EQUAL(sesp_delta_commit(sesp_delta_table_store(t), 1, &up, 1, NULL, "UPGRADE", NULL, &v, err, sizeof(err)), 0);
    json_t *rows = json_loads("[{\"id\":2,\"v\":\"b\",\"p\":\"x\"}]", 0, NULL);
    CU_ASSERT_EQUAL(sesp_delta_table_append(t, rows, NULL, &r), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "writer version 4"));
    CU_ASSERT_EQUAL(scan_count(t, -1), 1);   /* still readable */
    sesp_delta_table_close(t);
    /* append-only tables take appends but refuse deletes */
    fresh_uri(uri, sizeof(uri));
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
    sesp_delta_kv kv[1] = {{"delta.appendOnly", "true"}};
    sesp_delta_map cfg = {kv, 1};
    CU_ASSERT_FATAL(sesp_delta_table_create(t, SCHEMA, NULL, 0, &cfg, NULL) == 0);
    CU_ASSERT_EQUAL(sesp_delta_table_append(t, rows, NULL, &r), 0);
    int id = 2;
    CU_ASSERT_EQUAL(sesp_delta_table_delete(t, del_id, &id, &r), SESP_ERR_STATE);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "append-only"));
    CU_ASSERT_EQUAL(scan_count(t, -1), 1);
    json_decref(rows);
    sesp_delta_table_close(t);
}

static void test_paths(void)
{
    char *k = sesp_delta_path_to_key("p=a%20b/f%25.parquet");
    CU_ASSERT_STRING_EQUAL(k, "p=a b/f%.parquet");
    free(k);
    CU_ASSERT_PTR_NULL(sesp_delta_path_to_key("s3://other/bucket.parquet"));
    CU_ASSERT_PTR_NULL(sesp_delta_path_to_key("/etc/passwd"));
    CU_ASSERT_PTR_NULL(sesp_delta_path_to_key("a%00b"));
    CU_ASSERT_PTR_NULL(sesp_delta_path_to_key("a%zz"));
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/sesp-delta-test-%d", (int)getpid());
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("delta", NULL, NULL);
    CU_add_test(su, "action_roundtrip", test_action_roundtrip);
    CU_add_test(su, "action_malformed", test_action_malformed);
    CU_add_test(su, "schema", test_schema);
    CU_add_test(su, "paths", test_paths);
    CU_add_test(su, "snapshot_replay", test_snapshot_replay);
    CU_add_test(su, "time_travel", test_time_travel);
    CU_add_test(su, "conflicts", test_conflicts);
    CU_add_test(su, "concurrent_writers", test_concurrent_writers);
    CU_add_test(su, "maintenance", test_maintenance);
    CU_add_test(su, "log_cleanup", test_log_cleanup);
    CU_add_test(su, "missing_checkpoint", test_missing_checkpoint);
    CU_add_test(su, "writer_protocol", test_writer_protocol);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd)) {}
    return fails ? 1 : 0;
}
