/*
 * libFuzzer target for the group coordinator's request handling: each input
 * is one request (byte 0 picks the API among the ten the coordinator answers,
 * byte 1 the version, the rest is the body) posted through sesp_group_handle
 * to a coordinator on __consumer_offsets logs in a temp dir.  A ListGroups
 * sentinel posted after it (the queue is FIFO) tells when it was processed;
 * parked JoinGroup/SyncGroup answers arrive whenever they do.  The
 * coordinator is restarted on fresh logs every few thousand inputs so state
 * stays bounded; stop answers whatever is still parked.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/group/group.h"
#include "broker/log/log.h"

#define NPART 3
static const int16_t apis[] = { 11, 14, 12, 13, 8, 9, 16, 15, 42, 47 };
static const int16_t maxv[] = { 9, 5, 4, 5, 9, 9, 5, 5, 2, 0 };

static char root[64];
static sesp_log *logs[NPART];
static sesp_group_coordinator *gc;
static unsigned inputs;

static sesp_log *log_fn(void *ud, int32_t p)
{
    (void)ud;
    return p >= 0 && p < NPART ? logs[p] : NULL;
}

static void done_free(void *ctx, sesp_bufw *w, int err)
{
    (void)ctx;
    (void)err;
    if (w)
        sesp_bufw_free(w);
}

typedef struct sentinel {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
} sentinel;

static void done_sentinel(void *ctx, sesp_bufw *w, int err)
{
    sentinel *s = ctx;
    (void)err;
    if (w)
        sesp_bufw_free(w);
    pthread_mutex_lock(&s->mu);
    s->done = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void start(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", root, root);
    if (system(cmd) != 0)
        abort();
    sesp_log_config lc;
    sesp_log_config_defaults(&lc);
    for (int p = 0; p < NPART; p++) {
        char dir[128];
        snprintf(dir, sizeof dir, "%s/__consumer_offsets-%d", root, p);
        if (sesp_log_open(dir, &lc, &logs[p]) != 0)
            abort();
    }
    sesp_group_config cfg;
    sesp_group_config_defaults(&cfg);
    cfg.offsets_topic_partitions = NPART;
    cfg.initial_rebalance_delay_ms = 0;
    cfg.min_session_timeout_ms = 1;
    cfg.max_metadata_bytes = 4096;
    if (sesp_group_start(&cfg, log_fn, NULL, &gc) != 0)
        abort();
}

static void stop(void)
{
    sesp_group_stop(gc);
    gc = NULL;
    for (int p = 0; p < NPART; p++) {
        sesp_log_close(logs[p]);
        logs[p] = NULL;
    }
}

static void at_exit(void)
{
    stop();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    (void)system(cmd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(root, sizeof root, "/tmp/sesp-fuzz-group-%d", (int)getpid());
    start();
    atexit(at_exit);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (++inputs % 4000 == 0) {
        stop();
        start();
    }
    int k = data[0] % 10;
    int16_t v = (int16_t)(data[1] % (maxv[k] + 1));
    sesp_group_handle(gc, apis[k], v, data + 2, size - 2, done_free, NULL);
    sentinel s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
    static const uint8_t empty[1];
    sesp_group_handle(gc, 16, 0, empty, 0, done_sentinel, &s);
    pthread_mutex_lock(&s.mu);
    while (!s.done)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
    return 0;
}
