/* Unit tests of Delta type widening (the typeWidening table feature): which
 * type changes are allowed, what rows need (sesp_delta_schema_fit), how a
 * merge applies and records them in delta.typeChanges, the readers' check of
 * recorded changes and of reader features, and the commits appends, MERGE
 * and SET TBLPROPERTIES write (protocol upgrade, metaData), with older files
 * read back into widened columns through checkpoints, OPTIMIZE, DELETE and
 * MERGE. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/delta/delta.h"
#include "lakehouse/parquet/parquet.h"

static char root[256];
static int table_seq;

static sesp_delta_type *parse(const char *js)
{
    sesp_delta_type *t = NULL;
    char err[256] = "";
    if (sesp_delta_schema_parse(js, strlen(js), &t, err, sizeof(err))) fprintf(stderr, "\nschema: %s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}

static bool widens(const char *from, const char *to)
{
    char js[256];
    snprintf(js, sizeof(js), "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"%s\",\"nullable\":true,\"metadata\":{}},"
                             "{\"name\":\"b\",\"type\":\"%s\",\"nullable\":true,\"metadata\":{}}]}", from, to);
    sesp_delta_type *t = parse(js);
    bool w = sesp_delta_type_widens(t->fields[0].type, t->fields[1].type);
    sesp_delta_type_free(t);
    return w;
}

static void test_rules(void)
{
    CU_ASSERT(widens("byte", "short"));
    CU_ASSERT(widens("short", "integer"));
    CU_ASSERT(widens("integer", "long"));
    CU_ASSERT(widens("byte", "long"));
    CU_ASSERT(!widens("long", "integer"));
    CU_ASSERT(!widens("integer", "integer"));
    CU_ASSERT(widens("float", "double"));
    CU_ASSERT(widens("byte", "double"));
    CU_ASSERT(widens("integer", "double"));
    CU_ASSERT(!widens("long", "double"));     /* doubles do not hold every long */
    CU_ASSERT(!widens("double", "float"));
    CU_ASSERT(!widens("integer", "float"));
    CU_ASSERT(widens("date", "timestamp_ntz"));
    CU_ASSERT(!widens("date", "timestamp"));
    CU_ASSERT(widens("decimal(10,2)", "decimal(12,2)"));
    /* decimal(p,s) -> decimal(p+k1, s+k2) with k1 >= k2 >= 0 */
    CU_ASSERT(widens("decimal(10,2)", "decimal(12,3)"));
    CU_ASSERT(widens("decimal(10,2)", "decimal(12,4)"));
    CU_ASSERT(widens("decimal(5,2)", "decimal(10,4)"));
    CU_ASSERT(widens("decimal(1,0)", "decimal(38,37)"));
    CU_ASSERT(!widens("decimal(10,2)", "decimal(12,5)"));   /* k2 > k1: integer digits would shrink */
    CU_ASSERT(!widens("decimal(10,2)", "decimal(10,3)"));
    CU_ASSERT(!widens("decimal(10,2)", "decimal(12,1)"));   /* a scale never shrinks */
    CU_ASSERT(!widens("decimal(10,2)", "decimal(10,2)"));
    CU_ASSERT(!widens("decimal(10,2)", "decimal(8,2)"));
    CU_ASSERT(widens("integer", "decimal(10,0)"));
    CU_ASSERT(!widens("integer", "decimal(9,0)"));
    CU_ASSERT(widens("integer", "decimal(12,2)"));
    CU_ASSERT(!widens("integer", "decimal(12,3)"));          /* 9 integer digits */
    CU_ASSERT(widens("byte", "decimal(10,0)"));
    CU_ASSERT(!widens("byte", "decimal(5,0)"));               /* the protocol asks 10 for byte and short too */
    CU_ASSERT(widens("short", "decimal(38,28)"));
    CU_ASSERT(widens("long", "decimal(20,0)"));
    CU_ASSERT(widens("long", "decimal(25,5)"));
    CU_ASSERT(!widens("long", "decimal(19,0)"));
    CU_ASSERT(!widens("long", "decimal(21,2)"));
    CU_ASSERT(!widens("decimal(10,0)", "long"));
    CU_ASSERT(!widens("decimal(10,2)", "double"));
    CU_ASSERT(!widens("string", "long"));
    CU_ASSERT(!widens("integer", "string"));
}

/* The delta.typeChanges list of a field's metadata (new reference). */
static json_t *changes_of(const sesp_delta_field *f)
{
    json_t *md = json_loads(f->metadata, 0, NULL);
    json_t *c = json_incref(json_object_get(md, "delta.typeChanges"));
    json_decref(md);
    return c;
}

static bool change_is(const json_t *c, size_t i, const char *from, const char *to, const char *path)
{
    const json_t *e = json_array_get(c, i);
    const char *p = json_string_value(json_object_get(e, "fieldPath"));
    return e && !strcmp(json_string_value(json_object_get(e, "fromType")), from) &&
           !strcmp(json_string_value(json_object_get(e, "toType")), to) && (path ? p && !strcmp(p, path) : !p);
}

static const char *TABLE =
    "{\"type\":\"struct\",\"fields\":[{\"name\":\"n\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{\"comment\":\"kept\"}},"
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"elementType\":\"short\",\"containsNull\":true},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"float\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"s\",\"type\":{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"byte\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"l\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}";

static void test_merge(void)
{
    sesp_delta_type *t = parse(TABLE);
    sesp_delta_type *in = parse(
        "{\"type\":\"struct\",\"fields\":[{\"name\":\"n\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"elementType\":\"integer\",\"containsNull\":true},\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"double\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"s\",\"type\":{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"short\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}}]}");
    sesp_delta_type *m = NULL;
    char err[512] = "";
    /* without typeWidening: refused, naming the column and the property */
    CU_ASSERT_EQUAL(sesp_delta_schema_merge(t, in, SESP_DELTA_WIDEN_NEVER, &m, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "column n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "delta.enableTypeWidening=true"));
    CU_ASSERT_PTR_NULL(m);
    /* with it: every column widened, each change recorded at its nearest struct field */
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_merge(t, in, SESP_DELTA_WIDEN_TABLE, &m, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(m->fields[0].type->kind, SESP_DT_LONG);
    CU_ASSERT_EQUAL(m->fields[1].type->element->kind, SESP_DT_INTEGER);
    CU_ASSERT_EQUAL(m->fields[2].type->value->kind, SESP_DT_DOUBLE);
    CU_ASSERT_EQUAL(m->fields[3].type->fields[0].type->kind, SESP_DT_SHORT);
    json_t *c = changes_of(&m->fields[0]);
    CU_ASSERT(json_array_size(c) == 1 && change_is(c, 0, "integer", "long", NULL));
    json_decref(c);
    json_t *md = json_loads(m->fields[0].metadata, 0, NULL);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(md, "comment")), "kept");   /* other metadata stays */
    json_decref(md);
    c = changes_of(&m->fields[1]);
    CU_ASSERT(change_is(c, 0, "short", "integer", "element"));
    json_decref(c);
    c = changes_of(&m->fields[2]);
    CU_ASSERT(change_is(c, 0, "float", "double", "value"));
    json_decref(c);
    c = changes_of(&m->fields[3]);
    CU_ASSERT_PTR_NULL(c);   /* the struct itself did not change type ... */
    c = changes_of(&m->fields[3].type->fields[0]);
    CU_ASSERT(change_is(c, 0, "byte", "short", NULL));   /* ... its field x did */
    json_decref(c);
    CU_ASSERT(sesp_delta_schema_has_type_changes(m));
    CU_ASSERT(!sesp_delta_schema_has_type_changes(t));
    /* the record survives serialisation and passes the readers' check */
    char *s = sesp_delta_schema_to_string(m);
    sesp_delta_type *back = parse(s);
    CU_ASSERT(sesp_delta_type_equal(back, m));
    c = changes_of(&back->fields[1]);
    CU_ASSERT(change_is(c, 0, "short", "integer", "element"));
    json_decref(c);
    CU_ASSERT_EQUAL(sesp_delta_schema_check_type_changes(back, err, sizeof(err)), 0);
    free(s);
    /* a second change of the same column appends to its history */
    sesp_delta_type *in2 = parse("{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"array\",\"elementType\":\"long\",\"containsNull\":true},\"nullable\":true,\"metadata\":{}}]}");
    sesp_delta_type *m2 = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_merge(back, in2, SESP_DELTA_WIDEN_TABLE, &m2, err, sizeof(err)), 0);
    c = changes_of(&m2->fields[1]);
    CU_ASSERT(json_array_size(c) == 2 && change_is(c, 0, "short", "integer", "element") && change_is(c, 1, "integer", "long", "element"));
    json_decref(c);
    sesp_delta_type_free(m2);
    sesp_delta_type_free(in2);
    /* a change the protocol does not allow stays an error, without the hint */
    in2 = parse("{\"type\":\"struct\",\"fields\":[{\"name\":\"l\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}}]}");
    CU_ASSERT_EQUAL(sesp_delta_schema_merge(t, in2, SESP_DELTA_WIDEN_TABLE, &m2, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "column l"));
    CU_ASSERT_PTR_NULL(strstr(err, "enableTypeWidening"));
    sesp_delta_type_free(in2);
    sesp_delta_type_free(back);
    sesp_delta_type_free(m);
    sesp_delta_type_free(in);
    sesp_delta_type_free(t);
}

