/*
 * The coordinator's thread and lifecycle: start/stop, the FIFO request queue
 * fed from other threads (one event made active per post, drained in order so
 * pipelined requests of a connection are answered in order), per-request
 * decoding arenas and dispatch, the chunked start-up load of
 * __consumer_offsets (one partition per loop turn, answering
 * COORDINATOR_LOAD_IN_PROGRESS meanwhile), the periodic offset-retention
 * check, and the group table.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/thread.h>

#include "broker/group/group_int.h"
#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/kerr.h"
#include "common/err.h"

#define GC_ARENA_MAX (256u * 1024u * 1024u)

void sesp_group_config_defaults(sesp_group_config *c)
{
    memset(c, 0, sizeof *c);
    c->node_id = 1;
    c->offsets_topic_partitions = 50;
    c->initial_rebalance_delay_ms = 3000;
    c->min_session_timeout_ms = 6000;
    c->max_session_timeout_ms = 1800000;
    c->max_group_size = INT32_MAX;
    c->offsets_retention_ms = 10080LL * 60000LL;
    c->offsets_retention_check_ms = 600000;
    c->max_metadata_bytes = 1 << 20;
}

bool sesp_group_handles(int16_t api_key)
{
    switch (api_key) {
    case 8: case 9: case 11: case 12: case 13: case 14: case 15: case 16: case 42: case 47:
        return true;
    default:
        return false;
    }
}

int64_t gc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *gc_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

const char *gc_state_name(gc_state s)
{
    switch (s) {
    case GS_EMPTY: return "Empty";
    case GS_PREPARING: return "PreparingRebalance";
    case GS_COMPLETING: return "CompletingRebalance";
    case GS_STABLE: return "Stable";
    default: return "Dead";
    }
}

void gc_transition(gc_group *g, gc_state s)
{
    g->state = s;
    g->state_ts = gc_now_ms();
}

void gc_send(sesp_group_done_fn done, void *ctx, sesp_bufw *w, int enc_rc)
{
    if (enc_rc == 0 && w->err)
        enc_rc = w->err;
    if (enc_rc != 0) {
        /* An encoder refusing our own response is a SESP bug; still answer once. */
        sesp_bufw_free(w);
        done(ctx, NULL, enc_rc);
        return;
    }
    done(ctx, w, 0);
}

/* ---- group table ---- */

gc_group *gc_group_find(gc_t *gc, sesp_kstr id)
{
    if (id.len < 0)
        return NULL;
    return gmap_get(&gc->groups, id.ptr ? id.ptr : "", (size_t)id.len);
}

gc_group *gc_group_create(gc_t *gc, const char *id, size_t len)
{
    gc_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->gc = gc;
    g->id = gc_strndup(id, len);
    g->id_len = len;
    g->timer_ev = evtimer_new(gc->base, NULL, NULL); /* callback set by membership.c */
    if (!g->id || !g->timer_ev || gmap_put(&gc->groups, id, len, g) != 0) {
        if (g->timer_ev)
            event_free(g->timer_ev);
        free(g->id);
        free(g);
        return NULL;
    }
    g->partition = sesp_group_partition_for(id, len, gc->cfg.offsets_topic_partitions);
    g->generation = 0;
    gc_transition(g, GS_EMPTY);
    return g;
}

static void group_free(gc_group *g, int16_t err)
{
    gc_group_free_members(g, err);
    if (g->timer_ev)
        event_free(g->timer_ev);
    gmap_free(&g->offsets, gc_offset_free);
    free(g->id);
    free(g->protocol_type);
    free(g->protocol);
    free(g->leader);
    free(g);
}

void gc_group_remove(gc_t *gc, gc_group *g)
{
    gmap_del(&gc->groups, g->id, g->id_len);
    g->state = GS_DEAD;
    group_free(g, SESP_KERR_COORDINATOR_NOT_AVAILABLE);
}

/* ---- dispatch ---- */

static bool version_ok(int16_t key, int16_t v)
{
    int16_t lo = 0, hi = -1;
    switch (key) {
    case 11: hi = SESP_KMSG_JOIN_GROUP_REQUEST_MAX_VERSION; break;
    case 14: hi = SESP_KMSG_SYNC_GROUP_REQUEST_MAX_VERSION; break;
    case 12: hi = SESP_KMSG_HEARTBEAT_REQUEST_MAX_VERSION; break;
    case 13: hi = SESP_KMSG_LEAVE_GROUP_REQUEST_MAX_VERSION; break;
    case 8: hi = SESP_KMSG_OFFSET_COMMIT_REQUEST_MAX_VERSION; break;
    case 9: hi = SESP_KMSG_OFFSET_FETCH_REQUEST_MAX_VERSION; break;
    case 16: hi = SESP_KMSG_LIST_GROUPS_REQUEST_MAX_VERSION; break;
    case 15: hi = SESP_KMSG_DESCRIBE_GROUPS_REQUEST_MAX_VERSION; break;
    case 42: hi = SESP_KMSG_DELETE_GROUPS_REQUEST_MAX_VERSION; break;
    case 47: hi = SESP_KMSG_OFFSET_DELETE_REQUEST_MAX_VERSION; break;
    default: break;
    }
    return v >= lo && v <= hi;
}

