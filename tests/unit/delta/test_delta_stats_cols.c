/* Unit tests of which columns get per-file stats (lakehouse/delta/
 * stats_cols.c), through the public API: delta.dataSkippingNumIndexedCols
 * (default 32 leaves, nested struct leaves counted one by one, partition
 * columns not counted, -1 all, 0 none) and delta.dataSkippingStatsColumns
 * (names, nested names, backticks, case-insensitive, overriding
 * NumIndexedCols, empty), Delta's checks of both at create and
 * set-properties, and OPTIMIZE writing its files under the current rule. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/delta/delta.h"

static char root[256];
static int table_seq;

static sesp_delta_table *open_table(void)
{
    char uri[300];
    snprintf(uri, sizeof(uri), "file://%s/t%d", root, ++table_seq);
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    sesp_delta_table *t = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
    return t;
}

/* A schema of fields given as "name:type" pieces joined by ';', or as a raw
 * JSON array of fields when it starts with '['. */
static char *schema_of(const char *fields)
{
    json_t *arr;
    if (fields[0] == '[') arr = json_loads(fields, 0, NULL);
    else {
        arr = json_array();
        char *copy = strdup(fields), *save = NULL;
        for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
            char *colon = strchr(tok, ':');
            *colon = 0;
            json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:{}}", "name", tok, "type", colon + 1, "nullable", 1, "metadata"));
        }
        free(copy);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(arr);
    json_t *st = json_pack("{s:s,s:o}", "type", "struct", "fields", arr);
    char *out = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    return out;
}

/* Creates a table; returns the create's result code (the table is open in *out). */
static int create(const char *fields, const char *part, const char *k1, const char *v1, const char *k2, const char *v2,
                  sesp_delta_table **out)
{
    sesp_delta_table *t = open_table();
    sesp_delta_kv kv[2] = {{k1, v1}, {k2, v2}};
    sesp_delta_map cfg = {kv, k2 ? 2 : k1 ? 1 : 0};
    char *sj = schema_of(fields);
    int rc = sesp_delta_table_create(t, sj, part ? &part : NULL, part ? 1 : 0, &cfg, "t");
    free(sj);
    *out = t;
    return rc;
}

static sesp_delta_table *must_create(const char *fields, const char *part, const char *k1, const char *v1, const char *k2,
                                     const char *v2)
{
    sesp_delta_table *t = NULL;
    int rc = create(fields, part, k1, v1, k2, v2, &t);
    if (rc) fprintf(stderr, "\ncreate: %s\n", sesp_delta_table_error(t));
    CU_ASSERT_FATAL(rc == 0);
    return t;
}