/* The type fit gives column col for rows (JSON), as its schema JSON text. */
static char *fit_type(const char *table, const char *rows, bool add, const char *col)
{
    sesp_delta_type *t = parse(table), *out = NULL;
    json_t *r = json_loads(rows, 0, NULL);
    char err[256] = "";
    int rc = sesp_delta_schema_fit(t, r, add, &out, err, sizeof(err));
    json_decref(r);
    char *res = NULL;
    if (rc) res = strdup("error");
    else {
        const sesp_delta_field *f = sesp_delta_struct_field(out, col);
        json_t *j = f ? sesp_delta_schema_to_json(f->type) : json_string("absent");
        res = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
    }
    sesp_delta_type_free(out);
    sesp_delta_type_free(t);
    return res;
}

static void expect_fit(const char *rows, bool add, const char *col, const char *want)
{
    static const char *FIT =
        "{\"type\":\"struct\",\"fields\":[{\"name\":\"n\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"b\",\"type\":\"byte\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"l\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"f\",\"type\":\"float\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"d\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"dec\",\"type\":\"decimal(5,2)\",\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"s\",\"type\":{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"byte\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}},"
        "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"elementType\":\"integer\",\"containsNull\":true},\"nullable\":true,\"metadata\":{}}]}";
    char *got = fit_type(FIT, rows, add, col);
    if (strcmp(got, want)) {
        fprintf(stderr, "\nfit %s column %s: got %s, want %s\n", rows, col, got, want);
        CU_FAIL("fit");
    }
    free(got);
}

static void test_fit(void)
{
    expect_fit("[{\"n\":1},{\"n\":40000},{\"n\":null}]", false, "n", "\"integer\"");
    expect_fit("[{\"n\":1},{\"n\":3000000000}]", false, "n", "\"long\"");
    expect_fit("[{\"n\":2.5}]", false, "n", "\"double\"");
    expect_fit("[{\"n\":3000000000},{\"n\":2.5}]", false, "n", "\"double\"");
    expect_fit("[{\"n\":2.5},{\"n\":3000000000}]", false, "n", "\"double\"");
    expect_fit("[{\"n\":\"text\"}]", false, "n", "\"integer\"");    /* left for the write to refuse */
    expect_fit("[{\"b\":100},{\"b\":200}]", false, "b", "\"short\"");
    expect_fit("[{\"b\":-70000}]", false, "b", "\"integer\"");
    expect_fit("[{\"l\":2.5}]", false, "l", "\"long\"");               /* long -> double is not allowed */
    expect_fit("[{\"f\":1.5},{\"f\":7}]", false, "f", "\"float\"");
    expect_fit("[{\"f\":1e300}]", false, "f", "\"double\"");
    expect_fit("[{\"d\":\"2024-01-01\"}]", false, "d", "\"date\"");
    expect_fit("[{\"d\":\"2024-01-01T10:00:00\"}]", false, "d", "\"timestamp_ntz\"");
    expect_fit("[{\"d\":\"garbage\"}]", false, "d", "\"date\"");
    expect_fit("[{\"dec\":\"123.45\"},{\"dec\":1.5}]", false, "dec", "\"decimal(5,2)\"");
    expect_fit("[{\"dec\":\"12345.6\"}]", false, "dec", "\"decimal(7,2)\"");
    expect_fit("[{\"dec\":-1234567}]", false, "dec", "\"decimal(9,2)\"");
    /* more fraction digits: the scale grows, keeping the integer digits */
    expect_fit("[{\"dec\":\"1.234\"}]", false, "dec", "\"decimal(6,3)\"");
    expect_fit("[{\"dec\":\"1.2340\"},{\"dec\":1.5}]", false, "dec", "\"decimal(6,3)\"");   /* trailing zeros say nothing */
    expect_fit("[{\"dec\":\"1.234\"},{\"dec\":\"12345.6\"}]", false, "dec", "\"decimal(8,3)\"");
    expect_fit("[{\"dec\":\"0.0001\"},{\"dec\":\"-12345.6\"}]", false, "dec", "\"decimal(9,4)\"");
    expect_fit("[{\"dec\":1e-5}]", false, "dec", "\"decimal(8,5)\"");
    expect_fit("[{\"dec\":\"0.00000000000000000000000000000000001\"}]", false, "dec", "\"decimal(38,35)\"");
    expect_fit("[{\"dec\":\"0.000000000000000000000000000000000001\"}]", false, "dec", "\"decimal(5,2)\"");   /* 3 + 36 > 38 */
    expect_fit("[{\"dec\":\"12345678901234567.5\"}]", false, "dec", "\"decimal(19,2)\"");   /* beyond 18: FIXED */
    expect_fit("[{\"dec\":\"123456789012345678901234567890123456.5\"}]", false, "dec", "\"decimal(38,2)\"");
    expect_fit("[{\"dec\":\"1234567890123456789012345678901234567\"}]", false, "dec", "\"decimal(5,2)\"");   /* beyond 38 */
    expect_fit("[{\"s\":{\"x\":300}}]", false, "s", "{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"short\",\"nullable\":true,\"metadata\":{}}]}");
    expect_fit("[{\"arr\":[1,null,3000000000]}]", false, "arr", "{\"type\":\"array\",\"elementType\":\"long\",\"containsNull\":true}");
    /* new columns only when asked, typed by inference over the rows */
    expect_fit("[{\"z\":5}]", false, "z", "\"absent\"");
    expect_fit("[{\"z\":null},{\"z\":5},{\"z\":2.5}]", true, "z", "\"double\"");
    expect_fit("[{\"z\":null}]", true, "z", "\"string\"");
    expect_fit("[{\"s\":{\"y\":true}}]", true, "s",
               "{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"byte\",\"nullable\":true,\"metadata\":{}},"
               "{\"name\":\"y\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}}]}");
    expect_fit("[{\"z\":1},{\"z\":\"x\"}]", true, "z", "error");
    /* what only nulls or empty arrays showed stays open for later rows */
    expect_fit("[{\"z\":[]},{\"z\":[1]}]", true, "z", "{\"type\":\"array\",\"elementType\":\"long\",\"containsNull\":true}");
    expect_fit("[{\"z\":[]}]", true, "z", "{\"type\":\"array\",\"elementType\":\"string\",\"containsNull\":true}");
    expect_fit("[{\"z\":{\"a\":null}},{\"z\":{\"a\":1}}]", true, "z",
               "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}");
}

