/* Unit tests of the per-file stats of add actions (lakehouse/delta/stats.c),
 * through the public API: a table is written and the add action's stats read
 * back.  Per type: timestamp and timestamp_ntz at millisecond precision with
 * the max rounded up (sub-millisecond values, offsets, before 1970, across
 * a day, outside 0001-9999), decimals compared exactly (negative, 18 digits
 * that doubles cannot tell apart, 38 digits as 128-bit values), strings cut to a prefix of code points
 * with a max that stays an upper bound (multi-byte UTF-8, U+FFFF and
 * U+10FFFF, the table property), integers beyond 2^53, dates, floats as
 * stored; no bounds for boolean, binary and all-null columns but a nullCount
 * for every leaf; partition columns left out; and the stats text surviving
 * checkpoints and OPTIMIZE. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/delta/delta.h"

static char root[256];
static int table_seq;

/* Test JSON is written with ' for " (none of it needs a literal '). */
static char *dq(const char *s)
{
    char *o = strdup(s);
    for (char *p = o; *p; p++)
        if (*p == '\'') *p = '"';
    return o;
}

/* fields: "name:type;name:type" for primitives, or a single-quoted JSON
 * array of struct fields. */
static char *schema_json(const char *fields)
{
    if (fields[0] == '[') {
        char *f = dq(fields), *out = NULL;
        if (asprintf(&out, "{\"type\":\"struct\",\"fields\":%s}", f) < 0) out = NULL;
        free(f);
        return out;
    }
    json_t *arr = json_array();
    char *copy = strdup(fields), *save = NULL;
    for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *colon = strchr(tok, ':');
        *colon = 0;
        json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:{}}", "name", tok, "type", colon + 1, "nullable", 1, "metadata"));
    }
    free(copy);
    json_t *st = json_pack("{s:s,s:o}", "type", "struct", "fields", arr);
    char *out = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    return out;
}

static sesp_delta_table *new_table(const char *fields, const char *part, const char *cfg_key, const char *cfg_val)
{
    char uri[300];
    snprintf(uri, sizeof(uri), "file://%s/t%d", root, ++table_seq);
    sesp_delta_table_opts o = {0};
    o.store.local_no_fsync = true;
    sesp_delta_table *t = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, &o, &t) == 0);
    sesp_delta_kv kv[1] = {{cfg_key, cfg_val}};
    sesp_delta_map cfg = {kv, cfg_key ? 1 : 0};
    char *sj = schema_json(fields);
    int rc = sesp_delta_table_create(t, sj, part ? &part : NULL, part ? 1 : 0, &cfg, "t");
    if (rc) fprintf(stderr, "\ncreate: %s\n", sesp_delta_table_error(t));
    CU_ASSERT_FATAL(rc == 0);
    free(sj);
    return t;
}

static void append(sesp_delta_table *t, const char *rows_q)
{
    char *rj = dq(rows_q);
    json_t *rows = json_loads(rj, JSON_ALLOW_NUL, NULL);
    free(rj);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    sesp_delta_result r;
    int rc = sesp_delta_table_append(t, rows, NULL, &r);
    if (rc) fprintf(stderr, "\nappend: %s\n", sesp_delta_table_error(t));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    json_decref(rows);
}

/* The stats text of the only data file of t (malloc'ed). */
static char *only_stats(sesp_delta_table *t)
{
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_snapshot(t, -1, &s) == 0);
    CU_ASSERT_EQUAL_FATAL(s->nfiles, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->files[0]->stats);
    char *st = strdup(s->files[0]->stats);
    sesp_delta_snapshot_free(s);
    return st;
}

/* One table, one append: the file's stats.  cfg_val sets the string prefix. */
static char *stats_for(const char *fields, const char *rows_q, const char *prefix)
{
    sesp_delta_table *t = new_table(fields, NULL, prefix ? "delta.dataSkippingStringPrefixLength" : NULL, prefix);
    append(t, rows_q);
    char *st = only_stats(t);
    sesp_delta_table_close(t);
    return st;
}

/* The text of object member sec ("minValues" ...) of the stats, braces
 * included (malloc'ed, "" when absent). */
