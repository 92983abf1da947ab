/*
 * Metadata: this node as the only broker, controller and leader of every
 * partition; the requested topics (or all), auto-created when the broker
 * and the request allow it.
 */
#include "server.h"

#include <limits.h>
#include <string.h>

#include "broker/log/log.h"
#include "broker/protocol/generated/metadata_request.h"
#include "broker/protocol/generated/metadata_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_metadata_response_metadata_response_topic mtopic;
typedef sesp_kmsg_metadata_response_metadata_response_partition mpart;

static bool is_internal(const char *name)
{
    return strcmp(name, "__consumer_offsets") == 0 || strcmp(name, "__transaction_state") == 0;
}

/* Fills t from a live topic; false on arena exhaustion. */
static bool fill_topic(sesp_req *rq, mtopic *t, sesp_topic *tp)
{
    int32_t node = rq->srv->node_id;
    int32_t n = sesp_topic_partition_count(tp);
    t->error_code = SESP_KERR_NONE;
    t->name = SESP_KSTR(sesp_req_str(rq, SESP_KSTR(sesp_topic_name(tp))));
    memcpy(t->topic_id.b, sesp_topic_id_of(tp)->b, 16);
    t->is_internal = is_internal(sesp_topic_name(tp));
    mpart *ps = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *ps);
    int32_t *nodes = sesp_arena_calloc(&rq->arena, 1, sizeof *nodes);
    if (!ps || !nodes)
        return false;
    nodes[0] = node;
    for (int32_t i = 0; i < n; i++) {
        sesp_kmsg_metadata_response_metadata_response_partition_init(&ps[i]);
        ps[i].error_code = SESP_KERR_NONE;
        ps[i].partition_index = i;
        ps[i].leader_id = node;
        ps[i].leader_epoch = SESP_LOG_LEADER_EPOCH;
        ps[i].replica_nodes = nodes;
        ps[i].replica_nodes_count = 1;
        ps[i].isr_nodes = nodes;
        ps[i].isr_nodes_count = 1;
        ps[i].offline_replicas = NULL;
        ps[i].offline_replicas_count = 0;
    }
    t->partitions = ps;
    t->partitions_count = n;
    t->topic_authorized_operations = INT32_MIN;
    return true;
}

void sesp_h_metadata(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_metadata_request req;
    if (sesp_kmsg_metadata_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    sesp_kmsg_metadata_response m;
    sesp_kmsg_metadata_response_init(&m);
    sesp_kmsg_metadata_response_metadata_response_broker b;
    sesp_kmsg_metadata_response_metadata_response_broker_init(&b);
    b.node_id = s->node_id;
    b.host = SESP_KSTR(s->adv_host);
    b.port = s->adv_port;
    b.rack = SESP_KSTR_NULL;
    m.throttle_time_ms = 0;
    m.brokers = &b;
    m.brokers_count = 1;
    m.cluster_id = SESP_KSTR(s->cluster_id);
    m.controller_id = s->node_id;
    m.cluster_authorized_operations = INT32_MIN;

    /* v0: an empty list means all topics; v1+: null means all. */
    bool all = req.topics_count < 0 || (v == 0 && req.topics_count == 0);
    bool allow_create = v < 4 ? true : req.allow_auto_topic_creation;
    sesp_topic **list = NULL;
    size_t nlist = 0;
    bool ok = true;
    if (all) {
        if (sesp_topics_list(s->topics, &list, &nlist) != 0) {
            sesp_req_close(rq);
            return;
        }
        m.topics = sesp_arena_calloc(&rq->arena, nlist + 1, sizeof *m.topics);
        ok = m.topics != NULL;
        for (size_t i = 0; ok && i < nlist; i++) {
            sesp_kmsg_metadata_response_metadata_response_topic_init(&m.topics[i]);
            ok = fill_topic(rq, &m.topics[i], list[i]);
        }
        m.topics_count = (int32_t)nlist;
        sesp_topics_list_free(list, nlist);
    } else {
        int32_t n = req.topics_count;
        m.topics = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *m.topics);
        ok = m.topics != NULL;
        for (int32_t i = 0; ok && i < n; i++) {
            mtopic *t = &m.topics[i];
            sesp_kmsg_metadata_response_metadata_response_topic_init(t);
            t->topic_authorized_operations = INT32_MIN;
            const sesp_kstr name = req.topics[i].name;
            sesp_topic *tp = NULL;
            if (name.len < 0) {
                /* v10+: by topic id. */
                sesp_topic_id id;
                memcpy(id.b, req.topics[i].topic_id.b, 16);
                tp = sesp_topics_get_by_id(s->topics, &id);
                if (!tp) {
                    t->error_code = SESP_KERR_UNKNOWN_TOPIC_ID;
                    t->name = SESP_KSTR_NULL;
                    t->topic_id = req.topics[i].topic_id;
                    continue;
                }
            } else {
                char msg[SESP_TOPICS_MSG_LEN];
                t->name = name;
                if (sesp_topics_validate_name(name.ptr, (size_t)name.len, msg, sizeof msg)) {
                    tp = sesp_topics_get(s->topics, name.ptr, (size_t)name.len); /* never, but harmless */
                    if (!tp) {
                        t->error_code = SESP_KERR_INVALID_TOPIC_EXCEPTION;
                        continue;
                    }
                } else {
                    int16_t err = 0;
                    tp = sesp_topics_get_or_create(s->topics, name.ptr, (size_t)name.len, allow_create, &err);
                    if (!tp) {
                        t->error_code = err ? err : SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                        continue;
                    }
                }
            }
            ok = fill_topic(rq, t, tp);
            sesp_topic_release(tp);
        }
        m.topics_count = n;
    }
    if (!ok) {
        sesp_req_close(rq);
        return;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 1024, 0);
    if (sesp_kmsg_metadata_response_encode(&w, v, &m) != 0 && !w.err)
        w.err = -1;
    sesp_req_respond(rq, &w);
}