static void test_check_changes(void)
{
    char err[512] = "";
    const char *fmt = "{\"type\":\"struct\",\"fields\":[{\"name\":\"c\",\"type\":\"%s\",\"nullable\":true,\"metadata\":{\"delta.typeChanges\":%s}}]}";
    char js[512];
    struct { const char *type, *changes; int rc; const char *needle; } cases[] = {
        {"long", "[{\"fromType\":\"short\",\"toType\":\"integer\"},{\"fromType\":\"integer\",\"toType\":\"long\"}]", 0, NULL},
        /* the preview feature recorded tableVersion too */
        {"double", "[{\"tableVersion\":3,\"fromType\":\"float\",\"toType\":\"double\"}]", 0, NULL},
        {"timestamp_ntz", "[{\"fromType\":\"date\",\"toType\":\"timestamp_ntz\"}]", 0, NULL},
        {"decimal(12,2)", "[{\"fromType\":\"decimal(6, 2)\",\"toType\":\"decimal(12, 2)\"}]", 0, NULL},
        {"decimal(12,4)", "[{\"fromType\":\"decimal(6,2)\",\"toType\":\"decimal(12,4)\"}]", 0, NULL},
        {"decimal(12,2)", "[{\"fromType\":\"integer\",\"toType\":\"decimal(12,2)\"}]", 0, NULL},
        {"decimal(12,5)", "[{\"fromType\":\"decimal(10,2)\",\"toType\":\"decimal(12,5)\"}]", SESP_ERR_UNSUPPORTED, "column c"},
        {"decimal(12,2)", "[{\"fromType\":\"decimal(12,4)\",\"toType\":\"decimal(12,2)\"}]", SESP_ERR_UNSUPPORTED, "decimal(12,4) -> decimal(12,2)"},
        {"long", "[{\"fromType\":\"string\",\"toType\":\"long\"}]", SESP_ERR_UNSUPPORTED, "string -> long"},
        {"long", "[{\"fromType\":\"variant\",\"toType\":\"long\"}]", SESP_ERR_UNSUPPORTED, "not supported"},
        {"long", "{\"fromType\":\"integer\",\"toType\":\"long\"}", SESP_ERR_MALFORMED, "not a list"},
        {"long", "[{\"toType\":\"long\"}]", SESP_ERR_MALFORMED, "fromType"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(js, sizeof(js), fmt, cases[i].type, cases[i].changes);
        sesp_delta_type *t = parse(js);
        err[0] = 0;
        int rc = sesp_delta_schema_check_type_changes(t, err, sizeof(err));
        if (rc != cases[i].rc || (cases[i].needle && !strstr(err, cases[i].needle))) {
            fprintf(stderr, "\ncase %zu: rc %d (%s)\n", i, rc, err);
            CU_FAIL("type change check");
        }
        sesp_delta_type_free(t);
    }
    /* nested: an array element change recorded on a struct inside a struct */
    sesp_delta_type *t = parse("{\"type\":\"struct\",\"fields\":[{\"name\":\"o\",\"type\":{\"type\":\"struct\",\"fields\":[{\"name\":\"a\","
                               "\"type\":{\"type\":\"array\",\"elementType\":\"long\",\"containsNull\":true},\"nullable\":true,"
                               "\"metadata\":{\"delta.typeChanges\":[{\"fromType\":\"binary\",\"toType\":\"long\",\"fieldPath\":\"element\"}]}}]},"
                               "\"nullable\":true,\"metadata\":{}}]}");
    CU_ASSERT_EQUAL(sesp_delta_schema_check_type_changes(t, err, sizeof(err)), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "column o.a.element"));
    sesp_delta_type_free(t);
}

/* ---- tables ---- */

static const char *SCHEMA =
    "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"n\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"x\",\"type\":\"short\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"f\",\"type\":\"float\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"d\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";

static sesp_delta_table *open_table(char *uri, size_t cap)
{
    snprintf(uri, cap, "file://%s/t%d", root, ++table_seq);
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    sesp_delta_table *t = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
    return t;
}

static sesp_delta_table *make_table(char *uri, size_t cap, bool widening)
{
    sesp_delta_table *t = open_table(uri, cap);
    sesp_delta_kv kv[2] = {{"delta.checkpointInterval", "3"}, {"delta.enableTypeWidening", "true"}};
    sesp_delta_map cfg = {kv, widening ? 2 : 1};
    const char *part[] = {"p"};
    CU_ASSERT_FATAL(sesp_delta_table_create(t, SCHEMA, part, 1, &cfg, NULL) == 0);
    return t;
}

static int append(sesp_delta_table *t, const char *json)
{
    json_t *rows = json_loads(json, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    sesp_delta_result r;
    int rc = sesp_delta_table_append(t, rows, NULL, &r);
    json_decref(rows);
    return rc ? rc : (int)r.version;
}

/* The actions of one commit file, in a. */
static sesp_delta_action *commit_actions(sesp_delta_table *t, int64_t v, sesp_arena *a, size_t *n)
{
    char key[64];
    snprintf(key, sizeof(key), "_delta_log/%020lld.json", (long long)v);
    uint8_t *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(sesp_objstore_get(sesp_delta_table_store(t), key, &data, &len), 0);
    sesp_delta_action *acts = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(sesp_delta_actions_decode(data, len, a, &acts, n, err, sizeof(err)), 0);
    free(data);
    return acts;
}

static const sesp_delta_action *find_action(const sesp_delta_action *acts, size_t n, sesp_delta_action_kind k)
{
    for (size_t i = 0; i < n; i++)
        if (acts[i].kind == k) return &acts[i];
    return NULL;
}

static bool listed(const char *const *l, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], s)) return true;
    return false;
}

static int collect(void *ud, const json_t *row)
{
    json_object_set((json_t *)ud, json_string_value(json_object_get(row, "p")), (json_t *)row);
    return 0;
}

/* The rows of version (-1: latest) gathered by cb into all (taken over), dumped
 * with flags; or the table's error. */
static char *scan_into(sesp_delta_table *t, int64_t version, sesp_delta_row_fn cb, json_t *all, size_t flags)
{
    sesp_delta_snapshot *s = NULL;
    char *out;
    if (sesp_delta_table_snapshot(t, version, &s)) {
        out = strdup(sesp_delta_table_error(t));
    } else {
        int rc = sesp_delta_table_scan(t, s, cb, all);
        sesp_delta_snapshot_free(s);
        out = rc ? strdup(sesp_delta_table_error(t)) : json_dumps(all, flags);
    }
    json_decref(all);
    return out;
}

/* All rows keyed by p (one row per partition in these tests), as compact JSON with sorted keys. */
static char *scan_json(sesp_delta_table *t)
{
    return scan_into(t, -1, collect, json_object(), JSON_COMPACT | JSON_SORT_KEYS);
}

static void expect_rows(sesp_delta_table *t, const char *want, const char *when)
{
    char *got = scan_json(t);
    json_t *a = json_loads(got, 0, NULL), *b = json_loads(want, 0, NULL);
    if (!a || !b || !json_equal(a, b)) {
        fprintf(stderr, "\n%s:\n got  %s\n want %s\n", when, got, want);
        CU_FAIL("rows");
    }
    json_decref(a);
    json_decref(b);
    free(got);
}

static const char *OLD_ROWS = "[{\"id\":1,\"n\":5,\"x\":3,\"f\":1.5,\"d\":\"2024-01-01\",\"p\":\"a\"}]";
static const char *WIDE_ROWS = "[{\"id\":2,\"n\":3000000000,\"x\":70000,\"f\":1e300,\"d\":\"2024-01-02T03:04:05\",\"p\":\"b\"}]";
static const char *ROW_A = "\"a\":{\"id\":1,\"n\":5,\"x\":3,\"f\":1.5,\"d\":\"2024-01-01T00:00:00.000000\",\"p\":\"a\"}";
static const char *ROW_B = "\"b\":{\"id\":2,\"n\":3000000000,\"x\":70000,\"f\":1e300,\"d\":\"2024-01-02T03:04:05.000000\",\"p\":\"b\"}";

