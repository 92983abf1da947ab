/* Unit tests of broker/producer's persisted producer-id allocator: ids are
 * unique within and across runs (blocks reserved on disk before use), a
 * missing file starts at the given seed, a corrupt one is refused, and
 * concurrent callers never get the same id. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/producer/producer.h"
#include "common/err.h"

static char dir[64];

static void fresh(void)
{
    strcpy(dir, "/tmp/sesp-pidtest-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static int64_t file_value(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, SESP_PID_BLOCK_FILE);
    FILE *f = fopen(p, "r");
    long long v = -1;
    if (f) {
        if (fscanf(f, "%lld", &v) != 1)
            v = -2;
        fclose(f);
    }
    return v;
}

static void test_sequence_and_restart(void)
{
    fresh();
    sesp_pid_alloc *a;
    CU_ASSERT_EQUAL_FATAL(sesp_pid_alloc_open(dir, 100, 5, &a), 0);
    CU_ASSERT_EQUAL(file_value(), -1);           /* nothing reserved before the first id */
    int64_t pid;
    for (int i = 0; i < 250; i++) {
        CU_ASSERT_EQUAL(sesp_pid_alloc_next(a, &pid), 0);
        CU_ASSERT_EQUAL(pid, 5 + i);
    }
    CU_ASSERT_EQUAL(file_value(), 305);          /* blocks [5,105) [105,205) [205,305) */
    CU_ASSERT_TRUE(sesp_pid_alloc_issued(a, 254));
    CU_ASSERT_FALSE(sesp_pid_alloc_issued(a, 255));
    CU_ASSERT_FALSE(sesp_pid_alloc_issued(a, -1));
    sesp_pid_alloc_close(a);
    /* A restart (clean or crash: the file is all there is) skips the rest of the block. */
    CU_ASSERT_EQUAL_FATAL(sesp_pid_alloc_open(dir, 100, 0, &a), 0);
    CU_ASSERT_TRUE(sesp_pid_alloc_issued(a, 254));
    CU_ASSERT_EQUAL(sesp_pid_alloc_next(a, &pid), 0);
    CU_ASSERT_EQUAL(pid, 305);
    CU_ASSERT_EQUAL(file_value(), 405);
    sesp_pid_alloc_close(a);
    cleanup();
}

static void test_corrupt(void)
{
    fresh();
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, SESP_PID_BLOCK_FILE);
    const char *bad[] = {"", "abc\n", "-5\n", "12x\n", "99999999999999999999999\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(p, "w");
        fputs(bad[i], f);
        fclose(f);
        sesp_pid_alloc *a = NULL;
        CU_ASSERT_EQUAL(sesp_pid_alloc_open(dir, 10, 0, &a), SESP_ERR_CORRUPT);
        CU_ASSERT_PTR_NULL(a);
    }
    CU_ASSERT_EQUAL(sesp_pid_alloc_open(dir, 0, 0, &(sesp_pid_alloc *){NULL}), SESP_ERR_INVALID_ARG);
    cleanup();
}

typedef struct { sesp_pid_alloc *a; int64_t got[500]; } worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 500; i++)
        if (sesp_pid_alloc_next(w->a, &w->got[i]) != 0)
            w->got[i] = -1;
    return NULL;
}

static int cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

static void test_concurrent(void)
{
    fresh();
    sesp_pid_alloc *a;
    CU_ASSERT_EQUAL_FATAL(sesp_pid_alloc_open(dir, 37, 0, &a), 0);
    static worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i].a = a;
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    static int64_t all[2000];
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        memcpy(all + i * 500, w[i].got, sizeof w[i].got);
    }
    qsort(all, 2000, sizeof all[0], cmp);
    for (int i = 0; i < 2000; i++)
        CU_ASSERT_EQUAL(all[i], i);
    CU_ASSERT_TRUE(file_value() >= 2000);
    sesp_pid_alloc_close(a);
    cleanup();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("producer id allocator", NULL, NULL);
    CU_add_test(s, "sequence and restart", test_sequence_and_restart);
    CU_add_test(s, "corrupt block file", test_corrupt);
    CU_add_test(s, "concurrent allocation", test_concurrent);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int fails = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
