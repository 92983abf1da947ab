/*
 * ListOffsets.  v1+: earliest (-2), latest (-1), max timestamp (-3) and the
 * first offset at or after a timestamp, from the partition's log indexes.
 * v0 (deprecated, still accepted by Kafka 3.9): a list of up to
 * max_num_offsets segment boundaries before a time (old_style_offsets).
 */
#include "server.h"

#include <stdlib.h>
#include <string.h>

#include "broker/log/log.h"
#include "broker/protocol/generated/list_offsets_request.h"
#include "broker/protocol/generated/list_offsets_response.h"
#include "broker/protocol/kerr.h"
#include "common/err.h"

#define TS_EARLIEST_LOCAL (-4) /* KIP-405: no tiering here, so the log start */
#define TS_LATEST_TIERED (-5)  /* nothing is tiered: not found */

/* One v0 partition, as Kafka's handleListOffsetRequestV0: the offsets from
 * the log (Kafka then cuts those above the high watermark for consumers; on
 * one node the high watermark is the end offset, so nothing is above it).
 * Errors carry an empty list, which is what Kafka's response holds. */
static void answer_v0(sesp_req *rq, sesp_log *log, const sesp_kmsg_list_offsets_request_list_offsets_partition *p,
                      sesp_kmsg_list_offsets_response_list_offsets_partition_response *pr)
{
    int64_t ts = p->timestamp == TS_EARLIEST_LOCAL ? SESP_LOG_TS_EARLIEST : p->timestamp;
    int64_t *offs = NULL;
    int32_t n = 0;
    int rc = sesp_log_offsets_before(log, ts, p->max_num_offsets, sesp_server_now_ms(), &offs, &n);
    if (rc == SESP_ERR_INVALID_ARG) {
        /* A negative max_num_offsets makes Kafka's array allocation throw,
         * which its handler reports as an unknown server error. */
        pr->error_code = SESP_KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    if (rc != 0) {
        pr->error_code = SESP_KERR_KAFKA_STORAGE_ERROR;
        return;
    }
    pr->error_code = SESP_KERR_NONE;
    if (n > 0) {
        pr->old_style_offsets = sesp_arena_calloc(&rq->arena, (size_t)n, sizeof *pr->old_style_offsets);
        if (!pr->old_style_offsets) {
            n = 0;
            pr->error_code = SESP_KERR_UNKNOWN_SERVER_ERROR;
        } else {
            memcpy(pr->old_style_offsets, offs, (size_t)n * sizeof *offs);
        }
    }
    pr->old_style_offsets_count = n;
    free(offs);
}

void sesp_h_list_offsets(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_list_offsets_request req;
    if (sesp_kmsg_list_offsets_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    int32_t nt = req.topics_count > 0 ? req.topics_count : 0;
    sesp_kmsg_list_offsets_response m;
    sesp_kmsg_list_offsets_response_init(&m);
    m.topics = sesp_arena_calloc(&rq->arena, (size_t)nt + 1, sizeof *m.topics);
    if (!m.topics) {
        sesp_req_close(rq);
        return;
    }
    m.topics_count = nt;
    for (int32_t i = 0; i < nt; i++) {
        sesp_kmsg_list_offsets_request_list_offsets_topic *t = &req.topics[i];
        sesp_kmsg_list_offsets_response_list_offsets_topic_response *tr = &m.topics[i];
        sesp_kmsg_list_offsets_response_list_offsets_topic_response_init(tr);
        tr->name = t->name;
        int32_t np = t->partitions_count > 0 ? t->partitions_count : 0;
        tr->partitions = sesp_arena_calloc(&rq->arena, (size_t)np + 1, sizeof *tr->partitions);
        if (!tr->partitions) {
            sesp_req_close(rq);
            return;
        }
        tr->partitions_count = np;
        sesp_topic *tp = t->name.len >= 0 ? sesp_topics_get(s->topics, t->name.ptr, (size_t)t->name.len) : NULL;
        for (int32_t j = 0; j < np; j++) {
            sesp_kmsg_list_offsets_response_list_offsets_partition_response *pr = &tr->partitions[j];
            sesp_kmsg_list_offsets_response_list_offsets_partition_response_init(pr);
            pr->partition_index = t->partitions[j].partition_index;
            pr->timestamp = -1;
            pr->offset = -1;
            pr->leader_epoch = -1;
            sesp_log *log = tp ? sesp_topic_log(tp, pr->partition_index) : NULL;
            if (!log) {
                pr->error_code = SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (v == 0) {
                answer_v0(rq, log, &t->partitions[j], pr);
                continue;
            }
            int64_t ts = t->partitions[j].timestamp, off = -1, found_ts = -1;
            if (ts == TS_EARLIEST_LOCAL)
                ts = SESP_LOG_TS_EARLIEST;
            if (ts < 0 && ts != SESP_LOG_TS_EARLIEST && ts != SESP_LOG_TS_LATEST && ts != SESP_LOG_TS_MAX_TIMESTAMP &&
                ts != TS_LATEST_TIERED) {
                pr->error_code = SESP_KERR_INVALID_REQUEST;
                continue;
            }
            if (ts != TS_LATEST_TIERED && sesp_log_offset_for_time(log, ts, &off, &found_ts) != 0) {
                pr->error_code = SESP_KERR_KAFKA_STORAGE_ERROR;
                continue;
            }
            pr->error_code = SESP_KERR_NONE;
            pr->offset = off;
            pr->timestamp = off >= 0 ? found_ts : -1;
            pr->leader_epoch = off >= 0 ? SESP_LOG_LEADER_EPOCH : -1;
        }
        if (tp)
            sesp_topic_release(tp);
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    if (sesp_kmsg_list_offsets_response_encode(&w, v, &m) != 0 && !w.err)
        w.err = -1;
    sesp_req_respond(rq, &w);
}