static void test_append_widens(void)
{
    char uri[300], want[1024];
    sesp_delta_table *t = make_table(uri, sizeof(uri), true);
    sesp_arena a;
    sesp_arena_init(&a, 0);
    size_t n = 0;
    /* the property at create puts the feature in the protocol right away */
    sesp_delta_action *acts = commit_actions(t, 0, &a, &n);
    const sesp_delta_action *p = find_action(acts, n, SESP_DA_PROTOCOL);
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_EQUAL(p->u.protocol.min_reader, 3);
    CU_ASSERT_EQUAL(p->u.protocol.min_writer, 7);
    CU_ASSERT(listed(p->u.protocol.reader_features, p->u.protocol.n_reader_features, "typeWidening"));
    CU_ASSERT(listed(p->u.protocol.writer_features, p->u.protocol.n_writer_features, "typeWidening"));
    CU_ASSERT(listed(p->u.protocol.writer_features, p->u.protocol.n_writer_features, "appendOnly"));
    CU_ASSERT(listed(p->u.protocol.writer_features, p->u.protocol.n_writer_features, "invariants"));

    CU_ASSERT_EQUAL(append(t, OLD_ROWS), 1);
    CU_ASSERT_EQUAL(append(t, WIDE_ROWS), 2);
    /* version 2: one metaData with every column widened and recorded, the
     * timestamp_ntz upgrade of the protocol, the data */
    acts = commit_actions(t, 2, &a, &n);
    const sesp_delta_action *md = find_action(acts, n, SESP_DA_METADATA);
    CU_ASSERT_FATAL(md != NULL);
    sesp_delta_type *s = parse(md->u.metadata.schema_string);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(s, "n")->type->kind, SESP_DT_LONG);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(s, "x")->type->kind, SESP_DT_INTEGER);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(s, "f")->type->kind, SESP_DT_DOUBLE);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(s, "d")->type->kind, SESP_DT_TIMESTAMP_NTZ);
    json_t *c = changes_of(sesp_delta_struct_field(s, "n"));
    CU_ASSERT(json_array_size(c) == 1 && change_is(c, 0, "integer", "long", NULL));
    json_decref(c);
    c = changes_of(sesp_delta_struct_field(s, "d"));
    CU_ASSERT(change_is(c, 0, "date", "timestamp_ntz", NULL));
    json_decref(c);
    CU_ASSERT_PTR_NULL(strstr(sesp_delta_struct_field(s, "id")->metadata, "typeChanges"));
    sesp_delta_type_free(s);
    CU_ASSERT_STRING_EQUAL(sesp_delta_map_get(&md->u.metadata.configuration, "delta.enableTypeWidening", NULL), "true");
    p = find_action(acts, n, SESP_DA_PROTOCOL);
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT(listed(p->u.protocol.reader_features, p->u.protocol.n_reader_features, "timestampNtz"));
    CU_ASSERT(listed(p->u.protocol.reader_features, p->u.protocol.n_reader_features, "typeWidening"));
    CU_ASSERT(listed(p->u.protocol.writer_features, p->u.protocol.n_writer_features, "appendOnly"));
    CU_ASSERT_PTR_NOT_NULL(find_action(acts, n, SESP_DA_ADD));
    const sesp_delta_action *ci = find_action(acts, n, SESP_DA_COMMIT_INFO);
    CU_ASSERT(ci && strstr(ci->u.commit_info.json, "\"isBlindAppend\":false"));
    /* the version 1 file (INT32, FLOAT, DATE) reads into the widened columns */
    snprintf(want, sizeof(want), "{%s,%s}", ROW_A, ROW_B);
    expect_rows(t, want, "after widening");
    /* a further append that fits writes no metaData; version 3 is a checkpoint */
    CU_ASSERT_EQUAL(append(t, "[{\"id\":3,\"n\":7,\"x\":1,\"f\":2.5,\"d\":\"2024-01-03\",\"p\":\"c\"}]"), 3);
    acts = commit_actions(t, 3, &a, &n);
    CU_ASSERT_PTR_NULL(find_action(acts, n, SESP_DA_METADATA));
    sesp_delta_snapshot *snap = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &snap), 0);
    CU_ASSERT_EQUAL(snap->checkpoint_version, 3);
    c = changes_of(sesp_delta_struct_field(snap->schema, "x"));
    CU_ASSERT(change_is(c, 0, "short", "integer", NULL));
    json_decref(c);
    sesp_delta_snapshot_free(snap);
    const char *row_c = "\"c\":{\"id\":3,\"n\":7,\"x\":1,\"f\":2.5,\"d\":\"2024-01-03T00:00:00.000000\",\"p\":\"c\"}";
    snprintf(want, sizeof(want), "{%s,%s,%s}", ROW_A, ROW_B, row_c);
    expect_rows(t, want, "from the checkpoint");
    /* time travel to before the change still reads the narrow schema */
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, 1, &snap), 0);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(snap->schema, "n")->type->kind, SESP_DT_INTEGER);
    sesp_delta_snapshot_free(snap);
    sesp_arena_free(&a);
    sesp_delta_table_close(t);
}

static bool id_is_3(void *ud, const json_t *row)
{
    (void)ud;
    return json_integer_value(json_object_get(row, "id")) == 3;
}

static void test_rewrites(void)
{
    char uri[300], want[1024];
    sesp_delta_table *t = make_table(uri, sizeof(uri), true);
    /* two old files in partition a, one wide file in b */
    CU_ASSERT_EQUAL(append(t, OLD_ROWS), 1);
    CU_ASSERT_EQUAL(append(t, "[{\"id\":3,\"n\":-4,\"x\":-2,\"f\":-0.5,\"d\":\"1999-12-31\",\"p\":\"a\"}]"), 2);
    CU_ASSERT_EQUAL(append(t, WIDE_ROWS), 3);
    sesp_delta_result r;
    CU_ASSERT_EQUAL(sesp_delta_table_optimize(t, 1 << 20, &r), 0);
    CU_ASSERT_EQUAL(r.files_removed, 2);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    CU_ASSERT_EQUAL(s->nfiles, 2);
    sesp_delta_snapshot_free(s);
    /* the optimized file holds the wide types; DELETE rewrites it again */
    snprintf(want, sizeof(want), "{%s,%s}", ROW_B, ROW_A);
    CU_ASSERT_EQUAL(sesp_delta_table_delete(t, id_is_3, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.rows_deleted, 1);
    expect_rows(t, want, "after optimize and delete");
    /* MERGE widens for its incoming rows too (x, integer since WIDE_ROWS,
     * needs long for 3000000000), and refuses what no widening holds */
    json_t *rows = json_loads("[{\"id\":1,\"n\":6,\"x\":3000000000,\"f\":1.5,\"d\":\"2024-01-01\",\"p\":\"a\"}]", 0, NULL);
    const char *key[] = {"id"};
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_merge(t, rows, key, 1, &r), 0);
    json_decref(rows);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    CU_ASSERT_EQUAL(sesp_delta_struct_field(s->schema, "x")->type->kind, SESP_DT_LONG);
    json_t *c = changes_of(sesp_delta_struct_field(s->schema, "x"));
    CU_ASSERT(json_array_size(c) == 2 && change_is(c, 0, "short", "integer", NULL) && change_is(c, 1, "integer", "long", NULL));
    json_decref(c);
    sesp_delta_snapshot_free(s);
    snprintf(want, sizeof(want), "{%s,\"a\":{\"id\":1,\"n\":6,\"x\":3000000000,\"f\":1.5,\"d\":\"2024-01-01T00:00:00.000000\",\"p\":\"a\"}}", ROW_B);
    expect_rows(t, want, "after merge");
    rows = json_loads("[{\"id\":1,\"n\":2.5,\"p\":\"a\"}]", 0, NULL);
    CU_ASSERT_EQUAL(sesp_delta_table_merge(t, rows, key, 1, &r), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "column n"));
    json_decref(rows);
    sesp_delta_table_close(t);
}