static void append(sesp_delta_table *t, const char *rows_json)
{
    json_t *rows = json_loads(rows_json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    sesp_delta_result r;
    int rc = sesp_delta_table_append(t, rows, NULL, &r);
    if (rc) fprintf(stderr, "\nappend: %s\n", sesp_delta_table_error(t));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    json_decref(rows);
}

/* The stats of the newest data file of t, parsed. */
static json_t *newest_stats(sesp_delta_table *t)
{
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_snapshot(t, -1, &s) == 0);
    CU_ASSERT_FATAL(s->nfiles > 0);
    const sesp_delta_add *best = s->files[0];
    for (size_t i = 1; i < s->nfiles; i++)
        if (s->files[i]->modification_time > best->modification_time) best = s->files[i];
    json_t *st = json_loads(best->stats, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    sesp_delta_snapshot_free(s);
    return st;
}

/* The stats of the only data file of t. */
static json_t *only_stats(sesp_delta_table *t)
{
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_snapshot(t, -1, &s) == 0);
    CU_ASSERT_EQUAL_FATAL(s->nfiles, 1);
    json_t *st = json_loads(s->files[0]->stats, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    sesp_delta_snapshot_free(s);
    return st;
}

/* The member at a dotted path of section sec ("a.b"), or NULL. */
static json_t *at(json_t *stats, const char *sec, const char *path)
{
    json_t *j = json_object_get(stats, sec);
    char *copy = strdup(path), *save = NULL;
    for (char *p = strtok_r(copy, ".", &save); p && j; p = strtok_r(NULL, ".", &save)) j = json_object_get(j, p);
    free(copy);
    return j;
}

/* Whether leaf path has a min, a max and a nullCount (all == true) or none of them. */
static bool indexed(json_t *stats, const char *path, bool all)
{
    bool a = at(stats, "minValues", path), b = at(stats, "maxValues", path), c = at(stats, "nullCount", path);
    bool ok = all ? a && b && c : !a && !b && !c;
    if (!ok) fprintf(stderr, "\n%s: min %d max %d nullCount %d\n", path, a, b, c);
    return ok;
}

/* 40 long columns c1..c40 and one row of 1s. */
static void wide(char *fields, size_t fcap, char *row, size_t rcap)
{
    size_t fo = 0, ro = 0;
    ro += (size_t)snprintf(row + ro, rcap - ro, "[{");
    for (int i = 1; i <= 40; i++) {
        fo += (size_t)snprintf(fields + fo, fcap - fo, "%sc%d:long", i > 1 ? ";" : "", i);
        ro += (size_t)snprintf(row + ro, rcap - ro, "%s\"c%d\":%d", i > 1 ? "," : "", i, i);
    }
    snprintf(row + ro, rcap - ro, "}]");
}

static void test_num_indexed(void)
{
    char fields[1024], row[1024];
    wide(fields, sizeof(fields), row, sizeof(row));
    /* the default: the first 32 leaves */
    sesp_delta_table *t = must_create(fields, NULL, NULL, NULL, NULL, NULL);
    append(t, row);
    json_t *st = only_stats(t);
    CU_ASSERT(indexed(st, "c1", true));
    CU_ASSERT(indexed(st, "c32", true));
    CU_ASSERT(indexed(st, "c33", false));
    CU_ASSERT(indexed(st, "c40", false));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "numRecords")), 1);
    json_decref(st);
    sesp_delta_table_close(t);
    /* -1: all of them */
    t = must_create(fields, NULL, "delta.dataSkippingNumIndexedCols", "-1", NULL, NULL);
    append(t, row);
    st = only_stats(t);
    CU_ASSERT(indexed(st, "c40", true));
    json_decref(st);
    sesp_delta_table_close(t);
    /* 0: numRecords only */
    t = must_create(fields, NULL, "delta.dataSkippingNumIndexedCols", "0", NULL, NULL);
    append(t, row);
    st = only_stats(t);
    CU_ASSERT_EQUAL(json_object_size(st), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "numRecords")), 1);
    json_decref(st);
    sesp_delta_table_close(t);

    /* nested leaves count one by one (arrays one leaf), partition columns not
     * at all: p, a, st{x, arr, z}, b with 3 -> a, st.x, st.arr */
    const char *nested =
        "[{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"a\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"st\",\"type\":{\"type\":\"struct\",\"fields\":["
        "   {\"name\":\"x\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
        "   {\"name\":\"arr\",\"type\":{\"type\":\"array\",\"elementType\":\"long\",\"containsNull\":true},\"nullable\":true,\"metadata\":{}},"
        "   {\"name\":\"z\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"b\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}}]";
    const char *nrow = "[{\"p\":\"q\",\"a\":1,\"st\":{\"x\":\"s\",\"arr\":[1],\"z\":\"2024-01-02\"},\"b\":0.5}]";
    t = must_create(nested, "p", "delta.dataSkippingNumIndexedCols", "3", NULL, NULL);
    append(t, nrow);
    st = only_stats(t);
    CU_ASSERT(indexed(st, "a", true));
    CU_ASSERT(indexed(st, "st.x", true));
    CU_ASSERT(at(st, "nullCount", "st.arr") && !at(st, "minValues", "st.arr"));
    CU_ASSERT(indexed(st, "st.z", false));
    CU_ASSERT(indexed(st, "b", false));
    CU_ASSERT(!at(st, "nullCount", "p"));
    json_decref(st);
    sesp_delta_table_close(t);
    /* 1: a only; the struct has no indexed leaf and is left out everywhere */
    t = must_create(nested, "p", "delta.dataSkippingNumIndexedCols", "1", NULL, NULL);
    append(t, nrow);
    st = only_stats(t);
    CU_ASSERT(indexed(st, "a", true));
    CU_ASSERT(!at(st, "nullCount", "st") && !at(st, "minValues", "st"));
    json_decref(st);
    sesp_delta_table_close(t);
}

