/*
 * FindCoordinator: on a single node every group and transactional id is
 * coordinated here.  v4+ answers a batch of keys.
 */
#include "server.h"

#include "broker/protocol/generated/find_coordinator_request.h"
#include "broker/protocol/generated/find_coordinator_response.h"
#include "broker/protocol/kerr.h"

void sesp_h_find_coordinator(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_find_coordinator_request req;
    if (sesp_kmsg_find_coordinator_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    /* 0 = group, 1 = transaction; anything else is a bad request. */
    int16_t err = (req.key_type == 0 || req.key_type == 1) ? SESP_KERR_NONE : SESP_KERR_INVALID_REQUEST;
    sesp_kmsg_find_coordinator_response m;
    sesp_kmsg_find_coordinator_response_init(&m);
    m.throttle_time_ms = 0;
    if (v < 4) {
        m.error_code = err;
        m.error_message = err ? SESP_KSTR("unknown coordinator key type") : SESP_KSTR_NULL;
        m.node_id = err ? -1 : s->node_id;
        m.host = err ? SESP_KSTR("") : SESP_KSTR(s->adv_host);
        m.port = err ? -1 : s->adv_port;
    } else {
        int32_t n = req.coordinator_keys_count > 0 ? req.coordinator_keys_count : 0;
        sesp_kmsg_find_coordinator_response_coordinator *co =
            n ? sesp_arena_calloc(&rq->arena, (size_t)n, sizeof *co) : NULL;
        if (n && !co) {
            sesp_req_close(rq);
            return;
        }
        for (int32_t i = 0; i < n; i++) {
            sesp_kmsg_find_coordinator_response_coordinator_init(&co[i]);
            co[i].key = req.coordinator_keys[i];
            co[i].error_code = err;
            co[i].error_message = err ? SESP_KSTR("unknown coordinator key type") : SESP_KSTR_NULL;
            co[i].node_id = err ? -1 : s->node_id;
            co[i].host = err ? SESP_KSTR("") : SESP_KSTR(s->adv_host);
            co[i].port = err ? -1 : s->adv_port;
        }
        m.coordinators = co;
        m.coordinators_count = n;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 128, 0);
    if (sesp_kmsg_find_coordinator_response_encode(&w, v, &m) != 0 && !w.err)
        w.err = -1;
    sesp_req_respond(rq, &w);
}
