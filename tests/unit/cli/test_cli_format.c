/* Unit tests of the consume --format template and the CLI's argument helpers. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/cli/cli_common.h"
#include "clients/cli/format.h"
#include "common/err.h"

/* Renders r with spec; returns a malloc'd buffer and its length in *len. */
static char *render(const char *spec, const sesp_cli_record *r, size_t *len)
{
    sesp_cli_fmt *f = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(sesp_cli_fmt_compile(spec, &f, err, sizeof err), 0);
    char *buf = NULL;
    FILE *m = open_memstream(&buf, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(sesp_cli_fmt_write(f, r, m), 0);
    fclose(m);
    sesp_cli_fmt_free(f);
    return buf;
}

static void test_all_fields(void)
{
    sesp_cli_hdr h[2] = {{"a", "1", 1}, {"b", "x=y", 3}};
    sesp_cli_record r = {.topic = "t", .partition = 2, .offset = 42, .timestamp = 1700000000123,
                         .key = "k", .key_len = 1, .value = "val", .value_len = 3, .headers = h, .header_cnt = 2};
    size_t len;
    char *out = render("%t/%p@%o %T [%k](%K)=[%s](%S) {%h} 100%%\\n", &r, &len);
    const char *want = "t/2@42 1700000000123 [k](1)=[val](3) {a=1,b=x=y} 100%\n";
    CU_ASSERT_EQUAL(len, strlen(want));
    CU_ASSERT_NSTRING_EQUAL(out, want, len);
    free(out);
}

static void test_binary_and_nulls(void)
{
    /* Values are written byte for byte, NULs included; a null key/value prints nothing, size -1. */
    static const char v[] = {'a', '\0', '\n', (char)0xff};
    sesp_cli_hdr h[1] = {{"n", NULL, 0}};
    sesp_cli_record r = {.topic = "t", .value = v, .value_len = sizeof v, .headers = h, .header_cnt = 1};
    size_t len;
    char *out = render("<%k|%K|%s|%h>\\0\\t\\r\\\\", &r, &len);
    static const char want[] = {'<', '|', '-', '1', '|', 'a', '\0', '\n', (char)0xff, '|', 'n', '=', '>',
                                '\0', '\t', '\r', '\\'};
    CU_ASSERT_EQUAL(len, sizeof want);
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof want), 0);
    free(out);

    sesp_cli_record nv = {.topic = "t", .offset = -1};
    out = render("%s%S%h", &nv, &len);
    CU_ASSERT_EQUAL(len, 2);
    CU_ASSERT_NSTRING_EQUAL(out, "-1", 2);
    free(out);
}

static void test_default_format(void)
{
    sesp_cli_record r = {.value = "hello", .value_len = 5};
    size_t len;
    char *out = render(SESP_CLI_DEFAULT_FORMAT, &r, &len);
    CU_ASSERT_EQUAL(len, 6);
    CU_ASSERT_NSTRING_EQUAL(out, "hello\n", 6);
    free(out);
}

static void test_bad_formats(void)
{
    const char *bad[] = {"%", "abc%", "%x", "\\", "\\q", "%s\\"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sesp_cli_fmt *f = NULL;
        char err[256] = "";
        CU_ASSERT_EQUAL(sesp_cli_fmt_compile(bad[i], &f, err, sizeof err), SESP_ERR_MALFORMED);
        CU_ASSERT_PTR_NULL(f);
        CU_ASSERT(strlen(err) > 0);
    }
    /* An empty template is valid and prints nothing. */
    sesp_cli_record r = {.value = "x", .value_len = 1};
    size_t len;
    char *out = render("", &r, &len);
    CU_ASSERT_EQUAL(len, 0);
    free(out);
}

static void test_parse_helpers(void)
{
    int64_t v;
    CU_ASSERT_EQUAL(sesp_cli_parse_i64("42", 0, 100, &v), 0);
    CU_ASSERT_EQUAL(v, 42);
    CU_ASSERT_EQUAL(sesp_cli_parse_i64("-5", -10, 0, &v), 0);
    CU_ASSERT_EQUAL(v, -5);
    CU_ASSERT_EQUAL(sesp_cli_parse_i64("101", 0, 100, &v), -1);
    CU_ASSERT_EQUAL(sesp_cli_parse_i64("", 0, 100, &v), -1);
    CU_ASSERT_EQUAL(sesp_cli_parse_i64("12x", 0, 100, &v), -1);
    CU_ASSERT_EQUAL(sesp_cli_parse_i64("99999999999999999999", 0, INT64_MAX, &v), -1);

    size_t kl;
    const char *val = sesp_cli_split_kv("a.b=c=d", &kl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(val);
    CU_ASSERT_EQUAL(kl, 3);
    CU_ASSERT_STRING_EQUAL(val, "c=d");
    val = sesp_cli_split_kv("k=", &kl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(val);
    CU_ASSERT_STRING_EQUAL(val, "");
    CU_ASSERT_PTR_NULL(sesp_cli_split_kv("=v", &kl));
    CU_ASSERT_PTR_NULL(sesp_cli_split_kv("novalue", &kl));

    static const char line[] = {'k', '\0', ':', ':', 'v', ':', ':'};
    const char *p = sesp_cli_find_sep(line, sizeof line, "::", 2);
    CU_ASSERT_PTR_EQUAL(p, line + 2);
    CU_ASSERT_PTR_NULL(sesp_cli_find_sep(line, sizeof line, ":::", 3));
    CU_ASSERT_PTR_NULL(sesp_cli_find_sep(line, 1, "::", 2));
    CU_ASSERT_PTR_NULL(sesp_cli_find_sep(line, sizeof line, "", 0));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("cli_format", NULL, NULL);
    CU_add_test(s, "all fields", test_all_fields);
    CU_add_test(s, "binary and null values", test_binary_and_nulls);
    CU_add_test(s, "default format", test_default_format);
    CU_add_test(s, "bad formats", test_bad_formats);
    CU_add_test(s, "parse helpers", test_parse_helpers);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
