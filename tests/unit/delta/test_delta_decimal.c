/* Unit tests of Delta decimals of every precision up to 38 (lakehouse/delta
 * decimal.c and its users): the Parquet width per precision, the big-endian
 * two's complement bytes both ways (padding and sign extension as other
 * writers produce them), exact parsing of every JSON input form with the
 * refusals (too many digits, too much scale, not a number), the physical
 * type each precision is written as, a table round trip of decimal(38,18)
 * and decimal(20,0) values (extremes, negatives, nulls, nested in structs,
 * arrays and maps), errors naming the column, and type widening across
 * precision 18 (old INT64 files read into a FIXED column); and the CLI's
 * exact number literals (lakehouse/cli/json_numbers.c). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/delta/delta.h"
#include "lakehouse/delta/delta_impl.h"
#include "lakehouse/cli/json_numbers.h"

static char root[256];
static int table_seq;

/* ---- the helpers of decimal.c ---- */

static void test_width(void)
{
    /* Spark's table (Decimal.minBytesForPrecision) */
    static const int want[39] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9,
                                 9, 9, 10, 10, 11, 11, 11, 12, 12, 13, 13, 13, 14, 14, 15, 15, 16, 16, 16};
    for (int p = 1; p <= 38; p++) CU_ASSERT_EQUAL(sesp_delta_decimal_width(p), want[p]);
    CU_ASSERT_EQUAL(sesp_delta_decimal_width(0), 0);
    CU_ASSERT_EQUAL(sesp_delta_decimal_width(39), 0);
}

static sesp_delta_dec pow10d(int n)
{
    sesp_delta_dec x = 1;
    for (int i = 0; i < n; i++) x *= 10;
    return x;
}

static void test_bytes(void)
{
    uint8_t b[16];
    sesp_delta_dec x, max38 = pow10d(38) - 1;
    sesp_delta_decimal_to_be(-1, b, 9);
    for (int i = 0; i < 9; i++) CU_ASSERT_EQUAL(b[i], 0xFF);
    CU_ASSERT(sesp_delta_decimal_from_be(b, 9, &x) && x == -1);
    sesp_delta_decimal_to_be(max38, b, 16);
    CU_ASSERT_EQUAL(b[0], 0x4B);   /* 10^38 - 1 = 0x4B3B4CA85A86C47A098A223FFFFFFFFF */
    CU_ASSERT_EQUAL(b[15], 0xFF);
    CU_ASSERT(sesp_delta_decimal_from_be(b, 16, &x) && x == max38);
    sesp_delta_decimal_to_be(-max38, b, 16);
    CU_ASSERT(sesp_delta_decimal_from_be(b, 16, &x) && x == -max38);
    /* 256 in two bytes, -256 in two */
    const uint8_t p256[2] = {0x01, 0x00}, m256[2] = {0xFF, 0x00};
    CU_ASSERT(sesp_delta_decimal_from_be(p256, 2, &x) && x == 256);
    CU_ASSERT(sesp_delta_decimal_from_be(m256, 2, &x) && x == -256);
    /* longer than 16 bytes: only sign extension is accepted */
    uint8_t wide[20] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE};
    CU_ASSERT(sesp_delta_decimal_from_be(wide, 20, &x) && x == -2);
    wide[0] = 0x7F;
    CU_ASSERT(!sesp_delta_decimal_from_be(wide, 20, &x));
    CU_ASSERT(!sesp_delta_decimal_from_be(wide, 0, &x));
    CU_ASSERT(sesp_delta_decimal_fits(max38, 38));
    CU_ASSERT(!sesp_delta_decimal_fits(pow10d(20), 20));
    CU_ASSERT(sesp_delta_decimal_fits(-(pow10d(20) - 1), 20));
}

/* v parsed at (p, s) and printed back: the text, or "refused". */
static void expect_parse(const char *json, int p, int s, const char *want)
{
    json_error_t je;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    sesp_delta_dec x;
    char got[SESP_DELTA_DEC_TEXT] = "refused";
    if (sesp_delta_json_to_decimal(v, p, s, &x)) sesp_delta_decimal_text(x, s, got, sizeof(got));
    if (strcmp(got, want)) {
        fprintf(stderr, "\nparse %s at (%d,%d): got %s, want %s\n", json, p, s, got, want);
        CU_FAIL("parse");
    }
    json_decref(v);
}

