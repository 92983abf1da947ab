/*
 * InitProducerId for idempotent (non-transactional) producers: hands out
 * producer ids that are unique across restarts (seeded from the clock, then
 * counted) and bumps the epoch of a known id (KIP-360).  Transactions are not
 * supported: a transactional id gets a fatal error instead of a coordinator
 * that would never commit.  Sequence numbers are not checked by the log, so
 * a retried batch may be stored twice (at-least-once, not exactly-once).
 */
#include "server.h"

#include "broker/protocol/generated/init_producer_id_request.h"
#include "broker/protocol/generated/init_producer_id_response.h"
#include "broker/protocol/kerr.h"

static atomic_llong g_next_pid;

void sesp_h_init_producer_id(sesp_req *rq)
{
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_init_producer_id_request req;
    if (sesp_kmsg_init_producer_id_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    sesp_kmsg_init_producer_id_response m;
    sesp_kmsg_init_producer_id_response_init(&m);
    m.producer_id = -1;
    m.producer_epoch = -1;
    if (req.transactional_id.len >= 0) {
        /* No transaction coordinator: a fatal, explicit answer. */
        m.error_code = SESP_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (req.producer_id >= 0 && req.producer_epoch >= 0 && req.producer_epoch < INT16_MAX - 1) {
        m.producer_id = req.producer_id;
        m.producer_epoch = (int16_t)(req.producer_epoch + 1);
    } else {
        long long expect = atomic_load(&g_next_pid);
        if (expect == 0) {
            /* ms * 1000 keeps ids of a later run above this run's. */
            long long seed = (long long)sesp_server_now_ms() * 1000;
            atomic_compare_exchange_strong(&g_next_pid, &expect, seed);
        }
        m.producer_id = atomic_fetch_add(&g_next_pid, 1);
        m.producer_epoch = 0;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    if (sesp_kmsg_init_producer_id_response_encode(&w, v, &m) != 0 && !w.err)
        w.err = -1;
    sesp_req_respond(rq, &w);
}
