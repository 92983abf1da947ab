/*
 * Produce: appends each partition's record batches to its log (which
 * validates them and assigns offsets), maps the log's Kafka error into the
 * partition response, and wakes long-polling fetches of the partition.  On
 * one node acks=-1 is satisfied as soon as acks=1 is; acks=0 sends nothing,
 * or closes the connection when a partition failed (as Kafka).
 */
#include "server.h"

#include "broker/log/log.h"
#include "broker/protocol/generated/produce_request.h"
#include "broker/protocol/generated/produce_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_produce_response_partition_produce_response ppart;

static void set_error(ppart *pr, int16_t err, const char *msg)
{
    pr->error_code = err;
    pr->base_offset = -1;
    pr->log_append_time_ms = -1;
    pr->log_start_offset = -1;
    pr->error_message = msg ? SESP_KSTR(msg) : SESP_KSTR_NULL;
}

void sesp_h_produce(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_produce_request req;
    if (sesp_kmsg_produce_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    bool acks_ok = req.acks == 0 || req.acks == 1 || req.acks == -1;
    int32_t nt = req.topic_data_count > 0 ? req.topic_data_count : 0;
    sesp_kmsg_produce_response m;
    sesp_kmsg_produce_response_init(&m);
    m.responses = sesp_arena_calloc(&rq->arena, (size_t)nt + 1, sizeof *m.responses);
    if (!m.responses) {
        sesp_req_close(rq);
        return;
    }
    m.responses_count = nt;
    int64_t now = sesp_server_now_ms();
    for (int32_t i = 0; i < nt; i++) {
        sesp_kmsg_produce_request_topic_produce_data *td = &req.topic_data[i];
        sesp_kmsg_produce_response_topic_produce_response *tr = &m.responses[i];
        sesp_kmsg_produce_response_topic_produce_response_init(tr);
        tr->name = td->name;
        int32_t np = td->partition_data_count > 0 ? td->partition_data_count : 0;
        tr->partition_responses = sesp_arena_calloc(&rq->arena, (size_t)np + 1, sizeof *tr->partition_responses);
        if (!tr->partition_responses) {
            sesp_req_close(rq);
            return;
        }
        tr->partition_responses_count = np;
        int16_t terr = 0;
        sesp_topic *tp = NULL;
        char msg[SESP_TOPICS_MSG_LEN];
        if (v < 3)
            /* Advertised only because librdkafka < 2.10 compresses nothing
             * unless Produce v0 is listed (KAFKA-18659, as Kafka 4.0 does);
             * the message formats v0/v1 these versions carry are not stored. */
            terr = SESP_KERR_UNSUPPORTED_VERSION;
        else if (!acks_ok)
            terr = SESP_KERR_INVALID_REQUIRED_ACKS;
        else if (td->name.len < 0 || sesp_topics_validate_name(td->name.ptr, (size_t)td->name.len, msg, sizeof msg) ||
                 sesp_kstr_eq(td->name, "__consumer_offsets") || sesp_kstr_eq(td->name, "__transaction_state"))
            terr = SESP_KERR_INVALID_TOPIC_EXCEPTION; /* clients may not write internal topics, as in Kafka */
        else
            tp = sesp_topics_get_or_create(s->topics, td->name.ptr, (size_t)td->name.len, true, &terr);
        for (int32_t j = 0; j < np; j++) {
            sesp_kmsg_produce_request_partition_produce_data *pd = &td->partition_data[j];
            ppart *pr = &tr->partition_responses[j];
            sesp_kmsg_produce_response_partition_produce_response_init(pr);
            pr->index = pd->index;
            if (!tp) {
                set_error(pr, terr ? terr : SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION, NULL);
                continue;
            }
            sesp_partition *part = sesp_topic_partition(tp, pd->index);
            if (!part) {
                set_error(pr, SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION, NULL);
                continue;
            }
            if (pd->records.len <= 0) {
                set_error(pr, SESP_KERR_INVALID_RECORD, "Produce request with no record batches");
                continue;
            }
            sesp_log_append_info info = {0};
            /* The frame is ours (malloc'ed by the net layer): the log
             * rewrites base offsets in place before writing. */
            int rc = sesp_log_append(sesp_partition_log(part), (uint8_t *)pd->records.ptr, (size_t)pd->records.len,
                                     now, &info);
            if (rc != 0) {
                int16_t e = info.kafka_error ? info.kafka_error : SESP_KERR_KAFKA_STORAGE_ERROR;
                set_error(pr, e, info.error_message);
                continue;
            }
            pr->error_code = SESP_KERR_NONE;
            pr->base_offset = info.base_offset;
            pr->log_append_time_ms = info.log_append_time;
            pr->log_start_offset = info.log_start_offset;
            pr->error_message = SESP_KSTR_NULL;
            sesp_partition_notify(part);
        }
        if (tp)
            sesp_topic_release(tp);
    }
    if (req.acks == 0) {
        /* As Kafka: a fire-and-forget producer learns of a failure only by
         * its connection closing (it then refreshes metadata). */
        bool failed = false;
        for (int32_t i = 0; i < nt; i++)
            for (int32_t j = 0; j < m.responses[i].partition_responses_count; j++)
                failed |= m.responses[i].partition_responses[j].error_code != SESP_KERR_NONE;
        if (failed)
            sesp_req_close(rq);
        else
            sesp_req_respond_none(rq);
        return;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    if (sesp_kmsg_produce_response_encode(&w, v, &m) != 0 && !w.err)
        w.err = -1;
    sesp_req_respond(rq, &w);
}
