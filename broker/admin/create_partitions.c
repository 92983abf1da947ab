/*
 * CreatePartitions (v0-3): grows a topic to a larger partition count, with
 * an optional manual assignment for the new partitions (only [this node]
 * each) and validate_only.  A topic named twice fails for every occurrence.
 */
#include <string.h>

#include "admin_int.h"
#include "broker/protocol/generated/create_partitions_request.h"
#include "broker/protocol/generated/create_partitions_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_create_partitions_request_create_partitions_topic ptopic;

static int16_t grow(sesp_req *rq, const ptopic *t, bool validate_only, char *msg, size_t msglen)
{
    sesp_server *s = rq->srv;
    if (t->name.len < 0) {
        snprintf(msg, msglen, "The topic '' does not exist.");
        return SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    sesp_topic *tp = sesp_topics_get(s->topics, t->name.ptr, (size_t)t->name.len);
    if (!tp) {
        snprintf(msg, msglen, "The topic '%.*s' does not exist.", (int)t->name.len, t->name.ptr);
        return SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    int32_t cur = sesp_topic_partition_count(tp);
    sesp_topic_release(tp);
    if (t->assignments_count >= 0 && t->count > cur) {
        int32_t want = t->count - cur;
        if (t->assignments_count != want) {
            snprintf(msg, msglen, "Attempted to add %d additional partition(s), but only %d assignment(s) were specified.",
                     want, t->assignments_count);
            return SESP_KERR_INVALID_REPLICA_ASSIGNMENT;
        }
        for (int32_t i = 0; i < t->assignments_count; i++) {
            int16_t e = sesp_admin_check_replicas(t->assignments[i].broker_ids, t->assignments[i].broker_ids_count,
                                                  s->node_id, msg, msglen);
            if (e)
                return e;
        }
    }
    /* The registry re-checks the count under its lock (concurrent growth). */
    return sesp_topics_create_partitions(s->topics, t->name.ptr, (size_t)t->name.len, t->count, validate_only, msg,
                                         msglen);
}

void sesp_admin_h_create_partitions(sesp_req *rq)
{
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_create_partitions_request req;
    if (sesp_kmsg_create_partitions_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    int32_t n = req.topics_count > 0 ? req.topics_count : 0;
    sesp_kmsg_create_partitions_response m;
    sesp_kmsg_create_partitions_response_init(&m);
    m.results = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *m.results);
    sesp_kstr *names = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *names);
    if (!m.results || !names) {
        sesp_req_close(rq);
        return;
    }
    for (int32_t i = 0; i < n; i++)
        names[i] = req.topics[i].name;
    m.results_count = n;
    for (int32_t i = 0; i < n; i++) {
        sesp_kmsg_create_partitions_response_create_partitions_topic_result *r = &m.results[i];
        sesp_kmsg_create_partitions_response_create_partitions_topic_result_init(r);
        r->name = names[i].len >= 0 ? names[i] : SESP_KSTR("");
        char msg[SESP_TOPICS_MSG_LEN] = "";
        int16_t e;
        if (sesp_admin_dup_name(names, n, i)) {
            e = SESP_KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "Duplicate topic name.");
        } else {
            e = grow(rq, &req.topics[i], req.validate_only, msg, sizeof msg);
        }
        r->error_code = e;
        r->error_message = sesp_admin_msg(rq, e, msg);
    }
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_create_partitions_response_encode, v, &m);
}
