/*
 * ApiVersions: the list of APIs and versions this broker answers, taken from
 * the dispatch table so that what we advertise is exactly what we handle.
 */
#include "server.h"

#include "broker/protocol/generated/api_versions_request.h"
#include "broker/protocol/generated/api_versions_response.h"
#include "broker/protocol/kerr.h"

void sesp_api_versions_encode(const sesp_server *s, int16_t version, int16_t error, sesp_bufw *w)
{
    sesp_kmsg_api_versions_response m;
    sesp_kmsg_api_versions_response_init(&m);
    sesp_kmsg_api_versions_response_api_version keys[SESP_SERVER_MAX_APIS];
    for (size_t i = 0; i < s->napis; i++) {
        sesp_kmsg_api_versions_response_api_version_init(&keys[i]);
        keys[i].api_key = s->apis[i].api_key;
        keys[i].min_version = s->apis[i].min_version;
        keys[i].max_version = s->apis[i].max_version;
    }
    m.error_code = error;
    m.api_keys = keys;
    m.api_keys_count = (int32_t)s->napis;
    m.throttle_time_ms = 0;
    m.supported_features = NULL;
    m.supported_features_count = 0;
    m.finalized_features = NULL;
    m.finalized_features_count = 0;
    if (sesp_kmsg_api_versions_response_encode(w, version, &m) != 0 && !w->err)
        w->err = -1;
}

void sesp_h_api_versions(sesp_req *rq)
{
    sesp_kmsg_api_versions_request req;
    if (sesp_kmsg_api_versions_request_decode(&rq->body, rq->hdr.api_version, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 512, 0);
    sesp_api_versions_encode(rq->srv, rq->hdr.api_version, SESP_KERR_NONE, &w);
    sesp_req_respond(rq, &w);
}
