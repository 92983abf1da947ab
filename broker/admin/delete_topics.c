/*
 * DeleteTopics (v0-6): by name (v0-5 a name list, v6 entries with a name)
 * or, v6+, by topic id.  The registry unlinks the topic at once and removes
 * its data when the last in-flight request lets go of it.  Names or ids
 * given twice fail for every occurrence (INVALID_REQUEST), as in Kafka.
 */
#include <string.h>

#include "admin_int.h"
#include "broker/protocol/generated/delete_topics_request.h"
#include "broker/protocol/generated/delete_topics_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_delete_topics_response_deletable_topic_result dresult;

static bool dup_id(const sesp_kuuid *ids, int32_t n, int32_t i)
{
    for (int32_t j = 0; j < n; j++)
        if (j != i && memcmp(ids[j].b, ids[i].b, 16) == 0)
            return true;
    return false;
}

void sesp_admin_h_delete_topics(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_delete_topics_request req;
    if (sesp_kmsg_delete_topics_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    /* Normalise both shapes to (name, id) pairs; a null name means by id. */
    int32_t n = v >= 6 ? req.topics_count : req.topic_names_count;
    if (n < 0)
        n = 0;
    sesp_kstr *names = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *names);
    sesp_kuuid *ids = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *ids);
    sesp_kmsg_delete_topics_response m;
    sesp_kmsg_delete_topics_response_init(&m);
    m.responses = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *m.responses);
    if (!names || !ids || !m.responses) {
        sesp_req_close(rq);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        if (v >= 6) {
            names[i] = req.topics[i].name;
            ids[i] = req.topics[i].topic_id;
        } else {
            names[i] = req.topic_names[i];
        }
    }
    m.responses_count = n;
    for (int32_t i = 0; i < n; i++) {
        dresult *r = &m.responses[i];
        sesp_kmsg_delete_topics_response_deletable_topic_result_init(r);
        r->name = names[i].len >= 0 ? names[i] : (v >= 6 ? SESP_KSTR_NULL : SESP_KSTR(""));
        r->topic_id = ids[i];
        char msg[SESP_TOPICS_MSG_LEN] = "";
        int16_t e = 0;
        bool by_id = names[i].len < 0;
        if (!by_id && !sesp_kp_uuid_zero(&ids[i])) {
            e = SESP_KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "You may not specify both topic name and topic id.");
        } else if (by_id && sesp_kp_uuid_zero(&ids[i])) {
            e = SESP_KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "Neither topic name nor id were specified.");
        } else if (!by_id && sesp_admin_dup_name(names, n, i)) {
            e = SESP_KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "Duplicate topic name.");
        } else if (by_id && dup_id(ids, n, i)) {
            e = SESP_KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "Duplicate topic id.");
        } else {
            sesp_topic_id id, out_id;
            char *out_name = sesp_arena_alloc(&rq->arena, 256);
            if (!out_name) {
                sesp_req_close(rq);
                return;
            }
            memcpy(id.b, ids[i].b, 16);
            const char *nm = by_id ? NULL : names[i].ptr;
            e = sesp_topics_delete(s->topics, nm ? nm : (by_id ? NULL : ""), by_id ? 0 : (size_t)names[i].len,
                                   by_id ? &id : NULL, &out_id, out_name, msg, sizeof msg);
            if (!e) {
                memcpy(r->topic_id.b, out_id.b, 16);
                r->name = SESP_KSTR(out_name);
            }
        }
        r->error_code = e;
        r->error_message = sesp_admin_msg(rq, e, msg);
    }
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_delete_topics_response_encode, v, &m);
}