static void test_refused_without_property(void)
{
    char uri[300];
    sesp_delta_table *t = make_table(uri, sizeof(uri), false);
    sesp_arena a;
    sesp_arena_init(&a, 0);
    size_t n = 0;
    sesp_delta_action *acts = commit_actions(t, 0, &a, &n);
    const sesp_delta_action *p = find_action(acts, n, SESP_DA_PROTOCOL);
    CU_ASSERT(p && p->u.protocol.min_reader == 1 && p->u.protocol.min_writer == 2);
    CU_ASSERT_EQUAL(append(t, OLD_ROWS), 1);
    const char *bad[] = {"[{\"id\":2,\"n\":3000000000,\"p\":\"b\"}]", "[{\"id\":2,\"f\":1e300,\"p\":\"b\"}]",
                         "[{\"id\":2,\"d\":\"2024-01-02T03:04:05\",\"p\":\"b\"}]"};
    const char *col[] = {"column n", "column f", "column d"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(append(t, bad[i]), SESP_ERR_INVALID_ARG);
        const char *e = sesp_delta_table_error(t);
        if (!strstr(e, col[i]) || !strstr(e, "delta.enableTypeWidening=true")) {
            fprintf(stderr, "\nerror: %s\n", e);
            CU_FAIL("refusal names the column and the property");
        }
    }
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    CU_ASSERT_EQUAL(s->version, 1);
    sesp_delta_snapshot_free(s);
    /* turning the property on later upgrades the protocol, keeping what writer 2 implied */
    sesp_delta_kv kv[1] = {{"delta.enableTypeWidening", "true"}};
    sesp_delta_map props = {kv, 1};
    sesp_delta_result r;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_set_properties(t, &props, &r), 0);
    CU_ASSERT_EQUAL(r.version, 2);
    acts = commit_actions(t, 2, &a, &n);
    p = find_action(acts, n, SESP_DA_PROTOCOL);
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT(p->u.protocol.min_reader == 3 && p->u.protocol.min_writer == 7);
    CU_ASSERT(p->u.protocol.n_reader_features == 1 && listed(p->u.protocol.reader_features, 1, "typeWidening"));
    CU_ASSERT(p->u.protocol.n_writer_features == 3);
    CU_ASSERT(listed(p->u.protocol.writer_features, 3, "appendOnly") && listed(p->u.protocol.writer_features, 3, "invariants"));
    const sesp_delta_action *md = find_action(acts, n, SESP_DA_METADATA);
    CU_ASSERT(md && !strcmp(sesp_delta_map_get(&md->u.metadata.configuration, "delta.checkpointInterval", NULL), "3"));
    CU_ASSERT_EQUAL(append(t, bad[0]), 3);
    kv[0].value = "sometimes";
    CU_ASSERT_EQUAL(sesp_delta_table_set_properties(t, &props, &r), SESP_ERR_INVALID_ARG);
    sesp_arena_free(&a);
    sesp_delta_table_close(t);
}

/* A table another writer created with the property but a legacy protocol,
 * and one with features already listed: a widening commit upgrades the
 * protocol and keeps what was there. */
static void test_protocol_upgrade(void)
{
    for (int variant = 0; variant < 2; variant++) {
        char uri[300];
        sesp_delta_table *t = open_table(uri, sizeof(uri));
        sesp_delta_type *st = parse(SCHEMA);
        char *ss = sesp_delta_schema_to_string(st);
        sesp_delta_type_free(st);
        const char *rf[] = {"timestampNtz"}, *wf[] = {"timestampNtz", "appendOnly"};
        sesp_delta_kv kv[1] = {{"delta.enableTypeWidening", "true"}};
        const char *part[] = {"p"};
        sesp_delta_action v0[2] = {
            {.kind = SESP_DA_PROTOCOL, .u.protocol = {.min_reader = 1, .min_writer = 2}},
            {.kind = SESP_DA_METADATA, .u.metadata = {.id = "x", .format_provider = "parquet", .schema_string = ss,
                                                      .partition_columns = part, .npartition_columns = 1,
                                                      .configuration = {kv, 1}}},
        };
        if (variant) v0[0].u.protocol = (sesp_delta_protocol){3, 7, rf, 1, true, wf, 2, true};
        char err[256];
        int64_t v;
        CU_ASSERT_EQUAL_FATAL(sesp_delta_commit(sesp_delta_table_store(t), -1, v0, 2, NULL, "CREATE TABLE", NULL, &v, err, sizeof(err)), 0);
        free(ss);
        CU_ASSERT_EQUAL(append(t, OLD_ROWS), 1);
        sesp_arena a;
        sesp_arena_init(&a, 0);
        size_t n = 0;
        sesp_delta_action *acts = commit_actions(t, 1, &a, &n);
        CU_ASSERT_PTR_NULL(find_action(acts, n, SESP_DA_PROTOCOL));   /* nothing widened yet */
        CU_ASSERT_EQUAL(append(t, "[{\"id\":2,\"n\":3000000000,\"p\":\"b\"}]"), 2);
        acts = commit_actions(t, 2, &a, &n);
        const sesp_delta_action *p = find_action(acts, n, SESP_DA_PROTOCOL);
        CU_ASSERT_FATAL(p != NULL);
        const sesp_delta_protocol *q = &p->u.protocol;
        CU_ASSERT(q->min_reader == 3 && q->min_writer == 7);
        CU_ASSERT(listed(q->reader_features, q->n_reader_features, "typeWidening"));
        CU_ASSERT(listed(q->writer_features, q->n_writer_features, "typeWidening"));
        CU_ASSERT(listed(q->writer_features, q->n_writer_features, "appendOnly"));
        if (variant) {
            CU_ASSERT(q->n_reader_features == 2 && listed(q->reader_features, 2, "timestampNtz"));
            CU_ASSERT(q->n_writer_features == 3 && listed(q->writer_features, 3, "timestampNtz"));
        } else CU_ASSERT(q->n_writer_features == 3 && listed(q->writer_features, 3, "invariants"));
        CU_ASSERT_PTR_NOT_NULL(find_action(acts, n, SESP_DA_METADATA));
        sesp_arena_free(&a);
        sesp_delta_table_close(t);
    }
}

/* Readers refuse reader features and recorded type changes they cannot honour. */
static void test_reader_refusals(void)
{
    char uri[300];
    sesp_delta_table *t = make_table(uri, sizeof(uri), true);
    CU_ASSERT_EQUAL(append(t, OLD_ROWS), 1);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    char err[256];
    int64_t v;
    const char *rf[] = {"typeWidening", "deletionVectors"}, *wf[] = {"typeWidening", "deletionVectors"};
    sesp_delta_action up = {.kind = SESP_DA_PROTOCOL, .u.protocol = {3, 7, rf, 2, true, wf, 2, true}};
    CU_ASSERT_EQUAL_FATAL(sesp_delta_commit(sesp_delta_table_store(t), 1, &up, 1, NULL, "UPGRADE", NULL, &v, err, sizeof(err)), 0);
    sesp_delta_snapshot *s2 = NULL;
    CU_ASSERT_EQUAL(sesp_delta_table_snapshot(t, -1, &s2), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "reader feature deletionVectors"));
    /* back to typeWidening alone, with a scale change recorded by another writer */
    up.u.protocol.n_reader_features = up.u.protocol.n_writer_features = 1;
    sesp_delta_action md = {.kind = SESP_DA_METADATA, .u.metadata = s->metadata};
    md.u.metadata.schema_string =
        "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
        "{\"name\":\"n\",\"type\":\"decimal(12,4)\",\"nullable\":true,\"metadata\":{\"delta.typeChanges\":[{\"fromType\":\"integer\",\"toType\":\"decimal(12,4)\"}]}},"
        "{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}";
    sesp_delta_action two[2] = {up, md};
    CU_ASSERT_EQUAL_FATAL(sesp_delta_commit(sesp_delta_table_store(t), 2, two, 2, NULL, "CHANGE COLUMN", NULL, &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sesp_delta_table_snapshot(t, -1, &s2), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(sesp_delta_table_error(t), "column n: type change integer -> decimal(12,4)"));
    /* the versions before stay readable */
    CU_ASSERT_EQUAL(sesp_delta_table_snapshot(t, 1, &s2), 0);
    sesp_delta_snapshot_free(s2);
    sesp_delta_snapshot_free(s);
    sesp_delta_table_close(t);
}

/* ---- decimal scale increases ---- */

static const char *DSCHEMA =
    "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
    "{\"name\":\"dec\",\"type\":\"decimal(5,2)\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"n\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"st\",\"type\":{\"type\":\"struct\",\"fields\":[{\"name\":\"v\",\"type\":\"decimal(5,2)\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"elementType\":\"decimal(5,2)\",\"containsNull\":true},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"decimal(5,2)\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}},"
    "{\"name\":\"pd\",\"type\":\"decimal(4,1)\",\"nullable\":true,\"metadata\":{}}]}";

static int collect_id(void *ud, const json_t *row)
{
    char k[32];
    snprintf(k, sizeof(k), "%lld", (long long)json_integer_value(json_object_get(row, "id")));
    json_object_set((json_t *)ud, k, (json_t *)row);
    return 0;
}

