/*
 * Glue between the request dispatch and the group coordinator
 * (broker/group): creates __consumer_offsets (compacted,
 * offsets.topic.num.partitions partitions) if missing, starts the
 * coordinator on its logs, routes the group APIs to it and moves its answers,
 * which arrive on the coordinator thread, back to each connection's loop.
 * Stopping answers every pending group request before the network drains.
 */
#include "server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/group/group.h"
#include "broker/protocol/generated/api_table.h"
#include "common/err.h"

#define OFFSETS_TOPIC "__consumer_offsets"

typedef struct group_glue {
    pthread_rwlock_t lock;          /* gc is read by handlers, cleared by stop */
    sesp_group_coordinator *gc;
    sesp_topic *offsets;            /* referenced for the coordinator's lifetime */
} group_glue;

static group_glue g_glue = {.lock = PTHREAD_RWLOCK_INITIALIZER};

static struct sesp_log *offsets_log(void *ud, int32_t partition)
{
    return sesp_topic_log(ud, partition);
}

static void on_group_done(void *ctx, sesp_bufw *resp, int err)
{
    sesp_req *rq = ctx;
    if (err || !resp) {
        if (resp)
            sesp_bufw_free(resp);
        sesp_req_respond_async(rq, NULL); /* undecodable: close, as Kafka */
        return;
    }
    sesp_req_respond_async(rq, resp);
}

static void group_api(sesp_req *rq)
{
    /* Kafka shows the client host as "/ip". */
    const char *peer = sesp_conn_peer(rq->conn);
    char host[80] = "/";
    if (peer) {
        const char *colon = strrchr(peer, ':');
        size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
        if (n > sizeof host - 2)
            n = sizeof host - 2;
        memcpy(host + 1, peer, n);
        host[n + 1] = 0;
    }
    const char *client_id = sesp_req_str(rq, rq->hdr.client_id);
    pthread_rwlock_rdlock(&g_glue.lock);
    sesp_group_coordinator *gc = g_glue.gc;
    if (!gc) {
        pthread_rwlock_unlock(&g_glue.lock);
        sesp_req_close(rq);
        return;
    }
    sesp_group_handle_client(gc, rq->hdr.api_key, rq->hdr.api_version, client_id ? client_id : "", host,
                             sesp_bufr_cur(&rq->body), sesp_bufr_left(&rq->body), on_group_done, rq);
    pthread_rwlock_unlock(&g_glue.lock);
}

static void groups_stop(sesp_server *s)
{
    (void)s;
    pthread_rwlock_wrlock(&g_glue.lock);
    sesp_group_coordinator *gc = g_glue.gc;
    g_glue.gc = NULL;
    pthread_rwlock_unlock(&g_glue.lock);
    /* Answers every pending request (NOT_COORDINATOR) on the loops, which
     * are still running. */
    sesp_group_stop(gc);
    if (g_glue.offsets)
        sesp_topic_release(g_glue.offsets);
    g_glue.offsets = NULL;
}

typedef struct ping {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
} ping;

static void on_ping(void *ctx, sesp_bufw *resp, int err)
{
    (void)err;
    ping *p = ctx;
    if (resp)
        sesp_bufw_free(resp);
    pthread_mutex_lock(&p->mu);
    p->done = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Waits until the coordinator thread runs its loop (it answers a ListGroups
 * v0): sesp_group_stop's loopbreak is lost if it comes before the thread
 * entered its loop, which a stop right after start (SIGTERM during start-up,
 * a listener that cannot bind) would otherwise hit. */
static void wait_coordinator_running(sesp_group_coordinator *gc)
{
    ping p = {.done = false};
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    sesp_group_handle(gc, 16, 0, NULL, 0, on_ping, &p);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&p.mu);
    while (!p.done)
        if (pthread_cond_timedwait(&p.cv, &p.mu, &until) != 0)
            break;
    bool done = p.done;
    pthread_mutex_unlock(&p.mu);
    if (!done) {
        /* The answer may still come: p must outlive it. */
        fprintf(stderr, "sesp broker: group coordinator did not answer within 30 s\n");
        abort();
    }
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
}

static int64_t cfg_long(const sesp_config *c, const char *key, int64_t def)
{
    const char *v = sesp_config_get(c, key);
    if (!v)
        return def;
    char *end;
    long long n = strtoll(v, &end, 10);
    return (*v && !*end) ? n : def;
}

int sesp_server_attach_groups(sesp_server *s, char *err, size_t errlen)
{
    const sesp_config *c = s->cfg;
    sesp_group_config gcfg;
    sesp_group_config_defaults(&gcfg);
    gcfg.node_id = s->node_id;
    gcfg.offsets_topic_partitions = (int32_t)cfg_long(c, "offsets.topic.num.partitions", 50);
    gcfg.initial_rebalance_delay_ms = cfg_long(c, "group.initial.rebalance.delay.ms", 3000);
    gcfg.min_session_timeout_ms = (int32_t)cfg_long(c, "group.min.session.timeout.ms", 6000);
    gcfg.max_session_timeout_ms = (int32_t)cfg_long(c, "group.max.session.timeout.ms", 1800000);
    gcfg.max_group_size = (int32_t)cfg_long(c, "group.max.size", INT32_MAX);
    gcfg.offsets_retention_ms = cfg_long(c, "offsets.retention.minutes", 10080) * 60000;
    gcfg.offsets_retention_check_ms = cfg_long(c, "offsets.retention.check.interval.ms", 600000);
    if (gcfg.offsets_topic_partitions < 1 || gcfg.offsets_topic_partitions > 1000) {
        snprintf(err, errlen, "offsets.topic.num.partitions must be in [1, 1000]");
        return SESP_ERR_INVALID_ARG;
    }
    sesp_topic *tp = sesp_topics_get(s->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (!tp) {
        char msg[SESP_TOPICS_MSG_LEN];
        sesp_topic_kv kv = {"cleanup.policy", "compact"};
        int16_t e = sesp_topics_create(s->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC),
                                       gcfg.offsets_topic_partitions, 1, &kv, 1, false, NULL, msg, sizeof msg);
        if (e) {
            snprintf(err, errlen, "cannot create %s: %s", OFFSETS_TOPIC, msg);
            return SESP_ERR_IO;
        }
        tp = sesp_topics_get(s->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
        if (!tp)
            return SESP_ERR_STATE;
    }
    /* An existing topic keeps its partition count: the group-to-partition
     * mapping depends on it. */
    gcfg.offsets_topic_partitions = sesp_topic_partition_count(tp);
    sesp_group_coordinator *gc = NULL;
    int rc = sesp_group_start(&gcfg, offsets_log, tp, &gc);
    if (rc) {
        sesp_topic_release(tp);
        snprintf(err, errlen, "cannot start the group coordinator: %s", sesp_strerror(rc));
        return rc;
    }
    wait_coordinator_running(gc);
    pthread_rwlock_wrlock(&g_glue.lock);
    g_glue.gc = gc;
    g_glue.offsets = tp;
    pthread_rwlock_unlock(&g_glue.lock);
    s->ext_stop = groups_stop;
    for (int16_t k = 0; k < 100; k++) {
        if (!sesp_group_handles(k))
            continue;
        const sesp_kapi_info *info = sesp_kapi_lookup(k);
        if (!info)
            continue;
        sesp_api_def d = {k, info->min_version, info->max_version, group_api};
        if ((rc = sesp_server_add_api(s, &d)))
            return rc;
    }
    return 0;
}