static void test_parse(void)
{
    expect_parse("\"12345678901234567890.123456789012345678\"", 38, 18, "12345678901234567890.123456789012345678");
    expect_parse("\"-99999999999999999999999999999999999999\"", 38, 0, "-99999999999999999999999999999999999999");
    expect_parse("\"100000000000000000000000000000000000000\"", 38, 0, "refused");   /* 39 digits */
    expect_parse("\"0.00000000000000000000000000000000000001\"", 38, 38, "0.00000000000000000000000000000000000001");
    expect_parse("\"-0.00000000000000000000000000000000000001\"", 38, 37, "refused");  /* would round */
    expect_parse("\"1.50\"", 20, 1, "1.5");                /* trailing zeros past the scale are no rounding */
    expect_parse("\"1.55\"", 20, 1, "refused");
    expect_parse("\"+007.25\"", 20, 3, "7.250");
    expect_parse("\"1e3\"", 20, 2, "1000.00");
    expect_parse("\"-12.5E-2\"", 20, 3, "-0.125");
    expect_parse("\"0\"", 38, 18, "0.000000000000000000");
    expect_parse("\"-0.0\"", 20, 2, "0.00");
    expect_parse("\"99999999999999999999\"", 20, 0, "99999999999999999999");
    expect_parse("\"99999999999999999999\"", 20, 1, "refused");   /* 21 digits at scale 1 */
    /* JSON numbers: integers exact, reals as the shortest text of the double
     * (0.1 stays 0.1 at scale 18, where printing the double would not) */
    expect_parse("9223372036854775807", 38, 10, "9223372036854775807.0000000000");
    expect_parse("-9223372036854775808", 19, 0, "-9223372036854775808");
    expect_parse("0.1", 38, 18, "0.100000000000000000");
    expect_parse("-123.456", 20, 5, "-123.45600");
    expect_parse("1.5e20", 38, 0, "150000000000000000000");
    expect_parse("true", 20, 2, "refused");
    expect_parse("\"1.2.3\"", 20, 2, "refused");
    expect_parse("\"\"", 20, 2, "refused");
    expect_parse("\"-\"", 20, 2, "refused");
    expect_parse("\"1e\"", 20, 2, "refused");
    expect_parse("\"1e99999999999\"", 38, 0, "refused");
    expect_parse("\"0e99999999999\"", 38, 0, "0");
    expect_parse("\" 1\"", 20, 2, "refused");
}

static void test_digits(void)
{
    int ip, fp;
    json_t *v = json_string("-00123.4500");
    CU_ASSERT(sesp_delta_decimal_digits(v, &ip, &fp) && ip == 3 && fp == 2);
    json_decref(v);
    v = json_string("12345678901234567890123456789.5");
    CU_ASSERT(sesp_delta_decimal_digits(v, &ip, &fp) && ip == 29 && fp == 1);
    json_decref(v);
    v = json_string("0.0001");
    CU_ASSERT(sesp_delta_decimal_digits(v, &ip, &fp) && ip == 0 && fp == 4);
    json_decref(v);
    v = json_real(1e21);
    CU_ASSERT(sesp_delta_decimal_digits(v, &ip, &fp) && ip == 22 && fp == 0);
    json_decref(v);
}

/* ---- tables ---- */

static sesp_delta_table *new_table(const char *schema_q, bool widening)
{
    char uri[300];
    snprintf(uri, sizeof(uri), "file://%s/t%d", root, ++table_seq);
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    sesp_delta_table *t = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
    char *sj = strdup(schema_q);
    for (char *p = sj; *p; p++)
        if (*p == '\'') *p = '"';
    sesp_delta_kv kv[1] = {{"delta.enableTypeWidening", "true"}};
    sesp_delta_map cfg = {kv, widening ? 1 : 0};
    int rc = sesp_delta_table_create(t, sj, NULL, 0, &cfg, "t");
    if (rc) fprintf(stderr, "\ncreate: %s\n", sesp_delta_table_error(t));
    CU_ASSERT_FATAL(rc == 0);
    free(sj);
    return t;
}

static int append(sesp_delta_table *t, const char *rows_q)
{
    char *rj = strdup(rows_q);
    for (char *p = rj; *p; p++)
        if (*p == '\'') *p = '"';
    json_t *rows = json_loads(rj, 0, NULL);
    free(rj);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    sesp_delta_result r;
    int rc = sesp_delta_table_append(t, rows, NULL, &r);
    json_decref(rows);
    return rc;
}

static int collect(void *ud, const json_t *row)
{
    json_array_append((json_t *)ud, (json_t *)row);
    return 0;
}