/* All rows of version (-1: latest) keyed by id, or the table's error. */
static char *scan_ids(sesp_delta_table *t, int64_t version)
{
    return scan_into(t, version, collect_id, json_object(), JSON_COMPACT | JSON_SORT_KEYS);
}

/* want: JSON with ' for " */
static void expect_ids(sesp_delta_table *t, int64_t version, const char *want_q, const char *when)
{
    char *want = strdup(want_q);
    for (char *p = want; *p; p++)
        if (*p == '\'') *p = '"';
    char *got = scan_ids(t, version);
    json_t *a = json_loads(got, 0, NULL), *b = json_loads(want, 0, NULL);
    if (!b) fprintf(stderr, "\nbad want: %s\n", want);
    if (!a || !b || !json_equal(a, b)) {
        fprintf(stderr, "\n%s:\n got  %s\n want %s\n", when, got, want);
        CU_FAIL("rows");
    }
    json_decref(a);
    json_decref(b);
    free(got);
    free(want);
}

static int append_q(sesp_delta_table *t, const char *q)
{
    char *js = strdup(q);
    for (char *p = js; *p; p++)
        if (*p == '\'') *p = '"';
    int rc = append(t, js);
    free(js);
    return rc;
}

typedef struct memsrc {
    const uint8_t *p;
    size_t n;
} memsrc;

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    memsrc *m = ctx;
    if (off > m->n || len > m->n - off) return SESP_ERR_TRUNCATED;
    memcpy(buf, m->p + off, len);
    return 0;
}

/* The DECIMAL scale of top-level column col in every data file of the
 * latest version whose path holds part (-1 for a file without a DECIMAL
 * there); false if they differ or there is none. */
static bool files_scale(sesp_delta_table *t, const char *col, const char *part, int *scale)
{
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    bool same = true;
    *scale = -2;
    for (size_t i = 0; i < s->nfiles; i++) {
        if (!strstr(s->files[i]->path, part)) continue;
        char *key = sesp_delta_path_to_key(s->files[i]->path);
        uint8_t *data = NULL;
        size_t len = 0;
        CU_ASSERT_EQUAL_FATAL(sesp_objstore_get(sesp_delta_table_store(t), key, &data, &len), 0);
        memsrc m = {data, len};
        sesp_pq_reader *r = NULL;
        CU_ASSERT_EQUAL_FATAL(sesp_pq_reader_open((sesp_pq_source){mem_read, &m, len}, NULL, &r), 0);
        const sesp_pq_schema *ps = sesp_pq_reader_schema(r);
        const sesp_pq_node *n = sesp_pq_schema_node(ps, sesp_pq_schema_find_child(ps, 0, col));
        int sc = n && n->logical.kind == SESP_PQ_LT_DECIMAL ? n->logical.scale : -1;
        if (*scale != -2 && sc != *scale) same = false;
        *scale = sc;
        sesp_pq_reader_close(r);
        free(data);
        free(key);
    }
    sesp_delta_snapshot_free(s);
    return same && *scale != -2;
}

static bool dec_is(const sesp_delta_type *t, int p, int s) { return t && t->kind == SESP_DT_DECIMAL && t->precision == p && t->scale == s; }

/* A schema change another writer (or ALTER COLUMN) commits: the table's
 * schema merged with in (SESP_DELTA_WIDEN_TABLE, so recorded). */
static void commit_schema_change(sesp_delta_table *t, const char *in_json)
{
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    sesp_delta_type *in = parse(in_json), *m = NULL;
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_merge(s->schema, in, SESP_DELTA_WIDEN_TABLE, &m, err, sizeof(err)), 0);
    char *ss = sesp_delta_schema_to_string(m);
    sesp_delta_action md = {.kind = SESP_DA_METADATA, .u.metadata = s->metadata};
    md.u.metadata.schema_string = ss;
    int64_t v;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_commit(sesp_delta_table_store(t), s->version, &md, 1, NULL, "CHANGE COLUMN", NULL, &v, err, sizeof(err)), 0);
    free(ss);
    sesp_delta_type_free(m);
    sesp_delta_type_free(in);
    sesp_delta_snapshot_free(s);
}

static bool id_is_2(void *ud, const json_t *row)
{
    (void)ud;
    return json_integer_value(json_object_get(row, "id")) == 2;
}

/* decimal(5,2) widened to decimal(10,4) (and nested ones, an integer to
 * decimal(12,2), a partition column) by appends with more digits and by an
 * explicit schema change: files written before read back exactly at the new
 * scale, through checkpoints, time travel, DELETE and OPTIMIZE, and the
 * rewritten files are at the new scale. */
