/*
 * Request dispatch: the sesp_net callback decodes the request header, routes
 * the request through the API table (which is also what ApiVersions
 * advertises), and owns the request context's lifetime and the ways to
 * answer: now on the connection's loop, or later from any thread.  Unknown
 * APIs/versions and undecodable bodies close the connection as Kafka does,
 * except an ApiVersions of a version we do not know, which gets the v0
 * UNSUPPORTED_VERSION answer of KIP-511.
 */
#include "server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/protocol/generated/api_table.h"
#include "broker/protocol/kerr.h"
#include "common/err.h"

int64_t sesp_server_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *sesp_req_str(sesp_req *rq, sesp_kstr s)
{
    if (s.len < 0)
        return sesp_arena_strndup(&rq->arena, "", 0);
    return sesp_arena_strndup(&rq->arena, s.ptr, (size_t)s.len);
}

int sesp_server_add_api(sesp_server *s, const sesp_api_def *def)
{
    const sesp_kapi_info *info = sesp_kapi_lookup(def->api_key);
    if (!info || !def->fn || def->min_version < info->min_version || def->max_version > info->max_version ||
        def->min_version > def->max_version)
        return SESP_ERR_INVALID_ARG;
    size_t i;
    for (i = 0; i < s->napis; i++)
        if (s->apis[i].api_key == def->api_key) {
            s->apis[i] = *def;
            return 0;
        }
    if (s->napis >= SESP_SERVER_MAX_APIS)
        return SESP_ERR_TOO_LARGE;
    /* Kept sorted by key: ApiVersions lists them in this order. */
    for (i = s->napis; i > 0 && s->apis[i - 1].api_key > def->api_key; i--)
        s->apis[i] = s->apis[i - 1];
    s->apis[i] = *def;
    s->napis++;
    return 0;
}

const sesp_api_def *sesp_server_find_api(const sesp_server *s, int16_t api_key)
{
    for (size_t i = 0; i < s->napis; i++)
        if (s->apis[i].api_key == api_key)
            return &s->apis[i];
    return NULL;
}

void sesp_server_init_apis(sesp_server *s)
{
    /* Produce below v3 and Fetch below v4 carry message formats 0/1, which
     * Kafka 4 removed (KIP-896); we never supported them. */
    static const sesp_api_def builtin[] = {
        /* v0-v2 listed but refused (see produce.c), as Kafka 4.0 does. */
        {SESP_KAPI_PRODUCE, 0, 11, sesp_h_produce},
        {SESP_KAPI_FETCH, 4, 17, sesp_h_fetch},
        {SESP_KAPI_LIST_OFFSETS, 0, 10, sesp_h_list_offsets},
        {SESP_KAPI_METADATA, 0, 12, sesp_h_metadata},
        {SESP_KAPI_FIND_COORDINATOR, 0, 6, sesp_h_find_coordinator},
        {SESP_KAPI_API_VERSIONS, 0, 4, sesp_h_api_versions},
        {SESP_KAPI_INIT_PRODUCER_ID, 0, 5, sesp_h_init_producer_id},
        {SESP_KAPI_OFFSET_FOR_LEADER_EPOCH, 0, 4, sesp_h_offset_for_leader_epoch},
    };
    for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
        int rc = sesp_server_add_api(s, &builtin[i]);
        (void)rc;
    }
}

void sesp_req_free(sesp_req *rq)
{
    if (!rq)
        return;
    sesp_arena_free(&rq->arena);
    free(rq->frame);
    if (rq->conn)
        sesp_conn_unref(rq->conn);
    free(rq);
}

static void free_cleanup(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    free(arg);
}

void sesp_req_respond_evbuf(sesp_req *rq, struct evbuffer *full)
{
    sesp_conn_respond(rq->conn, rq->seq, full);
    sesp_req_free(rq);
}