static char *section(const char *stats, const char *sec)
{
    char key[64];
    snprintf(key, sizeof(key), "\"%s\":{", sec);
    const char *p = strstr(stats, key);
    if (!p) return strdup("");
    p += strlen(key) - 1;
    int depth = 0;
    bool in_str = false;
    const char *q = p;
    for (; *q; q++) {
        if (in_str) {
            if (*q == '\\') q++;
            else if (*q == '"') in_str = false;
            continue;
        }
        if (*q == '"') in_str = true;
        else if (*q == '{') depth++;
        else if (*q == '}' && --depth == 0) break;
    }
    return strndup(p, (size_t)(q - p + 1));
}

/* Whether section sec of stats has the member text (single-quoted, e.g.
 * "'a':1"), as a whole member. */
static bool has(const char *stats, const char *sec, const char *member_q)
{
    char *s = section(stats, sec), *m = dq(member_q);
    bool found = false;
    size_t ml = strlen(m);
    for (const char *p = strstr(s, m); p && !found; p = strstr(p + 1, m))
        found = p > s && (p[-1] == '{' || p[-1] == ',') && (p[ml] == ',' || p[ml] == '}');
    if (!found) fprintf(stderr, "\n%s has no %s: %s\n", sec, m, s);
    free(s);
    free(m);
    return found;
}

/* Whether section sec names column col at all (single-quoted key). */
static bool names(const char *stats, const char *sec, const char *col)
{
    char *s = section(stats, sec), *k = NULL;
    if (asprintf(&k, "\"%s\":", col) < 0) k = NULL;
    bool found = k && strstr(s, k);
    free(s);
    free(k);
    return found;
}

/* ---- timestamps ---- */

static void test_timestamps(void)
{
    char *st = stats_for("ts:timestamp;ntz:timestamp_ntz",
                         "[{'ts':'2024-01-02T03:04:05.123456Z','ntz':'2024-01-02T03:04:05.123456'},"
                         " {'ts':'2024-01-02T03:04:05.100Z','ntz':'2024-01-02 03:04:05.1'}]", NULL);
    /* min truncated down, max rounded up to the next millisecond */
    CU_ASSERT(has(st, "minValues", "'ts':'2024-01-02T03:04:05.100Z'"));
    CU_ASSERT(has(st, "maxValues", "'ts':'2024-01-02T03:04:05.124Z'"));
    CU_ASSERT(has(st, "minValues", "'ntz':'2024-01-02T03:04:05.100'"));
    CU_ASSERT(has(st, "maxValues", "'ntz':'2024-01-02T03:04:05.124'"));
    CU_ASSERT(has(st, "nullCount", "'ts':0"));
    free(st);

    /* a whole millisecond is its own bound */
    st = stats_for("ts:timestamp", "[{'ts':'2024-01-02T03:04:05.123Z'}]", NULL);
    CU_ASSERT(has(st, "minValues", "'ts':'2024-01-02T03:04:05.123Z'"));
    CU_ASSERT(has(st, "maxValues", "'ts':'2024-01-02T03:04:05.123Z'"));
    free(st);

    /* compared as instants, not as text: 10:00+05:00 is 05:00Z, before 06:00Z;
     * microseconds since the epoch are accepted as the writer accepts them */
    st = stats_for("ts:timestamp",
                   "[{'ts':'2024-01-02T10:00:00+05:00'},{'ts':'2024-01-02T06:00:00Z'},{'ts':1704171600000001},{'ts':null}]", NULL);
    CU_ASSERT(has(st, "minValues", "'ts':'2024-01-02T05:00:00.000Z'"));
    CU_ASSERT(has(st, "maxValues", "'ts':'2024-01-02T06:00:00.000Z'"));   /* 1704171600000001 is 05:00:00.000001Z */
    CU_ASSERT(has(st, "nullCount", "'ts':1"));
    free(st);

    /* before 1970 (negative microseconds) and across midnight of a new year */
    st = stats_for("ts:timestamp;ntz:timestamp_ntz", "[{'ts':-1,'ntz':'2024-12-31T23:59:59.999001'}]", NULL);
    CU_ASSERT(has(st, "minValues", "'ts':'1969-12-31T23:59:59.999Z'"));
    CU_ASSERT(has(st, "maxValues", "'ts':'1970-01-01T00:00:00.000Z'"));
    CU_ASSERT(has(st, "minValues", "'ntz':'2024-12-31T23:59:59.999'"));
    CU_ASSERT(has(st, "maxValues", "'ntz':'2025-01-01T00:00:00.000'"));
    free(st);

    /* years outside 0001-9999 have no four-digit form: no bounds, still a nullCount */
    st = stats_for("ts:timestamp;ntz:timestamp_ntz", "[{'ts':'10000-01-01T00:00:00Z','ntz':-9223372036854775807}]", NULL);
    CU_ASSERT(!names(st, "minValues", "ts"));
    CU_ASSERT(!names(st, "maxValues", "ts"));
    CU_ASSERT(!names(st, "minValues", "ntz"));
    CU_ASSERT(!names(st, "maxValues", "ntz"));
    CU_ASSERT(has(st, "nullCount", "'ts':0"));
    free(st);

    /* only the max needs to round: one that would leave 9999 is dropped alone */
    st = stats_for("ts:timestamp", "[{'ts':'9999-12-31T23:59:59.9999Z'}]", NULL);
    CU_ASSERT(has(st, "minValues", "'ts':'9999-12-31T23:59:59.999Z'"));
    CU_ASSERT(!names(st, "maxValues", "ts"));
    free(st);
}