static void test_decimal_scale(void)
{
    char uri[300];
    sesp_delta_table *t = open_table(uri, sizeof(uri));
    sesp_delta_kv kv[2] = {{"delta.checkpointInterval", "2"}, {"delta.enableTypeWidening", "true"}};
    sesp_delta_map cfg = {kv, 2};
    const char *part[] = {"pd"};
    CU_ASSERT_FATAL(sesp_delta_table_create(t, DSCHEMA, part, 1, &cfg, NULL) == 0);
    CU_ASSERT_EQUAL(append_q(t, "[{'id':1,'dec':'123.45','n':7,'st':{'v':'-1.5'},'arr':['0.01','-999.99',null],'m':{'k':'2.5'},'pd':'1.5'},"
                                "{'id':2,'dec':-0.01,'n':-2147483648,'st':null,'arr':[],'m':{'z':null},'pd':'1.5'}]"), 1);
    const char *v1 = "{'1':{'id':1,'dec':'123.45','n':7,'st':{'v':'-1.50'},'arr':['0.01','-999.99',null],'m':{'k':'2.50'},'pd':'1.5'},"
                     "'2':{'id':2,'dec':'-0.01','n':-2147483648,'st':null,'arr':[],'m':{'z':null},'pd':'1.5'}}";
    expect_ids(t, -1, v1, "as written");
    /* more fraction digits (and integer digits) widen in the append's own commit */
    CU_ASSERT_EQUAL(append_q(t, "[{'id':3,'dec':'123456.7891','st':{'v':'0.125'},'arr':['1.0001'],'m':{'k':'0.5'},'pd':'-2.25'}]"), 2);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    const sesp_delta_field *f = sesp_delta_struct_field(s->schema, "dec");
    CU_ASSERT(dec_is(f->type, 10, 4));
    json_t *c = changes_of(f);
    CU_ASSERT(json_array_size(c) == 1 && change_is(c, 0, "decimal(5,2)", "decimal(10,4)", NULL));
    json_decref(c);
    f = sesp_delta_struct_field(s->schema, "st");
    CU_ASSERT(dec_is(f->type->fields[0].type, 6, 3));
    c = changes_of(&f->type->fields[0]);
    CU_ASSERT(change_is(c, 0, "decimal(5,2)", "decimal(6,3)", NULL));
    json_decref(c);
    f = sesp_delta_struct_field(s->schema, "arr");
    CU_ASSERT(dec_is(f->type->element, 7, 4));
    c = changes_of(f);
    CU_ASSERT(change_is(c, 0, "decimal(5,2)", "decimal(7,4)", "element"));
    json_decref(c);
    CU_ASSERT(dec_is(sesp_delta_struct_field(s->schema, "m")->type->value, 5, 2));
    f = sesp_delta_struct_field(s->schema, "pd");
    CU_ASSERT(dec_is(f->type, 5, 2));
    CU_ASSERT(s->checkpoint_version == 2);
    sesp_delta_snapshot_free(s);
    const char *r3 = "'3':{'id':3,'dec':'123456.7891','n':null,'st':{'v':'0.125'},'arr':['1.0001'],'m':{'k':'0.50'},'pd':'-2.25'}";
    char want[2048];
    snprintf(want, sizeof(want),
             "{'1':{'id':1,'dec':'123.4500','n':7,'st':{'v':'-1.500'},'arr':['0.0100','-999.9900',null],'m':{'k':'2.50'},'pd':'1.50'},"
             "'2':{'id':2,'dec':'-0.0100','n':-2147483648,'st':null,'arr':[],'m':{'z':null},'pd':'1.50'},%s}", r3);
    expect_ids(t, -1, want, "after the widening append (from checkpoint 2)");
    expect_ids(t, 1, v1, "time travel to version 1");

    /* explicit: integer -> decimal(12,2), the map value decimal(5,2) -> decimal(9,6) */
    commit_schema_change(t, "{\"type\":\"struct\",\"fields\":[{\"name\":\"n\",\"type\":\"decimal(12,2)\",\"nullable\":true,\"metadata\":{}},"
                            "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"decimal(9,6)\",\"valueContainsNull\":true},\"nullable\":true,\"metadata\":{}}]}");
    CU_ASSERT_EQUAL(append_q(t, "[{'id':4,'dec':'-0.0001','n':'1234567890.25','m':{'q':'-999.123456'},'pd':'1.5'}]"), 4);
    snprintf(want, sizeof(want),
             "{'1':{'id':1,'dec':'123.4500','n':'7.00','st':{'v':'-1.500'},'arr':['0.0100','-999.9900',null],'m':{'k':'2.500000'},'pd':'1.50'},"
             "'2':{'id':2,'dec':'-0.0100','n':'-2147483648.00','st':null,'arr':[],'m':{'z':null},'pd':'1.50'},"
             "'3':{'id':3,'dec':'123456.7891','n':null,'st':{'v':'0.125'},'arr':['1.0001'],'m':{'k':'0.500000'},'pd':'-2.25'},"
             "'4':{'id':4,'dec':'-0.0001','n':'1234567890.25','st':null,'arr':null,'m':{'q':'-999.123456'},'pd':'1.50'}}");
    expect_ids(t, -1, want, "after integer -> decimal(12,2)");
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    c = changes_of(sesp_delta_struct_field(s->schema, "n"));
    CU_ASSERT(change_is(c, 0, "integer", "decimal(12,2)", NULL));
    json_decref(c);
    sesp_delta_snapshot_free(s);

    /* OPTIMIZE bins the version 1 file (partition value "1.5", written at
     * decimal(4,1)) with id 4's ("1.50") and rewrites them at the table's scales */
    sesp_delta_result r;
    CU_ASSERT_EQUAL(sesp_delta_table_optimize(t, 1 << 20, &r), 0);
    CU_ASSERT_EQUAL(r.files_removed, 2);
    expect_ids(t, -1, want, "after optimize");
    /* DELETE rewrites that file again */
    CU_ASSERT_EQUAL(sesp_delta_table_delete(t, id_is_2, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.rows_deleted, 1);
    for (char *q = want; *q; q++)
        if (*q == '\'') *q = '"';
    json_t *w = json_loads(want, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    json_object_del(w, "2");
    char *all = scan_ids(t, -1);
    json_t *j = json_loads(all, 0, NULL);
    if (!j || !json_equal(j, w)) {
        fprintf(stderr, "\nafter delete: %s\n", all);
        CU_FAIL("rows after delete");
    }
    free(all);
    json_decref(j);
    json_decref(w);
    /* MERGE keyed on a widened decimal: 123.45 is the row read back as "123.4500" */
    json_t *rows = json_loads("[{\"id\":10,\"dec\":123.45,\"n\":\"0.5\",\"pd\":\"1.5\"}]", 0, NULL);
    const char *key[] = {"dec"};
    CU_ASSERT_EQUAL(sesp_delta_table_merge(t, rows, key, 1, &r), 0);
    CU_ASSERT_EQUAL(r.rows_deleted, 1);
    json_decref(rows);
    expect_ids(t, -1, "{'10':{'id':10,'dec':'123.4500','n':'0.50','st':null,'arr':null,'m':null,'pd':'1.50'},"
                      "'3':{'id':3,'dec':'123456.7891','n':null,'st':{'v':'0.125'},'arr':['1.0001'],'m':{'k':'0.500000'},'pd':'-2.25'},"
                      "'4':{'id':4,'dec':'-0.0001','n':'1234567890.25','st':null,'arr':null,'m':{'q':'-999.123456'},'pd':'1.50'}}",
               "after a merge keyed on dec");
    int sc;
    CU_ASSERT(files_scale(t, "dec", "", &sc) && sc == 4);
    CU_ASSERT(files_scale(t, "n", "pd=1.50", &sc) && sc == 2);    /* rewritten: decimal(12,2) */
    CU_ASSERT(files_scale(t, "n", "pd=-2.25", &sc) && sc == -1);  /* untouched: still INT32 */
    sesp_delta_table_close(t);
}

/* Files the table's types cannot account for are refused, naming the file
 * and the column, instead of being read at a wrong scale. */
static void test_decimal_scale_refusals(void)
{
    char uri[300];
    sesp_delta_table *t = open_table(uri, sizeof(uri));
    sesp_delta_kv kv[1] = {{"delta.enableTypeWidening", "true"}};
    sesp_delta_map cfg = {kv, 1};
    CU_ASSERT_FATAL(sesp_delta_table_create(t, DSCHEMA, NULL, 0, &cfg, NULL) == 0);
    CU_ASSERT_EQUAL(append_q(t, "[{'id':1,'dec':'1.25','st':{'v':'0.5'},'pd':'1.5'}]"), 1);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    /* a schema whose scale is below the file's (no type change does that) */
    const char *narrowed[] = {
        "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
        "{\"name\":\"dec\",\"type\":\"decimal(10,1)\",\"nullable\":true,\"metadata\":{}}]}",
        "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}},"
        "{\"name\":\"st\",\"type\":{\"type\":\"struct\",\"fields\":[{\"name\":\"v\",\"type\":\"decimal(5,0)\",\"nullable\":true,\"metadata\":{}}]},\"nullable\":true,\"metadata\":{}}]}",
    };
    const char *needle[] = {"column dec: the file holds decimals of scale 2, above the column's decimal(10,1)",
                            "column st.v: the file holds decimals of scale 2, above the column's decimal(5,0)"};
    char err[256];
    int64_t v = 1, nv;
    for (int i = 0; i < 2; i++) {
        sesp_delta_action md = {.kind = SESP_DA_METADATA, .u.metadata = s->metadata};
        md.u.metadata.schema_string = narrowed[i];
        CU_ASSERT_EQUAL_FATAL(sesp_delta_commit(sesp_delta_table_store(t), v, &md, 1, NULL, "CHANGE COLUMN", NULL, &nv, err, sizeof(err)), 0);
        v = nv;
        char *got = scan_ids(t, -1);
        if (!strstr(got, needle[i]) || !strstr(got, "data file ")) {
            fprintf(stderr, "\nrefusal %d: %s\n", i, got);
            CU_FAIL("file scale above the table's refused");
        }
        free(got);
        /* DELETE and OPTIMIZE read through the same check */
        sesp_delta_result r;
        CU_ASSERT_EQUAL(sesp_delta_table_delete(t, id_is_2, NULL, &r), SESP_ERR_MALFORMED);
    }
    sesp_delta_snapshot_free(s);
    sesp_delta_table_close(t);
}

/* ---- data files another writer put in a decimal(10,4) column ---- */

typedef struct membuf {
    uint8_t *p;
    size_t n, cap;
} membuf;

static int mem_write(void *ctx, const void *p, size_t len)
{
    membuf *b = ctx;
    if (b->n + len > b->cap) {
        size_t nc = (b->n + len) * 2;
        uint8_t *q = realloc(b->p, nc);
        if (!q) return SESP_ERR_NOMEM;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->n, p, len);
    b->n += len;
    return 0;
}

/* Writes a one-column ("dec") Parquet file of the given leaf type and values
 * to the table as name, and commits an add action for it. */
static void add_crafted_file(sesp_delta_table *t, const char *name, sesp_pq_physical phys, const sesp_pq_logical *lt,
                             int type_length, const sesp_pq_value *vals, size_t n)
{
    sesp_pq_schema *ps = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_schema_new(&ps), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_pq_schema_add_leaf(ps, 0, "dec", SESP_PQ_OPTIONAL, phys, lt, type_length, NULL), 0);
    membuf b = {0};
    sesp_pq_writer *w = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_open(ps, NULL, (sesp_pq_sink){mem_write, &b}, &w), 0);
    for (size_t i = 0; i < n; i++) CU_ASSERT_EQUAL(sesp_pq_writer_write_row(w, &(sesp_pq_value){.kind = SESP_PQV_GROUP, .u.group = {&vals[i], 1}}), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_pq_writer_close(w, NULL), 0);
    sesp_pq_schema_free(ps);
    CU_ASSERT_EQUAL_FATAL(sesp_objstore_put(sesp_delta_table_store(t), name, b.p, b.n), 0);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    sesp_delta_action add = {.kind = SESP_DA_ADD, .u.add = {.path = name, .size = (int64_t)b.n, .modification_time = 1, .data_change = true}};
    char err[256];
    int64_t v;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_commit(sesp_delta_table_store(t), s->version, &add, 1, NULL, "WRITE", NULL, &v, err, sizeof(err)), 0);
    sesp_delta_snapshot_free(s);
    free(b.p);
}

