/* Unit tests of the local object store: put/get/list/delete semantics,
 * put_if_absent under a thread race (exactly one winner), the streaming
 * writer (visible only after commit) and refusal of keys escaping the root. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/objstore/objstore.h"

static char root[256];

static sesp_objstore *open_store(void)
{
    sesp_objstore *s = NULL;
    char uri[300];
    snprintf(uri, sizeof(uri), "file://%s", root);
    CU_ASSERT_FATAL(sesp_objstore_open(uri, NULL, &s) == 0);
    return s;
}

static void test_put_get_list(void)
{
    sesp_objstore *s = open_store();
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "a/b/c.txt", "hello", 5), 0);
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "a/b/c.txt", "hello world", 11), 0);
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "a/d.txt", "x", 1), 0);
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "top", "", 0), 0);
    uint8_t *d = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(sesp_objstore_get(s, "a/b/c.txt", &d, &n), 0);
    CU_ASSERT_EQUAL(n, 11);
    CU_ASSERT(d && memcmp(d, "hello world", 11) == 0);
    free(d);
    char buf[8];
    size_t got = 0;
    CU_ASSERT_EQUAL(sesp_objstore_get_range(s, "a/b/c.txt", 6, 8, buf, &got), 0);
    CU_ASSERT_EQUAL(got, 5);
    CU_ASSERT(memcmp(buf, "world", 5) == 0);
    CU_ASSERT_EQUAL(sesp_objstore_get(s, "missing", &d, &n), SESP_ERR_NOT_FOUND);

    sesp_obj_list l;
    CU_ASSERT_EQUAL(sesp_objstore_list(s, "", &l), 0);
    CU_ASSERT_EQUAL_FATAL(l.n, 3);
    CU_ASSERT_STRING_EQUAL(l.items[0].key, "a/b/c.txt");
    CU_ASSERT_EQUAL(l.items[0].size, 11);
    CU_ASSERT(l.items[0].mtime_ms > 0);
    CU_ASSERT_STRING_EQUAL(l.items[1].key, "a/d.txt");
    CU_ASSERT_STRING_EQUAL(l.items[2].key, "top");
    sesp_obj_list_free(&l);
    CU_ASSERT_EQUAL(sesp_objstore_list(s, "a/b", &l), 0);
    CU_ASSERT_EQUAL(l.n, 1);
    sesp_obj_list_free(&l);
    CU_ASSERT_EQUAL(sesp_objstore_list(s, "a/d", &l), 0);
    CU_ASSERT_EQUAL_FATAL(l.n, 1);
    CU_ASSERT_STRING_EQUAL(l.items[0].key, "a/d.txt");
    sesp_obj_list_free(&l);
    CU_ASSERT_EQUAL(sesp_objstore_list(s, "nothing/", &l), 0);
    CU_ASSERT_EQUAL(l.n, 0);
    sesp_obj_list_free(&l);

    CU_ASSERT_EQUAL(sesp_objstore_delete(s, "a/d.txt"), 0);
    CU_ASSERT_EQUAL(sesp_objstore_delete(s, "a/d.txt"), 0);
    sesp_obj_info info;
    CU_ASSERT_EQUAL(sesp_objstore_head(s, "a/d.txt", &info), SESP_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(sesp_objstore_head(s, "a/b/c.txt", &info), 0);
    CU_ASSERT_EQUAL(info.size, 11);
    sesp_obj_info_free(&info);
    sesp_objstore_close(s);
}

static void test_bad_keys(void)
{
    sesp_objstore *s = open_store();
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "../escape", "x", 1), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "a/../../escape", "x", 1), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "/etc/passwd", "x", 1), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "", "x", 1), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "a//b", "x", 1), SESP_ERR_INVALID_ARG);
    sesp_objstore_close(s);
    sesp_objstore *t = NULL;
    CU_ASSERT_EQUAL(sesp_objstore_open("ftp://x/y", NULL, &t), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_EQUAL(sesp_objstore_open("s3://", NULL, &t), SESP_ERR_INVALID_ARG);
}

#define RACERS 8
static int race_results[RACERS];
static pthread_barrier_t barrier;

static void *racer(void *arg)
{
    int id = (int)(intptr_t)arg;
    sesp_objstore *s = open_store();
    char body[32];
    snprintf(body, sizeof(body), "writer %d", id);
    pthread_barrier_wait(&barrier);
    race_results[id] = sesp_objstore_put_if_absent(s, "_delta_log/00000000000000000001.json", body, strlen(body));
    sesp_objstore_close(s);
    return NULL;
}

static void test_put_if_absent_race(void)
{
    for (int round = 0; round < 20; round++) {
        sesp_objstore *s = open_store();
        sesp_objstore_delete(s, "_delta_log/00000000000000000001.json");
        pthread_t th[RACERS];
        pthread_barrier_init(&barrier, NULL, RACERS);
        for (int i = 0; i < RACERS; i++) pthread_create(&th[i], NULL, racer, (void *)(intptr_t)i);
        for (int i = 0; i < RACERS; i++) pthread_join(th[i], NULL);
        pthread_barrier_destroy(&barrier);
        int wins = 0, winner = -1;
        for (int i = 0; i < RACERS; i++) {
            if (race_results[i] == 0) { wins++; winner = i; }
            else CU_ASSERT_EQUAL(race_results[i], SESP_ERR_EXISTS);
        }
        CU_ASSERT_EQUAL(wins, 1);
        uint8_t *d = NULL;
        size_t n = 0;
        CU_ASSERT_EQUAL(sesp_objstore_get(s, "_delta_log/00000000000000000001.json", &d, &n), 0);
        char expect[32];
        snprintf(expect, sizeof(expect), "writer %d", winner);
        CU_ASSERT(d && n == strlen(expect) && memcmp(d, expect, n) == 0);
        free(d);
        /* no temp files left behind */
        sesp_obj_list l;
        CU_ASSERT_EQUAL(sesp_objstore_list(s, "_delta_log/", &l), 0);
        CU_ASSERT_EQUAL(l.n, 1);
        sesp_obj_list_free(&l);
        sesp_objstore_close(s);
    }
}

