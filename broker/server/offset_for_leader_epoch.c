/*
 * OffsetForLeaderEpoch (KIP-101/320): this node has led every partition
 * since its creation in epoch 0, so the end offset of epoch 0 (and of any
 * earlier "epoch") is the log end offset and later epochs are unknown.
 * Clients use it to validate their position after a metadata change.
 */
#include "server.h"

#include "broker/log/log.h"
#include "broker/protocol/generated/offset_for_leader_epoch_request.h"
#include "broker/protocol/generated/offset_for_leader_epoch_response.h"
#include "broker/protocol/kerr.h"

void sesp_h_offset_for_leader_epoch(sesp_req *rq)
{
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_offset_for_leader_epoch_request req;
    if (sesp_kmsg_offset_for_leader_epoch_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    int32_t nt = req.topics_count > 0 ? req.topics_count : 0;
    sesp_kmsg_offset_for_leader_epoch_response m;
    sesp_kmsg_offset_for_leader_epoch_response_init(&m);
    m.topics = sesp_arena_calloc(&rq->arena, (size_t)nt + 1, sizeof *m.topics);
    if (!m.topics) {
        sesp_req_close(rq);
        return;
    }
    m.topics_count = nt;
    for (int32_t i = 0; i < nt; i++) {
        sesp_kmsg_offset_for_leader_epoch_request_offset_for_leader_topic *t = &req.topics[i];
        sesp_kmsg_offset_for_leader_epoch_response_offset_for_leader_topic_result *tr = &m.topics[i];
        sesp_kmsg_offset_for_leader_epoch_response_offset_for_leader_topic_result_init(tr);
        tr->topic = t->topic;
        int32_t np = t->partitions_count > 0 ? t->partitions_count : 0;
        tr->partitions = sesp_arena_calloc(&rq->arena, (size_t)np + 1, sizeof *tr->partitions);
        if (!tr->partitions) {
            sesp_req_close(rq);
            return;
        }
        tr->partitions_count = np;
        sesp_topic *tp =
            t->topic.len >= 0 ? sesp_topics_get(rq->srv->topics, t->topic.ptr, (size_t)t->topic.len) : NULL;
        for (int32_t j = 0; j < np; j++) {
            const sesp_kmsg_offset_for_leader_epoch_request_offset_for_leader_partition *p = &t->partitions[j];
            sesp_kmsg_offset_for_leader_epoch_response_epoch_end_offset *o = &tr->partitions[j];
            sesp_kmsg_offset_for_leader_epoch_response_epoch_end_offset_init(o);
            o->partition = p->partition;
            o->leader_epoch = -1;
            o->end_offset = -1;
            sesp_log *log = tp ? sesp_topic_log(tp, p->partition) : NULL;
            if (!log) {
                o->error_code = SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else if (v >= 2 && p->current_leader_epoch > SESP_LOG_LEADER_EPOCH) {
                o->error_code = SESP_KERR_UNKNOWN_LEADER_EPOCH; /* the client knows a newer leader than us */
            } else if (p->leader_epoch <= SESP_LOG_LEADER_EPOCH) {
                o->error_code = SESP_KERR_NONE;
                o->leader_epoch = SESP_LOG_LEADER_EPOCH;
                o->end_offset = sesp_log_end_offset(log);
            } else {
                o->error_code = SESP_KERR_NONE; /* a later epoch: undefined (-1, -1) */
            }
        }
        if (tp)
            sesp_topic_release(tp);
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 128, 0);
    if (sesp_kmsg_offset_for_leader_epoch_response_encode(&w, v, &m) != 0 && !w.err)
        w.err = -1;
    sesp_req_respond(rq, &w);
}