static void test_stats_columns(void)
{
    const char *fields =
        "[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"flag\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"we.ird\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"St\",\"type\":{\"type\":\"struct\",\"fields\":["
        "   {\"name\":\"x\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
        "   {\"name\":\"y\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}}]";
    const char *row = "[{\"id\":1,\"flag\":true,\"s\":\"a\",\"we.ird\":3,\"St\":{\"x\":4,\"y\":\"2024-01-02T00:00:00Z\"}}]";
    /* overrides NumIndexedCols; nested names, backticks, any case, blanks */
    sesp_delta_table *t = must_create(fields, NULL, "delta.dataSkippingNumIndexedCols", "1", "delta.dataSkippingStatsColumns",
                                      " `we.ird` ,st.Y,S");
    append(t, row);
    json_t *st = only_stats(t);
    CU_ASSERT(indexed(st, "id", false));
    CU_ASSERT(!at(st, "nullCount", "flag"));
    CU_ASSERT(indexed(st, "s", true));
    CU_ASSERT(json_object_get(json_object_get(st, "minValues"), "we.ird") != NULL);
    CU_ASSERT(indexed(st, "St.x", false));
    CU_ASSERT(indexed(st, "St.y", true));
    json_decref(st);
    sesp_delta_table_close(t);
    /* a struct named whole: all its leaves; empty: numRecords only */
    t = must_create(fields, NULL, "delta.dataSkippingStatsColumns", "st", NULL, NULL);
    append(t, row);
    st = only_stats(t);
    CU_ASSERT(indexed(st, "St.x", true));
    CU_ASSERT(indexed(st, "St.y", true));
    CU_ASSERT(indexed(st, "id", false));
    json_decref(st);
    sesp_delta_table_close(t);
    t = must_create(fields, NULL, "delta.dataSkippingStatsColumns", "", NULL, NULL);
    append(t, row);
    st = only_stats(t);
    CU_ASSERT_EQUAL(json_object_size(st), 1);
    json_decref(st);
    sesp_delta_table_close(t);
}

static void expect_refused(const char *fields, const char *part, const char *key, const char *val, const char *msg)
{
    sesp_delta_table *t = NULL;
    int rc = create(fields, part, key, val, NULL, NULL, &t);
    CU_ASSERT_EQUAL(rc, SESP_ERR_INVALID_ARG);
    bool named = strstr(sesp_delta_table_error(t), key) && strstr(sesp_delta_table_error(t), msg);
    if (!named) fprintf(stderr, "\n%s=%s: %s\n", key, val, sesp_delta_table_error(t));
    CU_ASSERT(named);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL(sesp_delta_table_snapshot(t, -1, &s), SESP_ERR_NOT_FOUND);   /* nothing created */
    sesp_delta_table_close(t);
}

