/*
 * Fetch: reads each requested partition's records as file ranges of its
 * segments (never copying them), honouring max_bytes / partition_max_bytes
 * with KIP-74's "first batch always fits" rule, and long-polls: when fewer
 * than min_bytes are available the request is parked with a waiter on every
 * partition and completed on its connection's loop by the first produce to
 * one of them or by the max_wait_ms timer.  Fetch sessions are not kept: a
 * full fetch is answered with session id 0 (sessionless) and an incremental
 * one with FETCH_SESSION_ID_NOT_FOUND so the client falls back to full
 * fetches.
 */
#include "server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/log.h"
#include "broker/protocol/generated/fetch_request.h"
#include "broker/protocol/kerr.h"
#include "broker/server/fetch_encode.h"
#include "common/err.h"

#define MAX_WAIT_CAP_MS 300000

typedef struct fetch_ctx fetch_ctx;

typedef struct fpart {
    fetch_ctx *ctx;
    sesp_topic *tp;          /* referenced; NULL when the topic is unknown */
    sesp_partition *part;    /* NULL when unknown */
    int16_t static_err;      /* unknown topic/partition: fixed for the request */
    int64_t fetch_offset;
    int32_t max_bytes;
    sesp_partition_waiter w;
} fpart;

struct fetch_ctx {
    sesp_req *rq;
    int16_t version;
    int32_t min_bytes, max_bytes;
    bool read_committed;
    sesp_fetch_topic_out *topics;
    int32_t ntopics;
    sesp_fetch_part_out *outs;
    fpart *parts;
    int32_t nparts;
    struct event *wake_ev, *timer_ev;
    fetch_ctx *prev, *next;  /* parked list */
    bool parked;
};

static pthread_mutex_t g_parked_mu = PTHREAD_MUTEX_INITIALIZER;
static fetch_ctx *g_parked;
static atomic_bool g_stopping;

static void close_slices(fetch_ctx *ctx)
{
    for (int32_t k = 0; k < ctx->nparts; k++) {
        if (ctx->outs[k].fd >= 0)
            close(ctx->outs[k].fd);
        ctx->outs[k].fd = -1;
        ctx->outs[k].length = 0;
    }
}

/* Reads what is available now; returns the bytes gathered and sets *errors
 * when some partition has an error (answered at once, as Kafka does). */
static int64_t collect(fetch_ctx *ctx, bool *errors)
{
    int64_t total = 0;
    *errors = false;
    close_slices(ctx);
    for (int32_t k = 0; k < ctx->nparts; k++) {
        fpart *fp = &ctx->parts[k];
        sesp_fetch_part_out *o = &ctx->outs[k];
        o->aborted_empty = ctx->read_committed;
        o->error = fp->static_err;
        o->high_watermark = o->last_stable_offset = o->log_start_offset = -1;
        if (fp->static_err) {
            *errors = true;
            continue;
        }
        sesp_log *log = sesp_partition_log(fp->part);
        int64_t start = sesp_log_start_offset(log), end = sesp_log_end_offset(log);
        o->high_watermark = o->last_stable_offset = end;
        o->log_start_offset = start;
        if (fp->fetch_offset < start || fp->fetch_offset > end) {
            o->error = SESP_KERR_OFFSET_OUT_OF_RANGE;
            *errors = true;
            continue;
        }
        if (fp->fetch_offset == end)
            continue;
        int64_t left = (int64_t)ctx->max_bytes - total;
        int64_t lim = fp->max_bytes < left ? fp->max_bytes : left;
        bool min_one = total == 0;
        if (lim <= 0 && !min_one)
            continue;
        sesp_log_slice sl = {.fd = -1};
        int rc = sesp_log_read(log, fp->fetch_offset, (int32_t)(lim < 0 ? 0 : lim), min_one, &sl);
        if (rc == SESP_ERR_RANGE) {
            o->error = SESP_KERR_OFFSET_OUT_OF_RANGE;
            *errors = true;
            continue;
        }
        if (rc != 0) {
            o->error = SESP_KERR_KAFKA_STORAGE_ERROR;
            *errors = true;
            continue;
        }
        if (sl.fd >= 0 && sl.length > 0 && sl.length <= INT32_MAX) {
            o->fd = sl.fd;
            o->file_pos = sl.file_pos;
            o->length = sl.length;
            total += sl.length;
        } else if (sl.fd >= 0) {
            close(sl.fd);
        }
    }
    return total;
}