/* ---- decimals ---- */

static void test_decimals(void)
{
    /* 18 digits: as doubles .9998 and .9999 are the same number */
    char *st = stats_for("d:decimal(18,4)",
                         "[{'d':'99999999999999.9998'},{'d':'-99999999999999.9999'},{'d':'99999999999999.9999'},{'d':null}]", NULL);
    CU_ASSERT(has(st, "minValues", "'d':-99999999999999.9999"));
    CU_ASSERT(has(st, "maxValues", "'d':99999999999999.9999"));
    CU_ASSERT(has(st, "nullCount", "'d':1"));
    free(st);

    /* negatives, every input form the writer accepts, the column's scale */
    st = stats_for("d:decimal(5,2)", "[{'d':'-1.5'},{'d':-0.05},{'d':'-12'},{'d':-3}]", NULL);
    CU_ASSERT(has(st, "minValues", "'d':-12.00"));
    CU_ASSERT(has(st, "maxValues", "'d':-0.05"));
    free(st);

    st = stats_for("d:decimal(9,0);e:decimal(10,3)", "[{'d':'7','e':'0.001'},{'d':-123456789,'e':'-9999999.999'}]", NULL);
    CU_ASSERT(has(st, "minValues", "'d':-123456789"));
    CU_ASSERT(has(st, "maxValues", "'d':7"));
    CU_ASSERT(has(st, "minValues", "'e':-9999999.999"));
    CU_ASSERT(has(st, "maxValues", "'e':0.001"));
    free(st);

    /* 38 digits: the bounds are the exact 128-bit values, the extremes of
     * the precision included, compared as signed numbers */
    st = stats_for("d:decimal(38,18);e:decimal(20,0)",
                   "[{'d':'12345678901234567890.123456789012345678','e':'-99999999999999999999'},"
                   "{'d':'-99999999999999999999.999999999999999999','e':'99999999999999999999'},"
                   "{'d':'99999999999999999999.999999999999999999','e':0},"
                   "{'d':'-0.000000000000000001','e':null},{'d':null,'e':'18446744073709551616'}]", NULL);
    CU_ASSERT(has(st, "minValues", "'d':-99999999999999999999.999999999999999999"));
    CU_ASSERT(has(st, "maxValues", "'d':99999999999999999999.999999999999999999"));
    CU_ASSERT(has(st, "minValues", "'e':-99999999999999999999"));
    CU_ASSERT(has(st, "maxValues", "'e':99999999999999999999"));
    CU_ASSERT(has(st, "nullCount", "'d':1"));
    CU_ASSERT(has(st, "nullCount", "'e':1"));
    free(st);

    /* values that only differ past the 18th digit, and small negatives at a
     * big scale (the two's complement bytes sort the other way unsigned) */
    st = stats_for("d:decimal(38,37)", "[{'d':'-0.0000000000000000000000000000000000001'},{'d':'-0.0000000000000000000000000000000000002'},"
                                       "{'d':'1.0000000000000000000000000000000000002'},{'d':'1.0000000000000000000000000000000000001'}]", NULL);
    CU_ASSERT(has(st, "minValues", "'d':-0.0000000000000000000000000000000000002"));
    CU_ASSERT(has(st, "maxValues", "'d':1.0000000000000000000000000000000000002"));
    free(st);
}
/* ---- strings ---- */