void sesp_req_respond(sesp_req *rq, sesp_bufw *w)
{
    if (w->err) {
        sesp_bufw_free(w);
        sesp_req_close(rq);
        return;
    }
    sesp_bufw h;
    sesp_bufw_init(&h, 16, 0);
    sesp_kresp_header_encode(&h, rq->hdr.api_key, rq->hdr.api_version, rq->hdr.correlation_id);
    struct evbuffer *eb = evbuffer_new();
    if (!eb || h.err || evbuffer_add(eb, h.p, h.len) != 0) {
        if (eb)
            evbuffer_free(eb);
        sesp_bufw_free(&h);
        sesp_bufw_free(w);
        sesp_req_close(rq);
        return;
    }
    sesp_bufw_free(&h);
    size_t len;
    uint8_t *body = sesp_bufw_steal(w, &len);
    if (body && len > 0) {
        /* By reference: a large response is not copied again. */
        if (evbuffer_add_reference(eb, body, len, free_cleanup, body) != 0) {
            free(body);
            evbuffer_free(eb);
            sesp_req_close(rq);
            return;
        }
    } else {
        free(body);
    }
    sesp_req_respond_evbuf(rq, eb);
}

void sesp_req_respond_none(sesp_req *rq)
{
    sesp_conn_respond_none(rq->conn, rq->seq);
    sesp_req_free(rq);
}

void sesp_req_close(sesp_req *rq)
{
    sesp_conn_close(rq->conn, rq->seq);
    sesp_req_free(rq);
}

typedef struct async_resp {
    sesp_req *rq;
    sesp_bufw w;
    bool close;
} async_resp;

static void async_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    async_resp *a = arg;
    if (a->close)
        sesp_req_close(a->rq);
    else
        sesp_req_respond(a->rq, &a->w);
    free(a);
}

void sesp_req_respond_async(sesp_req *rq, sesp_bufw *w)
{
    async_resp *a = calloc(1, sizeof *a);
    if (!a) {
        /* Nothing safe to do off the loop thread but leak the slot; the
         * connection stalls rather than the process crashing. */
        if (w)
            sesp_bufw_free(w);
        return;
    }
    a->rq = rq;
    if (w) {
        a->w = *w;
        memset(w, 0, sizeof *w);
    } else {
        a->close = true;
    }
    struct timeval zero = {0, 0};
    if (event_base_once(sesp_conn_base(rq->conn), -1, EV_TIMEOUT, async_cb, a, &zero) != 0) {
        sesp_bufw_free(&a->w);
        free(a);
    }
}

static void answer_unsupported_api_versions(sesp_req *rq)
{
    /* KIP-511: a version we do not know gets a v0 body the client can read. */
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    sesp_api_versions_encode(rq->srv, 0, SESP_KERR_UNSUPPORTED_VERSION, &w);
    rq->hdr.api_version = 0;
    sesp_req_respond(rq, &w);
}

void sesp_server_on_request(sesp_conn *c, uint64_t seq, uint8_t *frame, size_t len, void *ud)
{
    sesp_server *s = ud;
    sesp_req *rq = calloc(1, sizeof *rq);
    if (!rq) {
        free(frame);
        sesp_conn_close(c, seq);
        return;
    }
    sesp_conn_ref(c);
    rq->srv = s;
    rq->conn = c;
    rq->seq = seq;
    rq->frame = frame;
    rq->len = len;
    rq->received_ms = sesp_server_now_ms();
    /* Decoded arrays are bounded by the bytes present (the codecs check
     * counts against what is left), so a multiple of the frame suffices. */
    sesp_arena_init(&rq->arena, ((size_t)64 << 20) + len * 16);
    sesp_bufr_init(&rq->body, frame, len);
    int rc = sesp_kreq_header_decode(&rq->body, &rq->hdr);
    const sesp_api_def *def = rc == 0 ? sesp_server_find_api(s, rq->hdr.api_key) : NULL;
    if (rc == SESP_ERR_UNSUPPORTED || (rc == 0 && (!def || rq->hdr.api_version < def->min_version ||
                                                   rq->hdr.api_version > def->max_version))) {
        if (rq->hdr.api_key == SESP_KAPI_API_VERSIONS) {
            answer_unsupported_api_versions(rq);
            return;
        }
        sesp_req_close(rq);
        return;
    }
    if (rc) {
        sesp_req_close(rq);
        return;
    }
    def->fn(rq);
}