/* The rows of t ordered by the integer column id, as compact JSON. */
static char *scan_sorted(sesp_delta_table *t)
{
    sesp_delta_snapshot *s = NULL;
    if (sesp_delta_table_snapshot(t, -1, &s)) return strdup(sesp_delta_table_error(t));
    json_t *all = json_array();
    int rc = sesp_delta_table_scan(t, s, collect, all);
    sesp_delta_snapshot_free(s);
    json_t *by = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        char k[32];
        snprintf(k, sizeof(k), "%03lld", (long long)json_integer_value(json_object_get(r, "id")));
        json_object_set(by, k, r);
    }
    char *out = rc ? strdup(sesp_delta_table_error(t)) : json_dumps(by, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    json_decref(by);
    return out;
}

static void expect_scan(sesp_delta_table *t, const char *want_q, const char *when)
{
    char *want = strdup(want_q);
    for (char *p = want; *p; p++)
        if (*p == '\'') *p = '"';
    char *got = scan_sorted(t);
    if (strcmp(got, want)) {
        fprintf(stderr, "\n%s:\n got  %s\n want %s\n", when, got, want);
        CU_FAIL("scan");
    }
    free(got);
    free(want);
}

static const char *WIDE_SCHEMA =
    "{'type':'struct','fields':["
    "{'name':'id','type':'integer','nullable':false,'metadata':{}},"
    "{'name':'d','type':'decimal(38,18)','nullable':true,'metadata':{}},"
    "{'name':'e','type':'decimal(20,0)','nullable':true,'metadata':{}},"
    "{'name':'s','type':{'type':'struct','fields':[{'name':'x','type':'decimal(38,10)','nullable':true,'metadata':{}}]},'nullable':true,'metadata':{}},"
    "{'name':'a','type':{'type':'array','elementType':'decimal(25,5)','containsNull':true},'nullable':true,'metadata':{}},"
    "{'name':'m','type':{'type':'map','keyType':'string','valueType':'decimal(19,19)','valueContainsNull':true},'nullable':true,'metadata':{}}]}";

static void test_roundtrip(void)
{
    sesp_delta_table *t = new_table(WIDE_SCHEMA, false);
    CU_ASSERT_EQUAL(append(t, "[{'id':1,'d':'99999999999999999999.999999999999999999','e':'99999999999999999999',"
                              "'s':{'x':'9999999999999999999999999999.9999999999'},'a':['-99999999999999999999.99999',null,'0.5'],"
                              "'m':{'k':'0.9999999999999999999','n':null}},"
                              "{'id':2,'d':'-99999999999999999999.999999999999999999','e':'-99999999999999999999',"
                              "'s':{'x':'-9999999999999999999999999999.9999999999'},'a':[],'m':{'k':'-0.0000000000000000001'}},"
                              "{'id':3,'d':null,'e':null,'s':{'x':null},'a':null,'m':null},"
                              "{'id':4,'d':0.1,'e':-1,'s':null,'a':[1],'m':{}},"
                              "{'id':5,'d':'-0.000000000000000001','e':9223372036854775807}]"), 0);
    expect_scan(t, "{'001':{'a':['-99999999999999999999.99999',null,'0.50000'],'d':'99999999999999999999.999999999999999999',"
                   "'e':'99999999999999999999','id':1,'m':{'k':'0.9999999999999999999','n':null},"
                   "'s':{'x':'9999999999999999999999999999.9999999999'}},"
                   "'002':{'a':[],'d':'-99999999999999999999.999999999999999999','e':'-99999999999999999999','id':2,"
                   "'m':{'k':'-0.0000000000000000001'},'s':{'x':'-9999999999999999999999999999.9999999999'}},"
                   "'003':{'a':null,'d':null,'e':null,'id':3,'m':null,'s':{'x':null}},"
                   "'004':{'a':['1.00000'],'d':'0.100000000000000000','e':'-1','id':4,'m':{},'s':null},"
                   "'005':{'a':null,'d':'-0.000000000000000001','e':'9223372036854775807','id':5,'m':null,'s':null}}",
                "decimal(38,18) and friends");
    sesp_delta_table_close(t);
}

static void expect_refused(sesp_delta_table *t, const char *rows_q, const char *needle)
{
    int rc = append(t, rows_q);
    CU_ASSERT_EQUAL(rc, SESP_ERR_INVALID_ARG);
    if (!strstr(sesp_delta_table_error(t), needle)) {
        fprintf(stderr, "\n%s: error %s lacks %s\n", rows_q, sesp_delta_table_error(t), needle);
        CU_FAIL("error text");
    }
}