static void test_writer(void)
{
    sesp_objstore *s = open_store();
    sesp_objwriter *w = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_objwriter_open(s, "big/file.bin", &w), 0);
    static uint8_t chunk[65536];
    for (size_t i = 0; i < sizeof(chunk); i++) chunk[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++) CU_ASSERT_EQUAL(sesp_objwriter_write(w, chunk, sizeof(chunk)), 0);
    CU_ASSERT_EQUAL(sesp_objwriter_size(w), 10 * sizeof(chunk));
    sesp_obj_info info;
    CU_ASSERT_EQUAL(sesp_objstore_head(s, "big/file.bin", &info), SESP_ERR_NOT_FOUND);
    sesp_obj_list l;
    CU_ASSERT_EQUAL(sesp_objstore_list(s, "big/", &l), 0);
    CU_ASSERT_EQUAL(l.n, 0);
    sesp_obj_list_free(&l);
    CU_ASSERT_EQUAL(sesp_objwriter_commit(w), 0);
    CU_ASSERT_EQUAL(sesp_objstore_head(s, "big/file.bin", &info), 0);
    CU_ASSERT_EQUAL(info.size, 10 * sizeof(chunk));
    sesp_obj_info_free(&info);
    CU_ASSERT_EQUAL_FATAL(sesp_objwriter_open(s, "big/aborted.bin", &w), 0);
    CU_ASSERT_EQUAL(sesp_objwriter_write(w, chunk, 100), 0);
    sesp_objwriter_abort(w);
    CU_ASSERT_EQUAL(sesp_objstore_list(s, "big/", &l), 0);
    CU_ASSERT_EQUAL(l.n, 1);
    sesp_obj_list_free(&l);
    sesp_objstore_close(s);
}

static void test_opts(void)
{
    sesp_objstore_opts o = {0};
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.conditional-put", "unsupported"), 0);
    CU_ASSERT_EQUAL(o.s3_conditional_put, 1);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.conditional-put", "maybe"), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "retry.max-attempts", "3"), 0);
    CU_ASSERT_EQUAL(o.max_attempts, 3);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "retry.max-attempts", "x"), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "nope", "1"), SESP_ERR_INVALID_ARG);
    /* an S3 store without conditional puts refuses put_if_absent unless locked */
    o.s3_endpoint = "http://127.0.0.1:9";
    o.max_attempts = 1;
    o.s3_anonymous = true;   /* no credentials needed to find nothing listening */
    sesp_objstore *s = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_objstore_open("s3://bucket/prefix", &o, &s), 0);
    CU_ASSERT_EQUAL(sesp_objstore_put_if_absent(s, "k", "v", 1), SESP_ERR_UNSUPPORTED);
    /* nothing listens on port 9: a clear I/O error after the bounded attempts */
    CU_ASSERT_EQUAL(sesp_objstore_put(s, "k", "v", 1), SESP_ERR_IO);
    sesp_objstore_close(s);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/sesp-objstore-test-%d", (int)getpid());
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("objstore", NULL, NULL);
    CU_add_test(su, "put_get_list", test_put_get_list);
    CU_add_test(su, "bad_keys", test_bad_keys);
    CU_add_test(su, "put_if_absent_race", test_put_if_absent_race);
    CU_add_test(su, "writer", test_writer);
    CU_add_test(su, "opts", test_opts);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd)) {}
    return fails ? 1 : 0;
}
