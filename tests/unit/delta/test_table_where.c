/* Unit tests of lakehouse/cli/where.c, the `sesp table delete --where`
 * predicate: parsing, and comparisons as SQL makes them: decimals (carried as
 * digit strings) and longs compared exactly with a number literal, where a
 * double would merge neighbours; strings, booleans and nulls. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "lakehouse/cli/where.h"

/* Whether {"c": <vjson>} satisfies "c <op_lit>". */
static bool holds(const char *vjson, const char *op_lit)
{
    char w[256];
    snprintf(w, sizeof w, "c %s", op_lit);
    sesp_tcli_pred p;
    CU_ASSERT_FATAL(sesp_tcli_pred_parse(w, &p));
    char row[256];
    snprintf(row, sizeof row, "{\"c\": %s}", vjson);
    json_t *r = json_loads(row, JSON_DECODE_ANY, NULL);
    CU_ASSERT_FATAL(r != NULL);
    bool b = sesp_tcli_pred_eval(&p, r);
    json_decref(r);
    sesp_tcli_pred_free(&p);
    return b;
}

static void test_parse(void)
{
    sesp_tcli_pred p;
    CU_ASSERT(sesp_tcli_pred_parse("  score <>  5 ", &p));
    CU_ASSERT_STRING_EQUAL(p.col, "score");
    CU_ASSERT_STRING_EQUAL(p.op, "!=");
    CU_ASSERT_STRING_EQUAL(p.lit_num, "5");
    sesp_tcli_pred_free(&p);
    CU_ASSERT(sesp_tcli_pred_parse("name='abc'", &p));
    CU_ASSERT(json_is_string(p.lit) && p.lit_num == NULL);
    sesp_tcli_pred_free(&p);
    CU_ASSERT(!sesp_tcli_pred_parse("", &p));
    CU_ASSERT(!sesp_tcli_pred_parse("score", &p));
    CU_ASSERT(!sesp_tcli_pred_parse("score >", &p));
    CU_ASSERT(!sesp_tcli_pred_parse("= 5", &p));
    CU_ASSERT(!sesp_tcli_pred_parse("name = 'open", &p));
}

static void test_decimal_exact(void)
{
    /* A decimal(38,2) column: 12.50 = 12.5, ordering by value, not text. */
    CU_ASSERT(holds("\"12.50\"", "= 12.5"));
    CU_ASSERT(holds("\"12.50\"", "> 9.99"));
    CU_ASSERT(!holds("\"12.50\"", "< 9"));
    CU_ASSERT(holds("\"-0.05\"", "< 0"));
    CU_ASSERT(holds("\"-0.05\"", "> -0.06"));
    CU_ASSERT(holds("\"0.00\"", "= -0"));
    CU_ASSERT(holds("\"100.00\"", "> 99.999999999999999999999"));
    /* 38 digits that one double cannot tell apart */
    CU_ASSERT(holds("\"123456789012345678901234567890123456.78\"", "> 123456789012345678901234567890123456.77"));
    CU_ASSERT(!holds("\"123456789012345678901234567890123456.78\"", "= 123456789012345678901234567890123456.77"));
}

static void test_long_exact(void)
{
    /* 2^53 + 1 and 2^53 are one double */
    CU_ASSERT(!holds("9007199254740993", "= 9007199254740992"));
    CU_ASSERT(holds("9007199254740993", "> 9007199254740992"));
    CU_ASSERT(holds("-9223372036854775808", "< -9223372036854775807"));
    CU_ASSERT(holds("7", ">= 6.5"));
}

static void test_other_types(void)
{
    CU_ASSERT(holds("0.25", "< 0.3"));
    CU_ASSERT(holds("1e300", "> 1e299"));
    CU_ASSERT(holds("\"abc\"", "= 'abc'"));
    CU_ASSERT(holds("\"abd\"", "> 'abc'"));
    CU_ASSERT(!holds("\"abc\"", "= 5"));
    CU_ASSERT(holds("true", "> false"));
    CU_ASSERT(holds("null", "= null"));
    CU_ASSERT(!holds("null", "< 5"));
    CU_ASSERT(!holds("null", "!= 5"));
    CU_ASSERT(holds("3", "!= null"));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("table_where", NULL, NULL);
    CU_add_test(s, "parse", test_parse);
    CU_add_test(s, "decimal_exact", test_decimal_exact);
    CU_add_test(s, "long_exact", test_long_exact);
    CU_add_test(s, "other_types", test_other_types);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