static void test_checks(void)
{
    const char *fields =
        "[{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"b\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"bin\",\"type\":\"binary\",\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"arr\",\"type\":{\"type\":\"array\",\"elementType\":\"long\",\"containsNull\":true},\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"m\",\"type\":{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"long\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
        " {\"name\":\"st\",\"type\":{\"type\":\"struct\",\"fields\":["
        "   {\"name\":\"x\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
        "   {\"name\":\"f\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}}]";
    const char *ni = "delta.dataSkippingNumIndexedCols", *sc = "delta.dataSkippingStatsColumns";
    expect_refused(fields, "p", ni, "-2", ">= -1");
    expect_refused(fields, "p", ni, "abc", ">= -1");
    expect_refused(fields, "p", ni, "1.5", ">= -1");
    expect_refused(fields, "p", ni, "", ">= -1");
    expect_refused(fields, "p", sc, "nope", "does not exist");
    expect_refused(fields, "p", sc, "st.nope", "does not exist");
    expect_refused(fields, "p", sc, "id.x", "does not exist");
    expect_refused(fields, "p", sc, "p", "partition column");
    expect_refused(fields, "p", sc, "b", "boolean");
    expect_refused(fields, "p", sc, "bin", "binary");
    expect_refused(fields, "p", sc, "arr", "array");
    expect_refused(fields, "p", sc, "m", "map");
    expect_refused(fields, "p", sc, "st", "st.f");   /* a struct with a leaf that has no bounds */
    expect_refused(fields, "p", sc, "id,ID", "more than once");
    expect_refused(fields, "p", sc, "st.x, id, ST.X", "more than once");
    expect_refused(fields, "p", sc, "id,,st.x", "column names");
    expect_refused(fields, "p", sc, "a-b", "column names");
    expect_refused(fields, "p", sc, "`id", "backtick");

    /* set-properties: refused values commit nothing, good ones commit */
    sesp_delta_table *t = must_create(fields, "p", NULL, NULL, NULL, NULL);
    sesp_delta_kv kv[1] = {{sc, "st.f"}};
    sesp_delta_map m = {kv, 1};
    sesp_delta_result r;
    CU_ASSERT_EQUAL(sesp_delta_table_set_properties(t, &m, &r), SESP_ERR_INVALID_ARG);
    CU_ASSERT(strstr(sesp_delta_table_error(t), "st.f") != NULL);
    CU_ASSERT_EQUAL(r.version, -1);
    kv[0] = (sesp_delta_kv){ni, "-7"};
    CU_ASSERT_EQUAL(sesp_delta_table_set_properties(t, &m, &r), SESP_ERR_INVALID_ARG);
    kv[0] = (sesp_delta_kv){sc, "st.x, `id`"};
    CU_ASSERT_EQUAL(sesp_delta_table_set_properties(t, &m, &r), 0);
    CU_ASSERT_EQUAL(r.version, 1);
    sesp_delta_table_close(t);
}

static void test_optimize_follows(void)
{
    sesp_delta_table *t = must_create("p:string;a:long;b:string;c:double", "p", NULL, NULL, NULL, NULL);
    append(t, "[{\"p\":\"x\",\"a\":1,\"b\":\"q\",\"c\":1.5}]");
    append(t, "[{\"p\":\"x\",\"a\":2,\"b\":\"r\",\"c\":2.5}]");
    json_t *st = newest_stats(t);
    CU_ASSERT(indexed(st, "c", true));
    json_decref(st);
    /* the rule changes: files OPTIMIZE writes follow it, old ones keep theirs */
    sesp_delta_kv kv[1] = {{"delta.dataSkippingNumIndexedCols", "1"}};
    sesp_delta_map m = {kv, 1};
    sesp_delta_result r;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_set_properties(t, &m, &r), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_optimize(t, 0, &r), 0);
    CU_ASSERT_EQUAL(r.files_added, 1);
    st = only_stats(t);
    CU_ASSERT(indexed(st, "a", true));
    CU_ASSERT(indexed(st, "b", false));
    CU_ASSERT(indexed(st, "c", false));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(st, "numRecords")), 2);
    CU_ASSERT_EQUAL(json_integer_value(at(st, "minValues", "a")), 1);
    CU_ASSERT_EQUAL(json_integer_value(at(st, "maxValues", "a")), 2);
    json_decref(st);
    sesp_delta_table_close(t);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/sesp-delta-stats-cols-test-%d", (int)getpid());
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("delta_stats_cols", NULL, NULL);
    CU_add_test(su, "num_indexed", test_num_indexed);
    CU_add_test(su, "stats_columns", test_stats_columns);
    CU_add_test(su, "checks", test_checks);
    CU_add_test(su, "optimize_follows", test_optimize_follows);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd)) {}
    return fails ? 1 : 0;
}