static void test_refusals(void)
{
    sesp_delta_table *t = new_table(WIDE_SCHEMA, false);
    expect_refused(t, "[{'id':1,'e':'100000000000000000000'}]", "column e: cannot write decimal(21,0) into a decimal(20,0) column");
    expect_refused(t, "[{'id':1,'d':'1.0000000000000000001'}]", "column d: not a decimal that fits decimal(38,18)");
    expect_refused(t, "[{'id':1,'s':{'x':'12345678901234567890123456789'}}]", "column s.x: not a decimal that fits decimal(38,10)");
    expect_refused(t, "[{'id':1,'e':'abc'}]", "column e: not a decimal");
    expect_refused(t, "[{'id':1,'e':true}]", "column e: not a decimal");
    sesp_delta_table_close(t);
}

/* Type widening from INT64 (decimal(18,2)) to FIXED (decimal(20,2)) and on
 * to decimal(38,2): files of every width read into the widest type. */
static void test_widening(void)
{
    sesp_delta_table *t = new_table("{'type':'struct','fields':[{'name':'id','type':'integer','nullable':false,'metadata':{}},"
                                    "{'name':'d','type':'decimal(18,2)','nullable':true,'metadata':{}}]}", true);
    CU_ASSERT_EQUAL(append(t, "[{'id':1,'d':'-9999999999999999.99'}]"), 0);
    CU_ASSERT_EQUAL(append(t, "[{'id':2,'d':'-123456789012345678.5'}]"), 0);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_snapshot(t, -1, &s), 0);
    const sesp_delta_field *f = sesp_delta_struct_field(s->schema, "d");
    CU_ASSERT(f->type->kind == SESP_DT_DECIMAL && f->type->precision == 20 && f->type->scale == 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->metadata, "\"fromType\":\"decimal(18,2)\",\"toType\":\"decimal(20,2)\""));
    sesp_delta_snapshot_free(s);
    CU_ASSERT_EQUAL(append(t, "[{'id':3,'d':'123456789012345678901234567890123456.01'}]"), 0);
    expect_scan(t, "{'001':{'d':'-9999999999999999.99','id':1},'002':{'d':'-123456789012345678.50','id':2},"
                   "'003':{'d':'123456789012345678901234567890123456.01','id':3}}", "after widening to 38");
    /* beyond 38 digits nothing widens: the write is refused */
    expect_refused(t, "[{'id':4,'d':'1234567890123456789012345678901234567'}]", "column d: not a decimal that fits decimal(38,2)");
    sesp_delta_table_close(t);

    /* long -> decimal(20,0), recorded and readable from the INT64 file */
    sesp_delta_type *from = NULL, *to = NULL;
    char err[128];
    const char *fj = "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\",\"nullable\":true}]}";
    const char *tj = "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"decimal(20,0)\",\"nullable\":true}]}";
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_parse(fj, strlen(fj), &from, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_parse(tj, strlen(tj), &to, err, sizeof(err)), 0);
    CU_ASSERT(sesp_delta_type_widens(from->fields[0].type, to->fields[0].type));
    sesp_delta_type_free(from);
    sesp_delta_type_free(to);
}

/* ---- sesp table input: number literals jansson cannot hold ---- */