static void run_job(gc_t *gc, gc_job *j)
{
    sesp_arena a;
    size_t cap = j->len * 8 + (1u << 20);
    sesp_arena_init(&a, cap > GC_ARENA_MAX ? GC_ARENA_MAX : cap);
    if (!version_ok(j->api_key, j->version)) {
        j->done(j->ctx, NULL, SESP_ERR_UNSUPPORTED);
    } else {
        switch (j->api_key) {
        case 11: gc_handle_join(gc, j, &a); break;
        case 14: gc_handle_sync(gc, j, &a); break;
        case 12: gc_handle_heartbeat(gc, j, &a); break;
        case 13: gc_handle_leave(gc, j, &a); break;
        case 8: gc_handle_offset_commit(gc, j, &a); break;
        case 9: gc_handle_offset_fetch(gc, j, &a); break;
        case 16: gc_handle_list_groups(gc, j, &a); break;
        case 15: gc_handle_describe_groups(gc, j, &a); break;
        case 42: gc_handle_delete_groups(gc, j, &a); break;
        case 47: gc_handle_offset_delete(gc, j, &a); break;
        default: j->done(j->ctx, NULL, SESP_ERR_UNSUPPORTED); break;
        }
    }
    sesp_arena_free(&a);
}

static void job_free(gc_job *j)
{
    free(j->client_id);
    free(j->client_host);
    free(j);
}

static void queue_cb(evutil_socket_t fd, short what, void *arg)
{
    gc_t *gc = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&gc->qmu);
    gc_job *list = gc->qhead;
    gc->qhead = gc->qtail = NULL;
    pthread_mutex_unlock(&gc->qmu);
    while (list) {
        gc_job *j = list;
        list = j->next;
        pthread_mutex_lock(&gc->mu);
        run_job(gc, j);
        pthread_mutex_unlock(&gc->mu);
        job_free(j);
    }
}

void sesp_group_handle_client(sesp_group_coordinator *gc, int16_t api_key, int16_t version, const char *client_id,
                              const char *client_host, const uint8_t *body, size_t len, sesp_group_done_fn done,
                              void *ctx)
{
    gc_job *j = malloc(sizeof *j + (len ? len : 1));
    if (!j) {
        done(ctx, NULL, SESP_ERR_NOMEM);
        return;
    }
    memset(j, 0, sizeof *j);
    j->api_key = api_key;
    j->version = version;
    j->done = done;
    j->ctx = ctx;
    j->len = len;
    if (len)
        memcpy(j->body, body, len);
    j->client_id = client_id ? strdup(client_id) : NULL;
    j->client_host = client_host ? strdup(client_host) : NULL;
    pthread_mutex_lock(&gc->qmu);
    bool stopping = gc->stopping;
    if (!stopping) {
        if (gc->qtail)
            gc->qtail->next = j;
        else
            gc->qhead = j;
        gc->qtail = j;
    }
    pthread_mutex_unlock(&gc->qmu);
    if (stopping) {
        job_free(j);
        done(ctx, NULL, SESP_ERR_STATE);
        return;
    }
    event_active(gc->q_ev, EV_READ, 0);
}

void sesp_group_handle(sesp_group_coordinator *gc, int16_t api_key, int16_t version, const uint8_t *body, size_t len,
                       sesp_group_done_fn done, void *ctx)
{
    sesp_group_handle_client(gc, api_key, version, NULL, NULL, body, len, done, ctx);
}

/* ---- loading and retention ---- */

static void load_cb(evutil_socket_t fd, short what, void *arg)
{
    gc_t *gc = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&gc->mu);
    if (gc->load_next < gc->cfg.offsets_topic_partitions) {
        /* A damaged partition must not keep the coordinator from serving the
         * others; what could be read is kept. */
        (void)gc_load_partition(gc, gc->load_next);
        gc->load_next++;
    }
    if (gc->load_next >= gc->cfg.offsets_topic_partitions) {
        gc->loading = false;
        /* Loaded groups with members are Stable: their members must heartbeat
         * within a session timeout or be removed, as after a Kafka failover. */
        GMAP_EACH(&gc->groups, e, nx) {
            gc_group *g = e->val;
            for (gc_member *m = g->members; m; m = m->next)
                gc_member_touch(m);
        }
    } else {
        struct timeval tv = { 0, 0 };
        event_add(gc->load_ev, &tv);
    }
    pthread_mutex_unlock(&gc->mu);
}

static void retention_cb(evutil_socket_t fd, short what, void *arg)
{
    gc_t *gc = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&gc->mu);
    if (!gc->loading)
        gc_expire_offsets(gc, gc_now_ms());
    pthread_mutex_unlock(&gc->mu);
}