static int collect_dec(void *ud, const json_t *row)
{
    json_array_append((json_t *)ud, json_object_get(row, "dec"));
    return 0;
}

/* The dec values of the latest version in file order as compact JSON, or the table's error. */
static char *scan_decs(sesp_delta_table *t)
{
    return scan_into(t, -1, collect_dec, json_array(), JSON_COMPACT);
}

static void expect_decs(sesp_delta_table *t, const char *want, const char *when)
{
    char *got = scan_decs(t);
    if (strcmp(got, want) && !strstr(got, want)) {
        fprintf(stderr, "\n%s:\n got  %s\n want %s\n", when, got, want);
        CU_FAIL("decimal values");
    }
    free(got);
}

/* Every byte of a data file is untrusted: its scale decides the conversion,
 * so a scale above the table's (also an absurd one a BYTE_ARRAY allows), or
 * a column that is no decimal, is refused with a message; values the
 * rescaling would take past the table's precision (or past 128 bits) read
 * as null, never as a wrapped number. */
static void test_decimal_foreign_files(void)
{
    char uri[300];
    sesp_delta_table *t = open_table(uri, sizeof(uri));
    CU_ASSERT_FATAL(sesp_delta_table_create(t, "{\"type\":\"struct\",\"fields\":[{\"name\":\"dec\",\"type\":\"decimal(10,4)\",\"nullable\":true,\"metadata\":{}}]}",
                                            NULL, 0, NULL, NULL) == 0);
    /* INT32 DECIMAL(9,2): rescaled by 100; 999999999 would need 11 digits */
    sesp_pq_logical lt = sesp_pq_lt_decimal(9, 2);
    sesp_pq_value v1[] = {sesp_pqv_i32(12345), sesp_pqv_i32(-1), sesp_pqv_null(), sesp_pqv_i32(999999999)};
    add_crafted_file(t, "a.parquet", SESP_PQ_INT32, &lt, 0, v1, 4);
    expect_decs(t, "[\"123.4500\",\"-0.0100\",null,null]", "INT32 decimal(9,2)");
    /* plain INT64 (a long column before a change to decimal): scale 0 */
    sesp_pq_value v2[] = {sesp_pqv_i64(5), sesp_pqv_i64(-999999), sesp_pqv_i64(INT64_MAX), sesp_pqv_i64(INT64_MIN)};
    add_crafted_file(t, "b.parquet", SESP_PQ_INT64, NULL, 0, v2, 4);
    expect_decs(t, "[\"123.4500\",\"-0.0100\",null,null,\"5.0000\",\"-999999.0000\",null,null]", "plain INT64");
    /* FIXED(16) DECIMAL(38,0): 10^37 * 10^4 would pass 2^127 */
    uint8_t big[16], one[16];
    lt = sesp_pq_lt_decimal(38, 0);
    memset(big, 0, sizeof(big));
    memset(one, 0xFF, sizeof(one));   /* -1 */
    /* 10^37 = 0x0785EE10D5DA46D900F436A000000000 */
    const uint8_t e37[16] = {0x07, 0x85, 0xEE, 0x10, 0xD5, 0xDA, 0x46, 0xD9, 0x00, 0xF4, 0x36, 0xA0, 0x00, 0x00, 0x00, 0x00};
    memcpy(big, e37, sizeof(big));
    sesp_pq_value v3[] = {sesp_pqv_bytes(big, 16), sesp_pqv_bytes(one, 16)};
    add_crafted_file(t, "c.parquet", SESP_PQ_FIXED_LEN_BYTE_ARRAY, &lt, 16, v3, 2);
    expect_decs(t, "null,\"-1.0000\"]", "FIXED decimal(38,0)");
    /* BYTE_ARRAY DECIMAL(100,50): a scale no decimal(10,4) column came from */
    lt = sesp_pq_lt_decimal(100, 50);
    sesp_pq_value v4[] = {sesp_pqv_bytes(one, 1)};
    add_crafted_file(t, "d.parquet", SESP_PQ_BYTE_ARRAY, &lt, 0, v4, 1);
    expect_decs(t, "data file d.parquet: column dec: the file holds decimals of scale 50, above the column's decimal(10,4)", "scale 50");
    char err[256];
    int64_t v;
    sesp_delta_action rm = {.kind = SESP_DA_REMOVE, .u.remove = {.path = "d.parquet", .has_deletion_timestamp = true, .deletion_timestamp = 2, .data_change = true}};
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_commit(sesp_delta_table_store(t), s->version, &rm, 1, NULL, "DELETE", NULL, &v, err, sizeof(err)), 0);
    sesp_delta_snapshot_free(s);
    /* a string column where the table has a decimal */
    sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING);
    sesp_pq_value v5[] = {sesp_pqv_bytes("12", 2)};
    add_crafted_file(t, "e.parquet", SESP_PQ_BYTE_ARRAY, &str, 0, v5, 1);
    expect_decs(t, "data file e.parquet: column dec: the file's column is not a decimal or an integer", "a string column");
    sesp_delta_table_close(t);
}

/* MERGE keys compare exactly: two longs past 2^53 (one double) stay two
 * keys; an equal one is still matched. */
static void test_merge_long_keys(void)
{
    char uri[512];
    sesp_delta_table *t = open_table(uri, sizeof(uri));
    CU_ASSERT_FATAL(sesp_delta_table_create(t, "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,"
                                               "\"metadata\":{}},{\"name\":\"v\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}",
                                            NULL, 0, NULL, NULL) == 0);
    CU_ASSERT_EQUAL_FATAL(append(t, "[{\"id\":9007199254740992,\"v\":\"a\"},{\"id\":1,\"v\":\"b\"}]"), 1);
    json_t *rows = json_loads("[{\"id\":9007199254740993,\"v\":\"c\"},{\"id\":1,\"v\":\"d\"}]", 0, NULL);
    const char *key[] = {"id"};
    sesp_delta_result r;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_merge(t, rows, key, 1, &r), 0);
    json_decref(rows);
    expect_ids(t, -1, "{'9007199254740992':{'id':9007199254740992,'v':'a'},'9007199254740993':{'id':9007199254740993,'v':'c'},"
                      "'1':{'id':1,'v':'d'}}", "after a merge on long keys");
    sesp_delta_table_close(t);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/sesp-delta-widening-test-%d", (int)getpid());
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("delta_widening", NULL, NULL);
    CU_add_test(su, "rules", test_rules);
    CU_add_test(su, "merge", test_merge);
    CU_add_test(su, "fit", test_fit);
    CU_add_test(su, "check_changes", test_check_changes);
    CU_add_test(su, "append_widens", test_append_widens);
    CU_add_test(su, "rewrites", test_rewrites);
    CU_add_test(su, "refused_without_property", test_refused_without_property);
    CU_add_test(su, "protocol_upgrade", test_protocol_upgrade);
    CU_add_test(su, "reader_refusals", test_reader_refusals);
    CU_add_test(su, "merge_long_keys", test_merge_long_keys);
    CU_add_test(su, "decimal_scale", test_decimal_scale);
    CU_add_test(su, "decimal_scale_refusals", test_decimal_scale_refusals);
    CU_add_test(su, "decimal_foreign_files", test_decimal_foreign_files);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd)) {}
    return fails ? 1 : 0;
}
