/*
 * DescribeCluster (v0-1): this node is the whole cluster, its only broker
 * and its controller.  v1's endpoint_type 2 (controllers) is refused as a
 * broker does: clients must ask a controller endpoint for that.
 */
#include <limits.h>

#include "admin_int.h"
#include "broker/protocol/generated/describe_cluster_request.h"
#include "broker/protocol/generated/describe_cluster_response.h"
#include "broker/protocol/kerr.h"

#define ENDPOINT_BROKERS 1

void sesp_admin_h_describe_cluster(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_describe_cluster_request req;
    if (sesp_kmsg_describe_cluster_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    sesp_kmsg_describe_cluster_response m;
    sesp_kmsg_describe_cluster_response_init(&m);
    sesp_kmsg_describe_cluster_response_describe_cluster_broker b;
    sesp_kmsg_describe_cluster_response_describe_cluster_broker_init(&b);
    m.cluster_id = SESP_KSTR(s->cluster_id);
    m.cluster_authorized_operations = INT32_MIN; /* no authorizer */
    m.endpoint_type = v >= 1 ? req.endpoint_type : ENDPOINT_BROKERS;
    if (v >= 1 && req.endpoint_type != ENDPOINT_BROKERS) {
        m.error_code = SESP_KERR_UNSUPPORTED_ENDPOINT_TYPE;
        m.error_message = SESP_KSTR("The broker does not support this endpoint type");
        m.controller_id = -1;
        m.brokers = NULL;
        m.brokers_count = 0;
    } else {
        m.error_code = SESP_KERR_NONE;
        m.error_message = SESP_KSTR_NULL;
        m.controller_id = s->node_id;
        b.broker_id = s->node_id;
        b.host = SESP_KSTR(s->adv_host);
        b.port = s->adv_port;
        b.rack = SESP_KSTR_NULL;
        m.brokers = &b;
        m.brokers_count = 1;
    }
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_describe_cluster_response_encode, v, &m);
}