/* Stopping goes through an event rather than a bare loopbreak: libevent
 * clears a break requested before the loop starts, so a stop that races the
 * thread's start would otherwise hang in pthread_join. */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    gc_t *gc = arg;
    (void)fd;
    (void)what;
    event_base_loopbreak(gc->base);
}

static void *thread_main(void *arg)
{
    gc_t *gc = arg;
    event_base_loop(gc->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static void evthread_init(void) { evthread_use_pthreads(); }

int sesp_group_start(const sesp_group_config *cfg, sesp_group_log_fn log_fn, void *log_ud,
                     sesp_group_coordinator **out)
{
    *out = NULL;
    if (!cfg || cfg->offsets_topic_partitions <= 0 || cfg->min_session_timeout_ms > cfg->max_session_timeout_ms)
        return SESP_ERR_INVALID_ARG;
    pthread_once(&evthread_once, evthread_init);
    gc_t *gc = calloc(1, sizeof *gc);
    if (!gc)
        return SESP_ERR_NOMEM;
    gc->cfg = *cfg;
    if (gc->cfg.max_group_size <= 0)
        gc->cfg.max_group_size = INT32_MAX;
    if (gc->cfg.max_metadata_bytes <= 0)
        gc->cfg.max_metadata_bytes = 1 << 20;
    gc->log_fn = log_fn;
    gc->log_ud = log_ud;
    gc->loading = true;
    pthread_mutex_init(&gc->mu, NULL);
    pthread_mutex_init(&gc->qmu, NULL);
    gc->base = event_base_new();
    if (!gc->base)
        goto fail;
    gc->q_ev = event_new(gc->base, -1, EV_PERSIST, queue_cb, gc);
    gc->load_ev = evtimer_new(gc->base, load_cb, gc);
    gc->retention_ev = event_new(gc->base, -1, EV_PERSIST, retention_cb, gc);
    gc->stop_ev = event_new(gc->base, -1, 0, stop_cb, gc);
    if (!gc->q_ev || !gc->load_ev || !gc->retention_ev || !gc->stop_ev)
        goto fail;
    struct timeval tv0 = { 0, 0 };
    int64_t ck = gc->cfg.offsets_retention_check_ms > 0 ? gc->cfg.offsets_retention_check_ms : 600000;
    struct timeval tvr = { (time_t)(ck / 1000), (suseconds_t)((ck % 1000) * 1000) };
    if (event_add(gc->load_ev, &tv0) != 0 || event_add(gc->retention_ev, &tvr) != 0)
        goto fail;
    if (pthread_create(&gc->thr, NULL, thread_main, gc) != 0)
        goto fail;
    gc->thr_started = true;
    *out = gc;
    return 0;
fail:
    sesp_group_stop(gc);
    return SESP_ERR_NOMEM;
}

int16_t gc_gate(gc_t *gc)
{
    if (gc->draining)
        return SESP_KERR_NOT_COORDINATOR;
    return gc->loading ? SESP_KERR_COORDINATOR_LOAD_IN_PROGRESS : SESP_KERR_NONE;
}

void sesp_group_stop(sesp_group_coordinator *gc)
{
    if (!gc)
        return;
    pthread_mutex_lock(&gc->qmu);
    gc->stopping = true;
    pthread_mutex_unlock(&gc->qmu);
    if (gc->thr_started) {
        event_active(gc->stop_ev, 0, 0);
        pthread_join(gc->thr, NULL);
    }
    gc->draining = true;
    gc_job *list = gc->qhead;
    gc->qhead = gc->qtail = NULL;
    while (list) {
        gc_job *j = list;
        list = j->next;
        /* The thread is gone: gc_gate answers NOT_COORDINATOR so clients look
         * the coordinator up again. */
        run_job(gc, j);
        job_free(j);
    }
    GMAP_EACH(&gc->groups, e, nx) {
        gc_group *g = e->val;
        group_free(g, SESP_KERR_NOT_COORDINATOR);
    }
    gmap_free(&gc->groups, NULL);
    if (gc->q_ev)
        event_free(gc->q_ev);
    if (gc->load_ev)
        event_free(gc->load_ev);
    if (gc->retention_ev)
        event_free(gc->retention_ev);
    if (gc->stop_ev)
        event_free(gc->stop_ev);
    if (gc->base)
        event_base_free(gc->base);
    pthread_mutex_destroy(&gc->mu);
    pthread_mutex_destroy(&gc->qmu);
    free(gc);
}

int64_t sesp_group_committed_offset(sesp_group_coordinator *gc, const char *group, const char *topic, int32_t partition)
{
    int64_t off = -1;
    pthread_mutex_lock(&gc->mu);
    gc_group *g = gmap_get(&gc->groups, group, strlen(group));
    if (g) {
        gc_offset *o = gc_offset_get(g, topic, strlen(topic), partition);
        if (o)
            off = o->offset;
    }
    pthread_mutex_unlock(&gc->mu);
    return off;
}
