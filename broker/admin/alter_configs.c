/*
 * AlterConfigs (v0-2), Kafka's original non-incremental form: a TOPIC
 * resource's overrides are replaced by exactly the given set (keys left out
 * go back to their defaults); BROKER resources accept only an empty change
 * since dynamic broker configs are not supported.  validate_only checks
 * everything and changes nothing.
 */
#include <string.h>

#include "admin_int.h"
#include "broker/protocol/generated/alter_configs_request.h"
#include "broker/protocol/generated/alter_configs_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_alter_configs_request_alter_configs_resource ares;

static int16_t alter_one(sesp_req *rq, const ares *res, bool validate_only, char *msg, size_t msglen)
{
    size_t n = res->configs_count > 0 ? (size_t)res->configs_count : 0;
    sesp_topic_kv *kv = sesp_arena_calloc(&rq->arena, n + 1, sizeof *kv);
    const char **keys = sesp_arena_calloc(&rq->arena, n + 1, sizeof *keys);
    if (!kv || !keys) {
        snprintf(msg, msglen, "out of memory");
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i] = kv[i].key = sesp_req_str(rq, res->configs[i].name);
        kv[i].value = res->configs[i].value.len >= 0 ? sesp_req_str(rq, res->configs[i].value) : NULL;
        if (!kv[i].key || (res->configs[i].value.len >= 0 && !kv[i].value)) {
            snprintf(msg, msglen, "out of memory");
            return SESP_KERR_UNKNOWN_SERVER_ERROR;
        }
    }
    if (res->resource_type == SESP_ADMIN_RES_BROKER)
        return sesp_admin_alter_broker(rq, res->resource_name, keys, n, msg, msglen);
    if (res->resource_type != SESP_ADMIN_RES_TOPIC) {
        snprintf(msg, msglen, "AlterConfigs does not support the resource type %d", res->resource_type);
        return SESP_KERR_INVALID_REQUEST;
    }
    int16_t e = sesp_admin_topic_exists(rq, res->resource_name, msg, msglen);
    if (e)
        return e;
    for (size_t i = 0; i < n; i++)
        if (!kv[i].value) {
            snprintf(msg, msglen, "Null value not supported for : %s", kv[i].key);
            return SESP_KERR_INVALID_REQUEST;
        }
    const char *name = sesp_req_str(rq, res->resource_name);
    return sesp_topics_alter_configs(rq->srv->topics, name, strlen(name), kv, n, true, validate_only, msg, msglen);
}

static int16_t apply_at(sesp_req *rq, const void *ctx, int32_t i, char *msg, size_t msglen)
{
    const sesp_kmsg_alter_configs_request *req = ctx;
    return alter_one(rq, &req->resources[i], req->validate_only, msg, msglen);
}

void sesp_admin_h_alter_configs(sesp_req *rq)
{
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_alter_configs_request req;
    if (sesp_kmsg_alter_configs_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    int32_t n = req.resources_count > 0 ? req.resources_count : 0;
    sesp_kmsg_alter_configs_response m;
    sesp_kmsg_alter_configs_response_init(&m);
    m.responses = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *m.responses);
    sesp_admin_res *res = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *res);
    if (!m.responses || !res) {
        sesp_req_close(rq);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        res[i].type = req.resources[i].resource_type;
        res[i].name = req.resources[i].resource_name;
    }
    sesp_admin_apply_resources(rq, res, n, apply_at, &req);
    m.responses_count = n;
    for (int32_t i = 0; i < n; i++) {
        sesp_kmsg_alter_configs_response_alter_configs_resource_response *r = &m.responses[i];
        sesp_kmsg_alter_configs_response_alter_configs_resource_response_init(r);
        r->resource_type = res[i].type;
        r->resource_name = res[i].name;
        r->error_code = res[i].err;
        r->error_message = res[i].msg;
    }
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_alter_configs_response_encode, v, &m);
}