/* n copies of s */
static char *rep(const char *s, int n)
{
    size_t l = strlen(s);
    char *o = malloc(l * (size_t)n + 1);
    for (int i = 0; i < n; i++) memcpy(o + l * (size_t)i, s, l);
    o[l * (size_t)n] = 0;
    return o;
}

/* Stats of one string column s holding the given (raw UTF-8) values. */
static char *string_stats(const char *const *vals, size_t n, const char *prefix)
{
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(rows, json_pack("{s:s}", "s", vals[i]));
    char *rj = json_dumps(rows, JSON_COMPACT);
    json_decref(rows);
    for (char *p = rj; *p; p++) CU_ASSERT(*p != '\'');
    char *st = stats_for("s:string", rj, prefix);
    free(rj);
    return st;
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* Checks min <= every value <= max in UTF-8 byte order; hands back the
 * bounds as raw UTF-8 (malloc'ed, NULL when absent). */
static void bounds_hold(const char *st, const char *const *vals, size_t n, char **min, char **max)
{
    json_t *j = json_loads(st, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_t *lo = json_object_get(json_object_get(j, "minValues"), "s"), *hi = json_object_get(json_object_get(j, "maxValues"), "s");
    for (size_t i = 0; i < n; i++) {
        if (lo) CU_ASSERT(cmp_bytes(json_string_value(lo), json_string_length(lo), vals[i], strlen(vals[i])) <= 0);
        if (hi) CU_ASSERT(cmp_bytes(json_string_value(hi), json_string_length(hi), vals[i], strlen(vals[i])) >= 0);
    }
    *min = lo ? strndup(json_string_value(lo), json_string_length(lo)) : NULL;
    *max = hi ? strndup(json_string_value(hi), json_string_length(hi)) : NULL;
    json_decref(j);
}

static void expect_strings(const char *const *vals, size_t n, const char *prefix, const char *want_min, const char *want_max)
{
    char *st = string_stats(vals, n, prefix), *mn, *mx;
    bounds_hold(st, vals, n, &mn, &mx);
    if (want_min) {
        CU_ASSERT(mn && !strcmp(mn, want_min));
    } else {
        CU_ASSERT_PTR_NULL(mn);
    }
    if (want_max) {
        CU_ASSERT(mx && !strcmp(mx, want_max));
    } else {
        CU_ASSERT_PTR_NULL(mx);
    }
    if ((want_max && (!mx || strcmp(mx, want_max))) || (want_min && (!mn || strcmp(mn, want_min))))
        fprintf(stderr, "\nstats %s\n", st);
    CU_ASSERT(has(st, "nullCount", "'s':0"));
    free(st);
    free(mn);
    free(mx);
}

static void test_strings(void)
{
    /* short strings are exact; byte order puts 'z' below the two-byte 'é' */
    const char *v1[] = {"b", "z", "\xc3\xa9", "a"};
    expect_strings(v1, 4, NULL, "a", "\xc3\xa9");
    /* NUL inside a string (JSON \u0000) sorts after the shorter prefix */
    char *st = stats_for("s:string", "[{'s':'a\\u0000b'},{'s':'a'}]", NULL);
    CU_ASSERT(has(st, "minValues", "'s':'a'"));
    CU_ASSERT(has(st, "maxValues", "'s':'a\\u0000b'"));
    free(st);

    /* exactly 32 code points: untouched; 33: cut, the max's last one raised */
    char *s32 = rep("a", 32), *s40 = rep("a", 40), *a31 = rep("a", 31), *want = NULL;
    const char *v2[] = {s32};
    expect_strings(v2, 1, NULL, s32, s32);
    const char *v3[] = {s40};
    if (asprintf(&want, "%sb", a31) < 0) want = NULL;
    expect_strings(v3, 1, NULL, s32, want);
    free(want);
    /* the old 64-character limit is gone: long strings get prefix bounds */
    char *s100 = rep("k", 100), *k32 = rep("k", 32), *k31 = rep("k", 31);
    const char *v4[] = {s100, "b"};
    if (asprintf(&want, "%sl", k31) < 0) want = NULL;
    expect_strings(v4, 2, NULL, "b", want);
    free(want);

    /* multi-byte: the cut counts code points and never splits one */
    char *e40 = rep("\xc3\xa9", 40), *e32 = rep("\xc3\xa9", 32), *e31 = rep("\xc3\xa9", 31);
    const char *v5[] = {e40};
    if (asprintf(&want, "%s\xc3\xaa", e31) < 0) want = NULL;   /* é+1 = ê */
    expect_strings(v5, 1, NULL, e32, want);
    free(want);
    /* four-byte: U+1F600 -> U+1F601 */
    char *g40 = rep("\xf0\x9f\x98\x80", 40), *g32 = rep("\xf0\x9f\x98\x80", 32), *g31 = rep("\xf0\x9f\x98\x80", 31);
    const char *v6[] = {g40, "\xf0\x9f\x98\x80"};
    if (asprintf(&want, "%s\xf0\x9f\x98\x81", g31) < 0) want = NULL;
    expect_strings(v6, 2, NULL, "\xf0\x9f\x98\x80", want);
    free(want);
    /* mixed: a prefix ending in ASCII after a two-byte letter at the cut */
    char *mix = NULL;
    if (asprintf(&mix, "%s\xc3\xa9%s", a31, "zzz") < 0) mix = NULL;   /* 31 'a', é, zzz */
    char *mixmin = NULL;
    if (asprintf(&mixmin, "%s\xc3\xa9", a31) < 0) mixmin = NULL;
    const char *v7[] = {mix};
    if (asprintf(&want, "%s\xc3\xaa", a31) < 0) want = NULL;
    expect_strings(v7, 1, NULL, mixmin, want);
    free(want);

    /* U+FFFF and U+10FFFF are never raised (U+10000 would sort below U+FFFF
     * in UTF-16 order, and nothing is above U+10FFFF): the last other code
     * point is raised instead, and a prefix made only of them has no max */
    char *f40 = NULL, *f31 = rep("\xef\xbf\xbf", 31), *f39 = rep("\xef\xbf\xbf", 39);
    if (asprintf(&f40, "x%s", f39) < 0) f40 = NULL;
    char *fmin = NULL;
    if (asprintf(&fmin, "x%s", f31) < 0) fmin = NULL;
    const char *v8[] = {f40};
    expect_strings(v8, 1, NULL, fmin, "y");
    char *m40 = rep("\xf4\x8f\xbf\xbf", 40), *m32 = rep("\xf4\x8f\xbf\xbf", 32);
    const char *v9[] = {m40, "a"};
    expect_strings(v9, 2, NULL, "a", NULL);
    /* U+D7FF is followed by U+E000: the surrogates are not characters */
    char *d40 = rep("\xed\x9f\xbf", 40), *d32 = rep("\xed\x9f\xbf", 32), *d31 = rep("\xed\x9f\xbf", 31);
    const char *v10[] = {d40};
    if (asprintf(&want, "%s\xee\x80\x80", d31) < 0) want = NULL;
    expect_strings(v10, 1, NULL, d32, want);
    free(want);
    /* U+007F becomes the two-byte U+0080 */
    char *del40 = rep("\x7f", 40), *del32 = rep("\x7f", 32), *del31 = rep("\x7f", 31);
    const char *v11[] = {del40};
    if (asprintf(&want, "%s\xc2\x80", del31) < 0) want = NULL;
    expect_strings(v11, 1, NULL, del32, want);
    free(want);

    /* the table property sets the prefix */
    const char *v12[] = {"abcdef", "abc", "b\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"};
    expect_strings(v12, 3, "4", "abc", "b\xc3\xa9\xc3\xa9\xc3\xaa");
    /* ... and must be a positive integer */
    char uri[300];
    snprintf(uri, sizeof(uri), "file://%s/bad%d", root, ++table_seq);
    sesp_delta_table *t = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_open(uri, NULL, &t) == 0);
    sesp_delta_kv kv[1] = {{"delta.dataSkippingStringPrefixLength", "0"}};
    sesp_delta_map cfg = {kv, 1};
    CU_ASSERT_EQUAL(sesp_delta_table_create(t, "{\"type\":\"struct\",\"fields\":[{\"name\":\"s\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}",
                                            NULL, 0, &cfg, NULL), SESP_ERR_INVALID_ARG);
    sesp_delta_table_close(t);

    free(s32); free(s40); free(a31); free(s100); free(k32); free(k31);
    free(e40); free(e32); free(e31); free(g40); free(g32); free(g31);
    free(mix); free(mixmin); free(f40); free(f31); free(f39); free(fmin); free(m40); free(m32);
    free(d40); free(d32); free(d31); free(del40); free(del32); free(del31);
}

/* ---- the other types ---- */

static void test_other_types(void)
{
    /* longs beyond 2^53 (where doubles stop telling them apart), dates in
     * every form the writer takes (written canonical), floats as stored */
    char *st = stats_for("l:long;i:integer;dt:date;f:float;x:double",
                         "[{'l':9007199254740993,'i':-5,'dt':'2024-1-5','f':0.1,'x':0.1},"
                         " {'l':9007199254740992,'i':7,'dt':19000,'f':3,'x':-2},"
                         " {'l':-9223372036854775807,'i':null,'dt':'2023-12-31','f':null,'x':null}]", NULL);
    CU_ASSERT(has(st, "minValues", "'l':-9223372036854775807"));
    CU_ASSERT(has(st, "maxValues", "'l':9007199254740993"));
    CU_ASSERT(has(st, "minValues", "'i':-5"));
    CU_ASSERT(has(st, "maxValues", "'i':7"));
    CU_ASSERT(has(st, "minValues", "'dt':'2022-01-08'"));   /* day 19000 */
    CU_ASSERT(has(st, "maxValues", "'dt':'2024-01-05'"));
    CU_ASSERT(has(st, "minValues", "'f':0.10000000149011612"));   /* the float 0.1, above the double 0.1 */
    CU_ASSERT(has(st, "maxValues", "'f':3.0"));
    CU_ASSERT(has(st, "minValues", "'x':-2.0"));
    CU_ASSERT(has(st, "maxValues", "'x':0.10000000000000001"));
    CU_ASSERT(has(st, "nullCount", "'i':1"));
    CU_ASSERT(has(st, "nullCount", "'dt':0"));
    free(st);

    /* boolean and binary: nullCount only, like Spark; all-null columns too;
     * arrays and maps count nulls; a struct without any bound is left out of
     * minValues/maxValues but keeps its nullCount */
    st = stats_for("[{'name':'b','type':'boolean','nullable':true,'metadata':{}},"
                   " {'name':'bin','type':'binary','nullable':true,'metadata':{}},"
                   " {'name':'n','type':'long','nullable':true,'metadata':{}},"
                   " {'name':'ts','type':'timestamp','nullable':true,'metadata':{}},"
                   " {'name':'a','type':{'type':'array','elementType':'long','containsNull':true},'nullable':true,'metadata':{}},"
                   " {'name':'st','type':{'type':'struct','fields':["
                   "   {'name':'flag','type':'boolean','nullable':true,'metadata':{}},"
                   "   {'name':'when','type':'timestamp_ntz','nullable':true,'metadata':{}}]},'nullable':true,'metadata':{}},"
                   " {'name':'nest','type':{'type':'struct','fields':["
                   "   {'name':'d','type':'decimal(10,2)','nullable':true,'metadata':{}},"
                   "   {'name':'inner','type':{'type':'struct','fields':["
                   "     {'name':'s','type':'string','nullable':true,'metadata':{}}]},'nullable':true,'metadata':{}}]},'nullable':true,'metadata':{}}]",
                   "[{'b':true,'bin':'AAE=','n':null,'ts':null,'a':[1],'st':{'flag':true},'nest':{'d':'-0.5','inner':{'s':'q'}}},"
                   " {'b':false,'bin':null,'n':null,'ts':null,'a':null,'st':null,'nest':{'d':'2'}}]", NULL);
    CU_ASSERT(!names(st, "minValues", "b"));
    CU_ASSERT(!names(st, "maxValues", "bin"));
    CU_ASSERT(!names(st, "minValues", "n"));
    CU_ASSERT(!names(st, "maxValues", "ts"));
    CU_ASSERT(!names(st, "minValues", "a"));
    CU_ASSERT(!names(st, "minValues", "st"));
    CU_ASSERT(!names(st, "maxValues", "st"));
    CU_ASSERT(has(st, "nullCount", "'b':0"));
    CU_ASSERT(has(st, "nullCount", "'bin':1"));
    CU_ASSERT(has(st, "nullCount", "'n':2"));
    CU_ASSERT(has(st, "nullCount", "'ts':2"));
    CU_ASSERT(has(st, "nullCount", "'a':1"));
    CU_ASSERT(has(st, "nullCount", "'st':{'flag':1,'when':2}"));
    CU_ASSERT(has(st, "minValues", "'nest':{'d':-0.50,'inner':{'s':'q'}}"));
    CU_ASSERT(has(st, "maxValues", "'nest':{'d':2.00,'inner':{'s':'q'}}"));
    CU_ASSERT(has(st, "nullCount", "'nest':{'d':0,'inner':{'s':1}}"));
    CU_ASSERT(strstr(st, "\"numRecords\":2") != NULL);
    free(st);
}

/* ---- partitions, checkpoints, rewrites ---- */

/* path -> stats of every file of t's snapshot at version v */
static json_t *stats_by_path(sesp_delta_table *t, int64_t v, int64_t *cp)
{
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_snapshot(t, v, &s) == 0);
    json_t *m = json_object();
    for (size_t i = 0; i < s->nfiles; i++) json_object_set_new(m, s->files[i]->path, json_string(s->files[i]->stats));
    if (cp) *cp = s->checkpoint_version;
    sesp_delta_snapshot_free(s);
    return m;
}

static void test_partitions_checkpoint_optimize(void)
{
    const char *fields = "p:string;ts:timestamp;d:decimal(18,2);s:string";
    sesp_delta_table *t = new_table(fields, "p", "delta.checkpointInterval", "2");
    append(t, "[{'p':'x','ts':'2024-01-02T03:04:05.000001Z','d':'1234567890123456.78','s':'b'},"
              " {'p':'y','ts':'2023-05-06T07:08:09Z','d':'-1','s':'0123456789012345678901234567890123456789'}]");
    append(t, "[{'p':'x','ts':'2024-01-02T03:04:04.999999Z','d':'1234567890123456.79','s':'\\u00e9\\u00e9'}]");
    int64_t cp = 0;
    json_t *from_cp = stats_by_path(t, -1, &cp);
    CU_ASSERT_EQUAL(cp, 2);
    CU_ASSERT_EQUAL(json_object_size(from_cp), 3);
    /* the checkpoint carries the stats text unchanged: rebuild from commits */
    sesp_objstore_delete(sesp_delta_table_store(t), "_delta_log/00000000000000000002.checkpoint.parquet");
    json_t *from_log = stats_by_path(t, -1, &cp);
    CU_ASSERT_EQUAL(cp, -1);
    CU_ASSERT(json_equal(from_cp, from_log));
    const char *path;
    json_t *v;
    json_object_foreach(from_log, path, v) {
        /* partition columns are not in the file, so not in its stats */
        CU_ASSERT(!names(json_string_value(v), "minValues", "p"));
        CU_ASSERT(!names(json_string_value(v), "nullCount", "p"));
    }
    json_decref(from_cp);
    json_decref(from_log);

    /* OPTIMIZE reads values back (timestamps with microseconds, decimals as
     * text) and writes them again: the merged file's bounds cover both */
    sesp_delta_result r;
    CU_ASSERT_EQUAL_FATAL(sesp_delta_table_optimize(t, 0, &r), 0);
    sesp_delta_snapshot *s = NULL;
    CU_ASSERT_FATAL(sesp_delta_table_snapshot(t, -1, &s) == 0);
    bool seen = false;
    for (size_t i = 0; i < s->nfiles; i++) {
        const char *st = s->files[i]->stats;
        if (!strstr(s->files[i]->path, "p=x")) continue;
        seen = true;
        CU_ASSERT(strstr(st, "\"numRecords\":2") != NULL);
        CU_ASSERT(has(st, "minValues", "'ts':'2024-01-02T03:04:04.999Z'"));
        CU_ASSERT(has(st, "maxValues", "'ts':'2024-01-02T03:04:05.001Z'"));
        CU_ASSERT(has(st, "minValues", "'d':1234567890123456.78"));
        CU_ASSERT(has(st, "maxValues", "'d':1234567890123456.79"));
        CU_ASSERT(has(st, "minValues", "'s':'b'"));
        CU_ASSERT(has(st, "maxValues", "'s':'\xc3\xa9\xc3\xa9'"));
    }
    CU_ASSERT(seen);
    sesp_delta_snapshot_free(s);
    sesp_delta_table_close(t);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/sesp-delta-stats-test-%d", (int)getpid());
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("delta_stats", NULL, NULL);
    CU_add_test(su, "timestamps", test_timestamps);
    CU_add_test(su, "decimals", test_decimals);
    CU_add_test(su, "strings", test_strings);
    CU_add_test(su, "other_types", test_other_types);
    CU_add_test(su, "partitions_checkpoint_optimize", test_partitions_checkpoint_optimize);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd)) {}
    return fails ? 1 : 0;
}