/* line marked and parsed, resolved against schema_q (NULL: no table): the row as compact JSON */
static char *marked_row(const char *line, const char *schema_q)
{
    char *m = NULL;
    size_t mlen = 0;
    CU_ASSERT_EQUAL_FATAL(sesp_tcli_mark_numbers(line, strlen(line), &m, &mlen), 0);
    json_t *row = m ? json_loadb(m, mlen, JSON_ALLOW_NUL, NULL) : json_loads(line, 0, NULL);
    free(m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(row);
    sesp_delta_type *schema = NULL;
    if (schema_q) {
        char *sj = strdup(schema_q), err[128];
        for (char *p = sj; *p; p++)
            if (*p == '\'') *p = '"';
        CU_ASSERT_EQUAL_FATAL(sesp_delta_schema_parse(sj, strlen(sj), &schema, err, sizeof(err)), 0);
        free(sj);
    }
    CU_ASSERT_EQUAL(sesp_tcli_resolve_numbers(row, schema), 0);
    sesp_delta_type_free(schema);
    char *out = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(row);
    return out;
}

static void expect_marked(const char *line, const char *schema_q, const char *want)
{
    char *got = marked_row(line, schema_q);
    if (strcmp(got, want)) {
        fprintf(stderr, "\nmark %s: got %s, want %s\n", line, got, want);
        CU_FAIL("marked row");
    }
    free(got);
}

static void test_cli_numbers(void)
{
    const char *sc = "{'type':'struct','fields':[{'name':'d','type':'decimal(38,18)','nullable':true,'metadata':{}},"
                     "{'name':'f','type':'double','nullable':true,'metadata':{}},"
                     "{'name':'a','type':{'type':'array','elementType':'decimal(30,20)','containsNull':true},'nullable':true,'metadata':{}},"
                     "{'name':'s','type':{'type':'struct','fields':[{'name':'x','type':'decimal(38,0)','nullable':true,'metadata':{}}]},'nullable':true,'metadata':{}},"
                     "{'name':'m','type':{'type':'map','keyType':'string','valueType':'decimal(38,2)','valueContainsNull':true},'nullable':true,'metadata':{}}]}";
    /* exact in jansson: untouched, nothing rewritten */
    char *m = NULL;
    size_t ml = 0;
    const char *plain = "{\"d\":0.1,\"f\":-9223372036854775808,\"g\":0.30000000000000004,\"s\":\"12345678901234567890123\"}";
    CU_ASSERT_EQUAL(sesp_tcli_mark_numbers(plain, strlen(plain), &m, &ml), 0);
    CU_ASSERT_PTR_NULL(m);
    /* decimal columns get the literal, at any depth; others a double */
    expect_marked("{\"d\":12345678901234567890.123456789012345678,\"f\":3.14159265358979323846,\"a\":[1.00000000000000000001,-2],"
                  "\"s\":{\"x\":-99999999999999999999999999999999999999},\"m\":{\"k\":123456789012345678901234567890.25}}", sc,
                  "{\"d\":\"12345678901234567890.123456789012345678\",\"f\":3.1415926535897931,\"a\":[\"1.00000000000000000001\",-2],"
                  "\"s\":{\"x\":\"-99999999999999999999999999999999999999\"},\"m\":{\"k\":\"123456789012345678901234567890.25\"}}");
    /* no table (or a column it lacks): doubles, as jansson would give */
    expect_marked("{\"n\":18446744073709551616,\"d\":1.00000000000000000001}", NULL, "{\"n\":1.8446744073709552e19,\"d\":1.0}");
    expect_marked("{\"new\":18446744073709551616}", sc, "{\"new\":1.8446744073709552e19}");
    /* beyond a double: the literal as text, refused by the column's check */
    expect_marked("{\"f\":1e999}", sc, "{\"f\":\"1e999\"}");
    /* exponents far beyond a long: no overflow while comparing (UBSan), and
     * the literal still reaches a decimal column as written */
    expect_marked("{\"d\":1.50e-99999999999999999999999,\"f\":1.50e-99999999999999999999999}", sc,
                  "{\"d\":\"1.50e-99999999999999999999999\",\"f\":0.0}");
    /* strings are never touched, nor numbers inside them */
    expect_marked("{\"q\":\"a \\\" 1.00000000000000000001\",\"d\":1.00000000000000000001}", sc,
                  "{\"q\":\"a \\\" 1.00000000000000000001\",\"d\":\"1.00000000000000000001\"}");
    /* not JSON numbers: left for jansson to refuse */
    const char *bad[] = {"{\"f\":1.00000000000000000001-3}", "{\"f\":012345678901234567890123}", "{\"f\":1.e5}",
                         "{\"f\":-}", "{\"f\":123456789012345678901234e}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(sesp_tcli_mark_numbers(bad[i], strlen(bad[i]), &m, &ml), 0);
        CU_ASSERT_PTR_NULL(m);
        free(m);
    }
    /* a NUL of the input's own would pass for a marker */
    const char *nul = "{\"q\":\"\\u0000\",\"d\":1.00000000000000000001}";
    CU_ASSERT_EQUAL(sesp_tcli_mark_numbers(nul, strlen(nul), &m, &ml), SESP_ERR_INVALID_ARG);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/sesp_delta_decimal_%d", (int)getpid());
    if (CU_initialize_registry() != CUE_SUCCESS) return CU_get_error();
    CU_pSuite su = CU_add_suite("delta_decimal", NULL, NULL);
    CU_add_test(su, "width", test_width);
    CU_add_test(su, "bytes", test_bytes);
    CU_add_test(su, "parse", test_parse);
    CU_add_test(su, "digits", test_digits);
    CU_add_test(su, "roundtrip", test_roundtrip);
    CU_add_test(su, "refusals", test_refusals);
    CU_add_test(su, "widening", test_widening);
    CU_add_test(su, "cli_numbers", test_cli_numbers);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd)) {}
    return fails ? 1 : 0;
}