static void finish(fetch_ctx *ctx)
{
    sesp_req *rq = ctx->rq;
    for (int32_t k = 0; k < ctx->nparts; k++)
        sesp_partition_remove_waiter(&ctx->parts[k].w);
    if (ctx->parked) {
        pthread_mutex_lock(&g_parked_mu);
        if (ctx->prev)
            ctx->prev->next = ctx->next;
        else
            g_parked = ctx->next;
        if (ctx->next)
            ctx->next->prev = ctx->prev;
        pthread_mutex_unlock(&g_parked_mu);
        atomic_fetch_sub(&rq->srv->pending_fetches, 1);
    }
    if (ctx->wake_ev)
        event_free(ctx->wake_ev);
    if (ctx->timer_ev)
        event_free(ctx->timer_ev);
    /* A body on which the file ranges stay references down to sendfile(2). */
    struct evbuffer *eb = sesp_net_body_new();
    int rc = eb ? sesp_fetch_encode(eb, ctx->version, rq->hdr.correlation_id, SESP_KERR_NONE, 0, ctx->topics,
                                    ctx->ntopics)
                : SESP_ERR_NOMEM;
    close_slices(ctx);
    for (int32_t k = 0; k < ctx->nparts; k++)
        if (ctx->parts[k].tp)
            sesp_topic_release(ctx->parts[k].tp);
    /* ctx lives in rq's arena: nothing of it is used past this point. */
    if (rc) {
        if (eb)
            evbuffer_free(eb);
        sesp_req_close(rq);
        return;
    }
    sesp_req_respond_evbuf(rq, eb);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_ctx *ctx = arg;
    bool errors;
    int64_t total = collect(ctx, &errors);
    if (total >= ctx->min_bytes || errors || atomic_load(&g_stopping) || sesp_conn_is_closed(ctx->rq->conn))
        finish(ctx);
    else
        close_slices(ctx);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_ctx *ctx = arg;
    bool errors;
    collect(ctx, &errors);
    finish(ctx);
}

/* Producer thread, partition waiter lock held: only schedule. */
static void on_partition_append(sesp_partition_waiter *w, void *ud)
{
    (void)w;
    fetch_ctx *ctx = ud;
    event_active(ctx->wake_ev, EV_READ, 1);
}

void sesp_fetch_wake_all(void)
{
    atomic_store(&g_stopping, true);
    pthread_mutex_lock(&g_parked_mu);
    for (fetch_ctx *c = g_parked; c; c = c->next)
        event_active(c->wake_ev, EV_READ, 1);
    pthread_mutex_unlock(&g_parked_mu);
}

void sesp_fetch_reset(void)
{
    atomic_store(&g_stopping, false);
}

static void answer_session_error(sesp_req *rq, int16_t v)
{
    struct evbuffer *eb = evbuffer_new();
    if (!eb || sesp_fetch_encode(eb, v, rq->hdr.correlation_id, SESP_KERR_FETCH_SESSION_ID_NOT_FOUND, 0, NULL, 0)) {
        if (eb)
            evbuffer_free(eb);
        sesp_req_close(rq);
        return;
    }
    sesp_req_respond_evbuf(rq, eb);
}

