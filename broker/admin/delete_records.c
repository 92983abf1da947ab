/*
 * DeleteRecords (v0-2): moves each partition's log start offset forward
 * (offset -1 = the high watermark); whole segments below it are deleted and
 * consumers can no longer read below it.  An offset beyond the high
 * watermark is OFFSET_OUT_OF_RANGE; a topic whose cleanup.policy lacks
 * "delete" refuses with POLICY_VIOLATION, as in Kafka.  The answer is the
 * partition's new low watermark.
 */
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "broker/log/log.h"
#include "broker/protocol/generated/delete_records_request.h"
#include "broker/protocol/generated/delete_records_response.h"
#include "broker/protocol/kerr.h"
#include "common/err.h"

#define OFFSET_HIGH_WATERMARK (-1)

/* Whether cleanup.policy allows deleting (has the item "delete"). */
static bool deletable(sesp_topic *tp)
{
    char *pol = sesp_topic_config_get_override(tp, "cleanup.policy");
    if (!pol)
        return true; /* the broker default (log.cleanup.policy=delete) */
    bool ok = false;
    for (char *save = NULL, *it = strtok_r(pol, ", ", &save); it; it = strtok_r(NULL, ", ", &save))
        ok |= strcmp(it, "delete") == 0;
    free(pol);
    return ok;
}

static int16_t delete_one(sesp_topic *tp, int32_t p, int64_t offset, int64_t *low)
{
    sesp_log *log = tp ? sesp_topic_log(tp, p) : NULL;
    *low = -1;
    if (!log)
        return SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (!deletable(tp))
        return SESP_KERR_POLICY_VIOLATION;
    int64_t hw = sesp_log_end_offset(log);
    if (offset == OFFSET_HIGH_WATERMARK)
        offset = hw;
    if (offset < 0 || offset > hw)
        return SESP_KERR_OFFSET_OUT_OF_RANGE;
    int rc = sesp_log_truncate_prefix(log, offset);
    if (rc == SESP_ERR_RANGE)
        return SESP_KERR_OFFSET_OUT_OF_RANGE; /* the log moved under us (retention) */
    if (rc)
        return SESP_KERR_KAFKA_STORAGE_ERROR;
    *low = sesp_log_start_offset(log);
    return SESP_KERR_NONE;
}

void sesp_admin_h_delete_records(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_delete_records_request req;
    if (sesp_kmsg_delete_records_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    int32_t nt = req.topics_count > 0 ? req.topics_count : 0;
    sesp_kmsg_delete_records_response m;
    sesp_kmsg_delete_records_response_init(&m);
    m.topics = sesp_arena_calloc(&rq->arena, (size_t)nt + 1, sizeof *m.topics);
    if (!m.topics) {
        sesp_req_close(rq);
        return;
    }
    m.topics_count = nt;
    for (int32_t i = 0; i < nt; i++) {
        const sesp_kmsg_delete_records_request_delete_records_topic *t = &req.topics[i];
        sesp_kmsg_delete_records_response_delete_records_topic_result *tr = &m.topics[i];
        sesp_kmsg_delete_records_response_delete_records_topic_result_init(tr);
        tr->name = t->name.len >= 0 ? t->name : SESP_KSTR("");
        int32_t np = t->partitions_count > 0 ? t->partitions_count : 0;
        tr->partitions = sesp_arena_calloc(&rq->arena, (size_t)np + 1, sizeof *tr->partitions);
        if (!tr->partitions) {
            sesp_req_close(rq);
            return;
        }
        tr->partitions_count = np;
        sesp_topic *tp = t->name.len > 0 ? sesp_topics_get(s->topics, t->name.ptr, (size_t)t->name.len) : NULL;
        for (int32_t j = 0; j < np; j++) {
            sesp_kmsg_delete_records_response_delete_records_partition_result *pr = &tr->partitions[j];
            sesp_kmsg_delete_records_response_delete_records_partition_result_init(pr);
            pr->partition_index = t->partitions[j].partition_index;
            pr->error_code = delete_one(tp, pr->partition_index, t->partitions[j].offset, &pr->low_watermark);
        }
        if (tp)
            sesp_topic_release(tp);
    }
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_delete_records_response_encode, v, &m);
}