void sesp_h_fetch(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_fetch_request req;
    if (sesp_kmsg_fetch_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    /* Sessionless: an incremental fetch (epoch > 0) or a session we never
     * created gets FETCH_SESSION_ID_NOT_FOUND; epoch -1 (final/none) and a
     * new-session request (id 0, epoch 0) are full fetches answered with
     * session id 0, which tells the client no session was created. */
    if (v >= 7 && (req.session_epoch > 0 || (req.session_id != 0 && req.session_epoch != -1))) {
        answer_session_error(rq, v);
        return;
    }
    fetch_ctx *ctx = sesp_arena_alloc(&rq->arena, sizeof *ctx);
    int32_t nt = req.topics_count > 0 ? req.topics_count : 0, np = 0;
    for (int32_t t = 0; t < nt; t++)
        np += req.topics[t].partitions_count > 0 ? req.topics[t].partitions_count : 0;
    if (!ctx) {
        sesp_req_close(rq);
        return;
    }
    ctx->rq = rq;
    ctx->version = v;
    ctx->min_bytes = req.min_bytes;
    ctx->max_bytes = req.max_bytes < 0 ? 0 : req.max_bytes;
    ctx->read_committed = req.isolation_level == 1;
    ctx->topics = sesp_arena_calloc(&rq->arena, (size_t)nt + 1, sizeof *ctx->topics);
    ctx->outs = sesp_arena_calloc(&rq->arena, (size_t)np + 1, sizeof *ctx->outs);
    ctx->parts = sesp_arena_calloc(&rq->arena, (size_t)np + 1, sizeof *ctx->parts);
    if (!ctx->topics || !ctx->outs || !ctx->parts) {
        sesp_req_close(rq);
        return;
    }
    ctx->ntopics = nt;
    int32_t k = 0;
    for (int32_t t = 0; t < nt; t++) {
        sesp_kmsg_fetch_request_fetch_topic *ft = &req.topics[t];
        sesp_fetch_topic_out *to = &ctx->topics[t];
        sesp_topic *tp = NULL;
        int16_t terr;
        if (v >= 13) {
            sesp_topic_id id;
            memcpy(id.b, ft->topic_id.b, 16);
            memcpy(to->id, ft->topic_id.b, 16);
            tp = sesp_topics_get_by_id(s->topics, &id);
            terr = SESP_KERR_UNKNOWN_TOPIC_ID;
        } else {
            to->name = ft->topic.len > 0 ? ft->topic.ptr : "";
            to->name_len = ft->topic.len > 0 ? ft->topic.len : 0;
            tp = ft->topic.len >= 0 ? sesp_topics_get(s->topics, ft->topic.ptr, (size_t)ft->topic.len) : NULL;
            terr = SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        int32_t n = ft->partitions_count > 0 ? ft->partitions_count : 0;
        to->parts = &ctx->outs[k];
        to->nparts = n;
        for (int32_t p = 0; p < n; p++, k++) {
            fpart *fp = &ctx->parts[k];
            fp->ctx = ctx;
            fp->fetch_offset = ft->partitions[p].fetch_offset;
            fp->max_bytes = ft->partitions[p].partition_max_bytes;
            ctx->outs[k].partition = ft->partitions[p].partition;
            ctx->outs[k].fd = -1;
            fp->w.cb = on_partition_append;
            fp->w.ud = ctx;
            fp->part = tp ? sesp_topic_partition(tp, ft->partitions[p].partition) : NULL;
            if (!fp->part) {
                fp->static_err = tp ? SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION : terr;
                continue;
            }
            sesp_topic_ref(tp);
            fp->tp = tp;
        }
        if (tp)
            sesp_topic_release(tp);
    }
    ctx->nparts = k;

    bool errors;
    int64_t total = collect(ctx, &errors);
    int32_t max_wait = req.max_wait_ms > MAX_WAIT_CAP_MS ? MAX_WAIT_CAP_MS : req.max_wait_ms;
    if (total >= ctx->min_bytes || errors || max_wait <= 0 || ctx->nparts == 0 || atomic_load(&g_stopping)) {
        finish(ctx);
        return;
    }
    close_slices(ctx);
    struct event_base *base = sesp_conn_base(rq->conn);
    ctx->wake_ev = event_new(base, -1, 0, on_wake, ctx);
    ctx->timer_ev = evtimer_new(base, on_timer, ctx);
    struct timeval tv = {max_wait / 1000, (max_wait % 1000) * 1000};
    if (!ctx->wake_ev || !ctx->timer_ev || evtimer_add(ctx->timer_ev, &tv) != 0) {
        finish(ctx);
        return;
    }
    pthread_mutex_lock(&g_parked_mu);
    ctx->parked = true;
    ctx->next = g_parked;
    if (g_parked)
        g_parked->prev = ctx;
    g_parked = ctx;
    pthread_mutex_unlock(&g_parked_mu);
    atomic_fetch_add(&s->pending_fetches, 1);
    for (int32_t i = 0; i < ctx->nparts; i++)
        if (ctx->parts[i].part)
            sesp_partition_add_waiter(ctx->parts[i].part, &ctx->parts[i].w);
    /* A produce may have landed between the first read and the waiters. */
    event_active(ctx->wake_ev, EV_READ, 1);
}
